//! The farmer's pages: home, find, product, cart, checkout, orders, fields and advice, scan.
//! A station keeper acting for a farmer sees the same pages for that farmer.
//!
//! Each page or flow is a part: `catalog` (home and find), `product`, `cart`, `checkout`,
//! `orders`, `advice` (fields and recommendations). What more than one part shows (an order's
//! row, the form that carries only the CSRF token) and the scan page stay here.

pub mod advice;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod complaints;
pub mod orders;
pub mod product;

pub use advice::{field, fields, recommendation_cart};
pub use cart::{cart, cart_accept, cart_set};
pub use catalog::{find, home};
pub use checkout::{CheckoutForm, checkout, checkout_form, options_of, order_settings};
pub use orders::{order, order_cancel, order_status, orders};
pub use product::product;

use std::collections::{BTreeMap, BTreeSet};

use crate::web::ctx::Query;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use serde::Deserialize;

use super::ctx::{page, urlencode};
use super::view::{self, china_time, money};
use super::{Chrome, Ctx, WebError, WebResult};
use crate::state::AppState;

pub struct OrderRow {
    pub id: i64,
    pub status: String,
    pub status_words: &'static str,
    pub dealer: String,
    pub placed: String,
    pub total: String,
    pub flagged: bool,
}

async fn order_rows(
    state: &AppState,
    list: Vec<domain::entities::customer_order::Model>,
    lang: Lang,
) -> Result<Vec<OrderRow>, WebError> {
    let ids: Vec<i64> = list
        .iter()
        .map(|o| o.dealer_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let dealers: BTreeMap<i64, String> = domain::regions::dealers_by_ids(state.db(), &ids)
        .await?
        .into_iter()
        .map(|d| (d.id, lang.pick(&d.name_zh, &d.name_en).to_owned()))
        .collect();
    Ok(list
        .into_iter()
        .map(|o| OrderRow {
            id: o.id,
            status_words: view::status_words(o.status, lang),
            dealer: dealers.get(&o.dealer_id).cloned().unwrap_or_default(),
            placed: china_time(o.placed_at),
            total: money(o.total_fen),
            flagged: o.flagged,
            status: o.status.to_string(),
        })
        .collect())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

#[derive(askama::Template)]
#[template(path = "scan.html")]
struct ScanPage {
    c: Chrome,
}

#[derive(Deserialize)]
pub struct ScanQuery {
    code: Option<String>,
    lat: Option<String>,
    lon: Option<String>,
}

/// `GET /scan`: the camera where the browser can read a QR code, typing otherwise; a code goes
/// to its trace page. Open to anyone: a trace is public.
pub async fn scan(ctx: Ctx, Query(q): Query<ScanQuery>) -> WebResult {
    if let Some(code) = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        // A scanned Digital Link is a URL; its path is what the trace page takes.
        let code: String = code.chars().filter(|c| !c.is_control()).take(300).collect();
        // Coordinates only when the reader chose to give them, passed on as numbers.
        let coord = |v: &Option<String>| v.as_deref().and_then(|x| x.trim().parse::<f64>().ok());
        let at = match (coord(&q.lat), coord(&q.lon)) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => {
                format!("?lat={a:.2}&lon={b:.2}")
            }
            _ => String::new(),
        };
        return Ok(Redirect::to(&format!("/t/{}{at}", urlencode(&code))).into_response());
    }
    page(&ScanPage {
        c: Chrome::new(&ctx, ctx.l("扫码查真伪", "Scan a bag"), "scan"),
    })
}
