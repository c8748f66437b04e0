//! The `code_scan` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "code_scan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_code_id: i64,
    pub lot_id: i64,
    pub code: String,
    pub source: crate::types::ScanSource,
    pub scanned_at: DateTimeUtc,
    pub user_id: Option<i64>,
    pub dealer_id: Option<i64>,
    pub region_id: Option<i64>,
    pub county_id: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
