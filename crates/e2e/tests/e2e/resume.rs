//! A validator restarted after a long lane history resumes from its persisted cursor: it reads
//! no log from below the cursor again (counted through an RPC proxy in front of its only
//! endpoint), still signs a new transfer, and serves old checkpoints (older than its memory
//! window) from its store; a lane configured only now is caught up in its own task. A cursor
//! whose block hash the chain no longer has halts the chain.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use futures::StreamExt;
use serde_json::Value;
use zb_contracts::bridge::ZeroBridge;
use zb_e2e::devnet::{HOME_NAME, wait_until};
use zb_e2e::logs::{field_str, message};
use zb_e2e::{AgentId, Chain, Devnet, DevnetOptions, Direction, RpcProxy, Served, ValidatorLaneToml, dev_keys};
use zb_store::ValidatorStore;

/// Messages in the lane's history before the restart: more than the default memory window (4096).
const HISTORY: u64 = 10_000;
/// Gas limit of one presigned `send` (the harness's SEND_GAS is generous; a send uses less).
const SEND_GAS: u64 = 250_000;

/// Block numbers of every log returned by `eth_getLogs` through the proxy, in order.
type SeenLogs = Arc<Mutex<Vec<u64>>>;

fn recording(seen: SeenLogs) -> zb_e2e::Rewrite {
    Arc::new(move |method, result| {
        if method == "eth_getLogs" {
            let blocks = result.as_array().into_iter().flatten().filter_map(|log| {
                let hex = log.get("blockNumber").and_then(Value::as_str)?;
                u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()
            });
            if let Ok(mut seen) = seen.lock() {
                seen.extend(blocks);
            }
        }
        false
    })
}

