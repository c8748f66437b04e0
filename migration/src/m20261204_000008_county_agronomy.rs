//! A county's agronomy: the parameters its agronomists set per crop and soil type (correction
//! coefficients, recovery rates, the target-yield factor, each with its source and date), the
//! county's settings (whether a second agronomist must approve a draft before it is published),
//! and on each recommendation who approved it and when.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("county_parameter")
                .col(big_integer("county_id"))
                .col(string("crop"))
                // "" for every soil type of the county.
                .col(string("soil_type"))
                .col(double_null("correction_n"))
                .col(double_null("correction_p2o5"))
                .col(double_null("correction_k2o"))
                .col(double_null("recovery_n"))
                .col(double_null("recovery_p2o5"))
                .col(double_null("recovery_k2o"))
                .col(double_null("target_yield_factor"))
                .col(string("source_zh"))
                .col(string("source_en"))
                .col(date("source_date"))
                .col(big_integer("set_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("county_parameter", "county_id", "region"))
                .foreign_key(&mut fk("county_parameter", "set_by", "app_user"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "county_parameter",
            &["county_id", "crop", "soil_type"],
            true,
        )
        .await?;
        m.create_table(
            table("county_setting")
                .col(big_integer("county_id"))
                .col(boolean("require_second_approval"))
                .col(big_integer("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("county_setting", "county_id", "region"))
                .to_owned(),
        )
        .await?;
        index(m, "county_setting", &["county_id"], true).await?;
        m.alter_table(
            Table::alter()
                .table("recommendation")
                .add_column(big_integer_null("approved_by"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("recommendation")
                .add_column(timestamp_with_time_zone_null("approved_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in ["approved_at", "approved_by"] {
            m.alter_table(
                Table::alter()
                    .table("recommendation")
                    .drop_column(c)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table("county_setting").to_owned())
            .await?;
        m.drop_table(Table::drop().table("county_parameter").to_owned())
            .await
    }
}
