//! Whose key, which chain, which lane: the operator key (`--operator N` on the devnet), the
//! chain's stake manager, `--route` / `--lane` resolved to a lane of the chain, and the names the
//! network gives lanes.

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;

use super::args::{ChainArg, LaneArg, OperatorKey};
use super::manager::Staking;
use crate::context::{Conn, Context, load_signer};
use crate::network::ChainInfo;

/// The operator key: `--operator N` (devnet), `--private-key-env`, `--keystore`.
pub(super) fn operator_signer(key: &OperatorKey, ctx: &Context) -> Result<PrivateKeySigner> {
    if let Some(n) = key.operator {
        return devnet_operator(ctx, n);
    }
    // On the devnet the default key is the deployer's, never an operator's: make the choice explicit.
    if key.key.private_key_env.is_none()
        && key.key.keystore.is_none()
        && let Some(manifest) = &ctx.manifest
    {
        let count = manifest.accounts.iter().filter(|a| a.role.starts_with("operator-")).count();
        bail!(
            "which operator? pass --operator N (the devnet has operators 0 to {}) or --private-key-env VAR with the \
             operator's key",
            count.saturating_sub(1)
        );
    }
    load_signer(&key.key, ctx)
}

pub(super) fn devnet_operator(ctx: &Context, n: usize) -> Result<PrivateKeySigner> {
    let Some(manifest) = &ctx.manifest else {
        bail!("--operator N picks a devnet operator key: on real chains pass --private-key-env VAR or --keystore FILE");
    };
    let role = format!("operator-{n}");
    let account = manifest.account(&role).ok_or_else(|| {
        let count = manifest.accounts.iter().filter(|a| a.role.starts_with("operator-")).count();
        if count == 0 {
            eyre!("the devnet manifest has no operator accounts: restart the devnet (`zerobridge devnet up`)")
        } else {
            eyre!("the devnet has operators 0 to {}, not {n}: pass --operator 0..{}", count - 1, count - 1)
        }
    })?;
    PrivateKeySigner::from_bytes(&account.private_key).map_err(|e| eyre!("the devnet's {role} key is invalid ({e})"))
}

/// The devnet operator name of an address, for display.
pub(super) fn devnet_role(ctx: &Context, address: Address) -> Option<String> {
    ctx.manifest
        .as_ref()?
        .accounts
        .iter()
        .find(|a| a.address == address && a.role.starts_with("operator-"))
        .map(|a| a.role.clone())
}

/// The stake manager of the network's chain `chain` (name or id).
pub(crate) async fn open_on(ctx: &Context, chain: &str) -> Result<Staking> {
    let info = ctx.network.chain(chain)?.clone();
    Staking::open(&Conn::connect(&info).await?).await
}

pub(super) async fn open_chain(args: &ChainArg) -> Result<(Context, Staking)> {
    let ctx = Context::load(&args.network)?;
    let staking = open_on(&ctx, &args.chain).await?;
    Ok((ctx, staking))
}

/// [`open_chain`] for an operator command: the key is resolved first, so a wrong key choice is
/// refused before any chain is asked.
pub(super) async fn open_as(args: &ChainArg, key: &OperatorKey) -> Result<(Context, Staking, PrivateKeySigner)> {
    let ctx = Context::load(&args.network)?;
    let signer = operator_signer(key, &ctx)?;
    let staking = open_on(&ctx, &args.chain).await?;
    Ok((ctx, staking, signer))
}

/// An operator's lane command: its chain, key and lane (checked to be an outbound lane of the chain).
pub(super) struct OnLane {
    pub(super) ctx: Context,
    pub(super) staking: Staking,
    pub(super) signer: PrivateKeySigner,
    pub(super) lane: B256,
    pub(super) state: ZeroBridge::Lane,
}

/// [`open_as`], then `--route` / `--lane` resolved to an outbound lane of the chain.
pub(super) async fn open_lane(args: &ChainArg, key: &OperatorKey, lane: &LaneArg) -> Result<OnLane> {
    let (ctx, staking, signer) = open_as(args, key).await?;
    let lane = resolve_lane(&ctx, &staking.conn, lane).await?;
    let state = staking.outbound_lane(&ctx, lane).await?;
    Ok(OnLane { ctx, staking, signer, lane, state })
}

