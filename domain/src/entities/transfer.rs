//! The `transfer` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "transfer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub lot_id: i64,
    pub from_location_id: i64,
    pub to_location_id: i64,
    pub quantity: i64,
    pub status: crate::types::TransferStatus,
    pub shipped_by: i64,
    pub shipped_at: DateTimeUtc,
    pub received_by: Option<i64>,
    pub received_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
