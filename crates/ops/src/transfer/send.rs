//! `zerobridge send`: offline checks, the chain preflight, approval, the send and its receipt.

use std::time::Duration;

use alloy::primitives::{Address, TxHash, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::RevertContext;
use zb_protocol::Message;

use super::stages::{Progress, Transfer};
use super::token::{TokenMeta, explain_contract_error, leg_tokens, rate_limit_message, seconds_until_available};
use super::view::TransferView;
use super::watch::{Watch, watch};
use super::{FALLBACK_SEND_GAS, GAS_HEADROOM_PERCENT, IERC20Token, SendArgs};
use crate::context::{Context, RECEIPT_TIMEOUT};
use crate::format::{format_amount, format_wait, one_line, parse_address, parse_amount, unix_now};
use crate::network::{ChainInfo, Leg, Network};

// ------------------------------------------------------------------------------------ send

/// The checks `send` makes before any transaction, in a form tests can reach without a chain.
fn offline_checks(network: &Network, args: &SendArgs) -> Result<Leg> {
    let leg = network.leg(&args.from, &args.to, &args.token)?;
    // The definitive parse uses decimals() read on chain; this catches what is wrong whatever the
    // decimals (negative, not a number, zero) and typos against the configured decimals early.
    parse_amount(&args.amount, leg.route.decimals)?;
    if let Some(recipient) = &args.recipient {
        let address = parse_address(recipient, "--recipient")?;
        if address.is_zero() {
            bail!("--recipient is the zero address: tokens sent there are lost; pass the real recipient");
        }
    }
    Ok(leg)
}

/// `zerobridge send`: checks everything, approves if needed, sends and shows the progress.
pub async fn send(args: &SendArgs, view: &dyn TransferView) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let leg = offline_checks(&ctx.network, args)?;
    let Some(signer) = ctx.signer(&args.key, "holder")? else {
        bail!("no sending key: pass --private-key-env VAR (a variable holding the hex key) or --keystore FILE");
    };
    let sender = signer.address();
    let recipient = match &args.recipient {
        Some(text) => parse_address(text, "--recipient")?,
        None => sender,
    };

    // One after the other, so the error names the source first when neither answers.
    let source = ctx.connect(&leg.source).await?;
    let destination = ctx.connect(&leg.destination).await?;
    let is_home = leg.route.home == leg.source.name;
    let (source_token, destination_token) = leg_tokens(&leg, &source, &destination).await?;
    if source_token.decimals != leg.route.decimals {
        view.line(&format!(
            "note: the network file says {} has {} decimals, the token on {} has {}: using {}",
            leg.route.symbol, leg.route.decimals, leg.source.name, source_token.decimals, source_token.decimals
        ));
    }
    let amount = parse_amount(&args.amount, source_token.decimals)?;
    let revert_ctx =
        RevertContext { source: &leg.source.name, destination: &leg.destination.name, sender, words: &source_token };

    preflight(&leg, &source, &destination, &source_token, sender, amount).await?;

    view.line(&format!(
        "sending {} from {} to {} for {recipient} (lane {:#x})",
        source_token.show(amount),
        leg.source.name,
        leg.destination.name,
        leg.lane
    ));
    let wallet = ctx.wallet_provider(&leg.source, signer)?;
    let bridge = ZeroBridge::new(leg.source.bridge, wallet.clone());

    // Home chain: the bridge takes the tokens with transferFrom, so it needs an allowance.
    // Remote chain: the bridge burns directly, no approval.
    if is_home {
        let token = IERC20Token::new(leg.source_token, wallet.clone());
        let allowance = token
            .allowance(sender, leg.source.bridge)
            .call()
            .await
            .map_err(|e| eyre!("cannot read the allowance on '{}': {}", leg.source.name, one_line(&e)))?;
        if allowance < amount {
            view.begin(&format!("approving the bridge on {} to take {}", leg.source.name, source_token.show(amount)));
            match approve(&wallet, &token, leg.source.bridge, amount, &revert_ctx).await {
                Ok(hash) => view.end(Some(&format!(
                    "✓ approved the bridge on {} for {} (tx {hash})",
                    leg.source.name,
                    source_token.show(amount)
                ))),
                Err(e) => {
                    view.end(None);
                    return Err(e);
                }
            }
        }
    }

    // 0 asks the bridge for the route's default timeout.
    let deadline = match args.deadline {
        Some(seconds) => unix_now().saturating_add(seconds.max(1)),
        None => 0,
    };
    // Simulate first: a refusal is explained before anything is spent.
    let call = bridge.send(leg.lane, recipient, amount, deadline).from(sender);
    call.call().await.map_err(|e| eyre!(explain_contract_error(&e, &revert_ctx)))?;
    let gas = match call.estimate_gas().await {
        Ok(estimate) => estimate.saturating_mul(GAS_HEADROOM_PERCENT) / 100,
        Err(e) if e.as_revert_data().is_some() => bail!(explain_contract_error(&e, &revert_ctx)),
        Err(_) => FALLBACK_SEND_GAS,
    };
    check_gas_funds(&source, &leg.source, sender, gas).await?;

    let dest_from = destination
        .get_block_number()
        .await
        .map_err(|e| eyre!("reading '{}': {}", leg.destination.name, one_line(&e)))?;
    let pending = call.gas(gas).send().await.map_err(|e| eyre!(explain_contract_error(&e, &revert_ctx)))?;
    let tx = *pending.tx_hash();
    view.begin(&format!("submitted {tx} on {}: waiting for it to be mined", leg.source.name));
    let receipt = wait_receipt(&source, tx, &leg.source.name).await;
    view.end(None);
    let receipt = receipt?;
    if !receipt.status() {
        let block = receipt.block_number.unwrap_or_default();
        let reason = match bridge
            .send(leg.lane, recipient, amount, deadline)
            .from(sender)
            .block(block.saturating_sub(1).into())
            .call()
            .await
        {
            Err(e) => format!(": {}", explain_contract_error(&e, &revert_ctx)),
            Ok(_) => String::new(),
        };
        bail!("the send transaction {tx} reverted on '{}' in block {block}; nothing was sent{reason}", leg.source.name);
    }
    let (block, message) = message_sent(&receipt, &leg)?.ok_or_else(|| {
        eyre!("the send transaction {tx} on '{}' emitted no MessageSent for this lane", leg.source.name)
    })?;
    let transfer = Transfer {
        leg,
        source,
        destination,
        tx,
        block,
        message,
        requested: Some(amount),
        source_token,
        destination_token,
    };
    let progress = Progress::new(block, Some(dest_from));
    let mode = Watch::Follow { timeout: Duration::from_secs(args.timeout), stop_when_held: true };
    watch(&transfer, &ctx, progress, mode, view).await
}

