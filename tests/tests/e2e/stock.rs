//! Lots, stock and traceability over HTTP, on the demo county: receiving from a named supplier
//! (purchase ledger), counter sales that take the earliest-expiring lot first (sales ledger),
//! tracing a lot back to its producer and forward to its buyers, recalls that stop the very next
//! sale and reach every holder and buyer, the hash chain that catches a row edited behind the
//! API's back, stock that never goes negative (nor in the database), CSV receipts whose bad rows
//! name their line and column, pesticide unit codes checked against the registration, the
//! public trace (GraphQL, HTML page, QR codes) that never shows a buyer, restricted-use sales,
//! dispositions, transfers to village stations and ledgers downloaded as CSV.
//!
//! Global IDs always come from queries; rows edited "behind the API's back" are found by the
//! lot's trace code, which the API shows.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Duration, NaiveDate};
use domain::entities::{lot, trace_event};
use e2e::{TestApp, spawn_app};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

// ---------------------------------------------------------------- documents

const LOT: &str = "fragment L on Lot { id lotNo traceCode traceUrl status disposition sellable statusReason producedOn expiresOn inspection { result reportNo lab date } sku { id } product { id nameZh nameEn registrationNo } producer { nameZh licenceNo } unitCodes { code kind status flaggedAt flagReason } }";

const LOT_CREATE: &str = "mutation($i: LotInput!) { lotCreate(input: $i) { lot { ...L } errors { field code message } } }";

const ADD_CODES: &str = "mutation($l: ID!, $c: [String!]!) { lotAddUnitCodes(lotId: $l, codes: $c) { lot { ...L } errors { field code message } } }";

const LOT_QUERY: &str = "query($id: ID!) { lot(id: $id) { ...L } }";

const LOTS: &str = "query($s: ID!) { lots(skuId: $s) { ...L } }";

const RECEIVE: &str = "mutation($i: ReceiveInput!) { stockReceive(input: $i) { receipt { id quantity unitCostFen supplierName supplierLicenceNo sourceDocument receivedAt lot { id lotNo } } errors { field code message } } }";

const STOCK: &str = "query($d: ID!, $p: ID) { stock(dealerId: $d, productId: $p) { id onHand reserved available disposition expiresOn daysToExpiry location { id kind nameZh } lot { id lotNo traceCode } sku { id } product { id } } }";

const SALE: &str = "mutation($i: CounterSaleInput!) { counterSale(input: $i) { sale { id channel totalFen buyerName buyerPhone buyerIdNumber crop target soldAt lines { quantity unitPriceFen sku { id } lot { id lotNo } } } errors { field code message } } }";

const SALES: &str = "query($d: ID!) { sales(dealerId: $d, first: 200) { id buyerName buyerPhone buyerIdNumber lines { quantity lot { id traceCode } } } }";

const LEDGER: &str = "query($d: ID!, $k: LedgerKind!, $f: NaiveDate!, $t: NaiveDate!) { ledger(dealerId: $d, kind: $k, from: $f, to: $t) { id kind date productName spec registrationNo producerName lotNo quantity unitPriceFen amountFen counterpartyName counterpartyLicence counterpartyContact counterpartyIdNumber sourceDocument note } }";

const EVENTS: &str = "query($id: ID!) { lot(id: $id) { events { id seq bizStep disposition quantity refKind note prevHash hash unitCodes correctsEventId location { id kind nameZh } fromLocation { id kind nameZh } toLocation { id kind nameZh } dealer { id } } } }";

const VERIFY: &str =
    "query($id: ID!) { traceVerify(lotId: $id) { ok eventsChecked firstBadSeq reason } }";

const TRACE: &str = "query($c: String!) { trace(code: $c) { traceCode productName productNameZh productNameEn category registrationNo pack producerName producerLicence lotNo producedOn expiresOn inspection { reportNo lab result date } disposition dispositionReason custody { seq bizStep disposition occurredAt placeKind place quantity corrected } unitCode unitStatus unitFlagged } }";

const REPORT: &str = "query($id: ID!) { recallReport(lotId: $id) { productName csvUrl lot { id lotNo status } holders { dealerId dealerName dealerPhone locationName onHand reserved inTransit } buyers { name phone village dealerName quantity soldAt } backward { bizStep occurredAt quantity party licence document } } }";

const DEALER: &str = "query($d: ID!) { dealer(id: $d) { id nameZh nameEn phone restrictedUseLicensed serviceArea { id } offers { priceFen sku { id gtin label product { id nameZh nameEn category restrictedUse registrationNo producer { nameZh licenceNo } pesticide { uses { crop targetZh } } } } } } }";

const RECALL: &str = "mutation($l: ID!, $r: String!) { lotRecall(lotId: $l, reason: $r) { lot { ...L } errors { field code message } } }";

const HOLD: &str = "mutation($l: ID!, $r: String!) { lotHold(lotId: $l, reason: $r) { lot { ...L } errors { field code message } } }";

const RELEASE: &str = "mutation($l: ID!, $r: String!) { lotRelease(lotId: $l, reason: $r) { lot { ...L } errors { field code message } } }";

const INSPECT: &str = "mutation($l: ID!, $i: InspectionInput!) { lotRecordInspection(lotId: $l, inspection: $i) { lot { ...L } errors { field code message } } }";

const ADJUST: &str =
    "mutation($i: AdjustInput!) { stockAdjust(input: $i) { ok errors { field code message } } }";

const DESTROY: &str =
    "mutation($i: DestroyInput!) { stockDestroy(input: $i) { ok errors { field code message } } }";

const SHIP: &str = "mutation($i: TransferInput!) { stockTransferShip(input: $i) { transfer { id status quantity shippedAt receivedAt lot { id } fromLocation { id kind } toLocation { id kind nameZh } } errors { field code message } } }";

const TRANSFER_RECEIVE: &str = "mutation($t: ID!) { stockTransferReceive(transferId: $t) { transfer { id status quantity receivedAt toLocation { id kind } } errors { field code message } } }";

const TRANSFERS: &str = "query($d: ID!, $o: Boolean!) { transfers(dealerId: $d, inTransitOnly: $o) { id status quantity lot { id } fromLocation { id kind dealer { id } } toLocation { id kind nameZh stationId } } }";

const CSV: &str = "mutation($d: ID!, $c: String!, $p: CsvErrorPolicy!) { stockReceiveCsv(dealerId: $d, csv: $c, policy: $p) { committed lotsCreated received { id quantity unitCostFen sourceDocument lot { id lotNo inspection { result lab } } } rowErrors { line column columnName code message } } }";

const NOTIFICATIONS: &str =
    "query { notifications(unreadOnly: true) { id kind title body payload readAt } }";

const CORRECT: &str = "mutation($e: ID!, $r: String!) { traceEventCorrect(eventId: $e, reason: $r) { event { id seq bizStep correctsEventId } errors { field code message } } }";

const NEW_SKU: &str = "mutation($p: ID!, $s: Float!) { skuCreate(productId: $p, input: { packSize: $s, packUnit: \"kg\" }) { sku { id } errors { field code message } } }";

const ME: &str = "{ me { id phone displayName realName dealer { id } village { id nameZh } } }";

/// The PNG file signature.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The UTF-8 byte-order mark Excel needs to read a CSV as UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

// ---------------------------------------------------------------- the demo county

/// The demo county's users and dealers, as the API gives them.
struct County {
    admin: String,
    regulator: String,
    owner: String,
    staff: String,
    farmer: String,
    farmer2: String,
    /// The demo owner's dealer, the demo staff member's dealer, and the third one.
    owner_dealer: Value,
    staff_dealer: Value,
    other_dealer: Value,
    /// `me` of the real-name farmer and of the other farmer.
    farmer_me: Value,
    farmer2_me: Value,
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
        assert!(farmers.len() >= 2, "the demo has two farmers");
        let farmer2 = app.login(&farmers[1].phone, &farmers[1].password).await.0;
        let owner = app.demo_token("DEALER (OWNER)").await;
        let staff = app.demo_token("DEALER (STAFF)").await;
        let farmer = app.demo_token("FARMER").await;
        let owner_me = q(app, Some(&owner), ME, json!({})).await["me"].clone();
        let staff_me = q(app, Some(&staff), ME, json!({})).await["me"].clone();
        let farmer_me = q(app, Some(&farmer), ME, json!({})).await["me"].clone();
        let farmer2_me = q(app, Some(&farmer2), ME, json!({})).await["me"].clone();
        assert_ne!(farmer_me["id"], farmer2_me["id"]);
        let owner_dealer = owner_me["dealer"]["id"].clone();
        let staff_dealer = staff_me["dealer"]["id"].clone();
        assert_ne!(owner_dealer, staff_dealer);
        let dealers = q(app, None, "{ dealers { id } }", json!({})).await;
        let other_dealer = dealers["dealers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].clone())
            .find(|d| *d != owner_dealer && *d != staff_dealer)
            .expect("a third dealer");
        County {
            admin: app.demo_token("ADMIN").await,
            regulator: app.demo_token("REGULATOR").await,
            owner,
            staff,
            farmer,
            farmer2,
            owner_dealer,
            staff_dealer,
            other_dealer,
            farmer_me,
            farmer2_me,
            seq: AtomicU32::new(1),
        }
    }

    fn n(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }
}

