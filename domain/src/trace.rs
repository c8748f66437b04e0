//! The trace log: append-only events shaped like GS1 EPCIS, hash-chained per lot so that a row
//! edited behind the API's back is detected; the public view of a bag's history (never a buyer);
//! and the recall report (every holder, every buyer, the chain back to the producer).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::entities::{
    dealer, location, lot, producer, product, region, sale, sale_line, sku, stock, stock_receipt,
    trace_event, transfer, unit_code,
};
use crate::error::{Error, Result};

/// EPCIS business steps (CBV 2.0 names) used by the product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BizStep {
    Commissioning,
    Shipping,
    Receiving,
    Inspecting,
    RetailSelling,
    Destroying,
    Holding,
    StockTaking,
    /// An error declaration on an earlier event.
    Correcting,
}

impl BizStep {
    pub fn as_str(self) -> &'static str {
        match self {
            BizStep::Commissioning => "commissioning",
            BizStep::Shipping => "shipping",
            BizStep::Receiving => "receiving",
            BizStep::Inspecting => "inspecting",
            BizStep::RetailSelling => "retail_selling",
            BizStep::Destroying => "destroying",
            BizStep::Holding => "holding",
            BizStep::StockTaking => "stock_taking",
            BizStep::Correcting => "correcting",
        }
    }
}

/// EPCIS dispositions (CBV 2.0 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Active,
    InTransit,
    SellableAccessible,
    Conformant,
    NonConformant,
    RetailSold,
    Returned,
    Destroyed,
    Recalled,
    Damaged,
    NonSellableOther,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Active => "active",
            Disposition::InTransit => "in_transit",
            Disposition::SellableAccessible => "sellable_accessible",
            Disposition::Conformant => "conformant",
            Disposition::NonConformant => "non_conformant",
            Disposition::RetailSold => "retail_sold",
            Disposition::Returned => "returned",
            Disposition::Destroyed => "destroyed",
            Disposition::Recalled => "recalled",
            Disposition::Damaged => "damaged",
            Disposition::NonSellableOther => "non_sellable_other",
        }
    }
}

/// An event to append. `quantity` is in sales units of the lot's SKU (signed for stock-taking).
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub lot_id: i64,
    pub biz_step: BizStep,
    pub disposition: Disposition,
    pub quantity: i64,
    pub location_id: Option<i64>,
    pub from_location_id: Option<i64>,
    pub to_location_id: Option<i64>,
    pub dealer_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub ref_kind: Option<&'static str>,
    pub ref_id: Option<i64>,
    pub corrects_event_id: Option<i64>,
    pub unit_codes: Option<Vec<String>>,
    pub note: String,
}

impl NewEvent {
    pub fn new(
        lot_id: i64,
        biz_step: BizStep,
        disposition: Disposition,
        quantity: i64,
        actor_id: Option<i64>,
    ) -> Self {
        NewEvent {
            lot_id,
            biz_step,
            disposition,
            quantity,
            location_id: None,
            from_location_id: None,
            to_location_id: None,
            dealer_id: None,
            actor_id,
            occurred_at: crate::now(),
            ref_kind: None,
            ref_id: None,
            corrects_event_id: None,
            unit_codes: None,
            note: String::new(),
        }
    }
}

