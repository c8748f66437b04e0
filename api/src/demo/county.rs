//! The county from `demo.toml`: regions, stations, producers, dealers and their licences,
//! products and packs, offers, and one user per role; then the fields and the stock.

use std::collections::HashMap;

use anyhow::{anyhow, bail};
use domain::accounts::{self, Actor, DealerRole, NewUser, Role};
use domain::catalog::{self, ProductInput};
use domain::regions::{self, Level, LicenceKind, NewDealer, NewLicence, NewRegion, NewStation};
use sea_orm::DatabaseTransaction;

use super::fields::fields_and_soil_tests;
use super::stock::stock_and_sales;
use super::{Demo, ctx, date};

pub(super) async fn insert(db: &DatabaseTransaction, demo: Demo) -> anyhow::Result<()> {
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
