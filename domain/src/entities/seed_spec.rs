//! The `seed_spec` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "seed_spec")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: i64,
    pub crop: String,
    pub variety_zh: String,
    pub variety_en: String,
    pub approval_no: String,
    pub germination_pct: f64,
    pub purity_pct: f64,
    pub moisture_pct: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
