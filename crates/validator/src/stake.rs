//! What a chain's StakeManager says about this validator: the operator its signing key is
//! registered to, the outbound lanes that operator opted in to, and each lane's economic
//! security. Everything is read at the chain's agreed final block, with the RPC quorum rule.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolEvent;
use zb_chain::{BlockRef, ChainError, Follower};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;

/// Seconds in which a lane's token bucket refills its whole capacity (TokenBucket.REFILL_PERIOD).
pub const BUCKET_REFILL_SECS: u64 = 86_400;

/// The most that can leave over a lane within `window` seconds: a full bucket, plus what refills
/// meanwhile (capacity per day). This is `capacity × (1 + window / 86400)`, rounded down.
pub fn max_flow(capacity: U256, window: u64) -> U256 {
    capacity + capacity * U256::from(window) / U256::from(BUCKET_REFILL_SECS)
}

pub use zb_api_types::validator::LaneSecurity;

/// The operator and its lanes, read at one final block.
#[derive(Debug, Clone)]
pub(crate) struct OptIns {
    pub block: BlockRef,
    /// None: the signing key is not registered as any operator's signer here.
    pub operator: Option<Address>,
    /// `lanesOf(operator)`.
    pub lanes: BTreeSet<B256>,
    /// Lanes the operator opted out of (`OptedOut` events) and is not opted in to again: it may
    /// still be in their current validator set, and then must sign their hand-over.
    pub left: BTreeSet<B256>,
}

/// Reads one chain's stake manager. Values that cannot change are cached.
pub(crate) struct StakeReader {
    follower: Follower,
    pub stake_manager: Address,
    signer: Address,
    checked_bridge: bool,
    operator: Option<Address>,
    constants: Option<(u64, u64, Address)>,
    /// Lanes with an `OptedOut` event of the operator, scanned up to `scanned_to`.
    opted_out: BTreeSet<B256>,
    scanned_to: Option<u64>,
}

impl StakeReader {
    pub fn new(follower: Follower, stake_manager: Address, signer: Address) -> StakeReader {
        StakeReader {
            follower,
            stake_manager,
            signer,
            checked_bridge: false,
            operator: None,
            constants: None,
            opted_out: BTreeSet::new(),
            scanned_to: None,
        }
    }

    /// The operator of this validator's signing key and the lanes it opted in to, at the newest
    /// final block. [`StakeError::Config`] is a configuration error no retry can fix.
    pub async fn opt_ins(&mut self) -> Result<OptIns, StakeError> {
        let at = self.follower.finalized().await?;
        if !self.checked_bridge {
            let bridge = self.read(&StakeManager::bridgeCall {}, at).await?;
            let configured = self.follower.config().bridge;
            if bridge != configured {
                return Err(StakeError::Config(format!(
                    "chain `{}`: stake_manager {} belongs to the bridge {bridge}, not to the configured bridge \
                     {configured}; set the StakeManager of this chain's bridge",
                    self.follower.config().name,
                    self.stake_manager
                )));
            }
            self.checked_bridge = true;
        }
        if self.operator.is_none() {
            // A signer maps to one operator for good (registerOperator cannot be undone), so a
            // found operator is cached.
            let operator = self.read(&StakeManager::operatorOfSignerCall { signer: self.signer }, at).await?;
            self.operator = (operator != Address::ZERO).then_some(operator);
        }
        let Some(operator) = self.operator else {
            return Ok(OptIns { block: at, operator: None, lanes: BTreeSet::new(), left: BTreeSet::new() });
        };
        let lanes: BTreeSet<B256> = self.read(&StakeManager::lanesOfCall { operator }, at).await?.into_iter().collect();
        // New OptedOut events of the operator since the last read (from start_block the first time).
        let from = self.scanned_to.map_or(self.follower.config().start_block, |b| b + 1);
        let logs = self
            .follower
            .contract_logs(
                self.stake_manager,
                StakeManager::OptedOut::SIGNATURE_HASH,
                Some(operator.into_word()),
                from,
                at.number,
            )
            .await?;
        for log in logs {
            let event = StakeManager::OptedOut::decode_log(&log.inner)
                .map_err(|e| ChainError::Decode(format!("OptedOut log of {}: {e}", self.stake_manager)))?;
            self.opted_out.insert(event.data.lane);
        }
        self.scanned_to = Some(self.scanned_to.map_or(at.number, |b| b.max(at.number)));
        let left = self.opted_out.difference(&lanes).copied().collect();
        Ok(OptIns { block: at, operator: Some(operator), lanes, left })
    }

