//! Self-service for holders when the agents do not deliver: `zerobridge claim` (fetch the
//! validators' signatures and deliver the transfer yourself, paying the gas; or claim its refund
//! on the source); `zerobridge cancel` (cancel.rs) builds on it.
//!
//! `claim` delivers every undelivered message of the lane up to the transfer (the checkpoint is
//! the transfer's own sequence, or an earlier SET_UPDATE: the old set's authority ends there, so
//! the batch stops at it and the next one is signed by the new set). Signatures come from the
//! primary validators (`validators` of the network) and are checked locally against the
//! accumulator recomputed from the source's messages and against the set the destination checks.
//! Without a primary quorum, the route's fallback validators (`fallbackValidators`) sign once
//! the batch is due (`deliverByFallback`). A transfer refused on the destination is refunded: the
//! REFUND message travels the reverse lane (delivered the same way, other direction) and the
//! refund is then paid on the source by `claimRefund` with a proof of the original message.

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, B256, Bytes, Signature, TxHash, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{BlockNumberOrTag, Filter};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::{self, RevertContext};
use zb_protocol::{Accumulator, Checkpoint, Message, MessageKind, PackedSignature, ValidatorSet, checkpoint_digest};

use crate::context::{Context, KeyArgs, NetworkArgs};
use crate::explain::fallback_due_text;
use crate::format::{format_utc, one_line, parse_tx_hash};
use crate::network::{ChainInfo, Leg};
use crate::transfer::{
    CheckpointResponse, DestEvent, DestStatus, GAS_HEADROOM_PERCENT, TokenMeta, Transfer, TxAt, Ui, VALIDATOR_TIMEOUT,
    Watch, check_gas_funds, explain_contract_error, first_block_at, leg_for_lane, load_transfer, scan_logs,
    wait_receipt, watch,
};

/// `claimRefund` proves a message against the accumulators the source records every this many.
pub const ACCUMULATOR_RECORD_INTERVAL: u64 = 16;
/// Gas when the node cannot estimate (the simulation passed).
const FALLBACK_GAS: u64 = 1_500_000;
/// First window when searching the source backwards for a lane's messages (doubles each step).
const SEARCH_WINDOW: u64 = 2_000;
/// `track` says "claim it yourself" once a quorum signed this long ago and nobody delivered.
pub const RELAYER_GRACE_SECS: u64 = 60;

// ------------------------------------------------------------------------------------ options

/// Which transfer: its source transaction hash, or its lane and sequence.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TransferRef {
    /// Transaction hash of the send on its source chain.
    #[arg(required_unless_present = "lane", conflicts_with = "lane")]
    pub tx: Option<String>,
    /// The transfer's lane (with --sequence), instead of the transaction hash.
    #[arg(long, requires = "sequence")]
    pub lane: Option<String>,
    /// The transfer's sequence on --lane.
    #[arg(long, requires = "lane")]
    pub sequence: Option<u64>,
}

/// `zerobridge claim`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClaimArgs {
    #[command(flatten)]
    pub target: TransferRef,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

// ------------------------------------------------------------------------------------ pure rules

/// "2 of 4 validators signed (50% of the set's weight, 66.7% needed)": weights are stake in
/// wei on a staked route, so shares of the set's total read better than raw numbers.
pub fn signature_count_message(signed: usize, members: usize, weight: u128, threshold: u128, total: u128) -> String {
    format!(
        "{signed} of {members} validators signed ({} of the set's weight, {} needed)",
        percent(weight, total),
        percent(threshold, total)
    )
}

/// `part / total` as a percentage with at most one decimal ("66.7%", "25%").
fn percent(part: u128, total: u128) -> String {
    if total == 0 {
        return "0%".to_string();
    }
    let tenths = part.saturating_mul(1000) / total;
    if tenths.is_multiple_of(10) { format!("{}%", tenths / 10) } else { format!("{}.{}%", tenths / 10, tenths % 10) }
}

/// The end of the next batch after `delivered`: `target`, or an earlier SET_UPDATE (nothing may
/// ride along after it: the old set's authority ends there). `pending` are the messages from
/// `delivered + 1` on, in order.
pub fn next_batch_end(pending: &[Message], target: u64) -> u64 {
    pending
        .iter()
        .take_while(|m| m.sequence < target)
        .find(|m| MessageKind::from_u8(m.kind) == Some(MessageKind::SetUpdate))
        .map_or(target, |m| m.sequence)
}

/// The segment `claimRefund` accepts for `sequence`: from just after the previous recorded
/// accumulator to the next one, or to the lane head. Returns (first, last) sequences.
pub fn refund_segment(sequence: u64, lane_head: u64) -> (u64, u64) {
    let start = (sequence.saturating_sub(1) / ACCUMULATOR_RECORD_INTERVAL) * ACCUMULATOR_RECORD_INTERVAL;
    (start + 1, (start + ACCUMULATOR_RECORD_INTERVAL).min(lane_head))
}

