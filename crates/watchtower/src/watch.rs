//! The checks, one poll at a time, and what the watchtower does when one fails.
//!
//! Every read that decides an action goes through [`Follower`] (its quorum rule and finality),
//! so one lying endpoint cannot make the watchtower pause an honest lane. Transactions are sent
//! through the first endpoint: a lie there can only make an action fail (it is simulated first),
//! never make one happen.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Log, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use serde_json::json;
use zb_chain::{BlockRef, Follower};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_contracts::wrapped::WrappedToken;
use zb_protocol::{Accumulator, Checkpoint, Message, MessageKind, ValidatorSet};

use crate::alerts::{Alert, Alerts, Severity};
use crate::config::{AnomalyConfig, WatchtowerConfig};
use crate::store::Store;
use crate::{State, WatchtowerError, unix_now};

/// `ZeroBridge.ACCUMULATOR_RECORD_INTERVAL`.
const RECORD_INTERVAL: u64 = 16;
/// A source and destination set that differ for longer than this (an update not delivered) is
/// reported as set drift.
const SET_DRIFT_SECS: u64 = 600;
/// Upper bound for a guardian or slashing transaction to be mined.
const RECEIPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// One chain, as the watchtower reads it and as its guardian key writes to it.
pub(crate) struct Chain {
    pub name: String,
    pub follower: Follower,
    pub wallet: DynProvider,
    pub bridge: Address,
    pub stake_manager: Option<Address>,
}

/// One direction of a watched route.
#[derive(Debug, Clone)]
struct WatchedLane {
    lane: B256,
    route: B256,
    source: usize,
    destination: usize,
}

/// What the source emitted on a lane, recomputed here.
#[derive(Debug, Default)]
struct SourceLane {
    messages: Vec<Message>,
    blocks: Vec<u64>,
    accumulators: Vec<B256>,
    accumulator: Option<Accumulator>,
}

/// A fraud found: what to act on.
#[derive(Debug, Clone)]
struct Fraud {
    lane: B256,
    destination: usize,
    checkpoint: Checkpoint,
    tx: B256,
    block: u64,
    block_time: u64,
}

/// A report waiting for the source to accept it (retried every poll).
#[derive(Debug, Clone)]
struct PendingSlash {
    source: usize,
    checkpoint: Checkpoint,
    signer: Address,
    r: B256,
    vs: B256,
}

pub(crate) struct Watcher {
    chains: Vec<Chain>,
    lanes: Vec<WatchedLane>,
    routes: Vec<(B256, usize, usize)>,
    sources: HashMap<B256, SourceLane>,
    next_source_block: Vec<u64>,
    store: Store,
    alerts: Alerts,
    state: Arc<State>,
    anomalies: AnomalyConfig,
    min_spike: U256,
    enforcement_blocks: u64,
    pending_slashes: Vec<PendingSlash>,
    drift_since: HashMap<B256, u64>,
    warned: HashSet<String>,
}

impl Watcher {
    pub(crate) async fn new(
        config: &WatchtowerConfig,
        chains: Vec<Chain>,
        store: Store,
        alerts: Alerts,
        state: Arc<State>,
    ) -> Result<Watcher, WatchtowerError> {
        let index = |name: &str| chains.iter().position(|c| c.name == name);
        let mut lanes = Vec::new();
        let mut routes = Vec::new();
        for route in &config.routes {
            let (Some(home), Some(remote)) = (index(&route.home), index(&route.remote)) else {
                return Err(WatchtowerError::Config(format!("route {}: unknown chain", route.route_id)));
            };
            let at = chains[home].follower.finalized().await?;
            let view = chains[home]
                .follower
                .call_sol(chains[home].bridge, &ZeroBridge::getRouteCall { routeId: route.route_id }, at)
                .await?;
            if view.outboundLane.is_zero() {
                return Err(WatchtowerError::Config(format!(
                    "route {} is not open on {}'s bridge {}",
                    route.route_id, route.home, chains[home].bridge
                )));
            }
            lanes.push(WatchedLane {
                lane: view.outboundLane,
                route: route.route_id,
                source: home,
                destination: remote,
            });
            lanes.push(WatchedLane {
                lane: view.inboundLane,
                route: route.route_id,
                source: remote,
                destination: home,
            });
            routes.push((route.route_id, home, remote));
        }
        let next_source_block = chains.iter().map(|c| c.follower.config().start_block).collect();
        Ok(Watcher {
            chains,
            lanes,
            routes,
            sources: HashMap::new(),
            next_source_block,
            store,
            alerts,
            state,
            min_spike: config.anomalies.min_spike_volume.parse().unwrap_or(U256::ZERO),
            anomalies: config.anomalies.clone(),
            enforcement_blocks: config.enforcement_blocks,
            pending_slashes: Vec::new(),
            drift_since: HashMap::new(),
            warned: HashSet::new(),
        })
    }

