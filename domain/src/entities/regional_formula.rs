//! The `regional_formula` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "regional_formula")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub county_id: i64,
    pub crop: String,
    pub name: String,
    pub n_pct: f64,
    pub p2o5_pct: f64,
    pub k2o_pct: f64,
    pub fields_covered: i32,
    pub mean_distance: f64,
    pub details: Json,
    /// The fields growing the crop this computation left out, and why
    /// (`[agronomy::SkippedField]`); NULL on formulas computed before it was recorded.
    pub skipped: Option<Json>,
    pub status: crate::types::FormulaStatus,
    pub created_by: i64,
    pub published_by: Option<i64>,
    pub published_at: Option<DateTimeUtc>,
    pub product_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