fn today() -> NaiveDate {
    domain::today()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

/// A query or mutation that must succeed.
async fn q(app: &TestApp, token: Option<&str>, doc: &str, vars: Value) -> Value {
    app.gql(doc, vars, token).await.ok()
}

/// The same, with English messages.
async fn q_en(app: &TestApp, token: &str, doc: &str, vars: Value) -> Value {
    app.gql_with(doc, vars, Some(token), &[("accept-language", "en")])
        .await
        .ok()
}

fn with_lot(doc: &str) -> String {
    format!("{doc} {LOT}")
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v:#}"))
}

fn codes_of(errors: &Value) -> Vec<(String, String)> {
    arr(errors)
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn assert_no_errors(payload: &Value) {
    assert_eq!(
        payload["errors"],
        json!([]),
        "unexpected errors: {payload:#}"
    );
}

/// A dealer with its offers (products, packs, prices).
async fn dealer(app: &TestApp, token: &str, id: &Value) -> Value {
    q(app, Some(token), DEALER, json!({ "d": id })).await["dealer"].clone()
}

/// The dealer's first offer matching `pred` (called with the offer).
fn offer(dealer: &Value, pred: impl Fn(&Value) -> bool) -> &Value {
    arr(&dealer["offers"])
        .iter()
        .find(|o| pred(o))
        .unwrap_or_else(|| panic!("no such offer at {}", dealer["nameZh"]))
}

fn is_category(o: &Value, c: &str) -> bool {
    o["sku"]["product"]["category"] == c
}

/// A new pack size of a product (admin), so the lots a test creates are its only lots.
async fn new_sku(app: &TestApp, c: &County, product: &Value) -> Value {
    let d = q(
        app,
        Some(&c.admin),
        NEW_SKU,
        json!({ "p": product, "s": 3.0 + f64::from(c.n()) }),
    )
    .await;
    assert_no_errors(&d["skuCreate"]);
    d["skuCreate"]["sku"]["id"].clone()
}

fn inspection(lot_no: &str, result: &str, produced: NaiveDate) -> Value {
    json!({
        "reportNo": format!("JC-{lot_no}"),
        "lab": "荆门市农产品质量检测中心",
        "result": result,
        "date": std::cmp::min(produced + Duration::days(2), today()).to_string(),
    })
}

/// Creates a lot (produced and expiring `produced`/`expires` days from today) with an inspection
/// of `result`, and returns it.
async fn new_lot(
    app: &TestApp,
    token: &str,
    sku: &Value,
    lot_no: &str,
    produced: i64,
    expires: i64,
    result: &str,
) -> Value {
    let p = today() + Duration::days(produced);
    let d = q(
        app,
        Some(token),
        &with_lot(LOT_CREATE),
        json!({ "i": {
            "skuId": sku, "lotNo": lot_no, "producedOn": p.to_string(), "expiresOn": day(expires),
            "inspection": inspection(lot_no, result, p),
        } }),
    )
    .await;
    assert_no_errors(&d["lotCreate"]);
    let l = d["lotCreate"]["lot"].clone();
    assert_eq!(l["lotNo"], lot_no);
    l
}

fn supplier() -> Value {
    json!({ "name": "荆门市农业生产资料有限公司", "licenceNo": "(鄂)农资批发E2E-0001", "contact": "0724-2345678" })
}

async fn receive_payload(
    app: &TestApp,
    token: &str,
    dealer: &Value,
    lot: &Value,
    quantity: i64,
    cost: i64,
    doc: &str,
) -> Value {
    q_en(
        app,
        token,
        RECEIVE,
        json!({ "i": {
            "dealerId": dealer, "lotId": lot["id"], "quantity": quantity, "unitCostFen": cost,
            "supplier": supplier(), "sourceDocument": doc,
        } }),
    )
    .await["stockReceive"]
        .clone()
}

/// Receives stock that must be accepted; returns the receipt.
async fn receive(
    app: &TestApp,
    token: &str,
    dealer: &Value,
    lot: &Value,
    quantity: i64,
    cost: i64,
    doc: &str,
) -> Value {
    let p = receive_payload(app, token, dealer, lot, quantity, cost, doc).await;
    assert_no_errors(&p);
    p["receipt"].clone()
}

async fn stock(app: &TestApp, token: &str, dealer: &Value) -> Vec<Value> {
    arr(&q(app, Some(token), STOCK, json!({ "d": dealer })).await["stock"]).clone()
}

async fn stock_of(app: &TestApp, token: &str, dealer: &Value, product: &Value) -> Vec<Value> {
    arr(&q(
        app,
        Some(token),
        STOCK,
        json!({ "d": dealer, "p": product }),
    )
    .await["stock"])
    .clone()
}

/// On hand of a lot at a dealer's locations of `kind` (0 when it has no row: rows with nothing
/// on hand are not listed).
fn on_hand(rows: &[Value], lot: &Value, kind: &str) -> i64 {
    rows.iter()
        .filter(|r| r["lot"]["id"] == lot["id"] && r["location"]["kind"] == kind)
        .map(|r| r["onHand"].as_i64().unwrap())
        .sum()
}

fn row<'a>(rows: &'a [Value], lot: &Value, kind: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["lot"]["id"] == lot["id"] && r["location"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row of lot {}", lot["lotNo"]))
}

async fn sell(app: &TestApp, token: &str, input: Value) -> Value {
    q_en(app, token, SALE, json!({ "i": input })).await["counterSale"].clone()
}

async fn ledger(
    app: &TestApp,
    token: &str,
    dealer: &Value,
    kind: &str,
    from: &str,
    to: &str,
) -> Vec<Value> {
    arr(&q(
        app,
        Some(token),
        LEDGER,
        json!({ "d": dealer, "k": kind, "f": from, "t": to }),
    )
    .await["ledger"])
    .clone()
}

async fn events(app: &TestApp, token: &str, lot: &Value) -> Vec<Value> {
    arr(&q(app, Some(token), EVENTS, json!({ "id": lot["id"] })).await["lot"]["events"]).clone()
}

fn steps(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["bizStep"].as_str().unwrap())
        .collect()
}

async fn verify(app: &TestApp, token: &str, lot: &Value) -> Value {
    q(app, Some(token), VERIFY, json!({ "id": lot["id"] })).await["traceVerify"].clone()
}

async fn trace(app: &TestApp, code: &str) -> Value {
    q(app, None, TRACE, json!({ "c": code })).await["trace"].clone()
}

async fn report(app: &TestApp, token: &str, lot: &Value) -> Value {
    q(app, Some(token), REPORT, json!({ "id": lot["id"] })).await["recallReport"].clone()
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut r = app.client.get(app.url(path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.expect("request reaches the server")
}

/// Runs SQL behind the API's back.
async fn sql(app: &TestApp, statement: &str) -> Result<u64, sea_orm::DbErr> {
    app.db()
        .execute_unprepared(statement)
        .await
        .map(|r| r.rows_affected())
}

fn id_number(n: u32) -> String {
    let body = format!("42082219850612{:03}", n % 1000);
    let check = domain::types::IdNumber::check_char(body.as_bytes()) as char;
    format!("{body}{check}")
}

// ---------------------------------------------------------------- receive, sell, trace

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_sell_first_expiring_first_and_trace_backward_and_forward() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| is_category(o, "FERTILISER")).clone();
    let (sku, product) = (&o["sku"]["id"], &o["sku"]["product"]);
    let price = o["priceFen"].as_i64().unwrap();

    // Two lots of the same pack, the second expiring a month later; both before the demo lot.
    let a = new_lot(&app, owner, sku, "FEFO-A", -10, 30, "CONFORMANT").await;
    let b = new_lot(&app, owner, sku, "FEFO-B", -10, 60, "CONFORMANT").await;
    assert_eq!(a["status"], "ACTIVE");
    assert_eq!(a["disposition"], "SELLABLE");
    assert_eq!(a["product"]["id"], product["id"]);
    assert_eq!(a["producer"]["nameZh"], product["producer"]["nameZh"]);
    let before = stock_of(&app, owner, &c.owner_dealer, &product["id"]).await;

    // Receipts from a named supplier, with licence, unit cost and source document.
    let r = receive(&app, owner, &c.owner_dealer, &a, 3, 9000, "RK-E2E-A").await;
    assert_eq!(r["quantity"], 3);
    assert_eq!(r["unitCostFen"], 9000);
    assert_eq!(r["supplierName"], supplier()["name"]);
    assert_eq!(r["supplierLicenceNo"], supplier()["licenceNo"]);
    assert_eq!(r["sourceDocument"], "RK-E2E-A");
    assert_eq!(r["lot"]["id"], a["id"]);
    receive(&app, owner, &c.owner_dealer, &b, 5, 9100, "RK-E2E-B").await;

    // Each receipt wrote its purchase-ledger line.
    let purchases = ledger(&app, owner, &c.owner_dealer, "PURCHASE", &day(0), &day(0)).await;
    let line = purchases
        .iter()
        .find(|l| l["lotNo"] == "FEFO-A")
        .expect("a purchase line for lot A");
    assert_eq!(line["kind"], "PURCHASE");
    assert_eq!(line["quantity"], 3);
    assert_eq!(line["unitPriceFen"], 9000);
    assert_eq!(line["amountFen"], 27_000);
    assert_eq!(line["counterpartyName"], supplier()["name"]);
    assert_eq!(line["counterpartyLicence"], supplier()["licenceNo"]);
    assert_eq!(line["counterpartyContact"], supplier()["contact"]);
    assert_eq!(line["sourceDocument"], "RK-E2E-A");
    assert_eq!(line["productName"], product["nameZh"]);
    assert_eq!(line["producerName"], product["producer"]["nameZh"]);
    assert_eq!(line["date"], day(0));
    assert!(purchases.iter().any(|l| l["lotNo"] == "FEFO-B"
        && l["quantity"] == 5
        && l["sourceDocument"] == "RK-E2E-B"));

    // Stock by product and lot, earliest expiry first.
    let rows = stock_of(&app, owner, &c.owner_dealer, &product["id"]).await;
    let ra = row(&rows, &a, "DEALER_STORE");
    assert_eq!(
        (&ra["onHand"], &ra["reserved"], &ra["available"]),
        (&json!(3), &json!(0), &json!(3))
    );
    assert_eq!(ra["disposition"], "SELLABLE");
    assert_eq!(ra["daysToExpiry"], 30);
    assert_eq!(ra["expiresOn"], day(30));
    assert_eq!(row(&rows, &b, "DEALER_STORE")["onHand"], 5);
    let order: Vec<&Value> = rows
        .iter()
        .filter(|r| r["sku"]["id"] == *sku)
        .map(|r| &r["lot"]["id"])
        .collect();
    assert_eq!(order[0], &a["id"]);
    assert_eq!(order[1], &b["id"]);

    // A counter sale of 5 to the real-name farmer: all 3 of A, then 2 of B.
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 5 }],
                "buyer": { "userId": c.farmer_me["id"] } }),
    )
    .await;
    assert_no_errors(&s);
    let sale = &s["sale"];
    assert_eq!(sale["channel"], "COUNTER");
    let lines: Vec<(&Value, &Value, &Value)> = arr(&sale["lines"])
        .iter()
        .map(|l| (&l["lot"]["id"], &l["quantity"], &l["unitPriceFen"]))
        .collect();
    assert_eq!(
        lines,
        vec![
            (&a["id"], &json!(3), &json!(price)),
            (&b["id"], &json!(2), &json!(price))
        ]
    );
    assert_eq!(sale["totalFen"], 5 * price);
    assert_eq!(sale["buyerName"], c.farmer_me["realName"]);
    assert_eq!(sale["buyerPhone"], c.farmer_me["phone"]);
    let masked = sale["buyerIdNumber"].as_str().unwrap();
    assert!(
        masked.contains("**********"),
        "a dealer sees a masked ID: {masked}"
    );

    // Stock after: A is gone, B has 3, every other lot of the product is untouched.
    let after = stock_of(&app, owner, &c.owner_dealer, &product["id"]).await;
    assert_eq!(on_hand(&after, &a, "DEALER_STORE"), 0);
    assert_eq!(on_hand(&after, &b, "DEALER_STORE"), 3);
    let others = |rows: &[Value]| -> Vec<Value> {
        rows.iter()
            .filter(|r| r["lot"]["id"] != a["id"] && r["lot"]["id"] != b["id"])
            .cloned()
            .collect()
    };
    assert_eq!(others(&after), others(&before));

    // The sales ledger has a line per lot, with the buyer.
    let sales = ledger(&app, owner, &c.owner_dealer, "SALE", &day(0), &day(0)).await;
    for (lot_no, n) in [("FEFO-A", 3), ("FEFO-B", 2)] {
        let l = sales
            .iter()
            .find(|l| l["lotNo"] == lot_no)
            .unwrap_or_else(|| panic!("a sales line for {lot_no}"));
        assert_eq!(l["quantity"], n);
        assert_eq!(l["unitPriceFen"], price);
        assert_eq!(l["amountFen"], n * price);
        assert_eq!(l["counterpartyName"], c.farmer_me["realName"]);
        assert_eq!(l["counterpartyContact"], c.farmer_me["phone"]);
        assert_eq!(l["counterpartyIdNumber"], masked);
    }
    // A regulator of the county sees the whole ID number.
    let full = ledger(
        &app,
        &c.regulator,
        &c.owner_dealer,
        "SALE",
        &day(0),
        &day(0),
    )
    .await;
    let id = full.iter().find(|l| l["lotNo"] == "FEFO-A").unwrap()["counterpartyIdNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 18);
    assert!(!id.contains('*'));
    assert_eq!(&id[..4], &masked[..4]);

    // The lot's event log: released, inspected, received, sold; hash-chained.
    let ev = events(&app, owner, &a).await;
    assert_eq!(
        steps(&ev),
        ["commissioning", "inspecting", "receiving", "retail_selling"]
    );
    assert_eq!(
        ev.iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(ev[0]["location"]["kind"], "PRODUCER");
    assert_eq!(ev[1]["disposition"], "conformant");
    assert_eq!(ev[2]["quantity"], 3);
    assert_eq!(ev[2]["refKind"], "RECEIPT");
    assert_eq!(ev[2]["dealer"]["id"], c.owner_dealer);
    assert_eq!(ev[2]["toLocation"]["kind"], "DEALER_STORE");
    assert_eq!(ev[3]["quantity"], 3);
    assert_eq!(ev[3]["refKind"], "SALE");
    assert_eq!(ev[3]["disposition"], "retail_sold");
    assert_eq!(ev[3]["location"]["kind"], "DEALER_STORE");
    assert_eq!(ev[0]["prevHash"], "0".repeat(64));
    for w in ev.windows(2) {
        assert_eq!(w[1]["prevHash"], w[0]["hash"], "the chain is linked");
    }
    for e in &ev {
        let h = e["hash"].as_str().unwrap();
        assert!(h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let v = verify(&app, owner, &a).await;
    assert_eq!(
        v,
        json!({ "ok": true, "eventsChecked": 4, "firstBadSeq": null, "reason": null })
    );

    // Backward: the receipt (supplier, licence, document), then the producer. Forward: the buyer.
    let ra = report(&app, &c.regulator, &a).await;
    let back = arr(&ra["backward"]);
    assert_eq!(back.len(), 2, "{back:#?}");
    assert_eq!(back[0]["bizStep"], "receiving");
    assert_eq!(back[0]["quantity"], 3);
    assert_eq!(back[0]["licence"], supplier()["licenceNo"]);
    assert_eq!(back[0]["document"], "RK-E2E-A");
    assert!(
        back[0]["party"]
            .as_str()
            .unwrap()
            .contains("荆门市农业生产资料有限公司")
    );
    assert_eq!(back[1]["bizStep"], "commissioning");
    assert_eq!(back[1]["party"], product["producer"]["nameZh"]);
    assert_eq!(back[1]["licence"], product["producer"]["licenceNo"]);
    assert_eq!(back[1]["document"], a["inspection"]["reportNo"]);
    assert_eq!(ra["holders"], json!([]), "lot A was sold out");
    let buyers = arr(&ra["buyers"]);
    assert_eq!(buyers.len(), 1);
    assert_eq!(buyers[0]["name"], c.farmer_me["realName"]);
    assert_eq!(buyers[0]["phone"], c.farmer_me["phone"]);
    assert_eq!(buyers[0]["village"], c.farmer_me["village"]["nameZh"]);
    assert_eq!(buyers[0]["quantity"], 3);
    assert_eq!(buyers[0]["dealerName"], d["nameZh"]);
    let rb = report(&app, &c.regulator, &b).await;
    let holders = arr(&rb["holders"]);
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0]["dealerId"], c.owner_dealer);
    assert_eq!(holders[0]["onHand"], 3);
    assert_eq!(holders[0]["dealerPhone"], d["phone"]);
    assert_eq!(arr(&rb["buyers"])[0]["quantity"], 2);

    // The public view of the same lot: the store, never the buyer.
    let t = trace(&app, a["traceCode"].as_str().unwrap()).await;
    let custody: Vec<&str> = arr(&t["custody"])
        .iter()
        .map(|s| s["bizStep"].as_str().unwrap())
        .collect();
    assert_eq!(
        custody,
        ["commissioning", "inspecting", "receiving", "retail_selling"]
    );
    let sold = &arr(&t["custody"])[3];
    assert_eq!(sold["placeKind"], "DEALER_STORE");
    assert_eq!(sold["place"], ra_store_name(&ev));
    let text = t.to_string();
    assert!(!text.contains(c.farmer_me["realName"].as_str().unwrap()));
    assert!(!text.contains(c.farmer_me["phone"].as_str().unwrap()));
}

/// The store name an event log's sale took place at.
fn ra_store_name(ev: &[Value]) -> Value {
    ev.iter()
        .find(|e| e["bizStep"] == "retail_selling")
        .unwrap()["location"]["nameZh"]
        .clone()
}

// ---------------------------------------------------------------- recalls

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_blocks_the_very_next_sale_and_reaches_every_holder_and_buyer() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let sd = dealer(&app, &c.staff, &c.staff_dealer).await;
    let product = offer(&d, |o| is_category(o, "FERTILISER"))["sku"]["product"].clone();
    // A new pack size: the lot recalled here is its only lot.
    let sku = new_sku(&app, &c, &product["id"]).await;
    let l = new_lot(&app, owner, &sku, "RECALL-1", -30, 300, "CONFORMANT").await;
    receive(&app, owner, &c.owner_dealer, &l, 10, 4000, "RK-RECALL-1").await;
    receive(&app, &c.staff, &c.staff_dealer, &l, 4, 4100, "RK-RECALL-2").await;

    // Sold to the real-name farmer, and to a walk-in buyer who left name, phone and village.
    let villages = q(&app, None, "{ villages { id nameZh } }", json!({})).await;
    let village = arr(&villages["villages"])
        .iter()
        .find(|v| v["id"] != c.farmer_me["village"]["id"])
        .unwrap()
        .clone();
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "buyer": { "userId": c.farmer_me["id"] },
                "lines": [{ "skuId": sku, "quantity": 2, "unitPriceFen": 5000 }] }),
    )
    .await;
    assert_no_errors(&s);
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer,
                "buyer": { "name": "王小二", "phone": "13912340001", "villageId": village["id"] },
                "lines": [{ "skuId": sku, "quantity": 1, "unitPriceFen": 5000 }] }),
    )
    .await;
    assert_no_errors(&s);
    let store_rows = stock(&app, owner, &c.owner_dealer).await;
    assert_eq!(on_hand(&store_rows, &l, "DEALER_STORE"), 7);
    for token in [&c.owner, &c.staff, &c.farmer, &c.farmer2] {
        let n = q(&app, Some(token), NOTIFICATIONS, json!({})).await;
        assert!(
            arr(&n["notifications"])
                .iter()
                .all(|n| n["kind"] != "LOT_RECALLED")
        );
    }

    // A dealer may not recall; the regulator does.
    let reason = "抽检不合格：总养分低于标明值";
    let r = app
        .gql(
            &with_lot(RECALL),
            json!({ "l": l["id"], "r": reason }),
            Some(owner),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = q(
        &app,
        Some(&c.regulator),
        &with_lot(RECALL),
        json!({ "l": l["id"], "r": reason }),
    )
    .await;
    assert_no_errors(&r["lotRecall"]);
    let recalled = &r["lotRecall"]["lot"];
    assert_eq!(recalled["status"], "RECALLED");
    assert_eq!(recalled["disposition"], "RECALLED");
    assert_eq!(recalled["sellable"], false);
    assert_eq!(recalled["statusReason"], reason);

    // The very next sale fails: the recalled lot is not allocated, so nothing is available.
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 1, "unitPriceFen": 5000 }] }),
    )
    .await;
    assert_eq!(s["sale"], Value::Null);
    assert_eq!(
        codes_of(&s["errors"]),
        [(
            "lines.0.quantity".to_owned(),
            "INSUFFICIENT_STOCK".to_owned()
        )]
    );
    let msg = s["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("0 available"), "{msg}");
    let s = sell(
        &app,
        &c.staff,
        json!({ "dealerId": c.staff_dealer, "lines": [{ "skuId": sku, "quantity": 1, "unitPriceFen": 5000 }] }),
    )
    .await;
    assert_eq!(s["errors"][0]["code"], "INSUFFICIENT_STOCK");
    // Stock is left as it was, marked recalled.
    let rows = stock(&app, owner, &c.owner_dealer).await;
    assert_eq!(
        rows,
        store_rows
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if r["lot"]["id"] == l["id"] {
                    r["disposition"] = json!("RECALLED");
                }
                r
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(row(&rows, &l, "DEALER_STORE")["disposition"], "RECALLED");
    // Nor can it be received again, nor recalled twice.
    let p = receive_payload(&app, owner, &c.owner_dealer, &l, 1, 4000, "RK-RECALL-3").await;
    assert_eq!(
        codes_of(&p["errors"]),
        [("lotId".to_owned(), "LOT_RECALLED".to_owned())]
    );
    let r = q(
        &app,
        Some(&c.regulator),
        &with_lot(RECALL),
        json!({ "l": l["id"], "r": "again" }),
    )
    .await;
    assert_eq!(r["lotRecall"]["errors"][0]["code"], "INVALID_TRANSITION");

    // The report: every holder with quantities, every buyer, back to the producer.
    let rep = report(&app, &c.regulator, &l).await;
    assert_eq!(rep["lot"]["status"], "RECALLED");
    assert_eq!(rep["productName"], product["nameZh"]);
    let holders = arr(&rep["holders"]);
    assert_eq!(holders.len(), 2, "{holders:#?}");
    for (dealer, info, n) in [(&c.owner_dealer, &d, 7), (&c.staff_dealer, &sd, 4)] {
        let h = holders
            .iter()
            .find(|h| h["dealerId"] == *dealer)
            .expect("holder");
        assert_eq!(h["onHand"], n);
        assert_eq!(h["reserved"], 0);
        assert_eq!(h["inTransit"], 0);
        assert_eq!(h["dealerName"], info["nameZh"]);
        assert_eq!(h["dealerPhone"], info["phone"]);
        assert!(!h["locationName"].as_str().unwrap().is_empty());
    }
    let buyers = arr(&rep["buyers"]);
    assert_eq!(buyers.len(), 2);
    assert_eq!(buyers[0]["name"], c.farmer_me["realName"]);
    assert_eq!(buyers[0]["phone"], c.farmer_me["phone"]);
    assert_eq!(buyers[0]["village"], c.farmer_me["village"]["nameZh"]);
    assert_eq!(buyers[0]["quantity"], 2);
    assert_eq!(buyers[0]["dealerName"], d["nameZh"]);
    assert_eq!(buyers[1]["name"], "王小二");
    assert_eq!(buyers[1]["phone"], "13912340001");
    assert_eq!(buyers[1]["village"], village["nameZh"]);
    assert_eq!(buyers[1]["quantity"], 1);
    let back = arr(&rep["backward"]);
    assert_eq!(
        back.iter()
            .map(|b| b["bizStep"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["receiving", "receiving", "commissioning"]
    );
    assert_eq!(back[0]["document"], "RK-RECALL-1");
    assert_eq!(back[1]["document"], "RK-RECALL-2");
    assert_eq!(back[2]["party"], product["producer"]["nameZh"]);
    assert_eq!(back[2]["licence"], product["producer"]["licenceNo"]);
    // Only regulators and admins see it.
    let r = app.gql(REPORT, json!({ "id": l["id"] }), Some(owner)).await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));

    // Notifications: the users of both holding dealers and the farmer who bought; not the
    // farmer who did not.
    for token in [&c.owner, &c.staff, &c.farmer] {
        let n = q(&app, Some(token), NOTIFICATIONS, json!({})).await;
        let recalls: Vec<&Value> = arr(&n["notifications"])
            .iter()
            .filter(|n| n["kind"] == "LOT_RECALLED")
            .collect();
        assert_eq!(recalls.len(), 1, "{n:#}");
        let p = &recalls[0]["payload"];
        assert_eq!(p["lotNo"], "RECALL-1");
        assert_eq!(p["traceCode"], l["traceCode"]);
        assert_eq!(p["reason"], reason);
        assert!(recalls[0]["title"].as_str().unwrap().contains("RECALL-1"));
        assert_eq!(recalls[0]["readAt"], Value::Null);
    }
    let n = q(&app, Some(&c.farmer2), NOTIFICATIONS, json!({})).await;
    assert!(
        arr(&n["notifications"])
            .iter()
            .all(|n| n["kind"] != "LOT_RECALLED")
    );
    // The farmer reads theirs.
    let n = q(&app, Some(&c.farmer), NOTIFICATIONS, json!({})).await;
    let ids: Vec<Value> = arr(&n["notifications"])
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    let m = q(
        &app,
        Some(&c.farmer),
        "mutation($i: [ID!]!) { notificationsMarkRead(ids: $i) }",
        json!({ "i": ids }),
    )
    .await;
    assert_eq!(m["notificationsMarkRead"], ids.len());
    let n = q(&app, Some(&c.farmer), NOTIFICATIONS, json!({})).await;
    assert_eq!(n["notifications"], json!([]));

    // The CSV of the report: BOM, Chinese columns, holders and buyers.
    let url = rep["csvUrl"].as_str().unwrap();
    let resp = get(&app, url, Some(&c.regulator)).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(BOM), "the CSV starts with a BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "类型,经销商,地点/村,姓名,电话,数量,在途,日期,备注"
    );
    assert_eq!(lines.len(), 1 + 2 + 2 + 3, "{text}");
    assert!(lines.iter().any(|l| l.starts_with("购买人,")
        && l.contains("王小二")
        && l.contains("13912340001")
        && l.contains(village["nameZh"].as_str().unwrap())));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("持有,") && l.contains(",7,0,"))
    );
    let en = get(&app, &format!("{url}?lang=en"), Some(&c.regulator)).await;
    let bytes = en.bytes().await.unwrap();
    assert!(bytes.starts_with(BOM));
    assert!(
        std::str::from_utf8(&bytes[3..])
            .unwrap()
            .starts_with("type,dealer,location / village,name,phone,quantity,in transit,date,note")
    );
    assert_eq!(get(&app, url, None).await.status(), 401);
    assert_eq!(get(&app, url, Some(owner)).await.status(), 403);

    // Anyone scanning the bag sees the recall and its reason.
    let t = trace(&app, l["traceCode"].as_str().unwrap()).await;
    assert_eq!(t["disposition"], "RECALLED");
    assert_eq!(t["dispositionReason"], reason);
    let page = get(&app, l["traceUrl"].as_str().unwrap(), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("已召回"), "{page}");
    assert!(page.contains(reason));
}

