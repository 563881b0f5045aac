//! The HTTP client that talks to validator APIs on behalf of a relayer, `zerobridge claim` or the
//! API: it presents the caller's bearer token (the validators list its SHA-256 in `[api] tokens`)
//! on every request, and only to validators: RPC endpoints get other clients, so the token never
//! reaches a chain provider.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The token in `path`: the file's content without its trailing newline, as `sha256sum` of the
/// same file (newline stripped) gives the hash the validators configure.
pub fn read_token(path: &Path) -> Result<String, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    let token = text.trim_end_matches(['\n', '\r']);
    if token.is_empty() || token.chars().any(char::is_whitespace) {
        return Err(ConfigError::Invalid(format!(
            "validator token file {}: the token must be one line with no spaces (e.g. `openssl rand -hex 32`)",
            path.display()
        )));
    }
    Ok(token.to_string())
}

/// How a client reaches validators that serve TLS (`[api.tls]` on the validator).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    /// PEM CA certificates trusted for the validators' certificates, instead of the public
    /// roots: the consortium's CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// This client's certificate chain (PEM), for validators that require mutual TLS...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// ...and its private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

impl ClientTls {
    /// The same files, relative paths taken from `dir` (the directory of the file that named them).
    pub fn relative_to(&self, dir: &Path) -> ClientTls {
        let resolve = |file: &Option<PathBuf>| file.as_ref().map(|f| dir.join(f));
        ClientTls {
            ca_file: resolve(&self.ca_file),
            cert_file: resolve(&self.cert_file),
            key_file: resolve(&self.key_file),
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(ConfigError::Invalid(
                "validator TLS: set cert_file and key_file together (the client certificate and its key)".into(),
            ));
        }
        Ok(())
    }
}

fn read_pem(what: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::Invalid(format!("validator TLS {what} {}: {e}", path.display())))
}

/// A client for validator APIs with `timeout` per request, sending `Authorization: Bearer
/// <token>` when a token file is given, and trusting / presenting the certificates of `tls`.
pub fn validator_client(
    token_file: Option<&Path>,
    tls: Option<&ClientTls>,
    timeout: Duration,
) -> Result<reqwest::Client, ConfigError> {
    let mut headers = HeaderMap::new();
    if let Some(path) = token_file {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", read_token(path)?)).map_err(|_| {
            ConfigError::Invalid(format!("validator token file {}: not a valid header value", path.display()))
        })?;
        // Kept out of debug output and logs.
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    let mut builder = reqwest::Client::builder().timeout(timeout).default_headers(headers);
    if let Some(tls) = tls {
        tls.validate()?;
        if let Some(ca_file) = &tls.ca_file {
            let bundle = read_pem("ca_file", ca_file)?;
            let roots = reqwest::Certificate::from_pem_bundle(&bundle)
                .map_err(|e| ConfigError::Invalid(format!("validator TLS ca_file {}: {e}", ca_file.display())))?;
            builder = builder.tls_certs_only(roots);
        }
        if let (Some(cert_file), Some(key_file)) = (&tls.cert_file, &tls.key_file) {
            let mut pem = read_pem("cert_file", cert_file)?;
            pem.push(b'\n');
            pem.extend(read_pem("key_file", key_file)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                ConfigError::Invalid(format!(
                    "validator TLS cert_file {} / key_file {}: {e}",
                    cert_file.display(),
                    key_file.display()
                ))
            })?;
            builder = builder.identity(identity);
        }
    }
    builder.build().map_err(|e| ConfigError::Invalid(format!("cannot build the validator HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_one_line_without_the_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret-token\n").expect("write");
        assert_eq!(read_token(&path).expect("token"), "s3cret-token");
        for bad in ["", "\n", "two words\n", "a\nb\n"] {
            std::fs::write(&path, bad).expect("write");
            assert!(matches!(read_token(&path), Err(ConfigError::Invalid(_))), "{bad:?} accepted");
        }
        assert!(matches!(read_token(&dir.path().join("missing")), Err(ConfigError::Read { .. })));
        assert!(validator_client(None, None, Duration::from_secs(1)).is_ok());
        let half = ClientTls { cert_file: Some(path.clone()), ..ClientTls::default() };
        assert!(matches!(validator_client(None, Some(&half), Duration::from_secs(1)), Err(ConfigError::Invalid(_))));
    }
}
