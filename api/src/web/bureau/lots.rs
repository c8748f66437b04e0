//! Trace and act: `GET /bureau` finds the lot behind any code (typed, or read by a handheld
//! scanner or the camera); `GET /bureau/lots/{id}` is the lot's page (product, producer, dates,
//! inspections, chain of custody, holders, buyers, the hash chain's check, and a recall's
//! progress); hold and release are forms on it, a recall first shows whom it will reach
//! (`GET /bureau/lots/{id}/recall`) and then is done (`POST`); the recall report is a printable
//! page and a CSV; `GET /bureau/recalls` lists the lots on hold and recalled.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::bureau::lots::{self as bl, Dossier, Lookup, Reach};
use domain::types::LotStatus;
use serde::Deserialize;

use super::Desk;
use crate::state::{AppState, publish_events};
use crate::web::account::messages;
use crate::web::ctx::{Path, Query, claim, finish, page, random_token, refused};
use crate::web::view::china_time;
use crate::web::{Chrome, Ctx, WebResult};

/// A lot in a list (search matches, holds and recalls).
pub struct HitRow {
    pub id: i64,
    pub product: String,
    pub lot_no: String,
    pub trace_code: String,
    pub dates: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub reason: String,
    pub since: String,
    pub units_out: String,
}

fn status_of(s: LotStatus, lang: Lang) -> (&'static str, &'static str) {
    let (zh, en) = s.words();
    let class = match s {
        LotStatus::Active => "ok",
        LotStatus::OnHold => "warn",
        LotStatus::Recalled => "out",
    };
    (lang.pick(zh, en), class)
}

fn hit_row(h: &bl::LotHit, lang: Lang) -> HitRow {
    let (status, status_class) = status_of(h.status, lang);
    HitRow {
        id: h.lot_id,
        product: format!("{} {}", lang.pick(&h.product_zh, &h.product_en), h.pack),
        lot_no: h.lot_no.clone(),
        trace_code: h.trace_code.clone(),
        dates: format!(
            "{} {} · {} {}",
            lang.pick("生产", "made"),
            h.produced_on,
            lang.pick("有效期至", "use by"),
            h.expires_on
        ),
        status,
        status_class,
        reason: String::new(),
        since: String::new(),
        units_out: String::new(),
    }
}

#[derive(askama::Template)]
#[template(path = "bureau/search.html")]
struct SearchPage {
    c: Chrome,
    code: String,
    searched: bool,
    hits: Vec<HitRow>,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    code: String,
}

/// `GET /bureau?code=…`: one lot opens its page; a product-level code lists its lots.
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> WebResult {
    let desk = Desk::open(&state, &ctx, ctx.l("追溯查询", "Trace a code"), "trace").await?;
    let code = q.code.trim().to_owned();
    let found = if code.is_empty() {
        None
    } else {
        Some(bl::find(state.db(), desk.actor(), &code).await?)
    };
    let hits = match &found {
        Some(Lookup::Lot(id)) => {
            return Ok(Redirect::to(&format!("/bureau/lots/{id}")).into_response());
        }
        Some(Lookup::Many(h)) => h.iter().map(|h| hit_row(h, ctx.lang)).collect(),
        _ => vec![],
    };
    let nothing = matches!(found, Some(Lookup::Nothing));
    let mut r = page(&SearchPage {
        c: desk.c,
        searched: found.is_some(),
        code,
        hits,
    })?;
    if nothing {
        *r.status_mut() = StatusCode::NOT_FOUND;
    }
    Ok(r)
}

#[derive(askama::Template)]
#[template(path = "bureau/recalls.html")]
struct WithdrawnPage {
    c: Chrome,
    rows: Vec<HitRow>,
}

/// `GET /bureau/recalls`: the lots on hold and recalled, latest first, with what is still out.
pub async fn withdrawn(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let desk = Desk::open(
        &state,
        &ctx,
        ctx.l("暂停与召回", "Holds and recalls"),
        "recalls",
    )
    .await?;
    let rows = bl::withdrawn(state.db(), desk.actor())
        .await?
        .iter()
        .map(|w| HitRow {
            reason: w.reason.clone().unwrap_or_default(),
            since: w.since.map(china_time).unwrap_or_default(),
            units_out: w.units_out.to_string(),
            ..hit_row(&w.hit, ctx.lang)
        })
        .collect();
    page(&WithdrawnPage { c: desk.c, rows })
}

pub struct Row3 {
    pub a: String,
    pub b: String,
    pub c: String,
}

pub struct HolderRow {
    pub dealer: String,
    pub phone: String,
    pub place: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub in_transit: i64,
}

