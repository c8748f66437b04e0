//! Batched look-ups for the API's DataLoaders: one statement per relation, whatever the page size.

use super::*;

pub async fn products_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<product::Model>> {
    Ok(product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn producers_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<producer::Model>> {
    Ok(producer::Entity::find()
        .filter(producer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn skus_by_products(
    db: &impl ConnectionTrait,
    product_ids: &[i64],
) -> Result<Vec<sku::Model>> {
    Ok(sku::Entity::find()
        .filter(sku::Column::ProductId.is_in(product_ids.iter().copied()))
        .filter(sku::Column::Active.eq(true))
        .order_by_asc(sku::Column::PackSize)
        .all(db)
        .await?)
}

pub async fn skus_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<sku::Model>> {
    Ok(sku::Entity::find()
        .filter(sku::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn offers_by_skus(
    db: &impl ConnectionTrait,
    sku_ids: &[i64],
) -> Result<Vec<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::SkuId.is_in(sku_ids.iter().copied()))
        .filter(offer::Column::Active.eq(true))
        .order_by_asc(offer::Column::PriceFen)
        .all(db)
        .await?)
}

pub async fn offers_by_dealers(
    db: &impl ConnectionTrait,
    dealer_ids: &[i64],
) -> Result<Vec<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::DealerId.is_in(dealer_ids.iter().copied()))
        .filter(offer::Column::Active.eq(true))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?)
}

pub async fn fertiliser_specs(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<fertiliser_spec::Model>> {
    Ok(fertiliser_spec::Entity::find()
        .filter(fertiliser_spec::Column::ProductId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn seed_specs(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<seed_spec::Model>> {
    Ok(seed_spec::Entity::find()
        .filter(seed_spec::Column::ProductId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn pesticide_specs(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<pesticide_spec::Model>> {
    Ok(pesticide_spec::Entity::find()
        .filter(pesticide_spec::Column::ProductId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn uses_by_products(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<pesticide_use::Model>> {
    Ok(pesticide_use::Entity::find()
        .filter(pesticide_use::Column::ProductId.is_in(ids.iter().copied()))
        .order_by_asc(pesticide_use::Column::Id)
        .all(db)
        .await?)
}
