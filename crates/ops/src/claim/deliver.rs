//! Delivering a lane's undelivered messages from the holder's key, batch by batch.

use std::collections::HashMap;

use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::{self, RevertContext};
use zb_protocol::{Accumulator, Checkpoint, Message, PackedSignature};

use super::messages::{known_sets, sent_messages, set_for};
use super::signatures::{Gathered, gather};
use super::{chain_now, next_batch_end, read_err};
use crate::context::Context;
use crate::explain::fallback_due_text;
use crate::format::format_utc;
use crate::network::{ChainInfo, Leg};
use crate::transfer::{
    GAS_HEADROOM_PERCENT, TokenMeta, TransferView, TxAt, check_gas_funds, explain_contract_error, wait_receipt,
};

/// Gas when the node cannot estimate (the simulation passed).
const FALLBACK_GAS: u64 = 1_500_000;

/// The chains of one lane, for delivering its messages.
pub(super) struct Lane<'a> {
    pub(super) ctx: &'a Context,
    pub(super) leg: &'a Leg,
    pub(super) source: &'a DynProvider,
    pub(super) destination: &'a DynProvider,
    pub(super) token: &'a TokenMeta,
    /// The command to run again, for hints.
    pub(super) again: String,
    pub(super) view: &'a dyn TransferView,
}

/// What a prepared claim transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// `deliver` or `deliverByFallback` of a batch of the lane's messages.
    Delivery,
    /// `claimRefund` on the source of a transfer refused on its destination.
    Refund,
}

/// One claim transaction, checked and ready for anyone to send (the holder pays the gas): the
/// validators' signatures gathered and checked against the recomputed accumulator and the set
/// the destination checks. Nothing was sent.
#[derive(Debug, Clone)]
pub struct PreparedClaim {
    pub kind: ClaimKind,
    /// The chain to send it on.
    pub chain: ChainInfo,
    /// Its bridge.
    pub to: Address,
    pub calldata: Bytes,
    /// What it does, in the CLI's words ("delivering sequence 3 by the fallback validators").
    pub what: String,
    /// The sequences it delivers ("sequence 3", "sequences 2-3"), or the refund's amount.
    pub range: String,
    /// Who signed: "" (the primary validators) or " by the fallback validators".
    pub by: String,
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
    /// `target_block`), batch by batch, from `signer`. Returns the deliveries made (none if it
    /// was delivered).
    pub(super) async fn deliver_up_to(
        &self,
        signer: &PrivateKeySigner,
        target: u64,
        target_block: u64,
    ) -> Result<Vec<TxAt>> {
        let mut sets = None;
        let mut done = Vec::new();
        while let Some(prepared) = self.prepare_batch(target, target_block, &mut sets).await? {
            done.push(self.submit_delivery(&prepared, signer).await?);
        }
        Ok(done)
    }

