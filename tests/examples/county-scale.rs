//! `county-scale`: a county with years of data, and how fast the bureau's pages are on it
//! (issue 13). It starts a Nongzi server in this process on 127.0.0.1 against a fresh database
//! (SQLite file, or a fresh `nongzi_bench_*` database on the given PostgreSQL), loads the demo
//! catalog and county, then generates a second county, 规模测试县: `--townships` townships of
//! `--villages` villages each, `--dealers` dealers with licences (some expiring within 90
//! days), `--farmers` farmers with 1-2 fields each, `--soil-tests` soil tests over those fields,
//! published recommendations for a third of the fields, and `--sale-lines` sale lines in sales
//! of 1-4 lines over the last three years (a fifth of them anonymous counter sales), drawn from
//! the demo's lots at the demo's prices. Then, signed in as the new county's regulator, it
//! requests every statistics page, CSV, signal list and open-data export `--requests` times one
//! after another and prints p50 and p99 of each.
//!
//! ```text
//! cargo run --release -p e2e --example county-scale -- --database-url sqlite
//! cargo run --release -p e2e --example county-scale -- \
//!     --database-url postgres://postgres@127.0.0.1:5432/test
//! ```
//!
//! `--keep` keeps the database (its URL is printed) so `nongzi serve` can be pointed at it:
//! the regulator of the generated county signs in as 13900000002 / scale-regulator-2026.
//! Everything is deterministic for a given `--seed`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use domain::accounts::{NewUser, Role};
use domain::entities::{
    app_user, crop_plan, field, lot, offer, recommendation, region, sale, sale_line, sku, soil_test,
};
use domain::regions::{NewDealer, NewLicence, NewRegion};
use domain::types::{Level, LicenceKind, Method, RecommendationStatus, SaleChannel};
use nongzi::{AppState, Config, Server};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

const SECRET: &[u8] = b"county-scale-secret-county-scale-secret!";
const REGULATOR: (&str, &str) = ("13900000002", "scale-regulator-2026");

struct Args {
    database_url: String,
    townships: usize,
    villages: usize,
    dealers: usize,
    farmers: usize,
    soil_tests: usize,
    sale_lines: usize,
    requests: usize,
    seed: u64,
    keep: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: county-scale --database-url <postgres://127.0.0.1/db | sqlite>\n\
         \x20                   [--townships 15] [--villages 20] [--dealers 40] [--farmers 50000]\n\
         \x20                   [--soil-tests 200000] [--sale-lines 1000000] [--requests 20]\n\
         \x20                   [--seed 1] [--keep]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        database_url: std::env::var("DATABASE_URL").unwrap_or_default(),
        townships: 15,
        villages: 20,
        dealers: 40,
        farmers: 50_000,
        soil_tests: 200_000,
        sale_lines: 1_000_000,
        requests: 20,
        seed: 1,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = || {
            it.next()
                .and_then(|v| v.replace('_', "").parse::<usize>().ok())
                .unwrap_or_else(|| usage())
        };
        match flag.as_str() {
            "--database-url" => a.database_url = it.next().unwrap_or_else(|| usage()),
            "--townships" => a.townships = num(),
            "--villages" => a.villages = num(),
            "--dealers" => a.dealers = num(),
            "--farmers" => a.farmers = num(),
            "--soil-tests" => a.soil_tests = num(),
            "--sale-lines" => a.sale_lines = num(),
            "--requests" => a.requests = num(),
            "--seed" => a.seed = num() as u64,
            "--keep" => a.keep = true,
            _ => usage(),
        }
    }
    if a.database_url.is_empty() || a.townships == 0 || a.villages == 0 || a.dealers < 3 {
        usage();
    }
    a
}

/// Only servers on this machine are used.
fn check_local(url: &str) -> anyhow::Result<()> {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|h| h.rsplit('@').next().unwrap_or(h))
        .map(|h| h.split(':').next().unwrap_or(h))
        .unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost") {
        bail!("{url}: only servers on 127.0.0.1 are used by this benchmark");
    }
    Ok(())
}

/// A fresh database: its URL, and what to drop afterwards (PostgreSQL) or delete (SQLite).
async fn fresh_database(a: &Args) -> anyhow::Result<(String, Option<(String, String)>)> {
    if a.database_url.starts_with("sqlite") {
        let path =
            std::env::temp_dir().join(format!("nongzi-scale-{}.db", uuid::Uuid::new_v4().simple()));
        return Ok((format!("sqlite://{}?mode=rwc", path.display()), None));
    }
    check_local(&a.database_url)?;
    let name = format!("nongzi_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&a.database_url).await?;
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

/// xorshift: deterministic for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() % 1_000_000) as f64 / 1_000_000.0 * (hi - lo)
    }
}

