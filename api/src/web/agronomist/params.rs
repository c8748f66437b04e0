//! The county's agronomy parameters (本县施肥参数): the correction coefficients, recovery rates
//! and target-yield factor its agronomists set per crop and soil type, each with its source and
//! date; the form to set or remove one; and the county's two-person rule. Drafts use these in
//! place of the sourced defaults, and each draft lists where every value came from.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use domain::agronomy::CountyParamInput;
use domain::error::{Code, FieldError};
use domain::regions::Level;
use serde::Deserialize;

use super::Desk;
use super::fields::Opt;
use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{Path, Query, claim, finish, page, random_token};
use crate::web::view::{china_time, crop_words};
use crate::web::{Ctx, WebResult};

pub struct ParamRow {
    pub id: i64,
    pub county: String,
    pub crop: String,
    pub soil: String,
    pub correction: String,
    pub recovery: String,
    pub factor: String,
    pub source: String,
    pub date: String,
    pub updated: String,
}

pub struct CountyRule {
    pub id: i64,
    pub name: String,
    pub required: bool,
}

/// What was typed into the form (kept on a refusal).
#[derive(Deserialize, Default, Clone)]
pub struct ParamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    pub county: String,
    #[serde(default)]
    pub crop: String,
    #[serde(default)]
    pub soil: String,
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
    pub factor: String,
    #[serde(default)]
    pub source_zh: String,
    #[serde(default)]
    pub source_en: String,
    #[serde(default)]
    pub date: String,
}

#[derive(askama::Template)]
#[template(path = "agronomist/params.html")]
struct ParamsPage {
    c: crate::web::Chrome,
    rows: Vec<ParamRow>,
    rules: Vec<CountyRule>,
    counties: Vec<Opt>,
    crops: Vec<Opt>,
    f: ParamForm,
    errors: Vec<String>,
    notice: Option<String>,
    idem: String,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

fn numbers(v: &[Option<f64>]) -> String {
    if v.iter().all(Option::is_none) {
        return "—".into();
    }
    v.iter()
        .map(|x| x.map_or("—".into(), super::plain))
        .collect::<Vec<_>>()
        .join(" / ")
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    f: ParamForm,
    errors: Vec<String>,
    notice: Option<String>,
) -> WebResult {
    let desk = Desk::open(
        state,
        ctx,
        ctx.l("本县施肥参数", "County parameters"),
        "params",
    )
    .await?;
    let db = state.db();
    let actor = desk.actor();
    let counties = if actor.is_admin() {
        domain::regions::children(db, None, Some(Level::County)).await?
    } else {
        domain::regions::regions_by_ids(db, &actor.county_ids).await?
    };
    let mut rows = Vec::new();
    let mut rules = Vec::new();
    for county in &counties {
        let name = ctx.l(&county.name_zh, &county.name_en).to_owned();
        let settings = domain::agronomy::county_settings(db, actor, county.id).await?;
        rules.push(CountyRule {
            id: county.id,
            name: name.clone(),
            required: settings.require_second_approval,
        });
        for p in domain::agronomy::county_params(db, actor, county.id).await? {
            rows.push(ParamRow {
                id: p.id,
                county: name.clone(),
                crop: crop_words(&p.crop, ctx.lang),
                soil: if p.soil_type.is_empty() {
                    ctx.l("全部土壤", "All soils").to_owned()
                } else {
                    p.soil_type.clone()
                },
                correction: numbers(&[p.correction_n, p.correction_p2o5, p.correction_k2o]),
                recovery: numbers(&[p.recovery_n, p.recovery_p2o5, p.recovery_k2o]),
                factor: p.target_yield_factor.map_or("—".into(), super::plain),
                source: ctx.l(&p.source_zh, &p.source_en).to_owned(),
                date: p.source_date.to_string(),
                updated: china_time(p.updated_at),
            });
        }
    }
    let chosen_county = if f.county.is_empty() {
        counties
            .first()
            .map(|c| c.id.to_string())
            .unwrap_or_default()
    } else {
        f.county.clone()
    };
    let county_opts = counties
        .iter()
        .map(|c| Opt {
            id: c.id.to_string(),
            name: ctx.l(&c.name_zh, &c.name_en).to_owned(),
            selected: c.id.to_string() == chosen_county,
        })
        .collect();
    let crop_opts = advisor::data::tables()
        .crops
        .iter()
        .map(|c| Opt {
            id: c.code.clone(),
            name: crop_words(&c.code, ctx.lang),
            selected: c.code == f.crop,
        })
        .collect();
    page(&ParamsPage {
        c: desk.c,
        rows,
        rules,
        counties: county_opts,
        crops: crop_opts,
        f,
        errors,
        notice,
        idem: random_token(),
    })
}

/// `GET /agronomist/parameters`.
pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<Done>) -> WebResult {
    let notice = match q.done.as_str() {
        "saved" => Some(ctx.l("参数已保存，新草稿将使用它。", "Saved: new drafts use it.")),
        "removed" => Some(ctx.l(
            "已删除，草稿将改用默认值。",
            "Removed: drafts fall back to the defaults.",
        )),
        "rule" => Some(ctx.l("审核规则已更新。", "The review rule was updated.")),
        _ => None,
    }
    .map(str::to_owned);
    render(&state, &ctx, ParamForm::default(), vec![], notice).await
}

