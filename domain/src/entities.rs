//! sea-orm entities, one module per table (kept in step with `migration`).
//! Generated once from a table list; edit by hand from here on.

pub mod region {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "region")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: Option<String>,
        pub level: String,
        pub parent_id: Option<i64>,
        pub name_zh: String,
        pub name_en: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod service_station {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "service_station")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub village_id: i64,
        pub name_zh: String,
        pub name_en: String,
        pub operator_name: String,
        pub phone: String,
        pub hours: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod producer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "producer")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name_zh: String,
        pub name_en: String,
        pub address: String,
        pub licence_no: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dealer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "dealer")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name_zh: String,
        pub name_en: String,
        pub address: String,
        pub region_id: i64,
        pub phone: String,
        pub status: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod licence {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "licence")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub kind: String,
        pub number: String,
        pub issuer: String,
        pub valid_from: Date,
        pub valid_to: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod location {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "location")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: crate::types::LocationKind,
        pub dealer_id: Option<i64>,
        pub station_id: Option<i64>,
        pub name_zh: String,
        pub name_en: String,
        pub producer_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod app_user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "app_user")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub phone: String,
        pub password_hash: String,
        pub role: String,
        pub display_name: String,
        pub dealer_id: Option<i64>,
        pub dealer_role: Option<String>,
        pub county_id: Option<i64>,
        pub village_id: Option<i64>,
        pub real_name: Option<String>,
        pub id_number: Option<String>,
        pub verified_at: Option<DateTimeUtc>,
        pub disabled: bool,
        pub created_at: DateTimeUtc,
        /// A station keeper's village station.
        pub station_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "refresh_token")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub family_id: String,
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod product {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "product")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub category: String,
        pub producer_id: i64,
        pub name_zh: String,
        pub name_en: String,
        pub description_zh: String,
        pub description_en: String,
        pub registration_no: Option<String>,
        pub registration_exempt: bool,
        pub restricted_use: bool,
        pub status: String,
        pub created_by_dealer_id: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pesticide_use {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "pesticide_use")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub product_id: i64,
        pub crop: String,
        pub target_zh: String,
        pub target_en: String,
        pub dose_min: f64,
        pub dose_max: f64,
        pub dose_unit: String,
        pub phi_days: i32,
        pub max_applications: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sku {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "sku")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub product_id: i64,
        pub pack_size: f64,
        pub pack_unit: String,
        pub gtin: Option<String>,
        pub active: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod offer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "offer")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub sku_id: i64,
        pub price_fen: i64,
        pub active: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dealer_service_area {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "dealer_service_area")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub dealer_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub village_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agronomist_county {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "agronomist_county")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod fertiliser_spec {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "fertiliser_spec")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: i64,
        pub fertiliser_type: String,
        pub n_pct: f64,
        pub p2o5_pct: f64,
        pub k2o_pct: f64,
        pub secondary: Json,
        pub organic_matter_pct: f64,
        pub form: String,
        pub chloride: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod seed_spec {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "seed_spec")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: i64,
        pub crop: String,
        pub variety_zh: String,
        pub variety_en: String,
        pub approval_no: String,
        pub germination_pct: f64,
        pub purity_pct: f64,
        pub moisture_pct: f64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pesticide_spec {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "pesticide_spec")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: i64,
        pub formulation: String,
        pub formulation_zh: String,
        pub toxicity: String,
        pub actives: Json,
        pub actives_text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod app_setting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "app_setting")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lot {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "lot")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub sku_id: i64,
        pub lot_no: String,
        pub producer_id: i64,
        pub produced_on: Date,
        pub expires_on: Date,
        pub gtin: Option<String>,
        pub trace_code: String,
        pub inspection_report_no: Option<String>,
        pub inspection_lab: Option<String>,
        pub inspection_result: Option<String>,
        pub inspection_date: Option<Date>,
        pub status: crate::types::LotStatus,
        pub status_reason: Option<String>,
        pub status_at: Option<DateTimeUtc>,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unit_code {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "unit_code")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub lot_id: i64,
        pub kind: crate::types::UnitCodeKind,
        pub status: crate::types::UnitCodeStatus,
        pub sale_id: Option<i64>,
        pub flagged_at: Option<DateTimeUtc>,
        pub flag_reason: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stock {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "stock")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub location_id: i64,
        pub lot_id: i64,
        pub dealer_id: i64,
        pub on_hand: i64,
        pub reserved: i64,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod stock_receipt {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "stock_receipt")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub location_id: i64,
        pub lot_id: i64,
        pub quantity: i64,
        pub unit_cost_fen: i64,
        pub supplier_name: String,
        pub supplier_licence_no: String,
        pub supplier_contact: String,
        pub source_document: String,
        pub actor_id: i64,
        pub received_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod transfer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "transfer")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub lot_id: i64,
        pub from_location_id: i64,
        pub to_location_id: i64,
        pub quantity: i64,
        pub status: crate::types::TransferStatus,
        pub shipped_by: i64,
        pub shipped_at: DateTimeUtc,
        pub received_by: Option<i64>,
        pub received_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sale {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "sale")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub location_id: i64,
        pub channel: String,
        pub order_id: Option<i64>,
        pub buyer_user_id: Option<i64>,
        pub buyer_name: Option<String>,
        pub buyer_phone: Option<String>,
        pub buyer_id_number: Option<String>,
        pub buyer_village_id: Option<i64>,
        pub crop: Option<String>,
        pub target: Option<String>,
        pub total_fen: i64,
        pub actor_id: i64,
        pub sold_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sale_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "sale_line")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub sale_id: i64,
        pub sku_id: i64,
        pub lot_id: i64,
        pub quantity: i64,
        pub unit_price_fen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod trace_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "trace_event")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub lot_id: i64,
        pub seq: i64,
        pub biz_step: crate::types::BizStep,
        pub disposition: crate::types::Disposition,
        pub quantity: i64,
        pub location_id: Option<i64>,
        pub from_location_id: Option<i64>,
        pub to_location_id: Option<i64>,
        pub dealer_id: Option<i64>,
        pub actor_id: Option<i64>,
        pub occurred_at: DateTimeUtc,
        pub recorded_at: DateTimeUtc,
        pub ref_kind: Option<String>,
        pub ref_id: Option<i64>,
        pub corrects_event_id: Option<i64>,
        pub unit_codes: Option<Json>,
        pub note: String,
        pub prev_hash: String,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "ledger_line")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub kind: String,
        pub trace_event_id: Option<i64>,
        pub occurred_on: Date,
        pub occurred_at: DateTimeUtc,
        pub product_id: i64,
        pub product_name_zh: String,
        pub product_name_en: String,
        pub spec: String,
        pub registration_no: String,
        pub producer_name: String,
        pub lot_no: String,
        pub quantity: i64,
        pub unit_price_fen: i64,
        pub amount_fen: i64,
        pub counterparty_name: String,
        pub counterparty_licence: String,
        pub counterparty_contact: String,
        pub counterparty_id_number: String,
        pub source_document: String,
        pub corrects_line_id: Option<i64>,
        pub note: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notification {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "notification")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub kind: String,
        pub title_zh: String,
        pub title_en: String,
        pub body_zh: String,
        pub body_en: String,
        pub payload: Json,
        pub created_at: DateTimeUtc,
        pub read_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod field {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "field")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub farmer_id: i64,
        pub name: String,
        pub area_mu: f64,
        pub village_id: i64,
        pub soil_type: String,
        pub irrigation: String,
        pub lat: Option<f64>,
        pub lon: Option<f64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cart_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "cart_line")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub farmer_id: i64,
        pub offer_id: i64,
        pub quantity: i64,
        pub price_fen_when_added: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod checkout {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "checkout")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub farmer_id: i64,
        pub idempotency_key: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod customer_order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "customer_order")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub checkout_id: i64,
        pub farmer_id: i64,
        pub dealer_id: i64,
        pub status: String,
        pub delivery_mode: String,
        pub station_id: Option<i64>,
        pub delivery_address: Option<String>,
        pub payment_method: String,
        pub payment_status: String,
        pub total_fen: i64,
        pub field_id: Option<i64>,
        pub crop: Option<String>,
        pub target: Option<String>,
        pub note: String,
        pub warnings: String,
        pub flagged: bool,
        pub flag_reason: Option<String>,
        pub cancel_reason: Option<String>,
        pub sale_id: Option<i64>,
        pub placed_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// Who placed it, when not the farmer (a station keeper ordering for them).
        pub placed_by: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "order_line")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub order_id: i64,
        pub offer_id: i64,
        pub sku_id: i64,
        pub quantity: i64,
        pub unit_price_fen: i64,
        pub product_name_zh: String,
        pub product_name_en: String,
        pub pack: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_allocation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "order_allocation")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub order_line_id: i64,
        pub stock_id: i64,
        pub location_id: i64,
        pub lot_id: i64,
        pub quantity: i64,
        pub status: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "order_event")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub order_id: i64,
        pub from_status: Option<String>,
        pub to_status: String,
        pub actor_id: Option<i64>,
        pub reason: String,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credit_account {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "credit_account")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub farmer_id: i64,
        pub limit_fen: i64,
        pub balance_fen: i64,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credit_repayment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "credit_repayment")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub farmer_id: i64,
        pub amount_fen: i64,
        pub balance_after_fen: i64,
        pub recorded_by: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "payment")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub order_id: i64,
        pub provider: String,
        pub status: String,
        pub amount_fen: i64,
        pub provider_ref: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod crop_plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "crop_plan")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub field_id: i64,
        pub crop: String,
        pub season: String,
        pub target_yield_kg_per_mu: Option<f64>,
        pub past_yields_kg_per_mu: Option<Json>,
        pub no_fertiliser_yield_kg_per_mu: Option<f64>,
        pub previous_crop: String,
        pub straw_returned: bool,
        pub created_by: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod soil_test {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "soil_test")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub field_id: i64,
        pub sampled_on: Date,
        pub depth_from_cm: i32,
        pub depth_to_cm: i32,
        pub lab: String,
        pub lab_sample_id: String,
        pub ph: f64,
        pub buffer_ph: Option<f64>,
        pub organic_matter_g_kg: f64,
        pub alkali_n_mg_kg: f64,
        pub olsen_p_mg_kg: Option<f64>,
        pub mehlich3_p_mg_kg: Option<f64>,
        pub available_k_mg_kg: f64,
        pub cec_cmol_kg: Option<f64>,
        pub ca_mg_kg: Option<f64>,
        pub mg_mg_kg: Option<f64>,
        pub s_mg_kg: Option<f64>,
        pub zn_mg_kg: Option<f64>,
        pub b_mg_kg: Option<f64>,
        pub entered_by: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod recommendation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "recommendation")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub field_id: i64,
        pub crop_plan_id: i64,
        pub soil_test_id: i64,
        pub version: i32,
        pub status: String,
        pub method: String,
        pub parameters: Json,
        pub result: Json,
        pub basket: Json,
        pub n_kg_per_mu: f64,
        pub p2o5_kg_per_mu: f64,
        pub k2o_kg_per_mu: f64,
        pub notes_zh: String,
        pub notes_en: String,
        pub reject_reason: Option<String>,
        pub agronomist_id: Option<i64>,
        pub signed_at: Option<DateTimeUtc>,
        pub signature: Option<String>,
        pub supersedes_id: Option<i64>,
        pub created_by: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod regional_formula {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "regional_formula")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub county_id: i64,
        pub crop: String,
        pub name: String,
        pub n_pct: f64,
        pub p2o5_pct: f64,
        pub k2o_pct: f64,
        pub fields_covered: i32,
        pub mean_distance: f64,
        pub details: Json,
        /// The fields growing the crop this computation left out, and why
        /// (`[agronomy::SkippedField]`); NULL on formulas computed before it was recorded.
        pub skipped: Option<Json>,
        pub status: String,
        pub created_by: i64,
        pub published_by: Option<i64>,
        pub published_at: Option<DateTimeUtc>,
        pub product_id: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod web_session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "web_session")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub token_hash: String,
        pub user_id: i64,
        pub csrf_secret: String,
        /// A station keeper's session acting for this farmer.
        pub acting_for: Option<i64>,
        pub user_agent: String,
        pub created_at: DateTimeUtc,
        pub last_seen_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod web_form {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "web_form")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub session_id: i64,
        pub form_key: String,
        pub result_url: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