pub struct BuyerRow {
    pub name: String,
    pub phone: String,
    pub village: String,
    pub dealer: String,
    pub quantity: i64,
    pub at: String,
    pub account: bool,
}

/// The parts of a lot's page and report that both show.
pub struct LotView {
    pub id: i64,
    pub product: String,
    pub registration: String,
    pub producer: String,
    pub lot_no: String,
    pub trace_code: String,
    pub produced_on: String,
    pub expires_on: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub status_reason: String,
    pub status_at: String,
    pub inspection: String,
    pub inspections: Vec<Row3>,
    pub custody: Vec<Row3>,
    pub holders: Vec<HolderRow>,
    pub buyers: Vec<BuyerRow>,
    pub upstream: Vec<Row3>,
    pub chain_ok: bool,
    pub chain: String,
    pub held_total: i64,
    pub sold_total: i64,
    /// After a recall: what is still out there and who has read the notice.
    pub progress: Vec<(String, String)>,
    pub ordered_by: String,
    pub recalled: bool,
    pub on_hold: bool,
}

fn lot_view(d: &Dossier, lang: Lang) -> LotView {
    let t = &d.public;
    let r = &d.report;
    let (status, status_class) = status_of(d.status, lang);
    let pick = |zh: &str, en: &str| lang.pick(zh, en).to_owned();
    let opt = |zh: &Option<String>, en: &Option<String>| {
        match lang {
            Lang::Zh => zh.clone(),
            Lang::En => en.clone(),
        }
        .unwrap_or_default()
    };
    let inspection = match (&t.inspection_result, &t.inspection_report_no) {
        (Some(res), no) => format!(
            "{} · {} {} {}",
            match res {
                domain::types::InspectionResult::Conformant => pick("合格", "conformant"),
                domain::types::InspectionResult::NonConformant => pick("不合格", "non-conformant"),
            },
            no.as_deref().unwrap_or_default(),
            t.inspection_lab.as_deref().unwrap_or_default(),
            t.inspection_date.map(|d| d.to_string()).unwrap_or_default()
        ),
        (None, _) => pick("未录入", "not recorded"),
    };
    let progress = d
        .progress
        .as_ref()
        .map(|p| {
            vec![
                (
                    pick("仍在货架上", "Still on shelves"),
                    format!("{} {}", p.on_shelves, pick("件", "units")),
                ),
                (
                    pick("在途", "In transit"),
                    format!("{} {}", p.in_transit, pick("件", "units")),
                ),
                (
                    pick("已售给农户", "Sold to buyers"),
                    format!("{} {}", p.units_sold, pick("件", "units")),
                ),
                (
                    pick(
                        "已通知的购买人账号（已读）",
                        "Buyer accounts notified (read)",
                    ),
                    format!("{} ({})", p.buyer_accounts, p.buyers_read),
                ),
                (
                    pick(
                        "已通知的经销商账号（已读）",
                        "Dealer accounts notified (read)",
                    ),
                    format!("{} ({})", p.dealer_accounts, p.dealers_read),
                ),
                (
                    pick("无法通知的柜台散客", "Counter sales nobody can notify"),
                    format!(
                        "{} ({} {})",
                        p.anonymous_sales,
                        pick("留了电话：", "with a phone:"),
                        p.anonymous_with_phone
                    ),
                ),
            ]
        })
        .unwrap_or_default();
    LotView {
        id: r.lot.id,
        product: format!("{} {}", pick(&t.product_zh, &t.product_en), t.pack),
        registration: t.registration_no.clone().unwrap_or_default(),
        producer: format!(
            "{}{}",
            pick(&t.producer_zh, &t.producer_en),
            t.producer_licence
                .as_deref()
                .map(|l| format!(" · {l}"))
                .unwrap_or_default()
        ),
        lot_no: r.lot.lot_no.clone(),
        trace_code: r.lot.trace_code.clone(),
        produced_on: t.produced_on.to_string(),
        expires_on: t.expires_on.to_string(),
        status,
        status_class,
        status_reason: d.status_reason.clone().unwrap_or_default(),
        status_at: d.status_at.map(china_time).unwrap_or_default(),
        inspection,
        inspections: d
            .inspections
            .iter()
            .map(|i| Row3 {
                a: china_time(i.at),
                b: if i.conformant {
                    pick("合格", "conformant")
                } else {
                    pick("不合格", "non-conformant")
                },
                c: i.note.clone(),
            })
            .collect(),
        custody: t
            .custody
            .iter()
            .map(|s| Row3 {
                a: china_time(s.occurred_at),
                b: {
                    let (zh, en) = s.biz_step.words();
                    format!(
                        "{}{}",
                        lang.pick(zh, en),
                        if s.corrected {
                            pick("（已更正）", " (corrected)")
                        } else {
                            String::new()
                        }
                    )
                },
                c: format!("{} · {}", opt(&s.place_zh, &s.place_en), s.quantity),
            })
            .collect(),
        holders: r
            .holders
            .iter()
            .map(|h| HolderRow {
                dealer: pick(&h.dealer_zh, &h.dealer_en),
                phone: h.dealer_phone.clone(),
                place: pick(&h.location_zh, &h.location_en),
                on_hand: h.on_hand,
                reserved: h.reserved,
                in_transit: h.in_transit,
            })
            .collect(),
        buyers: r
            .buyers
            .iter()
            .map(|b| BuyerRow {
                name: b
                    .name
                    .clone()
                    .unwrap_or_else(|| pick("（未留姓名）", "(no name given)")),
                phone: b.phone.clone().unwrap_or_default(),
                village: opt(&b.village_zh, &b.village_en),
                dealer: pick(&b.dealer_zh, &b.dealer_en),
                quantity: b.quantity,
                at: china_time(b.sold_at),
                account: b.user_id.is_some(),
            })
            .collect(),
        upstream: r
            .backward
            .iter()
            .map(|u| Row3 {
                a: china_time(u.occurred_at),
                b: pick(&u.party_zh, &u.party_en),
                c: format!(
                    "{} · {} {}",
                    u.quantity,
                    u.licence.as_deref().unwrap_or_default(),
                    u.document.as_deref().unwrap_or_default()
                ),
            })
            .collect(),
        chain_ok: d.verification.ok,
        chain: if d.verification.ok {
            format!(
                "{} {} {}",
                pick("哈希链完整：已核对", "Hash chain intact:"),
                d.verification.events_checked,
                pick("条记录", "events checked")
            )
        } else {
            format!(
                "{} {} · {}",
                pick(
                    "哈希链断裂，第一个有问题的记录：",
                    "Hash chain broken at event"
                ),
                d.verification.first_bad_seq.unwrap_or_default(),
                d.verification.reason.as_deref().unwrap_or_default()
            )
        },
        held_total: r.holders.iter().map(|h| h.on_hand + h.in_transit).sum(),
        sold_total: r.buyers.iter().map(|b| b.quantity).sum(),
        progress,
        ordered_by: d
            .progress
            .as_ref()
            .and_then(|p| p.ordered_by.clone())
            .unwrap_or_default(),
        recalled: d.status == LotStatus::Recalled,
        on_hold: d.status == LotStatus::OnHold,
    }
}

