//! Lots, stock, the trace log, recalls, ledgers, counter sales and notifications.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::accounts::{Actor, Role};
use domain::entities::{
    location, lot, notification, sale, sale_line, stock_receipt, trace_event, transfer, unit_code,
};
use domain::lots::trace;
use domain::stock::ledger;
use domain::stock::{self, AdjustReason, CsvPolicy};
use domain::types::{Fen, IdNumber};
use domain::{Error, Lang};

use super::enums::{
    BizStepGql, DispositionGql, LocationKindGql, LotStateGql, LotStatusGql, TransferStatusGql,
    UnitCodeKindGql, UnitCodeStatusGql,
};
use super::errors::{StockError, split};
use super::loaders::{
    DealerKey, LocationKey, LotKey, ProducerKey, ProductKey, SkuKey, one, prefetch,
};
use super::market::Dealer;
use super::market::{Producer, Product, Sku};
use super::{
    ApiResult, actor, db, gid, lang, parse_gid, parse_gid_opt, pick, req, services, to_gql,
};

/// Publishes what a committed change means, on every node.
pub async fn publish(ctx: &Context<'_>, events: Vec<domain::events::DomainEvent>) {
    services(ctx).bus.publish_all(events).await;
}

fn dealer_gid(field: &str, id: &ID) -> domain::Result<i64> {
    parse_gid(field, "Dealer", id)
}

#[derive(SimpleObject)]
pub struct Inspection {
    report_no: Option<String>,
    lab: Option<String>,
    /// CONFORMANT or NON_CONFORMANT.
    result: Option<String>,
    date: Option<NaiveDate>,
}

/// A production lot (批次) of one pack size.
pub struct Lot(pub lot::Model);

#[Object]
impl Lot {
    async fn id(&self) -> ID {
        gid("Lot", self.0.id)
    }
    async fn lot_no(&self) -> &str {
        &self.0.lot_no
    }
    /// The code printed as a QR on labels; opens the public trace page at `/t/{traceCode}`.
    async fn trace_code(&self) -> &str {
        &self.0.trace_code
    }
    async fn trace_url(&self) -> String {
        format!("/t/{}", self.0.trace_code)
    }
    async fn gtin(&self) -> Option<&str> {
        self.0.gtin.as_deref()
    }
    async fn produced_on(&self) -> NaiveDate {
        self.0.produced_on
    }
    async fn expires_on(&self) -> NaiveDate {
        self.0.expires_on
    }
    async fn inspection(&self) -> Inspection {
        Inspection {
            report_no: self.0.inspection_report_no.clone(),
            lab: self.0.inspection_lab.clone(),
            result: self.0.inspection_result.clone(),
            date: self.0.inspection_date,
        }
    }
    /// As recorded.
    async fn status(&self) -> LotStatusGql {
        self.0.status.into()
    }
    /// As of today.
    async fn disposition(&self) -> LotStateGql {
        trace::disposition_of(&self.0, domain::today()).into()
    }
    async fn status_reason(&self) -> Option<&str> {
        self.0.status_reason.as_deref()
    }
    async fn sellable(&self) -> bool {
        trace::sellable(&self.0, domain::today())
    }
    async fn sku(&self, ctx: &Context<'_>) -> ApiResult<Option<Sku>> {
        Ok(one(ctx, SkuKey(self.0.sku_id)).await?.map(Sku))
    }
    async fn product(&self, ctx: &Context<'_>) -> ApiResult<Option<Product>> {
        let Some(s) = one(ctx, SkuKey(self.0.sku_id)).await? else {
            return Ok(None);
        };
        Ok(one(ctx, ProductKey(s.product_id)).await?.map(Product))
    }
    async fn producer(&self, ctx: &Context<'_>) -> ApiResult<Option<Producer>> {
        Ok(one(ctx, ProducerKey(self.0.producer_id))
            .await?
            .map(Producer))
    }
    /// Unit trace codes of the lot (dealers, regulators, admins).
    async fn unit_codes(&self, ctx: &Context<'_>) -> ApiResult<Vec<UnitCode>> {
        actor_not_farmer(ctx)?;
        Ok(domain::lots::unit_codes_of(db(ctx), self.0.id)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?
            .into_iter()
            .map(UnitCode)
            .collect())
    }
    /// The lot's whole event log (dealers, regulators, admins).
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<TraceEvent>> {
        actor_not_farmer(ctx)?;
        Ok(trace::events_of(db(ctx), self.0.id)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?
            .into_iter()
            .map(TraceEvent)
            .collect())
    }
}

fn actor_not_farmer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Actor> {
    let a = actor(ctx)?;
    if matches!(a.role, Role::Dealer | Role::Regulator | Role::Admin) {
        Ok(a)
    } else {
        Err(to_gql(domain::accounts::forbidden(), lang(ctx)))
    }
}

pub struct UnitCode(pub unit_code::Model);

#[Object]
impl UnitCode {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn kind(&self) -> UnitCodeKindGql {
        self.0.kind.into()
    }
    async fn status(&self) -> UnitCodeStatusGql {
        self.0.status.into()
    }
    /// Set when a sold code turned up again.
    async fn flagged_at(&self) -> Option<DateTime<Utc>> {
        self.0.flagged_at
    }
    /// In the caller's language.
    async fn flag_reason(&self, ctx: &Context<'_>) -> Option<String> {
        let lang = crate::graphql::lang(ctx);
        self.0.flag_reason.as_deref().map(|r| lang.pick_stored(r))
    }
}

/// A place stock lives: a dealer's store, a village station, or a producer's site.
pub struct Location(pub location::Model);

