//! The dealer's shelves: locations, transfers in flight, the recall pull list and recent
//! sale lines.

use super::*;

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
        .filter(location::Column::Kind.eq(LocationKind::Station))
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
    let mut ts = transfers_of(db, actor, dealer_id, false).await?;
    ts.sort_by_key(|t| {
        (
            t.status != TransferStatus::InTransit,
            std::cmp::Reverse(t.id),
        )
    });
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
    /// Recalled or on hold.
    pub disposition: LotState,
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
    let transit = transfers_of(db, actor, dealer_id, true).await?;
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
        .filter(lot::Column::Status.is_in([LotStatus::Recalled, LotStatus::OnHold]))
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
            places.sort_by_key(|p| (p.location.kind != LocationKind::DealerStore, p.location.id));
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
    out.sort_by_key(|p| (p.disposition != LotState::Recalled, p.lot.id));
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
    let sales = sales_of(db, actor, dealer_id, limit).await?;
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