/// What `track` knows of a transfer that is not moving.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StuckFacts {
    /// Seconds since the send (destination clock).
    pub age: u64,
    pub delivered: bool,
    /// A quorum of the primary validators signed it.
    pub quorum: bool,
    /// The route's fallback delay on the destination, when it has a fallback set.
    pub fallback_delay: Option<u64>,
    pub held: bool,
    pub frozen: bool,
}

/// The "you can ... yourself" lines `track` prints for a stuck transfer.
pub fn stuck_hints(facts: &StuckFacts, tx: TxHash, network_flag: &str) -> Vec<String> {
    let mut hints = Vec::new();
    if facts.held && !facts.frozen {
        hints.push(format!(
            "you can cancel it: zerobridge cancel {tx}{network_flag} (the sender's key; refunded on the source)"
        ));
    }
    if !facts.delivered {
        let relayer_late = facts.quorum && facts.age > RELAYER_GRACE_SECS;
        let fallback_due = facts.fallback_delay.is_some_and(|delay| facts.age >= delay);
        if relayer_late || fallback_due {
            let why = if relayer_late {
                "the validators signed it but no relayer delivered it"
            } else {
                "it waited past the route's fallback delay"
            };
            hints.push(format!("{why}: you can claim it yourself: zerobridge claim {tx}{network_flag}"));
        }
    }
    hints
}

// ------------------------------------------------------------------------------------ chain reads

pub(crate) fn read_err(chain: &ChainInfo, e: &dyn std::fmt::Display) -> eyre::Report {
    eyre!("reading '{}': {}", chain.name, one_line(e))
}

async fn chain_now(provider: &DynProvider, chain: &ChainInfo) -> Result<u64> {
    let block = provider.get_block_by_number(BlockNumberOrTag::Latest).await.map_err(|e| read_err(chain, &e))?;
    Ok(block.map_or_else(crate::format::unix_now, |b| b.header.timestamp))
}

/// The transaction of `lane`'s message `sequence` on its source chain.
async fn find_send_tx(ctx: &Context, lane: B256, sequence: u64) -> Result<TxHash> {
    for chain in &ctx.network.chains {
        let Some(leg) = leg_for_lane(&ctx.network, chain, lane) else {
            continue;
        };
        let provider = ctx.connect(&leg.source).await?;
        let latest = provider.get_block_number().await.map_err(|e| read_err(chain, &e))?;
        let filter = Filter::new()
            .address(leg.source.bridge)
            .event_signature(ZeroBridge::MessageSent::SIGNATURE_HASH)
            .topic1(lane)
            .topic2(B256::from(U256::from(sequence)));
        let logs = scan_logs(&provider, &filter, 0, latest).await?;
        return logs.iter().find_map(|l| l.transaction_hash).ok_or_else(|| {
            eyre!("lane {lane:#x} has sent no message {sequence} on '{}': check --sequence", chain.name)
        });
    }
    bail!("lane {lane:#x} is not a lane of any route in the network: check --lane (see `zerobridge route status`)")
}

pub(crate) async fn resolve(ctx: &Context, target: &TransferRef) -> Result<Transfer> {
    let tx = match (&target.tx, &target.lane, target.sequence) {
        (Some(tx), _, _) => parse_tx_hash(tx)?,
        (None, Some(lane), Some(sequence)) => {
            let lane: B256 = lane
                .trim()
                .parse()
                .map_err(|_| eyre!("--lane '{lane}' is not a lane id: 0x followed by 64 hex digits"))?;
            find_send_tx(ctx, lane, sequence).await?
        }
        _ => bail!("which transfer? pass its source transaction hash, or --lane LANE --sequence N"),
    };
    load_transfer(ctx, tx).await
}

