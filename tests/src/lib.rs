//! Test helpers: start the real server on port 0 against a fresh database, and talk to it over
//! HTTP. Every test runs on SQLite; with `NONGZI_TEST_DATABASE_URL` (PostgreSQL) and
//! `NONGZI_TEST_REDIS_URL` set, on PostgreSQL + Redis instead, with a fresh database and a fresh
//! Redis key prefix per test. If those servers are unreachable the tests fail: they never skip.

use std::time::Duration;

use nongzi::{AppState, Config, Server};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

pub use nongzi;

pub const JWT_SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

/// The database a test runs on, removed when the test ends.
enum Backend {
    Sqlite { path: std::path::PathBuf },
    Postgres { admin_url: String, name: String },
}

impl Drop for Backend {
    fn drop(&mut self) {
        match self {
            Backend::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Backend::Postgres { admin_url, name } => {
                let (url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside async: a short-lived runtime on its own thread does it.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let db = Database::connect(&url).await.ok()?;
                        db.execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await
                        .ok()
                    })
                })
                .join();
            }
        }
    }
}

pub struct TestApp {
    pub server: Server,
    pub client: reqwest::Client,
    // Dropped last: the server must stop before its database goes.
    _backend: Backend,
}

/// Whether the suite runs on PostgreSQL + Redis.
pub fn on_postgres() -> bool {
    std::env::var("NONGZI_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty())
}

async fn fresh_config() -> (Config, Backend) {
    match std::env::var("NONGZI_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(admin_url) => {
            let name = format!("nongzi_t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("NONGZI_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
            });
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .expect("database URL has a database name");
            let redis = std::env::var("NONGZI_TEST_REDIS_URL")
                .ok()
                .filter(|v| !v.is_empty())
                .expect("NONGZI_TEST_REDIS_URL must be set with NONGZI_TEST_DATABASE_URL");
            let mut config =
                Config::for_database(&format!("{base}/{name}"), Some(&redis), JWT_SECRET);
            config.redis_prefix = format!("nongzi-test:{}:", uuid::Uuid::new_v4().simple());
            (config, Backend::Postgres { admin_url, name })
        }
        None => {
            let path = std::env::temp_dir()
                .join(format!("nongzi-test-{}.db", uuid::Uuid::new_v4().simple()));
            let config = Config::for_database(
                &format!("sqlite://{}?mode=rwc", path.display()),
                None,
                JWT_SECRET,
            );
            (config, Backend::Sqlite { path })
        }
    }
}

/// Starts a server on a fresh database with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (mut config, backend) = fresh_config().await;
    adjust(&mut config);
    let state = AppState::connect(config)
        .await
        .expect("server state (database and Redis reachable?)");
    let server = Server::start(state, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("server starts");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    TestApp {
        server,
        client,
        _backend: backend,
    }
}

/// A GraphQL response: HTTP status and body.
#[derive(Debug)]
pub struct Gql {
    pub status: u16,
    pub body: Value,
}

impl Gql {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    /// The first top-level error's `extensions.code`, if any.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
    /// Panics with the errors when there are any.
    pub fn ok(self) -> Value {
        assert!(
            self.body.get("errors").is_none() || self.body["errors"].is_null(),
            "unexpected errors: {:#}",
            self.body
        );
        assert_eq!(
            self.status, 200,
            "status {} body {:#}",
            self.status, self.body
        );
        self.body["data"].clone()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub fn db(&self) -> &DatabaseConnection {
        self.server.state.db()
    }

    /// SQL statements sent so far.
    pub fn statements(&self) -> u64 {
        self.server.state.statements.get()
    }

    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Gql {
        self.gql_with(query, variables, token, &[]).await
    }

    pub async fn gql_with(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Gql {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status().as_u16();
        let body = resp.json().await.expect("JSON body");
        Gql { status, body }
    }

    /// Logs in and returns (access token, refresh token).
    pub async fn login(&self, phone: &str, password: &str) -> (String, String) {
        let d = self
            .gql(
                "mutation($p: String!, $w: String!) { login(phone: $p, password: $w) { accessToken refreshToken errors { field code message } } }",
                json!({ "p": phone, "w": password }),
                None,
            )
            .await
            .ok();
        let l = &d["login"];
        assert!(
            l["errors"].as_array().unwrap().is_empty(),
            "login failed: {l:#}"
        );
        (
            l["accessToken"].as_str().unwrap().to_owned(),
            l["refreshToken"].as_str().unwrap().to_owned(),
        )
    }

    /// Loads the demo county (as `serve --demo` does).
    pub async fn load_demo(&self) {
        assert!(nongzi::demo::load(self.db()).await.expect("demo loads"));
    }

    /// A token for a demo user of `role` (`ADMIN`, `FARMER`, `DEALER (OWNER)`, ...).
    pub async fn demo_token(&self, role: &str) -> String {
        let c = nongzi::demo::credentials()
            .unwrap()
            .into_iter()
            .find(|c| c.role == role)
            .unwrap_or_else(|| panic!("no demo user with role {role}"));
        self.login(&c.phone, &c.password).await.0
    }

    /// A second server process on the same database and the same Redis prefix, as a second
    /// node of a deployment would be (its own pool, event-bus relay and expiry task).
    pub async fn second_server(&self) -> Server {
        let config = (*self.server.state.services.config).clone();
        let state = AppState::connect(config)
            .await
            .expect("second server state (database and Redis reachable?)");
        Server::start(state, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("second server starts")
    }

    /// An access token for `actor`, signed with the server's key exactly as `login` issues it,
    /// without a password round trip (for tests that need many users quickly).
    pub fn token_for(&self, actor: &domain::accounts::Actor) -> String {
        self.server
            .state
            .services
            .keys
            .issue(actor)
            .expect("token issued")
            .0
    }

    /// Registers a farmer and returns (access, refresh).
    pub async fn register_farmer(&self, phone: &str, password: &str) -> (String, String) {
        let d = self
            .gql(
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken errors { field code message } } }",
                json!({ "i": { "phone": phone, "password": password, "displayName": "测试农户" } }),
                None,
            )
            .await
            .ok();
        let r = &d["register"];
        assert!(
            r["errors"].as_array().unwrap().is_empty(),
            "register failed: {r:#}"
        );
        (
            r["accessToken"].as_str().unwrap().to_owned(),
            r["refreshToken"].as_str().unwrap().to_owned(),
        )
    }
}

/// A browser for the web pages: keeps cookies, follows no redirects (tests look at them), and
/// reads the CSRF token and form keys off the pages it got.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
    pub lang: &'static str,
}

