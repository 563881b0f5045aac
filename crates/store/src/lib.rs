//! The embedded stores of the zerobridge validator and relayer agents: one SQLite file per agent
//! (see docs/store-format.md), opened as [`ValidatorStore`] or [`RelayerStore`]: each type has only
//! its own agent's tables' methods.
//!
//! - **Slashing protection** (validator): [`ValidatorStore::check_and_record_signing`] is called before
//!   every checkpoint signature. In one exclusive transaction it records the accumulator for a
//!   new `(lane, sequence)`, accepts the same accumulator again, and refuses a different one with
//!   [`StoreError::Conflict`]. The record is committed with `synchronous=FULL` before the call
//!   returns, so a crash right after it cannot forget it.
//! - **Signed checkpoints** (validator): what the validator serves over its API.
//! - **Submissions** (relayer): its queue of `deliver` transactions with chain, account, nonce,
//!   fees, status and the signed bytes (rebroadcast when a node dropped them).
//! - **Halts** (validator): lanes and chains it stopped signing, kept until an operator removes
//!   them ([`ValidatorStore::halt_lane`], [`ValidatorStore::halt_chain`], [`ValidatorStore::unhalt_lane`]).
//! - **Follow progress** (validator): per chain a cursor, per lane its head, one row per message
//!   and its set updates, written in one transaction per follow step
//!   ([`ValidatorStore::record_follow_step`]); a restart resumes from them instead of rescanning.
//! - **Relay cursors** (relayer): per lane the next source block, the recent consumed blocks for
//!   the reorg guard and the block of the lowest undelivered message, and how far the
//!   validator-set logs were read with the sets found ([`RelayerStore::record_relay_cursor`],
//!   [`RelayerStore::record_set_scan`]); a restart reads the source only from there.
//!
//! The file uses the WAL journal, `synchronous=FULL` and a busy timeout of [`BUSY_TIMEOUT`].
//! Hashes, addresses and signatures are stored as BLOBs of exactly 32, 20 and 65 bytes (r ‖ s ‖ v,
//! v = 27 or 28), `u64` values as INTEGER (so they must not exceed `i64::MAX`), `u128` fees as
//! decimal TEXT, submission status as its snake_case name. The table `schema_version` holds the
//! schema version (5); an older file is upgraded on open, a file of a newer version is refused.
//!
//! # Slashing-protection interchange format
//!
//! [`ValidatorStore::export_history`] writes, and [`ValidatorStore::import_history`] reads, a [`SigningHistory`].
//! As JSON (serde, e.g. `serde_json`):
//!
//! ```json
//! {
//!   "format": "zerobridge.slashing-protection",
//!   "version": 1,
//!   "signer": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
//!   "entries": [
//!     {
//!       "lane": "0xd93244e7b08131ef10eda16a0717627450cf0e51d1ca713c41d301a51b9a6e54",
//!       "sequence": 41,
//!       "accumulator": "0xfb7a9f0dd0b2c08f213ca0e4c387ce14407bb833baa0b223f2879ae37c295825",
//!       "signed_at": 1795000000
//!     },
//!     {
//!       "lane": "0xd93244e7b08131ef10eda16a0717627450cf0e51d1ca713c41d301a51b9a6e54",
//!       "sequence": 42,
//!       "accumulator": "0x872b6926fae2d14f8adbb284e7bde6211b309ee8fe65fc2b21ddf74c9c442c41",
//!       "signed_at": 1795000012
//!     }
//!   ]
//! }
//! ```
//!
//! - `format`: always `"zerobridge.slashing-protection"`; `version`: always `1`. Anything else is
//!   [`StoreError::UnsupportedFormat`].
//! - `signer`: the validator's signing key (0x-hex address) the history belongs to.
//! - `entries`: one per `(lane, sequence)` ever agreed to sign, ordered by lane then sequence:
//!   `lane` and `accumulator` are 0x-hex 32-byte values, `sequence` the checkpoint's sequence (a
//!   JSON number), `signed_at` unix seconds of the first recording.
//!
//! Importing merges: identical entries are skipped, new ones added, and one entry whose
//! accumulator differs from what the store (or an earlier entry of the same file) holds for its
//! `(lane, sequence)` rejects the whole file, writing nothing.

mod checkpoints;
mod codec;
mod error;
mod halts;
mod progress;
mod relay_cursor;
mod schema;
mod slashing;
mod store;
mod submissions;
mod types;

pub use error::StoreError;
pub use progress::{CURSOR_RECENT_BLOCKS, ChainCursor, LaneHead, LaneProgress, LaneStep};
pub use relay_cursor::{RelayCursor, SetEvent, SetScan};
pub use store::{BUSY_TIMEOUT, RelayerStore, ValidatorStore};
pub use types::{
    ChainHalt, HISTORY_FORMAT, HISTORY_VERSION, ImportReport, LaneHalt, SignDecision, SignedCheckpoint, SignedEntry,
    SigningHistory, Submission, SubmissionStatus,
};
