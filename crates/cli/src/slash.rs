//! `zerobridge slash ...`: the clap tree of `zb_ops::slash` and the lines it prints.

use eyre::Result;
use zb_ops::format::{format_utc, format_wait};
use zb_ops::slash::{self, CollectArgs, SubmitArgs};

use crate::stake::Lines;

/// `zerobridge slash ...`
#[derive(Debug, clap::Subcommand)]
pub enum SlashCommand {
    /// Prove a fraudulent checkpoint signature and slash the signer's operator.
    ///
    /// The evidence file is a signed checkpoint as a validator's API serves it:
    /// {"chainId": 1, "lane": "0x..", "sequence": 7, "accumulator": "0x..", "signature": "0x.."}
    /// with a 65-byte (r, s, v) or 64-byte (EIP-2098) signature; chainId (the lane's source chain)
    /// and signer are optional. Honest checkpoints are refused before any gas is spent.
    Submit(SubmitArgs),
    /// Take what the per-period slashing cap deferred on earlier evidence.
    Collect(CollectArgs),
}

pub async fn run(command: SlashCommand) -> Result<()> {
    match command {
        SlashCommand::Submit(args) => {
            let done = slash::submit(&args, &Lines).await?;
            let (on, id, asset) = (&done.chain, done.evidence_id, &done.asset);
            println!("slashed on {on} in tx {} (block {})", done.tx.hash, done.tx.block);
            println!("  evidence id     {id}");
            println!("  operator        {} (jailed: it leaves every set at the next snapshot)", done.operator);
            println!("  slashed now     {}", asset.fmt(done.slashed));
            if done.still_owed.is_zero() {
                println!("  still owed      nothing");
            } else {
                println!(
                    "  still owed      {} (the per-period cap deferred it: `zerobridge slash collect {id} --chain {on}` \
                     later)",
                    asset.fmt(done.still_owed)
                );
            }
            println!(
                "  reporter share  {} to {}, claimable from {} (after the {} detection window: a forger reporting \
                 itself is found out meanwhile) with `zerobridge stake claim --chain {on}` using this key",
                asset.fmt(done.reporter_share),
                done.reporter,
                format_utc(done.unlocks_at),
                format_wait(done.detection_window)
            );
        }
        SlashCommand::Collect(args) => {
            let done = slash::collect(&args).await?;
            println!(
                "collected {} from operator {} on {} (tx {}); still owed {}",
                done.asset.fmt(done.slashed),
                done.operator,
                done.chain,
                done.tx.hash,
                if done.still_owed.is_zero() { "nothing".to_string() } else { done.asset.fmt(done.still_owed) }
            );
            if done.slashed.is_zero() {
                println!("nothing could be taken now: this period's slashing budget is spent; try again next period");
            }
        }
    }
    Ok(())
}
