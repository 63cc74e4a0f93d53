//! The key-value port: what the domain needs of a store, implemented for Spin in
//! `ntbcare-platform` and in memory (feature `test-util`) for unit tests.
//!
//! Counters are kept only by [`KeyValue::increment`], which stores them as 8-byte
//! little-endian integers (Spin's format). Never `set` a counter key: on real Spin an
//! increment over any other value panics inside the host and poisons its store.

use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("store is not available: {0}")]
    Unavailable(String),
    #[error("stored value under `{key}` is corrupt: {reason}")]
    Corrupt { key: String, reason: String },
}

pub trait KeyValue {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    fn exists(&self, key: &str) -> Result<bool, StoreError>;
    /// Every key in the store. Costly on a large store: for admin listings only.
    fn keys(&self) -> Result<Vec<String>, StoreError>;
    /// Atomically add `delta` to a counter and return the new value.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
    /// Write several keys at once (one transaction where the store offers it).
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError>;
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// Replace the value under `key` with `new` only if it is still `expected`; answers
    /// whether it did (a key that does not exist is not `expected`). Create keys before
    /// racing on them: on Spin a swap on a missing key is an unprotected upsert.
    fn compare_and_swap(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError>;
}

/// Create `key` with `initial` exactly once, even when several writers race to create it:
/// an atomic counter elects the one that writes; the others wait for the key to appear.
/// Needed before [`update_json`] on a key that may not exist, because a compare-and-swap
/// on a missing key is an unprotected upsert on Spin.
pub fn create_once(store: &impl KeyValue, key: &str, initial: &[u8]) -> Result<(), StoreError> {
    created_here(store, key, initial).map(|_| ())
}

/// How long the others wait for an elected creator's write before presuming it crashed
/// between its election and its write. Its two writes are two store calls back to back (a
/// few ms, ~50 ms at the 99th percentile under load), so two seconds is a stall no live
/// creator comes near, and what the first caller after a crash pays once.
pub const CREATOR_PATIENCE_MS: u64 = 2_000;

/// After this many elections whose creator never wrote, give up (a store failing writes).
const MAX_ELECTIONS: u32 = 16;

/// [`create_once`], answering whether this call is the one that created `key` with
/// `initial` (so a caller whose first value is already its update can skip the update).
///
/// Crash safety: a creator killed between its election (`increment`) and its write leaves
/// the counter taken and the key absent. The others wait [`CREATOR_PATIENCE_MS`] (sleeping,
/// not spinning), then hold the next election on a fresh counter (`created/<key>#<n>`); a
/// later caller starts at the newest election, so a crash costs one wait, once. A creator
/// writes only while no later election has begun, so one that was merely slow does not
/// overwrite what its successor wrote and others updated (the window left is between that
/// check and its write, two store calls after a stall of two seconds).
pub fn created_here(store: &impl KeyValue, key: &str, initial: &[u8]) -> Result<bool, StoreError> {
    created_here_waiting(store, key, initial, &mut sleeping(CREATOR_PATIENCE_MS))
}

/// Patience that sleeps between looks (1, 2, 4 … 100 ms) until `total_ms` are spent.
fn sleeping(total_ms: u64) -> impl FnMut(u32) -> bool {
    let mut slept = 0u64;
    move |look: u32| {
        if slept >= total_ms {
            return false;
        }
        let ms = (1u64 << look.min(7)).min(100).min(total_ms - slept);
        std::thread::sleep(std::time::Duration::from_millis(ms));
        slept += ms;
        true
    }
}

/// The counter of election `n` for `key` (election 0 keeps the key stores already have).
fn election(key: &str, n: u32) -> String {
    if n == 0 {
        format!("created/{key}")
    } else {
        format!("created/{key}#{n}")
    }
}

/// [`created_here`] with the waiting supplied: `wait(look)` is called before each look at
/// the key by a caller that lost an election and answers `false` once its patience is spent.
pub fn created_here_waiting(
    store: &impl KeyValue,
    key: &str,
    initial: &[u8],
    wait: &mut dyn FnMut(u32) -> bool,
) -> Result<bool, StoreError> {
    if store.exists(key)? {
        return Ok(false);
    }
    // Start at the newest election: the older ones' creators are presumed dead already.
    let mut n = 0;
    while n < MAX_ELECTIONS && store.exists(&election(key, n + 1))? {
        n += 1;
    }
    while n < MAX_ELECTIONS {
        if store.increment(&election(key, n), 1)? == 1 && write_if_still_elected(store, key, n, initial)? {
            return Ok(true);
        }
        let mut look = 0;
        while wait(look) {
            if store.exists(key)? {
                return Ok(false);
            }
            look += 1;
        }
        if store.exists(key)? {
            return Ok(false);
        }
        n += 1;
    }
    Err(StoreError::Unavailable(format!("`{key}` is being created; try again")))
}

/// The write of the creator elected in election `n`, unless a later election has begun
/// (it was presumed dead): then it writes nothing and waits like the others.
fn write_if_still_elected(
    store: &impl KeyValue,
    key: &str,
    n: u32,
    initial: &[u8],
) -> Result<bool, StoreError> {
    if store.exists(&election(key, n + 1))? {
        return Ok(false);
    }
    store.set(key, initial)?;
    Ok(true)
}

#[cfg(test)]
mod creation_tests {
    use super::*;

