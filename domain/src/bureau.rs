//! The county bureau: what its regulators (and admins) watch over one county. Every query here
//! starts from [`county_scope`], which decides which county the caller may see.

pub mod complaints;
pub mod records;
pub mod signals;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::accounts::Actor;
use crate::entities::region;
use crate::error::{Error, Result};
use crate::types::{Level, Role};

/// The county a bureau query is about: a regulator's own county (another is refused), an
/// admin's requested county or else the first one; anyone else is refused.
pub async fn county_scope(
    db: &impl ConnectionTrait,
    actor: &Actor,
    requested_county: Option<i64>,
) -> Result<region::Model> {
    match actor.role {
        Role::Regulator => {
            let own = *actor
                .county_ids
                .first()
                .ok_or_else(crate::accounts::forbidden)?;
            if requested_county.is_some_and(|c| c != own) {
                return Err(crate::accounts::forbidden());
            }
            crate::regions::region(db, own).await
        }
        Role::Admin => {
            let q = region::Entity::find().filter(region::Column::Level.eq(Level::County.as_str()));
            let q = match requested_county {
                Some(c) => q.filter(region::Column::Id.eq(c)),
                None => q.order_by_asc(region::Column::Id),
            };
            q.one(db)
                .await?
                .ok_or_else(|| Error::not_found("county", requested_county.unwrap_or(0)))
        }
        _ => Err(crate::accounts::forbidden()),
    }
}

/// The ids of the dealers in a county (a dealer's region is its county or lies below it).
pub async fn county_dealer_ids(db: &impl ConnectionTrait, county_id: i64) -> Result<Vec<i64>> {
    let dealers = crate::entities::dealer::Entity::find().all(db).await?;
    let counties = crate::regions::counties_of(db, dealers.iter().map(|d| d.region_id)).await?;
    Ok(dealers
        .into_iter()
        .filter(|d| counties.get(&d.region_id).copied().flatten() == Some(county_id))
        .map(|d| d.id)
        .collect())
}
