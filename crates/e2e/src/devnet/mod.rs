//! [`Devnet`]: two anvil chains with zerobridge deployed and a demo route active, validator keys,
//! agent configurations, and the agents as child processes the test starts and kills.
//!
//! Split by responsibility: `types` (options and the harness's value types), `start`
//! (chains, keys, deployment, configs), `agents` (configs, processes, logs), `transfers`
//! (sends), `chain` (balances, events, exactly-once checks) and `validators` (checkpoints,
//! metrics, stores, audit).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use alloy::primitives::{Address, B256, TxHash};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use eyre::{Result, bail, eyre};
use tempfile::TempDir;
use tokio::time::Instant;

use crate::anvil::Anvil;
use crate::config::{RelayerToml, ValidatorToml};
use crate::process::{Agent, tail};
pub use zb_ops::deploy::Liveness;

mod agents;
mod chain;
mod start;
mod transfers;
mod types;
mod validators;

pub use start::{fallback_validator_key, validator_key};
pub use types::{
    AgentId, Chain, CheckpointEvent, DevnetOptions, Direction, Executed, Manifest, RouteManifest, Sent, SentEvent,
    Served, SideManifest, ValidatorAudit,
};

/// `[[chains]] name` of the home chain (chain id 1) in the agents' configs.
pub const HOME_NAME: &str = "ethereum";
/// `[[chains]] name` of the remote chain (chain id 56).
pub const REMOTE_NAME: &str = "bsc";
pub const HOME_CHAIN_ID: u64 = 1;
pub const REMOTE_CHAIN_ID: u64 = 56;
/// Gas limit of the harness's `send` calls: the token bucket refills with time, so an estimate
/// made a moment earlier can come out short.
const SEND_GAS: u64 = 500_000;
/// Upper bound for one transaction of the harness to be mined.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Upper bound for an agent to start serving HTTP.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

alloy::sol! {
    #[sol(rpc)]
    interface IERC20 {
        function balanceOf(address owner) external view returns (uint256);
        function totalSupply() external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
    }
}

struct ValidatorSlot {
    signer: Address,
    port: u16,
    config_path: PathBuf,
    log: PathBuf,
    data_dir: PathBuf,
    config: Mutex<ValidatorToml>,
    process: Mutex<Option<Agent>>,
    runs: AtomicU64,
}

