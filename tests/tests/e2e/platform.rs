//! The server as a whole: health, readiness, the checked-in schema, query limits, the demo
//! county.

use e2e::spawn_app;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(
        body["redis"],
        if e2e::on_postgres() {
            "ok"
        } else {
            "not configured"
        }
    );
    // Every response carries a request id for the logs.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(r.headers().get("x-request-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_console_needs_no_internet() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("GraphQL console"));
    assert!(page.contains("fetch('/graphql'"), "it queries this server");
    // Nothing is loaded from elsewhere: no script, style or font by URL.
    for needle in ["src=\"http", "href=\"http", "@import", "cdn"] {
        assert!(!page.contains(needle), "the console loads {needle}");
    }
}

#[test]
fn checked_in_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/schema.graphql");
    let sdl = e2e::nongzi::graphql::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(path, &sdl).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == sdl,
        "api/schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test -p e2e checked_in_schema_is_current`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_cost_is_reported_and_limits_are_enforced() {
    let app = spawn_app().await;
    let r = app
        .gql(
            "{ products(first: 10) { edges { node { id name } } } }",
            json!({}),
            None,
        )
        .await;
    let analyzer = &r.body["extensions"]["analyzer"];
    assert!(
        analyzer["complexity"].as_u64().unwrap() > 10,
        "{:#}",
        r.body
    );
    assert!(analyzer["depth"].as_u64().unwrap() >= 4);
    // Nesting past the depth limit is refused before it runs.
    let mut deep = String::from("id");
    for _ in 0..20 {
        deep = format!("parent {{ {deep} }}");
    }
    let r = app
        .gql(&format!("{{ regions {{ {deep} }} }}"), json!({}), None)
        .await;
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested too deep"),
        "{:#}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_county_loads_once() {
    let app = spawn_app().await;
    app.load_demo().await;
    // Idempotent: a restart with --demo finds it and changes nothing.
    assert!(!e2e::nongzi::demo::load(app.db()).await.unwrap());
    let d = app
        .gql(
            "{ products(first: 100) { totalCount edges { node { category skus { offers { priceFen } } } } }
               villages { name stations { name hours } dealers { name } }
               dealers { name restrictedUseLicensed licences { kind valid } serviceArea { name } } }",
            json!({}),
            None,
        )
        .await
        .ok();
    let products = d["products"]["edges"].as_array().unwrap();
    assert!(d["products"]["totalCount"].as_u64().unwrap() >= 40);
    for cat in ["FERTILISER", "SEED", "PESTICIDE"] {
        assert!(
            products
                .iter()
                .filter(|p| p["node"]["category"] == cat)
                .count()
                >= 8,
            "{cat}"
        );
    }
    assert!(products.iter().all(|p| {
        p["node"]["skus"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| !s["offers"].as_array().unwrap().is_empty())
    }));
    let villages = d["villages"].as_array().unwrap();
    assert!(villages.len() >= 6);
    assert!(
        villages
            .iter()
            .all(|v| v["stations"].as_array().unwrap().len() == 1
                && !v["dealers"].as_array().unwrap().is_empty())
    );
    let dealers = d["dealers"].as_array().unwrap();
    assert_eq!(dealers.len(), 3);
    assert_eq!(
        dealers
            .iter()
            .filter(|d| d["restrictedUseLicensed"] == true)
            .count(),
        1
    );
    // One login per role works.
    for role in [
        "ADMIN",
        "REGULATOR",
        "AGRONOMIST",
        "DEALER (OWNER)",
        "DEALER (STAFF)",
        "FARMER",
    ] {
        let t = app.demo_token(role).await;
        assert!(
            app.gql("{ me { role } }", json!({}), Some(&t)).await.ok()["me"]["role"].is_string()
        );
    }
}

