//! The relayer's TOML configuration (documented in config/relayer.example.toml).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::ConfigError;
use alloy::primitives::B256;
use serde::Deserialize;
use zb_chain::ChainConfig;
pub use zb_keys::KeyConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayerConfig {
    /// Where the submission queue lives.
    pub data_dir: PathBuf,
    /// Health and Prometheus metrics.
    pub listen: SocketAddr,
    /// The key that pays for deliveries.
    pub key: KeyConfig,
    /// Validator API base URLs (their /v1/info says which signer each one is).
    pub validators: Vec<String>,
    /// API base URLs of fallback validators (`role = "fallback"`): asked only when the primary
    /// set has no quorum and a route has a fallback set whose delay has passed.
    #[serde(default)]
    pub fallback_validators: Vec<String>,
    /// The file holding this relayer's bearer token for the validators' signing endpoints (one
    /// line); each validator lists its SHA-256 in `[api] tokens`. Absent: no token is sent.
    #[serde(default)]
    pub validator_token_file: Option<PathBuf>,
    /// `[validator_tls]`: the CA to trust and the client certificate to present to validators
    /// serving TLS (mutual TLS in consortium mode). Absent: public roots, no client certificate.
    #[serde(default)]
    pub validator_tls: Option<crate::client::ClientTls>,
    pub chains: Vec<ChainConfig>,
    pub lanes: Vec<RelayLane>,
    /// A delivery whose estimated gas exceeds this is split into smaller batches.
    #[serde(default = "default_max_batch_gas")]
    pub max_batch_gas: u64,
    #[serde(default = "default_max_batch_messages")]
    pub max_batch_messages: u64,
    /// A submission not mined after this long is replaced with higher fees (same nonce).
    #[serde(default = "default_confirmation_timeout")]
    pub confirmation_timeout_secs: u64,
    /// The most the relayer pays per gas on each destination chain, by `[[chains]] name`;
    /// a chain without an entry gets [`FeeCeiling::default`].
    #[serde(default)]
    pub fee_ceilings: BTreeMap<String, FeeCeiling>,
}

/// EIP-1559 caps no delivery (first submission or replacement) goes above, in wei per gas. At
/// the ceiling a stuck submission is rebroadcast as it is instead of replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeeCeiling {
    pub max_fee_per_gas: u64,
    pub max_priority_fee_per_gas: u64,
}

