use alloy::primitives::Address;
use alloy::sol_types::SolEvent;
use zb_chain::{Finality, Follower};
use zb_contracts::bridge::ZeroBridge;

use crate::anvil::Anvil;
use crate::bridge::Bridge;
use crate::proxy::{Lie, Proxy};

#[tokio::test]
async fn logs_of_other_addresses_are_ignored() {
    let anvil = Anvil::start(31337, &[]).await;
    let ours = Bridge::deploy(&anvil).await;
    let theirs = Bridge::deploy(&anvil).await; // same event, same topics, another address
    ours.send(1).await;
    theirs.send(2).await;
    theirs.send(3).await;
    ours.send(4).await;

    let follower = Follower::connect(anvil.config(ours.address, Finality::Depth(0))).await.expect("connect");
    let fin = follower.finalized().await.expect("finalized");
    let messages = follower.sent_messages(0, fin.number).await.expect("scan");
    let amounts: Vec<u64> = messages.iter().map(|m| m.message.amount.to::<u64>()).collect();
    assert_eq!(amounts, vec![1, 4]);
    assert!(messages.iter().all(|m| m.lane == ours.lane));

    // Filtered by lane (topic1): the lane followed, or nothing for a lane without messages.
    let of_lane = follower.sent_messages_of(&[ours.lane], 0, fin.number).await.expect("scan of the lane");
    assert_eq!(of_lane, messages);
    let none = follower.sent_messages_of(&[alloy::primitives::B256::repeat_byte(0x1a)], 0, fin.number).await;
    assert!(none.expect("scan of another lane").is_empty());

    let raw = follower.bridge_logs(ZeroBridge::MessageSent::SIGNATURE_HASH, 0, fin.number).await.expect("raw logs");
    assert_eq!(raw.len(), 2);
    assert!(raw.iter().all(|l| l.inner.address == ours.address));

    // Other events of the bridge are reachable through bridge_logs.
    let installed = follower
        .bridge_logs(ZeroBridge::ValidatorSetInstalled::SIGNATURE_HASH, 0, fin.number)
        .await
        .expect("installed logs");
    assert_eq!(installed.len(), 2, "one set per lane");
    for log in &installed {
        ZeroBridge::ValidatorSetInstalled::decode_log(&log.inner).expect("decodes");
    }

    // An endpoint that slips in a log "from" another address does not get it through.
    let liar = Proxy::start(&anvil.http(), Lie::InjectForeignLog(Address::repeat_byte(0x66))).await;
    let mut config = anvil.config(ours.address, Finality::Depth(0));
    config.rpc = vec![liar.url.clone()];
    let lied_to = Follower::connect(config).await.expect("connect via proxy");
    let via_liar = lied_to.sent_messages(0, fin.number).await.expect("scan via proxy");
    assert_eq!(via_liar, messages);
}