#[Object]
impl Location {
    async fn id(&self) -> ID {
        gid("Location", self.0.id)
    }
    async fn kind(&self) -> LocationKindGql {
        self.0.kind.into()
    }
    async fn name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.name_zh, &self.0.name_en)
    }
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        match self.0.dealer_id {
            Some(d) => Ok(one(ctx, DealerKey(d)).await?.map(Dealer)),
            None => Ok(None),
        }
    }
    /// The station, for STATION locations.
    async fn station_id(&self) -> Option<ID> {
        self.0.station_id.map(|s| gid("Station", s))
    }
}

/// One event of a lot's trace log (EPCIS-shaped, hash-chained).
pub struct TraceEvent(pub trace_event::Model);

async fn location_opt(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<Location>> {
    match id {
        Some(i) => Ok(one(ctx, LocationKey(i)).await?.map(Location)),
        None => Ok(None),
    }
}

#[Object]
impl TraceEvent {
    async fn id(&self) -> ID {
        gid("TraceEvent", self.0.id)
    }
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    async fn biz_step(&self) -> BizStepGql {
        self.0.biz_step.into()
    }
    async fn disposition(&self) -> DispositionGql {
        self.0.disposition.into()
    }
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    async fn location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        location_opt(ctx, self.0.location_id).await
    }
    async fn from_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        location_opt(ctx, self.0.from_location_id).await
    }
    async fn to_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        location_opt(ctx, self.0.to_location_id).await
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        match self.0.dealer_id {
            Some(d) => Ok(one(ctx, DealerKey(d)).await?.map(Dealer)),
            None => Ok(None),
        }
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// RECEIPT, SALE, TRANSFER or ORDER, with `refId`.
    async fn ref_kind(&self) -> Option<&str> {
        self.0.ref_kind.as_deref()
    }
    async fn ref_id(&self) -> Option<i64> {
        self.0.ref_id
    }
    /// For an error declaration: the event it declares wrong.
    async fn corrects_event_id(&self) -> Option<ID> {
        self.0.corrects_event_id.map(|e| gid("TraceEvent", e))
    }
    async fn unit_codes(&self) -> Vec<String> {
        self.0
            .unit_codes
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
    async fn note(&self) -> &str {
        &self.0.note
    }
    async fn prev_hash(&self) -> &str {
        &self.0.prev_hash
    }
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}

#[derive(SimpleObject)]
pub struct TraceVerification {
    ok: bool,
    events_checked: i32,
    first_bad_seq: Option<i64>,
    reason: Option<String>,
}

/// A stock row: a lot at a location, owned by a dealer.
pub struct StockRow(pub stock::StockView);

#[Object]
impl StockRow {
    async fn id(&self) -> ID {
        gid("Stock", self.0.stock.id)
    }
    async fn location(&self) -> Location {
        Location(self.0.location.clone())
    }
    async fn lot(&self) -> Lot {
        Lot(self.0.lot.clone())
    }
    async fn sku(&self) -> Sku {
        Sku(self.0.sku.clone())
    }
    async fn product(&self) -> Product {
        Product(self.0.product.clone())
    }
    async fn on_hand(&self) -> i64 {
        self.0.stock.on_hand
    }
    async fn reserved(&self) -> i64 {
        self.0.stock.reserved
    }
    /// On hand minus reserved; never negative.
    async fn available(&self) -> i64 {
        self.0.available()
    }
    async fn disposition(&self) -> LotStateGql {
        self.0.disposition.into()
    }
    async fn expires_on(&self) -> NaiveDate {
        self.0.lot.expires_on
    }
    /// Negative once expired.
    async fn days_to_expiry(&self) -> i64 {
        self.0.days_to_expiry
    }
}

#[derive(SimpleObject)]
pub struct LowStockRow {
    sku: Sku,
    product: Product,
    available: i64,
    threshold: i64,
}

pub struct Transfer(pub transfer::Model);

#[Object]
impl Transfer {
    async fn id(&self) -> ID {
        gid("Transfer", self.0.id)
    }
    async fn lot(&self, ctx: &Context<'_>) -> ApiResult<Option<Lot>> {
        Ok(one(ctx, LotKey(self.0.lot_id)).await?.map(Lot))
    }
    async fn from_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        location_opt(ctx, Some(self.0.from_location_id)).await
    }
    async fn to_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        location_opt(ctx, Some(self.0.to_location_id)).await
    }
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    async fn status(&self) -> TransferStatusGql {
        self.0.status.into()
    }
    async fn shipped_at(&self) -> DateTime<Utc> {
        self.0.shipped_at
    }
    async fn received_at(&self) -> Option<DateTime<Utc>> {
        self.0.received_at
    }
}

pub struct Receipt(pub stock_receipt::Model);

#[Object]
impl Receipt {
    async fn id(&self) -> ID {
        gid("Receipt", self.0.id)
    }
    async fn lot(&self, ctx: &Context<'_>) -> ApiResult<Option<Lot>> {
        Ok(one(ctx, LotKey(self.0.lot_id)).await?.map(Lot))
    }
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    async fn unit_cost_fen(&self) -> i64 {
        self.0.unit_cost_fen
    }
    async fn supplier_name(&self) -> &str {
        &self.0.supplier_name
    }
    async fn supplier_licence_no(&self) -> &str {
        &self.0.supplier_licence_no
    }
    async fn source_document(&self) -> &str {
        &self.0.source_document
    }
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
}

pub struct Sale(pub sale::Model, pub Vec<sale_line::Model>);

