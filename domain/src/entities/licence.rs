//! The `licence` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "licence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dealer_id: i64,
    pub kind: crate::types::LicenceKind,
    pub number: String,
    pub issuer: String,
    pub valid_from: Date,
    pub valid_to: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