/// A page as the browser got it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The CSRF token the page's forms carry.
    pub fn csrf(&self) -> String {
        self.attr_after("name=\"csrf\" content=\"")
            .or_else(|| self.attr_after("name=\"csrf\" value=\""))
            .expect("the page has a CSRF token")
    }
    /// The value of the first `name="NAME" value="..."` field.
    pub fn field(&self, name: &str) -> Option<String> {
        self.attr_after(&format!("name=\"{name}\" value=\""))
    }
    fn attr_after(&self, prefix: &str) -> Option<String> {
        let i = self.body.find(prefix)? + prefix.len();
        let j = self.body[i..].find('"')?;
        Some(self.body[i..i + j].replace("&amp;", "&"))
    }
    /// Every number `N` in `PREFIX N"` (ids in links and data attributes).
    pub fn ids_after(&self, prefix: &str) -> Vec<i64> {
        self.body
            .match_indices(prefix)
            .filter_map(|(i, _)| {
                let rest = &self.body[i + prefix.len()..];
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                rest[..end].parse().ok()
            })
            .collect()
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser::at(&app.url(""))
    }

    /// A browser for the server at `base` (`http://127.0.0.1:PORT`), e.g. one a benchmark started.
    pub fn at(base: &str) -> Browser {
        Browser {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            cookies: Default::default(),
            lang: "zh-CN",
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let resp = req
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .send()
            .await
            .expect("request reaches the server");
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap_or_default();
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// GET with `Accept-Encoding: gzip`: the body stays compressed (its length is what a phone
    /// downloads).
    pub async fn get_compressed(&mut self, path: &str) -> (u16, usize) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("request reaches the server");
        let status = resp.status().as_u16();
        assert_eq!(
            resp.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            Some("gzip"),
            "{path} is served compressed"
        );
        (status, resp.bytes().await.unwrap().len())
    }

    /// GET with extra headers; returns the status only.
    pub async fn client_get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> u16 {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await.status
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    pub async fn post_json(&mut self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Page {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// A `multipart/form-data` POST (a file input's form): text fields, then one file.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Page {
        let boundary = format!("----nongzi{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        let (name, filename, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(req).await
    }

    /// Signs in through the sign-in page; panics unless it worked.
    pub async fn sign_in(&mut self, phone: &str, password: &str) {
        let p = self.get("/login").await;
        assert_eq!(p.status, 200);
        let csrf = p.csrf();
        let r = self
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("phone", phone),
                    ("password", password),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "sign-in refused: {}", r.body);
    }

    /// Signs in as the demo user of `role`.
    pub async fn sign_in_demo(&mut self, role: &str) {
        let c = nongzi::demo::credentials()
            .unwrap()
            .into_iter()
            .find(|c| c.role == role)
            .unwrap_or_else(|| panic!("no demo user with role {role}"));
        self.sign_in(&c.phone, &c.password).await;
    }
}

/// A report's CSV as `CsvExport::titled` writes it: the `name, value` rows that say what it is
/// about, then (after an empty row) the table, each row keyed by the table's header.
pub fn titled_csv(
    text: &str,
) -> (
    std::collections::BTreeMap<String, String>,
    Vec<std::collections::BTreeMap<String, String>>,
) {
    let text = text.trim_start_matches('\u{feff}');
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut about = std::collections::BTreeMap::new();
    let mut header: Option<Vec<String>> = None;
    let mut rows = vec![];
    for rec in r.records() {
        let rec = rec.expect("a readable CSV record");
        let cells: Vec<String> = rec.iter().map(str::to_owned).collect();
        match &header {
            None if cells.len() == 1 && cells[0].is_empty() => header = Some(vec![]),
            None => {
                about.insert(cells[0].clone(), cells.get(1).cloned().unwrap_or_default());
            }
            Some(h) if h.is_empty() => header = Some(cells),
            Some(h) => rows.push(h.iter().cloned().zip(cells).collect()),
        }
    }
    (about, rows)
}
