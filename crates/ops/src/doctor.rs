//! `doctor`: is every chain reachable, who holds ADMIN (a single key?), can one operator sign a
//! staked lane alone, are stake sets expiring, do the agents' configs trust a single RPC answer.
//! Returns findings; printing is the caller's.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use eyre::Result;
use zb_contracts::manager::AccessManager;
use zb_contracts::stake::StakeManager;

use crate::context::{Conn, Context, NetworkArgs};
use crate::format::one_line;
use crate::governance::{committee_of, manager_of};
use crate::stake::{Staking, bps_percent, chain_now, expiry_text, known_outbound_lanes, labelled, snapshot_set};

const SINGLE_KEY: &str = "FISCO-style admin mode: fine on a devnet, never in production";

/// What to check: the network, and accounts beyond the manifest's that may hold ADMIN.
#[derive(Debug, Clone)]
pub struct DoctorInput {
    pub network: NetworkArgs,
    pub committees: Vec<Address>,
    pub accounts: Vec<Address>,
    /// Validator, relayer or watchtower config files whose `[[chains]]` RPC quorums to check.
    pub agent_configs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Error,
}

/// One check's outcome on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub chain: String,
    pub text: String,
}

impl Finding {
    fn new(level: Level, chain: &str, text: impl Into<String>) -> Self {
        Self { level, chain: chain.to_string(), text: text.into() }
    }
}

/// Every finding, chain by chain in network order. Errors reaching a chain are findings too, so
/// one unreachable chain does not hide the others.
pub async fn doctor(input: &DoctorInput) -> Result<Vec<Finding>> {
    use Level::{Error, Ok as Fine, Warn};
    let ctx = Context::load(&input.network)?;
    let mut candidates: Vec<(String, Address)> = Vec::new();
    if let Some(m) = &ctx.manifest {
        candidates.extend(m.accounts.iter().map(|a| (a.role.clone(), a.address)));
    }
    candidates.extend(input.committees.iter().map(|a| ("committee".to_string(), *a)));
    candidates.extend(input.accounts.iter().map(|a| ("account".to_string(), *a)));
    let mut out = Vec::new();
    for path in &input.agent_configs {
        check_rpc_quorums(path, &mut out);
    }
    for info in &ctx.network.chains {
        let on = info.name.as_str();
        let conn = match Conn::connect(info).await {
            Ok(c) => c,
            Err(e) => {
                out.push(Finding::new(Error, on, one_line(format!("{e:#}"))));
                continue;
            }
        };
        out.push(Finding::new(Fine, on, format!("reachable at {}, chain id {}", info.rpc, info.chain_id)));
        let manager = match manager_of(&conn).await {
            Ok(m) => m,
            Err(e) => {
                out.push(Finding::new(Error, on, one_line(format!("{e:#}"))));
                continue;
            }
        };
        let am = AccessManager::new(manager, conn.provider.clone());
        let mut admins = 0;
        for (label, account) in &candidates {
            let has = match am.hasRole(0, *account).call().await {
                Ok(r) => r.isMember,
                Err(e) => {
                    out.push(Finding::new(Error, on, format!("hasRole on manager {manager}: {}", one_line(&e))));
                    break;
                }
            };
            if !has {
                continue;
            }
            admins += 1;
            let code = match conn.provider.get_code_at(*account).await {
                Ok(code) => code,
                Err(e) => {
                    let e = conn.read_err("code", e);
                    out.push(Finding::new(Error, on, one_line(format!("{e:#}"))));
                    break;
                }
            };
            if code.is_empty() {
                out.push(Finding::new(
                    Warn,
                    on,
                    format!(
                        "ADMIN_ROLE on manager {manager} is held by {account} ({label}), a single key (EOA): {SINGLE_KEY}"
                    ),
                ));
                continue;
            }
            let c = committee_of(&conn, *account);
            let single = c.isSingleKey().call().await;
            let timelock = c.timelockDelay().call().await;
            let members = c.memberCount().call().await;
            out.push(match (single, timelock, members) {
                (Ok(single), Ok(timelock), Ok(members)) if single || timelock == 0 => Finding::new(
                    Warn,
                    on,
                    format!(
                        "ADMIN_ROLE on manager {manager} is held by committee {account} ({members} member(s), single key: {single}, timelock {timelock}s): {SINGLE_KEY}"
                    ),
                ),
                (Ok(_), Ok(timelock), Ok(members)) => Finding::new(
                    Fine,
                    on,
                    format!(
                        "ADMIN_ROLE on manager {manager} is held by committee {account} ({members} members, timelock {timelock}s)"
                    ),
                ),
                _ => Finding::new(
                    Fine,
                    on,
                    format!("ADMIN_ROLE on manager {manager} is held by contract {account} ({label})"),
                ),
            });
        }
        if admins == 0 {
            out.push(Finding::new(
                Warn,
                on,
                format!(
                    "none of the known accounts holds ADMIN_ROLE on manager {manager}: pass the committee with --committee"
                ),
            ));
        }
        // Findings made before a read failure are kept, then the failure.
        if let Err(e) = check_staked_lanes(&ctx, &conn, &mut out).await {
            out.push(Finding::new(Error, on, format!("reading the stake manager: {}", one_line(format!("{e:#}")))));
        }
    }
    Ok(out)
}

