//! The web pages: the farmer's phone app (and a station keeper ordering for a farmer), the
//! public trace page, the dealer's and the agronomist's consoles, and a self-contained GraphQL
//! console. Server-rendered askama templates (`api/templates/`), plain forms that work without
//! JavaScript, and a small script (`api/assets/app.js`) plus a service worker (`sw.js`) for offline use and live updates.
//! Handlers call the domain services with the session's `Actor`; no rule lives here.

pub mod account;
pub mod agronomist;
pub mod assets;
pub mod bureau;
pub mod console;
pub mod csv_page;
pub mod ctx;
pub mod dealer;
pub mod farmer;
pub mod offline;
pub mod open_data;
pub mod station;
pub mod trace;
pub mod view;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::Lang;

use crate::state::AppState;
pub use ctx::{Ctx, WebError, WebResult};

/// What the layout of every page shows: language, large text, who is signed in, the CSRF
/// token for forms, the tab that is open.
pub struct Chrome {
    pub lang: Lang,
    pub big: bool,
    pub title: String,
    pub csrf: String,
    pub signed_in: bool,
    pub user_name: String,
    /// A station keeper acting for this farmer (代购): the farmer's name and phone.
    pub acting_for: Option<String>,
    pub is_keeper: bool,
    /// A farmer's pages (the farmer, or a keeper acting for one): the script keeps the
    /// village catalog for offline use.
    pub farmer: bool,
    pub tab: &'static str,
    /// A console page (dealer): the wide layout with its menu instead of the phone tabs.
    pub console: bool,
    /// The organisation a console page works for (the dealer's name, the agronomist's county).
    pub org: String,
    /// Which console's menu the wide layout shows: `dealer`, `agronomist` or `bureau`.
    pub menu: &'static str,
    path: String,
}

impl Chrome {
    pub fn new(ctx: &Ctx, title: &str, tab: &'static str) -> Chrome {
        let s = ctx.session.as_ref();
        Chrome {
            lang: ctx.lang,
            big: ctx.big,
            title: title.to_owned(),
            csrf: ctx.csrf(),
            signed_in: s.is_some(),
            user_name: s.map(|s| s.user.display_name.clone()).unwrap_or_default(),
            acting_for: s.and_then(|s| s.acting.as_ref()).map(|(_, u)| {
                format!(
                    "{} {}",
                    u.display_name,
                    domain::types::Phone::masked(&u.phone)
                )
            }),
            is_keeper: s.is_some_and(|s| s.actor.role == domain::accounts::Role::StationKeeper),
            farmer: s.is_some_and(|s| s.farmer().is_some()),
            tab,
            console: false,
            org: String::new(),
            menu: "dealer",
            path: ctx.path.clone(),
        }
    }

    /// The chrome of a console page: its menu, and the organisation it works for.
    pub fn console(ctx: &Ctx, title: &str, tab: &'static str, org: &str) -> Chrome {
        Chrome {
            console: true,
            org: org.to_owned(),
            ..Chrome::new(ctx, title, tab)
        }
    }

    /// The chrome of an agronomist's console page (农技人员工作台).
    pub fn agronomist(ctx: &Ctx, title: &str, tab: &'static str, org: &str) -> Chrome {
        Chrome {
            menu: "agronomist",
            ..Chrome::console(ctx, title, tab, org)
        }
    }

    /// The chrome of a county bureau's console page (县农业农村局监管平台).
    pub fn bureau(ctx: &Ctx, title: &str, tab: &'static str, org: &str) -> Chrome {
        Chrome {
            menu: "bureau",
            ..Chrome::console(ctx, title, tab, org)
        }
    }

    pub fn l<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    /// Where the console's brand link goes: the console's first page.
    pub fn console_home(&self) -> &'static str {
        match self.menu {
            "agronomist" => "/agronomist",
            "bureau" => "/bureau",
            _ => "/dealer",
        }
    }

    pub fn html_lang(&self) -> &'static str {
        self.lang.pick("zh-CN", "en")
    }

    /// The link that switches the language and comes back here.
    pub fn lang_url(&self) -> String {
        format!(
            "/prefs?lang={}&back={}",
            self.lang.pick("en", "zh"),
            ctx::urlencode(&strip_lang(&self.path))
        )
    }

    /// The link that switches large text on or off and comes back here.
    pub fn big_url(&self) -> String {
        format!(
            "/prefs?big={}&back={}",
            if self.big { 0 } else { 1 },
            ctx::urlencode(&strip_lang(&self.path))
        )
    }

    pub fn css(&self) -> &'static str {
        assets::CSS
    }

    pub fn js(&self) -> &'static str {
        assets::app_js_url()
    }

    pub fn console_css(&self) -> &'static str {
        assets::CONSOLE_CSS
    }

    pub fn console_js(&self) -> &'static str {
        assets::console_js_url()
    }

    pub fn tab_class(&self, tab: &str) -> &'static str {
        if self.tab == tab { "on" } else { "" }
    }
}