    /// One round of every check. Returns whether every chain's deliveries are checked up to its
    /// final block (readiness).
    pub(crate) async fn poll(&mut self) -> Result<bool, WatchtowerError> {
        for source in 0..self.chains.len() {
            self.follow_source(source).await?;
        }
        let mut caught_up = true;
        for destination in 0..self.chains.len() {
            caught_up &= self.check_deliveries(destination).await?;
        }
        self.retry_slashes().await;
        for i in 0..self.routes.len() {
            self.check_conservation(i).await?;
        }
        for i in 0..self.lanes.len() {
            self.check_lane_health(i).await?;
        }
        Ok(caught_up)
    }

    fn alert(&self, kind: &'static str, severity: Severity, message: String, details: serde_json::Value) {
        self.alerts.raise(Alert { kind: kind.into(), severity, at: unix_now(), message, details });
    }

    // ----------------------------------------------------------------------------- source

    /// Reads the watched lanes' new final messages on `source` and recomputes their accumulators.
    async fn follow_source(&mut self, source: usize) -> Result<(), WatchtowerError> {
        let follower = &self.chains[source].follower;
        let finalized = follower.finalized().await?;
        let from = self.next_source_block[source];
        if finalized.number < from {
            return Ok(());
        }
        let sent = follower.sent_messages(from, finalized.number).await?;
        for event in sent {
            let Some(watched) = self.lanes.iter().find(|l| l.lane == event.lane && l.source == source) else {
                continue;
            };
            let lane = self.sources.entry(watched.lane).or_default();
            let accumulator = lane.accumulator.get_or_insert_with(|| Accumulator::new(event.lane));
            let value = accumulator
                .push(&event.message)
                .map_err(|e| WatchtowerError::Protocol(format!("source {}: {e}", self.chains[source].name)))?;
            lane.messages.push(event.message);
            lane.blocks.push(event.block_number);
            lane.accumulators.push(value);
        }
        self.next_source_block[source] = finalized.number + 1;
        Ok(())
    }

    // ----------------------------------------------------------------------------- deliveries

