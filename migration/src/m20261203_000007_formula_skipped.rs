//! A regional formula records the fields of the county it left out (no soil test, refused by the
//! advisor, ...), so an agronomist sees who the formula does not speak for. NULL on formulas
//! computed before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("regional_formula")
                .add_column(json_null("skipped"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("regional_formula")
                .drop_column("skipped")
                .to_owned(),
        )
        .await
    }
}
