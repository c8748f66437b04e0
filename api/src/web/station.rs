//! The village station keeper (代购): find or register a farmer of the village, act for them in
//! the farmer pages (every order records the keeper), reset a forgotten password.

use crate::web::ctx::Query;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::accounts;
use domain::accounts::sessions;
use domain::types::Phone;
use serde::Deserialize;

use super::account::messages;
use super::ctx::page;
use super::{Chrome, Ctx, WebResult};
use crate::state::AppState;

pub struct FarmerRow {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub verified: bool,
}

#[derive(askama::Template)]
#[template(path = "station.html")]
struct StationPage {
    c: Chrome,
    station: String,
    q: String,
    farmers: Vec<FarmerRow>,
    errors: Vec<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct StationQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    done: String,
}

async fn station_page(
    state: &AppState,
    ctx: &Ctx,
    q: &str,
    errors: Vec<String>,
    notice: Option<String>,
) -> WebResult {
    let s = ctx.keeper()?;
    let db = state.db();
    let station = match s.actor.station_id {
        Some(id) => domain::regions::station(db, id)
            .await?
            .map(|st| ctx.l(&st.name_zh, &st.name_en).to_owned())
            .unwrap_or_default(),
        None => String::new(),
    };
    let farmers = accounts::station_farmers(db, &s.actor, q)
        .await?
        .into_iter()
        .map(|u| FarmerRow {
            id: u.id,
            name: u.display_name,
            // The keeper knows their neighbours; the full number is what they dial.
            phone: u.phone,
            verified: u.verified_at.is_some() && u.id_number.is_some(),
        })
        .collect();
    page(&StationPage {
        c: Chrome::new(ctx, ctx.l("服务站代购", "Station ordering"), "home"),
        station,
        q: q.to_owned(),
        farmers,
        errors,
        notice,
    })
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StationQuery>,
) -> WebResult {
    let notice = match q.done.as_str() {
        "reset" => Some(
            ctx.l(
                "密码已重置，请把新密码告诉农户本人",
                "Password reset: tell the farmer the new one in person",
            )
            .to_owned(),
        ),
        "registered" => Some(
            ctx.l(
                "已注册，可以代他下单",
                "Registered: you can order for them now",
            )
            .to_owned(),
        ),
        _ => None,
    };
    station_page(&state, &ctx, &q.q, vec![], notice).await
}

#[derive(Deserialize)]
pub struct RegisterForm {
    csrf: String,
    display_name: String,
    phone: String,
    password: String,
}

pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RegisterForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let s = ctx.keeper()?;
    match accounts::register_farmer_at_station(
        state.db(),
        &s.actor,
        &f.phone,
        &f.password,
        &f.display_name,
    )
    .await
    {
        Ok(u) => {
            let q = Phone::parse("phone", &u.phone)
                .map(|p| p.as_str().to_owned())
                .unwrap_or(u.phone);
            Ok(Redirect::to(&format!("/station?done=registered&q={q}")).into_response())
        }
        Err(e) => {
            let errors = messages(e, &ctx)?;
            station_page(&state, &ctx, "", errors, None).await
        }
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    csrf: String,
    farmer: i64,
}

/// Acting for a farmer: the farmer pages now show that farmer's cart and orders, and every
/// order placed records the keeper.
pub async fn act(State(state): State<AppState>, ctx: Ctx, Form(f): Form<ActForm>) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let s = ctx.keeper()?;
    sessions::set_acting_for(state.db(), s, Some(f.farmer)).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn stop(State(state): State<AppState>, ctx: Ctx, Form(f): Form<CsrfForm>) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let s = ctx.keeper()?;
    sessions::set_acting_for(state.db(), s, None).await?;
    Ok(Redirect::to("/station").into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    farmer: i64,
    password: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ResetForm>,
) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let s = ctx.keeper()?;
    match accounts::reset_farmer_password(state.db(), &s.actor, f.farmer, &f.password).await {
        Ok(()) => Ok(Redirect::to("/station?done=reset").into_response()),
        Err(e) => {
            let errors = messages(e, &ctx)?;
            station_page(&state, &ctx, "", errors, None).await
        }
    }
}
