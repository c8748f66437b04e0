//! The farmer's pages: home, find, product, cart, checkout, orders, fields and advice, scan.
//! A station keeper acting for a farmer sees the same pages for that farmer.

use std::collections::{BTreeMap, BTreeSet};

use crate::web::ctx::{Path, Query};
use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::accounts::Actor;
use domain::catalog::{self, Category, ProductFilter, SortBy};
use domain::entities::product;
use domain::orders::{self, DeliveryMode, OrderOptions, PaymentMethod, PlaceInput, Status};
use domain::regions::LicenceKind;
use domain::shop::{self, VillageOffer};
use serde::Deserialize;

use super::account::messages;
use super::ctx::{claim, finish, page, urlencode};
use super::view::{self, china_time, money};
use super::{Chrome, Ctx, WebError, WebResult};
use crate::state::{AppState, publish_events};

/// Products per page of search results.
const PAGE: u64 = 20;
/// A fertiliser counts as "high" in a nutrient at this share or more (per cent of the oxide or
/// element): above what balanced compounds such as 15-15-15 carry of each.
const HIGH_NUTRIENT_PCT: f64 = 20.0;

/// One product in a list: what a farmer compares before opening it.
pub struct ProductCard {
    pub id: i64,
    pub name: String,
    pub category: &'static str,
    pub registration_no: String,
    pub restricted: bool,
    /// The cheapest offer in the village, with its pack: "¥120.00 / 40 kg".
    pub price: Option<String>,
    pub stock: String,
    pub stock_class: &'static str,
}

fn cards(products: &[product::Model], offers: &[VillageOffer], lang: Lang) -> Vec<ProductCard> {
    products
        .iter()
        .map(|p| {
            let mine: Vec<&VillageOffer> =
                offers.iter().filter(|o| o.sku.product_id == p.id).collect();
            let cheapest = mine.iter().min_by_key(|o| o.offer.price_fen);
            let best = mine.iter().map(|o| o.available).max().unwrap_or(0);
            let unit = cheapest.map(|o| o.sku.pack_unit.as_str()).unwrap_or("kg");
            ProductCard {
                id: p.id,
                name: lang.pick(&p.name_zh, &p.name_en).to_owned(),
                category: view::category_words(p.category, lang),
                registration_no: p.registration_no.clone().unwrap_or_default(),
                restricted: p.restricted_use,
                price: cheapest.map(|o| {
                    format!(
                        "{} / {}",
                        money(o.offer.price_fen),
                        domain::catalog::pack_label(&o.sku)
                    )
                }),
                stock: if mine.is_empty() {
                    lang.pick(
                        "本村暂无经销商供应",
                        "No dealer serving your village sells it",
                    )
                    .into()
                } else {
                    view::stock_words(best, unit, lang)
                },
                stock_class: if mine.is_empty() {
                    "out"
                } else {
                    view::stock_class(best)
                },
            }
        })
        .collect()
}

pub struct OrderRow {
    pub id: i64,
    pub status: String,
    pub status_words: &'static str,
    pub dealer: String,
    pub placed: String,
    pub total: String,
    pub flagged: bool,
}

