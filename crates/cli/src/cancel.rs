//! `zerobridge cancel`: prints the hold `zb_ops::cancel` cancelled and the refund it starts.

use eyre::Result;
use zb_ops::cancel::cancel;
use zb_ops::claim::HolderArgs;

pub async fn run(args: &HolderArgs) -> Result<()> {
    let c = cancel(args).await?;
    for line in &c.transfer {
        println!("{line}");
    }
    println!("✓ cancelled   the hold on {} in tx {} (block {})", c.destination, c.tx, c.block);
    println!(
        "{} travels back to {} on {} as a refund (the fee is not refunded): the validators sign it and a relayer \
         delivers it, then `{}` pays it out; the same command also delivers it if no relayer does",
        c.refund, c.sender, c.source, c.claim_hint
    );
    Ok(())
}
