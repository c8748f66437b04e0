//! The `trace_event` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "trace_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub lot_id: i64,
    pub seq: i64,
    pub biz_step: crate::types::BizStep,
    pub disposition: crate::types::Disposition,
    pub quantity: i64,
    pub location_id: Option<i64>,
    pub from_location_id: Option<i64>,
    pub to_location_id: Option<i64>,
    pub dealer_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub ref_kind: Option<crate::types::RefKind>,
    pub ref_id: Option<i64>,
    pub corrects_event_id: Option<i64>,
    pub unit_codes: Option<Json>,
    pub note: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
