//! Ordering from a phone: a cart kept on the server, checkout split by dealer into orders that
//! reserve stock (earliest expiry first, never from an expired, recalled or held lot; all or
//! nothing), an idempotency key enforced by a unique constraint, an explicit transition table,
//! expiry of unconfirmed orders, dealer credit, online payment, and the hand-over that turns a
//! reservation into a sale exactly as a counter sale does.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};

use self::payments::{PaymentError, Provider};
use crate::accounts::{Actor, DealerRole, Role};
use crate::catalog::crops;
use crate::entities::{
    app_user, cart_line, checkout, credit_account, credit_repayment, customer_order,
    dealer_service_area, field, location, lot, offer, order_allocation, order_event, order_line,
    payment, pesticide_use, product, sale, service_station, sku, stock, unit_code,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::events::DomainEvent;
use crate::lots::trace;
use crate::stock::{self as stock_mod, AllocMode, Allocation, Buyer};
use crate::types::{self, Fen};

mod cart;
mod credit;
pub mod desk;
mod hand_over;
mod lifecycle;
mod lists;
mod order_checks;
pub mod payments;
mod placement;
mod views;

pub use cart::*;
pub use credit::*;
pub use lifecycle::*;
pub use lists::*;
pub use order_checks::*;
pub use placement::*;
pub use views::*;

// ---------------------------------------------------------------- states and transitions

pub use crate::types::{
    AllocationStatus, ChargeStatus, DeliveryMode, OrderStatus as Status, PaymentMethod,
    PaymentStatus,
};

impl Status {
    /// A state's short name, in Chinese and English (the dealer's desk and error messages).
    /// The state as a refusal names it.
    pub fn name(self) -> crate::error::StateName {
        let (zh, en) = self.words();
        crate::error::StateName {
            code: self.as_str(),
            zh,
            en,
        }
    }

    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Status::Placed => ("新订单", "new"),
            Status::Confirmed => ("已确认", "confirmed"),
            Status::ReadyForPickup => ("待取货", "ready to collect"),
            Status::OutForDelivery => ("配送中", "out for delivery"),
            Status::Delivered => ("已交货", "handed over"),
            Status::Completed => ("已完成", "completed"),
            Status::Cancelled => ("已取消", "cancelled"),
            Status::Expired => ("超时关闭", "expired"),
        }
    }

    /// Orders that still hold a reservation.
    pub fn holds_stock(self) -> bool {
        matches!(
            self,
            Status::Placed | Status::Confirmed | Status::ReadyForPickup | Status::OutForDelivery
        )
    }
}

/// Who asks for a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    Farmer,
    Dealer,
    /// The expiry task.
    System,
}

/// The transition table: (from, to, who may, which delivery modes; empty = any). One more way
/// out exists for an order flagged by a recall: its dealer may cancel it from any state that
/// still holds stock (see [`transition`]).
pub const TRANSITIONS: &[(Status, Status, &[Party], &[DeliveryMode])] = &[
    (Status::Placed, Status::Confirmed, &[Party::Dealer], &[]),
    (
        Status::Placed,
        Status::Cancelled,
        &[Party::Farmer, Party::Dealer],
        &[],
    ),
    (Status::Placed, Status::Expired, &[Party::System], &[]),
    (
        Status::Confirmed,
        Status::ReadyForPickup,
        &[Party::Dealer],
        &[DeliveryMode::Pickup, DeliveryMode::VillageStation],
    ),
    (
        Status::Confirmed,
        Status::OutForDelivery,
        &[Party::Dealer],
        &[DeliveryMode::Home, DeliveryMode::VillageStation],
    ),
    (Status::Confirmed, Status::Cancelled, &[Party::Dealer], &[]),
    (
        Status::ReadyForPickup,
        Status::Delivered,
        &[Party::Dealer],
        &[],
    ),
    (
        Status::OutForDelivery,
        Status::Delivered,
        &[Party::Dealer],
        &[],
    ),
    (
        Status::Delivered,
        Status::Completed,
        &[Party::Farmer, Party::Dealer],
        &[],
    ),
];

pub fn allowed(from: Status, to: Status, by: Party, mode: DeliveryMode) -> bool {
    TRANSITIONS.iter().any(|(f, t, who, modes)| {
        *f == from && *t == to && who.contains(&by) && (modes.is_empty() || modes.contains(&mode))
    })
}

fn illegal(from: Status, to: Status) -> Error {
    Error::IllegalTransition {
        from: from.name(),
        to: to.name(),
    }
}
