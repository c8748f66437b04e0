//! The `customer_order` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "customer_order")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub checkout_id: i64,
    pub farmer_id: i64,
    pub dealer_id: i64,
    pub status: crate::types::OrderStatus,
    pub delivery_mode: crate::types::DeliveryMode,
    pub station_id: Option<i64>,
    pub delivery_address: Option<String>,
    pub payment_method: crate::types::PaymentMethod,
    pub payment_status: crate::types::PaymentStatus,
    pub total_fen: i64,
    pub field_id: Option<i64>,
    pub crop: Option<String>,
    pub target: Option<String>,
    pub note: String,
    pub warnings: String,
    pub flagged: bool,
    pub flag_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub sale_id: Option<i64>,
    pub placed_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Who placed it, when not the farmer (a station keeper ordering for them).
    pub placed_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
