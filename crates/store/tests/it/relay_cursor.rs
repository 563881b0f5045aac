use alloy::primitives::{Address, B256, Bytes, keccak256};
use rusqlite::Connection;
use zb_store::{CURSOR_RECENT_BLOCKS, RelayCursor, RelayerStore, SetEvent, SetScan, StoreError};

use crate::open::V5_UNDONE;
use crate::{lane, temp_relayer_store};

fn block_hash(number: u64) -> B256 {
    keccak256(number.to_be_bytes())
}

/// Consumed blocks `from..=to`, cursor at `to + 1`, resuming at sequence 41 in block `resume`.
fn cursor(from: u64, to: u64, resume: u64) -> RelayCursor {
    RelayCursor {
        lane: lane(1),
        chain_id: 31337,
        bridge: Address::repeat_byte(0xb1),
        next_block: to + 1,
        recent: (from..=to).map(|n| (n, block_hash(n))).collect(),
        resume_sequence: 41,
        resume_block: resume,
    }
}

#[test]
fn a_relay_cursor_round_trips_keeping_only_the_newest_blocks() {
    let (dir, store) = temp_relayer_store();
    assert_eq!(store.relay_cursor(lane(1)).expect("read"), None, "never relayed");

    store.record_relay_cursor(&cursor(100, 103, 90)).expect("write");
    assert_eq!(store.relay_cursor(lane(1)).expect("read"), Some(cursor(100, 103, 90)));
    assert_eq!(store.relay_cursor(lane(2)).expect("read"), None, "per lane");

    // A later step replaces it; only the newest blocks are kept for the reorg guard.
    store.record_relay_cursor(&cursor(104, 130, 120)).expect("write");
    drop(store);
    let reopened = RelayerStore::open(&dir.path().join("relayer.sqlite")).expect("reopen");
    let stored = reopened.relay_cursor(lane(1)).expect("read").expect("a cursor");
    assert_eq!((stored.next_block, stored.resume_sequence, stored.resume_block), (131, 41, 120));
    assert_eq!(stored.recent.len(), CURSOR_RECENT_BLOCKS);
    assert_eq!(stored.recent.last(), Some(&(130, block_hash(130))));
    assert_eq!(stored.recent.first(), Some(&(131 - CURSOR_RECENT_BLOCKS as u64, block_hash(123))));

    reopened.forget_relay_cursor(lane(1)).expect("forget");
    assert_eq!(reopened.relay_cursor(lane(1)).expect("read"), None);
}

#[test]
fn an_inconsistent_relay_cursor_is_refused() {
    let (_dir, store) = temp_relayer_store();
    let mut no_block = cursor(100, 103, 90);
    no_block.recent.clear();
    assert!(matches!(store.record_relay_cursor(&no_block), Err(StoreError::Corrupt(_))));
    let mut behind = cursor(100, 103, 90);
    behind.next_block = 110;
    assert!(matches!(store.record_relay_cursor(&behind), Err(StoreError::Corrupt(_))));
    // The lowest undelivered message cannot be in a block not read yet.
    assert!(matches!(store.record_relay_cursor(&cursor(100, 103, 105)), Err(StoreError::Corrupt(_))));
    assert_eq!(store.relay_cursor(lane(1)).expect("read"), None, "nothing written");
    // Resuming at the cursor itself (every message delivered) is fine.
    store.record_relay_cursor(&cursor(100, 103, 104)).expect("at the cursor");
}

#[test]
fn set_scans_record_their_block_and_sets_by_hash() {
    let (_dir, store) = temp_relayer_store();
    let scan = |event, next_block| SetScan {
        lane: lane(1),
        event,
        chain_id: 31337,
        bridge: Address::repeat_byte(0xb1),
        next_block,
    };
    assert_eq!(store.set_scan(lane(1), SetEvent::Installed).expect("read"), None);
    let (first, second) = (Bytes::from_static(b"set one"), Bytes::from_static(b"set two"));
    store.record_set_scan(&scan(SetEvent::Installed, 50), std::slice::from_ref(&first)).expect("write");
    store.record_set_scan(&scan(SetEvent::Queued, 70), &[second.clone(), first.clone()]).expect("write");
    assert_eq!(store.set_scan(lane(1), SetEvent::Installed).expect("read"), Some(scan(SetEvent::Installed, 50)));
    assert_eq!(store.set_scan(lane(1), SetEvent::Queued).expect("read"), Some(scan(SetEvent::Queued, 70)));
    assert_eq!(store.set_scan(lane(1), SetEvent::Fallback).expect("read"), None);
    assert_eq!(store.set_scan(lane(2), SetEvent::Installed).expect("read"), None);
    let mut expected = vec![(keccak256(&first), first), (keccak256(&second), second)];
    expected.sort();
    assert_eq!(store.validator_sets().expect("sets"), expected);

    // A deep reorg forgets the scans (read again from start_block) but not the sets.
    store.record_relay_cursor(&cursor(100, 103, 90)).expect("write");
    store.forget_relay_cursor(lane(1)).expect("forget");
    assert_eq!(store.set_scan(lane(1), SetEvent::Queued).expect("read"), None);
    assert_eq!(store.validator_sets().expect("sets").len(), 2);
}

#[test]
fn a_stored_set_whose_hash_is_not_its_bytes_is_corrupt() {
    let (dir, store) = temp_relayer_store();
    let raw = Connection::open(dir.path().join("relayer.sqlite")).expect("raw");
    raw.execute(
        "INSERT INTO relay_validator_sets (set_hash, bytes) VALUES (?1, ?2)",
        rusqlite::params![[0x22u8; 32].as_slice(), b"not that set".as_slice()],
    )
    .expect("insert");
    assert!(matches!(store.validator_sets(), Err(StoreError::Corrupt(_))));
}

#[test]
fn upgrades_a_version_4_file_whose_lanes_start_from_start_block_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relayer.sqlite");
    drop(RelayerStore::open(&path).expect("open"));
    let raw = Connection::open(&path).expect("raw");
    raw.execute_batch(&format!("{V5_UNDONE} UPDATE schema_version SET version = 4;")).expect("downgrade");
    raw.execute(
        "INSERT INTO submissions (tx_hash, lane, from_sequence, to_sequence, nonce, max_fee_per_gas,
                                  max_priority_fee_per_gas, status, created_at, chain_id, sender, raw_tx)
         VALUES (?1, ?2, 0, 3, 7, '100', '2', 'pending', 1795000000, 31337, ?3, x'02')",
        rusqlite::params![[0x11u8; 32].as_slice(), lane(1).as_slice(), [0x33u8; 20].as_slice()],
    )
    .expect("a version-4 row");
    drop(raw);

    let store = RelayerStore::open(&path).expect("upgrade");
    // Nothing to resume from: the relayer reads each lane from start_block once, as before.
    assert_eq!(store.relay_cursor(lane(1)).expect("cursor"), None);
    assert_eq!(store.set_scan(lane(1), SetEvent::Installed).expect("scan"), None);
    assert!(store.validator_sets().expect("sets").is_empty());
    let pending = store.submissions_with_status(lane(1), zb_store::SubmissionStatus::Pending).expect("pending");
    assert_eq!(pending.len(), 1, "the queue is kept");
    store.record_relay_cursor(&cursor(10, 12, 11)).expect("the new tables exist");
    let version: i64 = Connection::open(&path)
        .expect("raw")
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 5);
}
