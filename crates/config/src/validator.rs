//! The validator's TOML configuration (documented in config/validator.example.toml).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::ConfigError;
use alloy::primitives::B256;
use serde::Deserialize;
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
    /// Source chains this validator follows. A chain with `stake_manager` also contributes the
    /// lanes this validator's operator opted in to there.
    pub chains: Vec<ChainConfig>,
    /// Lanes it secures whatever the stake managers say; each names its source chain. Optional
    /// when at least one chain has a `stake_manager`.
    #[serde(default)]
    pub lanes: Vec<LaneConfig>,
    /// How often the stake managers are read again (opt-ins, snapshots), in seconds.
    #[serde(default = "default_stake_refresh_secs")]
    pub stake_refresh_secs: u64,
    /// `primary` signs every new head; `fallback` signs only on request, once a message has
    /// waited out `fallback_delay_secs` (DESIGN.md section 5).
    #[serde(default)]
    pub role: Role,
    /// The route's fallback delay, in seconds: required for, and only allowed with, the
    /// fallback role.
    #[serde(default)]
    pub fallback_delay_secs: Option<u64>,
    /// Who may call the signing endpoints, and how much (`[api]`).
    #[serde(default)]
    pub api: ApiConfig,
    /// How many of each lane's newest accumulators are kept in memory; older sequences are read
    /// from the store (signing one on request, the fallback due check). At least 1.
    #[serde(default = "default_memory_window")]
    pub memory_window: usize,
}

/// The API's guard: bearer tokens, a request timeout, a concurrency and a per-client rate limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Relayers allowed to call the signing endpoints, by the SHA-256 of their bearer token
    /// (only hashes live here). Empty leaves them open (devnet only; logged as a warning).
    #[serde(default)]
    pub tokens: Vec<ApiToken>,
    /// A request taking longer than this is answered 503.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Requests served at once; more are answered 503 at once rather than queued.
    #[serde(default = "default_max_concurrent_requests")]
    pub max_concurrent_requests: usize,
    /// Sustained requests per second per client (token name, or peer IP without tokens)...
    #[serde(default = "default_rate_limit_per_sec")]
    pub rate_limit_per_sec: u32,
    /// ...with bursts up to this many; above it, 429.
    #[serde(default = "default_rate_limit_burst")]
    pub rate_limit_burst: u32,
    /// Serve the API over TLS; absent: plain HTTP (loopback or behind a TLS proxy only).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Serve `/metrics` on this address (plain HTTP, keep it private) and not on the API port.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
}

/// `[api.tls]`: rustls with this certificate chain and key (PEM). With `client_ca_file`, only
/// clients presenting a certificate issued by that CA connect: mutual TLS, the consortium mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    /// Names the client in logs and in the rate limit.
    pub name: String,
    /// `sha256sum` of the token file's content (trailing newline stripped), hex.
    pub token_sha256: B256,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            tokens: Vec::new(),
            request_timeout_secs: default_request_timeout_secs(),
            max_concurrent_requests: default_max_concurrent_requests(),
            rate_limit_per_sec: default_rate_limit_per_sec(),
            rate_limit_burst: default_rate_limit_burst(),
            tls: None,
            metrics_listen: None,
        }
    }
}

fn default_request_timeout_secs() -> u64 {
    10
}
fn default_max_concurrent_requests() -> usize {
    64
}
fn default_rate_limit_per_sec() -> u32 {
    50
}
fn default_rate_limit_burst() -> u32 {
    200
}

impl ApiConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.request_timeout_secs == 0 || self.max_concurrent_requests == 0 || self.rate_limit_per_sec == 0 {
            return Err(ConfigError::Invalid(
                "[api]: request_timeout_secs, max_concurrent_requests and rate_limit_per_sec must be > 0".into(),
            ));
        }
        if self.rate_limit_burst < self.rate_limit_per_sec {
            return Err(ConfigError::Invalid("[api]: rate_limit_burst must be >= rate_limit_per_sec".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        for token in &self.tokens {
            if token.name.is_empty() || !names.insert(token.name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "[api] tokens: name '{}' is empty or listed twice; each relayer gets its own name",
                    token.name
                )));
            }
        }
        Ok(())
    }
}

