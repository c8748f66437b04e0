//! What may be lost lives here: rate-limit buckets and pub/sub fan-out. With `REDIS_URL` they
//! are shared by every node through Redis; without it they run in this process.
//!
//! Losing Redis must cost a fast failure, never seconds per request: every command has a short
//! timeout, and a failure opens a [`Breaker`] that skips Redis for a moment. While it is open the
//! limiter counts in this process (it never fails open) and events still reach this node's own
//! subscribers. The subscription reconnects with back-off and resubscribes when Redis is back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::events::DomainEvent;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::broadcast;

/// How long one Redis command or connection attempt may take.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// How long Redis is skipped after a failure before it is tried again.
pub const BREAKER_OPEN_FOR: Duration = Duration::from_secs(2);

/// Opens on a Redis failure, so the next calls in the next [`BREAKER_OPEN_FOR`] do not wait for
/// a timeout each; the first call after that tries Redis again.
#[derive(Default)]
pub struct Breaker {
    open_until: Mutex<Option<Instant>>,
}

impl Breaker {
    pub fn allows(&self) -> bool {
        let g = self.open_until.lock().unwrap_or_else(|p| p.into_inner());
        g.is_none_or(|t| Instant::now() >= t)
    }

    pub fn trip(&self) {
        let mut g = self.open_until.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            tracing::error!("Redis failed; using in-process fallbacks for {BREAKER_OPEN_FOR:?}");
        }
        *g = Some(Instant::now() + BREAKER_OPEN_FOR);
    }

    pub fn reset(&self) {
        let mut g = self.open_until.lock().unwrap_or_else(|p| p.into_inner());
        if g.take().is_some() {
            tracing::info!("Redis answers again");
        }
    }
}

/// A connection manager whose commands and reconnects are bounded by [`REDIS_TIMEOUT`].
pub async fn connection_manager(client: redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(REDIS_TIMEOUT))
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(1));
    ConnectionManager::new_with_config(client, config).await
}

