//! The order input objects: checkout options per dealer, placing an order, fields.

use super::*;

#[derive(InputObject, Clone)]
pub struct OrderOptionsInput {
    delivery_mode: DeliveryModeGql,
    /// For VILLAGE_STATION.
    station_id: Option<ID>,
    /// For HOME.
    address: Option<String>,
    payment_method: PaymentMethodGql,
    /// For pesticides: the crop (code or name) and the pest or disease.
    crop: Option<String>,
    target: Option<String>,
    /// The field it is for: quantities are checked against label dose x area.
    field_id: Option<ID>,
    #[graphql(default)]
    note: String,
}

impl OrderOptionsInput {
    pub(crate) fn into_domain(self, prefix: &str) -> domain::Result<OrderOptions> {
        let o = OrderOptions {
            delivery_mode: self.delivery_mode.into(),
            station_id: parse_gid_opt(
                &format!("{prefix}stationId"),
                "Station",
                self.station_id.as_ref(),
            )?,
            address: self.address,
            payment_method: self.payment_method.into(),
            crop: self.crop.filter(|c| !c.trim().is_empty()),
            target: self.target.filter(|t| !t.trim().is_empty()),
            field_id: parse_gid_opt(&format!("{prefix}fieldId"), "Field", self.field_id.as_ref())?,
            note: self.note,
        };
        orders::validate_options(&o)?;
        Ok(o)
    }
}

#[derive(InputObject)]
pub struct DealerOrderOptions {
    pub(crate) dealer_id: ID,
    pub(crate) options: OrderOptionsInput,
}

#[derive(InputObject)]
pub struct OrderPlaceInput {
    /// How every dealer's order is delivered and paid, unless `perDealer` says otherwise.
    pub(crate) default: OrderOptionsInput,
    #[graphql(default)]
    pub(crate) per_dealer: Vec<DealerOrderOptions>,
}

#[derive(InputObject)]
pub struct FieldInput {
    pub(crate) name: String,
    /// Area in mu; or give `areaHa`.
    pub(crate) area_mu: Option<f64>,
    pub(crate) area_ha: Option<f64>,
    pub(crate) village_id: ID,
    #[graphql(default)]
    pub(crate) soil_type: String,
    #[graphql(default)]
    pub(crate) irrigation: String,
    pub(crate) lat: Option<f64>,
    pub(crate) lon: Option<f64>,
}
