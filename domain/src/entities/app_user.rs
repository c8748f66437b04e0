//! The `app_user` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "app_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub phone: String,
    pub password_hash: String,
    pub role: crate::types::Role,
    pub display_name: String,
    pub dealer_id: Option<i64>,
    pub dealer_role: Option<crate::types::DealerRole>,
    pub county_id: Option<i64>,
    pub village_id: Option<i64>,
    pub real_name: Option<String>,
    pub id_number: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    /// A station keeper's village station.
    pub station_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
