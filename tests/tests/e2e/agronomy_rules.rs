//! 测土配方施肥, the rules around the happy path of agronomy.rs: who sees and does what (a
//! farmer their own fields, an agronomist their counties, a dealer nothing), a rejected lab CSV
//! writes nothing, the review (reject, publish, revise, supersede), manual rates and bad
//! parameters, the warnings of "basket to cart", regional formulas, input validation, and the
//! roles of every agronomy mutation.
//!
//! Demo data used (api/data/demo.toml, api/src/demo.rs): farmer 陈大山 (13800000006) owns the
//! rice fields 村东水田 (8 mu) and 大塘田 (12 mu); farmer 郭春花 (13800000007) owns 河边旱地
//! (rapeseed) and 坡上田 (rice, 6 mu); each field has a crop plan and one soil test. IDs always
//! come from queries.

use e2e::{Gql, TestApp, spawn_app};
use serde_json::{Value, json};

const ERRS: &str = "errors { field code message }";

const REC: &str = "id version status method supersedesId rejectReason signature signedAt notesZh
    rates { nKgPerMu p2o5KgPerMu k2oKgPerMu } parameters
    basket { feasible costFen lines { offerId dealerId skuId productName analysis bagKg bags priceFenPerBag subtotalFen } }";

/// The demo users' tokens.
struct Demo {
    admin: String,
    regulator: String,
    agronomist: String,
    owner: String,
    staff: String,
    /// 陈大山: 村东水田, 大塘田.
    farmer: String,
    /// 郭春花: 河边旱地, 坡上田.
    farmer2: String,
}

async fn demo(app: &TestApp) -> Demo {
    app.load_demo().await;
    let farmers: Vec<_> = e2e::nongzi::demo::credentials()
        .unwrap()
        .into_iter()
        .filter(|c| c.role == "FARMER")
        .collect();
    assert_eq!(farmers.len(), 2, "the demo has two farmers");
    Demo {
        admin: app.demo_token("ADMIN").await,
        regulator: app.demo_token("REGULATOR").await,
        agronomist: app.demo_token("AGRONOMIST").await,
        owner: app.demo_token("DEALER (OWNER)").await,
        staff: app.demo_token("DEALER (STAFF)").await,
        farmer: app.login(&farmers[0].phone, &farmers[0].password).await.0,
        farmer2: app.login(&farmers[1].phone, &farmers[1].password).await.0,
    }
}

/// The ID of the caller's field called `name`.
async fn field_id(app: &TestApp, farmer: &str, name: &str) -> String {
    let d = app
        .gql("{ myFields { id name } }", json!({}), Some(farmer))
        .await
        .ok();
    d["myFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}: {d:#}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The latest crop plan of a field.
async fn plan_id(app: &TestApp, token: &str, field: &str) -> String {
    let d = app
        .gql(
            "query($f: ID!) { cropPlans(fieldId: $f) { id crop } }",
            json!({ "f": field }),
            Some(token),
        )
        .await
        .ok();
    d["cropPlans"][0]["id"].as_str().unwrap().to_owned()
}

async fn soil_tests(app: &TestApp, token: &str, field: &str) -> Vec<Value> {
    let d = app
        .gql(
            "query($f: ID!) { soilTests(fieldId: $f) { id lab labSampleId ph availableKMgKg } }",
            json!({ "f": field }),
            Some(token),
        )
        .await
        .ok();
    d["soilTests"].as_array().unwrap().clone()
}

async fn draft_call(app: &TestApp, token: &str, field: &str, plan: &str, params: Value) -> Gql {
    app.gql(
        &format!(
            "mutation($f: ID!, $p: ID!, $params: RecommendationParamsInput) {{ recommendationDraft(fieldId: $f, cropPlanId: $p, params: $params) {{ recommendation {{ {REC} }} {ERRS} }} }}"
        ),
        json!({ "f": field, "p": plan, "params": params }),
        Some(token),
    )
    .await
}

/// A draft that must succeed.
async fn draft(app: &TestApp, token: &str, field: &str, plan: &str, params: Value) -> Value {
    let d = draft_call(app, token, field, plan, params).await.ok();
    let p = &d["recommendationDraft"];
    assert_eq!(p["errors"], json!([]), "{p:#}");
    assert_eq!(p["recommendation"]["status"], "DRAFT");
    p["recommendation"].clone()
}

/// Calls a mutation that takes a recommendation `id` and returns a RecommendationPayload.
async fn rec_mutation(app: &TestApp, token: Option<&str>, name: &str, id: &str) -> Gql {
    let args = if name == "recommendationReject" {
        "id: $id, reason: \"测试\""
    } else if name == "recommendationEdit" {
        "id: $id, notesZh: \"测试\""
    } else {
        "id: $id"
    };
    app.gql(
        &format!("mutation($id: ID!) {{ {name}({args}) {{ recommendation {{ {REC} }} {ERRS} }} }}"),
        json!({ "id": id }),
        token,
    )
    .await
}

async fn publish(app: &TestApp, token: &str, id: &str) -> Value {
    let d = rec_mutation(app, Some(token), "recommendationPublish", id)
        .await
        .ok();
    let p = &d["recommendationPublish"];
    assert_eq!(p["errors"], json!([]), "{p:#}");
    assert_eq!(p["recommendation"]["status"], "PUBLISHED");
    p["recommendation"].clone()
}

async fn reject(app: &TestApp, token: &str, id: &str, reason: &str) -> Value {
    app.gql(
        &format!("mutation($id: ID!, $r: String!) {{ recommendationReject(id: $id, reason: $r) {{ recommendation {{ {REC} }} {ERRS} }} }}"),
        json!({ "id": id, "r": reason }),
        Some(token),
    )
    .await
    .ok()["recommendationReject"]
        .clone()
}

async fn recommendation(app: &TestApp, token: &str, id: &str) -> Gql {
    app.gql(
        &format!("query($id: ID!) {{ recommendation(id: $id) {{ {REC} }} }}"),
        json!({ "id": id }),
        Some(token),
    )
    .await
}

async fn field_recs(app: &TestApp, token: &str, field: &str) -> Vec<Value> {
    let d = app
        .gql(
            "query($f: ID!) { fieldRecommendations(fieldId: $f) { id version status } }",
            json!({ "f": field }),
            Some(token),
        )
        .await
        .ok();
    d["fieldRecommendations"].as_array().unwrap().clone()
}

async fn queue_ids(app: &TestApp, token: &str) -> Vec<String> {
    let d = app
        .gql("{ recommendationQueue { id } }", json!({}), Some(token))
        .await
        .ok();
    d["recommendationQueue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn to_cart(app: &TestApp, token: Option<&str>, id: &str) -> Gql {
    app.gql_with(
        "mutation($id: ID!) { recommendationToCart(id: $id) { ok warnings errors { field code message } } }",
        json!({ "id": id }),
        token,
        &[("accept-language", "en")],
    )
    .await
}

/// A refused call: the code, and no data leaks.
fn refused(g: &Gql, code: &str, what: &str) {
    assert_eq!(g.error_code(), Some(code), "{what}: {:#}", g.body);
    let data = g.data();
    let leaked = data
        .as_object()
        .is_some_and(|o| o.values().any(|v| !v.is_null()));
    assert!(!leaked, "{what}: data leaked: {:#}", g.body);
}

fn one_of(g: &Gql, codes: &[&str], what: &str) {
    assert!(
        g.error_code().is_some_and(|c| codes.contains(&c)),
        "{what}: expected one of {codes:?}: {:#}",
        g.body
    );
}

/// kg of N, P2O5, K2O a basket's lines supply.
fn supplied(basket: &Value) -> [f64; 3] {
    let mut s = [0.0; 3];
    for l in basket["lines"].as_array().unwrap() {
        let a: Vec<f64> = l["analysis"]
            .as_str()
            .unwrap()
            .split('-')
            .map(|x| x.parse().unwrap())
            .collect();
        let kg = l["bags"].as_f64().unwrap() * l["bagKg"].as_f64().unwrap();
        for i in 0..3 {
            s[i] += kg * a[i] / 100.0;
        }
    }
    s
}

// ---------------------------------------------------------------- farmers and dealers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_farmer_sees_only_their_own_and_a_dealer_sees_nothing() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let mine = field_id(&app, &d.farmer, "村东水田").await;
    let theirs = field_id(&app, &d.farmer2, "坡上田").await;

    // The agronomist publishes a recommendation for the other farmer's field, and leaves a
    // draft on this farmer's field.
    let their_plan = plan_id(&app, &d.agronomist, &theirs).await;
    let their_rec = draft(&app, &d.agronomist, &theirs, &their_plan, json!(null)).await;
    let their_rec_id = their_rec["id"].as_str().unwrap().to_owned();
    publish(&app, &d.agronomist, &their_rec_id).await;
    let my_plan = plan_id(&app, &d.farmer, &mine).await;
    let my_draft = draft(&app, &d.agronomist, &mine, &my_plan, json!(null)).await;
    let my_draft_id = my_draft["id"].as_str().unwrap().to_owned();

    // The owner sees their own field, its soil test and the published recommendation.
    let own = app
        .gql(
            "query($f: ID!) { field(id: $f) { id name areaMu } }",
            json!({ "f": theirs }),
            Some(&d.farmer2),
        )
        .await
        .ok();
    assert_eq!(own["field"]["name"], "坡上田");
    assert_eq!(own["field"]["areaMu"], 6.0);
    let tests = soil_tests(&app, &d.farmer2, &theirs).await;
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0]["ph"], 5.6);
    assert_eq!(tests[0]["availableKMgKg"], 70.0);
    let r = recommendation(&app, &d.farmer2, &their_rec_id).await.ok();
    assert_eq!(r["recommendation"]["status"], "PUBLISHED");
    let mine2 = app
        .gql("{ myRecommendations { id } }", json!({}), Some(&d.farmer2))
        .await
        .ok();
    assert_eq!(mine2["myRecommendations"], json!([{ "id": their_rec_id }]));

    // Another farmer: every one of those is NOT_FOUND, never data.
    let f = &d.farmer;
    let g = app
        .gql(
            "query($f: ID!) { field(id: $f) { id name } }",
            json!({ "f": theirs }),
            Some(f),
        )
        .await;
    refused(&g, "NOT_FOUND", "another farmer's field");
    for (doc, what) in [
        (
            "query($f: ID!) { soilTests(fieldId: $f) { id ph } }",
            "soil tests",
        ),
        (
            "query($f: ID!) { cropPlans(fieldId: $f) { id crop } }",
            "crop plans",
        ),
        (
            "query($f: ID!) { fieldRecommendations(fieldId: $f) { id } }",
            "field recommendations",
        ),
    ] {
        let g = app.gql(doc, json!({ "f": theirs }), Some(f)).await;
        refused(&g, "NOT_FOUND", &format!("another farmer's {what}"));
    }
    refused(
        &recommendation(&app, f, &their_rec_id).await,
        "NOT_FOUND",
        "another farmer's recommendation",
    );
    refused(
        &to_cart(&app, Some(f), &their_rec_id).await,
        "NOT_FOUND",
        "another farmer's basket",
    );
    let g = app
        .gql(
            "mutation($i: CropPlanInput!) { cropPlanCreate(input: $i) { cropPlan { id } errors { code } } }",
            json!({ "i": { "fieldId": theirs, "crop": "RICE", "season": "2027 中稻", "targetYieldKgPerMu": 600 } }),
            Some(f),
        )
        .await;
    refused(&g, "NOT_FOUND", "a crop plan on another farmer's field");
    let mine_now = app
        .gql("{ myRecommendations { id } }", json!({}), Some(f))
        .await
        .ok();
    assert_eq!(
        mine_now["myRecommendations"],
        json!([]),
        "a draft is not the farmer's yet"
    );

    // The farmer never sees a draft, nor a rejected one.
    refused(
        &recommendation(&app, f, &my_draft_id).await,
        "NOT_FOUND",
        "a draft",
    );
    assert_eq!(field_recs(&app, f, &mine).await, Vec::<Value>::new());
    let rj = reject(&app, &d.agronomist, &my_draft_id, "缺少空白区产量，请补充").await;
    assert_eq!(rj["errors"], json!([]), "{rj:#}");
    assert_eq!(rj["recommendation"]["status"], "REJECTED");
    refused(
        &recommendation(&app, f, &my_draft_id).await,
        "NOT_FOUND",
        "a rejected version",
    );
    assert_eq!(field_recs(&app, f, &mine).await, Vec::<Value>::new());
    let c = to_cart(&app, Some(f), &my_draft_id).await;
    refused(&c, "NOT_FOUND", "a rejected version's basket");

    // Dealers (owner and staff) and the regulator see none of it.
    for (who, t) in [
        ("dealer owner", &d.owner),
        ("dealer staff", &d.staff),
        ("regulator", &d.regulator),
    ] {
        for (doc, id) in [
            ("query($f: ID!) { field(id: $f) { id name } }", &theirs),
            (
                "query($f: ID!) { soilTests(fieldId: $f) { id ph } }",
                &theirs,
            ),
            ("query($f: ID!) { cropPlans(fieldId: $f) { id } }", &theirs),
            (
                "query($f: ID!) { fieldRecommendations(fieldId: $f) { id } }",
                &theirs,
            ),
            (
                "query($f: ID!) { recommendation(id: $f) { id rates { nKgPerMu } } }",
                &their_rec_id,
            ),
        ] {
            let g = app.gql(doc, json!({ "f": id }), Some(t)).await;
            refused(&g, "NOT_FOUND", &format!("{who}: {doc}"));
        }
        let g = app
            .gql("{ recommendationQueue { id } }", json!({}), Some(t))
            .await;
        one_of(&g, &["FORBIDDEN", "NOT_FOUND"], &format!("{who}: queue"));
        assert!(g.data().is_null() || g.data()["recommendationQueue"].is_null());
        let g = app
            .gql("{ myRecommendations { id } }", json!({}), Some(t))
            .await;
        one_of(
            &g,
            &["FORBIDDEN", "NOT_FOUND"],
            &format!("{who}: farmer view"),
        );
        let g = app.gql("{ myFields { id } }", json!({}), Some(t)).await;
        if g.error_code().is_none() {
            assert_eq!(g.data()["myFields"], json!([]), "{who}: myFields");
        }
    }
}

