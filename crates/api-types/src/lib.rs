//! The DTOs of zerobridge's HTTP APIs and alerts: what a server serializes and a client parses.
//! Plain data (serde, serde_json values and alloy primitives), no I/O, so that a client does not
//! depend on the server's crate.

pub mod explorer;
pub mod relayer;
pub mod validator;
pub mod watchtower;
