//! A lab's soil tests imported from CSV: the columns it may have (the usual lab headers in Chinese
//! or English, matched ignoring case, spaces and full-/half-width brackets), the units their
//! headers may name (converted where there is one right conversion, refused at line 1 otherwise),
//! the template a lab fills in, and the rows checked and inserted under the chosen policy.

use super::*;

/// A unit as a lab writes it in a header (`有机质(g/kg)`, `速效钾（mg·kg-1）`, `CEC (cmol(+)/kg)`),
/// once normalised by [`canon_unit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    MgPerKg,
    Ppm,
    GPerKg,
    Percent,
    CmolPerKg,
    Cm,
    /// pH measured in water (the only pH the advisor's tables use).
    PhWater,
    /// pH in a salt solution (KCl, CaCl2): reads 0.5-1 unit lower than in water.
    PhSalt,
    Unitless,
}

/// One column of a lab's file: its name, the header names accepted for it (compared after
/// [`fold_name`]: any case, spaces, `_` and `-` dropped, full-width characters as half-width),
/// whether it is required, and the units accepted in its header with the factor to the stored
/// unit. A header with no unit is in the stored unit. `units: None`: a text column, whose
/// header's bracket is a note, not a unit.
struct SoilColumn {
    name: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    units: Option<&'static [(Unit, f64)]>,
    /// The stored unit, for messages.
    unit: &'static str,
    /// The template's header in Chinese and in English.
    zh: &'static str,
    en: &'static str,
}

/// mg/kg, or ppm (the same thing for a soil: mg per kg).
const AVAILABLE: &[(Unit, f64)] = &[(Unit::MgPerKg, 1.0), (Unit::Ppm, 1.0)];

