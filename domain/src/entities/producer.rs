//! The `producer` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "producer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub address: String,
    pub licence_no: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
