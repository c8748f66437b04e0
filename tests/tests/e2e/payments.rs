//! Online payment and its provider, on the demo county: a server without a provider refuses
//! ONLINE (GraphQL and the checkout page) while cash and credit keep working; a slow gateway
//! holds no row lock while it authorises; a checkout that fails after the authorisation (on
//! PostgreSQL: its commit) voids it again; a cancellation voids after it has committed.
//!
//! The provider tests call the checkout service directly with a provider of their own, on the
//! server's database, as the GraphQL resolver does with the configured one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::entities::{app_user, customer_order, payment, stock};
use domain::orders::payments::{PaymentError, Provider};
use domain::orders::{OrderOptions, PaymentMethod, PlaceInput, Settings, Status};
use e2e::{Browser, TestApp, on_postgres, spawn_app, spawn_app_with};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const CART_SET: &str = "mutation($o: ID!, $q: Int!) { cartSet(offerId: $o, quantity: $q) { cart { totalFen lines { available problems { code } } } errors { field code message } } }";

const PLACE: &str = "mutation($i: OrderPlaceInput!, $k: String!) { orderPlace(input: $i, idempotencyKey: $k) { orders { id paymentMethod paymentStatus totalFen } errors { field code message } } }";

const PRODUCTS: &str = "{ products(first: 50, filter: { category: FERTILISER }) { edges { node { skus { offers { id priceFen dealer { id } } } } } } }";

/// The demo farmer: token, user row.
async fn demo_farmer(app: &TestApp) -> (String, app_user::Model) {
    let token = app.demo_token("FARMER").await;
    let c = nongzi::demo::credentials()
        .unwrap()
        .into_iter()
        .find(|c| c.role == "FARMER")
        .unwrap();
    let user = app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(c.phone))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    (token, user)
}

