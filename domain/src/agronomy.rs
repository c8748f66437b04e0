//! 测土配方施肥: crop plans, soil tests (entered or imported from a lab's CSV), draft
//! recommendations computed by the advisor with a least-cost basket of real, in-stock offers
//! from the dealers serving the field, the agronomist's review (edit, publish signed, reject),
//! the farmer's view and "basket to cart", and regional formulas for a county.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::accounts::{Actor, Role};
use crate::entities::{
    app_user, cart_line, crop_plan, dealer_service_area, fertiliser_spec, field, offer, product,
    recommendation, region, regional_formula, sku, soil_test,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::events::DomainEvent;
use crate::stock::{CsvPolicy, RowError};
use crate::{orders, regions, types};
use advisor::units::{Kg, KgPerMu, MgPerKg, Ph, Positive, RecoveryRate, Yield};

/// The advisor's crop key for a catalog crop code (advisor/data/crops.toml), when the advisor
/// can plan the crop.
pub fn advisor_crop(code: &str) -> Option<&'static str> {
    crate::catalog::crops::advisor_key(code)
}

/// Correction coefficients used in a draft when the agronomist has given none and the crop plan
/// has no no-fertiliser yield to calibrate them. They are placeholders, not data: NY/T
/// 1118-2006 calibrates them per county from omission plots, so every draft that uses them
/// says so and the agronomist sets them before publishing.
pub const PLACEHOLDER_CORRECTION: [f64; 3] = [0.5, 0.5, 0.5];

// ---------------------------------------------------------------- access

/// A field the actor may work on: the farmer's own, an agronomist's county, or any for admins.
/// Anything else is "not found": the existence of someone's field is private too.
pub async fn field_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    field_id: i64,
) -> Result<field::Model> {
    crate::fields::get(db, actor, field_id).await
}

fn require_agronomist(actor: &Actor) -> Result<()> {
    actor.require(matches!(actor.role, Role::Agronomist | Role::Admin))
}

// ---------------------------------------------------------------- crop plans

#[derive(Clone, Debug, Default)]
pub struct CropPlanInput {
    pub field_id: i64,
    pub crop: String,
    pub season: String,
    pub target_yield_kg_per_mu: Option<f64>,
    pub past_yields_kg_per_mu: Option<Vec<f64>>,
    pub no_fertiliser_yield_kg_per_mu: Option<f64>,
    pub previous_crop: String,
    pub straw_returned: bool,
}