/// Messages `from..=to` of `leg`'s lane as its source bridge logged them, with the accumulator
/// logged after each, searching backwards from block `upper`.
async fn sent_messages(
    provider: &DynProvider,
    leg: &Leg,
    from: u64,
    to: u64,
    upper: u64,
) -> Result<Vec<(Message, B256)>> {
    let filter = Filter::new()
        .address(leg.source.bridge)
        .event_signature(ZeroBridge::MessageSent::SIGNATURE_HASH)
        .topic1(leg.lane);
    let mut found: BTreeMap<u64, (Message, B256)> = BTreeMap::new();
    let (mut hi, mut window) = (upper, SEARCH_WINDOW);
    loop {
        let lo = hi.saturating_sub(window - 1);
        for log in scan_logs(provider, &filter, lo, hi).await? {
            if let Ok(event) = ZeroBridge::MessageSent::decode_log(&log.inner) {
                let sequence = event.data.message.sequence;
                if (from..=to).contains(&sequence) {
                    found.insert(sequence, (event.data.message.clone(), event.data.accumulator));
                }
            }
        }
        if found.contains_key(&from) || lo == 0 {
            break;
        }
        hi = lo - 1;
        window = window.saturating_mul(2);
    }
    let messages: Vec<_> = found.into_values().collect();
    let complete = messages.len() as u64 == to + 1 - from
        && messages.iter().zip(from..).all(|((m, _), expected)| m.sequence == expected);
    if !complete {
        bail!(
            "the RPC of '{}' does not return messages {from} to {to} of lane {:#x}: use a fully synced (archive) node",
            leg.source.name,
            leg.lane
        );
    }
    Ok(messages)
}

/// Every validator set of `leg`'s lane the bridges announced: installed on the destination,
/// queued on the source (set updates), and the route's fallback sets on the destination.
async fn known_sets(leg: &Leg, source: &DynProvider, destination: &DynProvider) -> Result<HashMap<B256, Bytes>> {
    let mut sets = HashMap::new();
    let dest_head = destination.get_block_number().await.map_err(|e| read_err(&leg.destination, &e))?;
    let installed = Filter::new()
        .address(leg.destination.bridge)
        .event_signature(ZeroBridge::ValidatorSetInstalled::SIGNATURE_HASH)
        .topic1(leg.lane);
    for log in scan_logs(destination, &installed, 0, dest_head).await? {
        if let Ok(e) = ZeroBridge::ValidatorSetInstalled::decode_log(&log.inner) {
            sets.insert(e.data.setHash, e.data.validatorSet.clone());
        }
    }
    let fallback = Filter::new()
        .address(leg.destination.bridge)
        .event_signature(ZeroBridge::FallbackSetInstalled::SIGNATURE_HASH)
        .topic1(leg.route.route_id);
    for log in scan_logs(destination, &fallback, 0, dest_head).await? {
        if let Ok(e) = ZeroBridge::FallbackSetInstalled::decode_log(&log.inner) {
            sets.insert(e.data.setHash, e.data.validatorSet.clone());
        }
    }
    let source_head = source.get_block_number().await.map_err(|e| read_err(&leg.source, &e))?;
    let queued = Filter::new()
        .address(leg.source.bridge)
        .event_signature(ZeroBridge::ValidatorSetUpdateQueued::SIGNATURE_HASH)
        .topic1(leg.lane);
    for log in scan_logs(source, &queued, 0, source_head).await? {
        if let Ok(e) = ZeroBridge::ValidatorSetUpdateQueued::decode_log(&log.inner) {
            let bytes = e.data.validatorSet.clone();
            sets.insert(alloy::primitives::keccak256(&bytes), bytes);
        }
    }
    Ok(sets)
}

fn set_for(sets: &HashMap<B256, Bytes>, hash: B256, which: &str, chain: &str) -> Result<(ValidatorSet, Bytes)> {
    let bytes = sets.get(&hash).ok_or_else(|| {
        eyre!("the {which} set {hash} that '{chain}' checks was announced in no bridge event the RPCs return: use archive nodes")
    })?;
    let set =
        ValidatorSet::decode(bytes).map_err(|e| eyre!("the {which} set {hash} on '{chain}' does not decode: {e}"))?;
    Ok((set, bytes.clone()))
}

// ------------------------------------------------------------------------------------ signatures

/// The signatures gathered for one checkpoint, verified locally.
#[derive(Debug, Clone, Default)]
struct Gathered {
    /// A quorum in ascending member order, or every valid signature when there is none.
    signatures: Vec<PackedSignature>,
    signed: usize,
    members: usize,
    weight: u128,
    threshold: u128,
    /// The set's total weight.
    total: u128,
    asked: usize,
    answered: usize,
    quorum: bool,
}

impl Gathered {
    fn summary(&self) -> String {
        let mut text = signature_count_message(self.signed, self.members, self.weight, self.threshold, self.total);
        if self.answered < self.asked {
            text.push_str(&format!(", {} of {} endpoints did not answer", self.asked - self.answered, self.asked));
        }
        text
    }
}

