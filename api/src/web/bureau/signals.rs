//! Counterfeit and misuse signals (`GET /bureau/signals`, kind and date filters, and the same
//! list as CSV at `GET /bureau/signals.csv`), each with its evidence in words and links to its
//! lot (`/bureau/lots/{id}`) and its sale (`GET /bureau/sales/{id}`, the sale as an inspector
//! sees it).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::NaiveDate;
use domain::Lang;
use domain::bureau::signals::{self as bs, Signal, SignalFilter, SignalKind};
use serde::Deserialize;

use super::Desk;
use crate::state::AppState;
use crate::web::ctx::{Path, Query, page, urlencode};
use crate::web::view::{china_time, money};
use crate::web::{Chrome, Ctx, WebResult};

pub struct SignalRow {
    pub kind: &'static str,
    pub kind_code: &'static str,
    pub at: String,
    pub dealer_id: i64,
    pub dealer: String,
    pub product: String,
    pub lot_id: i64,
    pub lot_no: String,
    pub sale_id: Option<i64>,
    pub unit_code: String,
    pub evidence: String,
}

pub fn signal_row(s: &Signal, lang: Lang) -> SignalRow {
    let (zh, en) = s.kind.words();
    SignalRow {
        kind: lang.pick(zh, en),
        kind_code: s.kind.as_str(),
        at: china_time(s.at),
        dealer_id: s.dealer_id,
        dealer: lang.pick(&s.dealer_zh, &s.dealer_en).to_owned(),
        product: lang.pick(&s.product_zh, &s.product_en).to_owned(),
        lot_id: s.lot_id,
        lot_no: s.lot_no.clone(),
        sale_id: s.sale_id,
        unit_code: s.unit_code.clone().unwrap_or_default(),
        evidence: lang.pick(&s.evidence_zh, &s.evidence_en).to_owned(),
    }
}

pub struct KindOption {
    pub code: &'static str,
    pub words: &'static str,
    pub selected: bool,
}

#[derive(askama::Template)]
#[template(path = "bureau/signals.html")]
struct SignalsPage {
    c: Chrome,
    kinds: Vec<KindOption>,
    from: String,
    to: String,
    errors: Vec<String>,
    rows: Vec<SignalRow>,
    counts: Vec<(&'static str, usize)>,
    csv_url: String,
    far_km: f64,
}

#[derive(Deserialize, Default)]
pub struct SignalQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    county: Option<i64>,
}

/// The filter a query asks for, and what in it could not be read.
fn filter_of(q: &SignalQuery, ctx: &Ctx) -> (SignalFilter, Vec<String>) {
    let mut errors = vec![];
    let mut date = |s: &str, zh: &str, en: &str| -> Option<NaiveDate> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(ctx.l(zh, en).to_owned());
                None
            }
        }
    };
    let from = date(
        &q.from,
        "开始日期应为 年-月-日，如 2026-03-01",
        "the start date is year-month-day, e.g. 2026-03-01",
    );
    let to = date(
        &q.to,
        "结束日期应为 年-月-日，如 2026-03-31",
        "the end date is year-month-day, e.g. 2026-03-31",
    );
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errors.push(
            ctx.l(
                "开始日期在结束日期之后",
                "the start date is after the end date",
            )
            .to_owned(),
        );
    }
    (
        SignalFilter {
            kind: SignalKind::parse(q.kind.trim()),
            from,
            to,
            dealer_id: None,
        },
        errors,
    )
}

