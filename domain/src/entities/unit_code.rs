//! The `unit_code` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "unit_code")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code: String,
    pub lot_id: i64,
    pub kind: crate::types::UnitCodeKind,
    pub status: crate::types::UnitCodeStatus,
    pub sale_id: Option<i64>,
    pub flagged_at: Option<DateTimeUtc>,
    pub flag_reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
