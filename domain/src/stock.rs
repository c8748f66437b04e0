//! Lots and stock: lots with inspection data and unit trace codes, stock per location and lot
//! (on hand, reserved; available = on hand - reserved, never negative), and every way stock
//! changes: receipt from a named supplier, CSV bulk receipt, adjustment, transfer, return,
//! destruction and counter sale. Each change writes its trace event, and receipts and sales
//! their ledger lines, in the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};

use crate::accounts::{Actor, Role};
use crate::catalog::crops;
use crate::entities::{
    app_user, fertiliser_spec, location, lot, offer, pesticide_spec, pesticide_use, producer,
    product, region, sale, sale_line, service_station, sku, stock, stock_receipt, trace_event,
    transfer, unit_code,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::events::DomainEvent;
use crate::ledger::{self, Counterparty, ProductSnapshot};
use crate::regions::{self, LicenceKind};
use crate::trace::{self, BizStep, Disposition, NewEvent};
use crate::types::{self, Fen, Gtin, IdNumber, PesticideRegNo, Phone};

/// `40 kg`, `500 ml`.
pub fn pack_label(s: &sku::Model) -> String {
    if s.pack_size.fract() == 0.0 {
        format!("{:.0} {}", s.pack_size, s.pack_unit)
    } else {
        format!("{} {}", s.pack_size, s.pack_unit)
    }
}

/// The largest quantity one operation may move (a sanity bound against typos, in sales units).
const MAX_QTY: i64 = 1_000_000;

fn qty(field: &str, q: i64) -> std::result::Result<i64, FieldError> {
    if (1..=MAX_QTY).contains(&q) {
        Ok(q)
    } else {
        Err(FieldError::new(
            field,
            Code::OutOfRange,
            "数量应为 1 到 1000000 之间的整数",
            "quantity must be a whole number from 1 to 1,000,000",
        ))
    }
}

// ---------------------------------------------------------------- who may do what

/// Staff of the dealer, or an admin.
pub fn may_operate(actor: &Actor, dealer_id: i64) -> bool {
    actor.is_admin() || actor.works_for(dealer_id)
}

/// Staff of the dealer, admins, and regulators of the dealer's county.
pub async fn may_view_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<bool> {
    if may_operate(actor, dealer_id) {
        return Ok(true);
    }
    if actor.role == Role::Regulator {
        let d = regions::dealer(db, dealer_id).await?;
        let county = regions::county_of(db, d.region_id).await?;
        return Ok(county.is_some_and(|c| actor.county_ids.contains(&c)));
    }
    Ok(false)
}

pub fn is_regulator_or_admin(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Regulator)
}

// ---------------------------------------------------------------- locations

/// The dealer's own store.
pub async fn store_location(db: &impl ConnectionTrait, dealer_id: i64) -> Result<location::Model> {
    location::Entity::find()
        .filter(location::Column::DealerId.eq(dealer_id))
        .filter(location::Column::Kind.eq("DEALER_STORE"))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("location", format!("store of dealer {dealer_id}")))
}

/// The location of a village station.
pub async fn station_location(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<location::Model> {
    location::Entity::find()
        .filter(location::Column::StationId.eq(station_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("station", station_id))
}

/// A producer's site, created the first time one of its lots is recorded.
async fn producer_location(
    db: &impl ConnectionTrait,
    p: &producer::Model,
) -> Result<location::Model> {
    if let Some(l) = location::Entity::find()
        .filter(location::Column::ProducerId.eq(p.id))
        .one(db)
        .await?
    {
        return Ok(l);
    }
    Ok(location::ActiveModel {
        kind: Set("PRODUCER".into()),
        dealer_id: Set(None),
        station_id: Set(None),
        producer_id: Set(Some(p.id)),
        name_zh: Set(p.name_zh.clone()),
        name_en: Set(p.name_en.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Checks that a dealer may keep stock at `location_id`: its own store, or a station in a
/// village it serves.
async fn check_dealer_location(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_id: i64,
    field: &str,
) -> Result<location::Model> {
    let loc = location::Entity::find_by_id(location_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                field,
                Code::UnknownReference,
                "库存地点不存在",
                "no such stock location",
            )
        })?;
    let ok = match loc.kind.as_str() {
        "DEALER_STORE" => loc.dealer_id == Some(dealer_id),
        "STATION" => match loc.station_id {
            Some(s) => {
                let st = service_station::Entity::find_by_id(s).one(db).await?;
                let area = regions::service_areas_of(db, &[dealer_id]).await?;
                st.is_some_and(|st| area.iter().any(|a| a.village_id == st.village_id))
            }
            None => false,
        },
        _ => false,
    };
    if !ok {
        return Err(Error::invalid(
            field,
            Code::OutOfRange,
            "该地点不是本经销商的门店或其服务村的服务站",
            "not this dealer's store or a station in a village it serves",
        ));
    }
    Ok(loc)
}

// ---------------------------------------------------------------- lots

#[derive(Clone, Debug)]
pub struct InspectionInput {
    pub report_no: String,
    pub lab: String,
    /// CONFORMANT or NON_CONFORMANT.
    pub result: String,
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
fn cst_midnight(d: NaiveDate) -> Option<DateTime<Utc>> {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - chrono::Duration::hours(8))
}

fn trace_code() -> String {
    // Crockford-style alphabet without I, L, O, U: nothing to misread off a printed label.
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes: [u8; 12] = rand::random();
    bytes
        .iter()
        .map(|b| A[(*b as usize) % A.len()] as char)
        .collect()
}

fn validate_inspection(errs: &mut Errors, i: &InspectionInput, field: &str) {
    errs.take(types::name(&format!("{field}.reportNo"), &i.report_no, 60));
    errs.take(types::name(&format!("{field}.lab"), &i.lab, 100));
    if !matches!(i.result.as_str(), "CONFORMANT" | "NON_CONFORMANT") {
        errs.push(FieldError::new(
            format!("{field}.result"),
            Code::InvalidFormat,
            "检验结果应为 CONFORMANT（合格）或 NON_CONFORMANT（不合格）",
            "result must be CONFORMANT or NON_CONFORMANT",
        ));
    }
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
fn new_lot(
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
        .is_some_and(|i| i.result == "NON_CONFORMANT");
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
        inspection_result: Set(input.inspection.as_ref().map(|i| i.result.clone())),
        inspection_date: Set(input.inspection.as_ref().map(|i| i.date)),
        status: Set(if non_conformant { "ON_HOLD" } else { "ACTIVE" }.into()),
        status_reason: Set(non_conformant.then(|| "检验不合格 / failed inspection".to_owned())),
        status_at: Set(non_conformant.then_some(now)),
        created_by: Set(Some(actor.user_id).filter(|u| *u > 0)),
        created_at: Set(now),
        ..Default::default()
    }
}

/// The trace events of a new lot: commissioning at its producer's site, and its inspection.
fn lot_commissioning(
    actor: &Actor,
    l: &lot::Model,
    site_id: i64,
    input: &LotInput,
) -> Vec<NewEvent> {
    let now = l.created_at;
    let non_conformant = l.status == "ON_HOLD";
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

/// Checks a unit code against its product: a pesticide code has 32 or more digits, its first
/// digit is the registration category, digits 2-7 are the last six of the registration number
/// and digit 8 the production type (Announcement 2579); other codes are 8 to 64 letters, digits
/// or `-`.
pub fn check_unit_code(
    p: &product::Model,
    code: &str,
    field: &str,
) -> std::result::Result<&'static str, FieldError> {
    let c = code.trim();
    if p.category == "PESTICIDE" {
        if c.len() < 32 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                Code::InvalidFormat,
                "农药追溯码应为至少 32 位数字",
                "a pesticide trace code is at least 32 digits",
            ));
        }
        let reg = p
            .registration_no
            .as_deref()
            .and_then(|r| PesticideRegNo::parse("", r).ok())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    Code::CodeMismatch,
                    "产品没有有效的农药登记证号",
                    "the product has no valid pesticide registration",
                )
            })?;
        if c.as_bytes()[0] != reg.category_digit() {
            return Err(FieldError::new(
                field,
                Code::CodeMismatch,
                "追溯码第 1 位与登记证类别不符",
                "digit 1 does not match the registration category",
            ));
        }
        if &c[1..7] != reg.last6() {
            return Err(FieldError::new(
                field,
                Code::CodeMismatch,
                format!(
                    "追溯码第 2-7 位（{}）与登记证号后 6 位（{}）不符",
                    &c[1..7],
                    reg.last6()
                ),
                format!(
                    "digits 2-7 ({}) do not match the last six digits of the registration ({})",
                    &c[1..7],
                    reg.last6()
                ),
            ));
        }
        if !matches!(c.as_bytes()[7], b'1' | b'2' | b'3') {
            return Err(FieldError::new(
                field,
                Code::CodeMismatch,
                "追溯码第 8 位（生产类型）应为 1、2 或 3",
                "digit 8 (production type) must be 1, 2 or 3",
            ));
        }
        return Ok("PESTICIDE");
    }
    if !(8..=64).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(FieldError::new(
            field,
            Code::InvalidFormat,
            "追溯码应为 8 到 64 位字母或数字",
            "a unit code is 8 to 64 letters or digits",
        ));
    }
    Ok(if p.category == "SEED" {
        "SEED"
    } else {
        "GENERIC"
    })
}

async fn insert_unit_codes(
    db: &impl ConnectionTrait,
    l: &lot::Model,
    p: &product::Model,
    codes: &[String],
) -> Result<usize> {
    let mut errs = Errors::new();
    let mut seen = BTreeSet::new();
    let mut kinds = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let field = format!("unitCodes.{i}");
        match check_unit_code(p, c, &field) {
            Ok(k) => {
                if !seen.insert(c.trim().to_owned()) {
                    errs.push(FieldError::new(
                        field,
                        Code::Duplicate,
                        "追溯码重复",
                        "this code is listed twice",
                    ));
                } else {
                    kinds.push((c.trim().to_owned(), k));
                }
            }
            Err(e) => errs.push(e),
        }
    }
    let existing = unit_code::Entity::find()
        .filter(unit_code::Column::Code.is_in(seen.iter().cloned()))
        .all(db)
        .await?;
    for e in existing {
        let i = codes.iter().position(|c| c.trim() == e.code).unwrap_or(0);
        errs.push(FieldError::new(
            format!("unitCodes.{i}"),
            Code::Duplicate,
            "该追溯码已被使用，追溯码永不重复分配",
            "this code is already in use; a code is never reassigned",
        ));
    }
    errs.finish()?;
    let now = crate::now();
    for (code, kind) in &kinds {
        unit_code::ActiveModel {
            code: Set(code.clone()),
            lot_id: Set(l.id),
            kind: Set((*kind).into()),
            status: Set("ACTIVE".into()),
            sale_id: Set(None),
            flagged_at: Set(None),
            flag_reason: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(|e| {
            crate::accounts::unique_violation(
                e,
                "unitCodes",
                "该追溯码已被使用",
                "this code is already in use",
            )
        })?;
    }
    Ok(kinds.len())
}

/// Adds unit trace codes to a lot (admins and dealers).
pub async fn add_unit_codes<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    codes: &[String],
) -> Result<usize> {
    actor.require(actor.is_admin() || actor.role == Role::Dealer)?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let n = insert_unit_codes(&txn, &l, &p, codes).await?;
    txn.commit().await?;
    Ok(n)
}

pub async fn unit_codes_of(
    db: &impl ConnectionTrait,
    lot_id: i64,
) -> Result<Vec<unit_code::Model>> {
    Ok(unit_code::Entity::find()
        .filter(unit_code::Column::LotId.eq(lot_id))
        .order_by_asc(unit_code::Column::Id)
        .all(db)
        .await?)
}

/// Records an inspection or sampling result; a non-conformant result puts the lot on hold.
pub async fn record_inspection<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    i: InspectionInput,
) -> Result<(lot::Model, Vec<DomainEvent>)> {
    actor.require(matches!(
        actor.role,
        Role::Admin | Role::Regulator | Role::Dealer
    ))?;
    let mut errs = Errors::new();
    validate_inspection(&mut errs, &i, "inspection");
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    let non_conformant = i.result == "NON_CONFORMANT";
    let mut am: lot::ActiveModel = l.clone().into();
    am.inspection_report_no = Set(Some(i.report_no.trim().into()));
    am.inspection_lab = Set(Some(i.lab.trim().into()));
    am.inspection_result = Set(Some(i.result.clone()));
    am.inspection_date = Set(Some(i.date));
    if non_conformant && l.status == "ACTIVE" {
        am.status = Set("ON_HOLD".into());
        am.status_reason = Set(Some(format!(
            "检验不合格 / failed inspection ({})",
            i.report_no.trim()
        )));
        am.status_at = Set(Some(crate::now()));
    }
    let l = am.update(&txn).await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Inspecting,
        if non_conformant {
            Disposition::NonConformant
        } else {
            Disposition::Conformant
        },
        0,
        Some(actor.user_id),
    );
    e.note = format!("{} {} {}", i.report_no.trim(), i.lab.trim(), i.date);
    trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok((
        l.clone(),
        vec![DomainEvent::LotStatusChanged {
            lot_id,
            status: l.status,
        }],
    ))
}

/// Regulators and admins put a lot on hold (`hold = true`) or release it.
pub async fn set_hold<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    hold: bool,
    reason: &str,
) -> Result<(lot::Model, Vec<DomainEvent>)> {
    actor.require(is_regulator_or_admin(actor))?;
    let reason = types::name("reason", reason, 500).map_err(|e| Error::Invalid(vec![e]))?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    let (from, to) = if hold {
        ("ACTIVE", "ON_HOLD")
    } else {
        ("ON_HOLD", "ACTIVE")
    };
    if l.status != from {
        return Err(Error::invalid(
            "lotId",
            Code::InvalidTransition,
            format!(
                "{}（此批次当前：{}）",
                if hold {
                    "只有正常销售的批次才能暂停销售"
                } else {
                    "只有暂停销售的批次才能解除暂停"
                },
                trace::state_words(&l.status).0
            ),
            format!(
                "{} (this one is {})",
                if hold {
                    "only an active lot can be put on hold"
                } else {
                    "only a lot on hold can be released"
                },
                trace::state_words(&l.status).1
            ),
        ));
    }
    let mut am: lot::ActiveModel = l.into();
    am.status = Set(to.into());
    am.status_reason = Set(Some(reason.clone()));
    am.status_at = Set(Some(crate::now()));
    let l = am.update(&txn).await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Holding,
        if hold {
            Disposition::NonSellableOther
        } else {
            Disposition::SellableAccessible
        },
        0,
        Some(actor.user_id),
    );
    e.note = reason;
    trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok((
        l,
        vec![DomainEvent::LotStatusChanged {
            lot_id,
            status: to.into(),
        }],
    ))
}

