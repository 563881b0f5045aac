//! A compromised quorum forges a checkpoint and mints on the destination; an honest reporter
//! finds the forgery on the destination, takes the signatures from the delivery's calldata and
//! gets every forger slashed on the source chain, where the stake lives. The per-period cap
//! defers part of it; the deferred part stays owed and blocks the forger's withdrawal.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use eyre::{Context, bail, ensure, eyre};
use zb_api_types::validator::CheckpointResponse;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_e2e::devnet::validator_key;
use zb_e2e::forge::forge_delivery;
use zb_e2e::{Chain, Devnet, DevnetOptions, Direction, tokens};
use zb_protocol::{Message, PackedSignature};

use crate::DELIVERY;

/// Anvil's account 3: the honest reporter (a watchtower operator).
const REPORTER_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const ETHER: u128 = 1_000_000_000_000_000_000;

fn wallet(url: &str, key: &str) -> eyre::Result<(DynProvider, Address)> {
    let signer: PrivateKeySigner = key.parse().wrap_err("dev key")?;
    let address = signer.address();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url.parse()?).erased();
    Ok((provider, address))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forging_quorum_is_slashed_on_the_source_by_an_honest_reporter() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let lane = devnet.lane(Direction::ToRemote);
    let manifest = devnet.manifest().clone();

    // One honest transfer, delivered by the agents.
    let sent = devnet.send_to_remote(tokens(100), devnet.holder()).await?;
    devnet.wait_delivered(lane, sent.sequence, DELIVERY).await?;
    devnet.kill_relayer()?;

    // Validators 0, 1 and 2 (3 of 4 equal stakes: a quorum) are compromised. They sign a
    // checkpoint for a sequence the home chain never sent: 5,000 DEMO to the attacker.
    let forgery = forge_delivery(&devnet, Direction::ToRemote, &[0, 1, 2], tokens(5_000)).await?;
    let (forged, attacker, receipt) = (forgery.message, forgery.attacker, forgery.receipt);
    let executed = receipt
        .decoded_log::<ZeroBridge::MessageExecuted>()
        .ok_or_else(|| eyre!("the forged delivery executed nothing: {receipt:?}"))?;
    ensure!(executed.recipient == attacker, "minted to {}", executed.recipient);
    ensure!(
        devnet.wrapped_balance(attacker).await? == forged.amount,
        "the forged delivery should have minted on the destination (the quorum is valid there)"
    );

    // The honest reporter compares what the destination accepted with what the source sent.
    let source_count = devnet.sent_sequence(lane).await?;
    let deliveries = devnet.deliveries(lane).await?;
    let fraudulent = deliveries
        .iter()
        .find(|d| d.sequence > source_count)
        .ok_or_else(|| eyre!("the reporter found no delivery beyond the source's {source_count} messages"))?;
    let tx = devnet
        .remote()
        .reader()
        .get_transaction_by_hash(fraudulent.tx_hash)
        .await?
        .ok_or_else(|| eyre!("no transaction {}", fraudulent.tx_hash))?;
    let call = ZeroBridge::deliverCall::abi_decode(alloy::consensus::Transaction::input(&tx))?;
    ensure!(call.checkpoint.accumulator == fraudulent.accumulator, "the delivery carries the delivered checkpoint");

    let (reporter_home, reporter) = wallet(&devnet.home().http(), REPORTER_KEY)?;
    let stake = StakeManager::new(manifest.home.stake_manager, reporter_home.clone());
    let evidence_checkpoint = StakeManager::Checkpoint {
        lane: call.checkpoint.lane,
        sequence: call.checkpoint.sequence,
        accumulator: call.checkpoint.accumulator,
    };
    let total_before = stake.totalBonded().call().await?;
    ensure!(total_before == U256::from(4_000 * ETHER), "4 operators bonded 1,000 each: {total_before}");
    let mut evidence_ids = Vec::new();
    let mut forgers = Vec::new();
    for chunk in call.signatures.chunks(PackedSignature::LEN) {
        let packed = PackedSignature::from_bytes(chunk.try_into()?);
        let compact = packed.signature.as_erc2098();
        let (r, vs) = (B256::from_slice(&compact[..32]), B256::from_slice(&compact[32..]));
        let receipt = stake.slash(evidence_checkpoint.clone(), r, vs, Vec::new()).send().await?.get_receipt().await?;
        ensure!(receipt.status(), "slash reverted: {receipt:?}");
        let proven = receipt.decoded_log::<StakeManager::FraudProven>().ok_or_else(|| eyre!("no FraudProven event"))?;
        evidence_ids.push(proven.evidenceId);
        forgers.push(proven.operator);
        // The same evidence cannot be used twice.
        let replay = stake.slash(evidence_checkpoint.clone(), r, vs, Vec::new()).call().await;
        ensure!(replay.is_err(), "replayed evidence must be refused");
    }

    // Every forger is jailed; the cap (half of the total bond per day) took 2,000 now.
    let mut owed_operators = Vec::new();
    for operator in &forgers {
        let op = stake.getOperator(*operator).call().await?;
        ensure!(op.jailed, "forger {operator} must be jailed");
        if op.owed > U256::ZERO {
            owed_operators.push(*operator);
        }
    }
    let slashed_now = total_before - stake.totalBonded().call().await?;
    assert_eq!(slashed_now, U256::from(2_000 * ETHER), "the per-period cap bounds the first slashes");
    assert_eq!(owed_operators.len(), 1, "one forger's slash is deferred to the next period");
    assert_eq!(reporter_owed(&stake, &evidence_ids, reporter).await?, U256::from(200 * ETHER), "10 % to the reporter");
    // The share waits one detection window after the proof (a forger reporting itself would be
    // found out meanwhile).
    let early = stake.claimReporterPayout(evidence_ids[0]).call().await;
    let refusal =
        format!("{:?}", early.err().ok_or_else(|| eyre!("the reporter was paid before the detection window"))?);
    ensure!(
        refusal.contains("ReporterPayoutLocked") || refusal.contains(&hex_selector("ReporterPayoutLocked(uint64)")),
        "{refusal}"
    );
    assert_eq!(stake.compensationPool(lane).call().await?, U256::from(1_800 * ETHER), "the rest to the lane's pool");

    // The honest validator is untouched, and its honest checkpoint is not slashable.
    let honest = PrivateKeySigner::from_bytes(&validator_key(3))?.address();
    let honest_operator = stake.operatorOfSigner(honest).call().await?;
    let honest_state = stake.getOperator(honest_operator).call().await?;
    ensure!(!honest_state.jailed && honest_state.active == U256::from(1_000 * ETHER), "honest operator intact");
    let served = match devnet.validator_checkpoint(3, lane, sent.sequence).await? {
        zb_e2e::Served::Signed(c) => c,
        other => bail!("validator 3 refused its honest checkpoint: {other:?}"),
    };
    assert_not_slashable(&devnet, &served).await?;

    // The forger whose slash was deferred cannot run: after unbonding, withdraw is refused while
    // the slash is owed; in the next period anyone collects the rest.
    let deferred = owed_operators[0];
    let deferred_index = manifest
        .operator_keys
        .iter()
        .position(|k| PrivateKeySigner::from_bytes(&B256::from(*k)).is_ok_and(|s| s.address() == deferred))
        .ok_or_else(|| eyre!("no operator key for {deferred}"))?;
    let operator_key = format!("{:#x}", B256::from(manifest.operator_keys[deferred_index]));
    let (operator_home, _) = wallet(&devnet.home().http(), &operator_key)?;
    let as_operator = StakeManager::new(manifest.home.stake_manager, operator_home);
    let active = as_operator.getOperator(deferred).call().await?.active;
    as_operator.unbond(active).send().await?.get_receipt().await?;
    let unbonding_period = as_operator.unbondingPeriod().call().await?;
    let _: serde_json::Value = devnet.home().rpc("evm_increaseTime", (unbonding_period + 1,)).await?;
    devnet.home().mine(1).await?;
    let refused = as_operator.withdraw().call().await;
    let refusal = format!("{:?}", refused.err().ok_or_else(|| eyre!("a forger with an owed slash withdrew"))?);
    ensure!(refusal.contains("SlashOwed") || refusal.contains(&hex_selector("SlashOwed(uint256)")), "{refusal}");

    let _: serde_json::Value = devnet.home().rpc("evm_increaseTime", (86_400u64,)).await?;
    devnet.home().mine(1).await?;
    for id in &evidence_ids {
        stake.collectSlash(*id).send().await?.get_receipt().await?;
    }
    let after = stake.getOperator(deferred).call().await?;
    assert_eq!(after.owed, U256::ZERO, "the deferred slash was collected");
    assert_eq!(after.unbonding, U256::ZERO, "unbonding stake is slashable too");
    assert_eq!(stake.totalBonded().call().await?, U256::from(1_000 * ETHER), "only the honest bond is left");
    assert_eq!(reporter_owed(&stake, &evidence_ids, reporter).await?, U256::from(300 * ETHER));

    // The reporter is paid in the native coin, per evidence.
    let before = reporter_home.get_balance(reporter).await?;
    for id in &evidence_ids {
        let receipt = stake.claimReporterPayout(*id).send().await?.get_receipt().await?;
        ensure!(receipt.status(), "claimReporterPayout({id}) reverted");
    }
    ensure!(reporter_owed(&stake, &evidence_ids, reporter).await?.is_zero(), "every share was paid");
    let gained = reporter_home.get_balance(reporter).await? - before;
    ensure!(gained > U256::from(299 * ETHER), "the reporter received {gained} wei");
    Ok(())
}

