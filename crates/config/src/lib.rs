//! The agents' configuration files: the TOML schemas of the validator, the relayer and the
//! watchtower, their loaders and validation. The agents run from these; the devnet launcher and
//! the end-to-end harness write and check them without depending on the agents.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

pub mod client;
pub mod relayer;
pub mod validator;
pub mod watchtower;

/// Why an agent's configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config {path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("config: {0}")]
    Invalid(String),
}

/// Reads and parses an agent's TOML configuration; the caller validates what it means.
pub fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.to_path_buf(), source: Box::new(source) })
}
