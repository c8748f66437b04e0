//! Ordering from a phone over HTTP and WebSocket, on the demo county: a cart kept on the server
//! that reports problems as data, checkout split by dealer with an idempotency key, allocation
//! that never oversells (100 farmers racing for the last 10 units), the transition table and
//! every illegal move, cancellation and expiry that give back exactly what an order held,
//! recalled lots that are never allocated, every restricted-use rule, dealer credit, sandbox
//! payments and their signed callback, the dealer's queue and the farmer's history, and live
//! updates over graphql-transport-ws, also across two server processes sharing PostgreSQL and
//! Redis.
//!
//! Global IDs come from queries. A few checks look behind the API's back (the unique
//! constraint on checkouts, a licence that lapses, a buyer whose real-name check is withdrawn);
//! the 100-farmer race creates its farmers directly in the database and signs their tokens with
//! the server's key, as `login` would, to keep the suite fast.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::NaiveDate;
use domain::accounts::{Actor, Role};
use domain::entities::{app_user, checkout, customer_order, licence, stock};
use domain::orders::{DeliveryMode, Party, Status};
use e2e::{TestApp, spawn_app, spawn_app_with};
use futures_util::{SinkExt, StreamExt};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

// ---------------------------------------------------------------- documents

const ORDER: &str = "fragment O on Order { id number status deliveryMode paymentMethod paymentStatus totalFen warnings flagged flagReason cancelReason placedAt expiresAt saleId dealer { id } station { id } lines { skuId quantity unitPriceFen allocations { quantity status lot { id lotNo } } } history { from to actorId reason at } payments { provider status amountFen providerRef } }";

const CART_FIELDS: &str = "fragment C on Cart { totalFen hasProblems lines { id quantity unitPriceFen priceFenWhenAdded subtotalFen available offer { id } sku { id } dealer { id } problems { code message } } }";

const CART: &str = "{ cart { ...C } }";

const CART_SET: &str = "mutation($o: ID!, $q: Int!) { cartSet(offerId: $o, quantity: $q) { cart { ...C } errors { field code message } } }";

const CART_ACCEPT: &str =
    "mutation { cartAcceptPrices { cart { ...C } errors { field code message } } }";

const PLACE: &str = "mutation($i: OrderPlaceInput!, $k: String!) { orderPlace(input: $i, idempotencyKey: $k) { orders { ...O } replayed errors { field code message from to } } }";

const TRANSITION: &str = "mutation($o: ID!, $t: OrderStatus!, $r: String!) { orderTransition(orderId: $o, to: $t, reason: $r) { order { ...O } errors { field code message from to } } }";

const ORDER_Q: &str = "query($id: ID!) { order(id: $id) { ...O } }";

const MY_ORDERS: &str = "query { myOrders(first: 100) { ...O } }";

const DEALER_ORDERS: &str = "query($d: ID!, $s: [OrderStatus!], $m: DeliveryMode, $f: Boolean!) { dealerOrders(dealerId: $d, statuses: $s, deliveryMode: $m, flaggedOnly: $f, first: 100) { ...O } }";

const CREDIT_LIMIT: &str = "mutation($d: ID!, $f: ID!, $l: Int!) { creditLimitSet(dealerId: $d, farmerId: $f, limitFen: $l) { account { limitFen balanceFen availableFen } errors { field code message } } }";

const CREDIT_REPAY: &str = "mutation($d: ID!, $f: ID!, $a: Int!) { creditRepay(dealerId: $d, farmerId: $f, amountFen: $a) { account { limitFen balanceFen availableFen repayments { amountFen balanceAfterFen } } errors { field code message } } }";

const MY_CREDIT: &str = "{ creditAccounts { limitFen balanceFen availableFen dealer { id } } }";

const FIELD_CREATE: &str = "mutation($i: FieldInput!) { fieldCreate(input: $i) { field { id areaMu } errors { field code message } } }";

const OFFER_SET: &str = "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p) { offer { id priceFen } errors { field code message } } }";

const DEALER: &str = "query($d: ID!) { dealer(id: $d) { id nameZh restrictedUseLicensed serviceArea { id } offers { id priceFen sku { id product { id category restrictedUse } } } } }";

const STATIONS: &str = "{ stations { id village { id } } }";

const STOCK: &str =
    "query($d: ID!) { stock(dealerId: $d) { onHand reserved available lot { id } sku { id } } }";

const NEW_SKU: &str = "mutation($p: ID!, $s: Float!) { skuCreate(productId: $p, input: { packSize: $s, packUnit: \"kg\" }) { sku { id } errors { field code message } } }";

const LOT_CREATE: &str = "mutation($i: LotInput!) { lotCreate(input: $i) { lot { id lotNo } errors { field code message } } }";

const RECEIVE: &str = "mutation($i: ReceiveInput!) { stockReceive(input: $i) { receipt { id } errors { field code message } } }";

const RECALL: &str = "mutation($l: ID!, $r: String!) { lotRecall(lotId: $l, reason: $r) { lot { id status } errors { field code message } } }";

const SALES: &str = "query($d: ID!) { sales(dealerId: $d, first: 200) { id channel buyerName buyerIdNumber crop target lines { quantity sku { id } lot { id } } } }";

const NOTIFICATIONS: &str = "{ notifications(unreadOnly: true) { kind payload } }";

const ME: &str = "{ me { id village { id } dealer { id } } }";

// ---------------------------------------------------------------- the demo county

/// The demo county as the API shows it.
struct County {
    admin: String,
    regulator: String,
    /// The owner of the county store (the dealer licensed for restricted-use pesticides).
    owner: String,
    /// Staff of the Hougang dealer (no restricted-use licence; serves villages v2-v4).
    staff: String,
    /// The real-name farmer, and a farmer without real-name data.
    farmer: String,
    farmer2: String,
    county: Value,
    hougang: Value,
    farmer_id: Value,
    farmer_village: Value,
    /// A fertiliser product the county store sells (new pack sizes are made of it).
    urea: Value,
    seq: AtomicU32,
}

impl County {
    async fn load(app: &TestApp) -> County {
        app.load_demo().await;
        let farmers: Vec<_> = nongzi::demo::credentials()
            .unwrap()
            .into_iter()
            .filter(|c| c.role == "FARMER")
            .collect();
        let farmer2 = app.login(&farmers[1].phone, &farmers[1].password).await.0;
        let owner = app.demo_token("DEALER (OWNER)").await;
        let staff = app.demo_token("DEALER (STAFF)").await;
        let farmer = app.demo_token("FARMER").await;
        let me = |t: &str| {
            let t = t.to_owned();
            async move { q(app, &t, ME, json!({})).await["me"].clone() }
        };
        let (owner_me, staff_me, farmer_me) =
            (me(&owner).await, me(&staff).await, me(&farmer).await);
        let county = owner_me["dealer"]["id"].clone();
        let d = q(app, &owner, DEALER, json!({ "d": county })).await;
        assert_eq!(d["dealer"]["restrictedUseLicensed"], true);
        let urea = arr(&d["dealer"]["offers"])
            .iter()
            .find(|o| o["sku"]["product"]["category"] == "FERTILISER")
            .expect("the county store sells fertiliser")["sku"]["product"]["id"]
            .clone();
        County {
            admin: app.demo_token("ADMIN").await,
            regulator: app.demo_token("REGULATOR").await,
            owner,
            staff,
            farmer,
            farmer2,
            county,
            hougang: staff_me["dealer"]["id"].clone(),
            farmer_id: farmer_me["id"].clone(),
            farmer_village: farmer_me["village"]["id"].clone(),
            urea,
            seq: AtomicU32::new(1),
        }
    }

