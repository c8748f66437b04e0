//! Lots, unit trace codes, stock per location, receipts, sales, transfers, the hash-chained
//! trace log, the purchase and sales ledgers, and notifications.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A producer's site is a location too, so a lot's first event has a "where".
        m.alter_table(
            Table::alter()
                .table("location")
                .add_column(big_integer_null("producer_id"))
                .to_owned(),
        )
        .await?;

        // Active-ingredient names as plain text for catalog search (the JSON column's keys must
        // not match a search).
        m.alter_table(
            Table::alter()
                .table("pesticide_spec")
                .add_column(text("actives_text").default(""))
                .to_owned(),
        )
        .await?;

        m.create_table(
            table("lot")
                .col(big_integer("sku_id"))
                .col(string("lot_no"))
                .col(big_integer("producer_id"))
                .col(date("produced_on"))
                .col(date("expires_on"))
                .col(string_null("gtin"))
                .col(string("trace_code"))
                .col(string_null("inspection_report_no"))
                .col(string_null("inspection_lab"))
                .col(string_null("inspection_result"))
                .col(date_null("inspection_date"))
                .col(string("status"))
                .col(text_null("status_reason"))
                .col(timestamp_with_time_zone_null("status_at"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("lot", "sku_id", "sku"))
                .foreign_key(&mut fk("lot", "producer_id", "producer"))
                .to_owned(),
        )
        .await?;
        index(m, "lot", &["sku_id", "lot_no"], true).await?;
        index(m, "lot", &["trace_code"], true).await?;
        index(m, "lot", &["gtin", "lot_no"], false).await?;

        m.create_table(
            table("unit_code")
                .col(string("code"))
                .col(big_integer("lot_id"))
                .col(string("kind"))
                .col(string("status"))
                .col(big_integer_null("sale_id"))
                .col(timestamp_with_time_zone_null("flagged_at"))
                .col(text_null("flag_reason"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("unit_code", "lot_id", "lot"))
                .to_owned(),
        )
        .await?;
        index(m, "unit_code", &["code"], true).await?;
        index(m, "unit_code", &["lot_id"], false).await?;

        // on_hand >= reserved >= 0 holds in the database itself, whatever the code does.
        m.create_table(
            table("stock")
                .col(big_integer("location_id"))
                .col(big_integer("lot_id"))
                .col(big_integer("dealer_id"))
                .col(big_integer("on_hand"))
                .col(big_integer("reserved"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("stock", "location_id", "location"))
                .foreign_key(&mut fk("stock", "lot_id", "lot"))
                .foreign_key(&mut fk("stock", "dealer_id", "dealer"))
                .check(Expr::col("reserved").gte(0))
                .check(Expr::col("on_hand").gte(Expr::col("reserved")))
                .to_owned(),
        )
        .await?;
        index(m, "stock", &["location_id", "lot_id", "dealer_id"], true).await?;
        index(m, "stock", &["dealer_id"], false).await?;
        index(m, "stock", &["lot_id"], false).await?;

        m.create_table(
            table("stock_receipt")
                .col(big_integer("dealer_id"))
                .col(big_integer("location_id"))
                .col(big_integer("lot_id"))
                .col(big_integer("quantity"))
                .col(big_integer("unit_cost_fen"))
                .col(string("supplier_name"))
                .col(string("supplier_licence_no"))
                .col(string("supplier_contact"))
                .col(string("source_document"))
                .col(big_integer("actor_id"))
                .col(timestamp_with_time_zone("received_at"))
                .foreign_key(&mut fk("stock_receipt", "dealer_id", "dealer"))
                .foreign_key(&mut fk("stock_receipt", "lot_id", "lot"))
                .check(Expr::col("quantity").gt(0))
                .check(Expr::col("unit_cost_fen").gte(0))
                .to_owned(),
        )
        .await?;
        index(m, "stock_receipt", &["dealer_id"], false).await?;

        m.create_table(
            table("transfer")
                .col(big_integer("dealer_id"))
                .col(big_integer("lot_id"))
                .col(big_integer("from_location_id"))
                .col(big_integer("to_location_id"))
                .col(big_integer("quantity"))
                .col(string("status"))
                .col(big_integer("shipped_by"))
                .col(timestamp_with_time_zone("shipped_at"))
                .col(big_integer_null("received_by"))
                .col(timestamp_with_time_zone_null("received_at"))
                .foreign_key(&mut fk("transfer", "lot_id", "lot"))
                .foreign_key(&mut fk("transfer", "from_location_id", "location"))
                .foreign_key(&mut fk("transfer", "to_location_id", "location"))
                .check(Expr::col("quantity").gt(0))
                .to_owned(),
        )
        .await?;
        index(m, "transfer", &["dealer_id"], false).await?;

        m.create_table(
            table("sale")
                .col(big_integer("dealer_id"))
                .col(big_integer("location_id"))
                .col(string("channel"))
                .col(big_integer_null("order_id"))
                .col(big_integer_null("buyer_user_id"))
                .col(string_null("buyer_name"))
                .col(string_null("buyer_phone"))
                .col(string_null("buyer_id_number"))
                .col(big_integer_null("buyer_village_id"))
                .col(string_null("crop"))
                .col(string_null("target"))
                .col(big_integer("total_fen"))
                .col(big_integer("actor_id"))
                .col(timestamp_with_time_zone("sold_at"))
                .foreign_key(&mut fk("sale", "dealer_id", "dealer"))
                .to_owned(),
        )
        .await?;
        index(m, "sale", &["dealer_id"], false).await?;
        index(m, "sale", &["buyer_user_id"], false).await?;

        m.create_table(
            table("sale_line")
                .col(big_integer("sale_id"))
                .col(big_integer("sku_id"))
                .col(big_integer("lot_id"))
                .col(big_integer("quantity"))
                .col(big_integer("unit_price_fen"))
                .foreign_key(&mut fk("sale_line", "sale_id", "sale"))
                .foreign_key(&mut fk("sale_line", "lot_id", "lot"))
                .check(Expr::col("quantity").gt(0))
                .to_owned(),
        )
        .await?;
        index(m, "sale_line", &["sale_id"], false).await?;
        index(m, "sale_line", &["lot_id"], false).await?;

        // Append-only, shaped like GS1 EPCIS: what (lot, codes, quantity), when, where, why
        // (business step, disposition), who. Each event stores its predecessor's hash.
        m.create_table(
            table("trace_event")
                .col(big_integer("lot_id"))
                .col(big_integer("seq"))
                .col(string("biz_step"))
                .col(string("disposition"))
                .col(big_integer("quantity"))
                .col(big_integer_null("location_id"))
                .col(big_integer_null("from_location_id"))
                .col(big_integer_null("to_location_id"))
                .col(big_integer_null("dealer_id"))
                .col(big_integer_null("actor_id"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(timestamp_with_time_zone("recorded_at"))
                .col(string_null("ref_kind"))
                .col(big_integer_null("ref_id"))
                .col(big_integer_null("corrects_event_id"))
                .col(json_null("unit_codes"))
                .col(text("note").default(""))
                .col(string("prev_hash"))
                .col(string("hash"))
                .foreign_key(&mut fk("trace_event", "lot_id", "lot"))
                .to_owned(),
        )
        .await?;
        index(m, "trace_event", &["lot_id", "seq"], true).await?;
        index(m, "trace_event", &["ref_kind", "ref_id"], false).await?;

        m.create_table(
            table("ledger_line")
                .col(big_integer("dealer_id"))
                .col(string("kind"))
                .col(big_integer_null("trace_event_id"))
                .col(date("occurred_on"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(big_integer("product_id"))
                .col(string("product_name_zh"))
                .col(string("product_name_en"))
                .col(string("spec"))
                .col(string("registration_no"))
                .col(string("producer_name"))
                .col(string("lot_no"))
                .col(big_integer("quantity"))
                .col(big_integer("unit_price_fen"))
                .col(big_integer("amount_fen"))
                .col(string("counterparty_name"))
                .col(string("counterparty_licence"))
                .col(string("counterparty_contact"))
                .col(string("counterparty_id_number"))
                .col(string("source_document"))
                .col(big_integer_null("corrects_line_id"))
                .col(text("note").default(""))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("ledger_line", "dealer_id", "dealer"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ledger_line",
            &["dealer_id", "kind", "occurred_on"],
            false,
        )
        .await?;

        m.create_table(
            table("notification")
                .col(big_integer("user_id"))
                .col(string("kind"))
                .col(string("title_zh"))
                .col(string("title_en"))
                .col(text("body_zh"))
                .col(text("body_en"))
                .col(json("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .foreign_key(&mut fk("notification", "user_id", "app_user"))
                .to_owned(),
        )
        .await?;
        index(m, "notification", &["user_id", "created_at"], false).await?;
        Ok(())
    }
}
