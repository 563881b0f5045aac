//! `zerobridge guardian | regulator | compliance | gov`: the role holders' commands of
//! `zb_ops::governance`, and what they print.

use eyre::Result;
use zb_ops::governance::{
    self as ops, AccountArgs, AttestArgs, ChainArgs, GovStatusArgs, IdArgs, PauseArgs, ProposeArgs, VoteArgs,
};
use zb_ops::progress::Progress;

/// `zerobridge guardian ...`
#[derive(Debug, clap::Subcommand)]
pub enum GuardianCommand {
    /// Pause the whole bridge on a chain, or one lane (--lane) or both lanes of a route (--route).
    Pause(PauseArgs),
    /// Not a guardian power: prints the committee proposal that unpauses.
    Unpause(PauseArgs),
    /// The bridge's paused flag and every known lane's.
    Status(ChainArgs),
}

/// `zerobridge regulator ...`
#[derive(Debug, clap::Subcommand)]
pub enum RegulatorCommand {
    /// Freeze an account on a chain's bridge (REGULATOR role).
    Freeze(AccountArgs),
    /// Unfreeze an account (REGULATOR role).
    Unfreeze(AccountArgs),
    /// Accounts currently frozen on a chain (from the bridge's logs), with their state.
    List(ChainArgs),
}

/// `zerobridge compliance ...`
#[derive(Debug, clap::Subcommand)]
pub enum ComplianceCommand {
    /// Attest an account until --expires (COMPLIANCE_ISSUER role).
    Attest(AttestArgs),
    /// End an account's attestation now (COMPLIANCE_ISSUER role).
    Revoke(AccountArgs),
}

/// `zerobridge gov ...`
#[derive(Debug, clap::Subcommand)]
pub enum GovCommand {
    /// Propose calls the committee makes if the proposal passes (members only).
    Propose(ProposeArgs),
    /// Vote on an active proposal (members only).
    Vote(VoteArgs),
    /// Start the timelock of a succeeded proposal (anyone).
    Queue(IdArgs),
    /// Execute a queued proposal once its timelock is over (anyone).
    Execute(IdArgs),
    /// Withdraw a proposal (its proposer).
    Cancel(IdArgs),
    /// A proposal's state, votes against the thresholds and eta; every proposal without an id.
    Status(GovStatusArgs),
}

/// Prints each step of a workflow on its own line as it happens.
pub struct PrintSteps;

impl Progress for PrintSteps {
    fn step(&self, line: &str) {
        println!("{line}");
    }
    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }
}

pub async fn guardian(command: GuardianCommand) -> Result<()> {
    match command {
        GuardianCommand::Pause(args) => ops::pause(&args, &PrintSteps).await,
        GuardianCommand::Unpause(args) => ops::unpause_hint(&args),
        GuardianCommand::Status(args) => {
            let flags = ops::guardian_status(&args).await?;
            println!("bridge on {}: {}", flags.chain, paused(flags.bridge_paused));
            for l in &flags.lanes {
                println!("  {} {} lane {}: {}", l.symbol, l.direction, l.lane, paused(l.paused));
            }
            Ok(())
        }
    }
}

fn paused(flag: bool) -> &'static str {
    if flag { "PAUSED" } else { "not paused" }
}

pub async fn regulator(command: RegulatorCommand) -> Result<()> {
    match command {
        RegulatorCommand::Freeze(args) => freeze(&args, true).await,
        RegulatorCommand::Unfreeze(args) => freeze(&args, false).await,
        RegulatorCommand::List(args) => {
            let list = ops::frozen_list(&args).await?;
            if list.accounts.is_empty() {
                println!("no frozen accounts on {}", list.chain);
            }
            for (account, frozen, attested_until) in &list.accounts {
                println!("{account} frozen={frozen} attestedUntil={attested_until}");
            }
            Ok(())
        }
    }
}

async fn freeze(args: &AccountArgs, on: bool) -> Result<()> {
    let sent = ops::freeze(args, on).await?;
    let verb = if on { "frozen" } else { "unfrozen" };
    println!("{} {verb} on {} (tx {})", args.account, sent.chain, sent.tx);
    Ok(())
}

pub async fn compliance(command: ComplianceCommand) -> Result<()> {
    match command {
        ComplianceCommand::Attest(args) => {
            let (sent, expires) = ops::attest(&args).await?;
            println!("{} attested on {} until {expires} (tx {})", args.account, sent.chain, sent.tx);
        }
        ComplianceCommand::Revoke(args) => {
            let sent = ops::revoke(&args).await?;
            println!("{}'s attestation revoked on {} (tx {})", args.account, sent.chain, sent.tx);
        }
    }
    Ok(())
}

pub async fn gov(command: GovCommand) -> Result<()> {
    match command {
        GovCommand::Propose(args) => {
            let (sent, id) = ops::propose(&args).await?;
            println!(
                "proposal {id} created on {} (tx {}): vote with `zerobridge gov vote {id} --yes`",
                sent.chain, sent.tx
            );
        }
        GovCommand::Vote(args) => {
            let done = ops::vote(&args).await?;
            println!(
                "{} voted {} on proposal {} (tx {}); it is now {}",
                done.sent.caller,
                if args.yes { "yes" } else { "no" },
                args.id,
                done.sent.tx,
                done.state
            );
        }
        GovCommand::Queue(args) => lifecycle(&args, "queue").await?,
        GovCommand::Execute(args) => lifecycle(&args, "execute").await?,
        GovCommand::Cancel(args) => lifecycle(&args, "cancel").await?,
        GovCommand::Status(args) => {
            let (chain, proposals) = ops::gov_status(&args).await?;
            if proposals.is_empty() {
                println!("no proposals on committee {} ({chain})", args.committee.committee);
            }
            for s in &proposals {
                let p = &s.proposal;
                println!(
                    "proposal {}: {} | for {} against {} of {} | participation {}/{} bps, approval {}/{} bps | vote end {} | eta {}",
                    s.id,
                    s.state,
                    p.forWeight,
                    p.againstWeight,
                    p.totalWeight,
                    s.participation,
                    p.participationBps,
                    s.approval,
                    p.approvalBps,
                    p.voteEnd,
                    if p.eta == 0 { "-".to_string() } else { p.eta.to_string() }
                );
            }
        }
    }
    Ok(())
}

async fn lifecycle(args: &IdArgs, what: &str) -> Result<()> {
    let done = ops::lifecycle(args, what).await?;
    let extra = if what == "queue" { format!(", eta {}", done.eta) } else { String::new() };
    println!("proposal {} {what}d on {} (tx {}): {}{extra}", args.id, done.sent.chain, done.sent.tx, done.state);
    Ok(())
}
