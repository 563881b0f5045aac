//! Validators configured with stake managers only (no `[[lanes]]`) secure the lanes their
//! operators opted in to, and follow opt-ins and opt-outs at runtime without a restart:
//! - operator 0 opted out of the lane to home before its validator started, but the lane's
//!   current set still lists it: validator 0 finds the lane as *leaving* (it would sign only a
//!   hand-over) and the other three deliver it;
//! - operator 0 opts in again: the lane is active again and validator 0 signs its checkpoints;
//! - operator 0 opts out of the lane to remote: no new sequence is signed there (410), past ones
//!   are still served; the next epoch's set update hands the lane over, validator 0 signs that
//!   set update (the old set must), then drops the lane; the new set delivers what follows;
//! - operator 0 opts in to it again: the lane is added at runtime and caught up from
//!   `start_block`;
//! - after a restart, everything signed before is still served;
//! - `GET /v1/lanes` reports each lane's economic security as the stake manager and the bridge
//!   have it.

use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, bail, ensure, eyre};
use zb_api_types::validator::{LaneSecurityStatus, LaneState, LanesResponse};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_e2e::devnet::wait_until;
use zb_e2e::{Chain, Devnet, DevnetOptions, Direction, Served, tokens};

use crate::DELIVERY;

/// Failure bound for a validator to apply an opt-in change (refresh every second, finality 2).
const PICKUP: Duration = Duration::from_secs(45);

/// The StakeManager of `chain`, driven by validator `i`'s operator key (from the deployment).
fn operator(
    devnet: &Devnet,
    i: usize,
    chain: Chain,
) -> Result<(StakeManager::StakeManagerInstance<DynProvider>, Address)> {
    let key = devnet.manifest().operator_keys.get(i).ok_or_else(|| eyre!("no operator key {i}"))?;
    let signer = PrivateKeySigner::from_bytes(&B256::from(*key)).wrap_err("operator key")?;
    let address = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(devnet.chain(chain).http().parse()?)
        .erased();
    Ok((StakeManager::new(stake_manager(devnet, chain), provider), address))
}

fn stake_manager(devnet: &Devnet, chain: Chain) -> Address {
    match chain {
        Chain::Home => devnet.manifest().home.stake_manager,
        Chain::Remote => devnet.manifest().remote.stake_manager,
    }
}

/// Sends a transaction and waits for a successful receipt; returns its block number.
async fn transact<P: Provider, D: alloy::contract::CallDecoder>(
    what: &str,
    call: alloy::contract::CallBuilder<P, D>,
) -> Result<u64> {
    let pending = call.send().await.map_err(|e| {
        let reason = e
            .as_decoded_interface_error::<StakeManager::StakeManagerErrors>()
            .map_or_else(|| e.to_string(), |d| format!("{d:?}"));
        eyre!("{what} was refused: {reason}")
    })?;
    let receipt = tokio::time::timeout(Duration::from_secs(60), pending.get_receipt())
        .await
        .map_err(|_| eyre!("{what}: no receipt within 60 s"))??;
    ensure!(receipt.status(), "{what} reverted");
    receipt.block_number.ok_or_else(|| eyre!("{what}: receipt without a block number"))
}

async fn lanes(devnet: &Devnet, i: usize) -> Result<LanesResponse> {
    let url = format!("{}/v1/lanes", devnet.validator_url(i)?);
    let response = reqwest::get(&url).await.wrap_err_with(|| format!("GET {url}"))?;
    ensure!(response.status().is_success(), "GET {url}: {}", response.status());
    response.json().await.wrap_err_with(|| format!("GET {url}: body"))
}

/// Validator `i`'s secured lanes, sorted.
async fn secured(devnet: &Devnet, i: usize) -> Result<Vec<B256>> {
    let mut lanes: Vec<B256> = devnet.validator_info(i).await?.lanes.iter().map(|l| l.lane).collect();
    lanes.sort();
    Ok(lanes)
}

fn sorted(mut lanes: Vec<B256>) -> Vec<B256> {
    lanes.sort();
    lanes
}

fn signed(served: Served, what: &str) -> Result<zb_api_types::validator::CheckpointResponse> {
    match served {
        Served::Signed(c) => Ok(c),
        Served::Refused { status, body } => bail!("{what}: refused with {status}: {body}"),
    }
}

fn refused(served: Served, expected: u16, what: &str) -> Result<String> {
    match served {
        Served::Refused { status, body } if status == expected => Ok(body),
        other => bail!("{what}: expected a {expected} refusal, got {other:?}"),
    }
}

