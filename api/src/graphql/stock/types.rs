//! Stock output objects: lots and their unit codes, stock locations, trace events, stock rows, transfers, receipts and counter sales.

use super::*;

#[derive(SimpleObject)]
pub struct Inspection {
    pub(crate) report_no: Option<String>,
    pub(crate) lab: Option<String>,
    /// CONFORMANT or NON_CONFORMANT.
    pub(crate) result: Option<InspectionResultGql>,
    pub(crate) date: Option<NaiveDate>,
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
            result: self.0.inspection_result.map(Into::into),
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
    /// What `refId` points at.
    async fn ref_kind(&self) -> Option<RefKindGql> {
        self.0.ref_kind.map(Into::into)
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
    pub(crate) ok: bool,
    pub(crate) events_checked: i32,
    pub(crate) first_bad_seq: Option<i64>,
    pub(crate) reason: Option<String>,
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
    pub(crate) sku: Sku,
    pub(crate) product: Product,
    pub(crate) available: i64,
    pub(crate) threshold: i64,
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
    async fn channel(&self) -> SaleChannelGql {
        self.0.channel.into()
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
