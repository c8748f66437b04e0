//! The agronomist's console (农技人员工作台), for the county's agronomists (and admins), at the
//! county station or on a phone in the field: the county's fields with their soil tests, crop
//! plans and advice; one field's page (enter a test, make a draft); a lab's CSV checked and
//! imported; the review queue; one draft's page (its steps, basket, edit, publish, reject,
//! revise); and the county's regional formulas. Same templates, sessions, CSRF and one-shot
//! forms as the dealer's console; every read and write goes through the domain services with the
//! session's `Actor`, which check the county.
//!
//! Parts: `fields` (the county's fields and one field's page with its forms), `soil_csv` (the
//! lab CSV's template, check and import), `review` (the queue and one draft's page and actions),
//! `formulas` (regional formulas). This file holds the page start and the words and numbers the
//! parts share (soil values with units and grades, statuses, methods).

pub mod fields;
pub mod formulas;
pub mod params;
pub mod review;
pub mod soil_csv;

use axum::Router;
use axum::routing::{get, post};
use domain::Lang;
use domain::accounts::sessions::Session;
use domain::entities::soil_test;
use domain::types::{Method, RecommendationStatus};

use super::{Chrome, Ctx, WebError};
use crate::state::AppState;

/// A console page's start: the agronomist's session and the page chrome, which names the
/// counties the agronomist serves.
pub struct Desk<'a> {
    pub session: &'a Session,
    pub c: Chrome,
}

impl<'a> Desk<'a> {
    /// The session must be an agronomist's or an admin's; others get the 403 page, and a
    /// browser that is not signed in goes to the sign-in page and comes back.
    pub async fn open(
        state: &AppState,
        ctx: &'a Ctx,
        title: &str,
        tab: &'static str,
    ) -> Result<Desk<'a>, WebError> {
        let session = ctx.agronomist()?;
        let org = if session.actor.is_admin() {
            ctx.l("全部县", "All counties").to_owned()
        } else {
            domain::regions::regions_by_ids(state.db(), &session.actor.county_ids)
                .await?
                .iter()
                .map(|r| ctx.l(&r.name_zh, &r.name_en).to_owned())
                .collect::<Vec<_>>()
                .join(" · ")
        };
        let c = Chrome::agronomist(ctx, title, tab, &org);
        Ok(Desk { session, c })
    }

    pub fn actor(&self) -> &domain::accounts::Actor {
        &self.session.actor
    }
}

pub use crate::web::ctx::refused;

/// One soil value as read: its name, the value with its unit, and its China grade (1-6) in
/// words when graded.
pub struct SoilValue {
    pub name: &'static str,
    pub value: String,
    pub grade: Option<String>,
}

/// A number as the lab wrote it, without float noise (`24`, `9.5`, `0.35`).
pub fn plain(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A soil test's values with their units, and the China grade of N, P and K (advisor
/// `classify_china`, the 2nd national soil survey's grading).
pub fn soil_values(t: &soil_test::Model, lang: Lang) -> Vec<SoilValue> {
    let g = domain::agronomy::china_grades(t);
    let mut out = Vec::new();
    let mut push = |name: &'static str, v: Option<f64>, unit: &str, grade: Option<u8>| {
        if let Some(v) = v {
            out.push(SoilValue {
                name,
                value: if unit.is_empty() {
                    plain(v)
                } else {
                    format!("{} {unit}", plain(v))
                },
                grade: grade.map(|g| grade_words(g, lang)),
            });
        }
    };
    push("pH", Some(t.ph), "", None);
    push(lang.pick("缓冲 pH", "Buffer pH"), t.buffer_ph, "", None);
    push(
        lang.pick("有机质", "Organic matter"),
        Some(t.organic_matter_g_kg),
        "g/kg",
        None,
    );
    push(
        lang.pick("碱解氮", "Alkali-hydrolysable N"),
        Some(t.alkali_n_mg_kg),
        "mg/kg",
        g.alkali_n,
    );
    push(
        lang.pick("有效磷（Olsen）", "Olsen P"),
        t.olsen_p_mg_kg,
        "mg/kg",
        g.olsen_p,
    );
    push(
        lang.pick("有效磷（Mehlich-3）", "Mehlich-3 P"),
        t.mehlich3_p_mg_kg,
        "mg/kg",
        None,
    );
    push(
        lang.pick("速效钾", "Available K"),
        Some(t.available_k_mg_kg),
        "mg/kg",
        g.available_k,
    );
    push(
        lang.pick("阳离子交换量", "CEC"),
        t.cec_cmol_kg,
        "cmol/kg",
        None,
    );
    push(lang.pick("交换性钙", "Exch. Ca"), t.ca_mg_kg, "mg/kg", None);
    push(lang.pick("交换性镁", "Exch. Mg"), t.mg_mg_kg, "mg/kg", None);
    push(lang.pick("有效硫", "Available S"), t.s_mg_kg, "mg/kg", None);
    push(
        lang.pick("有效锌", "Available Zn"),
        t.zn_mg_kg,
        "mg/kg",
        None,
    );
    push(lang.pick("有效硼", "Available B"), t.b_mg_kg, "mg/kg", None);
    out
}

