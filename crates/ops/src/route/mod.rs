//! Token-team commands: `zerobridge route register | status | list`.
//!
//! `register` follows the Hot Cross registration journey (seed 003) on zerobridge's contracts
//! (docs/protocol.md section 10): the token's `owner()` registers on the home chain and pays the
//! bond, governance replays the registration on the remote chain (deploying the wrapped token
//! with the canonical decimals), each lane gets its validator set, the route is activated on both
//! chains, and the command prints the validator configuration and the relayer lanes the team runs.
//!
//! On staked chains (a StakeManager behind the registry) a lane's set is the stake snapshot of its
//! source chain: operators opt in to the new lane (on the devnet the command opts the devnet
//! operators in), anyone commits the epoch, governance copies the snapshot to the destination
//! (`installInboundSet`), and the route owner's security level (`--min-stake`, `--min-validators`)
//! must be met before `activateRoute` succeeds. On a chain without a stake manager governance
//! installs a configured set (`--security`). Every step checks the chain first, so re-running the
//! command after a failure resumes where it stopped.

mod chain_config;
mod config;
mod errors;
mod install;
mod manifest;
mod register;
mod security;
mod status;
mod view;

pub use chain_config::{chain_routes, validator_config};
pub use config::{RELAYER_BEGIN, RELAYER_END, VALIDATOR_BEGIN, VALIDATOR_END};

use crate::context::{KeyArgs, NetworkArgs};
pub use register::register;
pub use status::{LaneSecurity, LaneStatus, RouteRow, RouteStatus, lane_security, list, status};
// What the REST API (zb-api) reads: every route and each chain's view of it.
pub use view::{ChainView, RouteView, chain_label, chain_status, chain_view, connect_all, discover, display_symbol};

// ------------------------------------------------------------------------------------------
// Workflow inputs
// ------------------------------------------------------------------------------------------

/// The validator set a route gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// The network's shared validators with the network's threshold (on the devnet: the
    /// manifest's validators and threshold).
    Standard,
    /// The network's validators with the threshold raised to at least four fifths of them.
    High,
    /// Your own set: --validators and --threshold (weight 1 each, threshold >= 2/3).
    Custom,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RegisterArgs {
    /// The canonical ERC-20 on the home chain.
    #[arg(long, value_name = "ADDRESS")]
    pub token: String,
    /// Home chain (name or chain id): where the token lives and is locked.
    #[arg(long, value_name = "CHAIN")]
    pub from: String,
    /// Remote chain (name or chain id): where the wrapped token is deployed and minted.
    #[arg(long, value_name = "CHAIN")]
    pub to: String,
    /// Name of the wrapped token on the remote chain.
    #[arg(long)]
    pub wrapped_name: String,
    /// Symbol of the wrapped token on the remote chain.
    #[arg(long)]
    pub wrapped_symbol: String,
    /// Minimum per transfer, in tokens.
    #[arg(long, default_value = "0.01")]
    pub min: String,
    /// Maximum per transfer, in tokens.
    #[arg(long, default_value = "1000")]
    pub max: String,
    /// Outbound rate limit per lane and day (checked on the source chain), in tokens.
    #[arg(long, default_value = "100000")]
    pub daily_limit: String,
    /// Inbound rate limit per lane and day (checked on the destination chain). Default: --daily-limit.
    #[arg(long)]
    pub inbound_daily_limit: Option<String>,
    /// Inbound transfers at or above this are held for the guardians' delay; 0 disables holds.
    #[arg(long, default_value = "50000")]
    pub hold_above: String,
    /// Fee in basis points (capped by the bridge's maxFeeBps).
    #[arg(long, default_value_t = 10)]
    pub fee_bps: u16,
    /// Who receives the fee. Default: the registering key.
    #[arg(long, value_name = "ADDRESS")]
    pub collector: Option<String>,
    /// Chains without a stake manager: which governance-configured set secures the route's lanes
    /// sourced there (default standard). Staked chains take their sets from stake instead.
    #[arg(long, value_enum)]
    pub security: Option<Security>,
    /// Custom set: comma-separated signer addresses (weight 1 each); implies --security custom.
    #[arg(long, value_name = "ADDR,...")]
    pub validators: Option<String>,
    /// Custom set: threshold weight, at least two thirds of the validators.
    #[arg(long, value_name = "N")]
    pub threshold: Option<u64>,
    /// Staked chains: the security level each lane's stake snapshot must meet before the route
    /// activates, as total stake in whole coins of the source chain's staking asset.
    /// Default 4000: the devnet's stake (4 operators bonding 1000 each).
    #[arg(long, value_name = "COINS")]
    pub min_stake: Option<String>,
    /// Staked chains: the least number of validators in each lane's snapshot. Default 4.
    #[arg(long, value_name = "N")]
    pub min_validators: Option<u64>,
    /// Environment variable with the governance key (ADMIN on both chains, and SET_MANAGER on chains
    /// without a stake manager).
    /// Required on real chains; on the devnet the manifest's "deployer" is governance.
    #[arg(long, value_name = "VAR")]
    pub governance_key_env: Option<String>,
    /// Check everything and print the summary, but send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// The route: its canonical (or wrapped) symbol, or its route id.
    pub route: String,
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[cfg(test)]
mod test_support {
    use super::*;
    use clap::Parser;

    /// `route register`'s arguments as zb-cli's `route register` parses them.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: RegisterArgs,
    }

    pub(super) fn register_args(extra: &[&str]) -> RegisterArgs {
        let mut argv = vec![
            "register",
            "--token",
            "0x1111111111111111111111111111111111111111",
            "--from",
            "ethereum",
            "--to",
            "bsc",
            "--wrapped-name",
            "Wrapped",
            "--wrapped-symbol",
            "wX",
        ];
        argv.extend(extra);
        match Cli::try_parse_from(argv) {
            Ok(cli) => cli.args,
            Err(e) => panic!("{e}"),
        }
    }

    pub(super) fn err<T>(r: eyre::Result<T>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }
}
