//! The relayer's HTTP API, as served by `zb-relayer`: `/v1/health`.

use std::collections::BTreeMap;

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};

/// `/v1/health`: `status` is `ok`, or `degraded` (503) while a lane's last attempt failed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelayerHealth {
    pub lanes: BTreeMap<B256, LaneProgress>,
    pub status: String,
}

/// One lane's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneProgress {
    /// Final messages seen on the source (the `zb_relayer_source_sequence` metric).
    pub source_height: u64,
    pub delivered: u64,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_camel_case_keyed_by_lane() {
        let lane = B256::repeat_byte(0x80);
        let progress = LaneProgress { source_height: 4312, delivered: 4300, last_error: None };
        let health = RelayerHealth { lanes: BTreeMap::from([(lane, progress.clone())]), status: "ok".into() };
        let json = serde_json::to_value(&health).expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({"status": "ok", "lanes": {lane.to_string(): {"sourceHeight": 4312, "delivered": 4300, "lastError": null}}})
        );
        let parsed: RelayerHealth = serde_json::from_value(json).expect("parse");
        assert_eq!(parsed.lanes[&lane], progress);
    }
}
