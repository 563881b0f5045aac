//! Follows one source chain: finalized MessageSent events of the bridge become locally
//! recomputed accumulators, and new heads are signed. On a chain with a stake manager it also
//! keeps the set of lanes in line with the stake manager, every `stake_refresh_secs`:
//! - a lane the operator opted in to is added, caught up from `start_block` (one rescan for all
//!   lanes added together), then followed like the others;
//! - a lane it opted out of (and not configured) is *leaving* while this validator may still be
//!   needed there: no sequence observed after the opt-out is signed, except validator-set
//!   updates, because the old set must sign exactly there for the lane to hand over
//!   (docs/protocol.md section 9). A leaving lane is dropped once the lane's current snapshot no
//!   longer lists this validator and its hand-over is done: the snapshot's set attests on the
//!   source lane and the blocks up to that read were consumed here (so the SET_UPDATE, if any,
//!   was observed and signed). Checkpoints signed before stay served from the store.
//!
//! Which lanes were left is read from the stake manager's `OptedOut` events, so a restarted
//! validator still finds the lanes whose current set lists it, and signs their hand-over.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use tokio::time::Instant;
use zb_chain::{ChainConfig, ChainError, Follower, ReorgGuard, SentMessage};
use zb_protocol::{Accumulator, MessageKind};
use zb_store::LaneProgress;

use crate::stake::{LaneSecurity, StakeError, StakeReader};
use crate::{ConfigError, LaneView, State, ValidatorError, poisoned};
use crate::{catchup, progress};

/// The lanes one chain task works on.
struct ChainLanes {
    /// `[[lanes]]` of this chain: always secured.
    configured: BTreeSet<B256>,
    /// Lanes whose accumulators are current up to `next_block - 1`.
    followed: HashMap<B256, Accumulator>,
    /// Lanes added since the last step: caught up (from their stored head, or `start_block`) at
    /// the next one, or handed to the catch-up task when far behind.
    pending: BTreeSet<B256>,
    /// Lanes the catch-up task is bringing to the cursor: neither followed nor pending.
    catching: BTreeSet<B256>,
}

/// What a lane should be after a stake-manager read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Configured, or opted in to: signed.
    Active { opted_in: bool },
    /// Opted out of, but this validator may still have to sign the lane's hand-over.
    Leaving,
    /// Not secured.
    Dropped,
    /// Not enough is known (the security read failed): left as it is.
    Unchanged,
}

/// Decides one lane of this chain. `security` is its read at this refresh (None: not read).
fn decide(
    configured: bool,
    opted_in: bool,
    in_table: bool,
    security: Option<&Result<LaneSecurity, String>>,
    next_block: u64,
) -> Target {
    if configured || opted_in {
        return Target::Active { opted_in };
    }
    match security {
        Some(Ok(s)) => {
            // The stake manager's current set for the lane is in force on the source lane, and
            // this validator has consumed the blocks up to the read: the SET_UPDATE that put it
            // there (if any) was observed. No committed snapshot: staking never put it in a set.
            let handed_over = !s.committed || (s.attesting_set_hash == s.set_hash && next_block > s.block);
            if s.in_snapshot || (in_table && !handed_over) { Target::Leaving } else { Target::Dropped }
        }
        _ if in_table => Target::Unchanged,
        _ => Target::Dropped,
    }
}

impl ChainLanes {
    fn is_empty(&self) -> bool {
        self.followed.is_empty() && self.pending.is_empty() && self.catching.is_empty()
    }