/// The `[[chains]]` of an agent's config, as far as the RPC quorum goes.
#[derive(serde::Deserialize)]
struct AgentChains {
    #[serde(default)]
    chains: Vec<QuorumOf>,
}

#[derive(serde::Deserialize)]
struct QuorumOf {
    name: String,
    rpc: Vec<String>,
    rpc_quorum: Option<usize>,
}

/// One finding per chain of the config: a quorum of 1 over remote endpoints is an error (the
/// agents refuse it), a quorum that half of the endpoints reach is a warning (two groups can each
/// reach it, and the agent then stalls rather than pick one).
fn check_rpc_quorums(path: &Path, out: &mut Vec<Finding>) {
    use Level::{Error, Ok as Fine, Warn};
    let file = path.display().to_string();
    let parsed = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}")).and_then(|text| {
        toml::from_str::<AgentChains>(&text).map_err(|e| one_line(format!("not an agent config: {e}")))
    });
    let config = match parsed {
        Ok(config) => config,
        Err(e) => return out.push(Finding::new(Error, &file, e)),
    };
    for chain in config.chains {
        let (n, q) = (chain.rpc.len(), chain.rpc_quorum.unwrap_or(1));
        let local = chain.rpc.iter().all(|url| zb_chain::on_this_machine(url));
        let on = format!("{file} [{}]", chain.name);
        out.push(if q < 2 && !local {
            Finding::new(
                Error,
                &on,
                format!(
                    "rpc_quorum {q} over {n} endpoint(s) trusts a single provider's answer, and the agent refuses to \
                     start: list at least two independent providers and set rpc_quorum = 2 or more"
                ),
            )
        } else if q < 2 {
            Finding::new(Warn, &on, "rpc_quorum 1 on a node of this machine: fine on a devnet, never in production")
        } else if 2 * q <= n {
            Finding::new(
                Warn,
                &on,
                format!(
                    "rpc_quorum {q} of {n}: two groups of endpoints can each reach it, and the agent then refuses \
                     both answers; use more than half ({})",
                    n / 2 + 1
                ),
            )
        } else {
            Finding::new(Fine, &on, format!("rpc_quorum {q} of {n}: {q} identical answers are needed"))
        });
    }
}

/// The member of `snapshot` that reaches its threshold alone (the heaviest such), if any: its
/// signing key can sign anything on the lane by itself.
fn single_operator_quorum(snapshot: &StakeManager::Snapshot) -> Option<&StakeManager::Member> {
    snapshot.members.iter().filter(|m| m.weight >= snapshot.threshold).max_by_key(|m| m.weight)
}

