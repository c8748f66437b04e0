//! Fields and advice: the farmer's fields, a field's soil tests and recommendations, and
//! putting a recommendation's basket into the cart.

use std::collections::BTreeSet;

use crate::web::ctx::Path;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;

use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{page, urlencode};
use crate::web::view::{self, china_time, money};
use crate::web::{Chrome, Ctx, WebResult};

use super::CsrfForm;

pub struct FieldRow {
    pub id: i64,
    pub name: String,
    pub area: String,
    pub crops: String,
    pub tested: Option<String>,
    pub advice: bool,
}

#[derive(askama::Template)]
#[template(path = "fields.html")]
struct FieldsPage {
    c: Chrome,
    rows: Vec<FieldRow>,
}

pub async fn fields(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let (actor, farmer) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let published: BTreeSet<i64> = domain::agronomy::for_farmer(db, actor)
        .await?
        .into_iter()
        .map(|r| r.field_id)
        .collect();
    let mut rows = Vec::new();
    for f in domain::fields::of_farmer(db, farmer.id).await? {
        let crops: Vec<String> = domain::agronomy::crop_plans_of(db, f.id)
            .await?
            .into_iter()
            .map(|p| format!("{} {}", view::crop_words(&p.crop, lang), p.season))
            .collect();
        let tested = domain::agronomy::soil_tests_of(db, f.id)
            .await?
            .into_iter()
            .map(|t| t.sampled_on)
            .max()
            .map(|d| d.to_string());
        rows.push(FieldRow {
            id: f.id,
            name: f.name.clone(),
            area: format!("{} {}", f.area_mu, lang.pick("亩", "mu")),
            crops: crops.join(" · "),
            tested,
            advice: published.contains(&f.id),
        });
    }
    page(&FieldsPage {
        c: Chrome::new(&ctx, ctx.l("我的地块", "My fields"), "fields"),
        rows,
    })
}

pub struct SoilValue {
    pub name: &'static str,
    pub value: String,
}

pub struct BasketRow {
    pub product: String,
    pub analysis: String,
    pub bags: String,
    pub cost: String,
}

pub struct AdviceView {
    pub id: i64,
    pub applications: Vec<view::ApplicationRow>,
    /// What lime to spread this year, in words with kg per mu and for the field.
    pub lime: Option<String>,
    pub crop: String,
    pub n: String,
    pub p: String,
    pub k: String,
    pub basket: Vec<BasketRow>,
    pub cost: String,
    pub feasible: bool,
    pub notes: String,
    pub signed_by: String,
    pub signed_at: String,
    pub current: bool,
}

#[derive(askama::Template)]
#[template(path = "field.html")]
struct FieldPage {
    c: Chrome,
    name: String,
    area: String,
    soil: Vec<SoilValue>,
    soil_meta: Option<String>,
    advice: Vec<AdviceView>,
}

