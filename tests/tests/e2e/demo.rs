//! `serve --demo` and the database it is pointed at: a database holding data the demo did not
//! write is refused and left untouched; a database the demo filled (and people then used) is
//! accepted again; on PostgreSQL the printed logins carry fresh random passwords, not the
//! published ones, and those are the ones that log in.

use domain::entities::{app_setting, region};
use e2e::{TestApp, on_postgres, spawn_app};
use nongzi::demo::{self, Loaded, Passwords, Refused};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

const LOGIN: &str = "mutation($p: String!, $w: String!) { login(phone: $p, password: $w) { accessToken errors { code } } }";

async fn logs_in(app: &TestApp, phone: &str, password: &str) -> bool {
    let d = app
        .gql(LOGIN, json!({ "p": phone, "w": password }), None)
        .await
        .ok();
    d["login"]["accessToken"].is_string()
}

/// The logins in what `serve --demo` prints, read as tests/browser/lib/server.js reads them
/// (`  {role} {phone}  {password} {name}`): (role, phone, password).
fn printed_logins(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            // The role is one word, or two when it is `DEALER (OWNER)`.
            let at = words.iter().position(|w| {
                w.len() == 11 && w.starts_with('1') && w.bytes().all(|b| b.is_ascii_digit())
            })?;
            let role = words[..at].join(" ");
            if role.is_empty() || !role.starts_with(|c: char| c.is_ascii_uppercase()) {
                return None;
            }
            Some((role, words[at].to_owned(), words.get(at + 1)?.to_string()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_refuses_a_database_that_holds_other_data() {
    let app = spawn_app().await;
    // A real county's first admin, as `nongzi admin create` makes it.
    domain::accounts::insert_user(
        app.db(),
        domain::accounts::NewUser {
            phone: "13900000001".into(),
            password: "county-admin-secret-1".into(),
            display_name: "县管理员".into(),
            role: domain::accounts::Role::Admin,
            dealer_id: None,
            dealer_role: None,
            county_ids: vec![],
            village_id: None,
            station_id: None,
        },
    )
    .await
    .unwrap();
    for passwords in [Passwords::for_database(app.db()), Passwords::Published] {
        let e = demo::load_with(app.db(), passwords).await.unwrap_err();
        let refused = e
            .downcast_ref::<Refused>()
            .unwrap_or_else(|| panic!("not a refusal: {e:#}"));
        assert_eq!(refused.accounts, 1);
        let text = e.to_string();
        assert!(text.contains("拒绝加载演示数据"), "{text}");
        assert!(text.contains("refusing to load the demo"), "{text}");
    }
    assert!(demo::load(app.db()).await.is_err());
    // Nothing of the demo was written, and the published admin does not log in.
    assert!(
        app_setting::Entity::find_by_id("demo_loaded".to_owned())
            .one(app.db())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(region::Entity::find().count(app.db()).await.unwrap(), 0);
    assert!(!logs_in(&app, "13800000001", "demo-admin-2026").await);
    assert!(logs_in(&app, "13900000001", "county-admin-secret-1").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_accepts_the_database_it_filled_again() {
    let app = spawn_app().await;
    let passwords = Passwords::for_database(app.db());
    assert!(matches!(
        demo::load_with(app.db(), passwords).await.unwrap(),
        Loaded::Now(_)
    ));
    // People used the demo: a farmer signed up.
    app.register_farmer("13912345678", "my-own-farm-2026").await;
    for _ in 0..2 {
        assert!(matches!(
            demo::load_with(app.db(), passwords).await.unwrap(),
            Loaded::Before
        ));
    }
    assert!(!demo::load(app.db()).await.unwrap());
    assert!(logs_in(&app, "13912345678", "my-own-farm-2026").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_demo_logins_log_in_and_on_postgres_are_not_the_published_ones() {
    let app = spawn_app().await;
    let passwords = Passwords::for_database(app.db());
    assert_eq!(
        passwords,
        if on_postgres() {
            Passwords::Random
        } else {
            Passwords::Published
        }
    );
    let Loaded::Now(logins) = demo::load_with(app.db(), passwords).await.unwrap() else {
        panic!("a fresh database loads the demo");
    };
    let addr = "127.0.0.1:8080".parse().unwrap();
    let printed = printed_logins(&demo::banner(addr, Some(&logins)));
    let published = demo::credentials().unwrap();
    assert_eq!(printed.len(), published.len(), "{printed:?}");
    let mut seen = std::collections::BTreeSet::new();
    for ((role, phone, password), p) in printed.iter().zip(&published) {
        assert_eq!((role, phone), (&p.role, &p.phone));
        assert!(logs_in(&app, phone, password).await, "{role} {phone}");
        if on_postgres() {
            assert_ne!(password, &p.password, "{role} got the published password");
            assert!(password.len() >= 20, "{password}");
            assert!(seen.insert(password.clone()), "two logins share {password}");
            assert!(!logs_in(&app, phone, &p.password).await, "{role} {phone}");
        } else {
            assert_eq!(password, &p.password);
        }
    }
    // A restart on PostgreSQL prints no password (none is stored to print), and says so.
    let again = demo::load_with(app.db(), passwords).await.unwrap();
    assert!(matches!(again, Loaded::Before));
    let text = demo::banner(addr, None);
    assert!(printed_logins(&text).is_empty(), "{text}");
    assert!(text.contains("随机") && text.contains("random"), "{text}");
}
