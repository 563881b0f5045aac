//! The validator's HTTP API under `/v1`, as served by `zb-validator` and parsed by its clients
//! (the relayer, the end-to-end harness). Plain data: serde and alloy primitives, no I/O.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

/// A signed checkpoint as served to relayers. `signature` is 65 bytes: r ‖ s ‖ v (27/28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointResponse {
    pub lane: B256,
    pub sequence: u64,
    pub accumulator: B256,
    pub signer: Address,
    pub signature: Bytes,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoResponse {
    pub signer: Address,
    pub public_url: Option<String>,
    /// `primary`, or `fallback`: signs only on request, once a message is `fallbackDelaySecs` old.
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub fallback_delay_secs: Option<u64>,
    /// Every lane secured now: configured, opted in to, or leaving.
    pub lanes: Vec<LaneStatus>,
    /// One entry per chain with a `stake_manager`.
    #[serde(default)]
    pub stake: Vec<StakeStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneStatus {
    pub lane: B256,
    pub source: String,
    pub observed: u64,
    /// Why the lane (from some sequence on) or its source chain is halted.
    pub halted: Option<String>,
    /// `active`, or `leaving`: opted out, only the hand-over set update is still signed.
    #[serde(default)]
    pub status: LaneState,
    /// Listed in `[[lanes]]`.
    #[serde(default)]
    pub configured: bool,
    /// In the operator's opt-ins on the source chain's stake manager, at the last read.
    #[serde(default)]
    pub opted_in: bool,
    /// For a leaving lane: the height observed at the opt-out. Later sequences are not signed,
    /// except validator-set updates.
    #[serde(default)]
    pub leaving_since: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaneState {
    #[default]
    Active,
    Leaving,
}

/// What one chain's stake manager said at the last read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StakeStatus {
    pub chain: String,
    pub stake_manager: Address,
    /// The operator this validator's signing key is registered to; null if it is not (or if the
    /// stake manager was not read yet: then `block` is null too).
    pub operator: Option<Address>,
    /// The lanes the operator opted in to.
    pub opted_in: Vec<B256>,
    /// The final block of the last successful read, and when it happened (unix seconds).
    pub block: Option<u64>,
    pub read_at: Option<u64>,
    /// The last read's failure, cleared by a successful one.
    pub last_error: Option<String>,
}

/// `GET /v1/lanes`: each secured lane with its economic security.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LanesResponse {
    pub signer: Address,
    pub lanes: Vec<LaneSecurityStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneSecurityStatus {
    #[serde(flatten)]
    pub status: LaneStatus,
    /// Read from the source chain's stake manager at every refresh. Null when the source chain
    /// has no `stake_manager`, before the first read, or when the read failed (`securityError`).
    pub security: Option<LaneSecurity>,
    pub security_error: Option<String>,
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

/// A validator's role (`role` in its config file, `role` in `/v1/info`): `primary` signs every new
/// head; `fallback` signs only on request, once a message has waited out `fallback_delay_secs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Primary,
    Fallback,
}

mod decimal {
    use alloy_primitives::U256;
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
    use alloy_primitives::U256;
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
