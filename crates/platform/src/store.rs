//! [`SpinStore`]: the domain's key-value port over a Spin store.
//!
//! Plain reads and writes go through Spin's key-value interface (`fermyon:spin/key-value`);
//! counters and batches through `wasi:keyvalue` atomics and batch, which Spin serves over the
//! same data. Counters are therefore 8-byte little-endian, as `increment` writes them.

use ntbcare_domain::store::{KeyValue, StoreError};
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wasi_store};

pub struct SpinStore {
    label: String,
    store: Store,
    bucket: std::cell::OnceCell<wasi_store::Bucket>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SpinStore {
    /// Open a store the component declared in `key_value_stores`.
    pub fn open(label: &str) -> Result<SpinStore, StoreError> {
        let store = Store::open(label).map_err(|e| unavailable(format!("store `{label}`: {e}")))?;
        Ok(SpinStore { label: label.to_string(), store, bucket: std::cell::OnceCell::new() })
    }

    pub fn open_default() -> Result<SpinStore, StoreError> {
        Self::open("default")
    }

    fn bucket(&self) -> Result<&wasi_store::Bucket, StoreError> {
        if let Some(b) = self.bucket.get() {
            return Ok(b);
        }
        let b = wasi_store::open(&self.label)
            .map_err(|e| unavailable(format!("bucket `{}`: {e:?}", self.label)))?;
        Ok(self.bucket.get_or_init(|| b))
    }
}

impl KeyValue for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(key).map_err(unavailable)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.store.set(key, value).map_err(unavailable)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.store.delete(key).map_err(unavailable)
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.store.exists(key).map_err(unavailable)
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.store.get_keys().map_err(unavailable)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        atomics::increment(self.bucket()?, key, delta).map_err(|e| unavailable(format!("{e:?}")))
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        batch::set_many(self.bucket()?, entries).map_err(|e| unavailable(format!("{e:?}")))
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        match batch::get_many(self.bucket()?, keys) {
            Ok(found) => {
                // The answer lists the (key, value) pairs that exist; put them in the order asked.
                let mut by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
                    found.into_iter().collect();
                Ok(keys.iter().map(|k| by_key.remove(k).flatten()).collect())
            }
            // Spin's Redis store sends `KEYS k1 k2 …` for a batch, which Redis refuses for two
            // or more keys: read them one by one there.
            Err(_) => keys.iter().map(|k| self.get(k)).collect(),
        }
    }

    fn compare_and_swap(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError> {
        let cas = atomics::Cas::new(self.bucket()?, key).map_err(|e| unavailable(format!("{e:?}")))?;
        // The handle remembers the value it read; the swap fails if it changed since.
        let current = cas.current().map_err(|e| unavailable(format!("{e:?}")))?;
        if current.as_deref() != Some(expected) {
            return Ok(false);
        }
        match atomics::swap(cas, new) {
            Ok(()) => Ok(true),
            // Spin's Redis store reports every swap as failed, even one that wrote (its
            // `UNWATCH <key>` is refused by Redis), and does not notice an EXEC the WATCH
            // aborted. So a failed swap is checked by reading back: the value we meant to
            // write is there, or the swap did not happen.
            Err(atomics::CasError::CasFailed(_)) => Ok(self.get(key)?.as_deref() == Some(new)),
            Err(atomics::CasError::StoreError(e)) => match self.get(key) {
                Ok(current) if current.as_deref() == Some(new) => Ok(true),
                Ok(_) => Ok(false),
                Err(_) => Err(unavailable(format!("{e:?}"))),
            },
        }
    }
}
