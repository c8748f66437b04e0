//! A county's agronomy parameters and settings, and where each value of a draft comes from.
//!
//! NY/T 1118-2006 has each county calibrate the nutrient balance from its own trials: the
//! correction coefficients from omission plots, the first-season recovery rates, the factor on
//! the last three years' yield. A county's agronomists record them here per crop (and soil
//! type, or for all soils), each with its source and date. A draft takes, for every value, the
//! agronomist's own figure on the draft, else the crop plan's measurement (a no-fertiliser
//! plot), else the county's parameter (its soil type before all soils), else the sourced
//! default below, flagged as a default; the draft's `provenance` lists which it was.

use super::*;
use crate::entities::{county_parameter, county_setting};

/// Mean first-season recovery rates of N, P2O5 and K2O measured in Chinese field trials of
/// 2001-2005: Zhang Fusuo et al. 2008, "我国主要粮食作物肥料利用率现状与提高途径", 土壤学报
/// (Acta Pedologica Sinica) 45(5):915-924: rice 28.3 / 13.1 / 32.4 %, wheat 28.2 / 10.7 / 30.3 %,
/// maize 26.1 / 11.0 / 31.9 %. Other crops take the advisor's textbook midpoints
/// (advisor/data/defaults.toml).
const TRIAL_RECOVERY: &[(&str, [f64; 3])] = &[
    ("rice", [0.283, 0.131, 0.324]),
    ("winter_wheat", [0.282, 0.107, 0.303]),
    ("spring_wheat", [0.282, 0.107, 0.303]),
    ("maize", [0.261, 0.110, 0.319]),
];

const RECOVERY_CITE: (&str, &str) = (
    "张福锁等 2008，土壤学报 45(5):915-924，全国田间试验平均当季利用率",
    "Zhang Fusuo et al. 2008, Acta Pedologica Sinica 45(5):915-924, mean first-season recovery in Chinese field trials",
);

/// Relative yield of an omission plot (yield without the nutrient / yield with N, P and K) used
/// when a county has no correction coefficients and the plan no no-fertiliser plot: the soil
/// supplies `relative yield x target yield x uptake` of the nutrient (the yield-based form of the
/// nutrient balance, METHODS.md §1, 地力差减法 §2). Chinese omission-trial summaries (the 3414
/// trials of the national soil-testing programme; Chuan et al. 2013, Field Crops Research
/// 140:1-8 for wheat; Xu et al. 2017, Field Crops Research 203:8-15 for maize) put the relative
/// yield of cereals without N well below that without P or K, which is mostly above 0.85. The
/// values here are mid-range assumptions from those summaries, not a county's measurement: a
/// draft that uses them says so, and the county's own trials should replace them.
pub const DEFAULT_RELATIVE_YIELD: [f64; 3] = [0.75, 0.90, 0.90];

const RELATIVE_YIELD_CITE: (&str, &str) = (
    "默认值：缺素区相对产量 N 0.75、P 0.90、K 0.90（全国 3414 试验汇总的中间值），请按本县空白区试验核定",
    "default: omission-plot relative yield N 0.75, P 0.90, K 0.90 (mid-range of China's 3414 trial summaries); set the county's own from its omission plots",
);

/// Where one value of a draft came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValueSource {
    /// The agronomist set it on the draft.
    Draft,
    /// Measured on the crop plan (its no-fertiliser plot, its target yield).
    CropPlan,
    /// The county's parameter.
    County,
    /// A sourced default: no county value yet.
    Default,
}

/// One value of a draft with its source, for the agronomist and for the record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `correction.n`, `recovery.p2o5`, `targetYieldFactor`, `targetYield`, ...
    pub key: String,
    pub value: f64,
    pub source: ValueSource,
    pub cite_zh: String,
    pub cite_en: String,
}

impl Provenance {
    fn new(key: &str, value: f64, source: ValueSource, cite: (&str, &str)) -> Provenance {
        Provenance {
            key: key.to_owned(),
            value,
            source,
            cite_zh: cite.0.to_owned(),
            cite_en: cite.1.to_owned(),
        }
    }
}

/// The values a nutrient-balance draft runs with, each with its provenance.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// The correction coefficients (N, P2O5, K2O), or none when a no-fertiliser plot calibrates
    /// them.
    pub correction: Option<[f64; 3]>,
    pub recovery: Option<[f64; 3]>,
    pub target_yield_factor: Option<f64>,
    pub provenance: Vec<Provenance>,
    /// Whether the soil's supply rests on the assumed default relative yields (no correction
    /// coefficients from the draft or the county, no no-fertiliser plot): the weakest of the
    /// defaults, which a draft's notes and a regional formula flag. (Recovery rates and the
    /// target-yield factor default to published means; the provenance lists them too.)
    pub soil_supply_assumed: bool,
}

