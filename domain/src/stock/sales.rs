//! Allocation (FEFO, or the lots a buyer chose) and counter sales: the restricted-use checks,
//! the buyer's real name, unit codes sold, the sale, its ledger lines and trace events.

use super::*;

/// A part of a line taken from one stock row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub stock_id: i64,
    pub location_id: i64,
    pub lot_id: i64,
    pub quantity: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocMode {
    /// Take from on hand (a counter sale).
    Take,
    /// Reserve (an order, handed over later).
    Reserve,
}

/// Allocates `quantity` units of a SKU from a dealer's sellable lots at the given locations,
/// earliest expiry first, never from an expired, recalled or held lot; all or nothing. Returns
/// the allocations or the quantity that was available.
pub async fn allocate_fefo(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    location_ids: &[i64],
    sku_id: i64,
    quantity: i64,
    mode: AllocMode,
) -> Result<std::result::Result<Vec<Allocation>, i64>> {
    let today = crate::today();
    let lots: BTreeMap<i64, lot::Model> = lot::Entity::find()
        .filter(lot::Column::SkuId.eq(sku_id))
        .filter(lot::Column::Status.eq(LotStatus::Active))
        .filter(lot::Column::ExpiresOn.gt(today))
        .all(db)
        .await?
        .into_iter()
        .filter(|l| trace::sellable(l, today))
        .map(|l| (l.id, l))
        .collect();
    let mut rows = stock::Entity::find()
        .filter(stock::Column::DealerId.eq(dealer_id))
        .filter(stock::Column::LocationId.is_in(location_ids.iter().copied()))
        .filter(stock::Column::LotId.is_in(lots.keys().copied()))
        .all(db)
        .await?;
    // Earliest expiry first; ties by lot, then by row, so every allocator takes rows in the same
    // order (no deadlock between two orders).
    rows.sort_by_key(|r| (lots[&r.lot_id].expires_on, r.lot_id, r.location_id, r.id));
    let mut remaining = quantity;
    let mut out = Vec::new();
    for r in rows {
        if remaining == 0 {
            break;
        }
        let mut avail = r.on_hand - r.reserved;
        // Retry with a fresh reading if another transaction changed the row meanwhile.
        for _ in 0..3 {
            let n = std::cmp::min(avail, remaining);
            if n <= 0 {
                break;
            }
            let ok = match mode {
                AllocMode::Take => take_stock(db, r.id, n).await?,
                AllocMode::Reserve => reserve_stock(db, r.id, n).await?,
            };
            if ok {
                remaining -= n;
                out.push(Allocation {
                    stock_id: r.id,
                    location_id: r.location_id,
                    lot_id: r.lot_id,
                    quantity: n,
                });
                break;
            }
            avail = stock::Entity::find_by_id(r.id)
                .one(db)
                .await?
                .map(|r| r.on_hand - r.reserved)
                .unwrap_or(0);
        }
    }
    if remaining > 0 {
        // The caller rolls the transaction back; report what was there.
        return Ok(Err(quantity - remaining));
    }
    Ok(Ok(out))
}

