//! The relayer killed with SIGKILL in the middle of a batch with many messages pending, then
//! restarted: every message is delivered exactly once. Mining on the destination is paused
//! around each kill so that the kill lands deterministically while a delivery is submitted but
//! not mined: the first one is mined while no relayer runs; the second one is lost (dropped from
//! the mempool, as a failed broadcast would be) and must be rebroadcast from the signed bytes the
//! relayer stored, so the same transaction (same nonce, same hash) delivers it.

use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use serde_json::Value;
use zb_e2e::devnet::wait_until;
use zb_e2e::logs::{field_str, field_u64, message};
use zb_e2e::{AgentId, Devnet, DevnetOptions, Direction, tokens};
use zb_store::SubmissionStatus;

use crate::DELIVERY;

const MESSAGES: u64 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayer_killed_mid_batch_and_restarted_delivers_every_message_exactly_once() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions {
        // Several batches for the 16 messages, and a short wait before re-submitting a lost one.
        max_batch_messages: Some(4),
        confirmation_timeout_secs: Some(5),
        ..DevnetOptions::default()
    })
    .await?;
    let lane = devnet.lane(Direction::ToRemote);
    let lane_hex = format!("{lane:#x}");
    let relayer = AgentId::Relayer;
    let remote = devnet.remote();
    let block_time = devnet.options().block_time;
    devnet.start_all_validators().await?;

    // Many messages pending before any relayer runs.
    let recipient = Address::repeat_byte(0xe4);
    let amounts: Vec<U256> = (0..MESSAGES).map(|i| tokens(3 * i + 1) + U256::from(i)).collect();
    let sent = devnet.send_many(Direction::ToRemote, &amounts, recipient).await?;
    assert_eq!(sent.last().map(|s| s.sequence), Some(MESSAGES));
    // Final everywhere before the relayer starts, so that its first batch is a full one.
    for i in 0..devnet.validator_count() {
        wait_until(&format!("validator {i} to observe all {MESSAGES} messages"), DELIVERY, || async {
            Ok((devnet.validator_observed(i, lane).await? >= MESSAGES).then_some(()))
        })
        .await?;
    }
    let submitting = |l: &Value| {
        message(l) == Some("submitting delivery") && field_str(l, "lane").as_deref() == Some(lane_hex.as_str())
    };
    let in_mempool = |tx: B256| {
        let reader = remote.reader();
        wait_until("the delivery to reach the destination's mempool", Duration::from_secs(30), move || {
            let reader = reader.clone();
            async move { Ok(reader.get_transaction_by_hash(tx).await?.map(|t| t.block_number)) }
        })
    };

    // Kill 1: right after the first delivery was broadcast, before it is mined.
    remote.pause_mining().await?;
    let from = devnet.log_offset(relayer)?;
    devnet.start_relayer().await?;
    let (line, _) = devnet.wait_for_log(relayer, from, DELIVERY, submitting).await?;
    assert_eq!((field_u64(&line, "from"), field_u64(&line, "to")), (Some(1), Some(4)), "batches of at most 4");
    let first: B256 = field_str(&line, "tx_hash").unwrap_or_default().parse()?;
    assert_eq!(in_mempool(first).await?, None, "the first delivery is pending");
    devnet.kill_relayer()?;
    assert_eq!(devnet.delivered_sequence(lane).await?, 0);
    // It is mined while no relayer runs.
    remote.set_interval_mining(block_time).await?;
    devnet.wait_delivered(lane, 4, DELIVERY).await?;

    // Kill 2: the restarted relayer broadcasts the next batch; it is killed and that
    // transaction is lost.
    remote.pause_mining().await?;
    let from = devnet.log_offset(relayer)?;
    devnet.start_relayer().await?;
    // It starts from what the destination has delivered, not from the lane's first message.
    // The source is read from its stored cursor: the block of message 1, the lowest undelivered
    // one when it was killed (the destination delivered 1-4 while it was down: skipped).
    let (start, _) = devnet
        .wait_for_log(relayer, from, DELIVERY, |l| {
            message(l).is_some_and(|m| m.starts_with("resuming from the stored cursor"))
                && field_str(l, "lane").as_deref() == Some(lane_hex.as_str())
        })
        .await?;
    assert_eq!(field_u64(&start, "delivered"), Some(4), "{start}");
    assert_eq!(field_u64(&start, "from_block"), Some(sent[0].block_number), "{start}");
    let (line, _) = devnet.wait_for_log(relayer, from, DELIVERY, submitting).await?;
    assert_eq!((field_u64(&line, "from"), field_u64(&line, "to")), (Some(5), Some(8)), "it resumed after batch 1");
    let lost: B256 = field_str(&line, "tx_hash").unwrap_or_default().parse()?;
    let lost_nonce = field_u64(&line, "nonce");
    assert_eq!(in_mempool(lost).await?, None);
    devnet.kill_relayer()?;
    remote.drop_transaction(lost).await?;
    remote.set_interval_mining(block_time).await?;
    assert!(remote.reader().get_transaction_by_hash(lost).await?.is_none(), "the second delivery is lost");
    assert_eq!(devnet.delivered_sequence(lane).await?, 4, "12 messages pending at the second kill");

    // Restarted for good: it rebroadcasts the lost transaction itself and finishes the lane.
    let from = devnet.log_offset(relayer)?;
    devnet.start_relayer().await?;
    devnet.wait_delivered(lane, MESSAGES, DELIVERY).await?;
    let (resent, _) = devnet
        .wait_for_log(relayer, from, DELIVERY, |l| {
            message(l) == Some("the node does not know a pending submission: rebroadcasting its signed bytes")
        })
        .await?;
    assert_eq!(field_str(&resent, "tx").and_then(|h| h.parse::<B256>().ok()), Some(lost));
    assert_eq!(field_u64(&resent, "nonce"), lost_nonce, "the lost transaction keeps its nonce");

    // Exactly once: one MessageExecuted per sequence, none missing, none failed.
    devnet.check_exactly_once(lane, MESSAGES).await?;
    let deliveries = devnet.deliveries(lane).await?;
    let mut previous = 0u64;
    for d in &deliveries {
        assert_eq!(d.messages, U256::from(d.sequence - previous), "deliveries are contiguous: {deliveries:?}");
        previous = d.sequence;
    }
    assert_eq!(previous, MESSAGES);
    assert!(
        deliveries.iter().any(|d| d.tx_hash == lost && d.sequence == 8),
        "the lost batch, as signed: {deliveries:?}"
    );
    let total: U256 = sent.iter().map(|s| s.net).sum();
    assert_eq!(devnet.wrapped_balance(recipient).await?, total);
    assert_eq!(devnet.wrapped_supply().await?, total, "wrapped supply is the sum of the net amounts");
    assert_eq!(devnet.vault_locked().await?, total);

    // The relayer's own queue: the lost transaction is confirmed, and no two confirmed
    // submissions overlap.
    let store = devnet.relayer_store()?;
    let mut confirmed: Vec<(u64, u64)> = store
        .submissions_with_status(lane, SubmissionStatus::Confirmed)?
        .iter()
        .map(|s| (s.from_sequence, s.to_sequence))
        .collect();
    confirmed.sort_unstable();
    assert!(confirmed.first().is_some_and(|c| c.0 == 0), "the first delivery was confirmed: {confirmed:?}");
    assert!(confirmed.contains(&(4, 8)), "the rebroadcast one was confirmed: {confirmed:?}");
    for pair in confirmed.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping confirmed submissions: {confirmed:?}");
    }
    Ok(())
}