    /// Applies the targets of `chain`'s lanes to the lane table; returns the lanes dropped.
    fn apply_targets(
        &mut self,
        state: &State,
        chain: &ChainConfig,
        targets: &BTreeMap<B256, Target>,
    ) -> Result<Vec<B256>, ValidatorError> {
        let name = &chain.name;
        let mut dropped = Vec::new();
        let mut table = state.lanes.write().map_err(|_| poisoned())?;
        for (&lane, &target) in targets {
            match (target, table.get_mut(&lane)) {
                (Target::Unchanged, _) | (Target::Dropped, None) => {}
                (Target::Active { opted_in }, Some(view)) => {
                    view.opted_in = opted_in;
                    if view.leaving_since.take().is_some() {
                        tracing::info!(%lane, chain = %name, observed = view.observed(),
                            "lane opted in to again: signing new sequences again");
                    }
                }
                (Target::Active { opted_in }, None) => {
                    table.insert(lane, LaneView::new(chain, self.configured.contains(&lane), opted_in));
                    self.pending.insert(lane);
                    tracing::info!(%lane, chain = %name, from_block = chain.start_block,
                        "lane added: the operator opted in to it; catching up from its stored head, or from start_block");
                }
                (Target::Leaving, Some(view)) => {
                    view.opted_in = false;
                    if view.leaving_since.is_none() {
                        let since = view.observed();
                        view.leaving_since = Some(since);
                        tracing::info!(%lane, chain = %name, observed = since,
                            "lane opted out: no new sequence is signed, except the validator-set update that hands \
                             the lane over; checkpoints signed before are still served");
                    }
                }
                (Target::Leaving, None) => {
                    // Found at start-up: opted out earlier, still in the lane's set.
                    let mut view = LaneView::new(chain, false, false);
                    view.leaving_since = Some(0);
                    table.insert(lane, view);
                    self.pending.insert(lane);
                    tracing::info!(%lane, chain = %name,
                        "lane added as leaving: the operator opted out, but the lane's current validator set still \
                         lists this validator; only its hand-over will be signed");
                }
                (Target::Dropped, Some(_)) => {
                    table.remove(&lane);
                    self.followed.remove(&lane);
                    if self.pending.remove(&lane) | self.catching.remove(&lane) {
                        tracing::info!(%lane, chain = %name, "lane removed before it was caught up: the operator opted out");
                    } else {
                        tracing::info!(%lane, chain = %name,
                            "lane dropped: the operator opted out and the lane's current validator set no longer \
                             includes this validator; checkpoints signed before are still served");
                    }
                    dropped.push(lane);
                }
            }
        }
        Ok(dropped)
    }
}