/// CSV columns of a lab's results, in the template's order.
const SOIL_COLUMNS: &[SoilColumn] = &[
    SoilColumn {
        name: "field_id",
        aliases: &["fieldid", "地块编号", "地块id"],
        required: false,
        units: None,
        unit: "",
        zh: "地块编号",
        en: "Field ID",
    },
    SoilColumn {
        name: "farmer_phone",
        aliases: &[
            "farmerphone",
            "农户手机号",
            "农户电话",
            "手机号",
            "联系电话",
        ],
        required: false,
        units: None,
        unit: "",
        zh: "农户手机号",
        en: "Farmer phone",
    },
    SoilColumn {
        name: "field_name",
        aliases: &["fieldname", "地块名称", "地块名"],
        required: false,
        units: None,
        unit: "",
        zh: "地块名称",
        en: "Field name",
    },
    SoilColumn {
        name: "sampled_on",
        aliases: &[
            "sampledon",
            "samplingdate",
            "datesampled",
            "采样日期",
            "采样时间",
        ],
        required: true,
        units: None,
        unit: "",
        zh: "采样日期",
        en: "Sampling date",
    },
    SoilColumn {
        name: "depth_cm",
        aliases: &["depthcm", "depth", "samplingdepth", "采样深度", "取样深度"],
        required: true,
        units: Some(&[(Unit::Cm, 1.0)]),
        unit: "cm",
        zh: "采样深度(cm)",
        en: "Depth (cm)",
    },
    SoilColumn {
        name: "lab",
        aliases: &[
            "lab",
            "laboratory",
            "化验室",
            "检测机构",
            "检测单位",
            "化验单位",
        ],
        required: true,
        units: None,
        unit: "",
        zh: "检测机构",
        en: "Lab",
    },
    SoilColumn {
        name: "lab_sample_id",
        aliases: &[
            "labsampleid",
            "sampleid",
            "sampleno",
            "样品编号",
            "样品号",
            "样品编码",
        ],
        required: true,
        units: None,
        unit: "",
        zh: "样品编号",
        en: "Sample ID",
    },
    SoilColumn {
        name: "ph",
        aliases: &["ph", "ph值", "土壤ph", "酸碱度", "phvalue"],
        required: true,
        units: Some(&[(Unit::PhWater, 1.0), (Unit::Unitless, 1.0)]),
        unit: "",
        zh: "pH值",
        en: "pH",
    },
    SoilColumn {
        name: "buffer_ph",
        aliases: &["bufferph", "缓冲ph", "缓冲液ph"],
        required: false,
        units: Some(&[(Unit::Unitless, 1.0)]),
        unit: "",
        zh: "缓冲pH",
        en: "Buffer pH",
    },
    SoilColumn {
        name: "organic_matter_g_kg",
        aliases: &[
            "organicmattergkg",
            "organicmatter",
            "som",
            "有机质",
            "土壤有机质",
        ],
        required: true,
        // % -> g/kg: x 10 (1 % = 10 g per kg).
        units: Some(&[(Unit::GPerKg, 1.0), (Unit::Percent, 10.0)]),
        unit: "g/kg",
        zh: "有机质(g/kg)",
        en: "Organic matter (g/kg)",
    },
    SoilColumn {
        name: "alkali_n_mg_kg",
        aliases: &[
            "alkalinmgkg",
            "alkalihydrolysablen",
            "alkalihydrolyzablen",
            "alkalin",
            "碱解氮",
            "水解性氮",
        ],
        required: true,
        units: Some(AVAILABLE),
        unit: "mg/kg",
        zh: "碱解氮(mg/kg)",
        en: "Alkali-hydrolysable N (mg/kg)",
    },
    SoilColumn {
        name: "olsen_p_mg_kg",
        aliases: &["olsenpmgkg", "olsenp", "availablep", "有效磷", "速效磷"],
        required: false,
        units: Some(AVAILABLE),
        unit: "mg/kg",
        zh: "有效磷(mg/kg)",
        en: "Olsen P (mg/kg)",
    },
    SoilColumn {
        name: "mehlich3_p_mg_kg",
        aliases: &["mehlich3pmgkg", "mehlich3p", "m3p", "mehlich3磷"],
        required: false,
        units: Some(AVAILABLE),
        unit: "mg/kg",
        zh: "Mehlich3磷(mg/kg)",
        en: "Mehlich-3 P (mg/kg)",
    },
    SoilColumn {
        name: "available_k_mg_kg",
        aliases: &["availablekmgkg", "availablek", "速效钾"],
        required: true,
        units: Some(AVAILABLE),
        unit: "mg/kg",
        zh: "速效钾(mg/kg)",
        en: "Available K (mg/kg)",
    },
    SoilColumn {
        name: "cec_cmol_kg",
        aliases: &["ceccmolkg", "cec", "阳离子交换量"],
        required: false,
        // cmol(+)/kg = meq/100 g.
        units: Some(&[(Unit::CmolPerKg, 1.0)]),
        unit: "cmol/kg",
        zh: "阳离子交换量(cmol/kg)",
        en: "CEC (cmol/kg)",
    },
    SoilColumn {
        name: "ca_mg_kg",
        aliases: &["camgkg", "exchangeableca", "交换性钙"],
        required: false,
        // 1 cmol(+)/kg of Ca2+ = 0.005 mol x 40.078 g/mol = 200.39 mg/kg.
        units: Some(&[
            (Unit::MgPerKg, 1.0),
            (Unit::Ppm, 1.0),
            (Unit::CmolPerKg, 200.39),
        ]),
        unit: "mg/kg",
        zh: "交换性钙(mg/kg)",
        en: "Exchangeable Ca (mg/kg)",
    },
    SoilColumn {
        name: "mg_mg_kg",
        aliases: &["mgmgkg", "exchangeablemg", "交换性镁"],
        required: false,
        // 1 cmol(+)/kg of Mg2+ = 0.005 mol x 24.305 g/mol = 121.53 mg/kg.
        units: Some(&[
            (Unit::MgPerKg, 1.0),
            (Unit::Ppm, 1.0),
            (Unit::CmolPerKg, 121.53),
        ]),
        unit: "mg/kg",
        zh: "交换性镁(mg/kg)",
        en: "Exchangeable Mg (mg/kg)",
    },
    SoilColumn {
        name: "s_mg_kg",
        aliases: &["smgkg", "availables", "有效硫"],
        required: false,
        units: Some(AVAILABLE),
        unit: "mg/kg",
        zh: "有效硫(mg/kg)",
        en: "Available S (mg/kg)",
    },
    SoilColumn {
        name: "zn_mg_kg",
        aliases: &["znmgkg", "availablezn", "有效锌"],
        required: false,
        units: Some(AVAILABLE),
        unit: "mg/kg",
        zh: "有效锌(mg/kg)",
        en: "Available Zn (mg/kg)",
    },
    SoilColumn {
        name: "b_mg_kg",
        aliases: &["bmgkg", "availableb", "有效硼"],
        required: false,
        units: Some(AVAILABLE),
        unit: "mg/kg",
        zh: "有效硼(mg/kg)",
        en: "Available B (mg/kg)",
    },
];

