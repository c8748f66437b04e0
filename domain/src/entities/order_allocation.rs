//! The `order_allocation` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "order_allocation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_line_id: i64,
    pub stock_id: i64,
    pub location_id: i64,
    pub lot_id: i64,
    pub quantity: i64,
    pub status: crate::types::AllocationStatus,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
