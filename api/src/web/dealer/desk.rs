//! The dealer console's order desk: the orders (new first) with who ordered them, one order
//! with its lots and the actions its state allows (confirm, refuse with a reason, ready or out
//! for delivery, hand over scanning unit codes, complete), the swap of a recalled lot, the pick
//! list and the delivery note to print, and the live counters of the menu.
//!
//! One order (its view, page, moves and swaps) is the part `order`; the list, the print pages
//! and the live counters stay here.

pub mod order;

use order::{OrderView, move_order, order, order_view, swap};

use crate::web::ctx::{Path, Query};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::Lang;
use domain::orders::desk::{self as dk, DeskOrder};
use domain::orders::{DeliveryMode, Status};
use serde::Deserialize;

use super::Console;
use crate::state::AppState;
use crate::web::ctx::page;
use crate::web::farmer::order_settings;
use crate::web::view::{self, china_time, money};
use crate::web::{Chrome, Ctx, WebError, WebResult};

/// Stock expiring within this many days counts as an alert in the menu (as the daily
/// NEAR_EXPIRY alert does).
const NEAR_EXPIRY_DAYS: i64 = 30;

// ---------------------------------------------------------------- the list

pub struct Row {
    pub id: i64,
    pub status: String,
    pub status_words: String,
    pub is_new: bool,
    pub farmer: String,
    pub phone: String,
    pub village: String,
    pub lines: Vec<String>,
    pub delivery: String,
    pub payment: String,
    pub total: String,
    pub placed: String,
    pub flag: Option<String>,
}

fn village_of(o: &DeskOrder, lang: Lang) -> String {
    o.village
        .as_ref()
        .map(|v| lang.pick(&v.name_zh, &v.name_en).to_owned())
        .unwrap_or_default()
}

fn delivery_of(o: &DeskOrder, lang: Lang) -> String {
    let mode = view::delivery_words(o.order.delivery_mode, lang);
    match o.order.delivery_mode {
        DeliveryMode::VillageStation => match &o.station {
            Some(s) => format!(
                "{mode}{}{}",
                lang.pick("：", ": "),
                lang.pick(&s.name_zh, &s.name_en)
            ),
            None => mode.to_owned(),
        },
        DeliveryMode::Home => format!(
            "{mode}{}{}",
            lang.pick("：", ": "),
            o.order.delivery_address.clone().unwrap_or_default()
        ),
        _ => mode.to_owned(),
    }
}

fn payment_of(o: &DeskOrder, lang: Lang) -> String {
    format!(
        "{} · {}",
        view::payment_words(o.order.payment_method, lang),
        view::payment_status_words(o.order.payment_status, lang)
    )
}

fn line_words(l: &domain::entities::order_line::Model, lang: Lang) -> String {
    format!(
        "{} {} × {}",
        lang.pick(&l.product_name_zh, &l.product_name_en),
        l.pack,
        l.quantity
    )
}

/// The desk's short words for a state (the farmer's words speak to the farmer).
fn desk_status(s: Status, lang: Lang) -> String {
    let (zh, en) = s.words();
    lang.pick(zh, &crate::web::view::capitalised(en)).to_owned()
}

fn one_lang(s: &str, lang: Lang) -> String {
    lang.pick_stored(s)
}

fn row(o: &DeskOrder, lang: Lang) -> Row {
    Row {
        id: o.order.id,
        status_words: desk_status(o.order.status, lang),
        is_new: o.order.status == Status::Placed,
        farmer: o.farmer_name.clone(),
        phone: o.farmer_phone.clone(),
        village: village_of(o, lang),
        lines: o.lines.iter().map(|l| line_words(l, lang)).collect(),
        delivery: delivery_of(o, lang),
        payment: payment_of(o, lang),
        total: money(o.order.total_fen),
        placed: china_time(o.order.placed_at),
        flag: o
            .order
            .flag_reason
            .as_deref()
            .filter(|_| o.order.flagged)
            .map(|f| one_lang(f, lang)),
        status: o.order.status.to_string(),
    }
}

pub struct Choice {
    pub value: &'static str,
    pub words: String,
}