/// The path without a `lang=` parameter (the switch sets the cookie instead).
fn strip_lang(path: &str) -> String {
    match path.split_once('?') {
        Some((p, q)) => {
            let rest: Vec<&str> = q.split('&').filter(|kv| !kv.starts_with("lang=")).collect();
            if rest.is_empty() {
                p.to_owned()
            } else {
                format!("{p}?{}", rest.join("&"))
            }
        }
        None => path.to_owned(),
    }
}

/// Security headers for every page, and the anonymous cookie the sign-in and sign-up forms'
/// CSRF tokens are bound to (set on the first visit).
async fn page_headers(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secure = state.services.config.web_secure_cookies();
    let new_anon = if ctx::cookie(req.headers(), ctx::ANON_COOKIE).is_none() {
        let t = ctx::random_token();
        req.extensions_mut().insert(ctx::AnonCookie(t.clone()));
        Some(t)
    } else {
        None
    };
    // `?lang=en` on any page is remembered, like the switch.
    let lang = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .map(|v| if v.starts_with("en") { "en" } else { "zh" });
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Some(l) = lang {
        h.append(
            header::SET_COOKIE,
            ctx::set_cookie("lang", l, 365 * 86_400, false, secure),
        );
    }
    if let Some(t) = new_anon {
        h.append(
            header::SET_COOKIE,
            ctx::set_cookie(ctx::ANON_COOKIE, &t, 365 * 86_400, true, secure),
        );
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if !h.contains_key("content-security-policy") {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        );
    }
    res
}

/// Whether a form body (`application/x-www-form-urlencoded`) carries a control character other
/// than tab and line breaks, raw or percent-encoded (`%00`).
fn form_has_control_char(body: &[u8]) -> bool {
    let hex = |b: u8| (b as char).to_digit(16);
    body.iter().enumerate().any(|(i, &b)| {
        let c = if b == b'%' && i + 2 < body.len() {
            match (hex(body[i + 1]), hex(body[i + 2])) {
                (Some(h), Some(l)) => (h * 16 + l) as u8,
                _ => return false,
            }
        } else {
            b
        };
        (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f
    })
}

/// Refuses a form with a control character before any handler sees it (a NUL would end a
/// PostgreSQL text; no name, code or note of ours holds one): a page that says so, not a 500.
async fn refuse_control_chars(req: Request, next: Next) -> Response {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 2 * 1024 * 1024).await else {
        return WebError::Refused {
            zh: "表单太大",
            en: "The form is too large.",
        }
        .into_response();
    };
    if form_has_control_char(&bytes) {
        return WebError::Refused {
            zh: "表单中含有控制字符（如 NUL），请删除后重新提交",
            en: "A field contains a control character (such as NUL): remove it and send the form again.",
        }
        .into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// The routes of the web pages.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(farmer::home))
        .route("/login", get(account::login_form).post(account::login))
        .route("/signup", get(account::signup_form).post(account::signup))
        .route("/logout", post(account::logout))
        .route("/prefs", get(account::prefs))
        .route("/me", get(account::me))
        .route("/me/real-name", post(account::real_name))
        .route("/me/sessions/{id}/end", post(account::end_session))
        .route("/find", get(farmer::find))
        .route("/p/{id}", get(farmer::product))
        .route("/cart", get(farmer::cart).post(farmer::cart_set))
        .route("/cart/accept-prices", post(farmer::cart_accept))
        .route(
            "/checkout",
            get(farmer::checkout_form).post(farmer::checkout),
        )
        .route("/orders", get(farmer::orders))
        .route("/orders/{id}", get(farmer::order))
        .route("/orders/{id}/status", get(farmer::order_status))
        .route("/orders/{id}/cancel", post(farmer::order_cancel))
        .route("/fields", get(farmer::fields))
        .route("/fields/{id}", get(farmer::field))
        .route(
            "/recommendations/{id}/cart",
            post(farmer::recommendation_cart),
        )
        .route("/scan", get(farmer::scan))
        .route("/complaints", get(farmer::complaints::list))
        .route(
            "/complaints",
            post(farmer::complaints::file).layer(axum::extract::DefaultBodyLimit::max(
                farmer::complaints::MAX_FORM_BODY,
            )),
        )
        .route("/complaints/new", get(farmer::complaints::form))
        .route("/complaints/{id}/photo", get(farmer::complaints::photo))
        .route("/offline", get(offline::shell))
        .route("/app/catalog.json", get(offline::catalog))
        .route("/app/outbox", post(offline::outbox))
        .route("/station", get(station::home))
        .route("/station/farmers", post(station::register))
        .route("/station/act", post(station::act))
        .route("/station/stop", post(station::stop))
        .route("/station/reset-password", post(station::reset_password))
        .merge(dealer::routes())
        .merge(agronomist::routes())
        .route("/open-data/{county}/{file}", get(open_data::dataset))
        .merge(bureau::routes())
        .route("/sw.js", get(assets::service_worker))
        .route("/manifest.webmanifest", get(assets::manifest))
        .route("/assets/{file}", get(assets::file))
        .layer(middleware::from_fn(refuse_control_chars))
        .layer(middleware::from_fn_with_state(state, page_headers))
}
