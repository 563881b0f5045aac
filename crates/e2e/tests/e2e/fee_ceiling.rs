//! A fee spike on the destination: the relayer never pays above its configured ceiling, neither
//! in its first submission nor by replacing it, and the delivery goes through once the base fee
//! falls back under the ceiling.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use alloy::consensus::Transaction;
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use zb_config::relayer::FeeCeiling;
use zb_e2e::devnet::{REMOTE_NAME, wait_until};
use zb_e2e::logs::{field_str, message};
use zb_e2e::{AgentId, Devnet, DevnetOptions, Direction, tokens};
use zb_store::SubmissionStatus;

use crate::DELIVERY;

const GWEI: u64 = 1_000_000_000;
const CEILING: FeeCeiling = FeeCeiling { max_fee_per_gas: 20 * GWEI, max_priority_fee_per_gas: GWEI };
/// The destination's base fee while the spike lasts: five times the ceiling.
const SPIKE: u64 = 100 * GWEI;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_spike_never_pushes_a_delivery_above_the_ceiling() -> eyre::Result<()> {
    let devnet =
        Devnet::start(DevnetOptions { confirmation_timeout_secs: Some(2), ..DevnetOptions::default() }).await?;
    let lane = devnet.lane(Direction::ToRemote);
    devnet.configure_relayer(|config| {
        config.fee_ceilings.insert(REMOTE_NAME.to_string(), CEILING);
    });
    devnet.start_all_validators().await?;

    // Every block of the destination gets the spiked base fee while `spiking` holds.
    let remote = devnet.remote().reader();
    let spiking = Arc::new(AtomicBool::new(true));
    let spike = tokio::spawn({
        let (remote, spiking) = (remote.clone(), spiking.clone());
        async move {
            while spiking.load(Ordering::SeqCst) {
                let set: Result<serde_json::Value, _> =
                    remote.raw_request("anvil_setNextBlockBaseFeePerGas".into(), [format!("{SPIKE:#x}")]).await;
                if let Err(e) = set {
                    eprintln!("anvil_setNextBlockBaseFeePerGas: {e}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    wait_until("the destination's base fee to spike", DELIVERY, || async {
        let block = remote.get_block_by_number(BlockNumberOrTag::Latest).await?;
        Ok(block.and_then(|b| b.header.base_fee_per_gas).filter(|fee| *fee >= SPIKE).map(|_| ()))
    })
    .await?;
    let nonce_before = remote.get_transaction_count(devnet.relayer_address()).await?;

    let from = devnet.log_offset(AgentId::Relayer)?;
    devnet.start_relayer().await?;
    let recipient = Address::repeat_byte(0x6c);
    let sent = devnet.send_to_remote(tokens(4), recipient).await?;
    // The first submission is capped, and its replacement refused: the ceiling leaves no room.
    devnet
        .wait_for_log(AgentId::Relayer, from, DELIVERY, |l| {
            message(l) == Some("submission not mined and its fees are at the ceiling: waiting, not replacing")
                && field_str(l, "lane") == Some(format!("{lane:#x}"))
        })
        .await?;
    assert_eq!(devnet.delivered_sequence(lane).await?, 0, "nothing is mined under the spike");
    let store = devnet.relayer_store()?;
    let pending = store.submissions_with_status(lane, SubmissionStatus::Pending)?;
    assert_eq!(pending.len(), 1, "one submission, not replaced: {pending:?}");
    let submitted: B256 = pending[0].tx_hash;
    assert_eq!(
        pending[0].max_fee_per_gas,
        u128::from(CEILING.max_fee_per_gas),
        "the estimate (~2x the spike) was capped"
    );
    assert!(pending[0].max_priority_fee_per_gas <= u128::from(CEILING.max_priority_fee_per_gas));

    // The spike ends; the base fee decays under the ceiling and the same transaction is mined.
    spiking.store(false, Ordering::SeqCst);
    spike.await?;
    devnet.wait_delivered(lane, sent.sequence, DELIVERY).await?;
    let deliveries = devnet.deliveries(lane).await?;
    assert_eq!(deliveries.iter().map(|d| d.tx_hash).collect::<Vec<_>>(), vec![submitted]);
    let mined = remote.get_transaction_by_hash(submitted).await?.ok_or_else(|| eyre::eyre!("delivery unknown"))?;
    assert_eq!(mined.max_fee_per_gas(), u128::from(CEILING.max_fee_per_gas));
    assert!(mined.max_priority_fee_per_gas().unwrap_or_default() <= u128::from(CEILING.max_priority_fee_per_gas));
    assert_eq!(
        remote.get_transaction_count(devnet.relayer_address()).await?,
        nonce_before + 1,
        "one transaction from the relayer's account"
    );
    for status in [SubmissionStatus::Confirmed, SubmissionStatus::Replaced, SubmissionStatus::Pending] {
        for s in store.submissions_with_status(lane, status)? {
            assert!(s.max_fee_per_gas <= u128::from(CEILING.max_fee_per_gas), "{s:?}");
        }
    }
    assert_eq!(devnet.wrapped_balance(recipient).await?, sent.net);
    Ok(())
}