    /// Checks every checkpoint delivered on `destination` since the cursor against the source.
    async fn check_deliveries(&mut self, destination: usize) -> Result<bool, WatchtowerError> {
        let chain = &self.chains[destination];
        let finalized = chain.follower.finalized().await?;
        let from = match self.store.cursor(&chain.name)? {
            Some(block) => block + 1,
            None => chain.follower.config().start_block,
        };
        if finalized.number < from {
            return Ok(true);
        }
        let logs =
            chain.follower.bridge_logs(ZeroBridge::CheckpointDelivered::SIGNATURE_HASH, from, finalized.number).await?;
        let held = chain.follower.bridge_logs(ZeroBridge::TransferHeld::SIGNATURE_HASH, from, finalized.number).await?;
        let name = chain.name.clone();
        for log in held {
            let Ok(event) = ZeroBridge::TransferHeld::decode_log(&log.inner) else {
                continue;
            };
            if self.lanes.iter().any(|l| l.lane == event.lane && l.destination == destination)
                && self.warned.insert(format!("hold:{}:{}", event.lane, event.sequence))
            {
                self.alert(
                    "hold_opened",
                    Severity::Info,
                    format!("lane {} on {name}: transfer {} held until {}", event.lane, event.sequence, event.releaseAt),
                    json!({"chain": name, "lane": event.lane, "sequence": event.sequence, "releaseAt": event.releaseAt}),
                );
            }
        }
        let mut checked_up_to = finalized.number;
        for log in logs {
            let Ok(event) = ZeroBridge::CheckpointDelivered::decode_log(&log.inner) else {
                continue;
            };
            let Some(watched) =
                self.lanes.iter().find(|l| l.lane == event.lane && l.destination == destination).cloned()
            else {
                continue;
            };
            let block = log.block_number.unwrap_or(finalized.number);
            let checkpoint = Checkpoint { lane: event.lane, sequence: event.sequence, accumulator: event.accumulator };
            match self.verdict(&watched, &checkpoint).await? {
                Verdict::NotYetObserved => {
                    // The source's final head has not reached it yet: look again next poll.
                    checked_up_to = block.saturating_sub(1);
                    break;
                }
                Verdict::Honest => {
                    self.state.record_check(finalized.number.saturating_sub(block) <= self.enforcement_blocks);
                    self.count_signers(destination, event.lane, &log).await;
                }
                Verdict::Fraud { truth } => {
                    let enforced = finalized.number.saturating_sub(block) <= self.enforcement_blocks;
                    let tx = log.transaction_hash.unwrap_or_default();
                    let block_time = self.chains[destination].follower.block_timestamp(finalized).await.ok();
                    let fraud_time = log.block_timestamp.or(block_time).unwrap_or_default();
                    let fraud = Fraud { lane: event.lane, destination, checkpoint, tx, block, block_time: fraud_time };
                    if !self.on_fraud(&watched, fraud, truth, finalized, enforced).await? {
                        // Reports still waiting for the source: the cursor stays before this
                        // delivery, so that a restart finds the fraud again and retries them.
                        checked_up_to = block.saturating_sub(1);
                        break;
                    }
                }
            }
        }
        self.store.set_cursor(&name, checked_up_to)?;
        metrics::gauge!("zb_watchtower_checked_block", "chain" => name).set(checked_up_to as f64);
        Ok(checked_up_to == finalized.number)
    }

    /// Whether a delivered checkpoint is what the source emitted.
    async fn verdict(&self, watched: &WatchedLane, checkpoint: &Checkpoint) -> Result<Verdict, WatchtowerError> {
        let observed = self.sources.get(&watched.lane).map_or(&[][..], |s| &s.accumulators[..]);
        if let Some(truth) = checkpoint.sequence.checked_sub(1).and_then(|i| observed.get(i as usize)) {
            return Ok(if *truth == checkpoint.accumulator {
                Verdict::Honest
            } else {
                Verdict::Fraud { truth: Some(*truth) }
            });
        }
        // Beyond what we observed: fraud only if the source's lane has not got that far at all.
        let source = &self.chains[watched.source];
        let at = source.follower.finalized().await?;
        let (_, _, sent, _, _) = lane_summary(source, watched.lane, at).await?;
        Ok(if checkpoint.sequence > sent { Verdict::Fraud { truth: None } } else { Verdict::NotYetObserved })
    }

    /// Validator liveness: who signed each delivery, from its calldata.
    async fn count_signers(&self, destination: usize, lane: B256, log: &Log) {
        let Some(hash) = log.transaction_hash else {
            return;
        };
        let Some(delivery) = delivery_of(&self.chains[destination], hash).await else {
            return;
        };
        for (signer, _, _) in delivery.signers {
            metrics::counter!("zb_watchtower_signatures_total", "lane" => lane.to_string(), "signer" => signer.to_string())
                .increment(1);
        }
    }

    // ----------------------------------------------------------------------------- fraud

