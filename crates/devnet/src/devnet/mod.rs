//! [`Devnet`]: two anvil chains with zerobridge deployed and the demo route active, the devnet's
//! keys, the agents' configs, and the agents as child processes started, killed and restarted
//! on demand. Owned ([`Mode::Owned`], a test's devnet: everything dies with the value) or
//! detached ([`Mode::Detached`], `zerobridge devnet up`: everything outlives it once released).
//!
//! Split by responsibility: `options` (options and names), `start` (chains, keys, deployment,
//! configs) and `agents` (configs, processes, logs, the manifest).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use alloy::primitives::{Address, B256};
use eyre::{Result, bail, eyre};
use tempfile::TempDir;
use tokio::time::Instant;
use zb_test_utils::Anvil;
use zb_test_utils::process::{Agent, tail};

use crate::configs::{RelayerToml, ValidatorToml};
use crate::process::ProcessRecord;
use crate::{HOME, Layout, REMOTE};
pub use zb_ops::deploy::Liveness;
/// The JSON manifest Deploy.s.sol writes.
pub use zb_ops::deploy::{DeployedRoute as RouteManifest, DeployedSide as SideManifest, Deployment as Manifest};

mod agents;
mod options;
mod start;

pub use options::{AgentId, Chain, Detached, DevnetOptions, Direction, Mode};

/// `[[chains]] name` of the home chain (chain id 1) in the agents' configs.
pub const HOME_NAME: &str = HOME.name;
/// `[[chains]] name` of the remote chain (chain id 56).
pub const REMOTE_NAME: &str = REMOTE.name;
pub const HOME_CHAIN_ID: u64 = HOME.chain_id;
pub const REMOTE_CHAIN_ID: u64 = REMOTE.chain_id;

/// One agent of the devnet: its config (written at each start), its process and its files.
struct AgentSlot<C> {
    /// `validator-N`, `fallback-N`, `relayer`: its config, log and store are named after it.
    name: String,
    address: Address,
    port: u16,
    config_path: PathBuf,
    log: PathBuf,
    data_dir: PathBuf,
    config: Mutex<C>,
    process: Mutex<Option<Agent>>,
    runs: AtomicU64,
}

impl<C> AgentSlot<C> {
    fn url(&self) -> String {
        crate::setup::local_url(self.port)
    }
}

/// Two chains with zerobridge deployed, and the agents as processes. Owned: dropping it kills
/// them all. Detached: [`Devnet::release`] lets them outlive it.
pub struct Devnet {
    options: DevnetOptions,
    manifest: Manifest,
    dir: Option<TempDir>,
    layout: Layout,
    bin: PathBuf,
    home: Anvil,
    remote: Anvil,
    validators: Vec<AgentSlot<ValidatorToml>>,
    relayer: AgentSlot<RelayerToml>,
    holder: Address,
    /// Detached mode: the token the CLI and the API present to the validators.
    client_token_file: Option<PathBuf>,
    http: reqwest::Client,
    failed: AtomicBool,
    /// Detached mode: every process started, as `processes.json` records it.
    records: Mutex<Vec<ProcessRecord>>,
    /// Detached mode: processes other than the chains and the validators and relayer (the
    /// watchtower, the API).
    others: Mutex<Vec<Agent>>,
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

impl Devnet {
    // ---------------------------------------------------------------- accessors

    pub fn options(&self) -> &DevnetOptions {
        &self.options
    }

    /// What Deploy.s.sol deployed.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The devnet's directory (configs, keys, data, logs).
    pub fn dir(&self) -> &Path {
        &self.layout.dir
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The zerobridge binary the agents run.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// An HTTP client with a 10-second timeout.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn detached(&self) -> bool {
        matches!(self.options.mode, Mode::Detached(_))
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

    /// What Deploy.s.sol deployed on `chain`.
    pub fn side(&self, chain: Chain) -> &SideManifest {
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
        self.relayer.address
    }

    /// Primary validators; fallback validators follow them (see [`Devnet::fallback_index`]).
    pub fn validator_count(&self) -> usize {
        self.options.validators
    }

    /// The validator index of fallback validator `j`.
    pub fn fallback_index(&self, j: usize) -> usize {
        self.options.validators + j
    }

    fn slot(&self, i: usize) -> Result<&AgentSlot<ValidatorToml>> {
        self.validators
            .get(i)
            .ok_or_else(|| eyre!("there is no validator {i} (the devnet has {})", self.validators.len()))
    }

    /// Validator `i`'s signing address.
    pub fn validator_address(&self, i: usize) -> Result<Address> {
        Ok(self.slot(i)?.address)
    }

    /// Validator `i`'s API base URL.
    pub fn validator_url(&self, i: usize) -> Result<String> {
        Ok(self.slot(i)?.url())
    }

    /// Validator `i`'s store directory.
    pub fn validator_data_dir(&self, i: usize) -> Result<PathBuf> {
        Ok(self.slot(i)?.data_dir.clone())
    }

    pub fn relayer_url(&self) -> String {
        self.relayer.url()
    }

    /// The relayer's store directory.
    pub fn relayer_data_dir(&self) -> &Path {
        &self.relayer.data_dir
    }

    // ---------------------------------------------------------------- diagnostics

    /// The last `lines` lines of every agent's log.
    pub fn diagnostics(&self, lines: usize) -> String {
        let mut out = String::new();
        let relayer = &self.relayer.log;
        out.push_str(&format!("--- relayer log ({}):\n{}\n", relayer.display(), tail(relayer, lines)));
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
        // Released (detached) processes are gone from the slots already; anything left dies.
        if let Some(mut relayer) = lock(&self.relayer.process).take() {
            relayer.kill();
        }
        for slot in &self.validators {
            if let Some(mut agent) = lock(&slot.process).take() {
                agent.kill();
            }
        }
        for mut agent in lock(&self.others).drain(..).rev() {
            agent.kill();
        }
        let panicking = std::thread::panicking();
        if panicking && !self.detached() {
            eprintln!("zb-devnet: test failed; agents' last log lines:\n{}", self.diagnostics(25));
        }
        let keep = panicking || self.failed.load(Ordering::SeqCst) || std::env::var_os("ZB_E2E_KEEP").is_some();
        if keep && let Some(dir) = self.dir.take() {
            eprintln!("zb-devnet: kept the devnet directory {}", dir.keep().display());
        }
        // The anvils are killed when their fields drop, after the agents.
    }
}
