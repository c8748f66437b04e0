//! The dealer console: prices and offers. The dealer's offers with their price in yuan and
//! whether they are on sale, a price change typed in yuan (parsed to fen exactly), withdraw and
//! offer again, a new offer for a pack (the licence rules are the domain's), and the villages
//! the offers reach.

use crate::web::ctx::Query;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use domain::catalog;
use domain::catalog::pack_label;

use super::Console;
use super::shelves::{
    DoneQuery, Fields, Flash, Opt, Outcome, Refused, errs, field, form_keys, me, once,
    refused_page, whole, yuan,
};
use crate::state::AppState;
use crate::web::view::{category_words, money};
use crate::web::{Chrome, Ctx, WebResult};

pub struct OfferRow {
    pub id: i64,
    pub product: String,
    pub category: &'static str,
    pub pack: String,
    pub price: String,
    /// The price as typed in the form: `12.50`.
    pub yuan: String,
    pub active: bool,
}

#[derive(askama::Template)]
#[template(path = "dealer/offers.html")]
struct OffersPage {
    c: Chrome,
    f: Flash,
    offers: Vec<OfferRow>,
    villages: Vec<String>,
    packs: Vec<Opt>,
    keys: std::collections::BTreeMap<&'static str, String>,
}

impl OffersPage {
    fn key(&self, form: &str) -> &str {
        self.keys.get(form).map(String::as_str).unwrap_or("")
    }
    /// The value the price field of offer `id` shows: what was typed if refused, else the price.
    fn typed_price<'a>(&'a self, o: &'a OfferRow) -> &'a str {
        let form = format!("price-{}", o.id);
        if self.f.form == form {
            self.f.v(&form, "price")
        } else {
            &o.yuan
        }
    }
}

fn plain_yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

async fn offers_page(state: &AppState, ctx: &Ctx, f: Flash) -> WebResult {
    let con = Console::open(state, ctx, ctx.l("价格报价", "Prices and offers"), "offers").await?;
    let db = state.db();
    let lang = ctx.lang;
    let offers = catalog::offers_of_dealer(db, con.actor(), con.dealer_id())
        .await?
        .into_iter()
        .map(|o| OfferRow {
            id: o.offer.id,
            product: lang.pick(&o.product.name_zh, &o.product.name_en).to_owned(),
            category: category_words(o.product.category, lang),
            pack: pack_label(&o.sku),
            price: money(o.offer.price_fen),
            yuan: plain_yuan(o.offer.price_fen),
            active: o.offer.active,
        })
        .collect();
    let villages = catalog::villages_reached(db, con.actor(), con.dealer_id())
        .await?
        .into_iter()
        .map(|v| lang.pick(&v.name_zh, &v.name_en).to_owned())
        .collect();
    let packs = catalog::packs_to_offer(db, con.actor(), con.dealer_id())
        .await?
        .into_iter()
        .map(|(s, p)| Opt {
            value: s.id.to_string(),
            label: format!("{} {}", lang.pick(&p.name_zh, &p.name_en), pack_label(&s)),
        })
        .collect();
    crate::web::ctx::page(&OffersPage {
        c: con.c,
        f,
        offers,
        villages,
        packs,
        keys: form_keys(&["price", "add"]),
    })
}

pub async fn offers(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    let notice = match q.done.as_str() {
        "price" => Some(ctx.l("价格已更新", "Price changed")),
        "withdrawn" => Some(ctx.l(
            "已下架，农户看不到这个报价了",
            "Withdrawn: farmers no longer see this offer",
        )),
        "offered" => Some(ctx.l("已上架", "On sale")),
        _ => None,
    };
    offers_page(&state, &ctx, Flash::notice(notice)).await
}

async fn answer(
    state: &AppState,
    ctx: &Ctx,
    form: String,
    f: Fields,
    done: &str,
    action: impl Future<Output = Result<(), Refused>>,
) -> WebResult {
    match once(state, ctx, &f, done, action).await? {
        Outcome::Done(r) => Ok(r),
        Outcome::Refused(e) => {
            refused_page(offers_page(state, ctx, Flash::refused(&form, e, f)).await)
        }
    }
}

/// `POST /dealer/offers/set`: `offer`, `price` (yuan), `active` (`1` on sale, `0` withdrawn).
pub async fn set(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, _) = me(&ctx)?;
    let lang = ctx.lang;
    let id = whole(&f, "offer", ("报价", "Offer"), lang);
    let price = yuan(&f, "price", ("价格", "Price"), lang);
    let active = field(&f, "active") != "0";
    let form = format!("price-{}", id.as_ref().copied().unwrap_or(0));
    let done = match (field(&f, "active"), field(&f, "was")) {
        ("0", _) => "/dealer/offers?done=withdrawn",
        (_, "0") => "/dealer/offers?done=offered",
        _ => "/dealer/offers?done=price",
    };
    let db = state.db().clone();
    let action = async move {
        let (id, price) = match (id, price) {
            (Ok(i), Ok(p)) => (i, p),
            (i, p) => return Err(Refused::Msgs(errs([i.err(), p.err()]))),
        };
        catalog::update_offer(&db, &actor, id, price, active).await?;
        Ok(())
    };
    answer(&state, &ctx, form, f, done, action).await
}

/// `POST /dealer/offers/add`: `sku`, `price` (yuan).
pub async fn add(State(state): State<AppState>, ctx: Ctx, Form(f): Form<Fields>) -> WebResult {
    let (actor, d) = me(&ctx)?;
    let lang = ctx.lang;
    let sku = whole(&f, "sku", ("规格", "Pack"), lang);
    let price = yuan(&f, "price", ("价格", "Price"), lang);
    let db = state.db().clone();
    let action = async move {
        let (sku, price) = match (sku, price) {
            (Ok(s), Ok(p)) => (s, p),
            (s, p) => return Err(Refused::Msgs(errs([s.err(), p.err()]))),
        };
        catalog::set_offer(&db, &actor, d, sku, price, true).await?;
        Ok(())
    };
    answer(
        &state,
        &ctx,
        "add".into(),
        f,
        "/dealer/offers?done=offered",
        action,
    )
    .await
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dealer/offers", get(offers))
        .route("/dealer/offers/set", post(set))
        .route("/dealer/offers/add", post(add))
}
