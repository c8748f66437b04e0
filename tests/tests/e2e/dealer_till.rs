//! The dealer's till and receiving, over HTTP as a shop PC's browser uses them, and the domain
//! operations under them: a counter sale from a scanned code (a restricted-use pesticide
//! refused without a real-name buyer, stock unchanged), the receipt with its lots and trace
//! codes, receiving by form and by CSV (packs named by barcode or by name, a preview that writes
//! nothing, skipping bad rows), lot labels, and who may open which page.

use domain::accounts::Actor;
use domain::entities::{app_user, lot, product, sale, sku, stock, stock_receipt};
use domain::stock::{CsvPolicy, StockView};
use e2e::{Browser, TestApp, spawn_app};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const OWNER: (&str, &str) = ("13800000004", "demo-dealer-2026");
const STAFF_OTHER: (&str, &str) = ("13800000005", "demo-staff-2026");
const FARMER: (&str, &str) = ("13800000006", "demo-farmer-2026");

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

async fn signed_in(app: &TestApp, who: (&str, &str)) -> Browser {
    let mut b = Browser::new(app);
    b.sign_in(who.0, who.1).await;
    b
}

async fn sellable(app: &TestApp, a: &Actor, restricted: bool) -> StockView {
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
                && v.available() >= 2
                && v.product.restricted_use == restricted
        })
        .expect("the demo dealer has such stock")
}

async fn on_hand(app: &TestApp, lot_id: i64) -> i64 {
    stock::Entity::find()
        .filter(stock::Column::LotId.eq(lot_id))
        .all(app.db())
        .await
        .unwrap()
        .iter()
        .map(|s| s.on_hand)
        .sum()
}

