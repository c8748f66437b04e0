//! The review: the queue of drafts (oldest first, by township), and one draft's page: its
//! method, the advisor's steps with their numbers, the computation notes, the basket and the
//! rates per mu; the forms to edit it, publish it, reject it with a reason, or revise a
//! published one.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::agronomy::{Basket, Params};
use domain::entities::recommendation;
use domain::error::{Code, FieldError};
use domain::types::{Method, RecommendationStatus};
use serde::Deserialize;
use serde_json::Value;

use super::{Desk, SoilValue, method_words, plain, plan_words, soil_values, status_words};
use crate::state::{AppState, publish_events};
use crate::web::account::messages;
use crate::web::ctx::{Path, Query, claim, finish, page, random_token};
use crate::web::view::{china_time, half_kg, money};
use crate::web::{Chrome, Ctx, WebResult};

/// `N 13.5 · P₂O₅ 6 · K₂O 8 kg/亩`, to the half kilogram a farmer can weigh out.
pub fn rates_line(r: &recommendation::Model, lang: Lang) -> String {
    format!(
        "N {} · P₂O₅ {} · K₂O {} kg/{}",
        half_kg(r.n_kg_per_mu),
        half_kg(r.p2o5_kg_per_mu),
        half_kg(r.k2o_kg_per_mu),
        lang.pick("亩", "mu")
    )
}

// ---------------------------------------------------------------- the queue

pub struct QueueRow {
    pub id: i64,
    pub field: String,
    pub field_id: i64,
    pub village: String,
    pub crop: String,
    pub rates: String,
    pub cost: String,
    pub waiting: String,
}

pub struct QueueGroup {
    pub township: String,
    pub rows: Vec<QueueRow>,
}

#[derive(askama::Template)]
#[template(path = "agronomist/queue.html")]
struct QueuePage {
    c: Chrome,
    groups: Vec<QueueGroup>,
    total: usize,
}