/// Sends `count` transfers on the home lane from the holder as presigned transactions, many per
/// block (the block gas limit is raised first), and returns once they are all accepted.
pub(crate) async fn send_many_fast(devnet: &Devnet, count: u64) -> eyre::Result<()> {
    let home = devnet.home();
    let _: Value = home.rpc("evm_setBlockGasLimit", (U256::from(2_000_000_000u64),)).await?;
    let holder: PrivateKeySigner = dev_keys::HOLDER.parse()?;
    let wallet = EthereumWallet::from(holder.clone());
    let provider: DynProvider = ProviderBuilder::new().connect_http(home.http().parse()?).erased();
    let call = ZeroBridge::new(devnet.bridge_address(Chain::Home), provider.clone())
        .send(devnet.lane(Direction::ToRemote), Address::repeat_byte(0x7e), U256::from(10u64).pow(U256::from(15u64)), 0)
        .into_transaction_request();
    let first_nonce = provider.get_transaction_count(holder.address()).pending().await?;
    let mut envelopes = Vec::new();
    for nonce in first_nonce..first_nonce + count {
        let tx = call
            .clone()
            .with_from(holder.address())
            .with_chain_id(home.chain_id())
            .with_nonce(nonce)
            .with_gas_limit(SEND_GAS)
            .with_max_fee_per_gas(20_000_000_000)
            .with_max_priority_fee_per_gas(1_000_000_000);
        envelopes.push(tx.build(&wallet).await?);
    }
    let results: Vec<_> = futures::stream::iter(envelopes)
        .map(|envelope| {
            let provider = provider.clone();
            async move { provider.send_tx_envelope(envelope).await.map(|_| ()) }
        })
        .buffered(32)
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_validator_resumes_from_its_cursor_without_rescanning() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let seen: SeenLogs = Arc::new(Mutex::new(Vec::new()));
    let proxy = RpcProxy::start(&devnet.home().http(), recording(seen.clone()))?;
    devnet.configure_validator(0, |config| {
        if let Some(chain) = config.chain_mut(HOME_NAME) {
            chain.rpc = vec![proxy.url().to_string()];
            // Heads by polling only: every read of the home chain goes through the proxy.
            chain.ws = None;
        }
    })?;
    devnet.start_validator(0).await?;

    let started = Instant::now();
    send_many_fast(&devnet, HISTORY).await?;
    wait_until("the bridge to record every send", Duration::from_secs(240), || async {
        Ok((devnet.sent_sequence(lane).await? >= HISTORY).then_some(()))
    })
    .await?;
    wait_until("validator 0 to observe the whole history", Duration::from_secs(240), || async {
        Ok((devnet.validator_observed(0, lane).await? >= HISTORY).then_some(()))
    })
    .await?;
    eprintln!("resume: {HISTORY} messages sent and observed in {:?}", started.elapsed());
    let old_signed = match devnet.validator_checkpoint(0, lane, 3).await? {
        Served::Signed(c) => c,
        refused => panic!("sequence 3 must be signed on request: {refused:?}"),
    };
    devnet.verify_served(0, &old_signed)?;
    // Far enough from start_block that a lane new at the restart is caught up in its own task.
    devnet.home().mine(64).await?;
    let mined = devnet.home().block_number().await?;
    wait_until("validator 0 to consume the mined blocks", Duration::from_secs(60), || async {
        let finalized = devnet.validator_metric(0, "zb_validator_finalized_block", "chain=\"ethereum\"").await?;
        Ok(finalized.filter(|f| *f >= (mined - 2) as f64).map(|_| ()))
    })
    .await?;

    // SIGKILL: the cursor is whatever the last committed step wrote.
    devnet.kill_validator(0)?;
    let store_path = devnet.validator_config(0)?.data_dir.join("validator.sqlite");
    let home_id = devnet.home().chain_id();
    let home_bridge = devnet.bridge_address(Chain::Home);
    let cursor =
        ValidatorStore::open(&store_path)?.chain_cursor(home_id, home_bridge)?.expect("a cursor after following");
    let mut config = devnet.validator_config(0)?;
    let start_block = config.chain_mut(HOME_NAME).map_or(0, |c| c.start_block);
    assert!(cursor.next_block > start_block, "cursor at {} from start_block {start_block}", cursor.next_block);
    let head = ValidatorStore::open(&store_path)?.lane_head(lane)?.expect("the lane's head");
    assert_eq!(head.next_block, cursor.next_block, "the lane was followed up to the cursor");
    assert_eq!(head.sequence, HISTORY);
    let logs_before = seen.lock().map(|s| s.len()).unwrap_or(0);
    assert!(logs_before as u64 >= HISTORY, "the first run read the history through the proxy ({logs_before} logs)");

    seen.lock().expect("lock").clear();
    let calls_before = proxy.calls();
    // A lane configured now has no stored head: it is caught up from start_block in its own
    // task (it has no messages, so the lane filter returns no log), the followed lane resumes.
    let new_lane = B256::repeat_byte(0x1e);
    devnet.configure_validator(0, |config| {
        config.lanes.push(ValidatorLaneToml { lane: new_lane, source: HOME_NAME.into() });
    })?;
    let log_from = devnet.log_offset(AgentId::Validator(0))?;
    devnet.start_validator(0).await?;
    // Served from the store before, and after, the lane is resumed.
    assert_eq!(devnet.validator_checkpoint(0, lane, 3).await?.signed(), Some(&old_signed));
    wait_until("validator 0 to resume the lane", Duration::from_secs(60), || async {
        Ok((devnet.validator_observed(0, lane).await? >= HISTORY).then_some(()))
    })
    .await?;

    // A new transfer is observed and signed.
    let sent = devnet.send(Direction::ToRemote, zb_e2e::tokens(1), Address::repeat_byte(0x7f)).await?;
    assert_eq!(sent.sequence, HISTORY + 1);
    let new_signed = wait_until("validator 0 to sign the new transfer", Duration::from_secs(60), || async {
        Ok(devnet.validator_checkpoint(0, lane, sent.sequence).await?.signed().cloned())
    })
    .await?;
    devnet.verify_served(0, &new_signed)?;
    // Old checkpoints: one signed before the restart, one never signed and far below the window.
    assert_eq!(devnet.validator_checkpoint(0, lane, 3).await?.signed(), Some(&old_signed));
    let never_signed = devnet.validator_checkpoint(0, lane, 10).await?;
    let never_signed = never_signed.signed().expect("sequence 10 is signed on request from the store");
    devnet.verify_served(0, never_signed)?;
    assert_eq!(never_signed.accumulator, devnet.source_accumulators(lane).await?[9]);

    let new_lane_hex = format!("{new_lane:#x}");
    devnet
        .wait_for_log(AgentId::Validator(0), log_from, Duration::from_secs(60), |l| {
            message(l) == Some("lane caught up") && field_str(l, "lane").as_deref() == Some(new_lane_hex.as_str())
        })
        .await?;
    devnet
        .wait_for_log(AgentId::Validator(0), log_from, Duration::from_secs(5), |l| {
            message(l) == Some("catching lanes up in their own task")
        })
        .await?;

    // No rescan: nothing below the cursor was read again, only the new transfer's log.
    let after: Vec<u64> = seen.lock().expect("lock").clone();
    let below: Vec<&u64> = after.iter().filter(|b| **b < cursor.next_block).collect();
    assert!(below.is_empty(), "logs below the cursor (block {}) read again: {below:?}", cursor.next_block);
    assert_eq!(after, vec![sent.block_number], "only the new transfer's log was read");
    eprintln!("resume: {} RPC requests through the proxy after the restart", proxy.calls() - calls_before);

    // A cursor whose last block the chain does not have (a reorg deeper than finality while it
    // was down): the restarted validator halts the chain instead of resuming.
    devnet.kill_validator(0)?;
    {
        let store = ValidatorStore::open(&store_path)?;
        let mut forged = store.chain_cursor(home_id, home_bridge)?.expect("cursor");
        if let Some(last) = forged.recent.last_mut() {
            last.1 = B256::repeat_byte(0xde);
        }
        store.record_follow_step(&[], Some(&forged))?;
    }
    devnet.start_validator(0).await?;
    let health = wait_until("validator 0 to halt the home chain", Duration::from_secs(60), || async {
        let (_, body) = devnet.validator_get(0, "/v1/health").await?;
        Ok((body["status"] == "halted").then_some(body))
    })
    .await?;
    let reason = health["halts"]["chains"][0]["reason"].as_str().unwrap_or_default().to_string();
    assert!(reason.contains("reorg deeper than finality"), "{health}");
    Ok(())
}
