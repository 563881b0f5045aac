//! Watching a transfer's stages until it settles (or for one look), reporting them to a
//! `TransferView`.

use std::time::Duration;

use alloy::primitives::{Address, FixedBytes, U256};
use alloy::sol_types::SolError;
use eyre::{Result, bail, eyre};
use tokio::time::Instant;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::failure_reason;

use super::POLL;
use super::dest::TxAt;
use super::stages::{Progress, Transfer};
use super::view::TransferView;
use crate::context::Context;
use crate::format::{format_wait, one_line};

/// How long to watch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Watch {
    /// One look (`track` without `--follow`).
    Once,
    /// Until delivered (and released, unless `stop_when_held`), or the timeout.
    Follow { timeout: Duration, stop_when_held: bool },
}

/// Shows the stages until the transfer settles, or once.
pub(crate) async fn watch(
    t: &Transfer,
    ctx: &Context,
    mut progress: Progress,
    watch: Watch,
    view: &dyn TransferView,
) -> Result<()> {
    let started = Instant::now();
    let mut hold_deadline: Option<Instant> = None;
    let track_hint = format!("zerobridge track {} --follow{}", t.tx, ctx.network_flag());
    loop {
        let refreshed = progress.refresh(t, ctx).await;
        let views = progress.stages(t, ctx);
        view.stages(&views);
        if let Err(error) = &refreshed {
            match watch {
                Watch::Once => {
                    view.close(&views);
                    return Err(eyre!("{}", one_line(error)));
                }
                // A flaky RPC while following: keep trying until the deadline.
                Watch::Follow { .. } => tracing::debug!(%error, "refresh failed; retrying"),
            }
        }
        if let Some((at, recipient, amount)) = progress.dest.executed {
            view.close(&views);
            for line in summary(t, &progress, at, recipient, amount) {
                view.line(&line);
            }
            return Ok(());
        }
        if let Some((_, reason)) = progress.dest.failed {
            view.close(&views);
            let line = refund_explanation(t, reason, &ctx.network_flag());
            return match watch {
                Watch::Once => {
                    view.line(&line);
                    Ok(())
                }
                Watch::Follow { .. } => Err(eyre!(line)),
            };
        }
        match watch {
            Watch::Once => {
                view.close(&views);
                if progress.dest.waiting_on_hold() {
                    view.line(&hold_explanation(t, &progress));
                }
                show_stuck_hints(t, ctx, &progress, view).await;
                view.line(&format!("in progress: `{track_hint}` watches it until it arrives"));
                return Ok(());
            }
            Watch::Follow { timeout, stop_when_held } => {
                if progress.dest.waiting_on_hold() {
                    if stop_when_held {
                        view.close(&views);
                        view.line(&hold_explanation(t, &progress));
                        show_stuck_hints(t, ctx, &progress, view).await;
                        view.line(&format!("`{track_hint}` watches it until it is released"));
                        return Ok(());
                    }
                    if hold_deadline.is_none() {
                        let left = match (progress.dest.held_until, progress.dest_now) {
                            (Some(release_at), Some(now)) => release_at.saturating_sub(now),
                            _ => 0,
                        };
                        hold_deadline = Some(Instant::now() + Duration::from_secs(left) + timeout);
                    }
                }
                let deadline = hold_deadline.unwrap_or(started + timeout);
                if Instant::now() >= deadline {
                    view.close(&views);
                    show_stuck_hints(t, ctx, &progress, view).await;
                    let waited = format_wait(started.elapsed().as_secs());
                    let state = progress.summary(t, ctx);
                    let reason = refreshed.err().map(|e| format!("; last error: {}", one_line(&e))).unwrap_or_default();
                    bail!(
                        "not delivered after {waited} ({state}{reason}): the transfer is not lost, \
                         follow it with `{track_hint}`"
                    );
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// "You can claim / cancel it yourself" when the transfer is stuck (claim.rs decides).
async fn show_stuck_hints(t: &Transfer, ctx: &Context, progress: &Progress, view: &dyn TransferView) {
    let facts = crate::claim::StuckFacts {
        delivered: progress.delivered(t),
        quorum: progress.threshold_reached(ctx),
        held: progress.dest.waiting_on_hold(),
        frozen: progress.dest.frozen,
        ..crate::claim::StuckFacts::default()
    };
    for hint in crate::claim::hints_for(t, ctx, facts).await {
        view.line(&hint);
    }
}

fn hold_explanation(t: &Transfer, progress: &Progress) -> String {
    let when = match (progress.dest.held_until, progress.dest_now) {
        (Some(release_at), Some(now)) if release_at > now => {
            format!("in {}", format_wait(release_at - now))
        }
        (Some(_), Some(_)) => "now".to_string(),
        _ => "after the hold delay".to_string(),
    };
    format!(
        "held: this large transfer waits on {} and can be released {when}; releaseHold is permissionless: \
         anyone (you too) may call releaseHold({:#x}, {}) on the bridge {}",
        t.leg.destination.name, t.leg.lane, t.message.sequence, t.leg.destination.bridge
    )
}

pub(crate) fn refund_explanation(t: &Transfer, reason: FixedBytes<4>, network_flag: &str) -> String {
    let timed_out = if reason.0 == ZeroBridge::TransferTimedOut::SELECTOR {
        format!("timed out: refunded on {}: ", t.leg.source.name)
    } else {
        String::new()
    };
    format!(
        "{timed_out}the transfer was refused on {} ({}): it is not lost, {} travels back as a refund to {} on {} \
         (the fee is not refunded); once it is delivered there, anyone may claim it with claimRefund on the {} bridge \
         (within that lane's inbound limit; a large refund waits the hold delay, and none is paid while a lane is paused): \
         `zerobridge claim {}{network_flag}` delivers the refund if needed and claims it",
        t.leg.destination.name,
        failure_reason(reason),
        t.source_token.show(t.message.amount),
        t.message.sender,
        t.leg.source.name,
        t.leg.source.name,
        t.tx
    )
}

fn summary(t: &Transfer, progress: &Progress, at: TxAt, recipient: Address, amount: U256) -> [String; 3] {
    let fee = t
        .requested
        .filter(|requested| *requested >= amount)
        .map(|requested| format!(" (fee {})", t.source_token.show(requested - amount)))
        .unwrap_or_default();
    [
        format!(
            "source tx:        {} ({}, block {})",
            t.tx,
            t.leg.source.name,
            progress.source_block.unwrap_or(t.block)
        ),
        format!("destination tx:   {} ({}, block {})", at.hash, t.leg.destination.name, at.block),
        format!("received:         {} by {recipient}{fee}", t.destination_token.show(amount)),
    ]
}
