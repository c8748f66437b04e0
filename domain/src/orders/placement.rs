//! Checkout: the cart split by dealer into orders in one transaction, all or nothing, with an
//! idempotency key; online payments authorised before the transaction and voided when it fails.

use super::*;

/// How one dealer's part of the cart is delivered and paid.
#[derive(Clone, Debug)]
pub struct OrderOptions {
    pub delivery_mode: DeliveryMode,
    pub station_id: Option<i64>,
    pub address: Option<String>,
    pub payment_method: PaymentMethod,
    /// For pesticides: what they are for, and where (label dose x area).
    pub crop: Option<String>,
    pub target: Option<String>,
    pub field_id: Option<i64>,
    pub note: String,
}

#[derive(Clone, Debug)]
pub struct PlaceInput {
    pub default: OrderOptions,
    /// Per-dealer choices that replace the default.
    pub per_dealer: BTreeMap<i64, OrderOptions>,
}

/// Knobs the service needs from configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How long a PLACED order waits for the dealer before it expires.
    pub confirm_within: Duration,
    /// Below this many sellable units a dealer gets a LOW_STOCK alert.
    pub low_stock_threshold: i64,
}

#[derive(Debug)]
pub struct Placed {
    pub orders: Vec<customer_order::Model>,
    /// True when the key had been used: these are the first call's orders.
    pub replayed: bool,
    pub events: Vec<DomainEvent>,
}

/// Places the cart as one order per dealer. The same key from the same farmer returns the first
/// result and never a second order.
pub async fn place<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    key: &str,
    input: PlaceInput,
    provider: Option<&dyn Provider>,
    settings: Settings,
) -> Result<Placed> {
    place_from(db, actor, key, input, None, provider, settings).await
}

/// One line of an order queued on a phone with no signal: the offer, how many, and the price
/// the farmer saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuedLine {
    pub offer_id: i64,
    pub quantity: i64,
    pub seen_price_fen: i64,
}

/// Places an order queued offline (the phone's outbox), not the cart. A queued order is a
/// request, not an order: everything is checked again now (price, stock, lots, licences,
/// delivery), a price that went up since the farmer saw it refuses the order, and restricted-use
/// pesticides are never taken from an outbox (they need the farmer's real-name step at the
/// time of the order). The key makes a resend after a lost answer return the first orders.
pub async fn place_queued<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    key: &str,
    lines: &[QueuedLine],
    input: PlaceInput,
    provider: Option<&dyn Provider>,
    settings: Settings,
) -> Result<Placed> {
    if lines.is_empty() {
        return Err(Error::invalid(
            "lines",
            Code::CartEmpty,
            "离线订单是空的",
            "the queued order is empty",
        ));
    }
    if lines.len() > 50 {
        return Err(Error::invalid(
            "lines",
            Code::OutOfRange,
            "一个订单最多 50 行",
            "an order has at most 50 lines",
        ));
    }
    place_from(db, actor, key, input, Some(lines), provider, settings).await
}

async fn place_from<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    key: &str,
    input: PlaceInput,
    queued: Option<&[QueuedLine]>,
    provider: Option<&dyn Provider>,
    settings: Settings,
) -> Result<Placed> {
    actor.require(actor.role == Role::Farmer)?;
    let key = key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(Error::invalid(
            "idempotencyKey",
            Code::InvalidFormat,
            "幂等键应为 1 到 100 个字符",
            "the idempotency key must be 1 to 100 characters",
        ));
    }
    if let Some(done) = replay(db, actor.user_id, key).await? {
        return Ok(done);
    }
    // Online payments are authorised before the transaction opens (a gateway may take seconds
    // to answer, and no row lock may wait for it), and voided again whenever the checkout does
    // not record them: a later dealer's order refused, the commit failing, or a concurrent call
    // with the same key winning.
    let holds = authorise_online(db, actor, key, &input, queued, provider).await?;
    let result = place_txn(db, actor, key, &input, queued, provider, &holds, settings).await;
    if !matches!(&result, Ok(p) if !p.replayed)
        && let Some(provider) = provider
    {
        void_holds(provider, &holds).await;
    }
    result
}