/// Recalls a lot: unsellable everywhere from this transaction on; every affected dealer and
/// buyer account is notified. Returns the events to publish.
pub async fn recall<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    reason: &str,
) -> Result<(lot::Model, Vec<DomainEvent>)> {
    actor.require(is_regulator_or_admin(actor))?;
    let reason = types::name("reason", reason, 500).map_err(|e| Error::Invalid(vec![e]))?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    if l.status == "RECALLED" {
        return Err(Error::invalid(
            "lotId",
            Code::InvalidTransition,
            "该批次已召回",
            "this lot is already recalled",
        ));
    }
    let mut am: lot::ActiveModel = l.into();
    am.status = Set("RECALLED".into());
    am.status_reason = Set(Some(reason.clone()));
    am.status_at = Set(Some(crate::now()));
    let l = am.update(&txn).await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Holding,
        Disposition::Recalled,
        0,
        Some(actor.user_id),
    );
    e.note = reason.clone();
    trace::append(&txn, e).await?;
    let mut events = crate::hooks::on_recall(&txn, &l).await?;
    let (dealer_ids, user_ids) = trace::affected_parties(&txn, lot_id).await?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let msg = crate::notify::Message {
        kind: "LOT_RECALLED",
        title_zh: format!("召回通知：{} 批号 {}", p.name_zh, l.lot_no),
        title_en: format!("Recall: {} lot {}", p.name_en, l.lot_no),
        body_zh: format!(
            "{}（{}）批号 {} 已被召回，请立即停止销售和使用。原因：{}",
            p.name_zh,
            pack_label(&s),
            l.lot_no,
            reason
        ),
        body_en: format!(
            "{} ({}) lot {} has been recalled: stop selling and using it now. Reason: {}",
            p.name_en,
            pack_label(&s),
            l.lot_no,
            reason
        ),
        payload: serde_json::json!({ "lotId": lot_id, "lotNo": l.lot_no, "traceCode": l.trace_code, "reason": reason }),
    };
    events.extend(crate::notify::notify_all(&txn, &user_ids, &msg).await?);
    txn.commit().await?;
    for d in &dealer_ids {
        events.push(DomainEvent::StockAlert {
            dealer_id: *d,
            kind: "RECALL".into(),
            sku_id: Some(l.sku_id),
            lot_id: Some(lot_id),
            available: None,
            message_zh: format!("批次 {} 已召回：立即停止销售", l.lot_no),
            message_en: format!("lot {} recalled: stop selling it now", l.lot_no),
        });
    }
    events.insert(
        0,
        DomainEvent::LotRecalled {
            lot_id,
            lot_no: l.lot_no.clone(),
            reason,
            dealer_ids,
            user_ids,
        },
    );
    Ok((l, events))
}

// ---------------------------------------------------------------- stock rows

