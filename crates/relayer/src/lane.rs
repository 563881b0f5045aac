//! Relays one lane: follows the source, gathers validator signatures, and delivers batches to
//! the destination, one submission in flight at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::eips::BlockNumberOrTag;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, Signature, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolEvent;
use zb_api_types::validator::CheckpointResponse;
use zb_chain::{BlockRef, ChainError, Follower, ReorgGuard, decode_sent_message};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::{Checkpoint, Message, MessageKind, PackedSignature, ValidatorSet, checkpoint_digest};
use zb_store::{RelayerStore, SetEvent, Submission, SubmissionStatus};
use zb_tx::{Fees, NonceManager};

use crate::window::Window;
use crate::{RelayerError, Status, cursor};

pub(crate) struct LaneRelayer {
    pub lane: B256,
    pub source: Follower,
    pub destination: Follower,
    pub provider: DynProvider,
    pub wallet: EthereumWallet,
    pub relayer: Address,
    /// Shared with every lane delivering to the same chain.
    pub nonces: Arc<NonceManager>,
    pub http: reqwest::Client,
    pub validators: Vec<String>,
    pub fallback_validators: Vec<String>,
    pub store: Arc<RelayerStore>,
    pub status: Arc<Status>,
    pub max_batch_gas: u64,
    pub max_batch_messages: u64,
    pub confirmation_timeout: Duration,
    /// The most this lane pays per gas on its destination.
    pub fee_ceiling: Fees,
    /// The undelivered messages; None until the first tick reads the destination, and again
    /// after a resync.
    window: Option<Window>,
    next_source_block: u64,
    /// The final source blocks consumed: a deeper reorg than the finality rule is noticed.
    guard: ReorgGuard,
    /// The source's final block at the last `follow_source`.
    source_final: Option<BlockRef>,
    /// Validator-set bytes (primary and fallback) by hash, as stored and as read since.
    sets: HashMap<B256, Bytes>,
    /// What the stored cursor says (next block, resume sequence, resume block): written again
    /// only when it changes.
    stored_cursor: Option<(u64, u64, u64)>,
}

/// A route's fallback configuration on the destination, with both chains' clocks, read at most
/// once per tick and only when the primary set has no quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Liveness {
    pub set_hash: B256,
    pub delay: u64,
    pub grace_until: u64,
    /// The destination's latest block timestamp.
    pub destination_time: u64,
    /// The source's final block timestamp: fallback validators sign only what has waited out
    /// the delay by this clock.
    pub source_time: u64,
}

/// The highest sequence in (delivered, target] the fallback set can deliver now: due on the
/// destination (`sentAt + delay <= destination time`) and for the fallback validators, which wait
/// the delay in source chain time. While the destination's Emergency grace runs neither waits
/// (the fallback validators read the grace too): everything undelivered can go. `undelivered`
/// holds the messages from `delivered + 1` on.
pub(crate) fn fallback_target(
    undelivered: &[Message],
    delivered: u64,
    target: u64,
    liveness: &Liveness,
) -> Option<u64> {
    if liveness.destination_time < liveness.grace_until {
        return (target > delivered).then_some(target);
    }
    let now = liveness.destination_time.min(liveness.source_time);
    (delivered + 1..=target).rev().find(|k| {
        usize::try_from(k - delivered - 1)
            .ok()
            .and_then(|i| undelivered.get(i))
            .is_some_and(|m| m.sentAt.saturating_add(liveness.delay) <= now)
    })
}

/// Which set signed a batch.
enum Via {
    Primary,
    Fallback(ValidatorSet),
}

/// What one tick did, for the caller's pacing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    Idle,
    Waiting,
    Submitted,
}

