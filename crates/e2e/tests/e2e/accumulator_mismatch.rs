//! An emitted accumulator that differs from the recomputed one halts the lane: validator 0 reads
//! the home chain through one endpoint that rewrites only the accumulator word of MessageSent
//! logs (rpc_quorum = 1). It signs nothing at that sequence, persists the halt, keeps it across a
//! kill and a restart behind an honest endpoint, and signs again only after `validator unhalt`.
//! The honest validators deliver the transfer meanwhile.

use alloy::primitives::Address;
use zb_e2e::devnet::{HOME_NAME, wait_until};
use zb_e2e::{Devnet, DevnetOptions, Direction, RpcProxy, Served, tokens};

use crate::DELIVERY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accumulator_mismatch_halts_the_lane_until_unhalt() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let honest = devnet.home().http();
    let liar = RpcProxy::start(&honest, RpcProxy::forge_sent_accumulators())?;
    let use_endpoint = |url: String| {
        move |config: &mut zb_e2e::config::ValidatorToml| {
            if let Some(chain) = config.chain_mut(HOME_NAME) {
                chain.rpc = vec![url];
                chain.rpc_quorum = 1;
                chain.ws = None;
            }
        }
    };
    devnet.configure_validator(0, use_endpoint(liar.url().to_string()))?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;

    let sent = devnet.send_to_remote(tokens(5), Address::repeat_byte(0x5b)).await?;
    devnet.wait_delivered(lane, sent.sequence, DELIVERY).await?;

    // Validator 0 halts the lane at the deposit's sequence and persists the halt.
    let halts = wait_until("validator 0 to persist the halt", DELIVERY, || async {
        let halts = devnet.validator_lane_halts(0)?;
        Ok((!halts.is_empty()).then_some(halts))
    })
    .await?;
    assert!(liar.lies() > 0, "the proxy forged logs ({} calls)", liar.calls());
    assert_eq!((halts.len(), halts[0].lane, halts[0].sequence), (1, lane, sent.sequence));
    assert!(halts[0].reason.contains(&format!("{}", sent.accumulator)), "{}", halts[0].reason);
    let metric = format!("lane=\"{lane}\"");
    assert_eq!(devnet.validator_metric(0, "zb_validator_lane_halted", &metric).await?, Some(1.0));
    let check_halted = |when: &'static str| {
        let devnet = &devnet;
        async move {
            let (health, body) = devnet.validator_get(0, "/v1/health").await?;
            assert_eq!((health, body["status"].as_str()), (200, Some("halted")), "{when}: {body}");
            let (ready, body) = devnet.validator_get(0, "/v1/ready").await?;
            assert_eq!((ready, body["status"].as_str()), (503, Some("halted")), "{when}: {body}");
            match devnet.validator_checkpoint(0, lane, sent.sequence).await? {
                Served::Refused { status, body } => {
                    assert_eq!(status, 503, "{when}: {body}");
                    assert!(body.contains("halted"), "{when}: {body}");
                }
                Served::Signed(c) => panic!("{when}: validator 0 signed a halted sequence: {c:?}"),
            }
            let history = devnet.validator_history(0)?;
            assert!(!history.entries.iter().any(|e| e.lane == lane), "{when}: {:?}", history.entries);
            eyre::Ok(())
        }
    };
    check_halted("after the mismatch").await?;

    // The lock rule: unhalt is refused while the validator runs.
    let lane_arg = format!("{lane:#x}");
    let refused = devnet.validator_cli(0, &["unhalt", "--lane", &lane_arg]).await?;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stop it first"), "{refused:?}");

    // Killed and restarted behind the honest endpoint: still halted, once it has caught up.
    devnet.kill_validator(0)?;
    devnet.configure_validator(0, use_endpoint(honest.clone()))?;
    devnet.start_validator(0).await?;
    wait_until("validator 0 to observe the deposit again", DELIVERY, || async {
        Ok((devnet.validator_observed(0, lane).await? >= sent.sequence).then_some(()))
    })
    .await?;
    check_halted("after a restart").await?;

    // Stopped, unhalted, started: it signs the true accumulator.
    devnet.kill_validator(0)?;
    let unhalted = devnet.validator_cli(0, &["unhalt", "--lane", &lane_arg]).await?;
    let said = String::from_utf8_lossy(&unhalted.stdout);
    assert!(unhalted.status.success(), "{unhalted:?}");
    assert!(said.contains("removed halt of lane") && said.contains(&format!("sequence {}", sent.sequence)), "{said}");
    assert!(devnet.validator_lane_halts(0)?.is_empty());
    devnet.start_validator(0).await?;
    let served = wait_until("validator 0 to sign after unhalt", DELIVERY, || async {
        Ok(devnet.validator_checkpoint(0, lane, sent.sequence).await?.signed().cloned())
    })
    .await?;
    assert_eq!(served.accumulator, sent.accumulator);
    devnet.verify_served(0, &served)?;
    wait_until("validator 0 to be ready", DELIVERY, || async {
        Ok((devnet.validator_get(0, "/v1/ready").await?.0 == 200).then_some(()))
    })
    .await?;
    Ok(())
}