/// Adds to a stock row, creating it on first receipt.
async fn add_stock(
    db: &impl ConnectionTrait,
    location_id: i64,
    lot_id: i64,
    dealer_id: i64,
    n: i64,
) -> Result<()> {
    let filter = || {
        Condition::all()
            .add(stock::Column::LocationId.eq(location_id))
            .add(stock::Column::LotId.eq(lot_id))
            .add(stock::Column::DealerId.eq(dealer_id))
    };
    let add = || {
        stock::Entity::update_many()
            .col_expr(
                stock::Column::OnHand,
                Expr::col(stock::Column::OnHand).add(n),
            )
            .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(filter())
    };
    if add().exec(db).await?.rows_affected > 0 {
        return Ok(());
    }
    let inserted = stock::ActiveModel {
        location_id: Set(location_id),
        lot_id: Set(lot_id),
        dealer_id: Set(dealer_id),
        on_hand: Set(n),
        reserved: Set(0),
        updated_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        // Another transaction created the row first: add to it.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            add().exec(db).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Takes `n` from a stock row's available quantity, or nothing. The condition lives in the
/// UPDATE itself, so concurrent takers can never drive it negative (and the CHECK constraint
/// backs it up).
async fn take_stock(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<bool> {
    Ok(stock::Entity::update_many()
        .col_expr(
            stock::Column::OnHand,
            Expr::col(stock::Column::OnHand).sub(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(
            Expr::col(stock::Column::OnHand)
                .sub(Expr::col(stock::Column::Reserved))
                .gte(n),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Reserves `n` of a stock row's available quantity, or nothing.
pub async fn reserve_stock(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<bool> {
    Ok(stock::Entity::update_many()
        .col_expr(
            stock::Column::Reserved,
            Expr::col(stock::Column::Reserved).add(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(
            Expr::col(stock::Column::OnHand)
                .sub(Expr::col(stock::Column::Reserved))
                .gte(n),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Releases a reservation.
pub async fn release_reservation(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<()> {
    let r = stock::Entity::update_many()
        .col_expr(
            stock::Column::Reserved,
            Expr::col(stock::Column::Reserved).sub(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(stock::Column::Reserved.gte(n))
        .exec(db)
        .await?;
    if r.rows_affected != 1 {
        return Err(Error::Internal(format!(
            "reservation of {n} not found on stock {stock_id}"
        )));
    }
    Ok(())
}

/// Turns a reservation into a sale: on hand and reserved both drop.
pub async fn consume_reservation(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<()> {
    let r = stock::Entity::update_many()
        .col_expr(
            stock::Column::Reserved,
            Expr::col(stock::Column::Reserved).sub(n),
        )
        .col_expr(
            stock::Column::OnHand,
            Expr::col(stock::Column::OnHand).sub(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(stock::Column::Reserved.gte(n))
        .exec(db)
        .await?;
    if r.rows_affected != 1 {
        return Err(Error::Internal(format!(
            "reservation of {n} not found on stock {stock_id}"
        )));
    }
    Ok(())
}

async fn stock_row(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_id: i64,
    lot_id: i64,
) -> Result<Option<stock::Model>> {
    Ok(stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::LocationId.eq(location_id))
        .filter(stock::Column::LotId.eq(lot_id))
        .one(db)
        .await?)
}

/// Takes `n` of a lot at a location, or fails with what is available.
async fn take_exact(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_id: i64,
    lot_id: i64,
    n: i64,
    field: &str,
) -> Result<()> {
    let row = stock_row(db, dealer_id, location_id, lot_id).await?;
    let available = row.as_ref().map(|r| r.on_hand - r.reserved).unwrap_or(0);
    match row {
        Some(r) if take_stock(db, r.id, n).await? => Ok(()),
        _ => Err(insufficient(field, available, n)),
    }
}

fn insufficient(field: &str, available: i64, wanted: i64) -> Error {
    Error::invalid(
        field,
        Code::InsufficientStock,
        format!("库存不足：可用 {available}，需要 {wanted}"),
        format!("not enough stock: {available} available, {wanted} wanted"),
    )
}

/// What a stock line is about: its lot, SKU and product.
struct LotContext {
    lot: lot::Model,
    sku: sku::Model,
    product: product::Model,
    producer: producer::Model,
}

async fn lot_context(db: &impl ConnectionTrait, lot_id: i64) -> Result<LotContext> {
    let l = lot(db, lot_id).await?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let prod = producer::Entity::find_by_id(l.producer_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("producer", l.producer_id))?;
    Ok(LotContext {
        lot: l,
        sku: s,
        product: p,
        producer: prod,
    })
}

/// `50 kg · 15-15-15` or `100 ml · 40% EC`: the spec a ledger line records.
async fn spec_text(
    db: &impl ConnectionTrait,
    s: &sku::Model,
    p: &product::Model,
) -> Result<String> {
    let f = fertiliser_spec::Entity::find_by_id(p.id).one(db).await?;
    let x = match f {
        Some(_) => None,
        None => pesticide_spec::Entity::find_by_id(p.id).one(db).await?,
    };
    Ok(spec_of(s, f.as_ref(), x.as_ref()))
}

/// [`spec_text`] given the product's fertiliser or pesticide spec.
fn spec_of(
    s: &sku::Model,
    f: Option<&fertiliser_spec::Model>,
    x: Option<&pesticide_spec::Model>,
) -> String {
    let mut spec = pack_label(s);
    if let Some(f) = f {
        spec.push_str(&format!(
            " · {}",
            types::Analysis {
                n: f.n_pct,
                p2o5: f.p2o5_pct,
                k2o: f.k2o_pct
            }
        ));
    } else if let Some(x) = x {
        let actives: Vec<crate::catalog::Active> =
            serde_json::from_value(x.actives.clone()).unwrap_or_default();
        let a = actives
            .iter()
            .map(|a| format!("{}{}{}", a.name_zh, a.content, a.content_unit))
            .collect::<Vec<_>>()
            .join("+");
        spec.push_str(&format!(" · {a} {}", x.formulation));
    }
    spec
}

async fn snapshot(db: &impl ConnectionTrait, c: &LotContext) -> Result<ProductSnapshot> {
    let spec = spec_text(db, &c.sku, &c.product).await?;
    Ok(snapshot_of(c, spec))
}

fn snapshot_of(c: &LotContext, spec: String) -> ProductSnapshot {
    ProductSnapshot {
        product_id: c.product.id,
        name_zh: c.product.name_zh.clone(),
        name_en: c.product.name_en.clone(),
        spec,
        registration_no: c.product.registration_no.clone().unwrap_or_else(|| {
            if c.product.registration_exempt {
                "免登记".into()
            } else {
                String::new()
            }
        }),
        producer_name: c.producer.name_zh.clone(),
        lot_no: c.lot.lot_no.clone(),
    }
}

// ---------------------------------------------------------------- receipts

#[derive(Clone, Debug, Default)]
pub struct Supplier {
    pub name: String,
    pub licence_no: String,
    pub contact: String,
}

#[derive(Clone, Debug)]
pub struct ReceiptInput {
    pub dealer_id: i64,
    /// The dealer's store when absent.
    pub location_id: Option<i64>,
    pub lot_id: i64,
    pub quantity: i64,
    pub unit_cost_fen: i64,
    pub supplier: Supplier,
    pub source_document: String,
    pub received_at: Option<DateTime<Utc>>,
}

/// The checks every receipt passes, by form or by CSV row: quantity, unit cost, supplier, and
/// source document.
fn check_receipt_terms(
    errs: &mut Errors,
    quantity: i64,
    unit_cost_fen: i64,
    supplier: &Supplier,
    source_document: &str,
) {
    errs.take(qty("quantity", quantity));
    if !(0..=100_000_000).contains(&unit_cost_fen) {
        errs.push(FieldError::new(
            "unitCostFen",
            Code::InvalidPrice,
            "进货单价（分）应在 0 到 1 亿之间",
            "unit cost (fen) must be between 0 and 100,000,000",
        ));
    }
    validate_supplier(errs, supplier);
    errs.take(types::name("sourceDocument", source_document, 100));
}

fn validate_supplier(errs: &mut Errors, s: &Supplier) {
    errs.take(types::name("supplier.name", &s.name, 100));
    errs.take(types::name("supplier.licenceNo", &s.licence_no, 80));
    errs.take(types::name("supplier.contact", &s.contact, 80));
}

/// Receives stock of a lot from a named supplier: stock rises, a receiving event and a
/// purchase-ledger line are written.
pub async fn receive<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: ReceiptInput,
) -> Result<(stock_receipt::Model, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, input.dealer_id))?;
    let txn = crate::begin_write(db).await?;
    let r = receive_in(&txn, actor, input).await?;
    txn.commit().await?;
    Ok(r)
}

async fn receive_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: ReceiptInput,
) -> Result<(stock_receipt::Model, Vec<DomainEvent>)> {
    let mut errs = Errors::new();
    check_receipt_terms(
        &mut errs,
        input.quantity,
        input.unit_cost_fen,
        &input.supplier,
        &input.source_document,
    );
    let at = input.received_at.unwrap_or_else(crate::now);
    if at > crate::now() + chrono::Duration::minutes(5) {
        errs.push(FieldError::new(
            "receivedAt",
            Code::OutOfRange,
            "收货时间不能晚于现在",
            "receipt time cannot be in the future",
        ));
    }
    errs.finish()?;
    regions::dealer(db, input.dealer_id).await?;
    let location = match input.location_id {
        Some(l) => check_dealer_location(db, input.dealer_id, l, "locationId").await?,
        None => store_location(db, input.dealer_id).await?,
    };
    let l = trace::lock_lot(db, input.lot_id).await?;
    if l.status == "RECALLED" {
        return Err(Error::invalid(
            "lotId",
            Code::LotRecalled,
            "该批次已被召回，不能入库",
            "this lot is recalled and cannot be received",
        ));
    }
    if crate::local_date(at) >= l.expires_on {
        return Err(Error::invalid(
            "lotId",
            Code::LotNotSellable,
            "该批次已过期，不能入库",
            "this lot has expired and cannot be received",
        ));
    }
    let c = lot_context(db, input.lot_id).await?;
    add_stock(db, location.id, l.id, input.dealer_id, input.quantity).await?;
    let receipt = stock_receipt::ActiveModel {
        dealer_id: Set(input.dealer_id),
        location_id: Set(location.id),
        lot_id: Set(l.id),
        quantity: Set(input.quantity),
        unit_cost_fen: Set(input.unit_cost_fen),
        supplier_name: Set(input.supplier.name.trim().into()),
        supplier_licence_no: Set(input.supplier.licence_no.trim().into()),
        supplier_contact: Set(input.supplier.contact.trim().into()),
        source_document: Set(input.source_document.trim().into()),
        actor_id: Set(actor.user_id),
        received_at: Set(trace::micros(at)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut e = NewEvent::new(
        l.id,
        BizStep::Receiving,
        Disposition::SellableAccessible,
        input.quantity,
        Some(actor.user_id),
    );
    e.to_location_id = Some(location.id);
    e.dealer_id = Some(input.dealer_id);
    e.occurred_at = at;
    e.ref_kind = Some("RECEIPT");
    e.ref_id = Some(receipt.id);
    e.note = format!(
        "from {} ({})",
        receipt.supplier_name, receipt.supplier_licence_no
    );
    let ev = trace::append(db, e).await?;
    let party = Counterparty {
        name: receipt.supplier_name.clone(),
        licence: receipt.supplier_licence_no.clone(),
        contact: receipt.supplier_contact.clone(),
        id_number: String::new(),
    };
    ledger::write(
        db,
        input.dealer_id,
        ledger::Kind::Purchase,
        Some(ev.id),
        at,
        &snapshot(db, &c).await?,
        input.quantity,
        Fen(input.unit_cost_fen),
        &party,
        &receipt.source_document,
        "",
    )
    .await?;
    Ok((
        receipt,
        vec![DomainEvent::StockChanged {
            dealer_id: input.dealer_id,
            lot_id: l.id,
            location_id: location.id,
        }],
    ))
}

// ---------------------------------------------------------------- CSV receipts

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvPolicy {
    /// Any bad row rejects the whole file; nothing is written.
    RejectAll,
    /// Good rows are received; bad rows are reported.
    SkipInvalid,
    /// Every row is parsed and checked as if it were received (the database checks included,
    /// inside a transaction that is rolled back), and nothing is written: what a dealer sees
    /// before choosing to receive the file or only its good rows.
    Preview,
}

/// A rejected CSV row: its line in the file (the header is line 1), the column (1-based) and
/// its header name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: Option<usize>,
    pub column_name: Option<String>,
    pub code: Code,
    pub zh: String,
    pub en: String,
}

#[derive(Clone, Debug, Default)]
pub struct CsvOutcome {
    pub received: Vec<stock_receipt::Model>,
    pub lots_created: usize,
    pub errors: Vec<RowError>,
    /// False when the policy rejected the whole file, and always for a preview.
    pub committed: bool,
    /// The file's header cells and its data rows as read (for a preview table).
    pub headers: Vec<String>,
    pub rows: Vec<CsvLine>,
    /// Lines of the rows that would be (or were) received.
    pub good_lines: Vec<usize>,
}

/// A data row of a receipt CSV as read: its line in the file and its cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvLine {
    pub line: usize,
    pub cells: Vec<String>,
}

/// Columns of a receipt CSV and the header names accepted for each (English or Chinese).
/// The pack is named by `gtin` (the barcode; the old `sku` id column still works), or by
/// `product` + `pack` (the product's name and its pack label, e.g. `40 kg`): one of the two is
/// required, checked per row.
pub const COLUMNS: &[(&str, &[&str], bool)] = &[
    ("sku", &["gtin", "sku", "商品条码", "规格编号"], false),
    (
        "product",
        &["product", "product_name", "产品名称", "商品名称"],
        false,
    ),
    ("pack", &["pack", "pack_size", "规格", "包装规格"], false),
    ("lot_no", &["lot_no", "lot", "批号"], true),
    ("produced_on", &["produced_on", "生产日期"], true),
    (
        "expires_on",
        &["expires_on", "expiry", "有效期至", "失效日期"],
        true,
    ),
    ("quantity", &["quantity", "数量"], true),
    ("unit_cost", &["unit_cost", "单价", "进货单价"], true),
    (
        "supplier_name",
        &["supplier_name", "supplier", "供货单位"],
        true,
    ),
    (
        "supplier_licence_no",
        &["supplier_licence_no", "供货单位许可证号"],
        true,
    ),
    ("supplier_contact", &["supplier_contact", "联系方式"], true),
    (
        "source_document",
        &["source_document", "来源单据", "单据号"],
        true,
    ),
    (
        "inspection_report_no",
        &["inspection_report_no", "检验报告编号"],
        false,
    ),
    ("inspection_lab", &["inspection_lab", "检验机构"], false),
    (
        "inspection_result",
        &["inspection_result", "检验结果"],
        false,
    ),
    ("inspection_date", &["inspection_date", "检验日期"], false),
];

/// The 1-based line of the file a CSV record starts on. Counted from the byte offset, because
/// the csv crate's own line count is one short for files with CRLF line ends (what Excel on
/// Windows saves). For every record of a file in turn, use a [`CsvLines`] instead: this counts
/// from the start of the text each time.
pub fn csv_line(text: &str, pos: &csv::Position) -> usize {
    CsvLines::new(text).line(pos)
}

/// Lines of the records of one file, asked in file order: each call counts only the line breaks
/// since the previous record, so a whole file costs one pass over its text (not one per row).
pub struct CsvLines<'a> {
    bytes: &'a [u8],
    at: usize,
    breaks: usize,
}

impl<'a> CsvLines<'a> {
    pub fn new(text: &'a str) -> Self {
        CsvLines {
            bytes: text.as_bytes(),
            at: 0,
            breaks: 0,
        }
    }

    pub fn line(&mut self, pos: &csv::Position) -> usize {
        let bytes = self.bytes;
        let mut at = (pos.byte() as usize).min(bytes.len());
        // With CRLF the reported start can sit on the line break before the record.
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at < self.at {
            // Asked out of order: count again from the start.
            self.at = 0;
            self.breaks = 0;
        }
        self.breaks += bytes[self.at..at].iter().filter(|b| **b == b'\n').count();
        self.at = at;
        self.breaks + 1
    }
}

/// Parses yuan with at most two decimals (`12.5`, `12.50`, `1,200`) into fen, exactly.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let t = s
        .trim()
        .replace([',', '，'], "")
        .trim_start_matches(['¥', '￥'])
        .to_owned();
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    w.checked_mul(100)?.checked_add(f)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y/%m/%d"))
        .ok()
}

struct CsvRow {
    line: usize,
    sku_id: i64,
    lot_no: String,
    produced_on: NaiveDate,
    expires_on: NaiveDate,
    quantity: i64,
    unit_cost_fen: i64,
    supplier: Supplier,
    source_document: String,
    inspection: Option<InspectionInput>,
}

/// Receives stock from a CSV file (UTF-8, with or without BOM), creating lots that are new.
/// Every bad row names its line and column; with `RejectAll` nothing of a file with a bad row
/// is written.
pub async fn receive_csv<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    text: &str,
    policy: CsvPolicy,
) -> Result<(CsvOutcome, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, dealer_id))?;
    regions::dealer(db, dealer_id).await?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = CsvOutcome::default();
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.errors.push(RowError {
                line: 1,
                column: None,
                column_name: None,
                code: Code::InvalidFormat,
                zh: format!("无法读取表头：{e}"),
                en: format!("cannot read the header: {e}"),
            });
            return Ok((out, vec![]));
        }
    };
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, aliases, required) in COLUMNS {
        match headers
            .iter()
            .position(|h| aliases.iter().any(|a| a.eq_ignore_ascii_case(h.trim())))
        {
            Some(i) => {
                index.insert(name, i);
            }
            None if *required => out.errors.push(RowError {
                line: 1,
                column: None,
                column_name: Some((*name).into()),
                code: Code::Required,
                zh: format!("缺少列 {}（{}）", name, aliases.last().unwrap_or(name)),
                en: format!("missing column {name}"),
            }),
            None => {}
        }
    }
    let by_name = index.contains_key("product") && index.contains_key("pack");
    if !(index.contains_key("sku") || by_name) {
        out.errors.push(RowError {
            line: 1,
            column: None,
            column_name: Some("gtin".into()),
            code: Code::Required,
            zh: "缺少列：商品条码（gtin），或 产品名称（product）和 规格（pack）".into(),
            en: "missing column: gtin, or product and pack".into(),
        });
    }
    out.headers = headers.iter().map(str::to_owned).collect();
    if !out.errors.is_empty() {
        return Ok((out, vec![]));
    }
    // One pass over the text: every record with its line, and what its pack is named by, so
    // that the packs of the whole file are looked up in a few statements, not one per row.
    let mut lines = CsvLines::new(text);
    let mut records = Vec::new();
    let (mut gtins, mut sku_ids, mut names) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let cell_of = |rec: &csv::StringRecord, name: &str| {
        index
            .get(name)
            .and_then(|i| rec.get(*i))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    for rec in rdr.records() {
        match rec {
            Ok(rec) => {
                let line = rec.position().map(|p| lines.line(p)).unwrap_or(0);
                match (
                    cell_of(&rec, "sku"),
                    cell_of(&rec, "product"),
                    cell_of(&rec, "pack"),
                ) {
                    (Some(v), _, _) if v.len() >= 8 => {
                        if let Ok(g) = Gtin::parse("sku", &v) {
                            gtins.insert(g.as_str().to_owned());
                        }
                    }
                    (Some(v), _, _) => {
                        if let Ok(id) = v.parse::<i64>() {
                            sku_ids.insert(id);
                        }
                    }
                    (None, Some(n), Some(p)) => {
                        names.insert((n, p));
                    }
                    _ => {}
                }
                records.push(Ok((line, rec)));
            }
            Err(e) => {
                let line = e.position().map(|p| lines.line(p)).unwrap_or(0);
                records.push(Err((line, e)));
            }
        }
    }
    let gtins: Vec<String> = gtins.into_iter().collect();
    let by_gtin = crate::catalog::packs_by_gtin(db, &gtins).await?;
    let sku_ids: Vec<i64> = sku_ids.into_iter().collect();
    let mut by_id = BTreeMap::new();
    for chunk in sku_ids.chunks(crate::IN_CHUNK) {
        by_id.extend(rows_by_id!(db, sku, chunk.iter().copied()));
    }
    let names: Vec<(String, String)> = names.into_iter().collect();
    let by_name: BTreeMap<(String, String), crate::catalog::PackMatch> = names
        .iter()
        .cloned()
        .zip(crate::catalog::packs_named(db, &names).await?)
        .collect();
    // Then every row is checked against them, in file order.
    let mut rows = Vec::new();
    for rec in records {
        let (line, rec) = match rec {
            Ok(r) => r,
            Err((line, e)) => {
                out.errors.push(RowError {
                    line,
                    column: None,
                    column_name: None,
                    code: Code::InvalidFormat,
                    zh: format!("CSV 格式错误：{e}"),
                    en: format!("malformed CSV: {e}"),
                });
                continue;
            }
        };
        if rec.iter().all(|f| f.is_empty()) {
            continue;
        }
        out.rows.push(CsvLine {
            line,
            cells: rec.iter().map(str::to_owned).collect(),
        });
        let mut row_errs = Vec::new();
        let mut cell = |name: &str, zh: &str, en: &str| -> Option<String> {
            let i = index.get(name).copied();
            let v = i.and_then(|i| rec.get(i)).unwrap_or("").to_owned();
            if v.is_empty() && COLUMNS.iter().any(|c| c.0 == name && c.2) {
                row_errs.push((
                    i,
                    name.to_owned(),
                    Code::Required,
                    format!("{zh}不能为空"),
                    format!("{en} is required"),
                ));
                return None;
            }
            Some(v)
        };
        let sku_raw = cell("sku", "", "").filter(|v| !v.is_empty());
        let product_name = cell("product", "", "").filter(|v| !v.is_empty());
        let pack_name = cell("pack", "", "").filter(|v| !v.is_empty());
        let lot_no = cell("lot_no", "批号", "lot number");
        let produced = cell("produced_on", "生产日期", "production date");
        let expires = cell("expires_on", "有效期", "expiry date");
        let quantity = cell("quantity", "数量", "quantity");
        let cost = cell("unit_cost", "单价", "unit cost");
        let s_name = cell("supplier_name", "供货单位", "supplier name");
        let s_lic = cell(
            "supplier_licence_no",
            "供货单位许可证号",
            "supplier licence",
        );
        let s_contact = cell("supplier_contact", "联系方式", "supplier contact");
        let doc = cell("source_document", "来源单据", "source document");
        let i_no = cell("inspection_report_no", "", "").unwrap_or_default();
        let i_lab = cell("inspection_lab", "", "").unwrap_or_default();
        let i_res = cell("inspection_result", "", "").unwrap_or_default();
        let i_date = cell("inspection_date", "", "").unwrap_or_default();
        let mut bad = |name: &str, zh: String, en: String| {
            row_errs.push((
                index.get(name).copied(),
                name.to_owned(),
                Code::InvalidFormat,
                zh,
                en,
            ))
        };
        let produced_on = produced.as_deref().and_then(|v| {
            parse_date(v).or_else(|| {
                bad(
                    "produced_on",
                    format!("生产日期“{v}”应为 YYYY-MM-DD"),
                    format!("production date \"{v}\" must be YYYY-MM-DD"),
                );
                None
            })
        });
        let expires_on = expires.as_deref().and_then(|v| {
            parse_date(v).or_else(|| {
                bad(
                    "expires_on",
                    format!("有效期“{v}”应为 YYYY-MM-DD"),
                    format!("expiry \"{v}\" must be YYYY-MM-DD"),
                );
                None
            })
        });
        let quantity = quantity.as_deref().and_then(|v| match v.parse::<i64>() {
            Ok(q) if (1..=MAX_QTY).contains(&q) => Some(q),
            _ => {
                bad(
                    "quantity",
                    format!("数量“{v}”应为 1 到 1000000 的整数"),
                    format!("quantity \"{v}\" must be a whole number from 1 to 1,000,000"),
                );
                None
            }
        });
        let unit_cost_fen = cost.as_deref().and_then(|v| {
            parse_yuan(v).or_else(|| {
                bad(
                    "unit_cost",
                    format!("单价“{v}”应为元，最多两位小数"),
                    format!("unit cost \"{v}\" must be yuan with at most two decimals"),
                );
                None
            })
        });
        if let (Some(p), Some(e)) = (produced_on, expires_on)
            && e <= p
        {
            bad(
                "expires_on",
                "有效期应晚于生产日期".into(),
                "expiry must be after the production date".into(),
            );
        }
        let inspection = if i_no.is_empty() && i_res.is_empty() {
            None
        } else {
            let result = match i_res.as_str() {
                "合格" | "CONFORMANT" | "conformant" => Some("CONFORMANT"),
                "不合格" | "NON_CONFORMANT" | "non_conformant" => Some("NON_CONFORMANT"),
                v => {
                    bad(
                        "inspection_result",
                        format!("检验结果“{v}”应为 合格 或 不合格"),
                        format!("inspection result \"{v}\" must be CONFORMANT or NON_CONFORMANT"),
                    );
                    None
                }
            };
            let date = parse_date(&i_date).or_else(|| {
                bad(
                    "inspection_date",
                    "检验日期应为 YYYY-MM-DD".into(),
                    "inspection date must be YYYY-MM-DD".into(),
                );
                None
            });
            match (result, date) {
                (Some(r), Some(d)) => Some(InspectionInput {
                    report_no: i_no,
                    lab: i_lab,
                    result: r.into(),
                    date: d,
                }),
                _ => None,
            }
        };
        // The pack: a GTIN (or the old numeric id of a pack size), else product name + pack.
        let sku_id = match (
            sku_raw.as_deref(),
            product_name.as_deref(),
            pack_name.as_deref(),
        ) {
            (Some(v), _, _) if v.len() >= 8 => match Gtin::parse("sku", v) {
                Ok(g) => match by_gtin.get(g.as_str()) {
                    Some(s) => Some(s.id),
                    None => {
                        bad(
                            "sku",
                            format!("没有商品条码为 {v} 的规格"),
                            format!("no pack has the barcode (GTIN) {v}"),
                        );
                        None
                    }
                },
                Err(_) => {
                    bad(
                        "sku",
                        format!("商品条码“{v}”无效"),
                        format!("barcode (GTIN) \"{v}\" is not valid"),
                    );
                    None
                }
            },
            (Some(v), _, _) => match v.parse::<i64>() {
                Ok(id) if by_id.contains_key(&id) => Some(id),
                _ => {
                    bad(
                        "sku",
                        format!("规格编号“{v}”不存在"),
                        format!("no pack size with id \"{v}\""),
                    );
                    None
                }
            },
            (None, Some(name), Some(pack)) => {
                let key = (name.to_owned(), pack.to_owned());
                match by_name
                    .get(&key)
                    .cloned()
                    .unwrap_or(crate::catalog::PackMatch::NoProduct)
                {
                    crate::catalog::PackMatch::One(s) => Some(s.id),
                    crate::catalog::PackMatch::NoProduct => {
                        bad(
                            "product",
                            format!("没有名为“{name}”的产品"),
                            format!("no product is named \"{name}\""),
                        );
                        None
                    }
                    crate::catalog::PackMatch::NoPack(have) => {
                        bad(
                            "pack",
                            format!("“{name}”没有规格“{pack}”（有：{}）", have.join("、")),
                            format!(
                                "\"{name}\" has no pack \"{pack}\" (it has: {})",
                                have.join(", ")
                            ),
                        );
                        None
                    }
                    crate::catalog::PackMatch::Ambiguous(n) => {
                        bad(
                            "product",
                            format!("有 {n} 个产品名为“{name}”、规格为“{pack}”：请改用商品条码"),
                            format!(
                                "{n} products are named \"{name}\" with pack \"{pack}\": use the barcode (GTIN) instead"
                            ),
                        );
                        None
                    }
                }
            }
            (None, name, pack) => {
                let (col, zh, en) = match (name, pack) {
                    (Some(_), None) => ("pack", "规格不能为空", "pack is required"),
                    (None, Some(_)) => ("product", "产品名称不能为空", "product is required"),
                    _ if index.contains_key("sku") => (
                        "sku",
                        "商品条码不能为空（或填写产品名称和规格）",
                        "barcode (GTIN) is required (or give product and pack)",
                    ),
                    _ => (
                        "product",
                        "产品名称和规格不能为空",
                        "product and pack are required",
                    ),
                };
                bad(col, zh.into(), en.into());
                None
            }
        };
        if row_errs.is_empty() {
            rows.push(CsvRow {
                line,
                sku_id: sku_id.unwrap_or_default(),
                lot_no: lot_no.unwrap_or_default(),
                produced_on: produced_on.unwrap_or_default(),
                expires_on: expires_on.unwrap_or_default(),
                quantity: quantity.unwrap_or_default(),
                unit_cost_fen: unit_cost_fen.unwrap_or_default(),
                supplier: Supplier {
                    name: s_name.unwrap_or_default(),
                    licence_no: s_lic.unwrap_or_default(),
                    contact: s_contact.unwrap_or_default(),
                },
                source_document: doc.unwrap_or_default(),
                inspection,
            });
        }
        for (i, name, code, zh, en) in row_errs {
            out.errors.push(RowError {
                line,
                column: i.map(|i| i + 1),
                column_name: Some(
                    headers
                        .get(i.unwrap_or(usize::MAX))
                        .unwrap_or(&name)
                        .to_owned(),
                ),
                code,
                zh,
                en,
            });
        }
    }
    if policy == CsvPolicy::RejectAll && !out.errors.is_empty() {
        return Ok((out, vec![]));
    }
    // What the database would refuse, for every row at once: the lots the file names that are
    // recorded already (one statement per 10 000 lot numbers), then each row in turn as
    // receiving it would check it. A lot the file creates is recorded for the rows after it.
    let lot_nos: BTreeSet<String> = rows.iter().map(|r| r.lot_no.trim().to_owned()).collect();
    let lot_nos: Vec<String> = lot_nos.into_iter().collect();
    let row_skus: BTreeSet<i64> = rows.iter().map(|r| r.sku_id).collect();
    let mut known: BTreeMap<(i64, String), KnownLot> = BTreeMap::new();
    for chunk in lot_nos.chunks(crate::IN_CHUNK) {
        for l in lot::Entity::find()
            .filter(lot::Column::LotNo.is_in(chunk.iter().cloned()))
            .filter(lot::Column::SkuId.is_in(row_skus.iter().copied()))
            .all(db)
            .await?
        {
            known.insert(
                (l.sku_id, l.lot_no.clone()),
                KnownLot {
                    lot_no: l.lot_no,
                    produced_on: l.produced_on,
                    expires_on: l.expires_on,
                    recalled: l.status == "RECALLED",
                },
            );
        }
    }
    let today = crate::today();
    let mut good = Vec::new();
    for row in rows {
        let line = row.line;
        match check_csv_row(&row, &known, today) {
            Ok(created) => {
                if created {
                    known.insert(
                        (row.sku_id, row.lot_no.trim().to_owned()),
                        KnownLot {
                            lot_no: row.lot_no.trim().to_owned(),
                            produced_on: row.produced_on,
                            expires_on: row.expires_on,
                            recalled: false,
                        },
                    );
                }
                out.good_lines.push(line);
                out.lots_created += usize::from(created);
                good.push(row);
            }
            Err(Error::Invalid(errs)) => {
                for e in errs {
                    let col = csv_column_for(&e.field);
                    let i = col.and_then(|c| index.get(c).copied());
                    out.errors.push(RowError {
                        line,
                        column: i.map(|i| i + 1),
                        column_name: i.and_then(|i| headers.get(i)).map(str::to_owned),
                        code: e.code,
                        zh: e.zh,
                        en: e.en,
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
    out.errors.sort_by_key(|e| (e.line, e.column));
    if policy == CsvPolicy::Preview || (policy == CsvPolicy::RejectAll && !out.errors.is_empty()) {
        if policy == CsvPolicy::RejectAll {
            out.lots_created = 0;
            out.good_lines.clear();
        }
        return Ok((out, vec![]));
    }
    // Every remaining row was checked: they go in together, in one transaction, many rows to
    // a statement. Should the database still refuse one (another user changed a lot
    // meanwhile), nothing is written.
    let txn = crate::begin_write(db).await?;
    let receipts: Vec<LotReceipt> = good.into_iter().map(LotReceipt::from).collect();
    match receive_lots_in(&txn, actor, dealer_id, receipts).await {
        Ok((received, events)) => {
            txn.commit().await?;
            out.received = received;
            out.committed = true;
            Ok((out, events))
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Receives checked lots (see [`check_csv_row`]) into the dealer's store as [`receive_lot_in`]
/// does one by one, with the same lots, trace events, stock, receipts and ledger lines, in a
/// number of statements that does not grow with the rows (one per 1 000 rows and table
/// written), except one update per stock row the lots already have at the store.
async fn receive_lots_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    rows: Vec<LotReceipt>,
) -> Result<(Vec<stock_receipt::Model>, Vec<DomainEvent>)> {
    if rows.is_empty() {
        return Ok((vec![], vec![]));
    }
    let location = store_location(db, dealer_id).await?;
    let now = crate::now();
    // The packs, their products, the lots already recorded (locked), their producers and specs.
    let sku_ids: BTreeSet<i64> = rows.iter().map(|r| r.sku_id).collect();
    let skus = rows_by_id!(db, sku, sku_ids.iter().copied());
    let of: BTreeSet<i64> = skus.values().map(|s| s.product_id).collect();
    let products = rows_by_id!(db, product, of);
    let lot_nos: BTreeSet<String> = rows.iter().map(|r| r.lot_no.trim().to_owned()).collect();
    let lot_nos: Vec<String> = lot_nos.into_iter().collect();
    let mut lots: BTreeMap<(i64, String), lot::Model> = BTreeMap::new();
    for chunk in lot_nos.chunks(crate::IN_CHUNK) {
        let mut q = lot::Entity::find()
            .filter(lot::Column::LotNo.is_in(chunk.iter().cloned()))
            .filter(lot::Column::SkuId.is_in(sku_ids.iter().copied()));
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            q = sea_orm::QuerySelect::lock_exclusive(q);
        }
        for l in q.all(db).await? {
            lots.insert((l.sku_id, l.lot_no.clone()), l);
        }
    }
    // New lots, once each, in file order.
    let mut new_inputs: Vec<LotInput> = vec![];
    let mut new_keys: BTreeSet<(i64, String)> = BTreeSet::new();
    for r in &rows {
        let key = (r.sku_id, r.lot_no.trim().to_owned());
        if !lots.contains_key(&key) && new_keys.insert(key) {
            new_inputs.push(LotInput {
                sku_id: r.sku_id,
                lot_no: r.lot_no.trim().to_owned(),
                producer_id: None,
                produced_on: r.produced_on,
                expires_on: r.expires_on,
                gtin: None,
                inspection: r.inspection.clone(),
                unit_codes: vec![],
            });
        }
    }
    let mut commissioning = vec![];
    if !new_inputs.is_empty() {
        let mut made: Vec<lot::Model> = vec![];
        for chunk in new_inputs.chunks(trace::INSERT_CHUNK) {
            let models = chunk.iter().map(|i| {
                let s = &skus[&i.sku_id];
                new_lot(
                    actor,
                    i,
                    s.id,
                    i.lot_no.clone(),
                    products[&s.product_id].producer_id,
                    s.gtin.clone(),
                    now,
                )
            });
            let mut stored = lot::Entity::insert_many(models)
                .exec_with_returning(db)
                .await
                .map_err(|e| {
                    crate::accounts::unique_violation(
                        e,
                        "lotNo",
                        "该规格下已有同一批号",
                        "this pack size already has a lot with this number",
                    )
                })?;
            stored.sort_by_key(|l| l.id);
            made.extend(stored);
        }
        let of: BTreeSet<i64> = made.iter().map(|l| l.producer_id).collect();
        let producers = rows_by_id!(db, producer, of);
        let mut sites: BTreeMap<i64, i64> = BTreeMap::new();
        for (id, p) in &producers {
            sites.insert(*id, producer_location(db, p).await?.id);
        }
        for (l, input) in made.into_iter().zip(&new_inputs) {
            commissioning.extend(lot_commissioning(actor, &l, sites[&l.producer_id], input));
            lots.insert((l.sku_id, l.lot_no.clone()), l);
        }
    }
    // Distinct ids only: an `IN` list of one per row would pass SQLite's variable limit.
    let of: BTreeSet<i64> = lots.values().map(|l| l.producer_id).collect();
    let producers = rows_by_id!(db, producer, of);
    let product_ids: Vec<i64> = products.keys().copied().collect();
    let ferts: BTreeMap<i64, fertiliser_spec::Model> = fertiliser_spec::Entity::find()
        .filter(fertiliser_spec::Column::ProductId.is_in(product_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.product_id, f))
        .collect();
    let pests: BTreeMap<i64, pesticide_spec::Model> = pesticide_spec::Entity::find()
        .filter(pesticide_spec::Column::ProductId.is_in(product_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|x| (x.product_id, x))
        .collect();
    // Stock: one row per lot at the store, added to or created.
    let lot_of = |r: &LotReceipt| &lots[&(r.sku_id, r.lot_no.trim().to_owned())];
    let mut adds: BTreeMap<i64, i64> = BTreeMap::new();
    for r in &rows {
        *adds.entry(lot_of(r).id).or_default() += r.quantity;
    }
    let lot_ids: Vec<i64> = adds.keys().copied().collect();
    let mut have: BTreeSet<i64> = BTreeSet::new();
    for chunk in lot_ids.chunks(crate::IN_CHUNK) {
        have.extend(
            stock::Entity::find()
                .filter(stock::Column::LocationId.eq(location.id))
                .filter(stock::Column::DealerId.eq(dealer_id))
                .filter(stock::Column::LotId.is_in(chunk.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|s| s.lot_id),
        );
    }
    for (lot_id, n) in adds.iter().filter(|(l, _)| have.contains(l)) {
        add_stock(db, location.id, *lot_id, dealer_id, *n).await?;
    }
    let fresh: Vec<(i64, i64)> = adds
        .iter()
        .filter(|(l, _)| !have.contains(l))
        .map(|(l, n)| (*l, *n))
        .collect();
    for chunk in fresh.chunks(trace::INSERT_CHUNK) {
        stock::Entity::insert_many(chunk.iter().map(|(lot_id, n)| stock::ActiveModel {
            location_id: Set(location.id),
            lot_id: Set(*lot_id),
            dealer_id: Set(dealer_id),
            on_hand: Set(*n),
            reserved: Set(0),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
    }
    // The receipts, then their receiving events after the new lots' own.
    let mut receipts: Vec<stock_receipt::Model> = vec![];
    for chunk in rows.chunks(trace::INSERT_CHUNK) {
        let models = chunk.iter().map(|r| stock_receipt::ActiveModel {
            dealer_id: Set(dealer_id),
            location_id: Set(location.id),
            lot_id: Set(lot_of(r).id),
            quantity: Set(r.quantity),
            unit_cost_fen: Set(r.unit_cost_fen),
            supplier_name: Set(r.supplier.name.trim().into()),
            supplier_licence_no: Set(r.supplier.licence_no.trim().into()),
            supplier_contact: Set(r.supplier.contact.trim().into()),
            source_document: Set(r.source_document.trim().into()),
            actor_id: Set(actor.user_id),
            received_at: Set(trace::micros(now)),
            ..Default::default()
        });
        let mut stored = stock_receipt::Entity::insert_many(models)
            .exec_with_returning(db)
            .await?;
        stored.sort_by_key(|r| r.id);
        receipts.extend(stored);
    }
    let first_receiving = commissioning.len();
    let mut events = commissioning;
    for (r, receipt) in rows.iter().zip(&receipts) {
        let mut e = NewEvent::new(
            lot_of(r).id,
            BizStep::Receiving,
            Disposition::SellableAccessible,
            r.quantity,
            Some(actor.user_id),
        );
        e.to_location_id = Some(location.id);
        e.dealer_id = Some(dealer_id);
        e.occurred_at = now;
        e.ref_kind = Some("RECEIPT");
        e.ref_id = Some(receipt.id);
        e.note = format!(
            "from {} ({})",
            receipt.supplier_name, receipt.supplier_licence_no
        );
        events.push(e);
    }
    let stored = trace::append_many(db, events).await?;
    // A purchase-ledger line per receipt.
    let mut lines = vec![];
    for ((r, receipt), ev) in rows.iter().zip(&receipts).zip(&stored[first_receiving..]) {
        let l = lot_of(r);
        let s = &skus[&r.sku_id];
        let p = &products[&s.product_id];
        let c = LotContext {
            lot: l.clone(),
            sku: s.clone(),
            product: p.clone(),
            producer: producers
                .get(&l.producer_id)
                .cloned()
                .ok_or_else(|| Error::not_found("producer", l.producer_id))?,
        };
        let spec = spec_of(s, ferts.get(&p.id), pests.get(&p.id));
        let party = Counterparty {
            name: receipt.supplier_name.clone(),
            licence: receipt.supplier_licence_no.clone(),
            contact: receipt.supplier_contact.clone(),
            id_number: String::new(),
        };
        lines.push(ledger::line(
            dealer_id,
            ledger::Kind::Purchase,
            Some(ev.id),
            now,
            &snapshot_of(&c, spec),
            r.quantity,
            Fen(r.unit_cost_fen),
            &party,
            &receipt.source_document,
            "",
        ));
    }
    for chunk in lines.chunks(trace::INSERT_CHUNK) {
        crate::entities::ledger_line::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(db)
            .await?;
    }
    let events = receipts
        .iter()
        .map(|r| DomainEvent::StockChanged {
            dealer_id,
            lot_id: r.lot_id,
            location_id: location.id,
        })
        .collect();
    Ok((receipts, events))
}

/// A lot as the checks of a CSV receipt need it.
struct KnownLot {
    lot_no: String,
    produced_on: NaiveDate,
    expires_on: NaiveDate,
    recalled: bool,
}

/// What [`receive_lot_in`] would refuse about a CSV row, without the database: the lots named
/// are in `known`. Ok(true) when the row creates its lot.
fn check_csv_row(
    row: &CsvRow,
    known: &BTreeMap<(i64, String), KnownLot>,
    today: NaiveDate,
) -> Result<bool> {
    let (created, recalled, expires_on) =
        match known.get(&(row.sku_id, row.lot_no.trim().to_owned())) {
            Some(l) if l.produced_on != row.produced_on || l.expires_on != row.expires_on => {
                return Err(Error::invalid(
                    "expires_on",
                    Code::CodeMismatch,
                    format!(
                        "批号 {} 已登记，但生产日期或有效期不同（{} / {}）",
                        l.lot_no, l.produced_on, l.expires_on
                    ),
                    format!(
                        "lot {} exists with other dates ({} / {})",
                        l.lot_no, l.produced_on, l.expires_on
                    ),
                ));
            }
            Some(l) => (false, l.recalled, l.expires_on),
            None => {
                // As insert_lot checks a new lot.
                let mut errs = Errors::new();
                errs.take(types::name("lotNo", &row.lot_no, 20));
                if row.expires_on <= row.produced_on {
                    errs.push(FieldError::new(
                        "expiresOn",
                        Code::OutOfRange,
                        "有效期应晚于生产日期",
                        "expiry must be after the production date",
                    ));
                }
                if row.produced_on > today {
                    errs.push(FieldError::new(
                        "producedOn",
                        Code::OutOfRange,
                        "生产日期不能晚于今天",
                        "production date cannot be in the future",
                    ));
                }
                if let Some(i) = &row.inspection {
                    validate_inspection(&mut errs, i, "inspection");
                }
                errs.finish()?;
                (true, false, row.expires_on)
            }
        };
    // As receive_in checks a receipt.
    let mut errs = Errors::new();
    check_receipt_terms(
        &mut errs,
        row.quantity,
        row.unit_cost_fen,
        &row.supplier,
        &row.source_document,
    );
    errs.finish()?;
    if recalled {
        return Err(Error::invalid(
            "lotId",
            Code::LotRecalled,
            "该批次已被召回，不能入库",
            "this lot is recalled and cannot be received",
        ));
    }
    if today >= expires_on {
        return Err(Error::invalid(
            "lotId",
            Code::LotNotSellable,
            "该批次已过期，不能入库",
            "this lot has expired and cannot be received",
        ));
    }
    Ok(created)
}

impl From<CsvRow> for LotReceipt {
    fn from(r: CsvRow) -> Self {
        LotReceipt {
            sku_id: r.sku_id,
            lot_no: r.lot_no,
            produced_on: r.produced_on,
            expires_on: r.expires_on,
            inspection: r.inspection,
            quantity: r.quantity,
            unit_cost_fen: r.unit_cost_fen,
            supplier: r.supplier,
            source_document: r.source_document,
        }
    }
}

/// One lot received from a supplier, the lot named by its pack and lot number: a lot already
/// recorded is received again (its dates must agree), a new one is created first.
#[derive(Clone, Debug)]
pub struct LotReceipt {
    pub sku_id: i64,
    pub lot_no: String,
    pub produced_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub inspection: Option<InspectionInput>,
    pub quantity: i64,
    pub unit_cost_fen: i64,
    pub supplier: Supplier,
    pub source_document: String,
}

/// Receives one lot into the dealer's store (the receiving form): the lot is created when it is
/// new, then received, in one transaction. Returns the receipt and whether the lot was new.
pub async fn receive_lot<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    input: LotReceipt,
) -> Result<(stock_receipt::Model, bool, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, dealer_id))?;
    regions::dealer(db, dealer_id).await?;
    let txn = crate::begin_write(db).await?;
    let (r, ev, created) = receive_lot_in(&txn, actor, dealer_id, input).await?;
    txn.commit().await?;
    Ok((r, created, ev))
}

async fn receive_lot_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    row: LotReceipt,
) -> Result<(stock_receipt::Model, Vec<DomainEvent>, bool)> {
    let existing = lot::Entity::find()
        .filter(lot::Column::SkuId.eq(row.sku_id))
        .filter(lot::Column::LotNo.eq(row.lot_no.trim()))
        .one(db)
        .await?;
    let (lot_id, created) = match existing {
        Some(l) if l.produced_on != row.produced_on || l.expires_on != row.expires_on => {
            return Err(Error::invalid(
                "expires_on",
                Code::CodeMismatch,
                format!(
                    "批号 {} 已登记，但生产日期或有效期不同（{} / {}）",
                    l.lot_no, l.produced_on, l.expires_on
                ),
                format!(
                    "lot {} exists with other dates ({} / {})",
                    l.lot_no, l.produced_on, l.expires_on
                ),
            ));
        }
        Some(l) => (l.id, false),
        None => {
            let input = LotInput {
                sku_id: row.sku_id,
                lot_no: row.lot_no.clone(),
                producer_id: None,
                produced_on: row.produced_on,
                expires_on: row.expires_on,
                gtin: None,
                inspection: row.inspection.clone(),
                unit_codes: vec![],
            };
            (insert_lot(db, actor, input).await?.id, true)
        }
    };
    let (r, ev) = receive_in(
        db,
        actor,
        ReceiptInput {
            dealer_id,
            location_id: None,
            lot_id,
            quantity: row.quantity,
            unit_cost_fen: row.unit_cost_fen,
            supplier: row.supplier,
            source_document: row.source_document,
            received_at: None,
        },
    )
    .await?;
    Ok((r, ev, created))
}

/// Maps a domain field to the CSV column that carries it.
fn csv_column_for(field: &str) -> Option<&'static str> {
    Some(match field {
        "lotNo" => "lot_no",
        "producedOn" => "produced_on",
        "expiresOn" | "expires_on" => "expires_on",
        "quantity" => "quantity",
        "unitCostFen" => "unit_cost",
        "supplier.name" => "supplier_name",
        "supplier.licenceNo" => "supplier_licence_no",
        "supplier.contact" => "supplier_contact",
        "sourceDocument" => "source_document",
        "lotId" | "skuId" | "gtin" => "sku",
        f if f.starts_with("inspection.result") => "inspection_result",
        f if f.starts_with("inspection.date") => "inspection_date",
        f if f.starts_with("inspection.reportNo") => "inspection_report_no",
        f if f.starts_with("inspection.lab") => "inspection_lab",
        _ => return None,
    })
}

// ---------------------------------------------------------------- adjustments, transfers, returns, destruction

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustReason {
    CountCorrection,
    Damage,
    Other,
}

/// A stock correction: `delta` units of a lot at a location (negative removes).
#[derive(Clone, Debug)]
pub struct Adjustment {
    pub dealer_id: i64,
    pub location_id: i64,
    pub lot_id: i64,
    pub delta: i64,
    pub reason: AdjustReason,
    pub note: String,
}

/// Corrects stock after a count, or writes off damaged goods, with a reason.
pub async fn adjust<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    adj: Adjustment,
) -> Result<Vec<DomainEvent>> {
    let Adjustment {
        dealer_id,
        location_id,
        lot_id,
        delta,
        reason,
        note,
    } = adj;
    let note = note.as_str();
    actor.require(may_operate(actor, dealer_id))?;
    let mut errs = Errors::new();
    if delta == 0 || delta.abs() > MAX_QTY {
        errs.push(FieldError::new(
            "delta",
            Code::OutOfRange,
            "调整数量不能为 0，且绝对值不超过 1000000",
            "the change cannot be 0 or exceed 1,000,000",
        ));
    }
    if reason == AdjustReason::Damage && delta > 0 {
        errs.push(FieldError::new(
            "delta",
            Code::OutOfRange,
            "损坏只能减少库存",
            "damage can only reduce stock",
        ));
    }
    let note = errs.take(types::name("note", note, 500));
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    check_dealer_location(&txn, dealer_id, location_id, "locationId").await?;
    trace::lock_lot(&txn, lot_id).await?;
    if delta > 0 {
        add_stock(&txn, location_id, lot_id, dealer_id, delta).await?;
    } else {
        take_exact(&txn, dealer_id, location_id, lot_id, -delta, "delta").await?;
    }
    let disposition = if reason == AdjustReason::Damage {
        Disposition::Damaged
    } else {
        Disposition::SellableAccessible
    };
    let mut e = NewEvent::new(
        lot_id,
        BizStep::StockTaking,
        disposition,
        delta,
        Some(actor.user_id),
    );
    e.location_id = Some(location_id);
    e.dealer_id = Some(dealer_id);
    e.note = format!(
        "{}: {}",
        match reason {
            AdjustReason::CountCorrection => "count",
            AdjustReason::Damage => "damage",
            AdjustReason::Other => "other",
        },
        note.unwrap_or_default()
    );
    trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok(vec![DomainEvent::StockChanged {
        dealer_id,
        lot_id,
        location_id,
    }])
}

/// Ships stock to another location of the dealer (a village station it serves): the stock
/// leaves the origin at once and is in transit until received.
pub async fn transfer_ship<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    lot_id: i64,
    from: i64,
    to: i64,
    quantity: i64,
) -> Result<(transfer::Model, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, dealer_id))?;
    qty("quantity", quantity).map_err(|e| Error::Invalid(vec![e]))?;
    if from == to {
        return Err(Error::invalid(
            "toLocationId",
            Code::OutOfRange,
            "调出和调入地点不能相同",
            "origin and destination must differ",
        ));
    }
    let txn = crate::begin_write(db).await?;
    check_dealer_location(&txn, dealer_id, from, "fromLocationId").await?;
    check_dealer_location(&txn, dealer_id, to, "toLocationId").await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    if l.status == "RECALLED" {
        return Err(Error::invalid(
            "lotId",
            Code::LotRecalled,
            "该批次已被召回，不能调拨",
            "this lot is recalled and cannot be moved",
        ));
    }
    take_exact(&txn, dealer_id, from, lot_id, quantity, "quantity").await?;
    let t = transfer::ActiveModel {
        dealer_id: Set(dealer_id),
        lot_id: Set(lot_id),
        from_location_id: Set(from),
        to_location_id: Set(to),
        quantity: Set(quantity),
        status: Set("IN_TRANSIT".into()),
        shipped_by: Set(actor.user_id),
        shipped_at: Set(crate::now()),
        received_by: Set(None),
        received_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Shipping,
        Disposition::InTransit,
        quantity,
        Some(actor.user_id),
    );
    e.from_location_id = Some(from);
    e.to_location_id = Some(to);
    e.dealer_id = Some(dealer_id);
    e.ref_kind = Some("TRANSFER");
    e.ref_id = Some(t.id);
    trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok((
        t,
        vec![DomainEvent::StockChanged {
            dealer_id,
            lot_id,
            location_id: from,
        }],
    ))
}

/// Receives a shipped transfer at its destination.
pub async fn transfer_receive<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    transfer_id: i64,
) -> Result<(transfer::Model, Vec<DomainEvent>)> {
    let txn = crate::begin_write(db).await?;
    let t = transfer::Entity::find_by_id(transfer_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("transfer", transfer_id))?;
    actor.require(may_operate(actor, t.dealer_id))?;
    trace::lock_lot(&txn, t.lot_id).await?;
    // Conditional on the status, so a transfer is received once even if two clerks press at once.
    let done = transfer::Entity::update_many()
        .col_expr(transfer::Column::Status, Expr::value("RECEIVED"))
        .col_expr(transfer::Column::ReceivedBy, Expr::value(actor.user_id))
        .col_expr(transfer::Column::ReceivedAt, Expr::value(crate::now()))
        .filter(transfer::Column::Id.eq(transfer_id))
        .filter(transfer::Column::Status.eq("IN_TRANSIT"))
        .exec(&txn)
        .await?
        .rows_affected;
    if done == 0 {
        return Err(Error::invalid(
            "transferId",
            Code::InvalidTransition,
            "该调拨已经收货",
            "this transfer was already received",
        ));
    }
    add_stock(&txn, t.to_location_id, t.lot_id, t.dealer_id, t.quantity).await?;
    let mut e = NewEvent::new(
        t.lot_id,
        BizStep::Receiving,
        Disposition::SellableAccessible,
        t.quantity,
        Some(actor.user_id),
    );
    e.from_location_id = Some(t.from_location_id);
    e.to_location_id = Some(t.to_location_id);
    e.dealer_id = Some(t.dealer_id);
    e.ref_kind = Some("TRANSFER");
    e.ref_id = Some(t.id);
    trace::append(&txn, e).await?;
    let t = transfer::Entity::find_by_id(transfer_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("transfer", transfer_id))?;
    txn.commit().await?;
    Ok((
        t.clone(),
        vec![DomainEvent::StockChanged {
            dealer_id: t.dealer_id,
            lot_id: t.lot_id,
            location_id: t.to_location_id,
        }],
    ))
}

pub async fn transfers_of(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    only_in_transit: bool,
) -> Result<Vec<transfer::Model>> {
    let mut q = transfer::Entity::find()
        .filter(transfer::Column::DealerId.eq(dealer_id))
        .order_by_desc(transfer::Column::Id);
    if only_in_transit {
        q = q.filter(transfer::Column::Status.eq("IN_TRANSIT"));
    }
    Ok(q.all(db).await?)
}

/// A buyer brings back units of a lot the dealer sold: they return to stock, a returning event
/// and a negative sales-ledger line are written.
pub async fn return_from_buyer<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    sale_id: i64,
    lot_id: i64,
    quantity: i64,
    reason: &str,
) -> Result<Vec<DomainEvent>> {
    let mut errs = Errors::new();
    errs.take(qty("quantity", quantity));
    let reason = errs.take(types::name("reason", reason, 500));
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    let s = sale::Entity::find_by_id(sale_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("sale", sale_id))?;
    actor.require(may_operate(actor, s.dealer_id))?;
    trace::lock_lot(&txn, lot_id).await?;
    let sold: i64 = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(sale_id))
        .filter(sale_line::Column::LotId.eq(lot_id))
        .all(&txn)
        .await?
        .iter()
        .map(|l| l.quantity)
        .sum();
    let returned: i64 = trace_event::Entity::find()
        .filter(trace_event::Column::LotId.eq(lot_id))
        .filter(trace_event::Column::Disposition.eq(Disposition::Returned.as_str()))
        .filter(trace_event::Column::RefKind.eq("SALE"))
        .filter(trace_event::Column::RefId.eq(sale_id))
        .all(&txn)
        .await?
        .iter()
        .map(|e| e.quantity)
        .sum();
    if quantity > sold - returned {
        return Err(Error::invalid(
            "quantity",
            Code::OutOfRange,
            format!("该销售只有 {} 件可退", sold - returned),
            format!(
                "only {} units of this sale can be returned",
                sold - returned
            ),
        ));
    }
    let line_price = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(sale_id))
        .filter(sale_line::Column::LotId.eq(lot_id))
        .one(&txn)
        .await?
        .map(|l| l.unit_price_fen)
        .unwrap_or(0);
    add_stock(&txn, s.location_id, lot_id, s.dealer_id, quantity).await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Receiving,
        Disposition::Returned,
        quantity,
        Some(actor.user_id),
    );
    e.to_location_id = Some(s.location_id);
    e.dealer_id = Some(s.dealer_id);
    e.ref_kind = Some("SALE");
    e.ref_id = Some(sale_id);
    e.note = reason.clone().unwrap_or_default();
    let ev = trace::append(&txn, e).await?;
    let c = lot_context(&txn, lot_id).await?;
    let party = Counterparty {
        name: s.buyer_name.clone().unwrap_or_default(),
        licence: String::new(),
        contact: s.buyer_phone.clone().unwrap_or_default(),
        id_number: s.buyer_id_number.clone().unwrap_or_default(),
    };
    ledger::write(
        &txn,
        s.dealer_id,
        ledger::Kind::Sale,
        Some(ev.id),
        crate::now(),
        &snapshot(&txn, &c).await?,
        -quantity,
        Fen(line_price),
        &party,
        &format!("SALE-{sale_id}"),
        &format!("退货 return: {}", reason.unwrap_or_default()),
    )
    .await?;
    txn.commit().await?;
    Ok(vec![DomainEvent::StockChanged {
        dealer_id: s.dealer_id,
        lot_id,
        location_id: s.location_id,
    }])
}

/// Destroys or writes off stock (expired, recalled or spoiled goods), with a reason.
pub async fn destroy<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    location_id: i64,
    lot_id: i64,
    quantity: i64,
    reason: &str,
) -> Result<Vec<DomainEvent>> {
    actor.require(may_operate(actor, dealer_id))?;
    let mut errs = Errors::new();
    errs.take(qty("quantity", quantity));
    let reason = errs.take(types::name("reason", reason, 500));
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    check_dealer_location(&txn, dealer_id, location_id, "locationId").await?;
    trace::lock_lot(&txn, lot_id).await?;
    take_exact(&txn, dealer_id, location_id, lot_id, quantity, "quantity").await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Destroying,
        Disposition::Destroyed,
        quantity,
        Some(actor.user_id),
    );
    e.location_id = Some(location_id);
    e.dealer_id = Some(dealer_id);
    e.note = reason.unwrap_or_default();
    trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok(vec![DomainEvent::StockChanged {
        dealer_id,
        lot_id,
        location_id,
    }])
}

/// Declares an earlier event wrong (an EPCIS error declaration): a new event pointing at it.
/// Stock is corrected separately, by an adjustment.
pub async fn declare_error<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    event_id: i64,
    reason: &str,
) -> Result<trace_event::Model> {
    let reason = types::name("reason", reason, 500).map_err(|e| Error::Invalid(vec![e]))?;
    let txn = crate::begin_write(db).await?;
    let orig = trace_event::Entity::find_by_id(event_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("trace event", event_id))?;
    actor.require(
        is_regulator_or_admin(actor) || orig.dealer_id.is_some_and(|d| actor.works_for(d)),
    )?;
    trace::lock_lot(&txn, orig.lot_id).await?;
    let mut e = NewEvent::new(
        orig.lot_id,
        BizStep::Correcting,
        Disposition::NonSellableOther,
        0,
        Some(actor.user_id),
    );
    e.corrects_event_id = Some(orig.id);
    e.dealer_id = orig.dealer_id;
    e.note = reason;
    let ev = trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok(ev)
}

// ---------------------------------------------------------------- allocation and sales

/// A part of a line taken from one stock row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub stock_id: i64,
    pub location_id: i64,
    pub lot_id: i64,
    pub quantity: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocMode {
    /// Take from on hand (a counter sale).
    Take,
    /// Reserve (an order, handed over later).
    Reserve,
}

/// Allocates `quantity` units of a SKU from a dealer's sellable lots at the given locations,
/// earliest expiry first, never from an expired, recalled or held lot; all or nothing. Returns
/// the allocations or the quantity that was available.
pub async fn allocate_fefo(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_ids: &[i64],
    sku_id: i64,
    quantity: i64,
    mode: AllocMode,
) -> Result<std::result::Result<Vec<Allocation>, i64>> {
    let today = crate::today();
    let lots: BTreeMap<i64, lot::Model> = lot::Entity::find()
        .filter(lot::Column::SkuId.eq(sku_id))
        .filter(lot::Column::Status.eq("ACTIVE"))
        .filter(lot::Column::ExpiresOn.gt(today))
        .all(db)
        .await?
        .into_iter()
        .filter(|l| trace::sellable(l, today))
        .map(|l| (l.id, l))
        .collect();
    let mut rows = stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::LocationId.is_in(location_ids.iter().copied()))
        .filter(stock::Column::LotId.is_in(lots.keys().copied()))
        .all(db)
        .await?;
    // Earliest expiry first; ties by lot, then by row, so every allocator takes rows in the same
    // order (no deadlock between two orders).
    rows.sort_by_key(|r| (lots[&r.lot_id].expires_on, r.lot_id, r.location_id, r.id));
    let mut remaining = quantity;
    let mut out = Vec::new();
    for r in rows {
        if remaining == 0 {
            break;
        }
        let mut avail = r.on_hand - r.reserved;
        // Retry with a fresh reading if another transaction changed the row meanwhile.
        for _ in 0..3 {
            let n = std::cmp::min(avail, remaining);
            if n <= 0 {
                break;
            }
            let ok = match mode {
                AllocMode::Take => take_stock(db, r.id, n).await?,
                AllocMode::Reserve => reserve_stock(db, r.id, n).await?,
            };
            if ok {
                remaining -= n;
                out.push(Allocation {
                    stock_id: r.id,
                    location_id: r.location_id,
                    lot_id: r.lot_id,
                    quantity: n,
                });
                break;
            }
            avail = stock::Entity::find_by_id(r.id)
                .one(db)
                .await?
                .map(|r| r.on_hand - r.reserved)
                .unwrap_or(0);
        }
    }
    if remaining > 0 {
        // The caller rolls the transaction back; report what was there.
        return Ok(Err(quantity - remaining));
    }
    Ok(Ok(out))
}

#[derive(Clone, Debug, Default)]
pub struct Buyer {
    pub user_id: Option<i64>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub village_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct SaleLineInput {
    pub sku_id: i64,
    pub quantity: i64,
    /// Defaults to the dealer's current offer.
    pub unit_price_fen: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct CounterSaleInput {
    pub dealer_id: i64,
    /// The dealer's store when absent.
    pub location_id: Option<i64>,
    pub lines: Vec<SaleLineInput>,
    pub buyer: Buyer,
    /// Crop and pest/disease the buyer will treat: required for restricted-use pesticides.
    pub crop: Option<String>,
    pub target: Option<String>,
    /// Unit codes scanned at the counter.
    pub unit_codes: Vec<String>,
}

/// The checks a restricted-use pesticide sale needs (RULES.md rules 3, 4 and 8). `field` is the
/// input path of the line.
pub async fn check_restricted(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    p: &product::Model,
    buyer_real_name: bool,
    crop: Option<&str>,
    target: Option<&str>,
    field: &str,
) -> Result<()> {
    let today = crate::today();
    if p.category == "PESTICIDE"
        && !regions::holds_licence(db, dealer_id, LicenceKind::PesticideBusiness, today).await?
    {
        return Err(Error::invalid(
            field,
            Code::LicenceRequired,
            "经销商没有有效的农药经营许可证",
            "the dealer has no valid pesticide business licence",
        ));
    }
    if p.category == "SEED"
        && !regions::holds_licence(db, dealer_id, LicenceKind::SeedBusiness, today).await?
    {
        return Err(Error::invalid(
            field,
            Code::LicenceRequired,
            "经销商没有有效的种子经营许可证",
            "the dealer has no valid seed business licence",
        ));
    }
    if !p.restricted_use {
        return Ok(());
    }
    if !regions::holds_licence(db, dealer_id, LicenceKind::RestrictedPesticide, today).await? {
        return Err(Error::invalid(
            field,
            Code::LicenceRequired,
            "经销商没有限制使用农药经营许可，不能销售该产品",
            "the dealer holds no restricted-use pesticide licence",
        ));
    }
    if !buyer_real_name {
        return Err(Error::invalid(
            "buyer.idNumber",
            Code::RealNameRequired,
            "限制使用农药实行实名购买：请提供购买人姓名、身份证号和手机号",
            "restricted-use pesticides are sold only to real-name buyers: give name, ID number and phone",
        ));
    }
    registered_use(db, p, crop, target).await
}

/// The crop and target must be a registered use of the product.
pub async fn registered_use(
    db: &impl ConnectionTrait,
    p: &product::Model,
    crop: Option<&str>,
    target: Option<&str>,
) -> Result<()> {
    let (Some(crop), Some(target)) = (
        crop.filter(|c| !c.trim().is_empty()),
        target.filter(|t| !t.trim().is_empty()),
    ) else {
        return Err(Error::invalid(
            "crop",
            Code::UnregisteredUse,
            "请填写用药作物和防治对象",
            "give the crop and the pest or disease it is for",
        ));
    };
    let code = crops::resolve(crop).unwrap_or("");
    let t = target.trim().to_lowercase();
    let uses = pesticide_use::Entity::find()
        .filter(pesticide_use::Column::ProductId.eq(p.id))
        .all(db)
        .await?;
    if !uses.iter().any(|u| {
        u.crop == code && (u.target_zh.to_lowercase() == t || u.target_en.to_lowercase() == t)
    }) {
        let registered = uses
            .iter()
            .map(|u| format!("{}/{}", u.crop, u.target_zh))
            .collect::<Vec<_>>()
            .join("、");
        return Err(Error::invalid(
            "target",
            Code::UnregisteredUse,
            format!("{crop}/{target} 不是该产品的登记用途（登记用途：{registered}）"),
            format!(
                "{crop}/{target} is not a registered use of this product (registered: {registered})"
            ),
        ));
    }
    Ok(())
}

/// Whether a buyer's real-name data is complete: an account verified, or name + valid ID + phone.
async fn real_name_ok(db: &impl ConnectionTrait, b: &Buyer) -> Result<(bool, Buyer)> {
    let mut b = b.clone();
    if let Some(u) = b.user_id {
        let user = app_user::Entity::find_by_id(u)
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "buyer.userId",
                    Code::UnknownReference,
                    "购买人账号不存在",
                    "no such buyer account",
                )
            })?;
        b.name = b
            .name
            .or(user.real_name.clone())
            .or(Some(user.display_name.clone()));
        b.phone = b.phone.or(Some(user.phone.clone()));
        b.id_number = b.id_number.or(user.id_number.clone());
        b.village_id = b.village_id.or(user.village_id);
    }
    let mut errs = Errors::new();
    if let Some(p) = &b.phone {
        b.phone = errs
            .take(Phone::parse("buyer.phone", p))
            .map(|p| p.as_str().to_owned());
    }
    if let Some(i) = &b.id_number {
        b.id_number = errs
            .take(IdNumber::parse("buyer.idNumber", i))
            .map(|i| i.as_str().to_owned());
    }
    if let Some(v) = b.village_id
        && region::Entity::find_by_id(v)
            .one(db)
            .await?
            .is_none_or(|r| r.level != "VILLAGE")
    {
        errs.push(FieldError::new(
            "buyer.villageId",
            Code::WrongRegionLevel,
            "不是村级行政区",
            "not a village",
        ));
    }
    errs.finish()?;
    let ok = b.name.as_deref().is_some_and(|n| !n.trim().is_empty())
        && b.id_number.is_some()
        && b.phone.is_some();
    Ok((ok, b))
}

/// Records a walk-in sale: stock is taken from the earliest-expiring sellable lots, and the
/// sale's trace events and sales-ledger lines are written. All or nothing.
pub async fn counter_sale<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: CounterSaleInput,
) -> Result<(sale::Model, Vec<sale_line::Model>, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, input.dealer_id))?;
    flag_resold_codes(db, input.dealer_id, &input.unit_codes).await?;
    if input.lines.is_empty() {
        return Err(Error::invalid(
            "lines",
            Code::Required,
            "至少需要一行商品",
            "at least one line is required",
        ));
    }
    let mut errs = Errors::new();
    for (i, l) in input.lines.iter().enumerate() {
        errs.take(qty(&format!("lines.{i}.quantity"), l.quantity));
        if let Some(p) = l.unit_price_fen
            && let Err(e) = Fen::parse_positive(&format!("lines.{i}.unitPriceFen"), p)
        {
            errs.push(e);
        }
    }
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    regions::dealer(&txn, input.dealer_id).await?;
    let location = match input.location_id {
        Some(l) => check_dealer_location(&txn, input.dealer_id, l, "locationId").await?,
        None => store_location(&txn, input.dealer_id).await?,
    };
    let (real_name, buyer) = real_name_ok(&txn, &input.buyer).await?;
    let now = crate::now();
    // Price and check every line before touching stock.
    let mut priced = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let field = format!("lines.{i}.skuId");
        let s = sku::Entity::find_by_id(l.sku_id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    field.clone(),
                    Code::UnknownReference,
                    "规格不存在",
                    "no such pack size",
                )
            })?;
        let p = product::Entity::find_by_id(s.product_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::not_found("product", s.product_id))?;
        check_restricted(
            &txn,
            input.dealer_id,
            &p,
            real_name,
            input.crop.as_deref(),
            input.target.as_deref(),
            &field,
        )
        .await?;
        let price = match l.unit_price_fen {
            Some(p) => p,
            None => offer::Entity::find()
                .filter(offer::Column::DealerId.eq(input.dealer_id))
                .filter(offer::Column::SkuId.eq(l.sku_id))
                .filter(offer::Column::Active.eq(true))
                .one(&txn)
                .await?
                .map(|o| o.price_fen)
                .ok_or_else(|| {
                    Error::invalid(
                        format!("lines.{i}.unitPriceFen"),
                        Code::Required,
                        "该商品没有报价，请填写单价",
                        "no offer for this pack: give the unit price",
                    )
                })?,
        };
        priced.push((i, s, price));
    }
    let sale = sale::ActiveModel {
        dealer_id: Set(input.dealer_id),
        location_id: Set(location.id),
        channel: Set("COUNTER".into()),
        order_id: Set(None),
        buyer_user_id: Set(buyer.user_id),
        buyer_name: Set(buyer.name.clone().filter(|n| !n.trim().is_empty())),
        buyer_phone: Set(buyer.phone.clone()),
        buyer_id_number: Set(buyer.id_number.clone()),
        buyer_village_id: Set(buyer.village_id),
        crop: Set(input
            .crop
            .as_deref()
            .map(|c| crops::resolve(c).unwrap_or(c).to_owned())),
        target: Set(input.target.clone()),
        total_fen: Set(priced
            .iter()
            .zip(&input.lines)
            .map(|((_, _, p), l)| p * l.quantity)
            .sum()),
        actor_id: Set(actor.user_id),
        sold_at: Set(trace::micros(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // Take stock pack by pack in one global order (as checkout does), whatever the order of
    // the lines, so two sales of [A, B] and [B, A] cannot deadlock.
    priced.sort_by_key(|(i, s, _)| (s.id, *i));
    let mut allocations = Vec::new();
    for (i, s, price) in &priced {
        let q = input.lines[*i].quantity;
        match allocate_fefo(
            &txn,
            input.dealer_id,
            &[location.id],
            s.id,
            q,
            AllocMode::Take,
        )
        .await?
        {
            Ok(a) => allocations.extend(a.into_iter().map(|a| (s.clone(), *price, a))),
            Err(available) => {
                return Err(insufficient(&format!("lines.{i}.quantity"), available, q));
            }
        }
    }
    let (lines, events) =
        write_sale(&txn, actor, &sale, &buyer, &allocations, &input.unit_codes).await?;
    txn.commit().await?;
    Ok((sale, lines, events))
}

/// A sold code scanned again is flagged (a sign of counterfeits) and the sale refused. The flag
/// is written before the sale's transaction, so the refusal does not roll it back.
pub(crate) async fn flag_resold_codes(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    codes: &[String],
) -> Result<()> {
    for (i, c) in codes.iter().enumerate() {
        let Some(u) = unit_code::Entity::find()
            .filter(unit_code::Column::Code.eq(c.trim()))
            .one(db)
            .await?
        else {
            continue;
        };
        if u.status == "SOLD" {
            unit_code::Entity::update_many()
                .col_expr(unit_code::Column::FlaggedAt, Expr::value(crate::now()))
                .col_expr(
                    unit_code::Column::FlagReason,
                    Expr::value(format!(
                        "售出（销售单 {sale}）后在经销商 {dealer_id} 处再次扫到 / scanned again at dealer {dealer_id} after sale {sale}",
                        sale = u.sale_id.unwrap_or(0)
                    )),
                )
                .filter(unit_code::Column::Id.eq(u.id))
                .exec(db)
                .await?;
            return Err(Error::invalid(
                format!("unitCodes.{i}"),
                Code::CodeAlreadySold,
                "该追溯码已售出，再次出现已被标记，请核查是否为假冒产品",
                "this code was already sold; it has been flagged: check for counterfeits",
            ));
        }
    }
    Ok(())
}

/// Writes what a sale leaves behind, per lot: sale lines, retail-selling trace events,
/// sales-ledger lines, and marks scanned unit codes sold. Shared by counter sales and order
/// hand-overs.
pub async fn write_sale(
    db: &impl ConnectionTrait,
    actor: &Actor,
    sale: &sale::Model,
    buyer: &Buyer,
    allocations: &[(sku::Model, i64, Allocation)],
    unit_codes: &[String],
) -> Result<(Vec<sale_line::Model>, Vec<DomainEvent>)> {
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut by_lot: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    // Scanned codes must belong to a lot being sold, and not be sold already.
    for (i, c) in unit_codes.iter().enumerate() {
        let field = format!("unitCodes.{i}");
        let u = unit_code::Entity::find()
            .filter(unit_code::Column::Code.eq(c.trim()))
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    field.clone(),
                    Code::UnknownReference,
                    "追溯码未登记",
                    "this code is not registered",
                )
            })?;
        if u.status == "SOLD" {
            // Flag it outside the sale's fate: the sale fails, the flag must stay.
            unit_code::Entity::update_many()
                .col_expr(unit_code::Column::FlaggedAt, Expr::value(crate::now()))
                .col_expr(
                    unit_code::Column::FlagReason,
                    Expr::value(format!(
                        "售出（销售单 {sold}）后在经销商 {dealer} 处再次扫到 / scanned again at dealer {dealer} after sale {sold}",
                        dealer = sale.dealer_id,
                        sold = u.sale_id.unwrap_or(0)
                    )),
                )
                .filter(unit_code::Column::Id.eq(u.id))
                .exec(db)
                .await?;
            return Err(Error::invalid(
                field,
                Code::CodeAlreadySold,
                "该追溯码已售出，再次出现已被标记，请核查是否为假冒产品",
                "this code was already sold; it has been flagged: check for counterfeits",
            ));
        }
        if !allocations.iter().any(|(_, _, a)| a.lot_id == u.lot_id) {
            return Err(Error::invalid(
                field,
                Code::CodeMismatch,
                "追溯码不属于本次销售的批次",
                "this code belongs to a lot not being sold",
            ));
        }
        by_lot.entry(u.lot_id).or_default().push(u.code.clone());
        // Only if it is still unsold: a sale of the same code at another dealer may have
        // committed since it was read (on PostgreSQL this waits for that sale's row lock, then
        // sees it sold and changes nothing).
        let marked = unit_code::Entity::update_many()
            .col_expr(unit_code::Column::Status, Expr::value("SOLD"))
            .col_expr(unit_code::Column::SaleId, Expr::value(sale.id))
            .filter(unit_code::Column::Id.eq(u.id))
            .filter(unit_code::Column::Status.ne("SOLD"))
            .exec(db)
            .await?;
        if marked.rows_affected != 1 {
            return Err(Error::invalid(
                field,
                Code::CodeAlreadySold,
                "该追溯码刚在别处售出，请核查是否为假冒产品",
                "this code was sold elsewhere a moment ago: check for counterfeits",
            ));
        }
    }
    let party = Counterparty {
        name: buyer.name.clone().unwrap_or_else(|| "散户 walk-in".into()),
        licence: String::new(),
        contact: buyer.phone.clone().unwrap_or_default(),
        id_number: buyer.id_number.clone().unwrap_or_default(),
    };
    for (s, price, a) in allocations {
        trace::lock_lot(db, a.lot_id).await?;
        let line = sale_line::ActiveModel {
            sale_id: Set(sale.id),
            sku_id: Set(s.id),
            lot_id: Set(a.lot_id),
            quantity: Set(a.quantity),
            unit_price_fen: Set(*price),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let mut e = NewEvent::new(
            a.lot_id,
            BizStep::RetailSelling,
            Disposition::RetailSold,
            a.quantity,
            Some(actor.user_id),
        );
        e.location_id = Some(a.location_id);
        e.dealer_id = Some(sale.dealer_id);
        e.occurred_at = sale.sold_at;
        e.ref_kind = Some("SALE");
        e.ref_id = Some(sale.id);
        e.unit_codes = by_lot.remove(&a.lot_id);
        let ev = trace::append(db, e).await?;
        let c = lot_context(db, a.lot_id).await?;
        let note = match (&sale.crop, &sale.target) {
            (Some(c), Some(t)) => format!("{c}/{t}"),
            _ => String::new(),
        };
        let doc = match sale.order_id {
            Some(o) => format!("ORDER-{o}"),
            None => format!("SALE-{}", sale.id),
        };
        ledger::write(
            db,
            sale.dealer_id,
            ledger::Kind::Sale,
            Some(ev.id),
            sale.sold_at,
            &snapshot(db, &c).await?,
            a.quantity,
            Fen(*price),
            &party,
            &doc,
            &note,
        )
        .await?;
        events.push(DomainEvent::StockChanged {
            dealer_id: sale.dealer_id,
            lot_id: a.lot_id,
            location_id: a.location_id,
        });
        lines.push(line);
    }
    Ok((lines, events))
}

