//! The route's configuration read back from the chains, for `zerobridge api`: every registered
//! route as a network-file entry (so routes registered after the API started are known), and the
//! validator configuration `route register` prints, rebuilt from the registries and bridges.

use alloy::primitives::{Address, B256};
use eyre::{Result, eyre};
use zb_protocol::validator_set::ValidatorSet;

use super::config::{RouteFacts, validator_toml};
use super::register::opened_block;
use super::security::Level;
use super::view::{RouteView, connect_all, discover, display_symbol};
use crate::claim::{known_sets, set_for};
use crate::context::{Conn, Context};
use crate::network::{Leg, Liveness, RouteInfo};
use crate::stake::{Staking, snapshot_set};

/// Every route registered on both of its chains (the network's own and any registered since),
/// as network-file entries. Liveness comes from the remote chain's bridge when it has a fallback set.
pub async fn chain_routes(ctx: &Context) -> Result<Vec<RouteInfo>> {
    let conns = connect_all(&ctx.network).await?;
    let views = discover(ctx, &conns).await?;
    let mut routes = Vec::new();
    for view in &views {
        if let Some(known) = ctx.network.routes.iter().find(|r| r.route_id == view.route_id) {
            routes.push(known.clone());
            continue;
        }
        let (Some(home), Some(remote), Some(wrapped), Some(decimals)) = (
            conns.iter().find(|c| c.info.chain_id == view.home_chain),
            conns.iter().find(|c| c.info.chain_id == view.remote_chain),
            view.wrapped_token,
            view.decimals,
        ) else {
            // Registered on one chain only so far: no transfer can travel it yet.
            continue;
        };
        let bridge_route =
            remote.bridge().getRoute(view.route_id).call().await.map_err(|e| remote.read_err("the route", e))?;
        let liveness = (bridge_route.fallbackSetHash != B256::ZERO).then(|| Liveness {
            fallback_delay: u64::from(bridge_route.fallbackDelay),
            strike_limit: bridge_route.strikeLimit,
            emergency_grace: u64::from(bridge_route.emergencyGrace),
            default_timeout: 0,
        });
        routes.push(RouteInfo {
            route_id: view.route_id,
            symbol: display_symbol(view),
            decimals,
            home: home.info.name.clone(),
            remote: remote.info.name.clone(),
            home_token: view.home_token,
            wrapped_token: wrapped,
            liveness,
        });
    }
    Ok(routes)
}

/// The validator configuration of `route_id` (the text `route register` prints), rebuilt from
/// the chains: the lanes, the blocks the route was opened in, each lane's set (the stake snapshot
/// on a staked source chain, else the set installed on its destination) and the security level.
pub async fn validator_config(ctx: &Context, route_id: B256) -> Result<String> {
    let conns = connect_all(&ctx.network).await?;
    let views = discover(ctx, &conns).await?;
    let view = views
        .iter()
        .find(|v| v.route_id == route_id)
        .ok_or_else(|| eyre!("no route {route_id} on this network: see `zerobridge route list`"))?;
    let conn_of = |chain_id: u64| {
        conns.iter().find(|c| c.info.chain_id == chain_id).ok_or_else(|| {
            eyre!("route {route_id} has chain {chain_id}, which the network does not list: add it to the network file")
        })
    };
    let (home, remote) = (conn_of(view.home_chain)?, conn_of(view.remote_chain)?);
    let lanes = home.bridge().getRoute(route_id).call().await.map_err(|e| home.read_err("the bridge's route", e))?;
    if lanes.outboundLane == B256::ZERO {
        return Err(eyre!("route {route_id} is not registered on {} yet: no lanes to configure", home.info.name));
    }
    let (lane_to_remote, lane_to_home) = (lanes.outboundLane, lanes.inboundLane);
    let route = route_info(view, home, remote)?;
    let mut security = Vec::new();
    let mut signers: Vec<Address> = Vec::new();
    let mut staked = false;
    for (source, destination, lane) in [(home, remote, lane_to_remote), (remote, home, lane_to_home)] {
        let (words, set) = match Staking::try_open(source).await? {
            Some(staking) => {
                staked = true;
                let level = source
                    .registry()
                    .securityLevels(route_id)
                    .call()
                    .await
                    .map_err(|e| source.read_err("securityLevels", e))?;
                let level = Level {
                    min_stake: level.minTotalStake,
                    min_validators: level.minValidators,
                    asset: staking.asset.clone(),
                };
                let snapshot = staking.snapshot(lane).await?;
                let set = if snapshot.members.is_empty() { None } else { Some(snapshot_set(&snapshot)?) };
                (format!("{} stake: {}", source.info.name, level.describe()), set)
            }
            None => {
                let set = installed_set(&route, source, destination, lane).await?;
                let words = match &set {
                    Some(set) => format!(
                        "{} configured set: {} of {} weight from {} validators",
                        source.info.name,
                        set.threshold,
                        set.members.iter().map(|m| m.weight).sum::<u128>(),
                        set.members.len()
                    ),
                    None => format!("{} configured set: not installed yet", source.info.name),
                };
                (words, set)
            }
        };
        security.push(words);
        for member in set.iter().flat_map(|s| &s.members) {
            if !signers.contains(&member.signer) {
                signers.push(member.signer);
            }
        }
    }
    let facts = RouteFacts {
        route_id,
        symbol: route.symbol.clone(),
        lane_to_remote,
        lane_to_home,
        security: security.join("; "),
        staked,
    };
    let start_blocks = tokio::join!(opened_block(home, route_id), opened_block(remote, route_id));
    Ok(validator_toml(ctx, &facts, &home.info, &remote.info, start_blocks, &signers))
}

fn route_info(view: &RouteView, home: &Conn, remote: &Conn) -> Result<RouteInfo> {
    Ok(RouteInfo {
        route_id: view.route_id,
        symbol: display_symbol(view),
        decimals: view.decimals.unwrap_or(18),
        home: home.info.name.clone(),
        remote: remote.info.name.clone(),
        home_token: view.home_token,
        wrapped_token: view.wrapped_token.unwrap_or(Address::ZERO),
        liveness: None,
    })
}

/// The set installed on `destination` for `lane` (from the bridges' events), if any.
async fn installed_set(
    route: &RouteInfo,
    source: &Conn,
    destination: &Conn,
    lane: B256,
) -> Result<Option<ValidatorSet>> {
    let state = destination.bridge().getLane(lane).call().await.map_err(|e| destination.read_err("the lane", e))?;
    if state.validatorSetHash == B256::ZERO {
        return Ok(None);
    }
    let leg = Leg {
        route: route.clone(),
        source: source.info.clone(),
        destination: destination.info.clone(),
        lane,
        source_token: Address::ZERO,
        destination_token: Address::ZERO,
    };
    let sets = known_sets(&leg, &source.provider, &destination.provider).await?;
    let (set, _) = set_for(&sets, state.validatorSetHash, "validator", &destination.info.name)?;
    Ok(Some(set))
}