pub async fn field(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let f = domain::fields::get(db, actor, id).await?;
    let test = domain::agronomy::soil_tests_of(db, f.id)
        .await?
        .into_iter()
        .max_by_key(|t| (t.sampled_on, t.id));
    let mut soil = Vec::new();
    let mut soil_meta = None;
    if let Some(t) = &test {
        soil_meta = Some(format!(
            "{} {} · {} {}",
            lang.pick("采样", "sampled"),
            t.sampled_on,
            lang.pick("化验", "lab"),
            t.lab
        ));
        let mut push = |name: &'static str, v: Option<f64>, unit: &str| {
            if let Some(v) = v {
                soil.push(SoilValue {
                    name,
                    value: format!("{v} {unit}"),
                });
            }
        };
        push("pH", Some(t.ph), "");
        push(
            lang.pick("有机质", "Organic matter"),
            Some(t.organic_matter_g_kg),
            "g/kg",
        );
        push(
            lang.pick("碱解氮", "Alkali-hydrolysable N"),
            Some(t.alkali_n_mg_kg),
            "mg/kg",
        );
        push(
            lang.pick("有效磷（Olsen）", "Olsen P"),
            t.olsen_p_mg_kg,
            "mg/kg",
        );
        push(
            lang.pick("有效磷（Mehlich-3）", "Mehlich-3 P"),
            t.mehlich3_p_mg_kg,
            "mg/kg",
        );
        push(
            lang.pick("速效钾", "Available K"),
            Some(t.available_k_mg_kg),
            "mg/kg",
        );
    }
    let plans = domain::agronomy::crop_plans_of(db, f.id).await?;
    let mut advice = Vec::new();
    for r in domain::agronomy::of_field(db, actor, f.id).await? {
        let basket: Option<domain::agronomy::Basket> =
            serde_json::from_value(r.basket.clone()).ok();
        let plan = plans.iter().find(|p| p.id == r.crop_plan_id);
        let signer = match r.agronomist_id {
            Some(a) => domain::accounts::user_by_id(db, a)
                .await
                .map(|u| u.display_name)
                .unwrap_or_default(),
            None => String::new(),
        };
        advice.push(AdviceView {
            id: r.id,
            crop: plan
                .map(|p| format!("{} {}", view::crop_words(&p.crop, lang), p.season))
                .unwrap_or_default(),
            applications: view::application_rows(&r, lang),
            lime: view::lime_line(&r, f.area_mu, lang).map(|l| match lang {
                Lang::Zh => format!("{l}。石灰不要和化肥（特别是铵态氮肥、尿素）混在一起施。"),
                Lang::En => format!(
                    "{}{}. Do not mix lime with fertiliser (ammonium fertilisers and urea above all).",
                    l.get(..1).unwrap_or_default().to_uppercase(),
                    l.get(1..).unwrap_or_default()
                ),
            }),
            n: view::half_kg(r.n_kg_per_mu),
            p: view::half_kg(r.p2o5_kg_per_mu),
            k: view::half_kg(r.k2o_kg_per_mu),
            basket: basket
                .as_ref()
                .map(|b| {
                    b.lines
                        .iter()
                        .map(|l| BasketRow {
                            product: lang.pick(&l.product_zh, &l.product_en).to_owned(),
                            analysis: l.analysis.clone(),
                            bags: match lang {
                                Lang::Zh => format!("{} 袋 × {} kg", l.bags, l.bag_kg),
                                Lang::En => format!(
                                    "{} {} × {} kg",
                                    l.bags,
                                    if l.bags == 1 { "bag" } else { "bags" },
                                    l.bag_kg
                                ),
                            },
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
            notes: lang.pick(&r.notes_zh, &r.notes_en).to_owned(),
            signed_by: signer,
            signed_at: r.signed_at.map(china_time).unwrap_or_default(),
            current: r.status == domain::types::RecommendationStatus::Published,
        });
    }
    page(&FieldPage {
        c: Chrome::new(&ctx, &f.name, "fields"),
        name: f.name.clone(),
        area: format!("{} {}", f.area_mu, lang.pick("亩", "mu")),
        soil,
        soil_meta,
        advice,
    })
}

/// `POST /recommendations/{id}/cart`: "order this": the basket goes into the cart at today's
/// prices, and what moved since the agronomist priced it is said on the cart page.
pub async fn recommendation_cart(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    match domain::agronomy::basket_to_cart(state.db(), actor, id).await {
        Ok(warnings) => {
            let qs: Vec<String> = warnings
                .iter()
                .map(|w| format!("warn={}", urlencode(ctx.l(&w.zh, &w.en))))
                .collect();
            Ok(Redirect::to(&format!("/cart?{}", qs.join("&"))).into_response())
        }
        Err(e) => {
            let msgs = messages(e, &ctx)?;
            let qs: Vec<String> = msgs
                .iter()
                .map(|m| format!("warn={}", urlencode(m)))
                .collect();
            Ok(Redirect::to(&format!("/cart?{}", qs.join("&"))).into_response())
        }
    }
}
