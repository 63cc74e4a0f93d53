//! The SQLite back end (`type = "spin"`): the same file, table and encodings as Spin's
//! `crates/key-value-spin`, so Spin and this host can take turns on one `.spin` directory.
//!
//! Table: `spin_key_value(store TEXT, key TEXT, value BLOB, PRIMARY KEY(store, key))`, `store`
//! being the label. Counters are 8-byte little-endian i64.
//!
//! Concurrency and durability: the file is in WAL mode. A write is applied at once, in the
//! calling task, to one writer connection (behind a mutex held for the microseconds a
//! statement takes) inside an open transaction, and answered. A committer thread commits
//! when a request is about to answer its client ([`Database::sync`], called by the runtime
//! before a response leaves, and before anything leaves the process): every request that
//! arrives while it commits and fsyncs queues behind it, and the next commit, one fsync,
//! covers them all (group commit). A request waits for one commit rather than one per
//! write, no write waits on an fsync, and no thread hand-off is paid per write. So what a
//! client is told has been stored is durable, as when each write waited for its own commit;
//! a transaction nobody waits on is committed within 40 ms. Reads see every applied write:
//! a key written since its last durable commit is read through the writer's connection, any
//! other on a small pool of read connections (WAL lets those proceed while the writer
//! commits), point reads in the calling task. One failing write (say, `increment` over a
//! non-counter) fails alone: a batch runs inside its own SAVEPOINT, a single statement needs
//! none. If SQLite loses a transaction (I/O error, disk full), writes the guests were
//! answered are gone: the store then refuses everything until the host restarts, so none of
//! them is acknowledged to a client. Checkpoints (copying the WAL into the database file) are
//! SQLite's automatic ones, run by the commit that takes the WAL past ~1,000 pages: with no
//! transaction open at that moment the checkpoint completes, and the next transaction starts
//! the WAL again from its beginning, so it stays near 4 MB. (Checkpointing from a connection of
//! its own, off the commit path, never completed while writes kept coming, and under load the
//! WAL grew by ~30 MB a second.)
//!
//! Durability: FULL by default — after each group commit the WAL is fsynced (by the committer
//! thread, while new writes go on into the next transaction) before any of its requests
//! answers, so an acknowledged write survives kill -9 of this process and also power loss, as
//! Spin's own store (rollback journal, synchronous=FULL) does. (The connection runs SQLite's
//! synchronous=NORMAL, which in WAL mode syncs around checkpoints itself; the commit's own
//! fsync is the committer's.) `NTBCARE_KV_SYNC=normal` skips that fsync: an acknowledged
//! write still survives a crash of this process (the WAL is written before the commit
//! returns; only an OS crash or power loss can lose the last commits).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Most writes one transaction takes before the committer is asked to commit it.
const MAX_GROUP: usize = 512;
const READERS: usize = 4;
/// Longest a transaction stays open with nobody waiting on it.
const MAX_OPEN: Duration = Duration::from_millis(20);

enum Op {
    Set { store: String, key: String, value: Vec<u8> },
    Delete { store: String, key: String },
    SetMany { store: String, pairs: Vec<(String, Vec<u8>)> },
    DeleteMany { store: String, keys: Vec<String> },
    Increment { store: String, key: String, delta: i64 },
    Cas { store: String, key: String, expected: Option<Vec<u8>>, new: Vec<u8> },
}

enum Out {
    Unit,
    I64(i64),
    Bool(bool),
}

/// What the committer thread is woken for.
enum Wake {
    /// Answer once everything applied before it is committed and durable.
    Barrier(Waiter),
    /// The open transaction reached [`MAX_GROUP`] writes.
    Full,
}

type Waiter = oneshot::Sender<KvResult<()>>;

/// What the writers, the committer and the readers share: how far writes have been applied
/// and made durable, the keys written since, and whether a lost transaction broke the store.
#[derive(Default)]
struct Shared {
    applied: AtomicU64,
    /// Applied, committed and (with `Sync::Full`) fsynced.
    durable: AtomicU64,
    /// (label, key) written and not yet durable, with the sequence number of the last write:
    /// reading one goes through the writer, and a request that reads one waits for
    /// [`Database::sync`] before it answers. An entry leaves once its write is durable.
    dirty: Mutex<HashMap<(String, String), u64>>,
    /// Set when a transaction with acknowledged-to-the-guest writes was lost.
    broken: Mutex<Option<String>>,
}

