//! A mined transfer and what is known of it (finality, signatures, delivery), refreshed by polling, as five stages.

use alloy::primitives::{B256, TxHash, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{BlockNumberOrTag, Filter};
use eyre::{Result, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::failure_reason;
use zb_protocol::Message;

use super::dest::{DestEvent, DestStatus, TxAt, first_block_at};
use super::token::TokenMeta;
use super::validators::{SignCount, count_signatures};
use zb_chain::scan_logs;

use super::CLOCK_SKEW_MARGIN_SECS;
use crate::context::Context;
use crate::format::{format_utc, format_wait, one_line};
use crate::network::Leg;

// ------------------------------------------------------------------------------------ progress

/// A transfer that has been mined on its source chain.
pub(crate) struct Transfer {
    pub(crate) leg: Leg,
    pub(crate) source: DynProvider,
    pub(crate) destination: DynProvider,
    pub(crate) tx: TxHash,
    pub(crate) block: u64,
    pub(crate) message: Message,
    /// What the sender asked to send (the message carries it net of the fee).
    pub(crate) requested: Option<U256>,
    pub(crate) source_token: TokenMeta,
    pub(crate) destination_token: TokenMeta,
}

impl Transfer {
    /// What, from where to where and for whom ("5 DEMO from ethereum to bsc for 0x…"), and the
    /// deadline when it has one.
    pub(crate) fn heading(&self) -> Vec<String> {
        let message = &self.message;
        let mut lines = vec![format!(
            "{} from {} to {} for {} (lane {:#x}, sequence {})",
            self.source_token.show(self.requested.unwrap_or(message.amount)),
            self.leg.source.name,
            self.leg.destination.name,
            message.recipient,
            self.leg.lane,
            message.sequence
        )];
        if message.deadline != u64::MAX {
            lines.push(format!("deadline: {} (refunded instead if it arrives later)", format_utc(message.deadline)));
        }
        lines
    }
}

/// What is known of a transfer, refreshed by polling.
pub(crate) struct Progress {
    source_head: u64,
    /// The source block of the send; None while it is out of the chain after a reorg.
    pub(super) source_block: Option<u64>,
    is_final: bool,
    signed: Option<SignCount>,
    delivered_sequence: u64,
    /// Where to start looking for the destination's events (None: not known yet).
    dest_scan_from: Option<u64>,
    dest_scanned_to: Option<u64>,
    pub(super) dest: DestStatus,
    /// The destination chain's latest block timestamp (for the hold countdown).
    pub(super) dest_now: Option<u64>,
}

impl Progress {
    pub(crate) fn new(block: u64, dest_scan_from: Option<u64>) -> Progress {
        Progress {
            source_head: block,
            source_block: Some(block),
            is_final: false,
            signed: None,
            delivered_sequence: 0,
            dest_scan_from,
            dest_scanned_to: None,
            dest: DestStatus::default(),
            dest_now: None,
        }
    }

    pub(super) fn delivered(&self, t: &Transfer) -> bool {
        self.delivered_sequence >= t.message.sequence || self.dest.delivered.is_some()
    }

    pub(super) async fn refresh(&mut self, t: &Transfer, ctx: &Context) -> Result<()> {
        let source_name = &t.leg.source.name;
        let destination_name = &t.leg.destination.name;
        self.source_head =
            t.source.get_block_number().await.map_err(|e| eyre!("reading '{source_name}': {}", one_line(&e)))?;
        if !self.is_final {
            let receipt = t
                .source
                .get_transaction_receipt(t.tx)
                .await
                .map_err(|e| eyre!("reading '{source_name}': {}", one_line(&e)))?;
            self.source_block = receipt.and_then(|r| r.block_number);
            self.is_final =
                self.source_block.is_some_and(|b| self.source_head >= b.saturating_add(t.leg.source.finality_depth));
        }
        let dest_bridge = ZeroBridge::new(t.leg.destination.bridge, t.destination.clone());
        let lane = dest_bridge
            .getLane(t.leg.lane)
            .call()
            .await
            .map_err(|e| eyre!("reading '{destination_name}': {}", one_line(&e)))?;
        self.delivered_sequence = lane.sequence;
        if self.delivered(t) {
            self.scan_destination(t).await?;
            if self.dest.waiting_on_hold() {
                let head = t
                    .destination
                    .get_block_by_number(BlockNumberOrTag::Latest)
                    .await
                    .map_err(|e| eyre!("reading '{destination_name}': {}", one_line(&e)))?;
                self.dest_now = head.map(|b| b.header.timestamp);
            }
        } else if self.is_final && !ctx.network.validators.is_empty() {
            self.signed = Some(
                count_signatures(&ctx.validator_http, &ctx.network.validators, t.leg.lane, t.message.sequence, &t.leg.source)
                    .await,
            );
        }
        Ok(())
    }

    async fn scan_destination(&mut self, t: &Transfer) -> Result<()> {
        let destination_name = &t.leg.destination.name;
        let latest = t
            .destination
            .get_block_number()
            .await
            .map_err(|e| eyre!("reading '{destination_name}': {}", one_line(&e)))?;
        let from = match (self.dest_scanned_to, self.dest_scan_from) {
            (Some(done), _) => done + 1,
            (None, Some(from)) => from,
            (None, None) => {
                // `track` of an old transfer: start where the destination's clock passed the send.
                let sent_at = t
                    .source
                    .get_block_by_number(BlockNumberOrTag::Number(t.block))
                    .await?
                    .map(|b| b.header.timestamp)
                    .unwrap_or(0);
                let from = first_block_at(&t.destination, sent_at.saturating_sub(CLOCK_SKEW_MARGIN_SECS))
                    .await
                    .map_err(|e| eyre!("searching '{destination_name}' for the delivery: {}", one_line(&e)))?;
                self.dest_scan_from = Some(from);
                from
            }
        };
        if from > latest {
            return Ok(());
        }
        let filter = Filter::new()
            .address(t.leg.destination.bridge)
            .topic1(t.leg.lane)
            .topic2(B256::from(U256::from(t.message.sequence)));
        let logs = scan_logs(&t.destination, &filter, from, latest)
            .await
            .map_err(|e| eyre!("searching '{destination_name}' for the delivery: {e}"))?;
        for log in logs {
            let (Some(hash), Some(block)) = (log.transaction_hash, log.block_number) else {
                continue;
            };
            if let Some(event) = DestEvent::decode(&log) {
                self.dest.apply(event, TxAt { hash, block });
            }
        }
        self.dest_scanned_to = Some(latest);
        Ok(())
    }

    pub(super) fn threshold_reached(&self, ctx: &Context) -> bool {
        match (self.signed, ctx.network.threshold) {
            (Some(count), Some(threshold)) => u64::try_from(count.signed).unwrap_or(u64::MAX) >= threshold,
            _ => false,
        }
    }

    pub(super) fn stages(&self, t: &Transfer, ctx: &Context) -> [StageView; 5] {
        let src = &t.leg.source.name;
        let dst = &t.leg.destination.name;
        let delivered = self.delivered(t);
        let submitted = StageView::Done(format!("submitted   {} on {src}", t.tx));

        let depth = t.leg.source.finality_depth;
        let finality = match self.source_block {
            _ if self.is_final || delivered => StageView::Done(format!(
                "final       on {src} at block {} ({depth} blocks on top)",
                self.source_block.unwrap_or(t.block)
            )),
            Some(block) => StageView::Waiting(format!(
                "finality    on {src}: block {block}, {} of {depth} blocks on top",
                self.source_head.saturating_sub(block).min(depth)
            )),
            None => StageView::Waiting(format!(
                "finality    the send left {src}'s chain in a reorg: waiting for it to be mined again"
            )),
        };

        let threshold = threshold_label(ctx.network.threshold);
        let signatures = match self.signed {
            // Delivered: a quorum signed, whatever our last count was.
            _ if delivered => StageView::Done(match (self.signed, ctx.network.threshold) {
                (Some(count), Some(threshold)) if u64::try_from(count.signed).is_ok_and(|n| n >= threshold) => {
                    format!(
                        "signed      {} of {} validators{threshold_text}",
                        count.signed,
                        count.total,
                        threshold_text = threshold_label(Some(threshold))
                    )
                }
                (_, Some(threshold)) => format!(
                    "signed      quorum reached ({threshold} of {} validators needed; the checkpoint was delivered)",
                    ctx.network.validators.len()
                ),
                (_, None) => "signed      quorum reached (the checkpoint was delivered)".to_string(),
            }),
            Some(count) if self.threshold_reached(ctx) => {
                StageView::Done(format!("signed      {} of {} validators{threshold}", count.signed, count.total))
            }
            Some(count) => StageView::Waiting(format!(
                "signatures  {} of {} validators{threshold}{}",
                count.signed,
                count.total,
                if count.answered < count.total {
                    format!(" ({} not answering)", count.total - count.answered)
                } else {
                    String::new()
                }
            )),
            None if !self.is_final => {
                StageView::Waiting("signatures  validators sign once the send is final".to_string())
            }
            None if ctx.network.validators.is_empty() => {
                StageView::Waiting("signatures  no validator endpoints configured: waiting for delivery".to_string())
            }
            None => StageView::Waiting("signatures  asking the validators".to_string()),
        };

        let delivery = if let Some((at, reason)) = self.dest.failed.filter(|_| self.dest.held_until.is_none()) {
            StageView::Failed(format!("refused     on {dst} in tx {} ({})", at.hash, failure_reason(reason)))
        } else if let Some(at) = self.dest.delivered {
            StageView::Done(format!("delivered   on {dst} in tx {} (block {})", at.hash, at.block))
        } else if delivered {
            StageView::Waiting(format!("delivery    delivered on {dst}: looking for the transaction"))
        } else if self.threshold_reached(ctx) {
            StageView::Waiting(format!("delivery    waiting for a relayer to deliver to {dst}"))
        } else {
            StageView::Waiting(format!("delivery    to {dst}, after the signatures"))
        };

        let hold = match self.dest.held_until {
            None => StageView::Hidden,
            Some(_) if self.dest.hold_cancelled => {
                StageView::Failed("held        and cancelled by its sender: refunded on the source".to_string())
            }
            Some(_) if self.dest.hold_refunded => {
                StageView::Failed("held        and refunded by governance instead of released".to_string())
            }
            Some(_) if self.dest.released.is_some() => StageView::Done(format!(
                "released    on {dst} in tx {}",
                self.dest.released.map(|r| r.hash).unwrap_or_default()
            )),
            Some(_) if self.dest.frozen => StageView::Waiting(format!(
                "held        and frozen by {dst}'s guardians: governance releases or refunds it"
            )),
            Some(release_at) => {
                let left = self.dest_now.map(|now| release_at.saturating_sub(now));
                StageView::Waiting(match left {
                    Some(0) => format!(
                        "held        releasable now: anyone may call releaseHold({:#x}, {}) on {dst}'s bridge {} \
                         (permissionless)",
                        t.leg.lane, t.message.sequence, t.leg.destination.bridge
                    ),
                    Some(left) => format!(
                        "held        large transfer, until {} ({} left); then anyone may release it: \
                         releaseHold is permissionless",
                        format_utc(release_at),
                        format_wait(left)
                    ),
                    None => format!("held        large transfer, until {}", format_utc(release_at)),
                })
            }
        };
        [submitted, finality, signatures, delivery, hold]
    }

    /// One line on where the transfer stands, for the timeout message.
    pub(super) fn summary(&self, t: &Transfer, ctx: &Context) -> String {
        if self.dest.waiting_on_hold() {
            return format!("held on {}", t.leg.destination.name);
        }
        if self.delivered(t) {
            return format!("delivered on {}", t.leg.destination.name);
        }
        if !self.is_final {
            return format!("not yet final on {}", t.leg.source.name);
        }
        match self.signed {
            Some(count) => format!(
                "signed by {} of {} validators{}",
                count.signed,
                count.total,
                ctx.network.threshold.map(|t| format!(", threshold {t}")).unwrap_or_default()
            ),
            None => "waiting for signatures".to_string(),
        }
    }
}

fn threshold_label(threshold: Option<u64>) -> String {
    threshold.map(|t| format!(", threshold {t}")).unwrap_or_default()
}

/// One of a transfer's five stages as it stands, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageView {
    /// Not part of this transfer (the hold stage of a small transfer).
    Hidden,
    /// Not reached yet: what it waits on.
    Waiting(String),
    Done(String),
    Failed(String),
}
