//! `zerobridge route status` in words: what `zb_ops::route::status` read, line by line.

use alloy::primitives::{B256, U256};
use zb_contracts::bridge::ZeroBridge;
use zb_ops::explain::status_name;
use zb_ops::format::{format_amount, format_utc, format_wait};
use zb_ops::route::{LaneSecurity, LaneStatus, RouteStatus};

/// Every line of `route status`.
pub fn lines(status: &RouteStatus) -> Vec<String> {
    let view = &status.view;
    let (home, remote) = (&status.home, &status.remote);
    let decimals = status.decimals();
    let units = |v: U256| format_amount(v, decimals);
    let symbol = status.symbol();
    let wrapped_symbol = status.wrapped_symbol();
    let mut out = vec![format!("route {symbol}  {}", view.route_id)];
    out.push(format!(
        "  home     {} ({})  token {} ({symbol}, {decimals} decimals)",
        home.name, home.chain_id, view.home_token
    ));
    out.push(match (view.wrapped_token, &view.wrapped_name) {
        (Some(w), Some(name)) => {
            format!("  remote   {} ({})  wrapped {w} ({name}, {wrapped_symbol})", remote.name, remote.chain_id)
        }
        (Some(w), None) => format!("  remote   {} ({})  wrapped {w}", remote.name, remote.chain_id),
        (None, _) => format!("  remote   {} ({})  not registered there yet", remote.name, remote.chain_id),
    });
    let mut owners = Vec::new();
    match (&status.home_view, &status.remote_view) {
        (Some(h), Some(r)) if h.record.owner == r.record.owner => owners.push(h.record.owner.to_string()),
        _ => {
            for (chain, v) in [(home, &status.home_view), (remote, &status.remote_view)] {
                if let Some(v) = v {
                    owners.push(format!("{} on {}", v.record.owner, chain.name));
                }
            }
        }
    }
    let bond = status.home_view.as_ref().map_or(U256::ZERO, |v| v.record.bond);
    out.push(format!(
        "  owner    {}; bond {} native coin",
        if owners.is_empty() { "-".to_string() } else { owners.join(", ") },
        format_amount(bond, 18)
    ));
    let (home_state, remote_state) = status.chain_states();
    out.push(format!("  status   {} {home_state}, {} {remote_state}", home.name, remote.name));

    // Vault versus wrapped supply.
    match (status.home_view.as_ref().map(|v| v.outbound.locked), status.wrapped_supply) {
        (Some(locked), Some(supply)) => out.push(format!(
            "  vault    {} {symbol} locked on {}; wrapped supply {} {wrapped_symbol} on {} ({})",
            units(locked),
            home.name,
            units(supply),
            remote.name,
            if supply <= locked { "covered" } else { "WARNING: wrapped supply exceeds the vault" }
        )),
        (Some(locked), None) => out.push(format!("  vault    {} {symbol} locked on {}", units(locked), home.name)),
        _ => {}
    }
    for lane in &status.lanes {
        lane_lines(lane, decimals, &mut out);
    }
    out
}

fn lane_lines(lane: &LaneStatus, decimals: u8, out: &mut Vec<String>) {
    let units = |v: U256| format_amount(v, decimals);
    let (source, destination) = (&lane.source.name, &lane.destination.name);
    out.push(format!("lane {source} -> {destination}  {}", lane.lane));
    let lane_state = |l: Option<&ZeroBridge::Lane>| match l {
        None => "not registered".to_string(),
        Some(l) => format!("{}{}", status_name(l.status), if l.paused { ", paused" } else { "" }),
    };
    let (outbound, inbound) = (lane.out.as_ref(), lane.inn.as_ref());
    out.push(format!(
        "  status         {source} {} (source), {destination} {} (destination)",
        lane_state(outbound),
        lane_state(inbound)
    ));
    let sent = outbound.map_or(0, |l| l.sequence);
    let delivered = inbound.map_or(0, |l| l.sequence);
    out.push(format!(
        "  sequence       sent {sent}, delivered {delivered} ({} in flight)",
        sent.saturating_sub(delivered)
    ));
    if let Some(l) = outbound {
        out.push(if l.feeBps == 0 {
            "  fee            none".to_string()
        } else {
            format!("  fee            {} bps to {}", l.feeBps, l.feeCollector)
        });
        out.push(format!(
            "  limits         min {}, max {} per transfer",
            units(U256::from(l.minAmount)),
            units(U256::from(l.maxAmount))
        ));
    }
    let mut capacity = Vec::new();
    if let (Some(l), Some(available)) = (outbound, lane.available_out) {
        capacity.push(format!(
            "out {} of {} a day available ({source})",
            units(available),
            units(U256::from(l.capacity))
        ));
    }
    if let (Some(l), Some(available)) = (inbound, lane.available_in) {
        capacity.push(format!(
            "in {} of {} a day available ({destination})",
            units(available),
            units(U256::from(l.capacity))
        ));
        out.push(if l.largeTransferThreshold == 0 {
            "  holds          off".to_string()
        } else {
            format!(
                "  holds          transfers of {} or more are held on {destination}",
                units(U256::from(l.largeTransferThreshold))
            )
        });
    }
    if !capacity.is_empty() {
        out.push(format!("  capacity       {}", capacity.join("; ")));
    }
    let set_of = |l: Option<&ZeroBridge::Lane>| match l {
        Some(l) if l.validatorSetHash != B256::ZERO => l.validatorSetHash.to_string(),
        Some(_) => "none".to_string(),
        None => "-".to_string(),
    };
    let (checked, attesting) = (set_of(inbound), set_of(outbound));
    out.push(format!(
        "  validator set  {checked} (checked on {destination}){}",
        if checked == attesting { String::new() } else { format!("; {attesting} on {source} (differs)") }
    ));
    for line in liveness_lines(outbound, lane.route.as_ref(), destination, lane.now) {
        out.push(format!("  {line}"));
    }
    match &lane.security {
        None => out.push(format!("  stake          none: {source} has no stake manager (a governance-configured set)")),
        Some(security) => {
            security_lines(security, outbound, inbound, destination, source, decimals, &lane.token_symbol, out)
        }
    }
}

