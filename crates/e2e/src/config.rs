//! The agents' TOML configuration files as the harness writes them. The agents' own config types
//! only deserialize, so these mirror them; every file written is loaded back with the agent's own
//! loader before the agent starts, so a drift between the two fails loudly.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use eyre::{Result, WrapErr};
use serde::Serialize;
use zb_chain::ChainConfig;

/// `zerobridge validator run --config` (crates/validator/src/config.rs).
#[derive(Debug, Clone, Serialize)]
pub struct ValidatorToml {
    pub keystore: PathBuf,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_delay_secs: Option<u64>,
    pub chains: Vec<ChainConfig>,
    /// Optional when a chain has a `stake_manager`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lanes: Vec<ValidatorLaneToml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stake_refresh_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidatorLaneToml {
    pub lane: B256,
    pub source: String,
}

/// `zerobridge relayer run --config` (crates/relayer/src/config.rs).
#[derive(Debug, Clone, Serialize)]
pub struct RelayerToml {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_batch_gas: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_batch_messages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_timeout_secs: Option<u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fee_ceilings: BTreeMap<String, zb_config::relayer::FeeCeiling>,
    pub validators: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallback_validators: Vec<String>,
    pub key: RelayerKeyToml,
    pub chains: Vec<ChainConfig>,
    pub lanes: Vec<RelayerLaneToml>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelayerKeyToml {
    pub private_key_env: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelayerLaneToml {
    pub lane: B256,
    pub source: String,
    pub destination: String,
}

impl ValidatorToml {
    /// The `[[chains]]` entry named `name`.
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut ChainConfig> {
        self.chains.iter_mut().find(|c| c.name == name)
    }

    /// Writes the file and checks that the validator's own loader accepts it.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(self).wrap_err("serializing the validator config")?;
        std::fs::write(path, &text).wrap_err_with(|| format!("writing {}", path.display()))?;
        zb_config::validator::ValidatorConfig::load(path)
            .wrap_err_with(|| format!("the validator rejects the config the harness wrote:\n{text}"))?;
        Ok(())
    }
}

impl RelayerToml {
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut ChainConfig> {
        self.chains.iter_mut().find(|c| c.name == name)
    }

    /// Writes the file and checks that the relayer's own loader accepts it.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(self).wrap_err("serializing the relayer config")?;
        std::fs::write(path, &text).wrap_err_with(|| format!("writing {}", path.display()))?;
        zb_config::relayer::RelayerConfig::load(path)
            .wrap_err_with(|| format!("the relayer rejects the config the harness wrote:\n{text}"))?;
        Ok(())
    }
}
