//! What `zerobridge api` reads beyond the transfers' events, on a real devnet: the validators with
//! their stake and liveness, "signed k of n" of a transfer the relayer has not delivered (and of
//! one it has), each lane's economic security against the route's level; a transfer past its
//! deadline shown timed out, then refunded with its claim transaction once `zerobridge claim`
//! collected the refund; and a transfer reorged away before it was final leaves the index.

use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use eyre::{Result, ensure, eyre};
use serde_json::Value;
use zb_contracts::bridge::ZeroBridge;
use zb_e2e::devnet::wait_until;
use zb_e2e::{Chain, Devnet, DevnetOptions, Direction, tokens};

use super::{Index, get, start_api, write_config, write_config_with};
use crate::DELIVERY;

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?)
}

/// `GET {base}/v1/transfers?tx=..`: the one transfer of `tx`, if indexed.
async fn by_tx(http: &reqwest::Client, base: &str, tx: B256) -> Result<Option<Value>> {
    let (status, body) = get(http, &format!("{base}/v1/transfers?tx={tx}")).await?;
    ensure!(status == 200, "transfers?tx={tx}: {status} {body}");
    Ok(body["transfers"].as_array().and_then(|list| list.first().cloned()))
}

/// Waits until the API shows `tx`'s transfer in `stage`; returns it.
async fn wait_stage(http: &reqwest::Client, base: &str, tx: B256, stage: &str) -> Result<Value> {
    wait_until(&format!("the API to show {tx} {stage}"), DELIVERY, || async move {
        Ok(by_tx(http, base, tx).await?.filter(|t| t["stage"] == stage))
    })
    .await
}

