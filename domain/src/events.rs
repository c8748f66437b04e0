//! Domain events: what a committed change means for others. Services return them; the API
//! publishes them on the event bus (subscriptions, notifications on other nodes).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DomainEvent {
    /// A lot was recalled: every affected dealer and buyer account is listed.
    LotRecalled {
        lot_id: i64,
        lot_no: String,
        reason: String,
        dealer_ids: Vec<i64>,
        user_ids: Vec<i64>,
    },
    /// A lot was put on hold or released.
    LotStatusChanged {
        lot_id: i64,
        status: crate::types::LotStatus,
    },
    /// Stock of a lot at a dealer changed.
    StockChanged {
        dealer_id: i64,
        lot_id: i64,
        location_id: i64,
    },
    /// A notification was stored for a user.
    Notified { user_id: i64, notification_id: i64 },
    /// An order changed state (or was flagged).
    OrderUpdated {
        order_id: i64,
        farmer_id: i64,
        dealer_id: i64,
        status: crate::types::OrderStatus,
    },
    /// Something a dealer should act on: LOW_STOCK, NEAR_EXPIRY or RECALL.
    StockAlert {
        dealer_id: i64,
        kind: crate::types::AlertKind,
        sku_id: Option<i64>,
        lot_id: Option<i64>,
        available: Option<i64>,
        message_zh: String,
        message_en: String,
    },
}

impl DomainEvent {
    /// The bus topic.
    pub fn topic(&self) -> &'static str {
        match self {
            DomainEvent::LotRecalled { .. } => "lot.recalled",
            DomainEvent::LotStatusChanged { .. } => "lot.status",
            DomainEvent::StockChanged { .. } => "stock.changed",
            DomainEvent::Notified { .. } => "notification",
            DomainEvent::OrderUpdated { .. } => "order.updated",
            DomainEvent::StockAlert { .. } => "stock.alert",
        }
    }
}
