//! `zerobridge devnet up | down | status`: two local anvil chains with zerobridge deployed, a
//! demo route, 4 validators, 2 fallback validators, a relayer and a watchtower, all running in the
//! background, described by a machine-readable manifest (docs/devnet.md).
//!
//! Everything lives in one directory (default `./devnet`, or `--dir` / `ZB_DEVNET_DIR`):
//!
//! ```text
//! devnet/manifest.json    what runs where (crate::network::DevnetManifest)
//! devnet/processes.json   every process started so far (lets `down` clean up a failed `up`)
//! devnet/logs/            anvil-<chain>.log, deploy.log, validator-N.log, fallback-N.log, relayer.log,
//!                         watchtower.log, alerts.jsonl (the watchtower's alerts)
//! devnet/keys/            keystores of the validators and the relayer, and `password`
//! devnet/configs/         validator-N.toml, fallback-N.toml, relayer.toml, watchtower.toml
//! devnet/data/            the agents' stores
//! devnet/broadcast/       forge's transaction log of the deployment
//! ```
//!
//! The processes outlive `devnet up`: each runs in its own process group with its output in a
//! log file, and `devnet down` stops them by the pids recorded in the manifest.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::{B256, keccak256};
use eyre::Result;

use crate::network::DEVNET_DIR_ENV;

mod configs;
mod layout;
mod ports;
mod probe;
mod process;
mod status;
mod up;
mod watchtower;

pub use layout::{Layout, repo_root};
pub use ports::Ports;
pub use process::down;
pub use status::status;
pub use up::{UpOptions, up};

/// Default devnet directory, relative to the working directory.
pub const DEFAULT_DIR: &str = "devnet";
/// Keystore password of every devnet key (also written to `<dir>/keys/password`).
pub const KEYSTORE_PASSWORD: &str = "devnet";
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
const AGENT_TIMEOUT: Duration = Duration::from_secs(60);
const BLOCKS_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_GRACE: Duration = Duration::from_secs(5);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSpec {
    pub name: &'static str,
    pub chain_id: u64,
}

/// The deterministic private key of devnet validator `i`.
pub fn validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.devnet.validator.{i}"))
}

/// The deterministic private key of devnet fallback validator `i`.
pub fn fallback_validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.devnet.fallback.{i}"))
}

// ------------------------------------------------------------------------------------ CLI

/// `zerobridge devnet ...`
#[derive(Debug, clap::Args)]
pub struct DevnetArgs {
    /// Directory holding the manifest, logs, keys, configs and agent data.
    #[arg(long, global = true, env = DEVNET_DIR_ENV, default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
    #[command(subcommand)]
    pub command: DevnetCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DevnetCommand {
    /// Start two anvil chains (ethereum, chain id 1, and bsc, chain id 56), deploy zerobridge,
    /// open the DEMO route and start 4 validators, 2 fallback validators, a relayer and a
    /// watchtower in the background.
    Up {
        /// Use 11 consecutive ports from this one (ethereum, bsc, validators 0-3, relayer,
        /// fallback validators 0-1, watchtower, API) instead of the fixed ones (8545, 8546, 7101-7104,
        /// 7200, 7111-7112, 7300, 7400).
        #[arg(long, env = "ZB_DEVNET_PORT_BASE")]
        port_base: Option<u16>,
        /// The zerobridge repository (contracts/ and node_modules/); found from the working
        /// directory or the binary's location if absent.
        #[arg(long, env = "ZB_REPO_ROOT")]
        repo: Option<PathBuf>,
    },
    /// Stop every devnet process (logs are kept).
    Down,
    /// Show chains, agents and the demo route's lanes; exits non-zero if anything is down.
    Status,
}

/// Runs a `zerobridge devnet` command.
pub async fn run(args: DevnetArgs) -> Result<()> {
    match args.command {
        DevnetCommand::Up { port_base, repo } => {
            let ports = match port_base {
                Some(base) => Ports::from_base(base)?,
                None => Ports::FIXED,
            };
            up(&UpOptions { dir: args.dir, ports, repo }).await
        }
        DevnetCommand::Down => down(&args.dir).await,
        DevnetCommand::Status => status(&args.dir).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_keys_are_deterministic_and_distinct() {
        assert_eq!(validator_key(0), validator_key(0));
        assert_ne!(validator_key(0), validator_key(1));
    }
}
