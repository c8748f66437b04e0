//! The order lists of a farmer and of a dealer, and what an order says in words.

use super::*;

pub struct OrderFilter {
    pub statuses: Vec<Status>,
    pub delivery_mode: Option<DeliveryMode>,
    pub flagged_only: bool,
    pub placed_from: Option<DateTime<Utc>>,
    pub placed_to: Option<DateTime<Utc>>,
}

/// A dealer's incoming orders, oldest first (the queue to work through).
pub async fn dealer_orders(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    f: &OrderFilter,
    limit: u64,
    offset: u64,
) -> Result<Vec<customer_order::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let mut q = customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .order_by_asc(customer_order::Column::PlacedAt)
        .order_by_asc(customer_order::Column::Id);
    if !f.statuses.is_empty() {
        q = q.filter(customer_order::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(m) = f.delivery_mode {
        q = q.filter(customer_order::Column::DeliveryMode.eq(m.as_str()));
    }
    if f.flagged_only {
        q = q.filter(customer_order::Column::Flagged.eq(true));
    }
    if let Some(t) = f.placed_from {
        q = q.filter(customer_order::Column::PlacedAt.gte(t));
    }
    if let Some(t) = f.placed_to {
        q = q.filter(customer_order::Column::PlacedAt.lt(t));
    }
    Ok(q.offset(offset).limit(limit).all(db).await?)
}

/// A farmer's orders, newest first.
pub async fn farmer_orders(
    db: &impl ConnectionTrait,
    actor: &Actor,
    limit: u64,
    offset: u64,
) -> Result<Vec<customer_order::Model>> {
    actor.require(actor.role == Role::Farmer)?;
    Ok(customer_order::Entity::find()
        .filter(customer_order::Column::FarmerId.eq(actor.user_id))
        .order_by_desc(customer_order::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn lines_of(db: &impl ConnectionTrait, order_id: i64) -> Result<Vec<order_line::Model>> {
    Ok(order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?)
}

pub async fn events_of(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> Result<Vec<order_event::Model>> {
    Ok(order_event::Entity::find()
        .filter(order_event::Column::OrderId.eq(order_id))
        .order_by_asc(order_event::Column::Id)
        .all(db)
        .await?)
}

/// The warnings stored with an order, in the reader's language.
pub fn warnings(o: &customer_order::Model, lang: crate::Lang) -> Vec<String> {
    o.warnings
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| lang.pick_stored(l))
        .collect()
}

/// Why the order is flagged (a recalled lot), in the reader's language.
pub fn flag_reason(o: &customer_order::Model, lang: crate::Lang) -> Option<String> {
    o.flag_reason.as_deref().map(|r| lang.pick_stored(r))
}

/// Text for a farmer or dealer: `¥12.00`.
pub fn money(fen: i64) -> String {
    Fen(fen).to_string()
}

/// Validates free text fields of order options.
pub fn validate_options(o: &OrderOptions) -> Result<()> {
    let mut errs = Errors::new();
    if let Some(a) = &o.address
        && a.chars().count() > 200
    {
        errs.push(FieldError::new(
            "address",
            Code::TooLong,
            "地址不能超过 200 个字符",
            "the address must be at most 200 characters",
        ));
    }
    if o.note.chars().count() > 500 {
        errs.push(FieldError::new(
            "note",
            Code::TooLong,
            "备注不能超过 500 个字符",
            "the note must be at most 500 characters",
        ));
    }
    if let Some(t) = &o.target
        && let Err(e) = types::name("target", t, 40)
    {
        errs.push(e);
    }
    errs.finish()
}
