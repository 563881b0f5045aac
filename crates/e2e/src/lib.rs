//! End-to-end tests of zerobridge and their helpers: the devnet itself (two real anvil chains,
//! the real contracts deployed by `contracts/script/Deploy.s.sol`, the real agents as separate
//! processes) is zb-devnet's, in owned mode; this crate adds what tests check with it.
//!
//! ```no_run
//! # async fn demo() -> eyre::Result<()> {
//! use alloy::primitives::{Address, U256};
//! use zb_e2e::{Devnet, DevnetOptions};
//!
//! let devnet = Devnet::start(DevnetOptions::default()).await?; // 4 validators, threshold 3
//! devnet.start_validators(&[0, 1, 2, 3]).await?;
//! devnet.start_relayer().await?;
//! let sent = devnet.send_to_remote(U256::from(10u64).pow(U256::from(18u64)), Address::repeat_byte(0x42)).await?;
//! devnet.wait_delivered(sent.lane, sent.sequence, std::time::Duration::from_secs(60)).await?;
//! # Ok(()) }
//! ```
//!
//! Every test gets its own temporary directory, its own free ports and its own chains, so tests
//! can run in parallel. Every child process is killed (SIGKILL) when the [`Devnet`] is dropped,
//! also while a test panics; on a panic the agents' last log lines are printed and the directory
//! is kept (set `ZB_E2E_KEEP=1` to keep it always).
//!
//! Binaries: anvil and forge from `node_modules/@foundry-rs` (`scripts/install.sh`), and the
//! `zerobridge` binary next to the test executable's directory (`cargo build --bin zerobridge`),
//! or wherever `ZB_E2E_ZEROBRIDGE` points.

/// The agents' config files as the devnet writes them (zb-devnet's).
pub mod cli;
pub mod config {
    pub use zb_devnet::configs::*;
}
pub mod devnet;
pub mod forge;
pub mod logs;
pub mod watchtower;

pub use config::{RelayerKeyToml, RelayerLaneToml, RelayerToml, ValidatorLaneToml, ValidatorToml};
pub use devnet::{
    AgentId, Chain, CheckpointEvent, Devnet, DevnetOptions, Direction, Executed, Manifest, RouteManifest, Sent,
    SentEvent, Served, SideManifest, ValidatorAudit,
};
pub use zb_test_utils::{Anvil, Rewrite, RpcProxy, anvil, paths, process, proxy};

/// Anvil's well-known development mnemonic ("test test ... junk"): accounts 0, 1 and 2.
pub use zb_ops::deploy::dev_keys;

/// The keystore password of the devnet's validator keys.
pub use zb_devnet::KEYSTORE_PASSWORD;

/// The route's fee as Deploy.s.sol sets it, in basis points.
pub const FEE_BPS: u64 = 10;

/// What arrives for `amount` sent: `amount - floor(amount * FEE_BPS / 10_000)`.
pub fn net_amount(amount: alloy::primitives::U256) -> alloy::primitives::U256 {
    let fee = amount * alloy::primitives::U256::from(FEE_BPS) / alloy::primitives::U256::from(10_000u64);
    amount - fee
}

/// `n` whole tokens of 18 decimals.
pub fn tokens(n: u64) -> alloy::primitives::U256 {
    alloy::primitives::U256::from(n) * alloy::primitives::U256::from(10u64).pow(alloy::primitives::U256::from(18u64))
}
