//! What may be lost lives here: rate-limit buckets and pub/sub fan-out. With `REDIS_URL` they
//! are shared by every node through Redis; without it they run in this process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Fixed-window counters: at most `limit` hits per `window` for a key.
pub enum RateLimiter {
    Memory(Mutex<HashMap<String, (u32, Instant)>>),
    Redis {
        conn: ConnectionManager,
        prefix: String,
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

    /// Counts one hit on `key`; refuses it past `limit` in the current window.
    pub async fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<(), RetryAfter> {
        match self {
            RateLimiter::Memory(m) => {
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
            RateLimiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let res: redis::RedisResult<(u32, i64)> = redis::Script::new(HIT_SCRIPT)
                    .key(format!("{prefix}rl:{key}"))
                    .arg(window.as_millis() as u64)
                    .invoke_async(&mut conn)
                    .await;
                match res {
                    Ok((count, ttl_ms)) if count > limit => {
                        Err(RetryAfter(Duration::from_millis(ttl_ms.max(0) as u64)))
                    }
                    Ok(_) => Ok(()),
                    Err(e) => {
                        // Losing Redis must not lock everyone out: allow, and say so loudly.
                        tracing::error!(error = %e, "rate limiter unavailable; allowing the request");
                        Ok(())
                    }
                }
            }
        }
    }
}

/// An event published to every node, for subscriptions and cache invalidation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BusEvent {
    pub topic: String,
    pub payload: serde_json::Value,
}

pub enum EventBus {
    Memory(broadcast::Sender<BusEvent>),
    /// Publishes to a Redis channel; a background task relays the channel into `local`.
    Redis {
        conn: ConnectionManager,
        channel: String,
        local: broadcast::Sender<BusEvent>,
    },
}

impl EventBus {
    pub fn memory() -> Self {
        EventBus::Memory(broadcast::channel(1024).0)
    }

    /// Connects the Redis relay: every message on the channel, from any node, reaches this
    /// node's subscribers.
    pub async fn redis(
        client: &redis::Client,
        conn: ConnectionManager,
        prefix: &str,
    ) -> anyhow::Result<Self> {
        let channel = format!("{prefix}events");
        let (tx, _) = broadcast::channel(1024);
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        let relay = tx.clone();
        tokio::spawn(async move {
            let mut stream = pubsub.into_on_message();
            while let Some(msg) = stream.next().await {
                match msg
                    .get_payload::<String>()
                    .map(|p| serde_json::from_str::<BusEvent>(&p))
                {
                    Ok(Ok(ev)) => {
                        let _ = relay.send(ev);
                    }
                    other => tracing::warn!(?other, "ignoring a malformed event on the bus"),
                }
            }
            tracing::error!("event bus subscription to Redis ended");
        });
        Ok(EventBus::Redis {
            conn,
            channel,
            local: tx,
        })
    }

    pub async fn publish(&self, event: BusEvent) {
        match self {
            EventBus::Memory(tx) => {
                let _ = tx.send(event);
            }
            EventBus::Redis { conn, channel, .. } => {
                let mut conn = conn.clone();
                let payload = serde_json::to_string(&event).unwrap_or_default();
                if let Err(e) = redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async::<i64>(&mut conn)
                    .await
                {
                    tracing::error!(error = %e, topic = %event.topic, "could not publish an event");
                }
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        match self {
            EventBus::Memory(tx) => tx.subscribe(),
            EventBus::Redis { local, .. } => local.subscribe(),
        }
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
        bus.publish(BusEvent {
            topic: "t".into(),
            payload: serde_json::json!({"a": 1}),
        })
        .await;
        assert_eq!(rx.recv().await.unwrap().topic, "t");
    }
}