async fn sales(app: &TestApp, dealer: i64) -> u64 {
    sale::Entity::find()
        .filter(sale::Column::DealerId.eq(dealer))
        .count(app.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_restricted_pesticide_is_refused_without_a_real_name_buyer_and_stock_stays() {
    let app = demo_app().await;
    let a = actor(&app, OWNER.0).await;
    let dealer = a.dealer_id.unwrap();
    let v = sellable(&app, &a, true).await;
    let uses = domain::catalog::uses_by_products(app.db(), &[v.product.id])
        .await
        .unwrap();
    let mut b = signed_in(&app, OWNER).await;
    // The scanned lot trace code puts one bag on the draft, whose address is the draft.
    let scan = b
        .get(&format!("/dealer/till?code={}", v.lot.trace_code))
        .await;
    assert_eq!(scan.status, 303, "{}", scan.body);
    let draft = scan.location.unwrap();
    assert_eq!(draft, format!("/dealer/till?cart={}%3A1", v.sku.id));
    let p = b.get(&draft).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(&v.product.name_zh));
    assert!(p.body.contains("data-test=\"till-realname\""));
    let (csrf, idem) = (p.csrf(), p.field("idem").unwrap());
    let cart = format!("{}:1", v.sku.id);
    let before = (on_hand(&app, v.lot.id).await, sales(&app, dealer).await);

    // A walk-in without a name and ID: refused, the message names the line, nothing moves.
    let r = b
        .post(
            "/dealer/till/sell",
            &[
                ("csrf", &csrf),
                ("idem", &idem),
                ("cart", &cart),
                ("action", "sell"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("data-test=\"till-error\""), "{}", r.body);
    assert!(
        r.body.contains(&format!(
            "第 1 行（{} {}）",
            v.product.name_zh,
            domain::catalog::pack_label(&v.sku)
        )),
        "{}",
        r.body
    );
    assert!(r.body.contains("实名"));
    assert_eq!(
        (on_hand(&app, v.lot.id).await, sales(&app, dealer).await),
        before
    );

    // A real-name buyer but an unregistered use: refused too, naming the registered uses.
    let r = b
        .post(
            "/dealer/till/sell",
            &[
                ("csrf", &csrf),
                ("idem", &idem),
                ("cart", &cart),
                ("phone", FARMER.0),
                ("crop", "RICE"),
                ("target", "不存在的害虫"),
                ("action", "sell"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("登记用途"), "{}", r.body);
    assert_eq!(
        (on_hand(&app, v.lot.id).await, sales(&app, dealer).await),
        before
    );

    // The registered farmer by phone (real-name data on file) and a registered use: sold.
    let u = &uses[0];
    let form = [
        ("csrf", csrf.as_str()),
        ("idem", idem.as_str()),
        ("cart", cart.as_str()),
        ("phone", FARMER.0),
        ("crop", u.crop.as_str()),
        ("target", u.target_zh.as_str()),
        ("action", "sell"),
    ];
    let sold = b.post("/dealer/till/sell", &form).await;
    assert_eq!(sold.status, 303, "{}", sold.body);
    let receipt_url = sold.location.unwrap();
    assert!(receipt_url.starts_with("/dealer/sales/"));
    assert_eq!(on_hand(&app, v.lot.id).await, before.0 - 1);
    // A double tap gives the first receipt, not a second sale.
    let again = b.post("/dealer/till/sell", &form).await;
    assert_eq!(again.location.as_deref(), Some(receipt_url.as_str()));
    assert_eq!(sales(&app, dealer).await, before.1 + 1);

    // The receipt: licence, lot number and trace code, the buyer's ID masked.
    let rc = b.get(&receipt_url).await;
    assert_eq!(rc.status, 200);
    assert!(rc.body.contains(&v.lot.lot_no));
    assert!(rc.body.contains(&v.lot.trace_code));
    assert!(
        rc.body
            .contains(v.product.registration_no.as_deref().unwrap())
    );
    assert!(rc.body.contains("data-print"));
    let id_number = user(&app, FARMER.0).await.id_number.unwrap();
    assert!(
        !rc.body.contains(&id_number),
        "the full ID number is not printed"
    );
    assert!(
        rc.body
            .contains(&domain::types::IdNumber::masked(&id_number))
    );
}

#[tokio::test]
async fn a_search_adds_a_pack_and_a_short_quantity_is_refused_by_its_line() {
    let app = demo_app().await;
    let a = actor(&app, OWNER.0).await;
    let v = sellable(&app, &a, false).await;
    let mut b = signed_in(&app, OWNER).await;
    let found = b
        .get(&format!("/dealer/till?q={}", urlencode(&v.product.name_zh)))
        .await;
    assert_eq!(found.status, 200);
    assert!(
        found
            .body
            .contains(&format!("name=\"add\" value=\"{}\"", v.sku.id))
    );
    let too_many = v.available() + 1_000;
    let add = b
        .get(&format!("/dealer/till?add={}&qty={too_many}", v.sku.id))
        .await;
    assert_eq!(add.status, 303);
    let p = b.get(&add.location.unwrap()).await;
    assert!(p.body.contains("库存不足"));
    let before = on_hand(&app, v.lot.id).await;
    let r = b
        .post(
            "/dealer/till/sell",
            &[
                ("csrf", &p.csrf()),
                ("idem", &p.field("idem").unwrap()),
                ("cart", &format!("{}:{too_many}", v.sku.id)),
                ("action", "sell"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("第 1 行"), "{}", r.body);
    assert_eq!(on_hand(&app, v.lot.id).await, before);
    // A code nothing in the store answers to is said so, in words.
    let unknown = b.get("/dealer/till?code=NOSUCHCODE123").await;
    assert_eq!(unknown.status, 200);
    assert!(unknown.body.contains("NOSUCHCODE123"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn console_pages_are_the_dealers_own() {
    let app = demo_app().await;
    let a = actor(&app, OWNER.0).await;
    let v = sellable(&app, &a, false).await;
    // A sale of the owner's store, and a lot only the owner's store received.
    let (s, _, _) = domain::stock::counter_sale(
        app.db(),
        &a,
        domain::stock::CounterSaleInput {
            dealer_id: a.dealer_id.unwrap(),
            location_id: None,
            lines: vec![domain::stock::SaleLineInput {
                sku_id: v.sku.id,
                quantity: 1,
                unit_price_fen: None,
            }],
            buyer: Default::default(),
            crop: None,
            target: None,
            unit_codes: vec![],
        },
    )
    .await
    .unwrap();
    let other = actor(&app, STAFF_OTHER.0).await;
    let db = app.db();
    let received_by = |d: i64| async move {
        stock_receipt::Entity::find()
            .filter(stock_receipt::Column::DealerId.eq(d))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.lot_id)
            .collect::<std::collections::BTreeSet<i64>>()
    };
    let theirs = received_by(other.dealer_id.unwrap()).await;
    let only_owner = received_by(a.dealer_id.unwrap())
        .await
        .into_iter()
        .find(|l| !theirs.contains(l));
    let pages = [
        "/dealer/till".to_owned(),
        format!("/dealer/sales/{}", s.id),
        "/dealer/receiving".to_owned(),
        "/dealer/receiving/template.csv?lang=zh".to_owned(),
        format!("/dealer/lots/{}/labels", v.lot.id),
    ];
    // The owner opens every one, each within the console budget (WEB.md: <= 60 KB compressed).
    let mut owner = signed_in(&app, OWNER).await;
    for p in &pages {
        assert_eq!(owner.get(p).await.status, 200, "owner {p}");
        if !p.ends_with(".csv?lang=zh") {
            let (status, size) = owner.get_compressed(p).await;
            println!("{p}: {size} bytes gzip");
            assert_eq!(status, 200);
            assert!(size <= 60 * 1024, "{p} is {size} bytes compressed");
        }
    }
    // Signed out: to sign-in and back.
    let mut anon = Browser::new(&app);
    for p in &pages {
        let r = anon.get(p).await;
        assert_eq!(r.status, 303, "{p}");
        assert!(r.location.unwrap().starts_with("/login?next="), "{p}");
    }
    // A farmer: 403 on every console page.
    let mut farmer = signed_in(&app, FARMER).await;
    for p in &pages {
        assert_eq!(farmer.get(p).await.status, 403, "farmer {p}");
    }
    // Staff of another dealer: their own till, but not this sale, nor labels of a lot they
    // never received, and scanning this store's lot finds nothing in theirs.
    let mut staff = signed_in(&app, STAFF_OTHER).await;
    assert_eq!(staff.get("/dealer/till").await.status, 200);
    let r = staff.get(&format!("/dealer/sales/{}", s.id)).await;
    assert_eq!(r.status, 404);
    assert!(!r.body.contains(&v.lot.trace_code));
    if let Some(l) = only_owner {
        let r = staff.get(&format!("/dealer/lots/{l}/labels")).await;
        assert_eq!(r.status, 404);
        let code = lot::Entity::find_by_id(l)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .trace_code;
        let r = staff.get(&format!("/dealer/till?code={code}")).await;
        assert_eq!(r.status, 200, "nothing added: the page says so");
        assert!(r.body.contains("data-test=\"till-error\""));
        assert!(r.body.contains("data-test=\"till-empty\""));
    } else {
        panic!("the demo has a lot only the county store received");
    }
    // The domain refuses the other dealer's staff the same way.
    assert!(matches!(
        domain::stock::sale_receipt(app.db(), &other, s.id).await,
        Err(domain::Error::NotFound { .. })
    ));
}

// ---------------------------------------------------------------- receiving

async fn a_pack_with_gtin(app: &TestApp) -> (sku::Model, product::Model) {
    let s = sku::Entity::find()
        .filter(sku::Column::Gtin.is_not_null())
        .all(app.db())
        .await
        .unwrap();
    for s in s {
        let p = domain::catalog::product(app.db(), s.product_id)
            .await
            .unwrap();
        if p.category.as_str() == "FERTILISER" && p.status.as_str() == "ACTIVE" {
            return (s, p);
        }
    }
    panic!("the demo has a fertiliser pack with a barcode")
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).to_string()
}

const HEAD: &str = "gtin,product,pack,lot_no,produced_on,expires_on,quantity,unit_cost,supplier_name,supplier_licence_no,supplier_contact,source_document";

fn row(gtin: &str, product: &str, pack: &str, lot_no: &str, qty: &str) -> String {
    format!(
        "{gtin},{product},{pack},{lot_no},{},{},{qty},85.50,荆门市农业生产资料有限公司,(鄂)农资批发E2E-0001,0724-2345678,RK-{lot_no}",
        day(-10),
        day(700)
    )
}

async fn counts(app: &TestApp) -> (u64, u64) {
    (
        lot::Entity::find().count(app.db()).await.unwrap(),
        stock_receipt::Entity::find().count(app.db()).await.unwrap(),
    )
}

#[tokio::test]
async fn csv_rows_name_the_pack_by_barcode_or_by_name_and_a_preview_writes_nothing() {
    let app = demo_app().await;
    let a = actor(&app, OWNER.0).await;
    let d = a.dealer_id.unwrap();
    let (s, p) = a_pack_with_gtin(&app).await;
    let pack = domain::catalog::pack_label(&s);
    // A second product with the same name and pack (another producer's): a name is ambiguous.
    let twin = product::ActiveModel {
        category: Set(p.category),
        producer_id: Set(p.producer_id),
        name_zh: Set("同名测试肥".into()),
        name_en: Set("Twin test fertiliser".into()),
        description_zh: Set(String::new()),
        description_en: Set(String::new()),
        registration_no: Set(p.registration_no.clone()),
        registration_exempt: Set(p.registration_exempt),
        restricted_use: Set(false),
        status: Set(domain::catalog::ProductStatus::Active),
        created_by_dealer_id: Set(None),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    for _ in 0..2 {
        let t = twin.clone().insert(app.db()).await.unwrap();
        sku::ActiveModel {
            product_id: Set(t.id),
            pack_size: Set(40.0),
            pack_unit: Set("kg".into()),
            gtin: Set(None),
            active: Set(true),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .unwrap();
    }
    let file = [
        HEAD.to_owned(),
        row(s.gtin.as_deref().unwrap(), "", "", "T-GTIN", "5"),
        // By name (as listed, another case and spacing of the pack).
        row(
            "",
            &p.name_zh,
            &pack.replace(' ', "").to_uppercase(),
            "T-NAME",
            "6",
        ),
        row("", "没有这个产品", "40 kg", "T-UNKNOWN", "1"),
        row("", "同名测试肥", "40 kg", "T-TWIN", "1"),
        row("", &p.name_zh, "999 kg", "T-NOPACK", "1"),
        row("", "", "", "T-NONE", "1"),
    ]
    .join("\n");
    let before = counts(&app).await;
    let (o, ev) = domain::stock::receive_csv(app.db(), &a, d, &file, CsvPolicy::Preview)
        .await
        .unwrap();
    assert!(!o.committed);
    assert!(ev.is_empty());
    assert_eq!(counts(&app).await, before, "a preview writes nothing");
    assert_eq!(o.good_lines, vec![2, 3]);
    assert_eq!(o.rows.len(), 6);
    assert_eq!(o.headers[1], "product");
    let errs: Vec<(usize, Option<usize>, Option<String>)> = o
        .errors
        .iter()
        .map(|e| (e.line, e.column, e.column_name.clone()))
        .collect();
    assert_eq!(
        errs,
        vec![
            (4, Some(2), Some("product".into())),
            (5, Some(2), Some("product".into())),
            (6, Some(3), Some("pack".into())),
            (7, Some(1), Some("gtin".into())),
        ]
    );
    assert!(o.errors[1].zh.contains("2 个产品"), "{}", o.errors[1].zh);
    assert!(o.errors[1].en.contains("use the barcode"));
    assert!(o.errors[2].zh.contains(&pack), "names the packs it has");

    // Skipping the bad rows writes exactly the good ones.
    let (o, _) = domain::stock::receive_csv(app.db(), &a, d, &file, CsvPolicy::SkipInvalid)
        .await
        .unwrap();
    assert!(o.committed);
    assert_eq!(o.received.len(), 2);
    assert_eq!(counts(&app).await, (before.0 + 2, before.1 + 2));
    let lots: Vec<String> = lot::Entity::find()
        .filter(lot::Column::SkuId.eq(s.id))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.lot_no)
        .collect();
    assert!(lots.contains(&"T-GTIN".to_owned()) && lots.contains(&"T-NAME".to_owned()));
    assert!(
        !lots
            .iter()
            .any(|l| l.starts_with("T-UNKNOWN") || l == "T-NOPACK")
    );

    // The old internal-number column still works.
    let old = format!(
        "sku,lot_no,produced_on,expires_on,quantity,unit_cost,supplier_name,supplier_licence_no,supplier_contact,source_document\n{},T-OLD,{},{},3,10,供货商,许可证-1,0724-1,RK-OLD",
        s.id,
        day(-3),
        day(300)
    );
    let (o, _) = domain::stock::receive_csv(app.db(), &a, d, &old, CsvPolicy::RejectAll)
        .await
        .unwrap();
    assert!(o.committed, "{:?}", o.errors);
    // A file with neither a barcode nor product + pack columns is refused at its header.
    let (o, _) =
        domain::stock::receive_csv(app.db(), &a, d, "lot_no,quantity\nX,1", CsvPolicy::Preview)
            .await
            .unwrap();
    assert!(
        o.errors
            .iter()
            .any(|e| e.line == 1 && e.zh.contains("商品条码"))
    );
}

#[tokio::test]
async fn the_browser_receives_a_lot_and_a_checked_csv_and_prints_labels() {
    let app = demo_app().await;
    let (s, p) = a_pack_with_gtin(&app).await;
    let mut b = signed_in(&app, OWNER).await;
    let page = b.get("/dealer/receiving").await;
    assert_eq!(page.status, 200);
    let (csrf, idem) = (page.csrf(), page.field("idem").unwrap());
    let sid = s.id.to_string();
    let (produced, expires) = (day(-5), day(500));
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("idem", idem.as_str()),
        ("pack", sid.as_str()),
        ("lot_no", "WEB-LOT-1"),
        ("produced_on", produced.as_str()),
        ("expires_on", "someday"),
        ("quantity", "8"),
        ("unit_cost", "96.5"),
        ("supplier_name", "荆门市农业生产资料有限公司"),
        ("supplier_licence_no", "(鄂)农资批发E2E-0001"),
        ("supplier_contact", "0724-2345678"),
        ("source_document", "RK-WEB-1"),
    ];
    // A bad date: a clear message, the form as typed, nothing written.
    let before = counts(&app).await;
    let r = b.post("/dealer/receiving", &form).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("someday") && r.body.contains("有效期至"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"WEB-LOT-1\""));
    assert_eq!(counts(&app).await, before);
    form[5].1 = expires.as_str();
    let ok = b.post("/dealer/receiving", &form).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let to = ok.location.unwrap();
    assert!(to.starts_with("/dealer/receiving?lots="));
    assert_eq!(
        b.post("/dealer/receiving", &form).await.location,
        Some(to.clone())
    );
    assert_eq!(
        counts(&app).await,
        (before.0 + 1, before.1 + 1),
        "received once"
    );
    let lot_id: i64 = to.rsplit('=').next().unwrap().parse().unwrap();
    let done = b.get(&to).await;
    assert!(done.body.contains(&format!("/dealer/lots/{lot_id}/labels")));
    let l = lot::Entity::find_by_id(lot_id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let labels = b.get(&format!("/dealer/lots/{lot_id}/labels?n=3")).await;
    assert_eq!(labels.status, 200);
    assert_eq!(labels.body.matches("data-test=\"label-trace\"").count(), 3);
    assert!(labels.body.contains("<svg"), "the QR is drawn inline");
    assert!(labels.body.contains(&format!("/t/{}", l.trace_code)));
    assert_eq!(b.get(&format!("/t/{}", l.trace_code)).await.status, 200);

    // The templates open in Excel: UTF-8 with a BOM, headers in the language asked for.
    let zh = b.get("/dealer/receiving/template.csv?lang=zh").await;
    assert!(zh.body.starts_with('\u{feff}'));
    assert!(zh.body.contains("商品条码,产品名称,规格,批号"));
    let en = b.get("/dealer/receiving/template.csv?lang=en").await;
    assert!(en.body.contains("gtin,product,pack,lot_no"));

    // A CSV with one bad row: the preview shows the bad cell and writes nothing; skipping the
    // bad row receives the good ones.
    let file = [
        HEAD.to_owned(),
        row(s.gtin.as_deref().unwrap(), "", "", "WEB-CSV-1", "4"),
        row(
            "",
            &p.name_zh,
            &domain::catalog::pack_label(&s),
            "WEB-CSV-2",
            "十二",
        ),
        row(
            "",
            &p.name_zh,
            &domain::catalog::pack_label(&s),
            "WEB-CSV-3",
            "2",
        ),
    ]
    .join("\r\n");
    let before = counts(&app).await;
    let pv = b
        .post_multipart(
            "/dealer/receiving/csv",
            &[("csrf", &csrf)],
            ("file", "in.csv", format!("\u{feff}{file}").as_bytes()),
        )
        .await;
    assert_eq!(pv.status, 200, "{}", pv.body);
    assert_eq!(pv.body.matches("data-test=\"bad-cell\"").count(), 1);
    assert!(pv.body.contains("十二"));
    let list = &pv.body[pv.body.find("data-test=\"csv-errors\"").unwrap()..];
    assert!(
        list.contains("G (quantity)"),
        "line and column named: {list}"
    );
    assert_eq!(counts(&app).await, before, "the preview wrote nothing");
    let text_start = pv
        .body
        .find("name=\"text\" hidden aria-hidden=\"true\">")
        .unwrap();
    assert!(pv.body[text_start..].contains("WEB-CSV-3"));
    let apply = [
        ("csrf", csrf.as_str()),
        ("idem", "csv-apply-1"),
        ("text", file.as_str()),
        ("policy", "skip"),
    ];
    let r = b.post("/dealer/receiving/csv/apply", &apply).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(counts(&app).await.1, before.1 + 2);
    assert_eq!(
        b.post("/dealer/receiving/csv/apply", &apply).await.location,
        r.location,
        "a repeat receives nothing more"
    );
    assert_eq!(counts(&app).await.1, before.1 + 2);
    // Receiving the whole file (no skipping) is refused while it has a bad row.
    let r = b
        .post(
            "/dealer/receiving/csv/apply",
            &[
                ("csrf", &csrf),
                ("idem", "csv-apply-2"),
                ("text", &file),
                ("policy", "all"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(counts(&app).await.1, before.1 + 2);
    // A file that is not UTF-8 (Excel's old "CSV" in GBK) is told apart in words.
    let gbk = b
        .post_multipart(
            "/dealer/receiving/csv",
            &[("csrf", &csrf)],
            ("file", "gbk.csv", &[0xC9, 0xCC, 0xC6, 0xB7, b'\n']),
        )
        .await;
    assert_eq!(gbk.status, 200);
    assert!(gbk.body.contains("UTF-8"));
    // Without the form token: refused.
    let no = b
        .post_multipart(
            "/dealer/receiving/csv",
            &[],
            ("file", "in.csv", file.as_bytes()),
        )
        .await;
    assert_eq!(no.status, 403);
}

/// `sales` costs the same SQL statements for 12 sales as for 2: the sales and their lines in
/// two statements, and each line's pack, lot and the dealer through loaders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_12_sales_costs_the_same_statements_as_a_page_of_2() {
    // The background sweeper's statements would count too: keep it out of the measurement.
    let app =
        e2e::spawn_app_with(|c| c.sweep_interval = std::time::Duration::from_secs(3600)).await;
    app.load_demo().await;
    let a = actor(&app, OWNER.0).await;
    let v = sellable(&app, &a, false).await;
    for n in 0..12 {
        domain::stock::counter_sale(
            app.db(),
            &a,
            domain::stock::CounterSaleInput {
                dealer_id: a.dealer_id.unwrap(),
                location_id: None,
                lines: vec![domain::stock::SaleLineInput {
                    sku_id: v.sku.id,
                    quantity: 1 + n % 2,
                    unit_price_fen: None,
                }],
                buyer: Default::default(),
                crop: None,
                target: None,
                unit_codes: vec![],
            },
        )
        .await
        .unwrap();
    }
    let token = app.token_for(&a);
    let q =
        "query($d: ID!, $n: Int!) { sales(dealerId: $d, first: $n) { id totalFen dealer { name }
        lines { quantity unitPriceFen sku { label } lot { lotNo } } } }";
    let dealer = app
        .gql(
            "{ me { dealer { id } } }",
            serde_json::json!({}),
            Some(&token),
        )
        .await
        .ok()["me"]["dealer"]["id"]
        .clone();
    let mut cost = Vec::new();
    for n in [2, 12] {
        let before = app.statements();
        let d = app
            .gql(q, serde_json::json!({ "d": dealer, "n": n }), Some(&token))
            .await
            .ok();
        let after = app.statements();
        let sales = d["sales"].as_array().unwrap();
        assert_eq!(sales.len(), n as usize, "{d:#}");
        for s in sales {
            let lines = s["lines"].as_array().unwrap();
            assert_eq!(lines.len(), 1, "{s:#}");
            assert!(
                lines[0]["lot"]["lotNo"]
                    .as_str()
                    .is_some_and(|l| !l.is_empty())
            );
            assert!(s["dealer"]["name"].as_str().is_some());
        }
        cost.push(after - before);
    }
    println!(
        "SQL statements: sales(first: 2) = {}, sales(first: 12) = {}",
        cost[0], cost[1]
    );
    assert_eq!(cost[0], cost[1], "12 sales must cost what 2 cost");
}
