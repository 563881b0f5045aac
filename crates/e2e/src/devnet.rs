//! [`Devnet`]: two anvil chains with zerobridge deployed and a demo route active, validator keys,
//! agent configurations, and the agents as child processes the test starts and kills.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, FixedBytes, Signature, TxHash, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log, TransactionReceipt};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Result, WrapErr, bail, eyre};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::time::Instant;
use zb_api_types::validator::{CheckpointResponse, InfoResponse};
use zb_chain::{ChainConfig, Finality};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::{Accumulator, Checkpoint, Message, checkpoint_digest};
use zb_store::{SignedCheckpoint, SigningHistory, Store};

use crate::anvil::Anvil;
use crate::config::{RelayerKeyToml, RelayerLaneToml, RelayerToml, ValidatorLaneToml, ValidatorToml};
use crate::logs;
use crate::paths::{contracts_dir, forge_bin, free_port, zerobridge_bin};
use crate::process::{Agent, mark, tail};
use crate::{KEYSTORE_PASSWORD, dev_keys};
pub use zb_ops::deploy::Liveness;

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
    /// The home chain mines only on demand ([`Anvil::mine`]); `send` on it mines one block.
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

/// What [`Devnet::audit_validator`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidatorAudit {
    /// Slashing-protection records, each equal to the source's accumulator.
    pub recorded: usize,
    /// Stored signatures, each over a recorded accumulator and valid.
    pub signed: usize,
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

fn wallet_provider(url: &str, key: &str) -> Result<(DynProvider, Address)> {
    let signer: PrivateKeySigner = key.parse().wrap_err("parsing a dev key")?;
    let address = signer.address();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url.parse()?).erased();
    Ok((provider, address))
}

/// The deterministic private key of validator `i`.
pub fn validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.e2e.validator.{i}"))
}

/// The deterministic private key of fallback validator `i`.
pub fn fallback_validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.e2e.fallback.{i}"))
}

