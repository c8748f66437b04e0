//! sequential_sizing and least_cost_basket.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Method;
use crate::basket::{
    BasketOptions, BasketOutcome, DEFAULT_EXACT_TOLERANCE_KG, DEFAULT_TIME_LIMIT, Mode,
    check_offers, check_options, least_cost_basket,
};
use crate::error::Result;
use crate::products::Offer;
use crate::sizing::{SizingOutcome, SizingProduct, sequential_sizing};
use crate::targets::{MassTargets, RateTargets};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialSizingRequest {
    pub targets_kg_per_mu: RateTargets,
    /// In order of preference: compounds are sized in this order, and the first straight
    /// fertiliser for a nutrient tops it up.
    pub products: Vec<SizingProduct>,
}

pub type SequentialSizingResponse = SizingOutcome;

impl Method for SequentialSizingRequest {
    type Response = SequentialSizingResponse;
    fn run(&self) -> Result<SizingOutcome> {
        Ok(sequential_sizing(&self.targets_kg_per_mu, &self.products))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeastCostBasketRequest {
    /// kg of N, P2O5 and K2O for the whole field.
    pub targets_kg: MassTargets,
    pub products: Vec<Offer>,
    /// `at_least` (default) or `exact`.
    #[serde(default)]
    pub mode: Mode,
    /// Whole bags (default true); false gives the continuous comparison.
    #[serde(default = "yes")]
    pub whole_bags: bool,
    #[serde(default)]
    pub max_oversupply_pct: Option<f64>,
    /// Exact mode: allowed excess per nutrient, kg (default 0.5).
    #[serde(default)]
    pub exact_tolerance_kg: Option<f64>,
    /// How long the whole-bag search may run, ms (default 2000, at most 60000). When it runs
    /// out the answer is the best basket found, with `proven_optimal: false`.
    #[serde(default)]
    pub time_limit_ms: Option<u64>,
}

/// A request's time limit in ms, or the default.
pub(crate) fn time_limit(ms: Option<u64>) -> Duration {
    ms.map_or(DEFAULT_TIME_LIMIT, Duration::from_millis)
}

pub(crate) fn yes() -> bool {
    true
}

pub type BasketResponse = BasketOutcome;

impl Method for LeastCostBasketRequest {
    type Response = BasketResponse;
    fn run(&self) -> Result<BasketOutcome> {
        check_offers("products", &self.products)?;
        let options = BasketOptions {
            mode: self.mode,
            whole_bags: self.whole_bags,
            max_oversupply_pct: self.max_oversupply_pct,
            exact_tolerance_kg: self
                .exact_tolerance_kg
                .unwrap_or(DEFAULT_EXACT_TOLERANCE_KG),
            time_limit: time_limit(self.time_limit_ms),
        };
        check_options("", &options)?;
        least_cost_basket(&self.targets_kg, &self.products, &options)
    }
}
