//! Lots, stock, the trace log, recalls, ledgers, counter sales and notifications.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::accounts::{Actor, Role};
use domain::entities::{
    location, lot, notification, sale, sale_line, stock_receipt, trace_event, transfer, unit_code,
};
use domain::lots::trace;
use domain::stock::ledger;
use domain::stock::{self, AdjustReason, CsvPolicy};
use domain::types::{Fen, IdNumber};
use domain::{Error, Lang};

use super::enums::*;
use super::errors::{StockError, payload};
use super::loaders::{
    DealerKey, LocationKey, LotKey, ProducerKey, ProductKey, SkuKey, one, prefetch,
};
use super::market::Dealer;
use super::market::{Producer, Product, Sku};
use super::{
    ApiResult, actor, db, gid, lang, parse_gid, parse_gid_opt, pick, req, services, to_gql,
};

/// Publishes what a committed change means, on every node.
pub async fn publish(ctx: &Context<'_>, events: Vec<domain::events::DomainEvent>) {
    services(ctx).bus.publish_all(events).await;
}

/// Publishes the events of a successful change and passes its value on (for a payload).
pub async fn publish_ok<T>(
    ctx: &Context<'_>,
    r: domain::Result<(T, Vec<domain::events::DomainEvent>)>,
) -> domain::Result<T> {
    match r {
        Ok((v, events)) => {
            publish(ctx, events).await;
            Ok(v)
        }
        Err(e) => Err(e),
    }
}

fn dealer_gid(field: &str, id: &ID) -> domain::Result<i64> {
    parse_gid(field, "Dealer", id)
}

mod inputs;
mod mutation;
mod query;
mod reports;
mod types;

pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use reports::*;
pub use types::*;
