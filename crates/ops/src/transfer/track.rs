//! `zerobridge track`: finding an earlier send among the configured chains.

use std::time::Duration;

use alloy::consensus::Transaction as _;
use alloy::primitives::{B256, TxHash};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolEvent};
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;

use super::TrackArgs;
use super::stages::{Progress, Transfer};
use super::token::leg_tokens;
use super::view::TransferView;
use super::watch::{Watch, watch};
use crate::context::Context;
use crate::format::{one_line, parse_tx_hash};
use crate::network::{ChainInfo, Leg, Network};

// ------------------------------------------------------------------------------------ track

/// `zerobridge track <tx>`: finds the send among the configured chains and shows its stages.
pub async fn track(args: &TrackArgs, view: &dyn TransferView) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let tx = parse_tx_hash(&args.tx)?;
    let transfer = load_transfer(&ctx, tx).await?;
    for line in transfer.heading() {
        view.line(&line);
    }
    let mode = if args.follow {
        Watch::Follow { timeout: Duration::from_secs(args.timeout), stop_when_held: false }
    } else {
        Watch::Once
    };
    watch(&transfer, &ctx, Progress::new(transfer.block, None), mode, view).await
}

/// Finds the send `tx` among the configured chains, reads its `MessageSent`, the tokens on both
/// sides and the amount asked for, and prints one line about it (`track`, `claim`, `cancel`).
pub(crate) async fn load_transfer(ctx: &Context, tx: TxHash) -> Result<Transfer> {
    if ctx.network.chains.is_empty() {
        bail!("the network has no chains: add [[chains]] to the network file");
    }

    // Look on every configured chain at once.
    let lookups = ctx.network.chains.iter().map(|chain| async move {
        let provider = ctx.connect(chain).await?;
        let receipt = provider
            .get_transaction_receipt(tx)
            .await
            .map_err(|e| eyre!("reading '{}': {}", chain.name, one_line(&e)))?;
        let pending = match receipt {
            Some(_) => false,
            None => provider.get_transaction_by_hash(tx).await.ok().flatten().is_some(),
        };
        Ok::<_, eyre::Report>((chain.clone(), provider, receipt, pending))
    });
    let results = futures::future::join_all(lookups).await;
    let mut unreachable = Vec::new();
    let mut found = None;
    for result in results {
        match result {
            Ok((chain, provider, Some(receipt), _)) => found = Some((chain, provider, receipt)),
            Ok((chain, _, None, true)) => {
                bail!("transaction {tx} is still pending on '{}': run this again once it is mined", chain.name)
            }
            Ok(_) => {}
            Err(e) => unreachable.push(one_line(&e)),
        }
    }
    let Some((chain, source, receipt)) = found else {
        let names: Vec<_> = ctx.network.chains.iter().map(|c| c.name.clone()).collect();
        if !unreachable.is_empty() {
            bail!(
                "transaction {tx} is not on any reachable chain ({}), and {}",
                names.join(", "),
                unreachable.join("; ")
            );
        }
        bail!(
            "transaction {tx} is on none of the configured chains ({}): check the hash and --network",
            names.join(", ")
        );
    };
    if receipt.logs().is_empty() && !receipt.status() {
        bail!("transaction {tx} reverted on '{}': nothing was sent", chain.name);
    }

    let sent: Vec<_> = receipt
        .logs()
        .iter()
        .filter(|l| l.inner.address == chain.bridge)
        .filter_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
        .collect();
    let Some(event) = sent.first() else {
        bail!(
            "transaction {tx} on '{}' is not a zerobridge send: it emitted no MessageSent from the bridge {}",
            chain.name,
            chain.bridge
        );
    };
    let leg = leg_for_lane(&ctx.network, &chain, event.data.lane).ok_or_else(|| {
        eyre!(
            "transaction {tx} sent on lane {:#x}, which is not a route of the network file: add the route to follow it",
            event.data.lane
        )
    })?;
    let destination = ctx.connect(&leg.destination).await?;
    let (source_token, destination_token) = leg_tokens(&leg, &source, &destination).await?;
    // The amount asked for is in the transaction's input (the event carries it net of the fee).
    let requested = source
        .get_transaction_by_hash(tx)
        .await
        .ok()
        .flatten()
        .and_then(|t| ZeroBridge::sendCall::abi_decode(t.input()).ok())
        .filter(|call| call.laneId == leg.lane)
        .map(|call| call.amount);
    let block = receipt.block_number.ok_or_else(|| eyre!("the receipt of {tx} has no block number"))?;
    let message = event.data.message.clone();
    Ok(Transfer { leg, source, destination, tx, block, message, requested, source_token, destination_token })
}

/// The leg whose source is `chain` and whose lane is `lane`.
pub(crate) fn leg_for_lane(network: &Network, chain: &ChainInfo, lane: B256) -> Option<Leg> {
    network.routes.iter().find_map(|route| {
        let other = if route.home == chain.name {
            &route.remote
        } else if route.remote == chain.name {
            &route.home
        } else {
            return None;
        };
        network
            .leg(&chain.name, other, &route.home_token.to_string())
            .ok()
            .filter(|leg| leg.lane == lane && leg.route.route_id == route.route_id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::fixtures::network;

    #[test]
    fn lanes_map_back_to_legs() {
        let net = network();
        let Ok(out) = net.leg("ethereum", "bsc", "DEMO") else { panic!("leg") };
        let Ok(back) = net.leg("bsc", "ethereum", "DEMO") else { panic!("leg") };
        assert_eq!(leg_for_lane(&net, &net.chains[0], out.lane).map(|l| l.lane), Some(out.lane));
        assert_eq!(leg_for_lane(&net, &net.chains[1], back.lane).map(|l| l.destination.name), Some("ethereum".into()));
        assert_eq!(leg_for_lane(&net, &net.chains[1], out.lane), None, "the lane leaves from ethereum, not bsc");
    }
}
