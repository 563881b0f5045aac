//! The one devnet orchestrator of zerobridge: two anvil chains with zerobridge deployed, a demo
//! route, deterministic keys, the agents' configs (checked with the agents' own loaders) and the
//! agents as child processes. Two modes of the same code:
//!
//! - detached ([`up`], `zerobridge devnet up`): the processes outlive the command, each in its
//!   own process group with its output in a log file; their pids are in the manifest, and
//!   [`down`] stops them;
//! - owned (the test harness, re-exported by `zb-e2e`): every process dies with the value that
//!   started it ([`zb_test_utils::process::Agent`] kills on drop).
//!
//! A devnet directory ([`Layout`]):
//!
//! ```text
//! devnet/manifest.json    what runs where (zb_ops::network::DevnetManifest)
//! devnet/processes.json   every process started so far (lets `down` clean up a failed `up`)
//! devnet/logs/            anvil-<chain>.log, deploy.log, validator-N.log, fallback-N.log, relayer.log,
//!                         watchtower.log, alerts.jsonl (the watchtower's alerts)
//! devnet/keys/            keystores of the validators and the relayer, and `password`
//! devnet/configs/         validator-N.toml, fallback-N.toml, relayer.toml, watchtower.toml, api.toml
//! devnet/data/            the agents' stores
//! devnet/broadcast/       forge's transaction log of the deployment
//! ```
//!
//! Nothing here prints: [`up`] and [`down`] report through [`UpView`] / [`DownView`], and
//! [`status`] returns a [`StatusReport`]; `zb-cli` renders them.

use std::time::Duration;

pub mod configs;
pub mod devnet;
pub mod keys;
pub mod layout;
pub mod manifest;
pub mod ports;
mod probe;
pub mod process;
pub mod setup;
mod status;
mod up;
pub mod watchtower;

pub use keys::{KEYSTORE_PASSWORD, fallback_validator_key, validator_key};
pub use layout::{Layout, repo_root};
pub use ports::Ports;
pub use process::{DownOutcome, DownView, down};
pub use status::{AgentStatus, ChainStatus, LaneStatus, RouteStateLine, StatusReport, status};
pub use up::{UpEvent, UpOptions, UpView, up};

/// Default devnet directory, relative to the working directory.
pub const DEFAULT_DIR: &str = "devnet";
/// Validators in the demo route's set, weight 1 each.
pub const VALIDATORS: usize = 4;
/// The set's threshold: 3 of 4.
pub const THRESHOLD: u64 = 3;
/// The route's fallback group ("master validators"), staked separately: 2 of 2 must sign.
pub const FALLBACK_VALIDATORS: usize = 2;
/// Blocks after which the agents treat a block as final.
pub const FINALITY_DEPTH: u64 = 2;
/// Seconds between blocks once deployed.
pub const BLOCK_TIME: u64 = 1;

/// The home chain (the demo token's canonical side).
pub const HOME: ChainSpec = ChainSpec { name: "ethereum", chain_id: 1 };
/// The remote chain (wrapped token).
pub const REMOTE: ChainSpec = ChainSpec { name: "bsc", chain_id: 56 };

const RPC_TIMEOUT: Duration = Duration::from_secs(20);
const BLOCKS_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_GRACE: Duration = Duration::from_secs(5);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// One of the devnet's two chains: its `[[chains]] name` in the agents' configs and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSpec {
    pub name: &'static str,
    pub chain_id: u64,
}
