//! The county bureau's trace and recall pages: any code a regulator types leads to its lot (or,
//! for a product-level code, to its lots); the recall confirmation counts whom it will reach,
//! and those counts are checked against the stock and sale rows read another way; the recall
//! through the form reaches them, its progress follows the notices being read, and the report
//! (page and CSV) says which product, lot, reason, date and officer it is about. Holding and
//! releasing through the forms; a refused form changes nothing. Other roles are refused.

use std::collections::BTreeSet;

use domain::accounts::Actor;
use domain::bureau::lots::{self as bl, Lookup};
use domain::entities::{
    app_user, lot, notification, product, sale, sale_line, sku, stock, unit_code,
};
use domain::types::{LotStatus, NotificationKind};
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

const REGULATOR: (&str, &str) = ("13800000002", "demo-regulator-2026");
const FARMER: (&str, &str) = ("13800000006", "demo-farmer-2026");

async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    app.load_demo().await;
    app
}

async fn actor(app: &TestApp, phone: &str) -> Actor {
    let u = app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(phone))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    domain::accounts::actor_for(app.db(), &u).await.unwrap()
}

/// The demo lot with the most sale lines (it has holders, account buyers and a counter sale).
async fn sold_lot(app: &TestApp) -> lot::Model {
    let lines = sale_line::Entity::find().all(app.db()).await.unwrap();
    let mut count: std::collections::BTreeMap<i64, usize> = Default::default();
    for l in &lines {
        *count.entry(l.lot_id).or_default() += 1;
    }
    let (id, _) = count.into_iter().max_by_key(|(id, n)| (*n, -id)).unwrap();
    lot::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_code_leads_a_regulator_to_its_lot_and_a_product_code_to_its_lots() {
    let app = demo_app().await;
    let db = app.db();
    let reg = actor(&app, REGULATOR.0).await;
    let l = sold_lot(&app).await;
    let found = |code: String| {
        let reg = reg.clone();
        async move { bl::find(db, &reg, &code).await.unwrap() }
    };
    // The lot's own trace code, typed in lower case with spaces around it.
    assert!(
        matches!(found(format!("  {}  ", l.trace_code.to_lowercase())).await, Lookup::Lot(id) if id == l.id)
    );
    // One unit's code leads to its lot.
    let u = unit_code::Entity::find()
        .one(db)
        .await
        .unwrap()
        .expect("the demo has unit codes");
    assert!(matches!(found(u.code.clone()).await, Lookup::Lot(id) if id == u.lot_id));
    // A registration number names a product: every lot of it, newest first.
    let lots = lot::Entity::find().all(db).await.unwrap();
    let skus = sku::Entity::find().all(db).await.unwrap();
    let registered = product::Entity::find()
        .filter(product::Column::RegistrationNo.is_not_null())
        .all(db)
        .await
        .unwrap();
    let lots_of = |p: &product::Model| -> BTreeSet<i64> {
        let skus: BTreeSet<i64> = skus
            .iter()
            .filter(|s| s.product_id == p.id)
            .map(|s| s.id)
            .collect();
        lots.iter()
            .filter(|l| skus.contains(&l.sku_id))
            .map(|l| l.id)
            .collect()
    };
    let p = registered
        .iter()
        .max_by_key(|p| lots_of(p).len())
        .expect("the demo has registered products");
    let lots_of_product = lots_of(p);
    assert!(
        lots_of_product.len() > 1,
        "a registered product with several lots"
    );
    match found(p.registration_no.clone().unwrap()).await {
        Lookup::Many(hits) => {
            let ids: BTreeSet<i64> = hits.iter().map(|h| h.lot_id).collect();
            assert_eq!(ids, lots_of_product);
            assert!(
                hits.windows(2)
                    .all(|w| w[0].produced_on >= w[1].produced_on)
            );
        }
        other => panic!("the registration number lists its lots: {other:?}"),
    }
    // The lot number as printed on the bag.
    let same_no = lot::Entity::find()
        .filter(lot::Column::LotNo.eq(l.lot_no.clone()))
        .all(db)
        .await
        .unwrap()
        .len();
    match found(l.lot_no.clone()).await {
        Lookup::Lot(id) => assert!(same_no == 1 && id == l.id),
        Lookup::Many(h) => assert_eq!(h.len(), same_no),
        Lookup::Nothing => panic!("the lot number finds its lot"),
    }
    assert!(matches!(
        found("NO-SUCH-CODE-1".into()).await,
        Lookup::Nothing
    ));
    // A farmer may scan a bag on the public page, but not search the bureau's way.
    let farmer = actor(&app, FARMER.0).await;
    assert!(matches!(
        bl::find(db, &farmer, &l.trace_code).await,
        Err(domain::Error::Forbidden { .. })
    ));

    // The same through the page.
    let mut b = Browser::new(&app);
    assert_eq!(
        b.get("/bureau").await.status,
        303,
        "signed out: to the sign-in page"
    );
    b.sign_in(REGULATOR.0, REGULATOR.1).await;
    let home = b.get("/").await;
    assert_eq!(
        home.location.as_deref(),
        Some("/bureau"),
        "a regulator's home is the bureau"
    );
    let r = b.get(&format!("/bureau?code={}", l.trace_code)).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/bureau/lots/{}", l.id).as_str())
    );
    let none = b.get("/bureau?code=NO-SUCH-CODE-1").await;
    assert_eq!(none.status, 404);
    assert!(none.body.contains("data-test=\"trace-none\""));
    let mut f = Browser::new(&app);
    f.sign_in(FARMER.0, FARMER.1).await;
    assert_eq!(f.get("/bureau").await.status, 403);
    assert_eq!(f.get(&format!("/bureau/lots/{}", l.id)).await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_from_the_console_says_whom_it_reaches_reaches_them_and_reports_it() {
    let app = demo_app().await;
    let db = app.db();
    let l = sold_lot(&app).await;
    // Whom it should reach, read from the rows directly.
    let holders: BTreeSet<(i64, i64)> = stock::Entity::find()
        .filter(stock::Column::LotId.eq(l.id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.on_hand > 0)
        .map(|s| (s.dealer_id, s.location_id))
        .collect();
    let on_hand: i64 = stock::Entity::find()
        .filter(stock::Column::LotId.eq(l.id))
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|s| s.on_hand)
        .sum();
    let sale_ids: Vec<i64> = sale_line::Entity::find()
        .filter(sale_line::Column::LotId.eq(l.id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sale_id)
        .collect();
    let sales = sale::Entity::find()
        .filter(sale::Column::Id.is_in(sale_ids))
        .all(db)
        .await
        .unwrap();
    let buyers: BTreeSet<i64> = sales.iter().filter_map(|s| s.buyer_user_id).collect();
    let anonymous = sales.iter().filter(|s| s.buyer_user_id.is_none()).count();
    assert!(
        !holders.is_empty() && !buyers.is_empty() && anonymous > 0,
        "the demo lot is sold both ways"
    );

    let mut b = Browser::new(&app);
    b.sign_in(REGULATOR.0, REGULATOR.1).await;
    let confirm = b.get(&format!("/bureau/lots/{}/recall", l.id)).await;
    assert_eq!(confirm.status, 200);
    let cell = |p: &e2e::Page, test: &str| -> String {
        let k = format!("data-test=\"{test}\">");
        let i = p.body.find(&k).unwrap_or_else(|| panic!("no {test}")) + k.len();
        p.body[i..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(
        cell(&confirm, "reach-holders"),
        format!("{}（{} 件在库或在途）", holders.len(), on_hand)
    );
    assert_eq!(cell(&confirm, "reach-buyers"), buyers.len().to_string());
    assert!(cell(&confirm, "reach-anonymous").starts_with(&anonymous.to_string()));

    // GraphQL counts the same, and refuses a farmer.
    let lot_gid = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Lot:{}", l.id))
    };
    let (reg_token, _) = app.login(REGULATOR.0, REGULATOR.1).await;
    const REACH: &str = "query($l: ID!) { recallReach(lotId: $l) { holders unitsHeld dealers buyersNotified anonymousSales accounts } recallProgress(lotId: $l) { reason } }";
    let g = app
        .gql(REACH, json!({ "l": lot_gid }), Some(&reg_token))
        .await
        .ok();
    assert_eq!(g["recallReach"]["holders"], json!(holders.len()));
    assert_eq!(g["recallReach"]["unitsHeld"], json!(on_hand));
    assert_eq!(g["recallReach"]["buyersNotified"], json!(buyers.len()));
    assert_eq!(g["recallReach"]["anonymousSales"], json!(anonymous));
    assert_eq!(g["recallProgress"], json!(null), "not recalled yet");
    let (farmer_token, _) = app.login(FARMER.0, FARMER.1).await;
    let refused = app
        .gql(REACH, json!({ "l": lot_gid }), Some(&farmer_token))
        .await;
    assert_eq!(refused.error_code(), Some("FORBIDDEN"));

    // A recall without a reason is refused, and nothing changes.
    let csrf = confirm.csrf();
    let idem = confirm.field("idem").unwrap();
    let bad = b
        .post(
            &format!("/bureau/lots/{}/recall", l.id),
            &[("csrf", &csrf), ("idem", &idem), ("reason", "  ")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("data-test=\"lot-error\""));
    let still = lot::Entity::find_by_id(l.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, LotStatus::Active);

    // With a reason: done once, even when the tap is sent twice.
    let form = [
        ("csrf", csrf.as_str()),
        ("idem", idem.as_str()),
        ("reason", "抽检不合格：总养分不足"),
    ];
    let ok = b
        .post(&format!("/bureau/lots/{}/recall", l.id), &form)
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(
        ok.location.as_deref(),
        Some(format!("/bureau/lots/{}?done=recalled", l.id).as_str())
    );
    let again = b
        .post(&format!("/bureau/lots/{}/recall", l.id), &form)
        .await;
    assert_eq!(
        again.status, 303,
        "the second tap goes where the first went"
    );
    let recalled = lot::Entity::find_by_id(l.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recalled.status, LotStatus::Recalled);
    // Every buyer with an account got one notice about this lot.
    let notices = notification::Entity::find()
        .filter(notification::Column::Kind.eq(NotificationKind::LotRecalled))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await
        .unwrap();
    for u in &buyers {
        assert_eq!(
            notices
                .iter()
                .filter(|n| n.user_id == *u && n.payload["lotId"] == json!(l.id))
                .count(),
            1,
            "buyer {u} is told once"
        );
    }

    let g = app
        .gql(REACH, json!({ "l": lot_gid }), Some(&reg_token))
        .await
        .ok();
    assert_eq!(g["recallProgress"]["reason"], "抽检不合格：总养分不足");

    // The progress: nobody has read it yet; then the farmer reads it.
    let page = b.get(&format!("/bureau/lots/{}", l.id)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-test=\"progress\""));
    let p = bl::dossier(db, &actor(&app, REGULATOR.0).await, l.id)
        .await
        .unwrap()
        .progress
        .unwrap();
    assert_eq!(p.buyer_accounts, buyers.len());
    assert_eq!(p.buyers_read, 0);
    assert_eq!(p.anonymous_sales, anonymous);
    assert_eq!(p.on_shelves, on_hand);
    assert_eq!(p.reason, "抽检不合格：总养分不足");
    let officer = app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(REGULATOR.0))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .display_name;
    assert_eq!(p.ordered_by.as_deref(), Some(officer.as_str()), "{p:?}");
    let farmer = actor(&app, FARMER.0).await;
    assert!(
        buyers.contains(&farmer.user_id),
        "the demo farmer bought from this lot"
    );
    {
        let tok = farmer_token.clone();
        let listed = app
            .gql(
                "query { notifications(unreadOnly: true) { id kind payload } }",
                json!({}),
                Some(&tok),
            )
            .await
            .ok();
        let mine: Vec<serde_json::Value> = listed["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "LOT_RECALLED" && n["payload"]["lotId"] == json!(l.id))
            .map(|n| n["id"].clone())
            .collect();
        assert_eq!(mine.len(), 1);
        let marked = app
            .gql(
                "mutation($ids: [ID!]!) { notificationsMarkRead(ids: $ids) }",
                json!({ "ids": mine }),
                Some(&tok),
            )
            .await
            .ok();
        assert_eq!(marked["notificationsMarkRead"], 1);
        let p = bl::dossier(db, &actor(&app, REGULATOR.0).await, l.id)
            .await
            .unwrap()
            .progress
            .unwrap();
        assert_eq!(p.buyers_read, 1);
    }

    // The report: on screen with its header, and as CSV with the same header first.
    let report = b.get(&format!("/bureau/lots/{}/report", l.id)).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains("抽检不合格：总养分不足"));
    assert!(report.body.contains(&l.lot_no));
    assert!(report.body.contains("data-test=\"ordered-by\""));
    let csv = b.get(&format!("/bureau/lots/{}/report.csv", l.id)).await;
    assert_eq!(csv.status, 200);
    let (about, rows) = e2e::titled_csv(&csv.body);
    assert_eq!(about["批号"], l.lot_no);
    assert_eq!(about["原因"], "抽检不合格：总养分不足");
    assert_eq!(about["状态"], "已召回");
    assert_eq!(about["下令人"], officer);
    assert_eq!(
        rows.iter().filter(|r| r["类型"] == "购买人").count(),
        sales.len(),
        "one row per sale line of the lot"
    );
    assert_eq!(
        rows.iter().filter(|r| r["类型"] == "持有").count(),
        holders.len()
    );
    // The lot is listed among the withdrawn, with what is still out.
    let list = b.get("/bureau/recalls").await;
    assert!(list.body.contains(&format!("/bureau/lots/{}/report", l.id)));
    // A second recall is refused with a reason, not a crash.
    let confirm = b.get(&format!("/bureau/lots/{}/recall", l.id)).await;
    assert!(!confirm.body.contains("data-test=\"recall-confirm\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_is_held_and_released_through_the_forms_and_a_wrong_step_is_refused() {
    let app = demo_app().await;
    let db = app.db();
    let l = sold_lot(&app).await;
    let mut b = Browser::new(&app);
    b.sign_in(REGULATOR.0, REGULATOR.1).await;
    let page = b.get(&format!("/bureau/lots/{}", l.id)).await;
    assert!(page.body.contains("data-test=\"hold\""));
    let form = |p: &e2e::Page, reason: &'static str| {
        vec![
            ("csrf".to_owned(), p.csrf()),
            ("idem".to_owned(), p.field("idem").unwrap()),
            ("reason".to_owned(), reason.to_owned()),
        ]
    };
    let f = form(&page, "抽检待出结果");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let held = b.post(&format!("/bureau/lots/{}/hold", l.id), &pairs).await;
    assert_eq!(held.status, 303);
    let row = lot::Entity::find_by_id(l.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, LotStatus::OnHold);
    assert_eq!(row.status_reason.as_deref(), Some("抽检待出结果"));
    // An old page's hold form, sent again with a fresh key, is refused: the lot is on hold.
    let f = [
        ("csrf".to_owned(), page.csrf()),
        ("idem".to_owned(), "fresh-key-1".to_owned()),
        ("reason".to_owned(), "again".to_owned()),
    ];
    let pairs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let twice = b.post(&format!("/bureau/lots/{}/hold", l.id), &pairs).await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    assert!(twice.body.contains("只有正常销售的批次才能暂停销售"));
    let page = b.get(&format!("/bureau/lots/{}?done=held", l.id)).await;
    assert!(page.body.contains("data-test=\"release\""));
    let f = form(&page, "结果合格");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let released = b
        .post(&format!("/bureau/lots/{}/release", l.id), &pairs)
        .await;
    assert_eq!(released.status, 303);
    let row = lot::Entity::find_by_id(l.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, LotStatus::Active);
    // The hash chain still holds after the two events.
    let d = bl::dossier(db, &actor(&app, REGULATOR.0).await, l.id)
        .await
        .unwrap();
    assert!(d.verification.ok, "{:?}", d.verification);
}