/// `GET /bureau/signals?kind=&from=&to=`.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SignalQuery>,
) -> WebResult {
    let desk = Desk::open_county(
        &state,
        &ctx,
        ctx.l("异常线索", "Signals"),
        "signals",
        q.county,
    )
    .await?;
    let (f, errors) = filter_of(&q, &ctx);
    let (_, found) = bs::signals(state.db(), desk.actor(), Some(desk.county.id), &f).await?;
    let counts = SignalKind::ALL
        .iter()
        .map(|k| {
            let (zh, en) = k.words();
            (ctx.l(zh, en), found.iter().filter(|s| s.kind == *k).count())
        })
        .collect();
    let kinds = SignalKind::ALL
        .iter()
        .map(|k| {
            let (zh, en) = k.words();
            KindOption {
                code: k.as_str(),
                words: ctx.l(zh, en),
                selected: f.kind == Some(*k),
            }
        })
        .collect();
    let csv_url = format!(
        "/bureau/signals.csv?kind={}&from={}&to={}&county={}",
        urlencode(f.kind.map(|k| k.as_str()).unwrap_or("")),
        f.from.map(|d| d.to_string()).unwrap_or_default(),
        f.to.map(|d| d.to_string()).unwrap_or_default(),
        desk.county.id
    );
    let mut r = page(&SignalsPage {
        rows: found.iter().map(|s| signal_row(s, ctx.lang)).collect(),
        from: q.from.trim().to_owned(),
        to: q.to.trim().to_owned(),
        c: desk.c,
        kinds,
        errors: errors.clone(),
        counts,
        csv_url,
        far_km: bs::FAR_SCAN_KM,
    })?;
    if !errors.is_empty() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// `GET /bureau/signals.csv?kind=&from=&to=`: the list as the page shows it.
pub async fn csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SignalQuery>,
) -> WebResult {
    let desk = Desk::open_county(&state, &ctx, "", "signals", q.county).await?;
    let (f, _) = filter_of(&q, &ctx);
    let (c, found) = bs::signals(state.db(), desk.actor(), Some(desk.county.id), &f).await?;
    Ok(crate::rest::csv::csv_response(
        bs::signals_csv(&found, ctx.lang),
        &format!(
            "signals-{}-{}-{}.csv",
            c.code.unwrap_or_else(|| c.id.to_string()),
            f.from
                .map(|d| d.to_string())
                .unwrap_or_else(|| "start".into()),
            f.to.map(|d| d.to_string()).unwrap_or_else(|| "now".into())
        ),
    ))
}

pub struct SaleLineRow {
    pub product: String,
    pub lot_id: i64,
    pub lot_no: String,
    pub quantity: i64,
    pub price: String,
}

#[derive(askama::Template)]
#[template(path = "bureau/sale.html")]
struct SalePage {
    c: Chrome,
    id: i64,
    dealer_id: i64,
    dealer: String,
    at: String,
    channel: &'static str,
    order_id: Option<i64>,
    buyer: String,
    village: String,
    phone: String,
    crop_target: String,
    total: String,
    lines: Vec<SaleLineRow>,
    unit_codes: Vec<String>,
}

/// `GET /bureau/sales/{id}`: a sale of one of the county's dealers.
pub async fn sale(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let desk = Desk::open(&state, &ctx, ctx.l("销售记录", "Sale"), "signals").await?;
    let r = domain::bureau::records::county_sale(state.db(), desk.actor(), id).await?;
    let s = &r.sale;
    let crop = s
        .crop
        .as_deref()
        .map(|c| {
            domain::catalog::crops::find(c)
                .map(|x| ctx.l(x.1, x.2).to_owned())
                .unwrap_or_else(|| c.to_owned())
        })
        .unwrap_or_default();
    Ok(page(&SalePage {
        id,
        dealer_id: r.dealer.id,
        dealer: ctx.l(&r.dealer.name_zh, &r.dealer.name_en).to_owned(),
        at: china_time(s.sold_at),
        channel: match s.order_id {
            Some(_) => ctx.l("网上订单", "online order"),
            None => ctx.l("柜台销售", "counter sale"),
        },
        order_id: s.order_id,
        buyer: s
            .buyer_name
            .clone()
            .unwrap_or_else(|| ctx.l("（未留姓名）", "(no name given)").to_owned()),
        village: r
            .village
            .as_ref()
            .map(|v| ctx.l(&v.name_zh, &v.name_en).to_owned())
            .unwrap_or_default(),
        phone: s.buyer_phone.clone().unwrap_or_default(),
        crop_target: match (&s.crop, &s.target) {
            (Some(_), Some(t)) => format!("{crop} / {t}"),
            _ => String::new(),
        },
        total: money(s.total_fen),
        lines: r
            .lines
            .iter()
            .map(|(l, p, pack, lo)| SaleLineRow {
                product: format!("{} {pack}", ctx.l(&p.name_zh, &p.name_en)),
                lot_id: lo.id,
                lot_no: lo.lot_no.clone(),
                quantity: l.quantity,
                price: money(l.unit_price_fen),
            })
            .collect(),
        unit_codes: r.unit_codes.clone(),
        c: desk.c,
    })?
    .into_response())
}
