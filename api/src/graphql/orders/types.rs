//! Order output objects: the cart, orders, lines, allocations, events, payments, dealer credit and fields, with the status, delivery and payment enums.

use super::*;

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
    pub(crate) lines: Vec<CartLine>,
    pub(crate) total_fen: i64,
    /// True when some line has a problem to look at before checkout.
    pub(crate) has_problems: bool,
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
        self.0.status.into()
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        Ok(one(ctx, DealerKey(self.0.dealer_id)).await?.map(Dealer))
    }
    async fn delivery_mode(&self) -> DeliveryModeGql {
        self.0.delivery_mode.into()
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
    async fn payment_method(&self) -> PaymentMethodGql {
        self.0.payment_method.into()
    }
    async fn payment_status(&self) -> PaymentStatusGql {
        self.0.payment_status.into()
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
    async fn status(&self) -> AllocationStatusGql {
        self.0.status.into()
    }
}

pub struct OrderEvent(pub order_event::Model);

#[Object]
impl OrderEvent {
    async fn from(&self) -> Option<OrderStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to(&self) -> OrderStatus {
        self.0.to_status.into()
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
    async fn status(&self) -> ChargeStatusGql {
        self.0.status.into()
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
