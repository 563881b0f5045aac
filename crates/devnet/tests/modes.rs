//! The orchestrator's two modes on real chains and real agents: an owned devnet's processes die
//! with it (and a killed validator starts again), a detached devnet's processes outlive it once
//! released, and `down` stops them from what `processes.json` recorded.
//!
//! Needs anvil and forge (`scripts/install.sh`), the contracts built and the zerobridge binary
//! built (`cargo build --bin zerobridge`), as the end-to-end tests do.

use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

use zb_devnet::devnet::{AgentId, Detached, Devnet, DevnetOptions, Mode};
use zb_devnet::process::{ProcessRecord, alive};
use zb_devnet::{DownOutcome, DownView, Ports};
use zb_test_utils::paths::{workspace_root, zerobridge_bin};

/// Whether `pid` runs (a zombie has exited).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()))
        .is_some_and(|state| !matches!(state, 'Z' | 'X' | 'x'))
}

/// Eleven consecutive free ports.
fn free_port_base() -> u16 {
    let start = 30_000 + (std::process::id() % 1_000) as u16 * 11;
    for attempt in 0..200u16 {
        let base = 30_000 + (start - 30_000 + attempt * 41) % 30_000;
        let listeners: Vec<_> =
            (0..11).map_while(|i| TcpListener::bind((Ipv4Addr::LOCALHOST, base + i)).ok()).collect();
        if listeners.len() == 11 {
            return base;
        }
    }
    panic!("no 11 consecutive free ports found")
}

fn small() -> DevnetOptions {
    DevnetOptions { validators: 1, threshold: 1, ..DevnetOptions::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owned_devnet_restarts_a_killed_validator_and_its_processes_die_with_it() -> eyre::Result<()> {
    let devnet = Devnet::start(small()).await?;
    devnet.start_validator(0).await?;
    let first = devnet.agent_pid(AgentId::Validator(0)).expect("validator 0 runs");
    devnet.kill_validator(0)?;
    assert!(!running(first), "validator 0 (pid {first}) still runs after kill_validator");
    assert!(!devnet.validator_running(0)?);

    devnet.start_validator(0).await?;
    let second = devnet.agent_pid(AgentId::Validator(0)).expect("validator 0 runs again");
    assert_ne!(first, second);
    let health: serde_json::Value =
        devnet.http().get(format!("{}/v1/health", devnet.validator_url(0)?)).send().await?.json().await?;
    assert!(health.get("status").is_some(), "{health}");
    // The config it was started with is in the devnet's layout and names the password file.
    let config = devnet.validator_config(0)?;
    assert_eq!(config.password_file, Some(devnet.layout().password_file()));
    assert!(devnet.layout().config("validator-0").is_file());

    let chain = devnet.home().pid();
    let dir = devnet.dir().to_path_buf();
    drop(devnet);
    assert!(!running(second), "validator 0 (pid {second}) outlived its devnet");
    assert!(!running(chain), "anvil (pid {chain}) outlived its devnet");
    assert!(!dir.exists(), "the devnet's temporary directory outlived it");
    Ok(())
}

struct Quiet;

impl DownView for Quiet {
    fn unreadable_manifest(&mut self, _: &eyre::Report) {}
    fn stopping(&mut self, _: &ProcessRecord) {}
    fn killing(&mut self, _: &ProcessRecord, _: Duration) {}
}

#[tokio::test(flavor = "multi_thread")]
async fn a_released_devnet_outlives_its_value_until_down() -> eyre::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("devnet");
    let ports = Ports::from_base(free_port_base())?;
    let mode =
        Mode::Detached(Detached { dir: dir.clone(), ports, repo: workspace_root(), zerobridge: zerobridge_bin()? });
    let devnet = Devnet::start(DevnetOptions { mode, ..small() }).await?;
    devnet.start_validator(0).await?;
    assert_eq!(devnet.validator_url(0)?, format!("http://127.0.0.1:{}", ports.validators[0]));
    assert_eq!(devnet.home().port(), ports.home);
    let pids = [devnet.home().pid(), devnet.remote().pid(), devnet.agent_pid(AgentId::Validator(0)).expect("runs")];
    devnet.release();
    assert!(pids.iter().all(|p| running(*p)), "a released process stopped with its devnet: {pids:?}");
    // Detached agents log text, not the harness's JSON lines.
    let log = std::fs::read_to_string(dir.join("logs/validator-0.log"))?;
    assert!(!log.trim_start().starts_with('{'), "{log}");

    let outcome = zb_devnet::down(&dir, &mut Quiet).await?;
    assert_eq!(outcome, DownOutcome::Stopped { processes: 3 });
    let still: Vec<u32> = pids.iter().copied().filter(|p| running(*p)).collect();
    assert!(still.is_empty(), "still running after down: {still:?}");
    assert!(!pids.iter().any(|p| alive(*p, "anvil") || alive(*p, "zerobridge")));
    assert!(!dir.join("processes.json").exists());
    Ok(())
}
