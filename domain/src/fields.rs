//! Farmers' fields (地块): where inputs go, with the area that label doses are checked against.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::accounts::{Actor, Role};
use crate::entities::{field, region};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::types;

/// 1 ha = 15 mu (METHODS.md, unit facts).
pub const MU_PER_HA: f64 = 15.0;

pub struct NewField {
    pub name: String,
    pub area_mu: f64,
    pub village_id: i64,
    pub soil_type: String,
    pub irrigation: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewField,
) -> Result<field::Model> {
    actor.require(actor.role == Role::Farmer)?;
    let mut errs = Errors::new();
    let name = errs.take(types::name("name", &new.name, 40));
    if !(new.area_mu.is_finite() && new.area_mu > 0.0 && new.area_mu <= 100_000.0) {
        errs.push(FieldError::new(
            "areaMu",
            Code::OutOfRange,
            "面积应大于 0 亩",
            "area must be greater than 0 mu",
        ));
    }
    if new.soil_type.chars().count() > 40 || new.irrigation.chars().count() > 40 {
        errs.push(FieldError::new(
            "soilType",
            Code::TooLong,
            "不能超过 40 个字符",
            "must be at most 40 characters",
        ));
    }
    match (new.lat, new.lon) {
        (Some(la), Some(lo))
            if !((-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo)) =>
        {
            errs.push(FieldError::new(
                "lat",
                Code::OutOfRange,
                "经纬度超出范围",
                "latitude or longitude out of range",
            ));
        }
        (Some(_), None) | (None, Some(_)) => {
            errs.push(FieldError::new(
                "lon",
                Code::Required,
                "经度和纬度需同时填写",
                "give both latitude and longitude",
            ));
        }
        _ => {}
    }
    if region::Entity::find_by_id(new.village_id)
        .one(db)
        .await?
        .is_none_or(|r| r.level != crate::types::Level::Village)
    {
        errs.push(FieldError::new(
            "villageId",
            Code::WrongRegionLevel,
            "不是村级行政区",
            "not a village",
        ));
    }
    errs.finish()?;
    let name = name.unwrap();
    if field::Entity::find()
        .filter(field::Column::FarmerId.eq(actor.user_id))
        .filter(field::Column::Name.eq(name.clone()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid(
            "name",
            Code::Duplicate,
            "已有同名地块",
            "you already have a field with this name",
        ));
    }
    Ok(field::ActiveModel {
        farmer_id: Set(actor.user_id),
        name: Set(name),
        area_mu: Set(new.area_mu),
        village_id: Set(new.village_id),
        soil_type: Set(new.soil_type.trim().into()),
        irrigation: Set(new.irrigation.trim().into()),
        lat: Set(new.lat),
        lon: Set(new.lon),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// A field the actor may see: the farmer's own, or (agronomists) one in their counties.
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<field::Model> {
    let f = field::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("field", id))?;
    let ok = match actor.role {
        Role::Farmer => f.farmer_id == actor.user_id,
        Role::Admin => true,
        Role::Agronomist => crate::regions::county_of(db, f.village_id)
            .await?
            .is_some_and(|c| actor.county_ids.contains(&c)),
        _ => false,
    };
    // Someone else's field is "not found", not "forbidden": its existence is private too.
    if !ok {
        return Err(Error::not_found("field", id));
    }
    Ok(f)
}

/// Fields by id, for loaders of lists that name a field (orders, recommendations).
pub async fn fields_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<field::Model>> {
    Ok(field::Entity::find()
        .filter(field::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn of_farmer(db: &impl ConnectionTrait, farmer_id: i64) -> Result<Vec<field::Model>> {
    Ok(field::Entity::find()
        .filter(field::Column::FarmerId.eq(farmer_id))
        .order_by_asc(field::Column::Id)
        .all(db)
        .await?)
}