    /// A store that "dies" once the given key is about to be written, as a process killed
    /// between its two writes: the first write is kept, the second never made.
    fn dies_before_writing<'a>(inner: &'a MemoryStore, key: &'a str) -> Watched<'a> {
        Watched { refuse_set: Box::new(move |k| k == key), ..Watched::new(inner) }
    }

    /// Patience of `looks` looks, counted.
    fn patience(looks: u32, counted: &std::cell::Cell<u32>) -> impl FnMut(u32) -> bool + '_ {
        move |look| {
            counted.set(counted.get() + 1);
            look < looks
        }
    }

    #[test]
    fn a_creator_killed_between_its_election_and_its_write_is_replaced_after_one_wait() {
        let store = MemoryStore::new();
        let dying = dies_before_writing(&store, "queue/x");
        assert!(created_here(&dying, "queue/x", b"[]").is_err(), "killed before its write");
        assert!(!store.exists("queue/x").unwrap());
        let looks = std::cell::Cell::new(0);
        assert!(created_here_waiting(&store, "queue/x", b"[]", &mut patience(3, &looks)).unwrap());
        assert_eq!(store.get("queue/x").unwrap().as_deref(), Some(&b"[]"[..]));
        assert_eq!(looks.get(), 4, "one wait (3 looks and the last refusal), no more");
        // Later callers find it at once, and so does anyone after another restart.
        let again = std::cell::Cell::new(0);
        assert!(!created_here_waiting(&store, "queue/x", b"[]", &mut patience(3, &again)).unwrap());
        assert_eq!(again.get(), 0);
    }

    #[test]
    fn after_a_crash_every_later_caller_starts_at_the_newest_election() {
        let store = MemoryStore::new();
        // Two crashed creators in a row: elections 0 and 1 taken, nothing written.
        store.increment(&election("k", 0), 1).unwrap();
        store.increment(&election("k", 1), 1).unwrap();
        let looks = std::cell::Cell::new(0);
        assert!(created_here_waiting(&store, "k", b"1", &mut patience(2, &looks)).unwrap());
        assert_eq!(looks.get(), 3, "waited on election 1 only, won election 2");
        assert!(store.exists(&election("k", 2)).unwrap());
    }

