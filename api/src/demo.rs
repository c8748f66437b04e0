//! The demo county (`serve --demo`): regions, stations, dealers, producers, products, offers and
//! one user per role, from `api/data/demo.toml`. Loaded once, in one transaction, with a marker
//! row; a restart finds the marker and leaves the data alone. A database that holds data
//! without the marker is refused, and on PostgreSQL the logins get random passwords instead of
//! the published ones.

use std::collections::HashMap;

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDate;
use domain::accounts::{self, Actor, DealerRole, NewUser, Role};
use domain::catalog::{self, ProductInput};
use domain::entities::{app_setting, app_user, dealer, producer, product, region};
use domain::regions::{self, Level, LicenceKind, NewDealer, NewLicence, NewRegion, NewStation};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, Set, TransactionTrait,
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
    insert(&txn, demo).await?;
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

async fn insert(db: &DatabaseTransaction, demo: Demo) -> anyhow::Result<()> {
    let province = ctx(
        regions::insert_region(
            db,
            NewRegion {
                level: Level::Province,
                parent_id: None,
                code: demo.province.code,
                name_zh: demo.province.name_zh,
                name_en: demo.province.name_en,
            },
        )
        .await,
        || "province".into(),
    )?;
    let county = ctx(
        regions::insert_region(
            db,
            NewRegion {
                level: Level::County,
                parent_id: Some(province.id),
                code: demo.county.code,
                name_zh: demo.county.name_zh,
                name_en: demo.county.name_en,
            },
        )
        .await,
        || "county".into(),
    )?;
    let mut places: HashMap<String, i64> = HashMap::new();
    let mut station_of: HashMap<String, i64> = HashMap::new();
    for t in demo.townships {
        let tr = ctx(
            regions::insert_region(
                db,
                NewRegion {
                    level: Level::Township,
                    parent_id: Some(county.id),
                    code: t.code,
                    name_zh: t.name_zh,
                    name_en: t.name_en,
                },
            )
            .await,
            || format!("township {}", t.key),
        )?;
        places.insert(t.key.clone(), tr.id);
        for v in t.villages {
            let vr = ctx(
                regions::insert_region(
                    db,
                    NewRegion {
                        level: Level::Village,
                        parent_id: Some(tr.id),
                        code: v.code,
                        name_zh: v.name_zh,
                        name_en: v.name_en,
                    },
                )
                .await,
                || format!("village {}", v.key),
            )?;
            places.insert(v.key.clone(), vr.id);
            let s = v.station;
            let st = ctx(
                regions::insert_station(
                    db,
                    NewStation {
                        village_id: vr.id,
                        name_zh: s.name_zh,
                        name_en: s.name_en,
                        operator_name: s.operator,
                        phone: s.phone,
                        hours: s.hours,
                    },
                )
                .await,
                || format!("station of {}", v.key),
            )?;
            station_of.insert(v.key.clone(), st.id);
        }
    }
    let place = |k: &str| {
        places
            .get(k)
            .copied()
            .ok_or_else(|| anyhow!("demo data: unknown place {k}"))
    };

    let mut producers = HashMap::new();
    for p in demo.producers {
        let row = ctx(
            catalog::insert_producer(
                db,
                catalog::NewProducer {
                    name_zh: p.name_zh,
                    name_en: p.name_en,
                    address: p.address,
                    licence_no: p.licence_no,
                },
            )
            .await,
            || format!("producer {}", p.key),
        )?;
        producers.insert(p.key, row.id);
    }

    let mut dealers = HashMap::new();
    // In the file's order: the first dealer is the county store.
    let mut dealer_order = Vec::new();
    for d in demo.dealers {
        let mut licences = Vec::new();
        for l in &d.licences {
            licences.push(NewLicence {
                kind: LicenceKind::parse(&l.kind)
                    .ok_or_else(|| anyhow!("demo data: licence kind {}", l.kind))?,
                number: l.number.clone(),
                issuer: l.issuer.clone(),
                valid_from: date(&l.valid_from)?,
                valid_to: date(&l.valid_to)?,
            });
        }
        let service_area = d
            .service_area
            .iter()
            .map(|v| place(v))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let row = ctx(
            regions::insert_dealer(
                db,
                NewDealer {
                    name_zh: d.name_zh,
                    name_en: d.name_en,
                    address: d.address,
                    region_id: place(&d.region)?,
                    phone: d.phone,
                    licences,
                    service_area,
                },
            )
            .await,
            || format!("dealer {}", d.key),
        )?;
        dealer_order.push(row.id);
        dealers.insert(d.key, row.id);
    }

    let mut skus = HashMap::new();
    for p in demo.products {
        let producer_id = *producers
            .get(&p.producer)
            .ok_or_else(|| anyhow!("demo data: unknown producer {}", p.producer))?;
        let input = ProductInput {
            category: p.category,
            producer_id,
            name_zh: p.name_zh,
            name_en: p.name_en,
            description_zh: p.description_zh,
            description_en: p.description_en,
            registration_no: p.registration_no,
            registration_exempt: p.registration_exempt,
            restricted_use: p.restricted_use,
            fertiliser: p.fertiliser,
            seed: p.seed,
            pesticide: p.pesticide,
        };
        let row = ctx(catalog::insert_product(db, input, None).await, || {
            format!("product {}", p.key)
        })?;
        for s in p.skus {
            let sr = ctx(
                catalog::insert_sku(
                    db,
                    row.id,
                    catalog::SkuInput {
                        pack_size: s.size,
                        pack_unit: s.unit,
                        gtin: s.gtin,
                    },
                )
                .await,
                || format!("sku {}", s.key),
            )?;
            skus.insert(s.key, sr.id);
        }
    }

    let admin = Actor {
        station_id: None,
        assisted_by: None,
        user_id: 0,
        role: Role::Admin,
        dealer_id: None,
        dealer_role: None,
        county_ids: vec![],
    };
    for o in demo.offers {
        let dealer_id = *dealers
            .get(&o.dealer)
            .ok_or_else(|| anyhow!("demo data: unknown dealer {}", o.dealer))?;
        let sku_id = *skus
            .get(&o.sku)
            .ok_or_else(|| anyhow!("demo data: unknown sku {}", o.sku))?;
        // Goes through the licence checks like any offer.
        ctx(
            catalog::set_offer(db, &admin, dealer_id, sku_id, o.price_fen, true).await,
            || format!("offer {} at {}", o.sku, o.dealer),
        )?;
    }

    let mut actors: Vec<Actor> = Vec::new();
    for u in demo.users {
        let role = Role::parse(&u.role).ok_or_else(|| anyhow!("demo data: role {}", u.role))?;
        let dealer_id = u
            .dealer
            .as_deref()
            .map(|d| {
                dealers
                    .get(d)
                    .copied()
                    .ok_or_else(|| anyhow!("demo data: unknown dealer {d}"))
            })
            .transpose()?;
        let village_id = u.village.as_deref().map(place).transpose()?;
        let station_id = u
            .station
            .as_deref()
            .map(|k| {
                station_of
                    .get(k)
                    .copied()
                    .ok_or_else(|| anyhow!("demo data: no station in village {k}"))
            })
            .transpose()?;
        let new = NewUser {
            phone: u.phone.clone(),
            password: u.password,
            display_name: u.display_name,
            role,
            dealer_id,
            dealer_role: u.dealer_role.as_deref().and_then(DealerRole::parse),
            county_ids: if matches!(role, Role::Agronomist | Role::Regulator) {
                vec![county.id]
            } else {
                vec![]
            },
            village_id,
            station_id,
        };
        let user = ctx(accounts::insert_user(db, new).await, || {
            format!("user {}", u.phone)
        })?;
        actors.push(accounts::actor_for(db, &user).await?);
        if let (Some(name), Some(id)) = (u.real_name, u.id_number) {
            let me = Actor {
                station_id: None,
                assisted_by: None,
                user_id: user.id,
                role,
                dealer_id: None,
                dealer_role: None,
                county_ids: vec![],
            };
            ctx(accounts::set_real_name(db, &me, &name, &id).await, || {
                format!("real name of {}", u.phone)
            })?;
        }
    }
    if places.is_empty() || dealers.is_empty() {
        bail!("demo data has no villages or dealers");
    }
    stock_and_sales(db, &actors, &dealer_order).await?;
    fields_and_soil_tests(db, &actors).await
}

