//! What every handler shares: the database, the schema, Redis and the services; and what
//! each request is read for (the caller's address, token and language).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use domain::Lang;
use sea_orm::DatabaseConnection;

use crate::adapters::{EventBus, RateLimiter};
use crate::auth::Keys;
use crate::config::{Config, redact_url};
use crate::db::{self, StatementCounter};
use crate::graphql::{self, NongziSchema, Services};

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub schema: NongziSchema,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub statements: StatementCounter,
}

impl AppState {
    pub fn db(&self) -> &DatabaseConnection {
        &self.services.db
    }

    /// Connects to the database (migrating it) and to Redis when configured.
    pub async fn connect(config: Config) -> anyhow::Result<AppState> {
        let (db, statements) = db::connect(&config).await?;
        db::migrate(&db).await?;
        let (limiter, bus, redis) = match &config.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str()).map_err(|e| {
                    anyhow::anyhow!("REDIS_URL {} is not valid: {e}", redact_url(url))
                })?;
                let conn = tokio::time::timeout(
                    Duration::from_secs(10),
                    crate::adapters::connection_manager(client.clone()),
                )
                .await
                .map_err(|_| {
                    anyhow::anyhow!("timed out connecting to Redis at {}", redact_url(url))
                })?
                .map_err(|e| {
                    anyhow::anyhow!("cannot connect to Redis at {}: {e}", redact_url(url))
                })?;
                let breaker = Arc::new(crate::adapters::Breaker::default());
                let bus =
                    EventBus::redis(&client, conn.clone(), &config.redis_prefix, breaker.clone())
                        .await?;
                (
                    RateLimiter::redis(conn.clone(), config.redis_prefix.clone(), breaker),
                    bus,
                    Some(conn),
                )
            }
            None => (RateLimiter::memory(), EventBus::memory(), None),
        };
        if config.payment_provider.is_none() {
            tracing::info!(
                "no payment provider configured (NONGZI_PAYMENT_PROVIDER): online payment is refused"
            );
        }
        let payments = config.payment_provider.map(|k| k.build());
        let services = Services {
            db,
            keys: Arc::new(Keys::new(&config.jwt_secret, config.access_token_ttl)?),
            config: Arc::new(config),
            limiter: Arc::new(limiter),
            bus: Arc::new(bus),
            payments,
        };
        let schema = graphql::build_schema(services.clone());
        Ok(AppState {
            services,
            schema,
            redis,
            statements,
        })
    }
}

pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if state.services.config.trust_forwarded_for
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}

/// `Authorization: Bearer <jwt>`: absent is anonymous; present and bad is 401.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().unwrap_or("");
    Some(
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or("")
            .trim(),
    )
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

pub async fn publish_events(state: &AppState, events: Vec<domain::events::DomainEvent>) {
    state.services.bus.publish_all(events).await;
}
