//! The bureau's statistics and open data. A scenario of sales across the demo county's
//! townships and months (registered farmers, counter sales with a phone and with nothing,
//! sales at the edges of the range and of months) is written, then every figure of the
//! statistics (domain tables, CSV downloads and the page) is compared with the same figure
//! computed here from the raw rows another way (a loop over the sale lines in Rust). Open data:
//! a cell of 4 households is withheld and 5 shown, 2 dealers withheld and 3 shown; the datasets
//! name nobody; unpublished datasets are 404. Only the county's regulators and admins see its
//! statistics.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::accounts::{Actor, Role};
use domain::bureau::open_data::{self, Dataset};
use domain::bureau::stats::{self, StatsQuery};
use domain::entities::{
    app_user, customer_order, dealer, fertiliser_spec, field, location, lot, order_line, product,
    recommendation, region, sale, sale_line, sku, soil_test,
};
use domain::types::{Category, Level, SaleChannel};
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// Lines, packs, fen, fertiliser kg.
type Sums = (i64, i64, i64, f64);
/// Township, month, crop, target, product.
type RestrictedKey = (Option<i64>, String, Option<String>, Option<String>, i64);

const FROM: &str = "2025-01-01";
const TO: &str = "2025-12-31";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

struct World {
    county: region::Model,
    townships: Vec<region::Model>,
    /// Villages by township.
    villages: BTreeMap<i64, Vec<region::Model>>,
    dealers: Vec<dealer::Model>,
    location_of: HashMap<i64, i64>,
    /// (sku, product, a lot of it)
    skus: Vec<(sku::Model, product::Model, i64)>,
    admin_id: i64,
    next_phone: u64,
}