/// The reporter shares `reporter` is owed on `evidence_ids` (each must name it as reporter).
async fn reporter_owed(
    stake: &StakeManager::StakeManagerInstance<DynProvider>,
    evidence_ids: &[B256],
    reporter: Address,
) -> eyre::Result<U256> {
    let mut owed = U256::ZERO;
    for id in evidence_ids {
        let record = stake.evidence(*id).call().await?;
        ensure!(record.reporter == reporter, "evidence {id} names {} as reporter", record.reporter);
        owed += record.reporterOwed;
    }
    Ok(owed)
}

/// Submits validator `served`'s checkpoint as slashing evidence on the lane's source chain (as a
/// call: nothing is sent) with the proof segment the stake manager needs, and checks that it is
/// refused as `NotFraud`: an honest signature is never slashable.
pub async fn assert_not_slashable(devnet: &Devnet, served: &CheckpointResponse) -> eyre::Result<()> {
    let source = devnet.direction(served.lane)?.source();
    let side = match source {
        Chain::Home => &devnet.manifest().home,
        Chain::Remote => &devnet.manifest().remote,
    };
    let stake = StakeManager::new(side.stake_manager, devnet.chain(source).reader());
    let messages: Vec<Message> = devnet.sent_events(served.lane).await?.into_iter().map(|e| e.message).collect();
    let head = u64::try_from(messages.len())?;
    let sequence = served.sequence;
    // The bridge records every 16th accumulator and the head; in between, the segment from the
    // previous record to the next one (or the head) proves the sequence.
    let proof: Vec<StakeManager::Message> = if sequence.is_multiple_of(16) || sequence == head {
        Vec::new()
    } else {
        let start = sequence - sequence % 16;
        let end = (start + 16).min(head);
        messages[usize::try_from(start)?..usize::try_from(end)?].iter().map(StakeManager::Message::from).collect()
    };
    let compact = alloy::primitives::Signature::try_from(served.signature.as_ref())?.as_erc2098();
    let attempt = stake
        .slash(
            StakeManager::Checkpoint { lane: served.lane, sequence, accumulator: served.accumulator },
            B256::from_slice(&compact[..32]),
            B256::from_slice(&compact[32..]),
            proof,
        )
        .call()
        .await;
    let refusal = format!("{:?}", attempt.err().ok_or_else(|| eyre!("honest checkpoint {sequence} was slashable"))?);
    ensure!(
        refusal.contains("NotFraud") || refusal.contains(&hex_selector("NotFraud(bytes32,uint64)")),
        "honest checkpoint {sequence} was refused for another reason: {refusal}"
    );
    Ok(())
}

/// `0x` + the 4-byte selector of an error signature, as it appears in raw revert data.
fn hex_selector(signature: &str) -> String {
    let hash = alloy::primitives::keccak256(signature.as_bytes());
    format!("0x{}", alloy::hex::encode(&hash[..4]))
}
