//! The agents' command lines (both modes), and the detached mode's bookkeeping: processes
//! recorded in `processes.json`, whether they still run, and how `devnet down` stops them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use eyre::{Result, WrapErr, bail};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use zb_ops::network::DevnetManifest;
use zb_test_utils::process::{Agent, tail};

use crate::{Layout, STOP_GRACE};

/// One background process of the devnet, as `processes.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub name: String,
    pub pid: u32,
    /// The executable's file name, checked before signalling so that a recycled pid is never hit.
    pub program: String,
}

/// The state of a recorded process.
pub fn alive(pid: u32, program: &str) -> bool {
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
    // A process that is exiting has an empty command line but has not exited yet.
    if cmdline.is_empty() {
        return true;
    }
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
async fn stop_all(records: &[ProcessRecord], view: &mut dyn DownView) -> Vec<ProcessRecord> {
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
        view.killing(r, STOP_GRACE);
        signal(r.pid, "KILL");
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && running.iter().any(|r| alive(r.pid, &r.program)) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.into_iter().filter(|r| alive(r.pid, &r.program)).cloned().collect()
}

pub fn read_processes(layout: &Layout) -> Vec<ProcessRecord> {
    std::fs::read_to_string(layout.processes())
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Adds a process to `records` and rewrites processes.json (so `down` finds it even if `up`
/// dies before writing the manifest).
pub(crate) fn record(
    layout: &Layout,
    records: &std::sync::Mutex<Vec<ProcessRecord>>,
    name: &str,
    pid: u32,
    program: &str,
) -> Result<()> {
    let mut records = records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    records.push(ProcessRecord { name: name.to_string(), pid, program: program.to_string() });
    write_json(&layout.processes(), &*records)
}

/// Writes JSON through a temporary file and a rename, so readers never see half a file.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").wrap_err_with(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("writing {}", path.display()))
}

fn manifest_records(manifest: &DevnetManifest) -> Vec<ProcessRecord> {
    // Stop order: the API, the watchtower (it would alert on agents going away), relayer, validators, then the
    // chains.
    let mut out: Vec<ProcessRecord> = manifest
        .api
        .iter()
        .chain(&manifest.watchtower)
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
pub fn recorded(layout: &Layout) -> (Option<Result<DevnetManifest>>, Vec<ProcessRecord>) {
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

/// Upper bound for an agent to start serving HTTP.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// When an agent counts as started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    /// Any HTTP answer: a test may start an agent that is unhealthy on purpose.
    AnyAnswer,
    /// A success status (`devnet up` hands over a devnet that works).
    Healthy,
}

/// Polls `url` every 100 ms until it answers as `serving` asks, for at most [`READY_TIMEOUT`];
/// fails at once, with the end of `log`, if the process in `process` exits.
pub async fn wait_serving(
    http: &reqwest::Client,
    what: &str,
    url: &str,
    serving: Serving,
    process: &std::sync::Mutex<Option<Agent>>,
    log: &Path,
) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let last = match http.get(url).send().await {
            Ok(response) if serving == Serving::AnyAnswer || response.status().is_success() => return Ok(()),
            Ok(response) => format!("{}: {}", response.status(), response.text().await.unwrap_or_default()),
            Err(e) => e.to_string(),
        };
        {
            let mut guard = process.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(agent) = guard.as_mut() else { bail!("{what} is not running") };
            if let Some(status) = agent.exited() {
                bail!("{what} exited ({status}) before serving {url}; its log:\n{}", tail(log, 30));
            }
        }
        if Instant::now() >= deadline {
            bail!("{what} did not serve {url} within {READY_TIMEOUT:?} (last: {last}); its log:\n{}", tail(log, 30));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How an agent logs: `ZB_LOG_FORMAT` and the variable whose value becomes its `RUST_LOG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentLogging {
    /// `text` (people read `devnet up`'s logs) or `json` (tests parse them).
    pub format: &'static str,
    /// Read for the agents' RUST_LOG filter ("info" if unset).
    pub filter_env: &'static str,
}

impl AgentLogging {
    /// `zerobridge devnet up`.
    pub const DETACHED: AgentLogging = AgentLogging { format: "text", filter_env: "ZB_DEVNET_AGENT_LOG" };
    /// The test harness.
    pub const OWNED: AgentLogging = AgentLogging { format: "json", filter_env: "ZB_E2E_AGENT_LOG" };
}

/// `<exe> <args> --config <config>`, with the logging set and no stray agent configuration or
/// password from the caller's environment.
pub fn agent_command(exe: &Path, args: &[&str], config: &Path, logging: AgentLogging) -> Command {
    let mut command = Command::new(exe);
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .env("ZB_LOG_FORMAT", logging.format)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", std::env::var(logging.filter_env).unwrap_or_else(|_| "info".into()))
        .env_remove("ZB_VALIDATOR_CONFIG")
        .env_remove("ZB_RELAYER_CONFIG")
        .env_remove("ZB_WATCHTOWER_CONFIG")
        .env_remove("ZB_KEYSTORE_PASSWORD");
    command
}

/// What `devnet down` found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownOutcome {
    /// No manifest and nothing running.
    NothingRunning,
    /// A manifest, but none of its processes ran: the manifest was removed.
    StaleManifestRemoved,
    /// This many processes were stopped; the logs stay.
    Stopped { processes: usize },
}

/// What `devnet down` reports while it works.
pub trait DownView {
    /// The manifest exists but does not parse (its processes from processes.json are stopped).
    fn unreadable_manifest(&mut self, error: &eyre::Report);
    fn stopping(&mut self, process: &ProcessRecord);
    /// `process` ignored SIGTERM for `grace`: SIGKILL follows.
    fn killing(&mut self, process: &ProcessRecord, grace: Duration);
}

/// Stops every process of the devnet in `dir` and removes its manifest (logs stay).
pub async fn down(dir: &Path, view: &mut dyn DownView) -> Result<DownOutcome> {
    let layout = Layout::new(dir);
    let (manifest, records) = recorded(&layout);
    if let Some(Err(e)) = &manifest {
        view.unreadable_manifest(e);
    }
    let running: Vec<ProcessRecord> = records.iter().filter(|r| alive(r.pid, &r.program)).cloned().collect();
    if running.is_empty() {
        let stale = manifest.is_some();
        let _ = std::fs::remove_file(layout.manifest());
        let _ = std::fs::remove_file(layout.processes());
        return Ok(if stale { DownOutcome::StaleManifestRemoved } else { DownOutcome::NothingRunning });
    }
    for r in &running {
        view.stopping(r);
    }
    let left = stop_all(&running, view).await;
    if !left.is_empty() {
        let list: Vec<String> = left.iter().map(|r| format!("{} (pid {})", r.name, r.pid)).collect();
        bail!(
            "could not stop {}: kill them by hand (`kill -9 <pid>`), then run `zerobridge devnet down` again",
            list.join(", ")
        );
    }
    let _ = std::fs::remove_file(layout.manifest());
    let _ = std::fs::remove_file(layout.processes());
    Ok(DownOutcome::Stopped { processes: running.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

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
