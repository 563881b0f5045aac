//! A transfer in each direction, 4 validators with a threshold of 3: exact balances on both chains.

use alloy::primitives::{Address, U256};
use zb_e2e::{Devnet, DevnetOptions, net_amount, tokens};

use crate::DELIVERY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_in_each_direction_with_4_validators_and_threshold_3() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions { validators: 4, threshold: 3, ..DevnetOptions::default() }).await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let holder = devnet.holder();
    let home_recipient = Address::repeat_byte(0xb2);
    let holder_home_before = devnet.home_balance(holder).await?;
    assert_eq!(devnet.wrapped_supply().await?, U256::ZERO);

    // Home -> remote: lock on chain 1, mint on chain 56 (to the holder, who sends some back).
    let amount = tokens(1_000) + U256::from(7u64);
    let out = devnet.send_to_remote(amount, holder).await?;
    assert_eq!(out.sequence, 1);
    assert_eq!(out.net, net_amount(amount), "the source charges 10 bps");
    devnet.wait_delivered(out.lane, out.sequence, DELIVERY).await?;

    assert_eq!(devnet.home_balance(holder).await?, holder_home_before - amount);
    assert_eq!(devnet.vault_locked().await?, out.net);
    assert_eq!(devnet.wrapped_balance(holder).await?, out.net);
    assert_eq!(devnet.wrapped_supply().await?, out.net);
    let executed = devnet.check_exactly_once(out.lane, 1).await?;
    assert_eq!(executed[&1].recipient, holder);
    assert_eq!(executed[&1].amount, out.net);

    // Remote -> home: burn on chain 56 (no approval needed), release on chain 1.
    let back = tokens(400) + U256::from(3u64);
    let home = devnet.send_to_home(back, home_recipient).await?;
    assert_eq!(home.sequence, 1);
    assert_eq!(home.net, net_amount(back));
    devnet.wait_delivered(home.lane, home.sequence, DELIVERY).await?;

    assert_eq!(devnet.home_balance(home_recipient).await?, home.net);
    assert_eq!(devnet.home_balance(holder).await?, holder_home_before - amount);
    assert_eq!(devnet.vault_locked().await?, out.net - home.net);
    assert_eq!(devnet.wrapped_balance(holder).await?, out.net - back);
    // The remote fee is minted back to the bridge: supply still equals the vault.
    let fee = back - home.net;
    assert_eq!(devnet.wrapped_balance(devnet.bridge_address(zb_e2e::Chain::Remote)).await?, fee);
    assert_eq!(devnet.wrapped_supply().await?, out.net - home.net);
    assert_eq!(devnet.wrapped_supply().await?, devnet.vault_locked().await?);
    let executed = devnet.check_exactly_once(home.lane, 1).await?;
    assert_eq!(executed[&1].recipient, home_recipient);

    // Every validator's store agrees with the chains.
    for i in 0..devnet.validator_count() {
        devnet.audit_validator(i).await?;
    }
    Ok(())
}
