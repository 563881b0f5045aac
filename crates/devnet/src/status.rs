//! `zerobridge devnet status`: chains, agents and the demo route's lanes, and what is down, as
//! a [`StatusReport`] for the CLI to show.

use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use alloy::providers::{DynProvider, Provider};
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_ops::network::{ChainInfo, DevnetManifest};

use crate::probe::{http_client, http_provider};
use crate::process::{ProcessRecord, alive, read_processes};
use crate::{Layout, PROBE_TIMEOUT, watchtower};

/// One chain of the devnet.
#[derive(Debug, Clone)]
pub struct ChainStatus {
    pub name: String,
    pub chain_id: u64,
    pub rpc: String,
    pub pid: u32,
    pub running: bool,
    /// Its head, or why it cannot be read.
    pub head: std::result::Result<u64, String>,
}

/// One agent of the devnet.
#[derive(Debug, Clone)]
pub struct AgentStatus {
    pub name: String,
    pub url: String,
    pub pid: u32,
    pub running: bool,
    /// `/v1/health`'s status, or what is wrong with it.
    pub health: std::result::Result<String, String>,
}

/// One lane of a route: what its source sent and its destination delivered.
#[derive(Debug, Clone)]
pub struct LaneStatus {
    pub symbol: String,
    pub from: String,
    pub to: String,
    pub lane: B256,
    pub sent: std::result::Result<u64, String>,
    pub delivered: std::result::Result<u64, String>,
}

/// A route's state on one chain (status, fallback, grace), in one line.
#[derive(Debug, Clone)]
pub struct RouteStateLine {
    pub symbol: String,
    pub chain: String,
    pub state: String,
}

/// What `devnet status` found.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub dir: PathBuf,
    pub logs: PathBuf,
    pub chains: Vec<ChainStatus>,
    pub agents: Vec<AgentStatus>,
    /// The watchtower's readiness, and its KPIs in one line when they could be read.
    pub watchtower: Option<(String, Option<String>)>,
    pub lanes: Vec<LaneStatus>,
    pub route_states: Vec<RouteStateLine>,
    /// Everything that is down; empty if all is up.
    pub problems: Vec<String>,
}

/// The route's status and liveness on one chain, in one line.
async fn route_state(provider: DynProvider, bridge: alloy::primitives::Address, route_id: B256) -> Result<String> {
    let bridge = ZeroBridge::new(bridge, provider);
    let route = bridge.getRoute(route_id).call().await?;
    let lane = bridge.getLane(route.outboundLane).call().await?;
    let mut line = zb_ops::explain::status_name(lane.status).to_string();
    if route.fallbackSetHash.is_zero() {
        line.push_str("  no fallback set");
    } else {
        line.push_str(&format!(
            "  fallback after {} s  strikes {} of {}",
            route.fallbackDelay, route.strikes, route.strikeLimit
        ));
    }
    if route.graceUntil != 0 {
        line.push_str(&format!("  Emergency grace until {}", zb_ops::format::format_utc(route.graceUntil)));
    }
    Ok(line)
}

/// The state of every part of the devnet in `dir`; fails only if there is no devnet there.
pub async fn status(dir: &Path) -> Result<StatusReport> {
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
    let mut report = StatusReport {
        dir: layout.dir.canonicalize().unwrap_or_else(|_| layout.dir.clone()),
        logs: layout.logs(),
        chains: Vec::new(),
        agents: Vec::new(),
        watchtower: None,
        lanes: Vec::new(),
        route_states: Vec::new(),
        problems: Vec::new(),
    };
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
        report.chains.push(ChainStatus {
            name: chain.chain.name.clone(),
            chain_id: chain.chain.chain_id,
            rpc: chain.chain.rpc.clone(),
            pid: chain.pid,
            running,
            head: head.clone(),
        });
        if !running {
            problems.push(format!("anvil {} is not running", chain.chain.name));
        }
        if let Err(e) = head {
            problems.push(format!("{} RPC {}: {e}", chain.chain.name, chain.chain.rpc));
        }
    }

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
        report.agents.push(AgentStatus {
            name: agent.name.clone(),
            url: agent.url.clone(),
            pid: agent.pid,
            running,
            health: health.clone(),
        });
        if !running {
            problems.push(format!("{} is not running (log: {})", agent.name, agent.log.display()));
        }
        if let Err(e) = health {
            problems.push(format!("{} health: {e} (log: {})", agent.name, agent.log.display()));
        }
    }
    if let Some(tower) = &manifest.watchtower {
        // Not ready is shown, not a problem: it catches up after a start and retries failed polls.
        let readiness = watchtower::readiness(&http, &tower.url).await;
        let kpis = match watchtower::kpis(&http, &tower.url).await {
            Ok(line) => Some(line),
            Err(e) => {
                problems.push(format!("watchtower KPIs: {e} (log: {})", tower.log.display()));
                None
            }
        };
        report.watchtower = Some((readiness, kpis));
    }

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
            let shown = |r: Result<u64>| r.map_err(|e| e.to_string());
            let (sent, delivered) = (shown(sent), shown(delivered));
            if sent.is_err() || delivered.is_err() {
                problems.push(format!("route {} {from} -> {to}: cannot read the lane", route.symbol));
            }
            report.lanes.push(LaneStatus {
                symbol: route.symbol.clone(),
                from: from.clone(),
                to: to.clone(),
                lane: leg.lane,
                sent,
                delivered,
            });
        }
        for chain in &manifest.chains {
            let Some((_, provider)) = providers.iter().find(|(n, _)| *n == chain.chain.name) else {
                continue;
            };
            match tokio::time::timeout(PROBE_TIMEOUT, route_state(provider.clone(), chain.chain.bridge, route.route_id))
                .await
            {
                Ok(Ok(state)) => report.route_states.push(RouteStateLine {
                    symbol: route.symbol.clone(),
                    chain: chain.chain.name.clone(),
                    state,
                }),
                _ => problems.push(format!("route {} on {}: cannot read its state", route.symbol, chain.chain.name)),
            }
        }
    }

    report.problems = problems;
    Ok(report)
}
