//! Checkout: the page grouped by dealer, placing the orders, and the order options a checkout
//! form carries (the offline queue and the dealer's desk check them the same way).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::catalog::Category;
use domain::orders::{self, DeliveryMode, OrderOptions, PaymentMethod, PlaceInput};
use serde::Deserialize;

use crate::state::{AppState, publish_events};
use crate::web::account::messages;
use crate::web::ctx::page;
use crate::web::view::money;
use crate::web::{Chrome, Ctx, WebResult};

pub struct DealerGroup {
    pub dealer_id: i64,
    pub name: String,
    pub address: String,
    pub total: String,
    /// Dealer credit left, when the dealer gave this farmer credit.
    pub credit_left: Option<String>,
    pub lines: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    c: Chrome,
    groups: Vec<DealerGroup>,
    stations: Vec<(i64, String)>,
    total: String,
    restricted: bool,
    pesticide: bool,
    verified: bool,
    has_problems: bool,
    /// Whether a payment provider is configured (else ONLINE is shown as not available).
    online: bool,
    form: CheckoutForm,
    errors: Vec<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct CheckoutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    delivery: String,
    #[serde(default)]
    station: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    payment: String,
    #[serde(default)]
    crop: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    note: String,
}

impl CheckoutForm {
    /// The options of an order queued offline, in the checkout form's terms.
    pub fn for_outbox(delivery: &str, station: Option<i64>, address: &str, payment: &str) -> Self {
        CheckoutForm {
            delivery: delivery.into(),
            station: station.map(|s| s.to_string()).unwrap_or_default(),
            address: address.into(),
            payment: payment.into(),
            ..Default::default()
        }
    }

    pub fn is(&self, field: &str, value: &str) -> bool {
        let v = match field {
            "delivery" => &self.delivery,
            "payment" => &self.payment,
            _ => return false,
        };
        v == value
    }
    pub fn station_is(&self, id: &i64) -> bool {
        self.station.parse::<i64>().ok() == Some(*id)
    }
}

async fn checkout_page(
    state: &AppState,
    ctx: &Ctx,
    form: CheckoutForm,
    errors: Vec<String>,
) -> WebResult {
    let (actor, farmer) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let lines = orders::cart(db, actor).await?;
    if lines.is_empty() && errors.is_empty() {
        return Ok(Redirect::to("/cart").into_response());
    }
    let dealer_ids: Vec<i64> = lines.iter().map(|l| l.offer.dealer_id).collect();
    let dealers = domain::regions::dealers_by_ids(db, &dealer_ids).await?;
    let mut groups = Vec::new();
    for d in dealers {
        let mine: Vec<_> = lines.iter().filter(|l| l.offer.dealer_id == d.id).collect();
        let total: i64 = mine.iter().map(|l| l.subtotal_fen()).sum();
        let credit_left = orders::credit_account(db, d.id, farmer.id)
            .await?
            .map(|a| money((a.limit_fen - a.balance_fen).max(0)));
        groups.push(DealerGroup {
            dealer_id: d.id,
            name: lang.pick(&d.name_zh, &d.name_en).to_owned(),
            address: d.address.clone(),
            total: money(total),
            credit_left,
            lines: mine
                .iter()
                .map(|l| {
                    format!(
                        "{} {} × {}",
                        lang.pick(&l.product.name_zh, &l.product.name_en),
                        domain::catalog::pack_label(&l.sku),
                        l.line.quantity
                    )
                })
                .collect(),
        });
    }
    let stations = match farmer.village_id {
        Some(v) => domain::regions::stations(db, Some(&[v]))
            .await?
            .into_iter()
            .map(|s| {
                (
                    s.id,
                    format!("{} · {}", lang.pick(&s.name_zh, &s.name_en), s.hours),
                )
            })
            .collect(),
        None => vec![],
    };
    let mut form = form;
    if form.idem.is_empty() {
        form.idem = crate::web::ctx::random_token();
    }
    if form.delivery.is_empty() {
        form.delivery = if stations.is_empty() {
            "PICKUP"
        } else {
            "VILLAGE_STATION"
        }
        .into();
    }
    if form.payment.is_empty() {
        form.payment = "CASH_ON_DELIVERY".into();
    }
    page(&CheckoutPage {
        c: Chrome::new(ctx, ctx.l("结算", "Checkout"), "cart"),
        total: money(lines.iter().map(|l| l.subtotal_fen()).sum()),
        restricted: lines.iter().any(|l| l.product.restricted_use),
        pesticide: lines
            .iter()
            .any(|l| l.product.category == Category::Pesticide),
        verified: farmer.verified_at.is_some() && farmer.id_number.is_some(),
        has_problems: lines.iter().any(|l| !l.problems.is_empty()),
        online: state.services.payments.is_some(),
        groups,
        stations,
        form,
        errors,
    })
}

