//! nutrient_balance, fertility_difference and target_yield.

use serde::{Deserialize, Serialize};

use super::Method;
use super::common::{crop, recovery, uptake};
use crate::data::{Crop, tables};
use crate::error::{Error, Result};
use crate::explain::{Note, Step, num};
use crate::methods::balance::{
    BalanceInput, FertilityDifferenceInput, SoilSupply, balance_steps, fertility_difference,
    fertility_difference_steps, nutrient_balance,
};
use crate::methods::target_yield::{target_yield, target_yield_steps};
use crate::units::{
    AnyNutrient, Content, FertiliserNutrient, K2O, KgPerMu, MgPerKg, N, Nutrient, P2O5, Positive,
    RecoveryRate, Share, Uptake, Yield,
};

/// Where the soil supply comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SoilSupplyRequest {
    /// Soil test in mg/kg (N as N, P as Olsen P, K as K), with either the correction coefficient
    /// or the no-fertiliser yield to calibrate it.
    SoilTest {
        mg_per_kg: MgPerKg<AnyNutrient>,
        #[serde(default)]
        correction_coefficient: Option<Positive>,
        #[serde(default)]
        no_fertiliser_yield_kg_per_mu: Option<KgPerMu<Yield>>,
    },
    /// Stanford form: soil supply = no-fertiliser yield × uptake.
    YieldBased {
        no_fertiliser_yield_kg_per_mu: KgPerMu<Yield>,
    },
}

impl SoilSupplyRequest {
    pub(crate) fn typed<F: FertiliserNutrient>(&self, field: &str) -> Result<SoilSupply<F>> {
        match *self {
            SoilSupplyRequest::SoilTest {
                mg_per_kg,
                correction_coefficient,
                no_fertiliser_yield_kg_per_mu,
            } => {
                let test = MgPerKg::<F::SoilForm>::new(mg_per_kg.value());
                match (correction_coefficient, no_fertiliser_yield_kg_per_mu) {
                    (Some(c), None) => Ok(SoilSupply::SoilTest {
                        test,
                        correction: c,
                    }),
                    (None, Some(y)) => Ok(SoilSupply::Calibrated {
                        test,
                        no_fertiliser_yield: y,
                    }),
                    _ => Err(Error::invalid(
                        format!("{field}.soil_test"),
                        "give exactly one of correction_coefficient or \
                         no_fertiliser_yield_kg_per_mu",
                    )),
                }
            }
            SoilSupplyRequest::YieldBased {
                no_fertiliser_yield_kg_per_mu,
            } => Ok(SoilSupply::YieldBased {
                no_fertiliser_yield: no_fertiliser_yield_kg_per_mu,
            }),
        }
    }
}

