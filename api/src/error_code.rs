//! The one mapping from a domain error to its API code (`BAD_USER_INPUT`, `NOT_FOUND`,
//! `FORBIDDEN`, `UNAUTHENTICATED`, `RATE_LIMITED`, `INTERNAL`), shared by GraphQL
//! (`graphql::errors`, the `extensions.code`) and the HTTP endpoints (`rest::errors`). Depends
//! on nothing else in the crate, so both can import it.

use domain::Error;

/// The API code of a domain error. An internal or database error is logged here, once, with
/// its whole source chain (the answer says nothing internal).
pub fn code_of(e: &Error) -> &'static str {
    match e {
        Error::Invalid(_) | Error::IllegalTransition { .. } => "BAD_USER_INPUT",
        Error::NotFound { .. } => "NOT_FOUND",
        Error::Forbidden { .. } => "FORBIDDEN",
        Error::Unauthenticated => "UNAUTHENTICATED",
        Error::RateLimited { .. } => "RATE_LIMITED",
        Error::Db(inner) => {
            tracing::error!(error = %e.with_causes(), detail = ?inner, "database error");
            "INTERNAL"
        }
        Error::Internal(_) => {
            tracing::error!(error = %e.with_causes(), "internal error");
            "INTERNAL"
        }
    }
}
