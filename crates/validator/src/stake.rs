//! What a chain's StakeManager says about this validator: the operator its signing key is
//! registered to, the outbound lanes that operator opted in to, and each lane's economic
//! security. Everything is read at the chain's agreed final block, with the RPC quorum rule.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolEvent;
use serde::{Deserialize, Serialize};
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

/// One lane's economic security, as `GET /v1/lanes` serves it. Amounts are decimal strings in
/// the smallest unit: stake in the stake manager's staking asset, capacity and flow in the
/// lane's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneSecurity {
    pub stake_manager: Address,
    /// The final block the values were read at.
    pub block: u64,
    /// When they were read (unix seconds).
    pub read_at: u64,
    /// Whether any snapshot was committed for the lane yet; if not, the figures below are zero.
    pub committed: bool,
    pub epoch: u64,
    /// Members of the current snapshot.
    pub validators: u64,
    /// Sum of the members' weights (their stake allocated to the lane).
    #[serde(with = "decimal")]
    pub total_stake: U256,
    /// Weight a quorum needs.
    #[serde(with = "decimal")]
    pub threshold: U256,
    /// The least stake any quorum that signs a forgery would lose (`laneSecurity`).
    #[serde(with = "decimal")]
    pub quorum_loss: U256,
    /// Hash of the snapshot's validator set.
    pub set_hash: B256,
    /// The set attesting now on the source lane (`getLane(lane).validatorSetHash`). Equal to
    /// `setHash` once the snapshot's set update has been queued.
    pub attesting_set_hash: B256,
    /// address(0): the chain's native coin.
    pub staking_token: Address,
    /// Whether this validator's signing key is a member of the current snapshot.
    pub in_snapshot: bool,
    /// Its weight there, if it is.
    #[serde(with = "decimal_opt")]
    pub weight: Option<U256>,
    /// The lane's token on the source chain.
    pub token: Address,
    /// The lane's outbound token-bucket capacity.
    #[serde(with = "decimal")]
    pub capacity: U256,
    /// The stake manager's unbonding period, in seconds.
    pub unbonding_period: u64,
    /// The stake manager's set lifetime, in seconds: the longest a set (honest or forging) is
    /// accepted on the destination, with its members' stake locked all that time.
    pub set_lifetime: u64,
    /// `capacity × (1 + setLifetime / 86400)`: the most that can leave over the lane while one
    /// set can sign, all of it while the signers' stake is still slashable.
    #[serde(with = "decimal")]
    pub max_flow_in_set_lifetime: U256,
}

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

mod decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let text = String::deserialize(d)?;
        U256::from_str_radix(&text, 10).map_err(serde::de::Error::custom)
    }
}

mod decimal_opt {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<U256>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_some(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| U256::from_str_radix(&text, 10).map_err(serde::de::Error::custom))
            .transpose()
    }
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

    #[test]
    fn amounts_are_decimal_strings() {
        let security = LaneSecurity {
            stake_manager: Address::repeat_byte(1),
            block: 7,
            read_at: 1,
            committed: true,
            epoch: 3,
            validators: 4,
            total_stake: U256::from(4_000u64),
            threshold: U256::from(2_667u64),
            quorum_loss: U256::from(2_667u64),
            set_hash: B256::repeat_byte(2),
            attesting_set_hash: B256::repeat_byte(2),
            staking_token: Address::ZERO,
            in_snapshot: true,
            weight: Some(U256::from(1_000u64)),
            token: Address::repeat_byte(3),
            capacity: U256::from(86_400u64),
            unbonding_period: 600,
            set_lifetime: 600,
            max_flow_in_set_lifetime: U256::from(87_000u64),
        };
        let json = serde_json::to_value(&security).expect("serialize");
        assert_eq!(json["totalStake"], "4000");
        assert_eq!(json["quorumLoss"], "2667");
        assert_eq!(json["weight"], "1000");
        assert_eq!(json["maxFlowInSetLifetime"], "87000");
        assert_eq!(json["unbondingPeriod"], 600);
        let back: LaneSecurity = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, security);
        let outsider = LaneSecurity { in_snapshot: false, weight: None, ..security };
        let json = serde_json::to_value(&outsider).expect("serialize");
        assert!(json["weight"].is_null());
        assert_eq!(serde_json::from_value::<LaneSecurity>(json).expect("deserialize"), outsider);
    }
}
