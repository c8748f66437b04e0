//! The county's fields (by township and village, filtered), and one field's page: its soil
//! tests, crop plans and recommendations, the form to enter a soil test, and "make a draft" for
//! a plan and a test.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use domain::Lang;
use domain::agronomy::{CountyFieldsFilter, Only, SoilTestInput};
use domain::error::{Code, FieldError};
use serde::Deserialize;

use super::{
    Desk, SoilValue, grades_line, method_words, plain, plan_words, soil_values, status_words,
};
use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{Path, Query, claim, finish, page, random_token};
use crate::web::view::{china_time, money};
use crate::web::{Chrome, Ctx, WebResult};

// ---------------------------------------------------------------- the county's fields

pub struct Opt {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

pub struct PlanCell {
    pub crop: String,
    pub status: String,
    /// `draft`, `published`, `rejected` or `none`: the tag's colour.
    pub class: &'static str,
    pub rec_id: Option<i64>,
}

pub struct FieldRow {
    pub id: i64,
    pub name: String,
    pub farmer: String,
    pub area: String,
    pub tested: String,
    pub lab: String,
    pub values: String,
    pub grades: String,
    pub plans: Vec<PlanCell>,
    pub needs: bool,
    pub stale: bool,
}

pub struct VillageGroup {
    pub name: String,
    pub rows: Vec<FieldRow>,
}

pub struct TownshipGroup {
    pub name: String,
    pub count: usize,
    pub villages: Vec<VillageGroup>,
}

#[derive(askama::Template)]
#[template(path = "agronomist/fields.html")]
struct FieldsPage {
    c: Chrome,
    counties: Vec<Opt>,
    townships: Vec<Opt>,
    villages: Vec<Opt>,
    only: String,
    season: String,
    groups: Vec<TownshipGroup>,
    total: usize,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    county: String,
    #[serde(default)]
    township: String,
    #[serde(default)]
    village: String,
    /// `no-advice` (tested, no recommendation) or `stale` (older than this season).
    #[serde(default)]
    only: String,
    /// When this season began (YYYY-MM-DD).
    #[serde(default)]
    season: String,
}

fn id_of(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// `GET /agronomist`: the county's farmers and fields.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let desk = Desk::open(
        &state,
        &ctx,
        ctx.l("县域地块", "The county's fields"),
        "fields",
    )
    .await?;
    let lang = ctx.lang;
    let only = match q.only.as_str() {
        "no-advice" => Only::TestedNoRecommendation,
        "stale" => Only::StaleRecommendation,
        _ => Only::All,
    };
    let filter = CountyFieldsFilter {
        county_id: id_of(&q.county),
        township_id: id_of(&q.township),
        village_id: id_of(&q.village),
        only,
        season_start: NaiveDate::parse_from_str(q.season.trim(), "%Y-%m-%d").ok(),
    };
    let cf = domain::agronomy::county_fields(state.db(), desk.actor(), &filter).await?;
    let name = |r: &domain::entities::region::Model| lang.pick(&r.name_zh, &r.name_en).to_owned();
    let opts = |rs: &[domain::entities::region::Model], chosen: Option<i64>| -> Vec<Opt> {
        rs.iter()
            .map(|r| Opt {
                id: r.id.to_string(),
                name: name(r),
                selected: chosen == Some(r.id),
            })
            .collect()
    };
    let village_opts: Vec<Opt> = cf
        .villages
        .iter()
        .filter(|v| filter.township_id.is_none_or(|t| v.parent_id == Some(t)))
        .filter(|v| cf.townships.iter().any(|t| v.parent_id == Some(t.id)))
        .map(|r| Opt {
            id: r.id.to_string(),
            name: name(r),
            selected: filter.village_id == Some(r.id),
        })
        .collect();
    let mut groups: Vec<TownshipGroup> = Vec::new();
    let total = cf.fields.len();
    for f in &cf.fields {
        if groups.last().is_none_or(|g| g.name != name(&f.township)) {
            groups.push(TownshipGroup {
                name: name(&f.township),
                count: 0,
                villages: vec![],
            });
        }
        let g = groups.last_mut().expect("pushed above");
        g.count += 1;
        if g.villages.last().is_none_or(|v| v.name != name(&f.village)) {
            g.villages.push(VillageGroup {
                name: name(&f.village),
                rows: vec![],
            });
        }
        let t = f.latest_test.as_ref();
        let values = t
            .map(|t| {
                soil_values(t, lang)
                    .into_iter()
                    .take(7)
                    .filter(|v| {
                        !v.name.contains("Mehlich")
                            && !v.name.contains("缓冲")
                            && !v.name.contains("Buffer")
                    })
                    .map(|v| format!("{} {}", v.name, v.value))
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default();
        let plans = f
            .plans
            .iter()
            .map(|p| {
                let (rec, class) = match (&p.draft, &p.published, &p.rejected) {
                    (Some(d), _, _) => (Some(d), "draft"),
                    (None, Some(r), _) => (Some(r), "published"),
                    (None, None, Some(r)) => (Some(r), "rejected"),
                    _ => (None, "none"),
                };
                PlanCell {
                    crop: plan_words(&p.plan, lang),
                    status: match rec {
                        Some(r) => format!("{} v{}", status_words(r.status, lang), r.version),
                        None => lang.pick("尚无建议", "No advice yet").to_owned(),
                    },
                    class,
                    rec_id: rec.map(|r| r.id),
                }
            })
            .collect();
        g.villages
            .last_mut()
            .expect("pushed above")
            .rows
            .push(FieldRow {
                id: f.field.id,
                name: f.field.name.clone(),
                farmer: format!(
                    "{} {}",
                    f.farmer_name,
                    domain::types::Phone::masked(&f.farmer_phone)
                ),
                area: format!("{} {}", plain(f.field.area_mu), lang.pick("亩", "mu")),
                tested: t.map(|t| t.sampled_on.to_string()).unwrap_or_default(),
                lab: t.map(|t| t.lab.clone()).unwrap_or_default(),
                values,
                grades: grades_line(&f.grades, lang),
                plans,
                needs: f.needs_recommendation(),
                stale: f.stale,
            });
    }
    page(&FieldsPage {
        counties: if cf.counties.len() > 1 {
            opts(&cf.counties, filter.county_id)
        } else {
            vec![]
        },
        townships: opts(&cf.townships, filter.township_id),
        villages: village_opts,
        only: match filter.only {
            Only::All => "",
            Only::TestedNoRecommendation => "no-advice",
            Only::StaleRecommendation => "stale",
        }
        .to_owned(),
        season: cf.season_start.to_string(),
        groups,
        total,
        c: desk.c,
    })
}

// ---------------------------------------------------------------- one field

pub struct TestView {
    pub id: i64,
    pub head: String,
    /// For the draft form's choice: date and sample id.
    pub short: String,
    pub values: Vec<SoilValue>,
}

pub struct RecRow {
    pub id: i64,
    pub version: i32,
    pub status: String,
    pub class: &'static str,
    pub method: String,
    pub rates: String,
    pub cost: String,
    pub when: String,
}

pub struct PlanView {
    pub id: i64,
    pub crop: String,
    pub detail: String,
    pub recs: Vec<RecRow>,
}

/// The soil-test form as typed (kept across a refusal).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TestFields {
    #[serde(default)]
    pub sampled_on: String,
    #[serde(default)]
    pub depth: String,
    #[serde(default)]
    pub lab: String,
    #[serde(default)]
    pub lab_sample_id: String,
    #[serde(default)]
    pub ph: String,
    #[serde(default)]
    pub buffer_ph: String,
    #[serde(default)]
    pub organic_matter: String,
    #[serde(default)]
    pub alkali_n: String,
    #[serde(default)]
    pub olsen_p: String,
    #[serde(default)]
    pub available_k: String,
}

#[derive(askama::Template)]
#[template(path = "agronomist/field.html")]
struct FieldPage {
    c: Chrome,
    id: i64,
    name: String,
    farmer: String,
    place: String,
    area: String,
    soil: String,
    tests: Vec<TestView>,
    plans: Vec<PlanView>,
    f: TestFields,
    test_errors: Vec<String>,
    draft_errors: Vec<String>,
    notice: Option<String>,
    idem_test: String,
    idem_draft: String,
}

#[derive(Deserialize, Default)]
pub struct FieldQuery {
    #[serde(default)]
    added: String,
}

async fn render_field(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    f: TestFields,
    test_errors: Vec<String>,
    draft_errors: Vec<String>,
    notice: Option<String>,
) -> WebResult {
    let desk = Desk::open(state, ctx, ctx.l("地块", "Field"), "fields").await?;
    let db = state.db();
    let lang = ctx.lang;
    let field = domain::fields::get(db, desk.actor(), id).await?;
    let farmer = domain::accounts::user_by_id(db, field.farmer_id).await?;
    let village = domain::regions::region(db, field.village_id).await?;
    let township = match village.parent_id {
        Some(p) => Some(domain::regions::region(db, p).await?),
        None => None,
    };
    let tests = domain::agronomy::soil_tests_of(db, field.id).await?;
    let plans = domain::agronomy::crop_plans_of(db, field.id).await?;
    let recs = domain::agronomy::of_field(db, desk.actor(), field.id).await?;
    let tests_v = tests
        .iter()
        .map(|t| TestView {
            id: t.id,
            head: format!(
                "{} · {} · {} {}–{} cm · {}",
                t.sampled_on,
                t.lab,
                lang.pick("深度", "depth"),
                t.depth_from_cm,
                t.depth_to_cm,
                t.lab_sample_id
            ),
            short: format!("{} · {}", t.sampled_on, t.lab_sample_id),
            values: soil_values(t, lang),
        })
        .collect();
    let plans_v = plans
        .iter()
        .map(|p| {
            let mut detail = vec![];
            if let Some(y) = p.target_yield_kg_per_mu {
                detail.push(format!(
                    "{} {} kg/{}",
                    lang.pick("目标产量", "target yield"),
                    plain(y),
                    lang.pick("亩", "mu")
                ));
            }
            if let Some(y) = p
                .past_yields_kg_per_mu
                .as_ref()
                .and_then(|v| serde_json::from_value::<Vec<f64>>(v.clone()).ok())
            {
                detail.push(format!(
                    "{} {} kg/{}",
                    lang.pick("近年产量", "past yields"),
                    y.iter().map(|x| plain(*x)).collect::<Vec<_>>().join(" / "),
                    lang.pick("亩", "mu")
                ));
            }
            if !p.previous_crop.is_empty() {
                detail.push(format!(
                    "{} {}",
                    lang.pick("前茬", "previous crop"),
                    p.previous_crop
                ));
            }
            if p.straw_returned {
                detail.push(lang.pick("秸秆还田", "straw returned").to_owned());
            }
            PlanView {
                id: p.id,
                crop: plan_words(p, lang),
                detail: detail.join(" · "),
                recs: recs
                    .iter()
                    .filter(|r| r.crop_plan_id == p.id)
                    .map(|r| rec_row(r, lang))
                    .collect(),
            }
        })
        .collect();
    let place = [township.as_ref(), Some(&village)]
        .into_iter()
        .flatten()
        .map(|r| lang.pick(&r.name_zh, &r.name_en).to_owned())
        .collect::<Vec<_>>()
        .join(" · ");
    let mut c = desk.c;
    c.title = field.name.clone();
    page(&FieldPage {
        c,
        id: field.id,
        name: field.name.clone(),
        farmer: format!(
            "{} {}",
            farmer.display_name,
            domain::types::Phone::masked(&farmer.phone)
        ),
        place,
        area: format!("{} {}", plain(field.area_mu), lang.pick("亩", "mu")),
        soil: [field.soil_type.as_str(), field.irrigation.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" · "),
        tests: tests_v,
        plans: plans_v,
        f,
        test_errors,
        draft_errors,
        notice,
        idem_test: random_token(),
        idem_draft: random_token(),
    })
}

/// A recommendation as a line of a field's or the queue's list.
pub fn rec_row(r: &domain::entities::recommendation::Model, lang: Lang) -> RecRow {
    let basket: Option<domain::agronomy::Basket> = serde_json::from_value(r.basket.clone()).ok();
    RecRow {
        id: r.id,
        version: r.version,
        status: status_words(r.status, lang).to_owned(),
        class: match r.status {
            domain::types::RecommendationStatus::Draft => "draft",
            domain::types::RecommendationStatus::Published => "published",
            domain::types::RecommendationStatus::Rejected => "rejected",
            domain::types::RecommendationStatus::Superseded => "none",
        },
        method: method_words(r.method, lang).to_owned(),
        rates: super::review::rates_line(r, lang),
        cost: basket.map(|b| money(b.cost_fen)).unwrap_or_default(),
        when: china_time(r.signed_at.unwrap_or(r.updated_at)),
    }
}

/// `GET /agronomist/fields/{id}`.
pub async fn field(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FieldQuery>,
) -> WebResult {
    let notice = match q.added.as_str() {
        "test" => Some(
            ctx.l("土壤化验结果已保存。", "The soil test is saved.")
                .to_owned(),
        ),
        _ => None,
    };
    render_field(
        &state,
        &ctx,
        id,
        TestFields::default(),
        vec![],
        vec![],
        notice,
    )
    .await
}

#[derive(Deserialize)]
pub struct TestForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(flatten)]
    f: TestFields,
}

