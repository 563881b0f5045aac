//! The devnet's watchtower: its config, how it is started, and what `devnet status` shows of it.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

use alloy::primitives::Address;
use eyre::{Result, eyre};
use serde::Serialize;
use zb_chain::{ChainConfig, Finality};
use zb_config::watchtower::WatchedRoute;

use super::Layout;
use super::configs::write_toml;
use super::process::agent_command;
use crate::network::ManifestAgent;

/// The environment variable the watchtower reads its raw devnet key from.
pub const KEY_ENV: &str = "ZB_WATCHTOWER_KEY";

/// `zerobridge watchtower --config` (crates/watchtower/src/config.rs); anomaly thresholds,
/// enforcement_blocks and poll_interval_ms keep their defaults.
#[derive(Debug, Clone, Serialize)]
struct WatchtowerToml {
    data_dir: PathBuf,
    listen: SocketAddr,
    key: KeyToml,
    alerts: AlertsToml,
    chains: Vec<ChainConfig>,
    routes: Vec<WatchedRoute>,
}

#[derive(Debug, Clone, Serialize)]
struct KeyToml {
    private_key_env: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct AlertsToml {
    file: PathBuf,
}

/// Writes the watchtower's config for `chains` (the agents') and `routes`, checks it with the
/// watchtower's own loader, and describes it for the manifest (pid filled in when it starts).
pub(super) fn agent(
    layout: &Layout,
    port: u16,
    chains: &[ChainConfig],
    routes: Vec<WatchedRoute>,
    address: Address,
) -> Result<ManifestAgent> {
    let config_path = layout.configs().join("watchtower.toml");
    let config = WatchtowerToml {
        data_dir: layout.data().join("watchtower"),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        key: KeyToml { private_key_env: KEY_ENV },
        alerts: AlertsToml { file: layout.logs().join("alerts.jsonl") },
        // Depth 0: it checks each delivery in the block that carries it (a reorg can only make it
        // act early); stake_manager stays set, as it reports the signers of a forged delivery.
        chains: chains.iter().map(|c| ChainConfig { finality: Finality::Depth(0), ..c.clone() }).collect(),
        routes,
    };
    write_toml(&config_path, &config)?;
    zb_config::watchtower::WatchtowerConfig::load(&config_path).map_err(|e| {
        eyre!(
            "the watchtower rejects the config devnet wrote ({e}); this is a bug: report it with {}",
            config_path.display()
        )
    })?;
    Ok(ManifestAgent {
        name: "watchtower".into(),
        url: format!("http://127.0.0.1:{port}"),
        address,
        pid: 0,
        config: config_path,
        log: layout.logs().join("watchtower.log"),
    })
}

/// The watchtower's command line; only it gets the guardian key, through [`KEY_ENV`].
pub(super) fn command(exe: &Path, config: &Path, key: &str) -> Command {
    let mut command = agent_command(exe, &["watchtower"], config);
    command.env_remove("ZB_WATCHTOWER_CONFIG").env(KEY_ENV, key);
    command
}

/// `/v1/ready` in a few words: "ready", or "not ready (<reason>)".
pub(super) async fn readiness(http: &reqwest::Client, url: &str) -> String {
    let response = match http.get(format!("{url}/v1/ready")).send().await {
        Ok(response) => response,
        Err(_) => return "readiness unreachable".into(),
    };
    let code = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if code.is_success() {
        return "ready".into();
    }
    let reason = body.get("reason").and_then(|r| r.as_str()).unwrap_or("?");
    format!("not ready ({reason}, HTTP {})", code.as_u16())
}

/// `/v1/kpis` in one line: deliveries checked, frauds, paused lanes, enforcement rate.
pub(super) async fn kpis(http: &reqwest::Client, url: &str) -> Result<String> {
    let body: serde_json::Value = http
        .get(format!("{url}/v1/kpis"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| eyre!("/v1/kpis: {e}"))?
        .json()
        .await
        .map_err(|e| eyre!("/v1/kpis: not JSON: {e}"))?;
    Ok(kpis_line(&body))
}

fn kpis_line(body: &serde_json::Value) -> String {
    let count = |name: &str| {
        body.get("kpis").and_then(|k| k.get(name)).and_then(|v| v.as_u64()).map_or("?".into(), |n| n.to_string())
    };
    let rate = body
        .get("policyEnforcementRate")
        .and_then(|r| r.as_f64())
        .map_or("?".into(), |r| format!("{:.1} %", r * 100.0));
    format!(
        "deliveries checked {}  frauds {}  paused lanes {}  enforcement rate {rate}",
        count("deliveriesChecked"),
        count("frauds"),
        count("pausedLanes")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kpis_read_as_one_line() {
        let body = serde_json::json!({
            "kpis": {"deliveriesChecked": 4, "frauds": 0, "pausedLanes": 1},
            "policyEnforcementRate": 0.75,
        });
        assert_eq!(kpis_line(&body), "deliveries checked 4  frauds 0  paused lanes 1  enforcement rate 75.0 %");
        assert!(kpis_line(&serde_json::json!({})).contains("deliveries checked ?"));
    }
}
