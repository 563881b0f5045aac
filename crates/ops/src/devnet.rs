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

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alloy::primitives::{B256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, bail, eyre};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use zb_chain::{ChainConfig, Finality};
use zb_contracts::bridge::ZeroBridge;

use crate::deploy::{DeployRequest, DeployedSide, Liveness, deploy, dev_keys, tail};
use crate::network::{
    ChainInfo, DEVNET_DIR_ENV, DevnetManifest, ManifestAccount, ManifestAgent, ManifestChain, ManifestLane, RouteInfo,
};

mod watchtower;

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
        /// Use 10 consecutive ports from this one (ethereum, bsc, validators 0-3, relayer,
        /// fallback validators 0-1, watchtower) instead of the fixed ones (8545, 8546, 7101-7104,
        /// 7200, 7111-7112, 7300).
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

// ------------------------------------------------------------------------------------ ports

/// The devnet's local ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub home: u16,
    pub remote: u16,
    pub validators: [u16; VALIDATORS],
    pub relayer: u16,
    pub fallback: [u16; FALLBACK_VALIDATORS],
    pub watchtower: u16,
}

impl Ports {
    /// The documented defaults the README's tour relies on.
    pub const FIXED: Ports = Ports {
        home: 8545,
        remote: 8546,
        validators: [7101, 7102, 7103, 7104],
        relayer: 7200,
        fallback: [7111, 7112],
        watchtower: 7300,
    };

    /// `base` (ethereum), `base+1` (bsc), `base+2..=base+5` (validators), `base+6` (relayer),
    /// `base+7..=base+8` (fallback validators), `base+9` (watchtower).
    pub fn from_base(base: u16) -> Result<Ports> {
        if !(1024..=u16::MAX - 9).contains(&base) {
            bail!("--port-base {base} is out of range: pick one between 1024 and {}", u16::MAX - 9);
        }
        Ok(Ports {
            home: base,
            remote: base + 1,
            validators: [base + 2, base + 3, base + 4, base + 5],
            relayer: base + 6,
            fallback: [base + 7, base + 8],
            watchtower: base + 9,
        })
    }

    fn labelled(&self) -> Vec<(u16, String)> {
        let mut out =
            vec![(self.home, format!("anvil {}", HOME.name)), (self.remote, format!("anvil {}", REMOTE.name))];
        for (i, port) in self.validators.iter().enumerate() {
            out.push((*port, format!("validator-{i}")));
        }
        out.push((self.relayer, "relayer".to_string()));
        for (i, port) in self.fallback.iter().enumerate() {
            out.push((*port, format!("fallback-{i}")));
        }
        out.push((self.watchtower, "watchtower".to_string()));
        out
    }

    /// Fails, naming the port, if any of them is taken.
    fn check_free(&self) -> Result<()> {
        for (port, what) in self.labelled() {
            if let Err(e) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                bail!(
                    "port {port} (for {what}) is not free ({e}): if an earlier devnet still runs, stop it with \
                     `zerobridge devnet down`; otherwise stop whatever listens there (`ss -ltnp | grep {port}`) \
                     or use other ports with --port-base"
                );
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------ layout

/// The files of one devnet directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        Layout { dir: dir.to_path_buf() }
    }
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }
    fn processes(&self) -> PathBuf {
        self.dir.join("processes.json")
    }
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
    pub fn keys(&self) -> PathBuf {
        self.dir.join("keys")
    }
    pub fn password_file(&self) -> PathBuf {
        self.keys().join("password")
    }
    pub fn configs(&self) -> PathBuf {
        self.dir.join("configs")
    }
    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
    fn broadcast(&self) -> PathBuf {
        self.dir.join("broadcast")
    }
}

/// Finds the repository: `explicit`, else the first ancestor of the working directory, else of
/// the running binary, that holds `contracts/foundry.toml`.
pub fn repo_root(explicit: Option<&Path>) -> Result<PathBuf> {
    let is_root = |dir: &Path| dir.join("contracts/foundry.toml").is_file();
    if let Some(dir) = explicit {
        if !is_root(dir) {
            bail!(
                "{} is not the zerobridge repository (no contracts/foundry.toml): fix --repo / ZB_REPO_ROOT",
                dir.display()
            );
        }
        return dir.canonicalize().wrap_err_with(|| format!("resolving {}", dir.display()));
    }
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe.canonicalize().unwrap_or(exe));
    }
    for start in &starts {
        if let Some(root) = start.ancestors().find(|d| is_root(d)) {
            return root.canonicalize().wrap_err_with(|| format!("resolving {}", root.display()));
        }
    }
    bail!(
        "cannot find the zerobridge repository (a directory with contracts/foundry.toml) above the working \
         directory or the zerobridge binary: run from the repository root, or pass --repo <path>"
    )
}

fn foundry_bin(root: &Path, tool: &str) -> Result<PathBuf> {
    let path = root.join(format!("node_modules/@foundry-rs/{tool}-linux-amd64/bin/{tool}"));
    if !path.is_file() {
        bail!(
            "{tool} not found at {}: run scripts/install.sh in the repository root (scripts/devnet.sh does it \
             for you)",
            path.display()
        );
    }
    Ok(path)
}

// ------------------------------------------------------------------------------------ processes

/// One background process of the devnet, as `processes.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ProcessRecord {
    name: String,
    pid: u32,
    /// The executable's file name, checked before signalling so that a recycled pid is never hit.
    program: String,
}

/// The state of a recorded process.
fn alive(pid: u32, program: &str) -> bool {
    if pid <= 1 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "<pid> (<comm>) <state> ...": a zombie has exited already.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, None | Some('Z') | Some('X') | Some('x')) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    Path::new(argv0.as_ref()).file_name().is_some_and(|name| name.to_string_lossy().contains(program))
}

fn signal(pid: u32, sig: &str) {
    if pid <= 1 {
        return;
    }
    let result = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Err(e) = result {
        tracing::warn!(pid, sig, error = %e, "cannot run kill");
    }
}

