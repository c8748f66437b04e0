//! The bureau's statistics and open data: a cart line and an order line remember the published
//! recommendation whose basket put them there (so recommendation adoption is counted from what
//! was ordered, not guessed from SKUs), and a county publishes or withholds each open dataset.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["cart_line", "order_line"] {
            m.alter_table(
                Table::alter()
                    .table(t)
                    .add_column(big_integer_null("recommendation_id"))
                    .to_owned(),
            )
            .await?;
        }
        index(m, "order_line", &["recommendation_id"], false).await?;
        // The statistics read a range of sales by date with their dealer and village, then
        // their lines; covering indexes answer both without reading the rows (on the 1M-line
        // county of `county-scale`, a year's GROUP BY went from 2.0 s to 0.9 s in SQLite), and
        // fields and recommendations are read by village and field.
        index(
            m,
            "sale",
            &["sold_at", "dealer_id", "buyer_village_id"],
            false,
        )
        .await?;
        index(
            m,
            "sale_line",
            &["sale_id", "sku_id", "quantity", "unit_price_fen"],
            false,
        )
        .await?;
        index(m, "field", &["village_id"], false).await?;
        index(m, "recommendation", &["field_id"], false).await?;
        m.create_table(
            table("open_dataset")
                .col(big_integer("county_id"))
                // One of domain::bureau::open_data::Dataset's keys ("prices", ...).
                .col(string("dataset"))
                .col(boolean("published"))
                .col(big_integer("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("open_dataset", "county_id", "region"))
                .foreign_key(&mut fk("open_dataset", "updated_by", "app_user"))
                .to_owned(),
        )
        .await?;
        index(m, "open_dataset", &["county_id", "dataset"], true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("open_dataset").to_owned())
            .await?;
        for (t, name) in [
            ("recommendation", "ix_recommendation_field_id"),
            ("field", "ix_field_village_id"),
            ("sale", "ix_sale_sold_at_dealer_id_buyer_village_id"),
            (
                "sale_line",
                "ix_sale_line_sale_id_sku_id_quantity_unit_price_fen",
            ),
            ("order_line", "ix_order_line_recommendation_id"),
        ] {
            m.drop_index(Index::drop().name(name).table(t).to_owned())
                .await?;
        }
        for t in ["order_line", "cart_line"] {
            m.alter_table(
                Table::alter()
                    .table(t)
                    .drop_column("recommendation_id")
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
