//! Each repayment a dealer records on a farmer's credit account (赊账还款), so the credit book
//! shows its history, not only the balance it left.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("credit_repayment")
                .col(big_integer("dealer_id"))
                .col(big_integer("farmer_id"))
                .col(big_integer("amount_fen"))
                .col(big_integer("balance_after_fen"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("credit_repayment", "dealer_id", "dealer"))
                .foreign_key(&mut fk("credit_repayment", "farmer_id", "app_user"))
                .foreign_key(&mut fk("credit_repayment", "recorded_by", "app_user"))
                .to_owned(),
        )
        .await?;
        index(m, "credit_repayment", &["dealer_id", "farmer_id"], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("credit_repayment").to_owned())
            .await
    }
}
