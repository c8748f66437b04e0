//! The demo county (`serve --demo`): regions, stations, dealers, producers, products, offers and
//! one user per role, from `api/data/demo.toml`. Loaded once, in one transaction, with a marker
//! row; a restart finds the marker and leaves the data alone. A database that holds data
//! without the marker is refused, and on PostgreSQL the logins get random passwords instead of
//! the published ones.
//!
//! The parts: `county` (what `demo.toml` describes, inserted in order), `fields` (fields, crop
//! plans and soil tests), `stock` (lots, receipts, a transfer, sales, the sample codes). The
//! file's shape, the marker, the passwords and the banner stay here.

mod county;
mod fields;
mod stock;

pub use stock::sample_codes;

use anyhow::{Context, anyhow};
use chrono::NaiveDate;
use domain::catalog::{self};
use domain::entities::{app_setting, app_user, dealer, producer, product, region};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, Set,
    TransactionTrait,
};
use serde::Deserialize;

const DEMO: &str = include_str!("../data/demo.toml");
const MARKER: &str = "demo_loaded";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    province: Place,
    county: Place,
    townships: Vec<Township>,
    producers: Vec<ProducerRow>,
    dealers: Vec<DealerRow>,
    products: Vec<ProductRow>,
    offers: Vec<OfferRow>,
    users: Vec<UserRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Place {
    code: Option<String>,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Township {
    key: String,
    code: Option<String>,
    name_zh: String,
    name_en: String,
    villages: Vec<Village>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Village {
    key: String,
    code: Option<String>,
    name_zh: String,
    name_en: String,
    station: StationRow,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StationRow {
    name_zh: String,
    name_en: String,
    operator: String,
    phone: String,
    hours: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProducerRow {
    key: String,
    name_zh: String,
    name_en: String,
    address: String,
    licence_no: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DealerRow {
    key: String,
    name_zh: String,
    name_en: String,
    address: String,
    region: String,
    phone: String,
    service_area: Vec<String>,
    licences: Vec<LicenceRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LicenceRow {
    kind: String,
    number: String,
    issuer: String,
    valid_from: toml::value::Datetime,
    valid_to: toml::value::Datetime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductRow {
    key: String,
    category: String,
    producer: String,
    name_zh: String,
    name_en: String,
    registration_no: Option<String>,
    #[serde(default)]
    registration_exempt: bool,
    #[serde(default)]
    restricted_use: bool,
    #[serde(default)]
    description_zh: String,
    #[serde(default)]
    description_en: String,
    fertiliser: Option<catalog::FertiliserInput>,
    seed: Option<catalog::SeedInput>,
    pesticide: Option<catalog::PesticideInput>,
    skus: Vec<SkuRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkuRow {
    key: String,
    size: f64,
    unit: String,
    gtin: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferRow {
    dealer: String,
    sku: String,
    price_fen: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRow {
    role: String,
    phone: String,
    password: String,
    display_name: String,
    dealer: Option<String>,
    dealer_role: Option<String>,
    village: Option<String>,
    /// A station keeper's station, by its village's key.
    station: Option<String>,
    real_name: Option<String>,
    id_number: Option<String>,
}

/// A demo login, printed by `serve --demo`.
#[derive(Clone, Debug)]
pub struct Credential {
    pub role: String,
    pub phone: String,
    pub password: String,
    pub name: String,
}

fn date(d: &toml::value::Datetime) -> anyhow::Result<NaiveDate> {
    let d = d.date.ok_or_else(|| anyhow!("expected a date"))?;
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        .ok_or_else(|| anyhow!("bad date"))
}

fn parse() -> anyhow::Result<Demo> {
    toml::from_str(DEMO).context("api/data/demo.toml is not valid")
}

/// The demo users' credentials, with the published passwords.
pub fn credentials() -> anyhow::Result<Vec<Credential>> {
    Ok(logins_of(&parse()?))
}

fn logins_of(demo: &Demo) -> Vec<Credential> {
    demo.users
        .iter()
        .map(|u| {
            let role = match (u.role.as_str(), u.dealer_role.as_deref()) {
                ("DEALER", Some(r)) => format!("DEALER ({r})"),
                (r, _) => r.to_owned(),
            };
            Credential {
                role,
                phone: u.phone.clone(),
                password: u.password.clone(),
                name: u.display_name.clone(),
            }
        })
        .collect()
}

/// Which passwords the demo logins get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passwords {
    /// The ones in `api/data/demo.toml` (and the README): a local SQLite demo.
    Published,
    /// Fresh random ones, printed once when the demo loads and stored only as hashes: a
    /// PostgreSQL database is a shared server, where published passwords would let anyone in.
    Random,
}

impl Passwords {
    /// Published on SQLite, random on PostgreSQL.
    pub fn for_database(db: &DatabaseConnection) -> Passwords {
        match db.get_database_backend() {
            DbBackend::Sqlite => Passwords::Published,
            _ => Passwords::Random,
        }
    }
}

/// What loading the demo found.
#[derive(Debug)]
pub enum Loaded {
    /// Loaded now: the logins, with the passwords they were given.
    Now(Vec<Credential>),
    /// The demo had loaded this database before (its marker is there); nothing changed.
    Before,
}

/// `serve --demo` on a database that holds data the demo did not write. The demo writes its
/// marker in the same transaction as its data, so a database without the marker and with any
/// account, region, dealer, producer or product was filled by something else (a real county),
/// and loading published demo logins into it would open it to anyone.
#[derive(Debug, thiserror::Error)]
#[error(
    "拒绝加载演示数据：该数据库已有非演示数据（{accounts} 个账号、{regions} 个行政区、{dealers} 家经销商、{products} 个产品），演示账号的公开密码会让任何人登录。请为演示使用一个空数据库，或不带 --demo 启动。\n\
     refusing to load the demo: this database already holds data the demo did not write ({accounts} accounts, {regions} regions, {dealers} dealers, {products} products), and the demo's published logins would let anyone in. Use an empty database for the demo, or start without --demo."
)]
pub struct Refused {
    pub accounts: u64,
    pub regions: u64,
    pub dealers: u64,
    pub products: u64,
}

/// Loads the demo county with the published passwords unless it is already there (what the
/// tests load). Returns whether it loaded now. Refuses a database with other data ([`Refused`]).
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(matches!(
        load_with(db, Passwords::Published).await?,
        Loaded::Now(_)
    ))
}

/// Loads the demo county unless it is already there, its logins getting `passwords`. A
/// database holding data the demo did not write is refused ([`Refused`]) and left untouched.
pub async fn load_with(db: &DatabaseConnection, passwords: Passwords) -> anyhow::Result<Loaded> {
    // The data is counted before the marker is read: a node that loads the demo meanwhile
    // commits both at once, so data seen here means its marker is seen below.
    let found = Refused {
        accounts: app_user::Entity::find().count(db).await?,
        regions: region::Entity::find().count(db).await?,
        dealers: dealer::Entity::find().count(db).await?,
        products: product::Entity::find().count(db).await?
            + producer::Entity::find().count(db).await?,
    };
    if marker_present(db).await? {
        return Ok(Loaded::Before);
    }
    if found.accounts + found.regions + found.dealers + found.products > 0 {
        return Err(found.into());
    }
    let mut demo = parse()?;
    if passwords == Passwords::Random {
        for u in &mut demo.users {
            u.password = random_password();
        }
    }
    let logins = logins_of(&demo);
    let txn = db.begin().await?;
    // A second node starting at the same moment loses the race on this primary key and rolls
    // back, instead of loading the county twice.
    let marked = app_setting::ActiveModel {
        key: Set(MARKER.into()),
        value: Set(domain::now().to_rfc3339()),
    }
    .insert(&txn)
    .await;
    if let Err(e) = marked {
        txn.rollback().await.ok();
        if marker_present(db).await? {
            return Ok(Loaded::Before);
        }
        return Err(e.into());
    }
    county::insert(&txn, demo).await?;
    txn.commit().await?;
    Ok(Loaded::Now(logins))
}

async fn marker_present(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(app_setting::Entity::find_by_id(MARKER.to_owned())
        .one(db)
        .await?
        .is_some())
}

/// A fresh password from the thread's CSPRNG: `demo-` and 16 URL-safe base64 characters
/// (96 bits).
fn random_password() -> String {
    use base64::Engine;
    format!(
        "demo-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>())
    )
}

/// The text `serve --demo` prints: where to go and one login per role (`  {role:<16} {phone}
/// {password:<18} {name}`, which tests/browser reads), or, when the demo had been loaded with
/// random passwords before, the phones and where the passwords were shown.
pub fn banner(addr: std::net::SocketAddr, logins: Option<&[Credential]>) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(out, "Nongzi demo county is ready.");
    let _ = writeln!(out, "  farmer app (open it on a phone): http://{addr}/");
    let _ = writeln!(
        out,
        "  GraphQL console:                 http://{addr}/graphql"
    );
    match logins {
        Some(logins) => {
            let _ = writeln!(out, "Demo logins (phone / password):");
            for c in logins {
                let _ = writeln!(
                    out,
                    "  {:<16} {}  {:<18} {}",
                    c.role, c.phone, c.password, c.name
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "演示账号的密码是随机生成的，只在首次加载演示数据时显示一次（数据库只保存其哈希）。"
            );
            let _ = writeln!(
                out,
                "The demo logins' passwords are random: they were shown once, when the demo county was loaded (the database keeps only their hashes)."
            );
            if let Ok(all) = credentials() {
                let phones: Vec<String> = all
                    .iter()
                    .map(|c| format!("{} {}", c.phone, c.role))
                    .collect();
                let _ = writeln!(out, "Demo accounts: {}", phones.join(", "));
            }
        }
    }
    let _ = writeln!(out);
    out
}

fn ctx<T>(r: domain::Result<T>, what: impl FnOnce() -> String) -> anyhow::Result<T> {
    r.map_err(|e| anyhow!("demo data: {}: {e}", what()))
}
