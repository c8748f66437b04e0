//! The dealer console: the credit book (赊账). Each farmer's limit, balance and orders on
//! credit; the farmers who owe most (oldest debt first among equals); set a limit (the owner);
//! record a repayment (one-shot: a double tap records it once).

use crate::web::ctx::Query;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use domain::orders;
use serde::Deserialize;

use super::Console;
use super::shelves::{
    Fields, Flash, Outcome, Refused, errs, field, form_keys, me, once, refused_page, whole, yuan,
};
use crate::state::AppState;
use crate::web::view::{china_time, money, status_words};
use crate::web::{Chrome, Ctx, WebResult};

pub struct AccountRow {
    pub farmer_id: i64,
    pub name: String,
    pub phone: String,
    pub limit: String,
    pub limit_yuan: String,
    pub balance: String,
    pub left: String,
    pub owes: bool,
    pub since: String,
}

pub struct RepaymentRow {
    pub when: String,
    pub amount: String,
    pub balance_after: String,
}

pub struct HistoryRow {
    pub order_id: i64,
    pub when: String,
    pub total: String,
    pub status: &'static str,
    pub counted: bool,
}

#[derive(askama::Template)]
#[template(path = "dealer/credit.html")]
struct CreditPage {
    c: Chrome,
    f: Flash,
    debtors: Vec<AccountRow>,
    book: Vec<AccountRow>,
    farmer: Option<AccountRow>,
    history: Vec<HistoryRow>,
    repayments: Vec<RepaymentRow>,
    keys: std::collections::BTreeMap<&'static str, String>,
}

impl CreditPage {
    fn key(&self, form: &str) -> &str {
        self.keys.get(form).map(String::as_str).unwrap_or("")
    }
}

fn yuan_text(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

#[derive(Deserialize, Default)]
pub struct CreditQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    farmer: Option<i64>,
}

async fn credit_page(state: &AppState, ctx: &Ctx, farmer: Option<i64>, f: Flash) -> WebResult {
    let con = Console::open(state, ctx, ctx.l("赊账", "Credit"), "credit").await?;
    let db = state.db();
    let row = |r: &orders::CreditRow| AccountRow {
        farmer_id: r.farmer.id,
        name: r.farmer.display_name.clone(),
        phone: r.farmer.phone.clone(),
        limit: money(r.account.limit_fen),
        limit_yuan: yuan_text(r.account.limit_fen),
        balance: money(r.account.balance_fen),
        left: money((r.account.limit_fen - r.account.balance_fen).max(0)),
        owes: r.account.balance_fen > 0,
        since: r
            .owing_since
            .map(|t| china_time(t)[..10].to_owned())
            .unwrap_or_default(),
    };
    let book_rows = orders::credit_book(db, con.actor(), con.dealer_id()).await?;
    let debtors = orders::debtors(db, con.actor(), con.dealer_id())
        .await?
        .iter()
        .take(10)
        .map(row)
        .collect();
    let chosen = farmer.and_then(|id| book_rows.iter().find(|r| r.farmer.id == id));
    let history = match chosen {
        Some(r) => orders::credit_history(db, con.actor(), con.dealer_id(), r.farmer.id)
            .await?
            .into_iter()
            .map(|o| HistoryRow {
                order_id: o.id,
                when: china_time(o.placed_at),
                total: money(o.total_fen),
                status: status_words(o.status, ctx.lang),
                counted: o.payment_status == domain::orders::PaymentStatus::OnCredit,
            })
            .collect(),
        None => vec![],
    };
    let repayments = match chosen {
        Some(r) => orders::repayments_of(db, con.actor(), con.dealer_id(), r.farmer.id)
            .await?
            .into_iter()
            .map(|p| RepaymentRow {
                when: china_time(p.created_at),
                amount: money(p.amount_fen),
                balance_after: money(p.balance_after_fen),
            })
            .collect(),
        None => vec![],
    };
    crate::web::ctx::page(&CreditPage {
        c: con.c,
        f,
        debtors,
        farmer: chosen.map(row),
        book: book_rows.iter().map(row).collect(),
        history,
        repayments,
        keys: form_keys(&["limit", "repay", "open"]),
    })
}

