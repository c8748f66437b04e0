//! The stock queries: lots, stock, the trace log, recalls, ledgers, sales and notifications.

use super::*;

#[derive(Default)]
pub struct StockQuery;

#[Object]
impl StockQuery {
    async fn lot(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Lot> {
        actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("id", "Lot", &id).map_err(|e| to_gql(e, l))?;
        domain::lots::lot(db(ctx), id)
            .await
            .map(Lot)
            .map_err(|e| to_gql(e, l))
    }

    /// Lots of a pack size, newest first (signed-in users).
    async fn lots(&self, ctx: &Context<'_>, sku_id: ID) -> ApiResult<Vec<Lot>> {
        actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("skuId", "Sku", &sku_id).map_err(|e| to_gql(e, l))?;
        Ok(domain::lots::lots_of(db(ctx), &[id])
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Lot)
            .collect())
    }

    /// A dealer's stock by product and lot, with expiry (staff, admins, the county's regulators).
    async fn stock(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        product_id: Option<ID>,
    ) -> ApiResult<Vec<StockRow>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let d = dealer_gid("dealerId", &dealer_id)?;
            let p = parse_gid_opt("productId", "Product", product_id.as_ref())?;
            stock::stock_of_dealer(db(ctx), a, d, p).await
        }
        .await;
        Ok(r.map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(StockRow)
            .collect())
    }

    /// Stock expiring within `days` (or already expired), soonest first.
    async fn near_expiry(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default = 30)] days: i32,
    ) -> ApiResult<Vec<StockRow>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(stock::near_expiry(db(ctx), a, d, i64::from(days))
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(StockRow)
            .collect())
    }

    /// Offered pack sizes whose sellable available stock is below `threshold`.
    async fn low_stock(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default = 5)] threshold: i32,
    ) -> ApiResult<Vec<LowStockRow>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(stock::low_stock(db(ctx), a, d, i64::from(threshold))
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(|r| LowStockRow {
                sku: Sku(r.sku),
                product: Product(r.product),
                available: r.available,
                threshold: r.threshold,
            })
            .collect())
    }

    async fn transfers(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default)] in_transit_only: bool,
    ) -> ApiResult<Vec<Transfer>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(stock::transfers_of(db(ctx), a, d, in_transit_only)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(Transfer)
            .collect())
    }

    /// A dealer's recent sales, newest first.
    async fn sales(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        #[graphql(default = 50)] first: i32,
    ) -> ApiResult<Vec<Sale>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        let sales = stock::sales_with_lines(db(ctx), a, d, first.clamp(1, 200) as u64)
            .await
            .map_err(|e| to_gql(e, l))?;
        // Every relation the query selects, loaded for the whole page (one statement each),
        // so the statement count does not depend on how resolvers interleave.
        let node = ctx.look_ahead();
        if node.field("dealer").exists() {
            prefetch(ctx, sales.iter().map(|(s, _)| DealerKey(s.dealer_id))).await?;
        }
        let lines = node.field("lines");
        let all_lines = || sales.iter().flat_map(|(_, lines)| lines);
        if lines.field("sku").exists() {
            prefetch(ctx, all_lines().map(|l| SkuKey(l.sku_id))).await?;
        }
        if lines.field("lot").exists() {
            prefetch(ctx, all_lines().map(|l| LotKey(l.lot_id))).await?;
        }
        Ok(sales.into_iter().map(|(s, lines)| Sale(s, lines)).collect())
    }

    /// The public history of a bag, by the code on its label (a lot's trace code, a unit code,
    /// or GS1 data). No login needed; never shows a buyer. Rate limited per client address.
    async fn trace(&self, ctx: &Context<'_>, code: String) -> ApiResult<Option<PublicTrace>> {
        let l = lang(ctx);
        let s = services(ctx);
        s.limiter
            .hit(
                &format!("trace:ip:{}", req(ctx).client_ip),
                s.config.trace_limit_per_minute,
                std::time::Duration::from_secs(60),
            )
            .await
            .map_err(|r| {
                to_gql(
                    Error::RateLimited {
                        retry_after_secs: r.0.as_secs().max(1),
                    },
                    l,
                )
            })?;
        Ok(trace::public_trace(db(ctx), &code)
            .await
            .map_err(|e| to_gql(e, l))?
            .map(|t| PublicTrace::from_domain(t, l)))
    }

    /// Recomputes a lot's hash chain: a row edited behind the API's back fails here.
    async fn trace_verify(&self, ctx: &Context<'_>, lot_id: ID) -> ApiResult<TraceVerification> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("lotId", "Lot", &lot_id).map_err(|e| to_gql(e, l))?;
        let v = trace::verify(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?;
        Ok(TraceVerification {
            ok: v.ok,
            events_checked: v.events_checked as i32,
            first_bad_seq: v.first_bad_seq,
            reason: v.reason,
        })
    }

    /// Every holder and buyer of a lot, and the chain back to the producer (regulators, admins).
    async fn recall_report(&self, ctx: &Context<'_>, lot_id: ID) -> ApiResult<RecallReport> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("lotId", "Lot", &lot_id).map_err(|e| to_gql(e, l))?;
        Ok(RecallReport::from_domain(
            trace::recall_report(db(ctx), a, id)
                .await
                .map_err(|e| to_gql(e, l))?,
            l,
        ))
    }

    /// Whom a recall of the lot would reach now: ask before `lotRecall` (regulators, admins).
    async fn recall_reach(&self, ctx: &Context<'_>, lot_id: ID) -> ApiResult<RecallReach> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("lotId", "Lot", &lot_id).map_err(|e| to_gql(e, l))?;
        Ok(domain::bureau::lots::reach(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?
            .into())
    }

    /// A recalled lot's progress: units still out, notices read, buyers nobody can tell; null
    /// when the lot is not recalled (regulators, admins).
    async fn recall_progress(
        &self,
        ctx: &Context<'_>,
        lot_id: ID,
    ) -> ApiResult<Option<RecallProgress>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("lotId", "Lot", &lot_id).map_err(|e| to_gql(e, l))?;
        Ok(domain::bureau::lots::dossier(db(ctx), a, id)
            .await
            .map_err(|e| to_gql(e, l))?
            .progress
            .map(Into::into))
    }

    /// A dealer's purchase or sales ledger for a date range (local dates, inclusive). The same
    /// as CSV: `GET /dealers/{dealerId}/ledger.csv?kind=PURCHASE&from=...&to=...`.
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        kind: LedgerKind,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ApiResult<Vec<LedgerLine>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = dealer_gid("dealerId", &dealer_id).map_err(|e| to_gql(e, l))?;
        Ok(ledger::lines(db(ctx), a, d, kind.into(), from, to)
            .await
            .map_err(|e| to_gql(e, l))?
            .into_iter()
            .map(LedgerLine)
            .collect())
    }

    /// The caller's notifications, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] unread_only: bool,
        #[graphql(default = 50)] first: i32,
    ) -> ApiResult<Vec<Notification>> {
        let a = actor(ctx)?;
        let rows =
            domain::notify::for_user(db(ctx), a.user_id, unread_only, first.clamp(1, 200) as u64)
                .await
                .map_err(|e| to_gql(e, lang(ctx)))?;
        Ok(rows.into_iter().map(Notification).collect())
    }

    /// Reads GS1 data off a scanned label: `(01)...(10)...(17)...`, raw, or a Digital Link.
    async fn gs1_parse(&self, ctx: &Context<'_>, text: String) -> ApiResult<Gs1Parsed> {
        let d = domain::lots::gs1::parse(&text)
            .map_err(|e| to_gql(Error::Invalid(vec![e]), lang(ctx)))?;
        Ok(Gs1Parsed {
            gtin: d.gtin,
            lot: d.lot,
            produced_on: d.produced_on,
            expires_on: d.expires_on,
        })
    }
}
