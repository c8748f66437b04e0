//! The `cart_line` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "cart_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub farmer_id: i64,
    pub offer_id: i64,
    pub quantity: i64,
    pub price_fen_when_added: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The published recommendation whose basket put this line in the cart.
    pub recommendation_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