const NUTRIENTS: [&str; 3] = ["n", "p2o5", "k2o"];

fn county_cite(p: &county_parameter::Model) -> (String, String) {
    let soil = if p.soil_type.is_empty() {
        ("全部土壤", "all soils")
    } else {
        (p.soil_type.as_str(), p.soil_type.as_str())
    };
    (
        format!("本县参数（{}，{}）：{}", soil.0, p.source_date, p.source_zh),
        format!(
            "county parameter ({}, {}): {}",
            soil.1, p.source_date, p.source_en
        ),
    )
}

/// The county's parameter rows for a crop that apply to a soil type: the soil type's own
/// first, then the row for all soils.
async fn county_rows(
    db: &impl ConnectionTrait,
    county_id: Option<i64>,
    crop: &str,
    soil_type: &str,
) -> Result<Vec<county_parameter::Model>> {
    let Some(county_id) = county_id else {
        return Ok(vec![]);
    };
    let mut rows = county_parameter::Entity::find()
        .filter(county_parameter::Column::CountyId.eq(county_id))
        .filter(county_parameter::Column::Crop.eq(crop))
        .filter(county_parameter::Column::SoilType.is_in([soil_type.trim(), ""]))
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.soil_type.is_empty());
    Ok(rows)
}

/// Target yield (kg/mu) the advisor will use: the draft's, the plan's, or the mean of the last
/// three years times the factor (as the advisor computes it).
fn target_yield(params: &Params, plan: &crop_plan::Model, factor: f64) -> Option<f64> {
    if let Some(t) = params
        .target_yield_kg_per_mu
        .or(plan.target_yield_kg_per_mu)
    {
        return Some(t);
    }
    let ys: Vec<f64> = serde_json::from_value(plan.past_yields_kg_per_mu.clone()?).ok()?;
    let years = advisor::data::tables().defaults.target_yield.years as usize;
    let used = &ys[ys.len().saturating_sub(years)..];
    (!used.is_empty()).then(|| used.iter().sum::<f64>() / used.len() as f64 * factor)
}

/// The soil stock in label form (kg/mu of N, P2O5, K2O): mg/kg x 0.15 (NY/T 1118-2006's
/// 150 000 kg of plough layer per mu), P -> P2O5 x 2.2913, K -> K2O x 1.2046 (METHODS.md).
fn soil_stock(test: &soil_test::Model, olsen_p: f64) -> [f64; 3] {
    [
        test.alkali_n_mg_kg * 0.15,
        olsen_p * 0.15 * 2.2913,
        test.available_k_mg_kg * 0.15 * 1.2046,
    ]
}

