//! Advice a farmer can follow: rates rounded to half a kilogram per mu, each nutrient split into
//! the basal dressing and the top-dressings by crop stage (`data/splits.toml`), and lime in kg
//! per mu, from the soil's pH and texture (`data/lime_cn.toml`) or, where a buffer pH was
//! measured, from the NCDA&CS method converted to kg/mu.
//!
//! Pure functions over plain numbers; the tables are embedded and every row names its source.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::data::LimeConstants;
use crate::error::{Error, Result};
use crate::explain::{Note, num};
use crate::methods::lime::{LimeInput, lime_requirement};
use crate::units::{Lime, Nutrient, Ph, UsTonPerAcre};

/// The step every rate is rounded to: half a kilogram per mu.
pub const HALF_KG: f64 = 0.5;

/// Differences smaller than this are float noise, not a value below a tie (13.371428571428575
/// kg/mu is what the advisor really returns; 0.1 + 0.15 is 0.25000000000000006).
const EPS: f64 = 1e-9;

/// A rate rounded to the nearest 0.5 kg. Tie rule: half-way values go up (away from zero), so
/// 0.25 -> 0.5, 0.75 -> 1.0, 13.25 -> 13.5; values within 1e-9 of a tie count as the tie, so
/// float noise never decides. Negative values round symmetrically; NaN stays NaN.
pub fn round_half_kg(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let v = x.abs() / HALF_KG;
    let mut units = (v + EPS).floor();
    if v - units >= 0.5 - EPS {
        units += 1.0;
    }
    (units * HALF_KG).copysign(x)
}

/// Splits `total_units` whole units among `weights` in proportion (largest remainder, also
/// called Hamilton's method): each share gets the floor of its exact part, and the units left
/// over go to the largest remainders, ties to the earlier share. The parts always add up to
/// `total_units`, and each differs from its exact part by less than one unit.
fn apportion(total_units: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if total_units == 0 || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| total_units as f64 * w / sum)
        .collect();
    let mut parts: Vec<u64> = exact.iter().map(|e| (e + EPS).floor() as u64).collect();
    let given: u64 = parts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
    // Stable sort: equal remainders keep the earlier application first.
    order.sort_by(|&a, &b| {
        let ra = exact[a] - parts[a] as f64;
        let rb = exact[b] - parts[b] as f64;
        rb.partial_cmp(&ra).unwrap_or(std::cmp::Ordering::Equal)
    });
    for &i in order
        .iter()
        .cycle()
        .take(total_units.saturating_sub(given) as usize)
    {
        parts[i] += 1;
    }
    parts
}

// ------------------------------------------------------------------------ the splits' table

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitApplication {
    pub key: String,
    pub zh: String,
    pub en: String,
    pub timing_zh: String,
    pub timing_en: String,
    pub n: f64,
    pub p2o5: f64,
    pub k2o: f64,
}

impl SplitApplication {
    pub fn share(&self, nutrient: Nutrient) -> f64 {
        match nutrient {
            Nutrient::N => self.n,
            Nutrient::P2O5 => self.p2o5,
            Nutrient::K2O => self.k2o,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CropSplit {
    /// The advisor's crop key (`data/crops.toml`).
    pub crop: String,
    pub source: String,
    pub application: Vec<SplitApplication>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Splits {
    crop: Vec<CropSplit>,
}

static SPLITS: LazyLock<Vec<CropSplit>> = LazyLock::new(|| {
    toml::from_str::<Splits>(include_str!("../data/splits.toml"))
        .expect("advisor/data/splits.toml is compiled in and checked by tests")
        .crop
});

/// Every crop's split (`data/splits.toml`).
pub fn splits() -> &'static [CropSplit] {
    &SPLITS
}

/// The split of a crop (advisor crop key), if one is sourced.
pub fn split_for(crop: &str) -> Option<&'static CropSplit> {
    SPLITS.iter().find(|s| s.crop == crop)
}

// ---------------------------------------------------------------------------- the plan

/// One application of the plan: when, and how much of each nutrient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    /// `basal`, `tillering`, `panicle`, `jointing`, `large_bell`.
    pub stage: String,
    pub stage_zh: String,
    pub stage_en: String,
    pub timing_zh: String,
    pub timing_en: String,
    /// kg of N, P2O5, K2O per mu, each a multiple of 0.5.
    pub kg_per_mu: [f64; 3],
    /// kg of N, P2O5, K2O for the whole field, each a multiple of 0.1.
    pub field_kg: [f64; 3],
}

/// A season's rates as a farmer applies them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitPlan {
    pub crop: String,
    pub area_mu: f64,
    /// The season's rate of N, P2O5, K2O in kg/mu, rounded to 0.5 (a non-zero rate is at least
    /// 0.5). The applications' `kg_per_mu` add up to exactly these.
    pub rate_kg_per_mu: [f64; 3],
    /// The season's kg for the field: rate x area, rounded to 0.1 kg. The applications'
    /// `field_kg` add up to exactly these.
    pub field_kg: [f64; 3],
    /// In season order, basal first; an application with nothing to apply is left out.
    pub applications: Vec<Application>,
    /// Where the shares come from (`data/splits.toml`).
    pub source: String,
    pub notes: Vec<Note>,
}

