//! The catalog over HTTP, on the demo county: search filters (category, text in Chinese and
//! English, crop, pest or disease, nutrient content, village, dealer, restricted use), price
//! sorting, Relay pagination and its limits; the DataLoader proof (a page of 100 products costs
//! the same SQL statements as a page of 5); mutations whose rule violations name their field;
//! licences that decide who may offer a restricted-use pesticide; and messages in the caller's
//! language.
//!
//! Expected results are never typed in by hand: they are worked out from the database rows the
//! demo loader wrote (an oracle that shares no code with the search), then compared with what the
//! API returns. Products are compared by their Chinese name, which the demo keeps unique.

use std::collections::{BTreeSet, HashMap, HashSet};

use domain::catalog::{self, FertiliserInput, NewProducer, ProductInput, SkuInput};
use domain::entities::{
    dealer, dealer_service_area, fertiliser_spec, offer, pesticide_spec, pesticide_use, product,
    region, seed_spec, sku,
};
use domain::regions::{self, Level, NewDealer, NewRegion};
use domain::types::Fen;
use e2e::{TestApp, spawn_app};
use sea_orm::{EntityTrait, TransactionTrait};
use serde_json::{Value, json};

const SEARCH: &str =
    "query($first: Int, $after: String, $filter: ProductFilterInput, $sort: ProductSort!) {
  products(first: $first, after: $after, filter: $filter, sortBy: $sort) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      id nameZh nameEn category restrictedUse
      fertiliser { nPct p2o5Pct k2oPct }
      skus { id offers { priceFen dealer { id nameZh } } }
    } }
  }
}";

/// One page of a search.
async fn page(app: &TestApp, first: i64, after: Option<&str>, filter: &Value, sort: &str) -> Value {
    app.gql(
        SEARCH,
        json!({ "first": first, "after": after, "filter": filter, "sort": sort }),
        None,
    )
    .await
    .ok()["products"]
        .clone()
}

/// Every product a search finds, walking its pages of `first`, checking the connection on the
/// way: no product twice, the count equals `totalCount`, only the last page has no next page.
async fn walk(app: &TestApp, filter: Value, sort: &str, first: i64) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    for pages in 1.. {
        assert!(pages <= 200, "pagination does not end");
        let p = page(app, first, after.as_deref(), &filter, sort).await;
        let t = p["totalCount"].as_u64().expect("totalCount");
        assert_eq!(
            *total.get_or_insert(t),
            t,
            "totalCount changed between pages"
        );
        let edges = p["edges"].as_array().unwrap();
        assert!(edges.len() as i64 <= first, "a page is larger than first");
        assert_eq!(p["pageInfo"]["hasPreviousPage"], after.is_some());
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        if p["pageInfo"]["hasNextPage"] == true {
            assert_eq!(edges.len() as i64, first, "only the last page may be short");
            assert_eq!(p["pageInfo"]["endCursor"], edges.last().unwrap()["cursor"]);
            after = Some(p["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
        } else {
            break;
        }
    }
    let ids: HashSet<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), nodes.len(), "a product came twice");
    assert_eq!(
        nodes.len() as u64,
        total.unwrap(),
        "count differs from totalCount"
    );
    nodes
}

/// All products matching `filter` (newest first).
async fn search(app: &TestApp, filter: Value) -> Vec<Value> {
    walk(app, filter, "NEWEST", 100).await
}

fn names(nodes: &[Value]) -> BTreeSet<String> {
    nodes
        .iter()
        .map(|n| n["nameZh"].as_str().unwrap().to_owned())
        .collect()
}

/// The catalog as the database holds it: the oracle for every search expectation.
struct Rows {
    products: Vec<product::Model>,
    seeds: Vec<seed_spec::Model>,
    ferts: Vec<fertiliser_spec::Model>,
    pesticides: Vec<pesticide_spec::Model>,
    uses: Vec<pesticide_use::Model>,
    skus: Vec<sku::Model>,
    offers: Vec<offer::Model>,
    areas: Vec<dealer_service_area::Model>,
    dealers: Vec<dealer::Model>,
    villages: Vec<region::Model>,
}

