//! Route and lane identifiers, message hashes and the lane accumulator.

use alloy::primitives::{Address, B256, keccak256};
use alloy::sol_types::SolValue;

use crate::Message;

/// What a message does on the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Transfer = 1,
    Refund = 2,
    SetUpdate = 3,
}

impl MessageKind {
    pub fn from_u8(kind: u8) -> Option<Self> {
        match kind {
            1 => Some(Self::Transfer),
            2 => Some(Self::Refund),
            3 => Some(Self::SetUpdate),
            _ => None,
        }
    }
}

/// `keccak256(abi.encode(homeChainId, homeToken, remoteChainId))`, equal on both chains.
pub fn route_id(home_chain: u64, home_token: Address, remote_chain: u64) -> B256 {
    keccak256((home_chain, home_token, remote_chain).abi_encode())
}

/// `keccak256(abi.encode(srcChainId, srcBridge, dstChainId, dstBridge, routeId))`.
pub fn lane_id(src_chain: u64, src_bridge: Address, dst_chain: u64, dst_bridge: Address, route: B256) -> B256 {
    keccak256((src_chain, src_bridge, dst_chain, dst_bridge, route).abi_encode())
}

/// `acc_0 = keccak256(abi.encode("zerobridge.acc", laneId))`.
pub fn initial_accumulator(lane: B256) -> B256 {
    keccak256(("zerobridge.acc".to_string(), lane).abi_encode_params())
}

/// `keccak256(abi.encode(message))`.
pub fn message_hash(message: &Message) -> B256 {
    keccak256(message.abi_encode())
}

/// A lane's accumulator as a validator recomputes it from the messages it observed itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accumulator {
    pub lane: B256,
    pub sequence: u64,
    pub value: B256,
}

/// Why a message cannot extend an accumulator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lane {lane}: expected sequence {expected}, got {got}")]
pub struct SequenceError {
    pub lane: B256,
    pub expected: u64,
    pub got: u64,
}

impl Accumulator {
    pub fn new(lane: B256) -> Self {
        Self { lane, sequence: 0, value: initial_accumulator(lane) }
    }

    /// `acc_n = keccak256(abi.encode(acc_{n-1}, messageHash_n))`; messages must come in order.
    pub fn push(&mut self, message: &Message) -> Result<B256, SequenceError> {
        let expected = self.sequence + 1;
        if message.sequence != expected {
            return Err(SequenceError { lane: self.lane, expected, got: message.sequence });
        }
        self.value = keccak256((self.value, message_hash(message)).abi_encode());
        self.sequence = expected;
        Ok(self.value)
    }
}