fn bad(field: &str, zh: String, en: String) -> FieldError {
    FieldError::new(field, Code::InvalidFormat, zh, en)
}

/// Reads the form into the domain's input; what cannot be read is a bilingual field error.
fn parse_test(field_id: i64, f: &TestFields) -> Result<SoilTestInput, domain::Error> {
    let mut errs = Vec::new();
    let mut num = |field: &str, zh: &str, en: &str, v: &str, required: bool| -> Option<f64> {
        let t = v.trim();
        if t.is_empty() {
            if required {
                errs.push(FieldError::new(
                    field,
                    Code::Required,
                    format!("请填写{zh}"),
                    format!("{en} is required"),
                ));
            }
            return None;
        }
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                errs.push(bad(
                    field,
                    format!("{zh}“{t}”不是数字"),
                    format!("{en} \"{t}\" is not a number"),
                ));
                None
            }
        }
    };
    let ph = num("ph", "pH", "pH", &f.ph, true);
    let buffer_ph = num("bufferPh", "缓冲 pH", "buffer pH", &f.buffer_ph, false);
    let om = num(
        "organicMatterGKg",
        "有机质",
        "organic matter",
        &f.organic_matter,
        true,
    );
    let n = num(
        "alkaliNMgKg",
        "碱解氮",
        "alkali-hydrolysable N",
        &f.alkali_n,
        true,
    );
    let p = num("olsenPMgKg", "有效磷", "Olsen P", &f.olsen_p, false);
    let k = num(
        "availableKMgKg",
        "速效钾",
        "available K",
        &f.available_k,
        true,
    );
    let d = f.sampled_on.trim();
    let sampled_on = NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(d, "%Y/%m/%d"))
        .map_err(|_| {
            errs.push(if d.is_empty() {
                FieldError::new(
                    "sampledOn",
                    Code::Required,
                    "请填写采样日期",
                    "the sampling date is required",
                )
            } else {
                bad(
                    "sampledOn",
                    format!("采样日期“{d}”应为 年-月-日，例如 2026-03-01"),
                    format!("sampling date \"{d}\" must be a date like 2026-03-01"),
                )
            })
        })
        .ok();
    let depth_text = if f.depth.trim().is_empty() {
        "0-20"
    } else {
        f.depth.trim()
    };
    let depth = match depth_text
        .split(['-', '–', '~'])
        .map(str::trim)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [a, b] => a.parse::<i32>().ok().zip(b.parse::<i32>().ok()),
        _ => None,
    };
    if depth.is_none() {
        errs.push(bad(
            "depthCm",
            format!("采样深度“{depth_text}”应如 0-20"),
            format!("depth \"{depth_text}\" must look like 0-20"),
        ));
    }
    if !errs.is_empty() {
        return Err(domain::Error::Invalid(errs));
    }
    let (from, to) = depth.unwrap_or((0, 20));
    Ok(SoilTestInput {
        field_id,
        sampled_on: sampled_on.unwrap_or_default(),
        depth_from_cm: from,
        depth_to_cm: to,
        lab: f.lab.trim().to_owned(),
        lab_sample_id: f.lab_sample_id.trim().to_owned(),
        ph: ph.unwrap_or_default(),
        buffer_ph,
        organic_matter_g_kg: om.unwrap_or_default(),
        alkali_n_mg_kg: n.unwrap_or_default(),
        olsen_p_mg_kg: p,
        available_k_mg_kg: k.unwrap_or_default(),
        ..Default::default()
    })
}

