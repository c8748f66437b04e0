//! Fertiliser response function (肥料效应函数法): y = a + b x + c x², c < 0.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::explain::{Note, Step, num, term, yuan};
use crate::units::{AnyNutrient, Content, Positive};

/// A fitted quadratic response curve. `c < 0` is enforced: with `c >= 0` the curve has no
/// maximum and neither optimum exists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quadratic {
    a: f64,
    b: f64,
    c: f64,
}

impl Quadratic {
    pub fn try_new(a: f64, b: f64, c: f64) -> Result<Self> {
        for (name, v) in [("a", a), ("b", b), ("c", c)] {
            if !v.is_finite() {
                return Err(Error::invalid(name, format!("must be finite, got {v}")));
            }
        }
        if c >= 0.0 {
            return Err(Error::invalid(
                "c",
                format!(
                    "must be < 0 (a curve with c >= 0 has no maximum, so neither optimum exists), got {c}"
                ),
            ));
        }
        Ok(Quadratic { a, b, c })
    }

    pub fn a(&self) -> f64 {
        self.a
    }
    pub fn b(&self) -> f64 {
        self.b
    }
    pub fn c(&self) -> f64 {
        self.c
    }

    pub fn at(&self, x: f64) -> f64 {
        self.a + self.b * x + self.c * x * x
    }

    fn text(&self) -> String {
        format!("{} + {}x − {}x²", num(self.a), num(self.b), num(-self.c))
    }
}

/// How the fertiliser price is quoted. The economic optimum needs the price of the *nutrient*;
/// a price per kg of product must be divided by the product's nutrient content first (using the
/// product price as if it were the nutrient price moves the optimum by 20-45 %, METHODS.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NutrientPrice {
    /// Price per kg of nutrient (N, P2O5 or K2O), in fen.
    PerKgNutrient { fen_per_kg: i64 },
    /// Price per kg of product, in fen, with the product's nutrient content in per cent.
    PerKgProduct { fen_per_kg: i64, nutrient_pct: f64 },
}