impl LaneRelayer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        lane: B256,
        source: Follower,
        destination: Follower,
        wallet: EthereumWallet,
        relayer: Address,
        nonces: Arc<NonceManager>,
        validators: Vec<String>,
        fallback_validators: Vec<String>,
        http: reqwest::Client,
        store: Arc<RelayerStore>,
        status: Arc<Status>,
        max_batch_gas: u64,
        max_batch_messages: u64,
        confirmation_timeout: Duration,
        fee_ceiling: Fees,
    ) -> Result<Self, RelayerError> {
        let url = destination
            .config()
            .rpc
            .first()
            .ok_or_else(|| RelayerError::Config(format!("chain {} has no rpc", destination.config().name)))?
            .to_string();
        let url = url.parse().map_err(|e| RelayerError::Config(format!("rpc url {url}: {e}")))?;
        let provider = ProviderBuilder::new().wallet(wallet.clone()).connect_http(url).erased();
        let next_source_block = source.config().start_block;
        // Sets are named by the hash of their bytes: what an earlier run read stays valid.
        let sets = store.validator_sets()?.into_iter().collect();
        Ok(Self {
            lane,
            source,
            destination,
            provider,
            wallet,
            relayer,
            nonces,
            http,
            validators,
            fallback_validators,
            store,
            status,
            max_batch_gas,
            max_batch_messages,
            confirmation_timeout,
            fee_ceiling,
            window: None,
            next_source_block,
            guard: ReorgGuard::new(),
            source_final: None,
            sets,
            stored_cursor: None,
        })
    }

    fn bridge(&self) -> ZeroBridge::ZeroBridgeInstance<DynProvider> {
        ZeroBridge::new(self.destination.config().bridge, self.provider.clone())
    }

    /// Reads the source again from `start_block` (this lane's logs only) for a window that
    /// starts at the destination's delivered sequence.
    fn restart_source(&mut self, delivered: u64, why: &str) {
        tracing::info!(lane = %self.lane, delivered, from_block = self.source.config().start_block,
            "{why}: following the lane from the destination's delivered sequence");
        self.next_source_block = self.source.config().start_block;
        self.guard = ReorgGuard::new();
        self.stored_cursor = None;
    }

    /// At start: reads the source from the stored cursor's block of the lowest undelivered
    /// message when the cursor applies (its blocks seed the reorg guard, re-checked through the
    /// RPC quorum before anything is read), else from `start_block`.
    fn resume_source(&mut self, delivered: u64) -> Result<(), RelayerError> {
        let Some(stored) = self.store.relay_cursor(self.lane)? else {
            self.restart_source(delivered, "starting without a stored cursor");
            return Ok(());
        };
        let Some(from_block) = cursor::resume_block(&stored, self.source.config(), delivered) else {
            tracing::warn!(lane = %self.lane, delivered, resume_sequence = stored.resume_sequence,
                chain_id = stored.chain_id, bridge = %stored.bridge,
                "the stored cursor does not apply (another bridge, or the destination went back)");
            self.restart_source(delivered, "starting");
            return Ok(());
        };
        tracing::info!(lane = %self.lane, delivered, from_block, cursor = stored.next_block,
            resume_sequence = stored.resume_sequence,
            "resuming from the stored cursor (its blocks are re-checked through the RPC quorum first)");
        self.next_source_block = from_block;
        self.guard = cursor::seeded_guard(&stored);
        self.stored_cursor = Some((stored.next_block, stored.resume_sequence, stored.resume_block));
        Ok(())
    }

    /// Stores where a restart resumes, when it moved (one transaction).
    fn store_cursor(&mut self, window: &Window) -> Result<(), RelayerError> {
        let Some(now) = cursor::current(self.lane, self.source.config(), &self.guard, self.next_source_block, window)
        else {
            return Ok(());
        };
        let key = (now.next_block, now.resume_sequence, now.resume_block);
        if self.stored_cursor != Some(key) {
            self.store.record_relay_cursor(&now)?;
            self.stored_cursor = Some(key);
            metrics::gauge!("zb_relayer_resume_block", "lane" => self.lane.to_string()).set(now.resume_block as f64);
        }
        Ok(())
    }

    /// Reads newly final messages of the lane from the source bridge into `window`.
    async fn follow_source(&mut self, window: &mut Window) -> Result<(), RelayerError> {
        self.guard.check(&self.source).await?;
        let finalized = self.source.finalized().await?;
        self.source_final = Some(finalized);
        if finalized.number < self.next_source_block {
            return Ok(());
        }
        let (bridge, event) = (self.source.config().bridge, ZeroBridge::MessageSent::SIGNATURE_HASH);
        let logs =
            self.source.contract_logs(bridge, event, Some(self.lane), self.next_source_block, finalized.number).await?;
        let mut sent = Vec::with_capacity(logs.len());
        for log in &logs {
            let decoded = decode_sent_message(log, bridge)?;
            sent.push((decoded.message, decoded.block_number));
        }
        window.extend(sent).map_err(|e| RelayerError::Protocol(e.to_string()))?;
        self.guard.record(finalized);
        self.next_source_block = finalized.number + 1;
        metrics::gauge!("zb_relayer_source_sequence", "lane" => self.lane.to_string()).set(window.head() as f64);
        Ok(())
    }

    pub async fn tick(&mut self) -> Result<Tick, RelayerError> {
        let on_chain = self.bridge().getLane(self.lane).call().await.map_err(rpc)?;
        let delivered = on_chain.sequence;
        let mut window = match self.window.take() {
            Some(window) if window.base() <= delivered => window,
            Some(_) => {
                self.restart_source(delivered, "the destination's delivered sequence went back");
                Window::after(self.lane, delivered, on_chain.accumulator)
            }
            None => {
                self.resume_source(delivered)?;
                Window::after(self.lane, delivered, on_chain.accumulator)
            }
        };
        match self.follow_source(&mut window).await {
            Ok(()) => {}
            Err(RelayerError::Chain(ChainError::DeepReorg { number, expected, found })) => {
                // The source undid a block this lane consumed as final: nothing read from it is
                // trusted any more. What is delivered stands (a quorum signed it); the rest is
                // read again, and the window is rebuilt at the next tick.
                tracing::error!(lane = %self.lane, number, %expected, %found,
                    "the source reorganised deeper than the finality rule; resyncing the lane");
                metrics::counter!("zb_relayer_deep_reorgs_total", "lane" => self.lane.to_string()).increment(1);
                // The stored cursor names undone blocks too: the resync reads from start_block,
                // and so does a restart before the next cursor is stored.
                self.store.forget_relay_cursor(self.lane)?;
                self.stored_cursor = None;
                return Ok(Tick::Waiting);
            }
            Err(e) => {
                self.window = Some(window);
                return Err(e);
            }
        }
        window.prune(delivered);
        if let Err(e) = self.store_cursor(&window) {
            self.window = Some(window);
            return Err(e);
        }
        let result = self.deliver_from(&window, delivered, &on_chain).await;
        self.window = Some(window);
        result
    }

    /// The part of a tick after the source is read: resolve the pending submission, then gather a
    /// quorum for the next batch and submit it.
    async fn deliver_from(
        &mut self,
        window: &Window,
        delivered: u64,
        on_chain: &ZeroBridge::Lane,
    ) -> Result<Tick, RelayerError> {
        let head = window.head();
        self.status.update(self.lane, head, delivered);
        metrics::gauge!("zb_relayer_delivered_height", "lane" => self.lane.to_string()).set(delivered as f64);
        metrics::gauge!("zb_relayer_lane_lag", "lane" => self.lane.to_string())
            .set(head.saturating_sub(delivered) as f64);

        // One submission in flight per lane: resolve it first (this is what survives a restart).
        let replacing = match self.resolve_pending(delivered).await? {
            Pending::InFlight => return Ok(Tick::Waiting),
            Pending::Replace(old, fees) => Some((*old, fees)),
            Pending::None => None,
        };
        if delivered >= head {
            return Ok(Tick::Idle);
        }

        let mut target = head.min(delivered + self.max_batch_messages);
        // The old set's authority ends at a set update: deliver exactly up to it.
        if let Some(update) = window
            .between(delivered, target)
            .iter()
            .find(|m| MessageKind::from_u8(m.kind) == Some(MessageKind::SetUpdate))
        {
            target = update.sequence;
        }
        let set = self.validator_set(on_chain.validatorSetHash).await?;
        let mut liveness = None;
        loop {
            let (via, signatures) = match self.gather_signatures(window, &self.validators, &set, target).await? {
                Some(signatures) => (Via::Primary, signatures),
                None => {
                    let Some((due, fallback, signatures)) =
                        self.fallback_quorum(window, on_chain.routeId, delivered, target, &mut liveness).await?
                    else {
                        return Ok(Tick::Waiting);
                    };
                    target = due;
                    (Via::Fallback(fallback), signatures)
                }
            };
            let accumulator = window.accumulator_at(target).ok_or_else(|| not_held(self.lane, target))?;
            let checkpoint = Checkpoint { lane: self.lane, sequence: target, accumulator };
            let batch = window.between(delivered, target).to_vec();
            let signatures = Bytes::from(PackedSignature::pack(&signatures));
            let bridge = self.bridge();
            // Simulate first: a delivery that would revert is never sent.
            let (request, gas) = match &via {
                Via::Primary => {
                    let call = bridge.deliver(checkpoint, Bytes::from(set.encode()), signatures, batch);
                    let gas = self.simulated(call.estimate_gas().await)?;
                    (call.into_transaction_request(), gas)
                }
                Via::Fallback(fallback) => {
                    let call = bridge.deliverByFallback(checkpoint, Bytes::from(fallback.encode()), signatures, batch);
                    let gas = self.simulated(call.estimate_gas().await)?;
                    (call.into_transaction_request(), gas)
                }
            };
            if gas > self.max_batch_gas && target > delivered + 1 {
                target = delivered + (target - delivered) / 2;
                continue;
            }
            if matches!(via, Via::Fallback(_)) {
                tracing::warn!(lane = %self.lane, from = delivered + 1, to = target,
                    "primary set has no quorum; delivering through the fallback set");
                metrics::counter!("zb_relayer_fallback_deliveries_total", "lane" => self.lane.to_string()).increment(1);
            }
            self.submit(request, gas, delivered, target, replacing).await?;
            return Ok(Tick::Submitted);
        }
    }

    fn simulated(&self, estimate: Result<u64, alloy::contract::Error>) -> Result<u64, RelayerError> {
        estimate.map_err(|e| {
            let reason = e
                .as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>()
                .map_or_else(|| e.to_string(), |d| format!("{d:?}"));
            metrics::counter!("zb_relayer_simulation_failures_total", "lane" => self.lane.to_string()).increment(1);
            RelayerError::Simulation { lane: self.lane, reason }
        })
    }

    /// With fallback validators configured and the route's fallback set in place: the highest
    /// due sequence up to `target`, the fallback set, and a quorum of its signatures there. The
    /// route is read once per tick (`cache`), and only from here: the happy path never pays for it.
    async fn fallback_quorum(
        &mut self,
        window: &Window,
        route: B256,
        delivered: u64,
        target: u64,
        cache: &mut Option<Option<Liveness>>,
    ) -> Result<Option<(u64, ValidatorSet, Vec<PackedSignature>)>, RelayerError> {
        if self.fallback_validators.is_empty() {
            return Ok(None);
        }
        let liveness = match *cache {
            Some(liveness) => liveness,
            None => *cache.insert(self.liveness(route).await?),
        };
        let Some(liveness) = liveness else {
            return Ok(None);
        };
        let Some(due) = fallback_target(window.between(delivered, target), delivered, target, &liveness) else {
            tracing::debug!(lane = %self.lane, next = delivered + 1, delay = liveness.delay,
                "no primary quorum; nothing due for the fallback set yet");
            return Ok(None);
        };
        let set = self.fallback_set(route, liveness.set_hash).await?;
        let signatures = self.gather_signatures(window, &self.fallback_validators, &set, due).await?;
        Ok(signatures.map(|signatures| (due, set, signatures)))
    }

    /// The route's fallback fields and the two clocks; None when the route has no fallback set.
    async fn liveness(&self, route: B256) -> Result<Option<Liveness>, RelayerError> {
        let fields = self.bridge().getRoute(route).call().await.map_err(rpc)?;
        if fields.fallbackSetHash == B256::ZERO {
            return Ok(None);
        }
        let latest = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(rpc)?
            .ok_or_else(|| RelayerError::Rpc("the destination has no latest block".into()))?;
        let source_time = match self.source_final {
            Some(block) => self.source.block_timestamp(block).await?,
            None => 0,
        };
        Ok(Some(Liveness {
            set_hash: fields.fallbackSetHash,
            delay: u64::from(fields.fallbackDelay),
            grace_until: fields.graceUntil,
            destination_time: latest.header.timestamp,
            source_time,
        }))
    }

    /// The fallback set's bytes, from the destination's final `FallbackSetInstalled` events of
    /// `route`, matched by hash.
    async fn fallback_set(&mut self, route: B256, hash: B256) -> Result<ValidatorSet, RelayerError> {
        if !self.sets.contains_key(&hash) {
            let found = cursor::scan_sets(
                &self.store,
                &self.destination,
                self.lane,
                SetEvent::Fallback,
                ZeroBridge::FallbackSetInstalled::SIGNATURE_HASH,
                |log| {
                    let event = ZeroBridge::FallbackSetInstalled::decode_log(&log.inner).ok()?;
                    (event.routeId == route).then(|| (event.setHash, event.data.validatorSet.clone()))
                },
            )
            .await?;
            self.remember_sets(found);
        }
        let bytes = self.sets.get(&hash).ok_or(RelayerError::UnknownFallbackSet { route, hash })?;
        ValidatorSet::decode(bytes).map_err(|e| RelayerError::Protocol(e.to_string()))
    }

    fn remember_sets(&mut self, found: Vec<Bytes>) {
        self.sets.extend(found.into_iter().map(|bytes| (keccak256(&bytes), bytes)));
    }

    /// The full set bytes whose hash the destination stores, from the bridges' events (read once:
    /// later scans start where the stored one stopped).
    async fn validator_set(&mut self, hash: B256) -> Result<ValidatorSet, RelayerError> {
        if !self.sets.contains_key(&hash) {
            let lane = self.lane;
            let installed = cursor::scan_sets(
                &self.store,
                &self.destination,
                lane,
                SetEvent::Installed,
                ZeroBridge::ValidatorSetInstalled::SIGNATURE_HASH,
                |log| {
                    let event = ZeroBridge::ValidatorSetInstalled::decode_log(&log.inner).ok()?;
                    (event.lane == lane).then(|| (event.setHash, event.data.validatorSet.clone()))
                },
            )
            .await?;
            self.remember_sets(installed);
            let queued = cursor::scan_sets(
                &self.store,
                &self.source,
                lane,
                SetEvent::Queued,
                ZeroBridge::ValidatorSetUpdateQueued::SIGNATURE_HASH,
                |log| {
                    let event = ZeroBridge::ValidatorSetUpdateQueued::decode_log(&log.inner).ok()?;
                    let bytes = event.data.validatorSet.clone();
                    (event.lane == lane).then(|| (keccak256(&bytes), bytes))
                },
            )
            .await?;
            self.remember_sets(queued);
        }
        let bytes = self.sets.get(&hash).ok_or(RelayerError::UnknownValidatorSet { lane: self.lane, hash })?;
        ValidatorSet::decode(bytes).map_err(|e| RelayerError::Protocol(e.to_string()))
    }

    /// Asks every validator in `urls` for its signature on (lane, target), keeps only those of
    /// `set`'s members that verify locally against our own accumulator, and returns a quorum in
    /// ascending member order. The same for the primary and the fallback set.
    async fn gather_signatures(
        &self,
        window: &Window,
        urls: &[String],
        set: &ValidatorSet,
        target: u64,
    ) -> Result<Option<Vec<PackedSignature>>, RelayerError> {
        let accumulator = window.accumulator_at(target).ok_or_else(|| not_held(self.lane, target))?;
        let checkpoint = Checkpoint { lane: self.lane, sequence: target, accumulator };
        let digest = checkpoint_digest(&checkpoint, self.source.config().chain_id, self.source.config().bridge);
        let requests = urls.iter().map(|base| {
            let url = format!("{}/v1/lanes/{:#x}/checkpoints/{target}", base.trim_end_matches('/'), self.lane);
            let http = self.http.clone();
            async move {
                let response = http.get(&url).send().await.ok()?;
                if !response.status().is_success() {
                    return None;
                }
                response.json::<CheckpointResponse>().await.ok()
            }
        });
        let answers = futures::future::join_all(requests).await;
        let mut signed = Vec::new();
        for answer in answers.into_iter().flatten() {
            if answer.lane != self.lane || answer.sequence != target || answer.accumulator != accumulator {
                tracing::warn!(lane = %self.lane, signer = %answer.signer, "validator signed a different checkpoint");
                continue;
            }
            let Ok(signature) = Signature::try_from(answer.signature.as_ref()) else {
                continue;
            };
            signed.push((answer.signer, signature));
        }
        // The same rules as the contract: never pay for a delivery that would fail.
        let selection = set.select_quorum(&digest, signed);
        if selection.quorum.is_none() {
            tracing::debug!(lane = %self.lane, target, valid = selection.valid.len(), "no quorum yet");
        }
        Ok(selection.quorum)
    }

    async fn resolve_pending(&self, delivered: u64) -> Result<Pending, RelayerError> {
        let pending = self.store.submissions_with_status(self.lane, SubmissionStatus::Pending)?;
        let mut result = Pending::None;
        for submission in pending {
            let receipt = self.provider.get_transaction_receipt(submission.tx_hash).await.map_err(rpc)?;
            if let Some(receipt) = receipt {
                let status = if receipt.status() { SubmissionStatus::Confirmed } else { SubmissionStatus::Failed };
                self.store.mark_submission(submission.tx_hash, status)?;
                metrics::counter!("zb_relayer_submissions_total", "lane" => self.lane.to_string(),
                    "status" => format!("{status:?}").to_lowercase())
                .increment(1);
                if receipt.status() {
                    let count = submission.to_sequence - submission.from_sequence;
                    metrics::counter!("zb_relayer_relayed_messages_total", "lane" => self.lane.to_string())
                        .increment(count);
                }
                continue;
            }
            if delivered >= submission.to_sequence {
                // Delivered by a replacement with the same nonce, or by another relayer.
                self.store.mark_submission(submission.tx_hash, SubmissionStatus::Replaced)?;
                continue;
            }
            // Its nonce was used by another transaction (a replaced original, another process
            // with this key): this submission can never be mined, so stop waiting for it.
            let mined_nonce = self.provider.get_transaction_count(self.relayer).latest().await.map_err(rpc)?;
            if mined_nonce > submission.nonce {
                self.store.mark_submission(submission.tx_hash, SubmissionStatus::Replaced)?;
                continue;
            }
            self.rebroadcast_if_dropped(&submission).await?;
            let age = now().saturating_sub(submission.created_at);
            if age < self.confirmation_timeout.as_secs() {
                return Ok(Pending::InFlight);
            }
            let estimate = zb_tx::estimate_fees(&self.provider).await.map_err(rpc)?;
            let sent = Fees {
                max_fee_per_gas: submission.max_fee_per_gas,
                max_priority_fee_per_gas: submission.max_priority_fee_per_gas,
            };
            match sent.replacement_within(estimate, self.fee_ceiling) {
                Some(fees) => result = Pending::Replace(Box::new(submission), fees),
                None => {
                    // Raising further would pass the ceiling: wait for the base fee to fall.
                    tracing::warn!(lane = %self.lane, tx = %submission.tx_hash, nonce = submission.nonce,
                        max_fee = sent.max_fee_per_gas, ceiling = self.fee_ceiling.max_fee_per_gas,
                        "submission not mined and its fees are at the ceiling: waiting, not replacing");
                    metrics::counter!("zb_relayer_fee_ceiling_hits_total", "lane" => self.lane.to_string())
                        .increment(1);
                    return Ok(Pending::InFlight);
                }
            }
        }
        Ok(result)
    }

    /// Sends `submission`'s signed bytes again when the node does not know the transaction (its
    /// mempool dropped it, or the first broadcast never arrived): otherwise its nonce stays a gap
    /// that holds back every later transaction of the account.
    async fn rebroadcast_if_dropped(&self, submission: &Submission) -> Result<(), RelayerError> {
        if submission.raw_tx.is_empty()
            || self.provider.get_transaction_by_hash(submission.tx_hash).await.map_err(rpc)?.is_some()
        {
            return Ok(());
        }
        tracing::warn!(lane = %self.lane, tx = %submission.tx_hash, nonce = submission.nonce,
            "the node does not know a pending submission: rebroadcasting its signed bytes");
        metrics::counter!("zb_relayer_rebroadcasts_total", "lane" => self.lane.to_string()).increment(1);
        if let Err(e) = self.provider.send_raw_transaction(&submission.raw_tx).await {
            // Mined or replaced meanwhile: the next tick's receipt and nonce checks see it.
            tracing::debug!(lane = %self.lane, tx = %submission.tx_hash, error = %e, "rebroadcast refused");
        }
        Ok(())
    }

    /// Signs locally, records the submission with its signed bytes, then broadcasts: after a
    /// crash or a lost broadcast the record is there, its nonce is reused and its bytes are
    /// rebroadcast, so a batch can never be submitted twice. `replacing` carries the fees its
    /// replacement pays.
    async fn submit(
        &self,
        request: TransactionRequest,
        gas: u64,
        delivered: u64,
        target: u64,
        replacing: Option<(Submission, Fees)>,
    ) -> Result<(), RelayerError> {
        let (nonce, fees) = match &replacing {
            Some((old, fees)) => (old.nonce, *fees),
            None => {
                let estimate = zb_tx::estimate_fees(&self.provider).await.map_err(rpc)?;
                let nonce = self.nonces.reserve(&self.provider, self.relayer).await.map_err(rpc)?;
                (nonce, estimate.capped(self.fee_ceiling))
            }
        };
        let recorded = self.sign_and_record(request, gas, nonce, fees, delivered, target).await;
        let (tx_hash, raw) = match recorded {
            Ok(signed) => signed,
            Err(e) => {
                if replacing.is_none() {
                    // Never broadcast: hand the nonce out again rather than leave a gap.
                    self.nonces.release(nonce).await;
                }
                return Err(e);
            }
        };
        if let Some((old, _)) = &replacing {
            self.store.mark_submission(old.tx_hash, SubmissionStatus::Replaced)?;
            tracing::info!(lane = %self.lane, nonce, old = %old.tx_hash, new = %tx_hash, "fee bump: replaced submission");
        }
        tracing::info!(lane = %self.lane, from = delivered + 1, to = target, %tx_hash, nonce, gas,
            max_fee = fees.max_fee_per_gas, "submitting delivery");
        // Confirmation is tracked through the store on the next ticks, not by waiting here; a
        // broadcast that fails is retried from the stored bytes.
        let _pending = self.provider.send_raw_transaction(&raw).await.map_err(rpc)?;
        Ok(())
    }

    async fn sign_and_record(
        &self,
        request: TransactionRequest,
        gas: u64,
        nonce: u64,
        fees: Fees,
        delivered: u64,
        target: u64,
    ) -> Result<(B256, Bytes), RelayerError> {
        let chain_id = self.destination.config().chain_id;
        let request = request
            .with_from(self.relayer)
            .with_chain_id(chain_id)
            .with_nonce(nonce)
            .with_gas_limit(zb_tx::with_headroom(gas, 20))
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let envelope = request.build(&self.wallet).await.map_err(|e| RelayerError::Sign(e.to_string()))?;
        let tx_hash = *envelope.tx_hash();
        let raw = Bytes::from(envelope.encoded_2718());
        self.store.record_submission(&Submission {
            lane: self.lane,
            from_sequence: delivered,
            to_sequence: target,
            nonce,
            tx_hash,
            max_fee_per_gas: fees.max_fee_per_gas,
            max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
            status: SubmissionStatus::Pending,
            created_at: now(),
            chain_id,
            sender: self.relayer,
            raw_tx: raw.clone(),
        })?;
        Ok((tx_hash, raw))
    }
}

