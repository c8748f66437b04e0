//! The `order_line` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "order_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub offer_id: i64,
    pub sku_id: i64,
    pub quantity: i64,
    pub unit_price_fen: i64,
    pub product_name_zh: String,
    pub product_name_en: String,
    pub pack: String,
    /// The published recommendation whose basket put this line in the cart.
    pub recommendation_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
