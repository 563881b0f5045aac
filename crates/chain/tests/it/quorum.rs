use alloy::sol_types::SolEvent;
use zb_chain::{BlockRef, ChainError, Finality, Follower, SentMessage};
use zb_contracts::bridge::ZeroBridge;

use crate::anvil::Anvil;
use crate::bridge::Bridge;
use crate::proxy::{Lie, Proxy};
use zb_test_utils::BlackHole;

async fn follower(anvil: &Anvil, bridge: &Bridge, rpc: Vec<String>, quorum: usize) -> Follower {
    let mut config = anvil.config(bridge.address, Finality::Depth(1));
    config.rpc = rpc;
    config.rpc_quorum = quorum;
    Follower::connect(config).await.expect("connect")
}

/// A chain with two messages sent and final, and what an honest endpoint alone reads of them.
async fn two_messages_sent() -> (Anvil, Bridge, BlockRef, Vec<SentMessage>) {
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    bridge.send(7).await;
    bridge.send(8).await;
    anvil.mine(1).await;
    let honest = follower(&anvil, &bridge, vec![anvil.http()], 1).await;
    let fin = honest.finalized().await.expect("finalized");
    let truth = honest.sent_messages(0, fin.number).await.expect("honest scan");
    assert_eq!(truth.len(), 2);
    (anvil, bridge, fin, truth)
}

#[tokio::test]
async fn a_lying_endpoint_is_caught_by_the_quorum() {
    let (anvil, bridge, fin, truth) = two_messages_sent().await;

    // A transparent proxy agrees with the node: quorum 2 passes.
    let mirror = Proxy::start(&anvil.http(), Lie::None).await;
    let two = follower(&anvil, &bridge, vec![anvil.http(), mirror.url.clone()], 2).await;
    assert_eq!(two.finalized().await.expect("finalized"), fin);
    assert_eq!(two.sent_messages(0, fin.number).await.expect("agreeing scan"), truth);

    for lie in [Lie::ForgeLogData, Lie::DropLastLog] {
        let liar = Proxy::start(&anvil.http(), lie).await;

        // Alone, the liar would be believed: the proxy really forges.
        let fooled = follower(&anvil, &bridge, vec![liar.url.clone()], 1).await;
        let forged = fooled.sent_messages(0, fin.number).await;
        assert!(forged.map(|m| m != truth).unwrap_or(true), "{lie:?} changes the answer");

        // Two of two, or three of three, must agree: the liar alone stops the follower.
        for (rpc, quorum) in [
            (vec![anvil.http(), liar.url.clone()], 2),
            (vec![liar.url.clone(), anvil.http()], 2),
            (vec![anvil.http(), mirror.url.clone(), liar.url.clone()], 3),
        ] {
            let guarded = follower(&anvil, &bridge, rpc, quorum).await;
            match guarded.sent_messages(0, fin.number).await {
                Err(ChainError::RpcDisagreement { what }) => {
                    assert!(what.contains("logs"), "{what}")
                }
                other => panic!("{lie:?}: expected RpcDisagreement, got {other:?}"),
            }
            let raw = guarded.bridge_logs(ZeroBridge::MessageSent::SIGNATURE_HASH, 0, fin.number).await;
            assert!(matches!(raw, Err(ChainError::RpcDisagreement { .. })), "{lie:?}: {raw:?}");
        }

        // Two of three: the two honest answers outvote the liar, wherever it stands.
        for rpc in [
            vec![anvil.http(), mirror.url.clone(), liar.url.clone()],
            vec![liar.url.clone(), anvil.http(), mirror.url.clone()],
        ] {
            let outvoted = follower(&anvil, &bridge, rpc, 2).await;
            assert_eq!(outvoted.finalized().await.expect("finalized"), fin);
            assert_eq!(outvoted.sent_messages(0, fin.number).await.expect("2 of 3"), truth, "{lie:?}");
        }
    }
}

