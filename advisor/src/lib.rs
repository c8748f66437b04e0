//! # advisor: from a soil test to nutrient rates to a least-cost basket of real products
//!
//! Pure and deterministic: no I/O, no database, no threads. The methods and every number come
//! from `shared/agronomy/METHODS.md`; the tables live in `advisor/data/*.toml` (embedded at
//! compile time, each value with its source) and any of them can be overridden in a request.
//!
//! ## Entry points for the `nongzi advise` CLI
//!
//! ```text
//! pub fn handle_json(line: &str) -> Result<serde_json::Value, RequestError>
//! pub fn handle_batch(text: &str) -> Vec<BatchLine>      // JSON Lines, one result per line
//! pub fn handle_input(text: &str) -> Handled              // one request or a batch, decided
//! ```
//!
//! * `handle_json` runs one request (a JSON object with a `"method"`) and returns the response.
//!   On error, `RequestError::field()` names the JSON path at fault (`products[1].analysis`),
//!   `RequestError::to_json()` is what to print, and `is_request_error()` says exit 2 (false
//!   only for an internal solver failure).
//! * `handle_batch` runs each non-blank line; `BatchLine { line, result }` keeps the 1-based line
//!   number, `BatchLine::to_json()` prints `{"line", "result"}` or `{"line", "error"}`.
//! * `handle_input` takes a whole file or stdin: one JSON value (pretty-printed or not) is one
//!   request, several lines of JSON are a batch. `Handled::to_json()` and
//!   `Handled::exit_code()` (0 ok, 2 bad request, 1 solver failure) are all the CLI needs.
//!
//! Methods (`"method"` values): see [`api::METHODS`] and `docs/advisor.md`.
//!
//! ## For Rust callers
//!
//! The formulas are plain functions over typed units ([`units`]), e.g.
//! [`methods::balance::nutrient_balance`], [`basket::least_cost_basket`]; each has a `*_steps`
//! companion that writes the bilingual explanation. [`advice`] turns rates into what a farmer
//! does: rounded to half a kilogram, split by crop stage, lime in kg per mu.

pub mod advice;
pub mod api;
pub mod basket;
pub mod data;
pub mod error;
pub mod explain;
pub mod methods;
pub mod products;
pub mod sizing;
pub mod targets;
pub mod units;

pub use api::{
    BatchLine, Handled, METHODS, Request, Response, handle_batch, handle_input, handle_input_bytes,
    handle_json,
};
pub use error::{Error, RequestError, Result};
pub use explain::{Note, Step};
