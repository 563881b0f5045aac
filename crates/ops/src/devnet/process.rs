//! The devnet's background processes: how they are started detached and recorded in
//! `processes.json`, whether they still run, and how `devnet down` stops them.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use eyre::{Result, WrapErr, bail};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{Layout, STOP_GRACE};
use crate::deploy::tail;
use crate::network::DevnetManifest;

/// One background process of the devnet, as `processes.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ProcessRecord {
    pub(super) name: String,
    pub(super) pid: u32,
    /// The executable's file name, checked before signalling so that a recycled pid is never hit.
    pub(super) program: String,
}

/// The state of a recorded process.
pub(super) fn alive(pid: u32, program: &str) -> bool {
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
pub(super) async fn stop_all(records: &[ProcessRecord]) -> Vec<ProcessRecord> {
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

pub(super) fn read_processes(layout: &Layout) -> Vec<ProcessRecord> {
    std::fs::read_to_string(layout.processes())
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// The processes started by `devnet up`, killed again if `up` fails or is interrupted.
pub(super) struct Launch {
    layout: Layout,
    records: Vec<ProcessRecord>,
    children: Vec<Child>,
    armed: bool,
}

impl Launch {
    pub(super) fn new(layout: Layout) -> Launch {
        Launch { layout, records: Vec::new(), children: Vec::new(), armed: true }
    }

    /// Starts `command` detached (own process group, stdin closed, output to `log`).
    pub(super) fn spawn(&mut self, name: &str, mut command: Command, log: &Path) -> Result<u32> {
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
    pub(super) fn check(&mut self, name: &str, log: &Path) -> Result<()> {
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
    pub(super) fn release(mut self) {
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
pub(super) fn show_tail(path: &Path, n: usize) {
    let text = tail(path, n);
    if !text.is_empty() {
        eprintln!("--- the end of {}:\n{text}\n---", path.display());
    }
}

/// Writes JSON through a temporary file and a rename, so readers never see half a file.
pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
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
pub(super) fn recorded(layout: &Layout) -> (Option<Result<DevnetManifest>>, Vec<ProcessRecord>) {
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

pub(super) fn agent_command(exe: &Path, args: &[&str], config: &Path) -> Command {
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
