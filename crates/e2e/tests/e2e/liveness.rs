//! Liveness with every primary validator stopped: the fallback validators ("master validators",
//! `role = "fallback"`) deliver what has waited out the route's fallback delay, the chain refuses
//! their signatures before that, each fallback delivery is a strike, and at the strike limit the
//! route enters Emergency (home sends refused, the owner's bond slashed, holders still return
//! home, now without waiting). Deadlines: a late transfer is refunded once, a delivered one never.

use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolError;
use alloy::sol_types::SolEvent;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::registry::RouteRegistry;
use zb_contracts::stake::StakeManager;
use zb_e2e::devnet::{Liveness, fallback_validator_key};
use zb_e2e::{Chain, Devnet, DevnetOptions, Direction, tokens};
use zb_protocol::{
    Checkpoint, Message, PackedSignature, ValidatorSet, checkpoint_digest, message_hash, sign_checkpoint,
};

use crate::DELIVERY;

const DELAY: u64 = 60;

fn options(strike_limit: u16) -> DevnetOptions {
    DevnetOptions {
        fallback_validators: 2,
        liveness: Liveness { fallback_delay: DELAY, strike_limit, emergency_grace: 3_600, default_timeout: 86_400 },
        ..DevnetOptions::default()
    }
}

/// Stops every primary validator (their APIs go away with them).
fn kill_primaries(devnet: &Devnet) -> eyre::Result<()> {
    for i in 0..devnet.validator_count() {
        devnet.kill_validator(i)?;
    }
    Ok(())
}

/// The fallback set of the lane towards `destination`, as the destination stores it.
fn fallback_set(devnet: &Devnet, destination: Chain) -> eyre::Result<ValidatorSet> {
    let route = &devnet.manifest().route;
    let bytes = match destination {
        Chain::Remote => &route.fallback_set,
        Chain::Home => &route.fallback_set_to_home,
    };
    Ok(ValidatorSet::decode(bytes)?)
}

/// Every fallback key's signature on `checkpoint`, packed in member order: what a fallback
/// group that ignored its delay (or forged) would hand out.
fn fallback_signatures(
    devnet: &Devnet,
    set: &ValidatorSet,
    checkpoint: &Checkpoint,
    source: Chain,
) -> eyre::Result<Bytes> {
    let side = match source {
        Chain::Home => &devnet.manifest().home,
        Chain::Remote => &devnet.manifest().remote,
    };
    let mut signatures = Vec::new();
    for j in 0..devnet.options().fallback_validators {
        let signer = PrivateKeySigner::from_bytes(&fallback_validator_key(j))?;
        let index = set.index_of(signer.address()).ok_or_else(|| eyre::eyre!("fallback signer {j} not in the set"))?;
        let signature = sign_checkpoint(&signer, checkpoint, side.chain_id, side.bridge)?;
        signatures.push(PackedSignature { member_index: index, signature });
    }
    signatures.sort_by_key(|s| s.member_index);
    Ok(Bytes::from(PackedSignature::pack(&signatures)))
}

/// The lane's messages as its source emitted them, and the checkpoint at the newest one.
async fn head_batch(devnet: &Devnet, lane: B256) -> eyre::Result<(Checkpoint, Vec<Message>)> {
    let events = devnet.sent_events(lane).await?;
    let last = events.last().ok_or_else(|| eyre::eyre!("nothing sent on {lane}"))?;
    let checkpoint = Checkpoint { lane, sequence: last.sequence, accumulator: last.accumulator };
    Ok((checkpoint, events.into_iter().map(|e| e.message).collect()))
}

