//! `route list` and `route status`.

use alloy::primitives::{B256, U256};
use eyre::{Result, eyre};
use zb_contracts::bridge::ZeroBridge;

use super::view::{chain_label, chain_status, chain_view, connect_all, discover, display_symbol, pick};
use super::{ListArgs, StatusArgs};
use crate::context::{Conn, Context};
use crate::explain::status_name;
use crate::format::{format_amount, format_utc};
use crate::progress::Progress;
use crate::stake::{Staking, chain_now, expiry_text, snapshot_set};

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

/// A route's status on both chains, line by line as `progress` steps.
pub async fn status(args: StatusArgs, progress: &dyn Progress) -> Result<()> {
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

    let decimals = view.decimals.unwrap_or(18);
    let units = |v: U256| format_amount(v, decimals);
    let symbol = display_symbol(view);
    let wrapped_symbol = view.wrapped_symbol.clone().unwrap_or_else(|| format!("wrapped {symbol}"));
    progress.step(&format!("route {symbol}  {}", view.route_id));
    progress.step(&format!(
        "  home     {} ({})  token {} ({symbol}, {decimals} decimals)",
        home.info.name, home.info.chain_id, view.home_token
    ));
    match (view.wrapped_token, &view.wrapped_name) {
        (Some(w), Some(name)) => progress.step(&format!(
            "  remote   {} ({})  wrapped {w} ({name}, {wrapped_symbol})",
            remote.info.name, remote.info.chain_id
        )),
        (Some(w), None) => {
            progress.step(&format!("  remote   {} ({})  wrapped {w}", remote.info.name, remote.info.chain_id))
        }
        (None, _) => progress
            .step(&format!("  remote   {} ({})  not registered there yet", remote.info.name, remote.info.chain_id)),
    }
    let mut owners = Vec::new();
    match (&home_view, &remote_view) {
        (Some(h), Some(r)) if h.record.owner == r.record.owner => owners.push(h.record.owner.to_string()),
        _ => {
            for (conn, v) in [(home, &home_view), (remote, &remote_view)] {
                if let Some(v) = v {
                    owners.push(format!("{} on {}", v.record.owner, conn.info.name));
                }
            }
        }
    }
    let bond = home_view.as_ref().map_or(U256::ZERO, |v| v.record.bond);
    progress.step(&format!(
        "  owner    {}; bond {} native coin",
        if owners.is_empty() { "-".to_string() } else { owners.join(", ") },
        format_amount(bond, 18)
    ));
    progress.step(&format!(
        "  status   {} {}, {} {}",
        home.info.name,
        chain_status(home_view.as_ref()),
        remote.info.name,
        chain_status(remote_view.as_ref())
    ));

    // Vault versus wrapped supply.
    let locked = home_view.as_ref().map(|v| v.outbound.locked);
    let supply = match view.wrapped_token {
        Some(w) if remote_view.is_some() => {
            Some(remote.token(w).totalSupply().call().await.map_err(|e| remote.read_err("the wrapped supply", e))?)
        }
        _ => None,
    };
    match (locked, supply) {
        (Some(locked), Some(supply)) => progress.step(&format!(
            "  vault    {} {symbol} locked on {}; wrapped supply {} {wrapped_symbol} on {} ({})",
            units(locked),
            home.info.name,
            units(supply),
            remote.info.name,
            if supply <= locked { "covered" } else { "WARNING: wrapped supply exceeds the vault" }
        )),
        (Some(locked), None) => {
            progress.step(&format!("  vault    {} {symbol} locked on {}", units(locked), home.info.name))
        }
        _ => {}
    }

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
        progress.step(&format!("lane {} -> {}  {lane}", source.info.name, destination.info.name));
        let out = source_view.as_ref().map(|v| &v.outbound);
        let inn = destination_view.as_ref().map(|v| &v.inbound);
        let lane_state = |l: Option<&ZeroBridge::Lane>| match l {
            None => "not registered".to_string(),
            Some(l) => format!("{}{}", status_name(l.status), if l.paused { ", paused" } else { "" }),
        };
        progress.step(&format!(
            "  status         {} {} (source), {} {} (destination)",
            source.info.name,
            lane_state(out),
            destination.info.name,
            lane_state(inn)
        ));
        let sent = out.map_or(0, |l| l.sequence);
        let delivered = inn.map_or(0, |l| l.sequence);
        progress.step(&format!(
            "  sequence       sent {sent}, delivered {delivered} ({} in flight)",
            sent.saturating_sub(delivered)
        ));
        if let Some(l) = out {
            if l.feeBps == 0 {
                progress.step("  fee            none");
            } else {
                progress.step(&format!("  fee            {} bps to {}", l.feeBps, l.feeCollector));
            }
            progress.step(&format!(
                "  limits         min {}, max {} per transfer",
                units(U256::from(l.minAmount)),
                units(U256::from(l.maxAmount))
            ));
        }
        let mut capacity = Vec::new();
        if let Some(l) = out {
            let available = source
                .bridge()
                .availableCapacity(lane)
                .call()
                .await
                .map_err(|e| source.read_err("availableCapacity", e))?;
            capacity.push(format!(
                "out {} of {} a day available ({})",
                units(available),
                units(U256::from(l.capacity)),
                source.info.name
            ));
        }
        if let Some(l) = inn {
            let available = destination
                .bridge()
                .availableCapacity(lane)
                .call()
                .await
                .map_err(|e| destination.read_err("availableCapacity", e))?;
            capacity.push(format!(
                "in {} of {} a day available ({})",
                units(available),
                units(U256::from(l.capacity)),
                destination.info.name
            ));
            if l.largeTransferThreshold == 0 {
                progress.step("  holds          off");
            } else {
                progress.step(&format!(
                    "  holds          transfers of {} or more are held on {}",
                    units(U256::from(l.largeTransferThreshold)),
                    destination.info.name
                ));
            }
        }
        if !capacity.is_empty() {
            progress.step(&format!("  capacity       {}", capacity.join("; ")));
        }
        let set_of = |l: Option<&ZeroBridge::Lane>| match l {
            Some(l) if l.validatorSetHash != B256::ZERO => l.validatorSetHash.to_string(),
            Some(_) => "none".to_string(),
            None => "-".to_string(),
        };
        let (checked, attesting) = (set_of(inn), set_of(out));
        progress.step(&format!(
            "  validator set  {checked} (checked on {}){}",
            destination.info.name,
            if checked == attesting {
                String::new()
            } else {
                format!("; {attesting} on {} (differs)", source.info.name)
            }
        ));
        let now = chain_now(destination).await.ok();
        for line in liveness_lines(out, destination_view.as_ref().map(|v| &v.route), &destination.info.name, now) {
            progress.step(&format!("  {line}"));
        }
        let (staking, token_symbol) = if source.info.chain_id == home.info.chain_id {
            (home_staking.as_ref(), &symbol)
        } else {
            (remote_staking.as_ref(), &wrapped_symbol)
        };
        let lane_view = LaneView { source, destination, staking, out, inn, route_id: view.route_id, lane };
        print_economic_security(&lane_view, decimals, token_symbol, progress).await?;
    }
    Ok(())
}

