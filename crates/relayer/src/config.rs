//! The relayer's TOML configuration (documented in config/relayer.example.toml): the schema and
//! its loader live in `zb-config`.

pub use zb_config::ConfigError;
pub use zb_config::relayer::*;
