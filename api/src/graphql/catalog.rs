//! The catalog: product search (a Relay connection), products with their category spec, pack
//! sizes, dealers' offers, producers; and the mutations that maintain them. The output objects
//! (products, packs, offers, producers) live in `graphql::market`, below both this context and
//! `region`, because an offer names its dealer and a dealer lists its offers.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use base64::Engine;
use domain::catalog::{self, Category, ProductFilter, SortBy, crops};
use domain::entities::product;
use domain::{Code, Error};

#[allow(unused_imports)]
use super::enums::*;
use super::errors::{CatalogError, payload};
use super::loaders::{
    DealerKey, FertiliserSpecKey, OffersOfSku, PesticideSpecKey, ProducerKey, SeedSpecKey,
    SkusOfProduct, UsesOfProduct, prefetch,
};
use super::market::*;
use super::{ApiResult, actor, db, lang, parse_gid, parse_gid_opt, pick, to_gql};

mod inputs;
mod mutation;
mod query;
mod types;

pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use types::*;