#[derive(askama::Template)]
#[template(path = "dealer/desk.html")]
struct DeskPage {
    c: Chrome,
    rows: Vec<Row>,
    status: String,
    flagged: bool,
    choices: Vec<Choice>,
}

#[derive(Deserialize, Default)]
pub struct DeskQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    flagged: String,
}

pub async fn desk(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DeskQuery>,
) -> WebResult {
    let con = Console::open(&state, &ctx, ctx.l("订单", "Orders"), "desk").await?;
    let lang = ctx.lang;
    let status = if q.status.is_empty() {
        "open".to_owned()
    } else {
        q.status.clone()
    };
    let statuses: Vec<Status> = match status.as_str() {
        "open" => Status::ALL
            .iter()
            .copied()
            .filter(|s| s.holds_stock())
            .collect(),
        "all" => vec![],
        s => match Status::parse(s) {
            Some(s) => vec![s],
            None => {
                return Err(WebError::Refused {
                    zh: "未知的订单状态",
                    en: "Unknown order status.",
                });
            }
        },
    };
    let flagged = q.flagged == "1";
    let orders = dk::desk_orders(
        state.db(),
        con.actor(),
        con.dealer_id(),
        &statuses,
        flagged,
        300,
    )
    .await?;
    let mut choices = vec![
        Choice {
            value: "open",
            words: lang.pick("未完成", "Open").to_owned(),
        },
        Choice {
            value: "all",
            words: lang.pick("全部", "All").to_owned(),
        },
    ];
    choices.extend(Status::ALL.iter().map(|&s| Choice {
        value: s.as_str(),
        words: desk_status(s, lang),
    }));
    page(&DeskPage {
        rows: orders.iter().map(|o| row(o, lang)).collect(),
        c: con.c,
        status,
        flagged,
        choices,
    })
}

// ---------------------------------------------------------------- print pages

#[derive(askama::Template)]
#[template(path = "dealer/desk_pick.html")]
struct PickPage {
    c: Chrome,
    o: OrderView,
}

#[derive(askama::Template)]
#[template(path = "dealer/desk_note.html")]
struct NotePage {
    c: Chrome,
    o: OrderView,
}

async fn print_view(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    zh: &str,
    en: &str,
) -> Result<(Chrome, OrderView), WebError> {
    let lang = ctx.lang;
    let con = Console::open(state, ctx, &format!("{} #{id}", lang.pick(zh, en)), "desk").await?;
    let d = dk::desk_order(state.db(), con.actor(), id).await?;
    Ok((con.c, order_view(&d, lang)))
}

/// `GET /dealer/orders/{id}/pick`: the pick list (lines, lots, where they lie, shelf counts).
pub async fn pick(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let (c, o) = print_view(&state, &ctx, id, "拣货单", "Pick list").await?;
    page(&PickPage { c, o })
}

/// `GET /dealer/orders/{id}/note`: the delivery note with a line to sign.
pub async fn note(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let (c, o) = print_view(&state, &ctx, id, "送货单", "Delivery note").await?;
    page(&NotePage { c, o })
}

// ---------------------------------------------------------------- live counters

/// `GET /dealer/live.json`: new orders, stock alerts and the newest order id, for the menu's
/// light poll.
pub async fn live(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let session = ctx.dealer()?;
    let dealer_id = session.actor.dealer_id.ok_or(WebError::Forbidden)?;
    let l = dk::desk_live(
        state.db(),
        &session.actor,
        dealer_id,
        order_settings(&state).low_stock_threshold,
        NEAR_EXPIRY_DAYS,
    )
    .await?;
    Ok((
        [
            (axum::http::header::CACHE_CONTROL, "no-store"),
            (axum::http::header::VARY, "Cookie"),
        ],
        Json(l),
    )
        .into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dealer", get(desk))
        .route("/dealer/live.json", get(live))
        .route("/dealer/orders/{id}", get(order))
        .route("/dealer/orders/{id}/move", post(move_order))
        .route("/dealer/orders/{id}/swap", post(swap))
        .route("/dealer/orders/{id}/pick", get(pick))
        .route("/dealer/orders/{id}/note", get(note))
}
