//! The home page (or the landing page for a visitor) and finding products: the product cards
//! both show, and how a farmer's words become a search filter.

use std::collections::BTreeSet;

use crate::web::ctx::Query;
use axum::extract::State;
use domain::Lang;
use domain::catalog::{self, Category, ProductFilter, SortBy};
use domain::entities::product;
use domain::orders;
use domain::shop::{self, VillageOffer};
use serde::Deserialize;

use crate::state::AppState;
use crate::web::ctx::{page, urlencode};
use crate::web::view::{self, china_time, money};
use crate::web::{Chrome, Ctx, WebError, WebResult};

use super::{OrderRow, order_rows};

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
    match ctx.session.as_ref().map(|s| s.actor.role) {
        Some(domain::accounts::Role::Agronomist) => {
            return Err(WebError::Redirect("/agronomist".into()));
        }
        Some(domain::accounts::Role::Regulator) => {
            return Err(WebError::Redirect("/bureau".into()));
        }
        _ => {}
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
