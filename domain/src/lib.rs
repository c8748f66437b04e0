//! Nongzi's business rules and persistence. Knows nothing of HTTP or GraphQL: services take a
//! sea-orm connection (a pool or a transaction), enforce the rules, and return domain values or a
//! typed [`Error`].

/// The rows of `entity` whose ids are in `ids`, keyed by id, in one statement (inside an async
/// fn returning `Result`): `rows_by_id!(db, sku, lots.values().map(|l| l.sku_id))`.
#[macro_export]
macro_rules! rows_by_id {
    ($db:expr, $entity:ident, $ids:expr) => {
        $entity::Entity::find()
            .filter($entity::Column::Id.is_in($ids))
            .all($db)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect::<std::collections::BTreeMap<i64, $entity::Model>>()
    };
}

/// How many values one `IN (...)` list or one multi-row insert carries at most: well under
/// SQLite's 32 766 bound variables and PostgreSQL's 65 535 parameters per statement.
pub const IN_CHUNK: usize = 10_000;

pub mod accounts;
pub mod agronomy;
pub mod bureau;
pub mod catalog;
pub mod csv_export;
pub mod csv_import;
pub mod entities;
pub mod error;
pub mod events;
pub mod fields;
pub mod lots;
pub mod notify;
pub mod orders;
pub mod regions;
pub mod shop;
pub mod stock;
pub mod types;
pub mod workflows;

pub use error::{Code, Error, FieldError, Lang, Result};

/// Current time in UTC; every stored time is UTC.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// Today's date where the product is used (China Standard Time, UTC+8): expiry, ledger dates
/// and licence validity are calendar dates there.
pub fn today() -> chrono::NaiveDate {
    local_date(now())
}

/// The China Standard Time date of a UTC instant.
pub fn local_date(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing when it
/// upgrades a read lock; on PostgreSQL it is a plain `BEGIN` and rows are locked as needed.
/// Inside a transaction it opens a savepoint, so services compose (the demo loader runs them
/// all in one transaction).
pub async fn begin_write<C: sea_orm::TransactionTrait>(db: &C) -> Result<C::Transaction> {
    Ok(db
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?)
}