/// Full-width forms (`（`, `ｐＨ`, `％`, `１２．５`, the ideographic space) as their half-width
/// ASCII, and `【】` as `[]`: what a lab's spreadsheet in a Chinese locale writes.
fn half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '【' => '[',
            '】' => ']',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A header or unit as compared: half-width, lower case, no spaces, `[]` as `()`.
fn fold(s: &str) -> String {
    half_width(s)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '[' => '(',
            ']' => ')',
            _ => c,
        })
        .collect()
}

/// A header's name as compared with the aliases: folded, with `_`, `-` and `.` dropped.
fn fold_name(s: &str) -> String {
    fold(s)
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .collect()
}

/// A header as name and unit: `有机质（g/kg）` -> (`有机质`, `g/kg`); `CEC (cmol(+)/kg)` ->
/// (`cec`, `cmol(+)/kg`); a header with no bracket at its end has no unit.
fn split_header(h: &str) -> (String, Option<String>) {
    let f = fold(h);
    if f.ends_with(')')
        && let Some(open) = f.find('(')
        && open > 0
    {
        return (
            fold_name(&f[..open]),
            Some(f[open + 1..f.len() - 1].to_owned()),
        );
    }
    (fold_name(&f), None)
}

/// A unit as a lab writes it, understood: `mg/kg`, `mg·kg-1`, `mg kg⁻¹`, `毫克/千克`, `ppm`,
/// `g/kg`, `%`, `cmol(+)/kg`, `meq/100g`, `cm`, `H2O`/`水` (a pH in water), `KCl`/`CaCl2`.
fn canon_unit(u: &str) -> Option<Unit> {
    let s = fold(u)
        .replace('⁻', "-")
        .replace('¹', "1")
        .replace('^', "")
        .replace("(+)", "")
        .replace(['·', '•', '∙', '*', '.'], "·");
    let s = s.replace("·kg-1", "/kg").replace("kg-1", "/kg");
    let s = s.replace("·100g-1", "/100g").replace("100g-1", "/100g");
    let s = s
        .replace("//", "/")
        .replace("(干土)", "")
        .replace("干土", "");
    // A pH's bracket names its extractant, often with the ratio: `pH(水土比2.5:1)`, `pH(1:2.5 KCl)`.
    if ["kcl", "cacl", "氯化"].iter().any(|w| s.contains(w)) {
        return Some(Unit::PhSalt);
    }
    if ["h2o", "水", "water"].iter().any(|w| s.contains(w)) {
        return Some(Unit::PhWater);
    }
    Some(match s.as_str() {
        "mg/kg" | "毫克/千克" | "毫克/公斤" => Unit::MgPerKg,
        "ppm" => Unit::Ppm,
        "g/kg" | "克/千克" | "克/公斤" => Unit::GPerKg,
        "%" => Unit::Percent,
        "cmol/kg" | "cmolc/kg" | "厘摩尔/千克" | "meq/100g" | "me/100g" | "毫克当量/100克" => {
            Unit::CmolPerKg
        }
        "cm" | "厘米" => Unit::Cm,
        "" | "-" | "无量纲" => Unit::Unitless,
        _ => return None,
    })
}

