//! Where the real binaries and the contracts are, and free local ports.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use eyre::{Result, WrapErr, bail};

/// The repository root (this crate lives in `crates/test-utils`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.join("../..").canonicalize().unwrap_or_else(|_| manifest.join("../.."))
}

/// `contracts/`: the Foundry project Deploy.s.sol runs from.
pub fn contracts_dir() -> PathBuf {
    workspace_root().join("contracts")
}

fn foundry_bin(tool: &str) -> Result<PathBuf> {
    let path = workspace_root().join(format!("node_modules/@foundry-rs/{tool}-linux-amd64/bin/{tool}"));
    if !path.is_file() {
        bail!("{tool} not found at {}: run scripts/install.sh (npm install) in the repository root", path.display());
    }
    Ok(path)
}

/// The native anvil binary from the npm package.
pub fn anvil_bin() -> Result<PathBuf> {
    foundry_bin("anvil")
}

/// The native forge binary from the npm package.
pub fn forge_bin() -> Result<PathBuf> {
    foundry_bin("forge")
}

/// The `zerobridge` binary: `$ZB_E2E_ZEROBRIDGE`, or `zerobridge` in the cargo target directory
/// the running test executable was built into (tests run from `target/<profile>/deps`).
pub fn zerobridge_bin() -> Result<PathBuf> {
    if let Ok(path) = std::env::var("ZB_E2E_ZEROBRIDGE") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("ZB_E2E_ZEROBRIDGE points at {}, which does not exist", path.display());
        }
        return Ok(path);
    }
    let exe = std::env::current_exe().wrap_err("cannot find the running executable")?;
    let mut looked = Vec::new();
    for dir in exe.ancestors().skip(1).take(3) {
        let candidate = dir.join("zerobridge");
        if candidate.is_file() {
            return Ok(candidate);
        }
        looked.push(candidate.display().to_string());
    }
    bail!(
        "the zerobridge binary is not built: run `cargo build --bin zerobridge` before `cargo test -p zb-e2e` \
         (scripts/test.sh does both), or set ZB_E2E_ZEROBRIDGE. Looked for: {}",
        looked.join(", ")
    )
}

static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A free TCP port on 127.0.0.1, never the same twice in this process (the OS picks it; the
/// caller binds it soon after, so a collision with another process is unlikely but possible).
pub fn free_port() -> Result<u16> {
    for _ in 0..64 {
        let listener = TcpListener::bind("127.0.0.1:0").wrap_err("binding an ephemeral port")?;
        let port = listener.local_addr()?.port();
        let mut used = HANDED_OUT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if used.insert(port) {
            return Ok(port);
        }
    }
    bail!("no free port found")
}
