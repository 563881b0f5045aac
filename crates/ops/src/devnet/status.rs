//! `zerobridge devnet status`: chains, agents and the demo route's lanes, and what is down.

use std::path::Path;

use alloy::primitives::B256;
use alloy::providers::{DynProvider, Provider};
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;

use super::probe::{http_client, http_provider};
use super::process::{ProcessRecord, alive, read_processes};
use super::{Layout, PROBE_TIMEOUT, watchtower};
use crate::network::{ChainInfo, DevnetManifest};

/// The route's status and liveness on one chain, in one line.
async fn route_state(provider: DynProvider, bridge: alloy::primitives::Address, route_id: B256) -> Result<String> {
    let bridge = ZeroBridge::new(bridge, provider);
    let route = bridge.getRoute(route_id).call().await?;
    let lane = bridge.getLane(route.outboundLane).call().await?;
    let mut line = crate::explain::status_name(lane.status).to_string();
    if route.fallbackSetHash.is_zero() {
        line.push_str("  no fallback set");
    } else {
        line.push_str(&format!(
            "  fallback after {} s  strikes {} of {}",
            route.fallbackDelay, route.strikes, route.strikeLimit
        ));
    }
    if route.graceUntil != 0 {
        line.push_str(&format!("  Emergency grace until {}", crate::format::format_utc(route.graceUntil)));
    }
    Ok(line)
}

