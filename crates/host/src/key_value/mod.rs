//! Key-value storage: the back ends behind `fermyon:spin/key-value` and `wasi:keyvalue`.
//!
//! A [`Store`] is one label's view of a back end. Spin's semantics are kept exactly where an
//! app can observe them (see each back end); the one intended difference is that a value that
//! is not an 8-byte little-endian counter makes `increment` return an error to the guest,
//! where Spin's SQLite store panics and poisons every later key-value call of the app.

pub mod host;
pub mod redis;
pub mod sqlite;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;

use crate::runtime_config::KvBackendConfig;

/// Errors are text: both key-value interfaces report back-end failures as `other(string)`.
pub type KvResult<T> = std::result::Result<T, String>;

#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>>;
    async fn set(&self, key: &str, value: Vec<u8>) -> KvResult<()>;
    async fn delete(&self, key: &str) -> KvResult<()>;
    async fn exists(&self, key: &str) -> KvResult<bool>;
    async fn get_keys(&self) -> KvResult<Vec<String>>;
    /// Like Spin: only keys that exist are returned.
    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>>;
    /// One transaction: all or nothing.
    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()>;
    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()>;
    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64>;
    /// Spin's `new_compare_and_swap`: a handle on which the guest calls `current`, then `swap`.
    async fn new_cas(&self, key: &str) -> KvResult<Box<dyn Cas>>;
    /// Whether any of `keys` (any key of the label, if `None`) has a write that is not yet
    /// durable, so a request that read it must wait for [`Stores::sync`] before it answers.
    fn pending(&self, _keys: Option<&[&str]>) -> bool {
        false
    }
}

/// One request's view of a store: notes whether the request wrote, or read something not
/// yet durable, so that only those requests wait for [`Stores::sync`] before answering.
pub struct Tracked {
    inner: Arc<dyn Store>,
    needs_sync: Arc<AtomicBool>,
    label: String,
    stores: Arc<Stores>,
    /// The label the request last wrote to, shared by all the stores it opened.
    last_written: Arc<std::sync::Mutex<Option<String>>>,
}

impl Tracked {
    pub fn new(
        inner: Arc<dyn Store>,
        needs_sync: Arc<AtomicBool>,
        label: &str,
        stores: Arc<Stores>,
        last_written: Arc<std::sync::Mutex<Option<String>>>,
    ) -> Tracked {
        Tracked { inner, needs_sync, label: label.to_string(), stores, last_written }
    }

    fn wrote(&self) {
        self.needs_sync.store(true, Ordering::Relaxed);
    }

    /// Spin commits every call in order, so a write to one store is durable before a later
    /// write to another. Commits are shared per database here, and a kill could keep the later
    /// store's write and lose the earlier one's: a request that moves on to write another
    /// store first waits for what it wrote so far to be durable.
    async fn before_write(&self) -> KvResult<()> {
        self.wrote();
        let switched = {
            let mut last = self.last_written.lock().unwrap();
            let switched = last.as_deref().is_some_and(|l| l != self.label);
            *last = Some(self.label.clone());
            switched
        };
        if switched {
            self.stores.sync().await?;
        }
        Ok(())
    }

    /// After a read: anything it may have seen that is not durable yet?
    fn read(&self, keys: Option<&[&str]>) {
        if self.inner.pending(keys) {
            self.wrote();
        }
    }
}

#[async_trait]
impl Store for Tracked {
    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        let r = self.inner.get(key).await;
        self.read(Some(&[key]));
        r
    }
    async fn set(&self, key: &str, value: Vec<u8>) -> KvResult<()> {
        self.before_write().await?;
        self.inner.set(key, value).await
    }
    async fn delete(&self, key: &str) -> KvResult<()> {
        self.before_write().await?;
        self.inner.delete(key).await
    }
    async fn exists(&self, key: &str) -> KvResult<bool> {
        let r = self.inner.exists(key).await;
        self.read(Some(&[key]));
        r
    }
    async fn get_keys(&self) -> KvResult<Vec<String>> {
        let r = self.inner.get_keys().await;
        self.read(None);
        r
    }
    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        let asked: Vec<String> = keys.clone();
        let r = self.inner.get_many(keys).await;
        self.read(Some(&asked.iter().map(String::as_str).collect::<Vec<_>>()));
        r
    }
    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.before_write().await?;
        self.inner.set_many(pairs).await
    }
    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        self.before_write().await?;
        self.inner.delete_many(keys).await
    }
    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        self.before_write().await?;
        self.inner.increment(key, delta).await
    }
    async fn new_cas(&self, key: &str) -> KvResult<Box<dyn Cas>> {
        // A CAS reads and may write: the request waits for durability either way.
        self.before_write().await?;
        self.inner.new_cas(key).await
    }
    fn pending(&self, keys: Option<&[&str]>) -> bool {
        self.inner.pending(keys)
    }
}

