//! `csv-import`: how fast the two CSV imports are (issue 14): a dealer's receipt file
//! (`stock::receive_csv`) and a lab's soil-test file (`agronomy::import_soil_csv`). For each
//! row count it generates a file whose last row is bad and times the reject (nothing written),
//! then an all-good file and times the import (everything written), and prints rows per second
//! and the SQL statements each took.
//!
//! The imports are called the way the GraphQL and HTTP endpoints call them, on the database of a
//! Nongzi server started in this process against a fresh database with the demo county loaded:
//! a temporary SQLite file, or with `DATABASE_URL` (or `--database-url`) set to a PostgreSQL
//! database on 127.0.0.1, a fresh `nongzi_bench_*` database beside it (dropped at the end).
//!
//! ```text
//! cargo run --release -p e2e --example csv-import -- --rows 10000,100000
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p e2e --example csv-import -- --rows 10000,100000
//! ```

use std::time::Instant;

use anyhow::{Context, bail};
use domain::accounts::{Actor, Role};
use domain::entities::{app_user, field, region, sku};
use domain::stock::CsvPolicy;
use nongzi::{AppState, Config, Server};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter};

const SECRET: &[u8] = b"csv-import-secret-csv-import-secret!";

struct Args {
    database_url: String,
    rows: Vec<usize>,
    only: Option<String>,
    skip_good: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: csv-import [--database-url <postgres://127.0.0.1/... | sqlite>] [--rows 10000,100000]\n\
         \x20                 [--only receipts|soil] [--reject-only]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        database_url: std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "sqlite".into()),
        rows: vec![10_000, 100_000],
        only: None,
        skip_good: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--database-url" => a.database_url = value(),
            "--rows" => {
                a.rows = value()
                    .split(',')
                    .map(|n| n.trim().parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--only" => a.only = Some(value()),
            "--reject-only" => a.skip_good = true,
            _ => usage(),
        }
    }
    if a.rows.is_empty() || a.rows.contains(&0) {
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args();
    let (url, drop_after) = if a.database_url.starts_with("sqlite") {
        let path = std::env::temp_dir().join(format!(
            "nongzi-csv-bench-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        (format!("sqlite://{}?mode=rwc", path.display()), None)
    } else {
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
        (
            format!("{base}/{name}"),
            Some((a.database_url.clone(), name)),
        )
    };
    let result = run(&a, &url).await;
    if let Some((admin_url, name)) = drop_after {
        if let Ok(admin) = Database::connect(&admin_url).await {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
    {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    result
}

const RECEIPT_HEADER: &str = "gtin,lot_no,produced_on,expires_on,quantity,unit_cost,supplier_name,supplier_licence_no,supplier_contact,source_document";
const SOIL_HEADER: &str = "farmer_phone,field_name,sampled_on,depth_cm,lab,lab_sample_id,ph,organic_matter_g_kg,alkali_n_mg_kg,olsen_p_mg_kg,available_k_mg_kg";

/// A receipt file of `n` rows over the given packs, each row a new lot; with `bad_last` the last
/// row's quantity is not a number.
fn receipt_file(n: usize, gtins: &[String], tag: &str, bad_last: bool) -> String {
    let today = domain::today();
    let produced = today - chrono::Duration::days(20);
    let expires = today + chrono::Duration::days(700);
    let mut s = String::with_capacity(n * 160);
    s.push_str(RECEIPT_HEADER);
    s.push('\n');
    for i in 0..n {
        let qty = if bad_last && i + 1 == n {
            "十二".to_owned()
        } else {
            format!("{}", 1 + i % 50)
        };
        s.push_str(&format!(
            "{},{tag}{i:07},{produced},{expires},{qty},85.50,荆门市农业生产资料有限公司,(鄂)农资批发BENCH-0001,0724-2345678,RK-{tag}-{i}\n",
            gtins[i % gtins.len()]
        ));
    }
    s
}

/// A lab file of `n` samples over the given (phone, field name) pairs; with `bad_last` the last
/// row's pH is not a number.
fn soil_file(n: usize, fields: &[(String, String)], tag: &str, bad_last: bool) -> String {
    let sampled = domain::today() - chrono::Duration::days(10);
    let mut s = String::with_capacity(n * 100);
    s.push_str(SOIL_HEADER);
    s.push('\n');
    for i in 0..n {
        let ph = if bad_last && i + 1 == n {
            "五点八".to_owned()
        } else {
            format!("{:.1}", 5.0 + (i % 20) as f64 / 10.0)
        };
        let (phone, name) = &fields[i % fields.len()];
        s.push_str(&format!(
            "{phone},{name},{sampled},0-20,县土肥站,{tag}-{i:07},{ph},20.5,110,10.5,90\n"
        ));
    }
    s
}

fn report(what: &str, rows: usize, secs: f64, statements: u64, summary: String) {
    println!(
        "{what:<28} {rows:>7} rows  {secs:>9.2} s  {:>10.0} rows/s  {statements:>8} SQL statements  {summary}",
        rows as f64 / secs
    );
}

async fn run(a: &Args, url: &str) -> anyhow::Result<()> {
    let config = Config::for_database(url, None, SECRET);
    let backend = if config.is_sqlite() {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let state = AppState::connect(config).await?;
    let server = Server::start(state, "127.0.0.1:0".parse()?).await?;
    let db = server.state.db().clone();
    let statements = || server.state.statements.get();
    println!(
        "{backend}, {}",
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    );
    nongzi::demo::load(&db).await?;
    let admin_user = app_user::Entity::find()
        .filter(app_user::Column::Role.eq("ADMIN"))
        .one(&db)
        .await?
        .context("the demo has an admin")?;
    let owner = app_user::Entity::find()
        .filter(app_user::Column::Role.eq("DEALER"))
        .filter(app_user::Column::DealerId.is_not_null())
        .one(&db)
        .await?
        .context("the demo has a dealer")?;
    let dealer_id = owner.dealer_id.context("a dealer user has a dealer")?;
    let dealer = Actor {
        user_id: owner.id,
        role: Role::Dealer,
        dealer_id: Some(dealer_id),
        dealer_role: Some(domain::accounts::DealerRole::Owner),
        county_ids: vec![],
        station_id: None,
        assisted_by: None,
    };
    let counties: Vec<i64> = region::Entity::find()
        .filter(region::Column::Level.eq("COUNTY"))
        .all(&db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let agronomist_user = app_user::Entity::find()
        .filter(app_user::Column::Role.eq("AGRONOMIST"))
        .one(&db)
        .await?
        .unwrap_or(admin_user);
    let agronomist = Actor {
        user_id: agronomist_user.id,
        role: Role::Agronomist,
        dealer_id: None,
        dealer_role: None,
        county_ids: counties,
        station_id: None,
        assisted_by: None,
    };
    let gtins: Vec<String> = sku::Entity::find()
        .filter(sku::Column::Gtin.is_not_null())
        .all(&db)
        .await?
        .into_iter()
        .filter_map(|s| s.gtin)
        .take(20)
        .collect();
    let mut fields = vec![];
    for f in field::Entity::find().all(&db).await? {
        if let Some(u) = app_user::Entity::find_by_id(f.farmer_id).one(&db).await? {
            fields.push((u.phone, f.name));
        }
    }
    if gtins.is_empty() || fields.is_empty() {
        bail!("the demo has packs with barcodes and fields");
    }
    println!(
        "receipts over {} packs of dealer {dealer_id}; soil tests over {} fields",
        gtins.len(),
        fields.len()
    );
    for (k, &n) in a.rows.iter().enumerate() {
        if a.only.as_deref() != Some("soil") {
            let file = receipt_file(n, &gtins, &format!("B{k}R"), true);
            let (s0, t) = (statements(), Instant::now());
            let (o, _) =
                domain::stock::receive_csv(&db, &dealer, dealer_id, &file, CsvPolicy::RejectAll)
                    .await?;
            let secs = t.elapsed().as_secs_f64();
            let e = o.errors.first().context("the bad last row is reported")?;
            if o.committed || o.errors.len() != 1 || e.line != n + 1 {
                bail!("expected one error on line {}: {:?}", n + 1, o.errors);
            }
            report(
                "receipts: reject bad last",
                n,
                secs,
                statements() - s0,
                format!("line {} column {:?} {:?}", e.line, e.column, e.code),
            );
            if !a.skip_good {
                let file = receipt_file(n, &gtins, &format!("G{k}R"), false);
                let (s0, t) = (statements(), Instant::now());
                let (o, _) = domain::stock::receive_csv(
                    &db,
                    &dealer,
                    dealer_id,
                    &file,
                    CsvPolicy::RejectAll,
                )
                .await?;
                let secs = t.elapsed().as_secs_f64();
                if !o.committed || o.received.len() != n || !o.errors.is_empty() {
                    bail!(
                        "expected {n} receipts: {:?}",
                        &o.errors[..o.errors.len().min(3)]
                    );
                }
                report(
                    "receipts: import all good",
                    n,
                    secs,
                    statements() - s0,
                    format!("{} lots created", o.lots_created),
                );
            }
        }
        if a.only.as_deref() != Some("receipts") {
            let file = soil_file(n, &fields, &format!("B{k}S"), true);
            let (s0, t) = (statements(), Instant::now());
            let o =
                domain::agronomy::import_soil_csv(&db, &agronomist, &file, CsvPolicy::RejectAll)
                    .await?;
            let secs = t.elapsed().as_secs_f64();
            let e = o.errors.first().context("the bad last row is reported")?;
            if o.committed || o.errors.len() != 1 || e.line != n + 1 {
                bail!("expected one error on line {}: {:?}", n + 1, o.errors);
            }
            report(
                "soil tests: reject bad last",
                n,
                secs,
                statements() - s0,
                format!("line {} column {:?} {:?}", e.line, e.column, e.code),
            );
            if !a.skip_good {
                let file = soil_file(n, &fields, &format!("G{k}S"), false);
                let (s0, t) = (statements(), Instant::now());
                let o = domain::agronomy::import_soil_csv(
                    &db,
                    &agronomist,
                    &file,
                    CsvPolicy::RejectAll,
                )
                .await?;
                let secs = t.elapsed().as_secs_f64();
                if !o.committed || o.imported.len() != n || !o.errors.is_empty() {
                    bail!(
                        "expected {n} soil tests: {:?}",
                        &o.errors[..o.errors.len().min(3)]
                    );
                }
                report(
                    "soil tests: import all good",
                    n,
                    secs,
                    statements() - s0,
                    String::new(),
                );
            }
        }
    }
    server.abort();
    Ok(())
}