impl Shared {
    fn broken(&self) -> KvResult<()> {
        match &*self.broken.lock().unwrap() {
            Some(e) => Err(format!("key-value store failed, restart the host: {e}")),
            None => Ok(()),
        }
    }

    /// Everything written up to `seq` is durable: its keys need no more care.
    fn made_durable(&self, seq: u64) {
        self.dirty.lock().unwrap().retain(|_, last| *last > seq);
        self.durable.fetch_max(seq, Ordering::AcqRel);
    }

    fn lose(&self, why: &str) {
        crate::log::error(
            "the key-value store refuses writes until the host restarts",
            &[("error", why.into())],
        );
        *self.broken.lock().unwrap() = Some(why.to_string());
        self.dirty.lock().unwrap().clear();
    }
}

/// The writer connection and its open transaction.
struct Writer {
    conn: Connection,
    /// When the open transaction began, if one is open.
    open_since: Option<Instant>,
    ops: usize,
}

pub struct Database {
    path: Option<PathBuf>,
    writer: Arc<Mutex<Writer>>,
    committer: mpsc::Sender<Wake>,
    readers: Arc<Mutex<Vec<Connection>>>,
    shared: Arc<Shared>,
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

const STOPPED: &str = "key-value committer has stopped";

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
        // NORMAL: a commit writes the WAL but does not fsync it. With `Sync::Full` the
        // committer fsyncs the WAL after each commit, and only then answers its waiters.
        conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        conn.execute(CREATE, [])?;
        let shared = Arc::new(Shared::default());
        let writer = Arc::new(Mutex::new(Writer { conn, open_since: None, ops: 0 }));
        let name = path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "memory".into());
        let (tx, rx) = mpsc::channel::<Wake>();
        let committer = Committer {
            writer: writer.clone(),
            shared: shared.clone(),
            wal: match (&path, sync) {
                (Some(p), Sync::Full) => Some(PathBuf::from(format!("{}-wal", p.display()))),
                _ => None,
            },
            wal_file: None,
        };
        std::thread::Builder::new().name(format!("kv-commit {name}")).spawn(move || committer.run(rx))?;
        Ok(Database { path, writer, committer: tx, readers: Arc::new(Mutex::new(Vec::new())), shared })
    }

    fn check_broken(&self) -> KvResult<()> {
        self.shared.broken()
    }

    /// Apply one write in the open transaction (opening one if needed) and answer at once.
    fn write(&self, op: Op) -> KvResult<Out> {
        self.check_broken()?;
        let mut w = self.writer.lock().unwrap();
        // Checked again under the lock: a transaction lost meanwhile must not be reopened.
        self.check_broken()?;
        if w.open_since.is_none() {
            w.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| format!("key-value transaction failed: {e}"))?;
            w.open_since = Some(Instant::now());
        }
        let keys = op.keys();
        let res = apply_alone(&w.conn, op);
        if w.conn.is_autocommit() {
            // SQLite rolled the whole transaction back (I/O error, disk full): writes already
            // answered are gone. Nothing after this may be acknowledged as durable.
            w.open_since = None;
            w.ops = 0;
            self.shared
                .lose(&res.as_ref().err().cloned().unwrap_or_else(|| "transaction rolled back".into()));
            return Err("key-value transaction was rolled back".into());
        }
        w.ops += 1;
        let seq = self.shared.applied.fetch_add(1, Ordering::AcqRel) + 1;
        self.shared.dirty.lock().unwrap().extend(keys.into_iter().map(|k| (k, seq)));
        let full = w.ops == MAX_GROUP;
        drop(w);
        if full {
            let _ = self.committer.send(Wake::Full);
        }
        res
    }

    /// Wait until every write applied so far is committed (durable): a request's response
    /// waits on this, so nothing it wrote (or read that another request wrote) is
    /// acknowledged before it would survive a crash. Free when nothing is pending.
    pub async fn sync(&self) -> KvResult<()> {
        if self.shared.durable.load(Ordering::Acquire) >= self.shared.applied.load(Ordering::Acquire) {
            return self.check_broken();
        }
        let (tx, rx) = oneshot::channel();
        self.committer.send(Wake::Barrier(tx)).map_err(|_| STOPPED.to_string())?;
        rx.await.map_err(|_| STOPPED.to_string())?
    }

    /// Whether any of `keys` (all of the label's, if `None`) has a write not yet durable.
    fn is_dirty(&self, store: &str, keys: Option<&[&str]>) -> bool {
        let dirty = self.shared.dirty.lock().unwrap();
        if dirty.is_empty() {
            return false;
        }
        match keys {
            Some(keys) => keys.iter().any(|k| dirty.contains_key(&(store.to_string(), k.to_string()))),
            None => dirty.keys().any(|(s, _)| s == store),
        }
    }

    /// Run a read. It sees every write applied so far: a key written since it was last made
    /// durable is read through the writer's connection; any other on a read connection (WAL
    /// lets those proceed while the writer commits), point reads in the calling task and a
    /// `scan` (which may take long) on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        through_writer: bool,
        scan: bool,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> KvResult<T> {
        if self.path.is_none() || through_writer {
            let writer = self.writer.clone();
            let run = move || f(&writer.lock().unwrap().conn).map_err(|e| e.to_string());
            if !scan {
                return run();
            }
            return tokio::task::spawn_blocking(run)
                .await
                .map_err(|e| format!("key-value read failed: {e}"))?;
        }
        let readers = self.readers.clone();
        let path = self.path.clone();
        let run = move || {
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
        };
        if !scan {
            // A point read in WAL mode never waits for the writer and takes microseconds from
            // the page cache: handing it to another thread cost more than the read.
            return run();
        }
        tokio::task::spawn_blocking(run).await.map_err(|e| format!("key-value read failed: {e}"))?
    }
}

