//! 测土配方施肥 end to end: a lab CSV is imported, a draft is made, an agronomist edits and
//! publishes it, the farmer sees it, puts the basket into the cart and orders it.

use e2e::spawn_app;
use serde_json::{Value, json};

const FIELDS: &str = "{ myFields { id name areaMu village { id name } } }";

async fn first_field_of(app: &e2e::TestApp, farmer: &str) -> Value {
    app.gql(FIELDS, json!({}), Some(farmer)).await.ok()["myFields"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_lab_csv_to_an_order_of_the_published_basket() {
    let app = spawn_app().await;
    app.load_demo().await;
    let farmer = app.demo_token("FARMER").await;
    let agronomist = app.demo_token("AGRONOMIST").await;
    let field = first_field_of(&app, &farmer).await;
    let field_id = field["id"].as_str().unwrap().to_owned();

    // The farmer plans the next crop.
    let d = app
        .gql(
            "mutation($i: CropPlanInput!) { cropPlanCreate(input: $i) { cropPlan { id crop } errors { field code message } } }",
            json!({ "i": { "fieldId": field_id, "crop": "水稻", "season": "2027 中稻", "pastYieldsKgPerMu": [560, 590, 610] } }),
            Some(&farmer),
        )
        .await
        .ok();
    assert_eq!(d["cropPlanCreate"]["errors"], json!([]), "{d:#}");
    let plan_id = d["cropPlanCreate"]["cropPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The lab's CSV (with a BOM, Chinese headers for some columns) is imported by the agronomist.
    let me = app
        .gql("{ me { phone } }", json!({}), Some(&farmer))
        .await
        .ok();
    let phone = me["me"]["phone"].as_str().unwrap();
    let name = field["name"].as_str().unwrap();
    let csv = format!(
        "\u{feff}农户手机号,地块名称,采样日期,depth_cm,化验室,样品编号,pH,buffer_ph,有机质,碱解氮,有效磷,速效钾\n{phone},{name},2026-10-08,0-20,县土肥站,LAB-2026-900,5.2,6.0,22.5,105,8.2,78\n"
    );
    let d = app
        .gql(
            "mutation($c: String!) { soilTestImportCsv(csv: $c, policy: REJECT_ALL) { committed imported { id labSampleId ph } rowErrors { line column columnName code message } } }",
            json!({ "c": csv }),
            Some(&agronomist),
        )
        .await
        .ok();
    let imp = &d["soilTestImportCsv"];
    assert_eq!(imp["committed"], true, "{imp:#}");
    let test_id = imp["imported"][0]["id"].as_str().unwrap().to_owned();

    // A draft: nutrient balance with the new soil test, and a whole-bag basket from the dealers
    // that serve the village, at their prices.
    let draft = app
        .gql(
            "mutation($f: ID!, $p: ID!, $t: ID) { recommendationDraft(fieldId: $f, cropPlanId: $p, soilTestId: $t) {
                recommendation { id status version rates { nKgPerMu p2o5KgPerMu k2oKgPerMu } limeKgPerMu
                  explanation { topic formula substituted result text } computationNotes
                  basket { feasible costFen lines { offerId productName bags priceFenPerBag subtotalFen } } }
                errors { field code message } } }",
            json!({ "f": field_id, "p": plan_id, "t": test_id }),
            Some(&agronomist),
        )
        .await
        .ok();
    let rec = &draft["recommendationDraft"]["recommendation"];
    assert_eq!(
        draft["recommendationDraft"]["errors"],
        json!([]),
        "{draft:#}"
    );
    assert_eq!(rec["status"], "DRAFT");
    let n = rec["rates"]["nKgPerMu"].as_f64().unwrap();
    assert!(n > 0.0, "rice on a low-N soil needs N: {rec:#}");
    assert!(
        rec["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["substituted"].as_str().unwrap().contains("105")),
        "the explanation shows the soil test's numbers"
    );
    assert!(
        rec["limeKgPerMu"].as_f64().unwrap() > 0.0,
        "pH 5.2 with a buffer pH gets lime"
    );
    assert!(
        rec["computationNotes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("默认值")),
        "default coefficients are flagged"
    );
    let basket = &rec["basket"];
    assert_eq!(basket["feasible"], true, "{basket:#}");
    let lines = basket["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    let cost: i64 = lines
        .iter()
        .map(|l| l["subtotalFen"].as_i64().unwrap())
        .sum();
    assert_eq!(basket["costFen"].as_i64().unwrap(), cost);

    // The farmer cannot see a draft.
    let rec_id = rec["id"].as_str().unwrap().to_owned();
    let hidden = app
        .gql(
            "query($id: ID!) { recommendation(id: $id) { id } }",
            json!({ "id": rec_id }),
            Some(&farmer),
        )
        .await;
    assert_eq!(hidden.error_code(), Some("NOT_FOUND"));

    // The agronomist's queue has it; they set the county's coefficients and notes, then publish.
    let q = app
        .gql(
            "{ recommendationQueue { id } }",
            json!({}),
            Some(&agronomist),
        )
        .await
        .ok();
    assert!(
        q["recommendationQueue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == rec_id.as_str())
    );
    let edited = app
        .gql(
            "mutation($id: ID!) { recommendationEdit(id: $id, params: { correctionCoefficients: [0.6, 0.5, 0.45] }, notesZh: \"分两次追施氮肥\", notesEn: \"split the N top-dressing in two\") {
                recommendation { rates { nKgPerMu } computationNotes parameters } errors { field code message } } }",
            json!({ "id": rec_id }),
            Some(&agronomist),
        )
        .await
        .ok();
    let e = &edited["recommendationEdit"];
    assert_eq!(e["errors"], json!([]), "{e:#}");
    assert_ne!(
        e["recommendation"]["rates"]["nKgPerMu"].as_f64().unwrap(),
        n,
        "a higher N coefficient means the soil supplies more"
    );
    assert!(
        !e["recommendation"]["computationNotes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("placeholder"))
    );
    let published = app
        .gql(
            "mutation($id: ID!) { recommendationPublish(id: $id) { recommendation { status signedAt signature agronomistName } errors { code } } }",
            json!({ "id": rec_id }),
            Some(&agronomist),
        )
        .await
        .ok();
    let p = &published["recommendationPublish"]["recommendation"];
    assert_eq!(p["status"], "PUBLISHED");
    assert_eq!(p["signature"].as_str().unwrap().len(), 64);
    // Published is immutable.
    let again = app
        .gql("mutation($id: ID!) { recommendationEdit(id: $id, notesZh: \"改\") { errors { code } } }", json!({ "id": rec_id }), Some(&agronomist))
        .await
        .ok();
    assert_eq!(
        again["recommendationEdit"]["errors"][0]["code"],
        "INVALID_TRANSITION"
    );

    // The farmer is notified and sees it, with the soil test it came from and the explanation.
    let n = app
        .gql("{ notifications { kind title } }", json!({}), Some(&farmer))
        .await
        .ok();
    assert!(
        n["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "RECOMMENDATION_PUBLISHED")
    );
    let mine = app
        .gql(
            "{ myRecommendations { id status notes soilTest { lab labSampleId sampledOn } explanation { formula } basket { lines { bags } } } }",
            json!({}),
            Some(&farmer),
        )
        .await
        .ok();
    let r = &mine["myRecommendations"][0];
    assert_eq!(r["id"], rec_id.as_str());
    assert_eq!(r["soilTest"]["labSampleId"], "LAB-2026-900");
    assert_eq!(r["notes"], "分两次追施氮肥");
    assert!(!r["explanation"].as_array().unwrap().is_empty());

    // Two steps: basket into the cart, then order it.
    let c = app
        .gql("mutation($id: ID!) { recommendationToCart(id: $id) { ok warnings errors { code message } } }", json!({ "id": rec_id }), Some(&farmer))
        .await
        .ok();
    assert_eq!(c["recommendationToCart"]["ok"], true, "{c:#}");
    let cart = app
        .gql(
            "{ cart { lines { quantity offer { id } } totalFen } }",
            json!({}),
            Some(&farmer),
        )
        .await
        .ok();
    let bags: i64 = r["basket"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["bags"].as_i64().unwrap())
        .sum();
    let in_cart: i64 = cart["cart"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(bags, in_cart);
    let placed = app
        .gql(
            "mutation { orderPlace(input: { default: { deliveryMode: PICKUP, paymentMethod: CASH_ON_DELIVERY } }, idempotencyKey: \"rec-order-1\") { orders { id status totalFen } errors { field code message } } }",
            json!({}),
            Some(&farmer),
        )
        .await
        .ok();
    let orders = placed["orderPlace"]["orders"].as_array().unwrap();
    assert!(!orders.is_empty(), "{placed:#}");
    assert!(orders.iter().all(|o| o["status"] == "PLACED"));
    let total: i64 = orders.iter().map(|o| o["totalFen"].as_i64().unwrap()).sum();
    assert_eq!(total, cart["cart"]["totalFen"].as_i64().unwrap());
}
