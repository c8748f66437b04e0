//! Recalling a lot: the lot is marked, its trace event written, the orders that hold it
//! flagged and every holder and buyer notified, in one transaction.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, Set, TransactionSession, TransactionTrait,
};

use crate::accounts::Actor;
use crate::accounts::is_regulator_or_admin;
use crate::catalog::pack_label;
use crate::entities::{lot, product, sku};
use crate::error::{Code, Error, Result};
use crate::events::DomainEvent;
use crate::lots::trace::{self, BizStep, Disposition, NewEvent};
use crate::types::{self, LotStatus};

/// Recalls a lot: unsellable everywhere from this transaction on; every affected dealer and
/// buyer account is notified. Returns the events to publish.
pub async fn recall<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    reason: &str,
) -> Result<(lot::Model, Vec<DomainEvent>)> {
    actor.require(is_regulator_or_admin(actor))?;
    let reason = types::name("reason", reason, 500).map_err(|e| Error::Invalid(vec![e]))?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    if l.status == LotStatus::Recalled {
        return Err(Error::invalid(
            "lotId",
            Code::InvalidTransition,
            "该批次已召回",
            "this lot is already recalled",
        ));
    }
    let mut am: lot::ActiveModel = l.into();
    am.status = Set(LotStatus::Recalled);
    am.status_reason = Set(Some(reason.clone()));
    am.status_at = Set(Some(crate::now()));
    let l = am.update(&txn).await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Holding,
        Disposition::Recalled,
        0,
        Some(actor.user_id),
    );
    e.note = reason.clone();
    trace::append(&txn, e).await?;
    let mut events = crate::orders::flag_for_recall(&txn, &l).await?;
    let (dealer_ids, user_ids) = trace::affected_parties(&txn, lot_id).await?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let msg = crate::notify::Message {
        kind: crate::types::NotificationKind::LotRecalled,
        title_zh: format!("召回通知：{} 批号 {}", p.name_zh, l.lot_no),
        title_en: format!("Recall: {} lot {}", p.name_en, l.lot_no),
        body_zh: format!(
            "{}（{}）批号 {} 已被召回，请立即停止销售和使用。原因：{}",
            p.name_zh,
            pack_label(&s),
            l.lot_no,
            reason
        ),
        body_en: format!(
            "{} ({}) lot {} has been recalled: stop selling and using it now. Reason: {}",
            p.name_en,
            pack_label(&s),
            l.lot_no,
            reason
        ),
        payload: serde_json::json!({ "lotId": lot_id, "lotNo": l.lot_no, "traceCode": l.trace_code, "reason": reason }),
    };
    events.extend(crate::notify::notify_all(&txn, &user_ids, &msg).await?);
    txn.commit().await?;
    for d in &dealer_ids {
        events.push(DomainEvent::StockAlert {
            dealer_id: *d,
            kind: crate::types::AlertKind::Recall,
            sku_id: Some(l.sku_id),
            lot_id: Some(lot_id),
            available: None,
            message_zh: format!("批次 {} 已召回：立即停止销售", l.lot_no),
            message_en: format!("lot {} recalled: stop selling it now", l.lot_no),
        });
    }
    events.insert(
        0,
        DomainEvent::LotRecalled {
            lot_id,
            lot_no: l.lot_no.clone(),
            reason,
            dealer_ids,
            user_ids,
        },
    );
    Ok((l, events))
}