    /// Alerts, pauses, freezes and reports; each at most once (the store remembers across
    /// restarts). Returns whether every report of this fraud is settled.
    async fn on_fraud(
        &mut self,
        watched: &WatchedLane,
        fraud: Fraud,
        truth: Option<B256>,
        finalized: BlockRef,
        enforced: bool,
    ) -> Result<bool, WatchtowerError> {
        let destination = &self.chains[fraud.destination];
        let detected_at = destination.follower.block_timestamp(finalized).await.unwrap_or(fraud.block_time);
        let delivery = delivery_of(destination, fraud.tx).await;
        let signers: Vec<Address> =
            delivery.as_ref().map(|d| d.signers.iter().map(|s| s.0).collect()).unwrap_or_default();
        let key = format!("fraud:{}:{}:{}", destination.name, fraud.lane, fraud.checkpoint.sequence);
        // Alert first: a crash in between repeats the alert rather than losing it.
        if !self.store.done(&key)? {
            self.report_fraud(&fraud, truth, &signers, detected_at, enforced);
            self.store.record(&key, fraud.tx, unix_now())?;
        }
        self.pause(fraud.destination, fraud.lane, "fraud", detected_at).await;
        self.freeze_holds(fraud.destination, fraud.lane, fraud.tx).await;
        for (signer, r, vs) in delivery.map(|d| d.signers).unwrap_or_default() {
            let queued = self.pending_slashes.iter().any(|p| p.checkpoint == fraud.checkpoint && p.signer == signer);
            if !queued {
                let checkpoint = fraud.checkpoint.clone();
                self.pending_slashes.push(PendingSlash { source: watched.source, checkpoint, signer, r, vs });
            }
        }
        self.retry_slashes().await;
        Ok(!self.pending_slashes.iter().any(|p| p.checkpoint == fraud.checkpoint))
    }

    /// The fraud alert and its KPIs.
    fn report_fraud(&self, fraud: &Fraud, truth: Option<B256>, signers: &[Address], detected_at: u64, enforced: bool) {
        let destination = &self.chains[fraud.destination];
        let mttd = detected_at.saturating_sub(fraud.block_time);
        self.state.record_check(enforced);
        self.state.kpis_mut(|k| {
            k.frauds += 1;
            k.last_mttd_secs = Some(mttd);
        });
        metrics::gauge!("zb_watchtower_mttd_seconds").set(mttd as f64);
        self.alert(
            "fraud",
            Severity::Critical,
            format!(
                "lane {} on {}: checkpoint {} delivered with an accumulator its source never had",
                fraud.lane, destination.name, fraud.checkpoint.sequence
            ),
            json!({
                "chain": destination.name,
                "lane": fraud.lane,
                "sequence": fraud.checkpoint.sequence,
                "deliveredAccumulator": fraud.checkpoint.accumulator,
                "sourceAccumulator": truth,
                "tx": fraud.tx,
                "block": fraud.block,
                "signers": signers,
                "mttdSecs": mttd,
            }),
        );
    }

    /// Pauses `lane` on `chain` with the guardian key, once (remembered across restarts).
    async fn pause(&self, chain: usize, lane: B256, why: &str, detected_at: u64) {
        let target = &self.chains[chain];
        let key = format!("pause:{}:{lane}", target.name);
        if self.store.done(&key).unwrap_or(false) {
            return;
        }
        let call = ZeroBridge::pauseLaneCall { laneId: lane }.abi_encode();
        match send(target, call.into()).await {
            Ok((tx, block_time)) => {
                let _ = self.store.record(&key, tx, unix_now());
                let mttr = block_time.saturating_sub(detected_at);
                self.state.kpis_mut(|k| {
                    k.paused_lanes += 1;
                    k.last_mttr_secs = Some(mttr);
                });
                metrics::gauge!("zb_watchtower_mttr_seconds").set(mttr as f64);
                self.alert(
                    "paused",
                    Severity::Critical,
                    format!("paused lane {lane} on {} ({why})", target.name),
                    json!({"chain": target.name, "lane": lane, "reason": why, "tx": tx, "mttrSecs": mttr}),
                );
            }
            Err(e) => self.alert(
                "action_failed",
                Severity::Critical,
                format!("could not pause lane {lane} on {}: {e}", target.name),
                json!({"chain": target.name, "lane": lane, "action": "pauseLane", "error": e.to_string()}),
            ),
        }
    }

