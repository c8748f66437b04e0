//! The farmer's cart and checkout, orders and their lifecycle, dealer credit, fields, and the
//! live updates (subscriptions) for orders and stock alerts.

use std::collections::BTreeMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use domain::entities::{credit_account, customer_order, field, order_event, order_line, payment};
use domain::orders::{self, DeliveryMode, OrderOptions, PaymentMethod, Status};
use domain::{Code, Error, FieldError, Lang, fields};
use futures_util::Stream;

use super::errors::{ApiResult, to_gql};
use super::loaders::{
    AllocationsOfLine, DealerKey, EventsOfOrder, FieldKey, LinesOfOrder, LotKey, PaymentsOfOrder,
    RegionKey, StationKey, many, one, prefetch,
};
use super::market::{Dealer, Region, Station};
use super::market::{Offer, Product, Sku};
use super::stock::{Lot, publish};
use super::{actor, db, gid, lang, parse_gid, parse_gid_opt, pick, services};
use domain::events::DomainEvent;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    Placed,
    Confirmed,
    ReadyForPickup,
    OutForDelivery,
    Delivered,
    Completed,
    Cancelled,
    Expired,
}

impl From<OrderStatus> for Status {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Placed => Status::Placed,
            OrderStatus::Confirmed => Status::Confirmed,
            OrderStatus::ReadyForPickup => Status::ReadyForPickup,
            OrderStatus::OutForDelivery => Status::OutForDelivery,
            OrderStatus::Delivered => Status::Delivered,
            OrderStatus::Completed => Status::Completed,
            OrderStatus::Cancelled => Status::Cancelled,
            OrderStatus::Expired => Status::Expired,
        }
    }
}

impl From<Status> for OrderStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Placed => OrderStatus::Placed,
            Status::Confirmed => OrderStatus::Confirmed,
            Status::ReadyForPickup => OrderStatus::ReadyForPickup,
            Status::OutForDelivery => OrderStatus::OutForDelivery,
            Status::Delivered => OrderStatus::Delivered,
            Status::Completed => OrderStatus::Completed,
            Status::Cancelled => OrderStatus::Cancelled,
            Status::Expired => OrderStatus::Expired,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "DeliveryMode")]
pub enum DeliveryModeGql {
    /// Collect at the dealer's store.
    Pickup,
    /// Collect at a village station in the dealer's service area.
    VillageStation,
    /// Delivered home (never for restricted-use pesticides).
    Home,
}

