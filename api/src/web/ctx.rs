//! What every page handler starts from: the browser's language and large-text choice, its
//! session (if signed in), the CSRF token its forms carry, and the one error type pages answer
//! with. No business rule lives here: handlers pass the session's `Actor` to domain services.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::Lang;
use domain::accounts::sessions::{self, Session};
use domain::accounts::{Actor, Role};
use domain::entities::app_user;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::state::AppState;

pub const SESSION_COOKIE: &str = "nz_session";
pub const ANON_COOKIE: &str = "nz_anon";

/// The value of one cookie from the `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A random cookie-safe token.
pub fn random_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
}

/// The CSRF token of a browser that has not signed in: an HMAC of its `nz_anon` cookie, so a
/// page on another site cannot forge the sign-in or sign-up form (it can neither read nor set
/// the cookie).
pub fn anon_csrf(key: &[u8], anon: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"nongzi-web-anon-csrf:");
    mac.update(anon.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn same(a: &str, b: &str) -> bool {
    // Constant time for equal lengths; the length of a token is no secret.
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Everything a page handler needs about the browser.
#[derive(Clone)]
pub struct Ctx {
    pub lang: Lang,
    /// Large-text mode (长辈版).
    pub big: bool,
    pub session: Option<Session>,
    pub anon: Option<String>,
    /// Path and query of this request (for "back" links of the language switch and sign-in).
    pub path: String,
    pub secure: bool,
    csrf_key: Vec<u8>,
}

impl Ctx {
    pub fn l<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    /// The token this browser's forms must carry.
    pub fn csrf(&self) -> String {
        match (&self.session, &self.anon) {
            (Some(s), _) => s.row.csrf_secret.clone(),
            (None, Some(a)) => anon_csrf(&self.csrf_key, a),
            (None, None) => String::new(),
        }
    }

    /// Refuses a form whose token is not this browser's.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        let want = self.csrf();
        if want.is_empty() || !same(&want, token.trim()) {
            return Err(WebError::Csrf);
        }
        Ok(())
    }

    /// The signed-in session, or a trip to the sign-in page that comes back here.
    pub fn signed_in(&self) -> Result<&Session, WebError> {
        self.session
            .as_ref()
            .ok_or_else(|| WebError::SignIn(self.path.clone()))
    }

    /// The farmer the farmer pages act for: the signed-in farmer, or the farmer a station
    /// keeper has chosen. Other roles get a 403 page; a keeper who chose nobody is sent to the
    /// station page.
    pub fn farmer(&self) -> Result<(&Actor, &app_user::Model), WebError> {
        let s = self.signed_in()?;
        match s.farmer() {
            Some(f) => Ok(f),
            None if s.actor.role == Role::StationKeeper => {
                Err(WebError::Redirect("/station".into()))
            }
            None => Err(WebError::Forbidden),
        }
    }

    /// The dealer console's session: a dealer's owner or staff member (their actor carries the
    /// dealer). What each of them may see and do is checked by the domain services.
    pub fn dealer(&self) -> Result<&Session, WebError> {
        let s = self.signed_in()?;
        if s.actor.role == Role::Dealer && s.actor.dealer_id.is_some() {
            Ok(s)
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// The agronomist's console session: an agronomist (of their counties) or an admin. Which
    /// fields and drafts each may see is checked by the domain services.
    pub fn agronomist(&self) -> Result<&Session, WebError> {
        let s = self.signed_in()?;
        if matches!(s.actor.role, Role::Agronomist | Role::Admin) {
            Ok(s)
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// The county bureau's console session: a regulator (of their county) or an admin. Which
    /// county's data each may see is checked by the domain services.
    pub fn regulator(&self) -> Result<&Session, WebError> {
        let s = self.signed_in()?;
        if matches!(s.actor.role, Role::Regulator | Role::Admin) {
            Ok(s)
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// A station keeper's own actor.
    pub fn keeper(&self) -> Result<&Session, WebError> {
        let s = self.signed_in()?;
        if s.actor.role == Role::StationKeeper {
            Ok(s)
        } else {
            Err(WebError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let headers = &parts.headers;
        let query = parts.uri.query().unwrap_or("");
        let q_lang = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .map(str::to_owned);
        let lang = match q_lang.as_deref().or_else(|| cookie(headers, "lang")) {
            Some(v) if v.starts_with("en") => Lang::En,
            Some(v) if v.starts_with("zh") => Lang::Zh,
            _ => crate::state::lang_of(headers),
        };
        let big = cookie(headers, "big") == Some("1");
        let session = match cookie(headers, SESSION_COOKIE) {
            Some(t) => sessions::find(state.db(), t)
                .await
                .map_err(WebError::from)?,
            None => None,
        };
        let anon = parts
            .extensions
            .get::<AnonCookie>()
            .map(|a| a.0.clone())
            .or_else(|| cookie(headers, ANON_COOKIE).map(str::to_owned));
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        Ok(Ctx {
            lang,
            big,
            session,
            anon,
            path,
            secure: state.services.config.web_secure_cookies(),
            csrf_key: state.services.config.web_key(),
        })
    }
}

/// The anonymous cookie set by the middleware for this request (first visit).
#[derive(Clone)]
pub struct AnonCookie(pub String);

/// A `Set-Cookie` value with the attributes every cookie of ours has.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    http_only: bool,
    secure: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; Max-Age={max_age_secs}; SameSite=Lax");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are token characters")
}

/// How a page request can fail. Each becomes a page a person can read (or a redirect).
#[derive(Debug)]
pub enum WebError {
    /// Not signed in: to the sign-in page, then back to this path.
    SignIn(String),
    Redirect(String),
    Forbidden,
    NotFound,
    /// A form from another site, or an old page whose session ended.
    Csrf,
    BadRequest(String),
    /// A request refused before any handler: what is wrong, in both languages.
    Refused {
        zh: &'static str,
        en: &'static str,
    },
    Internal(String),
}

impl From<domain::Error> for WebError {
    fn from(e: domain::Error) -> Self {
        match e {
            domain::Error::NotFound { .. } => WebError::NotFound,
            domain::Error::Forbidden { .. } => WebError::Forbidden,
            domain::Error::Unauthenticated => WebError::SignIn("/".into()),
            other => {
                tracing::error!(error = ?other, "page failed");
                WebError::Internal(other.to_string())
            }
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = ?e, "template failed");
        WebError::Internal(e.to_string())
    }
}

/// Minimal page for errors (it must render even when the normal chrome cannot be built).
fn error_page(status: StatusCode, zh: &str, en: &str, action: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{zh} / {en}</title><style>body{{font:18px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}a{{display:inline-block;padding:12px 16px;background:#1f6f3f;color:#fff;border-radius:8px;text-decoration:none}}</style></head><body><main><h1>{zh}</h1><p lang=\"en\">{en}</p>{action}</main></body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let home = "<p><a href=\"/\">返回首页 / Home</a></p>";
        match self {
            WebError::SignIn(next) => {
                let next = if next.starts_with('/') && !next.starts_with("//") {
                    next
                } else {
                    "/".into()
                };
                Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response()
            }
            WebError::Redirect(to) => Redirect::to(&to).into_response(),
            WebError::Forbidden => error_page(
                StatusCode::FORBIDDEN,
                "这个页面不属于您的账号",
                "This page is not for your account.",
                home,
            ),
            WebError::NotFound => error_page(StatusCode::NOT_FOUND, "没有找到", "Not found.", home),
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "页面已过期，请返回后重新提交",
                "This page has expired: go back, reload it and send it again.",
                home,
            ),
            WebError::BadRequest(msg) => error_page(
                StatusCode::BAD_REQUEST,
                "请求有误",
                &html_escape(&msg),
                home,
            ),
            WebError::Refused { zh, en } => error_page(StatusCode::BAD_REQUEST, zh, en, home),
            WebError::Internal(_) => error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器出错了，请稍后再试",
                "Something went wrong on the server; please try again later.",
                home,
            ),
        }
    }
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub type WebResult = Result<Response, WebError>;

/// A one-shot form key (every state-changing form carries one, so a double tap or a retry on
/// a weak line does the work once) at work: `Err(response)` when the key was used before (the browser goes
/// where the first submission went), `Ok(())` when this request may do the work.
pub async fn claim(
    state: &AppState,
    session: &Session,
    key: &str,
    busy: &str,
) -> Result<Result<(), Response>, WebError> {
    use domain::accounts::sessions::FormClaim;
    if key.trim().is_empty() {
        return Ok(Ok(()));
    }
    Ok(
        match sessions::claim_form(state.db(), session.row.id, key.trim()).await? {
            FormClaim::Fresh => Ok(()),
            FormClaim::Done(url) => Err(Redirect::to(&url).into_response()),
            FormClaim::InProgress => Err(Redirect::to(busy).into_response()),
        },
    )
}

/// Ends a claimed form key: with the page the work led to, or freed again after a refusal (so
/// the corrected form can be sent).
pub async fn finish(
    state: &AppState,
    session: &Session,
    key: &str,
    done: Option<&str>,
) -> Result<(), WebError> {
    if key.trim().is_empty() {
        return Ok(());
    }
    match done {
        Some(url) => sessions::complete_form(state.db(), session.row.id, key.trim(), url).await?,
        None => sessions::release_form(state.db(), session.row.id, key.trim()).await?,
    }
    Ok(())
}

/// A form sent back with its refusal: the page again, as 422, with what was typed kept (every
/// console's forms).
pub fn refused(page: WebResult) -> WebResult {
    page.map(|mut r| {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    })
}

/// Renders a template as a page that is never stored by caches (it may be personal).
pub fn page(t: &impl askama::Template) -> WebResult {
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::VARY, "Cookie, Accept-Language"),
        ],
        Html(t.render()?),
    )
        .into_response())
}

/// The query string, read like axum's `Query`; one this page cannot read (`?page=abc`) is
/// refused with a page in both languages, not the library's English line.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => {
                tracing::debug!(error = %e, "unreadable query string");
                Err(WebError::Refused {
                    zh: "网址里的参数有误，请从页面上的链接进入",
                    en: "This address has a parameter the page cannot read; follow a link on the page instead.",
                })
            }
        }
    }
}

/// The path's parameters, read like axum's `Path`; `/p/abc` where a number belongs is a page
/// that was never there (404), not the library's English line.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => {
                tracing::debug!(error = %e, "unreadable path");
                Err(WebError::NotFound)
            }
        }
    }
}
