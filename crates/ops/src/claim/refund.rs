//! The refund of a transfer refused on its destination: the REFUND message delivered back to the
//! source, then `claimRefund` there.

use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::{Message, MessageKind};

use super::deliver::Lane;
use super::messages::sent_messages;
use super::{read_err, refund_segment, submit};
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
    let (src, dst) = (&t.leg.source, &t.leg.destination);
    let hash = zb_protocol::message_hash(&t.message);
    let source_bridge = ZeroBridge::new(src.bridge, t.source.clone());
    let refund_status = || async {
        source_bridge.refunds(t.leg.lane, hash).call().await.map(|r| r.status).map_err(|e| read_err(src, &e))
    };
    let mut status = refund_status().await?;
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
        view.line(&format!(
            "the refund travels back on lane {:#x} as its message {}: delivering it to {} first",
            reverse.lane, refund.data.message.sequence, src.name
        ));
        let lane = Lane {
            ctx,
            leg: &reverse,
            source: &t.destination,
            destination: &t.source,
            signer,
            token: &t.source_token,
            again: again.to_string(),
            view,
        };
        lane.deliver_up_to(refund.data.message.sequence, failed.block).await?;
        status = refund_status().await?;
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
            return Ok(());
        }
        3 => bail!("governance cancelled this refund on '{}': nothing can claim it", src.name),
        _ => bail!("the refund is not approved on '{}' although its REFUND was delivered: {again}", src.name),
    }
    let head = source_bridge.getLane(t.leg.lane).call().await.map_err(|e| read_err(src, &e))?.sequence;
    let (first, last) = refund_segment(t.message.sequence, head);
    let latest = t.source.get_block_number().await.map_err(|e| read_err(src, &e))?;
    let segment: Vec<Message> =
        sent_messages(&t.source, &t.leg, first, last, latest).await?.into_iter().map(|(m, _)| m).collect();
    let index = U256::from(t.message.sequence - first);
    let wallet = ctx.wallet_provider(src, signer.clone())?;
    let at = submit(
        ZeroBridge::new(src.bridge, &wallet).claimRefund(t.leg.lane, segment, index),
        "claiming the refund",
        src,
        &t.source,
        signer.address(),
        &t.source_token,
    )
    .await?;
    view.line(&format!(
        "✓ refunded    {} to {} on {} in tx {} (block {})",
        t.source_token.show(t.message.amount),
        t.message.sender,
        src.name,
        at.hash,
        at.block
    ));
    Ok(())
}
