//! The `crop_plan` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "crop_plan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub field_id: i64,
    pub crop: String,
    pub season: String,
    pub target_yield_kg_per_mu: Option<f64>,
    pub past_yields_kg_per_mu: Option<Json>,
    pub no_fertiliser_yield_kg_per_mu: Option<f64>,
    pub previous_crop: String,
    pub straw_returned: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
