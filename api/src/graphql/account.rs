//! Accounts: register, log in, refresh, log out, real-name data, users created by admins and
//! dealer owners.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::accounts::{self, Actor, NewUser, RefreshOutcome};
use domain::entities::app_user;
use domain::types::{IdNumber, Phone};
use domain::{Error, Lang};

#[allow(unused_imports)]
use super::enums::*;
use super::errors::{AccountError, payload};
use super::loaders::{DealerKey, RegionKey, one};
use super::market::{Dealer, Region};
use super::{
    ApiResult, Services, actor, db, gid, lang, parse_gid, parse_gid_opt, req, services, to_gql,
};

/// A user account. Phone, real name and ID number are masked for everyone but the user and admins.
pub struct User(pub app_user::Model);

impl User {
    fn sees_private(&self, ctx: &Context<'_>) -> bool {
        accounts::may_see_id_number(req(ctx).actor.as_ref(), self.0.id)
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        gid("User", self.0.id)
    }
    async fn phone(&self, ctx: &Context<'_>) -> String {
        if self.sees_private(ctx) {
            self.0.phone.clone()
        } else {
            Phone::masked(&self.0.phone)
        }
    }
    async fn role(&self) -> RoleGql {
        self.0.role.into()
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn dealer_role(&self) -> Option<DealerRoleGql> {
        self.0.dealer_role.map(Into::into)
    }
    async fn dealer(&self, ctx: &Context<'_>) -> ApiResult<Option<Dealer>> {
        match self.0.dealer_id {
            Some(d) => Ok(one(ctx, DealerKey(d)).await?.map(Dealer)),
            None => Ok(None),
        }
    }
    /// A regulator's county or an agronomist's counties.
    async fn counties(&self, ctx: &Context<'_>) -> ApiResult<Vec<Region>> {
        let actor = accounts::actor_for(db(ctx), &self.0)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?;
        let mut out = Vec::new();
        for c in actor.county_ids {
            if let Some(r) = one(ctx, RegionKey(c)).await? {
                out.push(Region(r));
            }
        }
        Ok(out)
    }
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        match self.0.village_id {
            Some(v) => Ok(one(ctx, RegionKey(v)).await?.map(Region)),
            None => Ok(None),
        }
    }
    /// Real name: whole for the user and admins, otherwise only the family name.
    async fn real_name(&self, ctx: &Context<'_>) -> Option<String> {
        let name = self.0.real_name.as_ref()?;
        if self.sees_private(ctx) {
            Some(name.clone())
        } else {
            let mut c = name.chars();
            Some(format!(
                "{}{}",
                c.next().unwrap_or('*'),
                "*".repeat(c.count())
            ))
        }
    }
    /// Resident ID number, masked (`4208**********123X`) except to the user and admins.
    async fn id_number(&self, ctx: &Context<'_>) -> Option<String> {
        let id = self.0.id_number.as_ref()?;
        Some(if self.sees_private(ctx) {
            id.clone()
        } else {
            IdNumber::masked(id)
        })
    }
    /// Whether real-name data is on file (needed to buy restricted-use pesticides).
    async fn real_name_verified(&self) -> bool {
        self.0.verified_at.is_some()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Short-lived JWT for `Authorization: Bearer ...`.
    access_token: Option<String>,
    access_token_expires_at: Option<DateTime<Utc>>,
    /// Opaque; exchange it with `refreshToken` for a new pair. Each is usable once.
    refresh_token: Option<String>,
    user: Option<User>,
    errors: Vec<AccountError>,
}

impl AuthPayload {
    fn failed(errors: Vec<AccountError>) -> Self {
        AuthPayload {
            access_token: None,
            access_token_expires_at: None,
            refresh_token: None,
            user: None,
            errors,
        }
    }
}

#[derive(SimpleObject)]
pub struct UserPayload {
    user: Option<User>,
    errors: Vec<AccountError>,
}

#[derive(InputObject)]
pub struct RegisterInput {
    phone: String,
    password: String,
    display_name: String,
    village_id: Option<ID>,
}

#[derive(InputObject)]
pub struct UserCreateInput {
    phone: String,
    password: String,
    display_name: String,
    role: RoleGql,
    /// For DEALER users.
    dealer_id: Option<ID>,
    dealer_role: Option<DealerRoleGql>,
    /// For AGRONOMIST (one or more) and REGULATOR (exactly one).
    county_ids: Option<Vec<ID>>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The logged-in user.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let a = actor(ctx)?;
        accounts::user_by_id(db(ctx), a.user_id)
            .await
            .map(User)
            .map_err(|e| to_gql(e, lang(ctx)))
    }