async fn world(app: &TestApp) -> World {
    app.load_demo().await;
    let db = app.db();
    let county = region::Entity::find()
        .filter(region::Column::Level.eq(Level::County))
        .order_by_asc(region::Column::Id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let townships = region::Entity::find()
        .filter(region::Column::ParentId.eq(county.id))
        .order_by_asc(region::Column::Id)
        .all(db)
        .await
        .unwrap();
    let mut villages = BTreeMap::new();
    for t in &townships {
        villages.insert(
            t.id,
            region::Entity::find()
                .filter(region::Column::ParentId.eq(t.id))
                .order_by_asc(region::Column::Id)
                .all(db)
                .await
                .unwrap(),
        );
    }
    let dealers = dealer::Entity::find()
        .order_by_asc(dealer::Column::Id)
        .all(db)
        .await
        .unwrap();
    let mut location_of = HashMap::new();
    for l in location::Entity::find().all(db).await.unwrap() {
        if let Some(dl) = l.dealer_id {
            location_of.entry(dl).or_insert(l.id);
        }
    }
    let mut skus = Vec::new();
    for s in sku::Entity::find()
        .order_by_asc(sku::Column::Id)
        .all(db)
        .await
        .unwrap()
    {
        let p = product::Entity::find_by_id(s.product_id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        if let Some(l) = lot::Entity::find()
            .filter(lot::Column::SkuId.eq(s.id))
            .one(db)
            .await
            .unwrap()
        {
            skus.push((s, p, l.id));
        }
    }
    let admin_id = app_user::Entity::find()
        .filter(app_user::Column::Role.eq(Role::Admin))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id;
    World {
        county,
        townships,
        villages,
        dealers,
        location_of,
        skus,
        admin_id,
        next_phone: 13_700_000_000,
    }
}

impl World {
    fn sku_where(&self, f: impl Fn(&sku::Model, &product::Model) -> bool) -> &sku::Model {
        &self
            .skus
            .iter()
            .find(|(s, p, _)| f(s, p))
            .expect("a demo SKU of that kind")
            .0
    }
    fn village(&self, township: usize, i: usize) -> i64 {
        let t = self.townships[township].id;
        let v = &self.villages[&t];
        v[i % v.len()].id
    }
}

async fn farmer(app: &TestApp, w: &mut World, village: i64) -> i64 {
    w.next_phone += 1;
    app_user::ActiveModel {
        phone: Set(w.next_phone.to_string()),
        password_hash: Set("x".into()),
        role: Set(Role::Farmer),
        display_name: Set(format!("农户{}", w.next_phone)),
        village_id: Set(Some(village)),
        disabled: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap()
    .id
}

struct Buyer {
    user: Option<i64>,
    village: Option<i64>,
    phone: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn sell(
    app: &TestApp,
    w: &World,
    dealer: i64,
    buyer: &Buyer,
    at: DateTime<Utc>,
    crop: Option<&str>,
    target: Option<&str>,
    lines: &[(i64, i64, i64)],
) {
    let lot_of = |s: i64| w.skus.iter().find(|x| x.0.id == s).unwrap().2;
    let s = sale::ActiveModel {
        dealer_id: Set(dealer),
        location_id: Set(w.location_of[&dealer]),
        channel: Set(SaleChannel::Counter),
        buyer_user_id: Set(buyer.user),
        buyer_name: Set(buyer.phone.as_ref().map(|_| "张三".to_owned())),
        buyer_phone: Set(buyer.phone.clone()),
        buyer_village_id: Set(buyer.village),
        crop: Set(crop.map(str::to_owned)),
        target: Set(target.map(str::to_owned)),
        total_fen: Set(lines.iter().map(|l| l.1 * l.2).sum()),
        actor_id: Set(w.admin_id),
        sold_at: Set(at),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    for (sku_id, q, price) in lines {
        sale_line::ActiveModel {
            sale_id: Set(s.id),
            sku_id: Set(*sku_id),
            lot_id: Set(lot_of(*sku_id)),
            quantity: Set(*q),
            unit_price_fen: Set(*price),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
}

/// The scenario: sales in 2025 across the three townships and several months, by registered
/// farmers, counter buyers with a phone and with nothing; two sales just outside the range.
async fn scenario(app: &TestApp, w: &mut World) {
    let fert = w
        .sku_where(|s, p| p.category == Category::Fertiliser && s.pack_unit == "kg")
        .id;
    let seed = w.sku_where(|_, p| p.category == Category::Seed).id;
    let restricted = w
        .skus
        .iter()
        .find(|(_, p, _)| p.restricted_use)
        .map(|x| x.0.id);
    let pesticide = w.sku_where(|_, p| p.category == Category::Pesticide).id;
    let dl: Vec<i64> = w.dealers.iter().map(|x| x.id).collect();
    for i in 0..12u32 {
        let v = w.village(i as usize % 3, i as usize);
        let f = farmer(app, w, v).await;
        let month = 1 + (i % 6);
        sell(
            app,
            w,
            dl[i as usize % dl.len()],
            &Buyer {
                user: Some(f),
                village: Some(v),
                phone: None,
            },
            utc(2025, month, 10 + i, 2, 0),
            Some("RICE"),
            Some("稻飞虱"),
            &[
                (fert, 1 + i as i64 % 4, 12_000 + 100 * i as i64),
                (seed, 2, 3_500),
            ],
        )
        .await;
        if let Some(r) = restricted {
            sell(
                app,
                w,
                dl[(i as usize + 1) % dl.len()],
                &Buyer {
                    user: Some(f),
                    village: Some(v),
                    phone: None,
                },
                utc(2025, month, 11 + i, 3, 0),
                Some(if i % 2 == 0 { "RICE" } else { "WHEAT_WINTER" }),
                Some(if i % 3 == 0 { "稻飞虱" } else { "蚜虫" }),
                &[(r, 1, 4_800)],
            )
            .await;
        }
    }
    // Counter sales: no village (the dealer's township), one with a phone, one with nothing.
    for (k, phone) in [(0usize, Some("13912345678")), (1, None), (2, None)] {
        sell(
            app,
            w,
            dl[k % dl.len()],
            &Buyer {
                user: None,
                village: None,
                phone: phone.map(str::to_owned),
            },
            utc(2025, 3, 31, 16, 30), // 1 April 00:30 China time
            None,
            None,
            &[(pesticide, 3, 2_600), (fert, 2, 11_800)],
        )
        .await;
    }
    // The range's edges: 00:00 China time on 1 January is in, a minute before is out; 24:00 on
    // 31 December is out.
    let v = w.village(1, 0);
    sell(
        app,
        w,
        dl[0],
        &Buyer {
            user: None,
            village: Some(v),
            phone: None,
        },
        utc(2024, 12, 31, 16, 0),
        None,
        None,
        &[(fert, 5, 10_000)],
    )
    .await;
    for at in [utc(2024, 12, 31, 15, 59), utc(2025, 12, 31, 16, 0)] {
        sell(
            app,
            w,
            dl[0],
            &Buyer {
                user: None,
                village: Some(v),
                phone: None,
            },
            at,
            None,
            None,
            &[(fert, 7, 99_900)],
        )
        .await;
    }
}

/// The regulator of the demo county, as the domain sees them.
async fn regulator(app: &TestApp) -> Actor {
    let u = app_user::Entity::find()
        .filter(app_user::Column::Role.eq(Role::Regulator))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    domain::accounts::actor_for(app.db(), &u).await.unwrap()
}

fn range() -> StatsQuery {
    StatsQuery {
        county_id: None,
        from: Some(d(FROM)),
        to: Some(d(TO)),
        township_id: None,
    }
}

/// Every sale line of the county in the range with its township and month, computed here from
/// the raw rows by the rule the statistics document.
struct Line {
    township: Option<i64>,
    month: String,
    sale: sale::Model,
    line: sale_line::Model,
    sku: sku::Model,
    product: product::Model,
    spec: Option<fertiliser_spec::Model>,
}

async fn lines(app: &TestApp, w: &World, from: NaiveDate, to: NaiveDate) -> Vec<Line> {
    let db = app.db();
    let regions: HashMap<i64, region::Model> = region::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let township_of_region = |id: i64| -> Option<Option<i64>> {
        let r = &regions[&id];
        match r.level {
            Level::Village => {
                let t = &regions[&r.parent_id.unwrap()];
                (t.parent_id == Some(w.county.id)).then_some(Some(t.id))
            }
            Level::Township => (r.parent_id == Some(w.county.id)).then_some(Some(r.id)),
            Level::County => (r.id == w.county.id).then_some(None),
            Level::Province => None,
        }
    };
    let dealers: HashMap<i64, dealer::Model> = dealer::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|x| (x.id, x))
        .collect();
    let skus: HashMap<i64, sku::Model> = sku::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|x| (x.id, x))
        .collect();
    let products: HashMap<i64, product::Model> = product::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|x| (x.id, x))
        .collect();
    let specs: HashMap<i64, fertiliser_spec::Model> = fertiliser_spec::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|x| (x.product_id, x))
        .collect();
    let sales: HashMap<i64, sale::Model> = sale::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|x| (x.id, x))
        .collect();
    let mut out = Vec::new();
    for l in sale_line::Entity::find()
        .order_by_asc(sale_line::Column::Id)
        .all(db)
        .await
        .unwrap()
    {
        let s = &sales[&l.sale_id];
        let local = s.sold_at + chrono::Duration::hours(8);
        if local.date_naive() < from || local.date_naive() > to {
            continue;
        }
        let t = match s.buyer_village_id {
            Some(v) => township_of_region(v),
            None => township_of_region(dealers[&s.dealer_id].region_id),
        };
        let Some(t) = t else { continue };
        let k = skus[&l.sku_id].clone();
        let p = products[&k.product_id].clone();
        out.push(Line {
            township: t,
            month: local.format("%Y-%m").to_string(),
            sale: s.clone(),
            spec: specs.get(&p.id).cloned(),
            line: l,
            sku: k,
            product: p,
        });
    }
    out
}

fn kg(l: &Line) -> f64 {
    l.line.quantity as f64
        * l.sku.pack_size
        * match l.sku.pack_unit.as_str() {
            "kg" => 1.0,
            "g" => 0.001,
            _ => 0.0,
        }
}

/// A statistics CSV as downloaded: its "about" rows (name -> value) and its table (after the
/// empty row: header, then rows).
fn parse_csv(body: &str) -> (HashMap<String, String>, Vec<String>, Vec<Vec<String>>) {
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 BOM for Excel");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut about = HashMap::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut in_table = false;
    for rec in r.records() {
        let rec: Vec<String> = rec.unwrap().iter().map(str::to_owned).collect();
        if !in_table {
            if rec.len() == 1 && rec[0].is_empty() {
                in_table = true;
            } else {
                about.insert(rec[0].clone(), rec.get(1).cloned().unwrap_or_default());
            }
        } else {
            table.push(rec);
        }
    }
    let header = table.remove(0);
    (about, header, table)
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The part of the page holding one table.
fn section<'a>(page: &'a str, key: &str) -> &'a str {
    let i = page
        .find(&format!("data-test=\"stats-table-{key}\""))
        .unwrap_or_else(|| panic!("the page has the {key} table"));
    let j = page[i..].find("</table>").unwrap();
    &page[i..i + j]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * (1.0 + a.abs().max(b.abs()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_match_the_sale_lines_summed_another_way() {
    let app = spawn_app().await;
    let mut w = world(&app).await;
    scenario(&app, &mut w).await;
    let reg = regulator(&app).await;
    let st = stats::statistics(app.db(), &reg, &range()).await.unwrap();
    let ls = lines(&app, &w, d(FROM), d(TO)).await;
    assert!(ls.len() > 30, "the scenario sells: {}", ls.len());

    // Sales by category.
    let mut want: BTreeMap<(Option<i64>, String, &str), Sums> = BTreeMap::new();
    for l in &ls {
        let e = want
            .entry((l.township, l.month.clone(), l.product.category.as_str()))
            .or_default();
        e.0 += 1;
        e.1 += l.line.quantity;
        e.2 += l.line.quantity * l.line.unit_price_fen;
        if l.product.category == Category::Fertiliser {
            e.3 += kg(l);
        }
    }
    let got: BTreeMap<_, _> = st
        .categories
        .iter()
        .map(|r| {
            (
                (r.township_id, r.month.clone(), r.category.as_str()),
                (r.lines, r.quantity, r.amount_fen, r.kg),
            )
        })
        .collect();
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (k, a) in &want {
        let b = &got[k];
        assert!(
            a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && close(a.3, b.3),
            "{k:?}: {a:?} vs {b:?}"
        );
    }
    // The edges: the 1 January 00:00 sale is in January, the two outside are not, and the
    // 31 March 16:30 UTC sales are April's.
    assert!(ls.iter().all(|l| l.line.unit_price_fen != 99_900));
    assert!(
        st.categories
            .iter()
            .all(|r| r.amount_fen % 99_900 != 0 || r.amount_fen == 0)
    );
    assert!(
        ls.iter()
            .any(|l| l.month == "2025-04" && l.sale.buyer_village_id.is_none())
    );
    assert!(st.categories.iter().any(|r| r.month == "2025-01"));

    // Sales by product.
    let mut want: BTreeMap<(Option<i64>, i64), Sums> = BTreeMap::new();
    for l in &ls {
        let e = want.entry((l.township, l.product.id)).or_default();
        e.0 += 1;
        e.1 += l.line.quantity;
        e.2 += l.line.quantity * l.line.unit_price_fen;
        if l.product.category == Category::Fertiliser {
            e.3 += kg(l);
        }
    }
    assert_eq!(want.len(), st.products.len());
    for r in &st.products {
        let a = want[&(r.township_id, r.product_id)];
        assert!(
            a.0 == r.lines && a.1 == r.quantity && a.2 == r.amount_fen && close(a.3, r.kg),
            "{r:?} vs {a:?}"
        );
    }

    // Restricted-use pesticides by crop and target.
    let mut want: BTreeMap<RestrictedKey, (BTreeSet<i64>, i64, i64)> = BTreeMap::new();
    for l in ls.iter().filter(|l| l.product.restricted_use) {
        let e = want
            .entry((
                l.township,
                l.month.clone(),
                l.sale.crop.clone(),
                l.sale.target.clone(),
                l.product.id,
            ))
            .or_default();
        e.0.insert(l.sale.id);
        e.1 += l.line.quantity;
        e.2 += l.line.quantity * l.line.unit_price_fen;
    }
    assert!(!want.is_empty(), "the demo has a restricted-use pesticide");
    assert_eq!(want.len(), st.restricted.len());
    for r in &st.restricted {
        let a = &want[&(
            r.township_id,
            r.month.clone(),
            r.crop.clone(),
            r.target.clone(),
            r.product_id,
        )];
        assert_eq!(
            (a.0.len() as i64, a.1, a.2),
            (r.sales, r.quantity, r.amount_fen)
        );
    }

    // Nutrients sold, area, recommended, gap.
    let fields = field::Entity::find().all(app.db()).await.unwrap();
    let village_town: HashMap<i64, i64> = w
        .villages
        .iter()
        .flat_map(|(t, vs)| vs.iter().map(move |v| (v.id, *t)))
        .collect();
    let recs = recommendation::Entity::find().all(app.db()).await.unwrap();
    let end = utc(2025, 12, 31, 16, 0);
    let mut want: BTreeMap<Option<i64>, [f64; 8]> = BTreeMap::new();
    for l in &ls {
        if let Some(s) = &l.spec {
            let e = want.entry(l.township).or_default();
            e[0] += kg(l) * s.n_pct / 100.0;
            e[1] += kg(l) * s.p2o5_pct / 100.0;
            e[2] += kg(l) * s.k2o_pct / 100.0;
        }
    }
    for f in &fields {
        let Some(t) = village_town.get(&f.village_id) else {
            continue;
        };
        let e = want.entry(Some(*t)).or_default();
        e[3] += f.area_mu;
        let mine: Vec<_> = recs
            .iter()
            .filter(|r| {
                r.field_id == f.id
                    && r.status == domain::types::RecommendationStatus::Published
                    && r.signed_at.is_some_and(|s| s < end)
            })
            .collect();
        if !mine.is_empty() {
            e[4] += f.area_mu;
        }
        for r in mine {
            e[5] += r.n_kg_per_mu * f.area_mu;
            e[6] += r.p2o5_kg_per_mu * f.area_mu;
            e[7] += r.k2o_kg_per_mu * f.area_mu;
        }
    }
    assert_eq!(want.len(), st.nutrients.len(), "{:?}", st.nutrients);
    for r in &st.nutrients {
        let a = want[&r.township_id];
        let b = [
            r.n_kg,
            r.p2o5_kg,
            r.k2o_kg,
            r.area_mu,
            r.advised_area_mu,
            r.advised_n_kg,
            r.advised_p2o5_kg,
            r.advised_k2o_kg,
        ];
        assert!((0..8).all(|i| close(a[i], b[i])), "{a:?} vs {b:?}");
        if a[3] > 0.0 && a[4] > 0.0 {
            let gap = a[0] / a[3] - a[5] / a[4];
            assert!(close(r.gap_per_mu()[0].unwrap(), gap));
        }
    }
    assert!(st.nutrients.iter().any(|r| r.n_kg > 0.0));

    // Coverage and adoption.
    let tests = soil_test::Entity::find().all(app.db()).await.unwrap();
    let ols = order_line::Entity::find().all(app.db()).await.unwrap();
    let orders: HashMap<i64, customer_order::Model> = customer_order::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut want: BTreeMap<i64, [i64; 4]> = BTreeMap::new();
    for f in &fields {
        let Some(t) = village_town.get(&f.village_id) else {
            continue;
        };
        let e = want.entry(*t).or_default();
        e[0] += 1;
        if tests
            .iter()
            .any(|s| s.field_id == f.id && s.sampled_on <= d(TO))
        {
            e[1] += 1;
        }
        for r in recs.iter().filter(|r| {
            r.field_id == f.id
                && r.status == domain::types::RecommendationStatus::Published
                && r.signed_at.is_some_and(|s| s < end)
        }) {
            e[2] += 1;
            if ols.iter().any(|l| {
                l.recommendation_id == Some(r.id)
                    && !matches!(
                        orders[&l.order_id].status,
                        domain::types::OrderStatus::Cancelled | domain::types::OrderStatus::Expired
                    )
            }) {
                e[3] += 1;
            }
        }
    }
    let got: BTreeMap<i64, [i64; 4]> = st
        .coverage
        .iter()
        .map(|r| (r.township_id, [r.fields, r.tested, r.published, r.ordered]))
        .collect();
    assert_eq!(want, got);

    // The page and its CSV downloads show the same figures, computed here once more.
    let mut b = Browser::new(&app);
    b.sign_in_demo("REGULATOR").await;
    let qs = format!("from={FROM}&to={TO}");
    let page = b.get(&format!("/bureau/stats?{qs}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg") && page.body.contains(r#"role="img""#));
    let town_zh = |t: Option<i64>| match t {
        Some(t) => w
            .townships
            .iter()
            .find(|x| x.id == t)
            .unwrap()
            .name_zh
            .clone(),
        None => "县城（未分乡镇）".to_owned(),
    };
    let lang = domain::Lang::Zh;
    let mut want: BTreeMap<(String, String, String), Sums> = BTreeMap::new();
    for l in &ls {
        let e = want
            .entry((
                town_zh(l.township),
                l.month.clone(),
                nongzi::web::view::category_words(l.product.category, lang).to_owned(),
            ))
            .or_default();
        e.0 += 1;
        e.1 += l.line.quantity;
        e.2 += l.line.quantity * l.line.unit_price_fen;
        if l.product.category == Category::Fertiliser {
            e.3 += kg(l);
        }
    }
    let csv = b.get(&format!("/bureau/stats/categories.csv?{qs}")).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let (about, header, rows) = parse_csv(&csv.body);
    assert_eq!(about["县"], w.county.name_zh);
    assert_eq!(about["日期范围"], format!("{FROM} .. {TO}"));
    assert!(about.contains_key("生成时间"));
    assert_eq!(header[5], "金额（元）");
    assert_eq!(rows.len(), want.len());
    let sec = section(&page.body, "categories");
    assert_eq!(sec.matches("data-test=\"stats-row\"").count(), want.len());
    for r in &rows {
        let a = want[&(r[0].clone(), r[1].clone(), r[2].clone())];
        assert_eq!(r[3], a.0.to_string());
        assert_eq!(r[4], a.1.to_string());
        assert_eq!(r[5], yuan(a.2));
        assert!(close(r[6].parse().unwrap(), a.3), "{r:?} vs {a:?}");
        assert!(
            sec.contains(&format!(">{}</td>", yuan(a.2))),
            "the page shows {}",
            yuan(a.2)
        );
    }
    // Products: amount per township and product.
    let csv = b.get(&format!("/bureau/stats/products.csv?{qs}")).await;
    let (_, _, rows) = parse_csv(&csv.body);
    let mut want: BTreeMap<(String, String), i64> = BTreeMap::new();
    for l in &ls {
        *want
            .entry((town_zh(l.township), l.product.name_zh.clone()))
            .or_default() += l.line.quantity * l.line.unit_price_fen;
    }
    assert_eq!(rows.len(), want.len());
    for r in &rows {
        assert_eq!(r[5], yuan(want[&(r[0].clone(), r[1].clone())]), "{r:?}");
    }
    // Restricted: sales per township and product.
    let csv = b.get(&format!("/bureau/stats/restricted.csv?{qs}")).await;
    let (_, _, rows) = parse_csv(&csv.body);
    let restricted_lines: Vec<_> = ls.iter().filter(|l| l.product.restricted_use).collect();
    assert_eq!(
        rows.iter()
            .map(|r| r[6].parse::<i64>().unwrap())
            .sum::<i64>(),
        restricted_lines
            .iter()
            .map(|l| l.line.quantity)
            .sum::<i64>()
    );
    // Nutrients: N sold per township.
    let csv = b.get(&format!("/bureau/stats/nutrients.csv?{qs}")).await;
    let (_, header, rows) = parse_csv(&csv.body);
    assert_eq!(header[3], "N 售出（千克）");
    let mut n_sold: BTreeMap<String, f64> = BTreeMap::new();
    for l in &ls {
        if let Some(s) = &l.spec {
            *n_sold.entry(town_zh(l.township)).or_default() += kg(l) * s.n_pct / 100.0;
        }
    }
    for r in &rows {
        let want = n_sold.get(&r[0]).copied().unwrap_or(0.0);
        assert!(
            (r[3].parse::<f64>().unwrap() - want).abs() < 0.0015,
            "{r:?} vs {want}"
        );
    }
    // Coverage: fields per township.
    let csv = b.get(&format!("/bureau/stats/coverage.csv?{qs}")).await;
    let (_, _, rows) = parse_csv(&csv.body);
    for r in &rows {
        let t = w.townships.iter().find(|t| t.name_zh == r[0]).unwrap();
        let n = fields
            .iter()
            .filter(|f| village_town.get(&f.village_id) == Some(&t.id))
            .count();
        assert_eq!(r[1], n.to_string());
    }
    // In English too, and an unknown table is 404, a bad date 400 on the CSV and 422 on the page.
    b.lang = "en";
    let en = b.get(&format!("/bureau/stats?{qs}")).await;
    assert_eq!(en.status, 200);
    assert!(en.body.contains("Fertiliser-reduction monitor"));
    assert_eq!(
        b.get(&format!("/bureau/stats/nope.csv?{qs}")).await.status,
        404
    );
    assert_eq!(
        b.get("/bureau/stats/categories.csv?from=2025-13-01")
            .await
            .status,
        400
    );
    let bad = b.get("/bureau/stats?from=2025-02-01&to=2025-01-01").await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body
            .contains("the end date cannot be before the start date")
    );

    // One township only: the same rows of that township.
    let t = w.townships[1].id;
    let one = stats::statistics(
        app.db(),
        &reg,
        &StatsQuery {
            township_id: Some(t),
            ..range()
        },
    )
    .await
    .unwrap();
    let mut only: Vec<_> = st
        .categories
        .iter()
        .filter(|r| r.township_id == Some(t))
        .cloned()
        .collect();
    only.sort_by(|a, b| (&a.month, a.category.as_str()).cmp(&(&b.month, b.category.as_str())));
    assert_eq!(one.categories, only);
    assert!(!only.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_are_the_county_bureaus_only() {
    let app = spawn_app().await;
    let _w = world(&app).await;
    let reg = regulator(&app).await;
    assert!(stats::statistics(app.db(), &reg, &range()).await.is_ok());
    // A regulator of another county.
    let other = region::ActiveModel {
        level: Set(Level::County),
        parent_id: Set(reg_parent(&app).await),
        name_zh: Set("邻县".into()),
        name_en: Set("Next County".into()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let stranger = Actor {
        county_ids: vec![other.id],
        ..reg.clone()
    };
    let own = reg.county_ids[0];
    let e = stats::statistics(
        app.db(),
        &stranger,
        &StatsQuery {
            county_id: Some(own),
            ..range()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, domain::Error::Forbidden { .. }), "{e:?}");
    // Without naming a county they see their own (empty) county, never this one.
    let theirs = stats::statistics(app.db(), &stranger, &range())
        .await
        .unwrap();
    assert_eq!(theirs.scope.county.id, other.id);
    assert!(theirs.categories.is_empty());
    for role in [
        Role::Farmer,
        Role::Dealer,
        Role::Agronomist,
        Role::StationKeeper,
    ] {
        let a = Actor {
            role,
            ..reg.clone()
        };
        let e = stats::statistics(app.db(), &a, &range()).await.unwrap_err();
        assert!(
            matches!(e, domain::Error::Forbidden { .. }),
            "{role:?}: {e:?}"
        );
        assert!(
            open_data::set_published(app.db(), &a, None, Dataset::Prices, true)
                .await
                .is_err()
        );
    }
    // Over HTTP: a farmer and a dealer get 403 on the page and the CSV.
    for role in ["FARMER", "DEALER (OWNER)", "AGRONOMIST"] {
        let mut b = Browser::new(&app);
        b.sign_in_demo(role).await;
        assert_eq!(b.get("/bureau/stats").await.status, 403, "{role}");
        assert_eq!(
            b.get("/bureau/stats/categories.csv").await.status,
            403,
            "{role}"
        );
        assert_eq!(b.get("/bureau/open-data").await.status, 403, "{role}");
    }
    // A reversed range and a township of no county are refused with the field named.
    let e = stats::statistics(
        app.db(),
        &reg,
        &StatsQuery {
            from: Some(d(TO)),
            to: Some(d(FROM)),
            ..range()
        },
    )
    .await
    .unwrap_err();
    let domain::Error::Invalid(errs) = e else {
        panic!("{e:?}")
    };
    assert_eq!(errs[0].field, "to");
}

async fn reg_parent(app: &TestApp) -> Option<i64> {
    region::Entity::find()
        .filter(region::Column::Level.eq(Level::Province))
        .one(app.db())
        .await
        .unwrap()
        .map(|r| r.id)
}

/// A price cell: `n` households buying one SKU from `dealers` dealers in one township and month.
async fn cell(
    app: &TestApp,
    w: &mut World,
    township: usize,
    month: u32,
    n: usize,
    dealers: usize,
    sku: i64,
) {
    let dl: Vec<i64> = w.dealers.iter().map(|x| x.id).collect();
    for i in 0..n {
        let v = w.village(township, i);
        let f = farmer(app, w, v).await;
        sell(
            app,
            w,
            dl[i % dealers],
            &Buyer {
                user: Some(f),
                village: Some(v),
                phone: None,
            },
            utc(2025, month, 5, 4, 0),
            None,
            None,
            &[(sku, 1, 1_000 * (i as i64 + 1))],
        )
        .await;
    }
}

fn find<'a>(
    j: &'a serde_json::Value,
    township_zh: &str,
    month: &str,
) -> Vec<&'a serde_json::Value> {
    j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["township_zh"] == township_zh && r["month"] == month)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_data_withholds_small_cells_and_names_nobody() {
    let app = spawn_app().await;
    let mut w = world(&app).await;
    let seed = w.sku_where(|_, p| p.category == Category::Seed).id;
    assert!(w.dealers.len() >= 3);
    // Township 0: July 4 households / 3 dealers, August 5 / 3; township 1: July 5 households
    // from 2 dealers, August 5 from 3.
    cell(&app, &mut w, 0, 7, 4, 3, seed).await;
    cell(&app, &mut w, 0, 8, 5, 3, seed).await;
    cell(&app, &mut w, 1, 7, 5, 2, seed).await;
    cell(&app, &mut w, 1, 8, 5, 3, seed).await;
    // Five counter sales with the same phone are one household; five with nothing are five.
    for (month, phone) in [(9, Some("13912345678")), (10, None)] {
        for i in 0..5 {
            sell(
                &app,
                &w,
                w.dealers[i % 3].id,
                &Buyer {
                    user: None,
                    village: Some(w.village(2, 0)),
                    phone: phone.map(str::to_owned),
                },
                utc(2025, month, 6, 4, 0),
                None,
                None,
                &[(seed, 1, 2_000)],
            )
            .await;
        }
    }
    let reg = regulator(&app).await;
    // Not published yet: 404 on the public URL.
    let c = w.county.id;
    let url =
        |ds: &str, ext: &str| app.url(&format!("/open-data/{c}/{ds}.{ext}?from={FROM}&to={TO}"));
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(url("prices", "json"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    for ds in Dataset::ALL {
        open_data::set_published(app.db(), &reg, None, ds, true)
            .await
            .unwrap();
    }
    let r = http.get(url("prices", "json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (t0, t1, t2) = (
        w.townships[0].name_zh.clone(),
        w.townships[1].name_zh.clone(),
        w.townships[2].name_zh.clone(),
    );
    let one = |rows: Vec<&serde_json::Value>| -> serde_json::Value {
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows[0].clone()
    };
    let r = one(find(&j, &t0, "2025-07"));
    assert_eq!(r["suppressed"], "FEWER_THAN_5_HOUSEHOLDS");
    assert!(r["median_unit_price_fen"].is_null() && r["min_unit_price_fen"].is_null());
    let r = one(find(&j, &t0, "2025-08"));
    assert_eq!(r["suppressed"], serde_json::Value::Null);
    // Prices 1000..5000: the median is the middle one.
    assert_eq!(r["median_unit_price_fen"], 3_000);
    assert_eq!(r["min_unit_price_fen"], 1_000);
    assert_eq!(r["max_unit_price_fen"], 5_000);
    let r = one(find(&j, &t1, "2025-07"));
    assert_eq!(r["suppressed"], "FEWER_THAN_3_DEALERS");
    let r = one(find(&j, &t1, "2025-08"));
    assert_eq!(r["suppressed"], serde_json::Value::Null);
    assert_eq!(
        one(find(&j, &t2, "2025-09"))["suppressed"],
        "FEWER_THAN_5_HOUSEHOLDS"
    );
    assert_eq!(
        one(find(&j, &t2, "2025-10"))["suppressed"],
        serde_json::Value::Null
    );
    assert_eq!(j["suppression"]["min_households"], 5);
    assert_eq!(j["suppression"]["min_dealers"], 3);
    // The withheld figure (4 households' prices 1000..4000) is nowhere in the file.
    // Names, phones and user ids of the buyers are nowhere either.
    let users = app_user::Entity::find().all(app.db()).await.unwrap();
    for ds in Dataset::ALL {
        for ext in ["json", "csv"] {
            let body = http
                .get(url(ds.key(), ext))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for u in &users {
                assert!(!body.contains(&u.phone), "{ds:?} {ext} shows a phone");
                assert!(!body.contains(&u.display_name), "{ds:?} {ext} shows a name");
            }
            assert!(!body.contains("13912345678") && !body.contains("张三"));
            // No column that could name a person or a dealer.
            let keys: Vec<String> = if ext == "json" {
                let j: serde_json::Value = serde_json::from_str(&body).unwrap();
                j["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["key"].as_str().unwrap().to_owned())
                    .collect()
            } else {
                let header = body
                    .lines()
                    .find(|l| l.starts_with("township_code"))
                    .unwrap();
                header.split(',').map(str::to_owned).collect()
            };
            for k in &keys {
                for banned in [
                    "buyer",
                    "user",
                    "phone",
                    "dealer",
                    "farmer",
                    "name",
                    "id_number",
                ] {
                    assert!(!k.contains(banned), "{ds:?} {ext} has a column {k}");
                }
            }
        }
    }
    // The volumes dataset follows the same rule.
    let v: serde_json::Value = http
        .get(url("sales-volumes", "json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        one(find(&v, &t0, "2025-07"))["suppressed"],
        "FEWER_THAN_5_HOUSEHOLDS"
    );
    assert!(one(find(&v, &t0, "2025-07"))["quantity"].is_null());
    assert_eq!(one(find(&v, &t0, "2025-08"))["quantity"], 5);
    assert_eq!(
        one(find(&v, &t1, "2025-07"))["suppressed"],
        "FEWER_THAN_3_DEALERS"
    );
    // CSV: BOM, header block, the same rows.
    let csv = http
        .get(url("prices", "csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains(&w.county.name_zh) && csv.contains("2025-01-01"));
    assert!(csv.contains("FEWER_THAN_3_DEALERS"));
    // Withdrawn: 404 again.
    open_data::set_published(app.db(), &reg, None, Dataset::Prices, false)
        .await
        .unwrap();
    assert_eq!(
        http.get(url("prices", "json"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        http.get(url("prices", "csv"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soil_grades_count_each_fields_latest_test() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let reg = regulator(&app).await;
    let today = domain::today();
    let from = today - chrono::Duration::days(3000);
    let j = open_data::preview(
        app.db(),
        &reg,
        None,
        Dataset::SoilGrades,
        Some(from),
        Some(today),
    )
    .await
    .unwrap()
    .to_json();
    // Independently: each field's latest test, graded by the domain's own grading.
    let tests = soil_test::Entity::find()
        .order_by_asc(soil_test::Column::Id)
        .all(app.db())
        .await
        .unwrap();
    let fields = field::Entity::find().all(app.db()).await.unwrap();
    let village_town: HashMap<i64, i64> = w
        .villages
        .iter()
        .flat_map(|(t, vs)| vs.iter().map(move |v| (v.id, *t)))
        .collect();
    let mut latest: HashMap<i64, &soil_test::Model> = HashMap::new();
    for t in &tests {
        latest.insert(t.field_id, t);
    }
    let mut want: BTreeMap<(String, &str, u8), (i64, BTreeSet<i64>)> = BTreeMap::new();
    for (fid, t) in &latest {
        let f = fields.iter().find(|f| f.id == *fid).unwrap();
        let town = w
            .townships
            .iter()
            .find(|x| Some(&x.id) == village_town.get(&f.village_id))
            .unwrap();
        let g = domain::agronomy::china_grades(t);
        for (k, v) in [
            ("alkali_n", g.alkali_n),
            ("olsen_p", g.olsen_p),
            ("available_k", g.available_k),
        ] {
            if let Some(v) = v {
                let e = want.entry((town.name_zh.clone(), k, v)).or_default();
                e.0 += 1;
                e.1.insert(f.farmer_id);
            }
        }
    }
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len(), "{j:#}");
    for r in rows {
        let key = (
            r["township_zh"].as_str().unwrap().to_owned(),
            r["nutrient"].as_str().unwrap(),
            r["grade"].as_u64().unwrap() as u8,
        );
        let (n, farmers) = &want[&(key.0.clone(), key.1, key.2)];
        if farmers.len() < 5 {
            assert_eq!(r["suppressed"], "FEWER_THAN_5_HOUSEHOLDS");
            assert!(r["fields"].is_null());
        } else {
            assert_eq!(r["fields"], *n);
        }
    }
}

/// A farmer orders a published basket from the advice: the order lines carry the
/// recommendation, and the coverage table counts it as adopted (a basket that was only put in
/// the cart, or an order cancelled, does not count).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_basket_ordered_from_the_advice_counts_as_adopted() {
    use serde_json::json;
    let app = spawn_app().await;
    let w = world(&app).await;
    let farmer = app.demo_token("FARMER").await;
    let agronomist = app.demo_token("AGRONOMIST").await;
    let f = app
        .gql("{ myFields { id } }", json!({}), Some(&farmer))
        .await
        .ok()["myFields"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan = app
        .gql(
            "mutation($i: CropPlanInput!) { cropPlanCreate(input: $i) { cropPlan { id } errors { code } } }",
            json!({ "i": { "fieldId": f, "crop": "水稻", "season": "2027 中稻", "pastYieldsKgPerMu": [560, 590, 610] } }),
            Some(&farmer),
        )
        .await
        .ok()["cropPlanCreate"]["cropPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rec = app
        .gql(
            "mutation($f: ID!, $p: ID!) { recommendationDraft(fieldId: $f, cropPlanId: $p) { recommendation { id } errors { field code message } } }",
            json!({ "f": f, "p": plan }),
            Some(&agronomist),
        )
        .await
        .ok();
    let rec_id = rec["recommendationDraft"]["recommendation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{rec:#}"))
        .to_owned();
    let p = app
        .gql(
            "mutation($id: ID!) { recommendationPublish(id: $id) { recommendation { status } errors { code } } }",
            json!({ "id": rec_id }),
            Some(&agronomist),
        )
        .await
        .ok();
    assert_eq!(
        p["recommendationPublish"]["recommendation"]["status"], "PUBLISHED",
        "{p:#}"
    );
    let reg = regulator(&app).await;
    let today_q = StatsQuery::default();
    let adopted = |st: &stats::Statistics| {
        st.coverage
            .iter()
            .map(|r| (r.published, r.ordered))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    let before = adopted(&stats::statistics(app.db(), &reg, &today_q).await.unwrap());
    assert!(before.0 >= 1);
    // Only in the cart: not adopted.
    let c = app
        .gql(
            "mutation($id: ID!) { recommendationToCart(id: $id) { ok errors { code } } }",
            json!({ "id": rec_id }),
            Some(&farmer),
        )
        .await
        .ok();
    assert_eq!(c["recommendationToCart"]["ok"], true, "{c:#}");
    assert_eq!(
        adopted(&stats::statistics(app.db(), &reg, &today_q).await.unwrap()),
        before
    );
    let placed = app
        .gql(
            "mutation { orderPlace(input: { default: { deliveryMode: PICKUP, paymentMethod: CASH_ON_DELIVERY } }, idempotencyKey: \"adopt-1\") { orders { id } errors { field code message } } }",
            json!({}),
            Some(&farmer),
        )
        .await
        .ok();
    assert!(
        !placed["orderPlace"]["orders"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{placed:#}"
    );
    // Every line of the order names the recommendation, found by id, not by SKU.
    let rid: i64 = recommendation::Entity::find()
        .filter(recommendation::Column::Status.eq(domain::types::RecommendationStatus::Published))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .max()
        .unwrap();
    let lines = order_line::Entity::find().all(app.db()).await.unwrap();
    assert!(!lines.is_empty() && lines.iter().all(|l| l.recommendation_id == Some(rid)));
    let after = adopted(&stats::statistics(app.db(), &reg, &today_q).await.unwrap());
    assert_eq!(after, (before.0, before.1 + 1));
    // Cancelled by the farmer: no longer adopted.
    for o in placed["orderPlace"]["orders"].as_array().unwrap() {
        let c = app
            .gql(
                "mutation($o: ID!) { orderTransition(orderId: $o, to: CANCELLED) { order { status } errors { code message } } }",
                json!({ "o": o["id"] }),
                Some(&farmer),
            )
            .await
            .ok();
        assert_eq!(
            c["orderTransition"]["order"]["status"], "CANCELLED",
            "{c:#}"
        );
    }
    assert_eq!(
        adopted(&stats::statistics(app.db(), &reg, &today_q).await.unwrap()),
        before
    );
    let _ = &w;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_data_in_graphql_is_the_published_dataset_for_anyone() {
    use serde_json::json;
    let app = spawn_app().await;
    let mut w = world(&app).await;
    let seed = w.sku_where(|_, p| p.category == Category::Seed).id;
    cell(&app, &mut w, 0, 8, 5, 3, seed).await;
    cell(&app, &mut w, 1, 8, 4, 3, seed).await;
    let reg = regulator(&app).await;
    let token = app.demo_token("REGULATOR").await;
    let county = app
        .gql("{ me { counties { id } } }", json!({}), Some(&token))
        .await
        .ok()["me"]["counties"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    const Q: &str = "query($c: ID!, $d: String!) { openData(county: $c, dataset: $d, from: \"2025-01-01\", to: \"2025-12-31\") {
        dataset countyName suppressionRule minHouseholds minDealers columns { key kind measure } rows { values suppressed } } }";
    let none = app
        .gql(Q, json!({ "c": county, "d": "prices" }), None)
        .await
        .ok();
    assert_eq!(none["openData"], serde_json::Value::Null);
    open_data::set_published(app.db(), &reg, None, Dataset::Prices, true)
        .await
        .unwrap();
    let d = app
        .gql(Q, json!({ "c": county, "d": "prices" }), None)
        .await
        .ok();
    let o = &d["openData"];
    assert_eq!(o["dataset"], "prices");
    assert_eq!(o["minHouseholds"], 5);
    let keys: Vec<&str> = o["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    let at = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    let rows = o["rows"].as_array().unwrap();
    let row = |t: usize| {
        rows.iter()
            .find(|r| {
                r["values"][at("township_zh")] == w.townships[t].name_zh.as_str()
                    && r["values"][at("month")] == "2025-08"
            })
            .unwrap()
    };
    assert_eq!(row(0)["suppressed"], serde_json::Value::Null);
    assert_eq!(row(0)["values"][at("median_unit_price_fen")], "3000");
    assert_eq!(row(1)["suppressed"], "FEWER_THAN_5_HOUSEHOLDS");
    assert_eq!(
        row(1)["values"][at("median_unit_price_fen")],
        serde_json::Value::Null
    );
    // The same rows as the JSON file.
    let file: serde_json::Value = reqwest::get(app.url(&format!(
        "/open-data/{}/prices.json?from=2025-01-01&to=2025-12-31",
        w.county.id
    )))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(file["rows"].as_array().unwrap().len(), rows.len());
    let bad = app
        .gql(Q, json!({ "c": county, "d": "nope" }), None)
        .await
        .ok();
    assert_eq!(bad["openData"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_data_is_rate_limited_like_the_trace_page() {
    let app = e2e::spawn_app_with(|c| c.trace_limit_per_minute = 2).await;
    let w = world(&app).await;
    let reg = regulator(&app).await;
    open_data::set_published(app.db(), &reg, None, Dataset::SalesVolumes, true)
        .await
        .unwrap();
    let url = app.url(&format!("/open-data/{}/sales-volumes.json", w.county.id));
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}
