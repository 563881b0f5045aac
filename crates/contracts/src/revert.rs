//! Plain-words explanations of the contracts' reverts: the revert data decoded into the bindings'
//! error enums, then one line naming the problem and its fix.

use alloy::primitives::{Address, FixedBytes, U256};
use alloy::sol_types::{SolCall, SolError, SolInterface};

use crate::bridge::ZeroBridge::{self, ZeroBridgeErrors as Z};
use crate::wrapped::WrappedToken::{self, WrappedTokenErrors as W};

/// What an explanation needs from its caller but cannot know itself: the token's units and
/// symbol, how times are written, and the wording of bridge errors every command shares.
pub trait Wording {
    /// The token's symbol ("DEMO").
    fn symbol(&self) -> &str;
    /// Token units with the token's decimals and symbol ("1.5 DEMO").
    fn amount(&self, units: U256) -> String;
    /// The refusal of `RateLimited(amount, available, secondsUntil)`; `seconds` is None when the
    /// amount never fits.
    fn rate_limit(&self, amount: U256, available: U256, seconds: Option<U256>) -> String;
    /// A unix timestamp for people.
    fn time(&self, timestamp: u64) -> String;
    /// The shared wording of a bridge error, if there is one.
    fn bridge_error(&self, error: &Z) -> Option<String>;
}

/// The transaction a revert explanation is about.
pub struct RevertContext<'a> {
    /// The chain the transaction was sent on.
    pub source: &'a str,
    /// The chain a transfer goes to (the source again for transactions without one).
    pub destination: &'a str,
    pub sender: Address,
    pub words: &'a dyn Wording,
}

/// Revert data decoded into the errors of the contracts a transfer touches.
pub enum Revert {
    Bridge(Z),
    Token(W),
    /// `Error(string)`, e.g. from `require`.
    Reason(String),
    Empty,
    Unknown(Vec<u8>),
}

impl Revert {
    pub fn decode(data: &[u8]) -> Self {
        if let Ok(error) = Z::abi_decode(data) {
            Self::Bridge(error)
        } else if let Ok(error) = W::abi_decode(data) {
            Self::Token(error)
        } else if let Ok(revert) = alloy::sol_types::Revert::abi_decode(data) {
            Self::Reason(revert.reason)
        } else if data.is_empty() {
            Self::Empty
        } else {
            Self::Unknown(data.to_vec())
        }
    }
}

