//! What the farmer sees: a field's recommendations, their published ones, and a basket put into
//! the cart at today's prices.

use super::*;

/// Recommendations of a field the actor may see (farmers: published and superseded only).
pub async fn of_field(
    db: &impl ConnectionTrait,
    actor: &Actor,
    field_id: i64,
) -> Result<Vec<recommendation::Model>> {
    field_for(db, actor, field_id).await?;
    let mut q = recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.eq(field_id))
        .order_by_desc(recommendation::Column::Id);
    if actor.role == Role::Farmer {
        q = q.filter(recommendation::Column::Status.is_in([
            RecommendationStatus::Published,
            RecommendationStatus::Superseded,
        ]));
    }
    Ok(q.all(db).await?)
}

/// The farmer's published recommendations, newest first.
pub async fn for_farmer(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> Result<Vec<recommendation::Model>> {
    actor.require(actor.role == Role::Farmer)?;
    let fields: Vec<i64> = crate::fields::of_farmer(db, actor.user_id)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    Ok(recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.is_in(fields))
        .filter(recommendation::Column::Status.eq(RecommendationStatus::Published))
        .order_by_desc(recommendation::Column::Id)
        .all(db)
        .await?)
}

/// What moved between the recommendation and now, for one basket line.
#[derive(Clone, Debug)]
pub struct CartWarning {
    pub offer_id: i64,
    pub zh: String,
    pub en: String,
}

/// Puts a published recommendation's basket into the farmer's cart at today's prices, and says
/// what moved (price, stock, withdrawn offers).
pub async fn basket_to_cart<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<Vec<CartWarning>> {
    actor.require(actor.role == Role::Farmer)?;
    let r = get(db, actor, id).await?;
    if r.status != RecommendationStatus::Published {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "只有当前发布的版本可以加入购物车",
            "only the current published version can go into the cart",
        ));
    }
    let basket: Basket =
        serde_json::from_value(r.basket.clone()).map_err(|e| Error::Internal(e.to_string()))?;
    let txn = crate::begin_write(db).await?;
    let mut warnings = Vec::new();
    for l in &basket.lines {
        let o = offer::Entity::find_by_id(l.offer_id).one(&txn).await?;
        match o {
            Some(o) if o.active => {
                if o.price_fen != l.price_fen_per_bag {
                    warnings.push(CartWarning {
                        offer_id: o.id,
                        zh: format!(
                            "{} 价格已从 {} 变为 {}",
                            l.product_zh,
                            crate::types::Fen(l.price_fen_per_bag),
                            crate::types::Fen(o.price_fen)
                        ),
                        en: format!(
                            "{}: price moved from {} to {}",
                            l.product_en,
                            crate::types::Fen(l.price_fen_per_bag),
                            crate::types::Fen(o.price_fen)
                        ),
                    });
                }
                let available = orders::available_of(&txn, o.dealer_id, o.sku_id).await?;
                if available < l.bags {
                    warnings.push(CartWarning {
                        offer_id: o.id,
                        zh: format!(
                            "{} 库存不足：可购 {available} 袋，建议 {} 袋",
                            l.product_zh, l.bags
                        ),
                        en: format!(
                            "{}: only {available} bags in stock, {} recommended",
                            l.product_en, l.bags
                        ),
                    });
                }
                orders::cart_set(&txn, actor, o.id, l.bags).await?;
                // Re-priced: a line already in the cart takes today's price too (the warning
                // above is the farmer's notice), so it does not stop at checkout as changed.
                cart_line::Entity::update_many()
                    .col_expr(
                        cart_line::Column::PriceFenWhenAdded,
                        sea_orm::sea_query::Expr::value(o.price_fen),
                    )
                    .col_expr(
                        cart_line::Column::RecommendationId,
                        sea_orm::sea_query::Expr::value(r.id),
                    )
                    .filter(cart_line::Column::FarmerId.eq(actor.user_id))
                    .filter(cart_line::Column::OfferId.eq(o.id))
                    .exec(&txn)
                    .await?;
            }
            _ => warnings.push(CartWarning {
                offer_id: l.offer_id,
                zh: format!("{} 已下架，未加入购物车", l.product_zh),
                en: format!(
                    "{}: the offer was withdrawn and was not added",
                    l.product_en
                ),
            }),
        }
    }
    txn.commit().await?;
    Ok(warnings)
}

/// One application of a recommendation's split: the basal dressing or a top-dressing at a crop
/// stage, kg per mu in half kilograms (N, P2O5, K2O) and for the field.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Application {
    pub stage: String,
    pub stage_zh: String,
    pub stage_en: String,
    pub timing_zh: String,
    pub timing_en: String,
    pub kg_per_mu: [f64; 3],
    pub field_kg: [f64; 3],
}

/// A recommendation's lime, kg per mu: ground limestone in all, this year's share, and the
/// same neutralising power as quicklime or slaked lime.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Lime {
    pub limestone_kg_per_mu: f64,
    pub this_year_limestone_kg_per_mu: f64,
    pub quicklime_kg_per_mu: f64,
    pub slaked_lime_kg_per_mu: f64,
    pub years: u32,
}

/// The applications of a recommendation's split (none for a crop with no sourced split, or a
/// recommendation stored before splits).
pub fn applications(r: &recommendation::Model) -> Vec<Application> {
    serde_json::from_value(r.parameters["split"]["applications"].clone()).unwrap_or_default()
}

/// A recommendation's lime, where the soil is acid.
pub fn lime(r: &recommendation::Model) -> Option<Lime> {
    serde_json::from_value(r.parameters.get("lime")?.clone()).ok()
}
