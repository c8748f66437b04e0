//! The dealer's order desk: the dealer's orders with who ordered them, one order with its
//! allocations and the actions its state allows, the live counters, and the swap of a recalled
//! lot in an open order for a sellable one.

use super::*;
use crate::entities::{dealer, order_event, region};

/// An order as the desk lists it: who ordered it, from where, what.
#[derive(Clone, Debug)]
pub struct DeskOrder {
    pub order: customer_order::Model,
    pub farmer_name: String,
    pub farmer_phone: String,
    pub village: Option<region::Model>,
    pub station: Option<service_station::Model>,
    pub lines: Vec<order_line::Model>,
}

/// One allocation of a line, with its lot and where it lies.
#[derive(Clone, Debug)]
pub struct DeskAllocation {
    pub allocation: order_allocation::Model,
    pub lot: lot::Model,
    pub location: location::Model,
    /// On hand in that stock row now (what the shelf should hold).
    pub on_hand: i64,
    pub disposition: crate::types::LotState,
}

#[derive(Clone, Debug)]
pub struct DeskLine {
    pub line: order_line::Model,
    pub allocations: Vec<DeskAllocation>,
    /// Unsold unit codes on the line's reserved lots: the hand-over scans one per unit.
    pub codes_to_scan: i64,
    /// A reserved allocation sits on a lot that can no longer be sold: the line can be swapped.
    pub swappable: bool,
}

#[derive(Clone, Debug)]
pub struct DeskOrderDetail {
    pub head: DeskOrder,
    pub dealer: dealer::Model,
    pub lines: Vec<DeskLine>,
    pub events: Vec<order_event::Model>,
    /// The unsellable lots the order still holds (recalled first), with their reasons.
    pub bad_lots: Vec<lot::Model>,
    /// The states the dealer may move the order to now.
    pub next: Vec<Status>,
}

/// The states a dealer may move an order to from where it is (the transition table, plus the
/// recall exit: a flagged order that still holds stock may always be cancelled).
pub fn dealer_next(o: &customer_order::Model) -> Vec<Status> {
    let (Some(from), Some(mode)) = (Some(o.status), Some(o.delivery_mode)) else {
        return vec![];
    };
    let mut out: Vec<Status> = Status::ALL
        .iter()
        .copied()
        .filter(|to| allowed(from, *to, Party::Dealer, mode))
        .collect();
    if o.flagged && from.holds_stock() && !out.contains(&Status::Cancelled) {
        out.push(Status::Cancelled);
    }
    out
}

async fn heads(
    db: &impl ConnectionTrait,
    orders: Vec<customer_order::Model>,
) -> Result<Vec<DeskOrder>> {
    let farmers = crate::rows_by_id!(db, app_user, orders.iter().map(|o| o.farmer_id));
    let villages = crate::rows_by_id!(db, region, farmers.values().filter_map(|u| u.village_id));
    let stations = crate::rows_by_id!(
        db,
        service_station,
        orders.iter().filter_map(|o| o.station_id)
    );
    let mut lines: BTreeMap<i64, Vec<order_line::Model>> = BTreeMap::new();
    for l in order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?
    {
        lines.entry(l.order_id).or_default().push(l);
    }
    Ok(orders
        .into_iter()
        .map(|o| {
            let f = farmers.get(&o.farmer_id);
            DeskOrder {
                farmer_name: f
                    .map(|f| {
                        f.real_name
                            .clone()
                            .unwrap_or_else(|| f.display_name.clone())
                    })
                    .unwrap_or_default(),
                farmer_phone: f.map(|f| f.phone.clone()).unwrap_or_default(),
                village: f
                    .and_then(|f| f.village_id)
                    .and_then(|v| villages.get(&v).cloned()),
                station: o.station_id.and_then(|s| stations.get(&s).cloned()),
                lines: lines.remove(&o.id).unwrap_or_default(),
                order: o,
            }
        })
        .collect())
}

