//! Dealers' records (诚信档案) of a county: per dealer its licences and their validity, the
//! recalls it handled (recalled lots it held or sold: what is left on its shelves, how many of
//! its buyers were told and read it), its signals, the inspections of the lots it received, and
//! the complaints farmers filed about it with their outcome.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::complaints::{ComplaintView, county_complaints};
use super::signals::{Signal, SignalFilter, county_signals};
use super::{county_dealer_ids, county_scope};
use crate::accounts::Actor;
use crate::entities::{
    dealer, licence, lot, notification, product, region, sale, sale_line, sku, stock, stock_receipt,
};
use crate::error::{Error, Result};
use crate::types::{InspectionResult, LotStatus, NotificationKind};

#[derive(Clone, Debug)]
pub struct DealerRow {
    pub dealer: dealer::Model,
    pub signals: usize,
    pub complaints: usize,
    pub open_complaints: usize,
    pub recalls: usize,
}

/// The county's dealers with their counts of signals, complaints and recalled lots.
pub async fn county_dealers(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county: Option<i64>,
) -> Result<(region::Model, Vec<DealerRow>)> {
    let c = county_scope(db, actor, county).await?;
    let ids = county_dealer_ids(db, c.id).await?;
    let signals = county_signals(db, &c, &ids, &SignalFilter::default()).await?;
    let complaints = county_complaints(db, actor, Some(c.id), None, None).await?;
    let recalled = recalled_lots_by_dealer(db, &ids).await?;
    let mut rows: Vec<DealerRow> = crate::rows_by_id!(db, dealer, ids.iter().copied())
        .into_values()
        .map(|d| DealerRow {
            signals: signals.iter().filter(|s| s.dealer_id == d.id).count(),
            complaints: complaints
                .iter()
                .filter(|x| x.c.dealer_id == Some(d.id))
                .count(),
            open_complaints: complaints
                .iter()
                .filter(|x| {
                    x.c.dealer_id == Some(d.id) && x.c.status == crate::types::ComplaintStatus::Open
                })
                .count(),
            recalls: recalled.get(&d.id).map_or(0, BTreeSet::len),
            dealer: d,
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.signals + b.open_complaints)
            .cmp(&(a.signals + a.open_complaints))
            .then(a.dealer.name_zh.cmp(&b.dealer.name_zh))
    });
    Ok((c, rows))
}

