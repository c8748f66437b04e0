//! The stock mutations and their payloads; also the CSV row-error payload agronomy's soil import reuses.

use super::*;

#[derive(SimpleObject)]
pub struct LotPayload {
    lot: Option<Lot>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct ReceiptPayload {
    receipt: Option<Receipt>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct CsvRowError {
    /// The line in the file (the header is line 1).
    line: i32,
    /// 1-based column, when the problem is in one cell.
    column: Option<i32>,
    column_name: Option<String>,
    code: crate::graphql::errors::StockErrorCode,
    message: String,
}

#[derive(SimpleObject)]
pub struct CsvReceiptPayload {
    /// False when the file was rejected and nothing was written.
    committed: bool,
    received: Vec<Receipt>,
    lots_created: i32,
    pub row_errors: Vec<CsvRowError>,
}

#[derive(SimpleObject)]
pub struct StockPayload {
    ok: bool,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct TransferPayload {
    transfer: Option<Transfer>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct SalePayload {
    sale: Option<Sale>,
    errors: Vec<StockError>,
}

#[derive(SimpleObject)]
pub struct TraceEventPayload {
    event: Option<TraceEvent>,
    errors: Vec<StockError>,
}

pub fn csv_policy(p: CsvErrorPolicy) -> CsvPolicy {
    match p {
        CsvErrorPolicy::RejectAll => CsvPolicy::RejectAll,
        CsvErrorPolicy::SkipInvalid => CsvPolicy::SkipInvalid,
    }
}

/// Maps the domain's CSV outcome to the payload (shared with the CSV upload endpoint).
pub fn csv_payload(o: stock::CsvOutcome, l: Lang) -> CsvReceiptPayload {
    CsvReceiptPayload {
        committed: o.committed,
        lots_created: o.lots_created as i32,
        received: o.received.into_iter().map(Receipt).collect(),
        row_errors: o
            .errors
            .into_iter()
            .map(|e| CsvRowError {
                line: e.line as i32,
                column: e.column.map(|c| c as i32),
                column_name: e.column_name,
                code: e.code.into(),
                message: l.pick(&e.zh, &e.en).to_owned(),
            })
            .collect(),
    }
}

#[derive(Default)]
pub struct StockMutation;

#[Object]
impl StockMutation {
    /// Records a lot as released by its producer, with inspection and unit codes (dealers, admins).
    async fn lot_create(&self, ctx: &Context<'_>, input: LotInput) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let sku_id = parse_gid("skuId", "Sku", &input.sku_id)?;
            let producer_id = parse_gid_opt("producerId", "Producer", input.producer_id.as_ref())?;
            let li = domain::lots::LotInput {
                sku_id,
                lot_no: input.lot_no,
                producer_id,
                produced_on: input.produced_on,
                expires_on: input.expires_on,
                gtin: input.gtin,
                inspection: input.inspection.map(Into::into),
                unit_codes: input.unit_codes,
            };
            domain::lots::create_lot(db(ctx), a, li).await
        }
        .await;
        payload!(LotPayload, lot, StockError, r, l, |v| Lot(v))
    }

    /// Adds unit trace codes (32-digit pesticide codes are checked against the registration).
    async fn lot_add_unit_codes(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        codes: Vec<String>,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::lots::add_unit_codes(db(ctx), a, id, &codes).await?;
            domain::lots::lot(db(ctx), id).await
        }
        .await;
        payload!(LotPayload, lot, StockError, r, l, |v| Lot(v))
    }

    /// Records an inspection; a non-conformant result puts the lot on hold.
    async fn lot_record_inspection(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        inspection: InspectionInput,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::lots::record_inspection(db(ctx), a, id, inspection.into()).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(LotPayload, lot, StockError, r, l, |v| Lot(v))
    }

    /// Puts a lot on hold (regulators, admins).
    async fn lot_hold(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
    ) -> ApiResult<LotPayload> {
        self.hold(ctx, lot_id, reason, true).await
    }

    /// Releases a held lot (regulators, admins).
    async fn lot_release(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
    ) -> ApiResult<LotPayload> {
        self.hold(ctx, lot_id, reason, false).await
    }

    /// Recalls a lot (regulators, admins): unsellable everywhere at once; every affected dealer
    /// and buyer is notified. `recallReport` then lists holders and buyers.
    async fn lot_recall(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::workflows::recall(db(ctx), a, id, &reason).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(LotPayload, lot, StockError, r, l, |v| Lot(v))
    }

    /// Receives stock of a lot from a named supplier; writes the purchase-ledger line.
    async fn stock_receive(
        &self,
        ctx: &Context<'_>,
        input: ReceiveInput,
    ) -> ApiResult<ReceiptPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let ri = stock::ReceiptInput {
                dealer_id: dealer_gid("dealerId", &input.dealer_id)?,
                location_id: parse_gid_opt("locationId", "Location", input.location_id.as_ref())?,
                lot_id: parse_gid("lotId", "Lot", &input.lot_id)?,
                quantity: input.quantity,
                unit_cost_fen: input.unit_cost_fen,
                supplier: stock::Supplier {
                    name: input.supplier.name,
                    licence_no: input.supplier.licence_no,
                    contact: input.supplier.contact,
                },
                source_document: input.source_document,
                received_at: input.received_at,
            };
            stock::receive(db(ctx), a, ri).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(ReceiptPayload, receipt, StockError, r, l, |v| Receipt(v))
    }

    /// Receives stock from a CSV file (UTF-8, BOM or not). Columns: sku (GTIN or pack id),
    /// lot_no, produced_on, expires_on, quantity, unit_cost (yuan), supplier_name,
    /// supplier_licence_no, supplier_contact, source_document, and optionally
    /// inspection_report_no, inspection_lab, inspection_result, inspection_date (Chinese
    /// headers are accepted too). Every bad row names its line and column.
    async fn stock_receive_csv(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        csv: String,
        policy: CsvErrorPolicy,
    ) -> ApiResult<CsvReceiptPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        let (o, events) = stock::receive_csv(db(ctx), a, d, &csv, csv_policy(policy))
            .await
            .map_err(|e| to_gql(e, l))?;
        publish(ctx, events).await;
        Ok(csv_payload(o, l))
    }