async fn order_rows(
    state: &AppState,
    list: Vec<domain::entities::customer_order::Model>,
    lang: Lang,
) -> Result<Vec<OrderRow>, WebError> {
    let ids: Vec<i64> = list
        .iter()
        .map(|o| o.dealer_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let dealers: BTreeMap<i64, String> = domain::regions::dealers_by_ids(state.db(), &ids)
        .await?
        .into_iter()
        .map(|d| (d.id, lang.pick(&d.name_zh, &d.name_en).to_owned()))
        .collect();
    Ok(list
        .into_iter()
        .map(|o| OrderRow {
            id: o.id,
            status_words: view::status_words(o.status, lang),
            dealer: dealers.get(&o.dealer_id).cloned().unwrap_or_default(),
            placed: china_time(o.placed_at),
            total: money(o.total_fen),
            flagged: o.flagged,
            status: o.status.to_string(),
        })
        .collect())
}

pub struct Notice {
    pub title: String,
    pub body: String,
    pub when: String,
    pub urgent: bool,
}

#[derive(askama::Template)]
#[template(path = "landing.html")]
struct Landing {
    c: Chrome,
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct Home {
    c: Chrome,
    name: String,
    village: String,
    welcome: bool,
    crops: Vec<(String, String)>,
    new_products: Vec<ProductCard>,
    open_orders: Vec<OrderRow>,
    notices: Vec<Notice>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    welcome: Option<String>,
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HomeQuery>,
) -> WebResult {
    if ctx.session.is_none() {
        return page(&Landing {
            c: Chrome::new(
                &ctx,
                ctx.l("农资：买放心农资", "Nongzi: farm inputs you can trust"),
                "home",
            ),
        });
    }
    if ctx.dealer().is_ok() {
        return Err(WebError::Redirect("/dealer".into()));
    }
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let (me, village) = shop::farmer_village(db, actor).await?;
    // The crops of the farmer's fields (their crop plans), to search by.
    let mut crops = BTreeSet::new();
    for f in domain::fields::of_farmer(db, me.id).await? {
        for p in domain::agronomy::crop_plans_of(db, f.id).await? {
            crops.insert(p.crop);
        }
    }
    let crops = crops
        .into_iter()
        .map(|c| {
            let name = view::crop_words(&c, lang);
            (urlencode(&name), name)
        })
        .collect();
    let new_products = match &village {
        Some(v) => {
            let found = catalog::search(
                db,
                &ProductFilter {
                    village_id: Some(v.id),
                    ..Default::default()
                },
                SortBy::Newest,
                0,
                4,
            )
            .await?;
            let ids: Vec<i64> = found.items.iter().map(|p| p.id).collect();
            let offers = shop::village_offers(db, v.id, &ids).await?;
            cards(&found.items, &offers, lang)
        }
        None => vec![],
    };
    let open: Vec<_> = orders::farmer_orders(db, actor, 50, 0)
        .await?
        .into_iter()
        .filter(|o| o.status.holds_stock())
        .collect();
    let open_orders = order_rows(&state, open, lang).await?;
    let mut notices: Vec<Notice> = domain::notify::for_user(db, me.id, false, 10)
        .await?
        .into_iter()
        .map(|n| Notice {
            urgent: matches!(n.kind.as_str(), "LOT_RECALLED" | "ORDER_FLAGGED"),
            title: lang.pick(&n.title_zh, &n.title_en).to_owned(),
            body: lang.pick(&n.body_zh, &n.body_en).to_owned(),
            when: china_time(n.created_at),
        })
        .collect();
    // A recall of something the farmer bought comes first.
    notices.sort_by_key(|n| !n.urgent);
    page(&Home {
        c: Chrome::new(&ctx, ctx.l("首页", "Home"), "home"),
        name: me.display_name.clone(),
        village: village
            .map(|v| lang.pick(&v.name_zh, &v.name_en).to_owned())
            .unwrap_or_default(),
        welcome: q.welcome.is_some(),
        crops,
        new_products,
        open_orders,
        notices,
    })
}

#[derive(Deserialize, Default)]
pub struct FindQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    cat: String,
    #[serde(default)]
    nutrient: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<u64>,
}

#[derive(askama::Template)]
#[template(path = "find.html")]
struct Find {
    c: Chrome,
    q: String,
    cat: String,
    nutrient: String,
    sort: String,
    total: u64,
    results: Vec<ProductCard>,
    prev_url: Option<String>,
    next_url: Option<String>,
    no_village: bool,
}

impl Find {
    /// This search with one parameter changed (for the filter chips).
    fn with(&self, key: &str, value: &str) -> String {
        let get = |k: &str, v: &str| {
            if k == key {
                value.to_owned()
            } else {
                v.to_owned()
            }
        };
        let parts = [
            ("q", get("q", &self.q)),
            ("cat", get("cat", &self.cat)),
            ("nutrient", get("nutrient", &self.nutrient)),
            ("sort", get("sort", &self.sort)),
        ];
        let qs: Vec<String> = parts
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        format!("/find?{}", qs.join("&"))
    }
}

/// Turns the words a farmer types into a filter: a crop name searches by crop, 高钾 / 高氮 /
/// 高磷 (or high-potassium ...) by nutrient, anything else by name, pest, disease, active
/// ingredient, variety or registration number.
fn filter_of(q: &FindQuery, village_id: Option<i64>) -> ProductFilter {
    let mut f = ProductFilter {
        village_id,
        category: Category::parse(&q.cat),
        ..Default::default()
    };
    let text = q.q.trim();
    let nutrient = match (q.nutrient.as_str(), text) {
        ("N", _) | (_, "高氮" | "high-nitrogen" | "high nitrogen") => Some('N'),
        ("P", _) | (_, "高磷" | "high-phosphate" | "high phosphate") => Some('P'),
        ("K", _) | (_, "高钾" | "high-potassium" | "high potassium" | "high-potash") => Some('K'),
        _ => None,
    };
    match nutrient {
        Some('N') => f.min_n_pct = Some(HIGH_NUTRIENT_PCT),
        Some('P') => f.min_p2o5_pct = Some(HIGH_NUTRIENT_PCT),
        Some('K') => f.min_k2o_pct = Some(HIGH_NUTRIENT_PCT),
        _ => {}
    }
    let is_nutrient_word = nutrient.is_some() && q.nutrient.is_empty();
    if !text.is_empty() && !is_nutrient_word {
        if catalog::crops::resolve(text).is_some() {
            f.crop = Some(text.to_owned());
        } else {
            f.text = Some(text.chars().take(100).collect());
        }
    }
    f
}

pub async fn find(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FindQuery>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let (_, village) = shop::farmer_village(db, actor).await?;
    let page_no = q.page.unwrap_or(1).clamp(1, 1000);
    let sort = if q.sort == "price" {
        SortBy::PriceLow
    } else {
        SortBy::NameZh
    };
    let (total, results, has_next) = match &village {
        Some(v) => {
            let found = catalog::search(
                db,
                &filter_of(&q, Some(v.id)),
                sort,
                (page_no - 1) * PAGE,
                PAGE,
            )
            .await?;
            let ids: Vec<i64> = found.items.iter().map(|p| p.id).collect();
            let offers = shop::village_offers(db, v.id, &ids).await?;
            (
                found.total,
                cards(&found.items, &offers, ctx.lang),
                found.has_next,
            )
        }
        None => (0, vec![], false),
    };
    let mut t = Find {
        c: Chrome::new(&ctx, ctx.l("找农资", "Find"), "find"),
        q: q.q.clone(),
        cat: q.cat.clone(),
        nutrient: q.nutrient.clone(),
        sort: q.sort.clone(),
        total,
        results,
        prev_url: None,
        next_url: None,
        no_village: village.is_none(),
    };
    let base = t.with("", "");
    if page_no > 1 {
        t.prev_url = Some(format!("{base}&page={}", page_no - 1));
    }
    if has_next {
        t.next_url = Some(format!("{base}&page={}", page_no + 1));
    }
    page(&t)
}

pub struct OfferView {
    pub id: i64,
    pub dealer: String,
    pub dealer_phone: String,
    pub dealer_address: String,
    pub licences: Vec<String>,
    pub pack: String,
    pub price: String,
    pub per_kg: Option<String>,
    pub stock: String,
    pub stock_class: &'static str,
    pub available: i64,
    pub lot_no: Option<String>,
    pub trace_url: Option<String>,
    pub expires: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "product.html")]
