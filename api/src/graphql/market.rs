//! The output objects the catalog and region contexts share. Their resolvers navigate both ways
//! (a region lists its dealers, a dealer lists its offers, an offer names its dealer and pack,
//! a pack lists its offers), so they sit below both contexts, which keeps the module graph
//! acyclic: `catalog` and `region` hold the inputs, queries and mutations, and use these.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::catalog::{self, crops};
use domain::entities::{
    dealer, fertiliser_spec, licence, offer, pesticide_spec, pesticide_use, producer, product,
    region, seed_spec, service_station, sku,
};
use domain::regions::{self, LicenceKind};
use domain::types::{Analysis, CompoundGrade, Fen};

#[allow(unused_imports)]
use super::enums::*;
use super::loaders::{
    AreaOfDealer, DealerKey, FertiliserSpecKey, LicencesOfDealer, OffersOfDealer, OffersOfSku,
    PesticideSpecKey, ProducerKey, ProductKey, RegionKey, SeedSpecKey, SkuKey, SkusOfProduct,
    UsesOfProduct, many, one,
};
use super::{ApiResult, db, gid, lang, parse_gid, pick, to_gql};

mod dealers;
mod products;

pub use dealers::*;
pub use products::*;