    /// Corrects stock after a count, or writes off damage, with a reason.
    async fn stock_adjust(&self, ctx: &Context<'_>, input: AdjustInput) -> ApiResult<StockPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let reason = match input.reason {
                AdjustmentReason::CountCorrection => AdjustReason::CountCorrection,
                AdjustmentReason::Damage => AdjustReason::Damage,
                AdjustmentReason::Other => AdjustReason::Other,
            };
            let adj = stock::Adjustment {
                dealer_id: dealer_gid("dealerId", &input.dealer_id)?,
                location_id: parse_gid("locationId", "Location", &input.location_id)?,
                lot_id: parse_gid("lotId", "Lot", &input.lot_id)?,
                delta: input.delta,
                reason,
                note: input.note,
            };
            stock::adjust(db(ctx), a, adj).await.map(|ev| ((), ev))
        }
        .await;
        stock_payload(ctx, r, l).await
    }

    /// Ships stock to a village station the dealer serves (in transit until received).
    async fn stock_transfer_ship(
        &self,
        ctx: &Context<'_>,
        input: TransferInput,
    ) -> ApiResult<TransferPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::transfer_ship(
                db(ctx),
                a,
                dealer_gid("dealerId", &input.dealer_id)?,
                parse_gid("lotId", "Lot", &input.lot_id)?,
                parse_gid("fromLocationId", "Location", &input.from_location_id)?,
                parse_gid("toLocationId", "Location", &input.to_location_id)?,
                input.quantity,
            )
            .await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(TransferPayload, transfer, StockError, r, l, |v| Transfer(v))
    }

    async fn stock_transfer_receive(
        &self,
        ctx: &Context<'_>,
        transfer_id: ID,
    ) -> ApiResult<TransferPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::transfer_receive(
                db(ctx),
                a,
                parse_gid("transferId", "Transfer", &transfer_id)?,
            )
            .await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(TransferPayload, transfer, StockError, r, l, |v| Transfer(v))
    }

    /// A buyer returns units of a sale.
    async fn stock_return(
        &self,
        ctx: &Context<'_>,
        sale_id: ID,
        lot_id: ID,
        quantity: i64,
        reason: String,
    ) -> ApiResult<StockPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::return_from_buyer(
                db(ctx),
                a,
                parse_gid("saleId", "Sale", &sale_id)?,
                parse_gid("lotId", "Lot", &lot_id)?,
                quantity,
                &reason,
            )
            .await
            .map(|ev| ((), ev))
        }
        .await;
        stock_payload(ctx, r, l).await
    }

    /// Destroys or writes off stock, with a reason.
    async fn stock_destroy(
        &self,
        ctx: &Context<'_>,
        input: DestroyInput,
    ) -> ApiResult<StockPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::destroy(
                db(ctx),
                a,
                dealer_gid("dealerId", &input.dealer_id)?,
                parse_gid("locationId", "Location", &input.location_id)?,
                parse_gid("lotId", "Lot", &input.lot_id)?,
                input.quantity,
                &input.reason,
            )
            .await
            .map(|ev| ((), ev))
        }
        .await;
        stock_payload(ctx, r, l).await
    }

    /// Records a walk-in sale: earliest-expiring sellable lots first; trace events and
    /// sales-ledger lines are written. Restricted-use pesticides need a real-name buyer, a
    /// licensed dealer and a registered crop/target.
    async fn counter_sale(
        &self,
        ctx: &Context<'_>,
        input: CounterSaleInput,
    ) -> ApiResult<SalePayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let mut lines = Vec::new();
            for (i, line) in input.lines.iter().enumerate() {
                lines.push(stock::SaleLineInput {
                    sku_id: parse_gid(&format!("lines.{i}.skuId"), "Sku", &line.sku_id)?,
                    quantity: line.quantity,
                    unit_price_fen: line.unit_price_fen,
                });
            }
            let buyer = match input.buyer {
                Some(b) => stock::Buyer {
                    user_id: parse_gid_opt("buyer.userId", "User", b.user_id.as_ref())?,
                    name: b.name.filter(|n| !n.trim().is_empty()),
                    phone: b.phone.filter(|p| !p.trim().is_empty()),
                    id_number: b.id_number.filter(|i| !i.trim().is_empty()),
                    village_id: parse_gid_opt("buyer.villageId", "Region", b.village_id.as_ref())?,
                },
                None => stock::Buyer::default(),
            };
            let si = stock::CounterSaleInput {
                dealer_id: dealer_gid("dealerId", &input.dealer_id)?,
                location_id: parse_gid_opt("locationId", "Location", input.location_id.as_ref())?,
                lines,
                buyer,
                crop: input.crop,
                target: input.target,
                unit_codes: input.unit_codes,
            };
            stock::counter_sale(db(ctx), a, si)
                .await
                .map(|(s, lines, ev)| ((s, lines), ev))
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(SalePayload, sale, StockError, r, l, |v| Sale(v.0, v.1))
    }

    /// Declares an earlier trace event wrong (a new event points at it; nothing is edited).
    async fn trace_event_correct(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        reason: String,
    ) -> ApiResult<TraceEventPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            stock::declare_error(
                db(ctx),
                a,
                parse_gid("eventId", "TraceEvent", &event_id)?,
                &reason,
            )
            .await
        }
        .await;
        payload!(TraceEventPayload, event, StockError, r, l, |v| TraceEvent(
            v
        ))
    }

    /// Marks the caller's notifications read; returns how many changed.
    async fn notifications_mark_read(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<i32> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let ids = ids
            .iter()
            .enumerate()
            .map(|(i, id)| parse_gid(&format!("ids.{i}"), "Notification", id))
            .collect::<domain::Result<Vec<_>>>()
            .map_err(|e| to_gql(e, l))?;
        Ok(domain::notify::mark_read(db(ctx), a.user_id, &ids)
            .await
            .map_err(|e| to_gql(e, l))? as i32)
    }
}

impl StockMutation {
    async fn hold(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
        reason: String,
        hold: bool,
    ) -> ApiResult<LotPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("lotId", "Lot", &lot_id)?;
            domain::lots::set_hold(db(ctx), a, id, hold, &reason).await
        }
        .await;
        let r = publish_ok(ctx, r).await;
        payload!(LotPayload, lot, StockError, r, l, |v| Lot(v))
    }
}

async fn stock_payload(
    ctx: &Context<'_>,
    r: domain::Result<((), Vec<domain::events::DomainEvent>)>,
    l: Lang,
) -> ApiResult<StockPayload> {
    let r = publish_ok(ctx, r).await;
    payload!(StockPayload, StockError, r, l, |()| { ok: true } else { ok: false })
}
