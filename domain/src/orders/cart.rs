//! The cart kept on the server: lines per offer, the price when added, and the problems a
//! line has now (sold out, price changed, recalled lot, dealer not serving the village).

use super::*;

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
        if p.status != crate::types::ProductStatus::Active {
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