/// The plan for one crop: each rate (kg/mu of N, P2O5, K2O, as the advisor computed it) rounded
/// to 0.5 kg and split by the crop's sourced shares, and the field's totals for `area_mu`.
///
/// Invariants (each tested):
/// * the applications' amounts of a nutrient add up to its rounded rate, per mu and per field:
///   the split is made in whole half-kilogram units by largest remainder, so rounding each
///   application never loses or adds any (adjusting only the last application can drive it to
///   zero or below: 1.5 kg split 50/27.5/22.5 rounds to 1.0 + 0.5 + 0.5);
/// * a nutrient with a non-zero rate is never dropped: a rate below 0.25 kg/mu is raised to
///   0.5 (with a note), and a total of at least one unit always lands in some application.
///   Where a share is too small for a half-kilogram of its own, its amount goes to the
///   applications with the largest remainders, the basal first on a tie;
/// * an application with nothing to apply is left out of the plan.
pub fn split_plan(crop: &str, rates_kg_per_mu: [f64; 3], area_mu: f64) -> Result<SplitPlan> {
    let split = split_for(crop).ok_or_else(|| {
        Error::invalid(
            "crop",
            format!(
                "no sourced basal/top-dressing split for crop `{crop}` (have: {})",
                SPLITS
                    .iter()
                    .map(|s| s.crop.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    for (i, r) in rates_kg_per_mu.iter().enumerate() {
        if !r.is_finite() || *r < 0.0 {
            return Err(Error::invalid(
                format!("rates_kg_per_mu[{i}]"),
                format!("a rate must be a finite number >= 0 kg/mu, got {r}"),
            ));
        }
    }
    if !area_mu.is_finite() || area_mu <= 0.0 {
        return Err(Error::invalid(
            "area_mu",
            format!("the area must be a finite number > 0 mu, got {area_mu}"),
        ));
    }
    let mut notes = Vec::new();
    let apps = &split.application;
    let mut per_mu = vec![[0.0; 3]; apps.len()];
    let mut per_field = vec![[0.0; 3]; apps.len()];
    let mut rate = [0.0; 3];
    let mut field = [0.0; 3];
    for nutrient in Nutrient::ALL {
        let i = nutrient.index();
        let raw = rates_kg_per_mu[i];
        let mut total = round_half_kg(raw);
        if raw > 0.0 && total == 0.0 {
            total = HALF_KG;
            notes.push(Note::new(
                "rate_raised_to_half_kg",
                format!(
                    "{} 用量 {} 公斤/亩不足 0.25，按最小可施量 0.5 公斤/亩计",
                    nutrient.zh(),
                    num(raw)
                ),
                format!(
                    "{} rate {} kg/mu is below 0.25: raised to the smallest practical 0.5 kg/mu",
                    nutrient.label(),
                    num(raw)
                ),
            ));
        }
        rate[i] = total;
        let shares: Vec<f64> = apps.iter().map(|a| a.share(nutrient)).collect();
        let units = (total / HALF_KG).round() as u64;
        for (a, u) in apportion(units, &shares).into_iter().enumerate() {
            per_mu[a][i] = u as f64 * HALF_KG;
        }
        // The field: rate x area in whole 0.1 kg, split in proportion to the per-mu amounts.
        let tenths = (total * area_mu * 10.0 + EPS).round() as u64;
        field[i] = tenths as f64 / 10.0;
        let weights: Vec<f64> = per_mu.iter().map(|m| m[i]).collect();
        for (a, t) in apportion(tenths, &weights).into_iter().enumerate() {
            per_field[a][i] = t as f64 / 10.0;
        }
    }
    let applications = apps
        .iter()
        .enumerate()
        .filter(|(a, _)| per_mu[*a].iter().any(|x| *x > 0.0))
        .map(|(a, s)| Application {
            stage: s.key.clone(),
            stage_zh: s.zh.clone(),
            stage_en: s.en.clone(),
            timing_zh: s.timing_zh.clone(),
            timing_en: s.timing_en.clone(),
            kg_per_mu: per_mu[a],
            field_kg: per_field[a],
        })
        .collect();
    Ok(SplitPlan {
        crop: crop.to_owned(),
        area_mu,
        rate_kg_per_mu: rate,
        field_kg: field,
        applications,
        source: split.source.clone(),
        notes,
    })
}

// ------------------------------------------------------------------------------- lime

/// 1 US ton per acre in kg per mu: 907.18474 kg / 4046.8564224 m2 x 666.667 m2/mu
/// = 0.2241702 kg/m2 x 666.667 = 149.447 kg/mu (US ton: 2000 lb x 0.45359237 kg; acre:
/// 4046.8564224 m2; mu: 10 000/15 m2).
pub const KG_PER_MU_PER_US_TON_PER_ACRE: f64 = 907.184_74 / 4_046.856_422_4 * (10_000.0 / 15.0);

/// Neutralising equivalents by molar mass (CaCO3 100.09, CaO 56.08, Ca(OH)2 74.09 g/mol; each
/// neutralises two H+): kg of quicklime or slaked lime doing the work of 1 kg of CaCO3.
pub const CAO_PER_CACO3: f64 = 56.08 / 100.09;
pub const CAOH2_PER_CACO3: f64 = 74.09 / 100.09;

/// 1 g/m2 in kg/mu (the unit we read the limestone table in; see `data/lime_cn.toml`).
const KG_PER_MU_PER_G_PER_M2: f64 = (10_000.0 / 15.0) / 1000.0;

/// Soil texture classes of the Chinese lime table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Texture {
    SandyLoam,
    Loam,
    ClayLoam,
}

impl Texture {
    pub fn key(self) -> &'static str {
        match self {
            Texture::SandyLoam => "sandy_loam",
            Texture::Loam => "loam",
            Texture::ClayLoam => "clay_loam",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Texture::SandyLoam => "砂壤土",
            Texture::Loam => "壤土",
            Texture::ClayLoam => "黏壤土",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Texture::SandyLoam => "sandy loam",
            Texture::Loam => "loam",
            Texture::ClayLoam => "clay loam",
        }
    }

    /// Reads a texture from a field's soil description, in Chinese or English ("黏壤土",
    /// "沙土", "clay loam", "水稻土 paddy soil" -> none). Clay is looked for first (a 黏壤 is
    /// a clay loam), then sand, then loam.
    pub fn from_soil_text(text: &str) -> Option<Texture> {
        let t = text.to_lowercase();
        if ["黏", "粘", "clay", "重壤"].iter().any(|w| t.contains(w)) {
            Some(Texture::ClayLoam)
        } else if ["砂", "沙", "sand"].iter().any(|w| t.contains(w)) {
            Some(Texture::SandyLoam)
        } else if ["壤", "loam"].iter().any(|w| t.contains(w)) {
            Some(Texture::Loam)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextureRow {
    zh: String,
    en: String,
    range: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextureRows {
    sandy_loam: TextureRow,
    loam: TextureRow,
    clay_loam: TextureRow,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimeCnTable {
    source: String,
    unit: String,
    no_lime_ph: f64,
    max_t_per_ha_per_year: f64,
    ph: Vec<f64>,
    texture: TextureRows,
}

impl LimeCnTable {
    fn row(&self, t: Texture) -> &TextureRow {
        match t {
            Texture::SandyLoam => &self.texture.sandy_loam,
            Texture::Loam => &self.texture.loam,
            Texture::ClayLoam => &self.texture.clay_loam,
        }
    }

    /// Ground limestone for a soil at `ph` in g/m2: the midpoints of the printed ranges,
    /// linear between the table's pH columns, 0 at `no_lime_ph` and above, the first column's
    /// value below the first column.
    fn g_per_m2(&self, t: Texture, ph: f64) -> f64 {
        let row = self.row(t);
        let mut pts: Vec<(f64, f64)> = self
            .ph
            .iter()
            .zip(&row.range)
            .map(|(p, r)| (*p, (r[0] + r[1]) / 2.0))
            .collect();
        pts.push((self.no_lime_ph, 0.0));
        if ph <= pts[0].0 {
            return pts[0].1;
        }
        for w in pts.windows(2) {
            let ((p0, v0), (p1, v1)) = (w[0], w[1]);
            if ph <= p1 {
                return v0 + (v1 - v0) * (ph - p0) / (p1 - p0);
            }
        }
        0.0
    }
}

static LIME_CN: LazyLock<LimeCnTable> = LazyLock::new(|| {
    toml::from_str(include_str!("../data/lime_cn.toml"))
        .expect("advisor/data/lime_cn.toml is compiled in and checked by tests")
});

/// How the lime was worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimeMethod {
    /// pH and texture, 水土保持手冊 (2005) 表 植2-8-4 (no buffer pH needed).
    PhTexture,
    /// NCDA&CS from the Mehlich buffer pH (METHODS.md §6), converted to kg/mu.
    NcdaBuffer,
}

/// Lime for one field, always in kg per mu, as ground limestone (CaCO3) and the same
/// neutralising power as quicklime (生石灰, CaO) or slaked lime (熟石灰, Ca(OH)2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimeAdvice {
    pub method: LimeMethod,
    /// Ground limestone (石灰石粉, CaCO3), kg/mu, rounded to 0.5.
    pub limestone_kg_per_mu: f64,
    /// Quicklime (生石灰, CaO) doing the same, kg/mu, rounded to 0.5.
    pub quicklime_kg_per_mu: f64,
    /// Slaked lime (熟石灰, Ca(OH)2) doing the same, kg/mu, rounded to 0.5.
    pub slaked_lime_kg_per_mu: f64,
    /// Limestone to apply this year (the table's cap of 3 t/ha a year = 200 kg/mu), kg/mu.
    pub this_year_limestone_kg_per_mu: f64,
    /// Years to spread the whole amount over (1 when it fits under the cap; 0 for no lime).
    pub years: u32,
    /// The texture used (the table method), and whether it was assumed.
    pub texture: Option<Texture>,
    pub texture_assumed: bool,
    pub source: String,
    pub notes: Vec<Note>,
}

fn check_ph(field: &str, v: f64) -> Result<f64> {
    Ph::try_new(v).map(|p| p.value()).map_err(|e| e.at(field))
}

fn lime_advice(
    method: LimeMethod,
    limestone_kg_per_mu: f64,
    texture: Option<Texture>,
    texture_assumed: bool,
    source: String,
    mut notes: Vec<Note>,
) -> LimeAdvice {
    let cap = LIME_CN.max_t_per_ha_per_year * 1000.0 / 15.0;
    let limestone = round_half_kg(limestone_kg_per_mu.max(0.0));
    let years = if limestone == 0.0 {
        0
    } else {
        (limestone / cap - EPS).ceil().max(1.0) as u32
    };
    let this_year = round_half_kg(limestone.min(cap));
    if limestone == 0.0 {
        notes.push(Note::new(
            "no_lime_needed",
            "土壤 pH 已达到目标，无需施石灰",
            "the soil is at its target pH: no lime",
        ));
    } else if years > 1 {
        notes.push(Note::new(
            "lime_over_years",
            format!(
                "石灰石粉共 {} 公斤/亩，每年不超过 {} 公斤/亩，分 {} 年施用",
                num(limestone),
                num(round_half_kg(cap)),
                years
            ),
            format!(
                "{} kg/mu of ground limestone in all, at most {} kg/mu a year: spread over {} years",
                num(limestone),
                num(round_half_kg(cap)),
                years
            ),
        ));
    }
    LimeAdvice {
        method,
        limestone_kg_per_mu: limestone,
        quicklime_kg_per_mu: round_half_kg(limestone * CAO_PER_CACO3),
        slaked_lime_kg_per_mu: round_half_kg(limestone * CAOH2_PER_CACO3),
        this_year_limestone_kg_per_mu: this_year,
        years,
        texture,
        texture_assumed,
        source,
        notes,
    }
}

/// Lime for a Chinese soil with no buffer pH: ground limestone from the soil's pH and texture
/// (`data/lime_cn.toml`), for raising the soil from `ph` to `target_ph`: the table's amount at
/// the current pH less its amount at the target (both interpolated). With no texture known,
/// loam is assumed and flagged. A target above the table's no-lime pH (6.5) is lowered to it.
pub fn lime_by_ph_texture(ph: f64, target_ph: f64, texture: Option<Texture>) -> Result<LimeAdvice> {
    let ph = check_ph("ph", ph)?;
    let mut target = check_ph("target_ph", target_ph)?;
    let table = &*LIME_CN;
    debug_assert_eq!(table.unit, "g_per_m2");
    let mut notes = Vec::new();
    let (t, assumed) = match texture {
        Some(t) => (t, false),
        None => {
            notes.push(Note::new(
                "texture_assumed_loam",
                "未知土壤质地，按壤土计算石灰用量",
                "soil texture unknown: lime worked out for a loam",
            ));
            (Texture::Loam, true)
        }
    };
    if target > table.no_lime_ph {
        notes.push(Note::new(
            "target_ph_lowered",
            format!(
                "目标 pH {} 超出查表范围，按 {} 计",
                num(target),
                num(table.no_lime_ph)
            ),
            format!(
                "target pH {} is beyond the table: {} used",
                num(target),
                num(table.no_lime_ph)
            ),
        ));
        target = table.no_lime_ph;
    }
    if ph < table.ph[0] {
        notes.push(Note::new(
            "ph_below_table",
            format!(
                "pH {} 低于查表下限 {}，按 {} 计，请复测",
                num(ph),
                num(table.ph[0]),
                num(table.ph[0])
            ),
            format!(
                "pH {} is below the table's {}: {} used; test again",
                num(ph),
                num(table.ph[0]),
                num(table.ph[0])
            ),
        ));
    }
    let g = if ph >= target {
        0.0
    } else {
        (table.g_per_m2(t, ph) - table.g_per_m2(t, target)).max(0.0)
    };
    let row = table.row(t);
    let source = format!("{} ({} / {})", table.source, row.zh, row.en);
    Ok(lime_advice(
        LimeMethod::PhTexture,
        g * KG_PER_MU_PER_G_PER_M2,
        Some(t),
        assumed,
        source,
        notes,
    ))
}

/// Lime from the Mehlich buffer pH (NCDA&CS, METHODS.md §6) for soils a lab tested that way,
/// in kg/mu of agricultural limestone: the method's US t/acre x 149.447 (see
/// [`KG_PER_MU_PER_US_TON_PER_ACRE`]).
pub fn lime_by_buffer_ph(
    ph: f64,
    buffer_ph: f64,
    target_ph: f64,
    residual_credit_t_per_acre: f64,
    constants: &LimeConstants,
) -> Result<LimeAdvice> {
    let input = LimeInput {
        current_ph: Ph::try_new(ph).map_err(|e| e.at("ph"))?,
        buffer_ph: Ph::try_new(buffer_ph).map_err(|e| e.at("buffer_ph"))?,
        target_ph: Ph::try_new(target_ph).map_err(|e| e.at("target_ph"))?,
        residual_credit: UsTonPerAcre::<Lime>::try_new(residual_credit_t_per_acre)
            .map_err(|e| e.at("residual_credit_t_per_acre"))?,
    };
    let out = lime_requirement(&input, constants);
    Ok(lime_advice(
        LimeMethod::NcdaBuffer,
        out.lime.value() * KG_PER_MU_PER_US_TON_PER_ACRE,
        None,
        false,
        "NCDA&CS buffer-pH lime (METHODS.md §6), US t/acre x 149.447 = kg/mu".to_owned(),
        Vec::new(),
    ))
}

/// Lime for a field: the buffer-pH method where the lab measured a buffer pH, otherwise the
/// pH-and-texture table.
pub fn lime_kg_per_mu(
    ph: f64,
    buffer_ph: Option<f64>,
    target_ph: f64,
    texture: Option<Texture>,
) -> Result<LimeAdvice> {
    match buffer_ph {
        Some(b) => lime_by_buffer_ph(ph, b, target_ph, 0.0, &crate::data::tables().lime.constants),
        None => lime_by_ph_texture(ph, target_ph, texture),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn rounding_ties_go_up_and_noise_never_decides() {
        assert_eq!(round_half_kg(0.0), 0.0);
        assert_eq!(round_half_kg(0.24), 0.0);
        assert_eq!(round_half_kg(0.25), 0.5);
        assert_eq!(round_half_kg(0.1 + 0.15), 0.5);
        assert_eq!(round_half_kg(0.26), 0.5);
        assert_eq!(round_half_kg(0.74), 0.5);
        assert_eq!(round_half_kg(0.75), 1.0);
        assert_eq!(round_half_kg(0.7499999999999), 1.0);
        assert_eq!(round_half_kg(0.7499), 0.5);
        assert_eq!(round_half_kg(1.0), 1.0);
        assert_eq!(round_half_kg(0.9999999999999), 1.0);
        assert_eq!(round_half_kg(13.25), 13.5);
        assert_eq!(round_half_kg(13.371428571428575), 13.5);
        assert_eq!(round_half_kg(22.0), 22.0);
        assert_eq!(round_half_kg(-0.75), -1.0);
        assert!(round_half_kg(f64::NAN).is_nan());
        // Every multiple of 0.5 is a fixed point, and every result is one.
        for i in 0..2000 {
            let x = i as f64 * 0.5;
            assert_eq!(round_half_kg(x), x, "{x}");
            let y = i as f64 * 0.037;
            let r = round_half_kg(y);
            assert!(
                close((r * 2.0).round(), r * 2.0) && (r - y).abs() <= 0.25 + 1e-9,
                "{y}"
            );
        }
    }

    #[test]
    fn apportion_keeps_the_total_and_breaks_ties_to_the_earlier() {
        assert_eq!(apportion(3, &[0.5, 0.275, 0.225]), vec![1, 1, 1]);
        assert_eq!(apportion(27, &[0.5, 0.275, 0.225]), vec![14, 7, 6]);
        assert_eq!(apportion(1, &[0.5, 0.5]), vec![1, 0]);
        assert_eq!(apportion(0, &[0.5, 0.5]), vec![0, 0]);
        assert_eq!(apportion(4, &[1.0, 0.0]), vec![4, 0]);
        for total in 0..200 {
            let p = apportion(total, &[0.667, 0.333]);
            assert_eq!(p.iter().sum::<u64>(), total);
        }
    }

    #[test]
    fn the_table_parses_and_every_crop_adds_up() {
        let crops = crate::data::tables();
        assert!(splits().len() >= 4);
        for s in splits() {
            assert!(crops.crop(&s.crop).is_some(), "{} is not a crop", s.crop);
            assert!(!s.source.is_empty());
            assert_eq!(s.application[0].key, "basal", "{}", s.crop);
            for n in Nutrient::ALL {
                let sum: f64 = s.application.iter().map(|a| a.share(n)).sum();
                assert!((sum - 1.0).abs() < 1e-9, "{} {n}: {sum}", s.crop);
                assert!(s.application.iter().all(|a| a.share(n) >= 0.0));
            }
            // P2O5 is all basal wherever we have a source.
            assert_eq!(s.application[0].p2o5, 1.0, "{}", s.crop);
        }
        for key in [
            "rice",
            "winter_wheat",
            "spring_wheat",
            "maize",
            "rapeseed",
            "cotton",
            "potato",
            "peanut",
            "soybean",
        ] {
            assert!(split_for(key).is_some(), "{key}");
        }
    }

    /// The sums are kept and no nutrient is dropped, for every crop, rate and several areas.
    #[test]
    fn sums_are_kept_and_no_nutrient_is_dropped() {
        for s in splits() {
            for step in 0..=400 {
                let r = step as f64 * 0.073;
                for area in [0.3, 1.0, 6.0, 8.0, 12.7] {
                    let rates = [r, r * 0.6, r * 1.3];
                    let p = split_plan(&s.crop, rates, area).unwrap();
                    for n in Nutrient::ALL {
                        let i = n.index();
                        let sum: f64 = p.applications.iter().map(|a| a.kg_per_mu[i]).sum();
                        assert!(close(sum, p.rate_kg_per_mu[i]), "{} {n} {r}", s.crop);
                        let fsum: f64 = p.applications.iter().map(|a| a.field_kg[i]).sum();
                        assert!((fsum - p.field_kg[i]).abs() < 1e-6, "{} {n} {r}", s.crop);
                        assert!((p.field_kg[i] - p.rate_kg_per_mu[i] * area).abs() <= 0.05 + 1e-9);
                        if rates[i] > 0.0 {
                            assert!(p.rate_kg_per_mu[i] >= 0.5, "{} {n} {r}", s.crop);
                            assert!(p.applications.iter().any(|a| a.kg_per_mu[i] > 0.0));
                        } else {
                            assert_eq!(p.rate_kg_per_mu[i], 0.0);
                        }
                        for a in &p.applications {
                            assert!(close((a.kg_per_mu[i] * 2.0).round(), a.kg_per_mu[i] * 2.0));
                            assert!(a.kg_per_mu[i] >= 0.0);
                        }
                    }
                    assert!(
                        p.applications
                            .iter()
                            .all(|a| a.kg_per_mu.iter().any(|x| *x > 0.0))
                    );
                }
            }
        }
    }

    fn app<'a>(p: &'a SplitPlan, stage: &str) -> &'a Application {
        p.applications
            .iter()
            .find(|a| a.stage == stage)
            .unwrap_or_else(|| panic!("no {stage} in {p:#?}"))
    }

    #[test]
    fn rice_vector() {
        // The raw float: 13.371428571428575 kg N/mu -> 13.5 = 27 half-kg units, split
        // 50/27.5/22.5 -> 13.5/7.425/6.075 units -> 13 + 7 + 6 and the one left to the largest
        // remainder (basal): 14 + 7 + 6 = 7.0 + 3.5 + 3.0 kg.
        let p = split_plan("rice", [13.371428571428575, 4.2, 7.9], 8.0).unwrap();
        assert_eq!(p.rate_kg_per_mu, [13.5, 4.0, 8.0]);
        assert_eq!(p.field_kg, [108.0, 32.0, 64.0]);
        let stages: Vec<&str> = p.applications.iter().map(|a| a.stage.as_str()).collect();
        assert_eq!(stages, ["basal", "tillering", "panicle"]);
        assert_eq!(app(&p, "basal").kg_per_mu, [7.0, 4.0, 4.0]);
        assert_eq!(app(&p, "tillering").kg_per_mu, [3.5, 0.0, 0.0]);
        assert_eq!(app(&p, "panicle").kg_per_mu, [3.0, 0.0, 4.0]);
        assert_eq!(app(&p, "basal").field_kg, [56.0, 32.0, 32.0]);
        assert_eq!(app(&p, "tillering").field_kg, [28.0, 0.0, 0.0]);
        assert_eq!(app(&p, "tillering").stage_zh, "分蘖肥");
        assert_eq!(app(&p, "panicle").stage_zh, "穗肥");
        assert!(p.notes.is_empty());
    }

    #[test]
    fn the_last_application_cannot_be_rounded_away() {
        // 1.5 kg N: 0.75/0.4125/0.3375 would round to 1.0 + 0.5 + 0.5 = 2.0; adjusting only the
        // last leaves it 0. Largest remainder: 3 units as 1 + 1 + 1, sum 1.5.
        let p = split_plan("rice", [1.5, 0.0, 0.0], 1.0).unwrap();
        assert_eq!(p.rate_kg_per_mu, [1.5, 0.0, 0.0]);
        let n: Vec<f64> = p.applications.iter().map(|a| a.kg_per_mu[0]).collect();
        assert_eq!(n, [0.5, 0.5, 0.5]);
    }

    #[test]
    fn a_tiny_rate_is_raised_to_half_a_kilogram_and_goes_basal() {
        let p = split_plan("maize", [0.2, 0.0, 0.3], 2.0).unwrap();
        assert_eq!(p.rate_kg_per_mu, [0.5, 0.0, 0.5]);
        assert_eq!(p.applications.len(), 1, "{p:#?}");
        assert_eq!(p.applications[0].stage, "basal");
        assert_eq!(p.applications[0].kg_per_mu, [0.5, 0.0, 0.5]);
        assert_eq!(p.applications[0].field_kg, [1.0, 0.0, 1.0]);
        assert_eq!(p.notes.len(), 1);
        assert_eq!(p.notes[0].code, "rate_raised_to_half_kg");
        // A rate of exactly zero stays zero and is not noted.
        let p = split_plan("maize", [0.0, 0.0, 0.0], 2.0).unwrap();
        assert!(p.applications.is_empty() && p.notes.is_empty());
    }

    #[test]
    fn winter_wheat_vector() {
        // N 12.2 -> 12.0 = 24 units: 2/3 -> 16.008 -> 16 units basal (8.0), 8 at jointing (4.0).
        let p = split_plan("winter_wheat", [12.2, 5.6, 4.8], 6.0).unwrap();
        assert_eq!(p.rate_kg_per_mu, [12.0, 5.5, 5.0]);
        assert_eq!(app(&p, "basal").kg_per_mu, [8.0, 5.5, 5.0]);
        assert_eq!(app(&p, "jointing").kg_per_mu, [4.0, 0.0, 0.0]);
        assert_eq!(app(&p, "jointing").stage_zh, "拔节肥");
        assert_eq!(p.field_kg, [72.0, 33.0, 30.0]);
    }

    #[test]
    fn spring_wheat_vector() {
        let p = split_plan("spring_wheat", [9.0, 4.0, 3.0], 10.0).unwrap();
        assert_eq!(app(&p, "basal").kg_per_mu, [6.0, 4.0, 3.0]);
        assert_eq!(app(&p, "jointing").kg_per_mu, [3.0, 0.0, 0.0]);
    }

    #[test]
    fn maize_vector() {
        // K2O 6.3 -> 6.5 = 13 units: 3/4 -> 9.75 -> 10 units basal (5.0), 3 at large bell (1.5).
        let p = split_plan("maize", [14.0, 5.0, 6.3], 5.0).unwrap();
        assert_eq!(app(&p, "basal").kg_per_mu, [7.0, 5.0, 5.0]);
        assert_eq!(app(&p, "large_bell").kg_per_mu, [7.0, 0.0, 1.5]);
        assert_eq!(app(&p, "large_bell").stage_zh, "大喇叭口肥（攻穗肥）");
        assert_eq!(p.field_kg, [70.0, 25.0, 32.5]);
    }

    #[test]
    fn rapeseed_vector() {
        // N 12 = 24 units: 13.2/7.2/3.6 -> 13 + 7 + 3 = 23, the last unit to 0.6 (bolting) ->
        // 6.5 + 3.5 + 2.0.
        let p = split_plan("rapeseed", [12.0, 4.0, 6.0], 3.0).unwrap();
        assert_eq!(app(&p, "basal").kg_per_mu, [6.5, 4.0, 6.0]);
        assert_eq!(app(&p, "seedling").kg_per_mu, [3.5, 0.0, 0.0]);
        assert_eq!(app(&p, "bolting").kg_per_mu, [2.0, 0.0, 0.0]);
        assert_eq!(app(&p, "bolting").stage_zh, "薹肥");
    }

    #[test]
    fn cotton_vector() {
        // N 14 = 28 units: 7.7 x 3 and 4.9 -> 7 + 7 + 7 + 4 = 25; the 3 left to the largest
        // remainders 0.9 (boll), then 0.7 basal, 0.7 first flower (ties to the earlier).
        let p = split_plan("cotton", [14.0, 6.0, 11.0], 10.0).unwrap();
        assert_eq!(app(&p, "basal").kg_per_mu, [4.0, 6.0, 6.5]);
        assert_eq!(app(&p, "first_flower").kg_per_mu, [4.0, 0.0, 4.5]);
        assert_eq!(app(&p, "full_flower").kg_per_mu, [3.5, 0.0, 0.0]);
        assert_eq!(app(&p, "boll").kg_per_mu, [2.5, 0.0, 0.0]);
        assert_eq!(p.field_kg, [140.0, 60.0, 110.0]);
    }

    #[test]
    fn potato_vector() {
        let p = split_plan("potato", [12.0, 6.0, 15.0], 2.0).unwrap();
        assert_eq!(app(&p, "basal").kg_per_mu, [6.0, 6.0, 10.5]);
        assert_eq!(app(&p, "emergence").kg_per_mu, [4.0, 0.0, 0.0]);
        assert_eq!(app(&p, "tuber_set").kg_per_mu, [2.0, 0.0, 4.5]);
    }

    #[test]
    fn peanut_vector() {
        // The guidance's own amounts give back its own split: N 9.875 -> 10.0 (20 units:
        // 9.88/10.12 -> 9 + 10, the last to basal's 0.88) -> 5.0 + 5.0; K 7.375 -> 7.5.
        let p = split_plan("peanut", [9.875, 5.625, 7.375], 1.0).unwrap();
        assert_eq!(p.rate_kg_per_mu, [10.0, 5.5, 7.5]);
        assert_eq!(app(&p, "basal").kg_per_mu, [5.0, 5.5, 6.5]);
        assert_eq!(app(&p, "pegging").kg_per_mu, [5.0, 0.0, 1.0]);
    }

    #[test]
    fn soybean_vector() {
        // One application at sowing carries everything.
        let p = split_plan("soybean", [3.3, 3.6, 2.2], 20.0).unwrap();
        assert_eq!(p.applications.len(), 1);
        assert_eq!(p.applications[0].kg_per_mu, [3.5, 3.5, 2.0]);
        assert_eq!(p.applications[0].field_kg, [70.0, 70.0, 40.0]);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        for crop in ["tomato", "cucumber", "cabbage", "no_such_crop"] {
            let e = split_plan(crop, [1.0, 1.0, 1.0], 1.0).unwrap_err();
            assert_eq!(e.field(), Some("crop"));
            assert!(e.to_string().contains(crop));
        }
        let e = split_plan("rice", [1.0, -1.0, 1.0], 1.0).unwrap_err();
        assert_eq!(e.field(), Some("rates_kg_per_mu[1]"));
        let e = split_plan("rice", [1.0, f64::NAN, 1.0], 1.0).unwrap_err();
        assert_eq!(e.field(), Some("rates_kg_per_mu[1]"));
        let e = split_plan("rice", [1.0, 1.0, 1.0], 0.0).unwrap_err();
        assert_eq!(e.field(), Some("area_mu"));
    }

    #[test]
    fn the_us_ton_per_acre_is_149_45_kg_per_mu() {
        assert!((KG_PER_MU_PER_US_TON_PER_ACRE - 149.447).abs() < 0.001);
        // The same through the crate's own units: t/acre -> lb/acre -> kg/ha -> kg/mu.
        let via_units = UsTonPerAcre::<Lime>::new(1.0)
            .to_lb_per_acre()
            .to_kg_per_ha()
            .to_kg_per_mu()
            .value();
        assert!(
            (via_units - KG_PER_MU_PER_US_TON_PER_ACRE).abs() < 0.01,
            "{via_units}"
        );
    }

    #[test]
    fn lime_table_at_its_columns_and_between() {
        let kg = |g: f64| round_half_kg(g * KG_PER_MU_PER_G_PER_M2);
        // At a column: the range's midpoint, less the target's (6.5 -> 0).
        let a = lime_by_ph_texture(5.0, 6.5, Some(Texture::Loam)).unwrap();
        assert_eq!(a.limestone_kg_per_mu, kg(75.0)); // 50-100 g/m2 -> 50 kg/mu
        assert_eq!(a.limestone_kg_per_mu, 50.0);
        assert_eq!(a.method, LimeMethod::PhTexture);
        assert!(!a.texture_assumed);
        let a = lime_by_ph_texture(4.5, 6.5, Some(Texture::ClayLoam)).unwrap();
        assert_eq!(a.limestone_kg_per_mu, kg(165.0)); // 110 kg/mu
        let a = lime_by_ph_texture(4.0, 6.5, Some(Texture::SandyLoam)).unwrap();
        assert_eq!(a.limestone_kg_per_mu, kg(120.0)); // 80 kg/mu
        // Halfway between the 5.0 and 5.5 columns of loam: (75 + 20) / 2 = 47.5 g/m2.
        let a = lime_by_ph_texture(5.25, 6.5, Some(Texture::Loam)).unwrap();
        assert_eq!(a.limestone_kg_per_mu, kg(47.5));
        // Just either side of a column is continuous.
        let lo = lime_by_ph_texture(4.999, 6.5, Some(Texture::Loam)).unwrap();
        let hi = lime_by_ph_texture(5.001, 6.5, Some(Texture::Loam)).unwrap();
        assert!((lo.limestone_kg_per_mu - hi.limestone_kg_per_mu).abs() <= 0.5);
        // Texture orders the amount: clay > loam > sand at every acid pH.
        for ph in [3.5, 4.0, 4.5, 5.0] {
            let s = lime_by_ph_texture(ph, 6.0, Some(Texture::SandyLoam)).unwrap();
            let l = lime_by_ph_texture(ph, 6.0, Some(Texture::Loam)).unwrap();
            let c = lime_by_ph_texture(ph, 6.0, Some(Texture::ClayLoam)).unwrap();
            assert!(s.limestone_kg_per_mu < l.limestone_kg_per_mu);
            assert!(l.limestone_kg_per_mu < c.limestone_kg_per_mu);
        }
    }

    #[test]
    fn lime_target_and_edges() {
        // To a lower target, the amount between the two pH values only.
        let a = lime_by_ph_texture(5.0, 5.5, Some(Texture::Loam)).unwrap();
        assert_eq!(
            a.limestone_kg_per_mu,
            round_half_kg((75.0 - 20.0) * 0.666_666_7)
        );
        // At or above the target: none, noted.
        for (ph, target) in [(6.0, 6.0), (6.5, 6.0), (7.2, 6.5)] {
            let a = lime_by_ph_texture(ph, target, Some(Texture::ClayLoam)).unwrap();
            assert_eq!(a.limestone_kg_per_mu, 0.0);
            assert_eq!(a.years, 0);
            assert!(a.notes.iter().any(|n| n.code == "no_lime_needed"));
        }
        // Beyond the table: the first column, noted; a target above 6.5 is lowered, noted.
        let a = lime_by_ph_texture(3.2, 6.5, Some(Texture::Loam)).unwrap();
        let b = lime_by_ph_texture(3.5, 6.5, Some(Texture::Loam)).unwrap();
        assert_eq!(a.limestone_kg_per_mu, b.limestone_kg_per_mu);
        assert!(a.notes.iter().any(|n| n.code == "ph_below_table"));
        let a = lime_by_ph_texture(5.0, 7.0, Some(Texture::Loam)).unwrap();
        assert_eq!(a.limestone_kg_per_mu, 50.0);
        assert!(a.notes.iter().any(|n| n.code == "target_ph_lowered"));
        // No texture: loam, flagged.
        let a = lime_by_ph_texture(5.0, 6.5, None).unwrap();
        assert_eq!(a.limestone_kg_per_mu, 50.0);
        assert!(a.texture_assumed && a.texture == Some(Texture::Loam));
        // Bad pH: a typed error on the field.
        assert_eq!(
            lime_by_ph_texture(15.0, 6.5, None).unwrap_err().field(),
            Some("ph")
        );
        assert_eq!(
            lime_by_ph_texture(5.0, -1.0, None).unwrap_err().field(),
            Some("target_ph")
        );
    }

    #[test]
    fn lime_materials_and_the_yearly_cap() {
        // Clay loam at pH 3.5 to 6.5: 320 g/m2 = 213.3 -> 213.5 kg/mu limestone, over the
        // 200 kg/mu (3 t/ha) yearly cap: 2 years, 200 this year.
        let a = lime_by_ph_texture(3.5, 6.5, Some(Texture::ClayLoam)).unwrap();
        assert_eq!(a.limestone_kg_per_mu, 213.5);
        assert_eq!(a.this_year_limestone_kg_per_mu, 200.0);
        assert_eq!(a.years, 2);
        assert!(a.notes.iter().any(|n| n.code == "lime_over_years"));
        // Quicklime 0.5603 and slaked lime 0.7402 of the limestone.
        assert_eq!(a.quicklime_kg_per_mu, round_half_kg(213.5 * 0.5603));
        assert_eq!(a.quicklime_kg_per_mu, 119.5);
        assert_eq!(a.slaked_lime_kg_per_mu, 158.0);
        let b = lime_by_ph_texture(5.0, 6.5, Some(Texture::Loam)).unwrap();
        assert_eq!((b.years, b.this_year_limestone_kg_per_mu), (1, 50.0));
    }

    #[test]
    fn buffer_ph_lime_in_kg_per_mu() {
        let k = crate::data::tables().lime.constants;
        // acidity (6.6 - 6.2) x 4 = 1.6; factor (6.0 - 5.2) / (6.6 - 5.2) = 0.5714;
        // 0.9143 t/acre x 149.447 = 136.6 -> 136.5 kg/mu.
        let a = lime_by_buffer_ph(5.2, 6.2, 6.0, 0.0, &k).unwrap();
        assert_eq!(a.method, LimeMethod::NcdaBuffer);
        assert_eq!(a.limestone_kg_per_mu, 136.5);
        let via = lime_kg_per_mu(5.2, Some(6.2), 6.0, Some(Texture::Loam)).unwrap();
        assert_eq!(via, a);
        let table = lime_kg_per_mu(5.2, None, 6.0, Some(Texture::Loam)).unwrap();
        assert_eq!(table.method, LimeMethod::PhTexture);
        assert_eq!(
            lime_by_buffer_ph(5.2, 6.2, 6.0, -1.0, &k)
                .unwrap_err()
                .field(),
            Some("residual_credit_t_per_acre")
        );
    }

    #[test]
    fn textures_from_soil_descriptions() {
        assert_eq!(Texture::from_soil_text("黏壤土"), Some(Texture::ClayLoam));
        assert_eq!(Texture::from_soil_text("粘土"), Some(Texture::ClayLoam));
        assert_eq!(Texture::from_soil_text("沙壤土"), Some(Texture::SandyLoam));
        assert_eq!(Texture::from_soil_text("砂土"), Some(Texture::SandyLoam));
        assert_eq!(Texture::from_soil_text("中壤"), Some(Texture::Loam));
        assert_eq!(
            Texture::from_soil_text("Clay loam"),
            Some(Texture::ClayLoam)
        );
        assert_eq!(
            Texture::from_soil_text("sandy loam"),
            Some(Texture::SandyLoam)
        );
        assert_eq!(Texture::from_soil_text("水稻土 paddy soil"), None);
        // The names are the table's own.
        for t in [Texture::SandyLoam, Texture::Loam, Texture::ClayLoam] {
            assert_eq!(LIME_CN.row(t).zh, t.zh());
            assert_eq!(LIME_CN.row(t).en, t.en());
            assert_eq!(Texture::from_soil_text(t.zh()), Some(t));
            assert_eq!(Texture::from_soil_text(t.en()), Some(t));
        }
        assert_eq!(Texture::ClayLoam.key(), "clay_loam");
    }

    #[test]
    fn lime_table_parses() {
        let t = &*LIME_CN;
        assert_eq!(t.unit, "g_per_m2");
        for tex in [Texture::SandyLoam, Texture::Loam, Texture::ClayLoam] {
            let row = t.row(tex);
            assert_eq!(row.range.len(), t.ph.len());
            assert!(row.range.iter().all(|r| r[0] <= r[1]));
            assert!(!row.zh.is_empty() && !row.en.is_empty());
            // Less lime as the pH rises.
            let mids: Vec<f64> = row.range.iter().map(|r| r[0] + r[1]).collect();
            assert!(mids.windows(2).all(|w| w[0] >= w[1]));
        }
        assert!(t.ph.windows(2).all(|w| w[0] < w[1]));
        assert!(t.no_lime_ph > *t.ph.last().unwrap());
    }
}
