//! `zerobridge stake ...` and `zerobridge slash ...` against a real two-chain staked devnet
//! (zb-e2e): the devnet operators' status; a new operator registers (its signing key proves
//! possession), deposits, opts in, enters the lane's snapshot at the next epoch, unbonds and
//! withdraws only after the unbonding period and once the set that counted it has expired plus
//! the detection window (anvil's clock is moved forward instead of waiting); a forged checkpoint
//! signed by a validator key slashes its operator, an honest one is refused as "not fraud", and
//! the reporter claims its share per evidence after the detection window; mistakes are refused in
//! one line with the fix.

mod common;
use common::{expect_refusal, expect_success, zerobridge};

use std::path::Path;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, ensure, eyre};
use zb_contracts::stake::StakeManager;
use zb_e2e::{Anvil, Chain, Devnet, DevnetOptions, Direction, dev_keys, tokens};
use zb_protocol::Checkpoint;

/// Moves the chain's clock forward and mines a block at the new time.
async fn advance(anvil: &Anvil, seconds: u64) -> Result<()> {
    let _: serde_json::Value = anvil.rpc("evm_increaseTime", (seconds,)).await?;
    let _: serde_json::Value = anvil.rpc("evm_mine", ()).await?;
    Ok(())
}

/// Writes a signed checkpoint as `slash submit` reads it; `compact` picks the 64-byte form.
fn evidence(
    dir: &Path,
    name: &str,
    key: B256,
    checkpoint: &Checkpoint,
    bridge: Address,
    compact: bool,
) -> Result<String> {
    let signer = PrivateKeySigner::from_bytes(&key)?;
    let signature = zb_protocol::sign_checkpoint(&signer, checkpoint, 1, bridge)?;
    let bytes: Vec<u8> = if compact { signature.as_erc2098().to_vec() } else { signature.as_bytes().to_vec() };
    let json = serde_json::json!({
        "chainId": 1,
        "lane": checkpoint.lane,
        "sequence": checkpoint.sequence,
        "accumulator": checkpoint.accumulator,
        "signer": signer.address(),
        "signature": Bytes::from(bytes),
    });
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    Ok(path.display().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_stake_unbond_withdraw_and_fraud_is_slashed() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    devnet.write_cli_manifest(dir)?;
    let to_remote = devnet.lane(Direction::ToRemote);
    let to_home = devnet.lane(Direction::ToHome);
    let home_bridge = devnet.bridge_address(Chain::Home);
    let stake_manager = devnet.manifest().home.stake_manager;
    let sm = StakeManager::new(stake_manager, devnet.home().reader());

    // The devnet: four operators with 1000 each, all in the DEMO lane's snapshot.
    let shown =
        expect_success(&zerobridge(dir, &["stake", "status", "--chain", "ethereum"], &[]).await?, "stake status")?;
    for needle in [
        "(devnet operator-0)",
        "(devnet operator-3)",
        "active     1000 ETH",
        "in the current snapshot (epoch 0) with weight 1000 ETH",
        &format!("lane {to_remote} (DEMO ethereum -> bsc)"),
        "4 members, threshold 2666.666666666666666667 ETH of 4000 ETH",
        "4000 ETH staked by 4 validators",
        "the bridge's set is this snapshot",
    ] {
        ensure!(shown.contains(needle), "stake status lacks {needle:?}:\n{shown}");
    }
    let shown =
        expect_success(&zerobridge(dir, &["stake", "status", "--operator", "2"], &[]).await?, "status --operator")?;
    ensure!(shown.contains("stake manager on ethereum") && shown.contains("stake manager on bsc"), "{shown}");
    ensure!(shown.matches("(devnet operator-2)").count() == 2, "operator 2 on both chains:\n{shown}");

    // A new operator: its own key, funded by the deployer, and a separate signing key.
    let operator_key = keccak256("zerobridge.test.stake.operator");
    let operator = PrivateKeySigner::from_bytes(&operator_key)?.address();
    let signer_key = keccak256("zerobridge.test.stake.signer");
    let new_signer = PrivateKeySigner::from_bytes(&signer_key)?.address();
    let deployer: PrivateKeySigner = dev_keys::DEPLOYER.parse()?;
    let funder =
        ProviderBuilder::new().wallet(EthereumWallet::from(deployer)).connect_http(devnet.home().http().parse()?);
    let funding = TransactionRequest::default().with_to(operator).with_value(tokens(2000));
    let receipt = funder.send_transaction(funding).await?.get_receipt().await?;
    ensure!(receipt.status(), "funding the operator failed");
    let key_env =
        [("ZB_TEST_OPERATOR_KEY", format!("{operator_key}")), ("ZB_TEST_SIGNER_KEY", format!("{signer_key}"))];
    let env: Vec<(&str, &str)> = key_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let as_operator = |args: &[&str]| {
        let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        argv.extend(["--chain".into(), "ethereum".into(), "--private-key-env".into(), "ZB_TEST_OPERATOR_KEY".into()]);
        argv
    };
    let run = |argv: Vec<String>| {
        let env = env.clone();
        async move {
            let args: Vec<&str> = argv.iter().map(String::as_str).collect();
            zerobridge(dir, &args, &env).await
        }
    };

    // Mistakes first, each refused in one line with the fix.
    let refused = run(as_operator(&["stake", "opt-in", "--route", "DEMO"])).await?;
    expect_refusal(&refused, &["is not a registered operator on ethereum", "--signer"])?;
    let refused = run(as_operator(&["stake", "deposit", "--amount", "1500"])).await?;
    expect_refusal(&refused, &["not a registered operator", "--signer-keystore FILE", "--signer-key-env VAR"])?;
    let operator_arg = operator.to_string();
    let refused = run(as_operator(&["stake", "deposit", "--amount", "1500", "--signer", &operator_arg])).await?;
    expect_refusal(&refused, &["is the operator key itself"])?;
    // Registering a signer needs its key (the proof of possession), and the key must be that signer's.
    let signer_arg = new_signer.to_string();
    let refused = run(as_operator(&["stake", "deposit", "--amount", "1500", "--signer", &signer_arg])).await?;
    expect_refusal(&refused, &[&format!("registering signer {new_signer} needs a proof that you hold its key")])?;
    let refused = run(as_operator(&[
        "stake",
        "deposit",
        "--amount",
        "1500",
        "--signer",
        &signer_arg,
        "--signer-key-env",
        "ZB_TEST_OPERATOR_KEY",
    ]))
    .await?;
    expect_refusal(&refused, &[&format!("--signer {new_signer} is not the address of the signing key given")])?;
    let refused = run(as_operator(&["stake", "register"])).await?;
    expect_refusal(&refused, &["which signing key?", "--signer-keystore FILE"])?;
    let refused = zerobridge(dir, &["stake", "withdraw", "--chain", "ethereum"], &[]).await?;
    expect_refusal(&refused, &["which operator?", "--operator N"])?;

    // Register with the deposit, the validator's keystore signing the proof, then opt in.
    let imported = zerobridge(
        dir,
        &[
            "keys",
            "import",
            "--dir",
            "signer-keys",
            "--private-key-env",
            "ZB_TEST_SIGNER_KEY",
            "--password-env",
            "ZB_TEST_SIGNER_PASSWORD",
        ],
        &[("ZB_TEST_SIGNER_KEY", &format!("{signer_key}")), ("ZB_TEST_SIGNER_PASSWORD", "signer password")],
    )
    .await?;
    let imported = expect_success(&imported, "keys import (the validator's signing key)")?;
    let keystore = imported.split_whitespace().nth(1).ok_or_else(|| eyre!("keys import printed {imported:?}"))?;
    let refused = run(as_operator(&["stake", "register", "--signer-keystore", keystore])).await?;
    expect_refusal(&refused, &["ZB_KEYSTORE_PASSWORD", "--signer-password-env VAR or --signer-password-file FILE"])?;
    let out = zerobridge(
        dir,
        &as_operator(&[
            "stake",
            "deposit",
            "--amount",
            "1500",
            "--signer",
            &signer_arg,
            "--signer-keystore",
            keystore,
            "--signer-password-env",
            "ZB_TEST_SIGNER_PASSWORD",
        ])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        &[("ZB_TEST_OPERATOR_KEY", &format!("{operator_key}")), ("ZB_TEST_SIGNER_PASSWORD", "signer password")],
    )
    .await?;
    let out = expect_success(&out, "stake deposit --signer-keystore")?;
    ensure!(out.contains(&format!("registered operator {operator} with signer {new_signer}")), "{out}");
    ensure!(out.contains("deposited 1500 ETH on ethereum") && out.contains("active stake 1500 ETH"), "{out}");
    ensure!(sm.operatorOfSigner(new_signer).call().await? == operator, "the signer is registered to the operator");
    let inbound = to_home.to_string();
    let refused = run(as_operator(&["stake", "opt-in", "--lane", &inbound])).await?;
    expect_refusal(
        &refused,
        &["is an inbound lane on ethereum", "not an outbound lane of this chain", "use --chain bsc"],
    )?;
    let refused = run(as_operator(&["stake", "opt-in", "--route", "DEMO", "--amount", "2000"])).await?;
    expect_refusal(&refused, &["insufficient stake", "2000 ETH", "only 1500 ETH active"])?;
    let refused = run(as_operator(&["stake", "opt-in", "--route", "DEMO", "--amount", "0.5"])).await?;
    expect_refusal(&refused, &["an allocation of 0.5 ETH is below the minimum 1 ETH", "raise --amount"])?;
    let refused = run(as_operator(&["stake", "opt-in", "--lane", &B256::repeat_byte(0x42).to_string()])).await?;
    expect_refusal(&refused, &["unknown lane", "on ethereum"])?;
    let out = expect_success(&run(as_operator(&["stake", "opt-in", "--route", "DEMO"])).await?, "stake opt-in")?;
    ensure!(out.contains(&format!("opted in to lane {to_remote} (DEMO ethereum -> bsc) with 1500 ETH")), "{out}");
    ensure!(out.contains("from the next snapshot"), "{out}");

    // Not in the snapshot until the next epoch is committed; this epoch is taken.
    let now = devnet.home().reader().get_block_by_number(Default::default()).await?.map_or(0, |b| b.header.timestamp);
    let epoch_now = sm.currentEpoch().call().await?;
    let genesis = sm.genesis().call().await?;
    let epoch_length = sm.epochLength().call().await?;
    let commit = ["stake", "commit", "--chain", "ethereum", "--route", "DEMO"];
    if epoch_now == 0 {
        let refused = zerobridge(dir, &commit, &[]).await?;
        expect_refusal(&refused, &["epoch 0 of lane", "is already committed", "the next one (epoch 1)"])?;
    }
    let next_epoch_at = genesis + (epoch_now + 1) * epoch_length;
    advance(devnet.home(), next_epoch_at.saturating_sub(now) + 1).await?;
    let out = expect_success(&zerobridge(dir, &commit, &[]).await?, "stake commit")?;
    ensure!(out.contains("5 members") && out.contains("5500 ETH total"), "{out}");
    ensure!(out.contains("queued on the lane as a SET_UPDATE message"), "{out}");
    let shown = expect_success(
        &zerobridge(dir, &["stake", "status", "--chain", "ethereum", "--address", &operator_arg], &[]).await?,
        "stake status --address",
    )?;
    ensure!(shown.contains(&format!("signer     {new_signer}")), "{shown}");
    ensure!(shown.contains("with weight 1500 ETH"), "{shown}");
    ensure!(shown.contains("5500 ETH staked by 5 validators"), "{shown}");

    // Unbond everything. The stake backs the set just committed until that set expires (the
    // devnet's set lifetime is a day) plus the detection window: withdraw is refused during the
    // unbonding period, and after it for as long as the lock lasts, even once the next snapshot
    // drops the operator (the destination may still accept the old set until it expires).
    let out = expect_success(&run(as_operator(&["stake", "unbond", "--amount", "all"])).await?, "stake unbond")?;
    ensure!(out.contains("unbonding 1500 ETH on ethereum") && out.contains("at the earliest"), "{out}");
    ensure!(out.contains("1500 ETH of the bond backs a validator set that the destination accepts until"), "{out}");
    let locked = sm.getOperator(operator).call().await?;
    let five_members = sm.getSnapshot(to_remote).call().await?;
    ensure!(U256::from(locked.lockedWeight) == tokens(1500), "locked weight {}", locked.lockedWeight);
    ensure!(
        locked.lockedUntil == five_members.validUntil + 300,
        "locked until {}, set valid until {}",
        locked.lockedUntil,
        five_members.validUntil
    );
    let refused = run(as_operator(&["stake", "withdraw"])).await?;
    expect_refusal(
        &refused,
        &[
            "still unbonding until",
            "UTC",
            "in 10 min",
            "nothing can be withdrawn then",
            "backs a validator set that the destination accepts until",
            "its signatures stay provable for the 5 min detection window after that",
        ],
    )?;
    advance(devnet.home(), 601).await?;
    let refused = run(as_operator(&["stake", "withdraw"])).await?;
    let lock_needles = [
        "nothing of the 1500 ETH unbonding can be withdrawn on ethereum yet",
        "1500 ETH of the bond backs a validator set that the destination accepts until",
        "so it stays locked until",
    ];
    expect_refusal(&refused, &lock_needles)?;
    // The next snapshot drops the operator: a new set with a fresh expiry, committed before the
    // clock passes the old set's (which would expire the lane's set for deliveries).
    let out = expect_success(&zerobridge(dir, &commit, &[]).await?, "stake commit (drops the operator)")?;
    ensure!(out.contains("4 members") && out.contains("4000 ETH total"), "{out}");
    let four_members = sm.getSnapshot(to_remote).call().await?;
    ensure!(four_members.validUntil > locked.lockedUntil, "the new set outlives the operator's lock");
    let refused = run(as_operator(&["stake", "withdraw"])).await?;
    expect_refusal(&refused, &lock_needles)?;
    let shown = expect_success(
        &zerobridge(dir, &["stake", "status", "--chain", "ethereum", "--address", &operator_arg], &[]).await?,
        "stake status --address (locked)",
    )?;
    ensure!(shown.contains("unbonding  1500 ETH, withdrawable at"), "{shown}");
    ensure!(shown.contains("locked     1500 ETH of the bond backs a validator set"), "{shown}");
    let now = devnet.home().reader().get_block_by_number(Default::default()).await?.map_or(0, |b| b.header.timestamp);
    advance(devnet.home(), locked.lockedUntil.saturating_sub(now) + 1).await?;
    let before = devnet.home().reader().get_balance(operator).await?;
    let out = expect_success(&run(as_operator(&["stake", "withdraw"])).await?, "stake withdraw")?;
    ensure!(out.contains(&format!("withdrew 1500 ETH to {operator}")), "{out}");
    let after = devnet.home().reader().get_balance(operator).await?;
    ensure!(after > before + tokens(1499), "the stake did not come back: {before} -> {after}");
    let refused = run(as_operator(&["stake", "withdraw"])).await?;
    expect_refusal(&refused, &["has nothing unbonding on ethereum", "unbond first"])?;

    // Three transfers: the lane now has the two SET_UPDATEs and these, none recorded but the head.
    for _ in 0..3 {
        devnet.send(Direction::ToRemote, tokens(1), devnet.holder()).await?;
    }
    let accumulators = devnet.source_accumulators(to_remote).await?;
    let head = u64::try_from(accumulators.len())?;
    ensure!(head == 5, "lane length {head}, expected two set updates and three transfers");

    // An honest checkpoint is no fraud, and costs nothing.
    let honest = Checkpoint { lane: to_remote, sequence: 2, accumulator: accumulators[1] };
    let path = evidence(dir, "honest.json", zb_e2e::devnet::validator_key(0), &honest, home_bridge, false)?;
    let refused = zerobridge(dir, &["slash", "submit", &path], &[]).await?;
    expect_refusal(
        &refused,
        &["not fraud: the lane's accumulator at 2 is", &accumulators[1].to_string(), "as signed"],
    )?;

    // A key that belongs to no operator: nothing to slash.
    let forged = Checkpoint { lane: to_remote, sequence: 2, accumulator: B256::repeat_byte(0xee) };
    let path = evidence(dir, "stranger.json", keccak256("stranger"), &forged, home_bridge, false)?;
    let refused = zerobridge(dir, &["slash", "submit", &path], &[]).await?;
    expect_refusal(&refused, &["no operator's signing key on ethereum"])?;

    // Validator 1 signs another accumulator at sequence 2: its operator is slashed (proof built).
    let operator_1 = devnet_operator(dir, 1)?;
    let path = evidence(dir, "forged.json", zb_e2e::devnet::validator_key(1), &forged, home_bridge, false)?;
    let out = expect_success(&zerobridge(dir, &["slash", "submit", &path], &[]).await?, "slash submit")?;
    for needle in [
        "(proof: messages 1 to 5)",
        &format!("operator        {operator_1}"),
        "slashed now     1000 ETH",
        "still owed      nothing",
        "reporter share  100 ETH",
        "after the 5 min detection window",
    ] {
        ensure!(out.contains(needle), "slash submit lacks {needle:?}:\n{out}");
    }
    let first_evidence = evidence_id(&out)?;
    let refused = zerobridge(dir, &["slash", "submit", &path], &[]).await?;
    expect_refusal(&refused, &["already used"])?;
    let op = sm.getOperator(operator_1).call().await?;
    ensure!(op.jailed && op.active.is_zero(), "operator 1 after the slash: {op:?}");

    // Validator 2 signs a sequence the lane never reached (compact signature, no proof needed).
    let beyond = Checkpoint { lane: to_remote, sequence: 99, accumulator: B256::repeat_byte(0xdd) };
    let path = evidence(dir, "beyond.json", zb_e2e::devnet::validator_key(2), &beyond, home_bridge, true)?;
    let out = expect_success(&zerobridge(dir, &["slash", "submit", &path], &[]).await?, "slash submit (beyond head)")?;
    ensure!(out.contains("signs sequence 99 but the lane has only 5 messages"), "{out}");
    ensure!(out.contains("slashed now     1000 ETH"), "{out}");
    let second_evidence = evidence_id(&out)?;

    // The jailed operator cannot opt in again, and status says why; the reporter can claim.
    let refused =
        zerobridge(dir, &["stake", "opt-in", "--chain", "ethereum", "--route", "DEMO", "--operator", "1"], &[]).await?;
    expect_refusal(&refused, &["is jailed on ethereum", "unjail"])?;
    let shown = expect_success(
        &zerobridge(dir, &["stake", "status", "--chain", "ethereum", "--operator", "1"], &[]).await?,
        "status",
    )?;
    ensure!(shown.contains("jailed     YES") && shown.contains("active     0 ETH"), "{shown}");
    ensure!(shown.contains("fraud      proven"), "{shown}");
    // The reporter's shares unlock one detection window after each proof, then are claimed per evidence.
    let claim = ["stake", "claim", "--chain", "ethereum", "--private-key-env", "ZB_TEST_DEPLOYER"];
    let deployer_env = [("ZB_TEST_DEPLOYER", dev_keys::DEPLOYER)];
    let refused = zerobridge(dir, &claim, &deployer_env).await?;
    expect_refusal(&refused, &["reporter share on ethereum (200 ETH on 2 evidence) unlocks at", "(in 5 min)"])?;
    advance(devnet.home(), 301).await?;
    let out = expect_success(&zerobridge(dir, &claim, &deployer_env).await?, "stake claim")?;
    for id in [first_evidence, second_evidence] {
        ensure!(out.contains(&format!("claimed a reporter payout of 100 ETH for evidence {id}")), "{out}");
    }
    let refused = zerobridge(dir, &claim, &deployer_env).await?;
    expect_refusal(&refused, &["has no rewards and no reporter payout to claim on ethereum"])?;
    Ok(())
}

/// The evidence id `slash submit` printed.
fn evidence_id(out: &str) -> Result<B256> {
    let id = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("evidence id"))
        .ok_or_else(|| eyre!("no evidence id in:\n{out}"))?;
    Ok(id.trim().parse()?)
}