/// Resolves the nutrient balance's values for a draft: the agronomist's, the plan's, the
/// county's, or the sourced defaults, with a provenance entry for each.
pub async fn resolve(
    db: &impl ConnectionTrait,
    f: &field::Model,
    plan: &crop_plan::Model,
    test: &soil_test::Model,
    params: &Params,
) -> Result<Resolved> {
    let county = crate::regions::county_of(db, f.village_id).await?;
    let rows = county_rows(db, county, &plan.crop, &f.soil_type).await?;
    let mut out = Resolved::default();
    let d = &advisor::data::tables().defaults;
    // The target-yield factor (only used with past yields).
    let factor = match (
        params
            .target_yield_kg_per_mu
            .or(plan.target_yield_kg_per_mu),
        rows.iter().find(|r| r.target_yield_factor.is_some()),
    ) {
        (Some(t), _) => {
            let src = if params.target_yield_kg_per_mu.is_some() {
                ValueSource::Draft
            } else {
                ValueSource::CropPlan
            };
            out.provenance.push(Provenance::new(
                "targetYield",
                t,
                src,
                ("目标产量（公斤/亩）", "target yield (kg/mu)"),
            ));
            None
        }
        (None, Some(r)) => {
            let v = r.target_yield_factor.unwrap_or(d.target_yield.factor);
            let (zh, en) = county_cite(r);
            out.provenance.push(Provenance::new(
                "targetYieldFactor",
                v,
                ValueSource::County,
                (&zh, &en),
            ));
            out.target_yield_factor = Some(v);
            Some(v)
        }
        (None, None) => {
            out.provenance.push(Provenance::new(
                "targetYieldFactor",
                d.target_yield.factor,
                ValueSource::Default,
                (
                    "默认：前三年平均产量 × 1.10（NY/T 1118-2006 常用 1.10-1.15）",
                    "default: last three years' mean x 1.10 (NY/T 1118-2006 practice, 1.10-1.15)",
                ),
            ));
            Some(d.target_yield.factor)
        }
    };
    // Recovery rates, nutrient by nutrient.
    let crop_key = advisor_crop(&plan.crop).unwrap_or_default();
    let trial = TRIAL_RECOVERY
        .iter()
        .find(|(k, _)| *k == crop_key)
        .map(|(_, v)| *v);
    let textbook = [
        d.recovery.n.default,
        d.recovery.p2o5.default,
        d.recovery.k2o.default,
    ];
    let mut recovery = [0.0; 3];
    for (i, nutrient) in NUTRIENTS.iter().enumerate() {
        let key = format!("recovery.{nutrient}");
        let county_value = rows.iter().find_map(|r| {
            [r.recovery_n, r.recovery_p2o5, r.recovery_k2o][i].map(|v| (v, county_cite(r)))
        });
        recovery[i] = if let Some(v) = params.recovery_rates.map(|r| r[i]) {
            out.provenance.push(Provenance::new(
                &key,
                v,
                ValueSource::Draft,
                ("农技人员在草稿中填写", "set on the draft by the agronomist"),
            ));
            v
        } else if let Some((v, (zh, en))) = county_value {
            out.provenance
                .push(Provenance::new(&key, v, ValueSource::County, (&zh, &en)));
            v
        } else if let Some(t) = trial {
            out.provenance.push(Provenance::new(
                &key,
                t[i],
                ValueSource::Default,
                RECOVERY_CITE,
            ));
            t[i]
        } else {
            out.provenance.push(Provenance::new(
                &key,
                textbook[i],
                ValueSource::Default,
                (
                    "默认：教科书当季利用率范围的中值（N 30-35%、P 10-25%、K 25-50%）",
                    "default: midpoint of the textbook first-season recovery ranges (N 30-35 %, P 10-25 %, K 25-50 %)",
                ),
            ));
            textbook[i]
        };
    }
    out.recovery = Some(recovery);
    // Correction coefficients: the draft's, a no-fertiliser plot's (the advisor calibrates
    // them), the county's, or derived from the default relative yields.
    if let Some(c) = params.correction_coefficients {
        for (i, nutrient) in NUTRIENTS.iter().enumerate() {
            out.provenance.push(Provenance::new(
                &format!("correction.{nutrient}"),
                c[i],
                ValueSource::Draft,
                ("农技人员在草稿中填写", "set on the draft by the agronomist"),
            ));
        }
        out.correction = Some(c);
        return Ok(out);
    }
    if let Some(y) = plan.no_fertiliser_yield_kg_per_mu {
        out.provenance.push(Provenance::new(
            "noFertiliserYield",
            y,
            ValueSource::CropPlan,
            (
                "空白区产量校正（NY/T 1118-2006）",
                "calibrated on the plan's no-fertiliser plot (NY/T 1118-2006)",
            ),
        ));
        return Ok(out);
    }
    let olsen = test.olsen_p_mg_kg.unwrap_or(0.0);
    let stock = soil_stock(test, olsen);
    let uptake = advisor::data::tables()
        .crop(crop_key)
        .map(|c| [c.n / 100.0, c.p2o5 / 100.0, c.k2o / 100.0]);
    // No factor only when the draft or plan gives the target yield itself.
    let target = target_yield(params, plan, factor.unwrap_or(1.0));
    let mut correction = [0.0; 3];
    for (i, nutrient) in NUTRIENTS.iter().enumerate() {
        let key = format!("correction.{nutrient}");
        let county_value = rows.iter().find_map(|r| {
            [r.correction_n, r.correction_p2o5, r.correction_k2o][i].map(|v| (v, county_cite(r)))
        });
        correction[i] = if let Some((v, (zh, en))) = county_value {
            out.provenance
                .push(Provenance::new(&key, v, ValueSource::County, (&zh, &en)));
            v
        } else {
            out.soil_supply_assumed = true;
            // coefficient = relative yield x target yield x uptake / soil stock, so that the
            // soil supplies what the omission plot's relative yield says (METHODS.md §1).
            let derived = match (uptake, target) {
                (Some(u), Some(y)) if stock[i] > 0.0 => {
                    (DEFAULT_RELATIVE_YIELD[i] * y * u[i] / stock[i]).clamp(0.01, 10.0)
                }
                _ => 0.5,
            };
            let derived = (derived * 1000.0).round() / 1000.0;
            out.provenance.push(Provenance::new(
                &key,
                derived,
                ValueSource::Default,
                RELATIVE_YIELD_CITE,
            ));
            derived
        };
    }
    out.correction = Some(correction);
    Ok(out)
}

