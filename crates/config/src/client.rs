//! The HTTP client that talks to validator APIs on behalf of a relayer, `zerobridge claim` or the
//! API: it presents the caller's bearer token (the validators list its SHA-256 in `[api] tokens`)
//! on every request, and only to validators: RPC endpoints get other clients, so the token never
//! reaches a chain provider.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

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

/// A client for validator APIs with `timeout` per request, sending `Authorization: Bearer
/// <token>` when a token file is given.
pub fn validator_client(token_file: Option<&Path>, timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    let mut headers = HeaderMap::new();
    if let Some(path) = token_file {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", read_token(path)?)).map_err(|_| {
            ConfigError::Invalid(format!("validator token file {}: not a valid header value", path.display()))
        })?;
        // Kept out of debug output and logs.
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .timeout(timeout)
        .default_headers(headers)
        .build()
        .map_err(|e| ConfigError::Invalid(format!("cannot build the validator HTTP client: {e}")))
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
        assert!(validator_client(None, Duration::from_secs(1)).is_ok());
    }
}
