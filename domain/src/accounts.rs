//! Accounts, roles, passwords (argon2id), refresh-token families and real-name data.

pub mod sessions;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::entities::{
    agronomist_county, app_user, dealer, dealer_service_area, refresh_token, region,
    service_station,
};
use crate::error::{Code, Error, Errors, FieldError, Result};
use crate::types::{self, IdNumber, Password, Phone};

pub use crate::types::{DealerRole, Role};

/// The authenticated caller, as the API proved it from a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    pub dealer_id: Option<i64>,
    pub dealer_role: Option<DealerRole>,
    /// A regulator's county, or an agronomist's counties.
    pub county_ids: Vec<i64>,
    /// A station keeper's village station.
    pub station_id: Option<i64>,
    /// Set on a farmer actor when a station keeper acts for the farmer (see [`act_for`]): the
    /// keeper's user id, recorded on what they do.
    pub assisted_by: Option<i64>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
    /// True for the owner or staff of `dealer_id`.
    pub fn works_for(&self, dealer_id: i64) -> bool {
        self.role == Role::Dealer && self.dealer_id == Some(dealer_id)
    }
    pub fn require(&self, ok: bool) -> Result<()> {
        if ok { Ok(()) } else { Err(forbidden()) }
    }
}

pub fn forbidden() -> Error {
    Error::forbidden("没有权限执行此操作", "you are not allowed to do this")
}

/// Loads what a token needs to carry about a user (dealer, counties).
pub async fn actor_for(db: &impl ConnectionTrait, user: &app_user::Model) -> Result<Actor> {
    let role = user.role;
    let county_ids = match role {
        Role::Agronomist => agronomist_county::Entity::find()
            .filter(agronomist_county::Column::UserId.eq(user.id))
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.county_id)
            .collect(),
        Role::Regulator => user.county_id.into_iter().collect(),
        _ => vec![],
    };
    Ok(Actor {
        user_id: user.id,
        role,
        dealer_id: user.dealer_id,
        dealer_role: user.dealer_role,
        county_ids,
        station_id: user.station_id,
        assisted_by: None,
    })
}

