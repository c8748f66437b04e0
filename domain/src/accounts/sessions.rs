//! Browser sessions for the web pages. The cookie holds a random token; only its SHA-256 is
//! stored, so a copy of the database signs nobody in. A session lives [`SESSION_DAYS`] from its
//! last use, is listed to its owner and ends on sign-out (or when the password is reset).
//! One-shot form keys make a repeated POST (a double tap, a 2G retry) find the first result.

use base64::Engine;
use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::accounts::{Actor, Role, actor_for, user_by_id};
use crate::entities::{app_user, web_form, web_session};
use crate::error::{Error, Result};

/// How long an unused session stays signed in: a farmer's own phone stays signed in.
pub const SESSION_DAYS: i64 = 90;
/// `last_seen_at` is written at most this often, so reading pages does not write every time.
const TOUCH_EVERY_MINUTES: i64 = 10;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A signed-in browser: the session row, its user, and the actor its pages act as (the
/// farmer a station keeper acts for, when one is chosen).
#[derive(Clone, Debug)]
pub struct Session {
    pub row: web_session::Model,
    pub user: app_user::Model,
    /// The signed-in user's own actor.
    pub actor: Actor,
    /// The farmer a station keeper acts for, with `assisted_by` set.
    pub acting: Option<(Actor, app_user::Model)>,
}

impl Session {
    /// The actor farmer pages act as: the farmer themself, or the farmer a keeper acts for.
    pub fn farmer(&self) -> Option<(&Actor, &app_user::Model)> {
        match (&self.acting, self.actor.role) {
            (Some((a, u)), _) => Some((a, u)),
            (None, Role::Farmer) => Some((&self.actor, &self.user)),
            _ => None,
        }
    }
}

/// Starts a session for a user who just proved their password; returns the cookie token.
pub async fn start(
    db: &impl ConnectionTrait,
    user: &app_user::Model,
    user_agent: &str,
) -> Result<String> {
    let token = random_token();
    let now = crate::now();
    web_session::ActiveModel {
        token_hash: Set(hash(&token)),
        user_id: Set(user.id),
        csrf_secret: Set(random_token()),
        acting_for: Set(None),
        user_agent: Set(user_agent.chars().take(200).collect()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_DAYS)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The live session of a cookie token, or `None` (unknown, expired, ended, or the user is
/// disabled). Extends its life when it was last seen a while ago.
pub async fn find(db: &impl ConnectionTrait, token: &str) -> Result<Option<Session>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let now = crate::now();
    let Some(row) = web_session::Entity::find()
        .filter(web_session::Column::TokenHash.eq(hash(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(None);
    }
    let user = user_by_id(db, row.user_id).await?;
    if user.disabled {
        return Ok(None);
    }
    let row = if now - row.last_seen_at > Duration::minutes(TOUCH_EVERY_MINUTES) {
        let mut am: web_session::ActiveModel = row.into();
        am.last_seen_at = Set(now);
        am.expires_at = Set(now + Duration::days(SESSION_DAYS));
        am.update(db).await?
    } else {
        row
    };
    let actor = actor_for(db, &user).await?;
    let acting = match row.acting_for {
        // Re-checked on every request: a keeper moved to another station loses the farmer.
        Some(f) => match crate::accounts::act_for(db, &actor, f).await {
            Ok(a) => Some((a, user_by_id(db, f).await?)),
            Err(Error::NotFound { .. } | Error::Forbidden { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    Ok(Some(Session {
        row,
        user,
        actor,
        acting,
    }))
}

/// A station keeper starts (or, with `None`, stops) acting for a farmer of the village.
pub async fn set_acting_for(
    db: &impl ConnectionTrait,
    session: &Session,
    farmer_id: Option<i64>,
) -> Result<()> {
    if let Some(f) = farmer_id {
        crate::accounts::act_for(db, &session.actor, f).await?;
    }
    web_session::Entity::update_many()
        .col_expr(web_session::Column::ActingFor, Expr::value(farmer_id))
        .filter(web_session::Column::Id.eq(session.row.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends one session (sign-out). Ending an ended session is not an error.
pub async fn end(db: &impl ConnectionTrait, session_id: i64) -> Result<()> {
    web_session::Entity::update_many()
        .col_expr(web_session::Column::RevokedAt, Expr::value(crate::now()))
        .filter(web_session::Column::Id.eq(session_id))
        .filter(web_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends a user's own session by id (from the list of their sessions).
pub async fn end_own(db: &impl ConnectionTrait, actor: &Actor, session_id: i64) -> Result<()> {
    let row = web_session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .filter(|s| s.user_id == actor.user_id)
        .ok_or_else(|| Error::not_found("session", session_id))?;
    end(db, row.id).await
}

/// Ends every session of a user (a reset password).
pub async fn end_all(db: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    web_session::Entity::update_many()
        .col_expr(web_session::Column::RevokedAt, Expr::value(crate::now()))
        .filter(web_session::Column::UserId.eq(user_id))
        .filter(web_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The user's live sessions, most recently used first.
pub async fn list(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<web_session::Model>> {
    let now = crate::now();
    Ok(web_session::Entity::find()
        .filter(web_session::Column::UserId.eq(actor.user_id))
        .filter(web_session::Column::RevokedAt.is_null())
        .filter(web_session::Column::ExpiresAt.gt(now))
        .order_by_desc(web_session::Column::LastSeenAt)
        .all(db)
        .await?)
}

/// What a form key says when a POST arrives with it.
#[derive(Debug, PartialEq, Eq)]
pub enum FormClaim {
    /// First time: do the work, then [`complete_form`].
    Fresh,
    /// Done before: send the browser where the first submission went.
    Done(String),
    /// Another request with this key is still at work.
    InProgress,
}

/// Claims a one-shot form key for a session. The unique index decides between two concurrent
/// submissions: one is `Fresh`, the other sees `InProgress` or `Done`.
pub async fn claim_form(
    db: &impl ConnectionTrait,
    session_id: i64,
    key: &str,
) -> Result<FormClaim> {
    let key: String = key.trim().chars().take(64).collect();
    let inserted = web_form::ActiveModel {
        session_id: Set(session_id),
        form_key: Set(key.clone()),
        result_url: Set(None),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(FormClaim::Fresh),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            let row = web_form::Entity::find()
                .filter(web_form::Column::SessionId.eq(session_id))
                .filter(web_form::Column::FormKey.eq(&key))
                .one(db)
                .await?;
            Ok(match row.and_then(|r| r.result_url) {
                Some(url) => FormClaim::Done(url),
                None => FormClaim::InProgress,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Records where a claimed form's submission led (a repeat is sent there).
pub async fn complete_form(
    db: &impl ConnectionTrait,
    session_id: i64,
    key: &str,
    result_url: &str,
) -> Result<()> {
    let key: String = key.trim().chars().take(64).collect();
    web_form::Entity::update_many()
        .col_expr(web_form::Column::ResultUrl, Expr::value(result_url))
        .filter(web_form::Column::SessionId.eq(session_id))
        .filter(web_form::Column::FormKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a claimed key whose submission failed, so the corrected form can be sent again.
pub async fn release_form(db: &impl ConnectionTrait, session_id: i64, key: &str) -> Result<()> {
    let key: String = key.trim().chars().take(64).collect();
    web_form::Entity::delete_many()
        .filter(web_form::Column::SessionId.eq(session_id))
        .filter(web_form::Column::FormKey.eq(key))
        .filter(web_form::Column::ResultUrl.is_null())
        .exec(db)
        .await?;
    Ok(())
}