/// The lane's liveness: the default timeout of its sends (outbound lane on the source), the
/// fallback set, strikes and Emergency of the route on the destination (`now`: its clock).
pub(crate) fn liveness_lines(
    out: Option<&ZeroBridge::Lane>,
    route: Option<&ZeroBridge::Route>,
    destination: &str,
    now: Option<u64>,
) -> Vec<String> {
    let wait = crate::format::format_wait;
    let mut lines = Vec::new();
    if let Some(out) = out {
        lines.push(match out.defaultTimeout {
            0 => "timeout        none by default (a send may set --deadline)".to_string(),
            t => format!("timeout        {} by default: refunded if not delivered by then", wait(u64::from(t))),
        });
    }
    let Some(route) = route else { return lines };
    if route.fallbackSetHash == B256::ZERO {
        lines.push(format!("fallback       none on {destination}: only the primary set delivers"));
    } else {
        lines.push(format!(
            "fallback       set {} on {destination}: delivers what waited {}",
            route.fallbackSetHash,
            wait(u64::from(route.fallbackDelay))
        ));
    }
    let limit = if route.strikeLimit == 0 { "no limit".to_string() } else { format!("limit {}", route.strikeLimit) };
    let last =
        if route.lastStrikeAt == 0 { String::new() } else { format!(", last at {}", format_utc(route.lastStrikeAt)) };
    lines.push(format!("strikes        {} ({limit}){last}", route.strikes));
    if route.graceUntil != 0 {
        let grace = match now {
            Some(now) if now < route.graceUntil => {
                format!(
                    "grace until {} ({} left): the fallback delivers without waiting",
                    format_utc(route.graceUntil),
                    wait(route.graceUntil - now)
                )
            }
            _ => format!("grace ended {}", format_utc(route.graceUntil)),
        };
        lines.push(format!("EMERGENCY      on {destination}: no new sends from the home chain; {grace}"));
    } else {
        lines.push(format!("emergency      no (grace would last {})", wait(u64::from(route.emergencyGrace))));
    }
    lines
}

