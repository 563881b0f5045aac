//! The follow progress in the store (zb-store's `progress`): what each step persists before the
//! lane table moves, and what a restart resumes from instead of rescanning from `start_block`.
//!
//! - Every step writes, in one transaction, the new messages of every lane (accumulator, sentAt,
//!   block), their set updates, each lane's head and, when blocks were consumed, the chain's
//!   cursor with the last consumed blocks. Only then is the lane table updated (and its memory
//!   window trimmed), so nothing evicted is missing from the store.
//! - At start-up the cursor's blocks seed the reorg guard: the first step re-reads them through
//!   the RPC quorum, and a changed hash is the deep-reorg halt. Each lane then resumes from its
//!   head; a lane without one (new, or of another bridge) is caught up from `start_block`.

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::B256;
use zb_chain::{BlockRef, ChainConfig, ReorgGuard};
use zb_protocol::Accumulator;
use zb_store::{CURSOR_RECENT_BLOCKS, ChainCursor, LaneHead, LaneStep};

use crate::observer::Scanned;
use crate::{State, ValidatorError, poisoned};

/// Seeds `guard` with the stored cursor of `chain`; returns the block to resume at (None: never
/// followed, start at `start_block`).
pub(crate) fn load_cursor(
    state: &State,
    chain: &ChainConfig,
    guard: &mut ReorgGuard,
) -> Result<Option<u64>, ValidatorError> {
    let Some(cursor) = state.store.chain_cursor(chain.chain_id, chain.bridge)? else {
        return Ok(None);
    };
    for &(number, hash) in &cursor.recent {
        guard.record(BlockRef { number, hash });
    }
    tracing::info!(chain = %chain.name, next_block = cursor.next_block, last = ?cursor.last(),
        "resuming from the stored cursor (its blocks are re-checked through the RPC quorum first)");
    Ok(Some(cursor.next_block))
}

/// The cursor after consuming up to `next_block - 1`, with the guard's newest blocks.
pub(crate) fn cursor(chain: &ChainConfig, guard: &ReorgGuard, next_block: u64) -> ChainCursor {
    let recent = guard.recent(CURSOR_RECENT_BLOCKS).into_iter().map(|b| (b.number, b.hash)).collect();
    ChainCursor { chain_id: chain.chain_id, bridge: chain.bridge, next_block, recent }
}

/// What a step writes per lane: the lanes still followed are consumed up to `next_block - 1`; a
/// lane stopped at a mismatch only up to the block before that message (a restart recomputes
/// that block again, and halts again).
pub(crate) fn lane_steps(
    chain: &ChainConfig,
    scanned: &Scanned,
    followed: &HashMap<B256, Accumulator>,
    next_block: u64,
) -> Vec<LaneStep> {
    let heads = followed
        .iter()
        .map(|(lane, acc)| (*lane, next_block, acc))
        .chain(scanned.stopped.iter().map(|(lane, (block, acc))| (*lane, *block, acc)));
    heads
        .map(|(lane, next_block, acc)| LaneStep {
            head: LaneHead {
                lane,
                chain_id: chain.chain_id,
                bridge: chain.bridge,
                next_block,
                sequence: acc.sequence,
                accumulator: acc.value,
            },
            messages: scanned.accumulators.get(&lane).cloned().unwrap_or_default(),
            set_updates: scanned.set_updates.get(&lane).cloned().unwrap_or_default(),
        })
        .collect()
}

/// Writes one step (see the module documentation) off the async runtime.
pub(crate) async fn persist(
    state: &Arc<State>,
    steps: Vec<LaneStep>,
    cursor: Option<ChainCursor>,
) -> Result<(), ValidatorError> {
    if steps.is_empty() && cursor.is_none() {
        return Ok(());
    }
    let state = state.clone();
    tokio::task::spawn_blocking(move || state.store.record_follow_step(&steps, cursor.as_ref()))
        .await
        .map_err(|e| ValidatorError::Sign(e.to_string()))??;
    Ok(())
}

/// Where `lane` resumes, if it was followed before on this chain up to at most `next_block`: its
/// head, with the lane's view (memory window, set updates) loaded from the store. None: caught up
/// from `start_block`.
pub(crate) fn resume(
    state: &State,
    chain: &ChainConfig,
    lane: B256,
    next_block: u64,
) -> Result<Option<LaneHead>, ValidatorError> {
    let Some(head) = state.store.lane_head(lane)? else {
        return Ok(None);
    };
    if head.chain_id != chain.chain_id || head.bridge != chain.bridge || head.next_block > next_block {
        tracing::warn!(%lane, chain = %chain.name, stored = ?head,
            "the stored head of this lane does not belong to this chain's cursor; catching up from start_block");
        return Ok(None);
    }
    let keep = u64::try_from(state.memory_window).unwrap_or(u64::MAX).min(head.sequence);
    let first = head.sequence - keep + 1;
    let window = if keep == 0 { Vec::new() } else { state.store.lane_progress(lane, first, head.sequence)? };
    if window.len() as u64 != keep || window.last().is_some_and(|m| m.accumulator != head.accumulator) {
        return Err(ValidatorError::Store(zb_store::StoreError::Corrupt(format!(
            "lane {lane}: the stored head is at sequence {} but the rows {first}..={} are incomplete",
            head.sequence, head.sequence
        ))));
    }
    let set_updates = state.store.lane_set_updates(lane)?;
    let mut table = state.lanes.write().map_err(|_| poisoned())?;
    if let Some(view) = table.get_mut(&lane) {
        view.window_start = head.sequence - keep;
        view.accumulators = window.iter().map(|m| m.accumulator).collect();
        view.sent_at = window.iter().map(|m| m.sent_at).collect();
        view.set_updates = set_updates;
    }
    tracing::info!(%lane, chain = %chain.name, sequence = head.sequence, next_block = head.next_block,
        "lane resumed from the store");
    Ok(Some(head))
}
