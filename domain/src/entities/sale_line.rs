//! The `sale_line` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "sale_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sale_id: i64,
    pub sku_id: i64,
    pub lot_id: i64,
    pub quantity: i64,
    pub unit_price_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
