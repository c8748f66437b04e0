//! The stock input objects: lots, receipts (and CSV receipt imports), adjustments, transfers, destruction and counter sales.

use super::*;

#[derive(InputObject)]
pub struct InspectionInput {
    report_no: String,
    lab: String,
    result: InspectionResultGql,
    date: NaiveDate,
}

impl From<InspectionInput> for domain::lots::InspectionInput {
    fn from(i: InspectionInput) -> Self {
        domain::lots::InspectionInput {
            report_no: i.report_no,
            lab: i.lab,
            result: i.result.into(),
            date: i.date,
        }
    }
}

#[derive(InputObject)]
pub struct LotInput {
    pub(crate) sku_id: ID,
    pub(crate) lot_no: String,
    /// Defaults to the product's producer.
    pub(crate) producer_id: Option<ID>,
    pub(crate) produced_on: NaiveDate,
    pub(crate) expires_on: NaiveDate,
    pub(crate) gtin: Option<String>,
    pub(crate) inspection: Option<InspectionInput>,
    #[graphql(default)]
    pub(crate) unit_codes: Vec<String>,
}

#[derive(InputObject)]
pub struct SupplierInput {
    pub(crate) name: String,
    pub(crate) licence_no: String,
    pub(crate) contact: String,
}

#[derive(InputObject)]
pub struct ReceiveInput {
    pub(crate) dealer_id: ID,
    /// The dealer's store when absent.
    pub(crate) location_id: Option<ID>,
    pub(crate) lot_id: ID,
    pub(crate) quantity: i64,
    pub(crate) unit_cost_fen: i64,
    pub(crate) supplier: SupplierInput,
    pub(crate) source_document: String,
    pub(crate) received_at: Option<DateTime<Utc>>,
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
    pub(crate) dealer_id: ID,
    pub(crate) location_id: ID,
    pub(crate) lot_id: ID,
    /// Positive adds, negative removes.
    pub(crate) delta: i64,
    pub(crate) reason: AdjustmentReason,
    pub(crate) note: String,
}

#[derive(InputObject)]
pub struct TransferInput {
    pub(crate) dealer_id: ID,
    pub(crate) lot_id: ID,
    pub(crate) from_location_id: ID,
    pub(crate) to_location_id: ID,
    pub(crate) quantity: i64,
}

#[derive(InputObject)]
pub struct DestroyInput {
    pub(crate) dealer_id: ID,
    pub(crate) location_id: ID,
    pub(crate) lot_id: ID,
    pub(crate) quantity: i64,
    pub(crate) reason: String,
}

#[derive(InputObject)]
pub struct BuyerInput {
    /// A registered farmer (their real-name data is used).
    pub(crate) user_id: Option<ID>,
    pub(crate) name: Option<String>,
    pub(crate) phone: Option<String>,
    /// Required, with name and phone, for restricted-use pesticides.
    pub(crate) id_number: Option<String>,
    pub(crate) village_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SaleLineInput {
    pub(crate) sku_id: ID,
    pub(crate) quantity: i64,
    /// Defaults to the dealer's offer.
    pub(crate) unit_price_fen: Option<i64>,
}

#[derive(InputObject)]
pub struct CounterSaleInput {
    pub(crate) dealer_id: ID,
    pub(crate) location_id: Option<ID>,
    pub(crate) lines: Vec<SaleLineInput>,
    pub(crate) buyer: Option<BuyerInput>,
    /// Crop (code or name) and pest/disease: required for restricted-use pesticides.
    pub(crate) crop: Option<String>,
    pub(crate) target: Option<String>,
    #[graphql(default)]
    pub(crate) unit_codes: Vec<String>,
}
