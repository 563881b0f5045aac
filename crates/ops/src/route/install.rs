//! Steps 3 to 5 of `route register` on one chain: the lanes' validator sets, the route owner's
//! security level and the activation. Each checks the chain first, so a re-run resumes.

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, bail, eyre};
use zb_contracts::stake::StakeManager;
use zb_protocol::validator_set::ValidatorSet;

use super::errors::explain;
use super::register::Plan;
use super::security::Level;
use crate::context::{Conn, Context, transact_explained};
use crate::explain::status_name;
use crate::stake::{self, Staking, snapshot_set};

/// One chain's part in the registration.
pub(super) struct Side<'a> {
    pub(super) conn: &'a Conn,
    /// The same chain, signing with every key of the command.
    pub(super) tx: &'a Conn,
    /// Its stake manager: the lane whose source it is gets its set from stake.
    pub(super) staking: Option<&'a Staking>,
    /// The route's security level there (staked chains).
    pub(super) level: Option<&'a Level>,
}

/// The devnet operator keys (`operator-N` accounts) that opt in to the new lanes: only on the
/// devnet, and only when a chain is staked.
pub(super) fn devnet_operators(ctx: &Context, plan: &Plan) -> Result<Vec<PrivateKeySigner>> {
    let Some(manifest) = &ctx.manifest else {
        return Ok(Vec::new());
    };
    if !plan.security.staked() {
        return Ok(Vec::new());
    }
    manifest
        .accounts
        .iter()
        .filter(|a| a.role.starts_with("operator-"))
        .map(|a| {
            PrivateKeySigner::from_bytes(&a.private_key)
                .map_err(|e| eyre!("the devnet manifest's {} key is invalid ({e}): restart the devnet", a.role))
        })
        .collect()
}

/// [3/5] on a lane's source chain: its set. Staked: the devnet operators opt in, the epoch is
/// committed (the stake manager installs the snapshot while the route is Pending), and the
/// snapshot is the set. Otherwise governance installs the configured set.
pub(super) async fn outbound_set(
    side: &Side<'_>,
    lane: B256,
    plan: &Plan,
    operators: &[Address],
    governance: Address,
    payer: Address,
) -> Result<(ValidatorSet, String)> {
    let conn = side.conn;
    let on = &conn.info.name;
    let state = conn.bridge().getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let pending = status_name(state.status) == "Pending";
    let Some(staking) = side.staking else {
        let Some((set, description)) = &plan.security.configured else {
            bail!("{on} has no stake manager and no configured set was chosen: pass --security");
        };
        if state.validatorSetHash == set.hash() {
            return Ok((set.clone(), format!("{description}, already installed on {on}")));
        }
        if !pending {
            bail!(
                "lane {lane} on {on} is {} with validator set {}, not {}: a live lane's set changes only by rotation \
                 (queueValidatorSetUpdate)",
                status_name(state.status),
                state.validatorSetHash,
                set.hash()
            );
        }
        let bridge = side.tx.bridge();
        let call = bridge.installValidatorSet(lane, set.encode().into()).from(governance);
        transact_explained(call, "installValidatorSet (governance)", &conn.info, explain).await?;
        return Ok((set.clone(), format!("{description}, installed on {on}")));
    };
    if !pending {
        // Live: the set is what the stake manager committed; later epochs rotate it.
        let snapshot = staking.snapshot(lane).await?;
        return Ok((
            snapshot_set(&snapshot)?,
            format!("{on} stake snapshot of epoch {}, already live", snapshot.epoch),
        ));
    }
    let sm = StakeManager::new(staking.address, side.tx.provider.clone());
    let mut opted = 0;
    let mut opt_ins = Vec::new();
    for &operator in operators {
        let op = staking.operator(operator).await?;
        if op.signer == Address::ZERO || op.jailed || op.active < staking.config.min_stake {
            continue;
        }
        let allocated =
            staking.sm().allocation(operator, lane).call().await.map_err(|e| conn.read_err("allocation", e))?;
        if !allocated.is_zero() {
            continue;
        }
        opted += 1;
        let call = sm.optIn(lane, op.active).from(operator);
        opt_ins.push(async move { stake::transact(call, "optIn (devnet operator)", &conn.info).await });
    }
    futures::future::try_join_all(opt_ins).await?;
    let candidates = staking.sm().candidates(lane).call().await.map_err(|e| conn.read_err("candidates", e))?;
    if candidates.is_empty() {
        bail!(
            "lane {lane} on {on} has no operators opted in yet, so it has no validator set: operators opt in with \
             `zerobridge stake opt-in --chain {on} --lane {lane}`; then re-run this command to continue"
        );
    }
    stake::transact(sm.commitEpoch(lane).from(payer), "commitEpoch", &conn.info).await?;
    let snapshot = staking.snapshot(lane).await?;
    let set = snapshot_set(&snapshot)?;
    let joined = if opted > 0 { format!("{opted} devnet operators opted in; ") } else { String::new() };
    Ok((
        set,
        format!(
            "{joined}{on} stake snapshot of epoch {}: {} validators, {} in total",
            snapshot.epoch,
            snapshot.members.len(),
            staking.asset.fmt(U256::from(snapshot.totalWeight))
        ),
    ))
}

