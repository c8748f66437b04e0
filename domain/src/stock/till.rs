//! The till: items found by name or scanned code, the sale receipt and the lot label.

use super::*;

/// A pack as the till shows it: what is sellable of it in the dealer's store and its price.
#[derive(Clone, Debug)]
pub struct TillItem {
    pub sku: sku::Model,
    pub product: product::Model,
    /// Sellable units in the dealer's store (all lots).
    pub available: i64,
    /// The dealer's active offer, if any.
    pub price_fen: Option<i64>,
    /// The lot the scanned code named.
    pub lot: Option<lot::Model>,
    /// The unit code scanned, when the code was one unit's.
    pub unit_code: Option<String>,
}

async fn till_items(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<TillItem>> {
    let rows = stock_of_dealer(db, actor, dealer_id, None).await?;
    let store = store_location(db, dealer_id).await?;
    let offers: BTreeMap<i64, i64> = offer::Entity::find()
        .filter(offer::Column::DealerId.eq(dealer_id))
        .filter(offer::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.sku_id, o.price_fen))
        .collect();
    let mut by_sku: BTreeMap<i64, TillItem> = BTreeMap::new();
    for r in rows {
        let sellable = r.disposition == LotState::Sellable && r.location.id == store.id;
        let e = by_sku.entry(r.sku.id).or_insert_with(|| TillItem {
            price_fen: offers.get(&r.sku.id).copied(),
            sku: r.sku.clone(),
            product: r.product.clone(),
            available: 0,
            lot: None,
            unit_code: None,
        });
        if sellable {
            e.available += r.stock.on_hand - r.stock.reserved;
        }
    }
    Ok(by_sku.into_values().collect())
}

/// The packs of the dealer's own stock or offers whose product name, registration number or
/// barcode matches `q` (what the till's search finds), sellable first.
pub async fn till_search(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    q: &str,
) -> Result<Vec<TillItem>> {
    actor.require(may_operate(actor, dealer_id))?;
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return Ok(vec![]);
    }
    let mut items: Vec<TillItem> = till_items(db, actor, dealer_id)
        .await?
        .into_iter()
        .filter(|i| {
            i.product.name_zh.to_lowercase().contains(&q)
                || i.product.name_en.to_lowercase().contains(&q)
                || i.product
                    .registration_no
                    .as_deref()
                    .is_some_and(|r| r.to_lowercase().contains(&q))
                || i.sku.gtin.as_deref() == Some(q.as_str())
        })
        .collect();
    items.sort_by_key(|i| (i.available == 0, i.product.name_zh.clone(), i.sku.id));
    items.truncate(20);
    Ok(items)
}

/// The pack a scanned code names at the till: a lot's trace code, a unit code, GS1 data
/// (GTIN + lot, or a bare GTIN) or a pack barcode. `None` when the code names nothing this
/// dealer holds.
pub async fn till_code(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    code: &str,
) -> Result<Option<TillItem>> {
    actor.require(may_operate(actor, dealer_id))?;
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let (sku_id, lot, unit) = match trace::resolve_code(db, code).await? {
        Some((l, u)) => (l.sku_id, Some(l), u.map(|u| u.code)),
        None => {
            let gtin = crate::lots::gs1::parse(code)
                .ok()
                .and_then(|g| g.gtin)
                .or_else(|| {
                    Gtin::parse("code", code)
                        .ok()
                        .map(|g| g.as_str().to_owned())
                });
            match gtin {
                Some(g) => match crate::catalog::pack_by_gtin(db, &g).await? {
                    Some(s) => (s.id, None, None),
                    None => return Ok(None),
                },
                None => return Ok(None),
            }
        }
    };
    let Some(mut item) = till_items(db, actor, dealer_id)
        .await?
        .into_iter()
        .find(|i| i.sku.id == sku_id)
    else {
        return Ok(None);
    };
    item.lot = lot;
    item.unit_code = unit;
    Ok(Some(item))
}

