//! The dealer's console (经销商后台), for the owner and staff of one input dealer, on a shop PC
//! or a phone: the order desk, the till (counter sales), receiving, the shelves, prices and
//! offers, the credit book (赊账) and the ledgers. Same templates, sessions, CSRF and one-shot
//! forms as the farmer pages; the wide layout is `templates/console.html`. Every read and write
//! goes through the domain services with the session's `Actor`, which check that the dealer is
//! the actor's own.

pub mod credit;
pub mod desk;
pub mod ledgers;
pub mod offers;
pub mod receiving;
pub mod shelves;
pub mod till;

use axum::Router;
use domain::accounts::sessions::Session;

use super::{Chrome, Ctx, WebError};
use crate::state::AppState;

/// A console page's start: the dealer's session, its dealer and the page chrome.
pub struct Console<'a> {
    pub session: &'a Session,
    pub dealer: domain::entities::dealer::Model,
    pub c: Chrome,
}

impl<'a> Console<'a> {
    /// The session must be a dealer's (owner or staff); others get the 403 page, and a browser
    /// that is not signed in goes to the sign-in page and comes back.
    pub async fn open(
        state: &AppState,
        ctx: &'a Ctx,
        title: &str,
        tab: &'static str,
    ) -> Result<Console<'a>, WebError> {
        let session = ctx.dealer()?;
        let dealer_id = session.actor.dealer_id.ok_or(WebError::Forbidden)?;
        let dealer = domain::regions::dealer(state.db(), dealer_id).await?;
        let c = Chrome::console(ctx, title, tab, ctx.l(&dealer.name_zh, &dealer.name_en));
        Ok(Console { session, dealer, c })
    }

    pub fn actor(&self) -> &domain::accounts::Actor {
        &self.session.actor
    }

    pub fn dealer_id(&self) -> i64 {
        self.dealer.id
    }
}

/// The console's routes, one group per part of the dealer's day.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(desk::routes())
        .merge(till::routes())
        .merge(receiving::routes())
        .merge(shelves::routes())
        .merge(offers::routes())
        .merge(credit::routes())
        .merge(ledgers::routes())
}