    /// Freezes every hold the fraudulent delivery opened.
    async fn freeze_holds(&self, chain: usize, lane: B256, tx: B256) {
        let target = &self.chains[chain];
        let Ok(Some(receipt)) = target.wallet.get_transaction_receipt(tx).await else {
            return;
        };
        for log in receipt.logs() {
            let Ok(held) = ZeroBridge::TransferHeld::decode_log(&log.inner) else {
                continue;
            };
            if log.inner.address != target.bridge || held.lane != lane {
                continue;
            }
            let key = format!("freeze:{}:{lane}:{}", target.name, held.sequence);
            if self.store.done(&key).unwrap_or(false) {
                continue;
            }
            let call = ZeroBridge::freezeHoldCall { laneId: lane, sequence: held.sequence }.abi_encode();
            match send(target, call.into()).await {
                Ok((freeze_tx, _)) => {
                    let _ = self.store.record(&key, freeze_tx, unix_now());
                    self.alert(
                        "hold_frozen",
                        Severity::Critical,
                        format!("froze hold {} of lane {lane} on {}", held.sequence, target.name),
                        json!({"chain": target.name, "lane": lane, "sequence": held.sequence, "tx": freeze_tx}),
                    );
                }
                Err(e) => self.alert(
                    "action_failed",
                    Severity::Critical,
                    format!("could not freeze hold {} of lane {lane} on {}: {e}", held.sequence, target.name),
                    json!({"chain": target.name, "lane": lane, "action": "freezeHold", "error": e.to_string()}),
                ),
            }
        }
    }

    /// Submits the pending slashing evidence on each lane's source stake manager; keeps what the
    /// source cannot prove yet (a proof segment that needs a later record).
    async fn retry_slashes(&mut self) {
        let pending = std::mem::take(&mut self.pending_slashes);
        for item in pending {
            match self.slash(&item).await {
                Ok(SlashOutcome::Done) => {}
                Ok(SlashOutcome::Later) => self.pending_slashes.push(item),
                Err(e) => self.alert(
                    "action_failed",
                    Severity::Critical,
                    format!("could not report signer {} of lane {}: {e}", item.signer, item.checkpoint.lane),
                    json!({"lane": item.checkpoint.lane, "signer": item.signer, "action": "slash", "error": e}),
                ),
            }
        }
    }

    async fn slash(&self, item: &PendingSlash) -> Result<SlashOutcome, String> {
        let source = &self.chains[item.source];
        let Some(stake_manager) = source.stake_manager else {
            return Err(format!("no stake_manager configured for {}", source.name));
        };
        let key = format!("slash:{}:{}:{}", item.checkpoint.lane, item.checkpoint.sequence, item.signer);
        if self.store.done(&key).unwrap_or(false) {
            return Ok(SlashOutcome::Done);
        }
        let Some(proof) = self.proof(item).await? else {
            return Ok(SlashOutcome::Later);
        };
        let cp = &item.checkpoint;
        let call = StakeManager::slashCall {
            checkpoint: StakeManager::Checkpoint { lane: cp.lane, sequence: cp.sequence, accumulator: cp.accumulator },
            r: item.r,
            vs: item.vs,
            proof,
        };
        let request = TransactionRequest::default().with_to(stake_manager).with_input(Bytes::from(call.abi_encode()));
        let (tx, _) = send_request(source, request).await.map_err(|e| e.to_string())?;
        let _ = self.store.record(&key, tx, unix_now());
        self.state.kpis_mut(|k| k.slashes += 1);
        self.alert(
            "slashed",
            Severity::Critical,
            format!(
                "reported signer {} of lane {} on {}: its operator is slashed and jailed",
                item.signer, cp.lane, source.name
            ),
            json!({"chain": source.name, "lane": cp.lane, "sequence": cp.sequence, "signer": item.signer, "tx": tx}),
        );
        Ok(SlashOutcome::Done)
    }