pub async fn create_crop_plan(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: CropPlanInput,
) -> Result<crop_plan::Model> {
    actor.require(matches!(
        actor.role,
        Role::Farmer | Role::Agronomist | Role::Admin
    ))?;
    field_for(db, actor, input.field_id).await?;
    let mut errs = Errors::new();
    let crop = crate::catalog::crops::resolve(&input.crop);
    if crop.and_then(advisor_crop).is_none() {
        errs.push(FieldError::new(
            "crop",
            Code::InvalidFormat,
            "该作物暂无养分吸收数据，不能做配方",
            "no uptake data for this crop: it cannot be planned",
        ));
    }
    errs.take(types::name("season", &input.season, 40));
    let yield_ok = |v: f64| v.is_finite() && v > 0.0 && v <= 20_000.0;
    match (&input.target_yield_kg_per_mu, &input.past_yields_kg_per_mu) {
        (None, None) => errs.push(FieldError::new(
            "targetYieldKgPerMu",
            Code::Required,
            "请填写目标产量，或近三年产量",
            "give the target yield or the last three years' yields",
        )),
        (Some(t), _) if !yield_ok(*t) => errs.push(FieldError::new(
            "targetYieldKgPerMu",
            Code::OutOfRange,
            "目标产量应在 0 到 20000 公斤/亩之间",
            "target yield must be 0 to 20,000 kg/mu",
        )),
        (_, Some(p)) if p.is_empty() || p.len() > 5 || !p.iter().all(|v| yield_ok(*v)) => errs
            .push(FieldError::new(
                "pastYieldsKgPerMu",
                Code::OutOfRange,
                "近年产量应为 1 到 5 个正数（公斤/亩）",
                "past yields must be 1 to 5 positive numbers (kg/mu)",
            )),
        _ => {}
    }
    if let Some(v) = input.no_fertiliser_yield_kg_per_mu
        && !yield_ok(v)
    {
        errs.push(FieldError::new(
            "noFertiliserYieldKgPerMu",
            Code::OutOfRange,
            "空白区产量应为正数",
            "the no-fertiliser yield must be positive",
        ));
    }
    if input.previous_crop.chars().count() > 40 {
        errs.push(FieldError::new(
            "previousCrop",
            Code::TooLong,
            "不能超过 40 个字符",
            "must be at most 40 characters",
        ));
    }
    errs.finish()?;
    Ok(crop_plan::ActiveModel {
        field_id: Set(input.field_id),
        crop: Set(crop.unwrap_or_default().into()),
        season: Set(input.season.trim().into()),
        target_yield_kg_per_mu: Set(input.target_yield_kg_per_mu),
        past_yields_kg_per_mu: Set(input.past_yields_kg_per_mu.map(|p| json!(p))),
        no_fertiliser_yield_kg_per_mu: Set(input.no_fertiliser_yield_kg_per_mu),
        previous_crop: Set(input.previous_crop.trim().into()),
        straw_returned: Set(input.straw_returned),
        created_by: Set(actor.user_id),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn crop_plans_of(
    db: &impl ConnectionTrait,
    field_id: i64,
) -> Result<Vec<crop_plan::Model>> {
    Ok(crop_plan::Entity::find()
        .filter(crop_plan::Column::FieldId.eq(field_id))
        .order_by_desc(crop_plan::Column::Id)
        .all(db)
        .await?)
}

// ---------------------------------------------------------------- soil tests

#[derive(Clone, Debug, Default)]
pub struct SoilTestInput {
    pub field_id: i64,
    pub sampled_on: NaiveDate,
    pub depth_from_cm: i32,
    pub depth_to_cm: i32,
    pub lab: String,
    pub lab_sample_id: String,
    pub ph: f64,
    pub buffer_ph: Option<f64>,
    pub organic_matter_g_kg: f64,
    pub alkali_n_mg_kg: f64,
    pub olsen_p_mg_kg: Option<f64>,
    pub mehlich3_p_mg_kg: Option<f64>,
    pub available_k_mg_kg: f64,
    pub cec_cmol_kg: Option<f64>,
    pub ca_mg_kg: Option<f64>,
    pub mg_mg_kg: Option<f64>,
    pub s_mg_kg: Option<f64>,
    pub zn_mg_kg: Option<f64>,
    pub b_mg_kg: Option<f64>,
}

/// Plausible ranges: a value outside is a typo or a unit mix-up (g/kg vs mg/kg), not a soil.
fn validate_soil(t: &SoilTestInput) -> Vec<FieldError> {
    let mut errs = Errors::new();
    let range = |errs: &mut Errors, field: &str, v: f64, lo: f64, hi: f64, unit: &str| {
        if !(v.is_finite() && (lo..=hi).contains(&v)) {
            errs.push(FieldError::new(
                field,
                Code::OutOfRange,
                format!("应在 {lo} 到 {hi} {unit} 之间（请检查单位）"),
                format!("must be between {lo} and {hi} {unit} (check the unit)"),
            ));
        }
    };
    range(&mut errs, "ph", t.ph, 3.0, 10.0, "");
    if let Some(b) = t.buffer_ph {
        range(&mut errs, "bufferPh", b, 3.0, 8.0, "");
    }
    range(
        &mut errs,
        "organicMatterGKg",
        t.organic_matter_g_kg,
        0.0,
        300.0,
        "g/kg",
    );
    range(
        &mut errs,
        "alkaliNMgKg",
        t.alkali_n_mg_kg,
        0.0,
        1000.0,
        "mg/kg",
    );
    range(
        &mut errs,
        "availableKMgKg",
        t.available_k_mg_kg,
        0.0,
        3000.0,
        "mg/kg",
    );
    if let Some(v) = t.olsen_p_mg_kg {
        range(&mut errs, "olsenPMgKg", v, 0.0, 500.0, "mg/kg");
    }
    if let Some(v) = t.mehlich3_p_mg_kg {
        range(&mut errs, "mehlich3PMgKg", v, 0.0, 1000.0, "mg/kg");
    }
    if t.olsen_p_mg_kg.is_none() && t.mehlich3_p_mg_kg.is_none() {
        errs.push(FieldError::new(
            "olsenPMgKg",
            Code::Required,
            "请填写有效磷（Olsen 法或 Mehlich-3 法）",
            "give available P (Olsen or Mehlich-3)",
        ));
    }
    for (f, v, hi) in [
        ("cecCmolKg", t.cec_cmol_kg, 100.0),
        ("caMgKg", t.ca_mg_kg, 20000.0),
        ("mgMgKg", t.mg_mg_kg, 5000.0),
        ("sMgKg", t.s_mg_kg, 1000.0),
        ("znMgKg", t.zn_mg_kg, 200.0),
        ("bMgKg", t.b_mg_kg, 50.0),
    ] {
        if let Some(v) = v {
            range(&mut errs, f, v, 0.0, hi, "");
        }
    }
    if !(0..t.depth_to_cm).contains(&t.depth_from_cm) || t.depth_to_cm > 100 {
        errs.push(FieldError::new(
            "depthCm",
            Code::OutOfRange,
            "取样深度应如 0-20 厘米",
            "sampling depth must look like 0-20 cm",
        ));
    }
    if t.sampled_on > crate::today() {
        errs.push(FieldError::new(
            "sampledOn",
            Code::OutOfRange,
            "取样日期不能晚于今天",
            "the sampling date cannot be in the future",
        ));
    }
    if let Err(e) = types::name("lab", &t.lab, 100) {
        errs.push(e);
    }
    if let Err(e) = types::name("labSampleId", &t.lab_sample_id, 60) {
        errs.push(e);
    }
    match errs.finish() {
        Ok(()) => vec![],
        Err(Error::Invalid(v)) => v,
        Err(_) => vec![],
    }
}

/// The row a checked soil test is stored as (one entered by form, or each row of a lab's CSV).
fn soil_test_row(
    t: &SoilTestInput,
    entered_by: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> soil_test::ActiveModel {
    soil_test::ActiveModel {
        field_id: Set(t.field_id),
        sampled_on: Set(t.sampled_on),
        depth_from_cm: Set(t.depth_from_cm),
        depth_to_cm: Set(t.depth_to_cm),
        lab: Set(t.lab.trim().into()),
        lab_sample_id: Set(t.lab_sample_id.trim().into()),
        ph: Set(t.ph),
        buffer_ph: Set(t.buffer_ph),
        organic_matter_g_kg: Set(t.organic_matter_g_kg),
        alkali_n_mg_kg: Set(t.alkali_n_mg_kg),
        olsen_p_mg_kg: Set(t.olsen_p_mg_kg),
        mehlich3_p_mg_kg: Set(t.mehlich3_p_mg_kg),
        available_k_mg_kg: Set(t.available_k_mg_kg),
        cec_cmol_kg: Set(t.cec_cmol_kg),
        ca_mg_kg: Set(t.ca_mg_kg),
        mg_mg_kg: Set(t.mg_mg_kg),
        s_mg_kg: Set(t.s_mg_kg),
        zn_mg_kg: Set(t.zn_mg_kg),
        b_mg_kg: Set(t.b_mg_kg),
        entered_by: Set(entered_by),
        created_at: Set(now),
        ..Default::default()
    }
}

async fn insert_soil_test(
    db: &impl ConnectionTrait,
    actor: &Actor,
    t: SoilTestInput,
) -> Result<soil_test::Model> {
    let errs = validate_soil(&t);
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    if soil_test::Entity::find()
        .filter(soil_test::Column::Lab.eq(t.lab.trim()))
        .filter(soil_test::Column::LabSampleId.eq(t.lab_sample_id.trim()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid(
            "labSampleId",
            Code::Duplicate,
            "该化验室的样品编号已录入",
            "this lab sample id is already recorded",
        ));
    }
    soil_test_row(&t, actor.user_id, crate::now())
        .insert(db)
        .await
        .map_err(|e| {
            crate::accounts::unique_violation(
                e,
                "labSampleId",
                "该化验室的样品编号已录入",
                "this lab sample id is already recorded",
            )
        })
}

/// An agronomist enters a soil test for a field in their counties.
pub async fn create_soil_test(
    db: &impl ConnectionTrait,
    actor: &Actor,
    t: SoilTestInput,
) -> Result<soil_test::Model> {
    require_agronomist(actor)?;
    field_for(db, actor, t.field_id).await?;
    insert_soil_test(db, actor, t).await
}

pub async fn soil_tests_of(
    db: &impl ConnectionTrait,
    field_id: i64,
) -> Result<Vec<soil_test::Model>> {
    Ok(soil_test::Entity::find()
        .filter(soil_test::Column::FieldId.eq(field_id))
        .order_by_desc(soil_test::Column::SampledOn)
        .order_by_desc(soil_test::Column::Id)
        .all(db)
        .await?)
}

pub async fn soil_test(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<soil_test::Model> {
    let t = soil_test::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("soil test", id))?;
    field_for(db, actor, t.field_id)
        .await
        .map_err(|_| Error::not_found("soil test", id))?;
    Ok(t)
}

/// CSV columns of a lab's results (English or Chinese headers); units are in the names.
const SOIL_COLUMNS: &[(&str, &[&str], bool)] = &[
    ("field_id", &["field_id", "地块编号"], false),
    ("farmer_phone", &["farmer_phone", "农户手机号"], false),
    ("field_name", &["field_name", "地块名称"], false),
    ("sampled_on", &["sampled_on", "采样日期"], true),
    ("depth_cm", &["depth_cm", "采样深度"], true),
    ("lab", &["lab", "化验室"], true),
    ("lab_sample_id", &["lab_sample_id", "样品编号"], true),
    ("ph", &["ph", "pH"], true),
    ("buffer_ph", &["buffer_ph", "缓冲pH"], false),
    (
        "organic_matter_g_kg",
        &["organic_matter_g_kg", "有机质"],
        true,
    ),
    ("alkali_n_mg_kg", &["alkali_n_mg_kg", "碱解氮"], true),
    ("olsen_p_mg_kg", &["olsen_p_mg_kg", "有效磷"], false),
    ("mehlich3_p_mg_kg", &["mehlich3_p_mg_kg"], false),
    ("available_k_mg_kg", &["available_k_mg_kg", "速效钾"], true),
    ("cec_cmol_kg", &["cec_cmol_kg", "阳离子交换量"], false),
    ("ca_mg_kg", &["ca_mg_kg", "交换性钙"], false),
    ("mg_mg_kg", &["mg_mg_kg", "交换性镁"], false),
    ("s_mg_kg", &["s_mg_kg", "有效硫"], false),
    ("zn_mg_kg", &["zn_mg_kg", "有效锌"], false),
    ("b_mg_kg", &["b_mg_kg", "有效硼"], false),
];

/// Maps a domain field name to its CSV column.
fn soil_column_for(field: &str) -> Option<&'static str> {
    Some(match field {
        "ph" => "ph",
        "bufferPh" => "buffer_ph",
        "organicMatterGKg" => "organic_matter_g_kg",
        "alkaliNMgKg" => "alkali_n_mg_kg",
        "availableKMgKg" => "available_k_mg_kg",
        "olsenPMgKg" => "olsen_p_mg_kg",
        "mehlich3PMgKg" => "mehlich3_p_mg_kg",
        "cecCmolKg" => "cec_cmol_kg",
        "caMgKg" => "ca_mg_kg",
        "mgMgKg" => "mg_mg_kg",
        "sMgKg" => "s_mg_kg",
        "znMgKg" => "zn_mg_kg",
        "bMgKg" => "b_mg_kg",
        "depthCm" => "depth_cm",
        "sampledOn" => "sampled_on",
        "lab" => "lab",
        "labSampleId" => "lab_sample_id",
        "fieldId" => "field_id",
        _ => return None,
    })
}

#[derive(Debug, Default)]
pub struct SoilCsvOutcome {
    pub imported: Vec<soil_test::Model>,
    pub errors: Vec<RowError>,
    pub committed: bool,
}

/// Imports a lab's CSV, one row per sample. Fields are matched by `field_id`, or by
/// `farmer_phone` + `field_name`. Every bad row names its line and column; with `RejectAll`
/// a file with a bad row writes nothing.
pub async fn import_soil_csv<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    text: &str,
    policy: CsvPolicy,
) -> Result<SoilCsvOutcome> {
    require_agronomist(actor)?;
    let (mut rdr, text) = crate::csv_import::reader(text);
    let mut out = SoilCsvOutcome::default();
    let (
        crate::csv_import::Header {
            cells: headers,
            index,
        },
        missing,
    ) = match crate::csv_import::header(&mut rdr, SOIL_COLUMNS) {
        Ok(h) => h,
        Err(e) => {
            out.errors.push(e);
            return Ok(out);
        }
    };
    out.errors.extend(missing);
    let by_name = index.contains_key("farmer_phone") && index.contains_key("field_name");
    if !(index.contains_key("field_id") || by_name) {
        out.errors.push(RowError {
            line: 1,
            column: None,
            column_name: Some("field_id".into()),
            code: Code::Required,
            zh: "需要 field_id 列，或 farmer_phone 和 field_name 两列".into(),
            en: "need a field_id column, or farmer_phone and field_name".into(),
        });
    }
    if !out.errors.is_empty() {
        return Ok(out);
    }
    let col = |name: &str| index.get(name).copied();
    // One pass over the text: every record, and the fields and farmers it names, so that the
    // whole file's are looked up in a few statements, not one per row.
    let cell_of = |rec: &csv::StringRecord, name: &str| {
        col(name)
            .and_then(|i| rec.get(i))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let mut records = Vec::new();
    let (mut field_ids, mut phones) = (BTreeSet::new(), BTreeSet::new());
    for rec in rdr.records() {
        if let Ok(rec) = &rec {
            let id = cell_of(rec, "field_id");
            if !id.is_empty() {
                field_ids.extend(parse_field_id(&id));
            } else if let Ok(p) = types::Phone::parse("farmer_phone", &cell_of(rec, "farmer_phone"))
            {
                phones.insert(p.as_str().to_owned());
            }
        }
        records.push(rec);
    }
    let phones: Vec<String> = phones.into_iter().collect();
    let mut farmers: BTreeMap<String, i64> = BTreeMap::new();
    for chunk in phones.chunks(crate::IN_CHUNK) {
        for u in app_user::Entity::find()
            .filter(app_user::Column::Phone.is_in(chunk.iter().cloned()))
            .order_by_desc(app_user::Column::Id)
            .all(db)
            .await?
        {
            farmers.insert(u.phone, u.id);
        }
    }
    let farmer_ids: Vec<i64> = farmers.values().copied().collect();
    let mut fields: BTreeMap<i64, field::Model> = BTreeMap::new();
    for chunk in farmer_ids.chunks(crate::IN_CHUNK) {
        fields.extend(
            field::Entity::find()
                .filter(field::Column::FarmerId.is_in(chunk.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|f| (f.id, f)),
        );
    }
    let field_ids: Vec<i64> = field_ids.into_iter().collect();
    for chunk in field_ids.chunks(crate::IN_CHUNK) {
        fields.extend(rows_by_id!(db, field, chunk.iter().copied()));
    }
    let mut by_name: BTreeMap<(i64, &str), i64> = BTreeMap::new();
    for f in fields.values().rev() {
        by_name.insert((f.farmer_id, f.name.as_str()), f.id);
    }
    let counties = if actor.role == Role::Agronomist {
        regions::counties_of(db, fields.values().map(|f| f.village_id)).await?
    } else {
        BTreeMap::new()
    };
    // As fields::get decides whether the actor may see a field.
    let may_see = |id: i64| {
        fields.get(&id).is_some_and(|f| match actor.role {
            Role::Farmer => f.farmer_id == actor.user_id,
            Role::Admin => true,
            Role::Agronomist => counties
                .get(&f.village_id)
                .copied()
                .flatten()
                .is_some_and(|c| actor.county_ids.contains(&c)),
            _ => false,
        })
    };
    let mut rows: Vec<(usize, SoilTestInput)> = Vec::new();
    // Lines counted from the byte offset: the csv crate's own count is one short on CRLF files.
    let mut lines = crate::csv_import::CsvLines::new(text);
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.line(p)).unwrap_or(0);
                out.errors.push(RowError {
                    line,
                    column: None,
                    column_name: None,
                    code: Code::InvalidFormat,
                    zh: format!("CSV 格式错误：{e}"),
                    en: format!("malformed CSV: {e}"),
                });
                continue;
            }
        };
        let line = rec.position().map(|p| lines.line(p)).unwrap_or(0);
        if rec.iter().all(|f| f.is_empty()) {
            continue;
        }
        let get = |name: &str| {
            col(name)
                .and_then(|i| rec.get(i))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let mut row_errs: Vec<(&str, Code, String, String)> = Vec::new();
        let num = |name: &'static str,
                   row_errs: &mut Vec<(&str, Code, String, String)>,
                   required: bool|
         -> Option<f64> {
            let v = get(name);
            if v.is_empty() {
                if required {
                    row_errs.push((
                        name,
                        Code::Required,
                        "不能为空".into(),
                        "is required".into(),
                    ));
                }
                return None;
            }
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => {
                    row_errs.push((
                        name,
                        Code::InvalidFormat,
                        format!("“{v}”不是数字"),
                        format!("\"{v}\" is not a number"),
                    ));
                    None
                }
            }
        };
        // The field: by id, or by the farmer's phone and the field's name.
        let field_id = if !get("field_id").is_empty() {
            match parse_field_id(&get("field_id")) {
                Some(id) => Some(id),
                None => {
                    row_errs.push((
                        "field_id",
                        Code::InvalidFormat,
                        "地块编号应为数字或系统中的地块 ID".into(),
                        "field_id must be a number or the field's ID".into(),
                    ));
                    None
                }
            }
        } else {
            let phone = get("farmer_phone");
            let name = get("field_name");
            let farmer = match types::Phone::parse("farmer_phone", &phone) {
                Ok(p) => farmers.get(p.as_str()).copied(),
                Err(_) => None,
            };
            match farmer {
                None => {
                    row_errs.push((
                        "farmer_phone",
                        Code::UnknownReference,
                        format!("没有手机号为“{phone}”的农户"),
                        format!("no farmer with phone \"{phone}\""),
                    ));
                    None
                }
                Some(f) => match by_name.get(&(f, name.as_str())) {
                    Some(id) => Some(*id),
                    None => {
                        row_errs.push((
                            "field_name",
                            Code::UnknownReference,
                            format!("该农户没有名为“{name}”的地块"),
                            format!("this farmer has no field named \"{name}\""),
                        ));
                        None
                    }
                },
            }
        };
        if let Some(fid) = field_id
            && !may_see(fid)
        {
            row_errs.push((
                "field_id",
                Code::UnknownReference,
                "地块不存在或不在您负责的县".into(),
                "no such field in your counties".into(),
            ));
        }
        let sampled_on = {
            let v = get("sampled_on");
            NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(&v, "%Y/%m/%d"))
                .ok()
                .or_else(|| {
                    row_errs.push((
                        "sampled_on",
                        Code::InvalidFormat,
                        format!("采样日期“{v}”应为 YYYY-MM-DD"),
                        format!("sampling date \"{v}\" must be YYYY-MM-DD"),
                    ));
                    None
                })
        };
        let depth = {
            let v = get("depth_cm");
            let parts: Vec<&str> = v.split(['-', '–', '~']).map(str::trim).collect();
            match parts.as_slice() {
                [a, b] => a.parse::<i32>().ok().zip(b.parse::<i32>().ok()),
                _ => None,
            }
            .or_else(|| {
                row_errs.push((
                    "depth_cm",
                    Code::InvalidFormat,
                    format!("采样深度“{v}”应如 0-20"),
                    format!("depth \"{v}\" must look like 0-20"),
                ));
                None
            })
        };
        let ph = num("ph", &mut row_errs, true);
        let input = SoilTestInput {
            field_id: field_id.unwrap_or_default(),
            sampled_on: sampled_on.unwrap_or_default(),
            depth_from_cm: depth.map(|d| d.0).unwrap_or_default(),
            depth_to_cm: depth.map(|d| d.1).unwrap_or_default(),
            lab: get("lab"),
            lab_sample_id: get("lab_sample_id"),
            ph: ph.unwrap_or_default(),
            buffer_ph: num("buffer_ph", &mut row_errs, false),
            organic_matter_g_kg: num("organic_matter_g_kg", &mut row_errs, true)
                .unwrap_or_default(),
            alkali_n_mg_kg: num("alkali_n_mg_kg", &mut row_errs, true).unwrap_or_default(),
            olsen_p_mg_kg: num("olsen_p_mg_kg", &mut row_errs, false),
            mehlich3_p_mg_kg: num("mehlich3_p_mg_kg", &mut row_errs, false),
            available_k_mg_kg: num("available_k_mg_kg", &mut row_errs, true).unwrap_or_default(),
            cec_cmol_kg: num("cec_cmol_kg", &mut row_errs, false),
            ca_mg_kg: num("ca_mg_kg", &mut row_errs, false),
            mg_mg_kg: num("mg_mg_kg", &mut row_errs, false),
            s_mg_kg: num("s_mg_kg", &mut row_errs, false),
            zn_mg_kg: num("zn_mg_kg", &mut row_errs, false),
            b_mg_kg: num("b_mg_kg", &mut row_errs, false),
        };
        // Range checks too, except on a cell already reported (its value is a stand-in).
        let reported: BTreeSet<&str> = row_errs.iter().map(|e| e.0).collect();
        for e in validate_soil(&input) {
            let c = soil_column_for(&e.field).unwrap_or("");
            if !reported.contains(c) {
                row_errs.push((c, e.code, e.zh, e.en));
            }
        }
        if row_errs.is_empty() {
            rows.push((line, input));
        }
        for (name, code, zh, en) in row_errs {
            let i = col(name);
            out.errors.push(RowError {
                line,
                column: i.map(|i| i + 1),
                column_name: i
                    .and_then(|i| headers.get(i))
                    .map(str::to_owned)
                    .or(Some(name.to_owned()))
                    .filter(|n| !n.is_empty()),
                code,
                zh,
                en,
            });
        }
    }
    // Duplicates, of stored samples (one statement per 10 000 sample ids) or of earlier lines,
    // are reported with the rest, so that a file is fixed in one go.
    let sample_ids: BTreeSet<String> = rows
        .iter()
        .map(|(_, t)| t.lab_sample_id.trim().to_owned())
        .collect();
    let sample_ids: Vec<String> = sample_ids.into_iter().collect();
    let mut taken: BTreeSet<(String, String)> = BTreeSet::new();
    for chunk in sample_ids.chunks(crate::IN_CHUNK) {
        for t in soil_test::Entity::find()
            .filter(soil_test::Column::LabSampleId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            taken.insert((t.lab, t.lab_sample_id));
        }
    }
    let mut good = Vec::with_capacity(rows.len());
    for (line, input) in rows {
        let key = (
            input.lab.trim().to_owned(),
            input.lab_sample_id.trim().to_owned(),
        );
        if taken.insert(key) {
            good.push(input);
            continue;
        }
        let i = col("lab_sample_id");
        out.errors.push(RowError {
            line,
            column: i.map(|i| i + 1),
            column_name: i.and_then(|i| headers.get(i)).map(str::to_owned),
            code: Code::Duplicate,
            zh: "该化验室的样品编号已录入".into(),
            en: "this lab sample id is already recorded".into(),
        });
    }
    out.errors.sort_by_key(|e| e.line);
    if policy == CsvPolicy::RejectAll && !out.errors.is_empty() {
        return Ok(out);
    }
    // The good rows, checked: in one transaction, many to a statement.
    let txn = crate::begin_write(db).await?;
    let now = crate::now();
    for chunk in good.chunks(SOIL_INSERT_CHUNK) {
        let models = chunk.iter().map(|t| soil_test_row(t, actor.user_id, now));
        let mut inserted = soil_test::Entity::insert_many(models)
            .exec_with_returning(&txn)
            .await
            .map_err(|e| {
                crate::accounts::unique_violation(
                    e,
                    "labSampleId",
                    "该化验室的样品编号已录入",
                    "this lab sample id is already recorded",
                )
            })?;
        inserted.sort_by_key(|t| t.id);
        out.imported.extend(inserted);
    }
    txn.commit().await?;
    out.committed = true;
    Ok(out)
}

