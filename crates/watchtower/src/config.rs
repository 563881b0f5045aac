//! The watchtower's TOML configuration (documented in config/watchtower.example.toml): the schema
//! and its loader live in `zb-config`.

pub use zb_config::ConfigError;
pub use zb_config::watchtower::*;
