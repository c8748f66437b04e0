//! The embedded data tables (`advisor/data/*.toml`). Every row names its source there.
//!
//! The core formulas never look these up: they take every parameter as an argument. Only the
//! JSON layer fills in defaults from here, so a request can override any of them.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::units::Nutrient;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crop {
    pub key: String,
    pub zh: String,
    /// The English name with its yield basis ("peanut (pods)").
    pub en: String,
    /// The crop's code in the catalog ("PEANUT"): the catalog reads its crop list from here.
    pub code: String,
    /// The plain English name for lists ("peanut").
    pub name_en: String,
    /// Vegetables, fruit, tea, fungi or herbs (no highly toxic pesticide is ever allowed on
    /// them).
    pub horticultural: bool,
    /// kg N per 100 kg yield.
    pub n: f64,
    /// kg P2O5 per 100 kg yield.
    pub p2o5: f64,
    /// kg K2O per 100 kg yield.
    pub k2o: f64,
    pub legume_n_factor: Option<f64>,
    pub legume_source: Option<String>,
    pub source: String,
}

impl Crop {
    /// kg per 100 kg yield for one nutrient.
    pub fn uptake_per_100kg(&self, nutrient: Nutrient) -> f64 {
        match nutrient {
            Nutrient::N => self.n,
            Nutrient::P2O5 => self.p2o5,
            Nutrient::K2O => self.k2o,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryDefault {
    pub default: f64,
    pub low: f64,
    pub high: f64,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryDefaults {
    pub n: RecoveryDefault,
    pub p2o5: RecoveryDefault,
    pub k2o: RecoveryDefault,
}

impl RecoveryDefaults {
    pub fn get(&self, nutrient: Nutrient) -> &RecoveryDefault {
        match nutrient {
            Nutrient::N => &self.n,
            Nutrient::P2O5 => &self.p2o5,
            Nutrient::K2O => &self.k2o,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetYieldDefault {
    pub factor: f64,
    pub common_low: f64,
    pub common_high: f64,
    pub years: usize,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub recovery: RecoveryDefaults,
    pub target_yield: TargetYieldDefault,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeScale {
    pub zh: String,
    pub en: String,
    /// Lower edges of grades 1..=5, descending.
    pub lower_bounds: Vec<f64>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChinaGrades {
    pub alkali_n: GradeScale,
    pub olsen_p: GradeScale,
    pub available_k: GradeScale,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbundanceClass {
    pub key: String,
    pub zh: String,
    pub en: String,
    pub min_pct: f64,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abundance {
    pub class: Vec<AbundanceClass>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriStateLevels {
    #[serde(default)]
    pub cec_max: Option<f64>,
    pub critical_ppm: f64,
    pub maintenance_ppm: f64,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriStateP {
    pub corn_soybean: TriStateLevels,
    pub wheat_alfalfa: TriStateLevels,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriStateK {
    pub low_cec: TriStateLevels,
    pub high_cec: TriStateLevels,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriStateBuildUp {
    pub p2o5_lb_per_ppm: f64,
    pub years: f64,
    pub k_cec_coefficient: f64,
    pub k2o_extra_lb: f64,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriStateMaintenance {
    pub k2o_extra_lb: f64,
    pub p2o5_extra_lb: f64,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriState {
    pub p: TriStateP,
    pub k: TriStateK,
    pub build_up: TriStateBuildUp,
    pub maintenance: TriStateMaintenance,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexRange {
    pub index: String,
    pub min_mg_per_l: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexScale {
    pub nutrient: String,
    #[serde(default)]
    pub target_index: Option<String>,
    pub max_mg_per_l: f64,
    pub source: String,
    pub indices: Vec<IndexRange>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offtake {
    pub key: String,
    pub en: String,
    pub zh: String,
    pub p2o5_kg_per_t: f64,
    pub k2o_kg_per_t: f64,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rb209 {
    pub p: IndexScale,
    pub k: IndexScale,
    pub mg: IndexScale,
    pub offtake: Vec<Offtake>,
}

/// QUEFTS coefficients; see `data/quefts.toml` for the formulas they enter.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueftsCoefficients {
    pub n_slope: f64,
    pub n_ph0: f64,
    pub n_soc: f64,
    pub p_curv: f64,
    pub p_ph0: f64,
    pub p_soc: f64,
    pub p_olsen: f64,
    pub k_scale: f64,
    pub k_a: f64,
    pub k_b: f64,
    pub k_num: f64,
    pub k_den0: f64,
    pub k_den_soc: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueftsTable {
    pub source: String,
    #[serde(flatten)]
    pub coefficients: QueftsCoefficients,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimeConstants {
    pub reference_ph: f64,
    pub meq_per_ph_unit: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimeTable {
    pub source: String,
    #[serde(flatten)]
    pub constants: LimeConstants,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Crops {
    crop: Vec<Crop>,
}

/// All embedded tables, parsed.
#[derive(Debug, Clone)]
pub struct Tables {
    pub crops: Vec<Crop>,
    pub defaults: Defaults,
    pub china: ChinaGrades,
    pub abundance: Abundance,
    pub tri_state: TriState,
    pub rb209: Rb209,
    pub quefts: QueftsTable,
    pub lime: LimeTable,
}

impl Tables {
    /// Parses the files compiled into the crate. The `tables_parse` unit test guarantees this
    /// cannot fail in a released build.
    fn parse_embedded() -> Result<Tables, toml::de::Error> {
        let crops: Crops = toml::from_str(include_str!("../data/crops.toml"))?;
        Ok(Tables {
            crops: crops.crop,
            defaults: toml::from_str(include_str!("../data/defaults.toml"))?,
            china: toml::from_str(include_str!("../data/china_grades.toml"))?,
            abundance: toml::from_str(include_str!("../data/abundance.toml"))?,
            tri_state: toml::from_str(include_str!("../data/tri_state.toml"))?,
            rb209: toml::from_str(include_str!("../data/rb209.toml"))?,
            quefts: toml::from_str(include_str!("../data/quefts.toml"))?,
            lime: toml::from_str(include_str!("../data/lime.toml"))?,
        })
    }

    pub fn crop(&self, key: &str) -> Option<&Crop> {
        self.crops.iter().find(|c| c.key == key)
    }

    /// The crop with this catalog code ("WHEAT_WINTER").
    pub fn crop_by_code(&self, code: &str) -> Option<&Crop> {
        self.crops.iter().find(|c| c.code == code)
    }

    pub fn crop_keys(&self) -> Vec<&str> {
        self.crops.iter().map(|c| c.key.as_str()).collect()
    }

    pub fn offtake(&self, key: &str) -> Option<&Offtake> {
        self.rb209.offtake.iter().find(|o| o.key == key)
    }
}

/// The embedded tables, parsed once. This is read-only data compiled into the binary, not
/// configuration, so a lazily initialised static is the simplest correct holder.
static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    Tables::parse_embedded().expect("advisor/data/*.toml are compiled in and checked by tests")
});

pub fn tables() -> &'static Tables {
    &TABLES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse() {
        let t = Tables::parse_embedded().unwrap();
        assert_eq!(t.crops.len(), 12);
        assert_eq!(t.crop("peanut").unwrap().legume_n_factor, Some(0.40));
        assert_eq!(t.china.olsen_p.lower_bounds.len(), 5);
        assert_eq!(t.abundance.class.len(), 4);
        assert_eq!(t.rb209.k.indices.len(), 6);
        assert!(t.crops.iter().all(|c| !c.source.is_empty()));
        // catalog codes: upper-case, one per crop
        for c in &t.crops {
            assert!(
                !c.code.is_empty()
                    && c.code
                        .chars()
                        .all(|ch| ch.is_ascii_uppercase() || ch == '_'),
                "{}",
                c.code
            );
            assert_eq!(t.crop_by_code(&c.code).map(|d| &d.key), Some(&c.key));
            assert!(!c.name_en.is_empty());
        }
    }

    #[test]
    fn grade_edges_descend() {
        let t = tables();
        for scale in [&t.china.alkali_n, &t.china.olsen_p, &t.china.available_k] {
            assert!(scale.lower_bounds.windows(2).all(|w| w[0] > w[1]));
        }
        let mins: Vec<f64> = t.abundance.class.iter().map(|c| c.min_pct).collect();
        assert!(mins.windows(2).all(|w| w[0] < w[1]));
    }
}
