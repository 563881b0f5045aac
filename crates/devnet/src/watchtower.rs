//! The devnet's watchtower: its command line, and what `devnet status` shows of it.

use std::path::Path;
use std::process::Command;

use eyre::{Result, eyre};

use crate::process::{AgentLogging, agent_command};
use crate::setup::WATCHTOWER_KEY_ENV;

/// The watchtower's command line; only it gets the guardian key, through [`WATCHTOWER_KEY_ENV`].
pub fn command(exe: &Path, config: &Path, key: &str, logging: AgentLogging) -> Command {
    let mut command = agent_command(exe, &["watchtower"], config, logging);
    command.env(WATCHTOWER_KEY_ENV, key);
    command
}

/// `/v1/ready` in a few words: "ready", or "not ready (<reason>)".
pub(crate) async fn readiness(http: &reqwest::Client, url: &str) -> String {
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
pub(crate) async fn kpis(http: &reqwest::Client, url: &str) -> Result<String> {
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
