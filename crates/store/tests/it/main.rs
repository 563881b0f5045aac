//! zb-store integration tests. `crash` re-executes this binary as a child process.

mod checkpoints;
mod concurrency;
mod crash;
mod halts;
mod history;
mod open;
mod progress;
mod relay_cursor;
mod signing;
mod submissions;

use alloy::primitives::{B256, keccak256};
use tempfile::TempDir;
use zb_store::{RelayerStore, ValidatorStore};

/// A fresh validator store in its own temporary directory (kept alive by the returned `TempDir`).
pub fn temp_store() -> (TempDir, ValidatorStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ValidatorStore::open(&dir.path().join("agent.sqlite")).expect("open store");
    (dir, store)
}

/// A fresh relayer store in its own temporary directory.
pub fn temp_relayer_store() -> (TempDir, RelayerStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RelayerStore::open(&dir.path().join("relayer.sqlite")).expect("open store");
    (dir, store)
}

pub fn lane(n: u8) -> B256 {
    keccak256([b'l', n])
}

/// A distinct accumulator per (tag, sequence).
pub fn acc(tag: u8, sequence: u64) -> B256 {
    let mut bytes = [0u8; 9];
    bytes[0] = tag;
    bytes[1..].copy_from_slice(&sequence.to_be_bytes());
    keccak256(bytes)
}
