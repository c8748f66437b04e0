//! The `fertiliser_spec` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "fertiliser_spec")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: i64,
    pub fertiliser_type: String,
    pub n_pct: f64,
    pub p2o5_pct: f64,
    pub k2o_pct: f64,
    pub secondary: Json,
    pub organic_matter_pct: f64,
    pub form: String,
    pub chloride: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
