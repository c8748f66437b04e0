//! Offline use: the shell the service worker shows when there is no signal, the village
//! catalog snapshot it browses, and the endpoint the outbox sends queued orders to.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::catalog::{self, ProductFilter, SortBy};
use domain::orders::{self, PlaceInput, QueuedLine};
use domain::shop;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::farmer::{CheckoutForm, options_of, order_settings};
use super::{Chrome, Ctx, WebError, WebResult};
use crate::state::{AppState, publish_events};

/// At most this many products go into a village snapshot (a county's whole list fits).
const SNAPSHOT_MAX: u64 = 500;

#[derive(askama::Template)]
#[template(path = "offline.html")]
struct Shell {
    c: Chrome,
}

/// `GET /offline`: the app shell. It holds nothing personal (the service worker keeps it for
/// whoever uses the phone next); the script fills it from the cached village catalog and the
/// outbox on this phone.
pub async fn shell(ctx: Ctx) -> WebResult {
    let mut c = Chrome::new(&ctx, ctx.l("离线浏览", "Offline"), "find");
    // Cached for everyone: no name, no token.
    c.signed_in = true;
    c.user_name = String::new();
    c.csrf = String::new();
    c.acting_for = None;
    c.farmer = false;
    let body = askama::Template::render(&Shell { c })?;
    Ok((
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "Accept-Language, Cookie"),
        ],
        axum::response::Html(body),
    )
        .into_response())
}

