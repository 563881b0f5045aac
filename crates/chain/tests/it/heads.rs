use std::time::Duration;

use alloy::primitives::Address;
use tokio::sync::watch;
use zb_chain::{Finality, Follower};

use crate::anvil::Anvil;
use zb_test_utils::paths::free_port;

/// Waits for `count` changes; returns the values seen.
async fn collect(rx: &mut watch::Receiver<u64>, count: usize, within: Duration) -> Vec<u64> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while seen.len() < count {
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => seen.push(*rx.borrow_and_update()),
            Ok(Err(_)) => panic!("head task ended"),
            Err(_) => panic!("only {} head(s) in {within:?}: {seen:?}", seen.len()),
        }
    }
    seen
}

fn increasing(values: &[u64]) -> bool {
    values.windows(2).all(|w| w[1] > w[0])
}

#[tokio::test]
async fn heads_by_polling() {
    let anvil = Anvil::start(31337, &["--block-time", "1"]).await;
    let mut config = anvil.config(Address::repeat_byte(1), Finality::Depth(2));
    config.poll_interval_ms = 200;
    let follower = Follower::connect(config).await.expect("connect");
    let mut rx = follower.new_heads();
    let seen = collect(&mut rx, 3, Duration::from_secs(10)).await;
    assert!(increasing(&seen), "{seen:?}");
    assert!(seen[0] > 0);
}

#[tokio::test]
async fn heads_by_websocket_subscription() {
    let anvil = Anvil::start(31337, &["--block-time", "1"]).await;
    let mut config = anvil.config(Address::repeat_byte(1), Finality::Depth(2));
    config.ws = Some(anvil.ws());
    // Polling this slowly cannot explain a head a second: they come from the subscription.
    config.poll_interval_ms = 60_000;
    let follower = Follower::connect(config).await.expect("connect");
    let mut rx = follower.new_heads();
    let seen = collect(&mut rx, 4, Duration::from_secs(8)).await;
    assert!(increasing(&seen), "{seen:?}");
}

#[tokio::test]
async fn heads_fall_back_to_polling_when_the_websocket_is_down() {
    let anvil = Anvil::start(31337, &["--block-time", "1"]).await;
    let mut config = anvil.config(Address::repeat_byte(1), Finality::Depth(2));
    config.ws = Some(format!("ws://127.0.0.1:{}", free_port().expect("port"))); // nothing listens there
    config.poll_interval_ms = 200;
    let follower = Follower::connect(config).await.expect("connect");
    let mut rx = follower.new_heads();
    let seen = collect(&mut rx, 3, Duration::from_secs(15)).await;
    assert!(increasing(&seen), "{seen:?}");
}

#[tokio::test]
async fn heads_fall_back_to_polling_when_the_subscription_drops() {
    // The websocket node dies mid-way; heads keep coming from the HTTP endpoint.
    let http = Anvil::start(31337, &["--block-time", "1"]).await;
    let ws_node = Anvil::start(31337, &["--block-time", "1"]).await;
    let mut config = http.config(Address::repeat_byte(1), Finality::Depth(2));
    config.ws = Some(ws_node.ws());
    config.poll_interval_ms = 200;
    let follower = Follower::connect(config).await.expect("connect");
    let mut rx = follower.new_heads();
    collect(&mut rx, 2, Duration::from_secs(8)).await;
    drop(ws_node);
    // Give the subscription time to be declared dead, then heads must still arrive.
    let seen = collect(&mut rx, 8, Duration::from_secs(30)).await;
    let before = *rx.borrow();
    collect(&mut rx, 2, Duration::from_secs(10)).await;
    assert!(*rx.borrow() > before, "{seen:?}");
}