/// Asks every endpoint for its signature on `checkpoint`, keeps those from members of `set` that
/// sign exactly our checkpoint, and picks a quorum with the contract's rules.
async fn gather(
    http: &reqwest::Client,
    urls: &[String],
    set: &ValidatorSet,
    checkpoint: &Checkpoint,
    source: &ChainInfo,
) -> Gathered {
    let digest = checkpoint_digest(checkpoint, source.chain_id, source.bridge);
    let requests = urls.iter().map(|base| {
        let url = format!(
            "{}/v1/lanes/{:#x}/checkpoints/{}",
            base.trim_end_matches('/'),
            checkpoint.lane,
            checkpoint.sequence
        );
        let http = http.clone();
        async move {
            let response = http.get(&url).timeout(VALIDATOR_TIMEOUT).send().await.ok()?;
            // A refusal (not final yet, fallback not due) still counts as an answer.
            if !response.status().is_success() {
                return Some(None);
            }
            Some(response.json::<CheckpointResponse>().await.ok())
        }
    });
    let answers = futures::future::join_all(requests).await;
    let answered = answers.iter().filter(|a| a.is_some()).count();
    let signed = answers
        .into_iter()
        .flatten()
        .flatten()
        .filter(|answer| {
            answer.lane == checkpoint.lane
                && answer.sequence == checkpoint.sequence
                && answer.accumulator == checkpoint.accumulator
        })
        .filter_map(|answer| Some((answer.signer, Signature::try_from(answer.signature.as_ref()).ok()?)));
    let selection = set.select_quorum(&digest, signed);
    let quorum = selection.quorum.is_some();
    Gathered {
        signed: selection.valid.len(),
        signatures: selection.quorum.unwrap_or(selection.valid),
        members: set.members.len(),
        weight: selection.weight,
        threshold: set.threshold,
        total: set.members.iter().map(|m| m.weight).sum(),
        asked: urls.len(),
        answered,
        quorum,
    }
}

// ------------------------------------------------------------------------------------ delivery

/// The paying key and the chains of one lane, for delivering its messages.
struct Lane<'a> {
    ctx: &'a Context,
    leg: &'a Leg,
    source: &'a DynProvider,
    destination: &'a DynProvider,
    signer: &'a PrivateKeySigner,
    token: &'a TokenMeta,
    /// The command to run again, for hints.
    again: String,
}

/// One line for a revert of a holder's own transaction (`deliver`, `claimRefund`, `cancelHold`).
fn explain(e: &alloy::contract::Error, what: &str, chain: &ChainInfo, sender: Address, token: &TokenMeta) -> String {
    let on = &chain.name;
    let decoded = e.as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>();
    let text = decoded
        .as_ref()
        .and_then(|z| revert::explain_holder_tx(z, on).or_else(|| crate::explain::bridge_error(z)))
        .unwrap_or_else(|| {
            let ctx = RevertContext { source: on, destination: on, sender, words: token };
            explain_contract_error(e, &ctx)
        });
    format!("{what} on '{on}' refused: {text}")
}

/// Simulates, estimates, checks the gas money, sends and waits for a successful receipt.
pub(crate) async fn submit<P: Provider, D: alloy::contract::CallDecoder>(
    call: alloy::contract::CallBuilder<P, D>,
    what: &str,
    chain: &ChainInfo,
    reader: &DynProvider,
    sender: Address,
    token: &TokenMeta,
) -> Result<TxAt> {
    let call = call.from(sender);
    call.call_raw().await.map_err(|e| eyre!(explain(&e, what, chain, sender, token)))?;
    let gas = match call.estimate_gas().await {
        Ok(estimate) => estimate.saturating_mul(GAS_HEADROOM_PERCENT) / 100,
        Err(e) if e.as_revert_data().is_some() => bail!(explain(&e, what, chain, sender, token)),
        Err(_) => FALLBACK_GAS,
    };
    check_gas_funds(reader, chain, sender, gas).await?;
    let pending = call.gas(gas).send().await.map_err(|e| eyre!(explain(&e, what, chain, sender, token)))?;
    let hash = *pending.tx_hash();
    let receipt = wait_receipt(reader, hash, &chain.name).await?;
    let block = receipt.block_number.unwrap_or_default();
    if !receipt.status() {
        bail!(
            "{what}: transaction {hash} reverted on '{}' in block {block}: run the command again to see why",
            chain.name
        );
    }
    Ok(TxAt { hash, block })
}

