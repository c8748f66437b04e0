//! Fertiliser products: the N-P2O5-K2O analysis and what is in a bag.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::units::{Content, K2O, Kg, N, Nutrient, P2O5, Product};

/// A label analysis `N-P2O5-K2O` in per cent, e.g. `15-15-15`, `46-0-0`, `18-46-0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Analysis {
    pub n: Content<N>,
    pub p2o5: Content<P2O5>,
    pub k2o: Content<K2O>,
}

impl Analysis {
    /// Parses `15-15-15` (decimals allowed: `13.5-0-46`). The three grades must be numbers in
    /// 0..=100 that add up to at most 100 and not all zero.
    pub fn parse(text: &str) -> Result<Self> {
        let err = |reason| Error::Analysis {
            text: text.to_string(),
            reason,
        };
        let parts: Vec<&str> = text.trim().split('-').collect();
        if parts.len() != 3 {
            return Err(err("expected three grades N-P2O5-K2O, e.g. 15-15-15"));
        }
        let mut pct = [0.0; 3];
        for (slot, part) in pct.iter_mut().zip(&parts) {
            let v: f64 = part
                .trim()
                .parse()
                .map_err(|_| err("each grade must be a number"))?;
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return Err(err("each grade must be between 0 and 100"));
            }
            *slot = v;
        }
        if pct.iter().sum::<f64>() > 100.0 {
            return Err(err("the grades add up to more than 100 %"));
        }
        if pct.iter().all(|v| *v == 0.0) {
            return Err(err("a fertiliser needs at least one non-zero grade"));
        }
        Ok(Analysis {
            n: Content::from_percent(pct[0])?,
            p2o5: Content::from_percent(pct[1])?,
            k2o: Content::from_percent(pct[2])?,
        })
    }

    /// Fractions in the order N, P2O5, K2O.
    pub fn fractions(&self) -> [f64; 3] {
        [self.n.value(), self.p2o5.value(), self.k2o.value()]
    }

    pub fn fraction(&self, nutrient: Nutrient) -> f64 {
        self.fractions()[nutrient.index()]
    }

    /// Contains more than one of N, P2O5, K2O.
    pub fn is_compound(&self) -> bool {
        self.fractions().iter().filter(|f| **f > 0.0).count() > 1
    }
}

impl FromStr for Analysis {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Analysis::parse(s)
    }
}

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [n, p, k] = self.fractions().map(|x| crate::explain::num(x * 100.0));
        write!(f, "{n}-{p}-{k}")
    }
}

impl Serialize for Analysis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Analysis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Analysis::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A product on offer: bag size, price per bag in fen, and how many bags are in stock.
/// (`units::Product` is the marker for "kg of product"; this is the offer of one product.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub name: String,
    pub analysis: Analysis,
    pub bag_kg: Kg<Product>,
    /// Price of one bag in fen (分). Money is never a float.
    pub price_fen_per_bag: i64,
    /// Bags available; `None` means as many as needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_bags: Option<u32>,
}

impl Offer {
    /// kg of each nutrient in one bag (N, P2O5, K2O).
    pub fn nutrient_per_bag(&self) -> [f64; 3] {
        self.analysis.fractions().map(|f| f * self.bag_kg.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_analyses() {
        let a = Analysis::parse("18-46-0").unwrap();
        assert_eq!(a.fractions(), [0.18, 0.46, 0.0]);
        assert!(a.is_compound());
        assert!(!Analysis::parse("46-0-0").unwrap().is_compound());
        assert_eq!(
            Analysis::parse("13.5-0-46").unwrap().to_string(),
            "13.5-0-46"
        );
        for bad in ["15-15", "a-0-0", "60-60-0", "0-0-0", "-1-0-0", "15-15-15-5"] {
            assert!(Analysis::parse(bad).is_err(), "{bad}");
        }
    }
}
