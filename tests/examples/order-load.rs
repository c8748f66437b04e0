//! `order-load`: the ordering load benchmark (issue 5). It starts a Nongzi server in this process
//! on 127.0.0.1 (an ephemeral port) against a fresh database on the given PostgreSQL (or SQLite)
//! and Redis, loads the demo county, creates the farmers and stocks every dealer's offers, then
//! runs `--farmers` concurrent farmers over HTTP, each filling a realistic cart (2-4 lines from
//! one or two dealers) with `cartSet` and checking it out with `orderPlace`, until `--orders`
//! checkouts were tried or `--seconds` passed. It prints checkouts per second and the p50/p99
//! latency of `orderPlace`, hands a sample of the orders over (sales) and cancels another
//! (releases), and finally checks that stock adds up: per stock row, the on-hand decrease is
//! what was sold, the reserved quantity is what open orders hold, and nothing is negative.
//!
//! All traffic goes to 127.0.0.1. Run it on a release build:
//!
//! ```text
//! cargo run --release -p e2e --bin order-load -- \
//!     --database-url postgres://postgres@127.0.0.1:5432/test \
//!     --redis-url redis://127.0.0.1:6379 --farmers 32 --orders 2000 --seconds 120
//! ```
//!
//! The database URL names an existing database used only to create (and at the end drop) a
//! fresh `nongzi_bench_*` database beside it. With `--database-url sqlite` a temporary SQLite
//! file is used instead (and `--redis-url` may be left out).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use domain::accounts::{Actor, Role};
use domain::entities::{
    app_user, customer_order, lot, offer, order_allocation, order_line, product, sale, sale_line,
    stock,
};
use nongzi::{AppState, Config, Server};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    QueryFilter, Set,
};
use serde_json::{Value, json};

const SECRET: &[u8] = b"order-load-secret-order-load-secret!";

const PLACE: &str = "mutation($i: OrderPlaceInput!, $k: String!) { orderPlace(input: $i, idempotencyKey: $k) { orders { id status } replayed errors { code } } }";
const CART_SET: &str =
    "mutation($o: ID!, $q: Int!) { cartSet(offerId: $o, quantity: $q) { errors { code } } }";
const TRANSITION: &str = "mutation($o: ID!, $t: OrderStatus!, $r: String!) { orderTransition(orderId: $o, to: $t, reason: $r) { order { status } errors { code } } }";

struct Args {
    database_url: String,
    redis_url: Option<String>,
    farmers: usize,
    orders: usize,
    seconds: u64,
    db_connections: u32,
    hand_over: usize,
    cancel: usize,
    keep: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: order-load --database-url <postgres://.../db | sqlite> [--redis-url redis://127.0.0.1:6379]\n\
         \x20                 [--farmers 32] [--orders 2000] [--seconds 120] [--db-connections 16]\n\
         \x20                 [--hand-over 200] [--cancel 100] [--keep]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        database_url: std::env::var("DATABASE_URL").unwrap_or_default(),
        redis_url: std::env::var("REDIS_URL").ok().filter(|v| !v.is_empty()),
        farmers: 32,
        orders: 2000,
        seconds: 120,
        db_connections: 16,
        hand_over: 200,
        cancel: 100,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--database-url" => a.database_url = value(),
            "--redis-url" => a.redis_url = Some(value()),
            "--farmers" => a.farmers = value().parse().unwrap_or_else(|_| usage()),
            "--orders" => a.orders = value().parse().unwrap_or_else(|_| usage()),
            "--seconds" => a.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--db-connections" => a.db_connections = value().parse().unwrap_or_else(|_| usage()),
            "--hand-over" => a.hand_over = value().parse().unwrap_or_else(|_| usage()),
            "--cancel" => a.cancel = value().parse().unwrap_or_else(|_| usage()),
            "--keep" => a.keep = true,
            _ => usage(),
        }
    }
    if a.database_url.is_empty() || a.farmers == 0 || a.orders == 0 || a.seconds == 0 {
        usage();
    }
    a
}

