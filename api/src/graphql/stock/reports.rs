//! Stock output objects that report on the other records: the public trace page, recall reports, ledgers, notifications and parsed GS1 codes.

use super::*;

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
    category: CategoryGql,
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
            category: t.category.into(),
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
                result: t.inspection_result.map(Into::into),
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

/// Whom a recall of a lot would reach now (`recallReach`), counted before it is ordered.
#[derive(SimpleObject)]
pub struct RecallReach {
    /// Dealer stores and stations holding the lot or with it in transit to them.
    holders: i64,
    /// Units on hand and in transit.
    units_held: i64,
    /// Dealers that hold or sold it (all their staff are notified).
    dealers: i64,
    /// Buyers with an account (notified in the app).
    buyers_notified: i64,
    /// Counter sales to buyers without an account, and how many of those left a phone.
    anonymous_sales: i64,
    anonymous_with_phone: i64,
    /// Every account a recall notifies.
    accounts: i64,
}

impl From<domain::bureau::lots::Reach> for RecallReach {
    fn from(r: domain::bureau::lots::Reach) -> Self {
        RecallReach {
            holders: r.holders as i64,
            units_held: r.units_held,
            dealers: r.dealers as i64,
            buyers_notified: r.buyers_notified as i64,
            anonymous_sales: r.anonymous_sales as i64,
            anonymous_with_phone: r.anonymous_with_phone as i64,
            accounts: r.accounts as i64,
        }
    }
}

/// How a recall is going (`recallProgress`): stock still out, and who has read the notice.
#[derive(SimpleObject)]
pub struct RecallProgress {
    recalled_at: DateTime<Utc>,
    reason: String,
    /// The officer who ordered it.
    ordered_by: Option<String>,
    on_shelves: i64,
    in_transit: i64,
    units_sold: i64,
    buyer_accounts: i64,
    buyers_read: i64,
    dealer_accounts: i64,
    dealers_read: i64,
    /// Counter sales nobody can be told of in the app, and how many of those left a phone.
    anonymous_sales: i64,
    anonymous_with_phone: i64,
}

impl From<domain::bureau::lots::Progress> for RecallProgress {
    fn from(p: domain::bureau::lots::Progress) -> Self {
        RecallProgress {
            recalled_at: p.recalled_at,
            reason: p.reason,
            ordered_by: p.ordered_by,
            on_shelves: p.on_shelves,
            in_transit: p.in_transit,
            units_sold: p.units_sold,
            buyer_accounts: p.buyer_accounts as i64,
            buyers_read: p.buyers_read as i64,
            dealer_accounts: p.dealer_accounts as i64,
            dealers_read: p.dealers_read as i64,
            anonymous_sales: p.anonymous_sales as i64,
            anonymous_with_phone: p.anonymous_with_phone as i64,
        }
    }
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
    pub(crate) fn from_domain(r: trace::RecallReport, l: Lang) -> Self {
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

pub struct LedgerLine(pub domain::entities::ledger_line::Model);

#[Object]
impl LedgerLine {
    async fn id(&self) -> ID {
        gid("LedgerLine", self.0.id)
    }
    async fn kind(&self) -> LedgerKind {
        self.0.kind.into()
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
    async fn kind(&self) -> NotificationKindGql {
        self.0.kind.into()
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
    pub(crate) gtin: Option<String>,
    pub(crate) lot: Option<String>,
    pub(crate) produced_on: Option<NaiveDate>,
    pub(crate) expires_on: Option<NaiveDate>,
}
