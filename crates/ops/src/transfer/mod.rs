//! Holder commands: `send` (move tokens from one chain to the other, with checks that explain
//! every refusal and a live progress display), `track` (the progress of an earlier send) and
//! `balance` (what an address holds on every configured chain).
//!
//! A transfer goes through five stages, shown the same way by `send` and `track`:
//! 1. submitted on the source chain (transaction hash),
//! 2. final on the source chain (the chain's `finality_depth` blocks on top of it),
//! 3. signed by the validators (each validator's latest checkpoint covers our sequence),
//! 4. delivered on the destination (`MessageExecuted`, or `MessageFailed` and a refund),
//! 5. only for large transfers: held on the destination until `releaseAt`, then released
//!    (`releaseHold` is permissionless).
//!
//! Everything a user can get wrong is refused before any transaction, with one line that says
//! what is wrong and how to fix it.

use std::time::Duration;

use crate::context::{KeyArgs, NetworkArgs};

mod balance;
mod dest;
mod send;
mod stages;
mod token;
mod track;
mod validators;
mod view;
mod watch;

pub use balance::{Balance, Balances, ChainBalances, balance};
pub(crate) use dest::{DestEvent, DestStatus, TxAt, first_block_at};
pub use send::send;
pub(crate) use send::{check_gas_funds, wait_receipt};
pub use stages::StageView;
pub(crate) use stages::{Progress, Transfer};
pub(crate) use token::{TokenMeta, explain_contract_error};
pub use token::{rate_limit_message, seconds_until_available};
pub use track::track;
pub(crate) use track::{leg_for_lane, load_transfer};
pub(crate) use validators::CheckpointResponse;
pub use view::TransferView;
pub(crate) use watch::{Watch, watch};

pub(crate) use crate::context::IERC20Token;

/// Seconds the token bucket takes to refill completely (TokenBucket.sol).
const BUCKET_REFILL_SECONDS: u64 = 86_400;
pub(crate) const VALIDATOR_TIMEOUT: Duration = Duration::from_secs(5);
/// How often progress is refreshed.
pub(crate) const POLL: Duration = Duration::from_millis(1000);
/// `send` gas: the estimate plus 30 % (the token bucket refills between estimate and inclusion).
pub(crate) const GAS_HEADROOM_PERCENT: u64 = 130;
/// Used when the node cannot estimate (the simulation passed, so this is a node quirk).
pub(crate) const FALLBACK_SEND_GAS: u64 = 300_000;
/// When searching the destination for an old transfer's events: start this long before the send.
pub(crate) const CLOCK_SKEW_MARGIN_SECS: u64 = 600;

// ------------------------------------------------------------------------------------ options

/// `zerobridge send`.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// Source chain (name or chain id).
    #[arg(long)]
    pub from: String,
    /// Destination chain (name or chain id).
    #[arg(long)]
    pub to: String,
    /// Token symbol of the route, or the token's address on either chain.
    #[arg(long)]
    pub token: String,
    /// Decimal amount, read with the token's decimals (e.g. 1.5).
    #[arg(long, allow_hyphen_values = true)]
    pub amount: String,
    /// Who receives on the destination chain (default: the sender).
    #[arg(long)]
    pub recipient: Option<String>,
    /// Seconds to wait for delivery before giving up the display (the transfer goes on).
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Seconds from now after which the destination refunds the transfer instead of executing
    /// it (default: the route's timeout, if it has one).
    #[arg(long, value_name = "SECONDS")]
    pub deadline: Option<u64>,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `zerobridge track`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrackArgs {
    /// Transaction hash of the send on its source chain.
    pub tx: String,
    /// Keep watching until the transfer is delivered (or released, if it is held).
    #[arg(long)]
    pub follow: bool,
    /// With --follow: seconds to wait for delivery before giving up.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `zerobridge balance`.
#[derive(Debug, Clone, clap::Args)]
pub struct BalanceArgs {
    /// Address to show (default: the sending key's address, or the devnet holder).
    #[arg(long)]
    pub address: Option<String>,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// The network file the unit tests of this module read (two chains, one route).
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::network::Network;

    pub(crate) fn network() -> Network {
        let text = r#"
            [[chains]]
            name = "ethereum"
            chainId = 1
            rpc = "http://127.0.0.1:1"
            bridge = "0x1111111111111111111111111111111111111111"
            registry = "0x2222222222222222222222222222222222222222"

            [[chains]]
            name = "bsc"
            chainId = 56
            rpc = "http://127.0.0.1:2"
            bridge = "0x3333333333333333333333333333333333333333"
            registry = "0x4444444444444444444444444444444444444444"

            [[routes]]
            routeId = "0x0000000000000000000000000000000000000000000000000000000000000001"
            symbol = "DEMO"
            decimals = 6
            home = "ethereum"
            remote = "bsc"
            homeToken = "0x5555555555555555555555555555555555555555"
            wrappedToken = "0x6666666666666666666666666666666666666666"
        "#;
        toml::from_str(text).unwrap_or_else(|e| panic!("test network: {e}"))
    }
}
