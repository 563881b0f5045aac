//! `zerobridge audit export | verify` against a real two-chain devnet (zb-e2e): a transfer and a
//! privileged action (pause, unpause) end up in the exported log with the AccessManager's role
//! grants; the untouched log verifies; a tampered line is caught by its hash, a consistently
//! re-hashed edit by the chain, and a deleted line (re-linked) as a missing event.
//!
//! The export reads the devnet manifest; the verifications run with a network file that holds
//! only RPC URLs and contract addresses (no manager: read from the bridge's authority(), no keys),
//! as a regulator would.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use eyre::{Result, WrapErr, bail, ensure, eyre};
use serde_json::{Map, Value};
use zb_contracts::bridge::ZeroBridge;
use zb_e2e::{Chain, Devnet, DevnetOptions, Direction, tokens};
use zb_ops::audit::{check_chain, render_lines, seal};

/// A regulator's network file: RPC URLs and contract addresses only.
fn write_network_file(devnet: &Devnet, path: &Path) -> Result<()> {
    let m = devnet.manifest();
    let mut text = String::new();
    for (name, anvil, side) in [("ethereum", devnet.home(), &m.home), ("bsc", devnet.remote(), &m.remote)] {
        text.push_str(&format!(
            "[[chains]]\nname = \"{name}\"\nchainId = {}\nrpc = \"{}\"\nbridge = \"{}\"\nregistry = \"{}\"\n\n",
            side.chain_id,
            anvil.http(),
            side.bridge,
            side.registry
        ));
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// Runs the binary in `dir` with the devnet manifest of `dir/devnet`, and no key anywhere.
async fn zerobridge(dir: &Path, args: &[&str]) -> Result<Output> {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_zerobridge"))
        .args(args)
        .current_dir(dir)
        .env("ZB_DEVNET_DIR", dir.join("devnet"))
        .env_remove("ZB_KEYSTORE_PASSWORD")
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output()
        .await
        .wrap_err("running zerobridge")
}

fn expect_success(output: &Output, what: &str) -> Result<String> {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(stdout)
}

/// Expects a failure with one line on stderr containing every `needle`.
fn expect_failure(output: &Output, what: &str, needles: &[&str]) -> Result<String> {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    ensure!(!output.status.success(), "{what}: verify passed:\n{}", String::from_utf8_lossy(&output.stdout));
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    ensure!(lines.len() == 1, "{what}: expected one line on stderr, got:\n{stderr}");
    for needle in needles {
        ensure!(stderr.contains(needle), "{what}: stderr lacks {needle:?}:\n{stderr}");
    }
    println!("{what}: {}", stderr.trim());
    Ok(stderr)
}

fn parse(text: &str) -> Result<Vec<Map<String, Value>>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str(l)? {
            Value::Object(map) => Ok(map),
            other => Err(eyre!("not an object: {other}")),
        })
        .collect()
}

fn str_of<'a>(line: &'a Map<String, Value>, key: &str) -> &'a str {
    line.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The index of the first line with `event` emitted on `chain`.
