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

/// A number for a step: 4 decimals, or 6 significant digits when that shows more (so a
/// coefficient like 0.01663 or 9.72224 keeps every digit the pencil check needs); trailing zeros
/// dropped (`0.15`, `43.6957`, `300`).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (5 - magnitude).clamp(4, 12);
    let scale = 10f64.powi(decimals);
    // Round, then print the shortest representation: `{:.N}` takes the slow exact formatting
    // path (about 3x slower), and the steps print many numbers.
    let r = (x * scale).round() / scale;
    if r == 0.0 {
        // also turns -0 into 0
        return "0".to_string();
    }
    format!("{r}")
}

/// Like [`num`], with a negative number in parentheses for use inside a formula: `(-0.44)`.
pub fn term(x: f64) -> String {
    let s = num(x);
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
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
        assert_eq!(num(-0.0000000000001), "0");
        assert_eq!(num(-0.01663), "-0.01663");
        assert_eq!(num(9.72224), "9.72224");
        assert_eq!(num(4986.675), "4986.675");
        assert_eq!(num(0.025699999999999997), "0.0257");
        assert_eq!(num(292.3102826), "292.3103");
        assert_eq!(yuan(115000), "1150.00");
        assert_eq!(yuan(-5), "-0.05");
    }
}
