//! The dealer console: the till (柜台销售). A product is found by a scanned code (a gun types
//! it into one input and presses Enter) or by searching the dealer's own stock; the sale being
//! built travels in the page's address (`cart=SKU:QTY,...`, `units=CODE,...`), so it survives
//! a reload and needs no script. Selling is one one-shot POST to `stock::counter_sale`, which
//! checks every rule (licences, real name, registered use, stock); a refusal names the line and
//! leaves stock as it was. The receipt is printable and carries the lot numbers and trace codes.
//!
//! Over 600 lines because it is one page: the sale in the address, its lines and the receipt
//! are read and shown together, and a split would only scatter them.

use crate::web::ctx::{Path, Query};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::Lang;
use domain::catalog::crops;
use domain::stock::{self, Buyer, CounterSaleInput, SaleLineInput, TillItem};
use domain::types::{IdNumber, Phone};
use serde::Deserialize;

use super::Console;
use crate::state::{AppState, publish_events};
use crate::web::account::messages;
use crate::web::ctx::{claim, finish};
use crate::web::ctx::{page, random_token, urlencode};
use crate::web::view::{self, money};
use crate::web::{Chrome, Ctx, WebResult};

/// The draft sale: packs and quantities, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq)]
struct Cart {
    lines: Vec<(i64, i64)>,
    units: Vec<String>,
}