/// The header, matched: the position of every column found and the factor that converts its
/// cells to the stored unit; or the line-1 errors (a unit not understood or wrong for the
/// column, a column given twice, a required column missing).
struct SoilHeader {
    cells: csv::StringRecord,
    index: BTreeMap<&'static str, usize>,
    factor: BTreeMap<&'static str, f64>,
}

fn soil_header(cells: csv::StringRecord) -> std::result::Result<SoilHeader, Vec<RowError>> {
    let mut index = BTreeMap::new();
    let mut factor = BTreeMap::new();
    let mut errors = Vec::new();
    let mut seen_unit_error: BTreeSet<&str> = BTreeSet::new();
    let line1 = |i: usize, code: Code, zh: String, en: String| RowError {
        line: 1,
        column: Some(i + 1),
        column_name: cells.get(i).map(str::to_owned),
        code,
        zh,
        en,
    };
    for (i, h) in cells.iter().enumerate() {
        let (name, unit_text) = split_header(h);
        let Some(col) = SOIL_COLUMNS
            .iter()
            .find(|c| c.aliases.contains(&name.as_str()))
        else {
            continue; // a column the import does not use (全氮, 备注, ...)
        };
        let f = match (col.units, unit_text) {
            (None, _) | (Some(_), None) => Some(1.0),
            (Some(units), Some(u)) => {
                let understood = canon_unit(&u);
                match understood.and_then(|k| units.iter().find(|(a, _)| *a == k)) {
                    Some((_, f)) => Some(*f),
                    None => {
                        let accepted = match col.name {
                            "ph" => "H2O（水浸）".to_owned(),
                            "buffer_ph" => "（无单位）".to_owned(),
                            "organic_matter_g_kg" => "g/kg、%".to_owned(),
                            "cec_cmol_kg" => "cmol/kg、cmol(+)/kg、meq/100g".to_owned(),
                            "ca_mg_kg" | "mg_mg_kg" => "mg/kg、ppm、cmol(+)/kg".to_owned(),
                            "depth_cm" => "cm".to_owned(),
                            _ => "mg/kg、ppm".to_owned(),
                        };
                        let (hint_zh, hint_en) = match understood {
                            Some(Unit::Percent | Unit::GPerKg) if col.unit == "mg/kg" => (
                                "（% 或 g/kg 通常是全量，如全氮，不是速效养分）",
                                " (% or g/kg is usually a total content, such as total N, not an available one)",
                            ),
                            Some(Unit::PhSalt) => (
                                "（盐溶液 pH 比水浸 pH 低约 0.5–1，请提供水浸 pH）",
                                " (a pH in a salt solution reads about 0.5-1 lower than in water: give the pH in water)",
                            ),
                            None => ("（无法识别的单位）", " (a unit we do not know)"),
                            _ => ("", ""),
                        };
                        seen_unit_error.insert(col.name);
                        errors.push(line1(
                            i,
                            Code::InvalidFormat,
                            format!("“{h}”的单位“{u}”不适用{hint_zh}，可用：{accepted}"),
                            format!(
                                "\"{h}\": the unit \"{u}\" does not fit this column{hint_en}; use {}",
                                accepted
                                    .replace("（水浸）", " (in water)")
                                    .replace("（无单位）", "no unit")
                                    .replace('、', ", ")
                            ),
                        ));
                        None
                    }
                }
            }
        };
        if let Some(f) = f {
            if let Some(&first) = index.get(col.name) {
                errors.push(line1(
                    i,
                    Code::Duplicate,
                    format!("与第 {} 列重复（都是 {}）", first + 1, col.name),
                    format!("repeats column {} (both are {})", first + 1, col.name),
                ));
                continue;
            }
            index.insert(col.name, i);
            factor.insert(col.name, f);
        }
    }
    for c in SOIL_COLUMNS {
        if c.required && !index.contains_key(c.name) && !seen_unit_error.contains(c.name) {
            errors.push(RowError {
                line: 1,
                column: None,
                column_name: Some(c.name.into()),
                code: Code::Required,
                zh: format!("缺少列 {}（{}）", c.name, c.zh),
                en: format!("missing column {} ({})", c.name, c.en),
            });
        }
    }
    if errors.is_empty() {
        Ok(SoilHeader {
            cells,
            index,
            factor,
        })
    } else {
        Err(errors)
    }
}

