//! The dealer console: the shelves. Stock by product and lot at the store and each village
//! station, near expiry and low stock, held and recalled lots (what to pull, whom to call),
//! transfers to stations and their receipt, adjustments, returns and destruction. Also the
//! form plumbing the console's other pages share: one-shot POSTs and refusals that keep what
//! was typed.
//!
//! Over 600 lines because each shelf action is a few lines of form and handler around one
//! stock service; a split would only scatter one page's actions.

use std::collections::BTreeMap;

use crate::web::ctx::Query;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::Lang;
use domain::lots::LotState;
use domain::stock::{self, AdjustReason, Adjustment};
use serde::Deserialize;

use super::Console;
use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{WebError, claim, finish, random_token};
use crate::web::view::china_time;
use crate::web::{Chrome, Ctx, WebResult};

// ---------------------------------------------------------------- shared form plumbing

/// What a refused form showed: which form, its messages, and what was typed (so nothing is
/// lost), or the notice of a form that went through.
#[derive(Default)]
pub struct Flash {
    pub form: String,
    pub errors: Vec<String>,
    pub values: BTreeMap<String, String>,
    pub notice: Option<String>,
}

impl Flash {
    pub fn refused(form: &str, errors: Vec<String>, values: BTreeMap<String, String>) -> Flash {
        Flash {
            form: form.into(),
            errors,
            values,
            notice: None,
        }
    }
    pub fn notice(n: Option<&str>) -> Flash {
        Flash {
            notice: n.map(str::to_owned),
            ..Flash::default()
        }
    }
    /// The typed value of `name` when `form` was the refused one.
    pub fn v(&self, form: &str, name: &str) -> &str {
        if self.form == form {
            self.values.get(name).map(String::as_str).unwrap_or("")
        } else {
            ""
        }
    }
    /// Whether `name` in `form` held `value` (for selects).
    pub fn is(&self, form: &str, name: &str, value: &str) -> bool {
        self.v(form, name) == value
    }
    pub fn errs(&self, form: &str) -> &[String] {
        if self.form == form { &self.errors } else { &[] }
    }
}

/// A form's fields as sent.
pub type Fields = BTreeMap<String, String>;

pub fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map(|s| s.trim()).unwrap_or("")
}

/// A whole number typed into `name`, or a message naming the field in the reader's language.
pub fn whole(f: &Fields, name: &str, label: (&str, &str), lang: Lang) -> Result<i64, String> {
    let s = field(f, name);
    s.parse::<i64>().map_err(|_| match lang {
        Lang::Zh => format!("{}：请填写整数（现在是“{}”）", label.0, s),
        Lang::En => format!("{}: enter a whole number (not \"{}\")", label.1, s),
    })
}

/// An amount in yuan typed into `name` (`12`, `12.5`, `12.50`), exactly in fen.
pub fn yuan(f: &Fields, name: &str, label: (&str, &str), lang: Lang) -> Result<i64, String> {
    let s = field(f, name);
    stock::parse_yuan(s.trim_start_matches(['¥', '￥'])).ok_or_else(|| match lang {
        Lang::Zh => format!(
            "{}：请按元填写金额，最多两位小数，例如 12.50（现在是“{}”）",
            label.0, s
        ),
        Lang::En => format!(
            "{}: enter an amount in yuan with at most 2 decimals, e.g. 12.50 (not \"{}\")",
            label.1, s
        ),
    })
}

/// The messages of the fields that could not be read.
pub fn errs<const N: usize>(e: [Option<String>; N]) -> Vec<String> {
    e.into_iter().flatten().collect()
}

/// How a console form ends: it went through (a redirect), or it was refused with messages.
pub enum Outcome {
    Done(Response),
    Refused(Vec<String>),
}

/// Why an action did not go through: the form's own messages (a value that could not be
/// read), or the domain's refusal.
pub enum Refused {
    Msgs(Vec<String>),
    Domain(domain::Error),
}

