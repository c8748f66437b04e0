//! The catalog's own output objects: the product connection and the crop list. Products, packs, offers and producers are in `graphql::market`, beside the dealers that reference them.

use super::*;

#[derive(SimpleObject)]
pub struct Crop {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) name_zh: String,
    pub(crate) name_en: String,
}

#[derive(SimpleObject)]
pub struct ProductConnectionFields {
    /// Products matching the filter, across all pages.
    pub(crate) total_count: u64,
}

pub type ProductConnection = Connection<String, Product, ProductConnectionFields>;