/// [3/5] on a lane's destination chain: the source's set, installed by governance (through the
/// stake manager on a staked chain, else directly on the bridge), unless it is there.
pub(super) async fn inbound_set(
    side: &Side<'_>,
    lane: B256,
    set: &ValidatorSet,
    governance: Address,
) -> Result<String> {
    let conn = side.conn;
    let state = conn.bridge().getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    if state.validatorSetHash == set.hash() {
        return Ok("already installed".to_string());
    }
    if status_name(state.status) != "Pending" {
        bail!(
            "lane {lane} on {} is {} with validator set {}, not the source's {}: a live lane's set changes only by a \
             delivered set update",
            conn.info.name,
            status_name(state.status),
            state.validatorSetHash,
            set.hash()
        );
    }
    match side.staking {
        Some(staking) => {
            let sm = StakeManager::new(staking.address, side.tx.provider.clone());
            let call = sm.installInboundSet(lane, set.encode().into()).from(governance);
            stake::transact(call, "installInboundSet (governance)", &conn.info).await?;
            Ok("installed by governance (installInboundSet)".to_string())
        }
        None => {
            let bridge = side.tx.bridge();
            let call = bridge.installValidatorSet(lane, set.encode().into()).from(governance);
            transact_explained(call, "installValidatorSet (governance)", &conn.info, explain).await?;
            Ok("installed by governance (installValidatorSet)".to_string())
        }
    }
}

/// [4/5] on a staked chain: the route owner's security level, then the check activation makes.
pub(super) async fn security_level(
    side: &Side<'_>,
    route_id: B256,
    lane: B256,
    owner: Address,
) -> Result<Option<String>> {
    let (Some(staking), Some(level)) = (side.staking, side.level) else {
        return Ok(None);
    };
    let conn = side.conn;
    let on = &conn.info.name;
    let current =
        conn.registry().securityLevels(route_id).call().await.map_err(|e| conn.read_err("securityLevels", e))?;
    let mut note = "already set";
    if current.minTotalStake != level.min_stake || current.minValidators != level.min_validators {
        let registry = side.tx.registry();
        let call = registry.setSecurityLevel(route_id, level.min_stake, level.min_validators).from(owner);
        transact_explained(call, "setSecurityLevel", &conn.info, explain).await?;
        note = "set";
    }
    let security = staking.sm().laneSecurity(lane).call().await.map_err(|e| conn.read_err("laneSecurity", e))?;
    let state = conn.bridge().getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let met = security.totalStake >= level.min_stake && security.validators >= U256::from(level.min_validators.max(1));
    if !met && status_name(state.status) == "Pending" {
        bail!(
            "lane {lane}'s stake snapshot on {on} has {} from {} validators, below the route's security level ({}): \
             more operators must opt in (`zerobridge stake opt-in --chain {on} --lane {lane}`), then re-run; or lower \
             --min-stake / --min-validators",
            staking.asset.fmt(security.totalStake),
            security.validators,
            level.describe()
        );
    }
    Ok(Some(format!(
        "security level {note}: {}; the snapshot has {} from {} validators ({})",
        level.describe(),
        staking.asset.fmt(security.totalStake),
        security.validators,
        if met { "met" } else { "NOT met" }
    )))
}

/// [5/5] on one chain: activateRoute (anyone may call it), unless already active.
pub(super) async fn activate(conn: &Conn, conn_tx: &Conn, route_id: B256, caller: Address) -> Result<&'static str> {
    let lanes = conn.bridge().getRoute(route_id).call().await.map_err(|e| conn.read_err("the route", e))?;
    let state = conn.bridge().getLane(lanes.outboundLane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    match status_name(state.status) {
        "Active" => return Ok("already active"),
        "Pending" => {}
        other => bail!("route {route_id} is {other} on {}: it cannot be activated", conn.info.name),
    }
    let registry = conn_tx.registry();
    let call = registry.activateRoute(route_id).from(caller);
    transact_explained(call, "activateRoute", &conn.info, explain).await?;
    Ok("Active")
}
