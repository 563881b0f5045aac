//! `stake status`: each staked chain's stake manager, its operators (stake, unbonding, locks,
//! owed, jailed, lanes, rewards) and its lanes' snapshots, as values the CLI renders.

use alloy::primitives::{Address, B256, U256};
use eyre::{Result, eyre};
use zb_contracts::stake::StakeManager;

use super::args::{LaneArg, StatusArgs};
use super::lanes::{devnet_operator, devnet_role, known_outbound_lanes, labelled, resolve_lane};
use super::manager::{Asset, OUTBOUND, PENDING, StakeConfig, Staking, chain_now, expiry_text, snapshot_set, u96};
use super::rewards::{reporter_payouts, reward_balances};
use super::unbond::{Schedule, lock_text, locked_stake};
use crate::context::{Conn, Context};
use crate::network::ChainInfo;

/// A chain's stake manager and what `stake status` shows of it.
#[derive(Debug, Clone)]
pub struct ChainStatus {
    pub chain: String,
    pub address: Address,
    pub asset: Asset,
    pub config: StakeConfig,
    /// The chain's clock, its current epoch and when the next starts.
    pub now: u64,
    pub epoch: u64,
    pub next_epoch_at: u64,
    pub operators: Vec<OperatorStatus>,
    pub lanes: Vec<LaneStatus>,
}

#[derive(Debug, Clone)]
pub struct OperatorStatus {
    pub address: Address,
    /// Its devnet account name ("operator-2").
    pub role: Option<String>,
    /// None when it is not registered on this chain.
    pub registered: Option<Bond>,
}

/// A registered operator's bond, lanes and rewards.
#[derive(Debug, Clone)]
pub struct Bond {
    pub signer: Address,
    pub active: U256,
    pub unbonding: U256,
    /// When the unbonding stake can leave (None when nothing is unbonding).
    pub schedule: Option<Schedule>,
    /// The lock on its bond, in words (None when nothing is locked).
    pub locked: Option<String>,
    pub owed: U256,
    pub jailed: bool,
    pub fraud_proven: bool,
    pub lanes: Vec<Allocation>,
    /// Unclaimed rewards, each in its token ("1.5 DEMO"), and its unclaimed reporter payouts.
    pub rewards: Vec<String>,
    pub reporter_payout: U256,
}

/// An operator's allocation to a lane, and whether the lane's snapshot counts it.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub label: String,
    pub allocated: U256,
    pub membership: Membership,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    Member { epoch: u64, weight: U256 },
    Outside { epoch: u64 },
    NoSnapshot,
}

#[derive(Debug, Clone)]
pub struct LaneStatus {
    pub lane: B256,
    pub label: String,
    /// None when it is not an outbound lane of this chain.
    pub outbound: Option<LaneStake>,
}

#[derive(Debug, Clone)]
pub struct LaneStake {
    /// The route's status on this chain's bridge.
    pub route_status: u8,
    pub snapshot: Option<SnapshotStatus>,
    /// `maxOperatorShareBps` (0: no cap).
    pub share_cap_bps: u16,
    pub candidates: usize,
    /// Candidates the snapshot does not count.
    pub outside: usize,
}

#[derive(Debug, Clone)]
pub struct SnapshotStatus {
    pub epoch: u64,
    /// (signer, operator, devnet role, weight).
    pub members: Vec<(Address, Address, Option<String>, U256)>,
    pub threshold: U256,
    pub total_weight: U256,
    pub set_hash: B256,
    /// When the destination stops accepting the set, in words.
    pub expiry: String,
    /// `laneSecurity`: total stake, validators, and what a forging quorum loses.
    pub total_stake: U256,
    pub validators: U256,
    pub quorum_loss: U256,
    pub bridge: BridgeSet,
}

/// The bridge's set of the lane against the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeSet {
    Snapshot,
    /// The route is Pending and the bridge has another set: re-commit to install the snapshot.
    Pending(B256),
    /// A set update is in flight or due.
    Other(B256),
}

/// `stake status`, one chain at a time (so a caller can show each as it comes): the chains,
/// then for each [`StatusQuery::open`], [`StatusQuery::lanes`] and [`StatusQuery::chain`].
pub struct StatusQuery {
    ctx: Context,
    args: StatusArgs,
    chains: Vec<ChainInfo>,
    wanted_operator: Option<Address>,
}

