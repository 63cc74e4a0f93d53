//! The SQLite back end (`type = "spin"`): the same file, table and encodings as Spin's
//! `crates/key-value-spin`, so Spin and this host can take turns on one `.spin` directory.
//!
//! Table: `spin_key_value(store TEXT, key TEXT, value BLOB, PRIMARY KEY(store, key))`, `store`
//! being the label. Counters are 8-byte little-endian i64.
//!
//! Concurrency and durability: the file is in WAL mode. All writes go to one writer thread
//! that takes every write queued while it was busy and commits them in one transaction
//! (group commit): one fsync covers many requests instead of one each, and no async task
//! ever waits on a lock held across an fsync. Each write runs inside its own SAVEPOINT, so one
//! failing write (say, `increment` over a non-counter) fails alone. A write is acknowledged
//! only after its transaction committed. Reads run on a small pool of read connections, which
//! WAL lets proceed while the writer commits.
//!
//! `synchronous`: FULL by default — each group commit fsyncs the WAL, so an acknowledged
//! write survives kill -9 of this process and also power loss, as Spin's own store (rollback
//! journal, synchronous=FULL) does. NORMAL (`NTBCARE_KV_SYNC=normal`) still survives a crash
//! of this process (the WAL is written before the commit returns; only an OS crash or power
//! loss can lose the last commits) and is faster on slow disks.

use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};

use anyhow::{Context, Result};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::{Cas, KvResult, Store};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    Full,
    Normal,
}

impl Sync {
    pub fn from_env() -> Sync {
        match std::env::var("NTBCARE_KV_SYNC").as_deref() {
            Ok("normal") | Ok("NORMAL") => Sync::Normal,
            _ => Sync::Full,
        }
    }
}

/// Most writes one transaction takes; bounds the latency of the first write in a group.
const MAX_GROUP: usize = 512;
const READERS: usize = 4;

enum Op {
    Set {
        store: String,
        key: String,
        value: Vec<u8>,
    },
    Delete {
        store: String,
        key: String,
    },
    SetMany {
        store: String,
        pairs: Vec<(String, Vec<u8>)>,
    },
    DeleteMany {
        store: String,
        keys: Vec<String>,
    },
    Increment {
        store: String,
        key: String,
        delta: i64,
    },
    Cas {
        store: String,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    },
    /// In-memory databases have one connection: reads go through the writer too.
    Read(Box<dyn FnOnce(&Connection) + Send>),
}

enum Out {
    Unit,
    I64(i64),
    Bool(bool),
}

struct Job {
    op: Op,
    reply: Option<oneshot::Sender<KvResult<Out>>>,
}

pub struct Database {
    path: Option<PathBuf>,
    writer: Mutex<mpsc::Sender<Job>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
)";

fn open_connection(path: &Option<PathBuf>) -> Result<Connection> {
    let conn = match path {
        Some(p) => Connection::open(p).with_context(|| format!("opening key-value store {}", p.display()))?,
        None => Connection::open_in_memory()?,
    };
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

impl Database {
    pub fn open(path: Option<PathBuf>, sync: Sync) -> Result<Database> {
        if let Some(parent) = path.as_ref().and_then(|p| p.parent()) {
            std::fs::create_dir_all(parent).with_context(|| {
                format!("failed to create key value store's parent directory: '{}'", parent.display())
            })?;
        }
        let conn = open_connection(&path)?;
        if let Some(p) = &path {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                anyhow::bail!("could not put {} in WAL mode (got {mode})", p.display());
            }
        }
        conn.execute_batch(match sync {
            Sync::Full => "PRAGMA synchronous=FULL;",
            Sync::Normal => "PRAGMA synchronous=NORMAL;",
        })?;
        conn.execute(CREATE, [])?;
        let (tx, rx) = mpsc::channel::<Job>();
        let name = path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "memory".into());
        std::thread::Builder::new().name(format!("kv-writer {name}")).spawn(move || writer_loop(conn, rx))?;
        Ok(Database { path, writer: Mutex::new(tx), readers: Arc::new(Mutex::new(Vec::new())) })
    }

    async fn write(&self, op: Op) -> KvResult<Out> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .lock()
            .unwrap()
            .send(Job { op, reply: Some(tx) })
            .map_err(|_| "key-value writer has stopped".to_string())?;
        rx.await.map_err(|_| "key-value writer has stopped".to_string())?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> KvResult<T> {
        if self.path.is_none() {
            let (tx, rx) = oneshot::channel();
            let op = Op::Read(Box::new(move |c| {
                let _ = tx.send(f(c).map_err(|e| e.to_string()));
            }));
            self.writer
                .lock()
                .unwrap()
                .send(Job { op, reply: None })
                .map_err(|_| "key-value writer has stopped".to_string())?;
            return rx.await.map_err(|_| "key-value writer has stopped".to_string())?;
        }
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.lock().unwrap().pop();
            let conn = match conn {
                Some(c) => c,
                None => open_connection(&path).map_err(|e| format!("{e:#}"))?,
            };
            let res = f(&conn).map_err(|e| e.to_string());
            let mut pool = readers.lock().unwrap();
            if pool.len() < READERS {
                pool.push(conn);
            }
            res
        })
        .await
        .map_err(|e| format!("key-value read failed: {e}"))?
    }
}

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let results = run_group(&mut conn, &mut batch);
        for (job, res) in batch.into_iter().zip(results) {
            if let Some(reply) = job.reply {
                let _ = reply.send(res);
            }
        }
    }
}