// ---------------------------------------------------------------- the hash chain

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_edited_in_the_database_fails_trace_verify() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let sku = offer(&d, |o| is_category(o, "FERTILISER"))["sku"]["id"].clone();
    let l = new_lot(&app, owner, &sku, "CHAIN-1", -5, 100, "CONFORMANT").await;
    receive(&app, owner, &c.owner_dealer, &l, 4, 5000, "RK-CHAIN").await;
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 1 }] }),
    )
    .await;
    assert_no_errors(&s);
    assert_eq!(s["sale"]["lines"][0]["lot"]["id"], l["id"]);
    let ev = events(&app, owner, &l).await;
    assert_eq!(
        steps(&ev),
        ["commissioning", "inspecting", "receiving", "retail_selling"]
    );
    let ok = json!({ "ok": true, "eventsChecked": 4, "firstBadSeq": null, "reason": null });
    assert_eq!(verify(&app, owner, &l).await, ok);
    assert_eq!(verify(&app, &c.regulator, &l).await, ok);

    let code = l["traceCode"].as_str().unwrap();
    let of_lot = format!("lot_id = (SELECT id FROM lot WHERE trace_code = '{code}')");

    // Someone adds a bag to the receipt directly in the database.
    let n = sql(
        &app,
        &format!("UPDATE trace_event SET quantity = quantity + 1 WHERE {of_lot} AND seq = 3"),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let v = verify(&app, owner, &l).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["firstBadSeq"], 3);
    assert_eq!(v["eventsChecked"], 3);
    assert!(v["reason"].as_str().unwrap().contains("edited"), "{v}");
    // Undone, the chain verifies again: the check is on the contents.
    sql(
        &app,
        &format!("UPDATE trace_event SET quantity = quantity - 1 WHERE {of_lot} AND seq = 3"),
    )
    .await
    .unwrap();
    assert_eq!(verify(&app, owner, &l).await, ok);

    // A cleverer edit recomputes the row's own hash: the next event's link gives it away.
    let lot_row = lot::Entity::find()
        .filter(lot::Column::TraceCode.eq(code))
        .one(app.db())
        .await
        .unwrap()
        .expect("the lot row");
    let original = trace_event::Entity::find()
        .filter(trace_event::Column::LotId.eq(lot_row.id))
        .filter(trace_event::Column::Seq.eq(3))
        .one(app.db())
        .await
        .unwrap()
        .expect("event 3");
    let mut forged = original.clone();
    forged.quantity += 10;
    forged.hash = domain::lots::trace::event_hash(&forged);
    assert_eq!(
        domain::lots::trace::event_hash(&original),
        original.hash,
        "the test recomputes hashes as the server does"
    );
    sql(
        &app,
        &format!(
            "UPDATE trace_event SET quantity = {}, hash = '{}' WHERE id = {}",
            forged.quantity, forged.hash, original.id
        ),
    )
    .await
    .unwrap();
    let v = verify(&app, owner, &l).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["firstBadSeq"], 4, "{v}");
    assert!(v["reason"].as_str().unwrap().contains("link"), "{v}");
    sql(
        &app,
        &format!(
            "UPDATE trace_event SET quantity = {}, hash = '{}' WHERE id = {}",
            original.quantity, original.hash, original.id
        ),
    )
    .await
    .unwrap();
    assert_eq!(verify(&app, owner, &l).await, ok);

    // A correction is a new event pointing at the wrong one: the chain stays whole.
    let c3 = q(
        &app,
        Some(owner),
        CORRECT,
        json!({ "e": ev[2]["id"], "r": "数量录入错误，应为 3 袋" }),
    )
    .await;
    assert_no_errors(&c3["traceEventCorrect"]);
    let e = &c3["traceEventCorrect"]["event"];
    assert_eq!(e["seq"], 5);
    assert_eq!(e["bizStep"], "correcting");
    assert_eq!(e["correctsEventId"], ev[2]["id"]);
    let v = verify(&app, owner, &l).await;
    assert_eq!((&v["ok"], &v["eventsChecked"]), (&json!(true), &json!(5)));
    let t = trace(&app, code).await;
    let corrected: Vec<bool> = arr(&t["custody"])
        .iter()
        .map(|s| s["corrected"].as_bool().unwrap())
        .collect();
    assert_eq!(corrected, [false, false, true, false, false]);

    // Someone deletes the inspection event: the gap is found.
    let n = sql(
        &app,
        &format!("DELETE FROM trace_event WHERE {of_lot} AND seq = 2"),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let v = verify(&app, &c.regulator, &l).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["firstBadSeq"], 3);
    assert_eq!(v["eventsChecked"], 2);
    assert!(v["reason"].as_str().unwrap().contains("missing"), "{v}");
    assert_eq!(events(&app, owner, &l).await.len(), 4);

    // Farmers do not verify chains (nor read event logs).
    let r = app
        .gql(VERIFY, json!({ "id": l["id"] }), Some(&c.farmer))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .gql(EVENTS, json!({ "id": l["id"] }), Some(&c.farmer))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
}

/// A status column holds only its enum's values. A lot whose status was set to anything else
/// behind the API's back is an internal error wherever it is read (never read as sellable, never
/// a panic), the stored string is named in the database error, and the lot reads again once the
/// row is put right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_outside_its_enum_is_an_error_not_a_default() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let sku = offer(&d, |o| is_category(o, "FERTILISER"))["sku"]["id"].clone();
    let l = new_lot(&app, owner, &sku, "ENUM-1", -5, 100, "CONFORMANT").await;
    assert_eq!(l["status"], "ACTIVE");
    let code = l["traceCode"].as_str().unwrap();
    let set = |s: &str| format!("UPDATE lot SET status = '{s}' WHERE trace_code = '{code}'");

    assert_eq!(sql(&app, &set("DESTROYED")).await.unwrap(), 1);
    let r = app
        .gql(&with_lot(LOT_QUERY), json!({ "id": l["id"] }), Some(owner))
        .await;
    assert_eq!(r.error_code(), Some("INTERNAL"), "{:#}", r.body);
    assert!(
        !r.body.to_string().contains("DESTROYED"),
        "clients never see a database error's detail: {:#}",
        r.body
    );
    let r = app.gql(TRACE, json!({ "c": code }), None).await;
    assert_eq!(r.error_code(), Some("INTERNAL"), "{:#}", r.body);
    let e = lot::Entity::find()
        .filter(lot::Column::TraceCode.eq(code))
        .one(app.db())
        .await
        .expect_err("a stored string outside the enum does not read");
    assert!(
        matches!(e, sea_orm::DbErr::Type(ref m) if m.contains("DESTROYED")),
        "{e:?}"
    );
    // Case matters: the stored strings are exactly the enum's.
    sql(&app, &set("active")).await.unwrap();
    let r = app
        .gql(&with_lot(LOT_QUERY), json!({ "id": l["id"] }), Some(owner))
        .await;
    assert_eq!(r.error_code(), Some("INTERNAL"), "{:#}", r.body);

    sql(&app, &set("ON_HOLD")).await.unwrap();
    let back = q(
        &app,
        Some(owner),
        &with_lot(LOT_QUERY),
        json!({ "id": l["id"] }),
    )
    .await;
    assert_eq!(back["lot"]["status"], "ON_HOLD");
    assert_eq!(back["lot"]["disposition"], "ON_HOLD");
    assert_eq!(back["lot"]["sellable"], false);
}

