//! The refund of a transfer refused on its destination: the REFUND message delivered back to the
//! source, then `claimRefund` there.

use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::{Message, MessageKind};

use super::deliver::{ClaimKind, Lane, PreparedClaim, send_prepared};
use super::messages::sent_messages;
use super::{read_err, refund_segment};
use crate::context::Context;
use crate::transfer::{Transfer, TransferView, TxAt, leg_for_lane};

/// The refund of a transfer refused on its destination (in transaction `failed`): delivers the
/// REFUND message to the source if it is still on its way, then claims the refund there.
pub(super) async fn claim_refund(
    ctx: &Context,
    t: &Transfer,
    failed: TxAt,
    signer: &PrivateKeySigner,
    again: &str,
    view: &dyn TransferView,
) -> Result<()> {
    while let Some(prepared) = prepare_refund(ctx, t, failed, again, view).await? {
        match prepared.kind {
            ClaimKind::Delivery => {
                let reader = if prepared.chain.chain_id == t.leg.source.chain_id { &t.source } else { &t.destination };
                let at = send_prepared(ctx, &prepared, signer, reader, &t.source_token).await?;
                view.line(&super::deliver::delivered_line(&prepared, &at, signer));
            }
            ClaimKind::Refund => {
                let at = send_prepared(ctx, &prepared, signer, &t.source, &t.source_token).await?;
                view.line(&format!(
                    "✓ refunded    {} to {} on {} in tx {} (block {})",
                    prepared.range, t.message.sender, t.leg.source.name, at.hash, at.block
                ));
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The next transaction of the refund of a transfer refused on its destination (in transaction
/// `failed`): the REFUND message's delivery to the source while it is on its way, then
/// `claimRefund` there; `None` once it was claimed.
pub(super) async fn prepare_refund(
    ctx: &Context,
    t: &Transfer,
    failed: TxAt,
    again: &str,
    view: &dyn TransferView,
) -> Result<Option<PreparedClaim>> {
    let (src, dst) = (&t.leg.source, &t.leg.destination);
    let hash = zb_protocol::message_hash(&t.message);
    let source_bridge = ZeroBridge::new(src.bridge, t.source.clone());
    let status =
        source_bridge.refunds(t.leg.lane, hash).call().await.map(|r| r.status).map_err(|e| read_err(src, &e))?;
    if status == 0 {
        // The REFUND was appended to the reverse lane in the transaction that refused the transfer.
        let receipt =
            t.destination.get_transaction_receipt(failed.hash).await.map_err(|e| read_err(dst, &e))?.ok_or_else(
                || eyre!("the RPC of '{}' has no receipt for {}: use another RPC", dst.name, failed.hash),
            )?;
        let refund = receipt
            .logs()
            .iter()
            .filter(|l| l.inner.address == dst.bridge)
            .filter_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
            .find(|e| {
                MessageKind::from_u8(e.data.message.kind) == Some(MessageKind::Refund) && e.data.message.data == hash
            })
            .ok_or_else(|| eyre!("transaction {} on '{}' sent no REFUND for this transfer", failed.hash, dst.name))?;
        let reverse = leg_for_lane(&ctx.network, dst, refund.data.lane).ok_or_else(|| {
            eyre!("the refund travels on lane {:#x}, which the network file does not know", refund.data.lane)
        })?;
        let lane = Lane {
            ctx,
            leg: &reverse,
            source: &t.destination,
            destination: &t.source,
            token: &t.source_token,
            again: again.to_string(),
            view,
        };
        if let Some(prepared) = lane.prepare_batch(refund.data.message.sequence, failed.block, &mut None).await? {
            view.line(&format!(
                "the refund travels back on lane {:#x} as its message {}: delivering it to {} first",
                reverse.lane, refund.data.message.sequence, src.name
            ));
            return Ok(Some(prepared));
        }
        bail!("the refund is not approved on '{}' although its REFUND was delivered: {again}", src.name);
    }
    match status {
        1 => {}
        2 => {
            view.line(&format!(
                "the refund was already claimed: {} went back to {} on {}",
                t.source_token.show(t.message.amount),
                t.message.sender,
                src.name
            ));
            return Ok(None);
        }
        3 => bail!("governance cancelled this refund on '{}': nothing can claim it", src.name),
        _ => bail!("the refund is not approved on '{}' although its REFUND was delivered: {again}", src.name),
    }
    let head = source_bridge.getLane(t.leg.lane).call().await.map_err(|e| read_err(src, &e))?.sequence;
    let (first, last) = refund_segment(t.message.sequence, head);
    let latest = t.source.get_block_number().await.map_err(|e| read_err(src, &e))?;
    let segment: Vec<Message> =
        sent_messages(&t.source, &t.leg, first, last, latest).await?.into_iter().map(|(m, _)| m).collect();
    let call =
        ZeroBridge::claimRefundCall { laneId: t.leg.lane, segment, index: U256::from(t.message.sequence - first) };
    Ok(Some(PreparedClaim {
        kind: ClaimKind::Refund,
        chain: src.clone(),
        to: src.bridge,
        calldata: call.abi_encode().into(),
        what: "claiming the refund".to_string(),
        range: t.source_token.show(t.message.amount),
        by: String::new(),
    }))
}
