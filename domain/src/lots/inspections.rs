//! Inspections of a lot, and holding or releasing it for sale.

use super::*;

/// Records an inspection or sampling result; a non-conformant result puts the lot on hold.
pub async fn record_inspection<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    i: InspectionInput,
) -> Result<(lot::Model, Vec<DomainEvent>)> {
    actor.require(matches!(
        actor.role,
        Role::Admin | Role::Regulator | Role::Dealer
    ))?;
    let mut errs = Errors::new();
    validate_inspection(&mut errs, &i, "inspection");
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    let non_conformant = i.result == crate::types::InspectionResult::NonConformant;
    let mut am: lot::ActiveModel = l.clone().into();
    am.inspection_report_no = Set(Some(i.report_no.trim().into()));
    am.inspection_lab = Set(Some(i.lab.trim().into()));
    am.inspection_result = Set(Some(i.result));
    am.inspection_date = Set(Some(i.date));
    if non_conformant && l.status == LotStatus::Active {
        am.status = Set(LotStatus::OnHold);
        am.status_reason = Set(Some(format!(
            "检验不合格 / failed inspection ({})",
            i.report_no.trim()
        )));
        am.status_at = Set(Some(crate::now()));
    }
    let l = am.update(&txn).await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Inspecting,
        if non_conformant {
            Disposition::NonConformant
        } else {
            Disposition::Conformant
        },
        0,
        Some(actor.user_id),
    );
    e.note = format!("{} {} {}", i.report_no.trim(), i.lab.trim(), i.date);
    trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok((
        l.clone(),
        vec![DomainEvent::LotStatusChanged {
            lot_id,
            status: l.status,
        }],
    ))
}

/// Regulators and admins put a lot on hold (`hold = true`) or release it.
pub async fn set_hold<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    lot_id: i64,
    hold: bool,
    reason: &str,
) -> Result<(lot::Model, Vec<DomainEvent>)> {
    actor.require(is_regulator_or_admin(actor))?;
    let reason = types::name("reason", reason, 500).map_err(|e| Error::Invalid(vec![e]))?;
    let txn = crate::begin_write(db).await?;
    let l = trace::lock_lot(&txn, lot_id).await?;
    let (from, to) = if hold {
        (LotStatus::Active, LotStatus::OnHold)
    } else {
        (LotStatus::OnHold, LotStatus::Active)
    };
    if l.status != from {
        return Err(Error::invalid(
            "lotId",
            Code::InvalidTransition,
            format!(
                "{}（此批次当前：{}）",
                if hold {
                    "只有正常销售的批次才能暂停销售"
                } else {
                    "只有暂停销售的批次才能解除暂停"
                },
                l.status.words().0
            ),
            format!(
                "{} (this one is {})",
                if hold {
                    "only an active lot can be put on hold"
                } else {
                    "only a lot on hold can be released"
                },
                l.status.words().1
            ),
        ));
    }
    let mut am: lot::ActiveModel = l.into();
    am.status = Set(to);
    am.status_reason = Set(Some(reason.clone()));
    am.status_at = Set(Some(crate::now()));
    let l = am.update(&txn).await?;
    let mut e = NewEvent::new(
        lot_id,
        BizStep::Holding,
        if hold {
            Disposition::NonSellableOther
        } else {
            Disposition::SellableAccessible
        },
        0,
        Some(actor.user_id),
    );
    e.note = reason;
    trace::append(&txn, e).await?;
    txn.commit().await?;
    Ok((
        l,
        vec![DomainEvent::LotStatusChanged { lot_id, status: to }],
    ))
}
