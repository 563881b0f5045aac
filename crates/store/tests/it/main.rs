//! zb-store integration tests. `crash` re-executes this binary as a child process.

mod checkpoints;
mod concurrency;
mod crash;
mod halts;
mod history;
mod open;
mod progress;
mod signing;
mod submissions;

use alloy::primitives::{B256, keccak256};
use tempfile::TempDir;
use zb_store::Store;

/// A fresh store in its own temporary directory (kept alive by the returned `TempDir`).
pub fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("agent.sqlite")).expect("open store");
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