/// One lane of a route as `status` shows it.
pub(super) struct LaneView<'a> {
    pub(super) source: &'a Conn,
    pub(super) destination: &'a Conn,
    /// The source chain's stake manager, if it is staked.
    pub(super) staking: Option<&'a Staking>,
    pub(super) out: Option<&'a ZeroBridge::Lane>,
    pub(super) inn: Option<&'a ZeroBridge::Lane>,
    pub(super) route_id: B256,
    pub(super) lane: B256,
}

/// The most a lane can carry within a window: the outbound bucket is full at the start and
/// refills fully once a day (TokenBucket.sol), so at most capacity × (1 + window / 1 day). Over a
/// set's lifetime this is what one set, forging or not, can move while its stake is locked.
pub(crate) fn max_flow_within(capacity: U256, window_secs: u64) -> U256 {
    const DAY: u64 = 86_400;
    capacity * U256::from(DAY + window_secs) / U256::from(DAY)
}

/// A lane's economic security as the chains state it: what its source's stake snapshot holds and
/// what the route's security level (on the source's registry) requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneSecurityFacts {
    /// A snapshot is committed on the source (else the stake figures are zero).
    pub committed: bool,
    pub epoch: u64,
    pub set_hash: B256,
    pub total_stake: U256,
    pub validators: U256,
    /// The least stake a quorum signing a forgery loses, net of the reporter share.
    pub quorum_loss: U256,
    pub min_total_stake: U256,
    /// At least 1 (a level of 0 validators still needs one).
    pub min_validators: u64,
    /// Both the stake and the validator count reach the level.
    pub met: bool,
}

/// Reads the lane's security from `staking` (its source chain's stake manager) and the route's
/// level from the source's registry.
pub async fn lane_security(staking: &Staking, route_id: B256, lane: B256) -> Result<LaneSecurityFacts> {
    let source = &staking.conn;
    let security = staking.sm().laneSecurity(lane).call().await.map_err(|e| source.read_err("laneSecurity", e))?;
    let snapshot = staking.snapshot(lane).await?;
    let level =
        source.registry().securityLevels(route_id).call().await.map_err(|e| source.read_err("securityLevels", e))?;
    let min_validators = level.minValidators.max(1);
    Ok(LaneSecurityFacts {
        committed: snapshot.committed,
        epoch: snapshot.epoch,
        set_hash: snapshot.setHash,
        total_stake: security.totalStake,
        validators: security.validators,
        quorum_loss: security.quorumLoss,
        min_total_stake: level.minTotalStake,
        min_validators,
        met: security.totalStake >= level.minTotalStake && security.validators >= U256::from(min_validators),
    })
}

