//! The pure rules of `claim`: signature counts, batch ends, refund segments, stuck hints.

use alloy::primitives::TxHash;
use zb_protocol::{Message, MessageKind};

use super::{ACCUMULATOR_RECORD_INTERVAL, RELAYER_GRACE_SECS};

/// "2 of 4 validators signed (50% of the set's weight, 66.7% needed)": weights are stake in
/// wei on a staked route, so shares of the set's total read better than raw numbers.
pub fn signature_count_message(signed: usize, members: usize, weight: u128, threshold: u128, total: u128) -> String {
    format!(
        "{signed} of {members} validators signed ({} of the set's weight, {} needed)",
        percent(weight, total),
        percent(threshold, total)
    )
}

/// `part / total` as a percentage with at most one decimal ("66.7%", "25%").
fn percent(part: u128, total: u128) -> String {
    if total == 0 {
        return "0%".to_string();
    }
    let tenths = part.saturating_mul(1000) / total;
    if tenths.is_multiple_of(10) { format!("{}%", tenths / 10) } else { format!("{}.{}%", tenths / 10, tenths % 10) }
}

/// The end of the next batch after `delivered`: `target`, or an earlier SET_UPDATE (nothing may
/// ride along after it: the old set's authority ends there). `pending` are the messages from
/// `delivered + 1` on, in order.
pub fn next_batch_end(pending: &[Message], target: u64) -> u64 {
    pending
        .iter()
        .take_while(|m| m.sequence < target)
        .find(|m| MessageKind::from_u8(m.kind) == Some(MessageKind::SetUpdate))
        .map_or(target, |m| m.sequence)
}

/// The segment `claimRefund` accepts for `sequence`: from just after the previous recorded
/// accumulator to the next one, or to the lane head. Returns (first, last) sequences.
pub fn refund_segment(sequence: u64, lane_head: u64) -> (u64, u64) {
    let start = (sequence.saturating_sub(1) / ACCUMULATOR_RECORD_INTERVAL) * ACCUMULATOR_RECORD_INTERVAL;
    (start + 1, (start + ACCUMULATOR_RECORD_INTERVAL).min(lane_head))
}

/// What `track` knows of a transfer that is not moving.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StuckFacts {
    /// Seconds since the send (destination clock).
    pub age: u64,
    pub delivered: bool,
    /// A quorum of the primary validators signed it.
    pub quorum: bool,
    /// The route's fallback delay on the destination, when it has a fallback set.
    pub fallback_delay: Option<u64>,
    pub held: bool,
    pub frozen: bool,
}

/// The "you can ... yourself" lines `track` prints for a stuck transfer.
pub fn stuck_hints(facts: &StuckFacts, tx: TxHash, network_flag: &str) -> Vec<String> {
    let mut hints = Vec::new();
    if facts.held && !facts.frozen {
        hints.push(format!(
            "you can cancel it: zerobridge cancel {tx}{network_flag} (the sender's key; refunded on the source)"
        ));
    }
    if !facts.delivered {
        let relayer_late = facts.quorum && facts.age > RELAYER_GRACE_SECS;
        let fallback_due = facts.fallback_delay.is_some_and(|delay| facts.age >= delay);
        if relayer_late || fallback_due {
            let why = if relayer_late {
                "the validators signed it but no relayer delivered it"
            } else {
                "it waited past the route's fallback delay"
            };
            hints.push(format!("{why}: you can claim it yourself: zerobridge claim {tx}{network_flag}"));
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, B256, U256};

    fn message(sequence: u64, kind: MessageKind) -> Message {
        Message {
            sequence,
            kind: kind as u8,
            sender: Address::ZERO,
            recipient: Address::ZERO,
            amount: U256::ZERO,
            data: B256::ZERO,
            sentAt: 0,
            deadline: u64::MAX,
        }
    }

    #[test]
    fn batches_stop_at_a_set_update() {
        let plain: Vec<Message> = (3..=6).map(|s| message(s, MessageKind::Transfer)).collect();
        assert_eq!(next_batch_end(&plain, 6), 6);
        let mut with_update = plain.clone();
        with_update[1] = message(4, MessageKind::SetUpdate);
        assert_eq!(next_batch_end(&with_update, 6), 4, "the old set signs up to its update");
        with_update[1] = message(4, MessageKind::Transfer);
        with_update[3] = message(6, MessageKind::SetUpdate);
        assert_eq!(next_batch_end(&with_update, 6), 6, "a set update may end the batch");
    }

    #[test]
    fn refund_segments_run_between_recorded_accumulators() {
        assert_eq!(refund_segment(1, 3), (1, 3));
        assert_eq!(refund_segment(5, 40), (1, 16));
        assert_eq!(refund_segment(16, 40), (1, 16));
        assert_eq!(refund_segment(17, 40), (17, 32));
        assert_eq!(refund_segment(33, 40), (33, 40), "up to the lane head");
    }

    #[test]
    fn stuck_transfers_say_what_the_holder_can_do() {
        let tx = B256::repeat_byte(0xcd);
        let fresh = StuckFacts { age: 10, quorum: true, ..StuckFacts::default() };
        assert!(stuck_hints(&fresh, tx, "").is_empty(), "a relayer gets its minute");
        let late = StuckFacts { age: 90, quorum: true, ..StuckFacts::default() };
        let hints = stuck_hints(&late, tx, " --network n.toml");
        assert_eq!(hints.len(), 1);
        assert!(
            hints[0].ends_with(&format!("you can claim it yourself: zerobridge claim {tx} --network n.toml")),
            "{hints:?}"
        );
        let unsigned = StuckFacts { age: 90, ..StuckFacts::default() };
        assert!(stuck_hints(&unsigned, tx, "").is_empty(), "nothing to claim without signatures or a fallback");
        let due = StuckFacts { age: 120, fallback_delay: Some(120), ..StuckFacts::default() };
        assert!(stuck_hints(&due, tx, "")[0].contains("fallback delay"));
        let held = StuckFacts { age: 500, delivered: true, held: true, quorum: true, ..StuckFacts::default() };
        let hints = stuck_hints(&held, tx, "");
        assert_eq!(hints.len(), 1);
        assert!(hints[0].starts_with(&format!("you can cancel it: zerobridge cancel {tx}")));
        let frozen = StuckFacts { frozen: true, ..held };
        assert!(stuck_hints(&frozen, tx, "").is_empty(), "a frozen hold cannot be cancelled");
    }
}