/// The CSV a lab can fill in: a header row (Chinese or English, units in the headers) and one
/// example row, for the console's download. Fields are matched by the farmer's phone and the
/// field's name (or a `地块编号` / `Field ID` column instead); empty cells are optional values
/// not measured. A UTF-8 byte-order mark leads, so that Excel opens the Chinese as Chinese.
pub fn soil_csv_template(lang: crate::error::Lang) -> String {
    let cols: Vec<&SoilColumn> = SOIL_COLUMNS
        .iter()
        .filter(|c| c.name != "field_id" && c.name != "mehlich3_p_mg_kg")
        .collect();
    let header: Vec<&str> = cols.iter().map(|c| lang.pick(c.zh, c.en)).collect();
    let lab = lang.pick("县土肥站", "County soil and fertiliser station");
    let field = lang.pick("村东水田", "East paddy");
    let example: Vec<&str> = cols
        .iter()
        .map(|c| match c.name {
            "farmer_phone" => "13800000006",
            "field_name" => field,
            "sampled_on" => "2025-09-01",
            "depth_cm" => "0-20",
            "lab" => lab,
            "lab_sample_id" => "S-0001",
            "ph" => "5.8",
            "organic_matter_g_kg" => "20.5",
            "alkali_n_mg_kg" => "110",
            "olsen_p_mg_kg" => "10.5",
            "available_k_mg_kg" => "90",
            _ => "",
        })
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(&header);
    let _ = w.write_record(&example);
    let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    format!("\u{feff}{body}")
}