// ---------------------------------------------------------------- negative stock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_stock_is_impossible() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let product = offer(&d, |o| is_category(o, "FERTILISER"))["sku"]["product"].clone();
    let sku = new_sku(&app, &c, &product["id"]).await;
    let l = new_lot(&app, owner, &sku, "NEG-1", -5, 200, "CONFORMANT").await;
    receive(&app, owner, &c.owner_dealer, &l, 3, 5000, "RK-NEG").await;
    let store_loc = row(
        &stock(&app, owner, &c.owner_dealer).await,
        &l,
        "DEALER_STORE",
    )["location"]["id"]
        .clone();
    let before = stock(&app, owner, &c.owner_dealer).await;
    let sales_before = ledger(&app, owner, &c.owner_dealer, "SALE", &day(-1), &day(0))
        .await
        .len();
    let count_sales = || async {
        arr(&q(&app, Some(owner), SALES, json!({ "d": c.owner_dealer })).await["sales"]).len()
    };
    let n_sales = count_sales().await;

    // Selling one more than there is.
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 4, "unitPriceFen": 6000 }] }),
    )
    .await;
    assert_eq!(s["sale"], Value::Null);
    assert_eq!(
        codes_of(&s["errors"]),
        [(
            "lines.0.quantity".to_owned(),
            "INSUFFICIENT_STOCK".to_owned()
        )]
    );
    assert!(
        s["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 available, 4 wanted")
    );
    // Two lines that fit one by one but not together: all or nothing.
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [
            { "skuId": sku, "quantity": 2, "unitPriceFen": 6000 },
            { "skuId": sku, "quantity": 2, "unitPriceFen": 6000 }] }),
    )
    .await;
    assert_eq!(
        codes_of(&s["errors"]),
        [(
            "lines.1.quantity".to_owned(),
            "INSUFFICIENT_STOCK".to_owned()
        )]
    );
    // Adjusting, destroying and shipping more than there is.
    let a = q_en(
        &app,
        owner,
        ADJUST,
        json!({ "i": { "dealerId": c.owner_dealer, "locationId": store_loc, "lotId": l["id"],
                        "delta": -4, "reason": "COUNT_CORRECTION", "note": "盘点" } }),
    )
    .await;
    assert_eq!(a["stockAdjust"]["ok"], false);
    assert_eq!(
        codes_of(&a["stockAdjust"]["errors"]),
        [("delta".to_owned(), "INSUFFICIENT_STOCK".to_owned())]
    );
    let x = q_en(
        &app,
        owner,
        DESTROY,
        json!({ "i": { "dealerId": c.owner_dealer, "locationId": store_loc, "lotId": l["id"],
                        "quantity": 4, "reason": "破损" } }),
    )
    .await;
    assert_eq!(
        codes_of(&x["stockDestroy"]["errors"]),
        [("quantity".to_owned(), "INSUFFICIENT_STOCK".to_owned())]
    );
    // Nothing moved, no sale or ledger line was left behind.
    assert_eq!(stock(&app, owner, &c.owner_dealer).await, before);
    assert_eq!(count_sales().await, n_sales);
    assert_eq!(
        ledger(&app, owner, &c.owner_dealer, "SALE", &day(-1), &day(0))
            .await
            .len(),
        sales_before
    );
    assert_eq!(steps(&events(&app, owner, &l).await).len(), 3);

    // The database refuses it too, whoever writes.
    let code = l["traceCode"].as_str().unwrap();
    let of_lot = format!("lot_id = (SELECT id FROM lot WHERE trace_code = '{code}')");
    let r = sql(
        &app,
        &format!("UPDATE stock SET on_hand = -1 WHERE {of_lot}"),
    )
    .await;
    assert!(
        r.is_err(),
        "the CHECK constraint refuses on_hand = -1: {r:?}"
    );
    let r = sql(
        &app,
        &format!("UPDATE stock SET reserved = on_hand + 1 WHERE {of_lot}"),
    )
    .await;
    assert!(
        r.is_err(),
        "the CHECK constraint refuses reserved > on hand: {r:?}"
    );
    assert_eq!(stock(&app, owner, &c.owner_dealer).await, before);

    // Exactly what there is may go: then nothing is available.
    let a = q_en(
        &app,
        owner,
        ADJUST,
        json!({ "i": { "dealerId": c.owner_dealer, "locationId": store_loc, "lotId": l["id"],
                        "delta": -3, "reason": "DAMAGE", "note": "雨淋受潮" } }),
    )
    .await;
    assert_eq!(a["stockAdjust"], json!({ "ok": true, "errors": [] }));
    assert_eq!(
        on_hand(
            &stock(&app, owner, &c.owner_dealer).await,
            &l,
            "DEALER_STORE"
        ),
        0
    );
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 1, "unitPriceFen": 6000 }] }),
    )
    .await;
    assert_eq!(s["errors"][0]["code"], "INSUFFICIENT_STOCK");
    assert!(
        s["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("0 available")
    );
    let ev = events(&app, owner, &l).await;
    let last = ev.last().unwrap();
    assert_eq!(last["bizStep"], "stock_taking");
    assert_eq!(last["disposition"], "damaged");
    assert_eq!(last["quantity"], -3);
}

// ---------------------------------------------------------------- CSV receipts

const CSV_HEADER: &str = "sku,lot_no,produced_on,expires_on,quantity,unit_cost,supplier_name,supplier_licence_no,supplier_contact,source_document";

fn csv_row(
    gtin: &str,
    lot_no: &str,
    produced: &str,
    expires: &str,
    qty: &str,
    doc: &str,
) -> String {
    format!(
        "{gtin},{lot_no},{produced},{expires},{qty},85.50,荆门市农业生产资料有限公司,(鄂)农资批发E2E-0001,0724-2345678,{doc}"
    )
}

async fn receive_csv(app: &TestApp, token: &str, dealer: &Value, csv: &str, policy: &str) -> Value {
    q_en(
        app,
        token,
        CSV,
        json!({ "d": dealer, "c": csv, "p": policy }),
    )
    .await["stockReceiveCsv"]
        .clone()
}

fn row_errors(p: &Value) -> Vec<(i64, Option<i64>, String, String)> {
    arr(&p["rowErrors"])
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_i64(),
                e["columnName"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn lot_numbers(app: &TestApp, token: &str, sku: &Value) -> BTreeSet<String> {
    arr(&q(app, Some(token), &with_lot(LOTS), json!({ "s": sku })).await["lots"])
        .iter()
        .map(|l| l["lotNo"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_csv_rows_are_reported_by_line_and_column_and_a_rejected_file_writes_nothing() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| {
        is_category(o, "FERTILISER") && o["sku"]["gtin"].is_string()
    })
    .clone();
    let (sku, gtin) = (&o["sku"]["id"], o["sku"]["gtin"].as_str().unwrap());
    let (p, e) = (day(-20), day(700));
    let file = [
        CSV_HEADER.to_owned(),
        csv_row(gtin, "CSV-OK", &p, &e, "12", "RK-CSV-001"),
        csv_row(gtin, "CSV-BAD1", "2025-13-45", &e, "5", "RK-CSV-002"),
        csv_row(gtin, "CSV-BAD2", &p, &e, "十二", "RK-CSV-003"),
    ]
    .join("\n");
    let expected_errors = vec![
        (
            3,
            Some(3),
            "produced_on".to_owned(),
            "INVALID_FORMAT".to_owned(),
        ),
        (
            4,
            Some(5),
            "quantity".to_owned(),
            "INVALID_FORMAT".to_owned(),
        ),
    ];
    let stock_before = stock(&app, owner, &c.owner_dealer).await;
    let purchases =
        || async { ledger(&app, owner, &c.owner_dealer, "PURCHASE", &day(-1), &day(0)).await };
    let purchases_before = purchases().await.len();

    // Reject all: every bad row named, nothing written.
    let r = receive_csv(&app, owner, &c.owner_dealer, &file, "REJECT_ALL").await;
    assert_eq!(r["committed"], false);
    assert_eq!(r["received"], json!([]));
    assert_eq!(r["lotsCreated"], 0);
    assert_eq!(row_errors(&r), expected_errors);
    assert!(
        r["rowErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2025-13-45")
    );
    assert!(!lot_numbers(&app, owner, sku).await.contains("CSV-OK"));
    assert_eq!(stock(&app, owner, &c.owner_dealer).await, stock_before);
    assert_eq!(purchases().await.len(), purchases_before);

    // Skip invalid: the good row only.
    let r = receive_csv(&app, owner, &c.owner_dealer, &file, "SKIP_INVALID").await;
    assert_eq!(r["committed"], true);
    assert_eq!(r["lotsCreated"], 1);
    assert_eq!(row_errors(&r), expected_errors);
    let got = arr(&r["received"]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["quantity"], 12);
    assert_eq!(got[0]["unitCostFen"], 8550);
    assert_eq!(got[0]["sourceDocument"], "RK-CSV-001");
    assert_eq!(got[0]["lot"]["lotNo"], "CSV-OK");
    let lots = lot_numbers(&app, owner, sku).await;
    assert!(lots.contains("CSV-OK"));
    assert!(!lots.contains("CSV-BAD1") && !lots.contains("CSV-BAD2"));
    let rows = stock(&app, owner, &c.owner_dealer).await;
    assert_eq!(on_hand(&rows, &got[0]["lot"], "DEALER_STORE"), 12);
    let lines = purchases().await;
    assert_eq!(lines.len(), purchases_before + 1);
    let line = lines.iter().find(|l| l["lotNo"] == "CSV-OK").unwrap();
    assert_eq!(
        (
            &line["quantity"],
            &line["unitPriceFen"],
            &line["sourceDocument"]
        ),
        (&json!(12), &json!(8550), &json!("RK-CSV-001"))
    );

    // A row that fails on the database (a known lot with other dates) rejects its whole file
    // too, including the good row before it.
    let stock_before = stock(&app, owner, &c.owner_dealer).await;
    let file = [
        CSV_HEADER.to_owned(),
        csv_row(gtin, "CSV-NEW", &p, &e, "2", "RK-CSV-004"),
        csv_row(gtin, "CSV-OK", &p, &day(720), "2", "RK-CSV-005"),
    ]
    .join("\n");
    let r = receive_csv(&app, owner, &c.owner_dealer, &file, "REJECT_ALL").await;
    assert_eq!(r["committed"], false);
    assert_eq!(r["received"], json!([]));
    assert_eq!(
        row_errors(&r),
        [(
            3,
            Some(4),
            "expires_on".to_owned(),
            "CODE_MISMATCH".to_owned()
        )]
    );
    assert!(!lot_numbers(&app, owner, sku).await.contains("CSV-NEW"));
    assert_eq!(stock(&app, owner, &c.owner_dealer).await, stock_before);

    // A missing column is reported on the header line.
    let r = receive_csv(
        &app,
        owner,
        &c.owner_dealer,
        "sku,lot_no,produced_on,expires_on,unit_cost,supplier_name,supplier_licence_no,supplier_contact,source_document\n",
        "REJECT_ALL",
    )
    .await;
    assert_eq!(
        row_errors(&r),
        [(1, None, "quantity".to_owned(), "REQUIRED".to_owned())]
    );

    // UTF-8 with a BOM and Chinese headers; errors name the Chinese column.
    let zh_header = "\u{feff}商品条码,批号,生产日期,有效期至,数量,单价,供货单位,供货单位许可证号,联系方式,来源单据,检验报告编号,检验机构,检验结果,检验日期";
    let zh_row = |lot_no: &str, qty: &str| {
        format!(
            "{gtin},{lot_no},{p},{e},{qty},\"1,200.5\",湖北农资集团,(鄂)农资批发E2E-0002,027-8888888,RK-ZH-01,JC-ZH-01,湖北省肥料质量监督检验站,合格,{}",
            day(-18)
        )
    };
    let bad = format!(
        "{zh_header}\n{}\n{}\n",
        zh_row("CSV-ZH1", "20"),
        zh_row("CSV-ZH2", "0")
    );
    let r = receive_csv(&app, owner, &c.owner_dealer, &bad, "REJECT_ALL").await;
    assert_eq!(r["committed"], false);
    assert_eq!(
        row_errors(&r),
        [(3, Some(5), "数量".to_owned(), "INVALID_FORMAT".to_owned())]
    );
    let good = format!("{zh_header}\n{}\n", zh_row("CSV-ZH1", "20"));
    let r = receive_csv(&app, owner, &c.owner_dealer, &good, "REJECT_ALL").await;
    assert_eq!(r["committed"], true, "{r:#}");
    assert_eq!(r["rowErrors"], json!([]));
    let got = &r["received"][0];
    assert_eq!(got["quantity"], 20);
    assert_eq!(got["unitCostFen"], 120_050);
    assert_eq!(got["lot"]["lotNo"], "CSV-ZH1");
    assert_eq!(got["lot"]["inspection"]["result"], "CONFORMANT");
    assert_eq!(got["lot"]["inspection"]["lab"], "湖北省肥料质量监督检验站");

    // The same import as a plain upload with a bearer token.
    let path = format!(
        "/dealers/{}/receipts.csv?policy=REJECT_ALL",
        c.owner_dealer.as_str().unwrap()
    );
    let post = |token: Option<&str>, body: String| {
        let mut r = app.client.post(app.url(&path)).body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let upload = format!(
        "{CSV_HEADER}\n{}\n",
        csv_row(gtin, "CSV-REST", &p, &e, "7", "RK-REST-001")
    );
    let resp = post(Some(owner), upload.clone()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            &body["committed"],
            &body["received"],
            &body["lotsCreated"],
            &body["rowErrors"]
        ),
        (&json!(true), &json!(1), &json!(1), &json!([])),
        "{body:#}"
    );
    let rest_lot = arr(&q(&app, Some(owner), &with_lot(LOTS), json!({ "s": sku })).await["lots"])
        .iter()
        .find(|l| l["lotNo"] == "CSV-REST")
        .expect("the uploaded lot")
        .clone();
    // The answer names each lot it received into, with the trace code for its labels.
    let receipt = &body["receipts"][0];
    assert_eq!(receipt["lotNo"], "CSV-REST", "{body:#}");
    assert_eq!(receipt["lotId"], rest_lot["id"]);
    assert_eq!(receipt["traceCode"], rest_lot["traceCode"]);
    assert!(receipt["traceCode"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(receipt["quantity"], 7);
    assert_eq!(
        on_hand(
            &stock(&app, owner, &c.owner_dealer).await,
            &rest_lot,
            "DEALER_STORE"
        ),
        7
    );
    let bad_upload = format!(
        "{CSV_HEADER}\n{}\n{}\n",
        csv_row(gtin, "CSV-REST2", &p, &e, "7", "RK-REST-002"),
        csv_row(gtin, "CSV-REST3", &p, "someday", "7", "RK-REST-003")
    );
    let resp = post(Some(owner), bad_upload.clone()).await.unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["committed"], false);
    assert_eq!(body["received"], 0);
    assert_eq!(body["rowErrors"][0]["line"], 3);
    assert_eq!(body["rowErrors"][0]["column"], 4);
    assert_eq!(body["rowErrors"][0]["columnName"], "expires_on");
    assert_eq!(body["rowErrors"][0]["code"], "INVALID_FORMAT");
    assert!(!lot_numbers(&app, owner, sku).await.contains("CSV-REST2"));
    assert_eq!(post(None, upload.clone()).await.unwrap().status(), 401);
    assert_eq!(
        post(Some(&c.staff), upload.clone()).await.unwrap().status(),
        403
    );
    assert_eq!(post(Some(&c.farmer), upload).await.unwrap().status(), 403);
}

/// Excel on Windows saves "CSV UTF-8" with a BOM and CRLF line ends: the lines named must be
/// the same as with LF (the header is line 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_rows_saved_with_crlf_line_ends_are_named_by_their_line() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| {
        is_category(o, "FERTILISER") && o["sku"]["gtin"].is_string()
    })
    .clone();
    let gtin = o["sku"]["gtin"].as_str().unwrap();
    let (p, e) = (day(-20), day(700));
    let rows = [
        format!("\u{feff}{CSV_HEADER}"),
        csv_row(gtin, "CRLF-OK", &p, &e, "12", "RK-CRLF-001"),
        csv_row(gtin, "CRLF-BAD1", "2025-13-45", &e, "5", "RK-CRLF-002"),
        csv_row(gtin, "CRLF-BAD2", &p, &e, "十二", "RK-CRLF-003"),
    ];
    let expected = vec![
        (
            3,
            Some(3),
            "produced_on".to_owned(),
            "INVALID_FORMAT".to_owned(),
        ),
        (
            4,
            Some(5),
            "quantity".to_owned(),
            "INVALID_FORMAT".to_owned(),
        ),
    ];
    let lf = receive_csv(&app, owner, &c.owner_dealer, &rows.join("\n"), "REJECT_ALL").await;
    assert_eq!(row_errors(&lf), expected, "LF");
    let crlf = receive_csv(
        &app,
        owner,
        &c.owner_dealer,
        &format!("{}\r\n", rows.join("\r\n")),
        "REJECT_ALL",
    )
    .await;
    assert_eq!(crlf["committed"], false);
    assert_eq!(row_errors(&crlf), expected, "CRLF");
}

/// A receipt file of `n` rows over one pack, each a new lot `{tag}{i}`, the last with `last`
/// as its quantity and `last_expiry` as its expiry.
fn receipt_file(gtin: &str, tag: &str, n: usize, last: &str, last_expiry: &str) -> String {
    let (p, e) = (day(-20), day(700));
    let mut rows = vec![CSV_HEADER.to_owned()];
    for i in 0..n {
        let (qty, exp) = if i + 1 == n {
            (last.to_owned(), last_expiry.to_owned())
        } else {
            ((1 + i % 9).to_string(), e.clone())
        };
        rows.push(csv_row(
            gtin,
            &format!("{tag}{i:05}"),
            &p,
            &exp,
            &qty,
            &format!("RK-{tag}-{i}"),
        ));
    }
    rows.join("\n")
}

/// A receipt file uploaded to `receipts.csv` (REJECT_ALL), messages in `lang`: the response.
async fn upload_receipts(
    app: &TestApp,
    token: &str,
    dealer: &Value,
    file: &str,
    lang: &str,
) -> Value {
    let path = format!(
        "/dealers/{}/receipts.csv?policy=REJECT_ALL&lang={lang}",
        dealer.as_str().unwrap()
    );
    let resp = app
        .client
        .post(app.url(&path))
        .bearer_auth(token)
        .body(file.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        status,
        if body["committed"] == true { 200 } else { 422 },
        "{body:#}"
    );
    body
}

/// Issue 14: checking a receipt file reads the packs and lots of the whole file in a few
/// statements, so a file of 2 000 rows costs the same SQL as one of 20, whether its bad last
/// row is refused by the format check or by the database check (a lot already recorded with
/// other dates).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checking_a_csv_receipt_costs_the_same_sql_for_20_or_2000_rows() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| {
        is_category(o, "FERTILISER") && o["sku"]["gtin"].is_string()
    })
    .clone();
    let gtin = o["sku"]["gtin"].as_str().unwrap();
    // A lot the files name again on their last line, with another expiry.
    let known = [
        CSV_HEADER.to_owned(),
        csv_row(gtin, "SQL-KNOWN", &day(-20), &day(700), "1", "RK-SQL-0"),
    ]
    .join("\n");
    let r = receive_csv(&app, owner, &c.owner_dealer, &known, "REJECT_ALL").await;
    assert_eq!(r["committed"], true, "{r:#}");
    let mut counts = vec![];
    for n in [20, 2000, 20] {
        for (what, file, code) in [
            (
                "format",
                receipt_file(gtin, "SQLF", n, "十二", &day(700)),
                "INVALID_FORMAT",
            ),
            (
                "database",
                receipt_file(gtin, "SQLD", n, "3", &day(720))
                    .replace(&format!("SQLD{:05}", n - 1), "SQL-KNOWN"),
                "CODE_MISMATCH",
            ),
        ] {
            let before = app.statements();
            let r = upload_receipts(&app, owner, &c.owner_dealer, &file, "en").await;
            let sql = app.statements() - before;
            assert_eq!(r["committed"], false);
            let errs = row_errors(&r);
            assert_eq!(errs.len(), 1, "{what} {n}: {errs:?}");
            assert_eq!(
                (errs[0].0, errs[0].3.as_str()),
                (n as i64 + 1, code),
                "{what} {n}"
            );
            println!("{what}, {n} rows: {sql} SQL statements");
            counts.push((what, n, sql));
        }
    }
    for what in ["format", "database"] {
        let of: Vec<u64> = counts.iter().filter(|c| c.0 == what).map(|c| c.2).collect();
        assert!(
            of.iter().all(|n| *n == of[0]),
            "statements vary with the rows ({what} check): {counts:?}"
        );
    }
}

