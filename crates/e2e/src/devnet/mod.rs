//! [`Devnet`]: zb-devnet's devnet (owned mode: chains, keys, deployment, configs, the agents as
//! child processes) with the test helpers on top: the holder's sends, balances, events,
//! exactly-once checks, the validators' view (checkpoints, metrics, stores, audit) and the
//! agents' JSON logs. Everything zb-devnet's [`zb_devnet::devnet::Devnet`] offers is reachable
//! through `Deref`.
//!
//! Split by responsibility: `types` (the helpers' value types), `transfers` (sends), `chain`
//! (balances, events, exactly-once checks) and `validators` (checkpoints, metrics, stores, audit).

use std::ops::Deref;
use std::path::PathBuf;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::TxHash;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, bail};
use serde_json::Value;
use tokio::time::Instant;
use zb_store::RelayerStore;

use crate::dev_keys;
use crate::logs;
use crate::process::tail;

mod chain;
mod transfers;
mod types;
mod validators;

pub use types::{CheckpointEvent, Executed, Sent, SentEvent, Served, ValidatorAudit};
pub use zb_devnet::devnet::{
    AgentId, Chain, Detached, DevnetOptions, Direction, HOME_CHAIN_ID, HOME_NAME, Liveness, Manifest, Mode,
    REMOTE_CHAIN_ID, REMOTE_NAME, RouteManifest, SideManifest, wait_until,
};
pub use zb_devnet::{fallback_validator_key, validator_key};

/// Gas limit of the harness's `send` calls: the token bucket refills with time, so an estimate
/// made a moment earlier can come out short.
const SEND_GAS: u64 = 500_000;
/// Upper bound for one transaction of the harness to be mined.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);

alloy::sol! {
    #[sol(rpc)]
    interface IERC20 {
        function balanceOf(address owner) external view returns (uint256);
        function totalSupply() external view returns (uint256);
    }
}

/// A test's devnet: zb-devnet's [`zb_devnet::devnet::Devnet`] (dropping it kills every process)
/// and the holder's wallets.
pub struct Devnet {
    core: zb_devnet::devnet::Devnet,
    home_wallet: DynProvider,
    remote_wallet: DynProvider,
    send_lock: tokio::sync::Mutex<()>,
}

impl Deref for Devnet {
    type Target = zb_devnet::devnet::Devnet;

    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

fn wallet_provider(url: &str, key: &str) -> Result<DynProvider> {
    let signer: PrivateKeySigner = key.parse().wrap_err("parsing a dev key")?;
    Ok(ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url.parse()?).erased())
}

async fn wait_receipt(provider: &DynProvider, hash: TxHash, timeout: Duration) -> Result<TransactionReceipt> {
    wait_until(&format!("the receipt of {hash}"), timeout, || async {
        Ok(provider.get_transaction_receipt(hash).await?)
    })
    .await
}

impl Devnet {
    /// Starts both chains, imports the validator keys, deploys with Deploy.s.sol, approves the
    /// home bridge for the holder, switches the chains to interval (or manual) mining and writes
    /// the agents' configs. No agent runs yet.
    pub async fn start(options: DevnetOptions) -> Result<Devnet> {
        if matches!(options.mode, Mode::Detached(_)) {
            bail!("a test's devnet is owned by the test: use zb_devnet::up for a detached one");
        }
        let core = zb_devnet::devnet::Devnet::start(options).await?;
        Ok(Devnet {
            home_wallet: wallet_provider(&core.home().http(), dev_keys::HOLDER)?,
            remote_wallet: wallet_provider(&core.remote().http(), dev_keys::HOLDER)?,
            core,
            send_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The relayer's SQLite store (submission queue).
    pub fn relayer_store(&self) -> Result<RelayerStore> {
        Ok(RelayerStore::open(&self.relayer_data_dir().join("relayer.sqlite"))?)
    }

    // ---------------------------------------------------------------- logs

    /// The current end of an agent's log: pass it to [`Devnet::wait_for_log`] to see only what
    /// comes after now.
    pub fn log_offset(&self, agent: AgentId) -> Result<u64> {
        Ok(logs::log_len(&self.log_path(agent)?))
    }

    /// Every line of an agent's log, all runs (JSON; see [`crate::logs`]).
    pub fn log_lines(&self, agent: AgentId) -> Result<Vec<Value>> {
        Ok(logs::read_lines_from(&self.log_path(agent)?, 0)?.0)
    }

    /// Waits for a log line after byte `from` that satisfies `matches`; returns it and the offset
    /// just after it.
    pub async fn wait_for_log(
        &self,
        agent: AgentId,
        from: u64,
        timeout: Duration,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<(Value, u64)> {
        let path: PathBuf = self.log_path(agent)?;
        let mut offset = from;
        let deadline = Instant::now() + timeout;
        loop {
            for (line, end) in logs::read_lines_with_offsets(&path, offset)? {
                offset = end;
                if matches(&line) {
                    return Ok((line, end));
                }
            }
            if Instant::now() >= deadline {
                self.mark_failed();
                bail!("no matching line in {} within {timeout:?}; its end:\n{}", path.display(), tail(&path, 20));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