fn num(field: &str, v: &str, errs: &mut Vec<FieldError>) -> Option<f64> {
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
                format!("“{t}”不是数字"),
                format!("“{t}” is not a number"),
            ));
            None
        }
    }
}

/// Three numbers or none: a partly filled set is refused.
fn triple(field: &str, v: [&str; 3], errs: &mut Vec<FieldError>) -> Option<[f64; 3]> {
    let got: Vec<Option<f64>> = v.iter().map(|x| num(field, x, errs)).collect();
    match (got[0], got[1], got[2]) {
        (Some(a), Some(b), Some(c)) => Some([a, b, c]),
        (None, None, None) => None,
        _ => {
            errs.push(FieldError::new(
                field,
                Code::Required,
                "N、P2O5、K2O 三项要么都填，要么都不填",
                "give all three of N, P2O5 and K2O, or none",
            ));
            None
        }
    }
}

fn parse(f: &ParamForm) -> Result<CountyParamInput, domain::Error> {
    let mut errs = Vec::new();
    let county_id = f.county.trim().parse::<i64>().unwrap_or_else(|_| {
        errs.push(FieldError::new(
            "countyId",
            Code::Required,
            "请选择县",
            "choose a county",
        ));
        0
    });
    let correction = triple("correction", [&f.cc_n, &f.cc_p, &f.cc_k], &mut errs);
    let recovery = triple("recovery", [&f.rr_n, &f.rr_p, &f.rr_k], &mut errs);
    let target_yield_factor = num("targetYieldFactor", &f.factor, &mut errs);
    let source_date = NaiveDate::parse_from_str(f.date.trim(), "%Y-%m-%d").unwrap_or_else(|_| {
        errs.push(FieldError::new(
            "sourceDate",
            Code::InvalidFormat,
            "来源日期格式应为 2025-11-20",
            "the source date must look like 2025-11-20",
        ));
        NaiveDate::MIN
    });
    if !errs.is_empty() {
        return Err(domain::Error::Invalid(errs));
    }
    Ok(CountyParamInput {
        county_id,
        crop: f.crop.clone(),
        soil_type: f.soil.clone(),
        correction,
        recovery,
        target_yield_factor,
        source_zh: f.source_zh.clone(),
        source_en: f.source_en.clone(),
        source_date,
    })
}

/// `POST /agronomist/parameters` (one-shot): sets a crop's parameters for a county and soil.
pub async fn set(State(state): State<AppState>, ctx: Ctx, Form(f): Form<ParamForm>) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "params").await?;
    let back = "/agronomist/parameters";
    if let Err(done) = claim(&state, desk.session, &f.idem, back).await? {
        return Ok(done);
    }
    let r = match parse(&f) {
        Ok(input) => domain::agronomy::set_county_param(state.db(), desk.actor(), input).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => {
            let url = "/agronomist/parameters?done=saved";
            finish(&state, desk.session, &f.idem, Some(url)).await?;
            Ok(Redirect::to(url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &f.idem, None).await?;
            let errors = messages(e, &ctx)?;
            super::refused(render(&state, &ctx, f, errors, None).await)
        }
    }
}

#[derive(Deserialize)]
pub struct SmallForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    /// The two-person rule's new value ("on" when the box is ticked).
    #[serde(default)]
    required: String,
}

/// `POST /agronomist/parameters/{id}/delete` (one-shot).
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<SmallForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "params").await?;
    if let Err(done) = claim(&state, desk.session, &f.idem, "/agronomist/parameters").await? {
        return Ok(done);
    }
    match domain::agronomy::delete_county_param(state.db(), desk.actor(), id).await {
        Ok(()) => {
            let url = "/agronomist/parameters?done=removed";
            finish(&state, desk.session, &f.idem, Some(url)).await?;
            Ok(Redirect::to(url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &f.idem, None).await?;
            Err(e.into())
        }
    }
}

/// `POST /agronomist/counties/{id}/review-rule` (one-shot): whether a second agronomist must
/// approve a draft before it is published.
pub async fn review_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(county): Path<i64>,
    Form(f): Form<SmallForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "params").await?;
    if let Err(done) = claim(&state, desk.session, &f.idem, "/agronomist/parameters").await? {
        return Ok(done);
    }
    let required = f.required == "on";
    match domain::agronomy::set_require_second_approval(state.db(), desk.actor(), county, required)
        .await
    {
        Ok(_) => {
            let url = "/agronomist/parameters?done=rule";
            finish(&state, desk.session, &f.idem, Some(url)).await?;
            Ok(Redirect::to(url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &f.idem, None).await?;
            Err(e.into())
        }
    }
}