struct ProductPage {
    c: Chrome,
    p: product::Model,
    name: String,
    description: String,
    category: &'static str,
    producer: String,
    producer_licence: String,
    analysis: Option<String>,
    seed: Option<String>,
    pesticide: Option<String>,
    toxicity: String,
    uses: Vec<view::UseRow>,
    offers: Vec<OfferView>,
    added: bool,
    idem: String,
}

#[derive(Deserialize)]
pub struct AddedQuery {
    added: Option<String>,
}

pub async fn product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<AddedQuery>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let p = catalog::product(db, id).await?;
    if p.status != domain::catalog::ProductStatus::Active {
        return Err(WebError::NotFound);
    }
    let (_, village) = shop::farmer_village(db, actor).await?;
    let producer = catalog::producers_by_ids(db, &[p.producer_id])
        .await?
        .into_iter()
        .next();
    let analysis = catalog::fertiliser_specs(db, &[p.id])
        .await?
        .into_iter()
        .next()
        .map(|f| {
            let mut s = format!("N-P₂O₅-K₂O {}-{}-{}", f.n_pct, f.p2o5_pct, f.k2o_pct);
            if f.chloride == "CHLORIDE" {
                s.push_str(lang.pick("（含氯）", " (contains chloride)"));
            }
            s
        });
    let seed = catalog::seed_specs(db, &[p.id])
        .await?
        .into_iter()
        .next()
        .map(|s| {
            format!(
                "{} · {} {} · {} {}%",
                lang.pick(&s.variety_zh, &s.variety_en),
                lang.pick("审定编号", "approval"),
                s.approval_no,
                lang.pick("发芽率", "germination"),
                s.germination_pct
            )
        });
    let spec = catalog::pesticide_specs(db, &[p.id])
        .await?
        .into_iter()
        .next();
    let pesticide = spec.as_ref().map(|s| {
        format!(
            "{} · {}",
            s.actives_text,
            lang.pick(&s.formulation_zh, &s.formulation)
        )
    });
    let toxicity = spec
        .as_ref()
        .map(|s| view::toxicity_words(&s.toxicity, lang).to_owned())
        .unwrap_or_default();
    let uses = view::uses(catalog::uses_by_products(db, &[p.id]).await?, lang);
    let offers = match &village {
        Some(v) => shop::village_offers(db, v.id, &[p.id]).await?,
        None => vec![],
    };
    let dealer_ids: Vec<i64> = offers.iter().map(|o| o.dealer.id).collect();
    let licences = domain::regions::licences_of(db, &dealer_ids).await?;
    let today = domain::today();
    let offers = offers
        .into_iter()
        .map(|o| OfferView {
            id: o.offer.id,
            dealer: lang.pick(&o.dealer.name_zh, &o.dealer.name_en).to_owned(),
            dealer_phone: o.dealer.phone.clone(),
            dealer_address: o.dealer.address.clone(),
            licences: licences
                .iter()
                .filter(|l| l.dealer_id == o.dealer.id && l.valid_to >= today)
                .filter(|l| licence_matters(l.kind, &p))
                .map(|l| format!("{} {}", view::licence_words(l.kind, lang), l.number))
                .collect(),
            pack: domain::catalog::pack_label(&o.sku),
            price: money(o.offer.price_fen),
            per_kg: shop::fen_per_kg(o.offer.price_fen, &o.sku).map(|f| {
                let unit = if matches!(o.sku.pack_unit.as_str(), "L" | "ml") {
                    "L"
                } else {
                    "kg"
                };
                format!("{}/{unit}", money(f))
            }),
            stock: view::stock_words(o.available, &o.sku.pack_unit, lang),
            stock_class: view::stock_class(o.available),
            available: o.available,
            lot_no: o.next_lot.as_ref().map(|l| l.lot_no.clone()),
            trace_url: o
                .next_lot
                .as_ref()
                .map(|l| format!("/t/{}", urlencode(&l.trace_code))),
            expires: o.next_lot.as_ref().map(|l| l.expires_on.to_string()),
        })
        .collect();
    page(&ProductPage {
        c: Chrome::new(&ctx, lang.pick(&p.name_zh, &p.name_en), "find"),
        name: lang.pick(&p.name_zh, &p.name_en).to_owned(),
        description: lang.pick(&p.description_zh, &p.description_en).to_owned(),
        category: view::category_words(p.category, lang),
        producer: producer
            .as_ref()
            .map(|x| lang.pick(&x.name_zh, &x.name_en).to_owned())
            .unwrap_or_default(),
        producer_licence: producer.and_then(|x| x.licence_no).unwrap_or_default(),
        analysis,
        seed,
        pesticide,
        toxicity,
        uses,
        offers,
        added: q.added.is_some(),
        idem: super::ctx::random_token(),
        p,
    })
}

