//! Access tokens: short-lived HS256 JWTs with `sub`, `role`, organisation, `exp` and `jti`.
//! Anything wrong with a presented token (malformed, tampered, expired, `alg: none`, another
//! key) is the same answer: not authenticated.

use std::time::Duration;

use domain::accounts::{Actor, DealerRole, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    /// `dealer:<id>` for dealer staff, `county:<id>[,<id>]` for regulators and agronomists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dealer_role: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Keys {
    pub fn new(secret: &[u8], ttl: Duration) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Keys {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            ttl,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, actor: &Actor) -> anyhow::Result<(String, chrono::DateTime<chrono::Utc>)> {
        let now = chrono::Utc::now();
        let exp = now + chrono::Duration::from_std(self.ttl)?;
        let org = match (actor.role, actor.dealer_id) {
            (Role::Dealer, Some(d)) => Some(format!("dealer:{d}")),
            (Role::Agronomist | Role::Regulator, _) if !actor.county_ids.is_empty() => {
                Some(format!(
                    "county:{}",
                    actor
                        .county_ids
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ))
            }
            _ => None,
        };
        let claims = Claims {
            sub: actor.user_id.to_string(),
            role: actor.role.as_str().into(),
            org,
            dealer_role: actor.dealer_role.map(|r| r.as_str().into()),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            jti: uuid::Uuid::now_v7().to_string(),
        };
        Ok((
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?,
            exp,
        ))
    }

    /// Verifies a token and rebuilds the caller from its claims; `None` for any bad token.
    pub fn verify(&self, token: &str) -> Option<Actor> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let c = data.claims;
        let role = Role::parse(&c.role)?;
        let user_id = c.sub.parse().ok()?;
        let (dealer_id, county_ids) = match c.org.as_deref() {
            Some(o) if let Some(d) = o.strip_prefix("dealer:") => (Some(d.parse().ok()?), vec![]),
            Some(o) if let Some(c) = o.strip_prefix("county:") => (
                None,
                c.split(',')
                    .map(str::parse)
                    .collect::<Result<Vec<i64>, _>>()
                    .ok()?,
            ),
            Some(_) => return None,
            None => (None, vec![]),
        };
        Some(Actor {
            station_id: None,
            assisted_by: None,
            user_id,
            role,
            dealer_id,
            dealer_role: c.dealer_role.as_deref().and_then(DealerRole::parse),
            county_ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            station_id: None,
            assisted_by: None,
            user_id: 7,
            role: Role::Dealer,
            dealer_id: Some(3),
            dealer_role: Some(DealerRole::Owner),
            county_ids: vec![],
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let k = Keys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60)).unwrap();
        let (t, _) = k.issue(&actor()).unwrap();
        assert_eq!(k.verify(&t), Some(actor()));
        let other = Keys::new(
            b"another-key-another-key-another!!",
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(other.verify(&t), None);
        assert_eq!(k.verify("not.a.token"), None);
        // alg: none with the same claims
        let parts: Vec<&str> = t.split('.').collect();
        use base64::Engine;
        let none = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(k.verify(&format!("{none}.{}.", parts[1])), None);
    }
}
