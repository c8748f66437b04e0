//! An order's life after checkout: the transition table applied, reservations released,
//! payments settled, expiry and recall flags. The hand-over itself is in `hand_over`.

use super::hand_over::hand_over;
use super::*;

pub async fn order(db: &impl ConnectionTrait, id: i64) -> Result<customer_order::Model> {
    customer_order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("order", id))
}

/// The order if the actor may see it: its farmer, the dealer's staff, admins.
pub async fn visible_order(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<customer_order::Model> {
    let o = order(db, id).await?;
    let ok = actor.is_admin()
        || (actor.role == Role::Farmer && o.farmer_id == actor.user_id)
        || actor.works_for(o.dealer_id);
    if !ok {
        return Err(Error::not_found("order", id));
    }
    Ok(o)
}

/// Moves an order along the transition table. Cancellation and expiry release the
/// reservation; hand-over (DELIVERED) turns it into a sale.
pub async fn transition<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: Option<&Actor>,
    order_id: i64,
    to: Status,
    reason: &str,
    provider: Option<&dyn Provider>,
    settings: Settings,
) -> Result<(customer_order::Model, Vec<DomainEvent>)> {
    transition_with_codes(db, actor, order_id, to, reason, &[], provider, settings).await
}

/// [`transition`], with the unit codes scanned at a hand-over (DELIVERED). Each code must be
/// registered, unsold and of a lot allocated to the order; where a line's lots carry unit
/// codes, every unit handed over is scanned (up to the codes still unsold on those lots). The
/// codes are marked sold to the order's buyer as at the counter; any wrong or missing code
/// refuses the whole hand-over.
#[expect(clippy::too_many_arguments)]
pub async fn transition_with_codes<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: Option<&Actor>,
    order_id: i64,
    to: Status,
    reason: &str,
    unit_codes: &[String],
    provider: Option<&dyn Provider>,
    settings: Settings,
) -> Result<(customer_order::Model, Vec<DomainEvent>)> {
    // Repeated scans of one bag count once; blank lines are nothing.
    let mut codes: Vec<String> = Vec::new();
    for c in unit_codes
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    {
        if !codes.iter().any(|x| x == c) {
            codes.push(c.to_owned());
        }
    }
    if !codes.is_empty() && to != Status::Delivered {
        return Err(Error::invalid(
            "unitCodes",
            Code::InvalidFormat,
            "只有交货时才扫描追溯码",
            "unit codes are scanned only at the hand-over",
        ));
    }
    if let Some(a) = actor
        && !codes.is_empty()
    {
        // A sold code seen again is flagged outside the hand-over's transaction (it stays
        // flagged when the hand-over is refused), as at the counter.
        let o = order(db, order_id).await?;
        if a.works_for(o.dealer_id) || a.is_admin() {
            stock_mod::flag_resold_codes(db, o.dealer_id, &codes).await?;
        }
    }
    let txn = crate::begin_write(db).await?;
    let o = order(&txn, order_id).await?;
    let party = match actor {
        None => Party::System,
        Some(a) if a.role == Role::Farmer && a.user_id == o.farmer_id => Party::Farmer,
        Some(a) if a.works_for(o.dealer_id) || a.is_admin() => Party::Dealer,
        Some(_) => return Err(Error::not_found("order", order_id)),
    };
    let from = o.status;
    let mode = o.delivery_mode;
    // An order holding a recalled lot can never be handed over; its dealer may always cancel
    // it (with a reason), even once it is ready or out for delivery, so the reservation and
    // the order do not stay stuck.
    let recall_exit =
        o.flagged && to == Status::Cancelled && party == Party::Dealer && from.holds_stock();
    if !(allowed(from, to, party, mode) || recall_exit) {
        return Err(illegal(from, to));
    }
    // An online order's hand-over takes its money and a cancellation returns it: without a
    // provider neither can happen, and the order stays as it is.
    let settles = o.payment_method == PaymentMethod::Online
        && matches!(to, Status::Delivered | Status::Cancelled | Status::Expired);
    let provider = match provider {
        Some(p) => Some(p),
        None if settles => return Err(payment_unavailable()),
        None => None,
    };
    let reason = reason.trim();
    if to == Status::Cancelled && party == Party::Dealer && reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            Code::Required,
            "经销商取消订单必须说明原因",
            "a dealer must give a reason to cancel",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(Error::invalid(
            "reason",
            Code::TooLong,
            "原因不能超过 500 个字符",
            "the reason must be at most 500 characters",
        ));
    }
    let mut events = Vec::new();
    // The hand-over goes first: it takes stock rows, then lots (as every sale does), and the
    // order row last, so it never waits in a circle with a recall (which holds the lot and then
    // flags the orders holding it). If the order moved meanwhile, the update below fails and
    // the whole hand-over rolls back.
    if to == Status::Delivered {
        events.extend(hand_over(&txn, actor, &o, &codes, settings).await?);
    }
    // Conditional on the status read: a concurrent transition of the same order loses here.
    let moved = customer_order::Entity::update_many()
        .col_expr(customer_order::Column::Status, Expr::value(to.as_str()))
        .col_expr(customer_order::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(customer_order::Column::Id.eq(o.id))
        .filter(customer_order::Column::Status.eq(from.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if moved == 0 {
        let now_status = order(&txn, o.id).await?.status;
        return Err(illegal(now_status, to));
    }
    match to {
        Status::Cancelled | Status::Expired => {
            release(&txn, &o).await?;
            let mut am: customer_order::ActiveModel = order(&txn, o.id).await?.into();
            am.cancel_reason = Set(Some(if reason.is_empty() {
                to.as_str().to_lowercase()
            } else {
                reason.to_owned()
            }));
            am.update(&txn).await?;
        }
        _ => {}
    }
    record_event(&txn, o.id, Some(from), to, actor.map(|a| a.user_id), reason).await?;
    let mut o = order(&txn, o.id).await?;
    txn.commit().await?;
    // Money moves at the provider only once the transition is recorded, and outside the
    // transaction, so a slow gateway holds no lock.
    if settles && let Some(provider) = provider {
        settle(db, &o, to, provider).await?;
        o = order(db, o.id).await?;
    }
    events.insert(0, updated(&o));
    Ok((o, events))
}

pub(crate) async fn allocations_of(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> Result<Vec<(order_line::Model, order_allocation::Model)>> {
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .order_by_asc(order_line::Column::SkuId)
        .all(db)
        .await?;
    let allocs = order_allocation::Entity::find()
        .filter(order_allocation::Column::OrderLineId.is_in(lines.iter().map(|l| l.id)))
        .filter(order_allocation::Column::Status.eq(AllocationStatus::Reserved))
        .order_by_asc(order_allocation::Column::Id)
        .all(db)
        .await?;
    Ok(allocs
        .into_iter()
        .filter_map(|a| {
            lines
                .iter()
                .find(|l| l.id == a.order_line_id)
                .map(|l| (l.clone(), a))
        })
        .collect())
}

/// Gives back what an order held: reserved stock and dealer credit (an online authorisation is
/// voided by [`settle`] once the cancellation has committed).
async fn release(db: &impl ConnectionTrait, o: &customer_order::Model) -> Result<()> {
    for (_, a) in allocations_of(db, o.id).await? {
        stock_mod::release_reservation(db, a.stock_id, a.quantity).await?;
        let mut am: order_allocation::ActiveModel = a.into();
        am.status = Set(AllocationStatus::Released);
        am.update(db).await?;
    }
    if o.payment_method == PaymentMethod::DealerCredit {
        // What the order added to the balance comes off it again. If the farmer already
        // paid part of it back, the balance stops at zero rather than the release being
        // skipped (which would leave a cancelled order owed).
        credit_account::Entity::update_many()
            .col_expr(
                credit_account::Column::BalanceFen,
                Expr::case(
                    Expr::col(credit_account::Column::BalanceFen).gte(o.total_fen),
                    Expr::col(credit_account::Column::BalanceFen).sub(o.total_fen),
                )
                .finally(0)
                .into(),
            )
            .col_expr(credit_account::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(credit_account::Column::DealerId.eq(o.dealer_id))
            .filter(credit_account::Column::FarmerId.eq(o.farmer_id))
            .exec(db)
            .await?;
        set_payment_status(db, order(db, o.id).await?, PaymentStatus::CreditReleased).await?;
    }
    Ok(())
}

/// After an online order's transition has committed: captures its authorisation at the
/// hand-over, or voids it (refunds a capture) at a cancellation or expiry. Each payment row
/// moves only from the status it was read in, so a concurrent callback is not overwritten. A
/// provider that fails is logged and the payment keeps its status (the transition stands);
/// the provider's callback can still report the outcome.
async fn settle(
    db: &impl ConnectionTrait,
    o: &customer_order::Model,
    to: Status,
    provider: &dyn Provider,
) -> Result<()> {
    let mut all_ok = true;
    for p in payment::Entity::find()
        .filter(payment::Column::OrderId.eq(o.id))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?
    {
        let done = match (to, p.status) {
            (Status::Delivered, ChargeStatus::Authorised) => provider
                .capture(&p.provider_ref, p.amount_fen)
                .await
                .map(|()| ChargeStatus::Captured),
            (Status::Cancelled | Status::Expired, ChargeStatus::Authorised) => provider
                .void(&p.provider_ref, p.amount_fen)
                .await
                .map(|()| ChargeStatus::Voided),
            (Status::Cancelled | Status::Expired, ChargeStatus::Captured) => provider
                .refund(&p.provider_ref, p.amount_fen)
                .await
                .map(|()| ChargeStatus::Refunded),
            _ => continue,
        };
        match done {
            Ok(status) => {
                payment::Entity::update_many()
                    .col_expr(payment::Column::Status, Expr::value(status))
                    .col_expr(payment::Column::UpdatedAt, Expr::value(crate::now()))
                    .filter(payment::Column::Id.eq(p.id))
                    .filter(payment::Column::Status.eq(p.status))
                    .exec(db)
                    .await?;
                if to != Status::Delivered {
                    set_payment_status(db, order(db, o.id).await?, status.into()).await?;
                }
            }
            Err(e) => {
                all_ok = false;
                tracing::error!(order = o.id, reference = %p.provider_ref, error = %e, to = to.as_str(), "the payment provider failed after the order moved; the payment keeps its status");
            }
        }
    }
    if to == Status::Delivered && all_ok {
        set_payment_status(db, order(db, o.id).await?, PaymentStatus::Captured).await?;
    }
    Ok(())
}

/// Expires PLACED orders past their confirmation deadline (the background task calls this on
/// every node; the conditional transition makes each expiry happen once).
pub async fn expire_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    provider: Option<&dyn Provider>,
    settings: Settings,
) -> Result<Vec<DomainEvent>> {
    let due = customer_order::Entity::find()
        .filter(customer_order::Column::Status.eq(Status::Placed))
        .filter(customer_order::Column::ExpiresAt.lt(crate::now()))
        .order_by_asc(customer_order::Column::Id)
        .limit(500)
        .all(db)
        .await?;
    let mut events = Vec::new();
    for o in due {
        match transition(
            db,
            None,
            o.id,
            Status::Expired,
            "未在规定时间内确认 / not confirmed in time",
            provider,
            settings,
        )
        .await
        {
            Ok((_, ev)) => events.extend(ev),
            // Confirmed or cancelled meanwhile: nothing to do.
            Err(Error::IllegalTransition { .. }) => {}
            // An online order on a server without its provider waits until one is configured;
            // the other due orders still expire.
            Err(Error::Invalid(errs))
                if errs.iter().any(|e| e.code == Code::PaymentUnavailable) =>
            {
                tracing::warn!(
                    order = o.id,
                    "not expired: it was paid online and no payment provider is configured"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(events)
}

/// Inside a recall's transaction: flags the open orders that hold the lot and tells their
/// farmers and dealers.
pub async fn flag_for_recall(
    db: &impl ConnectionTrait,
    l: &lot::Model,
) -> Result<Vec<DomainEvent>> {
    let allocs = order_allocation::Entity::find()
        .filter(order_allocation::Column::LotId.eq(l.id))
        .filter(order_allocation::Column::Status.eq(AllocationStatus::Reserved))
        .all(db)
        .await?;
    let line_ids: BTreeSet<i64> = allocs.iter().map(|a| a.order_line_id).collect();
    let order_ids: BTreeSet<i64> = order_line::Entity::find()
        .filter(order_line::Column::Id.is_in(line_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.order_id)
        .collect();
    let mut events = Vec::new();
    for o in customer_order::Entity::find()
        .filter(customer_order::Column::Id.is_in(order_ids))
        .all(db)
        .await?
    {
        if !o.status.holds_stock() {
            continue;
        }
        let mut am: customer_order::ActiveModel = o.clone().into();
        am.flagged = Set(true);
        am.flag_reason = Set(Some(format!(
            "批次 {} 已召回 / lot {} recalled",
            l.lot_no, l.lot_no
        )));
        am.updated_at = Set(crate::now());
        let o = am.update(db).await?;
        let msg = crate::notify::Message {
            kind: crate::types::NotificationKind::OrderFlagged,
            title_zh: format!("订单 #{} 含被召回批次", o.id),
            title_en: format!("Order #{} holds a recalled lot", o.id),
            body_zh: format!(
                "订单 #{} 中的批次 {} 已被召回，经销商将取消或更换。",
                o.id, l.lot_no
            ),
            body_en: format!(
                "Lot {} in order #{} was recalled; the dealer will cancel or replace it.",
                l.lot_no, o.id
            ),
            payload: serde_json::json!({ "orderId": o.id, "lotId": l.id }),
        };
        let mut users = vec![o.farmer_id];
        users.extend(
            app_user::Entity::find()
                .filter(app_user::Column::DealerId.eq(o.dealer_id))
                .all(db)
                .await?
                .into_iter()
                .map(|u| u.id),
        );
        events.extend(crate::notify::notify_all(db, &users, &msg).await?);
        events.push(updated(&o));
    }
    Ok(events)
}
/// A provider's signed notice about a payment (CAPTURED, REFUNDED, FAILED). The signature is
/// checked by the caller.
pub async fn payment_callback(
    db: &impl ConnectionTrait,
    provider_ref: &str,
    status: &str,
) -> Result<(customer_order::Model, Vec<DomainEvent>)> {
    let Some(status) = ChargeStatus::parse(status) else {
        return Err(Error::invalid(
            "status",
            Code::InvalidFormat,
            "未知的支付状态",
            "unknown payment status",
        ));
    };
    let p = payment::Entity::find()
        .filter(payment::Column::ProviderRef.eq(provider_ref))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("payment", provider_ref))?;
    let order_id = p.order_id;
    let mut am: payment::ActiveModel = p.into();
    am.status = Set(status);
    am.updated_at = Set(crate::now());
    am.update(db).await?;
    let o = set_payment_status(db, order(db, order_id).await?, status.into()).await?;
    Ok((o.clone(), vec![updated(&o)]))
}