#[Object]
impl Sale {
    async fn id(&self) -> ID {
        gid("Sale", self.0.id)
    }
    /// COUNTER or ORDER.
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        Ok(one(ctx, DealerKey(self.0.dealer_id)).await?.map(Dealer))
    }
    async fn buyer_name(&self) -> Option<&str> {
        self.0.buyer_name.as_deref()
    }
    async fn buyer_phone(&self) -> Option<&str> {
        self.0.buyer_phone.as_deref()
    }
    /// Masked except to admins and regulators.
    async fn buyer_id_number(&self, ctx: &Context<'_>) -> Option<String> {
        let id = self.0.buyer_id_number.as_ref()?;
        let full = req(ctx)
            .actor
            .as_ref()
            .is_some_and(domain::accounts::is_regulator_or_admin);
        Some(if full {
            id.clone()
        } else {
            IdNumber::masked(id)
        })
    }
    async fn crop(&self) -> Option<&str> {
        self.0.crop.as_deref()
    }
    async fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }
    async fn total_fen(&self) -> i64 {
        self.0.total_fen
    }
    async fn total(&self) -> String {
        Fen(self.0.total_fen).to_string()
    }
    async fn sold_at(&self) -> DateTime<Utc> {
        self.0.sold_at
    }
    async fn lines(&self) -> Vec<SaleLine> {
        self.1.iter().cloned().map(SaleLine).collect()
    }
}

pub struct SaleLine(pub sale_line::Model);

#[Object]
impl SaleLine {
    async fn sku(&self, ctx: &Context<'_>) -> ApiResult<Option<Sku>> {
        Ok(one(ctx, SkuKey(self.0.sku_id)).await?.map(Sku))
    }
    async fn lot(&self, ctx: &Context<'_>) -> ApiResult<Option<Lot>> {
        Ok(one(ctx, LotKey(self.0.lot_id)).await?.map(Lot))
    }
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    async fn unit_price_fen(&self) -> i64 {
        self.0.unit_price_fen
    }
}

#[derive(SimpleObject)]
pub struct CustodyStep {
    seq: i64,
    biz_step: BizStepGql,
    disposition: DispositionGql,
    occurred_at: DateTime<Utc>,
    place_kind: Option<LocationKindGql>,
    place: Option<String>,
    quantity: i64,
    /// An error declaration points at this step.
    corrected: bool,
}

/// What anyone may see about a bag: never a buyer.
#[derive(SimpleObject)]
pub struct PublicTrace {
    trace_code: String,
    /// The lot this code belongs to: `lot(id:)` opens it for a regulator or its dealer.
    lot_id: ID,
    /// The product: `product(id:)` gives its registration, spec and offers.
    product_id: ID,
    product_name: String,
    product_name_zh: String,
    product_name_en: String,
    category: String,
    registration_no: Option<String>,
    pack: String,
    producer_name: String,
    producer_licence: Option<String>,
    lot_no: String,
    produced_on: NaiveDate,
    expires_on: NaiveDate,
    inspection: Inspection,
    disposition: LotStateGql,
    disposition_reason: Option<String>,
    custody: Vec<CustodyStep>,
    unit_code: Option<String>,
    unit_status: Option<UnitCodeStatusGql>,
    /// A code already sold that turned up again: a warning sign of counterfeits.
    unit_flagged: bool,
}

impl PublicTrace {
    pub fn from_domain(t: trace::PublicTrace, l: Lang) -> Self {
        PublicTrace {
            trace_code: t.trace_code,
            lot_id: gid("Lot", t.lot_id),
            product_id: gid("Product", t.product_id),
            product_name: l.pick(&t.product_zh, &t.product_en).to_owned(),
            product_name_zh: t.product_zh,
            product_name_en: t.product_en,
            category: t.category,
            registration_no: t.registration_no,
            pack: t.pack,
            producer_name: l.pick(&t.producer_zh, &t.producer_en).to_owned(),
            producer_licence: t.producer_licence,
            lot_no: t.lot_no,
            produced_on: t.produced_on,
            expires_on: t.expires_on,
            inspection: Inspection {
                report_no: t.inspection_report_no,
                lab: t.inspection_lab,
                result: t.inspection_result,
                date: t.inspection_date,
            },
            disposition: t.disposition.into(),
            disposition_reason: t.disposition_reason,
            custody: t
                .custody
                .into_iter()
                .map(|c| CustodyStep {
                    seq: c.seq,
                    biz_step: c.biz_step.into(),
                    disposition: c.disposition.into(),
                    occurred_at: c.occurred_at,
                    place_kind: c.place_kind.map(Into::into),
                    place: match l {
                        Lang::Zh => c.place_zh,
                        Lang::En => c.place_en,
                    },
                    quantity: c.quantity,
                    corrected: c.corrected,
                })
                .collect(),
            unit_code: t.unit_code,
            unit_status: t.unit_status.map(Into::into),
            unit_flagged: t.unit_flagged,
        }
    }
}

#[derive(SimpleObject)]
pub struct Holder {
    dealer_id: ID,
    dealer_name: String,
    dealer_phone: String,
    location_name: String,
    on_hand: i64,
    reserved: i64,
    in_transit: i64,
}

