//! `GET /t/{code}`: what anyone who scans a bag sees (no sign-in): the product, its
//! registration, producer, lot, dates, inspection, the chain of custody and whether it may be
//! sold; for a pesticide, its toxicity, restricted use and registered uses. Never a buyer.

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::Lang;
use domain::lots::trace::{self, PublicTrace};
use domain::lots::{LotState, UnitCodeStatus};
use domain::types::InspectionResult;

use super::view::{self, china_time};
use super::{Chrome, Ctx};
use crate::state::AppState;

pub struct CustodyRow {
    pub step: &'static str,
    pub at: String,
    pub place: String,
    pub corrected: bool,
}

#[derive(askama::Template)]
#[template(path = "trace.html")]
struct TracePage {
    c: Chrome,
    t: PublicTrace,
    name: String,
    producer: String,
    /// ok, sold, hold, warn.
    badge_class: &'static str,
    badge: &'static str,
    inspection: &'static str,
    custody: Vec<CustodyRow>,
    restricted: bool,
    toxicity: String,
    uses: Vec<view::UseRow>,
    /// The complaint form about this bag (or lot).
    complain_url: String,
}

impl TracePage {
    /// A long code in groups of four, as printed under a QR code: easier to compare by eye.
    fn grouped(&self, code: &str) -> String {
        let chars: Vec<char> = code.chars().collect();
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(askama::Template)]
#[template(path = "trace_unknown.html")]
struct Unknown {
    c: Chrome,
}

pub async fn page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(code): Path<String>,
    super::ctx::Query(at): super::ctx::Query<WhereQuery>,
) -> Response {
    let lang = ctx.lang;
    if let Err(e) = crate::rest::rate_limited(&state, &headers, peer, lang).await {
        return e.into_response();
    }
    let c = Chrome::new(&ctx, ctx.l("农资追溯", "Trace"), "scan");
    let found = match trace::public_trace(state.db(), &code).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            let body = askama::Template::render(&Unknown { c });
            return match body {
                Ok(b) => (StatusCode::NOT_FOUND, axum::response::Html(b)).into_response(),
                Err(e) => super::WebError::from(e).into_response(),
            };
        }
        Err(e) => return super::WebError::from(e).into_response(),
    };
    if t_unit(&found) {
        let actor = ctx.session.as_ref().map(|s| &s.actor);
        let num = |v: &Option<String>| v.as_deref().and_then(|x| x.trim().parse::<f64>().ok());
        let coords = match (num(&at.lat), num(&at.lon)) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some((a, b)),
            _ => None,
        };
        // A scan that cannot be recorded must not keep the reader from the trace.
        if let Err(e) =
            domain::bureau::signals::record_code_scan(state.db(), &code, actor, coords).await
        {
            tracing::warn!(error = %e, "trace scan not recorded");
        }
    }
    match render(&state, c, found, lang).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Where the reader is, when their browser gave it and they agreed (see the scan page).
#[derive(serde::Deserialize, Default)]
pub struct WhereQuery {
    lat: Option<String>,
    lon: Option<String>,
}

/// Only a unit code names one bag: a lot's trace code is printed on many.
fn t_unit(t: &PublicTrace) -> bool {
    t.unit_code.is_some()
}

async fn render(
    state: &AppState,
    c: Chrome,
    t: PublicTrace,
    lang: Lang,
) -> Result<Response, super::WebError> {
    let db = state.db();
    let sold_unit = t.unit_status == Some(UnitCodeStatus::Sold);
    let (badge_class, badge) = match t.disposition {
        LotState::Recalled => (
            "warn",
            lang.pick("已召回，请勿使用", "RECALLED: do not use"),
        ),
        LotState::Expired => ("hold", lang.pick("已过期", "Expired")),
        LotState::OnHold => ("hold", lang.pick("暂停销售", "On hold")),
        _ if t.unit_flagged => ("warn", lang.pick("疑似假冒", "Possibly counterfeit")),
        _ if sold_unit => ("sold", lang.pick("这一件已售出", "This unit has been sold")),
        _ => ("ok", lang.pick("正常销售", "OK to sell")),
    };
    let inspection = match t.inspection_result {
        Some(InspectionResult::Conformant) => lang.pick("合格", "conformant"),
        Some(InspectionResult::NonConformant) => lang.pick("不合格", "non-conformant"),
        None => lang.pick("未录入", "not recorded"),
    };
    let custody = t
        .custody
        .iter()
        .map(|s| CustodyRow {
            step: {
                let (zh, en) = s.biz_step.words();
                lang.pick(zh, en)
            },
            at: china_time(s.occurred_at),
            place: match lang {
                Lang::Zh => s.place_zh.clone(),
                Lang::En => s.place_en.clone(),
            }
            .unwrap_or_default(),
            corrected: s.corrected,
        })
        .collect();
    let product = domain::catalog::product(db, t.product_id).await?;
    let spec = domain::catalog::pesticide_specs(db, &[t.product_id])
        .await?
        .into_iter()
        .next();
    let uses = view::uses(
        domain::catalog::uses_by_products(db, &[t.product_id]).await?,
        lang,
    );
    let page = TracePage {
        name: lang.pick(&t.product_zh, &t.product_en).to_owned(),
        producer: lang.pick(&t.producer_zh, &t.producer_en).to_owned(),
        badge_class,
        badge,
        inspection,
        custody,
        restricted: product.restricted_use,
        toxicity: spec
            .map(|s| view::toxicity_words(&s.toxicity, lang).to_owned())
            .unwrap_or_default(),
        uses,
        complain_url: format!(
            "/complaints/new?code={}",
            super::ctx::urlencode(t.unit_code.as_deref().unwrap_or(&t.trace_code))
        ),
        c,
        t,
    };
    // The trace itself is public, but the page carries the reader's session chrome (its form
    // token, the signed-in tabs): only the reader's own browser may keep it, and briefly (a
    // recall shows within a minute).
    Ok((
        [
            (axum::http::header::CACHE_CONTROL, "private, max-age=60"),
            (axum::http::header::VARY, "Cookie, Accept-Language"),
        ],
        axum::response::Html(askama::Template::render(&page)?),
    )
        .into_response())
}
