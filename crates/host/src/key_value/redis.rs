//! The Redis back end (`type = "redis"`, `url = "redis://..."`), command for command as Spin's
//! `crates/key-value-redis/src/store.rs` (spinframework/spin), so an app sees here what it
//! would see on Spin with the same runtime config:
//!
//! - keys are stored as given, **without the label**: every label on one Redis shares one
//!   keyspace (and `get-keys` is `KEYS *`, every key of the database). Two labels that must
//!   stay apart need two Redis URLs (another server, or another database: `redis://h:p/1`).
//! - `increment` is `INCRBY`, so a counter is a Redis integer (its decimal text, e.g. `b"13"`),
//!   **not** the 8-byte little-endian value of the SQLite back end; `INCRBY` on a value that
//!   is not a decimal integer is an error (the store keeps working).
//! - `get-many` sends what Spin sends, `KEYS k1 k2 ...` (not MGET): with two or more keys Redis
//!   answers `wrong number of arguments`, with one it cannot be read as pairs. On Spin's Redis
//!   store `get-many` never returns values; use `get` per key.
//! - compare-and-swap is Spin's WATCH / GET on `current`, then `MULTI SET EXEC` and
//!   `UNWATCH <key>` on `swap`, on a connection of its own. Two consequences an app must know:
//!   an EXEC that Redis aborted because the key changed is *not* detected (Spin reads the nil
//!   reply as success), and `UNWATCH` with an argument is a Redis arity error, which Spin turns
//!   into `cas-failed` after every swap, including those that wrote. So on Spin's Redis store
//!   CAS is unusable: allocate with `increment` instead.
//! - the connection is made on first use, so the host starts while Redis is still down.

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use tokio::sync::OnceCell;

use super::{Cas, KvResult, Store};

pub struct RedisStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
}

impl RedisStore {
    pub fn new(url: &str) -> anyhow::Result<RedisStore> {
        Ok(RedisStore { client: redis::Client::open(url)?, conn: OnceCell::new() })
    }

    async fn conn(&self) -> KvResult<ConnectionManager> {
        self.conn
            .get_or_try_init(|| async { self.client.get_connection_manager().await })
            .await
            .cloned()
            .map_err(|e| e.to_string())
    }
}

fn err(e: redis::RedisError) -> String {
    e.to_string()
}

#[async_trait]
impl Store for RedisStore {
    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.conn().await?.get(key).await.map_err(err)
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> KvResult<()> {
        self.conn().await?.set(key, value).await.map_err(err)
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        self.conn().await?.del(key).await.map_err(err)
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        self.conn().await?.exists(key).await.map_err(err)
    }

    async fn get_keys(&self) -> KvResult<Vec<String>> {
        self.conn().await?.keys("*").await.map_err(err)
    }

    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        // Spin's exact call (`.keys::<_, Vec<(String, Option<Vec<u8>>)>>(keys)`): see above.
        self.conn().await?.keys::<_, Vec<(String, Option<Vec<u8>>)>>(keys).await.map_err(err)
    }

    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        self.conn().await?.mset(&pairs).await.map_err(err)
    }

    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.conn().await?.del(keys).await.map_err(err)
    }

    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        self.conn().await?.incr(key, delta).await.map_err(err)
    }

    async fn new_cas(&self, key: &str) -> KvResult<Box<dyn Cas>> {
        // Spin opens a connection per CAS: WATCH belongs to a connection.
        let connection = self.client.get_connection_manager().await.map_err(err)?;
        Ok(Box::new(RedisCas { key: key.to_string(), connection }))
    }
}

struct RedisCas {
    key: String,
    connection: ConnectionManager,
}

#[async_trait]
impl Cas for RedisCas {
    async fn current(&mut self) -> KvResult<Option<Vec<u8>>> {
        redis::cmd("WATCH").arg(&self.key).exec_async(&mut self.connection.clone()).await.map_err(err)?;
        self.connection.clone().get::<_, Option<Vec<u8>>>(&self.key).await.map_err(err)
    }

    async fn swap(&mut self, value: Vec<u8>) -> KvResult<bool> {
        let res: Result<(), redis::RedisError> =
            redis::pipe().atomic().set(&self.key, value).query_async(&mut self.connection.clone()).await;
        // As Spin; Redis's UNWATCH takes no argument, so this fails and the swap is `cas-failed`.
        if redis::cmd("UNWATCH").arg(&self.key).exec_async(&mut self.connection.clone()).await.is_err() {
            return Ok(false);
        }
        match res {
            Ok(()) => Ok(true),
            Err(_) => Ok(false),
        }
    }
}