/// Puts `quantity` of an in-stock fertiliser offer of the farmer's village in the cart; returns
/// the offer's dealer id (raw) and the cart total in fen.
async fn fill_cart(app: &TestApp, token: &str, quantity: i64) -> (i64, i64) {
    let d = app.gql(PRODUCTS, json!({}), Some(token)).await.ok();
    let offers: Vec<Value> = d["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["node"]["skus"].as_array().unwrap().clone())
        .flat_map(|s| s["offers"].as_array().unwrap().clone())
        .collect();
    for o in offers {
        let price = o["priceFen"].as_i64().unwrap();
        // The sandbox declines amounts ending in .13; stay clear of them.
        if (price * quantity) % 100 == domain::orders::payments::SANDBOX_DECLINE_FEN {
            continue;
        }
        let r = app
            .gql(
                CART_SET,
                json!({ "o": o["id"], "q": quantity }),
                Some(token),
            )
            .await
            .ok();
        let cart = &r["cartSet"]["cart"];
        let ok = r["cartSet"]["errors"].as_array().unwrap().is_empty()
            && cart["lines"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["problems"].as_array().unwrap().is_empty());
        if ok {
            return (
                raw_id(&o["dealer"]["id"]),
                cart["totalFen"].as_i64().unwrap(),
            );
        }
        // Not orderable (no stock here): take it out again.
        app.gql(CART_SET, json!({ "o": o["id"], "q": 0 }), Some(token))
            .await
            .ok();
    }
    panic!("the demo farmer's village has no orderable fertiliser");
}

/// The database id inside a global ID (`base64("Kind:123")`).
fn raw_id(gid: &Value) -> i64 {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(gid.as_str().expect("an ID").trim_end_matches('='))
        .expect("base64 ID");
    let text = String::from_utf8(bytes).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

async fn orders_of(app: &TestApp, farmer_id: i64) -> u64 {
    customer_order::Entity::find()
        .filter(customer_order::Column::FarmerId.eq(farmer_id))
        .count(app.db())
        .await
        .unwrap()
}

fn online() -> PlaceInput {
    PlaceInput {
        default: OrderOptions {
            delivery_mode: domain::orders::DeliveryMode::Pickup,
            station_id: None,
            address: None,
            payment_method: PaymentMethod::Online,
            crop: None,
            target: None,
            field_id: None,
            note: String::new(),
        },
        per_dealer: BTreeMap::new(),
    }
}

fn settings() -> Settings {
    Settings {
        confirm_within: chrono::Duration::hours(48),
        low_stock_threshold: 5,
    }
}

/// What a recording provider was asked, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Authorise(i64),
    Capture(String, i64),
    Void(String, i64),
    Refund(String, i64),
}

/// A provider that approves everything, records every call and, when `delay` is set, takes
/// that long to authorise (a slow gateway), saying when it is in the call.
#[derive(Default)]
struct Recording {
    calls: Mutex<Vec<Call>>,
    delay: Option<Duration>,
    authorising: AtomicBool,
    started: tokio::sync::Notify,
}

impl Recording {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Provider for Recording {
    fn name(&self) -> &'static str {
        "RECORDING"
    }
    async fn authorise(
        &self,
        _merchant_ref: &str,
        amount_fen: i64,
    ) -> Result<String, PaymentError> {
        self.calls.lock().unwrap().push(Call::Authorise(amount_fen));
        if let Some(d) = self.delay {
            self.authorising.store(true, Ordering::SeqCst);
            self.started.notify_one();
            tokio::time::sleep(d).await;
            self.authorising.store(false, Ordering::SeqCst);
        }
        Ok(format!("rec_{}", uuid::Uuid::new_v4().simple()))
    }
    async fn capture(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError> {
        self.calls
            .lock()
            .unwrap()
            .push(Call::Capture(reference.into(), amount_fen));
        Ok(())
    }
    async fn void(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError> {
        self.calls
            .lock()
            .unwrap()
            .push(Call::Void(reference.into(), amount_fen));
        Ok(())
    }
    async fn refund(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError> {
        self.calls
            .lock()
            .unwrap()
            .push(Call::Refund(reference.into(), amount_fen));
        Ok(())
    }
}

async fn reserved_at(app: &TestApp, dealer_id: i64) -> i64 {
    stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .all(app.db())
        .await
        .unwrap()
        .iter()
        .map(|s| s.reserved)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_payment_provider_online_payment_is_refused_and_cash_still_works() {
    let app = spawn_app_with(|c| c.payment_provider = None).await;
    app.load_demo().await;
    let (token, user) = demo_farmer(&app).await;
    let (dealer_id, _) = fill_cart(&app, &token, 1).await;
    let before = reserved_at(&app, dealer_id).await;
    let orders_before = orders_of(&app, user.id).await;
    let input = json!({ "default": { "deliveryMode": "PICKUP", "paymentMethod": "ONLINE" } });
    for (lang, message) in [
        ("zh", "本服务器未开通在线支付"),
        ("en", "online payment is not available on this server"),
    ] {
        let r = app
            .gql_with(
                PLACE,
                json!({ "i": input, "k": format!("no-provider-{lang}") }),
                Some(&token),
                &[("accept-language", lang)],
            )
            .await
            .ok();
        let p = &r["orderPlace"];
        assert!(p["orders"].as_array().unwrap().is_empty(), "{p:#}");
        assert_eq!(p["errors"][0]["code"], "PAYMENT_UNAVAILABLE", "{p:#}");
        assert_eq!(p["errors"][0]["field"], "paymentMethod");
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{p:#}"
        );
    }
    // Nothing was written: no order, no reservation, the cart is still there.
    assert_eq!(orders_of(&app, user.id).await, orders_before);
    assert_eq!(reserved_at(&app, dealer_id).await, before);

    // The checkout page does not offer it, and says why; choosing it anyway is refused.
    let c = nongzi::demo::credentials()
        .unwrap()
        .into_iter()
        .find(|c| c.role == "FARMER")
        .unwrap();
    let mut b = Browser::new(&app);
    b.sign_in(&c.phone, &c.password).await;
    let page = b.get("/checkout").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("name=\"payment\" value=\"ONLINE\" disabled"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("本服务器未开通在线支付"),
        "{}",
        page.body
    );
    let idem = page.field("idem").expect("the form's key");
    let r = b
        .post(
            "/checkout",
            &[
                ("csrf", &page.csrf()),
                ("idem", &idem),
                ("delivery", "PICKUP"),
                ("payment", "ONLINE"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "refused on the page, not placed: {}", r.body);
    assert!(
        r.body
            .contains("本服务器未开通在线支付，请选择货到付款或经销商赊账"),
        "{}",
        r.body
    );

    // Pay on delivery still goes through.
    let r = app
        .gql(
            PLACE,
            json!({ "i": { "default": { "deliveryMode": "PICKUP", "paymentMethod": "CASH_ON_DELIVERY" } }, "k": "cash" }),
            Some(&token),
        )
        .await
        .ok();
    let p = &r["orderPlace"];
    assert!(p["errors"].as_array().unwrap().is_empty(), "{p:#}");
    assert_eq!(p["orders"][0]["paymentMethod"], "CASH_ON_DELIVERY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_gateway_holds_no_row_lock_while_it_authorises() {
    let app = spawn_app().await;
    app.load_demo().await;
    let (token, user) = demo_farmer(&app).await;
    let (dealer_id, total) = fill_cart(&app, &token, 2).await;
    let actor = domain::accounts::actor_for(app.db(), &user).await.unwrap();
    let provider = Arc::new(Recording {
        delay: Some(Duration::from_secs(3)),
        ..Default::default()
    });
    let checkout = {
        let (db, provider) = (app.db().clone(), provider.clone());
        tokio::spawn(async move {
            domain::orders::place(
                &db,
                &actor,
                "slow-gateway",
                online(),
                Some(provider.as_ref() as &dyn Provider),
                settings(),
            )
            .await
        })
    };
    tokio::time::timeout(Duration::from_secs(30), provider.started.notified())
        .await
        .expect("the checkout reaches the provider");
    // While the gateway thinks, another writer updates the dealer's stock rows (those the
    // checkout reserves from) and the farmer's cart: neither waits for the checkout.
    let updated = stock::Entity::update_many()
        .col_expr(stock::Column::UpdatedAt, Expr::value(domain::now()))
        .filter(stock::Column::DealerId.eq(dealer_id))
        .exec(app.db())
        .await
        .unwrap()
        .rows_affected;
    assert!(updated > 0);
    app.db()
        .execute_unprepared(&format!(
            "UPDATE cart_line SET updated_at = updated_at WHERE farmer_id = {}",
            user.id
        ))
        .await
        .unwrap();
    assert!(
        provider.authorising.load(Ordering::SeqCst),
        "the stock rows were locked while the gateway authorised"
    );
    let placed = checkout.await.unwrap().expect("the checkout goes through");
    assert_eq!(placed.orders.len(), 1);
    let o = &placed.orders[0];
    assert_eq!(o.payment_status.as_str(), "AUTHORISED");
    assert_eq!(o.total_fen, total);
    assert_eq!(provider.calls(), vec![Call::Authorise(total)]);
    let p = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(o.id))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.provider.as_str(), p.status.as_str()),
        ("RECORDING", "AUTHORISED")
    );

    // The farmer cancels: the cancellation commits, then the authorisation is voided.
    let (o, _) = domain::orders::transition(
        app.db(),
        Some(&domain::accounts::actor_for(app.db(), &user).await.unwrap()),
        o.id,
        Status::Cancelled,
        "",
        Some(provider.as_ref() as &dyn Provider),
        settings(),
    )
    .await
    .unwrap();
    assert_eq!(o.payment_status.as_str(), "VOIDED");
    assert_eq!(
        provider.calls()[1..],
        [Call::Void(p.provider_ref.clone(), total)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_that_fails_after_the_authorisation_voids_it() {
    let app = spawn_app().await;
    app.load_demo().await;
    let (token, user) = demo_farmer(&app).await;
    let (dealer_id, total) = fill_cart(&app, &token, 1).await;
    let before = reserved_at(&app, dealer_id).await;
    let orders_before = orders_of(&app, user.id).await;
    let payments_before = payment::Entity::find().count(app.db()).await.unwrap();
    let actor = domain::accounts::actor_for(app.db(), &user).await.unwrap();
    if on_postgres() {
        // The commit itself fails: a deferred constraint trigger refuses every payment row at
        // COMMIT, after every statement of the checkout went through.
        for sql in [
            "CREATE FUNCTION refuse_payment() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$",
            "CREATE CONSTRAINT TRIGGER refuse_payment AFTER INSERT ON payment DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_payment()",
        ] {
            app.db().execute_unprepared(sql).await.unwrap();
        }
    } else {
        // SQLite has no deferred triggers: the checkout's last write fails instead, after the
        // payment row.
        app.db()
            .execute_unprepared(
                "CREATE TRIGGER refuse_event BEFORE INSERT ON order_event BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .await
            .unwrap();
    }
    let provider = Recording::default();
    let r = domain::orders::place(
        app.db(),
        &actor,
        "commit-fails",
        online(),
        Some(&provider),
        settings(),
    )
    .await;
    assert!(r.is_err(), "{r:?}");
    let calls = provider.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0], Call::Authorise(total));
    assert!(
        matches!(&calls[1], Call::Void(r, a) if r.starts_with("rec_") && *a == total),
        "{calls:?}"
    );
    // Nothing stayed: no order, no payment, no reservation.
    assert_eq!(orders_of(&app, user.id).await, orders_before);
    assert_eq!(
        payment::Entity::find().count(app.db()).await.unwrap(),
        payments_before
    );
    assert_eq!(reserved_at(&app, dealer_id).await, before);
}
