//! The watchtower against real agents and real forgeries: a compromised quorum's delivery is
//! paused within two blocks, the hold it opened frozen and every signer reported on the source
//! chain; a conservation break is paused; a lying endpoint and honest load raise nothing; a watchtower killed with SIGKILL
//! resumes from its cursor and still catches what happened while it was down.

use std::time::Duration;

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolEvent, SolValue};
use eyre::{Result, ensure, eyre};
use serde_json::Value;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_e2e::devnet::{validator_key, wait_until};
use zb_e2e::forge::{Forged, forge_delivery};
use zb_e2e::watchtower::Watchtower;
use zb_e2e::{Chain, Devnet, DevnetOptions, Direction, RpcProxy, tokens};

use crate::DELIVERY;

/// The three compromised validators of the four (a quorum).
const FORGERS: [usize; 3] = [0, 1, 2];

/// A devnet with its agents and one honest transfer delivered, then no relayer (it would only
/// race the attacker).
async fn devnet_with_one_delivery() -> Result<Devnet> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let sent = devnet.send_to_remote(tokens(100), devnet.holder()).await?;
    devnet.wait_delivered(sent.lane, sent.sequence, DELIVERY).await?;
    devnet.kill_relayer()?;
    Ok(devnet)
}

fn alerts_of(watchtower: &Watchtower, kind: &str) -> Result<Vec<Value>> {
    Ok(watchtower.alerts()?.into_iter().filter(|a| a["kind"] == kind).collect())
}

/// The block in which `lane` was paused on `chain` (its `LanePaused` event).
async fn paused_in(devnet: &Devnet, chain: Chain, lane: B256) -> Result<Option<u64>> {
    let filter = alloy::rpc::types::Filter::new()
        .address(devnet.bridge_address(chain))
        .event_signature(ZeroBridge::LanePaused::SIGNATURE_HASH)
        .topic1(lane)
        .from_block(0u64);
    use alloy::providers::Provider;
    Ok(devnet.chain(chain).reader().get_logs(&filter).await?.first().and_then(|l| l.block_number))
}

