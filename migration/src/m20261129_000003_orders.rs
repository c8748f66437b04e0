//! Ordering: carts, checkouts (one idempotency key per farmer), orders per dealer, their lines,
//! stock allocations and events, dealer credit accounts and payments; and farmers' fields,
//! which orders of restricted-use pesticides are checked against.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("field")
                .col(big_integer("farmer_id"))
                .col(string("name"))
                .col(double("area_mu"))
                .col(big_integer("village_id"))
                .col(string("soil_type").default(""))
                .col(string("irrigation").default(""))
                .col(double_null("lat"))
                .col(double_null("lon"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("field", "farmer_id", "app_user"))
                .foreign_key(&mut fk("field", "village_id", "region"))
                .check(Expr::col("area_mu").gt(0))
                .to_owned(),
        )
        .await?;
        index(m, "field", &["farmer_id", "name"], true).await?;

        m.create_table(
            table("cart_line")
                .col(big_integer("farmer_id"))
                .col(big_integer("offer_id"))
                .col(big_integer("quantity"))
                .col(big_integer("price_fen_when_added"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("cart_line", "farmer_id", "app_user"))
                .foreign_key(&mut fk("cart_line", "offer_id", "offer"))
                .check(Expr::col("quantity").gt(0))
                .to_owned(),
        )
        .await?;
        index(m, "cart_line", &["farmer_id", "offer_id"], true).await?;

        // The idempotency key lives here, with a unique constraint: a retried checkout finds
        // its first result instead of placing orders twice.
        m.create_table(
            table("checkout")
                .col(big_integer("farmer_id"))
                .col(string("idempotency_key"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("checkout", "farmer_id", "app_user"))
                .to_owned(),
        )
        .await?;
        index(m, "checkout", &["farmer_id", "idempotency_key"], true).await?;

        m.create_table(
            table("customer_order")
                .col(big_integer("checkout_id"))
                .col(big_integer("farmer_id"))
                .col(big_integer("dealer_id"))
                .col(string("status"))
                .col(string("delivery_mode"))
                .col(big_integer_null("station_id"))
                .col(string_null("delivery_address"))
                .col(string("payment_method"))
                .col(string("payment_status"))
                .col(big_integer("total_fen"))
                .col(big_integer_null("field_id"))
                .col(string_null("crop"))
                .col(string_null("target"))
                .col(text("note").default(""))
                .col(text("warnings").default(""))
                .col(boolean("flagged").default(false))
                .col(text_null("flag_reason"))
                .col(text_null("cancel_reason"))
                .col(big_integer_null("sale_id"))
                .col(timestamp_with_time_zone("placed_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("customer_order", "checkout_id", "checkout"))
                .foreign_key(&mut fk("customer_order", "farmer_id", "app_user"))
                .foreign_key(&mut fk("customer_order", "dealer_id", "dealer"))
                .check(Expr::col("total_fen").gte(0))
                .to_owned(),
        )
        .await?;
        index(m, "customer_order", &["dealer_id", "status"], false).await?;
        index(m, "customer_order", &["farmer_id"], false).await?;
        index(m, "customer_order", &["status", "expires_at"], false).await?;

        m.create_table(
            table("order_line")
                .col(big_integer("order_id"))
                .col(big_integer("offer_id"))
                .col(big_integer("sku_id"))
                .col(big_integer("quantity"))
                .col(big_integer("unit_price_fen"))
                .col(string("product_name_zh"))
                .col(string("product_name_en"))
                .col(string("pack"))
                .foreign_key(&mut fk("order_line", "order_id", "customer_order"))
                .check(Expr::col("quantity").gt(0))
                .to_owned(),
        )
        .await?;
        index(m, "order_line", &["order_id"], false).await?;

        m.create_table(
            table("order_allocation")
                .col(big_integer("order_line_id"))
                .col(big_integer("stock_id"))
                .col(big_integer("location_id"))
                .col(big_integer("lot_id"))
                .col(big_integer("quantity"))
                .col(string("status"))
                .foreign_key(&mut fk("order_allocation", "order_line_id", "order_line"))
                .foreign_key(&mut fk("order_allocation", "stock_id", "stock"))
                .check(Expr::col("quantity").gt(0))
                .to_owned(),
        )
        .await?;
        index(m, "order_allocation", &["order_line_id"], false).await?;
        index(m, "order_allocation", &["lot_id", "status"], false).await?;

        m.create_table(
            table("order_event")
                .col(big_integer("order_id"))
                .col(string_null("from_status"))
                .col(string("to_status"))
                .col(big_integer_null("actor_id"))
                .col(text("reason").default(""))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("order_event", "order_id", "customer_order"))
                .to_owned(),
        )
        .await?;
        index(m, "order_event", &["order_id"], false).await?;

        // What a farmer owes a dealer; never above the limit the dealer set.
        m.create_table(
            table("credit_account")
                .col(big_integer("dealer_id"))
                .col(big_integer("farmer_id"))
                .col(big_integer("limit_fen"))
                .col(big_integer("balance_fen"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("credit_account", "dealer_id", "dealer"))
                .foreign_key(&mut fk("credit_account", "farmer_id", "app_user"))
                .check(Expr::col("limit_fen").gte(0))
                .check(Expr::col("balance_fen").gte(0))
                .to_owned(),
        )
        .await?;
        index(m, "credit_account", &["dealer_id", "farmer_id"], true).await?;

        m.create_table(
            table("payment")
                .col(big_integer("order_id"))
                .col(string("provider"))
                .col(string("status"))
                .col(big_integer("amount_fen"))
                .col(string("provider_ref"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("payment", "order_id", "customer_order"))
                .to_owned(),
        )
        .await?;
        index(m, "payment", &["provider_ref"], true).await?;
        index(m, "payment", &["order_id"], false).await?;
        Ok(())
    }
}
