//! zb-tx against a real anvil chain.

use std::path::Path;
use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use zb_test_utils::Anvil;
use zb_tx::TxError;

async fn chain() -> Anvil {
    Anvil::start(31337, Path::new("/dev/null")).await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_transfer_is_sent_with_headroom_and_confirmed() {
    let anvil = chain().await;
    let (wallet, from) = anvil.dev_wallet().expect("wallet");
    let to = Address::repeat_byte(0x42);
    let request = TransactionRequest::default().with_from(from).with_to(to).with_value(U256::from(7u64));
    let receipt = zb_tx::send_and_confirm(&wallet, request, 30, Duration::from_secs(30)).await.expect("confirmed");
    assert!(receipt.status());
    assert_eq!(wallet.get_balance(to).await.expect("balance"), U256::from(7u64));
    let tx = wallet.get_transaction_by_hash(receipt.transaction_hash).await.expect("tx").expect("known");
    assert_eq!(alloy::consensus::Transaction::gas_limit(&tx), zb_tx::with_headroom(21_000, 30));
}

#[tokio::test]
async fn a_transaction_that_cannot_succeed_is_refused_before_it_is_sent() {
    let anvil = chain().await;
    let (wallet, from) = anvil.dev_wallet().expect("wallet");
    let nonce = wallet.get_transaction_count(from).await.expect("nonce");
    let broke = TransactionRequest::default().with_from(from).with_to(Address::repeat_byte(1)).with_value(U256::MAX);
    let refused = zb_tx::send_and_confirm(&wallet, broke, 30, Duration::from_secs(30)).await;
    assert!(matches!(refused, Err(TxError::Rpc(_))), "{refused:?}");
    assert_eq!(wallet.get_transaction_count(from).await.expect("nonce"), nonce, "nothing was sent");
}

#[tokio::test]
async fn a_transaction_never_mined_times_out_instead_of_hanging() {
    let anvil = chain().await;
    anvil.set_automine(false).await.expect("automine off");
    let (wallet, from) = anvil.dev_wallet().expect("wallet");
    let request =
        TransactionRequest::default().with_from(from).with_to(Address::repeat_byte(2)).with_value(U256::from(1u64));
    let pending = wallet.send_transaction(request).await.expect("sent");
    let hash = *pending.tx_hash();
    match zb_tx::wait_receipt(&wallet, hash, Duration::from_secs(2)).await {
        Err(TxError::NotMined { hash: h, .. }) => assert_eq!(h, hash),
        other => panic!("expected NotMined, got {other:?}"),
    }
    anvil.mine(1).await.expect("mine");
    let receipt = zb_tx::wait_success(&wallet, hash, Duration::from_secs(10)).await.expect("mined now");
    assert!(receipt.block_number.is_some());
}

#[tokio::test]
async fn concurrent_senders_sharing_a_nonce_manager_never_collide() {
    let anvil = chain().await;
    anvil.set_automine(false).await.expect("automine off");
    let (wallet, from) = anvil.dev_wallet().expect("wallet");
    let nonces = std::sync::Arc::new(zb_tx::NonceManager::default());
    let senders = (0..8u8).map(|i| {
        let (wallet, nonces) = (wallet.clone(), nonces.clone());
        async move {
            let nonce = nonces.reserve(&wallet, from).await.expect("nonce");
            let request = TransactionRequest::default()
                .with_from(from)
                .with_to(Address::repeat_byte(i + 1))
                .with_value(U256::from(1u64))
                .with_nonce(nonce);
            (nonce, *wallet.send_transaction(request).await.expect("sent").tx_hash())
        }
    });
    let sent = futures::future::join_all(senders).await;
    let mut used: Vec<u64> = sent.iter().map(|(n, _)| *n).collect();
    used.sort_unstable();
    assert_eq!(used, (0..8).collect::<Vec<u64>>(), "one nonce each, no gap");
    anvil.mine(1).await.expect("mine");
    for (_, hash) in sent {
        zb_tx::wait_success(&wallet, hash, Duration::from_secs(10)).await.expect("every one mined");
    }
    // The manager continues after what the chain has seen.
    assert_eq!(nonces.reserve(&wallet, from).await.expect("nonce"), 8);
}

#[tokio::test]
async fn a_released_nonce_is_handed_out_again_and_fills_the_gap_that_held_later_transactions() {
    let anvil = chain().await;
    let (wallet, from) = anvil.dev_wallet().expect("wallet");
    let nonces = zb_tx::NonceManager::default();
    let send = |nonce: u64| {
        let wallet = wallet.clone();
        async move {
            let request = TransactionRequest::default()
                .with_from(from)
                .with_to(Address::repeat_byte(9))
                .with_value(U256::from(1u64))
                .with_nonce(nonce);
            *wallet.send_transaction(request).await.expect("sent").tx_hash()
        }
    };
    let reserved = [
        nonces.reserve(&wallet, from).await.expect("nonce"),
        nonces.reserve(&wallet, from).await.expect("nonce"),
        nonces.reserve(&wallet, from).await.expect("nonce"),
    ];
    assert_eq!(reserved, [0, 1, 2]);
    let first = send(0).await;
    // Building nonce 1's transaction failed: it is given back, and 2 is sent behind the gap.
    nonces.release(1).await;
    let third = send(2).await;
    zb_tx::wait_success(&wallet, first, Duration::from_secs(10)).await.expect("nonce 0 mined");
    assert!(
        matches!(zb_tx::wait_receipt(&wallet, third, Duration::from_secs(2)).await, Err(TxError::NotMined { .. })),
        "nonce 2 waits behind the gap"
    );
    assert_eq!(nonces.reserve(&wallet, from).await.expect("nonce"), 1, "the gap is handed out first");
    let second = send(1).await;
    for hash in [second, third] {
        zb_tx::wait_success(&wallet, hash, Duration::from_secs(10)).await.expect("mined once the gap is filled");
    }
    assert_eq!(nonces.reserve(&wallet, from).await.expect("nonce"), 3);
}

#[tokio::test]
async fn a_floor_keeps_new_nonces_above_transactions_a_node_dropped() {
    let anvil = chain().await;
    let (wallet, from) = anvil.dev_wallet().expect("wallet");
    // The caller's store holds signed transactions up to nonce 4 that this node never saw.
    let nonces = zb_tx::NonceManager::with_floor(5);
    assert_eq!(wallet.get_transaction_count(from).pending().await.expect("count"), 0);
    assert_eq!(nonces.reserve(&wallet, from).await.expect("nonce"), 5);
}
