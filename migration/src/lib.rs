//! One migration list for SQLite and PostgreSQL. Files are named `mYYYYMMDD_HHMMSS_what.rs`;
//! a migration is never edited once it has landed: a change is a new file.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_lots_stock_trace;
mod m20261129_000003_orders;
mod m20261129_000004_agronomy;
mod m20261201_000005_web;
mod m20261202_000006_credit_repayment;
mod m20261203_000007_formula_skipped;
mod m20261204_000008_county_agronomy;
mod m20261205_000009_signals_complaints;
mod m20261205_000010_bureau_stats;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_lots_stock_trace::Migration),
            Box::new(m20261129_000003_orders::Migration),
            Box::new(m20261129_000004_agronomy::Migration),
            Box::new(m20261201_000005_web::Migration),
            Box::new(m20261202_000006_credit_repayment::Migration),
            Box::new(m20261203_000007_formula_skipped::Migration),
            Box::new(m20261204_000008_county_agronomy::Migration),
            Box::new(m20261205_000009_signals_complaints::Migration),
            Box::new(m20261205_000010_bureau_stats::Migration),
        ]
    }
}
