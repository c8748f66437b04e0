//! `RestError`, the one error answer of the HTTP endpoints (REST, the payment callback, static
//! assets): a status, the API code GraphQL would give (`crate::error_code`), and a plain-text
//! message in the caller's language. Domain errors come in through [`RestError::from_domain`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Lang;

/// An HTTP endpoint's error answer: `status`, with `message` as a `text/plain` UTF-8 body
/// (and `Retry-After` when set). `code` is the same code a GraphQL error would carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after_secs: Option<u64>,
}

/// The HTTP status of an API code.
fn status_of(code: &str) -> StatusCode {
    match code {
        "BAD_USER_INPUT" => StatusCode::BAD_REQUEST,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl RestError {
    /// An error with this code (its status follows from it) and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        RestError {
            status: status_of(code),
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// An error with this code and the message in the caller's language.
    pub fn say(code: &'static str, lang: Lang, zh: &str, en: &str) -> Self {
        Self::new(code, lang.pick(zh, en))
    }

    /// `400 BAD_USER_INPUT`.
    pub fn bad_input(lang: Lang, zh: &str, en: &str) -> Self {
        Self::say("BAD_USER_INPUT", lang, zh, en)
    }

    /// `404 NOT_FOUND`.
    pub fn not_found(lang: Lang, zh: &str, en: &str) -> Self {
        Self::say("NOT_FOUND", lang, zh, en)
    }

    /// `500 INTERNAL` with the short message; log what went wrong before.
    pub fn internal(lang: Lang) -> Self {
        Self::say("INTERNAL", lang, "服务器内部错误", "internal error")
    }

    /// `429 RATE_LIMITED` with `Retry-After` (at least a second).
    pub fn rate_limited(retry_after_secs: u64, lang: Lang, zh: &str, en: &str) -> Self {
        RestError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::say("RATE_LIMITED", lang, zh, en)
        }
    }

    /// A domain error in the caller's language, with GraphQL's code for it
    /// ([`crate::error_code::code_of`], which logs internal and database errors).
    pub fn from_domain(e: domain::Error, lang: Lang) -> Self {
        Self::new(crate::error_code::code_of(&e), e.message(lang))
    }

    /// The same error with another message (the code and status stay).
    pub fn with_message(self, message: impl Into<String>) -> Self {
        RestError {
            message: message.into(),
            ..self
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.message,
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
