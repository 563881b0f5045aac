//! A deposit reorged out before it is final is never signed: validators with a finality depth of
//! 5 skip it, a new deposit that takes its sequence is signed and delivered instead, and their
//! slashing-protection stores never hold the reorged accumulator. The relayer trusts a single
//! confirmation here, so it reads the deposit before the reorg: its reorg guard notices, it
//! resyncs the lane from the destination, and it delivers the new deposit exactly once.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use zb_chain::Finality;
use zb_e2e::devnet::{HOME_NAME, wait_until};
use zb_e2e::logs::message;
use zb_e2e::{AgentId, Devnet, DevnetOptions, Direction, Served, tokens};

use crate::DELIVERY;

const DEPTH: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_reorged_out_below_finality_is_never_signed() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions {
        finality_depth: DEPTH,
        // Blocks on the home chain only when the test mines them.
        manual_mining_home: true,
        ..DevnetOptions::default()
    })
    .await?;
    let lane = devnet.lane(Direction::ToRemote);
    let home = devnet.home();
    // Validator 1 is a control that trusts a single confirmation: it signs the deposit before the
    // reorg, which shows the deposit was really observable and that this test catches a
    // validator signing too early.
    let control = 1;
    devnet.configure_validator(control, |config| {
        if let Some(chain) = config.chain_mut(HOME_NAME) {
            chain.finality = Finality::Depth(1);
        }
    })?;
    let careful = [0, 2, 3];
    devnet.configure_relayer(|config| {
        if let Some(chain) = config.chain_mut(HOME_NAME) {
            chain.finality = Finality::Depth(1);
        }
    });
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let relayer_log = devnet.log_offset(AgentId::Relayer)?;

    let first_recipient = Address::repeat_byte(0xd1);
    let reorged = devnet.send_to_remote(tokens(77), first_recipient).await?;
    assert_eq!(reorged.sequence, 1);
    home.mine(2).await?; // 2 blocks on top: final for depth 1, not for depth 5.

    let signed_early = wait_until("the control validator to sign the deposit", DELIVERY, || async {
        Ok(devnet.validator_checkpoint(control, lane, 1).await?.signed().cloned())
    })
    .await?;
    assert_eq!(signed_early.accumulator, reorged.accumulator);
    for i in careful {
        let served = devnet.validator_checkpoint(i, lane, 1).await?;
        assert!(matches!(served, Served::Refused { status: 404, .. }), "validator {i}: {served:?}");
    }

    // The relayer (one confirmation too) has read the deposit as final before it goes.
    let lane_key = format!("{lane:#x}");
    wait_until("the relayer to read the deposit", DELIVERY, || async {
        let health = devnet.relayer_health().await?;
        let seen = health["lanes"][lane_key.as_str()]["sourceHeight"].as_u64().unwrap_or(0);
        Ok((seen >= 1).then_some(()))
    })
    .await?;

    // Reorg the deposit's block and the two above it out, then bury that height below finality.
    let depth = home.block_number().await? - reorged.block_number + 1;
    home.reorg(depth).await?;
    assert!(home.reader().get_transaction_receipt(reorged.tx_hash).await?.is_none(), "the deposit is gone");
    assert_eq!(devnet.sent_sequence(lane).await?, 0);
    home.mine(2 * DEPTH).await?;
    devnet
        .wait_for_log(AgentId::Relayer, relayer_log, DELIVERY, |line| {
            message(line).is_some_and(|m| m.contains("reorganised deeper than the finality rule; resyncing the lane"))
        })
        .await?;
    let final_now = home.block_number().await? - DEPTH;
    assert!(final_now > reorged.block_number);
    for i in careful {
        wait_until(&format!("validator {i} to pass block {final_now}"), DELIVERY, || async {
            let block = devnet.validator_metric(i, "zb_validator_finalized_block", "chain=\"ethereum\"").await?;
            Ok(block.filter(|b| *b >= final_now as f64).map(|_| ()))
        })
        .await?;
        let served = devnet.validator_checkpoint(i, lane, 1).await?;
        assert!(matches!(served, Served::Refused { status: 404, .. }), "validator {i} after the reorg: {served:?}");
        assert!(devnet.validator_history(i)?.entries.iter().all(|e| e.lane != lane), "validator {i} recorded the lane");
    }

    // A new deposit takes sequence 1 with another accumulator; that one is signed and delivered.
    let second_recipient = Address::repeat_byte(0xd2);
    let fresh = devnet.send_to_remote(tokens(33), second_recipient).await?;
    assert_eq!(fresh.sequence, 1);
    assert_ne!(fresh.accumulator, reorged.accumulator);
    home.mine(DEPTH).await?;
    devnet.wait_delivered(lane, 1, DELIVERY).await?;
    devnet.check_exactly_once(lane, 1).await?;
    assert_eq!(devnet.wrapped_balance(second_recipient).await?, fresh.net);
    assert_eq!(devnet.wrapped_balance(first_recipient).await?, U256::ZERO);
    assert_eq!(devnet.wrapped_supply().await?, fresh.net);

    for i in careful {
        let served = devnet.validator_checkpoint(i, lane, 1).await?;
        let served = served.signed().ok_or_else(|| eyre::eyre!("validator {i} refused: {served:?}"))?;
        assert_eq!(served.accumulator, fresh.accumulator, "validator {i}");
        devnet.verify_served(i, served)?;
        let history = devnet.validator_history(i)?;
        assert!(
            history.entries.iter().all(|e| e.accumulator != reorged.accumulator),
            "validator {i} recorded the reorged accumulator"
        );
        assert!(
            history.entries.iter().any(|e| e.lane == lane && e.sequence == 1 && e.accumulator == fresh.accumulator)
        );
        devnet.audit_validator(i).await?;
    }
    // The control did record the reorged accumulator, so its slashing protection keeps it from
    // ever signing the new sequence 1.
    let history = devnet.validator_history(control)?;
    assert!(history.entries.iter().any(|e| e.lane == lane && e.sequence == 1 && e.accumulator == reorged.accumulator));
    assert!(history.entries.iter().all(|e| e.accumulator != fresh.accumulator));
    if let Ok(Served::Signed(c)) = devnet.validator_checkpoint(control, lane, 1).await {
        assert_ne!(c.accumulator, fresh.accumulator, "the control signed a second accumulator for sequence 1");
    }
    Ok(())
}
