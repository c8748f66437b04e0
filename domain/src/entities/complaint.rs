//! The `complaint` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "complaint")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub farmer_id: i64,
    pub county_id: i64,
    pub dealer_id: Option<i64>,
    pub order_id: Option<i64>,
    pub lot_id: Option<i64>,
    pub code: Option<String>,
    pub body: String,
    pub status: crate::types::ComplaintStatus,
    pub outcome: Option<String>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
