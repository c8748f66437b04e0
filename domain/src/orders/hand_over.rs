//! The hand-over: an order's reservations become a sale exactly as a counter sale does (stock
//! consumed, ledger lines, trace events), with the unit codes scanned at the counter checked
//! against the lots handed over.

use super::*;

/// The hand-over: checks the buyer again, turns the reservation into a sale (on-hand stock
/// drops), writes the sale's trace events and ledger lines per lot, and settles payment.
pub(super) async fn hand_over(
    db: &impl ConnectionTrait,
    actor: Option<&Actor>,
    o: &customer_order::Model,
    unit_codes: &[String],
    settings: Settings,
) -> Result<Vec<DomainEvent>> {
    let actor = actor.ok_or_else(|| Error::Internal("hand-over needs a person".into()))?;
    let farmer = app_user::Entity::find_by_id(o.farmer_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user", o.farmer_id))?;
    let allocs = allocations_of(db, o.id).await?;
    let today = crate::today();
    let mut checked = BTreeSet::new();
    for (line, a) in &allocs {
        let l = crate::lots::lot(db, a.lot_id).await?;
        if !trace::sellable(&l, today) {
            return Err(not_sellable(&l, today));
        }
        if checked.insert(line.sku_id) {
            let s = sku::Entity::find_by_id(line.sku_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("sku", line.sku_id))?;
            let p = product::Entity::find_by_id(s.product_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("product", s.product_id))?;
            // The buyer is checked again at hand-over (RULES.md rule 4).
            stock_mod::check_restricted(
                db,
                o.dealer_id,
                &p,
                farmer.verified_at.is_some() && farmer.id_number.is_some(),
                o.crop.as_deref(),
                o.target.as_deref(),
                "status",
            )
            .await?;
        }
    }
    for (_, a) in &allocs {
        stock_mod::consume_reservation(db, a.stock_id, a.quantity).await?;
        let mut am: order_allocation::ActiveModel = a.clone().into();
        am.status = Set(AllocationStatus::Sold);
        am.update(db).await?;
    }
    let sold_at = trace::micros(crate::now());
    let location_id = allocs
        .first()
        .map(|(_, a)| a.location_id)
        .unwrap_or_default();
    let s = sale::ActiveModel {
        dealer_id: Set(o.dealer_id),
        location_id: Set(location_id),
        channel: Set(crate::types::SaleChannel::Order),
        order_id: Set(Some(o.id)),
        buyer_user_id: Set(Some(farmer.id)),
        buyer_name: Set(Some(
            farmer
                .real_name
                .clone()
                .unwrap_or_else(|| farmer.display_name.clone()),
        )),
        buyer_phone: Set(Some(farmer.phone.clone())),
        buyer_id_number: Set(farmer.id_number.clone()),
        buyer_village_id: Set(farmer.village_id),
        crop: Set(o.crop.clone()),
        target: Set(o.target.clone()),
        total_fen: Set(o.total_fen),
        actor_id: Set(actor.user_id),
        sold_at: Set(sold_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let buyer = Buyer {
        user_id: Some(farmer.id),
        name: s.buyer_name.clone(),
        phone: s.buyer_phone.clone(),
        id_number: s.buyer_id_number.clone(),
        village_id: s.buyer_village_id,
    };
    let mut for_sale = Vec::new();
    for (line, a) in &allocs {
        let sk = sku::Entity::find_by_id(line.sku_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("sku", line.sku_id))?;
        for_sale.push((
            sk,
            line.unit_price_fen,
            Allocation {
                stock_id: a.stock_id,
                location_id: a.location_id,
                lot_id: a.lot_id,
                quantity: a.quantity,
            },
        ));
    }
    // Codes are unsold IN_STOCK codes before the sale: count what each line must scan first.
    let needed = codes_needed(db, &allocs).await?;
    let (_, mut events) =
        stock_mod::write_sale(db, actor, &s, &buyer, &for_sale, unit_codes).await?;
    check_codes_scanned(db, &needed, unit_codes).await?;
    // The sale holds the lots locked now: read them again, so a recall that committed since the
    // check above stops the hand-over instead of slipping in after it.
    let lot_ids: BTreeSet<i64> = allocs.iter().map(|(_, a)| a.lot_id).collect();
    if let Some(bad) = unsellable_lots(db, &lot_ids, false).await?.first() {
        return Err(not_sellable(&crate::lots::lot(db, *bad).await?, today));
    }
    let mut am: customer_order::ActiveModel = order(db, o.id).await?.into();
    am.sale_id = Set(Some(s.id));
    am.update(db).await?;
    // Cash is paid at the hand-over; online payments are captured by the caller once the
    // status change is certain.
    if o.payment_method == PaymentMethod::CashOnDelivery {
        set_payment_status(db, order(db, o.id).await?, PaymentStatus::Paid).await?;
    }
    events.extend(
        low_stock_alerts(
            db,
            o.dealer_id,
            allocs.iter().map(|(l, _)| l.sku_id).collect(),
            settings.low_stock_threshold,
        )
        .await?,
    );
    Ok(events)
}

/// Per order line whose allocated lots carry unit codes: the line, its lots and how many codes
/// it must scan (a code per unit handed over, up to the unsold codes on those lots).
async fn codes_needed(
    db: &impl ConnectionTrait,
    allocs: &[(order_line::Model, order_allocation::Model)],
) -> Result<Vec<(order_line::Model, BTreeSet<i64>, i64)>> {
    let mut by_line: BTreeMap<i64, (order_line::Model, BTreeSet<i64>, i64)> = BTreeMap::new();
    for (line, a) in allocs {
        let e = by_line
            .entry(line.id)
            .or_insert_with(|| (line.clone(), BTreeSet::new(), 0));
        e.1.insert(a.lot_id);
        e.2 += a.quantity;
    }
    let mut out = Vec::new();
    for (_, (line, lots, quantity)) in by_line {
        let unsold = unit_code::Entity::find()
            .filter(unit_code::Column::LotId.is_in(lots.iter().copied()))
            .filter(unit_code::Column::Status.ne(crate::types::UnitCodeStatus::Sold))
            .count(db)
            .await? as i64;
        if unsold > 0 {
            out.push((line, lots, std::cmp::min(quantity, unsold)));
        }
    }
    Ok(out)
}

/// Refuses a hand-over whose scanned codes leave a coded line short, or give a line more codes
/// than units. (Each code was already checked against the sale's lots by the sale itself.)
async fn check_codes_scanned(
    db: &impl ConnectionTrait,
    needed: &[(order_line::Model, BTreeSet<i64>, i64)],
    unit_codes: &[String],
) -> Result<()> {
    let scanned: Vec<unit_code::Model> = if unit_codes.is_empty() {
        vec![]
    } else {
        unit_code::Entity::find()
            .filter(unit_code::Column::Code.is_in(unit_codes.iter().map(|c| c.trim())))
            .all(db)
            .await?
    };
    let mut errs = Errors::new();
    for (line, lots, want) in needed {
        let got = scanned.iter().filter(|u| lots.contains(&u.lot_id)).count() as i64;
        if got < *want {
            errs.push(FieldError::new(
                format!("unitCodes.line{}", line.id),
                Code::Required,
                format!(
                    "{}（{}）还需扫描 {} 个追溯码：已扫 {got}，应扫 {want}",
                    line.product_name_zh,
                    line.pack,
                    want - got
                ),
                format!(
                    "{} ({}): {} more unit code(s) to scan, {got} scanned of {want}",
                    line.product_name_en,
                    line.pack,
                    want - got
                ),
            ));
        } else if got > line.quantity {
            errs.push(FieldError::new(
                format!("unitCodes.line{}", line.id),
                Code::CodeMismatch,
                format!(
                    "{}（{}）扫了 {got} 个追溯码，但只交 {} 件",
                    line.product_name_zh, line.pack, line.quantity
                ),
                format!(
                    "{} ({}): {got} codes scanned for {} units",
                    line.product_name_en, line.pack, line.quantity
                ),
            ));
        }
    }
    errs.finish()
}

fn not_sellable(l: &lot::Model, today: chrono::NaiveDate) -> Error {
    let state = trace::disposition_of(l, today).words();
    Error::invalid(
        "status",
        if l.status == crate::types::LotStatus::Recalled {
            Code::LotRecalled
        } else {
            Code::LotNotSellable
        },
        format!(
            "订单中的批次 {} 已不可销售（{}），请取消订单",
            l.lot_no, state.0
        ),
        format!(
            "lot {} in this order can no longer be sold ({}): cancel the order",
            l.lot_no, state.1
        ),
    )
}