fn find(lines: &[Map<String, Value>], chain: &str, event: &str) -> Result<usize> {
    lines
        .iter()
        .position(|l| str_of(l, "chain") == chain && str_of(l, "event") == event)
        .ok_or_else(|| eyre!("no {event} on {chain} in the log"))
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_log_exports_verifies_and_catches_tampering() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    devnet.write_cli_manifest(dir)?;
    let network = dir.join("regulator.toml");
    write_network_file(&devnet, &network)?;
    let network_arg = network.to_string_lossy().into_owned();

    // A privileged action: the deployer (guardian and, on the devnet, admin) pauses the home
    // bridge, then unpauses it.
    // Anvil's first dev account is the devnet's deployer.
    let (admin, deployer_address) = devnet.home().dev_wallet()?;
    let bridge = ZeroBridge::new(devnet.bridge_address(Chain::Home), admin);
    let receipt = bridge.pause().send().await.wrap_err("pause")?.get_receipt().await.wrap_err("pause")?;
    ensure!(receipt.status(), "pause reverted");
    let receipt = bridge.unpause().send().await.wrap_err("unpause")?.get_receipt().await.wrap_err("unpause")?;
    ensure!(receipt.status(), "unpause reverted");

    // A transfer, delivered.
    let sent = devnet.send_to_remote(tokens(5), devnet.holder()).await?;
    devnet.wait_delivered(devnet.lane(Direction::ToRemote), sent.sequence, Duration::from_secs(30)).await?;

    // Export (no key: the process has none) and check both kinds are there.
    let log_path = dir.join("audit.jsonl");
    let log_arg = log_path.to_string_lossy().into_owned();
    let out = zerobridge(dir, &["audit", "export", "--out", &log_arg, "--confirmations", "0"]).await?;
    let summary = expect_success(&out, "audit export")?;
    ensure!(summary.contains("privileged") && summary.contains("head 0x"), "export summary: {summary}");
    let text = std::fs::read_to_string(&log_path)?;
    let lines = parse(&text)?;
    ensure!(str_of(&lines[0], "kind") == "header", "first line is not the header: {:?}", lines[0]);
    let sent_at = find(&lines, "ethereum", "MessageSent")?;
    let paused_at = find(&lines, "ethereum", "Paused")?;
    find(&lines, "ethereum", "Unpaused")?;
    find(&lines, "bsc", "MessageExecuted")?;
    find(&lines, "bsc", "CheckpointDelivered")?;
    find(&lines, "ethereum", "RoleGranted")?;
    find(&lines, "ethereum", "TargetFunctionRoleUpdated")?;
    ensure!(str_of(&lines[sent_at], "kind") == "transfer", "{:?}", lines[sent_at]);
    ensure!(str_of(&lines[sent_at], "tx") == sent.tx_hash.to_string(), "{:?}", lines[sent_at]);
    ensure!(str_of(&lines[paused_at], "kind") == "privileged", "{:?}", lines[paused_at]);
    ensure!(str_of(&lines[paused_at], "from") == deployer_address.to_string(), "who paused: {:?}", lines[paused_at]);
    ensure!(str_of(&lines[paused_at], "contract") == "bridge", "{:?}", lines[paused_at]);
    let amount = lines[sent_at]
        .get("fields")
        .and_then(|f| f.get("message"))
        .and_then(|m| m.get("amount"))
        .and_then(Value::as_str)
        .ok_or_else(|| eyre!("MessageSent without fields.message.amount: {:?}", lines[sent_at]))?
        .to_string();
    ensure!(amount == sent.net.to_string(), "amount {amount}, sent {}", sent.net);
    ensure!(check_chain(&text).is_ok(), "the exported chain does not link");

    // The untouched log verifies, with the regulator's network file (RPC only).
    let verify = ["audit", "verify", &log_arg, "--network", &network_arg];
    let out = zerobridge(dir, &verify).await?;
    let stdout = expect_success(&out, "audit verify")?;
    println!(
        "export: {}\nverify: {}\nsample: {}",
        summary.trim(),
        stdout.trim(),
        text.lines().nth(paused_at).unwrap_or_default()
    );
    ensure!(
        stdout.contains(&format!("{} lines verified", lines.len()))
            && stdout.contains("chain intact, matches ethereum/bsc"),
        "verify summary: {stdout}"
    );
    // And with the devnet manifest, pinned to the head hash the export printed.
    let head = str_of(&lines[lines.len() - 1], "hash").to_string();
    ensure!(summary.contains(&head), "the export summary does not name the head {head}: {summary}");
    let out = zerobridge(dir, &["audit", "verify", &log_arg, "--head", &head]).await?;
    expect_success(&out, "audit verify --head")?;

    let tampered = dir.join("tampered.jsonl");
    let tampered_arg = tampered.to_string_lossy().into_owned();
    let verify_tampered = ["audit", "verify", &tampered_arg, "--network", &network_arg];
    let sent_line = sent_at + 1; // 1-based line number in the file
    let bigger = format!("{}0", amount);

    // (a) One field edited, hashes left alone: the hash of that line gives it away.
    let mut edited = lines.clone();
    set_amount(&mut edited[sent_at], &bigger)?;
    std::fs::write(&tampered, render_lines(&edited))?;
    let out = zerobridge(dir, &verify_tampered).await?;
    expect_failure(&out, "edited line", &[&format!("line {sent_line}: hash does not match its content (tampered)")])?;

    // (b) The same edit with this line's and every later hash recomputed: the chain disagrees.
    seal(&mut edited);
    ensure!(check_chain(&render_lines(&edited)).is_ok(), "the re-sealed log should link");
    std::fs::write(&tampered, render_lines(&edited))?;
    let out = zerobridge(dir, &verify_tampered).await?;
    expect_failure(
        &out,
        "re-hashed edit",
        &[&format!("line {sent_line}: fields.message.amount is {bigger} in the log but {amount} on chain"), "altered"],
    )?;

    // (c) A line deleted (the pause) and the rest re-linked: the chain has an event the log lacks.
    let mut deleted = lines.clone();
    deleted.remove(paused_at);
    seal(&mut deleted);
    std::fs::write(&tampered, render_lines(&deleted))?;
    let out = zerobridge(dir, &verify_tampered).await?;
    expect_failure(&out, "deleted line", &["missing event", "(Paused", "not in the log"])?;

    // (d) The tail cut off and re-linked: still missing events (the header names the range),
    // and --head catches it without any chain access.
    let mut cut = lines.clone();
    cut.truncate(lines.len() - 2);
    seal(&mut cut);
    std::fs::write(&tampered, render_lines(&cut))?;
    let out = zerobridge(dir, &verify_tampered).await?;
    expect_failure(&out, "cut tail", &["missing event after the last line"])?;
    let out = zerobridge(dir, &["audit", "verify", &tampered_arg, "--head", &head]).await?;
    expect_failure(&out, "cut tail with --head", &["not at the expected head"])?;
    Ok(())
}

fn set_amount(line: &mut Map<String, Value>, amount: &str) -> Result<()> {
    let message = line
        .get_mut("fields")
        .and_then(|f| f.get_mut("message"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| eyre!("no fields.message"))?;
    message.insert("amount".into(), Value::from(amount));
    Ok(())
}
