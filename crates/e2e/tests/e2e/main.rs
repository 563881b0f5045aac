//! End-to-end scenarios on two real anvil chains with the real contracts and the real agents
//! (`zerobridge validator run`, `zerobridge relayer run`) as processes. One test binary, so that
//! cargo runs the scenarios in parallel; each has its own chains, ports and directory.
//!
//! Needs `cargo build --bin zerobridge` first (scripts/test.sh does it).

mod accumulator_mismatch;
mod api;
mod api_auth;
mod api_claim;
mod claim;
mod fee_ceiling;
mod liveness;
mod lying_rpc;
mod opt_in;
mod relayer_crash;
mod relayer_resume;
mod reorg;
mod resume;
mod slashing;
mod transfer;
mod validator_crash;
mod validator_down;
mod watchtower;

use std::time::Duration;

/// Failure bound for one delivery (typically a few seconds with 1-second blocks).
pub const DELIVERY: Duration = Duration::from_secs(90);
