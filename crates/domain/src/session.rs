//! Officers' sessions: signed, expiring bearer tokens.
//!
//! A token is `base64url(claims JSON) "." base64url(HMAC-SHA256(secret, claims))`. Signing
//! lets any function check a token without a store read; the expiry bounds a stolen token's
//! life; the token id (`jti`) lets sign-out revoke one token by writing a single key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

use crate::clock::Timestamp;
use crate::org::Principal;

/// How long a session lasts: one working day.
pub const SESSION_TTL_MS: i64 = 10 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(flatten)]
    pub principal: Principal,
    pub iat: Timestamp,
    pub exp: Timestamp,
    pub jti: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature is wrong")]
    BadSignature,
    #[error("the session has expired; sign in again")]
    Expired,
    #[error("no session secret is configured")]
    NoSecret,
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>, SessionError> {
    if secret.is_empty() {
        return Err(SessionError::NoSecret);
    }
    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SessionError::NoSecret)
}

/// Sign a session for `principal` starting `now`.
pub fn issue(
    principal: Principal,
    now: Timestamp,
    jti: String,
    secret: &[u8],
) -> Result<(String, Claims), SessionError> {
    issue_for(principal, now, SESSION_TTL_MS, jti, secret)
}

/// How long an API token for an integration lasts before it must be issued again.
pub const API_TOKEN_TTL_MS: i64 = 365 * 24 * 3600 * 1000;

/// Sign a token valid for `ttl_ms`: a session, or an API token for an integration acting as
/// an officer (revoked like a session, by its id).
pub fn issue_for(
    principal: Principal,
    now: Timestamp,
    ttl_ms: i64,
    jti: String,
    secret: &[u8],
) -> Result<(String, Claims), SessionError> {
    let claims = Claims { principal, iat: now, exp: Timestamp(now.0 + ttl_ms), jti };
    let payload = B64.encode(serde_json::to_vec(&claims).expect("claims encode"));
    let mut m = mac(secret)?;
    m.update(payload.as_bytes());
    let sig = B64.encode(m.finalize().into_bytes());
    Ok((format!("{payload}.{sig}"), claims))
}

/// Check a token's signature and expiry and return its claims.
pub fn verify(token: &str, now: Timestamp, secret: &[u8]) -> Result<Claims, SessionError> {
    let (payload, sig) = token.split_once('.').ok_or(SessionError::Malformed)?;
    let sig = B64.decode(sig).map_err(|_| SessionError::Malformed)?;
    let mut m = mac(secret)?;
    m.update(payload.as_bytes());
    m.verify_slice(&sig).map_err(|_| SessionError::BadSignature)?;
    let bytes = B64.decode(payload).map_err(|_| SessionError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| SessionError::Malformed)?;
    if now >= claims.exp {
        return Err(SessionError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Role;

    fn officer() -> Principal {
        Principal {
            username: "budi".into(),
            role: Role::LiaisonOfficer,
            unit: crate::directory::UnitId::parse("dikes").ok(),
        }
    }

    #[test]
    fn a_signed_session_verifies_until_it_expires() {
        let (token, claims) = issue(officer(), Timestamp(1_000), "j1".into(), b"k").unwrap();
        assert_eq!(verify(&token, Timestamp(2_000), b"k").unwrap(), claims);
        assert_eq!(verify(&token, claims.exp, b"k"), Err(SessionError::Expired));
    }

    #[test]
    fn a_token_changed_or_signed_with_another_key_is_refused() {
        let (token, _) = issue(officer(), Timestamp(1_000), "j1".into(), b"k").unwrap();
        assert_eq!(verify(&token, Timestamp(2_000), b"other"), Err(SessionError::BadSignature));
        // Promote oneself to coordinator by editing the claims: the signature no longer fits.
        let (payload, sig) = token.split_once('.').unwrap();
        let mut claims: serde_json::Value = serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
        claims["role"] = "provincial-coordinator".into();
        let forged = format!("{}.{sig}", B64.encode(claims.to_string()));
        assert_eq!(verify(&forged, Timestamp(2_000), b"k"), Err(SessionError::BadSignature));
        assert_eq!(verify("garbage", Timestamp(2_000), b"k"), Err(SessionError::Malformed));
        assert_eq!(verify(&token, Timestamp(2_000), b""), Err(SessionError::NoSecret));
    }
}
