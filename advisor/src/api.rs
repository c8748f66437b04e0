//! The JSON request/response API behind `nongzi advise`.
//!
//! A request is one JSON object whose `"method"` names the calculation; the other fields are the
//! method's inputs, with the unit in the field name (`target_yield_kg_per_mu`). Defaults come from
//! `advisor/data/*.toml` and every one can be overridden in the request. Unknown fields are
//! errors, so a misspelt override is never silently ignored.

mod balance;
mod basket;
mod common;
mod recommend;
mod response_fn;
mod soil;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, RequestError, Result};

pub use balance::{
    FertilityDifferenceRequest, FertilityDifferenceResponse, NutrientBalanceRequest,
    NutrientBalanceResponse, SoilSupplyRequest, TargetYieldRequest, TargetYieldResponse,
};
pub use basket::{
    BasketResponse, LeastCostBasketRequest, SequentialSizingRequest, SequentialSizingResponse,
};
pub use common::Npk;
pub use recommend::{
    BasketSettings, NutrientRate, RecommendLime, RecommendRequest, RecommendResponse, RecommendSoil,
};
pub use response_fn::{
    AreaUnit, EconomicOptimum, ResponseFunctionRequest, ResponseFunctionResponse,
};
pub use soil::{
    AbundanceRequest, AbundanceResponse, ChinaEdges, ClassifyChinaRequest, ClassifyChinaResponse,
    CropGroup, LimeRequest, LimeResponse, QueftsRequest, QueftsResponse, Rb209Adjustment,
    Rb209AdjustmentResult, Rb209Request, Rb209Response, TriStateNutrient, TriStateRequest,
    TriStateResponse,
};

/// One method of the API: its request runs to its response.
pub trait Method {
    type Response: Serialize;
    fn run(&self) -> Result<Self::Response>;
}

macro_rules! methods {
    ($($variant:ident => $name:literal, $req:ty;)*) => {
        /// A request, tagged by `"method"`. (Boxed: the variants differ a lot in size.)
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "method")]
        pub enum Request {
            $(#[serde(rename = $name)] $variant(Box<$req>),)*
        }

        /// A response, tagged by the same `"method"` as its request.
        #[derive(Debug, Clone, Serialize)]
        #[serde(tag = "method")]
        pub enum Response {
            $(#[serde(rename = $name)] $variant(Box<<$req as Method>::Response>),)*
        }

        /// Every method name a request may use.
        pub const METHODS: &[&str] = &[$($name),*];

        impl Request {
            /// Parses a request from a JSON value, naming the path of any bad field.
            pub fn from_value(value: Value) -> Result<Request> {
                let (method, body) = split_method(value)?;
                match method.as_str() {
                    $($name => Ok(Request::$variant(Box::new(parse_body::<$req>(body)?))),)*
                    other => Err(Error::invalid(
                        "method",
                        format!("unknown method `{other}`; expected one of: {}", METHODS.join(", ")),
                    )),
                }
            }

            /// The method name.
            pub fn method(&self) -> &'static str {
                match self {
                    $(Request::$variant(_) => $name,)*
                }
            }

            /// Runs the calculation.
            pub fn run(&self) -> Result<Response> {
                match self {
                    $(Request::$variant(r) => Ok(Response::$variant(Box::new(r.run()?))),)*
                }
            }
        }
    };
}

methods! {
    NutrientBalance => "nutrient_balance", NutrientBalanceRequest;
    FertilityDifference => "fertility_difference", FertilityDifferenceRequest;
    ResponseFunction => "response_function", ResponseFunctionRequest;
    ClassifyChina => "classify_china", ClassifyChinaRequest;
    Abundance => "abundance", AbundanceRequest;
    TriState => "tri_state", TriStateRequest;
    Rb209 => "rb209", Rb209Request;
    Quefts => "quefts", QueftsRequest;
    Lime => "lime", LimeRequest;
    TargetYield => "target_yield", TargetYieldRequest;
    SequentialSizing => "sequential_sizing", SequentialSizingRequest;
    LeastCostBasket => "least_cost_basket", LeastCostBasketRequest;
    Recommend => "recommend", RecommendRequest;
}

fn split_method(value: Value) -> Result<(String, Value)> {
    let Value::Object(mut map) = value else {
        return Err(Error::invalid(
            "(root)",
            "a request must be a JSON object with a \"method\" field",
        ));
    };
    match map.remove("method") {
        Some(Value::String(m)) => Ok((m, Value::Object(map))),
        Some(other) => Err(Error::invalid(
            "method",
            format!("must be a string, got {other}"),
        )),
        None => Err(Error::invalid(
            "method",
            format!("missing; expected one of: {}", METHODS.join(", ")),
        )),
    }
}

