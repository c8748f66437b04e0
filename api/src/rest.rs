//! Plain HTTP next to GraphQL: the QR codes of the trace page (`trace_qr`; the page itself is
//! in `web`), the CSV downloads and uploads dealers and regulators use with spreadsheets
//! (`csv`), and the per-IP limit on trace look-ups (`rate_limit`). This file holds what they
//! share: the caller's language and bearer token. `errors` holds `RestError`, the one error
//! answer of the HTTP endpoints.

use axum::http::HeaderMap;
use domain::Lang;
use domain::accounts::Actor;
use serde::Deserialize;

use crate::state::{AppState, bearer, lang_of};

pub mod csv;
mod errors;
mod rate_limit;
mod trace_qr;

pub use csv::{first_control_char, ledger_csv, recall_csv, receipts_csv};
pub use errors::RestError;
pub use rate_limit::rate_limited;
pub use trace_qr::trace_qr;
pub(crate) use trace_qr::trace_url;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn lang_from(headers: &HeaderMap, q: Option<&str>) -> Lang {
    match q {
        Some("en") => Lang::En,
        Some("zh") => Lang::Zh,
        _ => lang_of(headers),
    }
}

/// The caller of a REST endpoint: a valid bearer token, or a 401.
fn rest_actor(state: &AppState, headers: &HeaderMap, lang: Lang) -> Result<Actor, RestError> {
    bearer(headers)
        .and_then(|t| state.services.keys.verify(t))
        .ok_or_else(|| {
            RestError::say(
                "UNAUTHENTICATED",
                lang,
                "请先登录（Authorization: Bearer ...）",
                "log in first (Authorization: Bearer ...)",
            )
        })
}
