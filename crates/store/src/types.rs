use alloy::primitives::{Address, B256, Bytes, Signature};
use serde::{Deserialize, Serialize};

/// `format` of a [`SigningHistory`].
pub const HISTORY_FORMAT: &str = "zerobridge.slashing-protection";
/// `version` of a [`SigningHistory`] this crate writes and reads.
pub const HISTORY_VERSION: u32 = 1;

/// The answer of [`Store::check_and_record_signing`](crate::Store::check_and_record_signing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignDecision {
    /// Never signed before; the accumulator is now recorded. Safe to sign.
    New,
    /// Signed before with the same accumulator. Safe to sign again (or serve the stored signature).
    AlreadySigned,
}

/// A checkpoint signature the validator serves over its API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    pub lane: B256,
    pub sequence: u64,
    pub accumulator: B256,
    pub signer: Address,
    pub signature: Signature,
}

/// A lane the validator signs nothing of from `sequence` on, until an operator removes the halt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneHalt {
    pub lane: B256,
    /// The first sequence refused (the one whose accumulator was in doubt).
    pub sequence: u64,
    pub reason: String,
    /// Unix seconds.
    pub halted_at: u64,
}

/// A source chain (by its configured name) on which the validator signs nothing, until an
/// operator removes the halt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHalt {
    pub chain: String,
    pub reason: String,
    /// Unix seconds.
    pub halted_at: u64,
}

/// One `deliver` transaction the relayer sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub lane: B256,
    pub from_sequence: u64,
    pub to_sequence: u64,
    pub nonce: u64,
    pub tx_hash: B256,
    pub max_fee_per_gas: u128,
    pub max_priority_fee_per_gas: u128,
    pub status: SubmissionStatus,
    /// Unix seconds.
    pub created_at: u64,
    /// The destination chain's id (0 in rows written before schema version 3).
    pub chain_id: u64,
    /// The paying account (zero in rows written before schema version 3).
    pub sender: Address,
    /// The signed transaction as broadcast (empty in rows written before schema version 3).
    pub raw_tx: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    Pending,
    Confirmed,
    Replaced,
    Failed,
}

impl SubmissionStatus {
    /// The text stored in the `status` column (same as the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Replaced => "replaced",
            Self::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "confirmed" => Self::Confirmed,
            "replaced" => Self::Replaced,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// The slashing-protection interchange format (see the crate docs and docs/store-format.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningHistory {
    /// Always [`HISTORY_FORMAT`].
    pub format: String,
    /// Always [`HISTORY_VERSION`].
    pub version: u32,
    /// The signing key the history belongs to.
    pub signer: Address,
    pub entries: Vec<SignedEntry>,
}

impl SigningHistory {
    /// An empty history of the current format and version.
    pub fn new(signer: Address) -> Self {
        Self { format: HISTORY_FORMAT.to_owned(), version: HISTORY_VERSION, signer, entries: Vec::new() }
    }
}

/// "`signer` signed `accumulator` for the first `sequence` messages of `lane`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEntry {
    pub lane: B256,
    pub sequence: u64,
    pub accumulator: B256,
    /// Unix seconds when it was first recorded.
    pub signed_at: u64,
}

/// What [`Store::import_history`](crate::Store::import_history) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Entries that were new to this store.
    pub imported: usize,
    /// Entries identical (same lane, sequence and accumulator) to ones already stored.
    pub skipped: usize,
}