/// Waits until the watchtower paused the lane and reported every forger, then checks the
/// fraud alert and the source chain's stake manager.
async fn expect_caught(devnet: &Devnet, watchtower: &Watchtower, forged: &Forged) -> Result<u64> {
    let lane = forged.checkpoint.lane;
    let paused = wait_until("the watchtower to pause the lane", DELIVERY, || async {
        paused_in(devnet, Chain::Remote, lane).await
    })
    .await?;
    let signers: Vec<Address> = FORGERS
        .iter()
        .map(|&i| PrivateKeySigner::from_bytes(&validator_key(i)).map(|k| k.address()))
        .collect::<Result<_, _>>()?;
    let stake = StakeManager::new(devnet.manifest().home.stake_manager, devnet.home().reader());
    for signer in &signers {
        let operator = stake.operatorOfSigner(*signer).call().await?;
        wait_until(&format!("signer {signer} to be proven a forger on the source"), DELIVERY, || async {
            let op = stake.getOperator(operator).call().await?;
            Ok((op.fraudProven && op.jailed).then_some(()))
        })
        .await?;
    }
    let frauds = alerts_of(watchtower, "fraud")?;
    let fraud = frauds.last().ok_or_else(|| eyre!("no fraud alert: {:?}", watchtower.alerts()))?;
    ensure!(fraud["severity"] == "critical", "{fraud}");
    let details = &fraud["details"];
    ensure!(details["lane"] == lane.to_string(), "the alert names the lane: {fraud}");
    ensure!(details["sequence"] == forged.checkpoint.sequence, "the alert names the sequence: {fraud}");
    let named: Vec<String> =
        details["signers"].as_array().into_iter().flatten().filter_map(|s| s.as_str()).map(str::to_lowercase).collect();
    for signer in &signers {
        ensure!(named.contains(&signer.to_string().to_lowercase()), "the alert names signer {signer}: {fraud}");
    }
    wait_until("a slashed alert per signer", DELIVERY, || async {
        Ok((alerts_of(watchtower, "slashed")?.len() >= FORGERS.len()).then_some(()))
    })
    .await?;
    Ok(paused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_delivery_is_paused_within_two_blocks_and_every_signer_slashed() -> Result<()> {
    let devnet = devnet_with_one_delivery().await?;
    let watchtower = Watchtower::new(&devnet)?;
    watchtower.start().await?;
    // Above the devnet's 500,000 DEMO hold threshold: the forged transfer is held on arrival.
    let forged = forge_delivery(&devnet, Direction::ToRemote, &FORGERS, tokens(600_000)).await?;
    let forged_in = forged.receipt.block_number.ok_or_else(|| eyre!("no block"))?;

    let paused = expect_caught(&devnet, &watchtower, &forged).await?;
    ensure!(paused <= forged_in + 2, "paused in block {paused}, forged in {forged_in}: more than 2 blocks later");
    let remote = devnet.bridge(Chain::Remote);
    let lane = forged.checkpoint.lane;
    wait_until("the forged transfer's hold to be frozen", DELIVERY, || async {
        Ok((remote.getHold(lane, forged.message.sequence).call().await?.status == 2).then_some(()))
    })
    .await?;
    ensure!(!alerts_of(&watchtower, "hold_frozen")?.is_empty(), "a hold_frozen alert");
    ensure!(devnet.wrapped_balance(forged.attacker).await? == U256::ZERO, "the forged transfer paid nothing");

    let kpis = watchtower.kpis().await?;
    ensure!(kpis["kpis"]["frauds"] == 1, "{kpis}");
    ensure!(kpis["kpis"]["lastMttdSecs"].is_u64() && kpis["kpis"]["lastMttrSecs"].is_u64(), "MTTD and MTTR: {kpis}");
    ensure!(kpis["policyEnforcementRate"].as_f64().is_some_and(|r| r > 0.0), "{kpis}");

    // The next forgery meets the pause.
    let again = forge_delivery(&devnet, Direction::ToRemote, &FORGERS, tokens(5_000)).await;
    let error = again.err().ok_or_else(|| eyre!("a second forged delivery on a paused lane went through"))?;
    let selector = alloy::primitives::hex::encode(<ZeroBridge::LaneNotActive as alloy::sol_types::SolError>::SELECTOR);
    ensure!(error.to_string().contains(&selector), "refused because of the pause (LaneNotActive): {error}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conservation_break_is_detected_and_both_directions_paused() -> Result<()> {
    let devnet = devnet_with_one_delivery().await?;
    let watchtower = Watchtower::new(&devnet)?;
    watchtower.start().await?;
    wait_until("the watchtower to be ready", DELIVERY, || async { Ok(watchtower.ready().await.then_some(())) }).await?;
    ensure!(alerts_of(&watchtower, "conservation")?.is_empty(), "no break before the test mints");

    // A test-only mint path: anvil writes the wrapped token's storage (OpenZeppelin ERC20:
    // balances at slot 0, total supply at slot 2), 1,000 wDEMO out of nothing.
    let wrapped = devnet.manifest().route.wrapped_token;
    let lucky = Address::repeat_byte(0x1c);
    let minted = tokens(1_000);
    let supply = devnet.wrapped_supply().await?;
    let balance_slot = keccak256((lucky, U256::ZERO).abi_encode());
    let set = |slot: B256, value: U256| {
        devnet.remote().rpc::<_, Value>("anvil_setStorageAt", (wrapped, slot, B256::from(value)))
    };
    set(balance_slot, minted).await?;
    set(B256::from(U256::from(2u64)), supply + minted).await?;
    ensure!(devnet.wrapped_supply().await? == supply + minted, "the test mint took effect");

    let to_remote = devnet.lane(Direction::ToRemote);
    let to_home = devnet.lane(Direction::ToHome);
    wait_until("minting paused on the remote", DELIVERY, || async {
        paused_in(&devnet, Chain::Remote, to_remote).await
    })
    .await?;
    wait_until("releasing paused on home", DELIVERY, || async { paused_in(&devnet, Chain::Home, to_home).await })
        .await?;
    let breaks = alerts_of(&watchtower, "conservation")?;
    ensure!(breaks.len() == 1, "one conservation alert: {breaks:?}");
    ensure!(breaks[0]["details"]["wrappedSupply"] == (supply + minted).to_string(), "{}", breaks[0]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_endpoint_and_honest_load_raise_no_alert() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    // One watchtower reads the home chain through a liar beside an honest endpoint (both must
    // agree); one reads honest endpoints only.
    let liar = RpcProxy::start(&devnet.home().http(), RpcProxy::inflate_sent_amounts())?;
    let misled = Watchtower::new(&devnet)?;
    misled.configure(|c| {
        if let Some(home) = c.chains.iter_mut().find(|c| c.name == Chain::Home.name()) {
            home.rpc = vec![liar.url().to_string(), devnet.home().http()];
            home.rpc_quorum = 2;
        }
    });
    misled.start().await?;
    let honest = Watchtower::new(&devnet)?;
    honest.start().await?;

    let amounts = vec![tokens(1); 500];
    let sent = devnet.send_many(Direction::ToRemote, &amounts, devnet.holder()).await?;
    let last = sent.last().ok_or_else(|| eyre!("nothing sent"))?;
    devnet.wait_delivered(last.lane, last.sequence, Duration::from_secs(300)).await?;
    wait_until("the honest watchtower to check the deliveries", DELIVERY, || async {
        let kpis = honest.kpis().await?;
        Ok((honest.ready().await && kpis["kpis"]["deliveriesChecked"].as_u64().unwrap_or(0) >= 1).then_some(()))
    })
    .await?;
    // A few more polls for the misled one to have had its chance.
    tokio::time::sleep(Duration::from_secs(3)).await;

    ensure!(liar.lies() > 0, "the liar rewrote logs ({} calls)", liar.calls());
    for (who, watchtower) in [("misled", &misled), ("honest", &honest)] {
        let alerts = watchtower.alerts()?;
        ensure!(alerts.is_empty(), "the {who} watchtower raised alerts: {alerts:?}");
    }
    ensure!(!misled.ready().await, "the misled watchtower says it cannot check (endpoints disagree)");
    for (chain, lane) in
        [(Chain::Remote, devnet.lane(Direction::ToRemote)), (Chain::Home, devnet.lane(Direction::ToHome))]
    {
        ensure!(paused_in(&devnet, chain, lane).await?.is_none(), "an honest lane was paused on {chain:?}");
    }
    devnet.check_exactly_once(last.lane, last.sequence).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_the_watchtower_resumes_and_catches_what_happened_while_down() -> Result<()> {
    let devnet = devnet_with_one_delivery().await?;
    let watchtower = Watchtower::new(&devnet)?;
    watchtower.start().await?;
    wait_until("the first delivery to be checked", DELIVERY, || async {
        let kpis = watchtower.kpis().await?;
        Ok((kpis["kpis"]["deliveriesChecked"].as_u64().unwrap_or(0) >= 1).then_some(()))
    })
    .await?;
    watchtower.kill()?;

    let forged = forge_delivery(&devnet, Direction::ToRemote, &FORGERS, tokens(5_000)).await?;
    devnet.remote().mine(3).await?;
    ensure!(paused_in(&devnet, Chain::Remote, forged.checkpoint.lane).await?.is_none(), "nobody paused yet");

    watchtower.start().await?;
    expect_caught(&devnet, &watchtower, &forged).await?;
    let kpis = watchtower.kpis().await?;
    ensure!(
        kpis["kpis"]["deliveriesChecked"] == 1,
        "the first delivery is not checked again after the restart: {kpis}"
    );
    Ok(())
}
