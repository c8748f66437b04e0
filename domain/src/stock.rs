//! Stock: per location and lot (on hand, reserved; available = on hand - reserved, never
//! negative), and every way it changes: receipt from a named supplier (`receipts`), CSV bulk
//! receipt (`csv_receipts`, `lot_receipts`), adjustment, transfer, return and destruction
//! (`movements`), allocation and counter sale (`sales`). Each change writes its trace event, and
//! receipts and sales their ledger lines (`ledger`), in the same transaction. What a dealer
//! sees: `views`, `till`, `shelves`. This file holds the stock rows all of them move.

mod csv_receipts;
pub mod ledger;
mod lot_receipts;
mod movements;
mod receipts;
mod sales;
mod shelves;
mod till;
mod views;

pub use csv_receipts::*;
pub use lot_receipts::*;
pub use movements::*;
pub use receipts::*;
pub use sales::*;
pub use shelves::*;
pub use till::*;
pub use views::*;

pub use crate::types::TransferStatus;

pub use crate::csv_import::{CsvLine, CsvLines, CsvPolicy, RowError, csv_line, parse_yuan};

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};

use self::ledger::{Counterparty, ProductSnapshot};
use crate::accounts::Actor;
use crate::accounts::{is_regulator_or_admin, may_operate};
use crate::catalog::{crops, pack_label};
use crate::csv_import::parse_date;
use crate::entities::{
    app_user, fertiliser_spec, location, lot, offer, pesticide_spec, pesticide_use, producer,
    product, region, sale, sale_line, service_station, sku, stock, stock_receipt, trace_event,
    transfer, unit_code,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::events::DomainEvent;
use crate::lots::trace::{self, BizStep, Disposition, NewEvent};
use crate::lots::{
    InspectionInput, LotInput, insert_lot, lot, lot_commissioning, lots_by_ids, new_lot,
    validate_inspection,
};
use crate::regions::may_view_dealer;
use crate::regions::{self, LicenceKind, check_dealer_location, producer_location, store_location};
use crate::types::{
    self, Fen, Gtin, IdNumber, LocationKind, LotState, LotStatus, Phone, UnitCodeStatus,
};

/// The largest quantity one operation may move (a sanity bound against typos, in sales units).
const MAX_QTY: i64 = 1_000_000;

fn qty(field: &str, q: i64) -> std::result::Result<i64, FieldError> {
    if (1..=MAX_QTY).contains(&q) {
        Ok(q)
    } else {
        Err(FieldError::new(
            field,
            Code::OutOfRange,
            "数量应为 1 到 1000000 之间的整数",
            "quantity must be a whole number from 1 to 1,000,000",
        ))
    }
}

/// Adds to a stock row, creating it on first receipt.
async fn add_stock(
    db: &impl ConnectionTrait,
    location_id: i64,
    lot_id: i64,
    dealer_id: i64,
    n: i64,
) -> Result<()> {
    let filter = || {
        Condition::all()
            .add(stock::Column::LocationId.eq(location_id))
            .add(stock::Column::LotId.eq(lot_id))
            .add(stock::Column::DealerId.eq(dealer_id))
    };
    let add = || {
        stock::Entity::update_many()
            .col_expr(
                stock::Column::OnHand,
                Expr::col(stock::Column::OnHand).add(n),
            )
            .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(filter())
    };
    if add().exec(db).await?.rows_affected > 0 {
        return Ok(());
    }
    let inserted = stock::ActiveModel {
        location_id: Set(location_id),
        lot_id: Set(lot_id),
        dealer_id: Set(dealer_id),
        on_hand: Set(n),
        reserved: Set(0),
        updated_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        // Another transaction created the row first: add to it.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            add().exec(db).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Takes `n` from a stock row's available quantity, or nothing. The condition lives in the
/// UPDATE itself, so concurrent takers can never drive it negative (and the CHECK constraint
/// backs it up).
async fn take_stock(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<bool> {
    Ok(stock::Entity::update_many()
        .col_expr(
            stock::Column::OnHand,
            Expr::col(stock::Column::OnHand).sub(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(
            Expr::col(stock::Column::OnHand)
                .sub(Expr::col(stock::Column::Reserved))
                .gte(n),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Reserves `n` of a stock row's available quantity, or nothing.
pub async fn reserve_stock(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<bool> {
    Ok(stock::Entity::update_many()
        .col_expr(
            stock::Column::Reserved,
            Expr::col(stock::Column::Reserved).add(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(
            Expr::col(stock::Column::OnHand)
                .sub(Expr::col(stock::Column::Reserved))
                .gte(n),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Releases a reservation.
pub async fn release_reservation(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<()> {
    let r = stock::Entity::update_many()
        .col_expr(
            stock::Column::Reserved,
            Expr::col(stock::Column::Reserved).sub(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(stock::Column::Reserved.gte(n))
        .exec(db)
        .await?;
    if r.rows_affected != 1 {
        return Err(Error::Internal(format!(
            "reservation of {n} not found on stock {stock_id}"
        )));
    }
    Ok(())
}

/// Turns a reservation into a sale: on hand and reserved both drop.
pub async fn consume_reservation(db: &impl ConnectionTrait, stock_id: i64, n: i64) -> Result<()> {
    let r = stock::Entity::update_many()
        .col_expr(
            stock::Column::Reserved,
            Expr::col(stock::Column::Reserved).sub(n),
        )
        .col_expr(
            stock::Column::OnHand,
            Expr::col(stock::Column::OnHand).sub(n),
        )
        .col_expr(stock::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(stock::Column::Id.eq(stock_id))
        .filter(stock::Column::Reserved.gte(n))
        .exec(db)
        .await?;
    if r.rows_affected != 1 {
        return Err(Error::Internal(format!(
            "reservation of {n} not found on stock {stock_id}"
        )));
    }
    Ok(())
}

async fn stock_row(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_id: i64,
    lot_id: i64,
) -> Result<Option<stock::Model>> {
    Ok(stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::LocationId.eq(location_id))
        .filter(stock::Column::LotId.eq(lot_id))
        .one(db)
        .await?)
}

/// Takes `n` of a lot at a location, or fails with what is available.
async fn take_exact(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_id: i64,
    lot_id: i64,
    n: i64,
    field: &str,
) -> Result<()> {
    let row = stock_row(db, dealer_id, location_id, lot_id).await?;
    let available = row.as_ref().map(|r| r.on_hand - r.reserved).unwrap_or(0);
    match row {
        Some(r) if take_stock(db, r.id, n).await? => Ok(()),
        _ => Err(insufficient(field, available, n)),
    }
}

fn insufficient(field: &str, available: i64, wanted: i64) -> Error {
    Error::invalid(
        field,
        Code::InsufficientStock,
        format!("库存不足：可用 {available}，需要 {wanted}"),
        format!("not enough stock: {available} available, {wanted} wanted"),
    )
}

/// What a stock line is about: its lot, SKU and product.
struct LotContext {
    lot: lot::Model,
    sku: sku::Model,
    product: product::Model,
    producer: producer::Model,
}

async fn lot_context(db: &impl ConnectionTrait, lot_id: i64) -> Result<LotContext> {
    let l = lot(db, lot_id).await?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let prod = producer::Entity::find_by_id(l.producer_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("producer", l.producer_id))?;
    Ok(LotContext {
        lot: l,
        sku: s,
        product: p,
        producer: prod,
    })
}

/// `50 kg · 15-15-15` or `100 ml · 40% EC`: the spec a ledger line records.
async fn spec_text(
    db: &impl ConnectionTrait,
    s: &sku::Model,
    p: &product::Model,
) -> Result<String> {
    let f = fertiliser_spec::Entity::find_by_id(p.id).one(db).await?;
    let x = match f {
        Some(_) => None,
        None => pesticide_spec::Entity::find_by_id(p.id).one(db).await?,
    };
    Ok(spec_of(s, f.as_ref(), x.as_ref()))
}

/// [`spec_text`] given the product's fertiliser or pesticide spec.
fn spec_of(
    s: &sku::Model,
    f: Option<&fertiliser_spec::Model>,
    x: Option<&pesticide_spec::Model>,
) -> String {
    let mut spec = pack_label(s);
    if let Some(f) = f {
        spec.push_str(&format!(
            " · {}",
            types::Analysis {
                n: f.n_pct,
                p2o5: f.p2o5_pct,
                k2o: f.k2o_pct
            }
        ));
    } else if let Some(x) = x {
        let actives: Vec<crate::catalog::Active> =
            serde_json::from_value(x.actives.clone()).unwrap_or_default();
        let a = actives
            .iter()
            .map(|a| format!("{}{}{}", a.name_zh, a.content, a.content_unit))
            .collect::<Vec<_>>()
            .join("+");
        spec.push_str(&format!(" · {a} {}", x.formulation));
    }
    spec
}

async fn snapshot(db: &impl ConnectionTrait, c: &LotContext) -> Result<ProductSnapshot> {
    let spec = spec_text(db, &c.sku, &c.product).await?;
    Ok(snapshot_of(c, spec))
}

fn snapshot_of(c: &LotContext, spec: String) -> ProductSnapshot {
    ProductSnapshot {
        product_id: c.product.id,
        name_zh: c.product.name_zh.clone(),
        name_en: c.product.name_en.clone(),
        spec,
        registration_no: c.product.registration_no.clone().unwrap_or_else(|| {
            if c.product.registration_exempt {
                "免登记".into()
            } else {
                String::new()
            }
        }),
        producer_name: c.producer.name_zh.clone(),
        lot_no: c.lot.lot_no.clone(),
    }
}
