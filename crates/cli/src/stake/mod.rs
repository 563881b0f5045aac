//! `zerobridge stake ...`: the clap tree of the stake workflows (`zb_ops::stake`) and the lines
//! they print.

mod status;

use eyre::Result;
use zb_ops::progress::Progress;
use zb_ops::stake::{
    self, CommitArgs, DepositArgs, LaneChange, NextSnapshot, OperatorArgs, OptInArgs, OptOutArgs, RegisterArgs,
    Registration, SetChange, StatusArgs, UnbondArgs, when,
};

/// `zerobridge stake ...`
#[derive(Debug, clap::Subcommand)]
pub enum StakeCommand {
    /// Register as an operator with the key your validator signs checkpoints with (it signs a
    /// proof of possession: pass the validator's keystore as --signer-keystore).
    Register(RegisterArgs),
    /// Bond stake (the chain's native coin, or its staking token); --signer-keystore (or
    /// --signer-key-env) registers first.
    Deposit(DepositArgs),
    /// Allocate stake to an outbound lane of this chain (counts from the next snapshot).
    OptIn(OptInArgs),
    /// Withdraw your allocation from a lane (from the next snapshot on).
    OptOut(OptOutArgs),
    /// Start unbonding stake: it leaves every lane at the next snapshot, withdrawable after the
    /// unbonding period, except what still backs a validator set (until that set expires plus
    /// the detection window).
    Unbond(UnbondArgs),
    /// Pay out unbonding stake once the unbonding period is over and no unexpired set needs it.
    Withdraw(OperatorArgs),
    /// Claim validator rewards (in lane tokens) and your reporter payouts from slashes (each
    /// evidence's share unlocks one detection window after its proof).
    Claim(OperatorArgs),
    /// Commit a lane's next snapshot: its validator set for the coming epoch (anyone may).
    Commit(CommitArgs),
    /// Operators (stake, unbonding, owed, jailed, lanes, rewards) and lane snapshots.
    Status(StatusArgs),
}

/// Prints each step of a workflow as it happens, one line each.
pub(crate) struct Lines;

impl Progress for Lines {
    fn step(&self, line: &str) {
        println!("{line}");
    }

    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }
}

pub async fn run(command: StakeCommand) -> Result<()> {
    match command {
        StakeCommand::Register(args) => match stake::register(&args).await? {
            Registration::Already { operator, signer, chain } => {
                println!("{operator} is already registered on {chain} with signer {signer}");
            }
            Registration::Registered { operator, signer, chain, tx } => {
                println!("{}", stake::registered_text(operator, signer, &chain, &tx));
                println!("next: bond stake with `zerobridge stake deposit --chain {chain} --amount X`");
            }
        },
        StakeCommand::Deposit(args) => {
            let done = stake::deposit(&args, &Lines).await?;
            println!(
                "deposited {} on {} ({}): active stake {}",
                done.asset.fmt(done.amount),
                done.chain,
                done.tx.note(),
                done.asset.fmt(done.active)
            );
            println!(
                "next: allocate it to a lane with `zerobridge stake opt-in --chain {} --route SYMBOL` (or --lane 0x...)",
                done.chain
            );
        }
        StakeCommand::OptIn(args) => {
            let change = stake::opt_in(&args).await?;
            let amount = change.allocated.as_deref().unwrap_or_default();
            println!("opted in to lane {} with {amount} on {} ({})", change.label, change.chain, change.tx.note());
            println!("{}", next_snapshot(&change, "counts"));
        }
        StakeCommand::OptOut(args) => {
            let change = stake::opt_out(&args).await?;
            println!("opted out of lane {} on {} ({})", change.label, change.chain, change.tx.note());
            println!("{}", next_snapshot(&change, "takes effect"));
            println!(
                "until the set update that removes you is delivered, your validator still signs for the lane and \
                 stays liable; your weight in the sets already committed stays locked until they expire plus the \
                 detection window (`zerobridge stake status` shows until when)"
            );
        }
        StakeCommand::Unbond(args) => {
            let done = stake::unbond(&args).await?;
            let asset = &done.asset;
            println!(
                "unbonding {} on {} ({}): active {}, unbonding {}, withdrawable {} at the earliest",
                asset.fmt(done.amount),
                done.chain,
                done.tx.note(),
                asset.fmt(done.active),
                asset.fmt(done.unbonding),
                when(done.withdrawable_at, done.now)
            );
            if done.restarted {
                println!("note: the unbonding period restarted for all {} unbonding", asset.fmt(done.unbonding));
            }
            println!(
                "it stops counting for your lanes at their next snapshots and stays slashable until withdrawn \
                 (`zerobridge stake withdraw --chain {}`)",
                done.chain
            );
            if let Some(lock) = &done.lock {
                println!("{lock}");
            }
        }
        StakeCommand::Withdraw(args) => {
            let done = stake::withdraw(&args).await?;
            let asset = &done.asset;
            println!("withdrew {} to {} on {} ({})", asset.fmt(done.paid), done.operator, done.chain, done.tx.note());
            if let Some((unbonding, lock)) = &done.remaining {
                println!("{} stays unbonding: {lock}; withdraw it then", asset.fmt(*unbonding));
            }
        }
        StakeCommand::Claim(args) => {
            let done = stake::claim(&args, &Lines).await?;
            if done.forger {
                println!(
                    "no reporter payout: {} is, or signs for, an operator proven to forge on {}: its shares go to \
                     the lanes' compensation pools",
                    done.account, done.chain
                );
            }
            for (payout, unlocks_at) in &done.locked {
                println!(
                    "the reporter payout of {} for evidence {} unlocks {}: claim it then",
                    done.asset.fmt(payout.owed),
                    payout.evidence,
                    when(*unlocks_at, done.now)
                );
            }
        }
        StakeCommand::Commit(args) => {
            let done = stake::commit(&args).await?;
            println!(
                "committed epoch {} of lane {} on {} ({}): {} members, {} total, threshold {}, set {}",
                done.epoch,
                done.label,
                done.chain,
                done.tx.note(),
                done.members,
                done.asset.fmt(done.total_weight),
                done.asset.fmt(done.threshold),
                done.set_hash
            );
            println!(
                "{}",
                match done.outcome {
                    SetChange::Unchanged => "the set is unchanged",
                    SetChange::Installed => "installed on the bridge directly (the route is Pending)",
                    SetChange::Queued =>
                        "queued on the lane as a SET_UPDATE message: the current set signs it, and the destination \
                         switches when it is delivered",
                }
            );
        }
        StakeCommand::Status(args) => status::run(&args).await?,
    }
    Ok(())
}

