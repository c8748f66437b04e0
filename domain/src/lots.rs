//! Lots: what a producer made in one run, with its dates, inspection data and trace code; the
//! unit codes printed on its bags (`unit_codes`); inspections and holds (`inspections`); the
//! hash-chained trace log, the public trace and the recall report (`trace`); GS1 data read
//! from a scanned bag (`gs1`).

pub mod gs1;
mod inspections;
pub mod trace;
mod unit_codes;

pub use crate::types::{LotState, LotStatus, UnitCodeKind, UnitCodeStatus};
pub use inspections::*;
pub use unit_codes::*;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};

use self::trace::{BizStep, Disposition, NewEvent};
use crate::accounts::is_regulator_or_admin;
use crate::accounts::{Actor, Role};
use crate::entities::{lot, producer, product, sku, unit_code};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::events::DomainEvent;
use crate::regions::producer_location;
use crate::types::{self, Gtin, PesticideRegNo};

#[derive(Clone, Debug)]
pub struct InspectionInput {
    pub report_no: String,
    pub lab: String,
    pub result: types::InspectionResult,
    pub date: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct LotInput {
    pub sku_id: i64,
    pub lot_no: String,
    /// Defaults to the product's producer.
    pub producer_id: Option<i64>,
    pub produced_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub gtin: Option<String>,
    pub inspection: Option<InspectionInput>,
    pub unit_codes: Vec<String>,
}

/// The start of a China Standard Time calendar day, in UTC.
pub(crate) fn cst_midnight(d: NaiveDate) -> Option<DateTime<Utc>> {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - chrono::Duration::hours(8))
}

pub(crate) fn trace_code() -> String {
    // Crockford-style alphabet without I, L, O, U: nothing to misread off a printed label.
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes: [u8; 12] = rand::random();
    bytes
        .iter()
        .map(|b| A[(*b as usize) % A.len()] as char)
        .collect()
}

pub(crate) fn validate_inspection(errs: &mut Errors, i: &InspectionInput, field: &str) {
    errs.take(types::name(&format!("{field}.reportNo"), &i.report_no, 60));
    errs.take(types::name(&format!("{field}.lab"), &i.lab, 100));
    if i.date > crate::today() {
        errs.push(FieldError::new(
            format!("{field}.date"),
            Code::OutOfRange,
            "检验日期不能晚于今天",
            "inspection date cannot be in the future",
        ));
    }
}

/// Records a lot as its producer released it (commissioning), with its inspection, if any.
pub async fn create_lot<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: LotInput,
) -> Result<lot::Model> {
    actor.require(actor.is_admin() || actor.role == Role::Dealer)?;
    let txn = crate::begin_write(db).await?;
    let l = insert_lot(&txn, actor, input).await?;
    txn.commit().await?;
    Ok(l)
}

pub async fn insert_lot(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: LotInput,
) -> Result<lot::Model> {
    let mut errs = Errors::new();
    let lot_no = errs.take(types::name("lotNo", &input.lot_no, 20));
    let s = sku::Entity::find_by_id(input.sku_id).one(db).await?;
    if s.is_none() {
        errs.push(FieldError::new(
            "skuId",
            Code::UnknownReference,
            "规格不存在",
            "no such pack size",
        ));
    }
    if input.expires_on <= input.produced_on {
        errs.push(FieldError::new(
            "expiresOn",
            Code::OutOfRange,
            "有效期应晚于生产日期",
            "expiry must be after the production date",
        ));
    }
    if input.produced_on > crate::today() {
        errs.push(FieldError::new(
            "producedOn",
            Code::OutOfRange,
            "生产日期不能晚于今天",
            "production date cannot be in the future",
        ));
    }
    let gtin = match input
        .gtin
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        Some(g) => errs
            .take(Gtin::parse("gtin", g))
            .map(|g| g.as_str().to_owned()),
        None => s.as_ref().and_then(|s| s.gtin.clone()),
    };
    if let (Some(g), Some(Some(sg))) = (&gtin, s.as_ref().map(|s| s.gtin.as_ref()))
        && g != sg
    {
        errs.push(FieldError::new(
            "gtin",
            Code::CodeMismatch,
            "GTIN 与该规格登记的 GTIN 不一致",
            "GTIN does not match the pack size's GTIN",
        ));
    }
    if let Some(i) = &input.inspection {
        validate_inspection(&mut errs, i, "inspection");
    }
    errs.finish()?;
    let s = s.unwrap();
    let p = product::Entity::find_by_id(s.product_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let producer_id = input.producer_id.unwrap_or(p.producer_id);
    let prod = producer::Entity::find_by_id(producer_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "producerId",
                Code::UnknownReference,
                "生产企业不存在",
                "no such producer",
            )
        })?;
    let lot_no = lot_no.unwrap();
    if lot::Entity::find()
        .filter(lot::Column::SkuId.eq(s.id))
        .filter(lot::Column::LotNo.eq(lot_no.clone()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid(
            "lotNo",
            Code::Duplicate,
            "该规格下已有同一批号",
            "this pack size already has a lot with this number",
        ));
    }
    let now = crate::now();
    let l = new_lot(actor, &input, s.id, lot_no, producer_id, gtin, now)
        .insert(db)
        .await
        .map_err(|e| {
            crate::accounts::unique_violation(
                e,
                "lotNo",
                "该规格下已有同一批号",
                "this pack size already has a lot with this number",
            )
        })?;
    let site = producer_location(db, &prod).await?;
    for e in lot_commissioning(actor, &l, site.id, &input) {
        trace::append(db, e).await?;
    }
    if !input.unit_codes.is_empty() {
        insert_unit_codes(db, &l, &p, &input.unit_codes).await?;
    }
    Ok(l)
}

