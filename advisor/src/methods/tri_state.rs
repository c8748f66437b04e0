//! Tri-State (Ohio, Indiana, Michigan) P and K recommendations from a Mehlich-3 soil test.

use serde::{Deserialize, Serialize};

use crate::explain::{Step, num};
use crate::units::{K, K2O, LbPerAcre, P, P2O5, Ppm};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriStateClass {
    /// Below the critical level: build up + crop removal.
    BuildUp,
    /// Between CL and ML: crop removal.
    Maintenance,
    /// At or above ML: nothing.
    None,
}

impl TriStateClass {
    pub fn key(self) -> &'static str {
        match self {
            TriStateClass::BuildUp => "build_up",
            TriStateClass::Maintenance => "maintenance",
            TriStateClass::None => "none",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            TriStateClass::BuildUp => "低于临界值：培肥 + 补偿带走量",
            TriStateClass::Maintenance => "临界值与维持上限之间：补偿带走量",
            TriStateClass::None => "达到维持上限：不施",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            TriStateClass::BuildUp => "below the critical level: build up plus crop removal",
            TriStateClass::Maintenance => "between CL and ML: replace crop removal",
            TriStateClass::None => "at or above the maintenance limit: none",
        }
    }
}

/// Critical level and maintenance limit, ppm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub critical: f64,
    pub maintenance: f64,
}

pub fn classify(test: f64, levels: Levels) -> TriStateClass {
    if test < levels.critical {
        TriStateClass::BuildUp
    } else if test < levels.maintenance {
        TriStateClass::Maintenance
    } else {
        TriStateClass::None
    }
}

/// Build-up and maintenance constants (data/tri_state.toml).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TriStateParams {
    /// lb P2O5 that raise soil-test P by 1 ppm (20).
    pub p2o5_lb_per_ppm: f64,
    /// Years over which the P deficit is built up (4).
    pub build_up_years: f64,
    /// K build-up multiplier 1 + k_cec_coefficient x CEC (0.05).
    pub k_cec_coefficient: f64,
    /// Extra lb K2O added to a K build-up (20).
    pub k2o_build_up_extra: f64,
    /// Extra lb K2O added to K maintenance (20, Ohio ANR-96).
    pub k2o_maintenance_extra: f64,
    /// Extra lb P2O5 added to P maintenance (0).
    pub p2o5_maintenance_extra: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TriStateOutcome<F> {
    pub class: TriStateClass,
    pub levels: Levels,
    /// The build-up part of the rate (zero unless class is build-up).
    pub build_up: LbPerAcre<F>,
    /// The crop-removal part (zero when class is none).
    pub removal: LbPerAcre<F>,
    /// The fixed extra (K: 20 lb).
    pub extra: LbPerAcre<F>,
    pub rate: LbPerAcre<F>,
}

/// P: build-up P2O5 = (CL − test) × 20 / 4 per year, plus removal; maintenance: removal.
pub fn tri_state_p(
    test: Ppm<P>,
    levels: Levels,
    removal: LbPerAcre<P2O5>,
    params: &TriStateParams,
) -> TriStateOutcome<P2O5> {
    let class = classify(test.value(), levels);
    let (build_up, removal, extra) = match class {
        TriStateClass::BuildUp => (
            (levels.critical - test.value()) * params.p2o5_lb_per_ppm / params.build_up_years,
            removal,
            0.0,
        ),
        TriStateClass::Maintenance => (0.0, removal, params.p2o5_maintenance_extra),
        TriStateClass::None => (0.0, LbPerAcre::ZERO, 0.0),
    };
    let build_up = LbPerAcre::new(build_up);
    let extra = LbPerAcre::new(extra);
    TriStateOutcome {
        class,
        levels,
        build_up,
        removal,
        extra,
        rate: build_up + removal + extra,
    }
}