/// Whom an action reaches, in one sentence for the confirmation.
fn reach_words(r: &Reach, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!(
            "将通知 {} 家经销商（持有点 {} 个，共 {} 件在库或在途）和 {} 位有账号的购买人，共 {} 个账号；另有 {} 笔柜台散客销售无法在系统内通知（其中 {} 笔留了电话）。",
            r.dealers,
            r.holders,
            r.units_held,
            r.buyers_notified,
            r.accounts,
            r.anonymous_sales,
            r.anonymous_with_phone
        ),
        Lang::En => format!(
            "This notifies {} dealer(s) ({} holding place(s), {} unit(s) on hand or in transit) and {} buyer(s) with an account: {} account(s) in all. {} counter sale(s) to buyers without an account cannot be notified here ({} with a phone number).",
            r.dealers,
            r.holders,
            r.units_held,
            r.buyers_notified,
            r.accounts,
            r.anonymous_sales,
            r.anonymous_with_phone
        ),
    }
}

#[derive(askama::Template)]
#[template(path = "bureau/lot.html")]
struct LotPage {
    c: Chrome,
    v: LotView,
    reach: String,
    done: String,
    errors: Vec<String>,
    reason: String,
    idem: String,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

async fn render_lot(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    done: &str,
    errors: Vec<String>,
    reason: String,
) -> WebResult {
    let mut desk = Desk::open(state, ctx, "", "trace").await?;
    let d = bl::dossier(state.db(), desk.actor(), id).await?;
    let v = lot_view(&d, ctx.lang);
    desk.c.title = format!("{} {}", v.product, v.lot_no);
    let done = match done {
        "held" => ctx.l(
            "已暂停销售：所有持有点都不能再卖这一批。",
            "Put on hold: no holder can sell this lot now.",
        ),
        "released" => ctx.l(
            "已解除暂停：这一批可以重新销售。",
            "Released: this lot may be sold again.",
        ),
        "recalled" => ctx.l(
            "已召回：持有人和购买人已收到通知。",
            "Recalled: holders and buyers have been notified.",
        ),
        _ => "",
    };
    page(&LotPage {
        c: desk.c,
        reach: reach_words(&d.reach, ctx.lang),
        v,
        done: done.to_owned(),
        errors,
        reason,
        idem: random_token(),
    })
}

/// `GET /bureau/lots/{id}`.
pub async fn lot(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    render_lot(&state, &ctx, id, &q.done, vec![], String::new()).await
}

#[derive(Deserialize)]
pub struct ActForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    reason: String,
}

