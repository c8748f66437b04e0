//! Opening the database: pool sizing, SQLite pragmas, migrations, and a statement counter used
//! to prove that list fields are batched.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::{Config, redact_url};

/// Counts SQL statements sent on the pool.
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub async fn connect(config: &Config) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let mut opts = ConnectOptions::new(config.database_url.clone());
    opts.max_connections(config.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if config.is_sqlite() {
        // WAL lets readers run beside the one writer; the busy timeout makes a writer wait for
        // the lock instead of failing at once.
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    }
    let mut db = Database::connect(opts).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to {}: {e}",
            redact_url(&config.database_url)
        )
    })?;
    let counter = StatementCounter::default();
    let c = counter.0.clone();
    db.set_metric_callback(move |_| {
        c.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, counter))
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}
