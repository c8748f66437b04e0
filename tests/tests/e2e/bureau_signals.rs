//! The bureau's counterfeit and misuse signals, dealers' records and farmers' complaints: each
//! signal raised by a scenario that should raise it and not by its near miss (sold once;
//! scanned nearby and in the same county; a dose at the label maximum; a licence valid on the
//! sale date), who may see what (another county's regulator, farmers and dealers refused; a
//! farmer sees only their own complaints and photos), and the complaint form with its photo.

use domain::accounts::Actor;
use domain::bureau::signals::{Scanner, Signal, SignalFilter, SignalKind, record_scan, signals};
use domain::bureau::{complaints, records};
use domain::entities::{app_user, complaint, dealer, field, licence, unit_code};
use domain::stock::{Buyer, CounterSaleInput, SaleLineInput, StockView};
use domain::types::{Category, ComplaintStatus, LicenceKind, Role};
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const OWNER: &str = "13800000004";
const REGULATOR: &str = "13800000002";
const FARMER: &str = "13800000006";
const FARMER2: &str = "13800000007";

async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    app.load_demo().await;
    app
}

async fn user(app: &TestApp, phone: &str) -> app_user::Model {
    app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(phone))
        .one(app.db())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {phone}"))
}

async fn actor(app: &TestApp, phone: &str) -> Actor {
    domain::accounts::actor_for(app.db(), &user(app, phone).await)
        .await
        .unwrap()
}

/// Sellable stock at the owner's store of a product matching `pick`, with at least `n` units.
async fn stock_where(
    app: &TestApp,
    a: &Actor,
    n: i64,
    pick: impl Fn(&StockView) -> bool,
) -> StockView {
    let store = domain::regions::store_location(app.db(), a.dealer_id.unwrap())
        .await
        .unwrap();
    domain::stock::stock_of_dealer(app.db(), a, a.dealer_id.unwrap(), None)
        .await
        .unwrap()
        .into_iter()
        .find(|v| {
            v.disposition == domain::lots::LotState::Sellable
                && v.location.id == store.id
                && v.available() >= n
                && pick(v)
        })
        .expect("the demo store has such stock")
}

async fn sell(
    app: &TestApp,
    a: &Actor,
    sku_id: i64,
    quantity: i64,
    buyer: Buyer,
    crop_target: Option<(String, String)>,
    codes: Vec<String>,
) -> domain::Result<i64> {
    domain::stock::counter_sale(
        app.db(),
        a,
        CounterSaleInput {
            dealer_id: a.dealer_id.unwrap(),
            location_id: None,
            lines: vec![SaleLineInput {
                sku_id,
                quantity,
                unit_price_fen: Some(1000),
            }],
            buyer,
            crop: crop_target.as_ref().map(|c| c.0.clone()),
            target: crop_target.map(|c| c.1),
            unit_codes: codes,
        },
    )
    .await
    .map(|(s, _, _)| s.id)
}

