//! The dealer console's order desk over HTTP, on the demo county: the desk lists the dealer's
//! orders with who ordered them and nobody else's; the order moves through one-shot forms; the
//! hand-over checks the scanned unit codes (a missing or wrong one changes nothing); a recalled
//! lot in an open order is swapped for a sellable one with stock, trace and ledgers consistent,
//! a short swap is refused without changing anything, and concurrent swaps racing a recall of
//! the lot they swap to never double-allocate nor leave a recalled lot unflagged.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::entities::{
    customer_order, ledger_line, notification, order_allocation, order_line, stock, trace_event,
    unit_code,
};
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

const OWNER: &str = "DEALER (OWNER)";
const STAFF: &str = "DEALER (STAFF)";

const ME: &str = "{ me { id dealer { id } } }";
const NEW_SKU: &str = "mutation($p: ID!, $s: Float!) { skuCreate(productId: $p, input: { packSize: $s, packUnit: \"kg\" }) { sku { id } errors { field code message } } }";
const DEALER: &str =
    "query($d: ID!) { dealer(id: $d) { offers { sku { product { id category } } } } }";
const OFFER_SET: &str = "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p) { offer { id } errors { field code message } } }";
const LOT_CREATE: &str = "mutation($i: LotInput!) { lotCreate(input: $i) { lot { id lotNo } errors { field code message } } }";
const RECEIVE: &str = "mutation($i: ReceiveInput!) { stockReceive(input: $i) { receipt { id } errors { field code message } } }";
const CART_SET: &str = "mutation($o: ID!, $q: Int!) { cartSet(offerId: $o, quantity: $q) { errors { field code message } } }";
const PLACE: &str = "mutation($i: OrderPlaceInput!, $k: String!) { orderPlace(input: $i, idempotencyKey: $k) { orders { id number lines { id } } errors { field code message } } }";
const TRANSITION: &str = "mutation($o: ID!, $t: OrderStatus!, $r: String!) { orderTransition(orderId: $o, to: $t, reason: $r) { order { status } errors { field code message } } }";
const RECALL: &str = "mutation($l: ID!, $r: String!) { lotRecall(lotId: $l, reason: $r) { lot { id status } errors { field code message } } }";
const SWAP: &str = "mutation($o: ID!, $l: ID!) { orderLineReallocate(orderId: $o, lineId: $l) { order { id flagged flagReason lines { allocations { quantity status lot { id lotNo } } } } errors { field code message } } }";

struct County {
    admin: String,
    regulator: String,
    owner: String,
    farmer: String,
    county: Value,
    urea: Value,
}

