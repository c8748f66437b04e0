//! Soil methods: classify_china, abundance, tri_state, rb209, quefts, lime.

use serde::{Deserialize, Serialize};

use super::Method;
use crate::data::{LimeConstants, QueftsCoefficients, tables};
use crate::error::{Error, Result};
use crate::explain::{Note, Step, num};
use crate::methods::classify::{
    ClassOverride, Graded, abundance_class, check_classes, check_scale, grade_with_step,
};
use crate::methods::lime::{LimeInput, lime_requirement, lime_steps};
use crate::methods::quefts::{QueftsInput, quefts, quefts_steps};
use crate::methods::rb209::{SoilIndex, adjust_for_yield, adjustment_step, index_step, soil_index};
use crate::methods::tri_state::{
    Levels, TriStateClass, TriStateParams, tri_state_k, tri_state_p, tri_state_steps,
};
use crate::units::{
    AnyNutrient, K, KgPerHa, KgPerMu, LbPerAcre, Lime, Mg, MgPerKg, MgPerLitre, N, Nutrient, P, Ph,
    Positive, Ppm, UsTonPerAcre, Yield,
};

// ---------------------------------------------------------------- classify_china

/// Replacement grade edges (5 descending lower edges of grades 1-5, mg/kg).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChinaEdges {
    pub alkali_n: Option<Vec<f64>>,
    pub olsen_p: Option<Vec<f64>>,
    pub available_k: Option<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyChinaRequest {
    #[serde(default)]
    pub alkali_n_mg_per_kg: Option<MgPerKg<N>>,
    /// Olsen P as P.
    #[serde(default)]
    pub olsen_p_mg_per_kg: Option<MgPerKg<P>>,
    #[serde(default)]
    pub available_k_mg_per_kg: Option<MgPerKg<K>>,
    #[serde(default)]
    pub edges: Option<ChinaEdges>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassifyChinaResponse {
    pub alkali_n: Option<Graded>,
    pub olsen_p: Option<Graded>,
    pub available_k: Option<Graded>,
    pub steps: Vec<Step>,
}

pub(crate) fn classify_china(
    n: Option<MgPerKg<N>>,
    p: Option<MgPerKg<P>>,
    k: Option<MgPerKg<K>>,
    edges: Option<&ChinaEdges>,
    field: &str,
) -> Result<ClassifyChinaResponse> {
    let t = &tables().china;
    let pick = |given: Option<&Vec<f64>>, default: &Vec<f64>, name: &str| -> Result<Vec<f64>> {
        match given {
            Some(e) => {
                check_scale(&format!("{field}edges.{name}"), e)?;
                Ok(e.clone())
            }
            None => Ok(default.clone()),
        }
    };
    let n_edges = pick(
        edges.and_then(|e| e.alkali_n.as_ref()),
        &t.alkali_n.lower_bounds,
        "alkali_n",
    )?;
    let p_edges = pick(
        edges.and_then(|e| e.olsen_p.as_ref()),
        &t.olsen_p.lower_bounds,
        "olsen_p",
    )?;
    let k_edges = pick(
        edges.and_then(|e| e.available_k.as_ref()),
        &t.available_k.lower_bounds,
        "available_k",
    )?;
    let mut steps = Vec::new();
    let mut grade = |s: Option<(Graded, Step)>| {
        s.map(|(g, st)| {
            steps.push(st);
            g
        })
    };
    let alkali_n = grade(n.map(|v| grade_with_step(v, &t.alkali_n, &n_edges)));
    let olsen_p = grade(p.map(|v| grade_with_step(v, &t.olsen_p, &p_edges)));
    let available_k = grade(k.map(|v| grade_with_step(v, &t.available_k, &k_edges)));
    Ok(ClassifyChinaResponse {
        alkali_n,
        olsen_p,
        available_k,
        steps,
    })
}

impl Method for ClassifyChinaRequest {
    type Response = ClassifyChinaResponse;
    fn run(&self) -> Result<ClassifyChinaResponse> {
        if self.alkali_n_mg_per_kg.is_none()
            && self.olsen_p_mg_per_kg.is_none()
            && self.available_k_mg_per_kg.is_none()
        {
            return Err(Error::invalid(
                "alkali_n_mg_per_kg",
                "give at least one of alkali_n_mg_per_kg, olsen_p_mg_per_kg, available_k_mg_per_kg",
            ));
        }
        classify_china(
            self.alkali_n_mg_per_kg,
            self.olsen_p_mg_per_kg,
            self.available_k_mg_per_kg,
            self.edges.as_ref(),
            "",
        )
    }
}

// ---------------------------------------------------------------- abundance

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbundanceRequest {
    /// Optional label of the omitted nutrient, for the explanation.
    #[serde(default)]
    pub nutrient: Option<Nutrient>,
    pub omission_plot_yield_kg_per_mu: KgPerMu<Yield>,
    pub full_fertiliser_yield_kg_per_mu: KgPerMu<Yield>,
    /// Replaces the class table (first class must start at 0).
    #[serde(default)]
    pub classes: Option<Vec<ClassOverride>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbundanceResponse {
    pub relative_yield_pct: f64,
    pub class: String,
    pub class_zh: String,
    pub class_en: String,
    pub steps: Vec<Step>,
}

impl Method for AbundanceRequest {
    type Response = AbundanceResponse;
    fn run(&self) -> Result<AbundanceResponse> {
        let classes = match &self.classes {
            Some(c) => {
                let c: Vec<_> = c.iter().cloned().map(ClassOverride::into_class).collect();
                check_classes(&c)?;
                c
            }
            None => tables().abundance.class.clone(),
        };
        let (rel, class) = abundance_class(
            self.omission_plot_yield_kg_per_mu,
            self.full_fertiliser_yield_kg_per_mu,
            &classes,
        )?;
        let what = self.nutrient.map_or(String::new(), |n| format!(" ({n})"));
        let cuts: Vec<String> = classes
            .iter()
            .map(|c| format!("{} ≥ {}", c.key, num(c.min_pct)))
            .collect();
        let steps = vec![
            Step::new(
                "relative yield (%) = omission-plot yield / full-fertiliser yield × 100",
                format!(
                    "{} / {} × 100",
                    num(self.omission_plot_yield_kg_per_mu.value()),
                    num(self.full_fertiliser_yield_kg_per_mu.value())
                ),
                format!("{} %", num(rel)),
                "相对产量（缺素区产量 / 全肥区产量）",
                format!("relative yield{what}"),
            ),
            Step::new(
                format!(
                    "class = last class whose min_pct ≤ relative yield ({})",
                    cuts.join(", ")
                ),
                format!("{} %", num(rel)),
                class.key.clone(),
                format!("土壤养分丰缺等级：{}", class.zh),
                format!("abundance class: {}", class.en),
            ),
        ];
        Ok(AbundanceResponse {
            relative_yield_pct: rel,
            class: class.key.clone(),
            class_zh: class.zh.clone(),
            class_en: class.en.clone(),
            steps,
        })
    }
}

// ---------------------------------------------------------------- tri_state

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriStateNutrient {
    P,
    K,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropGroup {
    CornSoybean,
    WheatAlfalfa,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriStateRequest {
    pub nutrient: TriStateNutrient,
    /// Mehlich-3 soil test, ppm of the element.
    pub soil_test_ppm: Ppm<AnyNutrient>,
    /// P only: `corn_soybean` or `wheat_alfalfa`.
    #[serde(default)]
    pub crop_group: Option<CropGroup>,
    /// K only: cation exchange capacity, meq/100 g.
    #[serde(default)]
    pub cec_meq_per_100g: Option<f64>,
    /// Crop removal of P2O5 or K2O, lb/acre (0 if not given).
    #[serde(default)]
    pub removal_lb_per_acre: Option<LbPerAcre<AnyNutrient>>,
    #[serde(default)]
    pub critical_ppm: Option<f64>,
    #[serde(default)]
    pub maintenance_ppm: Option<f64>,
    /// Years to build up P (default 4).
    #[serde(default)]
    pub build_up_years: Option<f64>,
    /// lb P2O5 that raise soil-test P by 1 ppm (default 20).
    #[serde(default)]
    pub p2o5_lb_per_ppm: Option<Positive>,
    /// K build-up multiplier coefficient in 1 + k × CEC (default 0.05).
    #[serde(default)]
    pub k_cec_coefficient: Option<f64>,
    /// lb K2O added to a K build-up or maintenance rate (default 20).
    #[serde(default)]
    pub k2o_extra_lb: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriStateResponse {
    pub nutrient: TriStateNutrient,
    /// `P2O5` or `K2O`: the form of every rate below.
    pub rate_as: &'static str,
    pub class: TriStateClass,
    pub critical_ppm: f64,
    pub maintenance_ppm: f64,
    pub build_up_lb_per_acre: f64,
    pub removal_lb_per_acre: f64,
    pub extra_lb_per_acre: f64,
    pub rate_lb_per_acre: f64,
    pub rate_kg_per_ha: f64,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

impl Method for TriStateRequest {
    type Response = TriStateResponse;
    fn run(&self) -> Result<TriStateResponse> {
        let t = &tables().tri_state;
        for (name, v) in [
            ("k_cec_coefficient", self.k_cec_coefficient),
            ("k2o_extra_lb", self.k2o_extra_lb),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(Error::invalid(name, "must be a finite number >= 0"));
            }
        }
        let params = TriStateParams {
            p2o5_lb_per_ppm: self
                .p2o5_lb_per_ppm
                .map_or(t.build_up.p2o5_lb_per_ppm, Positive::value),
            build_up_years: match self.build_up_years {
                Some(y) if y.is_finite() && y > 0.0 => y,
                Some(_) => return Err(Error::invalid("build_up_years", "must be > 0")),
                None => t.build_up.years,
            },
            k_cec_coefficient: self
                .k_cec_coefficient
                .unwrap_or(t.build_up.k_cec_coefficient),
            k2o_build_up_extra: self.k2o_extra_lb.unwrap_or(t.build_up.k2o_extra_lb),
            k2o_maintenance_extra: self.k2o_extra_lb.unwrap_or(t.maintenance.k2o_extra_lb),
            p2o5_maintenance_extra: t.maintenance.p2o5_extra_lb,
        };
        let table_levels = match self.nutrient {
            TriStateNutrient::P => {
                let group = self.crop_group.ok_or_else(|| {
                    Error::invalid("crop_group", "P needs corn_soybean or wheat_alfalfa")
                })?;
                let l = match group {
                    CropGroup::CornSoybean => &t.p.corn_soybean,
                    CropGroup::WheatAlfalfa => &t.p.wheat_alfalfa,
                };
                Levels {
                    critical: l.critical_ppm,
                    maintenance: l.maintenance_ppm,
                }
            }
            TriStateNutrient::K => {
                let cec = self.cec()?;
                let l = match t.k.low_cec.cec_max {
                    Some(max) if cec <= max => &t.k.low_cec,
                    _ => &t.k.high_cec,
                };
                Levels {
                    critical: l.critical_ppm,
                    maintenance: l.maintenance_ppm,
                }
            }
        };
        let levels = Levels {
            critical: self.critical_ppm.unwrap_or(table_levels.critical),
            maintenance: self.maintenance_ppm.unwrap_or(table_levels.maintenance),
        };
        if !(levels.critical.is_finite() && levels.critical >= 0.0) {
            return Err(Error::invalid(
                "critical_ppm",
                "must be a finite number >= 0",
            ));
        }
        if !(levels.maintenance.is_finite() && levels.maintenance >= levels.critical) {
            return Err(Error::invalid(
                "maintenance_ppm",
                "must be finite and at least the critical level",
            ));
        }
        let mut notes = Vec::new();
        if self.removal_lb_per_acre.is_none() {
            notes.push(Note::new(
                "removal_not_given",
                "未给出作物带走量：用量中不含补偿部分",
                "crop removal not given: the rate leaves out replacing it",
            ));
        }
        let removal = self.removal_lb_per_acre.map_or(0.0, |r| r.value());
        let test = self.soil_test_ppm.value();
        let (class, parts, steps) = match self.nutrient {
            TriStateNutrient::P => {
                let o = tri_state_p(
                    Ppm::<P>::new(test),
                    levels,
                    LbPerAcre::new(removal),
                    &params,
                );
                let steps = tri_state_steps("P", "P2O5", test, None, &params, &o);
                (
                    o.class,
                    [
                        o.build_up.value(),
                        o.removal.value(),
                        o.extra.value(),
                        o.rate.value(),
                    ],
                    steps,
                )
            }
            TriStateNutrient::K => {
                let cec = self.cec()?;
                let o = tri_state_k(
                    Ppm::<K>::new(test),
                    cec,
                    levels,
                    LbPerAcre::new(removal),
                    &params,
                );
                let steps = tri_state_steps("K", "K2O", test, Some(cec), &params, &o);
                (
                    o.class,
                    [
                        o.build_up.value(),
                        o.removal.value(),
                        o.extra.value(),
                        o.rate.value(),
                    ],
                    steps,
                )
            }
        };
        Ok(TriStateResponse {
            nutrient: self.nutrient,
            rate_as: match self.nutrient {
                TriStateNutrient::P => "P2O5",
                TriStateNutrient::K => "K2O",
            },
            class,
            critical_ppm: levels.critical,
            maintenance_ppm: levels.maintenance,
            build_up_lb_per_acre: parts[0],
            removal_lb_per_acre: parts[1],
            extra_lb_per_acre: parts[2],
            rate_lb_per_acre: parts[3],
            rate_kg_per_ha: LbPerAcre::<AnyNutrient>::new(parts[3])
                .to_kg_per_ha()
                .value(),
            steps,
            notes,
        })
    }
}

impl TriStateRequest {
    fn cec(&self) -> Result<f64> {
        match self.cec_meq_per_100g {
            Some(c) if c.is_finite() && c >= 0.0 => Ok(c),
            Some(c) => Err(Error::invalid(
                "cec_meq_per_100g",
                format!("must be a finite number >= 0, got {c}"),
            )),
            None => Err(Error::invalid(
                "cec_meq_per_100g",
                "K needs the CEC (meq/100 g): the critical level depends on it",
            )),
        }
    }
}

// ---------------------------------------------------------------- rb209

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rb209Nutrient {
    P2O5,
    K2O,
}

/// Adjust a table value for the expected yield.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rb209Adjustment {
    pub nutrient: Rb209Nutrient,
    pub table_value_kg_per_ha: KgPerHa<AnyNutrient>,
    pub table_yield_t_per_ha: f64,
    pub expected_yield_t_per_ha: f64,
    /// `cereal_grain`, `cereal_grain_straw`, `oilseed_rape`, `potatoes` (data/rb209.toml).
    #[serde(default)]
    pub offtake: Option<String>,
    /// Overrides the table (kg P2O5 or K2O per t).
    #[serde(default)]
    pub offtake_kg_per_t: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rb209Request {
    #[serde(default)]
    pub olsen_p_mg_per_l: Option<MgPerLitre<P>>,
    #[serde(default)]
    pub k_mg_per_l: Option<MgPerLitre<K>>,
    #[serde(default)]
    pub mg_mg_per_l: Option<MgPerLitre<Mg>>,
    #[serde(default)]
    pub yield_adjustment: Option<Rb209Adjustment>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rb209AdjustmentResult {
    pub nutrient: Rb209Nutrient,
    pub offtake_kg_per_t: f64,
    pub yield_difference_t_per_ha: f64,
    pub adjustment_kg_per_ha: f64,
    pub rate_kg_per_ha: f64,
    pub rate_kg_per_mu: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rb209Response {
    pub p_index: Option<SoilIndex>,
    pub k_index: Option<SoilIndex>,
    pub mg_index: Option<SoilIndex>,
    pub yield_adjustment: Option<Rb209AdjustmentResult>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

impl Method for Rb209Request {
    type Response = Rb209Response;
    fn run(&self) -> Result<Rb209Response> {
        let t = &tables().rb209;
        if self.olsen_p_mg_per_l.is_none()
            && self.k_mg_per_l.is_none()
            && self.mg_mg_per_l.is_none()
            && self.yield_adjustment.is_none()
        {
            return Err(Error::invalid(
                "olsen_p_mg_per_l",
                "give a soil result (olsen_p_mg_per_l, k_mg_per_l, mg_mg_per_l) or a yield_adjustment",
            ));
        }
        let mut steps = Vec::new();
        let mut notes = Vec::new();
        let mut index = |idx: SoilIndex, what: &str, zh: &str| {
            steps.push(index_step(what, zh, &idx));
            if idx.index.starts_with('>') {
                notes.push(Note::new(
                    "beyond_index_table",
                    format!("{zh} {} mg/l 超出数据表范围", num(idx.value_mg_per_l)),
                    format!(
                        "{what} {} mg/l is above the data table",
                        num(idx.value_mg_per_l)
                    ),
                ));
            }
            idx
        };
        let p_index = self
            .olsen_p_mg_per_l
            .map(|v| index(soil_index(v, &t.p), "Olsen P", "有效磷"));
        let k_index = self
            .k_mg_per_l
            .map(|v| index(soil_index(v, &t.k), "K", "钾"));
        let mg_index = self
            .mg_mg_per_l
            .map(|v| index(soil_index(v, &t.mg), "Mg", "镁"));
        let yield_adjustment = match &self.yield_adjustment {
            None => None,
            Some(a) => {
                let f = "yield_adjustment";
                for (name, v) in [
                    ("table_yield_t_per_ha", a.table_yield_t_per_ha),
                    ("expected_yield_t_per_ha", a.expected_yield_t_per_ha),
                ] {
                    if !v.is_finite() || v < 0.0 {
                        return Err(Error::invalid(
                            format!("{f}.{name}"),
                            "must be a finite number >= 0",
                        ));
                    }
                }
                let offtake = match (a.offtake_kg_per_t, &a.offtake) {
                    (Some(o), _) if o.is_finite() && o >= 0.0 => o,
                    (Some(_), _) => {
                        return Err(Error::invalid(
                            format!("{f}.offtake_kg_per_t"),
                            "must be >= 0",
                        ));
                    }
                    (None, Some(key)) => {
                        let row = tables().offtake(key).ok_or_else(|| {
                            let keys: Vec<&str> =
                                t.offtake.iter().map(|o| o.key.as_str()).collect();
                            Error::invalid(
                                format!("{f}.offtake"),
                                format!("unknown offtake `{key}`; known: {}", keys.join(", ")),
                            )
                        })?;
                        match a.nutrient {
                            Rb209Nutrient::P2O5 => row.p2o5_kg_per_t,
                            Rb209Nutrient::K2O => row.k2o_kg_per_t,
                        }
                    }
                    (None, None) => {
                        return Err(Error::invalid(
                            format!("{f}.offtake"),
                            "give an offtake key or offtake_kg_per_t",
                        ));
                    }
                };
                let adj = adjust_for_yield(
                    a.table_value_kg_per_ha,
                    a.table_yield_t_per_ha,
                    a.expected_yield_t_per_ha,
                    offtake,
                );
                let oxide = match a.nutrient {
                    Rb209Nutrient::P2O5 => "P2O5",
                    Rb209Nutrient::K2O => "K2O",
                };
                steps.push(adjustment_step(
                    oxide,
                    a.table_value_kg_per_ha,
                    offtake,
                    &adj,
                ));
                if adj.clamped {
                    notes.push(Note::new(
                        "adjusted_rate_set_to_zero",
                        "按产量调整后为负，取 0",
                        "the yield adjustment made the rate negative: set to 0",
                    ));
                }
                Some(Rb209AdjustmentResult {
                    nutrient: a.nutrient,
                    offtake_kg_per_t: offtake,
                    yield_difference_t_per_ha: adj.yield_difference_t,
                    adjustment_kg_per_ha: adj.adjustment_kg,
                    rate_kg_per_ha: adj.rate.value(),
                    rate_kg_per_mu: adj.rate.to_kg_per_mu().value(),
                })
            }
        };
        Ok(Rb209Response {
            p_index,
            k_index,
            mg_index,
            yield_adjustment,
            steps,
            notes,
        })
    }
}

// ---------------------------------------------------------------- quefts

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueftsRequest {
    pub ph: Ph,
    pub soc_g_per_kg: f64,
    pub k_ex_mmol_per_kg: f64,
    pub olsen_p_mg_per_kg: f64,
    /// Replaces Janssen et al.'s coefficients (all of them).
    #[serde(default)]
    pub coefficients: Option<QueftsCoefficients>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueftsResponse {
    pub f_n: f64,
    pub f_p: f64,
    pub f_k: f64,
    pub sn_kg_per_ha: KgPerHa<N>,
    /// As elemental P.
    pub sp_kg_per_ha: KgPerHa<P>,
    /// As elemental K.
    pub sk_kg_per_ha: KgPerHa<K>,
    pub sp_as_p2o5_kg_per_ha: f64,
    pub sk_as_k2o_kg_per_ha: f64,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

impl Method for QueftsRequest {
    type Response = QueftsResponse;
    fn run(&self) -> Result<QueftsResponse> {
        for (name, v) in [
            ("soc_g_per_kg", self.soc_g_per_kg),
            ("k_ex_mmol_per_kg", self.k_ex_mmol_per_kg),
            ("olsen_p_mg_per_kg", self.olsen_p_mg_per_kg),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::invalid(
                    name,
                    format!("must be a finite number >= 0, got {v}"),
                ));
            }
        }
        let c = self.coefficients.unwrap_or(tables().quefts.coefficients);
        let input = QueftsInput {
            ph: self.ph,
            soc_g_per_kg: self.soc_g_per_kg,
            k_ex_mmol_per_kg: self.k_ex_mmol_per_kg,
            olsen_p_mg_per_kg: self.olsen_p_mg_per_kg,
        };
        let out = quefts(&input, &c);
        let (steps, notes) = quefts_steps(&input, &c, &out);
        Ok(QueftsResponse {
            f_n: out.f_n,
            f_p: out.f_p,
            f_k: out.f_k,
            sn_kg_per_ha: out.sn,
            sp_kg_per_ha: out.sp,
            sk_kg_per_ha: out.sk,
            sp_as_p2o5_kg_per_ha: out.sp.to_oxide().value(),
            sk_as_k2o_kg_per_ha: out.sk.to_oxide().value(),
            steps,
            notes,
        })
    }
}

// ---------------------------------------------------------------- lime

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimeRequest {
    pub current_ph: Ph,
    /// Mehlich buffer pH.
    pub buffer_ph: Ph,
    pub target_ph: Ph,
    #[serde(default)]
    pub residual_credit_t_per_acre: Option<UsTonPerAcre<Lime>>,
    /// Overrides the NCDA reference pH of the buffer (6.6).
    #[serde(default)]
    pub reference_ph: Option<Ph>,
    /// Overrides the meq of acidity per unit of buffer-pH drop (4).
    #[serde(default)]
    pub meq_per_ph_unit: Option<Positive>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimeResponse {
    pub acidity_meq_per_100cm3: f64,
    pub factor: f64,
    pub lime_t_per_acre: UsTonPerAcre<Lime>,
    pub lime_kg_per_ha: KgPerHa<Lime>,
    pub lime_kg_per_mu: KgPerMu<Lime>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

pub(crate) fn run_lime(input: &LimeInput, k: LimeConstants) -> LimeResponse {
    let out = lime_requirement(input, &k);
    let (steps, notes) = lime_steps(input, &k, &out);
    let kg_ha = out.lime.to_lb_per_acre().to_kg_per_ha();
    LimeResponse {
        acidity_meq_per_100cm3: out.acidity,
        factor: out.factor,
        lime_t_per_acre: out.lime,
        lime_kg_per_ha: kg_ha,
        lime_kg_per_mu: kg_ha.to_kg_per_mu(),
        steps,
        notes,
    }
}

impl Method for LimeRequest {
    type Response = LimeResponse;
    fn run(&self) -> Result<LimeResponse> {
        let table = tables().lime.constants;
        let constants = LimeConstants {
            reference_ph: self.reference_ph.map_or(table.reference_ph, Ph::value),
            meq_per_ph_unit: self
                .meq_per_ph_unit
                .map_or(table.meq_per_ph_unit, Positive::value),
        };
        Ok(run_lime(
            &LimeInput {
                current_ph: self.current_ph,
                buffer_ph: self.buffer_ph,
                target_ph: self.target_ph,
                residual_credit: self
                    .residual_credit_t_per_acre
                    .unwrap_or(UsTonPerAcre::ZERO),
            },
            constants,
        ))
    }
}
