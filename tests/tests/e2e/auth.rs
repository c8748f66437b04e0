//! Accounts and tokens: register, log in, refresh rotation and reuse detection, logout, bad
//! tokens, rate limits, real-name data.

use base64::Engine;
use e2e::{JWT_SECRET, spawn_app, spawn_app_with};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

const ME: &str = "{ me { id phone role displayName realName idNumber realNameVerified } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken errors { code } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_farmer_registers_logs_in_and_sees_themself() {
    let app = spawn_app().await;
    let (access, _) = app.register_farmer("13912345678", "good-password-1").await;
    let me = app.gql(ME, json!({}), Some(&access)).await.ok();
    assert_eq!(me["me"]["phone"], "13912345678");
    assert_eq!(me["me"]["role"], "FARMER");
    assert_eq!(me["me"]["realNameVerified"], false);

    let (access2, _) = app.login("13912345678", "good-password-1").await;
    assert_eq!(
        app.gql(ME, json!({}), Some(&access2)).await.ok()["me"]["id"],
        me["me"]["id"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_and_login_errors_name_their_field() {
    let app = spawn_app().await;
    let reg = "mutation($i: RegisterInput!) { register(input: $i) { accessToken errors { field code message } } }";
    let d = app
        .gql(
            reg,
            json!({ "i": { "phone": "12345", "password": "1234", "displayName": "" } }),
            None,
        )
        .await
        .ok();
    let errs = d["register"]["errors"].as_array().unwrap();
    let by_field = |f: &str| {
        errs.iter()
            .find(|e| e["field"] == f)
            .unwrap_or_else(|| panic!("no error on {f}: {errs:?}"))
    };
    assert_eq!(by_field("phone")["code"], "INVALID_PHONE");
    assert_eq!(by_field("password")["code"], "WEAK_PASSWORD");
    assert_eq!(by_field("displayName")["code"], "REQUIRED");
    assert!(d["register"]["accessToken"].is_null());

    app.register_farmer("13912345678", "good-password-1").await;
    let again = app.gql(reg, json!({ "i": { "phone": "139 1234 5678", "password": "another-pass-2", "displayName": "x" } }), None).await.ok();
    assert_eq!(again["register"]["errors"][0]["code"], "PHONE_TAKEN");

    let login = "mutation { login(phone: \"13912345678\", password: \"wrong-password\") { accessToken errors { field code message } } }";
    let d = app
        .gql_with(
            login,
            json!({}),
            None,
            &[("accept-language", "en-US,en;q=0.9")],
        )
        .await
        .ok();
    assert_eq!(d["login"]["errors"][0]["code"], "INVALID_CREDENTIALS");
    assert_eq!(
        d["login"]["errors"][0]["message"],
        "wrong phone number or password"
    );
    // An unknown phone gets the very same answer (no account enumeration).
    let d2 = app
        .gql_with(
            &login.replace("13912345678", "13900000000"),
            json!({}),
            None,
            &[("accept-language", "en")],
        )
        .await
        .ok();
    assert_eq!(d2["login"]["errors"], d["login"]["errors"]);
}

fn claims(sub: &str, exp: i64) -> serde_json::Value {
    json!({ "sub": sub, "role": "ADMIN", "iat": exp - 900, "exp": exp, "jti": "x" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_401_unauthenticated_never_500() {
    let app = spawn_app().await;
    let (access, _) = app.register_farmer("13912345678", "good-password-1").await;
    let now = chrono::Utc::now().timestamp();
    let key = EncodingKey::from_secret(JWT_SECRET).unwrap();
    let expired = jsonwebtoken::encode(&Header::default(), &claims("1", now - 3600), &key).unwrap();
    let wrong_key = jsonwebtoken::encode(
        &Header::default(),
        &claims("1", now + 600),
        &EncodingKey::from_secret(b"some-other-key-some-other-key-!!").unwrap(),
    )
    .unwrap();
    // Same payload, signature from another token: tampered.
    let parts: Vec<&str> = access.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: serde_json::Value =
        serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["role"] = json!("ADMIN");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims("1", now + 600).to_string())
    );
    for (what, token) in [
        ("expired", expired.as_str()),
        ("wrong key", wrong_key.as_str()),
        ("tampered", tampered.as_str()),
        ("alg none", alg_none.as_str()),
        ("garbage", "not-a-jwt"),
        ("empty", ""),
    ] {
        let r = app.gql(ME, json!({}), Some(token)).await;
        assert_eq!(r.status, 401, "{what}: {:#}", r.body);
        assert_eq!(r.error_code(), Some("UNAUTHENTICATED"), "{what}");
    }
    // No token at all is anonymous: `me` needs a login, so UNAUTHENTICATED with 200.
    let anon = app.gql(ME, json!({}), None).await;
    assert_eq!(anon.error_code(), Some("UNAUTHENTICATED"));
    // ... while public queries work.
    assert!(
        app.gql("{ crops { code } }", json!({}), None).await.ok()["crops"]
            .as_array()
            .unwrap()
            .len()
            > 5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let (_, r1) = app.register_farmer("13912345678", "good-password-1").await;
    let d = app.gql(REFRESH, json!({ "t": r1 }), None).await.ok();
    let r2 = d["refreshToken"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let a2 = d["refreshToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(r1, r2);
    assert_eq!(
        app.gql(ME, json!({}), Some(&a2)).await.ok()["me"]["role"],
        "FARMER"
    );

    // A second, separate login is a separate family and must survive what follows.
    let (_, other) = app.login("13912345678", "good-password-1").await;

    // Someone replays the spent token: refused, and the whole family is revoked...
    let replay = app.gql(REFRESH, json!({ "t": r1 }), None).await;
    assert_eq!(replay.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(
        replay.body["errors"][0]["extensions"]["reason"],
        "REFRESH_TOKEN_REUSED"
    );
    // ... so the legitimate newest token no longer works either.
    assert_eq!(
        app.gql(REFRESH, json!({ "t": r2 }), None)
            .await
            .error_code(),
        Some("UNAUTHENTICATED")
    );
    // The other login is untouched.
    let d = app.gql(REFRESH, json!({ "t": other }), None).await.ok();
    assert!(d["refreshToken"]["accessToken"].is_string());
    // Unknown tokens are simply unauthenticated.
    assert_eq!(
        app.gql(REFRESH, json!({ "t": "nonsense" }), None)
            .await
            .error_code(),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let (_, refresh) = app.register_farmer("13912345678", "good-password-1").await;
    let d = app
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": refresh }),
            None,
        )
        .await
        .ok();
    assert_eq!(d["logout"], true);
    assert_eq!(
        app.gql(REFRESH, json!({ "t": refresh }), None)
            .await
            .error_code(),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_rate_limited_per_phone_with_a_retry_time() {
    let app = spawn_app_with(|c| {
        c.login_limit_per_phone = 3;
        c.login_window = std::time::Duration::from_secs(120);
    })
    .await;
    app.register_farmer("13912345678", "good-password-1").await;
    let login = "mutation { login(phone: \"13912345678\", password: \"wrong-password\") { errors { code } } }";
    for _ in 0..3 {
        let d = app.gql(login, json!({}), None).await.ok();
        assert_eq!(d["login"]["errors"][0]["code"], "INVALID_CREDENTIALS");
    }
    // Even the right password is refused now, with the time to wait.
    let r = app
        .gql_with(
            &login.replace("wrong-password", "good-password-1"),
            json!({}),
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(r.error_code(), Some("RATE_LIMITED"), "{:#}", r.body);
    let retry = r.body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!((1..=120).contains(&retry), "retry after {retry}");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&retry.to_string())
    );
    // Another phone is not affected by this phone's limit.
    let other = app.gql("mutation { login(phone: \"13900000000\", password: \"x-password\") { errors { code } } }", json!({}), None).await.ok();
    assert_eq!(other["login"]["errors"][0]["code"], "INVALID_CREDENTIALS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_rate_limited_per_client_address() {
    let app = spawn_app_with(|c| {
        c.login_limit_per_ip = 4;
        c.trust_forwarded_for = true;
    })
    .await;
    let login = "mutation($p: String!) { login(phone: $p, password: \"wrong-password\") { errors { code } } }";
    for i in 0..4 {
        let r = app
            .gql_with(
                login,
                json!({ "p": format!("1391234560{i}") }),
                None,
                &[("x-forwarded-for", "10.1.2.3")],
            )
            .await;
        assert_eq!(r.ok()["login"]["errors"][0]["code"], "INVALID_CREDENTIALS");
    }
    let r = app
        .gql_with(
            login,
            json!({ "p": "13912345609" }),
            None,
            &[("x-forwarded-for", "10.1.2.3")],
        )
        .await;
    assert_eq!(r.error_code(), Some("RATE_LIMITED"));
    // A different client is still served.
    let r = app
        .gql_with(
            login,
            json!({ "p": "13912345609" }),
            None,
            &[("x-forwarded-for", "10.9.9.9")],
        )
        .await;
    assert_eq!(r.ok()["login"]["errors"][0]["code"], "INVALID_CREDENTIALS");
}

/// An ID number of Jingmen (420802) born on `birth` (YYYYMMDD), with a correct GB 11643
/// check character, so only the date can be wrong.
fn id_born(birth: &str) -> String {
    let body = format!("420802{birth}123");
    let check = domain::types::IdNumber::check_char(body.as_bytes()) as char;
    format!("{body}{check}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_number_born_in_the_future_or_on_no_real_day_is_refused() {
    let app = spawn_app().await;
    app.load_demo().await;
    let (farmer, _) = app.register_farmer("13912345679", "good-password-1").await;
    let set = "mutation($n: String!, $i: String!) { setRealName(realName: $n, idNumber: $i) { user { realNameVerified } errors { field code message } } }";
    let today = domain::today();
    let tomorrow = (today + chrono::Duration::days(1))
        .format("%Y%m%d")
        .to_string();
    let too_old = (today - chrono::Duration::days(151 * 366))
        .format("%Y%m%d")
        .to_string();
    for birth in [
        "29990101",
        tomorrow.as_str(),
        "19901301",
        "20000230",
        too_old.as_str(),
    ] {
        for (lang, words) in [("en", "birth date"), ("zh", "出生日期")] {
            let d = app
                .gql_with(
                    set,
                    json!({ "n": "王小明", "i": id_born(birth) }),
                    Some(&farmer),
                    &[("accept-language", lang)],
                )
                .await
                .ok();
            let p = &d["setRealName"];
            assert!(p["user"].is_null(), "{birth} accepted: {p:#}");
            assert_eq!(p["errors"][0]["field"], "idNumber", "{birth}: {p:#}");
            assert_eq!(
                p["errors"][0]["code"], "INVALID_ID_NUMBER",
                "{birth}: {p:#}"
            );
            let msg = p["errors"][0]["message"].as_str().unwrap();
            assert!(msg.contains(words), "{birth} ({lang}): {msg}");
        }
    }
    let me = app.gql(ME, json!({}), Some(&farmer)).await.ok();
    assert_eq!(me["me"]["realNameVerified"], false);

    // Born today, or 149 years ago, is a real person's number.
    let old = (today - chrono::Duration::days(149 * 365))
        .format("%Y%m%d")
        .to_string();
    for birth in [today.format("%Y%m%d").to_string(), old] {
        let d = app
            .gql(
                set,
                json!({ "n": "王小明", "i": id_born(&birth) }),
                Some(&farmer),
            )
            .await
            .ok();
        assert_eq!(d["setRealName"]["errors"], json!([]), "{birth}: {d:#}");
        assert_eq!(d["setRealName"]["user"]["realNameVerified"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_name_is_checked_and_masked_for_others() {
    let app = spawn_app().await;
    app.load_demo().await;
    let (farmer, _) = app.register_farmer("13912345678", "good-password-1").await;
    let set = "mutation($n: String!, $i: String!) { setRealName(realName: $n, idNumber: $i) { user { realName idNumber realNameVerified } errors { field code } } }";
    // GB 11643's own example number, with its last digit changed.
    let d = app
        .gql(
            set,
            json!({ "n": "王小明", "i": "110105194912310021" }),
            Some(&farmer),
        )
        .await
        .ok();
    assert_eq!(d["setRealName"]["errors"][0]["field"], "idNumber");
    assert_eq!(d["setRealName"]["errors"][0]["code"], "ID_CHECKSUM");
    let d = app
        .gql(
            set,
            json!({ "n": "王小明", "i": "11010519491231002x" }),
            Some(&farmer),
        )
        .await
        .ok();
    assert_eq!(d["setRealName"]["user"]["idNumber"], "11010519491231002X");
    assert_eq!(d["setRealName"]["user"]["realNameVerified"], true);

    // Admins see it whole; a dealer owner listing users sees only their own staff.
    let admin = app.demo_token("ADMIN").await;
    let users = app
        .gql(
            "{ users(role: FARMER) { phone realName idNumber } }",
            json!({}),
            Some(&admin),
        )
        .await
        .ok();
    let me = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["phone"] == "13912345678")
        .unwrap()
        .clone();
    assert_eq!(me["idNumber"], "11010519491231002X");
    let dealer = app.demo_token("DEALER (OWNER)").await;
    let staff = app
        .gql(
            "{ users { role phone idNumber } }",
            json!({}),
            Some(&dealer),
        )
        .await
        .ok();
    assert!(
        staff["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["role"] == "DEALER")
    );
    // A farmer cannot list users at all.
    assert_eq!(
        app.gql("{ users { phone } }", json!({}), Some(&farmer))
            .await
            .error_code(),
        Some("FORBIDDEN")
    );
    // Only farmers record real-name data for themselves.
    assert_eq!(
        app.gql(
            set,
            json!({ "n": "李四", "i": "11010519491231002X" }),
            Some(&dealer)
        )
        .await
        .error_code(),
        Some("FORBIDDEN")
    );
}