/// A sampling date as labs write it: `2025-09-01`, `2025/9/1`, `2025.09.01`, `2025年9月1日`,
/// with any time after it (`2025-09-01 10:30`) ignored.
fn parse_sampled_on(v: &str) -> Option<NaiveDate> {
    let t = half_width(v);
    let day = t.split([' ', 'T']).next().unwrap_or("").trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(day, f).ok())
}

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
    let cells = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.errors.push(RowError {
                line: 1,
                column: None,
                column_name: None,
                code: Code::InvalidFormat,
                zh: format!("无法读取表头：{e}"),
                en: format!("cannot read the header: {e}"),
            });
            return Ok(out);
        }
    };
    let SoilHeader {
        cells: headers,
        index,
        factor,
    } = match soil_header(cells) {
        Ok(h) => h,
        Err(errors) => {
            out.errors = errors;
            return Ok(out);
        }
    };
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
            match half_width(&v).trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x * factor.get(name).copied().unwrap_or(1.0)),
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
            parse_sampled_on(&v).or_else(|| {
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
            let folded = half_width(&v);
            let parts: Vec<&str> = folded.split(['-', '–', '—', '~']).map(str::trim).collect();
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
    // A preview reports and writes nothing (every check above, the duplicate lab sample ids
    // in the database included, has run).
    if policy == CsvPolicy::Preview {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Lang;
    use sea_orm::{Database, DatabaseConnection, PaginatorTrait};

    fn header(text: &str) -> std::result::Result<SoilHeader, Vec<RowError>> {
        let (mut rdr, _) = crate::csv_import::reader(text);
        soil_header(rdr.headers().unwrap().clone())
    }

    #[test]
    fn lab_headers_with_units_are_understood() {
        let h = header(
            "检测机构,样品号,采样时间,采样深度（cm）,pH值,有机质（g/kg）,碱解氮(mg/kg),有效磷【mg/kg】,速效钾 (mg·kg-1),阳离子交换量(cmol(+)/kg),交换性钙(cmol/kg),农户手机号,地块名称\n",
        )
        .unwrap_or_else(|e| panic!("{e:#?}"));
        for (name, at) in [
            ("lab", 0),
            ("lab_sample_id", 1),
            ("sampled_on", 2),
            ("depth_cm", 3),
            ("ph", 4),
            ("organic_matter_g_kg", 5),
            ("alkali_n_mg_kg", 6),
            ("olsen_p_mg_kg", 7),
            ("available_k_mg_kg", 8),
            ("cec_cmol_kg", 9),
            ("ca_mg_kg", 10),
            ("farmer_phone", 11),
            ("field_name", 12),
        ] {
            assert_eq!(h.index.get(name), Some(&at), "{name}");
        }
        assert_eq!(h.factor["organic_matter_g_kg"], 1.0);
        assert_eq!(h.factor["ca_mg_kg"], 200.39);
        // English, any case and spacing, % organic matter, ppm.
        let h = header(
            "LAB, Sample ID ,Sampling date,Depth (cm),PH,Organic Matter (%),Alkali-hydrolysable N (ppm),Olsen P (mg/kg),available k (PPM),检测单位备注\n",
        )
        .unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(h.factor["organic_matter_g_kg"], 10.0);
        assert_eq!(h.factor["alkali_n_mg_kg"], 1.0);
        assert_eq!(h.index["available_k_mg_kg"], 8);
        // The old machine names still work, and a pH in water is a pH.
        let h = header("sampled_on,depth_cm,lab,lab_sample_id,pH(水土比2.5:1),organic_matter_g_kg,alkali_n_mg_kg,available_k_mg_kg\n").unwrap();
        assert_eq!(h.index["ph"], 4);
    }

    #[test]
    fn a_wrong_or_unknown_unit_is_refused_at_line_1_with_its_column() {
        let errs = header(
            "检测机构,样品编号,采样日期,采样深度(cm),pH,有机质(g/kg),碱解氮(%),有效磷(mg/kg),速效钾(克/升)\n",
        )
        .err()
        .unwrap();
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert_eq!(errs[0].line, 1);
        assert_eq!(errs[0].column, Some(7));
        assert_eq!(errs[0].column_name.as_deref(), Some("碱解氮(%)"));
        assert_eq!(errs[0].code, Code::InvalidFormat);
        assert!(errs[0].zh.contains("全量"), "{}", errs[0].zh);
        assert!(errs[0].en.contains("mg/kg"), "{}", errs[0].en);
        assert_eq!(errs[1].column, Some(9));
        assert!(errs[1].en.contains("do not know"), "{}", errs[1].en);
        // A pH in KCl is not the pH the tables use; a column given twice is named.
        let errs =
            header("检测机构,化验室,样品编号,采样日期,采样深度(cm),pH(KCl),有机质,碱解氮,速效钾\n")
                .err()
                .unwrap();
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert_eq!((errs[0].column, errs[0].code), (Some(2), Code::Duplicate));
        assert_eq!(
            (errs[1].column, errs[1].code),
            (Some(6), Code::InvalidFormat)
        );
        assert!(errs[1].zh.contains("水浸"));
        // A missing required column is named, once.
        let errs =
            header("检测机构,样品编号,采样日期,采样深度(cm),pH,有机质(g/kg),碱解氮(mg/kg)\n")
                .err()
                .unwrap();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].column_name.as_deref(), Some("available_k_mg_kg"));
        assert_eq!(errs[0].code, Code::Required);
    }

    #[test]
    fn headers_fold_full_width_brackets_case_and_spaces() {
        assert_eq!(
            split_header("有机质（g/kg）"),
            ("有机质".into(), Some("g/kg".into()))
        );
        assert_eq!(
            split_header(" Organic  matter ( G/KG ) "),
            ("organicmatter".into(), Some("g/kg".into()))
        );
        assert_eq!(split_header("ｐＨ值"), ("ph值".into(), None));
        assert_eq!(canon_unit("mg kg⁻¹"), Some(Unit::MgPerKg));
        assert_eq!(canon_unit("毫克/千克"), Some(Unit::MgPerKg));
        assert_eq!(canon_unit("％"), Some(Unit::Percent));
        assert_eq!(canon_unit("meq/100 g"), Some(Unit::CmolPerKg));
        assert_eq!(canon_unit("cmol(+)·kg-1"), Some(Unit::CmolPerKg));
        assert_eq!(canon_unit("lb/acre"), None);
        assert_eq!(
            parse_sampled_on("2025年9月1日"),
            NaiveDate::from_ymd_opt(2025, 9, 1)
        );
        assert_eq!(
            parse_sampled_on("2025.09.01 10:30"),
            NaiveDate::from_ymd_opt(2025, 9, 1)
        );
        assert_eq!(
            parse_sampled_on("２０２５/9/1"),
            NaiveDate::from_ymd_opt(2025, 9, 1)
        );
        assert_eq!(parse_sampled_on("9/1/2025"), None);
    }

    #[test]
    fn the_template_reads_back_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let t = soil_csv_template(lang);
            assert!(t.starts_with('\u{feff}'));
            assert_eq!(t.lines().count(), 2, "{t}");
            let h = header(&t).unwrap_or_else(|e| panic!("{lang:?}: {e:#?}"));
            assert!(h.factor.values().all(|f| *f == 1.0));
            assert!(h.index.contains_key("farmer_phone") && h.index.contains_key("field_name"));
            assert_eq!(h.index.len(), SOIL_COLUMNS.len() - 2, "{t}");
        }
        let zh = soil_csv_template(Lang::Zh);
        assert!(zh.contains("有机质(g/kg)") && zh.contains("检测机构") && zh.contains("村东水田"));
        let en = soil_csv_template(Lang::En);
        assert!(en.contains("Organic matter (g/kg)") && en.contains("Sample ID"));
    }

    // ---------------------------------------------------------------- with a database

    /// A fresh SQLite database with a county, a village, a farmer and two fields.
    async fn db_with_fields() -> (DatabaseConnection, Actor) {
        use migration::MigratorTrait;
        let db = Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        let region = |id: i64, level, parent: Option<i64>, name: &str| region::ActiveModel {
            id: Set(id),
            code: Set(None),
            level: Set(level),
            parent_id: Set(parent),
            name_zh: Set(name.into()),
            name_en: Set(name.into()),
        };
        use crate::types::Level;
        for r in [
            region(1, Level::Province, None, "省"),
            region(2, Level::County, Some(1), "县"),
            region(3, Level::Township, Some(2), "镇"),
            region(4, Level::Village, Some(3), "村"),
        ] {
            r.insert(&db).await.unwrap();
        }
        let now = crate::now();
        let user = |id: i64, phone: &str, role| app_user::ActiveModel {
            id: Set(id),
            phone: Set(phone.into()),
            password_hash: Set("x".into()),
            role: Set(role),
            display_name: Set(phone.into()),
            dealer_id: Set(None),
            dealer_role: Set(None),
            county_id: Set(None),
            village_id: Set(Some(4)),
            real_name: Set(None),
            id_number: Set(None),
            verified_at: Set(None),
            disabled: Set(false),
            created_at: Set(now),
            station_id: Set(None),
        };
        user(1, "13800000001", crate::types::Role::Admin)
            .insert(&db)
            .await
            .unwrap();
        user(6, "13800000006", crate::types::Role::Farmer)
            .insert(&db)
            .await
            .unwrap();
        for (id, name) in [(10, "村东水田"), (11, "大塘田")] {
            field::ActiveModel {
                id: Set(id),
                farmer_id: Set(6),
                name: Set(name.into()),
                area_mu: Set(8.0),
                village_id: Set(4),
                soil_type: Set("水稻土".into()),
                irrigation: Set("".into()),
                lat: Set(None),
                lon: Set(None),
                created_at: Set(now),
            }
            .insert(&db)
            .await
            .unwrap();
        }
        let admin = Actor {
            user_id: 1,
            role: Role::Admin,
            dealer_id: None,
            dealer_role: None,
            county_ids: vec![],
            station_id: None,
            assisted_by: None,
        };
        (db, admin)
    }

    const LAB_HEADER: &str = "检测机构,样品编号,采样日期,采样深度（cm）,农户手机号,地块名称,pH值,有机质(%),碱解氮(mg/kg),有效磷(mg/kg),速效钾(mg/kg)";

    #[tokio::test]
    async fn a_lab_style_csv_imports_with_its_units_converted() {
        let (db, admin) = db_with_fields().await;
        let csv = format!(
            "{LAB_HEADER}\r\n县土肥站,ZX-1,2025年9月1日,0～20,13800000006,村东水田,5.8,2.05,110,10.5,90\r\n县土肥站,ZX-2,2025/09/01,0-20,13800000006,大塘田,６.１,1.8,95,8,120\r\n"
        );
        let out = import_soil_csv(&db, &admin, &csv, CsvPolicy::RejectAll)
            .await
            .unwrap();
        assert!(out.errors.is_empty(), "{:#?}", out.errors);
        assert!(out.committed);
        assert_eq!(out.imported.len(), 2);
        let t = &out.imported[0];
        assert_eq!((t.field_id, t.lab.as_str()), (10, "县土肥站"));
        assert!((t.organic_matter_g_kg - 20.5).abs() < 1e-9, "% x 10 = g/kg");
        assert_eq!((t.depth_from_cm, t.depth_to_cm), (0, 20));
        assert_eq!(t.sampled_on, NaiveDate::from_ymd_opt(2025, 9, 1).unwrap());
        assert_eq!(out.imported[1].ph, 6.1);
        assert_eq!(soil_test::Entity::find().count(&db).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_bad_row_names_its_line_and_column_and_nothing_is_written() {
        let (db, admin) = db_with_fields().await;
        let csv = format!(
            "{LAB_HEADER}\n县土肥站,ZX-1,2025-09-01,0-20,13800000006,村东水田,5.8,2.05,110,10.5,90\n县土肥站,ZX-2,2025-09-01,0-20,13800000006,大塘田,6.1,1.8,九十五,8,120\n"
        );
        let out = import_soil_csv(&db, &admin, &csv, CsvPolicy::RejectAll)
            .await
            .unwrap();
        assert!(!out.committed);
        assert!(out.imported.is_empty());
        assert_eq!(out.errors.len(), 1, "{:#?}", out.errors);
        let e = &out.errors[0];
        assert_eq!(
            (e.line, e.column, e.code),
            (3, Some(9), Code::InvalidFormat)
        );
        assert_eq!(e.column_name.as_deref(), Some("碱解氮(mg/kg)"));
        assert_eq!(soil_test::Entity::find().count(&db).await.unwrap(), 0);
        // A converted value is range-checked in the stored unit: 有机质 35 % is 350 g/kg.
        let csv = format!(
            "{LAB_HEADER}\n县土肥站,ZX-3,2025-09-01,0-20,13800000006,村东水田,5.8,35,110,10.5,90\n"
        );
        let out = import_soil_csv(&db, &admin, &csv, CsvPolicy::RejectAll)
            .await
            .unwrap();
        assert_eq!(out.errors.len(), 1, "{:#?}", out.errors);
        assert_eq!(
            (out.errors[0].line, out.errors[0].column, out.errors[0].code),
            (2, Some(8), Code::OutOfRange)
        );
        assert_eq!(soil_test::Entity::find().count(&db).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_wrong_unit_is_refused_at_line_1_and_nothing_is_written() {
        let (db, admin) = db_with_fields().await;
        let csv = "检测机构,样品编号,采样日期,采样深度(cm),农户手机号,地块名称,pH值,有机质(g/kg),碱解氮(%),有效磷(mg/kg),速效钾(mg/kg)\n县土肥站,ZX-1,2025-09-01,0-20,13800000006,村东水田,5.8,20.5,0.11,10.5,90\n";
        for policy in [CsvPolicy::RejectAll, CsvPolicy::SkipInvalid] {
            let out = import_soil_csv(&db, &admin, csv, policy).await.unwrap();
            assert!(!out.committed);
            assert_eq!(out.errors.len(), 1, "{:#?}", out.errors);
            let e = &out.errors[0];
            assert_eq!(
                (e.line, e.column, e.code),
                (1, Some(9), Code::InvalidFormat)
            );
            assert_eq!(e.column_name.as_deref(), Some("碱解氮(%)"));
        }
        assert_eq!(soil_test::Entity::find().count(&db).await.unwrap(), 0);
    }
}
