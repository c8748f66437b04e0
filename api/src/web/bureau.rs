//! The county bureau's console (县级监管平台), for a county's regulators (and admins), at the
//! bureau's desk or on an inspector's phone: trace any code to its lot and act on it (hold,
//! release, recall, with the recall report on screen, printable and as CSV), and the county's
//! market: statistics, counterfeit and misuse signals, dealer records and open data. Same
//! templates, sessions, CSRF and one-shot forms as the other consoles; every read and write goes
//! through the domain services with the session's `Actor`, which check the role and county.
//!
//! Parts: `lots` (the trace search, one lot's page, hold/release/recall, the recall report and
//! the list of withdrawn lots), `signals` (counterfeit and misuse signals, a signal's sale),
//! `dealers` (dealers' records and the outcome of farmers' complaints), `stats` (statistics
//! with `chart`'s SVG charts and a CSV per table), `open_data` (the county's open datasets,
//! published or withdrawn).

pub mod chart;
pub mod dealers;
pub mod lots;
pub mod open_data;
pub mod signals;
pub mod stats;

use axum::Router;
use axum::routing::{get, post};
use domain::accounts::sessions::Session;
use domain::entities::region;

use super::{Chrome, Ctx, WebError};
use crate::state::AppState;

/// A bureau page's start: the regulator's (or admin's) session, the county the page works on,
/// and the page chrome, which names the county.
pub struct Desk<'a> {
    pub session: &'a Session,
    pub county: region::Model,
    pub c: Chrome,
}

impl<'a> Desk<'a> {
    /// The session must be a regulator's or an admin's; others get the 403 page, and a browser
    /// that is not signed in goes to the sign-in page and comes back. An admin's pages work on
    /// the first county unless the page names another (`county_scope`).
    pub async fn open(
        state: &AppState,
        ctx: &'a Ctx,
        title: &str,
        tab: &'static str,
    ) -> Result<Desk<'a>, WebError> {
        Self::open_county(state, ctx, title, tab, None).await
    }

    /// [`Desk::open`] for a named county (an admin choosing one; a regulator naming another
    /// county is refused).
    pub async fn open_county(
        state: &AppState,
        ctx: &'a Ctx,
        title: &str,
        tab: &'static str,
        county: Option<i64>,
    ) -> Result<Desk<'a>, WebError> {
        let session = ctx.regulator()?;
        let county = domain::bureau::county_scope(state.db(), &session.actor, county).await?;
        let org = format!(
            "{}{}",
            ctx.l(&county.name_zh, &county.name_en),
            ctx.l("农业农村局", " agriculture bureau")
        );
        let c = Chrome::bureau(ctx, title, tab, &org);
        Ok(Desk { session, county, c })
    }

    pub fn actor(&self) -> &domain::accounts::Actor {
        &self.session.actor
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bureau", get(lots::search))
        .route("/bureau/recalls", get(lots::withdrawn))
        .route("/bureau/lots/{id}", get(lots::lot))
        .route("/bureau/lots/{id}/hold", post(lots::hold))
        .route("/bureau/lots/{id}/release", post(lots::release))
        .route(
            "/bureau/lots/{id}/recall",
            get(lots::recall_confirm).post(lots::recall),
        )
        .route("/bureau/lots/{id}/report", get(lots::report))
        .route("/bureau/lots/{id}/report.csv", get(lots::report_csv))
        .route("/bureau/stats", get(stats::page_get))
        .route("/bureau/stats/{file}", get(stats::csv))
        .route("/bureau/open-data", get(open_data::page_get))
        .route("/bureau/open-data/publish", post(open_data::publish))
        .route("/bureau/signals", get(signals::list))
        .route("/bureau/signals.csv", get(signals::csv))
        .route("/bureau/sales/{id}", get(signals::sale))
        .route("/bureau/dealers", get(dealers::list))
        .route("/bureau/dealers/{id}", get(dealers::record))
        .route("/bureau/complaints/{id}/resolve", post(dealers::resolve))
}
