//! `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue/{store,atomics,batch}@0.2.0-draft2`
//! for guests, over the same [`Store`]s (spinframework/spin `crates/factor-key-value/src/host.rs`).
//!
//! A component may open only the labels in its `key_value_stores` (`access-denied`
//! otherwise, whether or not the store exists); labels it declares are all configured,
//! because an unconfigured one stops the host at startup, as in Spin.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use wasmtime::component::Resource;

use super::{Cas, Store, Stores, Tracked};
use crate::bindings::fermyon::spin::key_value as spin_kv;
use crate::bindings::wasi::keyvalue::{atomics, batch, store as wasi_store};
use crate::instance::HostState;

/// An open `fermyon:spin/key-value` store.
pub struct SpinStore(Arc<dyn Store>);
/// An open `wasi:keyvalue` bucket.
pub struct Bucket(Arc<dyn Store>);
/// A `wasi:keyvalue/atomics.cas` in progress.
pub struct CasHandle {
    store: Arc<dyn Store>,
    key: String,
    cas: Box<dyn Cas>,
}

/// Per-instance key-value state.
pub struct KvCtx {
    pub allowed: Arc<HashSet<String>>,
    pub stores: Arc<Stores>,
    /// Whether the instance wrote, or read a write not yet durable: its response then waits
    /// for [`Stores::sync`].
    pub used: Arc<AtomicBool>,
    /// The label this instance last wrote to (see `Tracked`).
    pub last_written: Arc<std::sync::Mutex<Option<String>>>,
}

impl KvCtx {
    fn open(&self, label: &str) -> Result<Arc<dyn Store>, spin_kv::Error> {
        if !self.allowed.contains(label) {
            return Err(spin_kv::Error::AccessDenied);
        }
        let store = self.stores.get(label).ok_or(spin_kv::Error::NoSuchStore)?;
        Ok(Arc::new(Tracked::new(
            store,
            self.used.clone(),
            label,
            self.stores.clone(),
            self.last_written.clone(),
        )))
    }
}

type Wt<T> = wasmtime::Result<T>;

fn other(e: String) -> spin_kv::Error {
    spin_kv::Error::Other(e)
}

impl spin_kv::Host for HostState {}

impl spin_kv::HostStore for HostState {
    async fn open(&mut self, label: String) -> Wt<Result<Resource<SpinStore>, spin_kv::Error>> {
        Ok(match self.kv.open(&label) {
            Ok(s) => Ok(self.table.push(SpinStore(s))?),
            Err(e) => Err(e),
        })
    }

    async fn get(
        &mut self,
        this: Resource<SpinStore>,
        key: String,
    ) -> Wt<Result<Option<Vec<u8>>, spin_kv::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.get(&key).await.map_err(other))
    }

    async fn set(
        &mut self,
        this: Resource<SpinStore>,
        key: String,
        value: Vec<u8>,
    ) -> Wt<Result<(), spin_kv::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.set(&key, value).await.map_err(other))
    }

    async fn delete(&mut self, this: Resource<SpinStore>, key: String) -> Wt<Result<(), spin_kv::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.delete(&key).await.map_err(other))
    }

    async fn exists(&mut self, this: Resource<SpinStore>, key: String) -> Wt<Result<bool, spin_kv::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.exists(&key).await.map_err(other))
    }

    async fn get_keys(&mut self, this: Resource<SpinStore>) -> Wt<Result<Vec<String>, spin_kv::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.get_keys().await.map_err(other))
    }

    async fn drop(&mut self, this: Resource<SpinStore>) -> Wt<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

fn wasi_err(e: String) -> wasi_store::Error {
    wasi_store::Error::Other(e)
}

impl wasi_store::Host for HostState {
    async fn open(&mut self, identifier: String) -> Wt<Result<Resource<Bucket>, wasi_store::Error>> {
        Ok(match self.kv.open(&identifier) {
            Ok(s) => Ok(self.table.push(Bucket(s))?),
            Err(spin_kv::Error::AccessDenied) => Err(wasi_store::Error::AccessDenied),
            Err(spin_kv::Error::NoSuchStore) => Err(wasi_store::Error::NoSuchStore),
            Err(_) => Err(wasi_store::Error::Other("store table full".into())),
        })
    }
}

