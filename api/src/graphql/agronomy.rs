//! 测土配方施肥 in the API: crop plans, soil tests (and lab CSV import), recommendation drafts,
//! the agronomist's review queue, publishing, the farmer's view, basket-to-cart, and regional
//! formulas.

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::agronomy::{self, Method, Params};
use domain::entities::{crop_plan, recommendation, regional_formula, soil_test};
use domain::{Error, FieldError, Lang};
use serde_json::Value;

#[allow(unused_imports)]
use super::enums::*;
use super::errors::{ApiResult, PayloadError, payload, to_gql};
use super::loaders::{CropPlanKey, FieldKey, SoilTestKey, UserKey, one, prefetch};
use super::orders::Field;
use super::stock::{CsvErrorPolicy, CsvRowError, csv_policy, publish_ok};
use super::{actor, db, gid, lang, parse_gid, parse_gid_opt, pick};

mod county;
mod inputs;
mod mutation;
mod query;
mod types;

pub use county::*;
pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use types::*;