    /// Users (admins: all; dealer owners: their own staff).
    async fn users(&self, ctx: &Context<'_>, role: Option<RoleGql>) -> ApiResult<Vec<User>> {
        let a = actor(ctx)?;
        let users = accounts::list_users(db(ctx), a, role.map(Into::into))
            .await
            .map_err(|e| to_gql(e, lang(ctx)))?;
        Ok(users.into_iter().map(User).collect())
    }
}

#[derive(Default)]
pub struct AccountMutation;

async fn rate_limit(ctx: &Context<'_>, key: String, limit: u32) -> ApiResult<()> {
    let s = services(ctx);
    s.limiter
        .hit(&key, limit, s.config.login_window)
        .await
        .map_err(|r| {
            to_gql(
                Error::RateLimited {
                    retry_after_secs: r.0.as_secs().max(1),
                },
                lang(ctx),
            )
        })
}

/// Counts a sign-in attempt against the limits per client address and per phone (the GraphQL
/// login and the web sign-in page share them).
pub async fn check_login_limits(
    s: &Services,
    phone: &str,
    ip: std::net::IpAddr,
) -> domain::Result<()> {
    let refused = |r: crate::adapters::RetryAfter| Error::RateLimited {
        retry_after_secs: r.0.as_secs().max(1),
    };
    s.limiter
        .hit(
            &format!("login:ip:{ip}"),
            s.config.login_limit_per_ip,
            s.config.login_window,
        )
        .await
        .map_err(refused)?;
    let phone_key = Phone::parse("phone", phone)
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|_| phone.trim().to_owned());
    s.limiter
        .hit(
            &format!("login:phone:{phone_key}"),
            s.config.login_limit_per_phone,
            s.config.login_window,
        )
        .await
        .map_err(refused)
}

/// The payload of a successful sign-up or log-in: a new refresh token, then the access token.
async fn logged_in(ctx: &Context<'_>, user: app_user::Model) -> ApiResult<AuthPayload> {
    let refresh = accounts::issue_refresh_token(db(ctx), user.id)
        .await
        .map_err(|e| to_gql(e, lang(ctx)))?;
    tokens_for(ctx, user, refresh).await
}

async fn tokens_for(
    ctx: &Context<'_>,
    user: app_user::Model,
    refresh: String,
) -> ApiResult<AuthPayload> {
    let s = services(ctx);
    let actor: Actor = accounts::actor_for(&s.db, &user)
        .await
        .map_err(|e| to_gql(e, lang(ctx)))?;
    let (token, exp) = s
        .keys
        .issue(&actor)
        .map_err(|e| to_gql(Error::Internal(e.to_string()), lang(ctx)))?;
    Ok(AuthPayload {
        access_token: Some(token),
        access_token_expires_at: Some(exp),
        refresh_token: Some(refresh),
        user: Some(User(user)),
        errors: vec![],
    })
}