impl Rows {
    async fn load(app: &TestApp) -> Rows {
        let db = app.db();
        let rows = Rows {
            products: product::Entity::find().all(db).await.unwrap(),
            seeds: seed_spec::Entity::find().all(db).await.unwrap(),
            ferts: fertiliser_spec::Entity::find().all(db).await.unwrap(),
            pesticides: pesticide_spec::Entity::find().all(db).await.unwrap(),
            uses: pesticide_use::Entity::find().all(db).await.unwrap(),
            skus: sku::Entity::find().all(db).await.unwrap(),
            offers: offer::Entity::find().all(db).await.unwrap(),
            areas: dealer_service_area::Entity::find().all(db).await.unwrap(),
            dealers: dealer::Entity::find().all(db).await.unwrap(),
            villages: region::Entity::find()
                .all(db)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.level.as_str() == "VILLAGE")
                .collect(),
        };
        let unique: HashSet<&str> = rows.products.iter().map(|p| p.name_zh.as_str()).collect();
        assert_eq!(
            unique.len(),
            rows.products.len(),
            "demo product names are unique"
        );
        rows
    }

    fn listed(&self) -> impl Iterator<Item = &product::Model> {
        self.products
            .iter()
            .filter(|p| p.status.as_str() == "ACTIVE")
    }

    /// Names of the listed products among `ids`.
    fn names(&self, ids: impl IntoIterator<Item = i64>) -> BTreeSet<String> {
        let ids: HashSet<i64> = ids.into_iter().collect();
        self.listed()
            .filter(|p| ids.contains(&p.id))
            .map(|p| p.name_zh.clone())
            .collect()
    }

    fn names_where(&self, keep: impl Fn(&product::Model) -> bool) -> BTreeSet<String> {
        self.listed()
            .filter(|p| keep(p))
            .map(|p| p.name_zh.clone())
            .collect()
    }

    fn product_of_sku(&self, sku_id: i64) -> i64 {
        self.skus
            .iter()
            .find(|s| s.id == sku_id)
            .unwrap()
            .product_id
    }

    /// Products with an active offer from one of `dealers`.
    fn sold_by(&self, dealers: &HashSet<i64>) -> BTreeSet<String> {
        self.names(
            self.offers
                .iter()
                .filter(|o| o.active && dealers.contains(&o.dealer_id))
                .map(|o| self.product_of_sku(o.sku_id)),
        )
    }

    fn dealers_serving(&self, village_id: i64) -> HashSet<i64> {
        self.areas
            .iter()
            .filter(|a| a.village_id == village_id)
            .map(|a| a.dealer_id)
            .collect()
    }

    /// Products whose names, registration, variety, active ingredients or registered targets
    /// contain `term`, ignoring case.
    fn text(&self, term: &str) -> BTreeSet<String> {
        let t = term.to_lowercase();
        let has = |s: &str| s.to_lowercase().contains(&t);
        let mut ids: Vec<i64> = self
            .products
            .iter()
            .filter(|p| {
                has(&p.name_zh) || has(&p.name_en) || p.registration_no.as_deref().is_some_and(has)
            })
            .map(|p| p.id)
            .collect();
        ids.extend(
            self.seeds
                .iter()
                .filter(|s| has(&s.variety_zh) || has(&s.variety_en) || has(&s.approval_no))
                .map(|s| s.product_id),
        );
        ids.extend(
            self.pesticides
                .iter()
                .filter(|x| {
                    x.actives.as_array().unwrap().iter().any(|a| {
                        has(a["name_zh"].as_str().unwrap()) || has(a["name_en"].as_str().unwrap())
                    })
                })
                .map(|x| x.product_id),
        );
        ids.extend(
            self.uses
                .iter()
                .filter(|u| has(&u.target_zh) || has(&u.target_en))
                .map(|u| u.product_id),
        );
        self.names(ids)
    }

    fn crop(&self, code: &str) -> BTreeSet<String> {
        let seeds = self
            .seeds
            .iter()
            .filter(|s| s.crop == code)
            .map(|s| s.product_id);
        let uses = self
            .uses
            .iter()
            .filter(|u| u.crop == code)
            .map(|u| u.product_id);
        self.names(seeds.chain(uses))
    }

    fn target(&self, term: &str) -> BTreeSet<String> {
        let t = term.to_lowercase();
        self.names(
            self.uses
                .iter()
                .filter(|u| {
                    u.target_zh.to_lowercase().contains(&t)
                        || u.target_en.to_lowercase().contains(&t)
                })
                .map(|u| u.product_id),
        )
    }

    fn nutrients(&self, keep: impl Fn(&fertiliser_spec::Model) -> bool) -> BTreeSet<String> {
        self.names(self.ferts.iter().filter(|f| keep(f)).map(|f| f.product_id))
    }

    /// The lowest active offer of each product, by name.
    fn lowest_price(&self) -> HashMap<String, i64> {
        let mut out: HashMap<String, i64> = HashMap::new();
        for o in self.offers.iter().filter(|o| o.active) {
            let pid = self.product_of_sku(o.sku_id);
            let name = self
                .products
                .iter()
                .find(|p| p.id == pid)
                .unwrap()
                .name_zh
                .clone();
            let e = out.entry(name).or_insert(i64::MAX);
            *e = (*e).min(o.price_fen);
        }
        out
    }
}

