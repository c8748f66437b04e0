//! One order at the desk: what it shows (lines, lots, allocations, the actions its state
//! allows), its page, and the forms that move it a step or swap a recalled lot.

use crate::web::ctx::{Path, Query};
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::lots::{LotState, LotStatus};
use domain::orders::desk::{self as dk, DeskOrderDetail};
use domain::orders::{AllocationStatus, Status};
use serde::Deserialize;

use crate::state::{AppState, publish_events};
use crate::web::account::messages;
use crate::web::ctx::{claim, finish, page, random_token};
use crate::web::dealer::Console;
use crate::web::farmer::order_settings;
use crate::web::view::{self, china_time, money};
use crate::web::{Chrome, Ctx, WebError, WebResult};

use super::{delivery_of, desk_status, one_lang, payment_of, village_of};

pub struct AllocView {
    pub lot_no: String,
    pub location: String,
    pub quantity: i64,
    pub on_hand: i64,
    pub status: &'static str,
    pub expires: String,
    pub bad: bool,
    /// Still part of the order (reserved or sold, not released by a swap or cancellation).
    pub held: bool,
}

pub struct LineView {
    pub id: i64,
    pub product: String,
    pub pack: String,
    pub quantity: i64,
    pub price: String,
    pub amount: String,
    pub allocs: Vec<AllocView>,
    pub codes_to_scan: i64,
    pub swappable: bool,
    pub swap_key: String,
}

pub struct Action {
    pub to: &'static str,
    pub words: &'static str,
    pub key: String,
    pub warn: bool,
}

pub struct Step {
    pub words: String,
    pub at: String,
    pub reason: String,
}

pub struct BadLot {
    pub lot_no: String,
    pub product: String,
    pub reason: String,
    pub recalled: bool,
}

/// What the order page, the pick list and the delivery note all show.
pub struct OrderView {
    pub id: i64,
    pub status: String,
    pub status_words: String,
    pub farmer: String,
    pub phone: String,
    pub village: String,
    pub delivery: String,
    pub payment: String,
    pub total: String,
    pub placed: String,
    pub crop: String,
    pub note: String,
    pub warnings: Vec<String>,
    pub cancel_reason: Option<String>,
    pub lines: Vec<LineView>,
    pub bad_lots: Vec<BadLot>,
    pub dealer: String,
    pub dealer_phone: String,
    pub dealer_address: String,
    pub printed: String,
}

fn alloc_status(s: AllocationStatus, lang: Lang) -> &'static str {
    let (zh, en) = match s {
        AllocationStatus::Reserved => ("已预留", "reserved"),
        AllocationStatus::Sold => ("已售出", "sold"),
        AllocationStatus::Released => ("已释放", "released"),
    };
    lang.pick(zh, en)
}

