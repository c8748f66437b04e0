//! Payment providers. Orders paid ONLINE go through a [`Provider`]: authorise at checkout,
//! capture at hand-over, void (an authorisation) or refund (a capture) on cancellation. The
//! built-in sandbox behaves like a gateway without moving money; a real gateway implements the
//! same trait. Providers report later changes to a callback endpoint whose body is signed with
//! HMAC-SHA256.
//!
//! A provider is a network call that may take seconds, so it is never called while a database
//! transaction is open: a checkout authorises first, then writes the orders in one transaction,
//! and voids the authorisations again when that transaction fails (or its commit does); an
//! order's transition commits first and settles with the provider afterwards. No row lock is
//! ever held while a gateway answers.
//!
//! A server has no provider unless one is configured (`NONGZI_PAYMENT_PROVIDER`, see
//! [`ProviderKind`]); without one, ONLINE payment is refused with `PAYMENT_UNAVAILABLE`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PaymentError {
    #[error("declined: {0}")]
    Declined(String),
    #[error("unknown payment {0}")]
    Unknown(String),
    /// The gateway could not be reached or did not answer in time.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
}

/// A payment gateway. Object-safe (held as `Arc<dyn Provider>`); every call is async and made
/// outside any database transaction.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Reserves `amount_fen` on the payer's account; returns the provider's reference.
    /// `merchant_ref` names the payment on the merchant's side (the checkout and the dealer:
    /// the order does not exist yet when it is authorised).
    async fn authorise(&self, merchant_ref: &str, amount_fen: i64) -> Result<String, PaymentError>;
    /// Takes the money of an authorisation.
    async fn capture(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError>;
    /// Cancels an authorisation that was not captured (nothing was charged).
    async fn void(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError>;
    /// Returns the money of a captured payment.
    async fn refund(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError>;
}

/// The providers a server can be configured with (`NONGZI_PAYMENT_PROVIDER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// The built-in sandbox: approves without moving money (demos and tests).
    Sandbox,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 1] = [ProviderKind::Sandbox];

    /// The setting's value, e.g. `sandbox`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "sandbox",
        }
    }

    pub fn parse(s: &str) -> Option<ProviderKind> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// A provider of this kind.
    pub fn build(self) -> std::sync::Arc<dyn Provider> {
        match self {
            ProviderKind::Sandbox => std::sync::Arc::new(Sandbox),
        }
    }
}

/// The sandbox: approves everything except amounts ending in 0.13 yuan (a way for tests and
/// demos to see a decline).
pub struct Sandbox;

/// Amounts whose fen part is 13 are declined by the sandbox.
pub const SANDBOX_DECLINE_FEN: i64 = 13;

impl Sandbox {
    fn known(reference: &str) -> Result<(), PaymentError> {
        if reference.starts_with("sbx_") {
            Ok(())
        } else {
            Err(PaymentError::Unknown(reference.into()))
        }
    }
}

#[async_trait::async_trait]
impl Provider for Sandbox {
    fn name(&self) -> &'static str {
        "SANDBOX"
    }
    async fn authorise(
        &self,
        _merchant_ref: &str,
        amount_fen: i64,
    ) -> Result<String, PaymentError> {
        if amount_fen % 100 == SANDBOX_DECLINE_FEN {
            return Err(PaymentError::Declined(
                "sandbox declines amounts ending in .13".into(),
            ));
        }
        Ok(format!("sbx_{}", uuid::Uuid::now_v7().simple()))
    }
    async fn capture(&self, reference: &str, _amount_fen: i64) -> Result<(), PaymentError> {
        Self::known(reference)
    }
    async fn void(&self, reference: &str, _amount_fen: i64) -> Result<(), PaymentError> {
        Self::known(reference)
    }
    async fn refund(&self, reference: &str, _amount_fen: i64) -> Result<(), PaymentError> {
        Self::known(reference)
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The signature a provider puts on a callback body (hex HMAC-SHA256).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a callback signature in constant time.
pub fn verify(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let s = sign(b"k", b"{\"a\":1}");
        assert!(verify(b"k", b"{\"a\":1}", &s));
        assert!(!verify(b"k", b"{\"a\":2}", &s));
        assert!(!verify(b"other", b"{\"a\":1}", &s));
        assert!(!verify(b"k", b"{\"a\":1}", "zz"));
    }

    #[tokio::test]
    async fn sandbox_declines_13() {
        assert!(Sandbox.authorise("c1-d1", 10_013).await.is_err());
        let r = Sandbox.authorise("c1-d1", 10_000).await.unwrap();
        assert!(Sandbox.capture(&r, 10_000).await.is_ok());
        assert!(Sandbox.void(&r, 10_000).await.is_ok());
        assert!(Sandbox.void("other", 10_000).await.is_err());
    }

    #[test]
    fn provider_kinds_parse() {
        assert_eq!(ProviderKind::parse("sandbox"), Some(ProviderKind::Sandbox));
        assert_eq!(
            ProviderKind::parse(" SANDBOX "),
            Some(ProviderKind::Sandbox)
        );
        assert_eq!(ProviderKind::parse("alipay"), None);
        assert_eq!(ProviderKind::Sandbox.build().name(), "SANDBOX");
    }
}
