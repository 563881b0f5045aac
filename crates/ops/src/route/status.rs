//! `route list` and `route status`: what they read, as values (zb-cli words them).

use alloy::primitives::{B256, U256};
use eyre::{Result, eyre};
use zb_contracts::bridge::ZeroBridge;

use super::view::{
    ChainView, RouteView, chain_label, chain_status, chain_view, connect_all, discover, display_symbol, pick,
};
use super::{ListArgs, StatusArgs};
use crate::context::{Conn, Context};
use crate::network::ChainInfo;
use crate::stake::{Asset, Staking, chain_now, expiry_text, snapshot_set};

/// One route as `route list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    /// The canonical symbol (or the wrapped one, or "?").
    pub symbol: String,
    /// "home -> remote".
    pub route: String,
    /// The status on both chains, once if they agree.
    pub status: String,
    pub route_id: B256,
}

/// Every route of the network, one row each (none: no routes yet).
pub async fn list(args: ListArgs) -> Result<Vec<RouteRow>> {
    let ctx = Context::load(&args.network)?;
    let conns = connect_all(&ctx.network).await?;
    let views = discover(&ctx, &conns).await?;
    let mut rows = Vec::new();
    for view in &views {
        let mut states = Vec::new();
        for chain_id in [view.home_chain, view.remote_chain] {
            let state = match conns.iter().find(|c| c.info.chain_id == chain_id) {
                Some(conn) => chain_status(chain_view(conn, view.route_id).await?.as_ref()),
                None => "not in the network".to_string(),
            };
            states.push((chain_label(&ctx, chain_id), state));
        }
        let status = if states[0].1 == states[1].1 {
            states[0].1.clone()
        } else {
            states.iter().map(|(name, s)| format!("{name} {s}")).collect::<Vec<_>>().join(", ")
        };
        rows.push(RouteRow {
            symbol: display_symbol(view),
            route: format!("{} -> {}", chain_label(&ctx, view.home_chain), chain_label(&ctx, view.remote_chain)),
            status,
            route_id: view.route_id,
        });
    }
    Ok(rows)
}

/// What `route status` read of a route on both chains (zb-cli words it).
pub struct RouteStatus {
    pub view: RouteView,
    pub home: ChainInfo,
    pub remote: ChainInfo,
    /// Each chain's view of the route; None where it is not registered.
    pub home_view: Option<ChainView>,
    pub remote_view: Option<ChainView>,
    /// The wrapped token's supply on the remote chain, when it is registered there.
    pub wrapped_supply: Option<U256>,
    /// home -> remote, then remote -> home.
    pub lanes: Vec<LaneStatus>,
}

impl RouteStatus {
    pub fn decimals(&self) -> u8 {
        self.view.decimals.unwrap_or(18)
    }
    pub fn symbol(&self) -> String {
        display_symbol(&self.view)
    }
    pub fn wrapped_symbol(&self) -> String {
        self.view.wrapped_symbol.clone().unwrap_or_else(|| format!("wrapped {}", self.symbol()))
    }
    /// "Active", "not registered", ... on the home and the remote chain.
    pub fn chain_states(&self) -> (String, String) {
        (chain_status(self.home_view.as_ref()), chain_status(self.remote_view.as_ref()))
    }
}

/// One lane of the route: its source's outbound and its destination's inbound state.
pub struct LaneStatus {
    pub source: ChainInfo,
    pub destination: ChainInfo,
    pub lane: B256,
    pub out: Option<ZeroBridge::Lane>,
    pub inn: Option<ZeroBridge::Lane>,
    /// What the outbound (source) and inbound (destination) buckets let through now.
    pub available_out: Option<U256>,
    pub available_in: Option<U256>,
    /// The route's liveness on the destination.
    pub route: Option<ZeroBridge::Route>,
    /// The destination's clock.
    pub now: Option<u64>,
    /// The symbol of the token the lane's sends carry.
    pub token_symbol: String,
    /// The source's stake behind the lane; None without a stake manager there.
    pub security: Option<LaneSecurity>,
}

/// The lane's economic security on its source chain.
pub struct LaneSecurity {
    pub asset: Asset,
    pub total_stake: U256,
    pub validators: U256,
    /// The least a quorum that signs a forgery loses (net of the reporter share).
    pub quorum_loss: U256,
    /// The committed snapshot, if any: epoch, set hash, and the set's expiry in words.
    pub snapshot: Option<(u64, B256, String)>,
    pub min_total_stake: U256,
    pub min_validators: u64,
    pub level_met: bool,
    /// How long a set may sign.
    pub set_lifetime: u64,
    /// [`max_flow_within`] the set lifetime, when the source has the lane.
    pub max_outflow: Option<U256>,
}

