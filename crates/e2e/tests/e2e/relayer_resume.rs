//! A relayer restarted after a long lane history resumes from its persisted cursor: it reads no
//! log below the block of the lowest undelivered message (counted through an RPC proxy in front
//! of its only home endpoint) and still delivers a new transfer. A cursor whose block hash the
//! chain no longer has (a reorg deeper than finality while it was down) is the deep-reorg resync:
//! the lane is read again from start_block and delivered exactly once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolEvent;
use serde_json::Value;
use zb_contracts::bridge::ZeroBridge;
use zb_e2e::devnet::{HOME_NAME, wait_until};
use zb_e2e::logs::{field_str, message};
use zb_e2e::{AgentId, Devnet, DevnetOptions, Direction, RpcProxy, tokens};

use crate::DELIVERY;
use crate::resume::send_many_fast;

/// Messages delivered before the restart.
const HISTORY: u64 = 2_000;

/// (block number, topic0) of every log `eth_getLogs` returned through the proxy, in order.
type SeenLogs = Arc<Mutex<Vec<(u64, B256)>>>;

fn recording(seen: SeenLogs) -> zb_e2e::Rewrite {
    Arc::new(move |method, result| {
        if method == "eth_getLogs" {
            let logs = result.as_array().into_iter().flatten().filter_map(|log| {
                let hex = log.get("blockNumber").and_then(Value::as_str)?;
                let block = u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()?;
                let topic0 = log.get("topics")?.get(0)?.as_str()?.parse::<B256>().ok()?;
                Some((block, topic0))
            });
            if let Ok(mut seen) = seen.lock() {
                seen.extend(logs);
            }
        }
        false
    })
}

fn taken(seen: &SeenLogs) -> Vec<(u64, B256)> {
    seen.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_relayer_reads_the_source_only_from_its_cursor() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let seen: SeenLogs = Arc::new(Mutex::new(Vec::new()));
    let proxy = RpcProxy::start(&devnet.home().http(), recording(seen.clone()))?;
    devnet.configure_relayer(|config| {
        if let Some(chain) = config.chain_mut(HOME_NAME) {
            chain.rpc = vec![proxy.url().to_string()];
            // Heads by polling only: every read of the home chain goes through the proxy.
            chain.ws = None;
        }
    });
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;

    let started = Instant::now();
    send_many_fast(&devnet, HISTORY).await?;
    devnet.wait_delivered(lane, HISTORY, Duration::from_secs(300)).await?;
    eprintln!("relayer_resume: {HISTORY} messages sent and delivered in {:?}", started.elapsed());
    let last_sent = devnet.sent_events(lane).await?.last().map(|e| e.block_number).unwrap_or_default();
    let cursor = wait_until("the relayer to store a cursor past the history", DELIVERY, || async {
        let cursor = devnet.relayer_store()?.relay_cursor(lane)?;
        Ok(cursor.filter(|c| c.resume_sequence == HISTORY + 1 && c.next_block > last_sent))
    })
    .await?;
    // Everything delivered: the lowest undelivered message is not sent yet, so a restart reads
    // from the first block not read.
    assert_eq!(cursor.resume_block, cursor.next_block);
    let read_first: Vec<(u64, B256)> = taken(&seen);
    let history_read = read_first.iter().filter(|(_, t)| *t == ZeroBridge::MessageSent::SIGNATURE_HASH).count();
    assert!(history_read as u64 >= HISTORY, "the first run read the history through the proxy ({history_read} logs)");

    // SIGKILL: the cursor is whatever the last committed tick wrote.
    devnet.kill_relayer()?;
    let cursor = devnet.relayer_store()?.relay_cursor(lane)?.expect("the cursor survives the kill");
    assert!(cursor.resume_sequence > HISTORY && cursor.resume_block > last_sent, "{cursor:?}");
    taken(&seen);
    devnet.start_relayer().await?;
    let sent = devnet.send(Direction::ToRemote, tokens(1), Address::repeat_byte(0x7f)).await?;
    assert_eq!(sent.sequence, HISTORY + 1);
    devnet.wait_delivered(lane, sent.sequence, DELIVERY).await?;

    // No rescan: nothing below the cursor was read again (the validator sets come from the
    // store too), only the new transfer's log.
    let mut after = taken(&seen);
    let below: Vec<&(u64, B256)> = after.iter().filter(|(b, _)| *b < cursor.resume_block).collect();
    assert!(below.is_empty(), "logs below the cursor (block {}) read again: {below:?}", cursor.resume_block);
    after.dedup();
    assert_eq!(after, vec![(sent.block_number, ZeroBridge::MessageSent::SIGNATURE_HASH)], "only the new log was read");

    // A stored block the chain does not have: the restarted relayer resyncs from start_block
    // (exactly as a deep reorg seen while running), and delivers exactly once.
    devnet.kill_relayer()?;
    {
        let store = devnet.relayer_store()?;
        let mut forged = store.relay_cursor(lane)?.expect("cursor");
        if let Some(last) = forged.recent.last_mut() {
            last.1 = B256::repeat_byte(0xde);
        }
        store.record_relay_cursor(&forged)?;
    }
    let log_from = devnet.log_offset(AgentId::Relayer)?;
    devnet.start_relayer().await?;
    let lane_hex = format!("{lane:#x}");
    devnet
        .wait_for_log(AgentId::Relayer, log_from, DELIVERY, |l| {
            message(l) == Some("the source reorganised deeper than the finality rule; resyncing the lane")
                && field_str(l, "lane").as_deref() == Some(lane_hex.as_str())
        })
        .await?;
    let again = devnet.send(Direction::ToRemote, tokens(2), Address::repeat_byte(0x7f)).await?;
    devnet.wait_delivered(lane, again.sequence, DELIVERY).await?;
    let resynced = taken(&seen);
    let fresh = wait_until("the relayer to store a fresh cursor after the resync", DELIVERY, || async {
        let cursor = devnet.relayer_store()?.relay_cursor(lane)?;
        Ok(cursor.filter(|c| c.next_block > again.block_number && c.resume_sequence == again.sequence + 1))
    })
    .await?;
    assert!(fresh.recent.iter().all(|(_, hash)| *hash != B256::repeat_byte(0xde)), "{fresh:?}");
    let reread = resynced.iter().filter(|(b, t)| *b <= last_sent && *t == ZeroBridge::MessageSent::SIGNATURE_HASH);
    assert!(reread.count() as u64 >= HISTORY, "the resync read the lane from start_block again");
    devnet.check_exactly_once(lane, again.sequence).await?;
    Ok(())
}