/// Two chains with zerobridge deployed, and the agents as processes. Dropping it kills them all.
pub struct Devnet {
    options: DevnetOptions,
    manifest: Manifest,
    dir: Option<TempDir>,
    root: PathBuf,
    bin: PathBuf,
    home: Anvil,
    remote: Anvil,
    validators: Vec<ValidatorSlot>,
    relayer_port: u16,
    relayer_config_path: PathBuf,
    relayer_log: PathBuf,
    relayer_data_dir: PathBuf,
    relayer_config: Mutex<RelayerToml>,
    relayer: Mutex<Option<Agent>>,
    relayer_runs: AtomicU64,
    holder: Address,
    relayer_address: Address,
    home_wallet: DynProvider,
    remote_wallet: DynProvider,
    send_lock: tokio::sync::Mutex<()>,
    http: reqwest::Client,
    failed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `timeout` (a failure bound,
/// not an expectation). Errors from `check` count as "not yet"; the last one is reported.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
        if Instant::now() >= deadline {
            return Err(match last_error {
                Some(e) => e.wrap_err(format!("timed out after {timeout:?} waiting for {what}")),
                None => eyre!("timed out after {timeout:?} waiting for {what}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_receipt(provider: &DynProvider, hash: TxHash, timeout: Duration) -> Result<TransactionReceipt> {
    wait_until(&format!("the receipt of {hash}"), timeout, || async {
        Ok(provider.get_transaction_receipt(hash).await?)
    })
    .await
}

impl Devnet {
    // ---------------------------------------------------------------- accessors

    pub fn options(&self) -> &DevnetOptions {
        &self.options
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The devnet's temporary directory (configs, keys, data, logs).
    pub fn dir(&self) -> &Path {
        &self.root
    }

    pub fn home(&self) -> &Anvil {
        &self.home
    }

    pub fn remote(&self) -> &Anvil {
        &self.remote
    }

    pub fn chain(&self, chain: Chain) -> &Anvil {
        match chain {
            Chain::Home => &self.home,
            Chain::Remote => &self.remote,
        }
    }

    fn side(&self, chain: Chain) -> &SideManifest {
        match chain {
            Chain::Home => &self.manifest.home,
            Chain::Remote => &self.manifest.remote,
        }
    }

    /// The bridge contract on `chain`.
    pub fn bridge_address(&self, chain: Chain) -> Address {
        self.side(chain).bridge
    }

    pub fn lane(&self, direction: Direction) -> B256 {
        match direction {
            Direction::ToRemote => self.manifest.route.lane_to_remote,
            Direction::ToHome => self.manifest.route.lane_to_home,
        }
    }

    /// The direction of one of the route's lanes.
    pub fn direction(&self, lane: B256) -> Result<Direction> {
        if lane == self.manifest.route.lane_to_remote {
            Ok(Direction::ToRemote)
        } else if lane == self.manifest.route.lane_to_home {
            Ok(Direction::ToHome)
        } else {
            bail!("lane {lane} is not a lane of the devnet's route")
        }
    }

    /// The account that holds the demo token and sends transfers (anvil account 1).
    pub fn holder(&self) -> Address {
        self.holder
    }

    /// The account that pays for deliveries (anvil account 2).
    pub fn relayer_address(&self) -> Address {
        self.relayer_address
    }

    /// Primary validators; fallback validators follow them (see [`Devnet::fallback_index`]).
    pub fn validator_count(&self) -> usize {
        self.options.validators
    }

    /// The validator index of fallback validator `j`.
    pub fn fallback_index(&self, j: usize) -> usize {
        self.options.validators + j
    }

    fn slot(&self, i: usize) -> Result<&ValidatorSlot> {
        self.validators
            .get(i)
            .ok_or_else(|| eyre!("there is no validator {i} (the devnet has {})", self.validators.len()))
    }

    /// Validator `i`'s signing address.
    pub fn validator_address(&self, i: usize) -> Result<Address> {
        Ok(self.slot(i)?.signer)
    }

    /// Validator `i`'s API base URL.
    pub fn validator_url(&self, i: usize) -> Result<String> {
        Ok(format!("http://127.0.0.1:{}", self.slot(i)?.port))
    }

    pub fn relayer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.relayer_port)
    }

    // ---------------------------------------------------------------- diagnostics

    /// The last `lines` lines of every agent's log.
    pub fn diagnostics(&self, lines: usize) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "--- relayer log ({}):\n{}\n",
            self.relayer_log.display(),
            tail(&self.relayer_log, lines)
        ));
        for (i, slot) in self.validators.iter().enumerate() {
            out.push_str(&format!("--- validator {i} log ({}):\n{}\n", slot.log.display(), tail(&slot.log, lines)));
        }
        out
    }

    /// Marks the devnet failed: its directory is kept when dropped.
    pub fn mark_failed(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(mut relayer) = lock(&self.relayer).take() {
            relayer.kill();
        }
        for slot in &self.validators {
            if let Some(mut agent) = lock(&slot.process).take() {
                agent.kill();
            }
        }
        let panicking = std::thread::panicking();
        if panicking {
            eprintln!("zb-e2e: test failed; agents' last log lines:\n{}", self.diagnostics(25));
        }
        let keep = panicking || self.failed.load(Ordering::SeqCst) || std::env::var_os("ZB_E2E_KEEP").is_some();
        if keep && let Some(dir) = self.dir.take() {
            eprintln!("zb-e2e: kept the devnet directory {}", dir.keep().display());
        }
        // The anvils are killed when their fields drop, after the agents.
    }
}