    /// The proof `StakeManager.slash` needs for the checkpoint: none when the source has the
    /// accumulator at that sequence recorded (or never got that far), else the messages between
    /// the records around it. None while the segment cannot be closed yet.
    async fn proof(&self, item: &PendingSlash) -> Result<Option<Vec<StakeManager::Message>>, String> {
        let source = &self.chains[item.source];
        let at = source.follower.finalized().await.map_err(|e| e.to_string())?;
        let cp = &item.checkpoint;
        let (_, _, sent, _, _) = lane_summary(source, cp.lane, at).await.map_err(|e| e.to_string())?;
        if cp.sequence > sent || cp.sequence.is_multiple_of(RECORD_INTERVAL) || cp.sequence == sent {
            return Ok(Some(Vec::new()));
        }
        let start = cp.sequence - cp.sequence % RECORD_INTERVAL;
        let end = (start + RECORD_INTERVAL).min(sent);
        let Some(lane) = self.sources.get(&cp.lane) else {
            return Ok(None);
        };
        if (lane.messages.len() as u64) < end {
            return Ok(None);
        }
        Ok(Some(lane.messages[start as usize..end as usize].iter().map(StakeManager::Message::from).collect()))
    }

    // ----------------------------------------------------------------------------- conservation

    /// Home vault `locked` >= wrapped supply on the remote + what is in flight back home.
    async fn check_conservation(&mut self, index: usize) -> Result<(), WatchtowerError> {
        let (route, home, remote) = self.routes[index];
        let to_remote = self.lane_of(route, home);
        let to_home = self.lane_of(route, remote);
        let (home_chain, remote_chain) = (&self.chains[home], &self.chains[remote]);
        // The remote first, then messages up to the block read there, then home in one block.
        let remote_at = remote_chain.follower.finalized().await?;
        let (_, _, _, wrapped, _) = lane_summary(remote_chain, to_home, remote_at).await?;
        let supply = remote_chain.follower.call_sol(wrapped, &WrappedToken::totalSupplyCall {}, remote_at).await?;
        let home_at = home_chain.follower.finalized().await?;
        let (_, _, delivered_back, _, _) = lane_summary(home_chain, to_home, home_at).await?;
        let locked = home_chain
            .follower
            .call_sol(home_chain.bridge, &ZeroBridge::getLaneCall { laneId: to_remote }, home_at)
            .await?
            .locked;
        let in_flight_back: U256 = self.sources.get(&to_home).map_or(U256::ZERO, |lane| {
            lane.messages
                .iter()
                .zip(&lane.blocks)
                .filter(|(m, block)| {
                    m.sequence > delivered_back
                        && **block <= remote_at.number
                        && MessageKind::from_u8(m.kind) == Some(MessageKind::Transfer)
                })
                .map(|(m, _)| m.amount)
                .sum()
        });
        let needed = supply.saturating_add(in_flight_back);
        metrics::gauge!("zb_watchtower_vault_surplus", "route" => route.to_string())
            .set(f64::from(locked.saturating_sub(needed)) / 1e18);
        if locked >= needed {
            return Ok(());
        }
        let key = format!("conservation:{route}");
        if self.warned.insert(key) {
            self.state.kpis_mut(|k| k.conservation_breaks += 1);
            self.alert(
                "conservation",
                Severity::Critical,
                format!(
                    "route {route}: the home vault holds {locked}, less than the wrapped supply {supply} plus {in_flight_back} in flight back"
                ),
                json!({
                    "route": route, "locked": locked.to_string(), "wrappedSupply": supply.to_string(),
                    "inFlightBack": in_flight_back.to_string(), "homeBlock": home_at.number, "remoteBlock": remote_at.number,
                }),
            );
            let detected_at = home_chain.follower.block_timestamp(home_at).await.unwrap_or_default();
            // Stop value leaving on both sides: minting on the remote, releasing on home.
            self.pause(remote, to_remote, "conservation", detected_at).await;
            self.pause(home, to_home, "conservation", detected_at).await;
        }
        Ok(())
    }

