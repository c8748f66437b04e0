//! The `lot` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "lot")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sku_id: i64,
    pub lot_no: String,
    pub producer_id: i64,
    pub produced_on: Date,
    pub expires_on: Date,
    pub gtin: Option<String>,
    pub trace_code: String,
    pub inspection_report_no: Option<String>,
    pub inspection_lab: Option<String>,
    pub inspection_result: Option<crate::types::InspectionResult>,
    pub inspection_date: Option<Date>,
    pub status: crate::types::LotStatus,
    pub status_reason: Option<String>,
    pub status_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