/// Soil tests per insert statement: 21 values each, well under SQLite's 32 766 variables.
const SOIL_INSERT_CHUNK: usize = 1_000;

/// A CSV `field_id`: the database number, or the global ID the API shows (`Field:12` in URL-safe
/// base64), which is what a lab is given to copy.
fn parse_field_id(v: &str) -> Option<i64> {
    use base64::Engine;
    if let Ok(n) = v.parse::<i64>() {
        return Some(n);
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v.trim_end_matches('='))
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("Field:")?
        .parse()
        .ok()
}

// ---------------------------------------------------------------- recommendations

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Method {
    /// 养分平衡法 (NY/T 1118-2006), soil-test form.
    #[default]
    NutrientBalance,
    /// Rates set by the agronomist; the advisor only sizes the basket.
    ManualRates,
}

/// What an agronomist can set on a draft. Anything left out takes the advisor's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Params {
    #[serde(default)]
    pub method: Method,
    /// N, P2O5, K2O.
    pub correction_coefficients: Option<[f64; 3]>,
    pub recovery_rates: Option<[f64; 3]>,
    pub target_yield_kg_per_mu: Option<f64>,
    pub target_ph: Option<f64>,
    /// For MANUAL_RATES: kg of N, P2O5, K2O per mu.
    pub rates_kg_per_mu: Option<[f64; 3]>,
    /// Over-supply cap for the basket, per cent.
    pub max_oversupply_pct: Option<f64>,
    /// How long the whole-bag search may run, ms (the advisor's default, 2 s, when absent).
    /// When it runs out the draft gets the best basket found, marked as not proven optimal.
    #[serde(default)]
    pub basket_time_limit_ms: Option<u64>,
}

/// One line of a priced basket: an offer and whole bags of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BasketLine {
    pub offer_id: i64,
    pub dealer_id: i64,
    pub sku_id: i64,
    pub product_id: i64,
    pub product_zh: String,
    pub product_en: String,
    pub analysis: String,
    pub bag_kg: f64,
    pub bags: i64,
    pub price_fen_per_bag: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Basket {
    pub feasible: bool,
    pub lines: Vec<BasketLine>,
    pub cost_fen: i64,
    /// Nutrients the stock at hand cannot supply (when not feasible).
    pub shortfalls: Vec<String>,
    /// False when the whole-bag search hit its time limit: the basket is the cheapest found in
    /// time, not proven the cheapest. (Baskets stored before the limit existed were solved to
    /// the end, hence the default.)
    #[serde(default = "proven_by_default")]
    pub proven_optimal: bool,
}

fn proven_by_default() -> bool {
    true
}

/// Runs one advisor request on a blocking thread: the whole-bag search is CPU work (up to its
/// time limit) that must not hold an async worker.
async fn run_advisor<M>(request: M) -> std::result::Result<M::Response, advisor::RequestError>
where
    M: advisor::api::Method + Send + 'static,
    M::Response: Send + 'static,
{
    tokio::task::spawn_blocking(move || request.run())
        .await
        .unwrap_or_else(|e| {
            Err(advisor::RequestError::Solver(format!(
                "the advisor's thread failed: {e}"
            )))
        })
}

/// A typed advisor value, or its error named by the field of the advisor's request it fills.
fn at<T>(r: advisor::Result<T>, field: &str) -> advisor::Result<T> {
    r.map_err(|e| e.at(field))
}

/// One value per nutrient (N, P2O5, K2O), each checked by `make`.
fn npk<T>(
    v: [f64; 3],
    field: &str,
    make: impl Fn(f64) -> advisor::Result<T>,
) -> advisor::Result<advisor::api::Npk<T>> {
    Ok(advisor::api::Npk {
        n: Some(at(make(v[0]), &format!("{field}.n"))?),
        p2o5: Some(at(make(v[1]), &format!("{field}.p2o5"))?),
        k2o: Some(at(make(v[2]), &format!("{field}.k2o"))?),
    })
}