#[derive(Clone, Debug, Default)]
pub struct Buyer {
    pub user_id: Option<i64>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub village_id: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct SaleLineInput {
    pub sku_id: i64,
    pub quantity: i64,
    /// Defaults to the dealer's current offer.
    pub unit_price_fen: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct CounterSaleInput {
    pub dealer_id: i64,
    /// The dealer's store when absent.
    pub location_id: Option<i64>,
    pub lines: Vec<SaleLineInput>,
    pub buyer: Buyer,
    /// Crop and pest/disease the buyer will treat: required for restricted-use pesticides.
    pub crop: Option<String>,
    pub target: Option<String>,
    /// Unit codes scanned at the counter.
    pub unit_codes: Vec<String>,
}

/// The checks a restricted-use pesticide sale needs (RULES.md rules 3, 4 and 8). `field` is the
/// input path of the line.
pub async fn check_restricted(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    p: &product::Model,
    buyer_real_name: bool,
    crop: Option<&str>,
    target: Option<&str>,
    field: &str,
) -> Result<()> {
    let today = crate::today();
    if p.category == crate::types::Category::Pesticide
        && !regions::holds_licence(db, dealer_id, LicenceKind::PesticideBusiness, today).await?
    {
        return Err(Error::invalid(
            field,
            Code::LicenceRequired,
            "经销商没有有效的农药经营许可证",
            "the dealer has no valid pesticide business licence",
        ));
    }
    if p.category == crate::types::Category::Seed
        && !regions::holds_licence(db, dealer_id, LicenceKind::SeedBusiness, today).await?
    {
        return Err(Error::invalid(
            field,
            Code::LicenceRequired,
            "经销商没有有效的种子经营许可证",
            "the dealer has no valid seed business licence",
        ));
    }
    if !p.restricted_use {
        return Ok(());
    }
    if !regions::holds_licence(db, dealer_id, LicenceKind::RestrictedPesticide, today).await? {
        return Err(Error::invalid(
            field,
            Code::LicenceRequired,
            "经销商没有限制使用农药经营许可，不能销售该产品",
            "the dealer holds no restricted-use pesticide licence",
        ));
    }
    if !buyer_real_name {
        return Err(Error::invalid(
            "buyer.idNumber",
            Code::RealNameRequired,
            "限制使用农药实行实名购买：请提供购买人姓名、身份证号和手机号",
            "restricted-use pesticides are sold only to real-name buyers: give name, ID number and phone",
        ));
    }
    registered_use(db, p, crop, target).await
}

/// The crop and target must be a registered use of the product.
pub async fn registered_use(
    db: &impl ConnectionTrait,
    p: &product::Model,
    crop: Option<&str>,
    target: Option<&str>,
) -> Result<()> {
    let (Some(crop), Some(target)) = (
        crop.filter(|c| !c.trim().is_empty()),
        target.filter(|t| !t.trim().is_empty()),
    ) else {
        return Err(Error::invalid(
            "crop",
            Code::UnregisteredUse,
            "请填写用药作物和防治对象",
            "give the crop and the pest or disease it is for",
        ));
    };
    let code = crops::resolve(crop).unwrap_or("");
    let t = target.trim().to_lowercase();
    let uses = pesticide_use::Entity::find()
        .filter(pesticide_use::Column::ProductId.eq(p.id))
        .all(db)
        .await?;
    if !uses.iter().any(|u| {
        u.crop == code && (u.target_zh.to_lowercase() == t || u.target_en.to_lowercase() == t)
    }) {
        let registered = uses
            .iter()
            .map(|u| format!("{}/{}", u.crop, u.target_zh))
            .collect::<Vec<_>>()
            .join("、");
        return Err(Error::invalid(
            "target",
            Code::UnregisteredUse,
            format!("{crop}/{target} 不是该产品的登记用途（登记用途：{registered}）"),
            format!(
                "{crop}/{target} is not a registered use of this product (registered: {registered})"
            ),
        ));
    }
    Ok(())
}

/// Whether a buyer's real-name data is complete: an account verified, or name + valid ID + phone.
async fn real_name_ok(db: &impl ConnectionTrait, b: &Buyer) -> Result<(bool, Buyer)> {
    let mut b = b.clone();
    if let Some(u) = b.user_id {
        let user = app_user::Entity::find_by_id(u)
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "buyer.userId",
                    Code::UnknownReference,
                    "购买人账号不存在",
                    "no such buyer account",
                )
            })?;
        b.name = b
            .name
            .or(user.real_name.clone())
            .or(Some(user.display_name.clone()));
        b.phone = b.phone.or(Some(user.phone.clone()));
        b.id_number = b.id_number.or(user.id_number.clone());
        b.village_id = b.village_id.or(user.village_id);
    }
    let mut errs = Errors::new();
    if let Some(p) = &b.phone {
        b.phone = errs
            .take(Phone::parse("buyer.phone", p))
            .map(|p| p.as_str().to_owned());
    }
    if let Some(i) = &b.id_number {
        b.id_number = errs
            .take(IdNumber::parse("buyer.idNumber", i))
            .map(|i| i.as_str().to_owned());
    }
    if let Some(v) = b.village_id
        && region::Entity::find_by_id(v)
            .one(db)
            .await?
            .is_none_or(|r| r.level != crate::types::Level::Village)
    {
        errs.push(FieldError::new(
            "buyer.villageId",
            Code::WrongRegionLevel,
            "不是村级行政区",
            "not a village",
        ));
    }
    errs.finish()?;
    let ok = b.name.as_deref().is_some_and(|n| !n.trim().is_empty())
        && b.id_number.is_some()
        && b.phone.is_some();
    Ok((ok, b))
}

