//! Message authentication shared by the channels: HMAC checks in constant time, and the small
//! decoders their signature headers need.
//!
//! Every check decodes the header into bytes and lets `Mac::verify_slice` compare, which is
//! constant-time, so a forger learns nothing from how long a wrong guess takes. A missing
//! secret is refused outright: an empty key is a key anyone can sign with.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::ChannelError;

/// Check `expected` (raw MAC bytes from a header) against HMAC-SHA256(`secret`, `parts`…).
pub(crate) fn verify_sha256(secret: &str, parts: &[&[u8]], expected: &[u8]) -> Result<(), ChannelError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(require_secret(secret)?.as_bytes())
        .map_err(|_| ChannelError::SecretNotConfigured)?;
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected).map_err(|_| ChannelError::BadSignature)
}

/// Check `expected` against HMAC-SHA1(`secret`, `parts`…), Twilio's scheme.
pub(crate) fn verify_sha1(secret: &str, parts: &[&[u8]], expected: &[u8]) -> Result<(), ChannelError> {
    let mut mac = Hmac::<Sha1>::new_from_slice(require_secret(secret)?.as_bytes())
        .map_err(|_| ChannelError::SecretNotConfigured)?;
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected).map_err(|_| ChannelError::BadSignature)
}

/// HMAC-SHA256 as lowercase hex, for tests and for documenting what a sender computes.
#[cfg(test)]
pub(crate) fn sign_sha256_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    crate::hex::encode(&mac.finalize().into_bytes())
}

/// Compare two secrets of possibly different lengths without leaking where they differ.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

fn require_secret(secret: &str) -> Result<&str, ChannelError> {
    if secret.is_empty() {
        Err(ChannelError::SecretNotConfigured)
    } else {
        Ok(secret)
    }
}

/// Read `sha256=<hex>` (prefix and hex in any case) into the 32 MAC bytes.
pub(crate) fn sha256_header(header: &str) -> Result<Vec<u8>, ChannelError> {
    let header = header.trim();
    let (scheme, hex) = header.split_once('=').ok_or(ChannelError::BadSignature)?;
    if !scheme.eq_ignore_ascii_case("sha256") {
        return Err(ChannelError::BadSignature);
    }
    let bytes = decode_hex(hex).ok_or(ChannelError::BadSignature)?;
    if bytes.len() != 32 {
        return Err(ChannelError::BadSignature);
    }
    Ok(bytes)
}

/// Hex in either case to bytes; `None` for an odd length or a non-hex digit.
pub(crate) fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.as_bytes();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    hex.chunks(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decodes_in_either_case_and_refuses_junk() {
        assert_eq!(decode_hex("00ffAb"), Some(vec![0, 255, 0xab]));
        assert_eq!(decode_hex(""), Some(vec![]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é1"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("token", "token"));
        assert!(!same_secret("token", "tokens"));
        assert!(!same_secret("", "token"));
    }

    #[test]
    fn rfc4231_test_case_2_verifies() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(sign_sha256_hex("Jefe", &[b"what do ya want ", b"for nothing?"]), expected);
        let bytes = sha256_header(&format!("SHA256={}", expected.to_uppercase())).unwrap();
        assert_eq!(verify_sha256("Jefe", &[b"what do ya want for nothing?"], &bytes), Ok(()));
        assert_eq!(
            verify_sha256("jefe", &[b"what do ya want for nothing?"], &bytes),
            Err(ChannelError::BadSignature)
        );
        assert_eq!(verify_sha256("", &[b"x"], &bytes), Err(ChannelError::SecretNotConfigured));
    }

    #[test]
    fn malformed_sha256_headers_are_bad_signatures() {
        for h in
            ["", "sha256", "sha1=abcd", "sha256=xyz", "sha256=abcd", &format!("sha256={}", "a".repeat(66))]
        {
            assert_eq!(sha256_header(h), Err(ChannelError::BadSignature), "{h:?}");
        }
    }
}
