//! A dealer's own offers: the list with pack and product, the villages they reach, the packs
//! they do not offer yet, and a change to one of their offers.

use super::*;

/// An offer with the pack and product it sells.
#[derive(Clone, Debug)]
pub struct OfferView {
    pub offer: offer::Model,
    pub sku: sku::Model,
    pub product: product::Model,
}

/// Every offer of a dealer, withdrawn ones too.
async fn all_offers_of(db: &impl ConnectionTrait, dealer_id: i64) -> Result<Vec<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::DealerId.eq(dealer_id))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?)
}

/// The dealer's offers, active and withdrawn, by product name and pack (the dealer's staff and
/// admins).
pub async fn offers_of_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<OfferView>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let offers = all_offers_of(db, dealer_id).await?;
    let skus: BTreeMap<i64, sku::Model> =
        skus_by_ids(db, &offers.iter().map(|o| o.sku_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    let products: BTreeMap<i64, product::Model> =
        products_by_ids(db, &skus.values().map(|s| s.product_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let mut out: Vec<OfferView> = offers
        .into_iter()
        .filter_map(|o| {
            let s = skus.get(&o.sku_id)?.clone();
            let p = products.get(&s.product_id)?.clone();
            Some(OfferView {
                offer: o,
                sku: s,
                product: p,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.product
            .name_zh
            .cmp(&b.product.name_zh)
            .then(a.sku.pack_size.total_cmp(&b.sku.pack_size))
            .then(a.offer.id.cmp(&b.offer.id))
    });
    Ok(out)
}

/// The villages a dealer's offers reach: an active offer is shown to the farmers of every
/// village in the dealer's service area (the storefront lists only dealers serving the
/// farmer's village); a withdrawn offer reaches none. Sorted by name.
pub async fn villages_reached(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<crate::entities::region::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let ids: Vec<i64> = regions::service_areas_of(db, &[dealer_id])
        .await?
        .into_iter()
        .map(|a| a.village_id)
        .collect();
    let mut v = regions::regions_by_ids(db, &ids).await?;
    v.sort_by(|a, b| a.name_zh.cmp(&b.name_zh).then(a.id.cmp(&b.id)));
    Ok(v)
}

/// Packs of listed products the dealer does not offer yet, by product name (what "add an
/// offer" may choose from; the licence check comes when the offer is made).
pub async fn packs_to_offer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<(sku::Model, product::Model)>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let offered: std::collections::BTreeSet<i64> = all_offers_of(db, dealer_id)
        .await?
        .into_iter()
        .map(|o| o.sku_id)
        .collect();
    let products: BTreeMap<i64, product::Model> = product::Entity::find()
        .filter(product::Column::Status.eq(crate::types::ProductStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out: Vec<(sku::Model, product::Model)> = sku::Entity::find()
        .filter(sku::Column::Active.eq(true))
        .filter(sku::Column::ProductId.is_in(products.keys().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter(|s| !offered.contains(&s.id))
        .filter_map(|s| {
            let p = products.get(&s.product_id)?.clone();
            Some((s, p))
        })
        .collect();
    out.sort_by(|a, b| {
        a.1.name_zh
            .cmp(&b.1.name_zh)
            .then(a.0.pack_size.total_cmp(&b.0.pack_size))
            .then(a.0.id.cmp(&b.0.id))
    });
    Ok(out)
}

/// Changes the price of an offer, withdraws it or offers it again, by the offer's id: only the
/// dealer's own staff (or an admin) may, and re-offering checks the licences as a new offer does.
pub async fn update_offer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    offer_id: i64,
    price_fen: i64,
    active: bool,
) -> Result<offer::Model> {
    let o = offer::Entity::find_by_id(offer_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("offer", offer_id))?;
    actor.require(crate::accounts::may_operate(actor, o.dealer_id))?;
    set_offer(db, actor, o.dealer_id, o.sku_id, price_fen, active).await
}
