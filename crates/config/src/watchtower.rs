//! The watchtower's TOML configuration (documented in config/watchtower.example.toml).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::ConfigError;
use alloy::primitives::B256;
use serde::{Deserialize, Serialize};
use zb_chain::ChainConfig;
pub use zb_keys::KeyConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchtowerConfig {
    /// Where the cursor and the record of actions taken live.
    pub data_dir: PathBuf,
    /// /v1/health (alive), /v1/ready (caught up), /v1/kpis and /metrics.
    pub listen: SocketAddr,
    /// The key that pauses, freezes holds and reports fraud. Give it only the GUARDIAN role on
    /// each bridge: it needs nothing else (slashing evidence is permissionless).
    pub key: KeyConfig,
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// Its own endpoints for every chain of the watched routes (with `stake_manager` on the
    /// chains whose operators it reports); `rpc_quorum` as for the agents.
    pub chains: Vec<ChainConfig>,
    pub routes: Vec<WatchedRoute>,
    #[serde(default)]
    pub anomalies: AnomalyConfig,
    /// A delivery counts as enforced when it was checked within this many blocks of its own
    /// (the policy-enforcement KPI).
    #[serde(default = "default_enforcement_blocks")]
    pub enforcement_blocks: u64,
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// JSON lines are appended here; `-` (the default) writes them to stdout.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Every alert is POSTed to each URL as JSON, retried with backoff.
    #[serde(default)]
    pub webhooks: Vec<String>,
}

/// One route, by id, with the names of its two chains in `chains`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchedRoute {
    pub route_id: B256,
    pub home: String,
    pub remote: String,
}

/// Thresholds of the anomaly alerts (warnings: they never pause anything).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyConfig {
    /// The trailing window volume and bursts are measured over.
    #[serde(default = "default_window_secs")]
    pub window_secs: u64,
    /// Alert when a window's volume on a lane exceeds this many times the previous window's
    /// (and `min_spike_volume` tokens, in base units as a decimal string).
    #[serde(default = "default_spike_factor")]
    pub spike_factor: u64,
    #[serde(default = "default_min_spike_volume")]
    pub min_spike_volume: String,
    /// Alert when one address sends more than this many transfers within the window.
    #[serde(default = "default_burst_count")]
    pub burst_count: u64,
    /// Alert when a lane's token bucket has less than this share (in %) of its capacity left.
    #[serde(default = "default_bucket_warning_percent")]
    pub bucket_warning_percent: u64,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            window_secs: default_window_secs(),
            spike_factor: default_spike_factor(),
            min_spike_volume: default_min_spike_volume(),
            burst_count: default_burst_count(),
            bucket_warning_percent: default_bucket_warning_percent(),
        }
    }
}

fn default_enforcement_blocks() -> u64 {
    2
}
fn default_poll_interval_ms() -> u64 {
    500
}
fn default_window_secs() -> u64 {
    3_600
}
fn default_spike_factor() -> u64 {
    10
}
fn default_min_spike_volume() -> String {
    "0".into()
}
fn default_burst_count() -> u64 {
    1_000
}
fn default_bucket_warning_percent() -> u64 {
    10
}

impl WatchtowerConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: Self = crate::load_toml(path)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |text: String| Err(ConfigError::Invalid(text));
        if self.routes.is_empty() {
            return invalid("no [[routes]] to watch".into());
        }
        for route in &self.routes {
            for name in [&route.home, &route.remote] {
                if self.chain(name).is_none() {
                    return invalid(format!(
                        "route {} names chain '{name}', which has no [[chains]] entry",
                        route.route_id
                    ));
                }
            }
            if route.home == route.remote {
                return invalid(format!("route {}: home and remote are the same chain", route.route_id));
            }
        }
        for chain in &self.chains {
            chain.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        self.key.validate().map_err(ConfigError::Invalid)?;
        if self.poll_interval_ms == 0 {
            return invalid("poll_interval_ms must be at least 1".into());
        }
        if self.anomalies.window_secs == 0 || self.anomalies.spike_factor == 0 || self.anomalies.burst_count == 0 {
            return invalid("[anomalies]: window_secs, spike_factor and burst_count must be at least 1".into());
        }
        if self.anomalies.min_spike_volume.parse::<alloy::primitives::U256>().is_err() {
            return invalid("[anomalies] min_spike_volume: a decimal integer (token base units)".into());
        }
        for url in &self.alerts.webhooks {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return invalid(format!("[alerts] webhook {url}: not an http(s) URL"));
            }
        }
        Ok(())
    }

    pub fn chain(&self, name: &str) -> Option<&ChainConfig> {
        self.chains.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/watchtower.example.toml"))
            .expect("example config")
    }

    #[test]
    fn the_example_config_loads() {
        let config: WatchtowerConfig = toml::from_str(&example()).expect("parses");
        config.validate().expect("valid");
        assert_eq!(config.routes.len(), 1);
        assert_eq!(config.alerts.webhooks.len(), 1);
        assert_eq!(config.anomalies.spike_factor, 10);
    }

    #[test]
    fn a_route_on_an_unknown_chain_or_two_keys_are_refused() {
        let text = example().replace("remote = \"bsc\"", "remote = \"polygon\"");
        let config: WatchtowerConfig = toml::from_str(&text).expect("parses");
        let error = config.validate().expect_err("unknown chain").to_string();
        assert!(error.contains("polygon"), "{error}");

        let text = example().replace("password_file =", "private_key_env = \"K\"\npassword_file =");
        let config: WatchtowerConfig = toml::from_str(&text).expect("parses");
        assert!(config.validate().expect_err("two keys").to_string().contains("exactly one"));

        let text = example().replace("https://alerts.example/zerobridge", "alerts.example");
        let config: WatchtowerConfig = toml::from_str(&text).expect("parses");
        assert!(config.validate().expect_err("bad webhook").to_string().contains("webhook"));
    }
}