/// Rows per INSERT: under SQLite's 32 766 bound parameters for the widest table written here.
const BATCH: usize = 1000;

async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> anyhow::Result<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The largest id of a table, after a bulk insert (ids are given by the database).
async fn max_id<E: EntityTrait>(db: &impl ConnectionTrait, col: E::Column) -> anyhow::Result<i64>
where
    E::Column: ColumnTrait,
{
    use sea_orm::QuerySelect;
    let v: Option<Option<i64>> = E::find()
        .select_only()
        .column_as(col.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok(v.flatten().unwrap_or(0))
}

struct Generated {
    county_id: i64,
    dealer_id: i64,
    counts: Vec<(&'static str, usize, Duration)>,
}

async fn generate(db: &DatabaseConnection, a: &Args) -> anyhow::Result<Generated> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ a.seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut counts = vec![];
    let now = Utc::now();
    let today = now.date_naive();

    // Regions: the county under the demo's province, its townships and villages.
    let t = Instant::now();
    let province = region::Entity::find()
        .filter(region::Column::Level.eq(Level::Province))
        .one(db)
        .await?
        .map(|r| r.id);
    let county = domain::regions::insert_region(
        db,
        NewRegion {
            level: Level::County,
            parent_id: province,
            code: None,
            name_zh: "规模测试县".into(),
            name_en: "Scale Test County".into(),
        },
    )
    .await?;
    let mut villages: Vec<(i64, i64)> = vec![]; // (village, township)
    let mut townships = vec![];
    for ti in 0..a.townships {
        let town = domain::regions::insert_region(
            db,
            NewRegion {
                level: Level::Township,
                parent_id: Some(county.id),
                code: None,
                name_zh: format!("测试{}镇", ti + 1),
                name_en: format!("Test Town {}", ti + 1),
            },
        )
        .await?;
        townships.push(town.id);
        for vi in 0..a.villages {
            let v = domain::regions::insert_region(
                db,
                NewRegion {
                    level: Level::Village,
                    parent_id: Some(town.id),
                    code: None,
                    name_zh: format!("测试{}镇{}村", ti + 1, vi + 1),
                    name_en: format!("Test Town {} village {}", ti + 1, vi + 1),
                },
            )
            .await?;
            villages.push((v.id, town.id));
        }
    }
    counts.push(("villages", villages.len(), t.elapsed()));

    // Dealers: one in the county seat, the rest spread over the townships; all three licences,
    // a fifth of them expiring within 90 days, and an owner account each.
    let t = Instant::now();
    let mut dealers: Vec<(i64, i64, i64)> = vec![]; // (dealer, store location, owner user)
    for di in 0..a.dealers {
        let region_id = if di == 0 {
            county.id
        } else {
            townships[di % townships.len()]
        };
        let valid_to = if di % 5 == 1 {
            today + chrono::Duration::days(10 + (di as i64 * 7) % 80)
        } else {
            today + chrono::Duration::days(400 + di as i64)
        };
        let licences = [
            LicenceKind::PesticideBusiness,
            LicenceKind::RestrictedPesticide,
            LicenceKind::SeedBusiness,
        ]
        .into_iter()
        .map(|kind| NewLicence {
            kind,
            number: format!("SCALE-{kind:?}-{di:04}"),
            issuer: "规模测试县农业农村局".into(),
            valid_from: today - chrono::Duration::days(1200),
            valid_to,
        })
        .collect();
        let d = domain::regions::insert_dealer(
            db,
            NewDealer {
                name_zh: format!("测试农资店{:02}", di + 1),
                name_en: format!("Test Inputs {:02}", di + 1),
                address: format!("测试县第{}街", di + 1),
                region_id,
                phone: format!("1390001{:04}", di),
                licences,
                service_area: vec![],
            },
        )
        .await?;
        let loc = domain::regions::store_location(db, d.id).await?;
        let owner = domain::accounts::insert_user(
            db,
            NewUser {
                phone: format!("1390002{:04}", di),
                password: "scale-dealer-2026".into(),
                display_name: format!("店主{:02}", di + 1),
                role: Role::Dealer,
                dealer_id: Some(d.id),
                dealer_role: Some(domain::types::DealerRole::Owner),
                county_ids: vec![],
                village_id: None,
                station_id: None,
            },
        )
        .await?;
        dealers.push((d.id, loc.id, owner.id));
    }
    let staff = |role: Role, phone: &str, password: &str, name: &str| NewUser {
        phone: phone.into(),
        password: password.into(),
        display_name: name.into(),
        role,
        dealer_id: None,
        dealer_role: None,
        county_ids: vec![county.id],
        village_id: None,
        station_id: None,
    };
    let regulator = domain::accounts::insert_user(
        db,
        staff(
            Role::Regulator,
            REGULATOR.0,
            REGULATOR.1,
            "规模测试县监管员",
        ),
    )
    .await?;
    // The county publishes its open datasets (the public URLs answer 404 until it does).
    let officer = domain::accounts::actor_for(db, &regulator).await?;
    for d in domain::bureau::open_data::Dataset::ALL {
        domain::bureau::open_data::set_published(db, &officer, None, d, true).await?;
    }
    let agronomist = domain::accounts::insert_user(
        db,
        staff(
            Role::Agronomist,
            "13900000003",
            "scale-agronomist-2026",
            "规模测试县农技员",
        ),
    )
    .await?;
    counts.push(("dealers", dealers.len(), t.elapsed()));

    // Farmers: one password hash for all (hashing 50 000 passwords would measure argon2).
    let t = Instant::now();
    let first = domain::accounts::register_farmer(
        db,
        "13900100000",
        "scale-farmer-2026",
        "测试农户0",
        Some(villages[0].0),
    )
    .await?;
    let hash = first.password_hash.clone();
    let first_id = first.id;
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    let rows: Vec<app_user::ActiveModel> = (1..a.farmers)
        .map(|i| app_user::ActiveModel {
            id: Set(first_id + i as i64),
            phone: Set(format!("139{:08}", 100_000 + i)),
            password_hash: Set(hash.clone()),
            role: Set(Role::Farmer),
            display_name: Set(format!("{}测试{i}", surnames[i % surnames.len()])),
            dealer_id: Set(None),
            dealer_role: Set(None),
            county_id: Set(None),
            village_id: Set(Some(villages[i % villages.len()].0)),
            real_name: Set(None),
            id_number: Set(None),
            verified_at: Set(None),
            disabled: Set(false),
            created_at: Set(now),
            station_id: Set(None),
        })
        .collect();
    let txn = db.begin().await?;
    insert_all(&txn, rows).await?;
    txn.commit().await?;
    // Farmer i has the id first_id + i (given explicitly; the sequences are moved on below).
    let farmer_id = |i: usize| first_id + i as i64;
    let farmer_village = |i: usize| villages[i % villages.len()].0;
    counts.push(("farmers", a.farmers, t.elapsed()));

    // Fields: 1-2 per farmer, in the farmer's village.
    let t = Instant::now();
    let soils = ["水稻土", "潮土", "黄棕壤", "红壤"];
    let first_field = max_id::<field::Entity>(db, field::Column::Id).await? + 1;
    let mut field_rows = vec![];
    for i in 0..a.farmers {
        for k in 0..(1 + rng.below(2)) {
            field_rows.push(field::ActiveModel {
                id: Set(first_field + field_rows.len() as i64),
                farmer_id: Set(farmer_id(i)),
                name: Set(format!("地块{}", k + 1)),
                area_mu: Set((rng.range(1.0, 15.0) * 10.0).round() / 10.0),
                village_id: Set(farmer_village(i)),
                soil_type: Set(soils[rng.below(soils.len())].into()),
                irrigation: Set(if rng.below(2) == 0 {
                    "IRRIGATED"
                } else {
                    "RAINFED"
                }
                .into()),
                lat: Set(None),
                lon: Set(None),
                created_at: Set(now),
            });
        }
    }
    let fields = field_rows.len();
    let txn = db.begin().await?;
    insert_all(&txn, field_rows).await?;
    txn.commit().await?;
    counts.push(("fields", fields, t.elapsed()));

    // Soil tests: over the fields, sampled in the last five years.
    let t = Instant::now();
    let labs = ["县土肥站化验室", "市农科院测试中心"];
    let first_test = max_id::<soil_test::Entity>(db, soil_test::Column::Id).await? + 1;
    let rows: Vec<soil_test::ActiveModel> = (0..a.soil_tests)
        .map(|i| soil_test::ActiveModel {
            id: Set(first_test + i as i64),
            field_id: Set(first_field + (i % fields) as i64),
            sampled_on: Set(today - chrono::Duration::days(rng.below(5 * 365) as i64)),
            depth_from_cm: Set(0),
            depth_to_cm: Set(20),
            lab: Set(labs[i % 2].into()),
            lab_sample_id: Set(format!("S{i:07}")),
            ph: Set((rng.range(4.5, 8.5) * 10.0).round() / 10.0),
            buffer_ph: Set(None),
            organic_matter_g_kg: Set((rng.range(8.0, 40.0) * 10.0).round() / 10.0),
            alkali_n_mg_kg: Set(rng.range(40.0, 220.0).round()),
            olsen_p_mg_kg: Set(Some((rng.range(3.0, 60.0) * 10.0).round() / 10.0)),
            mehlich3_p_mg_kg: Set(None),
            available_k_mg_kg: Set(rng.range(30.0, 250.0).round()),
            cec_cmol_kg: Set(None),
            ca_mg_kg: Set(None),
            mg_mg_kg: Set(None),
            s_mg_kg: Set(None),
            zn_mg_kg: Set(None),
            b_mg_kg: Set(None),
            entered_by: Set(agronomist.id),
            created_at: Set(now),
        })
        .collect();
    let txn = db.begin().await?;
    insert_all(&txn, rows).await?;
    txn.commit().await?;
    counts.push(("soil tests", a.soil_tests, t.elapsed()));

    // A crop plan and a published recommendation for a third of the tested fields.
    let t = Instant::now();
    let with_advice: Vec<usize> = (0..fields.min(a.soil_tests)).step_by(3).collect();
    let crops = ["rice", "wheat", "rapeseed", "maize"];
    let first_plan = max_id::<crop_plan::Entity>(db, crop_plan::Column::Id).await? + 1;
    let plans: Vec<crop_plan::ActiveModel> = with_advice
        .iter()
        .enumerate()
        .map(|(k, &f)| crop_plan::ActiveModel {
            id: Set(first_plan + k as i64),
            field_id: Set(first_field + f as i64),
            crop: Set(crops[f % crops.len()].into()),
            season: Set("2026".into()),
            target_yield_kg_per_mu: Set(Some(500.0)),
            past_yields_kg_per_mu: Set(None),
            no_fertiliser_yield_kg_per_mu: Set(None),
            previous_crop: Set(String::new()),
            straw_returned: Set(false),
            created_by: Set(agronomist.id),
            created_at: Set(now),
        })
        .collect();
    let txn = db.begin().await?;
    insert_all(&txn, plans).await?;
    let recs: Vec<recommendation::ActiveModel> = with_advice
        .iter()
        .enumerate()
        .map(|(k, &f)| {
            let n = (rng.range(8.0, 16.0) * 2.0).round() / 2.0;
            recommendation::ActiveModel {
                field_id: Set(first_field + f as i64),
                crop_plan_id: Set(first_plan + k as i64),
                // Test i lies on field i % fields: the field's first test.
                soil_test_id: Set(first_test + f as i64),
                version: Set(1),
                status: Set(RecommendationStatus::Published),
                method: Set(Method::NutrientBalance),
                parameters: Set(serde_json::json!({})),
                result: Set(serde_json::json!({})),
                basket: Set(serde_json::json!([])),
                n_kg_per_mu: Set(n),
                p2o5_kg_per_mu: Set((n * 0.45 * 2.0).round() / 2.0),
                k2o_kg_per_mu: Set((n * 0.5 * 2.0).round() / 2.0),
                notes_zh: Set(String::new()),
                notes_en: Set(String::new()),
                reject_reason: Set(None),
                agronomist_id: Set(Some(agronomist.id)),
                signed_at: Set(Some(now)),
                signature: Set(None),
                supersedes_id: Set(None),
                approved_by: Set(None),
                approved_at: Set(None),
                created_by: Set(agronomist.id),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    insert_all(&txn, recs).await?;
    txn.commit().await?;
    counts.push(("published recommendations", with_advice.len(), t.elapsed()));

    // Sales: 1-4 lines each, from the demo's lots at the demo's prices, over three years.
    let t = Instant::now();
    let lots = lot::Entity::find().all(db).await?;
    let offers = offer::Entity::find().all(db).await?;
    let mut price: BTreeMap<i64, i64> = BTreeMap::new();
    for o in &offers {
        price.entry(o.sku_id).or_insert(o.price_fen);
    }
    let skus: BTreeMap<i64, sku::Model> = sku::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let lots: Vec<&lot::Model> = lots
        .iter()
        .filter(|l| price.contains_key(&l.sku_id) && skus.contains_key(&l.sku_id))
        .collect();
    if lots.is_empty() {
        bail!("the demo has no offered lots to sell from");
    }
    let pesticide_targets = [
        ("rice", "稻飞虱"),
        ("rice", "稻纵卷叶螟"),
        ("wheat", "赤霉病"),
    ];
    let start = now - chrono::Duration::days(3 * 365);
    let first_sale = max_id::<sale::Entity>(db, sale::Column::Id).await? + 1;
    let mut sales = vec![];
    let mut lines = vec![];
    let mut made = 0usize;
    let mut sale_count = 0i64;
    while made < a.sale_lines {
        let n = (1 + rng.below(4)).min(a.sale_lines - made);
        let (dealer_id, location_id, owner) = dealers[rng.below(dealers.len())];
        let anonymous = rng.below(5) == 0;
        let buyer = rng.below(a.farmers.max(1));
        let at = start + chrono::Duration::seconds(rng.below(3 * 365 * 86_400) as i64);
        let mut total = 0;
        for _ in 0..n {
            let l = lots[rng.below(lots.len())];
            let q = 1 + rng.below(5) as i64;
            let p = price[&l.sku_id];
            total += p * q;
            lines.push(sale_line::ActiveModel {
                sale_id: Set(first_sale + sale_count),
                sku_id: Set(l.sku_id),
                lot_id: Set(l.id),
                quantity: Set(q),
                unit_price_fen: Set(p),
                ..Default::default()
            });
        }
        let (crop, target) = if rng.below(6) == 0 {
            let (c, t) = pesticide_targets[rng.below(pesticide_targets.len())];
            (Some(c.to_owned()), Some(t.to_owned()))
        } else {
            (None, None)
        };
        sales.push(sale::ActiveModel {
            id: Set(first_sale + sale_count),
            dealer_id: Set(dealer_id),
            location_id: Set(location_id),
            channel: Set(if anonymous || rng.below(2) == 0 {
                SaleChannel::Counter
            } else {
                SaleChannel::Order
            }),
            order_id: Set(None),
            buyer_user_id: Set((!anonymous).then(|| farmer_id(buyer))),
            buyer_name: Set((!anonymous).then(|| format!("测试{buyer}"))),
            buyer_phone: Set(None),
            buyer_id_number: Set(None),
            buyer_village_id: Set((!anonymous).then(|| farmer_village(buyer))),
            crop: Set(crop),
            target: Set(target),
            total_fen: Set(total),
            actor_id: Set(owner),
            sold_at: Set(at),
        });
        made += n;
        sale_count += 1;
        // Written a slice at a time, so memory stays flat.
        if lines.len() >= 50_000 || made >= a.sale_lines {
            let txn = db.begin().await?;
            insert_all(&txn, std::mem::take(&mut sales)).await?;
            insert_all(&txn, std::mem::take(&mut lines)).await?;
            txn.commit().await?;
        }
    }
    move_sequences_on(db).await?;
    counts.push(("sales", sale_count as usize, Duration::ZERO));
    counts.push(("sale lines", made, t.elapsed()));
    Ok(Generated {
        county_id: county.id,
        dealer_id: dealers[0].0,
        counts,
    })
}

/// PostgreSQL: rows given explicit ids leave the id sequences behind; move them past the
/// largest id so the server's own inserts do not collide. (SQLite takes max(id) + 1 itself.)
async fn move_sequences_on(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    for t in [
        "app_user",
        "field",
        "soil_test",
        "crop_plan",
        "recommendation",
        "sale",
    ] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
        ))
        .await?;
    }
    Ok(())
}

/// The pages and exports measured. `{county}` is the generated county, `{since}` three years
/// ago (the whole generated history), `{dealer}` its first dealer, `{lot}` the lot with the most
/// sale lines (its buyers are the longest recall list). Each is a GET as the county's regulator
/// (the open-data exports need no sign-in; their rate limit is lifted for the benchmark).
const PAGES: &[&str] = &[
    "/bureau",
    "/bureau/recalls",
    "/bureau/lots/{lot}",
    "/bureau/lots/{lot}/report.csv",
    "/bureau/stats",
    "/bureau/stats?from={since}",
    "/bureau/stats/categories.csv",
    "/bureau/stats/products.csv",
    "/bureau/stats/restricted.csv",
    "/bureau/stats/nutrients.csv",
    "/bureau/stats/coverage.csv",
    "/bureau/stats/licences.csv",
    "/bureau/signals",
    "/bureau/signals.csv",
    "/bureau/dealers",
    "/bureau/dealers/{dealer}",
    "/bureau/open-data",
    "/open-data/{county}/prices.json",
    "/open-data/{county}/sales-volumes.csv",
    "/open-data/{county}/soil-grades.json",
];

/// The lot with the most sale lines.
async fn busiest_lot(db: &DatabaseConnection) -> anyhow::Result<i64> {
    use sea_orm::{QueryOrder, QuerySelect};
    let row: Option<(i64, i64)> = sale_line::Entity::find()
        .select_only()
        .column(sale_line::Column::LotId)
        .column_as(sale_line::Column::Id.count(), "n")
        .group_by(sale_line::Column::LotId)
        .order_by_desc(sale_line::Column::Id.count())
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.context("no sale lines")?.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn run(a: &Args, url: &str) -> anyhow::Result<()> {
    let mut config = Config::for_database(url, None, SECRET);
    // The open-data exports share the trace page's per-address limit: lifted here, so the
    // benchmark measures the export and not the 429.
    config.trace_limit_per_minute = u32::MAX;
    let backend = if config.is_sqlite() {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let state = AppState::connect(config).await?;
    let server = Server::start(state, "127.0.0.1:0".parse()?).await?;
    let db = server.state.db().clone();
    println!("server on {} ({backend})", server.addr);
    let t = Instant::now();
    nongzi::demo::load(&db).await?;
    println!("demo county loaded in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let g = generate(&db, a).await?;
    println!(
        "generated 规模测试县 (region {}) in {:.1} s:",
        g.county_id,
        t.elapsed().as_secs_f64()
    );
    for (what, n, took) in &g.counts {
        if took.is_zero() {
            println!("  {n:>9} {what}");
        } else {
            println!("  {n:>9} {what} ({:.1} s)", took.as_secs_f64());
        }
    }
    if a.keep {
        println!("database kept: {url}");
        println!(
            "  DATABASE_URL='{url}' nongzi serve   # regulator {} / {}",
            REGULATOR.0, REGULATOR.1
        );
    }

    let since = (Utc::now() - chrono::Duration::days(3 * 365 + 1))
        .date_naive()
        .to_string();
    let busiest_lot = busiest_lot(&db).await?;
    let mut b = e2e::Browser::at(&server.url(""));
    b.sign_in(REGULATOR.0, REGULATOR.1).await;
    println!(
        "\n{backend}, {} sale lines, {} requests each, one after another:\n",
        a.sale_lines, a.requests
    );
    println!("| page | status | bytes | p50 | p99 | max |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut failed = 0;
    for page in PAGES {
        let path = page
            .replace("{county}", &g.county_id.to_string())
            .replace("{dealer}", &g.dealer_id.to_string())
            .replace("{lot}", &busiest_lot.to_string())
            .replace("{since}", &since);
        // One request first, unmeasured: the statements are prepared and the caches warm.
        let first = b.get(&path).await;
        let mut took = vec![];
        for _ in 0..a.requests {
            let t = Instant::now();
            let r = b.get(&path).await;
            took.push(t.elapsed());
            if r.status != first.status {
                failed += 1;
            }
        }
        took.sort();
        if first.status != 200 {
            failed += 1;
        }
        println!(
            "| `{path}` | {} | {} | {} | {} | {} |",
            first.status,
            first.body.len(),
            ms(percentile(&took, 0.5)),
            ms(percentile(&took, 0.99)),
            ms(*took.last().unwrap_or(&Duration::ZERO)),
        );
    }
    drop(server);
    if failed > 0 {
        bail!("{failed} request(s) did not answer 200");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let a = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (url, drop) = fresh_database(&a).await?;
        let result = run(&a, &url).await;
        if !a.keep {
            match drop {
                Some((admin_url, name)) => {
                    let admin = Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await?;
                }
                None => {
                    let path = url
                        .trim_start_matches("sqlite://")
                        .split('?')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{path}{suffix}"));
                    }
                }
            }
        }
        result
    })
}
