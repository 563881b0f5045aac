//! The watchtower as a process beside a [`Devnet`]: its own config (its own endpoints, GUARDIAN
//! key, store and alerts file), started, killed (SIGKILL) and restarted by tests, which read its
//! alerts (JSON lines) and its KPIs.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use eyre::{Result, bail};
use serde_json::Value;
use zb_devnet::process::{AgentLogging, Serving, wait_serving};
use zb_devnet::setup::{ChainSettings, chain_config, watchtower_config};
use zb_devnet::{HOME, REMOTE};

use crate::dev_keys;
use crate::devnet::Devnet;
use crate::paths::{free_port, zerobridge_bin};
use crate::process::{Agent, mark, tail};

pub use zb_devnet::configs::{WatchtowerAlertsToml, WatchtowerKeyToml, WatchtowerToml};

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
        // No websocket, a 200 ms poll: it sees each block soon after it is mined.
        let settings = ChainSettings { finality_depth: 0, poll_interval_ms: 200, websocket: false };
        let chains = [
            chain_config(HOME, devnet.home().port(), &manifest.home, &settings),
            chain_config(REMOTE, devnet.remote().port(), &manifest.remote, &settings),
        ];
        let port = free_port()?;
        let config =
            watchtower_config(&root.join("data"), &root.join("alerts.jsonl"), port, &chains, manifest, Some(200));
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
        self.config.lock().unwrap_or_else(PoisonError::into_inner).write(&self.config_path)?;
        mark(&self.log, &serde_json::json!({"harness": "start", "agent": "watchtower"}).to_string())?;
        let command =
            zb_devnet::watchtower::command(&self.bin, &self.config_path, dev_keys::WATCHTOWER, AgentLogging::OWNED);
        let agent = Agent::spawn("watchtower", command, &self.log)?;
        *self.process.lock().unwrap_or_else(PoisonError::into_inner) = Some(agent);
        let health = format!("{}/v1/health", self.url());
        wait_serving(&self.http, "the watchtower", &health, Serving::AnyAnswer, &self.process, &self.log).await
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