    fn lane_of(&self, route: B256, source: usize) -> B256 {
        self.lanes.iter().find(|l| l.route == route && l.source == source).map_or(B256::ZERO, |l| l.lane)
    }

    // ----------------------------------------------------------------------------- health

    /// Set drift, holds opened, bucket near exhaustion, volume spikes and bursts (warnings).
    async fn check_lane_health(&mut self, index: usize) -> Result<(), WatchtowerError> {
        let watched = self.lanes[index].clone();
        let (source, destination) = (&self.chains[watched.source], &self.chains[watched.destination]);
        let source_at = source.follower.finalized().await?;
        let destination_at = destination.follower.finalized().await?;
        let (_, _, _, _, source_set) = lane_summary(source, watched.lane, source_at).await?;
        let (_, _, _, _, destination_set) = lane_summary(destination, watched.lane, destination_at).await?;
        let now = destination.follower.block_timestamp(destination_at).await?;
        if source_set == destination_set {
            self.drift_since.remove(&watched.lane);
        } else {
            let since = *self.drift_since.entry(watched.lane).or_insert(now);
            if now.saturating_sub(since) > SET_DRIFT_SECS && self.warned.insert(format!("drift:{}", watched.lane)) {
                self.alert(
                    "set_drift",
                    Severity::Warning,
                    format!("lane {}: the destination still checks another set than the source attests", watched.lane),
                    json!({"lane": watched.lane, "sourceSet": source_set, "destinationSet": destination_set, "sinceSecs": now - since}),
                );
            }
        }

        let lane = source
            .follower
            .call_sol(source.bridge, &ZeroBridge::getLaneCall { laneId: watched.lane }, source_at)
            .await?;
        let available = source
            .follower
            .call_sol(source.bridge, &ZeroBridge::availableCapacityCall { laneId: watched.lane }, source_at)
            .await?;
        let capacity = U256::from(lane.capacity);
        let low = capacity > U256::ZERO
            && available.saturating_mul(U256::from(100u64))
                < capacity.saturating_mul(U256::from(self.anomalies.bucket_warning_percent));
        let key = format!("bucket:{}", watched.lane);
        if low && self.warned.insert(key.clone()) {
            self.alert(
                "bucket_low",
                Severity::Warning,
                format!("lane {}: {available} of {capacity} left in the outbound bucket on {}", watched.lane, source.name),
                json!({"lane": watched.lane, "chain": source.name, "available": available.to_string(), "capacity": capacity.to_string()}),
            );
        } else if !low {
            self.warned.remove(&key);
        }
        self.check_volume(&watched, now);
        Ok(())
    }

    /// Volume in the last window against the window before, and transfers per sender.
    fn check_volume(&mut self, watched: &WatchedLane, now: u64) {
        let Some(lane) = self.sources.get(&watched.lane) else {
            return;
        };
        let window = self.anomalies.window_secs;
        let (mut current, mut previous) = (U256::ZERO, U256::ZERO);
        let mut per_sender: BTreeMap<Address, u64> = BTreeMap::new();
        for m in lane.messages.iter().rev() {
            if MessageKind::from_u8(m.kind) != Some(MessageKind::Transfer) {
                continue;
            }
            let age = now.saturating_sub(m.sentAt);
            if age >= 2 * window {
                break;
            }
            if age < window {
                current += m.amount;
                *per_sender.entry(m.sender).or_default() += 1;
            } else {
                previous += m.amount;
            }
        }
        let spike = current > self.min_spike
            && previous > U256::ZERO
            && current > previous.saturating_mul(U256::from(self.anomalies.spike_factor));
        let window_key = now / window;
        if spike && self.warned.insert(format!("spike:{}:{window_key}", watched.lane)) {
            self.alert(
                "volume_spike",
                Severity::Warning,
                format!("lane {}: {current} sent in the last window, {previous} in the one before", watched.lane),
                json!({"lane": watched.lane, "current": current.to_string(), "previous": previous.to_string(), "windowSecs": window}),
            );
        }
        for (sender, count) in per_sender {
            if count > self.anomalies.burst_count
                && self.warned.insert(format!("burst:{}:{sender}:{window_key}", watched.lane))
            {
                self.alert(
                    "burst",
                    Severity::Warning,
                    format!("lane {}: {sender} sent {count} transfers within {window} s", watched.lane),
                    json!({"lane": watched.lane, "sender": sender, "count": count, "windowSecs": window}),
                );
            }
        }
    }
}