async fn county(app: &TestApp) -> County {
    app.load_demo().await;
    let owner = app.demo_token(OWNER).await;
    let me = q(app, &owner, ME, json!({})).await;
    let county = me["me"]["dealer"]["id"].clone();
    let d = q(app, &owner, DEALER, json!({ "d": county })).await;
    let urea = d["dealer"]["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["sku"]["product"]["category"] == "FERTILISER")
        .expect("the county store sells fertiliser")["sku"]["product"]["id"]
        .clone();
    County {
        admin: app.demo_token("ADMIN").await,
        regulator: app.demo_token("REGULATOR").await,
        owner,
        farmer: app.demo_token("FARMER").await,
        county,
        urea,
    }
}

async fn q(app: &TestApp, token: &str, doc: &str, vars: Value) -> Value {
    app.gql(doc, vars, Some(token)).await.ok()
}

fn no_errors(payload: &Value) {
    assert_eq!(
        payload["errors"],
        json!([]),
        "unexpected errors: {payload:#}"
    );
}

fn codes(payload: &Value) -> Vec<String> {
    payload["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

fn raw_id(gid: &Value) -> i64 {
    use base64::Engine;
    let s = gid.as_str().expect("an ID");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

fn day(offset: i64) -> NaiveDate {
    domain::today() + chrono::Duration::days(offset)
}

/// A lot made for a test: its id (global and raw) and number.
struct Lot {
    gid: Value,
    id: i64,
    no: String,
}

struct Fresh {
    offer: Value,
    lots: Vec<Lot>,
}

/// A new pack size of urea offered by the county store, whose only stock is the lots made
/// here: `(days until expiry, quantity, unit codes)` each.
async fn fresh(app: &TestApp, c: &County, tag: &str, lots: &[(i64, i64, &[&str])]) -> Fresh {
    // A pack size not yet made in this process (each test has its own database).
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let size = 3.0 + f64::from(SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let d = q(app, &c.admin, NEW_SKU, json!({ "p": c.urea, "s": size })).await;
    no_errors(&d["skuCreate"]);
    let sku = d["skuCreate"]["sku"]["id"].clone();
    let d = q(
        app,
        &c.owner,
        OFFER_SET,
        json!({ "d": c.county, "s": sku, "p": 1_000 }),
    )
    .await;
    no_errors(&d["offerSet"]);
    let offer = d["offerSet"]["offer"]["id"].clone();
    let mut made = Vec::new();
    for (i, (expires, quantity, unit_codes)) in lots.iter().enumerate() {
        let lot_no = format!("DESK-{tag}-{i}");
        let produced = day(-30);
        let d = q(
            app,
            &c.admin,
            LOT_CREATE,
            json!({ "i": {
                "skuId": sku, "lotNo": lot_no, "producedOn": produced.to_string(),
                "expiresOn": day(*expires).to_string(), "unitCodes": unit_codes,
                "inspection": { "reportNo": format!("JC-{lot_no}"), "lab": "荆门市农产品质量检测中心",
                                "result": "CONFORMANT", "date": (produced + chrono::Duration::days(2)).to_string() },
            } }),
        )
        .await;
        no_errors(&d["lotCreate"]);
        let lot = d["lotCreate"]["lot"]["id"].clone();
        let d = q(
            app,
            &c.owner,
            RECEIVE,
            json!({ "i": {
                "dealerId": c.county, "lotId": lot, "quantity": quantity, "unitCostFen": 850,
                "supplier": { "name": "湖北宜化化工股份有限公司", "licenceNo": "(鄂)XK13-001-00118", "contact": "0717-1234567" },
                "sourceDocument": format!("RK-{lot_no}"),
            } }),
        )
        .await;
        no_errors(&d["stockReceive"]);
        made.push(Lot {
            id: raw_id(&lot),
            gid: lot,
            no: lot_no,
        });
    }
    Fresh { offer, lots: made }
}

fn rand_u16() -> u16 {
    (uuid::Uuid::new_v4().as_u128() % 60_000) as u16
}

/// The farmer orders `quantity` of an offer for pick-up, paying on delivery: (order gid, order
/// id, first line gid).
async fn order_one(
    app: &TestApp,
    token: &str,
    offer: &Value,
    quantity: i64,
) -> (Value, i64, Value) {
    let d = q(app, token, CART_SET, json!({ "o": offer, "q": quantity })).await;
    no_errors(&d["cartSet"]);
    let d = q(
        app,
        token,
        PLACE,
        json!({ "i": { "default": { "deliveryMode": "PICKUP", "paymentMethod": "CASH_ON_DELIVERY" } },
                "k": uuid::Uuid::new_v4().to_string() }),
    )
    .await;
    no_errors(&d["orderPlace"]);
    let o = &d["orderPlace"]["orders"][0];
    (
        o["id"].clone(),
        o["number"].as_i64().unwrap(),
        o["lines"][0]["id"].clone(),
    )
}

async fn recall(app: &TestApp, c: &County, lot: &Lot) -> Value {
    q(
        app,
        &c.regulator,
        RECALL,
        json!({ "l": lot.gid, "r": "抽检不合格：总氮含量不足" }),
    )
    .await["lotRecall"]
        .clone()
}

/// (on hand, reserved) of a lot at the county store.
async fn lot_stock(app: &TestApp, lot: i64) -> (i64, i64) {
    stock::Entity::find()
        .filter(stock::Column::LotId.eq(lot))
        .all(app.db())
        .await
        .unwrap()
        .iter()
        .fold((0, 0), |(h, r), s| (h + s.on_hand, r + s.reserved))
}

/// The order's allocations by (lot, status) -> quantity.
async fn allocations(app: &TestApp, order_id: i64) -> BTreeMap<(i64, String), i64> {
    let lines: Vec<i64> = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut out = BTreeMap::new();
    for a in order_allocation::Entity::find()
        .filter(order_allocation::Column::OrderLineId.is_in(lines))
        .all(app.db())
        .await
        .unwrap()
    {
        *out.entry((a.lot_id, a.status.as_str().to_owned()))
            .or_default() += a.quantity;
    }
    out
}

async fn order_row(app: &TestApp, id: i64) -> customer_order::Model {
    customer_order::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

async fn trace_count(app: &TestApp, lot: i64) -> usize {
    trace_event::Entity::find()
        .filter(trace_event::Column::LotId.eq(lot))
        .all(app.db())
        .await
        .unwrap()
        .len()
}

async fn ledger_of(app: &TestApp, lot_no: &str) -> Vec<ledger_line::Model> {
    ledger_line::Entity::find()
        .filter(ledger_line::Column::LotNo.eq(lot_no))
        .order_by_asc(ledger_line::Column::Id)
        .all(app.db())
        .await
        .unwrap()
}

async fn browser(app: &TestApp, role: &str) -> Browser {
    let mut b = Browser::new(app);
    b.sign_in_demo(role).await;
    b
}

/// Posts a form of the order page (the one whose `to` or action matches), with its own form
/// key, plus `extra` fields.
async fn post_action(
    b: &mut Browser,
    id: i64,
    action: &str,
    to: Option<&str>,
    extra: &[(&str, &str)],
) -> e2e::Page {
    let p = b.get(&format!("/dealer/orders/{id}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let key = form_key(&p.body, action, to);
    let csrf = p.csrf();
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("idem", &key)];
    if let Some(t) = to {
        form.push(("to", t));
    }
    form.extend_from_slice(extra);
    b.post(&format!("/dealer/orders/{id}/{action}"), &form)
        .await
}

/// The form key of the form posting to `action` (and `to`).
fn form_key(body: &str, action: &str, to: Option<&str>) -> String {
    for part in body.split("<form").skip(1) {
        let form = part.split("</form>").next().unwrap();
        if !form.contains(&format!("/{action}\"")) {
            continue;
        }
        if let Some(t) = to
            && !form.contains(&format!("name=\"to\" value=\"{t}\""))
        {
            continue;
        }
        let k = form.split("name=\"idem\" value=\"").nth(1).unwrap();
        return k.split('"').next().unwrap().to_owned();
    }
    panic!("no {action} {to:?} form on the page: {body}");
}

// ---------------------------------------------------------------- the desk and who sees it

#[tokio::test]
async fn the_desk_shows_who_ordered_and_no_one_sees_another_dealers_orders() {
    let app = spawn_app().await;
    let c = county(&app).await;
    let f = fresh(&app, &c, "who", &[(300, 20, &[])]).await;
    let (_, id, _) = order_one(&app, &c.farmer, &f.offer, 2).await;

    // The owner's desk: the new order first, with the farmer's name, phone and village.
    let mut owner = browser(&app, OWNER).await;
    let desk = owner.get("/dealer").await;
    assert_eq!(desk.status, 200);
    let at = desk
        .body
        .find(&format!("data-order=\"{id}\""))
        .expect("the order is on the desk");
    let card = &desk.body[at..];
    assert!(card.starts_with(&format!("data-order=\"{id}\" data-status=\"PLACED\"")));
    assert!(
        card.contains("陈大山") && card.contains("13800000006"),
        "{card}"
    );
    assert!(
        card.contains("港口村") || card.contains("村"),
        "the village: {card}"
    );
    assert!(card.contains("× 2"));
    let live = owner.get("/dealer/live.json").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.headers["cache-control"], "no-store");
    let n: Value = serde_json::from_str(&live.body).unwrap();
    assert_eq!(n["latest_order"], id);
    assert!(n["orders_new"].as_u64().unwrap() >= 1);
    assert!(n["alerts"].is_u64());
    let page = owner.get(&format!("/dealer/orders/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&f.lots[0].no),
        "lot numbers on the order page"
    );
    for p in ["pick", "note"] {
        let r = owner.get(&format!("/dealer/orders/{id}/{p}")).await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains(&f.lots[0].no) && r.body.contains("data-print"));
    }
    // WEB.md: a console page is at most 60 KB compressed for first paint (its CSS is inlined,
    // its script deferred).
    for p in [
        "/dealer".to_owned(),
        format!("/dealer/orders/{id}"),
        format!("/dealer/orders/{id}/pick"),
        format!("/dealer/orders/{id}/note"),
    ] {
        let (status, bytes) = owner.get_compressed(&p).await;
        println!("{p}: {bytes} bytes compressed");
        assert_eq!(status, 200, "{p}");
        assert!(bytes <= 60 * 1024, "{p} is {bytes} bytes compressed");
    }
    // Filters: a state with no such order leaves it out; a bad state is a clear 400.
    let done = owner.get("/dealer?status=COMPLETED").await;
    assert!(!done.body.contains(&format!("data-order=\"{id}\"")));
    assert_eq!(owner.get("/dealer?status=NOPE").await.status, 400);

    // Staff of another dealer: not on their desk, and the order's pages are not found.
    let mut staff = browser(&app, STAFF).await;
    let their = staff.get("/dealer?status=all").await;
    assert_eq!(their.status, 200);
    assert!(!their.body.contains(&format!("data-order=\"{id}\"")));
    for p in ["", "/pick", "/note"] {
        let r = staff.get(&format!("/dealer/orders/{id}{p}")).await;
        assert_eq!(r.status, 404, "{p}");
        assert!(!r.body.contains("陈大山"));
    }
    let csrf = staff.get("/dealer").await.csrf();
    let r = staff
        .post(
            &format!("/dealer/orders/{id}/move"),
            &[("csrf", &csrf), ("to", "CONFIRMED")],
        )
        .await;
    assert_eq!(r.status, 404);
    let line = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(id))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let r = staff
        .post(
            &format!("/dealer/orders/{id}/swap"),
            &[("csrf", &csrf), ("line", &line.id.to_string())],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(order_row(&app, id).await.status.as_str(), "PLACED");
    let theirs: Value = serde_json::from_str(&staff.get("/dealer/live.json").await.body).unwrap();
    assert_ne!(theirs["latest_order"], id);

    // The domain read refuses another dealer's staff outright.
    let staff_actor = domain::accounts::Actor {
        user_id: 0,
        role: domain::accounts::Role::Dealer,
        dealer_id: Some(raw_id(&c.county) + 1_000),
        dealer_role: Some(domain::accounts::DealerRole::Staff),
        county_ids: vec![],
        station_id: None,
        assisted_by: None,
    };
    let r = domain::orders::desk::desk_orders(
        app.db(),
        &staff_actor,
        raw_id(&c.county),
        &[],
        false,
        10,
    )
    .await;
    assert!(matches!(r, Err(domain::Error::Forbidden { .. })), "{r:?}");

    // A farmer gets the 403 page; a browser not signed in goes to sign in and comes back.
    let mut farmer = browser(&app, "FARMER").await;
    for p in [
        "/dealer",
        &format!("/dealer/orders/{id}"),
        "/dealer/live.json",
    ] {
        assert_eq!(farmer.get(p).await.status, 403, "{p}");
    }
    let mut anon = Browser::new(&app);
    let r = anon.get(&format!("/dealer/orders/{id}")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/login?next=/dealer/orders/{id}").as_str())
    );
    assert_eq!(anon.get("/dealer/live.json").await.status, 303);
}

// ---------------------------------------------------------------- moving an order

#[tokio::test]
async fn an_order_moves_by_one_shot_forms_and_the_hand_over_checks_every_unit_code() {
    let app = spawn_app().await;
    let c = county(&app).await;
    let tag = rand_u16();
    let a_codes = [
        format!("DESKA{tag}0001"),
        format!("DESKA{tag}0002"),
        format!("DESKA{tag}0003"),
    ];
    let b_codes = [format!("DESKB{tag}0001")];
    let a_refs: Vec<&str> = a_codes.iter().map(String::as_str).collect();
    let b_refs: Vec<&str> = b_codes.iter().map(String::as_str).collect();
    let f = fresh(
        &app,
        &c,
        &format!("codes{tag}"),
        &[(200, 5, &a_refs), (400, 5, &b_refs)],
    )
    .await;
    let (_, id, _) = order_one(&app, &c.farmer, &f.offer, 2).await;
    let mut b = browser(&app, OWNER).await;

    // Refusing needs a reason: the page says so and keeps the order.
    let r = post_action(&mut b, id, "move", Some("CANCELLED"), &[("reason", " ")]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("经销商取消订单必须说明原因"), "{}", r.body);
    assert_eq!(order_row(&app, id).await.status.as_str(), "PLACED");

    // Confirm; the same form sent again lands where the first went and moves nothing.
    let p = b.get(&format!("/dealer/orders/{id}")).await;
    let key = form_key(&p.body, "move", Some("CONFIRMED"));
    let csrf = p.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("idem", key.as_str()),
        ("to", "CONFIRMED"),
    ];
    let first = b.post(&format!("/dealer/orders/{id}/move"), &form).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let again = b.post(&format!("/dealer/orders/{id}/move"), &form).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location, first.location);
    let events = domain::orders::events_of(app.db(), id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.to_status.as_str() == "CONFIRMED")
            .count(),
        1
    );
    // Without the form's own token the step is refused.
    let r = b
        .post(
            &format!("/dealer/orders/{id}/move"),
            &[("csrf", "forged"), ("to", "READY_FOR_PICKUP")],
        )
        .await;
    assert_eq!(r.status, 403);

    let r = post_action(&mut b, id, "move", Some("READY_FOR_PICKUP"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        order_row(&app, id).await.status.as_str(),
        "READY_FOR_PICKUP"
    );
    let page = b.get(&format!("/dealer/orders/{id}")).await;
    assert!(
        page.body.contains("name=\"codes\""),
        "the hand-over asks for codes"
    );
    let before = (
        lot_stock(&app, f.lots[0].id).await,
        trace_count(&app, f.lots[0].id).await,
    );

    // A missing code, an unknown code, a code of a lot not in the order: each refused with a
    // clear message, the typed codes kept, nothing changed.
    let cases: [(String, &str); 3] = [
        (a_codes[0].clone(), "还需扫描 1 个追溯码"),
        (format!("{}\nNOSUCHCODE123", a_codes[0]), "追溯码未登记"),
        (
            format!("{}\n{}", a_codes[0], b_codes[0]),
            "追溯码不属于本次销售的批次",
        ),
    ];
    for (typed, says) in &cases {
        let r = post_action(&mut b, id, "move", Some("DELIVERED"), &[("codes", typed)]).await;
        assert_eq!(r.status, 200, "{typed}");
        assert!(r.body.contains(says), "{typed}: {}", r.body);
        assert!(
            r.body.contains(&a_codes[0]),
            "the typed codes stay in the box"
        );
        assert_eq!(
            order_row(&app, id).await.status.as_str(),
            "READY_FOR_PICKUP"
        );
        assert_eq!(
            (
                lot_stock(&app, f.lots[0].id).await,
                trace_count(&app, f.lots[0].id).await
            ),
            before
        );
        let sold = unit_code::Entity::find()
            .filter(unit_code::Column::Status.eq(domain::lots::UnitCodeStatus::Sold))
            .filter(unit_code::Column::LotId.is_in([f.lots[0].id, f.lots[1].id]))
            .all(app.db())
            .await
            .unwrap();
        assert!(sold.is_empty(), "{typed}: {sold:?}");
    }

    // The right codes (scanned twice by a nervous gun, one per line): handed over, the codes
    // sold to this buyer, the sale in the ledger.
    let typed = format!("{}\r\n{}\n{}\n", a_codes[0], a_codes[1], a_codes[1]);
    let r = post_action(&mut b, id, "move", Some("DELIVERED"), &[("codes", &typed)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let o = order_row(&app, id).await;
    assert_eq!(o.status.as_str(), "DELIVERED");
    let sold: Vec<unit_code::Model> = unit_code::Entity::find()
        .filter(unit_code::Column::LotId.eq(f.lots[0].id))
        .filter(unit_code::Column::Status.eq(domain::lots::UnitCodeStatus::Sold))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(sold.len(), 2);
    assert!(
        sold.iter()
            .all(|u| u.sale_id == o.sale_id && u.flagged_at.is_none())
    );
    assert_eq!(lot_stock(&app, f.lots[0].id).await, (3, 0));
    let sales: Vec<_> = ledger_of(&app, &f.lots[0].no)
        .await
        .into_iter()
        .filter(|l| l.kind.as_str() == "SALE")
        .collect();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0].quantity, 2);
    let done = b.get(&format!("/dealer/orders/{id}")).await;
    assert!(done.body.contains("data-status=\"DELIVERED\""));
    let r = post_action(&mut b, id, "move", Some("COMPLETED"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(order_row(&app, id).await.status.as_str(), "COMPLETED");
}

// ---------------------------------------------------------------- the recall swap

#[tokio::test]
async fn a_recalled_lot_is_swapped_keeping_stock_trace_and_ledgers_and_a_short_swap_changes_nothing()
 {
    let app = spawn_app().await;
    let c = county(&app).await;
    let tag = rand_u16();
    // The early lot is taken first (earliest expiry); the later one takes its place.
    let f = fresh(
        &app,
        &c,
        &format!("swap{tag}"),
        &[(100, 5, &[]), (400, 6, &[])],
    )
    .await;
    let (a, b_lot) = (&f.lots[0], &f.lots[1]);
    let (gid, id, line) = order_one(&app, &c.farmer, &f.offer, 3).await;
    let (gid2, id2, line2) = order_one(&app, &c.farmer, &f.offer, 2).await;
    assert_eq!(
        allocations(&app, id).await,
        BTreeMap::from([((a.id, "RESERVED".into()), 3)])
    );
    let d = q(
        &app,
        &c.owner,
        TRANSITION,
        json!({ "o": gid, "t": "CONFIRMED", "r": "" }),
    )
    .await;
    no_errors(&d["orderTransition"]);
    no_errors(&recall(&app, &c, a).await);
    assert!(order_row(&app, id).await.flagged);
    let trace_before = (
        trace_count(&app, a.id).await,
        trace_count(&app, b_lot.id).await,
    );
    let ledger_before = (
        ledger_of(&app, &a.no).await.len(),
        ledger_of(&app, &b_lot.no).await.len(),
    );

    // The order page says which lot and why, and offers the swap and the cancel.
    let mut b = browser(&app, OWNER).await;
    let page = b.get(&format!("/dealer/orders/{id}")).await;
    assert!(page.body.contains("data-test=\"recall-banner\""));
    assert!(page.body.contains(&a.no) && page.body.contains("总氮含量不足"));
    assert!(page.body.contains("/swap\"") && page.body.contains("value=\"CANCELLED\""));
    let desk = b.get("/dealer?flagged=1").await;
    assert!(desk.body.contains(&format!("data-order=\"{id}\"")));

    // The swap, by the page's one-shot form (sent twice: one swap).
    let p = b.get(&format!("/dealer/orders/{id}")).await;
    let key = form_key(&p.body, "swap", None);
    let csrf = p.csrf();
    let line_id = raw_id(&line).to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("idem", key.as_str()),
        ("line", line_id.as_str()),
    ];
    let r = b.post(&format!("/dealer/orders/{id}/swap"), &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r2 = b.post(&format!("/dealer/orders/{id}/swap"), &form).await;
    assert_eq!(r2.location, r.location);
    assert_eq!(
        allocations(&app, id).await,
        BTreeMap::from([
            ((a.id, "RELEASED".into()), 3),
            ((b_lot.id, "RESERVED".into()), 3)
        ])
    );
    // Stock per lot: the recalled lot holds no reservation, the new one the order's 3; the
    // other order still holds its 2 on the recalled lot (it is flagged too).
    assert_eq!(lot_stock(&app, a.id).await, (5, 2));
    assert_eq!(lot_stock(&app, b_lot.id).await, (6, 3));
    let o = order_row(&app, id).await;
    assert!(!o.flagged && o.flag_reason.is_none());
    assert_eq!(o.status.as_str(), "CONFIRMED");
    assert!(order_row(&app, id2).await.flagged);
    // A reservation is no trace event and no ledger line: neither changed.
    assert_eq!(
        (
            trace_count(&app, a.id).await,
            trace_count(&app, b_lot.id).await
        ),
        trace_before
    );
    assert_eq!(
        (
            ledger_of(&app, &a.no).await.len(),
            ledger_of(&app, &b_lot.no).await.len()
        ),
        ledger_before
    );
    // The history says what was swapped; the farmer is told.
    let events = domain::orders::events_of(app.db(), id).await.unwrap();
    let swap = events.last().unwrap();
    assert_eq!(swap.from_status.map(|s| s.as_str()), Some("CONFIRMED"));
    assert_eq!(swap.to_status.as_str(), "CONFIRMED");
    assert!(swap.reason.contains(&a.no) && swap.reason.contains(&b_lot.no));
    let told = notification::Entity::find()
        .filter(notification::Column::Kind.eq("ORDER_LOT_SWAPPED"))
        .filter(notification::Column::UserId.eq(o.farmer_id))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(told.len(), 1);
    let page = b.get(&format!("/dealer/orders/{id}?done=swapped")).await;
    assert!(!page.body.contains("data-test=\"recall-banner\""));

    // The second order's swap through GraphQL: 2 of the 3 sellable left. Then the new lot is
    // recalled too: no sellable stock is left, so the swap is refused and changes nothing.
    let d = q(&app, &c.owner, SWAP, json!({ "o": gid2, "l": line2 })).await;
    no_errors(&d["orderLineReallocate"]);
    assert_eq!(d["orderLineReallocate"]["order"]["flagged"], false);
    assert_eq!(lot_stock(&app, b_lot.id).await, (6, 5));
    assert_eq!(lot_stock(&app, a.id).await, (5, 0));
    no_errors(&recall(&app, &c, b_lot).await);
    assert!(order_row(&app, id).await.flagged);
    let before = (allocations(&app, id).await, lot_stock(&app, b_lot.id).await);
    let d = q(&app, &c.owner, SWAP, json!({ "o": gid, "l": line })).await;
    assert_eq!(
        codes(&d["orderLineReallocate"]),
        ["INSUFFICIENT_STOCK"],
        "{d:#}"
    );
    assert_eq!(
        (allocations(&app, id).await, lot_stock(&app, b_lot.id).await),
        before
    );
    assert!(order_row(&app, id).await.flagged);
    // On the page the refusal is a bilingual line, and cancelling stays open.
    let r = post_action(
        &mut b,
        id,
        "swap",
        None,
        &[("line", &raw_id(&line).to_string())],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("可换的合格库存不足"), "{}", r.body);
    let mut en = browser(&app, OWNER).await;
    en.lang = "en";
    let r = post_action(
        &mut en,
        id,
        "swap",
        None,
        &[("line", &raw_id(&line).to_string())],
    )
    .await;
    assert!(
        r.body.contains("not enough sellable stock to swap"),
        "{}",
        r.body
    );
    // Notes kept in both languages show the reader's half.
    let pg = en.get(&format!("/dealer/orders/{id}")).await;
    assert!(
        pg.body
            .contains(&format!("lot {} swapped for {}", a.no, b_lot.no))
    );
    assert!(!pg.body.contains("换为"), "{}", pg.body);
    let r = post_action(
        &mut b,
        id,
        "move",
        Some("CANCELLED"),
        &[("reason", "批次召回，无货可换")],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(lot_stock(&app, b_lot.id).await, (6, 2));

    // A line with nothing to swap, and a farmer asking, are refused.
    let d = q(&app, &c.owner, SWAP, json!({ "o": gid2, "l": line2 })).await;
    assert!(!codes(&d["orderLineReallocate"]).is_empty());
    let d = app
        .gql(SWAP, json!({ "o": gid2, "l": line2 }), Some(&c.farmer))
        .await;
    assert!(d.body["data"]["orderLineReallocate"]["order"].is_null());
    assert!(
        d.body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{:#}",
        d.body
    );
}

#[tokio::test]
async fn only_the_orders_dealer_may_swap_its_lots() {
    let app = spawn_app().await;
    let c = county(&app).await;
    let f = fresh(&app, &c, "roles", &[(100, 3, &[]), (300, 3, &[])]).await;
    let (gid, id, line) = order_one(&app, &c.farmer, &f.offer, 2).await;
    no_errors(&recall(&app, &c, &f.lots[0]).await);
    let before = allocations(&app, id).await;
    // Every role but the order's dealer (and the admin) is refused, and nothing moves.
    for role in ["REGULATOR", "AGRONOMIST", STAFF, "FARMER"] {
        let token = app.demo_token(role).await;
        let d = app
            .gql(SWAP, json!({ "o": gid, "l": line }), Some(&token))
            .await;
        assert!(
            d.body["data"]["orderLineReallocate"]["order"].is_null(),
            "{role}: {:#}",
            d.body
        );
        assert_eq!(d.error_code(), Some("NOT_FOUND"), "{role}: {:#}", d.body);
        assert_eq!(allocations(&app, id).await, before, "{role}");
    }
    let d = app.gql(SWAP, json!({ "o": gid, "l": line }), None).await;
    assert!(d.body["data"]["orderLineReallocate"]["order"].is_null());
    assert_eq!(allocations(&app, id).await, before);
    // The owner may; so may the admin (for support), here on a line with nothing left to swap.
    let d = q(&app, &c.owner, SWAP, json!({ "o": gid, "l": line })).await;
    no_errors(&d["orderLineReallocate"]);
    let d = q(&app, &c.admin, SWAP, json!({ "o": gid, "l": line })).await;
    assert_eq!(codes(&d["orderLineReallocate"]), ["INVALID_TRANSITION"]);
}

#[tokio::test]
async fn concurrent_swaps_and_a_recall_of_the_lot_swapped_to_never_double_allocate() {
    let app = spawn_app().await;
    let c = county(&app).await;
    for round in 0..6 {
        let f = fresh(
            &app,
            &c,
            &format!("race{round}-{}", rand_u16()),
            &[(100, 4, &[]), (200, 4, &[]), (300, 4, &[])],
        )
        .await;
        let (gid, id, line) = order_one(&app, &c.farmer, &f.offer, 3).await;
        no_errors(&recall(&app, &c, &f.lots[0]).await);
        // Two swaps of the same line and a recall of the lot they would swap to, at once.
        let (s1, s2, r) = tokio::join!(
            q(&app, &c.owner, SWAP, json!({ "o": gid, "l": line })),
            q(&app, &c.owner, SWAP, json!({ "o": gid, "l": line })),
            recall(&app, &c, &f.lots[1]),
        );
        no_errors(&r);
        let ok = [&s1, &s2]
            .iter()
            .filter(|d| codes(&d["orderLineReallocate"]).is_empty())
            .count();
        assert!(
            ok >= 1,
            "round {round}: no swap went through: {s1:#} {s2:#}"
        );
        let allocs = allocations(&app, id).await;
        let reserved: BTreeMap<i64, i64> = allocs
            .iter()
            .filter(|((_, s), _)| s == "RESERVED")
            .map(|((l, _), q)| (*l, *q))
            .collect();
        // Exactly the order's 3 units are reserved, never twice.
        assert_eq!(
            reserved.values().sum::<i64>(),
            3,
            "round {round}: {allocs:?}"
        );
        // The stock rows carry exactly those reservations.
        for l in &f.lots {
            assert_eq!(
                lot_stock(&app, l.id).await.1,
                reserved.get(&l.id).copied().unwrap_or(0),
                "round {round}: lot {}",
                l.no
            );
        }
        // Either the order is off recalled lots, or it is flagged for the recall it still holds.
        let o = order_row(&app, id).await;
        let on_recalled =
            reserved.contains_key(&f.lots[0].id) || reserved.contains_key(&f.lots[1].id);
        assert_eq!(o.flagged, on_recalled, "round {round}: {allocs:?} {o:?}");
        if on_recalled {
            // Swapping again moves it to the last sellable lot.
            let d = q(&app, &c.owner, SWAP, json!({ "o": gid, "l": line })).await;
            no_errors(&d["orderLineReallocate"]);
            assert!(!order_row(&app, id).await.flagged);
        }
        let final_reserved: i64 = allocations(&app, id)
            .await
            .iter()
            .filter(|((l, s), _)| s == "RESERVED" && *l == f.lots[2].id)
            .map(|(_, q)| *q)
            .sum();
        assert_eq!(final_reserved, 3, "round {round}");
        assert_eq!(lot_stock(&app, f.lots[2].id).await, (4, 3));
    }
}