impl Cart {
    fn parse(cart: &str, units: &str) -> Cart {
        let mut c = Cart::default();
        for part in cart.split(',') {
            if let Some((s, q)) = part.split_once(':')
                && let (Ok(s), Ok(q)) = (s.trim().parse::<i64>(), q.trim().parse::<i64>())
                && q > 0
            {
                c.add(s, q);
            }
        }
        for u in units.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            c.add_unit(u);
        }
        c
    }

    fn add(&mut self, sku: i64, q: i64) {
        match self.lines.iter_mut().find(|(s, _)| *s == sku) {
            Some(l) => l.1 = (l.1 + q).min(1_000_000),
            None => self.lines.push((sku, q.min(1_000_000))),
        }
    }

    fn set(&mut self, sku: i64, q: i64) {
        if q <= 0 {
            self.lines.retain(|(s, _)| *s != sku);
        } else if let Some(l) = self.lines.iter_mut().find(|(s, _)| *s == sku) {
            l.1 = q.min(1_000_000);
        } else {
            self.lines.push((sku, q.min(1_000_000)));
        }
    }

    fn add_unit(&mut self, code: &str) {
        if !self.units.iter().any(|u| u == code) {
            self.units.push(code.to_owned());
        }
    }

    fn cart_param(&self) -> String {
        self.lines
            .iter()
            .map(|(s, q)| format!("{s}:{q}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn units_param(&self) -> String {
        self.units.join(",")
    }

    fn url(&self) -> String {
        let mut u = format!("/dealer/till?cart={}", urlencode(&self.cart_param()));
        if !self.units.is_empty() {
            u.push_str(&format!("&units={}", urlencode(&self.units_param())));
        }
        u
    }
}

pub struct LineRow {
    pub n: usize,
    pub sku_id: i64,
    pub name: String,
    pub reg_no: String,
    pub pack: String,
    pub qty: i64,
    pub unit: String,
    pub price: String,
    pub subtotal: String,
    pub stock: String,
    pub short: bool,
    pub restricted: bool,
    pub uses: Vec<view::UseRow>,
    pub remove_url: String,
}

pub struct FoundRow {
    pub sku_id: i64,
    pub name: String,
    pub reg_no: String,
    pub pack: String,
    pub price: String,
    pub stock: String,
    pub sellable: bool,
    pub restricted: bool,
}

pub struct CropOpt {
    pub code: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

/// What the buyer part of the form holds (kept as typed across a refusal).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BuyerFields {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub crop: String,
    #[serde(default)]
    pub target: String,
}

#[derive(askama::Template)]
#[template(path = "dealer/till.html")]
struct TillPage {
    c: Chrome,
    cart: String,
    units: String,
    unit_codes: Vec<String>,
    code: String,
    q: String,
    found: Vec<FoundRow>,
    lines: Vec<LineRow>,
    total: String,
    any_restricted: bool,
    buyer: BuyerFields,
    /// A registered farmer found by the phone: name and whether their real-name data is on file.
    farmer: Option<(String, bool)>,
    crops: Vec<CropOpt>,
    errors: Vec<String>,
    notice: Option<String>,
    idem: String,
}

#[derive(Deserialize, Default)]
pub struct TillQuery {
    #[serde(default)]
    cart: String,
    #[serde(default)]
    units: String,
    /// A scanned or typed code.
    #[serde(default)]
    code: String,
    /// A text search of the dealer's stock.
    #[serde(default)]
    q: String,
    /// Add this pack (with `qty`).
    add: Option<i64>,
    /// Set this pack's quantity to `qty` (0 removes it).
    set: Option<i64>,
    #[serde(default)]
    qty: String,
}

/// The registration number, or that the product is exempt (urea and the like).
fn reg_no(p: &domain::entities::product::Model, ctx: &Ctx) -> String {
    match &p.registration_no {
        Some(r) if !r.is_empty() => r.clone(),
        _ if p.registration_exempt => ctx.l("免登记", "registration exempt").to_owned(),
        _ => String::new(),
    }
}

fn pack_of(i: &TillItem) -> String {
    domain::catalog::pack_label(&i.sku)
}

fn name_of(i: &TillItem, lang: Lang) -> String {
    lang.pick(&i.product.name_zh, &i.product.name_en).to_owned()
}

/// Renders the till: the draft's lines priced from the dealer's offers, what a search found,
/// the buyer part as typed.
#[expect(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    ctx: &Ctx,
    cart: &Cart,
    code: &str,
    q: &str,
    buyer: BuyerFields,
    errors: Vec<String>,
    notice: Option<String>,
    idem: String,
) -> WebResult {
    let con = Console::open(state, ctx, ctx.l("柜台销售", "Till"), "till").await?;
    let db = state.db();
    let lang = ctx.lang;
    let mut lines = Vec::new();
    let mut total = 0i64;
    let mut any_restricted = false;
    for (n, (sku_id, qty)) in cart.lines.iter().enumerate() {
        let Some(item) = stock::till_item(db, con.actor(), con.dealer_id(), *sku_id).await? else {
            continue;
        };
        let uses = if item.product.restricted_use {
            any_restricted = true;
            view::uses(
                domain::catalog::uses_by_products(db, &[item.product.id]).await?,
                lang,
            )
        } else {
            vec![]
        };
        let mut rest = cart.clone();
        rest.set(*sku_id, 0);
        total += item.price_fen.unwrap_or(0) * qty;
        lines.push(LineRow {
            n: n + 1,
            sku_id: *sku_id,
            name: name_of(&item, lang),
            reg_no: reg_no(&item.product, ctx),
            pack: pack_of(&item),
            qty: *qty,
            unit: ctx.l("件", "pcs").to_owned(),
            price: item
                .price_fen
                .map(money)
                .unwrap_or_else(|| ctx.l("未报价", "no price").to_owned()),
            subtotal: item.price_fen.map(|p| money(p * qty)).unwrap_or_default(),
            stock: view::stock_words(item.available, &item.sku.pack_unit, lang),
            short: item.available < *qty,
            restricted: item.product.restricted_use,
            uses,
            remove_url: rest.url(),
        });
    }
    let found = if q.trim().is_empty() {
        vec![]
    } else {
        stock::till_search(db, con.actor(), con.dealer_id(), q)
            .await?
            .into_iter()
            .map(|i| FoundRow {
                sku_id: i.sku.id,
                name: name_of(&i, lang),
                reg_no: reg_no(&i.product, ctx),
                pack: pack_of(&i),
                price: i
                    .price_fen
                    .map(money)
                    .unwrap_or_else(|| ctx.l("未报价", "no price").to_owned()),
                stock: view::stock_words(i.available, &i.sku.pack_unit, lang),
                sellable: i.available > 0,
                restricted: i.product.restricted_use,
            })
            .collect()
    };
    let farmer = if buyer.phone.trim().is_empty() {
        None
    } else {
        match domain::accounts::farmer_by_phone(db, con.actor(), &buyer.phone).await {
            Ok(f) => f.map(|u| {
                (
                    u.real_name.clone().unwrap_or(u.display_name.clone()),
                    u.verified_at.is_some() && u.id_number.is_some(),
                )
            }),
            Err(_) => None,
        }
    };
    let crop_code = crops::resolve(&buyer.crop).unwrap_or("");
    let crops = crops::CROPS
        .iter()
        .map(|(code, zh, en, _)| CropOpt {
            code,
            name: lang.pick(zh, en),
            selected: *code == crop_code,
        })
        .collect();
    page(&TillPage {
        c: con.c,
        cart: cart.cart_param(),
        units: cart.units_param(),
        unit_codes: cart.units.clone(),
        code: code.to_owned(),
        q: q.to_owned(),
        found,
        lines,
        total: money(total),
        any_restricted,
        buyer,
        farmer,
        crops,
        errors,
        notice,
        idem,
    })
}