impl StatusQuery {
    pub fn new(args: &StatusArgs) -> Result<StatusQuery> {
        let ctx = Context::load(&args.network)?;
        let chains: Vec<ChainInfo> = match &args.chain {
            Some(name) => vec![ctx.network.chain(name)?.clone()],
            None => ctx.network.chains.clone(),
        };
        let wanted_operator = match (args.address, args.operator) {
            (Some(address), _) => Some(address),
            (None, Some(n)) => Some(devnet_operator(&ctx, n)?.address()),
            (None, None) => None,
        };
        Ok(StatusQuery { ctx, args: args.clone(), chains, wanted_operator })
    }

    pub fn chains(&self) -> &[ChainInfo] {
        &self.chains
    }

    /// The chain's stake manager; None (skip it) when it has none, unless `--chain` named it.
    pub async fn open(&self, info: &ChainInfo) -> Result<Option<Staking>> {
        let conn = Conn::connect(info).await?;
        let staking = Staking::try_open(&conn).await?;
        if staking.is_none() && self.args.chain.is_some() {
            Staking::open(&conn).await?;
        }
        Ok(staking)
    }

    /// The lanes to show on the chain; None (skip it) when `--route` is not on it.
    pub async fn lanes(&self, staking: &Staking) -> Result<Option<Vec<B256>>> {
        Ok(Some(match (&self.args.lane, &self.args.route) {
            (Some(lane), _) => vec![*lane],
            (None, Some(route)) => {
                let arg = LaneArg { route: Some(route.clone()), lane: None };
                match resolve_lane(&self.ctx, &staking.conn, &arg).await {
                    Ok(lane) => vec![lane],
                    Err(e) if self.args.chain.is_some() => return Err(e),
                    Err(_) => return Ok(None),
                }
            }
            (None, None) => known_outbound_lanes(&self.ctx, &staking.conn.info),
        }))
    }

    /// The refusal when no chain had a stake manager.
    pub fn none_staked() -> eyre::Report {
        eyre!("no chain of this network has a stake manager: its validator sets are configured by governance")
    }

    pub async fn chain(&self, staking: &Staking, lanes: &[B256]) -> Result<ChainStatus> {
        let ctx = &self.ctx;
        let now = chain_now(&staking.conn).await?;
        let epoch = staking.current_epoch(now);
        let lanes_only = self.args.lane.is_some() || self.args.route.is_some();
        let operators = operators_shown(ctx, staking, lanes, self.wanted_operator, lanes_only).await?;
        let mut snapshots: Vec<(B256, StakeManager::Snapshot)> = Vec::new();
        let payouts = if operators.is_empty() { Vec::new() } else { reporter_payouts(ctx, staking).await? };
        let mut shown = Vec::new();
        for operator in operators {
            let op = staking.operator(operator).await?;
            let registered = if op.signer == Address::ZERO {
                None
            } else {
                let payout = payouts
                    .iter()
                    .filter(|(reporter, _)| *reporter == operator)
                    .fold(U256::ZERO, |sum, (_, p)| sum + p.owed);
                Some(bond(ctx, staking, operator, &op, now, &mut snapshots, payout).await?)
            };
            shown.push(OperatorStatus { address: operator, role: devnet_role(ctx, operator), registered });
        }
        let mut lane_status = Vec::new();
        for &lane in lanes {
            lane_status.push(lane_stake(ctx, staking, lane).await?);
        }
        Ok(ChainStatus {
            chain: staking.on().to_string(),
            address: staking.address,
            asset: staking.asset.clone(),
            config: staking.config.clone(),
            now,
            epoch,
            next_epoch_at: staking.epoch_start(epoch + 1),
            operators: shown,
            lanes: lane_status,
        })
    }
}

/// The operators shown: the one asked for, else every candidate of the lanes shown (and the devnet's).
async fn operators_shown(
    ctx: &Context,
    staking: &Staking,
    lanes: &[B256],
    wanted: Option<Address>,
    lanes_only: bool,
) -> Result<Vec<Address>> {
    if let Some(address) = wanted {
        return Ok(vec![address]);
    }
    let mut operators: Vec<Address> = Vec::new();
    for &lane in lanes {
        let candidates =
            staking.sm().candidates(lane).call().await.map_err(|e| staking.conn.read_err("candidates", e))?;
        for candidate in candidates {
            if !operators.contains(&candidate) {
                operators.push(candidate);
            }
        }
    }
    if !lanes_only && let Some(manifest) = &ctx.manifest {
        for account in manifest.accounts.iter().filter(|a| a.role.starts_with("operator-")) {
            if !operators.contains(&account.address) {
                operators.push(account.address);
            }
        }
    }
    Ok(operators)
}

