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
}

/// Read a counter written by `increment` (absent means zero).
pub fn decode_counter(key: &str, value: Option<&[u8]>) -> Result<i64, StoreError> {
    match value {
        None => Ok(0),
        Some(bytes) => {
            let arr: [u8; 8] = bytes.try_into().map_err(|_| StoreError::Corrupt {
                key: key.to_string(),
                reason: format!("a counter is 8 bytes, found {}", bytes.len()),
            })?;
            Ok(i64::from_le_bytes(arr))
        }
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
    }
}
