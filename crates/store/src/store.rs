use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode};

use crate::{StoreError, schema};

/// How long a call waits for another connection (another process on the same file) to release
/// its lock before failing with [`StoreError::Sqlite`] (`SQLITE_BUSY`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One agent's SQLite file, as [`ValidatorStore`] and [`RelayerStore`] open it. Every method of
/// those is one short, blocking SQLite call behind a mutex: from async code, call it from
/// `tokio::task::spawn_blocking` (or accept a sub-millisecond block).
#[derive(Debug)]
pub(crate) struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// The validator's store (`validator.sqlite`): slashing protection, signed checkpoints, halts and
/// its follow progress. `Send + Sync`; share it in an `Arc`.
#[derive(Debug)]
pub struct ValidatorStore {
    db: Db,
}

/// The relayer's store (`relayer.sqlite`): its submission queue and relay cursors. `Send + Sync`; share it in an
/// `Arc`. A type of its own, so that the relayer cannot reach slashing protection and the
/// validator cannot reach the queue.
#[derive(Debug)]
pub struct RelayerStore {
    db: Db,
}

// The stores are shared across tokio tasks: keep them Send + Sync.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ValidatorStore>();
    send_sync::<RelayerStore>();
};

macro_rules! agent_store {
    ($name:ident) => {
        impl $name {
            /// Opens (creating if needed) the store at `path`; see [`Db::open`].
            pub fn open(path: &Path) -> Result<$name, StoreError> {
                Ok($name { db: Db::open(path)? })
            }

            /// The file this store was opened from.
            pub fn path(&self) -> &Path {
                &self.db.path
            }

            pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
                self.db.conn()
            }
        }
    };
}
agent_store!(ValidatorStore);
agent_store!(RelayerStore);

impl Db {
    /// Opens (creating if needed) the store at `path`: WAL journal, `synchronous=FULL` (a
    /// committed transaction is on disk before the call returns), a busy timeout of
    /// [`BUSY_TIMEOUT`], and the tables of the current schema version.
    fn open(path: &Path) -> Result<Db, StoreError> {
        let not_a_store = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::Corrupt(format!(
                "{} is not an SQLite database; point the agent at its own store file",
                path.display()
            )),
            _ => StoreError::Sqlite(e),
        };
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).map_err(not_a_store)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!(
                "{}: SQLite refused WAL journaling (journal_mode is {mode}); put the store on a local filesystem",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        let synchronous: i64 = conn.pragma_query_value(None, "synchronous", |row| row.get(0))?;
        if synchronous != 2 {
            return Err(StoreError::Corrupt(format!(
                "{}: SQLite refused synchronous=FULL (it is {synchronous})",
                path.display()
            )));
        }
        schema::migrate(&mut conn)?;
        Ok(Db { conn: Mutex::new(conn), path: path.to_owned() })
    }

    /// The connection. A panic while holding the lock cannot leave a half-written transaction
    /// (an unfinished rusqlite `Transaction` rolls back when dropped), so a poisoned lock is safe
    /// to take over.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