async fn of_kind(app: &TestApp, kind: SignalKind) -> Vec<Signal> {
    let reg = actor(app, REGULATOR).await;
    signals(
        app.db(),
        &reg,
        None,
        &SignalFilter {
            kind: Some(kind),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .1
}

/// A non-restricted pesticide lot at the store, one of its unit codes sold in a sale of one.
async fn sold_code(app: &TestApp, owner: &Actor) -> (StockView, unit_code::Model, i64) {
    let v = stock_where(app, owner, 2, |v| {
        v.product.category == Category::Pesticide && !v.product.restricted_use
    })
    .await;
    let codes = domain::lots::unit_codes_of(app.db(), v.lot.id)
        .await
        .unwrap();
    let u = codes[0].clone();
    let sale = sell(
        app,
        owner,
        v.sku.id,
        1,
        Buyer::default(),
        None,
        vec![u.code.clone()],
    )
    .await
    .expect("the first sale of a code goes through");
    (v, u, sale)
}

/// A second county with a township and a village, and a farmer living there.
async fn other_county(app: &TestApp) -> (i64, Actor) {
    use domain::regions::{Level, NewRegion, insert_region};
    let province = domain::entities::region::Entity::find()
        .filter(domain::entities::region::Column::Level.eq(Level::Province.as_str()))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mk = |level, parent, zh: &str, en: &str| NewRegion {
        level,
        parent_id: Some(parent),
        code: None,
        name_zh: zh.into(),
        name_en: en.into(),
    };
    let county = insert_region(
        app.db(),
        mk(Level::County, province.id, "钟祥市", "Zhongxiang"),
    )
    .await
    .unwrap();
    let town = insert_region(app.db(), mk(Level::Township, county.id, "胡集镇", "Huji"))
        .await
        .unwrap();
    let village = insert_region(
        app.db(),
        mk(Level::Village, town.id, "胡集村", "Huji Village"),
    )
    .await
    .unwrap();
    let u = app_user::ActiveModel {
        phone: Set("13900000555".into()),
        password_hash: Set("x".into()),
        role: Set(Role::Farmer),
        display_name: Set("外县农户".into()),
        village_id: Set(Some(village.id)),
        disabled: Set(false),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let a = domain::accounts::actor_for(app.db(), &u).await.unwrap();
    (county.id, a)
}

fn regulator_of(county: i64) -> Actor {
    Actor {
        user_id: 2,
        role: Role::Regulator,
        dealer_id: None,
        dealer_role: None,
        county_ids: vec![county],
        station_id: None,
        assisted_by: None,
    }
}

#[tokio::test]
async fn a_code_sold_once_is_quiet_and_sold_again_is_a_signal() {
    let app = demo_app().await;
    let owner = actor(&app, OWNER).await;
    let (v, u, first) = sold_code(&app, &owner).await;
    assert!(
        !of_kind(&app, SignalKind::ResoldCode)
            .await
            .iter()
            .any(|s| s.unit_code.as_deref() == Some(&u.code)),
        "a code sold once raises nothing"
    );
    // A trace-page look-up of the sold code is what a buyer does: no resale.
    let farmer = actor(&app, FARMER).await;
    record_scan(app.db(), &u, Scanner::TracePage(Some(&farmer)), None)
        .await
        .unwrap();
    let of_code = |all: Vec<Signal>| {
        all.into_iter()
            .filter(|s| s.unit_code.as_deref() == Some(u.code.as_str()))
            .collect::<Vec<_>>()
    };
    assert!(of_code(of_kind(&app, SignalKind::ResoldCode).await).is_empty());
    let again = sell(
        &app,
        &owner,
        v.sku.id,
        1,
        Buyer::default(),
        None,
        vec![u.code.clone()],
    )
    .await
    .expect_err("a sold code is refused at the till");
    assert!(
        format!("{again:?}").contains("CodeAlreadySold"),
        "{again:?}"
    );
    let found = of_code(of_kind(&app, SignalKind::ResoldCode).await);
    assert_eq!(found.len(), 1, "{found:?}");
    let s = &found[0];
    assert_eq!(s.unit_code.as_deref(), Some(u.code.as_str()));
    assert_eq!(s.sale_id, Some(first));
    assert_eq!(s.lot_id, v.lot.id);
    assert_eq!(s.dealer_id, owner.dealer_id.unwrap());
    assert!(
        s.evidence_zh.contains(&u.code) && s.evidence_en.contains("1 time"),
        "{}",
        s.evidence_en
    );
}

#[tokio::test]
async fn a_code_scanned_far_from_its_seller_is_a_signal_and_nearby_is_not() {
    let app = demo_app().await;
    let owner = actor(&app, OWNER).await;
    // The store in Shayang town.
    let mut d: dealer::ActiveModel = dealer::Entity::find_by_id(owner.dealer_id.unwrap())
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .into();
    d.lat = Set(Some(30.709));
    d.lon = Set(Some(112.588));
    d.update(app.db()).await.unwrap();
    let (v, u, sale) = sold_code(&app, &owner).await;
    // Near misses: a farmer of the county, and an anonymous reader about 11 km away.
    let farmer = actor(&app, FARMER).await;
    record_scan(app.db(), &u, Scanner::TracePage(Some(&farmer)), None)
        .await
        .unwrap();
    record_scan(
        app.db(),
        &u,
        Scanner::TracePage(None),
        Some((30.80, 112.63)),
    )
    .await
    .unwrap();
    // An unsold code of the same lot scanned anywhere is no sign of anything.
    let unsold = domain::lots::unit_codes_of(app.db(), v.lot.id)
        .await
        .unwrap()[1]
        .clone();
    record_scan(
        app.db(),
        &unsold,
        Scanner::TracePage(None),
        Some((39.9, 116.4)),
    )
    .await
    .unwrap();
    let of_sale = |all: Vec<Signal>| {
        all.into_iter()
            .filter(|s| s.sale_id == Some(sale))
            .collect::<Vec<_>>()
    };
    assert!(of_sale(of_kind(&app, SignalKind::FarScan).await).is_empty());
    // About 100 km away (Wuhan's outskirts are further; this is Jingmen-Suizhou way).
    record_scan(
        app.db(),
        &u,
        Scanner::TracePage(None),
        Some((31.30, 113.40)),
    )
    .await
    .unwrap();
    let found = of_sale(of_kind(&app, SignalKind::FarScan).await);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].sale_id, Some(sale));
    assert_eq!(found[0].lot_id, v.lot.id);
    assert!(
        found[0].evidence_en.contains(" km from the seller"),
        "{}",
        found[0].evidence_en
    );
    let km = domain::bureau::signals::distance_km(30.709, 112.588, 31.30, 113.40);
    assert!(
        found[0].evidence_zh.contains(&format!("{km:.0} 公里")),
        "{} / {km}",
        found[0].evidence_zh
    );
    // A farmer of another county scanning it, with no coordinates.
    let (_, outsider) = other_county(&app).await;
    record_scan(app.db(), &u, Scanner::TracePage(Some(&outsider)), None)
        .await
        .unwrap();
    let found = of_sale(of_kind(&app, SignalKind::FarScan).await);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].evidence_zh.contains("胡集村")
            && found[0].evidence_en.contains("outside the seller's county")
    );
    // Coordinates are kept to 0.01 degree only.
    let scans = domain::entities::code_scan::Entity::find()
        .filter(domain::entities::code_scan::Column::UnitCodeId.eq(u.id))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(scans.len(), 4);
    assert!(
        scans
            .iter()
            .filter_map(|s| s.lat)
            .all(|l| ((l * 100.0).round() - l * 100.0).abs() < 1e-6)
    );
}

