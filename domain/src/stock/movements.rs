//! Adjustments, transfers between locations, returns from buyers, destruction and declared
//! errors: every change of stock other than a receipt or a sale.

use super::*;

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
    if l.status == LotStatus::Recalled {
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
        status: Set(TransferStatus::InTransit),
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
    e.ref_kind = Some(crate::types::RefKind::Transfer);
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
        .col_expr(
            transfer::Column::Status,
            Expr::value(TransferStatus::Received),
        )
        .col_expr(transfer::Column::ReceivedBy, Expr::value(actor.user_id))
        .col_expr(transfer::Column::ReceivedAt, Expr::value(crate::now()))
        .filter(transfer::Column::Id.eq(transfer_id))
        .filter(transfer::Column::Status.eq(TransferStatus::InTransit))
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
    e.ref_kind = Some(crate::types::RefKind::Transfer);
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

/// A dealer's transfers, newest first, for its staff, admins and the county's regulators.
pub async fn transfers_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    only_in_transit: bool,
) -> Result<Vec<transfer::Model>> {
    actor.require(may_view_dealer(db, actor, dealer_id).await?)?;
    let mut q = transfer::Entity::find()
        .filter(transfer::Column::DealerId.eq(dealer_id))
        .order_by_desc(transfer::Column::Id);
    if only_in_transit {
        q = q.filter(transfer::Column::Status.eq(TransferStatus::InTransit));
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
        .filter(trace_event::Column::Disposition.eq(Disposition::Returned))
        .filter(trace_event::Column::RefKind.eq(crate::types::RefKind::Sale))
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
    e.ref_kind = Some(crate::types::RefKind::Sale);
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
