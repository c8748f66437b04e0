//! All integration tests in one binary: one link, shared helpers.

mod api_errors;
mod docs;
mod helpers;
mod properties;
mod time_limit;
mod worked_examples;
