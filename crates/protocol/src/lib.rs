//! The zerobridge protocol as off-chain agents see it: byte-exact re-implementations of what the contracts hash and verify
//! (docs/protocol.md). Nothing here talks to a chain.

pub mod checkpoint;
pub mod lane;
pub mod validator_set;

pub use checkpoint::{PackedSignature, checkpoint_digest, domain_separator, sign_checkpoint};
pub use lane::{Accumulator, MessageKind, SequenceError, initial_accumulator, lane_id, message_hash, route_id};
pub use validator_set::{QuorumError, Selection, ValidatorSet, ValidatorSetError};
pub use zb_contracts::bridge::ZeroBridge::{Checkpoint, Message};