/// `N 二级 · P 四级 · K 三级` / `N grade 2 · P grade 4 · K grade 3`.
pub fn grades_line(g: &domain::agronomy::ChinaGrades, lang: Lang) -> String {
    [("N", g.alkali_n), ("P", g.olsen_p), ("K", g.available_k)]
        .iter()
        .filter_map(|(n, g)| g.map(|g| format!("{n} {}", grade_words(g, lang))))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// 一级 .. 六级 / grade 1 .. grade 6.
pub fn grade_words(g: u8, lang: Lang) -> String {
    match lang {
        Lang::Zh => {
            let n = ["一", "二", "三", "四", "五", "六"];
            format!("{}级", n.get(usize::from(g.max(1)) - 1).unwrap_or(&"?"))
        }
        Lang::En => format!("grade {g}"),
    }
}

pub fn status_words(s: RecommendationStatus, lang: Lang) -> &'static str {
    let (zh, en) = match s {
        RecommendationStatus::Draft => ("草稿，待审核", "Draft, to review"),
        RecommendationStatus::Published => ("已发布", "Published"),
        RecommendationStatus::Rejected => ("已退回", "Rejected"),
        RecommendationStatus::Superseded => ("已被新版本取代", "Superseded"),
    };
    lang.pick(zh, en)
}

pub fn method_words(m: Method, lang: Lang) -> &'static str {
    let (zh, en) = match m {
        Method::NutrientBalance => (
            "养分平衡法（NY/T 1118-2006）",
            "Nutrient balance (NY/T 1118-2006)",
        ),
        Method::ManualRates => ("手动设定用量", "Rates set by hand"),
    };
    lang.pick(zh, en)
}

/// `水稻 2026 中稻`.
pub fn plan_words(p: &domain::entities::crop_plan::Model, lang: Lang) -> String {
    let crop = super::view::crop_words(&p.crop, lang);
    format!("{} {}", super::view::capitalised(&crop), p.season)
}

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agronomist", get(fields::list))
        .route("/agronomist/fields/{id}", get(fields::field))
        .route(
            "/agronomist/fields/{id}/soil-tests",
            post(fields::add_soil_test),
        )
        .route("/agronomist/fields/{id}/drafts", post(fields::make_draft))
        .route("/agronomist/soil-tests", get(soil_csv::upload_page))
        .route(
            "/agronomist/soil-tests/template.csv",
            get(soil_csv::template),
        )
        .route("/agronomist/soil-tests/csv", post(soil_csv::upload))
        .route("/agronomist/soil-tests/csv/apply", post(soil_csv::apply))
        .route(
            "/agronomist/parameters",
            get(params::list).post(params::set),
        )
        .route("/agronomist/parameters/{id}/delete", post(params::delete))
        .route(
            "/agronomist/counties/{id}/review-rule",
            post(params::review_rule),
        )
        .route("/agronomist/queue", get(review::queue))
        .route("/agronomist/recommendations/{id}", get(review::draft))
        .route("/agronomist/recommendations/{id}/edit", post(review::edit))
        .route(
            "/agronomist/recommendations/{id}/approve",
            post(review::approve),
        )
        .route(
            "/agronomist/recommendations/{id}/publish",
            post(review::publish),
        )
        .route(
            "/agronomist/recommendations/{id}/reject",
            post(review::reject),
        )
        .route(
            "/agronomist/recommendations/{id}/revise",
            post(review::revise),
        )
        .route(
            "/agronomist/formulas",
            get(formulas::list).post(formulas::compute),
        )
        .route("/agronomist/formulas/{id}/publish", post(formulas::publish))
        .route("/agronomist/formulas/{id}/product", post(formulas::product))
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_lose_their_float_noise() {
        assert_eq!(super::plain(24.0), "24");
        assert_eq!(super::plain(9.5), "9.5");
        assert_eq!(super::plain(0.1 + 0.2), "0.3");
    }

    #[test]
    fn grades_are_named_in_both_languages() {
        assert_eq!(super::grade_words(2, domain::Lang::Zh), "二级");
        assert_eq!(super::grade_words(6, domain::Lang::En), "grade 6");
    }
}