#[tokio::test]
async fn two_liars_agreeing_with_each_other_are_not_a_quorum_against_two_honest_endpoints() {
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    bridge.send(7).await;
    anvil.mine(1).await;
    let mirror = Proxy::start(&anvil.http(), Lie::None).await;
    let liars =
        [Proxy::start(&anvil.http(), Lie::ForgeLogData).await, Proxy::start(&anvil.http(), Lie::ForgeLogData).await];
    let rpc = vec![anvil.http(), liars[0].url.clone(), mirror.url.clone(), liars[1].url.clone()];
    // rpc_quorum 2 of 4 lets two answers reach it: refused rather than picking one.
    let split = follower(&anvil, &bridge, rpc, 2).await;
    let fin = split.finalized().await.expect("blocks agree");
    match split.sent_messages(0, fin.number).await {
        Err(ChainError::RpcDisagreement { what }) => assert!(what.contains("no single answer"), "{what}"),
        other => panic!("expected RpcDisagreement, got {other:?}"),
    }
}

#[tokio::test]
async fn a_liar_and_a_black_hole_among_three_cannot_stop_two_of_three() {
    let (anvil, bridge, fin, truth) = two_messages_sent().await;

    let mirror = Proxy::start(&anvil.http(), Lie::None).await;
    let liar = Proxy::start(&anvil.http(), Lie::ForgeLogData).await;
    let hole = BlackHole::start().expect("black hole");

    // The black hole does not even answer eth_chainId at start-up: tolerated while 2 others do.
    let follower_of = |rpc: Vec<String>| {
        let mut config = anvil.config(bridge.address, Finality::Depth(1));
        config.rpc = rpc;
        config.rpc_quorum = 2;
        Follower::connect(config)
    };
    let lane = follower_of(vec![anvil.http(), hole.url().to_string(), mirror.url.clone()]).await.expect("connect");
    assert_eq!(lane.finalized().await.expect("2 of 3 answer"), fin);
    assert_eq!(lane.sent_messages(0, fin.number).await.expect("2 of 3 agree"), truth);

    // With the liar as the third, the black hole leaves the liar and one honest endpoint: no quorum.
    let stalled = follower_of(vec![anvil.http(), hole.url().to_string(), liar.url.clone()]).await.expect("connect");
    assert!(matches!(stalled.sent_messages(0, fin.number).await, Err(ChainError::RpcDisagreement { .. })));

    // Two unreachable endpoints leave fewer than the quorum: refused at connect.
    let other_hole = BlackHole::start().expect("black hole");
    let refused = follower_of(vec![anvil.http(), hole.url().to_string(), other_hole.url().to_string()]).await;
    assert!(matches!(refused, Err(ChainError::Rpc(ref m)) if m.contains("rpc_quorum needs 2 of 3")), "{refused:?}");
}

#[tokio::test]
async fn endpoints_disagreeing_on_the_final_block_are_refused() {
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    let liar = Proxy::start(&anvil.http(), Lie::ForgeBlockHash).await;
    let guarded = follower(&anvil, &bridge, vec![anvil.http(), liar.url.clone()], 2).await;
    match guarded.finalized().await {
        Err(ChainError::RpcDisagreement { what }) => assert!(what.contains("hash"), "{what}"),
        other => panic!("expected RpcDisagreement, got {other:?}"),
    }
    assert!(matches!(guarded.block_ref(1).await, Err(ChainError::RpcDisagreement { .. })));
    // No final block agreed, so no logs either.
    assert!(matches!(guarded.sent_messages(0, 0).await, Err(ChainError::RpcDisagreement { .. })));
}

#[tokio::test]
async fn a_dead_endpoint_fails_the_quorum_but_not_a_smaller_one() {
    let anvil = Anvil::start(31337, &[]).await;
    let bridge = Bridge::deploy(&anvil).await;
    let doomed = Anvil::start(31337, &[]).await;
    let mut config = anvil.config(bridge.address, Finality::Depth(0));
    config.rpc = vec![anvil.http(), doomed.http()];
    config.rpc_quorum = 2;
    let strict = Follower::connect(config.clone()).await.expect("connect");
    config.rpc_quorum = 1;
    let lenient = Follower::connect(config).await.expect("connect");
    drop(doomed);
    assert!(matches!(strict.finalized().await, Err(ChainError::Rpc(_))));
    let fin = lenient.finalized().await.expect("one endpoint suffices");
    assert_eq!(fin.number, anvil.latest().await);
}
