//! Ordering from a phone: a cart kept on the server, checkout split by dealer into orders that
//! reserve stock (earliest expiry first, never from an expired, recalled or held lot; all or
//! nothing), an idempotency key enforced by a unique constraint, an explicit transition table,
//! expiry of unconfirmed orders, dealer credit, online payment, and the hand-over that turns a
//! reservation into a sale exactly as a counter sale does.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};

use crate::accounts::{Actor, DealerRole, Role};
use crate::catalog::crops;
use crate::entities::{
    app_user, cart_line, checkout, credit_account, credit_repayment, customer_order,
    dealer_service_area, field, location, lot, offer, order_allocation, order_event, order_line,
    payment, pesticide_use, product, sale, service_station, sku, stock, unit_code,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::events::DomainEvent;
use crate::lots::trace;
use crate::payments::{PaymentError, Provider};
use crate::stock::{self as stock_mod, AllocMode, Allocation, Buyer};
use crate::types::{self, Fen};

pub mod desk;

// ---------------------------------------------------------------- states and transitions

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Placed,
    Confirmed,
    ReadyForPickup,
    OutForDelivery,
    Delivered,
    Completed,
    Cancelled,
    Expired,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Placed,
        Status::Confirmed,
        Status::ReadyForPickup,
        Status::OutForDelivery,
        Status::Delivered,
        Status::Completed,
        Status::Cancelled,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Placed => "PLACED",
            Status::Confirmed => "CONFIRMED",
            Status::ReadyForPickup => "READY_FOR_PICKUP",
            Status::OutForDelivery => "OUT_FOR_DELIVERY",
            Status::Delivered => "DELIVERED",
            Status::Completed => "COMPLETED",
            Status::Cancelled => "CANCELLED",
            Status::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// A state's short name, in Chinese and English (the dealer's desk and error messages).
    /// The state as a refusal names it.
    pub fn name(self) -> crate::error::StateName {
        let (zh, en) = self.words();
        crate::error::StateName {
            code: self.as_str(),
            zh,
            en,
        }
    }

    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Status::Placed => ("新订单", "new"),
            Status::Confirmed => ("已确认", "confirmed"),
            Status::ReadyForPickup => ("待取货", "ready to collect"),
            Status::OutForDelivery => ("配送中", "out for delivery"),
            Status::Delivered => ("已交货", "handed over"),
            Status::Completed => ("已完成", "completed"),
            Status::Cancelled => ("已取消", "cancelled"),
            Status::Expired => ("超时关闭", "expired"),
        }
    }

    /// Orders that still hold a reservation.
    pub fn holds_stock(self) -> bool {
        matches!(
            self,
            Status::Placed | Status::Confirmed | Status::ReadyForPickup | Status::OutForDelivery
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryMode {
    Pickup,
    VillageStation,
    Home,
}

impl DeliveryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Pickup => "PICKUP",
            DeliveryMode::VillageStation => "VILLAGE_STATION",
            DeliveryMode::Home => "HOME",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "PICKUP" => DeliveryMode::Pickup,
            "VILLAGE_STATION" => DeliveryMode::VillageStation,
            "HOME" => DeliveryMode::Home,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethod {
    CashOnDelivery,
    DealerCredit,
    Online,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::CashOnDelivery => "CASH_ON_DELIVERY",
            PaymentMethod::DealerCredit => "DEALER_CREDIT",
            PaymentMethod::Online => "ONLINE",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CASH_ON_DELIVERY" => PaymentMethod::CashOnDelivery,
            "DEALER_CREDIT" => PaymentMethod::DealerCredit,
            "ONLINE" => PaymentMethod::Online,
            _ => return None,
        })
    }
}

/// Who asks for a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    Farmer,
    Dealer,
    /// The expiry task.
    System,
}

/// The transition table: (from, to, who may, which delivery modes; empty = any). One more way
/// out exists for an order flagged by a recall: its dealer may cancel it from any state that
/// still holds stock (see [`transition`]).
pub const TRANSITIONS: &[(Status, Status, &[Party], &[DeliveryMode])] = &[
    (Status::Placed, Status::Confirmed, &[Party::Dealer], &[]),
    (
        Status::Placed,
        Status::Cancelled,
        &[Party::Farmer, Party::Dealer],
        &[],
    ),
    (Status::Placed, Status::Expired, &[Party::System], &[]),
    (
        Status::Confirmed,
        Status::ReadyForPickup,
        &[Party::Dealer],
        &[DeliveryMode::Pickup, DeliveryMode::VillageStation],
    ),
    (
        Status::Confirmed,
        Status::OutForDelivery,
        &[Party::Dealer],
        &[DeliveryMode::Home, DeliveryMode::VillageStation],
    ),
    (Status::Confirmed, Status::Cancelled, &[Party::Dealer], &[]),
    (
        Status::ReadyForPickup,
        Status::Delivered,
        &[Party::Dealer],
        &[],
    ),
    (
        Status::OutForDelivery,
        Status::Delivered,
        &[Party::Dealer],
        &[],
    ),
    (
        Status::Delivered,
        Status::Completed,
        &[Party::Farmer, Party::Dealer],
        &[],
    ),
];

pub fn allowed(from: Status, to: Status, by: Party, mode: DeliveryMode) -> bool {
    TRANSITIONS.iter().any(|(f, t, who, modes)| {
        *f == from && *t == to && who.contains(&by) && (modes.is_empty() || modes.contains(&mode))
    })
}

fn illegal(from: Status, to: Status) -> Error {
    Error::IllegalTransition {
        from: from.name(),
        to: to.name(),
    }
}

// ---------------------------------------------------------------- cart

/// Something wrong with a cart line, reported as data so the farmer can decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartProblem {
    /// PRICE_CHANGED, INSUFFICIENT_STOCK, LOT_RECALLED, REAL_NAME_REQUIRED, OFFER_WITHDRAWN,
    /// PRODUCT_DELISTED, OUTSIDE_SERVICE_AREA (the dealer does not serve the farmer's village).
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

#[derive(Clone, Debug)]
pub struct CartLineView {
    pub line: cart_line::Model,
    pub offer: offer::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    /// Sellable, unreserved stock of this pack at the dealer.
    pub available: i64,
    pub problems: Vec<CartProblem>,
}

impl CartLineView {
    pub fn subtotal_fen(&self) -> i64 {
        self.offer.price_fen * self.line.quantity
    }
}

/// Sellable, unreserved units of a SKU a dealer holds, over all its locations.
pub async fn available_of(db: &impl ConnectionTrait, dealer_id: i64, sku_id: i64) -> Result<i64> {
    let today = crate::today();
    let lots: BTreeMap<i64, lot::Model> = lot::Entity::find()
        .filter(lot::Column::SkuId.eq(sku_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|l| trace::sellable(l, today))
        .map(|l| (l.id, l))
        .collect();
    Ok(stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::LotId.is_in(lots.keys().copied()))
        .all(db)
        .await?
        .iter()
        .map(|s| s.on_hand - s.reserved)
        .sum())
}