/// A route's status on both chains.
pub async fn status(args: StatusArgs) -> Result<RouteStatus> {
    let ctx = Context::load(&args.network)?;
    let conns = connect_all(&ctx.network).await?;
    let views = discover(&ctx, &conns).await?;
    let view = pick(&views, &args.route)?;
    let find = |chain_id: u64| {
        conns.iter().find(|c| c.info.chain_id == chain_id).ok_or_else(|| {
            eyre!(
                "route {} uses chain {chain_id}, which the network does not list: add a [[chains]] entry",
                view.route_id
            )
        })
    };
    let home = find(view.home_chain)?;
    let remote = find(view.remote_chain)?;
    let (home_view, remote_view) =
        tokio::try_join!(chain_view(home, view.route_id), chain_view(remote, view.route_id))?;
    let (home_staking, remote_staking) = tokio::try_join!(Staking::try_open(home), Staking::try_open(remote))?;
    let wrapped_supply = match view.wrapped_token {
        Some(w) if remote_view.is_some() => {
            Some(remote.token(w).totalSupply().call().await.map_err(|e| remote.read_err("the wrapped supply", e))?)
        }
        _ => None,
    };
    let symbol = display_symbol(view);
    let wrapped_symbol = view.wrapped_symbol.clone().unwrap_or_else(|| format!("wrapped {symbol}"));

    let mut lanes = Vec::new();
    for (source, source_view, destination, destination_view) in
        [(home, &home_view, remote, &remote_view), (remote, &remote_view, home, &home_view)]
    {
        let lane = zb_protocol::lane_id(
            source.info.chain_id,
            source.info.bridge,
            destination.info.chain_id,
            destination.info.bridge,
            view.route_id,
        );
        let out = source_view.as_ref().map(|v| v.outbound.clone());
        let inn = destination_view.as_ref().map(|v| v.inbound.clone());
        let available_out = match out {
            Some(_) => Some(available_capacity(source, lane).await?),
            None => None,
        };
        let available_in = match inn {
            Some(_) => Some(available_capacity(destination, lane).await?),
            None => None,
        };
        let (staking, token_symbol) = if source.info.chain_id == home.info.chain_id {
            (home_staking.as_ref(), symbol.clone())
        } else {
            (remote_staking.as_ref(), wrapped_symbol.clone())
        };
        let security = match staking {
            Some(staking) => Some(lane_security(source, staking, out.as_ref(), view.route_id, lane).await?),
            None => None,
        };
        lanes.push(LaneStatus {
            source: source.info.clone(),
            destination: destination.info.clone(),
            lane,
            out,
            inn,
            available_out,
            available_in,
            route: destination_view.as_ref().map(|v| v.route.clone()),
            now: chain_now(destination).await.ok(),
            token_symbol,
            security,
        });
    }
    Ok(RouteStatus {
        view: view.clone(),
        home: home.info.clone(),
        remote: remote.info.clone(),
        home_view,
        remote_view,
        wrapped_supply,
        lanes,
    })
}

async fn available_capacity(conn: &Conn, lane: B256) -> Result<U256> {
    conn.bridge().availableCapacity(lane).call().await.map_err(|e| conn.read_err("availableCapacity", e))
}

/// The stake behind the lane's snapshot, the least a forging quorum loses, the route's level and
/// what can flow while a set may sign.
pub async fn lane_security(
    source: &Conn,
    staking: &Staking,
    out: Option<&ZeroBridge::Lane>,
    route_id: B256,
    lane: B256,
) -> Result<LaneSecurity> {
    let security = staking.sm().laneSecurity(lane).call().await.map_err(|e| source.read_err("laneSecurity", e))?;
    let snapshot = staking.snapshot(lane).await?;
    let committed = if snapshot.committed {
        let now = chain_now(source).await?;
        Some((snapshot.epoch, snapshot.setHash, expiry_text(&snapshot_set(&snapshot)?, now)))
    } else {
        None
    };
    let level =
        source.registry().securityLevels(route_id).call().await.map_err(|e| source.read_err("securityLevels", e))?;
    let min_validators = level.minValidators.max(1);
    let lifetime = staking.config.set_lifetime;
    Ok(LaneSecurity {
        asset: staking.asset.clone(),
        total_stake: security.totalStake,
        validators: security.validators,
        quorum_loss: security.quorumLoss,
        snapshot: committed,
        min_total_stake: level.minTotalStake,
        min_validators,
        level_met: security.totalStake >= level.minTotalStake && security.validators >= U256::from(min_validators),
        set_lifetime: lifetime,
        max_outflow: out.map(|l| max_flow_within(U256::from(l.capacity), lifetime)),
    })
}

/// The most a lane can carry within a window: the outbound bucket is full at the start and
/// refills fully once a day (TokenBucket.sol), so at most capacity × (1 + window / 1 day). Over a
/// set's lifetime this is what one set, forging or not, can move while its stake is locked.
pub(crate) fn max_flow_within(capacity: U256, window_secs: u64) -> U256 {
    const DAY: u64 = 86_400;
    capacity * U256::from(DAY + window_secs) / U256::from(DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_flow_counts_the_refills_of_the_unbonding_window() {
        let capacity = U256::from(100_000u64);
        // Devnet: 10 min of unbonding adds 10/1440 of a day's refill to the full bucket.
        assert_eq!(max_flow_within(capacity, 600), U256::from(100_694u64));
        assert_eq!(max_flow_within(capacity, 0), capacity);
        assert_eq!(max_flow_within(capacity, 7 * 86_400), U256::from(800_000u64));
    }
}
