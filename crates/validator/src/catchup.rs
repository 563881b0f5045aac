//! Catching lanes up to the chain's cursor: a lane added (configured, opted in to, or added
//! again) resumes from its stored head or from `start_block`. A lane close to the cursor (within
//! [`INLINE_CATCH_UP_BLOCKS`]) is caught up inside the chain's step; the others in their own
//! task, so that a long scan does not hold up the lanes already followed. A lane that finishes
//! behind the cursor (the cursor moved meanwhile) is caught up again from its new head, inline
//! once the gap is small.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use alloy::primitives::B256;
use zb_chain::{ChainConfig, Follower};
use zb_protocol::Accumulator;

use crate::observer::{Scanned, apply, halt_mismatches, recompute, sign_all};
use crate::{LaneView, State, ValidatorError, poisoned, progress};

/// A lane this close to the cursor (in blocks) is caught up inside the step.
pub(crate) const INLINE_CATCH_UP_BLOCKS: u64 = 32;

/// Lanes to catch up, each with the accumulator it resumes from, and the first block to scan.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) lanes: HashMap<B256, Accumulator>,
    pub(crate) from: u64,
}

/// Splits `pending` into the lanes caught up inline and those caught up in their own task.
pub(crate) fn plan(
    state: &State,
    chain: &ChainConfig,
    pending: &BTreeSet<B256>,
    next_block: u64,
) -> Result<(Plan, Plan), ValidatorError> {
    let mut near = Plan { lanes: HashMap::new(), from: next_block };
    let mut far = Plan { lanes: HashMap::new(), from: next_block };
    for &lane in pending {
        let resumed = progress::resume(state, chain, lane, next_block)?;
        let from = resumed.as_ref().map_or(chain.start_block, |h| h.next_block);
        let acc = resumed.map_or_else(
            || Accumulator::new(lane),
            |h| Accumulator { lane, sequence: h.sequence, value: h.accumulator },
        );
        let target = if from.saturating_add(INLINE_CATCH_UP_BLOCKS) >= next_block { &mut near } else { &mut far };
        target.from = target.from.min(from);
        target.lanes.insert(lane, acc);
    }
    Ok((near, far))
}

/// Brings the lanes of `plan` to `next_block` (one scan from the oldest of them), persisting,
/// applying and signing what it found; returns the lanes that can be followed from there (a
/// lane that hit a mismatch is halted and left out).
pub(crate) async fn run(
    state: &Arc<State>,
    follower: &Follower,
    plan: Plan,
    next_block: u64,
) -> Result<HashMap<B256, Accumulator>, ValidatorError> {
    let config = follower.config();
    let Plan { lanes: mut fresh, from } = plan;
    let scanned = if next_block > from {
        let lanes: Vec<B256> = fresh.keys().copied().collect();
        let sent = follower.sent_messages_of(&lanes, from, next_block - 1).await?;
        recompute(&sent, &mut fresh, true)?
    } else {
        Scanned::default()
    };
    halt_mismatches(state, scanned.mismatches()).await?;
    progress::persist(state, progress::lane_steps(config, &scanned, &fresh, next_block), None).await?;
    let to_sign = apply(state, scanned)?;
    if next_block > from {
        let table = state.lanes.read().map_err(|_| poisoned())?;
        for lane in fresh.keys() {
            let observed = table.get(lane).map_or(0, LaneView::observed);
            tracing::info!(%lane, chain = %config.name, observed, from_block = from, up_to_block = next_block - 1,
                "lane caught up");
        }
    }
    sign_all(state, to_sign).await?;
    Ok(fresh)
}

/// What a catch-up task returns.
pub(crate) type Outcome = Result<Result<HashMap<B256, Accumulator>, ValidatorError>, tokio::task::JoinError>;

/// A catch-up task ended: its lanes (those still in `catching`, i.e. not dropped meanwhile) are
/// pending again, and resume from the heads it stored, inline once close to the cursor. A halted
/// lane is left out; after an error they all start over from their stored heads.
pub(crate) fn finish(chain: &str, catching: &mut BTreeSet<B256>, pending: &mut BTreeSet<B256>, outcome: Outcome) {
    let catching = std::mem::take(catching);
    let resumable: BTreeSet<B256> = match outcome {
        Ok(Ok(caught_up)) => catching.into_iter().filter(|lane| caught_up.contains_key(lane)).collect(),
        Ok(Err(e)) => {
            metrics::counter!("zb_validator_errors_total", "chain" => chain.to_string()).increment(1);
            tracing::warn!(%chain, error = %e, "catching lanes up failed; retrying from their stored heads");
            catching
        }
        Err(e) => {
            tracing::warn!(%chain, error = %e, "the catch-up task ended abnormally; retrying from the stored heads");
            catching
        }
    };
    pending.extend(resumable);
}

#[cfg(test)]
mod tests {
    use alloy::primitives::B256;
    use zb_store::{LaneHead, LaneProgress, LaneStep};

    use super::*;
    use crate::tests::{chain, config, state};

    #[test]
    fn lanes_far_behind_the_cursor_go_to_their_own_task_and_come_back_pending() {
        let dir = tempfile::tempdir().expect("tempdir");
        let eth = chain("ethereum", None);
        let (followed_before, new) = (B256::repeat_byte(0xa), B256::repeat_byte(0xb));
        let state = state(&dir.path().join("v.sqlite"), &config(vec![eth.clone()], vec![]));
        let head = LaneHead {
            lane: followed_before,
            chain_id: eth.chain_id,
            bridge: eth.bridge,
            next_block: 10,
            sequence: 1,
            accumulator: B256::repeat_byte(1),
        };
        let row = LaneProgress { sequence: 1, accumulator: B256::repeat_byte(1), sent_at: 5, block: 9 };
        let step = LaneStep { head, messages: vec![row], set_updates: vec![] };
        state.store.record_follow_step(&[step], None).expect("head");
        let pending: BTreeSet<B256> = [followed_before, new].into_iter().collect();

        // Cursor at 40: the lane stored at 10 is close enough; the new one starts at 0.
        let (near, far) = plan(&state, &eth, &pending, 40).expect("plan");
        assert_eq!((near.from, near.lanes[&followed_before].sequence), (10, 1));
        assert_eq!((far.from, far.lanes[&new].sequence), (0, 0));
        assert!(!near.lanes.contains_key(&new) && !far.lanes.contains_key(&followed_before));
        // Cursor at 1000: both are far.
        let (near, far) = plan(&state, &eth, &pending, 1000).expect("plan");
        assert!(near.lanes.is_empty() && far.lanes.len() == 2 && far.from == 0);

        // The task ends: lanes still being caught up are pending again, a halted one is not.
        let mut catching: BTreeSet<B256> = pending.clone();
        let mut again = BTreeSet::new();
        let done = HashMap::from([(new, Accumulator::new(new))]);
        finish("ethereum", &mut catching, &mut again, Ok(Ok(done)));
        assert_eq!(again, [new].into_iter().collect());
        assert!(catching.is_empty());
        // After an error every lane of the task starts over.
        let mut catching = pending.clone();
        let mut again = BTreeSet::new();
        finish("ethereum", &mut catching, &mut again, Ok(Err(ValidatorError::Sign("rpc down".into()))));
        assert_eq!(again, pending);
    }
}