/// A crop plan's past yields (stored as a JSON array of kg/mu), oldest first.
fn past_yields(v: &Value) -> advisor::Result<Vec<KgPerMu<Yield>>> {
    let ys: Vec<f64> = serde_json::from_value(v.clone()).map_err(|e| {
        advisor::Error::invalid(
            "past_yields_kg_per_mu",
            format!("must be an array of numbers: {e}"),
        )
    })?;
    ys.into_iter()
        .enumerate()
        .map(|(i, y)| at(KgPerMu::try_new(y), &format!("past_yields_kg_per_mu[{i}]")))
        .collect()
}

/// The soil test as the advisor's `recommend` reads it; `with_ph` adds the pH values (only the
/// lime requirement uses them).
fn advisor_soil(
    test: &soil_test::Model,
    olsen_p: f64,
    with_ph: bool,
) -> advisor::Result<advisor::api::RecommendSoil> {
    let ph = |v: f64, field: &str| at(Ph::try_new(v), field);
    Ok(advisor::api::RecommendSoil {
        alkali_n_mg_per_kg: at(
            MgPerKg::try_new(test.alkali_n_mg_kg),
            "soil.alkali_n_mg_per_kg",
        )?,
        olsen_p_mg_per_kg: at(MgPerKg::try_new(olsen_p), "soil.olsen_p_mg_per_kg")?,
        available_k_mg_per_kg: at(
            MgPerKg::try_new(test.available_k_mg_kg),
            "soil.available_k_mg_per_kg",
        )?,
        ph: if with_ph {
            Some(ph(test.ph, "soil.ph")?)
        } else {
            None
        },
        buffer_ph: match test.buffer_ph {
            Some(b) if with_ph => Some(ph(b, "soil.buffer_ph")?),
            _ => None,
        },
    })
}

/// The request a draft sends to the advisor: the nutrient balance with a basket, or a basket for
/// rates the agronomist set.
enum AdvisorRequest {
    Recommend(Box<advisor::api::RecommendRequest>),
    /// With the agronomist's rates, kg/mu of N, P2O5, K2O.
    Basket(advisor::api::LeastCostBasketRequest, [f64; 3]),
}

/// An offer the advisor may put in a basket.
struct Candidate {
    offer: offer::Model,
    sku: sku::Model,
    product: product::Model,
    spec: fertiliser_spec::Model,
}