/// An authorisation made at the provider for one dealer's order of a checkout, before the
/// checkout's transaction.
#[derive(Clone, Debug)]
pub(crate) struct Hold {
    pub(crate) dealer_id: i64,
    pub(crate) reference: String,
    pub(crate) amount_fen: i64,
}

pub(crate) fn payment_unavailable() -> Error {
    Error::invalid(
        "paymentMethod",
        Code::PaymentUnavailable,
        "本服务器未开通在线支付，请选择货到付款或经销商赊账",
        "online payment is not available on this server: choose pay on delivery or dealer credit",
    )
}

/// Authorises the amount of every dealer's order that is paid ONLINE, reading the cart (or the
/// queued lines) and the offers without locking anything. The transaction checks each amount
/// again; a cart that changed in between refuses the checkout (and the holds are voided).
async fn authorise_online(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &str,
    input: &PlaceInput,
    queued: Option<&[QueuedLine]>,
    provider: Option<&dyn Provider>,
) -> Result<Vec<Hold>> {
    let lines: Vec<(i64, i64)> = match queued {
        Some(q) => q.iter().map(|l| (l.offer_id, l.quantity)).collect(),
        None => cart_line::Entity::find()
            .filter(cart_line::Column::FarmerId.eq(actor.user_id))
            .all(db)
            .await?
            .into_iter()
            .map(|l| (l.offer_id, l.quantity))
            .collect(),
    };
    let mut totals: BTreeMap<i64, i64> = BTreeMap::new();
    for (offer_id, quantity) in lines {
        // A missing offer is the transaction's to report, with the line it belongs to.
        let Some(o) = offer::Entity::find_by_id(offer_id).one(db).await? else {
            continue;
        };
        let opts = input.per_dealer.get(&o.dealer_id).unwrap_or(&input.default);
        if opts.payment_method == PaymentMethod::Online {
            *totals.entry(o.dealer_id).or_default() += o.price_fen * quantity;
        }
    }
    if totals.is_empty() {
        return Ok(vec![]);
    }
    let Some(provider) = provider else {
        return Err(payment_unavailable());
    };
    let mut holds = Vec::new();
    for (dealer_id, amount_fen) in totals {
        let merchant_ref = format!("{}-{key}-{dealer_id}", actor.user_id);
        match provider.authorise(&merchant_ref, amount_fen).await {
            Ok(reference) => holds.push(Hold {
                dealer_id,
                reference,
                amount_fen,
            }),
            Err(e) => {
                void_holds(provider, &holds).await;
                return Err(match e {
                    PaymentError::Declined(why) => Error::invalid(
                        "paymentMethod",
                        Code::PaymentDeclined,
                        format!("支付未获授权：{why}"),
                        format!("payment declined: {why}"),
                    ),
                    e => Error::Internal(e.to_string()),
                });
            }
        }
    }
    Ok(holds)
}

/// Voids authorisations no order records. A failure is logged: the money stays held at the
/// provider until its authorisation lapses.
async fn void_holds(provider: &dyn Provider, holds: &[Hold]) {
    for h in holds {
        if let Err(e) = provider.void(&h.reference, h.amount_fen).await {
            tracing::error!(reference = %h.reference, error = %e, "could not void the authorisation of a failed checkout");
        }
    }
}