/// Issue 14: a large file whose last row is bad is refused as a whole, naming that row's line
/// and column in both languages, and writes nothing; the same file with the row mended goes
/// in whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_csv_receipt_with_a_bad_last_row_names_it_and_writes_nothing() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| {
        is_category(o, "FERTILISER") && o["sku"]["gtin"].is_string()
    })
    .clone();
    let (sku, gtin) = (&o["sku"]["id"], o["sku"]["gtin"].as_str().unwrap());
    let n = 3000;
    let stock_before = stock(&app, owner, &c.owner_dealer).await;
    let purchases =
        || async { ledger(&app, owner, &c.owner_dealer, "PURCHASE", &day(-1), &day(0)).await };
    let purchases_before = purchases().await.len();
    // CRLF line ends, as Excel saves them: the line is still the file's.
    let file = receipt_file(gtin, "BIG", n, "1000001", &day(700)).replace('\n', "\r\n");
    let zh = upload_receipts(&app, owner, &c.owner_dealer, &file, "zh").await;
    let en = upload_receipts(&app, owner, &c.owner_dealer, &file, "en").await;
    for r in [&zh, &en] {
        assert_eq!(r["committed"], false);
        assert_eq!(r["received"], 0);
        assert_eq!(r["lotsCreated"], 0);
        assert_eq!(
            row_errors(r),
            [(
                n as i64 + 1,
                Some(5),
                "quantity".to_owned(),
                "INVALID_FORMAT".to_owned()
            )]
        );
    }
    assert!(
        zh["rowErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("数量“1000001”"),
        "{zh:#}"
    );
    assert!(
        en["rowErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("quantity \"1000001\""),
        "{en:#}"
    );
    let lots = lot_numbers(&app, owner, sku).await;
    assert!(
        !lots.iter().any(|l| l.starts_with("BIG")),
        "nothing written"
    );
    assert_eq!(stock(&app, owner, &c.owner_dealer).await, stock_before);
    assert_eq!(purchases().await.len(), purchases_before);

    // Mended, it goes in whole: every lot, its stock and its purchase line.
    let file = receipt_file(gtin, "BIG", n, "7", &day(700));
    let r = upload_receipts(&app, owner, &c.owner_dealer, &file, "en").await;
    assert_eq!(r["committed"], true);
    assert_eq!(r["lotsCreated"], n);
    assert_eq!(r["received"], n);
    assert_eq!(row_errors(&r), []);
    let lots = lot_numbers(&app, owner, sku).await;
    assert_eq!(lots.iter().filter(|l| l.starts_with("BIG")).count(), n);
    assert_eq!(purchases().await.len(), purchases_before + n);

    // A lot received before and one named twice in a file: each chain goes on in order
    // (commissioning, inspection, then one receiving event per row), every chain verifies, and
    // the store holds the sum.
    let (p, e) = (day(-20), day(700));
    let file = [
        format!(
            "{CSV_HEADER},inspection_report_no,inspection_lab,inspection_result,inspection_date"
        ),
        format!(
            "{},JC-1,湖北省肥料质量监督检验站,合格,{}",
            csv_row(gtin, "TWICE", &p, &e, "4", "RK-T-1"),
            day(-19)
        ),
        format!("{},,,,", csv_row(gtin, "BIG00000", &p, &e, "5", "RK-T-2")),
        format!(
            "{},JC-1,湖北省肥料质量监督检验站,合格,{}",
            csv_row(gtin, "TWICE", &p, &e, "6", "RK-T-3"),
            day(-19)
        ),
    ]
    .join("\n");
    let r = upload_receipts(&app, owner, &c.owner_dealer, &file, "en").await;
    assert_eq!(
        (&r["committed"], &r["lotsCreated"], &r["received"]),
        (&json!(true), &json!(1), &json!(3)),
        "{r:#}"
    );
    let db = app.db();
    let steps = |lot_no: &'static str| async move {
        let l = lot::Entity::find()
            .filter(lot::Column::LotNo.eq(lot_no))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let admin = domain::accounts::Actor {
            user_id: 0,
            role: domain::accounts::Role::Admin,
            dealer_id: None,
            dealer_role: None,
            county_ids: vec![],
            station_id: None,
            assisted_by: None,
        };
        let v = domain::lots::trace::verify(db, &admin, l.id).await.unwrap();
        assert!(v.ok, "{lot_no}: {v:?}");
        let ev = domain::lots::trace::events_of(db, l.id).await.unwrap();
        let steps: Vec<(i64, String, i64)> = ev
            .iter()
            .map(|e| (e.seq, e.biz_step.as_str().to_owned(), e.quantity))
            .collect();
        (l, steps)
    };
    let (twice, got) = steps("TWICE").await;
    assert_eq!(
        got,
        [
            (1, "commissioning".to_owned(), 0),
            (2, "inspecting".to_owned(), 0),
            (3, "receiving".to_owned(), 4),
            (4, "receiving".to_owned(), 6)
        ]
    );
    let (_, got) = steps("BIG00000").await;
    assert_eq!(
        got,
        [
            (1, "commissioning".to_owned(), 0),
            (2, "receiving".to_owned(), 1),
            (3, "receiving".to_owned(), 5)
        ]
    );
    let rows = stock(&app, owner, &c.owner_dealer).await;
    let twice = {
        use base64::Engine;
        json!({ "id": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Lot:{}", twice.id)) })
    };
    assert_eq!(on_hand(&rows, &twice, "DEALER_STORE"), 10);
    let lines = purchases().await;
    let of_twice: Vec<_> = lines.iter().filter(|l| l["lotNo"] == "TWICE").collect();
    assert_eq!(of_twice.len(), 2);
    assert!(of_twice.iter().all(|l| l["unitPriceFen"] == 8550));
}

// ---------------------------------------------------------------- pesticide unit codes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pesticide_code_whose_digits_do_not_match_its_registration_is_refused() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| {
        is_category(o, "PESTICIDE")
            && o["sku"]["product"]["restrictedUse"] == false
            && o["sku"]["product"]["registrationNo"]
                .as_str()
                .is_some_and(|r| r.starts_with("PD"))
    })
    .clone();
    let sku = &o["sku"]["id"];
    let reg = o["sku"]["product"]["registrationNo"].as_str().unwrap();
    // Announcement 2579: 1 = PD, digits 2-7 = the last six of the registration number.
    let last6 = &reg[4..10];
    let wrong6 = if last6 == "999999" {
        "888888"
    } else {
        "999999"
    };
    let code = |six: &str, n: u32| format!("1{six}1001{:021}", 770_000 + n);
    let (good1, good2, good3) = (code(last6, 1), code(last6, 2), code(last6, 3));
    let bad = code(wrong6, 4);
    assert_eq!(good1.len(), 32);

    let l = new_lot(&app, owner, sku, "PCODE-1", -30, 300, "CONFORMANT").await;
    let add = |lot: Value, codes: Vec<String>| {
        let app = &app;
        async move {
            q_en(
                app,
                owner,
                &with_lot(ADD_CODES),
                json!({ "l": lot["id"], "c": codes }),
            )
            .await["lotAddUnitCodes"]
                .clone()
        }
    };
    let r = add(l.clone(), vec![bad.clone()]).await;
    assert_eq!(r["lot"], Value::Null);
    assert_eq!(
        codes_of(&r["errors"]),
        [("unitCodes.0".to_owned(), "CODE_MISMATCH".to_owned())]
    );
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains(wrong6) && msg.contains(last6), "{msg}");
    // A good code next to a bad one: nothing is written.
    let r = add(l.clone(), vec![good1.clone(), bad.clone()]).await;
    assert_eq!(
        codes_of(&r["errors"]),
        [("unitCodes.1".to_owned(), "CODE_MISMATCH".to_owned())]
    );
    // Wrong category digit, or too short.
    let r = add(
        l.clone(),
        vec![format!("2{}", &good3[1..]), good3[..31].to_owned()],
    )
    .await;
    assert_eq!(
        codes_of(&r["errors"]),
        [
            ("unitCodes.0".to_owned(), "CODE_MISMATCH".to_owned()),
            ("unitCodes.1".to_owned(), "INVALID_FORMAT".to_owned())
        ]
    );
    let now = q(
        &app,
        Some(owner),
        &with_lot(LOT_QUERY),
        json!({ "id": l["id"] }),
    )
    .await;
    assert_eq!(now["lot"]["unitCodes"], json!([]));

    // Matching codes are accepted.
    let r = add(l.clone(), vec![good1.clone(), good2.clone()]).await;
    assert_no_errors(&r);
    let codes: Vec<(&Value, &Value, &Value)> = arr(&r["lot"]["unitCodes"])
        .iter()
        .map(|u| (&u["code"], &u["kind"], &u["status"]))
        .collect();
    assert_eq!(
        codes,
        [
            (&json!(good1), &json!("PESTICIDE"), &json!("ACTIVE")),
            (&json!(good2), &json!("PESTICIDE"), &json!("ACTIVE"))
        ]
    );
    // Codes are unique forever: not again on this lot, nor on a new one (which is then not
    // created at all).
    let r = add(l.clone(), vec![good1.clone()]).await;
    assert_eq!(
        codes_of(&r["errors"]),
        [("unitCodes.0".to_owned(), "DUPLICATE".to_owned())]
    );
    let r = q_en(
        &app,
        owner,
        &with_lot(LOT_CREATE),
        json!({ "i": { "skuId": sku, "lotNo": "PCODE-2", "producedOn": day(-30), "expiresOn": day(300),
                       "unitCodes": [good3, good2] } }),
    )
    .await;
    assert_eq!(
        codes_of(&r["lotCreate"]["errors"]),
        [("unitCodes.1".to_owned(), "DUPLICATE".to_owned())]
    );
    assert!(!lot_numbers(&app, owner, sku).await.contains("PCODE-2"));

    // Sold with its code scanned: the code is sold, the sale event carries it.
    receive(&app, owner, &c.owner_dealer, &l, 5, 1500, "RK-PCODE").await;
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 1 }],
                "unitCodes": [good1] }),
    )
    .await;
    assert_no_errors(&s);
    assert_eq!(s["sale"]["lines"][0]["lot"]["id"], l["id"]);
    let ev = events(&app, owner, &l).await;
    assert_eq!(ev.last().unwrap()["unitCodes"], json!([good1]));
    let t = trace(&app, &good1).await;
    assert_eq!(t["unitCode"], good1);
    assert_eq!(t["unitStatus"], "SOLD");
    assert_eq!(t["unitFlagged"], false);
    assert_eq!(t["lotNo"], "PCODE-1");
    let t2 = trace(&app, &good2).await;
    assert_eq!(t2["unitStatus"], "ACTIVE");

    // Scanned again: refused and flagged as a possible counterfeit; stock untouched.
    let before = stock(&app, owner, &c.owner_dealer).await;
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 1 }],
                "unitCodes": [good1] }),
    )
    .await;
    assert_eq!(s["sale"], Value::Null);
    assert_eq!(
        codes_of(&s["errors"]),
        [("unitCodes.0".to_owned(), "CODE_ALREADY_SOLD".to_owned())]
    );
    assert_eq!(stock(&app, owner, &c.owner_dealer).await, before);
    // A code of another lot of the same pack, and an unknown code, are refused too.
    let other = arr(&q(&app, Some(owner), &with_lot(LOTS), json!({ "s": sku })).await["lots"])
        .iter()
        .find(|x| x["id"] != l["id"] && !arr(&x["unitCodes"]).is_empty())
        .expect("the demo lot of the pack has unit codes")
        .clone();
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 1 }],
                "unitCodes": [other["unitCodes"][0]["code"]] }),
    )
    .await;
    assert_eq!(
        codes_of(&s["errors"]),
        [("unitCodes.0".to_owned(), "CODE_MISMATCH".to_owned())]
    );
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku, "quantity": 1 }],
                "unitCodes": [code(last6, 99)] }),
    )
    .await;
    assert_eq!(
        codes_of(&s["errors"]),
        [("unitCodes.0".to_owned(), "UNKNOWN_REFERENCE".to_owned())]
    );
    assert_eq!(stock(&app, owner, &c.owner_dealer).await, before);

    // The flag stays although the sale failed: the public trace warns whoever scans it.
    let t = trace(&app, &good1).await;
    assert_eq!(
        t["unitFlagged"], true,
        "a sold code scanned again is flagged"
    );
    let page = get(&app, &format!("/t/{good1}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("假冒"), "the page warns of counterfeits");
    let now = q(
        &app,
        Some(owner),
        &with_lot(LOT_QUERY),
        json!({ "id": l["id"] }),
    )
    .await;
    let u = arr(&now["lot"]["unitCodes"])
        .iter()
        .find(|u| u["code"] == good1)
        .unwrap()
        .clone();
    assert_eq!(u["status"], "SOLD");
    assert!(u["flaggedAt"].is_string());
    assert!(u["flagReason"].is_string());
}

/// Two counter sales of the same two packs, typed in opposite orders, at the same moment: each
/// takes stock pack by pack in one order, so neither waits on the other (on PostgreSQL the
/// opposite orders once deadlocked and one sale failed as an internal error).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counter_sales_of_the_same_packs_in_opposite_orders_both_go_through() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let fert: Vec<Value> = arr(&d["offers"])
        .iter()
        .filter(|o| is_category(o, "FERTILISER"))
        .take(2)
        .cloned()
        .collect();
    assert_eq!(fert.len(), 2, "two fertiliser offers");
    let (a, b) = (&fert[0]["sku"]["id"], &fert[1]["sku"]["id"]);
    for (sku, n) in [(a, "A"), (b, "B")] {
        let l = new_lot(
            &app,
            owner,
            sku,
            &format!("LOCK-{n}"),
            -10,
            300,
            "CONFORMANT",
        )
        .await;
        receive(
            &app,
            owner,
            &c.owner_dealer,
            &l,
            200,
            9000,
            &format!("RK-LOCK-{n}"),
        )
        .await;
    }
    let line = |sku: &Value| json!({ "skuId": sku, "quantity": 1 });
    for round in 0..8 {
        let ab = json!({ "dealerId": c.owner_dealer, "lines": [line(a), line(b)] });
        let ba = json!({ "dealerId": c.owner_dealer, "lines": [line(b), line(a)] });
        let (x, y) = tokio::join!(sell(&app, owner, ab), sell(&app, owner, ba));
        for s in [&x, &y] {
            assert_no_errors(s);
            assert_eq!(arr(&s["sale"]["lines"]).len(), 2, "round {round}: {s:#}");
        }
    }
}

