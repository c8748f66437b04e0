//! The `recommendation` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "recommendation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub field_id: i64,
    pub crop_plan_id: i64,
    pub soil_test_id: i64,
    pub version: i32,
    pub status: crate::types::RecommendationStatus,
    pub method: crate::types::Method,
    pub parameters: Json,
    pub result: Json,
    pub basket: Json,
    pub n_kg_per_mu: f64,
    pub p2o5_kg_per_mu: f64,
    pub k2o_kg_per_mu: f64,
    pub notes_zh: String,
    pub notes_en: String,
    pub reject_reason: Option<String>,
    pub agronomist_id: Option<i64>,
    pub signed_at: Option<DateTimeUtc>,
    pub signature: Option<String>,
    pub supersedes_id: Option<i64>,
    /// The second agronomist who approved the draft (where the county requires one).
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