    fn n(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------- helpers

/// A query or mutation that must succeed at the GraphQL level.
async fn q(app: &TestApp, token: &str, doc: &str, vars: Value) -> Value {
    app.gql(doc, vars, Some(token)).await.ok()
}

fn with(doc: &str, fragment: &str) -> String {
    format!("{doc} {fragment}")
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v:#}"))
}

fn assert_no_errors(payload: &Value) {
    assert_eq!(
        payload["errors"],
        json!([]),
        "unexpected errors: {payload:#}"
    );
}

/// The codes of a payload's errors.
fn codes(payload: &Value) -> Vec<String> {
    arr(&payload["errors"])
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The database id inside a global ID (`base64("Kind:123")`).
fn raw_id(gid: &Value) -> i64 {
    let s = gid.as_str().expect("an ID");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .expect("base64 ID");
    let text = String::from_utf8(bytes).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

fn today() -> NaiveDate {
    domain::today()
}

fn day(offset: i64) -> String {
    (today() + chrono::Duration::days(offset)).to_string()
}

/// Delivery and payment options for every dealer of a checkout.
fn options(mode: &str, payment: &str) -> Value {
    json!({ "deliveryMode": mode, "paymentMethod": payment })
}

fn pickup() -> Value {
    options("PICKUP", "CASH_ON_DELIVERY")
}

/// Options for a pesticide: what it is for.
fn for_rice(mut o: Value, target: &str) -> Value {
    o["crop"] = json!("RICE");
    o["target"] = json!(target);
    o
}

async fn cart(app: &TestApp, token: &str) -> Value {
    q(app, token, &with(CART, CART_FIELDS), json!({})).await["cart"].clone()
}

async fn cart_set(app: &TestApp, token: &str, offer: &Value, quantity: i64) -> Value {
    let d = q(
        app,
        token,
        &with(CART_SET, CART_FIELDS),
        json!({ "o": offer, "q": quantity }),
    )
    .await;
    assert_no_errors(&d["cartSet"]);
    d["cartSet"]["cart"].clone()
}

/// Checks the cart out; returns the payload (orders, replayed, errors).
async fn place(app: &TestApp, token: &str, default: Value, key: &str) -> Value {
    q(
        app,
        token,
        &with(PLACE, ORDER),
        json!({ "i": { "default": default }, "k": key }),
    )
    .await["orderPlace"]
        .clone()
}

/// Checks out a cart of one offer that must be accepted; returns the one order.
async fn order_one(
    app: &TestApp,
    token: &str,
    offer: &Value,
    quantity: i64,
    default: Value,
) -> Value {
    cart_set(app, token, offer, quantity).await;
    let key = format!("k-{}", uuid::Uuid::new_v4());
    let p = place(app, token, default, &key).await;
    assert_no_errors(&p);
    assert_eq!(p["replayed"], false);
    assert_eq!(arr(&p["orders"]).len(), 1, "{p:#}");
    p["orders"][0].clone()
}

/// Asks for a transition; returns the payload.
async fn transition(app: &TestApp, token: &str, order: &Value, to: &str, reason: &str) -> Value {
    q(
        app,
        token,
        &with(TRANSITION, ORDER),
        json!({ "o": order["id"], "t": to, "r": reason }),
    )
    .await["orderTransition"]
        .clone()
}

/// A transition that must be accepted; returns the order.
async fn move_to(app: &TestApp, token: &str, order: &Value, to: &str, reason: &str) -> Value {
    let p = transition(app, token, order, to, reason).await;
    assert_no_errors(&p);
    assert_eq!(p["order"]["status"], to);
    p["order"].clone()
}

async fn order(app: &TestApp, token: &str, order: &Value) -> Value {
    q(
        app,
        token,
        &with(ORDER_Q, ORDER),
        json!({ "id": order["id"] }),
    )
    .await["order"]
        .clone()
}

/// (on hand, reserved) of a pack size at a dealer, over all its lots and locations.
async fn stock_of(app: &TestApp, token: &str, dealer: &Value, sku: &Value) -> (i64, i64) {
    let d = q(app, token, STOCK, json!({ "d": dealer })).await;
    arr(&d["stock"])
        .iter()
        .filter(|r| r["sku"]["id"] == *sku)
        .fold((0, 0), |(h, r), row| {
            (
                h + row["onHand"].as_i64().unwrap(),
                r + row["reserved"].as_i64().unwrap(),
            )
        })
}

/// (on hand, reserved) of one lot at a dealer.
async fn lot_stock(app: &TestApp, token: &str, dealer: &Value, lot: &Value) -> (i64, i64) {
    let d = q(app, token, STOCK, json!({ "d": dealer })).await;
    arr(&d["stock"])
        .iter()
        .filter(|r| r["lot"]["id"] == *lot)
        .fold((0, 0), |(h, r), row| {
            (
                h + row["onHand"].as_i64().unwrap(),
                r + row["reserved"].as_i64().unwrap(),
            )
        })
}

/// A dealer's offer of a pack size matching `pred` (given the offer).
async fn offer_where(
    app: &TestApp,
    token: &str,
    dealer: &Value,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let d = q(app, token, DEALER, json!({ "d": dealer })).await;
    arr(&d["dealer"]["offers"])
        .iter()
        .find(|o| pred(o))
        .cloned()
        .expect("such an offer")
}

/// A new pack size offered by one dealer, whose only stock is the lots made here.
struct Fresh {
    sku: Value,
    offer: Value,
    lots: Vec<Value>,
}

/// Makes a new pack size of urea, offers it at `dealer` for `price` fen and receives lots of
/// it: `(days until expiry, quantity)` each.
async fn fresh_stock(
    app: &TestApp,
    c: &County,
    dealer_token: &str,
    dealer: &Value,
    lots: &[(i64, i64)],
    price: i64,
) -> Fresh {
    let n = c.n();
    let d = q(
        app,
        &c.admin,
        NEW_SKU,
        json!({ "p": c.urea, "s": 3.0 + f64::from(n) }),
    )
    .await;
    assert_no_errors(&d["skuCreate"]);
    let sku = d["skuCreate"]["sku"]["id"].clone();
    let d = q(
        app,
        dealer_token,
        OFFER_SET,
        json!({ "d": dealer, "s": sku, "p": price }),
    )
    .await;
    assert_no_errors(&d["offerSet"]);
    let offer = d["offerSet"]["offer"]["id"].clone();
    let mut made = Vec::new();
    for (i, (expires, quantity)) in lots.iter().enumerate() {
        let lot_no = format!("E2E-O{n}-{i}");
        let produced = today() - chrono::Duration::days(30);
        let d = q(
            app,
            &c.admin,
            LOT_CREATE,
            json!({ "i": {
                "skuId": sku, "lotNo": lot_no, "producedOn": produced.to_string(),
                "expiresOn": day(*expires),
                "inspection": { "reportNo": format!("JC-{lot_no}"), "lab": "荆门市农产品质量检测中心",
                                "result": "CONFORMANT", "date": (produced + chrono::Duration::days(2)).to_string() },
            } }),
        )
        .await;
        assert_no_errors(&d["lotCreate"]);
        let lot = d["lotCreate"]["lot"]["id"].clone();
        let d = q(
            app,
            dealer_token,
            RECEIVE,
            json!({ "i": {
                "dealerId": dealer, "lotId": lot, "quantity": quantity, "unitCostFen": price * 85 / 100,
                "supplier": { "name": "湖北宜化化工股份有限公司", "licenceNo": "(鄂)XK13-001-00118", "contact": "0717-1234567" },
                "sourceDocument": format!("RK-{lot_no}"),
            } }),
        )
        .await;
        assert_no_errors(&d["stockReceive"]);
        made.push(lot);
    }
    Fresh {
        sku,
        offer,
        lots: made,
    }
}

fn farmer_actor(user_id: i64) -> Actor {
    Actor {
        station_id: None,
        assisted_by: None,
        user_id,
        role: Role::Farmer,
        dealer_id: None,
        dealer_role: None,
        county_ids: vec![],
    }
}

/// `n` new farmers, created in the database (one password hash shared, so this is quick) with
/// tokens the server signs as `login` does: (user id, token).
async fn many_farmers(app: &TestApp, n: usize) -> Vec<(i64, String)> {
    let first = domain::accounts::insert_user(
        app.db(),
        domain::accounts::NewUser {
            phone: "13900000000".into(),
            password: "race-farmer-2026".into(),
            display_name: "抢购农户 0".into(),
            role: Role::Farmer,
            dealer_id: None,
            dealer_role: None,
            county_ids: vec![],
            village_id: None,
            station_id: None,
        },
    )
    .await
    .unwrap();
    let mut out = vec![(first.id, app.token_for(&farmer_actor(first.id)))];
    for i in 1..n {
        let u = app_user::ActiveModel {
            phone: Set(format!("139{i:08}")),
            password_hash: Set(first.password_hash.clone()),
            role: Set(domain::accounts::Role::Farmer),
            display_name: Set(format!("抢购农户 {i}")),
            dealer_id: Set(None),
            dealer_role: Set(None),
            county_id: Set(None),
            village_id: Set(None),
            real_name: Set(None),
            id_number: Set(None),
            verified_at: Set(None),
            disabled: Set(false),
            created_at: Set(domain::now()),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
        out.push((u.id, app.token_for(&farmer_actor(u.id))));
    }
    // The shared password really logs in: these are ordinary accounts.
    let (token, _) = app.login("13900000005", "race-farmer-2026").await;
    assert!(!token.is_empty());
    out
}

fn first_error(payload: &Value) -> &Value {
    &payload["errors"][0]
}

fn history_tos(order: &Value) -> Vec<String> {
    arr(&order["history"])
        .iter()
        .map(|e| e["to"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------- 1. no overselling

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_farmers_race_for_the_last_ten_units_and_exactly_ten_are_sold() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 10)], 5_000).await;
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (10, 0));

    // A hundred farmers each put one bag in their cart.
    let farmers = many_farmers(&app, 100).await;
    let offer_id = raw_id(&f.offer);
    for (id, _) in &farmers {
        domain::orders::cart_set(app.db(), &farmer_actor(*id), offer_id, 1)
            .await
            .unwrap();
    }
    let c0 = cart(&app, &farmers[0].1).await;
    assert_eq!(c0["lines"][0]["available"], 10);

    // While they all check out at once, the lot's stock row is watched: never negative, never
    // more reserved than on hand.
    let lot_id = raw_id(&f.lots[0]);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (db, stop) = (app.db().clone(), stop.clone());
        tokio::spawn(async move {
            let mut samples = 0;
            while !stop.load(Ordering::Relaxed) {
                for r in stock::Entity::find()
                    .filter(stock::Column::LotId.eq(lot_id))
                    .all(&db)
                    .await
                    .unwrap()
                {
                    assert!(
                        r.reserved >= 0 && r.on_hand >= r.reserved && r.on_hand == 10,
                        "stock went wrong: {r:?}"
                    );
                }
                samples += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            samples
        })
    };
    let started = Instant::now();
    let results = futures_util::future::join_all(farmers.iter().enumerate().map(|(i, (_, t))| {
        let app = &app;
        async move { place(app, t, pickup(), &format!("race-{i}")).await }
    }))
    .await;
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let samples = watcher.await.expect("the stock row stayed sane");
    println!("100 concurrent checkouts took {took:?}; stock sampled {samples} times");

    let placed: Vec<&Value> = results
        .iter()
        .filter(|p| !arr(&p["orders"]).is_empty())
        .collect();
    let refused: Vec<&Value> = results
        .iter()
        .filter(|p| arr(&p["orders"]).is_empty())
        .collect();
    assert_eq!(placed.len(), 10, "exactly ten orders are placed");
    assert_eq!(refused.len(), 90);
    for p in &refused {
        assert_eq!(codes(p), ["INSUFFICIENT_STOCK"], "{p:#}");
        assert_eq!(first_error(p)["field"], "cart.0.quantity");
    }
    for p in &placed {
        assert_no_errors(p);
        let o = &p["orders"][0];
        assert_eq!(o["status"], "PLACED");
        assert_eq!(o["lines"][0]["allocations"][0]["quantity"], 1);
        assert_eq!(o["lines"][0]["allocations"][0]["status"], "RESERVED");
    }
    // Ten reserved, nothing left to sell, on hand untouched until the hand-over.
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (10, 10));
    let refused_farmer = farmers
        .iter()
        .zip(&results)
        .find(|(_, p)| arr(&p["orders"]).is_empty())
        .map(|((_, t), _)| t.clone())
        .unwrap();
    let line = &cart(&app, &refused_farmer).await["lines"][0];
    assert_eq!(line["available"], 0);
    assert_eq!(line["problems"][0]["code"], "INSUFFICIENT_STOCK");

    // The dealer hands over all ten: on hand drops by ten, every order turned into a sale.
    let queue = q(
        &app,
        &c.owner,
        &with(DEALER_ORDERS, ORDER),
        json!({ "d": c.county, "s": ["PLACED"], "f": false }),
    )
    .await;
    let mine: Vec<Value> = arr(&queue["dealerOrders"])
        .iter()
        .filter(|o| o["lines"][0]["skuId"] == f.sku)
        .cloned()
        .collect();
    assert_eq!(mine.len(), 10);
    for o in &mine {
        move_to(&app, &c.owner, o, "CONFIRMED", "").await;
        move_to(&app, &c.owner, o, "READY_FOR_PICKUP", "").await;
        let done = move_to(&app, &c.owner, o, "DELIVERED", "").await;
        assert!(done["saleId"].is_string());
        assert_eq!(done["paymentStatus"], "PAID");
        assert_eq!(done["lines"][0]["allocations"][0]["status"], "SOLD");
    }
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (0, 0));
    let rows = stock::Entity::find()
        .filter(stock::Column::LotId.eq(lot_id))
        .all(app.db())
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.on_hand == 0 && r.reserved == 0));
    let sales = q(&app, &c.owner, SALES, json!({ "d": c.county })).await;
    let sold: i64 = arr(&sales["sales"])
        .iter()
        .filter(|s| s["channel"] == "ORDER")
        .flat_map(|s| arr(&s["lines"]).clone())
        .filter(|l| l["sku"]["id"] == f.sku)
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(sold, 10, "the sales have exactly ten units");
    // As a counter sale does: a sales-ledger line and a trace event per lot and hand-over.
    let ledger = q(
        &app,
        &c.owner,
        LEDGER,
        json!({ "d": c.county, "f": day(0), "t": day(0) }),
    )
    .await;
    let lines: Vec<&Value> = arr(&ledger["ledger"])
        .iter()
        .filter(|l| l["sourceDocument"].as_str().unwrap().starts_with("ORDER-"))
        .collect();
    assert_eq!(lines.len(), 10);
    assert!(lines.iter().all(|l| l["quantity"] == 1));
    let events = q(&app, &c.admin, LOT_EVENTS, json!({ "id": f.lots[0] })).await;
    let sales_events = arr(&events["lot"]["events"])
        .iter()
        .filter(|e| e["bizStep"] == "retail_selling" && e["refKind"] == "SALE")
        .count();
    assert_eq!(sales_events, 10);
}

