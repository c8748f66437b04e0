//! sea-orm entities, one file per table (kept in step with `migration`). Status and kind
//! columns are the enums of `types::stored`, so a stored string outside them is a typed error
//! when the row is read.

pub mod agronomist_county;
pub mod app_setting;
pub mod app_user;
pub mod cart_line;
pub mod checkout;
pub mod credit_account;
pub mod credit_repayment;
pub mod crop_plan;
pub mod customer_order;
pub mod dealer;
pub mod dealer_service_area;
pub mod fertiliser_spec;
pub mod field;
pub mod ledger_line;
pub mod licence;
pub mod location;
pub mod lot;
pub mod notification;
pub mod offer;
pub mod order_allocation;
pub mod order_event;
pub mod order_line;
pub mod payment;
pub mod pesticide_spec;
pub mod pesticide_use;
pub mod producer;
pub mod product;
pub mod recommendation;
pub mod refresh_token;
pub mod region;
pub mod regional_formula;
pub mod sale;
pub mod sale_line;
pub mod seed_spec;
pub mod service_station;
pub mod sku;
pub mod soil_test;
pub mod stock;
pub mod stock_receipt;
pub mod trace_event;
pub mod transfer;
pub mod unit_code;
pub mod web_form;
pub mod web_session;
