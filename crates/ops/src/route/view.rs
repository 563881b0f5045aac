//! What `route list` and `route status` read: every route of the network and each chain's view of it.

use alloy::primitives::{Address, B256};
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::registry::RouteRegistry;

use crate::context::{Conn, Context};
use crate::explain::status_name;
use crate::network::Network;

/// A route as the registries and the network file know it.
#[derive(Debug, Clone)]
pub struct RouteView {
    pub route_id: B256,
    pub home_chain: u64,
    pub remote_chain: u64,
    pub home_token: Address,
    pub wrapped_token: Option<Address>,
    pub symbol: Option<String>,
    pub wrapped_name: Option<String>,
    pub wrapped_symbol: Option<String>,
    pub decimals: Option<u8>,
}

/// One chain's view of a route: its two lanes, and the registry's record.
pub struct ChainView {
    pub outbound: ZeroBridge::Lane,
    pub inbound: ZeroBridge::Lane,
    /// The route's liveness on this chain (of its inbound lane).
    pub route: ZeroBridge::Route,
    pub record: RouteRegistry::RouteRecord,
    pub bridge_paused: bool,
}

pub async fn connect_all(network: &Network) -> Result<Vec<Conn>> {
    let mut conns = Vec::new();
    for chain in &network.chains {
        conns.push(Conn::connect(chain).await?);
    }
    Ok(conns)
}

/// Every route: the network's (manifest or file) merged with every chain's registry.
pub async fn discover(ctx: &Context, conns: &[Conn]) -> Result<Vec<RouteView>> {
    let mut views: Vec<RouteView> = Vec::new();
    for route in &ctx.network.routes {
        let home = ctx.network.chain(&route.home)?;
        let remote = ctx.network.chain(&route.remote)?;
        views.push(RouteView {
            route_id: route.route_id,
            home_chain: home.chain_id,
            remote_chain: remote.chain_id,
            home_token: route.home_token,
            wrapped_token: Some(route.wrapped_token),
            symbol: Some(route.symbol.clone()),
            wrapped_name: None,
            wrapped_symbol: None,
            decimals: Some(route.decimals),
        });
    }
    for conn in conns {
        let registry = conn.registry();
        let ids = registry.routeIds().call().await.map_err(|e| conn.read_err("the registry's routeIds", e))?;
        for id in ids {
            let record = registry.getRoute(id).call().await.map_err(|e| conn.read_err("the registry", e))?;
            let index = match views.iter().position(|v| v.route_id == id) {
                Some(i) => i,
                None => {
                    let (home_chain, remote_chain) = if record.isHome {
                        (conn.info.chain_id, record.remoteChainId)
                    } else {
                        (record.homeChainId, conn.info.chain_id)
                    };
                    views.push(RouteView {
                        route_id: id,
                        home_chain,
                        remote_chain,
                        home_token: record.homeToken,
                        wrapped_token: None,
                        symbol: None,
                        wrapped_name: None,
                        wrapped_symbol: None,
                        decimals: None,
                    });
                    views.len() - 1
                }
            };
            let view = &mut views[index];
            if !record.isHome {
                view.wrapped_token = Some(record.localToken);
            }
            view.wrapped_name.get_or_insert(record.wrappedName.clone());
            view.wrapped_symbol.get_or_insert(record.wrappedSymbol.clone());
            view.decimals.get_or_insert(record.decimals);
        }
    }
    for view in &mut views {
        if view.symbol.is_none()
            && let Some(home) = conns.iter().find(|c| c.info.chain_id == view.home_chain)
        {
            view.symbol = home.token(view.home_token).symbol().call().await.ok();
        }
    }
    Ok(views)
}

pub fn chain_label(ctx: &Context, chain_id: u64) -> String {
    ctx.chain_by_id(chain_id).map_or_else(|| format!("chain {chain_id}"), |c| c.name.clone())
}

pub fn display_symbol(view: &RouteView) -> String {
    view.symbol.clone().or_else(|| view.wrapped_symbol.clone()).unwrap_or_else(|| "?".to_string())
}

pub async fn chain_view(conn: &Conn, route_id: B256) -> Result<Option<ChainView>> {
    let bridge = conn.bridge();
    let lanes = bridge.getRoute(route_id).call().await.map_err(|e| conn.read_err("the bridge's route", e))?;
    if lanes.outboundLane == B256::ZERO {
        return Ok(None);
    }
    let outbound = bridge.getLane(lanes.outboundLane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let inbound = bridge.getLane(lanes.inboundLane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let record = conn.registry().getRoute(route_id).call().await.map_err(|e| conn.read_err("the registry", e))?;
    let bridge_paused = bridge.paused().call().await.map_err(|e| conn.read_err("paused", e))?;
    Ok(Some(ChainView { outbound, inbound, route: lanes, record, bridge_paused }))
}

pub fn chain_status(view: Option<&ChainView>) -> String {
    match view {
        None => "not registered".to_string(),
        Some(v) => {
            let mut s = status_name(v.outbound.status).to_string();
            if v.bridge_paused {
                s.push_str(" (bridge paused)");
            } else if v.outbound.paused || v.inbound.paused {
                s.push_str(" (lane paused)");
            }
            s
        }
    }
}

/// Finds the route `wanted` (symbol, wrapped symbol or route id) among `views`.
pub fn pick<'a>(views: &'a [RouteView], wanted: &str) -> Result<&'a RouteView> {
    let wanted = wanted.trim();
    if let Ok(id) = wanted.parse::<B256>() {
        return views
            .iter()
            .find(|v| v.route_id == id)
            .ok_or_else(|| eyre!("no route {id} on this network: see `zerobridge route list`"));
    }
    let matches: Vec<&RouteView> = views
        .iter()
        .filter(|v| {
            v.symbol.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(wanted))
                || v.wrapped_symbol.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(wanted))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<String> = views.iter().map(display_symbol).collect();
            bail!(
                "no route for '{wanted}': routes here are {} (see `zerobridge route list`)",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )
        }
        many => {
            let ids: Vec<String> = many.iter().map(|v| v.route_id.to_string()).collect();
            bail!("'{wanted}' names {} routes ({}): pass the route id instead", many.len(), ids.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::err;
    use super::*;

    #[test]
    fn routes_are_picked_by_symbol_or_id() {
        let view = |byte: u8, symbol: &str, remote_chain: u64| RouteView {
            route_id: B256::repeat_byte(byte),
            home_chain: 1,
            remote_chain,
            home_token: Address::repeat_byte(byte),
            wrapped_token: None,
            symbol: Some(symbol.into()),
            wrapped_name: None,
            wrapped_symbol: Some(format!("w{symbol}")),
            decimals: Some(18),
        };
        let views = vec![view(1, "DEMO", 56), view(2, "TOK", 56), view(3, "TOK", 137)];
        assert_eq!(pick(&views, "demo").map(|v| v.route_id).ok(), Some(B256::repeat_byte(1)));
        assert_eq!(pick(&views, "wDEMO").map(|v| v.route_id).ok(), Some(B256::repeat_byte(1)));
        assert_eq!(pick(&views, &B256::repeat_byte(3).to_string()).map(|v| v.remote_chain).ok(), Some(137));
        assert!(err(pick(&views, "TOK")).contains("pass the route id"));
        assert!(err(pick(&views, "NOPE")).contains("routes here are DEMO, TOK, TOK"));
    }
}
