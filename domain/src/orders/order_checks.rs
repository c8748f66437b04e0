//! What placing one order checks and writes: each line's rules, the stock reserved (earliest
//! expiry first), the charge (credit or online), the order's first event and the low-stock alerts.

use super::*;

/// The rules a queued line meets on top of a cart line's: a sane quantity, no restricted-use
/// pesticide, and a price no higher than the one the farmer agreed to.
pub(crate) fn check_queued_line(
    field: &str,
    l: &cart_line::Model,
    o: &offer::Model,
    p: &product::Model,
) -> Result<()> {
    if !(1..=100_000).contains(&l.quantity) {
        return Err(Error::invalid(
            format!("{field}.quantity"),
            Code::OutOfRange,
            "数量应在 1 到 100000 之间",
            "quantity must be 1 to 100,000",
        ));
    }
    if p.restricted_use {
        return Err(Error::invalid(
            field,
            Code::RealNameRequired,
            format!(
                "{} 是限制使用农药，不能离线下单：请在有信号时下单并完成实名登记",
                p.name_zh
            ),
            format!(
                "{} is a restricted-use pesticide and cannot be ordered offline: order it online with your real-name data",
                p.name_en
            ),
        ));
    }
    if o.price_fen > l.price_fen_when_added {
        return Err(Error::invalid(
            format!("{field}.price"),
            Code::PriceChanged,
            format!(
                "{} 的价格已从 {} 涨到 {}，请确认新价格后重新下单",
                p.name_zh,
                money(l.price_fen_when_added),
                money(o.price_fen)
            ),
            format!(
                "the price of {} went up from {} to {}: confirm the new price and order again",
                p.name_en,
                money(l.price_fen_when_added),
                money(o.price_fen)
            ),
        ));
    }
    Ok(())
}

/// Reserves `quantity` of a pack size at a dealer (earliest expiry first, sellable lots only),
/// or refuses the line with INSUFFICIENT_STOCK.
pub(crate) async fn reserve(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    locations: &[i64],
    i: usize,
    s: &sku::Model,
    p: &product::Model,
    quantity: i64,
) -> Result<Vec<Allocation>> {
    match stock_mod::allocate_fefo(db, dealer_id, locations, s.id, quantity, AllocMode::Reserve)
        .await?
    {
        Ok(allocs) => Ok(allocs),
        Err(available) => Err(Error::invalid(
            format!("cart.{i}.quantity"),
            Code::InsufficientStock,
            format!(
                "{}（{}）库存不足：可购 {available}，需要 {quantity}",
                p.name_zh,
                crate::catalog::pack_label(s),
            ),
            format!(
                "{} ({}): not enough stock, {available} available, {quantity} wanted",
                p.name_en,
                crate::catalog::pack_label(s),
            ),
        )),
    }
}

