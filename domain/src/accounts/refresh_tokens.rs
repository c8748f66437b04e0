//! Refresh tokens: issued in families, rotated on use (a reused token revokes its family), and
//! revoked on log-out.

use super::*;

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
