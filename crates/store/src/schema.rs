//! Tables and their versioning. The `schema_version` table holds one row; `open` creates the
//! tables of the current version in an empty file, upgrades an older file in place (each
//! version's DDL only adds tables or nullable columns) and refuses a file of a newer version.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::StoreError;

pub(crate) const SCHEMA_VERSION: i64 = 5;

const VERSION_TABLE: &str = "
CREATE TABLE IF NOT EXISTS schema_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);";

const V1: &str = "
-- Slashing protection: every (lane, sequence) this validator ever agreed to sign.
CREATE TABLE signing_history (
    lane        BLOB    NOT NULL CHECK (length(lane) = 32),
    sequence    INTEGER NOT NULL CHECK (sequence >= 0),
    accumulator BLOB    NOT NULL CHECK (length(accumulator) = 32),
    signed_at   INTEGER NOT NULL,
    PRIMARY KEY (lane, sequence)
) WITHOUT ROWID;

-- Signatures the validator serves over its API.
CREATE TABLE signed_checkpoints (
    lane        BLOB    NOT NULL CHECK (length(lane) = 32),
    sequence    INTEGER NOT NULL CHECK (sequence >= 0),
    accumulator BLOB    NOT NULL CHECK (length(accumulator) = 32),
    signer      BLOB    NOT NULL CHECK (length(signer) = 20),
    signature   BLOB    NOT NULL CHECK (length(signature) = 65),
    PRIMARY KEY (lane, sequence)
) WITHOUT ROWID;

-- The relayer's deliver transactions.
CREATE TABLE submissions (
    tx_hash                  BLOB    NOT NULL PRIMARY KEY CHECK (length(tx_hash) = 32),
    lane                     BLOB    NOT NULL CHECK (length(lane) = 32),
    from_sequence            INTEGER NOT NULL CHECK (from_sequence >= 0),
    to_sequence              INTEGER NOT NULL CHECK (to_sequence >= 0),
    nonce                    INTEGER NOT NULL CHECK (nonce >= 0),
    max_fee_per_gas          TEXT    NOT NULL,
    max_priority_fee_per_gas TEXT    NOT NULL,
    status                   TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'replaced', 'failed')),
    created_at               INTEGER NOT NULL CHECK (created_at >= 0)
) WITHOUT ROWID;
CREATE INDEX submissions_by_lane_status ON submissions (lane, status, nonce);
";

/// Version 2: the validator's halts, kept until `zerobridge validator unhalt` removes them. Lane
/// halts (emitted-vs-recomputed mismatch) are keyed by lane; chain halts (a reorg deeper than
/// finality) by the chain's configured name, because every lane of that chain, including lanes
/// opted in to later, is affected.
const V2: &str = "
CREATE TABLE lane_halts (
    lane      BLOB    NOT NULL PRIMARY KEY CHECK (length(lane) = 32),
    sequence  INTEGER NOT NULL CHECK (sequence >= 1),
    reason    TEXT    NOT NULL,
    halted_at INTEGER NOT NULL CHECK (halted_at >= 0)
) WITHOUT ROWID;

CREATE TABLE chain_halts (
    chain     TEXT    NOT NULL PRIMARY KEY,
    reason    TEXT    NOT NULL,
    halted_at INTEGER NOT NULL CHECK (halted_at >= 0)
) WITHOUT ROWID;
";

/// Version 3: each submission records the chain and account it was sent from and its signed
/// bytes, so the relayer can rebroadcast a transaction a node dropped and never reuses the
/// nonce of one it still expects mined. Rows of version 2 have no bytes (NULL) and chain id 0.
const V3: &str = "
ALTER TABLE submissions ADD COLUMN chain_id INTEGER NOT NULL DEFAULT 0 CHECK (chain_id >= 0);
ALTER TABLE submissions ADD COLUMN sender BLOB CHECK (sender IS NULL OR length(sender) = 20);
ALTER TABLE submissions ADD COLUMN raw_tx BLOB;
CREATE INDEX submissions_by_account ON submissions (chain_id, sender, status, nonce);
";

/// Version 4: the validator's follow progress, so that a restart resumes instead of rescanning
/// (see `progress.rs`). Per followed chain (chain id and bridge) a cursor: the next block to
/// read and the last consumed blocks the reorg guard re-checks. Per lane its head (the block it
/// is consumed up to, sequence, accumulator), one row per message (accumulator, sentAt, block)
/// and its validator-set updates. Written in one transaction per follow step.
const V4: &str = "
CREATE TABLE chain_cursors (
    chain_id   INTEGER NOT NULL CHECK (chain_id >= 0),
    bridge     BLOB    NOT NULL CHECK (length(bridge) = 20),
    next_block INTEGER NOT NULL CHECK (next_block >= 0),
    last_hash  BLOB    NOT NULL CHECK (length(last_hash) = 32),
    updated_at INTEGER NOT NULL CHECK (updated_at >= 0),
    PRIMARY KEY (chain_id, bridge)
) WITHOUT ROWID;

CREATE TABLE chain_cursor_blocks (
    chain_id INTEGER NOT NULL,
    bridge   BLOB    NOT NULL,
    number   INTEGER NOT NULL CHECK (number >= 0),
    hash     BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (chain_id, bridge, number)
) WITHOUT ROWID;