#[derive(SimpleObject)]
pub struct RecallBuyer {
    name: Option<String>,
    phone: Option<String>,
    village: Option<String>,
    dealer_name: String,
    quantity: i64,
    sold_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct UpstreamStep {
    biz_step: BizStepGql,
    occurred_at: DateTime<Utc>,
    quantity: i64,
    party: String,
    licence: Option<String>,
    document: Option<String>,
}

#[derive(SimpleObject)]
pub struct RecallReport {
    lot: Lot,
    product_name: String,
    /// Every current holder, with quantities.
    holders: Vec<Holder>,
    /// Every buyer: name, phone, village, quantity, date.
    buyers: Vec<RecallBuyer>,
    /// Back to the producer: receipts (suppliers, documents), then commissioning.
    backward: Vec<UpstreamStep>,
    /// The same as CSV (GET with the same token).
    csv_url: String,
}

impl RecallReport {
    fn from_domain(r: trace::RecallReport, l: Lang) -> Self {
        RecallReport {
            csv_url: format!("/lots/{}/recall-report.csv", r.lot.id),
            product_name: l.pick(&r.product_zh, &r.product_en).to_owned(),
            holders: r
                .holders
                .into_iter()
                .map(|h| Holder {
                    dealer_id: gid("Dealer", h.dealer_id),
                    dealer_name: l.pick(&h.dealer_zh, &h.dealer_en).to_owned(),
                    dealer_phone: h.dealer_phone,
                    location_name: l.pick(&h.location_zh, &h.location_en).to_owned(),
                    on_hand: h.on_hand,
                    reserved: h.reserved,
                    in_transit: h.in_transit,
                })
                .collect(),
            buyers: r
                .buyers
                .into_iter()
                .map(|b| RecallBuyer {
                    name: b.name,
                    phone: b.phone,
                    village: match l {
                        Lang::Zh => b.village_zh,
                        Lang::En => b.village_en,
                    },
                    dealer_name: l.pick(&b.dealer_zh, &b.dealer_en).to_owned(),
                    quantity: b.quantity,
                    sold_at: b.sold_at,
                })
                .collect(),
            backward: r
                .backward
                .into_iter()
                .map(|u| UpstreamStep {
                    biz_step: u.biz_step.into(),
                    occurred_at: u.occurred_at,
                    quantity: u.quantity,
                    party: l.pick(&u.party_zh, &u.party_en).to_owned(),
                    licence: u.licence,
                    document: u.document,
                })
                .collect(),
            lot: Lot(r.lot),
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LedgerKind {
    /// 购进台账
    Purchase,
    /// 销售台账
    Sale,
}

impl From<LedgerKind> for ledger::Kind {
    fn from(k: LedgerKind) -> Self {
        match k {
            LedgerKind::Purchase => ledger::Kind::Purchase,
            LedgerKind::Sale => ledger::Kind::Sale,
        }
    }
}

pub struct LedgerLine(pub domain::entities::ledger_line::Model);

#[Object]
impl LedgerLine {
    async fn id(&self) -> ID {
        gid("LedgerLine", self.0.id)
    }
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The local (China Standard Time) date.
    async fn date(&self) -> NaiveDate {
        self.0.occurred_on
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn product_name(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.product_name_zh, &self.0.product_name_en)
    }
    async fn spec(&self) -> &str {
        &self.0.spec
    }
    async fn registration_no(&self) -> &str {
        &self.0.registration_no
    }
    async fn producer_name(&self) -> &str {
        &self.0.producer_name
    }
    async fn lot_no(&self) -> &str {
        &self.0.lot_no
    }
    /// Negative for a return.
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    async fn unit_price_fen(&self) -> i64 {
        self.0.unit_price_fen
    }
    async fn amount_fen(&self) -> i64 {
        self.0.amount_fen
    }
    /// The supplier (purchases) or the buyer (sales).
    async fn counterparty_name(&self) -> &str {
        &self.0.counterparty_name
    }
    async fn counterparty_licence(&self) -> &str {
        &self.0.counterparty_licence
    }
    async fn counterparty_contact(&self) -> &str {
        &self.0.counterparty_contact
    }
    /// Masked except to admins and regulators.
    async fn counterparty_id_number(&self, ctx: &Context<'_>) -> String {
        let id = &self.0.counterparty_id_number;
        let full = req(ctx)
            .actor
            .as_ref()
            .is_some_and(domain::accounts::is_regulator_or_admin);
        if full || id.is_empty() {
            id.clone()
        } else {
            IdNumber::masked(id)
        }
    }
    async fn source_document(&self) -> &str {
        &self.0.source_document
    }
    async fn note(&self) -> &str {
        &self.0.note
    }
    async fn corrects_line_id(&self) -> Option<ID> {
        self.0.corrects_line_id.map(|l| gid("LedgerLine", l))
    }
}

pub struct Notification(pub notification::Model);

#[Object]
impl Notification {
    async fn id(&self) -> ID {
        gid("Notification", self.0.id)
    }
    /// LOT_RECALLED, ORDER_UPDATED, RECOMMENDATION_PUBLISHED, ...
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn title(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.title_zh, &self.0.title_en)
    }
    async fn body(&self, ctx: &Context<'_>) -> String {
        pick(ctx, &self.0.body_zh, &self.0.body_en)
    }
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
}

#[derive(SimpleObject)]
pub struct Gs1Parsed {
    gtin: Option<String>,
    lot: Option<String>,
    produced_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
}

#[derive(Default)]
pub struct StockQuery;

#[Object]
impl StockQuery {
    async fn lot(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Lot> {
        actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("id", "Lot", &id).map_err(|e| to_gql(e, l))?;
        domain::lots::lot(db(ctx), id)
            .await
            .map(Lot)
            .map_err(|e| to_gql(e, l))
    }

    /// Lots of a pack size, newest first (signed-in users).
    async fn lots(&self, ctx: &Context<'_>, sku_id: ID) -> ApiResult<Vec<Lot>> {
        actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("skuId", "Sku", &sku_id).map_err(|e| to_gql(e, l))?;
        Ok(domain::lots::lots_of(db(ctx), &[id])
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Lot)
            .collect())
    }

    /// A dealer's stock by product and lot, with expiry (staff, admins, the county's regulators).
    async fn stock(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        product_id: Option<ID>,
    ) -> ApiResult<Vec<StockRow>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let d = dealer_gid("dealerId", &dealer_id)?;
            let p = parse_gid_opt("productId", "Product", product_id.as_ref())?;
            stock::stock_of_dealer(db(ctx), a, d, p).await
        }
        .await;
        Ok(r.map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(StockRow)
            .collect())
    }

