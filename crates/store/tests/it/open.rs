use rusqlite::Connection;
use zb_store::{StoreError, ValidatorStore};

use crate::{acc, lane};

#[test]
fn creates_a_wal_database_with_a_schema_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.sqlite");
    let store = ValidatorStore::open(&path).expect("open");
    assert_eq!(store.path(), path);
    store.check_and_record_signing(lane(1), 1, acc(1, 1)).expect("record");

    let raw = Connection::open(&path).expect("raw open");
    let mode: String = raw.pragma_query_value(None, "journal_mode", |r| r.get(0)).expect("journal_mode");
    assert_eq!(mode, "wal");
    let version: i64 = raw.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).expect("version");
    assert_eq!(version, 5);
    let tables: Vec<String> = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        tables,
        [
            "chain_cursor_blocks",
            "chain_cursors",
            "chain_halts",
            "lane_halts",
            "lane_heads",
            "lane_progress",
            "lane_set_updates",
            "relay_cursor_blocks",
            "relay_cursors",
            "relay_set_scans",
            "relay_validator_sets",
            "schema_version",
            "signed_checkpoints",
            "signing_history",
            "submissions"
        ]
    );
    let rows: i64 = raw.query_row("SELECT count(*) FROM signing_history", [], |r| r.get(0)).expect("count");
    assert_eq!(rows, 1);
}

#[test]
fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.sqlite");
    drop(ValidatorStore::open(&path).expect("open"));
    Connection::open(&path).expect("raw").execute("UPDATE schema_version SET version = 6", []).expect("bump");
    assert!(matches!(ValidatorStore::open(&path), Err(StoreError::UnsupportedFormat(_))));
}

#[test]
fn upgrades_a_version_1_file_keeping_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.sqlite");
    {
        let store = ValidatorStore::open(&path).expect("open");
        store.check_and_record_signing(lane(1), 1, acc(1, 1)).expect("record");
    }
    // What a version-1 build left behind: no halt tables, submissions without version 3's columns.
    let raw = Connection::open(&path).expect("raw");
    raw.execute_batch(&format!(
        "{V5_UNDONE} {V4_UNDONE} DROP TABLE lane_halts; DROP TABLE chain_halts; {V3_UNDONE} UPDATE schema_version SET version = 1;"
    ))
    .expect("downgrade");
    drop(raw);

    let store = ValidatorStore::open(&path).expect("upgrade");
    assert_eq!(store.export_history(alloy::primitives::Address::ZERO).expect("history").entries.len(), 1);
    store.halt_lane(lane(1), 2, "mismatch").expect("halt table exists");
    let raw = Connection::open(&path).expect("raw");
    let version: i64 = raw.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).expect("version");
    assert_eq!(version, 5);
}

/// Removes what schema version 5 added.
pub(crate) const V5_UNDONE: &str = "DROP TABLE relay_cursors; DROP TABLE relay_cursor_blocks; \
    DROP TABLE relay_set_scans; DROP TABLE relay_validator_sets;";

/// Removes what schema version 4 added.
const V4_UNDONE: &str = "DROP TABLE chain_cursors; DROP TABLE chain_cursor_blocks; DROP TABLE lane_heads; \
    DROP TABLE lane_progress; DROP TABLE lane_set_updates;";

#[test]
fn upgrades_a_version_3_file_with_empty_follow_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.sqlite");
    {
        let store = ValidatorStore::open(&path).expect("open");
        store.check_and_record_signing(lane(1), 1, acc(1, 1)).expect("record");
        store.halt_chain("ethereum", "deep reorg").expect("halt");
    }
    let raw = Connection::open(&path).expect("raw");
    raw.execute_batch(&format!("{V5_UNDONE} {V4_UNDONE} UPDATE schema_version SET version = 3;")).expect("downgrade");
    drop(raw);

    let store = ValidatorStore::open(&path).expect("upgrade");
    assert_eq!(store.export_history(alloy::primitives::Address::ZERO).expect("history").entries.len(), 1);
    assert_eq!(store.chain_halts().expect("halts").len(), 1);
    // Nothing to resume from: the validator catches up from start_block once, as before.
    assert_eq!(store.chain_cursor(1, alloy::primitives::Address::ZERO).expect("cursor"), None);
    assert_eq!(store.lane_head(lane(1)).expect("head"), None);
    let raw = Connection::open(&path).expect("raw");
    let version: i64 = raw.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).expect("version");
    assert_eq!(version, 5);
}

/// Removes what schema version 3 added to a version-2 file.
const V3_UNDONE: &str = "DROP INDEX submissions_by_account; ALTER TABLE submissions DROP COLUMN raw_tx; \
    ALTER TABLE submissions DROP COLUMN sender; ALTER TABLE submissions DROP COLUMN chain_id;";

#[test]
fn upgrades_a_version_2_file_whose_submissions_have_no_chain_account_or_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relayer.sqlite");
    drop(zb_store::RelayerStore::open(&path).expect("open"));
    let raw = Connection::open(&path).expect("raw");
    raw.execute_batch(&format!("{V5_UNDONE} {V4_UNDONE} {V3_UNDONE} UPDATE schema_version SET version = 2;"))
        .expect("downgrade");
    raw.execute(
        "INSERT INTO submissions (tx_hash, lane, from_sequence, to_sequence, nonce, max_fee_per_gas,
                                  max_priority_fee_per_gas, status, created_at)
         VALUES (?1, ?2, 0, 3, 7, '100', '2', 'pending', 1795000000)",
        rusqlite::params![[0x11u8; 32].as_slice(), lane(1).as_slice()],
    )
    .expect("a version-2 row");
    drop(raw);

    let store = zb_store::RelayerStore::open(&path).expect("upgrade");
    let pending = store.submissions_with_status(lane(1), zb_store::SubmissionStatus::Pending).expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].nonce, pending[0].chain_id), (7, 0));
    assert_eq!(pending[0].sender, alloy::primitives::Address::ZERO);
    assert!(pending[0].raw_tx.is_empty(), "nothing to rebroadcast");
}

#[test]
fn refuses_a_file_that_is_not_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keystore.json");
    std::fs::write(&path, vec![b'{'; 4096]).expect("write");
    match ValidatorStore::open(&path) {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("not an SQLite database"), "{message}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