/// The counterfeit case the unit codes exist for: one code sold at two dealers at the same
/// moment. Exactly one sale may take it (the code's state changes only if it is still unsold);
/// the other is refused as CODE_ALREADY_SOLD with its stock untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_unit_code_sold_at_two_dealers_at_once_is_sold_once() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let (owner, staff) = (c.owner.as_str(), c.staff.as_str());
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| {
        is_category(o, "PESTICIDE")
            && o["sku"]["product"]["restrictedUse"] == false
            && o["sku"]["product"]["registrationNo"]
                .as_str()
                .is_some_and(|r| r.starts_with("PD"))
    })
    .clone();
    let sku = &o["sku"]["id"];
    let reg = o["sku"]["product"]["registrationNo"].as_str().unwrap();
    let last6 = &reg[4..10];
    const ROUNDS: u32 = 6;
    let codes: Vec<String> = (0..ROUNDS)
        .map(|n| format!("1{last6}1001{:021}", 880_000 + n))
        .collect();
    let l = new_lot(&app, owner, sku, "PRACE-1", -30, 300, "CONFORMANT").await;
    let r = q_en(
        &app,
        owner,
        &with_lot(ADD_CODES),
        json!({ "l": l["id"], "c": codes }),
    )
    .await;
    assert_no_errors(&r["lotAddUnitCodes"]);
    // The lot's units at both dealers, as a diverted or copied bag would be.
    receive(&app, owner, &c.owner_dealer, &l, 20, 1500, "RK-RACE-A").await;
    receive(&app, staff, &c.staff_dealer, &l, 20, 1500, "RK-RACE-B").await;
    let before = (
        stock(&app, owner, &c.owner_dealer).await,
        stock(&app, staff, &c.staff_dealer).await,
    );
    let sale = |token: &str, dealer: Value, code: String| {
        let app = &app;
        let sku = sku.clone();
        let token = token.to_owned();
        async move {
            sell(
                app,
                &token,
                json!({ "dealerId": dealer, "lines": [{ "skuId": sku, "quantity": 1, "unitPriceFen": 1800 }],
                        "unitCodes": [code] }),
            )
            .await
        }
    };
    let mut sold = 0;
    for code in &codes {
        let (a, b) = tokio::join!(
            sale(owner, c.owner_dealer.clone(), code.clone()),
            sale(staff, c.staff_dealer.clone(), code.clone())
        );
        let ok: Vec<&Value> = [&a, &b]
            .into_iter()
            .filter(|s| !s["sale"].is_null())
            .collect();
        assert_eq!(
            ok.len(),
            1,
            "code {code} sold {} times: {a:#} {b:#}",
            ok.len()
        );
        let refused = if a["sale"].is_null() { &a } else { &b };
        assert_eq!(
            codes_of(&refused["errors"]),
            [("unitCodes.0".to_owned(), "CODE_ALREADY_SOLD".to_owned())],
            "{refused:#}"
        );
        assert_eq!(trace(&app, code).await["unitStatus"], "SOLD");
        sold += 1;
    }
    // Each code went out once: ROUNDS units left the two dealers in all, no more.
    let on = |rows: &[Value]| on_hand(rows, &l, "DEALER_STORE");
    let after = (
        stock(&app, owner, &c.owner_dealer).await,
        stock(&app, staff, &c.staff_dealer).await,
    );
    assert_eq!(
        on(&before.0) + on(&before.1) - on(&after.0) - on(&after.1),
        sold
    );
}

// ---------------------------------------------------------------- the public trace

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_trace_never_shows_a_buyer() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;

    // Besides the demo sales, a named buyer with phone and ID number buys a pesticide bag.
    let o = offer(&d, |o| {
        is_category(o, "PESTICIDE") && o["sku"]["product"]["restrictedUse"] == false
    })
    .clone();
    let buyer_id = id_number(c.n());
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": o["sku"]["id"], "quantity": 1 }],
                "buyer": { "name": "赵铁柱", "phone": "13911112222", "idNumber": buyer_id,
                           "villageId": c.farmer_me["village"]["id"] } }),
    )
    .await;
    assert_no_errors(&s);

    // Every buyer's name, phone and ID number, and every lot sold, as an admin sees them.
    let mut secrets = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let dealers = q(&app, None, "{ dealers { id } }", json!({})).await;
    for dl in arr(&dealers["dealers"]) {
        let sales = q(&app, Some(&c.admin), SALES, json!({ "d": dl["id"] })).await;
        for sale in arr(&sales["sales"]) {
            for k in ["buyerName", "buyerPhone", "buyerIdNumber"] {
                if let Some(v) = sale[k].as_str().filter(|v| !v.is_empty()) {
                    secrets.insert(v.to_owned());
                }
            }
            for l in arr(&sale["lines"]) {
                codes.insert(l["lot"]["traceCode"].as_str().unwrap().to_owned());
            }
        }
    }
    for s in ["赵铁柱", "13911112222", buyer_id.as_str()] {
        assert!(secrets.contains(s));
    }
    assert!(secrets.len() >= 5, "the demo has named buyers: {secrets:?}");
    assert!(codes.len() >= 2, "{codes:?}");
    let sold_unit = {
        let l = s["sale"]["lines"][0]["lot"]["id"].clone();
        let lot = q(&app, Some(owner), &with_lot(LOT_QUERY), json!({ "id": l })).await;
        lot["lot"]["unitCodes"][0]["code"]
            .as_str()
            .expect("demo pesticide lots have unit codes")
            .to_owned()
    };
    codes.insert(sold_unit.clone());

    let leaks = |text: &str| -> Vec<String> {
        secrets
            .iter()
            .filter(|s| text.contains(s.as_str()))
            .cloned()
            .collect()
    };
    for code in &codes {
        // No token needed.
        let t = trace(&app, code).await;
        assert!(t.is_object(), "trace of {code}: {t}");
        assert!(!t["productName"].as_str().unwrap().is_empty());
        assert!(!t["producerName"].as_str().unwrap().is_empty());
        assert!(!t["lotNo"].as_str().unwrap().is_empty());
        assert!(t["producedOn"].is_string() && t["expiresOn"].is_string());
        assert_eq!(t["inspection"]["result"], "CONFORMANT");
        assert!(t["inspection"]["reportNo"].is_string());
        if t["category"] == "PESTICIDE" {
            assert!(t["registrationNo"].is_string(), "{t}");
        }
        let steps: Vec<&str> = arr(&t["custody"])
            .iter()
            .map(|s| s["bizStep"].as_str().unwrap())
            .collect();
        assert_eq!(steps[0], "commissioning");
        assert_eq!(t["custody"][0]["placeKind"], "PRODUCER");
        assert!(steps.contains(&"receiving"));
        assert!(
            steps.contains(&"retail_selling"),
            "{code} was sold: {steps:?}"
        );
        for s in arr(&t["custody"]) {
            if s["bizStep"] == "retail_selling" {
                assert!(
                    s["placeKind"] == "DEALER_STORE" || s["placeKind"] == "STATION",
                    "a sale shows the shop: {s}"
                );
            }
        }
        assert_eq!(
            leaks(&t.to_string()),
            Vec::<String>::new(),
            "the public trace of {code} shows a buyer"
        );

        // The page: zh-CN by default, English on request; no buyer either.
        let resp = get(&app, &format!("/t/{code}"), None).await;
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = resp.text().await.unwrap();
        assert!(page.contains("lang=\"zh-CN\""));
        assert!(page.contains("生产企业") && page.contains("流通记录"));
        assert!(page.contains(t["lotNo"].as_str().unwrap()));
        assert!(page.contains(t["productNameZh"].as_str().unwrap()));
        assert_eq!(leaks(&page), Vec::<String>::new(), "the page of {code}");
        let en = app
            .client
            .get(app.url(&format!("/t/{code}")))
            .header("accept-language", "en-US,en;q=0.9")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(en.contains("lang=\"en\""));
        assert!(en.contains("Producer") && en.contains("Chain of custody"));
        assert_eq!(leaks(&en), Vec::<String>::new());
    }
    let t = trace(&app, &sold_unit).await;
    assert_eq!(t["unitCode"], sold_unit);
    assert_eq!(t["unitStatus"], "ACTIVE");
    let en = get(&app, &format!("/t/{sold_unit}?lang=en"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(en.contains("Unit code"));

    // Unknown codes: null in GraphQL, 404 on the page and for the QR code.
    assert_eq!(trace(&app, "NOSUCHCODE000").await, Value::Null);
    let resp = get(&app, "/t/NOSUCHCODE000", None).await;
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("没有找到这个追溯码"));
    assert_eq!(
        get(&app, "/t/NOSUCHCODE000/qr.png", None).await.status(),
        404
    );

    // The QR code of a lot, as PNG and SVG.
    let code = codes.iter().next().unwrap();
    let resp = get(&app, &format!("/t/{code}/qr.png"), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".png")
    );
    let png = resp.bytes().await.unwrap();
    assert!(png.starts_with(PNG), "a PNG file");
    assert!(png.len() > 200);
    let resp = get(&app, &format!("/t/{code}/qr.svg"), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/svg+xml");
    let svg = resp.text().await.unwrap();
    assert!(svg.contains("<svg"), "{svg}");
}

