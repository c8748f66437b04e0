//! End-to-end tests: one binary, one module per area. Each test starts a real server on a fresh
//! database (SQLite, or PostgreSQL + Redis when NONGZI_TEST_DATABASE_URL / NONGZI_TEST_REDIS_URL
//! are set).

mod e2e {
    pub mod agronomist_console;
    pub mod agronomist_params;
    pub mod agronomy;
    pub mod agronomy_county;
    pub mod agronomy_rules;
    pub mod auth;
    pub mod bureau_lots;
    pub mod bureau_signals;
    pub mod bureau_stats;
    pub mod catalog;
    pub mod dealer_desk;
    pub mod dealer_shelves;
    pub mod dealer_till;
    pub mod demo;
    pub mod orders;
    pub mod payments;
    pub mod platform;
    pub mod roles;
    pub mod stock;
    pub mod web;
}