/// The dealer licences a buyer of this product should see: the pesticide licence (and the
/// restricted-use one for a restricted product) for pesticides, the seed licence for seed.
/// Fertiliser needs no dealer licence.
fn licence_matters(kind: LicenceKind, p: &product::Model) -> bool {
    match p.category {
        Category::Pesticide => {
            kind == LicenceKind::PesticideBusiness
                || (p.restricted_use && kind == LicenceKind::RestrictedPesticide)
        }
        Category::Seed => kind == LicenceKind::SeedBusiness,
        Category::Fertiliser => false,
    }
}

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

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
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
        form.idem = super::ctx::random_token();
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

#[derive(askama::Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    c: Chrome,
    rows: Vec<OrderRow>,
    placed: Vec<i64>,
}

#[derive(Deserialize)]
pub struct OrdersQuery {
    #[serde(default)]
    placed: String,
}

pub async fn orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OrdersQuery>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let list = orders::farmer_orders(state.db(), actor, 100, 0).await?;
    page(&OrdersPage {
        c: Chrome::new(&ctx, ctx.l("我的订单", "My orders"), "orders"),
        rows: order_rows(&state, list, ctx.lang).await?,
        placed: q.placed.split(',').filter_map(|s| s.parse().ok()).collect(),
    })
}

pub struct Step {
    pub words: &'static str,
    pub at: String,
    pub reason: String,
}

