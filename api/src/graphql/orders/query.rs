//! The order queries: the cart, the farmer's and the dealer's orders, credit accounts, fields.

use super::*;

/// Loads every relation the query selects for a whole list of orders, one statement per
/// relation, so a page of 12 orders costs what a page of 2 does.
async fn prefetch_orders(ctx: &Context<'_>, rows: &[customer_order::Model]) -> ApiResult<()> {
    let node = ctx.look_ahead();
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    if node.field("dealer").exists() {
        prefetch(ctx, rows.iter().map(|o| DealerKey(o.dealer_id))).await?;
    }
    if node.field("station").exists() {
        prefetch(
            ctx,
            rows.iter().filter_map(|o| o.station_id).map(StationKey),
        )
        .await?;
    }
    if node.field("field").exists() {
        prefetch(ctx, rows.iter().filter_map(|o| o.field_id).map(FieldKey)).await?;
    }
    if node.field("history").exists() {
        prefetch(ctx, ids.iter().map(|i| EventsOfOrder(*i))).await?;
    }
    if node.field("payments").exists() {
        prefetch(ctx, ids.iter().map(|i| PaymentsOfOrder(*i))).await?;
    }
    let lines = node.field("lines");
    if lines.exists() {
        let by_order = prefetch(ctx, ids.iter().map(|i| LinesOfOrder(*i))).await?;
        let allocations = lines.field("allocations");
        if allocations.exists() {
            let line_ids: Vec<i64> = by_order.values().flatten().map(|l| l.id).collect();
            let by_line = prefetch(ctx, line_ids.into_iter().map(AllocationsOfLine)).await?;
            if allocations.field("lot").exists() {
                prefetch(ctx, by_line.values().flatten().map(|a| LotKey(a.lot_id))).await?;
            }
        }
    }
    Ok(())
}

pub(crate) async fn load_cart(ctx: &Context<'_>) -> ApiResult<Cart> {
    let a = actor(ctx)?;
    let lines = orders::cart(db(ctx), a)
        .await
        .map_err(|e| to_gql(e, lang(ctx)))?;
    Ok(Cart {
        total_fen: lines.iter().map(|l| l.subtotal_fen()).sum(),
        has_problems: lines.iter().any(|l| !l.problems.is_empty()),
        lines: lines.into_iter().map(CartLine).collect(),
    })
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// The farmer's cart, kept on the server.
    async fn cart(&self, ctx: &Context<'_>) -> ApiResult<Cart> {
        load_cart(ctx).await
    }

    /// The farmer's orders, newest first, with their history.
    async fn my_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        #[graphql(default)] offset: i32,
    ) -> ApiResult<Vec<Order>> {
        let a = actor(ctx)?;
        let rows =
            orders::farmer_orders(db(ctx), a, first.clamp(1, 100) as u64, offset.max(0) as u64)
                .await
                .map_err(|e| to_gql(e, lang(ctx)))?;
        prefetch_orders(ctx, &rows).await?;
        Ok(rows.into_iter().map(Order).collect())
    }

    /// A dealer's incoming-order queue, oldest first, filtered.
    #[allow(clippy::too_many_arguments)]
    async fn dealer_orders(
        &self,
        ctx: &Context<'_>,
        dealer_id: ID,
        statuses: Option<Vec<OrderStatus>>,
        delivery_mode: Option<DeliveryModeGql>,
        #[graphql(default)] flagged_only: bool,
        placed_from: Option<DateTime<Utc>>,
        placed_to: Option<DateTime<Utc>>,
        #[graphql(default = 50)] first: i32,
        #[graphql(default)] offset: i32,
    ) -> ApiResult<Vec<Order>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let d = parse_gid("dealerId", "Dealer", &dealer_id).map_err(|e| to_gql(e, l))?;
        let f = orders::OrderFilter {
            statuses: statuses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            delivery_mode: delivery_mode.map(Into::into),
            flagged_only,
            placed_from,
            placed_to,
        };
        let rows = orders::dealer_orders(
            db(ctx),
            a,
            d,
            &f,
            first.clamp(1, 100) as u64,
            offset.max(0) as u64,
        )
        .await
        .map_err(|e| to_gql(e, l))?;
        prefetch_orders(ctx, &rows).await?;
        Ok(rows.into_iter().map(Order).collect())
    }

    async fn order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Order> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let id = parse_gid("id", "Order", &id).map_err(|e| to_gql(e, l))?;
        orders::visible_order(db(ctx), a, id)
            .await
            .map(Order)
            .map_err(|e| to_gql(e, l))
    }

    /// Farmers: their credit at each dealer. Dealers: the accounts they hold (`dealerId`).
    async fn credit_accounts(
        &self,
        ctx: &Context<'_>,
        dealer_id: Option<ID>,
    ) -> ApiResult<Vec<CreditAccount>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let rows = match parse_gid_opt("dealerId", "Dealer", dealer_id.as_ref())
            .map_err(|e| to_gql(e, l))?
        {
            Some(d) => orders::credit_accounts_of_dealer(db(ctx), a, d).await,
            None => orders::credit_accounts_of_farmer(db(ctx), a.user_id).await,
        }
        .map_err(|e| to_gql(e, l))?;
        Ok(rows.into_iter().map(CreditAccount).collect())
    }

    /// The farmer's fields.
    async fn my_fields(&self, ctx: &Context<'_>) -> ApiResult<Vec<Field>> {
        let a = actor(ctx)?;
        Ok(fields::of_farmer(db(ctx), a.user_id)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?
            .into_iter()
            .map(Field)
            .collect())
    }
}
