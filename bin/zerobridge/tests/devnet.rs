//! `zerobridge devnet up | status | down` for real: two anvil chains, the contracts, 4 validators
//! and a relayer as background processes, in a temporary directory on free ports.
//!
//! Needs anvil and forge from `scripts/install.sh` and the contracts built
//! (`cd contracts && forge build --offline`), as the end-to-end tests do.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use zb_cli::network::DevnetManifest;

const BIN: &str = env!("CARGO_BIN_EXE_zerobridge");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `zerobridge devnet <args> --dir <dir>` in `cwd`, failing the test after `timeout`.
fn devnet(cwd: &Path, dir: &Path, args: &[&str], timeout: Duration) -> Output {
    let mut command = Command::new(BIN);
    command
        .current_dir(cwd)
        .arg("devnet")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .env_remove("ZB_DEVNET_DIR")
        .env_remove("ZB_DEVNET_PORT_BASE")
        .stdin(Stdio::null());
    let (tx, rx) = mpsc::channel();
    let shown = format!("zerobridge devnet {}", args.join(" "));
    std::thread::spawn(move || {
        let _ = tx.send(command.output());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("cannot run {shown}: {e}"),
        Err(_) => panic!("{shown} did not finish within {timeout:?}"),
    }
}

fn text(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Seven consecutive free ports (ethereum, bsc, 4 validators, relayer).
fn free_port_base() -> u16 {
    let start = 20_000 + (std::process::id() % 2_000) as u16 * 10;
    for attempt in 0..200u16 {
        let base = 20_000 + (start - 20_000 + attempt * 37) % 40_000;
        let listeners: Vec<_> = (0..7).map_while(|i| TcpListener::bind((Ipv4Addr::LOCALHOST, base + i)).ok()).collect();
        if listeners.len() == 7 {
            return base;
        }
    }
    panic!("no 7 consecutive free ports found")
}

/// Whether `pid` runs (a zombie has exited).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()))
        .is_some_and(|state| !matches!(state, 'Z' | 'X' | 'x'))
}

/// Runs `devnet down` when dropped, so a failing test leaves no processes behind.
struct Down<'a> {
    cwd: &'a Path,
    dir: &'a Path,
}

impl Drop for Down<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = devnet(self.cwd, self.dir, &["down"], Duration::from_secs(30));
            for log in ["relayer", "validator-0", "anvil-ethereum", "deploy"] {
                let path = self.dir.join(format!("logs/{log}.log"));
                let tail: String = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = tail.lines().collect();
                eprintln!("--- {}:\n{}", path.display(), lines[lines.len().saturating_sub(15)..].join("\n"));
            }
        }
    }
}

#[test]
fn devnet_up_status_down() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cwd = tmp.path();
    let dir = cwd.join("devnet");
    let base = free_port_base();
    let base_arg = base.to_string();
    let repo = repo();
    let repo_arg = repo.to_string_lossy().into_owned();
    let _down = Down { cwd, dir: &dir };

    let up = devnet(cwd, &dir, &["up", "--port-base", &base_arg, "--repo", &repo_arg], Duration::from_secs(180));
    assert!(up.status.success(), "devnet up failed:\n{}", text(&up));
    let stdout = String::from_utf8_lossy(&up.stdout);
    assert!(stdout.contains("try this:"), "{}", text(&up));
    assert!(stdout.contains("zerobridge send --from ethereum --to bsc --token DEMO --amount 1.5"), "{}", text(&up));

    let manifest = DevnetManifest::load(&dir.join("manifest.json")).expect("manifest");
    let ids: Vec<u64> = manifest.chains.iter().map(|c| c.chain.chain_id).collect();
    assert_eq!(ids, vec![1, 56]);
    assert_eq!(manifest.chains[0].chain.name, "ethereum");
    assert_eq!(manifest.chains[1].chain.name, "bsc");
    assert_eq!(manifest.chains[0].chain.rpc, format!("http://127.0.0.1:{base}"));
    assert_eq!(manifest.chains[1].chain.rpc, format!("http://127.0.0.1:{}", base + 1));
    assert_eq!(manifest.validators.len(), 4);
    for (i, v) in manifest.validators.iter().enumerate() {
        assert_eq!(v.url, format!("http://127.0.0.1:{}", base + 2 + i as u16));
        assert!(v.config.is_file() && v.log.is_file(), "{v:?}");
    }
    assert_eq!(manifest.relayer.url, format!("http://127.0.0.1:{}", base + 6));
    assert_eq!(manifest.threshold, 3);
    assert_eq!(manifest.routes.len(), 1);
    assert_eq!(manifest.routes[0].symbol, "DEMO");
    assert_eq!(manifest.lanes.len(), 2);
    for role in ["deployer", "holder", "relayer", "validator-0", "validator-3"] {
        assert!(manifest.account(role).is_some(), "no {role} account");
    }
    let network = manifest.network();
    let leg = network.leg("ethereum", "bsc", "DEMO").expect("leg");
    assert!(manifest.lanes.iter().any(|l| l.lane == leg.lane && l.source == "ethereum"));
    let pids: Vec<u32> = manifest
        .chains
        .iter()
        .map(|c| c.pid)
        .chain(manifest.validators.iter().map(|v| v.pid))
        .chain([manifest.relayer.pid])
        .collect();
    assert!(pids.iter().all(|p| running(*p)), "not every devnet process runs after up: {pids:?}");

    let status = devnet(cwd, &dir, &["status"], Duration::from_secs(30));
    assert!(status.status.success(), "devnet status failed:\n{}", text(&status));
    let shown = String::from_utf8_lossy(&status.stdout);
    assert!(shown.contains("all up") && shown.contains("sent 0  delivered 0"), "{}", text(&status));

    let again = devnet(cwd, &dir, &["up", "--port-base", &base_arg, "--repo", &repo_arg], Duration::from_secs(30));
    assert!(!again.status.success(), "a second devnet up must refuse:\n{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("zerobridge devnet down"), "{}", text(&again));

    let down = devnet(cwd, &dir, &["down"], Duration::from_secs(30));
    assert!(down.status.success(), "devnet down failed:\n{}", text(&down));
    let still: Vec<u32> = pids.iter().copied().filter(|p| running(*p)).collect();
    assert!(still.is_empty(), "still running after devnet down: {still:?}\n{}", text(&down));
    assert!(!dir.join("manifest.json").exists(), "devnet down keeps the manifest");
    assert!(dir.join("logs/relayer.log").is_file(), "devnet down removed the logs");
    for port in base..base + 7 {
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok(), "port {port} still taken after down");
    }

    let twice = devnet(cwd, &dir, &["down"], Duration::from_secs(30));
    assert!(twice.status.success(), "a second devnet down must succeed:\n{}", text(&twice));
    assert!(String::from_utf8_lossy(&twice.stdout).contains("no devnet is running"), "{}", text(&twice));
    let status = devnet(cwd, &dir, &["status"], Duration::from_secs(30));
    assert!(!status.status.success(), "status without a devnet must fail:\n{}", text(&status));
    assert!(String::from_utf8_lossy(&status.stderr).contains("zerobridge devnet up"), "{}", text(&status));
}
