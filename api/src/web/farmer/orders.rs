//! The farmer's orders: the list, an order's page and the status it polls, cancelling.

use crate::web::ctx::{Path, Query};
use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::accounts::Actor;
use domain::orders::{self, DeliveryMode, Status};
use serde::Deserialize;

use crate::state::{AppState, publish_events};
use crate::web::ctx::page;
use crate::web::view::{self, china_time, money};
use crate::web::{Chrome, Ctx, WebError, WebResult};

use super::{OrderRow, order_rows, order_settings};

#[derive(askama::Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    c: Chrome,
    rows: Vec<OrderRow>,
    placed: Vec<i64>,
}

#[derive(Deserialize)]
pub struct OrdersQuery {
    #[serde(default)]
    placed: String,
}

pub async fn orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OrdersQuery>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let list = orders::farmer_orders(state.db(), actor, 100, 0).await?;
    page(&OrdersPage {
        c: Chrome::new(&ctx, ctx.l("我的订单", "My orders"), "orders"),
        rows: order_rows(&state, list, ctx.lang).await?,
        placed: q.placed.split(',').filter_map(|s| s.parse().ok()).collect(),
    })
}

pub struct Step {
    pub words: &'static str,
    pub at: String,
    pub reason: String,
}

#[derive(askama::Template)]
#[template(path = "order.html")]
struct OrderPage {
    c: Chrome,
    id: i64,
    status: String,
    status_words: &'static str,
    updated: String,
    dealer: String,
    dealer_phone: String,
    place: String,
    delivery: &'static str,
    payment: String,
    lines: Vec<(String, String, String)>,
    total: String,
    steps: Vec<Step>,
    can_cancel: bool,
    flag: Option<String>,
    cancel_reason: Option<String>,
    placed_by_other: bool,
}

async fn farmer_order(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<domain::entities::customer_order::Model, WebError> {
    Ok(orders::visible_order(state.db(), actor, id).await?)
}

pub async fn order(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let o = farmer_order(&state, actor, id).await?;
    let d = domain::regions::dealer(db, o.dealer_id).await?;
    let place = match o.delivery_mode {
        DeliveryMode::VillageStation => match o.station_id {
            Some(s) => domain::regions::station(db, s)
                .await?
                .map(|s| {
                    format!(
                        "{} · {} · {}",
                        lang.pick(&s.name_zh, &s.name_en),
                        s.hours,
                        s.phone
                    )
                })
                .unwrap_or_default(),
            None => String::new(),
        },
        DeliveryMode::Home => o.delivery_address.clone().unwrap_or_default(),
        _ => d.address.clone(),
    };
    let lines = orders::lines_of(db, o.id)
        .await?
        .into_iter()
        .map(|l| {
            (
                format!(
                    "{} {}",
                    lang.pick(&l.product_name_zh, &l.product_name_en),
                    l.pack
                ),
                format!("× {}", l.quantity),
                money(l.unit_price_fen * l.quantity),
            )
        })
        .collect();
    let steps = orders::events_of(db, o.id)
        .await?
        .into_iter()
        .map(|e| Step {
            words: view::status_words(e.to_status, lang),
            at: china_time(e.at),
            reason: e.reason,
        })
        .collect();
    page(&OrderPage {
        c: Chrome::new(
            &ctx,
            &format!("{} #{}", lang.pick("订单", "Order"), o.id),
            "orders",
        ),
        id: o.id,
        status_words: view::status_words(o.status, lang),
        updated: o.updated_at.to_rfc3339(),
        dealer: lang.pick(&d.name_zh, &d.name_en).to_owned(),
        dealer_phone: d.phone.clone(),
        place,
        delivery: view::delivery_words(o.delivery_mode, lang),
        payment: format!(
            "{} · {}",
            view::payment_words(o.payment_method, lang),
            view::payment_status_words(o.payment_status, lang)
        ),
        lines,
        total: money(o.total_fen),
        steps,
        can_cancel: o.status == Status::Placed,
        flag: orders::flag_reason(&o, ctx.lang).filter(|_| o.flagged),
        cancel_reason: o
            .cancel_reason
            .clone()
            .filter(|_| o.status == Status::Cancelled),
        placed_by_other: o.placed_by.is_some(),
        status: o.status.to_string(),
    })
}

/// `GET /orders/{id}/status`: what the order page polls to update itself.
pub async fn order_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let o = farmer_order(&state, actor, id).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "status": o.status, "updatedAt": o.updated_at.to_rfc3339() })),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct CancelForm {
    csrf: String,
}

pub async fn order_cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CancelForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    farmer_order(&state, actor, id).await?;
    let r = orders::transition(
        state.db(),
        Some(actor),
        id,
        Status::Cancelled,
        "",
        state.services.payments.as_deref(),
        order_settings(&state),
    )
    .await;
    match r {
        Ok((_, events)) => publish_events(&state, events).await,
        // Already cancelled (a double tap) or moved on by the dealer: the page shows its state.
        Err(domain::Error::IllegalTransition { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}