impl From<DeliveryModeGql> for DeliveryMode {
    fn from(m: DeliveryModeGql) -> Self {
        match m {
            DeliveryModeGql::Pickup => DeliveryMode::Pickup,
            DeliveryModeGql::VillageStation => DeliveryMode::VillageStation,
            DeliveryModeGql::Home => DeliveryMode::Home,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PaymentMethod")]
pub enum PaymentMethodGql {
    CashOnDelivery,
    /// Against the credit limit the dealer set for the farmer.
    DealerCredit,
    /// Through the payment provider (a sandbox here).
    Online,
}

impl From<PaymentMethodGql> for PaymentMethod {
    fn from(m: PaymentMethodGql) -> Self {
        match m {
            PaymentMethodGql::CashOnDelivery => PaymentMethod::CashOnDelivery,
            PaymentMethodGql::DealerCredit => PaymentMethod::DealerCredit,
            PaymentMethodGql::Online => PaymentMethod::Online,
        }
    }
}

/// Why an order input was rejected. For INVALID_TRANSITION, `from` and `to` name the states.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderErrorCode {
    Required,
    InvalidFormat,
    OutOfRange,
    TooLong,
    UnknownReference,
    InsufficientStock,
    LotNotSellable,
    LotRecalled,
    LicenceRequired,
    RealNameRequired,
    UnregisteredUse,
    InvalidTransition,
    CartEmpty,
    CreditLimitExceeded,
    PaymentDeclined,
    /// ONLINE payment on a server with no payment provider configured.
    PaymentUnavailable,
    DeliveryNotAllowed,
    QuantityExceedsLabelDose,
    OfferUnavailable,
    Duplicate,
    WrongRegionLevel,
    Invalid,
}

impl From<Code> for OrderErrorCode {
    fn from(c: Code) -> Self {
        match c {
            Code::Required => Self::Required,
            Code::InvalidFormat => Self::InvalidFormat,
            Code::OutOfRange => Self::OutOfRange,
            Code::TooLong => Self::TooLong,
            Code::UnknownReference => Self::UnknownReference,
            Code::InsufficientStock => Self::InsufficientStock,
            Code::LotNotSellable => Self::LotNotSellable,
            Code::LotRecalled => Self::LotRecalled,
            Code::LicenceRequired => Self::LicenceRequired,
            Code::RealNameRequired => Self::RealNameRequired,
            Code::UnregisteredUse => Self::UnregisteredUse,
            Code::InvalidTransition => Self::InvalidTransition,
            Code::CartEmpty => Self::CartEmpty,
            Code::CreditLimitExceeded => Self::CreditLimitExceeded,
            Code::PaymentDeclined => Self::PaymentDeclined,
            Code::PaymentUnavailable => Self::PaymentUnavailable,
            Code::DeliveryNotAllowed => Self::DeliveryNotAllowed,
            Code::QuantityExceedsLabelDose => Self::QuantityExceedsLabelDose,
            Code::OfferUnavailable => Self::OfferUnavailable,
            Code::Duplicate => Self::Duplicate,
            Code::WrongRegionLevel => Self::WrongRegionLevel,
            _ => Self::Invalid,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct OrderError {
    field: String,
    code: OrderErrorCode,
    message: String,
    /// For INVALID_TRANSITION: the state the order is in.
    from: Option<OrderStatus>,
    /// For INVALID_TRANSITION: the state asked for.
    to: Option<OrderStatus>,
}

impl OrderError {
    fn list(errs: Vec<FieldError>, l: Lang) -> Vec<Self> {
        errs.into_iter()
            .map(|e| OrderError {
                message: e.message(l).to_owned(),
                field: e.field,
                code: e.code.into(),
                from: None,
                to: None,
            })
            .collect()
    }
}

/// Loads every relation the query selects for a whole list of orders, one statement per
/// relation, so a page of 12 orders costs what a page of 2 does.
async fn prefetch_orders(ctx: &Context<'_>, rows: &[customer_order::Model]) -> ApiResult<()> {
    let node = ctx.look_ahead();
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    if node.field("dealer").exists() {
        prefetch(ctx, rows.iter().map(|o| DealerKey(o.dealer_id))).await?;
    }
    if node.field("station").exists() {
        prefetch(
            ctx,
            rows.iter().filter_map(|o| o.station_id).map(StationKey),
        )
        .await?;
    }
    if node.field("field").exists() {
        prefetch(ctx, rows.iter().filter_map(|o| o.field_id).map(FieldKey)).await?;
    }
    if node.field("history").exists() {
        prefetch(ctx, ids.iter().map(|i| EventsOfOrder(*i))).await?;
    }
    if node.field("payments").exists() {
        prefetch(ctx, ids.iter().map(|i| PaymentsOfOrder(*i))).await?;
    }
    let lines = node.field("lines");
    if lines.exists() {
        let by_order = prefetch(ctx, ids.iter().map(|i| LinesOfOrder(*i))).await?;
        let allocations = lines.field("allocations");
        if allocations.exists() {
            let line_ids: Vec<i64> = by_order.values().flatten().map(|l| l.id).collect();
            let by_line = prefetch(ctx, line_ids.into_iter().map(AllocationsOfLine)).await?;
            if allocations.field("lot").exists() {
                prefetch(ctx, by_line.values().flatten().map(|a| LotKey(a.lot_id))).await?;
            }
        }
    }
    Ok(())
}

/// Splits a result for an order payload: rule violations and illegal transitions are data.
fn split_order<T>(r: domain::Result<T>, l: Lang) -> ApiResult<Result<T, Vec<OrderError>>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(Error::Invalid(errs)) => Ok(Err(OrderError::list(errs, l))),
        Err(Error::IllegalTransition { from, to }) => {
            let message = Error::IllegalTransition { from, to }.message(l);
            Ok(Err(vec![OrderError {
                field: "to".into(),
                code: OrderErrorCode::InvalidTransition,
                message,
                from: Status::parse(from.code).map(Into::into),
                to: Status::parse(to.code).map(Into::into),
            }]))
        }
        Err(e) => Err(to_gql(e, l)),
    }
}

#[derive(SimpleObject)]
pub struct CartProblem {
    /// PRICE_CHANGED, INSUFFICIENT_STOCK, LOT_RECALLED, REAL_NAME_REQUIRED, OFFER_WITHDRAWN, OUTSIDE_SERVICE_AREA,
    /// PRODUCT_DELISTED.
    code: String,
    message: String,
}

pub struct CartLine(pub orders::CartLineView);

#[Object]
impl CartLine {
    async fn id(&self) -> ID {
        gid("CartLine", self.0.line.id)
    }
    async fn offer(&self) -> Offer {
        Offer(self.0.offer.clone())
    }
    async fn sku(&self) -> Sku {
        Sku(self.0.sku.clone())
    }
    async fn product(&self) -> Product {
        Product(self.0.product.clone())
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        Ok(one(ctx, DealerKey(self.0.offer.dealer_id))
            .await?
            .map(Dealer))
    }
    async fn quantity(&self) -> i64 {
        self.0.line.quantity
    }
    /// The current price.
    async fn unit_price_fen(&self) -> i64 {
        self.0.offer.price_fen
    }
    /// The price when the line was added.
    async fn price_fen_when_added(&self) -> i64 {
        self.0.line.price_fen_when_added
    }
    async fn subtotal_fen(&self) -> i64 {
        self.0.subtotal_fen()
    }
    /// Sellable units the dealer has now.
    async fn available(&self) -> i64 {
        self.0.available
    }
    async fn problems(&self, ctx: &Context<'_>) -> Vec<CartProblem> {
        self.0
            .problems
            .iter()
            .map(|p| CartProblem {
                code: p.code.into(),
                message: pick(ctx, &p.zh, &p.en),
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct Cart {
    lines: Vec<CartLine>,
    total_fen: i64,
    /// True when some line has a problem to look at before checkout.
    has_problems: bool,
}

pub struct Order(pub customer_order::Model);

#[Object]
impl Order {
    async fn id(&self) -> ID {
        gid("Order", self.0.id)
    }
    /// A short number to say on the phone.
    async fn number(&self) -> i64 {
        self.0.id
    }
    async fn status(&self) -> OrderStatus {
        Status::parse(&self.0.status)
            .unwrap_or(Status::Placed)
            .into()
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        Ok(one(ctx, DealerKey(self.0.dealer_id)).await?.map(Dealer))
    }
    async fn delivery_mode(&self) -> &str {
        &self.0.delivery_mode
    }
    async fn station(&self, ctx: &Context<'_>) -> ApiResult<Option<Station>> {
        match self.0.station_id {
            Some(s) => Ok(one(ctx, StationKey(s)).await?.map(Station)),
            None => Ok(None),
        }
    }
    async fn delivery_address(&self) -> Option<&str> {
        self.0.delivery_address.as_deref()
    }
    async fn payment_method(&self) -> &str {
        &self.0.payment_method
    }
    /// PENDING, PAID, ON_CREDIT, CREDIT_RELEASED, AUTHORISED, CAPTURED, VOIDED, REFUNDED, FAILED.
    async fn payment_status(&self) -> &str {
        &self.0.payment_status
    }
    async fn total_fen(&self) -> i64 {
        self.0.total_fen
    }
    async fn total(&self) -> String {
        orders::money(self.0.total_fen)
    }
    async fn crop(&self) -> Option<&str> {
        self.0.crop.as_deref()
    }
    async fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }
    async fn field(&self, ctx: &Context<'_>) -> ApiResult<Option<Field>> {
        match self.0.field_id {
            Some(f) => Ok(one(ctx, FieldKey(f)).await?.map(Field)),
            None => Ok(None),
        }
    }
    async fn note(&self) -> &str {
        &self.0.note
    }
    /// Things the farmer or dealer should know (e.g. no field named, dose not checked).
    /// In the caller's language.
    async fn warnings(&self, ctx: &Context<'_>) -> Vec<String> {
        orders::warnings(&self.0, crate::graphql::lang(ctx))
    }
    /// Set when a lot this order holds was recalled.
    async fn flagged(&self) -> bool {
        self.0.flagged
    }
    /// In the caller's language.
    async fn flag_reason(&self, ctx: &Context<'_>) -> Option<String> {
        orders::flag_reason(&self.0, crate::graphql::lang(ctx))
    }
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    async fn placed_at(&self) -> DateTime<Utc> {
        self.0.placed_at
    }
    /// When a PLACED order expires if the dealer has not confirmed it.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrderLine>> {
        Ok(many(ctx, LinesOfOrder(self.0.id))
            .await?
            .into_iter()
            .map(OrderLine)
            .collect())
    }
    /// Every transition: who, when, why.
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrderEvent>> {
        Ok(many(ctx, EventsOfOrder(self.0.id))
            .await?
            .into_iter()
            .map(OrderEvent)
            .collect())
    }
    async fn payments(&self, ctx: &Context<'_>) -> ApiResult<Vec<Payment>> {
        Ok(many(ctx, PaymentsOfOrder(self.0.id))
            .await?
            .into_iter()
            .map(Payment)
            .collect())
    }
    /// The sale the hand-over recorded.
    async fn sale_id(&self) -> Option<ID> {
        self.0.sale_id.map(|s| gid("Sale", s))
    }
}

pub struct OrderLine(pub order_line::Model);

#[Object]
impl OrderLine {
    async fn id(&self) -> ID {
        gid("OrderLine", self.0.id)
    }
    async fn sku_id(&self) -> ID {
        gid("Sku", self.0.sku_id)
    }
    async fn product_name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.product_name_zh, &self.0.product_name_en)
    }
    async fn pack(&self) -> &str {
        &self.0.pack
    }
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    async fn unit_price_fen(&self) -> i64 {
        self.0.unit_price_fen
    }
    /// Which lots the line holds or took (earliest expiry first).
    async fn allocations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Allocation>> {
        Ok(many(ctx, AllocationsOfLine(self.0.id))
            .await?
            .into_iter()
            .map(Allocation)
            .collect())
    }
}

pub struct Allocation(pub domain::entities::order_allocation::Model);

#[Object]
impl Allocation {
    async fn lot(&self, ctx: &Context<'_>) -> ApiResult<Option<Lot>> {
        Ok(one(ctx, LotKey(self.0.lot_id)).await?.map(Lot))
    }
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    /// RESERVED, RELEASED or SOLD.
    async fn status(&self) -> &str {
        &self.0.status
    }
}

pub struct OrderEvent(pub order_event::Model);

#[Object]
impl OrderEvent {
    async fn from(&self) -> Option<OrderStatus> {
        self.0
            .from_status
            .as_deref()
            .and_then(Status::parse)
            .map(Into::into)
    }
    async fn to(&self) -> OrderStatus {
        Status::parse(&self.0.to_status)
            .unwrap_or(Status::Placed)
            .into()
    }
    /// Who: a user id, or null for the system (expiry).
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|a| gid("User", a))
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

pub struct Payment(pub payment::Model);

#[Object]
impl Payment {
    async fn provider(&self) -> &str {
        &self.0.provider
    }
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn amount_fen(&self) -> i64 {
        self.0.amount_fen
    }
    async fn provider_ref(&self) -> &str {
        &self.0.provider_ref
    }
}

pub struct CreditAccount(pub credit_account::Model);

#[Object]
impl CreditAccount {
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        Ok(one(ctx, DealerKey(self.0.dealer_id)).await?.map(Dealer))
    }
    async fn farmer_id(&self) -> ID {
        gid("User", self.0.farmer_id)
    }
    async fn limit_fen(&self) -> i64 {
        self.0.limit_fen
    }
    /// What the farmer owes.
    async fn balance_fen(&self) -> i64 {
        self.0.balance_fen
    }
    async fn available_fen(&self) -> i64 {
        (self.0.limit_fen - self.0.balance_fen).max(0)
    }
    /// The repayments recorded on this account, newest first.
    async fn repayments(&self, ctx: &Context<'_>) -> ApiResult<Vec<CreditRepayment>> {
        let a = crate::graphql::actor(ctx)?;
        orders::repayments_of(db(ctx), a, self.0.dealer_id, self.0.farmer_id)
            .await
            .map(|v| v.into_iter().map(CreditRepayment).collect())
            .map_err(|e| to_gql(e, lang(ctx)))
    }
}

/// One repayment on a credit account (赊账还款).
pub struct CreditRepayment(pub domain::entities::credit_repayment::Model);

#[Object]
impl CreditRepayment {
    async fn amount_fen(&self) -> i64 {
        self.0.amount_fen
    }
    /// What the farmer owed after it.
    async fn balance_after_fen(&self) -> i64 {
        self.0.balance_after_fen
    }
    async fn recorded_by(&self) -> ID {
        gid("User", self.0.recorded_by)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A farmer's plot (地块).
pub struct Field(pub field::Model);

#[Object]
impl Field {
    async fn id(&self) -> ID {
        gid("Field", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn area_mu(&self) -> f64 {
        self.0.area_mu
    }
    async fn area_ha(&self) -> f64 {
        self.0.area_mu / fields::MU_PER_HA
    }
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        Ok(one(ctx, RegionKey(self.0.village_id)).await?.map(Region))
    }
    async fn soil_type(&self) -> &str {
        &self.0.soil_type
    }
    async fn irrigation(&self) -> &str {
        &self.0.irrigation
    }
    async fn lat(&self) -> Option<f64> {
        self.0.lat
    }
    async fn lon(&self) -> Option<f64> {
        self.0.lon
    }
}

async fn load_cart(ctx: &Context<'_>) -> ApiResult<Cart> {
    let a = actor(ctx)?;
    let lines = orders::cart(db(ctx), a)
        .await
        .map_err(|e| to_gql(e, lang(ctx)))?;
    Ok(Cart {
        total_fen: lines.iter().map(|l| l.subtotal_fen()).sum(),
        has_problems: lines.iter().any(|l| !l.problems.is_empty()),
        lines: lines.into_iter().map(CartLine).collect(),
    })
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// The farmer's cart, kept on the server.
    async fn cart(&self, ctx: &Context<'_>) -> ApiResult<Cart> {
        load_cart(ctx).await
    }

    /// The farmer's orders, newest first, with their history.
    async fn my_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        #[graphql(default)] offset: i32,
    ) -> ApiResult<Vec<Order>> {
        let a = actor(ctx)?;
        let rows =
            orders::farmer_orders(db(ctx), a, first.clamp(1, 100) as u64, offset.max(0) as u64)
                .await
                .map_err(|e| to_gql(e, lang(ctx)))?;
        prefetch_orders(ctx, &rows).await?;
        Ok(rows.into_iter().map(Order).collect())
    }

    /// A dealer's incoming-order queue, oldest first, filtered.
    #[allow(clippy::too_many_arguments)]
    async fn dealer_orders(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        statuses: Option<Vec<OrderStatus>>,
        delivery_mode: Option<DeliveryModeGql>,
        #[graphql(default)] flagged_only: bool,
        placed_from: Option<DateTime<Utc>>,
        placed_to: Option<DateTime<Utc>>,
        #[graphql(default = 50)] first: i32,
        #[graphql(default)] offset: i32,
    ) -> ApiResult<Vec<Order>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = parse_gid("dealerId", "Dealer", &dealer_id).map_err(|e| to_gql(e, l))?;
        let f = orders::OrderFilter {
            statuses: statuses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            delivery_mode: delivery_mode.map(Into::into),
            flagged_only,
            placed_from,
            placed_to,
        };
        let rows = orders::dealer_orders(
            db(ctx),
            a,
            d,
            &f,
            first.clamp(1, 100) as u64,
            offset.max(0) as u64,
        )
        .await
        .map_err(|e| to_gql(e, l))?;
        prefetch_orders(ctx, &rows).await?;
        Ok(rows.into_iter().map(Order).collect())
    }

    async fn order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Order> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("id", "Order", &id).map_err(|e| to_gql(e, l))?;
        orders::visible_order(db(ctx), a, id)
            .await
            .map(Order)
            .map_err(|e| to_gql(e, l))
    }

    /// Farmers: their credit at each dealer. Dealers: the accounts they hold (`dealerId`).
    async fn credit_accounts(
        &self,
        ctx: &Context<'_>,
        dealer_id: Option<ID>,
    ) -> ApiResult<Vec<CreditAccount>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let rows = match parse_gid_opt("dealerId", "Dealer", dealer_id.as_ref())
            .map_err(|e| to_gql(e, l))?
        {
            Some(d) => orders::credit_accounts_of_dealer(db(ctx), a, d).await,
            None => orders::credit_accounts_of_farmer(db(ctx), a.user_id).await,
        }
        .map_err(|e| to_gql(e, l))?;
        Ok(rows.into_iter().map(CreditAccount).collect())
    }

    /// The farmer's fields.
    async fn my_fields(&self, ctx: &Context<'_>) -> ApiResult<Vec<Field>> {
        let a = actor(ctx)?;
        Ok(fields::of_farmer(db(ctx), a.user_id)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?
            .into_iter()
            .map(Field)
            .collect())
    }
}

#[derive(InputObject, Clone)]
pub struct OrderOptionsInput {
    delivery_mode: DeliveryModeGql,
    /// For VILLAGE_STATION.
    station_id: Option<ID>,
    /// For HOME.
    address: Option<String>,
    payment_method: PaymentMethodGql,
    /// For pesticides: the crop (code or name) and the pest or disease.
    crop: Option<String>,
    target: Option<String>,
    /// The field it is for: quantities are checked against label dose x area.
    field_id: Option<ID>,
    #[graphql(default)]
    note: String,
}

impl OrderOptionsInput {
    fn into_domain(self, prefix: &str) -> domain::Result<OrderOptions> {
        let o = OrderOptions {
            delivery_mode: self.delivery_mode.into(),
            station_id: parse_gid_opt(
                &format!("{prefix}stationId"),
                "Station",
                self.station_id.as_ref(),
            )?,
            address: self.address,
            payment_method: self.payment_method.into(),
            crop: self.crop.filter(|c| !c.trim().is_empty()),
            target: self.target.filter(|t| !t.trim().is_empty()),
            field_id: parse_gid_opt(&format!("{prefix}fieldId"), "Field", self.field_id.as_ref())?,
            note: self.note,
        };
        orders::validate_options(&o)?;
        Ok(o)
    }
}

#[derive(InputObject)]
pub struct DealerOrderOptions {
    dealer_id: ID,
    options: OrderOptionsInput,
}

#[derive(InputObject)]
pub struct OrderPlaceInput {
    /// How every dealer's order is delivered and paid, unless `perDealer` says otherwise.
    default: OrderOptionsInput,
    #[graphql(default)]
    per_dealer: Vec<DealerOrderOptions>,
}

#[derive(SimpleObject)]
pub struct OrderPlacePayload {
    /// One order per dealer in the cart.
    orders: Vec<Order>,
    /// True when this idempotency key had been used: these are the first call's orders.
    replayed: bool,
    errors: Vec<OrderError>,
}

#[derive(SimpleObject)]
pub struct OrderPayload {
    order: Option<Order>,
    errors: Vec<OrderError>,
}

// The cart after a change (read only when asked for: a phone that keeps its own copy skips the
// availability look-ups), or why the change was refused. (Plain comments: the checked-in SDL
// keeps its shape.)
pub struct CartPayload {
    changed: bool,
    errors: Vec<OrderError>,
}

#[Object]
impl CartPayload {
    async fn cart(&self, ctx: &Context<'_>) -> ApiResult<Option<Cart>> {
        if self.changed {
            Ok(Some(load_cart(ctx).await?))
        } else {
            Ok(None)
        }
    }
    async fn errors(&self) -> &[OrderError] {
        &self.errors
    }
}

#[derive(SimpleObject)]
pub struct CreditPayload {
    account: Option<CreditAccount>,
    errors: Vec<OrderError>,
}

#[derive(SimpleObject)]
pub struct FieldPayload {
    field: Option<Field>,
    errors: Vec<OrderError>,
}

#[derive(InputObject)]
pub struct FieldInput {
    name: String,
    /// Area in mu; or give `areaHa`.
    area_mu: Option<f64>,
    area_ha: Option<f64>,
    village_id: ID,
    #[graphql(default)]
    soil_type: String,
    #[graphql(default)]
    irrigation: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

pub fn order_settings(ctx: &Context<'_>) -> orders::Settings {
    let c = &services(ctx).config;
    orders::Settings {
        confirm_within: chrono::Duration::from_std(c.order_confirm_within)
            .unwrap_or(chrono::Duration::hours(48)),
        low_stock_threshold: c.low_stock_threshold,
    }
}

async fn cart_payload(ctx: &Context<'_>, r: domain::Result<()>) -> ApiResult<CartPayload> {
    let l = lang(ctx);
    match split_order(r, l)? {
        Ok(()) => Ok(CartPayload {
            changed: true,
            errors: vec![],
        }),
        Err(e) => Ok(CartPayload {
            changed: false,
            errors: e,
        }),
    }
}

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Sets how many of an offer are in the cart (0 removes the line).
    async fn cart_set(
        &self,
        ctx: &Context<'_>,
        offer_id: ID,
        quantity: i64,
    ) -> ApiResult<CartPayload> {
        let a = actor(ctx)?;
        let r = async {
            orders::cart_set(
                db(ctx),
                a,
                parse_gid("offerId", "Offer", &offer_id)?,
                quantity,
            )
            .await
        }
        .await;
        cart_payload(ctx, r).await
    }

