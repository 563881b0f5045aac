//! The DTOs of zerobridge's HTTP APIs: what a server serializes and a client parses. Plain data
//! (serde and alloy primitives), no I/O, so that a client does not depend on the server's crate.

pub mod validator;
