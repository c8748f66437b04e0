//! The dealer console: the order desk (the console's first page).

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::Console;
use crate::app::AppState;
use crate::web::ctx::page;
use crate::web::{Chrome, Ctx, WebResult};

#[derive(askama::Template)]
#[template(path = "dealer/desk.html")]
struct DeskPage {
    c: Chrome,
}

pub async fn desk(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let con = Console::open(&state, &ctx, ctx.l("订单", "Orders"), "desk").await?;
    page(&DeskPage { c: con.c })
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/dealer", get(desk))
}