// ---------------------------------------------------------------- two counties

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_agronomist_sees_only_their_counties() {
    let app = spawn_app().await;
    let d = demo(&app).await;

    // A second county with a township and a village, and its own agronomist.
    let province = app
        .gql("{ regions(level: PROVINCE) { id } }", json!({}), None)
        .await
        .ok()["regions"][0]["id"]
        .clone();
    let region = |level: &str, parent: Value, zh: &str, en: &str| {
        let (level, zh, en) = (level.to_owned(), zh.to_owned(), en.to_owned());
        let app = &app;
        let admin = d.admin.clone();
        async move {
            let r = app
                .gql(
                    "mutation($i: RegionInput!) { regionCreate(input: $i) { region { id level } errors { field code message } } }",
                    json!({ "i": { "level": level, "parentId": parent, "nameZh": zh, "nameEn": en } }),
                    Some(&admin),
                )
                .await
                .ok();
            assert_eq!(r["regionCreate"]["errors"], json!([]), "{r:#}");
            r["regionCreate"]["region"]["id"].clone()
        }
    };
    let county2 = region("COUNTY", province, "钟祥县", "Zhongxiang County").await;
    let township2 = region("TOWNSHIP", county2.clone(), "柴湖镇", "Chaihu Town").await;
    let village2 = region("VILLAGE", township2, "马湖村", "Mahu Village").await;
    let u = app
        .gql(
            "mutation($i: UserCreateInput!) { userCreate(input: $i) { user { id role } errors { field code message } } }",
            json!({ "i": { "phone": "13900000031", "password": "agronomist-two-2026", "displayName": "钟祥县农技站 王芳", "role": "AGRONOMIST", "countyIds": [county2] } }),
            Some(&d.admin),
        )
        .await
        .ok();
    assert_eq!(u["userCreate"]["errors"], json!([]), "{u:#}");
    let agro2 = app.login("13900000031", "agronomist-two-2026").await.0;
    let agro1 = d.agronomist.clone();

    // A farmer there with a field, a crop plan and (by the new agronomist) a soil test.
    let (farmer3, _) = app
        .register_farmer("13900000032", "farmer-three-2026")
        .await;
    let f = app
        .gql(
            "mutation($i: FieldInput!) { fieldCreate(input: $i) { field { id } errors { field code message } } }",
            json!({ "i": { "name": "湖边田", "areaMu": 10, "villageId": village2, "soilType": "潮土" } }),
            Some(&farmer3),
        )
        .await
        .ok();
    assert_eq!(f["fieldCreate"]["errors"], json!([]), "{f:#}");
    let field2 = f["fieldCreate"]["field"]["id"].as_str().unwrap().to_owned();
    let p = app
        .gql(
            "mutation($i: CropPlanInput!) { cropPlanCreate(input: $i) { cropPlan { id } errors { field code message } } }",
            json!({ "i": { "fieldId": field2, "crop": "RICE", "season": "2027 中稻", "targetYieldKgPerMu": 580 } }),
            Some(&farmer3),
        )
        .await
        .ok();
    assert_eq!(p["cropPlanCreate"]["errors"], json!([]), "{p:#}");
    let plan2 = p["cropPlanCreate"]["cropPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let soil = |field: &str, sample: &str| {
        json!({ "i": { "fieldId": field, "sampledOn": "2025-10-01", "lab": "钟祥市土肥站", "labSampleId": sample,
            "ph": 6.2, "organicMatterGKg": 21.0, "alkaliNMgKg": 100.0, "olsenPMgKg": 12.0, "availableKMgKg": 95.0 } })
    };
    const SOIL: &str = "mutation($i: SoilTestInput!) { soilTestCreate(input: $i) { soilTest { id ph } errors { field code message } } }";
    let refused_soil = app.gql(SOIL, soil(&field2, "ZX-000"), Some(&agro1)).await;
    refused(
        &refused_soil,
        "NOT_FOUND",
        "agronomist 1 enters a soil test in county 2",
    );
    let t = app
        .gql(SOIL, soil(&field2, "ZX-001"), Some(&agro2))
        .await
        .ok();
    assert_eq!(t["soilTestCreate"]["errors"], json!([]), "{t:#}");
    assert_eq!(t["soilTestCreate"]["soilTest"]["ph"], 6.2);

    // The county store also delivers to the new village, so a basket can be priced there.
    let me = app
        .gql(
            "{ me { dealer { id serviceArea { id } } } }",
            json!({}),
            Some(&d.owner),
        )
        .await
        .ok();
    let dealer = me["me"]["dealer"]["id"].clone();
    let mut area: Vec<Value> = me["me"]["dealer"]["serviceArea"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    area.push(village2.clone());
    let s = app
        .gql(
            "mutation($d: ID!, $v: [ID!]!) { dealerServiceAreaSet(dealerId: $d, villageIds: $v) { dealer { id } errors { field code message } } }",
            json!({ "d": dealer, "v": area }),
            Some(&d.admin),
        )
        .await
        .ok();
    assert_eq!(s["dealerServiceAreaSet"]["errors"], json!([]), "{s:#}");

    // One draft in each county, each by its own agronomist.
    let rec2 = draft(&app, &agro2, &field2, &plan2, json!(null)).await;
    let rec2 = rec2["id"].as_str().unwrap().to_owned();
    let field1 = field_id(&app, &d.farmer, "村东水田").await;
    let plan1 = plan_id(&app, &d.farmer, &field1).await;
    let rec1 = draft(&app, &agro1, &field1, &plan1, json!(null)).await;
    let rec1 = rec1["id"].as_str().unwrap().to_owned();

    // Each sees their own and is refused the other's: fields, soil tests, crop plans, drafts,
    // the queue, and every review mutation.
    let county1 = app
        .gql("{ regions(level: COUNTY) { id nameZh } }", json!({}), None)
        .await
        .ok()["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] != county2)
        .unwrap()["id"]
        .clone();
    for (me, own_field, own_rec, other_field, other_plan, other_rec, other_county) in [
        (&agro1, &field1, &rec1, &field2, &plan2, &rec2, &county2),
        (&agro2, &field2, &rec2, &field1, &plan1, &rec1, &county1),
    ] {
        let q = queue_ids(&app, me).await;
        assert!(q.contains(own_rec), "own draft in the queue: {q:?}");
        assert!(
            !q.contains(other_rec),
            "the other county's draft is not: {q:?}"
        );
        recommendation(&app, me, own_rec).await.ok();
        soil_tests(&app, me, own_field).await;
        for (doc, id) in [
            ("query($f: ID!) { field(id: $f) { id name } }", other_field),
            (
                "query($f: ID!) { soilTests(fieldId: $f) { id } }",
                other_field,
            ),
            (
                "query($f: ID!) { cropPlans(fieldId: $f) { id } }",
                other_field,
            ),
            (
                "query($f: ID!) { fieldRecommendations(fieldId: $f) { id } }",
                other_field,
            ),
            (
                "query($f: ID!) { recommendation(id: $f) { id } }",
                other_rec,
            ),
        ] {
            let g = app.gql(doc, json!({ "f": id }), Some(me)).await;
            refused(&g, "NOT_FOUND", doc);
        }
        for m in [
            "recommendationEdit",
            "recommendationPublish",
            "recommendationReject",
            "recommendationRevise",
        ] {
            let g = rec_mutation(&app, Some(me), m, other_rec).await;
            refused(&g, "NOT_FOUND", &format!("{m} of the other county's draft"));
        }
        let g = draft_call(&app, me, other_field, other_plan, json!(null)).await;
        refused(&g, "NOT_FOUND", "a draft in the other county");
        let g = app
            .gql(
                "mutation($c: ID!) { regionalFormulasCompute(countyId: $c, crop: \"RICE\", formulas: 1) { formulas { id } errors { code } } }",
                json!({ "c": other_county }),
                Some(me),
            )
            .await;
        refused(&g, "FORBIDDEN", "formulas of the other county");
    }
    // The lab CSV of one county cannot reach a field of the other.
    let csv = "farmer_phone,field_name,sampled_on,depth_cm,lab,lab_sample_id,ph,organic_matter_g_kg,alkali_n_mg_kg,olsen_p_mg_kg,available_k_mg_kg\n13800000006,村东水田,2025-10-02,0-20,钟祥市土肥站,ZX-002,6.0,20,100,10,90\n";
    let g = app
        .gql(
            "mutation($c: String!) { soilTestImportCsv(csv: $c, policy: REJECT_ALL) { committed imported { id } rowErrors { line column columnName code } } }",
            json!({ "c": csv }),
            Some(&agro2),
        )
        .await
        .ok();
    let imp = &g["soilTestImportCsv"];
    assert_eq!(imp["committed"], false, "{imp:#}");
    assert_eq!(imp["rowErrors"][0]["line"], 2);
    assert_eq!(imp["rowErrors"][0]["code"], "UNKNOWN_REFERENCE");
    assert_eq!(soil_tests(&app, &agro1, &field1).await.len(), 1);

    // The admin sees both queues; nothing was changed by the refused calls.
    let all = queue_ids(&app, &d.admin).await;
    assert!(all.contains(&rec1) && all.contains(&rec2), "{all:?}");
    for (t, id) in [(&agro1, &rec1), (&agro2, &rec2)] {
        let r = recommendation(&app, t, id).await.ok();
        assert_eq!(r["recommendation"]["status"], "DRAFT");
        assert_eq!(r["recommendation"]["notesZh"], "");
    }
}

// ---------------------------------------------------------------- lab CSV

const IMPORT: &str = "mutation($c: String!, $p: CsvErrorPolicy!) { soilTestImportCsv(csv: $c, policy: $p) { committed imported { id labSampleId ph availableKMgKg } rowErrors { line column columnName code message } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_soil_csv_writes_nothing() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let fields = [
        field_id(&app, &d.farmer, "村东水田").await,
        field_id(&app, &d.farmer, "大塘田").await,
        field_id(&app, &d.farmer2, "坡上田").await,
    ];
    let before: Vec<usize> = {
        let mut v = vec![];
        for f in &fields {
            v.push(soil_tests(&app, a, f).await.len());
        }
        v
    };
    assert_eq!(before, vec![1, 1, 1]);

    // Line 2 is good; line 3 has a pH of 45 (out of range), line 4 a potassium that is not a
    // number, line 5 a farmer nobody knows, line 6 the lab sample id of line 2 again.
    let header = "farmer_phone,field_name,sampled_on,depth_cm,lab,lab_sample_id,ph,organic_matter_g_kg,alkali_n_mg_kg,olsen_p_mg_kg,available_k_mg_kg";
    let csv = format!(
        "{header}\n\
         13800000006,村东水田,2025-09-01,0-20,县土肥站,R-001,5.8,20.5,110,10.5,90\n\
         13800000006,大塘田,2025-09-01,0-20,县土肥站,R-002,45,22,120,12,100\n\
         13800000007,坡上田,2025-09-01,0-20,县土肥站,R-003,6.1,18,95,8,九十\n\
         13999999999,村东水田,2025-09-01,0-20,县土肥站,R-004,6.0,20,100,10,90\n\
         13800000007,坡上田,2025-09-01,0-20,县土肥站,R-001,6.0,20,100,10,90\n"
    );
    let expected = json!([
        { "line": 3, "column": 7, "columnName": "ph", "code": "OUT_OF_RANGE" },
        { "line": 4, "column": 11, "columnName": "available_k_mg_kg", "code": "INVALID_FORMAT" },
        { "line": 5, "column": 1, "columnName": "farmer_phone", "code": "UNKNOWN_REFERENCE" },
        { "line": 6, "column": 6, "columnName": "lab_sample_id", "code": "DUPLICATE" },
    ]);
    let strip = |errs: &Value| -> Value {
        let mut v: Vec<Value> = errs
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert!(!e["message"].as_str().unwrap().is_empty());
                json!({ "line": e["line"], "column": e["column"], "columnName": e["columnName"], "code": e["code"] })
            })
            .collect();
        v.sort_by_key(|e| e["line"].as_i64());
        Value::Array(v)
    };
    let r = app
        .gql(IMPORT, json!({ "c": csv, "p": "REJECT_ALL" }), Some(a))
        .await
        .ok();
    let imp = &r["soilTestImportCsv"];
    assert_eq!(imp["committed"], false, "{imp:#}");
    assert_eq!(imp["imported"], json!([]));
    assert_eq!(strip(&imp["rowErrors"]), expected, "{imp:#}");
    // The same file as Excel on Windows saves it (CRLF line ends): the same lines are named.
    let r = app
        .gql(
            IMPORT,
            json!({ "c": csv.replace('\n', "\r\n"), "p": "REJECT_ALL" }),
            Some(a),
        )
        .await
        .ok();
    let imp = &r["soilTestImportCsv"];
    assert_eq!(imp["committed"], false, "{imp:#}");
    assert_eq!(strip(&imp["rowErrors"]), expected, "CRLF: {imp:#}");
    let after: Vec<Vec<Value>> = {
        let mut v = vec![];
        for f in &fields {
            v.push(soil_tests(&app, a, f).await);
        }
        v
    };
    assert!(
        after
            .iter()
            .all(|t| t.len() == 1 && t[0]["labSampleId"].as_str().unwrap().starts_with("SY-")),
        "a rejected file wrote nothing: {after:#?}"
    );

    // The same file, skipping the bad rows: only line 2 is stored.
    let r = app
        .gql(IMPORT, json!({ "c": csv, "p": "SKIP_INVALID" }), Some(a))
        .await
        .ok();
    let imp = &r["soilTestImportCsv"];
    assert_eq!(imp["committed"], true, "{imp:#}");
    let imported = imp["imported"].as_array().unwrap();
    assert_eq!(imported.len(), 1, "{imp:#}");
    assert_eq!(imported[0]["labSampleId"], "R-001");
    assert_eq!(imported[0]["ph"], 5.8);
    assert_eq!(imported[0]["availableKMgKg"], 90.0);
    assert_eq!(strip(&imp["rowErrors"]), expected, "{imp:#}");
    let t = soil_tests(&app, a, &fields[0]).await;
    assert_eq!(t.len(), 2);
    assert!(
        t.iter()
            .any(|t| t["labSampleId"] == "R-001" && t["ph"] == 5.8)
    );
    assert_eq!(soil_tests(&app, a, &fields[1]).await.len(), 1);
    assert_eq!(soil_tests(&app, a, &fields[2]).await.len(), 1);

    // The good row again is now a duplicate of what is stored: nothing more is written.
    let again = format!(
        "{header}\n13800000006,村东水田,2025-09-01,0-20,县土肥站,R-001,5.8,20.5,110,10.5,90\n"
    );
    let r = app
        .gql(IMPORT, json!({ "c": again, "p": "REJECT_ALL" }), Some(a))
        .await
        .ok();
    let imp = &r["soilTestImportCsv"];
    assert_eq!(imp["committed"], false);
    assert_eq!(
        strip(&imp["rowErrors"]),
        json!([{ "line": 2, "column": 6, "columnName": "lab_sample_id", "code": "DUPLICATE" }])
    );
    assert_eq!(soil_tests(&app, a, &fields[0]).await.len(), 2);

    // A file without a required column is rejected at line 1, naming it.
    let missing = "farmer_phone,field_name,sampled_on,depth_cm,lab,lab_sample_id,ph,organic_matter_g_kg,alkali_n_mg_kg,olsen_p_mg_kg\n13800000006,大塘田,2025-09-01,0-20,县土肥站,R-010,5.8,20.5,110,10.5\n";
    for policy in ["REJECT_ALL", "SKIP_INVALID"] {
        let r = app
            .gql(IMPORT, json!({ "c": missing, "p": policy }), Some(a))
            .await
            .ok();
        let imp = &r["soilTestImportCsv"];
        assert_eq!(imp["committed"], false, "{imp:#}");
        let errs = imp["rowErrors"].as_array().unwrap();
        assert_eq!(errs.len(), 1, "{imp:#}");
        assert_eq!(errs[0]["line"], 1);
        assert_eq!(errs[0]["columnName"], "available_k_mg_kg");
        assert_eq!(errs[0]["code"], "REQUIRED");
        assert!(
            errs[0]["message"]
                .as_str()
                .unwrap()
                .contains("available_k_mg_kg")
        );
    }
    assert_eq!(soil_tests(&app, a, &fields[1]).await.len(), 1);

    // A lab may match fields by the ID the API shows. A row with two bad cells names both.
    let by_id = format!(
        "field_id,采样日期,采样深度,化验室,样品编号,pH,有机质,碱解氮,有效磷,速效钾\n\
         {},2025-09-02,0-20,县土肥站,R-020,6.3,25,130,18,120\n\
         {},2025-13-40,0-20,县土肥站,R-021,45,25,130,18,120\n",
        fields[1], fields[2]
    );
    let r = app
        .gql(IMPORT, json!({ "c": by_id, "p": "SKIP_INVALID" }), Some(a))
        .await
        .ok();
    let imp = &r["soilTestImportCsv"];
    assert_eq!(imp["committed"], true, "{imp:#}");
    assert_eq!(imp["imported"][0]["labSampleId"], "R-020", "{imp:#}");
    assert_eq!(
        strip(&imp["rowErrors"]),
        json!([
            { "line": 3, "column": 2, "columnName": "采样日期", "code": "INVALID_FORMAT" },
            { "line": 3, "column": 6, "columnName": "pH", "code": "OUT_OF_RANGE" },
        ]),
        "{imp:#}"
    );
    let t = soil_tests(&app, a, &fields[1]).await;
    assert_eq!(t.len(), 2);
    assert!(
        t.iter()
            .any(|t| t["labSampleId"] == "R-020" && t["ph"] == 6.3)
    );
    assert_eq!(soil_tests(&app, a, &fields[2]).await.len(), 1);
}