// ---------------------------------------------------------------- restricted-use sales

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_use_pesticides_need_a_real_name_buyer_a_licence_and_a_registered_use() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let sd = dealer(&app, &c.staff, &c.staff_dealer).await;
    assert_eq!(d["restrictedUseLicensed"], true);
    assert_eq!(sd["restrictedUseLicensed"], false);
    let o = offer(&d, |o| o["sku"]["product"]["restrictedUse"] == true).clone();
    let sku = &o["sku"]["id"];
    let product = &o["sku"]["product"];
    let registered = &product["pesticide"]["uses"][0];
    let (crop, target) = (
        registered["crop"].as_str().unwrap(),
        registered["targetZh"].as_str().unwrap(),
    );
    let before: i64 = stock_of(&app, owner, &c.owner_dealer, &product["id"])
        .await
        .iter()
        .filter(|r| r["sku"]["id"] == *sku && r["location"]["kind"] == "DEALER_STORE")
        .map(|r| r["available"].as_i64().unwrap())
        .sum();
    assert!(before > 0);
    let line = json!([{ "skuId": sku, "quantity": 1 }]);
    let idn = id_number(c.n());
    let buyer = json!({ "name": "钱多多", "phone": "13911113333", "idNumber": idn });
    let attempt = |dealer: &Value, buyer: Value, crop: Option<&str>, target: Option<&str>| json!({ "dealerId": dealer, "lines": line, "buyer": buyer, "crop": crop, "target": target });

    // No real-name buyer: refused, even with a registered use.
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": line, "crop": crop, "target": target }),
    )
    .await;
    assert_eq!(
        codes_of(&s["errors"]),
        [("buyer.idNumber".to_owned(), "REAL_NAME_REQUIRED".to_owned())]
    );
    let s = sell(
        &app,
        owner,
        attempt(
            &c.owner_dealer,
            json!({ "name": "钱多多", "phone": "13911113333" }),
            Some(crop),
            Some(target),
        ),
    )
    .await;
    assert_eq!(s["errors"][0]["code"], "REAL_NAME_REQUIRED");
    // A farmer account without real-name data is no better.
    let s = sell(
        &app,
        owner,
        attempt(
            &c.owner_dealer,
            json!({ "userId": c.farmer2_me["id"] }),
            Some(crop),
            Some(target),
        ),
    )
    .await;
    assert_eq!(s["errors"][0]["code"], "REAL_NAME_REQUIRED");
    // A use it is not registered for, or none.
    let s = sell(
        &app,
        owner,
        attempt(
            &c.owner_dealer,
            buyer.clone(),
            Some(crop),
            Some("不存在的害虫"),
        ),
    )
    .await;
    assert_eq!(
        codes_of(&s["errors"]),
        [("target".to_owned(), "UNREGISTERED_USE".to_owned())]
    );
    let s = sell(
        &app,
        owner,
        attempt(&c.owner_dealer, buyer.clone(), None, None),
    )
    .await;
    assert_eq!(
        codes_of(&s["errors"]),
        [("crop".to_owned(), "UNREGISTERED_USE".to_owned())]
    );
    // A dealer without the restricted-use licence, with everything else right.
    let mut input = attempt(&c.staff_dealer, buyer.clone(), Some(crop), Some(target));
    input["lines"][0]["unitPriceFen"] = json!(3000);
    let s = sell(&app, &c.staff, input).await;
    assert_eq!(
        codes_of(&s["errors"]),
        [("lines.0.skuId".to_owned(), "LICENCE_REQUIRED".to_owned())]
    );
    let available = || async {
        stock_of(&app, owner, &c.owner_dealer, &product["id"])
            .await
            .iter()
            .filter(|r| r["sku"]["id"] == *sku && r["location"]["kind"] == "DEALER_STORE")
            .map(|r| r["available"].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(available().await, before, "refused sales take nothing");

    // All correct: sold, and the sales ledger names the buyer with ID and use.
    let s = sell(
        &app,
        owner,
        attempt(&c.owner_dealer, buyer.clone(), Some(crop), Some(target)),
    )
    .await;
    assert_no_errors(&s);
    let sale = &s["sale"];
    assert_eq!(sale["buyerName"], "钱多多");
    assert_eq!(sale["crop"], crop);
    assert_eq!(sale["target"], target);
    assert_eq!(sale["totalFen"], o["priceFen"]);
    assert_eq!(available().await, before - 1);
    let lot_no = sale["lines"][0]["lot"]["lotNo"].clone();
    let lines = ledger(&app, owner, &c.owner_dealer, "SALE", &day(0), &day(0)).await;
    let l = lines
        .iter()
        .find(|l| l["counterpartyName"] == "钱多多")
        .expect("a sales-ledger line for the buyer");
    assert_eq!(l["lotNo"], lot_no);
    assert_eq!(l["quantity"], 1);
    assert_eq!(l["counterpartyContact"], "13911113333");
    assert_eq!(l["registrationNo"], product["registrationNo"]);
    assert_eq!(l["note"], format!("{crop}/{target}"));
    let masked = l["counterpartyIdNumber"].as_str().unwrap();
    assert_eq!(
        masked,
        format!("{}{}{}", &idn[..4], "*".repeat(10), &idn[14..])
    );
    let lines = ledger(
        &app,
        &c.regulator,
        &c.owner_dealer,
        "SALE",
        &day(0),
        &day(0),
    )
    .await;
    let l = lines
        .iter()
        .find(|l| l["counterpartyName"] == "钱多多")
        .unwrap();
    assert_eq!(l["counterpartyIdNumber"], idn);

    // The real-name farmer's account is enough on its own.
    let s = sell(
        &app,
        owner,
        attempt(
            &c.owner_dealer,
            json!({ "userId": c.farmer_me["id"] }),
            Some(crop),
            Some(target),
        ),
    )
    .await;
    assert_no_errors(&s);
    assert_eq!(s["sale"]["buyerName"], c.farmer_me["realName"]);
}

// ---------------------------------------------------------------- dispositions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_failed_inspections_and_expiry_make_a_lot_unsellable() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let reg = c.regulator.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let product = offer(&d, |o| is_category(o, "FERTILISER"))["sku"]["product"].clone();
    let sku = new_sku(&app, &c, &product["id"]).await;
    let sell_one = |n: i64| {
        let (app, sku, dealer) = (&app, sku.clone(), c.owner_dealer.clone());
        async move {
            sell(
                app,
                owner,
                json!({ "dealerId": dealer, "lines": [{ "skuId": sku, "quantity": n, "unitPriceFen": 7000 }] }),
            )
            .await
        }
    };

    // A lot that failed inspection is on hold from the start, though it expires first.
    let bad = new_lot(&app, owner, &sku, "DISP-NC", -20, 100, "NON_CONFORMANT").await;
    assert_eq!(bad["status"], "ON_HOLD");
    assert_eq!(bad["disposition"], "ON_HOLD");
    assert_eq!(bad["sellable"], false);
    assert!(bad["statusReason"].as_str().unwrap().contains("不合格"));
    let good = new_lot(&app, owner, &sku, "DISP-OK", -20, 200, "CONFORMANT").await;
    receive(&app, owner, &c.owner_dealer, &bad, 3, 6000, "RK-DISP-1").await;
    receive(&app, owner, &c.owner_dealer, &good, 5, 6000, "RK-DISP-2").await;
    let rows = stock(&app, owner, &c.owner_dealer).await;
    assert_eq!(row(&rows, &bad, "DEALER_STORE")["disposition"], "ON_HOLD");
    assert_eq!(row(&rows, &good, "DEALER_STORE")["disposition"], "SELLABLE");
    let s = sell_one(6).await;
    assert_eq!(s["errors"][0]["code"], "INSUFFICIENT_STOCK");
    assert!(
        s["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("5 available")
    );
    let s = sell_one(1).await;
    assert_no_errors(&s);
    assert_eq!(s["sale"]["lines"][0]["lot"]["id"], good["id"]);

    // A regulator holds the good lot: nothing of the pack can be sold; then releases it.
    let h = q(
        &app,
        Some(reg),
        &with_lot(HOLD),
        json!({ "l": good["id"], "r": "市场抽检，待复检" }),
    )
    .await;
    assert_no_errors(&h["lotHold"]);
    assert_eq!(h["lotHold"]["lot"]["status"], "ON_HOLD");
    assert_eq!(h["lotHold"]["lot"]["statusReason"], "市场抽检，待复检");
    assert_eq!(sell_one(1).await["errors"][0]["code"], "INSUFFICIENT_STOCK");
    let again = q(
        &app,
        Some(reg),
        &with_lot(HOLD),
        json!({ "l": good["id"], "r": "again" }),
    )
    .await;
    assert_eq!(
        codes_of(&again["lotHold"]["errors"]),
        [("lotId".to_owned(), "INVALID_TRANSITION".to_owned())]
    );
    let t = trace(&app, good["traceCode"].as_str().unwrap()).await;
    assert_eq!(t["disposition"], "ON_HOLD");
    let r = q(
        &app,
        Some(reg),
        &with_lot(RELEASE),
        json!({ "l": good["id"], "r": "复检合格" }),
    )
    .await;
    assert_no_errors(&r["lotRelease"]);
    assert_eq!(r["lotRelease"]["lot"]["status"], "ACTIVE");
    assert_eq!(r["lotRelease"]["lot"]["sellable"], true);
    assert_no_errors(&sell_one(1).await);
    let ev = events(&app, owner, &good).await;
    let holding: Vec<&str> = ev
        .iter()
        .filter(|e| e["bizStep"] == "holding")
        .map(|e| e["disposition"].as_str().unwrap())
        .collect();
    assert_eq!(holding, ["non_sellable_other", "sellable_accessible"]);

    // Releasing the failed lot is not enough while its inspection says non-conformant; a new
    // conformant inspection makes it sellable, and being earliest to expire, it goes first.
    let r = q(
        &app,
        Some(reg),
        &with_lot(RELEASE),
        json!({ "l": bad["id"], "r": "解除封存，待复检" }),
    )
    .await;
    assert_eq!(r["lotRelease"]["lot"]["status"], "ACTIVE");
    assert_eq!(r["lotRelease"]["lot"]["disposition"], "ON_HOLD");
    assert_eq!(r["lotRelease"]["lot"]["sellable"], false);
    let i = q(
        &app,
        Some(reg),
        &with_lot(INSPECT),
        json!({ "l": bad["id"], "i": inspection("DISP-NC-2", "CONFORMANT", today() - Duration::days(3)) }),
    )
    .await;
    assert_no_errors(&i["lotRecordInspection"]);
    assert_eq!(i["lotRecordInspection"]["lot"]["sellable"], true);
    let s = sell_one(1).await;
    assert_no_errors(&s);
    assert_eq!(s["sale"]["lines"][0]["lot"]["id"], bad["id"]);
    // And a non-conformant result recorded later puts an active lot on hold.
    let i = q(
        &app,
        Some(reg),
        &with_lot(INSPECT),
        json!({ "l": good["id"], "i": inspection("DISP-OK-2", "NON_CONFORMANT", today() - Duration::days(1)) }),
    )
    .await;
    assert_eq!(i["lotRecordInspection"]["lot"]["status"], "ON_HOLD");
    assert_eq!(i["lotRecordInspection"]["lot"]["sellable"], false);

    // Expiry: a lot is unsellable from its expiry date on, and is not received.
    let old = new_lot(&app, owner, &sku, "DISP-EXP", -400, 0, "CONFORMANT").await;
    assert_eq!(old["status"], "ACTIVE");
    assert_eq!(old["disposition"], "EXPIRED");
    assert_eq!(old["sellable"], false);
    let p = receive_payload(&app, owner, &c.owner_dealer, &old, 1, 6000, "RK-EXP").await;
    assert_eq!(
        codes_of(&p["errors"]),
        [("lotId".to_owned(), "LOT_NOT_SELLABLE".to_owned())]
    );
    assert_eq!(
        trace(&app, old["traceCode"].as_str().unwrap()).await["disposition"],
        "EXPIRED"
    );
    // Lot dates are checked.
    let r = q(
        &app,
        Some(owner),
        &with_lot(LOT_CREATE),
        json!({ "i": { "skuId": sku, "lotNo": "DISP-X1", "producedOn": day(-1), "expiresOn": day(-1) } }),
    )
    .await;
    assert_eq!(
        codes_of(&r["lotCreate"]["errors"]),
        [("expiresOn".to_owned(), "OUT_OF_RANGE".to_owned())]
    );
    let r = q(
        &app,
        Some(owner),
        &with_lot(LOT_CREATE),
        json!({ "i": { "skuId": sku, "lotNo": "DISP-X2", "producedOn": day(1), "expiresOn": day(300) } }),
    )
    .await;
    assert_eq!(
        codes_of(&r["lotCreate"]["errors"]),
        [("producedOn".to_owned(), "OUT_OF_RANGE".to_owned())]
    );

    // Stock that expires tomorrow is sellable and listed as near expiry; when its day comes
    // (the lot's date moved in the database to simulate the calendar), it is not.
    let sku2 = new_sku(&app, &c, &product["id"]).await;
    let soon = new_lot(&app, owner, &sku2, "DISP-SOON", -300, 1, "CONFORMANT").await;
    assert_eq!(soon["sellable"], true);
    receive(&app, owner, &c.owner_dealer, &soon, 2, 6000, "RK-SOON").await;
    let near = q(
        &app,
        Some(owner),
        "query($d: ID!) { nearExpiry(dealerId: $d, days: 1) { lot { id } daysToExpiry disposition } }",
        json!({ "d": c.owner_dealer }),
    )
    .await;
    let n = arr(&near["nearExpiry"])
        .iter()
        .find(|r| r["lot"]["id"] == soon["id"])
        .expect("listed as near expiry")
        .clone();
    assert_eq!(n["daysToExpiry"], 1);
    assert_eq!(n["disposition"], "SELLABLE");
    let code = soon["traceCode"].as_str().unwrap();
    sql(
        &app,
        &format!(
            "UPDATE lot SET expires_on = '{}' WHERE trace_code = '{code}'",
            today()
        ),
    )
    .await
    .unwrap();
    let rows = stock(&app, owner, &c.owner_dealer).await;
    let r = row(&rows, &soon, "DEALER_STORE");
    assert_eq!(r["disposition"], "EXPIRED");
    assert_eq!(r["daysToExpiry"], 0);
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": sku2, "quantity": 1, "unitPriceFen": 7000 }] }),
    )
    .await;
    assert_eq!(
        codes_of(&s["errors"]),
        [(
            "lines.0.quantity".to_owned(),
            "INSUFFICIENT_STOCK".to_owned()
        )]
    );
    let rows = stock(&app, owner, &c.owner_dealer).await;
    assert_eq!(row(&rows, &soon, "DEALER_STORE")["onHand"], 2);
}

