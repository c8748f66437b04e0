//! response_function.

use serde::{Deserialize, Serialize};

use super::Method;
use crate::error::{Error, Result};
use crate::explain::{Note, Step};
use crate::methods::response::{
    Clamp, NutrientPrice, Prices, Quadratic, ResponseInput, response_function, response_steps,
    round_fen,
};
use crate::units::{MU_PER_HA, Positive};

/// The area the curve's x and y refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaUnit {
    #[default]
    Mu,
    Ha,
}

impl AreaUnit {
    /// (per mu, per ha) of a per-area value.
    fn both(self, v: f64) -> (f64, f64) {
        match self {
            AreaUnit::Mu => (v, v * MU_PER_HA),
            AreaUnit::Ha => (v / MU_PER_HA, v),
        }
    }
}

/// y = a + b x + c x² from a field trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseFunctionRequest {
    pub a: f64,
    pub b: f64,
    /// Must be < 0.
    pub c: f64,
    /// kg of nutrient per unit of x: 1 (kg, default) or 0.5 (jin).
    #[serde(default)]
    pub x_unit_kg: Option<Positive>,
    /// kg of crop per unit of y: 1 (kg, default) or 0.5 (jin).
    #[serde(default)]
    pub y_unit_kg: Option<Positive>,
    /// Area basis of the curve: `mu` (default) or `ha`.
    #[serde(default)]
    pub area_unit: AreaUnit,
    /// The fertiliser price and its basis; with `crop_price_fen_per_kg`, gives the economic
    /// optimum and the profit.
    #[serde(default)]
    pub nutrient_price: Option<NutrientPrice>,
    #[serde(default)]
    pub crop_price_fen_per_kg: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EconomicOptimum {
    /// Price per kg of nutrient actually used (product price / content when priced per product).
    pub nutrient_price_fen_per_kg: f64,
    pub price_ratio: f64,
    pub x_eco: f64,
    pub x_eco_kg_per_mu: f64,
    pub x_eco_kg_per_ha: f64,
    pub y_eco: f64,
    pub clamp: Clamp,
    /// (y(x_eco) − y(0)) p_y − x_eco p_x, rounded to the fen.
    pub profit_fen_per_mu: i64,
    pub profit_fen_per_ha: i64,
    pub profit_at_x_max_fen_per_mu: i64,
    pub profit_at_x_max_fen_per_ha: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseFunctionResponse {
    pub area_unit: AreaUnit,
    /// In the curve's own units of x.
    pub x_max: f64,
    pub x_max_kg_per_mu: f64,
    pub x_max_kg_per_ha: f64,
    /// In the curve's own units of y.
    pub y_max: f64,
    pub y_max_kg_per_mu: f64,
    pub y_max_kg_per_ha: f64,
    pub y0: f64,
    pub economic: Option<EconomicOptimum>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

impl Method for ResponseFunctionRequest {
    type Response = ResponseFunctionResponse;
    fn run(&self) -> Result<ResponseFunctionResponse> {
        let prices = match (self.nutrient_price, self.crop_price_fen_per_kg) {
            (Some(nutrient), Some(crop)) => Some(Prices {
                nutrient,
                crop_fen_per_kg: crop,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::invalid(
                    "crop_price_fen_per_kg",
                    "needed with nutrient_price for the economic optimum",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "nutrient_price",
                    "needed with crop_price_fen_per_kg for the economic optimum",
                ));
            }
        };
        if let Some(NutrientPrice::PerKgNutrient { fen_per_kg })
        | Some(NutrientPrice::PerKgProduct { fen_per_kg, .. }) = self.nutrient_price
            && fen_per_kg < 0
        {
            return Err(Error::invalid(
                "nutrient_price.fen_per_kg",
                "a price cannot be negative",
            ));
        }
        let input = ResponseInput {
            curve: Quadratic::try_new(self.a, self.b, self.c)?,
            x_unit_kg: self.x_unit_kg.unwrap_or(Positive::new(1.0)),
            y_unit_kg: self.y_unit_kg.unwrap_or(Positive::new(1.0)),
            prices,
        };
        let out = response_function(&input).map_err(|e| match e {
            Error::Invalid { field, message } if field == "nutrient_pct" => Error::Invalid {
                field: "nutrient_price.per_kg_product.nutrient_pct".into(),
                message,
            },
            other => other,
        })?;
        let area = match self.area_unit {
            AreaUnit::Mu => "mu",
            AreaUnit::Ha => "ha",
        };
        let (steps, notes) = response_steps(&input, &out, area);
        let xu = input.x_unit_kg.value();
        let yu = input.y_unit_kg.value();
        let unit = self.area_unit;
        let (x_max_mu, x_max_ha) = unit.both(out.x_max * xu);
        let (y_max_mu, y_max_ha) = unit.both(out.y_max * yu);
        let economic = out.economic.map(|e| {
            let (x_mu, x_ha) = unit.both(e.x_eco * xu);
            let (p_mu, p_ha) = unit.both(e.profit_eco_fen);
            let (m_mu, m_ha) = unit.both(e.profit_max_fen);
            EconomicOptimum {
                nutrient_price_fen_per_kg: e.nutrient_fen_per_kg,
                price_ratio: e.price_ratio,
                x_eco: e.x_eco,
                x_eco_kg_per_mu: x_mu,
                x_eco_kg_per_ha: x_ha,
                y_eco: e.y_eco,
                clamp: e.clamp,
                profit_fen_per_mu: round_fen(p_mu),
                profit_fen_per_ha: round_fen(p_ha),
                profit_at_x_max_fen_per_mu: round_fen(m_mu),
                profit_at_x_max_fen_per_ha: round_fen(m_ha),
            }
        });
        Ok(ResponseFunctionResponse {
            area_unit: unit,
            x_max: out.x_max,
            x_max_kg_per_mu: x_max_mu,
            x_max_kg_per_ha: x_max_ha,
            y_max: out.y_max,
            y_max_kg_per_mu: y_max_mu,
            y_max_kg_per_ha: y_max_ha,
            y0: out.y0,
            economic,
            steps,
            notes,
        })
    }
}