/// The fertiliser offers a field can buy: active offers of dealers serving its village, of
/// listed fertilisers sold by the kg, with sellable stock now.
async fn candidate_offers(
    db: &impl ConnectionTrait,
    village_id: i64,
) -> Result<Vec<(Candidate, i64)>> {
    let dealers: Vec<i64> = dealer_service_area::Entity::find()
        .filter(dealer_service_area::Column::VillageId.eq(village_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.dealer_id)
        .collect();
    let offers = offer::Entity::find()
        .filter(offer::Column::DealerId.is_in(dealers))
        .filter(offer::Column::Active.eq(true))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for o in offers {
        let Some(s) = sku::Entity::find_by_id(o.sku_id).one(db).await? else {
            continue;
        };
        if s.pack_unit != "kg" {
            continue;
        }
        let Some(p) = product::Entity::find_by_id(s.product_id).one(db).await? else {
            continue;
        };
        if p.category != "FERTILISER" || p.status != "ACTIVE" {
            continue;
        }
        let Some(f) = fertiliser_spec::Entity::find_by_id(p.id).one(db).await? else {
            continue;
        };
        if f.n_pct + f.p2o5_pct + f.k2o_pct <= 0.0 {
            continue;
        }
        let available = orders::available_of(db, o.dealer_id, s.id).await?;
        if available > 0 {
            out.push((
                Candidate {
                    offer: o,
                    sku: s,
                    product: p,
                    spec: f,
                },
                available,
            ));
        }
    }
    Ok(out)
}

fn analysis_text(f: &fertiliser_spec::Model) -> String {
    types::Analysis {
        n: f.n_pct,
        p2o5: f.p2o5_pct,
        k2o: f.k2o_pct,
    }
    .to_string()
}

/// Runs the advisor for a field, crop plan and soil test with the given parameters. Returns the
/// advisor's answer, the priced basket, and the rates (kg/mu of N, P2O5, K2O).
pub async fn compute(
    db: &impl ConnectionTrait,
    f: &field::Model,
    plan: &crop_plan::Model,
    test: &soil_test::Model,
    params: &Params,
) -> Result<(Value, Basket, [f64; 3], Vec<String>)> {
    validate_params(params)?;
    let crop = advisor_crop(&plan.crop).ok_or_else(|| {
        Error::invalid(
            "cropPlanId",
            Code::InvalidFormat,
            "该作物不能做配方",
            "this crop cannot be planned",
        )
    })?;
    let candidates = candidate_offers(db, f.village_id).await?;
    let mut notes = Vec::new();
    let basket_settings = advisor::api::BasketSettings {
        mode: advisor::basket::Mode::AtLeast,
        whole_bags: true,
        max_oversupply_pct: params.max_oversupply_pct,
        exact_tolerance_kg: None,
        time_limit_ms: params.basket_time_limit_ms,
    };
    let area_mu = at(Positive::try_new(f.area_mu), "area_mu").map_err(advisor_error)?;
    let request = match params.method {
        Method::NutrientBalance => {
            let olsen = test.olsen_p_mg_kg.ok_or_else(|| {
                Error::invalid(
                    "soilTestId",
                    Code::Required,
                    "养分平衡法需要 Olsen 法有效磷",
                    "the nutrient balance method needs Olsen P",
                )
            })?;
            let (target_yield_kg_per_mu, past_yields_kg_per_mu) = match (
                params
                    .target_yield_kg_per_mu
                    .or(plan.target_yield_kg_per_mu),
                &plan.past_yields_kg_per_mu,
            ) {
                (Some(t), _) => (
                    Some(at(KgPerMu::try_new(t), "target_yield_kg_per_mu").map_err(advisor_error)?),
                    None,
                ),
                (None, Some(p)) => (None, Some(past_yields(p).map_err(advisor_error)?)),
                (None, None) => {
                    return Err(Error::invalid(
                        "cropPlanId",
                        Code::Required,
                        "作物计划没有目标产量",
                        "the crop plan has no target yield",
                    ));
                }
            };
            let coefficient = |c: [f64; 3]| {
                npk(c, "correction_coefficients", Positive::try_new).map_err(advisor_error)
            };
            let (correction_coefficients, no_fertiliser_yield_kg_per_mu) = match (
                params.correction_coefficients,
                plan.no_fertiliser_yield_kg_per_mu,
            ) {
                (Some(c), _) => (coefficient(c)?, None),
                (None, Some(y)) => (
                    advisor::api::Npk::default(),
                    Some(
                        at(KgPerMu::try_new(y), "no_fertiliser_yield_kg_per_mu")
                            .map_err(advisor_error)?,
                    ),
                ),
                (None, None) => {
                    debug_assert!(uses_placeholder_correction(params, plan));
                    notes.push("校正系数使用默认值 0.5，请农技人员按本县空白区试验核定 / correction coefficients are the 0.5 placeholder: set them from the county's omission plots".to_owned());
                    (coefficient(PLACEHOLDER_CORRECTION)?, None)
                }
            };
            let recovery_rates = match params.recovery_rates {
                Some(rr) => {
                    npk(rr, "recovery_rates", RecoveryRate::try_new).map_err(advisor_error)?
                }
                None => advisor::api::Npk::default(),
            };
            // Lime only where the soil is acid and a buffer pH was measured.
            let target_ph = if let (Some(t), Some(_)) = (params.target_ph, test.buffer_ph) {
                Some(t)
            } else if test.ph < 5.5 && test.buffer_ph.is_some() {
                notes.push("土壤偏酸，按目标 pH 6.0 计算石灰用量 / acid soil: lime computed for a target pH of 6.0".to_owned());
                Some(6.0)
            } else {
                None
            };
            let target_ph = target_ph
                .map(|t| at(Ph::try_new(t), "target_ph"))
                .transpose()
                .map_err(advisor_error)?;
            AdvisorRequest::Recommend(Box::new(advisor::api::RecommendRequest {
                crop: crop.to_owned(),
                area_mu,
                target_yield_kg_per_mu,
                past_yields_kg_per_mu,
                target_yield_factor: None,
                soil: advisor_soil(test, olsen, true).map_err(advisor_error)?,
                correction_coefficients,
                no_fertiliser_yield_kg_per_mu,
                recovery_rates,
                uptake_kg_per_kg_yield: advisor::api::Npk::default(),
                legume_n_factor: None,
                target_ph,
                residual_lime_credit_t_per_acre: None,
                products: Vec::new(),
                basket: basket_settings,
            }))
        }
        Method::ManualRates => {
            let rates = params.rates_kg_per_mu.ok_or_else(|| {
                Error::invalid(
                    "params.ratesKgPerMu",
                    Code::Required,
                    "手动用量需要填写 N、P2O5、K2O 每亩用量",
                    "manual rates need N, P2O5 and K2O per mu",
                )
            })?;
            if !rates
                .iter()
                .all(|r| r.is_finite() && (0.0..=200.0).contains(r))
            {
                return Err(Error::invalid(
                    "params.ratesKgPerMu",
                    Code::OutOfRange,
                    "每亩养分用量应在 0 到 200 公斤之间",
                    "rates must be 0 to 200 kg per mu",
                ));
            }
            fn kg<Q>(per_mu: f64, area_mu: f64, field: &str) -> Result<Kg<Q>> {
                at(Kg::try_new(per_mu * area_mu), field).map_err(advisor_error)
            }
            AdvisorRequest::Basket(
                advisor::api::LeastCostBasketRequest {
                    targets_kg: advisor::targets::MassTargets {
                        n: kg(rates[0], f.area_mu, "targets_kg.n")?,
                        p2o5: kg(rates[1], f.area_mu, "targets_kg.p2o5")?,
                        k2o: kg(rates[2], f.area_mu, "targets_kg.k2o")?,
                    },
                    products: Vec::new(),
                    mode: basket_settings.mode,
                    whole_bags: basket_settings.whole_bags,
                    max_oversupply_pct: basket_settings.max_oversupply_pct,
                    exact_tolerance_kg: None,
                    time_limit_ms: basket_settings.time_limit_ms,
                },
                rates,
            )
        }
    };
    if candidates.is_empty() {
        return Err(Error::invalid(
            "fieldId",
            Code::InsufficientStock,
            "服务该村的经销商目前没有可售的肥料",
            "the dealers serving this village have no fertiliser in stock",
        ));
    }
    // The field's targets, kg of N, P2O5, K2O, to drop offers the basket can never need.
    let targets_kg = match &request {
        AdvisorRequest::Basket(r, _) => r.targets_kg.values(),
        AdvisorRequest::Recommend(r) => {
            let mut probe = (**r).clone();
            probe.basket = advisor::api::BasketSettings::default();
            run_advisor(probe)
                .await
                .map_err(advisor_error)?
                .rates_kg_per_mu
                .values()
                .map(|r| r * f.area_mu)
        }
    };
    let keep = needed_offers(&candidates, targets_kg);
    let products = keep
        .iter()
        .enumerate()
        .map(|(j, i)| {
            let (c, available) = &candidates[*i];
            advisor_offer(c, *available, &format!("products[{j}]"))
        })
        .collect::<advisor::Result<Vec<_>>>()
        .map_err(advisor_error)?;
    let (result, outcome, rates) = match request {
        AdvisorRequest::Recommend(mut r) => {
            r.products = products;
            let answer = run_advisor(*r).await.map_err(advisor_error)?;
            let outcome = answer.basket.clone();
            let rates = answer.rates_kg_per_mu.values();
            (
                advisor::Response::Recommend(Box::new(answer)),
                outcome,
                rates,
            )
        }
        AdvisorRequest::Basket(mut r, rates) => {
            r.products = products;
            let answer = run_advisor(r).await.map_err(advisor_error)?;
            let outcome = answer.clone();
            (
                advisor::Response::LeastCostBasket(Box::new(answer)),
                outcome,
                rates,
            )
        }
    };
    let result = serde_json::to_value(&result).map_err(|e| Error::Internal(e.to_string()))?;
    let by_name: BTreeMap<String, &Candidate> =
        candidates.iter().map(|(c, _)| (offer_name(c), c)).collect();
    let mut lines = Vec::new();
    for l in &outcome.lines {
        let c = by_name.get(&l.product).ok_or_else(|| {
            Error::Internal(format!(
                "the advisor's basket names no offer: {}",
                l.product
            ))
        })?;
        let bags = match l.bags {
            advisor::basket::Bags::Whole(n) => i64::from(n),
            advisor::basket::Bags::Fractional(x) => {
                return Err(Error::Internal(format!(
                    "the advisor gave {x} bags of a whole-bag basket"
                )));
            }
        };
        lines.push(BasketLine {
            offer_id: c.offer.id,
            dealer_id: c.offer.dealer_id,
            sku_id: c.sku.id,
            product_id: c.product.id,
            product_zh: c.product.name_zh.clone(),
            product_en: c.product.name_en.clone(),
            analysis: analysis_text(&c.spec),
            bag_kg: c.sku.pack_size,
            bags,
            price_fen_per_bag: c.offer.price_fen,
        });
    }
    if !outcome.proven_optimal {
        let ms = params
            .basket_time_limit_ms
            .unwrap_or(advisor::basket::DEFAULT_TIME_LIMIT.as_millis() as u64);
        notes.push(format!("整袋组合搜索在 {ms} 毫秒内未完成，这是已找到的最便宜组合，未证明最优 / the whole-bag search did not finish within {ms} ms: this is the cheapest basket found, not proven optimal"));
    }
    let basket = Basket {
        proven_optimal: outcome.proven_optimal,
        feasible: outcome.feasible,
        cost_fen: lines.iter().map(|l| l.bags * l.price_fen_per_bag).sum(),
        shortfalls: outcome
            .shortfalls
            .iter()
            .map(|s| {
                format!(
                    "{} {:.1}/{:.1} kg",
                    s.nutrient.label(),
                    s.max_available_kg,
                    s.target_kg
                )
            })
            .collect(),
        lines,
    };
    Ok((result, basket, rates, notes))
}

/// The name an offer goes by in the advisor's request and basket.
fn offer_name(c: &Candidate) -> String {
    format!("offer:{}", c.offer.id)
}

/// A candidate offer as the advisor takes it: analysis, bag, price and the bags in stock.
fn advisor_offer(
    c: &Candidate,
    available: i64,
    field: &str,
) -> advisor::Result<advisor::products::Offer> {
    Ok(advisor::products::Offer {
        name: offer_name(c),
        analysis: at(
            advisor::products::Analysis::parse(&analysis_text(&c.spec)),
            &format!("{field}.analysis"),
        )?,
        bag_kg: at(Kg::try_new(c.sku.pack_size), &format!("{field}.bag_kg"))?,
        price_fen_per_bag: c.offer.price_fen,
        // More bags than a u32 holds is more than any basket needs.
        stock_bags: Some(u32::try_from(available).unwrap_or(u32::MAX)),
    })
}

/// Checks a draft's parameters before the advisor sees them, so that every error names the
/// field as the API spells it (`params.recoveryRates`), not as the advisor's JSON does.
pub fn validate_params(p: &Params) -> Result<()> {
    let mut errs = Errors::new();
    let mut check = |field: &str, ok: bool, zh: &str, en: &str| {
        if !ok {
            errs.push(FieldError::new(field, Code::OutOfRange, zh, en));
        }
    };
    if let Some(c) = p.correction_coefficients {
        check(
            "params.correctionCoefficients",
            c.iter().all(|x| x.is_finite() && *x > 0.0 && *x <= 10.0),
            "校正系数应为大于 0 的数（N、P2O5、K2O）",
            "correction coefficients must be numbers greater than 0 (N, P2O5, K2O)",
        );
    }
    if let Some(r) = p.recovery_rates {
        check(
            "params.recoveryRates",
            r.iter().all(|x| x.is_finite() && *x > 0.0 && *x <= 1.0),
            "肥料利用率应在 0 到 1 之间（不含 0）",
            "recovery rates must be fractions in (0, 1]",
        );
    }
    if let Some(t) = p.target_yield_kg_per_mu {
        check(
            "params.targetYieldKgPerMu",
            t.is_finite() && t > 0.0 && t <= 20_000.0,
            "目标产量应在 0 到 20000 公斤/亩之间",
            "target yield must be 0 to 20,000 kg/mu",
        );
    }
    if let Some(t) = p.target_ph {
        check(
            "params.targetPh",
            t.is_finite() && (3.0..=9.0).contains(&t),
            "目标 pH 应在 3 到 9 之间",
            "target pH must be between 3 and 9",
        );
    }
    if let Some(m) = p.max_oversupply_pct {
        check(
            "params.maxOversupplyPct",
            m.is_finite() && (0.0..=1000.0).contains(&m),
            "超量上限应在 0 到 1000% 之间",
            "the over-supply cap must be 0 to 1000 %",
        );
    }
    if let Some(ms) = p.basket_time_limit_ms {
        check(
            "params.basketTimeLimitMs",
            ms <= advisor::basket::MAX_TIME_LIMIT.as_millis() as u64,
            "整袋组合搜索的时间限制应在 0 到 60000 毫秒之间",
            "the basket search time limit must be 0 to 60,000 ms",
        );
    }
    if let Some(r) = p.rates_kg_per_mu {
        check(
            "params.ratesKgPerMu",
            r.iter().all(|x| x.is_finite() && (0.0..=200.0).contains(x)),
            "每亩养分用量应在 0 到 200 公斤之间",
            "rates must be 0 to 200 kg per mu",
        );
    }
    errs.finish()
}

fn advisor_error(e: advisor::RequestError) -> Error {
    Error::invalid(
        advisor_field(e.field()),
        Code::InvalidFormat,
        format!("配方计算的参数有误：{e}"),
        format!("the advisor refused the parameters: {e}"),
    )
}

/// The candidate offers a least-cost basket may need, by index. Offers of the same analysis
/// and bag size (the same pack at several dealers, say) are perfect substitutes: a cheapest
/// basket buys the cheaper of them first, and never more than max_i ceil(T_i / kg of nutrient i
/// per bag) bags of them together (beyond that they alone meet every target they touch, so one
/// bag fewer still does, for less). Keeping in each such group only the cheapest offers whose
/// stock reaches that count keeps every cheapest basket, and spares the whole-bag solver a
/// search over interchangeable variables: two dealers with the same 20 packs made one draft
/// take over a minute, and under 20 ms without the duplicates.
fn needed_offers(candidates: &[(Candidate, i64)], targets_kg: [f64; 3]) -> Vec<usize> {
    let mut groups: BTreeMap<(String, i64), Vec<usize>> = BTreeMap::new();
    for (i, (c, _)) in candidates.iter().enumerate() {
        let key = (
            analysis_text(&c.spec),
            (c.sku.pack_size * 1000.0).round() as i64,
        );
        groups.entry(key).or_default().push(i);
    }
    let mut keep = Vec::new();
    for members in groups.into_values() {
        let (c0, _) = &candidates[members[0]];
        let pct = [c0.spec.n_pct, c0.spec.p2o5_pct, c0.spec.k2o_pct];
        let mut bound: i64 = 1;
        for k in 0..3 {
            let per_bag = c0.sku.pack_size * pct[k] / 100.0;
            if per_bag > 0.0 && targets_kg[k] > 0.0 {
                bound = bound.max((targets_kg[k] / per_bag - 1e-9).ceil() as i64);
            }
        }
        let mut by_price = members;
        by_price.sort_by_key(|i| (candidates[*i].0.offer.price_fen, candidates[*i].0.offer.id));
        let mut stock = 0;
        for i in by_price {
            if stock >= bound {
                break;
            }
            stock += candidates[i].1;
            keep.push(i);
        }
    }
    keep.sort_unstable();
    keep
}

/// The API's name for a field of an advisor request that the advisor refused.
fn advisor_field(field: Option<&str>) -> String {
    let Some(f) = field else {
        return "params".into();
    };
    if f.ends_with("time_limit_ms") {
        return "params.basketTimeLimitMs".into();
    }
    let head = f.split('.').next().unwrap_or(f);
    match head {
        "correction_coefficients" => "params.correctionCoefficients".into(),
        "recovery_rates" => "params.recoveryRates".into(),
        "target_yield_kg_per_mu" | "past_yields_kg_per_mu" => "params.targetYieldKgPerMu".into(),
        "target_ph" => "params.targetPh".into(),
        "targets_kg" => "params.ratesKgPerMu".into(),
        "max_oversupply_pct" | "basket" => "params.maxOversupplyPct".into(),
        "soil" => "soilTestId".into(),
        "products" => "fieldId".into(),
        _ => format!("params.{f}"),
    }
}

async fn plan_and_test(
    db: &impl ConnectionTrait,
    f: &field::Model,
    plan_id: i64,
    test_id: Option<i64>,
) -> Result<(crop_plan::Model, soil_test::Model)> {
    let plan = crop_plan::Entity::find_by_id(plan_id)
        .one(db)
        .await?
        .filter(|p| p.field_id == f.id)
        .ok_or_else(|| {
            Error::invalid(
                "cropPlanId",
                Code::UnknownReference,
                "该地块没有这个作物计划",
                "no such crop plan on this field",
            )
        })?;
    let test = match test_id {
        Some(t) => soil_test::Entity::find_by_id(t)
            .one(db)
            .await?
            .filter(|t| t.field_id == f.id),
        None => soil_tests_of(db, f.id).await?.into_iter().next(),
    }
    .ok_or_else(|| {
        Error::invalid(
            "soilTestId",
            Code::UnknownReference,
            "该地块没有土壤检测结果",
            "no soil test for this field",
        )
    })?;
    Ok((plan, test))
}

/// Locks a crop plan's row for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite's
/// immediate transaction already holds the write lock). Every change to the recommendations of
/// a plan takes it first, so two drafts never get the same version, and two publishes of the
/// plan's drafts (or two of one draft) run one after the other: one current version, one
/// signature and one notice per publish.
async fn lock_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<()> {
    let mut q = crop_plan::Entity::find_by_id(plan_id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(db)
        .await?
        .ok_or_else(|| Error::not_found("crop plan", plan_id))?;
    Ok(())
}

/// A new draft for a field and crop plan (agronomists of the county, admins).
pub async fn create_draft<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    field_id: i64,
    crop_plan_id: i64,
    soil_test_id: Option<i64>,
    params: Params,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let f = field_for(db, actor, field_id).await?;
    let (plan, test) = plan_and_test(db, &f, crop_plan_id, soil_test_id).await?;
    let (result, basket, rates, notes) = compute(db, &f, &plan, &test, &params).await?;
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, plan.id).await?;
    let version = recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.eq(f.id))
        .filter(recommendation::Column::CropPlanId.eq(plan.id))
        .order_by_desc(recommendation::Column::Version)
        .one(&txn)
        .await?
        .map(|r| r.version + 1)
        .unwrap_or(1);
    let now = crate::now();
    let rec = recommendation::ActiveModel {
        field_id: Set(f.id),
        crop_plan_id: Set(plan.id),
        soil_test_id: Set(test.id),
        version: Set(version),
        status: Set("DRAFT".into()),
        method: Set(serde_json::to_value(params.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()),
        parameters: Set(json!({ "params": params, "notes": notes })),
        result: Set(result),
        basket: Set(serde_json::to_value(&basket).map_err(|e| Error::Internal(e.to_string()))?),
        n_kg_per_mu: Set(rates[0]),
        p2o5_kg_per_mu: Set(rates[1]),
        k2o_kg_per_mu: Set(rates[2]),
        notes_zh: Set(String::new()),
        notes_en: Set(String::new()),
        reject_reason: Set(None),
        agronomist_id: Set(None),
        signed_at: Set(None),
        signature: Set(None),
        supersedes_id: Set(None),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(rec)
}

/// A recommendation the actor may see: farmers only published versions of their own fields;
/// agronomists those of their counties; admins all.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<recommendation::Model> {
    let r = recommendation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    field_for(db, actor, r.field_id)
        .await
        .map_err(|_| Error::not_found("recommendation", id))?;
    if actor.role == Role::Farmer && !matches!(r.status.as_str(), "PUBLISHED" | "SUPERSEDED") {
        return Err(Error::not_found("recommendation", id));
    }
    Ok(r)
}

