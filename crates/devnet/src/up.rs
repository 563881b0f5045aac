//! `zerobridge devnet up`: a [`Devnet`] in detached mode with the DEMO route's full cast (4
//! validators, 2 fallback validators, the relayer, the watchtower and the API), its manifest
//! written, and every process released to outlive the command.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use eyre::{Result, WrapErr, bail, eyre};
use zb_ops::deploy::{Deployment, Liveness, dev_keys};
use zb_ops::network::{DEVNET_DIR_ENV, DevnetManifest, ManifestAgent};

use crate::devnet::{Detached, Devnet, DevnetOptions, Mode};
use crate::manifest::agent;
use crate::probe::wait_blocks;
use crate::process::{ProcessRecord, alive, read_processes, recorded, write_json};
use crate::setup::{ChainSettings, chain_config, dev_address, watchtower_config};
use crate::{
    BLOCK_TIME, FALLBACK_VALIDATORS, FINALITY_DEPTH, HOME, Layout, Ports, REMOTE, THRESHOLD, VALIDATORS, repo_root,
    watchtower,
};

/// How to start a devnet.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    pub ports: Ports,
    /// The repository (see [`repo_root`]).
    pub repo: Option<PathBuf>,
}

/// What `devnet up` (and [`Devnet::start_with`]) reports as it goes.
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

    let devnet_options = DevnetOptions {
        validators: VALIDATORS,
        threshold: THRESHOLD,
        finality_depth: FINALITY_DEPTH,
        block_time: BLOCK_TIME,
        // Each validator secures the lanes its operator opted in to, and follows new opt-ins.
        lanes_from_stake: true,
        fallback_validators: FALLBACK_VALIDATORS,
        liveness: Liveness::DEVNET,
        mode: Mode::Detached(Detached { dir: dir.clone(), ports: options.ports, repo: root.clone(), zerobridge: exe }),
        ..DevnetOptions::default()
    };
    // Dropping the Devnet on an error (or an interrupt, which drops the future) kills what it
    // started.
    let started = tokio::select! {
        result = start(devnet_options, &layout, &root, options.ports, view) => result,
        _ = tokio::signal::ctrl_c() => Err(eyre!("interrupted")),
    };
    match started {
        Ok((devnet, manifest)) => {
            devnet.release();
            Ok((manifest, layout))
        }
        Err(e) => {
            let processes = read_processes(&layout).len();
            let _ = std::fs::remove_file(layout.processes());
            if processes > 0 {
                view.event(UpEvent::StoppedAttempt { processes });
            }
            Err(e.wrap_err(format!("devnet up failed; logs are in {}", layout.logs().display())))
        }
    }
}

async fn start(
    options: DevnetOptions,
    layout: &Layout,
    root: &Path,
    ports: Ports,
    view: &mut dyn UpView,
) -> Result<(Devnet, DevnetManifest)> {
    let devnet = Devnet::start_with(options, view).await?;

    // Validators first (the relayer asks them who they are), then the relayer.
    let all: Vec<usize> = (0..VALIDATORS + FALLBACK_VALIDATORS).collect();
    devnet.start_validators(&all).await?;
    let listed = devnet.cli_manifest(None)?;
    for agent in listed.validators.iter().chain(&listed.fallback_validators) {
        view.event(UpEvent::ValidatorUp { agent });
    }
    devnet.start_relayer().await?;
    view.event(UpEvent::RelayerUp { agent: &devnet.cli_manifest(None)?.relayer });

    // The watchtower reads the chains as the validators do, at depth 0.
    let settings = ChainSettings { finality_depth: FINALITY_DEPTH, poll_interval_ms: 500, websocket: true };
    let deployed = devnet.manifest();
    let chains = [
        chain_config(HOME, ports.home, &deployed.home, &settings),
        chain_config(REMOTE, ports.remote, &deployed.remote, &settings),
    ];
    let config =
        watchtower_config(&layout.data_dir("watchtower"), &layout.alerts(), ports.watchtower, &chains, deployed, None);
    let mut tower = agent(
        "watchtower",
        ports.watchtower,
        dev_address(dev_keys::WATCHTOWER)?,
        layout.config("watchtower"),
        layout.log("watchtower"),
    );
    config.write(&tower.config)?;
    let command =
        watchtower::command(devnet.bin(), &tower.config, dev_keys::WATCHTOWER, crate::process::AgentLogging::DETACHED);
    tower.pid = devnet.start_other(&tower.name, command, &tower.log, &format!("{}/v1/health", tower.url)).await?;
    view.event(UpEvent::WatchtowerUp { agent: &tower });

    // Both chains produce blocks.
    for (chain, spec) in [(devnet.home(), HOME), (devnet.remote(), REMOTE)] {
        wait_blocks(&chain.reader(), spec.name).await?;
    }
    let mut manifest = devnet.cli_manifest(Some(tower))?;
    write_json(&layout.manifest(), &manifest)?;

    // The API reads the manifest, so it starts once the manifest is written.
    let api = start_api(&devnet, layout, root, ports.api).await?;
    view.event(UpEvent::ApiUp { agent: &api });
    manifest.api = Some(api);
    write_json(&layout.manifest(), &manifest)?;
    Ok((devnet, manifest))
}

/// Writes configs/api.toml (index in data/api, the web app from web/dist) and starts `zerobridge api`.
async fn start_api(devnet: &Devnet, layout: &Layout, root: &Path, port: u16) -> Result<ManifestAgent> {
    let toml_string = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
    let config = format!(
        "listen = \"127.0.0.1:{port}\"\ndatabase = {}\nstatic_dir = {}\npoll_ms = 500\n",
        toml_string(&layout.data_dir("api").join("index.sqlite")),
        toml_string(&root.join("web/dist")),
    );
    let mut api = agent("api", port, Address::ZERO, layout.config("api"), layout.log("api"));
    std::fs::write(&api.config, config).wrap_err_with(|| format!("writing {}", api.config.display()))?;
    let mut command = devnet.agent_command(&["api"], &api.config);
    // No network file: the API reads this devnet's manifest.
    command.env_remove("ZB_API_CONFIG").env(DEVNET_DIR_ENV, &layout.dir);
    api.pid = devnet.start_other(&api.name, command, &api.log, &format!("{}/v1/health", api.url)).await?;
    Ok(api)
}
