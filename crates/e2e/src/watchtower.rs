//! The watchtower as a process beside a [`Devnet`]: its own config (its own endpoints, GUARDIAN
//! key, store and alerts file), started, killed (SIGKILL) and restarted by tests, which read its
//! alerts (JSON lines) and its KPIs.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use eyre::{Result, WrapErr, bail};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;
use zb_chain::{ChainConfig, Finality};

use crate::dev_keys;
use crate::devnet::{Chain, Devnet};
use crate::paths::{free_port, zerobridge_bin};
use crate::process::{Agent, mark, tail};

/// `zerobridge watchtower --config` (crates/watchtower/src/config.rs).
#[derive(Debug, Clone, Serialize)]
pub struct WatchtowerToml {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub poll_interval_ms: u64,
    pub key: WatchtowerKeyToml,
    pub alerts: WatchtowerAlertsToml,
    pub chains: Vec<ChainConfig>,
    pub routes: Vec<zb_config::watchtower::WatchedRoute>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchtowerKeyToml {
    pub private_key_env: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchtowerAlertsToml {
    pub file: PathBuf,
}

const KEY_ENV: &str = "ZB_WATCHTOWER_KEY";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Watchtower {
    bin: PathBuf,
    port: u16,
    config_path: PathBuf,
    log: PathBuf,
    alerts: PathBuf,
    config: Mutex<WatchtowerToml>,
    process: Mutex<Option<Agent>>,
    http: reqwest::Client,
}

impl Watchtower {
    /// A watchtower for the devnet's route, reading both chains at depth 0 through the anvils
    /// directly (change `chains[..].rpc` with [`Watchtower::configure`] to put a proxy between).
    pub fn new(devnet: &Devnet) -> Result<Watchtower> {
        let root = devnet.dir().join("watchtower");
        std::fs::create_dir_all(&root)?;
        let manifest = devnet.manifest();
        let chain = |anvil: &crate::Anvil, side: &crate::SideManifest, name: &str| ChainConfig {
            name: name.into(),
            chain_id: side.chain_id,
            rpc: vec![anvil.http()],
            ws: None,
            bridge: side.bridge,
            finality: Finality::Depth(0),
            rpc_quorum: 1,
            poll_interval_ms: 200,
            start_block: side.start_block,
            stake_manager: Some(side.stake_manager),
        };
        let port = free_port()?;
        let config = WatchtowerToml {
            data_dir: root.join("data"),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            poll_interval_ms: 200,
            key: WatchtowerKeyToml { private_key_env: KEY_ENV.into() },
            alerts: WatchtowerAlertsToml { file: root.join("alerts.jsonl") },
            chains: vec![
                chain(devnet.home(), &manifest.home, Chain::Home.name()),
                chain(devnet.remote(), &manifest.remote, Chain::Remote.name()),
            ],
            routes: vec![zb_config::watchtower::WatchedRoute {
                route_id: manifest.route.route_id,
                home: Chain::Home.name().into(),
                remote: Chain::Remote.name().into(),
            }],
        };
        Ok(Watchtower {
            bin: zerobridge_bin()?,
            port,
            config_path: root.join("watchtower.toml"),
            log: root.join("watchtower.log"),
            alerts: root.join("alerts.jsonl"),
            config: Mutex::new(config),
            process: Mutex::new(None),
            http: reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?,
        })
    }

    /// Changes the config; takes effect at the next start.
    pub fn configure(&self, change: impl FnOnce(&mut WatchtowerToml)) {
        change(&mut self.config.lock().unwrap_or_else(PoisonError::into_inner));
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Writes the config (checked by the watchtower's own loader), starts the process and waits
    /// until /v1/health answers.
    pub async fn start(&self) -> Result<()> {
        let config = self.config.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let text = toml::to_string(&config).wrap_err("serializing the watchtower config")?;
        std::fs::write(&self.config_path, &text)?;
        zb_config::watchtower::WatchtowerConfig::load(&self.config_path)
            .wrap_err_with(|| format!("the watchtower rejects the config the harness wrote:\n{text}"))?;
        mark(&self.log, &serde_json::json!({"harness": "start", "agent": "watchtower"}).to_string())?;
        let mut command = Command::new(&self.bin);
        command
            .args(["watchtower", "--config"])
            .arg(&self.config_path)
            .env(KEY_ENV, dev_keys::WATCHTOWER)
            .env("ZB_LOG_FORMAT", "json")
            .env("RUST_LOG", std::env::var("ZB_E2E_AGENT_LOG").unwrap_or_else(|_| "info".into()))
            .env("NO_COLOR", "1");
        let agent = Agent::spawn("watchtower", command, &self.log)?;
        *self.process.lock().unwrap_or_else(PoisonError::into_inner) = Some(agent);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.http.get(format!("{}/v1/health", self.url())).send().await.is_ok() {
                return Ok(());
            }
            if let Some(agent) = self.process.lock().unwrap_or_else(PoisonError::into_inner).as_mut()
                && let Some(status) = agent.exited()
            {
                bail!("the watchtower exited ({status}); its log:\n{}", tail(&self.log, 30));
            }
            if Instant::now() >= deadline {
                bail!("the watchtower did not serve within {READY_TIMEOUT:?}; its log:\n{}", tail(&self.log, 30));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL, as `kill -9`.
    pub fn kill(&self) -> Result<()> {
        let Some(mut agent) = self.process.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            bail!("the watchtower is not running")
        };
        agent.kill();
        mark(&self.log, &serde_json::json!({"harness": "killed", "agent": "watchtower"}).to_string())
    }

    /// Every alert written so far, in order.
    pub fn alerts(&self) -> Result<Vec<Value>> {
        let text = match std::fs::read_to_string(&self.alerts) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| Ok(serde_json::from_str(l)?)).collect()
    }

    /// GET /v1/kpis.
    pub async fn kpis(&self) -> Result<Value> {
        Ok(self.http.get(format!("{}/v1/kpis", self.url())).send().await?.json().await?)
    }

    /// Whether /v1/ready answers 200.
    pub async fn ready(&self) -> bool {
        matches!(self.http.get(format!("{}/v1/ready", self.url())).send().await, Ok(r) if r.status().is_success())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

impl Drop for Watchtower {
    fn drop(&mut self) {
        if let Some(mut agent) = self.process.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            agent.kill();
        }
    }
}
