//! The bureau's market watch: every scan of a unit code (where and when, who only if signed in),
//! the complaints farmers file about an order or a lot (with one photo), and a dealer's
//! coordinates, so "scanned far from the dealer that sold it" can be measured in kilometres.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("code_scan")
                .col(big_integer("unit_code_id"))
                .col(big_integer("lot_id"))
                .col(string("code"))
                // TRACE_PAGE (anyone who looks a code up) or DEALER_SALE (a dealer's scan at a sale).
                .col(string("source"))
                .col(timestamp_with_time_zone("scanned_at"))
                .col(big_integer_null("user_id"))
                .col(big_integer_null("dealer_id"))
                // The scanner's region (a signed-in farmer's village, a dealer's region) and its
                // county, kept so the county comparison needs no climb at query time.
                .col(big_integer_null("region_id"))
                .col(big_integer_null("county_id"))
                // Rounded to 0.01 degree (about 1 km): enough to tell counties apart, no more.
                .col(double_null("lat"))
                .col(double_null("lon"))
                .foreign_key(&mut fk("code_scan", "unit_code_id", "unit_code"))
                .foreign_key(&mut fk("code_scan", "lot_id", "lot"))
                .foreign_key(&mut fk("code_scan", "user_id", "app_user"))
                .foreign_key(&mut fk("code_scan", "dealer_id", "dealer"))
                .foreign_key(&mut fk("code_scan", "region_id", "region"))
                .foreign_key(&mut fk("code_scan", "county_id", "region"))
                .to_owned(),
        )
        .await?;
        index(m, "code_scan", &["unit_code_id"], false).await?;
        index(m, "code_scan", &["scanned_at"], false).await?;
        // The resold-code signal reads the flagged codes, a handful among millions.
        index(m, "unit_code", &["flagged_at"], false).await?;
        m.create_table(
            table("complaint")
                .col(big_integer("farmer_id"))
                // The county whose regulators handle it: the dealer's county.
                .col(big_integer("county_id"))
                .col(big_integer_null("dealer_id"))
                .col(big_integer_null("order_id"))
                .col(big_integer_null("lot_id"))
                .col(string_null("code"))
                .col(text("body"))
                // OPEN, RESOLVED or DISMISSED.
                .col(string("status"))
                .col(text_null("outcome"))
                .col(big_integer_null("resolved_by"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("complaint", "farmer_id", "app_user"))
                .foreign_key(&mut fk("complaint", "county_id", "region"))
                .foreign_key(&mut fk("complaint", "dealer_id", "dealer"))
                .foreign_key(&mut fk("complaint", "order_id", "customer_order"))
                .foreign_key(&mut fk("complaint", "lot_id", "lot"))
                .foreign_key(&mut fk("complaint", "resolved_by", "app_user"))
                .to_owned(),
        )
        .await?;
        index(m, "complaint", &["county_id", "created_at"], false).await?;
        index(m, "complaint", &["farmer_id"], false).await?;
        index(m, "complaint", &["dealer_id"], false).await?;
        // The photo apart from the complaint, so lists never read the bytes.
        m.create_table(
            table("complaint_photo")
                .col(big_integer("complaint_id"))
                .col(string("content_type"))
                .col(blob("bytes"))
                .foreign_key(&mut fk("complaint_photo", "complaint_id", "complaint"))
                .to_owned(),
        )
        .await?;
        index(m, "complaint_photo", &["complaint_id"], true).await?;
        for c in ["lat", "lon"] {
            m.alter_table(
                Table::alter()
                    .table("dealer")
                    .add_column(double_null(c))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in ["lon", "lat"] {
            m.alter_table(Table::alter().table("dealer").drop_column(c).to_owned())
                .await?;
        }
        m.drop_index(
            Index::drop()
                .name("ix_unit_code_flagged_at")
                .table("unit_code")
                .to_owned(),
        )
        .await?;
        for t in ["complaint_photo", "complaint", "code_scan"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
