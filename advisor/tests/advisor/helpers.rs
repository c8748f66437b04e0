//! Small helpers shared by the integration tests.

use serde_json::Value;

/// Runs a JSON request and panics with the error if it fails.
pub fn run(request: Value) -> Value {
    match advisor::handle_json(&request.to_string()) {
        Ok(v) => v,
        Err(e) => panic!("request failed: {e}\n{request:#}"),
    }
}

/// A number at a JSON pointer.
pub fn num(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {v:#}"))
}

#[track_caller]
pub fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "expected {expected} ± {tol}, got {actual}"
    );
}
