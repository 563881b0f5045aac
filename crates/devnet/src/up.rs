//! `zerobridge devnet up`: the chains, the keys, the deployment, the agents' configs and the
//! agents, started detached in that order, and the manifest describing them.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use eyre::{Result, WrapErr, bail, eyre};
use zb_ops::deploy::{Deployment, Liveness, dev_keys};
use zb_ops::network::{DEVNET_DIR_ENV, DevnetManifest, ManifestAgent};
use zb_test_utils::Anvil;

use crate::configs::RelayerKeyToml;
use crate::layout::{fallback_name, foundry_bin, validator_name};
use crate::manifest::{ManifestParts, RunningChain, agent};
use crate::probe::{http_client, wait_blocks, wait_healthy};
use crate::process::{AgentLogging, Launch, ProcessRecord, agent_command, alive, recorded, write_json};
use crate::setup::{
    ChainSettings, DeploySettings, chain_config, dev_address, relayer_config, validator_config, validator_lanes,
    watchtower_config, without_stake,
};
use crate::{
    BLOCK_TIME, FALLBACK_VALIDATORS, FINALITY_DEPTH, HOME, KEYSTORE_PASSWORD, Layout, Ports, REMOTE, RPC_TIMEOUT,
    THRESHOLD, VALIDATORS, fallback_validator_key, keys, repo_root, validator_key, watchtower,
};

/// How to start a devnet.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    pub ports: Ports,
    /// The repository (see [`repo_root`]).
    pub repo: Option<PathBuf>,
}

/// What `devnet up` reports as it goes.
#[derive(Debug, Clone)]
pub enum UpEvent<'a> {
    /// The directory held the manifest of a devnet that no longer runs.
    StaleManifest,
    ChainUp {
        name: &'a str,
        url: &'a str,
        chain_id: u64,
    },
    KeysImported {
        validators: usize,
        fallback_validators: usize,
        dir: &'a Path,
        password: &'a str,
    },
    Deploying,
    Deployed {
        deployed: &'a Deployment,
    },
    /// A validator or fallback validator answers healthy.
    ValidatorUp {
        agent: &'a ManifestAgent,
    },
    RelayerUp {
        agent: &'a ManifestAgent,
    },
    WatchtowerUp {
        agent: &'a ManifestAgent,
    },
    ApiUp {
        agent: &'a ManifestAgent,
    },
    /// `up` failed or was interrupted: the processes it had started were stopped.
    StoppedAttempt {
        processes: usize,
    },
}

/// Shows [`UpEvent`]s (zb-cli prints them).
pub trait UpView {
    fn event(&mut self, event: UpEvent<'_>);
}

/// Starts a devnet in `options.dir` (see the crate docs) and returns its manifest, also written
/// to `manifest.json`.
pub async fn up(options: &UpOptions, view: &mut dyn UpView) -> Result<(DevnetManifest, Layout)> {
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
        view.event(UpEvent::StaleManifest);
    }
    options.ports.check_free()?;

    let root = repo_root(options.repo.as_deref())?;
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
    layout.create()?;

    let mut launch = Launch::new(layout.clone());
    let mut chains = Vec::new();
    let started = tokio::select! {
        result = start(&mut launch, &mut chains, &layout, &root, &exe, options.ports, view) => result,
        _ = tokio::signal::ctrl_c() => Err(eyre!("interrupted")),
    };
    let failed = |launch: Launch, chains: Vec<Anvil>, view: &mut dyn UpView, e: eyre::Report| {
        let processes = launch.started();
        drop(launch);
        drop(chains);
        if processes > 0 {
            view.event(UpEvent::StoppedAttempt { processes });
        }
        e.wrap_err(format!("devnet up failed; logs are in {}", layout.logs().display()))
    };
    let mut manifest = match started {
        Ok(manifest) => manifest,
        Err(e) => return Err(failed(launch, chains, view, e)),
    };
    write_json(&layout.manifest(), &manifest)?;
    // The API reads the manifest, so it starts once the manifest is written.
    match start_api(&mut launch, &layout, &root, &exe, options.ports.api).await {
        Ok(api) => {
            view.event(UpEvent::ApiUp { agent: &api });
            manifest.api = Some(api);
        }
        Err(e) => return Err(failed(launch, chains, view, e)),
    }
    write_json(&layout.manifest(), &manifest)?;
    launch.release();
    for chain in chains {
        chain.release();
    }
    Ok((manifest, layout))
}