impl Lane<'_> {
    /// Delivers every undelivered message of the lane up to `target` (sent in source block
    /// `target_block`), batch by batch. Returns the deliveries made (none if it was delivered).
    async fn deliver_up_to(&self, target: u64, target_block: u64) -> Result<Vec<TxAt>> {
        let (leg, src, dst) = (self.leg, &self.leg.source.name, &self.leg.destination.name);
        let inbound_bridge = ZeroBridge::new(leg.destination.bridge, self.destination.clone());
        let head = self.source.get_block_number().await.map_err(|e| read_err(&leg.source, &e))?;
        let on_top = head.saturating_sub(target_block);
        if on_top < leg.source.finality_depth {
            bail!(
                "sequence {target} is not final on '{src}' yet ({on_top} of {} blocks on top): the validators sign \
                 only final messages; {}",
                leg.source.finality_depth,
                self.again
            );
        }
        let mut sets: Option<HashMap<B256, Bytes>> = None;
        let mut done = Vec::new();
        loop {
            let inbound = inbound_bridge.getLane(leg.lane).call().await.map_err(|e| read_err(&leg.destination, &e))?;
            let delivered = inbound.sequence;
            if delivered >= target {
                return Ok(done);
            }
            let pending = sent_messages(self.source, leg, delivered + 1, target, target_block).await?;
            let end = next_batch_end(pending.iter().map(|(m, _)| m).cloned().collect::<Vec<_>>().as_slice(), target);
            let batch: Vec<Message> =
                pending.iter().take_while(|(m, _)| m.sequence <= end).map(|(m, _)| m.clone()).collect();
            let mut accumulator = Accumulator { lane: leg.lane, sequence: delivered, value: inbound.accumulator };
            for message in &batch {
                accumulator.push(message).map_err(|e| eyre!("the messages of '{src}' are out of order: {e}"))?;
            }
            let logged = pending.iter().find(|(m, _)| m.sequence == end).map(|(_, acc)| *acc);
            if logged != Some(accumulator.value) {
                bail!(
                    "the messages '{src}' returned do not hash to the accumulator its bridge logged (sequence {end}): \
                     the RPC is inconsistent; use another RPC"
                );
            }
            let checkpoint = Checkpoint { lane: leg.lane, sequence: end, accumulator: accumulator.value };
            if sets.is_none() {
                sets = Some(known_sets(leg, self.source, self.destination).await?);
            }
            let known = sets.as_ref().ok_or_else(|| eyre!("validator sets not loaded"))?;
            let (set, set_bytes) = set_for(known, inbound.validatorSetHash, "validator", dst)?;
            let now = chain_now(self.destination, &leg.destination).await?;
            let ui = Ui::new();
            let step =
                ui.step(format!("asking {} validators to sign sequence {end}", self.ctx.network.validators.len()));
            let primary = if set.expired_at(now) {
                Gathered {
                    members: set.members.len(),
                    threshold: set.threshold,
                    total: set.members.iter().map(|m| m.weight).sum(),
                    ..Gathered::default()
                }
            } else {
                gather(&self.ctx.http, &self.ctx.network.validators, &set, &checkpoint, &leg.source).await
            };
            let range = if end > delivered + 1 {
                format!("sequences {}-{end}", delivered + 1)
            } else {
                format!("sequence {end}")
            };
            if primary.quorum {
                step.done(format!("✓ signed      {}", primary.summary()));
                let wallet = self.wallet()?;
                let bridge = ZeroBridge::new(leg.destination.bridge, &wallet);
                let call = bridge.deliver(
                    checkpoint,
                    set_bytes,
                    Bytes::from(PackedSignature::pack(&primary.signatures)),
                    batch,
                );
                done.push(self.submit_delivery(call, &range, "").await?);
                continue;
            }
            step.clear();
            let primary_text = if set.expired_at(now) {
                format!("the lane's validator set expired at {}", format_utc(set.valid_until))
            } else {
                primary.summary()
            };
            let route =
                inbound_bridge.getRoute(leg.route.route_id).call().await.map_err(|e| read_err(&leg.destination, &e))?;
            if route.fallbackSetHash == B256::ZERO {
                bail!(
                    "{primary_text}: not enough to deliver, and the route has no fallback validators on '{dst}'; \
                     the transfer is not lost: once more validators sign, {}",
                    self.again
                );
            }
            let last_sent = batch.last().map_or(0, |m| m.sentAt);
            let due_at = last_sent.saturating_add(u64::from(route.fallbackDelay));
            let in_grace = now < route.graceUntil;
            if !in_grace && now < due_at {
                bail!(
                    "{primary_text}: not enough to deliver; the fallback validators may deliver it {}: {}",
                    fallback_due_text(due_at, now),
                    self.again
                );
            }
            if self.ctx.network.fallback_validators.is_empty() {
                bail!(
                    "{primary_text}, and the fallback may deliver now, but the network lists no fallbackValidators: \
                     add their URLs to the network file"
                );
            }
            let (fallback_set, fallback_bytes) = set_for(known, route.fallbackSetHash, "fallback", dst)?;
            let step = ui.step(format!(
                "asking {} fallback validators to sign sequence {end}",
                self.ctx.network.fallback_validators.len()
            ));
            let fallback =
                gather(&self.ctx.http, &self.ctx.network.fallback_validators, &fallback_set, &checkpoint, &leg.source)
                    .await;
            if !fallback.quorum {
                step.clear();
                bail!(
                    "primary: {primary_text}; fallback: {}: not enough to deliver; {}",
                    fallback.summary(),
                    self.again
                );
            }
            step.done(format!(
                "✓ signed      by the fallback validators: {} (primary: {primary_text})",
                fallback.summary()
            ));
            let wallet = self.wallet()?;
            let bridge = ZeroBridge::new(leg.destination.bridge, &wallet);
            let call = bridge.deliverByFallback(
                checkpoint,
                fallback_bytes,
                Bytes::from(PackedSignature::pack(&fallback.signatures)),
                batch,
            );
            done.push(self.submit_delivery(call, &range, " by the fallback validators").await?);
        }
    }

    /// Submits a delivery of `range` from the holder's key (`by`: who signed, for the messages)
    /// and says where it landed.
    async fn submit_delivery<P: Provider, D: alloy::contract::CallDecoder>(
        &self,
        call: alloy::contract::CallBuilder<P, D>,
        range: &str,
        by: &str,
    ) -> Result<TxAt> {
        let what = format!("delivering {range}{by}");
        let sender = self.signer.address();
        let destination = &self.leg.destination;
        let at = submit(call, &what, destination, self.destination, sender, self.token).await?;
        println!(
            "✓ delivered   {range} on {}{by} in tx {} (block {}), gas paid by {sender}",
            destination.name, at.hash, at.block
        );
        Ok(at)
    }

    fn wallet(&self) -> Result<DynProvider> {
        self.ctx.wallet_provider(&self.leg.destination, self.signer.clone())
    }
}