/// The lots among `ids` that can no longer be sold, read under a row lock on PostgreSQL
/// (shared or exclusive), in id order so that lockers never wait on each other in a circle.
pub(crate) async fn unsellable_lots(
    db: &impl ConnectionTrait,
    ids: &BTreeSet<i64>,
    shared: bool,
) -> Result<BTreeSet<i64>> {
    if ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let mut q = lot::Entity::find()
        .filter(lot::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(lot::Column::Id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = if shared {
            q.lock_shared()
        } else {
            q.lock_exclusive()
        };
    }
    let today = crate::today();
    Ok(q.all(db)
        .await?
        .into_iter()
        .filter(|l| !trace::sellable(l, today))
        .map(|l| l.id)
        .collect())
}

/// Delivery and restricted-use rules for one dealer's order; returns warnings (not errors).
pub(crate) async fn check_order(
    db: &impl ConnectionTrait,
    farmer: &app_user::Model,
    dealer_id: i64,
    opts: &OrderOptions,
    group: &[CheckoutLine],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let restricted = group.iter().any(|g| g.4.restricted_use);
    match opts.delivery_mode {
        DeliveryMode::VillageStation => {
            let st = match opts.station_id {
                Some(s) => service_station::Entity::find_by_id(s).one(db).await?,
                None => None,
            }
            .ok_or_else(|| {
                Error::invalid(
                    "stationId",
                    Code::Required,
                    "请选择村级服务站",
                    "choose a village station",
                )
            })?;
            let serves = dealer_service_area::Entity::find()
                .filter(dealer_service_area::Column::DealerId.eq(dealer_id))
                .filter(dealer_service_area::Column::VillageId.eq(st.village_id))
                .one(db)
                .await?
                .is_some();
            if !serves {
                let d = crate::regions::dealer(db, dealer_id).await?;
                return Err(Error::invalid(
                    "stationId",
                    Code::DeliveryNotAllowed,
                    format!("该服务站不在经销商「{}」的配送范围内", d.name_zh),
                    format!("this station is outside the service area of {}", d.name_en),
                ));
            }
        }
        DeliveryMode::Home => {
            if restricted {
                return Err(Error::invalid(
                    "deliveryMode",
                    Code::DeliveryNotAllowed,
                    "限制使用农药不能送货上门：请到门店或村级服务站自提",
                    "restricted-use pesticides are never delivered home: collect at the store or a village station",
                ));
            }
            if opts.address.as_deref().is_none_or(|a| a.trim().is_empty()) {
                return Err(Error::invalid(
                    "address",
                    Code::Required,
                    "送货上门需要填写地址",
                    "home delivery needs an address",
                ));
            }
        }
        DeliveryMode::Pickup => {}
    }
    let field = match opts.field_id {
        Some(f) => {
            let f = field::Entity::find_by_id(f)
                .one(db)
                .await?
                .filter(|f| f.farmer_id == farmer.id);
            Some(f.ok_or_else(|| {
                Error::invalid(
                    "fieldId",
                    Code::UnknownReference,
                    "地块不存在",
                    "no such field of yours",
                )
            })?)
        }
        None => None,
    };
    // The label dose is per product, whatever pack sizes the order mixes: the lines of one
    // pesticide are checked together.
    type Packs<'a> = Vec<(usize, &'a cart_line::Model, &'a sku::Model)>;
    let mut products: Vec<(&product::Model, Packs)> = Vec::new();
    for (i, l, _, s, p) in group {
        if p.category != crate::types::Category::Pesticide {
            continue;
        }
        match products.iter_mut().find(|(q, _)| q.id == p.id) {
            Some((_, lines)) => lines.push((*i, l, s)),
            None => products.push((p, vec![(*i, l, s)])),
        }
    }
    for (p, lines) in products {
        let field_name = format!("cart.{}", lines[0].0);
        stock_mod::check_restricted(
            db,
            dealer_id,
            p,
            farmer.verified_at.is_some() && farmer.id_number.is_some(),
            opts.crop.as_deref(),
            opts.target.as_deref(),
            &field_name,
        )
        .await?;
        // Label dose x field area, for the whole season (x maximum applications).
        let (Some(crop), Some(target)) = (opts.crop.as_deref(), opts.target.as_deref()) else {
            if p.restricted_use {
                return Err(Error::invalid(
                    "crop",
                    Code::UnregisteredUse,
                    "请填写用药作物和防治对象",
                    "give the crop and target",
                ));
            }
            continue;
        };
        let code = crops::resolve(crop).unwrap_or("");
        let t = target.trim().to_lowercase();
        let uses = pesticide_use::Entity::find()
            .filter(pesticide_use::Column::ProductId.eq(p.id))
            .all(db)
            .await?;
        let Some(u) = uses.iter().find(|u| {
            u.crop == code && (u.target_zh.to_lowercase() == t || u.target_en.to_lowercase() == t)
        }) else {
            if p.restricted_use {
                continue; // check_restricted already refused it
            }
            warnings.push(format!(
                "{}：{crop}/{target} 不是登记的用途 / {}: {crop}/{target} is not a registered use",
                p.name_zh, p.name_en
            ));
            continue;
        };
        match &field {
            Some(f) => {
                let allowed = u.dose_max * f.area_mu * f64::from(u.max_applications);
                let total: f64 = lines
                    .iter()
                    .map(|(_, l, s)| l.quantity as f64 * pack_amount_g_or_ml(s))
                    .sum();
                let smallest = lines
                    .iter()
                    .map(|(_, _, s)| pack_amount_g_or_ml(s))
                    .fold(f64::INFINITY, f64::min);
                // Whole packs round up, but no further: refused when the order would still
                // cover the allowed amount without one of its smallest packs (for one line,
                // more packs than allowed / pack size rounded up).
                if total - smallest >= allowed - 1e-9 {
                    let unit = if u.dose_unit.starts_with('g') { "g" } else { "ml" };
                    let (i, l, s) = lines.last().copied().unwrap_or(lines[0]);
                    let packs = (allowed / pack_amount_g_or_ml(s)).ceil() as i64;
                    return Err(Error::invalid(
                        format!("cart.{i}.quantity"),
                        Code::QuantityExceedsLabelDose,
                        format!(
                            "超过标签用量：{} 亩 × 最高 {}{} × {} 次 = {allowed}{unit}（约 {packs} 件 {}），本单共 {total}{unit}（该规格 {} 件）",
                            f.area_mu,
                            u.dose_max,
                            u.dose_unit,
                            u.max_applications,
                            crate::catalog::pack_label(s),
                            l.quantity
                        ),
                        format!(
                            "more than the label allows: {} mu x at most {} {} x {} applications = {allowed} {unit} (about {packs} packs of {}), this order has {total} {unit} ({} of this pack)",
                            f.area_mu,
                            u.dose_max,
                            u.dose_unit,
                            u.max_applications,
                            crate::catalog::pack_label(s),
                            l.quantity
                        ),
                    ));
                }
            }
            None => warnings.push(format!(
                "{}：未指定地块，未按标签用量核对数量 / {}: no field named, quantity not checked against the label dose",
                p.name_zh, p.name_en
            )),
        }
    }
    Ok(warnings)
}

/// A pack's contents in g or ml (the units label doses use).
fn pack_amount_g_or_ml(s: &sku::Model) -> f64 {
    match s.pack_unit.as_str() {
        "kg" | "L" => s.pack_size * 1000.0,
        _ => s.pack_size,
    }
}

pub(crate) async fn charge(
    db: &impl ConnectionTrait,
    order: &customer_order::Model,
    method: PaymentMethod,
    provider_name: Option<&'static str>,
    holds: &[Hold],
) -> Result<PaymentStatus> {
    match method {
        PaymentMethod::CashOnDelivery => Ok(PaymentStatus::Pending),
        PaymentMethod::DealerCredit => {
            // The limit holds in the UPDATE itself: two orders cannot both slip under it.
            let ok = credit_account::Entity::update_many()
                .col_expr(
                    credit_account::Column::BalanceFen,
                    Expr::col(credit_account::Column::BalanceFen).add(order.total_fen),
                )
                .col_expr(credit_account::Column::UpdatedAt, Expr::value(crate::now()))
                .filter(credit_account::Column::DealerId.eq(order.dealer_id))
                .filter(credit_account::Column::FarmerId.eq(order.farmer_id))
                .filter(
                    Expr::col(credit_account::Column::BalanceFen)
                        .add(order.total_fen)
                        .lte(Expr::col(credit_account::Column::LimitFen)),
                )
                .exec(db)
                .await?
                .rows_affected
                == 1;
            if !ok {
                let acc = credit_account::Entity::find()
                    .filter(credit_account::Column::DealerId.eq(order.dealer_id))
                    .filter(credit_account::Column::FarmerId.eq(order.farmer_id))
                    .one(db)
                    .await?;
                let room = acc.map(|a| a.limit_fen - a.balance_fen).unwrap_or(0);
                return Err(Error::invalid(
                    "paymentMethod",
                    Code::CreditLimitExceeded,
                    format!(
                        "赊账额度不足：剩余 {}，本单 {}",
                        Fen(room),
                        Fen(order.total_fen)
                    ),
                    format!(
                        "not enough dealer credit: {} left, this order is {}",
                        Fen(room),
                        Fen(order.total_fen)
                    ),
                ));
            }
            Ok(PaymentStatus::OnCredit)
        }
        PaymentMethod::Online => {
            let Some(provider_name) = provider_name else {
                return Err(payment_unavailable());
            };
            // Authorised before the transaction, for exactly this order's amount.
            let Some(hold) = holds
                .iter()
                .find(|h| h.dealer_id == order.dealer_id && h.amount_fen == order.total_fen)
            else {
                return Err(Error::invalid(
                    "cart",
                    Code::PriceChanged,
                    "付款授权期间购物车或价格有变动，请确认后重新下单",
                    "the cart or a price changed while the payment was being authorised: check it and order again",
                ));
            };
            let now = crate::now();
            payment::ActiveModel {
                order_id: Set(order.id),
                provider: Set(provider_name.into()),
                status: Set(ChargeStatus::Authorised),
                amount_fen: Set(order.total_fen),
                provider_ref: Set(hold.reference.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(PaymentStatus::Authorised)
        }
    }
}

pub(crate) async fn set_payment_status(
    db: &impl ConnectionTrait,
    order: customer_order::Model,
    status: PaymentStatus,
) -> Result<customer_order::Model> {
    if order.payment_status == status {
        return Ok(order);
    }
    let mut am: customer_order::ActiveModel = order.into();
    am.payment_status = Set(status);
    Ok(am.update(db).await?)
}

pub(crate) async fn record_event(
    db: &impl ConnectionTrait,
    order_id: i64,
    from: Option<Status>,
    to: Status,
    actor: Option<i64>,
    reason: &str,
) -> Result<()> {
    order_event::ActiveModel {
        order_id: Set(order_id),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(actor),
        reason: Set(reason.into()),
        at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(crate) fn updated(o: &customer_order::Model) -> DomainEvent {
    DomainEvent::OrderUpdated {
        order_id: o.id,
        farmer_id: o.farmer_id,
        dealer_id: o.dealer_id,
        status: o.status,
    }
}

/// LOW_STOCK alerts for SKUs whose sellable available stock fell below the threshold.
pub async fn low_stock_alerts(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    sku_ids: Vec<i64>,
    threshold: i64,
) -> Result<Vec<DomainEvent>> {
    let mut out = Vec::new();
    for s in sku_ids.into_iter().collect::<BTreeSet<_>>() {
        let available = available_of(db, dealer_id, s).await?;
        if available < threshold {
            let sk = sku::Entity::find_by_id(s)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("sku", s))?;
            let p = product::Entity::find_by_id(sk.product_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("product", sk.product_id))?;
            out.push(DomainEvent::StockAlert {
                dealer_id,
                kind: crate::types::AlertKind::LowStock,
                sku_id: Some(s),
                lot_id: None,
                available: Some(available),
                message_zh: format!(
                    "{}（{}）可售库存仅剩 {available}",
                    p.name_zh,
                    crate::catalog::pack_label(&sk)
                ),
                message_en: format!(
                    "{} ({}): only {available} left to sell",
                    p.name_en,
                    crate::catalog::pack_label(&sk)
                ),
            });
        }
    }
    Ok(out)
}