/// When an allocation change reaches the lane's set.
fn next_snapshot(change: &LaneChange, verb: &str) -> String {
    let commit = format!("`zerobridge stake commit --chain {} --lane {}`", change.chain, change.lane);
    match change.next {
        NextSnapshot::Pending => {
            format!("{verb} from the next snapshot: the route is Pending, so it can be committed now with {commit}")
        }
        NextSnapshot::Epoch { epoch, starts, now } => format!(
            "{verb} from the next snapshot: epoch {epoch} starts {}; then anyone commits it with {commit}",
            when(starts, now)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::B256;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: StakeCommand,
    }

    fn parse(argv: &[&str]) -> std::result::Result<StakeCommand, String> {
        let mut full = vec!["stake"];
        full.extend(argv);
        Cli::try_parse_from(full).map(|c| c.command).map_err(|e| e.to_string())
    }

    #[test]
    fn opt_in_needs_a_lane_or_route_and_not_both() {
        assert!(parse(&["opt-in", "--chain", "ethereum", "--operator", "1"]).is_err());
        let lane = B256::repeat_byte(1).to_string();
        assert!(parse(&["opt-in", "--chain", "ethereum", "--route", "DEMO", "--lane", &lane]).is_err());
        match parse(&["opt-in", "--chain", "ethereum", "--route", "DEMO", "--operator", "2"]) {
            Ok(StakeCommand::OptIn(args)) => {
                assert_eq!(args.key.operator, Some(2));
                assert_eq!(args.lane.route.as_deref(), Some("DEMO"));
                assert!(args.amount.is_none());
            }
            other => panic!("{:?}", other.err()),
        }
        // --operator and an explicit key exclude each other.
        assert!(parse(&["withdraw", "--chain", "bsc", "--operator", "1", "--private-key-env", "K"]).is_err());
    }

    #[test]
    fn allocation_changes_say_when_the_set_sees_them() {
        let tx = zb_ops::stake::Tx { hash: B256::ZERO, block: 7 };
        let lane = B256::repeat_byte(2);
        let mut change = LaneChange {
            chain: "ethereum".into(),
            lane,
            label: lane.to_string(),
            allocated: None,
            tx,
            next: NextSnapshot::Pending,
        };
        let commit = format!("`zerobridge stake commit --chain ethereum --lane {lane}`");
        assert_eq!(
            next_snapshot(&change, "counts"),
            format!("counts from the next snapshot: the route is Pending, so it can be committed now with {commit}")
        );
        change.next = NextSnapshot::Epoch { epoch: 3, starts: 1_000, now: 1_000 };
        assert_eq!(
            next_snapshot(&change, "takes effect"),
            format!("takes effect from the next snapshot: epoch 3 starts now; then anyone commits it with {commit}")
        );
    }

    /// The command-line half of zb-ops' `a_signing_key_and_signer_must_agree`.
    #[test]
    fn a_signing_key_and_signer_must_agree() {
        assert!(
            parse(&["register", "--chain", "ethereum", "--signer-keystore", "k.json", "--signer-key-env", "K"])
                .is_err()
        );
        match parse(&["deposit", "--chain", "bsc", "--amount", "1", "--signer-key-env", "K", "--operator", "0"]) {
            Ok(StakeCommand::Deposit(args)) => {
                assert_eq!(args.operator.signing.signer_key_env.as_deref(), Some("K"))
            }
            other => panic!("{:?}", other.err()),
        }
    }
}
