//! recommend: soil test + crop plan + products on hand -> N/P2O5/K2O rates, soil grades, lime
//! and the least-cost whole-bag basket for the field.

use serde::{Deserialize, Serialize};

use super::Method;
use super::balance::{TargetYieldResponse, legume_factor, run_target_yield};
use super::basket::{time_limit, yes};
use super::common::{Npk, crop, recovery, uptake};
use super::soil::{ClassifyChinaResponse, classify_china, run_lime};
use crate::basket::{
    BasketOptions, BasketOutcome, DEFAULT_EXACT_TOLERANCE_KG, Mode, check_offers, check_options,
    least_cost_basket,
};
use crate::data::Crop;
use crate::error::{Error, Result};
use crate::explain::{Note, Step, num};
use crate::methods::balance::{BalanceInput, SoilSupply, balance_steps, nutrient_balance};
use crate::methods::lime::LimeInput;
use crate::products::Offer;
use crate::targets::RateTargets;
use crate::units::{
    AnyNutrient, FertiliserNutrient, K, K2O, Kg, KgPerHa, KgPerMu, Lime, MgPerKg, Mu, N, P, P2O5,
    Ph, Positive, RecoveryRate, Share, Uptake, UsTonPerAcre, Yield,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendSoil {
    pub alkali_n_mg_per_kg: MgPerKg<N>,
    /// Olsen P as P.
    pub olsen_p_mg_per_kg: MgPerKg<P>,
    /// Available K as K.
    pub available_k_mg_per_kg: MgPerKg<K>,
    #[serde(default)]
    pub ph: Option<Ph>,
    /// Mehlich buffer pH, for the lime requirement.
    #[serde(default)]
    pub buffer_ph: Option<Ph>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketSettings {
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "yes")]
    pub whole_bags: bool,
    #[serde(default)]
    pub max_oversupply_pct: Option<f64>,
    #[serde(default)]
    pub exact_tolerance_kg: Option<f64>,
    /// How long the whole-bag search may run, ms (default 2000, at most 60000).
    #[serde(default)]
    pub time_limit_ms: Option<u64>,
}

