//! The trace log: append-only events shaped like GS1 EPCIS, hash-chained per lot so that a row
//! edited behind the API's back is detected; the public view of a bag's history (never a buyer,
//! `public`); and the recall report (every holder, every buyer, the chain back to the producer,
//! `recall_report`).

mod public;
mod recall_report;

pub use public::*;
pub use recall_report::*;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::accounts::{Actor, Role};
use crate::entities::{
    dealer, location, lot, producer, product, region, sale, sale_line, sku, stock, stock_receipt,
    trace_event, transfer, unit_code,
};
use crate::error::{Error, Result};
pub use crate::types::{BizStep, Disposition};
use crate::types::{LocationKind, LotState, LotStatus, TransferStatus, UnitCodeStatus};

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
    pub ref_kind: Option<crate::types::RefKind>,
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
        e.ref_kind.map_or("", |k| k.as_str()),
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
        biz_step: e.biz_step,
        disposition: e.disposition,
        quantity: e.quantity,
        location_id: e.location_id,
        from_location_id: e.from_location_id,
        to_location_id: e.to_location_id,
        dealer_id: e.dealer_id,
        actor_id: e.actor_id,
        occurred_at: micros(e.occurred_at),
        recorded_at: micros(crate::now()),
        ref_kind: e.ref_kind,
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
/// For dealers, regulators and admins (a farmer checks a bag on the public trace page).
pub async fn verify(db: &impl ConnectionTrait, actor: &Actor, lot_id: i64) -> Result<Verification> {
    actor.require(matches!(
        actor.role,
        Role::Dealer | Role::Regulator | Role::Admin
    ))?;
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
    l.status == LotStatus::Active
        && today < l.expires_on
        && l.inspection_result != Some(crate::types::InspectionResult::NonConformant)
}

/// The lot's state as a user reads it (say it with [`LotState::words`]).
pub fn disposition_of(l: &lot::Model, today: NaiveDate) -> LotState {
    match l.status {
        LotStatus::Recalled => LotState::Recalled,
        LotStatus::OnHold => LotState::OnHold,
        LotStatus::Active
            if l.inspection_result == Some(crate::types::InspectionResult::NonConformant) =>
        {
            LotState::OnHold
        }
        LotStatus::Active if today >= l.expires_on => LotState::Expired,
        LotStatus::Active => LotState::Sellable,
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
) -> Result<BTreeMap<i64, (LocationKind, String, String)>> {
    let rows = location::Entity::find()
        .filter(location::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|l| (l.id, (l.kind, l.name_zh, l.name_en)))
        .collect())
}
