//! Follows one source chain: finalized MessageSent events of the bridge become locally
//! recomputed accumulators, and new heads are signed.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use zb_chain::{ChainConfig, ChainError, Follower, ReorgGuard};
use zb_protocol::{Accumulator, MessageKind};

use crate::{State, ValidatorError};

pub(crate) async fn follow_chain(state: Arc<State>, config: ChainConfig, lanes: Vec<B256>) -> Result<(), ValidatorError> {
    let chain = config.name.clone();
    let poll = Duration::from_millis(config.poll_interval_ms.max(100));
    let mut next_block = config.start_block;
    let follower = loop {
        match Follower::connect(config.clone()).await {
            Ok(f) => break f,
            // A wrong chain id is a configuration error: retrying cannot fix it.
            Err(e @ ChainError::WrongChainId { .. }) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(%chain, error = %e, "cannot reach chain yet; retrying");
                tokio::time::sleep(poll).await;
            }
        }
    };
    let mut heads = follower.new_heads();
    let mut guard = ReorgGuard::new();
    let mut accumulators: HashMap<B256, Accumulator> = lanes.iter().map(|l| (*l, Accumulator::new(*l))).collect();
    let backoff_max = Duration::from_secs(30);
    let mut backoff = poll;
    loop {
        match step(&state, &follower, &mut guard, &mut accumulators, &mut next_block).await {
            Ok(()) => backoff = poll,
            Err(ValidatorError::Chain(ChainError::DeepReorg { number, expected, found })) => {
                let reason = format!(
                    "reorg deeper than finality on {chain}: block {number} changed from {expected} to {found}; \
                     signing stopped, investigate the chain and raise the finality setting before restarting"
                );
                tracing::error!(%chain, number, %expected, %found, "{reason}");
                metrics::gauge!("zb_validator_halted", "chain" => chain.clone()).set(1.0);
                halt(&state, &lanes, &reason);
                // Stay up: the API keeps serving what was signed and reports the halt (health
                // 503, the gauge) until an operator investigates and restarts the validator.
                std::future::pending::<()>().await;
            }
            Err(e) => {
                metrics::counter!("zb_validator_errors_total", "chain" => chain.clone()).increment(1);
                tracing::warn!(%chain, error = %e, retry_in = ?backoff, "follow step failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(backoff_max);
                continue;
            }
        }
        tokio::select! {
            _ = heads.changed() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

async fn step(
    state: &Arc<State>,
    follower: &Follower,
    guard: &mut ReorgGuard,
    accumulators: &mut HashMap<B256, Accumulator>,
    next_block: &mut u64,
) -> Result<(), ValidatorError> {
    guard.check(follower).await?;
    let finalized = follower.finalized().await?;
    metrics::gauge!("zb_validator_finalized_block", "chain" => follower.config().name.clone())
        .set(finalized.number as f64);
    if finalized.number < *next_block {
        return Ok(());
    }
    let sent = follower.sent_messages(*next_block, finalized.number).await?;

    // Work on copies so a failure half-way leaves the lane state untouched.
    let mut updated = accumulators.clone();
    let mut new_accumulators: HashMap<B256, Vec<B256>> = HashMap::new();
    let mut new_set_updates: HashMap<B256, Vec<u64>> = HashMap::new();
    for event in &sent {
        let Some(acc) = updated.get_mut(&event.lane) else { continue };
        let value = acc.push(&event.message).map_err(|e| ValidatorError::Sign(e.to_string()))?;
        if value != event.accumulator {
            // Our own recomputation is what we sign; a differing event means the bridge and this
            // agent disagree on the protocol. Say so loudly.
            tracing::error!(lane = %event.lane, sequence = event.message.sequence, emitted = %event.accumulator,
                computed = %value, "bridge emitted an accumulator this validator does not recompute");
        }
        new_accumulators.entry(event.lane).or_default().push(value);
        if MessageKind::from_u8(event.message.kind) == Some(MessageKind::SetUpdate) {
            new_set_updates.entry(event.lane).or_default().push(event.message.sequence);
        }
    }
    *accumulators = updated;
    guard.record(finalized);
    *next_block = finalized.number + 1;

    let mut to_sign: BTreeSet<(B256, u64)> = BTreeSet::new();
    {
        let mut lanes = state.lanes.write().map_err(|_| ValidatorError::Sign("lane table poisoned".into()))?;
        for (lane, values) in new_accumulators {
            let Some(view) = lanes.get_mut(&lane) else { continue };
            view.accumulators.extend(values);
            let head = view.accumulators.len() as u64;
            to_sign.insert((lane, head));
            for seq in new_set_updates.remove(&lane).unwrap_or_default() {
                view.set_updates.push(seq);
                to_sign.insert((lane, seq));
            }
            metrics::gauge!("zb_validator_lane_height", "lane" => lane.to_string()).set(head as f64);
        }
    }
    for (lane, sequence) in to_sign {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.sign(lane, sequence))
            .await
            .map_err(|e| ValidatorError::Sign(e.to_string()))??;
    }
    Ok(())
}

fn halt(state: &State, lanes: &[B256], reason: &str) {
    if let Ok(mut table) = state.lanes.write() {
        for lane in lanes {
            if let Some(view) = table.get_mut(lane) {
                view.halted = Some(reason.to_string());
            }
        }
    }
}
