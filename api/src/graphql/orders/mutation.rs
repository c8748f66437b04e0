//! The order mutations and their payloads: cart, checkout, the order lifecycle, payments, credit, fields.

use super::*;

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

impl PayloadError for OrderError {
    fn from_field(e: FieldError, l: Lang) -> Self {
        OrderError {
            message: e.message(l).to_owned(),
            field: e.field,
            code: e.code.into(),
            from: None,
            to: None,
        }
    }

    /// An illegal order-state change is the caller's to fix, so it is payload data.
    fn from_transition(from: StateName, to: StateName, message: String) -> Option<Self> {
        Some(OrderError {
            field: "to".into(),
            code: OrderErrorCode::InvalidTransition,
            message,
            from: Status::parse(from.code).map(Into::into),
            to: Status::parse(to.code).map(Into::into),
        })
    }
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
    payload!(CartPayload, OrderError, r, l, |()| { changed: true } else { changed: false })
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
        let r = publish_ok(ctx, r.map(|p| ((p.orders, p.replayed), p.events))).await;
        payload!(OrderPlacePayload, OrderError, r, l, |(placed, again)| {
            orders: placed.into_iter().map(Order).collect(),
            replayed: again,
        } else {
            orders: vec![],
            replayed: false,
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
        let r = publish_ok(ctx, r).await;
        payload!(OrderPayload, order, OrderError, r, l, |o| Order(o))
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
        let r = publish_ok(ctx, r).await;
        payload!(OrderPayload, order, OrderError, r, l, |o| Order(o))
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
        payload!(CreditPayload, account, OrderError, r, l, |acc| {
            CreditAccount(acc)
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
        payload!(CreditPayload, account, OrderError, r, l, |acc| {
            CreditAccount(acc)
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
        payload!(FieldPayload, field, OrderError, r, l, |f| Field(f))
    }
}