    /// Accepts the current prices after a PRICE_CHANGED problem.
    async fn cart_accept_prices(&self, ctx: &Context<'_>) -> ApiResult<CartPayload> {
        let a = actor(ctx)?;
        let r = orders::cart_accept_prices(db(ctx), a).await;
        cart_payload(ctx, r).await
    }

    async fn cart_clear(&self, ctx: &Context<'_>) -> ApiResult<CartPayload> {
        let a = actor(ctx)?;
        let r = orders::cart_clear(db(ctx), a).await;
        cart_payload(ctx, r).await
    }

    /// Checks out the cart: one order per dealer, stock reserved (earliest expiry first, all or
    /// nothing). The same `idempotencyKey` from the same farmer returns the first result.
    async fn order_place(
        &self,
        ctx: &Context<'_>,
        input: OrderPlaceInput,
        idempotency_key: String,
    ) -> ApiResult<OrderPlacePayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let s = services(ctx);
        let r = async {
            let default = input.default.into_domain("default.")?;
            let mut per_dealer = BTreeMap::new();
            for (i, d) in input.per_dealer.into_iter().enumerate() {
                let id = parse_gid(&format!("perDealer.{i}.dealerId"), "Dealer", &d.dealer_id)?;
                per_dealer.insert(
                    id,
                    d.options.into_domain(&format!("perDealer.{i}.options."))?,
                );
            }
            orders::place(
                db(ctx),
                a,
                &idempotency_key,
                orders::PlaceInput {
                    default,
                    per_dealer,
                },
                s.payments.as_deref(),
                order_settings(ctx),
            )
            .await
        }
        .await;
        Ok(match split_order(r, l)? {
            Ok(p) => {
                publish(ctx, p.events).await;
                OrderPlacePayload {
                    orders: p.orders.into_iter().map(Order).collect(),
                    replayed: p.replayed,
                    errors: vec![],
                }
            }
            Err(e) => OrderPlacePayload {
                orders: vec![],
                replayed: false,
                errors: e,
            },
        })
    }

