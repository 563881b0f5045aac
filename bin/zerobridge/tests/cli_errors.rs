//! Holder commands (`send`, `track`, `balance`) as a user runs them: every mistake is refused
//! with one line on stderr and a non-zero exit; with a devnet, a transfer goes all the way.

mod common;
use common::{expect_refusal, expect_success, text, zerobridge};

use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, ensure, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_e2e::{Anvil, Chain, Devnet, DevnetOptions, Direction, dev_keys, tokens};

alloy::sol! {
    #[sol(rpc)]
    interface IERC20 {
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
    }
}

/// A network file naming two chains and one route; nothing needs to run at these addresses
/// for the checks that come before any RPC call.
fn offline_network(home_rpc: &str, remote_rpc: &str, remote_chain_id: u64) -> String {
    format!(
        r#"
validators = []
threshold = 3

[[chains]]
name = "ethereum"
chainId = 1
rpc = "{home_rpc}"
bridge = "0x1111111111111111111111111111111111111111"
registry = "0x2222222222222222222222222222222222222222"

[[chains]]
name = "bsc"
chainId = {remote_chain_id}
rpc = "{remote_rpc}"
bridge = "0x3333333333333333333333333333333333333333"
registry = "0x4444444444444444444444444444444444444444"

[[routes]]
routeId = "0x00000000000000000000000000000000000000000000000000000000000000aa"
symbol = "DEMO"
decimals = 6
home = "ethereum"
remote = "bsc"
homeToken = "0x5555555555555555555555555555555555555555"
wrappedToken = "0x6666666666666666666666666666666666666666"
"#
    )
}

/// The network file for a zb-e2e devnet.
fn devnet_network(devnet: &Devnet) -> Result<String> {
    let m = devnet.manifest();
    let depth = devnet.options().finality_depth;
    let mut validators = Vec::new();
    for i in 0..devnet.validator_count() {
        validators.push(format!("\"{}\"", devnet.validator_url(i)?));
    }
    Ok(format!(
        r#"
validators = [{validators}]
threshold = {threshold}

[[chains]]
name = "ethereum"
chainId = {home_id}
rpc = "{home_rpc}"
bridge = "{home_bridge}"
registry = "{home_registry}"
finalityDepth = {depth}

[[chains]]
name = "bsc"
chainId = {remote_id}
rpc = "{remote_rpc}"
bridge = "{remote_bridge}"
registry = "{remote_registry}"
finalityDepth = {depth}

[[routes]]
routeId = "{route_id}"
symbol = "DEMO"
decimals = 18
home = "ethereum"
remote = "bsc"
homeToken = "{home_token}"
wrappedToken = "{wrapped_token}"
"#,
        validators = validators.join(", "),
        threshold = devnet.options().threshold,
        home_id = m.home.chain_id,
        home_rpc = devnet.home().http(),
        home_bridge = m.home.bridge,
        home_registry = m.home.registry,
        remote_id = m.remote.chain_id,
        remote_rpc = devnet.remote().http(),
        remote_bridge = m.remote.bridge,
        remote_registry = m.remote.registry,
        route_id = m.route.route_id,
        home_token = m.route.home_token,
        wrapped_token = m.route.wrapped_token,
    ))
}

fn write_network(dir: &Path, text: &str) -> Result<PathBuf> {
    let path = dir.join("network.toml");
    std::fs::write(&path, text).wrap_err("writing network.toml")?;
    Ok(path)
}

/// The value after `label` on the line that starts with it.
fn field<'a>(stdout: &'a str, label: &str) -> Result<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .ok_or_else(|| eyre!("no {label:?} line in:\n{stdout}"))
}

const KEY_VAR: &str = "ZB_TEST_SENDER_KEY";

/// `zerobridge send` of `amount` `token` from chain `from` to `to`, signed by the key in [`KEY_VAR`].
fn send_args<'a>(network: &'a str, from: &'a str, to: &'a str, token: &'a str, amount: &'a str) -> Vec<&'a str> {
    let mut args = vec!["send", "--network", network, "--from", from, "--to", to, "--token", token, "--amount", amount];
    args.extend(["--private-key-env", KEY_VAR]);
    args
}