    /// Stock expiring within `days` (or already expired), soonest first.
    async fn near_expiry(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default = 30)] days: i32,
    ) -> ApiResult<Vec<StockRow>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(stock::near_expiry(db(ctx), a, d, i64::from(days))
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(StockRow)
            .collect())
    }

    /// Offered pack sizes whose sellable available stock is below `threshold`.
    async fn low_stock(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default = 5)] threshold: i32,
    ) -> ApiResult<Vec<LowStockRow>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(stock::low_stock(db(ctx), a, d, i64::from(threshold))
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(|r| LowStockRow {
                sku: Sku(r.sku),
                product: Product(r.product),
                available: r.available,
                threshold: r.threshold,
            })
            .collect())
    }

    async fn transfers(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default)] in_transit_only: bool,
    ) -> ApiResult<Vec<Transfer>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(stock::transfers_of(db(ctx), a, d, in_transit_only)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Transfer)
            .collect())
    }

    /// A dealer's recent sales, newest first.
    async fn sales(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default = 50)] first: i32,
    ) -> ApiResult<Vec<Sale>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        let sales = stock::sales_with_lines(db(ctx), a, d, first.clamp(1, 200) as u64)
            .await
            .map_err(|e| to_gql(e, l))?;
        // Every relation the query selects, loaded for the whole page (one statement each),
        // so the statement count does not depend on how resolvers interleave.
        let node = ctx.look_ahead();
        if node.field("dealer").exists() {
            prefetch(ctx, sales.iter().map(|(s, _)| DealerKey(s.dealer_id))).await?;
        }
        let lines = node.field("lines");
        let all_lines = || sales.iter().flat_map(|(_, lines)| lines);
        if lines.field("sku").exists() {
            prefetch(ctx, all_lines().map(|l| SkuKey(l.sku_id))).await?;
        }
        if lines.field("lot").exists() {
            prefetch(ctx, all_lines().map(|l| LotKey(l.lot_id))).await?;
        }
        Ok(sales.into_iter().map(|(s, lines)| Sale(s, lines)).collect())
    }

    /// The public history of a bag, by the code on its label (a lot's trace code, a unit code,
    /// or GS1 data). No login needed; never shows a buyer. Rate limited per client address.
    async fn trace(&self, ctx: &Context<'_>, code: String) -> ApiResult<Option<PublicTrace>> {
        let l = lang(ctx);
        let s = services(ctx);
        s.limiter
            .hit(
                &format!("trace:ip:{}", req(ctx).client_ip),
                s.config.trace_limit_per_minute,
                std::time::Duration::from_secs(60),
            )
            .await
            .map_err(|r| {
                to_gql(
                    Error::RateLimited {
                        retry_after_secs: r.0.as_secs().max(1),
                    },
                    l,
                )
            })?;
        Ok(trace::public_trace(db(ctx), &code)
            .await
            .map_err(|e| to_gql(e, l))?
            .map(|t| PublicTrace::from_domain(t, l)))
    }

    /// Recomputes a lot's hash chain: a row edited behind the API's back fails here.
    async fn trace_verify(&self, ctx: &Context<'_>, lot_id: ID) -> ApiResult<TraceVerification> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("lotId", "Lot", &lot_id).map_err(|e| to_gql(e, l))?;
        let v = trace::verify(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?;
        Ok(TraceVerification {
            ok: v.ok,
            events_checked: v.events_checked as i32,
            first_bad_seq: v.first_bad_seq,
            reason: v.reason,
        })
    }

    /// Every holder and buyer of a lot, and the chain back to the producer (regulators, admins).
    async fn recall_report(&self, ctx: &Context<'_>, lot_id: ID) -> ApiResult<RecallReport> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("lotId", "Lot", &lot_id).map_err(|e| to_gql(e, l))?;
        Ok(RecallReport::from_domain(
            trace::recall_report(db(ctx), a, id)
                .await
                .map_err(|e| to_gql(e, l))?,
            l,
        ))
    }

    /// A dealer's purchase or sales ledger for a date range (local dates, inclusive). The same
    /// as CSV: `GET /dealers/{dealerId}/ledger.csv?kind=PURCHASE&from=...&to=...`.
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        kind: LedgerKind,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ApiResult<Vec<LedgerLine>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(ledger::lines(db(ctx), a, d, kind.into(), from, to)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(LedgerLine)
            .collect())
    }

    /// The caller's notifications, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] unread_only: bool,
        #[graphql(default = 50)] first: i32,
    ) -> ApiResult<Vec<Notification>> {
        let a = actor(ctx)?;
        let rows =
            domain::notify::for_user(db(ctx), a.user_id, unread_only, first.clamp(1, 200) as u64)
                .await
                .map_err(|e| to_gql(e, lang(ctx)))?;
        Ok(rows.into_iter().map(Notification).collect())
    }

    /// Reads GS1 data off a scanned label: `(01)...(10)...(17)...`, raw, or a Digital Link.
    async fn gs1_parse(&self, ctx: &Context<'_>, text: String) -> ApiResult<Gs1Parsed> {
        let d = domain::lots::gs1::parse(&text)
            .map_err(|e| to_gql(Error::Invalid(vec![e]), lang(ctx)))?;
        Ok(Gs1Parsed {
            gtin: d.gtin,
            lot: d.lot,
            produced_on: d.produced_on,
            expires_on: d.expires_on,
        })
    }
}