/// The address of the devnet manifest's `operator-N`.
fn devnet_operator(dir: &Path, n: usize) -> Result<Address> {
    let manifest = zb_ops::network::DevnetManifest::load(&dir.join("devnet/manifest.json"))?;
    manifest
        .account(&format!("operator-{n}"))
        .map(|a| a.address)
        .ok_or_else(|| eyre!("no operator-{n} in the manifest"))
}

/// Mistakes caught before any chain is asked: a missing or malformed evidence file, an
/// operator number on real chains.
#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_without_a_chain() -> Result<()> {
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let network = dir.join("network.toml");
    std::fs::write(
        &network,
        "[[chains]]\nname = \"ethereum\"\nchainId = 1\nrpc = \"http://127.0.0.1:9\"\n\
         bridge = \"0x1111111111111111111111111111111111111111\"\nregistry = \"0x2222222222222222222222222222222222222222\"\n",
    )?;
    let network = network.display().to_string();

    let refused = zerobridge(dir, &["slash", "submit", "missing.json", "--network", &network], &[]).await?;
    expect_refusal(&refused, &["cannot read the evidence file missing.json"])?;
    std::fs::write(dir.join("bad.json"), r#"{"lane": "0x12", "sequence": 1}"#)?;
    let refused = zerobridge(dir, &["slash", "submit", "bad.json", "--network", &network], &[]).await?;
    expect_refusal(
        &refused,
        &["the evidence is not a signed checkpoint", "lane, sequence, accumulator and signature"],
    )?;

    let refused =
        zerobridge(dir, &["stake", "withdraw", "--chain", "ethereum", "--operator", "1", "--network", &network], &[])
            .await?;
    expect_refusal(&refused, &["--operator N picks a devnet operator key", "--private-key-env"])?;
    let refused = zerobridge(dir, &["stake", "status", "--chain", "ethereum", "--network", &network], &[]).await?;
    expect_refusal(&refused, &["cannot reach ethereum at http://127.0.0.1:9"])?;
    let refused = zerobridge(dir, &["stake", "status"], &[]).await?;
    expect_refusal(&refused, &["no devnet manifest", "--network"])?;
    Ok(())
}