impl NutrientPrice {
    /// Fen per kg of nutrient.
    pub fn per_kg_nutrient(&self) -> Result<f64> {
        match *self {
            NutrientPrice::PerKgNutrient { fen_per_kg } => Ok(fen_per_kg as f64),
            NutrientPrice::PerKgProduct {
                fen_per_kg,
                nutrient_pct,
            } => {
                let c = Content::<AnyNutrient>::from_percent(nutrient_pct)
                    .map_err(|e| e.at("nutrient_pct"))?;
                if c.value() == 0.0 {
                    return Err(Error::invalid(
                        "nutrient_pct",
                        "must be > 0 to turn a product price into a nutrient price",
                    ));
                }
                Ok(fen_per_kg as f64 / c.value())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub nutrient: NutrientPrice,
    /// Crop price, fen per kg.
    pub crop_fen_per_kg: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseInput {
    pub curve: Quadratic,
    /// kg of nutrient per unit of x (1 for kg; 0.5 when the trial used jin).
    pub x_unit_kg: Positive,
    /// kg of crop per unit of y (1 for kg; 0.5 for jin).
    pub y_unit_kg: Positive,
    pub prices: Option<Prices>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clamp {
    None,
    ToZero,
    ToMax,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Economic {
    pub nutrient_fen_per_kg: f64,
    /// p_x / p_y in the curve's own units.
    pub price_ratio: f64,
    /// The unclamped optimum.
    pub x_eco_raw: f64,
    pub x_eco: f64,
    pub y_eco: f64,
    pub clamp: Clamp,
    /// Profit over the unfertilised plot at x_eco, fen per area unit (not rounded).
    pub profit_eco_fen: f64,
    /// Profit at x_max, fen per area unit (not rounded).
    pub profit_max_fen: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseOutcome {
    pub y0: f64,
    pub x_max: f64,
    pub y_max: f64,
    /// b <= 0: the curve never rises, x_max was clamped to 0.
    pub x_max_clamped: bool,
    pub economic: Option<Economic>,
}

pub fn response_function(input: &ResponseInput) -> Result<ResponseOutcome> {
    let q = input.curve;
    let raw_max = -q.b / (2.0 * q.c);
    let x_max = raw_max.max(0.0);
    let y0 = q.at(0.0);
    let economic = match input.prices {
        None => None,
        Some(prices) => {
            if prices.crop_fen_per_kg <= 0 {
                return Err(Error::invalid(
                    "crop_price_fen_per_kg",
                    "must be > 0 (the optimum divides by the crop price)",
                ));
            }
            let px = prices.nutrient.per_kg_nutrient()?;
            if px < 0.0 {
                return Err(Error::invalid("nutrient_price", "price must be >= 0"));
            }
            let py = prices.crop_fen_per_kg as f64;
            let ratio = px * input.x_unit_kg.value() / (py * input.y_unit_kg.value());
            let x_eco_raw = (ratio - q.b) / (2.0 * q.c);
            let (x_eco, clamp) = if x_eco_raw < 0.0 {
                (0.0, Clamp::ToZero)
            } else if x_eco_raw > x_max {
                (x_max, Clamp::ToMax)
            } else {
                (x_eco_raw, Clamp::None)
            };
            let profit = |x: f64| {
                (q.at(x) - y0) * input.y_unit_kg.value() * py - x * input.x_unit_kg.value() * px
            };
            Some(Economic {
                nutrient_fen_per_kg: px,
                price_ratio: ratio,
                x_eco_raw,
                x_eco,
                y_eco: q.at(x_eco),
                clamp,
                profit_eco_fen: profit(x_eco),
                profit_max_fen: profit(x_max),
            })
        }
    };
    Ok(ResponseOutcome {
        y0,
        x_max,
        y_max: q.at(x_max),
        x_max_clamped: raw_max < 0.0,
        economic,
    })
}

/// Rounds an amount of fen computed in floating point to whole fen for reporting.
pub fn round_fen(fen: f64) -> i64 {
    fen.round() as i64
}

/// `area` names the curve's area basis in the profit steps (`mu`, `ha`).
pub fn response_steps(
    input: &ResponseInput,
    out: &ResponseOutcome,
    area: &str,
) -> (Vec<Step>, Vec<Note>) {
    let q = input.curve;
    let xu = input.x_unit_kg.value();
    let mut steps = vec![
        Step::new(
            "x_max = −b / (2c)",
            format!("−{} / (2 × {})", term(q.b), term(q.c)),
            format!(
                "{} (x units) = {} kg nutrient",
                num(out.x_max),
                num(out.x_max * xu)
            ),
            "最高产量施肥量",
            "rate for the maximum yield",
        ),
        Step::new(
            "y_max = a + b·x_max + c·x_max²",
            format!(
                "{} + {} × {} + {} × {}²",
                num(q.a),
                term(q.b),
                num(out.x_max),
                term(q.c),
                num(out.x_max)
            ),
            format!("{} (y units)", num(out.y_max)),
            format!("最高产量（y = {}）", q.text()),
            format!("maximum yield (y = {})", q.text()),
        ),
    ];
    let mut notes = Vec::new();
    if out.x_max_clamped {
        notes.push(Note::new(
            "no_response",
            "b ≤ 0：施肥不增产，最高产量施肥量取 0",
            "b <= 0: the crop does not respond, x_max is set to 0",
        ));
    }
    if let (Some(e), Some(prices)) = (out.economic, input.prices) {
        if let NutrientPrice::PerKgProduct {
            fen_per_kg,
            nutrient_pct,
        } = prices.nutrient
        {
            steps.push(Step::new(
                "p_x (per kg nutrient) = price per kg product / nutrient content",
                format!("{} / {}", num(fen_per_kg as f64), num(nutrient_pct / 100.0)),
                format!("{} fen/kg nutrient", num(e.nutrient_fen_per_kg)),
                "肥料实物价格换算为养分价格",
                "product price converted to a nutrient price",
            ));
        }
        steps.push(Step::new(
            "price ratio = (p_x × kg per x unit) / (p_y × kg per y unit)",
            format!(
                "({} × {}) / ({} × {})",
                num(e.nutrient_fen_per_kg),
                num(xu),
                num(prices.crop_fen_per_kg as f64),
                num(input.y_unit_kg.value())
            ),
            num(e.price_ratio),
            "肥料与产品价格比",
            "fertiliser to crop price ratio",
        ));
        steps.push(Step::new(
            "x_eco = (p_x/p_y − b) / (2c), clamped to [0, x_max]",
            format!(
                "({} − {}) / (2 × {})",
                num(e.price_ratio),
                term(q.b),
                term(q.c)
            ),
            format!(
                "{} (x units) = {} kg nutrient",
                num(e.x_eco),
                num(e.x_eco * xu)
            ),
            "经济最佳施肥量",
            "economic optimum rate",
        ));
        let yu = input.y_unit_kg.value();
        steps.push(Step::new(
            "profit = (y(x) − y(0)) × p_y − x × p_x",
            format!(
                "({} − {}) × {} × {} − {} × {} × {}",
                num(e.y_eco),
                num(out.y0),
                num(yu),
                num(prices.crop_fen_per_kg as f64),
                num(e.x_eco),
                num(xu),
                num(e.nutrient_fen_per_kg)
            ),
            format!("{} yuan/{area} at x_eco", yuan(round_fen(e.profit_eco_fen))),
            "经济最佳施肥量下的施肥利润",
            "profit of fertilising at the economic optimum",
        ));
        steps.push(Step::new(
            "profit at x_max = (y_max − y(0)) × p_y − x_max × p_x",
            format!(
                "({} − {}) × {} × {} − {} × {} × {}",
                num(out.y_max),
                num(out.y0),
                num(yu),
                num(prices.crop_fen_per_kg as f64),
                num(out.x_max),
                num(xu),
                num(e.nutrient_fen_per_kg)
            ),
            format!("{} yuan/{area} at x_max", yuan(round_fen(e.profit_max_fen))),
            "最高产量施肥量下的施肥利润",
            "profit of fertilising for the maximum yield",
        ));
        match e.clamp {
            Clamp::ToZero => notes.push(Note::new(
                "optimum_clamped_to_zero",
                format!(
                    "按此价格施肥不合算（未截断的最佳值 {} < 0），经济最佳施肥量取 0",
                    num(e.x_eco_raw)
                ),
                format!(
                    "fertiliser does not pay at these prices (unclamped optimum {} < 0): the economic rate is 0",
                    num(e.x_eco_raw)
                ),
            )),
            Clamp::ToMax => notes.push(Note::new(
                "optimum_clamped_to_max",
                "经济最佳施肥量超过最高产量施肥量，取 x_max",
                "the economic optimum exceeds x_max and is set to x_max",
            )),
            Clamp::None => {}
        }
    }
    (steps, notes)
}