async fn recalled_stock_of(db: &impl ConnectionTrait, dealer_id: i64, sku_id: i64) -> Result<bool> {
    let recalled: Vec<i64> = lot::Entity::find()
        .filter(lot::Column::SkuId.eq(sku_id))
        .filter(lot::Column::Status.eq(crate::types::LotStatus::Recalled))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    if recalled.is_empty() {
        return Ok(false);
    }
    Ok(stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::LotId.is_in(recalled))
        .filter(stock::Column::OnHand.gt(0))
        .one(db)
        .await?
        .is_some())
}

/// The farmer's cart, each line with its current price, availability and problems.
pub async fn cart(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<CartLineView>> {
    actor.require(actor.role == Role::Farmer)?;
    let me = app_user::Entity::find_by_id(actor.user_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user", actor.user_id))?;
    let lines = cart_line::Entity::find()
        .filter(cart_line::Column::FarmerId.eq(actor.user_id))
        .order_by_asc(cart_line::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for l in lines {
        let o = offer::Entity::find_by_id(l.offer_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("offer", l.offer_id))?;
        let s = sku::Entity::find_by_id(o.sku_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("sku", o.sku_id))?;
        let p = product::Entity::find_by_id(s.product_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("product", s.product_id))?;
        let available = available_of(db, o.dealer_id, s.id).await?;
        let mut problems = Vec::new();
        if !o.active {
            problems.push(CartProblem {
                code: "OFFER_WITHDRAWN",
                zh: "经销商已下架该商品".into(),
                en: "the dealer withdrew this offer".into(),
            });
        }
        if p.status != "ACTIVE" {
            problems.push(CartProblem {
                code: "PRODUCT_DELISTED",
                zh: "该产品已停售".into(),
                en: "this product is delisted".into(),
            });
        }
        if o.price_fen != l.price_fen_when_added {
            problems.push(CartProblem {
                code: "PRICE_CHANGED",
                zh: format!(
                    "价格已从 {} 变为 {}",
                    Fen(l.price_fen_when_added),
                    Fen(o.price_fen)
                ),
                en: format!(
                    "the price changed from {} to {}",
                    Fen(l.price_fen_when_added),
                    Fen(o.price_fen)
                ),
            });
        }
        if available < l.quantity {
            problems.push(CartProblem {
                code: "INSUFFICIENT_STOCK",
                zh: format!("库存不足：可购 {available}，购物车中 {}", l.quantity),
                en: format!(
                    "not enough stock: {available} available, {} in the cart",
                    l.quantity
                ),
            });
        }
        // A recalled lot matters to the farmer only when it is why the line cannot be filled;
        // other sellable lots of the pack fill it as well.
        if available < l.quantity && recalled_stock_of(db, o.dealer_id, s.id).await? {
            problems.push(CartProblem {
                code: "LOT_RECALLED",
                zh: "该商品有批次被召回，已不再销售这些批次".into(),
                en: "a lot of this product was recalled and is no longer sold".into(),
            });
        }
        if let Some(v) = me.village_id {
            let serves = dealer_service_area::Entity::find()
                .filter(dealer_service_area::Column::DealerId.eq(o.dealer_id))
                .filter(dealer_service_area::Column::VillageId.eq(v))
                .one(db)
                .await?
                .is_some();
            if !serves {
                let d = crate::regions::dealer(db, o.dealer_id).await?;
                problems.push(CartProblem {
                    code: "OUTSIDE_SERVICE_AREA",
                    zh: format!(
                        "经销商「{}」的服务范围不含您的村，不能送到您村的服务站",
                        d.name_zh
                    ),
                    en: format!(
                        "{} does not serve your village: it cannot deliver to your village's station",
                        d.name_en
                    ),
                });
            }
        }
        if p.restricted_use && me.verified_at.is_none() {
            problems.push(CartProblem {
                code: "REAL_NAME_REQUIRED",
                zh: "限制使用农药需要实名购买：请先填写实名信息".into(),
                en: "restricted-use pesticide: add your real-name data first".into(),
            });
        }
        out.push(CartLineView {
            line: l,
            offer: o,
            sku: s,
            product: p,
            available,
            problems,
        });
    }
    Ok(out)
}

/// Sets the quantity of an offer in the cart (0 removes it).
pub async fn cart_set(
    db: &impl ConnectionTrait,
    actor: &Actor,
    offer_id: i64,
    quantity: i64,
) -> Result<()> {
    actor.require(actor.role == Role::Farmer)?;
    if !(0..=100_000).contains(&quantity) {
        return Err(Error::invalid(
            "quantity",
            Code::OutOfRange,
            "数量应在 0 到 100000 之间",
            "quantity must be 0 to 100,000",
        ));
    }
    let o = offer::Entity::find_by_id(offer_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "offerId",
                Code::UnknownReference,
                "报价不存在",
                "no such offer",
            )
        })?;
    let existing = cart_line::Entity::find()
        .filter(cart_line::Column::FarmerId.eq(actor.user_id))
        .filter(cart_line::Column::OfferId.eq(offer_id))
        .one(db)
        .await?;
    let now = crate::now();
    match (existing, quantity) {
        (Some(l), 0) => {
            cart_line::Entity::delete_by_id(l.id).exec(db).await?;
        }
        (Some(l), q) => {
            let mut am: cart_line::ActiveModel = l.into();
            am.quantity = Set(q);
            am.updated_at = Set(now);
            am.update(db).await?;
        }
        (None, 0) => {}
        (None, q) => {
            if !o.active {
                return Err(Error::invalid(
                    "offerId",
                    Code::OfferUnavailable,
                    "经销商已下架该商品",
                    "the dealer withdrew this offer",
                ));
            }
            cart_line::ActiveModel {
                farmer_id: Set(actor.user_id),
                offer_id: Set(offer_id),
                quantity: Set(q),
                price_fen_when_added: Set(o.price_fen),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(|e| {
                crate::accounts::unique_violation(
                    e,
                    "offerId",
                    "购物车中已有该商品",
                    "already in the cart",
                )
            })?;
        }
    }
    Ok(())
}

/// Accepts the current prices of the cart (after a PRICE_CHANGED problem).
pub async fn cart_accept_prices(db: &impl ConnectionTrait, actor: &Actor) -> Result<()> {
    actor.require(actor.role == Role::Farmer)?;
    for l in cart_line::Entity::find()
        .filter(cart_line::Column::FarmerId.eq(actor.user_id))
        .all(db)
        .await?
    {
        if let Some(o) = offer::Entity::find_by_id(l.offer_id).one(db).await?
            && o.price_fen != l.price_fen_when_added
        {
            let mut am: cart_line::ActiveModel = l.into();
            am.price_fen_when_added = Set(o.price_fen);
            am.updated_at = Set(crate::now());
            am.update(db).await?;
        }
    }
    Ok(())
}

pub async fn cart_clear(db: &impl ConnectionTrait, actor: &Actor) -> Result<()> {
    actor.require(actor.role == Role::Farmer)?;
    cart_line::Entity::delete_many()
        .filter(cart_line::Column::FarmerId.eq(actor.user_id))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- checkout

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
    provider: &dyn Provider,
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
    provider: &dyn Provider,
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
    provider: &dyn Provider,
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
    // Authorisations made at the provider for this checkout; voided again if it fails after
    // them (a later dealer's order refused, or the commit failing), so no money stays held for
    // orders that do not exist.
    let mut authorised = Vec::new();
    let result = match place_in(
        &txn,
        actor,
        co.id,
        &input,
        queued,
        provider,
        settings,
        now,
        &mut authorised,
    )
    .await
    {
        Ok(placed) => txn.commit().await.map(|()| placed).map_err(Error::from),
        Err(e) => Err(e),
    };
    if result.is_err() {
        for (reference, amount) in &authorised {
            if let Err(e) = provider.refund(reference, *amount) {
                tracing::error!(%reference, error = %e, "could not void the authorisation of a failed checkout");
            }
        }
    }
    result
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
type CheckoutLine = (
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
    provider: &dyn Provider,
    settings: Settings,
    now: DateTime<Utc>,
    authorised: &mut Vec<(String, i64)>,
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
        if p.status != "ACTIVE" {
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
            status: Set(Status::Placed.as_str().into()),
            delivery_mode: Set(opts.delivery_mode.as_str().into()),
            station_id: Set(opts.station_id),
            delivery_address: Set(opts.address.clone().filter(|a| !a.trim().is_empty())),
            payment_method: Set(opts.payment_method.as_str().into()),
            payment_status: Set("PENDING".into()),
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
                    status: Set("RESERVED".into()),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
        }
        let payment_status = charge(db, &order, opts.payment_method, provider, authorised).await?;
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

/// The rules a queued line meets on top of a cart line's: a sane quantity, no restricted-use
/// pesticide, and a price no higher than the one the farmer agreed to.
fn check_queued_line(
    field: &str,
    l: &cart_line::Model,
    o: &offer::Model,
    p: &product::Model,
) -> Result<()> {
    if !(1..=100_000).contains(&l.quantity) {
        return Err(Error::invalid(
            format!("{field}.quantity"),
            Code::OutOfRange,
            "数量应在 1 到 100000 之间",
            "quantity must be 1 to 100,000",
        ));
    }
    if p.restricted_use {
        return Err(Error::invalid(
            field,
            Code::RealNameRequired,
            format!(
                "{} 是限制使用农药，不能离线下单：请在有信号时下单并完成实名登记",
                p.name_zh
            ),
            format!(
                "{} is a restricted-use pesticide and cannot be ordered offline: order it online with your real-name data",
                p.name_en
            ),
        ));
    }
    if o.price_fen > l.price_fen_when_added {
        return Err(Error::invalid(
            format!("{field}.price"),
            Code::PriceChanged,
            format!(
                "{} 的价格已从 {} 涨到 {}，请确认新价格后重新下单",
                p.name_zh,
                money(l.price_fen_when_added),
                money(o.price_fen)
            ),
            format!(
                "the price of {} went up from {} to {}: confirm the new price and order again",
                p.name_en,
                money(l.price_fen_when_added),
                money(o.price_fen)
            ),
        ));
    }
    Ok(())
}

/// Reserves `quantity` of a pack size at a dealer (earliest expiry first, sellable lots only),
/// or refuses the line with INSUFFICIENT_STOCK.
async fn reserve(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    locations: &[i64],
    i: usize,
    s: &sku::Model,
    p: &product::Model,
    quantity: i64,
) -> Result<Vec<Allocation>> {
    match stock_mod::allocate_fefo(db, dealer_id, locations, s.id, quantity, AllocMode::Reserve)
        .await?
    {
        Ok(allocs) => Ok(allocs),
        Err(available) => Err(Error::invalid(
            format!("cart.{i}.quantity"),
            Code::InsufficientStock,
            format!(
                "{}（{}）库存不足：可购 {available}，需要 {quantity}",
                p.name_zh,
                crate::catalog::pack_label(s),
            ),
            format!(
                "{} ({}): not enough stock, {available} available, {quantity} wanted",
                p.name_en,
                crate::catalog::pack_label(s),
            ),
        )),
    }
}

/// The lots among `ids` that can no longer be sold, read under a row lock on PostgreSQL
/// (shared or exclusive), in id order so that lockers never wait on each other in a circle.
async fn unsellable_lots(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<i64>,
    shared: bool,
) -> Result<BTreeSet<i64>> {
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let mut q = lot::Entity::find()
        .filter(lot::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(lot::Column::Id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = if shared {
            q.lock_shared()
        } else {
            q.lock_exclusive()
        };
    }
    let today = crate::today();
    Ok(q.all(db)
        .await?
        .into_iter()
        .filter(|l| !trace::sellable(l, today))
        .map(|l| l.id)
        .collect())
}

/// Delivery and restricted-use rules for one dealer's order; returns warnings (not errors).
async fn check_order(
    db: &impl ConnectionTrait,
    farmer: &app_user::Model,
    dealer_id: i64,
    opts: &OrderOptions,
    group: &[CheckoutLine],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let restricted = group.iter().any(|g| g.4.restricted_use);
    match opts.delivery_mode {
        DeliveryMode::VillageStation => {
            let st = match opts.station_id {
                Some(s) => service_station::Entity::find_by_id(s).one(db).await?,
                None => None,
            }
            .ok_or_else(|| {
                Error::invalid(
                    "stationId",
                    Code::Required,
                    "请选择村级服务站",
                    "choose a village station",
                )
            })?;
            let serves = dealer_service_area::Entity::find()
                .filter(dealer_service_area::Column::DealerId.eq(dealer_id))
                .filter(dealer_service_area::Column::VillageId.eq(st.village_id))
                .one(db)
                .await?
                .is_some();
            if !serves {
                let d = crate::regions::dealer(db, dealer_id).await?;
                return Err(Error::invalid(
                    "stationId",
                    Code::DeliveryNotAllowed,
                    format!("该服务站不在经销商「{}」的配送范围内", d.name_zh),
                    format!("this station is outside the service area of {}", d.name_en),
                ));
            }
        }
        DeliveryMode::Home => {
            if restricted {
                return Err(Error::invalid(
                    "deliveryMode",
                    Code::DeliveryNotAllowed,
                    "限制使用农药不能送货上门：请到门店或村级服务站自提",
                    "restricted-use pesticides are never delivered home: collect at the store or a village station",
                ));
            }
            if opts.address.as_deref().is_none_or(|a| a.trim().is_empty()) {
                return Err(Error::invalid(
                    "address",
                    Code::Required,
                    "送货上门需要填写地址",
                    "home delivery needs an address",
                ));
            }
        }
        DeliveryMode::Pickup => {}
    }
    let field = match opts.field_id {
        Some(f) => {
            let f = field::Entity::find_by_id(f)
                .one(db)
                .await?
                .filter(|f| f.farmer_id == farmer.id);
            Some(f.ok_or_else(|| {
                Error::invalid(
                    "fieldId",
                    Code::UnknownReference,
                    "地块不存在",
                    "no such field of yours",
                )
            })?)
        }
        None => None,
    };
    // The label dose is per product, whatever pack sizes the order mixes: the lines of one
    // pesticide are checked together.
    type Packs<'a> = Vec<(usize, &'a cart_line::Model, &'a sku::Model)>;
    let mut products: Vec<(&product::Model, Packs)> = Vec::new();
    for (i, l, _, s, p) in group {
        if p.category != "PESTICIDE" {
            continue;
        }
        match products.iter_mut().find(|(q, _)| q.id == p.id) {
            Some((_, lines)) => lines.push((*i, l, s)),
            None => products.push((p, vec![(*i, l, s)])),
        }
    }
    for (p, lines) in products {
        let field_name = format!("cart.{}", lines[0].0);
        stock_mod::check_restricted(
            db,
            dealer_id,
            p,
            farmer.verified_at.is_some() && farmer.id_number.is_some(),
            opts.crop.as_deref(),
            opts.target.as_deref(),
            &field_name,
        )
        .await?;
        // Label dose x field area, for the whole season (x maximum applications).
        let (Some(crop), Some(target)) = (opts.crop.as_deref(), opts.target.as_deref()) else {
            if p.restricted_use {
                return Err(Error::invalid(
                    "crop",
                    Code::UnregisteredUse,
                    "请填写用药作物和防治对象",
                    "give the crop and target",
                ));
            }
            continue;
        };
        let code = crops::resolve(crop).unwrap_or("");
        let t = target.trim().to_lowercase();
        let uses = pesticide_use::Entity::find()
            .filter(pesticide_use::Column::ProductId.eq(p.id))
            .all(db)
            .await?;
        let Some(u) = uses.iter().find(|u| {
            u.crop == code && (u.target_zh.to_lowercase() == t || u.target_en.to_lowercase() == t)
        }) else {
            if p.restricted_use {
                continue; // check_restricted already refused it
            }
            warnings.push(format!(
                "{}：{crop}/{target} 不是登记的用途 / {}: {crop}/{target} is not a registered use",
                p.name_zh, p.name_en
            ));
            continue;
        };
        match &field {
            Some(f) => {
                let allowed = u.dose_max * f.area_mu * f64::from(u.max_applications);
                let total: f64 = lines
                    .iter()
                    .map(|(_, l, s)| l.quantity as f64 * pack_amount_g_or_ml(s))
                    .sum();
                let smallest = lines
                    .iter()
                    .map(|(_, _, s)| pack_amount_g_or_ml(s))
                    .fold(f64::INFINITY, f64::min);
                // Whole packs round up, but no further: refused when the order would still
                // cover the allowed amount without one of its smallest packs (for one line,
                // more packs than allowed / pack size rounded up).
                if total - smallest >= allowed - 1e-9 {
                    let unit = if u.dose_unit.starts_with('g') { "g" } else { "ml" };
                    let (i, l, s) = lines.last().copied().unwrap_or(lines[0]);
                    let packs = (allowed / pack_amount_g_or_ml(s)).ceil() as i64;
                    return Err(Error::invalid(
                        format!("cart.{i}.quantity"),
                        Code::QuantityExceedsLabelDose,
                        format!(
                            "超过标签用量：{} 亩 × 最高 {}{} × {} 次 = {allowed}{unit}（约 {packs} 件 {}），本单共 {total}{unit}（该规格 {} 件）",
                            f.area_mu,
                            u.dose_max,
                            u.dose_unit,
                            u.max_applications,
                            crate::catalog::pack_label(s),
                            l.quantity
                        ),
                        format!(
                            "more than the label allows: {} mu x at most {} {} x {} applications = {allowed} {unit} (about {packs} packs of {}), this order has {total} {unit} ({} of this pack)",
                            f.area_mu,
                            u.dose_max,
                            u.dose_unit,
                            u.max_applications,
                            crate::catalog::pack_label(s),
                            l.quantity
                        ),
                    ));
                }
            }
            None => warnings.push(format!(
                "{}：未指定地块，未按标签用量核对数量 / {}: no field named, quantity not checked against the label dose",
                p.name_zh, p.name_en
            )),
        }
    }
    Ok(warnings)
}

/// A pack's contents in g or ml (the units label doses use).
fn pack_amount_g_or_ml(s: &sku::Model) -> f64 {
    match s.pack_unit.as_str() {
        "kg" | "L" => s.pack_size * 1000.0,
        _ => s.pack_size,
    }
}

async fn charge(
    db: &impl ConnectionTrait,
    order: &customer_order::Model,
    method: PaymentMethod,
    provider: &dyn Provider,
    authorised: &mut Vec<(String, i64)>,
) -> Result<&'static str> {
    match method {
        PaymentMethod::CashOnDelivery => Ok("PENDING"),
        PaymentMethod::DealerCredit => {
            // The limit holds in the UPDATE itself: two orders cannot both slip under it.
            let ok = credit_account::Entity::update_many()
                .col_expr(
                    credit_account::Column::BalanceFen,
                    Expr::col(credit_account::Column::BalanceFen).add(order.total_fen),
                )
                .col_expr(credit_account::Column::UpdatedAt, Expr::value(crate::now()))
                .filter(credit_account::Column::DealerId.eq(order.dealer_id))
                .filter(credit_account::Column::FarmerId.eq(order.farmer_id))
                .filter(
                    Expr::col(credit_account::Column::BalanceFen)
                        .add(order.total_fen)
                        .lte(Expr::col(credit_account::Column::LimitFen)),
                )
                .exec(db)
                .await?
                .rows_affected
                == 1;
            if !ok {
                let acc = credit_account::Entity::find()
                    .filter(credit_account::Column::DealerId.eq(order.dealer_id))
                    .filter(credit_account::Column::FarmerId.eq(order.farmer_id))
                    .one(db)
                    .await?;
                let room = acc.map(|a| a.limit_fen - a.balance_fen).unwrap_or(0);
                return Err(Error::invalid(
                    "paymentMethod",
                    Code::CreditLimitExceeded,
                    format!(
                        "赊账额度不足：剩余 {}，本单 {}",
                        Fen(room),
                        Fen(order.total_fen)
                    ),
                    format!(
                        "not enough dealer credit: {} left, this order is {}",
                        Fen(room),
                        Fen(order.total_fen)
                    ),
                ));
            }
            Ok("ON_CREDIT")
        }
        PaymentMethod::Online => match provider.authorise(order.id, order.total_fen) {
            Ok(reference) => {
                authorised.push((reference.clone(), order.total_fen));
                let now = crate::now();
                payment::ActiveModel {
                    order_id: Set(order.id),
                    provider: Set(provider.name().into()),
                    status: Set("AUTHORISED".into()),
                    amount_fen: Set(order.total_fen),
                    provider_ref: Set(reference),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(db)
                .await?;
                Ok("AUTHORISED")
            }
            Err(PaymentError::Declined(why)) => Err(Error::invalid(
                "paymentMethod",
                Code::PaymentDeclined,
                format!("支付未获授权：{why}"),
                format!("payment declined: {why}"),
            )),
            Err(e) => Err(Error::Internal(e.to_string())),
        },
    }
}

async fn set_payment_status(
    db: &impl ConnectionTrait,
    order: customer_order::Model,
    status: &str,
) -> Result<customer_order::Model> {
    if order.payment_status == status {
        return Ok(order);
    }
    let mut am: customer_order::ActiveModel = order.into();
    am.payment_status = Set(status.into());
    Ok(am.update(db).await?)
}

async fn record_event(
    db: &impl ConnectionTrait,
    order_id: i64,
    from: Option<Status>,
    to: Status,
    actor: Option<i64>,
    reason: &str,
) -> Result<()> {
    order_event::ActiveModel {
        order_id: Set(order_id),
        from_status: Set(from.map(|f| f.as_str().to_owned())),
        to_status: Set(to.as_str().into()),
        actor_id: Set(actor),
        reason: Set(reason.into()),
        at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn updated(o: &customer_order::Model) -> DomainEvent {
    DomainEvent::OrderUpdated {
        order_id: o.id,
        farmer_id: o.farmer_id,
        dealer_id: o.dealer_id,
        status: o.status.clone(),
    }
}

/// LOW_STOCK alerts for SKUs whose sellable available stock fell below the threshold.
pub async fn low_stock_alerts(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    sku_ids: Vec<i64>,
    threshold: i64,
) -> Result<Vec<DomainEvent>> {
    let mut out = Vec::new();
    for s in sku_ids.into_iter().collect::<BTreeSet<_>>() {
        let available = available_of(db, dealer_id, s).await?;
        if available < threshold {
            let sk = sku::Entity::find_by_id(s)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("sku", s))?;
            let p = product::Entity::find_by_id(sk.product_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("product", sk.product_id))?;
            out.push(DomainEvent::StockAlert {
                dealer_id,
                kind: "LOW_STOCK".into(),
                sku_id: Some(s),
                lot_id: None,
                available: Some(available),
                message_zh: format!(
                    "{}（{}）可售库存仅剩 {available}",
                    p.name_zh,
                    crate::catalog::pack_label(&sk)
                ),
                message_en: format!(
                    "{} ({}): only {available} left to sell",
                    p.name_en,
                    crate::catalog::pack_label(&sk)
                ),
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- lifecycle

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
    provider: &dyn Provider,
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
    provider: &dyn Provider,
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
    let from = Status::parse(&o.status)
        .ok_or_else(|| Error::Internal(format!("order {} has status {}", o.id, o.status)))?;
    let mode = DeliveryMode::parse(&o.delivery_mode)
        .ok_or_else(|| Error::Internal("bad delivery mode".into()))?;
    // An order holding a recalled lot can never be handed over; its dealer may always cancel
    // it (with a reason), even once it is ready or out for delivery, so the reservation and
    // the order do not stay stuck.
    let recall_exit =
        o.flagged && to == Status::Cancelled && party == Party::Dealer && from.holds_stock();
    if !(allowed(from, to, party, mode) || recall_exit) {
        return Err(illegal(from, to));
    }
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
        return Err(illegal(Status::parse(&now_status).unwrap_or(from), to));
    }
    // Money moves at the provider only once the hand-over is certain to be recorded.
    if to == Status::Delivered
        && PaymentMethod::parse(&o.payment_method) == Some(PaymentMethod::Online)
    {
        capture(&txn, &o, provider).await?;
    }
    match to {
        Status::Cancelled | Status::Expired => {
            release(&txn, &o, provider).await?;
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
    let o = order(&txn, o.id).await?;
    txn.commit().await?;
    events.insert(0, updated(&o));
    Ok((o, events))
}

async fn allocations_of(
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
        .filter(order_allocation::Column::Status.eq("RESERVED"))
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

/// Gives back what an order held: reserved stock, dealer credit, an online authorisation.
async fn release(
    db: &impl ConnectionTrait,
    o: &customer_order::Model,
    provider: &dyn Provider,
) -> Result<()> {
    for (_, a) in allocations_of(db, o.id).await? {
        stock_mod::release_reservation(db, a.stock_id, a.quantity).await?;
        let mut am: order_allocation::ActiveModel = a.into();
        am.status = Set("RELEASED".into());
        am.update(db).await?;
    }
    match PaymentMethod::parse(&o.payment_method) {
        Some(PaymentMethod::DealerCredit) => {
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
            set_payment_status(db, order(db, o.id).await?, "CREDIT_RELEASED").await?;
        }
        Some(PaymentMethod::Online) => {
            for p in payment::Entity::find()
                .filter(payment::Column::OrderId.eq(o.id))
                .all(db)
                .await?
            {
                if matches!(p.status.as_str(), "AUTHORISED" | "CAPTURED") {
                    provider
                        .refund(&p.provider_ref, p.amount_fen)
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    let status = if p.status == "AUTHORISED" {
                        "VOIDED"
                    } else {
                        "REFUNDED"
                    };
                    let mut am: payment::ActiveModel = p.into();
                    am.status = Set(status.into());
                    am.updated_at = Set(crate::now());
                    am.update(db).await?;
                    set_payment_status(db, order(db, o.id).await?, status).await?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn not_sellable(l: &lot::Model, today: chrono::NaiveDate) -> Error {
    let state = trace::disposition_of(l, today).words();
    Error::invalid(
        "status",
        if l.status == crate::types::LotStatus::Recalled {
            Code::LotRecalled
        } else {
            Code::LotNotSellable
        },
        format!(
            "订单中的批次 {} 已不可销售（{}），请取消订单",
            l.lot_no, state.0
        ),
        format!(
            "lot {} in this order can no longer be sold ({}): cancel the order",
            l.lot_no, state.1
        ),
    )
}

/// The hand-over: checks the buyer again, turns the reservation into a sale (on-hand stock
/// drops), writes the sale's trace events and ledger lines per lot, and settles payment.
async fn hand_over(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    o: &customer_order::Model,
    unit_codes: &[String],
    settings: Settings,
) -> Result<Vec<DomainEvent>> {
    let actor = actor.ok_or_else(|| Error::Internal("hand-over needs a person".into()))?;
    let farmer = app_user::Entity::find_by_id(o.farmer_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user", o.farmer_id))?;
    let allocs = allocations_of(db, o.id).await?;
    let today = crate::today();
    let mut checked = BTreeSet::new();
    for (line, a) in &allocs {
        let l = crate::lots::lot(db, a.lot_id).await?;
        if !trace::sellable(&l, today) {
            return Err(not_sellable(&l, today));
        }
        if checked.insert(line.sku_id) {
            let s = sku::Entity::find_by_id(line.sku_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("sku", line.sku_id))?;
            let p = product::Entity::find_by_id(s.product_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("product", s.product_id))?;
            // The buyer is checked again at hand-over (RULES.md rule 4).
            stock_mod::check_restricted(
                db,
                o.dealer_id,
                &p,
                farmer.verified_at.is_some() && farmer.id_number.is_some(),
                o.crop.as_deref(),
                o.target.as_deref(),
                "status",
            )
            .await?;
        }
    }
    for (_, a) in &allocs {
        stock_mod::consume_reservation(db, a.stock_id, a.quantity).await?;
        let mut am: order_allocation::ActiveModel = a.clone().into();
        am.status = Set("SOLD".into());
        am.update(db).await?;
    }
    let sold_at = trace::micros(crate::now());
    let location_id = allocs
        .first()
        .map(|(_, a)| a.location_id)
        .unwrap_or_default();
    let s = sale::ActiveModel {
        dealer_id: Set(o.dealer_id),
        location_id: Set(location_id),
        channel: Set("ORDER".into()),
        order_id: Set(Some(o.id)),
        buyer_user_id: Set(Some(farmer.id)),
        buyer_name: Set(Some(
            farmer
                .real_name
                .clone()
                .unwrap_or_else(|| farmer.display_name.clone()),
        )),
        buyer_phone: Set(Some(farmer.phone.clone())),
        buyer_id_number: Set(farmer.id_number.clone()),
        buyer_village_id: Set(farmer.village_id),
        crop: Set(o.crop.clone()),
        target: Set(o.target.clone()),
        total_fen: Set(o.total_fen),
        actor_id: Set(actor.user_id),
        sold_at: Set(sold_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let buyer = Buyer {
        user_id: Some(farmer.id),
        name: s.buyer_name.clone(),
        phone: s.buyer_phone.clone(),
        id_number: s.buyer_id_number.clone(),
        village_id: s.buyer_village_id,
    };
    let mut for_sale = Vec::new();
    for (line, a) in &allocs {
        let sk = sku::Entity::find_by_id(line.sku_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("sku", line.sku_id))?;
        for_sale.push((
            sk,
            line.unit_price_fen,
            Allocation {
                stock_id: a.stock_id,
                location_id: a.location_id,
                lot_id: a.lot_id,
                quantity: a.quantity,
            },
        ));
    }
    // Codes are unsold IN_STOCK codes before the sale: count what each line must scan first.
    let needed = codes_needed(db, &allocs).await?;
    let (_, mut events) =
        stock_mod::write_sale(db, actor, &s, &buyer, &for_sale, unit_codes).await?;
    check_codes_scanned(db, &needed, unit_codes).await?;
    // The sale holds the lots locked now: read them again, so a recall that committed since the
    // check above stops the hand-over instead of slipping in after it.
    let lot_ids: BTreeSet<i64> = allocs.iter().map(|(_, a)| a.lot_id).collect();
    if let Some(bad) = unsellable_lots(db, &lot_ids, false).await?.first() {
        return Err(not_sellable(&crate::lots::lot(db, *bad).await?, today));
    }
    let mut am: customer_order::ActiveModel = order(db, o.id).await?.into();
    am.sale_id = Set(Some(s.id));
    am.update(db).await?;
    // Cash is paid at the hand-over; online payments are captured by the caller once the
    // status change is certain.
    if PaymentMethod::parse(&o.payment_method) == Some(PaymentMethod::CashOnDelivery) {
        set_payment_status(db, order(db, o.id).await?, "PAID").await?;
    }
    events.extend(
        low_stock_alerts(
            db,
            o.dealer_id,
            allocs.iter().map(|(l, _)| l.sku_id).collect(),
            settings.low_stock_threshold,
        )
        .await?,
    );
    Ok(events)
}

/// Per order line whose allocated lots carry unit codes: the line, its lots and how many codes
/// it must scan (a code per unit handed over, up to the unsold codes on those lots).
async fn codes_needed(
    db: &impl ConnectionTrait,
    allocs: &[(order_line::Model, order_allocation::Model)],
) -> Result<Vec<(order_line::Model, BTreeSet<i64>, i64)>> {
    let mut by_line: BTreeMap<i64, (order_line::Model, BTreeSet<i64>, i64)> = BTreeMap::new();
    for (line, a) in allocs {
        let e = by_line
            .entry(line.id)
            .or_insert_with(|| (line.clone(), BTreeSet::new(), 0));
        e.1.insert(a.lot_id);
        e.2 += a.quantity;
    }
    let mut out = Vec::new();
    for (_, (line, lots, quantity)) in by_line {
        let unsold = unit_code::Entity::find()
            .filter(unit_code::Column::LotId.is_in(lots.iter().copied()))
            .filter(unit_code::Column::Status.ne(crate::types::UnitCodeStatus::Sold))
            .count(db)
            .await? as i64;
        if unsold > 0 {
            out.push((line, lots, std::cmp::min(quantity, unsold)));
        }
    }
    Ok(out)
}

/// Refuses a hand-over whose scanned codes leave a coded line short, or give a line more codes
/// than units. (Each code was already checked against the sale's lots by the sale itself.)
async fn check_codes_scanned(
    db: &impl ConnectionTrait,
    needed: &[(order_line::Model, BTreeSet<i64>, i64)],
    unit_codes: &[String],
) -> Result<()> {
    let scanned: Vec<unit_code::Model> = if unit_codes.is_empty() {
        vec![]
    } else {
        unit_code::Entity::find()
            .filter(unit_code::Column::Code.is_in(unit_codes.iter().map(|c| c.trim())))
            .all(db)
            .await?
    };
    let mut errs = Errors::new();
    for (line, lots, want) in needed {
        let got = scanned.iter().filter(|u| lots.contains(&u.lot_id)).count() as i64;
        if got < *want {
            errs.push(FieldError::new(
                format!("unitCodes.line{}", line.id),
                Code::Required,
                format!(
                    "{}（{}）还需扫描 {} 个追溯码：已扫 {got}，应扫 {want}",
                    line.product_name_zh,
                    line.pack,
                    want - got
                ),
                format!(
                    "{} ({}): {} more unit code(s) to scan, {got} scanned of {want}",
                    line.product_name_en,
                    line.pack,
                    want - got
                ),
            ));
        } else if got > line.quantity {
            errs.push(FieldError::new(
                format!("unitCodes.line{}", line.id),
                Code::CodeMismatch,
                format!(
                    "{}（{}）扫了 {got} 个追溯码，但只交 {} 件",
                    line.product_name_zh, line.pack, line.quantity
                ),
                format!(
                    "{} ({}): {got} codes scanned for {} units",
                    line.product_name_en, line.pack, line.quantity
                ),
            ));
        }
    }
    errs.finish()
}

/// Captures an online order's authorisation at the hand-over.
async fn capture(
    db: &impl ConnectionTrait,
    o: &customer_order::Model,
    provider: &dyn Provider,
) -> Result<()> {
    for p in payment::Entity::find()
        .filter(payment::Column::OrderId.eq(o.id))
        .filter(payment::Column::Status.eq("AUTHORISED"))
        .all(db)
        .await?
    {
        provider
            .capture(&p.provider_ref, p.amount_fen)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let mut am: payment::ActiveModel = p.into();
        am.status = Set("CAPTURED".into());
        am.updated_at = Set(crate::now());
        am.update(db).await?;
    }
    set_payment_status(db, order(db, o.id).await?, "CAPTURED").await?;
    Ok(())
}

/// Expires PLACED orders past their confirmation deadline (the background task calls this on
/// every node; the conditional transition makes each expiry happen once).
pub async fn expire_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    provider: &dyn Provider,
    settings: Settings,
) -> Result<Vec<DomainEvent>> {
    let due = customer_order::Entity::find()
        .filter(customer_order::Column::Status.eq(Status::Placed.as_str()))
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
        .filter(order_allocation::Column::Status.eq("RESERVED"))
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
        if !Status::parse(&o.status).is_some_and(Status::holds_stock) {
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
            kind: "ORDER_FLAGGED",
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

// ---------------------------------------------------------------- views, credit, payments

pub struct OrderFilter {
    pub statuses: Vec<Status>,
    pub delivery_mode: Option<DeliveryMode>,
    pub flagged_only: bool,
    pub placed_from: Option<DateTime<Utc>>,
    pub placed_to: Option<DateTime<Utc>>,
}

/// A dealer's incoming orders, oldest first (the queue to work through).
pub async fn dealer_orders(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    f: &OrderFilter,
    limit: u64,
    offset: u64,
) -> Result<Vec<customer_order::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let mut q = customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .order_by_asc(customer_order::Column::PlacedAt)
        .order_by_asc(customer_order::Column::Id);
    if !f.statuses.is_empty() {
        q = q.filter(customer_order::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(m) = f.delivery_mode {
        q = q.filter(customer_order::Column::DeliveryMode.eq(m.as_str()));
    }
    if f.flagged_only {
        q = q.filter(customer_order::Column::Flagged.eq(true));
    }
    if let Some(t) = f.placed_from {
        q = q.filter(customer_order::Column::PlacedAt.gte(t));
    }
    if let Some(t) = f.placed_to {
        q = q.filter(customer_order::Column::PlacedAt.lt(t));
    }
    Ok(q.offset(offset).limit(limit).all(db).await?)
}

/// A farmer's orders, newest first.
pub async fn farmer_orders(
    db: &impl ConnectionTrait,
    actor: &Actor,
    limit: u64,
    offset: u64,
) -> Result<Vec<customer_order::Model>> {
    actor.require(actor.role == Role::Farmer)?;
    Ok(customer_order::Entity::find()
        .filter(customer_order::Column::FarmerId.eq(actor.user_id))
        .order_by_desc(customer_order::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn lines_of(db: &impl ConnectionTrait, order_id: i64) -> Result<Vec<order_line::Model>> {
    Ok(order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?)
}

pub async fn events_of(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> Result<Vec<order_event::Model>> {
    Ok(order_event::Entity::find()
        .filter(order_event::Column::OrderId.eq(order_id))
        .order_by_asc(order_event::Column::Id)
        .all(db)
        .await?)
}

pub async fn allocations_of_line(
    db: &impl ConnectionTrait,
    line_id: i64,
) -> Result<Vec<order_allocation::Model>> {
    Ok(order_allocation::Entity::find()
        .filter(order_allocation::Column::OrderLineId.eq(line_id))
        .order_by_asc(order_allocation::Column::Id)
        .all(db)
        .await?)
}

pub async fn payments_of(db: &impl ConnectionTrait, order_id: i64) -> Result<Vec<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?)
}

/// A dealer sets (or changes) a farmer's credit limit. Lowering it below what is owed is
/// allowed; new credit orders are then refused until it is paid down.
pub async fn set_credit_limit(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
    limit_fen: i64,
) -> Result<credit_account::Model> {
    actor.require(
        actor.is_admin()
            || (actor.works_for(dealer_id) && actor.dealer_role == Some(DealerRole::Owner)),
    )?;
    if !(0..=10_000_000_000).contains(&limit_fen) {
        return Err(Error::invalid(
            "limitFen",
            Code::OutOfRange,
            "额度应在 0 到 1 亿元之间",
            "the limit must be 0 to 100,000,000 yuan",
        ));
    }
    let farmer = app_user::Entity::find_by_id(farmer_id)
        .one(db)
        .await?
        .filter(|u| u.role == "FARMER");
    if farmer.is_none() {
        return Err(Error::invalid(
            "farmerId",
            Code::UnknownReference,
            "农户不存在",
            "no such farmer",
        ));
    }
    let now = crate::now();
    let existing = credit_account::Entity::find()
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .one(db)
        .await?;
    Ok(match existing {
        Some(a) => {
            let mut am: credit_account::ActiveModel = a.into();
            am.limit_fen = Set(limit_fen);
            am.updated_at = Set(now);
            am.update(db).await?
        }
        None => {
            credit_account::ActiveModel {
                dealer_id: Set(dealer_id),
                farmer_id: Set(farmer_id),
                limit_fen: Set(limit_fen),
                balance_fen: Set(0),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    })
}

/// A farmer pays back credit at the dealer.
pub async fn record_repayment<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
    amount_fen: i64,
) -> Result<credit_account::Model> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    if amount_fen <= 0 {
        return Err(Error::invalid(
            "amountFen",
            Code::OutOfRange,
            "还款金额应大于 0",
            "the amount must be greater than 0",
        ));
    }
    let txn = crate::begin_write(db).await?;
    let ok = credit_account::Entity::update_many()
        .col_expr(
            credit_account::Column::BalanceFen,
            Expr::col(credit_account::Column::BalanceFen).sub(amount_fen),
        )
        .col_expr(credit_account::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .filter(credit_account::Column::BalanceFen.gte(amount_fen))
        .exec(&txn)
        .await?
        .rows_affected;
    if ok == 0 {
        return Err(Error::invalid(
            "amountFen",
            Code::OutOfRange,
            "还款金额超过欠款",
            "the amount is more than what is owed",
        ));
    }
    let account = credit_account(&txn, dealer_id, farmer_id)
        .await?
        .ok_or_else(|| Error::not_found("credit account", farmer_id))?;
    credit_repayment::ActiveModel {
        dealer_id: Set(dealer_id),
        farmer_id: Set(farmer_id),
        amount_fen: Set(amount_fen),
        balance_after_fen: Set(account.balance_fen),
        recorded_by: Set(actor.user_id),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(account)
}

/// The repayments recorded on a farmer's account with the dealer, newest first: for the
/// dealer's people, the farmer themself and admins.
pub async fn repayments_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
) -> Result<Vec<credit_repayment::Model>> {
    actor.require(
        actor.is_admin()
            || actor.works_for(dealer_id)
            || (actor.role == Role::Farmer && actor.user_id == farmer_id),
    )?;
    Ok(credit_repayment::Entity::find()
        .filter(credit_repayment::Column::DealerId.eq(dealer_id))
        .filter(credit_repayment::Column::FarmerId.eq(farmer_id))
        .order_by_desc(credit_repayment::Column::CreatedAt)
        .order_by_desc(credit_repayment::Column::Id)
        .all(db)
        .await?)
}

pub async fn credit_account(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    farmer_id: i64,
) -> Result<Option<credit_account::Model>> {
    Ok(credit_account::Entity::find()
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .one(db)
        .await?)
}

pub async fn credit_accounts_of_farmer(
    db: &impl ConnectionTrait,
    farmer_id: i64,
) -> Result<Vec<credit_account::Model>> {
    Ok(credit_account::Entity::find()
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .all(db)
        .await?)
}

pub async fn credit_accounts_of_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<credit_account::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    Ok(credit_account::Entity::find()
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .order_by_asc(credit_account::Column::Id)
        .all(db)
        .await?)
}

/// A provider's signed notice about a payment (CAPTURED, REFUNDED, FAILED). The signature is
/// checked by the caller.
pub async fn payment_callback(
    db: &impl ConnectionTrait,
    provider_ref: &str,
    status: &str,
) -> Result<(customer_order::Model, Vec<DomainEvent>)> {
    if !matches!(
        status,
        "AUTHORISED" | "CAPTURED" | "REFUNDED" | "FAILED" | "VOIDED"
    ) {
        return Err(Error::invalid(
            "status",
            Code::InvalidFormat,
            "未知的支付状态",
            "unknown payment status",
        ));
    }
    let p = payment::Entity::find()
        .filter(payment::Column::ProviderRef.eq(provider_ref))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("payment", provider_ref))?;
    let order_id = p.order_id;
    let mut am: payment::ActiveModel = p.into();
    am.status = Set(status.into());
    am.updated_at = Set(crate::now());
    am.update(db).await?;
    let o = set_payment_status(db, order(db, order_id).await?, status).await?;
    Ok((o.clone(), vec![updated(&o)]))
}

/// The warnings stored with an order, in the reader's language.
pub fn warnings(o: &customer_order::Model, lang: crate::Lang) -> Vec<String> {
    o.warnings
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| lang.pick_stored(l))
        .collect()
}

/// Why the order is flagged (a recalled lot), in the reader's language.
pub fn flag_reason(o: &customer_order::Model, lang: crate::Lang) -> Option<String> {
    o.flag_reason.as_deref().map(|r| lang.pick_stored(r))
}

/// Text for a farmer or dealer: `¥12.00`.
pub fn money(fen: i64) -> String {
    Fen(fen).to_string()
}

/// Validates free text fields of order options.
pub fn validate_options(o: &OrderOptions) -> Result<()> {
    let mut errs = Errors::new();
    if let Some(a) = &o.address
        && a.chars().count() > 200
    {
        errs.push(FieldError::new(
            "address",
            Code::TooLong,
            "地址不能超过 200 个字符",
            "the address must be at most 200 characters",
        ));
    }
    if o.note.chars().count() > 500 {
        errs.push(FieldError::new(
            "note",
            Code::TooLong,
            "备注不能超过 500 个字符",
            "the note must be at most 500 characters",
        ));
    }
    if let Some(t) = &o.target
        && let Err(e) = types::name("target", t, 40)
    {
        errs.push(e);
    }
    errs.finish()
}

// ---------------------------------------------------------------- the dealer's credit book

/// A farmer's account in a dealer's credit book, with who the farmer is and since when the
/// oldest unpaid part of the balance has been owed.
#[derive(Clone, Debug)]
pub struct CreditRow {
    pub account: credit_account::Model,
    pub farmer: app_user::Model,
    /// When the oldest credit order not yet paid off was placed (repayments pay the oldest
    /// orders first); `None` when nothing is owed.
    pub owing_since: Option<DateTime<Utc>>,
}

/// Orders on credit that still count: neither cancelled nor expired (those released their
/// credit), oldest first.
async fn credit_orders(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    farmer_ids: &[i64],
) -> Result<Vec<customer_order::Model>> {
    Ok(customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .filter(customer_order::Column::FarmerId.is_in(farmer_ids.iter().copied()))
        .filter(customer_order::Column::PaymentMethod.eq(PaymentMethod::DealerCredit.as_str()))
        .filter(customer_order::Column::PaymentStatus.eq("ON_CREDIT"))
        .order_by_asc(customer_order::Column::PlacedAt)
        .order_by_asc(customer_order::Column::Id)
        .all(db)
        .await?)
}

/// The oldest order the balance still contains: walking back from the newest order, the one
/// at which the orders' totals reach the balance (what was paid back paid the older ones).
fn owing_since(balance: i64, oldest_first: &[&customer_order::Model]) -> Option<DateTime<Utc>> {
    if balance <= 0 {
        return None;
    }
    let mut covered = 0;
    let mut since = None;
    for o in oldest_first.iter().rev() {
        covered += o.total_fen;
        since = Some(o.placed_at);
        if covered >= balance {
            break;
        }
    }
    since
}

/// Every farmer in the dealer's credit book (the dealer's staff and admins): the farmers who
/// owe most first, and among equal balances the oldest debt first; then those who owe nothing,
/// by name.
pub async fn credit_book(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<CreditRow>> {
    let accounts = credit_accounts_of_dealer(db, actor, dealer_id).await?;
    let farmer_ids: Vec<i64> = accounts.iter().map(|a| a.farmer_id).collect();
    let farmers = crate::rows_by_id!(db, app_user, farmer_ids.iter().copied());
    let orders = credit_orders(db, dealer_id, &farmer_ids).await?;
    let mut rows: Vec<CreditRow> = accounts
        .into_iter()
        .filter_map(|a| {
            let farmer = farmers.get(&a.farmer_id)?.clone();
            let mine: Vec<&customer_order::Model> = orders
                .iter()
                .filter(|o| o.farmer_id == a.farmer_id)
                .collect();
            Some(CreditRow {
                owing_since: owing_since(a.balance_fen, &mine).or_else(|| {
                    // Owed without a credit order on record (set up by an admin): since the
                    // account last changed.
                    (a.balance_fen > 0).then_some(a.updated_at)
                }),
                account: a,
                farmer,
            })
        })
        .collect();
    rows.sort_by(|x, y| {
        y.account
            .balance_fen
            .cmp(&x.account.balance_fen)
            .then_with(|| x.owing_since.cmp(&y.owing_since))
            .then_with(|| x.farmer.display_name.cmp(&y.farmer.display_name))
            .then_with(|| x.account.id.cmp(&y.account.id))
    });
    Ok(rows)
}

/// The farmers who owe the dealer something, most first (oldest debt first among equals).
pub async fn debtors(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<CreditRow>> {
    Ok(credit_book(db, actor, dealer_id)
        .await?
        .into_iter()
        .filter(|r| r.account.balance_fen > 0)
        .collect())
}

/// A farmer's orders on credit at the dealer, newest first (the dealer's staff and admins).
pub async fn credit_history(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
) -> Result<Vec<customer_order::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    Ok(customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .filter(customer_order::Column::FarmerId.eq(farmer_id))
        .filter(customer_order::Column::PaymentMethod.eq(PaymentMethod::DealerCredit.as_str()))
        .order_by_desc(customer_order::Column::PlacedAt)
        .order_by_desc(customer_order::Column::Id)
        .all(db)
        .await?)
}

/// A farmer the dealer may give credit to, found by phone (the number as the farmer gives it).
pub async fn farmer_by_phone(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    phone: &str,
) -> Result<app_user::Model> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let p = types::Phone::parse("phone", phone).map_err(|e| Error::Invalid(vec![e]))?;
    app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(p.as_str()))
        .filter(app_user::Column::Role.eq("FARMER"))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "phone",
                Code::UnknownReference,
                "没有这个手机号的农户",
                "no farmer has this phone number",
            )
        })
}

#[cfg(test)]
mod credit_tests {
    use super::*;

    fn order(id: i64, total: i64, day: u32) -> customer_order::Model {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap();
        customer_order::Model {
            id,
            checkout_id: 1,
            farmer_id: 1,
            dealer_id: 1,
            status: "DELIVERED".into(),
            delivery_mode: "PICKUP".into(),
            station_id: None,
            delivery_address: None,
            payment_method: "DEALER_CREDIT".into(),
            payment_status: "ON_CREDIT".into(),
            total_fen: total,
            field_id: None,
            crop: None,
            target: None,
            note: String::new(),
            warnings: String::new(),
            flagged: false,
            flag_reason: None,
            cancel_reason: None,
            sale_id: None,
            placed_at: t,
            expires_at: t,
            updated_at: t,
            placed_by: None,
        }
    }

    #[test]
    fn repayments_pay_the_oldest_orders_first() {
        let a = order(1, 10_000, 1);
        let b = order(2, 5_000, 5);
        let c = order(3, 2_000, 9);
        let all = [&a, &b, &c];
        assert_eq!(owing_since(0, &all), None);
        // 17 000 owed: all three orders are unpaid.
        assert_eq!(owing_since(17_000, &all), Some(a.placed_at));
        // 6 000 owed: the first is paid off, part of the second is not.
        assert_eq!(owing_since(6_000, &all), Some(b.placed_at));
        assert_eq!(owing_since(2_000, &all), Some(c.placed_at));
        assert_eq!(owing_since(500, &[]), None);
    }
}