/// SIGTERM, then SIGKILL for whatever still runs after the grace period. Returns the records
/// still alive after that (normally none).
async fn stop_all(records: &[ProcessRecord]) -> Vec<ProcessRecord> {
    let running: Vec<&ProcessRecord> = records.iter().filter(|r| alive(r.pid, &r.program)).collect();
    for r in &running {
        tracing::debug!(name = %r.name, pid = r.pid, "SIGTERM");
        signal(r.pid, "TERM");
    }
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline && running.iter().any(|r| alive(r.pid, &r.program)) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for r in running.iter().filter(|r| alive(r.pid, &r.program)) {
        println!("{} (pid {}) did not stop within {STOP_GRACE:?}: killing it", r.name, r.pid);
        signal(r.pid, "KILL");
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && running.iter().any(|r| alive(r.pid, &r.program)) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.into_iter().filter(|r| alive(r.pid, &r.program)).cloned().collect()
}

fn read_processes(layout: &Layout) -> Vec<ProcessRecord> {
    std::fs::read_to_string(layout.processes())
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// The processes started by `devnet up`, killed again if `up` fails or is interrupted.
struct Launch {
    layout: Layout,
    records: Vec<ProcessRecord>,
    children: Vec<Child>,
    armed: bool,
}

impl Launch {
    fn new(layout: Layout) -> Launch {
        Launch { layout, records: Vec::new(), children: Vec::new(), armed: true }
    }

    /// Starts `command` detached (own process group, stdin closed, output to `log`).
    fn spawn(&mut self, name: &str, mut command: Command, log: &Path) -> Result<u32> {
        let out = File::create(log).wrap_err_with(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().wrap_err("duplicating a log file handle")?;
        let program =
            Path::new(command.get_program()).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .spawn()
            .wrap_err_with(|| format!("starting {name}: {command:?}"))?;
        let pid = child.id();
        tracing::debug!(name, pid, log = %log.display(), "started");
        self.children.push(child);
        self.records.push(ProcessRecord { name: name.to_string(), pid, program });
        write_json(&self.layout.processes(), &self.records)?;
        Ok(pid)
    }

    /// Fails with the log's tail if the process `name` has exited.
    fn check(&mut self, name: &str, log: &Path) -> Result<()> {
        let Some(index) = self.records.iter().position(|r| r.name == name) else {
            bail!("{name} was never started");
        };
        if let Some(child) = self.children.get_mut(index)
            && let Ok(Some(status)) = child.try_wait()
        {
            show_tail(log, 30);
            bail!("{name} exited ({status}); see {}", log.display());
        }
        Ok(())
    }

    /// The processes keep running after this process exits.
    fn release(mut self) {
        self.armed = false;
    }
}

impl Drop for Launch {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.layout.processes());
        if !self.children.is_empty() {
            println!("stopped the {} processes this attempt started", self.children.len());
        }
    }
}

/// Prints the last `n` lines of a log to stderr (errors themselves are printed on one line).
fn show_tail(path: &Path, n: usize) {
    let text = tail(path, n);
    if !text.is_empty() {
        eprintln!("--- the end of {}:\n{text}\n---", path.display());
    }
}

/// Writes JSON through a temporary file and a rename, so readers never see half a file.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").wrap_err_with(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("writing {}", path.display()))
}

fn manifest_records(manifest: &DevnetManifest) -> Vec<ProcessRecord> {
    // Stop order: watchtower (it would alert on agents going away), relayer, validators, then the
    // chains.
    let mut out: Vec<ProcessRecord> = manifest
        .watchtower
        .iter()
        .chain(std::iter::once(&manifest.relayer))
        .map(|a| ProcessRecord { name: a.name.clone(), pid: a.pid, program: "zerobridge".into() })
        .collect();
    out.extend(manifest.validators.iter().chain(&manifest.fallback_validators).map(|v| ProcessRecord {
        name: v.name.clone(),
        pid: v.pid,
        program: "zerobridge".into(),
    }));
    out.extend(manifest.chains.iter().map(|c| ProcessRecord {
        name: format!("anvil {}", c.chain.name),
        pid: c.pid,
        program: "anvil".into(),
    }));
    out
}

/// Everything recorded in `layout`: the manifest's processes, then any others from
/// processes.json (a failed `up`), in stop order. Also the manifest if it parses.
fn recorded(layout: &Layout) -> (Option<Result<DevnetManifest>>, Vec<ProcessRecord>) {
    let manifest = layout.manifest().exists().then(|| DevnetManifest::load(&layout.manifest()));
    let mut records = match &manifest {
        Some(Ok(m)) => manifest_records(m),
        _ => Vec::new(),
    };
    let mut extra = read_processes(layout);
    // processes.json is in start order: chains first.
    extra.reverse();
    for r in extra {
        if !records.iter().any(|x| x.pid == r.pid) {
            records.push(r);
        }
    }
    (manifest, records)
}

// ------------------------------------------------------------------------------------ configs

/// `zerobridge validator run --config` (crates/validator/src/config.rs); loaded back with
/// `ValidatorConfig::load` after writing, so a drift between the two fails at once. No
/// `[[lanes]]`: each validator secures the lanes its operator opted in to on the chains' stake
/// managers, and follows new opt-ins while running.
#[derive(Debug, Clone, Serialize)]
struct ValidatorToml {
    keystore: PathBuf,
    password_file: PathBuf,
    data_dir: PathBuf,
    listen: SocketAddr,
    public_url: String,
    /// Fallback validators: `fallback`, with the delay and the lanes they watch.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback_delay_secs: Option<u64>,
    chains: Vec<ChainConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lanes: Vec<LaneToml>,
}

#[derive(Debug, Clone, Serialize)]
struct LaneToml {
    lane: B256,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
}

/// `zerobridge relayer run --config` (crates/relayer/src/config.rs).
#[derive(Debug, Clone, Serialize)]
struct RelayerToml {
    data_dir: PathBuf,
    listen: SocketAddr,
    validators: Vec<String>,
    fallback_validators: Vec<String>,
    key: RelayerKeyToml,
    chains: Vec<ChainConfig>,
    lanes: Vec<LaneToml>,
}