const LEDGER: &str = "query($d: ID!, $f: NaiveDate!, $t: NaiveDate!) { ledger(dealerId: $d, kind: SALE, from: $f, to: $t) { quantity lotNo sourceDocument } }";

// ---------------------------------------------------------------- 2. idempotency

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_idempotency_key_returns_the_first_orders_and_never_a_second() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 50)], 3_000).await;

    // First call places; the retry (the phone never saw the answer) gets the same order back.
    cart_set(&app, &c.farmer, &f.offer, 2).await;
    let first = place(&app, &c.farmer, pickup(), "checkout-1").await;
    assert_no_errors(&first);
    assert_eq!(first["replayed"], false);
    let retry = place(&app, &c.farmer, pickup(), "checkout-1").await;
    assert_no_errors(&retry);
    assert_eq!(retry["replayed"], true);
    assert_eq!(retry["orders"][0]["id"], first["orders"][0]["id"]);
    assert_eq!(arr(&retry["orders"]).len(), 1);
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (50, 2));

    // Even with a new cart, the used key answers with the first checkout's orders.
    cart_set(&app, &c.farmer, &f.offer, 5).await;
    let again = place(&app, &c.farmer, pickup(), "checkout-1").await;
    assert_eq!(again["replayed"], true);
    assert_eq!(again["orders"][0]["id"], first["orders"][0]["id"]);
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (50, 2));
    assert_eq!(cart(&app, &c.farmer).await["lines"][0]["quantity"], 5);

    // Two calls with one key at the same time: one order, both answers name it.
    let (a, b) = tokio::join!(
        place(&app, &c.farmer, pickup(), "checkout-2"),
        place(&app, &c.farmer, pickup(), "checkout-2"),
    );
    assert_no_errors(&a);
    assert_no_errors(&b);
    assert_eq!(a["orders"][0]["id"], b["orders"][0]["id"]);
    assert_eq!(arr(&a["orders"]).len(), 1);
    assert_eq!(arr(&b["orders"]).len(), 1);
    let fresh: Vec<bool> = [&a, &b].iter().map(|p| p["replayed"] == false).collect();
    assert_eq!(
        fresh.iter().filter(|x| **x).count(),
        1,
        "exactly one call placed it: {a:#} {b:#}"
    );
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (50, 7));
    let mine = q(&app, &c.farmer, &with(MY_ORDERS, ORDER), json!({})).await;
    let of_this_sku = arr(&mine["myOrders"])
        .iter()
        .filter(|o| o["lines"][0]["skuId"] == f.sku)
        .count();
    assert_eq!(of_this_sku, 2);

    // A double tap that sends two different keys for one cart: the cart is ordered once, the
    // other call finds it empty.
    cart_set(&app, &c.farmer, &f.offer, 4).await;
    let (a, b) = tokio::join!(
        place(&app, &c.farmer, pickup(), "tap-1"),
        place(&app, &c.farmer, pickup(), "tap-2"),
    );
    let mut outcomes = [codes(&a), codes(&b)];
    outcomes.sort();
    assert_eq!(
        outcomes,
        [vec![], vec!["CART_EMPTY".to_owned()]],
        "{a:#} {b:#}"
    );
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (50, 11));
    cart_set(&app, &c.farmer, &f.offer, 5).await;

    // Keys belong to a farmer: another farmer's identical key is a new checkout.
    cart_set(&app, &c.farmer2, &f.offer, 1).await;
    let other = place(&app, &c.farmer2, pickup(), "checkout-1").await;
    assert_no_errors(&other);
    assert_eq!(other["replayed"], false);
    assert_ne!(other["orders"][0]["id"], first["orders"][0]["id"]);

    // A refused checkout leaves no trace: the same key works once the cart is fixed.
    cart_set(&app, &c.farmer, &f.offer, 1_000).await;
    let refused = place(&app, &c.farmer, pickup(), "checkout-3").await;
    assert_eq!(codes(&refused), ["INSUFFICIENT_STOCK"]);
    cart_set(&app, &c.farmer, &f.offer, 1).await;
    let fixed = place(&app, &c.farmer, pickup(), "checkout-3").await;
    assert_no_errors(&fixed);
    assert_eq!(fixed["replayed"], false);

    // A key must be 1 to 100 characters.
    let bad = place(&app, &c.farmer, pickup(), "  ").await;
    assert_eq!(codes(&bad), ["INVALID_FORMAT"]);

    // The constraint lives in the database: a second checkout row with the key is refused.
    let farmer_id = raw_id(&c.farmer_id);
    let dup = checkout::ActiveModel {
        farmer_id: Set(farmer_id),
        idempotency_key: Set("checkout-1".into()),
        created_at: Set(domain::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect_err("the unique constraint refuses a second checkout with the same key");
    assert!(
        matches!(
            dup.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ),
        "{dup:?}"
    );
    let rows = checkout::Entity::find()
        .filter(checkout::Column::FarmerId.eq(farmer_id))
        .filter(checkout::Column::IdempotencyKey.eq("checkout-1"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

// ---------------------------------------------------------------- 3. the transition table

/// Tries every move out of `order`'s current state that the table does not allow `party` and
/// checks each is refused as INVALID_TRANSITION naming both states, and changes nothing.
async fn every_illegal_move(
    app: &TestApp,
    token: &str,
    party: Party,
    order: &Value,
    tried: &mut usize,
) {
    let from = Status::parse(order["status"].as_str().unwrap()).unwrap();
    let mode = DeliveryMode::parse(order["deliveryMode"].as_str().unwrap()).unwrap();
    for &to in Status::ALL {
        if domain::orders::allowed(from, to, party, mode) {
            continue;
        }
        let p = transition(app, token, order, to.as_str(), "测试 / test").await;
        assert!(p["order"].is_null(), "{party:?} {from:?} -> {to:?}: {p:#}");
        assert_eq!(
            codes(&p),
            ["INVALID_TRANSITION"],
            "{party:?} {from:?} -> {to:?}"
        );
        let e = first_error(&p);
        assert_eq!(e["from"], from.as_str());
        assert_eq!(e["to"], to.as_str());
        assert!(!e["message"].as_str().unwrap().is_empty());
        *tried += 1;
    }
    let now = self::order(app, token, order).await;
    assert_eq!(
        now["status"],
        from.as_str(),
        "an illegal move changed nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_illegal_transition_is_refused_with_its_from_and_to_states() {
    // The sweeper runs often so an order can be expired by it below.
    let app = spawn_app_with(|c| c.sweep_interval = Duration::from_millis(200)).await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 50)], 2_000).await;

    // The table is the one the issue describes.
    use Status::*;
    let legal: Vec<(Status, Status)> = domain::orders::TRANSITIONS
        .iter()
        .map(|(f, t, ..)| (*f, *t))
        .collect();
    assert_eq!(
        legal,
        [
            (Placed, Confirmed),
            (Placed, Cancelled),
            (Placed, Expired),
            (Confirmed, ReadyForPickup),
            (Confirmed, OutForDelivery),
            (Confirmed, Cancelled),
            (ReadyForPickup, Delivered),
            (OutForDelivery, Delivered),
            (Delivered, Completed),
        ]
    );
    assert!(!domain::orders::allowed(
        Placed,
        Confirmed,
        Party::Farmer,
        DeliveryMode::Pickup
    ));
    assert!(!domain::orders::allowed(
        Confirmed,
        Cancelled,
        Party::Farmer,
        DeliveryMode::Pickup
    ));
    assert!(!domain::orders::allowed(
        Placed,
        Expired,
        Party::Dealer,
        DeliveryMode::Pickup
    ));

    let mut tried = 0;
    // A pick-up order through its whole life, tried by both parties at every step.
    let mut o = order_one(&app, &c.farmer, &f.offer, 1, pickup()).await;
    for next in [
        "CONFIRMED",
        "READY_FOR_PICKUP",
        "DELIVERED",
        "COMPLETED",
        "",
    ] {
        every_illegal_move(&app, &c.farmer, Party::Farmer, &o, &mut tried).await;
        every_illegal_move(&app, &c.owner, Party::Dealer, &o, &mut tried).await;
        if next == "CONFIRMED" {
            // A farmer cannot confirm, a dealer cancel needs a reason, and another dealer
            // cannot touch the order at all.
            let p = transition(&app, &c.farmer, &o, "CONFIRMED", "").await;
            assert_eq!(codes(&p), ["INVALID_TRANSITION"]);
            for blank in ["", "   "] {
                let p = transition(&app, &c.owner, &o, "CANCELLED", blank).await;
                assert_eq!(codes(&p), ["REQUIRED"]);
                assert_eq!(first_error(&p)["field"], "reason");
            }
            let g = app
                .gql(
                    &with(TRANSITION, ORDER),
                    json!({ "o": o["id"], "t": "CONFIRMED", "r": "" }),
                    Some(&c.staff),
                )
                .await;
            assert_eq!(g.error_code(), Some("NOT_FOUND"), "{:#}", g.body);
            let g = app
                .gql(
                    &with(ORDER_Q, ORDER),
                    json!({ "id": o["id"] }),
                    Some(&c.farmer2),
                )
                .await;
            assert_eq!(g.error_code(), Some("NOT_FOUND"), "{:#}", g.body);
            assert_eq!(self::order(&app, &c.owner, &o).await["status"], "PLACED");
        }
        if next.is_empty() {
            break;
        }
        let who = if next == "COMPLETED" {
            &c.farmer
        } else {
            &c.owner
        };
        o = move_to(&app, who, &o, next, "").await;
    }
    assert_eq!(
        history_tos(&o),
        [
            "PLACED",
            "CONFIRMED",
            "READY_FOR_PICKUP",
            "DELIVERED",
            "COMPLETED"
        ]
    );

    // A home delivery goes out for delivery, never "ready for pick-up".
    let mut home = options("HOME", "CASH_ON_DELIVERY");
    home["address"] = json!("沙洋县港口村三组 12 号");
    let h = order_one(&app, &c.farmer, &f.offer, 1, home).await;
    let h = move_to(&app, &c.owner, &h, "CONFIRMED", "").await;
    every_illegal_move(&app, &c.owner, Party::Dealer, &h, &mut tried).await;
    let h = move_to(&app, &c.owner, &h, "OUT_FOR_DELIVERY", "").await;
    every_illegal_move(&app, &c.farmer, Party::Farmer, &h, &mut tried).await;
    every_illegal_move(&app, &c.owner, Party::Dealer, &h, &mut tried).await;

    // Cancelled and expired are final.
    let x = order_one(&app, &c.farmer, &f.offer, 1, pickup()).await;
    let x = move_to(&app, &c.farmer, &x, "CANCELLED", "").await;
    every_illegal_move(&app, &c.farmer, Party::Farmer, &x, &mut tried).await;
    every_illegal_move(&app, &c.owner, Party::Dealer, &x, &mut tried).await;

    let e = order_one(&app, &c.farmer, &f.offer, 1, pickup()).await;
    // Its confirmation deadline passes (moved back in the database), and the background task
    // expires it.
    customer_order::Entity::update_many()
        .col_expr(
            customer_order::Column::ExpiresAt,
            Expr::value(domain::now() - chrono::Duration::minutes(1)),
        )
        .filter(customer_order::Column::Id.eq(raw_id(&e["id"])))
        .exec(app.db())
        .await
        .unwrap();
    let e = wait_for_status(&app, &c.farmer, &e, "EXPIRED").await;
    every_illegal_move(&app, &c.farmer, Party::Farmer, &e, &mut tried).await;
    every_illegal_move(&app, &c.owner, Party::Dealer, &e, &mut tried).await;
    assert!(tried >= 90, "tried {tried} illegal moves");
    // Of all that, only the completed and in-flight orders hold or took stock.
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (49, 1));
}

/// Polls an order until it reaches `status` (at most 20 s).
async fn wait_for_status(app: &TestApp, token: &str, o: &Value, status: &str) -> Value {
    wait_until(app, token, o, status, |now| now["status"] == status).await
}

/// Polls the order until `done` holds (20 s at most), e.g. until a payment settled after the
/// status change committed: the provider is called outside the transaction.
async fn wait_until(
    app: &TestApp,
    token: &str,
    o: &Value,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = order(app, token, o).await;
        if done(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "order never became {what}: {now:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- 4. giving back

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_gives_back_exactly_what_the_order_held() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(100, 6), (400, 20)], 1_500).await;
    let before = stock_of(&app, &c.owner, &c.county, &f.sku).await;
    assert_eq!(before, (26, 0));

    // The farmer cancels a placed order: the reservation (over two lots, earliest expiry first)
    // goes back.
    let o = order_one(&app, &c.farmer, &f.offer, 8, pickup()).await;
    let allocs = arr(&o["lines"][0]["allocations"]);
    assert_eq!(allocs.len(), 2);
    assert_eq!(allocs[0]["lot"]["id"], f.lots[0]);
    assert_eq!(allocs[0]["quantity"], 6);
    assert_eq!(allocs[1]["lot"]["id"], f.lots[1]);
    assert_eq!(allocs[1]["quantity"], 2);
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (26, 8));
    let o = move_to(&app, &c.farmer, &o, "CANCELLED", "").await;
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, before);
    assert!(
        arr(&o["lines"][0]["allocations"])
            .iter()
            .all(|a| a["status"] == "RELEASED")
    );
    assert_eq!(o["cancelReason"], "cancelled");

    // On dealer credit: the dealer confirms, then cancels with a reason; stock and credit both
    // come back.
    let d = q(
        &app,
        &c.owner,
        CREDIT_LIMIT,
        json!({ "d": c.county, "f": c.farmer_id, "l": 100_000 }),
    )
    .await;
    assert_no_errors(&d["creditLimitSet"]);
    let credit = |t: String| {
        let app = &app;
        let county = c.county.clone();
        async move {
            let d = q(app, &t, MY_CREDIT, json!({})).await;
            arr(&d["creditAccounts"])
                .iter()
                .find(|a| a["dealer"]["id"] == county)
                .map(|a| a["balanceFen"].as_i64().unwrap())
                .unwrap_or(0)
        }
    };
    assert_eq!(credit(c.farmer.clone()).await, 0);
    let o = order_one(
        &app,
        &c.farmer,
        &f.offer,
        4,
        options("PICKUP", "DEALER_CREDIT"),
    )
    .await;
    assert_eq!(o["paymentStatus"], "ON_CREDIT");
    assert_eq!(credit(c.farmer.clone()).await, 6_000);
    let o = move_to(&app, &c.owner, &o, "CONFIRMED", "").await;
    let o = move_to(&app, &c.owner, &o, "CANCELLED", "仓库受潮，无法供货").await;
    assert_eq!(o["cancelReason"], "仓库受潮，无法供货");
    assert_eq!(o["paymentStatus"], "CREDIT_RELEASED");
    assert_eq!(credit(c.farmer.clone()).await, 0);
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, before);
    let last = arr(&o["history"]).last().unwrap().clone();
    assert_eq!(last["from"], "CONFIRMED");
    assert_eq!(last["to"], "CANCELLED");
    assert_eq!(last["reason"], "仓库受潮，无法供货");
    assert!(last["actorId"].is_string());

    // A repayment made before the cancellation does not make the credit vanish: what was
    // owed is released as far as it is still owed.
    let o = order_one(
        &app,
        &c.farmer,
        &f.offer,
        2,
        options("PICKUP", "DEALER_CREDIT"),
    )
    .await;
    assert_eq!(credit(c.farmer.clone()).await, 3_000);
    let d = q(
        &app,
        &c.owner,
        CREDIT_REPAY,
        json!({ "d": c.county, "f": c.farmer_id, "a": 1_000 }),
    )
    .await;
    assert_no_errors(&d["creditRepay"]);
    assert_eq!(
        d["creditRepay"]["account"]["repayments"],
        json!([{ "amountFen": 1_000, "balanceAfterFen": 2_000 }])
    );
    assert_eq!(credit(c.farmer.clone()).await, 2_000);
    move_to(&app, &c.farmer, &o, "CANCELLED", "").await;
    assert_eq!(credit(c.farmer.clone()).await, 0);

    // Paid online: the cancellation voids the authorisation.
    let o = order_one(&app, &c.farmer, &f.offer, 3, options("PICKUP", "ONLINE")).await;
    assert_eq!(o["paymentStatus"], "AUTHORISED");
    assert_eq!(o["payments"][0]["status"], "AUTHORISED");
    assert_eq!(o["payments"][0]["amountFen"], 4_500);
    let o = move_to(&app, &c.farmer, &o, "CANCELLED", "").await;
    assert_eq!(o["paymentStatus"], "VOIDED");
    assert_eq!(o["payments"][0]["status"], "VOIDED");
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_order_expires_in_the_background_and_gives_everything_back() {
    let app = spawn_app_with(|c| {
        c.order_confirm_within = Duration::from_secs(3);
        c.sweep_interval = Duration::from_millis(200);
    })
    .await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 20)], 1_200).await;
    let d = q(
        &app,
        &c.owner,
        CREDIT_LIMIT,
        json!({ "d": c.county, "f": c.farmer_id, "l": 10_000 }),
    )
    .await;
    assert_no_errors(&d["creditLimitSet"]);

    let online = order_one(&app, &c.farmer, &f.offer, 3, options("PICKUP", "ONLINE")).await;
    let credit = order_one(
        &app,
        &c.farmer,
        &f.offer,
        5,
        options("PICKUP", "DEALER_CREDIT"),
    )
    .await;
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (20, 8));
    let d = q(&app, &c.farmer, MY_CREDIT, json!({})).await;
    assert_eq!(d["creditAccounts"][0]["balanceFen"], 6_000);

    // Nobody confirms: the background task expires both.
    // The expiry commits first and voids the online authorisation after: wait for both.
    let online = wait_until(&app, &c.farmer, &online, "EXPIRED and settled", |o| {
        o["status"] == "EXPIRED" && o["paymentStatus"] != "AUTHORISED"
    })
    .await;
    let credit = wait_for_status(&app, &c.farmer, &credit, "EXPIRED").await;
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (20, 0));
    assert_eq!(online["paymentStatus"], "VOIDED");
    assert_eq!(online["payments"][0]["status"], "VOIDED");
    assert_eq!(credit["paymentStatus"], "CREDIT_RELEASED");
    let d = q(&app, &c.farmer, MY_CREDIT, json!({})).await;
    assert_eq!(d["creditAccounts"][0]["balanceFen"], 0);
    let last = arr(&online["history"]).last().unwrap().clone();
    assert_eq!(last["from"], "PLACED");
    assert_eq!(last["to"], "EXPIRED");
    assert!(last["actorId"].is_null(), "the system expired it");
    assert!(!last["reason"].as_str().unwrap().is_empty());
    // An expired order cannot be confirmed any more.
    let p = transition(&app, &c.owner, &online, "CONFIRMED", "").await;
    assert_eq!(codes(&p), ["INVALID_TRANSITION"]);
    assert_eq!(first_error(&p)["from"], "EXPIRED");

    // A confirmed order does not expire.
    let kept = order_one(&app, &c.farmer, &f.offer, 1, pickup()).await;
    move_to(&app, &c.owner, &kept, "CONFIRMED", "").await;
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(order(&app, &c.farmer, &kept).await["status"], "CONFIRMED");
    assert_eq!(stock_of(&app, &c.owner, &c.county, &f.sku).await, (20, 1));
}