/// The row of a new lot as its producer released it (ON_HOLD when it failed inspection).
pub(crate) fn new_lot(
    actor: &Actor,
    input: &LotInput,
    sku_id: i64,
    lot_no: String,
    producer_id: i64,
    gtin: Option<String>,
    now: DateTime<Utc>,
) -> lot::ActiveModel {
    let non_conformant = input
        .inspection
        .as_ref()
        .is_some_and(|i| i.result == types::InspectionResult::NonConformant);
    lot::ActiveModel {
        sku_id: Set(sku_id),
        lot_no: Set(lot_no),
        producer_id: Set(producer_id),
        produced_on: Set(input.produced_on),
        expires_on: Set(input.expires_on),
        gtin: Set(gtin),
        trace_code: Set(trace_code()),
        inspection_report_no: Set(input
            .inspection
            .as_ref()
            .map(|i| i.report_no.trim().to_owned())),
        inspection_lab: Set(input.inspection.as_ref().map(|i| i.lab.trim().to_owned())),
        inspection_result: Set(input.inspection.as_ref().map(|i| i.result)),
        inspection_date: Set(input.inspection.as_ref().map(|i| i.date)),
        status: Set(if non_conformant {
            LotStatus::OnHold
        } else {
            LotStatus::Active
        }),
        status_reason: Set(non_conformant.then(|| "检验不合格 / failed inspection".to_owned())),
        status_at: Set(non_conformant.then_some(now)),
        created_by: Set(Some(actor.user_id).filter(|u| *u > 0)),
        created_at: Set(now),
        ..Default::default()
    }
}

/// The trace events of a new lot: commissioning at its producer's site, and its inspection.
pub(crate) fn lot_commissioning(
    actor: &Actor,
    l: &lot::Model,
    site_id: i64,
    input: &LotInput,
) -> Vec<NewEvent> {
    let now = l.created_at;
    let non_conformant = l.status == LotStatus::OnHold;
    let mut e = NewEvent::new(
        l.id,
        BizStep::Commissioning,
        Disposition::Active,
        0,
        Some(actor.user_id).filter(|u| *u > 0),
    );
    e.location_id = Some(site_id);
    e.occurred_at = cst_midnight(input.produced_on).unwrap_or(now);
    e.note = format!(
        "produced {}, expires {}",
        input.produced_on, input.expires_on
    );
    let mut out = vec![e];
    if let Some(i) = &input.inspection {
        let mut e = NewEvent::new(
            l.id,
            BizStep::Inspecting,
            if non_conformant {
                Disposition::NonConformant
            } else {
                Disposition::Conformant
            },
            0,
            Some(actor.user_id).filter(|u| *u > 0),
        );
        e.location_id = Some(site_id);
        e.occurred_at = cst_midnight(i.date).unwrap_or(now);
        e.note = format!("{} {} {}", i.report_no.trim(), i.lab.trim(), i.date);
        out.push(e);
    }
    out
}

pub async fn lot(db: &impl ConnectionTrait, id: i64) -> Result<lot::Model> {
    lot::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("lot", id))
}

pub async fn lots_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<lot::Model>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Lots of a product or SKU, newest first.
pub async fn lots_of(db: &impl ConnectionTrait, sku_ids: &[i64]) -> Result<Vec<lot::Model>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::SkuId.is_in(sku_ids.iter().copied()))
        .order_by_desc(lot::Column::Id)
        .all(db)
        .await?)
}