#[derive(Debug, Clone, Serialize)]
struct RelayerKeyToml {
    keystore: PathBuf,
    password_file: PathBuf,
}

/// Writes a validator's config, checks it with the validator's own loader, and describes the
/// agent for the manifest (pid filled in when it starts).
fn validator_agent(
    config_path: &Path,
    config: &ValidatorToml,
    name: String,
    address: alloy::primitives::Address,
    logs: &Path,
) -> Result<ManifestAgent> {
    write_toml(config_path, config)?;
    zb_config::validator::ValidatorConfig::load(config_path).map_err(|e| {
        eyre!(
            "the validator rejects the config devnet wrote ({e}); this is a bug: report it with {}",
            config_path.display()
        )
    })?;
    Ok(ManifestAgent {
        log: logs.join(format!("{name}.log")),
        name,
        url: config.public_url.clone(),
        address,
        pid: 0,
        config: config_path.to_path_buf(),
    })
}

fn write_toml<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = toml::to_string(value).wrap_err_with(|| format!("serializing {}", path.display()))?;
    std::fs::write(path, text).wrap_err_with(|| format!("writing {}", path.display()))
}

// ------------------------------------------------------------------------------------ up

/// How to start a devnet.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    pub ports: Ports,
    /// The repository (see [`repo_root`]).
    pub repo: Option<PathBuf>,
}

fn http_provider(url: &str) -> Result<DynProvider> {
    Ok(ProviderBuilder::new().connect_http(url.parse().wrap_err_with(|| format!("bad RPC URL {url}"))?).erased())
}

async fn rpc_call(
    provider: &DynProvider,
    method: &'static str,
    params: impl Serialize + Clone + Send + Sync + std::fmt::Debug + Unpin + 'static,
) -> Result<()> {
    let _: serde_json::Value = provider.raw_request(method.into(), params).await.wrap_err(method)?;
    Ok(())
}

fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder().timeout(PROBE_TIMEOUT).build().wrap_err("building an HTTP client")
}

/// Starts a devnet; see the module docs.
pub async fn up(options: &UpOptions) -> Result<()> {
    std::fs::create_dir_all(&options.dir)
        .wrap_err_with(|| format!("cannot create the devnet directory {}", options.dir.display()))?;
    let dir = options.dir.canonicalize().wrap_err_with(|| format!("resolving {}", options.dir.display()))?;
    let layout = Layout::new(&dir);

    let (manifest, records) = recorded(&layout);
    let running: Vec<&ProcessRecord> = records.iter().filter(|r| alive(r.pid, &r.program)).collect();
    if !running.is_empty() {
        let list: Vec<String> = running.iter().map(|r| format!("{} (pid {})", r.name, r.pid)).collect();
        bail!(
            "a devnet is already running in {}: {}. Stop it with `zerobridge devnet down` first (it keeps the logs)",
            dir.display(),
            list.join(", ")
        );
    }
    if manifest.is_some() {
        println!("removing the manifest of an earlier devnet that is no longer running");
    }
    options.ports.check_free()?;

    let root = repo_root(options.repo.as_deref())?;
    let anvil = foundry_bin(&root, "anvil")?;
    let forge = foundry_bin(&root, "forge")?;
    let exe = std::env::current_exe().wrap_err("cannot find the running zerobridge binary")?;

    // A fresh start: the chains begin at genesis, so old stores and keys must go.
    for stale in [layout.manifest(), layout.processes(), dir.join("deployment.json")] {
        let _ = std::fs::remove_file(stale);
    }
    for stale in [layout.data(), layout.keys(), layout.configs(), layout.broadcast()] {
        if stale.exists() {
            std::fs::remove_dir_all(&stale).wrap_err_with(|| format!("cannot clear {}", stale.display()))?;
        }
    }
    for sub in [layout.logs(), layout.data(), layout.configs(), layout.keys()] {
        std::fs::create_dir_all(&sub).wrap_err_with(|| format!("creating {}", sub.display()))?;
    }
    std::fs::set_permissions(layout.keys(), std::fs::Permissions::from_mode(0o700))?;

    let mut launch = Launch::new(layout.clone());
    let started = tokio::select! {
        result = start(&mut launch, &layout, &root, &anvil, &forge, &exe, options.ports) => result,
        _ = tokio::signal::ctrl_c() => Err(eyre!("interrupted")),
    };
    let manifest = match started {
        Ok(manifest) => manifest,
        Err(e) => {
            drop(launch);
            return Err(e.wrap_err(format!("devnet up failed; logs are in {}", layout.logs().display())));
        }
    };
    write_json(&layout.manifest(), &manifest)?;
    launch.release();
    print_ready(&manifest, &layout, &options.dir);
    Ok(())
}

async fn wait_chain(url: &str, chain: ChainSpec, launch: &mut Launch, log: &Path) -> Result<()> {
    let name = format!("anvil {}", chain.name);
    let deadline = Instant::now() + RPC_TIMEOUT;
    loop {
        launch.check(&name, log)?;
        match zb_chain::wait_for_rpc(url, Duration::from_millis(500)).await {
            Ok(id) if id == chain.chain_id => return Ok(()),
            Ok(id) => bail!(
                "{url} answers with chain id {id}, not {}: another node took the port; stop it and retry",
                chain.chain_id
            ),
            Err(e) if Instant::now() >= deadline => {
                show_tail(log, 20);
                bail!("{name} did not answer on {url} within {RPC_TIMEOUT:?}: {e}; see {}", log.display())
            }
            Err(_) => {}
        }
    }
}

