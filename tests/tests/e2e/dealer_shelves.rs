//! The dealer console's shelves, prices and offers, credit book and ledgers, through the pages
//! as a shop PC's browser uses them: who may open them (a dealer's staff see only their own
//! dealer's stock, offers, credit and ledgers; farmers get 403; a signed-out browser signs in),
//! forms for another dealer's lots and offers refused with nothing changed, one-shot forms,
//! refusals that keep what was typed, and the ledger CSV with its number column.

use domain::entities::{app_user, credit_account, lot, offer, stock, transfer};
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

const OWNER_A: (&str, &str) = ("13800000004", "demo-dealer-2026");
const STAFF_B: (&str, &str) = ("13800000005", "demo-staff-2026");
const FARMER: (&str, &str) = ("13800000006", "demo-farmer-2026");
const PAGES: &[&str] = &[
    "/dealer/shelves",
    "/dealer/offers",
    "/dealer/credit",
    "/dealer/ledgers",
    "/dealer/ledgers.csv?kind=SALE",
];

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
        .unwrap()
}

async fn signed_in(app: &TestApp, who: (&str, &str)) -> Browser {
    let mut b = Browser::new(app);
    b.sign_in(who.0, who.1).await;
    b
}

/// A dealer's stock rows with something on hand.
async fn stock_of(app: &TestApp, dealer_id: i64) -> Vec<stock::Model> {
    stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::OnHand.gt(0))
        .all(app.db())
        .await
        .unwrap()
}

async fn on_hand(app: &TestApp, id: i64) -> i64 {
    stock::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .on_hand
}

#[tokio::test]
async fn console_pages_refuse_the_wrong_visitor() {
    let app = demo_app().await;
    let mut anon = Browser::new(&app);
    for path in PAGES {
        let p = anon.get(path).await;
        assert_eq!(p.status, 303, "{path}");
        assert!(p.location.unwrap().starts_with("/login?next="), "{path}");
    }
    let mut farmer = signed_in(&app, FARMER).await;
    for path in PAGES {
        assert_eq!(farmer.get(path).await.status, 403, "farmer {path}");
    }
    let csrf = farmer.get("/cart").await.csrf();
    for path in [
        "/dealer/shelves/adjust",
        "/dealer/offers/set",
        "/dealer/credit/repay",
    ] {
        let p = farmer.post(path, &[("csrf", &csrf)]).await;
        assert_eq!(p.status, 403, "farmer posts {path}");
    }
    let mut a = signed_in(&app, OWNER_A).await;
    for path in &PAGES[..4] {
        assert_eq!(a.get(path).await.status, 200, "owner {path}");
    }
}