/// Each staked lane the network knows on this chain: whether one operator meets its threshold
/// alone (and the governance cap that prevents it), and whether its set is expired or due for
/// renewal.
async fn check_staked_lanes(ctx: &Context, conn: &Conn, out: &mut Vec<Finding>) -> Result<()> {
    use Level::{Ok as Fine, Warn};
    let Some(staking) = Staking::try_open(conn).await? else {
        return Ok(());
    };
    let on = conn.info.name.as_str();
    let now = chain_now(conn).await?;
    for lane in known_outbound_lanes(ctx, &conn.info) {
        let label = labelled(ctx, lane);
        let snapshot = staking.snapshot(lane).await?;
        if !snapshot.committed {
            out.push(Finding::new(
                Warn,
                on,
                format!("lane {label} has no stake snapshot yet: operators opt in, then `zerobridge stake commit`"),
            ));
            continue;
        }
        let cap =
            staking.sm().maxOperatorShareBps(lane).call().await.map_err(|e| conn.read_err("maxOperatorShareBps", e))?;
        let cap_note = if cap == 0 {
            String::new()
        } else {
            format!("; maxOperatorShareBps {cap}: one operator weighs at most {} of a snapshot", bps_percent(cap))
        };
        let asset = &staking.asset;
        out.push(match single_operator_quorum(&snapshot) {
            Some(m) => Finding::new(
                Warn,
                on,
                format!(
                    "lane {label}: operator {} alone weighs {} of the threshold {}, so its key can sign \
                     anything on the lane by itself; cap one operator's share through governance: \
                     setMaxOperatorShare(lane, shareBps) on the stake manager {} (below 6667 bps no single operator \
                     reaches the threshold), then commit the next epoch{cap_note}",
                    m.operator,
                    asset.fmt(U256::from(m.weight)),
                    asset.fmt(U256::from(snapshot.threshold)),
                    staking.address
                ),
            ),
            None => Finding::new(
                Fine,
                on,
                format!(
                    "lane {label}: no operator reaches the threshold alone ({} members){cap_note}",
                    snapshot.members.len()
                ),
            ),
        });
        let set = snapshot_set(&snapshot)?;
        let commit = format!("`zerobridge stake commit --chain {on} --lane {lane}`");
        if set.expired_at(now) {
            out.push(Finding::new(
                Warn,
                on,
                format!(
                    "lane {label}: {}; commit a new snapshot ({commit}), then governance copies it to the \
                     destination with StakeManager.replaceExpiredInboundSet (an expired set cannot sign its own renewal)",
                    expiry_text(&set, now)
                ),
            ));
        } else if set.valid_until - now < staking.config.set_lifetime / 2 {
            out.push(Finding::new(
                Warn,
                on,
                format!(
                    "lane {label}: {}; anyone renews it with {commit} (the set update must then be delivered \
                     before the set expires)",
                    expiry_text(&set, now)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::B256;

    fn snapshot(weights: &[u64]) -> StakeManager::Snapshot {
        use alloy::primitives::aliases::U96;
        let total: u64 = weights.iter().sum();
        StakeManager::Snapshot {
            committed: true,
            epoch: 1,
            validUntil: 1_000,
            threshold: U96::from((total * 2).div_ceil(3)),
            totalWeight: U96::from(total),
            setHash: B256::ZERO,
            members: weights
                .iter()
                .zip(1u8..)
                .map(|(w, i)| StakeManager::Member {
                    operator: Address::repeat_byte(0x10 + i),
                    signer: Address::repeat_byte(i),
                    weight: U96::from(*w),
                })
                .collect(),
        }
    }

    #[test]
    fn agent_configs_with_a_lone_remote_rpc_answer_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.toml");
        let chain = |name: &str, rpc: &[&str], quorum: Option<usize>| {
            let quorum = quorum.map(|q| format!("rpc_quorum = {q}\n")).unwrap_or_default();
            format!("[[chains]]\nname = \"{name}\"\nrpc = {rpc:?}\n{quorum}")
        };
        let text = [
            chain("lone", &["https://a.example"], None),
            chain("local", &["http://127.0.0.1:8545"], None),
            chain(
                "split",
                &["https://a.example", "https://b.example", "https://c.example", "https://d.example"],
                Some(2),
            ),
            chain("majority", &["https://a.example", "https://b.example", "https://c.example"], Some(2)),
        ]
        .join("\n");
        std::fs::write(&path, text).expect("write");
        let mut out = Vec::new();
        check_rpc_quorums(&path, &mut out);
        let levels: Vec<Level> = out.iter().map(|f| f.level).collect();
        assert_eq!(levels, [Level::Error, Level::Warn, Level::Warn, Level::Ok], "{out:?}");
        assert!(out[0].chain.ends_with("[lone]") && out[0].text.contains("single provider"), "{out:?}");
        assert!(out[2].text.contains("more than half (3)"), "{out:?}");

        let mut out = Vec::new();
        check_rpc_quorums(&dir.path().join("missing.toml"), &mut out);
        assert!(out.len() == 1 && out[0].level == Level::Error && out[0].text.contains("cannot read"), "{out:?}");
    }

    #[test]
    fn one_operator_meeting_the_threshold_alone_is_found() {
        // The devnet: four equal operators.
        assert!(single_operator_quorum(&snapshot(&[1000, 1000, 1000, 1000])).is_none());
        // 9000 of 12000: the threshold is 8000.
        let heavy = snapshot(&[1000, 9000, 1000, 1000]);
        assert_eq!(single_operator_quorum(&heavy).map(|m| m.operator), Some(Address::repeat_byte(0x12)));
        // Exactly two thirds is enough on chain (weight >= threshold).
        assert!(single_operator_quorum(&snapshot(&[2000, 1000])).is_some());
        assert!(single_operator_quorum(&snapshot(&[1999, 1000])).is_none());
        // A lone member always signs alone.
        assert!(single_operator_quorum(&snapshot(&[5])).is_some());
        // Capped at 60% (what setMaxOperatorShare(lane, 6000) makes of the heavy lane): 4500 of 7500.
        assert!(single_operator_quorum(&snapshot(&[1000, 4500, 1000, 1000])).is_none());
    }
}
