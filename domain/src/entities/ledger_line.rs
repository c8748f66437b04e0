//! The `ledger_line` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "ledger_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub kind: crate::types::LedgerKind,
    pub trace_event_id: Option<i64>,
    pub occurred_on: Date,
    pub occurred_at: DateTimeUtc,
    pub product_id: i64,
    pub product_name_zh: String,
    pub product_name_en: String,
    pub spec: String,
    pub registration_no: String,
    pub producer_name: String,
    pub lot_no: String,
    pub quantity: i64,
    pub unit_price_fen: i64,
    pub amount_fen: i64,
    pub counterparty_name: String,
    pub counterparty_licence: String,
    pub counterparty_contact: String,
    pub counterparty_id_number: String,
    pub source_document: String,
    pub corrects_line_id: Option<i64>,
    pub note: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