#[tokio::test]
async fn staff_of_one_dealer_never_see_or_change_another_dealers_shelves() {
    let app = demo_app().await;
    let a_id = user(&app, OWNER_A.0).await.dealer_id.unwrap();
    let b_id = user(&app, STAFF_B.0).await.dealer_id.unwrap();
    let a_stock = stock_of(&app, a_id).await;
    let b_stock = stock_of(&app, b_id).await;
    let a_lots: Vec<String> = lot::Entity::find()
        .filter(lot::Column::Id.is_in(a_stock.iter().map(|s| s.lot_id)))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.lot_no)
        .filter(|n| {
            // Lots both dealers stock are in both pages by right.
            !b_stock
                .iter()
                .any(|s| n.ends_with(&format!("{:04}", s.lot_id)))
        })
        .collect();
    let mut b = signed_in(&app, STAFF_B).await;
    let page = b.get("/dealer/shelves").await;
    assert_eq!(page.status, 200);
    // B's page shows B's stock rows only, by their lot-location keys.
    for s in &a_stock {
        assert!(
            !page
                .body
                .contains(&format!("data-stock=\"{}-{}\"", s.lot_id, s.location_id)),
            "dealer A's stock row {} on B's page",
            s.id
        );
    }
    assert!(!b_stock.is_empty());
    assert!(page.body.contains(&format!(
        "data-stock=\"{}-{}\"",
        b_stock[0].lot_id, b_stock[0].location_id
    )));
    // B cannot adjust, destroy or ship A's stock: refused, nothing moved.
    let target = &a_stock[0];
    let key = format!("{}-{}", target.lot_id, target.location_id);
    let before = on_hand(&app, target.id).await;
    let csrf = page.csrf();
    for (path, form) in [
        (
            "/dealer/shelves/adjust",
            vec![
                ("stock", key.as_str()),
                ("delta", "-1"),
                ("reason", "COUNT"),
                ("note", "x"),
            ],
        ),
        (
            "/dealer/shelves/destroy",
            vec![("stock", key.as_str()), ("quantity", "1"), ("reason", "x")],
        ),
    ] {
        let mut f = form.clone();
        f.push(("csrf", &csrf));
        let r = b.post(path, &f).await;
        assert!(
            [403, 404, 422].contains(&r.status),
            "{path}: {} {}",
            r.status,
            r.body
        );
        assert!(!r.body.contains(&format!("data-stock=\"{key}\"")));
    }
    assert_eq!(on_hand(&app, target.id).await, before, "nothing changed");

    // A ships to a station; B cannot receive A's transfer.
    let mut a = signed_in(&app, OWNER_A).await;
    let sp = a.get("/dealer/shelves").await;
    let to = stations_of(&sp.body);
    assert!(!to.is_empty(), "A serves villages with stations");
    let r = a
        .post(
            "/dealer/shelves/ship",
            &[
                ("csrf", &sp.csrf()),
                ("idem", "ship-1"),
                ("stock", &key),
                ("to", &to[0].to_string()),
                ("quantity", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(on_hand(&app, target.id).await, before - 2);
    // The same form key again: shipped once.
    let r = a
        .post(
            "/dealer/shelves/ship",
            &[
                ("csrf", &sp.csrf()),
                ("idem", "ship-1"),
                ("stock", &key),
                ("to", &to[0].to_string()),
                ("quantity", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(on_hand(&app, target.id).await, before - 2, "shipped once");
    let t = transfer::Entity::find()
        .filter(transfer::Column::DealerId.eq(a_id))
        .filter(transfer::Column::Status.eq(domain::stock::TransferStatus::InTransit))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let r = b
        .post(
            "/dealer/shelves/receive",
            &[("csrf", &csrf), ("transfer", &t.id.to_string())],
        )
        .await;
    assert_eq!(r.status, 403, "B receives A's transfer: {}", r.body);
    assert_eq!(
        transfer::Entity::find_by_id(t.id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .status,
        domain::stock::TransferStatus::InTransit
    );
    assert!(
        !b.get("/dealer/shelves")
            .await
            .body
            .contains(&format!("data-transfer=\"{}\"", t.id))
    );
    // A receives it at the station.
    let r = a
        .post(
            "/dealer/shelves/receive",
            &[("csrf", &sp.csrf()), ("transfer", &t.id.to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = a.get("/dealer/shelves?done=received").await.body;
    assert!(page.contains(&format!("data-stock=\"{}-{}\"", target.lot_id, to[0])));
    let _ = a_lots;
}

/// The station locations offered by the ship form's `to` select.
fn stations_of(body: &str) -> Vec<i64> {
    let i = body.find("name=\"to\"").expect("the ship form");
    let j = body[i..].find("</select>").unwrap() + i;
    body[i..j]
        .match_indices("<option value=\"")
        .filter_map(|(k, p)| {
            let rest = &body[i + k + p.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .skip(1) // the store itself
        .collect()
}

#[tokio::test]
async fn an_adjustment_needs_its_reason_and_a_refusal_keeps_what_was_typed() {
    let app = demo_app().await;
    let a_id = user(&app, OWNER_A.0).await.dealer_id.unwrap();
    let s = stock_of(&app, a_id).await.remove(0);
    let key = format!("{}-{}", s.lot_id, s.location_id);
    let mut a = signed_in(&app, OWNER_A).await;
    let csrf = a.get("/dealer/shelves").await.csrf();
    // No note and a non-number: both said, in Chinese, the typed values kept.
    let r = a
        .post(
            "/dealer/shelves/adjust",
            &[
                ("csrf", &csrf),
                ("idem", "adj-1"),
                ("stock", &key),
                ("delta", "三"),
                ("reason", "COUNT"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("增减数量：请填写整数"), "{}", r.body);
    assert!(r.body.contains("value=\"三\""));
    assert!(r.body.contains(&format!("value=\"{key}\" selected")));
    let r = a
        .post(
            "/dealer/shelves/adjust",
            &[
                ("csrf", &csrf),
                ("idem", "adj-1"),
                ("stock", &key),
                ("delta", "-1"),
                ("reason", "COUNT"),
                ("note", " "),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("不能为空"),
        "the note is required: {}",
        r.body
    );
    assert_eq!(on_hand(&app, s.id).await, s.on_hand);
    // With its reason it goes through once, however often the form is sent.
    for _ in 0..2 {
        let r = a
            .post(
                "/dealer/shelves/adjust",
                &[
                    ("csrf", &csrf),
                    ("idem", "adj-1"),
                    ("stock", &key),
                    ("delta", "-1"),
                    ("reason", "DAMAGE"),
                    ("note", "包装破损"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    assert_eq!(on_hand(&app, s.id).await, s.on_hand - 1);
    // In English too.
    let mut en = signed_in(&app, OWNER_A).await;
    en.lang = "en";
    let csrf = en.get("/dealer/shelves").await.csrf();
    let r = en
        .post(
            "/dealer/shelves/destroy",
            &[
                ("csrf", &csrf),
                ("stock", &key),
                ("quantity", "x"),
                ("reason", "expired"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Quantity: enter a whole number"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_recalled_lot_shows_what_to_pull_and_whom_to_call() {
    let app = demo_app().await;
    let a_id = user(&app, OWNER_A.0).await.dealer_id.unwrap();
    // The demo's real-name farmer bought at dealer A's counter: recall that lot.
    let line = domain::entities::sale_line::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a demo sale");
    let sale = domain::entities::sale::Entity::find_by_id(line.sale_id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sale.dealer_id, a_id);
    let admin = user(&app, "13800000001").await;
    let actor = domain::accounts::actor_for(app.db(), &admin).await.unwrap();
    domain::workflows::recall(app.db(), &actor, line.lot_id, "抽检不合格")
        .await
        .unwrap();
    let mut a = signed_in(&app, OWNER_A).await;
    let page = a.get("/dealer/shelves").await.body;
    assert!(page.contains("data-test=\"pull-list\""), "{page}");
    assert!(page.contains("data-test=\"call-buyer\""));
    let phone = sale.buyer_phone.clone().unwrap();
    assert!(
        page.contains(&format!("href=\"tel:{phone}\"")),
        "the buyer's phone"
    );
    assert!(page.contains(&format!("SALE-{}", sale.id)));
    // Dealer B did not sell it: B's page names no buyer of A's.
    let mut b = signed_in(&app, STAFF_B).await;
    assert!(!b.get("/dealer/shelves").await.body.contains(&phone));
}

#[tokio::test]
async fn prices_change_in_yuan_exactly_and_offers_are_withdrawn_only_by_their_dealer() {
    let app = demo_app().await;
    let a_id = user(&app, OWNER_A.0).await.dealer_id.unwrap();
    let o = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(a_id))
        .filter(offer::Column::Active.eq(true))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let id = o.id.to_string();
    let mut a = signed_in(&app, OWNER_A).await;
    let page = a.get("/dealer/offers").await;
    assert!(page.body.contains(&format!("data-offer=\"{id}\"")));
    // The villages the offers reach: the service area.
    assert!(page.body.contains("data-test=\"villages\""));
    let csrf = page.csrf();
    let price_of = async |app: &TestApp| {
        offer::Entity::find_by_id(o.id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
    };
    let r = a
        .post(
            "/dealer/offers/set",
            &[
                ("csrf", &csrf),
                ("offer", &id),
                ("price", "12.345"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("最多两位小数"), "{}", r.body);
    assert!(
        r.body.contains("value=\"12.345\""),
        "what was typed is kept"
    );
    assert_eq!(price_of(&app).await.price_fen, o.price_fen);
    let r = a
        .post(
            "/dealer/offers/set",
            &[
                ("csrf", &csrf),
                ("offer", &id),
                ("price", "128.1"),
                ("active", "1"),
                ("was", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(price_of(&app).await.price_fen, 12_810);
    // Dealer B cannot touch A's offer.
    let mut b = signed_in(&app, STAFF_B).await;
    let bp = b.get("/dealer/offers").await;
    assert!(!bp.body.contains(&format!("data-offer=\"{id}\"")));
    let r = b
        .post(
            "/dealer/offers/set",
            &[
                ("csrf", &bp.csrf()),
                ("offer", &id),
                ("price", "1"),
                ("active", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let now = price_of(&app).await;
    assert!(now.active && now.price_fen == 12_810, "nothing changed");
    // A withdraws it, then offers it again.
    let r = a
        .post(
            "/dealer/offers/set",
            &[
                ("csrf", &csrf),
                ("offer", &id),
                ("price", "128.10"),
                ("active", "0"),
                ("was", "1"),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/dealer/offers?done=withdrawn"));
    assert!(!price_of(&app).await.active);
    let r = a
        .post(
            "/dealer/offers/set",
            &[
                ("csrf", &csrf),
                ("offer", &id),
                ("price", "128.10"),
                ("active", "1"),
                ("was", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(price_of(&app).await.active);
}

#[tokio::test]
async fn the_credit_book_lists_who_owes_most_and_records_a_repayment_once() {
    let app = demo_app().await;
    let a_id = user(&app, OWNER_A.0).await.dealer_id.unwrap();
    let chen = user(&app, FARMER.0).await;
    let guo = user(&app, "13800000007").await;
    let mut a = signed_in(&app, OWNER_A).await;
    let csrf = a.get("/dealer/credit").await.csrf();
    for (phone, limit) in [(FARMER.0, "2000"), ("13800000007", "500.5")] {
        let r = a
            .post(
                "/dealer/credit/limit",
                &[("csrf", &csrf), ("phone", phone), ("limit", limit)],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    // Balances as orders on credit would leave them: Guo owes more than Chen.
    for (farmer, owed) in [(chen.id, 30_000), (guo.id, 45_050)] {
        let acc = credit_account::Entity::find()
            .filter(credit_account::Column::DealerId.eq(a_id))
            .filter(credit_account::Column::FarmerId.eq(farmer))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let mut am: credit_account::ActiveModel = acc.into();
        am.balance_fen = Set(owed);
        am.update(app.db()).await.unwrap();
    }
    let page = a.get("/dealer/credit").await.body;
    let i = page
        .find(&format!("<li data-farmer=\"{}\"", guo.id))
        .unwrap();
    let j = page
        .find(&format!("<li data-farmer=\"{}\"", chen.id))
        .unwrap();
    assert!(i < j, "who owes most comes first");
    // A repayment, sent twice with one form key, is recorded once.
    let p = a.get(&format!("/dealer/credit?farmer={}", chen.id)).await;
    let idem = p.field("idem").unwrap();
    for _ in 0..2 {
        let r = a
            .post(
                "/dealer/credit/repay",
                &[
                    ("csrf", &csrf),
                    ("idem", &idem),
                    ("farmer", &chen.id.to_string()),
                    ("amount", "100.25"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let bal = orders_balance(&app, a_id, chen.id).await;
    assert_eq!(bal, 30_000 - 10_025);
    // The farmer's history shows the repayment once, with what was owed after it.
    let p = a.get(&format!("/dealer/credit?farmer={}", chen.id)).await;
    let table = &p.body[p.body.find("data-test=\"repayments\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("¥100.25").count(), 1, "{table}");
    assert!(table.contains("¥199.75"), "{table}");
    // More than is owed is refused, with the typed amount kept.
    let r = a
        .post(
            "/dealer/credit/repay",
            &[
                ("csrf", &csrf),
                ("farmer", &chen.id.to_string()),
                ("amount", "9999"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("还款金额超过欠款") && r.body.contains("value=\"9999\""));
    // Staff of dealer B see none of it and cannot record a repayment on A's book.
    let mut b = signed_in(&app, STAFF_B).await;
    let bp = b.get("/dealer/credit").await;
    assert!(!bp.body.contains(&format!("data-farmer=\"{}\"", chen.id)));
    let r = b
        .post(
            "/dealer/credit/repay",
            &[
                ("csrf", &bp.csrf()),
                ("farmer", &chen.id.to_string()),
                ("amount", "1"),
            ],
        )
        .await;
    assert_ne!(r.status, 303);
    assert_eq!(orders_balance(&app, a_id, chen.id).await, 30_000 - 10_025);
    // Staff may not set limits: said on the page.
    let r = b
        .post(
            "/dealer/credit/limit",
            &[("csrf", &bp.csrf()), ("phone", FARMER.0), ("limit", "1")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("只有店主可以设定赊账额度"));
}

async fn orders_balance(app: &TestApp, dealer: i64, farmer: i64) -> i64 {
    domain::orders::credit_account(app.db(), dealer, farmer)
        .await
        .unwrap()
        .unwrap()
        .balance_fen
}

#[tokio::test]
async fn ledgers_show_a_range_download_as_csv_and_explain_a_bad_date() {
    let app = demo_app().await;
    let a_id = user(&app, OWNER_A.0).await.dealer_id.unwrap();
    let mut a = signed_in(&app, OWNER_A).await;
    let page = a.get("/dealer/ledgers").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("SALE-"),
        "the sales ledger shows the sale number"
    );
    let csv = a.get("/dealer/ledgers.csv?kind=SALE").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let mut lines = csv.body.trim_start_matches('\u{feff}').lines();
    assert!(csv.body.starts_with('\u{feff}'), "UTF-8 with a BOM");
    assert!(lines.next().unwrap().starts_with("日期,单号,产品名称"));
    assert!(lines.next().unwrap().contains(",SALE-"), "{}", csv.body);
    let csv = a.get("/dealer/ledgers.csv?kind=PURCHASE").await;
    assert!(
        csv.body
            .trim_start_matches('\u{feff}')
            .starts_with("日期,产品名称")
    );
    assert!(csv.body.lines().count() > 1);
    // A bad date, on the page: said in the reader's language, the typed text kept.
    let bad = a.get("/dealer/ledgers?from=2026-02-30&to=2026-03-01").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("日期“2026-02-30”无效"), "{}", bad.body);
    assert!(bad.body.contains("value=\"2026-02-30\""));
    let rev = a
        .get("/dealer/ledgers.csv?kind=SALE&from=2026-03-01&to=2026-02-01")
        .await;
    assert_eq!(rev.status, 400);
    assert!(rev.body.contains("结束日期不能早于开始日期"));
    a.lang = "en";
    let bad = a.get("/dealer/ledgers?from=yesterday").await;
    assert!(
        bad.body
            .contains("is not a date: write it as year-month-day"),
        "{}",
        bad.body
    );
    // And on the HTTP endpoint, no longer a framework error.
    let token = app.login(OWNER_A.0, OWNER_A.1).await.0;
    let client = reqwest::Client::new();
    for (lang, want) in [
        ("zh-CN", "无效：请按 年-月-日 填写"),
        ("en", "is not a date"),
    ] {
        let r = client
            .get(app.url(&format!(
                "/dealers/{a_id}/ledger.csv?kind=SALE&from=2026-13-01"
            )))
            .bearer_auth(&token)
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let text = r.text().await.unwrap();
        assert!(text.contains(want), "{lang}: {text}");
    }
    // Dealer B's ledgers hold none of A's lines.
    let mut b = signed_in(&app, STAFF_B).await;
    let bcsv = b.get("/dealer/ledgers.csv?kind=SALE").await.body;
    let admin = domain::accounts::Actor {
        user_id: 0,
        role: domain::accounts::Role::Admin,
        dealer_id: None,
        dealer_role: None,
        county_ids: vec![],
        station_id: None,
        assisted_by: None,
    };
    let a_sales: Vec<String> = domain::stock::ledger::lines(
        app.db(),
        &admin,
        a_id,
        domain::stock::ledger::Kind::Sale,
        domain::today() - chrono::Duration::days(30),
        domain::today(),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|l| l.source_document)
    .collect();
    assert!(!a_sales.is_empty());
    for doc in a_sales {
        assert!(
            !bcsv.contains(&format!(",{doc},")),
            "A's {doc} in B's ledger"
        );
    }
}

/// The read services check who asks themselves, so a new caller cannot forget: a dealer's
/// ledgers, transfers and sales for its staff, admins and the county's regulators; a recall
/// report for regulators and admins; the hash-chain check for dealers, regulators and admins.
#[tokio::test]
async fn read_services_refuse_the_wrong_actor_whoever_calls_them() {
    use domain::accounts::actor_for;
    use domain::stock::ledger::{self, Kind};
    let app = demo_app().await;
    let db = app.db();
    let app_ref = &app;
    let actor = |phone: &'static str| async move {
        actor_for(db, &user(app_ref, phone).await).await.unwrap()
    };
    let owner_a = actor(OWNER_A.0).await;
    let staff_b = actor(STAFF_B.0).await;
    let farmer = actor(FARMER.0).await;
    let regulator = actor("13800000002").await;
    let a_id = owner_a.dealer_id.unwrap();
    let (from, to) = (
        domain::today() - chrono::Duration::days(30),
        domain::today(),
    );
    let lot_id = lot::Entity::find()
        .filter(lot::Column::Id.is_in(stock_of(&app, a_id).await.iter().map(|s| s.lot_id)))
        .one(db)
        .await
        .unwrap()
        .expect("dealer A holds a lot")
        .id;
    let forbidden = |r: Result<(), domain::Error>, what: &str, who: &str| match r {
        Err(domain::Error::Forbidden { .. }) => {}
        other => panic!("{what} for {who}: expected Forbidden, got {other:?}"),
    };
    for (who, a, may) in [
        ("owner A", &owner_a, true),
        ("regulator", &regulator, true),
        ("staff B", &staff_b, false),
        ("farmer", &farmer, false),
    ] {
        let results = [
            (
                "ledger",
                ledger::lines(db, a, a_id, Kind::Sale, from, to)
                    .await
                    .map(drop),
            ),
            (
                "transfers",
                domain::stock::transfers_of(db, a, a_id, false)
                    .await
                    .map(drop),
            ),
            (
                "sales",
                domain::stock::sales_of(db, a, a_id, 10).await.map(drop),
            ),
            (
                "sales with lines",
                domain::stock::sales_with_lines(db, a, a_id, 10)
                    .await
                    .map(drop),
            ),
        ];
        for (what, r) in results {
            if may {
                r.unwrap_or_else(|e| panic!("{what} for {who}: {e:?}"));
            } else {
                forbidden(r, what, who);
            }
        }
    }
    let report = |a| domain::lots::trace::recall_report(db, a, lot_id);
    report(&regulator).await.unwrap();
    forbidden(report(&owner_a).await.map(drop), "recall report", "owner A");
    forbidden(report(&farmer).await.map(drop), "recall report", "farmer");
    let verify = |a| domain::lots::trace::verify(db, a, lot_id);
    assert!(verify(&owner_a).await.unwrap().ok);
    assert!(verify(&regulator).await.unwrap().ok);
    forbidden(verify(&farmer).await.map(drop), "trace verify", "farmer");
}
