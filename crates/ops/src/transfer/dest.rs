//! The destination side of a transfer: its events folded into a status, and finding where to look.

use alloy::primitives::{Address, FixedBytes, TxHash, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{BlockNumberOrTag, Log};
use alloy::sol_types::SolEvent;
use eyre::{Result, eyre};
use zb_contracts::bridge::ZeroBridge;

// ------------------------------------------------------------------------------------ destination events

/// What happened on the destination to one (lane, sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DestEvent {
    Held { release_at: u64 },
    Frozen,
    Unfrozen,
    Released,
    HoldRefunded,
    HoldCancelled,
    Executed { recipient: Address, amount: U256 },
    Failed { reason: FixedBytes<4> },
}

impl DestEvent {
    pub(crate) fn decode(log: &Log) -> Option<DestEvent> {
        let topic = *log.topic0()?;
        let inner = &log.inner;
        if topic == ZeroBridge::MessageExecuted::SIGNATURE_HASH {
            let e = ZeroBridge::MessageExecuted::decode_log(inner).ok()?.data;
            Some(DestEvent::Executed { recipient: e.recipient, amount: e.amount })
        } else if topic == ZeroBridge::MessageFailed::SIGNATURE_HASH {
            let e = ZeroBridge::MessageFailed::decode_log(inner).ok()?.data;
            Some(DestEvent::Failed { reason: e.reason })
        } else if topic == ZeroBridge::TransferHeld::SIGNATURE_HASH {
            let e = ZeroBridge::TransferHeld::decode_log(inner).ok()?.data;
            Some(DestEvent::Held { release_at: e.releaseAt })
        } else if topic == ZeroBridge::HoldReleased::SIGNATURE_HASH {
            Some(DestEvent::Released)
        } else if topic == ZeroBridge::HoldFrozen::SIGNATURE_HASH {
            Some(DestEvent::Frozen)
        } else if topic == ZeroBridge::HoldUnfrozen::SIGNATURE_HASH {
            Some(DestEvent::Unfrozen)
        } else if topic == ZeroBridge::HoldRefunded::SIGNATURE_HASH {
            Some(DestEvent::HoldRefunded)
        } else if topic == ZeroBridge::HoldCancelled::SIGNATURE_HASH {
            Some(DestEvent::HoldCancelled)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxAt {
    pub(crate) hash: TxHash,
    pub(crate) block: u64,
}

/// The destination side of one transfer, folded from its events in chain order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DestStatus {
    /// The transaction that delivered it (executed, failed or held it).
    pub(crate) delivered: Option<TxAt>,
    pub(crate) held_until: Option<u64>,
    pub(crate) frozen: bool,
    pub(crate) released: Option<TxAt>,
    pub(crate) hold_refunded: bool,
    pub(crate) hold_cancelled: bool,
    pub(crate) executed: Option<(TxAt, Address, U256)>,
    pub(crate) failed: Option<(TxAt, FixedBytes<4>)>,
}

impl DestStatus {
    pub(crate) fn apply(&mut self, event: DestEvent, at: TxAt) {
        match event {
            DestEvent::Held { release_at } => {
                self.delivered.get_or_insert(at);
                self.held_until = Some(release_at);
            }
            DestEvent::Frozen => self.frozen = true,
            DestEvent::Unfrozen => self.frozen = false,
            DestEvent::Released => self.released = Some(at),
            DestEvent::HoldRefunded => self.hold_refunded = true,
            DestEvent::HoldCancelled => self.hold_cancelled = true,
            DestEvent::Executed { recipient, amount } => {
                self.delivered.get_or_insert(at);
                self.executed = Some((at, recipient, amount));
            }
            DestEvent::Failed { reason } => {
                self.delivered.get_or_insert(at);
                self.failed = Some((at, reason));
            }
        }
    }

    /// The transfer reached its end on the destination: paid out or refused.
    fn settled(&self) -> bool {
        self.executed.is_some() || self.failed.is_some()
    }

    /// Held and not yet released or refunded.
    pub(crate) fn waiting_on_hold(&self) -> bool {
        self.held_until.is_some() && !self.settled()
    }
}

/// The first block whose timestamp is at or after `timestamp` (binary search over headers).
pub(crate) async fn first_block_at(provider: &DynProvider, timestamp: u64) -> Result<u64> {
    let latest = provider.get_block_number().await?;
    let (mut lo, mut hi) = (0u64, latest);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(mid))
            .await?
            .ok_or_else(|| eyre!("block {mid} is missing"))?;
        if block.header.timestamp < timestamp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::B256;

    #[test]
    fn destination_events_fold_into_a_status() {
        let at = |n: u8| TxAt { hash: B256::repeat_byte(n), block: u64::from(n) };
        let mut status = DestStatus::default();
        assert!(!status.settled() && !status.waiting_on_hold());
        status.apply(DestEvent::Held { release_at: 1_000 }, at(1));
        assert!(status.waiting_on_hold());
        assert_eq!(status.delivered, Some(at(1)));
        status.apply(DestEvent::Frozen, at(2));
        assert!(status.frozen);
        status.apply(DestEvent::Unfrozen, at(3));
        assert!(!status.frozen);
        status.apply(DestEvent::Released, at(4));
        status.apply(DestEvent::Executed { recipient: Address::repeat_byte(7), amount: U256::from(5u64) }, at(4));
        assert!(status.settled() && !status.waiting_on_hold());
        assert_eq!(status.delivered, Some(at(1)), "the delivery is the first transaction");
        assert_eq!(status.released, Some(at(4)));

        let mut failed = DestStatus::default();
        failed.apply(DestEvent::Failed { reason: FixedBytes([1, 2, 3, 4]) }, at(9));
        assert!(failed.settled());
        assert_eq!(failed.delivered, Some(at(9)));
    }
}