/// The committer thread: commits the open transaction when a request waits on
/// [`Database::sync`] (with every other request that queued meanwhile), when it reaches
/// [`MAX_GROUP`] writes or when it has been open [`MAX_OPEN`]; then fsyncs the WAL and
/// answers the waiters.
struct Committer {
    writer: Arc<Mutex<Writer>>,
    shared: Arc<Shared>,
    /// The WAL to fsync after each commit (`Sync::Full` on a file).
    wal: Option<PathBuf>,
    wal_file: Option<std::fs::File>,
}

impl Committer {
    fn run(mut self, rx: mpsc::Receiver<Wake>) {
        loop {
            let mut waiters = Vec::new();
            let mut full = false;
            let mut stopping = false;
            match rx.recv_timeout(MAX_OPEN) {
                Ok(Wake::Barrier(w)) => waiters.push(w),
                Ok(Wake::Full) => full = true,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => stopping = true,
            }
            // Everyone who queued meanwhile shares this commit.
            while let Ok(wake) = rx.try_recv() {
                match wake {
                    Wake::Barrier(w) => waiters.push(w),
                    Wake::Full => full = true,
                }
            }
            let committed = self.commit(!waiters.is_empty() || full || stopping);
            let res = committed.and_then(|seq| match seq {
                Some(seq) => self.make_durable(seq).map(|()| seq),
                None => Ok(self.shared.durable.load(Ordering::Acquire)),
            });
            for w in waiters {
                let _ = w.send(res.clone().map(|_| ()));
            }
            if stopping {
                return;
            }
        }
    }

    /// Commit the open transaction if `now` or it is old; `Some(seq)`: everything applied up
    /// to `seq` is committed and waits for [`Committer::make_durable`].
    fn commit(&mut self, now: bool) -> KvResult<Option<u64>> {
        let mut w = self.writer.lock().unwrap();
        self.shared.broken()?;
        let Some(since) = w.open_since else {
            // Nothing open: everything applied is committed (maybe not yet fsynced).
            let seq = self.shared.applied.load(Ordering::Acquire);
            return Ok((seq > self.shared.durable.load(Ordering::Acquire)).then_some(seq));
        };
        if !now && since.elapsed() < MAX_OPEN {
            return Ok(None);
        }
        w.open_since = None;
        w.ops = 0;
        match w.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(Some(self.shared.applied.load(Ordering::Acquire))),
            Err(e) => {
                let _ = w.conn.execute_batch("ROLLBACK");
                let why = format!("key-value commit failed: {e}");
                self.shared.lose(&why);
                Err(why)
            }
        }
    }

    /// fsync the WAL (with `Sync::Full`) so that everything committed up to `seq` survives a
    /// crash. A failed fsync breaks the store, as a lost transaction does.
    fn make_durable(&mut self, seq: u64) -> KvResult<()> {
        if let Some(wal) = &self.wal {
            let file = match self.wal_file.take() {
                Some(f) => Ok(f),
                None => std::fs::File::open(wal),
            };
            let synced = file.and_then(|f| {
                let r = f.sync_data();
                self.wal_file = Some(f);
                r
            });
            if let Err(e) = synced {
                let why = format!("fsync of {} failed: {e}", wal.display());
                self.shared.lose(&why);
                return Err(why);
            }
        }
        self.shared.made_durable(seq);
        Ok(())
    }
}

