use zb_chain::{BlockRef, ChainError, Finality, Follower, ReorgGuard};

use crate::anvil::Anvil;
use crate::bridge::Bridge;

#[tokio::test]
async fn a_reorg_deeper_than_finality_is_detected() {
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    let follower = Follower::connect(anvil.config(bridge.address, Finality::Depth(2))).await.expect("connect");
    let sent = bridge.send(9).await;
    anvil.mine(4).await;

    let fin = follower.finalized().await.expect("finalized");
    assert!(fin.number > sent.block_number);
    let messages = follower.sent_messages(0, fin.number).await.expect("scan");
    assert_eq!(messages.len(), 1);

    let mut guard = ReorgGuard::new();
    for number in sent.block_number..=fin.number {
        guard.record(follower.block_ref(number).await.expect("block"));
    }
    guard.check(&follower).await.expect("no reorg yet");

    // A reorg within the finality depth does not touch final blocks.
    anvil.reorg(2).await;
    guard.check(&follower).await.expect("shallow reorg is fine");

    // One that replaces the block holding the consumed message is reported.
    let depth = anvil.latest().await - sent.block_number + 1;
    anvil.reorg(depth).await;
    match guard.check(&follower).await {
        Err(ChainError::DeepReorg { number, expected, found }) => {
            assert_eq!(number, sent.block_number, "the deepest changed block is named");
            assert_eq!(expected, sent.block_hash);
            assert_eq!(found, follower.block_ref(number).await.expect("block").hash);
            assert_ne!(found, expected);
        }
        other => panic!("expected DeepReorg, got {other:?}"),
    }
}

#[tokio::test]
async fn guard_keeps_a_bounded_history_and_the_first_hash() {
    let mut guard = ReorgGuard::new();
    assert_eq!(guard.newest(), None);
    for n in 0..1000u64 {
        guard.record(BlockRef { number: n, hash: alloy::primitives::B256::with_last_byte(n as u8) });
    }
    assert_eq!(guard.newest().map(|b| b.number), Some(999));
    let first = BlockRef { number: 999, hash: alloy::primitives::B256::with_last_byte(231) };
    guard.record(BlockRef { number: 999, hash: alloy::primitives::B256::repeat_byte(0xff) });
    assert_eq!(guard.newest(), Some(first));
}