/// Only addresses on this machine are ever used.
fn check_local(url: &str) -> anyhow::Result<()> {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|h| h.rsplit('@').next().unwrap_or(h))
        .map(|h| {
            h.trim_start_matches('[')
                .split([']', ':'])
                .next()
                .unwrap_or(h)
        })
        .unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost" | "::1") && !host.starts_with("127.") {
        bail!("{url}: only servers on 127.0.0.1 are used by this benchmark");
    }
    Ok(())
}

/// A fresh database: (its URL, how to drop it).
async fn fresh_database(a: &Args) -> anyhow::Result<(String, Option<(String, String)>)> {
    if a.database_url.starts_with("sqlite") {
        let path =
            std::env::temp_dir().join(format!("nongzi-bench-{}.db", uuid::Uuid::new_v4().simple()));
        return Ok((format!("sqlite://{}?mode=rwc", path.display()), None));
    }
    check_local(&a.database_url)?;
    let name = format!("nongzi_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&a.database_url)
        .await
        .context("connecting to PostgreSQL")?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    admin.close().await.ok();
    let base = a
        .database_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .context("the database URL names a database")?;
    Ok((
        format!("{base}/{name}"),
        Some((a.database_url.clone(), name)),
    ))
}

/// A tiny deterministic generator (xorshift), one per farmer.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn gid(kind: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

async fn gql(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    if !status.is_success() || !body["errors"].is_null() {
        bail!("HTTP {status}: {body}");
    }
    Ok(body["data"].clone())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[derive(Default)]
struct Outcome {
    place_latency: Vec<Duration>,
    cart_latency: Vec<Duration>,
    /// (order id, the farmer's index).
    placed: Vec<(i64, usize)>,
    refused: BTreeMap<String, usize>,
    failures: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args();
    if let Some(r) = &a.redis_url {
        check_local(r)?;
    }
    let (url, drop_after) = fresh_database(&a).await?;
    let result = run(&a, &url).await;
    if let Some((admin_url, name)) = drop_after {
        if a.keep {
            println!("kept database {name}");
        } else if let Ok(admin) = Database::connect(&admin_url).await {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
        && !a.keep
    {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    result
}

async fn run(a: &Args, url: &str) -> anyhow::Result<()> {
    let mut config = Config::for_database(url, a.redis_url.as_deref(), SECRET);
    if let Some(r) = &a.redis_url {
        config.redis_url = Some(r.clone());
        config.redis_prefix = format!("nongzi-bench:{}:", uuid::Uuid::new_v4().simple());
    }
    if !config.is_sqlite() {
        config.max_connections = a.db_connections;
    }
    let backend = format!(
        "{} + {}",
        if config.is_sqlite() {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        if config.redis_url.is_some() {
            "Redis"
        } else {
            "in-process bus"
        }
    );
    let state = AppState::connect(config).await?;
    let server = Server::start(state, "127.0.0.1:0".parse()?).await?;
    let db = server.state.db().clone();
    let endpoint = server.url("/graphql");
    println!("server on {} ({backend})", server.addr);

    // ------------------------------------------------------------ setup
    let t0 = Instant::now();
    nongzi::demo::load(&db).await?;
    let admin_user = app_user::Entity::find()
        .filter(app_user::Column::Role.eq("ADMIN"))
        .one(&db)
        .await?
        .context("the demo has an admin")?;
    let admin = Actor {
        station_id: None,
        assisted_by: None,
        user_id: admin_user.id,
        role: Role::Admin,
        dealer_id: None,
        dealer_role: None,
        county_ids: vec![],
    };
    let admin_token = server.state.services.keys.issue(&admin)?.0;
    let farmers = make_farmers(&db, a.farmers).await?;
    let tokens: Vec<String> = farmers
        .iter()
        .map(|f| server.state.services.keys.issue(f).map(|t| t.0))
        .collect::<Result<_, _>>()?;

    // Every dealer's offers of products anyone may buy (restricted-use pesticides need real-name
    // farmers, crops and fields, which is another story), stocked for the whole run.
    let restricted: BTreeSet<i64> = product::Entity::find()
        .filter(product::Column::RestrictedUse.eq(true))
        .all(&db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let skus_restricted: BTreeSet<i64> = domain::entities::sku::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .filter(|s| restricted.contains(&s.product_id))
        .map(|s| s.id)
        .collect();
    let offers: Vec<offer::Model> = offer::Entity::find()
        .filter(offer::Column::Active.eq(true))
        .all(&db)
        .await?
        .into_iter()
        .filter(|o| !skus_restricted.contains(&o.sku_id))
        .collect();
    let mut by_dealer: BTreeMap<i64, Vec<offer::Model>> = BTreeMap::new();
    for o in &offers {
        by_dealer.entry(o.dealer_id).or_default().push(o.clone());
    }
    let per_offer = (a.orders as i64 * 4 * 3 / offers.len().max(1) as i64 + 50).max(200);
    for o in &offers {
        let l = lot::Entity::find()
            .filter(lot::Column::SkuId.eq(o.sku_id))
            .one(&db)
            .await?
            .context("every offered pack has a demo lot")?;
        domain::stock::receive(
            &db,
            &admin,
            domain::stock::ReceiptInput {
                dealer_id: o.dealer_id,
                location_id: None,
                lot_id: l.id,
                quantity: per_offer,
                unit_cost_fen: o.price_fen * 85 / 100,
                supplier: domain::stock::Supplier {
                    name: "荆门市农业生产资料有限公司".into(),
                    licence_no: "(鄂)农资批发BENCH-0001".into(),
                    contact: "0724-2345678".into(),
                },
                source_document: format!("BENCH-{}-{}", o.dealer_id, o.sku_id),
                received_at: None,
            },
        )
        .await?;
    }
    // Dealer credit for everyone, so some carts can go on credit.
    for f in &farmers {
        for d in by_dealer.keys() {
            domain::orders::set_credit_limit(&db, &admin, *d, f.user_id, 100_000_000).await?;
        }
    }
    let before: BTreeMap<i64, stock::Model> = stock::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    println!(
        "setup: demo county, {} farmers, {} offers at {} dealers stocked with {per_offer} each ({:.1} s)",
        farmers.len(),
        offers.len(),
        by_dealer.len(),
        t0.elapsed().as_secs_f64()
    );

    // ------------------------------------------------------------ load
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(a.farmers * 2)
        .build()?;
    let tickets = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let dealers: Arc<Vec<(i64, Vec<offer::Model>)>> = Arc::new(by_dealer.into_iter().collect());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let (client, endpoint, token, tickets, dealers) = (
            client.clone(),
            endpoint.clone(),
            token.clone(),
            tickets.clone(),
            dealers.clone(),
        );
        let max = a.orders;
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((n as u64 + 1) * 0x1000_0001));
            let mut out = Outcome::default();
            loop {
                let ticket = tickets.fetch_add(1, Ordering::Relaxed);
                if ticket >= max || Instant::now() >= deadline {
                    break;
                }
                if let Err(e) = one_checkout(
                    &client, &endpoint, &token, n, &dealers, &mut rng, ticket, &mut out,
                )
                .await
                {
                    out.failures.push(e.to_string());
                }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for t in tasks {
        let o = t.await?;
        all.place_latency.extend(o.place_latency);
        all.cart_latency.extend(o.cart_latency);
        all.placed.extend(o.placed);
        for (k, v) in o.refused {
            *all.refused.entry(k).or_default() += v;
        }
        all.failures.extend(o.failures);
    }
    let wall = started.elapsed();
    all.place_latency.sort();
    all.cart_latency.sort();
    let checkouts = all.place_latency.len();
    let orders_placed: usize = all.placed.len();
    let requests = checkouts + all.cart_latency.len();
    println!();
    println!(
        "== load: {} farmers, {checkouts} checkouts in {:.1} s",
        a.farmers,
        wall.as_secs_f64()
    );
    println!(
        "checkouts/s: {:.1}   orders placed: {orders_placed} ({:.1} orders/s; a checkout over two dealers places two)",
        checkouts as f64 / wall.as_secs_f64(),
        orders_placed as f64 / wall.as_secs_f64()
    );
    println!(
        "orderPlace latency: p50 {}  p90 {}  p99 {}  max {}",
        ms(percentile(&all.place_latency, 0.50)),
        ms(percentile(&all.place_latency, 0.90)),
        ms(percentile(&all.place_latency, 0.99)),
        ms(percentile(&all.place_latency, 1.0)),
    );
    println!(
        "cartSet latency:    p50 {}  p99 {}   ({} calls)",
        ms(percentile(&all.cart_latency, 0.50)),
        ms(percentile(&all.cart_latency, 0.99)),
        all.cart_latency.len()
    );
    println!(
        "HTTP requests/s (cartSet + orderPlace): {:.1}",
        requests as f64 / wall.as_secs_f64()
    );
    println!("refused checkouts: {:?}", all.refused);
    if !all.failures.is_empty() {
        println!("FAILED requests: {}", all.failures.len());
        for f in all.failures.iter().take(5) {
            println!("  {f}");
        }
    }

    // ------------------------------------------------------------ hand-overs and cancellations
    let t1 = Instant::now();
    let mut handed = 0;
    let mut cancelled = 0;
    for (i, (order_id, farmer)) in all.placed.iter().enumerate() {
        if i < a.hand_over {
            let o = customer_order::Entity::find_by_id(*order_id)
                .one(&db)
                .await?
                .context("order")?;
            let via = if o.delivery_mode == domain::orders::DeliveryMode::Home {
                "OUT_FOR_DELIVERY"
            } else {
                "READY_FOR_PICKUP"
            };
            for to in ["CONFIRMED", via, "DELIVERED"] {
                let d = gql(
                    &client,
                    &endpoint,
                    &admin_token,
                    TRANSITION,
                    json!({ "o": gid("Order", *order_id), "t": to, "r": "" }),
                )
                .await?;
                if !d["orderTransition"]["errors"]
                    .as_array()
                    .is_some_and(Vec::is_empty)
                {
                    bail!("order {order_id} -> {to}: {d}");
                }
            }
            handed += 1;
        } else if i < a.hand_over + a.cancel {
            let d = gql(
                &client,
                &endpoint,
                &tokens[*farmer],
                TRANSITION,
                json!({ "o": gid("Order", *order_id), "t": "CANCELLED", "r": "" }),
            )
            .await?;
            if !d["orderTransition"]["errors"]
                .as_array()
                .is_some_and(Vec::is_empty)
            {
                bail!("cancel order {order_id}: {d}");
            }
            cancelled += 1;
        } else {
            break;
        }
    }
    println!(
        "handed over {handed} orders and cancelled {cancelled} ({:.1} s)",
        t1.elapsed().as_secs_f64()
    );

    // ------------------------------------------------------------ does stock add up?
    let ok = check_stock(&db, &before).await?;
    server.abort();
    if !ok || !all.failures.is_empty() {
        bail!("the benchmark found a problem (see above)");
    }
    Ok(())
}

/// One farmer's checkout: a cart of 2-4 lines from one or two dealers, then `orderPlace`.
#[allow(clippy::too_many_arguments)]
async fn one_checkout(
    client: &reqwest::Client,
    endpoint: &str,
    token: &str,
    farmer: usize,
    dealers: &[(i64, Vec<offer::Model>)],
    rng: &mut Rng,
    ticket: usize,
    out: &mut Outcome,
) -> anyhow::Result<()> {
    let lines = 2 + rng.below(3);
    let first = rng.below(dealers.len());
    let two = rng.below(3) == 0 && dealers.len() > 1;
    let second = if two {
        (first + 1 + rng.below(dealers.len() - 1)) % dealers.len()
    } else {
        first
    };
    let mut chosen: BTreeSet<i64> = BTreeSet::new();
    for l in 0..lines {
        let (_, offers) = &dealers[if l % 2 == 1 { second } else { first }];
        chosen.insert(offers[rng.below(offers.len())].id);
    }
    for o in &chosen {
        let q = 1 + rng.below(3) as i64;
        let t = Instant::now();
        let d = gql(
            client,
            endpoint,
            token,
            CART_SET,
            json!({ "o": gid("Offer", *o), "q": q }),
        )
        .await?;
        out.cart_latency.push(t.elapsed());
        if !d["cartSet"]["errors"].as_array().is_some_and(Vec::is_empty) {
            bail!("cartSet: {d}");
        }
    }
    let payment = match rng.below(10) {
        0..=6 => "CASH_ON_DELIVERY",
        7 | 8 => "ONLINE",
        _ => "DEALER_CREDIT",
    };
    let options = if rng.below(5) == 0 {
        json!({ "deliveryMode": "HOME", "address": "沙洋县港口村三组 12 号", "paymentMethod": payment })
    } else {
        json!({ "deliveryMode": "PICKUP", "paymentMethod": payment })
    };
    let t = Instant::now();
    let d = gql(
        client,
        endpoint,
        token,
        PLACE,
        json!({ "i": { "default": options }, "k": format!("bench-{ticket}") }),
    )
    .await?;
    out.place_latency.push(t.elapsed());
    let p = &d["orderPlace"];
    match p["errors"].as_array() {
        Some(e) if e.is_empty() => {
            for o in p["orders"].as_array().into_iter().flatten() {
                out.placed
                    .push((raw(o["id"].as_str().unwrap_or_default()), farmer));
            }
        }
        Some(e) => {
            let code = e
                .first()
                .and_then(|x| x["code"].as_str())
                .unwrap_or("?")
                .to_owned();
            *out.refused.entry(code).or_default() += 1;
            // Leave the cart empty for the next round.
            for o in &chosen {
                gql(
                    client,
                    endpoint,
                    token,
                    CART_SET,
                    json!({ "o": gid("Offer", *o), "q": 0 }),
                )
                .await?;
            }
        }
        None => bail!("orderPlace: {d}"),
    }
    Ok(())
}

/// The database id inside a global ID.
fn raw(gid: &str) -> i64 {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(gid)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').and_then(|(_, n)| n.parse().ok()))
        .unwrap_or(0)
}

/// `n` farmers: one created normally (password hashed), the rest sharing its hash (fast).
async fn make_farmers(db: &DatabaseConnection, n: usize) -> anyhow::Result<Vec<Actor>> {
    let first = domain::accounts::insert_user(
        db,
        domain::accounts::NewUser {
            phone: "13700000000".into(),
            password: "bench-farmer-2026".into(),
            display_name: "压测农户 0".into(),
            role: Role::Farmer,
            dealer_id: None,
            dealer_role: None,
            county_ids: vec![],
            village_id: None,
            station_id: None,
        },
    )
    .await?;
    let mut ids = vec![first.id];
    for i in 1..n {
        let u = app_user::ActiveModel {
            phone: Set(format!("137{i:08}")),
            password_hash: Set(first.password_hash.clone()),
            role: Set(domain::accounts::Role::Farmer),
            display_name: Set(format!("压测农户 {i}")),
            dealer_id: Set(None),
            dealer_role: Set(None),
            county_id: Set(None),
            village_id: Set(None),
            real_name: Set(None),
            id_number: Set(None),
            verified_at: Set(None),
            disabled: Set(false),
            created_at: Set(domain::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        ids.push(u.id);
    }
    Ok(ids
        .into_iter()
        .map(|user_id| Actor {
            station_id: None,
            assisted_by: None,
            user_id,
            role: Role::Farmer,
            dealer_id: None,
            dealer_role: None,
            county_ids: vec![],
        })
        .collect())
}

/// Per stock row: on hand fell by exactly what was sold, reserved is exactly what open orders
/// hold, and nothing is negative; per order: its allocations cover its lines.
async fn check_stock(
    db: &DatabaseConnection,
    before: &BTreeMap<i64, stock::Model>,
) -> anyhow::Result<bool> {
    let mut ok = true;
    let allocs = order_allocation::Entity::find().all(db).await?;
    let mut sold: BTreeMap<i64, i64> = BTreeMap::new();
    let mut reserved: BTreeMap<i64, i64> = BTreeMap::new();
    for a in &allocs {
        match a.status.as_str() {
            "SOLD" => *sold.entry(a.stock_id).or_default() += a.quantity,
            "RESERVED" => *reserved.entry(a.stock_id).or_default() += a.quantity,
            _ => {}
        }
    }
    let after = stock::Entity::find().all(db).await?;
    let (mut total_sold, mut total_reserved, mut total_decrease) = (0, 0, 0);
    for s in &after {
        let b = before.get(&s.id);
        let decrease = b.map_or(0, |b| b.on_hand) - s.on_hand;
        let reserved_now = s.reserved - b.map_or(0, |b| b.reserved);
        let (want_sold, want_reserved) = (
            sold.get(&s.id).copied().unwrap_or(0),
            reserved.get(&s.id).copied().unwrap_or(0),
        );
        total_sold += want_sold;
        total_reserved += want_reserved;
        total_decrease += decrease;
        if s.on_hand < 0 || s.reserved < 0 || s.reserved > s.on_hand {
            println!("NEGATIVE or over-reserved stock row {s:?}");
            ok = false;
        }
        if decrease != want_sold || reserved_now != want_reserved {
            println!(
                "stock row {} does not add up: on hand fell by {decrease}, sold {want_sold}; reserved {reserved_now}, held by orders {want_reserved}",
                s.id
            );
            ok = false;
        }
    }
    // Every open order's lines are covered by its reservations, every delivered one's by sales.
    let lines = order_line::Entity::find().all(db).await?;
    let orders: BTreeMap<i64, customer_order::Model> = customer_order::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut by_line: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for a in &allocs {
        let e = by_line.entry(a.order_line_id).or_default();
        match a.status.as_str() {
            "RESERVED" => e.0 += a.quantity,
            "SOLD" => e.1 += a.quantity,
            _ => {}
        }
    }
    for l in &lines {
        let o = &orders[&l.order_id];
        let (r, s) = by_line.get(&l.id).copied().unwrap_or((0, 0));
        let want = match o.status.as_str() {
            "PLACED" | "CONFIRMED" | "READY_FOR_PICKUP" | "OUT_FOR_DELIVERY" => (l.quantity, 0),
            "DELIVERED" | "COMPLETED" => (0, l.quantity),
            _ => (0, 0),
        };
        if (r, s) != want {
            println!(
                "order {} ({}) line {}: reserved {r}, sold {s}, expected {want:?}",
                o.id, o.status, l.id
            );
            ok = false;
        }
    }
    // The sales ledger of order hand-overs has exactly the sold units.
    let order_sales: Vec<i64> = sale::Entity::find()
        .filter(sale::Column::Channel.eq("ORDER"))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let sale_units: i64 = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.is_in(order_sales))
        .all(db)
        .await?
        .iter()
        .map(|l| l.quantity)
        .sum();
    if sale_units != total_sold {
        println!("sale lines hold {sale_units} units, allocations sold {total_sold}");
        ok = false;
    }
    println!(
        "stock check: {} rows; on hand fell by {total_decrease} = {total_sold} sold; {total_reserved} reserved by open orders; {}",
        after.len(),
        if ok {
            "stock adds up, nothing negative"
        } else {
            "MISMATCH"
        }
    );
    Ok(ok)
}
