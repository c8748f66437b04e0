//! The county bureau (县农业农村局、市场监管): what a county's regulators (and admins) see of the
//! county's market. Every read here is scoped to one county through [`county_scope`]: a
//! regulator works for one county and is refused any other; an admin may look at any.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::accounts::{Actor, Role};
use crate::entities::region;
use crate::error::{Error, Result};
use crate::types::Level;

pub mod complaints;
pub mod lots;
pub mod open_data;
pub mod records;
pub mod signals;
pub mod stats;

/// The county a bureau page or query works on. A regulator gets their own county (asking for
/// another is refused); an admin gets the county asked for, or the first county when none is
/// named. Every other role is refused.
pub async fn county_scope(
    db: &impl ConnectionTrait,
    actor: &Actor,
    requested: Option<i64>,
) -> Result<region::Model> {
    match actor.role {
        Role::Regulator => {
            let Some(own) = actor.county_ids.first().copied() else {
                return Err(crate::accounts::forbidden());
            };
            if requested.is_some_and(|r| r != own) {
                return Err(Error::forbidden(
                    "只能查看本县的数据",
                    "a regulator sees only their own county",
                ));
            }
            crate::regions::region(db, own).await
        }
        Role::Admin => {
            let q = region::Entity::find().filter(region::Column::Level.eq(Level::County));
            let found = match requested {
                Some(id) => q.filter(region::Column::Id.eq(id)).one(db).await?,
                None => q.order_by_asc(region::Column::Id).one(db).await?,
            };
            found.ok_or_else(|| Error::not_found("county", requested.unwrap_or_default()))
        }
        _ => Err(crate::accounts::forbidden()),
    }
}

/// The counties an admin may switch between on the bureau's pages (a regulator: their own).
pub async fn counties_for(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<region::Model>> {
    match actor.role {
        Role::Admin => Ok(region::Entity::find()
            .filter(region::Column::Level.eq(Level::County))
            .order_by_asc(region::Column::Id)
            .all(db)
            .await?),
        Role::Regulator => crate::regions::regions_by_ids(db, &actor.county_ids).await,
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
