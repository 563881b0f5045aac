//! One validator of four down (never started, then another one killed): with a threshold of 3,
//! deliveries still complete in both directions.

use alloy::primitives::{Address, U256};
use zb_e2e::{Devnet, DevnetOptions, Direction, tokens};

use crate::DELIVERY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_complete_with_one_validator_down() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let to_remote = devnet.lane(Direction::ToRemote);
    let to_home = devnet.lane(Direction::ToHome);
    let holder = devnet.holder();

    // Validator 3 is never started: 3 of 4 weight remains, exactly the threshold.
    devnet.start_validators(&[0, 1, 2]).await?;
    devnet.start_relayer().await?;
    let first = devnet.send_to_remote(tokens(50), holder).await?;
    devnet.wait_delivered(to_remote, first.sequence, DELIVERY).await?;
    assert_eq!(devnet.wrapped_balance(holder).await?, first.net);
    assert!(devnet.validator_history(3)?.entries.is_empty(), "validator 3 never ran");

    // Validator 3 comes up and validator 1 is killed (SIGKILL): again 3 of 4.
    devnet.start_validator(3).await?;
    devnet.kill_validator(1)?;
    assert!(!devnet.validator_running(1)?);
    let remote_recipient = Address::repeat_byte(0xa7);
    let home_recipient = Address::repeat_byte(0xb7);
    let second = devnet.send_to_remote(tokens(20) + U256::from(1u64), remote_recipient).await?;
    let back = devnet.send_to_home(tokens(10), home_recipient).await?;
    devnet.wait_delivered(to_remote, second.sequence, DELIVERY).await?;
    devnet.wait_delivered(to_home, back.sequence, DELIVERY).await?;

    assert_eq!(devnet.wrapped_balance(remote_recipient).await?, second.net);
    assert_eq!(devnet.wrapped_balance(holder).await?, first.net - tokens(10));
    assert_eq!(devnet.home_balance(home_recipient).await?, back.net);
    assert_eq!(devnet.wrapped_supply().await?, devnet.vault_locked().await?);
    devnet.check_exactly_once(to_remote, 2).await?;
    devnet.check_exactly_once(to_home, 1).await?;

    // The dead validator signed nothing it never saw: the quorum came from the others.
    let dead = devnet.validator_history(1)?;
    assert!(
        !dead.entries.iter().any(|e| (e.lane == to_remote && e.sequence >= 2) || e.lane == to_home),
        "validator 1 was dead, yet its store has {:?}",
        dead.entries
    );
    for i in 0..devnet.validator_count() {
        devnet.audit_validator(i).await?;
    }
    Ok(())
}
