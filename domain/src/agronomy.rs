//! 测土配方施肥: crop plans, soil tests (entered or imported from a lab's CSV), draft
//! recommendations computed by the advisor with a least-cost basket of real, in-stock offers
//! from the dealers serving the field, the agronomist's review (edit, publish signed, reject),
//! the farmer's view and "basket to cart", and regional formulas for a county.
//!
//! Parts: `county_fields` (the county's fields, tests, plans and advice at a glance);
//! `crop_plans`; `soil_tests` (entered by hand); `soil_csv` (a lab's CSV import);
//! `soil_csv_check` (the same file checked, nothing written); `advisor_input` (stored rows as
//! the advisor's typed values, the check of a draft's parameters, the advisor's errors named by
//! API field); `drafts` (the candidate offers, computing a draft and its basket, creating one);
//! `county_params` (a county's parameters and settings, and where each value of a draft comes
//! from); `review` (edit, approve, publish, reject, revise, the agronomist's queue); `farmer_view` (what the
//! farmer sees, basket to cart); `regional_formulas` (a county's clustered formulas and the
//! products made from them). This file holds who may work on a field
//! and the recommendation's method, parameters and basket that all of them share.

mod advisor_input;
mod county_fields;
mod county_params;
mod crop_plans;
mod drafts;
mod farmer_view;
mod regional_formulas;
mod review;
mod soil_csv;
mod soil_csv_check;
mod soil_tests;

pub use advisor_input::*;
pub use county_fields::*;
pub use county_params::*;
pub use crop_plans::*;
pub use drafts::*;
pub use farmer_view::*;
pub use regional_formulas::*;
pub use review::*;
pub use soil_csv::*;
pub use soil_csv_check::*;
pub use soil_tests::*;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::accounts::{Actor, Role};
use crate::entities::{
    app_user, cart_line, crop_plan, dealer_service_area, fertiliser_spec, field, offer, product,
    recommendation, region, regional_formula, sku, soil_test,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::events::DomainEvent;
use crate::stock::{CsvPolicy, RowError};
use crate::{orders, regions, types};
use advisor::units::{Kg, KgPerMu, MgPerKg, Ph, Positive, RecoveryRate, Yield};

/// The advisor's crop key for a catalog crop code (advisor/data/crops.toml), when the advisor
/// can plan the crop.
pub fn advisor_crop(code: &str) -> Option<&'static str> {
    crate::catalog::crops::advisor_key(code)
}

/// A field the actor may work on: the farmer's own, an agronomist's county, or any for admins.
/// Anything else is "not found": the existence of someone's field is private too.
pub async fn field_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    field_id: i64,
) -> Result<field::Model> {
    crate::fields::get(db, actor, field_id).await
}

fn require_agronomist(actor: &Actor) -> Result<()> {
    actor.require(matches!(actor.role, Role::Agronomist | Role::Admin))
}

pub use crate::types::{FormulaStatus, Method, RecommendationStatus};

/// What an agronomist can set on a draft. Anything left out takes the advisor's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Params {
    #[serde(default)]
    pub method: Method,
    /// N, P2O5, K2O.
    pub correction_coefficients: Option<[f64; 3]>,
    pub recovery_rates: Option<[f64; 3]>,
    pub target_yield_kg_per_mu: Option<f64>,
    pub target_ph: Option<f64>,
    /// For MANUAL_RATES: kg of N, P2O5, K2O per mu.
    pub rates_kg_per_mu: Option<[f64; 3]>,
    /// Over-supply cap for the basket, per cent.
    pub max_oversupply_pct: Option<f64>,
    /// How long the whole-bag search may run, ms (the advisor's default, 2 s, when absent).
    /// When it runs out the draft gets the best basket found, marked as not proven optimal.
    #[serde(default)]
    pub basket_time_limit_ms: Option<u64>,
}

/// One line of a priced basket: an offer and whole bags of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BasketLine {
    pub offer_id: i64,
    pub dealer_id: i64,
    pub sku_id: i64,
    pub product_id: i64,
    pub product_zh: String,
    pub product_en: String,
    pub analysis: String,
    pub bag_kg: f64,
    pub bags: i64,
    pub price_fen_per_bag: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Basket {
    pub feasible: bool,
    pub lines: Vec<BasketLine>,
    pub cost_fen: i64,
    /// Nutrients the stock at hand cannot supply (when not feasible).
    pub shortfalls: Vec<String>,
    /// False when the whole-bag search hit its time limit: the basket is the cheapest found in
    /// time, not proven the cheapest. (Baskets stored before the limit existed were solved to
    /// the end, hence the default.)
    #[serde(default = "proven_by_default")]
    pub proven_optimal: bool,
}

fn proven_by_default() -> bool {
    true
}
