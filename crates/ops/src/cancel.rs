//! `zerobridge cancel`: the sender of a held (large) transfer takes it back on the destination
//! (`cancelHold`); it is refunded on the source through the reverse lane, and `zerobridge claim`
//! delivers and claims that refund if no relayer does.

use alloy::primitives::{Address, TxHash};
use eyre::{Result, bail};
use zb_contracts::bridge::ZeroBridge;

use crate::claim::{HolderArgs, read_err, resolve, signer_of, submit};
use crate::context::Context;

/// A cancelled hold, and the refund it starts.
#[derive(Debug, Clone)]
pub struct Cancelled {
    /// What the transfer was (its amount, chains, recipient, lane and sequence).
    pub transfer: Vec<String>,
    /// The chain the transfer was held on.
    pub destination: String,
    /// The `cancelHold` transaction and its block.
    pub tx: TxHash,
    pub block: u64,
    /// The amount that travels back, with its symbol.
    pub refund: String,
    /// Who is refunded, on the `source` chain.
    pub sender: Address,
    pub source: String,
    /// The `zerobridge claim ...` command that pays the refund out.
    pub claim_hint: String,
}

/// `zerobridge cancel`: the sender takes back a held transfer; it is refunded on the source.
pub async fn cancel(args: &HolderArgs) -> Result<Cancelled> {
    let ctx = Context::load(&args.network)?;
    let t = resolve(&ctx, &args.target).await?;
    let signer = signer_of(&ctx, &args.key, "cancel")?;
    let dst = &t.leg.destination;
    let bridge = ZeroBridge::new(dst.bridge, t.destination.clone());
    let hold = bridge.getHold(t.leg.lane, t.message.sequence).call().await.map_err(|e| read_err(dst, &e))?;
    let claim_hint = format!("zerobridge claim {}{}", t.tx, ctx.network_flag());
    match hold.status {
        1 => {}
        0 => {
            let delivered = bridge.getLane(t.leg.lane).call().await.map_err(|e| read_err(dst, &e))?.sequence;
            if delivered < t.message.sequence {
                bail!(
                    "the transfer is not delivered to '{}' yet, so it is not held: only a held (large) transfer can be \
                     cancelled; see `zerobridge track {}`",
                    dst.name,
                    t.tx
                );
            }
            bail!(
                "the transfer is not held on '{}' (it was below the large-transfer threshold): nothing to cancel",
                dst.name
            );
        }
        2 => bail!(
            "the hold is frozen by the guardians of '{}': it cannot be cancelled; governance releases or refunds it",
            dst.name
        ),
        3 => bail!("the hold was already released on '{}': the transfer was paid out", dst.name),
        4 => bail!("governance already refunded this hold on '{}': `{claim_hint}` claims the refund", dst.name),
        _ => bail!("the hold is already cancelled on '{}': `{claim_hint}` claims the refund", dst.name),
    }
    if hold.sender != signer.address() {
        bail!(
            "only the transfer's sender {} may cancel it, not {}: pass the sender's key (--private-key-env or --keystore)",
            hold.sender,
            signer.address()
        );
    }
    let wallet = ctx.wallet_provider(dst, signer.clone())?;
    let at = submit(
        ZeroBridge::new(dst.bridge, &wallet).cancelHold(t.leg.lane, t.message.sequence),
        "cancelling the hold",
        dst,
        &t.destination,
        signer.address(),
        &t.destination_token,
    )
    .await?;
    Ok(Cancelled {
        transfer: t.heading(),
        destination: dst.name.clone(),
        tx: at.hash,
        block: at.block,
        refund: t.source_token.show(t.message.amount),
        sender: t.message.sender,
        source: t.leg.source.name.clone(),
        claim_hint,
    })
}