#[tokio::test]
async fn bad_input_is_refused_in_one_line_without_a_chain() -> Result<()> {
    let work = tempfile::tempdir()?;
    let dir = work.path();
    // Port 9 (discard): nothing answers; none of these cases may get as far as an RPC call.
    let network = write_network(dir, &offline_network("http://127.0.0.1:9", "http://127.0.0.1:9", 56))?;
    let network = network.to_string_lossy().into_owned();
    let key = [(KEY_VAR, dev_keys::HOLDER)];
    let send = |from: &'static str, to: &'static str, token: &'static str, amount: &'static str| {
        let network = network.clone();
        async move { zerobridge(dir, &send_args(&network, from, to, token, amount), &key).await }
    };

    expect_refusal(&send("ethereum", "bsc", "NOPE", "1").await?, &["unknown token 'NOPE'", "DEMO"])?;
    expect_refusal(&send("ethereum", "bsc", "DEMO", "-1").await?, &["negative"])?;
    expect_refusal(&send("ethereum", "bsc", "DEMO", "1.1234567").await?, &["7 decimals", "has 6"])?;
    expect_refusal(&send("ethereum", "bsc", "DEMO", "abc").await?, &["not a decimal number"])?;
    expect_refusal(&send("ethereum", "bsc", "DEMO", "0").await?, &["zero"])?;
    expect_refusal(
        &send("ethereum", "mars", "DEMO", "1").await?,
        &["unknown chain 'mars'", "ethereum (1)", "bsc (56)"],
    )?;
    expect_refusal(&send("bsc", "bsc", "DEMO", "1").await?, &["same chain", "bsc"])?;

    // A recipient that is not an address.
    let output = zerobridge(
        dir,
        &[send_args(&network, "ethereum", "bsc", "DEMO", "1"), vec!["--recipient", "0x1234"]].concat(),
        &key,
    )
    .await?;
    expect_refusal(&output, &["--recipient", "not an address"])?;

    // The key variable is not set.
    let output = zerobridge(dir, &send_args(&network, "ethereum", "bsc", "DEMO", "1"), &[]).await?;
    expect_refusal(&output, &[KEY_VAR, "not set"])?;

    // Unreachable RPC: one line naming the chain and the URL.
    expect_refusal(&send("ethereum", "bsc", "DEMO", "1").await?, &["cannot reach", "ethereum", "127.0.0.1:9"])?;

    // No network file and no devnet manifest.
    let output = zerobridge(dir, &["balance", "--address", "0x1111111111111111111111111111111111111111"], &[]).await?;
    expect_refusal(&output, &["no devnet manifest", "zerobridge devnet up"])?;

    // track: not a hash.
    let output = zerobridge(dir, &["track", "0x12", "--network", &network], &[]).await?;
    expect_refusal(&output, &["not a transaction hash"])?;
    Ok(())
}

