//! Cookies, CSRF tokens and the sign-in rate limit.
//!
//! Every cookie is HttpOnly and SameSite=Strict, and Secure unless `portal_secure_cookies`
//! is `false` (plain-HTTP development on another machine than the browser's; browsers treat
//! http://127.0.0.1 and localhost as secure, so the default works there).
//!
//! CSRF: each browser gets a random nonce cookie; a form carries
//! HMAC-SHA256(key, nonce ‖ officer session). A cross-site page can neither read the nonce
//! nor compute the MAC, and a signed-out or other officer's token no longer matches. The key is
//! the `portal_secret` variable, or, when it is left empty, a random key the portal makes once
//! and keeps in its store, so a fresh deployment is protected without configuration.

use hmac::{Hmac, Mac};
use ntbcare_domain::store::KeyValue;
use ntbcare_platform::http::constant_time_eq;
use sha2::Sha256;

/// Names of the portal's cookies and store keys, in one place.
pub mod names {
    /// The visitor's CSRF nonce.
    pub const NONCE: &str = "ntb_nonce";
    /// The reader's language choice.
    pub const LANG: &str = "ntb_bahasa";
    /// The officer's casework session token.
    pub const SESSION: &str = "ntb_sesi";
    /// The ticket and tracking secret shown once on the confirmation page.
    pub const RECEIPT: &str = "ntb_tanda_terima";
    /// The CSRF key made when `portal_secret` is empty.
    pub const CSRF_KEY: &str = "portal/csrf-key";

    /// Failed and successful sign-ins of one username from one address in one window.
    pub fn login_attempts(username: &str, ip: &str, window: i64) -> String {
        format!("portal/login-attempts/{window}/{username}/{ip}")
    }
}

/// The cookies a request carries.
pub fn parse_cookies(header: Option<&str>) -> Vec<(String, String)> {
    header
        .unwrap_or("")
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure when `secure`.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str, path: &str, secure: bool) -> String {
    set_cookie(name, "", path, Some(0), secure)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The form token for a nonce and, when signed in, the officer's session.
pub fn csrf_token(key: &[u8], nonce: &str, session: Option<&str>) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"ntbcare-portal-csrf-v1\n");
    mac.update(nonce.as_bytes());
    mac.update(b"\n");
    mac.update(session.unwrap_or("").as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Whether a posted token is the one for this nonce and session.
pub fn csrf_valid(key: &[u8], nonce: Option<&str>, session: Option<&str>, presented: Option<&str>) -> bool {
    match (nonce, presented) {
        (Some(nonce), Some(presented)) if nonce.len() >= 16 => {
            constant_time_eq(csrf_token(key, nonce, session).as_bytes(), presented.as_bytes())
        }
        _ => false,
    }
}

/// The CSRF key: the configured secret, or one made once and kept in the store.
pub fn csrf_key(configured: &str, store: &impl KeyValue, fresh: impl FnOnce() -> String) -> Vec<u8> {
    if !configured.is_empty() {
        return configured.as_bytes().to_vec();
    }
    match store.get(names::CSRF_KEY) {
        Ok(Some(k)) if k.len() >= 32 => k,
        _ => {
            let _ = store.set(names::CSRF_KEY, fresh().as_bytes());
            // Two first requests may race: read back what won, so both use one key.
            store.get(names::CSRF_KEY).ok().flatten().unwrap_or_default()
        }
    }
}

/// Sign-ins allowed per username and address in one window.
pub const LOGIN_ATTEMPTS: i64 = 5;
/// The window: 15 minutes.
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Count a sign-in attempt; `Err(seconds)` to wait when over the limit.
pub fn count_login(store: &impl KeyValue, username: &str, ip: &str, now_ms: i64) -> Result<(), u64> {
    let window = now_ms.div_euclid(LOGIN_WINDOW_MS);
    let user: String =
        username.trim().to_lowercase().chars().filter(|c| c.is_ascii_graphic()).take(40).collect();
    let key = names::login_attempts(&user, ip, window);
    // Counters are written only by increment (see architecture.md). A store failure must not
    // lock officers out; the casework API still checks the password.
    let attempts = store.increment(&key, 1).unwrap_or(0);
    if attempts > LOGIN_ATTEMPTS {
        let wait_ms = (window + 1) * LOGIN_WINDOW_MS - now_ms;
        return Err((wait_ms as u64).div_ceil(1000).max(1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntbcare_domain::store::MemoryStore as Memory;

    #[test]
    fn csrf_tokens_bind_the_nonce_and_the_session() {
        let key = b"k".repeat(32);
        let nonce = "0123456789abcdef0123";
        let t = csrf_token(&key, nonce, Some("officer-token"));
        assert!(csrf_valid(&key, Some(nonce), Some("officer-token"), Some(&t)));
        assert!(!csrf_valid(&key, Some(nonce), None, Some(&t)), "signed out");
        assert!(!csrf_valid(&key, Some(nonce), Some("other-token"), Some(&t)));
        assert!(!csrf_valid(&key, Some("another-nonce-0123456"), Some("officer-token"), Some(&t)));
        assert!(!csrf_valid(&key, None, Some("officer-token"), Some(&t)));
        assert!(!csrf_valid(&key, Some(nonce), Some("officer-token"), None));
        assert!(!csrf_valid(&key, Some("short"), None, Some(&csrf_token(&key, "short", None))));
    }

    #[test]
    fn the_csrf_key_is_made_once_when_not_configured() {
        let store = Memory::default();
        let a = csrf_key("", &store, || "a".repeat(64));
        let b = csrf_key("", &store, || "b".repeat(64));
        assert_eq!(a, b);
        assert_eq!(csrf_key("configured", &store, || unreachable!()), b"configured");
    }

    #[test]
    fn the_sixth_sign_in_in_a_window_waits_for_the_next() {
        let store = Memory::default();
        let now = 10 * LOGIN_WINDOW_MS + 60_000;
        for _ in 0..LOGIN_ATTEMPTS {
            assert_eq!(count_login(&store, "Mataram", "127.0.0.1", now), Ok(()));
        }
        assert_eq!(count_login(&store, "mataram", "127.0.0.1", now), Err(14 * 60));
        assert_eq!(count_login(&store, "mataram", "10.0.0.9", now), Ok(()), "another address");
        assert_eq!(count_login(&store, "mataram", "127.0.0.1", 11 * LOGIN_WINDOW_MS), Ok(()));
    }

    #[test]
    fn cookie_attributes() {
        assert_eq!(set_cookie("a", "b", "/", None, true), "a=b; Path=/; HttpOnly; SameSite=Strict; Secure");
        assert_eq!(clear_cookie("a", "/x", false), "a=; Path=/x; HttpOnly; SameSite=Strict; Max-Age=0");
        assert_eq!(
            parse_cookies(Some("a=1; b = 2;c")),
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
    }
}
