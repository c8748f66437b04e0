//! The demo county (`serve --demo`): regions, stations, dealers, producers, products, offers and
//! one user per role, from `api/data/demo.toml`. Loaded once, in one transaction; a restart
//! finds the marker row and leaves the data alone.

use std::collections::HashMap;

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDate;
use domain::accounts::{self, Actor, DealerRole, NewUser, Role};
use domain::catalog::{self, ProductInput};
use domain::entities::app_setting;
use domain::regions::{self, Level, LicenceKind, NewDealer, NewLicence, NewRegion, NewStation};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait,
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
    real_name: Option<String>,
    id_number: Option<String>,
}

/// A demo login, printed by `serve --demo`.
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

/// The demo users' credentials.
pub fn credentials() -> anyhow::Result<Vec<Credential>> {
    Ok(parse()?
        .users
        .into_iter()
        .map(|u| {
            let role = match (u.role.as_str(), u.dealer_role.as_deref()) {
                ("DEALER", Some(r)) => format!("DEALER ({r})"),
                (r, _) => r.to_owned(),
            };
            Credential {
                role,
                phone: u.phone,
                password: u.password,
                name: u.display_name,
            }
        })
        .collect())
}

/// Loads the demo county unless it is already there. Returns whether it loaded now.
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<bool> {
    if app_setting::Entity::find_by_id(MARKER.to_owned())
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let demo = parse()?;
    let txn = db.begin().await?;
    // A second node starting at the same moment loses the race on this primary key and rolls
    // back, instead of loading the county twice.
    app_setting::ActiveModel {
        key: Set(MARKER.into()),
        value: Set(domain::now().to_rfc3339()),
    }
    .insert(&txn)
    .await?;
    insert(&txn, demo).await?;
    txn.commit().await?;
    Ok(true)
}

fn ctx<T>(r: domain::Result<T>, what: impl FnOnce() -> String) -> anyhow::Result<T> {
    r.map_err(|e| anyhow!("demo data: {}: {e}", what()))
}

async fn insert(db: &impl ConnectionTrait, demo: Demo) -> anyhow::Result<()> {
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
            ctx(
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
        };
        let user = ctx(accounts::insert_user(db, new).await, || {
            format!("user {}", u.phone)
        })?;
        if let (Some(name), Some(id)) = (u.real_name, u.id_number) {
            let me = Actor {
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
    Ok(())
}
