//! `zerobridge devnet up | status | down` for real: two anvil chains, the contracts, 4 validators
//! and a relayer as background processes, in a temporary directory on free ports; then the
//! tour a holder follows: a transfer each way with `zerobridge send`, balances, `devnet down`.
//!
//! Needs anvil and forge from `scripts/install.sh` and the contracts built
//! (`cd contracts && forge build --offline`), as the end-to-end tests do.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::ProviderBuilder;
use zb_contracts::wrapped::WrappedToken;
use zb_ops::network::DevnetManifest;

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

/// Runs another `zerobridge` command against the devnet in `dir`, as a user in `cwd` would.
fn zerobridge(cwd: &Path, dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .env("ZB_DEVNET_DIR", dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output();
    output.unwrap_or_else(|e| panic!("cannot run zerobridge {}: {e}", args.join(" ")))
}

/// The HTTP status of GET `url`, with `token` as bearer when given.
fn get_status(url: &str, token: Option<&str>) -> u16 {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let request = reqwest::Client::new().get(url);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        request.send().await.expect("request").status().as_u16()
    })
}

fn erc20_balance(rpc: &str, token: Address, who: Address) -> U256 {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let provider = ProviderBuilder::new().connect_http(rpc.parse().expect("rpc url"));
        WrappedToken::new(token, provider).balanceOf(who).call().await.expect("balanceOf")
    })
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

    // The validators want bearer tokens, as in production: the relayer and the CLI (the
    // manifest's validatorTokenFile) each present their own; health stays open.
    let token_file = manifest.validator_token_file.clone().expect("the devnet's validators take tokens");
    let token = std::fs::read_to_string(&token_file).expect("the clients' token");
    let lanes = format!("{}/v1/lanes", manifest.validators[0].url);
    assert_eq!(get_status(&lanes, None), 401, "an unauthenticated call was served");
    assert_eq!(get_status(&lanes, Some("not-the-token")), 401, "a wrong token was accepted");
    assert_eq!(get_status(&lanes, Some(token.trim())), 200);
    assert_eq!(get_status(&format!("{}/v1/health", manifest.validators[0].url), None), 200);

    // The tour, as a holder types it: a transfer each way with live progress, then balances.
    let holder = manifest.account("holder").expect("holder").address;
    let to_bsc =
        zerobridge(cwd, &dir, &["send", "--from", "ethereum", "--to", "bsc", "--token", "DEMO", "--amount", "1.5"]);
    assert!(to_bsc.status.success(), "send ethereum -> bsc failed:\n{}", text(&to_bsc));
    assert!(String::from_utf8_lossy(&to_bsc.stdout).contains("1.4985"), "{}", text(&to_bsc));
    let to_eth =
        zerobridge(cwd, &dir, &["send", "--from", "bsc", "--to", "ethereum", "--token", "DEMO", "--amount", "0.5"]);
    assert!(to_eth.status.success(), "send bsc -> ethereum failed:\n{}", text(&to_eth));
    assert!(String::from_utf8_lossy(&to_eth.stdout).contains("0.4995"), "{}", text(&to_eth));
    // Balances read from the chains themselves, not from the CLI: 1.5 left, 0.4995 came back
    // (10 bps fee each way); 1.4985 arrived, 0.5 was burned.
    let route = &manifest.routes[0];
    let unit = U256::from(10u64).pow(U256::from(14u64));
    let demo = erc20_balance(&manifest.chains[0].chain.rpc, route.home_token, holder);
    let wdemo = erc20_balance(&manifest.chains[1].chain.rpc, route.wrapped_token, holder);
    assert_eq!(
        demo,
        U256::from(1_000_000u64) * U256::from(10_000u64) * unit - U256::from(15_000u64) * unit
            + U256::from(4_995u64) * unit
    );
    assert_eq!(wdemo, U256::from(9_985u64) * unit);
    let balance = zerobridge(cwd, &dir, &["balance"]);
    assert!(balance.status.success(), "balance failed:\n{}", text(&balance));
    assert!(String::from_utf8_lossy(&balance.stdout).contains("0.9985"), "{}", text(&balance));
    let status = devnet(cwd, &dir, &["status"], Duration::from_secs(30));
    let shown = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success() && shown.matches("sent 1  delivered 1").count() == 2, "{}", text(&status));

    let again = devnet(cwd, &dir, &["up", "--port-base", &base_arg, "--repo", &repo_arg], Duration::from_secs(30));
    assert!(!again.status.success(), "a second devnet up must refuse:\n{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("zerobridge devnet down"), "{}", text(&again));

    let down = devnet(cwd, &dir, &["down"], Duration::from_secs(30));
    assert!(down.status.success(), "devnet down failed:\n{}", text(&down));
    let still: Vec<u32> = pids.iter().copied().filter(|p| running(*p)).collect();
    assert!(still.is_empty(), "still running after devnet down: {still:?}\n{}", text(&down));
    assert!(!dir.join("manifest.json").exists(), "devnet down keeps the manifest");
    assert!(dir.join("logs/relayer.log").is_file(), "devnet down removed the logs");
    // The kernel frees a killed process's sockets shortly after it exits: allow it a moment.
    for port in base..base + 7 {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok(), "port {port} still taken after down");
    }

    let twice = devnet(cwd, &dir, &["down"], Duration::from_secs(30));
    assert!(twice.status.success(), "a second devnet down must succeed:\n{}", text(&twice));
    assert!(String::from_utf8_lossy(&twice.stdout).contains("no devnet is running"), "{}", text(&twice));
    let status = devnet(cwd, &dir, &["status"], Duration::from_secs(30));
    assert!(!status.status.success(), "status without a devnet must fail:\n{}", text(&status));
    assert!(String::from_utf8_lossy(&status.stderr).contains("zerobridge devnet up"), "{}", text(&status));
}
