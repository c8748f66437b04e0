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

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use domain::error::StateName;
    use domain::{Code, Error, FieldError, Lang};

    use super::RestError;

    const PAID: StateName = StateName {
        code: "PAID",
        zh: "已支付",
        en: "paid",
    };
    const DRAFT: StateName = StateName {
        code: "DRAFT",
        zh: "草稿",
        en: "draft",
    };

    /// One of each variant with the status and code it answers; the match makes a new variant
    /// fail to compile here until it is listed.
    fn every_variant() -> Vec<(Error, StatusCode, &'static str)> {
        let all = vec![
            (
                Error::Invalid(vec![FieldError::new(
                    "quantity",
                    Code::OutOfRange,
                    "数量应大于 0",
                    "must be above 0",
                )]),
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
            ),
            (
                Error::IllegalTransition {
                    from: PAID,
                    to: DRAFT,
                },
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
            ),
            (
                Error::not_found("Lot", 7),
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
            ),
            (
                Error::Forbidden {
                    zh: "不是你的门店".into(),
                    en: "not your shop".into(),
                },
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
            ),
            (
                Error::Unauthenticated,
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
            ),
            (
                Error::RateLimited {
                    retry_after_secs: 30,
                },
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
            ),
            (
                Error::Db(sea_orm::DbErr::Custom(
                    "relation \"secret_table\" does not exist at 10.0.0.3".into(),
                )),
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
            ),
            (
                Error::Internal("pool exhausted at 10.0.0.3".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
            ),
        ];
        for (e, _, _) in &all {
            match e {
                Error::Invalid(_)
                | Error::IllegalTransition { .. }
                | Error::NotFound { .. }
                | Error::Forbidden { .. }
                | Error::Unauthenticated
                | Error::RateLimited { .. }
                | Error::Db(_)
                | Error::Internal(_) => {}
            }
        }
        all
    }

    async fn answer(e: RestError) -> (StatusCode, String, String) {
        let resp = e.into_response();
        let status = resp.status();
        let ctype = resp.headers()[axum::http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, ctype, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn each_domain_error_has_its_status_code_and_message() {
        for lang in [Lang::Zh, Lang::En] {
            for (e, status, code) in every_variant() {
                let message = e.message(lang);
                let r = RestError::from_domain(e, lang);
                assert_eq!((r.status(), r.code()), (status, code), "{message}");
                let (s, ctype, body) = answer(r).await;
                assert_eq!(s, status);
                assert_eq!(ctype, "text/plain; charset=utf-8");
                assert_eq!(body, message);
            }
        }
    }

    #[test]
    fn rest_and_graphql_give_a_domain_error_the_same_code() {
        for (e, _, code) in every_variant() {
            let gql = crate::graphql::errors::to_gql(e, Lang::En);
            let ext = gql.extensions.expect("extensions");
            assert_eq!(
                ext.get("code"),
                Some(&async_graphql::Value::from(code)),
                "{}",
                gql.message
            );
        }
    }

    #[tokio::test]
    async fn an_internal_error_answer_says_nothing_internal() {
        for lang in [Lang::Zh, Lang::En] {
            for (e, status, _) in every_variant() {
                if status != StatusCode::INTERNAL_SERVER_ERROR {
                    continue;
                }
                let (_, _, body) = answer(RestError::from_domain(e, lang)).await;
                for secret in ["secret_table", "relation", "10.0.0.3", "pool", "database"] {
                    assert!(!body.contains(secret), "{body}");
                }
                assert_eq!(
                    body,
                    lang.pick(
                        "服务器内部错误，请稍后重试",
                        "internal error, please try again later"
                    )
                );
            }
        }
    }

    #[tokio::test]
    async fn a_rate_limit_answer_says_when_to_retry() {
        let r = RestError::rate_limited(0, Lang::En, "稍后重试", "retry later");
        assert_eq!(r.code(), "RATE_LIMITED");
        let resp = r.into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "1");
    }
}
