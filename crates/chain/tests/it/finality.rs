use alloy::eips::BlockNumberOrTag;
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use zb_chain::{ChainError, Finality, Follower};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::Accumulator;

const MESSAGE_SENT: alloy::primitives::B256 = ZeroBridge::MessageSent::SIGNATURE_HASH;

use crate::anvil::Anvil;
use crate::bridge::Bridge;

#[tokio::test]
async fn depth_finality_hides_recent_logs() {
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    let follower = Follower::connect(anvil.config(bridge.address, Finality::Depth(3))).await.expect("connect");

    let sent = bridge.send(1_000).await;
    let latest = anvil.latest().await;
    assert_eq!(latest, sent.block_number);

    let fin = follower.finalized().await.expect("finalized");
    assert_eq!(fin.number, latest - 3);
    let block = anvil.reader().get_block_by_number(fin.number.into()).await.expect("rpc").expect("block");
    assert_eq!(fin.hash, block.header.hash);

    // The log is in the last `depth` blocks: not final, never returned.
    assert!(follower.sent_messages(0, fin.number).await.expect("scan").is_empty());
    assert!(matches!(follower.sent_messages(0, latest).await, Err(ChainError::NotFinalYet)));
    assert!(matches!(follower.bridge_logs(MESSAGE_SENT, 0, latest).await, Err(ChainError::NotFinalYet)));

    anvil.mine(2).await;
    let fin = follower.finalized().await.expect("finalized");
    assert_eq!(fin.number, sent.block_number - 1);
    assert!(follower.sent_messages(0, fin.number).await.expect("scan").is_empty());

    anvil.mine(1).await;
    let fin = follower.finalized().await.expect("finalized");
    assert_eq!(fin.number, sent.block_number);
    let messages = follower.sent_messages(0, fin.number).await.expect("scan");
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.lane, bridge.lane);
    assert_eq!(m.message.sequence, 1);
    assert_eq!(m.message.kind, 1);
    assert_eq!(m.message.amount, alloy::primitives::U256::from(1_000u64));
    assert_eq!((m.block_number, m.block_hash, m.tx_hash), (sent.block_number, sent.block_hash, sent.tx_hash));
    let mut acc = Accumulator::new(bridge.lane);
    assert_eq!(acc.push(&m.message).expect("in order"), m.accumulator, "emitted accumulator recomputes");

    // An empty range is empty, not an error.
    assert!(follower.sent_messages(fin.number + 1, fin.number).await.expect("empty").is_empty());
}

#[tokio::test]
async fn many_messages_are_ordered_and_chunked() {
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    let follower = Follower::connect(anvil.config(bridge.address, Finality::Depth(0))).await.expect("connect");
    for i in 0..3 {
        bridge.send(10 + i).await;
    }
    // Spread them beyond one eth_getLogs chunk.
    anvil.mine(zb_chain::MAX_LOG_RANGE + 5).await;
    bridge.send(20).await;
    let fin = follower.finalized().await.expect("finalized");
    let messages = follower.sent_messages(0, fin.number).await.expect("scan");
    let sequences: Vec<u64> = messages.iter().map(|m| m.message.sequence).collect();
    assert_eq!(sequences, vec![1, 2, 3, 4]);
    let mut acc = Accumulator::new(bridge.lane);
    for m in &messages {
        assert_eq!(acc.push(&m.message).expect("in order"), m.accumulator);
    }
}

#[tokio::test]
async fn finalized_tag_mode_follows_the_node() {
    // anvil's `finalized` tag trails latest by two epochs (64 blocks by default), unlike Depth.
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    let follower = Follower::connect(anvil.config(bridge.address, Finality::Finalized)).await.expect("connect");

    anvil.mine(70).await;
    let sent = bridge.send(5).await;
    let node_final =
        anvil.reader().get_block_by_number(BlockNumberOrTag::Finalized).await.expect("rpc").expect("finalized block");
    let fin = follower.finalized().await.expect("finalized");
    assert_eq!((fin.number, fin.hash), (node_final.header.number, node_final.header.hash));
    assert!(fin.number + 60 < sent.block_number, "tag mode, not depth 2: {fin:?}");
    assert!(matches!(follower.sent_messages(0, sent.block_number).await, Err(ChainError::NotFinalYet)));

    anvil.mine(70).await;
    let fin = follower.finalized().await.expect("finalized");
    assert!(fin.number >= sent.block_number);
    let messages = follower.sent_messages(0, fin.number).await.expect("scan");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].tx_hash, sent.tx_hash);
}