// ---------------------------------------------------------------- dealer views

/// A stock row with what a dealer needs to read it.
#[derive(Clone, Debug)]
pub struct StockView {
    pub stock: stock::Model,
    pub lot: lot::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    pub location: location::Model,
    /// SELLABLE, EXPIRED, ON_HOLD or RECALLED.
    pub disposition: &'static str,
    pub days_to_expiry: i64,
}

impl StockView {
    pub fn available(&self) -> i64 {
        self.stock.on_hand - self.stock.reserved
    }
}

/// A dealer's stock by product and lot (rows with something on hand), earliest expiry first.
pub async fn stock_of_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    product_id: Option<i64>,
) -> Result<Vec<StockView>> {
    actor.require(may_view_dealer(db, actor, dealer_id).await?)?;
    let rows = stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::OnHand.gt(0))
        .all(db)
        .await?;
    let lot_ids: Vec<i64> = rows.iter().map(|r| r.lot_id).collect();
    let lots: BTreeMap<i64, lot::Model> = lots_by_ids(db, &lot_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let sku_ids: BTreeSet<i64> = lots.values().map(|l| l.sku_id).collect();
    let skus = crate::rows_by_id!(db, sku, sku_ids);
    let product_ids: BTreeSet<i64> = skus.values().map(|s| s.product_id).collect();
    let products = crate::rows_by_id!(db, product, product_ids);
    let loc_ids: BTreeSet<i64> = rows.iter().map(|r| r.location_id).collect();
    let locations = crate::rows_by_id!(db, location, loc_ids);
    let today = crate::today();
    let mut out: Vec<StockView> = rows
        .into_iter()
        .filter_map(|r| {
            let l = lots.get(&r.lot_id)?.clone();
            let s = skus.get(&l.sku_id)?.clone();
            let p = products.get(&s.product_id)?.clone();
            let loc = locations.get(&r.location_id)?.clone();
            Some(StockView {
                disposition: trace::disposition_of(&l, today),
                days_to_expiry: (l.expires_on - today).num_days(),
                stock: r,
                lot: l,
                sku: s,
                product: p,
                location: loc,
            })
        })
        .filter(|v| product_id.is_none_or(|p| v.product.id == p))
        .collect();
    out.sort_by_key(|v| (v.product.id, v.lot.expires_on, v.lot.id, v.location.id));
    Ok(out)
}

