//! A running server: bound, serving the routes, sweeping expired orders and near-expiry stock
//! in the background, and stopping on Ctrl-C or SIGTERM after in-flight requests.

use std::net::SocketAddr;

use crate::router::router;
use crate::state::{AppState, publish_events};

/// Stock expiring within this many days gets a daily NEAR_EXPIRY alert.
const NEAR_EXPIRY_DAYS: i64 = 30;

/// The background task: expires unconfirmed orders (every node runs it; each expiry happens
/// once, by a conditional update).
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let c = &state.services.config;
        let settings = domain::orders::Settings {
            confirm_within: chrono::Duration::from_std(c.order_confirm_within)
                .unwrap_or(chrono::Duration::hours(48)),
            low_stock_threshold: c.low_stock_threshold,
        };
        // The first sweep comes one interval after start, not during start-up.
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + c.sweep_interval,
            c.sweep_interval,
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match domain::stock::near_expiry_alerts_once_a_day(state.db(), NEAR_EXPIRY_DAYS).await {
                Ok(events) => publish_events(&state, events).await,
                Err(e) => tracing::error!(error = ?e, "near-expiry alerts failed"),
            }
            match domain::orders::expire_due(
                state.db(),
                state.services.payments.as_deref(),
                settings,
            )
            .await
            {
                Ok(events) => {
                    if !events.is_empty() {
                        tracing::info!(n = events.len(), "expired unconfirmed orders");
                    }
                    publish_events(&state, events).await;
                }
                Err(e) => tracing::error!(error = ?e, "order expiry sweep failed"),
            }
        }
    })
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    handle: tokio::task::JoinHandle<()>,
    sweeper: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and serves in the background.
    pub async fn start(state: AppState, addr: SocketAddr) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let addr = listener.local_addr()?;
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "server stopped");
            }
        });
        let sweeper = spawn_sweeper(state.clone());
        Ok(Server {
            addr,
            state,
            handle,
            sweeper,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn abort(&self) {
        self.handle.abort();
        self.sweeper.abort();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn serve_until_shutdown(state: AppState, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "serving the web pages at / and GraphQL at /graphql");
    let sweeper = spawn_sweeper(state.clone());
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    sweeper.abort();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