#[derive(askama::Template)]
#[template(path = "order.html")]
struct OrderPage {
    c: Chrome,
    id: i64,
    status: String,
    status_words: &'static str,
    updated: String,
    dealer: String,
    dealer_phone: String,
    place: String,
    delivery: &'static str,
    payment: String,
    lines: Vec<(String, String, String)>,
    total: String,
    steps: Vec<Step>,
    can_cancel: bool,
    flag: Option<String>,
    cancel_reason: Option<String>,
    placed_by_other: bool,
}

async fn farmer_order(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<domain::entities::customer_order::Model, WebError> {
    Ok(orders::visible_order(state.db(), actor, id).await?)
}

pub async fn order(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let o = farmer_order(&state, actor, id).await?;
    let d = domain::regions::dealer(db, o.dealer_id).await?;
    let place = match o.delivery_mode {
        DeliveryMode::VillageStation => match o.station_id {
            Some(s) => domain::regions::station(db, s)
                .await?
                .map(|s| {
                    format!(
                        "{} · {} · {}",
                        lang.pick(&s.name_zh, &s.name_en),
                        s.hours,
                        s.phone
                    )
                })
                .unwrap_or_default(),
            None => String::new(),
        },
        DeliveryMode::Home => o.delivery_address.clone().unwrap_or_default(),
        _ => d.address.clone(),
    };
    let lines = orders::lines_of(db, o.id)
        .await?
        .into_iter()
        .map(|l| {
            (
                format!(
                    "{} {}",
                    lang.pick(&l.product_name_zh, &l.product_name_en),
                    l.pack
                ),
                format!("× {}", l.quantity),
                money(l.unit_price_fen * l.quantity),
            )
        })
        .collect();
    let steps = orders::events_of(db, o.id)
        .await?
        .into_iter()
        .map(|e| Step {
            words: view::status_words(e.to_status, lang),
            at: china_time(e.at),
            reason: e.reason,
        })
        .collect();
    page(&OrderPage {
        c: Chrome::new(
            &ctx,
            &format!("{} #{}", lang.pick("订单", "Order"), o.id),
            "orders",
        ),
        id: o.id,
        status_words: view::status_words(o.status, lang),
        updated: o.updated_at.to_rfc3339(),
        dealer: lang.pick(&d.name_zh, &d.name_en).to_owned(),
        dealer_phone: d.phone.clone(),
        place,
        delivery: view::delivery_words(o.delivery_mode, lang),
        payment: format!(
            "{} · {}",
            view::payment_words(o.payment_method, lang),
            view::payment_status_words(o.payment_status, lang)
        ),
        lines,
        total: money(o.total_fen),
        steps,
        can_cancel: o.status == Status::Placed,
        flag: orders::flag_reason(&o, ctx.lang).filter(|_| o.flagged),
        cancel_reason: o
            .cancel_reason
            .clone()
            .filter(|_| o.status == Status::Cancelled),
        placed_by_other: o.placed_by.is_some(),
        status: o.status.to_string(),
    })
}

/// `GET /orders/{id}/status`: what the order page polls to update itself.
pub async fn order_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let o = farmer_order(&state, actor, id).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "status": o.status, "updatedAt": o.updated_at.to_rfc3339() })),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct CancelForm {
    csrf: String,
}