/// `GET /dealer/till`: the till, and the steps that change the draft (scan, add, set), each
/// answered by a redirect to the draft's own address, so a reload never adds twice.
pub async fn till(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TillQuery>,
) -> WebResult {
    let con = Console::open(&state, &ctx, "", "till").await?;
    let mut cart = Cart::parse(&q.cart, &q.units);
    let qty_raw = q.qty.trim();
    let qty = if qty_raw.is_empty() {
        Ok(1)
    } else {
        match qty_raw.parse::<i64>() {
            Ok(n) if (0..=1_000_000).contains(&n) => Ok(n),
            _ => Err(format!(
                "{}“{qty_raw}”",
                ctx.l(
                    "数量应为 0 到 1000000 之间的整数：",
                    "Quantity must be a whole number from 0 to 1,000,000: "
                )
            )),
        }
    };
    let qty = match qty {
        Ok(n) => n,
        Err(e) => {
            return render(
                &state,
                &ctx,
                &cart,
                "",
                &q.q,
                BuyerFields::default(),
                vec![e],
                None,
                random_token(),
            )
            .await;
        }
    };
    if let Some(sku) = q.set {
        cart.set(sku, qty);
        return Ok(Redirect::to(&cart.url()).into_response());
    }
    if let Some(sku) = q.add {
        if stock::till_item(state.db(), con.actor(), con.dealer_id(), sku)
            .await?
            .is_some()
        {
            cart.add(sku, qty.max(1));
        }
        return Ok(Redirect::to(&cart.url()).into_response());
    }
    let code = q.code.trim();
    if !code.is_empty() {
        match stock::till_code(state.db(), con.actor(), con.dealer_id(), code).await? {
            Some(item) => {
                match &item.unit_code {
                    // One scanned bag is one unit, and its code is recorded with the sale.
                    Some(u) if !cart.units.contains(u) => {
                        cart.add_unit(u);
                        cart.add(item.sku.id, 1);
                    }
                    Some(_) => {}
                    None => cart.add(item.sku.id, qty.max(1)),
                }
                return Ok(Redirect::to(&cart.url()).into_response());
            }
            None => {
                let msg = match ctx.lang {
                    Lang::Zh => {
                        format!("扫码“{code}”：本店库存中没有这个码对应的商品（可按名称查找）")
                    }
                    Lang::En => format!(
                        "Code \"{code}\": nothing in this store's stock has this code (search by name instead)"
                    ),
                };
                return render(
                    &state,
                    &ctx,
                    &cart,
                    code,
                    &q.q,
                    BuyerFields::default(),
                    vec![msg],
                    None,
                    random_token(),
                )
                .await;
            }
        }
    }
    render(
        &state,
        &ctx,
        &cart,
        "",
        &q.q,
        BuyerFields::default(),
        vec![],
        None,
        random_token(),
    )
    .await
}

#[derive(Deserialize)]
pub struct SellForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    cart: String,
    #[serde(default)]
    units: String,
    /// `lookup` finds the farmer by phone; anything else sells.
    #[serde(default)]
    action: String,
    #[serde(flatten)]
    buyer: BuyerFields,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// `POST /dealer/till/sell`: one tap sells (or, with `action=lookup`, looks the buyer up).
