//! The watchtower's alerts (JSON lines and webhook bodies, docs/watchtower.md) and its
//! `/v1/kpis` answer, as written by `zb-watchtower`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How bad it is: `critical` alerts come with an action (pause, slash, freeze).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One alert as written: `kind` names the check (docs/watchtower.md), `details` its fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub kind: Cow<'static, str>,
    pub severity: Severity,
    /// Unix seconds, this machine's clock.
    pub at: u64,
    pub message: String,
    pub details: Value,
}

/// The key performance indicators (docs/watchtower.md), served on /v1/kpis and as metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kpis {
    pub deliveries_checked: u64,
    /// Checked within `enforcement_blocks` of the delivery's block.
    pub deliveries_enforced: u64,
    pub frauds: u64,
    pub conservation_breaks: u64,
    pub paused_lanes: u64,
    pub slashes: u64,
    /// Mean time to detect, of the last fraud: its block's timestamp to the alert (chain time).
    pub last_mttd_secs: Option<u64>,
    /// Mean time to respond, of the last pause: the alert to the pause's block (chain time).
    pub last_mttr_secs: Option<u64>,
}

impl Kpis {
    /// Share of checked deliveries checked within `enforcement_blocks` of their own block.
    pub fn enforcement_rate(&self) -> f64 {
        if self.deliveries_checked == 0 {
            1.0
        } else {
            self.deliveries_enforced as f64 / self.deliveries_checked as f64
        }
    }
}

/// `/v1/kpis`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KpisResponse {
    pub kpis: Kpis,
    pub policy_enforcement_rate: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_and_kpis_round_trip_in_camel_case() {
        let alert = Alert {
            kind: "fraud".into(),
            severity: Severity::Critical,
            at: 1_700_000_000,
            message: "lane 0x01: forged".into(),
            details: serde_json::json!({"sequence": 7}),
        };
        let line = serde_json::to_string(&alert).expect("serialize");
        let parsed: Alert = serde_json::from_str(&line).expect("parse");
        assert_eq!(
            (parsed.kind.as_ref(), parsed.severity, parsed.details["sequence"].as_u64()),
            ("fraud", Severity::Critical, Some(7))
        );

        let kpis = Kpis { deliveries_checked: 4, deliveries_enforced: 3, last_mttd_secs: Some(2), ..Kpis::default() };
        assert_eq!(kpis.enforcement_rate(), 0.75);
        assert_eq!(Kpis::default().enforcement_rate(), 1.0, "nothing checked yet");
        let json = serde_json::to_value(KpisResponse { policy_enforcement_rate: kpis.enforcement_rate(), kpis })
            .expect("serialize");
        assert_eq!(json["kpis"]["deliveriesChecked"], 4);
        assert_eq!(json["kpis"]["lastMttdSecs"], 2);
        assert_eq!(json["policyEnforcementRate"], 0.75);
    }
}
