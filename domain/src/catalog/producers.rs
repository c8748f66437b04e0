//! Producers (manufacturers): creating one, checking one exists, listing them.

use super::*;

pub struct NewProducer {
    pub name_zh: String,
    pub name_en: String,
    pub address: String,
    pub licence_no: Option<String>,
}

pub async fn create_producer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewProducer,
) -> Result<producer::Model> {
    actor.require(may_edit_catalog(actor))?;
    insert_producer(db, new).await
}

pub async fn insert_producer(
    db: &impl ConnectionTrait,
    new: NewProducer,
) -> Result<producer::Model> {
    let mut errs = Errors::new();
    let zh = errs.take(types::name("nameZh", &new.name_zh, 80));
    let en = errs.take(types::name("nameEn", &new.name_en, 160));
    let addr = errs.take(types::name("address", &new.address, 200));
    errs.finish()?;
    Ok(producer::ActiveModel {
        name_zh: Set(zh.unwrap()),
        name_en: Set(en.unwrap()),
        address: Set(addr.unwrap()),
        licence_no: Set(new
            .licence_no
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub(crate) async fn producer_exists(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    producer::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| {
            Error::invalid(
                "producerId",
                Code::UnknownReference,
                "生产企业不存在",
                "no such producer",
            )
        })
}

pub async fn producers(db: &impl ConnectionTrait) -> Result<Vec<producer::Model>> {
    Ok(producer::Entity::find()
        .order_by_asc(producer::Column::Id)
        .all(db)
        .await?)
}