enum Pending {
    None,
    InFlight,
    /// Not mined in time: replace it, paying these fees.
    Replace(Box<Submission>, Fees),
}

/// A sequence the window should hold and does not: the source answered less than the
/// destination or the validators know.
fn not_held(lane: B256, sequence: u64) -> RelayerError {
    RelayerError::Protocol(format!("lane {lane}: sequence {sequence} is not among the undelivered messages read"))
}

fn rpc(e: impl std::fmt::Display) -> RelayerError {
    RelayerError::Rpc(e.to_string())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    /// Messages 1..=4 sent at 1000, 1010, 1020, 1030.
    fn messages() -> Vec<Message> {
        (1..=4u64)
            .map(|sequence| Message {
                sequence,
                kind: 1,
                sender: Address::ZERO,
                recipient: Address::repeat_byte(1),
                amount: U256::from(1),
                data: B256::ZERO,
                sentAt: 990 + 10 * sequence,
                deadline: u64::MAX,
            })
            .collect()
    }

    fn liveness(destination_time: u64, source_time: u64, grace_until: u64) -> Liveness {
        Liveness { set_hash: B256::repeat_byte(0xfb), delay: 100, grace_until, destination_time, source_time }
    }

    #[test]
    fn the_fallback_target_is_the_highest_due_sequence() {
        let m = messages();
        // Both clocks at 1115: 1 (due 1100) and 2 (due 1110) are due, 3 (due 1120) is not.
        assert_eq!(fallback_target(&m[0..], 0, 4, &liveness(1115, 1115, 0)), Some(2));
        // The boundary counts as due, as on chain (`block.timestamp >= dueAt`).
        assert_eq!(fallback_target(&m[0..], 0, 4, &liveness(1120, 1120, 0)), Some(3));
        // Nothing undelivered is due: the oldest one is younger than the delay.
        assert_eq!(fallback_target(&m[0..], 0, 4, &liveness(1099, 1099, 0)), None);
        assert_eq!(fallback_target(&m[2..], 2, 4, &liveness(1115, 1115, 0)), None);
        // Never past the target, never at or below what is delivered.
        assert_eq!(fallback_target(&m[1..], 1, 2, &liveness(2000, 2000, 0)), Some(2));
        assert_eq!(fallback_target(&m[4..], 4, 4, &liveness(2000, 2000, 0)), None);
        // The slower clock decides: the destination refuses early, so do the fallback validators.
        assert_eq!(fallback_target(&m[0..], 0, 4, &liveness(1130, 1110, 0)), Some(2));
        assert_eq!(fallback_target(&m[0..], 0, 4, &liveness(1110, 1130, 0)), Some(2));
    }

    #[test]
    fn an_emergency_grace_waives_the_delay() {
        let m = messages();
        // Destination time 1005 is inside the grace: nobody waits, the whole batch goes.
        assert_eq!(fallback_target(&m[0..], 0, 4, &liveness(1005, 1000, 1006)), Some(4));
        assert_eq!(fallback_target(&m[4..], 4, 4, &liveness(1005, 1000, 1006)), None, "nothing undelivered");
        // The grace ended (exclusive, as on chain): the delay counts again.
        assert_eq!(fallback_target(&m[0..], 0, 4, &liveness(1006, 1120, 1006)), None);
    }
}