/// Recalled lots each dealer received or sold.
async fn recalled_lots_by_dealer(
    db: &impl ConnectionTrait,
    dealers: &[i64],
) -> Result<BTreeMap<i64, BTreeSet<i64>>> {
    let recalled: Vec<i64> = lot::Entity::find()
        .filter(lot::Column::Status.eq(LotStatus::Recalled.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut out: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    if recalled.is_empty() || dealers.is_empty() {
        return Ok(out);
    }
    for r in stock_receipt::Entity::find()
        .filter(stock_receipt::Column::LotId.is_in(recalled.iter().copied()))
        .filter(stock_receipt::Column::DealerId.is_in(dealers.iter().copied()))
        .all(db)
        .await?
    {
        out.entry(r.dealer_id).or_default().insert(r.lot_id);
    }
    for s in stock::Entity::find()
        .filter(stock::Column::LotId.is_in(recalled.iter().copied()))
        .filter(stock::Column::DealerId.is_in(dealers.iter().copied()))
        .all(db)
        .await?
    {
        out.entry(s.dealer_id).or_default().insert(s.lot_id);
    }
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::LotId.is_in(recalled.iter().copied()))
        .all(db)
        .await?;
    let sales = crate::rows_by_id!(db, sale, lines.iter().map(|l| l.sale_id));
    for l in lines {
        if let Some(s) = sales.get(&l.sale_id)
            && dealers.contains(&s.dealer_id)
        {
            out.entry(s.dealer_id).or_default().insert(l.lot_id);
        }
    }
    Ok(out)
}

#[derive(Clone, Debug)]
pub struct LicenceRow {
    pub licence: licence::Model,
    /// Valid today (China date).
    pub valid: bool,
    pub days_left: i64,
}

#[derive(Clone, Debug)]
pub struct RecallRow {
    pub lot: lot::Model,
    pub product_zh: String,
    pub product_en: String,
    pub recalled_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// Units still on the dealer's shelves (on hand at its locations).
    pub stock_left: i64,
    /// Units of the lot the dealer sold.
    pub sold: i64,
    /// Buyers with an account (can be told), anonymous counter sales (cannot).
    pub buyers_with_account: usize,
    pub anonymous_sales: usize,
    /// Of those with an account: told (a recall notice was sent), and read it.
    pub notified: usize,
    pub read: usize,
}

#[derive(Clone, Debug)]
pub struct InspectionRow {
    pub lot: lot::Model,
    pub product_zh: String,
    pub product_en: String,
    pub received_on: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct DealerRecord {
    pub county: region::Model,
    pub dealer: dealer::Model,
    pub region: Option<region::Model>,
    pub licences: Vec<LicenceRow>,
    pub recalls: Vec<RecallRow>,
    pub signals: Vec<Signal>,
    pub inspections: Vec<InspectionRow>,
    pub complaints: Vec<ComplaintView>,
}

/// One dealer's record, for the regulators of its county and admins.
pub async fn dealer_record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<DealerRecord> {
    let d = crate::regions::dealer(db, dealer_id).await?;
    let county_id = crate::regions::county_of(db, d.region_id)
        .await?
        .ok_or_else(|| Error::not_found("dealer", dealer_id))?;
    let c = county_scope(db, actor, Some(county_id)).await?;
    let today = crate::today();
    let licences = licence::Entity::find()
        .filter(licence::Column::DealerId.eq(dealer_id))
        .order_by_asc(licence::Column::Kind)
        .order_by_desc(licence::Column::ValidTo)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LicenceRow {
            valid: l.valid_from <= today && today <= l.valid_to,
            days_left: (l.valid_to - today).num_days(),
            licence: l,
        })
        .collect();
    let signals = county_signals(
        db,
        &c,
        &[dealer_id],
        &SignalFilter {
            dealer_id: Some(dealer_id),
            ..Default::default()
        },
    )
    .await?;
    let complaints = county_complaints(db, actor, Some(c.id), Some(dealer_id), None).await?;
    let recalls = recalls_of(db, dealer_id).await?;
    let inspections = inspections_of(db, dealer_id).await?;
    let region = crate::regions::region(db, d.region_id).await.ok();
    Ok(DealerRecord {
        county: c,
        dealer: d,
        region,
        licences,
        recalls,
        signals,
        inspections,
        complaints,
    })
}

async fn product_names(
    db: &impl ConnectionTrait,
    lots: &[lot::Model],
) -> Result<BTreeMap<i64, product::Model>> {
    let skus = crate::rows_by_id!(db, sku, lots.iter().map(|l| l.sku_id));
    let products = crate::rows_by_id!(db, product, skus.values().map(|s| s.product_id));
    Ok(lots
        .iter()
        .filter_map(|l| {
            let s = skus.get(&l.sku_id)?;
            Some((l.id, products.get(&s.product_id)?.clone()))
        })
        .collect())
}

async fn recalls_of(db: &impl ConnectionTrait, dealer_id: i64) -> Result<Vec<RecallRow>> {
    let lot_ids = recalled_lots_by_dealer(db, &[dealer_id])
        .await?
        .remove(&dealer_id)
        .unwrap_or_default();
    let lots: Vec<lot::Model> = lot::Entity::find()
        .filter(lot::Column::Id.is_in(lot_ids.iter().copied()))
        .order_by_desc(lot::Column::StatusAt)
        .all(db)
        .await?;
    let names = product_names(db, &lots).await?;
    let mut out = vec![];
    for l in lots {
        let stock_left: i64 = stock::Entity::find()
            .filter(stock::Column::LotId.eq(l.id))
            .filter(stock::Column::DealerId.eq(dealer_id))
            .all(db)
            .await?
            .iter()
            .map(|s| s.on_hand)
            .sum();
        let lines = sale_line::Entity::find()
            .filter(sale_line::Column::LotId.eq(l.id))
            .all(db)
            .await?;
        let sales = crate::rows_by_id!(db, sale, lines.iter().map(|x| x.sale_id));
        let mine: Vec<&sale_line::Model> = lines
            .iter()
            .filter(|x| {
                sales
                    .get(&x.sale_id)
                    .is_some_and(|s| s.dealer_id == dealer_id)
            })
            .collect();
        let sold = mine.iter().map(|x| x.quantity).sum();
        let buyers: BTreeSet<i64> = mine
            .iter()
            .filter_map(|x| sales.get(&x.sale_id)?.buyer_user_id)
            .collect();
        let anonymous_sales = mine
            .iter()
            .filter_map(|x| sales.get(&x.sale_id))
            .filter(|s| s.buyer_user_id.is_none())
            .map(|s| s.id)
            .collect::<BTreeSet<_>>()
            .len();
        let notices: Vec<notification::Model> = notification::Entity::find()
            .filter(notification::Column::Kind.eq(NotificationKind::LotRecalled.as_str()))
            .filter(notification::Column::UserId.is_in(buyers.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .filter(|n| n.payload.get("lotId").and_then(|v| v.as_i64()) == Some(l.id))
            .collect();
        let notified: BTreeSet<i64> = notices.iter().map(|n| n.user_id).collect();
        let read: BTreeSet<i64> = notices
            .iter()
            .filter(|n| n.read_at.is_some())
            .map(|n| n.user_id)
            .collect();
        let p = names.get(&l.id);
        out.push(RecallRow {
            product_zh: p.map(|p| p.name_zh.clone()).unwrap_or_default(),
            product_en: p.map(|p| p.name_en.clone()).unwrap_or_default(),
            recalled_at: l.status_at,
            reason: l.status_reason.clone(),
            stock_left,
            sold,
            buyers_with_account: buyers.len(),
            anonymous_sales,
            notified: notified.len(),
            read: read.len(),
            lot: l,
        });
    }
    Ok(out)
}

/// The lots the dealer received that carry an inspection result.
async fn inspections_of(db: &impl ConnectionTrait, dealer_id: i64) -> Result<Vec<InspectionRow>> {
    let receipts = stock_receipt::Entity::find()
        .filter(stock_receipt::Column::DealerId.eq(dealer_id))
        .order_by_desc(stock_receipt::Column::ReceivedAt)
        .all(db)
        .await?;
    let mut first: BTreeMap<i64, DateTime<Utc>> = BTreeMap::new();
    for r in &receipts {
        first
            .entry(r.lot_id)
            .and_modify(|t| *t = (*t).min(r.received_at))
            .or_insert(r.received_at);
    }
    let lots: Vec<lot::Model> = crate::rows_by_id!(db, lot, first.keys().copied())
        .into_values()
        .filter(|l| l.inspection_result.is_some())
        .collect();
    let names = product_names(db, &lots).await?;
    let mut out: Vec<InspectionRow> = lots
        .into_iter()
        .map(|l| {
            let p = names.get(&l.id);
            InspectionRow {
                product_zh: p.map(|p| p.name_zh.clone()).unwrap_or_default(),
                product_en: p.map(|p| p.name_en.clone()).unwrap_or_default(),
                received_on: crate::local_date(first[&l.id]),
                lot: l,
            }
        })
        .collect();
    // Non-conformant first, then the most recent inspection.
    out.sort_by(|a, b| {
        let bad =
            |r: &InspectionRow| r.lot.inspection_result == Some(InspectionResult::NonConformant);
        bad(b)
            .cmp(&bad(a))
            .then(b.lot.inspection_date.cmp(&a.lot.inspection_date))
    });
    Ok(out)
}

/// A sale as a county's inspector sees it (a signal's sale): who sold, when, to whom (name,
/// village), the lines with their lots, the unit codes scanned.
#[derive(Clone, Debug)]
pub struct SaleRecord {
    pub sale: sale::Model,
    pub dealer: dealer::Model,
    pub village: Option<region::Model>,
    /// (line, product, pack label, lot).
    pub lines: Vec<(sale_line::Model, product::Model, String, lot::Model)>,
    pub unit_codes: Vec<String>,
}

/// One sale of a county's dealer, for its regulators and admins.
pub async fn county_sale(
    db: &impl ConnectionTrait,
    actor: &Actor,
    sale_id: i64,
) -> Result<SaleRecord> {
    let s = sale::Entity::find_by_id(sale_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sale", sale_id))?;
    let d = crate::regions::dealer(db, s.dealer_id).await?;
    let county_id = crate::regions::county_of(db, d.region_id)
        .await?
        .ok_or_else(|| Error::not_found("sale", sale_id))?;
    county_scope(db, actor, Some(county_id)).await?;
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(sale_id))
        .order_by_asc(sale_line::Column::Id)
        .all(db)
        .await?;
    let lots = crate::rows_by_id!(db, lot, lines.iter().map(|l| l.lot_id));
    let skus = crate::rows_by_id!(db, sku, lines.iter().map(|l| l.sku_id));
    let products = crate::rows_by_id!(db, product, skus.values().map(|s| s.product_id));
    let lines = lines
        .into_iter()
        .filter_map(|l| {
            let k = skus.get(&l.sku_id)?;
            let p = products.get(&k.product_id)?.clone();
            let lo = lots.get(&l.lot_id)?.clone();
            Some((l, p, crate::catalog::pack_label(k), lo))
        })
        .collect();
    let unit_codes = crate::entities::unit_code::Entity::find()
        .filter(crate::entities::unit_code::Column::SaleId.eq(sale_id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.code)
        .collect();
    let village = match s.buyer_village_id {
        Some(v) => crate::regions::region(db, v).await.ok(),
        None => None,
    };
    Ok(SaleRecord {
        sale: s,
        dealer: d,
        village,
        lines,
        unit_codes,
    })
}
