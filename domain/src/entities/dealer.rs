//! The `dealer` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "dealer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub address: String,
    pub region_id: i64,
    pub phone: String,
    pub status: crate::types::DealerStatus,
    pub created_at: DateTimeUtc,
    /// Where the shop is (WGS-84 degrees), when known: the far-scan signal measures from here.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