/// Compares one lane's `/v1/lanes` entry with the chain (at the latest block: nothing changes
/// in between).
async fn check_security(devnet: &Devnet, entry: &LaneSecurityStatus, me: Address, source: Chain) -> Result<()> {
    let lane = entry.status.lane;
    let security =
        entry.security.as_ref().ok_or_else(|| eyre!("lane {lane}: no security ({:?})", entry.security_error))?;
    let reader = devnet.chain(source).reader();
    let sm = StakeManager::new(stake_manager(devnet, source), reader.clone());
    let snapshot = sm.getSnapshot(lane).call().await?;
    let on_chain = sm.laneSecurity(lane).call().await?;
    let unbonding = sm.unbondingPeriod().call().await?;
    let state = ZeroBridge::new(devnet.bridge_address(source), reader).getLane(lane).call().await?;

    let stake = devnet.manifest().stake;
    let n = devnet.validator_count() as u64;
    ensure!(security.stake_manager == stake_manager(devnet, source));
    ensure!(security.committed && security.epoch == snapshot.epoch, "epoch {} vs {}", security.epoch, snapshot.epoch);
    ensure!(security.validators == n && on_chain.validators == U256::from(n), "validators: {}", security.validators);
    ensure!(security.total_stake == on_chain.totalStake && security.total_stake == stake * U256::from(n));
    ensure!(security.quorum_loss == on_chain.quorumLoss && !security.quorum_loss.is_zero());
    ensure!(security.threshold == U256::from(snapshot.threshold));
    ensure!(security.set_hash == snapshot.setHash && security.attesting_set_hash == state.validatorSetHash);
    ensure!(security.set_hash == security.attesting_set_hash, "the snapshot's set attests on the source lane");
    ensure!(security.staking_token == Address::ZERO, "the devnet stakes the native coin");
    ensure!(security.in_snapshot && security.weight == Some(stake), "validator {me} is a member with its stake");
    ensure!(security.token == state.token);
    let capacity = U256::from(state.capacity);
    ensure!(security.capacity == capacity && capacity == tokens(100_000_000));
    ensure!(security.unbonding_period == unbonding && unbonding == 600);
    let lifetime = sm.setLifetime().call().await?;
    ensure!(security.set_lifetime == lifetime && lifetime == 86_400);
    // capacity × (1 + 1 day / 1 day) = 2 × capacity
    ensure!(security.max_flow_in_set_lifetime == capacity * U256::from(2u64));
    Ok(())
}

fn validator0() -> zb_e2e::AgentId {
    zb_e2e::AgentId::Validator(0)
}

/// Waits for a line of validator 0's log after `from` whose message starts with `message` and
/// whose `lane` field is `lane`.
async fn logged(devnet: &Devnet, from: u64, message: &str, lane: B256) -> Result<u64> {
    let lane = format!("{lane}");
    let (_, end) = devnet
        .wait_for_log(validator0(), from, Duration::from_secs(10), |line| {
            line["fields"]["message"].as_str().is_some_and(|m| m.starts_with(message))
                && line["fields"]["lane"].as_str() == Some(lane.as_str())
        })
        .await?;
    Ok(end)
}

