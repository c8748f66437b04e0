//! The dealer console: the purchase (进货) and sales (销售) ledgers for a range of China dates,
//! on screen and as the CSV that opens in Excel (the same file as the HTTP ledger endpoint).
//! A mistyped date or a reversed range is answered on the page in the reader's language.

use crate::web::ctx::Query;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use domain::stock::ledger::{self, Kind};
use serde::Deserialize;

use super::Console;
use crate::state::AppState;
use crate::web::account::messages;
use crate::web::view::money;
use crate::web::{Chrome, Ctx, WebResult};

pub struct LineRow {
    pub date: String,
    pub number: String,
    pub product: String,
    pub spec: String,
    pub lot_no: String,
    pub quantity: i64,
    pub amount: String,
    pub party: String,
}

#[derive(askama::Template)]
#[template(path = "dealer/ledgers.html")]
struct LedgersPage {
    c: Chrome,
    from: String,
    to: String,
    errors: Vec<String>,
    purchases: Vec<LineRow>,
    sales: Vec<LineRow>,
}

#[derive(Deserialize, Default)]
pub struct RangeQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    kind: String,
}

fn rows(lines: Vec<domain::entities::ledger_line::Model>, ctx: &Ctx) -> Vec<LineRow> {
    lines
        .into_iter()
        .map(|l| LineRow {
            date: l.occurred_on.to_string(),
            number: l.source_document,
            product: ctx.l(&l.product_name_zh, &l.product_name_en).to_owned(),
            spec: l.spec,
            lot_no: l.lot_no,
            quantity: l.quantity,
            amount: money(l.amount_fen),
            party: l.counterparty_name,
        })
        .collect()
}

async fn ledgers_page(state: &AppState, ctx: &Ctx, q: &RangeQuery) -> WebResult {
    let con = Console::open(state, ctx, ctx.l("台账", "Ledgers"), "ledgers").await?;
    let db = state.db();
    let (mut purchases, mut sales, mut errors) = (vec![], vec![], vec![]);
    let (from, to) = match ledger::parse_range(&q.from, &q.to, domain::today()) {
        Ok((f, t)) => {
            let p = ledger::lines(db, con.actor(), con.dealer_id(), Kind::Purchase, f, t);
            purchases = rows(p.await?, ctx);
            let s = ledger::lines(db, con.actor(), con.dealer_id(), Kind::Sale, f, t);
            sales = rows(s.await?, ctx);
            (f.to_string(), t.to_string())
        }
        Err(e) => {
            errors = messages(e, ctx)?;
            (q.from.trim().to_owned(), q.to.trim().to_owned())
        }
    };
    let bad = !errors.is_empty();
    let mut r = crate::web::ctx::page(&LedgersPage {
        c: con.c,
        from,
        to,
        errors,
        purchases,
        sales,
    })?;
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

pub async fn ledgers(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RangeQuery>,
) -> WebResult {
    ledgers_page(&state, &ctx, &q).await
}

/// `GET /dealer/ledgers.csv?kind=PURCHASE|SALE&from=&to=`: the file for Excel (UTF-8 with a
/// BOM, formulas neutralised), column names in the reader's language. A bad date shows the
/// ledgers page with the message instead of a file.
pub async fn ledger_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RangeQuery>,
) -> WebResult {
    let s = ctx.dealer()?;
    let d = s.actor.dealer_id.ok_or(crate::web::WebError::Forbidden)?;
    let kind = if q.kind.eq_ignore_ascii_case("PURCHASE") {
        Kind::Purchase
    } else {
        Kind::Sale
    };
    let Ok((from, to)) = ledger::parse_range(&q.from, &q.to, domain::today()) else {
        return ledgers_page(&state, &ctx, &q).await;
    };
    let lines = ledger::lines(state.db(), &s.actor, d, kind, from, to).await?;
    let body = ledger::to_csv(
        &lines,
        kind,
        ctx.lang,
        domain::accounts::is_regulator_or_admin(&s.actor),
    );
    let name = match kind {
        Kind::Purchase => format!("purchase-ledger-{from}-{to}.csv"),
        Kind::Sale => format!("sales-ledger-{from}-{to}.csv"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dealer/ledgers", get(ledgers))
        .route("/dealer/ledgers.csv", get(ledger_csv))
}
