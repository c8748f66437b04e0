//! A lot as the bureau sees it: found from any code an officer types or scans (a lot's trace
//! code, one unit's code, GS1 data, a GTIN, a registration number or a lot number), with its
//! product, producer, dates, inspections, chain of custody, every holder and buyer, the hash
//! chain's check, who to reach before a recall, and a recall's progress afterwards.
//!
//! Lots are traced across counties: a bag made in one county is sold in another, so any
//! regulator may open any lot and recall it (the recall must reach every holder and buyer,
//! wherever they are). The county-scoped views (statistics, signals, dealer records) are
//! elsewhere in this context.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::accounts::{Actor, is_regulator_or_admin};
use crate::entities::{app_user, lot, notification, product, sku, stock, transfer};
use crate::error::Result;
use crate::lots::trace::{self, BizStep, Disposition, PublicTrace, RecallReport, Verification};
use crate::types::{LotStatus, NotificationKind, TransferStatus};

/// The most lots a search lists (a registration number with years of lots).
pub const MAX_HITS: u64 = 200;

/// One lot in a list of matches.
#[derive(Clone, Debug, Serialize)]
pub struct LotHit {
    pub lot_id: i64,
    pub trace_code: String,
    pub lot_no: String,
    pub product_zh: String,
    pub product_en: String,
    pub pack: String,
    pub produced_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: LotStatus,
}

/// What a typed or scanned code leads to.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// Exactly one lot (a trace code, a unit code, GS1 data with a lot, or a code with one lot).
    Lot(i64),
    /// A product-level code (registration number, GTIN) or a lot number shared by several lots.
    Many(Vec<LotHit>),
    Nothing,
}

/// Finds the lot(s) a code names. Regulators and admins.
pub async fn find(db: &impl ConnectionTrait, actor: &Actor, code: &str) -> Result<Lookup> {
    actor.require(is_regulator_or_admin(actor))?;
    let code = code.trim();
    if code.is_empty() {
        return Ok(Lookup::Nothing);
    }
    if let Some((l, _)) = trace::resolve_code(db, code).await? {
        return Ok(Lookup::Lot(l.id));
    }
    // A registration number (PD20XXXXXX, 农肥（2023）准字…): every lot of its products.
    let products: Vec<i64> = product::Entity::find()
        .filter(product::Column::RegistrationNo.eq(code))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut skus: Vec<i64> = if products.is_empty() {
        vec![]
    } else {
        sku::Entity::find()
            .filter(sku::Column::ProductId.is_in(products))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    // A GTIN alone (a barcode without its lot), as typed or inside GS1 data.
    let gtin = crate::lots::gs1::parse(code)
        .ok()
        .and_then(|g| g.gtin)
        .or_else(|| {
            (code.len() == 13 || code.len() == 14)
                .then(|| code.chars().all(|c| c.is_ascii_digit()))
                .filter(|d| *d)
                .map(|_| format!("{code:0>14}"))
        });
    if skus.is_empty()
        && let Some(g) = gtin
    {
        skus = sku::Entity::find()
            .filter(sku::Column::Gtin.eq(g))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
    }
    let lots = if skus.is_empty() {
        // A lot number, as printed on the bag beside the production date.
        lot::Entity::find()
            .filter(lot::Column::LotNo.eq(code))
            .order_by_desc(lot::Column::ProducedOn)
            .limit(MAX_HITS)
            .all(db)
            .await?
    } else {
        lot::Entity::find()
            .filter(lot::Column::SkuId.is_in(skus))
            .order_by_desc(lot::Column::ProducedOn)
            .order_by_desc(lot::Column::Id)
            .limit(MAX_HITS)
            .all(db)
            .await?
    };
    match lots.len() {
        0 => Ok(Lookup::Nothing),
        1 => Ok(Lookup::Lot(lots[0].id)),
        _ => Ok(Lookup::Many(hits(db, lots).await?)),
    }
}

async fn hits(db: &impl ConnectionTrait, lots: Vec<lot::Model>) -> Result<Vec<LotHit>> {
    let skus = crate::rows_by_id!(db, sku, lots.iter().map(|l| l.sku_id));
    let products = crate::rows_by_id!(db, product, skus.values().map(|s| s.product_id));
    Ok(lots
        .into_iter()
        .map(|l| {
            let s = skus.get(&l.sku_id);
            let p = s.and_then(|s| products.get(&s.product_id));
            LotHit {
                lot_id: l.id,
                trace_code: l.trace_code,
                lot_no: l.lot_no,
                product_zh: p.map(|p| p.name_zh.clone()).unwrap_or_default(),
                product_en: p.map(|p| p.name_en.clone()).unwrap_or_default(),
                pack: s.map(crate::catalog::pack_label).unwrap_or_default(),
                produced_on: l.produced_on,
                expires_on: l.expires_on,
                status: l.status,
            }
        })
        .collect())
}

/// One inspection or sampling result in the lot's log.
#[derive(Clone, Debug, Serialize)]
pub struct InspectionRow {
    pub at: DateTime<Utc>,
    pub conformant: bool,
    /// Report number, lab and date as recorded.
    pub note: String,
}

/// Who a recall will reach, counted before the officer confirms it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Reach {
    /// Dealer stores and stations holding the lot, or with it in transit to them.
    pub holders: usize,
    /// Units on shelves and in transit.
    pub units_held: i64,
    /// Dealers that hold or sold the lot (all their staff are notified).
    pub dealers: usize,
    /// Buyers with an account (notified in the app).
    pub buyers_notified: usize,
    /// Counter sales to a buyer with no account: reached only by phone, when a phone was written.
    pub anonymous_sales: usize,
    pub anonymous_with_phone: usize,
    /// Every account a recall notifies (dealer staff and buyers).
    pub accounts: usize,
}

