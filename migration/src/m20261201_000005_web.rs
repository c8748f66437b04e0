//! The web pages: browser sessions (only a hash of the cookie is kept), one-shot form keys (a
//! repeated POST finds the first result), station keepers (a user attached to one village
//! station) and who placed an order (a station keeper for a farmer, 代购).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("web_session")
                .col(string("token_hash"))
                .col(big_integer("user_id"))
                .col(string("csrf_secret"))
                .col(big_integer_null("acting_for"))
                .col(string("user_agent").default(""))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("web_session", "user_id", "app_user"))
                .foreign_key(&mut fk("web_session", "acting_for", "app_user"))
                .to_owned(),
        )
        .await?;
        index(m, "web_session", &["token_hash"], true).await?;
        index(m, "web_session", &["user_id"], false).await?;

        m.create_table(
            table("web_form")
                .col(big_integer("session_id"))
                .col(string("form_key"))
                .col(string_null("result_url"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("web_form", "session_id", "web_session"))
                .to_owned(),
        )
        .await?;
        index(m, "web_form", &["session_id", "form_key"], true).await?;

        // SQLite cannot add a column with a foreign key to an existing table through ALTER, so
        // these two are plain columns; the services check them.
        m.alter_table(
            Table::alter()
                .table("app_user")
                .add_column(big_integer_null("station_id"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("customer_order")
                .add_column(big_integer_null("placed_by"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("customer_order")
                .drop_column("placed_by")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("app_user")
                .drop_column("station_id")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("web_form").to_owned())
            .await?;
        m.drop_table(Table::drop().table("web_session").to_owned())
            .await
    }
}