fn count_lanes(state: &State, chain: &str) {
    if let Ok(table) = state.lanes.read() {
        let n = table.values().filter(|v| v.source_name == chain).count();
        metrics::gauge!("zb_validator_lanes", "chain" => chain.to_string()).set(n as f64);
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Reads the stake manager and applies what it says. Only a fatal error is returned; anything a
/// later refresh may fix is logged and leaves the lanes as they are.
async fn refresh_stake(
    state: &State,
    reader: &mut StakeReader,
    lanes: &mut ChainLanes,
    config: &ChainConfig,
    next_block: u64,
) -> Result<(), ValidatorError> {
    let chain = &config.name;
    let opt_ins = match reader.opt_ins().await {
        Ok(o) => o,
        Err(StakeError::Config(message)) => return Err(ConfigError::Invalid(message).into()),
        Err(StakeError::Chain(e)) => {
            metrics::counter!("zb_validator_stake_refresh_errors_total", "chain" => chain.clone()).increment(1);
            tracing::warn!(%chain, error = %e, "cannot read the stake manager; keeping the current lanes");
            if let Some(view) = state.stake.write().map_err(|_| poisoned())?.get_mut(chain) {
                view.last_error = Some(e.to_string());
            }
            return Ok(());
        }
    };
    state.record_registration(chain, opt_ins.operator)?;
    let read_at = unix_now();
    if let Some(view) = state.stake.write().map_err(|_| poisoned())?.get_mut(chain) {
        view.opted_in = opt_ins.lanes.iter().copied().collect();
        view.block = Some(opt_ins.block.number);
        view.read_at = Some(read_at);
        view.last_error = None;
    }

    // Every lane that is, or may become, secured here.
    let in_table: BTreeSet<B256> = {
        let table = state.lanes.read().map_err(|_| poisoned())?;
        table.iter().filter(|(_, v)| v.source_name == *chain).map(|(l, _)| *l).collect()
    };
    let candidates: BTreeSet<B256> =
        in_table.iter().chain(&opt_ins.lanes).chain(&opt_ins.left).chain(&lanes.configured).copied().collect();
    let mut security = HashMap::new();
    for &lane in &candidates {
        let entry = reader.security(lane, opt_ins.block, read_at).await.map_err(|e| {
            tracing::warn!(%chain, %lane, error = %e, "cannot read the lane's economic security");
            e.to_string()
        });
        security.insert(lane, entry);
    }
    let targets: BTreeMap<B256, Target> = candidates
        .iter()
        .map(|lane| {
            // A lane not caught up yet has consumed no block: its hand-over cannot be observed.
            let consumed = if lanes.pending.contains(lane) || lanes.catching.contains(lane) { 0 } else { next_block };
            let target = decide(
                lanes.configured.contains(lane),
                opt_ins.lanes.contains(lane),
                in_table.contains(lane),
                security.get(lane),
                consumed,
            );
            (*lane, target)
        })
        .collect();
    lanes.apply_targets(state, config, &targets)?;
    for (lane, target) in &targets {
        if *target == Target::Dropped && matches!(security.get(lane), Some(Ok(_))) {
            // Known to be out of the lane's set: no hand-over to wait for any more.
            reader.forget_left(*lane);
        }
    }
    let present: std::collections::HashSet<B256> =
        state.lanes.read().map_err(|_| poisoned())?.keys().copied().collect();
    let mut cache = state.security.write().map_err(|_| poisoned())?;
    cache.extend(security.into_iter().filter(|(lane, _)| present.contains(lane)));
    cache.retain(|lane, _| present.contains(lane));
    drop(cache);
    count_lanes(state, chain);
    Ok(())
}

pub(crate) async fn follow_chain(
    state: Arc<State>,
    config: ChainConfig,
    configured: BTreeSet<B256>,
    refresh: Duration,
) -> Result<(), ValidatorError> {
    let chain = config.name.clone();
    if state.chain_halted(&chain)? {
        // Persisted by an earlier run: nothing of this chain is followed or signed until
        // `validator unhalt --chain`. The API keeps serving and reporting the halt.
        std::future::pending::<()>().await;
    }
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
    if let Some(cursor) = progress::load_cursor(&state, &config, &mut guard)? {
        next_block = cursor;
    }
    let mut lanes =
        ChainLanes { pending: configured.clone(), configured, followed: HashMap::new(), catching: BTreeSet::new() };
    // At most one catch-up task (aborted with this task).
    let mut catch_ups: tokio::task::JoinSet<Result<HashMap<B256, Accumulator>, ValidatorError>> =
        tokio::task::JoinSet::new();
    let mut caught_up = None;
    let mut stake = config.stake_manager.map(|sm| StakeReader::new(follower.clone(), sm, state.signer.address()));
    let mut next_refresh = Instant::now();
    count_lanes(&state, &chain);
    let backoff_max = Duration::from_secs(30);
    let mut backoff = poll;
    loop {
        if let Some(finished) = caught_up.take() {
            catchup::finish(&chain, &mut lanes.catching, &mut lanes.pending, finished);
        }
        if let Some(reader) = stake.as_mut()
            && Instant::now() >= next_refresh
        {
            next_refresh = Instant::now() + refresh;
            refresh_stake(&state, reader, &mut lanes, &config, next_block).await?;
        }
        if !lanes.is_empty() {
            match step(&state, &follower, &mut guard, &mut lanes, &mut next_block).await {
                Ok(()) => {
                    backoff = poll;
                    // Ready once every lane is caught up (also those caught up in their own task).
                    if lanes.pending.is_empty() && lanes.catching.is_empty() {
                        mark_following(&state, &chain)?;
                    }
                }
                Err(ValidatorError::Chain(ChainError::DeepReorg { number, expected, found })) => {
                    let reason = format!(
                        "reorg deeper than finality on {chain}: block {number} changed from {expected} to {found}; \
                         signing stopped: investigate the chain, raise the finality setting, then run \
                         `zerobridge validator unhalt --chain {chain}` with the validator stopped"
                    );
                    state.halt_chain(&chain, &reason)?;
                    // Stay up: the API reports the halt (health body, ready 503, the gauge) until an
                    // operator investigates. Opt-ins of this chain are not read any more either.
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
        }
        if catch_ups.is_empty() && !lanes.pending.is_empty() {
            let (_near, far) = catchup::plan(&state, &config, &lanes.pending, next_block)?;
            if !far.lanes.is_empty() {
                tracing::info!(chain = %chain, lanes = far.lanes.len(), from_block = far.from, to_block = next_block,
                    "catching lanes up in their own task");
                for lane in far.lanes.keys() {
                    lanes.pending.remove(lane);
                    lanes.catching.insert(*lane);
                }
                let (state, follower) = (state.clone(), follower.clone());
                catch_ups.spawn(async move { catchup::run(&state, &follower, far, next_block).await });
            }
        }
        if lanes.is_empty() && stake_read(&state, &chain)? {
            // Nothing to follow: the stake manager was read and no lane is secured here.
            mark_following(&state, &chain)?;
        }
        tokio::select! {
            _ = heads.changed() => {}
            _ = tokio::time::sleep(poll) => {}
            Some(finished) = catch_ups.join_next(), if !catch_ups.is_empty() => caught_up = Some(finished),
        }
    }
}

fn mark_following(state: &State, chain: &str) -> Result<(), ValidatorError> {
    if let Some(done) = state.following.write().map_err(|_| poisoned())?.get_mut(chain) {
        *done = true;
    }
    Ok(())
}

/// Whether `chain`'s stake manager (if any) answered at least once.
fn stake_read(state: &State, chain: &str) -> Result<bool, ValidatorError> {
    Ok(state.stake.read().map_err(|_| poisoned())?.get(chain).is_none_or(|v| v.block.is_some()))
}

/// A sequence whose emitted accumulator differs from the recomputed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mismatch {
    lane: B256,
    sequence: u64,
    emitted: B256,
    computed: B256,
}

/// New accumulators (with each message's `sentAt` and block) and set updates per lane, from one
/// range of logs, and the mismatches that stopped a lane.
#[derive(Default)]
pub(crate) struct Scanned {
    pub(crate) accumulators: HashMap<B256, Vec<LaneProgress>>,
    pub(crate) set_updates: HashMap<B256, Vec<(u64, B256)>>,
    mismatches: Vec<Mismatch>,
    /// Lanes stopped at a mismatch: the block of that message and the accumulator before it.
    pub(crate) stopped: HashMap<B256, (u64, Accumulator)>,
}

impl Scanned {
    pub(crate) fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }
}

/// Recomputes the accumulators of the lanes in `accumulators` over `sent`; others are skipped. A
/// lane whose emitted accumulator differs from the recomputed one is taken out of `accumulators`
/// at that sequence (it is not followed any more) and reported in `mismatches`; its earlier
/// sequences are kept. `catching_up`: a lane resumed from its stored head skips the messages it
/// already has (the scan starts at the oldest lane's block).
pub(crate) fn recompute(
    sent: &[SentMessage],
    accumulators: &mut HashMap<B256, Accumulator>,
    catching_up: bool,
) -> Result<Scanned, ValidatorError> {
    let mut scanned = Scanned::default();
    for event in sent {
        let Some(acc) = accumulators.get_mut(&event.lane) else {
            continue;
        };
        if catching_up && event.message.sequence <= acc.sequence {
            continue;
        }
        let before = acc.clone();
        let value = acc.push(&event.message).map_err(|e| ValidatorError::Sign(e.to_string()))?;
        if value != event.accumulator {
            // Either side may be wrong; signing a value the bridge never had is slashable.
            accumulators.remove(&event.lane);
            scanned.stopped.insert(event.lane, (event.block_number, before));
            scanned.mismatches.push(Mismatch {
                lane: event.lane,
                sequence: event.message.sequence,
                emitted: event.accumulator,
                computed: value,
            });
            continue;
        }
        scanned.accumulators.entry(event.lane).or_default().push(LaneProgress {
            sequence: event.message.sequence,
            accumulator: value,
            sent_at: event.message.sentAt,
            block: event.block_number,
        });
        if MessageKind::from_u8(event.message.kind) == Some(MessageKind::SetUpdate) {
            scanned.set_updates.entry(event.lane).or_default().push((event.message.sequence, event.message.data));
        }
    }
    Ok(scanned)
}

/// Adds what was scanned to the lane table; returns what to sign: each lane's new head (unless
/// it is leaving) and every new set update. A fallback validator signs nothing on its own: only
/// what a relayer asks for once it is due.
pub(crate) fn apply(state: &State, mut scanned: Scanned) -> Result<BTreeSet<(B256, u64)>, ValidatorError> {
    let mut to_sign = BTreeSet::new();
    let primary = state.fallback_delay.is_none();
    let mut lanes = state.lanes.write().map_err(|_| poisoned())?;
    let halts = state.halts.read().map_err(|_| poisoned())?;
    for (lane, values) in scanned.accumulators {
        let Some(view) = lanes.get_mut(&lane) else {
            continue;
        };
        let expected = view.observed() + 1;
        if values.first().is_some_and(|m| m.sequence != expected) {
            // A catch-up that ended after the lane was dropped and added again: the new view is
            // caught up on its own.
            tracing::warn!(%lane, expected, "scanned messages do not continue the lane's view; not applied");
            continue;
        }
        for message in values {
            view.accumulators.push(message.accumulator);
            view.sent_at.push(message.sent_at);
        }
        // Everything scanned was persisted first (progress::persist): older sequences are read
        // from the store.
        view.evict(state.memory_window);
        let head = view.observed();
        let signable = |sequence| primary && halts.refusal(lane, Some(&view.source_name), sequence).is_none();
        if view.leaving_since.is_none() && signable(head) {
            to_sign.insert((lane, head));
        }
        for (sequence, set_hash) in scanned.set_updates.remove(&lane).unwrap_or_default() {
            if signable(sequence) {
                to_sign.insert((lane, sequence));
            }
            view.set_updates.push((sequence, set_hash));
        }
        metrics::gauge!("zb_validator_lane_height", "lane" => lane.to_string()).set(head as f64);
    }
    Ok(to_sign)
}

/// Persists and raises a halt for every mismatch, before anything of the scan is applied (a
/// failure leaves the lane state as it was, so the next step scans and halts again).
pub(crate) async fn halt_mismatches(state: &Arc<State>, mismatches: &[Mismatch]) -> Result<(), ValidatorError> {
    for &Mismatch { lane, sequence, emitted, computed } in mismatches {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.halt_lane(lane, sequence, emitted, computed))
            .await
            .map_err(|e| ValidatorError::Sign(e.to_string()))??;
    }
    Ok(())
}

pub(crate) async fn sign_all(state: &Arc<State>, to_sign: BTreeSet<(B256, u64)>) -> Result<(), ValidatorError> {
    for (lane, sequence) in to_sign {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.sign(lane, sequence))
            .await
            .map_err(|e| ValidatorError::Sign(e.to_string()))??;
    }
    Ok(())
}

