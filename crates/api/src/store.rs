//! The index: a cursor per chain, the transfers seen on source chains and the outcomes seen on
//! destination chains. Kept apart from the agents' stores (zb-store): it is a cache of the chains
//! and may be deleted at any time; the indexer rebuilds it.

use std::path::Path;
use std::sync::Mutex;

use alloy::primitives::{Address, B256};
use rusqlite::{Connection, OptionalExtension, params};

use crate::ApiError;

/// The schema; every statement is idempotent so that opening an existing index is a no-op.
const MIGRATIONS: &str = "
CREATE TABLE IF NOT EXISTS cursors (
    chain_id INTEGER PRIMARY KEY,
    block INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
    message_hash TEXT PRIMARY KEY,
    lane TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    source_chain INTEGER NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    amount TEXT NOT NULL,
    source_tx TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transfers_sender ON transfers (sender);
CREATE INDEX IF NOT EXISTS transfers_recipient ON transfers (recipient);
CREATE INDEX IF NOT EXISTS transfers_tx ON transfers (source_tx);
CREATE INDEX IF NOT EXISTS transfers_lane ON transfers (lane, sequence);
CREATE TABLE IF NOT EXISTS outcomes (
    chain_id INTEGER NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    lane TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    stage TEXT NOT NULL,
    tx TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (chain_id, block, log_index)
);
CREATE INDEX IF NOT EXISTS outcomes_lane ON outcomes (lane, sequence);
";

/// A chain position: the block the indexer has fully read and its hash (reorg check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub block: u64,
    pub hash: B256,
}

/// A `MessageSent` of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRow {
    pub message_hash: B256,
    pub lane: B256,
    pub sequence: u64,
    pub source_chain: u64,
    pub block: u64,
    pub log_index: u64,
    pub sender: Address,
    pub recipient: Address,
    pub amount: String,
    pub source_tx: B256,
    pub sent_at: u64,
    pub deadline: u64,
}

/// What happened to message (lane, sequence) on its destination (or, for refunds, its source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRow {
    pub chain_id: u64,
    pub block: u64,
    pub log_index: u64,
    pub lane: B256,
    pub sequence: u64,
    pub stage: String,
    pub tx: B256,
    pub at: u64,
}

/// A transfer with its latest outcome, as the API reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    pub sent: SentRow,
    pub outcome: Option<OutcomeRow>,
}

/// Which transfers a list asks for.
#[derive(Debug, Clone, Copy)]
pub enum TransferFilter {
    /// Sent by or to this address.
    Address(Address),
    /// Sent in this source transaction.
    Tx(B256),
    All,
}

pub struct IndexStore {
    conn: Mutex<Connection>,
}

fn storage(e: impl std::fmt::Display) -> ApiError {
    ApiError::Storage(e.to_string())
}

fn hex_of(text: String) -> rusqlite::Result<B256> {
    text.parse().map_err(|_| rusqlite::Error::InvalidColumnType(0, text, rusqlite::types::Type::Text))
}

fn address_of(text: String) -> rusqlite::Result<Address> {
    text.parse().map_err(|_| rusqlite::Error::InvalidColumnType(0, text, rusqlite::types::Type::Text))
}

