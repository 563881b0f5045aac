//! The lane's persisted cursor (zb-store's `RelayCursor`): where a restart reads the source from
//! instead of `start_block`, and how far the validator-set logs were read.
//!
//! - After each tick that moved it, the relayer stores the next source block, the last consumed
//!   blocks and the (sequence, block) of the lowest message that may still be undelivered.
//! - At start it resumes from the block of that message when the cursor is of the same chain and
//!   bridge and the destination has not gone back below it; the cursor's blocks seed the reorg
//!   guard, so the first read re-checks them through the RPC quorum, and a changed hash is the
//!   deep-reorg resync (from `start_block`, the cursor forgotten).

use alloy::primitives::{B256, Bytes, keccak256};
use alloy::rpc::types::Log;
use zb_chain::{BlockRef, ChainConfig, Follower, ReorgGuard};
use zb_store::{CURSOR_RECENT_BLOCKS, RelayCursor, RelayerStore, SetEvent, SetScan};

use crate::RelayerError;
use crate::window::Window;

/// The source block a start reads from with `cursor`: the block of the lowest message that may
/// be undelivered, or `start_block` if that is later. None when the cursor is of another chain
/// or bridge, or when the destination's `delivered` is below the sequence the cursor resumes at
/// (the destination went back): the message after `delivered` may lie before the cursor's block.
pub(crate) fn resume_block(cursor: &RelayCursor, source: &ChainConfig, delivered: u64) -> Option<u64> {
    let same_bridge = cursor.chain_id == source.chain_id && cursor.bridge == source.bridge;
    (same_bridge && delivered.saturating_add(1) >= cursor.resume_sequence)
        .then_some(cursor.resume_block.max(source.start_block))
}

/// A reorg guard holding the cursor's consumed blocks: the next check re-reads them.
pub(crate) fn seeded_guard(cursor: &RelayCursor) -> ReorgGuard {
    let mut guard = ReorgGuard::new();
    for &(number, hash) in &cursor.recent {
        guard.record(BlockRef { number, hash });
    }
    guard
}

/// The cursor to store after consuming the source up to `next_block - 1`, with `window` pruned to
/// the destination's delivered sequence. None while the guard's newest block is not `next_block -
/// 1` (resumed, nothing new read yet): the stored cursor still says the same.
pub(crate) fn current(
    lane: B256,
    source: &ChainConfig,
    guard: &ReorgGuard,
    next_block: u64,
    window: &Window,
) -> Option<RelayCursor> {
    let newest = guard.newest()?;
    if newest.number.checked_add(1) != Some(next_block) {
        return None;
    }
    let (resume_sequence, resume_block) = window.resume_point(next_block);
    Some(RelayCursor {
        lane,
        chain_id: source.chain_id,
        bridge: source.bridge,
        next_block,
        recent: guard.recent(CURSOR_RECENT_BLOCKS).into_iter().map(|b| (b.number, b.hash)).collect(),
        resume_sequence,
        resume_block,
    })
}

/// Reads `lane`'s final logs of `event` on `follower`'s bridge from where the last scan stopped
/// (`start_block` the first time, or when the scan was of another chain or bridge), and stores
/// the sets `matching` accepts (those whose bytes hash to the event's set hash) with the block
/// read up to, in one transaction. Returns the sets found.
pub(crate) async fn scan_sets(
    store: &RelayerStore,
    follower: &Follower,
    lane: B256,
    event: SetEvent,
    topic: B256,
    matching: impl Fn(&Log) -> Option<(B256, Bytes)>,
) -> Result<Vec<Bytes>, RelayerError> {
    let config = follower.config();
    let from = match store.set_scan(lane, event)? {
        Some(scan) if scan.chain_id == config.chain_id && scan.bridge == config.bridge => {
            scan.next_block.max(config.start_block)
        }
        _ => config.start_block,
    };
    // Only final events count: a set installed in a block that can still reorg is not trusted.
    let latest = follower.finalized().await?.number;
    if latest < from {
        return Ok(Vec::new());
    }
    let found: Vec<Bytes> = follower
        .bridge_logs(topic, from, latest)
        .await?
        .iter()
        .filter_map(&matching)
        .filter(|(hash, bytes)| keccak256(bytes) == *hash)
        .map(|(_, bytes)| bytes)
        .collect();
    let scan = SetScan { lane, event, chain_id: config.chain_id, bridge: config.bridge, next_block: latest + 1 };
    store.record_set_scan(&scan, &found)?;
    tracing::debug!(%lane, ?event, from, to = latest, sets = found.len(), "validator-set logs read");
    Ok(found)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;
    use zb_chain::Finality;

    use super::*;

    fn source(start_block: u64) -> ChainConfig {
        ChainConfig {
            name: "ethereum".into(),
            chain_id: 31337,
            rpc: vec!["http://127.0.0.1:8545".into()],
            ws: None,
            bridge: Address::repeat_byte(0xb1),
            finality: Finality::Depth(2),
            rpc_quorum: 1,
            poll_interval_ms: 1000,
            start_block,
            stake_manager: None,
        }
    }

    /// Consumed up to block 199, resuming at sequence 41 sent in block 150.
    fn cursor() -> RelayCursor {
        RelayCursor {
            lane: B256::repeat_byte(7),
            chain_id: 31337,
            bridge: Address::repeat_byte(0xb1),
            next_block: 200,
            recent: vec![(198, B256::repeat_byte(1)), (199, B256::repeat_byte(2))],
            resume_sequence: 41,
            resume_block: 150,
        }
    }

    #[test]
    fn a_start_resumes_at_the_lowest_undelivered_block_unless_the_cursor_does_not_apply() {
        // Delivered as when stored, or more since (window seeding skips what was delivered).
        assert_eq!(resume_block(&cursor(), &source(10), 40), Some(150));
        assert_eq!(resume_block(&cursor(), &source(10), 90), Some(150));
        // A start_block raised past it wins.
        assert_eq!(resume_block(&cursor(), &source(170), 40), Some(170));
        // The destination went back below the cursor: message 40 may be before block 150.
        assert_eq!(resume_block(&cursor(), &source(10), 39), None);
        // Another chain or another bridge: the cursor says nothing about this one.
        let mut other = source(10);
        other.chain_id = 1;
        assert_eq!(resume_block(&cursor(), &other, 40), None);
        let mut redeployed = source(10);
        redeployed.bridge = Address::repeat_byte(0xb2);
        assert_eq!(resume_block(&cursor(), &redeployed, 40), None);
    }

    #[test]
    fn the_cursor_is_stored_only_once_the_guard_reaches_the_next_block() {
        let stored = cursor();
        let guard = seeded_guard(&stored);
        assert_eq!(guard.newest(), Some(BlockRef { number: 199, hash: B256::repeat_byte(2) }));
        let lane = stored.lane;
        let window = Window::after(lane, 40, B256::repeat_byte(9));
        // Resumed at block 150, nothing read yet: the guard's newest is 199, not 149.
        assert_eq!(current(lane, &source(10), &guard, 150, &window), None);
        // Read up to 199 (nothing undelivered): resume at the next block.
        let now = current(lane, &source(10), &guard, 200, &window).expect("a cursor");
        assert_eq!((now.next_block, now.resume_sequence, now.resume_block), (200, 41, 200));
        assert_eq!(now.recent, stored.recent);
        assert_eq!(current(lane, &source(10), &ReorgGuard::new(), 200, &window), None, "nothing consumed");
    }
}