#[tokio::test]
async fn an_rpc_serving_another_chain_id_is_named() -> Result<()> {
    let work = tempfile::tempdir()?;
    let dir = work.path();
    // One anvil with chain id 1 stands behind both entries: "bsc" (56) points at it by mistake.
    let anvil = Anvil::start(1, &dir.join("anvil.log")).await?;
    let network = write_network(dir, &offline_network(&anvil.http(), &anvil.http(), 56))?;
    let network = network.to_string_lossy().into_owned();
    let output =
        zerobridge(dir, &send_args(&network, "ethereum", "bsc", "DEMO", "1"), &[(KEY_VAR, dev_keys::HOLDER)]).await?;
    expect_refusal(&output, &["wrong chain", "'bsc'", "chain id 56", "serves chain id 1"])?;

    let output = zerobridge(
        dir,
        &["balance", "--network", &network, "--address", "0x1111111111111111111111111111111111111111"],
        &[],
    )
    .await?;
    expect_refusal(&output, &["bsc"])?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_refuses_what_the_sender_cannot_send() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let network = write_network(dir, &devnet_network(&devnet)?)?;
    let network = network.to_string_lossy().into_owned();
    let fresh = PrivateKeySigner::random();
    let fresh_key = format!("{}", alloy::primitives::B256::from(fresh.to_bytes()));

    // A fresh key holds no DEMO.
    let output =
        zerobridge(dir, &send_args(&network, "ethereum", "bsc", "DEMO", "10"), &[(KEY_VAR, &fresh_key)]).await?;
    expect_refusal(&output, &["insufficient DEMO", "0 DEMO available", "needs 10 DEMO"])?;

    // Above the route's maximum (1,000,000 DEMO per transfer).
    let output =
        zerobridge(dir, &send_args(&network, "ethereum", "bsc", "DEMO", "1000000.5"), &[(KEY_VAR, dev_keys::HOLDER)])
            .await?;
    expect_refusal(&output, &["maximum of 1000000 DEMO"])?;

    // More decimals than the token has (read on chain: 18).
    let output = zerobridge(
        dir,
        &send_args(&network, "ethereum", "bsc", "DEMO", "0.0000000000000000001"),
        &[(KEY_VAR, dev_keys::HOLDER)],
    )
    .await?;
    expect_refusal(&output, &["19 decimals", "has 18"])?;

    // Nothing of the holder's wrapped DEMO exists yet on bsc.
    let output =
        zerobridge(dir, &send_args(&network, "bsc", "ethereum", "DEMO", "1"), &[(KEY_VAR, dev_keys::HOLDER)]).await?;
    expect_refusal(&output, &["insufficient wDEMO", "'bsc'"])?;

    // track: a hash no chain knows.
    let unknown = format!("{}", alloy::primitives::B256::repeat_byte(0xab));
    let output = zerobridge(dir, &["track", &unknown, "--network", &network], &[]).await?;
    expect_refusal(&output, &["none of the configured chains", "ethereum", "bsc"])?;

    // The holder gets 5 wDEMO on bsc (for the way home below), then the agents stop.
    let lane = devnet.lane(Direction::ToRemote);
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let first = devnet.send_to_remote(tokens(5), devnet.holder()).await?;
    devnet.wait_delivered(lane, first.sequence, Duration::from_secs(120)).await?;
    devnet.kill_relayer()?;
    for i in 0..devnet.validator_count() {
        devnet.kill_validator(i)?;
    }

    // No validator runs: the display gives up after --timeout, saying the transfer is not lost.
    let output = zerobridge(
        dir,
        &[send_args(&network, "ethereum", "bsc", "DEMO", "3"), vec!["--timeout", "4"]].concat(),
        &[(KEY_VAR, dev_keys::HOLDER)],
    )
    .await?;
    let stderr = expect_refusal(&output, &["not delivered after", "not lost", "zerobridge track 0x", "--follow"])?;
    let (stdout, _) = text(&output);
    ensure!(stdout.contains("1. submitted"), "stages on stdout:\n{stdout}");
    let source_tx = stderr
        .split("zerobridge track ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| eyre!("no tx hash in {stderr}"))?
        .to_string();

    // track, once: in progress, exit 0.
    let output = zerobridge(dir, &["track", &source_tx, "--network", &network], &[]).await?;
    let tracked = expect_success(&output, "track (undelivered)")?;
    ensure!(tracked.contains("✓ 1. submitted") && tracked.contains("… 4. delivery"), "track:\n{tracked}");
    ensure!(tracked.contains("in progress"), "track:\n{tracked}");

    // Governance makes the route exit-only on bsc before delivery: the transfer toward bsc is
    // refused there and a refund travels back; track explains it.
    set_exit_only(&devnet, Chain::Remote).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let refused_sequence = devnet.sent_sequence(lane).await?;
    ensure!(refused_sequence == first.sequence + 1, "the CLI's send is the lane's next message");
    devnet.wait_delivered(lane, refused_sequence, Duration::from_secs(120)).await?;
    let output = zerobridge(dir, &["track", &source_tx, "--network", &network], &[]).await?;
    let tracked = expect_success(&output, "track (refused)")?;
    ensure!(tracked.contains("✗ 4. refused") && tracked.contains("the route is exit-only"), "track:\n{tracked}");
    ensure!(tracked.contains("refund") && tracked.contains("not lost"), "track:\n{tracked}");
    let output =
        zerobridge(dir, &["track", &source_tx, "--follow", "--network", &network, "--timeout", "30"], &[]).await?;
    expect_refusal(&output, &["refused on bsc", "refund"])?;

    // Exit-only keeps the way home open: wrapped DEMO on bsc still goes back to ethereum.
    let output = zerobridge(
        dir,
        &[send_args(&network, "bsc", "ethereum", "DEMO", "1"), vec!["--timeout", "240"]].concat(),
        &[(KEY_VAR, dev_keys::HOLDER)],
    )
    .await?;
    let home = expect_success(&output, "send bsc -> ethereum (exit-only)")?;
    ensure!(home.contains("4. delivered"), "the way home is open:\n{home}");
    ensure!(field(&home, "received:")?.starts_with("0.999 DEMO"), "home:\n{home}");

    // Once ethereum's side is exit-only too, ethereum takes no new sends: refused before sending.
    set_exit_only(&devnet, Chain::Home).await?;
    let sent_before = devnet.sent_sequence(lane).await?;
    let output =
        zerobridge(dir, &send_args(&network, "ethereum", "bsc", "DEMO", "1"), &[(KEY_VAR, dev_keys::HOLDER)]).await?;
    expect_refusal(&output, &["exit-only on 'ethereum'", "only the way home stays open"])?;
    ensure!(devnet.sent_sequence(lane).await? == sent_before, "the refused send sent nothing");
    Ok(())
}

/// Governance (the devnet's deployer) makes the DEMO route exit-only on `chain`.
async fn set_exit_only(devnet: &Devnet, chain: Chain) -> Result<()> {
    let admin: PrivateKeySigner = dev_keys::DEPLOYER.parse()?;
    let wallet =
        ProviderBuilder::new().wallet(EthereumWallet::from(admin)).connect_http(devnet.chain(chain).http().parse()?);
    let receipt = ZeroBridge::new(devnet.bridge_address(chain), wallet)
        .setExitOnly(devnet.manifest().route.route_id)
        .send()
        .await?
        .get_receipt()
        .await?;
    ensure!(receipt.status(), "setExitOnly on {chain:?} reverted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_holder_sends_tracks_and_sees_balances() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let network = write_network(dir, &devnet_network(&devnet)?)?;
    let network = network.to_string_lossy().into_owned();

    // A fresh sender: funded with gas money on both chains and 10 DEMO, no allowance yet.
    let fresh = PrivateKeySigner::random();
    let fresh_address = fresh.address();
    let fresh_key = format!("{}", alloy::primitives::B256::from(fresh.to_bytes()));
    let holder: PrivateKeySigner = dev_keys::HOLDER.parse()?;
    for url in [devnet.home().http(), devnet.remote().http()] {
        let wallet = ProviderBuilder::new().wallet(EthereumWallet::from(holder.clone())).connect_http(url.parse()?);
        let tx = alloy::rpc::types::TransactionRequest::default()
            .to(fresh_address)
            .value(U256::from(10u64).pow(U256::from(18u64)));
        let receipt = wallet.send_transaction(tx).await?.get_receipt().await?;
        ensure!(receipt.status(), "funding the fresh sender failed");
    }
    let home_wallet =
        ProviderBuilder::new().wallet(EthereumWallet::from(holder)).connect_http(devnet.home().http().parse()?);
    let receipt = IERC20::new(devnet.manifest().route.home_token, home_wallet)
        .transfer(fresh_address, tokens(10))
        .send()
        .await?
        .get_receipt()
        .await?;
    ensure!(receipt.status(), "giving the fresh sender DEMO failed");

    // ethereum -> bsc: approval first, then the five stages, ending with what arrived.
    let recipient = Address::repeat_byte(0x42);
    let output = zerobridge(
        dir,
        &[
            send_args(&network, "ethereum", "bsc", "DEMO", "1.5"),
            vec!["--recipient", &recipient.to_string(), "--timeout", "240"],
        ]
        .concat(),
        &[(KEY_VAR, &fresh_key)],
    )
    .await?;
    let stdout = expect_success(&output, "send ethereum -> bsc")?;
    ensure!(stdout.contains("approved the bridge on ethereum for 1.5 DEMO"), "no approval line:\n{stdout}");
    for stage in ["1. submitted", "2. final", "3. signed", "4. delivered"] {
        ensure!(stdout.contains(stage), "no {stage:?} line:\n{stdout}");
    }
    ensure!(stdout.contains("threshold 3"), "the signed line names the threshold:\n{stdout}");
    // 10 bps fee: 1.5 - 0.0015.
    let received = field(&stdout, "received:")?;
    ensure!(received.starts_with("1.4985 wDEMO by"), "received: {received}\n{stdout}");
    ensure!(received.contains("fee 0.0015 DEMO"), "received: {received}");
    let source_tx = field(&stdout, "source tx:")?.split_whitespace().next().unwrap_or_default().to_string();
    let destination_tx = field(&stdout, "destination tx:")?.split_whitespace().next().unwrap_or_default().to_string();
    ensure!(source_tx.len() == 66 && destination_tx.len() == 66, "hashes in:\n{stdout}");
    ensure!(
        devnet.wrapped_balance(recipient).await?
            == tokens(15) / U256::from(10u64) * U256::from(999u64) / U256::from(1000u64)
    );

    // track finds it on ethereum and shows it delivered, once.
    let output = zerobridge(dir, &["track", &source_tx, "--network", &network], &[]).await?;
    let tracked = expect_success(&output, "track")?;
    ensure!(tracked.contains("4. delivered"), "track:\n{tracked}");
    ensure!(tracked.contains(&destination_tx), "track names the destination tx:\n{tracked}");
    ensure!(field(&tracked, "received:")?.starts_with("1.4985 wDEMO"), "track:\n{tracked}");

    // balance of the fresh sender: 8.5 DEMO left on ethereum, nothing wrapped on bsc.
    let output =
        zerobridge(dir, &["balance", "--network", &network, "--private-key-env", KEY_VAR], &[(KEY_VAR, &fresh_key)])
            .await?;
    let balances = expect_success(&output, "balance")?;
    ensure!(balances.contains(&fresh_address.to_string()), "balance:\n{balances}");
    ensure!(
        balances.lines().any(|l| l.trim_start().starts_with("DEMO") && l.contains(" 8.5 ")),
        "balance:\n{balances}"
    );
    ensure!(balances.lines().any(|l| l.trim_start().starts_with("wDEMO") && l.contains(" 0 ")), "balance:\n{balances}");
    ensure!(balances.lines().filter(|l| l.trim_start().starts_with("native")).count() == 2, "balance:\n{balances}");

    // bsc -> ethereum: the holder's wrapped tokens are burned (no approval needed).
    let output = zerobridge(
        dir,
        &[send_args(&network, "ethereum", "bsc", "DEMO", "2"), vec!["--timeout", "240"]].concat(),
        &[(KEY_VAR, &fresh_key)],
    )
    .await?;
    expect_success(&output, "second send ethereum -> bsc")?;
    // The token may be named by its address on either chain.
    let wrapped = devnet.manifest().route.wrapped_token.to_string();
    let output = zerobridge(
        dir,
        &[send_args(&network, "bsc", "ethereum", &wrapped, "1"), vec!["--timeout", "240"]].concat(),
        &[(KEY_VAR, &fresh_key)],
    )
    .await?;
    let back = expect_success(&output, "send bsc -> ethereum")?;
    ensure!(!back.contains("approved"), "burning needs no approval:\n{back}");
    ensure!(field(&back, "received:")?.starts_with("0.999 DEMO"), "back:\n{back}");

    // A large transfer (the devnet holds 500,000 DEMO and more on bsc) is held: send ends with
    // the countdown and says that anyone may release it.
    let output = zerobridge(
        dir,
        &[send_args(&network, "ethereum", "bsc", "DEMO", "600000"), vec!["--timeout", "240"]].concat(),
        &[(KEY_VAR, dev_keys::HOLDER)],
    )
    .await?;
    let held = expect_success(&output, "send (held)")?;
    ensure!(held.contains("4. delivered") && held.contains("5. held"), "held:\n{held}");
    ensure!(held.contains("releaseHold") && held.contains("permissionless"), "held:\n{held}");
    let source_tx = held
        .lines()
        .find_map(|l| l.strip_prefix("✓ 1. submitted"))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| eyre!("no submitted line in:\n{held}"))?
        .to_string();
    let output = zerobridge(dir, &["track", &source_tx, "--network", &network], &[]).await?;
    let tracked = expect_success(&output, "track (held)")?;
    ensure!(tracked.contains("… 5. held") && tracked.contains(" left"), "track (held):\n{tracked}");

    // An hour later anyone releases it; track shows it released and what arrived.
    let _: serde_json::Value = devnet.remote().rpc("evm_increaseTime", (3_700u64,)).await?;
    devnet.remote().mine(1).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let sequence = devnet.sent_sequence(lane).await?;
    let anyone =
        ProviderBuilder::new().wallet(EthereumWallet::from(fresh)).connect_http(devnet.remote().http().parse()?);
    let receipt = ZeroBridge::new(devnet.bridge_address(Chain::Remote), anyone)
        .releaseHold(lane, sequence)
        .gas(500_000)
        .send()
        .await?
        .get_receipt()
        .await?;
    ensure!(receipt.status(), "releaseHold reverted");
    let output =
        zerobridge(dir, &["track", &source_tx, "--follow", "--network", &network, "--timeout", "60"], &[]).await?;
    let released = expect_success(&output, "track (released)")?;
    ensure!(released.contains("✓ 5. released"), "released:\n{released}");
    ensure!(field(&released, "received:")?.starts_with("599400 wDEMO"), "released:\n{released}");
    Ok(())
}
