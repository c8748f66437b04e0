//! Village service stations: creating one in a village, reading them.

use super::*;

pub struct NewStation {
    pub village_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub operator_name: String,
    pub phone: String,
    pub hours: String,
}

pub async fn create_station<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    new: NewStation,
) -> Result<service_station::Model> {
    actor.require(actor.is_admin())?;
    let txn = crate::begin_write(db).await?;
    let s = insert_station(&txn, new).await?;
    txn.commit().await?;
    Ok(s)
}

pub async fn insert_station(
    db: &impl ConnectionTrait,
    new: NewStation,
) -> Result<service_station::Model> {
    let mut errs = Errors::new();
    let name_zh = errs.take(types::name("nameZh", &new.name_zh, 60));
    let name_en = errs.take(types::name("nameEn", &new.name_en, 100));
    let op = errs.take(types::name("operatorName", &new.operator_name, 30));
    let phone = errs.take(Phone::parse("phone", &new.phone));
    let hours = errs.take(types::name("hours", &new.hours, 60));
    expect_level(db, &mut errs, "villageId", new.village_id, Level::Village).await?;
    errs.finish()?;
    let s = service_station::ActiveModel {
        village_id: Set(new.village_id),
        name_zh: Set(name_zh.unwrap()),
        name_en: Set(name_en.unwrap()),
        operator_name: Set(op.unwrap()),
        phone: Set(phone.unwrap().as_str().into()),
        hours: Set(hours.unwrap()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    location::ActiveModel {
        kind: Set(LocationKind::Station),
        dealer_id: Set(None),
        station_id: Set(Some(s.id)),
        name_zh: Set(s.name_zh.clone()),
        name_en: Set(s.name_en.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(s)
}

pub async fn station(db: &impl ConnectionTrait, id: i64) -> Result<Option<service_station::Model>> {
    Ok(service_station::Entity::find_by_id(id).one(db).await?)
}

pub async fn stations(
    db: &impl ConnectionTrait,
    village_ids: Option<&[i64]>,
) -> Result<Vec<service_station::Model>> {
    let mut q = service_station::Entity::find().order_by_asc(service_station::Column::Id);
    if let Some(v) = village_ids {
        q = q.filter(service_station::Column::VillageId.is_in(v.iter().copied()));
    }
    Ok(q.all(db).await?)
}

pub async fn stations_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<service_station::Model>> {
    Ok(service_station::Entity::find()
        .filter(service_station::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
