//! The GraphQL API: one schema merged from per-domain query and mutation objects. Resolvers
//! are thin: read the context, check the role, call one domain service, map the result.

pub mod account;
pub mod agronomy;
pub mod catalog;
pub mod enums;
pub mod errors;
pub mod limits;
pub mod loaders;
pub mod market;
pub mod messages;
pub mod open_data;
pub mod orders;
pub mod region;
pub mod signals;
pub mod stock;

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::{Context, ID, MergedObject, Schema};
use base64::Engine;
use domain::accounts::{Actor, Role};
use domain::{Code, Error, Lang};
use sea_orm::DatabaseConnection;

use crate::adapters::{EventBus, RateLimiter};
use crate::auth::Keys;
use crate::config::Config;
pub use errors::{ApiResult, to_gql};

#[derive(MergedObject, Default)]
pub struct Query(
    account::AccountQuery,
    region::RegionQuery,
    catalog::CatalogQuery,
    stock::StockQuery,
    orders::OrderQuery,
    agronomy::AgronomyQuery,
    open_data::OpenDataQuery,
    signals::SignalsQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    region::RegionMutation,
    catalog::CatalogMutation,
    stock::StockMutation,
    orders::OrderMutation,
    agronomy::AgronomyMutation,
    signals::SignalsMutation,
);

pub type NongziSchema = Schema<Query, Mutation, orders::Subscription>;

/// Maximum nesting of a query, and its cost (each field 1, lists times their page size).
pub const MAX_DEPTH: usize = 15;
pub const MAX_COMPLEXITY: usize = 20_000;

/// What every resolver can reach, shared by all requests.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub keys: Arc<Keys>,
    pub limiter: Arc<RateLimiter>,
    pub bus: Arc<EventBus>,
    /// The payment provider (`NONGZI_PAYMENT_PROVIDER`); `None` refuses ONLINE payment.
    pub payments: Option<Arc<dyn domain::orders::payments::Provider>>,
}

/// What is known about one request.
#[derive(Clone, Debug)]
pub struct RequestCtx {
    pub actor: Option<Actor>,
    pub lang: Lang,
    pub client_ip: IpAddr,
}

pub fn build_schema(services: Services) -> NongziSchema {
    Schema::build(Query::default(), Mutation::default(), orders::Subscription)
        .data(services)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(limits::BoundQueries)
        .extension(messages::CallersLanguage)
        .extension(async_graphql::extensions::Analyzer)
        .finish()
}

/// The schema's SDL, as checked in at `api/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), orders::Subscription)
        .finish()
        .sdl()
}

pub fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

pub fn req<'a>(ctx: &Context<'a>) -> &'a RequestCtx {
    ctx.data_unchecked::<RequestCtx>()
}

pub fn lang(ctx: &Context<'_>) -> Lang {
    ctx.data_opt::<RequestCtx>()
        .map(|r| r.lang)
        .unwrap_or_default()
}

pub fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    &services(ctx).db
}

/// The caller, or UNAUTHENTICATED.
pub fn actor<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Actor> {
    req(ctx)
        .actor
        .as_ref()
        .ok_or_else(|| to_gql(Error::Unauthenticated, lang(ctx)))
}

/// The caller if their role is one of `roles`; UNAUTHENTICATED or FORBIDDEN otherwise.
pub fn actor_in<'a>(ctx: &Context<'a>, roles: &[Role]) -> async_graphql::Result<&'a Actor> {
    let a = actor(ctx)?;
    if roles.contains(&a.role) {
        Ok(a)
    } else {
        Err(to_gql(domain::accounts::forbidden(), lang(ctx)))
    }
}

/// Relay global IDs: base64url of `Type:id`.
pub fn gid(kind: &str, id: i64) -> ID {
    ID(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")))
}

/// What a reader calls a thing whose global ID is `kind`, in Chinese and in English.
pub fn kind_words(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "CartLine" => ("购物车商品", "cart line"),
        "Complaint" => ("投诉", "complaint"),
        "CropPlan" => ("种植计划", "crop plan"),
        "Dealer" => ("经销商", "dealer"),
        "Field" => ("地块", "field"),
        "LedgerLine" => ("台账记录", "ledger line"),
        "Location" => ("库存地点", "stock location"),
        "Lot" => ("批次", "lot"),
        "Notification" => ("通知", "notification"),
        "Offer" => ("报价", "offer"),
        "Order" => ("订单", "order"),
        "OrderLine" => ("订单商品", "order line"),
        "Producer" => ("生产企业", "producer"),
        "Product" => ("产品", "product"),
        "Receipt" => ("入库单", "receipt"),
        "Recommendation" => ("施肥建议", "recommendation"),
        "Region" => ("行政区", "region"),
        "RegionalFormula" => ("区域配方", "regional formula"),
        "Sale" => ("销售记录", "sale"),
        "Sku" => ("规格", "pack"),
        "SoilTest" => ("土壤检测", "soil test"),
        "Station" => ("服务站", "station"),
        "Stock" => ("库存", "stock row"),
        "TraceEvent" => ("追溯记录", "trace event"),
        "Transfer" => ("调拨单", "transfer"),
        "User" => ("用户", "user"),
        _ => ("对象", "object"),
    }
}

/// Decodes a global ID of the expected type; the error names the input field.
pub fn parse_gid(field: &str, kind: &str, id: &ID) -> domain::Result<i64> {
    let bad = || {
        let (zh, en) = kind_words(kind);
        Error::invalid(
            field,
            Code::UnknownReference,
            format!("不是有效的{zh}编号"),
            format!("not a valid {en} id"),
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.as_str().trim_end_matches('='))
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (k, n) = s.split_once(':').ok_or_else(bad)?;
    if k != kind {
        return Err(bad());
    }
    n.parse().map_err(|_| bad())
}

/// Optional global ID.
pub fn parse_gid_opt(field: &str, kind: &str, id: Option<&ID>) -> domain::Result<Option<i64>> {
    id.map(|i| parse_gid(field, kind, i)).transpose()
}

pub fn pick(ctx: &Context<'_>, zh: &str, en: &str) -> String {
    lang(ctx).pick(zh, en).to_owned()
}