/// One compare-and-swap in progress (Spin's `spin_factor_key_value::Cas`).
#[async_trait]
pub trait Cas: Send + Sync {
    /// The value now; what `swap` compares against (each back end as Spin's does it).
    async fn current(&mut self) -> KvResult<Option<Vec<u8>>>;
    /// `Ok(true)`: swapped; `Ok(false)`: Spin's `SwapError::CasFailed` (the guest gets a fresh
    /// CAS to retry with); `Err`: any other store error.
    async fn swap(&mut self, value: Vec<u8>) -> KvResult<bool>;
}

/// Every configured label, opened lazily by the back ends themselves.
pub struct Stores {
    stores: HashMap<String, Arc<dyn Store>>,
    summaries: BTreeMap<String, String>,
    /// The SQLite files, for [`Stores::sync`].
    databases: Vec<Arc<sqlite::Database>>,
}

impl Stores {
    pub fn open(config: &BTreeMap<String, KvBackendConfig>, synchronous: sqlite::Sync) -> Result<Stores> {
        let mut dbs: HashMap<Option<PathBuf>, Arc<sqlite::Database>> = HashMap::new();
        let mut stores: HashMap<String, Arc<dyn Store>> = HashMap::new();
        let mut summaries = BTreeMap::new();
        let mut databases = Vec::new();
        for (label, cfg) in config {
            let store: Arc<dyn Store> = match cfg {
                KvBackendConfig::Sqlite(path) => {
                    // Labels sharing a file share one writer, so group commit spans them; each
                    // in-memory store is its own database (Spin's are too).
                    let db = match path {
                        Some(p) => match dbs.get(&Some(p.clone())) {
                            Some(db) => db.clone(),
                            None => {
                                let db = Arc::new(sqlite::Database::open(Some(p.clone()), synchronous)?);
                                dbs.insert(Some(p.clone()), db.clone());
                                databases.push(db.clone());
                                db
                            }
                        },
                        None => {
                            let db = Arc::new(sqlite::Database::open(None, synchronous)?);
                            databases.push(db.clone());
                            db
                        }
                    };
                    summaries.insert(
                        label.clone(),
                        match path {
                            Some(p) => format!("{:?}", p.display().to_string()),
                            None => "a temporary in-memory store".into(),
                        },
                    );
                    Arc::new(sqlite::SqliteStore::new(db, label))
                }
                KvBackendConfig::Redis { url } => {
                    summaries.insert(label.clone(), format!("Redis at {}", without_password(url)));
                    Arc::new(redis::RedisStore::new(url)?)
                }
            };
            stores.insert(label.clone(), store);
        }
        Ok(Stores { stores, summaries, databases })
    }

    /// Wait until every write applied so far is durable (see [`sqlite::Database::sync`]);
    /// Redis answers a write once it has it, so there is nothing to wait for there.
    pub async fn sync(&self) -> KvResult<()> {
        for db in &self.databases {
            db.sync().await?;
        }
        Ok(())
    }

    pub fn is_defined(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }

    pub fn get(&self, label: &str) -> Option<Arc<dyn Store>> {
        self.stores.get(label).cloned()
    }

    pub fn summaries(&self) -> &BTreeMap<String, String> {
        &self.summaries
    }
}

/// A Redis URL as printed at start: a password in it (`redis://:pw@host`) is shown as `***`.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_redis_password_is_never_printed() {
        assert_eq!(
            super::without_password("redis://:hunter2@10.0.0.5:6379/1"),
            "redis://:***@10.0.0.5:6379/1"
        );
        assert_eq!(super::without_password("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
