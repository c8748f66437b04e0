//! Redis lost and restored, through a TCP proxy the test can cut: the event bus reconnects and
//! resubscribes, a publish while Redis is gone fails fast and still reaches this node, and the
//! login limiter keeps counting in-process instead of failing open. Needs Redis: it runs with
//! `NONGZI_TEST_REDIS_URL` (the PostgreSQL + Redis leg of the suite) and fails if that Redis is
//! unreachable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use domain::events::DomainEvent;
use nongzi::adapters::{Breaker, EventBus, RateLimiter, connection_manager};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A proxy to Redis that can be switched off (every open connection is cut and new ones are
/// refused) and on again.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(Notify::new());
        let (u, c) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !u.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let c = c.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = c.notified() => {}
                    }
                });
            }
        });
        Proxy { addr, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A distinct event per `n`.
fn event(n: u32) -> DomainEvent {
    DomainEvent::Notified {
        user_id: 1,
        notification_id: i64::from(n),
    }
}

async fn node(url: &str, prefix: &str) -> (EventBus, RateLimiter) {
    let client = redis::Client::open(url).unwrap();
    let conn = connection_manager(client.clone()).await.unwrap();
    let breaker = Arc::new(Breaker::default());
    let bus = EventBus::redis(&client, conn.clone(), prefix, breaker.clone())
        .await
        .unwrap();
    (bus, RateLimiter::redis(conn, prefix.to_owned(), breaker))
}

/// Publishes on `from` until `rx` sees an event of that number (or `limit` passes).
async fn delivered(
    from: &EventBus,
    rx: &mut tokio::sync::broadcast::Receiver<DomainEvent>,
    n: u32,
    limit: Duration,
) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        from.publish(event(n)).await;
        if let Ok(Ok(ev)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await
            && ev == event(n)
        {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_and_the_limiter_survive_redis_lost_and_restored() {
    let Ok(real) = std::env::var("NONGZI_TEST_REDIS_URL") else {
        eprintln!("NONGZI_TEST_REDIS_URL is not set: this test runs on the PostgreSQL + Redis leg");
        return;
    };
    let target = real
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = Proxy::start(target).await;
    let url = format!("redis://{}", proxy.addr);
    let prefix = format!("nongzi-test:{}:", std::process::id());
    let (bus1, limiter1) = node(&url, &prefix).await;
    let (bus2, _limiter2) = node(&url, &prefix).await;
    let mut on1 = bus1.subscribe();
    let mut on2 = bus2.subscribe();

    assert!(delivered(&bus1, &mut on2, 1, Duration::from_secs(5)).await);

    proxy.down();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A publish with Redis gone fails fast, and this node's own subscriber still gets it.
    while on1.try_recv().is_ok() {}
    let started = Instant::now();
    bus1.publish(event(2)).await;
    let first = started.elapsed();
    let started = Instant::now();
    for _ in 0..10 {
        bus1.publish(event(2)).await;
    }
    let next_ten = started.elapsed();
    println!("publish with Redis down: first {first:?}, next ten {next_ten:?} together");
    assert!(first < Duration::from_secs(2), "{first:?}");
    assert_eq!(on1.try_recv().unwrap(), event(2));
    // Readiness follows the truth: the lost subscription is reported.
    let until = Instant::now() + Duration::from_secs(3);
    while bus1.subscribed() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!bus1.subscribed());
    // The limiter does not fail open: 5 per window, the 6th is refused in-process.
    let w = Duration::from_secs(60);
    for _ in 0..5 {
        limiter1.hit("login:13800000001", 5, w).await.unwrap();
    }
    assert!(limiter1.hit("login:13800000001", 5, w).await.is_err());

    proxy.up();
    let started = Instant::now();
    // Both directions come back without a restart.
    assert!(
        delivered(&bus1, &mut on2, 3, Duration::from_secs(20)).await,
        "node 2 never received again"
    );
    assert!(
        delivered(&bus2, &mut on1, 4, Duration::from_secs(20)).await,
        "node 1 never received again"
    );
    println!(
        "bus delivering both ways {:?} after Redis came back",
        started.elapsed()
    );
    assert!(bus1.subscribed() && bus2.subscribed());
}

/// Events cross Redis typed: what one node publishes arrives on another as the same
/// `DomainEvent`, and a message on the channel that is not one is skipped, not delivered as
/// something half-read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_redis_typed_and_a_malformed_message_is_skipped() {
    let Ok(url) = std::env::var("NONGZI_TEST_REDIS_URL") else {
        eprintln!("NONGZI_TEST_REDIS_URL is not set: this test runs on the PostgreSQL + Redis leg");
        return;
    };
    let prefix = format!("nongzi-test-typed:{}:", std::process::id());
    let (bus1, _) = node(&url, &prefix).await;
    let (bus2, _) = node(&url, &prefix).await;
    let mut on2 = bus2.subscribe();
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    for junk in [
        r#"{"topic":"order.updated","payload":{"order_id":1}}"#,
        "not json",
    ] {
        redis::cmd("PUBLISH")
            .arg(format!("{prefix}events"))
            .arg(junk)
            .query_async::<i64>(&mut raw)
            .await
            .unwrap();
    }
    let e = DomainEvent::OrderUpdated {
        order_id: 7,
        farmer_id: 8,
        dealer_id: 9,
        status: domain::orders::Status::Confirmed,
    };
    bus1.publish(e.clone()).await;
    let got = tokio::time::timeout(Duration::from_secs(5), on2.recv())
        .await
        .expect("the event arrives within 5 s")
        .unwrap();
    assert_eq!(got, e, "the first event delivered is the real one");
}