// ------------------------------------------------------------------------------------ claim

/// What happened to the transfer on its destination, from the destination's events.
async fn destination_status(t: &Transfer) -> Result<DestStatus> {
    let chain = &t.leg.destination;
    let from = first_block_at(&t.destination, t.message.sentAt.saturating_sub(crate::transfer::CLOCK_SKEW_MARGIN_SECS))
        .await
        .map_err(|e| read_err(chain, &e))?;
    let latest = t.destination.get_block_number().await.map_err(|e| read_err(chain, &e))?;
    let filter =
        Filter::new().address(chain.bridge).topic1(t.leg.lane).topic2(B256::from(U256::from(t.message.sequence)));
    let mut status = DestStatus::default();
    for log in scan_logs(&t.destination, &filter, from, latest).await? {
        let (Some(hash), Some(block)) = (log.transaction_hash, log.block_number) else {
            continue;
        };
        if let Some(event) = DestEvent::decode(&log) {
            status.apply(event, TxAt { hash, block });
        }
    }
    Ok(status)
}

pub(crate) fn signer_of(ctx: &Context, key: &KeyArgs, what: &str) -> Result<PrivateKeySigner> {
    ctx.signer(key, "holder")?.ok_or_else(|| {
        eyre!("{what} needs a key to pay the gas: pass --private-key-env VAR (a variable holding the hex key) or --keystore FILE")
    })
}

/// `zerobridge claim`: delivers the transfer yourself, or claims its refund on the source.
pub async fn claim(args: &ClaimArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let t = resolve(&ctx, &args.target).await?;
    let again = format!("run `zerobridge claim {}{}` again then", t.tx, ctx.network_flag());
    let inbound = ZeroBridge::new(t.leg.destination.bridge, t.destination.clone())
        .getLane(t.leg.lane)
        .call()
        .await
        .map_err(|e| read_err(&t.leg.destination, &e))?;
    if inbound.sequence >= t.message.sequence {
        println!("already delivered to {}: nothing to deliver", t.leg.destination.name);
    } else {
        let signer = signer_of(&ctx, &args.key, "claim")?;
        let lane = Lane {
            ctx: &ctx,
            leg: &t.leg,
            source: &t.source,
            destination: &t.destination,
            signer: &signer,
            token: &t.destination_token,
            again: again.clone(),
        };
        lane.deliver_up_to(t.message.sequence, t.block).await?;
    }
    // The stages as `track` shows them (the summary, or the refusal and how the refund comes).
    watch(&t, &ctx, crate::transfer::Progress::new(t.block, None), Watch::Once).await?;
    let status = destination_status(&t).await?;
    match status.failed {
        Some((at, _)) => claim_refund(&ctx, &t, at, &signer_of(&ctx, &args.key, "claim")?, &again).await,
        None => Ok(()),
    }
}

