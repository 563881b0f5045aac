//! The values the harness's helpers return.

use alloy::primitives::{Address, B256, TxHash, U256};
use zb_api_types::validator::CheckpointResponse;
use zb_protocol::Message;

use super::Direction;

/// A confirmed `send`.
#[derive(Debug, Clone)]
pub struct Sent {
    pub direction: Direction,
    pub lane: B256,
    pub sequence: u64,
    /// What the holder asked to send.
    pub amount: U256,
    /// What the message carries: the amount after the fee.
    pub net: U256,
    pub message: Message,
    /// The accumulator the source bridge emitted for this message.
    pub accumulator: B256,
    pub tx_hash: TxHash,
    pub block_number: u64,
    pub block_hash: B256,
}

/// A `MessageSent` event on a lane's source bridge.
#[derive(Debug, Clone)]
pub struct SentEvent {
    pub sequence: u64,
    pub message: Message,
    pub accumulator: B256,
    pub block_number: u64,
    pub block_hash: B256,
    pub tx_hash: TxHash,
}

/// A `MessageExecuted` event on a lane's destination bridge.
#[derive(Debug, Clone)]
pub struct Executed {
    pub sequence: u64,
    pub recipient: Address,
    pub amount: U256,
    pub block_number: u64,
    pub tx_hash: TxHash,
}

/// A `CheckpointDelivered` event on a lane's destination bridge (one per `deliver`).
#[derive(Debug, Clone)]
pub struct CheckpointEvent {
    pub sequence: u64,
    pub accumulator: B256,
    pub messages: U256,
    pub block_number: u64,
    pub tx_hash: TxHash,
}

/// A validator's answer to `GET /v1/lanes/{lane}/checkpoints/{sequence}`.
#[derive(Debug, Clone)]
pub enum Served {
    Signed(CheckpointResponse),
    Refused { status: u16, body: String },
}

impl Served {
    pub fn signed(&self) -> Option<&CheckpointResponse> {
        match self {
            Served::Signed(c) => Some(c),
            Served::Refused { .. } => None,
        }
    }
}

/// What [`Devnet::audit_validator`](super::Devnet::audit_validator) checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidatorAudit {
    /// Slashing-protection records, each equal to the source's accumulator.
    pub recorded: usize,
    /// Stored signatures, each over a recorded accumulator and valid.
    pub signed: usize,
}
