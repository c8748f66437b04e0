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
    assert_eq!(
        r.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{:#}",
        r.body
    );
    assert_eq!(
        r.body["errors"][0]["message"], "查询嵌套过深",
        "{:#}",
        r.body
    );
    assert_eq!(
        r.body["errors"][0]["extensions"]["detail"],
        "Query is nested too deep."
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
    let (r, h) = tokio::join!(
        app.gql_with(&q, json!({}), None, &[("accept-language", "en")]),
        health.send()
    );
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

/// The library's own errors (a query that does not parse or validate, a value of the wrong
/// type, a body that is not a request) come with a code and in the reader's language, and the
/// Chinese messages name things in Chinese words, not type names or status codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_errors_and_names_are_in_the_readers_language() {
    let app = spawn_app().await;
    app.load_demo().await;
    let zh = [("accept-language", "zh-CN,zh;q=0.9")];
    let en = [("accept-language", "en")];
    let message = |r: &e2e::Gql| {
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };

    // A query that does not parse: where, in Chinese; the library's words kept as detail.
    let r = app
        .gql_with("{ products(first: ", json!({}), None, &zh)
        .await;
    assert_eq!(r.error_code(), Some("GRAPHQL_PARSE_FAILED"), "{:#}", r.body);
    assert!(
        message(&r).starts_with("查询语法错误：第 1 行"),
        "{:#}",
        r.body
    );
    assert!(r.body["errors"][0]["extensions"]["detail"].is_string());
    let r = app
        .gql_with("{ products(first: ", json!({}), None, &en)
        .await;
    assert_eq!(r.error_code(), Some("GRAPHQL_PARSE_FAILED"), "{:#}", r.body);

    // A field that does not exist, with the library's suggestion.
    let r = app
        .gql_with("{ prodcts { totalCount } }", json!({}), None, &zh)
        .await;
    assert_eq!(
        r.error_code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{:#}",
        r.body
    );
    assert!(
        message(&r).starts_with("类型 Query 没有字段“prodcts”"),
        "{:#}",
        r.body
    );
    let r = app
        .gql_with("{ prodcts { totalCount } }", json!({}), None, &en)
        .await;
    assert!(message(&r).starts_with("Unknown field"), "{:#}", r.body);

    // A variable of the wrong type.
    let q = "query($n: Int!) { products(first: $n) { totalCount } }";
    let r = app.gql_with(q, json!({ "n": "twenty" }), None, &zh).await;
    assert!(
        r.error_code().is_some()
            && message(&r)
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{:#}",
        r.body
    );

    // Two operations and no name.
    let r = app
        .gql_with(
            "query A { __typename } query B { __typename }",
            json!({}),
            None,
            &zh,
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{:#}", r.body);
    assert!(message(&r).contains("operationName"), "{:#}", r.body);

    // Limits of ours speak both languages too.
    let many: String = (0..300).map(|i| format!("a{i}: __typename ")).collect();
    let r = app
        .gql_with(&format!("{{ {many} }}"), json!({}), None, &zh)
        .await;
    assert_eq!(r.error_code(), Some("QUERY_TOO_LARGE"), "{:#}", r.body);
    assert!(message(&r).starts_with("查询过大"), "{:#}", r.body);

    // A body that is not a GraphQL request: a 400 in GraphQL's shape, not plain English text.
    for lang in ["zh-CN", "en"] {
        let r = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept-language", lang)
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let body: serde_json::Value = r.json().await.expect("a JSON answer");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
        let m = body["errors"][0]["message"].as_str().unwrap();
        assert_eq!(m.starts_with("请求无法读取"), lang == "zh-CN", "{m}");
    }

    // A page address the page cannot read: a page in both languages, not the library's line.
    let r = app
        .client
        .get(app.url("/find?page=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("网址里的参数有误") && !text.contains("Failed to deserialize"),
        "{text}"
    );
    let r = app.client.get(app.url("/p/abc")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.text().await.unwrap().contains("没有找到"));

    // An ID of the wrong kind is named in Chinese words.
    let farmer = app.demo_token("FARMER").await;
    let offer_as_lot = base64_id("Offer", 1);
    let r = app
        .gql_with(
            "query($l: ID!) { lot(id: $l) { id } }",
            json!({ "l": offer_as_lot }),
            Some(&farmer),
            &zh,
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{:#}", r.body);
    assert_eq!(message(&r), "id: 不是有效的批次编号", "{:#}", r.body);
    let r = app
        .gql_with(
            "query($l: ID!) { lot(id: $l) { id } }",
            json!({ "l": offer_as_lot }),
            Some(&farmer),
            &en,
        )
        .await;
    assert_eq!(message(&r), "id: not a valid lot id", "{:#}", r.body);

    // A lot state in a message is a word, not a status code.
    let regulator = app.demo_token("REGULATOR").await;
    let lot = app
        .gql(
            "{ products(first: 1) { edges { node { skus { id } } } } }",
            json!({}),
            Some(&farmer),
        )
        .await
        .ok()["products"]["edges"][0]["node"]["skus"][0]["id"]
        .clone();
    let lots = app
        .gql(
            "query($s: ID!) { lots(skuId: $s) { id status } }",
            json!({ "s": lot }),
            Some(&farmer),
        )
        .await
        .ok();
    let active = lots["lots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["status"] == "ACTIVE")
        .expect("an active demo lot")["id"]
        .clone();
    let release = "mutation($l: ID!) { lotRelease(lotId: $l, reason: \"复检合格\") { errors { code message } } }";
    let r = app
        .gql_with(release, json!({ "l": active }), Some(&regulator), &zh)
        .await
        .ok();
    let m = r["lotRelease"]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(m, "只有暂停销售的批次才能解除暂停（此批次当前：正常）");
}

fn base64_id(kind: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}
