//! Dealer credit (赊销): limits, repayments, accounts, and the dealer's credit book.

use super::*;

/// A dealer sets (or changes) a farmer's credit limit. Lowering it below what is owed is
/// allowed; new credit orders are then refused until it is paid down.
pub async fn set_credit_limit(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
    limit_fen: i64,
) -> Result<credit_account::Model> {
    actor.require(
        actor.is_admin()
            || (actor.works_for(dealer_id) && actor.dealer_role == Some(DealerRole::Owner)),
    )?;
    if !(0..=10_000_000_000).contains(&limit_fen) {
        return Err(Error::invalid(
            "limitFen",
            Code::OutOfRange,
            "额度应在 0 到 1 亿元之间",
            "the limit must be 0 to 100,000,000 yuan",
        ));
    }
    let farmer = app_user::Entity::find_by_id(farmer_id)
        .one(db)
        .await?
        .filter(|u| u.role == Role::Farmer);
    if farmer.is_none() {
        return Err(Error::invalid(
            "farmerId",
            Code::UnknownReference,
            "农户不存在",
            "no such farmer",
        ));
    }
    let now = crate::now();
    let existing = credit_account::Entity::find()
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .one(db)
        .await?;
    Ok(match existing {
        Some(a) => {
            let mut am: credit_account::ActiveModel = a.into();
            am.limit_fen = Set(limit_fen);
            am.updated_at = Set(now);
            am.update(db).await?
        }
        None => {
            credit_account::ActiveModel {
                dealer_id: Set(dealer_id),
                farmer_id: Set(farmer_id),
                limit_fen: Set(limit_fen),
                balance_fen: Set(0),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    })
}

/// A farmer pays back credit at the dealer.
pub async fn record_repayment<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
    amount_fen: i64,
) -> Result<credit_account::Model> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    if amount_fen <= 0 {
        return Err(Error::invalid(
            "amountFen",
            Code::OutOfRange,
            "还款金额应大于 0",
            "the amount must be greater than 0",
        ));
    }
    let txn = crate::begin_write(db).await?;
    let ok = credit_account::Entity::update_many()
        .col_expr(
            credit_account::Column::BalanceFen,
            Expr::col(credit_account::Column::BalanceFen).sub(amount_fen),
        )
        .col_expr(credit_account::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .filter(credit_account::Column::BalanceFen.gte(amount_fen))
        .exec(&txn)
        .await?
        .rows_affected;
    if ok == 0 {
        return Err(Error::invalid(
            "amountFen",
            Code::OutOfRange,
            "还款金额超过欠款",
            "the amount is more than what is owed",
        ));
    }
    let account = credit_account(&txn, dealer_id, farmer_id)
        .await?
        .ok_or_else(|| Error::not_found("credit account", farmer_id))?;
    credit_repayment::ActiveModel {
        dealer_id: Set(dealer_id),
        farmer_id: Set(farmer_id),
        amount_fen: Set(amount_fen),
        balance_after_fen: Set(account.balance_fen),
        recorded_by: Set(actor.user_id),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(account)
}

/// The repayments recorded on a farmer's account with the dealer, newest first: for the
/// dealer's people, the farmer themself and admins.
pub async fn repayments_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
) -> Result<Vec<credit_repayment::Model>> {
    actor.require(
        actor.is_admin()
            || actor.works_for(dealer_id)
            || (actor.role == Role::Farmer && actor.user_id == farmer_id),
    )?;
    Ok(credit_repayment::Entity::find()
        .filter(credit_repayment::Column::DealerId.eq(dealer_id))
        .filter(credit_repayment::Column::FarmerId.eq(farmer_id))
        .order_by_desc(credit_repayment::Column::CreatedAt)
        .order_by_desc(credit_repayment::Column::Id)
        .all(db)
        .await?)
}

pub async fn credit_account(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    farmer_id: i64,
) -> Result<Option<credit_account::Model>> {
    Ok(credit_account::Entity::find()
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .one(db)
        .await?)
}

pub async fn credit_accounts_of_farmer(
    db: &impl ConnectionTrait,
    farmer_id: i64,
) -> Result<Vec<credit_account::Model>> {
    Ok(credit_account::Entity::find()
        .filter(credit_account::Column::FarmerId.eq(farmer_id))
        .all(db)
        .await?)
}

pub async fn credit_accounts_of_dealer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<credit_account::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    Ok(credit_account::Entity::find()
        .filter(credit_account::Column::DealerId.eq(dealer_id))
        .order_by_asc(credit_account::Column::Id)
        .all(db)
        .await?)
}

/// A farmer's account in a dealer's credit book, with who the farmer is and since when the
/// oldest unpaid part of the balance has been owed.
#[derive(Clone, Debug)]
pub struct CreditRow {
    pub account: credit_account::Model,
    pub farmer: app_user::Model,
    /// When the oldest credit order not yet paid off was placed (repayments pay the oldest
    /// orders first); `None` when nothing is owed.
    pub owing_since: Option<DateTime<Utc>>,
}

/// Orders on credit that still count: neither cancelled nor expired (those released their
/// credit), oldest first.
async fn credit_orders(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    farmer_ids: &[i64],
) -> Result<Vec<customer_order::Model>> {
    Ok(customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .filter(customer_order::Column::FarmerId.is_in(farmer_ids.iter().copied()))
        .filter(customer_order::Column::PaymentMethod.eq(PaymentMethod::DealerCredit.as_str()))
        .filter(customer_order::Column::PaymentStatus.eq(PaymentStatus::OnCredit))
        .order_by_asc(customer_order::Column::PlacedAt)
        .order_by_asc(customer_order::Column::Id)
        .all(db)
        .await?)
}