#[Object]
impl AccountMutation {
    /// A farmer signs up with phone and password, and is logged in.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> ApiResult<AuthPayload> {
        let l = lang(ctx);
        let s = services(ctx);
        rate_limit(
            ctx,
            format!("register:ip:{}", req(ctx).client_ip),
            s.config.login_limit_per_ip,
        )
        .await?;
        let r = async {
            let village = parse_gid_opt("villageId", "Region", input.village_id.as_ref())?;
            accounts::register_farmer(
                &s.db,
                &input.phone,
                &input.password,
                &input.display_name,
                village,
            )
            .await
        }
        .await;
        payload!(
            AccountError,
            r,
            l,
            |user| logged_in(ctx, user).await?,
            |e| AuthPayload::failed(e)
        )
    }

    /// Logs in with phone and password. Attempts are limited per phone and per client address;
    /// past the limit the error (`RATE_LIMITED`) says how many seconds to wait.
    async fn login(
        &self,
        ctx: &Context<'_>,
        phone: String,
        password: String,
    ) -> ApiResult<AuthPayload> {
        let l = lang(ctx);
        let s = services(ctx);
        check_login_limits(s, &phone, req(ctx).client_ip)
            .await
            .map_err(|e| to_gql(e, l))?;
        let r = accounts::authenticate(&s.db, &phone, &password).await;
        payload!(
            AccountError,
            r,
            l,
            |user| logged_in(ctx, user).await?,
            |e| AuthPayload::failed(e)
        )
    }

    /// Exchanges a refresh token for a new access token and refresh token. A refresh token
    /// works once; presenting a used one signs out every session of that login.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> ApiResult<AuthPayload> {
        let l = lang(ctx);
        match accounts::rotate_refresh_token(db(ctx), &refresh_token)
            .await
            .map_err(|e| to_gql(e, l))?
        {
            RefreshOutcome::Rotated { user, token } => tokens_for(ctx, *user, token).await,
            RefreshOutcome::ReuseDetected => {
                tracing::warn!("refresh token reused: token family revoked");
                Err(reuse_error(l))
            }
            RefreshOutcome::Invalid => Err(to_gql(Error::Unauthenticated, l)),
        }
    }

    /// Revokes the refresh token's whole family (this login on every device it was passed to).
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> ApiResult<bool> {
        accounts::logout(db(ctx), &refresh_token)
            .await
            .map_err(|e| to_gql(e, lang(ctx)))
    }

    /// A farmer adds real name and resident ID number (GB 11643 check digit verified).
    async fn set_real_name(
        &self,
        ctx: &Context<'_>,
        real_name: String,
        id_number: String,
    ) -> ApiResult<UserPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = accounts::set_real_name(db(ctx), a, &real_name, &id_number).await;
        payload!(UserPayload, user, AccountError, r, l, |u| User(u))
    }

    /// Creates a dealer user, agronomist, regulator or admin (admins), or a staff member of
    /// the caller's own dealer (dealer owners).
    async fn user_create(
        &self,
        ctx: &Context<'_>,
        input: UserCreateInput,
    ) -> ApiResult<UserPayload> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let dealer_id = parse_gid_opt("dealerId", "Dealer", input.dealer_id.as_ref())?;
            let county_ids = input
                .county_ids
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, c)| parse_gid(&format!("countyIds.{i}"), "Region", c))
                .collect::<domain::Result<Vec<_>>>()?;
            let new = NewUser {
                phone: input.phone,
                password: input.password,
                display_name: input.display_name,
                role: input.role.into(),
                dealer_id,
                dealer_role: input.dealer_role.map(Into::into),
                county_ids,
                village_id: None,
                station_id: None,
            };
            accounts::create_user(db(ctx), a, new).await
        }
        .await;
        payload!(UserPayload, user, AccountError, r, l, |u| User(u))
    }
}

/// A reused refresh token: UNAUTHENTICATED, with a message saying every session of that login
/// was signed out.
fn reuse_error(l: Lang) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    async_graphql::Error::new(l.pick(
        "刷新令牌已被使用过，为安全起见该登录的所有会话已退出，请重新登录",
        "this refresh token was already used; for safety every session of this login was signed out, please log in again",
    ))
    .extend_with(|_, e| {
        e.set("code", "UNAUTHENTICATED");
        e.set("reason", "REFRESH_TOKEN_REUSED");
    })
}