#[tokio::test]
async fn a_restricted_pesticide_above_the_label_dose_is_a_signal_and_at_the_maximum_is_not() {
    let app = demo_app().await;
    let owner = actor(&app, OWNER).await;
    let v = stock_where(&app, &owner, 5, |v| v.product.restricted_use).await;
    let u = domain::catalog::uses_by_products(app.db(), &[v.product.id])
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let pack = match v.sku.pack_unit.as_str() {
        "kg" | "L" => v.sku.pack_size * 1000.0,
        _ => v.sku.pack_size,
    };
    // A farmer with one field whose season allows exactly two packs.
    let area = 2.0 * pack / (u.dose_max * f64::from(u.max_applications));
    let buyer = app_user::ActiveModel {
        phone: Set("13900000321".into()),
        password_hash: Set("x".into()),
        role: Set(Role::Farmer),
        display_name: Set("种植户".into()),
        real_name: Set(Some("王大山".into())),
        id_number: Set(Some("11010519491231002X".into())),
        verified_at: Set(Some(chrono::Utc::now())),
        disabled: Set(false),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let village = user(&app, FARMER).await.village_id.unwrap();
    field::ActiveModel {
        farmer_id: Set(buyer.id),
        name: Set("东头".into()),
        area_mu: Set(area),
        village_id: Set(village),
        soil_type: Set("PADDY".into()),
        irrigation: Set("IRRIGATED".into()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let who = || Buyer {
        user_id: Some(buyer.id),
        ..Default::default()
    };
    let use_ = Some((u.crop.clone(), u.target_zh.clone()));
    let at_max = sell(&app, &owner, v.sku.id, 2, who(), use_.clone(), vec![])
        .await
        .unwrap();
    let found = of_kind(&app, SignalKind::AboveLabelDose).await;
    assert!(
        !found.iter().any(|s| s.sale_id == Some(at_max)),
        "{found:?}"
    );
    let above = sell(&app, &owner, v.sku.id, 3, who(), use_, vec![])
        .await
        .unwrap();
    let found = of_kind(&app, SignalKind::AboveLabelDose).await;
    let mine: Vec<&Signal> = found
        .iter()
        .filter(|s| s.sale_id == Some(above) || s.sale_id == Some(at_max))
        .collect();
    assert_eq!(mine.len(), 1, "{found:?}");
    assert_eq!(mine[0].sale_id, Some(above));
    assert_eq!(mine[0].lot_id, v.lot.id);
    let total = 3.0 * pack;
    assert!(
        mine[0].evidence_en.contains(&format!("{total} "))
            && mine[0].evidence_en.contains("3 pack(s)"),
        "{}",
        mine[0].evidence_en
    );
}

#[tokio::test]
async fn a_sale_outside_the_licence_is_a_signal_and_a_licence_valid_that_day_is_not() {
    let app = demo_app().await;
    let owner = actor(&app, OWNER).await;
    let dealer_id = owner.dealer_id.unwrap();
    let v = stock_where(&app, &owner, 2, |v| {
        v.product.category == Category::Pesticide && !v.product.restricted_use
    })
    .await;
    let sale = sell(&app, &owner, v.sku.id, 1, Buyer::default(), None, vec![])
        .await
        .unwrap();
    let day = domain::local_date(
        domain::entities::sale::Entity::find_by_id(sale)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .sold_at,
    );
    let ours = |found: Vec<Signal>| {
        found
            .into_iter()
            .filter(|s| s.sale_id == Some(sale))
            .collect::<Vec<_>>()
    };
    assert!(ours(of_kind(&app, SignalKind::OutsideLicence).await).is_empty());
    let set_to = |to: chrono::NaiveDate| {
        let db = app.db().clone();
        async move {
            licence::Entity::update_many()
                .col_expr(
                    licence::Column::ValidTo,
                    sea_orm::sea_query::Expr::value(to),
                )
                .filter(licence::Column::DealerId.eq(dealer_id))
                .filter(licence::Column::Kind.eq(LicenceKind::PesticideBusiness.as_str()))
                .exec(&db)
                .await
                .unwrap();
        }
    };
    // Valid through the sale's (China) date: still within the licence.
    set_to(day).await;
    assert!(ours(of_kind(&app, SignalKind::OutsideLicence).await).is_empty());
    // Expired the day before: the sale was outside it.
    set_to(day.pred_opt().unwrap()).await;
    let found = ours(of_kind(&app, SignalKind::OutsideLicence).await);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].lot_id, v.lot.id);
    assert!(
        found[0].evidence_zh.contains("农药经营许可证"),
        "{}",
        found[0].evidence_zh
    );
    assert!(
        !found[0].evidence_zh.contains("限制使用"),
        "{}",
        found[0].evidence_zh
    );
    // The date filter: a range ending the day before the sale leaves it out.
    let reg = actor(&app, REGULATOR).await;
    let (_, before) = signals(
        app.db(),
        &reg,
        None,
        &SignalFilter {
            kind: Some(SignalKind::OutsideLicence),
            to: day.pred_opt(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!before.iter().any(|s| s.sale_id == Some(sale)));
    // The dealer's record lists it, and its licence as expired.
    let r = records::dealer_record(app.db(), &reg, dealer_id)
        .await
        .unwrap();
    assert!(r.signals.iter().any(|s| s.sale_id == Some(sale)));
    assert!(
        r.licences
            .iter()
            .any(|l| l.licence.kind == LicenceKind::PesticideBusiness && !l.valid)
    );
    let csv = domain::bureau::signals::signals_csv(&found, domain::Lang::En);
    assert!(csv.starts_with("\u{feff}kind,when,dealer"), "{csv}");
    assert_eq!(csv.lines().count(), 2);
}

#[tokio::test]
async fn only_the_countys_regulators_and_admins_see_signals_and_records() {
    let app = demo_app().await;
    let reg = actor(&app, REGULATOR).await;
    let admin = actor(&app, "13800000001").await;
    let owner = actor(&app, OWNER).await;
    let farmer = actor(&app, FARMER).await;
    let demo_county = reg.county_ids[0];
    let (other, _) = other_county(&app).await;
    let f = SignalFilter::default();
    assert_eq!(
        signals(app.db(), &reg, None, &f).await.unwrap().0.id,
        demo_county
    );
    assert_eq!(
        signals(app.db(), &admin, Some(demo_county), &f)
            .await
            .unwrap()
            .0
            .id,
        demo_county
    );
    let stranger = regulator_of(other);
    for (who, a) in [
        ("other county", &stranger),
        ("dealer", &owner),
        ("farmer", &farmer),
    ] {
        assert!(
            signals(app.db(), a, Some(demo_county), &f).await.is_err(),
            "{who} reads the county's signals"
        );
        assert!(
            records::dealer_record(app.db(), a, owner.dealer_id.unwrap())
                .await
                .is_err(),
            "{who} reads a dealer's record"
        );
        assert!(
            records::county_dealers(app.db(), a, Some(demo_county))
                .await
                .is_err(),
            "{who} lists the county's dealers"
        );
    }
    // The other county's regulator sees their own (empty) county.
    let (c, rows) = records::county_dealers(app.db(), &stranger, None)
        .await
        .unwrap();
    assert_eq!(c.id, other);
    assert!(rows.is_empty());
    let (_, rows) = records::county_dealers(app.db(), &reg, None).await.unwrap();
    assert!(rows.iter().any(|r| r.dealer.id == owner.dealer_id.unwrap()));
}

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 0xFF, 0xD9,
];

#[tokio::test]
async fn complaints_are_seen_by_their_farmer_and_the_countys_regulators_only() {
    let app = demo_app().await;
    let farmer = actor(&app, FARMER).await;
    let farmer2 = actor(&app, FARMER2).await;
    let reg = actor(&app, REGULATOR).await;
    let owner = actor(&app, OWNER).await;
    let (v, u, _) = sold_code(&app, &owner).await;
    let before = complaint::Entity::find().count(app.db()).await.unwrap();
    // Bad photos are refused with a clear message, and nothing is stored.
    for (bytes, code, words) in [
        (
            b"GIF89a-not-allowed".to_vec(),
            "InvalidFormat",
            "JPEG, PNG or WebP",
        ),
        (
            [JPEG, &vec![0u8; complaints::MAX_PHOTO_BYTES]].concat(),
            "TooLong",
            "at most 2 MB",
        ),
    ] {
        let e = complaints::file_complaint(
            app.db(),
            &farmer,
            complaints::ComplaintInput {
                code: Some(u.code.clone()),
                body: "包装可疑".into(),
                photo: Some(complaints::Photo {
                    declared_type: Some("image/jpeg".into()),
                    bytes,
                }),
                ..Default::default()
            },
        )
        .await
        .expect_err("a bad photo is refused");
        assert!(format!("{e:?}").contains(code), "{e:?}");
        assert!(
            e.message(domain::Lang::En).contains(words),
            "{}",
            e.message(domain::Lang::En)
        );
    }
    assert_eq!(
        complaint::Entity::find().count(app.db()).await.unwrap(),
        before
    );
    let c = complaints::file_complaint(
        app.db(),
        &farmer,
        complaints::ComplaintInput {
            code: Some(u.code.clone()),
            body: "药效很差，怀疑是假药".into(),
            photo: Some(complaints::Photo {
                declared_type: None,
                bytes: JPEG.to_vec(),
            }),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(c.lot_id, Some(v.lot.id));
    assert_eq!(c.dealer_id, owner.dealer_id, "the seller of the unit");
    assert_eq!(c.county_id, reg.county_ids[0]);
    // Too long a text is refused.
    let e = complaints::file_complaint(
        app.db(),
        &farmer,
        complaints::ComplaintInput {
            code: Some(u.code.clone()),
            body: "长".repeat(complaints::MAX_BODY_CHARS + 1),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(format!("{e:?}").contains("TooLong"));
    assert_eq!(
        complaints::my_complaints(app.db(), &farmer)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        complaints::my_complaints(app.db(), &farmer2)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        complaints::complaint(app.db(), &farmer2, c.id)
            .await
            .is_err()
    );
    assert!(
        complaints::complaint_photo(app.db(), &farmer2, c.id)
            .await
            .is_err()
    );
    assert!(
        complaints::complaint_photo(app.db(), &owner, c.id)
            .await
            .is_err()
    );
    let (other, _) = other_county(&app).await;
    assert!(
        complaints::complaint_photo(app.db(), &regulator_of(other), c.id)
            .await
            .is_err()
    );
    let (t, bytes) = complaints::complaint_photo(app.db(), &farmer, c.id)
        .await
        .unwrap();
    assert_eq!((t.as_str(), bytes.as_slice()), ("image/jpeg", JPEG));
    assert!(
        complaints::complaint_photo(app.db(), &reg, c.id)
            .await
            .is_ok()
    );
    // Only a regulator of the county records the outcome.
    for a in [&farmer, &owner, &regulator_of(other)] {
        assert!(
            complaints::resolve_complaint(app.db(), a, c.id, ComplaintStatus::Resolved, "x")
                .await
                .is_err()
        );
    }
    assert!(
        complaints::resolve_complaint(app.db(), &reg, c.id, ComplaintStatus::Resolved, "  ")
            .await
            .is_err(),
        "an outcome needs words"
    );
    complaints::resolve_complaint(
        app.db(),
        &reg,
        c.id,
        ComplaintStatus::Resolved,
        "已抽检该批次，责令经销商下架",
    )
    .await
    .unwrap();
    let mine = complaints::my_complaints(app.db(), &farmer).await.unwrap();
    assert_eq!(mine[0].c.status, ComplaintStatus::Resolved);
    assert_eq!(
        mine[0].c.outcome.as_deref(),
        Some("已抽检该批次，责令经销商下架")
    );
    let r = records::dealer_record(app.db(), &reg, owner.dealer_id.unwrap())
        .await
        .unwrap();
    assert_eq!(r.complaints.len(), 1);
    assert!(r.complaints[0].has_photo);
    let (_, rows) = records::county_dealers(app.db(), &reg, None).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.dealer.id == owner.dealer_id.unwrap())
        .unwrap();
    assert_eq!((row.complaints, row.open_complaints), (1, 0));
}

async fn signed_in(app: &TestApp, phone: &str, password: &str) -> Browser {
    let mut b = Browser::new(app);
    b.sign_in(phone, password).await;
    b
}

#[tokio::test]
async fn the_complaint_form_round_trip_over_http() {
    let app = demo_app().await;
    let owner = actor(&app, OWNER).await;
    let (_, u, _) = sold_code(&app, &owner).await;
    let mut farmer = signed_in(&app, FARMER, "demo-farmer-2026").await;
    // The trace page leads to the form.
    let t = farmer.get(&format!("/t/{}", u.code)).await;
    assert_eq!(t.status, 200);
    assert!(t.body.contains(&format!("/complaints/new?code={}", u.code)));
    let form = farmer
        .get(&format!("/complaints/new?code={}", u.code))
        .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let csrf = form.csrf();
    let before = complaint::Entity::find().count(app.db()).await.unwrap();
    let fields = [
        ("csrf", csrf.as_str()),
        ("code", u.code.as_str()),
        ("body", "包装印刷模糊，怀疑假药"),
    ];
    // A wrong type and a photo over 2 MB are refused in words, the text kept, nothing stored.
    let bad = farmer
        .post_multipart("/complaints", &fields, ("photo", "a.gif", b"GIF89a-------"))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("JPEG、PNG 或 WebP"), "{}", bad.body);
    assert!(bad.body.contains("包装印刷模糊"));
    let big = [JPEG, &vec![0u8; 2 * 1024 * 1024 + 10]].concat();
    let bad = farmer
        .post_multipart("/complaints", &fields, ("photo", "big.jpg", &big))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("最大 2 MB"), "{}", bad.body);
    assert_eq!(
        complaint::Entity::find().count(app.db()).await.unwrap(),
        before
    );
    let ok = farmer
        .post_multipart("/complaints", &fields, ("photo", "bag.jpg", JPEG))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let id = complaint::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .last()
        .unwrap()
        .id;
    let mine = farmer.get("/complaints").await;
    assert!(mine.body.contains("包装印刷模糊") && mine.body.contains("待处理"));
    let photo = farmer.get(&format!("/complaints/{id}/photo")).await;
    assert_eq!(photo.status, 200);
    assert_eq!(photo.headers["content-type"], "image/jpeg");
    // Another farmer, and the dealer, get nothing.
    let mut other = signed_in(&app, FARMER2, "demo-farmer2-2026").await;
    assert_eq!(
        other.get(&format!("/complaints/{id}/photo")).await.status,
        404
    );
    assert!(!other.get("/complaints").await.body.contains("包装印刷模糊"));
    let mut dealer = signed_in(&app, OWNER, "demo-dealer-2026").await;
    assert_ne!(
        dealer.get(&format!("/complaints/{id}/photo")).await.status,
        200
    );
    // The regulator sees it on the dealer's record and records the outcome.
    let mut reg = signed_in(&app, REGULATOR, "demo-regulator-2026").await;
    let rec = reg
        .get(&format!("/bureau/dealers/{}", owner.dealer_id.unwrap()))
        .await;
    assert_eq!(rec.status, 200);
    assert!(
        rec.body.contains("包装印刷模糊") && rec.body.contains(&format!("/complaints/{id}/photo"))
    );
    assert_eq!(
        reg.get(&format!("/complaints/{id}/photo")).await.status,
        200
    );
    let idem = rec.field("idem").unwrap();
    let empty = reg
        .post(
            &format!("/bureau/complaints/{id}/resolve"),
            &[
                ("csrf", &rec.csrf()),
                ("idem", &idem),
                ("status", "RESOLVED"),
                ("outcome", " "),
            ],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("请写明处理结果"));
    let rec = reg
        .get(&format!("/bureau/dealers/{}", owner.dealer_id.unwrap()))
        .await;
    let done = reg
        .post(
            &format!("/bureau/complaints/{id}/resolve"),
            &[
                ("csrf", &rec.csrf()),
                ("idem", &rec.field("idem").unwrap()),
                ("status", "RESOLVED"),
                ("outcome", "已抽检，该批次合格；经销商已调换"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let mine = farmer.get("/complaints").await;
    assert!(mine.body.contains("已抽检，该批次合格；经销商已调换") && mine.body.contains("已处理"));
    // A farmer cannot record outcomes.
    let f = farmer.get("/complaints").await;
    let refused = farmer
        .post(
            &format!("/bureau/complaints/{id}/resolve"),
            &[
                ("csrf", &f.csrf()),
                ("idem", "x"),
                ("status", "DISMISSED"),
                ("outcome", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn the_signals_page_lists_links_and_downloads() {
    let app = demo_app().await;
    let owner = actor(&app, OWNER).await;
    let (v, u, sale) = sold_code(&app, &owner).await;
    let _ = sell(
        &app,
        &owner,
        v.sku.id,
        1,
        Buyer::default(),
        None,
        vec![u.code.clone()],
    )
    .await;
    // The trace page records the look-up, with coordinates rounded to 0.01 degree.
    let mut anon = Browser::new(&app);
    assert_eq!(
        anon.get(&format!("/t/{}?lat=39.90412&lon=116.40741", u.code))
            .await
            .status,
        200
    );
    let scans = domain::entities::code_scan::Entity::find()
        .filter(domain::entities::code_scan::Column::Source.eq("TRACE_PAGE"))
        .filter(domain::entities::code_scan::Column::UnitCodeId.eq(u.id))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(scans.len(), 1);
    assert_eq!(
        (scans[0].lat, scans[0].lon, scans[0].user_id),
        (Some(39.9), Some(116.41), None)
    );
    let mut reg = signed_in(&app, REGULATOR, "demo-regulator-2026").await;
    let p = reg.get("/bureau/signals?kind=RESOLD_CODE").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("data-kind=\"RESOLD_CODE\""), "{}", p.body);
    assert!(p.body.contains(&format!("/bureau/lots/{}", v.lot.id)));
    assert!(p.body.contains(&format!("/bureau/sales/{sale}")));
    assert!(!p.body.contains("data-kind=\"OUTSIDE_LICENCE\""));
    let s = reg.get(&format!("/bureau/sales/{sale}")).await;
    assert_eq!(s.status, 200);
    assert!(s.body.contains(&u.code));
    let csv = reg
        .get("/bureau/signals.csv?kind=RESOLD_CODE&from=&to=")
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(csv.body.contains(&u.code) && csv.body.starts_with("\u{feff}类型"));
    assert_eq!(reg.get("/bureau/signals?from=2026-13-01").await.status, 422);
    let list = reg.get("/bureau/dealers").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body
            .contains(&format!("/bureau/dealers/{}", owner.dealer_id.unwrap()))
    );
    for (phone, pw) in [(FARMER, "demo-farmer-2026"), (OWNER, "demo-dealer-2026")] {
        let mut b = signed_in(&app, phone, pw).await;
        for path in ["/bureau/signals", "/bureau/dealers", "/bureau/signals.csv"] {
            assert_eq!(b.get(path).await.status, 403, "{phone} {path}");
        }
        assert_eq!(b.get(&format!("/bureau/sales/{sale}")).await.status, 403);
    }
    assert_eq!(Browser::new(&app).get("/bureau/signals").await.status, 303);
}

const FILE: &str = "mutation($i: ComplaintFileInput!) { complaintFile(input: $i) { id status code hasPhoto photoUrl dealerName } }";
const RESOLVE: &str = "mutation($id: ID!, $o: String!) { complaintResolve(id: $id, status: RESOLVED, outcome: $o) { id status outcome } }";

#[tokio::test]
async fn complaint_mutations_check_the_role() {
    use base64::Engine;
    use serde_json::json;
    let app = demo_app().await;
    let owner = actor(&app, OWNER).await;
    let (_, u, _) = sold_code(&app, &owner).await;
    let mut tokens = std::collections::HashMap::new();
    for role in [
        "ADMIN",
        "REGULATOR",
        "AGRONOMIST",
        "DEALER (OWNER)",
        "DEALER (STAFF)",
        "FARMER",
    ] {
        tokens.insert(role, app.demo_token(role).await);
    }
    let photo = base64::engine::general_purpose::STANDARD.encode(JPEG);
    let vars = json!({ "i": { "code": u.code, "body": "瓶盖破损", "photoBase64": photo } });
    assert_eq!(
        app.gql(FILE, vars.clone(), None).await.error_code(),
        Some("UNAUTHENTICATED")
    );
    for role in [
        "ADMIN",
        "REGULATOR",
        "AGRONOMIST",
        "DEALER (OWNER)",
        "DEALER (STAFF)",
    ] {
        let r = app.gql(FILE, vars.clone(), Some(&tokens[role])).await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{role}: {:#}", r.body);
    }
    let filed = app
        .gql(FILE, vars.clone(), Some(&tokens["FARMER"]))
        .await
        .ok();
    let c = &filed["complaintFile"];
    assert_eq!(c["status"], "OPEN");
    assert_eq!(c["hasPhoto"], true);
    assert!(c["photoUrl"].as_str().unwrap().starts_with("/complaints/"));
    let id = c["id"].clone();
    let bad = app
        .gql(
            FILE,
            json!({ "i": { "code": u.code, "body": "x", "photoBase64": "R0lGODlhAQABAAAAACw=" } }),
            Some(&tokens["FARMER"]),
        )
        .await;
    assert!(bad.body.to_string().contains("JPEG"), "{:#}", bad.body);
    let rv = json!({ "id": id, "o": "已责令下架" });
    assert_eq!(
        app.gql(RESOLVE, rv.clone(), None).await.error_code(),
        Some("UNAUTHENTICATED")
    );
    for role in ["FARMER", "AGRONOMIST", "DEALER (OWNER)", "DEALER (STAFF)"] {
        let r = app.gql(RESOLVE, rv.clone(), Some(&tokens[role])).await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{role}: {:#}", r.body);
    }
    for role in ["REGULATOR", "ADMIN"] {
        let r = app.gql(RESOLVE, rv.clone(), Some(&tokens[role])).await.ok();
        assert_eq!(r["complaintResolve"]["status"], "RESOLVED", "{role}");
    }
    // The queries: the farmer sees their own complaint and its outcome; signals and records are
    // the bureau's.
    let mine = app
        .gql(
            "{ complaints { id status outcome } }",
            json!({}),
            Some(&tokens["FARMER"]),
        )
        .await
        .ok();
    assert_eq!(mine["complaints"][0]["outcome"], "已责令下架");
    let county = app
        .gql(
            "{ complaints { id } }",
            json!({}),
            Some(&tokens["REGULATOR"]),
        )
        .await
        .ok();
    assert_eq!(county["complaints"].as_array().unwrap().len(), 1);
    const SIGNALS: &str = "{ bureauSignals(kind: RESOLD_CODE) { kind lotUrl evidence saleId } }";
    for role in ["FARMER", "AGRONOMIST", "DEALER (OWNER)"] {
        let r = app.gql(SIGNALS, json!({}), Some(&tokens[role])).await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{role}");
    }
    let s = app
        .gql(SIGNALS, json!({}), Some(&tokens["REGULATOR"]))
        .await
        .ok();
    // The demo's resold bag.
    let list = s["bureauSignals"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{s:#}");
    assert!(
        list[0]["lotUrl"]
            .as_str()
            .unwrap()
            .starts_with("/bureau/lots/")
    );
    assert!(list[0]["saleId"].is_string());
    let dealers = app.gql("{ dealers { id } }", json!({}), None).await.ok();
    let rec = app
        .gql(
            "query($d: ID!) { dealerRecord(dealerId: $d) { name licences { kind valid } complaints { id } } }",
            json!({ "d": dealers["dealers"][0]["id"] }),
            Some(&tokens["REGULATOR"]),
        )
        .await
        .ok();
    assert!(
        !rec["dealerRecord"]["licences"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = app
        .gql(
            "query($d: ID!) { dealerRecord(dealerId: $d) { name } }",
            json!({ "d": dealers["dealers"][0]["id"] }),
            Some(&tokens["FARMER"]),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
}
