//! The devnet's keys: one deterministic seed scheme for validators and fallback validators (the
//! CLI's devnet and every test use the same keys), their keystores, and the password file.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use alloy::primitives::{B256, keccak256};
use eyre::{Result, WrapErr, bail};
use sha2::{Digest, Sha256};

use crate::configs::{ApiTokenToml, ApiToml};

pub use zb_keys::KeyInfo;

/// Keystore password of every devnet key (also written to `<dir>/keys/password`).
pub const KEYSTORE_PASSWORD: &str = "devnet";

/// The deterministic private key of devnet validator `i`.
pub fn validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.devnet.validator.{i}"))
}

/// The deterministic private key of devnet fallback validator `i`.
pub fn fallback_validator_key(i: usize) -> B256 {
    keccak256(format!("zerobridge.devnet.fallback.{i}"))
}

/// Writes `secret` to `path`, readable by the owner only.
fn write_secret(path: &Path, secret: &str) -> Result<PathBuf> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .wrap_err_with(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes()).wrap_err_with(|| format!("writing {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Writes [`KEYSTORE_PASSWORD`] to `path`, readable by the owner only.
pub fn write_password_file(path: &Path) -> Result<PathBuf> {
    write_secret(path, KEYSTORE_PASSWORD)
}

/// The validator API's bearer tokens of a detached devnet: one for the relayer, one for the
/// CLI and the API (the manifest's `validatorTokenFile`), and the `[api]` that accepts both.
pub struct ApiTokens {
    pub relayer_file: PathBuf,
    pub clients_file: PathBuf,
    pub api: ApiToml,
}

/// Fresh random tokens in `dir` (`relayer.token`, `clients.token`), as a validator operator
/// would make them; the validators' configs list only their SHA-256.
pub fn write_api_tokens(dir: &Path) -> Result<ApiTokens> {
    let mut tokens = Vec::new();
    let mut files = Vec::new();
    for name in ["relayer", "clients"] {
        let token = B256::from(rand::random::<[u8; 32]>()).to_string();
        files.push(write_secret(&dir.join(format!("{name}.token")), &token)?);
        let token_sha256 = B256::from(<[u8; 32]>::from(Sha256::digest(token.as_bytes())));
        tokens.push(ApiTokenToml { name: name.to_string(), token_sha256 });
    }
    let clients_file = files.pop().ok_or_else(|| eyre::eyre!("no clients token"))?;
    let relayer_file = files.pop().ok_or_else(|| eyre::eyre!("no relayer token"))?;
    Ok(ApiTokens { relayer_file, clients_file, api: ApiToml { tokens } })
}

/// Imports `keys` into keystores in `dir` (password [`KEYSTORE_PASSWORD`]), in order. Off the
/// async runtime: each keystore costs a scrypt derivation.
pub async fn import_keys(dir: &Path, keys: Vec<B256>) -> Result<Vec<KeyInfo>> {
    let dir = dir.to_path_buf();
    let count = keys.len();
    let imported = tokio::task::spawn_blocking(move || -> Result<Vec<KeyInfo>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(zb_keys::import_key(&dir, key, KEYSTORE_PASSWORD)?);
        }
        Ok(out)
    })
    .await
    .wrap_err("importing keys")??;
    if imported.len() != count {
        bail!("imported {} keys, expected {count}", imported.len());
    }
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_keys_are_deterministic_and_distinct() {
        assert_eq!(validator_key(0), validator_key(0));
        assert_ne!(validator_key(0), validator_key(1));
        assert_ne!(validator_key(0), fallback_validator_key(0));
    }

    #[tokio::test]
    async fn imported_keystores_hold_the_devnet_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = import_keys(dir.path(), vec![validator_key(0), fallback_validator_key(1)]).await.expect("import");
        let expected = |key: B256| alloy::signers::local::PrivateKeySigner::from_bytes(&key).expect("key").address();
        assert_eq!(keys[0].address, expected(validator_key(0)));
        assert_eq!(keys[1].address, expected(fallback_validator_key(1)));
        assert!(keys.iter().all(|k| k.path.is_file()));
    }
}