async fn import_key(bin: &Path, dir: &Path, key: B256) -> Result<(Address, PathBuf)> {
    let output = tokio::process::Command::new(bin)
        .args(["keys", "import", "--dir"])
        .arg(dir)
        .env("ZB_PRIVATE_KEY", format!("{key}"))
        .env("ZB_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .wrap_err_with(|| format!("running {} keys import", bin.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "zerobridge keys import failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut words = stdout.split_whitespace();
    let (Some(address), Some(path)) = (words.next(), words.next()) else {
        bail!("zerobridge keys import printed {stdout:?}, expected \"<address> <path>\"");
    };
    let address: Address = address.parse().wrap_err_with(|| format!("keys import printed {stdout:?}"))?;
    let expected = PrivateKeySigner::from_bytes(&key)?.address();
    if address != expected {
        bail!("keys import says the key is {address}, but it is {expected}");
    }
    Ok((address, PathBuf::from(path)))
}

/// Deploys with the shared Deploy.s.sol runner; forge's log goes next to the devnet's files.
async fn deploy(
    home: &Anvil,
    remote: &Anvil,
    options: &DevnetOptions,
    holder: Address,
    root: &Path,
) -> Result<Manifest> {
    let validator_keys: Vec<B256> = (0..options.validators).map(validator_key).collect();
    let fallback_keys: Vec<B256> = (0..options.fallback_validators).map(fallback_validator_key).collect();
    let forge = forge_bin()?;
    let manifest = zb_ops::deploy::deploy(&zb_ops::deploy::DeployRequest {
        contracts: &contracts_dir(),
        forge: &forge,
        home_rpc: &home.http(),
        remote_rpc: &remote.http(),
        validator_keys: &validator_keys,
        threshold: options.threshold,
        fallback_keys: &fallback_keys,
        liveness: options.liveness,
        // Harmless when no watchtower runs: the key only gets GUARDIAN.
        watchtower: Some(dev_keys::WATCHTOWER.parse::<PrivateKeySigner>()?.address()),
        holders: &[holder],
        broadcast_dir: &root.join("broadcast"),
        log: &root.join("deploy.log"),
    })
    .await?;
    if manifest.home.chain_id != home.chain_id() || manifest.remote.chain_id != remote.chain_id() {
        bail!("the manifest names chains {} and {}", manifest.home.chain_id, manifest.remote.chain_id);
    }
    Ok(manifest)
}

fn chain_config(anvil: &Anvil, side: &SideManifest, name: &str, options: &DevnetOptions) -> ChainConfig {
    ChainConfig {
        name: name.to_string(),
        chain_id: side.chain_id,
        rpc: vec![anvil.http()],
        ws: options.websocket.then(|| anvil.ws()),
        bridge: side.bridge,
        finality: Finality::Depth(options.finality_depth),
        rpc_quorum: 1,
        poll_interval_ms: options.poll_interval_ms,
        start_block: side.start_block,
        stake_manager: None,
    }
}

fn agent_log_filter() -> String {
    std::env::var("ZB_E2E_AGENT_LOG").unwrap_or_else(|_| "info".to_string())
}

impl Devnet {
    /// Starts both chains, imports the validator keys (`zerobridge keys import`), deploys with
    /// Deploy.s.sol, approves the home bridge for the holder, switches the chains to interval
    /// (or manual) mining and writes the agents' configs. No agent runs yet.
    pub async fn start(options: DevnetOptions) -> Result<Devnet> {
        if options.validators == 0 || options.validators > 128 {
            bail!("validators must be 1..=128, not {}", options.validators);
        }
        if options.block_time == 0 {
            bail!("block_time must be at least 1 second (use manual_mining_home for on-demand blocks)");
        }
        let bin = zerobridge_bin()?;
        let dir = tempfile::Builder::new().prefix("zb-e2e-").tempdir().wrap_err("creating a temporary directory")?;
        let root = dir.path().to_path_buf();
        for sub in ["logs", "data", "keys"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        let (home_log, remote_log) = (root.join("logs/anvil-home.log"), root.join("logs/anvil-remote.log"));
        let (home, remote) =
            tokio::try_join!(Anvil::start(HOME_CHAIN_ID, &home_log), Anvil::start(REMOTE_CHAIN_ID, &remote_log))?;

        let keys_dir = root.join("keys");
        let imports = (0..options.validators)
            .map(validator_key)
            .chain((0..options.fallback_validators).map(fallback_validator_key))
            .map(|key| import_key(&bin, &keys_dir, key));
        let keys: Vec<(Address, PathBuf)> = futures_join_all(imports).await?;

        let (home_wallet, holder) = wallet_provider(&home.http(), dev_keys::HOLDER)?;
        let (remote_wallet, _) = wallet_provider(&remote.http(), dev_keys::HOLDER)?;
        let relayer_address: Address = dev_keys::RELAYER.parse::<PrivateKeySigner>()?.address();
        // The validators' signing keys are dev keys: Deploy.s.sol signs each operator's proof of
        // possession with them.
        let manifest = deploy(&home, &remote, &options, holder, &root).await?;

        // Still automining: the approval is mined at once.
        let token = IERC20::new(manifest.route.home_token, home_wallet.clone());
        let pending = token.approve(manifest.home.bridge, U256::MAX).send().await.wrap_err("approve")?;
        let receipt = wait_receipt(&home_wallet, *pending.tx_hash(), RECEIPT_TIMEOUT).await?;
        if !receipt.status() {
            bail!("the holder's approval of the home bridge reverted");
        }
        if options.manual_mining_home {
            home.set_automine(false).await?;
        } else {
            home.set_interval_mining(options.block_time).await?;
        }
        remote.set_interval_mining(options.block_time).await?;

        let home_chain = chain_config(&home, &manifest.home, HOME_NAME, &options);
        let remote_chain = chain_config(&remote, &manifest.remote, REMOTE_NAME, &options);
        let staked = |chain: &ChainConfig, side: &SideManifest| ChainConfig {
            stake_manager: options.lanes_from_stake.then_some(side.stake_manager),
            ..chain.clone()
        };
        let validator_chains = vec![staked(&home_chain, &manifest.home), staked(&remote_chain, &manifest.remote)];
        let mut validators = Vec::with_capacity(keys.len());
        for (i, (signer, keystore)) in keys.into_iter().enumerate() {
            let port = free_port()?;
            let data_dir = root.join(format!("data/validator-{i}"));
            let fallback = i >= options.validators;
            let config = ValidatorToml {
                keystore,
                data_dir: data_dir.clone(),
                listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                public_url: Some(format!("http://127.0.0.1:{port}")),
                role: fallback.then_some("fallback"),
                fallback_delay_secs: fallback.then_some(options.liveness.fallback_delay),
                // A fallback validator watches its [[lanes]], not its operator's opt-ins.
                chains: if fallback {
                    vec![home_chain.clone(), remote_chain.clone()]
                } else {
                    validator_chains.clone()
                },
                lanes: if options.lanes_from_stake && !fallback {
                    Vec::new()
                } else {
                    vec![
                        ValidatorLaneToml { lane: manifest.route.lane_to_remote, source: HOME_NAME.into() },
                        ValidatorLaneToml { lane: manifest.route.lane_to_home, source: REMOTE_NAME.into() },
                    ]
                },
                stake_refresh_secs: options.stake_refresh_secs,
            };
            validators.push(ValidatorSlot {
                signer,
                port,
                config_path: root.join(format!("validator-{i}.toml")),
                log: root.join(format!("logs/validator-{i}.log")),
                data_dir,
                config: Mutex::new(config),
                process: Mutex::new(None),
                runs: AtomicU64::new(0),
            });
        }
        let relayer_port = free_port()?;
        let relayer_data_dir = root.join("data/relayer");
        let relayer_config = RelayerToml {
            data_dir: relayer_data_dir.clone(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, relayer_port)),
            max_batch_gas: None,
            max_batch_messages: options.max_batch_messages,
            confirmation_timeout_secs: options.confirmation_timeout_secs,
            validators: validators[..options.validators]
                .iter()
                .map(|v| format!("http://127.0.0.1:{}", v.port))
                .collect(),
            fallback_validators: validators[options.validators..]
                .iter()
                .map(|v| format!("http://127.0.0.1:{}", v.port))
                .collect(),
            key: RelayerKeyToml { private_key_env: "ZB_RELAYER_KEY".into() },
            chains: vec![home_chain, remote_chain],
            lanes: vec![
                RelayerLaneToml {
                    lane: manifest.route.lane_to_remote,
                    source: HOME_NAME.into(),
                    destination: REMOTE_NAME.into(),
                },
                RelayerLaneToml {
                    lane: manifest.route.lane_to_home,
                    source: REMOTE_NAME.into(),
                    destination: HOME_NAME.into(),
                },
            ],
        };
        Ok(Devnet {
            options,
            manifest,
            dir: Some(dir),
            root: root.clone(),
            bin,
            home,
            remote,
            validators,
            relayer_port,
            relayer_config_path: root.join("relayer.toml"),
            relayer_log: root.join("logs/relayer.log"),
            relayer_data_dir,
            relayer_config: Mutex::new(relayer_config),
            relayer: Mutex::new(None),
            relayer_runs: AtomicU64::new(0),
            holder,
            relayer_address,
            home_wallet,
            remote_wallet,
            send_lock: tokio::sync::Mutex::new(()),
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
            failed: AtomicBool::new(false),
        })
    }

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

    // ---------------------------------------------------------------- configs

    /// Changes validator `i`'s config; takes effect at its next start.
    pub fn configure_validator(&self, i: usize, change: impl FnOnce(&mut ValidatorToml)) -> Result<()> {
        change(&mut lock(&self.slot(i)?.config));
        Ok(())
    }

    /// Validator `i`'s config as it will be written at its next start.
    pub fn validator_config(&self, i: usize) -> Result<ValidatorToml> {
        Ok(lock(&self.slot(i)?.config).clone())
    }

    /// Changes the relayer's config; takes effect at its next start.
    pub fn configure_relayer(&self, change: impl FnOnce(&mut RelayerToml)) {
        change(&mut lock(&self.relayer_config));
    }

    // ---------------------------------------------------------------- processes

    fn agent_command(&self, args: &[&str], config: &Path) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .arg("--config")
            .arg(config)
            .env("ZB_LOG_FORMAT", "json")
            .env("RUST_LOG", agent_log_filter())
            .env("NO_COLOR", "1")
            .env_remove("ZB_VALIDATOR_CONFIG")
            .env_remove("ZB_RELAYER_CONFIG");
        command
    }

    fn spawn_validator(&self, i: usize) -> Result<()> {
        let slot = self.slot(i)?;
        let mut process = lock(&slot.process);
        if let Some(agent) = process.as_mut()
            && agent.exited().is_none()
        {
            bail!("validator {i} is already running (pid {})", agent.pid());
        }
        lock(&slot.config).write(&slot.config_path)?;
        let run = slot.runs.fetch_add(1, Ordering::SeqCst) + 1;
        mark(&slot.log, &json!({"harness": "start", "agent": format!("validator-{i}"), "run": run}).to_string())?;
        let mut command = self.agent_command(&["validator", "run"], &slot.config_path);
        command.env("ZB_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD);
        *process = Some(Agent::spawn(format!("validator {i}"), command, &slot.log)?);
        Ok(())
    }

    async fn wait_serving(&self, what: &str, url: String, process: &Mutex<Option<Agent>>, log: &Path) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.http.get(&url).send().await.is_ok() {
                return Ok(());
            }
            {
                let mut guard = lock(process);
                let Some(agent) = guard.as_mut() else { bail!("{what} is not running") };
                if let Some(status) = agent.exited() {
                    self.failed.store(true, Ordering::SeqCst);
                    bail!("{what} exited ({status}) before serving {url}; its log:\n{}", tail(log, 30));
                }
            }
            if Instant::now() >= deadline {
                self.failed.store(true, Ordering::SeqCst);
                bail!("{what} did not serve {url} within {READY_TIMEOUT:?}; its log:\n{}", tail(log, 30));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts validator `i` (`zerobridge validator run`) and waits until its API answers.
    pub async fn start_validator(&self, i: usize) -> Result<()> {
        self.start_validators(&[i]).await
    }

    /// Starts the given validators together, then waits until each API answers.
    pub async fn start_validators(&self, which: &[usize]) -> Result<()> {
        for &i in which {
            self.spawn_validator(i)?;
        }
        for &i in which {
            let slot = self.slot(i)?;
            let url = format!("{}/v1/health", self.validator_url(i)?);
            self.wait_serving(&format!("validator {i}"), url, &slot.process, &slot.log).await?;
        }
        Ok(())
    }

    /// Starts every primary validator.
    pub async fn start_all_validators(&self) -> Result<()> {
        let all: Vec<usize> = (0..self.options.validators).collect();
        self.start_validators(&all).await
    }

    /// Starts every fallback validator.
    pub async fn start_fallback_validators(&self) -> Result<()> {
        let all: Vec<usize> = (self.options.validators..self.validators.len()).collect();
        self.start_validators(&all).await
    }

    /// SIGKILLs validator `i` (as `kill -9` does) and reaps it.
    pub fn kill_validator(&self, i: usize) -> Result<()> {
        let slot = self.slot(i)?;
        let Some(mut agent) = lock(&slot.process).take() else { bail!("validator {i} is not running") };
        agent.kill();
        mark(&slot.log, &json!({"harness": "killed", "agent": format!("validator-{i}")}).to_string())
    }

    /// Whether validator `i`'s process is alive.
    pub fn validator_running(&self, i: usize) -> Result<bool> {
        let slot = self.slot(i)?;
        let mut guard = lock(&slot.process);
        Ok(guard.as_mut().is_some_and(|a| a.exited().is_none()))
    }

    /// Starts the relayer (`zerobridge relayer run`, paying with anvil account 2) and waits until
    /// its health endpoint answers.
    pub async fn start_relayer(&self) -> Result<()> {
        {
            let mut process = lock(&self.relayer);
            if let Some(agent) = process.as_mut()
                && agent.exited().is_none()
            {
                bail!("the relayer is already running (pid {})", agent.pid());
            }
            lock(&self.relayer_config).write(&self.relayer_config_path)?;
            let run = self.relayer_runs.fetch_add(1, Ordering::SeqCst) + 1;
            mark(&self.relayer_log, &json!({"harness": "start", "agent": "relayer", "run": run}).to_string())?;
            let mut command = self.agent_command(&["relayer", "run"], &self.relayer_config_path);
            command.env("ZB_RELAYER_KEY", dev_keys::RELAYER);
            *process = Some(Agent::spawn("relayer", command, &self.relayer_log)?);
        }
        let url = format!("{}/v1/health", self.relayer_url());
        self.wait_serving("the relayer", url, &self.relayer, &self.relayer_log).await
    }

    /// SIGKILLs the relayer and reaps it.
    pub fn kill_relayer(&self) -> Result<()> {
        let Some(mut agent) = lock(&self.relayer).take() else { bail!("the relayer is not running") };
        agent.kill();
        mark(&self.relayer_log, &json!({"harness": "killed", "agent": "relayer"}).to_string())
    }

    /// Writes `<dir>/devnet/manifest.json` shaped as `zerobridge devnet up` writes it, so the CLI's
    /// commands can run against this devnet (from `dir`, or with ZB_DEVNET_DIR).
    pub fn write_cli_manifest(&self, dir: &Path) -> Result<PathBuf> {
        let devnet = self;
        let m = devnet.manifest();
        let chain = |anvil: &Anvil, side: &SideManifest, name: &str| {
            json!({
                "name": name, "chainId": side.chain_id, "rpc": anvil.http(), "bridge": side.bridge,
                "registry": side.registry, "finalityDepth": devnet.options().finality_depth, "ws": anvil.ws(),
                "manager": side.manager, "startBlock": side.start_block, "pid": anvil.pid(),
                "stakeManager": side.stake_manager,
            })
        };
        let account = |role: &str, key: &str| -> Result<serde_json::Value> {
            let signer: PrivateKeySigner = key.parse()?;
            Ok(json!({"role": role, "address": signer.address(), "privateKey": key}))
        };
        // The staked devnet's operators (`zerobridge stake --operator N`, `route register` opt-ins).
        let mut accounts = vec![account("deployer", dev_keys::DEPLOYER)?, account("holder", dev_keys::HOLDER)?];
        for (i, key) in m.operator_keys.iter().enumerate() {
            accounts.push(account(&format!("operator-{i}"), &B256::from(*key).to_string())?);
        }
        let agent = |i: usize, name: String| -> Result<serde_json::Value> {
            Ok(json!({
                "name": name, "url": devnet.validator_url(i)?,
                "address": devnet.validator_address(i)?, "pid": 0,
                "config": devnet.dir().join(format!("validator-{i}.toml")),
                "log": devnet.dir().join(format!("logs/validator-{i}.log")),
            }))
        };
        let validators =
            (0..devnet.validator_count()).map(|i| agent(i, format!("validator-{i}"))).collect::<Result<Vec<_>>>()?;
        let fallback_validators = (0..devnet.options().fallback_validators)
            .map(|j| agent(devnet.fallback_index(j), format!("fallback-{j}")))
            .collect::<Result<Vec<_>>>()?;
        let manifest = json!({
            "chains": [chain(devnet.home(), &m.home, "ethereum"), chain(devnet.remote(), &m.remote, "bsc")],
            "routes": [{
                "routeId": m.route.route_id, "symbol": "DEMO", "decimals": 18, "home": "ethereum", "remote": "bsc",
                "homeToken": m.route.home_token, "wrappedToken": m.route.wrapped_token,
            }],
            "lanes": [
                {"lane": m.route.lane_to_remote, "routeId": m.route.route_id, "source": "ethereum", "destination": "bsc"},
                {"lane": m.route.lane_to_home, "routeId": m.route.route_id, "source": "bsc", "destination": "ethereum"},
            ],
            "accounts": accounts,
            "validators": validators,
            "fallbackValidators": fallback_validators,
            "relayer": {
                "name": "relayer", "url": devnet.relayer_url(), "address": devnet.relayer_address(), "pid": 0,
                "config": devnet.dir().join("relayer.toml"), "log": devnet.dir().join("logs/relayer.log"),
            },
            "threshold": devnet.options().threshold,
        });
        std::fs::create_dir_all(dir.join("devnet"))?;
        let path = dir.join("devnet/manifest.json");
        std::fs::write(&path, serde_json::to_string_pretty(&manifest)?)?;
        Ok(path)
    }

    /// The process id of a running agent (for resource measurements).
    pub fn agent_pid(&self, agent: AgentId) -> Option<u32> {
        match agent {
            AgentId::Validator(i) => self.slot(i).ok().and_then(|s| lock(&s.process).as_ref().map(Agent::pid)),
            AgentId::Relayer => lock(&self.relayer).as_ref().map(Agent::pid),
        }
    }

    /// The relayer's /v1/health answer.
    pub async fn relayer_health(&self) -> Result<Value> {
        Ok(self.http.get(format!("{}/v1/health", self.relayer_url())).send().await?.json().await?)
    }

    /// The relayer's SQLite store (submission queue).
    pub fn relayer_store(&self) -> Result<Store> {
        Ok(Store::open(&self.relayer_data_dir.join("relayer.sqlite"))?)
    }

    // ---------------------------------------------------------------- logs

    pub fn log_path(&self, agent: AgentId) -> Result<PathBuf> {
        Ok(match agent {
            AgentId::Validator(i) => self.slot(i)?.log.clone(),
            AgentId::Relayer => self.relayer_log.clone(),
        })
    }

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
        let path = self.log_path(agent)?;
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
                self.failed.store(true, Ordering::SeqCst);
                bail!("no matching line in {} within {timeout:?}; its end:\n{}", path.display(), tail(&path, 20));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // ---------------------------------------------------------------- sending

    fn wallet(&self, chain: Chain) -> &DynProvider {
        match chain {
            Chain::Home => &self.home_wallet,
            Chain::Remote => &self.remote_wallet,
        }
    }

    fn manual(&self, chain: Chain) -> bool {
        chain == Chain::Home && self.options.manual_mining_home
    }

    /// Sends `send(lane, recipient, amount)` from the holder without waiting for it to be mined.
    pub async fn submit_send(&self, direction: Direction, amount: U256, recipient: Address) -> Result<TxHash> {
        self.submit_send_until(direction, amount, recipient, 0).await
    }

    /// Like [`Devnet::submit_send`] with a deadline (unix seconds; 0: the route's default).
    pub async fn submit_send_until(
        &self,
        direction: Direction,
        amount: U256,
        recipient: Address,
        deadline: u64,
    ) -> Result<TxHash> {
        let source = direction.source();
        let provider = self.wallet(source).clone();
        let bridge = ZeroBridge::new(self.bridge_address(source), provider.clone());
        let _serial = self.send_lock.lock().await;
        // Explicit nonces: a cached nonce would be wrong after a reorg.
        let nonce = provider.get_transaction_count(self.holder).pending().await?;
        let pending = bridge
            .send(self.lane(direction), recipient, amount, deadline)
            .nonce(nonce)
            .gas(SEND_GAS)
            .send()
            .await
            .map_err(|e| {
                let reason = e
                    .as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>()
                    .map_or_else(|| e.to_string(), |d| format!("{d:?}"));
                eyre!("send({direction:?}, {recipient}, {amount}) was refused: {reason}")
            })?;
        Ok(*pending.tx_hash())
    }

    /// Waits for a submitted send to be mined and reads its `MessageSent`.
    pub async fn confirm_send(&self, direction: Direction, tx_hash: TxHash, amount: U256) -> Result<Sent> {
        let source = direction.source();
        let receipt = wait_receipt(self.wallet(source), tx_hash, RECEIPT_TIMEOUT).await?;
        if !receipt.status() {
            bail!("send {tx_hash} ({direction:?}, amount {amount}) reverted");
        }
        let bridge = self.bridge_address(source);
        let event = receipt
            .logs()
            .iter()
            .filter(|l| l.inner.address == bridge)
            .find_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
            .ok_or_else(|| eyre!("send {tx_hash} emitted no MessageSent"))?;
        Ok(Sent {
            direction,
            lane: event.data.lane,
            sequence: event.data.sequence,
            amount,
            net: event.data.message.amount,
            message: event.data.message.clone(),
            accumulator: event.data.accumulator,
            tx_hash,
            block_number: receipt.block_number.ok_or_else(|| eyre!("receipt without block number"))?,
            block_hash: receipt.block_hash.ok_or_else(|| eyre!("receipt without block hash"))?,
        })
    }

    /// The holder sends `amount` over `direction` to `recipient` and waits until it is mined
    /// (on a manually mined chain, one block is mined for it).
    pub async fn send(&self, direction: Direction, amount: U256, recipient: Address) -> Result<Sent> {
        self.send_until(direction, amount, recipient, 0).await
    }

    /// The holder sends with a deadline (unix seconds) and waits until it is mined.
    pub async fn send_until(
        &self,
        direction: Direction,
        amount: U256,
        recipient: Address,
        deadline: u64,
    ) -> Result<Sent> {
        let tx = self.submit_send_until(direction, amount, recipient, deadline).await?;
        if self.manual(direction.source()) {
            self.chain(direction.source()).mine(1).await?;
        }
        self.confirm_send(direction, tx, amount).await
    }

    /// Moves both chains' clocks forward by `seconds`.
    pub async fn warp(&self, seconds: u64) -> Result<()> {
        self.home.increase_time(seconds).await?;
        self.remote.increase_time(seconds).await
    }

    /// Locks `amount` on the home chain for `recipient` on the remote chain.
    pub async fn send_to_remote(&self, amount: U256, recipient: Address) -> Result<Sent> {
        self.send(Direction::ToRemote, amount, recipient).await
    }

    /// Burns `amount` of wrapped tokens on the remote chain for `recipient` on the home chain.
    pub async fn send_to_home(&self, amount: U256, recipient: Address) -> Result<Sent> {
        self.send(Direction::ToHome, amount, recipient).await
    }

    /// Submits every send first, then waits for all of them (they share blocks).
    pub async fn send_many(&self, direction: Direction, amounts: &[U256], recipient: Address) -> Result<Vec<Sent>> {
        let mut hashes = Vec::with_capacity(amounts.len());
        for amount in amounts {
            hashes.push((self.submit_send(direction, *amount, recipient).await?, *amount));
        }
        if self.manual(direction.source()) {
            self.chain(direction.source()).mine(1).await?;
        }
        let mut sent = Vec::with_capacity(hashes.len());
        for (hash, amount) in hashes {
            sent.push(self.confirm_send(direction, hash, amount).await?);
        }
        Ok(sent)
    }

    // ---------------------------------------------------------------- chain state

    /// The bridge on `chain`, for reading.
    pub fn bridge(&self, chain: Chain) -> ZeroBridge::ZeroBridgeInstance<DynProvider> {
        ZeroBridge::new(self.bridge_address(chain), self.chain(chain).reader())
    }

    /// The demo token balance of `who` on the home chain.
    pub async fn home_balance(&self, who: Address) -> Result<U256> {
        Ok(IERC20::new(self.manifest.route.home_token, self.home.reader()).balanceOf(who).call().await?)
    }

    /// The wrapped token balance of `who` on the remote chain.
    pub async fn wrapped_balance(&self, who: Address) -> Result<U256> {
        Ok(IERC20::new(self.manifest.route.wrapped_token, self.remote.reader()).balanceOf(who).call().await?)
    }

    pub async fn wrapped_supply(&self) -> Result<U256> {
        Ok(IERC20::new(self.manifest.route.wrapped_token, self.remote.reader()).totalSupply().call().await?)
    }

    /// The route's vault on the home chain (`locked` of the home outbound lane).
    pub async fn vault_locked(&self) -> Result<U256> {
        Ok(self.bridge(Chain::Home).getLane(self.manifest.route.lane_to_remote).call().await?.locked)
    }

    /// The last sequence sent on `lane` (its source bridge).
    pub async fn sent_sequence(&self, lane: B256) -> Result<u64> {
        let source = self.direction(lane)?.source();
        Ok(self.bridge(source).getLane(lane).call().await?.sequence)
    }

    /// The last sequence delivered on `lane` (its destination bridge).
    pub async fn delivered_sequence(&self, lane: B256) -> Result<u64> {
        let destination = self.direction(lane)?.destination();
        Ok(self.bridge(destination).getLane(lane).call().await?.sequence)
    }

    /// Waits until `lane`'s destination has delivered up to `sequence`. `timeout` is a failure
    /// bound; the error carries the relayer's and validators' recent logs.
    pub async fn wait_delivered(&self, lane: B256, sequence: u64, timeout: Duration) -> Result<()> {
        let waited = wait_until(&format!("delivery of lane {lane} up to sequence {sequence}"), timeout, || async {
            Ok((self.delivered_sequence(lane).await? >= sequence).then_some(()))
        })
        .await;
        match waited {
            Ok(()) => Ok(()),
            Err(e) => {
                self.failed.store(true, Ordering::SeqCst);
                let health = self.relayer_health().await.map_or_else(|e| e.to_string(), |v| v.to_string());
                Err(e.wrap_err(format!("relayer health: {health}\n{}", self.diagnostics(12))))
            }
        }
    }

    async fn events<E: SolEvent>(&self, chain: Chain, lane: B256) -> Result<Vec<(Log, E)>> {
        let filter = Filter::new()
            .address(self.bridge_address(chain))
            .event_signature(E::SIGNATURE_HASH)
            .topic1(lane)
            .from_block(self.side(chain).start_block);
        let logs = self.chain(chain).reader().get_logs(&filter).await?;
        let mut out = Vec::with_capacity(logs.len());
        for log in logs {
            let event = E::decode_log(&log.inner).wrap_err("decoding a bridge event")?.data;
            out.push((log, event));
        }
        out.sort_by_key(|(l, _)| (l.block_number, l.log_index));
        Ok(out)
    }

    /// The `MessageSent` events of `lane` on its source chain (canonical chain only).
    pub async fn sent_events(&self, lane: B256) -> Result<Vec<SentEvent>> {
        let source = self.direction(lane)?.source();
        let mut out = Vec::new();
        for (log, event) in self.events::<ZeroBridge::MessageSent>(source, lane).await? {
            out.push(SentEvent {
                sequence: event.sequence,
                message: event.message,
                accumulator: event.accumulator,
                block_number: log.block_number.ok_or_else(|| eyre!("log without block number"))?,
                block_hash: log.block_hash.ok_or_else(|| eyre!("log without block hash"))?,
                tx_hash: log.transaction_hash.ok_or_else(|| eyre!("log without transaction hash"))?,
            });
        }
        Ok(out)
    }

    /// `accumulators[s - 1]` is the accumulator the source bridge recorded after message `s`;
    /// each one is checked against an independent recomputation.
    pub async fn source_accumulators(&self, lane: B256) -> Result<Vec<B256>> {
        let mut accumulator = Accumulator::new(lane);
        let mut out = Vec::new();
        for event in self.sent_events(lane).await? {
            let computed = accumulator.push(&event.message).map_err(|e| eyre!("source events of lane {lane}: {e}"))?;
            if computed != event.accumulator {
                bail!(
                    "lane {lane} sequence {}: the source emitted accumulator {}, recomputed {computed}",
                    event.sequence,
                    event.accumulator
                );
            }
            out.push(computed);
        }
        Ok(out)
    }

    /// The `MessageExecuted` events of `lane` on its destination.
    pub async fn executed(&self, lane: B256) -> Result<Vec<Executed>> {
        let destination = self.direction(lane)?.destination();
        let mut out = Vec::new();
        for (log, event) in self.events::<ZeroBridge::MessageExecuted>(destination, lane).await? {
            out.push(Executed {
                sequence: event.sequence,
                recipient: event.recipient,
                amount: event.amount,
                block_number: log.block_number.unwrap_or_default(),
                tx_hash: log.transaction_hash.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The `MessageFailed` events of `lane` on its destination: (sequence, reason selector).
    pub async fn failed_messages(&self, lane: B256) -> Result<Vec<(u64, FixedBytes<4>)>> {
        let destination = self.direction(lane)?.destination();
        Ok(self
            .events::<ZeroBridge::MessageFailed>(destination, lane)
            .await?
            .into_iter()
            .map(|(_, e)| (e.sequence, e.reason))
            .collect())
    }

    /// The `CheckpointDelivered` events of `lane` (one per `deliver` transaction).
    pub async fn deliveries(&self, lane: B256) -> Result<Vec<CheckpointEvent>> {
        let destination = self.direction(lane)?.destination();
        Ok(self
            .events::<ZeroBridge::CheckpointDelivered>(destination, lane)
            .await?
            .into_iter()
            .map(|(log, e)| CheckpointEvent {
                sequence: e.sequence,
                accumulator: e.accumulator,
                messages: e.messages,
                block_number: log.block_number.unwrap_or_default(),
                tx_hash: log.transaction_hash.unwrap_or_default(),
            })
            .collect())
    }

    /// Checks that sequences `1..=last` of `lane` each executed exactly once on the destination,
    /// that nothing else executed or failed, and that each execution matches its source message
    /// (recipient and net amount). Returns the executions by sequence.
    pub async fn check_exactly_once(&self, lane: B256, last: u64) -> Result<BTreeMap<u64, Executed>> {
        let mut by_sequence: BTreeMap<u64, Vec<Executed>> = BTreeMap::new();
        for e in self.executed(lane).await? {
            by_sequence.entry(e.sequence).or_default().push(e);
        }
        let failed = self.failed_messages(lane).await?;
        if !failed.is_empty() {
            bail!("lane {lane}: messages failed on the destination: {failed:?}");
        }
        let duplicates: Vec<(u64, usize)> =
            by_sequence.iter().filter(|(_, v)| v.len() > 1).map(|(s, v)| (*s, v.len())).collect();
        if !duplicates.is_empty() {
            bail!("lane {lane}: sequences executed more than once (sequence, times): {duplicates:?}");
        }
        let missing: Vec<u64> = (1..=last).filter(|s| !by_sequence.contains_key(s)).collect();
        if !missing.is_empty() {
            bail!("lane {lane}: sequences never executed: {missing:?}");
        }
        let extra: Vec<u64> = by_sequence.keys().copied().filter(|s| *s == 0 || *s > last).collect();
        if !extra.is_empty() {
            bail!("lane {lane}: unexpected sequences executed: {extra:?}");
        }
        let sent = self.sent_events(lane).await?;
        let mut out = BTreeMap::new();
        for (sequence, mut executions) in by_sequence {
            let executed = executions.remove(0);
            let source = sent
                .iter()
                .find(|m| m.sequence == sequence)
                .ok_or_else(|| eyre!("lane {lane}: sequence {sequence} executed but the source never sent it"))?;
            if executed.recipient != source.message.recipient || executed.amount != source.message.amount {
                bail!(
                    "lane {lane} sequence {sequence}: executed {} to {}, but the source sent {} to {}",
                    executed.amount,
                    executed.recipient,
                    source.message.amount,
                    source.message.recipient
                );
            }
            out.insert(sequence, executed);
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- validators' view

    /// `GET /v1/lanes/{lane}/checkpoints/{sequence}` on validator `i`. Note that the validator
    /// signs on demand a sequence it has observed as final.
    pub async fn validator_checkpoint(&self, i: usize, lane: B256, sequence: u64) -> Result<Served> {
        let url = format!("{}/v1/lanes/{lane:#x}/checkpoints/{sequence}", self.validator_url(i)?);
        let response = self.http.get(&url).send().await.wrap_err_with(|| format!("GET {url}"))?;
        let status = response.status();
        if status.is_success() {
            let body: CheckpointResponse = response.json().await.wrap_err_with(|| format!("GET {url}: body"))?;
            Ok(Served::Signed(body))
        } else {
            Ok(Served::Refused { status: status.as_u16(), body: response.text().await.unwrap_or_default() })
        }
    }

    /// Validator `i`'s /v1/info.
    pub async fn validator_info(&self, i: usize) -> Result<InfoResponse> {
        let url = format!("{}/v1/info", self.validator_url(i)?);
        self.http.get(&url).send().await?.json().await.wrap_err_with(|| format!("GET {url}"))
    }

    /// How many messages of `lane` validator `i` has observed as final.
    pub async fn validator_observed(&self, i: usize, lane: B256) -> Result<u64> {
        let info = self.validator_info(i).await?;
        Ok(info.lanes.iter().find(|l| l.lane == lane).map_or(0, |l| l.observed))
    }

    /// The value of metric `name` whose label set contains `labels` (e.g. `chain="ethereum"`)
    /// in validator `i`'s /metrics.
    pub async fn validator_metric(&self, i: usize, name: &str, labels: &str) -> Result<Option<f64>> {
        let url = format!("{}/metrics", self.validator_url(i)?);
        let text = self.http.get(&url).send().await?.text().await?;
        Ok(text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?;
            if !(rest.starts_with('{') || rest.starts_with(' ')) || !rest.contains(labels) {
                return None;
            }
            rest.rsplit(' ').next()?.parse().ok()
        }))
    }

    /// Checks `signature` over checkpoint (lane, sequence, accumulator) under the lane's source
    /// domain: it must recover to `signer`.
    pub fn verify_checkpoint(
        &self,
        signer: Address,
        lane: B256,
        sequence: u64,
        accumulator: B256,
        signature: &Signature,
    ) -> Result<()> {
        let source = self.direction(lane)?.source();
        let side = self.side(source);
        let digest = checkpoint_digest(&Checkpoint { lane, sequence, accumulator }, side.chain_id, side.bridge);
        let recovered = signature.recover_address_from_prehash(&digest).map_err(|e| eyre!("unrecoverable: {e}"))?;
        if recovered != signer {
            bail!("signature on lane {lane} sequence {sequence} recovers to {recovered}, not {signer}");
        }
        Ok(())
    }

    /// Checks a served checkpoint: signed by validator `i`, and the signature verifies.
    pub fn verify_served(&self, i: usize, served: &CheckpointResponse) -> Result<()> {
        let signer = self.validator_address(i)?;
        if served.signer != signer {
            bail!("validator {i} served a checkpoint signed by {}, its key is {signer}", served.signer);
        }
        let signature =
            Signature::try_from(served.signature.as_ref()).map_err(|e| eyre!("malformed signature: {e}"))?;
        self.verify_checkpoint(signer, served.lane, served.sequence, served.accumulator, &signature)
    }

    fn validator_store(&self, i: usize) -> Result<Option<Store>> {
        let path = self.slot(i)?.data_dir.join("validator.sqlite");
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(Store::open(&path)?))
    }

    /// Validator `i`'s slashing-protection history, read from its SQLite store.
    pub fn validator_history(&self, i: usize) -> Result<SigningHistory> {
        let signer = self.validator_address(i)?;
        match self.validator_store(i)? {
            Some(store) => Ok(store.export_history(signer)?),
            None => Ok(SigningHistory::new(signer)),
        }
    }

    /// The lane halts persisted in validator `i`'s store.
    pub fn validator_lane_halts(&self, i: usize) -> Result<Vec<zb_store::LaneHalt>> {
        match self.validator_store(i)? {
            Some(store) => Ok(store.lane_halts()?),
            None => Ok(Vec::new()),
        }
    }

    /// `GET {path}` on validator `i`: the status code and the JSON body.
    pub async fn validator_get(&self, i: usize, path: &str) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.validator_url(i)?);
        let response = self.http.get(&url).send().await.wrap_err_with(|| format!("GET {url}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.wrap_err_with(|| format!("GET {url}: body"))?;
        Ok((status, body))
    }

    /// Runs `zerobridge validator <args> --config <validator i's config>` to completion.
    pub async fn validator_cli(&self, i: usize, args: &[&str]) -> Result<std::process::Output> {
        let slot = self.slot(i)?;
        lock(&slot.config).write(&slot.config_path)?;
        let mut command = self.agent_command(&[&["validator"], args].concat(), &slot.config_path);
        tokio::task::spawn_blocking(move || command.output()).await?.wrap_err("running zerobridge validator")
    }

    /// The signed checkpoint validator `i` stored for (lane, sequence), if any.
    pub fn validator_signed(&self, i: usize, lane: B256, sequence: u64) -> Result<Option<SignedCheckpoint>> {
        match self.validator_store(i)? {
            Some(store) => Ok(store.signed_at(lane, sequence)?),
            None => Ok(None),
        }
    }

    /// Checks validator `i`'s store against the chains: every slashing-protection record equals
    /// the accumulator the source bridge recorded at that sequence (so it never recorded, let
    /// alone signed, anything else), and every stored signature is over a recorded accumulator
    /// and verifies.
    pub async fn audit_validator(&self, i: usize) -> Result<ValidatorAudit> {
        let history = self.validator_history(i)?;
        let signer = self.validator_address(i)?;
        let mut truth: HashMap<B256, Vec<B256>> = HashMap::new();
        for direction in [Direction::ToRemote, Direction::ToHome] {
            let lane = self.lane(direction);
            truth.insert(lane, self.source_accumulators(lane).await?);
        }
        let mut recorded: HashMap<(B256, u64), B256> = HashMap::new();
        for entry in &history.entries {
            let Some(accumulators) = truth.get(&entry.lane) else {
                bail!("validator {i} recorded lane {}, which is not a lane of the route", entry.lane);
            };
            let source = entry.sequence.checked_sub(1).and_then(|s| accumulators.get(s as usize));
            if source != Some(&entry.accumulator) {
                bail!(
                    "validator {i} recorded lane {} sequence {} with accumulator {}, but the source has {:?} there",
                    entry.lane,
                    entry.sequence,
                    entry.accumulator,
                    source
                );
            }
            if recorded.insert((entry.lane, entry.sequence), entry.accumulator).is_some() {
                bail!("validator {i} recorded lane {} sequence {} twice", entry.lane, entry.sequence);
            }
        }
        let mut signed = 0;
        for (lane, accumulators) in &truth {
            for sequence in 1..=accumulators.len() as u64 {
                let Some(checkpoint) = self.validator_signed(i, *lane, sequence)? else {
                    continue;
                };
                if recorded.get(&(*lane, sequence)) != Some(&checkpoint.accumulator) {
                    bail!(
                        "validator {i} stored a signature on lane {lane} sequence {sequence} over {} without a \
                         matching slashing-protection record ({:?})",
                        checkpoint.accumulator,
                        recorded.get(&(*lane, sequence))
                    );
                }
                if checkpoint.signer != signer {
                    bail!("validator {i} stored a signature by {}", checkpoint.signer);
                }
                self.verify_checkpoint(signer, *lane, sequence, checkpoint.accumulator, &checkpoint.signature)?;
                signed += 1;
            }
        }
        Ok(ValidatorAudit { recorded: recorded.len(), signed })
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

/// Awaits every future, in order, failing on the first error.
async fn futures_join_all<T>(futures: impl IntoIterator<Item = impl Future<Output = Result<T>>>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await?);
    }
    Ok(out)
}
