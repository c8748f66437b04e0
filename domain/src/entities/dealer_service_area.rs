//! The `dealer_service_area` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "dealer_service_area")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dealer_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub village_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