/// What an agronomist sets for a crop (and soil type) of a county.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CountyParamInput {
    pub county_id: i64,
    pub crop: String,
    /// Empty for every soil type.
    pub soil_type: String,
    pub correction: Option<[f64; 3]>,
    pub recovery: Option<[f64; 3]>,
    pub target_yield_factor: Option<f64>,
    pub source_zh: String,
    pub source_en: String,
    pub source_date: NaiveDate,
}

fn require_county_agronomist(actor: &Actor, county_id: i64) -> Result<()> {
    actor.require(
        actor.is_admin()
            || (actor.role == Role::Agronomist && actor.county_ids.contains(&county_id)),
    )
}

/// A county's parameters, by crop and soil type (its agronomists, its regulators, admins).
pub async fn county_params(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county_id: i64,
) -> Result<Vec<county_parameter::Model>> {
    actor.require(
        actor.is_admin()
            || (matches!(actor.role, Role::Agronomist | Role::Regulator)
                && actor.county_ids.contains(&county_id)),
    )?;
    Ok(county_parameter::Entity::find()
        .filter(county_parameter::Column::CountyId.eq(county_id))
        .order_by_asc(county_parameter::Column::Crop)
        .order_by_asc(county_parameter::Column::SoilType)
        .all(db)
        .await?)
}

fn check_input(input: &CountyParamInput) -> Result<CountyParamInput> {
    let mut errs = Errors::new();
    let mut out = input.clone();
    out.soil_type = input.soil_type.trim().to_owned();
    if advisor_crop(&input.crop).is_none() {
        errs.push(FieldError::new(
            "crop",
            Code::UnknownReference,
            "该作物不能做配方",
            "this crop cannot be planned",
        ));
    }
    if out.soil_type.chars().count() > 100 {
        errs.push(FieldError::new(
            "soilType",
            Code::TooLong,
            "土壤类型不能超过 100 个字符",
            "the soil type must be at most 100 characters",
        ));
    }
    if let Some(c) = input.correction
        && !c.iter().all(|x| x.is_finite() && *x > 0.0 && *x <= 10.0)
    {
        errs.push(FieldError::new(
            "correction",
            Code::OutOfRange,
            "校正系数应为 0 到 10 之间的正数（N、P2O5、K2O）",
            "correction coefficients must be greater than 0 and at most 10 (N, P2O5, K2O)",
        ));
    }
    if let Some(r) = input.recovery
        && !r.iter().all(|x| x.is_finite() && *x > 0.0 && *x <= 1.0)
    {
        errs.push(FieldError::new(
            "recovery",
            Code::OutOfRange,
            "利用率应为 0 到 1 之间的小数（如 0.30 表示 30%）",
            "recovery rates must be fractions greater than 0 and at most 1 (0.30 for 30 %)",
        ));
    }
    if let Some(t) = input.target_yield_factor
        && !(t.is_finite() && (1.0..=1.6).contains(&t))
    {
        errs.push(FieldError::new(
            "targetYieldFactor",
            Code::OutOfRange,
            "增产系数应在 1.0 到 1.6 之间（粮食作物常用 1.10-1.15）",
            "the target-yield factor must be 1.0 to 1.6 (1.10-1.15 is common for grain crops)",
        ));
    }
    if input.correction.is_none() && input.recovery.is_none() && input.target_yield_factor.is_none()
    {
        errs.push(FieldError::new(
            "correction",
            Code::Required,
            "至少填写一项参数",
            "set at least one parameter",
        ));
    }
    for (field, v, max) in [
        ("sourceZh", &input.source_zh, 500),
        ("sourceEn", &input.source_en, 500),
    ] {
        match types::name(field, v, max) {
            Ok(s) if field == "sourceZh" => out.source_zh = s,
            Ok(s) => out.source_en = s,
            Err(e) => errs.push(e),
        }
    }
    if input.source_date > crate::today() {
        errs.push(FieldError::new(
            "sourceDate",
            Code::OutOfRange,
            "来源日期不能晚于今天",
            "the source date cannot be in the future",
        ));
    }
    errs.finish()?;
    Ok(out)
}

