//! The validators' and the relayer's config files, as `devnet up` writes them (the watchtower's
//! is in [`super::watchtower`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use eyre::{Result, WrapErr, eyre};
use serde::Serialize;
use zb_chain::ChainConfig;

use crate::network::ManifestAgent;

/// `zerobridge validator run --config` (crates/validator/src/config.rs); loaded back with
/// `ValidatorConfig::load` after writing, so a drift between the two fails at once. No
/// `[[lanes]]`: each validator secures the lanes its operator opted in to on the chains' stake
/// managers, and follows new opt-ins while running.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ValidatorToml {
    pub(super) keystore: PathBuf,
    pub(super) password_file: PathBuf,
    pub(super) data_dir: PathBuf,
    pub(super) listen: SocketAddr,
    pub(super) public_url: String,
    /// Fallback validators: `fallback`, with the delay and the lanes they watch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) fallback_delay_secs: Option<u64>,
    pub(super) chains: Vec<ChainConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) lanes: Vec<LaneToml>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct LaneToml {
    pub(super) lane: B256,
    pub(super) source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) destination: Option<String>,
}

/// `zerobridge relayer run --config` (crates/relayer/src/config.rs).
#[derive(Debug, Clone, Serialize)]
pub(super) struct RelayerToml {
    pub(super) data_dir: PathBuf,
    pub(super) listen: SocketAddr,
    pub(super) validators: Vec<String>,
    pub(super) fallback_validators: Vec<String>,
    pub(super) key: RelayerKeyToml,
    pub(super) chains: Vec<ChainConfig>,
    pub(super) lanes: Vec<LaneToml>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct RelayerKeyToml {
    pub(super) keystore: PathBuf,
    pub(super) password_file: PathBuf,
}

/// Writes a validator's config, checks it with the validator's own loader, and describes the
/// agent for the manifest (pid filled in when it starts).
pub(super) fn validator_agent(
    config_path: &Path,
    config: &ValidatorToml,
    name: String,
    address: alloy::primitives::Address,
    logs: &Path,
) -> Result<ManifestAgent> {
    write_toml(config_path, config)?;
    zb_config::validator::ValidatorConfig::load(config_path).map_err(|e| {
        eyre!(
            "the validator rejects the config devnet wrote ({e}); this is a bug: report it with {}",
            config_path.display()
        )
    })?;
    Ok(ManifestAgent {
        log: logs.join(format!("{name}.log")),
        name,
        url: config.public_url.clone(),
        address,
        pid: 0,
        config: config_path.to_path_buf(),
    })
}

pub(super) fn write_toml<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = toml::to_string(value).wrap_err_with(|| format!("serializing {}", path.display()))?;
    std::fs::write(path, text).wrap_err_with(|| format!("writing {}", path.display()))
}
