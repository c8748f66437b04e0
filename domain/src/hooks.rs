//! Extension points where one part of the domain reacts to another inside the same
//! transaction (a recall flags the orders that hold the lot).

use sea_orm::ConnectionTrait;

use crate::entities::lot;
use crate::error::Result;
use crate::events::DomainEvent;

/// Called inside the recall's transaction, after the lot is marked recalled.
pub async fn on_recall(db: &impl ConnectionTrait, lot: &lot::Model) -> Result<Vec<DomainEvent>> {
    crate::orders::flag_for_recall(db, lot).await
}