pub async fn credit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CreditQuery>,
) -> WebResult {
    let notice = match q.done.as_str() {
        "repaid" => Some(ctx.l("还款已记录", "Repayment recorded")),
        "limit" => Some(ctx.l("额度已设定", "Limit set")),
        _ => None,
    };
    credit_page(&state, &ctx, q.farmer, Flash::notice(notice)).await
}

async fn answer(
    state: &AppState,
    ctx: &Ctx,
    form: &str,
    f: Fields,
    done: &str,
    action: impl Future<Output = Result<(), Refused>>,
) -> WebResult {
    let farmer = field(&f, "farmer").parse().ok();
    match once(state, ctx, &f, done, action).await? {
        Outcome::Done(r) => Ok(r),
        Outcome::Refused(e) => {
            refused_page(credit_page(state, ctx, farmer, Flash::refused(form, e, f)).await)
        }
    }
}

/// Only the owner sets limits: a staff member is told so on the page rather than sent away.
fn owner_only(e: domain::Error, ctx: &Ctx) -> Refused {
    match e {
        domain::Error::Forbidden { .. } => Refused::Msgs(vec![
            ctx.l(
                "只有店主可以设定赊账额度",
                "Only the owner can set credit limits",
            )
            .to_owned(),
        ]),
        other => Refused::Domain(other),
    }
}

/// `POST /dealer/credit/limit`: `farmer` (or `phone` for a new account), `limit` (yuan).
pub async fn limit(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, d) = me(&ctx)?;
    let lang = ctx.lang;
    let amount = yuan(&f, "limit", ("额度", "Limit"), lang);
    let farmer = whole(&f, "farmer", ("农户", "Farmer"), lang);
    let phone = field(&f, "phone").to_owned();
    let form = if phone.is_empty() { "limit" } else { "open" };
    let db = state.db().clone();
    let c2 = ctx.clone();
    let done = match farmer {
        Ok(id) => format!("/dealer/credit?done=limit&farmer={id}"),
        Err(_) => "/dealer/credit?done=limit".into(),
    };
    let action = async move {
        let farmer_id = if phone.is_empty() {
            farmer
        } else {
            match orders::farmer_by_phone(&db, &actor, d, &phone).await {
                Ok(u) => Ok(u.id),
                Err(e) => return Err(Refused::Domain(e)),
            }
        };
        let (farmer_id, amount) = match (farmer_id, amount) {
            (Ok(i), Ok(a)) => (i, a),
            (i, a) => return Err(Refused::Msgs(errs([i.err(), a.err()]))),
        };
        orders::set_credit_limit(&db, &actor, d, farmer_id, amount)
            .await
            .map_err(|e| owner_only(e, &c2))?;
        Ok(())
    };
    answer(&state, &ctx, form, f, &done, action).await
}

/// `POST /dealer/credit/repay`: `farmer`, `amount` (yuan), `idem`.
pub async fn repay(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, d) = me(&ctx)?;
    let lang = ctx.lang;
    let farmer = whole(&f, "farmer", ("农户", "Farmer"), lang);
    let amount = yuan(&f, "amount", ("还款金额", "Amount repaid"), lang);
    let done = match farmer {
        Ok(id) => format!("/dealer/credit?done=repaid&farmer={id}"),
        Err(_) => "/dealer/credit?done=repaid".into(),
    };
    let db = state.db().clone();
    let action = async move {
        let (farmer, amount) = match (farmer, amount) {
            (Ok(i), Ok(a)) => (i, a),
            (i, a) => return Err(Refused::Msgs(errs([i.err(), a.err()]))),
        };
        orders::record_repayment(&db, &actor, d, farmer, amount).await?;
        Ok(())
    };
    answer(&state, &ctx, "repay", f, &done, action).await
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dealer/credit", get(credit))
        .route("/dealer/credit/limit", post(limit))
        .route("/dealer/credit/repay", post(repay))
}
