//! A lab's soil tests imported from CSV: the columns it may have, checked and inserted row by row
//! under the chosen policy.

use super::*;

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
