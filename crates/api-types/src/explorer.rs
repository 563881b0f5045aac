//! The public REST API of `zerobridge api` (docs/api.md): network, routes, transfers, validators,
//! health. Amounts are decimal strings of base units so that JavaScript loses no precision.

use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

/// Addresses go out EIP-55 checksummed (alloy's serde writes lowercase); they parse either way.
mod checksummed {
    use alloy_primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(address: &Address, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&address.to_checksum(None))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        Address::deserialize(d)
    }

    pub mod option {
        use alloy_primitives::Address;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(address: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
            match address {
                Some(a) => s.serialize_str(&a.to_checksum(None)),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
            Option::<Address>::deserialize(d)
        }
    }
}

/// `{ "error": "<plain words>" }` of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
}

/// `GET /v1/network`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkResponse {
    pub chains: Vec<ChainEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEntry {
    pub name: String,
    pub chain_id: u64,
    /// The RPC a browser on this machine can use.
    pub rpc_url: String,
    #[serde(with = "checksummed")]
    pub bridge: Address,
    #[serde(with = "checksummed")]
    pub route_registry: Address,
    #[serde(with = "checksummed::option")]
    pub stake_manager: Option<Address>,
}

/// `GET /v1/routes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutesResponse {
    pub routes: Vec<RouteEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    pub route_id: B256,
    pub symbol: String,
    pub status: String,
    pub decimals: Option<u8>,
    pub home: RouteEnd,
    pub remote: RouteEnd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEnd {
    pub chain: String,
    pub chain_id: u64,
    /// Unknown until the remote chain's registry has the wrapped token.
    #[serde(with = "checksummed::option")]
    pub token: Option<Address>,
}

/// `GET /v1/transfers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransfersResponse {
    pub transfers: Vec<Transfer>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Where a transfer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Sent,
    Final,
    Signed,
    Delivered,
    Held,
    Released,
    Failed,
    Refunded,
    TimedOut,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Sent => "sent",
            Stage::Final => "final",
            Stage::Signed => "signed",
            Stage::Delivered => "delivered",
            Stage::Held => "held",
            Stage::Released => "released",
            Stage::Failed => "failed",
            Stage::Refunded => "refunded",
            Stage::TimedOut => "timed_out",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        [
            Stage::Sent,
            Stage::Final,
            Stage::Signed,
            Stage::Delivered,
            Stage::Held,
            Stage::Released,
            Stage::Failed,
            Stage::Refunded,
            Stage::TimedOut,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// How many of the lane's validators signed a checkpoint covering the transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatures {
    /// Members with a verified signature covering it (a delivered transfer: those in the delivery).
    pub have: u64,
    /// The fewest members whose weight reaches the set's threshold (heaviest first).
    pub need: u64,
    /// The set's size.
    pub of: u64,
}

/// `GET /v1/transfers/{message_hash}` and each entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub message_hash: B256,
    pub route_id: Option<B256>,
    pub lane: B256,
    pub sequence: u64,
    pub from_chain: String,
    pub to_chain: String,
    #[serde(with = "checksummed")]
    pub sender: Address,
    #[serde(with = "checksummed")]
    pub recipient: Address,
    pub amount: String,
    pub stage: Stage,
    pub signatures: Option<Signatures>,
    pub source_tx: B256,
    pub destination_tx: Option<B256>,
    /// The `claimRefund` transaction on the source chain of a refunded transfer.
    pub refund_tx: Option<B256>,
    /// Unix seconds after which the destination refuses (and refunds) it; null: no deadline.
    pub deadline: Option<u64>,
    pub sent_at: u64,
    pub updated_at: u64,
    pub claimable: bool,
    pub cancellable: bool,
}

/// `economic_security` of `GET /v1/routes/{route_id}`: each lane's stake against the route's
/// security level, and the route's weakest lane (the least stake and validators of its lanes
/// against the most either lane requires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EconomicSecurity {
    /// The least stake of the route's staked lanes (base units of the staking asset).
    pub stake: Option<String>,
    pub required_stake: Option<String>,
    pub validators: Option<u64>,
    pub required_validators: Option<u64>,
    /// Every lane is staked and meets the level.
    pub met: bool,
    pub lanes: Vec<LaneSecurity>,
}

/// One lane's economic security, from its source chain's stake manager and registry. The
/// amounts are null when the source has no stake manager (a governance-configured set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneSecurity {
    pub from: String,
    pub to: String,
    pub lane: B256,
    pub asset: Option<StakeAsset>,
    /// The stake behind the committed snapshot ("0" before the first commit).
    pub stake: Option<String>,
    pub required_stake: Option<String>,
    pub validators: Option<u64>,
    pub required_validators: Option<u64>,
    /// The least stake a quorum that signs a forgery loses (net of the reporter share).
    pub quorum_loss: Option<String>,
    /// The epoch of the committed snapshot; null before the first commit.
    pub snapshot_epoch: Option<u64>,
    pub met: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeAsset {
    /// The zero address for the native coin.
    #[serde(with = "checksummed")]
    pub token: Address,
    pub symbol: String,
    pub decimals: u8,
}

/// `GET /v1/validators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorsResponse {
    /// `live` means a verified signature within this many seconds (config `live_window_secs`).
    pub live_window_secs: u64,
    pub validators: Vec<ValidatorEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorEntry {
    /// The key that signs checkpoints.
    #[serde(with = "checksummed")]
    pub signer: Address,
    /// The staking operator behind the signer; null for a governance-configured set.
    #[serde(with = "checksummed::option")]
    pub operator: Option<Address>,
    /// The operator's active bond on each chain where it stakes.
    pub stake: Vec<ChainStake>,
    /// The lanes whose committed snapshot (or, unstaked, whose deliveries) include the signer.
    pub lanes: Vec<B256>,
    /// Unix seconds of its latest verified signature seen (see docs/api.md); null: never seen.
    pub last_seen_signing: Option<u64>,
    pub live: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStake {
    pub chain: String,
    pub amount: String,
    pub symbol: String,
    pub decimals: u8,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub chains: Vec<ChainHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHealth {
    pub name: String,
    pub indexed_block: Option<u64>,
    pub head: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_round_trip_through_their_wire_names() {
        for stage in [Stage::Sent, Stage::Delivered, Stage::TimedOut] {
            let json = serde_json::to_string(&stage).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", stage.as_str()));
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
        }
        assert_eq!(Stage::parse("lost"), None);
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn addresses_are_written_checksummed_and_read_back() {
        let token: Address = "0x67d269191c92caf3cd7723f116c85e6e9bf55933".parse().unwrap_or_default();
        let end = RouteEnd { chain: "ethereum".into(), chain_id: 1, token: Some(token) };
        let json = serde_json::to_string(&end).unwrap_or_default();
        assert!(json.contains("0x67d269191c92Caf3cD7723F116c85e6E9bf55933"), "{json}");
        let back: RouteEnd = serde_json::from_str(&json).unwrap_or_else(|_| RouteEnd { token: None, ..end.clone() });
        assert_eq!(back, end);
    }
}