/// Everything the chain can tell before sending: route status, limits, balance, gas money.
async fn preflight(
    leg: &Leg,
    source: &DynProvider,
    destination: &DynProvider,
    token: &TokenMeta,
    sender: Address,
    amount: U256,
) -> Result<()> {
    let src = &leg.source.name;
    let dst = &leg.destination.name;
    let route = format!("the {} route {src} -> {dst}", leg.route.symbol);
    let source_bridge = ZeroBridge::new(leg.source.bridge, source.clone());
    let dest_bridge = ZeroBridge::new(leg.destination.bridge, destination.clone());
    let read = |chain: &str, e: &dyn std::fmt::Display| {
        eyre!("cannot read the bridge on '{chain}' ({}): check `bridge` for '{chain}' in the network file", one_line(e))
    };

    let outbound = source_bridge.getLane(leg.lane).call().await.map_err(|e| read(src, &e))?;
    if outbound.direction != 1 {
        bail!(
            "the bridge on '{src}' ({}) does not send on {route}: the route is not registered there, \
             check the route and bridge addresses in the network file",
            leg.source.bridge
        );
    }
    // Exit-only (3): only the way home stays open. The home chain takes no new sends; the remote
    // chain still burns toward home.
    match outbound.status {
        2 => {}
        3 | 4 if !outbound.isHome => {}
        1 => bail!("{route} is not active yet (registered, waiting for activation): try again once it is activated"),
        3 => bail!(
            "{route} is exit-only on '{src}': it takes no new sends there; only the way home stays open (holders of \
             wrapped {} on '{dst}' can still send them back)",
            leg.route.symbol
        ),
        4 => bail!(
            "{route} is in Emergency on '{src}': its validators failed, so it takes no new sends there; holders of \
             wrapped {} on '{dst}' can still send them back (see `zerobridge route status`)",
            leg.route.symbol
        ),
        other => bail!("{route} has an unknown status {other} on '{src}'"),
    }
    if source_bridge.paused().call().await.map_err(|e| read(src, &e))? {
        bail!("the bridge on '{src}' is paused by its guardians (every route): try again once it is unpaused");
    }
    if outbound.paused {
        bail!("{route} is paused by its guardians: try again once it is unpaused");
    }
    let inbound = dest_bridge.getLane(leg.lane).call().await.map_err(|e| read(dst, &e))?;
    if inbound.direction != 2 {
        bail!(
            "the bridge on '{dst}' ({}) does not receive on {route}: the route is not registered there, \
             check the network file",
            leg.destination.bridge
        );
    }
    if inbound.status == 1 {
        bail!("{route} is not active on '{dst}' yet: a transfer would wait there until it is; try again later");
    }
    if dest_bridge.paused().call().await.map_err(|e| read(dst, &e))? || inbound.paused {
        bail!(
            "delivery to '{dst}' is paused by its guardians: a transfer would wait until it is unpaused; try again later"
        );
    }

    let maximum = U256::from(outbound.maxAmount);
    let minimum = U256::from(outbound.minAmount);
    if amount > maximum {
        bail!(
            "amount {} is above the route's maximum of {} per transfer: send at most {} (split larger amounts)",
            token.show(amount),
            token.show(maximum),
            token.show(maximum)
        );
    }
    if amount < minimum {
        bail!(
            "amount {} is below the route's minimum of {}: send at least {}",
            token.show(amount),
            token.show(minimum),
            token.show(minimum)
        );
    }
    let available = source_bridge.availableCapacity(leg.lane).call().await.map_err(|e| read(src, &e))?;
    if amount > available {
        let seconds = seconds_until_available(U256::from(outbound.capacity), available, amount);
        bail!(rate_limit_message(amount, available, seconds, token.decimals, &token.symbol));
    }

    let balance = IERC20Token::new(token.address, source.clone())
        .balanceOf(sender)
        .call()
        .await
        .map_err(|e| eyre!("cannot read the {} balance on '{src}': {}", token.symbol, one_line(&e)))?;
    if balance < amount {
        bail!(
            "insufficient {} on '{src}': {sender} has {} available, the transfer needs {}",
            token.symbol,
            token.show(balance),
            token.show(amount)
        );
    }
    let native = source
        .get_balance(sender)
        .await
        .map_err(|e| eyre!("cannot read the native balance on '{src}': {}", one_line(&e)))?;
    if native.is_zero() {
        bail!("{sender} has no native currency on '{src}' to pay the gas: fund it first");
    }
    Ok(())
}