/// Runs one Redis command through the breaker: refused at once while it is open, and a failure
/// or a timeout opens it.
async fn guarded<T>(
    breaker: &Breaker,
    f: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, String> {
    if !breaker.allows() {
        return Err("circuit open".into());
    }
    match tokio::time::timeout(REDIS_TIMEOUT, f).await {
        Ok(Ok(v)) => {
            breaker.reset();
            Ok(v)
        }
        Ok(Err(e)) => {
            breaker.trip();
            Err(e.to_string())
        }
        Err(_) => {
            breaker.trip();
            Err("timed out".into())
        }
    }
}

type Windows = Mutex<HashMap<String, (u32, Instant)>>;

fn memory_hit(m: &Windows, key: &str, limit: u32, window: Duration) -> Result<(), RetryAfter> {
    let now = Instant::now();
    let mut map = m.lock().unwrap_or_else(|p| p.into_inner());
    // Drop expired windows now and then so the map cannot grow without bound.
    if map.len() > 10_000 {
        map.retain(|_, (_, start)| now.duration_since(*start) < window);
    }
    let entry = map.entry(key.to_owned()).or_insert((0, now));
    if now.duration_since(entry.1) >= window {
        *entry = (0, now);
    }
    entry.0 += 1;
    if entry.0 > limit {
        Err(RetryAfter(
            window.saturating_sub(now.duration_since(entry.1)),
        ))
    } else {
        Ok(())
    }
}

/// Fixed-window counters: at most `limit` hits per `window` for a key.
pub enum RateLimiter {
    Memory(Windows),
    Redis {
        conn: ConnectionManager,
        prefix: String,
        breaker: Arc<Breaker>,
        /// Counts while Redis cannot (per node, so a little looser than the shared count).
        fallback: Windows,
    },
}

/// A refused hit: how long until the window resets.
#[derive(Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

const HIT_SCRIPT: &str = r"
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {c, ttl}
";

impl RateLimiter {
    pub fn memory() -> Self {
        RateLimiter::Memory(Mutex::new(HashMap::new()))
    }

    pub fn redis(conn: ConnectionManager, prefix: String, breaker: Arc<Breaker>) -> Self {
        RateLimiter::Redis {
            conn,
            prefix,
            breaker,
            fallback: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit on `key`; refuses it past `limit` in the current window.
    pub async fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<(), RetryAfter> {
        match self {
            RateLimiter::Memory(m) => memory_hit(m, key, limit, window),
            RateLimiter::Redis {
                conn,
                prefix,
                breaker,
                fallback,
            } => {
                let mut conn = conn.clone();
                let script = redis::Script::new(HIT_SCRIPT);
                let mut call = script.key(format!("{prefix}rl:{key}"));
                call.arg(window.as_millis() as u64);
                let res: Result<(u32, i64), String> =
                    guarded(breaker, call.invoke_async(&mut conn)).await;
                match res {
                    Ok((count, ttl_ms)) if count > limit => {
                        Err(RetryAfter(Duration::from_millis(ttl_ms.max(0) as u64)))
                    }
                    Ok(_) => Ok(()),
                    Err(e) => {
                        // Never fail open: count in this process until Redis is back.
                        tracing::warn!(error = %e, "rate limiter counting in-process");
                        memory_hit(fallback, key, limit, window)
                    }
                }
            }
        }
    }
}

/// Carries domain events, typed, to every node: for subscriptions and cache invalidation. On
/// Redis they travel as the events' JSON; a message that is not one is logged and skipped.
pub enum EventBus {
    Memory(broadcast::Sender<DomainEvent>),
    /// Publishes to a Redis channel; a background task relays the channel into `local`,
    /// reconnecting and resubscribing whenever the subscription ends.
    Redis {
        conn: ConnectionManager,
        channel: String,
        local: broadcast::Sender<DomainEvent>,
        breaker: Arc<Breaker>,
        /// Whether the relay is subscribed right now (readiness reports it).
        subscribed: Arc<AtomicBool>,
    },
}

impl EventBus {
    pub fn memory() -> Self {
        EventBus::Memory(broadcast::channel(1024).0)
    }

    /// Starts the Redis relay: every message on the channel, from any node, reaches this node's
    /// subscribers. Fails when the first subscription cannot be made (the server does not start
    /// half-connected); later losses are recovered in the background.
    pub async fn redis(
        client: &redis::Client,
        conn: ConnectionManager,
        prefix: &str,
        breaker: Arc<Breaker>,
    ) -> anyhow::Result<Self> {
        let channel = format!("{prefix}events");
        let (tx, _) = broadcast::channel(1024);
        let first = subscribe(client, &channel).await?;
        let subscribed = Arc::new(AtomicBool::new(true));
        tokio::spawn(relay(
            client.clone(),
            channel.clone(),
            first,
            tx.clone(),
            subscribed.clone(),
        ));
        Ok(EventBus::Redis {
            conn,
            channel,
            local: tx,
            breaker,
            subscribed,
        })
    }

    /// Publishes what committed changes mean, in order.
    pub async fn publish_all(&self, events: Vec<DomainEvent>) {
        for e in events {
            self.publish(e).await;
        }
    }

    pub async fn publish(&self, event: DomainEvent) {
        match self {
            EventBus::Memory(tx) => {
                let _ = tx.send(event);
            }
            EventBus::Redis {
                conn,
                channel,
                local,
                breaker,
                ..
            } => {
                let mut conn = conn.clone();
                let payload = serde_json::to_string(&event).unwrap_or_default();
                let mut cmd = redis::cmd("PUBLISH");
                cmd.arg(channel).arg(payload);
                if let Err(e) = guarded(breaker, cmd.query_async::<i64>(&mut conn)).await {
                    // Other nodes miss it; this node's own subscribers still get it.
                    tracing::error!(error = %e, topic = %event.topic(), "could not publish an event to Redis; delivered on this node only");
                    let _ = local.send(event);
                }
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        match self {
            EventBus::Memory(tx) => tx.subscribe(),
            EventBus::Redis { local, .. } => local.subscribe(),
        }
    }

    /// False while a Redis bus has lost its subscription (it is reconnecting).
    pub fn subscribed(&self) -> bool {
        match self {
            EventBus::Memory(_) => true,
            EventBus::Redis { subscribed, .. } => subscribed.load(Ordering::Relaxed),
        }
    }
}

async fn subscribe(client: &redis::Client, channel: &str) -> anyhow::Result<redis::aio::PubSub> {
    let mut pubsub = tokio::time::timeout(REDIS_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| anyhow::anyhow!("timed out connecting to Redis for the event bus"))??;
    tokio::time::timeout(REDIS_TIMEOUT, pubsub.subscribe(channel))
        .await
        .map_err(|_| anyhow::anyhow!("timed out subscribing to the event bus"))??;
    Ok(pubsub)
}

/// Relays the channel into `tx` for as long as the server runs: when the subscription ends (Redis
/// restarted, the connection dropped) it reconnects with back-off (0.1 s doubling to 2 s) and
/// subscribes again.
async fn relay(
    client: redis::Client,
    channel: String,
    first: redis::aio::PubSub,
    tx: broadcast::Sender<DomainEvent>,
    subscribed: Arc<AtomicBool>,
) {
    let mut pubsub = Some(first);
    let mut delay = Duration::from_millis(100);
    loop {
        let conn = match pubsub.take() {
            Some(p) => p,
            None => match subscribe(&client, &channel).await {
                Ok(p) => {
                    tracing::info!("event bus subscribed to Redis again");
                    delay = Duration::from_millis(100);
                    p
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?delay, "event bus cannot reach Redis");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                    continue;
                }
            },
        };
        subscribed.store(true, Ordering::Relaxed);
        let mut stream = conn.into_on_message();
        while let Some(msg) = stream.next().await {
            match msg
                .get_payload::<String>()
                .map(|p| serde_json::from_str::<DomainEvent>(&p))
            {
                Ok(Ok(ev)) => {
                    let _ = tx.send(ev);
                }
                other => tracing::warn!(?other, "ignoring a malformed event on the bus"),
            }
        }
        subscribed.store(false, Ordering::Relaxed);
        tracing::error!("event bus subscription to Redis ended; reconnecting");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_limiter_refuses_past_the_limit() {
        let l = RateLimiter::memory();
        let w = Duration::from_secs(60);
        for _ in 0..3 {
            l.hit("k", 3, w).await.unwrap();
        }
        let RetryAfter(d) = l.hit("k", 3, w).await.unwrap_err();
        assert!(d <= w && d > Duration::from_secs(50));
        l.hit("other", 3, w).await.unwrap();
    }

    #[tokio::test]
    async fn memory_bus_delivers() {
        let bus = EventBus::memory();
        let mut rx = bus.subscribe();
        let e = DomainEvent::Notified {
            user_id: 1,
            notification_id: 2,
        };
        bus.publish(e.clone()).await;
        assert_eq!(rx.recv().await.unwrap(), e);
    }
}