/// The hash of the first event's predecessor.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Times are kept to the microsecond, the precision both databases store, so a hash computed
/// before the insert matches one computed from the row read back.
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_micros(t.timestamp_micros())
        .single()
        .unwrap_or(t)
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// SHA-256 over the predecessor's hash and every field of the event, in a fixed order.
pub fn event_hash(e: &trace_event::Model) -> String {
    let codes = e
        .unit_codes
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    let canonical = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        e.prev_hash,
        e.lot_id,
        e.seq,
        e.biz_step,
        e.disposition,
        e.quantity,
        opt(e.location_id),
        opt(e.from_location_id),
        opt(e.to_location_id),
        opt(e.dealer_id),
        opt(e.actor_id),
        e.occurred_at.timestamp_micros(),
        e.ref_kind.as_deref().unwrap_or(""),
        opt(e.ref_id),
        opt(e.corrects_event_id),
        codes,
        e.note,
    );
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Locks the lot row for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite's
/// immediate transaction already holds the write lock), so events of a lot get consecutive
/// sequence numbers.
pub async fn lock_lot(db: &impl ConnectionTrait, lot_id: i64) -> Result<lot::Model> {
    let mut q = lot::Entity::find_by_id(lot_id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(db)
        .await?
        .ok_or_else(|| Error::not_found("lot", lot_id))
}

/// Appends an event to its lot's chain. Call inside a transaction that has locked the lot.
pub async fn append(db: &impl ConnectionTrait, e: NewEvent) -> Result<trace_event::Model> {
    let last = trace_event::Entity::find()
        .filter(trace_event::Column::LotId.eq(e.lot_id))
        .order_by_desc(trace_event::Column::Seq)
        .limit(1)
        .one(db)
        .await?;
    let (seq, prev_hash) = match last {
        Some(l) => (l.seq + 1, l.hash),
        None => (1, GENESIS.to_owned()),
    };
    let mut am: trace_event::ActiveModel = chained(e, seq, prev_hash).into();
    am.id = sea_orm::ActiveValue::NotSet;
    Ok(am.insert(db).await?)
}

/// The stored row of an event at `seq` of its lot's chain, after the event hashed `prev_hash`.
fn chained(e: NewEvent, seq: i64, prev_hash: String) -> trace_event::Model {
    let mut row = trace_event::Model {
        id: 0,
        lot_id: e.lot_id,
        seq,
        biz_step: e.biz_step.as_str().into(),
        disposition: e.disposition.as_str().into(),
        quantity: e.quantity,
        location_id: e.location_id,
        from_location_id: e.from_location_id,
        to_location_id: e.to_location_id,
        dealer_id: e.dealer_id,
        actor_id: e.actor_id,
        occurred_at: micros(e.occurred_at),
        recorded_at: micros(crate::now()),
        ref_kind: e.ref_kind.map(str::to_owned),
        ref_id: e.ref_id,
        corrects_event_id: e.corrects_event_id,
        unit_codes: e.unit_codes.map(|c| serde_json::json!(c)),
        note: e.note,
        prev_hash,
        hash: String::new(),
    };
    row.hash = event_hash(&row);
    row
}

/// [`append`] for many events, in order (a lot's events in the order they happened), in a few
/// statements: the chains' heads are read once, and the rows go in many to a statement. Call
/// inside a transaction that has locked the lots. Returns the stored rows in the same order.
pub async fn append_many(
    db: &impl ConnectionTrait,
    events: Vec<NewEvent>,
) -> Result<Vec<trace_event::Model>> {
    let lots: BTreeSet<i64> = events.iter().map(|e| e.lot_id).collect();
    let lots: Vec<i64> = lots.into_iter().collect();
    let mut heads: BTreeMap<i64, (i64, String)> = BTreeMap::new();
    for chunk in lots.chunks(crate::IN_CHUNK) {
        let rows: Vec<(i64, i64, String)> = trace_event::Entity::find()
            .select_only()
            .columns([
                trace_event::Column::LotId,
                trace_event::Column::Seq,
                trace_event::Column::Hash,
            ])
            .filter(trace_event::Column::LotId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (lot_id, seq, hash) in rows {
            if heads.get(&lot_id).is_none_or(|h| h.0 < seq) {
                heads.insert(lot_id, (seq, hash));
            }
        }
    }
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        let (seq, prev) = heads
            .get(&e.lot_id)
            .map(|(s, h)| (s + 1, h.clone()))
            .unwrap_or((1, GENESIS.to_owned()));
        let row = chained(e, seq, prev);
        heads.insert(row.lot_id, (row.seq, row.hash.clone()));
        rows.push(row);
    }
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models = chunk.iter().cloned().map(|r| {
            let mut am: trace_event::ActiveModel = r.into();
            am.id = sea_orm::ActiveValue::NotSet;
            am
        });
        let mut stored = trace_event::Entity::insert_many(models)
            .exec_with_returning(db)
            .await?;
        stored.sort_by_key(|r| r.id);
        out.extend(stored);
    }
    Ok(out)
}

/// Rows per multi-row insert: at most about 25 columns each, so under SQLite's 32 766 bound
/// variables (and PostgreSQL's 65 535).
pub const INSERT_CHUNK: usize = 1_000;

pub async fn events_of(db: &impl ConnectionTrait, lot_id: i64) -> Result<Vec<trace_event::Model>> {
    Ok(trace_event::Entity::find()
        .filter(trace_event::Column::LotId.eq(lot_id))
        .order_by_asc(trace_event::Column::Seq)
        .all(db)
        .await?)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: usize,
    /// The first event whose stored hash or link does not match.
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
}

