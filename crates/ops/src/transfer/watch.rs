//! Showing the stages on the terminal (indicatif spinners on a TTY) until the transfer settles.

use std::io::IsTerminal;
use std::time::Duration;

use alloy::primitives::{Address, FixedBytes, U256};
use alloy::sol_types::SolError;
use eyre::{Result, bail, eyre};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::failure_reason;

use super::POLL;
use super::dest::TxAt;
use super::stages::{Progress, StageView, Transfer};
use crate::context::Context;
use crate::format::{format_wait, one_line};

/// The stage lines. On a terminal, the stages still in progress are indicatif spinners below
/// the finished ones, which are printed as permanent lines (in stage order); elsewhere only
/// the permanent lines are printed.
pub(crate) struct Ui {
    tty: bool,
    multi: MultiProgress,
    bars: Vec<Option<ProgressBar>>,
    finished: Vec<bool>,
}

fn spinner_style() -> Option<ProgressStyle> {
    // wide_msg: cut to the terminal's width, so a long message never wraps and garbles redraws.
    ProgressStyle::with_template("{spinner} {wide_msg}").ok()
}

impl Ui {
    pub(crate) fn new() -> Ui {
        let tty = std::io::stdout().is_terminal();
        let target = if tty { ProgressDrawTarget::stdout() } else { ProgressDrawTarget::hidden() };
        Ui { tty, multi: MultiProgress::with_draw_target(target), bars: vec![None; 5], finished: vec![false; 5] }
    }

    fn spin(&mut self, index: usize, message: String) {
        if !self.tty {
            return;
        }
        let Some(slot) = self.bars.get_mut(index) else {
            return;
        };
        let bar = slot.get_or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            if let Some(style) = spinner_style() {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(message);
    }

    /// Prints a stage's permanent line and removes its spinner.
    fn settle(&mut self, index: usize, line: String) {
        if let Some(bar) = self.bars.get_mut(index).and_then(Option::take) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        if self.tty {
            if self.multi.println(&line).is_err() {
                println!("{line}");
            }
        } else {
            println!("{line}");
        }
        if let Some(done) = self.finished.get_mut(index) {
            *done = true;
        }
    }

    fn render(&mut self, views: &[StageView]) {
        // A stage is printed for good only once every stage before it is.
        let mut blocked = false;
        for (index, view) in views.iter().enumerate() {
            if self.finished.get(index).copied().unwrap_or(true) {
                continue;
            }
            let number = index + 1;
            match view {
                StageView::Hidden => {}
                StageView::Waiting(message) => {
                    blocked = true;
                    self.spin(index, format!("{number}. {message}"));
                }
                StageView::Done(message) | StageView::Failed(message) => {
                    let mark = if matches!(view, StageView::Done(_)) { "✓" } else { "✗" };
                    let line = format!("{mark} {number}. {message}");
                    if blocked {
                        self.spin(index, line);
                    } else {
                        self.settle(index, line);
                    }
                }
            }
        }
    }

    /// Prints the stages still in progress as they stand ("…" lines) and removes every spinner.
    fn abandon(&mut self, views: &[StageView]) {
        for (index, view) in views.iter().enumerate() {
            if self.finished.get(index).copied().unwrap_or(true) {
                continue;
            }
            let number = index + 1;
            match view {
                StageView::Hidden => {}
                StageView::Waiting(message) => self.settle(index, format!("… {number}. {message}")),
                StageView::Done(message) => self.settle(index, format!("✓ {number}. {message}")),
                StageView::Failed(message) => self.settle(index, format!("✗ {number}. {message}")),
            }
        }
    }

    /// A spinner for one step before the transfer (approval, mining); returns a finisher.
    pub(crate) fn step(&self, message: String) -> Step {
        if !self.tty {
            return Step { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
        if let Some(style) = spinner_style() {
            bar.set_style(style);
        }
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        Step { bar: Some(bar) }
    }
}

pub(crate) struct Step {
    bar: Option<ProgressBar>,
}

impl Step {
    pub(crate) fn done(self, line: String) {
        self.clear();
        println!("{line}");
    }

    pub(crate) fn clear(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// How long to watch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Watch {
    /// One look (`track` without `--follow`).
    Once,
    /// Until delivered (and released, unless `stop_when_held`), or the timeout.
    Follow { timeout: Duration, stop_when_held: bool },
}

/// Shows the stages until the transfer settles, or once.
pub(crate) async fn watch(t: &Transfer, ctx: &Context, mut progress: Progress, watch: Watch) -> Result<()> {
    let mut ui = Ui::new();
    let started = Instant::now();
    let mut hold_deadline: Option<Instant> = None;
    let track_hint = format!("zerobridge track {} --follow{}", t.tx, ctx.network_flag());
    loop {
        let refreshed = progress.refresh(t, ctx).await;
        let views = progress.stages(t, ctx);
        ui.render(&views);
        if let Err(error) = &refreshed {
            match watch {
                Watch::Once => {
                    ui.abandon(&views);
                    return Err(eyre!("{}", one_line(error)));
                }
                // A flaky RPC while following: keep trying until the deadline.
                Watch::Follow { .. } => tracing::debug!(%error, "refresh failed; retrying"),
            }
        }
        if let Some((at, recipient, amount)) = progress.dest.executed {
            ui.abandon(&views);
            print_summary(t, &progress, at, recipient, amount);
            return Ok(());
        }
        if let Some((_, reason)) = progress.dest.failed {
            ui.abandon(&views);
            let line = refund_explanation(t, reason, &ctx.network_flag());
            return match watch {
                Watch::Once => {
                    println!("{line}");
                    Ok(())
                }
                Watch::Follow { .. } => Err(eyre!(line)),
            };
        }
        match watch {
            Watch::Once => {
                ui.abandon(&views);
                if progress.dest.waiting_on_hold() {
                    println!("{}", hold_explanation(t, &progress));
                }
                print_stuck_hints(t, ctx, &progress).await;
                println!("in progress: `{track_hint}` watches it until it arrives");
                return Ok(());
            }
            Watch::Follow { timeout, stop_when_held } => {
                if progress.dest.waiting_on_hold() {
                    if stop_when_held {
                        ui.abandon(&views);
                        println!("{}", hold_explanation(t, &progress));
                        print_stuck_hints(t, ctx, &progress).await;
                        println!("`{track_hint}` watches it until it is released");
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
                    ui.abandon(&views);
                    print_stuck_hints(t, ctx, &progress).await;
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
async fn print_stuck_hints(t: &Transfer, ctx: &Context, progress: &Progress) {
    let facts = crate::claim::StuckFacts {
        delivered: progress.delivered(t),
        quorum: progress.threshold_reached(ctx),
        held: progress.dest.waiting_on_hold(),
        frozen: progress.dest.frozen,
        ..crate::claim::StuckFacts::default()
    };
    for hint in crate::claim::hints_for(t, ctx, facts).await {
        println!("{hint}");
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

fn print_summary(t: &Transfer, progress: &Progress, at: TxAt, recipient: Address, amount: U256) {
    println!("source tx:        {} ({}, block {})", t.tx, t.leg.source.name, progress.source_block.unwrap_or(t.block));
    println!("destination tx:   {} ({}, block {})", at.hash, t.leg.destination.name, at.block);
    let fee = t
        .requested
        .filter(|requested| *requested >= amount)
        .map(|requested| format!(" (fee {})", t.source_token.show(requested - amount)))
        .unwrap_or_default();
    println!("received:         {} by {recipient}{fee}", t.destination_token.show(amount));
}