/// Stock that expires within `days` (or has already), soonest first.
pub async fn near_expiry(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    days: i64,
) -> Result<Vec<StockView>> {
    let mut rows: Vec<StockView> = stock_of_dealer(db, actor, dealer_id, None)
        .await?
        .into_iter()
        .filter(|v| v.days_to_expiry <= days)
        .collect();
    rows.sort_by_key(|v| (v.lot.expires_on, v.lot.id));
    Ok(rows)
}

/// A pack size the dealer offers whose sellable, unreserved stock is below a threshold.
#[derive(Clone, Debug)]
pub struct LowStock {
    pub sku: sku::Model,
    pub product: product::Model,
    pub available: i64,
    pub threshold: i64,
}

pub async fn low_stock(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    threshold: i64,
) -> Result<Vec<LowStock>> {
    actor.require(may_view_dealer(db, actor, dealer_id).await?)?;
    let offers = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(dealer_id))
        .filter(offer::Column::Active.eq(true))
        .all(db)
        .await?;
    let views = stock_of_dealer(db, actor, dealer_id, None).await?;
    let mut by_sku: BTreeMap<i64, i64> = BTreeMap::new();
    for v in &views {
        if v.disposition == "SELLABLE" {
            *by_sku.entry(v.sku.id).or_default() += v.available();
        }
    }
    let skus = crate::rows_by_id!(db, sku, offers.iter().map(|o| o.sku_id));
    let products = crate::rows_by_id!(db, product, skus.values().map(|s| s.product_id));
    let mut out: Vec<LowStock> = offers
        .iter()
        .filter_map(|o| {
            let available = by_sku.get(&o.sku_id).copied().unwrap_or(0);
            let s = skus.get(&o.sku_id)?;
            if available < threshold {
                Some(LowStock {
                    sku: s.clone(),
                    product: products.get(&s.product_id)?.clone(),
                    available,
                    threshold,
                })
            } else {
                None
            }
        })
        .collect();
    out.sort_by_key(|l| (l.available, l.sku.id));
    Ok(out)
}

