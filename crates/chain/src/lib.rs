//! The chain follower every zerobridge agent uses (DESIGN.md sections 3 and 6,
//! docs/protocol.md section 2).
//!
//! A [`Follower`] reads one EVM chain through one or more HTTP endpoints. It
//! - refuses endpoints that serve another chain (`eth_chainId` is checked at connect time),
//! - answers only with what is final under the configured rule ([`Finality`]),
//! - with `rpc_quorum > 1`, cross-checks every answer it gives (final block, logs, block hashes)
//!   across endpoints and refuses to answer when they disagree,
//! - returns only logs emitted by the configured bridge address, whatever an endpoint sends.
//!
//! [`Follower::new_heads`] follows new heads by websocket subscription with polling as the
//! fallback. [`ReorgGuard`] remembers the blocks whose logs were consumed as final and detects a
//! reorganisation deeper than the finality rule.

mod config;
mod error;
mod follower;
mod heads;
mod reorg;
mod scan;

pub use config::{ChainConfig, Finality, on_this_machine};
pub use error::ChainError;
pub use follower::{BlockRef, Follower, MAX_TOPIC_FILTER, RPC_TIMEOUT, SentMessage, decode_sent_message, wait_for_rpc};
pub use reorg::ReorgGuard;
pub use scan::{LogScan, MAX_LOG_RANGE, MAX_LOG_WINDOW, scan_logs};