#[derive(InputObject)]
pub struct InspectionInput {
    report_no: String,
    lab: String,
    /// CONFORMANT or NON_CONFORMANT.
    result: String,
    date: NaiveDate,
}

impl From<InspectionInput> for domain::lots::InspectionInput {
    fn from(i: InspectionInput) -> Self {
        domain::lots::InspectionInput {
            report_no: i.report_no,
            lab: i.lab,
            result: i.result,
            date: i.date,
        }
    }
}

#[derive(InputObject)]
pub struct LotInput {
    sku_id: ID,
    lot_no: String,
    /// Defaults to the product's producer.
    producer_id: Option<ID>,
    produced_on: NaiveDate,
    expires_on: NaiveDate,
    gtin: Option<String>,
    inspection: Option<InspectionInput>,
    #[graphql(default)]
    unit_codes: Vec<String>,
}

#[derive(InputObject)]
pub struct SupplierInput {
    name: String,
    licence_no: String,
    contact: String,
}

#[derive(InputObject)]
pub struct ReceiveInput {
    dealer_id: ID,
    /// The dealer's store when absent.
    location_id: Option<ID>,
    lot_id: ID,
    quantity: i64,
    unit_cost_fen: i64,
    supplier: SupplierInput,
    source_document: String,
    received_at: Option<DateTime<Utc>>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CsvErrorPolicy {
    /// Any bad row rejects the whole file: nothing is written.
    RejectAll,
    /// Good rows are received; bad rows are reported.
    SkipInvalid,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AdjustmentReason {
    CountCorrection,
    Damage,
    Other,
}

#[derive(InputObject)]
pub struct AdjustInput {
    dealer_id: ID,
    location_id: ID,
    lot_id: ID,
    /// Positive adds, negative removes.
    delta: i64,
    reason: AdjustmentReason,
    note: String,
}

#[derive(InputObject)]
pub struct TransferInput {
    dealer_id: ID,
    lot_id: ID,
    from_location_id: ID,
    to_location_id: ID,
    quantity: i64,
}

#[derive(InputObject)]
pub struct DestroyInput {
    dealer_id: ID,
    location_id: ID,
    lot_id: ID,
    quantity: i64,
    reason: String,
}

#[derive(InputObject)]
pub struct BuyerInput {
    /// A registered farmer (their real-name data is used).
    user_id: Option<ID>,
    name: Option<String>,
    phone: Option<String>,
    /// Required, with name and phone, for restricted-use pesticides.
    id_number: Option<String>,
    village_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SaleLineInput {
    sku_id: ID,
    quantity: i64,
    /// Defaults to the dealer's offer.
    unit_price_fen: Option<i64>,
}

#[derive(InputObject)]
pub struct CounterSaleInput {
    dealer_id: ID,
    location_id: Option<ID>,
    lines: Vec<SaleLineInput>,
    buyer: Option<BuyerInput>,
    /// Crop (code or name) and pest/disease: required for restricted-use pesticides.
    crop: Option<String>,
    target: Option<String>,
    #[graphql(default)]
    unit_codes: Vec<String>,
}

#[derive(SimpleObject)]
pub struct LotPayload {
    lot: Option<Lot>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct ReceiptPayload {
    receipt: Option<Receipt>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct CsvRowError {
    /// The line in the file (the header is line 1).
    line: i32,
    /// 1-based column, when the problem is in one cell.
    column: Option<i32>,
    column_name: Option<String>,
    code: super::errors::StockErrorCode,
    message: String,
}

#[derive(SimpleObject)]
pub struct CsvReceiptPayload {
    /// False when the file was rejected and nothing was written.
    committed: bool,
    received: Vec<Receipt>,
    lots_created: i32,
    pub row_errors: Vec<CsvRowError>,
}

#[derive(SimpleObject)]
pub struct StockPayload {
    ok: bool,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct TransferPayload {
    transfer: Option<Transfer>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct SalePayload {
    sale: Option<Sale>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct TraceEventPayload {
    event: Option<TraceEvent>,
    errors: Vec<StockError>,
}

macro_rules! payload {
    ($ty:ident, $field:ident, $r:expr, $l:expr, |$v:ident| $wrap:expr) => {
        Ok(match split($r, $l)? {
            Ok($v) => $ty {
                $field: Some($wrap),
                errors: vec![],
            },
            Err(e) => $ty {
                $field: None,
                errors: StockError::list(e, $l),
            },
        })
    };
}

pub fn csv_policy(p: CsvErrorPolicy) -> CsvPolicy {
    match p {
        CsvErrorPolicy::RejectAll => CsvPolicy::RejectAll,
        CsvErrorPolicy::SkipInvalid => CsvPolicy::SkipInvalid,
    }
}

/// Maps the domain's CSV outcome to the payload (shared with the CSV upload endpoint).
pub fn csv_payload(o: stock::CsvOutcome, l: Lang) -> CsvReceiptPayload {
    CsvReceiptPayload {
        committed: o.committed,
        lots_created: o.lots_created as i32,
        received: o.received.into_iter().map(Receipt).collect(),
        row_errors: o
            .errors
            .into_iter()
            .map(|e| CsvRowError {
                line: e.line as i32,
                column: e.column.map(|c| c as i32),
                column_name: e.column_name,
                code: e.code.into(),
                message: l.pick(&e.zh, &e.en).to_owned(),
            })
            .collect(),
    }
}

#[derive(Default)]
pub struct StockMutation;

#[Object]
impl StockMutation {
    /// Records a lot as released by its producer, with inspection and unit codes (dealers, admins).
    async fn lot_create(&self, ctx: &Context<'_>, input: LotInput) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let sku_id = parse_gid("skuId", "Sku", &input.sku_id)?;
            let producer_id = parse_gid_opt("producerId", "Producer", input.producer_id.as_ref())?;
            let li = domain::lots::LotInput {
                sku_id,
                lot_no: input.lot_no,
                producer_id,
                produced_on: input.produced_on,
                expires_on: input.expires_on,
                gtin: input.gtin,
                inspection: input.inspection.map(Into::into),
                unit_codes: input.unit_codes,
            };
            domain::lots::create_lot(db(ctx), a, li).await
        }
        .await;
        payload!(LotPayload, lot, r, l, |v| Lot(v))
    }

    /// Adds unit trace codes (32-digit pesticide codes are checked against the registration).
    async fn lot_add_unit_codes(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        codes: Vec<String>,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::lots::add_unit_codes(db(ctx), a, id, &codes).await?;
            domain::lots::lot(db(ctx), id).await
        }
        .await;
        payload!(LotPayload, lot, r, l, |v| Lot(v))
    }

    /// Records an inspection; a non-conformant result puts the lot on hold.
    async fn lot_record_inspection(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        inspection: InspectionInput,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::lots::record_inspection(db(ctx), a, id, inspection.into()).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(LotPayload, lot, r, l, |v| Lot(v))
    }

    /// Puts a lot on hold (regulators, admins).
    async fn lot_hold(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
    ) -> ApiResult<LotPayload> {
        self.hold(ctx, lot_id, reason, true).await
    }

    /// Releases a held lot (regulators, admins).
    async fn lot_release(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
    ) -> ApiResult<LotPayload> {
        self.hold(ctx, lot_id, reason, false).await
    }

    /// Recalls a lot (regulators, admins): unsellable everywhere at once; every affected dealer
    /// and buyer is notified. `recallReport` then lists holders and buyers.
    async fn lot_recall(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::workflows::recall(db(ctx), a, id, &reason).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(LotPayload, lot, r, l, |v| Lot(v))
    }

    /// Receives stock of a lot from a named supplier; writes the purchase-ledger line.
    async fn stock_receive(
        &self,
        ctx: &Context<'_>,
        input: ReceiveInput,
    ) -> ApiResult<ReceiptPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let ri = stock::ReceiptInput {
                dealer_id: dealer_gid("dealerId", &input.dealer_id)?,
                location_id: parse_gid_opt("locationId", "Location", input.location_id.as_ref())?,
                lot_id: parse_gid("lotId", "Lot", &input.lot_id)?,
                quantity: input.quantity,
                unit_cost_fen: input.unit_cost_fen,
                supplier: stock::Supplier {
                    name: input.supplier.name,
                    licence_no: input.supplier.licence_no,
                    contact: input.supplier.contact,
                },
                source_document: input.source_document,
                received_at: input.received_at,
            };
            stock::receive(db(ctx), a, ri).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(ReceiptPayload, receipt, r, l, |v| Receipt(v))
    }

    /// Receives stock from a CSV file (UTF-8, BOM or not). Columns: sku (GTIN or pack id),
    /// lot_no, produced_on, expires_on, quantity, unit_cost (yuan), supplier_name,
    /// supplier_licence_no, supplier_contact, source_document, and optionally
    /// inspection_report_no, inspection_lab, inspection_result, inspection_date (Chinese
    /// headers are accepted too). Every bad row names its line and column.
    async fn stock_receive_csv(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        csv: String,
        policy: CsvErrorPolicy,
    ) -> ApiResult<CsvReceiptPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        let (o, events) = stock::receive_csv(db(ctx), a, d, &csv, csv_policy(policy))
            .await
            .map_err(|e| to_gql(e, l))?;
        publish(ctx, events).await;
        Ok(csv_payload(o, l))
    }

    /// Corrects stock after a count, or writes off damage, with a reason.
    async fn stock_adjust(&self, ctx: &Context<'_>, input: AdjustInput) -> ApiResult<StockPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let reason = match input.reason {
                AdjustmentReason::CountCorrection => AdjustReason::CountCorrection,
                AdjustmentReason::Damage => AdjustReason::Damage,
                AdjustmentReason::Other => AdjustReason::Other,
            };
            let adj = stock::Adjustment {
                dealer_id: dealer_gid("dealerId", &input.dealer_id)?,
                location_id: parse_gid("locationId", "Location", &input.location_id)?,
                lot_id: parse_gid("lotId", "Lot", &input.lot_id)?,
                delta: input.delta,
                reason,
                note: input.note,
            };
            stock::adjust(db(ctx), a, adj).await.map(|ev| ((), ev))
        }
        .await;
        stock_payload(ctx, r, l).await
    }

    /// Ships stock to a village station the dealer serves (in transit until received).
    async fn stock_transfer_ship(
        &self,
        ctx: &Context<'_>,
        input: TransferInput,
    ) -> ApiResult<TransferPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::transfer_ship(
                db(ctx),
                a,
                dealer_gid("dealerId", &input.dealer_id)?,
                parse_gid("lotId", "Lot", &input.lot_id)?,
                parse_gid("fromLocationId", "Location", &input.from_location_id)?,
                parse_gid("toLocationId", "Location", &input.to_location_id)?,
                input.quantity,
            )
            .await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(TransferPayload, transfer, r, l, |v| Transfer(v))
    }

    async fn stock_transfer_receive(
        &self,
        ctx: &Context<'_>,
        transfer_id: ID,
    ) -> ApiResult<TransferPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::transfer_receive(
                db(ctx),
                a,
                parse_gid("transferId", "Transfer", &transfer_id)?,
            )
            .await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(TransferPayload, transfer, r, l, |v| Transfer(v))
    }