/// The orders of a dealer for its desk, with each farmer's name, phone and village: new
/// (PLACED) orders first, then the rest, oldest first within each. `statuses` empty = all.
/// Only the dealer's own people (and admins) may read it.
pub async fn desk_orders(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    statuses: &[Status],
    flagged_only: bool,
    limit: u64,
) -> Result<Vec<DeskOrder>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let mut q = customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .order_by_desc(Expr::col(customer_order::Column::Status).eq(Status::Placed.as_str()))
        .order_by_asc(customer_order::Column::PlacedAt)
        .order_by_asc(customer_order::Column::Id);
    if !statuses.is_empty() {
        q = q.filter(customer_order::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if flagged_only {
        q = q.filter(customer_order::Column::Flagged.eq(true));
    }
    heads(db, q.limit(limit).all(db).await?).await
}

/// One order for the desk: everything the list shows, plus its allocations (lots, shelf), its
/// history, the unsellable lots it holds and the next states. Another dealer's order is not
/// found.
pub async fn desk_order(
    db: &impl ConnectionTrait,
    actor: &Actor,
    order_id: i64,
) -> Result<DeskOrderDetail> {
    let o = order(db, order_id).await?;
    if !crate::accounts::may_operate(actor, o.dealer_id) {
        return Err(Error::not_found("order", order_id));
    }
    let d = crate::regions::dealer(db, o.dealer_id).await?;
    let next = dealer_next(&o);
    let events = events_of(db, o.id).await?;
    let head = heads(db, vec![o])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("order", order_id))?;
    let line_ids: Vec<i64> = head.lines.iter().map(|l| l.id).collect();
    let allocs = order_allocation::Entity::find()
        .filter(order_allocation::Column::OrderLineId.is_in(line_ids))
        .order_by_asc(order_allocation::Column::Id)
        .all(db)
        .await?;
    let lot_ids: Vec<i64> = allocs.iter().map(|a| a.lot_id).collect();
    let lots: BTreeMap<i64, lot::Model> = crate::lots::lots_by_ids(db, &lot_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let locations = crate::rows_by_id!(db, location, allocs.iter().map(|a| a.location_id));
    let rows = crate::rows_by_id!(db, stock, allocs.iter().map(|a| a.stock_id));
    let today = crate::today();
    let holds = head.order.status.holds_stock();
    let mut bad_lots: BTreeMap<i64, lot::Model> = BTreeMap::new();
    let mut lines = Vec::new();
    for line in &head.lines {
        let mut out = Vec::new();
        for a in allocs.iter().filter(|a| a.order_line_id == line.id) {
            let (Some(l), Some(loc)) = (lots.get(&a.lot_id), locations.get(&a.location_id)) else {
                continue;
            };
            let disposition = trace::disposition_of(l, today);
            if holds && a.status == AllocationStatus::Reserved && !trace::sellable(l, today) {
                bad_lots.insert(l.id, l.clone());
            }
            out.push(DeskAllocation {
                allocation: a.clone(),
                lot: l.clone(),
                location: loc.clone(),
                on_hand: rows.get(&a.stock_id).map(|r| r.on_hand).unwrap_or(0),
                disposition,
            });
        }
        let reserved: BTreeSet<i64> = out
            .iter()
            .filter(|a| a.allocation.status == AllocationStatus::Reserved)
            .map(|a| a.lot.id)
            .collect();
        let codes_to_scan = if reserved.is_empty() {
            0
        } else {
            let unsold = unit_code::Entity::find()
                .filter(unit_code::Column::LotId.is_in(reserved.iter().copied()))
                .filter(unit_code::Column::Status.ne(crate::types::UnitCodeStatus::Sold))
                .count(db)
                .await? as i64;
            std::cmp::min(unsold, line.quantity)
        };
        let swappable = holds && reserved.iter().any(|id| bad_lots.contains_key(id));
        lines.push(DeskLine {
            line: line.clone(),
            allocations: out,
            codes_to_scan,
            swappable,
        });
    }
    let mut bad_lots: Vec<lot::Model> = bad_lots.into_values().collect();
    bad_lots.sort_by_key(|l| (l.status != crate::types::LotStatus::Recalled, l.id));
    Ok(DeskOrderDetail {
        head,
        dealer: d,
        lines,
        events,
        bad_lots,
        next,
    })
}

/// What the console's menu counts: new orders, current stock alerts, the newest order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeskLive {
    pub orders_new: u64,
    pub alerts: u64,
    pub latest_order: i64,
}