/// Recomputes a lot's chain from the stored rows.
pub async fn verify(db: &impl ConnectionTrait, lot_id: i64) -> Result<Verification> {
    let events = events_of(db, lot_id).await?;
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        let reason = if e.seq != expected_seq {
            Some(format!(
                "sequence {} where {} was expected (an event is missing)",
                e.seq, expected_seq
            ))
        } else if e.prev_hash != prev {
            Some(
                "the link to the previous event does not match (an event was removed or replaced)"
                    .to_owned(),
            )
        } else if event_hash(e) != e.hash {
            Some("the event's contents do not match its hash (the row was edited)".to_owned())
        } else {
            None
        };
        if reason.is_some() {
            return Ok(Verification {
                ok: false,
                events_checked: i + 1,
                first_bad_seq: Some(e.seq),
                reason,
            });
        }
        prev = e.hash.clone();
    }
    Ok(Verification {
        ok: true,
        events_checked: events.len(),
        first_bad_seq: None,
        reason: None,
    })
}

/// Whether a lot may be sold today: active, not expired (unsellable from its expiry date on),
/// and not failed at inspection (RULES.md rule 1).
pub fn sellable(l: &lot::Model, today: NaiveDate) -> bool {
    l.status == "ACTIVE"
        && today < l.expires_on
        && l.inspection_result.as_deref() != Some("NON_CONFORMANT")
}

/// The lot's state as a user reads it.
pub fn disposition_of(l: &lot::Model, today: NaiveDate) -> &'static str {
    match l.status.as_str() {
        "RECALLED" => "RECALLED",
        "ON_HOLD" => "ON_HOLD",
        _ if l.inspection_result.as_deref() == Some("NON_CONFORMANT") => "ON_HOLD",
        _ if today >= l.expires_on => "EXPIRED",
        _ => "SELLABLE",
    }
}

/// How a reader says a lot's state (a [`disposition_of`] or a lot status), in Chinese and English.
pub fn state_words(state: &str) -> (&'static str, &'static str) {
    match state {
        "RECALLED" => ("已召回", "recalled"),
        "ON_HOLD" => ("暂停销售", "on hold"),
        "EXPIRED" => ("已过期", "expired"),
        "ACTIVE" => ("正常", "active"),
        "SELLABLE" => ("可销售", "sellable"),
        _ => ("状态未知", "in an unknown state"),
    }
}

/// The lots of some receipts (or any rows naming lots), by lot id: one query.
pub async fn lots_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, lot::Model>> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    Ok(crate::rows_by_id!(db, lot, ids))
}

/// A name for a location: the dealer's store, a village station, or a producer.
pub async fn location_names(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, (String, String, String)>> {
    let rows = location::Entity::find()
        .filter(location::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|l| (l.id, (l.kind.clone(), l.name_zh, l.name_en)))
        .collect())
}

/// One step of a lot's public custody chain.
#[derive(Clone, Debug, Serialize)]
pub struct CustodyStep {
    pub seq: i64,
    pub biz_step: String,
    pub disposition: String,
    pub occurred_at: DateTime<Utc>,
    /// DEALER_STORE, STATION or PRODUCER.
    pub place_kind: Option<String>,
    pub place_zh: Option<String>,
    pub place_en: Option<String>,
    pub quantity: i64,
    pub corrected: bool,
}

/// What anyone who scans a bag may see: product, registration, producer, lot, dates, inspection,
/// custody (which dealers and stations, when) and disposition. Never a buyer.
#[derive(Clone, Debug, Serialize)]
pub struct PublicTrace {
    pub lot_id: i64,
    pub trace_code: String,
    pub product_id: i64,
    pub product_zh: String,
    pub product_en: String,
    pub category: String,
    pub registration_no: Option<String>,
    pub pack: String,
    pub producer_zh: String,
    pub producer_en: String,
    pub producer_licence: Option<String>,
    pub lot_no: String,
    pub produced_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub inspection_result: Option<String>,
    pub inspection_report_no: Option<String>,
    pub inspection_lab: Option<String>,
    pub inspection_date: Option<NaiveDate>,
    /// SELLABLE, EXPIRED, ON_HOLD or RECALLED.
    pub disposition: String,
    pub disposition_reason: Option<String>,
    pub custody: Vec<CustodyStep>,
    /// Set when the code scanned was one unit's code.
    pub unit_code: Option<String>,
    pub unit_status: Option<String>,
    /// A code already sold that turned up again.
    pub unit_flagged: bool,
}

