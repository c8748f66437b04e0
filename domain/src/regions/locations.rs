//! Stock locations: a dealer's store, a village station, a producer's site.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entities::{location, producer, service_station};
use crate::error::{Code, Error, Result};
use crate::types::LocationKind;

/// The dealer's own store.
pub async fn store_location(db: &impl ConnectionTrait, dealer_id: i64) -> Result<location::Model> {
    location::Entity::find()
        .filter(location::Column::DealerId.eq(dealer_id))
        .filter(location::Column::Kind.eq(LocationKind::DealerStore))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("location", format!("store of dealer {dealer_id}")))
}

/// The location of a village station.
pub async fn station_location(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<location::Model> {
    location::Entity::find()
        .filter(location::Column::StationId.eq(station_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("station", station_id))
}

/// A producer's site, created the first time one of its lots is recorded.
pub async fn producer_location(
    db: &impl ConnectionTrait,
    p: &producer::Model,
) -> Result<location::Model> {
    if let Some(l) = location::Entity::find()
        .filter(location::Column::ProducerId.eq(p.id))
        .one(db)
        .await?
    {
        return Ok(l);
    }
    Ok(location::ActiveModel {
        kind: Set(LocationKind::Producer),
        dealer_id: Set(None),
        station_id: Set(None),
        producer_id: Set(Some(p.id)),
        name_zh: Set(p.name_zh.clone()),
        name_en: Set(p.name_en.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Checks that a dealer may keep stock at `location_id`: its own store, or a station in a
/// village it serves.
pub async fn check_dealer_location(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_id: i64,
    field: &str,
) -> Result<location::Model> {
    let loc = location::Entity::find_by_id(location_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                field,
                Code::UnknownReference,
                "库存地点不存在",
                "no such stock location",
            )
        })?;
    let ok = match loc.kind {
        LocationKind::DealerStore => loc.dealer_id == Some(dealer_id),
        LocationKind::Station => match loc.station_id {
            Some(s) => {
                let st = service_station::Entity::find_by_id(s).one(db).await?;
                let area = super::service_areas_of(db, &[dealer_id]).await?;
                st.is_some_and(|st| area.iter().any(|a| a.village_id == st.village_id))
            }
            None => false,
        },
        LocationKind::Producer => false,
    };
    if !ok {
        return Err(Error::invalid(
            field,
            Code::OutOfRange,
            "该地点不是本经销商的门店或其服务村的服务站",
            "not this dealer's store or a station in a village it serves",
        ));
    }
    Ok(loc)
}
