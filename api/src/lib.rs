//! The Nongzi server: configuration, adapters (Redis or in-process), JWT auth, the GraphQL API,
//! the demo county and the CLI's building blocks. `main.rs` only parses the command line.

pub mod adapters;
pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod graphql;
pub mod http;
pub mod web;

pub use app::{AppState, Server};
pub use config::Config;