/// How a recall is going: stock still out there, and who has read the notice.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    pub recalled_at: DateTime<Utc>,
    pub reason: String,
    /// The officer who ordered it.
    pub ordered_by: Option<String>,
    /// Units still on dealers' shelves (on hand) and in transit.
    pub on_shelves: i64,
    pub in_transit: i64,
    /// Units sold to buyers, and how many of those were in counter sales nobody can be told of.
    pub units_sold: i64,
    pub buyer_accounts: usize,
    pub buyers_read: usize,
    pub dealer_accounts: usize,
    pub dealers_read: usize,
    pub anonymous_sales: usize,
    pub anonymous_with_phone: usize,
}

/// Everything the bureau's lot page shows.
#[derive(Clone, Debug, Serialize)]
pub struct Dossier {
    pub public: PublicTrace,
    pub status: LotStatus,
    pub status_reason: Option<String>,
    pub status_at: Option<DateTime<Utc>>,
    pub inspections: Vec<InspectionRow>,
    pub verification: Verification,
    pub report: RecallReport,
    pub reach: Reach,
    pub progress: Option<Progress>,
}

/// The bureau's view of one lot. Regulators and admins.
pub async fn dossier(db: &impl ConnectionTrait, actor: &Actor, lot_id: i64) -> Result<Dossier> {
    let report = trace::recall_report(db, actor, lot_id).await?;
    let verification = trace::verify(db, actor, lot_id).await?;
    let l = report.lot.clone();
    let public = trace::public_trace_of(db, l.clone(), None).await?;
    let events = trace::events_of(db, lot_id).await?;
    let inspections = events
        .iter()
        .filter(|e| e.biz_step == BizStep::Inspecting)
        .map(|e| InspectionRow {
            at: e.occurred_at,
            conformant: e.disposition != Disposition::NonConformant,
            note: e.note.clone(),
        })
        .collect();
    let (reach, accounts) = reach_of(db, &report).await?;
    let progress = if l.status == LotStatus::Recalled {
        let ev = events
            .iter()
            .rev()
            .find(|e| e.biz_step == BizStep::Holding && e.disposition == Disposition::Recalled);
        Some(progress_of(db, &report, &reach, &accounts, ev).await?)
    } else {
        None
    };
    Ok(Dossier {
        public,
        status: l.status,
        status_reason: l.status_reason,
        status_at: l.status_at,
        inspections,
        verification,
        report,
        reach,
        progress,
    })
}

/// Who a recall of the lot would reach now. Regulators and admins.
pub async fn reach(db: &impl ConnectionTrait, actor: &Actor, lot_id: i64) -> Result<Reach> {
    let report = trace::recall_report(db, actor, lot_id).await?;
    Ok(reach_of(db, &report).await?.0)
}

/// The reach, and the accounts a recall notifies (dealer staff and buyers).
async fn reach_of(db: &impl ConnectionTrait, r: &RecallReport) -> Result<(Reach, Vec<i64>)> {
    let (dealers, users) = trace::affected_parties(db, r.lot.id).await?;
    let buyers: BTreeSet<i64> = r.buyers.iter().filter_map(|b| b.user_id).collect();
    let anonymous: Vec<_> = r.buyers.iter().filter(|b| b.user_id.is_none()).collect();
    let reach = Reach {
        holders: r.holders.len(),
        units_held: r.holders.iter().map(|h| h.on_hand + h.in_transit).sum(),
        dealers: dealers.len(),
        buyers_notified: buyers.len(),
        anonymous_sales: anonymous.len(),
        anonymous_with_phone: anonymous
            .iter()
            .filter(|b| b.phone.as_deref().is_some_and(|p| !p.trim().is_empty()))
            .count(),
        accounts: users.len(),
    };
    Ok((reach, users))
}

