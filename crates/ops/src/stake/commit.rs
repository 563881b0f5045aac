//! `stake commit`: anyone commits a lane's next snapshot, its validator set for the coming epoch.

use alloy::network::EthereumWallet;
use alloy::primitives::{B256, U256};
use eyre::{Result, bail};
use zb_contracts::stake::StakeManager;

use super::args::CommitArgs;
use super::lanes::{labelled, open_chain, resolve_lane};
use super::manager::{Asset, PENDING, chain_now, snapshot_set, u96, when};
use super::tx::{Tx, transact};
use crate::context::load_signer;

/// The snapshot `stake commit` committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub chain: String,
    pub asset: Asset,
    pub epoch: u64,
    /// The lane with its network name.
    pub label: String,
    pub tx: Tx,
    pub members: usize,
    pub total_weight: U256,
    pub threshold: U256,
    pub set_hash: B256,
    pub outcome: SetChange,
}

/// What the commit does to the bridge's set of the lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetChange {
    Unchanged,
    /// The route is Pending: the set is installed on the bridge directly.
    Installed,
    /// Queued on the lane as a SET_UPDATE message for the destination.
    Queued,
}

pub async fn commit(args: &CommitArgs) -> Result<Committed> {
    let (ctx, staking) = open_chain(&args.chain).await?;
    let lane = resolve_lane(&ctx, &staking.conn, &args.lane).await?;
    let state = staking.outbound_lane(&ctx, lane).await?;
    let snapshot = staking.snapshot(lane).await?;
    let now = chain_now(&staking.conn).await?;
    let epoch = staking.current_epoch(now);
    if snapshot.committed && snapshot.epoch >= epoch && state.status != PENDING {
        let next = staking.epoch_start(epoch + 1);
        bail!(
            "epoch {epoch} of lane {} is already committed on {}: the next one (epoch {}) can be committed {}",
            labelled(&ctx, lane),
            staking.on(),
            epoch + 1,
            when(next, now)
        );
    }
    let signer = load_signer(&args.key, &ctx)?;
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.commitEpoch(lane), "commitEpoch", &staking.conn.info).await?;
    let after = staking.snapshot(lane).await?;
    let set = snapshot_set(&after)?;
    let outcome = if after.setHash == state.validatorSetHash {
        SetChange::Unchanged
    } else if state.status == PENDING {
        SetChange::Installed
    } else {
        SetChange::Queued
    };
    Ok(Committed {
        chain: staking.on().to_string(),
        asset: staking.asset.clone(),
        epoch: after.epoch,
        label: labelled(&ctx, lane),
        tx: Tx::of(&receipt),
        members: after.members.len(),
        total_weight: u96(after.totalWeight),
        threshold: u96(after.threshold),
        set_hash: set.hash(),
        outcome,
    })
}