// ---------------------------------------------------------------- transfers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_ships_to_a_village_station_and_is_received_there() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let admin = c.admin.as_str();

    // The demo's transfer to a village station tells where a station's stock lives.
    let dealers = q(&app, None, "{ dealers { id } }", json!({})).await;
    let mut demo_transfers = Vec::new();
    for dl in arr(&dealers["dealers"]) {
        let t = q(
            &app,
            Some(admin),
            TRANSFERS,
            json!({ "d": dl["id"], "o": false }),
        )
        .await;
        demo_transfers.extend(arr(&t["transfers"]).iter().cloned());
    }
    assert_eq!(demo_transfers.len(), 1, "{demo_transfers:#?}");
    let dt = &demo_transfers[0];
    assert_eq!(dt["status"], "RECEIVED");
    assert_eq!(dt["quantity"], 10);
    assert_eq!(dt["fromLocation"]["kind"], "DEALER_STORE");
    assert_eq!(dt["toLocation"]["kind"], "STATION");
    let station = dt["toLocation"].clone();
    let stations = q(&app, None, "{ stations { id village { id } } }", json!({})).await;
    let village = arr(&stations["stations"])
        .iter()
        .find(|s| s["id"] == station["stationId"])
        .expect("the station")["village"]["id"]
        .clone();

    // The owner's dealer serves the station's village.
    let d = dealer(&app, owner, &c.owner_dealer).await;
    assert!(arr(&d["serviceArea"]).iter().any(|v| v["id"] == village));
    let sku = offer(&d, |o| is_category(o, "FERTILISER"))["sku"]["id"].clone();
    let l = new_lot(&app, owner, &sku, "MOVE-1", -10, 50, "CONFORMANT").await;
    receive(&app, owner, &c.owner_dealer, &l, 10, 5000, "RK-MOVE").await;
    let store_loc = row(
        &stock(&app, owner, &c.owner_dealer).await,
        &l,
        "DEALER_STORE",
    )["location"]
        .clone();
    let ship = |from: &Value, to: &Value, n: i64| {
        json!({ "i": { "dealerId": c.owner_dealer, "lotId": l["id"], "fromLocationId": from["id"],
                        "toLocationId": to["id"], "quantity": n } })
    };

    // Shipped: gone from the store at once, in transit until received.
    let s = q_en(&app, owner, SHIP, ship(&store_loc, &station, 4)).await;
    assert_no_errors(&s["stockTransferShip"]);
    let t = s["stockTransferShip"]["transfer"].clone();
    assert_eq!(t["status"], "IN_TRANSIT");
    assert_eq!(t["quantity"], 4);
    assert_eq!(t["receivedAt"], Value::Null);
    assert_eq!(t["fromLocation"]["id"], store_loc["id"]);
    assert_eq!(t["toLocation"]["id"], station["id"]);
    let rows = stock(&app, owner, &c.owner_dealer).await;
    assert_eq!(on_hand(&rows, &l, "DEALER_STORE"), 6);
    assert_eq!(on_hand(&rows, &l, "STATION"), 0);
    let open = q(
        &app,
        Some(owner),
        TRANSFERS,
        json!({ "d": c.owner_dealer, "o": true }),
    )
    .await;
    assert_eq!(
        arr(&open["transfers"])
            .iter()
            .map(|t| t["id"].clone())
            .collect::<Vec<_>>(),
        [t["id"].clone()]
    );
    let rep = report(&app, &c.regulator, &l).await;
    let in_transit: i64 = arr(&rep["holders"])
        .iter()
        .map(|h| h["inTransit"].as_i64().unwrap())
        .sum();
    assert_eq!(in_transit, 4);

    // Received at the station.
    let r = q(&app, Some(owner), TRANSFER_RECEIVE, json!({ "t": t["id"] })).await;
    assert_no_errors(&r["stockTransferReceive"]);
    let done = &r["stockTransferReceive"]["transfer"];
    assert_eq!(done["status"], "RECEIVED");
    assert!(done["receivedAt"].is_string());
    let rows = stock(&app, owner, &c.owner_dealer).await;
    assert_eq!(on_hand(&rows, &l, "DEALER_STORE"), 6);
    let at_station = row(&rows, &l, "STATION");
    assert_eq!(at_station["onHand"], 4);
    assert_eq!(at_station["location"]["id"], station["id"]);
    // Only once.
    let r = q(&app, Some(owner), TRANSFER_RECEIVE, json!({ "t": t["id"] })).await;
    assert_eq!(
        codes_of(&r["stockTransferReceive"]["errors"]),
        [("transferId".to_owned(), "INVALID_TRANSITION".to_owned())]
    );
    let ev = events(&app, owner, &l).await;
    let n = ev.len();
    assert_eq!(steps(&ev)[n - 2..], ["shipping", "receiving"]);
    assert_eq!(ev[n - 2]["disposition"], "in_transit");
    assert_eq!(ev[n - 2]["fromLocation"]["id"], store_loc["id"]);
    assert_eq!(ev[n - 2]["toLocation"]["id"], station["id"]);
    assert_eq!(ev[n - 1]["toLocation"]["kind"], "STATION");
    assert_eq!(ev[n - 1]["quantity"], 4);
    // The public trace shows the move, store to station.
    let tr = trace(&app, l["traceCode"].as_str().unwrap()).await;
    let moved = arr(&tr["custody"])
        .iter()
        .find(|s| s["bizStep"] == "shipping")
        .unwrap()
        .clone();
    assert_eq!(moved["placeKind"], "STATION");
    let place = moved["place"].as_str().unwrap();
    assert!(
        place.contains('→') && place.ends_with(station["nameZh"].as_str().unwrap()),
        "{place}"
    );

    // Sold at the station, from the station's stock.
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "locationId": station["id"],
                "lines": [{ "skuId": sku, "quantity": 4 }] }),
    )
    .await;
    assert_no_errors(&s);
    assert_eq!(s["sale"]["lines"][0]["lot"]["id"], l["id"]);
    assert_eq!(
        on_hand(&stock(&app, owner, &c.owner_dealer).await, &l, "STATION"),
        0
    );

    // Not more than there is, not to the same place, not to a station the dealer does not
    // serve.
    let s = q_en(&app, owner, SHIP, ship(&store_loc, &station, 7)).await;
    assert_eq!(
        codes_of(&s["stockTransferShip"]["errors"]),
        [("quantity".to_owned(), "INSUFFICIENT_STOCK".to_owned())]
    );
    let s = q_en(&app, owner, SHIP, ship(&store_loc, &store_loc, 1)).await;
    assert_eq!(
        codes_of(&s["stockTransferShip"]["errors"]),
        [("toLocationId".to_owned(), "OUT_OF_RANGE".to_owned())]
    );
    let mut outsider = None;
    for other in [&c.staff_dealer, &c.other_dealer] {
        let od = dealer(&app, admin, other).await;
        if !arr(&od["serviceArea"]).iter().any(|v| v["id"] == village) {
            outsider = Some(other.clone());
        }
    }
    let outsider = outsider.expect("a dealer that does not serve the station's village");
    let their = stock(&app, admin, &outsider).await;
    let r0 = their
        .iter()
        .find(|r| r["location"]["kind"] == "DEALER_STORE")
        .unwrap();
    let s = q_en(
        &app,
        admin,
        SHIP,
        json!({ "i": { "dealerId": outsider, "lotId": r0["lot"]["id"], "fromLocationId": r0["location"]["id"],
                        "toLocationId": station["id"], "quantity": 1 } }),
    )
    .await;
    assert_eq!(
        codes_of(&s["stockTransferShip"]["errors"]),
        [("toLocationId".to_owned(), "OUT_OF_RANGE".to_owned())]
    );
    assert_eq!(stock(&app, admin, &outsider).await, their);
}

// ---------------------------------------------------------------- ledgers as CSV

/// Downloads a CSV that must be there: UTF-8 with a BOM, as an attachment; returns the text
/// after the BOM.
async fn csv_download(app: &TestApp, path: String, token: Option<&str>) -> String {
    let resp = get(app, &path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/csv") && ct.contains("utf-8"), "{ct}");
    let cd = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cd.starts_with("attachment") && cd.contains(".csv"), "{cd}");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(BOM), "UTF-8 with a BOM");
    String::from_utf8(bytes[3..].to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledgers_download_as_csv_that_excel_opens() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| is_category(o, "FERTILISER")).clone();
    let price = o["priceFen"].as_i64().unwrap();
    let idn = id_number(c.n());
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": o["sku"]["id"], "quantity": 2 }],
                "buyer": { "name": "孙二娘", "phone": "13911114444", "idNumber": idn } }),
    )
    .await;
    assert_no_errors(&s);
    let (from, to) = (day(-30), day(0));
    let dealer_id = c.owner_dealer.as_str().unwrap();
    let path = |q: &str| format!("/dealers/{dealer_id}/ledger.csv?{q}");

    // Sales, Chinese columns: one row per ledger line, the buyer's ID masked for the dealer.
    let text = csv_download(
        &app,
        path(&format!("kind=SALE&from={from}&to={to}")),
        Some(owner),
    )
    .await;
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "日期,单号,产品名称,规格,登记证号,生产企业,批号,数量,单价(元),金额(元),购买人,联系电话,身份证号,备注"
    );
    let lines = ledger(&app, owner, &c.owner_dealer, "SALE", &from, &to).await;
    assert_eq!(rows.len() - 1, lines.len());
    let masked = format!("{}{}{}", &idn[..4], "*".repeat(10), &idn[14..]);
    let mine = rows
        .iter()
        .find(|r| r.contains("孙二娘"))
        .expect("the sale's row");
    let amount = format!("{}.{:02}", 2 * price / 100, 2 * price % 100);
    assert!(mine.starts_with(&day(0)), "{mine}");
    assert!(
        mine.contains(",SALE-"),
        "the sale number is the second column: {mine}"
    );
    assert!(mine.contains(",2,"), "{mine}");
    assert!(mine.contains(&amount), "{mine} has {amount}");
    assert!(
        mine.contains("13911114444") && mine.contains(&masked),
        "{mine}"
    );
    assert!(!text.contains(&idn));
    // English columns on request; the whole ID for the county's regulator.
    let text = csv_download(
        &app,
        path(&format!("kind=SALE&from={from}&to={to}&lang=en")),
        Some(owner),
    )
    .await;
    assert!(text.starts_with(
        "date,order or sale no.,product,spec,registration no.,producer,lot,quantity,unit price (yuan),amount (yuan),buyer,phone,ID number,note\r\n"
    ));
    let text = csv_download(
        &app,
        path(&format!("kind=SALE&from={from}&to={to}")),
        Some(&c.regulator),
    )
    .await;
    assert!(text.contains(&idn));
    // The purchase ledger: the demo receipts of 20 days ago.
    let text = csv_download(
        &app,
        path(&format!("kind=PURCHASE&from={from}&to={to}")),
        Some(owner),
    )
    .await;
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with(
        "日期,产品名称,规格,登记证号,生产企业,批号,数量,单价(元),金额(元),供货单位,供货单位许可证号"
    ));
    let purchases = ledger(&app, owner, &c.owner_dealer, "PURCHASE", &from, &to).await;
    assert!(!purchases.is_empty());
    assert_eq!(rows.len() - 1, purchases.len());
    assert!(rows[1].contains(purchases[0]["sourceDocument"].as_str().unwrap()));
    // A range before anything happened: the header only.
    let text = csv_download(
        &app,
        path(&format!(
            "kind=PURCHASE&from={}&to={}",
            day(-400),
            day(-300)
        )),
        Some(owner),
    )
    .await;
    assert_eq!(text.lines().count(), 1);

    // Only with the dealer's token (or a regulator's).
    let q = path(&format!("kind=SALE&from={from}&to={to}"));
    assert_eq!(get(&app, &q, None).await.status(), 401);
    assert_eq!(get(&app, &q, Some("not-a-token")).await.status(), 401);
    assert_eq!(get(&app, &q, Some(&c.staff)).await.status(), 403);
    assert_eq!(get(&app, &q, Some(&c.farmer)).await.status(), 403);
    assert_eq!(
        get(&app, &path("kind=BOTH"), Some(owner)).await.status(),
        400
    );
}

/// A CSV read back as a spreadsheet would: the header, then each row as column name -> cell.
fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_cells_that_would_run_as_formulas_are_quoted_and_negative_numbers_stay_numbers() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| is_category(o, "FERTILISER")).clone();
    // Expiring before the demo lots, so the counter sale below takes this lot first.
    let lot = new_lot(
        &app,
        owner,
        &o["sku"]["id"],
        "CSV-INJ",
        -10,
        20,
        "CONFORMANT",
    )
    .await;

    // A supplier whose name is a live link in Excel, and a buyer whose name is a formula.
    let evil = r#"=HYPERLINK("http://evil.example/x","点我")"#;
    let r = q_en(
        &app,
        owner,
        RECEIVE,
        json!({ "i": {
            "dealerId": c.owner_dealer, "lotId": lot["id"], "quantity": 4, "unitCostFen": 9000,
            "supplier": { "name": evil, "licenceNo": "(鄂)农资批发E2E-0009", "contact": "0724-2345678" },
            "sourceDocument": "RK-INJ",
        } }),
    )
    .await;
    assert_no_errors(&r["stockReceive"]);
    let buyer = "@SUM(1+1)";
    let s = sell(
        &app,
        owner,
        json!({ "dealerId": c.owner_dealer, "lines": [{ "skuId": o["sku"]["id"], "quantity": 2 }],
                "buyer": { "name": buyer, "phone": "13911115555", "idNumber": id_number(c.n()) } }),
    )
    .await;
    assert_no_errors(&s);
    assert_eq!(s["sale"]["lines"][0]["lot"]["id"], lot["id"]);
    // A return writes a sales-ledger line with a negative quantity and amount.
    let ret = q(
        &app,
        Some(owner),
        "mutation($s: ID!, $l: ID!) { stockReturn(saleId: $s, lotId: $l, quantity: 1, reason: \"-退回\") { ok errors { field code message } } }",
        json!({ "s": s["sale"]["id"], "l": lot["id"] }),
    )
    .await;
    assert_no_errors(&ret["stockReturn"]);

    let (from, to) = (day(-1), day(0));
    let dealer_id = c.owner_dealer.as_str().unwrap();
    let purchases = csv_rows(
        &csv_download(
            &app,
            format!("/dealers/{dealer_id}/ledger.csv?kind=PURCHASE&from={from}&to={to}&lang=en"),
            Some(owner),
        )
        .await,
    );
    let p = purchases
        .iter()
        .find(|r| r["lot"] == "CSV-INJ")
        .expect("the receipt's row");
    assert_eq!(p["supplier"], format!("'{evil}"));
    assert_eq!(p["quantity"], "4");
    assert_eq!(p["amount (yuan)"], "360.00");

    let sales = csv_rows(
        &csv_download(
            &app,
            format!("/dealers/{dealer_id}/ledger.csv?kind=SALE&from={from}&to={to}&lang=en"),
            Some(owner),
        )
        .await,
    );
    let mine: Vec<_> = sales.iter().filter(|r| r["lot"] == "CSV-INJ").collect();
    assert_eq!(mine.len(), 2, "{sales:?}");
    assert!(
        mine.iter().all(|r| r["buyer"] == format!("'{buyer}")),
        "{mine:?}"
    );
    let returned = mine
        .iter()
        .find(|r| r["quantity"] == "-1")
        .unwrap_or_else(|| panic!("the return stays the number -1: {mine:?}"));
    let unit = returned["unit price (yuan)"].clone();
    assert_eq!(returned["amount (yuan)"], format!("-{unit}"));
    assert!(returned["note"].starts_with("退货"), "{returned:?}");

    // The recall report names the buyer the same way.
    let recall = q(
        &app,
        Some(&c.regulator),
        &with_lot(RECALL),
        json!({ "l": lot["id"], "r": "检出不合格" }),
    )
    .await;
    assert_no_errors(&recall["lotRecall"]);
    let lot_id = lot["id"].as_str().unwrap();
    let (about, report) = e2e::titled_csv(
        &csv_download(
            &app,
            format!("/lots/{lot_id}/recall-report.csv?lang=en"),
            Some(&c.regulator),
        )
        .await,
    );
    // The file says what it is about before its table.
    assert_eq!(about["Lot"], "CSV-INJ", "{about:?}");
    assert_eq!(about["Reason"], "检出不合格", "{about:?}");
    assert_eq!(about["Status"], "recalled", "{about:?}");
    assert!(!about["Ordered by"].is_empty(), "{about:?}");
    assert!(!about["Date"].is_empty(), "{about:?}");
    assert!(
        about["Product"].contains(o["sku"]["product"]["nameEn"].as_str().unwrap()),
        "{about:?}"
    );
    let b = report
        .iter()
        .find(|r| r["type"] == "buyer")
        .unwrap_or_else(|| panic!("a buyer row: {report:?}"));
    assert_eq!(b["name"], format!("'{buyer}"));
    assert!(!report.iter().any(|r| r["name"].starts_with('@')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_code_leads_a_regulator_to_its_lot_and_product() {
    let app = spawn_app().await;
    let c = County::load(&app).await;
    let owner = c.owner.as_str();
    let d = dealer(&app, owner, &c.owner_dealer).await;
    let o = offer(&d, |o| is_category(o, "FERTILISER")).clone();
    let lot = new_lot(
        &app,
        owner,
        &o["sku"]["id"],
        "TRACE-GID",
        -10,
        90,
        "CONFORMANT",
    )
    .await;

    let t = q(
        &app,
        None,
        "query($c: String!) { trace(code: $c) { lotId productId lotNo } }",
        json!({ "c": lot["traceCode"] }),
    )
    .await["trace"]
        .clone();
    assert_eq!(t["lotNo"], "TRACE-GID");
    assert_eq!(t["lotId"], lot["id"]);
    assert_eq!(t["productId"], o["sku"]["product"]["id"]);
    let l = q(
        &app,
        Some(&c.regulator),
        &with_lot(LOT_QUERY),
        json!({ "id": t["lotId"] }),
    )
    .await;
    assert_eq!(l["lot"]["lotNo"], "TRACE-GID");
    assert_eq!(l["lot"]["traceCode"], lot["traceCode"]);
    let p = q(
        &app,
        Some(&c.regulator),
        "query($id: ID!) { product(id: $id) { id nameZh } }",
        json!({ "id": t["productId"] }),
    )
    .await;
    assert_eq!(p["product"]["nameZh"], o["sku"]["product"]["nameZh"]);
}