async fn lane_state(devnet: &Devnet, i: usize, lane: B256) -> Result<Option<zb_api_types::validator::LaneStatus>> {
    Ok(devnet.validator_info(i).await?.lanes.into_iter().find(|l| l.lane == lane))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_take_their_lanes_from_opt_ins_and_follow_them_at_runtime() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions {
        lanes_from_stake: true,
        stake_refresh_secs: Some(1),
        ..DevnetOptions::default()
    })
    .await?;
    let to_remote = devnet.lane(Direction::ToRemote);
    let to_home = devnet.lane(Direction::ToHome);
    let holder = devnet.holder();
    let stake = devnet.manifest().stake;
    let config = devnet.validator_config(0)?;
    ensure!(config.lanes.is_empty(), "the harness writes no [[lanes]]");
    ensure!(config.chains.iter().all(|c| c.stake_manager.is_some()), "and a stake manager per chain");

    // Operator 0 leaves the lane to home before its validator ever runs (final before it starts).
    let (home_op0, operator0) = operator(&devnet, 0, Chain::Home)?;
    let (remote_op0, _) = operator(&devnet, 0, Chain::Remote)?;
    ensure!(home_op0.operatorOfSigner(devnet.validator_address(0)?).call().await? == operator0);
    let out_block = transact("optOut(lane to home)", remote_op0.optOut(to_home)).await?;
    let depth = devnet.options().finality_depth;
    wait_until("the opt-out to be final", PICKUP, || async {
        Ok((devnet.remote().block_number().await? > out_block + depth).then_some(()))
    })
    .await?;

    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;

    // 1. Lanes from the stake managers only.
    wait_until("validators 1-3 to secure both lanes", PICKUP, || async {
        for i in 1..4 {
            if secured(&devnet, i).await? != sorted(vec![to_remote, to_home]) {
                return Ok(None);
            }
        }
        Ok(Some(()))
    })
    .await?;
    logged(&devnet, 0, "lane added as leaving", to_home).await?;
    let info = devnet.validator_info(0).await?;
    let remote_lane = info.lanes.iter().find(|l| l.lane == to_remote).ok_or_else(|| eyre!("lane to remote"))?;
    ensure!(remote_lane.opted_in && !remote_lane.configured && remote_lane.status == LaneState::Active);
    let home_lane = info.lanes.iter().find(|l| l.lane == to_home).ok_or_else(|| eyre!("lane to home"))?;
    ensure!(!home_lane.opted_in && home_lane.status == LaneState::Leaving && home_lane.leaving_since == Some(0));
    ensure!(info.stake.len() == 2 && info.stake.iter().all(|s| s.operator == Some(operator0)), "{:?}", info.stake);
    let home_stake = info.stake.iter().find(|s| s.chain == Chain::Home.name()).ok_or_else(|| eyre!("no home"))?;
    ensure!(home_stake.opted_in == vec![to_remote]);
    let remote_stake = info.stake.iter().find(|s| s.chain == Chain::Remote.name()).ok_or_else(|| eyre!("no remote"))?;
    ensure!(remote_stake.opted_in.is_empty(), "operator 0 opted out of the lane to home");

    // 2. Economic security, as the stake manager and the bridge have it.
    let me1 = devnet.validator_address(1)?;
    let view = wait_until("validator 1's economic security of both lanes", PICKUP, || async {
        let view = lanes(&devnet, 1).await?;
        Ok(view.lanes.iter().all(|l| l.security.is_some()).then_some(view))
    })
    .await?;
    ensure!(view.signer == me1 && view.lanes.len() == 2);
    for entry in &view.lanes {
        let source = devnet.direction(entry.status.lane)?.source();
        check_security(&devnet, entry, me1, source).await?;
    }

    // 3. Both directions deliver; validator 0 signs only the lane it is opted in to.
    let first = devnet.send_to_remote(tokens(10), holder).await?;
    devnet.wait_delivered(to_remote, first.sequence, DELIVERY).await?;
    let back = devnet.send_to_home(tokens(4), Address::repeat_byte(0xb4)).await?;
    devnet.wait_delivered(to_home, back.sequence, DELIVERY).await?;
    let by_0 = signed(devnet.validator_checkpoint(0, to_remote, 1).await?, "validator 0, lane to remote, 1")?;
    ensure!(by_0.accumulator == first.accumulator);
    wait_until("validator 0 to observe the lane to home", PICKUP, || async {
        Ok((devnet.validator_observed(0, to_home).await? >= back.sequence).then_some(()))
    })
    .await?;
    let body = refused(devnet.validator_checkpoint(0, to_home, 1).await?, 410, "leaving lane")?;
    ensure!(body.contains("opted out"), "{body}");

    // 4. Opting in again at runtime: active again, signed like the others.
    let from = devnet.log_offset(validator0())?;
    transact("optIn(lane to home)", remote_op0.optIn(to_home, stake)).await?;
    logged(&devnet, from, "lane opted in to again", to_home).await?;
    let home_1 = signed(devnet.validator_checkpoint(0, to_home, 1).await?, "validator 0, lane to home, 1")?;
    let by_1 = signed(devnet.validator_checkpoint(1, to_home, 1).await?, "validator 1, lane to home, 1")?;
    ensure!(home_1.accumulator == by_1.accumulator && home_1.accumulator == back.accumulator);
    devnet.verify_served(0, &home_1)?;

    // 5. Opting out of the lane to remote: leaving; nothing new is signed there.
    let from = devnet.log_offset(validator0())?;
    transact("optOut(lane to remote)", home_op0.optOut(to_remote)).await?;
    let from = logged(&devnet, from, "lane opted out", to_remote).await?;
    let lane = lane_state(&devnet, 0, to_remote).await?.ok_or_else(|| eyre!("lane to remote"))?;
    ensure!(
        lane.status == LaneState::Leaving && lane.leaving_since == Some(first.sequence) && !lane.opted_in,
        "{lane:?}"
    );
    let second = devnet.send_to_remote(tokens(3), holder).await?;
    devnet.wait_delivered(to_remote, second.sequence, DELIVERY).await?;
    wait_until("validator 0 to observe sequence 2", PICKUP, || async {
        Ok((devnet.validator_observed(0, to_remote).await? >= second.sequence).then_some(()))
    })
    .await?;
    let body = refused(devnet.validator_checkpoint(0, to_remote, second.sequence).await?, 410, "after the opt-out")?;
    ensure!(body.contains("opted out"), "{body}");
    ensure!(signed(devnet.validator_checkpoint(0, to_remote, 1).await?, "served")? == by_0);

    // The next epoch's snapshot leaves validator 0 out: the bridge queues the set update on the
    // lane, which the old set (validator 0 included) must sign exactly there.
    devnet.home().rpc::<_, serde_json::Value>("evm_increaseTime", (130u64,)).await?;
    let (home_op1, _) = operator(&devnet, 1, Chain::Home)?;
    transact("commitEpoch(lane to remote)", home_op1.commitEpoch(to_remote)).await?;
    let update = devnet.sent_sequence(to_remote).await?;
    ensure!(update == second.sequence + 1, "the set update is the lane's next message");
    devnet.wait_delivered(to_remote, update, DELIVERY).await?;
    logged(&devnet, from, "lane dropped", to_remote).await?;
    ensure!(secured(&devnet, 0).await? == vec![to_home]);
    let hand_over = signed(devnet.validator_checkpoint(0, to_remote, update).await?, "the hand-over")?;
    let source = devnet.source_accumulators(to_remote).await?;
    ensure!(hand_over.accumulator == source[(update - 1) as usize], "validator 0 signed the hand-over");
    devnet.verify_served(0, &hand_over)?;

    // The new set (validators 1-3) delivers what follows; validator 0 knows nothing of it.
    let third = devnet.send_to_remote(tokens(2), holder).await?;
    devnet.wait_delivered(to_remote, third.sequence, DELIVERY).await?;
    refused(devnet.validator_checkpoint(0, to_remote, third.sequence).await?, 404, "dropped lane")?;
    wait_until("validator 1 to report the new set's security", PICKUP, || async {
        let view = lanes(&devnet, 1).await?;
        let entry = view.lanes.iter().find(|l| l.status.lane == to_remote).ok_or_else(|| eyre!("lane to remote"))?;
        Ok(entry.security.as_ref().filter(|s| s.validators == 3 && s.in_snapshot).map(|_| ()))
    })
    .await?;

    // 6. A new opt-in at runtime: the lane is added and caught up from start_block.
    let from = devnet.log_offset(validator0())?;
    transact("optIn(lane to remote)", home_op0.optIn(to_remote, stake)).await?;
    logged(&devnet, from, "lane added", to_remote).await?;
    wait_until("validator 0 to catch up the lane to remote", PICKUP, || async {
        Ok((devnet.validator_observed(0, to_remote).await? >= third.sequence).then_some(()))
    })
    .await?;
    let caught_up = signed(devnet.validator_checkpoint(0, to_remote, third.sequence).await?, "after the catch-up")?;
    ensure!(caught_up.accumulator == third.accumulator);
    ensure!(signed(devnet.validator_checkpoint(0, to_remote, update).await?, "again")? == hand_over);
    let view = lanes(&devnet, 0).await?;
    let entry = view.lanes.iter().find(|l| l.status.lane == to_remote).ok_or_else(|| eyre!("lane to remote"))?;
    let security = entry.security.as_ref().ok_or_else(|| eyre!("no security: {:?}", entry.security_error))?;
    ensure!(!security.in_snapshot && security.weight.is_none(), "not in the set before the next epoch");

    // 7. A restart: every checkpoint signed before is still served, identically.
    devnet.kill_validator(0)?;
    devnet.start_validator(0).await?;
    wait_until("validator 0 to catch up after the restart", PICKUP, || async {
        Ok((secured(&devnet, 0).await? == sorted(vec![to_remote, to_home])
            && devnet.validator_observed(0, to_remote).await? >= third.sequence)
            .then_some(()))
    })
    .await?;
    ensure!(signed(devnet.validator_checkpoint(0, to_remote, 1).await?, "after restart")? == by_0);
    ensure!(signed(devnet.validator_checkpoint(0, to_remote, update).await?, "after restart")? == hand_over);
    ensure!(signed(devnet.validator_checkpoint(0, to_home, 1).await?, "after restart")? == home_1);

    for i in 0..devnet.validator_count() {
        devnet.audit_validator(i).await?;
    }
    Ok(())
}
