//! `zerobridge devnet up | down | status`: the orchestration is zb-devnet's; this parses the
//! arguments and prints what it reports.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eyre::{Result, bail};
use zb_devnet::process::ProcessRecord;
use zb_devnet::{
    DEFAULT_DIR, DownOutcome, DownView, HOME, Layout, Ports, REMOTE, StatusReport, UpEvent, UpOptions, UpView,
};
use zb_ops::network::{DEVNET_DIR_ENV, DevnetManifest};

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
            let (manifest, layout) =
                zb_devnet::up(&UpOptions { dir: args.dir.clone(), ports, repo }, &mut Print).await?;
            print_ready(&manifest, &layout, &args.dir);
            Ok(())
        }
        DevnetCommand::Down => {
            let outcome = zb_devnet::down(&args.dir, &mut Print).await?;
            let dir = args.dir.display();
            match outcome {
                DownOutcome::NothingRunning => println!("no devnet is running in {dir}"),
                DownOutcome::StaleManifestRemoved => {
                    println!("no devnet process is running in {dir}; removed its stale manifest")
                }
                DownOutcome::Stopped { processes } => println!(
                    "devnet stopped ({processes} processes); logs kept in {}",
                    Layout::new(&args.dir).logs().display()
                ),
            }
            Ok(())
        }
        DevnetCommand::Status => print_status(&zb_devnet::status(&args.dir).await?),
    }
}

/// Prints each step as it happens.
struct Print;

impl UpView for Print {
    fn event(&mut self, event: UpEvent<'_>) {
        match event {
            UpEvent::StaleManifest => println!("removing the manifest of an earlier devnet that is no longer running"),
            UpEvent::ChainUp { name, url, chain_id } => println!("{name}: anvil on {url} (chain id {chain_id})"),
            UpEvent::KeysImported { validators, fallback_validators, dir, password } => println!(
                "keys: {validators} validators, {fallback_validators} fallback validators and the relayer in {} \
                 (password \"{password}\")",
                dir.display()
            ),
            UpEvent::Deploying => println!("deploying zerobridge to both chains (forge script Deploy.s.sol)..."),
            UpEvent::Deployed { deployed } => println!(
                "deployed: bridges {} ({}) and {} ({}); validator sets from stake; route DEMO {} active",
                deployed.home.bridge, HOME.name, deployed.remote.bridge, REMOTE.name, deployed.route.route_id
            ),
            UpEvent::ValidatorUp { agent } => println!("{}: {} (signer {})", agent.name, agent.url, agent.address),
            UpEvent::RelayerUp { agent } => println!("relayer: {} (pays from {})", agent.url, agent.address),
            UpEvent::WatchtowerUp { agent } => println!("watchtower: {} (GUARDIAN {})", agent.url, agent.address),
            UpEvent::ApiUp { agent } => println!("web app and API: {}", agent.url),
            UpEvent::StoppedAttempt { processes } => println!("stopped the {processes} processes this attempt started"),
        }
    }
}

impl DownView for Print {
    fn unreadable_manifest(&mut self, error: &eyre::Report) {
        println!("warning: {error}");
    }
    fn stopping(&mut self, process: &ProcessRecord) {
        println!("stopping {} (pid {})", process.name, process.pid);
    }
    fn killing(&mut self, process: &ProcessRecord, grace: Duration) {
        println!("{} (pid {}) did not stop within {grace:?}: killing it", process.name, process.pid);
    }
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
        zb_ops::deploy::DEVNET_STAKE_WEI / 1_000_000_000_000_000_000,
        manifest.threshold,
        manifest.validators.len()
    );
    if let Some(tower) = &manifest.watchtower {
        println!("  watchtower {} (GUARDIAN on both chains); alerts in {}", tower.url, layout.alerts().display());
    }
    if let Some(api) = &manifest.api {
        println!("  web app and API: {} (docs/api.md)", api.url);
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

fn process(pid: u32, running: bool) -> String {
    if running { format!("pid {pid} running") } else { format!("pid {pid} NOT RUNNING") }
}

/// `devnet status`: every part of the devnet, then what is down; fails if anything is.
fn print_status(report: &StatusReport) -> Result<()> {
    println!("devnet {}", report.dir.display());
    println!("chains:");
    for chain in &report.chains {
        let head = match &chain.head {
            Ok(block) => format!("block {block}"),
            Err(e) => e.clone(),
        };
        println!(
            "  {:<9} chain id {:<3} {}  {}  {head}",
            chain.name,
            chain.chain_id,
            chain.rpc,
            process(chain.pid, chain.running)
        );
    }
    println!("agents:");
    for agent in &report.agents {
        let health = match &agent.health {
            Ok(s) | Err(s) => format!("health {s}"),
        };
        println!("  {:<12} {}  {}  {health}", agent.name, agent.url, process(agent.pid, agent.running));
    }
    if let Some((readiness, kpis)) = &report.watchtower {
        println!("  {:<12} {readiness}", "");
        if let Some(line) = kpis {
            println!("  {:<12} {line}", "");
        }
    }
    println!("routes:");
    for lane in &report.lanes {
        let line = format!("  {} {} -> {}  lane {}", lane.symbol, lane.from, lane.to, lane.lane);
        match (&lane.sent, &lane.delivered) {
            (Ok(sent), Ok(delivered)) => {
                let pending = sent.saturating_sub(*delivered);
                let in_flight = if pending > 0 { format!("  ({pending} in flight)") } else { String::new() };
                println!("{line}  sent {sent}  delivered {delivered}{in_flight}");
            }
            (sent, delivered) => {
                let show = |r: &std::result::Result<u64, String>| match r {
                    Ok(n) => n.to_string(),
                    Err(e) => format!("? ({e})"),
                };
                println!("{line}  sent {}  delivered {}", show(sent), show(delivered));
            }
        }
    }
    for state in &report.route_states {
        println!("  {} on {}: {}", state.symbol, state.chain, state.state);
    }
    if report.problems.is_empty() {
        println!("all up");
        return Ok(());
    }
    println!("problems:");
    for problem in &report.problems {
        println!("  {problem}");
    }
    bail!(
        "the devnet is degraded ({} problem{} above): look at the logs in {}, or start over with \
         `zerobridge devnet down && zerobridge devnet up`",
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" },
        report.logs.display()
    )
}