pub(crate) async fn check_gas_funds(
    provider: &DynProvider,
    chain: &ChainInfo,
    sender: Address,
    gas: u64,
) -> Result<()> {
    let (Ok(price), Ok(native)) = (provider.get_gas_price().await, provider.get_balance(sender).await) else {
        return Ok(());
    };
    let cost = U256::from(price) * U256::from(gas);
    if native < cost {
        bail!(
            "{sender} has {} native currency on '{}' but the send may cost up to {} in gas: fund it first",
            format_amount(native, 18),
            chain.name,
            format_amount(cost, 18)
        );
    }
    Ok(())
}

async fn approve(
    wallet: &DynProvider,
    token: &IERC20Token::IERC20TokenInstance<DynProvider>,
    spender: Address,
    amount: U256,
    ctx: &RevertContext<'_>,
) -> Result<TxHash> {
    let call = token.approve(spender, amount).from(ctx.sender);
    call.call().await.map_err(|e| eyre!("approving the bridge failed: {}", explain_contract_error(&e, ctx)))?;
    let pending =
        call.send().await.map_err(|e| eyre!("approving the bridge failed: {}", explain_contract_error(&e, ctx)))?;
    let hash = *pending.tx_hash();
    let receipt = wait_receipt(wallet, hash, ctx.source).await?;
    if !receipt.status() {
        bail!("the approval {hash} reverted on '{}': the token refuses approvals from {}", ctx.source, ctx.sender);
    }
    Ok(hash)
}

/// The receipt of `hash` (zb-tx polling, up to `RECEIPT_TIMEOUT`), with the not-mined error worded for `chain`.
pub(crate) async fn wait_receipt(provider: &DynProvider, hash: TxHash, chain: &str) -> Result<TransactionReceipt> {
    zb_tx::wait_receipt(provider, hash, RECEIPT_TIMEOUT).await.map_err(|e| match e {
        zb_tx::TxError::NotMined { .. } => eyre!(
            "transaction {hash} was not mined on '{chain}' within {}: it may still be pending (gas price too low?); \
             look it up later",
            format_wait(RECEIPT_TIMEOUT.as_secs())
        ),
        other => eyre!("waiting for transaction {hash} on '{chain}': {other}"),
    })
}

/// The `MessageSent` of `leg`'s lane in a receipt, with the block.
fn message_sent(receipt: &TransactionReceipt, leg: &Leg) -> Result<Option<(u64, Message)>> {
    let block = receipt.block_number.ok_or_else(|| eyre!("the receipt has no block number"))?;
    Ok(receipt
        .logs()
        .iter()
        .filter(|l| l.inner.address == leg.source.bridge)
        .filter_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
        .find(|e| e.data.lane == leg.lane)
        .map(|e| (block, e.data.message.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{KeyArgs, NetworkArgs};
    use crate::transfer::fixtures::network;

    fn send_args(amount: &str) -> SendArgs {
        SendArgs {
            from: "ethereum".into(),
            to: "bsc".into(),
            token: "DEMO".into(),
            amount: amount.into(),
            recipient: None,
            timeout: 300,
            deadline: None,
            network: NetworkArgs::default(),
            key: KeyArgs::default(),
        }
    }

    fn error_of<T>(result: Result<T>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn offline_checks_explain_bad_input() {
        let net = network();
        assert!(offline_checks(&net, &send_args("1.5")).is_ok());
        assert!(error_of(offline_checks(&net, &send_args("-1"))).contains("negative"));
        assert!(error_of(offline_checks(&net, &send_args("1.1234567"))).contains("decimals"));
        let mut args = send_args("1");
        args.token = "NOPE".into();
        assert!(error_of(offline_checks(&net, &args)).contains("unknown token 'NOPE'"));
        args = send_args("1");
        args.to = "ethereum".into();
        assert!(error_of(offline_checks(&net, &args)).contains("same chain"));
        args = send_args("1");
        args.recipient = Some("0x12".into());
        assert!(error_of(offline_checks(&net, &args)).contains("not an address"));
        args.recipient = Some(Address::ZERO.to_string());
        assert!(error_of(offline_checks(&net, &args)).contains("zero address"));
    }
}