pub(super) fn order_view(d: &DeskOrderDetail, lang: Lang) -> OrderView {
    let o = &d.head.order;
    let lines = d
        .lines
        .iter()
        .map(|l| LineView {
            id: l.line.id,
            product: lang
                .pick(&l.line.product_name_zh, &l.line.product_name_en)
                .to_owned(),
            pack: l.line.pack.clone(),
            quantity: l.line.quantity,
            price: money(l.line.unit_price_fen),
            amount: money(l.line.unit_price_fen * l.line.quantity),
            allocs: l
                .allocations
                .iter()
                .map(|a| AllocView {
                    lot_no: a.lot.lot_no.clone(),
                    location: lang
                        .pick(&a.location.name_zh, &a.location.name_en)
                        .to_owned(),
                    quantity: a.allocation.quantity,
                    on_hand: a.on_hand,
                    status: alloc_status(a.allocation.status, lang),
                    expires: a.lot.expires_on.to_string(),
                    bad: a.allocation.status == AllocationStatus::Reserved
                        && a.disposition != LotState::Sellable,
                    held: a.allocation.status != AllocationStatus::Released,
                })
                .collect(),
            codes_to_scan: l.codes_to_scan,
            swappable: l.swappable,
            swap_key: random_token(),
        })
        .collect();
    let bad_lots = d
        .bad_lots
        .iter()
        .map(|l| {
            let product = d
                .lines
                .iter()
                .find(|x| x.allocations.iter().any(|a| a.lot.id == l.id))
                .map(|x| {
                    format!(
                        "{} {}",
                        lang.pick(&x.line.product_name_zh, &x.line.product_name_en),
                        x.line.pack
                    )
                })
                .unwrap_or_default();
            BadLot {
                lot_no: l.lot_no.clone(),
                product,
                reason: l.status_reason.clone().unwrap_or_default(),
                recalled: l.status == LotStatus::Recalled,
            }
        })
        .collect();
    OrderView {
        id: o.id,
        status_words: desk_status(o.status, lang),
        farmer: d.head.farmer_name.clone(),
        phone: d.head.farmer_phone.clone(),
        village: village_of(&d.head, lang),
        delivery: delivery_of(&d.head, lang),
        payment: payment_of(&d.head, lang),
        total: money(o.total_fen),
        placed: china_time(o.placed_at),
        crop: match (&o.crop, &o.target) {
            (Some(c), Some(t)) => format!("{} / {t}", view::crop_words(c, lang)),
            (Some(c), None) => view::crop_words(c, lang),
            _ => String::new(),
        },
        note: o.note.clone(),
        warnings: domain::orders::warnings(o, lang),
        cancel_reason: o
            .cancel_reason
            .clone()
            .filter(|_| matches!(o.status, Status::Cancelled | Status::Expired)),
        lines,
        bad_lots,
        dealer: lang.pick(&d.dealer.name_zh, &d.dealer.name_en).to_owned(),
        dealer_phone: d.dealer.phone.clone(),
        dealer_address: d.dealer.address.clone(),
        printed: china_time(domain::now()),
        status: o.status.to_string(),
    }
}

fn action_words(to: Status, lang: Lang) -> &'static str {
    let (zh, en) = match to {
        Status::Confirmed => ("确认订单", "Confirm the order"),
        Status::ReadyForPickup => ("已备好，通知取货", "Ready: tell the farmer to collect"),
        Status::OutForDelivery => ("出发配送", "Out for delivery"),
        Status::Delivered => ("交货", "Hand over"),
        Status::Completed => ("完成订单", "Complete the order"),
        Status::Cancelled => ("拒绝 / 取消订单", "Refuse / cancel the order"),
        _ => ("", ""),
    };
    lang.pick(zh, en)
}

#[derive(askama::Template)]
#[template(path = "dealer/desk_order.html")]
struct OrderPage {
    c: Chrome,
    o: OrderView,
    actions: Vec<Action>,
    hand_over: Option<String>,
    cancel: Option<String>,
    codes_needed: bool,
    steps: Vec<Step>,
    errors: Vec<String>,
    notice: Option<String>,
    codes: String,
    reason: String,
}

struct Shown {
    errors: Vec<String>,
    notice: Option<String>,
    codes: String,
    reason: String,
}

async fn order_page(state: &AppState, ctx: &Ctx, id: i64, shown: Shown) -> WebResult {
    let lang = ctx.lang;
    let con = Console::open(
        state,
        ctx,
        &format!("{} #{id}", lang.pick("订单", "Order")),
        "desk",
    )
    .await?;
    let d = dk::desk_order(state.db(), con.actor(), id).await?;
    let o = order_view(&d, lang);
    let mut actions = Vec::new();
    let mut hand_over = None;
    let mut cancel = None;
    for to in &d.next {
        match to {
            Status::Delivered => hand_over = Some(random_token()),
            Status::Cancelled => cancel = Some(random_token()),
            _ => actions.push(Action {
                to: to.as_str(),
                words: action_words(*to, lang),
                key: random_token(),
                warn: false,
            }),
        }
    }
    let steps = d
        .events
        .iter()
        .map(|e| Step {
            words: if e.from_status == Some(e.to_status) {
                lang.pick("更换批次", "Lot swapped").to_owned()
            } else {
                desk_status(e.to_status, lang)
            },
            at: china_time(e.at),
            reason: one_lang(&e.reason, lang),
        })
        .collect();
    page(&OrderPage {
        c: con.c,
        codes_needed: o.lines.iter().any(|l| l.codes_to_scan > 0),
        o,
        actions,
        hand_over,
        cancel,
        steps,
        errors: shown.errors,
        notice: shown.notice,
        codes: shown.codes,
        reason: shown.reason,
    })
}