/// A demo plot: name, area (mu), crop, past yields (kg/mu), and soil: pH, buffer pH, organic
/// matter g/kg, alkali-hydrolysable N, Olsen P, available K (mg/kg).
type Plot = (&'static str, f64, &'static str, [f64; 3], [f64; 6]);

/// Fields with crop plans and soil tests for the demo farmers, so an agronomist can draft and
/// publish a recommendation right away. Soil values are typical of the Jianghan Plain paddy
/// soils (demo figures, not a real lab's).
async fn fields_and_soil_tests(db: &DatabaseTransaction, actors: &[Actor]) -> anyhow::Result<()> {
    let agronomist = actors
        .iter()
        .find(|a| a.role == Role::Agronomist)
        .ok_or_else(|| anyhow!("demo data has no agronomist"))?;
    let farmers: Vec<&Actor> = actors.iter().filter(|a| a.role == Role::Farmer).collect();
    let today = domain::today();
    // (name, area mu, crop, past yields, soil: pH, buffer pH, OM g/kg, alkali N, Olsen P, K)
    let plots: [Plot; 4] = [
        (
            "村东水田",
            8.0,
            "RICE",
            [560.0, 590.0, 610.0],
            [5.3, 6.1, 24.0, 118.0, 9.5, 86.0],
        ),
        (
            "河边旱地",
            5.0,
            "RAPESEED",
            [150.0, 165.0, 160.0],
            [6.4, 6.6, 18.0, 92.0, 14.0, 120.0],
        ),
        (
            "大塘田",
            12.0,
            "RICE",
            [600.0, 620.0, 640.0],
            [6.0, 6.4, 30.0, 145.0, 22.0, 140.0],
        ),
        (
            "坡上田",
            6.0,
            "RICE",
            [480.0, 500.0, 470.0],
            [5.6, 6.2, 16.0, 80.0, 6.0, 70.0],
        ),
    ];
    for (i, (name, area, crop, yields, soil)) in plots.iter().enumerate() {
        let farmer = farmers[i % farmers.len().max(1)];
        let user = accounts::user_by_id(db, farmer.user_id).await?;
        let Some(village) = user
            .village_id
            .or(regions::villages(db, None).await?.first().map(|v| v.id))
        else {
            continue;
        };
        let f = ctx(
            domain::fields::create(
                db,
                farmer,
                domain::fields::NewField {
                    name: (*name).into(),
                    area_mu: *area,
                    village_id: village,
                    soil_type: "水稻土 paddy soil".into(),
                    irrigation: "渠灌 canal".into(),
                    lat: None,
                    lon: None,
                },
            )
            .await,
            || format!("field {name}"),
        )?;
        ctx(
            domain::agronomy::create_crop_plan(
                db,
                farmer,
                domain::agronomy::CropPlanInput {
                    field_id: f.id,
                    crop: (*crop).into(),
                    season: format!(
                        "{} {}",
                        today.format("%Y"),
                        if *crop == "RAPESEED" {
                            "冬油菜"
                        } else {
                            "中稻"
                        }
                    ),
                    past_yields_kg_per_mu: Some(yields.to_vec()),
                    previous_crop: if *crop == "RICE" {
                        "油菜".into()
                    } else {
                        "水稻".into()
                    },
                    straw_returned: true,
                    ..Default::default()
                },
            )
            .await,
            || format!("crop plan of {name}"),
        )?;
        ctx(
            domain::agronomy::create_soil_test(
                db,
                agronomist,
                domain::agronomy::SoilTestInput {
                    field_id: f.id,
                    sampled_on: today - chrono::Duration::days(30),
                    depth_from_cm: 0,
                    depth_to_cm: 20,
                    lab: "沙洋县土壤肥料工作站 (demo)".into(),
                    lab_sample_id: format!("SY-{}-{:03}", today.format("%Y"), i + 1),
                    ph: soil[0],
                    buffer_ph: Some(soil[1]),
                    organic_matter_g_kg: soil[2],
                    alkali_n_mg_kg: soil[3],
                    olsen_p_mg_kg: Some(soil[4]),
                    available_k_mg_kg: soil[5],
                    ..Default::default()
                },
            )
            .await,
            || format!("soil test of {name}"),
        )?;
    }
    Ok(())
}

