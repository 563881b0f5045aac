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
    let from_start = |state: &State| -> Result<Option<LaneHead>, ValidatorError> {
        // Caught up from start_block: the view starts empty, whatever it held.
        if let Some(view) = state.lanes.write().map_err(|_| poisoned())?.get_mut(&lane) {
            view.window_start = 0;
            view.accumulators.clear();
            view.sent_at.clear();
            view.set_updates.clear();
        }
        Ok(None)
    };
    let Some(head) = state.store.lane_head(lane)? else {
        return from_start(state);
    };
    if head.chain_id != chain.chain_id || head.bridge != chain.bridge || head.next_block > next_block {
        tracing::warn!(%lane, chain = %chain.name, stored = ?head,
            "the stored head of this lane does not belong to this chain's cursor; catching up from start_block");
        return from_start(state);
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

#[cfg(test)]
pub(crate) mod tests {
    use alloy::primitives::{Address, U256};
    use zb_chain::SentMessage;
    use zb_protocol::MessageKind;

    use super::*;
    use crate::observer::{apply, recompute};
    use crate::tests::{chain, config, state};
    use crate::{LaneConfig, Role, ValidatorConfig, ValidatorError};

    /// Messages 1..=n of `lane` as the bridge emits them, with their true accumulators.
    pub(crate) fn sent(lane: B256, n: u64) -> Vec<SentMessage> {
        let mut acc = Accumulator::new(lane);
        (1..=n)
            .map(|sequence| {
                let message = zb_protocol::Message {
                    sequence,
                    kind: MessageKind::Transfer as u8,
                    sender: Address::repeat_byte(1),
                    recipient: Address::repeat_byte(2),
                    amount: U256::from(sequence),
                    data: B256::ZERO,
                    sentAt: 1000 + sequence,
                    deadline: u64::MAX,
                };
                let accumulator = acc.push(&message).expect("in order");
                SentMessage {
                    lane,
                    message,
                    accumulator,
                    block_number: sequence,
                    block_hash: B256::ZERO,
                    tx_hash: B256::ZERO,
                    log_index: 0,
                }
            })
            .collect()
    }

    const LANE: B256 = B256::repeat_byte(0x33);

    fn small_window(role: Role, fallback_delay_secs: Option<u64>) -> ValidatorConfig {
        let lanes = vec![LaneConfig { lane: LANE, source: "ethereum".into() }];
        ValidatorConfig { memory_window: 4, role, fallback_delay_secs, ..config(vec![chain("ethereum", None)], lanes) }
    }

    /// One follow step over `messages` (the last in block `last_block`), persisted, then applied.
    fn follow(state: &State, followed: &mut HashMap<B256, Accumulator>, messages: &[SentMessage], last_block: u64) {
        let eth = chain("ethereum", None);
        let scanned = recompute(messages, followed, false).expect("recompute");
        let cursor = ChainCursor {
            chain_id: eth.chain_id,
            bridge: eth.bridge,
            next_block: last_block + 1,
            recent: vec![(last_block, B256::repeat_byte(0xbb))],
        };
        let steps = lane_steps(&eth, &scanned, followed, last_block + 1);
        state.store.record_follow_step(&steps, Some(&cursor)).expect("persist");
        apply(state, scanned).expect("apply");
    }

    #[test]
    fn a_restart_resumes_from_the_store_and_old_sequences_sign_the_same_from_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("v.sqlite");
        let cfg = small_window(Role::Primary, None);
        let messages = sent(LANE, 20);
        // What a validator holding every accumulator in memory signs.
        let reference = state(&dir.path().join("reference.sqlite"), &config(cfg.chains.clone(), cfg.lanes.clone()));
        follow(&reference, &mut HashMap::from([(LANE, Accumulator::new(LANE))]), &messages, 20);
        assert_eq!(reference.lanes.read().expect("lock")[&LANE].window_start, 0);

        let head = {
            let first = state(&db, &cfg);
            follow(&first, &mut HashMap::from([(LANE, Accumulator::new(LANE))]), &messages, 20);
            let view = first.lanes.read().expect("lock")[&LANE].clone();
            assert_eq!((view.observed(), view.window_start, view.accumulators.len()), (20, 16, 4), "evicted");
            // Sequence 3 left the window: read from the store, signed exactly as with it in memory.
            let three = first.sign(LANE, 3).expect("from the store");
            assert_eq!(three, reference.sign(LANE, 3).expect("in memory"));
            assert_eq!(three.accumulator, messages[2].accumulator);
            first.sign(LANE, 20).expect("head")
        };

        // Restarted: before the lane is resumed, stored checkpoints are served (latest too).
        let restarted = state(&db, &cfg);
        assert_eq!(restarted.lanes.read().expect("lock")[&LANE].observed(), 0);
        assert_eq!(restarted.latest(LANE).expect("latest from the store"), 20);
        assert_eq!(restarted.sign(LANE, 20).expect("served"), head);
        assert!(matches!(restarted.sign(LANE, 5), Err(ValidatorError::NotObserved { .. })));

        let eth = chain("ethereum", None);
        let mut guard = ReorgGuard::new();
        assert_eq!(load_cursor(&restarted, &eth, &mut guard).expect("cursor"), Some(21));
        assert_eq!(guard.newest(), Some(BlockRef { number: 20, hash: B256::repeat_byte(0xbb) }));
        let resumed = resume(&restarted, &eth, LANE, 21).expect("resume").expect("a stored head");
        assert_eq!((resumed.sequence, resumed.accumulator, resumed.next_block), (20, messages[19].accumulator, 21));
        let view = restarted.lanes.read().expect("lock")[&LANE].clone();
        assert_eq!((view.observed(), view.window_start), (20, 16));
        assert_eq!(restarted.sign(LANE, 7).expect("old, from the store"), reference.sign(LANE, 7).expect("same"));
        assert_eq!(restarted.sign(LANE, 18).expect("in the window"), reference.sign(LANE, 18).expect("same"));

        // Caught up from the head: a scan that starts earlier skips what the lane already has.
        let mut followed =
            HashMap::from([(LANE, Accumulator { lane: LANE, sequence: 20, value: resumed.accumulator })]);
        let scanned = recompute(&sent(LANE, 25), &mut followed, true).expect("recompute");
        let sequences: Vec<u64> = scanned.accumulators[&LANE].iter().map(|m| m.sequence).collect();
        assert_eq!(sequences, vec![21, 22, 23, 24, 25]);
        // A head of another bridge (or past the cursor) is not resumed from.
        let other = zb_chain::ChainConfig { bridge: Address::repeat_byte(0xab), ..eth.clone() };
        assert_eq!(resume(&restarted, &other, LANE, 21).expect("resume"), None);
        assert_eq!(resume(&restarted, &eth, LANE, 20).expect("resume"), None);
    }

    #[test]
    fn the_fallback_due_check_reads_sent_at_from_the_store_past_the_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = state(&dir.path().join("v.sqlite"), &small_window(Role::Fallback, Some(100)));
        // sentAt of sequence s is 1000 + s; the window holds 7..=10.
        let messages = sent(LANE, 10);
        follow(&state, &mut HashMap::from([(LANE, Accumulator::new(LANE))]), &messages, 10);
        assert_eq!(state.lanes.read().expect("lock")[&LANE].window_start, 6);

        // Chain time 1105: sequences 1..=5 are due, all of them older than the window.
        state.chain_times.write().expect("lock").insert("ethereum".into(), 1105);
        assert_eq!(state.latest(LANE).expect("latest"), 5);
        assert_eq!(state.sign(LANE, 5).expect("due").accumulator, messages[4].accumulator);
        match state.sign(LANE, 6) {
            Err(ValidatorError::NotDue { sequence: 6, due_at: 1106, chain_time: 1105, .. }) => {}
            other => panic!("sequence 6 is due at 1106, got {other:?}"),
        }
        // Chain time 1108: due up to 8, inside the window.
        state.chain_times.write().expect("lock").insert("ethereum".into(), 1108);
        assert_eq!(state.latest(LANE).expect("latest"), 8);
        // Nothing due yet: the first sequence, whose refusal names its due time.
        state.chain_times.write().expect("lock").insert("ethereum".into(), 1000);
        assert_eq!(state.latest(LANE).expect("latest"), 1);
        assert!(matches!(state.sign(LANE, 1), Err(ValidatorError::NotDue { due_at: 1101, .. })));
    }
}
