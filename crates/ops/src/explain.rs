//! The words every workflow uses for the bridge's own states and refusals, so a refusal reads the
//! same whichever command meets it.

use zb_contracts::bridge::ZeroBridge;

use crate::format::{format_utc, format_wait, unix_now};

/// Plain words for the bridge's errors that every command can meet; None for the others, which
/// each command explains in its own terms.
pub fn bridge_error(e: &ZeroBridge::ZeroBridgeErrors) -> Option<String> {
    use ZeroBridge::ZeroBridgeErrors as Z;
    Some(match e {
        Z::ValidatorSetExpired(e) => format!(
            "the lane's validator set expired at {}: the destination refuses its signatures, and only a valid set \
             can sign the set update that renews it, so governance replaces it with the source's current snapshot \
             (StakeManager.replaceExpiredInboundSet on a staked chain, ZeroBridge.replaceExpiredSet otherwise)",
            format_utc(e.validUntil.saturating_to())
        ),
        Z::RouteIsExitOnly(_) => "the route is exit-only: only the way home stays open (the home chain takes no new \
                                  sends; transfers arriving on the remote chain are refunded)"
            .to_string(),
        Z::RefundHeld(e) => format!(
            "the refund of {} on lane {} is large, so it waits the hold delay: claim it from {}",
            e.messageHash,
            e.lane,
            format_utc(e.releaseAt)
        ),
        Z::RouteInEmergency(_) => "the route is in Emergency: its validators failed, so the home chain takes no new \
                                   sends; for a grace period the fallback validators bring wrapped tokens home"
            .to_string(),
        Z::InvalidDeadline(e) => {
            format!("the deadline {} has already passed: pick a deadline in the future", format_utc(e.deadline))
        }
        Z::TransferTimedOut(_) => "the transfer arrived after its deadline: it is refunded on the source".to_string(),
        Z::NoFallbackSet(e) => format!("route {} has no fallback validators on this chain", e.routeId),
        Z::FallbackNotDue(e) => {
            let now = unix_now();
            format!("the fallback validators may deliver this batch only {}", fallback_due_text(e.dueAt, now))
        }
        Z::NotHoldSender(e) => {
            format!(
                "only the transfer's sender {} may cancel its hold, not {}: use the sender's key",
                e.sender, e.caller
            )
        }
        Z::NotRouteWrappedToken(e) => format!(
            "token {} is not a fresh wrapped token made for route {} by this bridge's registry (or another route \
             uses it already): a remote route mints only its own wrapped token",
            e.token, e.routeId
        ),
        _ => return None,
    })
}

/// RouteStatus as the contracts number it.
pub fn status_name(status: u8) -> &'static str {
    match status {
        0 => "None",
        1 => "Pending",
        2 => "Active",
        3 => "ExitOnly",
        4 => "Emergency",
        _ => "Unknown",
    }
}

/// When the fallback may deliver: "from 2026-01-31 12:00:00 UTC (in 5 min)", or "now".
pub fn fallback_due_text(due_at: u64, now: u64) -> String {
    if due_at <= now {
        "now".to_string()
    } else {
        format!("from {} (in {})", format_utc(due_at), format_wait(due_at - now))
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, B256};

    use super::*;

    #[test]
    fn shared_bridge_errors_are_explained() {
        use ZeroBridge::ZeroBridgeErrors as Z;
        let held = Z::RefundHeld(ZeroBridge::RefundHeld {
            lane: B256::repeat_byte(1),
            messageHash: B256::repeat_byte(2),
            releaseAt: 1_700_000_000,
        });
        assert!(bridge_error(&held).is_some_and(|t| t.contains("waits the hold delay") && t.contains("2023-11-14")));
        let token = Z::NotRouteWrappedToken(ZeroBridge::NotRouteWrappedToken {
            token: Address::repeat_byte(3),
            routeId: B256::repeat_byte(4),
        });
        assert!(bridge_error(&token).is_some_and(|t| t.contains("not a fresh wrapped token made for route")));
        assert!(
            bridge_error(&Z::RouteIsExitOnly(ZeroBridge::RouteIsExitOnly {})).is_some_and(|t| t.contains("exit-only"))
        );
        assert_eq!(bridge_error(&Z::ZeroAmount(ZeroBridge::ZeroAmount {})), None, "each command words the rest");
        assert_eq!(status_name(3), "ExitOnly");
        assert_eq!(status_name(4), "Emergency");
        let sender = Z::NotHoldSender(ZeroBridge::NotHoldSender {
            caller: Address::repeat_byte(1),
            sender: Address::repeat_byte(2),
        });
        assert!(bridge_error(&sender).is_some_and(|t| t.contains("only the transfer's sender")));
        assert!(
            bridge_error(&Z::TransferTimedOut(ZeroBridge::TransferTimedOut {})).is_some_and(|t| t.contains("deadline"))
        );
    }

    #[test]
    fn fallback_due_time_is_utc_and_a_wait() {
        assert_eq!(fallback_due_text(1_700_000_000, 1_700_000_000 - 300), "from 2023-11-14 22:13:20 UTC (in 5 min)");
        assert_eq!(fallback_due_text(1_700_000_000, 1_700_000_000 - 42), "from 2023-11-14 22:13:20 UTC (in 42 s)");
        assert_eq!(fallback_due_text(100, 100), "now");
        assert_eq!(fallback_due_text(100, 200), "now");
    }
}
