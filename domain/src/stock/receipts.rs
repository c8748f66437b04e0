//! Receipts from a named supplier: the terms checked, the lot's stock raised, the trace event
//! and the purchase ledger line written in one transaction.

use super::*;

#[derive(Clone, Debug, Default)]
pub struct Supplier {
    pub name: String,
    pub licence_no: String,
    pub contact: String,
}

#[derive(Clone, Debug)]
pub struct ReceiptInput {
    pub dealer_id: i64,
    /// The dealer's store when absent.
    pub location_id: Option<i64>,
    pub lot_id: i64,
    pub quantity: i64,
    pub unit_cost_fen: i64,
    pub supplier: Supplier,
    pub source_document: String,
    pub received_at: Option<DateTime<Utc>>,
}

/// The checks every receipt passes, by form or by CSV row: quantity, unit cost, supplier, and
/// source document.
pub(crate) fn check_receipt_terms(
    errs: &mut Errors,
    quantity: i64,
    unit_cost_fen: i64,
    supplier: &Supplier,
    source_document: &str,
) {
    errs.take(qty("quantity", quantity));
    if !(0..=100_000_000).contains(&unit_cost_fen) {
        errs.push(FieldError::new(
            "unitCostFen",
            Code::InvalidPrice,
            "进货单价（分）应在 0 到 1 亿之间",
            "unit cost (fen) must be between 0 and 100,000,000",
        ));
    }
    validate_supplier(errs, supplier);
    errs.take(types::name("sourceDocument", source_document, 100));
}

fn validate_supplier(errs: &mut Errors, s: &Supplier) {
    errs.take(types::name("supplier.name", &s.name, 100));
    errs.take(types::name("supplier.licenceNo", &s.licence_no, 80));
    errs.take(types::name("supplier.contact", &s.contact, 80));
}

/// Receives stock of a lot from a named supplier: stock rises, a receiving event and a
/// purchase-ledger line are written.
pub async fn receive<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: ReceiptInput,
) -> Result<(stock_receipt::Model, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, input.dealer_id))?;
    let txn = crate::begin_write(db).await?;
    let r = receive_in(&txn, actor, input).await?;
    txn.commit().await?;
    Ok(r)
}

pub(crate) async fn receive_in(
    db: &impl ConnectionTrait,
    actor: &Actor,
    input: ReceiptInput,
) -> Result<(stock_receipt::Model, Vec<DomainEvent>)> {
    let mut errs = Errors::new();
    check_receipt_terms(
        &mut errs,
        input.quantity,
        input.unit_cost_fen,
        &input.supplier,
        &input.source_document,
    );
    let at = input.received_at.unwrap_or_else(crate::now);
    if at > crate::now() + chrono::Duration::minutes(5) {
        errs.push(FieldError::new(
            "receivedAt",
            Code::OutOfRange,
            "收货时间不能晚于现在",
            "receipt time cannot be in the future",
        ));
    }
    errs.finish()?;
    regions::dealer(db, input.dealer_id).await?;
    let location = match input.location_id {
        Some(l) => check_dealer_location(db, input.dealer_id, l, "locationId").await?,
        None => store_location(db, input.dealer_id).await?,
    };
    let l = trace::lock_lot(db, input.lot_id).await?;
    if l.status == LotStatus::Recalled {
        return Err(Error::invalid(
            "lotId",
            Code::LotRecalled,
            "该批次已被召回，不能入库",
            "this lot is recalled and cannot be received",
        ));
    }
    if crate::local_date(at) >= l.expires_on {
        return Err(Error::invalid(
            "lotId",
            Code::LotNotSellable,
            "该批次已过期，不能入库",
            "this lot has expired and cannot be received",
        ));
    }
    let c = lot_context(db, input.lot_id).await?;
    add_stock(db, location.id, l.id, input.dealer_id, input.quantity).await?;
    let receipt = stock_receipt::ActiveModel {
        dealer_id: Set(input.dealer_id),
        location_id: Set(location.id),
        lot_id: Set(l.id),
        quantity: Set(input.quantity),
        unit_cost_fen: Set(input.unit_cost_fen),
        supplier_name: Set(input.supplier.name.trim().into()),
        supplier_licence_no: Set(input.supplier.licence_no.trim().into()),
        supplier_contact: Set(input.supplier.contact.trim().into()),
        source_document: Set(input.source_document.trim().into()),
        actor_id: Set(actor.user_id),
        received_at: Set(trace::micros(at)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut e = NewEvent::new(
        l.id,
        BizStep::Receiving,
        Disposition::SellableAccessible,
        input.quantity,
        Some(actor.user_id),
    );
    e.to_location_id = Some(location.id);
    e.dealer_id = Some(input.dealer_id);
    e.occurred_at = at;
    e.ref_kind = Some(crate::types::RefKind::Receipt);
    e.ref_id = Some(receipt.id);
    e.note = format!(
        "from {} ({})",
        receipt.supplier_name, receipt.supplier_licence_no
    );
    let ev = trace::append(db, e).await?;
    let party = Counterparty {
        name: receipt.supplier_name.clone(),
        licence: receipt.supplier_licence_no.clone(),
        contact: receipt.supplier_contact.clone(),
        id_number: String::new(),
    };
    ledger::write(
        db,
        input.dealer_id,
        ledger::Kind::Purchase,
        Some(ev.id),
        at,
        &snapshot(db, &c).await?,
        input.quantity,
        Fen(input.unit_cost_fen),
        &party,
        &receipt.source_document,
        "",
    )
    .await?;
    Ok((
        receipt,
        vec![DomainEvent::StockChanged {
            dealer_id: input.dealer_id,
            lot_id: l.id,
            location_id: location.id,
        }],
    ))
}
