//! What a dealer sees of its stock: on hand and reserved per lot, near expiry, low stock,
//! sales, and the once-a-day near-expiry alert.

use super::*;

/// A stock row with what a dealer needs to read it.
#[derive(Clone, Debug)]
pub struct StockView {
    pub stock: stock::Model,
    pub lot: lot::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    pub location: location::Model,
    pub disposition: LotState,
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
        if v.disposition == LotState::Sellable {
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

/// Sales of a dealer, newest first, for its staff, admins and the county's regulators.
pub async fn sales_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    limit: u64,
) -> Result<Vec<sale::Model>> {
    use sea_orm::QuerySelect;
    actor.require(may_view_dealer(db, actor, dealer_id).await?)?;
    Ok(sale::Entity::find()
        .filter(sale::Column::DealerId.eq(dealer_id))
        .order_by_desc(sale::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

pub(crate) async fn sale_lines_of(
    db: &impl ConnectionTrait,
    sale_id: i64,
) -> Result<Vec<sale_line::Model>> {
    Ok(sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(sale_id))
        .order_by_asc(sale_line::Column::Id)
        .all(db)
        .await?)
}

/// A dealer's recent sales, newest first, each with its lines (oldest first): two statements
/// whatever the number of sales. For its staff, admins and the county's regulators.
pub async fn sales_with_lines(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    limit: u64,
) -> Result<Vec<(sale::Model, Vec<sale_line::Model>)>> {
    let sales = sales_of(db, actor, dealer_id, limit).await?;
    let mut lines: BTreeMap<i64, Vec<sale_line::Model>> = BTreeMap::new();
    for chunk in sales.chunks(crate::IN_CHUNK) {
        for l in sale_line::Entity::find()
            .filter(sale_line::Column::SaleId.is_in(chunk.iter().map(|s| s.id)))
            .order_by_asc(sale_line::Column::Id)
            .all(db)
            .await?
        {
            lines.entry(l.sale_id).or_default().push(l);
        }
    }
    Ok(sales
        .into_iter()
        .map(|s| {
            let l = lines.remove(&s.id).unwrap_or_default();
            (s, l)
        })
        .collect())
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
        if l.status != LotStatus::Active
            || !(0..=days).contains(&left)
            || !seen.insert((r.dealer_id, l.id))
        {
            continue;
        }
        out.push(DomainEvent::StockAlert {
            dealer_id: r.dealer_id,
            kind: crate::types::AlertKind::NearExpiry,
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
