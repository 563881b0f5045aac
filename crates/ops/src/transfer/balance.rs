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

/// What an address holds on every configured chain.
#[derive(Debug, Clone)]
pub struct Balances {
    pub address: Address,
    pub chains: Vec<ChainBalances>,
}

/// One chain's balances, or why they could not be read (one line).
#[derive(Debug, Clone)]
pub struct ChainBalances {
    pub name: String,
    pub chain_id: u64,
    pub balances: std::result::Result<Vec<Balance>, String>,
}

/// The native currency (`token` None) or one route token, its amount formatted in its decimals.
#[derive(Debug, Clone)]
pub struct Balance {
    pub label: String,
    pub amount: String,
    pub token: Option<Address>,
}

/// `zerobridge balance`: native and route-token balances on every configured chain.
pub async fn balance(args: &BalanceArgs) -> Result<Balances> {
    let ctx = Context::load(&args.network)?;
    let address = match &args.address {
        Some(text) => parse_address(text, "--address")?,
        None => match ctx.signer(&args.key, "holder")? {
            Some(signer) => signer.address(),
            None => bail!("whose balance? pass --address <address>, or a key with --private-key-env / --keystore"),
        },
    };
    let reads = ctx.network.chains.iter().map(|chain| chain_balances(&ctx, chain, address));
    let results = futures::future::join_all(reads).await;
    let chains = ctx
        .network
        .chains
        .iter()
        .zip(results)
        .map(|(chain, result)| ChainBalances {
            name: chain.name.clone(),
            chain_id: chain.chain_id,
            balances: result.map_err(|e| one_line(&e)),
        })
        .collect();
    Ok(Balances { address, chains })
}

/// The native currency and every route token of `chain`.
async fn chain_balances(ctx: &Context, chain: &ChainInfo, who: Address) -> Result<Vec<Balance>> {
    let provider = ctx.connect(chain).await?;
    let native = provider.get_balance(who).await.map_err(|e| eyre!("reading '{}': {}", chain.name, one_line(&e)))?;
    let mut lines = vec![Balance { label: "native".to_string(), amount: format_amount(native, 18), token: None }];
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
        lines.push(Balance {
            label: token.symbol.clone(),
            amount: format_amount(units, token.decimals),
            token: Some(address),
        });
    }
    Ok(lines)
}