    /// The next delivery toward `target` (sent in source block `target_block`): the next batch,
    /// signed and checked, or `None` once the destination has it. `sets` caches the lane's
    /// validator sets between batches.
    pub(super) async fn prepare_batch(
        &self,
        target: u64,
        target_block: u64,
        sets: &mut Option<HashMap<B256, Bytes>>,
    ) -> Result<Option<PreparedClaim>> {
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
        {
            let inbound = inbound_bridge.getLane(leg.lane).call().await.map_err(|e| read_err(&leg.destination, &e))?;
            let delivered = inbound.sequence;
            if delivered >= target {
                return Ok(None);
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
                *sets = Some(known_sets(leg, self.source, self.destination).await?);
            }
            let known = sets.as_ref().ok_or_else(|| eyre!("validator sets not loaded"))?;
            let (set, set_bytes) = set_for(known, inbound.validatorSetHash, "validator", dst)?;
            let now = chain_now(self.destination, &leg.destination).await?;
            self.view.begin(&format!("asking {} validators to sign sequence {end}", self.ctx.network.validators.len()));
            let primary = if set.expired_at(now) {
                Gathered {
                    members: set.members.len(),
                    threshold: set.threshold,
                    total: set.members.iter().map(|m| m.weight).sum(),
                    ..Gathered::default()
                }
            } else {
                gather(&self.ctx.validator_http, &self.ctx.network.validators, &set, &checkpoint, &leg.source).await
            };
            let range = if end > delivered + 1 {
                format!("sequences {}-{end}", delivered + 1)
            } else {
                format!("sequence {end}")
            };
            if primary.quorum {
                self.view.end(Some(&format!("✓ signed      {}", primary.summary())));
                let call = ZeroBridge::deliverCall {
                    checkpoint,
                    validatorSet: set_bytes,
                    signatures: Bytes::from(PackedSignature::pack(&primary.signatures)),
                    messages: batch,
                };
                return Ok(Some(self.prepared(call.abi_encode(), range, "")));
            }
            self.view.end(None);
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
            self.view.begin(&format!(
                "asking {} fallback validators to sign sequence {end}",
                self.ctx.network.fallback_validators.len()
            ));
            let fallback = gather(
                &self.ctx.validator_http,
                &self.ctx.network.fallback_validators,
                &fallback_set,
                &checkpoint,
                &leg.source,
            )
            .await;
            if !fallback.quorum {
                self.view.end(None);
                bail!(
                    "primary: {primary_text}; fallback: {}: not enough to deliver; {}",
                    fallback.summary(),
                    self.again
                );
            }
            self.view.end(Some(&format!(
                "✓ signed      by the fallback validators: {} (primary: {primary_text})",
                fallback.summary()
            )));
            let call = ZeroBridge::deliverByFallbackCall {
                checkpoint,
                fallbackSet: fallback_bytes,
                signatures: Bytes::from(PackedSignature::pack(&fallback.signatures)),
                messages: batch,
            };
            Ok(Some(self.prepared(call.abi_encode(), range, " by the fallback validators")))
        }
    }

    fn prepared(&self, calldata: Vec<u8>, range: String, by: &str) -> PreparedClaim {
        PreparedClaim {
            kind: ClaimKind::Delivery,
            chain: self.leg.destination.clone(),
            to: self.leg.destination.bridge,
            calldata: calldata.into(),
            what: format!("delivering {range}{by}"),
            range,
            by: by.to_string(),
        }
    }

    /// Sends a prepared delivery from the holder's key and says where it landed.
    async fn submit_delivery(&self, prepared: &PreparedClaim, signer: &PrivateKeySigner) -> Result<TxAt> {
        let at = send_prepared(self.ctx, prepared, signer, self.destination, self.token).await?;
        self.view.line(&delivered_line(prepared, &at, signer));
        Ok(at)
    }
}

/// Sends a prepared claim transaction from `signer` on its chain (`reader` reads that chain):
/// simulated, estimated and funded first, as every holder transaction.
/// "✓ delivered   sequence 3 on bsc in tx 0x… (block 12), gas paid by 0x…".
pub(super) fn delivered_line(prepared: &PreparedClaim, at: &TxAt, signer: &PrivateKeySigner) -> String {
    format!(
        "✓ delivered   {} on {}{} in tx {} (block {}), gas paid by {}",
        prepared.range,
        prepared.chain.name,
        prepared.by,
        at.hash,
        at.block,
        signer.address()
    )
}

pub(super) async fn send_prepared(
    ctx: &Context,
    prepared: &PreparedClaim,
    signer: &PrivateKeySigner,
    reader: &DynProvider,
    token: &TokenMeta,
) -> Result<TxAt> {
    let wallet = ctx.wallet_provider(&prepared.chain, signer.clone())?;
    let call = alloy::contract::CallBuilder::new_raw(&wallet, prepared.calldata.clone()).to(prepared.to);
    submit(call, &prepared.what, &prepared.chain, reader, signer.address(), token).await
}