enum Verdict {
    Honest,
    Fraud { truth: Option<B256> },
    NotYetObserved,
}

enum SlashOutcome {
    Done,
    Later,
}

/// A delivery's signers, from its calldata: (signer, r, vs) per signature.
struct Delivery {
    signers: Vec<(Address, B256, B256)>,
}

async fn delivery_of(chain: &Chain, tx: B256) -> Option<Delivery> {
    let found = chain.wallet.get_transaction_by_hash(tx).await.ok()??;
    let input = alloy::consensus::Transaction::input(&found).clone();
    let (set, signatures) = match ZeroBridge::deliverCall::abi_decode(&input) {
        Ok(call) => (call.validatorSet, call.signatures),
        Err(_) => {
            let call = ZeroBridge::deliverByFallbackCall::abi_decode(&input).ok()?;
            (call.fallbackSet, call.signatures)
        }
    };
    let set = ValidatorSet::decode(&set).ok()?;
    let signers = signatures
        .chunks_exact(65)
        .filter_map(|s| {
            let member = set.members.get(usize::from(s[0]))?;
            Some((member.signer, B256::from_slice(&s[1..33]), B256::from_slice(&s[33..65])))
        })
        .collect();
    Some(Delivery { signers })
}

/// (direction, status, sequence, token, validatorSetHash) of a lane, read with the quorum rule.
async fn lane_summary(
    chain: &Chain,
    lane: B256,
    at: BlockRef,
) -> Result<(u8, u8, u64, Address, B256), WatchtowerError> {
    let s = chain.follower.call_sol(chain.bridge, &ZeroBridge::laneSummaryCall { laneId: lane }, at).await?;
    Ok((s.direction, s.status, s.sequence, s.token, s.validatorSetHash))
}

/// Sends a call to the chain's bridge from the guardian key; returns the tx and its block time.
async fn send(chain: &Chain, input: Bytes) -> Result<(B256, u64), WatchtowerError> {
    let request = TransactionRequest::default().with_to(chain.bridge).with_input(input);
    send_request(chain, request).await
}

/// Simulates, sends with 30% gas headroom (the estimate runs against the pending block, and the
/// bridge's timestamp-dependent writes can cost more in the block that includes the transaction)
/// and waits for the receipt, for at most [`RECEIPT_TIMEOUT`]: a stuck pause is an error the
/// next check retries, not a watchtower that hangs.
async fn send_request(chain: &Chain, request: TransactionRequest) -> Result<(B256, u64), WatchtowerError> {
    let receipt = zb_tx::send_and_confirm(&chain.wallet, request, 30, RECEIPT_TIMEOUT)
        .await
        .map_err(|e| WatchtowerError::Rpc(format!("{}: {e}", chain.name)))?;
    let block_time = match receipt.block_number {
        Some(number) => chain
            .wallet
            .get_block_by_number(number.into())
            .await
            .ok()
            .flatten()
            .map_or_else(unix_now, |b| b.header.timestamp),
        None => unix_now(),
    };
    Ok((receipt.transaction_hash, block_time))
}

impl State {
    fn record_check(&self, enforced: bool) {
        self.kpis_mut(|k| {
            k.deliveries_checked += 1;
            if enforced {
                k.deliveries_enforced += 1;
            }
        });
        metrics::counter!("zb_watchtower_deliveries_checked_total").increment(1);
    }
}
