//! The one place where domain errors become GraphQL errors: top-level errors carry
//! `extensions.code` ([`to_gql`], the only mapping from a domain error to a code); rule
//! violations in mutations become payload `errors` with a per-domain code enum ([`split`]).
//!
//! How a new mutation declares its payload: the payload object has an `errors: Vec<E>` field,
//! where `E` is its context's payload error type (one from [`domain_errors!`] below, or a
//! hand-written one), and `E` implements [`PayloadError`]: `from_field` for a rule violation
//! and, only where an illegal state change is the caller's to fix (orders), `from_transition`
//! to show it as payload data; by default it stays a top-level error. The resolver then ends
//! with [`payload!`]:
//!
//! - `payload!(FooPayload, foo, FooError, r, l, |v| Foo(v))` for a payload with one nullable
//!   field (`Some(Foo(v))` on success, `None` otherwise); further fields that are the same
//!   either way follow it: `..., |v| Foo(v), bar: None)`;
//! - `payload!(FooPayload, FooError, r, l, |v| { a: .., b: .. } else { a: .., b: .. })` when
//!   the fields differ otherwise (lists, flags): the success fields, then the failure ones;
//! - `payload!(FooError, r, l, |v| ok, |errors| failed)` when the payload is built elsewhere
//!   (both are whole payload expressions, and `ok` may use `.await` and `?`).
//!
//! Events of a successful change are published first (`stock::publish_ok`), so the value
//! handed to the macro is the plain result.

use async_graphql::{Enum, ErrorExtensions, SimpleObject};
use domain::error::StateName;
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

/// A context's payload error type: how a domain refusal is shown as a payload `errors` item.
pub trait PayloadError: Sized {
    /// A rule violation on one input field.
    fn from_field(e: FieldError, lang: Lang) -> Self;

    /// An illegal state change (`message` already in the caller's language): `Some` shows it
    /// as payload data; `None`, the default, leaves it a top-level error (BAD_USER_INPUT).
    fn from_transition(_from: StateName, _to: StateName, _message: String) -> Option<Self> {
        None
    }
}

/// Splits a domain result for a mutation payload: rule violations (and illegal state changes
/// where `E` says so) are payload data, everything else is a top-level error through
/// [`to_gql`].
pub fn split<E: PayloadError, T>(r: domain::Result<T>, lang: Lang) -> ApiResult<Result<T, Vec<E>>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(Error::Invalid(errs)) => Ok(Err(errs
            .into_iter()
            .map(|e| E::from_field(e, lang))
            .collect())),
        Err(e @ Error::IllegalTransition { from, to }) => {
            match E::from_transition(from, to, e.message(lang)) {
                Some(item) => Ok(Err(vec![item])),
                None => Err(to_gql(e, lang)),
            }
        }
        Err(e) => Err(to_gql(e, lang)),
    }
}

/// Builds a mutation payload from a domain result through [`split`] (see the opening comment
/// for the three forms): on success `errors` is empty; refusals that are data fill `errors`;
/// anything else is a top-level error. The one payload builder for every context.
macro_rules! payload {
    ($err:ident, $r:expr, $l:expr, |$v:pat_param| $ok:expr, |$e:ident| $failed:expr) => {
        Ok(match $crate::graphql::errors::split::<$err, _>($r, $l)? {
            Ok($v) => $ok,
            Err($e) => $failed,
        })
    };
    ($ty:ident, $err:ident, $r:expr, $l:expr,
        |$v:pat_param| { $($f:ident: $ok:expr),* $(,)? } else { $($g:ident: $no:expr),* $(,)? }) => {
        Ok(match $crate::graphql::errors::split::<$err, _>($r, $l)? {
            Ok($v) => $ty {
                $($f: $ok,)*
                errors: vec![],
            },
            Err(errors) => $ty {
                $($g: $no,)*
                errors,
            },
        })
    };
    ($ty:ident, $field:ident, $err:ident, $r:expr, $l:expr, |$v:pat_param| $wrap:expr
        $(, $x:ident: $xv:expr)* $(,)?) => {
        $crate::graphql::errors::payload!($ty, $err, $r, $l,
            |$v| { $field: Some($wrap) $(, $x: $xv)* } else { $field: None $(, $x: $xv)* })
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

        impl PayloadError for $err {
            fn from_field(e: FieldError, lang: Lang) -> Self {
                $err { message: e.message(lang).to_owned(), field: e.field, code: e.code.into() }
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