/// The refund of a transfer refused on its destination (in transaction `failed`): delivers the
/// REFUND message to the source if it is still on its way, then claims the refund there.
async fn claim_refund(ctx: &Context, t: &Transfer, failed: TxAt, signer: &PrivateKeySigner, again: &str) -> Result<()> {
    let (src, dst) = (&t.leg.source, &t.leg.destination);
    let hash = zb_protocol::message_hash(&t.message);
    let source_bridge = ZeroBridge::new(src.bridge, t.source.clone());
    let refund_status = || async {
        source_bridge.refunds(t.leg.lane, hash).call().await.map(|r| r.status).map_err(|e| read_err(src, &e))
    };
    let mut status = refund_status().await?;
    if status == 0 {
        // The REFUND was appended to the reverse lane in the transaction that refused the transfer.
        let receipt =
            t.destination.get_transaction_receipt(failed.hash).await.map_err(|e| read_err(dst, &e))?.ok_or_else(
                || eyre!("the RPC of '{}' has no receipt for {}: use another RPC", dst.name, failed.hash),
            )?;
        let refund = receipt
            .logs()
            .iter()
            .filter(|l| l.inner.address == dst.bridge)
            .filter_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
            .find(|e| {
                MessageKind::from_u8(e.data.message.kind) == Some(MessageKind::Refund) && e.data.message.data == hash
            })
            .ok_or_else(|| eyre!("transaction {} on '{}' sent no REFUND for this transfer", failed.hash, dst.name))?;
        let reverse = leg_for_lane(&ctx.network, dst, refund.data.lane).ok_or_else(|| {
            eyre!("the refund travels on lane {:#x}, which the network file does not know", refund.data.lane)
        })?;
        println!(
            "the refund travels back on lane {:#x} as its message {}: delivering it to {} first",
            reverse.lane, refund.data.message.sequence, src.name
        );
        let lane = Lane {
            ctx,
            leg: &reverse,
            source: &t.destination,
            destination: &t.source,
            signer,
            token: &t.source_token,
            again: again.to_string(),
        };
        lane.deliver_up_to(refund.data.message.sequence, failed.block).await?;
        status = refund_status().await?;
    }
    match status {
        1 => {}
        2 => {
            println!(
                "the refund was already claimed: {} went back to {} on {}",
                t.source_token.show(t.message.amount),
                t.message.sender,
                src.name
            );
            return Ok(());
        }
        3 => bail!("governance cancelled this refund on '{}': nothing can claim it", src.name),
        _ => bail!("the refund is not approved on '{}' although its REFUND was delivered: {again}", src.name),
    }
    let head = source_bridge.getLane(t.leg.lane).call().await.map_err(|e| read_err(src, &e))?.sequence;
    let (first, last) = refund_segment(t.message.sequence, head);
    let latest = t.source.get_block_number().await.map_err(|e| read_err(src, &e))?;
    let segment: Vec<Message> =
        sent_messages(&t.source, &t.leg, first, last, latest).await?.into_iter().map(|(m, _)| m).collect();
    let index = U256::from(t.message.sequence - first);
    let wallet = ctx.wallet_provider(src, signer.clone())?;
    let at = submit(
        ZeroBridge::new(src.bridge, &wallet).claimRefund(t.leg.lane, segment, index),
        "claiming the refund",
        src,
        &t.source,
        signer.address(),
        &t.source_token,
    )
    .await?;
    println!(
        "✓ refunded    {} to {} on {} in tx {} (block {})",
        t.source_token.show(t.message.amount),
        t.message.sender,
        src.name,
        at.hash,
        at.block
    );
    Ok(())
}