/// Finds a lot by its trace code, a unit code, or GS1 data (GTIN + lot).
pub async fn resolve_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<(lot::Model, Option<unit_code::Model>)>> {
    let c = code.trim();
    if let Some(l) = lot::Entity::find()
        .filter(lot::Column::TraceCode.eq(c.to_ascii_uppercase()))
        .one(db)
        .await?
    {
        return Ok(Some((l, None)));
    }
    if let Some(u) = unit_code::Entity::find()
        .filter(unit_code::Column::Code.eq(c))
        .one(db)
        .await?
    {
        let l = lot::Entity::find_by_id(u.lot_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("lot", u.lot_id))?;
        return Ok(Some((l, Some(u))));
    }
    if let Ok(g) = crate::gs1::parse(c)
        && let (Some(gtin), Some(lot_no)) = (g.gtin, g.lot)
    {
        let by_lot_gtin = lot::Entity::find()
            .filter(lot::Column::Gtin.eq(gtin.clone()))
            .filter(lot::Column::LotNo.eq(lot_no.clone()))
            .one(db)
            .await?;
        if let Some(l) = by_lot_gtin {
            return Ok(Some((l, None)));
        }
        let skus: Vec<i64> = sku::Entity::find()
            .filter(sku::Column::Gtin.eq(gtin))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        if let Some(l) = lot::Entity::find()
            .filter(lot::Column::SkuId.is_in(skus))
            .filter(lot::Column::LotNo.eq(lot_no))
            .one(db)
            .await?
        {
            return Ok(Some((l, None)));
        }
    }
    Ok(None)
}

pub async fn public_trace(db: &impl ConnectionTrait, code: &str) -> Result<Option<PublicTrace>> {
    let Some((l, unit)) = resolve_code(db, code).await? else {
        return Ok(None);
    };
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
    let events = events_of(db, l.id).await?;
    let corrected: BTreeSet<i64> = events.iter().filter_map(|e| e.corrects_event_id).collect();
    let mut place_ids: BTreeSet<i64> = events
        .iter()
        .filter_map(|e| e.to_location_id.or(e.location_id))
        .collect();
    place_ids.extend(events.iter().filter_map(|e| e.from_location_id));
    let names = location_names(db, &place_ids).await?;
    let name = |id: Option<i64>| id.and_then(|id| names.get(&id));
    let custody: Vec<CustodyStep> = events
        .iter()
        .map(|e| {
            // A sale shows where it was sold, never to whom. A move shows both ends.
            let to = name(e.to_location_id.or(e.location_id));
            let (zh, en) = match (name(e.from_location_id), to) {
                (Some(f), Some(t)) => (
                    Some(format!("{} → {}", f.1, t.1)),
                    Some(format!("{} → {}", f.2, t.2)),
                ),
                (_, Some(t)) => (Some(t.1.clone()), Some(t.2.clone())),
                _ => (None, None),
            };
            CustodyStep {
                seq: e.seq,
                biz_step: e.biz_step.clone(),
                disposition: e.disposition.clone(),
                occurred_at: e.occurred_at,
                place_kind: to.map(|p| p.0.clone()),
                place_zh: zh,
                place_en: en,
                quantity: e.quantity,
                corrected: corrected.contains(&e.id),
            }
        })
        .collect();
    let today = crate::today();
    Ok(Some(PublicTrace {
        lot_id: l.id,
        trace_code: l.trace_code.clone(),
        product_id: p.id,
        product_zh: p.name_zh,
        product_en: p.name_en,
        category: p.category,
        registration_no: p.registration_no,
        pack: crate::stock::pack_label(&s),
        producer_zh: prod.name_zh,
        producer_en: prod.name_en,
        producer_licence: prod.licence_no,
        lot_no: l.lot_no.clone(),
        produced_on: l.produced_on,
        expires_on: l.expires_on,
        inspection_result: l.inspection_result.clone(),
        inspection_report_no: l.inspection_report_no.clone(),
        inspection_lab: l.inspection_lab.clone(),
        inspection_date: l.inspection_date,
        disposition: disposition_of(&l, today).into(),
        disposition_reason: l.status_reason.clone(),
        custody,
        unit_flagged: unit.as_ref().is_some_and(|u| u.flagged_at.is_some()),
        unit_status: unit.as_ref().map(|u| u.status.clone()),
        unit_code: unit.map(|u| u.code),
    }))
}