/// One line for a revert of `send` (or of its approval), with the fix.
pub fn explain(data: &[u8], ctx: &RevertContext<'_>) -> String {
    let words = ctx.words;
    let symbol = words.symbol();
    let route = format!("the {symbol} route {} -> {}", ctx.source, ctx.destination);
    match Revert::decode(data) {
        Revert::Bridge(error) => match error {
            Z::LaneNotActive(_) => format!(
                "{route} is not active (not yet activated, or paused by its guardians): try again once it is active"
            ),
            Z::BridgePaused(_) => {
                format!("the bridge on '{}' is paused by its guardians: try again once it is unpaused", ctx.source)
            }
            Z::UnknownLane(_) | Z::WrongDirection(_) => format!(
                "the bridge on '{}' does not know {route}: check the bridge addresses and routes in the network file",
                ctx.source
            ),
            Z::ZeroAmount(_) => "the amount is zero: send a positive amount".to_string(),
            Z::ZeroRecipient(_) => "the recipient is the zero address: pass --recipient <address>".to_string(),
            Z::AmountBelowMinimum(e) => format!(
                "amount {} is below the route's minimum of {}: send at least {}",
                words.amount(e.amount),
                words.amount(e.minimum),
                words.amount(e.minimum)
            ),
            Z::AmountAboveMaximum(e) => format!(
                "amount {} is above the route's maximum of {} per transfer: send at most {} (split larger amounts)",
                words.amount(e.amount),
                words.amount(e.maximum),
                words.amount(e.maximum)
            ),
            // U256::MAX: the bridge's "never" (more than the whole capacity).
            Z::RateLimited(e) => words.rate_limit(
                e.amount,
                e.available,
                (e.secondsUntilAvailable != U256::MAX).then_some(e.secondsUntilAvailable),
            ),
            Z::NothingReceived(_) => {
                format!("the bridge received no {symbol} from the transfer (the token moved nothing): check the token")
            }
            Z::SafeERC20FailedOperation(_) => format!(
                "the token refused to move {symbol} from {} to the bridge: check the balance and the allowance",
                ctx.sender
            ),
            Z::RouteIsExitOnly(_) => format!(
                "{route} is exit-only: '{}' takes no new sends; only the way home stays open (wrapped tokens can \
                 still be sent back home from the remote chain)",
                ctx.source
            ),
            Z::FrozenAccount(e) => format!(
                "{} is frozen by the regulator on '{}': the bridge takes nothing from it until it is unfrozen",
                e.account, ctx.source
            ),
            Z::NotVerified(e) => format!(
                "{route} accepts only verified accounts and {} has no valid attestation on '{}': ask the compliance issuer to attest it",
                e.account, ctx.source
            ),
            Z::RouteInEmergency(_) => format!(
                "{route} is in Emergency on '{}': its validators failed, so it takes no new sends there; for a grace \
                 period the fallback validators bring wrapped tokens home (see `zerobridge route status`)",
                ctx.source
            ),
            Z::InvalidDeadline(e) => format!(
                "the deadline {} has already passed on '{}': pass a later --deadline (seconds from now)",
                words.time(e.deadline),
                ctx.source
            ),
            Z::ReentrancyGuardReentrantCall(_) => {
                "the token called back into the bridge (reentrancy): this token cannot be bridged".to_string()
            }
            other => match words.bridge_error(&other) {
                Some(text) => format!("the bridge on '{}' refused the transfer: {text}", ctx.source),
                None => format!("the bridge on '{}' refused the transfer: {other:?}", ctx.source),
            },
        },
        Revert::Token(error) => match error {
            W::ERC20InsufficientBalance(e) => format!(
                "insufficient {symbol} on '{}': {} has {}, the transfer needs {}",
                ctx.source,
                e.sender,
                words.amount(e.balance),
                words.amount(e.needed)
            ),
            W::ERC20InsufficientAllowance(e) => format!(
                "the bridge may take only {} of {} but needs {}: approve the bridge ({}) for the amount",
                words.amount(e.allowance),
                ctx.sender,
                words.amount(e.needed),
                e.spender
            ),
            W::OnlyBridge(_) => format!(
                "the wrapped token on '{}' is not controlled by this bridge: check the route in the network file",
                ctx.source
            ),
            other => format!("the token refused the transfer (error {})", FixedBytes::<4>(other.selector())),
        },
        Revert::Reason(reason) => {
            format!("the transfer reverted on '{}': {reason}", ctx.source)
        }
        Revert::Empty => format!(
            "the transfer reverted on '{}' without a reason: check the token and bridge addresses in the network file",
            ctx.source
        ),
        Revert::Unknown(data) => format!(
            "the transfer reverted on '{}' (revert data {})",
            ctx.source,
            alloy::primitives::hex::encode_prefixed(data)
        ),
    }
}

