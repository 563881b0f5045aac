//! Child processes that are always killed: on [`Agent::kill`], and on drop (also during a panic),
//! unless [`Agent::release`]d to outlive this process (`zerobridge devnet up`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use eyre::{Result, WrapErr};

/// A running child process whose stdout and stderr go to a log file (appended to, so restarts
/// keep the earlier runs' lines).
#[derive(Debug)]
pub struct Agent {
    name: String,
    child: Child,
    log: PathBuf,
    /// Released: dropping the value leaves the process running.
    released: bool,
}

/// Opens `path` for appending, creating it.
pub fn append_file(path: &Path) -> Result<File> {
    OpenOptions::new().create(true).append(true).open(path).wrap_err_with(|| format!("opening {}", path.display()))
}

impl Agent {
    /// Starts `command` with stdin closed and both outputs appended to `log`.
    pub fn spawn(name: impl Into<String>, command: Command, log: &Path) -> Result<Agent> {
        Agent::start(name.into(), command, log, append_file(log)?)
    }

    /// Starts `command` in its own process group (a Ctrl-C in the terminal does not reach it),
    /// stdin closed, both outputs to `log` (truncated first). Still killed on drop until
    /// [`Agent::release`]d.
    pub fn spawn_detached(name: impl Into<String>, mut command: Command, log: &Path) -> Result<Agent> {
        let out = File::create(log).wrap_err_with(|| format!("creating {}", log.display()))?;
        command.process_group(0);
        Agent::start(name.into(), command, log, out)
    }

    fn start(name: String, mut command: Command, log: &Path, out: File) -> Result<Agent> {
        let err = out.try_clone().wrap_err("duplicating the log file handle")?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .wrap_err_with(|| format!("starting {name}: {command:?}"))?;
        Ok(Agent { name, child, log: log.to_path_buf(), released: false })
    }

    /// Lets the process outlive this value (and this process); returns its pid.
    pub fn release(&mut self) -> u32 {
        self.released = true;
        self.child.id()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL (what `kill -9` does) and reap it. Harmless if it already exited.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if !self.released {
            self.kill();
        }
    }
}

/// Appends one line to a log file (the harness marks agent starts and kills this way).
pub fn mark(log: &Path, line: &str) -> Result<()> {
    let mut file = append_file(log)?;
    writeln!(file, "{line}").wrap_err_with(|| format!("writing {}", log.display()))
}

/// The last `n` lines of a text file ("" if it cannot be read).
pub fn tail(path: &Path, n: usize) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