pub async fn order_cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CancelForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    farmer_order(&state, actor, id).await?;
    let r = orders::transition(
        state.db(),
        Some(actor),
        id,
        Status::Cancelled,
        "",
        state.services.payments.as_deref(),
        order_settings(&state),
    )
    .await;
    match r {
        Ok((_, events)) => publish_events(&state, events).await,
        // Already cancelled (a double tap) or moved on by the dealer: the page shows its state.
        Err(domain::Error::IllegalTransition { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}

pub struct FieldRow {
    pub id: i64,
    pub name: String,
    pub area: String,
    pub crops: String,
    pub tested: Option<String>,
    pub advice: bool,
}

#[derive(askama::Template)]
#[template(path = "fields.html")]
struct FieldsPage {
    c: Chrome,
    rows: Vec<FieldRow>,
}

pub async fn fields(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let (actor, farmer) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let published: BTreeSet<i64> = domain::agronomy::for_farmer(db, actor)
        .await?
        .into_iter()
        .map(|r| r.field_id)
        .collect();
    let mut rows = Vec::new();
    for f in domain::fields::of_farmer(db, farmer.id).await? {
        let crops: Vec<String> = domain::agronomy::crop_plans_of(db, f.id)
            .await?
            .into_iter()
            .map(|p| format!("{} {}", view::crop_words(&p.crop, lang), p.season))
            .collect();
        let tested = domain::agronomy::soil_tests_of(db, f.id)
            .await?
            .into_iter()
            .map(|t| t.sampled_on)
            .max()
            .map(|d| d.to_string());
        rows.push(FieldRow {
            id: f.id,
            name: f.name.clone(),
            area: format!("{} {}", f.area_mu, lang.pick("亩", "mu")),
            crops: crops.join(" · "),
            tested,
            advice: published.contains(&f.id),
        });
    }
    page(&FieldsPage {
        c: Chrome::new(&ctx, ctx.l("我的地块", "My fields"), "fields"),
        rows,
    })
}

pub struct SoilValue {
    pub name: &'static str,
    pub value: String,
}

pub struct BasketRow {
    pub product: String,
    pub analysis: String,
    pub bags: String,
    pub cost: String,
}

pub struct AdviceView {
    pub id: i64,
    pub crop: String,
    pub n: String,
    pub p: String,
    pub k: String,
    pub basket: Vec<BasketRow>,
    pub cost: String,
    pub feasible: bool,
    pub notes: String,
    pub signed_by: String,
    pub signed_at: String,
    pub current: bool,
}

#[derive(askama::Template)]
#[template(path = "field.html")]
struct FieldPage {
    c: Chrome,
    name: String,
    area: String,
    soil: Vec<SoilValue>,
    soil_meta: Option<String>,
    advice: Vec<AdviceView>,
}

pub async fn field(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let db = state.db();
    let lang = ctx.lang;
    let f = domain::fields::get(db, actor, id).await?;
    let test = domain::agronomy::soil_tests_of(db, f.id)
        .await?
        .into_iter()
        .max_by_key(|t| (t.sampled_on, t.id));
    let mut soil = Vec::new();
    let mut soil_meta = None;
    if let Some(t) = &test {
        soil_meta = Some(format!(
            "{} {} · {} {}",
            lang.pick("采样", "sampled"),
            t.sampled_on,
            lang.pick("化验", "lab"),
            t.lab
        ));
        let mut push = |name: &'static str, v: Option<f64>, unit: &str| {
            if let Some(v) = v {
                soil.push(SoilValue {
                    name,
                    value: format!("{v} {unit}"),
                });
            }
        };
        push("pH", Some(t.ph), "");
        push(
            lang.pick("有机质", "Organic matter"),
            Some(t.organic_matter_g_kg),
            "g/kg",
        );
        push(
            lang.pick("碱解氮", "Alkali-hydrolysable N"),
            Some(t.alkali_n_mg_kg),
            "mg/kg",
        );
        push(
            lang.pick("有效磷（Olsen）", "Olsen P"),
            t.olsen_p_mg_kg,
            "mg/kg",
        );
        push(
            lang.pick("有效磷（Mehlich-3）", "Mehlich-3 P"),
            t.mehlich3_p_mg_kg,
            "mg/kg",
        );
        push(
            lang.pick("速效钾", "Available K"),
            Some(t.available_k_mg_kg),
            "mg/kg",
        );
    }
    let plans = domain::agronomy::crop_plans_of(db, f.id).await?;
    let mut advice = Vec::new();
    for r in domain::agronomy::of_field(db, actor, f.id).await? {
        let basket: Option<domain::agronomy::Basket> =
            serde_json::from_value(r.basket.clone()).ok();
        let plan = plans.iter().find(|p| p.id == r.crop_plan_id);
        let signer = match r.agronomist_id {
            Some(a) => domain::accounts::user_by_id(db, a)
                .await
                .map(|u| u.display_name)
                .unwrap_or_default(),
            None => String::new(),
        };
        advice.push(AdviceView {
            id: r.id,
            crop: plan
                .map(|p| format!("{} {}", view::crop_words(&p.crop, lang), p.season))
                .unwrap_or_default(),
            n: view::half_kg(r.n_kg_per_mu),
            p: view::half_kg(r.p2o5_kg_per_mu),
            k: view::half_kg(r.k2o_kg_per_mu),
            basket: basket
                .as_ref()
                .map(|b| {
                    b.lines
                        .iter()
                        .map(|l| BasketRow {
                            product: lang.pick(&l.product_zh, &l.product_en).to_owned(),
                            analysis: l.analysis.clone(),
                            bags: match lang {
                                Lang::Zh => format!("{} 袋 × {} kg", l.bags, l.bag_kg),
                                Lang::En => format!("{} bags × {} kg", l.bags, l.bag_kg),
                            },
                            cost: money(l.bags * l.price_fen_per_bag),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            cost: basket
                .as_ref()
                .map(|b| money(b.cost_fen))
                .unwrap_or_default(),
            feasible: basket.as_ref().is_some_and(|b| b.feasible),
            notes: lang.pick(&r.notes_zh, &r.notes_en).to_owned(),
            signed_by: signer,
            signed_at: r.signed_at.map(china_time).unwrap_or_default(),
            current: r.status == domain::types::RecommendationStatus::Published,
        });
    }
    page(&FieldPage {
        c: Chrome::new(&ctx, &f.name, "fields"),
        name: f.name.clone(),
        area: format!("{} {}", f.area_mu, lang.pick("亩", "mu")),
        soil,
        soil_meta,
        advice,
    })
}

/// `POST /recommendations/{id}/cart`: "order this": the basket goes into the cart at today's
/// prices, and what moved since the agronomist priced it is said on the cart page.
pub async fn recommendation_cart(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    match domain::agronomy::basket_to_cart(state.db(), actor, id).await {
        Ok(warnings) => {
            let qs: Vec<String> = warnings
                .iter()
                .map(|w| format!("warn={}", urlencode(ctx.l(&w.zh, &w.en))))
                .collect();
            Ok(Redirect::to(&format!("/cart?{}", qs.join("&"))).into_response())
        }
        Err(e) => {
            let msgs = messages(e, &ctx)?;
            let qs: Vec<String> = msgs
                .iter()
                .map(|m| format!("warn={}", urlencode(m)))
                .collect();
            Ok(Redirect::to(&format!("/cart?{}", qs.join("&"))).into_response())
        }
    }
}

#[derive(askama::Template)]
#[template(path = "scan.html")]
struct ScanPage {
    c: Chrome,
}

#[derive(Deserialize)]
pub struct ScanQuery {
    code: Option<String>,
}

/// `GET /scan`: the camera where the browser can read a QR code, typing otherwise; a code goes
/// to its trace page. Open to anyone: a trace is public.
pub async fn scan(ctx: Ctx, Query(q): Query<ScanQuery>) -> WebResult {
    if let Some(code) = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        // A scanned Digital Link is a URL; its path is what the trace page takes.
        let code: String = code.chars().filter(|c| !c.is_control()).take(300).collect();
        return Ok(Redirect::to(&format!("/t/{}", urlencode(&code))).into_response());
    }
    page(&ScanPage {
        c: Chrome::new(&ctx, ctx.l("扫码查真伪", "Scan a bag"), "scan"),
    })
}
