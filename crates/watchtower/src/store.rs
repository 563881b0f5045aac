//! The watchtower's own store (SQLite): per chain, the last block whose deliveries were checked,
//! and the actions taken (so that a restart neither repeats a pause nor forgets one).

use std::path::Path;
use std::sync::Mutex;

use alloy::primitives::B256;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
#[error("watchtower store: {0}")]
pub struct StoreError(String);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

pub struct Store {
    db: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Connection::open(path)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS cursor (chain TEXT PRIMARY KEY, block INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS action (key TEXT PRIMARY KEY, tx TEXT NOT NULL, at INTEGER NOT NULL);",
        )?;
        Ok(Store { db: Mutex::new(db) })
    }

    fn db(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.db.lock().map_err(|_| StoreError("lock poisoned".into()))
    }

    /// The last block of `chain` whose deliveries were all checked, if any.
    pub fn cursor(&self, chain: &str) -> Result<Option<u64>, StoreError> {
        let db = self.db()?;
        let block: Option<i64> =
            db.query_row("SELECT block FROM cursor WHERE chain = ?1", params![chain], |r| r.get(0)).optional()?;
        Ok(block.and_then(|b| u64::try_from(b).ok()))
    }

    pub fn set_cursor(&self, chain: &str, block: u64) -> Result<(), StoreError> {
        let block = i64::try_from(block).map_err(|_| StoreError(format!("block {block} out of range")))?;
        self.db()?.execute(
            "INSERT INTO cursor (chain, block) VALUES (?1, ?2) ON CONFLICT(chain) DO UPDATE SET block = ?2",
            params![chain, block],
        )?;
        Ok(())
    }

    /// Whether the action named `key` (e.g. "pause:<chain>:<lane>") was taken.
    pub fn done(&self, key: &str) -> Result<bool, StoreError> {
        let db = self.db()?;
        Ok(db.query_row("SELECT 1 FROM action WHERE key = ?1", params![key], |_| Ok(())).optional()?.is_some())
    }

    pub fn record(&self, key: &str, tx: B256, at: u64) -> Result<(), StoreError> {
        let at = i64::try_from(at).unwrap_or(i64::MAX);
        self.db()?.execute(
            "INSERT OR REPLACE INTO action (key, tx, at) VALUES (?1, ?2, ?3)",
            params![key, tx.to_string(), at],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_and_actions_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("w.sqlite");
        {
            let store = Store::open(&path).expect("open");
            assert_eq!(store.cursor("bsc").expect("read"), None);
            store.set_cursor("bsc", 41).expect("write");
            store.set_cursor("bsc", 42).expect("write");
            store.record("pause:bsc:0x01", B256::repeat_byte(1), 7).expect("record");
        }
        let store = Store::open(&path).expect("reopen");
        assert_eq!(store.cursor("bsc").expect("read"), Some(42));
        assert_eq!(store.cursor("ethereum").expect("read"), None);
        assert!(store.done("pause:bsc:0x01").expect("read"));
        assert!(!store.done("pause:bsc:0x02").expect("read"));
    }
}
