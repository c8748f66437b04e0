//! Pieces shared by several methods: crops, uptake and recovery defaults.

use serde::{Deserialize, Serialize};

use crate::data::{Crop, tables};
use crate::error::{Error, Result};
use crate::explain::{Note, num};
use crate::units::{Nutrient, RecoveryRate};

/// One optional value per nutrient, for overrides (`{"n": 0.3, "k2o": 0.4}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    default,
    bound(deserialize = "T: Deserialize<'de>")
)]
pub struct Npk<T> {
    pub n: Option<T>,
    pub p2o5: Option<T>,
    pub k2o: Option<T>,
}

// Manual: a derive would demand `T: Default`, but every field is an `Option`.
impl<T> Default for Npk<T> {
    fn default() -> Self {
        Npk {
            n: None,
            p2o5: None,
            k2o: None,
        }
    }
}

impl<T: Copy> Npk<T> {
    pub fn get(&self, nutrient: Nutrient) -> Option<T> {
        match nutrient {
            Nutrient::N => self.n,
            Nutrient::P2O5 => self.p2o5,
            Nutrient::K2O => self.k2o,
        }
    }
}

pub fn crop(field: &str, key: &str) -> Result<&'static Crop> {
    tables().crop(key).ok_or_else(|| {
        Error::invalid(
            field,
            format!(
                "unknown crop `{key}`; known: {} (or give the uptake explicitly)",
                tables().crop_keys().join(", ")
            ),
        )
    })
}

/// kg nutrient per kg yield: the request's value, or the crop table's per-100-kg value / 100.
pub fn uptake(
    crop: Option<&Crop>,
    nutrient: Nutrient,
    given: Option<f64>,
    field: &str,
) -> Result<f64> {
    match (given, crop) {
        (Some(u), _) => {
            if u.is_finite() && u >= 0.0 {
                Ok(u)
            } else {
                Err(Error::invalid(
                    field,
                    format!("must be a finite number >= 0, got {u}"),
                ))
            }
        }
        (None, Some(c)) => Ok(c.uptake_per_100kg(nutrient) / 100.0),
        (None, None) => Err(Error::invalid(
            field,
            "give the uptake per kg yield, or a crop to take it from the table",
        )),
    }
}

/// The request's recovery rate or the data default, with a note saying a default was used.
pub fn recovery(
    nutrient: Nutrient,
    given: Option<RecoveryRate>,
    notes: &mut Vec<Note>,
) -> RecoveryRate {
    match given {
        Some(r) => r,
        None => {
            let d = tables().defaults.recovery.get(nutrient);
            notes.push(Note::new(
                "default_recovery_rate",
                format!(
                    "未给出{}当季利用率，采用默认值 {}（教科书范围 {}-{} 的中值）",
                    nutrient.zh(),
                    num(d.default),
                    num(d.low),
                    num(d.high)
                ),
                format!(
                    "no {nutrient} recovery rate given: using {} (midpoint of the textbook {}-{})",
                    num(d.default),
                    num(d.low),
                    num(d.high)
                ),
            ));
            RecoveryRate::new(d.default)
        }
    }
}