    /// Moves an order along its lifecycle: PLACED -> CONFIRMED (dealer) -> READY_FOR_PICKUP or
    /// OUT_FOR_DELIVERY -> DELIVERED (hand-over: the sale is recorded) -> COMPLETED; CANCELLED
    /// from PLACED (farmer) or PLACED/CONFIRMED (dealer, with a reason).
    async fn order_transition(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        to: OrderStatus,
        #[graphql(default)] reason: String,
        #[graphql(
            default,
            desc = "At a hand-over (DELIVERED): the unit codes scanned, one per unit where the lots carry codes."
        )]
        unit_codes: Vec<String>,
    ) -> ApiResult<OrderPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let s = services(ctx);
        let r = async {
            let id = parse_gid("orderId", "Order", &order_id)?;
            orders::visible_order(db(ctx), a, id).await?;
            orders::transition_with_codes(
                db(ctx),
                Some(a),
                id,
                to.into(),
                &reason,
                &unit_codes,
                s.payments.as_deref(),
                order_settings(ctx),
            )
            .await
        }
        .await;
        Ok(match split_order(r, l)? {
            Ok((o, events)) => {
                publish(ctx, events).await;
                OrderPayload {
                    order: Some(Order(o)),
                    errors: vec![],
                }
            }
            Err(e) => OrderPayload {
                order: None,
                errors: e,
            },
        })
    }

    /// The order's dealer swaps a line's reservations on lots that can no longer be sold (a
    /// recall, a hold) for sellable lots of the same pack at the same place, earliest expiry
    /// first; the order's recall flag clears once it holds no unsellable lot. Refused with
    /// INSUFFICIENT_STOCK (nothing changed) when the sellable stock is short.
    async fn order_line_reallocate(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        line_id: ID,
    ) -> ApiResult<OrderPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("orderId", "Order", &order_id)?;
            let line = parse_gid("lineId", "OrderLine", &line_id)?;
            orders::desk::reallocate_line(db(ctx), a, id, line, order_settings(ctx)).await
        }
        .await;
        Ok(match split_order(r, l)? {
            Ok((o, events)) => {
                publish(ctx, events).await;
                OrderPayload {
                    order: Some(Order(o)),
                    errors: vec![],
                }
            }
            Err(e) => OrderPayload {
                order: None,
                errors: e,
            },
        })
    }

    /// A dealer owner sets a farmer's credit limit (integer fen).
    async fn credit_limit_set(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        farmer_id: ID,
        limit_fen: i64,
    ) -> ApiResult<CreditPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            orders::set_credit_limit(
                db(ctx),
                a,
                parse_gid("dealerId", "Dealer", &dealer_id)?,
                parse_gid("farmerId", "User", &farmer_id)?,
                limit_fen,
            )
            .await
        }
        .await;
        Ok(match split_order(r, l)? {
            Ok(acc) => CreditPayload {
                account: Some(CreditAccount(acc)),
                errors: vec![],
            },
            Err(e) => CreditPayload {
                account: None,
                errors: e,
            },
        })
    }

    /// Records a repayment of credit.
    async fn credit_repay(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        farmer_id: ID,
        amount_fen: i64,
    ) -> ApiResult<CreditPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            orders::record_repayment(
                db(ctx),
                a,
                parse_gid("dealerId", "Dealer", &dealer_id)?,
                parse_gid("farmerId", "User", &farmer_id)?,
                amount_fen,
            )
            .await
        }
        .await;
        Ok(match split_order(r, l)? {
            Ok(acc) => CreditPayload {
                account: Some(CreditAccount(acc)),
                errors: vec![],
            },
            Err(e) => CreditPayload {
                account: None,
                errors: e,
            },
        })
    }

    /// A farmer records a field (area in mu or ha).
    async fn field_create(&self, ctx: &Context<'_>, input: FieldInput) -> ApiResult<FieldPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let area_mu = match (input.area_mu, input.area_ha) {
                (Some(m), None) => m,
                (None, Some(h)) => h * fields::MU_PER_HA,
                _ => {
                    return Err(Error::invalid(
                        "areaMu",
                        Code::Required,
                        "请填写面积（亩或公顷，二选一）",
                        "give the area in mu or in ha (one of them)",
                    ));
                }
            };
            let new = fields::NewField {
                name: input.name,
                area_mu,
                village_id: parse_gid("villageId", "Region", &input.village_id)?,
                soil_type: input.soil_type,
                irrigation: input.irrigation,
                lat: input.lat,
                lon: input.lon,
            };
            fields::create(db(ctx), a, new).await
        }
        .await;
        Ok(match split_order(r, l)? {
            Ok(f) => FieldPayload {
                field: Some(Field(f)),
                errors: vec![],
            },
            Err(e) => FieldPayload {
                field: None,
                errors: e,
            },
        })
    }
}

