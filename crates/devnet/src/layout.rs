//! The files of a devnet directory, and where the repository and its Foundry binaries are.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use eyre::{Result, WrapErr, bail};

/// The files of one devnet directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        Layout { dir: dir.to_path_buf() }
    }
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }
    pub fn processes(&self) -> PathBuf {
        self.dir.join("processes.json")
    }
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
    pub fn keys(&self) -> PathBuf {
        self.dir.join("keys")
    }
    pub fn password_file(&self) -> PathBuf {
        self.keys().join("password")
    }
    pub fn configs(&self) -> PathBuf {
        self.dir.join("configs")
    }
    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
    pub fn broadcast(&self) -> PathBuf {
        self.dir.join("broadcast")
    }
    pub fn deploy_log(&self) -> PathBuf {
        self.log("deploy")
    }
    /// `configs/<agent>.toml`.
    pub fn config(&self, agent: &str) -> PathBuf {
        self.configs().join(format!("{agent}.toml"))
    }
    /// `logs/<name>.log`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.logs().join(format!("{name}.log"))
    }
    /// `data/<agent>`: the agent's store.
    pub fn data_dir(&self, agent: &str) -> PathBuf {
        self.data().join(agent)
    }
    /// The watchtower's alerts, as JSON lines.
    pub fn alerts(&self) -> PathBuf {
        self.logs().join("alerts.jsonl")
    }
    /// Creates logs/, data/, configs/ and keys/ (owner only).
    pub fn create(&self) -> Result<()> {
        for sub in [self.logs(), self.data(), self.configs(), self.keys()] {
            std::fs::create_dir_all(&sub).wrap_err_with(|| format!("creating {}", sub.display()))?;
        }
        std::fs::set_permissions(self.keys(), std::fs::Permissions::from_mode(0o700))
            .wrap_err_with(|| format!("restricting {}", self.keys().display()))
    }
}

/// The name of primary validator `i` (its config, log and store): `validator-<i>`.
pub fn validator_name(i: usize) -> String {
    format!("validator-{i}")
}

/// The name of fallback validator `j`: `fallback-<j>`.
pub fn fallback_name(j: usize) -> String {
    format!("fallback-{j}")
}

/// Finds the repository: `explicit`, else the first ancestor of the working directory, else of
/// the running binary, that holds `contracts/foundry.toml`.
pub fn repo_root(explicit: Option<&Path>) -> Result<PathBuf> {
    let is_root = |dir: &Path| dir.join("contracts/foundry.toml").is_file();
    if let Some(dir) = explicit {
        if !is_root(dir) {
            bail!(
                "{} is not the zerobridge repository (no contracts/foundry.toml): fix --repo / ZB_REPO_ROOT",
                dir.display()
            );
        }
        return dir.canonicalize().wrap_err_with(|| format!("resolving {}", dir.display()));
    }
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe.canonicalize().unwrap_or(exe));
    }
    for start in &starts {
        if let Some(root) = start.ancestors().find(|d| is_root(d)) {
            return root.canonicalize().wrap_err_with(|| format!("resolving {}", root.display()));
        }
    }
    bail!(
        "cannot find the zerobridge repository (a directory with contracts/foundry.toml) above the working \
         directory or the zerobridge binary: run from the repository root, or pass --repo <path>"
    )
}

pub fn foundry_bin(root: &Path, tool: &str) -> Result<PathBuf> {
    let path = root.join(format!("node_modules/@foundry-rs/{tool}-linux-amd64/bin/{tool}"));
    if !path.is_file() {
        bail!(
            "{tool} not found at {}: run scripts/install.sh in the repository root (scripts/devnet.sh does it \
             for you)",
            path.display()
        );
    }
    Ok(path)
}