pub use zb_api_types::validator::Role;

/// Default of `stake_refresh_secs`: an opt-in counts from the next epoch's snapshot, so a minute
/// is early enough, and it keeps the RPC load negligible.
pub const DEFAULT_STAKE_REFRESH_SECS: u64 = 60;

fn default_stake_refresh_secs() -> u64 {
    DEFAULT_STAKE_REFRESH_SECS
}

/// Default of `memory_window`: about 160 KiB per lane, and far more than relayers ask for behind
/// the head; anything older costs one store read.
pub const DEFAULT_MEMORY_WINDOW: usize = 4096;

fn default_memory_window() -> usize {
    DEFAULT_MEMORY_WINDOW
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
        let config: Self = crate::load_toml(path)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_role()?;
        self.api.validate()?;
        if self.lanes.is_empty() && !self.has_stake_manager() {
            return Err(ConfigError::Invalid(
                "no [[lanes]]: a validator must secure at least one lane (list [[lanes]], or set `stake_manager` on a \
                 [[chains]] entry to secure the lanes its operator opted in to)"
                    .into(),
            ));
        }
        if self.memory_window == 0 {
            return Err(ConfigError::Invalid(format!(
                "`memory_window` is 0: keep at least the head of every lane in memory (default {DEFAULT_MEMORY_WINDOW})"
            )));
        }
        if self.stake_refresh_secs == 0 {
            return Err(ConfigError::Invalid(
                "`stake_refresh_secs` is 0: set how often the stake managers are read, in seconds (default 60)".into(),
            ));
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

    fn validate_role(&self) -> Result<(), ConfigError> {
        match (self.role, self.fallback_delay_secs) {
            (Role::Primary, None) => Ok(()),
            (Role::Primary, Some(_)) => Err(ConfigError::Invalid(
                "`fallback_delay_secs` is only used with `role = \"fallback\"`: remove it, or set the role".into(),
            )),
            (Role::Fallback, None | Some(0)) => Err(ConfigError::Invalid(
                "`role = \"fallback\"` needs `fallback_delay_secs` > 0: the route's fallback delay on the \
                 destination (getRoute(routeId).fallbackDelay), in seconds"
                    .into(),
            )),
            (Role::Fallback, Some(_)) if self.lanes.is_empty() => Err(ConfigError::Invalid(
                "`role = \"fallback\"` needs [[lanes]]: a fallback validator secures exactly the lanes listed there \
                 (fallback opt-ins are stored under StakeManager.fallbackKey(lane), which this validator does not map \
                 back to lanes)"
                    .into(),
            )),
            (Role::Fallback, Some(_)) if self.has_stake_manager() => Err(ConfigError::Invalid(
                "`role = \"fallback\"` with a `stake_manager`: a fallback validator secures exactly its [[lanes]]; \
                 lanesOf(operator) would list fallback keys, not lanes. Remove `stake_manager` from [[chains]]"
                    .into(),
            )),
            (Role::Fallback, Some(_)) => Ok(()),
        }
    }

    /// The fallback delay, for the fallback role.
    pub fn fallback_delay(&self) -> Option<u64> {
        match self.role {
            Role::Primary => None,
            Role::Fallback => self.fallback_delay_secs,
        }
    }

    /// Whether any chain names a stake manager (lanes then come from opt-ins too).
    pub fn has_stake_manager(&self) -> bool {
        self.chains.iter().any(|c| c.stake_manager.is_some())
    }

    pub fn password_source(&self) -> PasswordSource {
        match (&self.password_file, &self.password_env) {
            (Some(file), _) => PasswordSource::File(file.clone()),
            (None, Some(var)) => PasswordSource::Env(var.clone()),
            (None, None) => PasswordSource::Env("ZB_KEYSTORE_PASSWORD".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;

    use super::*;

    const HEAD: &str = r#"
        keystore = "/keys/validator.json"
        data_dir = "/data"
        listen = "127.0.0.1:7300"
    "#;

    fn chain(name: &str, extra: &str) -> String {
        format!(
            r#"
            [[chains]]
            name = "{name}"
            chain_id = 1
            rpc = ["http://127.0.0.1:8545"]
            bridge = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            {extra}
            "#
        )
    }

    const LANE: &str = r#"
        [[lanes]]
        lane = "0x80bb922d65d7120ec6067b9cc084049301de2fe48a0a169029ec310ac61838f6"
        source = "ethereum"
    "#;

    /// Loads `text` with the real loader (parse, then validate).
    fn parse(text: &str) -> Result<ValidatorConfig, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("validator.toml");
        std::fs::write(&path, text).expect("write config");
        ValidatorConfig::load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn stake_manager_is_read_per_chain() {
        let text = format!(
            "{HEAD}{}{}",
            chain("ethereum", r#"stake_manager = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512""#),
            chain("bsc", "")
        );
        let config = parse(&text).expect("loads");
        let expected: Address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512".parse().expect("address");
        assert_eq!(config.chains[0].stake_manager, Some(expected));
        assert_eq!(config.chains[1].stake_manager, None);
        assert!(config.has_stake_manager());
        // No [[lanes]]: they come from the opt-ins.
        assert!(config.lanes.is_empty());
        assert_eq!(config.stake_refresh_secs, DEFAULT_STAKE_REFRESH_SECS);
    }

    #[test]
    fn lanes_are_optional_only_with_a_stake_manager() {
        let neither = format!("{HEAD}{}", chain("ethereum", ""));
        let error = parse(&neither).expect_err("no lanes and no stake manager");
        assert!(error.contains("no [[lanes]]"), "{error}");
        assert!(error.contains("stake_manager"), "the error names the other way: {error}");

        // Explicit lanes alone still work, and so do both together.
        let explicit = format!("{HEAD}{}{LANE}", chain("ethereum", ""));
        assert_eq!(parse(&explicit).expect("explicit lanes").lanes.len(), 1);
        let both = format!(
            "{HEAD}{}{LANE}",
            chain("ethereum", r#"stake_manager = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512""#)
        );
        let config = parse(&both).expect("both");
        assert_eq!(config.lanes.len(), 1);
        assert!(config.has_stake_manager());
    }

    #[test]
    fn memory_window_defaults_and_must_hold_the_head() {
        let sm = r#"stake_manager = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512""#;
        let default = format!("{HEAD}{}", chain("ethereum", sm));
        assert_eq!(parse(&default).expect("loads").memory_window, DEFAULT_MEMORY_WINDOW);
        let small = format!("memory_window = 16\n{HEAD}{}", chain("ethereum", sm));
        assert_eq!(parse(&small).expect("loads").memory_window, 16);
        let zero = format!("memory_window = 0\n{HEAD}{}", chain("ethereum", sm));
        let error = parse(&zero).expect_err("refused").to_string();
        assert!(error.contains("memory_window"), "{error}");
    }

    #[test]
    fn stake_refresh_and_bad_stake_managers() {
        let sm = r#"stake_manager = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512""#;
        let text = format!("stake_refresh_secs = 5\n{HEAD}{}", chain("ethereum", sm));
        assert_eq!(parse(&text).expect("loads").stake_refresh_secs, 5);

        let zero = format!("stake_refresh_secs = 0\n{HEAD}{}", chain("ethereum", sm));
        let error = parse(&zero).expect_err("zero refresh");
        assert!(error.contains("stake_refresh_secs"), "{error}");

        let zero_address =
            format!("{HEAD}{}", chain("ethereum", r#"stake_manager = "0x0000000000000000000000000000000000000000""#));
        let error = parse(&zero_address).expect_err("zero stake manager");
        assert!(error.contains("`stake_manager` is the zero address"), "{error}");

        let not_an_address = format!("{HEAD}{}", chain("ethereum", r#"stake_manager = "0x1234""#));
        assert!(parse(&not_an_address).is_err());
    }

    #[test]
    fn the_fallback_role_needs_a_delay_and_lanes() {
        let eth = chain("ethereum", "");
        let primary = parse(&format!("{HEAD}{eth}{LANE}")).expect("default role");
        assert_eq!((primary.role, primary.fallback_delay()), (Role::Primary, None));

        let fallback =
            parse(&format!("role = \"fallback\"\nfallback_delay_secs = 3600\n{HEAD}{eth}{LANE}")).expect("fallback");
        assert_eq!((fallback.role, fallback.fallback_delay()), (Role::Fallback, Some(3600)));

        for (top, needle) in [
            ("role = \"fallback\"", "needs `fallback_delay_secs` > 0"),
            ("role = \"fallback\"\nfallback_delay_secs = 0", "needs `fallback_delay_secs` > 0"),
            ("fallback_delay_secs = 60", "only used with `role = \"fallback\"`"),
            ("role = \"primary\"\nfallback_delay_secs = 60", "only used with `role = \"fallback\"`"),
        ] {
            let error = parse(&format!("{top}\n{HEAD}{eth}{LANE}")).expect_err(top);
            assert!(error.contains(needle), "{top}: {error}");
        }
        let role = "role = \"fallback\"\nfallback_delay_secs = 60";
        let sm = r#"stake_manager = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512""#;
        let no_lanes = parse(&format!("{role}\n{HEAD}{}", chain("ethereum", sm))).expect_err("no lanes");
        assert!(no_lanes.contains("needs [[lanes]]") && no_lanes.contains("fallbackKey"), "{no_lanes}");
        let staked = parse(&format!("{role}\n{HEAD}{}{LANE}", chain("ethereum", sm))).expect_err("stake manager");
        assert!(staked.contains("Remove `stake_manager`"), "{staked}");
        let error = parse(&format!("role = \"master\"\n{HEAD}{eth}{LANE}")).expect_err("unknown role");
        assert!(error.contains("unknown variant `master`"), "{error}");
    }

    #[test]
    fn unknown_keys_are_still_refused_in_chains_and_at_the_top() {
        let sm = r#"stake_manager = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512""#;
        let misspelt = format!("{HEAD}{}", chain("ethereum", &format!("{sm}\nstake_manger = \"0x00\"")));
        let error = parse(&misspelt).expect_err("misspelt chain key");
        assert!(error.contains("unknown field `stake_manger`"), "{error}");

        let top = format!("stake_refresh = 5\n{HEAD}{}", chain("ethereum", sm));
        let error = parse(&top).expect_err("misspelt top-level key");
        assert!(error.contains("unknown field `stake_refresh`"), "{error}");
    }

    #[test]
    fn api_tokens_are_hashes_with_unique_names_and_limits_are_positive() {
        let eth = chain("ethereum", "");
        let hash = "0x2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
        let api = format!("[api]\ntokens = [{{ name = \"relayer-1\", token_sha256 = \"{hash}\" }}]\n");
        let config = parse(&format!("{HEAD}{eth}{LANE}{api}")).expect("tokens");
        assert_eq!(config.api.tokens[0].name, "relayer-1");
        assert_eq!(config.api.rate_limit_burst, 200);

        let twice = format!(
            "[api]\ntokens = [{{ name = \"r\", token_sha256 = \"{hash}\" }}, {{ name = \"r\", token_sha256 = \"{hash}\" }}]\n"
        );
        let error = parse(&format!("{HEAD}{eth}{LANE}{twice}")).expect_err("duplicate name");
        assert!(error.contains("listed twice"), "{error}");
        let error = parse(&format!("{HEAD}{eth}{LANE}[api]\nmax_concurrent_requests = 0\n")).expect_err("zero");
        assert!(error.contains("must be > 0"), "{error}");
        let error = parse(&format!("{HEAD}{eth}{LANE}[api]\ntoken = \"plain\"\n")).expect_err("plain token");
        assert!(error.contains("unknown field `token`"), "{error}");
    }
}