/// A stock alert for a dealer.
#[derive(SimpleObject, Clone)]
pub struct StockAlert {
    /// LOW_STOCK, NEAR_EXPIRY or RECALL.
    kind: String,
    dealer_id: ID,
    sku_id: Option<ID>,
    lot_id: Option<ID>,
    available: Option<i64>,
    message: String,
}

pub struct Subscription;

fn bus_stream(ctx: &Context<'_>) -> impl Stream<Item = DomainEvent> + use<> {
    let rx = services(ctx).bus.subscribe();
    futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) => return Some((e, rx)),
                // A slow subscriber skips what it missed rather than ending.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[Subscription]
impl Subscription {
    /// Changes to the caller's orders (farmers) or to the dealer's orders (dealer staff).
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<futures_util::stream::BoxStream<'static, Order>> {
        let a = actor(ctx)?.clone();
        let db = db(ctx).clone();
        Ok(futures_util::StreamExt::boxed(
            futures_util::StreamExt::filter_map(bus_stream(ctx), move |e| {
                let (a, db) = (a.clone(), db.clone());
                async move {
                    let DomainEvent::OrderUpdated {
                        order_id,
                        farmer_id,
                        dealer_id,
                        ..
                    } = e
                    else {
                        return None;
                    };
                    let mine = farmer_id == a.user_id && a.role == domain::accounts::Role::Farmer;
                    let dealer = a.works_for(dealer_id) || a.is_admin();
                    if !(mine || dealer) {
                        return None;
                    }
                    orders::order(&db, order_id).await.ok().map(Order)
                }
            }),
        ))
    }

    /// Low stock, near expiry and recall alerts for a dealer's staff.
    async fn stock_alert(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<futures_util::stream::BoxStream<'static, StockAlert>> {
        let a = actor(ctx)?.clone();
        let l = lang(ctx);
        if a.role != domain::accounts::Role::Dealer {
            return Err(to_gql(domain::accounts::forbidden(), l));
        }
        Ok(futures_util::StreamExt::boxed(
            futures_util::StreamExt::filter_map(bus_stream(ctx), move |e| {
                let a = a.clone();
                async move {
                    let DomainEvent::StockAlert {
                        dealer_id,
                        kind,
                        sku_id,
                        lot_id,
                        available,
                        message_zh,
                        message_en,
                    } = e
                    else {
                        return None;
                    };
                    if !a.works_for(dealer_id) {
                        return None;
                    }
                    Some(StockAlert {
                        kind,
                        dealer_id: gid("Dealer", dealer_id),
                        sku_id: sku_id.map(|s| gid("Sku", s)),
                        lot_id: lot_id.map(|s| gid("Lot", s)),
                        available,
                        message: l.pick(&message_zh, &message_en).to_owned(),
                    })
                }
            }),
        ))
    }
}