async fn step(
    state: &Arc<State>,
    follower: &Follower,
    guard: &mut ReorgGuard,
    lanes: &mut ChainLanes,
    next_block: &mut u64,
) -> Result<(), ValidatorError> {
    // Also the start-up check of a resumed cursor: its blocks, read again through the quorum.
    guard.check(follower).await?;
    if !lanes.pending.is_empty() {
        // Far lanes stay pending: follow_chain hands them to their own task.
        let (near, _far) = catchup::plan(state, follower.config(), &lanes.pending, *next_block)?;
        if !near.lanes.is_empty() {
            let near_lanes: Vec<B256> = near.lanes.keys().copied().collect();
            let caught_up = catchup::run(state, follower, near, *next_block).await?;
            for lane in near_lanes {
                lanes.pending.remove(&lane);
            }
            lanes.followed.extend(caught_up);
        }
    }

    let finalized = follower.finalized().await?;
    let config = follower.config();
    metrics::gauge!("zb_validator_finalized_block", "chain" => config.name.clone()).set(finalized.number as f64);
    if finalized.number < *next_block {
        return Ok(());
    }
    let followed: Vec<B256> = lanes.followed.keys().copied().collect();
    // Every lane halted: nothing to read, but the cursor still moves (the reorg guard with it).
    let sent = if followed.is_empty() {
        Vec::new()
    } else {
        follower.sent_messages_of(&followed, *next_block, finalized.number).await?
    };
    // Only the fallback role needs chain time (its due check); a primary makes no extra call.
    let chain_time = match state.fallback_delay {
        Some(_) => Some(follower.block_timestamp(finalized).await?),
        None => None,
    };

    // Work on copies so a failure half-way leaves the lane state untouched.
    let mut updated = lanes.followed.clone();
    let scanned = recompute(&sent, &mut updated, false)?;
    halt_mismatches(state, &scanned.mismatches).await?;
    let mut recorded = guard.clone();
    recorded.record(finalized);
    let consumed = finalized.number + 1;
    let cursor = progress::cursor(config, &recorded, consumed);
    progress::persist(state, progress::lane_steps(config, &scanned, &updated, consumed), Some(cursor)).await?;
    lanes.followed = updated;
    *guard = recorded;
    *next_block = consumed;
    metrics::gauge!("zb_validator_cursor_block", "chain" => config.name.clone()).set(consumed as f64);
    let to_sign = apply(state, scanned)?;
    if let Some(time) = chain_time {
        state.chain_times.write().map_err(|_| poisoned())?.insert(config.name.clone(), time);
    }
    sign_all(state, to_sign).await
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, U256};

    use super::*;
    use crate::LaneConfig;
    use crate::progress::tests::sent;
    use crate::tests::{chain, config, state};

    fn set(lanes: &[B256]) -> BTreeSet<B256> {
        lanes.iter().copied().collect()
    }

    /// A read at block 100: `in_snapshot`, and whether the snapshot's set attests on the lane.
    fn security(in_snapshot: bool, attests: bool) -> Result<LaneSecurity, String> {
        Ok(LaneSecurity {
            stake_manager: Address::repeat_byte(0x5a),
            block: 100,
            read_at: 0,
            committed: true,
            epoch: 2,
            validators: 3,
            total_stake: U256::from(3u64),
            threshold: U256::from(2u64),
            quorum_loss: U256::from(2u64),
            set_hash: B256::repeat_byte(0x5e),
            attesting_set_hash: if attests { B256::repeat_byte(0x5e) } else { B256::repeat_byte(0x01) },
            staking_token: Address::ZERO,
            in_snapshot,
            weight: in_snapshot.then_some(U256::from(1u64)),
            token: Address::repeat_byte(0x70),
            capacity: U256::from(100u64),
            unbonding_period: 600,
            set_lifetime: 86_400,
            max_flow_in_set_lifetime: U256::from(100u64),
        })
    }

    #[test]
    fn only_a_primary_signs_new_heads_and_set_updates_on_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lane = B256::repeat_byte(0x33);
        let lanes = vec![LaneConfig { lane, source: "ethereum".into() }];
        let primary = config(vec![chain("ethereum", None)], lanes.clone());
        let fallback =
            crate::ValidatorConfig { role: crate::Role::Fallback, fallback_delay_secs: Some(60), ..primary.clone() };
        for (cfg, expected) in [(primary, set_of(&[(lane, 1), (lane, 2)])), (fallback, BTreeSet::new())] {
            let state = state(&dir.path().join(format!("{:?}.sqlite", cfg.role)), &cfg);
            state.lanes.write().expect("lock").insert(lane, LaneView::new(&cfg.chains[0], true, false));
            let mut scanned = Scanned::default();
            let progress = |sequence, sent_at| LaneProgress {
                sequence,
                accumulator: B256::repeat_byte(sequence as u8),
                sent_at,
                block: sequence,
            };
            scanned.accumulators.insert(lane, vec![progress(1, 100), progress(2, 110)]);
            scanned.set_updates.insert(lane, vec![(1, B256::repeat_byte(0x5e))]);
            assert_eq!(apply(&state, scanned).expect("apply"), expected, "{:?}", cfg.role);
            let view = state.lanes.read().expect("lock").get(&lane).cloned().expect("lane");
            assert_eq!((view.observed(), view.sent_at), (2, vec![100, 110]));
        }
    }

    #[test]
    fn a_mismatch_halts_the_lane_from_that_sequence_on_and_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("v.sqlite");
        let lane = B256::repeat_byte(0x33);
        let cfg = config(vec![chain("ethereum", None)], vec![LaneConfig { lane, source: "ethereum".into() }]);
        let honest = sent(lane, 4);
        let mut lying = honest.clone();
        lying[2].accumulator = B256::repeat_byte(0xee);
        let (emitted, computed) = (lying[2].accumulator, honest[2].accumulator);

        let two = {
            let state = state(&db, &cfg);
            let mut followed = HashMap::from([(lane, Accumulator::new(lane))]);
            let scanned = recompute(&lying, &mut followed, false).expect("recompute");
            assert_eq!(scanned.mismatches, vec![Mismatch { lane, sequence: 3, emitted, computed }]);
            assert!(!followed.contains_key(&lane), "a halted lane is not followed any more");
            let Mismatch { lane, sequence, emitted, computed } = scanned.mismatches[0];
            state.halt_lane(lane, sequence, emitted, computed).expect("halt");
            // Only what agreed with the bridge is applied; the head signed is the last of it.
            assert_eq!(apply(&state, scanned).expect("apply"), set_of(&[(lane, 2)]));
            let two = state.sign(lane, 2).expect("before the mismatch");
            assert_eq!(two.accumulator, honest[1].accumulator);
            for sequence in [3, 4] {
                match state.sign(lane, sequence) {
                    Err(ValidatorError::Halted { reason, .. }) => {
                        assert!(reason.contains("sequence 3") && reason.contains(&emitted.to_string()), "{reason}");
                        assert!(reason.contains(&computed.to_string()), "{reason}");
                    }
                    other => panic!("sequence {sequence} must be refused, got {other:?}"),
                }
            }
            two
        };

        // Restarted over an honest provider: the halt holds, earlier checkpoints are served.
        {
            let restarted = state(&db, &cfg);
            let mut followed = HashMap::from([(lane, Accumulator::new(lane))]);
            let scanned = recompute(&honest, &mut followed, false).expect("recompute");
            assert!(scanned.mismatches.is_empty());
            assert_eq!(apply(&restarted, scanned).expect("apply"), BTreeSet::new(), "the halted head is not signed");
            assert_eq!(restarted.sign(lane, 2).expect("served"), two);
            assert_eq!(restarted.sign(lane, 1).expect("before the mismatch").accumulator, honest[0].accumulator);
            assert!(matches!(restarted.sign(lane, 3), Err(ValidatorError::Halted { .. })));
            assert!(matches!(restarted.sign(lane, 4), Err(ValidatorError::Halted { .. })));
            let history = restarted.store.export_history(Address::ZERO).expect("history");
            assert!(history.entries.iter().all(|e| e.sequence < 3), "{:?}", history.entries);
            // What `validator unhalt` does, with the validator stopped.
            restarted.store.unhalt_lane(lane).expect("unhalt").expect("was halted");
        }

        // Unhalted and restarted: signed again.
        let unhalted = state(&db, &cfg);
        unhalted.lanes.write().expect("lock").get_mut(&lane).expect("lane").accumulators =
            honest.iter().map(|e| e.accumulator).collect();
        assert_eq!(unhalted.sign(lane, 4).expect("unhalted").accumulator, honest[3].accumulator);
    }

    fn set_of(items: &[(B256, u64)]) -> BTreeSet<(B256, u64)> {
        items.iter().copied().collect()
    }

    #[test]
    fn decisions() {
        let member = security(true, true);
        let handed_over = security(false, true);
        let queued_elsewhere = security(false, false);
        let failed: Result<LaneSecurity, String> = Err("rpc down".into());
        let uncommitted = security(false, false).map(|s| LaneSecurity { committed: false, ..s });

        // Configured or opted in: active, whatever the snapshot says.
        assert_eq!(decide(true, false, true, Some(&handed_over), 200), Target::Active { opted_in: false });
        assert_eq!(decide(false, true, false, None, 0), Target::Active { opted_in: true });
        // Opted out, still in the lane's set: leaving (also found at start-up, not in the table).
        assert_eq!(decide(false, false, true, Some(&member), 200), Target::Leaving);
        assert_eq!(decide(false, false, false, Some(&member), 200), Target::Leaving);
        // Out of the set, but the hand-over may not be observed here yet: still leaving.
        assert_eq!(decide(false, false, true, Some(&handed_over), 100), Target::Leaving);
        assert_eq!(decide(false, false, true, Some(&queued_elsewhere), 200), Target::Leaving);
        // Out of the set and handed over: dropped; never added when not followed.
        assert_eq!(decide(false, false, true, Some(&handed_over), 101), Target::Dropped);
        assert_eq!(decide(false, false, false, Some(&handed_over), 0), Target::Dropped);
        assert_eq!(decide(false, false, true, Some(&uncommitted), 0), Target::Dropped);
        // Unknown: a followed lane is left as it is; an unknown one is not added.
        assert_eq!(decide(false, false, true, Some(&failed), 200), Target::Unchanged);
        assert_eq!(decide(false, false, false, Some(&failed), 200), Target::Dropped);
    }

    #[test]
    fn targets_add_leave_re_add_and_drop_lanes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let eth = chain("ethereum", Some(Address::repeat_byte(0x5a)));
        let (configured, a, b) = (B256::repeat_byte(1), B256::repeat_byte(0xa), B256::repeat_byte(0xb));
        let cfg = config(vec![eth.clone()], vec![LaneConfig { lane: configured, source: "ethereum".into() }]);
        let state = state(&dir.path().join("v.sqlite"), &cfg);
        let mut lanes = ChainLanes {
            pending: set(&[configured]),
            configured: set(&[configured]),
            followed: HashMap::new(),
            catching: BTreeSet::new(),
        };
        let view = |lane: B256| state.lanes.read().expect("lock").get(&lane).cloned();
        let apply = |lanes: &mut ChainLanes, targets: &[(B256, Target)]| {
            lanes.apply_targets(&state, &eth, &targets.iter().copied().collect()).expect("apply")
        };
        let active = Target::Active { opted_in: true };

        // Opted in to a and b: both added, waiting for their catch-up with the configured lane.
        apply(&mut lanes, &[(configured, Target::Active { opted_in: false }), (a, active), (b, active)]);
        assert_eq!(lanes.pending, set(&[configured, a, b]));
        assert!(view(a).expect("a").opted_in && !view(a).expect("a").configured);
        assert!(view(configured).expect("configured").configured);
        // Caught up (as step does): a has 3 messages.
        for lane in std::mem::take(&mut lanes.pending) {
            lanes.followed.insert(lane, Accumulator::new(lane));
        }
        state.lanes.write().expect("lock").get_mut(&a).expect("a").accumulators = vec![B256::repeat_byte(3); 3];

        // Opted out of a: leaving since 3, still followed.
        apply(&mut lanes, &[(a, Target::Leaving)]);
        assert_eq!(view(a).expect("a").leaving_since, Some(3));
        assert!(!view(a).expect("a").opted_in && lanes.followed.contains_key(&a));
        // A failed read changes nothing.
        apply(&mut lanes, &[(a, Target::Unchanged)]);
        assert_eq!(view(a).expect("a").leaving_since, Some(3));
        // Back in: active again, nothing to catch up (it was followed all along).
        apply(&mut lanes, &[(a, active)]);
        assert_eq!(view(a).expect("a").leaving_since, None);
        assert!(lanes.pending.is_empty());

        // Handed over: dropped.
        let dropped = apply(&mut lanes, &[(a, Target::Leaving)]);
        assert!(dropped.is_empty());
        let dropped = apply(&mut lanes, &[(a, Target::Dropped)]);
        assert_eq!(dropped, vec![a]);
        assert!(view(a).is_none() && !lanes.followed.contains_key(&a));
        assert!(view(b).is_some() && view(configured).is_some());

        // Re-added after the drop: a fresh view, caught up again from start_block.
        apply(&mut lanes, &[(a, active)]);
        assert_eq!(lanes.pending, set(&[a]));
        assert_eq!(view(a).expect("a").observed(), 0);
        // Out before it was caught up: simply removed.
        apply(&mut lanes, &[(a, Target::Dropped)]);
        assert!(view(a).is_none() && lanes.pending.is_empty());

        // Found leaving at start-up: followed, but nothing but the hand-over is signed.
        apply(&mut lanes, &[(a, Target::Leaving)]);
        assert_eq!(view(a).expect("a").leaving_since, Some(0));
        assert_eq!(lanes.pending, set(&[a]));
    }
}
