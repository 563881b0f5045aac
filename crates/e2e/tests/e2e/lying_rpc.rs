//! A lying RPC endpoint in quorum mode: a validator reading the home chain through an honest
//! endpoint and a liar, with rpc_quorum = 2, never signs what the liar reports, while honest
//! validators sign and the transfer is delivered.

use alloy::primitives::{Address, U256};
use zb_chain::{Finality, Follower};
use zb_e2e::devnet::{HOME_NAME, wait_until};
use zb_e2e::logs::{field_str, message, read_lines_from};
use zb_e2e::{AgentId, Devnet, DevnetOptions, Direction, RpcProxy, Served, tokens};

use crate::DELIVERY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_rpc_endpoint_in_quorum_mode_gets_no_signature() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let honest = devnet.home().http();
    let liar = RpcProxy::start(&honest, RpcProxy::inflate_sent_amounts())?;
    devnet.configure_validator(0, |config| {
        if let Some(chain) = config.chain_mut(HOME_NAME) {
            chain.rpc = vec![honest.clone(), liar.url().to_string()];
            chain.rpc_quorum = 2;
        }
    })?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;

    let recipient = Address::repeat_byte(0x5a);
    let sent = devnet.send_to_remote(tokens(5), recipient).await?;
    // Validators 1, 2 and 3 are enough.
    devnet.wait_delivered(lane, sent.sequence, DELIVERY).await?;
    assert_eq!(devnet.wrapped_balance(recipient).await?, sent.net);

    // Validator 0 reached the block (its endpoints agree on it) but refused the logs.
    wait_until("validator 0 to reach the deposit's block", DELIVERY, || async {
        let final_block = devnet.validator_metric(0, "zb_validator_finalized_block", "chain=\"ethereum\"").await?;
        Ok(final_block.filter(|b| *b >= sent.block_number as f64).map(|_| ()))
    })
    .await?;
    // ...and either refused the disagreeing logs (expected) or observed the message (the
    // failure this test exists to catch), whichever comes first.
    let log = devnet.log_path(AgentId::Validator(0))?;
    wait_until("validator 0 to refuse the disagreeing logs", DELIVERY, || async {
        let refused = read_lines_from(&log, 0)?.0.iter().any(|l| {
            message(l) == Some("follow step failed")
                && field_str(l, "error").is_some_and(|e| e.contains("RPC endpoints disagree"))
        });
        Ok((refused || devnet.validator_observed(0, lane).await? > 0).then_some(()))
    })
    .await?;
    assert!(liar.lies() > 0, "the proxy forged logs ({} calls)", liar.calls());

    match devnet.validator_checkpoint(0, lane, sent.sequence).await? {
        Served::Refused { status, body } => {
            assert_eq!(status, 404, "{body}");
            assert!(body.contains("not final here yet"), "{body}");
        }
        Served::Signed(c) => panic!("validator 0 signed behind a lying endpoint: {c:?}"),
    }
    assert_eq!(devnet.validator_observed(0, lane).await?, 0);
    let history = devnet.validator_history(0)?;
    assert!(!history.entries.iter().any(|e| e.lane == lane), "validator 0 recorded {:?}", history.entries);

    // An honest validator signs the real accumulator.
    let served = devnet.validator_checkpoint(1, lane, sent.sequence).await?;
    let served = served.signed().ok_or_else(|| eyre::eyre!("validator 1 refused: {served:?}"))?;
    assert_eq!(served.accumulator, sent.accumulator);
    devnet.verify_served(1, served)?;

    // The lie is real: a follower trusting the liar alone would see an inflated transfer.
    let mut config = devnet.validator_config(0)?.chains[0].clone();
    config.rpc = vec![liar.url().to_string()];
    config.rpc_quorum = 1;
    config.ws = None;
    config.finality = Finality::Depth(0);
    let fooled = Follower::connect(config).await?;
    let head = fooled.finalized().await?.number;
    let forged = fooled.sent_messages(sent.block_number, head).await?;
    assert_eq!(forged.len(), 1);
    assert_eq!(forged[0].message.amount, sent.net * U256::from(1000u64));
    assert_ne!(forged[0].message.amount, sent.net);
    Ok(())
}
