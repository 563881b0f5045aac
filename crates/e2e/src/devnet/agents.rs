//! The agents: their configs, starting and killing their processes, and their logs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, bail};
use serde_json::{Value, json};
use tokio::time::Instant;
use zb_store::Store;

use super::{AgentId, Devnet, READY_TIMEOUT, SideManifest, lock};
use crate::anvil::Anvil;
use crate::config::{RelayerToml, ValidatorToml};
use crate::logs;
use crate::process::{Agent, mark, tail};
use crate::{KEYSTORE_PASSWORD, dev_keys};

fn agent_log_filter() -> String {
    std::env::var("ZB_E2E_AGENT_LOG").unwrap_or_else(|_| "info".to_string())
}

impl Devnet {
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

    pub(super) fn agent_command(&self, args: &[&str], config: &Path) -> Command {
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
}
