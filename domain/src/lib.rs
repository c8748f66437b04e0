//! Nongzi's business rules and persistence. Knows nothing of HTTP or GraphQL: services take a
//! sea-orm connection (a pool or a transaction), enforce the rules, and return domain values or a
//! typed [`Error`].

pub mod accounts;
pub mod catalog;
pub mod entities;
pub mod error;
pub mod regions;
pub mod types;

pub use error::{Code, Error, FieldError, Lang, Result};

/// Current time in UTC; every stored time is UTC.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