/// Nutrient balance (养分平衡法).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NutrientBalanceRequest {
    pub nutrient: Nutrient,
    /// Crop key (`maize`, `peanut`, ...) for the uptake table and the legume factor.
    #[serde(default)]
    pub crop: Option<String>,
    pub target_yield_kg_per_mu: KgPerMu<Yield>,
    /// Overrides the crop table (kg nutrient per kg yield, i.e. the table value / 100).
    #[serde(default)]
    pub uptake_kg_per_kg_yield: Option<f64>,
    pub soil: SoilSupplyRequest,
    #[serde(default)]
    pub recovery_rate: Option<RecoveryRate>,
    /// N only: share of the N need to supply (peanut 0.40 by default; 1 to switch it off).
    #[serde(default)]
    pub legume_n_factor: Option<Share>,
    /// Nutrient content of the fertiliser in per cent (46 for urea), to get kg of product.
    #[serde(default)]
    pub fertiliser_nutrient_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NutrientBalanceResponse {
    pub nutrient: Nutrient,
    pub target_yield_kg_per_mu: f64,
    pub uptake_kg_per_kg_yield: f64,
    pub recovery_rate: f64,
    pub crop_need_kg_per_mu: KgPerMu<AnyNutrient>,
    pub soil_supply_kg_per_mu: KgPerMu<AnyNutrient>,
    pub correction_coefficient: Option<f64>,
    /// crop need − soil supply; negative when the soil supplies more than enough.
    pub deficit_kg_per_mu: f64,
    pub soil_supplies_enough: bool,
    pub legume_n_factor: Option<f64>,
    /// Fertiliser nutrient to apply.
    pub nutrient_kg_per_mu: KgPerMu<AnyNutrient>,
    pub nutrient_kg_per_ha: crate::units::KgPerHa<AnyNutrient>,
    /// Before the legume factor (equal to the above for non-legumes).
    pub unscaled_nutrient_kg_per_mu: KgPerMu<AnyNutrient>,
    pub product_kg_per_mu: Option<f64>,
    pub product_kg_per_ha: Option<f64>,
    pub unscaled_product_kg_per_mu: Option<f64>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

pub(crate) fn legume_factor(
    nutrient: Nutrient,
    crop: Option<&Crop>,
    given: Option<Share>,
    field: &str,
    notes: &mut Vec<Note>,
) -> Result<Option<Share>> {
    if nutrient != Nutrient::N {
        return match given {
            Some(_) => Err(Error::invalid(field, "the legume factor applies to N only")),
            None => Ok(None),
        };
    }
    if given.is_some() {
        return Ok(given);
    }
    let Some((c, f)) = crop.and_then(|c| c.legume_n_factor.map(|f| (c, f))) else {
        return Ok(None);
    };
    notes.push(Note::new(
        "legume_factor_applied",
        format!(
            "{}为豆科作物，氮只需供给 {}（{}）",
            c.zh,
            num(f),
            c.legume_source.as_deref().unwrap_or("")
        ),
        format!(
            "{} is a legume: only {} of its N need is supplied ({}); set legume_n_factor to 1 to switch off",
            c.en,
            num(f),
            c.legume_source.as_deref().unwrap_or("")
        ),
    ));
    Ok(Some(Share::new(f)))
}

pub(crate) fn content<F>(pct: Option<f64>, field: &str) -> Result<Option<Content<F>>> {
    pct.map(|p| {
        let c = Content::<F>::from_percent(p).map_err(|e| e.at(field))?;
        if c.value() == 0.0 {
            return Err(Error::invalid(field, "must be > 0"));
        }
        Ok(c)
    })
    .transpose()
}

impl NutrientBalanceRequest {
    fn run_typed<F: FertiliserNutrient>(&self) -> Result<NutrientBalanceResponse> {
        let crop = self.crop.as_deref().map(|k| crop("crop", k)).transpose()?;
        let mut notes = Vec::new();
        let uptake_v = uptake(
            crop,
            F::KIND,
            self.uptake_kg_per_kg_yield,
            "uptake_kg_per_kg_yield",
        )?;
        let input = BalanceInput::<F> {
            target_yield: self.target_yield_kg_per_mu,
            uptake: Uptake::per_kg(uptake_v),
            soil: self.soil.typed("soil")?,
            recovery: recovery(F::KIND, self.recovery_rate, &mut notes),
            legume_factor: legume_factor(
                F::KIND,
                crop,
                self.legume_n_factor,
                "legume_n_factor",
                &mut notes,
            )?,
            content: content(self.fertiliser_nutrient_pct, "fertiliser_nutrient_pct")?,
        };
        let out = nutrient_balance(&input);
        let (steps, more) = balance_steps(&input, &out);
        notes.extend(more);
        Ok(NutrientBalanceResponse {
            nutrient: F::KIND,
            target_yield_kg_per_mu: self.target_yield_kg_per_mu.value(),
            uptake_kg_per_kg_yield: uptake_v,
            recovery_rate: input.recovery.value(),
            crop_need_kg_per_mu: out.crop_need.erase(),
            soil_supply_kg_per_mu: out.soil_supply.erase(),
            correction_coefficient: out.correction,
            deficit_kg_per_mu: out.deficit,
            soil_supplies_enough: out.soil_sufficient(),
            legume_n_factor: input.legume_factor.map(Share::value),
            nutrient_kg_per_mu: out.nutrient.erase(),
            nutrient_kg_per_ha: out.nutrient.to_kg_per_ha().erase(),
            unscaled_nutrient_kg_per_mu: out.unscaled_nutrient.erase(),
            product_kg_per_mu: out.product.map(|p| p.value()),
            product_kg_per_ha: out.product.map(|p| p.to_kg_per_ha().value()),
            unscaled_product_kg_per_mu: out.unscaled_product.map(|p| p.value()),
            steps,
            notes,
        })
    }
}

impl Method for NutrientBalanceRequest {
    type Response = NutrientBalanceResponse;
    fn run(&self) -> Result<NutrientBalanceResponse> {
        match self.nutrient {
            Nutrient::N => self.run_typed::<N>(),
            Nutrient::P2O5 => self.run_typed::<P2O5>(),
            Nutrient::K2O => self.run_typed::<K2O>(),
        }
    }
}

/// Soil-fertility difference (地力差减法).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FertilityDifferenceRequest {
    pub nutrient: Nutrient,
    #[serde(default)]
    pub crop: Option<String>,
    pub target_yield_kg_per_mu: KgPerMu<Yield>,
    pub no_fertiliser_yield_kg_per_mu: KgPerMu<Yield>,
    #[serde(default)]
    pub uptake_kg_per_kg_yield: Option<f64>,
    #[serde(default)]
    pub recovery_rate: Option<RecoveryRate>,
    #[serde(default)]
    pub fertiliser_nutrient_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FertilityDifferenceResponse {
    pub nutrient: Nutrient,
    pub uptake_kg_per_kg_yield: f64,
    pub recovery_rate: f64,
    pub yield_gap_kg_per_mu: f64,
    pub soil_supplies_enough: bool,
    pub nutrient_kg_per_mu: KgPerMu<AnyNutrient>,
    pub nutrient_kg_per_ha: crate::units::KgPerHa<AnyNutrient>,
    pub product_kg_per_mu: Option<f64>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

impl FertilityDifferenceRequest {
    fn run_typed<F: FertiliserNutrient>(&self) -> Result<FertilityDifferenceResponse> {
        let crop = self.crop.as_deref().map(|k| crop("crop", k)).transpose()?;
        let mut notes = Vec::new();
        let uptake_v = uptake(
            crop,
            F::KIND,
            self.uptake_kg_per_kg_yield,
            "uptake_kg_per_kg_yield",
        )?;
        let input = FertilityDifferenceInput::<F> {
            target_yield: self.target_yield_kg_per_mu,
            no_fertiliser_yield: self.no_fertiliser_yield_kg_per_mu,
            uptake: Uptake::per_kg(uptake_v),
            recovery: recovery(F::KIND, self.recovery_rate, &mut notes),
            content: content(self.fertiliser_nutrient_pct, "fertiliser_nutrient_pct")?,
        };
        let out = fertility_difference(&input);
        let (steps, more) = fertility_difference_steps(&input, &out);
        notes.extend(more);
        Ok(FertilityDifferenceResponse {
            nutrient: F::KIND,
            uptake_kg_per_kg_yield: uptake_v,
            recovery_rate: input.recovery.value(),
            yield_gap_kg_per_mu: out.yield_gap,
            soil_supplies_enough: out.yield_gap <= 0.0,
            nutrient_kg_per_mu: out.nutrient.erase(),
            nutrient_kg_per_ha: out.nutrient.to_kg_per_ha().erase(),
            product_kg_per_mu: out.product.map(|p| p.value()),
            steps,
            notes,
        })
    }
}

impl Method for FertilityDifferenceRequest {
    type Response = FertilityDifferenceResponse;
    fn run(&self) -> Result<FertilityDifferenceResponse> {
        match self.nutrient {
            Nutrient::N => self.run_typed::<N>(),
            Nutrient::P2O5 => self.run_typed::<P2O5>(),
            Nutrient::K2O => self.run_typed::<K2O>(),
        }
    }
}

/// Target yield = mean of the last three years × factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetYieldRequest {
    /// Past yields, oldest first; the last three are used.
    pub yields_kg_per_mu: Vec<KgPerMu<Yield>>,
    /// Default 1.10 (data/defaults.toml).
    #[serde(default)]
    pub factor: Option<Positive>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetYieldResponse {
    pub years_used: Vec<f64>,
    pub mean_kg_per_mu: KgPerMu<Yield>,
    pub factor: f64,
    pub target_yield_kg_per_mu: KgPerMu<Yield>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

/// The last `years` yields, or an error naming `field`.
pub(crate) fn last_years<'a>(
    yields: &'a [KgPerMu<Yield>],
    field: &str,
) -> Result<&'a [KgPerMu<Yield>]> {
    let years = tables().defaults.target_yield.years;
    if yields.len() < years {
        return Err(Error::invalid(
            field,
            format!(
                "needs the yields of the last {years} years (oldest first), got {}",
                yields.len()
            ),
        ));
    }
    Ok(&yields[yields.len() - years..])
}

pub(crate) fn run_target_yield(
    yields: &[KgPerMu<Yield>],
    factor: Option<Positive>,
    field: &str,
) -> Result<TargetYieldResponse> {
    let d = &tables().defaults.target_yield;
    let used = last_years(yields, field)?;
    let factor = factor.unwrap_or(Positive::new(d.factor));
    let out = target_yield(used, factor);
    let (steps, mut notes) = target_yield_steps(used, factor, &out, (d.common_low, d.common_high));
    if yields.len() > used.len() {
        notes.push(Note::new(
            "older_years_ignored",
            format!("只用最近 {} 年的产量", used.len()),
            format!("only the last {} years are used", used.len()),
        ));
    }
    Ok(TargetYieldResponse {
        years_used: used.iter().map(|y| y.value()).collect(),
        mean_kg_per_mu: out.mean,
        factor: factor.value(),
        target_yield_kg_per_mu: out.target,
        steps,
        notes,
    })
}

impl Method for TargetYieldRequest {
    type Response = TargetYieldResponse;
    fn run(&self) -> Result<TargetYieldResponse> {
        run_target_yield(&self.yields_kg_per_mu, self.factor, "yields_kg_per_mu")
    }
}