/// The lane's liveness: the default timeout of its sends (outbound lane on the source), the
/// fallback set, strikes and Emergency of the route on the destination (`now`: its clock).
fn liveness_lines(
    out: Option<&ZeroBridge::Lane>,
    route: Option<&ZeroBridge::Route>,
    destination: &str,
    now: Option<u64>,
) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(out) = out {
        lines.push(match out.defaultTimeout {
            0 => "timeout        none by default (a send may set --deadline)".to_string(),
            t => format!("timeout        {} by default: refunded if not delivered by then", format_wait(u64::from(t))),
        });
    }
    let Some(route) = route else { return lines };
    if route.fallbackSetHash == B256::ZERO {
        lines.push(format!("fallback       none on {destination}: only the primary set delivers"));
    } else {
        lines.push(format!(
            "fallback       set {} on {destination}: delivers what waited {}",
            route.fallbackSetHash,
            format_wait(u64::from(route.fallbackDelay))
        ));
    }
    let limit = if route.strikeLimit == 0 { "no limit".to_string() } else { format!("limit {}", route.strikeLimit) };
    let last =
        if route.lastStrikeAt == 0 { String::new() } else { format!(", last at {}", format_utc(route.lastStrikeAt)) };
    lines.push(format!("strikes        {} ({limit}){last}", route.strikes));
    if route.graceUntil != 0 {
        let grace = match now {
            Some(now) if now < route.graceUntil => format!(
                "grace until {} ({} left): the fallback delivers without waiting",
                format_utc(route.graceUntil),
                format_wait(route.graceUntil - now)
            ),
            _ => format!("grace ended {}", format_utc(route.graceUntil)),
        };
        lines.push(format!("EMERGENCY      on {destination}: no new sends from the home chain; {grace}"));
    } else {
        lines.push(format!("emergency      no (grace would last {})", format_wait(u64::from(route.emergencyGrace))));
    }
    lines
}

/// The lane's economic security: the stake behind its snapshot, the least a forging quorum
/// loses, the route's level, what can flow meanwhile, and whether the destination checks the
/// snapshot's set.
#[allow(clippy::too_many_arguments)]
fn security_lines(
    security: &LaneSecurity,
    outbound: Option<&ZeroBridge::Lane>,
    inbound: Option<&ZeroBridge::Lane>,
    destination: &str,
    on: &str,
    decimals: u8,
    token_symbol: &str,
    out: &mut Vec<String>,
) {
    let asset = &security.asset;
    match &security.snapshot {
        Some((epoch, _, expiry)) => {
            out.push(format!(
                "  stake          {} by {} validators (snapshot of epoch {epoch} on {on}); a quorum that signs a \
                 forgery loses at least {} (net of the reporter share)",
                asset.fmt(security.total_stake),
                security.validators,
                asset.fmt(security.quorum_loss)
            ));
            out.push(format!("  set expiry     {expiry}"));
        }
        None => out.push(format!(
            "  stake          no snapshot committed on {on} yet (operators opt in, then `zerobridge stake commit`)"
        )),
    }
    out.push(format!(
        "  level          at least {} from at least {} validators: {}",
        asset.fmt(security.min_total_stake),
        security.min_validators,
        if security.level_met { "met" } else { "NOT met" }
    ));
    if let (Some(max), Some(outbound)) = (security.max_outflow, outbound) {
        let lifetime = format_wait(security.set_lifetime);
        let capacity = format_amount(U256::from(outbound.capacity), decimals);
        out.push(format!(
            "  max outflow    {} {token_symbol} within the {lifetime} a set can sign ({capacity} a day x (1 + \
             {lifetime} / 1 day))",
            format_amount(max, decimals)
        ));
    }
    if let (Some(inn), Some((_, set_hash, _))) = (inbound, &security.snapshot) {
        if inn.validatorSetHash == *set_hash {
            out.push(format!("  inbound set    {destination} checks the snapshot's set {set_hash}"));
        } else {
            out.push(format!(
                "  inbound set    {destination} checks {}, the snapshot on {on} is {set_hash} (differs: a set update \
                 is in flight or due)",
                inn.validatorSetHash
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