/// Records a walk-in sale: stock is taken from the earliest-expiring sellable lots, and the
/// sale's trace events and sales-ledger lines are written. All or nothing.
pub async fn counter_sale<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    input: CounterSaleInput,
) -> Result<(sale::Model, Vec<sale_line::Model>, Vec<DomainEvent>)> {
    actor.require(may_operate(actor, input.dealer_id))?;
    flag_resold_codes(db, input.dealer_id, &input.unit_codes).await?;
    if input.lines.is_empty() {
        return Err(Error::invalid(
            "lines",
            Code::Required,
            "至少需要一行商品",
            "at least one line is required",
        ));
    }
    let mut errs = Errors::new();
    for (i, l) in input.lines.iter().enumerate() {
        errs.take(qty(&format!("lines.{i}.quantity"), l.quantity));
        if let Some(p) = l.unit_price_fen
            && let Err(e) = Fen::parse_positive(&format!("lines.{i}.unitPriceFen"), p)
        {
            errs.push(e);
        }
    }
    errs.finish()?;
    let txn = crate::begin_write(db).await?;
    regions::dealer(&txn, input.dealer_id).await?;
    let location = match input.location_id {
        Some(l) => check_dealer_location(&txn, input.dealer_id, l, "locationId").await?,
        None => store_location(&txn, input.dealer_id).await?,
    };
    let (real_name, buyer) = real_name_ok(&txn, &input.buyer).await?;
    let now = crate::now();
    // Price and check every line before touching stock.
    let mut priced = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let field = format!("lines.{i}.skuId");
        let s = sku::Entity::find_by_id(l.sku_id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    field.clone(),
                    Code::UnknownReference,
                    "规格不存在",
                    "no such pack size",
                )
            })?;
        let p = product::Entity::find_by_id(s.product_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::not_found("product", s.product_id))?;
        check_restricted(
            &txn,
            input.dealer_id,
            &p,
            real_name,
            input.crop.as_deref(),
            input.target.as_deref(),
            &field,
        )
        .await?;
        let price = match l.unit_price_fen {
            Some(p) => p,
            None => offer::Entity::find()
                .filter(offer::Column::DealerId.eq(input.dealer_id))
                .filter(offer::Column::SkuId.eq(l.sku_id))
                .filter(offer::Column::Active.eq(true))
                .one(&txn)
                .await?
                .map(|o| o.price_fen)
                .ok_or_else(|| {
                    Error::invalid(
                        format!("lines.{i}.unitPriceFen"),
                        Code::Required,
                        "该商品没有报价，请填写单价",
                        "no offer for this pack: give the unit price",
                    )
                })?,
        };
        priced.push((i, s, price));
    }
    let sale = sale::ActiveModel {
        dealer_id: Set(input.dealer_id),
        location_id: Set(location.id),
        channel: Set(crate::types::SaleChannel::Counter),
        order_id: Set(None),
        buyer_user_id: Set(buyer.user_id),
        buyer_name: Set(buyer.name.clone().filter(|n| !n.trim().is_empty())),
        buyer_phone: Set(buyer.phone.clone()),
        buyer_id_number: Set(buyer.id_number.clone()),
        buyer_village_id: Set(buyer.village_id),
        crop: Set(input
            .crop
            .as_deref()
            .map(|c| crops::resolve(c).unwrap_or(c).to_owned())),
        target: Set(input.target.clone()),
        total_fen: Set(priced
            .iter()
            .zip(&input.lines)
            .map(|((_, _, p), l)| p * l.quantity)
            .sum()),
        actor_id: Set(actor.user_id),
        sold_at: Set(trace::micros(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // Take stock pack by pack in one global order (as checkout does), whatever the order of
    // the lines, so two sales of [A, B] and [B, A] cannot deadlock.
    priced.sort_by_key(|(i, s, _)| (s.id, *i));
    let mut allocations = Vec::new();
    for (i, s, price) in &priced {
        let q = input.lines[*i].quantity;
        match allocate_fefo(
            &txn,
            input.dealer_id,
            &[location.id],
            s.id,
            q,
            AllocMode::Take,
        )
        .await?
        {
            Ok(a) => allocations.extend(a.into_iter().map(|a| (s.clone(), *price, a))),
            Err(available) => {
                return Err(insufficient(&format!("lines.{i}.quantity"), available, q));
            }
        }
    }
    let (lines, events) =
        write_sale(&txn, actor, &sale, &buyer, &allocations, &input.unit_codes).await?;
    txn.commit().await?;
    Ok((sale, lines, events))
}

/// A sold code scanned again is flagged (a sign of counterfeits) and the sale refused. The flag
/// is written before the sale's transaction, so the refusal does not roll it back.
pub(crate) async fn flag_resold_codes(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    codes: &[String],
) -> Result<()> {
    for (i, c) in codes.iter().enumerate() {
        let Some(u) = unit_code::Entity::find()
            .filter(unit_code::Column::Code.eq(c.trim()))
            .one(db)
            .await?
        else {
            continue;
        };
        if u.status == UnitCodeStatus::Sold {
            unit_code::Entity::update_many()
                .col_expr(unit_code::Column::FlaggedAt, Expr::value(crate::now()))
                .col_expr(
                    unit_code::Column::FlagReason,
                    Expr::value(format!(
                        "售出（销售单 {sale}）后在经销商 {dealer_id} 处再次扫到 / scanned again at dealer {dealer_id} after sale {sale}",
                        sale = u.sale_id.unwrap_or(0)
                    )),
                )
                .filter(unit_code::Column::Id.eq(u.id))
                .exec(db)
                .await?;
            crate::bureau::signals::record_scan(
                db,
                &u,
                crate::bureau::signals::Scanner::DealerSale(dealer_id),
                None,
            )
            .await?;
            return Err(Error::invalid(
                format!("unitCodes.{i}"),
                Code::CodeAlreadySold,
                "该追溯码已售出，再次出现已被标记，请核查是否为假冒产品",
                "this code was already sold; it has been flagged: check for counterfeits",
            ));
        }
    }
    Ok(())
}

/// Writes what a sale leaves behind, per lot: sale lines, retail-selling trace events,
/// sales-ledger lines, and marks scanned unit codes sold. Shared by counter sales and order
/// hand-overs.
pub async fn write_sale(
    db: &impl ConnectionTrait,
    actor: &Actor,
    sale: &sale::Model,
    buyer: &Buyer,
    allocations: &[(sku::Model, i64, Allocation)],
    unit_codes: &[String],
) -> Result<(Vec<sale_line::Model>, Vec<DomainEvent>)> {
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut by_lot: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    // Scanned codes must belong to a lot being sold, and not be sold already.
    for (i, c) in unit_codes.iter().enumerate() {
        let field = format!("unitCodes.{i}");
        let u = unit_code::Entity::find()
            .filter(unit_code::Column::Code.eq(c.trim()))
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    field.clone(),
                    Code::UnknownReference,
                    "追溯码未登记",
                    "this code is not registered",
                )
            })?;
        if u.status == UnitCodeStatus::Sold {
            // Flag it outside the sale's fate: the sale fails, the flag must stay.
            unit_code::Entity::update_many()
                .col_expr(unit_code::Column::FlaggedAt, Expr::value(crate::now()))
                .col_expr(
                    unit_code::Column::FlagReason,
                    Expr::value(format!(
                        "售出（销售单 {sold}）后在经销商 {dealer} 处再次扫到 / scanned again at dealer {dealer} after sale {sold}",
                        dealer = sale.dealer_id,
                        sold = u.sale_id.unwrap_or(0)
                    )),
                )
                .filter(unit_code::Column::Id.eq(u.id))
                .exec(db)
                .await?;
            crate::bureau::signals::record_scan(
                db,
                &u,
                crate::bureau::signals::Scanner::DealerSale(sale.dealer_id),
                None,
            )
            .await?;
            return Err(Error::invalid(
                field,
                Code::CodeAlreadySold,
                "该追溯码已售出，再次出现已被标记，请核查是否为假冒产品",
                "this code was already sold; it has been flagged: check for counterfeits",
            ));
        }
        if !allocations.iter().any(|(_, _, a)| a.lot_id == u.lot_id) {
            return Err(Error::invalid(
                field,
                Code::CodeMismatch,
                "追溯码不属于本次销售的批次",
                "this code belongs to a lot not being sold",
            ));
        }
        by_lot.entry(u.lot_id).or_default().push(u.code.clone());
        // Only if it is still unsold: a sale of the same code at another dealer may have
        // committed since it was read (on PostgreSQL this waits for that sale's row lock, then
        // sees it sold and changes nothing).
        let marked = unit_code::Entity::update_many()
            .col_expr(unit_code::Column::Status, Expr::value(UnitCodeStatus::Sold))
            .col_expr(unit_code::Column::SaleId, Expr::value(sale.id))
            .filter(unit_code::Column::Id.eq(u.id))
            .filter(unit_code::Column::Status.ne(UnitCodeStatus::Sold))
            .exec(db)
            .await?;
        if marked.rows_affected != 1 {
            return Err(Error::invalid(
                field,
                Code::CodeAlreadySold,
                "该追溯码刚在别处售出，请核查是否为假冒产品",
                "this code was sold elsewhere a moment ago: check for counterfeits",
            ));
        }
    }
    let party = Counterparty {
        name: buyer.name.clone().unwrap_or_else(|| "散户 walk-in".into()),
        licence: String::new(),
        contact: buyer.phone.clone().unwrap_or_default(),
        id_number: buyer.id_number.clone().unwrap_or_default(),
    };
    for (s, price, a) in allocations {
        trace::lock_lot(db, a.lot_id).await?;
        let line = sale_line::ActiveModel {
            sale_id: Set(sale.id),
            sku_id: Set(s.id),
            lot_id: Set(a.lot_id),
            quantity: Set(a.quantity),
            unit_price_fen: Set(*price),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let mut e = NewEvent::new(
            a.lot_id,
            BizStep::RetailSelling,
            Disposition::RetailSold,
            a.quantity,
            Some(actor.user_id),
        );
        e.location_id = Some(a.location_id);
        e.dealer_id = Some(sale.dealer_id);
        e.occurred_at = sale.sold_at;
        e.ref_kind = Some(crate::types::RefKind::Sale);
        e.ref_id = Some(sale.id);
        e.unit_codes = by_lot.remove(&a.lot_id);
        let ev = trace::append(db, e).await?;
        let c = lot_context(db, a.lot_id).await?;
        let note = match (&sale.crop, &sale.target) {
            (Some(c), Some(t)) => format!("{c}/{t}"),
            _ => String::new(),
        };
        let doc = match sale.order_id {
            Some(o) => format!("ORDER-{o}"),
            None => format!("SALE-{}", sale.id),
        };
        ledger::write(
            db,
            sale.dealer_id,
            ledger::Kind::Sale,
            Some(ev.id),
            sale.sold_at,
            &snapshot(db, &c).await?,
            a.quantity,
            Fen(*price),
            &party,
            &doc,
            &note,
        )
        .await?;
        events.push(DomainEvent::StockChanged {
            dealer_id: sale.dealer_id,
            lot_id: a.lot_id,
            location_id: a.location_id,
        });
        lines.push(line);
    }
    Ok((lines, events))
}
