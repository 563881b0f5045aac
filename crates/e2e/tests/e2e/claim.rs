//! `zerobridge claim` as a holder runs it when no relayer delivers: with the relayer stopped the
//! holder delivers the transfer with the validators' signatures, paying the gas (exactly once;
//! a second claim delivers nothing); with only 1 of 4 validators up it says how many signed and
//! of how much weight, and exits non-zero. `zerobridge cancel`: the sender of a held transfer
//! takes it back, once, and `claim` collects the refund on the source.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use alloy::primitives::B256;
use eyre::{Result, ensure};
use zb_e2e::devnet::wait_until;
use zb_e2e::{Devnet, DevnetOptions, Direction, tokens};

use crate::DELIVERY;

/// Runs the CLI from `dir`, where `Devnet::write_cli_manifest` put `devnet/manifest.json` (the
/// devnet holder's key signs).
async fn zerobridge(dir: &Path, args: &[&str]) -> Result<Output> {
    zb_e2e::cli::zerobridge(dir, args, &[]).await
}

fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Until validator `i` has observed (as final) `sequence` of `lane`: it signs only that.
async fn observed(devnet: &Devnet, which: &[usize], lane: B256, sequence: u64) -> Result<()> {
    for &i in which {
        wait_until(&format!("validator {i} to observe sequence {sequence}"), DELIVERY, || async move {
            Ok((devnet.validator_observed(i, lane).await? >= sequence).then_some(()))
        })
        .await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_claims_a_transfer_no_relayer_delivers() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let holder = devnet.holder();
    let work = tempfile::tempdir()?;
    devnet.write_cli_manifest(work.path())?;

    // One transfer the relayer delivers, then the relayer stops.
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let first = devnet.send_to_remote(tokens(5), holder).await?;
    devnet.wait_delivered(lane, first.sequence, DELIVERY).await?;
    devnet.kill_relayer()?;

    let second = devnet.send_to_remote(tokens(7), holder).await?;
    observed(&devnet, &[0, 1, 2, 3], lane, second.sequence).await?;
    let before = devnet.wrapped_balance(holder).await?;
    ensure!(devnet.delivered_sequence(lane).await? == first.sequence, "nobody delivered the second transfer");

    let tx = second.tx_hash.to_string();
    let output = zerobridge(work.path(), &["claim", &tx]).await?;
    let (stdout, stderr) = text(&output);
    println!("$ zerobridge claim {tx}\n{stdout}{stderr}");
    ensure!(output.status.success(), "claim failed:\n{stdout}\n{stderr}");
    ensure!(stdout.contains("signed") && stdout.contains("4. delivered"), "stages:\n{stdout}");
    ensure!(devnet.wrapped_balance(holder).await? == before + second.net, "the holder received the net amount");
    devnet.check_exactly_once(lane, second.sequence).await?;

    // Again: already delivered, nothing paid twice.
    let output = zerobridge(work.path(), &["claim", &tx]).await?;
    let (stdout, stderr) = text(&output);
    ensure!(output.status.success(), "second claim failed:\n{stdout}\n{stderr}");
    ensure!(stdout.contains("already delivered"), "second claim:\n{stdout}");
    ensure!(devnet.wrapped_balance(holder).await? == before + second.net, "delivered exactly once");
    devnet.check_exactly_once(lane, second.sequence).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_without_a_quorum_says_how_many_signed() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let work = tempfile::tempdir()?;
    devnet.write_cli_manifest(work.path())?;

    // 1 of 4 validators (equal stakes, threshold two thirds), no relayer.
    devnet.start_validators(&[0]).await?;
    let sent = devnet.send_to_remote(tokens(3), devnet.holder()).await?;
    observed(&devnet, &[0], lane, sent.sequence).await?;

    let tx = sent.tx_hash.to_string();
    let output = zerobridge(work.path(), &["claim", &tx]).await?;
    let (stdout, stderr) = text(&output);
    println!("$ zerobridge claim {tx}\n{stdout}{stderr}");
    ensure!(!output.status.success(), "claim without a quorum must fail:\n{stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(lines.len() == 1 && stderr.starts_with("error: "), "one error line:\n{stderr}");
    ensure!(
        stderr.contains("1 of 4 validators signed (25% of the set's weight, 66.6% needed)"),
        "the count:\n{stderr}"
    );
    ensure!(devnet.delivered_sequence(lane).await? == 0, "nothing was delivered");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_cancels_a_held_transfer_once_and_claims_the_refund() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let back = devnet.lane(Direction::ToHome);
    let holder = devnet.holder();
    let work = tempfile::tempdir()?;
    devnet.write_cli_manifest(work.path())?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;

    // Above the devnet's 500,000 DEMO threshold: held on bsc for the hold delay.
    let big = devnet.send_to_remote(tokens(600_000), holder).await?;
    devnet.wait_delivered(lane, big.sequence, DELIVERY).await?;
    let remote = devnet.bridge(zb_e2e::Chain::Remote);
    ensure!(remote.getHold(lane, big.sequence).call().await?.status == 1, "the transfer is held");
    let tx = big.tx_hash.to_string();

    // Someone else (the deployer's key) cannot cancel it.
    let other = [("OTHER_KEY", zb_e2e::dev_keys::DEPLOYER)];
    let output =
        zb_e2e::cli::zerobridge(work.path(), &["cancel", &tx, "--private-key-env", "OTHER_KEY"], &other).await?;
    let (stdout, stderr) = text(&output);
    ensure!(!output.status.success(), "a stranger's cancel must fail:\n{stdout}{stderr}");
    ensure!(remote.getHold(lane, big.sequence).call().await?.status == 1, "still held");

    // The sender cancels: once.
    let output = zerobridge(work.path(), &["cancel", &tx]).await?;
    let (stdout, stderr) = text(&output);
    println!("$ zerobridge cancel {tx}\n{stdout}{stderr}");
    ensure!(output.status.success(), "cancel failed:\n{stdout}{stderr}");
    ensure!(remote.getHold(lane, big.sequence).call().await?.status == 5, "cancelled");
    let output = zerobridge(work.path(), &["cancel", &tx]).await?;
    ensure!(!output.status.success(), "a second cancel must fail:\n{}", text(&output).0);
    devnet.warp(3_601).await?;
    ensure!(remote.releaseHold(lane, big.sequence).call().await.is_err(), "a cancelled hold cannot be released");
    ensure!(devnet.wrapped_balance(holder).await? == alloy::primitives::U256::ZERO, "nothing was minted");

    // The refund comes home on the reverse lane; as large as the transfer, it waits the hold
    // delay from its approval too; then claim pays it once.
    devnet.wait_delivered(back, 1, DELIVERY).await?;
    devnet.warp(3_601).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = devnet.home_balance(holder).await?;
    let output = zerobridge(work.path(), &["claim", &tx]).await?;
    let (stdout, stderr) = text(&output);
    println!("$ zerobridge claim {tx}\n{stdout}{stderr}");
    ensure!(output.status.success(), "claiming the refund failed:\n{stdout}{stderr}");
    ensure!(devnet.home_balance(holder).await? == before + big.net, "the refund paid the net amount");
    let _ = zerobridge(work.path(), &["claim", &tx]).await?;
    ensure!(devnet.home_balance(holder).await? == before + big.net, "the refund is paid once");
    ensure!(devnet.wrapped_supply().await? == devnet.vault_locked().await?, "conservation holds");
    Ok(())
}