    #[test]
    fn a_caller_that_loses_the_election_answers_once_the_winner_has_written() {
        let store = MemoryStore::new();
        store.increment(&election("k", 0), 1).unwrap(); // the winner, about to write
        let mut wait = |look: u32| {
            if look == 2 {
                store.set("k", b"winner").unwrap();
            }
            look < 100
        };
        assert!(!created_here_waiting(&store, "k", b"loser", &mut wait).unwrap());
        assert_eq!(store.get("k").unwrap().as_deref(), Some(&b"winner"[..]));
        assert!(!store.exists(&election("k", 1)).unwrap(), "no second election held");
    }

    #[test]
    fn a_slow_creator_presumed_dead_does_not_overwrite_its_successors_record() {
        let store = MemoryStore::new();
        assert_eq!(store.increment(&election("k", 0), 1).unwrap(), 1); // slow creator elected
        let mut none = |_: u32| false;
        assert!(created_here_waiting(&store, "k", b"[]", &mut none).unwrap(), "successor, election 1");
        update_json(&store, "k", |v: &mut Vec<u8>| {
            v.push(7);
            Ok::<(), ()>(())
        })
        .unwrap();
        // The slow creator wakes up and would write its initial value: it does not.
        assert!(!write_if_still_elected(&store, "k", 0, b"[]").unwrap());
        assert_eq!(store.get("k").unwrap().as_deref(), Some(&b"[7]"[..]));
    }

    #[test]
    fn a_store_that_never_takes_the_write_ends_in_an_error_not_a_hang() {
        let store = MemoryStore::new();
        let dying = dies_before_writing(&store, "k");
        let mut none = |_: u32| false;
        assert!(created_here_waiting(&dying, "k", b"[]", &mut none).is_err());
    }
}

/// Read-modify-write a JSON record that already exists, safe under concurrent writers:
/// `change` is applied to the current value and written with compare-and-swap, again on the
/// fresh value whenever someone else wrote in between. `change` answering `Err` leaves the
/// record untouched. Answers `Ok(None)` if the record does not exist.
pub fn update_json<T, E>(
    store: &impl KeyValue,
    key: &str,
    mut change: impl FnMut(&mut T) -> Result<(), E>,
) -> Result<Option<Result<T, E>>, StoreError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    const ATTEMPTS: usize = 64;
    for _ in 0..ATTEMPTS {
        let Some(current) = store.get(key)? else { return Ok(None) };
        let mut value: T = serde_json::from_slice(&current)
            .map_err(|e| StoreError::Corrupt { key: key.to_string(), reason: e.to_string() })?;
        if let Err(e) = change(&mut value) {
            return Ok(Some(Err(e)));
        }
        let new = serde_json::to_vec(&value).expect("records encode");
        if store.compare_and_swap(key, &current, &new)? {
            return Ok(Some(Ok(value)));
        }
    }
    Err(StoreError::Unavailable(format!("`{key}` kept changing under {ATTEMPTS} attempts")))
}

/// Read a counter written by `increment` (absent means zero). Spin's SQLite store keeps
/// counters as 8-byte little-endian integers; its Redis store keeps them as Redis integers,
/// which read back as decimal text. Decimal text is recognised first: an 8-byte
/// little-endian counter made only of ASCII digits would exceed 3.4 × 10^18.
pub fn decode_counter(key: &str, value: Option<&[u8]>) -> Result<i64, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { key: key.to_string(), reason };
    match value {
        None => Ok(0),
        Some(bytes) if is_decimal(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt("a decimal counter out of range".into())),
        Some(bytes) => {
            let arr: [u8; 8] = bytes.try_into().map_err(|_| {
                corrupt(format!("a counter is 8 bytes or decimal text, found {} bytes", bytes.len()))
            })?;
            Ok(i64::from_le_bytes(arr))
        }
    }
}

