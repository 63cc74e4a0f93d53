//! The Redis back end (`type = "redis"`, `url = "redis://..."`), as Spin's
//! `crates/key-value-redis`:
//!
//! - keys are stored as given, **without the label**: every label on one Redis shares one
//!   keyspace, and `get-keys` is `KEYS *`;
//! - `increment` is `INCRBY`, so a counter is a Redis integer (its decimal text), **not** the
//!   8-byte little-endian value the SQLite back end stores; apps that read counters back with
//!   `get` see different bytes on the two back ends;
//! - the connection is made on first use, so the host starts while Redis is still down.
//!
//! Compare-and-swap is one Lua script (compare then set), which is atomic where Spin uses
//! WATCH/MULTI; the observable outcome is the same. `get-many` uses MGET and, like the SQLite
//! back end, returns only keys that exist.

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use tokio::sync::OnceCell;

use super::{KvResult, Store};

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

const CAS_SCRIPT: &str = r#"
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur == false or cur ~= ARGV[2] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
"#;

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
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let values: Vec<Option<Vec<u8>>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut self.conn().await?).await.map_err(err)?;
        Ok(keys.into_iter().zip(values).filter(|(_, v)| v.is_some()).collect())
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

    async fn compare_and_swap(&self, key: &str, expected: Option<Vec<u8>>, new: Vec<u8>) -> KvResult<bool> {
        let (check, old) = match expected {
            Some(v) => ("1", v),
            None => ("0", Vec::new()),
        };
        let swapped: i64 = redis::Script::new(CAS_SCRIPT)
            .key(key)
            .arg(check)
            .arg(old)
            .arg(new)
            .invoke_async(&mut self.conn().await?)
            .await
            .map_err(err)?;
        Ok(swapped == 1)
    }
}
