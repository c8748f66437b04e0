//! The county parameters page of the agronomist's console, over HTTP: a crop's parameters set
//! through the form are listed with their source and used by the next draft; a bad form comes
//! back as 422 with every message and what was typed; the two-person rule is switched on and
//! off; a row is removed; a farmer gets 403.

use domain::accounts::Actor;
use domain::entities::app_user;
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

async fn actor(app: &TestApp, phone: &str) -> Actor {
    let u = app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(phone))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    domain::accounts::actor_for(app.db(), &u).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_parameters_are_set_listed_checked_and_removed_through_the_page() {
    let app = spawn_app().await;
    app.load_demo().await;
    let agro = actor(&app, "13800000003").await;
    let county = agro.county_ids[0].to_string();
    let mut a = Browser::new(&app);
    a.sign_in_demo("AGRONOMIST").await;

    let page = a.get("/agronomist/parameters").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-test=\"no-params\""));
    let csrf = page.csrf();

    // A bad form: every problem named, what was typed kept, nothing written.
    let bad = a
        .post(
            "/agronomist/parameters",
            &[
                ("csrf", &csrf),
                ("idem", "bad-1"),
                ("county", &county),
                ("crop", "RICE"),
                ("cc_n", "0.6"),
                ("cc_p", ""),
                ("cc_k", "0.5"),
                ("rr_n", "abc"),
                ("factor", "3"),
                ("source_zh", "县土肥站试验"),
                ("source_en", "county trials"),
                ("date", "2025-13-40"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for words in ["三项要么都填", "不是数字", "2025-11-20"] {
        assert!(bad.body.contains(words), "{words} in {}", bad.body);
    }
    assert!(
        bad.body.contains("value=\"县土肥站试验\""),
        "typed values are kept"
    );
    let none = domain::agronomy::county_params(app.db(), &agro, agro.county_ids[0])
        .await
        .unwrap();
    assert!(none.is_empty());

    // A good one: listed with its source and date, and the next draft cites it.
    let ok = a
        .post(
            "/agronomist/parameters",
            &[
                ("csrf", &csrf),
                ("idem", "good-1"),
                ("county", &county),
                ("crop", "RICE"),
                ("soil", ""),
                ("cc_n", "0.6"),
                ("cc_p", "1.2"),
                ("cc_k", "0.5"),
                ("rr_n", "0.30"),
                ("rr_p", "0.20"),
                ("rr_k", "0.40"),
                ("factor", "1.12"),
                ("source_zh", "2025 年县土肥站 3414 试验"),
                ("source_en", "county station 3414 trials, 2025"),
                ("date", "2025-11-20"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let listed = a.get("/agronomist/parameters").await;
    for words in [
        "0.6 / 1.2 / 0.5",
        "0.3 / 0.2 / 0.4",
        "1.12",
        "3414",
        "2025-11-20",
    ] {
        assert!(listed.body.contains(words), "{words} listed");
    }
    let rows = domain::agronomy::county_params(app.db(), &agro, agro.county_ids[0])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].correction_p2o5, Some(1.2));
    // The same form key again does the work once.
    let again = a
        .post(
            "/agronomist/parameters",
            &[
                ("csrf", &csrf),
                ("idem", "good-1"),
                ("county", &county),
                ("crop", "MAIZE"),
            ],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(
        domain::agronomy::county_params(app.db(), &agro, agro.county_ids[0])
            .await
            .unwrap()
            .len(),
        1
    );

    // The two-person rule, on and off.
    let rule = format!("/agronomist/counties/{county}/review-rule");
    let on = a
        .post(
            &rule,
            &[("csrf", &csrf), ("idem", "rule-1"), ("required", "on")],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.body);
    let s = domain::agronomy::county_settings(app.db(), &agro, agro.county_ids[0])
        .await
        .unwrap();
    assert!(s.require_second_approval);
    let off = a.post(&rule, &[("csrf", &csrf), ("idem", "rule-2")]).await;
    assert_eq!(off.status, 303);
    let s = domain::agronomy::county_settings(app.db(), &agro, agro.county_ids[0])
        .await
        .unwrap();
    assert!(!s.require_second_approval);

    // Removed.
    let del = a
        .post(
            &format!("/agronomist/parameters/{}/delete", rows[0].id),
            &[("csrf", &csrf), ("idem", "del-1")],
        )
        .await;
    assert_eq!(del.status, 303, "{}", del.body);
    assert!(
        domain::agronomy::county_params(app.db(), &agro, agro.county_ids[0])
            .await
            .unwrap()
            .is_empty()
    );

    // A farmer is refused.
    let mut f = Browser::new(&app);
    f.sign_in("13800000006", "demo-farmer-2026").await;
    assert_eq!(f.get("/agronomist/parameters").await.status, 403);
}
