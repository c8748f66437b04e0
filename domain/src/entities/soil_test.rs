//! The `soil_test` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "soil_test")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub field_id: i64,
    pub sampled_on: Date,
    pub depth_from_cm: i32,
    pub depth_to_cm: i32,
    pub lab: String,
    pub lab_sample_id: String,
    pub ph: f64,
    pub buffer_ph: Option<f64>,
    pub organic_matter_g_kg: f64,
    pub alkali_n_mg_kg: f64,
    pub olsen_p_mg_kg: Option<f64>,
    pub mehlich3_p_mg_kg: Option<f64>,
    pub available_k_mg_kg: f64,
    pub cec_cmol_kg: Option<f64>,
    pub ca_mg_kg: Option<f64>,
    pub mg_mg_kg: Option<f64>,
    pub s_mg_kg: Option<f64>,
    pub zn_mg_kg: Option<f64>,
    pub b_mg_kg: Option<f64>,
    pub entered_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
