//! The demo stock: lots, receipts, a transfer to a village station and a few sales, and the
//! codes `serve --demo` suggests trying on the trace page.

use std::collections::HashMap;

use anyhow::anyhow;
use domain::accounts::{Actor, Role};
use domain::catalog::Category;
use domain::regions;
use sea_orm::{DatabaseConnection, DatabaseTransaction, EntityTrait};

use super::ctx;

/// Lots, receipts, a transfer to a village station and a few sales, so the trace page, the
/// ledgers and a recall have something to show. Every step goes through the same services a
/// dealer uses.
pub(super) async fn stock_and_sales(
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
        let (prefix, age_days, shelf_days, lab) = match p.category {
            Category::Seed => ("S", 60, 365, "湖北省种子质量监督检验站 (demo)"),
            Category::Pesticide => ("P", 120, 730, "湖北省农药检定所 (demo)"),
            Category::Fertiliser => ("F", 90, 1095, "湖北省肥料质量监督检验站 (demo)"),
        };
        let produced = today - chrono::Duration::days(age_days);
        let codes = if p.category == Category::Pesticide {
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
            let quantity = match p.category {
                Category::Fertiliser => 60,
                Category::Seed => 40,
                Category::Pesticide => 30,
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
        let mut scanned = vec![];
        if let Some(r) = restricted {
            let (l, p) = &lot_of_sku[&r.sku_id];
            let uses = domain::catalog::uses_by_products(db, &[p.id]).await?;
            if let Some(u) = uses.first() {
                // The bag's code is scanned at the till (the lot's last code, so the trace
                // page's sample code stays an unsold one).
                scanned.extend(
                    domain::lots::unit_codes_of(db, l.id)
                        .await?
                        .last()
                        .map(|c| c.code.clone()),
                );
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
            unit_codes: scanned.clone(),
        };
        ctx(
            domain::stock::counter_sale(db, &owner, input)
                .await
                .map(|_| ()),
            || "demo sale".into(),
        )?;
        market_watch_examples(db, county_store, dealer_ids, &clerk, &scanned).await?;
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

/// What the bureau's signals page shows on a demo: the county store's position (Shayang town,
/// 30.71 N 112.59 E), and the bag sold above turning up again: at another dealer's till (the
/// sale is refused and the code flagged: a resold code) and on the trace page in Wuhan, some
/// 170 km away (a far scan).
async fn market_watch_examples(
    db: &DatabaseTransaction,
    county_store: i64,
    dealer_ids: &[i64],
    clerk: &impl Fn(i64) -> Actor,
    scanned: &[String],
) -> anyhow::Result<()> {
    use domain::entities::{dealer, offer, unit_code};
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let Some(code) = scanned.first() else {
        return Ok(());
    };
    let mut d: dealer::ActiveModel = domain::regions::dealer(db, county_store).await?.into();
    d.lat = sea_orm::Set(Some(30.71));
    d.lon = sea_orm::Set(Some(112.59));
    sea_orm::ActiveModelTrait::update(d, db).await?;
    if let Some(other) = dealer_ids.get(1) {
        let o = offer::Entity::find()
            .filter(offer::Column::DealerId.eq(*other))
            .order_by_asc(offer::Column::Id)
            .one(db)
            .await?;
        if let Some(o) = o {
            let again = domain::stock::counter_sale(
                db,
                &clerk(*other),
                domain::stock::CounterSaleInput {
                    dealer_id: *other,
                    location_id: None,
                    lines: vec![domain::stock::SaleLineInput {
                        sku_id: o.sku_id,
                        quantity: 1,
                        unit_price_fen: None,
                    }],
                    buyer: domain::stock::Buyer::default(),
                    crop: None,
                    target: None,
                    unit_codes: vec![code.clone()],
                },
            )
            .await;
            if again.is_ok() {
                return Err(anyhow!("demo data: a sold code was sold again"));
            }
        }
    }
    if let Some(u) = unit_code::Entity::find()
        .filter(unit_code::Column::Code.eq(code.as_str()))
        .one(db)
        .await?
    {
        domain::bureau::signals::record_scan(
            db,
            &u,
            domain::bureau::signals::Scanner::TracePage(None),
            Some((30.59, 114.30)),
        )
        .await?;
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