impl wasi_store::HostBucket for HostState {
    async fn get(
        &mut self,
        this: Resource<Bucket>,
        key: String,
    ) -> Wt<Result<Option<Vec<u8>>, wasi_store::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.get(&key).await.map_err(wasi_err))
    }

    async fn set(
        &mut self,
        this: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> Wt<Result<(), wasi_store::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.set(&key, value).await.map_err(wasi_err))
    }

    async fn delete(&mut self, this: Resource<Bucket>, key: String) -> Wt<Result<(), wasi_store::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.delete(&key).await.map_err(wasi_err))
    }

    async fn exists(&mut self, this: Resource<Bucket>, key: String) -> Wt<Result<bool, wasi_store::Error>> {
        let s = self.table.get(&this)?.0.clone();
        Ok(s.exists(&key).await.map_err(wasi_err))
    }

    async fn list_keys(
        &mut self,
        this: Resource<Bucket>,
        cursor: Option<String>,
    ) -> Wt<Result<wasi_store::KeyResponse, wasi_store::Error>> {
        if cursor.is_some() {
            return Ok(Err(wasi_store::Error::Other("list_keys: cursor not supported".into())));
        }
        let s = self.table.get(&this)?.0.clone();
        Ok(s.get_keys().await.map(|keys| wasi_store::KeyResponse { keys, cursor: None }).map_err(wasi_err))
    }

    async fn drop(&mut self, this: Resource<Bucket>) -> Wt<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl batch::Host for HostState {
    async fn get_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> Wt<Result<Vec<(String, Option<Vec<u8>>)>, wasi_store::Error>> {
        let s = self.table.get(&bucket)?.0.clone();
        if keys.is_empty() {
            return Ok(Ok(vec![]));
        }
        Ok(s.get_many(keys).await.map_err(wasi_err))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<Bucket>,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> Wt<Result<(), wasi_store::Error>> {
        let s = self.table.get(&bucket)?.0.clone();
        if pairs.is_empty() {
            return Ok(Ok(()));
        }
        Ok(s.set_many(pairs).await.map_err(wasi_err))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> Wt<Result<(), wasi_store::Error>> {
        let s = self.table.get(&bucket)?.0.clone();
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        Ok(s.delete_many(keys).await.map_err(wasi_err))
    }
}

impl atomics::Host for HostState {
    async fn increment(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> Wt<Result<i64, wasi_store::Error>> {
        let s = self.table.get(&bucket)?.0.clone();
        Ok(s.increment(&key, delta).await.map_err(wasi_err))
    }

    async fn swap(&mut self, cas: Resource<CasHandle>, value: Vec<u8>) -> Wt<Result<(), atomics::CasError>> {
        let CasHandle { store, key, mut cas } = self.table.delete(cas)?;
        match cas.swap(value).await {
            Ok(true) => Ok(Ok(())),
            // As Spin: hand back a fresh CAS, already primed with `current`, to retry with.
            Ok(false) => {
                let mut fresh = match store.new_cas(&key).await {
                    Ok(c) => c,
                    Err(e) => return Ok(Err(atomics::CasError::StoreError(wasi_err(e)))),
                };
                if let Err(e) = fresh.current().await {
                    return Ok(Err(atomics::CasError::StoreError(wasi_err(e))));
                }
                let fresh = self.table.push(CasHandle { store, key, cas: fresh })?;
                Ok(Err(atomics::CasError::CasFailed(fresh)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(wasi_err(e)))),
        }
    }
}

impl atomics::HostCas for HostState {
    async fn new(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> Wt<Result<Resource<CasHandle>, wasi_store::Error>> {
        let store = self.table.get(&bucket)?.0.clone();
        let cas = match store.new_cas(&key).await {
            Ok(c) => c,
            Err(e) => return Ok(Err(wasi_err(e))),
        };
        Ok(Ok(self.table.push(CasHandle { store, key, cas })?))
    }

    async fn current(&mut self, this: Resource<CasHandle>) -> Wt<Result<Option<Vec<u8>>, wasi_store::Error>> {
        Ok(self.table.get_mut(&this)?.cas.current().await.map_err(wasi_err))
    }

    async fn drop(&mut self, this: Resource<CasHandle>) -> Wt<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