impl From<domain::Error> for Refused {
    fn from(e: domain::Error) -> Self {
        Refused::Domain(e)
    }
}

/// Checks the form's CSRF token, then runs its action once per form key: a repeat with the
/// same key (a double tap, a retry on a weak line) goes where the first went. A refused action
/// frees the key so the corrected form can be sent again. Permission errors stay errors (403 /
/// 404 pages); a refusal in the user's terms comes back as messages.
pub async fn once(
    state: &AppState,
    ctx: &Ctx,
    f: &Fields,
    done: &str,
    action: impl Future<Output = Result<(), Refused>>,
) -> Result<Outcome, WebError> {
    ctx.check_csrf(field(f, "csrf"))?;
    let session = ctx.signed_in()?;
    let key = field(f, "idem");
    if let Err(first) = claim(state, session, key, done).await? {
        return Ok(Outcome::Done(first));
    }
    let result = action.await;
    finish(state, session, key, result.is_ok().then_some(done)).await?;
    match result {
        Ok(()) => Ok(Outcome::Done(Redirect::to(done).into_response())),
        Err(Refused::Msgs(m)) => Ok(Outcome::Refused(m)),
        Err(Refused::Domain(e)) => Ok(Outcome::Refused(messages(e, ctx)?)),
    }
}

pub use crate::web::ctx::refused as refused_page;

/// The session's actor and its dealer (console pages only).
pub fn me(ctx: &Ctx) -> Result<(domain::accounts::Actor, i64), WebError> {
    let s = ctx.dealer()?;
    Ok((
        s.actor.clone(),
        s.actor.dealer_id.ok_or(WebError::Forbidden)?,
    ))
}

