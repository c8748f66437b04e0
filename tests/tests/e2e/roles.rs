//! Who may call which mutation. For every mutation of the schema: an anonymous caller is
//! UNAUTHENTICATED, each role that must not call it is FORBIDDEN (with the very input an allowed
//! role succeeds with, so it is the role that is refused and not the input), and each allowed
//! role succeeds. Then the finer rules: a dealer owner creates staff only for their own dealer,
//! a dealer prices only for their own store, and edits only the products it listed.
//!
//! Global IDs always come from queries (`regions`, `villages`, `dealers`, `producers`,
//! `products`, `me`), never from encoding database ids by hand.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};

use e2e::{Gql, TestApp, spawn_app};
use serde_json::{Value, json};

/// The demo users, one per role, by the labels of `nongzi::demo::credentials()`.
const ROLES: [&str; 6] = [
    "ADMIN",
    "REGULATOR",
    "AGRONOMIST",
    "DEALER (OWNER)",
    "DEALER (STAFF)",
    "FARMER",
];

/// Mutations anyone may call: they carry their own credentials (phone and password, or a
/// refresh token).
const PUBLIC: [&str; 4] = ["register", "login", "refreshToken", "logout"];

/// Mutations that need a logged-in caller; each has a role matrix below.
const GUARDED: [&str; 37] = [
    "setRealName",
    "userCreate",
    "regionCreate",
    "stationCreate",
    "dealerCreate",
    "dealerLicenceAdd",
    "dealerServiceAreaSet",
    "producerCreate",
    "productCreate",
    "productUpdate",
    "productSetStatus",
    "skuCreate",
    "offerSet",
    "lotCreate",
    "lotAddUnitCodes",
    "lotRecordInspection",
    "lotHold",
    "lotRelease",
    "lotRecall",
    "stockReceive",
    "stockReceiveCsv",
    "stockAdjust",
    "stockTransferShip",
    "stockTransferReceive",
    "stockReturn",
    "stockDestroy",
    "counterSale",
    "traceEventCorrect",
    "notificationsMarkRead",
    "cartSet",
    "cartAcceptPrices",
    "cartClear",
    "orderPlace",
    "orderTransition",
    "creditLimitSet",
    "creditRepay",
    "fieldCreate",
];

/// Guarded mutations whose role matrix lives with their feature's tests
/// (`agronomy_rules::every_agronomy_mutation_checks_the_role`,
/// `dealer_desk::only_the_orders_dealer_may_swap_its_lots`,
/// `bureau_signals::complaint_mutations_check_the_role`).
const GUARDED_ELSEWHERE: [&str; 19] = [
    "complaintFile",
    "complaintResolve",
    "orderLineReallocate",
    "recommendationApprove",
    "countyParameterSet",
    "countyParameterDelete",
    "countySettingsSet",
    "cropPlanCreate",
    "soilTestCreate",
    "soilTestImportCsv",
    "recommendationDraft",
    "recommendationEdit",
    "recommendationPublish",
    "recommendationReject",
    "recommendationRevise",
    "recommendationToCart",
    "regionalFormulasCompute",
    "regionalFormulaPublish",
    "regionalFormulaToProduct",
];

/// One mutation call: the field it calls, the payload field holding the result, the document
/// and its variables.
struct Call {
    field: &'static str,
    object: &'static str,
    doc: &'static str,
    vars: Value,
}

/// The demo county's IDs as the API gives them, and the tokens of its users.
struct Demo {
    tokens: HashMap<&'static str, String>,
    county: Value,
    township: Value,
    villages: Vec<Value>,
    /// The dealer of the demo owner, of the demo staff member, and the third one.
    owner_dealer: Value,
    staff_dealer: Value,
    other_dealer: Value,
    producer: Value,
    /// A demo fertiliser (listed by nobody in particular) and one of its packs.
    product: Value,
    sku: Value,
    seq: AtomicU32,
}