/// The live counters of a dealer's console. Alerts are the dealer's current stock alerts: pack
/// sizes on offer below the low-stock threshold, and stock rows on hand that expire within
/// `near_expiry_days`, have expired, or are held or recalled (to pull from the shelf).
pub async fn desk_live(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    low_stock_threshold: i64,
    near_expiry_days: i64,
) -> Result<DeskLive> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let orders_new = customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .filter(customer_order::Column::Status.eq(Status::Placed.as_str()))
        .count(db)
        .await?;
    let latest_order = customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .order_by_desc(customer_order::Column::Id)
        .one(db)
        .await?
        .map(|o| o.id)
        .unwrap_or(0);
    let low = stock_mod::low_stock(db, actor, dealer_id, low_stock_threshold)
        .await?
        .len() as u64;
    let shelf = stock_mod::stock_of_dealer(db, actor, dealer_id, None)
        .await?
        .into_iter()
        .filter(|v| {
            v.disposition != crate::types::LotState::Sellable
                || v.days_to_expiry <= near_expiry_days
        })
        .count() as u64;
    Ok(DeskLive {
        orders_new,
        alerts: low + shelf,
        latest_order,
    })
}

/// Swaps the reserved allocations of an order line that sit on lots no longer sellable (a
/// recall, a hold, an expiry) for the same quantity from other sellable lots of the same pack
/// at the same location, earliest expiry first, as checkout allocates. One transaction: the old
/// reservations are given back (their allocations RELEASED), the new ones taken, the order's
/// recall flag cleared once it holds no unsellable lot, the swap written to the order's
/// history, and the farmer told. Refused with INSUFFICIENT_STOCK, changing nothing, when the
/// sellable stock is short.
pub async fn reallocate_line<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    order_id: i64,
    line_id: i64,
    settings: Settings,
) -> Result<(customer_order::Model, Vec<DomainEvent>)> {
    let txn = crate::begin_write(db).await?;
    let o = order(&txn, order_id).await?;
    if !crate::accounts::may_operate(actor, o.dealer_id) {
        return Err(Error::not_found("order", order_id));
    }
    let line = order_line::Entity::find_by_id(line_id)
        .one(&txn)
        .await?
        .filter(|l| l.order_id == o.id)
        .ok_or_else(|| Error::not_found("order line", line_id))?;
    let from = o.status;
    if !from.holds_stock() {
        return Err(Error::invalid(
            "orderId",
            Code::InvalidTransition,
            "订单已不再占用库存，不能换批次",
            "the order no longer holds stock: nothing to swap",
        ));
    }
    let reserved = order_allocation::Entity::find()
        .filter(order_allocation::Column::OrderLineId.eq(line.id))
        .filter(order_allocation::Column::Status.eq(AllocationStatus::Reserved))
        .order_by_asc(order_allocation::Column::Id)
        .all(&txn)
        .await?;
    let lot_ids: BTreeSet<i64> = reserved.iter().map(|a| a.lot_id).collect();
    let bad = unsellable_lots(&txn, &lot_ids, true).await?;
    let old: Vec<order_allocation::Model> = reserved
        .into_iter()
        .filter(|a| bad.contains(&a.lot_id))
        .collect();
    if old.is_empty() {
        return Err(Error::invalid(
            "lineId",
            Code::InvalidTransition,
            "这一行的批次都可以销售，不需要更换",
            "every lot of this line is sellable: nothing to swap",
        ));
    }
    let s = sku::Entity::find_by_id(line.sku_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("sku", line.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    // Give back the old reservations. The allocation changes only if it is still reserved: a
    // concurrent swap or cancellation of the same line got there first, and this one stops.
    let mut missing = 0;
    let mut locations = BTreeSet::new();
    for a in &old {
        let released = order_allocation::Entity::update_many()
            .col_expr(
                order_allocation::Column::Status,
                Expr::value(AllocationStatus::Released),
            )
            .filter(order_allocation::Column::Id.eq(a.id))
            .filter(order_allocation::Column::Status.eq(AllocationStatus::Reserved))
            .exec(&txn)
            .await?
            .rows_affected;
        if released != 1 {
            return Err(Error::invalid(
                "lineId",
                Code::InvalidTransition,
                "这一行刚刚被更换或取消，请刷新页面",
                "this line was just swapped or cancelled: reload the page",
            ));
        }
        stock_mod::release_reservation(&txn, a.stock_id, a.quantity).await?;
        missing += a.quantity;
        locations.insert(a.location_id);
    }
    let locations: Vec<i64> = locations.into_iter().collect();
    let refuse = |available: i64| {
        Error::invalid(
            "lineId",
            Code::InsufficientStock,
            format!(
                "{}（{}）可换的合格库存不足：可用 {available}，需要 {missing}。可以取消订单",
                p.name_zh,
                crate::catalog::pack_label(&s),
            ),
            format!(
                "{} ({}): not enough sellable stock to swap, {available} available, {missing} wanted; you can cancel the order",
                p.name_en,
                crate::catalog::pack_label(&s),
            ),
        )
    };
    let mut new = match stock_mod::allocate_fefo(
        &txn,
        o.dealer_id,
        &locations,
        s.id,
        missing,
        AllocMode::Reserve,
    )
    .await?
    {
        Ok(a) => a,
        Err(available) => return Err(refuse(available)),
    };
    // As at checkout: read the new lots again under a shared lock taken after the stock rows. A
    // recall that committed meanwhile is seen here (its reservation is given back and taken
    // elsewhere); one not yet committed waits for this swap and then flags the order.
    loop {
        let ids: BTreeSet<i64> = new.iter().map(|a| a.lot_id).collect();
        let bad = unsellable_lots(&txn, &ids, true).await?;
        if bad.is_empty() {
            break;
        }
        let mut short = 0;
        for a in new.iter().filter(|a| bad.contains(&a.lot_id)) {
            stock_mod::release_reservation(&txn, a.stock_id, a.quantity).await?;
            short += a.quantity;
        }
        new.retain(|a| !bad.contains(&a.lot_id));
        match stock_mod::allocate_fefo(
            &txn,
            o.dealer_id,
            &locations,
            s.id,
            short,
            AllocMode::Reserve,
        )
        .await?
        {
            Ok(more) => new.extend(more),
            Err(available) => {
                return Err(refuse(missing - short + available));
            }
        }
    }
    for a in &new {
        order_allocation::ActiveModel {
            order_line_id: Set(line.id),
            stock_id: Set(a.stock_id),
            location_id: Set(a.location_id),
            lot_id: Set(a.lot_id),
            quantity: Set(a.quantity),
            status: Set(AllocationStatus::Reserved),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let old_lots =
        crate::lots::lots_by_ids(&txn, &old.iter().map(|a| a.lot_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|l| l.lot_no)
            .collect::<Vec<_>>()
            .join(", ");
    let new_lots =
        crate::lots::lots_by_ids(&txn, &new.iter().map(|a| a.lot_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|l| l.lot_no)
            .collect::<Vec<_>>()
            .join(", ");
    // The flag stays while any line still holds an unsellable lot.
    let still: BTreeSet<i64> = allocations_of(&txn, o.id)
        .await?
        .into_iter()
        .map(|(_, a)| a.lot_id)
        .collect();
    let still_bad = !unsellable_lots(&txn, &still, true).await?.is_empty();
    let mut am: customer_order::ActiveModel = order(&txn, o.id).await?.into();
    if !still_bad {
        am.flagged = Set(false);
        am.flag_reason = Set(None);
    }
    am.updated_at = Set(crate::now());
    let o = am.update(&txn).await?;
    record_event(
        &txn,
        o.id,
        Some(from),
        from,
        Some(actor.user_id),
        &format!(
            "{} {pack}：批次 {old_lots} 换为 {new_lots} / {} {pack}: lot {old_lots} swapped for {new_lots}",
            p.name_zh,
            p.name_en,
            pack = crate::catalog::pack_label(&s)
        ),
    )
    .await?;
    let msg = crate::notify::Message {
        kind: crate::types::NotificationKind::OrderLotSwapped,
        title_zh: format!("订单 #{} 已更换批次", o.id),
        title_en: format!("Order #{}: lot replaced", o.id),
        body_zh: format!(
            "订单 #{} 中 {}（{}）的批次 {old_lots} 已换为合格批次 {new_lots}。",
            o.id,
            p.name_zh,
            crate::catalog::pack_label(&s)
        ),
        body_en: format!(
            "In order #{}, {} ({}) lot {old_lots} was replaced by sellable lot {new_lots}.",
            o.id,
            p.name_en,
            crate::catalog::pack_label(&s)
        ),
        payload: serde_json::json!({ "orderId": o.id, "lineId": line.id }),
    };
    let mut events = crate::notify::notify_all(&txn, &[o.farmer_id], &msg).await?;
    events.extend(
        low_stock_alerts(&txn, o.dealer_id, vec![s.id], settings.low_stock_threshold).await?,
    );
    txn.commit().await?;
    events.insert(0, updated(&o));
    Ok((o, events))
}