impl Default for FeeCeiling {
    /// 500 gwei and a 50 gwei tip: far above a normal day on Ethereum or BNB Smart Chain, low
    /// enough that a fee spike or a lying fee estimate cannot drain the paying account.
    fn default() -> Self {
        FeeCeiling { max_fee_per_gas: 500_000_000_000, max_priority_fee_per_gas: 50_000_000_000 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayLane {
    pub lane: B256,
    /// `name` of the source chain in `chains`.
    pub source: String,
    /// `name` of the destination chain in `chains`.
    pub destination: String,
}

fn default_max_batch_gas() -> u64 {
    12_000_000
}
fn default_max_batch_messages() -> u64 {
    200
}
fn default_confirmation_timeout() -> u64 {
    30
}

impl RelayerConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: Self = crate::load_toml(path)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lanes.is_empty() {
            return Err(ConfigError::Invalid("no [[lanes]] to relay".into()));
        }
        if self.validators.is_empty() {
            return Err(ConfigError::Invalid("no validators: list their API URLs in `validators`".into()));
        }
        if let Some(tls) = &self.validator_tls {
            tls.validate()?;
        }
        for url in &self.fallback_validators {
            let scheme = reqwest::Url::parse(url).map(|u| u.scheme().to_string());
            if !matches!(scheme.as_deref(), Ok("http" | "https")) {
                return Err(ConfigError::Invalid(format!(
                    "fallback_validators: '{url}' is not an http:// or https:// URL (a fallback validator's API base URL)"
                )));
            }
        }
        for lane in &self.lanes {
            for name in [&lane.source, &lane.destination] {
                if !self.chains.iter().any(|c| &c.name == name) {
                    return Err(ConfigError::Invalid(format!(
                        "lane {} names chain '{name}', which has no [[chains]] entry",
                        lane.lane
                    )));
                }
            }
        }
        for (name, ceiling) in &self.fee_ceilings {
            if self.chain(name).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "fee_ceilings.{name}: no [[chains]] entry is named '{name}'"
                )));
            }
            if ceiling.max_fee_per_gas == 0 || ceiling.max_priority_fee_per_gas > ceiling.max_fee_per_gas {
                return Err(ConfigError::Invalid(format!(
                    "fee_ceilings.{name}: max_fee_per_gas must be above zero and at least max_priority_fee_per_gas"
                )));
            }
        }
        for chain in &self.chains {
            chain.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        self.key.validate().map_err(ConfigError::Invalid)?;
        Ok(())
    }

    pub fn chain(&self, name: &str) -> Option<&ChainConfig> {
        self.chains.iter().find(|c| c.name == name)
    }

    /// The fee ceiling of the chain named `name`.
    pub fn fee_ceiling(&self, name: &str) -> FeeCeiling {
        self.fee_ceilings.get(name).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        data_dir = "/data"
        listen = "127.0.0.1:7400"
        validators = ["http://127.0.0.1:7300"]
        [key]
        private_key_env = "ZB_RELAYER_PRIVATE_KEY"
        [[chains]]
        name = "a"
        chain_id = 1
        rpc = ["http://127.0.0.1:8545"]
        bridge = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        [[lanes]]
        lane = "0x80bb922d65d7120ec6067b9cc084049301de2fe48a0a169029ec310ac61838f6"
        source = "a"
        destination = "a"
    "#;

    /// Loads `top` + BASE with the real loader (no tempfile dev-dependency: a unique file name).
    fn parse(top: &str) -> Result<RelayerConfig, String> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("zb-relayer-config-{}-{n}.toml", std::process::id()));
        std::fs::write(&path, format!("{top}\n{BASE}")).map_err(|e| e.to_string())?;
        let loaded = RelayerConfig::load(&path).map_err(|e| e.to_string());
        let _ = std::fs::remove_file(&path);
        loaded
    }

    #[test]
    fn fallback_validators_are_optional_urls() {
        assert!(parse("").expect("without").fallback_validators.is_empty());
        let config =
            parse(r#"fallback_validators = ["http://127.0.0.1:7310", "https://fallback.example.org/"]"#).expect("with");
        assert_eq!(config.fallback_validators.len(), 2);
        let error = parse(r#"fallback_validators = ["127.0.0.1:7310"]"#).expect_err("no scheme");
        assert!(error.contains("fallback_validators") && error.contains("127.0.0.1:7310"), "{error}");
        let error = parse(r#"fallback_validators = ["ws://127.0.0.1:7310"]"#).expect_err("not http");
        assert!(error.contains("not an http:// or https:// URL"), "{error}");
    }

    #[test]
    fn fee_ceilings_are_per_named_chain_with_a_safe_default() {
        let config = parse("").expect("without");
        assert_eq!(config.fee_ceiling("a"), FeeCeiling::default());
        let config = parse(
            "fee_ceilings = { a = { max_fee_per_gas = 20_000_000_000, max_priority_fee_per_gas = 1_000_000_000 } }",
        )
        .expect("with");
        assert_eq!(config.fee_ceiling("a").max_fee_per_gas, 20_000_000_000);
        let error =
            parse("fee_ceilings = { b = { max_fee_per_gas = 1, max_priority_fee_per_gas = 1 } }").expect_err("unknown");
        assert!(error.contains("no [[chains]] entry is named 'b'"), "{error}");
        let error =
            parse("fee_ceilings = { a = { max_fee_per_gas = 1, max_priority_fee_per_gas = 2 } }").expect_err("tip");
        assert!(error.contains("at least max_priority_fee_per_gas"), "{error}");
    }
}