/// Password hashing (argon2id takes 19 MiB and tens of milliseconds of one core) runs at most
/// once per core at a time. A request waits for its turn up to [`HASH_QUEUE_WAIT`]; past that it
/// is refused as RATE_LIMITED with a retry time, so a burst of sign-ups or logins costs a queue
/// and a fast refusal, never memory that grows with the burst.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});
const HASH_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = tokio::time::timeout(HASH_QUEUE_WAIT, HASHING.acquire())
        .await
        .map_err(|_| Error::RateLimited {
            retry_after_secs: 2,
        })?
        .map_err(|e| Error::Internal(format!("hashing queue: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(e.to_string()))
}

async fn hash_password(p: Password) -> Result<String> {
    hashing(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| Error::Internal(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(p.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    })
    .await?
}

async fn verify_password(password: String, hash: String) -> Result<bool> {
    hashing(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// A hash of a password nobody has, verified when the phone is unknown so that a login for an
/// unknown phone costs as much as one for a known phone (no user enumeration by timing).
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::encode_b64(b"nongzi-dummy-salt").expect("static salt");
        Argon2::default()
            .hash_password(b"not-a-password", &salt)
            .expect("argon2 with defaults")
            .to_string()
    })
    .clone()
}

pub struct NewUser {
    pub phone: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
    pub dealer_id: Option<i64>,
    pub dealer_role: Option<DealerRole>,
    pub county_ids: Vec<i64>,
    pub village_id: Option<i64>,
    /// A station keeper's station.
    pub station_id: Option<i64>,
}

/// A farmer signs up with phone + password.
pub async fn register_farmer(
    db: &impl ConnectionTrait,
    phone: &str,
    password: &str,
    display_name: &str,
    village_id: Option<i64>,
) -> Result<app_user::Model> {
    insert_user(
        db,
        NewUser {
            phone: phone.into(),
            password: password.into(),
            display_name: display_name.into(),
            role: Role::Farmer,
            dealer_id: None,
            dealer_role: None,
            county_ids: vec![],
            village_id,
            station_id: None,
        },
    )
    .await
}

/// Staff, agronomists, regulators and admins are created by an admin; a dealer owner may create
/// staff of their own dealer.
pub async fn create_user<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    new: NewUser,
) -> Result<app_user::Model> {
    let allowed = actor.is_admin()
        || (actor.role == Role::Dealer
            && actor.dealer_role == Some(DealerRole::Owner)
            && new.role == Role::Dealer
            && new.dealer_role == Some(DealerRole::Staff)
            && new.dealer_id == actor.dealer_id);
    actor.require(allowed)?;
    let txn = crate::begin_write(db).await?;
    let user = insert_user(&txn, new).await?;
    txn.commit().await?;
    Ok(user)
}

/// Inserts a user without an actor check: for the demo loader and the `admin create` command.
pub async fn insert_user(db: &impl ConnectionTrait, new: NewUser) -> Result<app_user::Model> {
    let mut errs = Errors::new();
    let phone = errs.take(Phone::parse("phone", &new.phone));
    let password = errs.take(Password::parse("password", &new.password));
    let display_name = errs.take(types::name("displayName", &new.display_name, 40));
    match new.role {
        Role::Dealer => {
            if new.dealer_id.is_none() {
                errs.push(FieldError::new(
                    "dealerId",
                    Code::Required,
                    "经销商员工必须属于一个经销商",
                    "dealer staff must belong to a dealer",
                ));
            }
            if new.dealer_role.is_none() {
                errs.push(FieldError::new(
                    "dealerRole",
                    Code::Required,
                    "请选择店主或店员",
                    "choose OWNER or STAFF",
                ));
            }
        }
        Role::Agronomist | Role::Regulator if new.county_ids.is_empty() => {
            errs.push(FieldError::new(
                "countyIds",
                Code::Required,
                "农技人员和监管人员必须指定县",
                "agronomists and regulators must be assigned a county",
            ));
        }
        Role::Regulator if new.county_ids.len() > 1 => {
            errs.push(FieldError::new(
                "countyIds",
                Code::OutOfRange,
                "监管人员只属于一个县",
                "a regulator belongs to exactly one county",
            ));
        }
        Role::StationKeeper if new.station_id.is_none() => {
            errs.push(FieldError::new(
                "stationId",
                Code::Required,
                "服务站管理员必须属于一个村级服务站",
                "a station keeper must belong to a village station",
            ));
        }
        _ => {}
    }
    if new.role != Role::StationKeeper && new.station_id.is_some() {
        errs.push(FieldError::new(
            "stationId",
            Code::OutOfRange,
            "只有服务站管理员可以关联服务站",
            "only STATION_KEEPER users belong to a station",
        ));
    }
    if new.role != Role::Dealer && (new.dealer_id.is_some() || new.dealer_role.is_some()) {
        errs.push(FieldError::new(
            "dealerId",
            Code::OutOfRange,
            "只有经销商角色可以关联经销商",
            "only DEALER users belong to a dealer",
        ));
    }
    errs.finish()?;
    let (phone, password, display_name) =
        (phone.unwrap(), password.unwrap(), display_name.unwrap());

    if let Some(d) = new.dealer_id {
        dealer::Entity::find_by_id(d)
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "dealerId",
                    Code::UnknownReference,
                    "经销商不存在",
                    "no such dealer",
                )
            })?;
    }
    for (i, c) in new.county_ids.iter().enumerate() {
        let r = region::Entity::find_by_id(*c).one(db).await?;
        if r.map(|r| r.level) != Some(types::Level::County) {
            return Err(Error::invalid(
                format!("countyIds.{i}"),
                Code::WrongRegionLevel,
                "不是县级行政区",
                "not a county",
            ));
        }
    }
    let mut village_id = new.village_id;
    if let Some(st) = new.station_id {
        let station = service_station::Entity::find_by_id(st)
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "stationId",
                    Code::UnknownReference,
                    "服务站不存在",
                    "no such station",
                )
            })?;
        village_id = Some(station.village_id);
    }
    if let Some(v) = village_id {
        let r = region::Entity::find_by_id(v).one(db).await?;
        if r.map(|r| r.level) != Some(types::Level::Village) {
            return Err(Error::invalid(
                "villageId",
                Code::WrongRegionLevel,
                "不是村级行政区",
                "not a village",
            ));
        }
    }
    if app_user::Entity::find()
        .filter(app_user::Column::Phone.eq(phone.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::invalid(
            "phone",
            Code::PhoneTaken,
            "该手机号已注册",
            "this phone number is already registered",
        ));
    }
    let hash = hash_password(password).await?;
    let user = app_user::ActiveModel {
        phone: Set(phone.as_str().to_owned()),
        password_hash: Set(hash),
        role: Set(new.role),
        display_name: Set(display_name),
        dealer_id: Set(new.dealer_id),
        dealer_role: Set(new.dealer_role),
        county_id: Set(if new.role == Role::Regulator {
            new.county_ids.first().copied()
        } else {
            None
        }),
        village_id: Set(village_id),
        station_id: Set(new.station_id),
        real_name: Set(None),
        id_number: Set(None),
        verified_at: Set(None),
        disabled: Set(false),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        unique_violation(
            e,
            "phone",
            "该手机号已注册",
            "this phone number is already registered",
        )
    })?;
    if new.role == Role::Agronomist {
        for c in &new.county_ids {
            agronomist_county::ActiveModel {
                user_id: Set(user.id),
                county_id: Set(*c),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(user)
}

/// Maps a unique-constraint violation (a race past the pre-check) to a field error.
pub(crate) fn unique_violation(e: sea_orm::DbErr, field: &str, zh: &str, en: &str) -> Error {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            Error::invalid(field, Code::Duplicate, zh, en)
        }
        _ => Error::Db(e),
    }
}