/// Sets (creates or replaces) a county's parameters for a crop and soil type.
pub async fn set_county_param<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: CountyParamInput,
) -> Result<county_parameter::Model> {
    require_county_agronomist(actor, input.county_id)?;
    let input = check_input(&input)?;
    let txn = crate::begin_write(db).await?;
    let existing = county_parameter::Entity::find()
        .filter(county_parameter::Column::CountyId.eq(input.county_id))
        .filter(county_parameter::Column::Crop.eq(input.crop.as_str()))
        .filter(county_parameter::Column::SoilType.eq(input.soil_type.as_str()))
        .one(&txn)
        .await?;
    let c = input.correction.map(|c| c.map(Some)).unwrap_or([None; 3]);
    let r = input.recovery.map(|r| r.map(Some)).unwrap_or([None; 3]);
    let mut am = match existing {
        Some(e) => e.into(),
        None => county_parameter::ActiveModel {
            county_id: Set(input.county_id),
            crop: Set(input.crop.clone()),
            soil_type: Set(input.soil_type.clone()),
            ..Default::default()
        },
    };
    am.correction_n = Set(c[0]);
    am.correction_p2o5 = Set(c[1]);
    am.correction_k2o = Set(c[2]);
    am.recovery_n = Set(r[0]);
    am.recovery_p2o5 = Set(r[1]);
    am.recovery_k2o = Set(r[2]);
    am.target_yield_factor = Set(input.target_yield_factor);
    am.source_zh = Set(input.source_zh);
    am.source_en = Set(input.source_en);
    am.source_date = Set(input.source_date);
    am.set_by = Set(actor.user_id);
    am.updated_at = Set(crate::now());
    let saved = am.save(&txn).await?;
    let id = saved.id.clone().unwrap();
    txn.commit().await?;
    county_parameter::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("county parameter", id))
}

/// Removes one of a county's parameter rows (drafts then fall back to the defaults).
pub async fn delete_county_param(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<()> {
    let row = county_parameter::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("county parameter", id))?;
    // A county's parameters are not secret (its regulators read them too): a wrong role is
    // refused, not told "not found".
    require_county_agronomist(actor, row.county_id)?;
    county_parameter::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// A county's agronomy settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountySettings {
    pub county_id: i64,
    pub require_second_approval: bool,
}

async fn settings_row(
    db: &impl ConnectionTrait,
    county_id: i64,
) -> Result<Option<county_setting::Model>> {
    Ok(county_setting::Entity::find()
        .filter(county_setting::Column::CountyId.eq(county_id))
        .one(db)
        .await?)
}

/// Whether the county requires a second agronomist's approval (false when never set).
pub(crate) async fn requires_second_approval(
    db: &impl ConnectionTrait,
    county_id: Option<i64>,
) -> Result<bool> {
    Ok(match county_id {
        Some(c) => settings_row(db, c)
            .await?
            .is_some_and(|s| s.require_second_approval),
        None => false,
    })
}

pub async fn county_settings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county_id: i64,
) -> Result<CountySettings> {
    actor.require(
        actor.is_admin()
            || (matches!(actor.role, Role::Agronomist | Role::Regulator)
                && actor.county_ids.contains(&county_id)),
    )?;
    Ok(CountySettings {
        county_id,
        require_second_approval: requires_second_approval(db, Some(county_id)).await?,
    })
}

/// Sets whether the county's drafts need a second agronomist's approval.
pub async fn set_require_second_approval<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    county_id: i64,
    required: bool,
) -> Result<CountySettings> {
    require_county_agronomist(actor, county_id)?;
    crate::regions::region(db, county_id).await?;
    let txn = crate::begin_write(db).await?;
    let mut am: county_setting::ActiveModel = match settings_row(&txn, county_id).await? {
        Some(s) => s.into(),
        None => county_setting::ActiveModel {
            county_id: Set(county_id),
            ..Default::default()
        },
    };
    am.require_second_approval = Set(required);
    am.updated_by = Set(actor.user_id);
    am.updated_at = Set(crate::now());
    am.save(&txn).await?;
    txn.commit().await?;
    Ok(CountySettings {
        county_id,
        require_second_approval: required,
    })
}