/// [`IMPORT`] with the file in a variable named `csv`: only such text may be longer than
/// 4 000 characters (limits.rs).
const IMPORT_FILE: &str = "mutation($csv: String!, $p: CsvErrorPolicy!) { soilTestImportCsv(csv: $csv, policy: $p) { committed imported { id labSampleId ph availableKMgKg } rowErrors { line column columnName code message } } }";

/// A lab file of `n` samples `{tag}-{i}` over the demo farmers' fields, half named by phone
/// and field name, half by the field's ID (`fields`); the last row's pH is `last_ph`.
fn soil_file(fields: &[String], tag: &str, n: usize, last_ph: &str) -> String {
    let by_name = [("13800000006", "村东水田"), ("13800000007", "坡上田")];
    let mut s = String::from(
        "field_id,farmer_phone,field_name,sampled_on,depth_cm,lab,lab_sample_id,ph,organic_matter_g_kg,alkali_n_mg_kg,olsen_p_mg_kg,available_k_mg_kg\n",
    );
    for i in 0..n {
        let ph = if i + 1 == n {
            last_ph.to_owned()
        } else {
            format!("{:.1}", 5.0 + (i % 20) as f64 / 10.0)
        };
        let (id, phone, name) = if i % 2 == 0 {
            (fields[i / 2 % fields.len()].as_str(), "", "")
        } else {
            let (p, f) = by_name[i / 2 % 2];
            ("", p, f)
        };
        s.push_str(&format!(
            "{id},{phone},{name},2025-09-01,0-20,县土肥站,{tag}-{i},{ph},20.5,110,10.5,90\n"
        ));
    }
    s
}