/// Checks phone + password. Unknown phones and wrong passwords give the same error.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    phone: &str,
    password: &str,
) -> Result<app_user::Model> {
    let bad = || {
        Error::invalid(
            "password",
            Code::InvalidCredentials,
            "手机号或密码错误",
            "wrong phone number or password",
        )
    };
    let user = match Phone::parse("phone", phone) {
        Ok(p) => {
            app_user::Entity::find()
                .filter(app_user::Column::Phone.eq(p.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let Some(user) = user else {
        verify_password(
            password.to_owned(),
            tokio::task::spawn_blocking(dummy_hash)
                .await
                .unwrap_or_default(),
        )
        .await?;
        return Err(bad());
    };
    if !verify_password(password.to_owned(), user.password_hash.clone()).await? {
        return Err(bad());
    }
    if user.disabled {
        return Err(Error::invalid(
            "phone",
            Code::AccountDisabled,
            "账号已停用",
            "this account is disabled",
        ));
    }
    Ok(user)
}

/// Users by id, for loaders of lists that name one (a recommendation's agronomist).
pub async fn users_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<app_user::Model>> {
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn user_by_id(db: &impl ConnectionTrait, id: i64) -> Result<app_user::Model> {
    app_user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("user", id))
}

/// How long a refresh token lives.
pub const REFRESH_TTL_DAYS: i64 = 30;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Starts a refresh-token family (one per login) and returns the opaque token.
pub async fn issue_refresh_token(db: &impl ConnectionTrait, user_id: i64) -> Result<String> {
    insert_refresh(db, user_id, uuid::Uuid::now_v7().to_string(), crate::now()).await
}

async fn insert_refresh(
    db: &impl ConnectionTrait,
    user_id: i64,
    family: String,
    now: DateTime<Utc>,
) -> Result<String> {
    let token = new_token();
    refresh_token::ActiveModel {
        user_id: Set(user_id),
        family_id: Set(family),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(REFRESH_TTL_DAYS)),
        used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

#[derive(Debug, PartialEq)]
pub enum RefreshOutcome {
    Rotated {
        user: Box<app_user::Model>,
        token: String,
    },
    /// The token was valid once but has been used: its whole family is now revoked.
    ReuseDetected,
    Invalid,
}

/// Rotates a refresh token: the presented token is spent and a new one of the same family is
/// returned. Presenting a spent token revokes the family (a stolen token was probably used).
pub async fn rotate_refresh_token<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    token: &str,
) -> Result<RefreshOutcome> {
    let now = crate::now();
    let txn = crate::begin_write(db).await?;
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(token)))
        .one(&txn)
        .await?
    else {
        return Ok(RefreshOutcome::Invalid);
    };
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(RefreshOutcome::Invalid);
    }
    // Spend it with a conditional update, so two concurrent uses cannot both succeed.
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if spent == 0 {
        revoke_family(&txn, &row.family_id, now).await?;
        txn.commit().await?;
        return Ok(RefreshOutcome::ReuseDetected);
    }
    let user = user_by_id(&txn, row.user_id).await?;
    if user.disabled {
        revoke_family(&txn, &row.family_id, now).await?;
        txn.commit().await?;
        return Ok(RefreshOutcome::Invalid);
    }
    let new = insert_refresh(&txn, row.user_id, row.family_id, now).await?;
    txn.commit().await?;
    Ok(RefreshOutcome::Rotated {
        user: Box::new(user),
        token: new,
    })
}

async fn revoke_family(db: &impl ConnectionTrait, family: &str, now: DateTime<Utc>) -> Result<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Logout: the token's whole family stops working. Unknown tokens are ignored.
pub async fn logout(db: &impl ConnectionTrait, token: &str) -> Result<bool> {
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(token)))
        .one(db)
        .await?;
    match row {
        Some(r) => {
            revoke_family(db, &r.family_id, crate::now()).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A farmer records real-name data (needed for restricted-use pesticides).
pub async fn set_real_name(
    db: &impl ConnectionTrait,
    actor: &Actor,
    real_name: &str,
    id_number: &str,
) -> Result<app_user::Model> {
    actor.require(actor.role == Role::Farmer)?;
    let mut errs = Errors::new();
    let name = errs.take(types::name("realName", real_name, 30));
    let id = errs.take(IdNumber::parse("idNumber", id_number));
    errs.finish()?;
    let user = user_by_id(db, actor.user_id).await?;
    let mut am: app_user::ActiveModel = user.into();
    am.real_name = Set(name);
    am.id_number = Set(id.map(|i| i.as_str().to_owned()));
    // Verified here means the number is well formed and its check digit is right; an identity
    // service check would set the same field.
    am.verified_at = Set(Some(crate::now()));
    Ok(am.update(db).await?)
}

/// Users an admin can list, newest first.
pub async fn list_users(
    db: &impl ConnectionTrait,
    actor: &Actor,
    role: Option<Role>,
) -> Result<Vec<app_user::Model>> {
    let mut q = app_user::Entity::find().order_by_desc(app_user::Column::Id);
    if actor.is_admin() {
    } else if actor.role == Role::Dealer && actor.dealer_role == Some(DealerRole::Owner) {
        q = q.filter(app_user::Column::DealerId.eq(actor.dealer_id));
    } else {
        return Err(forbidden());
    }
    if let Some(r) = role {
        q = q.filter(app_user::Column::Role.eq(r.as_str()));
    }
    Ok(q.all(db).await?)
}

/// Whether `viewer` may see `owner`'s full ID number: only its owner and admins.
pub fn may_see_id_number(viewer: Option<&Actor>, owner_id: i64) -> bool {
    viewer.is_some_and(|a| a.user_id == owner_id || a.is_admin())
}

// ---------------------------------------------------------------- village stations (代购)

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

// ---------------------------------------------------------------- who may do what

/// Staff of the dealer, or an admin.
pub fn may_operate(actor: &Actor, dealer_id: i64) -> bool {
    actor.is_admin() || actor.works_for(dealer_id)
}

pub fn is_regulator_or_admin(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Regulator)
}

#[cfg(test)]
mod hashing_tests {
    use super::*;

    #[tokio::test]
    async fn hashing_past_the_queue_is_refused_quickly_and_comes_back() {
        // Every core busy hashing: the next hash waits its turn, then is refused as
        // RATE_LIMITED instead of running alongside (memory would grow with the burst).
        let n = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
        let busy = HASHING.acquire_many(n).await.unwrap();
        let started = std::time::Instant::now();
        let p = Password::parse("password", "a-long-password").unwrap();
        let r = hash_password(p).await;
        assert!(
            matches!(
                r,
                Err(Error::RateLimited {
                    retry_after_secs: 2
                })
            ),
            "{r:?}"
        );
        assert!(started.elapsed() >= HASH_QUEUE_WAIT);
        drop(busy);
        let p = Password::parse("password", "a-long-password").unwrap();
        let h = hash_password(p).await.unwrap();
        assert!(verify_password("a-long-password".into(), h).await.unwrap());
    }
}
