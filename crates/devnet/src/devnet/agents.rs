//! The agents: their configs, starting, killing and restarting their processes, their logs, and
//! the manifest that describes them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use eyre::{Result, WrapErr, bail};
use serde_json::{Value, json};
use zb_ops::deploy::dev_keys;
use zb_ops::network::{DevnetManifest, ManifestAgent};
use zb_test_utils::process::{Agent, mark};

use super::{AgentId, AgentSlot, Devnet, lock};
use crate::configs::{RelayerToml, ValidatorToml};
use crate::manifest::{ManifestParts, RunningChain};
use crate::process::{AgentLogging, Serving, agent_command, wait_serving};
use crate::{HOME, REMOTE};

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
        change(&mut lock(&self.relayer.config));
    }

    // ---------------------------------------------------------------- processes

    fn logging(&self) -> AgentLogging {
        if self.detached() { AgentLogging::DETACHED } else { AgentLogging::OWNED }
    }

    /// `zerobridge <args> --config <config>` as the devnet runs its agents.
    pub fn agent_command(&self, args: &[&str], config: &Path) -> Command {
        agent_command(&self.bin, args, config, self.logging())
    }

    /// Starts `command` with its output in `log`: appended to and killed on drop (owned), or in
    /// its own process group, recorded in processes.json (detached).
    fn spawn(&self, name: &str, command: Command, log: &Path) -> Result<Agent> {
        if !self.detached() {
            return Agent::spawn(name, command, log);
        }
        let program =
            Path::new(command.get_program()).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let agent = Agent::spawn_detached(name, command, log)?;
        crate::process::record(&self.layout, &self.records, name, agent.pid(), &program)?;
        Ok(agent)
    }

    fn spawn_slot<C: serde::Serialize>(
        &self,
        slot: &AgentSlot<C>,
        args: &[&str],
        write: impl FnOnce(&C, &Path) -> Result<()>,
        env: Option<(&str, &str)>,
    ) -> Result<()> {
        let mut process = lock(&slot.process);
        if let Some(agent) = process.as_mut()
            && agent.exited().is_none()
        {
            bail!("{} is already running (pid {})", slot.name, agent.pid());
        }
        write(&lock(&slot.config), &slot.config_path)?;
        let run = slot.runs.fetch_add(1, Ordering::SeqCst) + 1;
        if !self.detached() {
            mark(&slot.log, &json!({"harness": "start", "agent": slot.name, "run": run}).to_string())?;
        }
        let mut command = self.agent_command(args, &slot.config_path);
        if let Some((key, value)) = env {
            command.env(key, value);
        }
        *process = Some(self.spawn(&slot.name, command, &slot.log)?);
        Ok(())
    }

    /// Waits until `url` answers (owned mode: any answer; detached: a success), failing early
    /// if the process exits; a failure keeps the devnet's directory.
    async fn wait_serving(&self, what: &str, url: String, process: &Mutex<Option<Agent>>, log: &Path) -> Result<()> {
        let serving = if self.detached() { Serving::Healthy } else { Serving::AnyAnswer };
        let waited = wait_serving(&self.http, what, &url, serving, process, log).await;
        if waited.is_err() {
            self.mark_failed();
        }
        waited
    }

    /// Starts validator `i` (`zerobridge validator run`) and waits until its API answers.
    pub async fn start_validator(&self, i: usize) -> Result<()> {
        self.start_validators(&[i]).await
    }

    /// Starts the given validators together, then waits until each API answers.
    pub async fn start_validators(&self, which: &[usize]) -> Result<()> {
        for &i in which {
            self.spawn_slot(self.slot(i)?, &["validator", "run"], ValidatorToml::write, None)?;
        }
        for &i in which {
            let slot = self.slot(i)?;
            let url = format!("{}/v1/health", slot.url());
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
        mark(&slot.log, &json!({"harness": "killed", "agent": slot.name}).to_string())
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
        // Owned mode passes the raw dev key; detached mode's config names a keystore.
        let env = (!self.detached()).then_some(("ZB_RELAYER_KEY", dev_keys::RELAYER));
        self.spawn_slot(&self.relayer, &["relayer", "run"], RelayerToml::write, env)?;
        let url = format!("{}/v1/health", self.relayer_url());
        self.wait_serving("the relayer", url, &self.relayer.process, &self.relayer.log).await
    }

    /// SIGKILLs the relayer and reaps it.
    pub fn kill_relayer(&self) -> Result<()> {
        let Some(mut agent) = lock(&self.relayer.process).take() else { bail!("the relayer is not running") };
        agent.kill();
        mark(&self.relayer.log, &json!({"harness": "killed", "agent": "relayer"}).to_string())
    }

    /// Runs `zerobridge validator <args> --config <validator i's config>` to completion.
    pub async fn validator_cli(&self, i: usize, args: &[&str]) -> Result<std::process::Output> {
        let slot = self.slot(i)?;
        lock(&slot.config).write(&slot.config_path)?;
        let mut command = self.agent_command(&[&["validator"], args].concat(), &slot.config_path);
        tokio::task::spawn_blocking(move || command.output()).await?.wrap_err("running zerobridge validator")
    }

    /// Starts another process of the devnet (the watchtower, the API) and waits until `health`
    /// answers with a success; it lives as long as the devnet (or, released, longer).
    pub async fn start_other(&self, name: &str, command: Command, log: &Path, health: &str) -> Result<u32> {
        let agent = self.spawn(name, command, log)?;
        let pid = agent.pid();
        let process = Mutex::new(Some(agent));
        let result = wait_serving(&self.http, name, health, Serving::Healthy, &process, log).await;
        if let Some(agent) = lock(&process).take() {
            lock(&self.others).push(agent);
        }
        result.map(|()| pid)
    }

    /// Detached mode: lets every process outlive this value (and this process).
    pub fn release(self) {
        let mut this = self;
        this.home.release();
        this.remote.release();
        let slots = this.validators.iter().map(|s| &s.process).chain([&this.relayer.process]);
        for process in slots {
            if let Some(mut agent) = lock(process).take() {
                agent.release();
            }
        }
        for mut agent in lock(&this.others).drain(..) {
            agent.release();
        }
    }

    // ---------------------------------------------------------------- manifest

    fn manifest_agent<C>(&self, slot: &AgentSlot<C>) -> ManifestAgent {
        ManifestAgent {
            name: slot.name.clone(),
            url: slot.url(),
            address: slot.address,
            pid: lock(&slot.process).as_ref().map_or(0, Agent::pid),
            config: slot.config_path.clone(),
            log: slot.log.clone(),
        }
    }

    /// The devnet's manifest (zb_ops::network::DevnetManifest): chains, route, agents, accounts.
    /// `watchtower`: the watchtower's entry, if one runs.
    pub fn cli_manifest(&self, watchtower: Option<ManifestAgent>) -> Result<DevnetManifest> {
        let running = |chain: &zb_test_utils::Anvil, spec: crate::ChainSpec| RunningChain {
            port: chain.port(),
            pid: chain.pid(),
            log: self.layout.log(&format!("anvil-{}", spec.name)),
        };
        let (primaries, fallbacks) = self.validators.split_at(self.options.validators);
        crate::manifest::build(ManifestParts {
            deployed: &self.manifest,
            home: running(&self.home, HOME),
            remote: running(&self.remote, REMOTE),
            finality_depth: self.options.finality_depth,
            threshold: self.options.threshold,
            liveness: self.options.liveness,
            validators: primaries.iter().map(|s| self.manifest_agent(s)).collect(),
            fallback_validators: fallbacks.iter().map(|s| self.manifest_agent(s)).collect(),
            relayer: self.manifest_agent(&self.relayer),
            watchtower,
            keys_dir: self.layout.keys(),
            password_file: self.layout.password_file(),
            validator_token_file: self.client_token_file.clone(),
        })
    }

    /// Writes `<dir>/devnet/manifest.json` as `zerobridge devnet up` writes it, so the CLI's
    /// commands can run against this devnet (from `dir`, or with ZB_DEVNET_DIR).
    pub fn write_cli_manifest(&self, dir: &Path) -> Result<PathBuf> {
        let manifest = self.cli_manifest(None)?;
        std::fs::create_dir_all(dir.join("devnet"))?;
        let path = dir.join("devnet/manifest.json");
        crate::process::write_json(&path, &manifest)?;
        Ok(path)
    }

    /// The process id of a running agent (for resource measurements).
    pub fn agent_pid(&self, agent: AgentId) -> Option<u32> {
        match agent {
            AgentId::Validator(i) => self.slot(i).ok().and_then(|s| lock(&s.process).as_ref().map(Agent::pid)),
            AgentId::Relayer => lock(&self.relayer.process).as_ref().map(Agent::pid),
        }
    }

    /// The relayer's /v1/health answer.
    pub async fn relayer_health(&self) -> Result<Value> {
        Ok(self.http.get(format!("{}/v1/health", self.relayer_url())).send().await?.json().await?)
    }

    /// An agent's log file (all its runs, each start marked in owned mode).
    pub fn log_path(&self, agent: AgentId) -> Result<PathBuf> {
        Ok(match agent {
            AgentId::Validator(i) => self.slot(i)?.log.clone(),
            AgentId::Relayer => self.relayer.log.clone(),
        })
    }
}
