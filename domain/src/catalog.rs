//! The catalog: producers, products whose attributes depend on their category (fertiliser, seed,
//! pesticide), pack sizes (SKUs) and dealers' priced offers. Validated per RULES.md.
//!
//! Parts: `crops` (the crop codes); `product_input` (a product as entered, per category, and its
//! validation); `producers`; `products` (creating, updating and listing or delisting a product with
//! its category's spec); `packs` (SKUs, and finding a pack by GTIN or by name); `offers` (a
//! dealer's price for a pack, within their licences); `search` (the catalog search: filter, sort,
//! page); `lookups` (batched look-ups for the API's loaders); `dealer_offers` (a dealer's own
//! offers and the packs they do not offer yet). This file holds the pack label, the category, the
//! allowed values of enumerated attributes, and who may edit the catalog.

pub mod crops;
mod dealer_offers;
mod lookups;
mod offers;
mod packs;
mod producers;
mod product_input;
mod products;
mod search;

pub use dealer_offers::*;
pub use lookups::*;
pub use offers::*;
pub use packs::*;
pub use producers::*;
pub use product_input::*;
pub use products::*;
pub use search::*;

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::accounts::{Actor, Role};
use crate::entities::{
    dealer_service_area, fertiliser_spec, offer, pesticide_spec, pesticide_use, producer, product,
    seed_spec, sku,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::regions::{self, LicenceKind};
use crate::types::{self, Analysis, Fen, FertiliserRegNo, Gtin, PesticideRegNo, SeedApprovalNo};

/// `40 kg`, `500 ml`.
pub fn pack_label(s: &sku::Model) -> String {
    if s.pack_size.fract() == 0.0 {
        format!("{:.0} {}", s.pack_size, s.pack_unit)
    } else {
        format!("{} {}", s.pack_size, s.pack_unit)
    }
}

pub use crate::types::{Category, ProductStatus};

pub const FERTILISER_TYPES: &[&str] = &[
    "STRAIGHT_N",
    "STRAIGHT_P",
    "STRAIGHT_K",
    "COMPOUND",
    "ORGANIC",
    "MICROBIAL",
    "WATER_SOLUBLE",
    // 石灰质土壤调理剂 (quicklime, slaked lime, ground limestone) for acid soils: no N, P2O5
    // or K2O; its calcium is declared as `secondary.Ca`.
    "LIME",
];

pub const FORMS: &[&str] = &["GRANULAR", "POWDER", "LIQUID", "CRYSTAL", "PRILLED"];

pub const CHLORIDE: &[&str] = &["NONE", "LOW", "CHLORIDE", "SULPHATE_BASED"];

pub const TOXICITY: &[&str] = &["LOW", "MODERATE", "HIGH", "SEVERE"];

pub const DOSE_UNITS: &[&str] = &["g/mu", "ml/mu"];

pub const PACK_UNITS: &[&str] = &["kg", "g", "L", "ml"];

const SECONDARY: &[&str] = &["Ca", "Mg", "S", "Zn", "B", "Mn", "Fe", "Cu", "Mo", "Si"];

fn may_edit_catalog(actor: &Actor) -> bool {
    actor.is_admin() || actor.role == Role::Dealer
}
