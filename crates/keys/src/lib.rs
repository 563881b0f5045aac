//! Validator keys in Web3 Secret Storage JSON (scrypt + AES-128-CTR), one file per key named
//! after its address, readable only by its owner.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("keystore {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("keystore {path}: cannot decrypt ({reason}); check the password")]
    Decrypt { path: PathBuf, reason: String },
    #[error("keystore: cannot create key: {0}")]
    Create(String),
    #[error("a key for {0} already exists in the keystore directory")]
    Exists(Address),
    #[error("password: {0}")]
    Password(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub address: Address,
    pub path: PathBuf,
}

/// Where an agent reads its keystore password from: never from the config file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    Env(String),
    File(PathBuf),
}

impl PasswordSource {
    pub fn read(&self) -> Result<String, KeyError> {
        match self {
            Self::Env(var) => {
                std::env::var(var).map_err(|_| KeyError::Password(format!("environment variable {var} is not set")))
            }
            Self::File(path) => fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| KeyError::Password(format!("cannot read {}: {e}", path.display()))),
        }
    }
}

/// An agent's `[key]` table: a keystore with its password from the environment or a file, or
/// (devnets only) an environment variable holding the raw private key. Exactly one of the two.
#[derive(Debug, Clone, Default, serde::Deserialize)]
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

impl KeyConfig {
    /// Refuses a table that names both kinds of key, or neither.
    pub fn validate(&self) -> Result<(), String> {
        if self.keystore.is_some() == self.private_key_env.is_some() {
            return Err("[key]: set exactly one of keystore or private_key_env".into());
        }
        Ok(())
    }

    /// The signer the table names.
    pub fn load(&self) -> Result<PrivateKeySigner, KeyError> {
        if let Some(var) = &self.private_key_env {
            let raw =
                std::env::var(var).map_err(|_| KeyError::Password(format!("environment variable {var} is not set")))?;
            return raw.trim().parse().map_err(|e| KeyError::Password(format!("{var}: not a private key: {e}")));
        }
        let path = self.keystore.as_ref().ok_or_else(|| KeyError::Password("[key] keystore missing".into()))?;
        let source = match (&self.password_file, &self.password_env) {
            (Some(file), _) => PasswordSource::File(file.clone()),
            (None, Some(var)) => PasswordSource::Env(var.clone()),
            (None, None) => PasswordSource::Env("ZB_KEYSTORE_PASSWORD".into()),
        };
        load_key(path, &source.read()?)
    }
}

/// Creates a fresh random key, encrypted with `password`.
pub fn new_key(dir: &Path, password: &str) -> Result<KeyInfo, KeyError> {
    let signer = PrivateKeySigner::random();
    write_key(dir, &signer, password)
}

/// Imports an existing private key.
pub fn import_key(dir: &Path, private_key: B256, password: &str) -> Result<KeyInfo, KeyError> {
    let signer = PrivateKeySigner::from_bytes(&private_key).map_err(|e| KeyError::Create(e.to_string()))?;
    write_key(dir, &signer, password)
}

fn write_key(dir: &Path, signer: &PrivateKeySigner, password: &str) -> Result<KeyInfo, KeyError> {
    let io = |source| KeyError::Io { path: dir.to_path_buf(), source };
    fs::create_dir_all(dir).map_err(io)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
    let address = signer.address();
    let name = format!("{address}.json");
    let path = dir.join(&name);
    if path.exists() {
        return Err(KeyError::Exists(address));
    }
    PrivateKeySigner::encrypt_keystore(dir, &mut rand::thread_rng(), signer.to_bytes(), password, Some(&name))
        .map_err(|e| KeyError::Create(e.to_string()))?;
    // eth-keystore writes 0644; a key file must not be world-readable.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
        .map_err(|source| KeyError::Io { path: path.clone(), source })?;
    Ok(KeyInfo { address, path })
}

/// Keys in `dir`, by file name (no decryption needed).
pub fn list_keys(dir: &Path) -> Result<Vec<KeyInfo>, KeyError> {
    let entries = fs::read_dir(dir).map_err(|source| KeyError::Io { path: dir.to_path_buf(), source })?;
    let mut keys: Vec<KeyInfo> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path();
            let stem = path.file_stem()?.to_str()?;
            let address = stem.parse::<Address>().ok()?;
            (path.extension()? == "json").then_some(KeyInfo { address, path })
        })
        .collect();
    keys.sort_by_key(|k| k.address);
    Ok(keys)
}

/// Decrypts a keystore file.
pub fn load_key(path: &Path, password: &str) -> Result<PrivateKeySigner, KeyError> {
    PrivateKeySigner::decrypt_keystore(path, password)
        .map_err(|e| KeyError::Decrypt { path: path.to_path_buf(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_import_list_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let created = new_key(dir.path(), "pw").expect("new");
        let mode = fs::metadata(&created.path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key file must be private");
        let secret = B256::repeat_byte(0x42);
        let imported = import_key(dir.path(), secret, "pw2").expect("import");
        assert!(matches!(import_key(dir.path(), secret, "pw2"), Err(KeyError::Exists(_))));
        let listed = list_keys(dir.path()).expect("list");
        assert_eq!(listed.len(), 2);
        assert!(listed.contains(&created) && listed.contains(&imported));
        let loaded = load_key(&imported.path, "pw2").expect("load");
        assert_eq!(loaded.address(), imported.address);
        assert_eq!(loaded.to_bytes(), secret);
        assert!(matches!(load_key(&imported.path, "wrong"), Err(KeyError::Decrypt { .. })));
    }
}