pub async fn sell(State(state): State<AppState>, ctx: Ctx, Form(f): Form<SellForm>) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let con = Console::open(&state, &ctx, "", "till").await?;
    let cart = Cart::parse(&f.cart, &f.units);
    let idem = if f.idem.trim().is_empty() {
        random_token()
    } else {
        f.idem.clone()
    };
    if f.action == "lookup" {
        let mut errors = vec![];
        let mut notice = None;
        if !f.buyer.phone.trim().is_empty() {
            match domain::accounts::farmer_by_phone(state.db(), con.actor(), &f.buyer.phone).await
            {
                Ok(Some(_)) => {}
                Ok(None) => {
                    notice = Some(
                        ctx.l(
                            "这个手机号没有注册：请填写购买人姓名（限制使用农药还需身份证号）",
                            "No farmer has registered this phone: give the buyer's name (and ID number for restricted-use pesticides)",
                        )
                        .to_owned(),
                    )
                }
                Err(e) => errors = messages(e, &ctx)?,
            }
        }
        return render(&state, &ctx, &cart, "", "", f.buyer, errors, notice, idem).await;
    }
    if let Err(done) = claim(&state, con.session, &idem, &cart.url()).await? {
        return Ok(done);
    }
    let db = state.db();
    let b = &f.buyer;
    let mut buyer = Buyer {
        name: opt(&b.name),
        phone: opt(&b.phone),
        id_number: opt(&b.id_number),
        ..Default::default()
    };
    if let Some(p) = &buyer.phone
        && let Ok(Some(u)) = domain::accounts::farmer_by_phone(db, con.actor(), p).await
    {
        buyer.user_id = Some(u.id);
    }
    let input = CounterSaleInput {
        dealer_id: con.dealer_id(),
        location_id: None,
        lines: cart
            .lines
            .iter()
            .map(|(s, q)| SaleLineInput {
                sku_id: *s,
                quantity: *q,
                unit_price_fen: None,
            })
            .collect(),
        buyer,
        crop: opt(&b.crop),
        target: opt(&b.target),
        unit_codes: cart.units.clone(),
    };
    match stock::counter_sale(db, con.actor(), input).await {
        Ok((sale, _, events)) => {
            publish_events(&state, events).await;
            let url = format!("/dealer/sales/{}", sale.id);
            finish(&state, con.session, &idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Err(e) => {
            finish(&state, con.session, &idem, None).await?;
            let errors = line_messages(&state, &ctx, &con, &cart, e).await?;
            render(&state, &ctx, &cart, "", "", f.buyer, errors, None, idem).await
        }
    }
}

/// The domain's refusal, each message naming the line it is about: `lines.N...` by its
/// product and pack, a scanned code by the code, the real-name and registered-use checks by the
/// restricted-use product that needs them.
async fn line_messages(
    state: &AppState,
    ctx: &Ctx,
    con: &Console<'_>,
    cart: &Cart,
    e: domain::Error,
) -> Result<Vec<String>, crate::web::WebError> {
    let fields: Vec<String> = match &e {
        domain::Error::Invalid(errs) => errs.iter().map(|f| f.field.clone()).collect(),
        _ => vec![],
    };
    let msgs = messages(e, ctx)?;
    let mut names = Vec::new();
    let mut restricted = None;
    for (s, _) in &cart.lines {
        let item = stock::till_item(state.db(), con.actor(), con.dealer_id(), *s).await?;
        let label = item
            .as_ref()
            .map(|i| format!("{} {}", name_of(i, ctx.lang), pack_of(i)))
            .unwrap_or_default();
        if restricted.is_none() && item.as_ref().is_some_and(|i| i.product.restricted_use) {
            restricted = Some((names.len(), label.clone()));
        }
        names.push(label);
    }
    let line_word = |n: usize, name: &str| match ctx.lang {
        Lang::Zh => format!("第 {n} 行（{name}）："),
        Lang::En => format!("Line {n} ({name}): "),
    };
    Ok(msgs
        .into_iter()
        .enumerate()
        .map(|(k, m)| {
            let field = fields.get(k).map(String::as_str).unwrap_or("");
            let parts: Vec<&str> = field.split('.').collect();
            let prefix = match parts.as_slice() {
                ["lines", i, ..] => i
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| names.get(i).map(|n| line_word(i + 1, n))),
                ["unitCodes", i, ..] => i.parse::<usize>().ok().and_then(|i| {
                    cart.units.get(i).map(|u| match ctx.lang {
                        Lang::Zh => format!("追溯码 {u}："),
                        Lang::En => format!("Code {u}: "),
                    })
                }),
                ["buyer", ..] | ["crop"] | ["target"] => {
                    restricted.as_ref().map(|(i, n)| line_word(i + 1, n))
                }
                _ => None,
            };
            format!("{}{m}", prefix.unwrap_or_default())
        })
        .collect())
}