    /// A buyer returns units of a sale.
    async fn stock_return(
        &self,
        ctx: &Context<'_>,
        sale_id: ID,
        lot_id: ID,
        quantity: i64,
        reason: String,
    ) -> ApiResult<StockPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::return_from_buyer(
                db(ctx),
                a,
                parse_gid("saleId", "Sale", &sale_id)?,
                parse_gid("lotId", "Lot", &lot_id)?,
                quantity,
                &reason,
            )
            .await
            .map(|ev| ((), ev))
        }
        .await;
        stock_payload(ctx, r, l).await
    }

    /// Destroys or writes off stock, with a reason.
    async fn stock_destroy(
        &self,
        ctx: &Context<'_>,
        input: DestroyInput,
    ) -> ApiResult<StockPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::destroy(
                db(ctx),
                a,
                dealer_gid("dealerId", &input.dealer_id)?,
                parse_gid("locationId", "Location", &input.location_id)?,
                parse_gid("lotId", "Lot", &input.lot_id)?,
                input.quantity,
                &input.reason,
            )
            .await
            .map(|ev| ((), ev))
        }
        .await;
        stock_payload(ctx, r, l).await
    }

    /// Records a walk-in sale: earliest-expiring sellable lots first; trace events and
    /// sales-ledger lines are written. Restricted-use pesticides need a real-name buyer, a
    /// licensed dealer and a registered crop/target.
    async fn counter_sale(
        &self,
        ctx: &Context<'_>,
        input: CounterSaleInput,
    ) -> ApiResult<SalePayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let mut lines = Vec::new();
            for (i, line) in input.lines.iter().enumerate() {
                lines.push(stock::SaleLineInput {
                    sku_id: parse_gid(&format!("lines.{i}.skuId"), "Sku", &line.sku_id)?,
                    quantity: line.quantity,
                    unit_price_fen: line.unit_price_fen,
                });
            }
            let buyer = match input.buyer {
                Some(b) => stock::Buyer {
                    user_id: parse_gid_opt("buyer.userId", "User", b.user_id.as_ref())?,
                    name: b.name.filter(|n| !n.trim().is_empty()),
                    phone: b.phone.filter(|p| !p.trim().is_empty()),
                    id_number: b.id_number.filter(|i| !i.trim().is_empty()),
                    village_id: parse_gid_opt("buyer.villageId", "Region", b.village_id.as_ref())?,
                },
                None => stock::Buyer::default(),
            };
            let si = stock::CounterSaleInput {
                dealer_id: dealer_gid("dealerId", &input.dealer_id)?,
                location_id: parse_gid_opt("locationId", "Location", input.location_id.as_ref())?,
                lines,
                buyer,
                crop: input.crop,
                target: input.target,
                unit_codes: input.unit_codes,
            };
            stock::counter_sale(db(ctx), a, si)
                .await
                .map(|(s, lines, ev)| ((s, lines), ev))
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(SalePayload, sale, r, l, |v| Sale(v.0, v.1))
    }

    /// Declares an earlier trace event wrong (a new event points at it; nothing is edited).
    async fn trace_event_correct(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        reason: String,
    ) -> ApiResult<TraceEventPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::declare_error(
                db(ctx),
                a,
                parse_gid("eventId", "TraceEvent", &event_id)?,
                &reason,
            )
            .await
        }
        .await;
        payload!(TraceEventPayload, event, r, l, |v| TraceEvent(v))
    }

    /// Marks the caller's notifications read; returns how many changed.
    async fn notifications_mark_read(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<i32> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let ids = ids
            .iter()
            .enumerate()
            .map(|(i, id)| parse_gid(&format!("ids.{i}"), "Notification", id))
            .collect::<domain::Result<Vec<_>>>()
            .map_err(|e| to_gql(e, l))?;
        Ok(domain::notify::mark_read(db(ctx), a.user_id, &ids)
            .await
            .map_err(|e| to_gql(e, l))? as i32)
    }
}

impl StockMutation {
    async fn hold(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
        hold: bool,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::lots::set_hold(db(ctx), a, id, hold, &reason).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(LotPayload, lot, r, l, |v| Lot(v))
    }
}

/// Publishes the events of a successful change and passes its value on.
async fn publish_ok<T>(
    ctx: &Context<'_>,
    r: domain::Result<(T, Vec<domain::events::DomainEvent>)>,
) -> domain::Result<T> {
    match r {
        Ok((v, events)) => {
            publish(ctx, events).await;
            Ok(v)
        }
        Err(e) => Err(e),
    }
}

async fn stock_payload(
    ctx: &Context<'_>,
    r: domain::Result<((), Vec<domain::events::DomainEvent>)>,
    l: Lang,
) -> ApiResult<StockPayload> {
    let r = publish_ok(ctx, r).await;
    Ok(match split(r, l)? {
        Ok(()) => StockPayload {
            ok: true,
            errors: vec![],
        },
        Err(e) => StockPayload {
            ok: false,
            errors: StockError::list(e, l),
        },
    })
}
