//! Adding a registered route to the devnet manifest.

use std::path::Path;

use eyre::{Result, bail, eyre};

use crate::network::{ManifestLane, RouteInfo};

/// Adds `route` to the devnet manifest's `routes` (and its lanes to `lanes`) unless it is there.
/// Edits the JSON in place so fields this version does not know survive. Returns whether it was
/// added.
pub(super) fn append_to_manifest(path: &Path, route: &RouteInfo, lanes: &[ManifestLane]) -> Result<bool> {
    let text = std::fs::read_to_string(path).map_err(|e| eyre!("cannot read {}: {e}", path.display()))?;
    let mut manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| eyre!("devnet manifest {} is not valid JSON: {e}", path.display()))?;
    let Some(routes) = manifest.get_mut("routes").and_then(|r| r.as_array_mut()) else {
        bail!("devnet manifest {} has no routes array: restart the devnet", path.display());
    };
    let id = serde_json::to_value(route.route_id)?;
    if routes.iter().any(|r| r.get("routeId") == Some(&id)) {
        return Ok(false);
    }
    routes.push(serde_json::to_value(route)?);
    if let Some(known) = manifest.get_mut("lanes").and_then(|l| l.as_array_mut()) {
        for lane in lanes {
            known.push(serde_json::to_value(lane)?);
        }
    }
    let tmp = path.with_extension("json.tmp");
    let out = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(&tmp, out).map_err(|e| eyre!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| eyre!("cannot replace {}: {e}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, B256};

    #[test]
    fn manifest_append_keeps_unknown_fields_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("manifest.json");
        std::fs::write(&path, r#"{"routes": [], "lanes": [], "futureField": 7}"#).expect("write");
        let route = RouteInfo {
            route_id: B256::repeat_byte(1),
            symbol: "TOK".into(),
            decimals: 6,
            home: "ethereum".into(),
            remote: "bsc".into(),
            home_token: Address::repeat_byte(2),
            wrapped_token: Address::repeat_byte(3),
            liveness: None,
        };
        let lanes = [ManifestLane {
            lane: B256::repeat_byte(4),
            route_id: route.route_id,
            source: "ethereum".into(),
            destination: "bsc".into(),
        }];
        assert!(append_to_manifest(&path, &route, &lanes).expect("append"));
        assert!(!append_to_manifest(&path, &route, &lanes).expect("append again"));
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(value["futureField"], 7);
        assert_eq!(value["routes"].as_array().map(Vec::len), Some(1));
        assert_eq!(value["lanes"].as_array().map(Vec::len), Some(1));
        assert_eq!(value["routes"][0]["symbol"], "TOK");
    }
}
