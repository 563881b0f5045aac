//! A validator killed with SIGKILL in the middle of a stream of transfers and restarted: it never
//! signs two accumulators for one (lane, sequence), and every transfer is delivered.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use zb_e2e::devnet::wait_until;
use zb_e2e::logs::{field_str, field_u64, harness_event, message};
use zb_e2e::{AgentId, Devnet, DevnetOptions, Direction, Served, tokens};

use crate::DELIVERY;

const STREAM: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_killed_mid_stream_and_restarted_never_signs_twice_and_nothing_is_lost() -> eyre::Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let victim = AgentId::Validator(0);
    // Validator 3 stays down, so every checkpoint needs validator 0: the stream can only finish
    // if the restarted validator 0 carries on correctly.
    devnet.start_validators(&[0, 1, 2]).await?;
    devnet.start_relayer().await?;

    let recipient = Address::repeat_byte(0xc3);
    let amounts: Vec<U256> = (0..STREAM).map(|i| tokens(i + 1) + U256::from(i)).collect();
    let (first_half, second_half) = amounts.split_at(amounts.len() / 2);
    let mut hashes = Vec::new();

    // First half of the stream, and meanwhile: kill validator 0 right after it signs a checkpoint
    // at sequence 2 or later.
    let from = devnet.log_offset(victim)?;
    let stream = async {
        let mut out = Vec::new();
        for amount in first_half {
            out.push((devnet.submit_send(Direction::ToRemote, *amount, recipient).await?, *amount));
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Ok::<_, eyre::Report>(out)
    };
    let crash = async {
        let lane_hex = format!("{lane:#x}");
        devnet
            .wait_for_log(victim, from, DELIVERY, |l| {
                message(l) == Some("signed checkpoint")
                    && field_str(l, "lane").as_deref() == Some(lane_hex.as_str())
                    && field_u64(l, "sequence").is_some_and(|s| s >= 2)
            })
            .await?;
        devnet.kill_validator(0)?;
        Ok::<_, eyre::Report>(())
    };
    let (submitted, ()) = tokio::try_join!(stream, crash)?;
    hashes.extend(submitted);

    // Second half, part of it while validator 0 is down; then it restarts with the same store.
    for (k, amount) in second_half.iter().enumerate() {
        if k == second_half.len() / 2 {
            devnet.start_validator(0).await?;
        }
        hashes.push((devnet.submit_send(Direction::ToRemote, *amount, recipient).await?, *amount));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut sent = Vec::new();
    for (hash, amount) in hashes {
        sent.push(devnet.confirm_send(Direction::ToRemote, hash, amount).await?);
    }
    let sequences: Vec<u64> = sent.iter().map(|s| s.sequence).collect();
    assert_eq!(sequences, (1..=STREAM).collect::<Vec<_>>());

    // Nothing is lost, nothing is duplicated.
    devnet.wait_delivered(lane, STREAM, DELIVERY).await?;
    devnet.check_exactly_once(lane, STREAM).await?;
    let total: U256 = sent.iter().map(|s| s.net).sum();
    assert_eq!(devnet.wrapped_balance(recipient).await?, total);
    assert_eq!(devnet.wrapped_supply().await?, total);
    assert_eq!(devnet.vault_locked().await?, total);

    // The kill really interrupted validator 0: it ran twice, and signed in both runs.
    let truth = devnet.source_accumulators(lane).await?;
    let lines = devnet.log_lines(victim)?;
    let mut run = 0;
    let mut signed: BTreeMap<u64, BTreeSet<B256>> = BTreeMap::new();
    let mut signings_per_run: BTreeMap<u64, usize> = BTreeMap::new();
    for line in &lines {
        if harness_event(line) == Some("start") {
            run += 1;
        }
        if message(line) == Some("signed checkpoint")
            && field_str(line, "lane").as_deref() == Some(&format!("{lane:#x}"))
        {
            let sequence = field_u64(line, "sequence").ok_or_else(|| eyre::eyre!("no sequence in {line}"))?;
            let accumulator: B256 = field_str(line, "accumulator").unwrap_or_default().parse()?;
            signed.entry(sequence).or_default().insert(accumulator);
            *signings_per_run.entry(run).or_default() += 1;
        }
    }
    assert_eq!(run, 2, "validator 0 was started twice");
    assert!(signings_per_run.get(&1).is_some_and(|n| *n > 0), "signed before the kill: {signings_per_run:?}");
    assert!(signings_per_run.get(&2).is_some_and(|n| *n > 0), "signed after the restart: {signings_per_run:?}");
    // Never two accumulators for one sequence, and always the source's.
    for (sequence, accumulators) in &signed {
        assert_eq!(accumulators.len(), 1, "validator 0 signed sequence {sequence} with {accumulators:?}");
        assert!(
            accumulators.contains(&truth[(*sequence - 1) as usize]),
            "validator 0 signed sequence {sequence} with {accumulators:?}, the source has {}",
            truth[(*sequence - 1) as usize]
        );
    }

    // Its store agrees: every record equals the source's accumulator, every signature verifies.
    let audit = devnet.audit_validator(0).await?;
    assert!(audit.recorded >= signed.len(), "{audit:?} vs {} signed sequences in the log", signed.len());
    // And so does its API, for every sequence of the stream (signing the rest on demand).
    for (sequence, accumulator) in (1..=STREAM).zip(&truth) {
        let served = wait_until(&format!("validator 0 to serve sequence {sequence}"), DELIVERY, || async {
            Ok(devnet.validator_checkpoint(0, lane, sequence).await?.signed().cloned())
        })
        .await?;
        assert_eq!(served.accumulator, *accumulator, "sequence {sequence}");
        devnet.verify_served(0, &served)?;
        // Signed before and after the crash, and never slashable on the source chain.
        crate::slashing::assert_not_slashable(&devnet, &served).await?;
    }
    devnet.audit_validator(0).await?;
    // A sequence beyond the stream is refused, not invented.
    match devnet.validator_checkpoint(0, lane, STREAM + 1).await? {
        Served::Refused { status, .. } => assert_eq!(status, 404),
        Served::Signed(c) => panic!("validator 0 signed a sequence that was never sent: {c:?}"),
    }
    Ok(())
}