/// Waits until the chain's head moves (interval mining works).
async fn wait_blocks(provider: &DynProvider, name: &str) -> Result<u64> {
    let first = provider.get_block_number().await.wrap_err_with(|| format!("{name}: eth_blockNumber"))?;
    let deadline = Instant::now() + BLOCKS_TIMEOUT;
    loop {
        let now = provider.get_block_number().await.wrap_err_with(|| format!("{name}: eth_blockNumber"))?;
        if now > first {
            return Ok(now);
        }
        if Instant::now() >= deadline {
            bail!("{name} produced no block within {BLOCKS_TIMEOUT:?} after switching to {BLOCK_TIME}-second blocks");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_healthy(http: &reqwest::Client, name: &str, url: &str, launch: &mut Launch, log: &Path) -> Result<()> {
    let health = format!("{url}/v1/health");
    let deadline = Instant::now() + AGENT_TIMEOUT;
    loop {
        launch.check(name, log)?;
        let last = match http.get(&health).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => {
                let status = response.status();
                format!("{status}: {}", response.text().await.unwrap_or_default())
            }
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            show_tail(log, 30);
            bail!(
                "{name} did not report healthy on {health} within {AGENT_TIMEOUT:?} (last: {last}); see {}",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn agent_command(exe: &Path, args: &[&str], config: &Path) -> Command {
    let mut command = Command::new(exe);
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .env("ZB_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", std::env::var("ZB_DEVNET_AGENT_LOG").unwrap_or_else(|_| "info".into()))
        .env_remove("ZB_VALIDATOR_CONFIG")
        .env_remove("ZB_RELAYER_CONFIG")
        .env_remove("ZB_KEYSTORE_PASSWORD");
    command
}

fn signer(key: &str) -> Result<PrivateKeySigner> {
    key.parse().map_err(|e| eyre!("bad devnet key: {e}"))
}

#[allow(clippy::too_many_arguments)]
async fn start(
    launch: &mut Launch,
    layout: &Layout,
    root: &Path,
    anvil: &Path,
    forge: &Path,
    exe: &Path,
    ports: Ports,
) -> Result<DevnetManifest> {
    let logs = layout.logs();
    let http = http_client()?;

    // 1. Chains, automining while deploying.
    let mut chains = Vec::new();
    for (spec, port) in [(HOME, ports.home), (REMOTE, ports.remote)] {
        let log = logs.join(format!("anvil-{}.log", spec.name));
        let mut command = Command::new(anvil);
        command.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", &spec.chain_id.to_string()]);
        let pid = launch.spawn(&format!("anvil {}", spec.name), command, &log)?;
        chains.push((spec, port, pid, log));
    }
    for (spec, port, _, log) in &chains {
        let url = format!("http://127.0.0.1:{port}");
        wait_chain(&url, *spec, launch, log).await?;
        println!("{}: anvil on {url} (chain id {})", spec.name, spec.chain_id);
    }
    let home_rpc = format!("http://127.0.0.1:{}", ports.home);
    let remote_rpc = format!("http://127.0.0.1:{}", ports.remote);

    // 2. Keys: deterministic validators, anvil account 2 for the relayer.
    let password_file = layout.password_file();
    {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&password_file)
            .wrap_err_with(|| format!("creating {}", password_file.display()))?;
        std::io::Write::write_all(&mut file, KEYSTORE_PASSWORD.as_bytes())?;
    }
    let keys_dir = layout.keys();
    let relayer_key: B256 = dev_keys::RELAYER.parse().map_err(|e| eyre!("bad relayer key: {e}"))?;
    let imported = tokio::task::spawn_blocking(move || -> Result<Vec<zb_keys::KeyInfo>> {
        let mut keys = Vec::new();
        let fallback = (0..FALLBACK_VALIDATORS).map(fallback_validator_key);
        for key in (0..VALIDATORS).map(validator_key).chain(fallback).chain([relayer_key]) {
            keys.push(zb_keys::import_key(&keys_dir, key, KEYSTORE_PASSWORD)?);
        }
        Ok(keys)
    })
    .await
    .wrap_err("importing keys")??;
    let (validator_keys, fallback_keystores, relayer_keystore) = match imported.split_last() {
        Some((relayer, all)) if all.len() == VALIDATORS + FALLBACK_VALIDATORS => {
            (all[..VALIDATORS].to_vec(), all[VALIDATORS..].to_vec(), relayer.clone())
        }
        _ => bail!("imported {} keys, expected {}", imported.len(), VALIDATORS + FALLBACK_VALIDATORS + 1),
    };
    println!(
        "keys: {VALIDATORS} validators, {FALLBACK_VALIDATORS} fallback validators and the relayer in {} (password \"{KEYSTORE_PASSWORD}\")",
        layout.keys().display()
    );

    // 3. Contracts and the demo route.
    let deployer = signer(dev_keys::DEPLOYER)?.address();
    let holder = signer(dev_keys::HOLDER)?.address();
    let relayer = signer(dev_keys::RELAYER)?.address();
    let watchtower_address = signer(dev_keys::WATCHTOWER)?.address();
    // The validators' signing keys are devnet keys: Deploy.s.sol signs each operator's proof of
    // possession with them (in the order of the keystores above).
    let signing_keys: Vec<B256> = (0..VALIDATORS).map(validator_key).collect();
    let fallback_keys: Vec<B256> = (0..FALLBACK_VALIDATORS).map(fallback_validator_key).collect();
    println!("deploying zerobridge to both chains (forge script Deploy.s.sol)...");
    let deployed = deploy(&DeployRequest {
        contracts: &root.join("contracts"),
        forge,
        home_rpc: &home_rpc,
        remote_rpc: &remote_rpc,
        validator_keys: &signing_keys,
        threshold: THRESHOLD,
        fallback_keys: &fallback_keys,
        liveness: Liveness::DEVNET,
        watchtower: Some(watchtower_address),
        holders: &[holder],
        broadcast_dir: &layout.broadcast(),
        log: &layout.logs().join("deploy.log"),
    })
    .await
    .inspect_err(|_| show_tail(&layout.logs().join("deploy.log"), 30))?;

    for (lane, src, dst) in [
        (deployed.route.lane_to_remote, &deployed.home, &deployed.remote),
        (deployed.route.lane_to_home, &deployed.remote, &deployed.home),
    ] {
        let expected =
            zb_protocol::lane_id(src.chain_id, src.bridge, dst.chain_id, dst.bridge, deployed.route.route_id);
        if lane != expected {
            bail!("Deploy.s.sol reported lane {lane}, but the lane id of its route is {expected}");
        }
    }
    println!(
        "deployed: bridges {} ({}) and {} ({}); validator sets from stake; route DEMO {} active",
        deployed.home.bridge, HOME.name, deployed.remote.bridge, REMOTE.name, deployed.route.route_id
    );

    // 4. 1-second blocks from now on.
    let home_provider = http_provider(&home_rpc)?;
    let remote_provider = http_provider(&remote_rpc)?;
    for (provider, spec) in [(&home_provider, HOME), (&remote_provider, REMOTE)] {
        rpc_call(provider, "evm_setIntervalMining", (BLOCK_TIME,))
            .await
            .wrap_err_with(|| format!("switching {} to interval mining", spec.name))?;
    }

    // 5. Agent configs, checked with the agents' own loaders.
    let chain_config = |spec: ChainSpec, port: u16, side: &DeployedSide| ChainConfig {
        name: spec.name.to_string(),
        chain_id: spec.chain_id,
        rpc: vec![format!("http://127.0.0.1:{port}")],
        ws: Some(format!("ws://127.0.0.1:{port}")),
        bridge: side.bridge,
        finality: Finality::Depth(FINALITY_DEPTH),
        rpc_quorum: 1,
        poll_interval_ms: 500,
        start_block: side.start_block,
        stake_manager: Some(side.stake_manager),
    };
    let chain_configs =
        vec![chain_config(HOME, ports.home, &deployed.home), chain_config(REMOTE, ports.remote, &deployed.remote)];
    let lanes = [
        (deployed.route.lane_to_remote, HOME.name, REMOTE.name),
        (deployed.route.lane_to_home, REMOTE.name, HOME.name),
    ];
    let validator_urls: Vec<String> = ports.validators.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let mut validator_agents = Vec::new();
    for (i, key) in validator_keys.iter().enumerate() {
        let name = format!("validator-{i}");
        let config_path = layout.configs().join(format!("{name}.toml"));
        let port = ports.validators[i];
        let config = ValidatorToml {
            keystore: key.path.clone(),
            password_file: password_file.clone(),
            data_dir: layout.data().join(&name),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            public_url: validator_urls[i].clone(),
            role: None,
            fallback_delay_secs: None,
            chains: chain_configs.clone(),
            lanes: Vec::new(),
        };
        validator_agents.push(validator_agent(&config_path, &config, name, key.address, &logs)?);
    }
    // The fallback group watches both lanes and signs only what waited out the route's delay.
    let fallback_urls: Vec<String> = ports.fallback.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let mut fallback_agents = Vec::new();
    for (i, key) in fallback_keystores.iter().enumerate() {
        let name = format!("fallback-{i}");
        let config_path = layout.configs().join(format!("{name}.toml"));
        let config = ValidatorToml {
            keystore: key.path.clone(),
            password_file: password_file.clone(),
            data_dir: layout.data().join(&name),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, ports.fallback[i])),
            public_url: fallback_urls[i].clone(),
            role: Some("fallback"),
            fallback_delay_secs: Some(Liveness::DEVNET.fallback_delay),
            // A fallback validator watches the lanes listed below, not its operator's opt-ins.
            chains: chain_configs.iter().map(|c| ChainConfig { stake_manager: None, ..c.clone() }).collect(),
            lanes: lanes
                .iter()
                .map(|(lane, source, _)| LaneToml { lane: *lane, source: source.to_string(), destination: None })
                .collect(),
        };
        fallback_agents.push(validator_agent(&config_path, &config, name, key.address, &logs)?);
    }
    let relayer_config_path = layout.configs().join("relayer.toml");
    let relayer_config = RelayerToml {
        data_dir: layout.data().join("relayer"),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, ports.relayer)),
        validators: validator_urls.clone(),
        fallback_validators: fallback_urls,
        key: RelayerKeyToml { keystore: relayer_keystore.path.clone(), password_file: password_file.clone() },
        chains: chain_configs.clone(),
        lanes: lanes
            .iter()
            .map(|(lane, source, destination)| LaneToml {
                lane: *lane,
                source: source.to_string(),
                destination: Some(destination.to_string()),
            })
            .collect(),
    };
    write_toml(&relayer_config_path, &relayer_config)?;
    zb_config::relayer::RelayerConfig::load(&relayer_config_path).map_err(|e| {
        eyre!(
            "the relayer rejects the config devnet wrote ({e}); this is a bug: report it with {}",
            relayer_config_path.display()
        )
    })?;
    let mut relayer_agent = ManifestAgent {
        name: "relayer".into(),
        url: format!("http://127.0.0.1:{}", ports.relayer),
        address: relayer,
        pid: 0,
        config: relayer_config_path,
        log: logs.join("relayer.log"),
    };
    let demo_route = zb_config::watchtower::WatchedRoute {
        route_id: deployed.route.route_id,
        home: HOME.name.into(),
        remote: REMOTE.name.into(),
    };
    let mut watchtower_agent =
        watchtower::agent(layout, ports.watchtower, &chain_configs, vec![demo_route], watchtower_address)?;

    // 6. Agents: validators first (the relayer asks them who they are), then the relayer.
    for agent in validator_agents.iter_mut().chain(&mut fallback_agents) {
        let command = agent_command(exe, &["validator", "run"], &agent.config);
        agent.pid = launch.spawn(&agent.name, command, &agent.log)?;
    }
    for agent in validator_agents.iter().chain(&fallback_agents) {
        wait_healthy(&http, &agent.name, &agent.url, launch, &agent.log).await?;
        println!("{}: {} (signer {})", agent.name, agent.url, agent.address);
    }
    let command = agent_command(exe, &["relayer", "run"], &relayer_agent.config);
    relayer_agent.pid = launch.spawn(&relayer_agent.name, command, &relayer_agent.log)?;
    wait_healthy(&http, &relayer_agent.name, &relayer_agent.url, launch, &relayer_agent.log).await?;
    println!("relayer: {} (pays from {})", relayer_agent.url, relayer_agent.address);
    let command = watchtower::command(exe, &watchtower_agent.config, dev_keys::WATCHTOWER);
    watchtower_agent.pid = launch.spawn(&watchtower_agent.name, command, &watchtower_agent.log)?;
    wait_healthy(&http, &watchtower_agent.name, &watchtower_agent.url, launch, &watchtower_agent.log).await?;
    println!("watchtower: {} (GUARDIAN {})", watchtower_agent.url, watchtower_agent.address);

    // 7. Both chains produce blocks.
    for (provider, spec) in [(&home_provider, HOME), (&remote_provider, REMOTE)] {
        wait_blocks(provider, spec.name).await?;
    }

    let manifest_chain = |spec: ChainSpec, port: u16, side: &DeployedSide, pid: u32| ManifestChain {
        chain: ChainInfo {
            name: spec.name.to_string(),
            chain_id: spec.chain_id,
            rpc: format!("http://127.0.0.1:{port}"),
            bridge: side.bridge,
            registry: side.registry,
            finality_depth: FINALITY_DEPTH,
            manager: None,
            stake_manager: Some(side.stake_manager),
        },
        ws: format!("ws://127.0.0.1:{port}"),
        manager: side.manager,
        start_block: side.start_block,
        pid,
        log: logs.join(format!("anvil-{}.log", spec.name)),
    };
    let pid_of = |spec: ChainSpec| chains.iter().find(|c| c.0 == spec).map_or(0, |c| c.2);
    let mut accounts = vec![
        ManifestAccount { role: "deployer".into(), address: deployer, private_key: dev_keys::DEPLOYER.parse()? },
        ManifestAccount { role: "holder".into(), address: holder, private_key: dev_keys::HOLDER.parse()? },
        ManifestAccount { role: "relayer".into(), address: relayer, private_key: relayer_key },
        ManifestAccount {
            role: "watchtower".into(),
            address: watchtower_address,
            private_key: dev_keys::WATCHTOWER.parse()?,
        },
    ];
    for (i, key) in validator_keys.iter().enumerate() {
        accounts.push(ManifestAccount {
            role: format!("validator-{i}"),
            address: key.address,
            private_key: validator_key(i),
        });
    }
    for (i, key) in fallback_keystores.iter().enumerate() {
        accounts.push(ManifestAccount {
            role: format!("fallback-{i}"),
            address: key.address,
            private_key: fallback_validator_key(i),
        });
    }
    // Each validator's operator key: it bonded the stake and opted in; `zerobridge stake` uses it.
    for (i, key) in deployed.operator_keys.iter().enumerate() {
        let private_key = B256::from(*key);
        accounts.push(ManifestAccount {
            role: format!("operator-{i}"),
            address: PrivateKeySigner::from_bytes(&private_key)?.address(),
            private_key,
        });
    }
    for (i, key) in deployed.fallback_operator_keys.iter().enumerate() {
        let private_key = B256::from(*key);
        accounts.push(ManifestAccount {
            role: format!("fallback-operator-{i}"),
            address: PrivateKeySigner::from_bytes(&private_key)?.address(),
            private_key,
        });
    }
    Ok(DevnetManifest {
        chains: vec![
            manifest_chain(HOME, ports.home, &deployed.home, pid_of(HOME)),
            manifest_chain(REMOTE, ports.remote, &deployed.remote, pid_of(REMOTE)),
        ],
        routes: vec![RouteInfo {
            route_id: deployed.route.route_id,
            symbol: "DEMO".into(),
            decimals: 18,
            home: HOME.name.into(),
            remote: REMOTE.name.into(),
            home_token: deployed.route.home_token,
            wrapped_token: deployed.route.wrapped_token,
            liveness: Some(Liveness::DEVNET),
        }],
        accounts,
        validators: validator_agents,
        fallback_validators: fallback_agents,
        relayer: relayer_agent,
        watchtower: Some(watchtower_agent),
        threshold: THRESHOLD,
        lanes: lanes
            .iter()
            .map(|(lane, source, destination)| ManifestLane {
                lane: *lane,
                route_id: deployed.route.route_id,
                source: source.to_string(),
                destination: destination.to_string(),
            })
            .collect(),
        keys_dir: layout.keys(),
        password_file,
    })
}

fn print_ready(manifest: &DevnetManifest, layout: &Layout, dir_arg: &Path) {
    println!();
    println!("devnet is up: manifest {}, logs in {}", layout.manifest().display(), layout.logs().display());
    for chain in &manifest.chains {
        println!("  {:<9} chain id {:<3} {}", chain.chain.name, chain.chain.chain_id, chain.chain.rpc);
    }
    for route in &manifest.routes {
        println!(
            "  route {}: {} on {} <-> {} on {}",
            route.symbol, route.home_token, route.home, route.wrapped_token, route.remote
        );
    }
    println!(
        "  validators: {} operators staked {} ETH each on each chain (zerobridge stake status); {} of {} must sign",
        manifest.validators.len(),
        crate::deploy::DEVNET_STAKE_WEI / 1_000_000_000_000_000_000,
        manifest.threshold,
        manifest.validators.len()
    );
    if let Some(tower) = &manifest.watchtower {
        println!(
            "  watchtower {} (GUARDIAN on both chains); alerts in {}",
            tower.url,
            layout.logs().join("alerts.jsonl").display()
        );
    }
    if let Some(holder) = manifest.account("holder") {
        println!("  holder {} has 1000000 DEMO on {} (test key in the manifest)", holder.address, HOME.name);
    }
    let env = if dir_arg == Path::new(DEFAULT_DIR) {
        String::new()
    } else {
        format!("{DEVNET_DIR_ENV}={} ", layout.dir.display())
    };
    let prefix = format!("{env}{}", invocation());
    println!();
    println!("try this:");
    println!("  {prefix} send --from ethereum --to bsc --token DEMO --amount 1.5");
    println!("  {prefix} balance");
    println!("  {prefix} devnet status");
    println!("  {prefix} devnet down");
}

/// How to call this binary from the working directory: `zerobridge` if that is what PATH finds,
/// else its path (relative to the working directory when below it, e.g. target/debug/zerobridge).
fn invocation() -> String {
    let Ok(exe) = std::env::current_exe().and_then(|e| e.canonicalize()) else {
        return "zerobridge".into();
    };
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("zerobridge").canonicalize().is_ok_and(|found| found == exe))
    });
    if on_path {
        return "zerobridge".into();
    }
    let cwd = std::env::current_dir().and_then(|d| d.canonicalize()).unwrap_or_default();
    match exe.strip_prefix(&cwd) {
        Ok(relative) => relative.display().to_string(),
        Err(_) => exe.display().to_string(),
    }
}

