//! Soil-test-based fertilisation: crop plans, soil tests, recommendations (drafts, published
//! versions, rejections) and regional formulas.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("crop_plan")
                .col(big_integer("field_id"))
                .col(string("crop"))
                .col(string("season"))
                .col(double_null("target_yield_kg_per_mu"))
                .col(json_null("past_yields_kg_per_mu"))
                .col(double_null("no_fertiliser_yield_kg_per_mu"))
                .col(string("previous_crop").default(""))
                .col(boolean("straw_returned").default(false))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("crop_plan", "field_id", "field"))
                .to_owned(),
        )
        .await?;
        index(m, "crop_plan", &["field_id"], false).await?;

        // Units are in the column names; the lab's own sample id is unique per lab.
        m.create_table(
            table("soil_test")
                .col(big_integer("field_id"))
                .col(date("sampled_on"))
                .col(integer("depth_from_cm"))
                .col(integer("depth_to_cm"))
                .col(string("lab"))
                .col(string("lab_sample_id"))
                .col(double("ph"))
                .col(double_null("buffer_ph"))
                .col(double("organic_matter_g_kg"))
                .col(double("alkali_n_mg_kg"))
                .col(double_null("olsen_p_mg_kg"))
                .col(double_null("mehlich3_p_mg_kg"))
                .col(double("available_k_mg_kg"))
                .col(double_null("cec_cmol_kg"))
                .col(double_null("ca_mg_kg"))
                .col(double_null("mg_mg_kg"))
                .col(double_null("s_mg_kg"))
                .col(double_null("zn_mg_kg"))
                .col(double_null("b_mg_kg"))
                .col(big_integer("entered_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("soil_test", "field_id", "field"))
                .to_owned(),
        )
        .await?;
        index(m, "soil_test", &["lab", "lab_sample_id"], true).await?;
        index(m, "soil_test", &["field_id"], false).await?;

        // A published version is never edited: a revision is a new row that supersedes it.
        m.create_table(
            table("recommendation")
                .col(big_integer("field_id"))
                .col(big_integer("crop_plan_id"))
                .col(big_integer("soil_test_id"))
                .col(integer("version"))
                .col(string("status"))
                .col(string("method"))
                .col(json("parameters"))
                .col(json("result"))
                .col(json("basket"))
                .col(double("n_kg_per_mu"))
                .col(double("p2o5_kg_per_mu"))
                .col(double("k2o_kg_per_mu"))
                .col(text("notes_zh").default(""))
                .col(text("notes_en").default(""))
                .col(text_null("reject_reason"))
                .col(big_integer_null("agronomist_id"))
                .col(timestamp_with_time_zone_null("signed_at"))
                .col(string_null("signature"))
                .col(big_integer_null("supersedes_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("recommendation", "field_id", "field"))
                .foreign_key(&mut fk("recommendation", "crop_plan_id", "crop_plan"))
                .foreign_key(&mut fk("recommendation", "soil_test_id", "soil_test"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "recommendation",
            &["field_id", "crop_plan_id", "version"],
            true,
        )
        .await?;
        index(m, "recommendation", &["status"], false).await?;

        m.create_table(
            table("regional_formula")
                .col(big_integer("county_id"))
                .col(string("crop"))
                .col(string("name"))
                .col(double("n_pct"))
                .col(double("p2o5_pct"))
                .col(double("k2o_pct"))
                .col(integer("fields_covered"))
                .col(double("mean_distance"))
                .col(json("details"))
                .col(string("status"))
                .col(big_integer("created_by"))
                .col(big_integer_null("published_by"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(big_integer_null("product_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("regional_formula", "county_id", "region"))
                .to_owned(),
        )
        .await?;
        index(m, "regional_formula", &["county_id", "crop"], false).await?;
        Ok(())
    }
}