#[derive(Deserialize, Default)]
pub struct OrderQuery {
    #[serde(default)]
    done: String,
}

fn done_words(done: &str, lang: Lang) -> Option<String> {
    let (zh, en) = match done {
        "CONFIRMED" => ("订单已确认", "Order confirmed"),
        "READY_FOR_PICKUP" => ("已标记为待取货", "Marked ready to collect"),
        "OUT_FOR_DELIVERY" => ("已标记为配送中", "Marked out for delivery"),
        "DELIVERED" => (
            "已交货，销售已记入台账",
            "Handed over: the sale is in the ledger",
        ),
        "COMPLETED" => ("订单已完成", "Order completed"),
        "CANCELLED" => (
            "订单已取消，库存已释放",
            "Order cancelled: its stock is released",
        ),
        "swapped" => ("批次已更换", "Lot swapped"),
        _ => return None,
    };
    Some(lang.pick(zh, en).to_owned())
}

pub async fn order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<OrderQuery>,
) -> WebResult {
    let notice = done_words(&q.done, ctx.lang);
    order_page(
        &state,
        &ctx,
        id,
        Shown {
            errors: vec![],
            notice,
            codes: String::new(),
            reason: String::new(),
        },
    )
    .await
}

/// Runs a state-changing form once per form key: a repeat with the same key goes where the
/// first went; a failure frees the key and shows the order page again with the messages and
/// what was typed.
async fn once(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    key: &str,
    done: String,
    typed: (String, String),
    action: impl Future<Output = domain::Result<Vec<domain::events::DomainEvent>>>,
) -> WebResult {
    let session = ctx.signed_in()?;
    if let Err(first) = claim(state, session, key, &format!("/dealer/orders/{id}")).await? {
        return Ok(first);
    }
    match action.await {
        Ok(events) => {
            publish_events(state, events).await;
            finish(state, session, key, Some(&done)).await?;
            Ok(Redirect::to(&done).into_response())
        }
        Err(e) => {
            finish(state, session, key, None).await?;
            let errors = match e {
                domain::Error::IllegalTransition { .. } => vec![
                    ctx.l(
                        "订单状态已变化，不能这样操作：请看当前状态",
                        "The order has moved on and cannot do that now: see its state below",
                    )
                    .to_owned(),
                ],
                e => messages(e, ctx)?,
            };
            order_page(
                state,
                ctx,
                id,
                Shown {
                    errors,
                    notice: None,
                    codes: typed.0,
                    reason: typed.1,
                },
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    to: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    codes: String,
}

/// `POST /dealer/orders/{id}/move`: one step of the order (the domain decides which are
/// allowed); `codes` are the unit codes scanned at the hand-over, one per line.
pub async fn move_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let session = ctx.dealer()?;
    let to = Status::parse(&f.to).ok_or(WebError::Refused {
        zh: "未知的订单状态",
        en: "Unknown order status.",
    })?;
    let codes: Vec<String> = f
        .codes
        .split(['\n', '\r', ',', ' ', '\t'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let done = format!("/dealer/orders/{id}?done={}", to.as_str());
    let typed = (f.codes.clone(), f.reason.clone());
    once(&state, &ctx, id, &f.idem, done, typed, async {
        domain::orders::transition_with_codes(
            state.db(),
            Some(&session.actor),
            id,
            to,
            &f.reason,
            &codes,
            state.services.payments.as_deref(),
            order_settings(&state),
        )
        .await
        .map(|(_, events)| events)
    })
    .await
}

#[derive(Deserialize)]
pub struct SwapForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    line: i64,
}

/// `POST /dealer/orders/{id}/swap`: swaps a line's recalled (or otherwise unsellable) lot for
/// sellable stock of the same pack.
pub async fn swap(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<SwapForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let session = ctx.dealer()?;
    let done = format!("/dealer/orders/{id}?done=swapped");
    once(
        &state,
        &ctx,
        id,
        &f.idem,
        done,
        (String::new(), String::new()),
        async {
            dk::reallocate_line(
                state.db(),
                &session.actor,
                id,
                f.line,
                order_settings(&state),
            )
            .await
            .map(|(_, events)| events)
        },
    )
    .await
}