/// The "you can claim / cancel it yourself" lines for `track`, reading the route's fallback
/// delay on the destination.
pub(crate) async fn hints_for(t: &Transfer, ctx: &Context, facts: StuckFacts) -> Vec<String> {
    let mut facts = facts;
    let dst = &t.leg.destination;
    if let Ok(route) = ZeroBridge::new(dst.bridge, t.destination.clone()).getRoute(t.leg.route.route_id).call().await
        && route.fallbackSetHash != B256::ZERO
    {
        facts.fallback_delay = Some(u64::from(route.fallbackDelay));
    }
    let now = chain_now(&t.destination, dst).await.unwrap_or_else(|_| crate::format::unix_now());
    facts.age = now.saturating_sub(t.message.sentAt);
    stuck_hints(&facts, t.tx, &ctx.network_flag())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(clap::Subcommand)]
    enum Sub {
        Claim(ClaimArgs),
        Cancel(crate::cancel::CancelArgs),
    }

    fn claim_args(args: &[&str]) -> Result<ClaimArgs, clap::Error> {
        let mut argv = vec!["zb", "claim"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)?.command {
            Sub::Claim(args) => Ok(args),
            Sub::Cancel(_) => panic!("parsed as cancel"),
        }
    }

    #[test]
    fn a_transfer_is_named_by_its_tx_or_by_lane_and_sequence() {
        let tx = format!("{}", B256::repeat_byte(0xab));
        let lane = format!("{}", B256::repeat_byte(0x01));
        let args = claim_args(&[&tx]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(args.target.tx.as_deref(), Some(tx.as_str()));
        let args = claim_args(&["--lane", &lane, "--sequence", "7", "--private-key-env", "K"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((args.target.lane.as_deref(), args.target.sequence), (Some(lane.as_str()), Some(7)));
        assert_eq!(args.key.private_key_env.as_deref(), Some("K"));
        assert!(claim_args(&[]).is_err(), "something must name the transfer");
        assert!(claim_args(&["--lane", &lane]).is_err(), "--lane needs --sequence");
        assert!(claim_args(&["--sequence", "3"]).is_err(), "--sequence needs --lane");
        assert!(claim_args(&[&tx, "--lane", &lane, "--sequence", "1"]).is_err(), "not both");
        let parsed = Cli::try_parse_from(["zb", "cancel", &tx, "--network", "net.toml"]).map(|c| c.command);
        assert!(matches!(
            parsed,
            Ok(Sub::Cancel(crate::cancel::CancelArgs { network: NetworkArgs { network: Some(_) }, .. }))
        ));
    }

    #[test]
    fn signature_counts_read_plainly() {
        assert_eq!(
            signature_count_message(2, 4, 2000, 2667, 4000),
            "2 of 4 validators signed (50% of the set's weight, 66.6% needed)"
        );
        let gathered = Gathered {
            signed: 1,
            members: 4,
            weight: 1,
            threshold: 3,
            total: 4,
            asked: 4,
            answered: 1,
            ..Gathered::default()
        };
        assert_eq!(
            gathered.summary(),
            "1 of 4 validators signed (25% of the set's weight, 75% needed), 3 of 4 endpoints did not answer"
        );
    }

    fn message(sequence: u64, kind: MessageKind) -> Message {
        Message {
            sequence,
            kind: kind as u8,
            sender: Address::ZERO,
            recipient: Address::ZERO,
            amount: U256::ZERO,
            data: B256::ZERO,
            sentAt: 0,
            deadline: u64::MAX,
        }
    }

    #[test]
    fn batches_stop_at_a_set_update() {
        let plain: Vec<Message> = (3..=6).map(|s| message(s, MessageKind::Transfer)).collect();
        assert_eq!(next_batch_end(&plain, 6), 6);
        let mut with_update = plain.clone();
        with_update[1] = message(4, MessageKind::SetUpdate);
        assert_eq!(next_batch_end(&with_update, 6), 4, "the old set signs up to its update");
        with_update[1] = message(4, MessageKind::Transfer);
        with_update[3] = message(6, MessageKind::SetUpdate);
        assert_eq!(next_batch_end(&with_update, 6), 6, "a set update may end the batch");
    }

    #[test]
    fn refund_segments_run_between_recorded_accumulators() {
        assert_eq!(refund_segment(1, 3), (1, 3));
        assert_eq!(refund_segment(5, 40), (1, 16));
        assert_eq!(refund_segment(16, 40), (1, 16));
        assert_eq!(refund_segment(17, 40), (17, 32));
        assert_eq!(refund_segment(33, 40), (33, 40), "up to the lane head");
    }

    #[test]
    fn stuck_transfers_say_what_the_holder_can_do() {
        let tx = B256::repeat_byte(0xcd);
        let fresh = StuckFacts { age: 10, quorum: true, ..StuckFacts::default() };
        assert!(stuck_hints(&fresh, tx, "").is_empty(), "a relayer gets its minute");
        let late = StuckFacts { age: 90, quorum: true, ..StuckFacts::default() };
        let hints = stuck_hints(&late, tx, " --network n.toml");
        assert_eq!(hints.len(), 1);
        assert!(
            hints[0].ends_with(&format!("you can claim it yourself: zerobridge claim {tx} --network n.toml")),
            "{hints:?}"
        );
        let unsigned = StuckFacts { age: 90, ..StuckFacts::default() };
        assert!(stuck_hints(&unsigned, tx, "").is_empty(), "nothing to claim without signatures or a fallback");
        let due = StuckFacts { age: 120, fallback_delay: Some(120), ..StuckFacts::default() };
        assert!(stuck_hints(&due, tx, "")[0].contains("fallback delay"));
        let held = StuckFacts { age: 500, delivered: true, held: true, quorum: true, ..StuckFacts::default() };
        let hints = stuck_hints(&held, tx, "");
        assert_eq!(hints.len(), 1);
        assert!(hints[0].starts_with(&format!("you can cancel it: zerobridge cancel {tx}")));
        let frozen = StuckFacts { frozen: true, ..held };
        assert!(stuck_hints(&frozen, tx, "").is_empty(), "a frozen hold cannot be cancelled");
    }
}
