//! What a farmer's storefront reads: the offers of the dealers that serve the farmer's village,
//! each with its sellable stock and the lot that would be sold next (its trace is the proof a
//! farmer can check before buying). Only dealers that serve the village are ever shown, so a
//! farmer never sees an offer they could not have delivered or collect nearby.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::accounts::{Actor, Role};
use crate::entities::{app_user, dealer, dealer_service_area, lot, offer, region, sku, stock};
use crate::error::Result;
use crate::lots::trace;

/// An offer as a farmer of the village sees it.
#[derive(Clone, Debug)]
pub struct VillageOffer {
    pub offer: offer::Model,
    pub sku: sku::Model,
    pub dealer: dealer::Model,
    /// Sellable, unreserved units at the dealer (all its locations).
    pub available: i64,
    /// The sellable lot with free stock that expires first (the one an order would get).
    pub next_lot: Option<lot::Model>,
}

/// Stock in words, as a farmer reads it: 有货 / 仅剩 3 袋 / 缺货.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockWord {
    InStock,
    Few(i64),
    Out,
}

/// At or below this many units the page says how many are left.
pub const FEW_UNITS: i64 = 10;

pub fn stock_word(available: i64) -> StockWord {
    match available {
        n if n <= 0 => StockWord::Out,
        n if n <= FEW_UNITS => StockWord::Few(n),
        _ => StockWord::InStock,
    }
}

/// The farmer's village (and the farmer row): farmers only.
pub async fn farmer_village(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> Result<(app_user::Model, Option<region::Model>)> {
    actor.require(actor.role == Role::Farmer)?;
    let me = crate::accounts::user_by_id(db, actor.user_id).await?;
    let village = match me.village_id {
        Some(v) => region::Entity::find_by_id(v).one(db).await?,
        None => None,
    };
    Ok((me, village))
}

/// The dealers serving a village, by id.
pub async fn village_dealers(db: &impl ConnectionTrait, village_id: i64) -> Result<Vec<i64>> {
    Ok(dealer_service_area::Entity::find()
        .filter(dealer_service_area::Column::VillageId.eq(village_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.dealer_id)
        .collect())
}

/// The active offers for `product_ids` by the active dealers serving `village_id`, cheapest
/// first per product, with stock. A constant number of statements, whatever the page holds.
pub async fn village_offers(
    db: &impl ConnectionTrait,
    village_id: i64,
    product_ids: &[i64],
) -> Result<Vec<VillageOffer>> {
    if product_ids.is_empty() {
        return Ok(vec![]);
    }
    let dealer_ids = village_dealers(db, village_id).await?;
    if dealer_ids.is_empty() {
        return Ok(vec![]);
    }
    let dealers: BTreeMap<i64, dealer::Model> = dealer::Entity::find()
        .filter(dealer::Column::Id.is_in(dealer_ids))
        .filter(dealer::Column::Status.eq(crate::types::DealerStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let skus: BTreeMap<i64, sku::Model> = sku::Entity::find()
        .filter(sku::Column::ProductId.is_in(product_ids.iter().copied()))
        .filter(sku::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    if skus.is_empty() || dealers.is_empty() {
        return Ok(vec![]);
    }
    let offers = offer::Entity::find()
        .filter(offer::Column::SkuId.is_in(skus.keys().copied()))
        .filter(offer::Column::DealerId.is_in(dealers.keys().copied()))
        .filter(offer::Column::Active.eq(true))
        .order_by_asc(offer::Column::PriceFen)
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?;
    let today = crate::today();
    let lots: BTreeMap<i64, lot::Model> = lot::Entity::find()
        .filter(lot::Column::SkuId.is_in(skus.keys().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter(|l| trace::sellable(l, today))
        .map(|l| (l.id, l))
        .collect();
    let offered_dealers: BTreeSet<i64> = offers.iter().map(|o| o.dealer_id).collect();
    // Free units per (dealer, sku), and per (dealer, lot) to find the next lot.
    let mut free: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let mut free_lots: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    if !lots.is_empty() {
        for s in stock::Entity::find()
            .filter(stock::Column::DealerId.is_in(offered_dealers))
            .filter(stock::Column::LotId.is_in(lots.keys().copied()))
            .all(db)
            .await?
        {
            let n = s.on_hand - s.reserved;
            if n <= 0 {
                continue;
            }
            let sku_id = lots[&s.lot_id].sku_id;
            *free.entry((s.dealer_id, sku_id)).or_default() += n;
            *free_lots.entry((s.dealer_id, s.lot_id)).or_default() += n;
        }
    }
    let mut out = Vec::with_capacity(offers.len());
    for o in offers {
        let (Some(s), Some(d)) = (skus.get(&o.sku_id), dealers.get(&o.dealer_id)) else {
            continue;
        };
        let next_lot = free_lots
            .keys()
            .filter(|(dl, _)| *dl == d.id)
            .filter_map(|(_, l)| lots.get(l))
            .filter(|l| l.sku_id == s.id)
            .min_by_key(|l| (l.expires_on, l.id))
            .cloned();
        out.push(VillageOffer {
            available: free.get(&(d.id, s.id)).copied().unwrap_or(0),
            next_lot,
            sku: s.clone(),
            dealer: d.clone(),
            offer: o,
        });
    }
    Ok(out)
}

/// Price per kg (or per litre) of a pack, in fen, rounded to the nearest fen; `None` for packs
/// not sold by weight or volume.
pub fn fen_per_kg(price_fen: i64, s: &sku::Model) -> Option<i64> {
    let per_unit = match s.pack_unit.as_str() {
        "kg" | "L" => 1000.0,
        "g" | "mL" | "ml" => 1.0,
        "t" => 1_000_000.0,
        _ => return None,
    };
    // The pack size in grams (or mL) as an integer, so the money arithmetic stays in integers.
    let grams = (s.pack_size * per_unit).round() as i64;
    if grams <= 0 {
        return None;
    }
    Some((price_fen * 1000 + grams / 2) / grams)
}
