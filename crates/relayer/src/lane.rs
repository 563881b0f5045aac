//! Relays one lane: follows the source, gathers validator signatures, and delivers batches to
//! the destination, one submission in flight at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, Signature};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolEvent;
use zb_chain::Follower;
use zb_protocol::bindings::bridge::ZeroBridge;
use zb_protocol::{
    Accumulator, Checkpoint, Message, MessageKind, PackedSignature, ValidatorSet, checkpoint_digest,
};
use zb_store::{Store, Submission, SubmissionStatus};
use zb_validator::api::CheckpointResponse;

use crate::{RelayerError, Status};

pub(crate) struct LaneRelayer {
    pub lane: B256,
    pub source: Follower,
    pub destination: Follower,
    pub provider: DynProvider,
    pub wallet: EthereumWallet,
    pub relayer: Address,
    pub http: reqwest::Client,
    pub validators: Vec<String>,
    pub store: Arc<Store>,
    pub status: Arc<Status>,
    pub max_batch_gas: u64,
    pub max_batch_messages: u64,
    pub confirmation_timeout: Duration,
    messages: Vec<Message>,
    accumulator: Accumulator,
    accumulators: Vec<B256>,
    next_source_block: u64,
    sets: HashMap<B256, Bytes>,
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
        validators: Vec<String>,
        store: Arc<Store>,
        status: Arc<Status>,
        max_batch_gas: u64,
        max_batch_messages: u64,
        confirmation_timeout: Duration,
    ) -> Result<Self, RelayerError> {
        let url = destination
            .config()
            .rpc
            .first()
            .ok_or_else(|| RelayerError::Config(format!("chain {} has no rpc", destination.config().name)))?
            .to_string();
        let url = url.parse().map_err(|e| RelayerError::Config(format!("rpc url {url}: {e}")))?;
        let provider = ProviderBuilder::new().wallet(wallet.clone()).connect_http(url).erased();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| RelayerError::Config(format!("http client: {e}")))?;
        let next_source_block = source.config().start_block;
        Ok(Self {
            lane,
            source,
            destination,
            provider,
            wallet,
            relayer,
            http,
            validators,
            store,
            status,
            max_batch_gas,
            max_batch_messages,
            confirmation_timeout,
            messages: Vec::new(),
            accumulator: Accumulator::new(lane),
            accumulators: Vec::new(),
            next_source_block,
            sets: HashMap::new(),
        })
    }

    fn bridge(&self) -> ZeroBridge::ZeroBridgeInstance<DynProvider> {
        ZeroBridge::new(self.destination.config().bridge, self.provider.clone())
    }

    /// Reads newly final messages of the lane from the source bridge.
    async fn follow_source(&mut self) -> Result<(), RelayerError> {
        let finalized = self.source.finalized().await?;
        if finalized.number < self.next_source_block {
            return Ok(());
        }
        let sent = self.source.sent_messages(self.next_source_block, finalized.number).await?;
        let mut accumulator = self.accumulator.clone();
        let mut fresh = Vec::new();
        for event in sent.into_iter().filter(|e| e.lane == self.lane) {
            let value = accumulator.push(&event.message).map_err(|e| RelayerError::Protocol(e.to_string()))?;
            fresh.push((event.message, value));
        }
        self.accumulator = accumulator;
        for (message, value) in fresh {
            self.messages.push(message);
            self.accumulators.push(value);
        }
        self.next_source_block = finalized.number + 1;
        metrics::gauge!("zb_relayer_source_height", "lane" => self.lane.to_string()).set(self.messages.len() as f64);
        Ok(())
    }

    pub async fn tick(&mut self) -> Result<Tick, RelayerError> {
        self.follow_source().await?;
        let on_chain = self.bridge().getLane(self.lane).call().await.map_err(rpc)?;
        let delivered = on_chain.sequence;
        let head = self.messages.len() as u64;
        self.status.update(self.lane, head, delivered);
        metrics::gauge!("zb_relayer_delivered_height", "lane" => self.lane.to_string()).set(delivered as f64);
        metrics::gauge!("zb_relayer_lane_lag", "lane" => self.lane.to_string())
            .set(head.saturating_sub(delivered) as f64);

        // One submission in flight per lane: resolve it first (this is what survives a restart).
        let replacing = match self.resolve_pending(delivered).await? {
            Pending::InFlight => return Ok(Tick::Waiting),
            Pending::Replace(old) => Some(old),
            Pending::None => None,
        };
        if delivered >= head {
            return Ok(Tick::Idle);
        }

        let mut target = head.min(delivered + self.max_batch_messages);
        // The old set's authority ends at a set update: deliver exactly up to it.
        if let Some(update) = self.messages[delivered as usize..target as usize]
            .iter()
            .find(|m| MessageKind::from_u8(m.kind) == Some(MessageKind::SetUpdate))
        {
            target = update.sequence;
        }
        let set = self.validator_set(on_chain.validatorSetHash).await?;
        loop {
            let Some(signatures) = self.gather_signatures(&set, target).await? else {
                return Ok(Tick::Waiting);
            };
            let checkpoint =
                Checkpoint { lane: self.lane, sequence: target, accumulator: self.accumulators[(target - 1) as usize] };
            let batch = self.messages[delivered as usize..target as usize].to_vec();
            let bridge = self.bridge();
            let call = bridge.deliver(
                checkpoint,
                Bytes::from(set.encode()),
                Bytes::from(PackedSignature::pack(&signatures)),
                batch,
            );
            // Simulate first: a delivery that would revert is never sent.
            let gas = match call.estimate_gas().await {
                Ok(gas) => gas,
                Err(e) => {
                    let reason = e
                        .as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>()
                        .map_or_else(|| e.to_string(), |d| format!("{d:?}"));
                    metrics::counter!("zb_relayer_simulation_failures_total", "lane" => self.lane.to_string())
                        .increment(1);
                    return Err(RelayerError::Simulation { lane: self.lane, reason });
                }
            };
            if gas > self.max_batch_gas && target > delivered + 1 {
                target = delivered + (target - delivered) / 2;
                continue;
            }
            self.submit(call.into_transaction_request(), gas, delivered, target, replacing).await?;
            return Ok(Tick::Submitted);
        }
    }

    /// The full set bytes whose hash the destination stores, from the bridges' events.
    async fn validator_set(&mut self, hash: B256) -> Result<ValidatorSet, RelayerError> {
        if !self.sets.contains_key(&hash) {
            // Only final events count: a set installed in a block that can still reorg is not trusted.
            let dst = &self.destination;
            let latest = dst.finalized().await?.number;
            for log in dst
                .bridge_logs(ZeroBridge::ValidatorSetInstalled::SIGNATURE_HASH, dst.config().start_block, latest)
                .await?
            {
                if let Ok(event) = ZeroBridge::ValidatorSetInstalled::decode_log(&log.inner) {
                    if event.lane == self.lane {
                        self.sets.insert(event.setHash, event.data.validatorSet.clone());
                    }
                }
            }
            let src = &self.source;
            let latest = src.finalized().await?.number;
            for log in src
                .bridge_logs(ZeroBridge::ValidatorSetUpdateQueued::SIGNATURE_HASH, src.config().start_block, latest)
                .await?
            {
                if let Ok(event) = ZeroBridge::ValidatorSetUpdateQueued::decode_log(&log.inner) {
                    if event.lane == self.lane {
                        let bytes = event.data.validatorSet.clone();
                        self.sets.insert(alloy::primitives::keccak256(&bytes), bytes);
                    }
                }
            }
        }
        let bytes = self.sets.get(&hash).ok_or(RelayerError::UnknownValidatorSet { lane: self.lane, hash })?;
        ValidatorSet::decode(bytes).map_err(|e| RelayerError::Protocol(e.to_string()))
    }

    /// Asks every validator for its signature on (lane, target), keeps only those that verify
    /// locally against our own accumulator, and returns a quorum in ascending member order.
    async fn gather_signatures(
        &self,
        set: &ValidatorSet,
        target: u64,
    ) -> Result<Option<Vec<PackedSignature>>, RelayerError> {
        let accumulator = self.accumulators[(target - 1) as usize];
        let checkpoint = Checkpoint { lane: self.lane, sequence: target, accumulator };
        let digest = checkpoint_digest(&checkpoint, self.source.config().chain_id, self.source.config().bridge);
        let requests = self.validators.iter().map(|base| {
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
        let mut valid: Vec<PackedSignature> = Vec::new();
        for answer in answers.into_iter().flatten() {
            if answer.lane != self.lane || answer.sequence != target || answer.accumulator != accumulator {
                tracing::warn!(lane = %self.lane, signer = %answer.signer, "validator signed a different checkpoint");
                continue;
            }
            let Ok(signature) = Signature::try_from(answer.signature.as_ref()) else { continue };
            let Some(index) = set.index_of(answer.signer) else { continue };
            if signature.recover_address_from_prehash(&digest).ok() != Some(answer.signer) {
                tracing::warn!(lane = %self.lane, signer = %answer.signer, "signature does not verify; ignored");
                continue;
            }
            valid.push(PackedSignature { member_index: index, signature });
        }
        valid.sort_by_key(|s| s.member_index);
        valid.dedup_by_key(|s| s.member_index);
        let mut chosen = Vec::new();
        let mut weight = 0u128;
        for signature in valid {
            if weight >= set.threshold {
                break;
            }
            weight += set.members[usize::from(signature.member_index)].weight;
            chosen.push(signature);
        }
        // The same rules as the contract: never pay for a delivery that would fail.
        match set.verify_quorum(&digest, &chosen) {
            Ok(_) => Ok(Some(chosen)),
            Err(e) => {
                tracing::debug!(lane = %self.lane, target, reason = %e, "no quorum yet");
                Ok(None)
            }
        }
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
            let age = now().saturating_sub(submission.created_at);
            if age >= self.confirmation_timeout.as_secs() {
                result = Pending::Replace(submission);
            } else {
                return Ok(Pending::InFlight);
            }
        }
        Ok(result)
    }

    /// Signs locally, records the submission, then broadcasts: after a crash the record is there
    /// and its nonce is reused, so a batch can never be submitted twice.
    async fn submit(
        &self,
        request: TransactionRequest,
        gas: u64,
        delivered: u64,
        target: u64,
        replacing: Option<Submission>,
    ) -> Result<(), RelayerError> {
        let fees = self.provider.estimate_eip1559_fees().await.map_err(rpc)?;
        let (nonce, mut max_fee, mut priority) = match &replacing {
            Some(old) => (old.nonce, old.max_fee_per_gas * 5 / 4 + 1, old.max_priority_fee_per_gas * 5 / 4 + 1),
            None => (
                self.provider.get_transaction_count(self.relayer).pending().await.map_err(rpc)?,
                fees.max_fee_per_gas,
                fees.max_priority_fee_per_gas,
            ),
        };
        max_fee = max_fee.max(fees.max_fee_per_gas);
        priority = priority.max(fees.max_priority_fee_per_gas).min(max_fee);
        let request = request
            .with_from(self.relayer)
            .with_chain_id(self.destination.config().chain_id)
            .with_nonce(nonce)
            .with_gas_limit(gas + gas / 5)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority);
        let envelope = request.build(&self.wallet).await.map_err(|e| RelayerError::Sign(e.to_string()))?;
        let tx_hash = *envelope.tx_hash();
        self.store.record_submission(&Submission {
            lane: self.lane,
            from_sequence: delivered,
            to_sequence: target,
            nonce,
            tx_hash,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: priority,
            status: SubmissionStatus::Pending,
            created_at: now(),
        })?;
        if let Some(old) = &replacing {
            self.store.mark_submission(old.tx_hash, SubmissionStatus::Replaced)?;
            tracing::info!(lane = %self.lane, nonce, old = %old.tx_hash, new = %tx_hash, "fee bump: replaced submission");
        }
        tracing::info!(lane = %self.lane, from = delivered + 1, to = target, %tx_hash, nonce, gas, "submitting delivery");
        // Confirmation is tracked through the store on the next ticks, not by waiting here.
        let _pending = self.provider.send_tx_envelope(envelope).await.map_err(rpc)?;
        Ok(())
    }
}

enum Pending {
    None,
    InFlight,
    Replace(Submission),
}

fn rpc(e: impl std::fmt::Display) -> RelayerError {
    RelayerError::Rpc(e.to_string())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