/// One transaction for the whole group; each op in its own savepoint.
fn run_group(conn: &mut Connection, batch: &mut [Job]) -> Vec<KvResult<Out>> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return batch.iter().map(|_| Err(format!("key-value transaction failed: {e}"))).collect();
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        let op = std::mem::replace(&mut job.op, Op::Read(Box::new(|_| {})));
        if let Op::Read(f) = op {
            f(conn);
            results.push(Ok(Out::Unit));
            continue;
        }
        let res =
            conn.execute_batch("SAVEPOINT op").map_err(|e| e.to_string()).and_then(|()| apply(conn, op));
        let end = if res.is_ok() { "RELEASE op" } else { "ROLLBACK TO op; RELEASE op" };
        if let Err(e) = conn.execute_batch(end) {
            results.push(Err(e.to_string()));
        } else {
            results.push(res);
        }
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return batch.iter().map(|_| Err(format!("key-value commit failed: {e}"))).collect();
    }
    results
}

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                      ON CONFLICT(store, key) DO UPDATE SET value=?3";

fn apply(conn: &Connection, op: Op) -> KvResult<Out> {
    let e = |e: rusqlite::Error| e.to_string();
    match op {
        Op::Set { store, key, value } => {
            conn.prepare_cached(UPSERT).map_err(e)?.execute(params![store, key, value]).map_err(e)?;
            Ok(Out::Unit)
        }
        Op::Delete { store, key } => {
            conn.prepare_cached("DELETE FROM spin_key_value WHERE store=?1 AND key=?2")
                .map_err(e)?
                .execute(params![store, key])
                .map_err(e)?;
            Ok(Out::Unit)
        }
        Op::SetMany { store, pairs } => {
            let mut stmt = conn.prepare_cached(UPSERT).map_err(e)?;
            for (k, v) in pairs {
                stmt.execute(params![store, k, v]).map_err(e)?;
            }
            Ok(Out::Unit)
        }
        Op::DeleteMany { store, keys } => {
            let mut stmt =
                conn.prepare_cached("DELETE FROM spin_key_value WHERE store=?1 AND key=?2").map_err(e)?;
            for k in keys {
                stmt.execute(params![store, k]).map_err(e)?;
            }
            Ok(Out::Unit)
        }
        Op::Increment { store, key, delta } => {
            let current: Option<Vec<u8>> = conn
                .prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")
                .map_err(e)?
                .query_row(params![store, key], |r| r.get(0))
                .optional()
                .map_err(e)?;
            let n = match current {
                None => 0,
                Some(v) => i64::from_le_bytes(v.as_slice().try_into().map_err(|_| {
                    format!(
                        "cannot increment key {key:?}: its value is {} bytes, not an 8-byte little-endian counter",
                        v.len()
                    )
                })?),
            };
            let new =
                n.checked_add(delta).ok_or_else(|| format!("increment of key {key:?} overflows i64"))?;
            conn.prepare_cached(UPSERT)
                .map_err(e)?
                .execute(params![store, key, new.to_le_bytes().to_vec()])
                .map_err(e)?;
            Ok(Out::I64(new))
        }
        Op::Cas { store, key, expected, new } => {
            let changed = match expected {
                // As Spin: compare with what `current` returned.
                Some(old) => conn
                    .prepare_cached(
                        "UPDATE spin_key_value SET value=?4 WHERE store=?1 AND key=?2 AND value=?3",
                    )
                    .map_err(e)?
                    .execute(params![store, key, old, new])
                    .map_err(e)?,
                // Absent when read, or never read: Spin upserts.
                None => {
                    conn.prepare_cached(UPSERT).map_err(e)?.execute(params![store, key, new]).map_err(e)?
                }
            };
            Ok(Out::Bool(changed == 1))
        }
        Op::Read(_) => unreachable!("reads are handled by run_group"),
    }
}

pub struct SqliteStore {
    db: Arc<Database>,
    name: String,
}

impl SqliteStore {
    pub fn new(db: Arc<Database>, label: &str) -> SqliteStore {
        SqliteStore { db, name: label.to_string() }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        let (store, key) = (self.name.clone(), key.to_string());
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")?
                    .query_row(params![store, key], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> KvResult<()> {
        self.db.write(Op::Set { store: self.name.clone(), key: key.into(), value }).await.map(|_| ())
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        self.db.write(Op::Delete { store: self.name.clone(), key: key.into() }).await.map(|_| ())
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        let (store, key) = (self.name.clone(), key.to_string());
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store=?1 AND key=?2 LIMIT 1")?
                    .exists(params![store, key])
            })
            .await
    }