/// `POST /agronomist/fields/{id}/soil-tests`: one soil test entered (one-shot).
pub async fn add_soil_test(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<TestForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "fields").await?;
    let back = format!("/agronomist/fields/{id}");
    if let Err(done) = claim(&state, desk.session, &form.idem, &back).await? {
        return Ok(done);
    }
    let result = match parse_test(id, &form.f) {
        Ok(input) => domain::agronomy::create_soil_test(state.db(), desk.actor(), input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            let url = format!("{back}?added=test");
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            super::refused(render_field(&state, &ctx, id, form.f, errors, vec![], None).await)
        }
    }
}

#[derive(Deserialize)]
pub struct DraftForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    plan: String,
    /// The soil test; empty takes the field's latest.
    #[serde(default)]
    test: String,
}

/// `POST /agronomist/fields/{id}/drafts`: a draft for a crop plan and a soil test, computed by
/// the advisor with the defaults (one-shot); then its page.
pub async fn make_draft(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DraftForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "fields").await?;
    let back = format!("/agronomist/fields/{id}");
    if let Err(done) = claim(&state, desk.session, &form.idem, &back).await? {
        return Ok(done);
    }
    let result = match id_of(&form.plan) {
        Some(plan) => {
            domain::agronomy::create_draft(
                state.db(),
                desk.actor(),
                id,
                plan,
                id_of(&form.test),
                domain::agronomy::Params::default(),
            )
            .await
        }
        None => Err(domain::Error::invalid(
            "cropPlanId",
            Code::Required,
            "请选择作物计划",
            "choose a crop plan",
        )),
    };
    match result {
        Ok(r) => {
            let url = format!("/agronomist/recommendations/{}", r.id);
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            super::refused(
                render_field(
                    &state,
                    &ctx,
                    id,
                    TestFields::default(),
                    vec![],
                    errors,
                    None,
                )
                .await,
            )
        }
    }
}