/// Issue 14: checking a lab file reads the farmers, fields and counties of the whole file, and
/// the lab sample ids already stored, in a few statements: 2 000 rows cost the same SQL as 20,
/// whether the bad last row is a bad cell or a sample id stored before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checking_a_soil_csv_costs_the_same_sql_for_20_or_2000_rows() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let fields = [
        field_id(&app, &d.farmer, "大塘田").await,
        field_id(&app, &d.farmer2, "河边旱地").await,
    ];
    let stored = soil_tests(&app, a, &fields[0]).await[0].clone();
    let stored = format!(
        "{},{},",
        stored["lab"].as_str().unwrap(),
        stored["labSampleId"].as_str().unwrap()
    );
    let mut counts = vec![];
    for n in [20, 2000, 20] {
        for (what, csv, line, code) in [
            (
                "format",
                soil_file(&fields, "SQLF", n, "abc"),
                n + 1,
                "INVALID_FORMAT",
            ),
            (
                "database",
                soil_file(&fields, "SQLD", n, "6.0")
                    .replace(&format!("县土肥站,SQLD-{},", n - 1), &stored),
                n + 1,
                "DUPLICATE",
            ),
        ] {
            let before = app.statements();
            let r = app
                .gql(
                    IMPORT_FILE,
                    json!({ "csv": csv, "p": "REJECT_ALL" }),
                    Some(a),
                )
                .await
                .ok();
            let sql = app.statements() - before;
            let imp = &r["soilTestImportCsv"];
            assert_eq!(imp["committed"], false);
            let errs = imp["rowErrors"].as_array().unwrap();
            assert_eq!(errs.len(), 1, "{what} {n}: {imp:#}");
            assert_eq!(
                (
                    errs[0]["line"].as_u64().unwrap() as usize,
                    errs[0]["code"].as_str().unwrap()
                ),
                (line, code),
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

/// Issue 14: a large lab file whose last row is bad is refused whole, naming the line and column
/// in both languages, and stores nothing; mended, every sample goes in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_soil_csv_with_a_bad_last_row_names_it_and_stores_nothing() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let fields = [
        field_id(&app, &d.farmer, "大塘田").await,
        field_id(&app, &d.farmer2, "河边旱地").await,
        field_id(&app, &d.farmer, "村东水田").await,
        field_id(&app, &d.farmer2, "坡上田").await,
    ];
    let count = || async {
        let mut n = 0;
        for f in &fields {
            n += soil_tests(&app, a, f).await.len();
        }
        n
    };
    let before = count().await;
    let n = 2000;
    let csv = soil_file(&fields[..2], "BIG", n, "45");
    let zh = app
        .gql(
            IMPORT_FILE,
            json!({ "csv": csv, "p": "REJECT_ALL" }),
            Some(a),
        )
        .await
        .ok();
    let en = app
        .gql_with(
            IMPORT_FILE,
            json!({ "csv": csv, "p": "REJECT_ALL" }),
            Some(a),
            &[("accept-language", "en")],
        )
        .await
        .ok();
    for r in [&zh, &en] {
        let imp = &r["soilTestImportCsv"];
        assert_eq!(imp["committed"], false);
        assert_eq!(imp["imported"], json!([]));
        let errs = imp["rowErrors"].as_array().unwrap();
        assert_eq!(errs.len(), 1, "{imp:#}");
        assert_eq!(errs[0]["line"], n + 1);
        assert_eq!(errs[0]["column"], 8);
        assert_eq!(errs[0]["columnName"], "ph");
        assert_eq!(errs[0]["code"], "OUT_OF_RANGE");
    }
    let (zh, en) = (
        zh["soilTestImportCsv"]["rowErrors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned(),
        en["soilTestImportCsv"]["rowErrors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    assert!(
        zh != en && zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) && en.is_ascii(),
        "{zh} / {en}"
    );
    assert_eq!(count().await, before, "a rejected file stores nothing");

    let csv = soil_file(&fields[..2], "BIG", n, "6.5");
    let r = app
        .gql(
            IMPORT_FILE,
            json!({ "csv": csv, "p": "REJECT_ALL" }),
            Some(a),
        )
        .await
        .ok();
    let imp = &r["soilTestImportCsv"];
    assert_eq!(imp["committed"], true, "{:#}", imp["rowErrors"]);
    let imported = imp["imported"].as_array().unwrap();
    assert_eq!(imported.len(), n);
    assert_eq!(imported[0]["labSampleId"], "BIG-0");
    assert_eq!(imported[n - 1]["labSampleId"], format!("BIG-{}", n - 1));
    assert_eq!(imported[n - 1]["ph"], 6.5);
    assert_eq!(count().await, before + n);
}

// ---------------------------------------------------------------- review

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_rejects_publishes_revises_and_supersedes() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let f = &d.farmer;
    let east = field_id(&app, f, "村东水田").await;
    let east_plan = plan_id(&app, a, &east).await;
    let pond = field_id(&app, f, "大塘田").await;
    let pond_plan = plan_id(&app, a, &pond).await;

    // Reject with a reason: kept, signed by nobody, never shown to the farmer.
    let r0 = draft(&app, a, &pond, &pond_plan, json!(null)).await;
    let r0_id = r0["id"].as_str().unwrap().to_owned();
    let empty = reject(&app, a, &r0_id, "  ").await;
    assert_eq!(empty["errors"][0]["field"], "reason", "{empty:#}");
    assert_eq!(empty["errors"][0]["code"], "REQUIRED");
    let rj = reject(&app, a, &r0_id, "目标产量偏高，请核实").await;
    assert_eq!(rj["errors"], json!([]), "{rj:#}");
    let rr = &rj["recommendation"];
    assert_eq!(rr["status"], "REJECTED");
    assert_eq!(rr["rejectReason"], "目标产量偏高，请核实");
    assert_eq!(rr["signature"], Value::Null);
    assert!(!queue_ids(&app, a).await.contains(&r0_id));
    let again = reject(&app, a, &r0_id, "再次").await;
    assert_eq!(again["errors"][0]["code"], "INVALID_TRANSITION");
    let pub_rejected = rec_mutation(&app, Some(a), "recommendationPublish", &r0_id)
        .await
        .ok();
    assert_eq!(
        pub_rejected["recommendationPublish"]["errors"][0]["code"],
        "INVALID_TRANSITION"
    );
    refused(
        &recommendation(&app, f, &r0_id).await,
        "NOT_FOUND",
        "a rejected version",
    );
    assert_eq!(field_recs(&app, f, &pond).await, Vec::<Value>::new());

    // v1 with the county's coefficients and recovery rates, published.
    let params =
        json!({ "correctionCoefficients": [0.6, 0.5, 0.45], "recoveryRates": [0.35, 0.25, 0.5] });
    let v1 = draft(&app, a, &east, &east_plan, params.clone()).await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    assert_eq!(v1["version"], 1);
    assert_eq!(
        v1["parameters"]["correction_coefficients"],
        json!([0.6, 0.5, 0.45])
    );
    assert_eq!(v1["parameters"]["recovery_rates"], json!([0.35, 0.25, 0.5]));
    let e = app
        .gql(
            &format!("mutation($id: ID!) {{ recommendationEdit(id: $id, notesZh: \"基肥一次施入\", notesEn: \"all as basal\") {{ recommendation {{ {REC} }} {ERRS} }} }}"),
            json!({ "id": v1_id }),
            Some(a),
        )
        .await
        .ok();
    assert_eq!(e["recommendationEdit"]["errors"], json!([]));
    let p1 = publish(&app, a, &v1_id).await;
    let sig1 = p1["signature"].as_str().unwrap().to_owned();
    assert_eq!(p1["supersedesId"], Value::Null);

    // Revise: a new draft, v2, with v1's parameters and notes; v1 is untouched meanwhile.
    let v2 = rec_mutation(&app, Some(a), "recommendationRevise", &v1_id)
        .await
        .ok();
    assert_eq!(v2["recommendationRevise"]["errors"], json!([]), "{v2:#}");
    let v2 = v2["recommendationRevise"]["recommendation"].clone();
    let v2_id = v2["id"].as_str().unwrap().to_owned();
    assert_eq!(v2["status"], "DRAFT");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["parameters"], v1["parameters"]);
    assert_eq!(v2["rates"], v1["rates"]);
    assert_eq!(v2["notesZh"], "基肥一次施入");
    assert!(queue_ids(&app, a).await.contains(&v2_id));
    refused(
        &recommendation(&app, f, &v2_id).await,
        "NOT_FOUND",
        "the revision while a draft",
    );
    let mine = app
        .gql("{ myRecommendations { id status } }", json!({}), Some(f))
        .await
        .ok();
    assert_eq!(
        mine["myRecommendations"],
        json!([{ "id": v1_id, "status": "PUBLISHED" }])
    );

    // Publish v2: v1 becomes SUPERSEDED and both are kept.
    let p2 = publish(&app, a, &v2_id).await;
    assert_eq!(p2["supersedesId"], v1_id.as_str());
    assert_ne!(p2["signature"], sig1.as_str());
    let old = recommendation(&app, a, &v1_id).await.ok();
    assert_eq!(old["recommendation"]["status"], "SUPERSEDED");
    assert_eq!(
        old["recommendation"]["signature"],
        sig1.as_str(),
        "a published version is immutable"
    );
    assert_eq!(
        field_recs(&app, a, &east).await,
        vec![
            json!({ "id": v2_id, "version": 2, "status": "PUBLISHED" }),
            json!({ "id": v1_id, "version": 1, "status": "SUPERSEDED" }),
        ]
    );
    let farmer_view = field_recs(&app, f, &east).await;
    assert_eq!(farmer_view[0]["id"], v2_id.as_str());
    assert_eq!(farmer_view[0]["status"], "PUBLISHED");
    let mine = app
        .gql("{ myRecommendations { id status } }", json!({}), Some(f))
        .await
        .ok();
    assert_eq!(
        mine["myRecommendations"],
        json!([{ "id": v2_id, "status": "PUBLISHED" }])
    );
    let c = to_cart(&app, Some(f), &v1_id).await.ok();
    assert_eq!(c["recommendationToCart"]["ok"], false, "{c:#}");
    assert_eq!(
        c["recommendationToCart"]["errors"][0]["code"],
        "INVALID_TRANSITION"
    );
    let cart = app
        .gql("{ cart { lines { id } } }", json!({}), Some(f))
        .await
        .ok();
    assert_eq!(
        cart["cart"]["lines"],
        json!([]),
        "nothing of v1 went into the cart"
    );
    let c = to_cart(&app, Some(f), &v2_id).await.ok();
    assert_eq!(c["recommendationToCart"]["ok"], true, "{c:#}");

    // MANUAL_RATES: the basket meets the agronomist's rates on the whole field (12 mu).
    let manual = draft(
        &app,
        a,
        &pond,
        &pond_plan,
        json!({ "method": "MANUAL_RATES", "ratesKgPerMu": [12, 5, 6] }),
    )
    .await;
    assert_eq!(manual["method"], "MANUAL_RATES");
    assert_eq!(
        manual["rates"],
        json!({ "nKgPerMu": 12.0, "p2o5KgPerMu": 5.0, "k2oKgPerMu": 6.0 })
    );
    let b = &manual["basket"];
    assert_eq!(b["feasible"], true, "{b:#}");
    let s = supplied(b);
    for (i, want) in [12.0, 5.0, 6.0].iter().enumerate() {
        assert!(
            s[i] + 1e-6 >= want * 12.0,
            "nutrient {i}: {} kg supplied for {} needed: {b:#}",
            s[i],
            want * 12.0
        );
    }
    let cost: i64 = b["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["bags"].as_i64().unwrap() * l["priceFenPerBag"].as_i64().unwrap())
        .sum();
    assert_eq!(b["costFen"].as_i64().unwrap(), cost);

    // Bad parameters are errors naming the field, on a draft and on an edit.
    let bad = [
        (
            json!({ "correctionCoefficients": [0.5, 0.5] }),
            "params.correctionCoefficients",
        ),
        (
            json!({ "recoveryRates": [-0.3, 0.25, 0.5] }),
            "params.recoveryRates",
        ),
        (json!({ "method": "MANUAL_RATES" }), "params.ratesKgPerMu"),
        (
            json!({ "method": "MANUAL_RATES", "ratesKgPerMu": [12, -5, 6] }),
            "params.ratesKgPerMu",
        ),
    ];
    let manual_id = manual["id"].as_str().unwrap().to_owned();
    for (params, field) in bad {
        let g = draft_call(&app, a, &pond, &pond_plan, params.clone())
            .await
            .ok();
        let p = &g["recommendationDraft"];
        assert_eq!(p["recommendation"], Value::Null, "{p:#}");
        assert_eq!(p["errors"][0]["field"], field, "{params}: {p:#}");
        assert!(!p["errors"][0]["message"].as_str().unwrap().is_empty());
        let g = app
            .gql(
                &format!("mutation($id: ID!, $p: RecommendationParamsInput) {{ recommendationEdit(id: $id, params: $p) {{ recommendation {{ id }} {ERRS} }} }}"),
                json!({ "id": manual_id, "p": params }),
                Some(a),
            )
            .await
            .ok();
        assert_eq!(
            g["recommendationEdit"]["errors"][0]["field"], field,
            "edit {params}: {g:#}"
        );
    }
    let still = recommendation(&app, a, &manual_id).await.ok();
    assert_eq!(still["recommendation"]["rates"], manual["rates"]);
}

// ---------------------------------------------------------------- basket to cart

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basket_to_cart_reprices_and_warns_when_a_price_moved() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let f = &d.farmer;
    let field = field_id(&app, f, "村东水田").await;
    let plan = plan_id(&app, f, &field).await;
    let rec = draft(
        &app,
        &d.agronomist,
        &field,
        &plan,
        json!({ "correctionCoefficients": [0.6, 0.5, 0.45] }),
    )
    .await;
    let rec_id = rec["id"].as_str().unwrap().to_owned();
    publish(&app, &d.agronomist, &rec_id).await;
    let lines = rec["basket"]["lines"].as_array().unwrap().clone();
    assert!(!lines.is_empty(), "{rec:#}");

    // Into the cart as recommended: no warnings.
    let c = to_cart(&app, Some(f), &rec_id).await.ok();
    assert_eq!(c["recommendationToCart"]["ok"], true, "{c:#}");
    assert_eq!(c["recommendationToCart"]["warnings"], json!([]), "{c:#}");

    // The dealer of a basket line raises its price.
    let line = &lines[0];
    let dealer_of = |t: String| {
        let app = &app;
        async move {
            app.gql("{ me { dealer { id } } }", json!({}), Some(&t))
                .await
                .ok()["me"]["dealer"]["id"]
                .clone()
        }
    };
    let token = if dealer_of(d.owner.clone()).await == line["dealerId"] {
        &d.owner
    } else if dealer_of(d.staff.clone()).await == line["dealerId"] {
        &d.staff
    } else {
        &d.admin
    };
    let old = line["priceFenPerBag"].as_i64().unwrap();
    let new = old + 650;
    let o = app
        .gql(
            "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p) { offer { id priceFen } errors { field code message } } }",
            json!({ "d": line["dealerId"], "s": line["skuId"], "p": new }),
            Some(token),
        )
        .await
        .ok();
    assert_eq!(o["offerSet"]["errors"], json!([]), "{o:#}");
    assert_eq!(o["offerSet"]["offer"]["id"], line["offerId"]);

    // Again into the cart: a warning about that price, and the cart at the new price.
    let c = to_cart(&app, Some(f), &rec_id).await.ok();
    let p = &c["recommendationToCart"];
    assert_eq!(p["ok"], true, "{c:#}");
    let warnings = p["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{c:#}");
    let w = warnings[0].as_str().unwrap();
    assert!(w.contains("price"), "{w}");
    let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    assert!(
        w.contains(&yuan(old)) && w.contains(&yuan(new)),
        "names both prices: {w}"
    );
    let cart = app
        .gql(
            "{ cart { totalFen hasProblems lines { quantity unitPriceFen priceFenWhenAdded offer { id } problems { code } } } }",
            json!({}),
            Some(f),
        )
        .await
        .ok();
    let cl = cart["cart"]["lines"].as_array().unwrap();
    assert_eq!(cl.len(), lines.len(), "{cart:#}");
    let mut total = 0;
    for l in &lines {
        let c = cl
            .iter()
            .find(|c| c["offer"]["id"] == l["offerId"])
            .expect("every basket line is in the cart");
        assert_eq!(c["quantity"], l["bags"]);
        let price = if l["offerId"] == line["offerId"] {
            new
        } else {
            l["priceFenPerBag"].as_i64().unwrap()
        };
        assert_eq!(c["unitPriceFen"], price);
        assert_eq!(
            c["priceFenWhenAdded"], price,
            "re-priced when the basket went in"
        );
        assert!(
            !c["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["code"] == "PRICE_CHANGED"),
            "{c:#}"
        );
        total += price * l["bags"].as_i64().unwrap();
    }
    assert_eq!(cart["cart"]["totalFen"], total);
    assert_eq!(
        total,
        rec["basket"]["costFen"].as_i64().unwrap() + 650 * line["bags"].as_i64().unwrap()
    );

    // Withdrawn: a warning, and the line is not added.
    let o = app
        .gql(
            "mutation($d: ID!, $s: ID!, $p: Int!) { offerSet(dealerId: $d, skuId: $s, priceFen: $p, active: false) { offer { id } errors { code } } }",
            json!({ "d": line["dealerId"], "s": line["skuId"], "p": new }),
            Some(token),
        )
        .await
        .ok();
    assert_eq!(o["offerSet"]["errors"], json!([]), "{o:#}");
    app.gql("mutation { cartClear { ok } }", json!({}), Some(f))
        .await;
    let c = to_cart(&app, Some(f), &rec_id).await.ok();
    let w = c["recommendationToCart"]["warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| w.as_str().unwrap().contains("withdrawn")),
        "{c:#}"
    );
}

// ---------------------------------------------------------------- regional formulas

const COMPUTE: &str = "mutation($c: ID!, $crop: String!, $k: Int!) { regionalFormulasCompute(countyId: $c, crop: $crop, formulas: $k) {
    formulas { id name crop analysis fieldsCovered meanDistance status productId
      fields { fieldId distance formulaKgPerMu rates { nKgPerMu p2o5KgPerMu k2oKgPerMu } topUp { nKgPerMu } } }
    errors { field code message } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regional_formulas_for_the_demo_county() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let county = app
        .gql("{ regions(level: COUNTY) { id } }", json!({}), None)
        .await
        .ok()["regions"][0]["id"]
        .clone();
    // The demo's rice fields with a soil test, counted from the farmers' own views.
    let mut rice_fields = Vec::new();
    for t in [&d.farmer, &d.farmer2] {
        let fs = app
            .gql("{ myFields { id } }", json!({}), Some(t))
            .await
            .ok();
        for fl in fs["myFields"].as_array().unwrap() {
            let id = fl["id"].as_str().unwrap();
            let p = app
                .gql(
                    "query($f: ID!) { cropPlans(fieldId: $f) { crop } soilTests(fieldId: $f) { id } }",
                    json!({ "f": id }),
                    Some(t),
                )
                .await
                .ok();
            if p["cropPlans"][0]["crop"] == "RICE" && !p["soilTests"].as_array().unwrap().is_empty()
            {
                rice_fields.push(id.to_owned());
            }
        }
    }
    assert_eq!(rice_fields.len(), 3);

    let doc = COMPUTE;
    let r = app
        .gql(doc, json!({ "c": county, "crop": "RICE", "k": 2 }), Some(a))
        .await
        .ok();
    let p = &r["regionalFormulasCompute"];
    assert_eq!(p["errors"], json!([]), "{p:#}");
    let formulas = p["formulas"].as_array().unwrap();
    assert!((1..=2).contains(&formulas.len()), "{p:#}");
    let covered: i64 = formulas
        .iter()
        .map(|f| f["fieldsCovered"].as_i64().unwrap())
        .sum();
    assert_eq!(covered, rice_fields.len() as i64, "{p:#}");
    let mut seen = Vec::new();
    for f in formulas {
        assert_eq!(f["status"], "DRAFT");
        assert_eq!(f["crop"], "RICE");
        let g: Vec<f64> = f["analysis"]
            .as_str()
            .unwrap()
            .split('-')
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(g.iter().sum::<f64>(), 45.0, "{f:#}");
        assert!(g.iter().all(|x| *x == 0.0 || *x >= 4.0), "{f:#}");
        let fields = f["fields"].as_array().unwrap();
        assert_eq!(fields.len() as i64, f["fieldsCovered"].as_i64().unwrap());
        let mut sum = 0.0;
        for fl in fields {
            let dist = fl["distance"].as_f64().unwrap();
            assert!(dist.is_finite() && dist >= 0.0, "{fl:#}");
            sum += dist;
            assert!(fl["formulaKgPerMu"].as_f64().unwrap() > 0.0);
            // The formula never over-supplies a nutrient: need = formula part + top-up.
            let n = fl["rates"]["nKgPerMu"].as_f64().unwrap();
            let from_formula = fl["formulaKgPerMu"].as_f64().unwrap() * g[0] / 100.0;
            assert!(from_formula <= n + 1e-6, "{fl:#}");
            let top = fl["topUp"]["nKgPerMu"].as_f64().unwrap();
            assert!((from_formula + top - n).abs() < 1e-6, "{fl:#}");
            seen.push(fl["fieldId"].as_str().unwrap().to_owned());
        }
        let mean = f["meanDistance"].as_f64().unwrap();
        assert!((mean - sum / fields.len() as f64).abs() < 1e-9, "{f:#}");
    }
    seen.sort();
    rice_fields.sort();
    assert_eq!(
        seen, rice_fields,
        "each rice field is in exactly one formula"
    );

    // Farmers and dealers see no draft formulas; the agronomist does.
    let list = "query($c: ID!) { regionalFormulas(countyId: $c, crop: \"RICE\") { id status } }";
    let drafts = app.gql(list, json!({ "c": county }), Some(a)).await.ok();
    assert_eq!(
        drafts["regionalFormulas"].as_array().unwrap().len(),
        formulas.len()
    );
    let public = app
        .gql(list, json!({ "c": county }), Some(&d.owner))
        .await
        .ok();
    assert_eq!(public["regionalFormulas"], json!([]));

    // A draft formula cannot be stocked; publish one, then a dealer lists it as a product.
    let first = formulas[0]["id"].clone();
    let producer =
        app.gql("{ producers { id } }", json!({}), None).await.ok()["producers"][0]["id"].clone();
    const TO_PRODUCT: &str = "mutation($id: ID!, $p: ID!) { regionalFormulaToProduct(id: $id, producerId: $p) { productId errors { field code message } } }";
    let early = app
        .gql(
            TO_PRODUCT,
            json!({ "id": first, "p": producer }),
            Some(&d.owner),
        )
        .await
        .ok();
    assert_eq!(
        early["regionalFormulaToProduct"]["errors"][0]["code"],
        "INVALID_TRANSITION"
    );
    const PUBLISH: &str = "mutation($id: ID!) { regionalFormulaPublish(id: $id) { formula { id status publishedAt analysis name } errors { field code message } } }";
    let pbl = app.gql(PUBLISH, json!({ "id": first }), Some(a)).await.ok();
    let pf = &pbl["regionalFormulaPublish"];
    assert_eq!(pf["errors"], json!([]), "{pf:#}");
    assert_eq!(pf["formula"]["status"], "PUBLISHED");
    assert!(pf["formula"]["publishedAt"].is_string());
    let twice = app.gql(PUBLISH, json!({ "id": first }), Some(a)).await.ok();
    assert_eq!(
        twice["regionalFormulaPublish"]["errors"][0]["code"],
        "INVALID_TRANSITION"
    );
    // A published formula is public, but its per-field needs (farmers' fields and soil-test
    // results) stay with the county's agronomists.
    let detail =
        "query($c: ID!) { regionalFormulas(countyId: $c) { id fieldsCovered fields { fieldId } } }";
    for t in [None, Some(&d.owner), Some(&d.farmer), Some(&d.regulator)] {
        let g = app
            .gql(detail, json!({ "c": county }), t.map(String::as_str))
            .await
            .ok();
        let fl = &g["regionalFormulas"][0];
        assert_eq!(fl["id"], first);
        assert_eq!(fl["fieldsCovered"], formulas[0]["fieldsCovered"]);
        assert_eq!(fl["fields"], json!([]), "{g:#}");
    }
    let g = app.gql(detail, json!({ "c": county }), Some(a)).await.ok();
    let shown = g["regionalFormulas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == first)
        .unwrap()["fields"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(shown as i64, formulas[0]["fieldsCovered"].as_i64().unwrap());
    let public = app
        .gql(list, json!({ "c": county }), Some(&d.farmer))
        .await
        .ok();
    assert_eq!(
        public["regionalFormulas"],
        json!([{ "id": first, "status": "PUBLISHED" }])
    );

    let made = app
        .gql(
            TO_PRODUCT,
            json!({ "id": first, "p": producer }),
            Some(&d.owner),
        )
        .await
        .ok();
    let m = &made["regionalFormulaToProduct"];
    assert_eq!(m["errors"], json!([]), "{m:#}");
    let product = m["productId"].clone();
    assert!(product.is_string());
    let analysis = pf["formula"]["analysis"].as_str().unwrap();
    let g: Vec<f64> = analysis.split('-').map(|x| x.parse().unwrap()).collect();
    let found = app
        .gql(
            "query($t: String!) { products(first: 20, filter: { category: FERTILISER, text: $t }) { edges { node { id nameZh fertiliser { fertiliserType nPct p2o5Pct k2oPct } } } } }",
            json!({ "t": "配方肥" }),
            None,
        )
        .await
        .ok();
    let node = found["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["id"] == product)
        .unwrap_or_else(|| panic!("the new product is found by search: {found:#}"));
    assert_eq!(node["fertiliser"]["fertiliserType"], "COMPOUND");
    assert_eq!(node["fertiliser"]["nPct"], g[0]);
    assert_eq!(node["fertiliser"]["p2o5Pct"], g[1]);
    assert_eq!(node["fertiliser"]["k2oPct"], g[2]);
    let listed = app.gql(list, json!({ "c": county }), None).await.ok();
    assert_eq!(listed["regionalFormulas"][0]["id"], first);
    let with_product = app
        .gql(
            "query($c: ID!) { regionalFormulas(countyId: $c) { id productId } }",
            json!({ "c": county }),
            None,
        )
        .await
        .ok();
    assert_eq!(with_product["regionalFormulas"][0]["productId"], product);
    // Listed once: a second listing is refused rather than a duplicate product.
    let dup = app
        .gql(
            TO_PRODUCT,
            json!({ "id": first, "p": producer }),
            Some(&d.admin),
        )
        .await
        .ok();
    assert_eq!(
        dup["regionalFormulaToProduct"]["errors"][0]["code"], "INVALID_TRANSITION",
        "{dup:#}"
    );

    // 0 or 9 formulas, or an unknown crop, are refused naming the field.
    for (k, crop, field, code) in [
        (0, "RICE", "formulas", "OUT_OF_RANGE"),
        (9, "RICE", "formulas", "OUT_OF_RANGE"),
        (2, "小麦草", "crop", "INVALID_FORMAT"),
    ] {
        let r = app
            .gql(doc, json!({ "c": county, "crop": crop, "k": k }), Some(a))
            .await
            .ok();
        let p = &r["regionalFormulasCompute"];
        assert_eq!(p["formulas"], json!([]));
        assert_eq!(p["errors"][0]["field"], field, "{p:#}");
        assert_eq!(p["errors"][0]["code"], code, "{p:#}");
    }
}

/// Regional formulas used the 0.5 placeholder coefficients and dropped the fields the advisor
/// refused without a word; both are now recorded with the formula and shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regional_formulas_record_placeholder_coefficients_and_refused_fields() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let county = app
        .gql("{ regions(level: COUNTY) { id } }", json!({}), None)
        .await
        .ok()["regions"][0]["id"]
        .clone();
    const PLAN: &str = "mutation($i: CropPlanInput!) { cropPlanCreate(input: $i) { cropPlan { id } errors { field code message } } }";
    let new_plan = |field: String, extra: Value| {
        let mut i = json!({ "fieldId": field, "crop": "RICE", "season": "2027 中稻" });
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    // 村东水田: calibrated from its omission plot, so no placeholder.
    let calibrated = field_id(&app, &d.farmer, "村东水田").await;
    let r = app
        .gql(
            PLAN,
            new_plan(
                calibrated.clone(),
                json!({ "targetYieldKgPerMu": 600, "noFertiliserYieldKgPerMu": 400 }),
            ),
            Some(a),
        )
        .await
        .ok();
    assert_eq!(r["cropPlanCreate"]["errors"], json!([]), "{r:#}");
    // 坡上田: two years of yields, which the plan accepts and the advisor refuses (it needs 3).
    let refused_field = field_id(&app, &d.farmer2, "坡上田").await;
    let r = app
        .gql(
            PLAN,
            new_plan(
                refused_field.clone(),
                json!({ "pastYieldsKgPerMu": [480, 500] }),
            ),
            Some(a),
        )
        .await
        .ok();
    assert_eq!(r["cropPlanCreate"]["errors"], json!([]), "{r:#}");
    // 大塘田 keeps the demo plan: no omission plot, so the placeholder.
    let placeholder_field = field_id(&app, &d.farmer, "大塘田").await;

    const DOC: &str =
        "mutation($c: ID!) { regionalFormulasCompute(countyId: $c, crop: \"RICE\", formulas: 1) {
        formulas { id fieldsCovered computationNotes
          fields { fieldId placeholderCorrection }
          skippedFields { fieldId code reason reasonZh reasonEn } }
        errors { field code message } } }";
    let r = app
        .gql_with(
            DOC,
            json!({ "c": county }),
            Some(a),
            &[("accept-language", "en")],
        )
        .await
        .ok();
    let p = &r["regionalFormulasCompute"];
    assert_eq!(p["errors"], json!([]), "{p:#}");
    let f = &p["formulas"][0];
    assert_eq!(f["fieldsCovered"], 2, "{p:#}");
    let mut fits: Vec<(String, bool)> = f["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["fieldId"].as_str().unwrap().to_owned(),
                x["placeholderCorrection"].as_bool().unwrap(),
            )
        })
        .collect();
    fits.sort();
    let mut expected = vec![
        (calibrated.clone(), false),
        (placeholder_field.clone(), true),
    ];
    expected.sort();
    assert_eq!(fits, expected, "{p:#}");
    // the refused field is named, with the advisor's reason in both languages
    let skipped = f["skippedFields"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{p:#}");
    assert_eq!(skipped[0]["fieldId"], refused_field.as_str());
    assert_eq!(skipped[0]["code"], "ADVISOR_REFUSED");
    let en = skipped[0]["reasonEn"].as_str().unwrap();
    assert!(
        en.contains("advisor refused")
            && en.contains("past_yields_kg_per_mu")
            && en.contains("3 years"),
        "{en}"
    );
    assert_eq!(skipped[0]["reason"], en);
    assert!(
        skipped[0]["reasonZh"].as_str().unwrap().contains("不接受"),
        "{p:#}"
    );
    let notes: Vec<&str> = f["computationNotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("1 of 2") && n.contains("default parameters")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("left out of the computation: 1")),
        "{notes:?}"
    );

    // Stored: the list query shows the same, in Chinese by default; a dealer sees no fields.
    let list = "query($c: ID!) { regionalFormulas(countyId: $c, crop: \"RICE\") { id computationNotes fields { placeholderCorrection } skippedFields { code reason } } }";
    let g = app.gql(list, json!({ "c": county }), Some(a)).await.ok();
    let stored = &g["regionalFormulas"][0];
    assert_eq!(stored["id"], f["id"]);
    assert_eq!(stored["skippedFields"][0]["code"], "ADVISOR_REFUSED");
    assert!(
        stored["skippedFields"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("不接受"),
        "{stored:#}"
    );
    assert!(
        stored["computationNotes"][0]
            .as_str()
            .unwrap()
            .contains("尚未核定的默认参数"),
        "{stored:#}"
    );
    // publish it so a dealer may list it; still no fields for the dealer
    let pb = app
        .gql(
            "mutation($id: ID!) { regionalFormulaPublish(id: $id) { errors { code } } }",
            json!({ "id": f["id"] }),
            Some(a),
        )
        .await
        .ok();
    assert_eq!(pb["regionalFormulaPublish"]["errors"], json!([]));
    let public = app
        .gql(list, json!({ "c": county }), Some(&d.owner))
        .await
        .ok();
    assert_eq!(public["regionalFormulas"][0]["skippedFields"], json!([]));
    assert_eq!(public["regionalFormulas"][0]["fields"], json!([]));
}

// ---------------------------------------------------------------- the basket's time limit

const PROVEN: &str = "query($id: ID!) { recommendation(id: $id) { computationNotes basket { feasible provenOptimal costFen lines { bags } } } }";

/// A draft whose whole-bag search runs out of time carries the flag (stored, shown to the
/// agronomist and, once published, to the farmer); a normal draft is proven.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_stopped_by_the_time_limit_says_its_basket_is_not_proven() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let field = field_id(&app, &d.farmer, "村东水田").await;
    let plan = plan_id(&app, a, &field).await;

    let normal = draft(&app, a, &field, &plan, json!({})).await;
    let g = app
        .gql_with(
            PROVEN,
            json!({ "id": normal["id"] }),
            Some(a),
            &[("accept-language", "en")],
        )
        .await
        .ok();
    let b = &g["recommendation"]["basket"];
    assert_eq!(b["feasible"], true, "{g:#}");
    assert_eq!(b["provenOptimal"], true, "{g:#}");
    let notes = g["recommendation"]["computationNotes"].to_string();
    assert!(!notes.contains("not proven"), "{notes}");

    // No time at all: the continuous basket rounded up, marked as not proven.
    let stopped = draft(&app, a, &field, &plan, json!({ "basketTimeLimitMs": 0 })).await;
    assert_eq!(
        stopped["parameters"]["basket_time_limit_ms"], 0,
        "{stopped:#}"
    );
    let g = app
        .gql_with(
            PROVEN,
            json!({ "id": stopped["id"] }),
            Some(a),
            &[("accept-language", "en")],
        )
        .await
        .ok();
    let b = &g["recommendation"]["basket"];
    assert_eq!(b["feasible"], true, "{g:#}");
    assert_eq!(b["provenOptimal"], false, "{g:#}");
    assert!(!b["lines"].as_array().unwrap().is_empty());
    // never cheaper than the proven optimum
    assert!(
        b["costFen"].as_i64().unwrap() >= normal["basket"]["costFen"].as_i64().unwrap(),
        "{g:#}"
    );
    let notes = g["recommendation"]["computationNotes"].to_string();
    assert!(
        notes.contains("not proven optimal") && notes.contains("未证明最优"),
        "{notes}"
    );

    // Published, the farmer sees the same flag.
    publish(&app, a, stopped["id"].as_str().unwrap()).await;
    let g = app
        .gql(PROVEN, json!({ "id": stopped["id"] }), Some(&d.farmer))
        .await
        .ok();
    assert_eq!(
        g["recommendation"]["basket"]["provenOptimal"], false,
        "{g:#}"
    );

    // A limit out of range is refused, naming the parameter.
    for ms in [60_001, -1] {
        let g = draft_call(&app, a, &field, &plan, json!({ "basketTimeLimitMs": ms }))
            .await
            .ok();
        let p = &g["recommendationDraft"];
        assert_eq!(p["recommendation"], Value::Null, "{ms}: {p:#}");
        assert_eq!(
            p["errors"][0]["field"], "params.basketTimeLimitMs",
            "{ms}: {p:#}"
        );
        assert_eq!(p["errors"][0]["code"], "OUT_OF_RANGE", "{ms}: {p:#}");
    }
}

// ---------------------------------------------------------------- validation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crop_plans_and_soil_tests_are_validated() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let field = field_id(&app, &d.farmer, "村东水田").await;
    const PLAN: &str = "mutation($i: CropPlanInput!) { cropPlanCreate(input: $i) { cropPlan { id crop targetYieldKgPerMu } errors { field code message } } }";
    let plans_before = app
        .gql(
            "query($f: ID!) { cropPlans(fieldId: $f) { id } }",
            json!({ "f": field }),
            Some(&d.farmer),
        )
        .await
        .ok()["cropPlans"]
        .as_array()
        .unwrap()
        .len();
    for (input, field_name, code) in [
        (
            json!({ "crop": "香蕉树", "season": "2027", "targetYieldKgPerMu": 500 }),
            "crop",
            "INVALID_FORMAT",
        ),
        (
            json!({ "crop": "RICE", "season": "2027 中稻" }),
            "targetYieldKgPerMu",
            "REQUIRED",
        ),
        (
            json!({ "crop": "RICE", "season": "2027 中稻", "targetYieldKgPerMu": -5 }),
            "targetYieldKgPerMu",
            "OUT_OF_RANGE",
        ),
        (
            json!({ "crop": "RICE", "season": "2027 中稻", "pastYieldsKgPerMu": [] }),
            "pastYieldsKgPerMu",
            "OUT_OF_RANGE",
        ),
        (
            json!({ "crop": "RICE", "season": "", "targetYieldKgPerMu": 600 }),
            "season",
            "REQUIRED",
        ),
    ] {
        let mut i = input.clone();
        i["fieldId"] = json!(field);
        let r = app.gql(PLAN, json!({ "i": i }), Some(&d.farmer)).await.ok();
        let p = &r["cropPlanCreate"];
        assert_eq!(p["cropPlan"], Value::Null, "{input}: {p:#}");
        let errs = p["errors"].as_array().unwrap();
        assert!(
            errs.iter()
                .any(|e| e["field"] == field_name && e["code"] == code),
            "{input}: expected {field_name} {code}: {p:#}"
        );
    }
    // A crop by its Chinese name is fine; nothing was stored by the refused ones.
    let ok = app
        .gql(
            PLAN,
            json!({ "i": { "fieldId": field, "crop": "水稻", "season": "2027 晚稻", "targetYieldKgPerMu": 550 } }),
            Some(&d.farmer),
        )
        .await
        .ok();
    assert_eq!(ok["cropPlanCreate"]["errors"], json!([]));
    assert_eq!(ok["cropPlanCreate"]["cropPlan"]["crop"], "RICE");
    let plans_after = app
        .gql(
            "query($f: ID!) { cropPlans(fieldId: $f) { id } }",
            json!({ "f": field }),
            Some(&d.farmer),
        )
        .await
        .ok()["cropPlans"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(plans_after, plans_before + 1);

    // Soil tests: a value out of range names the field; a unit mix-up too.
    const SOIL: &str = "mutation($i: SoilTestInput!) { soilTestCreate(input: $i) { soilTest { id } errors { field code message } } }";
    let base = json!({ "fieldId": field, "sampledOn": "2025-10-01", "lab": "县土肥站", "labSampleId": "V-1",
        "ph": 6.2, "organicMatterGKg": 21.0, "alkaliNMgKg": 100.0, "olsenPMgKg": 12.0, "availableKMgKg": 95.0 });
    for (change, field_name, code) in [
        (json!({ "ph": 45.0 }), "ph", "OUT_OF_RANGE"),
        (
            json!({ "organicMatterGKg": 21000.0 }),
            "organicMatterGKg",
            "OUT_OF_RANGE",
        ),
        (
            json!({ "availableKMgKg": -1.0 }),
            "availableKMgKg",
            "OUT_OF_RANGE",
        ),
        (json!({ "olsenPMgKg": null }), "olsenPMgKg", "REQUIRED"),
        (
            json!({ "sampledOn": "2099-01-01" }),
            "sampledOn",
            "OUT_OF_RANGE",
        ),
        (
            json!({ "depthFromCm": 20, "depthToCm": 0 }),
            "depthCm",
            "OUT_OF_RANGE",
        ),
        (json!({ "labSampleId": "" }), "labSampleId", "REQUIRED"),
    ] {
        let mut i = base.clone();
        for (k, v) in change.as_object().unwrap() {
            i[k] = v.clone();
        }
        let r = app
            .gql(SOIL, json!({ "i": i }), Some(&d.agronomist))
            .await
            .ok();
        let p = &r["soilTestCreate"];
        assert_eq!(p["soilTest"], Value::Null, "{change}: {p:#}");
        assert_eq!(p["errors"][0]["field"], field_name, "{change}: {p:#}");
        assert_eq!(p["errors"][0]["code"], code, "{change}: {p:#}");
    }
    assert_eq!(soil_tests(&app, &d.agronomist, &field).await.len(), 1);
    let ok = app
        .gql(SOIL, json!({ "i": base }), Some(&d.agronomist))
        .await
        .ok();
    assert_eq!(ok["soilTestCreate"]["errors"], json!([]));
    let dup = app
        .gql(SOIL, json!({ "i": base }), Some(&d.agronomist))
        .await
        .ok();
    assert_eq!(dup["soilTestCreate"]["errors"][0]["field"], "labSampleId");
    assert_eq!(dup["soilTestCreate"]["errors"][0]["code"], "DUPLICATE");
    assert_eq!(soil_tests(&app, &d.agronomist, &field).await.len(), 2);
}

// ---------------------------------------------------------------- roles

/// One agronomy mutation call with its document and variables.
struct Call {
    name: &'static str,
    doc: String,
    vars: Value,
}

/// Whether the call succeeded: no top-level error and an empty payload `errors`.
fn succeeded(g: &Gql, name: &str) -> bool {
    g.body.get("errors").is_none_or(Value::is_null)
        && g.data()[name]["errors"]
            .as_array()
            .is_none_or(|e| e.is_empty())
        && g.data()[name]["committed"] != false
        && g.data()[name]["ok"] != false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_agronomy_mutation_checks_the_role() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let county = app
        .gql("{ regions(level: COUNTY) { id } }", json!({}), None)
        .await
        .ok()["regions"][0]["id"]
        .clone();
    let producer =
        app.gql("{ producers { id } }", json!({}), None).await.ok()["producers"][0]["id"].clone();
    let field = field_id(&app, &d.farmer, "村东水田").await;
    let plan = plan_id(&app, &d.farmer, &field).await;
    let pond = field_id(&app, &d.farmer, "大塘田").await;
    let pond_plan = plan_id(&app, &d.farmer, &pond).await;
    let a = d.agronomist.clone();

    // Drafts to act on: one per mutation that consumes a draft, and a published one.
    let mut drafts = Vec::new();
    for _ in 0..4 {
        drafts.push(
            draft(&app, &a, &pond, &pond_plan, json!(null)).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let published = draft(&app, &a, &field, &plan, json!(null)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    publish(&app, &a, &published).await;
    // Drafted by the admin, so the agronomist is a second person who may approve it.
    let to_approve = draft(&app, &d.admin, &pond, &pond_plan, json!(null)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    const PARAM_SET: &str = "mutation($i: CountyParameterInput!) { countyParameterSet(input: $i) { parameter { id } errors { field code message } } }";
    let maize = app
        .gql(
            PARAM_SET,
            json!({ "i": { "countyId": county, "crop": "MAIZE", "targetYieldFactor": 1.12,
                "sourceZh": "县试验", "sourceEn": "county trials", "sourceDate": "2025-01-01" } }),
            Some(&a),
        )
        .await
        .ok();
    let maize_param = maize["countyParameterSet"]["parameter"]["id"].clone();
    let formulas = app
        .gql(
            COMPUTE,
            json!({ "c": county, "crop": "RICE", "k": 1 }),
            Some(&a),
        )
        .await
        .ok();
    let formula = formulas["regionalFormulasCompute"]["formulas"][0]["id"].clone();
    let formulas2 = app
        .gql(
            COMPUTE,
            json!({ "c": county, "crop": "RICE", "k": 1 }),
            Some(&a),
        )
        .await
        .ok();
    let formula_to_list = formulas2["regionalFormulasCompute"]["formulas"][0]["id"].clone();
    let p = app
        .gql(
            "mutation($id: ID!) { regionalFormulaPublish(id: $id) { errors { code } } }",
            json!({ "id": formula_to_list }),
            Some(&a),
        )
        .await
        .ok();
    assert_eq!(p["regionalFormulaPublish"]["errors"], json!([]));

    let rec_call = |name: &'static str, id: &str| {
        let args = match name {
            "recommendationReject" => "id: $id, reason: \"数据有误\"",
            "recommendationEdit" => "id: $id, notesZh: \"分次施用\"",
            _ => "id: $id",
        };
        Call {
            name,
            doc: format!(
                "mutation($id: ID!) {{ {name}({args}) {{ recommendation {{ id status }} {ERRS} }} }}"
            ),
            vars: json!({ "id": id }),
        }
    };
    let csv = "farmer_phone,field_name,sampled_on,depth_cm,lab,lab_sample_id,ph,organic_matter_g_kg,alkali_n_mg_kg,olsen_p_mg_kg,available_k_mg_kg\n13800000006,大塘田,2025-09-01,0-20,县土肥站,ROLE-1,6.0,20,100,10,90\n";
    // (call, the roles allowed, the code a wrong role gets, the role that succeeds)
    let calls: Vec<(Call, &[&str], &str, &str)> = vec![
        (
            Call {
                name: "cropPlanCreate",
                doc: "mutation($i: CropPlanInput!) { cropPlanCreate(input: $i) { cropPlan { id } errors { field code message } } }".into(),
                vars: json!({ "i": { "fieldId": field, "crop": "RICE", "season": "2028 中稻", "targetYieldKgPerMu": 600 } }),
            },
            &["FARMER", "AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "FARMER",
        ),
        (
            Call {
                name: "soilTestCreate",
                doc: "mutation($i: SoilTestInput!) { soilTestCreate(input: $i) { soilTest { id } errors { field code message } } }".into(),
                vars: json!({ "i": { "fieldId": field, "sampledOn": "2025-10-01", "lab": "县土肥站", "labSampleId": "ROLE-2",
                    "ph": 6.2, "organicMatterGKg": 21.0, "alkaliNMgKg": 100.0, "olsenPMgKg": 12.0, "availableKMgKg": 95.0 } }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (
            Call {
                name: "soilTestImportCsv",
                doc: "mutation($c: String!) { soilTestImportCsv(csv: $c, policy: REJECT_ALL) { committed rowErrors { line code message } } }".into(),
                vars: json!({ "c": csv }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (
            Call {
                name: "recommendationDraft",
                doc: format!("mutation($f: ID!, $p: ID!) {{ recommendationDraft(fieldId: $f, cropPlanId: $p) {{ recommendation {{ id }} {ERRS} }} }}"),
                vars: json!({ "f": field, "p": plan }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (rec_call("recommendationEdit", &drafts[0]), &["AGRONOMIST", "ADMIN"], "FORBIDDEN", "AGRONOMIST"),
        (rec_call("recommendationPublish", &drafts[1]), &["AGRONOMIST", "ADMIN"], "FORBIDDEN", "AGRONOMIST"),
        (rec_call("recommendationReject", &drafts[2]), &["AGRONOMIST", "ADMIN"], "FORBIDDEN", "AGRONOMIST"),
        (rec_call("recommendationRevise", &drafts[3]), &["AGRONOMIST", "ADMIN"], "FORBIDDEN", "AGRONOMIST"),
        (rec_call("recommendationApprove", &to_approve), &["AGRONOMIST", "ADMIN"], "FORBIDDEN", "AGRONOMIST"),
        (
            Call {
                name: "countyParameterSet",
                doc: PARAM_SET.into(),
                vars: json!({ "i": { "countyId": county, "crop": "RICE", "correctionCoefficients": [0.6, 1.2, 0.6],
                    "sourceZh": "县试验", "sourceEn": "county trials", "sourceDate": "2025-01-01" } }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (
            Call {
                name: "countyParameterDelete",
                doc: "mutation($id: ID!) { countyParameterDelete(id: $id) { ok errors { field code message } } }".into(),
                vars: json!({ "id": maize_param }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (
            Call {
                name: "countySettingsSet",
                doc: "mutation($c: ID!) { countySettingsSet(countyId: $c, requireSecondApproval: false) { settings { requireSecondApproval } errors { field code message } } }".into(),
                vars: json!({ "c": county }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (
            Call {
                name: "recommendationToCart",
                doc: "mutation($id: ID!) { recommendationToCart(id: $id) { ok warnings errors { field code message } } }".into(),
                vars: json!({ "id": published }),
            },
            &["FARMER"],
            "FORBIDDEN",
            "FARMER",
        ),
        (
            Call {
                name: "regionalFormulasCompute",
                doc: COMPUTE.into(),
                vars: json!({ "c": county, "crop": "RICE", "k": 2 }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (
            Call {
                name: "regionalFormulaPublish",
                doc: "mutation($id: ID!) { regionalFormulaPublish(id: $id) { formula { id status } errors { field code message } } }".into(),
                vars: json!({ "id": formula }),
            },
            &["AGRONOMIST", "ADMIN"],
            "FORBIDDEN",
            "AGRONOMIST",
        ),
        (
            Call {
                name: "regionalFormulaToProduct",
                doc: "mutation($id: ID!, $p: ID!) { regionalFormulaToProduct(id: $id, producerId: $p) { productId errors { field code message } } }".into(),
                vars: json!({ "id": formula_to_list, "p": producer }),
            },
            &["DEALER (OWNER)", "DEALER (STAFF)", "ADMIN"],
            "FORBIDDEN",
            "DEALER (OWNER)",
        ),
    ];
    let roles: [(&str, &str); 6] = [
        ("ADMIN", &d.admin),
        ("REGULATOR", &d.regulator),
        ("AGRONOMIST", &d.agronomist),
        ("DEALER (OWNER)", &d.owner),
        ("DEALER (STAFF)", &d.staff),
        ("FARMER", &d.farmer),
    ];
    for (call, allowed, wrong_code, winner) in &calls {
        let anon = app.gql(&call.doc, call.vars.clone(), None).await;
        assert_eq!(
            anon.error_code(),
            Some("UNAUTHENTICATED"),
            "{} anonymous: {:#}",
            call.name,
            anon.body
        );
        for (role, token) in roles {
            if allowed.contains(&role) {
                continue;
            }
            let g = app.gql(&call.doc, call.vars.clone(), Some(token)).await;
            assert_eq!(
                g.error_code(),
                Some(*wrong_code),
                "{} as {role}: {:#}",
                call.name,
                g.body
            );
            assert!(
                g.data().is_null() || g.data()[call.name].is_null(),
                "{} as {role}: no payload: {:#}",
                call.name,
                g.body
            );
        }
        let token = roles.iter().find(|(r, _)| r == winner).unwrap().1;
        let g = app.gql(&call.doc, call.vars.clone(), Some(token)).await;
        assert!(
            succeeded(&g, call.name),
            "{} as {winner} succeeds: {:#}",
            call.name,
            g.body
        );
    }
    // What the allowed calls did is visible: the draft states moved as asked.
    for (id, status) in [
        (&drafts[0], "DRAFT"),
        (&drafts[1], "PUBLISHED"),
        (&drafts[2], "REJECTED"),
    ] {
        let r = recommendation(&app, &a, id).await.ok();
        assert_eq!(r["recommendation"]["status"], status);
    }
}

// ---------------------------------------------------------------- concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_drafts_and_publishes_keep_one_current_version() {
    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let field = field_id(&app, &d.farmer, "大塘田").await;
    let plan = plan_id(&app, a, &field).await;

    // Four drafts of the same plan at once: four versions, none lost.
    let drafts = futures_util::future::join_all(
        (0..4).map(|_| draft_call(&app, a, &field, &plan, json!(null))),
    )
    .await;
    let mut ids = Vec::new();
    let mut versions = Vec::new();
    for g in drafts {
        let d = g.ok();
        let p = &d["recommendationDraft"];
        assert_eq!(p["errors"], json!([]), "{p:#}");
        ids.push(p["recommendation"]["id"].as_str().unwrap().to_owned());
        versions.push(p["recommendation"]["version"].as_i64().unwrap());
    }
    versions.sort();
    assert_eq!(versions, vec![1, 2, 3, 4]);

    // All four published at once: each publish supersedes the one before, so exactly one is
    // current, and the farmer was told four times.
    let published = futures_util::future::join_all(
        ids.iter()
            .map(|id| rec_mutation(&app, Some(a), "recommendationPublish", id)),
    )
    .await;
    for g in published {
        let d = g.ok();
        assert_eq!(d["recommendationPublish"]["errors"], json!([]), "{d:#}");
    }
    let recs = field_recs(&app, a, &field).await;
    let current: Vec<&Value> = recs.iter().filter(|r| r["status"] == "PUBLISHED").collect();
    assert_eq!(current.len(), 1, "one current version: {recs:#?}");
    assert_eq!(
        recs.iter().filter(|r| r["status"] == "SUPERSEDED").count(),
        3,
        "{recs:#?}"
    );
    let mine = app
        .gql("{ myRecommendations { id } }", json!({}), Some(&d.farmer))
        .await
        .ok();
    assert_eq!(
        mine["myRecommendations"],
        json!([{ "id": current[0]["id"] }])
    );

    // One draft published twice at once: once.
    let fifth = draft(&app, a, &field, &plan, json!(null)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (x, y) = futures_util::future::join(
        rec_mutation(&app, Some(a), "recommendationPublish", &fifth),
        rec_mutation(&app, Some(a), "recommendationPublish", &fifth),
    )
    .await;
    let codes: Vec<Value> = [x.ok(), y.ok()]
        .iter()
        .map(|d| d["recommendationPublish"]["errors"][0]["code"].clone())
        .collect();
    assert!(
        codes.contains(&Value::Null) && codes.contains(&json!("INVALID_TRANSITION")),
        "{codes:?}"
    );
    let n = app
        .gql("{ notifications { kind } }", json!({}), Some(&d.farmer))
        .await
        .ok();
    let published = n["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "RECOMMENDATION_PUBLISHED")
        .count();
    assert_eq!(published, 5, "one notice per publish: {n:#}");
}

#[tokio::test]
async fn a_drafts_rates_are_the_advisors_typed_recommend_answer() {
    use advisor::api::{Method, Npk, RecommendRequest, RecommendSoil};
    use advisor::units::{KgPerMu, MgPerKg, Ph, Positive, RecoveryRate};

    let app = spawn_app().await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let east = field_id(&app, &d.farmer, "村东水田").await;
    let plan = plan_id(&app, a, &east).await;
    let q = app
        .gql(
            "query($f: ID!) { myFields { id areaMu } cropPlans(fieldId: $f) { id crop }
               soilTests(fieldId: $f) { ph alkaliNMgKg olsenPMgKg availableKMgKg } }",
            json!({ "f": east }),
            Some(&d.farmer),
        )
        .await
        .ok();
    let area = q["myFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == east.as_str())
        .unwrap()["areaMu"]
        .as_f64()
        .unwrap();
    let crop = q["cropPlans"][0]["crop"].as_str().unwrap();
    let soil = &q["soilTests"][0];
    let num = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("not a number: {q:#}"));

    let (c, r, t) = ([0.6, 0.5, 0.45], [0.35, 0.25, 0.5], 550.0);
    let rec = draft(
        &app,
        a,
        &east,
        &plan,
        json!({ "correctionCoefficients": c, "recoveryRates": r, "targetYieldKgPerMu": t }),
    )
    .await;

    // The same inputs, straight to the advisor's typed `recommend` (no products: the rates do
    // not depend on the basket).
    let answer = RecommendRequest {
        crop: domain::agronomy::advisor_crop(crop).unwrap().to_owned(),
        area_mu: Positive::new(area),
        target_yield_kg_per_mu: Some(KgPerMu::new(t)),
        past_yields_kg_per_mu: None,
        target_yield_factor: None,
        soil: RecommendSoil {
            alkali_n_mg_per_kg: MgPerKg::new(num(&soil["alkaliNMgKg"])),
            olsen_p_mg_per_kg: MgPerKg::new(num(&soil["olsenPMgKg"])),
            available_k_mg_per_kg: MgPerKg::new(num(&soil["availableKMgKg"])),
            ph: Some(Ph::new(num(&soil["ph"]))),
            buffer_ph: None,
        },
        correction_coefficients: Npk {
            n: Some(Positive::new(c[0])),
            p2o5: Some(Positive::new(c[1])),
            k2o: Some(Positive::new(c[2])),
        },
        no_fertiliser_yield_kg_per_mu: None,
        recovery_rates: Npk {
            n: Some(RecoveryRate::new(r[0])),
            p2o5: Some(RecoveryRate::new(r[1])),
            k2o: Some(RecoveryRate::new(r[2])),
        },
        uptake_kg_per_kg_yield: Npk::default(),
        legume_n_factor: None,
        target_ph: None,
        residual_lime_credit_t_per_acre: None,
        products: Vec::new(),
        basket: Default::default(),
    }
    .run()
    .unwrap();
    let typed = answer.rates_kg_per_mu.values();
    assert!(typed.iter().any(|x| *x > 0.0), "{answer:#?}");
    let got = [
        num(&rec["rates"]["nKgPerMu"]),
        num(&rec["rates"]["p2o5KgPerMu"]),
        num(&rec["rates"]["k2oKgPerMu"]),
    ];
    // Stored as a farmer weighs them out: the advisor's rates split by crop stage in half
    // kilograms (advisor::advice::split_plan), which sum to the rates rounded to 0.5 kg.
    let split = advisor::advice::split_plan("rice", typed, area)
        .unwrap()
        .rate_kg_per_mu;
    assert_eq!(
        got, split,
        "the draft's rates are the advisor's, rounded: {rec:#}"
    );
    for (g, t) in got.iter().zip(typed) {
        assert!((g - t).abs() <= 0.25, "{g} is {t} to the half kilogram");
    }
    // The typed rates are the ones the advisor's JSON reports, nutrient by nutrient.
    for (i, rate) in answer.rates.iter().enumerate() {
        assert_eq!(rate.nutrient_kg_per_mu.value(), typed[i]);
    }
}

/// The review queue costs the same SQL statements for 4 drafts as for 1: which drafts the
/// agronomist may see is decided for the whole queue, and each draft's field, crop plan, soil
/// test and agronomist come through loaders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_queue_costs_the_same_statements_for_4_drafts_as_for_1() {
    // The background sweeper's statements would count too: keep it out of the measurement.
    let app =
        e2e::spawn_app_with(|c| c.sweep_interval = std::time::Duration::from_secs(3600)).await;
    let d = demo(&app).await;
    let a = &d.agronomist;
    let q = "{ recommendationQueue { id status agronomistName field { name areaMu }
        cropPlan { crop } soilTest { lab ph } rates { nKgPerMu } } }";
    let queue_cost = || async {
        let before = app.statements();
        let r = app.gql(q, json!({}), Some(a)).await.ok();
        let after = app.statements();
        let queue = r["recommendationQueue"].as_array().unwrap().clone();
        for rec in &queue {
            assert!(rec["field"]["name"].as_str().is_some(), "{rec:#}");
            assert!(rec["cropPlan"]["crop"].as_str().is_some(), "{rec:#}");
            assert!(rec["soilTest"]["ph"].as_f64().is_some(), "{rec:#}");
        }
        (queue.len(), after - before)
    };
    let already = queue_cost().await.0;
    let mut fields = vec![];
    for (farmer, name) in [
        (&d.farmer, "村东水田"),
        (&d.farmer, "大塘田"),
        (&d.farmer2, "河边旱地"),
        (&d.farmer2, "坡上田"),
    ] {
        fields.push(field_id(&app, farmer, name).await);
    }
    let mut cost = vec![];
    for (i, f) in fields.iter().enumerate() {
        let plan = plan_id(&app, a, f).await;
        draft(&app, a, f, &plan, json!(null)).await;
        if i == 0 || i == fields.len() - 1 {
            let (n, c) = queue_cost().await;
            assert_eq!(n, already + i + 1);
            cost.push(c);
        }
    }
    println!(
        "SQL statements: recommendationQueue with {} drafts = {}, with {} = {}",
        already + 1,
        cost[0],
        already + fields.len(),
        cost[1]
    );
    assert_eq!(cost[0], cost[1], "4 drafts must cost what 1 costs");
}