// ---------------------------------------------------------------- 5. recalls

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recalled_lot_is_never_allocated_and_orders_holding_it_are_flagged() {
    let app = spawn_app().await;
    let c = County::load(&app).await;

    // The only lot is recalled: nothing can be ordered, and the cart says why.
    let only = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 10)], 2_000).await;
    cart_set(&app, &c.farmer, &only.offer, 1).await;
    let d = q(
        &app,
        &c.regulator,
        RECALL,
        json!({ "l": only.lots[0], "r": "抽检不合格：总氮含量不足" }),
    )
    .await;
    assert_no_errors(&d["lotRecall"]);
    let cart_now = cart(&app, &c.farmer).await;
    let problems: Vec<&str> = arr(&cart_now["lines"][0]["problems"])
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(problems.contains(&"LOT_RECALLED"), "{problems:?}");
    assert!(problems.contains(&"INSUFFICIENT_STOCK"), "{problems:?}");
    let p = place(&app, &c.farmer, pickup(), "recalled-only").await;
    assert_eq!(codes(&p), ["INSUFFICIENT_STOCK"]);
    assert_eq!(
        lot_stock(&app, &c.owner, &c.county, &only.lots[0]).await,
        (10, 0)
    );
    cart_set(&app, &c.farmer, &only.offer, 0).await;

    // Two lots: an order takes the earlier one; after it is recalled, the later one is used.
    let two = fresh_stock(&app, &c, &c.owner, &c.county, &[(90, 5), (500, 5)], 2_000).await;
    let held = order_one(&app, &c.farmer, &two.offer, 2, pickup()).await;
    assert_eq!(held["lines"][0]["allocations"][0]["lot"]["id"], two.lots[0]);
    let held = move_to(&app, &c.owner, &held, "CONFIRMED", "").await;
    let held = move_to(&app, &c.owner, &held, "READY_FOR_PICKUP", "").await;
    let d = q(
        &app,
        &c.regulator,
        RECALL,
        json!({ "l": two.lots[0], "r": "包装破损导致结块" }),
    )
    .await;
    assert_no_errors(&d["lotRecall"]);
    let later = order_one(&app, &c.farmer2, &two.offer, 3, pickup()).await;
    let allocs = arr(&later["lines"][0]["allocations"]);
    assert_eq!(allocs.len(), 1);
    assert_eq!(
        allocs[0]["lot"]["id"], two.lots[1],
        "the recalled lot is skipped"
    );
    // Only two are left on the good lot.
    cart_set(&app, &c.farmer2, &two.offer, 3).await;
    let p = place(&app, &c.farmer2, pickup(), "too-many").await;
    assert_eq!(codes(&p), ["INSUFFICIENT_STOCK"]);
    cart_set(&app, &c.farmer2, &two.offer, 0).await;

    // The order that holds the recalled lot is flagged, its farmer told, and the hand-over is
    // refused.
    let held = order(&app, &c.owner, &held).await;
    assert_eq!(held["flagged"], true);
    assert!(held["flagReason"].as_str().unwrap().contains("E2E-O"));
    let flagged = q(
        &app,
        &c.owner,
        &with(DEALER_ORDERS, ORDER),
        json!({ "d": c.county, "f": true }),
    )
    .await;
    let ids: Vec<&Value> = arr(&flagged["dealerOrders"])
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert_eq!(ids, [&held["id"]]);
    let notes = q(&app, &c.farmer, NOTIFICATIONS, json!({})).await;
    assert!(
        arr(&notes["notifications"])
            .iter()
            .any(|n| n["kind"] == "ORDER_FLAGGED"),
        "{notes:#}"
    );
    let p = transition(&app, &c.owner, &held, "DELIVERED", "").await;
    assert_eq!(codes(&p), ["LOT_RECALLED"]);
    assert_eq!(
        order(&app, &c.owner, &held).await["status"],
        "READY_FOR_PICKUP"
    );
    assert_eq!(
        lot_stock(&app, &c.owner, &c.county, &two.lots[0]).await,
        (5, 2)
    );

    // The dealer cancels it; the recalled units are no longer reserved (and stay unsellable).
    move_to(&app, &c.owner, &held, "CANCELLED", "批次召回").await;
    assert_eq!(
        lot_stock(&app, &c.owner, &c.county, &two.lots[0]).await,
        (5, 0)
    );
    assert_eq!(
        lot_stock(&app, &c.owner, &c.county, &two.lots[1]).await,
        (5, 3)
    );
    let line = &cart(&app, &c.farmer).await["lines"];
    assert_eq!(arr(line).len(), 0);
}

