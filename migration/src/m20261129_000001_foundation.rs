//! Foundation: regions, stations, dealers, licences, producers, accounts, the catalog.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Administrative regions: PROVINCE > COUNTY > TOWNSHIP > VILLAGE.
        m.create_table(
            table("region")
                .col(string_null("code"))
                .col(string("level"))
                .col(big_integer_null("parent_id"))
                .col(string("name_zh"))
                .col(string("name_en"))
                .foreign_key(&mut fk("region", "parent_id", "region"))
                .to_owned(),
        )
        .await?;
        index(m, "region", &["code"], true).await?;
        index(m, "region", &["parent_id"], false).await?;

        m.create_table(
            table("service_station")
                .col(big_integer("village_id"))
                .col(string("name_zh"))
                .col(string("name_en"))
                .col(string("operator_name"))
                .col(string("phone"))
                .col(string("hours"))
                .foreign_key(&mut fk("service_station", "village_id", "region"))
                .to_owned(),
        )
        .await?;
        index(m, "service_station", &["village_id"], false).await?;

        m.create_table(
            table("producer")
                .col(string("name_zh"))
                .col(string("name_en"))
                .col(string("address"))
                .col(string_null("licence_no"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            table("dealer")
                .col(string("name_zh"))
                .col(string("name_en"))
                .col(string("address"))
                .col(big_integer("region_id"))
                .col(string("phone"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("dealer", "region_id", "region"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("dealer_service_area")
                .if_not_exists()
                .col(big_integer("dealer_id"))
                .col(big_integer("village_id"))
                .primary_key(Index::create().col("dealer_id").col("village_id"))
                .foreign_key(&mut fk("dealer_service_area", "dealer_id", "dealer"))
                .foreign_key(&mut fk("dealer_service_area", "village_id", "region"))
                .to_owned(),
        )
        .await?;
        index(m, "dealer_service_area", &["village_id"], false).await?;

        m.create_table(
            table("licence")
                .col(big_integer("dealer_id"))
                .col(string("kind"))
                .col(string("number"))
                .col(string("issuer"))
                .col(date("valid_from"))
                .col(date("valid_to"))
                .foreign_key(&mut fk("licence", "dealer_id", "dealer"))
                .to_owned(),
        )
        .await?;
        index(m, "licence", &["dealer_id"], false).await?;
        index(m, "licence", &["kind", "number"], true).await?;

        // Where stock lives: a dealer's store or a village station.
        m.create_table(
            table("location")
                .col(string("kind"))
                .col(big_integer_null("dealer_id"))
                .col(big_integer_null("station_id"))
                .col(string("name_zh"))
                .col(string("name_en"))
                .foreign_key(&mut fk("location", "dealer_id", "dealer"))
                .foreign_key(&mut fk("location", "station_id", "service_station"))
                .to_owned(),
        )
        .await?;
        index(m, "location", &["dealer_id"], false).await?;

        m.create_table(
            table("app_user")
                .col(string("phone"))
                .col(string("password_hash"))
                .col(string("role"))
                .col(string("display_name"))
                .col(big_integer_null("dealer_id"))
                .col(string_null("dealer_role"))
                .col(big_integer_null("county_id"))
                .col(big_integer_null("village_id"))
                .col(string_null("real_name"))
                .col(string_null("id_number"))
                .col(timestamp_with_time_zone_null("verified_at"))
                .col(boolean("disabled").default(false))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("app_user", "dealer_id", "dealer"))
                .foreign_key(&mut fk("app_user", "county_id", "region"))
                .foreign_key(&mut fk("app_user", "village_id", "region"))
                .to_owned(),
        )
        .await?;
        index(m, "app_user", &["phone"], true).await?;
        index(m, "app_user", &["dealer_id"], false).await?;

        m.create_table(
            Table::create()
                .table("agronomist_county")
                .if_not_exists()
                .col(big_integer("user_id"))
                .col(big_integer("county_id"))
                .primary_key(Index::create().col("user_id").col("county_id"))
                .foreign_key(&mut fk("agronomist_county", "user_id", "app_user"))
                .foreign_key(&mut fk("agronomist_county", "county_id", "region"))
                .to_owned(),
        )
        .await?;

        // Opaque refresh tokens, stored as SHA-256 hashes; a family is one login's chain of
        // rotations, revoked whole when an already-rotated token is presented again.
        m.create_table(
            table("refresh_token")
                .col(big_integer("user_id"))
                .col(string("family_id"))
                .col(string("token_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("refresh_token", "user_id", "app_user"))
                .to_owned(),
        )
        .await?;
        index(m, "refresh_token", &["token_hash"], true).await?;
        index(m, "refresh_token", &["family_id"], false).await?;

        // Catalog.
        m.create_table(
            table("product")
                .col(string("category"))
                .col(big_integer("producer_id"))
                .col(string("name_zh"))
                .col(string("name_en"))
                .col(text("description_zh").default(""))
                .col(text("description_en").default(""))
                .col(string_null("registration_no"))
                .col(boolean("registration_exempt").default(false))
                .col(boolean("restricted_use").default(false))
                .col(string("status"))
                .col(big_integer_null("created_by_dealer_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("product", "producer_id", "producer"))
                .foreign_key(&mut fk("product", "created_by_dealer_id", "dealer"))
                .to_owned(),
        )
        .await?;
        index(m, "product", &["category"], false).await?;
        index(m, "product", &["producer_id"], false).await?;

        m.create_table(
            Table::create()
                .table("fertiliser_spec")
                .if_not_exists()
                .col(big_integer("product_id").primary_key())
                .col(string("fertiliser_type"))
                .col(double("n_pct"))
                .col(double("p2o5_pct"))
                .col(double("k2o_pct"))
                .col(json("secondary"))
                .col(double("organic_matter_pct").default(0.0))
                .col(string("form"))
                .col(string("chloride"))
                .foreign_key(&mut fk("fertiliser_spec", "product_id", "product"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("seed_spec")
                .if_not_exists()
                .col(big_integer("product_id").primary_key())
                .col(string("crop"))
                .col(string("variety_zh"))
                .col(string("variety_en"))
                .col(string("approval_no"))
                .col(double("germination_pct"))
                .col(double("purity_pct"))
                .col(double("moisture_pct"))
                .foreign_key(&mut fk("seed_spec", "product_id", "product"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("pesticide_spec")
                .if_not_exists()
                .col(big_integer("product_id").primary_key())
                .col(string("formulation"))
                .col(string("formulation_zh"))
                .col(string("toxicity"))
                .col(json("actives"))
                .foreign_key(&mut fk("pesticide_spec", "product_id", "product"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            table("pesticide_use")
                .col(big_integer("product_id"))
                .col(string("crop"))
                .col(string("target_zh"))
                .col(string("target_en"))
                .col(double("dose_min"))
                .col(double("dose_max"))
                .col(string("dose_unit"))
                .col(integer("phi_days"))
                .col(integer("max_applications"))
                .foreign_key(&mut fk("pesticide_use", "product_id", "product"))
                .to_owned(),
        )
        .await?;
        index(m, "pesticide_use", &["product_id"], false).await?;
        index(m, "pesticide_use", &["crop"], false).await?;

        m.create_table(
            table("sku")
                .col(big_integer("product_id"))
                .col(double("pack_size"))
                .col(string("pack_unit"))
                .col(string_null("gtin"))
                .col(boolean("active").default(true))
                .foreign_key(&mut fk("sku", "product_id", "product"))
                .to_owned(),
        )
        .await?;
        index(m, "sku", &["product_id"], false).await?;
        index(m, "sku", &["gtin"], true).await?;

        m.create_table(
            table("offer")
                .col(big_integer("dealer_id"))
                .col(big_integer("sku_id"))
                .col(big_integer("price_fen"))
                .col(boolean("active").default(true))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("offer", "dealer_id", "dealer"))
                .foreign_key(&mut fk("offer", "sku_id", "sku"))
                .check(Expr::col("price_fen").gt(0))
                .to_owned(),
        )
        .await?;
        index(m, "offer", &["dealer_id", "sku_id"], true).await?;
        index(m, "offer", &["sku_id"], false).await?;

        // Demo data is loaded once: this row records that it was.
        m.create_table(
            Table::create()
                .table("app_setting")
                .if_not_exists()
                .col(string("key").primary_key())
                .col(text("value"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
