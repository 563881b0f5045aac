//! `zerobridge audit export | verify`: a hash-chained JSON-lines log of every privileged action
//! and every transfer, built from the chains' events, and its verification against the chains.
//!
//! Both commands are read-only: they never load a key and send no transaction, so a regulator
//! runs them with nothing but RPC access to each chain (ideally their own nodes). Format, hashing
//! and what `verify` checks: docs/audit.md.
//!
//! - `export` reads every log of each chain's bridge, route registry and AccessManager from a
//!   start block to the chain head minus `--confirmations`, decodes it with the contract
//!   bindings into an event name and named fields, and writes one JSON line per event, ordered by
//!   (chain id, block, log index), after a header line that names the covered block ranges. Each
//!   line carries `prev` (the previous line's hash) and `hash` (keccak256 of the line's canonical
//!   JSON without `hash`).
//! - `verify` recomputes every hash and link, then re-reads the covered ranges from the chains and
//!   requires the file to equal them line for line: an edited line is caught even when every hash
//!   after it was recomputed, and a deleted line is caught as a missing event.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::B256;

mod chains;
mod decode;
mod export;
mod hash;
mod verify;

pub use chains::Coverage;
pub use decode::{Contract, Decoder, classify};
pub use export::{AuditExport, export};
pub use hash::{canonical_json, check_chain, line_hash, render_lines, seal};
pub use verify::{AuditVerified, verify};

/// `format` of the header line.
pub const FORMAT: &str = "zerobridge-audit/1";
/// `prev` of the first line.
pub const GENESIS_PREV: B256 = B256::ZERO;
/// Timeout of one RPC request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bridge events that are part of a transfer's life; every other event is a privileged action.
const TRANSFER_EVENTS: &[&str] = &[
    "MessageSent",
    "MessageExecuted",
    "MessageFailed",
    "TransferHeld",
    "HoldReleased",
    "RefundApproved",
    "RefundClaimed",
    "CheckpointDelivered",
];
/// `event` of a log no binding decodes (its raw topics and data are kept in `fields`).
pub const UNKNOWN_EVENT: &str = "unknown";

// ------------------------------------------------------------------------------------ options

/// `zerobridge audit export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Output file (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// First block to read on every chain (default: the devnet manifest's deployment block, or 0
    /// with a network file: pass the contracts' deployment block on real chains).
    #[arg(long, value_name = "BLOCK")]
    pub from_block: Option<u64>,
    /// Leave out each chain's newest N blocks (not final yet).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub confirmations: u64,
    /// Network file for real chains (default: the devnet manifest, devnet/manifest.json or
    /// $ZB_DEVNET_DIR/manifest.json).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
}

/// `zerobridge audit verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The audit log written by `zerobridge audit export`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The head hash (the last line's `hash`) recorded when the log was exported: the log must
    /// end there (catches lines cut off the end together with the header's range).
    #[arg(long, value_name = "HASH")]
    pub head: Option<String>,
    /// Network file for real chains (default: the devnet manifest, devnet/manifest.json or
    /// $ZB_DEVNET_DIR/manifest.json).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
}