const LOT_EVENTS: &str =
    "query($id: ID!) { lot(id: $id) { status events { seq bizStep disposition refKind } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_racing_checkouts_and_hand_overs_never_lets_the_lot_slip_through() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    for round in 0..8 {
        // An order ready for hand-over, and another farmer about to check out, when the
        // regulator recalls the lot: all three at once.
        let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 10)], 1_000).await;
        let ready = order_one(&app, &c.farmer, &f.offer, 1, pickup()).await;
        let ready = move_to(&app, &c.owner, &ready, "CONFIRMED", "").await;
        let ready = move_to(&app, &c.owner, &ready, "READY_FOR_PICKUP", "").await;
        cart_set(&app, &c.farmer2, &f.offer, 2).await;
        let key = format!("race-{round}");
        let (placed, handed, recalled) = tokio::join!(
            place(&app, &c.farmer2, pickup(), &key),
            transition(&app, &c.owner, &ready, "DELIVERED", ""),
            q(
                &app,
                &c.regulator,
                RECALL,
                json!({ "l": f.lots[0], "r": "抽检不合格" }),
            ),
        );
        assert_no_errors(&recalled["lotRecall"]);

        // An order placed in the race either was refused or holds the lot flagged.
        if codes(&placed).is_empty() {
            let o = order(&app, &c.owner, &placed["orders"][0]).await;
            assert_eq!(
                o["flagged"], true,
                "round {round}: an order holds the recalled lot unflagged: {o:#}"
            );
        } else {
            assert_eq!(codes(&placed), ["INSUFFICIENT_STOCK"], "round {round}");
        }
        // A hand-over in the race either was refused or was recorded before the recall.
        let events = q(&app, &c.admin, LOT_EVENTS, json!({ "id": f.lots[0] })).await;
        let seq_of = |step: &str, disposition: Option<&str>| {
            arr(&events["lot"]["events"])
                .iter()
                .find(|e| e["bizStep"] == step && disposition.is_none_or(|d| e["disposition"] == d))
                .map(|e| e["seq"].as_i64().unwrap())
        };
        let recall_seq = seq_of("holding", Some("recalled")).expect("the recall is in the history");
        if codes(&handed).is_empty() {
            let sold = seq_of("retail_selling", None).expect("the sale is in the history");
            assert!(
                sold < recall_seq,
                "round {round}: sold after the recall: {events:#}"
            );
        } else {
            assert_eq!(codes(&handed), ["LOT_RECALLED"], "round {round}");
            assert!(seq_of("retail_selling", None).is_none());
        }
        cart_set(&app, &c.farmer2, &f.offer, 0).await;
    }
}

// ---------------------------------------------------------------- 6. rules

