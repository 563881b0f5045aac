//! `zerobridge balance`: prints what `zb_ops::transfer::balance` read, chain by chain.

use eyre::{Result, bail};
use zb_ops::transfer::{BalanceArgs, balance};

pub async fn run(args: &BalanceArgs) -> Result<()> {
    let report = balance(args).await?;
    println!("{}", report.address);
    let mut failed = Vec::new();
    for chain in &report.chains {
        println!("{} (chain {})", chain.name, chain.chain_id);
        match &chain.balances {
            Ok(lines) => {
                for line in lines {
                    let (label, amount) = (&line.label, &line.amount);
                    match line.token {
                        Some(token) => println!("  {label:<10} {amount:<28} {token}"),
                        None => println!("  {label:<10} {amount}"),
                    }
                }
            }
            Err(e) => {
                println!("  unavailable: {e}");
                failed.push(chain.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("could not read the balances on {}: see above", failed.join(", "));
    }
    Ok(())
}