    async fn get_keys(&self) -> KvResult<Vec<String>> {
        let store = self.name.clone();
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT key FROM spin_key_value WHERE store=?1")?
                    .query_map(params![store], |r| r.get::<_, String>(0))?
                    .collect()
            })
            .await
    }

    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        let store = self.name.clone();
        self.db
            .read(move |c| {
                let mut stmt =
                    c.prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")?;
                let mut out = Vec::new();
                for k in keys {
                    if let Some(v) =
                        stmt.query_row(params![store, k], |r| r.get::<_, Vec<u8>>(0)).optional()?
                    {
                        out.push((k, Some(v)));
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        self.db.write(Op::SetMany { store: self.name.clone(), pairs }).await.map(|_| ())
    }

    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        self.db.write(Op::DeleteMany { store: self.name.clone(), keys }).await.map(|_| ())
    }

    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        match self.db.write(Op::Increment { store: self.name.clone(), key: key.into(), delta }).await? {
            Out::I64(n) => Ok(n),
            _ => Err("unexpected increment result".into()),
        }
    }

    async fn new_cas(&self, key: &str) -> KvResult<Box<dyn Cas>> {
        Ok(Box::new(SqliteCas {
            store: SqliteStore { db: self.db.clone(), name: self.name.clone() },
            key: key.to_string(),
            seen: None,
        }))
    }
}

impl SqliteStore {
    /// Replace `key`'s value with `new` if it still equals `expected`. `None` (the key was
    /// absent when read, or was never read) is an unconditional upsert, exactly as in Spin:
    /// two first writers can both succeed. Returns whether it swapped.
    async fn compare_and_swap(&self, key: &str, expected: Option<Vec<u8>>, new: Vec<u8>) -> KvResult<bool> {
        match self.db.write(Op::Cas { store: self.name.clone(), key: key.into(), expected, new }).await? {
            Out::Bool(b) => Ok(b),
            _ => Err("unexpected swap result".into()),
        }
    }
}

/// Spin's SQLite CAS: `current` remembers the value read; `swap` is one conditional UPDATE.
struct SqliteCas {
    store: SqliteStore,
    key: String,
    seen: Option<Vec<u8>>,
}

#[async_trait]
impl Cas for SqliteCas {
    async fn current(&mut self) -> KvResult<Option<Vec<u8>>> {
        let v = self.store.get(&self.key).await?;
        self.seen = v.clone();
        Ok(v)
    }

    async fn swap(&mut self, value: Vec<u8>) -> KvResult<bool> {
        self.store.compare_and_swap(&self.key, self.seen.take(), value).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir, label: &str) -> SqliteStore {
        let db = Arc::new(Database::open(Some(dir.path().join("kv.db")), Sync::Normal).unwrap());
        SqliteStore::new(db, label)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn round_trip_and_labels_are_separate() {
        let dir = tempfile::tempdir().unwrap();
        let a = store(&dir, "a");
        let b = SqliteStore::new(a.db.clone(), "b");
        a.set("k", b"v".to_vec()).await.unwrap();
        assert_eq!(a.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(b.get("k").await.unwrap(), None);
        assert!(a.exists("k").await.unwrap());
        assert_eq!(a.get_keys().await.unwrap(), vec!["k".to_string()]);
        a.delete("k").await.unwrap();
        assert!(!a.exists("k").await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn increments_are_exact_under_concurrency_and_8_byte_le() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(store(&dir, "default"));
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.increment("n", 1).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(s.get("n").await.unwrap().unwrap(), 200i64.to_le_bytes().to_vec());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn increment_over_a_non_counter_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir, "default");
        s.set("text", b"12".to_vec()).await.unwrap();
        assert!(s.increment("text", 1).await.is_err());
        // The store keeps working.
        assert_eq!(s.increment("n", 5).await.unwrap(), 5);
        assert_eq!(s.get("text").await.unwrap().unwrap(), b"12".to_vec());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cas_swaps_only_if_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir, "default");
        s.set("k", b"a".to_vec()).await.unwrap();
        assert!(s.compare_and_swap("k", Some(b"a".to_vec()), b"b".to_vec()).await.unwrap());
        assert!(!s.compare_and_swap("k", Some(b"a".to_vec()), b"c".to_vec()).await.unwrap());
        assert!(s.compare_and_swap("new", None, b"x".to_vec()).await.unwrap());
        assert!(s.compare_and_swap("k", None, b"z".to_vec()).await.unwrap());
        assert_eq!(s.get("k").await.unwrap().unwrap(), b"z".to_vec());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batch_and_memory() {
        let db = Arc::new(Database::open(None, Sync::Full).unwrap());
        let s = SqliteStore::new(db, "default");
        s.set_many(vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())]).await.unwrap();
        let got = s.get_many(vec!["a".into(), "zz".into(), "b".into()]).await.unwrap();
        assert_eq!(got, vec![("a".into(), Some(b"1".to_vec())), ("b".into(), Some(b"2".to_vec()))]);
        s.delete_many(vec!["a".into()]).await.unwrap();
        assert_eq!(s.get_keys().await.unwrap(), vec!["b".to_string()]);
    }
}
