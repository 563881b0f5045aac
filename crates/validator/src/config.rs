//! The validator's TOML configuration (documented in config/validator.example.toml).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use serde::Deserialize;
pub use zb_chain::ConfigError;
use zb_chain::ChainConfig;
use zb_keys::PasswordSource;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorConfig {
    /// Web3 Secret Storage file of the signing key (`zerobridge keys new`).
    pub keystore: PathBuf,
    /// Environment variable holding the keystore password (default ZB_KEYSTORE_PASSWORD)...
    #[serde(default)]
    pub password_env: Option<String>,
    /// ...or a file holding it. Never put the password itself in this file.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Where the slashing-protection database lives.
    pub data_dir: PathBuf,
    /// HTTP API (/v1/...), health and Prometheus metrics.
    pub listen: SocketAddr,
    /// The URL relayers should use to reach this validator, published in /v1/info.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Source chains this validator follows.
    pub chains: Vec<ChainConfig>,
    /// Lanes it secures; each names its source chain.
    pub lanes: Vec<LaneConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneConfig {
    pub lane: B256,
    /// `name` of an entry in `chains`.
    pub source: String,
}


impl ValidatorConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: Self = zb_chain::load_toml(path)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lanes.is_empty() {
            return Err(ConfigError::Invalid("no [[lanes]]: a validator must secure at least one lane".into()));
        }
        for lane in &self.lanes {
            if !self.chains.iter().any(|c| c.name == lane.source) {
                return Err(ConfigError::Invalid(format!(
                    "lane {} names source chain '{}', which has no [[chains]] entry",
                    lane.lane, lane.source
                )));
            }
        }
        for chain in &self.chains {
            chain.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        if self.password_env.is_some() && self.password_file.is_some() {
            return Err(ConfigError::Invalid("set password_env or password_file, not both".into()));
        }
        Ok(())
    }

    pub fn password_source(&self) -> PasswordSource {
        match (&self.password_file, &self.password_env) {
            (Some(file), _) => PasswordSource::File(file.clone()),
            (None, Some(var)) => PasswordSource::Env(var.clone()),
            (None, None) => PasswordSource::Env("ZB_KEYSTORE_PASSWORD".into()),
        }
    }
}
