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
use domain::sessions::Session;

use super::{Chrome, Ctx, WebError};
use crate::app::AppState;

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

/// A one-shot form key at work: `Err(response)` when the key was used before (the browser goes
/// where the first submission went), `Ok(())` when this request may do the work.
pub async fn claim(
    state: &AppState,
    session: &Session,
    key: &str,
    busy: &str,
) -> Result<Result<(), axum::response::Response>, WebError> {
    use axum::response::{IntoResponse, Redirect};
    use domain::sessions::{self, FormClaim};
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
    use domain::sessions;
    if key.trim().is_empty() {
        return Ok(());
    }
    match done {
        Some(url) => sessions::complete_form(state.db(), session.row.id, key.trim(), url).await?,
        None => sessions::release_form(state.db(), session.row.id, key.trim()).await?,
    }
    Ok(())
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