pub struct ReceiptRow {
    pub name: String,
    pub reg_no: String,
    pub pack: String,
    pub qty: i64,
    pub unit: String,
    pub price: String,
    pub subtotal: String,
    pub lot_no: String,
    pub trace_code: String,
    pub expires: String,
    pub unit_codes: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "dealer/till_receipt.html")]
struct ReceiptPage {
    c: Chrome,
    id: i64,
    dealer: String,
    address: String,
    phone: String,
    licences: Vec<(String, String)>,
    time: String,
    buyer: String,
    buyer_phone: String,
    buyer_id: String,
    usage: String,
    rows: Vec<ReceiptRow>,
    total: String,
}

/// `GET /dealer/sales/{id}`: the printable receipt, the buyer's trace proof.
pub async fn receipt(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let con = Console::open(&state, &ctx, ctx.l("销售小票", "Receipt"), "till").await?;
    let r = stock::sale_receipt(state.db(), con.actor(), id).await?;
    let lang = ctx.lang;
    let rows = r
        .lines
        .iter()
        .map(|l| ReceiptRow {
            name: lang.pick(&l.product.name_zh, &l.product.name_en).to_owned(),
            reg_no: reg_no(&l.product, &ctx),
            pack: domain::catalog::pack_label(&l.sku),
            qty: l.line.quantity,
            unit: ctx.l("件", "pcs").to_owned(),
            price: money(l.line.unit_price_fen),
            subtotal: money(l.line.unit_price_fen * l.line.quantity),
            lot_no: l.lot.lot_no.clone(),
            trace_code: l.lot.trace_code.clone(),
            expires: l.lot.expires_on.to_string(),
            unit_codes: l.unit_codes.clone(),
        })
        .collect();
    let s = &r.sale;
    page(&ReceiptPage {
        id: s.id,
        dealer: lang.pick(&r.dealer.name_zh, &r.dealer.name_en).to_owned(),
        address: r.dealer.address.clone(),
        phone: r.dealer.phone.clone(),
        licences: r
            .licences
            .iter()
            .map(|l| {
                (
                    view::licence_words(l.kind, lang).to_owned(),
                    l.number.clone(),
                )
            })
            .collect(),
        time: view::china_time(s.sold_at),
        buyer: s
            .buyer_name
            .clone()
            .unwrap_or_else(|| ctx.l("散客", "Walk-in customer").to_owned()),
        buyer_phone: s
            .buyer_phone
            .as_deref()
            .map(Phone::masked)
            .unwrap_or_default(),
        buyer_id: s
            .buyer_id_number
            .as_deref()
            .map(IdNumber::masked)
            .unwrap_or_default(),
        usage: match (&s.crop, &s.target) {
            (Some(c), Some(t)) => format!("{} / {t}", view::crop_words(c, lang)),
            _ => String::new(),
        },
        rows,
        total: money(s.total_fen),
        c: con.c,
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dealer/till", get(till))
        .route("/dealer/till/sell", post(sell))
        .route("/dealer/sales/{id}", get(receipt))
}

#[cfg(test)]
mod tests {
    use super::Cart;

    #[test]
    fn the_draft_reads_back_what_it_wrote() {
        let mut c = Cart::parse("3:2,5:1,x:9,7:0", "A1, ,B2");
        assert_eq!(c.lines, vec![(3, 2), (5, 1)]);
        assert_eq!(c.units, vec!["A1", "B2"]);
        c.add(3, 1);
        c.set(5, 0);
        assert_eq!(Cart::parse(&c.cart_param(), &c.units_param()), c);
        assert_eq!(c.lines, vec![(3, 3)]);
    }
}
