//! `zerobridge stake status`: each staked chain as `zb_ops::stake::StatusQuery` reads it, printed
//! as soon as it is read.

use eyre::Result;
use zb_ops::explain::status_name;
use zb_ops::format::format_wait;
use zb_ops::stake::status::{Bond, BridgeSet, LaneStatus, Membership};
use zb_ops::stake::{Asset, BPS, ChainStatus, StatusArgs, StatusQuery, bps_percent, when};

pub async fn run(args: &StatusArgs) -> Result<()> {
    let query = StatusQuery::new(args)?;
    let mut shown = 0;
    for info in query.chains() {
        let Some(staking) = query.open(info).await? else {
            continue;
        };
        if shown > 0 {
            println!();
        }
        shown += 1;
        let Some(lanes) = query.lanes(&staking).await? else {
            continue;
        };
        print_chain(&query.chain(&staking, &lanes).await?);
    }
    if shown == 0 {
        return Err(StatusQuery::none_staked());
    }
    Ok(())
}

fn print_chain(status: &ChainStatus) {
    let (c, asset, now, epoch) = (&status.config, &status.asset, status.now, status.epoch);
    println!("stake manager on {} {} ({} stake)", status.chain, status.address, asset.symbol);
    println!(
        "  epoch      {epoch}, {} each; the next starts {}",
        format_wait(c.epoch_length),
        when(status.next_epoch_at, now)
    );
    println!(
        "  rules      unbonding {}; at least {} to count for a lane; up to {} validators per lane; a proven fraud \
         slashes {}% of the bond ({}% of it to the reporter)",
        format_wait(c.unbonding_period),
        asset.fmt(c.min_stake),
        c.max_validators,
        u64::from(c.slash_bps) * 100 / BPS,
        u64::from(c.reporter_share_bps) * 100 / BPS,
    );
    for operator in &status.operators {
        let role = operator.role.as_ref().map(|r| format!(" (devnet {r})")).unwrap_or_default();
        println!("operator {}{role}", operator.address);
        match &operator.registered {
            None => println!("  not registered on {}", status.chain),
            Some(bond) => print_bond(bond, asset, now),
        }
    }
    for lane in &status.lanes {
        print_lane(lane, status);
    }
}

fn print_bond(op: &Bond, asset: &Asset, now: u64) {
    println!("  signer     {}", op.signer);
    println!("  active     {}", asset.fmt(op.active));
    match &op.schedule {
        None => println!("  unbonding  none"),
        Some(schedule) => {
            let partly = if schedule.locked_at_release() && !schedule.free_at_release.is_zero() {
                format!(
                    " ({} {}, the rest when the lock ends)",
                    asset.fmt(schedule.free_at_release),
                    when(schedule.release_at, now)
                )
            } else {
                String::new()
            };
            println!(
                "  unbonding  {}, withdrawable {}{partly}",
                asset.fmt(op.unbonding),
                when(schedule.all_free_at, now)
            );
        }
    }
    if let Some(lock) = &op.locked {
        println!("  locked     {lock}");
    }
    println!(
        "  owed       {}",
        if op.owed.is_zero() { "nothing".to_string() } else { format!("{} (blocks withdrawals)", asset.fmt(op.owed)) }
    );
    println!(
        "  jailed     {}",
        if op.jailed { "YES: left every set at the next snapshot; governance unjails" } else { "no" }
    );
    if op.fraud_proven {
        println!("  fraud      proven: it (and its signing key) earns no reporter share");
    }
    if op.lanes.is_empty() {
        println!("  lanes      none (opt in with `zerobridge stake opt-in`)");
    }
    for (i, lane) in op.lanes.iter().enumerate() {
        let membership = match lane.membership {
            Membership::Member { epoch, weight } => {
                format!("in the current snapshot (epoch {epoch}) with weight {}", asset.fmt(weight))
            }
            Membership::Outside { epoch } => format!("not in the current snapshot (epoch {epoch})"),
            Membership::NoSnapshot => "no snapshot committed yet".to_string(),
        };
        // A lane counts min(allocation, active): unbonding or slashing lowers it.
        let effective = if lane.allocated > op.active {
            format!(" (counts {}: the active stake)", asset.fmt(op.active))
        } else {
            String::new()
        };
        println!(
            "  {}{}: {} allocated{effective}, {membership}",
            if i == 0 { "lanes      " } else { "           " },
            lane.label,
            asset.fmt(lane.allocated)
        );
    }
    let mut parts = op.rewards.clone();
    if !op.reporter_payout.is_zero() {
        parts.push(format!("{} reporter payout", asset.fmt(op.reporter_payout)));
    }
    println!(
        "  rewards    {}",
        if parts.is_empty() {
            "none".to_string()
        } else {
            format!("{} (claim with `zerobridge stake claim`)", parts.join(", "))
        }
    );
}

fn print_lane(lane: &LaneStatus, chain: &ChainStatus) {
    let asset = &chain.asset;
    println!("lane {}", lane.label);
    let Some(stake) = &lane.outbound else {
        println!("  not an outbound lane of {}: its stake lives on its source chain", chain.chain);
        return;
    };
    match &stake.snapshot {
        None => println!("  snapshot   none committed yet (route {})", status_name(stake.route_status)),
        Some(snapshot) => {
            println!(
                "  snapshot   epoch {} (current {}), {} members, threshold {} of {}, set {}",
                snapshot.epoch,
                chain.epoch,
                snapshot.members.len(),
                asset.fmt(snapshot.threshold),
                asset.fmt(snapshot.total_weight),
                snapshot.set_hash
            );
            for (signer, operator, role, weight) in &snapshot.members {
                let role = role.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
                println!("    signer {signer} operator {operator}{role} weight {}", asset.fmt(*weight));
            }
            println!("  expiry     {}", snapshot.expiry);
            println!(
                "  security   {} staked by {} validators; a quorum that signs a forgery loses at least {} (net of \
                 the reporter share)",
                asset.fmt(snapshot.total_stake),
                snapshot.validators,
                asset.fmt(snapshot.quorum_loss)
            );
            let bridge_set = match snapshot.bridge {
                BridgeSet::Snapshot => "the bridge's set is this snapshot".to_string(),
                BridgeSet::Pending(set) => format!("the bridge has set {set} (re-commit to install the snapshot)"),
                BridgeSet::Other(set) => {
                    format!("the bridge attests with set {set} (a set update is in flight or due)")
                }
            };
            println!("  bridge     {bridge_set}");
        }
    }
    let cap = stake.share_cap_bps;
    if cap != 0 {
        println!(
            "  share cap  one operator weighs at most {} of a snapshot (maxOperatorShareBps {cap})",
            bps_percent(cap)
        );
    }
    println!(
        "  candidates {}{}",
        stake.candidates,
        if stake.outside > 0 {
            format!(
                " ({} not in the snapshot: `zerobridge stake commit --chain {} --lane {}` at the next epoch)",
                stake.outside, chain.chain, lane.lane
            )
        } else {
            String::new()
        }
    );
}
