//! A dealer's priced offer of a pack: set or updated, only for themselves and only what their
//! licences allow them to sell (RULES.md rule 3).

use super::*;

/// Sets a dealer's price for a SKU (creating or updating the offer). Dealers price only for
/// themselves, and only what their licences allow them to sell (RULES.md rule 3).
pub async fn set_offer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    sku_id: i64,
    price_fen: i64,
    active: bool,
) -> Result<offer::Model> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    regions::dealer(db, dealer_id).await?;
    let s = sku(db, sku_id).await?;
    let p = product(db, s.product_id).await?;
    let price = Fen::parse_positive("priceFen", price_fen).map_err(|e| Error::Invalid(vec![e]))?;
    if active {
        check_licences(db, dealer_id, &p).await?;
    }
    upsert_offer(db, dealer_id, sku_id, price, active).await
}

async fn check_licences(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    p: &product::Model,
) -> Result<()> {
    let today = crate::now().date_naive();
    let needs: &[(LicenceKind, &str, &str)] = match (p.category.as_str(), p.restricted_use) {
        ("PESTICIDE", true) => &[
            (
                LicenceKind::PesticideBusiness,
                "经营农药须持有有效的农药经营许可证",
                "selling pesticides needs a valid pesticide business licence",
            ),
            (
                LicenceKind::RestrictedPesticide,
                "经营限制使用农药须持有有效的限制使用农药经营许可",
                "selling restricted-use pesticides needs a valid restricted-use licence",
            ),
        ],
        ("PESTICIDE", false) => &[(
            LicenceKind::PesticideBusiness,
            "经营农药须持有有效的农药经营许可证",
            "selling pesticides needs a valid pesticide business licence",
        )],
        ("SEED", _) => &[(
            LicenceKind::SeedBusiness,
            "经营种子须持有有效的种子经营许可证",
            "selling seed needs a valid seed business licence",
        )],
        _ => &[],
    };
    for (kind, zh, en) in needs {
        if !regions::holds_licence(db, dealer_id, *kind, today).await? {
            return Err(Error::invalid("skuId", Code::LicenceRequired, *zh, *en));
        }
    }
    Ok(())
}

/// Writes an offer without the actor check (used by the demo loader after its own checks).
pub async fn upsert_offer(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    sku_id: i64,
    price: Fen,
    active: bool,
) -> Result<offer::Model> {
    let now = crate::now();
    let existing = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(dealer_id))
        .filter(offer::Column::SkuId.eq(sku_id))
        .one(db)
        .await?;
    Ok(match existing {
        Some(o) => {
            let mut am: offer::ActiveModel = o.into();
            am.price_fen = Set(price.0);
            am.active = Set(active);
            am.updated_at = Set(now);
            am.update(db).await?
        }
        None => {
            offer::ActiveModel {
                dealer_id: Set(dealer_id),
                sku_id: Set(sku_id),
                price_fen: Set(price.0),
                active: Set(active),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    })
}