/// Global IDs of villages and dealers, by Chinese name, as the API gives them.
async fn ids_by_name(app: &TestApp, field: &str) -> HashMap<String, String> {
    let d = app
        .gql(&format!("{{ {field} {{ id nameZh }} }}"), json!({}), None)
        .await
        .ok();
    d[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["nameZh"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    app.load_demo().await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_farmer_narrows_the_catalog_by_category_text_crop_pest_and_nutrients() {
    let app = demo_app().await;
    let rows = Rows::load(&app).await;

    // Everything, then each category: the three categories partition the catalog.
    let all = search(&app, json!({})).await;
    assert_eq!(names(&all), rows.names_where(|_| true));
    assert_eq!(all.len(), 46, "the demo county lists 46 products");
    let mut seen = 0;
    for cat in ["FERTILISER", "SEED", "PESTICIDE"] {
        let found = search(&app, json!({ "category": cat })).await;
        assert!(!found.is_empty(), "no {cat}");
        assert!(found.iter().all(|n| n["category"] == cat));
        assert_eq!(
            names(&found),
            rows.names_where(|p| p.category.as_str() == cat)
        );
        seen += found.len();
    }
    assert_eq!(seen, all.len());

    // Text in Chinese.
    let urea = search(&app, json!({ "text": "尿素" })).await;
    assert!(!urea.is_empty());
    assert_eq!(names(&urea), rows.text("尿素"));
    assert!(
        urea.iter()
            .all(|n| n["nameZh"].as_str().unwrap().contains("尿素")),
        "{urea:#?}"
    );
    // Text in English, whatever the case.
    let en = search(&app, json!({ "text": "urea" })).await;
    assert_eq!(names(&en), rows.text("urea"));
    assert!(names(&en).is_superset(&names(&urea)));
    for spelling in ["UREA", "Urea", "  uReA  "] {
        let again = search(&app, json!({ "text": spelling })).await;
        assert_eq!(names(&again), names(&en), "text {spelling:?}");
    }
    // Text finds active ingredients and registered targets too.
    for term in [
        "imidacloprid",
        "IMIDACLOPRID",
        "吡虫啉",
        "稻飞虱",
        "Planthopper",
    ] {
        let found = search(&app, json!({ "text": term })).await;
        assert!(!found.is_empty(), "text {term:?} found nothing");
        assert_eq!(names(&found), rows.text(term), "text {term:?}");
    }
    let none = search(&app, json!({ "text": "no-such-product-anywhere" })).await;
    assert!(none.is_empty());

    // A crop by code, Chinese name or English name: its seeds and the pesticides registered on it.
    let rice = search(&app, json!({ "crop": "RICE" })).await;
    assert_eq!(names(&rice), rows.crop("RICE"));
    let cats: BTreeSet<&str> = rice
        .iter()
        .map(|n| n["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, BTreeSet::from(["PESTICIDE", "SEED"]));
    for alias in ["水稻", "rice", "Rice"] {
        let again = search(&app, json!({ "crop": alias })).await;
        assert_eq!(names(&again), names(&rice), "crop {alias:?}");
    }
    let wheat = search(&app, json!({ "crop": "冬小麦" })).await;
    assert_eq!(names(&wheat), rows.crop("WHEAT_WINTER"));
    assert!(!wheat.is_empty() && names(&wheat) != names(&rice));
    let unknown = search(&app, json!({ "crop": "no-such-crop" })).await;
    assert!(unknown.is_empty(), "an unknown crop matches nothing");

    // A pest or disease, in Chinese or English.
    let zh = search(&app, json!({ "target": "稻飞虱" })).await;
    assert!(!zh.is_empty());
    assert_eq!(names(&zh), rows.target("稻飞虱"));
    assert!(zh.iter().all(|n| n["category"] == "PESTICIDE"));
    let en = search(&app, json!({ "target": "PLANTHOPPER" })).await;
    assert_eq!(names(&en), rows.target("planthopper"));
    assert_eq!(names(&en), names(&zh), "稻飞虱 is the rice planthopper");
    let mildew = search(&app, json!({ "target": "powdery mildew" })).await;
    assert!(!mildew.is_empty());
    assert_eq!(names(&mildew), rows.target("powdery mildew"));

    // Minimum nutrient content, each and together.
    let n20 = search(&app, json!({ "minNPct": 20.0 })).await;
    assert!(!n20.is_empty());
    assert_eq!(names(&n20), rows.nutrients(|f| f.n_pct >= 20.0));
    assert!(
        n20.iter()
            .all(|n| n["fertiliser"]["nPct"].as_f64().unwrap() >= 20.0)
    );
    let pk = search(&app, json!({ "minP2o5Pct": 15.0, "minK2oPct": 15.0 })).await;
    assert!(!pk.is_empty());
    assert_eq!(
        names(&pk),
        rows.nutrients(|f| f.p2o5_pct >= 15.0 && f.k2o_pct >= 15.0)
    );
    let k50 = search(&app, json!({ "minK2oPct": 50.0 })).await;
    assert_eq!(names(&k50), rows.nutrients(|f| f.k2o_pct >= 50.0));
    assert!(!k50.is_empty());
    let all3 = search(
        &app,
        json!({ "minNPct": 15.0, "minP2o5Pct": 15.0, "minK2oPct": 15.0 }),
    )
    .await;
    assert_eq!(
        names(&all3),
        rows.nutrients(|f| f.n_pct >= 15.0 && f.p2o5_pct >= 15.0 && f.k2o_pct >= 15.0)
    );
    assert!(names(&all3).is_subset(&names(&pk)));

    // Restricted-use pesticides, and filters that combine.
    let restricted = search(&app, json!({ "restrictedUse": true })).await;
    assert!(!restricted.is_empty());
    assert!(restricted.iter().all(|n| n["restrictedUse"] == true));
    assert_eq!(names(&restricted), rows.names_where(|p| p.restricted_use));
    let ordinary = search(&app, json!({ "restrictedUse": false })).await;
    assert_eq!(names(&ordinary), rows.names_where(|p| !p.restricted_use));
    assert_eq!(restricted.len() + ordinary.len(), all.len());
    let both = search(
        &app,
        json!({ "category": "PESTICIDE", "crop": "RICE", "restrictedUse": true }),
    )
    .await;
    assert!(!both.is_empty());
    let expect: BTreeSet<String> = rows
        .crop("RICE")
        .intersection(&rows.names_where(|p| p.restricted_use && p.category.as_str() == "PESTICIDE"))
        .cloned()
        .collect();
    assert_eq!(names(&both), expect);
}

/// Text search looks into the active ingredients, which are stored as JSON: it must match
/// their names, not the JSON's own keys (`name_en`, `content`, `content_unit`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_search_matches_ingredient_names_not_the_keys_of_their_json() {
    let app = demo_app().await;
    let rows = Rows::load(&app).await;
    for term in ["chlorpyrifos", "毒死蜱"] {
        let found = search(&app, json!({ "text": term })).await;
        assert!(!found.is_empty());
        assert_eq!(names(&found), rows.text(term), "text {term:?}");
    }
    for term in ["content", "unit", "name_en"] {
        let found = search(&app, json!({ "text": term })).await;
        assert_eq!(
            names(&found),
            rows.text(term),
            "text {term:?} matched the keys of the actives JSON"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_village_filter_shows_what_dealers_serving_it_sell() {
    let app = demo_app().await;
    let admin = app.demo_token("ADMIN").await;
    let rows = Rows::load(&app).await;
    let village_ids = ids_by_name(&app, "villages").await;
    let dealer_ids = ids_by_name(&app, "dealers").await;
    let db_dealer = |name: &str| rows.dealers.iter().find(|d| d.name_zh == name).unwrap().id;
    assert_eq!(village_ids.len(), rows.villages.len());
    assert_eq!(dealer_ids.len(), 3);

    // Each dealer: what it has an active offer for.
    for (name, gid) in &dealer_ids {
        let found = search(&app, json!({ "dealerId": gid })).await;
        assert!(!found.is_empty(), "{name} sells nothing");
        assert_eq!(
            names(&found),
            rows.sold_by(&HashSet::from([db_dealer(name)])),
            "dealer {name}"
        );
    }
    // Each village: what the dealers delivering there sell.
    for v in &rows.villages {
        let found = search(&app, json!({ "villageId": village_ids[&v.name_zh] })).await;
        assert_eq!(
            names(&found),
            rows.sold_by(&rows.dealers_serving(v.id)),
            "village {}",
            v.name_zh
        );
    }

    // A village that not every dealer serves, and a product that only a dealer who does not
    // deliver there keeps on offer once the serving dealers withdraw theirs.
    let village = rows
        .villages
        .iter()
        .filter(|v| rows.dealers_serving(v.id).len() < rows.dealers.len())
        .min_by_key(|v| rows.dealers_serving(v.id).len())
        .expect("a village not served by every dealer");
    let serving = rows.dealers_serving(village.id);
    assert!(!serving.is_empty());
    let outsider = rows
        .dealers
        .iter()
        .find(|d| !serving.contains(&d.id))
        .unwrap();
    let in_village: BTreeSet<String> = rows.sold_by(&serving);
    let victim = rows
        .sold_by(&HashSet::from([outsider.id]))
        .intersection(&in_village)
        .next()
        .cloned()
        .expect("the outside dealer sells something the village can also buy");
    let victim_gid = search(&app, json!({ "text": victim.clone() }))
        .await
        .into_iter()
        .find(|n| n["nameZh"] == victim.as_str())
        .unwrap()["id"]
        .clone();
    let p = app
        .gql(
            "query($id: ID!) { product(id: $id) { skus { id offers { priceFen dealer { id nameZh } } } } }",
            json!({ "id": victim_gid }),
            None,
        )
        .await
        .ok();
    // The same packs asked for the village: only the offers of dealers that serve it.
    let v_gid = &village_ids[&village.name_zh];
    let here_offers = app
        .gql(
            "query($id: ID!, $v: ID!) { product(id: $id) { skus { offers(villageId: $v) { dealer { nameZh } } } } }",
            json!({ "id": victim_gid, "v": v_gid }),
            None,
        )
        .await
        .ok();
    let all_dealers: BTreeSet<i64> = p["product"]["skus"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["offers"].as_array().unwrap().clone())
        .map(|o| db_dealer(o["dealer"]["nameZh"].as_str().unwrap()))
        .collect();
    let here_dealers: BTreeSet<i64> = here_offers["product"]["skus"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["offers"].as_array().unwrap().clone())
        .map(|o| db_dealer(o["dealer"]["nameZh"].as_str().unwrap()))
        .collect();
    assert!(all_dealers.contains(&outsider.id));
    assert!(!here_dealers.is_empty());
    assert!(
        here_dealers.iter().all(|d| serving.contains(d)),
        "{here_dealers:?} vs serving {serving:?}"
    );
    let mut withdrawn = 0;
    for s in p["product"]["skus"].as_array().unwrap() {
        for o in s["offers"].as_array().unwrap() {
            if serving.contains(&db_dealer(o["dealer"]["nameZh"].as_str().unwrap())) {
                let r = app
                    .gql(
                        "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p, active: false) { offer { active } errors { field code } } }",
                        json!({ "d": o["dealer"]["id"], "s": s["id"], "p": o["priceFen"] }),
                        Some(&admin),
                    )
                    .await
                    .ok();
                assert_eq!(r["offerSet"]["errors"], json!([]));
                assert_eq!(r["offerSet"]["offer"]["active"], false);
                withdrawn += 1;
            }
        }
    }
    assert!(withdrawn > 0);

    let here = names(&search(&app, json!({ "villageId": village_ids[&village.name_zh] })).await);
    assert!(
        !here.contains(&victim),
        "{victim} is only sold by {} which does not deliver to {}",
        outsider.name_zh,
        village.name_zh
    );
    let outsider_area = rows
        .areas
        .iter()
        .find(|a| a.dealer_id == outsider.id)
        .expect("the outsider delivers somewhere");
    let there_name = &rows
        .villages
        .iter()
        .find(|v| v.id == outsider_area.village_id)
        .unwrap()
        .name_zh;
    let there = names(&search(&app, json!({ "villageId": village_ids[there_name] })).await);
    assert!(
        there.contains(&victim),
        "{victim} is still sold in {there_name}"
    );
    let by_outsider =
        names(&search(&app, json!({ "dealerId": dealer_ids[&outsider.name_zh] })).await);
    assert!(by_outsider.contains(&victim));

    // And the oracle agrees everywhere after the change.
    let rows = Rows::load(&app).await;
    for v in &rows.villages {
        let found = search(&app, json!({ "villageId": village_ids[&v.name_zh] })).await;
        assert_eq!(names(&found), rows.sold_by(&rows.dealers_serving(v.id)));
    }
}

fn lowest_offer(node: &Value, dealer: Option<&str>) -> Option<i64> {
    node["skus"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["offers"].as_array().unwrap())
        .filter(|o| dealer.is_none_or(|d| o["dealer"]["id"] == d))
        .map(|o| o["priceFen"].as_i64().unwrap())
        .min()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_low_sorts_by_the_cheapest_offer() {
    let app = demo_app().await;
    let rows = Rows::load(&app).await;
    let lowest = rows.lowest_price();

    let sorted = walk(&app, json!({}), "PRICE_LOW", 100).await;
    assert_eq!(sorted.len(), 46);
    let prices: Vec<Option<i64>> = sorted.iter().map(|n| lowest_offer(n, None)).collect();
    for (n, p) in sorted.iter().zip(&prices) {
        assert_eq!(
            *p,
            lowest.get(n["nameZh"].as_str().unwrap()).copied(),
            "the lowest offer of {}",
            n["nameZh"]
        );
    }
    // Ascending, and products nobody offers come last.
    let key = |p: &Option<i64>| p.unwrap_or(i64::MAX);
    assert!(
        prices.windows(2).all(|w| key(&w[0]) <= key(&w[1])),
        "not ascending: {prices:?}"
    );
    assert!(prices[0].is_some() && prices[0] < prices[prices.len() - 1]);
    // The same order holds across small pages.
    let paged = walk(&app, json!({}), "PRICE_LOW", 7).await;
    let ids = |v: &[Value]| v.iter().map(|n| n["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&sorted));

    // Within one dealer's offers, by that dealer's prices.
    let dealers = ids_by_name(&app, "dealers").await;
    for gid in dealers.values() {
        let mine = walk(&app, json!({ "dealerId": gid }), "PRICE_LOW", 100).await;
        let p: Vec<i64> = mine
            .iter()
            .map(|n| lowest_offer(n, Some(gid)).expect("the dealer offers it"))
            .collect();
        assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    }

    // The other sorts are in order too.
    let by_en = walk(&app, json!({ "category": "PESTICIDE" }), "NAME_EN", 100).await;
    let en: Vec<&str> = by_en
        .iter()
        .map(|n| n["nameEn"].as_str().unwrap())
        .collect();
    assert!(en.windows(2).all(|w| w[0] <= w[1]), "{en:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_seven_walk_the_whole_catalog_exactly_once() {
    let app = demo_app().await;
    let rows = Rows::load(&app).await;

    let first = page(&app, 7, None, &json!({}), "NEWEST").await;
    assert_eq!(first["totalCount"], 46);
    assert_eq!(first["edges"].as_array().unwrap().len(), 7);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);

    // `walk` follows endCursor and checks duplicates, totalCount and hasNextPage.
    let nodes = walk(&app, json!({}), "NEWEST", 7).await;
    assert_eq!(names(&nodes), rows.names_where(|_| true));
    let by_name = walk(&app, json!({}), "NAME_ZH", 7).await;
    assert_eq!(names(&by_name), names(&nodes));
    let zh: Vec<&str> = by_name
        .iter()
        .map(|n| n["nameZh"].as_str().unwrap())
        .collect();
    assert!(zh.windows(2).all(|w| w[0] <= w[1]));

    // A filtered walk: the count is the filter's, not the catalog's.
    let pesticides = walk(&app, json!({ "category": "PESTICIDE" }), "NAME_EN", 7).await;
    assert_eq!(
        names(&pesticides),
        rows.names_where(|p| p.category.as_str() == "PESTICIDE")
    );

    // Past the end: an empty page with no next page.
    let last = page(&app, 7, None, &json!({}), "NEWEST").await;
    let mut cursor = last["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    loop {
        let p = page(&app, 7, Some(&cursor), &json!({}), "NEWEST").await;
        if p["pageInfo"]["hasNextPage"] == false {
            assert_eq!(p["pageInfo"]["hasPreviousPage"], true);
            let end = p["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
            let beyond = page(&app, 7, Some(&end), &json!({}), "NEWEST").await;
            assert_eq!(beyond["edges"], json!([]));
            assert_eq!(beyond["pageInfo"]["hasNextPage"], false);
            assert_eq!(beyond["totalCount"], 46);
            break;
        }
        cursor = p["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_sizes_and_cursors_are_checked() {
    let app = demo_app().await;
    let q = "query($first: Int, $after: String) { products(first: $first, after: $after) { totalCount edges { node { id } } } }";

    let hundred = app.gql(q, json!({ "first": 100 }), None).await.ok();
    assert_eq!(hundred["products"]["edges"].as_array().unwrap().len(), 46);
    let default = app.gql(q, json!({}), None).await.ok();
    assert_eq!(default["products"]["edges"].as_array().unwrap().len(), 20);

    for first in [101, 0, -1, 1000] {
        let r = app.gql(q, json!({ "first": first }), None).await;
        assert_eq!(
            r.error_code(),
            Some("BAD_USER_INPUT"),
            "first: {first} -> {:#}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["extensions"]["fields"],
            json!(["first"])
        );
        assert!(r.data().is_null() || r.data()["products"].is_null());
    }

    // Not base64, base64 of something else, another kind of ID used as a cursor, and forged
    // offsets at the top of u64 and i64 (the next offset used to overflow: an internal error).
    let product_id = hundred["products"]["edges"][0]["node"]["id"].clone();
    let forged = |n: &str| {
        use base64::Engine;
        json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{n}")))
    };
    for after in [
        json!("not a cursor!"),
        json!("aGVsbG8"),
        product_id,
        forged("18446744073709551615"),
        forged("9223372036854775807"),
        forged("-1"),
    ] {
        let r = app
            .gql(q, json!({ "first": 5, "after": after }), None)
            .await;
        assert_eq!(
            r.error_code(),
            Some("BAD_USER_INPUT"),
            "after: {after} -> {:#}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["extensions"]["fields"],
            json!(["after"])
        );
    }

    // An ID of the wrong type in a filter is bad input too, never an internal error.
    let r = app
        .gql(
            "query($v: ID) { products(filter: { villageId: $v }) { totalCount } }",
            json!({ "v": hundred["products"]["edges"][0]["node"]["id"] }),
            None,
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{:#}", r.body);
}

/// Inserts `n` fertilisers from 5 producers, each with a 25 kg and a 50 kg pack offered by
/// two dealers, straight through the domain crate.
async fn seed_big_catalog(app: &TestApp, n: usize) {
    let txn = app.db().begin().await.unwrap();
    let mut parent = None;
    let mut township = 0;
    let mut village = 0;
    for (level, zh, en) in [
        (Level::Province, "测试省", "Test Province"),
        (Level::County, "测试县", "Test County"),
        (Level::Township, "测试镇", "Test Town"),
        (Level::Village, "测试村", "Test Village"),
    ] {
        let r = regions::insert_region(
            &txn,
            NewRegion {
                level,
                parent_id: parent,
                code: None,
                name_zh: zh.into(),
                name_en: en.into(),
            },
        )
        .await
        .unwrap();
        parent = Some(r.id);
        match level {
            Level::Township => township = r.id,
            Level::Village => village = r.id,
            _ => {}
        }
    }
    let mut dealers = Vec::new();
    for i in 0..2 {
        dealers.push(
            regions::insert_dealer(
                &txn,
                NewDealer {
                    name_zh: format!("测试农资店{i}"),
                    name_en: format!("Test Farm Inputs {i}"),
                    address: "测试镇测试路1号".into(),
                    region_id: township,
                    phone: format!("1390000010{i}"),
                    licences: vec![],
                    service_area: vec![village],
                },
            )
            .await
            .unwrap(),
        );
    }
    let mut producers = Vec::new();
    for i in 0..5 {
        producers.push(
            catalog::insert_producer(
                &txn,
                NewProducer {
                    name_zh: format!("测试化肥厂{i}"),
                    name_en: format!("Test Fertiliser Works {i}"),
                    address: "测试省".into(),
                    licence_no: None,
                },
            )
            .await
            .unwrap(),
        );
    }
    for i in 0..n {
        let p = catalog::insert_product(
            &txn,
            ProductInput {
                category: "FERTILISER".into(),
                producer_id: producers[i % producers.len()].id,
                name_zh: format!("测试复合肥{i:03}"),
                name_en: format!("Test compound {i:03}"),
                description_zh: String::new(),
                description_en: String::new(),
                registration_no: None,
                registration_exempt: true,
                restricted_use: false,
                fertiliser: Some(FertiliserInput {
                    fertiliser_type: "COMPOUND".into(),
                    n_pct: 15.0,
                    p2o5_pct: 15.0,
                    k2o_pct: 15.0,
                    form: "GRANULAR".into(),
                    chloride: "NONE".into(),
                    ..Default::default()
                }),
                seed: None,
                pesticide: None,
            },
            None,
        )
        .await
        .unwrap();
        for size in [25.0, 50.0] {
            let s = catalog::insert_sku(
                &txn,
                p.id,
                SkuInput {
                    pack_size: size,
                    pack_unit: "kg".into(),
                    gtin: None,
                },
            )
            .await
            .unwrap();
            for (k, d) in dealers.iter().enumerate() {
                let price = 4000 + i as i64 * 10 + size as i64 * 100 + k as i64;
                catalog::upsert_offer(&txn, d.id, s.id, Fen(price), true)
                    .await
                    .unwrap();
            }
        }
    }
    txn.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_100_products_costs_the_same_statements_as_a_page_of_5() {
    // The background sweeper's statements would count too: keep it out of the measurement.
    let app =
        e2e::spawn_app_with(|c| c.sweep_interval = std::time::Duration::from_secs(3600)).await;
    seed_big_catalog(&app, 100).await;
    let q = "query($n: Int!) { products(first: $n) { totalCount edges { node {
        id name producer { name }
        skus { label offers { priceFen dealer { name } } }
        fertiliser { analysis }
    } } } }";

    let mut cost = Vec::new();
    for n in [5, 100] {
        let before = app.statements();
        let d = app.gql(q, json!({ "n": n }), None).await.ok();
        let after = app.statements();
        let edges = d["products"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), n);
        assert_eq!(d["products"]["totalCount"], 100);
        for e in edges {
            let p = &e["node"];
            assert!(
                p["producer"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("测试化肥厂")
            );
            assert_eq!(p["fertiliser"]["analysis"], "15-15-15");
            let skus = p["skus"].as_array().unwrap();
            assert_eq!(skus.len(), 2);
            assert_eq!(skus[0]["label"], "25 kg");
            for s in skus {
                let offers = s["offers"].as_array().unwrap();
                assert_eq!(offers.len(), 2);
                assert!(offers[0]["priceFen"].as_i64() <= offers[1]["priceFen"].as_i64());
                assert!(offers.iter().all(|o| {
                    o["dealer"]["name"]
                        .as_str()
                        .unwrap()
                        .starts_with("测试农资店")
                }));
            }
        }
        cost.push(after - before);
    }
    println!(
        "SQL statements: products(first: 5) = {}, products(first: 100) = {}",
        cost[0], cost[1]
    );
    assert_eq!(
        cost[0], cost[1],
        "a page of 100 must cost what a page of 5 costs"
    );
    // count + page + producers + skus + offers + dealers + fertiliser specs.
    assert!(cost[1] <= 8, "{} statements for one page", cost[1]);
}

const CREATE: &str = "mutation($i: ProductInput!) { productCreate(input: $i) { product { id name nameZh registrationNo } errors { field code message } } }";

fn fertiliser(producer: &Value, name: &str, npk: [f64; 3], registration: Option<&str>) -> Value {
    json!({
        "category": "FERTILISER", "producerId": producer,
        "nameZh": name, "nameEn": format!("{name} (en)"),
        "registrationNo": registration, "registrationExempt": registration.is_none(),
        "fertiliser": {
            "fertiliserType": "COMPOUND", "nPct": npk[0], "p2o5Pct": npk[1], "k2oPct": npk[2],
            "form": "GRANULAR", "chloride": "NONE"
        }
    })
}

fn pesticide(producer: &Value, registration: &str, toxicity: &str, crop: &str) -> Value {
    json!({
        "category": "PESTICIDE", "producerId": producer,
        "nameZh": format!("测试农药{registration}"), "nameEn": format!("Test pesticide {registration}"),
        "registrationNo": registration,
        "pesticide": {
            "formulation": "EC", "formulationZh": "乳油", "toxicity": toxicity,
            "actives": [{ "nameZh": "测试菊酯", "nameEn": "testothrin", "content": 25.0, "contentUnit": "g/L" }],
            "uses": [{ "crop": crop, "targetZh": "蚜虫", "targetEn": "aphids", "doseMin": 10.0,
                       "doseMax": 20.0, "doseUnit": "ml/mu", "phiDays": 7, "maxApplications": 2 }]
        }
    })
}

fn seed(producer: &Value, approval: &str) -> Value {
    json!({
        "category": "SEED", "producerId": producer,
        "nameZh": format!("测试稻种{approval}"), "nameEn": "Test rice seed",
        "seed": { "crop": "RICE", "varietyZh": "测试稻", "varietyEn": "Test rice",
                  "approvalNo": approval, "germinationPct": 85.0, "purityPct": 98.0, "moisturePct": 13.0 }
    })
}

async fn first_producer(app: &TestApp) -> Value {
    app.gql("{ producers { id } }", json!({}), None).await.ok()["producers"][0]["id"].clone()
}

/// The payload errors of a productCreate (none means the product was made).
async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(CREATE, json!({ "i": input }), Some(token))
        .await
        .ok()["productCreate"]
        .clone()
}

fn assert_rejected(payload: &Value, field: &str, code: &str) {
    assert!(payload["product"].is_null(), "{payload:#}");
    assert_eq!(payload["errors"][0]["field"], field, "{payload:#}");
    assert_eq!(payload["errors"][0]["code"], code, "{payload:#}");
    assert!(!payload["errors"][0]["message"].as_str().unwrap().is_empty());
}

fn assert_created(payload: &Value) {
    assert_eq!(payload["errors"], json!([]), "{payload:#}");
    assert!(payload["product"]["id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_violations_name_the_field_and_the_fixed_input_passes() {
    let app = demo_app().await;
    let admin = app.demo_token("ADMIN").await;
    let producer = first_producer(&app).await;

    // A pesticide registration must be PD + year + serial.
    let bad = create(
        &app,
        &admin,
        pesticide(&producer, "PD2008005", "LOW", "RICE"),
    )
    .await;
    assert_rejected(&bad, "registrationNo", "INVALID_REGISTRATION");
    assert_created(
        &create(
            &app,
            &admin,
            pesticide(&producer, "PD20250001", "LOW", "RICE"),
        )
        .await,
    );

    // Each declared nutrient of a compound is at least 4 %: 15-3-10 is not a compound fertiliser.
    let bad = create(
        &app,
        &admin,
        fertiliser(
            &producer,
            "测试复合肥15-3-10",
            [15.0, 3.0, 10.0],
            Some("农肥(2015)准字4024号"),
        ),
    )
    .await;
    assert_rejected(&bad, "fertiliser.p2o5Pct", "NUTRIENT_BELOW_MINIMUM");
    assert_eq!(bad["errors"].as_array().unwrap().len(), 1, "{bad:#}");
    assert_created(
        &create(
            &app,
            &admin,
            fertiliser(
                &producer,
                "测试复合肥15-5-10",
                [15.0, 5.0, 10.0],
                Some("农肥(2015)准字4024号"),
            ),
        )
        .await,
    );

    // A highly toxic pesticide is never registered on a vegetable, but may be on rice.
    let bad = create(
        &app,
        &admin,
        pesticide(&producer, "PD20250002", "HIGH", "CABBAGE"),
    )
    .await;
    assert_rejected(&bad, "pesticide.uses.0.crop", "OUT_OF_RANGE");
    assert_created(
        &create(
            &app,
            &admin,
            pesticide(&producer, "PD20250003", "HIGH", "RICE"),
        )
        .await,
    );

    // A seed needs a variety approval number in the official form.
    let bad = create(&app, &admin, seed(&producer, "审稻2017")).await;
    assert_rejected(&bad, "seed.approvalNo", "INVALID_REGISTRATION");
    assert_created(&create(&app, &admin, seed(&producer, "国审稻20250001")).await);

    // A pack's GTIN must carry its GS1 check digit.
    let product = create(
        &app,
        &admin,
        fertiliser(&producer, "测试复合肥GTIN", [16.0, 16.0, 16.0], None),
    )
    .await;
    assert_created(&product);
    let sku_q = "mutation($p: ID!, $g: String) { skuCreate(productId: $p, input: { packSize: 40, packUnit: \"kg\", gtin: $g }) { sku { id gtin } errors { field code message } } }";
    let pid = &product["product"]["id"];
    let check = domain::types::Gtin::check_digit(b"0690123499999") - b'0';
    let good_gtin = format!("0690123499999{check}");
    let bad_gtin = format!("0690123499999{}", (check + 1) % 10);
    let bad = app
        .gql(sku_q, json!({ "p": pid, "g": bad_gtin }), Some(&admin))
        .await
        .ok();
    assert!(bad["skuCreate"]["sku"].is_null());
    assert_eq!(bad["skuCreate"]["errors"][0]["field"], "gtin");
    assert_eq!(bad["skuCreate"]["errors"][0]["code"], "INVALID_GTIN");
    let good = app
        .gql(sku_q, json!({ "p": pid, "g": good_gtin }), Some(&admin))
        .await
        .ok();
    assert_eq!(good["skuCreate"]["errors"], json!([]));
    assert_eq!(good["skuCreate"]["sku"]["gtin"], good_gtin.as_str());

    // A price is a positive number of fen.
    let dealers = ids_by_name(&app, "dealers").await;
    let dealer = dealers.values().next().unwrap();
    let offer_q = "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p) { offer { priceFen price } errors { field code message } } }";
    let sku = &good["skuCreate"]["sku"]["id"];
    for price in [0, -100] {
        let bad = app
            .gql(
                offer_q,
                json!({ "d": dealer, "s": sku, "p": price }),
                Some(&admin),
            )
            .await
            .ok();
        assert!(bad["offerSet"]["offer"].is_null());
        assert_eq!(bad["offerSet"]["errors"][0]["field"], "priceFen");
        assert_eq!(bad["offerSet"]["errors"][0]["code"], "INVALID_PRICE");
    }
    let ok = app
        .gql(
            offer_q,
            json!({ "d": dealer, "s": sku, "p": 12345 }),
            Some(&admin),
        )
        .await
        .ok();
    assert_eq!(ok["offerSet"]["errors"], json!([]));
    assert_eq!(ok["offerSet"]["offer"]["priceFen"], 12345);
    assert_eq!(ok["offerSet"]["offer"]["price"], "¥123.45");
}

/// Registration numbers with multi-byte characters where ASCII is expected once made the
/// parser slice inside a character: the request panicked and the connection dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_number_with_chinese_or_full_width_characters_is_refused_not_a_crash() {
    let app = demo_app().await;
    let dealer = app.demo_token("DEALER (OWNER)").await;
    let producer = first_producer(&app).await;
    for reg in [
        "中PD20080005x",
        "P中D2008000512",
        "ＰＤ20080005",
        "PD2008000５",
    ] {
        let bad = create(&app, &dealer, pesticide(&producer, reg, "LOW", "RICE")).await;
        assert_rejected(&bad, "registrationNo", "INVALID_REGISTRATION");
    }
    // The server is still answering, and the plain number is accepted.
    assert_created(
        &create(
            &app,
            &dealer,
            pesticide(&producer, "PD20250002", "LOW", "RICE"),
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_licensed_dealer_may_offer_a_restricted_use_pesticide() {
    let app = demo_app().await;
    let admin = app.demo_token("ADMIN").await;
    let owner = app.demo_token("DEALER (OWNER)").await;
    let staff = app.demo_token("DEALER (STAFF)").await;
    let me = "{ me { dealer { id nameZh restrictedUseLicensed } } }";
    let owner_dealer = app.gql(me, json!({}), Some(&owner)).await.ok()["me"]["dealer"].clone();
    let staff_dealer = app.gql(me, json!({}), Some(&staff)).await.ok()["me"]["dealer"].clone();
    assert_eq!(owner_dealer["restrictedUseLicensed"], true);
    assert_eq!(staff_dealer["restrictedUseLicensed"], false);

    // A restricted-use pesticide pack that the staff's store does not offer yet.
    let restricted = search(&app, json!({ "restrictedUse": true })).await;
    let sku = restricted
        .iter()
        .flat_map(|n| n["skus"].as_array().unwrap())
        .find(|s| {
            s["offers"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["dealer"]["id"] != staff_dealer["id"])
        })
        .expect("a restricted pack the staff's store does not sell")["id"]
        .clone();
    let offer_q = "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p) { offer { priceFen dealer { id } } errors { field code message } } }";

    let refused = app
        .gql_with(
            offer_q,
            json!({ "d": staff_dealer["id"], "s": sku, "p": 3500 }),
            Some(&staff),
            &[("accept-language", "en")],
        )
        .await
        .ok();
    assert!(refused["offerSet"]["offer"].is_null(), "{refused:#}");
    assert_eq!(refused["offerSet"]["errors"][0]["field"], "skuId");
    let msg = refused["offerSet"]["errors"][0]["message"]
        .as_str()
        .unwrap();
    assert!(msg.contains("restricted-use"), "{msg}");
    let still = search(
        &app,
        json!({ "dealerId": staff_dealer["id"], "restrictedUse": true }),
    )
    .await;
    assert!(still.is_empty(), "the refused offer was not written");

    // The licensed county store may.
    let ok = app
        .gql(
            offer_q,
            json!({ "d": owner_dealer["id"], "s": sku, "p": 3400 }),
            Some(&owner),
        )
        .await
        .ok();
    assert_eq!(ok["offerSet"]["errors"], json!([]), "{ok:#}");
    assert_eq!(ok["offerSet"]["offer"]["priceFen"], 3400);

    // Once the admin records a restricted-use licence, the staff's store may too.
    let lic = app
        .gql(
            "mutation($d: ID!) { dealerLicenceAdd(dealerId: $d, licence: { kind: RESTRICTED_PESTICIDE, number: \"农药经许(鄂)42000019999\", issuer: \"湖北省农业农村厅\", validFrom: \"2025-01-01\", validTo: \"2035-12-31\" }) { dealer { restrictedUseLicensed } errors { field code } } }",
            json!({ "d": staff_dealer["id"] }),
            Some(&admin),
        )
        .await
        .ok();
    assert_eq!(lic["dealerLicenceAdd"]["errors"], json!([]));
    assert_eq!(
        lic["dealerLicenceAdd"]["dealer"]["restrictedUseLicensed"],
        true
    );
    let ok = app
        .gql(
            offer_q,
            json!({ "d": staff_dealer["id"], "s": sku, "p": 3500 }),
            Some(&staff),
        )
        .await
        .ok();
    assert_eq!(ok["offerSet"]["errors"], json!([]), "{ok:#}");
    assert_eq!(ok["offerSet"]["offer"]["dealer"]["id"], staff_dealer["id"]);
    let now = search(
        &app,
        json!({ "dealerId": staff_dealer["id"], "restrictedUse": true }),
    )
    .await;
    assert_eq!(now.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_the_admin_lists_is_found_by_search() {
    let app = demo_app().await;
    let admin = app.demo_token("ADMIN").await;
    let producer = first_producer(&app).await;
    let before = page(&app, 1, None, &json!({}), "NEWEST").await["totalCount"]
        .as_u64()
        .unwrap();

    let made = create(
        &app,
        &admin,
        json!({
            "category": "PESTICIDE", "producerId": producer,
            "nameZh": "24%螺虫乙酯悬浮剂", "nameEn": "Spirotetramat 24% SC",
            "registrationNo": "pd2025 0042",
            "pesticide": {
                "formulation": "SC", "formulationZh": "悬浮剂", "toxicity": "LOW",
                "actives": [{ "nameZh": "螺虫乙酯", "nameEn": "spirotetramat", "content": 24.0, "contentUnit": "%" }],
                "uses": [{ "crop": "CITRUS", "targetZh": "介壳虫", "targetEn": "scale insects", "doseMin": 4000.0,
                           "doseMax": 5000.0, "doseUnit": "ml/mu", "phiDays": 40, "maxApplications": 1 }]
            }
        }),
    )
    .await;
    assert_created(&made);
    assert_eq!(
        made["product"]["registrationNo"], "PD20250042",
        "normalised"
    );
    let id = made["product"]["id"].clone();

    let after = page(&app, 1, None, &json!({}), "NEWEST").await;
    assert_eq!(after["totalCount"].as_u64().unwrap(), before + 1);
    assert_eq!(after["edges"][0]["node"]["id"], id, "newest first");
    for filter in [
        json!({ "text": "螺虫乙酯" }),
        json!({ "text": "SPIROTETRAMAT" }),
        json!({ "crop": "柑橘" }),
        json!({ "target": "scale insects" }),
        json!({ "category": "PESTICIDE", "restrictedUse": false }),
    ] {
        let found = search(&app, filter.clone()).await;
        assert!(
            found.iter().any(|n| n["id"] == id),
            "{filter} does not find the new product"
        );
    }
    // Not on offer anywhere yet, so no village or dealer filter finds it.
    let dealers = ids_by_name(&app, "dealers").await;
    for gid in dealers.values() {
        assert!(
            !search(&app, json!({ "dealerId": gid }))
                .await
                .iter()
                .any(|n| n["id"] == id)
        );
    }
    let one = app
        .gql(
            "query($id: ID!) { product(id: $id) { nameZh category pesticide { toxicity uses { crop cropName targetEn phiDays } } } }",
            json!({ "id": id }),
            None,
        )
        .await
        .ok();
    assert_eq!(one["product"]["nameZh"], "24%螺虫乙酯悬浮剂");
    assert_eq!(one["product"]["pesticide"]["uses"][0]["cropName"], "柑橘");
    assert_eq!(one["product"]["pesticide"]["uses"][0]["phiDays"], 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_follow_accept_language_and_default_to_chinese() {
    let app = demo_app().await;
    let admin = app.demo_token("ADMIN").await;
    let producer = first_producer(&app).await;
    let bad = json!({ "i": pesticide(&producer, "XX123", "LOW", "RICE") });
    let en_hdr = [("accept-language", "en-US,en;q=0.9")];

    let en = app
        .gql_with(CREATE, bad.clone(), Some(&admin), &en_hdr)
        .await
        .ok();
    let zh = app.gql(CREATE, bad.clone(), Some(&admin)).await.ok();
    let zh2 = app
        .gql_with(
            CREATE,
            bad,
            Some(&admin),
            &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")],
        )
        .await
        .ok();
    let msg = |d: &Value| {
        d["productCreate"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(en["productCreate"]["errors"][0]["field"], "registrationNo");
    assert!(
        msg(&en).starts_with("pesticide registration must be"),
        "{}",
        msg(&en)
    );
    assert!(msg(&zh).contains("农药登记证号"), "{}", msg(&zh));
    assert_eq!(msg(&zh), msg(&zh2));

    // Top-level errors too.
    let q = "{ products(first: 101) { totalCount } }";
    let en = app.gql_with(q, json!({}), None, &en_hdr).await;
    // Top-level input errors name the field first.
    assert_eq!(
        en.body["errors"][0]["message"],
        "first: first must be between 1 and 100"
    );
    let zh = app.gql(q, json!({}), None).await;
    assert_eq!(
        zh.body["errors"][0]["message"],
        "first: 每页数量应在 1 到 100 之间"
    );

    // And names: `name` is the caller's language; nameZh / nameEn are always both there.
    let q = "{ products(first: 3, sortBy: NAME_EN) { edges { node { name nameZh nameEn } } } }";
    let en = app
        .gql_with(q, json!({}), None, &[("accept-language", "en")])
        .await
        .ok();
    let zh = app.gql(q, json!({}), None).await.ok();
    for (e, z) in en["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .zip(zh["products"]["edges"].as_array().unwrap())
    {
        assert_eq!(e["node"]["name"], e["node"]["nameEn"]);
        assert_eq!(z["node"]["name"], z["node"]["nameZh"]);
        assert_ne!(e["node"]["name"], z["node"]["name"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_line_from_a_dealer_outside_the_village_is_a_problem_naming_the_dealer() {
    let app = demo_app().await;
    let farmer = app.demo_token("FARMER").await;
    let me = app
        .gql("{ me { village { id } } }", json!({}), Some(&farmer))
        .await
        .ok();
    let village = me["me"]["village"]["id"].clone();
    let dealers = app
        .gql(
            "{ dealers { id nameZh serviceArea { id } } }",
            json!({}),
            None,
        )
        .await
        .ok();
    let outsider = dealers["dealers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            !d["serviceArea"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["id"] == village)
        })
        .expect("a dealer that does not serve the demo farmer's village")
        .clone();
    let offers = app
        .gql(
            "query($d: ID!) { products(first: 5, filter: { dealerId: $d }) { edges { node { skus { offers { id dealer { id } } } } } } }",
            json!({ "d": outsider["id"] }),
            None,
        )
        .await
        .ok();
    let offer = offers["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["node"]["skus"].as_array().unwrap().clone())
        .flat_map(|s| s["offers"].as_array().unwrap().clone())
        .find(|o| o["dealer"]["id"] == outsider["id"])
        .expect("an offer of that dealer")["id"]
        .clone();
    let r = app
        .gql(
            "mutation($o: ID!) { cartSet(offerId: $o, quantity: 1) { cart { hasProblems lines { problems { code message } } } errors { code } } }",
            json!({ "o": offer }),
            Some(&farmer),
        )
        .await
        .ok();
    let cart = &r["cartSet"]["cart"];
    assert_eq!(cart["hasProblems"], true, "{r:#}");
    let p = &cart["lines"][0]["problems"];
    let outside = p
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "OUTSIDE_SERVICE_AREA")
        .unwrap_or_else(|| panic!("{p:#}"));
    assert!(
        outside["message"]
            .as_str()
            .unwrap()
            .contains(outsider["nameZh"].as_str().unwrap()),
        "{outside:#}"
    );
}