/// `GET /agronomist/queue`: the drafts waiting for review, oldest first, by township. A
/// handful of statements for the whole queue (fields, plans, villages, townships).
pub async fn queue(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let desk = Desk::open(&state, &ctx, ctx.l("待审草稿", "Review queue"), "queue").await?;
    let db = state.db();
    let lang = ctx.lang;
    let drafts = domain::agronomy::queue(db, desk.actor()).await?;
    let field_ids: Vec<i64> = drafts.iter().map(|d| d.field_id).collect();
    let plan_ids: Vec<i64> = drafts.iter().map(|d| d.crop_plan_id).collect();
    let fields: BTreeMap<i64, _> = domain::fields::fields_by_ids(db, &field_ids)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let plans: BTreeMap<i64, _> = domain::agronomy::crop_plans_by_ids(db, &plan_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let village_ids: Vec<i64> = fields.values().map(|f| f.village_id).collect();
    let villages: BTreeMap<i64, _> = domain::regions::regions_by_ids(db, &village_ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let township_ids: Vec<i64> = villages.values().filter_map(|v| v.parent_id).collect();
    let townships: BTreeMap<i64, _> = domain::regions::regions_by_ids(db, &township_ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let name = |r: Option<&domain::entities::region::Model>| {
        r.map(|r| lang.pick(&r.name_zh, &r.name_en).to_owned())
            .unwrap_or_default()
    };
    // Townships in the order of their oldest draft; drafts oldest first within each.
    let mut groups: Vec<QueueGroup> = Vec::new();
    let now = domain::now();
    for d in &drafts {
        let f = fields.get(&d.field_id);
        let v = f.and_then(|f| villages.get(&f.village_id));
        let t = name(v.and_then(|v| v.parent_id).and_then(|t| townships.get(&t)));
        let days = (now - d.created_at).num_days();
        let basket: Option<Basket> = serde_json::from_value(d.basket.clone()).ok();
        let row = QueueRow {
            id: d.id,
            field: f.map(|f| f.name.clone()).unwrap_or_default(),
            field_id: d.field_id,
            village: name(v),
            crop: plans
                .get(&d.crop_plan_id)
                .map(|p| plan_words(p, lang))
                .unwrap_or_default(),
            rates: rates_line(d, lang),
            cost: basket.map(|b| money(b.cost_fen)).unwrap_or_default(),
            waiting: match lang {
                Lang::Zh => format!("{} · 已等 {days} 天", china_time(d.created_at)),
                Lang::En => format!("{} · waiting {days} days", china_time(d.created_at)),
            },
        };
        match groups.iter_mut().find(|g| g.township == t) {
            Some(g) => g.rows.push(row),
            None => groups.push(QueueGroup {
                township: t,
                rows: vec![row],
            }),
        }
    }
    page(&QueuePage {
        c: desk.c,
        groups,
        total: drafts.len(),
    })
}

// ---------------------------------------------------------------- one draft

pub struct StepView {
    pub what: String,
    pub formula: String,
    pub substituted: String,
    pub result: String,
}

pub struct Section {
    pub title: String,
    pub steps: Vec<StepView>,
    pub notes: Vec<String>,
}

pub struct BasketRow {
    pub product: String,
    pub analysis: String,
    pub bags: String,
    pub price: String,
    pub cost: String,
}

pub struct Cite {
    pub key: String,
    pub value: String,
    pub source: String,
    pub cite: String,
}

/// The edit form as typed (kept across a refusal).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct EditFields {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub rate_n: String,
    #[serde(default)]
    pub rate_p: String,
    #[serde(default)]
    pub rate_k: String,
    #[serde(default)]
    pub cc_n: String,
    #[serde(default)]
    pub cc_p: String,
    #[serde(default)]
    pub cc_k: String,
    #[serde(default)]
    pub rr_n: String,
    #[serde(default)]
    pub rr_p: String,
    #[serde(default)]
    pub rr_k: String,
    #[serde(default)]
    pub target_yield: String,
    #[serde(default)]
    pub notes_zh: String,
    #[serde(default)]
    pub notes_en: String,
}

#[derive(askama::Template)]
#[template(path = "agronomist/draft.html")]
struct DraftPage {
    c: Chrome,
    id: i64,
    version: i32,
    status: String,
    is_draft: bool,
    may_revise: bool,
    field_id: i64,
    field: String,
    crop: String,
    test: String,
    soil: Vec<SoilValue>,
    method: String,
    n: String,
    p: String,
    k: String,
    lime: Option<String>,
    applications: Vec<crate::web::view::ApplicationRow>,
    /// The county requires a second agronomist's approval before publishing.
    approval_required: bool,
    /// Who approved it and when.
    approved: Option<String>,
    sections: Vec<Section>,
    notes: Vec<String>,
    provenance: Vec<Cite>,
    edits: Vec<String>,
    basket: Vec<BasketRow>,
    cost: String,
    feasible: bool,
    proven: bool,
    shortfalls: Vec<String>,
    signed: Option<String>,
    reject_reason: Option<String>,
    f: EditFields,
    manual: bool,
    errors: Vec<String>,
    notice: Option<String>,
    idem_edit: String,
    idem_publish: String,
    idem_reject: String,
    idem_revise: String,
    idem_approve: String,
}

/// The title of a part of the advisor's answer, from where it sits in the JSON.
fn section_title(path: &[String], node: &Value, lang: Lang) -> String {
    let nutrient = node.get("nutrient").and_then(Value::as_str);
    match (path.first().map(String::as_str), nutrient) {
        (None, _) => lang.pick("整块地合计", "Field totals").to_owned(),
        (Some("rates"), Some(n)) => match lang {
            Lang::Zh => format!("{} 用量（养分平衡法）", nutrient_label(n)),
            Lang::En => format!("{} rate (nutrient balance)", nutrient_label(n)),
        },
        (Some("target_yield"), _) => lang.pick("目标产量", "Target yield").to_owned(),
        (Some("classes"), _) => lang
            .pick(
                "土壤养分分级（全国第二次土壤普查）",
                "Soil nutrient grades (2nd national soil survey)",
            )
            .to_owned(),
        (Some("lime"), _) => lang.pick("石灰用量", "Lime").to_owned(),
        (Some("basket"), _) => lang.pick("整袋购肥方案", "Whole-bag basket").to_owned(),
        (Some(other), _) => other.replace('_', " "),
    }
}

fn nutrient_label(n: &str) -> &str {
    match n {
        "P2O5" => "P₂O₅",
        "K2O" => "K₂O",
        other => other,
    }
}

/// Every part of the advisor's answer that carries steps or notes, in order, as readable
/// sections (a step: what it means, the formula, the numbers put in, the result).
fn sections(result: &Value, lang: Lang) -> Vec<Section> {
    fn walk(v: &Value, path: &mut Vec<String>, lang: Lang, out: &mut Vec<Section>) {
        match v {
            Value::Object(map) => {
                let steps: Vec<StepView> = map
                    .get("steps")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|s| {
                                let t = |k: &str| {
                                    s.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
                                };
                                StepView {
                                    what: t(lang.pick("zh", "en")),
                                    formula: t("formula"),
                                    substituted: t("substituted"),
                                    result: t("result"),
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let notes: Vec<String> = map
                    .get("notes")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|n| n.get(lang.pick("zh", "en")).and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                // The root's own steps (the field totals) come after the parts they add up.
                let root = path.is_empty();
                let here = (!steps.is_empty() || !notes.is_empty()).then(|| Section {
                    title: section_title(path, v, lang),
                    steps,
                    notes,
                });
                // The parts in the order the calculation runs, not the JSON's key order.
                let mut children: Vec<(&String, &Value)> = map
                    .iter()
                    .filter(|(k, _)| *k != "steps" && *k != "notes")
                    .collect();
                children.sort_by_key(|(k, _)| order_of(k));
                if !root && let Some(s) = here {
                    out.push(s);
                    for (k, child) in children {
                        path.push(k.clone());
                        walk(child, path, lang, out);
                        path.pop();
                    }
                    return;
                }
                for (k, child) in children {
                    path.push(k.clone());
                    walk(child, path, lang, out);
                    path.pop();
                }
                if let Some(s) = here {
                    out.push(s);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, path, lang, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(result, &mut Vec::new(), lang, &mut out);
    out
}

/// Where a part of the advisor's answer comes in the calculation: the target yield, the soil's
/// grades, the nutrient rates, lime, then the basket.
fn order_of(key: &str) -> u8 {
    match key {
        "target_yield" => 0,
        "classes" => 1,
        "rates" => 2,
        "lime" => 3,
        "basket" => 4,
        _ => 5,
    }
}

/// A note stored as `中文 / English`: the reader's half (the whole note when it has no halves).
fn half_of(note: &str, lang: Lang) -> String {
    match note.split_once(" / ") {
        Some((zh, en)) => lang.pick(zh, en).trim().to_owned(),
        None => note.to_owned(),
    }
}

fn triple(v: Option<[f64; 3]>) -> [String; 3] {
    match v {
        Some([a, b, c]) => [plain(a), plain(b), plain(c)],
        None => Default::default(),
    }
}

/// A value of the lead's edit log as one line (`at · by · what`), whatever its keys.
/// One edit of the record as a line: when (China time), who, what changed, the rates before.
fn edit_line(e: &Value, names: &BTreeMap<i64, String>, lang: Lang) -> String {
    let at = e["at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| china_time(t.with_timezone(&chrono::Utc)))
        .unwrap_or_default();
    let by = e["by"]
        .as_i64()
        .and_then(|u| names.get(&u).cloned())
        .unwrap_or_default();
    let changed: Vec<&str> = e["changed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|c| match c {
            "params" => lang.pick("方法与参数", "method and parameters"),
            "notesZh" => lang.pick("中文说明", "Chinese notes"),
            "notesEn" => lang.pick("英文说明", "English notes"),
            other => other,
        })
        .collect();
    let rates: Vec<String> = e["before"]["rates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .map(half_kg)
        .collect();
    let before = match rates.as_slice() {
        [n, p, k] => format!(
            "{} N {n} / P₂O₅ {p} / K₂O {k} kg/{}",
            lang.pick("改前", "before:"),
            lang.pick("亩", "mu")
        ),
        _ => String::new(),
    };
    format!(
        "{at} · {by} · {}{} · {before}",
        lang.pick("修改了：", "changed: "),
        changed.join(lang.pick("、", ", "))
    )
}

/// A provenance key in words (`correction.n` -> 校正系数 N).
fn value_words(key: &str, lang: Lang) -> String {
    let (what, nutrient) = key.split_once('.').unwrap_or((key, ""));
    let what = match what {
        "correction" => lang.pick("校正系数", "correction coefficient"),
        "recovery" => lang.pick("当季利用率", "first-season recovery"),
        "rates" => lang.pick("每亩用量", "rate per mu"),
        "targetYieldFactor" => lang.pick("增产系数", "target-yield factor"),
        "targetYield" => lang.pick("目标产量", "target yield"),
        "noFertiliserYield" => lang.pick("空白区产量", "no-fertiliser yield"),
        other => other,
    };
    let nutrient = match nutrient {
        "n" => " N",
        "p2o5" => " P₂O₅",
        "k2o" => " K₂O",
        _ => "",
    };
    format!("{what}{nutrient}")
}

fn source_words(source: &str, lang: Lang) -> String {
    match source {
        "DRAFT" => lang.pick("草稿中填写", "set on the draft"),
        "CROP_PLAN" => lang.pick("作物计划", "crop plan"),
        "COUNTY" => lang.pick("本县参数", "county parameter"),
        "DEFAULT" => lang.pick("默认值", "default"),
        other => other,
    }
    .to_owned()
}

#[derive(Deserialize, Default)]
pub struct DraftQuery {
    #[serde(default)]
    done: String,
}

async fn render_draft(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    f: Option<EditFields>,
    errors: Vec<String>,
    notice: Option<String>,
) -> WebResult {
    let desk = Desk::open(state, ctx, ctx.l("配方草稿", "Draft"), "queue").await?;
    let db = state.db();
    let lang = ctx.lang;
    let r = domain::agronomy::get(db, desk.actor(), id).await?;
    let field = domain::fields::get(db, desk.actor(), r.field_id).await?;
    let plan = domain::agronomy::crop_plans_by_ids(db, &[r.crop_plan_id])
        .await?
        .into_iter()
        .next();
    let test = domain::agronomy::soil_test(db, desk.actor(), r.soil_test_id).await?;
    let params: Params = serde_json::from_value(r.parameters["params"].clone()).unwrap_or_default();
    let basket: Option<Basket> = serde_json::from_value(r.basket.clone()).ok();
    let signer = match r.agronomist_id {
        Some(a) => Some(domain::accounts::user_by_id(db, a).await?.display_name),
        None => None,
    };
    let str_list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|n| match n {
                        Value::String(s) => half_of(s, lang),
                        other => other
                            .get(lang.pick("zh", "en"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .unwrap_or_else(|| other.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let provenance = r.parameters["provenance"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    let t = |k: &str| match p.get(k) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    };
                    Cite {
                        key: value_words(&t("key"), lang),
                        value: t("value"),
                        source: source_words(&t("source"), lang),
                        cite: t(lang.pick("cite_zh", "cite_en")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let lime = crate::web::view::lime_line(&r, field.area_mu, lang);
    let applications = crate::web::view::application_rows(&r, lang);
    let mut editors = BTreeMap::new();
    for u in r.parameters["edits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["by"].as_i64())
    {
        if let std::collections::btree_map::Entry::Vacant(v) = editors.entry(u) {
            v.insert(
                domain::accounts::user_by_id(db, u)
                    .await
                    .map(|u| u.display_name)
                    .unwrap_or_default(),
            );
        }
    }
    let approval_required = r.status == RecommendationStatus::Draft
        && domain::agronomy::approval_required(db, &r).await?;
    let approved = match (r.approved_by, r.approved_at) {
        (Some(u), Some(at)) => {
            let name = domain::accounts::user_by_id(db, u)
                .await
                .map(|u| u.display_name)
                .unwrap_or_default();
            Some(format!("{name} · {}", china_time(at)))
        }
        _ => None,
    };
    let f = f.unwrap_or_else(|| {
        let [rate_n, rate_p, rate_k] = triple(params.rates_kg_per_mu);
        let [cc_n, cc_p, cc_k] = triple(params.correction_coefficients);
        let [rr_n, rr_p, rr_k] = triple(params.recovery_rates);
        EditFields {
            method: params.method.as_str().to_owned(),
            rate_n,
            rate_p,
            rate_k,
            cc_n,
            cc_p,
            cc_k,
            rr_n,
            rr_p,
            rr_k,
            target_yield: params.target_yield_kg_per_mu.map(plain).unwrap_or_default(),
            notes_zh: r.notes_zh.clone(),
            notes_en: r.notes_en.clone(),
        }
    });
    let mut c = desk.c;
    c.title = format!("{} · v{}", field.name, r.version);
    page(&DraftPage {
        c,
        id: r.id,
        version: r.version,
        status: status_words(r.status, lang).to_owned(),
        is_draft: r.status == RecommendationStatus::Draft,
        may_revise: matches!(
            r.status,
            RecommendationStatus::Published | RecommendationStatus::Rejected
        ),
        field_id: field.id,
        field: format!(
            "{} · {} {}",
            field.name,
            plain(field.area_mu),
            lang.pick("亩", "mu")
        ),
        crop: plan
            .as_ref()
            .map(|p| plan_words(p, lang))
            .unwrap_or_default(),
        test: format!(
            "{} · {} · {}",
            test.sampled_on, test.lab, test.lab_sample_id
        ),
        soil: soil_values(&test, lang),
        method: method_words(r.method, lang).to_owned(),
        n: half_kg(r.n_kg_per_mu),
        p: half_kg(r.p2o5_kg_per_mu),
        k: half_kg(r.k2o_kg_per_mu),
        lime,
        applications,
        approval_required,
        approved,
        sections: sections(&r.result, lang),
        notes: str_list(&r.parameters["notes"]),
        provenance,
        edits: r.parameters["edits"]
            .as_array()
            .map(|a| a.iter().map(|e| edit_line(e, &editors, lang)).collect())
            .unwrap_or_default(),
        basket: basket
            .as_ref()
            .map(|b| {
                b.lines
                    .iter()
                    .map(|l| BasketRow {
                        product: lang.pick(&l.product_zh, &l.product_en).to_owned(),
                        analysis: l.analysis.clone(),
                        bags: match lang {
                            Lang::Zh => format!("{} 袋 × {} kg", l.bags, plain(l.bag_kg)),
                            Lang::En => format!("{} × {} kg bags", l.bags, plain(l.bag_kg)),
                        },
                        price: money(l.price_fen_per_bag),
                        cost: money(l.bags * l.price_fen_per_bag),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        cost: basket
            .as_ref()
            .map(|b| money(b.cost_fen))
            .unwrap_or_default(),
        feasible: basket.as_ref().is_some_and(|b| b.feasible),
        proven: basket.as_ref().is_none_or(|b| b.proven_optimal),
        shortfalls: basket.map(|b| b.shortfalls).unwrap_or_default(),
        signed: match (signer, r.signed_at) {
            (Some(s), Some(at)) => Some(format!("{s} · {}", china_time(at))),
            _ => None,
        },
        reject_reason: r.reject_reason.clone(),
        manual: f.method == Method::ManualRates.as_str(),
        f,
        errors,
        notice,
        idem_edit: random_token(),
        idem_publish: random_token(),
        idem_reject: random_token(),
        idem_revise: random_token(),
        idem_approve: random_token(),
    })
}

/// `GET /agronomist/recommendations/{id}`.
pub async fn draft(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<DraftQuery>,
) -> WebResult {
    let notice = match q.done.as_str() {
        "edited" => Some(ctx.l(
            "草稿已修改并重新计算。",
            "The draft is changed and computed again.",
        )),
        "published" => Some(ctx.l(
            "已发布，农户会收到通知。",
            "Published: the farmer is notified.",
        )),
        "rejected" => Some(ctx.l("草稿已退回。", "The draft is rejected.")),
        "approved" => Some(ctx.l("已审核通过，可以发布。", "Approved: it may be published.")),
        "revised" => Some(ctx.l(
            "已按上一版创建新草稿。",
            "A new draft is made from the last version.",
        )),
        _ => None,
    };
    render_draft(&state, &ctx, id, None, vec![], notice.map(str::to_owned)).await
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(flatten)]
    f: EditFields,
}

fn one(errs: &mut Vec<FieldError>, field: &str, zh: &str, en: &str, v: &str) -> Option<f64> {
    let t = v.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            errs.push(FieldError::new(
                field,
                Code::InvalidFormat,
                format!("{zh}“{t}”不是数字"),
                format!("{en} \"{t}\" is not a number"),
            ));
            None
        }
    }
}

/// N, P2O5 and K2O together, or none (the advisor's default).
fn three(
    errs: &mut Vec<FieldError>,
    field: &str,
    zh: &str,
    en: &str,
    v: [&str; 3],
) -> Option<[f64; 3]> {
    let given = v.iter().filter(|s| !s.trim().is_empty()).count();
    let xs: Vec<Option<f64>> = v.iter().map(|s| one(errs, field, zh, en, s)).collect();
    match given {
        0 => None,
        3 => Some([xs[0]?, xs[1]?, xs[2]?]),
        _ => {
            errs.push(FieldError::new(
                field,
                Code::Required,
                format!("{zh}：请填写 N、P₂O₅、K₂O 三个值，或全部留空使用默认值"),
                format!("{en}: give N, P2O5 and K2O, or leave all three empty for the default"),
            ));
            None
        }
    }
}

/// The form's numbers as the domain's parameters, on top of what the draft already had (the
/// settings the form does not show are kept).
fn parse_params(f: &EditFields, mut p: Params) -> Result<Params, domain::Error> {
    let mut errs: Vec<FieldError> = Vec::new();
    p.method = match f.method.as_str() {
        "MANUAL_RATES" => Method::ManualRates,
        _ => Method::NutrientBalance,
    };
    p.rates_kg_per_mu = three(
        &mut errs,
        "params.ratesKgPerMu",
        "每亩用量",
        "rates per mu",
        [&f.rate_n, &f.rate_p, &f.rate_k],
    );
    p.correction_coefficients = three(
        &mut errs,
        "params.correctionCoefficients",
        "校正系数",
        "correction coefficients",
        [&f.cc_n, &f.cc_p, &f.cc_k],
    );
    p.recovery_rates = three(
        &mut errs,
        "params.recoveryRates",
        "肥料利用率",
        "recovery rates",
        [&f.rr_n, &f.rr_p, &f.rr_k],
    );
    p.target_yield_kg_per_mu = one(
        &mut errs,
        "params.targetYieldKgPerMu",
        "目标产量",
        "target yield",
        &f.target_yield,
    );
    if !errs.is_empty() {
        return Err(domain::Error::Invalid(errs));
    }
    Ok(p)
}

/// `POST /agronomist/recommendations/{id}/edit` (one-shot): the method, rates, coefficients,
/// recovery rates, target yield and notes; the advisor runs again only when a number changed.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "queue").await?;
    let back = format!("/agronomist/recommendations/{id}");
    if let Err(done) = claim(&state, desk.session, &form.idem, &back).await? {
        return Ok(done);
    }
    let db = state.db();
    let result = async {
        let r = domain::agronomy::get(db, desk.actor(), id).await?;
        let before: Params =
            serde_json::from_value(r.parameters["params"].clone()).unwrap_or_default();
        let after = parse_params(&form.f, before.clone())?;
        let params = (after != before).then_some(after);
        domain::agronomy::edit_draft(
            db,
            desk.actor(),
            id,
            params,
            Some(form.f.notes_zh.clone()),
            Some(form.f.notes_en.clone()),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => {
            let url = format!("{back}?done=edited");
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            super::refused(render_draft(&state, &ctx, id, Some(form.f), errors, None).await)
        }
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    reason: String,
}

/// What one of the review's buttons does.
enum Action {
    Approve,
    Publish,
    Reject,
    Revise,
}

async fn act(state: AppState, ctx: Ctx, id: i64, form: ActionForm, action: Action) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "queue").await?;
    let back = format!("/agronomist/recommendations/{id}");
    if let Err(done) = claim(&state, desk.session, &form.idem, &back).await? {
        return Ok(done);
    }
    let db = state.db();
    let result = match action {
        Action::Approve => domain::agronomy::approve(db, desk.actor(), id)
            .await
            .map(|r| format!("/agronomist/recommendations/{}?done=approved", r.id)),
        Action::Publish => match domain::agronomy::publish(db, desk.actor(), id).await {
            Ok((r, events)) => {
                publish_events(&state, events).await;
                Ok(format!(
                    "/agronomist/recommendations/{}?done=published",
                    r.id
                ))
            }
            Err(e) => Err(e),
        },
        Action::Reject => domain::agronomy::reject(db, desk.actor(), id, &form.reason)
            .await
            .map(|r| format!("/agronomist/recommendations/{}?done=rejected", r.id)),
        Action::Revise => domain::agronomy::revise(db, desk.actor(), id)
            .await
            .map(|r| format!("/agronomist/recommendations/{}?done=revised", r.id)),
    };
    match result {
        Ok(url) => {
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            super::refused(render_draft(&state, &ctx, id, None, errors, None).await)
        }
    }
}

/// `POST /agronomist/recommendations/{id}/approve` (one-shot): a second agronomist's approval,
/// where the county requires one.
pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> WebResult {
    act(state, ctx, id, form, Action::Approve).await
}

/// `POST /agronomist/recommendations/{id}/publish` (one-shot): signed and shown to the farmer.
pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> WebResult {
    act(state, ctx, id, form, Action::Publish).await
}

/// `POST /agronomist/recommendations/{id}/reject` (one-shot), with a reason.
pub async fn reject(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> WebResult {
    act(state, ctx, id, form, Action::Reject).await
}

/// `POST /agronomist/recommendations/{id}/revise` (one-shot): a new draft from this version.
pub async fn revise(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> WebResult {
    act(state, ctx, id, form, Action::Revise).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_advisors_steps_become_sections_with_the_totals_last() {
        let result = json!({
            "crop": "rice",
            "rates": [{
                "nutrient": "N",
                "steps": [{"formula": "a = b", "substituted": "a = 2", "result": "2 kg/mu", "zh": "氮需求", "en": "N need"}],
                "notes": [{"code": "X", "zh": "注意", "en": "mind"}]
            }],
            "steps": [{"formula": "t = r × A", "substituted": "t = 2 × 8", "result": "16 kg", "zh": "合计", "en": "total"}],
            "notes": []
        });
        let s = super::sections(&result, domain::Lang::En);
        assert_eq!(s.len(), 2, "one per part with steps");
        assert_eq!(s[0].title, "N rate (nutrient balance)");
        assert_eq!(s[0].steps[0].what, "N need");
        assert_eq!(s[0].notes, vec!["mind".to_owned()]);
        assert_eq!(s[1].title, "Field totals");
        assert_eq!(s[1].steps[0].result, "16 kg");
    }

    #[test]
    fn a_two_language_note_shows_the_readers_half() {
        let n = "校正系数使用默认值 0.5 / correction coefficients are the 0.5 placeholder";
        assert_eq!(
            super::half_of(n, domain::Lang::Zh),
            "校正系数使用默认值 0.5"
        );
        assert!(super::half_of(n, domain::Lang::En).starts_with("correction"));
        assert_eq!(super::half_of("plain", domain::Lang::En), "plain");
    }

    #[test]
    fn a_partial_triple_is_refused_and_an_empty_one_is_the_default() {
        let f = super::EditFields {
            cc_n: "0.6".into(),
            ..Default::default()
        };
        assert!(super::parse_params(&f, Default::default()).is_err());
        let p = super::parse_params(&super::EditFields::default(), Default::default()).unwrap();
        assert_eq!(p.correction_coefficients, None);
    }
}
