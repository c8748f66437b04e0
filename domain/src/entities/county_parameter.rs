//! The `county_parameter` table: what a county's agronomists set for a crop (and a soil type,
//! or `""` for all), each set with its source and date.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "county_parameter")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub county_id: i64,
    pub crop: String,
    pub soil_type: String,
    pub correction_n: Option<f64>,
    pub correction_p2o5: Option<f64>,
    pub correction_k2o: Option<f64>,
    pub recovery_n: Option<f64>,
    pub recovery_p2o5: Option<f64>,
    pub recovery_k2o: Option<f64>,
    pub target_yield_factor: Option<f64>,
    pub source_zh: String,
    pub source_en: String,
    pub source_date: Date,
    pub set_by: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
