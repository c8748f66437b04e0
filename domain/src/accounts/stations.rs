//! Village stations (代购): the keeper's farmers, finding or registering one, acting for one, and
//! resetting a farmer's password.

use super::*;

/// A station keeper's view of a village farmer.
fn keeper_station(actor: &Actor) -> Result<i64> {
    match (actor.role, actor.station_id) {
        (Role::StationKeeper, Some(s)) => Ok(s),
        _ => Err(forbidden()),
    }
}

async fn station_village(db: &impl ConnectionTrait, station_id: i64) -> Result<i64> {
    Ok(service_station::Entity::find_by_id(station_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("station", station_id))?
        .village_id)
}

/// The farmers of the keeper's village, matching a phone or a name (all of them when empty),
/// newest first, at most 50.
pub async fn station_farmers(
    db: &impl ConnectionTrait,
    actor: &Actor,
    query: &str,
) -> Result<Vec<app_user::Model>> {
    let village = station_village(db, keeper_station(actor)?).await?;
    let mut q = app_user::Entity::find()
        .filter(app_user::Column::Role.eq(Role::Farmer.as_str()))
        .filter(app_user::Column::VillageId.eq(village))
        .order_by_desc(app_user::Column::Id);
    let query = query.trim();
    if !query.is_empty() {
        q = q.filter(
            sea_orm::Condition::any()
                .add(app_user::Column::Phone.contains(query))
                .add(app_user::Column::DisplayName.contains(query)),
        );
    }
    use sea_orm::QuerySelect;
    Ok(q.limit(50).all(db).await?)
}

/// A registered farmer found by the exact phone number a buyer gives at a dealer's counter
/// (so the sale goes into their trace and their verified real-name data can be used). Only
/// dealer staff may look; a bad number is a field error.
pub async fn farmer_by_phone(
    db: &impl ConnectionTrait,
    actor: &Actor,
    phone: &str,
) -> Result<Option<app_user::Model>> {
    actor.require(actor.role == Role::Dealer && actor.dealer_id.is_some())?;
    let phone = Phone::parse("buyer.phone", phone).map_err(|e| Error::Invalid(vec![e]))?;
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Role.eq(Role::Farmer.as_str()))
        .filter(app_user::Column::Phone.eq(phone.as_str()))
        .one(db)
        .await?)
}

/// A station keeper registers a farmer of the station's village (a neighbour without a phone
/// of their own still needs an account for the order and its trace).
pub async fn register_farmer_at_station(
    db: &impl ConnectionTrait,
    actor: &Actor,
    phone: &str,
    password: &str,
    display_name: &str,
) -> Result<app_user::Model> {
    let village = station_village(db, keeper_station(actor)?).await?;
    register_farmer(db, phone, password, display_name, Some(village)).await
}

/// The farmer actor a station keeper acts as: only for a farmer of the keeper's own village.
/// What the keeper then does is recorded as theirs (`assisted_by`).
pub async fn act_for(db: &impl ConnectionTrait, actor: &Actor, farmer_id: i64) -> Result<Actor> {
    let village = station_village(db, keeper_station(actor)?).await?;
    let farmer = app_user::Entity::find_by_id(farmer_id)
        .one(db)
        .await?
        .filter(|f| f.role == Role::Farmer && f.village_id == Some(village))
        .ok_or_else(|| Error::not_found("farmer", farmer_id))?;
    let mut me = actor_for(db, &farmer).await?;
    me.assisted_by = Some(actor.user_id);
    Ok(me)
}

/// A forgotten password (there is no SMS gateway): the keeper of the farmer's village station,
/// a dealer owner or staff whose service area covers the farmer's village, or an admin sets a
/// new one. Every browser session and refresh token of the farmer ends.
pub async fn reset_farmer_password<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    farmer_id: i64,
    new_password: &str,
) -> Result<()> {
    let farmer = user_by_id(db, farmer_id).await?;
    if farmer.role != Role::Farmer {
        return Err(Error::not_found("farmer", farmer_id));
    }
    let allowed = match actor.role {
        Role::Admin => true,
        Role::StationKeeper => match actor.station_id {
            Some(s) => Some(station_village(db, s).await?) == farmer.village_id,
            None => false,
        },
        Role::Dealer => match (actor.dealer_id, farmer.village_id) {
            (Some(d), Some(v)) => dealer_service_area::Entity::find()
                .filter(dealer_service_area::Column::DealerId.eq(d))
                .filter(dealer_service_area::Column::VillageId.eq(v))
                .one(db)
                .await?
                .is_some(),
            _ => false,
        },
        _ => false,
    };
    if !allowed {
        // Whether the farmer exists is not told to those who may not reset it.
        return Err(Error::not_found("farmer", farmer_id));
    }
    let password =
        Password::parse("password", new_password).map_err(|e| Error::Invalid(vec![e]))?;
    let hash = hash_password(password).await?;
    let txn = crate::begin_write(db).await?;
    let mut am: app_user::ActiveModel = farmer.into();
    am.password_hash = Set(hash);
    am.update(&txn).await?;
    let now = crate::now();
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(farmer_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    crate::accounts::sessions::end_all(&txn, farmer_id).await?;
    txn.commit().await?;
    Ok(())
}
