//! The farmer's cart and checkout, orders and their lifecycle, dealer credit, fields, and the
//! live updates (subscriptions) for orders and stock alerts.

use std::collections::BTreeMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use domain::entities::{credit_account, customer_order, field, order_event, order_line, payment};
use domain::error::StateName;
use domain::orders::{self, OrderOptions, Status};
use domain::{Code, Error, FieldError, Lang, fields};
use futures_util::Stream;

#[allow(unused_imports)]
use super::enums::*;
use super::errors::{ApiResult, PayloadError, payload, to_gql};
use super::loaders::{
    AllocationsOfLine, DealerKey, EventsOfOrder, FieldKey, LinesOfOrder, LotKey, PaymentsOfOrder,
    RegionKey, StationKey, many, one, prefetch,
};
use super::market::{Dealer, Region, Station};
use super::market::{Offer, Product, Sku};
use super::stock::{Lot, publish_ok};
use super::{actor, db, gid, lang, parse_gid, parse_gid_opt, pick, services};
use domain::events::DomainEvent;

mod inputs;
mod mutation;
mod query;
mod subscription;
mod types;

pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use subscription::*;
pub use types::*;