// ------------------------------------------------------------------------------------ down

/// Stops every process of the devnet in `dir` and removes its manifest (logs stay).
pub async fn down(dir: &Path) -> Result<()> {
    let layout = Layout::new(dir);
    let (manifest, records) = recorded(&layout);
    if let Some(Err(e)) = &manifest {
        println!("warning: {e}");
    }
    let running: Vec<ProcessRecord> = records.iter().filter(|r| alive(r.pid, &r.program)).cloned().collect();
    if running.is_empty() {
        let stale = manifest.is_some();
        let _ = std::fs::remove_file(layout.manifest());
        let _ = std::fs::remove_file(layout.processes());
        if stale {
            println!("no devnet process is running in {}; removed its stale manifest", dir.display());
        } else {
            println!("no devnet is running in {}", dir.display());
        }
        return Ok(());
    }
    for r in &running {
        println!("stopping {} (pid {})", r.name, r.pid);
    }
    let left = stop_all(&running).await;
    if !left.is_empty() {
        let list: Vec<String> = left.iter().map(|r| format!("{} (pid {})", r.name, r.pid)).collect();
        bail!(
            "could not stop {}: kill them by hand (`kill -9 <pid>`), then run `zerobridge devnet down` again",
            list.join(", ")
        );
    }
    let _ = std::fs::remove_file(layout.manifest());
    let _ = std::fs::remove_file(layout.processes());
    println!("devnet stopped ({} processes); logs kept in {}", running.len(), layout.logs().display());
    Ok(())
}