/// K: build-up K2O = (CL − test) × (1 + 0.05 CEC) + removal + 20; maintenance: removal + 20.
pub fn tri_state_k(
    test: Ppm<K>,
    cec: f64,
    levels: Levels,
    removal: LbPerAcre<K2O>,
    params: &TriStateParams,
) -> TriStateOutcome<K2O> {
    let class = classify(test.value(), levels);
    let (build_up, removal, extra) = match class {
        TriStateClass::BuildUp => (
            (levels.critical - test.value()) * (1.0 + params.k_cec_coefficient * cec),
            removal,
            params.k2o_build_up_extra,
        ),
        TriStateClass::Maintenance => (0.0, removal, params.k2o_maintenance_extra),
        TriStateClass::None => (0.0, LbPerAcre::ZERO, 0.0),
    };
    let build_up = LbPerAcre::new(build_up);
    let extra = LbPerAcre::new(extra);
    TriStateOutcome {
        class,
        levels,
        build_up,
        removal,
        extra,
        rate: build_up + removal + extra,
    }
}

pub fn tri_state_steps<F>(
    nutrient: &str,
    oxide: &str,
    test: f64,
    cec: Option<f64>,
    params: &TriStateParams,
    out: &TriStateOutcome<F>,
) -> Vec<Step> {
    let mut steps = vec![Step::new(
        "test < CL: build-up; CL ≤ test < ML: maintenance; test ≥ ML: none",
        format!(
            "{} ppm vs CL {} / ML {}",
            num(test),
            num(out.levels.critical),
            num(out.levels.maintenance)
        ),
        out.class.key(),
        format!("{nutrient}：{}", out.class.zh()),
        format!("{nutrient}: {}", out.class.en()),
    )];
    let rate = out.rate.value();
    match (out.class, nutrient, cec) {
        (TriStateClass::BuildUp, "P", _) => steps.push(Step::new(
            "P2O5 = (CL − test) × 20 / 4 + removal",
            format!(
                "({} − {}) × {} / {} + {}",
                num(out.levels.critical),
                num(test),
                num(params.p2o5_lb_per_ppm),
                num(params.build_up_years),
                num(out.removal.value())
            ),
            format!("{} lb P2O5/acre", num(rate)),
            "培肥：20 lb P2O5 提高土壤 P 1 ppm，分 4 年",
            "build-up: 20 lb P2O5 raise soil P by 1 ppm, spread over 4 years",
        )),
        (TriStateClass::BuildUp, _, Some(cec)) => steps.push(Step::new(
            "K2O = (CL − test) × (1 + 0.05 CEC) + removal + 20",
            format!(
                "({} − {}) × (1 + {} × {}) + {} + {}",
                num(out.levels.critical),
                num(test),
                num(params.k_cec_coefficient),
                num(cec),
                num(out.removal.value()),
                num(out.extra.value())
            ),
            format!("{} lb K2O/acre", num(rate)),
            "培肥钾：按 CEC 放大亏缺量",
            "K build-up scaled by CEC",
        )),
        (TriStateClass::Maintenance, _, _) => steps.push(Step::new(
            format!("{oxide} = removal + extra"),
            format!("{} + {}", num(out.removal.value()), num(out.extra.value())),
            format!("{} lb {oxide}/acre", num(rate)),
            "维持：补偿作物带走量",
            "maintenance: replace what the crop removes",
        )),
        _ => {}
    }
    steps.push(Step::new(
        "kg/ha = lb/acre × 1.12085",
        format!("{} × 1.12085", num(rate)),
        format!("{} kg {oxide}/ha", num(rate * 1.12085)),
        "换算为公斤/公顷",
        "converted to kg/ha",
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_the_bulletin() {
        let l = Levels {
            critical: 20.0,
            maintenance: 40.0,
        };
        assert_eq!(classify(19.9, l), TriStateClass::BuildUp);
        assert_eq!(classify(20.0, l), TriStateClass::Maintenance);
        assert_eq!(classify(39.9, l), TriStateClass::Maintenance);
        assert_eq!(classify(40.0, l), TriStateClass::None);
    }
}
