//! Nutrient targets: per area (for sizing) and for a whole field (for the basket).

use serde::{Deserialize, Serialize};

use crate::units::{K2O, Kg, KgPerMu, Mu, N, Nutrient, P2O5};

/// N, P2O5 and K2O to apply, kg per mu. A nutrient left out of the JSON is 0.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateTargets {
    pub n: KgPerMu<N>,
    pub p2o5: KgPerMu<P2O5>,
    pub k2o: KgPerMu<K2O>,
}

impl RateTargets {
    /// kg/mu in the order N, P2O5, K2O.
    pub fn values(&self) -> [f64; 3] {
        [self.n.value(), self.p2o5.value(), self.k2o.value()]
    }

    pub fn get(&self, nutrient: Nutrient) -> f64 {
        self.values()[nutrient.index()]
    }

    /// The whole field's need.
    pub fn over(&self, area: Mu) -> MassTargets {
        MassTargets {
            n: self.n * area,
            p2o5: self.p2o5 * area,
            k2o: self.k2o * area,
        }
    }
}

/// N, P2O5 and K2O for a whole field, kg. A nutrient left out of the JSON is 0.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MassTargets {
    pub n: Kg<N>,
    pub p2o5: Kg<P2O5>,
    pub k2o: Kg<K2O>,
}

impl MassTargets {
    /// kg in the order N, P2O5, K2O.
    pub fn values(&self) -> [f64; 3] {
        [self.n.value(), self.p2o5.value(), self.k2o.value()]
    }
}

/// Supplied against target for one nutrient, as reported by sizing and the basket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NutrientLine {
    pub nutrient: Nutrient,
    pub target: f64,
    pub supplied: f64,
    /// supplied − target (negative = short).
    pub balance: f64,
}

pub fn nutrient_lines(targets: [f64; 3], supplied: [f64; 3]) -> Vec<NutrientLine> {
    Nutrient::ALL
        .iter()
        .map(|&n| {
            let i = n.index();
            NutrientLine {
                nutrient: n,
                target: targets[i],
                supplied: supplied[i],
                balance: supplied[i] - targets[i],
            }
        })
        .collect()
}
