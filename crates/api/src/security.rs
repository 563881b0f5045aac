//! Read live from the chains, like the routes: each lane's economic security (its source's stake
//! snapshot against the route's security level, zb_ops::route::lane_security), and the validators
//! behind the lanes with their liveness (crate::signers and the deliveries in the index).

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, B256, U256};
use zb_api_types::explorer::{
    ChainStake, EconomicSecurity, LaneSecurity, RouteEntry, StakeAsset, ValidatorEntry, ValidatorsResponse,
};
use zb_ops::context::Conn;
use zb_ops::route::lane_security;
use zb_ops::stake::Staking;

use crate::AppState;
use crate::signers::lane_legs;

/// A read failed: the chain's words.
pub type ReadError = String;

fn to_u64(value: U256) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// The economic security of both lanes of `entry` and the route's weakest figures.
pub async fn economic_security(conns: &[Conn], entry: &RouteEntry) -> Result<EconomicSecurity, ReadError> {
    let conn_of = |chain_id: u64| conns.iter().find(|c| c.info.chain_id == chain_id);
    let mut lanes = Vec::new();
    for (from, to) in [(&entry.home, &entry.remote), (&entry.remote, &entry.home)] {
        let (Some(src), Some(dst)) = (conn_of(from.chain_id), conn_of(to.chain_id)) else { continue };
        let lane = zb_protocol::lane_id(
            src.info.chain_id,
            src.info.bridge,
            dst.info.chain_id,
            dst.info.bridge,
            entry.route_id,
        );
        let staking = Staking::try_open(src).await.map_err(|e| e.to_string())?;
        let Some(staking) = staking else {
            lanes.push(LaneSecurity {
                from: from.chain.clone(),
                to: to.chain.clone(),
                lane,
                asset: None,
                stake: None,
                required_stake: None,
                validators: None,
                required_validators: None,
                quorum_loss: None,
                snapshot_epoch: None,
                met: false,
            });
            continue;
        };
        let facts =
            lane_security(&staking.conn, &staking, None, entry.route_id, lane).await.map_err(|e| e.to_string())?;
        lanes.push(LaneSecurity {
            from: from.chain.clone(),
            to: to.chain.clone(),
            lane,
            asset: Some(StakeAsset {
                token: staking.asset.token,
                symbol: staking.asset.symbol.clone(),
                decimals: staking.asset.decimals,
            }),
            stake: Some(facts.total_stake.to_string()),
            required_stake: Some(facts.min_total_stake.to_string()),
            validators: Some(to_u64(facts.validators)),
            required_validators: Some(facts.min_validators),
            quorum_loss: Some(facts.quorum_loss.to_string()),
            snapshot_epoch: facts.snapshot.as_ref().map(|(epoch, _, _)| *epoch),
            met: facts.level_met,
        });
    }
    let amount = |text: &Option<String>| text.as_deref().and_then(|t| t.parse::<U256>().ok());
    let staked: Vec<&LaneSecurity> = lanes.iter().filter(|l| l.asset.is_some()).collect();
    let least = |pick: &dyn Fn(&LaneSecurity) -> Option<U256>| staked.iter().filter_map(|l| pick(l)).min();
    let most = |pick: &dyn Fn(&LaneSecurity) -> Option<U256>| staked.iter().filter_map(|l| pick(l)).max();
    Ok(EconomicSecurity {
        stake: least(&|l| amount(&l.stake)).map(|v| v.to_string()),
        required_stake: most(&|l| amount(&l.required_stake)).map(|v| v.to_string()),
        validators: least(&|l| l.validators.map(U256::from)).map(to_u64),
        required_validators: most(&|l| l.required_validators.map(U256::from)).map(to_u64),
        met: !lanes.is_empty() && lanes.iter().all(|l| l.met),
        lanes,
    })
}

/// One signer as the list is built.
#[derive(Default)]
struct Building {
    operator: Option<Address>,
    stake: BTreeMap<String, ChainStake>,
    lanes: Vec<B256>,
    last_seen: Option<u64>,
    live: bool,
}

/// Every validator of every staked lane's committed snapshot, and every signer seen in a
/// delivery; with its bond, lanes and liveness.
pub async fn validators(state: &AppState, conns: &[Conn], window: u64) -> Result<ValidatorsResponse, ReadError> {
    let mut by_signer: BTreeMap<Address, Building> = BTreeMap::new();
    let mut staking_of: HashMap<u64, Option<Staking>> = HashMap::new();
    for leg in lane_legs(&state.ctx.network) {
        let Some(conn) = conns.iter().find(|c| c.info.chain_id == leg.source.chain_id) else { continue };
        let staking = match staking_of.entry(leg.source.chain_id) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Staking::try_open(conn).await.map_err(|e| e.to_string())?)
            }
        };
        let Some(staking) = staking.as_ref() else { continue };
        let snapshot = staking.snapshot(leg.lane).await.map_err(|e| e.to_string())?;
        if !snapshot.committed {
            continue;
        }
        for member in &snapshot.members {
            let entry = by_signer.entry(member.signer).or_default();
            entry.operator.get_or_insert(member.operator);
            if !entry.lanes.contains(&leg.lane) {
                entry.lanes.push(leg.lane);
            }
            if !entry.stake.contains_key(&leg.source.name) {
                let operator = staking.operator(member.operator).await.map_err(|e| e.to_string())?;
                entry.stake.insert(
                    leg.source.name.clone(),
                    ChainStake {
                        chain: leg.source.name.clone(),
                        amount: operator.active.to_string(),
                        symbol: staking.asset.symbol.clone(),
                        decimals: staking.asset.decimals,
                    },
                );
            }
        }
    }

    // Liveness by the API's clock: a delivery's block timestamp or the time a probe verified it.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    for signing in state.store.latest_signings().await.map_err(|e| e.to_string())? {
        let entry = by_signer.entry(signing.signer).or_default();
        if !entry.lanes.contains(&signing.lane) && entry.operator.is_none() {
            entry.lanes.push(signing.lane);
        }
        entry.last_seen = entry.last_seen.max(Some(signing.at));
    }
    if let Ok(view) = state.signers.lock() {
        for ((_, signer), seen) in &view.seen {
            let Some(entry) = by_signer.get_mut(signer) else { continue };
            entry.last_seen = entry.last_seen.max(Some(seen.at));
        }
    }
    for entry in by_signer.values_mut() {
        entry.live = entry.last_seen.is_some_and(|at| now.saturating_sub(at) <= window);
    }
    let validators = by_signer
        .into_iter()
        .map(|(signer, b)| ValidatorEntry {
            signer,
            operator: b.operator,
            stake: b.stake.into_values().collect(),
            lanes: b.lanes,
            last_seen_signing: b.last_seen,
            live: b.live,
        })
        .collect();
    Ok(ValidatorsResponse { live_window_secs: window, validators })
}
