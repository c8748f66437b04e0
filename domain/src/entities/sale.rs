//! The `sale` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "sale")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub location_id: i64,
    pub channel: crate::types::SaleChannel,
    pub order_id: Option<i64>,
    pub buyer_user_id: Option<i64>,
    pub buyer_name: Option<String>,
    pub buyer_phone: Option<String>,
    pub buyer_id_number: Option<String>,
    pub buyer_village_id: Option<i64>,
    pub crop: Option<String>,
    pub target: Option<String>,
    pub total_fen: i64,
    pub actor_id: i64,
    pub sold_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