/// `GET /app/catalog.json`: what the dealers serving the farmer's village sell, compact, with
/// an ETag so a phone on 2G downloads it again only when it changed.
pub async fn catalog(State(state): State<AppState>, ctx: Ctx, headers: HeaderMap) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let (_, village) = shop::farmer_village(db, actor).await?;
    let Some(village) = village else {
        return Ok(Json(json!({ "village": null, "products": [] })).into_response());
    };
    let found = catalog::search(
        db,
        &ProductFilter {
            village_id: Some(village.id),
            ..Default::default()
        },
        SortBy::NameZh,
        0,
        SNAPSHOT_MAX,
    )
    .await?;
    let ids: Vec<i64> = found.items.iter().map(|p| p.id).collect();
    let offers = shop::village_offers(db, village.id, &ids).await?;
    let uses = catalog::uses_by_products(db, &ids).await?;
    let ferts: BTreeMap<i64, _> = catalog::fertiliser_specs(db, &ids)
        .await?
        .into_iter()
        .map(|f| (f.product_id, f))
        .collect();
    let dealer_ids: Vec<i64> = offers.iter().map(|o| o.dealer.id).collect();
    let dealers: BTreeMap<i64, _> = domain::regions::dealers_by_ids(db, &dealer_ids)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let stations: Vec<_> = domain::regions::stations(db, Some(&[village.id]))
        .await?
        .into_iter()
        .map(|s| json!({ "id": s.id, "zh": s.name_zh, "en": s.name_en, "hours": s.hours }))
        .collect();
    let products: Vec<_> = found
        .items
        .iter()
        .map(|p| {
            let targets: Vec<String> = uses
                .iter()
                .filter(|u| u.product_id == p.id)
                .flat_map(|u| [u.target_zh.clone(), u.target_en.clone(), u.crop.clone()])
                .collect();
            let f = ferts.get(&p.id);
            json!({
                "id": p.id,
                "zh": p.name_zh,
                "en": p.name_en,
                "cat": p.category,
                "reg": p.registration_no,
                "restricted": p.restricted_use,
                "npk": f.map(|f| [f.n_pct, f.p2o5_pct, f.k2o_pct]),
                "words": targets.join(" "),
                "offers": offers.iter().filter(|o| o.sku.product_id == p.id).map(|o| json!({
                    "id": o.offer.id,
                    "dealer": o.dealer.id,
                    "pack": domain::catalog::pack_label(&o.sku),
                    "unit": o.sku.pack_unit,
                    "priceFen": o.offer.price_fen,
                    "available": o.available,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let body = json!({
        "village": { "id": village.id, "zh": village.name_zh, "en": village.name_en },
        "dealers": dealers.values().map(|d| json!({ "id": d.id, "zh": d.name_zh, "en": d.name_en, "phone": d.phone })).collect::<Vec<_>>(),
        "stations": stations,
        "products": products,
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| WebError::Internal(e.to_string()))?;
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..8]));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, etag),
            // Personal (a village's list, for a signed-in farmer): the page's script stores it
            // itself and clears it at sign-out; no shared cache may keep it.
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct QueuedOrder {
    key: String,
    lines: Vec<QueuedLineIn>,
    delivery: String,
    #[serde(default)]
    station: Option<i64>,
    #[serde(default)]
    address: String,
    payment: String,
}

#[derive(Deserialize)]
pub struct QueuedLineIn {
    offer: i64,
    qty: i64,
    #[serde(rename = "priceFen")]
    price_fen: i64,
}

fn refused(reason: String) -> Response {
    // 200 with a state: the order was read and will never be placed as queued; the phone
    // shows the reason and stops resending it.
    Json(json!({ "state": "refused", "reason": reason })).into_response()
}

/// `POST /app/outbox`: a queued order arrives. The CSRF token comes in `X-CSRF-Token` (the
/// page stored it when it last had a session). Answers `placed` with the orders, `refused`
/// with the reason; a 401 means "sign in, then it is sent".
pub async fn outbox(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Json(q): Json<QueuedOrder>,
) -> Response {
    let Some(session) = &ctx.session else {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "state": "queued", "reason": ctx.l("请先登录，登录后自动发送", "Sign in: the order is sent once you are signed in") }))).into_response();
    };
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ctx.check_csrf(token).is_err() {
        return (StatusCode::FORBIDDEN, Json(json!({ "state": "queued", "reason": ctx.l("登录已变更，请重新打开应用", "Your sign-in changed: open the app again") }))).into_response();
    }
    let Some((actor, _)) = session.farmer() else {
        return (StatusCode::FORBIDDEN, Json(json!({ "state": "refused", "reason": ctx.l("只有农户可以下单", "Only farmers can order") }))).into_response();
    };
    let key = q.key.trim();
    if key.is_empty() || key.len() > 64 {
        return refused(
            ctx.l("离线订单编号无效", "The queued order has no valid key")
                .into(),
        );
    }
    let form = CheckoutForm::for_outbox(&q.delivery, q.station, &q.address, &q.payment);
    let opts = match options_of(&form) {
        Ok(o) => o,
        Err(e) => return refused(reason_of(e, &ctx)),
    };
    let lines: Vec<QueuedLine> = q
        .lines
        .iter()
        .map(|l| QueuedLine {
            offer_id: l.offer,
            quantity: l.qty,
            seen_price_fen: l.price_fen,
        })
        .collect();
    let r = orders::place_queued(
        state.db(),
        actor,
        &format!("outbox:{key}"),
        &lines,
        PlaceInput {
            default: opts,
            per_dealer: BTreeMap::new(),
        },
        state.services.payments.as_deref(),
        order_settings(&state),
    )
    .await;
    match r {
        Ok(placed) => {
            publish_events(&state, placed.events).await;
            Json(json!({
                "state": "placed",
                "replayed": placed.replayed,
                "orders": placed.orders.iter().map(|o| json!({ "id": o.id, "url": format!("/orders/{}", o.id) })).collect::<Vec<_>>(),
            }))
            .into_response()
        }
        Err(e @ (domain::Error::Invalid(_) | domain::Error::NotFound { .. })) => {
            refused(reason_of(e, &ctx))
        }
        Err(e) => {
            tracing::error!(error = ?e, "outbox order");
            // Not the order's fault: it stays queued and is sent again later.
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "state": "queued", "reason": ctx.l("服务器暂时无法处理，稍后自动重试", "The server could not take it now; it is sent again later") }))).into_response()
        }
    }
}

fn reason_of(e: domain::Error, ctx: &Ctx) -> String {
    match e {
        domain::Error::Invalid(errs) => errs
            .iter()
            .map(|f| f.message(ctx.lang).to_owned())
            .collect::<Vec<_>>()
            .join("；"),
        domain::Error::NotFound { .. } => {
            ctx.l("商品已不存在", "The product no longer exists").into()
        }
        other => other.message(ctx.lang),
    }
}
