//! Rate limits that slow abuse without losing people: a fixed window per key (an address,
//! a sender). The answer says when to come back (HTTP 429, `Retry-After`).

use crate::clock::Timestamp;
use crate::store::{KeyValue, StoreError};

/// How many requests a key may make per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub requests: u32,
    pub window_ms: i64,
}

/// Complaints per client address: generous, since many citizens share an office's or a
/// mobile operator's address.
pub const PER_ADDRESS: Limit = Limit { requests: 30, window_ms: 10 * 60 * 1000 };
/// Complaints per sender (phone number, messaging handle).
pub const PER_SENDER: Limit = Limit { requests: 10, window_ms: 60 * 60 * 1000 };
/// Sign-in attempts per username.
pub const SIGN_IN: Limit = Limit { requests: 5, window_ms: 15 * 60 * 1000 };

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit: retry after this many seconds.
    Limited {
        retry_after_secs: i64,
    },
}

/// Count one request under `key` and say whether it may go ahead. Each window has its own
/// counter, bumped with the store's atomic increment (no contention between requests); the
/// previous window's counter is removed as the next one starts, so a key keeps at most two.
pub fn check(store: &impl KeyValue, key: &str, limit: Limit, now: Timestamp) -> Result<Verdict, StoreError> {
    let window_start = now.0 - now.0.rem_euclid(limit.window_ms);
    let count = store.increment(&format!("rate/{key}/{window_start}"), 1)?;
    if count == 1 {
        // Most first counts are new senders with no earlier window: a read, not a write.
        let previous = format!("rate/{key}/{}", window_start - limit.window_ms);
        if store.exists(&previous)? {
            store.delete(&previous)?;
        }
    }
    Ok(if count > i64::from(limit.requests) {
        let retry_after_ms = window_start + limit.window_ms - now.0;
        Verdict::Limited { retry_after_secs: (retry_after_ms + 999) / 1000 }
    } else {
        Verdict::Allowed
    })
}

/// Whether `key` is already over `limit` in the current window, without counting this
/// request: for limits on failures (wrong tracking codes), where a success costs nothing and
/// only a failure is counted, with [`check`].
pub fn exceeded(
    store: &impl KeyValue,
    key: &str,
    limit: Limit,
    now: Timestamp,
) -> Result<Verdict, StoreError> {
    let window_start = now.0 - now.0.rem_euclid(limit.window_ms);
    let counter = format!("rate/{key}/{window_start}");
    let count = crate::store::decode_counter(&counter, store.get(&counter)?.as_deref())?;
    Ok(if count >= i64::from(limit.requests) {
        let retry_after_ms = window_start + limit.window_ms - now.0;
        Verdict::Limited { retry_after_secs: (retry_after_ms + 999) / 1000 }
    } else {
        Verdict::Allowed
    })
}

/// Failed tries of a tracking code allowed per ticket (see `tracking_code` for the
/// arithmetic).
pub const CODE_PER_TICKET: Limit = Limit {
    requests: crate::tracking_code::ATTEMPTS_PER_TICKET,
    window_ms: crate::tracking_code::TICKET_WINDOW_MS,
};
/// Failed tries of a tracking code allowed per client address.
pub const CODE_PER_ADDRESS: Limit = Limit {
    requests: crate::tracking_code::ATTEMPTS_PER_ADDRESS,
    window_ms: crate::tracking_code::ADDRESS_WINDOW_MS,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn the_request_over_the_limit_is_told_when_to_come_back() {
        let store = MemoryStore::new();
        let limit = Limit { requests: 2, window_ms: 60_000 };
        let t = Timestamp(120_000 + 15_000);
        assert_eq!(check(&store, "ip/1.2.3.4", limit, t).unwrap(), Verdict::Allowed);
        assert_eq!(check(&store, "ip/1.2.3.4", limit, t).unwrap(), Verdict::Allowed);
        assert_eq!(check(&store, "ip/1.2.3.4", limit, t).unwrap(), Verdict::Limited { retry_after_secs: 45 });
        // Someone else is not affected, and the next window starts afresh.
        assert_eq!(check(&store, "ip/5.6.7.8", limit, t).unwrap(), Verdict::Allowed);
        assert_eq!(check(&store, "ip/1.2.3.4", limit, Timestamp(180_000)).unwrap(), Verdict::Allowed);
        // The window before last is gone: a key keeps at most two counters.
        assert!(!store.exists("rate/ip/1.2.3.4/120000").unwrap());
    }

    #[test]
    fn a_limit_on_failures_counts_only_what_check_counted() {
        let store = MemoryStore::new();
        let limit = Limit { requests: 2, window_ms: 60_000 };
        let t = Timestamp(15_000);
        assert_eq!(exceeded(&store, "code/t", limit, t).unwrap(), Verdict::Allowed);
        assert_eq!(exceeded(&store, "code/t", limit, t).unwrap(), Verdict::Allowed);
        check(&store, "code/t", limit, t).unwrap();
        assert_eq!(exceeded(&store, "code/t", limit, t).unwrap(), Verdict::Allowed);
        check(&store, "code/t", limit, t).unwrap();
        assert_eq!(exceeded(&store, "code/t", limit, t).unwrap(), Verdict::Limited { retry_after_secs: 45 });
    }
}
