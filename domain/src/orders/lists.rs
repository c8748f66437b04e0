//! The lines, history, payments and allocations of many orders at once, one statement each:
//! what the order lists' loaders read, so a page of orders costs the same SQL whatever its
//! length.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{order_allocation, order_event, order_line, payment};
use crate::error::Result;

/// The lines of the orders, oldest first.
pub async fn lines_by_orders(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> Result<Vec<order_line::Model>> {
    Ok(order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?)
}

/// The history of the orders, oldest first.
pub async fn events_by_orders(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> Result<Vec<order_event::Model>> {
    Ok(order_event::Entity::find()
        .filter(order_event::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_event::Column::Id)
        .all(db)
        .await?)
}

/// The payments of the orders, oldest first.
pub async fn payments_by_orders(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> Result<Vec<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?)
}

/// The allocations of the order lines, in allocation order (earliest expiry first).
pub async fn allocations_by_lines(
    db: &impl ConnectionTrait,
    line_ids: &[i64],
) -> Result<Vec<order_allocation::Model>> {
    Ok(order_allocation::Entity::find()
        .filter(order_allocation::Column::OrderLineId.is_in(line_ids.iter().copied()))
        .order_by_asc(order_allocation::Column::Id)
        .all(db)
        .await?)
}