fn must_be_draft(r: &recommendation::Model) -> Result<()> {
    if r.status != "DRAFT" {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            format!(
                "只能修改草稿（当前状态 {}）；已发布的版本不可更改，请创建新版本",
                r.status
            ),
            format!(
                "only a draft can change (this one is {}); a published version is immutable: revise it instead",
                r.status
            ),
        ));
    }
    Ok(())
}

/// Changes a draft's method, parameters or rates (re-running the advisor), and/or its notes.
pub async fn edit_draft<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    params: Option<Params>,
    notes_zh: Option<String>,
    notes_en: Option<String>,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let r = get(db, actor, id).await?;
    must_be_draft(&r)?;
    let mut am: recommendation::ActiveModel = r.clone().into();
    if let Some(p) = params {
        let f = field_for(db, actor, r.field_id).await?;
        let (plan, test) = plan_and_test(db, &f, r.crop_plan_id, Some(r.soil_test_id)).await?;
        let (result, basket, rates, notes) = compute(db, &f, &plan, &test, &p).await?;
        am.method = Set(serde_json::to_value(p.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default());
        am.parameters = Set(json!({ "params": p, "notes": notes }));
        am.result = Set(result);
        am.basket = Set(serde_json::to_value(&basket).map_err(|e| Error::Internal(e.to_string()))?);
        am.n_kg_per_mu = Set(rates[0]);
        am.p2o5_kg_per_mu = Set(rates[1]);
        am.k2o_kg_per_mu = Set(rates[2]);
    }
    for (field, v) in [("notesZh", &notes_zh), ("notesEn", &notes_en)] {
        if v.as_ref().is_some_and(|n| n.chars().count() > 4000) {
            return Err(Error::invalid(
                field,
                Code::TooLong,
                "备注不能超过 4000 个字符",
                "notes must be at most 4000 characters",
            ));
        }
    }
    if let Some(n) = notes_zh {
        am.notes_zh = Set(n.trim().into());
    }
    if let Some(n) = notes_en {
        am.notes_en = Set(n.trim().into());
    }
    am.updated_at = Set(crate::now());
    // Only while still a draft (a concurrent publish wins).
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, r.crop_plan_id).await?;
    let current = recommendation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    must_be_draft(&current)?;
    let r = am.update(&txn).await?;
    txn.commit().await?;
    Ok(r)
}

/// The content a signature covers.
fn signature_of(
    r: &recommendation::Model,
    agronomist_id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    let content = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        r.id,
        r.field_id,
        r.crop_plan_id,
        r.soil_test_id,
        r.version,
        r.parameters,
        r.result,
        r.basket,
        r.notes_zh,
        r.notes_en,
        agronomist_id,
        at.timestamp_micros()
    );
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// Publishes a draft, signed by the agronomist with the time. The field's previous published
/// version for the same crop plan becomes SUPERSEDED (both are kept). The farmer is notified.
pub async fn publish<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<(recommendation::Model, Vec<DomainEvent>)> {
    require_agronomist(actor)?;
    let r = get(db, actor, id).await?;
    let f = field_for(db, actor, r.field_id).await?;
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, r.crop_plan_id).await?;
    let r = recommendation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    must_be_draft(&r)?;
    let now = crate::lots::trace::micros(crate::now());
    let previous = recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.eq(r.field_id))
        .filter(recommendation::Column::CropPlanId.eq(r.crop_plan_id))
        .filter(recommendation::Column::Status.eq("PUBLISHED"))
        .all(&txn)
        .await?;
    let mut supersedes = None;
    for p in previous {
        supersedes = Some(p.id);
        let mut am: recommendation::ActiveModel = p.into();
        am.status = Set("SUPERSEDED".into());
        am.updated_at = Set(now);
        am.update(&txn).await?;
    }
    let signature = signature_of(&r, actor.user_id, now);
    let mut am: recommendation::ActiveModel = r.into();
    am.status = Set("PUBLISHED".into());
    am.agronomist_id = Set(Some(actor.user_id));
    am.signed_at = Set(Some(now));
    am.signature = Set(Some(signature));
    am.supersedes_id = Set(supersedes);
    am.updated_at = Set(now);
    let r = am.update(&txn).await?;
    let msg = crate::notify::Message {
        kind: crate::types::NotificationKind::RecommendationPublished,
        title_zh: format!("{} 的施肥建议已发布", f.name),
        title_en: format!("Fertiliser recommendation for {} published", f.name),
        body_zh: format!(
            "农技人员已为地块“{}”发布测土配方施肥建议（第 {} 版），可一键加入购物车。",
            f.name, r.version
        ),
        body_en: format!(
            "An agronomist published a soil-test recommendation (version {}) for field \"{}\"; its basket can go into your cart in one step.",
            r.version, f.name
        ),
        payload: json!({ "recommendationId": r.id, "fieldId": f.id }),
    };
    let events = crate::notify::notify_all(&txn, &[f.farmer_id], &msg).await?;
    txn.commit().await?;
    Ok((r, events))
}

/// Rejects a draft with a reason.
pub async fn reject<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let reason = types::name("reason", reason, 1000).map_err(|e| Error::Invalid(vec![e]))?;
    let r = get(db, actor, id).await?;
    let txn = crate::begin_write(db).await?;
    lock_plan(&txn, r.crop_plan_id).await?;
    let r = recommendation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("recommendation", id))?;
    must_be_draft(&r)?;
    let mut am: recommendation::ActiveModel = r.into();
    am.status = Set("REJECTED".into());
    am.reject_reason = Set(Some(reason));
    am.agronomist_id = Set(Some(actor.user_id));
    am.updated_at = Set(crate::now());
    let r = am.update(&txn).await?;
    txn.commit().await?;
    Ok(r)
}

/// A new draft from a published (or rejected) version, with its parameters, for revision.
pub async fn revise<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<recommendation::Model> {
    require_agronomist(actor)?;
    let r = get(db, actor, id).await?;
    let params: Params = serde_json::from_value(r.parameters["params"].clone()).unwrap_or_default();
    let draft = create_draft(
        db,
        actor,
        r.field_id,
        r.crop_plan_id,
        Some(r.soil_test_id),
        params,
    )
    .await?;
    if !r.notes_zh.is_empty() || !r.notes_en.is_empty() {
        return edit_draft(
            db,
            actor,
            draft.id,
            None,
            Some(r.notes_zh),
            Some(r.notes_en),
        )
        .await;
    }
    Ok(draft)
}