/// One fresh form key per form of a page.
pub fn form_keys(forms: &[&'static str]) -> BTreeMap<&'static str, String> {
    forms.iter().map(|k| (*k, random_token())).collect()
}

// ---------------------------------------------------------------- the page

pub struct StockRow {
    pub product: String,
    pub pack: String,
    pub lot_no: String,
    pub lot_id: i64,
    pub location: String,
    pub location_id: i64,
    pub expires: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub state: String,
    pub state_class: &'static str,
    /// `lot-location`, the value the forms' stock selects carry.
    pub key: String,
}

pub struct PlaceRow {
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
}

pub struct BuyerRow {
    pub name: String,
    pub phone: String,
    pub quantity: i64,
    pub when: String,
    pub number: String,
}

pub struct PullRow {
    pub product: String,
    pub lot_no: String,
    pub state: String,
    pub places: Vec<PlaceRow>,
    pub total: i64,
    pub in_transit: i64,
    pub buyers: Vec<BuyerRow>,
}

pub struct LowRow {
    pub product: String,
    pub available: i64,
}

pub struct TransferRow {
    pub id: i64,
    pub product: String,
    pub lot_no: String,
    pub from: String,
    pub to: String,
    pub quantity: i64,
    pub in_transit: bool,
    pub when: String,
}

pub struct Opt {
    pub value: String,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "dealer/shelves.html")]
struct ShelvesPage {
    c: Chrome,
    f: Flash,
    pull: Vec<PullRow>,
    near: Vec<StockRow>,
    low: Vec<LowRow>,
    rows: Vec<StockRow>,
    transfers: Vec<TransferRow>,
    stock_opts: Vec<Opt>,
    station_opts: Vec<Opt>,
    sold_opts: Vec<Opt>,
    keys: BTreeMap<&'static str, String>,
}

impl ShelvesPage {
    fn key(&self, form: &str) -> &str {
        self.keys.get(form).map(String::as_str).unwrap_or("")
    }
}

fn state_words(d: LotState, lang: Lang) -> (String, &'static str) {
    let (zh, en) = d.words();
    let class = if d == LotState::Sellable { "ok" } else { "out" };
    (
        lang.pick(zh, &crate::web::view::capitalised(en)).to_owned(),
        class,
    )
}

/// Days within which a lot counts as near expiry on the shelves page.
const NEAR_DAYS: i64 = 60;
/// Sellable packs below this many units count as low stock.
const LOW_UNITS: i64 = 5;

async fn shelves_page(state: &AppState, ctx: &Ctx, f: Flash) -> WebResult {
    let con = Console::open(state, ctx, ctx.l("库存货架", "Shelves"), "shelves").await?;
    let db = state.db();
    let (actor, d) = (con.actor(), con.dealer_id());
    let lang = ctx.lang;
    let name = |zh: &str, en: &str| lang.pick(zh, en).to_owned();
    let stock_row = |v: &stock::StockView| {
        let (state, class) = state_words(v.disposition, lang);
        StockRow {
            product: name(&v.product.name_zh, &v.product.name_en),
            pack: domain::catalog::pack_label(&v.sku),
            lot_no: v.lot.lot_no.clone(),
            lot_id: v.lot.id,
            location: name(&v.location.name_zh, &v.location.name_en),
            location_id: v.location.id,
            expires: v.lot.expires_on.to_string(),
            on_hand: v.stock.on_hand,
            reserved: v.stock.reserved,
            available: v.available(),
            state,
            state_class: class,
            key: format!("{}-{}", v.lot.id, v.location.id),
        }
    };
    let views = stock::stock_of_dealer(db, actor, d, None).await?;
    let near: Vec<StockRow> = stock::near_expiry(db, actor, d, NEAR_DAYS)
        .await?
        .iter()
        .map(stock_row)
        .collect();
    let low = stock::low_stock(db, actor, d, LOW_UNITS)
        .await?
        .into_iter()
        .map(|l| LowRow {
            product: format!(
                "{} {}",
                name(&l.product.name_zh, &l.product.name_en),
                domain::catalog::pack_label(&l.sku)
            ),
            available: l.available,
        })
        .collect();
    let pull = stock::pull_list(db, actor, d)
        .await?
        .into_iter()
        .map(|p| PullRow {
            product: format!(
                "{} {}",
                name(&p.product.name_zh, &p.product.name_en),
                domain::catalog::pack_label(&p.sku)
            ),
            lot_no: p.lot.lot_no.clone(),
            state: state_words(p.disposition, lang).0,
            total: p.places.iter().map(|x| x.on_hand).sum(),
            places: p
                .places
                .iter()
                .map(|x| PlaceRow {
                    location: name(&x.location.name_zh, &x.location.name_en),
                    on_hand: x.on_hand,
                    reserved: x.reserved,
                })
                .collect(),
            in_transit: p.in_transit,
            buyers: p
                .buyers
                .iter()
                .map(|b| BuyerRow {
                    name: b
                        .name
                        .clone()
                        .unwrap_or_else(|| name("散户（未留姓名）", "walk-in (no name given)")),
                    phone: b.phone.clone().unwrap_or_default(),
                    quantity: b.quantity,
                    when: china_time(b.sold_at),
                    number: match b.order_id {
                        Some(o) => format!("ORDER-{o}"),
                        None => format!("SALE-{}", b.sale_id),
                    },
                })
                .collect(),
        })
        .collect();
    let transfers = stock::dealer_transfers(db, actor, d, 30)
        .await?
        .into_iter()
        .map(|t| TransferRow {
            id: t.transfer.id,
            product: format!(
                "{} {}",
                name(&t.product.name_zh, &t.product.name_en),
                domain::catalog::pack_label(&t.sku)
            ),
            lot_no: t.lot.lot_no.clone(),
            from: name(&t.from.name_zh, &t.from.name_en),
            to: name(&t.to.name_zh, &t.to.name_en),
            quantity: t.transfer.quantity,
            in_transit: t.transfer.status == stock::TransferStatus::InTransit,
            when: china_time(t.transfer.shipped_at),
        })
        .collect();
    let rows: Vec<StockRow> = views.iter().map(stock_row).collect();
    let stock_opts = rows
        .iter()
        .map(|r| Opt {
            value: r.key.clone(),
            label: format!(
                "{} {} · {} {} · {} · {} {}",
                r.product,
                r.pack,
                lang.pick("批号", "lot"),
                r.lot_no,
                r.location,
                lang.pick("可用", "available"),
                r.available
            ),
        })
        .collect();
    let station_opts = stock::locations_of_dealer(db, actor, d)
        .await?
        .into_iter()
        .map(|l| Opt {
            value: l.id.to_string(),
            label: name(&l.name_zh, &l.name_en),
        })
        .collect();
    let sold_opts = stock::recent_sale_lines(db, actor, d, 40)
        .await?
        .into_iter()
        .map(|s| Opt {
            value: format!("{}-{}", s.sale.id, s.lot.id),
            label: format!(
                "SALE-{} · {} · {} · {} {} · {} {}",
                s.sale.id,
                china_time(s.sale.sold_at),
                s.sale
                    .buyer_name
                    .clone()
                    .unwrap_or_else(|| name("散户", "walk-in")),
                name(&s.product.name_zh, &s.product.name_en),
                s.lot.lot_no,
                s.line.quantity,
                lang.pick("件", "units")
            ),
        })
        .collect();
    let keys = ["ship", "receive", "adjust", "return", "destroy"]
        .into_iter()
        .map(|k| (k, random_token()))
        .collect();
    crate::web::ctx::page(&ShelvesPage {
        c: con.c,
        f,
        pull,
        near,
        low,
        rows,
        transfers,
        stock_opts,
        station_opts,
        sold_opts,
        keys,
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

pub async fn shelves(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    let notice = match q.done.as_str() {
        "shipped" => Some(ctx.l(
            "已调出，等待服务站收货",
            "Shipped: waiting for the station to receive it",
        )),
        "received" => Some(ctx.l("已收货入库", "Received into stock")),
        "adjusted" => Some(ctx.l("库存已调整", "Stock adjusted")),
        "returned" => Some(ctx.l(
            "退货已入库，销售台账已记录",
            "Return taken back into stock and written to the sales ledger",
        )),
        "destroyed" => Some(ctx.l("已销毁并记录", "Destroyed and recorded")),
        _ => None,
    };
    shelves_page(
        &state,
        &ctx,
        Flash {
            notice: notice.map(str::to_owned),
            ..Flash::default()
        },
    )
    .await
}

/// `lot-location` from a stock select, or a message.
fn stock_key(f: &Fields, name: &str, lang: Lang) -> Result<(i64, i64), String> {
    field(f, name)
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| {
            lang.pick(
                "请选择库存（产品、批号和地点）",
                "Choose the stock (product, lot and place)",
            )
            .to_owned()
        })
}

/// Runs a shelves form and answers with the page: the next page on success, this page again
/// with the messages and the typed values on a refusal.
async fn run(
    state: &AppState,
    ctx: &Ctx,
    form: &'static str,
    f: Fields,
    done: &str,
    action: impl Future<Output = Result<(), Refused>>,
) -> WebResult {
    match once(state, ctx, &f, done, action).await? {
        Outcome::Done(r) => Ok(r),
        Outcome::Refused(errors) => {
            refused_page(shelves_page(state, ctx, Flash::refused(form, errors, f)).await)
        }
    }
}

pub async fn ship(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, d) = me(&ctx)?;
    let lang = ctx.lang;
    let parsed = (
        stock_key(&f, "stock", lang),
        whole(&f, "to", ("调入服务站", "Station"), lang),
        whole(&f, "quantity", ("数量", "Quantity"), lang),
    );
    let db = state.db().clone();
    let action = async move {
        let ((lot, from), to, q) = match parsed {
            (Ok(k), Ok(t), Ok(q)) => (k, t, q),
            (k, t, q) => return Err(Refused::Msgs(errs([k.err(), t.err(), q.err()]))),
        };
        stock::transfer_ship(&db, &actor, d, lot, from, to, q).await?;
        Ok(())
    };
    let done = "/dealer/shelves?done=shipped#transfers";
    run(&state, &ctx, "ship", f, done, action).await
}

pub async fn receive(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, _) = me(&ctx)?;
    let t = whole(&f, "transfer", ("调拨单", "Transfer"), ctx.lang);
    let db = state.db().clone();
    let action = async move {
        let t = t.map_err(|e| Refused::Msgs(vec![e]))?;
        stock::transfer_receive(&db, &actor, t).await?;
        Ok(())
    };
    let done = "/dealer/shelves?done=received#transfers";
    run(&state, &ctx, "receive", f, done, action).await
}

pub async fn adjust(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, d) = me(&ctx)?;
    let lang = ctx.lang;
    let reason = match field(&f, "reason") {
        "COUNT" => Ok(AdjustReason::CountCorrection),
        "DAMAGE" => Ok(AdjustReason::Damage),
        "OTHER" => Ok(AdjustReason::Other),
        _ => Err(lang
            .pick("请选择调整原因", "Choose the reason for the change")
            .to_owned()),
    };
    let parsed = (
        stock_key(&f, "stock", lang),
        whole(&f, "delta", ("增减数量", "Change"), lang),
        reason,
    );
    let note = field(&f, "note").to_owned();
    let db = state.db().clone();
    let action = async move {
        let ((lot, loc), delta, reason) = match parsed {
            (Ok(k), Ok(n), Ok(r)) => (k, n, r),
            (k, n, r) => return Err(Refused::Msgs(errs([k.err(), n.err(), r.err()]))),
        };
        let adj = Adjustment {
            dealer_id: d,
            location_id: loc,
            lot_id: lot,
            delta,
            reason,
            note,
        };
        stock::adjust(&db, &actor, adj).await?;
        Ok(())
    };
    run(
        &state,
        &ctx,
        "adjust",
        f,
        "/dealer/shelves?done=adjusted",
        action,
    )
    .await
}