/// A current holder of a recalled lot.
#[derive(Clone, Debug, Serialize)]
pub struct Holder {
    pub dealer_id: i64,
    pub dealer_zh: String,
    pub dealer_en: String,
    pub dealer_phone: String,
    pub location_id: i64,
    pub location_zh: String,
    pub location_en: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// Units shipped towards this location and not yet received.
    pub in_transit: i64,
}

/// A buyer of a lot (recall reports only; restricted to regulators and admins).
#[derive(Clone, Debug, Serialize)]
pub struct Buyer {
    pub sale_id: i64,
    pub user_id: Option<i64>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub village_zh: Option<String>,
    pub village_en: Option<String>,
    pub dealer_zh: String,
    pub dealer_en: String,
    pub quantity: i64,
    pub sold_at: DateTime<Utc>,
}

/// A step back towards the producer.
#[derive(Clone, Debug, Serialize)]
pub struct Upstream {
    pub biz_step: String,
    pub occurred_at: DateTime<Utc>,
    pub quantity: i64,
    pub party_zh: String,
    pub party_en: String,
    pub licence: Option<String>,
    pub document: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecallReport {
    pub lot: lot::Model,
    pub product_zh: String,
    pub product_en: String,
    pub holders: Vec<Holder>,
    pub buyers: Vec<Buyer>,
    pub backward: Vec<Upstream>,
}

pub async fn recall_report(db: &impl ConnectionTrait, lot_id: i64) -> Result<RecallReport> {
    let l = lot::Entity::find_by_id(lot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("lot", lot_id))?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;

    let stocks = stock::Entity::find()
        .filter(stock::Column::LotId.eq(lot_id))
        .all(db)
        .await?;
    let transfers = transfer::Entity::find()
        .filter(transfer::Column::LotId.eq(lot_id))
        .filter(transfer::Column::Status.eq("IN_TRANSIT"))
        .all(db)
        .await?;
    let mut loc_ids: BTreeSet<i64> = stocks.iter().map(|s| s.location_id).collect();
    loc_ids.extend(transfers.iter().map(|t| t.to_location_id));
    let names = location_names(db, &loc_ids).await?;
    let mut dealer_ids: BTreeSet<i64> = stocks.iter().map(|s| s.dealer_id).collect();
    dealer_ids.extend(transfers.iter().map(|t| t.dealer_id));
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::LotId.eq(lot_id))
        .order_by_asc(sale_line::Column::Id)
        .all(db)
        .await?;
    let sale_rows = crate::rows_by_id!(db, sale, lines.iter().map(|l| l.sale_id));
    let sales: Vec<(sale_line::Model, Option<sale::Model>)> = lines
        .into_iter()
        .map(|l| {
            let s = sale_rows.get(&l.sale_id).cloned();
            (l, s)
        })
        .collect();
    dealer_ids.extend(
        sales
            .iter()
            .filter_map(|(_, s)| s.as_ref().map(|s| s.dealer_id)),
    );
    let dealers = crate::rows_by_id!(db, dealer, dealer_ids.iter().copied());

    let mut holders: BTreeMap<(i64, i64), Holder> = BTreeMap::new();
    let holder = |dealer_id: i64, location_id: i64| {
        let d = dealers.get(&dealer_id);
        let n = names.get(&location_id);
        Holder {
            dealer_id,
            dealer_zh: d.map(|d| d.name_zh.clone()).unwrap_or_default(),
            dealer_en: d.map(|d| d.name_en.clone()).unwrap_or_default(),
            dealer_phone: d.map(|d| d.phone.clone()).unwrap_or_default(),
            location_id,
            location_zh: n.map(|n| n.1.clone()).unwrap_or_default(),
            location_en: n.map(|n| n.2.clone()).unwrap_or_default(),
            on_hand: 0,
            reserved: 0,
            in_transit: 0,
        }
    };
    for s in &stocks {
        if s.on_hand > 0 {
            let h = holders
                .entry((s.dealer_id, s.location_id))
                .or_insert_with(|| holder(s.dealer_id, s.location_id));
            h.on_hand += s.on_hand;
            h.reserved += s.reserved;
        }
    }
    for t in &transfers {
        holders
            .entry((t.dealer_id, t.to_location_id))
            .or_insert_with(|| holder(t.dealer_id, t.to_location_id))
            .in_transit += t.quantity;
    }