/// Prints the state of every part of the devnet in `dir`; fails if any part is down.
pub async fn status(dir: &Path) -> Result<()> {
    let layout = Layout::new(dir);
    if !layout.manifest().exists() {
        let orphans: Vec<ProcessRecord> =
            read_processes(&layout).into_iter().filter(|r| alive(r.pid, &r.program)).collect();
        if !orphans.is_empty() {
            let list: Vec<String> = orphans.iter().map(|r| format!("{} (pid {})", r.name, r.pid)).collect();
            bail!(
                "no devnet manifest in {}, but processes of an unfinished `devnet up` run: {}. Clean up with \
                 `zerobridge devnet down`",
                dir.display(),
                list.join(", ")
            );
        }
        bail!("no devnet is running in {} (no manifest.json): start one with `zerobridge devnet up`", dir.display());
    }
    let manifest = DevnetManifest::load(&layout.manifest())?;
    let http = http_client()?;
    let mut problems: Vec<String> = Vec::new();

    println!("devnet {}", layout.dir.canonicalize().unwrap_or_else(|_| layout.dir.clone()).display());
    println!("chains:");
    let mut providers = Vec::new();
    for chain in &manifest.chains {
        let running = alive(chain.pid, "anvil");
        let head = match http_provider(&chain.chain.rpc) {
            Ok(provider) => {
                let answer = tokio::time::timeout(PROBE_TIMEOUT, async {
                    let id = provider.get_chain_id().await?;
                    let block = provider.get_block_number().await?;
                    Ok::<_, eyre::Report>((id, block))
                })
                .await;
                providers.push((chain.chain.name.clone(), provider));
                match answer {
                    Ok(Ok((id, block))) if id == chain.chain.chain_id => Ok(block),
                    Ok(Ok((id, _))) => Err(format!("answers with chain id {id}")),
                    Ok(Err(e)) => Err(format!("unreachable ({e})")),
                    Err(_) => Err("no answer".to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        let process =
            if running { format!("pid {} running", chain.pid) } else { format!("pid {} NOT RUNNING", chain.pid) };
        match &head {
            Ok(block) => println!(
                "  {:<9} chain id {:<3} {}  {process}  block {block}",
                chain.chain.name, chain.chain.chain_id, chain.chain.rpc
            ),
            Err(e) => println!(
                "  {:<9} chain id {:<3} {}  {process}  {e}",
                chain.chain.name, chain.chain.chain_id, chain.chain.rpc
            ),
        }
        if !running {
            problems.push(format!("anvil {} is not running", chain.chain.name));
        }
        if let Err(e) = head {
            problems.push(format!("{} RPC {}: {e}", chain.chain.name, chain.chain.rpc));
        }
    }

    println!("agents:");
    let agents = manifest.validators.iter().chain(&manifest.fallback_validators);
    for agent in agents.chain(std::iter::once(&manifest.relayer)).chain(&manifest.watchtower).chain(&manifest.api) {
        let running = alive(agent.pid, "zerobridge");
        let health = match http.get(format!("{}/v1/health", agent.url)).send().await {
            Ok(response) => {
                let code = response.status();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                let said = body.get("status").and_then(|s| s.as_str()).unwrap_or("?").to_string();
                // A halted validator answers 200 (liveness) but needs an operator.
                if code.is_success() && said != "halted" {
                    Ok(said)
                } else {
                    Err(format!("{said} (HTTP {})", code.as_u16()))
                }
            }
            Err(_) => Err("unreachable".to_string()),
        };
        let process =
            if running { format!("pid {} running", agent.pid) } else { format!("pid {} NOT RUNNING", agent.pid) };
        let shown = match &health {
            Ok(s) => format!("health {s}"),
            Err(e) => format!("health {e}"),
        };
        println!("  {:<12} {}  {process}  {shown}", agent.name, agent.url);
        if !running {
            problems.push(format!("{} is not running (log: {})", agent.name, agent.log.display()));
        }
        if let Err(e) = health {
            problems.push(format!("{} health: {e} (log: {})", agent.name, agent.log.display()));
        }
    }
    if let Some(tower) = &manifest.watchtower {
        // Not ready is shown, not a problem: it catches up after a start and retries failed polls.
        println!("  {:<12} {}", "", watchtower::readiness(&http, &tower.url).await);
        match watchtower::kpis(&http, &tower.url).await {
            Ok(line) => println!("  {:<12} {line}", ""),
            Err(e) => problems.push(format!("watchtower KPIs: {e} (log: {})", tower.log.display())),
        }
    }

    println!("routes:");
    let network = manifest.network();
    for route in &manifest.routes {
        for (from, to) in [(&route.home, &route.remote), (&route.remote, &route.home)] {
            let leg = match network.leg(from, to, &route.symbol) {
                Ok(leg) => leg,
                Err(e) => {
                    problems.push(format!("route {}: {e}", route.symbol));
                    continue;
                }
            };
            let provider = |name: &str| providers.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone());
            let read = |chain: &ChainInfo| {
                let provider = provider(&chain.name);
                let bridge = chain.bridge;
                let lane = leg.lane;
                async move {
                    let provider = provider.ok_or_else(|| eyre!("no provider"))?;
                    let lane =
                        tokio::time::timeout(PROBE_TIMEOUT, ZeroBridge::new(bridge, provider).getLane(lane).call())
                            .await
                            .map_err(|_| eyre!("no answer"))??;
                    Ok::<u64, eyre::Report>(lane.sequence)
                }
            };
            let sent = read(&leg.source).await;
            let delivered = read(&leg.destination).await;
            match (sent, delivered) {
                (Ok(sent), Ok(delivered)) => {
                    let pending = sent.saturating_sub(delivered);
                    println!(
                        "  {} {} -> {}  lane {}  sent {sent}  delivered {delivered}{}",
                        route.symbol,
                        from,
                        to,
                        leg.lane,
                        if pending > 0 { format!("  ({pending} in flight)") } else { String::new() }
                    );
                }
                (sent, delivered) => {
                    let show = |r: &Result<u64>| match r {
                        Ok(n) => n.to_string(),
                        Err(e) => format!("? ({e})"),
                    };
                    println!(
                        "  {} {} -> {}  lane {}  sent {}  delivered {}",
                        route.symbol,
                        from,
                        to,
                        leg.lane,
                        show(&sent),
                        show(&delivered)
                    );
                    problems.push(format!("route {} {from} -> {to}: cannot read the lane", route.symbol));
                }
            }
        }
        for chain in &manifest.chains {
            let Some((_, provider)) = providers.iter().find(|(n, _)| *n == chain.chain.name) else {
                continue;
            };
            match tokio::time::timeout(PROBE_TIMEOUT, route_state(provider.clone(), chain.chain.bridge, route.route_id))
                .await
            {
                Ok(Ok(state)) => println!("  {} on {}: {state}", route.symbol, chain.chain.name),
                _ => problems.push(format!("route {} on {}: cannot read its state", route.symbol, chain.chain.name)),
            }
        }
    }

    if problems.is_empty() {
        println!("all up");
        return Ok(());
    }
    println!("problems:");
    for problem in &problems {
        println!("  {problem}");
    }
    bail!(
        "the devnet is degraded ({} problem{} above): look at the logs in {}, or start over with \
         `zerobridge devnet down && zerobridge devnet up`",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        layout.logs().display()
    )
}