fn is_decimal(bytes: &[u8]) -> bool {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    !digits.is_empty() && digits.len() <= 20 && digits.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod counter_tests {
    use super::decode_counter;

    #[test]
    fn counters_read_back_from_either_back_end() {
        assert_eq!(decode_counter("k", None).unwrap(), 0);
        assert_eq!(decode_counter("k", Some(&42i64.to_le_bytes())).unwrap(), 42);
        assert_eq!(decode_counter("k", Some(&(-3i64).to_le_bytes())).unwrap(), -3);
        assert_eq!(decode_counter("k", Some(b"42")).unwrap(), 42);
        assert_eq!(decode_counter("k", Some(b"12345678")).unwrap(), 12_345_678);
        assert_eq!(decode_counter("k", Some(b"-7")).unwrap(), -7);
        assert!(decode_counter("k", Some(b"abc")).is_err());
    }
}

/// Read and decode a JSON record.
pub fn get_json<T: serde::de::DeserializeOwned>(
    store: &impl KeyValue,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match store.get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt { key: key.to_string(), reason: e.to_string() }),
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use memory::{MemoryStore, Watched};

#[cfg(any(test, feature = "test-util"))]
mod memory {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// A store in memory, for unit tests.
    #[derive(Default)]
    pub struct MemoryStore {
        data: RefCell<BTreeMap<String, Vec<u8>>>,
    }

    impl MemoryStore {
        pub fn new() -> Self {
            Self::default()
        }
    }

    impl KeyValue for MemoryStore {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.data.borrow().get(key).cloned())
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
            self.data.borrow_mut().insert(key.to_string(), value.to_vec());
            Ok(())
        }
        fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.data.borrow_mut().remove(key);
            Ok(())
        }
        fn exists(&self, key: &str) -> Result<bool, StoreError> {
            Ok(self.data.borrow().contains_key(key))
        }
        fn keys(&self) -> Result<Vec<String>, StoreError> {
            Ok(self.data.borrow().keys().cloned().collect())
        }
        fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
            let current = decode_counter(key, self.data.borrow().get(key).map(|v| v.as_slice()))?;
            let next = current + delta;
            self.data.borrow_mut().insert(key.to_string(), next.to_le_bytes().to_vec());
            Ok(next)
        }
        fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
            let mut data = self.data.borrow_mut();
            for (k, v) in entries {
                data.insert(k.clone(), v.clone());
            }
            Ok(())
        }
        fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
            let data = self.data.borrow();
            Ok(keys.iter().map(|k| data.get(k).cloned()).collect())
        }
        fn compare_and_swap(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError> {
            let mut data = self.data.borrow_mut();
            if data.get(key).map(Vec::as_slice) != Some(expected) {
                return Ok(false);
            }
            data.insert(key.to_string(), new.to_vec());
            Ok(true)
        }
    }

    /// A [`MemoryStore`] seen through two hooks, for tests that count what a function reads or
    /// stop it part-way: `on_get` sees every key read, and a `set` of a key `refuse_set` names
    /// fails as if the process had died before writing it. Everything else goes through.
    pub struct Watched<'a> {
        pub inner: &'a MemoryStore,
        pub on_get: Box<dyn Fn(&str) + 'a>,
        pub refuse_set: Box<dyn Fn(&str) -> bool + 'a>,
    }

    impl<'a> Watched<'a> {
        pub fn new(inner: &'a MemoryStore) -> Self {
            Watched { inner, on_get: Box::new(|_| {}), refuse_set: Box::new(|_| false) }
        }
    }

    impl KeyValue for Watched<'_> {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            (self.on_get)(key);
            self.inner.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
            if (self.refuse_set)(key) {
                return Err(StoreError::Unavailable("killed".into()));
            }
            self.inner.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.inner.delete(key)
        }
        fn exists(&self, key: &str) -> Result<bool, StoreError> {
            self.inner.exists(key)
        }
        fn keys(&self) -> Result<Vec<String>, StoreError> {
            self.inner.keys()
        }
        fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
            self.inner.increment(key, delta)
        }
        fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
            self.inner.set_many(entries)
        }
        fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
            self.inner.get_many(keys)
        }
        fn compare_and_swap(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError> {
            self.inner.compare_and_swap(key, expected, new)
        }
    }
}
