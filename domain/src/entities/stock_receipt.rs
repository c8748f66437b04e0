//! The `stock_receipt` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "stock_receipt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub location_id: i64,
    pub lot_id: i64,
    pub quantity: i64,
    pub unit_cost_fen: i64,
    pub supplier_name: String,
    pub supplier_licence_no: String,
    pub supplier_contact: String,
    pub source_document: String,
    pub actor_id: i64,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
