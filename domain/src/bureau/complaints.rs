//! Farmers' complaints (投诉) about one of their orders or a lot, with text and at most one
//! photo, handled by the regulators of the county of the dealer it is about (or else of the
//! farmer's county). The photo is kept in the database (`complaint_photo`), beside the
//! complaint, so a backup holds both and nothing under the data directory can be read around
//! the permission check: only the farmer who filed it and the county's regulators (and admins)
//! may read it.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};

use super::county_scope;
use crate::accounts::Actor;
use crate::entities::{
    complaint, complaint_photo, customer_order, dealer, order_allocation, order_line, sale,
    sale_line,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::types::{ComplaintStatus, Role};

/// The longest complaint text, in characters.
pub const MAX_BODY_CHARS: usize = 1000;
/// The longest outcome a regulator writes, in characters.
pub const MAX_OUTCOME_CHARS: usize = 2000;
/// The largest photo accepted: 2 MiB, enough for a phone photo at 1600 px.
pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Photo {
    /// As the browser named it; ignored: the type is read from the bytes.
    pub declared_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct ComplaintInput {
    pub order_id: Option<i64>,
    /// A lot trace code or a unit code (from the trace page).
    pub code: Option<String>,
    pub body: String,
    pub photo: Option<Photo>,
}

/// A photo's type from its first bytes: JPEG, PNG or WebP, nothing else.
pub fn photo_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks a photo: its type (by content) and size.
pub fn check_photo(p: &Photo) -> std::result::Result<&'static str, FieldError> {
    if p.bytes.len() > MAX_PHOTO_BYTES {
        return Err(FieldError::new(
            "photo",
            Code::TooLong,
            format!(
                "照片太大（{:.1} MB），最大 2 MB：请缩小后再上传",
                p.bytes.len() as f64 / 1_048_576.0
            ),
            format!(
                "the photo is too big ({:.1} MB); at most 2 MB: make it smaller and upload it again",
                p.bytes.len() as f64 / 1_048_576.0
            ),
        ));
    }
    photo_type(&p.bytes).ok_or_else(|| {
        FieldError::new(
            "photo",
            Code::InvalidFormat,
            "照片只能是 JPEG、PNG 或 WebP 图片",
            "the photo must be a JPEG, PNG or WebP image",
        )
    })
}

/// A farmer files a complaint about one of their orders or about a lot (by its code).
pub async fn file_complaint<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: ComplaintInput,
) -> Result<complaint::Model> {
    actor.require(actor.role == Role::Farmer)?;
    let mut errs = Errors::new();
    let body = input.body.trim().to_string();
    if body.is_empty() {
        errs.push(FieldError::new(
            "body",
            Code::Required,
            "请写下投诉内容",
            "write what the complaint is about",
        ));
    } else if body.chars().count() > MAX_BODY_CHARS {
        errs.push(FieldError::new(
            "body",
            Code::TooLong,
            format!("投诉内容最多 {MAX_BODY_CHARS} 字"),
            format!("the complaint is at most {MAX_BODY_CHARS} characters"),
        ));
    }
    let photo = match &input.photo {
        Some(p) if !p.bytes.is_empty() => errs.take(check_photo(p)).map(|t| (t, p.bytes.clone())),
        _ => None,
    };
    let code = input
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    if input.order_id.is_none() && code.is_none() {
        errs.push(FieldError::new(
            "orderId",
            Code::Required,
            "请选择订单或填写追溯码",
            "choose an order or give a trace code",
        ));
    }
    errs.finish()?;
    let farmer = crate::entities::app_user::Entity::find_by_id(actor.user_id)
        .one(db)
        .await?
        .ok_or_else(crate::accounts::forbidden)?;
    let mut dealer_id = None;
    let mut lot_id = None;
    let mut order_id = None;
    if let Some(o) = input.order_id {
        let order = customer_order::Entity::find_by_id(o)
            .one(db)
            .await?
            .filter(|x| x.farmer_id == actor.user_id)
            .ok_or_else(|| {
                Error::invalid(
                    "orderId",
                    Code::UnknownReference,
                    "没有这个订单",
                    "no such order of yours",
                )
            })?;
        dealer_id = Some(order.dealer_id);
        order_id = Some(order.id);
        lot_id = order_lot(db, &order).await?;
    }
    if let Some(c) = &code {
        let (l, unit) = crate::lots::trace::resolve_code(db, c)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "code",
                    Code::UnknownReference,
                    "查不到这个追溯码",
                    "this trace code is not known",
                )
            })?;
        lot_id = Some(l.id);
        if dealer_id.is_none() {
            dealer_id = seller_of(db, actor.user_id, l.id, unit.and_then(|u| u.sale_id)).await?;
        }
    }
    let county_id = match dealer_id {
        Some(d) => {
            let d = crate::regions::dealer(db, d).await?;
            crate::regions::county_of(db, d.region_id).await?
        }
        None => match farmer.village_id {
            Some(v) => crate::regions::county_of(db, v).await?,
            None => None,
        },
    };
    let Some(county_id) = county_id else {
        return Err(Error::invalid(
            "code",
            Code::UnknownReference,
            "不知道该向哪个县投诉：请从订单投诉，或在“我的”里填写所在村",
            "no county to send this to: complain from an order, or set your village under Me",
        ));
    };
    let txn = crate::begin_write(db).await?;
    let c = complaint::ActiveModel {
        farmer_id: Set(actor.user_id),
        county_id: Set(county_id),
        dealer_id: Set(dealer_id),
        order_id: Set(order_id),
        lot_id: Set(lot_id),
        code: Set(code),
        body: Set(body),
        status: Set(ComplaintStatus::Open),
        outcome: Set(None),
        resolved_by: Set(None),
        resolved_at: Set(None),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some((t, bytes)) = photo {
        complaint_photo::ActiveModel {
            complaint_id: Set(c.id),
            content_type: Set(t.to_string()),
            bytes: Set(bytes),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(c)
}

/// The lot an order's goods came from: the first allocated one.
async fn order_lot(
    db: &impl ConnectionTrait,
    order: &customer_order::Model,
) -> Result<Option<i64>> {
    if let Some(s) = order.sale_id
        && let Some(l) = sale_line::Entity::find()
            .filter(sale_line::Column::SaleId.eq(s))
            .order_by_asc(sale_line::Column::Id)
            .one(db)
            .await?
    {
        return Ok(Some(l.lot_id));
    }
    let lines: Vec<i64> = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    Ok(order_allocation::Entity::find()
        .filter(order_allocation::Column::OrderLineId.is_in(lines))
        .order_by_asc(order_allocation::Column::Id)
        .one(db)
        .await?
        .map(|a| a.lot_id))
}

/// Who sold the farmer this lot: the unit's sale, else the farmer's latest sale of the lot.
async fn seller_of(
    db: &impl ConnectionTrait,
    farmer_id: i64,
    lot_id: i64,
    unit_sale: Option<i64>,
) -> Result<Option<i64>> {
    if let Some(s) = unit_sale
        && let Some(s) = sale::Entity::find_by_id(s).one(db).await?
    {
        return Ok(Some(s.dealer_id));
    }
    let sale_ids: Vec<i64> = sale_line::Entity::find()
        .filter(sale_line::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.sale_id)
        .collect();
    Ok(sale::Entity::find()
        .filter(sale::Column::Id.is_in(sale_ids))
        .filter(sale::Column::BuyerUserId.eq(farmer_id))
        .order_by_desc(sale::Column::SoldAt)
        .one(db)
        .await?
        .map(|s| s.dealer_id))
}

/// A complaint with what its readers need beside it.
#[derive(Clone, Debug)]
pub struct ComplaintView {
    pub c: complaint::Model,
    pub has_photo: bool,
    pub dealer: Option<dealer::Model>,
}

async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<complaint::Model>,
) -> Result<Vec<ComplaintView>> {
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let with_photo: std::collections::BTreeSet<i64> = complaint_photo::Entity::find()
        .select_only()
        .column(complaint_photo::Column::ComplaintId)
        .filter(complaint_photo::Column::ComplaintId.is_in(ids))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let dealers = crate::regions::dealers_by_ids(
        db,
        &rows.iter().filter_map(|c| c.dealer_id).collect::<Vec<_>>(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|c| ComplaintView {
            has_photo: with_photo.contains(&c.id),
            dealer: c
                .dealer_id
                .and_then(|d| dealers.iter().find(|x| x.id == d).cloned()),
            c,
        })
        .collect())
}

use sea_orm::QuerySelect;

/// A farmer's own complaints, newest first.
pub async fn my_complaints(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<ComplaintView>> {
    actor.require(actor.role == Role::Farmer)?;
    let rows = complaint::Entity::find()
        .filter(complaint::Column::FarmerId.eq(actor.user_id))
        .order_by_desc(complaint::Column::CreatedAt)
        .order_by_desc(complaint::Column::Id)
        .all(db)
        .await?;
    views(db, rows).await
}

/// A county's complaints (optionally one dealer's or one status), newest first: its
/// regulators and admins.
pub async fn county_complaints(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county: Option<i64>,
    dealer_id: Option<i64>,
    status: Option<ComplaintStatus>,
) -> Result<Vec<ComplaintView>> {
    let c = county_scope(db, actor, county).await?;
    let mut q = complaint::Entity::find().filter(complaint::Column::CountyId.eq(c.id));
    if let Some(d) = dealer_id {
        q = q.filter(complaint::Column::DealerId.eq(d));
    }
    if let Some(s) = status {
        q = q.filter(complaint::Column::Status.eq(s.as_str()));
    }
    let rows = q
        .order_by_desc(complaint::Column::CreatedAt)
        .order_by_desc(complaint::Column::Id)
        .limit(1000)
        .all(db)
        .await?;
    views(db, rows).await
}

/// Whether the actor may read this complaint: the farmer who filed it, the regulators of its
/// county, admins.
async fn may_read(db: &impl ConnectionTrait, actor: &Actor, c: &complaint::Model) -> Result<bool> {
    Ok(match actor.role {
        Role::Farmer => c.farmer_id == actor.user_id,
        Role::Regulator | Role::Admin => county_scope(db, actor, Some(c.county_id)).await.is_ok(),
        _ => false,
    })
}

/// One complaint, for those who may read it (anyone else: not found, so ids are not probed).
pub async fn complaint(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<ComplaintView> {
    let c = complaint::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("complaint", id))?;
    if !may_read(db, actor, &c).await? {
        return Err(Error::not_found("complaint", id));
    }
    Ok(views(db, vec![c]).await?.remove(0))
}

/// A complaint's photo (content type, bytes), for those who may read the complaint.
pub async fn complaint_photo(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<(String, Vec<u8>)> {
    let c = complaint(db, actor, id).await?;
    let p = complaint_photo::Entity::find()
        .filter(complaint_photo::Column::ComplaintId.eq(c.c.id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("photo", id))?;
    Ok((p.content_type, p.bytes))
}

/// A regulator of the complaint's county (or an admin) records its outcome and status; it can
/// be recorded again (a reopened case is set back to OPEN with a note).
pub async fn resolve_complaint(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    status: ComplaintStatus,
    outcome: &str,
) -> Result<complaint::Model> {
    actor.require(matches!(actor.role, Role::Regulator | Role::Admin))?;
    let c = complaint::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("complaint", id))?;
    county_scope(db, actor, Some(c.county_id)).await?;
    let outcome = outcome.trim();
    if outcome.is_empty() {
        return Err(Error::invalid(
            "outcome",
            Code::Required,
            "请写明处理结果",
            "write what was done",
        ));
    }
    if outcome.chars().count() > MAX_OUTCOME_CHARS {
        return Err(Error::invalid(
            "outcome",
            Code::TooLong,
            format!("处理结果最多 {MAX_OUTCOME_CHARS} 字"),
            format!("the outcome is at most {MAX_OUTCOME_CHARS} characters"),
        ));
    }
    let mut a: complaint::ActiveModel = c.into();
    a.status = Set(status);
    a.outcome = Set(Some(outcome.to_string()));
    a.resolved_by = Set(Some(actor.user_id));
    a.resolved_at = Set(Some(crate::now()));
    Ok(a.update(db).await?)
}

/// The words for a status, (zh, en).
pub fn status_words(s: ComplaintStatus) -> (&'static str, &'static str) {
    match s {
        ComplaintStatus::Open => ("待处理", "Open"),
        ComplaintStatus::Resolved => ("已处理", "Resolved"),
        ComplaintStatus::Dismissed => ("不予受理", "Dismissed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_types_by_content() {
        assert_eq!(photo_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some("image/jpeg"));
        assert_eq!(
            photo_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(photo_type(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(photo_type(b"GIF89a......"), None);
        assert_eq!(photo_type(b"%PDF-1.7"), None);
        let big = Photo {
            declared_type: None,
            bytes: [&[0xFF, 0xD8, 0xFF][..], &vec![0; MAX_PHOTO_BYTES]].concat(),
        };
        assert_eq!(check_photo(&big).unwrap_err().code, Code::TooLong);
    }
}
