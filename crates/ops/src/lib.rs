//! What the `zerobridge` binary does for people rather than as an agent: the local devnet,
//! holder commands (send, track, balance), token-team commands (route ...) and operator commands
//! for shared security (stake ..., slash ...). Every command works against the devnet manifest or
//! against a network file for real chains.

pub mod audit;
pub mod cancel;
pub mod claim;
pub mod context;
pub mod deploy;
pub mod doctor;
pub mod explain;
pub mod format;
pub mod governance;
pub mod network;
pub mod progress;
pub mod route;
pub mod slash;
pub mod stake;
pub mod transfer;
