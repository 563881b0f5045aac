//! `zerobridge balance`: native and route-token balances on every configured chain.

use alloy::primitives::Address;
use alloy::providers::Provider;
use eyre::{Result, bail, eyre};

use super::token::{configured_symbol, token_meta};
use super::{BalanceArgs, IERC20Token};
use crate::context::Context;
use crate::format::{format_amount, one_line, parse_address};
use crate::network::ChainInfo;

// ------------------------------------------------------------------------------------ balance

/// `zerobridge balance`: native and route-token balances on every configured chain.
pub async fn balance(args: &BalanceArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let address = match &args.address {
        Some(text) => parse_address(text, "--address")?,
        None => match ctx.signer(&args.key, "holder")? {
            Some(signer) => signer.address(),
            None => bail!("whose balance? pass --address <address>, or a key with --private-key-env / --keystore"),
        },
    };
    println!("{address}");
    let reads = ctx.network.chains.iter().map(|chain| chain_balances(&ctx, chain, address));
    let results = futures::future::join_all(reads).await;
    let mut failed = Vec::new();
    for (chain, result) in ctx.network.chains.iter().zip(results) {
        println!("{} (chain {})", chain.name, chain.chain_id);
        match result {
            Ok(lines) => {
                for (label, amount, token) in lines {
                    match token {
                        Some(token) => println!("  {label:<10} {amount:<28} {token}"),
                        None => println!("  {label:<10} {amount}"),
                    }
                }
            }
            Err(e) => {
                println!("  unavailable: {}", one_line(&e));
                failed.push(chain.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("could not read the balances on {}: see above", failed.join(", "));
    }
    Ok(())
}

/// (label, formatted amount, token address) for the native currency and every route token.
async fn chain_balances(
    ctx: &Context,
    chain: &ChainInfo,
    who: Address,
) -> Result<Vec<(String, String, Option<Address>)>> {
    let provider = ctx.connect(chain).await?;
    let native = provider.get_balance(who).await.map_err(|e| eyre!("reading '{}': {}", chain.name, one_line(&e)))?;
    let mut lines = vec![("native".to_string(), format_amount(native, 18), None)];
    for route in &ctx.network.routes {
        let (address, is_home) = if route.home == chain.name {
            (route.home_token, true)
        } else if route.remote == chain.name {
            (route.wrapped_token, false)
        } else {
            continue;
        };
        let token = token_meta(&provider, chain, address, &configured_symbol(&route.symbol, is_home)).await?;
        let units = IERC20Token::new(address, provider.clone())
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| eyre!("reading the {} balance on '{}': {}", token.symbol, chain.name, one_line(&e)))?;
        lines.push((token.symbol.clone(), format_amount(units, token.decimals), Some(address)));
    }
    Ok(lines)
}
