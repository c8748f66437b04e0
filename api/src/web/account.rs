//! Signing up, in and out; the account page (real-name data, sessions); preferences.

use crate::web::ctx::{Path, Query};
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::accounts::sessions;
use domain::entities::{region, web_session};
use domain::types::{Level, Role};
use serde::Deserialize;

use super::ctx::{SESSION_COOKIE, set_cookie};
use super::view::china_time;
use super::{Chrome, Ctx, WebError, WebResult};
use crate::state::AppState;

/// Where a form goes after sign-in: only paths of this site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".into(),
    }
}

/// The field errors of a domain error in the reader's language, or a logged failure.
pub fn messages(e: domain::Error, ctx: &Ctx) -> Result<Vec<String>, WebError> {
    match e {
        domain::Error::Invalid(errs) => Ok(errs
            .iter()
            .map(|f| f.message(ctx.lang).to_owned())
            .collect()),
        domain::Error::RateLimited { retry_after_secs } => Ok(vec![match ctx.lang {
            domain::Lang::Zh => format!("尝试次数过多，请 {retry_after_secs} 秒后再试"),
            domain::Lang::En => format!("Too many attempts: try again in {retry_after_secs} s"),
        }]),
        other => Err(other.into()),
    }
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    phone: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(ctx: Ctx, Query(q): Query<NextQuery>) -> WebResult {
    if ctx.session.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    super::ctx::page(&LoginPage {
        c: Chrome::new(&ctx, ctx.l("登录", "Sign in"), "me"),
        next: safe_next(q.next.as_deref()),
        phone: String::new(),
        errors: vec![],
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    phone: String,
    password: String,
    next: Option<String>,
}

/// Signs the browser in as `user` (a new session and its cookie) and sends it to `to`.
async fn start_session(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    user: &domain::entities::app_user::Model,
    to: &str,
) -> WebResult {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = sessions::start(state.db(), user, ua).await?;
    let cookie = set_cookie(
        SESSION_COOKIE,
        &token,
        sessions::SESSION_DAYS * 86_400,
        true,
        ctx.secure,
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response())
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let ip = crate::state::client_ip(&state, &headers, peer);
    let result = async {
        crate::graphql::account::check_login_limits(&state.services, &f.phone, ip).await?;
        domain::accounts::authenticate(state.db(), &f.phone, &f.password).await
    }
    .await;
    match result {
        Ok(user) => {
            // Each role's first page when the sign-in was not on the way to another one.
            let home = match user.role {
                Role::StationKeeper => Some("/station"),
                Role::Dealer => Some("/dealer"),
                Role::Agronomist => Some("/agronomist"),
                Role::Regulator => Some("/bureau"),
                Role::Farmer | Role::Admin => None,
            };
            let to = match home {
                Some(h) if f.next.as_deref().is_none_or(|n| n == "/") => h.to_owned(),
                _ => safe_next(f.next.as_deref()),
            };
            start_session(&state, &ctx, &headers, &user, &to).await
        }
        Err(e) => {
            let errors = messages(e, &ctx)?;
            super::ctx::page(&LoginPage {
                c: Chrome::new(&ctx, ctx.l("登录", "Sign in"), "me"),
                next: safe_next(f.next.as_deref()),
                phone: f.phone,
                errors,
            })
        }
    }
}

/// A township and its villages, for the village picker.
pub struct Township {
    pub name: String,
    pub villages: Vec<(i64, String)>,
}

/// Every township of every county with its villages, in code order.
pub async fn townships(state: &AppState, lang: domain::Lang) -> Result<Vec<Township>, WebError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let all = region::Entity::find()
        .filter(region::Column::Level.is_in([Level::Township, Level::Village]))
        .order_by_asc(region::Column::Id)
        .all(state.db())
        .await
        .map_err(domain::Error::from)?;
    let name = |r: &region::Model| lang.pick(&r.name_zh, &r.name_en).to_owned();
    Ok(all
        .iter()
        .filter(|r| r.level == Level::Township)
        .map(|t| Township {
            name: name(t),
            villages: all
                .iter()
                .filter(|v| v.level == Level::Village && v.parent_id == Some(t.id))
                .map(|v| (v.id, name(v)))
                .collect(),
        })
        .filter(|t| !t.villages.is_empty())
        .collect())
}

#[derive(askama::Template)]
#[template(path = "signup.html")]
struct SignupPage {
    c: Chrome,
    townships: Vec<Township>,
    form: SignupForm,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    village: String,
}

impl SignupForm {
    fn village_id(&self) -> Option<i64> {
        self.village.parse().ok()
    }
    pub fn selected(&self, id: &i64) -> bool {
        self.village_id() == Some(*id)
    }
}

pub async fn signup_form(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    if ctx.session.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    super::ctx::page(&SignupPage {
        c: Chrome::new(&ctx, ctx.l("注册", "Sign up"), "me"),
        townships: townships(&state, ctx.lang).await?,
        form: SignupForm::default(),
        errors: vec![],
    })
}

pub async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(f): Form<SignupForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let result = match f.village_id() {
        None => Err(domain::Error::invalid(
            "village",
            domain::Code::Required,
            "请选择您所在的村",
            "choose your village",
        )),
        Some(v) => {
            domain::accounts::register_farmer(
                state.db(),
                &f.phone,
                &f.password,
                &f.display_name,
                Some(v),
            )
            .await
        }
    };
    match result {
        Ok(user) => start_session(&state, &ctx, &headers, &user, "/?welcome=1").await,
        Err(e) => {
            let errors = messages(e, &ctx)?;
            super::ctx::page(&SignupPage {
                c: Chrome::new(&ctx, ctx.l("注册", "Sign up"), "me"),
                townships: townships(&state, ctx.lang).await?,
                form: SignupForm {
                    password: String::new(),
                    ..f
                },
                errors,
            })
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx, Form(f): Form<CsrfOnly>) -> WebResult {
    if let Some(s) = &ctx.session {
        ctx.check_csrf(&f.csrf)?;
        sessions::end(state.db(), s.row.id).await?;
    }
    Ok((
        [
            (
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, "", 0, true, ctx.secure),
            ),
            // The page's script also clears caches and storage before it submits; this covers
            // a browser without it.
            (
                header::HeaderName::from_static("clear-site-data"),
                header::HeaderValue::from_static("\"cache\", \"storage\""),
            ),
        ],
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct PrefsQuery {
    lang: Option<String>,
    big: Option<String>,
    back: Option<String>,
}

/// `GET /prefs?lang=en|zh&big=0|1&back=/path`: remembers the language or large text in a
/// cookie (a preference of this browser, not of the account) and goes back.
pub async fn prefs(ctx: Ctx, Query(q): Query<PrefsQuery>) -> Response {
    let mut headers = Vec::new();
    let year = 365 * 86_400;
    if let Some(l) = q.lang.as_deref() {
        let v = if l.starts_with("en") { "en" } else { "zh" };
        headers.push((
            header::SET_COOKIE,
            set_cookie("lang", v, year, false, ctx.secure),
        ));
    }
    if let Some(b) = q.big.as_deref() {
        let v = if b == "1" { "1" } else { "0" };
        headers.push((
            header::SET_COOKIE,
            set_cookie("big", v, year, false, ctx.secure),
        ));
    }
    let mut r = Redirect::to(&safe_next(q.back.as_deref())).into_response();
    for (k, v) in headers {
        r.headers_mut().append(k, v);
    }
    r
}

#[derive(askama::Template)]
#[template(path = "me.html")]
struct MePage {
    c: Chrome,
    phone: String,
    village: String,
    real_name: Option<String>,
    id_masked: Option<String>,
    sessions: Vec<SessionRow>,
    errors: Vec<String>,
    saved: bool,
}

struct SessionRow {
    id: i64,
    this: bool,
    device: String,
    last_seen: String,
}

async fn me_page(state: &AppState, ctx: &Ctx, errors: Vec<String>, saved: bool) -> WebResult {
    let s = ctx.signed_in()?;
    let village = match s.user.village_id {
        Some(v) => domain::regions::region(state.db(), v)
            .await
            .map(|r| ctx.l(&r.name_zh, &r.name_en).to_owned())
            .unwrap_or_default(),
        None => String::new(),
    };
    let sessions = sessions::list(state.db(), &s.actor)
        .await?
        .into_iter()
        .map(|r: web_session::Model| SessionRow {
            id: r.id,
            this: r.id == s.row.id,
            device: device_name(&r.user_agent),
            last_seen: china_time(r.last_seen_at),
        })
        .collect();
    super::ctx::page(&MePage {
        c: Chrome::new(ctx, ctx.l("我的", "Me"), "me"),
        phone: s.user.phone.clone(),
        village,
        real_name: s.user.real_name.clone(),
        id_masked: s
            .user
            .id_number
            .as_deref()
            .map(domain::types::IdNumber::masked),
        sessions,
        errors,
        saved,
    })
}

/// A short name for a browser, from its User-Agent.
fn device_name(ua: &str) -> String {
    let os = ["Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"]
        .into_iter()
        .find(|o| ua.contains(o))
        .unwrap_or("");
    let browser = ["MicroMessenger", "Edg", "Chrome", "Firefox", "Safari"]
        .into_iter()
        .find(|b| ua.contains(b))
        .map(|b| if b == "MicroMessenger" { "WeChat" } else { b })
        .unwrap_or("");
    // Empty when neither is known: the page says "unknown device" in the reader's language.
    format!("{os} {browser}").trim().to_owned()
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn me(State(state): State<AppState>, ctx: Ctx, Query(q): Query<SavedQuery>) -> WebResult {
    me_page(&state, &ctx, vec![], q.saved.is_some()).await
}

#[derive(Deserialize)]
pub struct RealNameForm {
    csrf: String,
    real_name: String,
    id_number: String,
}

pub async fn real_name(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RealNameForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let (actor, _) = ctx.farmer()?;
    if actor.assisted_by.is_some() {
        // Real-name data is the farmer's own act (RULES.md): a keeper cannot give it for them.
        return me_page(
            &state,
            &ctx,
            vec![
                ctx.l(
                    "实名信息须由农户本人登记",
                    "Real-name data must be given by the farmer themself",
                )
                .into(),
            ],
            false,
        )
        .await;
    }
    match domain::accounts::set_real_name(state.db(), actor, &f.real_name, &f.id_number).await {
        Ok(_) => Ok(Redirect::to("/me?saved=1").into_response()),
        Err(e) => {
            let errors = messages(e, &ctx)?;
            me_page(&state, &ctx, errors, false).await
        }
    }
}

pub async fn end_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let s = ctx.signed_in()?;
    sessions::end_own(state.db(), &s.actor, id).await?;
    Ok(Redirect::to("/me").into_response())
}
