//! The relayer's TOML configuration (documented in config/relayer.example.toml).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use serde::Deserialize;
pub use zb_chain::ConfigError;
use zb_chain::ChainConfig;

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Web3 Secret Storage file, with its password in `password_env` (default
    /// ZB_KEYSTORE_PASSWORD) or `password_file`...
    #[serde(default)]
    pub keystore: Option<PathBuf>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// ...or, for devnets only, an environment variable holding a raw private key.
    #[serde(default)]
    pub private_key_env: Option<String>,
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
        let config: Self = zb_chain::load_toml(path)?;
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
        for chain in &self.chains {
            chain.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        let key = &self.key;
        if key.keystore.is_some() == key.private_key_env.is_some() {
            return Err(ConfigError::Invalid("[key]: set exactly one of keystore or private_key_env".into()));
        }
        Ok(())
    }

    pub fn chain(&self, name: &str) -> Option<&ChainConfig> {
        self.chains.iter().find(|c| c.name == name)
    }
}