/// Units still out come from the report's holders (stock on hand and transfers in transit);
/// who was told and who read it from the recall notices to `accounts`.
async fn progress_of(
    db: &impl ConnectionTrait,
    r: &RecallReport,
    reach: &Reach,
    accounts: &[i64],
    event: Option<&crate::entities::trace_event::Model>,
) -> Result<Progress> {
    let lot_id = r.lot.id;
    let recalled_at = r
        .lot
        .status_at
        .or(event.map(|e| e.occurred_at))
        .unwrap_or_else(crate::now);
    let ordered_by = match event.and_then(|e| e.actor_id) {
        Some(id) => app_user::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|u| u.display_name),
        None => None,
    };
    let on_shelves: i64 = r.holders.iter().map(|h| h.on_hand).sum();
    let in_transit: i64 = r.holders.iter().map(|h| h.in_transit).sum();
    let buyer_ids: BTreeSet<i64> = r.buyers.iter().filter_map(|b| b.user_id).collect();
    // The recall notices sent to these accounts for this lot (the payload names the lot).
    let notices = notification::Entity::find()
        .filter(notification::Column::Kind.eq(NotificationKind::LotRecalled))
        .filter(notification::Column::UserId.is_in(accounts.iter().copied()))
        .filter(notification::Column::CreatedAt.gte(recalled_at - chrono::Duration::seconds(1)))
        .all(db)
        .await?;
    let mut reached: BTreeSet<i64> = BTreeSet::new();
    let mut read: BTreeSet<i64> = BTreeSet::new();
    for n in notices
        .iter()
        .filter(|n| n.payload.get("lotId").and_then(|v| v.as_i64()) == Some(lot_id))
    {
        reached.insert(n.user_id);
        if n.read_at.is_some() {
            read.insert(n.user_id);
        }
    }
    Ok(Progress {
        recalled_at,
        reason: r.lot.status_reason.clone().unwrap_or_default(),
        ordered_by,
        on_shelves,
        in_transit,
        units_sold: r.buyers.iter().map(|b| b.quantity).sum(),
        buyer_accounts: reached.iter().filter(|u| buyer_ids.contains(u)).count(),
        buyers_read: read.iter().filter(|u| buyer_ids.contains(u)).count(),
        dealer_accounts: reached.iter().filter(|u| !buyer_ids.contains(u)).count(),
        dealers_read: read.iter().filter(|u| !buyer_ids.contains(u)).count(),
        anonymous_sales: reach.anonymous_sales,
        anonymous_with_phone: reach.anonymous_with_phone,
    })
}

/// A lot on hold or recalled, for the bureau's list.
#[derive(Clone, Debug, Serialize)]
pub struct Withdrawn {
    pub hit: LotHit,
    pub reason: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Units still on shelves or in transit.
    pub units_out: i64,
}

/// Lots on hold and recalled, most recent first. Regulators and admins.
pub async fn withdrawn(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<Withdrawn>> {
    actor.require(is_regulator_or_admin(actor))?;
    let lots = lot::Entity::find()
        .filter(lot::Column::Status.is_in([LotStatus::OnHold, LotStatus::Recalled]))
        .order_by_desc(lot::Column::StatusAt)
        .order_by_desc(lot::Column::Id)
        .limit(MAX_HITS)
        .all(db)
        .await?;
    let ids: Vec<i64> = lots.iter().map(|l| l.id).collect();
    let mut out_by_lot: std::collections::BTreeMap<i64, i64> = Default::default();
    for s in stock::Entity::find()
        .filter(stock::Column::LotId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        *out_by_lot.entry(s.lot_id).or_default() += s.on_hand.max(0);
    }
    for t in transfer::Entity::find()
        .filter(transfer::Column::LotId.is_in(ids.iter().copied()))
        .filter(transfer::Column::Status.eq(TransferStatus::InTransit))
        .all(db)
        .await?
    {
        *out_by_lot.entry(t.lot_id).or_default() += t.quantity;
    }
    let meta: Vec<(Option<String>, Option<DateTime<Utc>>)> = lots
        .iter()
        .map(|l| (l.status_reason.clone(), l.status_at))
        .collect();
    let hits = hits(db, lots).await?;
    Ok(hits
        .into_iter()
        .zip(meta)
        .map(|(hit, (reason, since))| Withdrawn {
            units_out: out_by_lot.get(&hit.lot_id).copied().unwrap_or(0),
            hit,
            reason,
            since,
        })
        .collect())
}
