//! The live updates: order changes and stock alerts, read from the event bus.

use super::*;

/// A stock alert for a dealer.
#[derive(SimpleObject, Clone)]
pub struct StockAlert {
    kind: AlertKindGql,
    dealer_id: ID,
    sku_id: Option<ID>,
    lot_id: Option<ID>,
    available: Option<i64>,
    message: String,
}

pub struct Subscription;

fn bus_stream(ctx: &Context<'_>) -> impl Stream<Item = DomainEvent> + use<> {
    let rx = services(ctx).bus.subscribe();
    futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) => return Some((e, rx)),
                // A slow subscriber skips what it missed rather than ending.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[Subscription]
impl Subscription {
    /// Changes to the caller's orders (farmers) or to the dealer's orders (dealer staff).
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<futures_util::stream::BoxStream<'static, Order>> {
        let a = actor(ctx)?.clone();
        let db = db(ctx).clone();
        Ok(futures_util::StreamExt::boxed(
            futures_util::StreamExt::filter_map(bus_stream(ctx), move |e| {
                let (a, db) = (a.clone(), db.clone());
                async move {
                    let DomainEvent::OrderUpdated {
                        order_id,
                        farmer_id,
                        dealer_id,
                        ..
                    } = e
                    else {
                        return None;
                    };
                    let mine = farmer_id == a.user_id && a.role == domain::accounts::Role::Farmer;
                    let dealer = a.works_for(dealer_id) || a.is_admin();
                    if !(mine || dealer) {
                        return None;
                    }
                    orders::order(&db, order_id).await.ok().map(Order)
                }
            }),
        ))
    }

    /// Low stock, near expiry and recall alerts for a dealer's staff.
    async fn stock_alert(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<futures_util::stream::BoxStream<'static, StockAlert>> {
        let a = actor(ctx)?.clone();
        let l = lang(ctx);
        if a.role != domain::accounts::Role::Dealer {
            return Err(to_gql(domain::accounts::forbidden(), l));
        }
        Ok(futures_util::StreamExt::boxed(
            futures_util::StreamExt::filter_map(bus_stream(ctx), move |e| {
                let a = a.clone();
                async move {
                    let DomainEvent::StockAlert {
                        dealer_id,
                        kind,
                        sku_id,
                        lot_id,
                        available,
                        message_zh,
                        message_en,
                    } = e
                    else {
                        return None;
                    };
                    if !a.works_for(dealer_id) {
                        return None;
                    }
                    Some(StockAlert {
                        kind: kind.into(),
                        dealer_id: gid("Dealer", dealer_id),
                        sku_id: sku_id.map(|s| gid("Sku", s)),
                        lot_id: lot_id.map(|s| gid("Lot", s)),
                        available,
                        message: l.pick(&message_zh, &message_en).to_owned(),
                    })
                }
            }),
        ))
    }
}