CREATE TABLE lane_heads (
    lane        BLOB    NOT NULL PRIMARY KEY CHECK (length(lane) = 32),
    chain_id    INTEGER NOT NULL CHECK (chain_id >= 0),
    bridge      BLOB    NOT NULL CHECK (length(bridge) = 20),
    next_block  INTEGER NOT NULL CHECK (next_block >= 0),
    sequence    INTEGER NOT NULL CHECK (sequence >= 0),
    accumulator BLOB    NOT NULL CHECK (length(accumulator) = 32)
) WITHOUT ROWID;

CREATE TABLE lane_progress (
    lane        BLOB    NOT NULL CHECK (length(lane) = 32),
    sequence    INTEGER NOT NULL CHECK (sequence >= 1),
    accumulator BLOB    NOT NULL CHECK (length(accumulator) = 32),
    sent_at     INTEGER NOT NULL CHECK (sent_at >= 0),
    block       INTEGER NOT NULL CHECK (block >= 0),
    PRIMARY KEY (lane, sequence)
) WITHOUT ROWID;
CREATE INDEX lane_progress_by_sent_at ON lane_progress (lane, sent_at);

CREATE TABLE lane_set_updates (
    lane     BLOB    NOT NULL CHECK (length(lane) = 32),
    sequence INTEGER NOT NULL CHECK (sequence >= 1),
    set_hash BLOB    NOT NULL CHECK (length(set_hash) = 32),
    PRIMARY KEY (lane, sequence)
) WITHOUT ROWID;
";

/// Version 5: the relayer's per-lane source cursor, so that a restart reads the source only from
/// the block of the lowest message that may still be undelivered (see `relay_cursor.rs`). Per lane
/// the next source block, the last consumed blocks the reorg guard re-checks, and the (sequence,
/// block) of the lowest undelivered message when written; per lane and set event the block the
/// set logs were read up to, and the validator sets read (content-addressed: keyed by the
/// keccak256 of their bytes). A file upgraded from version 4 has none: its lanes start from
/// `start_block` once.
const V5: &str = "
CREATE TABLE relay_cursors (
    lane            BLOB    NOT NULL PRIMARY KEY CHECK (length(lane) = 32),
    chain_id        INTEGER NOT NULL CHECK (chain_id >= 0),
    bridge          BLOB    NOT NULL CHECK (length(bridge) = 20),
    next_block      INTEGER NOT NULL CHECK (next_block >= 1),
    resume_sequence INTEGER NOT NULL CHECK (resume_sequence >= 1),
    resume_block    INTEGER NOT NULL CHECK (resume_block >= 0 AND resume_block <= next_block),
    updated_at      INTEGER NOT NULL CHECK (updated_at >= 0)
) WITHOUT ROWID;

CREATE TABLE relay_cursor_blocks (
    lane   BLOB    NOT NULL CHECK (length(lane) = 32),
    number INTEGER NOT NULL CHECK (number >= 0),
    hash   BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (lane, number)
) WITHOUT ROWID;

CREATE TABLE relay_set_scans (
    lane       BLOB    NOT NULL CHECK (length(lane) = 32),
    event      TEXT    NOT NULL CHECK (event IN ('installed', 'queued', 'fallback')),
    chain_id   INTEGER NOT NULL CHECK (chain_id >= 0),
    bridge     BLOB    NOT NULL CHECK (length(bridge) = 20),
    next_block INTEGER NOT NULL CHECK (next_block >= 0),
    PRIMARY KEY (lane, event)
) WITHOUT ROWID;

CREATE TABLE relay_validator_sets (
    set_hash BLOB NOT NULL PRIMARY KEY CHECK (length(set_hash) = 32),
    bytes    BLOB NOT NULL
) WITHOUT ROWID;
";

/// Brings the file to [`SCHEMA_VERSION`] inside one exclusive transaction, so two processes
/// opening a new file at once cannot both create it.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    tx.execute_batch(VERSION_TABLE)?;
    let version: Option<i64> =
        tx.query_row("SELECT version FROM schema_version WHERE id = 1", [], |row| row.get(0)).optional()?;
    match version {
        None => {
            tx.execute_batch(V1)?;
            tx.execute_batch(V2)?;
            tx.execute_batch(V3)?;
            tx.execute_batch(V4)?;
            tx.execute_batch(V5)?;
            tx.execute("INSERT INTO schema_version (id, version) VALUES (1, ?1)", [SCHEMA_VERSION])?;
        }
        Some(old @ (1..=4)) => {
            if old < 2 {
                tx.execute_batch(V2)?;
            }
            if old < 3 {
                tx.execute_batch(V3)?;
            }
            if old < 4 {
                tx.execute_batch(V4)?;
            }
            tx.execute_batch(V5)?;
            tx.execute("UPDATE schema_version SET version = ?1 WHERE id = 1", [SCHEMA_VERSION])?;
        }
        Some(SCHEMA_VERSION) => {}
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::UnsupportedFormat(format!(
                "database schema version {v} is newer than this build supports ({SCHEMA_VERSION}); \
                 run the zerobridge release that wrote it, or a newer one"
            )));
        }
        Some(v) => {
            return Err(StoreError::Corrupt(format!("schema_version holds {v}, which was never released")));
        }
    }
    tx.commit()?;
    Ok(())
}