/// The oldest order the balance still contains: walking back from the newest order, the one
/// at which the orders' totals reach the balance (what was paid back paid the older ones).
fn owing_since(balance: i64, oldest_first: &[&customer_order::Model]) -> Option<DateTime<Utc>> {
    if balance <= 0 {
        return None;
    }
    let mut covered = 0;
    let mut since = None;
    for o in oldest_first.iter().rev() {
        covered += o.total_fen;
        since = Some(o.placed_at);
        if covered >= balance {
            break;
        }
    }
    since
}

/// Every farmer in the dealer's credit book (the dealer's staff and admins): the farmers who
/// owe most first, and among equal balances the oldest debt first; then those who owe nothing,
/// by name.
pub async fn credit_book(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<CreditRow>> {
    let accounts = credit_accounts_of_dealer(db, actor, dealer_id).await?;
    let farmer_ids: Vec<i64> = accounts.iter().map(|a| a.farmer_id).collect();
    let farmers = crate::rows_by_id!(db, app_user, farmer_ids.iter().copied());
    let orders = credit_orders(db, dealer_id, &farmer_ids).await?;
    let mut rows: Vec<CreditRow> = accounts
        .into_iter()
        .filter_map(|a| {
            let farmer = farmers.get(&a.farmer_id)?.clone();
            let mine: Vec<&customer_order::Model> = orders
                .iter()
                .filter(|o| o.farmer_id == a.farmer_id)
                .collect();
            Some(CreditRow {
                owing_since: owing_since(a.balance_fen, &mine).or_else(|| {
                    // Owed without a credit order on record (set up by an admin): since the
                    // account last changed.
                    (a.balance_fen > 0).then_some(a.updated_at)
                }),
                account: a,
                farmer,
            })
        })
        .collect();
    rows.sort_by(|x, y| {
        y.account
            .balance_fen
            .cmp(&x.account.balance_fen)
            .then_with(|| x.owing_since.cmp(&y.owing_since))
            .then_with(|| x.farmer.display_name.cmp(&y.farmer.display_name))
            .then_with(|| x.account.id.cmp(&y.account.id))
    });
    Ok(rows)
}

/// The farmers who owe the dealer something, most first (oldest debt first among equals).
pub async fn debtors(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
) -> Result<Vec<CreditRow>> {
    Ok(credit_book(db, actor, dealer_id)
        .await?
        .into_iter()
        .filter(|r| r.account.balance_fen > 0)
        .collect())
}

/// A farmer's orders on credit at the dealer, newest first (the dealer's staff and admins).
pub async fn credit_history(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    farmer_id: i64,
) -> Result<Vec<customer_order::Model>> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    Ok(customer_order::Entity::find()
        .filter(customer_order::Column::DealerId.eq(dealer_id))
        .filter(customer_order::Column::FarmerId.eq(farmer_id))
        .filter(customer_order::Column::PaymentMethod.eq(PaymentMethod::DealerCredit.as_str()))
        .order_by_desc(customer_order::Column::PlacedAt)
        .order_by_desc(customer_order::Column::Id)
        .all(db)
        .await?)
}

/// A farmer the dealer may give credit to, found by phone (the number as the farmer gives it).
pub async fn farmer_by_phone(
    db: &impl ConnectionTrait,
    actor: &Actor,
    dealer_id: i64,
    phone: &str,
) -> Result<app_user::Model> {
    actor.require(crate::accounts::may_operate(actor, dealer_id))?;
    let p = types::Phone::parse("phone", phone).map_err(|e| Error::Invalid(vec![e]))?;
    app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(p.as_str()))
        .filter(app_user::Column::Role.eq(Role::Farmer))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "phone",
                Code::UnknownReference,
                "没有这个手机号的农户",
                "no farmer has this phone number",
            )
        })
}

#[cfg(test)]
mod credit_tests {
    use super::*;

    fn order(id: i64, total: i64, day: u32) -> customer_order::Model {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap();
        customer_order::Model {
            id,
            checkout_id: 1,
            farmer_id: 1,
            dealer_id: 1,
            status: Status::Delivered,
            delivery_mode: DeliveryMode::Pickup,
            station_id: None,
            delivery_address: None,
            payment_method: PaymentMethod::DealerCredit,
            payment_status: PaymentStatus::OnCredit,
            total_fen: total,
            field_id: None,
            crop: None,
            target: None,
            note: String::new(),
            warnings: String::new(),
            flagged: false,
            flag_reason: None,
            cancel_reason: None,
            sale_id: None,
            placed_at: t,
            expires_at: t,
            updated_at: t,
            placed_by: None,
        }
    }

    #[test]
    fn repayments_pay_the_oldest_orders_first() {
        let a = order(1, 10_000, 1);
        let b = order(2, 5_000, 5);
        let c = order(3, 2_000, 9);
        let all = [&a, &b, &c];
        assert_eq!(owing_since(0, &all), None);
        // 17 000 owed: all three orders are unpaid.
        assert_eq!(owing_since(17_000, &all), Some(a.placed_at));
        // 6 000 owed: the first is paid off, part of the second is not.
        assert_eq!(owing_since(6_000, &all), Some(b.placed_at));
        assert_eq!(owing_since(2_000, &all), Some(c.placed_at));
        assert_eq!(owing_since(500, &[]), None);
    }
}
