//! The cart: its rows and fixes, setting a quantity, accepting changed prices.

use std::collections::BTreeMap;

use crate::web::ctx::Query;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::accounts::Actor;
use domain::orders;
use serde::Deserialize;

use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{claim, finish, page, urlencode};
use crate::web::view::money;
use crate::web::{Chrome, Ctx, WebError, WebResult};

use super::CsrfForm;

pub struct CartRow {
    pub offer_id: i64,
    pub name: String,
    pub product_id: i64,
    pub pack: String,
    pub dealer: String,
    pub quantity: i64,
    pub price: String,
    pub subtotal: String,
    pub available: i64,
    pub problems: Vec<CartFix>,
}

/// A cart problem in plain words, with the one action that fixes it.
pub struct CartFix {
    pub message: String,
    /// ACCEPT_PRICE, REDUCE, REMOVE, REAL_NAME or none.
    pub fix: &'static str,
}

#[derive(askama::Template)]
#[template(path = "cart.html")]
struct CartPage {
    c: Chrome,
    rows: Vec<CartRow>,
    total: String,
    blocked: bool,
    warnings: Vec<String>,
}

async fn cart_rows(
    state: &AppState,
    actor: &Actor,
    lang: Lang,
) -> Result<(Vec<CartRow>, i64), WebError> {
    let lines = orders::cart(state.db(), actor).await?;
    let dealer_ids: Vec<i64> = lines.iter().map(|l| l.offer.dealer_id).collect();
    let dealers: BTreeMap<i64, String> = domain::regions::dealers_by_ids(state.db(), &dealer_ids)
        .await?
        .into_iter()
        .map(|d| (d.id, lang.pick(&d.name_zh, &d.name_en).to_owned()))
        .collect();
    let total = lines.iter().map(|l| l.subtotal_fen()).sum();
    let rows = lines
        .into_iter()
        .map(|l| CartRow {
            offer_id: l.offer.id,
            name: lang.pick(&l.product.name_zh, &l.product.name_en).to_owned(),
            product_id: l.product.id,
            pack: domain::catalog::pack_label(&l.sku),
            dealer: dealers.get(&l.offer.dealer_id).cloned().unwrap_or_default(),
            quantity: l.line.quantity,
            price: money(l.offer.price_fen),
            subtotal: money(l.subtotal_fen()),
            available: l.available,
            problems: l
                .problems
                .iter()
                .map(|p| CartFix {
                    message: lang.pick(&p.zh, &p.en).to_owned(),
                    fix: match p.code {
                        "PRICE_CHANGED" => "ACCEPT_PRICE",
                        "INSUFFICIENT_STOCK" if l.available > 0 => "REDUCE",
                        "INSUFFICIENT_STOCK" | "OFFER_WITHDRAWN" | "PRODUCT_DELISTED" => "REMOVE",
                        "REAL_NAME_REQUIRED" => "REAL_NAME",
                        _ => "",
                    },
                })
                .collect(),
        })
        .collect();
    Ok((rows, total))
}

#[derive(Deserialize)]
pub struct CartQuery {
    #[serde(default)]
    warn: Vec<String>,
}

pub async fn cart(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CartQuery>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let (rows, total) = cart_rows(&state, actor, ctx.lang).await?;
    page(&CartPage {
        c: Chrome::new(&ctx, ctx.l("购物车", "Cart"), "cart"),
        blocked: rows
            .iter()
            .any(|r| r.problems.iter().any(|p| !p.fix.is_empty())),
        total: money(total),
        rows,
        warnings: q.warn.into_iter().take(20).collect(),
    })
}

#[derive(Deserialize)]
pub struct CartForm {
    csrf: String,
    offer: i64,
    qty: i64,
    /// Where to go afterwards: back to the product (`product`) or the cart.
    #[serde(default)]
    back: String,
    #[serde(default)]
    idem: String,
}

/// `POST /cart`: sets an offer's quantity (0 removes it). Setting a quantity is idempotent by
/// nature; the form key only keeps a double tap from showing an error for the second tap.
pub async fn cart_set(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CartForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    let back = if f.back.starts_with("/p/") {
        f.back.clone()
    } else {
        "/cart".into()
    };
    let done = if back == "/cart" {
        back.clone()
    } else {
        format!("{back}?added=1")
    };
    once(&state, &ctx, &f.idem, &done, async {
        orders::cart_set(state.db(), actor, f.offer, f.qty).await
    })
    .await
}

/// Runs a form's action once per form key: a repeat with the same key goes where the first
/// went. A failed action frees the key (the corrected form can be sent again) and shows the
/// messages on the cart page.
async fn once(
    state: &AppState,
    ctx: &Ctx,
    key: &str,
    done: &str,
    action: impl Future<Output = domain::Result<()>>,
) -> WebResult {
    let session = ctx.signed_in()?;
    if let Err(first) = claim(state, session, key, done).await? {
        return Ok(first);
    }
    match action.await {
        Ok(()) => {
            finish(state, session, key, Some(done)).await?;
            Ok(Redirect::to(done).into_response())
        }
        Err(e) => {
            finish(state, session, key, None).await?;
            let msgs = messages(e, ctx)?;
            let qs: Vec<String> = msgs
                .iter()
                .map(|m| format!("warn={}", urlencode(m)))
                .collect();
            Ok(Redirect::to(&format!("/cart?{}", qs.join("&"))).into_response())
        }
    }
}

pub async fn cart_accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CsrfForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    orders::cart_accept_prices(state.db(), actor).await?;
    Ok(Redirect::to("/cart").into_response())
}
