//! Operator workflows for shared security (docs/security-model.md): `zerobridge stake register |
//! deposit | opt-in | opt-out | unbond | withdraw | claim | commit | status`.
//!
//! Each chain's StakeManager secures the lanes whose source is that chain: an operator bonds stake
//! there, registers the key its validator signs checkpoints with, and allocates the stake to any
//! number of that chain's outbound lanes. Each epoch anyone commits a lane's snapshot (the top
//! operators by allocated stake, weight = stake), which becomes the lane's validator set.
//!
//! Keys and network are chosen as for `route`: `--private-key-env` / `--keystore`, or on the devnet
//! `--operator N` (the manifest's account `operator-N`); `--network FILE` or the devnet manifest.
//! Registering also needs the validator's signing key, which signs a proof of possession (the
//! stake manager's `signerRegistrationDigest(operator)`): `--signer-keystore FILE` (the keystore
//! and password the validator runs with) or `--signer-key-env VAR`.
//! Everything the contract would refuse is checked first and refused in one line with the fix.
//!
//! Stake that weighs in a committed validator set stays bonded until that set's expiry plus the
//! detection window (`lockedStake`: the largest such weight, until the last such end; the stake
//! manager keeps it in two lock periods): `withdraw` pays only the part above it (`withdrawable`).
//!
//! Each workflow returns what it did as a value; `zb-cli` renders it. Workflows that send several
//! transactions report each finished one through [`crate::progress::Progress`] as it happens.

pub mod args;
pub mod bond;
pub mod commit;
pub mod lanes;
pub mod manager;
pub mod rewards;
pub mod status;
pub mod tx;
pub mod unbond;

pub use args::*;
pub use bond::{
    Deposited, LaneChange, NextSnapshot, Registration, deposit, opt_in, opt_out, register, registered_text,
};
pub use commit::{Committed, SetChange, commit};
pub(crate) use lanes::{from_block, known_outbound_lanes, labelled, lane_label, logs_to_head, open_on};
pub use manager::{
    Asset, BPS, OUTBOUND, StakeConfig, Staking, bps_percent, chain_now, expiry_text, snapshot_set, when,
};
pub use rewards::{Claimed, Payout, claim};
pub use status::{ChainStatus, StatusQuery};
pub use tx::{Tx, transact};
pub use unbond::{Schedule, Unbonded, Withdrawn, unbond, withdraw};
