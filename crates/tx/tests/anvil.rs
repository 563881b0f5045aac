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
