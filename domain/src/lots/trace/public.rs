//! The public view of a bag's history (never a buyer), found from any code printed on it.

use super::*;

/// One step of a lot's public custody chain.
#[derive(Clone, Debug, Serialize)]
pub struct CustodyStep {
    pub seq: i64,
    pub biz_step: BizStep,
    pub disposition: Disposition,
    pub occurred_at: DateTime<Utc>,
    /// DEALER_STORE, STATION or PRODUCER.
    pub place_kind: Option<LocationKind>,
    pub place_zh: Option<String>,
    pub place_en: Option<String>,
    pub quantity: i64,
    pub corrected: bool,
}

/// What anyone who scans a bag may see: product, registration, producer, lot, dates, inspection,
/// custody (which dealers and stations, when) and disposition. Never a buyer.
#[derive(Clone, Debug, Serialize)]
pub struct PublicTrace {
    pub lot_id: i64,
    pub trace_code: String,
    pub product_id: i64,
    pub product_zh: String,
    pub product_en: String,
    pub category: crate::types::Category,
    pub registration_no: Option<String>,
    pub pack: String,
    pub producer_zh: String,
    pub producer_en: String,
    pub producer_licence: Option<String>,
    pub lot_no: String,
    pub produced_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub inspection_result: Option<crate::types::InspectionResult>,
    pub inspection_report_no: Option<String>,
    pub inspection_lab: Option<String>,
    pub inspection_date: Option<NaiveDate>,
    pub disposition: LotState,
    pub disposition_reason: Option<String>,
    pub custody: Vec<CustodyStep>,
    /// Set when the code scanned was one unit's code.
    pub unit_code: Option<String>,
    pub unit_status: Option<UnitCodeStatus>,
    /// A code already sold that turned up again.
    pub unit_flagged: bool,
}

/// Finds a lot by its trace code, a unit code, or GS1 data (GTIN + lot).
pub async fn resolve_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<(lot::Model, Option<unit_code::Model>)>> {
    let c = code.trim();
    if let Some(l) = lot::Entity::find()
        .filter(lot::Column::TraceCode.eq(c.to_ascii_uppercase()))
        .one(db)
        .await?
    {
        return Ok(Some((l, None)));
    }
    if let Some(u) = unit_code::Entity::find()
        .filter(unit_code::Column::Code.eq(c))
        .one(db)
        .await?
    {
        let l = lot::Entity::find_by_id(u.lot_id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("lot", u.lot_id))?;
        return Ok(Some((l, Some(u))));
    }
    if let Ok(g) = crate::lots::gs1::parse(c)
        && let (Some(gtin), Some(lot_no)) = (g.gtin, g.lot)
    {
        let by_lot_gtin = lot::Entity::find()
            .filter(lot::Column::Gtin.eq(gtin.clone()))
            .filter(lot::Column::LotNo.eq(lot_no.clone()))
            .one(db)
            .await?;
        if let Some(l) = by_lot_gtin {
            return Ok(Some((l, None)));
        }
        let skus: Vec<i64> = sku::Entity::find()
            .filter(sku::Column::Gtin.eq(gtin))
            .all(db)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        if let Some(l) = lot::Entity::find()
            .filter(lot::Column::SkuId.is_in(skus))
            .filter(lot::Column::LotNo.eq(lot_no))
            .one(db)
            .await?
        {
            return Ok(Some((l, None)));
        }
    }
    Ok(None)
}

pub async fn public_trace(db: &impl ConnectionTrait, code: &str) -> Result<Option<PublicTrace>> {
    let Some((l, unit)) = resolve_code(db, code).await? else {
        return Ok(None);
    };
    public_trace_of(db, l, unit).await.map(Some)
}

/// The public view of one lot (and of the unit whose code was scanned, if one was).
pub async fn public_trace_of(
    db: &impl ConnectionTrait,
    l: lot::Model,
    unit: Option<unit_code::Model>,
) -> Result<PublicTrace> {
    let s = sku::Entity::find_by_id(l.sku_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("sku", l.sku_id))?;
    let p = product::Entity::find_by_id(s.product_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("product", s.product_id))?;
    let prod = producer::Entity::find_by_id(l.producer_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("producer", l.producer_id))?;
    let events = events_of(db, l.id).await?;
    let corrected: BTreeSet<i64> = events.iter().filter_map(|e| e.corrects_event_id).collect();
    let mut place_ids: BTreeSet<i64> = events
        .iter()
        .filter_map(|e| e.to_location_id.or(e.location_id))
        .collect();
    place_ids.extend(events.iter().filter_map(|e| e.from_location_id));
    let names = location_names(db, &place_ids).await?;
    let name = |id: Option<i64>| id.and_then(|id| names.get(&id));
    let custody: Vec<CustodyStep> = events
        .iter()
        .map(|e| {
            // A sale shows where it was sold, never to whom. A move shows both ends.
            let to = name(e.to_location_id.or(e.location_id));
            let (zh, en) = match (name(e.from_location_id), to) {
                (Some(f), Some(t)) => (
                    Some(format!("{} → {}", f.1, t.1)),
                    Some(format!("{} → {}", f.2, t.2)),
                ),
                (_, Some(t)) => (Some(t.1.clone()), Some(t.2.clone())),
                _ => (None, None),
            };
            CustodyStep {
                seq: e.seq,
                biz_step: e.biz_step,
                disposition: e.disposition,
                occurred_at: e.occurred_at,
                place_kind: to.map(|p| p.0),
                place_zh: zh,
                place_en: en,
                quantity: e.quantity,
                corrected: corrected.contains(&e.id),
            }
        })
        .collect();
    let today = crate::today();
    Ok(PublicTrace {
        lot_id: l.id,
        trace_code: l.trace_code.clone(),
        product_id: p.id,
        product_zh: p.name_zh,
        product_en: p.name_en,
        category: p.category,
        registration_no: p.registration_no,
        pack: crate::catalog::pack_label(&s),
        producer_zh: prod.name_zh,
        producer_en: prod.name_en,
        producer_licence: prod.licence_no,
        lot_no: l.lot_no.clone(),
        produced_on: l.produced_on,
        expires_on: l.expires_on,
        inspection_result: l.inspection_result,
        inspection_report_no: l.inspection_report_no.clone(),
        inspection_lab: l.inspection_lab.clone(),
        inspection_date: l.inspection_date,
        disposition: disposition_of(&l, today),
        disposition_reason: l.status_reason.clone(),
        custody,
        unit_flagged: unit.as_ref().is_some_and(|u| u.flagged_at.is_some()),
        unit_status: unit.as_ref().map(|u| u.status),
        unit_code: unit.map(|u| u.code),
    })
}