// ------------------------------------------------------------------------------------ status

/// Prints the state of every part of the devnet in `dir`; fails if any part is down.
/// The route's status and liveness on one chain, in one line.
async fn route_state(provider: DynProvider, bridge: alloy::primitives::Address, route_id: B256) -> Result<String> {
    let bridge = ZeroBridge::new(bridge, provider);
    let route = bridge.getRoute(route_id).call().await?;
    let lane = bridge.getLane(route.outboundLane).call().await?;
    let mut line = crate::explain::status_name(lane.status).to_string();
    if route.fallbackSetHash.is_zero() {
        line.push_str("  no fallback set");
    } else {
        line.push_str(&format!(
            "  fallback after {} s  strikes {} of {}",
            route.fallbackDelay, route.strikes, route.strikeLimit
        ));
    }
    if route.graceUntil != 0 {
        line.push_str(&format!("  Emergency grace until {}", crate::format::format_utc(route.graceUntil)));
    }
    Ok(line)
}

pub async fn status(dir: &Path) -> Result<()> {
    let layout = Layout::new(dir);
    if !layout.manifest().exists() {
        let orphans: Vec<ProcessRecord> =
            read_processes(&layout).into_iter().filter(|r| alive(r.pid, &r.program)).collect();
        if !orphans.is_empty() {
            let list: Vec<String> = orphans.iter().map(|r| format!("{} (pid {})", r.name, r.pid)).collect();
            bail!(
                "no devnet manifest in {}, but processes of an unfinished `devnet up` run: {}. Clean up with \
                 `zerobridge devnet down`",
                dir.display(),
                list.join(", ")
            );
        }
        bail!("no devnet is running in {} (no manifest.json): start one with `zerobridge devnet up`", dir.display());
    }
    let manifest = DevnetManifest::load(&layout.manifest())?;
    let http = http_client()?;
    let mut problems: Vec<String> = Vec::new();

    println!("devnet {}", layout.dir.canonicalize().unwrap_or_else(|_| layout.dir.clone()).display());
    println!("chains:");
    let mut providers = Vec::new();
    for chain in &manifest.chains {
        let running = alive(chain.pid, "anvil");
        let head = match http_provider(&chain.chain.rpc) {
            Ok(provider) => {
                let answer = tokio::time::timeout(PROBE_TIMEOUT, async {
                    let id = provider.get_chain_id().await?;
                    let block = provider.get_block_number().await?;
                    Ok::<_, eyre::Report>((id, block))
                })
                .await;
                providers.push((chain.chain.name.clone(), provider));
                match answer {
                    Ok(Ok((id, block))) if id == chain.chain.chain_id => Ok(block),
                    Ok(Ok((id, _))) => Err(format!("answers with chain id {id}")),
                    Ok(Err(e)) => Err(format!("unreachable ({e})")),
                    Err(_) => Err("no answer".to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        let process =
            if running { format!("pid {} running", chain.pid) } else { format!("pid {} NOT RUNNING", chain.pid) };
        match &head {
            Ok(block) => println!(
                "  {:<9} chain id {:<3} {}  {process}  block {block}",
                chain.chain.name, chain.chain.chain_id, chain.chain.rpc
            ),
            Err(e) => println!(
                "  {:<9} chain id {:<3} {}  {process}  {e}",
                chain.chain.name, chain.chain.chain_id, chain.chain.rpc
            ),
        }
        if !running {
            problems.push(format!("anvil {} is not running", chain.chain.name));
        }
        if let Err(e) = head {
            problems.push(format!("{} RPC {}: {e}", chain.chain.name, chain.chain.rpc));
        }
    }

    println!("agents:");
    let agents = manifest.validators.iter().chain(&manifest.fallback_validators);
    for agent in agents.chain(std::iter::once(&manifest.relayer)).chain(&manifest.watchtower) {
        let running = alive(agent.pid, "zerobridge");
        let health = match http.get(format!("{}/v1/health", agent.url)).send().await {
            Ok(response) => {
                let code = response.status();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                let said = body.get("status").and_then(|s| s.as_str()).unwrap_or("?").to_string();
                // A halted validator answers 200 (liveness) but needs an operator.
                if code.is_success() && said != "halted" {
                    Ok(said)
                } else {
                    Err(format!("{said} (HTTP {})", code.as_u16()))
                }
            }
            Err(_) => Err("unreachable".to_string()),
        };
        let process =
            if running { format!("pid {} running", agent.pid) } else { format!("pid {} NOT RUNNING", agent.pid) };
        let shown = match &health {
            Ok(s) => format!("health {s}"),
            Err(e) => format!("health {e}"),
        };
        println!("  {:<12} {}  {process}  {shown}", agent.name, agent.url);
        if !running {
            problems.push(format!("{} is not running (log: {})", agent.name, agent.log.display()));
        }
        if let Err(e) = health {
            problems.push(format!("{} health: {e} (log: {})", agent.name, agent.log.display()));
        }
    }
    if let Some(tower) = &manifest.watchtower {
        // Not ready is shown, not a problem: it catches up after a start and retries failed polls.
        println!("  {:<12} {}", "", watchtower::readiness(&http, &tower.url).await);
        match watchtower::kpis(&http, &tower.url).await {
            Ok(line) => println!("  {:<12} {line}", ""),
            Err(e) => problems.push(format!("watchtower KPIs: {e} (log: {})", tower.log.display())),
        }
    }

    println!("routes:");
    let network = manifest.network();
    for route in &manifest.routes {
        for (from, to) in [(&route.home, &route.remote), (&route.remote, &route.home)] {
            let leg = match network.leg(from, to, &route.symbol) {
                Ok(leg) => leg,
                Err(e) => {
                    problems.push(format!("route {}: {e}", route.symbol));
                    continue;
                }
            };
            let provider = |name: &str| providers.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone());
            let read = |chain: &ChainInfo| {
                let provider = provider(&chain.name);
                let bridge = chain.bridge;
                let lane = leg.lane;
                async move {
                    let provider = provider.ok_or_else(|| eyre!("no provider"))?;
                    let lane =
                        tokio::time::timeout(PROBE_TIMEOUT, ZeroBridge::new(bridge, provider).getLane(lane).call())
                            .await
                            .map_err(|_| eyre!("no answer"))??;
                    Ok::<u64, eyre::Report>(lane.sequence)
                }
            };
            let sent = read(&leg.source).await;
            let delivered = read(&leg.destination).await;
            match (sent, delivered) {
                (Ok(sent), Ok(delivered)) => {
                    let pending = sent.saturating_sub(delivered);
                    println!(
                        "  {} {} -> {}  lane {}  sent {sent}  delivered {delivered}{}",
                        route.symbol,
                        from,
                        to,
                        leg.lane,
                        if pending > 0 { format!("  ({pending} in flight)") } else { String::new() }
                    );
                }
                (sent, delivered) => {
                    let show = |r: &Result<u64>| match r {
                        Ok(n) => n.to_string(),
                        Err(e) => format!("? ({e})"),
                    };
                    println!(
                        "  {} {} -> {}  lane {}  sent {}  delivered {}",
                        route.symbol,
                        from,
                        to,
                        leg.lane,
                        show(&sent),
                        show(&delivered)
                    );
                    problems.push(format!("route {} {from} -> {to}: cannot read the lane", route.symbol));
                }
            }
        }
        for chain in &manifest.chains {
            let Some((_, provider)) = providers.iter().find(|(n, _)| *n == chain.chain.name) else {
                continue;
            };
            match tokio::time::timeout(PROBE_TIMEOUT, route_state(provider.clone(), chain.chain.bridge, route.route_id))
                .await
            {
                Ok(Ok(state)) => println!("  {} on {}: {state}", route.symbol, chain.chain.name),
                _ => problems.push(format!("route {} on {}: cannot read its state", route.symbol, chain.chain.name)),
            }
        }
    }

    if problems.is_empty() {
        println!("all up");
        return Ok(());
    }
    println!("problems:");
    for problem in &problems {
        println!("  {problem}");
    }
    bail!(
        "the devnet is degraded ({} problem{} above): look at the logs in {}, or start over with \
         `zerobridge devnet down && zerobridge devnet up`",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        layout.logs().display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_from_base_are_consecutive() {
        let ports = Ports::from_base(20_000).expect("in range");
        assert_eq!(ports.home, 20_000);
        assert_eq!(ports.remote, 20_001);
        assert_eq!(ports.validators, [20_002, 20_003, 20_004, 20_005]);
        assert_eq!(ports.relayer, 20_006);
        assert_eq!(ports.fallback, [20_007, 20_008]);
        assert_eq!(ports.watchtower, 20_009);
        assert!(Ports::from_base(80).is_err());
        assert!(Ports::from_base(u16::MAX - 9).is_ok());
        assert!(Ports::from_base(u16::MAX - 8).is_err());
        let mut taken: Vec<u16> = ports.labelled().into_iter().map(|(port, _)| port).collect();
        taken.sort_unstable();
        taken.dedup();
        assert_eq!(taken, (20_000..20_010).collect::<Vec<_>>());
    }

    #[test]
    fn validator_keys_are_deterministic_and_distinct() {
        assert_eq!(validator_key(0), validator_key(0));
        assert_ne!(validator_key(0), validator_key(1));
    }

    #[test]
    fn a_taken_port_is_named_with_the_fix() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut ports = Ports::from_base(20_000).expect("in range");
        ports.relayer = port;
        let err = ports.check_free().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("port {port} (for relayer)")), "{err}");
        assert!(err.contains("zerobridge devnet down"), "{err}");

        let mut ports = Ports::from_base(20_000).expect("in range");
        ports.watchtower = port;
        let err = ports.check_free().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("port {port} (for watchtower)")), "{err}");
    }

    #[test]
    fn this_process_is_alive_and_a_dead_pid_is_not() {
        let me = std::process::id();
        let exe = std::env::current_exe().expect("exe");
        let name = exe.file_name().expect("name").to_string_lossy().into_owned();
        assert!(alive(me, &name));
        assert!(!alive(me, "certainly-not-this-program"));
        assert!(!alive(0, &name));
        assert!(!alive(u32::MAX, &name));
    }
}
