//! Regional formulas (区域配方): pick a county and a crop, run the clustering, see the
//! formulas with the fields each serves and each field's distance from its own optimum, publish
//! one, and (admins, dealers) list a published one as a product.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::agronomy::{FormulaField, SkippedField};
use domain::error::Code;
use domain::types::FormulaStatus;
use serde::Deserialize;

use super::{Desk, plain};
use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{Path, Query, claim, finish, page, random_token, urlencode};
use crate::web::view::{china_time, crop_words};
use crate::web::{Chrome, Ctx, WebResult};

pub struct Opt {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

pub struct Served {
    pub field_id: i64,
    pub field: String,
    pub rates: String,
    pub distance: String,
    pub product: String,
    pub top_up: String,
    pub placeholder: bool,
}

pub struct FormulaView {
    pub id: i64,
    pub name: String,
    pub grade: String,
    pub fields: i32,
    pub mean_distance: String,
    pub published: bool,
    pub status: String,
    pub product_id: Option<i64>,
    pub served: Vec<Served>,
    pub skipped: Vec<String>,
    pub made: String,
}

#[derive(askama::Template)]
#[template(path = "agronomist/formulas.html")]
struct FormulasPage {
    c: Chrome,
    counties: Vec<Opt>,
    crops: Vec<Opt>,
    county: String,
    crop: String,
    k: String,
    formulas: Vec<FormulaView>,
    producers: Vec<Opt>,
    admin: bool,
    errors: Vec<String>,
    idem: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct FormulaQuery {
    #[serde(default)]
    county: String,
    #[serde(default)]
    crop: String,
    #[serde(default)]
    k: String,
}

async fn render(state: &AppState, ctx: &Ctx, q: FormulaQuery, errors: Vec<String>) -> WebResult {
    let desk = Desk::open(
        state,
        ctx,
        ctx.l("区域配方", "Regional formulas"),
        "formulas",
    )
    .await?;
    let db = state.db();
    let lang = ctx.lang;
    let counties = domain::agronomy::agronomist_counties(db, desk.actor()).await?;
    let county_id = q
        .county
        .trim()
        .parse::<i64>()
        .ok()
        .or(counties.first().map(|c| c.id));
    let crop = if q.crop.trim().is_empty() {
        "RICE".to_owned()
    } else {
        q.crop.trim().to_owned()
    };
    let crops = domain::catalog::crops::CROPS
        .iter()
        .filter(|c| domain::agronomy::advisor_crop(c.0).is_some())
        .map(|c| Opt {
            id: c.0.to_owned(),
            name: lang.pick(c.1, c.2).to_owned(),
            selected: c.0 == crop,
        })
        .collect();
    let mut formulas = Vec::new();
    if let Some(cid) = county_id {
        let (list, fields) =
            domain::agronomy::county_formulas(db, desk.actor(), cid, Some(&crop)).await?;
        let field_name = |id: i64| {
            fields
                .get(&id)
                .map(|f| f.name.clone())
                .unwrap_or_else(|| format!("#{id}"))
        };
        let per_mu = lang.pick("kg/亩", "kg/mu");
        for f in list {
            let served: Vec<FormulaField> =
                serde_json::from_value(f.details.clone()).unwrap_or_default();
            let skipped: Vec<SkippedField> = f
                .skipped
                .clone()
                .and_then(|s| serde_json::from_value(s).ok())
                .unwrap_or_default();
            formulas.push(FormulaView {
                id: f.id,
                name: f.name.clone(),
                grade: format!(
                    "{}-{}-{}",
                    plain(f.n_pct),
                    plain(f.p2o5_pct),
                    plain(f.k2o_pct)
                ),
                fields: f.fields_covered,
                mean_distance: format!("{:.1}", f.mean_distance),
                published: f.status == FormulaStatus::Published,
                status: match f.status {
                    FormulaStatus::Draft => lang.pick("草稿", "Draft"),
                    FormulaStatus::Published => lang.pick("已发布", "Published"),
                }
                .to_owned(),
                product_id: f.product_id,
                served: served
                    .iter()
                    .map(|d| Served {
                        field_id: d.field_id,
                        field: field_name(d.field_id),
                        rates: format!(
                            "N {} · P₂O₅ {} · K₂O {} {per_mu}",
                            crate::web::view::half_kg(d.rates_kg_per_mu[0]),
                            crate::web::view::half_kg(d.rates_kg_per_mu[1]),
                            crate::web::view::half_kg(d.rates_kg_per_mu[2]),
                        ),
                        distance: format!("{:.1}", d.distance),
                        product: format!(
                            "{} {per_mu}",
                            crate::web::view::half_kg(d.formula_kg_per_mu)
                        ),
                        top_up: format!(
                            "N {} · P₂O₅ {} · K₂O {} {per_mu}",
                            crate::web::view::half_kg(d.top_up_kg_per_mu[0]),
                            crate::web::view::half_kg(d.top_up_kg_per_mu[1]),
                            crate::web::view::half_kg(d.top_up_kg_per_mu[2]),
                        ),
                        placeholder: d.placeholder_correction,
                    })
                    .collect(),
                skipped: skipped
                    .iter()
                    .map(|s| format!("{}: {}", field_name(s.field_id), lang.pick(&s.zh, &s.en)))
                    .collect(),
                made: china_time(f.created_at),
            });
        }
    }
    let admin = desk.actor().is_admin();
    let producers = if admin {
        domain::catalog::producers(db)
            .await?
            .into_iter()
            .map(|p| Opt {
                id: p.id.to_string(),
                name: lang.pick(&p.name_zh, &p.name_en).to_owned(),
                selected: false,
            })
            .collect()
    } else {
        vec![]
    };
    let mut c = desk.c;
    c.title = format!(
        "{} · {}",
        lang.pick("区域配方", "Regional formulas"),
        crop_words(&crop, lang)
    );
    page(&FormulasPage {
        c,
        counties: counties
            .iter()
            .map(|r| Opt {
                id: r.id.to_string(),
                name: lang.pick(&r.name_zh, &r.name_en).to_owned(),
                selected: Some(r.id) == county_id,
            })
            .collect(),
        crops,
        county: county_id.map(|c| c.to_string()).unwrap_or_default(),
        crop,
        k: if q.k.trim().is_empty() {
            "3".into()
        } else {
            q.k.trim().to_owned()
        },
        formulas,
        producers,
        admin,
        errors,
        idem: random_token(),
    })
}

/// `GET /agronomist/formulas?county=&crop=`.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FormulaQuery>,
) -> WebResult {
    render(&state, &ctx, q, vec![]).await
}

#[derive(Deserialize)]
pub struct ComputeForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(flatten)]
    q: FormulaQuery,
}