impl Op {
    /// The (label, key) pairs a write changes.
    fn keys(&self) -> Vec<(String, String)> {
        match self {
            Op::Set { store, key, .. }
            | Op::Delete { store, key }
            | Op::Increment { store, key, .. }
            | Op::Cas { store, key, .. } => vec![(store.clone(), key.clone())],
            Op::SetMany { store, pairs } => pairs.iter().map(|(k, _)| (store.clone(), k.clone())).collect(),
            Op::DeleteMany { store, keys } => keys.iter().map(|k| (store.clone(), k.clone())).collect(),
        }
    }
}

/// Apply one write so that, if it fails, it fails alone: a one-statement write needs no
/// savepoint (SQLite undoes a failed statement by itself; `increment` checks before it
/// writes); a batch runs inside one.
fn apply_alone(conn: &Connection, op: Op) -> KvResult<Out> {
    if !matches!(op, Op::SetMany { .. } | Op::DeleteMany { .. }) {
        return apply(conn, op);
    }
    let sql = |q: &str| conn.prepare_cached(q).and_then(|mut s| s.execute([]));
    let res = sql("SAVEPOINT op").map_err(|e| e.to_string()).and_then(|_| apply(conn, op));
    let end =
        if res.is_ok() { sql("RELEASE op") } else { sql("ROLLBACK TO op").and_then(|_| sql("RELEASE op")) };
    end.map_err(|e| e.to_string())?;
    res
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
        let dirty = self.db.is_dirty(&self.name, Some(&[key]));
        let (store, key) = (self.name.clone(), key.to_string());
        self.db
            .read(dirty, false, move |c| {
                c.prepare_cached("SELECT value FROM spin_key_value WHERE store=?1 AND key=?2")?
                    .query_row(params![store, key], |r| r.get(0))
                    .optional()
            })
            .await
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> KvResult<()> {
        self.db.write(Op::Set { store: self.name.clone(), key: key.into(), value }).map(|_| ())
    }

    async fn delete(&self, key: &str) -> KvResult<()> {
        self.db.write(Op::Delete { store: self.name.clone(), key: key.into() }).map(|_| ())
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        let dirty = self.db.is_dirty(&self.name, Some(&[key]));
        let (store, key) = (self.name.clone(), key.to_string());
        self.db
            .read(dirty, false, move |c| {
                c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store=?1 AND key=?2 LIMIT 1")?
                    .exists(params![store, key])
            })
            .await
    }

    async fn get_keys(&self) -> KvResult<Vec<String>> {
        let store = self.name.clone();
        let dirty = self.db.is_dirty(&self.name, None);
        self.db
            .read(dirty, true, move |c| {
                c.prepare_cached("SELECT key FROM spin_key_value WHERE store=?1")?
                    .query_map(params![store], |r| r.get::<_, String>(0))?
                    .collect()
            })
            .await
    }

    async fn get_many(&self, keys: Vec<String>) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        let store = self.name.clone();
        let scan = keys.len() > 64;
        let dirty = self.db.is_dirty(&self.name, Some(&keys.iter().map(String::as_str).collect::<Vec<_>>()));
        self.db
            .read(dirty, scan, move |c| {
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
        self.db.write(Op::SetMany { store: self.name.clone(), pairs }).map(|_| ())
    }

    async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        self.db.write(Op::DeleteMany { store: self.name.clone(), keys }).map(|_| ())
    }

    async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        match self.db.write(Op::Increment { store: self.name.clone(), key: key.into(), delta })? {
            Out::I64(n) => Ok(n),
            _ => Err("unexpected increment result".into()),
        }
    }

    fn pending(&self, keys: Option<&[&str]>) -> bool {
        self.db.is_dirty(&self.name, keys)
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
        match self.db.write(Op::Cas { store: self.name.clone(), key: key.into(), expected, new })? {
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

    fn on_disk(dir: &tempfile::TempDir, key: &str) -> Option<Vec<u8>> {
        let conn = Connection::open(dir.path().join("kv.db")).unwrap();
        conn.query_row("SELECT value FROM spin_key_value WHERE store='default' AND key=?1", [key], |r| {
            r.get(0)
        })
        .optional()
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_is_read_back_at_once_and_is_in_the_file_after_sync() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::open(Some(dir.path().join("kv.db")), Sync::Full).unwrap());
        let s = SqliteStore::new(db.clone(), "default");
        s.set("k", b"v".to_vec()).await.unwrap();
        assert_eq!(s.increment("n", 2).await.unwrap(), 2);
        // Whether or not the writer has committed yet, every read sees the writes.
        assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        assert!(s.exists("n").await.unwrap());
        assert_eq!(s.get_many(vec!["k".into()]).await.unwrap(), vec![("k".into(), Some(b"v".to_vec()))]);
        db.sync().await.unwrap();
        // Once synced, another connection (another process, after a crash) finds them.
        assert_eq!(on_disk(&dir, "k").as_deref(), Some(&b"v"[..]));
        assert_eq!(on_disk(&dir, "n"), Some(2i64.to_le_bytes().to_vec()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_commits_and_all_are_durable_after_sync() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::open(Some(dir.path().join("kv.db")), Sync::Full).unwrap());
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let (db, s) = (db.clone(), SqliteStore::new(db.clone(), "default"));
                tokio::spawn(async move {
                    s.set(&format!("k{i}"), vec![i as u8]).await.unwrap();
                    s.increment("n", 1).await.unwrap();
                    db.sync().await.unwrap();
                    assert_eq!(on_disk_key(&s, i).await, Some(vec![i as u8]));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(on_disk(&dir, "n"), Some(50i64.to_le_bytes().to_vec()));

        async fn on_disk_key(s: &SqliteStore, i: usize) -> Option<Vec<u8>> {
            let path = s.db.path.clone().unwrap();
            let key = format!("k{i}");
            tokio::task::spawn_blocking(move || {
                let conn = Connection::open(path).unwrap();
                conn.query_row("SELECT value FROM spin_key_value WHERE key=?1", [key], |r| r.get(0))
                    .optional()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_small_while_writers_keep_coming() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::open(Some(dir.path().join("kv.db")), Sync::Normal).unwrap());
        // 16 writers, each writing and waiting for durability without pause, as requests do
        // under load: some transaction is nearly always open.
        let tasks: Vec<_> = (0..16)
            .map(|w| {
                let (db, s) = (db.clone(), SqliteStore::new(db.clone(), "default"));
                tokio::spawn(async move {
                    for i in 0..600 {
                        s.set(&format!("w{w}/k{i}"), vec![b'x'; 1024]).await.unwrap();
                        s.increment("n", 1).await.unwrap();
                        db.sync().await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // ~9,600 KiB of values in ~9,600 commits: a WAL never restarted holds tens of MB.
        let wal = std::fs::metadata(dir.path().join("kv.db-wal")).unwrap().len();
        assert!(wal < 12 << 20, "the WAL grew to {wal} bytes");
        assert_eq!(s_count(&db).await, 9_600);

        async fn s_count(db: &Arc<Database>) -> i64 {
            let s = SqliteStore::new(db.clone(), "default");
            i64::from_le_bytes(s.get("n").await.unwrap().unwrap().try_into().unwrap())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_disk_never_lets_a_write_it_undid_be_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::open(Some(dir.path().join("kv.db")), Sync::Full).unwrap());
        let s = SqliteStore::new(db.clone(), "default");
        s.set("before", b"kept".to_vec()).await.unwrap();
        db.sync().await.unwrap();
        // The disk fills: the database may grow by a few pages more, no further.
        {
            let w = db.writer.lock().unwrap();
            let pages: i64 = w.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
            w.conn.execute_batch(&format!("PRAGMA max_page_count={}", pages + 3)).unwrap();
        }
        let mut answered = Vec::new();
        for i in 0..100 {
            match s.set(&format!("k{i}"), vec![7u8; 3000]).await {
                Ok(()) => answered.push(format!("k{i}")),
                Err(_) => break,
            }
        }
        assert!(answered.len() < 100, "the disk never filled");
        let refused_at_once = s.set("after", b"x".to_vec()).await.is_err();
        match db.sync().await {
            // The failure undid only its own statement: what was answered is made durable.
            Ok(()) => {
                assert!(!refused_at_once);
                for k in &answered {
                    assert!(on_disk(&dir, k).is_some(), "{k} was acknowledged and is not in the file");
                }
            }
            // SQLite undid the whole transaction (as it does here): writes it had answered are
            // gone, so the store refuses at once, and for good, rather than take a later write
            // and let a request believe its earlier ones are stored.
            Err(e) => {
                assert!(refused_at_once, "a write was taken after the loss: {e}");
                assert!(s.set("later", b"x".to_vec()).await.is_err());
                assert!(answered.iter().all(|k| on_disk(&dir, k).is_none()));
            }
        }
        assert_eq!(on_disk(&dir, "before").as_deref(), Some(&b"kept"[..]));
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