/// `--route` / `--lane` on `chain`: the lane whose source is `chain`.
pub(crate) async fn resolve_lane(ctx: &Context, conn: &Conn, arg: &LaneArg) -> Result<B256> {
    if let Some(lane) = arg.lane {
        return Ok(lane);
    }
    let Some(wanted) = arg.route.as_deref().map(str::trim) else {
        bail!("name the lane: --route SYMBOL or --lane 0x...");
    };
    let chain = &conn.info.name;
    let by_symbol = ctx
        .network
        .routes
        .iter()
        .find(|r| r.symbol.eq_ignore_ascii_case(wanted) || wanted.parse::<B256>().is_ok_and(|id| id == r.route_id));
    if let Some(route) = by_symbol {
        let other = if &route.home == chain {
            &route.remote
        } else if &route.remote == chain {
            &route.home
        } else {
            bail!(
                "route {} is between {} and {}, not on {chain}: pass --chain {} or --chain {}",
                route.symbol,
                route.home,
                route.remote,
                route.home,
                route.remote
            );
        };
        return Ok(ctx.network.leg(chain, other, &route.symbol)?.lane);
    }
    let Ok(route_id) = wanted.parse::<B256>() else {
        let known: Vec<&str> = ctx.network.routes.iter().map(|r| r.symbol.as_str()).collect();
        bail!(
            "no route '{wanted}' in the network (routes: {}): pass its symbol, its route id, or --lane",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        );
    };
    let route = conn.bridge().getRoute(route_id).call().await.map_err(|e| conn.read_err("the route", e))?;
    if route.outboundLane == B256::ZERO {
        bail!("route {route_id} is not open on {chain}: see `zerobridge route list`");
    }
    Ok(route.outboundLane)
}

/// "DEMO ethereum -> bsc" for a lane the network knows.
pub(crate) fn lane_label(ctx: &Context, lane: B256) -> Option<String> {
    if let Some(manifest) = &ctx.manifest
        && let Some(l) = manifest.lanes.iter().find(|l| l.lane == lane)
    {
        let symbol = ctx.network.routes.iter().find(|r| r.route_id == l.route_id).map_or("?", |r| r.symbol.as_str());
        return Some(format!("{symbol} {} -> {}", l.source, l.destination));
    }
    for route in &ctx.network.routes {
        for (from, to) in [(&route.home, &route.remote), (&route.remote, &route.home)] {
            if let Ok(leg) = ctx.network.leg(from, to, &route.symbol)
                && leg.lane == lane
            {
                return Some(format!("{} {from} -> {to}", route.symbol));
            }
        }
    }
    None
}

pub(crate) fn labelled(ctx: &Context, lane: B256) -> String {
    match lane_label(ctx, lane) {
        Some(label) => format!("{lane} ({label})"),
        None => lane.to_string(),
    }
}

/// The outbound lanes of `chain` that the network knows (its routes).
pub(crate) fn known_outbound_lanes(ctx: &Context, chain: &ChainInfo) -> Vec<B256> {
    let mut lanes = Vec::new();
    for route in &ctx.network.routes {
        let other = if route.home == chain.name {
            &route.remote
        } else if route.remote == chain.name {
            &route.home
        } else {
            continue;
        };
        if let Ok(leg) = ctx.network.leg(&chain.name, other, &route.symbol)
            && !lanes.contains(&leg.lane)
        {
            lanes.push(leg.lane);
        }
    }
    lanes
}

/// Where to start reading `chain`'s logs: the devnet's deployment block, else genesis.
pub(crate) fn from_block(ctx: &Context, chain: &ChainInfo) -> u64 {
    ctx.manifest
        .as_ref()
        .and_then(|m| m.chains.iter().find(|c| c.chain.name == chain.name).map(|c| c.start_block))
        .unwrap_or(0)
}

/// Every log matching `filter` on `conn`'s chain from block `from` to its head, in chain order;
/// `what` names them in the error.
pub(crate) async fn logs_to_head(conn: &Conn, filter: &Filter, from: u64, what: &str) -> Result<Vec<Log>> {
    let latest = conn.provider.get_block_number().await.map_err(|e| conn.read_err("the block number", e))?;
    zb_chain::scan_logs(&conn.provider, filter, from, latest)
        .await
        .map_err(|e| eyre!("reading {what} on {}: {e}", conn.info.name))
}