fn amount(value: &Value) -> U256 {
    value.as_str().and_then(|t| t.parse().ok()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_sqlite_lists_validators_with_stake_and_liveness_and_counts_signatures() -> Result<()> {
    validators_and_signatures(Index::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_postgres_lists_validators_with_stake_and_liveness_and_counts_signatures() -> Result<()> {
    validators_and_signatures(Index::Postgres(zb_test_utils::postgres::fresh_database("e2e_api_validators").await?))
        .await
}

async fn validators_and_signatures(index: Index) -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    // A short window, so that a stopped validator stops being live within the test.
    let (config, base) = write_config_with(&devnet, &index, "live_window_secs = 15")?;
    let _api = start_api(&devnet, &config)?;
    let http = client()?;
    let (http, base) = (&http, base.as_str());
    let lane = devnet.lane(Direction::ToRemote);
    let signers: Vec<Address> =
        (0..devnet.validator_count()).map(|i| devnet.validator_address(i)).collect::<Result<_>>()?;

    let delivered = devnet.send_to_remote(tokens(10), devnet.holder()).await?;
    devnet.wait_delivered(lane, delivered.sequence, DELIVERY).await?;
    let shown = wait_stage(http, base, delivered.tx_hash, "delivered").await?;
    // Equal stakes and a two-thirds threshold: 3 of the 4 are needed; the delivery carried them.
    let signatures = &shown["signatures"];
    assert_eq!((&signatures["need"], &signatures["of"]), (&Value::from(3), &Value::from(4)), "{shown}");
    assert!(signatures["have"].as_u64().is_some_and(|k| (3..=4).contains(&k)), "{shown}");

    // Every validator: its stake, the lanes it secures, live (the probes verify all four).
    let count = signers.len();
    let list = wait_until("every validator to be listed live", DELIVERY, || async move {
        let (status, body) = get(http, &format!("{base}/v1/validators")).await?;
        ensure!(status == 200, "{status} {body}");
        let list = body["validators"].as_array().cloned().unwrap_or_default();
        Ok((list.len() == count && list.iter().all(|v| v["live"] == true)).then_some(list))
    })
    .await?;
    for signer in &signers {
        let entry = list
            .iter()
            .find(|v| v["signer"] == signer.to_checksum(None))
            .ok_or_else(|| eyre!("validator {signer} is not listed: {list:?}"))?;
        assert!(entry["operator"].is_string(), "{entry}");
        let stakes = entry["stake"].as_array().cloned().unwrap_or_default();
        assert!(!stakes.is_empty() && stakes.iter().all(|s| amount(&s["amount"]) > U256::ZERO), "{entry}");
        let lanes: Vec<&str> =
            entry["lanes"].as_array().map(|l| l.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        assert!(lanes.contains(&lane.to_string().as_str()), "{entry}");
        assert!(entry["last_seen_signing"].is_u64(), "{entry}");
    }

    // Economic security: both lanes staked by the 4, at or above the route's level.
    let route_id = devnet.manifest().route.route_id;
    let (status, route) = get(http, &format!("{base}/v1/routes/{route_id}")).await?;
    assert_eq!(status, 200, "{route}");
    let security = &route["economic_security"];
    let lanes = security["lanes"].as_array().cloned().unwrap_or_default();
    assert_eq!(lanes.len(), 2, "{security}");
    for lane in &lanes {
        assert_eq!(lane["validators"], 4, "{lane}");
        assert!(amount(&lane["stake"]) >= amount(&lane["required_stake"]) && amount(&lane["stake"]) > U256::ZERO);
        assert_eq!(lane["met"], true, "{lane}");
    }
    assert_eq!(security["met"], true, "{security}");
    assert_eq!(security["validators"], 4);

    // Without a relayer the next transfer waits: signed once the probes verified a quorum.
    devnet.kill_relayer()?;
    let waiting = devnet.send_to_remote(tokens(3), devnet.holder()).await?;
    let signed = wait_stage(http, base, waiting.tx_hash, "signed").await?;
    assert!(signed["signatures"]["have"].as_u64().is_some_and(|k| k >= 3), "{signed}");
    assert!(signed["destination_tx"].is_null(), "{signed}");
    ensure!(devnet.delivered_sequence(lane).await? == delivered.sequence, "nobody delivered it");

    // A stopped validator stops being live once the window passed; the others stay live.
    devnet.kill_validator(3)?;
    let stopped = signers[3].to_checksum(None);
    let stopped = stopped.as_str();
    let list = wait_until("the stopped validator to be listed not live", DELIVERY, || async move {
        let (_, body) = get(http, &format!("{base}/v1/validators")).await?;
        let list = body["validators"].as_array().cloned().unwrap_or_default();
        Ok(list.iter().any(|v| v["signer"] == stopped && v["live"] == false).then_some(list))
    })
    .await?;
    assert_eq!(list.iter().filter(|v| v["live"] == true).count(), 3, "{list:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_sqlite_shows_a_transfer_past_its_deadline_timed_out_then_refunded_with_its_claim() -> Result<()> {
    timed_out_then_refunded(Index::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_postgres_shows_a_transfer_past_its_deadline_timed_out_then_refunded_with_its_claim() -> Result<()> {
    timed_out_then_refunded(Index::Postgres(zb_test_utils::postgres::fresh_database("e2e_api_refund").await?)).await
}

async fn timed_out_then_refunded(index: Index) -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let holder = devnet.holder();
    let (config, base) = write_config(&devnet, &index)?;
    let _api = start_api(&devnet, &config)?;
    let http = client()?;
    let (http, base) = (&http, base.as_str());

    // Nobody delivers it before its deadline (no validators yet): then the clocks pass it.
    let now = devnet.home().reader().get_block_by_number(Default::default()).await?.map(|b| b.header.timestamp);
    let deadline = now.ok_or_else(|| eyre!("no latest block"))? + 120;
    let late = devnet.send_until(Direction::ToRemote, tokens(4), holder, deadline).await?;
    let shown = wait_stage(http, base, late.tx_hash, "final").await?;
    assert_eq!(shown["deadline"], deadline, "{shown}");
    devnet.warp(300).await?;
    devnet.remote().mine(1).await?;
    let timed_out = wait_stage(http, base, late.tx_hash, "timed_out").await?;
    assert_eq!(timed_out["claimable"], true, "{timed_out}");

    // `zerobridge claim` delivers it (refused as too late), brings the refund home and claims it.
    devnet.start_all_validators().await?;
    let devnet_ref = &devnet;
    for i in 0..devnet.validator_count() {
        wait_until(&format!("validator {i} to observe the transfer"), DELIVERY, || async move {
            Ok((devnet_ref.validator_observed(i, lane).await? >= late.sequence).then_some(()))
        })
        .await?;
    }
    let work = tempfile::tempdir()?;
    devnet.write_cli_manifest(work.path())?;
    let before = devnet.home_balance(holder).await?;
    let tx = late.tx_hash.to_string();
    // The refund's REFUND message must be final and signed on bsc before it can be delivered
    // home: `claim` says to run it again until then.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let output = zb_e2e::cli::zerobridge(work.path(), &["claim", &tx], &[]).await?;
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        println!("$ zerobridge claim {tx}\n{stdout}{stderr}");
        if output.status.success() {
            break;
        }
        ensure!(attempts < 5, "claim failed {attempts} times:\n{stdout}{stderr}");
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    ensure!(devnet.home_balance(holder).await? == before + late.net, "the refund paid the net amount");

    let refunded = wait_stage(http, base, late.tx_hash, "refunded").await?;
    // The claim transaction really is the source bridge's RefundClaimed of this transfer.
    let refund_tx: B256 = refunded["refund_tx"].as_str().unwrap_or_default().parse()?;
    let receipt = devnet
        .home()
        .reader()
        .get_transaction_receipt(refund_tx)
        .await?
        .ok_or_else(|| eyre!("no receipt for the refund tx {refund_tx}"))?;
    let claimed = receipt
        .logs()
        .iter()
        .filter(|l| l.inner.address == devnet.bridge_address(Chain::Home))
        .filter_map(|l| ZeroBridge::RefundClaimed::decode_log(&l.inner).ok())
        .any(|e| e.data.messageHash == zb_protocol::message_hash(&late.message) && e.data.lane == lane);
    assert!(claimed, "refund_tx {refund_tx} claims this transfer's refund");
    assert!(refunded["destination_tx"].is_string(), "the refusing delivery is named: {refunded}");
    assert_eq!(refunded["claimable"], false, "{refunded}");
    assert!(refunded["signatures"]["have"].as_u64().is_some_and(|k| k >= 3), "{refunded}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_sqlite_forgets_a_transfer_reorged_away_and_lists_its_replacement() -> Result<()> {
    reorged_away(Index::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_postgres_forgets_a_transfer_reorged_away_and_lists_its_replacement() -> Result<()> {
    reorged_away(Index::Postgres(zb_test_utils::postgres::fresh_database("e2e_api_reorg").await?)).await
}

async fn reorged_away(index: Index) -> Result<()> {
    let devnet = Devnet::start(DevnetOptions { manual_mining_home: true, ..DevnetOptions::default() }).await?;
    let home = devnet.home();
    let (config, base) = write_config(&devnet, &index)?;
    let _api = start_api(&devnet, &config)?;
    let http = client()?;
    let (http, base) = (&http, base.as_str());

    let gone_to = Address::repeat_byte(0xe1);
    let reorged = devnet.send_to_remote(tokens(6), gone_to).await?;
    home.mine(1).await?;
    let hash = zb_protocol::message_hash(&reorged.message);
    wait_until("the API to list the transfer", DELIVERY, || async move { by_tx(http, base, reorged.tx_hash).await })
        .await?;

    // Replace its block and the one above it; the chain then grows past the old height.
    let depth = home.reader().get_block_number().await? - reorged.block_number + 1;
    home.reorg(depth).await?;
    assert!(home.reader().get_transaction_receipt(reorged.tx_hash).await?.is_none(), "the send is gone");
    home.mine(2).await?;
    wait_until("the API to forget the reorged transfer", DELIVERY, || async move {
        let (status, _) = get(http, &format!("{base}/v1/transfers/{hash}")).await?;
        Ok((status == 404 && by_tx(http, base, reorged.tx_hash).await?.is_none()).then_some(()))
    })
    .await?;

    // The new chain's send takes sequence 1 again and is the one listed.
    let kept_to = Address::repeat_byte(0xe2);
    let fresh = devnet.send_to_remote(tokens(2), kept_to).await?;
    assert_eq!((reorged.sequence, fresh.sequence), (1, 1));
    let listed =
        wait_until(
            "the API to list the new transfer",
            DELIVERY,
            || async move { by_tx(http, base, fresh.tx_hash).await },
        )
        .await?;
    assert_eq!(listed["sequence"], 1);
    assert_eq!(listed["message_hash"], zb_protocol::message_hash(&fresh.message).to_string());
    let (_, all) = get(http, &format!("{base}/v1/transfers")).await?;
    let hashes: Vec<&str> = all["transfers"]
        .as_array()
        .map(|l| l.iter().filter_map(|t| t["message_hash"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(hashes, vec![zb_protocol::message_hash(&fresh.message).to_string()], "only the new chain's transfer");
    Ok(())
}
