//! The devnet's options and the values its methods return.

use alloy::primitives::{Address, B256, TxHash, U256};
use zb_api_types::validator::CheckpointResponse;
use zb_protocol::Message;

use super::{HOME_NAME, Liveness, REMOTE_NAME};

/// How to build a [`Devnet`].
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// Validator keys in the route's set (weight 1 each). At most 128.
    pub validators: usize,
    /// The set's threshold weight (the contracts require 3·threshold ≥ 2·validators).
    pub threshold: u64,
    /// `finality = { depth = N }` for both chains in every agent's config.
    pub finality_depth: u64,
    /// Seconds between blocks once deployed (interval mining). The deployment itself automines.
    pub block_time: u64,
    /// The home chain mines only on demand ([`Anvil::mine`](crate::anvil::Anvil::mine)); `send` on it mines one block.
    pub manual_mining_home: bool,
    /// The agents' `poll_interval_ms`.
    pub poll_interval_ms: u64,
    /// Give the agents the chains' websocket URLs for new heads.
    pub websocket: bool,
    /// The relayer's `max_batch_messages` (its default if None).
    pub max_batch_messages: Option<u64>,
    /// The relayer's `confirmation_timeout_secs` (its default if None).
    pub confirmation_timeout_secs: Option<u64>,
    /// Validators take their lanes from their operators' opt-ins: every validator config gets
    /// `stake_manager` on both chains and no `[[lanes]]` (the relayer's config is unchanged).
    pub lanes_from_stake: bool,
    /// The validators' `stake_refresh_secs` (their default if None).
    pub stake_refresh_secs: Option<u64>,
    /// Fallback validators ("master validators"): staked separately, their sets become the
    /// route's fallback sets, and they run with `role = "fallback"` (validator indices
    /// `validators..validators + fallback_validators`). The relayer lists them.
    pub fallback_validators: usize,
    /// The route's liveness policy on both chains.
    pub liveness: Liveness,
}

impl Default for DevnetOptions {
    fn default() -> Self {
        DevnetOptions {
            validators: 4,
            threshold: 3,
            finality_depth: 2,
            block_time: 1,
            manual_mining_home: false,
            poll_interval_ms: 500,
            websocket: true,
            max_batch_messages: None,
            confirmation_timeout_secs: None,
            lanes_from_stake: false,
            stake_refresh_secs: None,
            fallback_validators: 0,
            liveness: Liveness::DEVNET,
        }
    }
}

/// One of the two chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    /// Chain id 1: the canonical token, locked in the bridge's vault.
    Home,
    /// Chain id 56: the wrapped token, minted and burned.
    Remote,
}

impl Chain {
    /// The `[[chains]] name` the agents know it by.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Home => HOME_NAME,
            Chain::Remote => REMOTE_NAME,
        }
    }
}

/// One lane of the demo route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ToRemote,
    ToHome,
}

impl Direction {
    pub fn source(self) -> Chain {
        match self {
            Direction::ToRemote => Chain::Home,
            Direction::ToHome => Chain::Remote,
        }
    }

    pub fn destination(self) -> Chain {
        match self {
            Direction::ToRemote => Chain::Remote,
            Direction::ToHome => Chain::Home,
        }
    }
}

/// An agent process of the devnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentId {
    Validator(usize),
    Relayer,
}

/// The JSON manifest Deploy.s.sol writes.
pub use zb_ops::deploy::{DeployedRoute as RouteManifest, DeployedSide as SideManifest, Deployment as Manifest};

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
