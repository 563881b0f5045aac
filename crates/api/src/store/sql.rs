//! What the backends share: the schema as one list of migrations, statement parameters and the rows
//! queries answer. Every statement is written once in the common dialect of SQLite and PostgreSQL:
//! numbered `$1` parameters, `BIGINT` and `TEXT` columns, `INSERT ... ON CONFLICT`.

use alloy::primitives::{Address, B256};

use crate::ApiError;

/// The schema, one entry per version: entry `i` moves a database from version `i` to `i + 1`.
/// Append new entries; never edit a released one (opened databases have already run it).
pub(crate) const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE IF NOT EXISTS cursors (
    chain_id BIGINT PRIMARY KEY,
    block BIGINT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
    message_hash TEXT PRIMARY KEY,
    lane TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    source_chain BIGINT NOT NULL,
    block BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    amount TEXT NOT NULL,
    source_tx TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    deadline BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS transfers_sender ON transfers (sender);
CREATE INDEX IF NOT EXISTS transfers_recipient ON transfers (recipient);
CREATE INDEX IF NOT EXISTS transfers_tx ON transfers (source_tx);
CREATE INDEX IF NOT EXISTS transfers_lane ON transfers (lane, sequence);
CREATE TABLE IF NOT EXISTS outcomes (
    chain_id BIGINT NOT NULL,
    block BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    lane TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    stage TEXT NOT NULL,
    tx TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, block, log_index)
);
CREATE INDEX IF NOT EXISTS outcomes_lane ON outcomes (lane, sequence);
",
    "
CREATE TABLE IF NOT EXISTS deliveries (
    chain_id BIGINT NOT NULL,
    block BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    lane TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    tx TEXT NOT NULL,
    at BIGINT NOT NULL,
    signatures BIGINT NOT NULL,
    need BIGINT NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (chain_id, block, log_index)
);
CREATE INDEX IF NOT EXISTS deliveries_lane ON deliveries (lane, sequence);
CREATE TABLE IF NOT EXISTS delivery_signers (
    chain_id BIGINT NOT NULL,
    block BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    signer TEXT NOT NULL,
    lane TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, block, log_index, signer)
);
CREATE INDEX IF NOT EXISTS delivery_signers_signer ON delivery_signers (signer);
CREATE TABLE IF NOT EXISTS accumulators (
    chain_id BIGINT NOT NULL,
    block BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    lane TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    accumulator TEXT NOT NULL,
    PRIMARY KEY (chain_id, block, log_index)
);
CREATE INDEX IF NOT EXISTS accumulators_lane ON accumulators (lane, sequence);
",
];

/// The table holding the version a database has migrated to (one row).
pub(crate) const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)";

/// A statement parameter. Typed even when null, since PostgreSQL checks a parameter's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(Some(v))
    }
}

/// Block numbers, chain ids and timestamps are u64; stored as the same 64 bits in a BIGINT
/// (`Row::u64` reads them back), since neither backend has an unsigned 64-bit column.
impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(Some(v as i64))
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_string()))
    }
}

impl From<B256> for Value {
    fn from(v: B256) -> Value {
        Value::Text(Some(v.to_string()))
    }
}

/// Addresses are stored EIP-55 checksummed, the form the API answers with and filters by.
impl From<Address> for Value {
    fn from(v: Address) -> Value {
        Value::Text(Some(v.to_checksum(None)))
    }
}

/// One statement of a write with its parameters.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub sql: String,
    pub params: Vec<Value>,
}

impl Statement {
    pub fn new(sql: impl Into<String>, params: Vec<Value>) -> Statement {
        Statement { sql: sql.into(), params }
    }
}

/// A column value as a backend returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Int(i64),
    Text(String),
    Null,
}

/// One answered row, read by column position.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub Vec<Cell>);

fn bad_column(index: usize, want: &str, got: &Cell) -> ApiError {
    ApiError::Storage(format!("column {index} holds {got:?}, not {want}"))
}

impl Row {
    fn cell(&self, index: usize) -> Result<&Cell, ApiError> {
        self.0.get(index).ok_or_else(|| ApiError::Storage(format!("the row has no column {index}")))
    }

    pub fn int(&self, index: usize) -> Result<i64, ApiError> {
        match self.cell(index)? {
            Cell::Int(v) => Ok(*v),
            other => Err(bad_column(index, "an integer", other)),
        }
    }

    /// The u64 a `Value::from(u64)` stored.
    pub fn u64(&self, index: usize) -> Result<u64, ApiError> {
        Ok(self.int(index)? as u64)
    }

    pub fn text(&self, index: usize) -> Result<&str, ApiError> {
        match self.cell(index)? {
            Cell::Text(v) => Ok(v),
            other => Err(bad_column(index, "text", other)),
        }
    }

    pub fn b256(&self, index: usize) -> Result<B256, ApiError> {
        let text = self.text(index)?;
        text.parse().map_err(|_| ApiError::Storage(format!("column {index}: '{text}' is not a 32-byte hash")))
    }

    pub fn address(&self, index: usize) -> Result<Address, ApiError> {
        let text = self.text(index)?;
        text.parse().map_err(|_| ApiError::Storage(format!("column {index}: '{text}' is not an address")))
    }
}