enum Act {
    Hold,
    Release,
    Recall,
}

async fn act(state: AppState, ctx: Ctx, id: i64, form: ActForm, what: Act) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "trace").await?;
    let back = format!("/bureau/lots/{id}");
    if let Err(done) = claim(&state, desk.session, &form.idem, &back).await? {
        return Ok(done);
    }
    let db = state.db();
    let result = match what {
        Act::Hold | Act::Release => domain::lots::set_hold(
            db,
            desk.actor(),
            id,
            matches!(what, Act::Hold),
            &form.reason,
        )
        .await
        .map(|(_, ev)| {
            (
                ev,
                if matches!(what, Act::Hold) {
                    "held"
                } else {
                    "released"
                },
            )
        }),
        Act::Recall => domain::workflows::recall(db, desk.actor(), id, &form.reason)
            .await
            .map(|(_, ev)| (ev, "recalled")),
    };
    match result {
        Ok((events, done)) => {
            publish_events(&state, events).await;
            let url = format!("/bureau/lots/{id}?done={done}");
            finish(&state, desk.session, &form.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, desk.session, &form.idem, None).await?;
            let errors = messages(e, &ctx)?;
            let page = match what {
                Act::Recall => render_confirm(&state, &ctx, id, errors, form.reason).await,
                _ => render_lot(&state, &ctx, id, "", errors, form.reason).await,
            };
            refused(page)
        }
    }
}

/// `POST /bureau/lots/{id}/hold` (one-shot), with a reason.
pub async fn hold(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ActForm>,
) -> WebResult {
    act(state, ctx, id, form, Act::Hold).await
}

/// `POST /bureau/lots/{id}/release` (one-shot), with a reason.
pub async fn release(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ActForm>,
) -> WebResult {
    act(state, ctx, id, form, Act::Release).await
}

/// `POST /bureau/lots/{id}/recall` (one-shot), with a reason, from the confirmation page.
pub async fn recall(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ActForm>,
) -> WebResult {
    act(state, ctx, id, form, Act::Recall).await
}

#[derive(askama::Template)]
#[template(path = "bureau/recall_confirm.html")]
struct ConfirmPage {
    c: Chrome,
    v: LotView,
    reach: Reach,
    reach_words: String,
    errors: Vec<String>,
    reason: String,
    idem: String,
}

async fn render_confirm(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    errors: Vec<String>,
    reason: String,
) -> WebResult {
    let desk = Desk::open(state, ctx, ctx.l("确认召回", "Confirm the recall"), "trace").await?;
    let d = bl::dossier(state.db(), desk.actor(), id).await?;
    page(&ConfirmPage {
        c: desk.c,
        v: lot_view(&d, ctx.lang),
        reach_words: reach_words(&d.reach, ctx.lang),
        reach: d.reach,
        errors,
        reason,
        idem: random_token(),
    })
}

/// `GET /bureau/lots/{id}/recall`: whom the recall will reach, the reason, and the button.
pub async fn recall_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult {
    render_confirm(&state, &ctx, id, vec![], String::new()).await
}

#[derive(askama::Template)]
#[template(path = "bureau/report.html")]
struct ReportPage {
    c: Chrome,
    v: LotView,
    generated: String,
}

/// `GET /bureau/lots/{id}/report`: the recall report to read, print or download.
pub async fn report(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let desk = Desk::open(&state, &ctx, ctx.l("召回报告", "Recall report"), "recalls").await?;
    let d = bl::dossier(state.db(), desk.actor(), id).await?;
    page(&ReportPage {
        c: desk.c,
        v: lot_view(&d, ctx.lang),
        generated: china_time(domain::now()),
    })
}

/// `GET /bureau/lots/{id}/report.csv`: the same report as the REST route's CSV.
pub async fn report_csv(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let desk = Desk::open(&state, &ctx, "", "recalls").await?;
    let d = bl::dossier(state.db(), desk.actor(), id).await?;
    Ok(crate::rest::csv::csv_response(
        crate::rest::csv::recall_to_csv(&d, ctx.lang),
        &format!("recall-{}-{}.csv", d.report.lot.lot_no, id),
    ))
}