/// The review queue: drafts of fields in the agronomist's counties, oldest first.
pub async fn queue(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<recommendation::Model>> {
    require_agronomist(actor)?;
    let drafts = recommendation::Entity::find()
        .filter(recommendation::Column::Status.eq("DRAFT"))
        .order_by_asc(recommendation::Column::Id)
        .all(db)
        .await?;
    if actor.is_admin() {
        return Ok(drafts);
    }
    // The agronomist's counties, decided for the whole queue in a few statements (the fields,
    // then one per level from village up to county), not per draft.
    let fields = crate::rows_by_id!(db, field, drafts.iter().map(|d| d.field_id));
    let counties = crate::regions::counties_of(db, fields.values().map(|f| f.village_id)).await?;
    Ok(drafts
        .into_iter()
        .filter(|d| {
            fields
                .get(&d.field_id)
                .and_then(|f| counties.get(&f.village_id).copied().flatten())
                .is_some_and(|c| actor.county_ids.contains(&c))
        })
        .collect())
}

/// Crop plans by id, for loaders of lists that name one (recommendations).
pub async fn crop_plans_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<crop_plan::Model>> {
    Ok(crop_plan::Entity::find()
        .filter(crop_plan::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Soil tests by id, for loaders of lists that name one (recommendations).
pub async fn soil_tests_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<soil_test::Model>> {
    Ok(soil_test::Entity::find()
        .filter(soil_test::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Recommendations of a field the actor may see (farmers: published and superseded only).
pub async fn of_field(
    db: &impl ConnectionTrait,
    actor: &Actor,
    field_id: i64,
) -> Result<Vec<recommendation::Model>> {
    field_for(db, actor, field_id).await?;
    let mut q = recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.eq(field_id))
        .order_by_desc(recommendation::Column::Id);
    if actor.role == Role::Farmer {
        q = q.filter(recommendation::Column::Status.is_in(["PUBLISHED", "SUPERSEDED"]));
    }
    Ok(q.all(db).await?)
}

/// The farmer's published recommendations, newest first.
pub async fn for_farmer(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> Result<Vec<recommendation::Model>> {
    actor.require(actor.role == Role::Farmer)?;
    let fields: Vec<i64> = crate::fields::of_farmer(db, actor.user_id)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    Ok(recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.is_in(fields))
        .filter(recommendation::Column::Status.eq("PUBLISHED"))
        .order_by_desc(recommendation::Column::Id)
        .all(db)
        .await?)
}

/// What moved between the recommendation and now, for one basket line.
#[derive(Clone, Debug)]
pub struct CartWarning {
    pub offer_id: i64,
    pub zh: String,
    pub en: String,
}

/// Puts a published recommendation's basket into the farmer's cart at today's prices, and says
/// what moved (price, stock, withdrawn offers).
pub async fn basket_to_cart<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<Vec<CartWarning>> {
    actor.require(actor.role == Role::Farmer)?;
    let r = get(db, actor, id).await?;
    if r.status != "PUBLISHED" {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "只有当前发布的版本可以加入购物车",
            "only the current published version can go into the cart",
        ));
    }
    let basket: Basket =
        serde_json::from_value(r.basket.clone()).map_err(|e| Error::Internal(e.to_string()))?;
    let txn = crate::begin_write(db).await?;
    let mut warnings = Vec::new();
    for l in &basket.lines {
        let o = offer::Entity::find_by_id(l.offer_id).one(&txn).await?;
        match o {
            Some(o) if o.active => {
                if o.price_fen != l.price_fen_per_bag {
                    warnings.push(CartWarning {
                        offer_id: o.id,
                        zh: format!(
                            "{} 价格已从 {} 变为 {}",
                            l.product_zh,
                            crate::types::Fen(l.price_fen_per_bag),
                            crate::types::Fen(o.price_fen)
                        ),
                        en: format!(
                            "{}: price moved from {} to {}",
                            l.product_en,
                            crate::types::Fen(l.price_fen_per_bag),
                            crate::types::Fen(o.price_fen)
                        ),
                    });
                }
                let available = orders::available_of(&txn, o.dealer_id, o.sku_id).await?;
                if available < l.bags {
                    warnings.push(CartWarning {
                        offer_id: o.id,
                        zh: format!(
                            "{} 库存不足：可购 {available} 袋，建议 {} 袋",
                            l.product_zh, l.bags
                        ),
                        en: format!(
                            "{}: only {available} bags in stock, {} recommended",
                            l.product_en, l.bags
                        ),
                    });
                }
                orders::cart_set(&txn, actor, o.id, l.bags).await?;
                // Re-priced: a line already in the cart takes today's price too (the warning
                // above is the farmer's notice), so it does not stop at checkout as changed.
                cart_line::Entity::update_many()
                    .col_expr(
                        cart_line::Column::PriceFenWhenAdded,
                        sea_orm::sea_query::Expr::value(o.price_fen),
                    )
                    .filter(cart_line::Column::FarmerId.eq(actor.user_id))
                    .filter(cart_line::Column::OfferId.eq(o.id))
                    .exec(&txn)
                    .await?;
            }
            _ => warnings.push(CartWarning {
                offer_id: l.offer_id,
                zh: format!("{} 已下架，未加入购物车", l.product_zh),
                en: format!(
                    "{}: the offer was withdrawn and was not added",
                    l.product_en
                ),
            }),
        }
    }
    txn.commit().await?;
    Ok(warnings)
}

// ---------------------------------------------------------------- regional formulas

/// One field's need and the formula it falls under.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FormulaField {
    pub field_id: i64,
    pub rates_kg_per_mu: [f64; 3],
    /// Distance between the field's N:P2O5:K2O shares and the formula's, in percentage points.
    pub distance: f64,
    /// kg of formula product per mu sized to the first nutrient it would over-supply.
    pub formula_kg_per_mu: f64,
    /// What remains to top up with straights, kg nutrient per mu (N, P2O5, K2O).
    pub top_up_kg_per_mu: [f64; 3],
    /// The rates rest on the 0.5 placeholder correction coefficients (no calibration from the
    /// county's omission plots), as a draft's note says.
    #[serde(default)]
    pub placeholder_correction: bool,
}

/// A field growing the crop that a regional formula computation left out, and why.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SkippedField {
    pub field_id: i64,
    /// NO_SOIL_TEST, NO_OLSEN_P, NO_TARGET_YIELD, ADVISOR_REFUSED or NO_NEED.
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl SkippedField {
    fn new(field_id: i64, code: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        SkippedField {
            field_id,
            code: code.into(),
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Whether a draft with these parameters on this plan uses the placeholder correction
/// coefficients: nutrient balance with none given and no no-fertiliser yield to calibrate them.
pub fn uses_placeholder_correction(params: &Params, plan: &crop_plan::Model) -> bool {
    params.method == Method::NutrientBalance
        && params.correction_coefficients.is_none()
        && plan.no_fertiliser_yield_kg_per_mu.is_none()
}

fn shares(r: [f64; 3]) -> Option<[f64; 3]> {
    let t = r[0] + r[1] + r[2];
    (t > 0.0).then(|| [r[0] / t, r[1] / t, r[2] / t])
}

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// k-means on nutrient shares with farthest-point seeding (deterministic for the same input).
pub fn cluster(points: &[[f64; 3]], k: usize) -> (Vec<[f64; 3]>, Vec<usize>) {
    let k = k.min(points.len()).max(1);
    let mean = |idx: &[usize]| {
        let n = idx.len().max(1) as f64;
        let s = idx.iter().fold([0.0; 3], |a, i| {
            [
                a[0] + points[*i][0],
                a[1] + points[*i][1],
                a[2] + points[*i][2],
            ]
        });
        [s[0] / n, s[1] / n, s[2] / n]
    };
    let all: Vec<usize> = (0..points.len()).collect();
    let mut centres = vec![mean(&all)];
    while centres.len() < k {
        let far = (0..points.len())
            .max_by(|a, b| {
                let da = centres
                    .iter()
                    .map(|c| dist(points[*a], *c))
                    .fold(f64::MAX, f64::min);
                let db = centres
                    .iter()
                    .map(|c| dist(points[*b], *c))
                    .fold(f64::MAX, f64::min);
                da.total_cmp(&db)
            })
            .unwrap_or(0);
        centres.push(points[far]);
    }
    let mut assign = vec![0; points.len()];
    for _ in 0..100 {
        let next: Vec<usize> = points
            .iter()
            .map(|p| {
                (0..centres.len())
                    .min_by(|a, b| dist(*p, centres[*a]).total_cmp(&dist(*p, centres[*b])))
                    .unwrap_or(0)
            })
            .collect();
        let changed = next != assign;
        assign = next;
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..points.len()).filter(|i| assign[*i] == c).collect();
            if !members.is_empty() {
                *centre = mean(&members);
            }
        }
        if !changed {
            break;
        }
    }
    (centres, assign)
}

/// A formula's grade from cluster shares: scaled to a high-concentration total (45 %, GB/T
/// 15063-2020: >= 40 % is high) and rounded to whole per cent; a declared nutrient is at least
/// 4 % (RULES.md), a share under 2 % is left out.
pub fn grade_from_shares(s: [f64; 3]) -> [f64; 3] {
    const TOTAL: f64 = 45.0;
    let mut g = s.map(|x| {
        if x * TOTAL < 2.0 {
            0.0
        } else {
            (x * TOTAL).round().max(4.0)
        }
    });
    // Keep the total at 45 by moving the rounding difference onto the largest nutrient.
    let diff = TOTAL - (g[0] + g[1] + g[2]);
    let largest = (0..3).max_by(|a, b| g[*a].total_cmp(&g[*b])).unwrap_or(0);
    g[largest] += diff;
    g
}

/// Clusters the county's fields growing `crop` into `k` formulas from their latest soil test
/// and crop plan (nutrient balance with the draft defaults), and stores them as DRAFT formulas.
pub async fn compute_regional_formulas<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    county_id: i64,
    crop: &str,
    k: usize,
) -> Result<Vec<regional_formula::Model>> {
    require_agronomist(actor)?;
    actor.require(actor.is_admin() || actor.county_ids.contains(&county_id))?;
    let crop_code = crate::catalog::crops::resolve(crop)
        .filter(|c| advisor_crop(c).is_some())
        .ok_or_else(|| Error::invalid("crop", Code::InvalidFormat, "未知作物", "unknown crop"))?;
    if !(1..=8).contains(&k) {
        return Err(Error::invalid(
            "formulas",
            Code::OutOfRange,
            "配方数量应为 1 到 8 个",
            "choose 1 to 8 formulas",
        ));
    }
    let villages: BTreeSet<i64> = regions::villages(db, Some(county_id))
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    let fields = field::Entity::find()
        .filter(field::Column::VillageId.is_in(villages))
        .order_by_asc(field::Column::Id)
        .all(db)
        .await?;
    // (field, rates, placeholder correction used)
    let mut needs: Vec<(i64, [f64; 3], bool)> = Vec::new();
    let mut skipped: Vec<SkippedField> = Vec::new();
    for f in fields {
        let Some(plan) = crop_plans_of(db, f.id)
            .await?
            .into_iter()
            .find(|p| p.crop == crop_code)
        else {
            continue;
        };
        let Some(test) = soil_tests_of(db, f.id).await?.into_iter().next() else {
            skipped.push(SkippedField::new(
                f.id,
                "NO_SOIL_TEST",
                "该地块没有土壤检测结果",
                "the field has no soil test",
            ));
            continue;
        };
        // The latest non-rejected recommendation's rates when there is one; else compute.
        let latest = recommendation::Entity::find()
            .filter(recommendation::Column::FieldId.eq(f.id))
            .filter(recommendation::Column::CropPlanId.eq(plan.id))
            .filter(recommendation::Column::Status.ne("REJECTED"))
            .order_by_desc(recommendation::Column::Version)
            .one(db)
            .await?;
        let (rates, placeholder) = match latest {
            Some(r) => {
                let params: Params =
                    serde_json::from_value(r.parameters["params"].clone()).unwrap_or_default();
                (
                    [r.n_kg_per_mu, r.p2o5_kg_per_mu, r.k2o_kg_per_mu],
                    uses_placeholder_correction(&params, &plan),
                )
            }
            None => match rates_only(&f, &plan, &test).await {
                Ok(r) => (r, uses_placeholder_correction(&Params::default(), &plan)),
                Err(skip) => {
                    skipped.push(skip);
                    continue;
                }
            },
        };
        needs.push((f.id, rates, placeholder));
    }
    let mut points: Vec<(i64, [f64; 3], [f64; 3], bool)> = Vec::new();
    for (id, r, placeholder) in &needs {
        match shares(*r) {
            Some(s) => points.push((*id, *r, s, *placeholder)),
            None => skipped.push(SkippedField::new(
                *id,
                "NO_NEED",
                "土壤供应充足，该地块不需要施 N、P2O5、K2O",
                "the soil supplies enough: the field needs no N, P2O5 or K2O",
            )),
        }
    }
    skipped.sort_by_key(|s| s.field_id);
    if points.is_empty() {
        return Err(Error::invalid(
            "countyId",
            Code::Required,
            "该县没有种植该作物且有土壤检测的地块",
            "no field in this county has a soil test and a crop plan for this crop",
        ));
    }
    let (centres, assign) = cluster(&points.iter().map(|p| p.2).collect::<Vec<_>>(), k);
    let county = regions::region(db, county_id).await?;
    let crop_zh = crate::catalog::crops::find(crop_code)
        .map(|c| c.1)
        .unwrap_or(crop_code);
    let txn = crate::begin_write(db).await?;
    let mut out = Vec::new();
    for (c, centre) in centres.iter().enumerate() {
        let members: Vec<&(i64, [f64; 3], [f64; 3], bool)> = points
            .iter()
            .zip(&assign)
            .filter(|(_, a)| **a == c)
            .map(|(p, _)| p)
            .collect();
        if members.is_empty() {
            continue;
        }
        let g = grade_from_shares(*centre);
        let gs = shares(g).unwrap_or(*centre);
        let details: Vec<FormulaField> = members
            .iter()
            .map(|(id, r, s, placeholder)| {
                // Size the formula to the nutrient it would over-supply first, then top up.
                let kg = (0..3)
                    .filter(|i| g[*i] > 0.0)
                    .map(|i| r[i] / (g[i] / 100.0))
                    .fold(f64::MAX, f64::min);
                let kg = if kg.is_finite() { kg } else { 0.0 };
                FormulaField {
                    field_id: *id,
                    rates_kg_per_mu: *r,
                    distance: dist(*s, gs) * 100.0,
                    formula_kg_per_mu: kg,
                    top_up_kg_per_mu: [0, 1, 2].map(|i| (r[i] - kg * g[i] / 100.0).max(0.0)),
                    placeholder_correction: *placeholder,
                }
            })
            .collect();
        let mean_distance = details.iter().map(|d| d.distance).sum::<f64>() / details.len() as f64;
        let row = regional_formula::ActiveModel {
            county_id: Set(county_id),
            crop: Set(crop_code.into()),
            name: Set(format!(
                "{}{}配方肥 {}",
                county.name_zh,
                crop_zh,
                types::Analysis {
                    n: g[0],
                    p2o5: g[1],
                    k2o: g[2]
                }
            )),
            n_pct: Set(g[0]),
            p2o5_pct: Set(g[1]),
            k2o_pct: Set(g[2]),
            fields_covered: Set(details.len() as i32),
            mean_distance: Set(mean_distance),
            details: Set(
                serde_json::to_value(&details).map_err(|e| Error::Internal(e.to_string()))?
            ),
            skipped: Set(Some(
                serde_json::to_value(&skipped).map_err(|e| Error::Internal(e.to_string()))?,
            )),
            status: Set("DRAFT".into()),
            created_by: Set(actor.user_id),
            published_by: Set(None),
            published_at: Set(None),
            product_id: Set(None),
            created_at: Set(crate::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        out.push(row);
    }
    txn.commit().await?;
    Ok(out)
}

/// Nutrient-balance rates with the draft defaults, without a basket (for clustering), or why
/// the field has none.
async fn rates_only(
    f: &field::Model,
    plan: &crop_plan::Model,
    test: &soil_test::Model,
) -> std::result::Result<[f64; 3], SkippedField> {
    let skip = |code: &str, zh: String, en: String| SkippedField::new(f.id, code, zh, en);
    let crop = advisor_crop(&plan.crop).ok_or_else(|| {
        skip(
            "ADVISOR_REFUSED",
            "该作物暂无养分吸收数据".into(),
            "no uptake data for this crop".into(),
        )
    })?;
    let olsen = test.olsen_p_mg_kg.ok_or_else(|| {
        skip(
            "NO_OLSEN_P",
            "土壤检测没有 Olsen 法有效磷，养分平衡法无法计算".into(),
            "the soil test has no Olsen P, which the nutrient balance method needs".into(),
        )
    })?;
    let (target_yield_kg_per_mu, past_yields_kg_per_mu) =
        match (plan.target_yield_kg_per_mu, &plan.past_yields_kg_per_mu) {
            (Some(t), _) => (
                Some(KgPerMu::try_new(t).map_err(|e| e.at("target_yield_kg_per_mu"))),
                None,
            ),
            (None, Some(p)) => (None, Some(past_yields(p))),
            _ => {
                return Err(skip(
                    "NO_TARGET_YIELD",
                    "作物计划没有目标产量".into(),
                    "the crop plan has no target yield".into(),
                ));
            }
        };
    let request = (|| {
        let (correction_coefficients, no_fertiliser_yield_kg_per_mu) =
            match plan.no_fertiliser_yield_kg_per_mu {
                Some(y) => (
                    advisor::api::Npk::default(),
                    Some(at(KgPerMu::try_new(y), "no_fertiliser_yield_kg_per_mu")?),
                ),
                None => (
                    npk(
                        PLACEHOLDER_CORRECTION,
                        "correction_coefficients",
                        Positive::try_new,
                    )?,
                    None,
                ),
            };
        Ok(advisor::api::RecommendRequest {
            crop: crop.to_owned(),
            area_mu: at(Positive::try_new(f.area_mu), "area_mu")?,
            target_yield_kg_per_mu: target_yield_kg_per_mu.transpose()?,
            past_yields_kg_per_mu: past_yields_kg_per_mu.transpose()?,
            target_yield_factor: None,
            soil: advisor_soil(test, olsen, false)?,
            correction_coefficients,
            no_fertiliser_yield_kg_per_mu,
            recovery_rates: advisor::api::Npk::default(),
            uptake_kg_per_kg_yield: advisor::api::Npk::default(),
            legume_n_factor: None,
            target_ph: None,
            residual_lime_credit_t_per_acre: None,
            products: Vec::new(),
            basket: advisor::api::BasketSettings::default(),
        })
    })();
    let refused = |e: advisor::RequestError| {
        skip(
            "ADVISOR_REFUSED",
            format!("配方计算不接受该地块的数据：{e}"),
            format!("the advisor refused the field's data: {e}"),
        )
    };
    let answer = run_advisor(request.map_err(refused)?)
        .await
        .map_err(refused)?;
    Ok(answer.rates_kg_per_mu.values())
}

pub async fn regional_formulas(
    db: &impl ConnectionTrait,
    county_id: i64,
    crop: Option<&str>,
) -> Result<Vec<regional_formula::Model>> {
    let mut q = regional_formula::Entity::find()
        .filter(regional_formula::Column::CountyId.eq(county_id))
        .order_by_desc(regional_formula::Column::Id);
    if let Some(c) = crop.and_then(crate::catalog::crops::resolve) {
        q = q.filter(regional_formula::Column::Crop.eq(c));
    }
    Ok(q.all(db).await?)
}

/// Publishes a formula: dealers may then stock it as a product.
pub async fn publish_formula(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> Result<regional_formula::Model> {
    require_agronomist(actor)?;
    let f = regional_formula::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("regional formula", id))?;
    actor.require(actor.is_admin() || actor.county_ids.contains(&f.county_id))?;
    if f.status != "DRAFT" {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "该配方已发布",
            "this formula is already published",
        ));
    }
    let mut am: regional_formula::ActiveModel = f.into();
    am.status = Set("PUBLISHED".into());
    am.published_by = Set(Some(actor.user_id));
    am.published_at = Set(Some(crate::now()));
    Ok(am.update(db).await?)
}

/// A dealer (or admin) lists a published formula as a product of a producer: a compound
/// fertiliser with the formula's analysis (high concentration, so exempt from registration).
pub async fn formula_to_product<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
    producer_id: i64,
) -> Result<product::Model> {
    actor.require(actor.is_admin() || actor.role == Role::Dealer)?;
    let txn = crate::begin_write(db).await?;
    let f = regional_formula::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("regional formula", id))?;
    if f.product_id.is_some() {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "该配方已作为产品上架，请直接为该产品添加规格和报价",
            "this formula is already listed as a product: add packs and offers to that product",
        ));
    }
    if f.status != "PUBLISHED" {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "只有已发布的配方可以作为产品上架",
            "only a published formula can be stocked",
        ));
    }
    let county = region::Entity::find_by_id(f.county_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("region", f.county_id))?;
    let input = crate::catalog::ProductInput {
        category: "FERTILISER".into(),
        producer_id,
        name_zh: f.name.clone(),
        name_en: format!(
            "{} {} formula fertiliser {}",
            county.name_en,
            f.crop.to_lowercase(),
            types::Analysis {
                n: f.n_pct,
                p2o5: f.p2o5_pct,
                k2o: f.k2o_pct
            }
        ),
        description_zh: format!("区域配方（大配方、小调整），覆盖 {} 块地", f.fields_covered),
        description_en: format!("Regional formula covering {} fields", f.fields_covered),
        registration_no: None,
        registration_exempt: true,
        restricted_use: false,
        fertiliser: Some(crate::catalog::FertiliserInput {
            fertiliser_type: "COMPOUND".into(),
            n_pct: f.n_pct,
            p2o5_pct: f.p2o5_pct,
            k2o_pct: f.k2o_pct,
            secondary: BTreeMap::new(),
            organic_matter_pct: 0.0,
            form: "GRANULAR".into(),
            chloride: "NONE".into(),
        }),
        seed: None,
        pesticide: None,
    };
    // The product and the formula's link to it are one write: a formula is listed once.
    // A concurrent listing of the same formula finds the link already set and rolls back.
    let p = crate::catalog::create_product(&txn, actor, input).await?;
    let linked = regional_formula::Entity::update_many()
        .col_expr(
            regional_formula::Column::ProductId,
            sea_orm::sea_query::Expr::value(p.id),
        )
        .filter(regional_formula::Column::Id.eq(f.id))
        .filter(regional_formula::Column::ProductId.is_null())
        .exec(&txn)
        .await?;
    if linked.rows_affected != 1 {
        return Err(Error::invalid(
            "id",
            Code::InvalidTransition,
            "该配方已作为产品上架",
            "this formula is already listed as a product",
        ));
    }
    txn.commit().await?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_separate_distinct_ratios() {
        let pts = [
            [0.6, 0.2, 0.2],
            [0.62, 0.18, 0.2],
            [0.3, 0.4, 0.3],
            [0.28, 0.42, 0.3],
        ];
        let (centres, assign) = cluster(&pts, 2);
        assert_eq!(centres.len(), 2);
        assert_eq!(assign[0], assign[1]);
        assert_eq!(assign[2], assign[3]);
        assert_ne!(assign[0], assign[2]);
    }

    #[test]
    fn grades_total_45_with_declared_nutrients_at_least_4() {
        let g = grade_from_shares([0.55, 0.2, 0.25]);
        assert_eq!(g[0] + g[1] + g[2], 45.0);
        assert!(g.iter().all(|x| *x == 0.0 || *x >= 4.0));
        assert_eq!(grade_from_shares([0.99, 0.01, 0.0])[1], 0.0);
    }
}
