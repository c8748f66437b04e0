//! Notifications stored per user (the in-app inbox), in zh-CN and en.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entities::notification;
use crate::error::Result;
use crate::events::DomainEvent;

pub struct Message {
    pub kind: crate::types::NotificationKind,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub payload: serde_json::Value,
}

/// Stores one notification per user and returns the events to publish.
pub async fn notify_all(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
    m: &Message,
) -> Result<Vec<DomainEvent>> {
    let mut out = Vec::new();
    let now = crate::now();
    for u in user_ids {
        let n = notification::ActiveModel {
            user_id: Set(*u),
            kind: Set(m.kind),
            title_zh: Set(m.title_zh.clone()),
            title_en: Set(m.title_en.clone()),
            body_zh: Set(m.body_zh.clone()),
            body_en: Set(m.body_en.clone()),
            payload: Set(m.payload.clone()),
            created_at: Set(now),
            read_at: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
        out.push(DomainEvent::Notified {
            user_id: *u,
            notification_id: n.id,
        });
    }
    Ok(out)
}

/// A user's notifications, newest first.
pub async fn for_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    unread_only: bool,
    limit: u64,
) -> Result<Vec<notification::Model>> {
    let mut q = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::Id)
        .limit(limit);
    if unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    Ok(q.all(db).await?)
}

/// Marks the user's own notifications read; returns how many changed.
pub async fn mark_read(db: &impl ConnectionTrait, user_id: i64, ids: &[i64]) -> Result<u64> {
    Ok(notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(crate::now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Id.is_in(ids.iter().copied()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}
