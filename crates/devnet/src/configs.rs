//! The agents' TOML configuration files, as the devnet writes them (one set of structs for
//! `zerobridge devnet up` and the test harness). The agents' own config types (zb-config) only
//! deserialize, so these mirror them; every file is loaded back with the agent's own loader right
//! after it is written, so a drift between the two fails at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use eyre::{Result, WrapErr, eyre};
use serde::Serialize;
use zb_chain::ChainConfig;

/// `zerobridge validator run --config` (zb-config's `validator`). Without `[[lanes]]` a validator
/// secures the lanes its operator opted in to on the chains' stake managers.
#[derive(Debug, Clone, Serialize)]
pub struct ValidatorToml {
    pub keystore: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Fallback validators: `fallback`, with the delay and the lanes they watch.
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
    /// `[api]`: the bearer tokens the signing endpoints accept (none: open, as on the devnet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiToml>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToml {
    pub tokens: Vec<ApiTokenToml>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiTokenToml {
    pub name: String,
    pub token_sha256: B256,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidatorLaneToml {
    pub lane: B256,
    pub source: String,
}

/// `zerobridge relayer run --config` (zb-config's `relayer`).
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
    /// The bearer token it presents to the validators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator_token_file: Option<PathBuf>,
    pub key: RelayerKeyToml,
    pub chains: Vec<ChainConfig>,
    pub lanes: Vec<RelayerLaneToml>,
}

/// The relayer's paying key: a keystore (`devnet up`) or a raw key in an environment variable
/// (the harness, which skips a scrypt derivation per start).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RelayerKeyToml {
    Keystore { keystore: PathBuf, password_file: PathBuf },
    Env { private_key_env: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct RelayerLaneToml {
    pub lane: B256,
    pub source: String,
    pub destination: String,
}

/// `zerobridge watchtower --config` (zb-config's `watchtower`); anomaly thresholds and
/// enforcement_blocks keep their defaults.
#[derive(Debug, Clone, Serialize)]
pub struct WatchtowerToml {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
    pub key: WatchtowerKeyToml,
    pub alerts: WatchtowerAlertsToml,
    pub chains: Vec<ChainConfig>,
    pub routes: Vec<zb_config::watchtower::WatchedRoute>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchtowerKeyToml {
    pub private_key_env: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchtowerAlertsToml {
    pub file: PathBuf,
}

/// Serializes `value` to `path`, then loads it back with `check` (the agent's own loader).
fn write_checked<T: Serialize, E: std::fmt::Display>(
    path: &Path,
    value: &T,
    agent: &str,
    check: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> Result<()> {
    let text = toml::to_string(value).wrap_err_with(|| format!("serializing the {agent} config"))?;
    std::fs::write(path, &text).wrap_err_with(|| format!("writing {}", path.display()))?;
    check(path).map_err(|e| {
        eyre!("the {agent} rejects the config the devnet wrote to {} ({e}); this is a bug:\n{text}", path.display())
    })
}

fn chain_mut<'a>(chains: &'a mut [ChainConfig], name: &str) -> Option<&'a mut ChainConfig> {
    chains.iter_mut().find(|c| c.name == name)
}

impl ValidatorToml {
    /// The `[[chains]]` entry named `name`.
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut ChainConfig> {
        chain_mut(&mut self.chains, name)
    }

    /// Writes the file and checks that the validator's own loader accepts it.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_checked(path, self, "validator", |p| zb_config::validator::ValidatorConfig::load(p).map(drop))
    }
}

impl RelayerToml {
    /// The `[[chains]]` entry named `name`.
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut ChainConfig> {
        chain_mut(&mut self.chains, name)
    }

    /// Writes the file and checks that the relayer's own loader accepts it.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_checked(path, self, "relayer", |p| zb_config::relayer::RelayerConfig::load(p).map(drop))
    }
}

impl WatchtowerToml {
    /// Writes the file and checks that the watchtower's own loader accepts it.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_checked(path, self, "watchtower", |p| zb_config::watchtower::WatchtowerConfig::load(p).map(drop))
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use alloy::primitives::Address;
    use zb_chain::Finality;

    use super::*;

    fn chain(name: &str, chain_id: u64) -> ChainConfig {
        ChainConfig {
            name: name.into(),
            chain_id,
            rpc: vec!["http://127.0.0.1:8545".into()],
            ws: None,
            bridge: Address::repeat_byte(1),
            finality: Finality::Depth(2),
            rpc_quorum: 1,
            poll_interval_ms: 500,
            start_block: 0,
            stake_manager: Some(Address::repeat_byte(2)),
        }
    }

    #[test]
    fn the_agents_accept_what_the_devnet_writes_and_a_drift_is_caught() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keystore = dir.path().join("key.json");
        std::fs::write(&keystore, "{}").expect("keystore file");
        let password = dir.path().join("password");
        std::fs::write(&password, "devnet").expect("password file");
        let lane = B256::repeat_byte(7);
        let mut validator = ValidatorToml {
            keystore: keystore.clone(),
            password_file: Some(password.clone()),
            data_dir: dir.path().join("data"),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 7101)),
            public_url: Some("http://127.0.0.1:7101".into()),
            role: None,
            fallback_delay_secs: None,
            chains: vec![chain("ethereum", 1), chain("bsc", 56)],
            lanes: vec![ValidatorLaneToml { lane, source: "ethereum".into() }],
            stake_refresh_secs: None,
            api: None,
        };
        validator.write(&dir.path().join("validator.toml")).expect("the validator accepts it");
        // A lane naming an unknown chain: the validator's loader refuses, and so does write.
        validator.lanes[0].source = "nowhere".into();
        let err = validator.write(&dir.path().join("validator.toml")).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("the validator rejects the config"), "{err}");

        let relayer = RelayerToml {
            data_dir: dir.path().join("relayer"),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 7200)),
            max_batch_gas: None,
            max_batch_messages: None,
            confirmation_timeout_secs: None,
            fee_ceilings: BTreeMap::new(),
            validators: vec!["http://127.0.0.1:7101".into()],
            fallback_validators: Vec::new(),
            validator_token_file: None,
            key: RelayerKeyToml::Keystore { keystore, password_file: password },
            chains: vec![chain("ethereum", 1), chain("bsc", 56)],
            lanes: vec![RelayerLaneToml { lane, source: "ethereum".into(), destination: "bsc".into() }],
        };
        relayer.write(&dir.path().join("relayer.toml")).expect("the relayer accepts a keystore key");
        let relayer = RelayerToml { key: RelayerKeyToml::Env { private_key_env: "ZB_RELAYER_KEY".into() }, ..relayer };
        relayer.write(&dir.path().join("relayer.toml")).expect("the relayer accepts a key from the environment");
    }
}