impl Default for BasketSettings {
    fn default() -> Self {
        BasketSettings {
            mode: Mode::AtLeast,
            whole_bags: true,
            max_oversupply_pct: None,
            exact_tolerance_kg: None,
            time_limit_ms: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendRequest {
    pub crop: String,
    pub area_mu: Positive,
    /// Either the target yield, or the past yields (oldest first) to derive it from.
    #[serde(default)]
    pub target_yield_kg_per_mu: Option<KgPerMu<Yield>>,
    #[serde(default)]
    pub past_yields_kg_per_mu: Option<Vec<KgPerMu<Yield>>>,
    #[serde(default)]
    pub target_yield_factor: Option<Positive>,
    pub soil: RecommendSoil,
    /// Per nutrient; a nutrient without one is calibrated from `no_fertiliser_yield_kg_per_mu`.
    #[serde(default)]
    pub correction_coefficients: Npk<Positive>,
    #[serde(default)]
    pub no_fertiliser_yield_kg_per_mu: Option<KgPerMu<Yield>>,
    #[serde(default)]
    pub recovery_rates: Npk<RecoveryRate>,
    #[serde(default)]
    pub uptake_kg_per_kg_yield: Npk<f64>,
    #[serde(default)]
    pub legume_n_factor: Option<Share>,
    /// With `soil.ph` and `soil.buffer_ph`, gives the lime requirement.
    #[serde(default)]
    pub target_ph: Option<Ph>,
    #[serde(default)]
    pub residual_lime_credit_t_per_acre: Option<UsTonPerAcre<Lime>>,
    pub products: Vec<Offer>,
    #[serde(default)]
    pub basket: BasketSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NutrientRate {
    pub nutrient: crate::units::Nutrient,
    pub crop_need_kg_per_mu: KgPerMu<AnyNutrient>,
    pub soil_supply_kg_per_mu: KgPerMu<AnyNutrient>,
    pub correction_coefficient: Option<f64>,
    pub recovery_rate: f64,
    pub soil_supplies_enough: bool,
    pub nutrient_kg_per_mu: KgPerMu<AnyNutrient>,
    pub nutrient_kg_per_ha: KgPerHa<AnyNutrient>,
    pub field_kg: Kg<AnyNutrient>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecommendLime {
    pub t_per_acre: UsTonPerAcre<Lime>,
    pub kg_per_ha: KgPerHa<Lime>,
    pub kg_per_mu: KgPerMu<Lime>,
    pub field_kg: Kg<Lime>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecommendResponse {
    pub crop: String,
    pub area_mu: f64,
    pub target_yield_kg_per_mu: KgPerMu<Yield>,
    /// When derived from past yields.
    pub target_yield: Option<TargetYieldResponse>,
    pub rates: Vec<NutrientRate>,
    /// The same rates, kg/mu, typed per nutrient for Rust callers (the JSON has `rates`).
    #[serde(skip)]
    pub rates_kg_per_mu: RateTargets,
    pub classes: ClassifyChinaResponse,
    pub lime: Option<RecommendLime>,
    /// For the whole field.
    pub basket: BasketOutcome,
    /// Field totals: kg/mu × area.
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

struct Ctx<'a> {
    req: &'a RecommendRequest,
    crop: &'a Crop,
    target: KgPerMu<Yield>,
    area: Mu,
}

impl Ctx<'_> {
    fn rate<F: FertiliserNutrient>(
        &self,
        test: MgPerKg<F::SoilForm>,
    ) -> Result<(NutrientRate, KgPerMu<F>)> {
        let n = F::KIND;
        let key = n.key();
        let mut notes = Vec::new();
        let soil = match (
            self.req.correction_coefficients.get(n),
            self.req.no_fertiliser_yield_kg_per_mu,
        ) {
            (Some(c), _) => SoilSupply::SoilTest {
                test,
                correction: c,
            },
            (None, Some(y)) => SoilSupply::Calibrated {
                test,
                no_fertiliser_yield: y,
            },
            (None, None) => {
                return Err(Error::invalid(
                    format!("correction_coefficients.{key}"),
                    "give the correction coefficient, or no_fertiliser_yield_kg_per_mu to calibrate it",
                ));
            }
        };
        let input = BalanceInput::<F> {
            target_yield: self.target,
            uptake: Uptake::per_kg(uptake(
                Some(self.crop),
                n,
                self.req.uptake_kg_per_kg_yield.get(n),
                &format!("uptake_kg_per_kg_yield.{key}"),
            )?),
            soil,
            recovery: recovery(n, self.req.recovery_rates.get(n), &mut notes),
            legume_factor: legume_factor(
                n,
                Some(self.crop),
                if n == crate::units::Nutrient::N {
                    self.req.legume_n_factor
                } else {
                    None
                },
                "legume_n_factor",
                &mut notes,
            )?,
            content: None,
        };
        let out = nutrient_balance(&input);
        let (steps, more) = balance_steps(&input, &out);
        notes.extend(more);
        Ok((
            NutrientRate {
                nutrient: n,
                crop_need_kg_per_mu: out.crop_need.erase(),
                soil_supply_kg_per_mu: out.soil_supply.erase(),
                correction_coefficient: out.correction,
                recovery_rate: input.recovery.value(),
                soil_supplies_enough: out.soil_sufficient(),
                nutrient_kg_per_mu: out.nutrient.erase(),
                nutrient_kg_per_ha: out.nutrient.to_kg_per_ha().erase(),
                field_kg: (out.nutrient * self.area).erase(),
                steps,
                notes,
            },
            out.nutrient,
        ))
    }
}

impl Method for RecommendRequest {
    type Response = RecommendResponse;
    fn run(&self) -> Result<RecommendResponse> {
        let crop = crop("crop", &self.crop)?;
        let area = Mu::new(self.area_mu.value());
        let (target, target_yield) =
            match (&self.target_yield_kg_per_mu, &self.past_yields_kg_per_mu) {
                (Some(t), None) => (*t, None),
                (None, Some(past)) => {
                    let ty =
                        run_target_yield(past, self.target_yield_factor, "past_yields_kg_per_mu")?;
                    (ty.target_yield_kg_per_mu, Some(ty))
                }
                _ => {
                    return Err(Error::invalid(
                        "target_yield_kg_per_mu",
                        "give exactly one of target_yield_kg_per_mu or past_yields_kg_per_mu",
                    ));
                }
            };
        if self.target_yield_factor.is_some() && self.past_yields_kg_per_mu.is_none() {
            return Err(Error::invalid(
                "target_yield_factor",
                "only used with past_yields_kg_per_mu",
            ));
        }
        check_offers("products", &self.products)?;
        let options = BasketOptions {
            mode: self.basket.mode,
            whole_bags: self.basket.whole_bags,
            max_oversupply_pct: self.basket.max_oversupply_pct,
            exact_tolerance_kg: self
                .basket
                .exact_tolerance_kg
                .unwrap_or(DEFAULT_EXACT_TOLERANCE_KG),
            time_limit: time_limit(self.basket.time_limit_ms),
        };
        check_options("basket.", &options)?;

        let ctx = Ctx {
            req: self,
            crop,
            target,
            area,
        };
        let (rn, n) = ctx.rate::<N>(self.soil.alkali_n_mg_per_kg)?;
        let (rp, p) = ctx.rate::<P2O5>(self.soil.olsen_p_mg_per_kg)?;
        let (rk, k) = ctx.rate::<K2O>(self.soil.available_k_mg_per_kg)?;
        let rates_per_mu = RateTargets { n, p2o5: p, k2o: k };
        let totals = rates_per_mu.over(area);

        let classes = classify_china(
            Some(self.soil.alkali_n_mg_per_kg),
            Some(self.soil.olsen_p_mg_per_kg),
            Some(self.soil.available_k_mg_per_kg),
            None,
            "soil.",
        )?;

        let lime = match self.target_ph {
            None => None,
            Some(target_ph) => {
                let current = self.soil.ph.ok_or_else(|| {
                    Error::invalid(
                        "soil.ph",
                        "the lime requirement (target_ph) needs the soil pH",
                    )
                })?;
                let buffer = self.soil.buffer_ph.ok_or_else(|| {
                    Error::invalid(
                        "soil.buffer_ph",
                        "the lime requirement (target_ph) needs the Mehlich buffer pH",
                    )
                })?;
                let l = run_lime(
                    &LimeInput {
                        current_ph: current,
                        buffer_ph: buffer,
                        target_ph,
                        residual_credit: self
                            .residual_lime_credit_t_per_acre
                            .unwrap_or(UsTonPerAcre::ZERO),
                    },
                    crate::data::tables().lime.constants,
                );
                Some(RecommendLime {
                    t_per_acre: l.lime_t_per_acre,
                    kg_per_ha: l.lime_kg_per_ha,
                    kg_per_mu: l.lime_kg_per_mu,
                    field_kg: l.lime_kg_per_mu * area,
                    steps: l.steps,
                    notes: l.notes,
                })
            }
        };

        let basket = least_cost_basket(&totals, &self.products, &options)?;

        let mut steps = Vec::new();
        for (nutrient, per_mu, total) in [
            ("N", n.value(), totals.n.value()),
            ("P2O5", p.value(), totals.p2o5.value()),
            ("K2O", k.value(), totals.k2o.value()),
        ] {
            steps.push(Step::new(
                "field total = rate (kg/mu) × area (mu)",
                format!("{} × {}", num(per_mu), num(area.value())),
                format!("{} kg {nutrient}", num(total)),
                "全田养分总量",
                "nutrient for the whole field",
            ));
        }
        let mut notes = Vec::new();
        if !basket.feasible {
            notes.push(Note::new(
                "no_basket",
                "现有产品无法满足全部养分目标，见 basket.shortfalls",
                "the products at hand cannot meet every target: see basket.shortfalls",
            ));
        }
        Ok(RecommendResponse {
            crop: crop.key.clone(),
            area_mu: area.value(),
            target_yield_kg_per_mu: target,
            target_yield,
            rates: vec![rn, rp, rk],
            rates_kg_per_mu: rates_per_mu,
            classes,
            lime,
            basket,
            steps,
            notes,
        })
    }
}