impl IndexStore {
    pub fn open(path: &Path) -> Result<IndexStore, ApiError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(storage)?;
        }
        let conn = Connection::open(path).map_err(storage)?;
        conn.execute_batch("PRAGMA journal_mode = WAL;").map_err(storage)?;
        conn.execute_batch(MIGRATIONS).map_err(storage)?;
        Ok(IndexStore { conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, ApiError> {
        let mut conn = self.conn.lock().map_err(|_| ApiError::Storage("the index lock is poisoned".into()))?;
        f(&mut conn).map_err(storage)
    }

    pub fn cursor(&self, chain_id: u64) -> Result<Option<Cursor>, ApiError> {
        self.with(|c| {
            c.query_row("SELECT block, hash FROM cursors WHERE chain_id = ?1", params![chain_id as i64], |r| {
                Ok(Cursor { block: r.get::<_, i64>(0)? as u64, hash: hex_of(r.get(1)?)? })
            })
            .optional()
        })
    }

    /// Stores one scanned range atomically: its rows and the cursor at its end.
    pub fn commit_range(
        &self,
        chain_id: u64,
        sent: &[SentRow],
        outcomes: &[OutcomeRow],
        cursor: Cursor,
    ) -> Result<(), ApiError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for s in sent {
                tx.execute(
                    "INSERT OR IGNORE INTO transfers (message_hash, lane, sequence, source_chain, block, log_index,
                     sender, recipient, amount, source_tx, sent_at, deadline)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        s.message_hash.to_string(),
                        s.lane.to_string(),
                        s.sequence as i64,
                        s.source_chain as i64,
                        s.block as i64,
                        s.log_index as i64,
                        s.sender.to_checksum(None),
                        s.recipient.to_checksum(None),
                        s.amount,
                        s.source_tx.to_string(),
                        s.sent_at as i64,
                        s.deadline as i64,
                    ],
                )?;
            }
            for o in outcomes {
                tx.execute(
                    "INSERT OR IGNORE INTO outcomes (chain_id, block, log_index, lane, sequence, stage, tx, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        o.chain_id as i64,
                        o.block as i64,
                        o.log_index as i64,
                        o.lane.to_string(),
                        o.sequence as i64,
                        o.stage,
                        o.tx.to_string(),
                        o.at as i64,
                    ],
                )?;
            }
            tx.execute(
                "INSERT INTO cursors (chain_id, block, hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT (chain_id) DO UPDATE SET block = excluded.block, hash = excluded.hash",
                params![chain_id as i64, cursor.block as i64, cursor.hash.to_string()],
            )?;
            tx.commit()
        })
    }

    /// A reorg replaced blocks after `keep`: forget what was read from them and rewind the cursor.
    pub fn roll_back(&self, chain_id: u64, keep: Cursor) -> Result<(), ApiError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM transfers WHERE source_chain = ?1 AND block > ?2",
                params![chain_id as i64, keep.block as i64],
            )?;
            tx.execute(
                "DELETE FROM outcomes WHERE chain_id = ?1 AND block > ?2",
                params![chain_id as i64, keep.block as i64],
            )?;
            tx.execute(
                "UPDATE cursors SET block = ?2, hash = ?3 WHERE chain_id = ?1",
                params![chain_id as i64, keep.block as i64, keep.hash.to_string()],
            )?;
            tx.commit()
        })
    }

    /// Newest first; `before` is the (block, log_index, source_chain) of the last row of the previous page.
    pub fn transfers(
        &self,
        filter: TransferFilter,
        before: Option<(u64, u64, u64)>,
        limit: usize,
    ) -> Result<Vec<TransferRow>, ApiError> {
        let (clause, value) = match filter {
            TransferFilter::Address(a) => ("(sender = ?1 OR recipient = ?1)", a.to_checksum(None)),
            TransferFilter::Tx(h) => ("source_tx = ?1", h.to_string()),
            TransferFilter::All => ("?1 = ?1", String::new()),
        };
        let (b, l, ch) = before.map_or((i64::MAX, i64::MAX, i64::MAX), |(b, l, c)| (b as i64, l as i64, c as i64));
        let sql = format!(
            "SELECT {SENT_COLUMNS} FROM transfers WHERE {clause}
             AND (block, log_index, source_chain) < (?2, ?3, ?4)
             ORDER BY block DESC, log_index DESC, source_chain DESC LIMIT ?5"
        );
        let sent: Vec<SentRow> = self.with(|c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(params![value, b, l, ch, limit as i64], sent_row)?;
            rows.collect()
        })?;
        sent.into_iter().map(|s| self.with_outcome(s)).collect()
    }

    pub fn transfer(&self, message_hash: B256) -> Result<Option<TransferRow>, ApiError> {
        let sql = format!("SELECT {SENT_COLUMNS} FROM transfers WHERE message_hash = ?1");
        let sent = self.with(|c| c.query_row(&sql, params![message_hash.to_string()], sent_row).optional())?;
        sent.map(|s| self.with_outcome(s)).transpose()
    }

    fn with_outcome(&self, sent: SentRow) -> Result<TransferRow, ApiError> {
        let outcome = self.with(|c| {
            c.query_row(
                "SELECT chain_id, block, log_index, lane, sequence, stage, tx, at FROM outcomes
                 WHERE lane = ?1 AND sequence = ?2 ORDER BY at DESC, block DESC, log_index DESC LIMIT 1",
                params![sent.lane.to_string(), sent.sequence as i64],
                |r| {
                    Ok(OutcomeRow {
                        chain_id: r.get::<_, i64>(0)? as u64,
                        block: r.get::<_, i64>(1)? as u64,
                        log_index: r.get::<_, i64>(2)? as u64,
                        lane: hex_of(r.get(3)?)?,
                        sequence: r.get::<_, i64>(4)? as u64,
                        stage: r.get(5)?,
                        tx: hex_of(r.get(6)?)?,
                        at: r.get::<_, i64>(7)? as u64,
                    })
                },
            )
            .optional()
        })?;
        Ok(TransferRow { sent, outcome })
    }
}

const SENT_COLUMNS: &str = "message_hash, lane, sequence, source_chain, block, log_index, sender, recipient, amount, \
                            source_tx, sent_at, deadline";

fn sent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SentRow> {
    Ok(SentRow {
        message_hash: hex_of(r.get(0)?)?,
        lane: hex_of(r.get(1)?)?,
        sequence: r.get::<_, i64>(2)? as u64,
        source_chain: r.get::<_, i64>(3)? as u64,
        block: r.get::<_, i64>(4)? as u64,
        log_index: r.get::<_, i64>(5)? as u64,
        sender: address_of(r.get(6)?)?,
        recipient: address_of(r.get(7)?)?,
        amount: r.get(8)?,
        source_tx: hex_of(r.get(9)?)?,
        sent_at: r.get::<_, i64>(10)? as u64,
        deadline: r.get::<_, i64>(11)? as u64,
    })
}
