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

/// [`create_once`], answering whether this call is the one that created `key` with
/// `initial` (so a caller whose first value is already its update can skip the update).
pub fn created_here(store: &impl KeyValue, key: &str, initial: &[u8]) -> Result<bool, StoreError> {
    if store.exists(key)? {
        return Ok(false);
    }
    if store.increment(&format!("created/{key}"), 1)? == 1 {
        store.set(key, initial)?;
        return Ok(true);
    }
    for _ in 0..1000 {
        if store.exists(key)? {
            return Ok(false);
        }
    }
    Err(StoreError::Unavailable(format!("`{key}` is being created; try again")))
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
pub use memory::MemoryStore;

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
}