impl Demo {
    async fn load(app: &TestApp) -> Demo {
        app.load_demo().await;
        let mut tokens = HashMap::new();
        for role in ROLES {
            tokens.insert(role, app.demo_token(role).await);
        }
        let q = |doc: &'static str| async move { app.gql(doc, json!({}), None).await.ok() };
        let county = q("{ regions(level: COUNTY) { id } }").await["regions"][0]["id"].clone();
        let township = q("{ regions(level: TOWNSHIP) { id } }").await["regions"][0]["id"].clone();
        let villages: Vec<Value> = q("{ villages { id } }").await["villages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].clone())
            .collect();
        let dealers: Vec<Value> = q("{ dealers { id } }").await["dealers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].clone())
            .collect();
        let producer = q("{ producers { id } }").await["producers"][0]["id"].clone();
        let p = q("{ products(first: 1, filter: { category: FERTILISER }) { edges { node { id skus { id } } } } }").await;
        let node = &p["products"]["edges"][0]["node"];
        let me = "{ me { dealer { id } } }";
        let dealer_of_role = |role: &'static str| {
            let t = tokens[role].clone();
            async move { app.gql(me, json!({}), Some(&t)).await.ok()["me"]["dealer"]["id"].clone() }
        };
        let owner_dealer = dealer_of_role("DEALER (OWNER)").await;
        let staff_dealer = dealer_of_role("DEALER (STAFF)").await;
        assert_ne!(owner_dealer, staff_dealer);
        let other_dealer = dealers
            .iter()
            .find(|d| **d != owner_dealer && **d != staff_dealer)
            .expect("a third dealer")
            .clone();
        Demo {
            tokens,
            county,
            township,
            villages,
            owner_dealer,
            staff_dealer,
            other_dealer,
            producer,
            product: node["id"].clone(),
            sku: node["skus"][0]["id"].clone(),
            seq: AtomicU32::new(1),
        }
    }

    fn token(&self, who: &str) -> Option<&str> {
        (who != "ANONYMOUS").then(|| self.tokens[who].as_str())
    }

    fn next(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }
}

async fn attempt(app: &TestApp, demo: &Demo, who: &str, call: &Call) -> Gql {
    app.gql(call.doc, call.vars.clone(), demo.token(who)).await
}

/// `who` calls and is refused with `code`: a top-level error, and no payload.
async fn refused(app: &TestApp, demo: &Demo, who: &str, call: &Call, code: &str) {
    let r = attempt(app, demo, who, call).await;
    assert_eq!(
        r.error_code(),
        Some(code),
        "{} by {who} should be {code}: {:#}",
        call.field,
        r.body
    );
    assert!(
        r.data().is_null() || r.data()[call.field].is_null(),
        "{} by {who} returned data: {:#}",
        call.field,
        r.body
    );
}

/// `who` calls and succeeds: no errors anywhere, and the payload holds the result.
async fn allowed(app: &TestApp, demo: &Demo, who: &str, call: &Call) -> Value {
    let d = attempt(app, demo, who, call).await.ok();
    let p = &d[call.field];
    assert_eq!(
        p["errors"],
        json!([]),
        "{} by {who} should succeed: {p:#}",
        call.field
    );
    assert!(
        !p[call.object].is_null(),
        "{} by {who}: no {} in {p:#}",
        call.field,
        call.object
    );
    p[call.object].clone()
}

/// The whole matrix for one mutation: anonymous is UNAUTHENTICATED, every role not in
/// `allowed_roles` is FORBIDDEN, every role in it succeeds. `make` builds the call a role
/// makes (fresh names and phones each time; the same target for refused and allowed roles).
async fn matrix(
    app: &TestApp,
    demo: &Demo,
    allowed_roles: &[&str],
    make: impl Fn(&Demo, &str) -> Call,
) -> Vec<Value> {
    refused(
        app,
        demo,
        "ANONYMOUS",
        &make(demo, "ANONYMOUS"),
        "UNAUTHENTICATED",
    )
    .await;
    for who in ROLES.iter().filter(|r| !allowed_roles.contains(r)) {
        refused(app, demo, who, &make(demo, who), "FORBIDDEN").await;
    }
    let mut out = Vec::new();
    for who in allowed_roles {
        out.push(allowed(app, demo, who, &make(demo, who)).await);
    }
    out
}

fn id_number(n: u32) -> String {
    let body = format!("42082219900101{:03}", n % 1000);
    let check = domain::types::IdNumber::check_char(body.as_bytes()) as char;
    format!("{body}{check}")
}

fn phone(n: u32) -> String {
    format!("1370000{:04}", n % 10_000)
}

fn set_real_name(demo: &Demo) -> Call {
    Call {
        field: "setRealName",
        object: "user",
        doc: "mutation($n: String!, $i: String!) { setRealName(realName: $n, idNumber: $i) { user { id realNameVerified } errors { field code } } }",
        vars: json!({ "n": "陈大山", "i": id_number(demo.next()) }),
    }
}

const USER_CREATE: &str = "mutation($i: UserCreateInput!) { userCreate(input: $i) { user { id role dealerRole dealer { id } } errors { field code } } }";

fn user_create(input: Value) -> Call {
    Call {
        field: "userCreate",
        object: "user",
        doc: USER_CREATE,
        vars: json!({ "i": input }),
    }
}

/// A new staff member for `dealer`.
fn staff_input(demo: &Demo, dealer: &Value) -> Value {
    let n = demo.next();
    json!({
        "phone": phone(n), "password": "staff-password-1", "displayName": format!("店员{n}"),
        "role": "DEALER", "dealerId": dealer, "dealerRole": "STAFF"
    })
}

fn region_create(demo: &Demo) -> Call {
    let n = demo.next();
    Call {
        field: "regionCreate",
        object: "region",
        doc: "mutation($i: RegionInput!) { regionCreate(input: $i) { region { id level } errors { field code } } }",
        vars: json!({ "i": { "level": "VILLAGE", "parentId": demo.township, "nameZh": format!("新村{n}"), "nameEn": format!("New Village {n}") } }),
    }
}

fn station_create(demo: &Demo) -> Call {
    let n = demo.next();
    Call {
        field: "stationCreate",
        object: "station",
        doc: "mutation($i: StationInput!) { stationCreate(input: $i) { station { id } errors { field code } } }",
        vars: json!({ "i": {
            "villageId": demo.villages[0], "nameZh": format!("服务点{n}"), "nameEn": format!("Point {n}"),
            "operatorName": "李测试", "phone": phone(n), "hours": "08:00-18:00"
        } }),
    }
}

fn dealer_create(demo: &Demo) -> Call {
    let n = demo.next();
    Call {
        field: "dealerCreate",
        object: "dealer",
        doc: "mutation($i: DealerInput!) { dealerCreate(input: $i) { dealer { id } errors { field code } } }",
        vars: json!({ "i": {
            "nameZh": format!("新农资店{n}"), "nameEn": format!("New Farm Inputs {n}"),
            "address": "沙洋镇测试路1号", "regionId": demo.township, "phone": phone(n),
            "licences": [], "serviceArea": [demo.villages[0]]
        } }),
    }
}

fn licence_add(demo: &Demo, dealer: &Value) -> Call {
    let n = demo.next();
    Call {
        field: "dealerLicenceAdd",
        object: "dealer",
        doc: "mutation($d: ID!, $l: LicenceInput!) { dealerLicenceAdd(dealerId: $d, licence: $l) { dealer { id } errors { field code } } }",
        vars: json!({ "d": dealer, "l": {
            "kind": "SEED_BUSINESS", "number": format!("D(鄂沙洋)农种许字(2026)第{n:04}号"),
            "issuer": "沙洋县农业农村局", "validFrom": "2026-01-01", "validTo": "2031-01-01"
        } }),
    }
}

fn service_area_set(demo: &Demo, dealer: &Value) -> Call {
    Call {
        field: "dealerServiceAreaSet",
        object: "dealer",
        doc: "mutation($d: ID!, $v: [ID!]!) { dealerServiceAreaSet(dealerId: $d, villageIds: $v) { dealer { id serviceArea { id } } errors { field code } } }",
        vars: json!({ "d": dealer, "v": demo.villages }),
    }
}

fn producer_create(demo: &Demo) -> Call {
    let n = demo.next();
    Call {
        field: "producerCreate",
        object: "producer",
        doc: "mutation($i: ProducerInput!) { producerCreate(input: $i) { producer { id } errors { field code } } }",
        vars: json!({ "i": { "nameZh": format!("测试化肥厂{n}"), "nameEn": format!("Test Works {n}"), "address": "湖北省荆门市" } }),
    }
}

fn fertiliser(demo: &Demo, name: &str) -> Value {
    json!({
        "category": "FERTILISER", "producerId": demo.producer,
        "nameZh": name, "nameEn": format!("{name} (en)"), "registrationExempt": true,
        "fertiliser": { "fertiliserType": "COMPOUND", "nPct": 15.0, "p2o5Pct": 15.0, "k2oPct": 15.0,
                        "form": "GRANULAR", "chloride": "NONE" }
    })
}

fn product_create(demo: &Demo) -> Call {
    let n = demo.next();
    Call {
        field: "productCreate",
        object: "product",
        doc: "mutation($i: ProductInput!) { productCreate(input: $i) { product { id nameZh status } errors { field code } } }",
        vars: json!({ "i": fertiliser(demo, &format!("测试复合肥{n}")) }),
    }
}

fn product_update(demo: &Demo, id: &Value, name: &str) -> Call {
    Call {
        field: "productUpdate",
        object: "product",
        doc: "mutation($id: ID!, $i: ProductInput!) { productUpdate(id: $id, input: $i) { product { id nameZh status } errors { field code } } }",
        vars: json!({ "id": id, "i": fertiliser(demo, name) }),
    }
}

fn set_status(id: &Value, active: bool) -> Call {
    Call {
        field: "productSetStatus",
        object: "product",
        doc: "mutation($id: ID!, $a: Boolean!) { productSetStatus(id: $id, active: $a) { product { id nameZh status } errors { field code } } }",
        vars: json!({ "id": id, "a": active }),
    }
}

fn sku_create(product: &Value) -> Call {
    Call {
        field: "skuCreate",
        object: "sku",
        doc: "mutation($p: ID!) { skuCreate(productId: $p, input: { packSize: 10, packUnit: \"kg\" }) { sku { id } errors { field code } } }",
        vars: json!({ "p": product }),
    }
}

fn offer_set(dealer: &Value, sku: &Value, price: i64) -> Call {
    Call {
        field: "offerSet",
        object: "offer",
        doc: "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p) { offer { id priceFen dealer { id } } errors { field code } } }",
        vars: json!({ "d": dealer, "s": sku, "p": price }),
    }
}

/// The dealer a role works for (the owner's for anyone else).
fn dealer_of<'a>(demo: &'a Demo, who: &str) -> &'a Value {
    match who {
        "DEALER (STAFF)" => &demo.staff_dealer,
        _ => &demo.owner_dealer,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_of_the_schema_has_a_role_check_here() {
    let app = spawn_app().await;
    let d = app
        .gql(
            "{ __schema { mutationType { fields { name } } } }",
            json!({}),
            None,
        )
        .await
        .ok();
    let in_schema: BTreeSet<&str> = d["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    let covered: BTreeSet<&str> = PUBLIC
        .iter()
        .chain(GUARDED.iter())
        .chain(GUARDED_ELSEWHERE.iter())
        .copied()
        .collect();
    assert_eq!(
        in_schema, covered,
        "a mutation was added or removed: give it a role matrix in roles.rs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_mutations_work_without_a_token() {
    let app = spawn_app().await;
    let reg = app
        .gql(
            "mutation { register(input: { phone: \"13700009999\", password: \"farmer-pass-1\", displayName: \"新农户\" }) { accessToken user { role } errors { code } } }",
            json!({}),
            None,
        )
        .await
        .ok();
    assert_eq!(reg["register"]["errors"], json!([]));
    assert_eq!(reg["register"]["user"]["role"], "FARMER");
    let (_, refresh) = app.login("13700009999", "farmer-pass-1").await;
    let rot = app
        .gql(
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken errors { code } } }",
            json!({ "t": refresh }),
            None,
        )
        .await
        .ok();
    assert!(rot["refreshToken"]["accessToken"].is_string());
    let out = app
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": rot["refreshToken"]["refreshToken"] }),
            None,
        )
        .await
        .ok();
    assert_eq!(out["logout"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_mutations_by_role() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;

    // Real-name data is the farmer's own business: not even an admin records it for them.
    let users = matrix(&app, &demo, &["FARMER"], |d, _| set_real_name(d)).await;
    assert_eq!(users[0]["realNameVerified"], true);

    // Users: admins create anyone; a dealer owner, staff of their own dealer. The staff member
    // refused here asks for staff of their own dealer too, so only the dealer role differs.
    let made = matrix(&app, &demo, &["ADMIN", "DEALER (OWNER)"], |d, who| {
        user_create(staff_input(d, dealer_of(d, who)))
    })
    .await;
    for u in &made {
        assert_eq!(u["role"], "DEALER");
        assert_eq!(u["dealerRole"], "STAFF");
        assert_eq!(u["dealer"]["id"], demo.owner_dealer);
    }
    // And an admin creates an agronomist for the county.
    let n = demo.next();
    let agronomist = user_create(json!({
        "phone": phone(n), "password": "agro-password-1", "displayName": "农技员",
        "role": "AGRONOMIST", "countyIds": [demo.county]
    }));
    refused(&app, &demo, "DEALER (OWNER)", &agronomist, "FORBIDDEN").await;
    let u = allowed(&app, &demo, "ADMIN", &agronomist).await;
    assert_eq!(u["role"], "AGRONOMIST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_and_dealer_mutations_by_role() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;

    let r = matrix(&app, &demo, &["ADMIN"], |d, _| region_create(d)).await;
    assert_eq!(r[0]["level"], "VILLAGE");
    matrix(&app, &demo, &["ADMIN"], |d, _| station_create(d)).await;
    matrix(&app, &demo, &["ADMIN"], |d, _| dealer_create(d)).await;
    // Licences are recorded by the admin, not by the dealer holding them.
    matrix(&app, &demo, &["ADMIN"], |d, who| {
        licence_add(d, dealer_of(d, who))
    })
    .await;
    // The service area: the admin, or the dealer's owner, but not its staff.
    let areas = matrix(&app, &demo, &["ADMIN", "DEALER (OWNER)"], |d, who| {
        service_area_set(d, dealer_of(d, who))
    })
    .await;
    for a in areas {
        assert_eq!(
            a["serviceArea"].as_array().unwrap().len(),
            demo.villages.len()
        );
    }
    // An owner does not set another dealer's area.
    refused(
        &app,
        &demo,
        "DEALER (OWNER)",
        &service_area_set(&demo, &demo.staff_dealer),
        "FORBIDDEN",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_mutations_by_role() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;
    let dealers = ["ADMIN", "DEALER (OWNER)", "DEALER (STAFF)"];

    matrix(&app, &demo, &dealers, |d, _| producer_create(d)).await;
    let made = matrix(&app, &demo, &dealers, |d, _| product_create(d)).await;
    let (by_owner, by_staff) = (&made[1]["id"], &made[2]["id"]);

    // Update: the admin any product; a dealer the one it listed.
    matrix(&app, &demo, &dealers, |d, who| {
        let target = match who {
            "DEALER (OWNER)" => by_owner,
            "DEALER (STAFF)" => by_staff,
            _ => &demo.product,
        };
        product_update(d, target, &format!("改名复合肥{}", d.next()))
    })
    .await;

    // Listing and delisting is the admin's alone, even for a product the dealer listed.
    matrix(&app, &demo, &["ADMIN"], |_, who| {
        set_status(
            if who == "DEALER (OWNER)" {
                by_owner
            } else {
                &demo.product
            },
            true,
        )
    })
    .await;

    // Packs: admins and dealers.
    matrix(&app, &demo, &dealers, |d, _| sku_create(&d.product)).await;

    // Offers: the admin for any dealer, dealers for their own store.
    let offers = matrix(&app, &demo, &dealers, |d, who| {
        offer_set(dealer_of(d, who), &d.sku, 9900)
    })
    .await;
    assert_eq!(offers[2]["dealer"]["id"], demo.staff_dealer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_owner_creates_staff_only_for_their_own_dealer() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;
    let admin = demo.token("ADMIN");
    let count = || async {
        app.gql("{ users { id } }", json!({}), admin).await.ok()["users"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = count().await;

    // Not for another dealer, and never anything but staff.
    let owner = "DEALER (OWNER)";
    for other in [&demo.staff_dealer, &demo.other_dealer] {
        refused(
            &app,
            &demo,
            owner,
            &user_create(staff_input(&demo, other)),
            "FORBIDDEN",
        )
        .await;
    }
    let n = demo.next();
    for (role, extra) in [
        ("ADMIN", json!({})),
        ("REGULATOR", json!({ "countyIds": [demo.county] })),
        ("AGRONOMIST", json!({ "countyIds": [demo.county] })),
        ("FARMER", json!({})),
        (
            "DEALER",
            json!({ "dealerId": demo.owner_dealer, "dealerRole": "OWNER" }),
        ),
    ] {
        let mut input = json!({ "phone": phone(n), "password": "sneaky-password-1", "displayName": "冒名者", "role": role });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        refused(&app, &demo, owner, &user_create(input), "FORBIDDEN").await;
    }
    assert_eq!(count().await, before, "a refused call created a user");

    // Staff for their own dealer: the new member logs in and works for that dealer.
    let input = staff_input(&demo, &demo.owner_dealer);
    let u = allowed(&app, &demo, owner, &user_create(input.clone())).await;
    assert_eq!(u["dealer"]["id"], demo.owner_dealer);
    assert_eq!(count().await, before + 1);
    let (token, _) = app
        .login(
            input["phone"].as_str().unwrap(),
            input["password"].as_str().unwrap(),
        )
        .await;
    let me = app
        .gql(
            "{ me { role dealerRole dealer { id } } }",
            json!({}),
            Some(&token),
        )
        .await
        .ok();
    assert_eq!(me["me"]["role"], "DEALER");
    assert_eq!(me["me"]["dealerRole"], "STAFF");
    assert_eq!(me["me"]["dealer"]["id"], demo.owner_dealer);

    // Staff do not hire staff.
    let r = app
        .gql(
            USER_CREATE,
            json!({ "i": staff_input(&demo, &demo.owner_dealer) }),
            Some(&token),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    assert_eq!(count().await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_prices_only_for_its_own_store() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;
    let prices = || async {
        let d = app
            .gql(
                "query($id: ID!) { product(id: $id) { skus { id offers { priceFen dealer { id } } } } }",
                json!({ "id": demo.product }),
                None,
            )
            .await
            .ok();
        let sku = d["product"]["skus"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == demo.sku)
            .unwrap()
            .clone();
        sku["offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["dealer"]["id"].as_str().unwrap().to_owned(),
                    o["priceFen"].as_i64().unwrap(),
                )
            })
            .collect::<HashMap<String, i64>>()
    };
    let before = prices().await;

    // The county store's owner and the Hougang store's staff each try the other's price.
    let owner = "DEALER (OWNER)";
    let staff = "DEALER (STAFF)";
    for (who, target) in [
        (owner, &demo.staff_dealer),
        (owner, &demo.other_dealer),
        (staff, &demo.owner_dealer),
    ] {
        refused(
            &app,
            &demo,
            who,
            &offer_set(target, &demo.sku, 1),
            "FORBIDDEN",
        )
        .await;
    }
    assert_eq!(prices().await, before, "a refused offer changed a price");

    // Each prices their own.
    allowed(
        &app,
        &demo,
        owner,
        &offer_set(&demo.owner_dealer, &demo.sku, 10_100),
    )
    .await;
    allowed(
        &app,
        &demo,
        staff,
        &offer_set(&demo.staff_dealer, &demo.sku, 10_200),
    )
    .await;
    let after = prices().await;
    assert_eq!(after[demo.owner_dealer.as_str().unwrap()], 10_100);
    assert_eq!(after[demo.staff_dealer.as_str().unwrap()], 10_200);
    for (dealer, price) in &before {
        if *dealer != demo.owner_dealer && *dealer != demo.staff_dealer {
            assert_eq!(after[dealer], *price, "another dealer's price moved");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_edits_only_the_products_it_listed() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;
    let owner = "DEALER (OWNER)";
    let staff = "DEALER (STAFF)";
    let name_of = |id: Value| {
        let app = &app;
        async move {
            app.gql(
                "query($id: ID!) { product(id: $id) { nameZh } }",
                json!({ "id": id }),
                None,
            )
            .await
            .ok()["product"]["nameZh"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };

    // Each store lists a product of its own.
    let mine = allowed(&app, &demo, owner, &product_create(&demo)).await["id"].clone();
    let theirs = allowed(&app, &demo, staff, &product_create(&demo)).await["id"].clone();

    // The owner edits theirs, not the other store's nor a demo product nobody listed.
    let p = allowed(
        &app,
        &demo,
        owner,
        &product_update(&demo, &mine, "惠农自有复合肥"),
    )
    .await;
    assert_eq!(p["nameZh"], "惠农自有复合肥");
    let theirs_name = name_of(theirs.clone()).await;
    let demo_name = name_of(demo.product.clone()).await;
    for target in [&theirs, &demo.product] {
        refused(
            &app,
            &demo,
            owner,
            &product_update(&demo, target, "被改名"),
            "FORBIDDEN",
        )
        .await;
    }
    assert_eq!(name_of(theirs.clone()).await, theirs_name);
    assert_eq!(name_of(demo.product.clone()).await, demo_name);

    // The other store's staff may not edit the owner's product, nor add packs to it.
    refused(
        &app,
        &demo,
        staff,
        &product_update(&demo, &mine, "被改名"),
        "FORBIDDEN",
    )
    .await;
    refused(&app, &demo, staff, &sku_create(&mine), "FORBIDDEN").await;
    assert_eq!(name_of(mine.clone()).await, "惠农自有复合肥");
    // The owner may add packs to their own product.
    allowed(&app, &demo, owner, &sku_create(&mine)).await;

    // Nor may a dealer delist it, even its own; the admin may, and may edit any product.
    refused(&app, &demo, owner, &set_status(&mine, false), "FORBIDDEN").await;
    let p = allowed(&app, &demo, "ADMIN", &set_status(&mine, false)).await;
    assert_eq!(p["status"], "DELISTED");
    let p = allowed(
        &app,
        &demo,
        "ADMIN",
        &product_update(&demo, &theirs, "管理员改名"),
    )
    .await;
    assert_eq!(p["nameZh"], "管理员改名");
}

// ---------------------------------------------------------------- lots, stock and trace

/// A date `days` from today (China Standard Time), as the API takes it.
fn day(days: i64) -> String {
    (domain::today() + chrono::Duration::days(days)).to_string()
}

async fn ok(app: &TestApp, token: Option<&str>, doc: &str, vars: Value) -> Value {
    app.gql(doc, vars, token).await.ok()
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v:#}"))
}

/// What the stock matrices work on: a fertiliser pack with a GTIN that both the owner's and
/// the staff member's dealers offer, a lot of it in stock at both stores (expiring before the
/// demo lot, so sales take it first), both stores, and a village station both dealers serve.
struct StockSetup {
    sku: Value,
    gtin: String,
    lot: Value,
    owner_store: Value,
    staff_store: Value,
    station: Value,
}

const LOT_CREATE: &str = "mutation($i: LotInput!) { lotCreate(input: $i) { lot { id status unitCodes { code } } errors { field code } } }";

impl StockSetup {
    async fn load(app: &TestApp, demo: &Demo) -> StockSetup {
        let admin = demo.token("ADMIN");
        let offers = "query($d: ID!) { dealer(id: $d) { serviceArea { id } offers { sku { id gtin product { category } } } } }";
        let owner_d =
            ok(app, admin, offers, json!({ "d": demo.owner_dealer })).await["dealer"].clone();
        let staff_d =
            ok(app, admin, offers, json!({ "d": demo.staff_dealer })).await["dealer"].clone();
        let staff_skus: Vec<&Value> = list(&staff_d["offers"])
            .iter()
            .map(|o| &o["sku"]["id"])
            .collect();
        let sku = list(&owner_d["offers"])
            .iter()
            .map(|o| &o["sku"])
            .find(|s| {
                s["product"]["category"] == "FERTILISER"
                    && s["gtin"].is_string()
                    && staff_skus.contains(&&s["id"])
            })
            .expect("a fertiliser pack with a GTIN both dealers offer")
            .clone();
        let lot = ok(
            app,
            admin,
            LOT_CREATE,
            json!({ "i": { "skuId": sku["id"], "lotNo": "ROLES-0", "producedOn": day(-10), "expiresOn": day(200) } }),
        )
        .await["lotCreate"]["lot"]["id"]
            .clone();
        assert!(lot.is_string());
        for dealer in [&demo.owner_dealer, &demo.staff_dealer] {
            let r = ok(app, admin, RECEIVE, receive_vars(dealer, &lot, 100)).await;
            assert_eq!(r["stockReceive"]["errors"], json!([]));
        }
        let store = |dealer: Value| async move {
            let rows = ok(
                app,
                admin,
                "query($d: ID!) { stock(dealerId: $d) { location { id kind } } }",
                json!({ "d": dealer }),
            )
            .await;
            list(&rows["stock"])
                .iter()
                .find(|r| r["location"]["kind"] == "DEALER_STORE")
                .expect("stock at the store")["location"]["id"]
                .clone()
        };
        let owner_store = store(demo.owner_dealer.clone()).await;
        let staff_store = store(demo.staff_dealer.clone()).await;

        // The demo's transfer to a village station gives the station's stock location; both
        // dealers are made to serve its village.
        let dealers = ok(app, None, "{ dealers { id } }", json!({})).await;
        let mut station = None;
        for d in list(&dealers["dealers"]) {
            let t = ok(
                app,
                admin,
                "query($d: ID!) { transfers(dealerId: $d) { toLocation { id kind stationId } } }",
                json!({ "d": d["id"] }),
            )
            .await;
            station = station.or_else(|| {
                list(&t["transfers"])
                    .iter()
                    .map(|t| t["toLocation"].clone())
                    .find(|l| l["kind"] == "STATION")
            });
        }
        let station = station.expect("the demo transfer to a station");
        let stations = ok(app, None, "{ stations { id village { id } } }", json!({})).await;
        let village = list(&stations["stations"])
            .iter()
            .find(|s| s["id"] == station["stationId"])
            .expect("the station")["village"]["id"]
            .clone();
        for (dealer, info) in [
            (&demo.owner_dealer, &owner_d),
            (&demo.staff_dealer, &staff_d),
        ] {
            let mut area: Vec<Value> = list(&info["serviceArea"])
                .iter()
                .map(|v| v["id"].clone())
                .collect();
            if !area.contains(&village) {
                area.push(village.clone());
                let r = ok(
                    app,
                    admin,
                    "mutation($d: ID!, $v: [ID!]!) { dealerServiceAreaSet(dealerId: $d, villageIds: $v) { errors { code } } }",
                    json!({ "d": dealer, "v": area }),
                )
                .await;
                assert_eq!(r["dealerServiceAreaSet"]["errors"], json!([]));
            }
        }
        StockSetup {
            gtin: sku["gtin"].as_str().unwrap().to_owned(),
            sku: sku["id"].clone(),
            lot,
            owner_store,
            staff_store,
            station: station["id"].clone(),
        }
    }

    /// The store of the dealer a role works for (the owner's for anyone else).
    fn store_of(&self, who: &str) -> &Value {
        match who {
            "DEALER (STAFF)" => &self.staff_store,
            _ => &self.owner_store,
        }
    }

    /// A fresh lot of the pack, created by the admin.
    async fn new_lot(&self, app: &TestApp, demo: &Demo) -> Value {
        let r = allowed(app, demo, "ADMIN", &lot_create(self, demo.next())).await;
        r["id"].clone()
    }
}

fn lot_create(s: &StockSetup, n: u32) -> Call {
    Call {
        field: "lotCreate",
        object: "lot",
        doc: LOT_CREATE,
        vars: json!({ "i": { "skuId": s.sku, "lotNo": format!("RL{n}"), "producedOn": day(-10), "expiresOn": day(300) } }),
    }
}

fn add_codes(s: &StockSetup, n: u32) -> Call {
    Call {
        field: "lotAddUnitCodes",
        object: "lot",
        doc: "mutation($l: ID!, $c: [String!]!) { lotAddUnitCodes(lotId: $l, codes: $c) { lot { id unitCodes { code kind } } errors { field code } } }",
        vars: json!({ "l": s.lot, "c": [format!("ROLESUNIT{n:06}")] }),
    }
}

fn record_inspection(s: &StockSetup) -> Call {
    Call {
        field: "lotRecordInspection",
        object: "lot",
        doc: "mutation($l: ID!, $i: InspectionInput!) { lotRecordInspection(lotId: $l, inspection: $i) { lot { id status inspection { result } } errors { field code } } }",
        vars: json!({ "l": s.lot, "i": { "reportNo": "JC-ROLES", "lab": "荆门市农产品质量检测中心", "result": "CONFORMANT", "date": day(-1) } }),
    }
}

fn lot_status_call(field: &'static str, lot: &Value) -> Call {
    let doc = match field {
        "lotHold" => {
            "mutation($l: ID!, $r: String!) { lotHold(lotId: $l, reason: $r) { lot { id status } errors { field code } } }"
        }
        "lotRelease" => {
            "mutation($l: ID!, $r: String!) { lotRelease(lotId: $l, reason: $r) { lot { id status } errors { field code } } }"
        }
        _ => {
            "mutation($l: ID!, $r: String!) { lotRecall(lotId: $l, reason: $r) { lot { id status } errors { field code } } }"
        }
    };
    Call {
        field,
        object: "lot",
        doc,
        vars: json!({ "l": lot, "r": "监督抽检" }),
    }
}

const RECEIVE: &str = "mutation($i: ReceiveInput!) { stockReceive(input: $i) { receipt { id quantity } errors { field code } } }";

fn receive_vars(dealer: &Value, lot: &Value, quantity: i64) -> Value {
    json!({ "i": {
        "dealerId": dealer, "lotId": lot, "quantity": quantity, "unitCostFen": 5000,
        "supplier": { "name": "荆门市农业生产资料有限公司", "licenceNo": "(鄂)农资批发E2E-0001", "contact": "0724-2345678" },
        "sourceDocument": "RK-ROLES",
    } })
}

fn receive(s: &StockSetup, dealer: &Value) -> Call {
    Call {
        field: "stockReceive",
        object: "receipt",
        doc: RECEIVE,
        vars: receive_vars(dealer, &s.lot, 5),
    }
}

fn receive_csv(s: &StockSetup, dealer: &Value, n: u32) -> Call {
    let csv = format!(
        "sku,lot_no,produced_on,expires_on,quantity,unit_cost,supplier_name,supplier_licence_no,supplier_contact,source_document\n{},RC{n},{},{},3,50.00,荆门市农业生产资料有限公司,(鄂)农资批发E2E-0001,0724-2345678,RK-CSV-{n}\n",
        s.gtin,
        day(-10),
        day(300)
    );
    Call {
        field: "stockReceiveCsv",
        object: "received",
        // The row errors stand in for `errors`: none when the file is taken.
        doc: "mutation($d: ID!, $c: String!) { stockReceiveCsv(dealerId: $d, csv: $c, policy: REJECT_ALL) { committed received { id quantity } errors: rowErrors { line column code } } }",
        vars: json!({ "d": dealer, "c": csv }),
    }
}

fn adjust(s: &StockSetup, dealer: &Value, store: &Value) -> Call {
    Call {
        field: "stockAdjust",
        object: "ok",
        doc: "mutation($i: AdjustInput!) { stockAdjust(input: $i) { ok errors { field code } } }",
        vars: json!({ "i": { "dealerId": dealer, "locationId": store, "lotId": s.lot, "delta": 1,
                             "reason": "COUNT_CORRECTION", "note": "盘点多出一袋" } }),
    }
}

fn destroy(s: &StockSetup, dealer: &Value, store: &Value) -> Call {
    Call {
        field: "stockDestroy",
        object: "ok",
        doc: "mutation($i: DestroyInput!) { stockDestroy(input: $i) { ok errors { field code } } }",
        vars: json!({ "i": { "dealerId": dealer, "locationId": store, "lotId": s.lot, "quantity": 1,
                             "reason": "包装破损，无法销售" } }),
    }
}

fn counter_sale(s: &StockSetup, dealer: &Value) -> Call {
    Call {
        field: "counterSale",
        object: "sale",
        doc: "mutation($i: CounterSaleInput!) { counterSale(input: $i) { sale { id dealer { id } lines { quantity lot { id } } } errors { field code } } }",
        vars: json!({ "i": { "dealerId": dealer, "lines": [{ "skuId": s.sku, "quantity": 1 }] } }),
    }
}

fn stock_return(sale: &Value) -> Call {
    Call {
        field: "stockReturn",
        object: "ok",
        doc: "mutation($s: ID!, $l: ID!) { stockReturn(saleId: $s, lotId: $l, quantity: 1, reason: \"买多了，原包装退回\") { ok errors { field code } } }",
        vars: json!({ "s": sale["id"], "l": sale["lines"][0]["lot"]["id"] }),
    }
}

fn ship(s: &StockSetup, dealer: &Value, store: &Value) -> Call {
    Call {
        field: "stockTransferShip",
        object: "transfer",
        doc: "mutation($i: TransferInput!) { stockTransferShip(input: $i) { transfer { id status } errors { field code } } }",
        vars: json!({ "i": { "dealerId": dealer, "lotId": s.lot, "fromLocationId": store,
                             "toLocationId": s.station, "quantity": 1 } }),
    }
}

fn transfer_receive(transfer: &Value) -> Call {
    Call {
        field: "stockTransferReceive",
        object: "transfer",
        doc: "mutation($t: ID!) { stockTransferReceive(transferId: $t) { transfer { id status } errors { field code } } }",
        vars: json!({ "t": transfer["id"] }),
    }
}

fn correct(event: &Value) -> Call {
    Call {
        field: "traceEventCorrect",
        object: "event",
        doc: "mutation($e: ID!, $r: String!) { traceEventCorrect(eventId: $e, reason: $r) { event { id bizStep correctsEventId } errors { field code } } }",
        vars: json!({ "e": event["id"], "r": "录入错误" }),
    }
}

/// The index of a role's own result among the allowed ones of a dealer matrix (the admin's for
/// refused roles).
fn own(who: &str) -> usize {
    match who {
        "DEALER (OWNER)" => 1,
        "DEALER (STAFF)" => 2,
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lot_and_trace_mutations_by_role() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;
    let s = StockSetup::load(&app, &demo).await;
    let dealers = ["ADMIN", "DEALER (OWNER)", "DEALER (STAFF)"];
    let officials = ["ADMIN", "REGULATOR"];
    let checkers = ["ADMIN", "REGULATOR", "DEALER (OWNER)", "DEALER (STAFF)"];

    // Lots and their unit codes: admins and dealers.
    let lots = matrix(&app, &demo, &dealers, |d, _| lot_create(&s, d.next())).await;
    assert!(lots.iter().all(|l| l["status"] == "ACTIVE"));
    let coded = matrix(&app, &demo, &dealers, |d, _| add_codes(&s, d.next())).await;
    assert_eq!(list(&coded[2]["unitCodes"]).len(), 3);
    assert_eq!(coded[2]["unitCodes"][0]["kind"], "GENERIC");
    // Inspections: also regulators.
    let inspected = matrix(&app, &demo, &checkers, |_, _| record_inspection(&s)).await;
    assert!(
        inspected
            .iter()
            .all(|l| l["inspection"]["result"] == "CONFORMANT")
    );

    // Hold, release and recall: regulators and admins, each on a lot of its own (the refused
    // roles try the admin's, while it can still take the step).
    let pick = |who: &str| {
        if who == "REGULATOR" {
            &lots[1]
        } else {
            &lots[0]
        }
    };
    let held = matrix(&app, &demo, &officials, |_, who| {
        lot_status_call("lotHold", &pick(who)["id"])
    })
    .await;
    assert!(held.iter().all(|l| l["status"] == "ON_HOLD"));
    let released = matrix(&app, &demo, &officials, |_, who| {
        lot_status_call("lotRelease", &pick(who)["id"])
    })
    .await;
    assert!(released.iter().all(|l| l["status"] == "ACTIVE"));
    let extra = s.new_lot(&app, &demo).await;
    let recalled = matrix(&app, &demo, &officials, |_, who| {
        lot_status_call(
            "lotRecall",
            if who == "REGULATOR" {
                &extra
            } else {
                &lots[2]["id"]
            },
        )
    })
    .await;
    assert!(recalled.iter().all(|l| l["status"] == "RECALLED"));

    // Error declarations: officials on any event, dealers on their own dealer's events only.
    let ev = ok(
        &app,
        demo.token("ADMIN"),
        "query($id: ID!) { lot(id: $id) { events { id bizStep dealer { id } } } }",
        json!({ "id": s.lot }),
    )
    .await;
    let events = list(&ev["lot"]["events"]);
    let of = |dealer: &Value| {
        events
            .iter()
            .find(|e| e["dealer"]["id"] == *dealer)
            .expect("an event of the dealer")
            .clone()
    };
    let (owner_event, staff_event) = (of(&demo.owner_dealer), of(&demo.staff_dealer));
    let producer_event = events
        .iter()
        .find(|e| e["bizStep"] == "commissioning")
        .unwrap()
        .clone();
    let corrections = matrix(&app, &demo, &checkers, |_, who| {
        correct(if who == "DEALER (STAFF)" {
            &staff_event
        } else {
            &owner_event
        })
    })
    .await;
    assert!(corrections.iter().all(|e| e["bizStep"] == "correcting"));
    assert_eq!(corrections[3]["correctsEventId"], staff_event["id"]);
    for (who, event) in [
        ("DEALER (STAFF)", &owner_event),
        ("DEALER (OWNER)", &staff_event),
        ("DEALER (OWNER)", &producer_event),
    ] {
        refused(&app, &demo, who, &correct(event), "FORBIDDEN").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_mutations_by_role() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;
    let s = StockSetup::load(&app, &demo).await;
    let dealers = ["ADMIN", "DEALER (OWNER)", "DEALER (STAFF)"];

    // Every stock mutation: the admin for any dealer, dealers for their own.
    let receipts = matrix(&app, &demo, &dealers, |d, who| {
        receive(&s, dealer_of(d, who))
    })
    .await;
    assert!(receipts.iter().all(|r| r["quantity"] == 5));
    let files = matrix(&app, &demo, &dealers, |d, who| {
        receive_csv(&s, dealer_of(d, who), d.next())
    })
    .await;
    for f in &files {
        assert_eq!(list(f).len(), 1);
        assert_eq!(f[0]["quantity"], 3);
    }
    let adjusted = matrix(&app, &demo, &dealers, |d, who| {
        adjust(&s, dealer_of(d, who), s.store_of(who))
    })
    .await;
    assert!(adjusted.iter().all(|ok| *ok == true));
    let destroyed = matrix(&app, &demo, &dealers, |d, who| {
        destroy(&s, dealer_of(d, who), s.store_of(who))
    })
    .await;
    assert!(destroyed.iter().all(|ok| *ok == true));
    let sales = matrix(&app, &demo, &dealers, |d, who| {
        counter_sale(&s, dealer_of(d, who))
    })
    .await;
    assert_eq!(sales[2]["dealer"]["id"], demo.staff_dealer);
    assert!(sales.iter().all(|s| s["lines"][0]["quantity"] == 1));
    let returned = matrix(&app, &demo, &dealers, |_, who| {
        stock_return(&sales[own(who)])
    })
    .await;
    assert!(returned.iter().all(|ok| *ok == true));
    let shipped = matrix(&app, &demo, &dealers, |d, who| {
        ship(&s, dealer_of(d, who), s.store_of(who))
    })
    .await;
    assert!(shipped.iter().all(|t| t["status"] == "IN_TRANSIT"));
    let received = matrix(&app, &demo, &dealers, |_, who| {
        transfer_receive(&shipped[own(who)])
    })
    .await;
    assert!(received.iter().all(|t| t["status"] == "RECEIVED"));

    // A dealer never works another dealer's stock.
    let (owner, staff) = ("DEALER (OWNER)", "DEALER (STAFF)");
    for (who, call) in [
        (owner, receive(&s, &demo.staff_dealer)),
        (owner, receive_csv(&s, &demo.staff_dealer, demo.next())),
        (owner, adjust(&s, &demo.staff_dealer, &s.staff_store)),
        (owner, destroy(&s, &demo.staff_dealer, &s.staff_store)),
        (owner, ship(&s, &demo.staff_dealer, &s.staff_store)),
        (owner, stock_return(&sales[2])),
        (staff, counter_sale(&s, &demo.owner_dealer)),
        (staff, transfer_receive(&shipped[0])),
    ] {
        refused(&app, &demo, who, &call, "FORBIDDEN").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_marked_read_only_by_their_owner() {
    let app = spawn_app().await;
    let demo = Demo::load(&app).await;
    let s = StockSetup::load(&app, &demo).await;
    // A recall of the lot both dealers hold notifies the users of both.
    allowed(
        &app,
        &demo,
        "REGULATOR",
        &lot_status_call("lotRecall", &s.lot),
    )
    .await;
    let unread = |who: &'static str| {
        let (app, demo) = (&app, &demo);
        async move {
            let d = ok(
                app,
                demo.token(who),
                "{ notifications(unreadOnly: true) { id kind } }",
                json!({}),
            )
            .await;
            list(&d["notifications"])
                .iter()
                .map(|n| n["id"].clone())
                .collect::<Vec<Value>>()
        }
    };
    let mark = |ids: Vec<Value>| Call {
        field: "notificationsMarkRead",
        object: "",
        doc: "mutation($i: [ID!]!) { notificationsMarkRead(ids: $i) }",
        vars: json!({ "i": ids }),
    };
    let owner_ids = unread("DEALER (OWNER)").await;
    assert_eq!(owner_ids.len(), 1);
    assert_eq!(unread("DEALER (STAFF)").await.len(), 1);

    // Anonymous callers are refused; another user marks nothing of the owner's.
    refused(
        &app,
        &demo,
        "ANONYMOUS",
        &mark(owner_ids.clone()),
        "UNAUTHENTICATED",
    )
    .await;
    for who in ROLES.iter().filter(|r| **r != "DEALER (OWNER)") {
        let d = attempt(&app, &demo, who, &mark(owner_ids.clone()))
            .await
            .ok();
        assert_eq!(d["notificationsMarkRead"], 0, "{who} marked the owner's");
    }
    assert_eq!(unread("DEALER (OWNER)").await, owner_ids);

    // Every user marks their own.
    for who in ROLES {
        let mine = unread(who).await;
        let d = attempt(&app, &demo, who, &mark(mine.clone())).await.ok();
        assert_eq!(d["notificationsMarkRead"], mine.len());
        assert_eq!(unread(who).await, Vec::<Value>::new());
        let d = attempt(&app, &demo, who, &mark(mine)).await.ok();
        assert_eq!(d["notificationsMarkRead"], 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_and_field_mutations_by_role() {
    let app = spawn_app().await;
    app.load_demo().await;
    let farmer = app.demo_token("FARMER").await;
    let owner = app.demo_token("DEALER (OWNER)").await;
    let staff = app.demo_token("DEALER (STAFF)").await;
    let regulator = app.demo_token("REGULATOR").await;
    let me = app
        .gql("{ me { id village { id } } }", json!({}), Some(&farmer))
        .await
        .ok();
    let farmer_id = me["me"]["id"].clone();
    let village = me["me"]["village"]["id"].clone();
    let owner_dealer = app
        .gql("{ me { dealer { id } } }", json!({}), Some(&owner))
        .await
        .ok()["me"]["dealer"]["id"]
        .clone();
    let staff_dealer = app
        .gql("{ me { dealer { id } } }", json!({}), Some(&staff))
        .await
        .ok()["me"]["dealer"]["id"]
        .clone();
    // An offer of the owner's store of a fertiliser in stock.
    let offers = app
        .gql(
            "query($d: ID!) { dealer(id: $d) { offers { id sku { product { category } } } } }",
            json!({ "d": owner_dealer }),
            None,
        )
        .await
        .ok();
    let offer = offers["dealer"]["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["sku"]["product"]["category"] == "FERTILISER")
        .unwrap()["id"]
        .clone();

    let cart_set = "mutation($o: ID!) { cartSet(offerId: $o, quantity: 1) { cart { totalFen } errors { code } } }";
    let field = "mutation($v: ID!) { fieldCreate(input: { name: \"角色测试田\", areaMu: 3, villageId: $v }) { field { id } errors { code } } }";
    let limit = "mutation($d: ID!, $f: ID!) { creditLimitSet(dealerId: $d, farmerId: $f, limitFen: 100000) { account { limitFen } errors { code } } }";
    let repay = "mutation($d: ID!, $f: ID!) { creditRepay(dealerId: $d, farmerId: $f, amountFen: 100) { account { balanceFen } errors { code } } }";
    let simple = [
        "mutation { cartAcceptPrices { cart { totalFen } } }",
        "mutation { cartClear { cart { totalFen } } }",
    ];
    let place = "mutation { orderPlace(input: { default: { deliveryMode: PICKUP, paymentMethod: CASH_ON_DELIVERY } }, idempotencyKey: \"roles-1\") { orders { id } errors { code } } }";

    // Nobody anonymous.
    for (doc, vars) in [
        (cart_set, json!({ "o": offer })),
        (field, json!({ "v": village })),
        (limit, json!({ "d": owner_dealer, "f": farmer_id })),
        (repay, json!({ "d": owner_dealer, "f": farmer_id })),
        (simple[0], json!({})),
        (simple[1], json!({})),
        (place, json!({})),
        (
            "mutation { orderTransition(orderId: \"x\", to: CONFIRMED) { errors { code } } }",
            json!({}),
        ),
    ] {
        assert_eq!(
            app.gql(doc, vars, None).await.error_code(),
            Some("UNAUTHENTICATED"),
            "{doc}"
        );
    }
    // Carts, fields and checkout are a farmer's; dealers and regulators are refused.
    for token in [&owner, &regulator] {
        assert_eq!(
            app.gql(cart_set, json!({ "o": offer }), Some(token))
                .await
                .error_code(),
            Some("FORBIDDEN")
        );
        assert_eq!(
            app.gql(field, json!({ "v": village }), Some(token))
                .await
                .error_code(),
            Some("FORBIDDEN")
        );
        assert_eq!(
            app.gql(simple[0], json!({}), Some(token))
                .await
                .error_code(),
            Some("FORBIDDEN")
        );
        assert_eq!(
            app.gql(simple[1], json!({}), Some(token))
                .await
                .error_code(),
            Some("FORBIDDEN")
        );
        assert_eq!(
            app.gql(place, json!({}), Some(token)).await.error_code(),
            Some("FORBIDDEN")
        );
    }
    assert_eq!(
        app.gql(field, json!({ "v": village }), Some(&farmer))
            .await
            .ok()["fieldCreate"]["errors"],
        json!([])
    );
    assert_eq!(
        app.gql(cart_set, json!({ "o": offer }), Some(&farmer))
            .await
            .ok()["cartSet"]["errors"],
        json!([])
    );
    for doc in simple {
        assert!(
            app.gql(doc, json!({}), Some(&farmer))
                .await
                .body
                .get("errors")
                .is_none()
        );
    }
    app.gql(cart_set, json!({ "o": offer }), Some(&farmer))
        .await
        .ok();
    let placed = app.gql(place, json!({}), Some(&farmer)).await.ok();
    let order = placed["orderPlace"]["orders"][0]["id"].clone();
    assert!(order.is_string(), "{placed:#}");

    // Credit limits: the dealer's owner only; staff and farmers are refused.
    assert_eq!(
        app.gql(
            limit,
            json!({ "d": owner_dealer, "f": farmer_id }),
            Some(&farmer)
        )
        .await
        .error_code(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        app.gql(
            limit,
            json!({ "d": staff_dealer, "f": farmer_id }),
            Some(&staff)
        )
        .await
        .error_code(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        app.gql(
            limit,
            json!({ "d": owner_dealer, "f": farmer_id }),
            Some(&owner)
        )
        .await
        .ok()["creditLimitSet"]["account"]["limitFen"],
        100000
    );
    // Repayments: the dealer's staff; not a farmer, not another dealer.
    assert_eq!(
        app.gql(
            repay,
            json!({ "d": owner_dealer, "f": farmer_id }),
            Some(&farmer)
        )
        .await
        .error_code(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        app.gql(
            repay,
            json!({ "d": owner_dealer, "f": farmer_id }),
            Some(&staff)
        )
        .await
        .error_code(),
        Some("FORBIDDEN")
    );
    // Nothing is owed yet, so the owner's repayment is a rule error, not a role error.
    assert_eq!(
        app.gql(
            repay,
            json!({ "d": owner_dealer, "f": farmer_id }),
            Some(&owner)
        )
        .await
        .ok()["creditRepay"]["errors"][0]["code"],
        "OUT_OF_RANGE"
    );

    // Transitions: another dealer does not even see the order; the farmer cannot confirm it;
    // its dealer can.
    let confirm = "mutation($o: ID!) { orderTransition(orderId: $o, to: CONFIRMED) { order { status } errors { code from to } } }";
    assert_eq!(
        app.gql(confirm, json!({ "o": order }), Some(&staff))
            .await
            .error_code(),
        Some("NOT_FOUND")
    );
    let by_farmer = app
        .gql(confirm, json!({ "o": order }), Some(&farmer))
        .await
        .ok();
    assert_eq!(
        by_farmer["orderTransition"]["errors"][0]["code"],
        "INVALID_TRANSITION"
    );
    let by_owner = app
        .gql(confirm, json!({ "o": order }), Some(&owner))
        .await
        .ok();
    assert_eq!(by_owner["orderTransition"]["order"]["status"], "CONFIRMED");
}
