//! The agronomy input objects: crop plans, soil tests and recommendation parameters.

use super::*;

#[derive(InputObject)]
pub struct CropPlanInput {
    pub(crate) field_id: ID,
    /// Crop code or name (`RICE`, `水稻`).
    pub(crate) crop: String,
    /// e.g. `2027 中稻`.
    pub(crate) season: String,
    pub(crate) target_yield_kg_per_mu: Option<f64>,
    /// The last three years' yields, oldest first (the target is their mean x 1.10).
    pub(crate) past_yields_kg_per_mu: Option<Vec<f64>>,
    /// Yield of an unfertilised plot, to calibrate the soil supply.
    pub(crate) no_fertiliser_yield_kg_per_mu: Option<f64>,
    #[graphql(default)]
    pub(crate) previous_crop: String,
    #[graphql(default)]
    pub(crate) straw_returned: bool,
}

#[derive(InputObject)]
pub struct SoilTestInput {
    pub(crate) field_id: ID,
    pub(crate) sampled_on: NaiveDate,
    #[graphql(default = 0)]
    pub(crate) depth_from_cm: i32,
    #[graphql(default = 20)]
    pub(crate) depth_to_cm: i32,
    pub(crate) lab: String,
    pub(crate) lab_sample_id: String,
    pub(crate) ph: f64,
    pub(crate) buffer_ph: Option<f64>,
    pub(crate) organic_matter_g_kg: f64,
    pub(crate) alkali_n_mg_kg: f64,
    pub(crate) olsen_p_mg_kg: Option<f64>,
    #[graphql(name = "mehlich3PMgKg")]
    pub(crate) mehlich3_p_mg_kg: Option<f64>,
    pub(crate) available_k_mg_kg: f64,
    pub(crate) cec_cmol_kg: Option<f64>,
    pub(crate) ca_mg_kg: Option<f64>,
    pub(crate) mg_mg_kg: Option<f64>,
    pub(crate) s_mg_kg: Option<f64>,
    pub(crate) zn_mg_kg: Option<f64>,
    pub(crate) b_mg_kg: Option<f64>,
}

#[derive(InputObject, Default)]
pub struct RecommendationParamsInput {
    method: Option<MethodGql>,
    /// N, P2O5, K2O.
    correction_coefficients: Option<Vec<f64>>,
    recovery_rates: Option<Vec<f64>>,
    target_yield_kg_per_mu: Option<f64>,
    target_ph: Option<f64>,
    /// For MANUAL_RATES: kg N, P2O5, K2O per mu.
    rates_kg_per_mu: Option<Vec<f64>>,
    max_oversupply_pct: Option<f64>,
    /// How long the whole-bag search may run, ms (0 to 60000; default 2000). When it runs out
    /// the basket is the cheapest found in time, with `provenOptimal: false`.
    basket_time_limit_ms: Option<i32>,
}

fn triple(field: &str, v: Option<Vec<f64>>) -> domain::Result<Option<[f64; 3]>> {
    match v {
        None => Ok(None),
        Some(v) => <[f64; 3]>::try_from(v.as_slice()).map(Some).map_err(|_| {
            Error::invalid(
                field,
                domain::Code::InvalidFormat,
                "应为 3 个数（N、P2O5、K2O）",
                "must be 3 numbers (N, P2O5, K2O)",
            )
        }),
    }
}

impl RecommendationParamsInput {
    pub(crate) fn into_domain(self) -> domain::Result<Params> {
        Ok(Params {
            method: match self.method {
                Some(MethodGql::ManualRates) => Method::ManualRates,
                _ => Method::NutrientBalance,
            },
            correction_coefficients: triple(
                "params.correctionCoefficients",
                self.correction_coefficients,
            )?,
            recovery_rates: triple("params.recoveryRates", self.recovery_rates)?,
            target_yield_kg_per_mu: self.target_yield_kg_per_mu,
            target_ph: self.target_ph,
            rates_kg_per_mu: triple("params.ratesKgPerMu", self.rates_kg_per_mu)?,
            max_oversupply_pct: self.max_oversupply_pct,
            basket_time_limit_ms: self
                .basket_time_limit_ms
                .map(|ms| {
                    u64::try_from(ms).map_err(|_| {
                        Error::invalid(
                            "params.basketTimeLimitMs",
                            domain::Code::OutOfRange,
                            "整袋组合搜索的时间限制应在 0 到 60000 毫秒之间",
                            "the basket search time limit must be 0 to 60,000 ms",
                        )
                    })
                })
                .transpose()?,
        })
    }
}
