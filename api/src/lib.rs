//! The Nongzi server: configuration, adapters (Redis or in-process), JWT auth, the GraphQL API,
//! the demo county and the CLI's building blocks. `main.rs` only parses the command line.

pub mod adapters;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod error_code;
pub mod graphql;
pub mod rest;
pub mod router;
pub mod server;
pub mod state;
pub mod web;

pub use config::Config;
pub use server::Server;
pub use state::AppState;