/// The checkout's transaction: every order, reservation and payment record, or none.
#[allow(clippy::too_many_arguments)]
async fn place_txn<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    key: &str,
    input: &PlaceInput,
    queued: Option<&[QueuedLine]>,
    provider: Option<&dyn Provider>,
    holds: &[Hold],
    settings: Settings,
) -> Result<Placed> {
    let txn = crate::begin_write(db).await?;
    let now = crate::now();
    let inserted = checkout::ActiveModel {
        farmer_id: Set(actor.user_id),
        idempotency_key: Set(key.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let co = match inserted {
        Ok(c) => c,
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            // A concurrent call with the same key won: answer with its orders.
            txn.rollback().await?;
            return replay(db, actor.user_id, key)
                .await?
                .ok_or_else(|| Error::Internal("idempotency key vanished".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let placed = place_in(
        &txn,
        actor,
        co.id,
        input,
        queued,
        provider.map(|p| p.name()),
        holds,
        settings,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(placed)
}

async fn replay(db: &impl ConnectionTrait, farmer_id: i64, key: &str) -> Result<Option<Placed>> {
    let Some(co) = checkout::Entity::find()
        .filter(checkout::Column::FarmerId.eq(farmer_id))
        .filter(checkout::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let orders = customer_order::Entity::find()
        .filter(customer_order::Column::CheckoutId.eq(co.id))
        .order_by_asc(customer_order::Column::Id)
        .all(db)
        .await?;
    Ok(Some(Placed {
        orders,
        replayed: true,
        events: vec![],
    }))
}

/// A cart line at checkout: its index in the cart, the line, and what it is (offer, pack,
/// product).
pub(crate) type CheckoutLine = (
    usize,
    cart_line::Model,
    offer::Model,
    sku::Model,
    product::Model,
);

/// Everything a checkout writes, inside its transaction.
#[allow(clippy::too_many_arguments)]
async fn place_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    checkout_id: i64,
    input: &PlaceInput,
    queued: Option<&[QueuedLine]>,
    provider_name: Option<&'static str>,
    holds: &[Hold],
    settings: Settings,
    now: DateTime<Utc>,
) -> Result<Placed> {
    let farmer = app_user::Entity::find_by_id(actor.user_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user", actor.user_id))?;
    let lines = match queued {
        // Lines from the outbox stand in for cart lines (id 0: nothing to remove afterwards).
        Some(q) => q
            .iter()
            .map(|l| cart_line::Model {
                id: 0,
                farmer_id: actor.user_id,
                offer_id: l.offer_id,
                quantity: l.quantity,
                price_fen_when_added: l.seen_price_fen,
                created_at: now,
                updated_at: now,
                recommendation_id: None,
            })
            .collect(),
        None => {
            // The cart lines are locked for the checkout (PostgreSQL `FOR UPDATE`; SQLite's
            // write transaction already excludes every other writer): a second checkout of
            // the same cart under another key waits, then finds it empty, instead of ordering
            // it twice.
            let mut lines = cart_line::Entity::find()
                .filter(cart_line::Column::FarmerId.eq(actor.user_id))
                .order_by_asc(cart_line::Column::Id);
            if db.get_database_backend() == sea_orm::DbBackend::Postgres {
                lines = lines.lock_exclusive();
            }
            lines.all(db).await?
        }
    };
    if lines.is_empty() {
        return Err(Error::invalid(
            "cart",
            Code::CartEmpty,
            "购物车是空的",
            "the cart is empty",
        ));
    }
    // Group by dealer; within a dealer, lines by SKU so every order locks stock rows in the
    // same order (no deadlocks between concurrent checkouts).
    let mut groups: BTreeMap<i64, Vec<CheckoutLine>> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        let o = offer::Entity::find_by_id(l.offer_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("offer", l.offer_id))?;
        let field = format!("cart.{i}");
        if !o.active {
            return Err(Error::invalid(
                field,
                Code::OfferUnavailable,
                "经销商已下架该商品，请从购物车删除",
                "the dealer withdrew this offer: remove it from the cart",
            ));
        }
        let s = sku::Entity::find_by_id(o.sku_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("sku", o.sku_id))?;
        let p = product::Entity::find_by_id(s.product_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("product", s.product_id))?;
        if p.status != crate::types::ProductStatus::Active {
            return Err(Error::invalid(
                field,
                Code::OfferUnavailable,
                "该产品已停售",
                "this product is delisted",
            ));
        }
        if queued.is_some() {
            check_queued_line(&field, l, &o, &p)?;
        }
        groups
            .entry(o.dealer_id)
            .or_default()
            .push((i, l.clone(), o, s, p));
    }
    let mut orders = Vec::new();
    let mut events = Vec::new();
    for (dealer_id, mut group) in groups {
        group.sort_by_key(|g| g.3.id);
        let opts = input.per_dealer.get(&dealer_id).unwrap_or(&input.default);
        let warnings = check_order(db, &farmer, dealer_id, opts, &group).await?;
        let total: i64 = group.iter().map(|g| g.2.price_fen * g.1.quantity).sum();
        let order = customer_order::ActiveModel {
            checkout_id: Set(checkout_id),
            farmer_id: Set(actor.user_id),
            dealer_id: Set(dealer_id),
            status: Set(Status::Placed),
            delivery_mode: Set(opts.delivery_mode),
            station_id: Set(opts.station_id),
            delivery_address: Set(opts.address.clone().filter(|a| !a.trim().is_empty())),
            payment_method: Set(opts.payment_method),
            payment_status: Set(PaymentStatus::Pending),
            total_fen: Set(total),
            field_id: Set(opts.field_id),
            crop: Set(opts
                .crop
                .as_deref()
                .map(|c| crops::resolve(c).unwrap_or(c).to_owned())),
            target: Set(opts.target.clone()),
            note: Set(opts.note.trim().into()),
            warnings: Set(warnings.join("\n")),
            flagged: Set(false),
            flag_reason: Set(None),
            cancel_reason: Set(None),
            sale_id: Set(None),
            placed_at: Set(now),
            expires_at: Set(now + settings.confirm_within),
            updated_at: Set(now),
            placed_by: Set(actor.assisted_by),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let locations: Vec<i64> = location::Entity::find()
            .filter(location::Column::DealerId.eq(dealer_id))
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.id)
            .chain(
                stock::Entity::find()
                    .filter(stock::Column::DealerId.eq(dealer_id))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|s| s.location_id),
            )
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut reserved = Vec::new();
        for (i, l, o, s, p) in &group {
            let ol = order_line::ActiveModel {
                order_id: Set(order.id),
                offer_id: Set(o.id),
                sku_id: Set(s.id),
                quantity: Set(l.quantity),
                unit_price_fen: Set(o.price_fen),
                product_name_zh: Set(p.name_zh.clone()),
                product_name_en: Set(p.name_en.clone()),
                pack: Set(crate::catalog::pack_label(s)),
                recommendation_id: Set(l.recommendation_id),
                ..Default::default()
            }
            .insert(db)
            .await?;
            let allocs = reserve(db, dealer_id, &locations, *i, s, p, l.quantity).await?;
            reserved.push((ol.id, *i, s, p, allocs));
        }
        // Only now are the lots read again, under a shared lock taken after the stock rows (the
        // order a sale takes them in): a recall that committed since the allocation read its
        // lots is seen here, and one not yet committed waits for this checkout and then flags
        // it. Reservations that landed on a lot recalled (or held) meanwhile are given back and
        // taken from the remaining sellable lots.
        loop {
            let lot_ids: BTreeSet<i64> = reserved
                .iter()
                .flat_map(|r| r.4.iter().map(|a| a.lot_id))
                .collect();
            let bad = unsellable_lots(db, &lot_ids, true).await?;
            if bad.is_empty() {
                break;
            }
            for (_, i, s, p, allocs) in &mut reserved {
                let mut missing = 0;
                for a in allocs.iter().filter(|a| bad.contains(&a.lot_id)) {
                    stock_mod::release_reservation(db, a.stock_id, a.quantity).await?;
                    missing += a.quantity;
                }
                if missing > 0 {
                    allocs.retain(|a| !bad.contains(&a.lot_id));
                    let more = reserve(db, dealer_id, &locations, *i, s, p, missing).await?;
                    allocs.extend(more);
                }
            }
        }
        for (line_id, _, _, _, allocs) in reserved {
            for a in allocs {
                order_allocation::ActiveModel {
                    order_line_id: Set(line_id),
                    stock_id: Set(a.stock_id),
                    location_id: Set(a.location_id),
                    lot_id: Set(a.lot_id),
                    quantity: Set(a.quantity),
                    status: Set(AllocationStatus::Reserved),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
        }
        let payment_status = charge(db, &order, opts.payment_method, provider_name, holds).await?;
        let order = set_payment_status(db, order, payment_status).await?;
        let by = actor.assisted_by.unwrap_or(actor.user_id);
        record_event(db, order.id, None, Status::Placed, Some(by), "").await?;
        events.push(updated(&order));
        events.extend(
            low_stock_alerts(
                db,
                dealer_id,
                group.iter().map(|g| g.3.id).collect(),
                settings.low_stock_threshold,
            )
            .await?,
        );
        if queued.is_none() {
            for (_, l, ..) in &group {
                cart_line::Entity::delete_by_id(l.id).exec(db).await?;
            }
        }
        orders.push(order);
    }
    Ok(Placed {
        orders,
        replayed: false,
        events,
    })
}