/// The county store's 500 ml chlorpyrifos offer (restricted-use; registered on rice against
/// 稻纵卷叶螟 at most 90 ml/mu, twice a season).
async fn chlorpyrifos(app: &TestApp, c: &County) -> Value {
    offer_where(app, &c.owner, &c.county, |o| {
        o["sku"]["product"]["restrictedUse"] == true && o["priceFen"] == 2_800
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_restricted_use_rule_holds_at_checkout_and_again_at_hand_over() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let chl = chlorpyrifos(&app, &c).await;
    let (offer, sku) = (chl["id"].clone(), chl["sku"]["id"].clone());
    let before = stock_of(&app, &c.owner, &c.county, &sku).await;
    let rice = || for_rice(pickup(), "稻纵卷叶螟");

    // A farmer without real-name data is refused (and the cart said so).
    let cart2 = cart_set(&app, &c.farmer2, &offer, 1).await;
    assert_eq!(
        cart2["lines"][0]["problems"][0]["code"],
        "REAL_NAME_REQUIRED"
    );
    let p = place(&app, &c.farmer2, rice(), "r-1").await;
    assert_eq!(codes(&p), ["REAL_NAME_REQUIRED"]);

    // A dealer without the restricted-use licence cannot even offer it.
    let d = q(
        &app,
        &c.staff,
        OFFER_SET,
        json!({ "d": c.hougang, "s": sku, "p": 3_000 }),
    )
    .await;
    assert_eq!(codes(&d["offerSet"]), ["LICENCE_REQUIRED"]);

    // The real-name farmer must name a registered use.
    cart_set(&app, &c.farmer, &offer, 1).await;
    let p = place(&app, &c.farmer, pickup(), "r-2").await;
    assert_eq!(codes(&p), ["UNREGISTERED_USE"]);
    let mut wheat = pickup();
    wheat["crop"] = json!("WHEAT_WINTER");
    wheat["target"] = json!("蚜虫");
    let p = place(&app, &c.farmer, wheat, "r-3").await;
    assert_eq!(codes(&p), ["UNREGISTERED_USE"]);
    let p = place(&app, &c.farmer, for_rice(pickup(), "二化螟"), "r-4").await;
    assert_eq!(codes(&p), ["UNREGISTERED_USE"]);

    // Never delivered home.
    let mut home = for_rice(options("HOME", "CASH_ON_DELIVERY"), "稻纵卷叶螟");
    home["address"] = json!("港口村三组 12 号");
    let p = place(&app, &c.farmer, home, "r-5").await;
    assert_eq!(codes(&p), ["DELIVERY_NOT_ALLOWED"]);

    // With a field named: label dose x area. 1 mu x 90 ml x 2 applications = 180 ml: one
    // 500 ml bottle, not two.
    let d = q(
        &app,
        &c.farmer,
        FIELD_CREATE,
        json!({ "i": { "name": "港口村东头水田", "areaMu": 1.0, "villageId": c.farmer_village } }),
    )
    .await;
    assert_no_errors(&d["fieldCreate"]);
    let field = d["fieldCreate"]["field"]["id"].clone();
    cart_set(&app, &c.farmer, &offer, 2).await;
    let mut with_field = rice();
    with_field["fieldId"] = field.clone();
    let p = place(&app, &c.farmer, with_field.clone(), "r-6").await;
    assert_eq!(codes(&p), ["QUANTITY_EXCEEDS_LABEL_DOSE"]);
    assert_eq!(first_error(&p)["field"], "cart.0.quantity");
    // A licence that lapsed since the offer was made stops the order too.
    licence::Entity::update_many()
        .col_expr(
            licence::Column::ValidTo,
            Expr::value(today() - chrono::Duration::days(1)),
        )
        .filter(licence::Column::DealerId.eq(raw_id(&c.county)))
        .filter(licence::Column::Kind.eq("RESTRICTED_PESTICIDE"))
        .exec(app.db())
        .await
        .unwrap();
    cart_set(&app, &c.farmer, &offer, 1).await;
    let p = place(&app, &c.farmer, with_field.clone(), "r-7").await;
    assert_eq!(codes(&p), ["LICENCE_REQUIRED"]);
    licence::Entity::update_many()
        .col_expr(
            licence::Column::ValidTo,
            Expr::value(today() + chrono::Duration::days(365)),
        )
        .filter(licence::Column::DealerId.eq(raw_id(&c.county)))
        .filter(licence::Column::Kind.eq("RESTRICTED_PESTICIDE"))
        .exec(app.db())
        .await
        .unwrap();
    // None of the refusals touched stock.
    assert_eq!(stock_of(&app, &c.owner, &c.county, &sku).await, before);

    // The dose is for the product, whatever the packs: one 500 ml and two 100 ml bottles
    // (700 ml) are far more than 180 ml, although each line alone would pass.
    let small = offer_where(&app, &c.owner, &c.county, |o| {
        o["sku"]["product"]["restrictedUse"] == true && o["priceFen"] == 700
    })
    .await;
    cart_set(&app, &c.farmer, &small["id"], 2).await;
    let p = place(&app, &c.farmer, with_field.clone(), "r-7b").await;
    assert_eq!(codes(&p), ["QUANTITY_EXCEEDS_LABEL_DOSE"], "{p:#}");
    cart_set(&app, &c.farmer, &small["id"], 0).await;
    assert_eq!(stock_of(&app, &c.owner, &c.county, &sku).await, before);

    let p = place(&app, &c.farmer, with_field, "r-8").await;
    assert_no_errors(&p);
    let checked = p["orders"][0].clone();
    assert_eq!(checked["warnings"], json!([]));

    // Without a field the order goes through with a warning.
    cart_set(&app, &c.farmer, &offer, 1).await;
    let p = place(&app, &c.farmer, rice(), "r-9").await;
    assert_no_errors(&p);
    let unchecked = p["orders"][0].clone();
    assert_eq!(arr(&unchecked["warnings"]).len(), 1);
    // In the caller's language (Chinese by default), not both glued together.
    let w = unchecked["warnings"][0].as_str().unwrap();
    assert!(w.contains("标签用量") && !w.contains("label dose"), "{w}");
    assert_eq!(
        stock_of(&app, &c.owner, &c.county, &sku).await,
        (before.0, before.1 + 2)
    );

    // Hand-over checks the buyer again: the real-name check withdrawn since placement stops it.
    let o = move_to(&app, &c.owner, &unchecked, "CONFIRMED", "").await;
    let o = move_to(&app, &c.owner, &o, "READY_FOR_PICKUP", "").await;
    let farmer_id = raw_id(&c.farmer_id);
    app_user::Entity::update_many()
        .col_expr(
            app_user::Column::VerifiedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(app_user::Column::Id.eq(farmer_id))
        .exec(app.db())
        .await
        .unwrap();
    let p = transition(&app, &c.owner, &o, "DELIVERED", "").await;
    assert_eq!(codes(&p), ["REAL_NAME_REQUIRED"]);
    assert_eq!(
        order(&app, &c.owner, &o).await["status"],
        "READY_FOR_PICKUP"
    );
    app_user::Entity::update_many()
        .col_expr(
            app_user::Column::VerifiedAt,
            Expr::value(Some(domain::now())),
        )
        .filter(app_user::Column::Id.eq(farmer_id))
        .exec(app.db())
        .await
        .unwrap();
    // The bottle's unit code is scanned at the hand-over (the demo's pesticide lots carry codes).
    let lot = o["lines"][0]["allocations"][0]["lot"]["id"].clone();
    let d = q(
        &app,
        &c.owner,
        "query($id: ID!) { lot(id: $id) { unitCodes { code status } } }",
        json!({ "id": lot }),
    )
    .await;
    let code = arr(&d["lot"]["unitCodes"])
        .iter()
        .find(|u| u["status"] != "SOLD")
        .expect("an unsold code")["code"]
        .clone();
    let p = q(
        &app,
        &c.owner,
        &with(
            "mutation($o: ID!, $c: [String!]!) { orderTransition(orderId: $o, to: DELIVERED, unitCodes: $c) { order { ...O } errors { field code message from to } } }",
            ORDER,
        ),
        json!({ "o": o["id"], "c": [code] }),
    )
    .await["orderTransition"]
        .clone();
    assert_no_errors(&p);
    let o = p["order"].clone();
    // The sale is recorded as a counter sale would be: real-name buyer, crop and target.
    let sales = q(&app, &c.admin, SALES, json!({ "d": c.county })).await;
    let sale = arr(&sales["sales"])
        .iter()
        .find(|s| s["id"] == o["saleId"])
        .expect("the hand-over's sale")
        .clone();
    assert_eq!(sale["channel"], "ORDER");
    assert_eq!(sale["buyerName"], "陈大山");
    assert_eq!(sale["buyerIdNumber"], "420822197803151235");
    assert_eq!(sale["crop"], "RICE");
    assert_eq!(sale["target"], "稻纵卷叶螟");
    assert_eq!(sale["lines"][0]["quantity"], 1);
    assert_eq!(
        stock_of(&app, &c.owner, &c.county, &sku).await,
        (before.0 - 1, before.1 + 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_credit_and_payment_rules_refuse_without_touching_stock() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.staff, &c.hougang, &[(400, 30)], 2_500).await;
    let before = stock_of(&app, &c.staff, &c.hougang, &f.sku).await;

    // A village station outside the dealer's service area is refused; one inside is fine.
    let area: Vec<Value> =
        arr(&q(&app, &c.staff, DEALER, json!({ "d": c.hougang })).await["dealer"]["serviceArea"])
            .iter()
            .map(|v| v["id"].clone())
            .collect();
    let stations = q(&app, &c.farmer, STATIONS, json!({})).await;
    let outside = arr(&stations["stations"])
        .iter()
        .find(|s| !area.contains(&s["village"]["id"]))
        .expect("a station the dealer does not serve")["id"]
        .clone();
    let inside = arr(&stations["stations"])
        .iter()
        .find(|s| area.contains(&s["village"]["id"]))
        .expect("a station the dealer serves")["id"]
        .clone();
    cart_set(&app, &c.farmer, &f.offer, 2).await;
    let mut station = options("VILLAGE_STATION", "CASH_ON_DELIVERY");
    station["stationId"] = outside;
    let p = place(&app, &c.farmer, station.clone(), "d-1").await;
    assert_eq!(codes(&p), ["DELIVERY_NOT_ALLOWED"]);
    assert_eq!(first_error(&p)["field"], "stationId");
    // The message names the dealer, and the cart says so before checkout.
    let msg = first_error(&p)["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("「") && msg.contains("」"), "{msg}");
    let p = place(
        &app,
        &c.farmer,
        options("VILLAGE_STATION", "CASH_ON_DELIVERY"),
        "d-2",
    )
    .await;
    assert_eq!(codes(&p), ["REQUIRED"]);
    let p = place(&app, &c.farmer, options("HOME", "CASH_ON_DELIVERY"), "d-3").await;
    assert_eq!(codes(&p), ["REQUIRED"], "home delivery needs an address");

    // Dealer credit beyond the limit is refused and nothing is reserved.
    let p = place(&app, &c.farmer, options("PICKUP", "DEALER_CREDIT"), "d-4").await;
    assert_eq!(
        codes(&p),
        ["CREDIT_LIMIT_EXCEEDED"],
        "no credit account yet"
    );
    // Only an owner (or an admin) sets credit limits; Hougang's staff member cannot.
    let g = app
        .gql(
            CREDIT_LIMIT,
            json!({ "d": c.hougang, "f": c.farmer_id, "l": 4_000 }),
            Some(&c.staff),
        )
        .await;
    assert_eq!(g.error_code(), Some("FORBIDDEN"), "{:#}", g.body);
    let d = q(
        &app,
        &c.admin,
        CREDIT_LIMIT,
        json!({ "d": c.hougang, "f": c.farmer_id, "l": 4_000 }),
    )
    .await;
    assert_no_errors(&d["creditLimitSet"]);
    let p = place(&app, &c.farmer, options("PICKUP", "DEALER_CREDIT"), "d-5").await;
    assert_eq!(codes(&p), ["CREDIT_LIMIT_EXCEEDED"], "5000 > 4000");
    assert_eq!(stock_of(&app, &c.staff, &c.hougang, &f.sku).await, before);
    cart_set(&app, &c.farmer, &f.offer, 1).await;
    let o = place(&app, &c.farmer, options("PICKUP", "DEALER_CREDIT"), "d-6").await;
    assert_no_errors(&o);
    let p = {
        cart_set(&app, &c.farmer, &f.offer, 1).await;
        place(&app, &c.farmer, options("PICKUP", "DEALER_CREDIT"), "d-7").await
    };
    assert_eq!(codes(&p), ["CREDIT_LIMIT_EXCEEDED"], "2500 + 2500 > 4000");
    assert_eq!(
        stock_of(&app, &c.staff, &c.hougang, &f.sku).await,
        (before.0, 1)
    );

    // The station the dealer serves is accepted.
    station["stationId"] = inside.clone();
    let p = place(&app, &c.farmer, station, "d-8").await;
    assert_no_errors(&p);
    assert_eq!(p["orders"][0]["station"]["id"], inside);
    assert_eq!(p["orders"][0]["deliveryMode"], "VILLAGE_STATION");

    // Online: the sandbox declines amounts ending in .13 yuan; nothing is reserved.
    let d = q(
        &app,
        &c.staff,
        OFFER_SET,
        json!({ "d": c.hougang, "s": f.sku, "p": 1_013 }),
    )
    .await;
    assert_no_errors(&d["offerSet"]);
    cart_set(&app, &c.farmer, &f.offer, 1).await;
    let reserved = stock_of(&app, &c.staff, &c.hougang, &f.sku).await;
    let p = place(&app, &c.farmer, options("PICKUP", "ONLINE"), "d-9").await;
    assert_eq!(codes(&p), ["PAYMENT_DECLINED"]);
    assert_eq!(stock_of(&app, &c.staff, &c.hougang, &f.sku).await, reserved);

    // Approved otherwise; the provider's signed callback then updates the payment.
    cart_set(&app, &c.farmer, &f.offer, 2).await;
    cart_accept_prices(&app, &c.farmer).await;
    let p = place(&app, &c.farmer, options("PICKUP", "ONLINE"), "d-10").await;
    assert_no_errors(&p);
    let o = p["orders"][0].clone();
    assert_eq!(o["totalFen"], 2_026);
    assert_eq!(o["payments"][0]["status"], "AUTHORISED");
    let reference = o["payments"][0]["providerRef"].as_str().unwrap().to_owned();
    let body =
        serde_json::to_vec(&json!({ "providerRef": reference, "status": "CAPTURED" })).unwrap();
    let callback = |sig: String, body: Vec<u8>| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/payments/sandbox/callback"))
                .header("content-type", "application/json")
                .header("x-nongzi-signature", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let secret = app.server.state.services.config.payment_secret.clone();
    assert_eq!(callback("00".repeat(32), body.clone()).await, 401);
    assert_eq!(
        callback(
            domain::orders::payments::sign(b"not-the-secret", &body),
            body.clone()
        )
        .await,
        401
    );
    assert_eq!(
        order(&app, &c.farmer, &o).await["payments"][0]["status"],
        "AUTHORISED"
    );
    assert_eq!(
        callback(domain::orders::payments::sign(&secret, &body), body.clone()).await,
        200
    );
    let o = order(&app, &c.farmer, &o).await;
    assert_eq!(o["payments"][0]["status"], "CAPTURED");
    assert_eq!(o["paymentStatus"], "CAPTURED");
    let unknown =
        serde_json::to_vec(&json!({ "providerRef": "sbx_nope", "status": "CAPTURED" })).unwrap();
    assert_eq!(
        callback(domain::orders::payments::sign(&secret, &unknown), unknown).await,
        404
    );
}

async fn cart_accept_prices(app: &TestApp, token: &str) -> Value {
    let d = q(app, token, &with(CART_ACCEPT, CART_FIELDS), json!({})).await;
    assert_no_errors(&d["cartAcceptPrices"]);
    d["cartAcceptPrices"]["cart"].clone()
}

// ---------------------------------------------------------------- 7. the cart

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cart_survives_a_new_phone_and_reports_problems_as_data() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 5)], 3_000).await;
    let g = fresh_stock(&app, &c, &c.staff, &c.hougang, &[(400, 8)], 2_000).await;

    let cart1 = cart_set(&app, &c.farmer, &f.offer, 2).await;
    assert_eq!(cart1["hasProblems"], false);
    cart_set(&app, &c.farmer, &g.offer, 3).await;
    // A new phone: log in again, the cart is still there.
    let farmer = nongzi::demo::credentials()
        .unwrap()
        .into_iter()
        .find(|c| c.role == "FARMER")
        .unwrap();
    let (phone2, _) = app.login(&farmer.phone, &farmer.password).await;
    let cart2 = cart(&app, &phone2).await;
    assert_eq!(arr(&cart2["lines"]).len(), 2);
    assert_eq!(cart2["totalFen"], 2 * 3_000 + 3 * 2_000);
    assert_eq!(cart2["hasProblems"], false);

    // The dealer changes the price: the line says so, with both prices; accepting clears it.
    let d = q(
        &app,
        &c.owner,
        OFFER_SET,
        json!({ "d": c.county, "s": f.sku, "p": 3_300 }),
    )
    .await;
    assert_no_errors(&d["offerSet"]);
    let now = cart(&app, &phone2).await;
    assert_eq!(now["hasProblems"], true);
    let line = arr(&now["lines"])
        .iter()
        .find(|l| l["offer"]["id"] == f.offer)
        .unwrap()
        .clone();
    assert_eq!(line["problems"][0]["code"], "PRICE_CHANGED");
    assert_eq!(line["priceFenWhenAdded"], 3_000);
    assert_eq!(line["unitPriceFen"], 3_300);
    let accepted = cart_accept_prices(&app, &phone2).await;
    assert_eq!(accepted["hasProblems"], false);

    // Not enough stock: more in the cart than the dealer can sell.
    let now = cart_set(&app, &c.farmer, &g.offer, 9).await;
    let line = arr(&now["lines"])
        .iter()
        .find(|l| l["offer"]["id"] == g.offer)
        .unwrap()
        .clone();
    assert_eq!(line["available"], 8);
    assert_eq!(line["problems"][0]["code"], "INSUFFICIENT_STOCK");
    cart_set(&app, &c.farmer, &g.offer, 8).await;

    // A lot recalled.
    let d = q(
        &app,
        &c.regulator,
        RECALL,
        json!({ "l": f.lots[0], "r": "标签与登记不符" }),
    )
    .await;
    assert_no_errors(&d["lotRecall"]);
    let now = cart(&app, &c.farmer).await;
    let line = arr(&now["lines"])
        .iter()
        .find(|l| l["offer"]["id"] == f.offer)
        .unwrap()
        .clone();
    let problems: Vec<&str> = arr(&line["problems"])
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(problems.contains(&"LOT_RECALLED"), "{problems:?}");
    assert_eq!(line["available"], 0);

    // A restricted-use pesticide for a farmer without real-name data.
    let chl = chlorpyrifos(&app, &c).await;
    let now = cart_set(&app, &c.farmer2, &chl["id"], 1).await;
    let problems: Vec<&str> = arr(&now["lines"][0]["problems"])
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["REAL_NAME_REQUIRED"]);

    // Removing a line is setting it to 0; quantities are bounded.
    let now = cart_set(&app, &c.farmer, &f.offer, 0).await;
    assert_eq!(arr(&now["lines"]).len(), 1);
    let d = q(
        &app,
        &c.farmer,
        &with(CART_SET, CART_FIELDS),
        json!({ "o": g.offer, "q": -1 }),
    )
    .await;
    assert_eq!(d["cartSet"]["errors"][0]["code"], "OUT_OF_RANGE");
    // The empty cart cannot be checked out.
    cart_set(&app, &c.farmer, &g.offer, 0).await;
    let p = place(&app, &c.farmer, pickup(), "empty").await;
    assert_eq!(codes(&p), ["CART_EMPTY"]);
}

// ---------------------------------------------------------------- 8. checkout over two dealers, views

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_over_two_dealers_becomes_two_orders_in_their_queues_and_the_farmers_history() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 20)], 3_000).await;
    let g = fresh_stock(&app, &c, &c.staff, &c.hougang, &[(400, 20)], 2_000).await;
    cart_set(&app, &c.farmer, &f.offer, 2).await;
    cart_set(&app, &c.farmer, &g.offer, 1).await;

    // One checkout, one order per dealer, each with its own delivery and payment.
    let mut home = options("HOME", "ONLINE");
    home["address"] = json!("港口村三组 12 号");
    let p = q(
        &app,
        &c.farmer,
        &with(PLACE, ORDER),
        json!({ "k": "two-dealers", "i": {
            "default": pickup(),
            "perDealer": [{ "dealerId": c.hougang, "options": home }],
        } }),
    )
    .await["orderPlace"]
        .clone();
    assert_no_errors(&p);
    let orders = arr(&p["orders"]).clone();
    assert_eq!(orders.len(), 2);
    let at_county = orders
        .iter()
        .find(|o| o["dealer"]["id"] == c.county)
        .unwrap()
        .clone();
    let at_hougang = orders
        .iter()
        .find(|o| o["dealer"]["id"] == c.hougang)
        .unwrap()
        .clone();
    assert_eq!(at_county["deliveryMode"], "PICKUP");
    assert_eq!(at_county["totalFen"], 6_000);
    assert_eq!(at_hougang["deliveryMode"], "HOME");
    assert_eq!(at_hougang["totalFen"], 2_000);
    assert_eq!(
        arr(&cart(&app, &c.farmer).await["lines"]).len(),
        0,
        "the cart is emptied"
    );

    // Each dealer sees only its own order in its queue; filters narrow it.
    let queue = |token: String, dealer: Value, vars: Value| {
        let app = &app;
        async move {
            let mut v = json!({ "d": dealer, "f": false });
            for (k, x) in vars.as_object().unwrap() {
                v[k] = x.clone();
            }
            let d = q(app, &token, &with(DEALER_ORDERS, ORDER), v).await;
            arr(&d["dealerOrders"])
                .iter()
                .map(|o| o["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        queue(c.staff.clone(), c.hougang.clone(), json!({})).await,
        [at_hougang["id"].clone()]
    );
    assert_eq!(
        queue(c.staff.clone(), c.hougang.clone(), json!({ "m": "PICKUP" })).await,
        Vec::<Value>::new()
    );
    assert_eq!(
        queue(
            c.staff.clone(),
            c.hougang.clone(),
            json!({ "s": ["CONFIRMED"] })
        )
        .await,
        Vec::<Value>::new()
    );
    let county_placed = queue(
        c.owner.clone(),
        c.county.clone(),
        json!({ "s": ["PLACED"] }),
    )
    .await;
    assert!(county_placed.contains(&at_county["id"]));
    assert!(!county_placed.contains(&at_hougang["id"]));
    let g = app
        .gql(
            &with(DEALER_ORDERS, ORDER),
            json!({ "d": c.county, "f": false }),
            Some(&c.staff),
        )
        .await;
    assert_eq!(g.error_code(), Some("FORBIDDEN"), "{:#}", g.body);

    // The dealers work through them; the farmer sees each order's history: who, when, why.
    let o = move_to(&app, &c.staff, &at_hougang, "CONFIRMED", "").await;
    let o = move_to(&app, &c.staff, &o, "OUT_FOR_DELIVERY", "").await;
    assert_eq!(o["paymentStatus"], "AUTHORISED");
    // Paid online: the authorisation is captured at the hand-over.
    let o = move_to(&app, &c.staff, &o, "DELIVERED", "").await;
    assert_eq!(o["paymentStatus"], "CAPTURED");
    assert_eq!(o["payments"][0]["status"], "CAPTURED");
    move_to(
        &app,
        &c.owner,
        &at_county,
        "CANCELLED",
        "缺货，已电话告知农户",
    )
    .await;
    assert_eq!(
        queue(
            c.staff.clone(),
            c.hougang.clone(),
            json!({ "s": ["DELIVERED"] })
        )
        .await,
        [at_hougang["id"].clone()]
    );
    assert_eq!(
        queue(
            c.staff.clone(),
            c.hougang.clone(),
            json!({ "s": ["PLACED", "CONFIRMED"] })
        )
        .await,
        Vec::<Value>::new()
    );

    let mine = q(&app, &c.farmer, &with(MY_ORDERS, ORDER), json!({})).await;
    let mine = arr(&mine["myOrders"]);
    assert_eq!(mine.len(), 2, "newest first, only the farmer's own");
    let h = mine.iter().find(|o| o["id"] == at_hougang["id"]).unwrap();
    assert_eq!(h["status"], "DELIVERED");
    assert_eq!(
        history_tos(h),
        ["PLACED", "CONFIRMED", "OUT_FOR_DELIVERY", "DELIVERED"]
    );
    let staff_me = q(&app, &c.staff, ME, json!({})).await;
    let events = arr(&h["history"]);
    assert_eq!(events[0]["actorId"], c.farmer_id);
    assert!(events[0]["from"].is_null());
    for e in &events[1..] {
        assert_eq!(e["actorId"], staff_me["me"]["id"]);
        assert!(e["at"].as_str().unwrap() >= events[0]["at"].as_str().unwrap());
    }
    let x = mine.iter().find(|o| o["id"] == at_county["id"]).unwrap();
    let last = arr(&x["history"]).last().unwrap();
    assert_eq!(last["to"], "CANCELLED");
    assert_eq!(last["reason"], "缺货，已电话告知农户");
    assert_eq!(x["cancelReason"], "缺货，已电话告知农户");
    // Another farmer sees none of it.
    let other = q(&app, &c.farmer2, &with(MY_ORDERS, ORDER), json!({})).await;
    assert_eq!(arr(&other["myOrders"]).len(), 0);
}

// ---------------------------------------------------------------- 9. live updates

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws client; messages read while looking for another subscription's are
/// kept for later.
struct Ws {
    stream: WsStream,
    backlog: Vec<Value>,
}

impl Ws {
    /// Opens a connection with `token` in `connection_init`; `Err` with the close reason when
    /// the server refuses it.
    async fn connect(addr: std::net::SocketAddr, token: &str) -> Result<Ws, String> {
        let mut req = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .unwrap();
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut stream, resp) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(
            resp.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
        stream.send(Message::text(init.to_string())).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == "connection_ack" {
                    Ok(Ws {
                        stream,
                        backlog: vec![],
                    })
                } else {
                    Err(format!("not acknowledged: {v}"))
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => Err(format!("closed: {frame:?}")),
            other => Err(format!("no answer: {other:?}")),
        }
    }

    async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::text(v.to_string()))
            .await
            .unwrap();
    }

    /// The next protocol message, waiting until `deadline`.
    async fn read(&mut self, deadline: tokio::time::Instant) -> Value {
        loop {
            let m = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("a message in time")
                .expect("the connection is open")
                .expect("a message");
            if let Message::Text(t) = m {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// Subscribes, and makes sure the server has taken the subscription in (a ping answered
    /// after it, and a moment for the stream to start).
    async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
            .await;
        self.send(json!({ "type": "ping" })).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.read(deadline).await;
            assert!(
                !(v["id"] == id && v["type"] == "error"),
                "subscription refused: {v}"
            );
            if v["type"] == "pong" {
                break;
            }
            self.backlog.push(v);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// The first message about subscription `id` (any type), within 10 s.
    async fn message(&mut self, id: &str) -> Value {
        if let Some(i) = self.backlog.iter().position(|v| v["id"] == id) {
            return self.backlog.remove(i);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.read(deadline).await;
            if v["id"] == id {
                return v;
            }
            self.backlog.push(v);
        }
    }

    /// The data of the next `next` message of subscription `id` that passes `pred`.
    async fn next(&mut self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.message(id).await;
            match v["type"].as_str() {
                Some("next") => {
                    assert!(v["payload"]["errors"].is_null(), "{v}");
                    if pred(&v["payload"]["data"]) {
                        return v["payload"]["data"].clone();
                    }
                }
                _ => panic!("subscription {id} ended: {v}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_their_orders_change_and_dealers_get_low_stock_alerts() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 7)], 1_000).await;

    // A bad token in connection_init is refused.
    match Ws::connect(app.server.addr, "not-a-token").await {
        Ok(_) => panic!("a bad token must be refused"),
        Err(why) => assert!(why.contains("UNAUTHENTICATED"), "{why}"),
    }

    let mut farmer_ws = Ws::connect(app.server.addr, &c.farmer).await.unwrap();
    farmer_ws
        .subscribe("o", "subscription { orderUpdated { id status } }")
        .await;
    let mut other_ws = Ws::connect(app.server.addr, &c.farmer2).await.unwrap();
    other_ws
        .subscribe("o", "subscription { orderUpdated { id status } }")
        .await;
    let mut dealer_ws = Ws::connect(app.server.addr, &c.owner).await.unwrap();
    dealer_ws
        .subscribe(
            "a",
            "subscription { stockAlert { kind dealerId skuId available message } }",
        )
        .await;
    dealer_ws
        .subscribe("o", "subscription { orderUpdated { id status } }")
        .await;

    // Placing 3 of 7 leaves 4, under the threshold of 5: the dealer is alerted, and sees the
    // new order.
    let o = order_one(&app, &c.farmer, &f.offer, 3, pickup()).await;
    let alert = dealer_ws
        .next("a", |d| d["stockAlert"]["skuId"] == f.sku)
        .await;
    assert_eq!(alert["stockAlert"]["kind"], "LOW_STOCK");
    assert_eq!(alert["stockAlert"]["available"], 4);
    assert_eq!(alert["stockAlert"]["dealerId"], c.county);
    let placed = dealer_ws
        .next("o", |d| d["orderUpdated"]["id"] == o["id"])
        .await;
    assert_eq!(placed["orderUpdated"]["status"], "PLACED");
    let placed = farmer_ws
        .next("o", |d| d["orderUpdated"]["id"] == o["id"])
        .await;
    assert_eq!(placed["orderUpdated"]["status"], "PLACED");

    // The dealer confirms over HTTP: the farmer's subscription receives it.
    move_to(&app, &c.owner, &o, "CONFIRMED", "").await;
    let got = farmer_ws
        .next("o", |d| d["orderUpdated"]["id"] == o["id"])
        .await;
    assert_eq!(got["orderUpdated"]["status"], "CONFIRMED");

    // Another farmer's subscription carries none of it: an order of its own comes through
    // first.
    cart_set(&app, &c.farmer2, &f.offer, 1).await;
    let p = place(&app, &c.farmer2, pickup(), "own").await;
    assert_no_errors(&p);
    let first = other_ws.next("o", |_| true).await;
    assert_eq!(first["orderUpdated"]["id"], p["orders"][0]["id"]);

    // A farmer cannot subscribe to stock alerts.
    farmer_ws
        .send(json!({ "id": "x", "type": "subscribe", "payload": { "query": "subscription { stockAlert { kind } }" } }))
        .await;
    let v = farmer_ws.message("x").await;
    assert!(
        v["type"] == "error" || !v["payload"]["errors"].is_null(),
        "a farmer got stock alerts: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_events_through_redis() {
    if !e2e::on_postgres() {
        // On SQLite the event bus is in-process, per server: a second server on the same file
        // does not see the first one's events, by design. Cross-node delivery is what Redis is
        // for, so this runs on PostgreSQL + Redis only.
        println!("skipped on SQLite: the in-process event bus does not cross servers");
        return;
    }
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(400, 20)], 1_000).await;
    let second = app.second_server().await;
    assert_ne!(second.addr, app.server.addr);

    // The farmer is connected to the second node; the dealer works on the first.
    let mut ws = Ws::connect(second.addr, &c.farmer).await.unwrap();
    ws.subscribe("o", "subscription { orderUpdated { id status } }")
        .await;
    let mut dealer_ws = Ws::connect(second.addr, &c.owner).await.unwrap();
    dealer_ws
        .subscribe("a", "subscription { stockAlert { kind skuId available } }")
        .await;
    let o = order_one(&app, &c.farmer, &f.offer, 16, pickup()).await;
    let alert = dealer_ws
        .next("a", |d| d["stockAlert"]["skuId"] == f.sku)
        .await;
    assert_eq!(alert["stockAlert"]["available"], 4);
    move_to(&app, &c.owner, &o, "CONFIRMED", "").await;
    let got = ws
        .next("o", |d| {
            d["orderUpdated"]["id"] == o["id"] && d["orderUpdated"]["status"] == "CONFIRMED"
        })
        .await;
    assert_eq!(got["orderUpdated"]["status"], "CONFIRMED");

    // And the other way round: a request to the second node reaches a subscriber of the first.
    let mut first_ws = Ws::connect(app.server.addr, &c.farmer).await.unwrap();
    first_ws
        .subscribe("o", "subscription { orderUpdated { id status } }")
        .await;
    let r = app
        .client
        .post(second.url("/graphql"))
        .bearer_auth(&c.owner)
        .json(&json!({ "query": with(TRANSITION, ORDER), "variables": { "o": o["id"], "t": "READY_FOR_PICKUP", "r": "" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = first_ws
        .next("o", |d| d["orderUpdated"]["status"] == "READY_FOR_PICKUP")
        .await;
    assert_eq!(got["orderUpdated"]["id"], o["id"]);
}

/// A recall of one lot is a cart problem only when the line can no longer be filled: with
/// another sellable lot of the same pack at the dealer, the line is fine and checks out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recalled_lot_is_no_cart_problem_while_other_lots_fill_the_line() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let f = fresh_stock(
        &app,
        &c,
        &c.owner,
        &c.county,
        &[(400, 10), (500, 10)],
        2_000,
    )
    .await;
    cart_set(&app, &c.farmer, &f.offer, 3).await;
    let d = q(
        &app,
        &c.regulator,
        RECALL,
        json!({ "l": f.lots[0], "r": "抽检不合格" }),
    )
    .await;
    assert_no_errors(&d["lotRecall"]);
    let now = cart(&app, &c.farmer).await;
    let line = arr(&now["lines"])
        .iter()
        .find(|l| l["offer"]["id"] == f.offer)
        .unwrap()
        .clone();
    assert_eq!(line["available"], 10, "the other lot");
    assert_eq!(line["problems"], json!([]), "nothing to fix: {line:#}");
    let p = place(&app, &c.farmer, pickup(), "other-lot-fills-it").await;
    assert_eq!(codes(&p), Vec::<String>::new(), "{p:#}");
    // More than the sellable lot holds: now the recall is part of why it cannot be filled.
    cart_set(&app, &c.farmer, &f.offer, 12).await;
    let problems: Vec<String> = arr(&cart(&app, &c.farmer).await["lines"][0]["problems"])
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        problems.contains(&"INSUFFICIENT_STOCK".to_owned()),
        "{problems:?}"
    );
    assert!(
        problems.contains(&"LOT_RECALLED".to_owned()),
        "{problems:?}"
    );
}

/// `myOrders` and `dealerOrders` cost the same SQL statements for 12 orders as for 2: each
/// order's lines, allocations, history, payments, dealer and station through loaders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_12_orders_costs_the_same_statements_as_a_page_of_2() {
    // The background sweeper's statements would count too: keep it out of the measurement.
    let app =
        e2e::spawn_app_with(|cfg| cfg.sweep_interval = std::time::Duration::from_secs(3600)).await;
    let c = County::load(&app).await;
    let f = fresh_stock(&app, &c, &c.owner, &c.county, &[(200, 100)], 1_000).await;
    for _ in 0..12 {
        order_one(&app, &c.farmer, &f.offer, 1, pickup()).await;
    }
    let my = with("query($n: Int!) { myOrders(first: $n) { ...O } }", ORDER);
    let theirs = with(
        "query($d: ID!, $n: Int!) { dealerOrders(dealerId: $d, first: $n) { ...O } }",
        ORDER,
    );
    for (name, doc, token, key) in [
        ("myOrders", &my, &c.farmer, "myOrders"),
        ("dealerOrders", &theirs, &c.owner, "dealerOrders"),
    ] {
        let mut cost = Vec::new();
        for n in [2, 12] {
            let before = app.statements();
            let d = q(&app, token, doc, json!({ "n": n, "d": c.county })).await;
            let after = app.statements();
            let orders = arr(&d[key]);
            assert_eq!(orders.len(), n, "{name}: {d:#}");
            for o in orders {
                assert_eq!(arr(&o["lines"]).len(), 1, "{o:#}");
                assert_eq!(arr(&o["lines"][0]["allocations"]).len(), 1, "{o:#}");
                assert!(!arr(&o["history"]).is_empty(), "{o:#}");
                assert_eq!(o["dealer"]["id"], c.county);
            }
            cost.push(after - before);
        }
        println!(
            "SQL statements: {name}(first: 2) = {}, {name}(first: 12) = {}",
            cost[0], cost[1]
        );
        assert_eq!(cost[0], cost[1], "{name}: 12 orders must cost what 2 cost");
    }
}
