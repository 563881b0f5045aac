//! Role commands against a real devnet: the deployer (devnet admin and guardian) pauses the
//! bridge, a send then fails, unpausing goes through a committee proposal (`gov`), `doctor` warns
//! about the single-key admin, `regulator` / `compliance` need their roles. `doctor` also warns
//! when one operator alone reaches a staked lane's threshold, until a committee proposal caps one
//! operator's share (`setMaxOperatorShare`).

mod common;
use common::{expect_refusal, expect_success, text, zerobridge};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, ensure};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::committee::Committee;
use zb_contracts::manager::AccessManager;
use zb_e2e::{Devnet, DevnetOptions, dev_keys};

/// Anvil's account 3: gets the REGULATOR and COMPLIANCE_ISSUER roles.
const OFFICER_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

#[tokio::test(flavor = "multi_thread")]
async fn roles_pause_govern_and_refuse() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    devnet.write_cli_manifest(dir)?;
    let m = devnet.manifest();
    let holder: PrivateKeySigner = dev_keys::HOLDER.parse()?;
    let holder_arg = holder.address().to_string();
    let keys = [("HOLDER_KEY", dev_keys::HOLDER), ("OFFICER_KEY", OFFICER_KEY)];

    // Guardian (the deployer by default) pauses the home bridge.
    let out = expect_success(&zerobridge(dir, &["guardian", "status", "--chain", "ethereum"], &[]).await?, "status")?;
    ensure!(out.contains("bridge on ethereum: not paused"), "{out}");
    let out = expect_success(&zerobridge(dir, &["guardian", "pause", "--chain", "ethereum"], &[]).await?, "pause")?;
    ensure!(out.contains("paused by"), "{out}");
    let out = expect_success(&zerobridge(dir, &["guardian", "status", "--chain", "ethereum"], &[]).await?, "status")?;
    ensure!(out.contains("bridge on ethereum: PAUSED"), "{out}");
    let out = expect_success(
        &zerobridge(dir, &["guardian", "pause", "--chain", "bsc", "--route", "DEMO"], &[]).await?,
        "pause lanes",
    )?;
    ensure!(out.matches("lane ").count() == 2, "{out}");
    let out = expect_success(&zerobridge(dir, &["guardian", "status", "--chain", "bsc"], &[]).await?, "status")?;
    ensure!(out.matches("PAUSED").count() == 2 && out.contains("bridge on bsc: not paused"), "{out}");

    // A send now fails.
    let send = [
        "send",
        "--from",
        "ethereum",
        "--to",
        "bsc",
        "--token",
        "DEMO",
        "--amount",
        "1",
        "--private-key-env",
        "HOLDER_KEY",
    ];
    let output = zerobridge(dir, &send, &keys).await?;
    let (stdout, stderr) = text(&output);
    ensure!(
        !output.status.success() && stderr.contains("paused"),
        "send should fail while paused:\n{stdout}\n{stderr}"
    );

    // Unpausing is not a guardian command.
    let output = zerobridge(dir, &["guardian", "unpause", "--chain", "ethereum"], &[]).await?;
    expect_refusal(&output, &["committee proposal", "gov propose", "bridge:unpause()"])?;

    // Doctor: the devnet admin is a single key; the staked lanes have four equal operators, so no
    // single key reaches a threshold.
    let out = expect_success(&zerobridge(dir, &["doctor"], &[]).await?, "doctor")?;
    ensure!(out.contains("WARN") && out.contains("FISCO-style admin mode") && out.contains("0 error(s)"), "{out}");
    for chain in ["ethereum", "bsc"] {
        ensure!(out.contains(&format!("OK    {chain}: lane ")), "{out}");
    }
    ensure!(out.matches("no operator reaches the threshold alone (4 members)").count() == 2, "{out}");
    ensure!(!out.contains("alone weighs") && !out.contains("maxOperatorShareBps"), "{out}");

    // Doctor reads agents' configs too: one public provider's word alone is an error.
    let agent = dir.join("relayer.toml");
    std::fs::write(&agent, "[[chains]]\nname = \"ethereum\"\nrpc = [\"https://eth.example\"]\n")?;
    let agent_arg = agent.display().to_string();
    let output = zerobridge(dir, &["doctor", "--agent-config", &agent_arg], &[]).await?;
    expect_refusal(&output, &["doctor found 1 error(s)"])?;
    let (out, _) = text(&output);
    ensure!(
        out.contains("ERROR")
            && out.contains("relayer.toml [ethereum]: rpc_quorum 1")
            && out.contains("single provider"),
        "{out}"
    );

    // The deployer does not hold REGULATOR.
    let output = zerobridge(dir, &["regulator", "freeze", &holder_arg, "--chain", "ethereum"], &[]).await?;
    expect_refusal(&output, &["AccessManagedUnauthorized", "REGULATOR"])?;

    // The admin grants REGULATOR (5) and COMPLIANCE_ISSUER (6) to an officer.
    // Anvil's first dev account is the devnet's deployer.
    let (admin, deployer_address) = devnet.home().dev_wallet()?;
    let officer: PrivateKeySigner = OFFICER_KEY.parse()?;
    let manager = AccessManager::new(m.home.manager, admin.clone());
    for role in [5u64, 6] {
        manager.grantRole(role, officer.address(), 0).send().await?.get_receipt().await?;
    }
    let as_officer = |args: &[&str]| {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--chain", "ethereum", "--private-key-env", "OFFICER_KEY"].map(String::from));
        v
    };
    let run = |v: Vec<String>| async move {
        let args: Vec<&str> = v.iter().map(String::as_str).collect();
        zerobridge(dir, &args, &keys).await
    };
    expect_success(&run(as_officer(&["regulator", "freeze", &holder_arg])).await?, "freeze")?;
    let out = expect_success(&zerobridge(dir, &["regulator", "list", "--chain", "ethereum"], &[]).await?, "list")?;
    ensure!(out.contains(&holder_arg) && out.contains("frozen=true"), "{out}");
    expect_success(&run(as_officer(&["regulator", "unfreeze", &holder_arg])).await?, "unfreeze")?;
    let out = expect_success(&zerobridge(dir, &["regulator", "list", "--chain", "ethereum"], &[]).await?, "list")?;
    ensure!(out.contains("no frozen accounts"), "{out}");
    let out =
        expect_success(&run(as_officer(&["compliance", "attest", &holder_arg, "--expires", "+30d"])).await?, "attest")?;
    ensure!(out.contains("attested on ethereum until"), "{out}");
    let bridge = ZeroBridge::new(m.home.bridge, admin.clone());
    ensure!(bridge.accounts(holder.address()).call().await?.attestedUntil > 0, "not attested");
    expect_success(&run(as_officer(&["compliance", "revoke", &holder_arg])).await?, "revoke")?;
    ensure!(bridge.accounts(holder.address()).call().await?.attestedUntil == 0, "not revoked");
    let output = zerobridge(dir, &["compliance", "revoke", &holder_arg, "--chain", "ethereum"], &[]).await?;
    expect_refusal(&output, &["AccessManagedUnauthorized", "COMPLIANCE_ISSUER"])?;

    // A one-member committee with no timelock gets ADMIN and unpauses through a proposal.
    let committee = Committee::deploy(
        admin.clone(),
        vec![deployer_address],
        vec![alloy::primitives::Uint::from(1u64)],
        0,
        0,
        60,
        0,
        3600,
    )
    .await?;
    let committee_address: Address = *committee.address();
    manager.grantRole(0, committee_address, 0).send().await?.get_receipt().await?;
    let c = committee_address.to_string();
    let gov = |args: &[&str]| {
        let mut v: Vec<String> = ["gov"].iter().chain(args).map(|s| s.to_string()).collect();
        v.extend(["--chain", "ethereum", "--committee", &c].map(String::from));
        v
    };
    let out = expect_success(
        &run(gov(&["propose", "--call", "bridge:unpause()", "--description", "unpause after review"])).await?,
        "propose",
    )?;
    ensure!(out.contains("proposal 1 created"), "{out}");
    let out = expect_success(&run(gov(&["status", "1"])).await?, "gov status")?;
    ensure!(out.contains("proposal 1: Active"), "{out}");
    let out = expect_success(&run(gov(&["vote", "1", "--yes"])).await?, "vote")?;
    ensure!(out.contains("now Succeeded"), "{out}");
    expect_success(&run(gov(&["queue", "1"])).await?, "queue")?;
    let output = run(gov(&["vote", "1", "--no"])).await?;
    expect_refusal(&output, &["proposal 1 is Queued"])?;
    let out = expect_success(&run(gov(&["execute", "1"])).await?, "execute")?;
    ensure!(out.contains("Executed"), "{out}");
    ensure!(!bridge.paused().call().await?, "the proposal did not unpause");
    expect_success(&run(gov(&["propose", "--call", "bridge:pause()", "--description", "oops"])).await?, "propose 2")?;
    expect_success(&run(gov(&["cancel", "2"])).await?, "cancel")?;
    let out = expect_success(&run(gov(&["status"])).await?, "gov status all")?;
    ensure!(out.contains("proposal 1: Executed") && out.contains("proposal 2: Canceled"), "{out}");

    // Doctor sees the committee and warns that it is a single key too.
    let out = expect_success(&zerobridge(dir, &["doctor", "--committee", &c], &[]).await?, "doctor")?;
    ensure!(out.contains(&format!("committee {committee_address}")) && out.contains("single key: true"), "{out}");

    // Operator 0 bonds 8000 more (the holder funds it) and allocates all 9000 to the DEMO lane:
    // at the next snapshot it alone weighs 9000 of 12000, above the threshold (8000).
    let lane = devnet.lane(zb_e2e::Direction::ToRemote).to_string();
    let operator0 = devnet_operator(dir, 0)?;
    let holder_home =
        ProviderBuilder::new().wallet(EthereumWallet::from(holder.clone())).connect_http(devnet.home().http().parse()?);
    let funding = TransactionRequest::default().with_to(operator0).with_value(zb_e2e::tokens(8_010));
    ensure!(holder_home.send_transaction(funding).await?.get_receipt().await?.status(), "funding operator 0");
    let op0 = ["--chain", "ethereum", "--operator", "0"];
    let with_op0 = |args: &[&str]| args.iter().chain(&op0).map(|s| s.to_string()).collect::<Vec<String>>();
    expect_success(&run(with_op0(&["stake", "deposit", "--amount", "8000"])).await?, "stake deposit")?;
    expect_success(&run(with_op0(&["stake", "opt-in", "--route", "DEMO"])).await?, "stake opt-in")?;
    let commit = ["stake", "commit", "--chain", "ethereum", "--route", "DEMO"];
    next_epoch(&devnet).await?;
    let out = expect_success(&zerobridge(dir, &commit, &[]).await?, "stake commit (heavy operator)")?;
    ensure!(out.contains("12000 ETH total"), "{out}");
    let out = expect_success(&zerobridge(dir, &["doctor", "--committee", &c], &[]).await?, "doctor (heavy operator)")?;
    ensure!(
        out.contains(&format!("WARN  ethereum: lane {lane} (DEMO ethereum -> bsc): operator {operator0} alone weighs 9000 ETH of the threshold 8000 ETH")),
        "{out}"
    );
    ensure!(out.contains("setMaxOperatorShare(lane, shareBps) on the stake manager"), "{out}");
    ensure!(out.matches("no operator reaches the threshold alone").count() == 1, "bsc's lane is unchanged:\n{out}");

    // Governance caps one operator's share at 60 % (a committee proposal); the next snapshot
    // water-fills operator 0 down to 4500 of 7500, below the threshold (5000).
    let cap = format!("{}:setMaxOperatorShare(bytes32,uint16):{lane},6000", m.home.stake_manager);
    let out = expect_success(
        &run(gov(&["propose", "--call", &cap, "--description", "cap one operator's share"])).await?,
        "propose cap",
    )?;
    ensure!(out.contains("proposal 3 created"), "{out}");
    expect_success(&run(gov(&["vote", "3", "--yes"])).await?, "vote cap")?;
    expect_success(&run(gov(&["queue", "3"])).await?, "queue cap")?;
    expect_success(&run(gov(&["execute", "3"])).await?, "execute cap")?;
    next_epoch(&devnet).await?;
    let out = expect_success(&zerobridge(dir, &commit, &[]).await?, "stake commit (capped)")?;
    ensure!(out.contains("7500 ETH total"), "{out}");
    let out = expect_success(&zerobridge(dir, &["doctor", "--committee", &c], &[]).await?, "doctor (capped)")?;
    ensure!(!out.contains("alone weighs"), "{out}");
    ensure!(
        out.contains(&format!("OK    ethereum: lane {lane} (DEMO ethereum -> bsc): no operator reaches the threshold alone (4 members); maxOperatorShareBps 6000: one operator weighs at most 60% of a snapshot")),
        "{out}"
    );
    let shown = expect_success(
        &zerobridge(dir, &["stake", "status", "--chain", "ethereum", "--route", "DEMO"], &[]).await?,
        "stake status",
    )?;
    ensure!(
        shown.contains("share cap  one operator weighs at most 60% of a snapshot (maxOperatorShareBps 6000)"),
        "{shown}"
    );
    ensure!(shown.contains("weight 4500 ETH"), "{shown}");
    Ok(())
}

/// Moves the home chain's clock to the next stake epoch (the devnet's epochs are 120 s).
async fn next_epoch(devnet: &Devnet) -> Result<()> {
    let _: serde_json::Value = devnet.home().rpc("evm_increaseTime", (121u64,)).await?;
    let _: serde_json::Value = devnet.home().rpc("evm_mine", ()).await?;
    Ok(())
}

/// The address of the devnet manifest's `operator-N`.
fn devnet_operator(dir: &std::path::Path, n: usize) -> Result<Address> {
    let manifest = zb_ops::network::DevnetManifest::load(&dir.join("devnet/manifest.json"))?;
    manifest.account(&format!("operator-{n}")).map(|a| a.address).ok_or_else(|| eyre::eyre!("no operator-{n}"))
}
