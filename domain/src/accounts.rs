//! Accounts, roles, passwords (argon2id), refresh-token families and real-name data.
//!
//! Parts: `sessions` (web sessions); `passwords` (hashing, at most one per core at a time);
//! `refresh_tokens` (issue, rotate, revoke a family, log out); `stations` (a village station keeper
//! working for the farmers of the village: 代购). This file holds the roles, the `Actor`, users
//! and signing in, and who may do what.

mod passwords;
mod refresh_tokens;
pub mod sessions;
mod stations;

use passwords::*;
pub use refresh_tokens::*;
pub use stations::*;

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

/// Staff of the dealer, or an admin.
pub fn may_operate(actor: &Actor, dealer_id: i64) -> bool {
    actor.is_admin() || actor.works_for(dealer_id)
}

pub fn is_regulator_or_admin(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Regulator)
}
