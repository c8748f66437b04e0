//! Payment providers. Orders paid ONLINE go through a [`Provider`]: authorise at checkout,
//! capture at hand-over, refund (or void) on cancellation. The built-in sandbox behaves like a
//! gateway without moving money; a real gateway would implement the same trait. Providers
//! report later changes to a callback endpoint whose body is signed with HMAC-SHA256.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PaymentError {
    #[error("declined: {0}")]
    Declined(String),
    #[error("unknown payment {0}")]
    Unknown(String),
}

pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Reserves `amount_fen` on the payer's account; returns the provider's reference.
    fn authorise(&self, order_id: i64, amount_fen: i64) -> Result<String, PaymentError>;
    fn capture(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError>;
    /// Refunds a captured payment, or voids an authorisation.
    fn refund(&self, reference: &str, amount_fen: i64) -> Result<(), PaymentError>;
}

/// The sandbox: approves everything except amounts ending in 0.13 yuan (a way for tests and
/// demos to see a decline), and names each payment after its order.
pub struct Sandbox;

/// Amounts whose fen part is 13 are declined by the sandbox.
pub const SANDBOX_DECLINE_FEN: i64 = 13;

impl Provider for Sandbox {
    fn name(&self) -> &'static str {
        "SANDBOX"
    }
    fn authorise(&self, order_id: i64, amount_fen: i64) -> Result<String, PaymentError> {
        if amount_fen % 100 == SANDBOX_DECLINE_FEN {
            return Err(PaymentError::Declined(
                "sandbox declines amounts ending in .13".into(),
            ));
        }
        Ok(format!("sbx_{order_id}_{}", uuid::Uuid::now_v7().simple()))
    }
    fn capture(&self, reference: &str, _amount_fen: i64) -> Result<(), PaymentError> {
        if reference.starts_with("sbx_") {
            Ok(())
        } else {
            Err(PaymentError::Unknown(reference.into()))
        }
    }
    fn refund(&self, reference: &str, _amount_fen: i64) -> Result<(), PaymentError> {
        if reference.starts_with("sbx_") {
            Ok(())
        } else {
            Err(PaymentError::Unknown(reference.into()))
        }
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

    #[test]
    fn sandbox_declines_13() {
        assert!(Sandbox.authorise(1, 10_013).is_err());
        let r = Sandbox.authorise(1, 10_000).unwrap();
        assert!(Sandbox.capture(&r, 10_000).is_ok());
    }
}