/// Sales of a dealer, newest first.
pub async fn sales_of(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    limit: u64,
) -> Result<Vec<sale::Model>> {
    use sea_orm::QuerySelect;
    Ok(sale::Entity::find()
        .filter(sale::Column::DealerId.eq(dealer_id))
        .order_by_desc(sale::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn sale_lines_of(
    db: &impl ConnectionTrait,
    sale_id: i64,
) -> Result<Vec<sale_line::Model>> {
    Ok(sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(sale_id))
        .order_by_asc(sale_line::Column::Id)
        .all(db)
        .await?)
}

pub async fn locations_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<location::Model>> {
    Ok(location::Entity::find()
        .filter(location::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Once a day (whichever node gets there first), NEAR_EXPIRY alerts for every dealer's stock
/// that expires within `days`. The day's marker row is the lock: a second node finds it and
/// does nothing.
pub async fn near_expiry_alerts_once_a_day<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    days: i64,
) -> Result<Vec<DomainEvent>> {
    use crate::entities::app_setting;
    let today = crate::today();
    let key = format!("near_expiry_alerts:{today}");
    let claimed = app_setting::ActiveModel {
        key: Set(key),
        value: Set(crate::now().to_rfc3339()),
    }
    .insert(db)
    .await;
    match claimed {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(vec![]);
        }
        Err(e) => return Err(e.into()),
    }
    let rows = stock::Entity::find()
        .filter(stock::Column::OnHand.gt(0))
        .all(db)
        .await?;
    let lots: BTreeMap<i64, lot::Model> =
        lots_by_ids(db, &rows.iter().map(|r| r.lot_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in rows {
        let Some(l) = lots.get(&r.lot_id) else {
            continue;
        };
        let left = (l.expires_on - today).num_days();
        if l.status != "ACTIVE" || !(0..=days).contains(&left) || !seen.insert((r.dealer_id, l.id))
        {
            continue;
        }
        out.push(DomainEvent::StockAlert {
            dealer_id: r.dealer_id,
            kind: "NEAR_EXPIRY".into(),
            sku_id: Some(l.sku_id),
            lot_id: Some(l.id),
            available: Some(r.on_hand - r.reserved),
            message_zh: format!(
                "批次 {} 将于 {} 到期（还剩 {left} 天）",
                l.lot_no, l.expires_on
            ),
            message_en: format!(
                "lot {} expires on {} ({left} days left)",
                l.lot_no, l.expires_on
            ),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- the till, receipts, labels

/// A pack as the till shows it: what is sellable of it in the dealer's store and its price.
#[derive(Clone, Debug)]
pub struct TillItem {
    pub sku: sku::Model,
    pub product: product::Model,
    /// Sellable units in the dealer's store (all lots).
    pub available: i64,
    /// The dealer's active offer, if any.
    pub price_fen: Option<i64>,
    /// The lot the scanned code named.
    pub lot: Option<lot::Model>,
    /// The unit code scanned, when the code was one unit's.
    pub unit_code: Option<String>,
}

async fn till_items(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<TillItem>> {
    let rows = stock_of_dealer(db, actor, dealer_id, None).await?;
    let store = store_location(db, dealer_id).await?;
    let offers: BTreeMap<i64, i64> = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(dealer_id))
        .filter(offer::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.sku_id, o.price_fen))
        .collect();
    let mut by_sku: BTreeMap<i64, TillItem> = BTreeMap::new();
    for r in rows {
        let sellable = r.disposition == "SELLABLE" && r.location.id == store.id;
        let e = by_sku.entry(r.sku.id).or_insert_with(|| TillItem {
            price_fen: offers.get(&r.sku.id).copied(),
            sku: r.sku.clone(),
            product: r.product.clone(),
            available: 0,
            lot: None,
            unit_code: None,
        });
        if sellable {
            e.available += r.stock.on_hand - r.stock.reserved;
        }
    }
    Ok(by_sku.into_values().collect())
}

/// The packs of the dealer's own stock or offers whose product name, registration number or
/// barcode matches `q` (what the till's search finds), sellable first.
pub async fn till_search(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    q: &str,
) -> Result<Vec<TillItem>> {
    actor.require(may_operate(actor, dealer_id))?;
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return Ok(vec![]);
    }
    let mut items: Vec<TillItem> = till_items(db, actor, dealer_id)
        .await?
        .into_iter()
        .filter(|i| {
            i.product.name_zh.to_lowercase().contains(&q)
                || i.product.name_en.to_lowercase().contains(&q)
                || i.product
                    .registration_no
                    .as_deref()
                    .is_some_and(|r| r.to_lowercase().contains(&q))
                || i.sku.gtin.as_deref() == Some(q.as_str())
        })
        .collect();
    items.sort_by_key(|i| (i.available == 0, i.product.name_zh.clone(), i.sku.id));
    items.truncate(20);
    Ok(items)
}

/// The pack a scanned code names at the till: a lot's trace code, a unit code, GS1 data
/// (GTIN + lot, or a bare GTIN) or a pack barcode. `None` when the code names nothing this
/// dealer holds.
pub async fn till_code(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    code: &str,
) -> Result<Option<TillItem>> {
    actor.require(may_operate(actor, dealer_id))?;
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let (sku_id, lot, unit) = match trace::resolve_code(db, code).await? {
        Some((l, u)) => (l.sku_id, Some(l), u.map(|u| u.code)),
        None => {
            let gtin = crate::gs1::parse(code)
                .ok()
                .and_then(|g| g.gtin)
                .or_else(|| {
                    Gtin::parse("code", code)
                        .ok()
                        .map(|g| g.as_str().to_owned())
                });
            match gtin {
                Some(g) => match crate::catalog::pack_by_gtin(db, &g).await? {
                    Some(s) => (s.id, None, None),
                    None => return Ok(None),
                },
                None => return Ok(None),
            }
        }
    };
    let Some(mut item) = till_items(db, actor, dealer_id)
        .await?
        .into_iter()
        .find(|i| i.sku.id == sku_id)
    else {
        return Ok(None);
    };
    item.lot = lot;
    item.unit_code = unit;
    Ok(Some(item))
}

/// A pack of the dealer's store by its id (the till's draft sale names packs by id).
pub async fn till_item(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    sku_id: i64,
) -> Result<Option<TillItem>> {
    actor.require(may_operate(actor, dealer_id))?;
    Ok(till_items(db, actor, dealer_id)
        .await?
        .into_iter()
        .find(|i| i.sku.id == sku_id))
}

/// A sale line as its receipt shows it.
#[derive(Clone, Debug)]
pub struct ReceiptLine {
    pub line: sale_line::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    pub lot: lot::Model,
    /// Unit codes of this lot handed over in the sale.
    pub unit_codes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct SaleReceipt {
    pub sale: sale::Model,
    pub dealer: crate::entities::dealer::Model,
    pub licences: Vec<crate::entities::licence::Model>,
    pub lines: Vec<ReceiptLine>,
}

/// A sale with what its receipt prints. Only the dealer's own staff (or an admin) may read it;
/// anyone else is told it does not exist.
pub async fn sale_receipt(
    db: &impl ConnectionTrait,
    actor: &Actor,
    sale_id: i64,
) -> Result<SaleReceipt> {
    let s = sale::Entity::find_by_id(sale_id)
        .one(db)
        .await?
        .filter(|s| may_operate(actor, s.dealer_id))
        .ok_or_else(|| Error::not_found("sale", sale_id))?;
    let dealer = regions::dealer(db, s.dealer_id).await?;
    let today = crate::today();
    let licences = regions::licences_of(db, &[s.dealer_id])
        .await?
        .into_iter()
        .filter(|l| l.valid_from <= today && l.valid_to >= today)
        .collect();
    let codes = unit_code::Entity::find()
        .filter(unit_code::Column::SaleId.eq(s.id))
        .order_by_asc(unit_code::Column::Id)
        .all(db)
        .await?;
    let mut lines = Vec::new();
    for l in sale_lines_of(db, s.id).await? {
        let lt = lot(db, l.lot_id).await?;
        let sk = crate::catalog::sku(db, l.sku_id).await?;
        let p = crate::catalog::product(db, sk.product_id).await?;
        let unit_codes = codes
            .iter()
            .filter(|c| c.lot_id == lt.id)
            .map(|c| c.code.clone())
            .collect();
        lines.push(ReceiptLine {
            line: l,
            sku: sk,
            product: p,
            lot: lt,
            unit_codes,
        });
    }
    Ok(SaleReceipt {
        sale: s,
        dealer,
        licences,
        lines,
    })
}

/// A lot as its shelf label prints it.
#[derive(Clone, Debug)]
pub struct LotLabel {
    pub lot: lot::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    pub producer_name: String,
    /// Units the dealer received of it.
    pub received: i64,
}

/// A lot the dealer has received, for its labels. A lot the dealer never received is not
/// theirs to label: not found.
pub async fn lot_label(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    lot_id: i64,
) -> Result<LotLabel> {
    actor.require(may_operate(actor, dealer_id))?;
    let receipts = stock_receipt::Entity::find()
        .filter(stock_receipt::Column::DealerId.eq(dealer_id))
        .filter(stock_receipt::Column::LotId.eq(lot_id))
        .all(db)
        .await?;
    if receipts.is_empty() {
        return Err(Error::not_found("lot", lot_id));
    }
    let l = lot(db, lot_id).await?;
    let s = crate::catalog::sku(db, l.sku_id).await?;
    let p = crate::catalog::product(db, s.product_id).await?;
    let producer_name = producer::Entity::find_by_id(l.producer_id)
        .one(db)
        .await?
        .map(|p| p.name_zh)
        .unwrap_or_default();
    Ok(LotLabel {
        received: receipts.iter().map(|r| r.quantity).sum(),
        lot: l,
        sku: s,
        product: p,
        producer_name,
    })
}

// ---------------------------------------------------------------- the dealer's shelves

/// The dealer's stock locations: its store first, then the stations of the villages it serves
/// (where it may send stock), by name.
pub async fn locations_of_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<location::Model>> {
    actor.require(may_view_dealer(db, actor, dealer_id).await?)?;
    let mut out = vec![store_location(db, dealer_id).await?];
    let villages: Vec<i64> = regions::service_areas_of(db, &[dealer_id])
        .await?
        .into_iter()
        .map(|a| a.village_id)
        .collect();
    let stations: Vec<i64> = service_station::Entity::find()
        .filter(service_station::Column::VillageId.is_in(villages))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut st = location::Entity::find()
        .filter(location::Column::Kind.eq("STATION"))
        .filter(location::Column::StationId.is_in(stations))
        .all(db)
        .await?;
    st.sort_by(|a, b| a.name_zh.cmp(&b.name_zh).then(a.id.cmp(&b.id)));
    out.extend(st);
    Ok(out)
}

/// A transfer with the lot, product and both places named.
#[derive(Clone, Debug)]
pub struct TransferView {
    pub transfer: transfer::Model,
    pub lot: lot::Model,
    pub product: product::Model,
    pub sku: sku::Model,
    pub from: location::Model,
    pub to: location::Model,
}

/// The dealer's transfers, newest first, those in transit first (the dealer's staff, admins
/// and the county's regulators).
pub async fn dealer_transfers(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    limit: usize,
) -> Result<Vec<TransferView>> {
    actor.require(may_view_dealer(db, actor, dealer_id).await?)?;
    let mut ts = transfers_of(db, dealer_id, false).await?;
    ts.sort_by_key(|t| (t.status != "IN_TRANSIT", std::cmp::Reverse(t.id)));
    ts.truncate(limit);
    let lots: BTreeMap<i64, lot::Model> =
        lots_by_ids(db, &ts.iter().map(|t| t.lot_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
    let skus = crate::rows_by_id!(db, sku, lots.values().map(|l| l.sku_id));
    let products = crate::rows_by_id!(db, product, skus.values().map(|s| s.product_id));
    let loc_ids: Vec<i64> = ts
        .iter()
        .flat_map(|t| [t.from_location_id, t.to_location_id])
        .collect();
    let locs: BTreeMap<i64, location::Model> = locations_by_ids(db, &loc_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    Ok(ts
        .into_iter()
        .filter_map(|t| {
            let lot = lots.get(&t.lot_id)?.clone();
            let sku = skus.get(&lot.sku_id)?.clone();
            Some(TransferView {
                product: products.get(&sku.product_id)?.clone(),
                from: locs.get(&t.from_location_id)?.clone(),
                to: locs.get(&t.to_location_id)?.clone(),
                lot,
                sku,
                transfer: t,
            })
        })
        .collect())
}

/// Where a held or recalled lot sits at the dealer: what to pull from each shelf.
#[derive(Clone, Debug)]
pub struct PullPlace {
    pub location: location::Model,
    pub on_hand: i64,
    pub reserved: i64,
}

/// Someone the dealer sold a held or recalled lot to: whom to call. Name and phone are the
/// dealer's own sales records (what the buyer gave at the sale), never another dealer's.
#[derive(Clone, Debug)]
pub struct CallBuyer {
    pub sale_id: i64,
    pub order_id: Option<i64>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub quantity: i64,
    pub sold_at: DateTime<Utc>,
}

/// A lot of the dealer's that may not be sold (recalled or on hold): where it is, what is in
/// transit, and the dealer's buyers of it.
#[derive(Clone, Debug)]
pub struct PullLot {
    pub lot: lot::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    /// RECALLED or ON_HOLD.
    pub disposition: &'static str,
    pub places: Vec<PullPlace>,
    pub in_transit: i64,
    pub buyers: Vec<CallBuyer>,
}

/// The recall and hold list of a dealer (RULES.md rule 11, for one dealer): every recalled or
/// held lot the dealer holds, has in transit or sold, recalls first.
pub async fn pull_list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<PullLot>> {
    actor.require(may_view_dealer(db, actor, dealer_id).await?)?;
    let stocks = stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::OnHand.gt(0))
        .all(db)
        .await?;
    let transit = transfers_of(db, dealer_id, true).await?;
    let sales = sale::Entity::find()
        .filter(sale::Column::DealerId.eq(dealer_id))
        .all(db)
        .await?;
    let sale_by_id: BTreeMap<i64, &sale::Model> = sales.iter().map(|s| (s.id, s)).collect();
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.is_in(sales.iter().map(|s| s.id)))
        .all(db)
        .await?;
    let mut lot_ids: BTreeSet<i64> = stocks.iter().map(|s| s.lot_id).collect();
    lot_ids.extend(transit.iter().map(|t| t.lot_id));
    lot_ids.extend(lines.iter().map(|l| l.lot_id));
    let today = crate::today();
    let bad: Vec<lot::Model> = lot::Entity::find()
        .filter(lot::Column::Id.is_in(lot_ids))
        .filter(lot::Column::Status.is_in(["RECALLED", "ON_HOLD"]))
        .all(db)
        .await?;
    if bad.is_empty() {
        return Ok(vec![]);
    }
    let skus = crate::rows_by_id!(db, sku, bad.iter().map(|l| l.sku_id));
    let products = crate::rows_by_id!(db, product, skus.values().map(|s| s.product_id));
    let locs: BTreeMap<i64, location::Model> = locations_by_ids(
        db,
        &stocks.iter().map(|s| s.location_id).collect::<Vec<_>>(),
    )
    .await?
    .into_iter()
    .map(|l| (l.id, l))
    .collect();
    let mut out: Vec<PullLot> = bad
        .into_iter()
        .filter_map(|l| {
            let sku = skus.get(&l.sku_id)?.clone();
            let product = products.get(&sku.product_id)?.clone();
            let mut places: Vec<PullPlace> = stocks
                .iter()
                .filter(|s| s.lot_id == l.id)
                .filter_map(|s| {
                    Some(PullPlace {
                        location: locs.get(&s.location_id)?.clone(),
                        on_hand: s.on_hand,
                        reserved: s.reserved,
                    })
                })
                .collect();
            places.sort_by_key(|p| (p.location.kind != "DEALER_STORE", p.location.id));
            let buyers: Vec<CallBuyer> = lines
                .iter()
                .filter(|ln| ln.lot_id == l.id)
                .filter_map(|ln| {
                    let s = sale_by_id.get(&ln.sale_id)?;
                    Some(CallBuyer {
                        sale_id: s.id,
                        order_id: s.order_id,
                        name: s.buyer_name.clone(),
                        phone: s.buyer_phone.clone(),
                        quantity: ln.quantity,
                        sold_at: s.sold_at,
                    })
                })
                .collect();
            Some(PullLot {
                disposition: trace::disposition_of(&l, today),
                in_transit: transit
                    .iter()
                    .filter(|t| t.lot_id == l.id)
                    .map(|t| t.quantity)
                    .sum(),
                places,
                buyers,
                lot: l,
                sku,
                product,
            })
        })
        .collect();
    out.sort_by_key(|p| (p.disposition != "RECALLED", p.lot.id));
    Ok(out)
}

/// A line of one of the dealer's recent sales, to take a return against.
#[derive(Clone, Debug)]
pub struct SoldLine {
    pub sale: sale::Model,
    pub line: sale_line::Model,
    pub lot: lot::Model,
    pub product: product::Model,
}

/// The dealer's latest sales lines, newest first (the dealer's staff and admins).
pub async fn recent_sale_lines(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    limit: u64,
) -> Result<Vec<SoldLine>> {
    actor.require(may_operate(actor, dealer_id))?;
    let sales = sales_of(db, dealer_id, limit).await?;
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.is_in(sales.iter().map(|s| s.id)))
        .order_by_desc(sale_line::Column::Id)
        .all(db)
        .await?;
    let lots: BTreeMap<i64, lot::Model> =
        lots_by_ids(db, &lines.iter().map(|l| l.lot_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
    let skus = crate::rows_by_id!(db, sku, lines.iter().map(|l| l.sku_id));
    let products = crate::rows_by_id!(db, product, skus.values().map(|s| s.product_id));
    let by_id: BTreeMap<i64, sale::Model> = sales.into_iter().map(|s| (s.id, s)).collect();
    Ok(lines
        .into_iter()
        .filter_map(|line| {
            let sale = by_id.get(&line.sale_id)?.clone();
            let lot = lots.get(&line.lot_id)?.clone();
            let product = products.get(&skus.get(&line.sku_id)?.product_id)?.clone();
            Some(SoldLine {
                sale,
                line,
                lot,
                product,
            })
        })
        .take(limit as usize)
        .collect())
}