/// Writes configs/api.toml (index in data/api, the web app from web/dist) and starts `zerobridge api`.
async fn start_api(launch: &mut Launch, layout: &Layout, root: &Path, exe: &Path, port: u16) -> Result<ManifestAgent> {
    let config_path = layout.config("api");
    let toml_string = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
    let config = format!(
        "listen = \"127.0.0.1:{port}\"\ndatabase = {}\nstatic_dir = {}\npoll_ms = 500\n",
        toml_string(&layout.data_dir("api").join("index.sqlite")),
        toml_string(&root.join("web/dist")),
    );
    std::fs::write(&config_path, config).wrap_err_with(|| format!("writing {}", config_path.display()))?;
    let mut api = agent("api", port, Address::ZERO, config_path, layout.log("api"));
    let mut command = agent_command(exe, &["api"], &api.config, AgentLogging::DETACHED);
    // No network file: the API reads this devnet's manifest.
    command.env_remove("ZB_API_CONFIG").env(DEVNET_DIR_ENV, &layout.dir);
    api.pid = launch.spawn(&api.name, command, &api.log)?;
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build()?;
    wait_healthy(&http, &api.name, &api.url, launch, &api.log).await?;
    Ok(api)
}

async fn start(
    launch: &mut Launch,
    chains: &mut Vec<Anvil>,
    layout: &Layout,
    root: &Path,
    exe: &Path,
    ports: Ports,
    view: &mut dyn UpView,
) -> Result<DevnetManifest> {
    let http = http_client()?;
    let anvil = foundry_bin(root, "anvil")?;
    let forge = foundry_bin(root, "forge")?;

    // 1. Chains, automining while deploying.
    for (spec, port) in [(HOME, ports.home), (REMOTE, ports.remote)] {
        let log = layout.log(&format!("anvil-{}", spec.name));
        let chain = Anvil::start_detached(&anvil, spec.chain_id, port, &log, RPC_TIMEOUT).await?;
        launch.record(&format!("anvil {}", spec.name), chain.pid(), "anvil")?;
        view.event(UpEvent::ChainUp { name: spec.name, url: &chain.http(), chain_id: spec.chain_id });
        chains.push(chain);
    }
    let (home_rpc, remote_rpc) = (chains[0].http(), chains[1].http());

    // 2. Keys: the devnet's validators and fallback validators, anvil account 2 for the relayer.
    let password_file = keys::write_password_file(&layout.password_file())?;
    let relayer_key = dev_keys::RELAYER.parse().map_err(|e| eyre!("bad relayer key: {e}"))?;
    let all_keys = (0..VALIDATORS).map(validator_key).chain((0..FALLBACK_VALIDATORS).map(fallback_validator_key));
    let mut keystores = keys::import_keys(&layout.keys(), all_keys.chain([relayer_key]).collect()).await?;
    let relayer_keystore = keystores.pop().ok_or_else(|| eyre!("no relayer keystore"))?;
    let fallback_keystores = keystores.split_off(VALIDATORS);
    view.event(UpEvent::KeysImported {
        validators: VALIDATORS,
        fallback_validators: FALLBACK_VALIDATORS,
        dir: &layout.keys(),
        password: KEYSTORE_PASSWORD,
    });

    // 3. Contracts and the demo route.
    view.event(UpEvent::Deploying);
    let settings = DeploySettings {
        validators: VALIDATORS,
        fallback_validators: FALLBACK_VALIDATORS,
        threshold: THRESHOLD,
        liveness: Liveness::DEVNET,
    };
    let deployed = crate::setup::deploy(layout, &forge, &root.join("contracts"), (&home_rpc, &remote_rpc), settings)
        .await
        .map_err(|e| e.wrap_err(crate::process::log_end(&layout.deploy_log(), 30)))?;
    view.event(UpEvent::Deployed { deployed: &deployed });

    // 4. 1-second blocks from now on.
    for (chain, spec) in chains.iter().zip([HOME, REMOTE]) {
        chain
            .set_interval_mining(BLOCK_TIME)
            .await
            .wrap_err_with(|| format!("switching {} to interval mining", spec.name))?;
    }

    // 5. Agent configs, checked with the agents' own loaders. Each validator secures the lanes
    // its operator opted in to (stake managers, no [[lanes]]); the fallback group watches both
    // lanes and signs only what waited out the route's delay.
    let chain_settings = ChainSettings { finality_depth: FINALITY_DEPTH, poll_interval_ms: 500, websocket: true };
    let chain_configs = vec![
        chain_config(HOME, ports.home, &deployed.home, &chain_settings),
        chain_config(REMOTE, ports.remote, &deployed.remote, &chain_settings),
    ];
    let mut validators = Vec::new();
    for (i, key) in keystores.iter().enumerate() {
        let name = validator_name(i);
        let config =
            validator_config(layout, &name, &key.path, ports.validators[i], chain_configs.clone(), Vec::new(), None);
        config.write(&layout.config(&name))?;
        validators.push(agent(&name, ports.validators[i], key.address, layout.config(&name), layout.log(&name)));
    }
    let mut fallback_validators = Vec::new();
    for (j, key) in fallback_keystores.iter().enumerate() {
        let name = fallback_name(j);
        let config = validator_config(
            layout,
            &name,
            &key.path,
            ports.fallback[j],
            without_stake(&chain_configs),
            validator_lanes(&deployed),
            Some(Liveness::DEVNET.fallback_delay),
        );
        config.write(&layout.config(&name))?;
        fallback_validators.push(agent(&name, ports.fallback[j], key.address, layout.config(&name), layout.log(&name)));
    }
    let key =
        RelayerKeyToml::Keystore { keystore: relayer_keystore.path.clone(), password_file: password_file.clone() };
    let urls = |agents: &[ManifestAgent]| agents.iter().map(|a| a.url.clone()).collect::<Vec<_>>();
    let config = relayer_config(
        layout,
        ports.relayer,
        urls(&validators),
        urls(&fallback_validators),
        key,
        chain_configs.clone(),
        &deployed,
    );
    config.write(&layout.config("relayer"))?;
    let mut relayer =
        agent("relayer", ports.relayer, relayer_keystore.address, layout.config("relayer"), layout.log("relayer"));
    let config = watchtower_config(
        &layout.data_dir("watchtower"),
        &layout.alerts(),
        ports.watchtower,
        &chain_configs,
        &deployed,
        None,
    );
    config.write(&layout.config("watchtower"))?;
    let watchtower_address = dev_address(dev_keys::WATCHTOWER)?;
    let mut tower = agent(
        "watchtower",
        ports.watchtower,
        watchtower_address,
        layout.config("watchtower"),
        layout.log("watchtower"),
    );

    // 6. Agents: validators first (the relayer asks them who they are), then the relayer.
    let logging = AgentLogging::DETACHED;
    for agent in validators.iter_mut().chain(&mut fallback_validators) {
        let command = agent_command(exe, &["validator", "run"], &agent.config, logging);
        agent.pid = launch.spawn(&agent.name, command, &agent.log)?;
    }
    for agent in validators.iter().chain(&fallback_validators) {
        wait_healthy(&http, &agent.name, &agent.url, launch, &agent.log).await?;
        view.event(UpEvent::ValidatorUp { agent });
    }
    let command = agent_command(exe, &["relayer", "run"], &relayer.config, logging);
    relayer.pid = launch.spawn(&relayer.name, command, &relayer.log)?;
    wait_healthy(&http, &relayer.name, &relayer.url, launch, &relayer.log).await?;
    view.event(UpEvent::RelayerUp { agent: &relayer });
    let command = watchtower::command(exe, &tower.config, dev_keys::WATCHTOWER, logging);
    tower.pid = launch.spawn(&tower.name, command, &tower.log)?;
    wait_healthy(&http, &tower.name, &tower.url, launch, &tower.log).await?;
    view.event(UpEvent::WatchtowerUp { agent: &tower });

    // 7. Both chains produce blocks.
    for (chain, spec) in chains.iter().zip([HOME, REMOTE]) {
        wait_blocks(&chain.reader(), spec.name).await?;
    }

    let running = |chain: &Anvil, spec: crate::ChainSpec| RunningChain {
        port: chain.port(),
        pid: chain.pid(),
        log: layout.log(&format!("anvil-{}", spec.name)),
    };
    crate::manifest::build(ManifestParts {
        deployed: &deployed,
        home: running(&chains[0], HOME),
        remote: running(&chains[1], REMOTE),
        finality_depth: FINALITY_DEPTH,
        threshold: THRESHOLD,
        liveness: Liveness::DEVNET,
        validators,
        fallback_validators,
        relayer,
        watchtower: Some(tower),
        keys_dir: layout.keys(),
        password_file,
    })
}