/// Fragments F0..Fn, each spreading the next one twice: 2^n fields once written out, from a
/// text that grows only linearly with n.
fn fan_out_query(n: usize) -> String {
    let mut q = String::from("{ ...F0 }\n");
    for i in 0..n {
        q.push_str(&format!(
            "fragment F{i} on Query {{ a: villages {{ id }} ...F{j} b: regions {{ id }} ...F{j} }}\n",
            j = i + 1
        ));
    }
    q.push_str(&format!("fragment F{n} on Query {{ __typename }}\n"));
    q
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_fan_out_is_refused_before_it_is_walked_and_health_stays_answered() {
    let app = spawn_app().await;
    // 2^30 fields from 2.6 KB of text: before the bound this had no answer after 30 s.
    let q = fan_out_query(30);
    assert!(q.len() < 4_000, "{}", q.len());
    let health = app.client.get(app.url("/healthz"));
    let started = std::time::Instant::now();
    let (r, h) = tokio::join!(app.gql(&q, json!({}), None), health.send());
    let took = started.elapsed();
    assert_eq!(r.error_code(), Some("QUERY_TOO_LARGE"), "{:#}", r.body);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{:#}",
        r.body
    );
    assert!(r.body["data"].is_null(), "{:#}", r.body);
    assert_eq!(h.unwrap().status(), 200);
    println!(
        "fan-out query ({} bytes, 2^30 fields) refused in {took:?}",
        q.len()
    );
    // The same shape at a size a page could need is answered.
    let small = app.gql(&fan_out_query(3), json!({}), None).await;
    assert!(small.body["errors"].is_null(), "{:#}", small.body);
    // A thousand aliases of introspection: refused by the same bound, not answered with 36 MB.
    let mut aliases = String::from("{");
    for i in 0..1_000 {
        aliases.push_str(&format!(
            " s{i}: __schema {{ types {{ name fields {{ name }} }} }}"
        ));
    }
    aliases.push('}');
    let r = app.gql(&aliases, json!({}), None).await;
    assert_eq!(r.error_code(), Some("QUERY_TOO_LARGE"), "{:#}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graphql_body_over_the_cap_is_refused_with_413() {
    let app = spawn_app().await;
    let big = format!("{{ __typename }} # {}", "x".repeat(300 * 1024));
    let r = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    // Just under the cap is parsed as usual.
    let ok = format!("{{ __typename }} # {}", "x".repeat(200 * 1024));
    let r = app.gql(&ok, json!({}), None).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_and_overlong_texts_are_bad_user_input_naming_the_field() {
    let app = spawn_app().await;
    app.load_demo().await;
    // Each of these was an INTERNAL error (a NUL ends a PostgreSQL text; a 100 000-character
    // search ran into the database).
    let long = "a".repeat(100_000);
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "query($t: String!) { products(first: 5, filter: { text: $t }) { totalCount } }",
            json!({ "t": long }),
            "t",
        ),
        (
            "query($t: String!) { products(first: 5, filter: { text: $t }) { totalCount } }",
            json!({ "t": "尿素\u{0}" }),
            "t",
        ),
        (
            "query($c: String!) { trace(code: $c) { productName } }",
            json!({ "c": "NZ\u{0}1" }),
            "c",
        ),
        (
            "mutation($i: RegisterInput!) { register(input: $i) { errors { field } } }",
            json!({ "i": { "phone": "13912345678", "password": "a-long-password", "displayName": "张\u{0}三" } }),
            "i.displayName",
        ),
    ];
    for (q, vars, field) in cases {
        let r = app.gql(q, vars, None).await;
        assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{q}: {:#}", r.body);
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{:#}",
            r.body
        );
    }
    // The same text written into the query itself is refused the same way.
    let r = app
        .gql(
            "{ trace(code: \"NZ\\u0000\") { productName } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{:#}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "code");
    // Nothing was registered.
    let r = app
        .gql(
            "mutation { login(phone: \"13912345678\", password: \"a-long-password\") { errors { code } } }",
            json!({}),
            None,
        )
        .await;
    assert!(
        r.body["data"]["login"]["errors"][0]["code"].is_string(),
        "{:#}",
        r.body
    );

    // The receipt CSV over HTTP: a 400 naming the line, not a 500.
    let owner = app.demo_token("DEALER (OWNER)").await;
    let me = app
        .gql("{ me { dealer { id } } }", json!({}), Some(&owner))
        .await
        .ok();
    let path = format!(
        "/dealers/{}/receipts.csv?policy=REJECT_ALL",
        me["me"]["dealer"]["id"].as_str().unwrap()
    );
    let resp = app
        .client
        .post(app.url(&path))
        .bearer_auth(&owner)
        .header("accept-language", "en")
        .body("sku,lot_no\n1,A\u{0}B\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(text.contains("line 2") && text.contains("U+0000"), "{text}");

    // A page form: refused before any handler, with a page that says why.
    let mut b = e2e::Browser::new(&app);
    let p = b.get("/login").await;
    let csrf = p.csrf();
    let p = b
        .post(
            "/login",
            &[
                ("csrf", csrf.as_str()),
                ("phone", "1380000\u{0}0001"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("控制字符"), "{}", p.body);
}