    /// Stops considering `lane` as one that may still need this validator: it is not in the
    /// lane's set any more. A later opt-in and opt-out emits a new event and brings it back.
    pub fn forget_left(&mut self, lane: B256) {
        self.opted_out.remove(&lane);
    }

    /// `lane`'s economic security at `at`.
    pub async fn security(&mut self, lane: B256, at: BlockRef, read_at: u64) -> Result<LaneSecurity, ChainError> {
        let (unbonding_period, set_lifetime, staking_token) = match self.constants {
            Some(c) => c,
            None => {
                let period = self.read(&StakeManager::unbondingPeriodCall {}, at).await?;
                let lifetime = self.read(&StakeManager::setLifetimeCall {}, at).await?;
                let token = self.read(&StakeManager::stakingTokenCall {}, at).await?;
                *self.constants.insert((period, lifetime, token))
            }
        };
        let snapshot = self.read(&StakeManager::getSnapshotCall { lane }, at).await?;
        let security = self.read(&StakeManager::laneSecurityCall { lane }, at).await?;
        let bridge = self.follower.config().bridge;
        let state = self.follower.call_sol(bridge, &ZeroBridge::getLaneCall { laneId: lane }, at).await?;
        let me = snapshot.members.iter().find(|m| m.signer == self.signer);
        let capacity = U256::from(state.capacity);
        Ok(LaneSecurity {
            stake_manager: self.stake_manager,
            block: at.number,
            read_at,
            committed: snapshot.committed,
            epoch: snapshot.epoch,
            validators: security.validators.saturating_to(),
            total_stake: security.totalStake,
            threshold: U256::from(snapshot.threshold),
            quorum_loss: security.quorumLoss,
            set_hash: snapshot.setHash,
            attesting_set_hash: state.validatorSetHash,
            staking_token,
            in_snapshot: me.is_some(),
            weight: me.map(|m| U256::from(m.weight)),
            token: state.token,
            capacity,
            unbonding_period,
            set_lifetime,
            max_flow_in_set_lifetime: max_flow(capacity, set_lifetime),
        })
    }

    async fn read<C: alloy::sol_types::SolCall>(&self, call: &C, at: BlockRef) -> Result<C::Return, ChainError> {
        self.follower.call_sol(self.stake_manager, call, at).await
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StakeError {
    /// Retried at the next refresh.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A configuration mistake: fatal.
    #[error("invalid chain configuration: {0}")]
    Config(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_flow_is_capacity_times_one_plus_the_window_in_days() {
        let capacity = U256::from(100_000_000u64) * U256::from(10u64).pow(U256::from(18u64));
        // The devnet: 600 s of unbonding.
        assert_eq!(max_flow(capacity, 600), capacity + capacity / U256::from(144u64));
        assert_eq!(max_flow(capacity, 0), capacity);
        assert_eq!(max_flow(capacity, 86_400), capacity * U256::from(2u64));
        assert_eq!(max_flow(capacity, 7 * 86_400), capacity * U256::from(8u64));
        // Rounded down.
        assert_eq!(max_flow(U256::from(3u64), 1), U256::from(3u64));
        assert_eq!(max_flow(U256::ZERO, 600), U256::ZERO);
    }
}
