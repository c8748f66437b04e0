//! The `credit_repayment` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "credit_repayment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub farmer_id: i64,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub recorded_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
