//! A fertiliser's N-P2O5-K2O analysis and its compound grade (GB/T 15063).

use std::fmt;

use super::err;
use crate::error::{Code, FieldError};

/// Compound fertiliser concentration grade (GB/T 15063-2020): total N+P2O5+K2O >= 40 % high,
/// >= 30 % medium, >= 25 % low.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompoundGrade {
    High,
    Medium,
    Low,
    BelowStandard,
}

/// An N-P2O5-K2O analysis in percent (`15-15-15`). Each declared nutrient is at least 4.0 %
/// (GB 18382 / GB/T 15063); secondary and trace elements are not part of the total.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Analysis {
    pub n: f64,
    pub p2o5: f64,
    pub k2o: f64,
}

impl Analysis {
    pub fn new(
        field: &str,
        n: f64,
        p2o5: f64,
        k2o: f64,
    ) -> std::result::Result<Self, Vec<FieldError>> {
        Self::checked(field, n, p2o5, k2o, true)
    }

    /// As [`Analysis::new`]; `per_nutrient_minimum` is false for organic and microbial products,
    /// whose standards (NY/T 525, GB 20287) limit the total instead of each nutrient.
    pub fn checked(
        field: &str,
        n: f64,
        p2o5: f64,
        k2o: f64,
        per_nutrient_minimum: bool,
    ) -> std::result::Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        for (name, v) in [("nPct", n), ("p2o5Pct", p2o5), ("k2oPct", k2o)] {
            let f = format!("{field}.{name}");
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                errs.push(err(
                    &f,
                    Code::OutOfRange,
                    "养分含量应在 0 到 100% 之间",
                    "nutrient content must be between 0 and 100 %",
                ));
            } else if per_nutrient_minimum && v > 0.0 && v < 4.0 {
                errs.push(err(
                    &f,
                    Code::NutrientBelowMinimum,
                    "标明的单一养分含量不得低于 4.0%（GB/T 15063）",
                    "each declared nutrient must be at least 4.0 % (GB/T 15063)",
                ));
            }
        }
        if errs.is_empty() && n + p2o5 + k2o > 100.0 {
            errs.push(err(
                field,
                Code::InvalidAnalysis,
                "总养分不能超过 100%",
                "total nutrients cannot exceed 100 %",
            ));
        }
        if errs.is_empty() && per_nutrient_minimum && n + p2o5 + k2o == 0.0 {
            errs.push(err(
                field,
                Code::InvalidAnalysis,
                "至少应标明一种大量元素养分",
                "at least one of N, P2O5, K2O must be declared",
            ));
        }
        if errs.is_empty() {
            Ok(Analysis { n, p2o5, k2o })
        } else {
            Err(errs)
        }
    }

    /// Parses `15-15-15` (also with `:`/`／` separators a keyboard might give).
    pub fn parse(field: &str, s: &str) -> std::result::Result<Self, Vec<FieldError>> {
        let parts: Vec<&str> = s
            .trim()
            .split(['-', ':', '／', '/'])
            .map(str::trim)
            .collect();
        let nums: Option<Vec<f64>> = parts.iter().map(|p| p.parse::<f64>().ok()).collect();
        match nums.as_deref() {
            Some([n, p, k]) => Self::new(field, *n, *p, *k),
            _ => Err(vec![err(
                field,
                Code::InvalidAnalysis,
                "养分标识应为 N-P2O5-K2O，如 15-15-15",
                "analysis must be N-P2O5-K2O, e.g. 15-15-15",
            )]),
        }
    }

    pub fn total(&self) -> f64 {
        self.n + self.p2o5 + self.k2o
    }

    pub fn declared_count(&self) -> usize {
        [self.n, self.p2o5, self.k2o]
            .iter()
            .filter(|v| **v > 0.0)
            .count()
    }

    pub fn compound_grade(&self) -> Option<CompoundGrade> {
        if self.declared_count() < 2 {
            return None;
        }
        let t = self.total();
        Some(if t >= 40.0 {
            CompoundGrade::High
        } else if t >= 30.0 {
            CompoundGrade::Medium
        } else if t >= 25.0 {
            CompoundGrade::Low
        } else {
            CompoundGrade::BelowStandard
        })
    }
}

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: f64| {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v}")
            }
        };
        write!(f, "{}-{}-{}", show(self.n), show(self.p2o5), show(self.k2o))
    }
}
