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

mod deliver;
mod messages;
mod refund;
mod rules;
mod signatures;

use alloy::primitives::{B256, TxHash, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{BlockNumberOrTag, Filter};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;

use crate::context::{Context, KeyArgs, NetworkArgs};
use crate::format::{one_line, parse_tx_hash};
use crate::network::ChainInfo;
use zb_chain::scan_logs;

use crate::transfer::{
    DestEvent, DestStatus, Transfer, TransferView, TxAt, Watch, first_block_at, leg_for_lane, load_transfer, watch,
};

use deliver::Lane;
pub(crate) use deliver::submit;
pub use deliver::{ClaimKind, PreparedClaim};
pub(crate) use messages::{known_sets, set_for};
use refund::{claim_refund, prepare_refund};
pub use rules::{StuckFacts, next_batch_end, refund_segment, signature_count_message, stuck_hints};

/// `claimRefund` proves a message against the accumulators the source records every this many.
pub const ACCUMULATOR_RECORD_INTERVAL: u64 = 16;
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

/// Which transfer, on which network, and the key that pays: the arguments of `zerobridge claim`
/// and `zerobridge cancel`.
#[derive(Debug, Clone, clap::Args)]
pub struct HolderArgs {
    #[command(flatten)]
    pub target: TransferRef,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

// ------------------------------------------------------------------------------------ chain reads

pub(crate) fn read_err(chain: &ChainInfo, e: &dyn std::fmt::Display) -> eyre::Report {
    eyre!("reading '{}': {}", chain.name, one_line(e))
}

pub(super) async fn chain_now(provider: &DynProvider, chain: &ChainInfo) -> Result<u64> {
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
pub async fn claim(args: &HolderArgs, view: &dyn TransferView) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let t = resolve(&ctx, &args.target).await?;
    for line in t.heading() {
        view.line(&line);
    }
    let again = again_command(&ctx, &t);
    if delivered(&t).await? {
        view.line(&format!("already delivered to {}: nothing to deliver", t.leg.destination.name));
    } else {
        let signer = signer_of(&ctx, &args.key, "claim")?;
        forward_lane(&ctx, &t, again.clone(), view).deliver_up_to(&signer, t.message.sequence, t.block).await?;
    }
    // The stages as `track` shows them (the summary, or the refusal and how the refund comes).
    watch(&t, &ctx, crate::transfer::Progress::new(t.block, None), Watch::Once, view).await?;
    let status = destination_status(&t).await?;
    match status.failed {
        Some((at, _)) => claim_refund(&ctx, &t, at, &signer_of(&ctx, &args.key, "claim")?, &again, view).await,
        None => Ok(()),
    }
}

/// The next transaction of `zerobridge claim` for the transfer sent in `tx`, prepared but not
/// sent (for the REST API: the holder's wallet sends it): a delivery of the lane's messages up to
/// the transfer, or, when its destination refused it, the REFUND's delivery back or `claimRefund`.
/// `None` when there is nothing left to claim. Errors are the CLI's.
pub async fn prepare_claim(ctx: &Context, tx: TxHash, view: &dyn TransferView) -> Result<Option<PreparedClaim>> {
    let t = load_transfer(ctx, tx).await?;
    let again = again_command(ctx, &t);
    if !delivered(&t).await? {
        let mut sets = None;
        return forward_lane(ctx, &t, again, view).prepare_batch(t.message.sequence, t.block, &mut sets).await;
    }
    match destination_status(&t).await?.failed {
        Some((at, _)) => prepare_refund(ctx, &t, at, &again, view).await,
        None => Ok(None),
    }
}

fn again_command(ctx: &Context, t: &Transfer) -> String {
    format!("run `zerobridge claim {}{}` again then", t.tx, ctx.network_flag())
}

/// Whether the destination's inbound lane has reached the transfer.
async fn delivered(t: &Transfer) -> Result<bool> {
    let inbound = ZeroBridge::new(t.leg.destination.bridge, t.destination.clone())
        .getLane(t.leg.lane)
        .call()
        .await
        .map_err(|e| read_err(&t.leg.destination, &e))?;
    Ok(inbound.sequence >= t.message.sequence)
}

fn forward_lane<'a>(ctx: &'a Context, t: &'a Transfer, again: String, view: &'a dyn TransferView) -> Lane<'a> {
    Lane { ctx, leg: &t.leg, source: &t.source, destination: &t.destination, token: &t.destination_token, again, view }
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
        Claim(HolderArgs),
        Cancel(HolderArgs),
    }

    fn claim_args(args: &[&str]) -> Result<HolderArgs, clap::Error> {
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
        assert!(matches!(parsed, Ok(Sub::Cancel(HolderArgs { network: NetworkArgs { network: Some(_) }, .. }))));
    }
}