async fn strikes(devnet: &Devnet, chain: Chain) -> eyre::Result<u16> {
    Ok(devnet.bridge(chain).getRoute(devnet.manifest().route.route_id).call().await?.strikes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_delivers_what_waited_out_the_delay_and_not_before() -> eyre::Result<()> {
    let devnet = Devnet::start(options(3)).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let holder = devnet.holder();
    devnet.start_all_validators().await?;
    devnet.start_fallback_validators().await?;

    // One transfer while the primaries run (no relayer yet), one after they all stopped.
    let before = devnet.send_to_remote(tokens(10), holder).await?;
    kill_primaries(&devnet)?;
    let after = devnet.send_to_remote(tokens(20), holder).await?;

    // Before the delay the chain refuses fallback signatures, even a full quorum of them.
    let set = fallback_set(&devnet, Chain::Remote)?;
    let (checkpoint, batch) = head_batch(&devnet, lane).await?;
    let signatures = fallback_signatures(&devnet, &set, &checkpoint, Chain::Home)?;
    let early = holder_bridge(&devnet, Chain::Remote)?
        .deliverByFallback(checkpoint.clone(), Bytes::from(set.encode()), signatures, batch)
        .call()
        .await
        .expect_err("a fallback delivery before the delay must revert");
    match early.as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>() {
        Some(ZeroBridge::ZeroBridgeErrors::FallbackNotDue(e)) => {
            assert_eq!(e.dueAt, after.message.sentAt + DELAY, "due when the newest message has waited the delay")
        }
        other => panic!("expected FallbackNotDue, got {other:?} ({early})"),
    }

    // The relayer finds no primary quorum and nothing due: it delivers nothing.
    devnet.start_relayer().await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(devnet.delivered_sequence(lane).await?, 0, "nothing is delivered before the delay");

    // The delay passes on both chains: the fallback signs and the relayer delivers both.
    devnet.warp(DELAY + 1).await?;
    devnet.wait_delivered(lane, after.sequence, DELIVERY).await?;
    assert_eq!(devnet.wrapped_balance(holder).await?, before.net + after.net);
    devnet.check_exactly_once(lane, 2).await?;
    assert_eq!(strikes(&devnet, Chain::Remote).await?, 1, "one fallback delivery, one strike");
    let fallback_logs = devnet
        .remote()
        .reader()
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(devnet.bridge_address(Chain::Remote))
                .event_signature(ZeroBridge::FallbackDelivered::SIGNATURE_HASH)
                .from_block(0u64),
        )
        .await?;
    assert!(!fallback_logs.is_empty(), "the delivery went through deliverByFallback");
    let route_lane = devnet.bridge(Chain::Remote).getLane(lane).call().await?;
    assert_eq!(route_lane.status, 2, "one strike of three: still Active");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_strike_limit_the_route_enters_emergency_and_holders_still_go_home() -> eyre::Result<()> {
    let devnet = Devnet::start(options(2)).await?;
    let to_remote = devnet.lane(Direction::ToRemote);
    let to_home = devnet.lane(Direction::ToHome);
    let holder = devnet.holder();
    let route_id = devnet.manifest().route.route_id;
    devnet.start_all_validators().await?;
    devnet.start_fallback_validators().await?;
    devnet.start_relayer().await?;
    let out = devnet.send_to_remote(tokens(100), holder).await?;
    devnet.wait_delivered(to_remote, out.sequence, DELIVERY).await?;

    // The primaries stop. Two burns, each waiting out the delay: two strikes on the home chain.
    kill_primaries(&devnet)?;
    for round in 1..=2u16 {
        let back = devnet.send_to_home(tokens(10), holder).await?;
        devnet.warp(DELAY + 1).await?;
        devnet.wait_delivered(to_home, back.sequence, DELIVERY).await?;
        assert_eq!(strikes(&devnet, Chain::Home).await?, round);
    }
    let lane = devnet.bridge(Chain::Home).getLane(to_remote).call().await?;
    assert_eq!(lane.status, 4, "the strike limit puts the route into Emergency");

    // The home chain takes no new sends, with a clear error.
    let refused = holder_bridge(&devnet, Chain::Home)?
        .send(to_remote, holder, tokens(1), 0)
        .call()
        .await
        .expect_err("a home send in Emergency must revert");
    assert!(
        matches!(
            refused.as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>(),
            Some(ZeroBridge::ZeroBridgeErrors::RouteInEmergency(_))
        ),
        "{refused}"
    );

    // The owner's bond goes to the compensation pool, once.
    let home = &devnet.manifest().home;
    let (wallet, _) = holder_wallet(&devnet)?;
    let registry = RouteRegistry::new(home.registry, wallet);
    let stake = StakeManager::new(home.stake_manager, devnet.home().reader());
    let pool_before = stake.compensationPool(to_remote).call().await?;
    let receipt = registry.slashEmergencyBond(route_id).send().await?.get_receipt().await?;
    assert!(receipt.status(), "anyone may slash the bond of a route in Emergency");
    assert_eq!(stake.compensationPool(to_remote).call().await? - pool_before, U256::from(10u64).pow(U256::from(18u64)));
    assert!(registry.slashEmergencyBond(route_id).call().await.is_err(), "the bond is slashed once");

    // Holders keep returning home, now delivered by the fallback without waiting out the delay
    // (the fallback validators and the relayer read the grace from the home chain).
    let last = devnet.send_to_home(tokens(5), holder).await?;
    devnet.wait_delivered(to_home, last.sequence, DELIVERY).await?;
    let delivered_in = devnet.deliveries(to_home).await?.last().map(|d| d.block_number).unwrap_or_default();
    let block = devnet.home().reader().get_block_by_number(delivered_in.into()).await?;
    let delivered_at = block.map(|b| b.header.timestamp).unwrap_or(u64::MAX);
    assert!(delivered_at < last.message.sentAt + DELAY, "in the grace period nobody waits out the delay");
    assert_eq!(devnet.wrapped_balance(holder).await?, out.net - tokens(25));
    assert_eq!(devnet.wrapped_supply().await?, devnet.vault_locked().await?, "conservation holds");

    // A forged fallback checkpoint is slashable like any other: a sequence the source never sent.
    let forged = Checkpoint { lane: to_home, sequence: last.sequence + 1, accumulator: B256::repeat_byte(0xf0) };
    let remote = &devnet.manifest().remote;
    let signer = PrivateKeySigner::from_bytes(&fallback_validator_key(0))?;
    let signature = sign_checkpoint(&signer, &forged, remote.chain_id, remote.bridge)?;
    let compact = signature.as_erc2098();
    let (reporter, _) = remote_wallet(&devnet)?;
    let slasher = StakeManager::new(remote.stake_manager, reporter);
    let receipt = slasher
        .slash(
            StakeManager::Checkpoint { lane: forged.lane, sequence: forged.sequence, accumulator: forged.accumulator },
            B256::from_slice(&compact[..32]),
            B256::from_slice(&compact[32..]),
            Vec::new(),
        )
        .send()
        .await?
        .get_receipt()
        .await?;
    assert!(receipt.status(), "the forged fallback checkpoint is proven fraud on the source");
    let operator = slasher.operatorOfSigner(signer.address()).call().await?;
    assert!(slasher.getOperator(operator).call().await?.jailed, "and its operator is jailed");
    let digest = checkpoint_digest(&forged, remote.chain_id, remote.bridge);
    assert_eq!(signature.recover_address_from_prehash(&digest)?, signer.address());
    Ok(())
}

fn holder_wallet(devnet: &Devnet) -> eyre::Result<(alloy::providers::DynProvider, Address)> {
    wallet(&devnet.home().http())
}

fn remote_wallet(devnet: &Devnet) -> eyre::Result<(alloy::providers::DynProvider, Address)> {
    wallet(&devnet.remote().http())
}

/// The bridge on `chain`, sending as the holder from a provider of its own (its nonces are read
/// from the chain, not shared with the harness's sends).
fn holder_bridge(
    devnet: &Devnet,
    chain: Chain,
) -> eyre::Result<ZeroBridge::ZeroBridgeInstance<alloy::providers::DynProvider>> {
    let url = match chain {
        Chain::Home => devnet.home().http(),
        Chain::Remote => devnet.remote().http(),
    };
    Ok(ZeroBridge::new(devnet.bridge_address(chain), wallet(&url)?.0))
}

fn wallet(url: &str) -> eyre::Result<(alloy::providers::DynProvider, Address)> {
    use alloy::network::EthereumWallet;
    use alloy::providers::ProviderBuilder;
    let signer: PrivateKeySigner = zb_e2e::dev_keys::HOLDER.parse()?;
    let address = signer.address();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url.parse()?).erased();
    Ok((provider, address))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_transfer_is_refunded_once_and_a_delivered_one_never() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let to_remote = devnet.lane(Direction::ToRemote);
    let to_home = devnet.lane(Direction::ToHome);
    let holder = devnet.holder();
    devnet.start_all_validators().await?;

    // No relayer: the second transfer's 20-second deadline passes while it waits.
    let on_time = devnet.send_to_remote(tokens(10), holder).await?;
    assert_eq!(on_time.message.deadline, on_time.message.sentAt + 86_400, "the route's default timeout");
    let late = devnet.send_until(Direction::ToRemote, tokens(30), holder, on_time.message.sentAt + 20).await?;
    devnet.warp(30).await?;
    devnet.start_relayer().await?;
    devnet.wait_delivered(to_remote, late.sequence, DELIVERY).await?;
    assert_eq!(
        devnet.failed_messages(to_remote).await?,
        vec![(late.sequence, ZeroBridge::TransferTimedOut::SELECTOR.into())],
        "the late transfer is marked timed out, not executed"
    );
    assert_eq!(devnet.wrapped_balance(holder).await?, on_time.net, "only the transfer on time arrived");

    // Its refund travels back on the reverse lane and is approved on the home chain.
    devnet.wait_delivered(to_home, 1, DELIVERY).await?;
    let home = holder_bridge(&devnet, Chain::Home)?;
    let refund = home.refunds(to_remote, message_hash(&late.message)).call().await?;
    assert_eq!(refund.status, 1, "approved");

    // The holder claims it once; a second claim and a claim for the delivered transfer fail.
    let segment: Vec<Message> = devnet.sent_events(to_remote).await?.into_iter().map(|e| e.message).collect();
    let before = devnet.home_balance(holder).await?;
    let claim = home.claimRefund(to_remote, segment.clone(), U256::from(1u64));
    let estimate = claim.estimate_gas().await?;
    let receipt = claim.gas(estimate * 6 / 5).send().await?.get_receipt().await?;
    assert!(receipt.status(), "the refund is paid (gas used {})", receipt.gas_used);
    assert_eq!(devnet.home_balance(holder).await? - before, late.net);
    for (index, what) in [(1u64, "a second claim"), (0, "a refund of the delivered transfer")] {
        let error =
            home.claimRefund(to_remote, segment.clone(), U256::from(index)).call().await.expect_err("must revert");
        assert!(
            matches!(
                error.as_decoded_interface_error::<ZeroBridge::ZeroBridgeErrors>(),
                Some(ZeroBridge::ZeroBridgeErrors::RefundNotApproved(_))
            ),
            "{what}: {error}"
        );
    }
    assert_eq!(devnet.wrapped_supply().await?, devnet.vault_locked().await?, "conservation holds");
    Ok(())
}
