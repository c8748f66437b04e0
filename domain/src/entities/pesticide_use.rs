//! The `pesticide_use` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "pesticide_use")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_id: i64,
    pub crop: String,
    pub target_zh: String,
    pub target_en: String,
    pub dose_min: f64,
    pub dose_max: f64,
    pub dose_unit: String,
    pub phi_days: i32,
    pub max_applications: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
