//! The recall report: every holder, every buyer, and the chain back to the producer.

use super::*;

/// A current holder of a recalled lot.
#[derive(Clone, Debug, Serialize)]
pub struct Holder {
    pub dealer_id: i64,
    pub dealer_zh: String,
    pub dealer_en: String,
    pub dealer_phone: String,
    pub location_id: i64,
    pub location_zh: String,
    pub location_en: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// Units shipped towards this location and not yet received.
    pub in_transit: i64,
}

/// A buyer of a lot (recall reports only; restricted to regulators and admins).
#[derive(Clone, Debug, Serialize)]
pub struct Buyer {
    pub sale_id: i64,
    pub user_id: Option<i64>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub village_zh: Option<String>,
    pub village_en: Option<String>,
    pub dealer_zh: String,
    pub dealer_en: String,
    pub quantity: i64,
    pub sold_at: DateTime<Utc>,
}

/// A step back towards the producer.
#[derive(Clone, Debug, Serialize)]
pub struct Upstream {
    pub biz_step: BizStep,
    pub occurred_at: DateTime<Utc>,
    pub quantity: i64,
    pub party_zh: String,
    pub party_en: String,
    pub licence: Option<String>,
    pub document: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecallReport {
    pub lot: lot::Model,
    pub product_zh: String,
    pub product_en: String,
    pub holders: Vec<Holder>,
    pub buyers: Vec<Buyer>,
    pub backward: Vec<Upstream>,
}

/// For regulators and admins.
pub async fn recall_report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    lot_id: i64,
) -> Result<RecallReport> {
    actor.require(crate::accounts::is_regulator_or_admin(actor))?;
    let l = lot::Entity::find_by_id(lot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("lot", lot_id))?;
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;

    let stocks = stock::Entity::find()
        .filter(stock::Column::LotId.eq(lot_id))
        .all(db)
        .await?;
    let transfers = transfer::Entity::find()
        .filter(transfer::Column::LotId.eq(lot_id))
        .filter(transfer::Column::Status.eq(TransferStatus::InTransit))
        .all(db)
        .await?;
    let mut loc_ids: BTreeSet<i64> = stocks.iter().map(|s| s.location_id).collect();
    loc_ids.extend(transfers.iter().map(|t| t.to_location_id));
    let names = location_names(db, &loc_ids).await?;
    let mut dealer_ids: BTreeSet<i64> = stocks.iter().map(|s| s.dealer_id).collect();
    dealer_ids.extend(transfers.iter().map(|t| t.dealer_id));
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::LotId.eq(lot_id))
        .order_by_asc(sale_line::Column::Id)
        .all(db)
        .await?;
    let sale_rows = crate::rows_by_id!(db, sale, lines.iter().map(|l| l.sale_id));
    let sales: Vec<(sale_line::Model, Option<sale::Model>)> = lines
        .into_iter()
        .map(|l| {
            let s = sale_rows.get(&l.sale_id).cloned();
            (l, s)
        })
        .collect();
    dealer_ids.extend(
        sales
            .iter()
            .filter_map(|(_, s)| s.as_ref().map(|s| s.dealer_id)),
    );
    let dealers = crate::rows_by_id!(db, dealer, dealer_ids.iter().copied());

    let mut holders: BTreeMap<(i64, i64), Holder> = BTreeMap::new();
    let holder = |dealer_id: i64, location_id: i64| {
        let d = dealers.get(&dealer_id);
        let n = names.get(&location_id);
        Holder {
            dealer_id,
            dealer_zh: d.map(|d| d.name_zh.clone()).unwrap_or_default(),
            dealer_en: d.map(|d| d.name_en.clone()).unwrap_or_default(),
            dealer_phone: d.map(|d| d.phone.clone()).unwrap_or_default(),
            location_id,
            location_zh: n.map(|n| n.1.clone()).unwrap_or_default(),
            location_en: n.map(|n| n.2.clone()).unwrap_or_default(),
            on_hand: 0,
            reserved: 0,
            in_transit: 0,
        }
    };
    for s in &stocks {
        if s.on_hand > 0 {
            let h = holders
                .entry((s.dealer_id, s.location_id))
                .or_insert_with(|| holder(s.dealer_id, s.location_id));
            h.on_hand += s.on_hand;
            h.reserved += s.reserved;
        }
    }
    for t in &transfers {
        holders
            .entry((t.dealer_id, t.to_location_id))
            .or_insert_with(|| holder(t.dealer_id, t.to_location_id))
            .in_transit += t.quantity;
    }

    let village_ids: BTreeSet<i64> = sales
        .iter()
        .filter_map(|(_, s)| s.as_ref().and_then(|s| s.buyer_village_id))
        .collect();
    let villages = crate::rows_by_id!(db, region, village_ids.iter().copied());
    let buyers = sales
        .iter()
        .filter_map(|(line, s)| {
            let s = s.as_ref()?;
            let v = s.buyer_village_id.and_then(|v| villages.get(&v));
            let d = dealers.get(&s.dealer_id);
            Some(Buyer {
                sale_id: s.id,
                user_id: s.buyer_user_id,
                name: s.buyer_name.clone(),
                phone: s.buyer_phone.clone(),
                village_zh: v.map(|v| v.name_zh.clone()),
                village_en: v.map(|v| v.name_en.clone()),
                dealer_zh: d.map(|d| d.name_zh.clone()).unwrap_or_default(),
                dealer_en: d.map(|d| d.name_en.clone()).unwrap_or_default(),
                quantity: line.quantity,
                sold_at: s.sold_at,
            })
        })
        .collect();

    // Backward: receipts (who supplied it, with what licence and document), then the producer.
    let mut backward = Vec::new();
    let receipts = stock_receipt::Entity::find()
        .filter(stock_receipt::Column::LotId.eq(lot_id))
        .order_by_asc(stock_receipt::Column::Id)
        .all(db)
        .await?;
    for r in receipts {
        let d = dealers.get(&r.dealer_id);
        backward.push(Upstream {
            biz_step: BizStep::Receiving,
            occurred_at: r.received_at,
            quantity: r.quantity,
            party_zh: format!(
                "{} ← {}",
                d.map(|d| d.name_zh.as_str()).unwrap_or(""),
                r.supplier_name
            ),
            party_en: format!(
                "{} ← {}",
                d.map(|d| d.name_en.as_str()).unwrap_or(""),
                r.supplier_name
            ),
            licence: Some(r.supplier_licence_no),
            document: Some(r.source_document),
        });
    }
    let prod = producer::Entity::find_by_id(l.producer_id).one(db).await?;
    if let Some(first) = events_of(db, lot_id)
        .await?
        .into_iter()
        .find(|e| e.biz_step == BizStep::Commissioning)
    {
        backward.push(Upstream {
            biz_step: BizStep::Commissioning,
            occurred_at: first.occurred_at,
            quantity: first.quantity,
            party_zh: prod.as_ref().map(|p| p.name_zh.clone()).unwrap_or_default(),
            party_en: prod.as_ref().map(|p| p.name_en.clone()).unwrap_or_default(),
            licence: prod.as_ref().and_then(|p| p.licence_no.clone()),
            document: l.inspection_report_no.clone(),
        });
    }
    Ok(RecallReport {
        product_zh: p.name_zh,
        product_en: p.name_en,
        lot: l,
        holders: holders.into_values().collect(),
        buyers,
        backward,
    })
}

/// Users of every dealer that holds or sold the lot, and buyers with accounts.
pub async fn affected_parties(
    db: &impl ConnectionTrait,
    lot_id: i64,
) -> Result<(Vec<i64>, Vec<i64>)> {
    let mut dealers: BTreeSet<i64> = stock::Entity::find()
        .filter(stock::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.dealer_id)
        .collect();
    let sale_ids: Vec<i64> = sale_line::Entity::find()
        .filter(sale_line::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.sale_id)
        .collect();
    let sales = sale::Entity::find()
        .filter(sale::Column::Id.is_in(sale_ids))
        .all(db)
        .await?;
    dealers.extend(sales.iter().map(|s| s.dealer_id));
    let mut users: BTreeSet<i64> = sales.iter().filter_map(|s| s.buyer_user_id).collect();
    let dealer_users = crate::entities::app_user::Entity::find()
        .filter(crate::entities::app_user::Column::DealerId.is_in(dealers.iter().copied()))
        .all(db)
        .await?;
    users.extend(dealer_users.into_iter().map(|u| u.id));
    Ok((dealers.into_iter().collect(), users.into_iter().collect()))
}
