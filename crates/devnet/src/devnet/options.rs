//! How to build a [`Devnet`](super::Devnet), and the names of its parts.

use std::path::PathBuf;

use super::{HOME_NAME, Liveness, REMOTE_NAME};
use crate::Ports;

/// Owned or detached: who the processes belong to.
#[derive(Debug, Clone, Default)]
pub enum Mode {
    /// A test's devnet: a temporary directory, free ports, every process killed when the
    /// [`Devnet`](super::Devnet) drops; agents log JSON lines; the holder has approved the home bridge.
    #[default]
    Owned,
    /// `zerobridge devnet up`: processes in their own process groups that outlive the command
    /// once [`Devnet::release`](super::Devnet::release)d, recorded in `processes.json`.
    Detached(Detached),
}

/// Where a detached devnet lives and what it runs.
#[derive(Debug, Clone)]
pub struct Detached {
    pub dir: PathBuf,
    pub ports: Ports,
    /// The repository: contracts/ and node_modules/ (anvil, forge).
    pub repo: PathBuf,
    /// The zerobridge binary the agents run.
    pub zerobridge: PathBuf,
}

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
    pub mode: Mode,
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
            mode: Mode::Owned,
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