    let village_ids: BTreeSet<i64> = sales
        .iter()
        .filter_map(|(_, s)| s.as_ref().and_then(|s| s.buyer_village_id))
        .collect();
    let villages = crate::rows_by_id!(db, region, village_ids.iter().copied());
    let buyers = sales
        .iter()
        .filter_map(|(line, s)| {
            let s = s.as_ref()?;
            let v = s.buyer_village_id.and_then(|v| villages.get(&v));
            let d = dealers.get(&s.dealer_id);
            Some(Buyer {
                sale_id: s.id,
                user_id: s.buyer_user_id,
                name: s.buyer_name.clone(),
                phone: s.buyer_phone.clone(),
                village_zh: v.map(|v| v.name_zh.clone()),
                village_en: v.map(|v| v.name_en.clone()),
                dealer_zh: d.map(|d| d.name_zh.clone()).unwrap_or_default(),
                dealer_en: d.map(|d| d.name_en.clone()).unwrap_or_default(),
                quantity: line.quantity,
                sold_at: s.sold_at,
            })
        })
        .collect();

    // Backward: receipts (who supplied it, with what licence and document), then the producer.
    let mut backward = Vec::new();
    let receipts = stock_receipt::Entity::find()
        .filter(stock_receipt::Column::LotId.eq(lot_id))
        .order_by_asc(stock_receipt::Column::Id)
        .all(db)
        .await?;
    for r in receipts {
        let d = dealers.get(&r.dealer_id);
        backward.push(Upstream {
            biz_step: "receiving".into(),
            occurred_at: r.received_at,
            quantity: r.quantity,
            party_zh: format!(
                "{} ← {}",
                d.map(|d| d.name_zh.as_str()).unwrap_or(""),
                r.supplier_name
            ),
            party_en: format!(
                "{} ← {}",
                d.map(|d| d.name_en.as_str()).unwrap_or(""),
                r.supplier_name
            ),
            licence: Some(r.supplier_licence_no),
            document: Some(r.source_document),
        });
    }
    let prod = producer::Entity::find_by_id(l.producer_id).one(db).await?;
    if let Some(first) = events_of(db, lot_id)
        .await?
        .into_iter()
        .find(|e| e.biz_step == BizStep::Commissioning.as_str())
    {
        backward.push(Upstream {
            biz_step: "commissioning".into(),
            occurred_at: first.occurred_at,
            quantity: first.quantity,
            party_zh: prod.as_ref().map(|p| p.name_zh.clone()).unwrap_or_default(),
            party_en: prod.as_ref().map(|p| p.name_en.clone()).unwrap_or_default(),
            licence: prod.as_ref().and_then(|p| p.licence_no.clone()),
            document: l.inspection_report_no.clone(),
        });
    }
    Ok(RecallReport {
        product_zh: p.name_zh,
        product_en: p.name_en,
        lot: l,
        holders: holders.into_values().collect(),
        buyers,
        backward,
    })
}

/// Users of every dealer that holds or sold the lot, and buyers with accounts.
pub async fn affected_parties(
    db: &impl ConnectionTrait,
    lot_id: i64,
) -> Result<(Vec<i64>, Vec<i64>)> {
    let mut dealers: BTreeSet<i64> = stock::Entity::find()
        .filter(stock::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.dealer_id)
        .collect();
    let sale_ids: Vec<i64> = sale_line::Entity::find()
        .filter(sale_line::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.sale_id)
        .collect();
    let sales = sale::Entity::find()
        .filter(sale::Column::Id.is_in(sale_ids))
        .all(db)
        .await?;
    dealers.extend(sales.iter().map(|s| s.dealer_id));
    let mut users: BTreeSet<i64> = sales.iter().filter_map(|s| s.buyer_user_id).collect();
    let dealer_users = crate::entities::app_user::Entity::find()
        .filter(crate::entities::app_user::Column::DealerId.is_in(dealers.iter().copied()))
        .all(db)
        .await?;
    users.extend(dealer_users.into_iter().map(|u| u.id));
    Ok((dealers.into_iter().collect(), users.into_iter().collect()))
}