/// Lots, receipts, a transfer to a village station and a few sales, so the trace page, the
/// ledgers and a recall have something to show. Every step goes through the same services a
/// dealer uses.
async fn stock_and_sales(
    db: &DatabaseTransaction,
    actors: &[Actor],
    dealer_ids: &[i64],
) -> anyhow::Result<()> {
    use domain::entities::{offer, producer, product, sku};
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let admin = actors
        .iter()
        .find(|a| a.role == Role::Admin)
        .ok_or_else(|| anyhow!("demo data has no admin"))?
        .clone();
    // Each dealer's own staff record its stock; a dealer without an account is served by the admin.
    let clerk = |dealer_id: i64| {
        actors
            .iter()
            .find(|a| a.works_for(dealer_id))
            .cloned()
            .unwrap_or_else(|| admin.clone())
    };
    let today = domain::today();
    let mut lot_of_sku = HashMap::new();
    let skus = sku::Entity::find()
        .order_by_asc(sku::Column::Id)
        .all(db)
        .await?;
    for s in &skus {
        let p = product::Entity::find_by_id(s.product_id)
            .one(db)
            .await?
            .ok_or_else(|| anyhow!("sku without product"))?;
        // Shelf lives typical of labels: fertiliser 3 years, seed 1 year, pesticide 2 years.
        let (prefix, age_days, shelf_days, lab) = match p.category.as_str() {
            "SEED" => ("S", 60, 365, "湖北省种子质量监督检验站 (demo)"),
            "PESTICIDE" => ("P", 120, 730, "湖北省农药检定所 (demo)"),
            _ => ("F", 90, 1095, "湖北省肥料质量监督检验站 (demo)"),
        };
        let produced = today - chrono::Duration::days(age_days);
        let codes = if p.category == domain::catalog::Category::Pesticide {
            let reg = domain::types::PesticideRegNo::parse(
                "",
                p.registration_no.as_deref().unwrap_or(""),
            )
            .map_err(|e| anyhow!("demo pesticide registration: {e}"))?;
            // Announcement 2579 layout: category, registration digits, production type 1,
            // company spec 001, then 21 serial digits.
            (1..=5)
                .map(|n| {
                    format!(
                        "{}{}1001{:021}",
                        reg.category_digit() as char,
                        reg.last6(),
                        s.id * 1000 + n
                    )
                })
                .collect()
        } else {
            vec![]
        };
        let input = domain::lots::LotInput {
            sku_id: s.id,
            lot_no: format!("{prefix}{}{:04}", produced.format("%y%m"), s.id),
            producer_id: None,
            produced_on: produced,
            expires_on: produced + chrono::Duration::days(shelf_days),
            gtin: None,
            inspection: Some(domain::lots::InspectionInput {
                report_no: format!("JC{}-{:04}", produced.format("%Y"), s.id),
                lab: lab.into(),
                result: domain::types::InspectionResult::Conformant,
                date: produced + chrono::Duration::days(3),
            }),
            unit_codes: codes,
        };
        let l = ctx(domain::lots::insert_lot(db, &admin, input).await, || {
            format!("lot of sku {}", s.id)
        })?;
        lot_of_sku.insert(s.id, (l, p));
    }
    // Receipts: every dealer stocks what it offers, from the producer.
    for d in dealer_ids {
        let offers = offer::Entity::find()
            .filter(offer::Column::DealerId.eq(*d))
            .all(db)
            .await?;
        for o in offers {
            let (l, p) = &lot_of_sku[&o.sku_id];
            let prod = producer::Entity::find_by_id(l.producer_id)
                .one(db)
                .await?
                .ok_or_else(|| anyhow!("lot without producer"))?;
            let quantity = match p.category.as_str() {
                "FERTILISER" => 60,
                "SEED" => 40,
                _ => 30,
            };
            let input = domain::stock::ReceiptInput {
                dealer_id: *d,
                location_id: None,
                lot_id: l.id,
                quantity,
                // Bought at about 85 % of the shelf price.
                unit_cost_fen: o.price_fen * 85 / 100,
                supplier: domain::stock::Supplier {
                    name: prod.name_zh.clone(),
                    licence_no: prod.licence_no.clone().unwrap_or_else(|| "—".into()),
                    contact: format!("0724-8{:06}", prod.id),
                },
                source_document: format!("RK{}-{:03}-{:04}", today.format("%Y%m"), d, o.sku_id),
                received_at: Some(domain::now() - chrono::Duration::days(20)),
            };
            ctx(
                domain::stock::receive(db, &clerk(*d), input)
                    .await
                    .map(|_| ()),
                || format!("receipt of sku {} at dealer {d}", o.sku_id),
            )?;
        }
    }
    // The county store sends some urea to the first village station it serves.
    let county_store = *dealer_ids.first().ok_or_else(|| anyhow!("no dealer"))?;
    let owner = clerk(county_store);
    let store = domain::regions::store_location(db, county_store).await?;
    let area = regions::service_areas_of(db, &[county_store]).await?;
    let station = regions::stations(
        db,
        Some(&area.iter().map(|a| a.village_id).collect::<Vec<_>>()),
    )
    .await?;
    let fertiliser_offer = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(county_store))
        .order_by_asc(offer::Column::Id)
        .one(db)
        .await?;
    if let (Some(st), Some(o)) = (station.first(), fertiliser_offer) {
        let to = domain::regions::station_location(db, st.id).await?;
        let (l, _) = &lot_of_sku[&o.sku_id];
        let (t, _) = ctx(
            domain::stock::transfer_ship(db, &owner, county_store, l.id, store.id, to.id, 10).await,
            || "transfer".into(),
        )?;
        ctx(
            domain::stock::transfer_receive(db, &owner, t.id).await,
            || "transfer receipt".into(),
        )?;
    }
    // A few sales: the real-name farmer buys fertiliser and a restricted-use pesticide for a
    // registered use; the other farmer and a walk-in buy fertiliser.
    let farmers: Vec<&Actor> = actors.iter().filter(|a| a.role == Role::Farmer).collect();
    let county_offers = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(county_store))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?;
    let first_fertiliser = county_offers
        .iter()
        .find(|o| lot_of_sku[&o.sku_id].1.category == domain::catalog::Category::Fertiliser);
    let restricted = county_offers
        .iter()
        .find(|o| lot_of_sku[&o.sku_id].1.restricted_use);
    if let (Some(f), Some(buyer)) = (first_fertiliser, farmers.first()) {
        let mut lines = vec![domain::stock::SaleLineInput {
            sku_id: f.sku_id,
            quantity: 2,
            unit_price_fen: None,
        }];
        let (mut crop, mut target) = (None, None);
        if let Some(r) = restricted {
            let (_, p) = &lot_of_sku[&r.sku_id];
            let uses = domain::catalog::uses_by_products(db, &[p.id]).await?;
            if let Some(u) = uses.first() {
                lines.push(domain::stock::SaleLineInput {
                    sku_id: r.sku_id,
                    quantity: 1,
                    unit_price_fen: None,
                });
                crop = Some(u.crop.clone());
                target = Some(u.target_zh.clone());
            }
        }
        let input = domain::stock::CounterSaleInput {
            dealer_id: county_store,
            location_id: None,
            lines,
            buyer: domain::stock::Buyer {
                user_id: Some(buyer.user_id),
                ..Default::default()
            },
            crop,
            target,
            unit_codes: vec![],
        };
        ctx(
            domain::stock::counter_sale(db, &owner, input)
                .await
                .map(|_| ()),
            || "demo sale".into(),
        )?;
    }
    for (i, d) in dealer_ids.iter().enumerate().skip(1) {
        let o = offer::Entity::find()
            .filter(offer::Column::DealerId.eq(*d))
            .order_by_asc(offer::Column::Id)
            .one(db)
            .await?;
        let Some(o) = o else { continue };
        let buyer = match farmers.get(i) {
            Some(f) => domain::stock::Buyer {
                user_id: Some(f.user_id),
                ..Default::default()
            },
            None => domain::stock::Buyer::default(),
        };
        let input = domain::stock::CounterSaleInput {
            dealer_id: *d,
            location_id: None,
            lines: vec![domain::stock::SaleLineInput {
                sku_id: o.sku_id,
                quantity: 3,
                unit_price_fen: None,
            }],
            buyer,
            crop: None,
            target: None,
            unit_codes: vec![],
        };
        ctx(
            domain::stock::counter_sale(db, &clerk(*d), input)
                .await
                .map(|_| ()),
            || format!("demo sale at dealer {d}"),
        )?;
    }
    Ok(())
}

/// Codes to try on the trace page after `serve --demo`: a lot's trace code and a unit code.
pub async fn sample_codes(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    use domain::entities::{lot, unit_code};
    use sea_orm::QueryOrder;
    let mut out = Vec::new();
    if let Some(l) = lot::Entity::find()
        .order_by_asc(lot::Column::Id)
        .one(db)
        .await?
    {
        out.push(l.trace_code);
    }
    if let Some(u) = unit_code::Entity::find()
        .order_by_asc(unit_code::Column::Id)
        .one(db)
        .await?
    {
        out.push(u.code);
    }
    Ok(out)
}
