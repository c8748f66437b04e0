//! Plain HTTP next to GraphQL: the QR codes of the trace page (`trace_qr`; the page itself is
//! in `web`), the CSV downloads and uploads dealers and regulators use with spreadsheets
//! (`csv`), and the per-IP limit on trace look-ups (`rate_limit`). This file holds what they
//! share: the caller's language and bearer token, and the error answers.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Lang;
use domain::accounts::Actor;
use serde::Deserialize;

use crate::state::{AppState, bearer, lang_of};

mod csv;
mod rate_limit;
mod trace_qr;

pub use csv::{first_control_char, ledger_csv, recall_csv, receipts_csv};
pub use rate_limit::rate_limited;
pub use trace_qr::trace_qr;
pub(crate) use trace_qr::trace_url;

fn text_error(status: StatusCode, lang: Lang, zh: &str, en: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        lang.pick(zh, en).to_owned(),
    )
        .into_response()
}

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
fn rest_actor(state: &AppState, headers: &HeaderMap, lang: Lang) -> Result<Actor, Box<Response>> {
    match bearer(headers).and_then(|t| state.services.keys.verify(t)) {
        Some(a) => Ok(a),
        None => Err(Box::new(text_error(
            StatusCode::UNAUTHORIZED,
            lang,
            "请先登录（Authorization: Bearer ...）",
            "log in first (Authorization: Bearer ...)",
        ))),
    }
}

fn domain_error(e: domain::Error, lang: Lang) -> Response {
    let status = match &e {
        domain::Error::Invalid(_) | domain::Error::IllegalTransition { .. } => {
            StatusCode::BAD_REQUEST
        }
        domain::Error::NotFound { .. } => StatusCode::NOT_FOUND,
        domain::Error::Forbidden { .. } => StatusCode::FORBIDDEN,
        domain::Error::Unauthenticated => StatusCode::UNAUTHORIZED,
        domain::Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        domain::Error::Db(_) | domain::Error::Internal(_) => {
            tracing::error!(error = ?e, "REST request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.message(lang),
    )
        .into_response()
}