/// The bridge's refusal of a holder's own delivery or refund transaction (`deliver`,
/// `claimRefund`, `cancelHold`) on chain `on`, for the errors particular to those; None for the
/// others, which read as for a send.
pub fn explain_holder_tx(error: &Z, on: &str) -> Option<String> {
    Some(match error {
        Z::SequenceGap(_) | Z::CheckpointMismatch(_) => {
            "someone (a relayer?) delivered part of the batch meanwhile: run the command again".to_string()
        }
        Z::AccumulatorMismatch(_) => {
            "the batch does not hash to the destination's accumulator: the source RPC served other messages than \
             the bridge sent; use another RPC"
                .to_string()
        }
        Z::StaleValidatorSet(_) => {
            "the destination's validator set changed meanwhile: run the command again".to_string()
        }
        Z::QuorumNotReached(q) => {
            format!("the signatures carry weight {}, the destination needs {}", q.weight, q.threshold)
        }
        Z::InvalidSignature(_) | Z::SignerNotInSet(_) | Z::SignersNotAscending(_) | Z::SignerIndexOutOfRange(_) => {
            "the destination refused one of the signatures: run the command again".to_string()
        }
        Z::HoldNotFound(h) => format!(
            "there is no held transfer at sequence {} of this lane on {on}: it is not held (delivered directly, or \
             already released, refunded or cancelled)",
            h.sequence
        ),
        Z::NotHoldSender(h) => {
            format!("only the transfer's sender {} may cancel it, not {}: use the sender's key", h.sender, h.caller)
        }
        Z::InvalidProof(_) => format!(
            "the bridge on {on} did not accept the proof of the original message: the RPC served other messages \
             than the bridge recorded; use another RPC"
        ),
        Z::RefundNotApproved(_) => {
            format!("the refund is not approved on {on}: its REFUND message has not been delivered there yet")
        }
        Z::LaneNotActive(_) => {
            format!("the lane is paused or not active on {on}: try again once it is unpaused")
        }
        Z::BridgePaused(_) => {
            format!("the bridge on {on} is paused by its guardians: try again once it is unpaused")
        }
        _ => return None,
    })
}

/// The name and meaning of a `MessageFailed` reason.
pub fn failure_reason(reason: FixedBytes<4>) -> String {
    let r: [u8; 4] = reason.0;
    if r == ZeroBridge::RouteIsExitOnly::SELECTOR {
        "the route is exit-only: only transfers toward the home chain are delivered".to_string()
    } else if r == ZeroBridge::RateLimited::SELECTOR {
        "the destination's inbound limit was exhausted".to_string()
    } else if r == ZeroBridge::VaultShortfall::SELECTOR {
        "the vault held less than the amount".to_string()
    } else if r == ZeroBridge::SafeERC20FailedOperation::SELECTOR {
        "the token refused to pay the recipient (frozen or blocked account?)".to_string()
    } else if r == WrappedToken::OnlyBridge::SELECTOR {
        "the wrapped token refused to mint".to_string()
    } else if r == ZeroBridge::FrozenAccount::SELECTOR {
        "the recipient is frozen by the regulator on the destination".to_string()
    } else if r == ZeroBridge::NotVerified::SELECTOR {
        "the sender or the recipient has no valid attestation on the destination (allowlist route)".to_string()
    } else if r == ZeroBridge::ZeroRecipient::SELECTOR {
        "the recipient is the zero address".to_string()
    } else if r == ZeroBridge::refundHoldCall::SELECTOR {
        "governance refunded the held transfer".to_string()
    } else if r == ZeroBridge::cancelHoldCall::SELECTOR {
        "the sender cancelled the held transfer".to_string()
    } else if r == ZeroBridge::TransferTimedOut::SELECTOR {
        "timed out: it arrived after its deadline".to_string()
    } else if r == [0u8; 4] {
        "the destination does not understand this message kind".to_string()
    } else {
        format!("reason {reason}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reasons_are_named() {
        assert_eq!(
            failure_reason(FixedBytes(ZeroBridge::RouteIsExitOnly::SELECTOR)),
            "the route is exit-only: only transfers toward the home chain are delivered"
        );
        assert!(failure_reason(FixedBytes(ZeroBridge::refundHoldCall::SELECTOR)).contains("governance"));
        assert!(failure_reason(FixedBytes(ZeroBridge::FrozenAccount::SELECTOR)).contains("frozen"));
        assert!(failure_reason(FixedBytes(ZeroBridge::NotVerified::SELECTOR)).contains("attestation"));
        assert!(failure_reason(FixedBytes([9, 9, 9, 9])).contains("0x09090909"));
        assert!(failure_reason(FixedBytes(ZeroBridge::TransferTimedOut::SELECTOR)).starts_with("timed out"));
        assert!(failure_reason(FixedBytes(ZeroBridge::cancelHoldCall::SELECTOR)).contains("sender cancelled"));
    }
}
