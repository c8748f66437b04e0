//! Explanations: each result carries the steps an agronomist can redo with a pencil.

use serde::{Deserialize, Serialize};

/// One step of a calculation: the formula, the formula with the numbers put in, the result with
/// its unit, and what the step means in zh-CN and en.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub formula: String,
    pub substituted: String,
    pub result: String,
    pub zh: String,
    pub en: String,
}

impl Step {
    pub fn new(
        formula: impl Into<String>,
        substituted: impl Into<String>,
        result: impl Into<String>,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Step {
            formula: formula.into(),
            substituted: substituted.into(),
            result: result.into(),
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Something the agronomist should know about a result (a clamp, a default used, a warning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl Note {
    pub fn new(code: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Note {
            code: code.into(),
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// A number for a step: at most 4 decimals, trailing zeros dropped (`0.15`, `43.6957`, `300`).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{x:.4}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

/// A money amount in fen as yuan with two decimals (`115000` -> `1150.00`).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_pencil_checks() {
        assert_eq!(num(0.15), "0.15");
        assert_eq!(num(43.695652), "43.6957");
        assert_eq!(num(300.0), "300");
        assert_eq!(num(-0.00001), "0");
        assert_eq!(yuan(115000), "1150.00");
        assert_eq!(yuan(-5), "-0.05");
    }
}
