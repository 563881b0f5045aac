//! `zerobridge devnet up`: the chains, the keys, the deployment, the agents' configs and the
//! agents, started in that order, and the manifest describing them.

use std::fs::OpenOptions;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, bail, eyre};
use zb_chain::{ChainConfig, Finality};

use super::configs::{LaneToml, RelayerKeyToml, RelayerToml, ValidatorToml, validator_agent, write_toml};
use super::layout::foundry_bin;
use super::probe::{http_client, http_provider, rpc_call, wait_blocks, wait_chain, wait_healthy};
use super::process::{Launch, ProcessRecord, agent_command, alive, recorded, show_tail, write_json};
use super::{
    BLOCK_TIME, ChainSpec, DEFAULT_DIR, FALLBACK_VALIDATORS, FINALITY_DEPTH, HOME, KEYSTORE_PASSWORD, Layout, Ports,
    REMOTE, THRESHOLD, VALIDATORS, fallback_validator_key, repo_root, validator_key, watchtower,
};
use crate::deploy::{DeployRequest, DeployedSide, Liveness, deploy, dev_keys};
use crate::network::{
    ChainInfo, DEVNET_DIR_ENV, DevnetManifest, ManifestAccount, ManifestAgent, ManifestChain, ManifestLane, RouteInfo,
};

/// How to start a devnet.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    pub ports: Ports,
    /// The repository (see [`repo_root`]).
    pub repo: Option<PathBuf>,
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
    // The API reads the manifest, so it starts once the manifest is written.
    let mut manifest = manifest;
    match start_api(&mut launch, &layout, &root, &exe, options.ports.api).await {
        Ok(api) => manifest.api = Some(api),
        Err(e) => {
            drop(launch);
            return Err(e.wrap_err(format!("devnet up failed; logs are in {}", layout.logs().display())));
        }
    }
    write_json(&layout.manifest(), &manifest)?;
    launch.release();
    print_ready(&manifest, &layout, &options.dir);
    Ok(())
}

/// Writes configs/api.toml (index in data/api, the web app from web/dist) and starts `zerobridge api`.
async fn start_api(launch: &mut Launch, layout: &Layout, root: &Path, exe: &Path, port: u16) -> Result<ManifestAgent> {
    let dir = layout.dir.canonicalize().wrap_err_with(|| format!("resolving {}", layout.dir.display()))?;
    let config_path = layout.configs().join("api.toml");
    let toml_string = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
    let config = format!(
        "listen = \"127.0.0.1:{port}\"\ndatabase = {}\nstatic_dir = {}\npoll_ms = 500\n",
        toml_string(&dir.join("data/api/index.sqlite")),
        toml_string(&root.join("web/dist")),
    );
    std::fs::write(&config_path, config).wrap_err_with(|| format!("writing {}", config_path.display()))?;
    let mut agent = ManifestAgent {
        name: "api".into(),
        url: format!("http://127.0.0.1:{port}"),
        address: alloy::primitives::Address::ZERO,
        pid: 0,
        config: config_path,
        log: layout.logs().join("api.log"),
    };
    let mut command = agent_command(exe, &["api"], &agent.config);
    // No network file: the API reads this devnet's manifest.
    command.env_remove("ZB_API_CONFIG").env(DEVNET_DIR_ENV, &dir);
    agent.pid = launch.spawn(&agent.name, command, &agent.log)?;
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build()?;
    wait_healthy(&http, &agent.name, &agent.url, launch, &agent.log).await?;
    println!("web app and API: {}", agent.url);
    Ok(agent)
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
        api: None,
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