pub async fn take_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<Fields>,
) -> WebResult {
    let (actor, _) = me(&ctx)?;
    let lang = ctx.lang;
    let sold = field(&f, "sold")
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
        .ok_or_else(|| {
            lang.pick(
                "请选择退货的销售记录",
                "Choose the sale the goods come back from",
            )
            .to_owned()
        });
    let parsed = (sold, whole(&f, "quantity", ("数量", "Quantity"), lang));
    let reason = field(&f, "reason").to_owned();
    let db = state.db().clone();
    let action = async move {
        let ((sale, lot), q) = match parsed {
            (Ok(s), Ok(q)) => (s, q),
            (s, q) => return Err(Refused::Msgs(errs([s.err(), q.err()]))),
        };
        stock::return_from_buyer(&db, &actor, sale, lot, q, &reason).await?;
        Ok(())
    };
    run(
        &state,
        &ctx,
        "return",
        f,
        "/dealer/shelves?done=returned",
        action,
    )
    .await
}

pub async fn destroy(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, d) = me(&ctx)?;
    let lang = ctx.lang;
    let parsed = (
        stock_key(&f, "stock", lang),
        whole(&f, "quantity", ("数量", "Quantity"), lang),
    );
    let reason = field(&f, "reason").to_owned();
    let db = state.db().clone();
    let action = async move {
        let ((lot, loc), q) = match parsed {
            (Ok(k), Ok(q)) => (k, q),
            (k, q) => return Err(Refused::Msgs(errs([k.err(), q.err()]))),
        };
        stock::destroy(&db, &actor, d, loc, lot, q, &reason).await?;
        Ok(())
    };
    run(
        &state,
        &ctx,
        "destroy",
        f,
        "/dealer/shelves?done=destroyed",
        action,
    )
    .await
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dealer/shelves", get(shelves))
        .route("/dealer/shelves/ship", post(ship))
        .route("/dealer/shelves/receive", post(receive))
        .route("/dealer/shelves/adjust", post(adjust))
        .route("/dealer/shelves/return", post(take_back))
        .route("/dealer/shelves/destroy", post(destroy))
}
