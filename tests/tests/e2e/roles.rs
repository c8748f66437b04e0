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
const GUARDED: [&str; 13] = [
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
    let covered: BTreeSet<&str> = PUBLIC.iter().chain(GUARDED.iter()).copied().collect();
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
