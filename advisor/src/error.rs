//! The crate's one error type.

use serde_json::{Value, json};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the advisor. Request problems carry the JSON path of the
/// field at fault so that the CLI can print it and exit 2.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The text is not JSON at all.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Malformed {
        line: usize,
        column: usize,
        message: String,
    },

    /// The bytes are not UTF-8 text (a JSON request must be): `column` is the 1-based byte of
    /// the line where the bad sequence starts.
    #[error("line {line}, byte {column}: not valid UTF-8 (a request must be UTF-8 text)")]
    NotUtf8 { line: usize, column: usize },

    /// A field is missing, has the wrong type, or holds a value the method cannot use.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },

    /// A quantity that must be finite and >= 0 was not (raised by the unit types).
    #[error("expected a finite number >= 0 ({unit}), got {value}")]
    Quantity { unit: &'static str, value: f64 },

    /// A fraction outside its allowed range.
    #[error("{what}: got {value}")]
    Fraction { what: &'static str, value: f64 },

    #[error("expected a finite number > 0, got {value}")]
    NotPositive { value: f64 },

    #[error("pH must be between 0 and 14, got {value}")]
    Ph { value: f64 },

    /// A fertiliser analysis such as `15-15-15` that does not parse.
    #[error("fertiliser analysis `{text}`: {reason}")]
    Analysis { text: String, reason: &'static str },

    /// The MIP/LP solver failed for a reason other than infeasibility (a bug or a numerical
    /// failure, not the user's fault).
    #[error("solver failed: {0}")]
    Solver(String),
}

/// The name the public JSON API uses for [`Error`].
pub type RequestError = Error;

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Puts a field name on a value error raised by a unit type or parser.
    pub fn at(self, field: impl Into<String>) -> Self {
        match self {
            Error::Invalid { .. }
            | Error::Malformed { .. }
            | Error::NotUtf8 { .. }
            | Error::Solver(_) => self,
            other => Error::invalid(field, other.to_string()),
        }
    }

    /// The JSON path of the field at fault, if the error is about one field.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// True when the request itself is at fault (the CLI exits 2); false for a solver failure.
    pub fn is_request_error(&self) -> bool {
        !matches!(self, Error::Solver(_))
    }

    /// Short machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed { .. } => "malformed_json",
            Error::NotUtf8 { .. } => "invalid_utf8",
            Error::Solver(_) => "solver_failed",
            _ => "invalid_request",
        }
    }

    /// The error as the JSON the CLI prints: `{"error": {"code", "field", "message"}}`.
    pub fn to_json(&self) -> Value {
        let message = match self {
            Error::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let mut body = json!({ "code": self.code(), "message": message });
        if let Some(field) = self.field() {
            body["field"] = json!(field);
        }
        if let Error::Malformed { line, column, .. } | Error::NotUtf8 { line, column } = self {
            body["line"] = json!(line);
            body["column"] = json!(column);
        }
        json!({ "error": body })
    }
}
