//! The `open_dataset` table: whether a county publishes one of its open datasets (no row: not
//! published).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "open_dataset")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub county_id: i64,
    pub dataset: String,
    pub published: bool,
    pub updated_by: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