/// The lane's economic security: the stake behind its snapshot, the least a forging quorum
/// loses, the route's level, what can flow meanwhile, and whether the destination checks the
/// snapshot's set.
pub(super) async fn print_economic_security(
    view: &LaneView<'_>,
    decimals: u8,
    token_symbol: &str,
    progress: &dyn Progress,
) -> Result<()> {
    let source = view.source;
    let on = &source.info.name;
    let Some(staking) = view.staking else {
        progress.step(&format!("  stake          none: {on} has no stake manager (a governance-configured set)"));
        return Ok(());
    };
    let asset = &staking.asset;
    let facts = lane_security(staking, view.route_id, view.lane).await?;
    if facts.committed {
        let snapshot = staking.snapshot(view.lane).await?;
        progress.step(&format!(
            "  stake          {} by {} validators (snapshot of epoch {} on {on}); a quorum that signs a forgery loses \
             at least {} (net of the reporter share)",
            asset.fmt(facts.total_stake),
            facts.validators,
            facts.epoch,
            asset.fmt(facts.quorum_loss)
        ));
        let now = chain_now(source).await?;
        progress.step(&format!("  set expiry     {}", expiry_text(&snapshot_set(&snapshot)?, now)));
    } else {
        progress.step(&format!(
            "  stake          no snapshot committed on {on} yet (operators opt in, then `zerobridge stake commit`)"
        ));
    }
    progress.step(&format!(
        "  level          at least {} from at least {} validators: {}",
        asset.fmt(facts.min_total_stake),
        facts.min_validators,
        if facts.met { "met" } else { "NOT met" }
    ));
    if let Some(out) = view.out {
        let capacity = U256::from(out.capacity);
        let lifetime = staking.config.set_lifetime;
        progress.step(&format!(
            "  max outflow    {} {token_symbol} within the {} a set can sign ({} a day x (1 + {} / 1 day))",
            format_amount(max_flow_within(capacity, lifetime), decimals),
            crate::format::format_wait(lifetime),
            format_amount(capacity, decimals),
            crate::format::format_wait(lifetime)
        ));
    }
    if let Some(inn) = view.inn
        && facts.committed
    {
        let destination = &view.destination.info.name;
        if inn.validatorSetHash == facts.set_hash {
            progress.step(&format!("  inbound set    {destination} checks the snapshot's set {}", facts.set_hash));
        } else {
            progress.step(&format!(
                "  inbound set    {destination} checks {}, the snapshot on {on} is {} (differs: a set update is in \
                 flight or due)",
                inn.validatorSetHash, facts.set_hash
            ));
        }
    }
    Ok(())
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

    #[test]
    fn liveness_reads_plainly() {
        let mut route = ZeroBridge::Route {
            outboundLane: B256::ZERO,
            inboundLane: B256::ZERO,
            capacityCap: 0,
            holdThresholdCap: 0,
            fallbackSetHash: B256::ZERO,
            fallbackDelay: 0,
            emergencyGrace: 0,
            strikeLimit: 0,
            strikes: 0,
            lastStrikeAt: 0,
            graceUntil: 0,
        };
        let none = liveness_lines(None, Some(&route), "bsc", Some(0));
        assert!(none[0].contains("fallback       none on bsc"), "{none:?}");
        route.fallbackSetHash = B256::repeat_byte(9);
        route.fallbackDelay = 120;
        route.strikes = 1;
        route.strikeLimit = 3;
        route.emergencyGrace = 86_400;
        let lines = liveness_lines(None, Some(&route), "bsc", Some(1_000));
        assert!(lines.iter().any(|l| l.contains("delivers what waited 2 min")), "{lines:?}");
        assert!(lines.iter().any(|l| l == "strikes        1 (limit 3)"), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("emergency      no (grace would last 24 h)")), "{lines:?}");
        route.graceUntil = 1_700_000_000;
        let lines = liveness_lines(None, Some(&route), "bsc", Some(1_700_000_000 - 3_600));
        assert!(lines.iter().any(|l| l.starts_with("EMERGENCY") && l.contains("1 h left")), "{lines:?}");
    }
}