fn back(county: &str, crop: &str) -> String {
    format!(
        "/agronomist/formulas?county={}&crop={}",
        urlencode(county.trim()),
        urlencode(crop.trim())
    )
}

/// `POST /agronomist/formulas` (one-shot): clusters the county's fields growing the crop into
/// `k` formulas, stored as drafts.
pub async fn compute(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ComputeForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "formulas").await?;
    let url = back(&form.q.county, &form.q.crop);
    if let Err(done) = claim(&state, desk.session, &form.idem, &url).await? {
        return Ok(done);
    }
    let result = match (
        form.q.county.trim().parse::<i64>(),
        form.q.k.trim().parse::<usize>(),
    ) {
        (Ok(county), Ok(k)) => {
            domain::agronomy::compute_regional_formulas(
                state.db(),
                desk.actor(),
                county,
                &form.q.crop,
                k,
            )
            .await
        }
        (Err(_), _) => Err(domain::Error::invalid(
            "countyId",
            Code::Required,
            "请选择县",
            "choose a county",
        )),
        (_, Err(_)) => Err(domain::Error::invalid(
            "formulas",
            Code::InvalidFormat,
            "配方数量应为 1 到 8 的整数",
            "the number of formulas must be a whole number from 1 to 8",
        )),
    };
    match result {
        Ok(_) => {
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            super::refused(render(&state, &ctx, form.q, errors).await)
        }
    }
}

#[derive(Deserialize)]
pub struct FormulaForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    county: String,
    #[serde(default)]
    crop: String,
    #[serde(default)]
    producer: String,
}

/// `POST /agronomist/formulas/{id}/publish` (one-shot).
pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormulaForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "formulas").await?;
    let url = back(&form.county, &form.crop);
    if let Err(done) = claim(&state, desk.session, &form.idem, &url).await? {
        return Ok(done);
    }
    match domain::agronomy::publish_formula(state.db(), desk.actor(), id).await {
        Ok(_) => {
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            let q = FormulaQuery {
                county: form.county,
                crop: form.crop,
                k: String::new(),
            };
            super::refused(render(&state, &ctx, q, errors).await)
        }
    }
}

/// `POST /agronomist/formulas/{id}/product` (one-shot): a published formula listed as a
/// product of a producer (the domain allows admins and dealers).
pub async fn product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormulaForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "formulas").await?;
    let url = back(&form.county, &form.crop);
    if let Err(done) = claim(&state, desk.session, &form.idem, &url).await? {
        return Ok(done);
    }
    let result = match form.producer.trim().parse::<i64>() {
        Ok(p) => domain::agronomy::formula_to_product(state.db(), desk.actor(), id, p).await,
        Err(_) => Err(domain::Error::invalid(
            "producerId",
            Code::Required,
            "请选择生产企业",
            "choose the producer",
        )),
    };
    match result {
        Ok(_) => {
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            let q = FormulaQuery {
                county: form.county,
                crop: form.crop,
                k: String::new(),
            };
            super::refused(render(&state, &ctx, q, errors).await)
        }
    }
}