/// Deserialises a method's body, turning serde's error into the path of the field at fault.
fn parse_body<T: serde::de::DeserializeOwned>(body: Value) -> Result<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        Error::Invalid {
            field: field_path(&path, &message),
            message,
        }
    })
}

/// serde reports a missing or unknown field at its parent's path, with the name in backticks:
/// append it so the error names the field itself.
fn field_path(path: &str, message: &str) -> String {
    let base = if path == "." { "" } else { path };
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (base, named) {
        ("", Some(name)) => name.to_string(),
        // An unknown field is already the last segment of the path.
        (base, Some(name)) if base == name || base.ends_with(&format!(".{name}")) => {
            base.to_string()
        }
        (base, Some(name)) => format!("{base}.{name}"),
        ("", None) => "(root)".to_string(),
        (base, None) => base.to_string(),
    }
}

/// Runs one JSON request and returns the JSON response.
///
/// Errors name the field at fault (`RequestError::field`); the CLI prints
/// `RequestError::to_json()` and exits 2 when `is_request_error()`.
pub fn handle_json(line: &str) -> Result<Value, RequestError> {
    let value: Value = serde_json::from_str(line).map_err(|e| Error::Malformed {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let response = Request::from_value(value)?.run()?;
    serde_json::to_value(&response).map_err(|e| Error::Solver(format!("serialising: {e}")))
}

/// The result of one line of a JSON Lines batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLine {
    /// 1-based line number in the input.
    pub line: usize,
    pub result: Result<Value, RequestError>,
}

impl BatchLine {
    /// `{"line": n, "result": {...}}` or `{"line": n, "error": {...}}`.
    pub fn to_json(&self) -> Value {
        match &self.result {
            Ok(v) => serde_json::json!({ "line": self.line, "result": v }),
            Err(e) => {
                let mut err = e.to_json();
                err["line"] = serde_json::json!(self.line);
                err
            }
        }
    }
}

/// Runs a JSON Lines batch: one request per line, blank lines skipped. Each line gets its own
/// result, so one bad line does not stop the others.
pub fn handle_batch(text: &str) -> Vec<BatchLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| BatchLine {
            line: i + 1,
            result: handle_json(l),
        })
        .collect()
}

/// What `nongzi advise` was given: one request (possibly pretty-printed over many lines) or a
/// JSON Lines batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Single(Result<Value, RequestError>),
    Batch(Vec<BatchLine>),
}

impl Handled {
    /// The CLI's exit status: 0 when everything ran, 2 when any request was malformed or
    /// invalid, 1 for an internal (solver) failure.
    pub fn exit_code(&self) -> i32 {
        let code = |r: &Result<Value, RequestError>| match r {
            Ok(_) => 0,
            Err(e) if e.is_request_error() => 2,
            Err(_) => 1,
        };
        match self {
            Handled::Single(r) => code(r),
            Handled::Batch(lines) => lines.iter().map(|l| code(&l.result)).max().unwrap_or(0),
        }
    }

    /// The JSON to print: the response or error for one request, an array for a batch.
    pub fn to_json(&self) -> Value {
        match self {
            Handled::Single(Ok(v)) => v.clone(),
            Handled::Single(Err(e)) => e.to_json(),
            Handled::Batch(lines) => Value::Array(lines.iter().map(BatchLine::to_json).collect()),
        }
    }
}

/// Decides between one request and a batch: text that parses as one JSON value is one request;
/// otherwise each non-blank line is a request.
pub fn handle_input(text: &str) -> Handled {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let batch = match (stream.next(), stream.next()) {
        (Some(Ok(_)), None) => false,
        (Some(Ok(_)), Some(_)) => true,
        // Unparseable: a batch if its first line is a whole request by itself, otherwise one
        // malformed request (reported once, with its line and column).
        _ => {
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let first_whole = lines
                .next()
                .is_some_and(|l| serde_json::from_str::<Value>(l).is_ok());
            first_whole && lines.next().is_some()
        }
    };
    if batch {
        Handled::Batch(handle_batch(text))
    } else {
        Handled::Single(handle_json(text))
    }
}