pub async fn checkout_form(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    checkout_page(&state, &ctx, CheckoutForm::default(), vec![]).await
}

/// `POST /checkout`: one tap places the order. The form's key is the checkout's idempotency
/// key, so a double tap or a retry on a weak signal returns the orders the first one placed.
pub async fn checkout(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CheckoutForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    let opts = match options_of(&f) {
        Ok(o) => o,
        Err(e) => {
            let errors = messages(e, &ctx)?;
            return checkout_page(&state, &ctx, f, errors).await;
        }
    };
    let key = format!("web:{}", f.idem.trim());
    let r = orders::place(
        state.db(),
        actor,
        &key,
        PlaceInput {
            default: opts,
            per_dealer: BTreeMap::new(),
        },
        state.services.payments.as_deref(),
        order_settings(&state),
    )
    .await;
    match r {
        Ok(placed) => {
            publish_events(&state, placed.events).await;
            let ids: Vec<String> = placed.orders.iter().map(|o| o.id.to_string()).collect();
            Ok(Redirect::to(&format!("/orders?placed={}", ids.join(","))).into_response())
        }
        Err(e) => {
            let errors = messages(e, &ctx)?;
            // The refused attempt wrote nothing (its transaction rolled back); the corrected
            // form still gets a fresh key, so an old tab's key cannot stand for the new order.
            checkout_page(
                &state,
                &ctx,
                CheckoutForm {
                    idem: String::new(),
                    ..f
                },
                errors,
            )
            .await
        }
    }
}

pub fn order_settings(state: &AppState) -> orders::Settings {
    let c = &state.services.config;
    orders::Settings {
        confirm_within: chrono::Duration::from_std(c.order_confirm_within)
            .unwrap_or(chrono::Duration::hours(48)),
        low_stock_threshold: c.low_stock_threshold,
    }
}

/// The order options of a checkout form, checked as the API checks them.
pub fn options_of(f: &CheckoutForm) -> domain::Result<OrderOptions> {
    let delivery = DeliveryMode::parse(&f.delivery).ok_or_else(|| {
        domain::Error::invalid(
            "delivery",
            domain::Code::Required,
            "请选择取货方式",
            "choose how to get the goods",
        )
    })?;
    let payment = PaymentMethod::parse(&f.payment).ok_or_else(|| {
        domain::Error::invalid(
            "payment",
            domain::Code::Required,
            "请选择付款方式",
            "choose how to pay",
        )
    })?;
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let o = OrderOptions {
        delivery_mode: delivery,
        station_id: if delivery == DeliveryMode::VillageStation {
            f.station.parse().ok()
        } else {
            None
        },
        address: if delivery == DeliveryMode::Home {
            opt(&f.address)
        } else {
            None
        },
        payment_method: payment,
        crop: opt(&f.crop),
        target: opt(&f.target),
        field_id: None,
        note: f.note.trim().to_owned(),
    };
    orders::validate_options(&o)?;
    Ok(o)
}