/// A pack of the dealer's store by its id (the till's draft sale names packs by id).
pub async fn till_item(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    sku_id: i64,
) -> Result<Option<TillItem>> {
    actor.require(may_operate(actor, dealer_id))?;
    Ok(till_items(db, actor, dealer_id)
        .await?
        .into_iter()
        .find(|i| i.sku.id == sku_id))
}

/// A sale line as its receipt shows it.
#[derive(Clone, Debug)]
pub struct ReceiptLine {
    pub line: sale_line::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    pub lot: lot::Model,
    /// Unit codes of this lot handed over in the sale.
    pub unit_codes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct SaleReceipt {
    pub sale: sale::Model,
    pub dealer: crate::entities::dealer::Model,
    pub licences: Vec<crate::entities::licence::Model>,
    pub lines: Vec<ReceiptLine>,
}

/// A sale with what its receipt prints. Only the dealer's own staff (or an admin) may read it;
/// anyone else is told it does not exist.
pub async fn sale_receipt(
    db: &impl ConnectionTrait,
    actor: &Actor,
    sale_id: i64,
) -> Result<SaleReceipt> {
    let s = sale::Entity::find_by_id(sale_id)
        .one(db)
        .await?
        .filter(|s| may_operate(actor, s.dealer_id))
        .ok_or_else(|| Error::not_found("sale", sale_id))?;
    let dealer = regions::dealer(db, s.dealer_id).await?;
    let today = crate::today();
    let licences = regions::licences_of(db, &[s.dealer_id])
        .await?
        .into_iter()
        .filter(|l| l.valid_from <= today && l.valid_to >= today)
        .collect();
    let codes = unit_code::Entity::find()
        .filter(unit_code::Column::SaleId.eq(s.id))
        .order_by_asc(unit_code::Column::Id)
        .all(db)
        .await?;
    let mut lines = Vec::new();
    for l in sale_lines_of(db, s.id).await? {
        let lt = lot(db, l.lot_id).await?;
        let sk = crate::catalog::sku(db, l.sku_id).await?;
        let p = crate::catalog::product(db, sk.product_id).await?;
        let unit_codes = codes
            .iter()
            .filter(|c| c.lot_id == lt.id)
            .map(|c| c.code.clone())
            .collect();
        lines.push(ReceiptLine {
            line: l,
            sku: sk,
            product: p,
            lot: lt,
            unit_codes,
        });
    }
    Ok(SaleReceipt {
        sale: s,
        dealer,
        licences,
        lines,
    })
}

/// A lot as its shelf label prints it.
#[derive(Clone, Debug)]
pub struct LotLabel {
    pub lot: lot::Model,
    pub sku: sku::Model,
    pub product: product::Model,
    pub producer_name: String,
    /// Units the dealer received of it.
    pub received: i64,
}

/// A lot the dealer has received, for its labels. A lot the dealer never received is not
/// theirs to label: not found.
pub async fn lot_label(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    lot_id: i64,
) -> Result<LotLabel> {
    actor.require(may_operate(actor, dealer_id))?;
    let receipts = stock_receipt::Entity::find()
        .filter(stock_receipt::Column::DealerId.eq(dealer_id))
        .filter(stock_receipt::Column::LotId.eq(lot_id))
        .all(db)
        .await?;
    if receipts.is_empty() {
        return Err(Error::not_found("lot", lot_id));
    }
    let l = lot(db, lot_id).await?;
    let s = crate::catalog::sku(db, l.sku_id).await?;
    let p = crate::catalog::product(db, s.product_id).await?;
    let producer_name = producer::Entity::find_by_id(l.producer_id)
        .one(db)
        .await?
        .map(|p| p.name_zh)
        .unwrap_or_default();
    Ok(LotLabel {
        received: receipts.iter().map(|r| r.quantity).sum(),
        lot: l,
        sku: s,
        product: p,
        producer_name,
    })
}