/// [`handle_input`] for raw bytes, as read from a file or stdin. UTF-8 input is handled as
/// text. Otherwise each line stands alone: a batch (more than one non-blank line, one of them a
/// whole request) answers every line, a line that is not UTF-8 with its own `invalid_utf8`
/// error; anything else is one request, refused with the position of the first bad byte.
pub fn handle_input_bytes(bytes: &[u8]) -> Handled {
    let bad = match std::str::from_utf8(bytes) {
        Ok(text) => return handle_input(text),
        Err(e) => e,
    };
    // Lines as `str::lines` splits them: on \n, with one trailing \r dropped.
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    let lines = match lines.split_last() {
        Some((&[], rest)) => rest,
        _ => &lines[..],
    };
    let blank = |l: &[u8]| l.iter().all(u8::is_ascii_whitespace);
    let whole =
        |l: &[u8]| std::str::from_utf8(l).is_ok_and(|t| serde_json::from_str::<Value>(t).is_ok());
    let non_blank: Vec<&[u8]> = lines.iter().copied().filter(|l| !blank(l)).collect();
    if non_blank.len() > 1 && non_blank.iter().any(|l| whole(l)) {
        return Handled::Batch(
            lines
                .iter()
                .enumerate()
                .filter(|(_, l)| !blank(l))
                .map(|(i, l)| BatchLine {
                    line: i + 1,
                    result: match std::str::from_utf8(l) {
                        Ok(text) => handle_json(text),
                        Err(e) => Err(Error::NotUtf8 {
                            line: i + 1,
                            column: e.valid_up_to() + 1,
                        }),
                    },
                })
                .collect(),
        );
    }
    let at = bad.valid_up_to();
    let before = &bytes[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    Handled::Single(Err(Error::NotUtf8 {
        line,
        column: at - line_start + 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_name_the_field() {
        assert_eq!(field_path(".", "missing field `crop`"), "crop");
        assert_eq!(
            field_path("soil.soil_test", "missing field `mg_per_kg`"),
            "soil.soil_test.mg_per_kg"
        );
        assert_eq!(
            field_path("soil.soil_test.mgkg", "unknown field `mgkg`, expected ..."),
            "soil.soil_test.mgkg"
        );
        assert_eq!(
            field_path("products[1].analysis", "bad"),
            "products[1].analysis"
        );
    }

    #[test]
    fn input_detection() {
        let one = "{\n \"method\": \"target_yield\",\n \"yields_kg_per_mu\": [1, 2, 3]\n}";
        assert!(matches!(handle_input(one), Handled::Single(Ok(_))));
        let two =
            "{\"method\":\"target_yield\",\"yields_kg_per_mu\":[1,2,3]}\n\n{\"method\":\"x\"}\n";
        let Handled::Batch(lines) = handle_input(two) else {
            panic!("expected a batch")
        };
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].line, 3);
        assert!(lines[0].result.is_ok());
        assert_eq!(
            lines[1].result.as_ref().unwrap_err().field(),
            Some("method")
        );
        assert_eq!(handle_input(two).exit_code(), 2);
    }

    #[test]
    fn byte_input_detection() {
        // UTF-8 bytes are handled as the text
        let one = "{\"method\": \"target_yield\", \"yields_kg_per_mu\": [1, 2, 3]}";
        assert_eq!(handle_input_bytes(one.as_bytes()), handle_input(one));
        // a bad line among good ones, CRLF line ends and a blank line: its own error
        let batch = b"{\"method\":\"target_yield\",\"yields_kg_per_mu\":[1,2,3]}\r\n\r\n\xFF\xFE\r\n{\"method\":\"x\"}";
        let Handled::Batch(lines) = handle_input_bytes(batch) else {
            panic!("expected a batch")
        };
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), [1, 3, 4]);
        assert!(lines[0].result.is_ok());
        assert_eq!(lines[1].result, Err(Error::NotUtf8 { line: 3, column: 1 }));
        assert_eq!(
            lines[2].result.as_ref().unwrap_err().field(),
            Some("method")
        );
        assert_eq!(handle_input_bytes(batch).exit_code(), 2);
        // one bad request: where the first bad byte is
        assert_eq!(
            handle_input_bytes(b"{\n  \"a\xC3\": 1}"),
            Handled::Single(Err(Error::NotUtf8 { line: 2, column: 5 }))
        );
        let e = Error::NotUtf8 { line: 2, column: 5 }.to_json();
        assert_eq!(e["error"]["code"], "invalid_utf8");
        assert_eq!(e["error"]["column"], 5);
    }
}
