//! The `field` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "field")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub farmer_id: i64,
    pub name: String,
    pub area_mu: f64,
    pub village_id: i64,
    pub soil_type: String,
    pub irrigation: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