async fn bond(
    ctx: &Context,
    staking: &Staking,
    operator: Address,
    op: &StakeManager::Operator,
    now: u64,
    snapshots: &mut Vec<(B256, StakeManager::Snapshot)>,
    reporter_payout: U256,
) -> Result<Bond> {
    let sm = staking.sm();
    let lock = locked_stake(staking, operator).await?;
    let locked = (!lock.0.is_zero()).then(|| lock_text(staking, op, lock, now));
    let op_lanes = sm.lanesOf(operator).call().await.map_err(|e| staking.conn.read_err("lanesOf", e))?;
    let mut lanes = Vec::new();
    for lane in op_lanes {
        let allocated =
            sm.allocation(operator, lane).call().await.map_err(|e| staking.conn.read_err("allocation", e))?;
        let snapshot = match snapshots.iter().find(|(l, _)| *l == lane) {
            Some((_, s)) => s.clone(),
            None => {
                let s = staking.snapshot(lane).await?;
                snapshots.push((lane, s.clone()));
                s
            }
        };
        let membership = match snapshot.members.iter().find(|m| m.operator == operator) {
            Some(m) => Membership::Member { epoch: snapshot.epoch, weight: u96(m.weight) },
            None if snapshot.committed => Membership::Outside { epoch: snapshot.epoch },
            None => Membership::NoSnapshot,
        };
        lanes.push(Allocation { label: labelled(ctx, lane), allocated, membership });
    }
    let rewards = reward_balances(ctx, staking, operator).await?.into_iter().map(|(_, _, text)| text).collect();
    Ok(Bond {
        signer: op.signer,
        active: op.active,
        unbonding: op.unbonding,
        schedule: (!op.unbonding.is_zero()).then(|| Schedule::of(op, now)),
        locked,
        owed: op.owed,
        jailed: op.jailed,
        fraud_proven: op.fraudProven,
        lanes,
        rewards,
        reporter_payout,
    })
}

async fn lane_stake(ctx: &Context, staking: &Staking, lane: B256) -> Result<LaneStatus> {
    let sm = staking.sm();
    let state = staking.lane(lane).await?;
    let label = labelled(ctx, lane);
    if state.direction != OUTBOUND {
        return Ok(LaneStatus { lane, label, outbound: None });
    }
    let snapshot = staking.snapshot(lane).await?;
    let candidates = sm.candidates(lane).call().await.map_err(|e| staking.conn.read_err("candidates", e))?;
    let shown = if !snapshot.committed {
        None
    } else {
        let members = snapshot
            .members
            .iter()
            .map(|m| (m.signer, m.operator, devnet_role(ctx, m.operator), u96(m.weight)))
            .collect();
        let now = chain_now(&staking.conn).await?;
        let expiry = expiry_text(&snapshot_set(&snapshot)?, now);
        let security = sm.laneSecurity(lane).call().await.map_err(|e| staking.conn.read_err("laneSecurity", e))?;
        let bridge = if state.validatorSetHash == snapshot.setHash {
            BridgeSet::Snapshot
        } else if state.status == PENDING {
            BridgeSet::Pending(state.validatorSetHash)
        } else {
            BridgeSet::Other(state.validatorSetHash)
        };
        Some(SnapshotStatus {
            epoch: snapshot.epoch,
            members,
            threshold: u96(snapshot.threshold),
            total_weight: u96(snapshot.totalWeight),
            set_hash: snapshot.setHash,
            expiry,
            total_stake: security.totalStake,
            validators: security.validators,
            quorum_loss: security.quorumLoss,
            bridge,
        })
    };
    let share_cap_bps =
        sm.maxOperatorShareBps(lane).call().await.map_err(|e| staking.conn.read_err("maxOperatorShareBps", e))?;
    let outside = candidates.iter().filter(|c| !snapshot.members.iter().any(|m| m.operator == **c)).count();
    Ok(LaneStatus {
        lane,
        label,
        outbound: Some(LaneStake {
            route_status: state.status,
            snapshot: shown,
            share_cap_bps,
            candidates: candidates.len(),
            outside,
        }),
    })
}
