//! The one place where domain errors become GraphQL errors: top-level errors carry
//! `extensions.code`; rule violations in mutations become payload `errors` with a
//! per-domain code enum.

use async_graphql::{Enum, ErrorExtensions, SimpleObject};
use domain::{Code, Error, FieldError, Lang};

pub type ApiResult<T> = async_graphql::Result<T>;

pub fn to_gql(e: Error, lang: Lang) -> async_graphql::Error {
    let code = crate::error_code::code_of(&e);
    let message = e.message(lang);
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", code);
        match &e {
            Error::RateLimited { retry_after_secs } => {
                ext.set("retryAfterSeconds", *retry_after_secs)
            }
            Error::Invalid(errs) => ext.set(
                "fields",
                async_graphql::Value::List(
                    errs.iter()
                        .map(|f| async_graphql::Value::from(f.field.clone()))
                        .collect(),
                ),
            ),
            _ => {}
        }
    })
}

/// Splits a domain result for a mutation payload: rule violations are data, everything else
/// is a top-level error.
pub fn split<T>(r: domain::Result<T>, lang: Lang) -> ApiResult<Result<T, Vec<FieldError>>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(Error::Invalid(errs)) => Ok(Err(errs)),
        Err(e) => Err(to_gql(e, lang)),
    }
}

/// Builds a mutation payload `$ty { $field, errors }` from a domain result: on success the
/// field holds `$wrap` of the value and `errors` is empty; rule violations become `$err` items
/// (the context's payload error type) and the field is null; anything else is a top-level
/// error through [`to_gql`] (see [`split`]). The one payload builder for every context.
macro_rules! payload {
    ($ty:ident, $field:ident, $err:ident, $r:expr, $l:expr, |$v:pat_param| $wrap:expr) => {
        Ok(match $crate::graphql::errors::split($r, $l)? {
            Ok($v) => $ty {
                $field: Some($wrap),
                errors: vec![],
            },
            Err(e) => $ty {
                $field: None,
                errors: $err::list(e, $l),
            },
        })
    };
}
pub(crate) use payload;

/// Declares a per-domain error-code enum (a subset of the domain's codes, named alike, with
/// `INVALID` for anything else) and its payload error object.
macro_rules! domain_errors {
    ($err:ident, $code:ident, $doc:literal, [$($v:ident),* $(,)?]) => {
        #[doc = $doc]
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $code {
            $($v,)*
            /// Any other rule violation; the message says which.
            Invalid,
        }

        impl From<Code> for $code {
            fn from(c: Code) -> Self {
                match c {
                    $(Code::$v => $code::$v,)*
                    #[allow(unreachable_patterns)]
                    _ => $code::Invalid,
                }
            }
        }

        /// A rejected input field: which field, why (code), and a message in the caller's language.
        #[derive(SimpleObject, Clone, Debug)]
        pub struct $err {
            pub field: String,
            pub code: $code,
            pub message: String,
        }

        impl $err {
            pub fn from_field(e: FieldError, lang: Lang) -> Self {
                $err { message: e.message(lang).to_owned(), field: e.field, code: e.code.into() }
            }
            pub fn list(errs: Vec<FieldError>, lang: Lang) -> Vec<Self> {
                errs.into_iter().map(|e| Self::from_field(e, lang)).collect()
            }
        }
    };
}

domain_errors!(
    AccountError,
    AccountErrorCode,
    "Why an account input was rejected.",
    [
        Required,
        InvalidFormat,
        OutOfRange,
        TooLong,
        UnknownReference,
        InvalidPhone,
        WeakPassword,
        PhoneTaken,
        InvalidIdNumber,
        IdChecksum,
        InvalidCredentials,
        AccountDisabled,
        WrongRegionLevel,
    ]
);

domain_errors!(
    RegionError,
    RegionErrorCode,
    "Why a region, station or dealer input was rejected.",
    [
        Required,
        InvalidFormat,
        OutOfRange,
        TooLong,
        Duplicate,
        UnknownReference,
        InvalidPhone,
        WrongRegionLevel,
    ]
);

domain_errors!(
    CatalogError,
    CatalogErrorCode,
    "Why a catalog input was rejected.",
    [
        Required,
        InvalidFormat,
        OutOfRange,
        TooLong,
        Duplicate,
        UnknownReference,
        InvalidRegistration,
        InvalidAnalysis,
        NutrientBelowMinimum,
        MissingSpec,
        InvalidGtin,
        InvalidPrice,
        LicenceRequired,
    ]
);

domain_errors!(
    StockError,
    StockErrorCode,
    "Why a lot, stock or sale input was rejected.",
    [
        Required,
        InvalidFormat,
        OutOfRange,
        TooLong,
        Duplicate,
        UnknownReference,
        InvalidGtin,
        InvalidPrice,
        InsufficientStock,
        LotNotSellable,
        LotRecalled,
        LicenceRequired,
        RealNameRequired,
        UnregisteredUse,
        CodeMismatch,
        CodeAlreadySold,
        InvalidTransition,
        InvalidPhone,
        InvalidIdNumber,
        IdChecksum,
        WrongRegionLevel,
    ]
);
