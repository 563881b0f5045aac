//! A chain's stake manager: its staking asset, its configuration, and the reads every stake
//! command (and `route`, `doctor`, `slash`) makes of it.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::BlockNumberOrTag;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_protocol::validator_set::{Member, NEVER_EXPIRES, ValidatorSet};

use crate::context::IERC20Token;
use crate::context::{Conn, Context, looks_unreachable, unreachable_chain};
use crate::format::{format_amount, format_utc, format_wait, one_line};

/// `LaneDirection` as the contracts number it.
pub const OUTBOUND: u8 = 1;
pub const INBOUND: u8 = 2;
/// `RouteStatus.Pending`: while a route is Pending its snapshot may be re-committed at any time.
pub const PENDING: u8 = 1;
pub const BPS: u64 = 10_000;

/// The staking asset: the native coin (token zero) or an ERC-20.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub token: Address,
    pub symbol: String,
    pub decimals: u8,
}

impl Asset {
    /// "1000 ETH".
    pub fn fmt(&self, amount: U256) -> String {
        format!("{} {}", format_amount(amount, self.decimals), self.symbol)
    }

    pub fn native(&self) -> bool {
        self.token == Address::ZERO
    }
}

/// The native coin's usual symbol on well-known chains; a label otherwise.
fn native_symbol(chain_id: u64) -> &'static str {
    match chain_id {
        1 | 10 | 8453 | 42161 | 11155111 | 17000 | 31337 => "ETH",
        56 | 97 => "BNB",
        137 | 80002 => "POL",
        43114 => "AVAX",
        _ => "native coin",
    }
}

/// The immutable configuration of a stake manager.
#[derive(Debug, Clone)]
pub struct StakeConfig {
    pub min_stake: U256,
    pub epoch_length: u64,
    pub unbonding_period: u64,
    /// How long a set's signatures stay provable after the set expired (stake stays locked that
    /// long), and the delay before a reporter may claim its share.
    pub detection_window: u64,
    /// How long a committed set stays valid on the destination.
    pub set_lifetime: u64,
    pub genesis: u64,
    pub slash_bps: u16,
    pub reporter_share_bps: u16,
    pub max_validators: u16,
}

/// A chain's stake manager, with a read-only provider.
#[derive(Clone)]
pub struct Staking {
    pub conn: Conn,
    pub address: Address,
    pub asset: Asset,
    pub config: StakeConfig,
}

/// The chain's stake manager: the network's `stakeManager`, else the registry's `stakeManager()`.
/// None when the chain's validator sets are configured by governance instead.
pub async fn stake_manager_address(conn: &Conn) -> Result<Option<Address>> {
    if let Some(address) = conn.info.stake_manager {
        return Ok(Some(address));
    }
    match conn.registry().stakeManager().call().await {
        Ok(address) => Ok((address != Address::ZERO).then_some(address)),
        // A registry from before shared security has no stakeManager(): governance sets.
        Err(e) if !looks_unreachable(&e.to_string()) => Ok(None),
        Err(e) => Err(conn.read_err("the registry's stakeManager()", e)),
    }
}

impl Staking {
    /// Connects to `conn`'s stake manager, or explains that the chain has none.
    pub async fn open(conn: &Conn) -> Result<Staking> {
        Staking::try_open(conn).await?.ok_or_else(|| {
            eyre!(
                "{} has no stake manager (its validator sets are configured by governance): stake on a staked \
                 chain, or add its stakeManager address to the chain's entry in the network file",
                conn.info.name
            )
        })
    }

    pub async fn try_open(conn: &Conn) -> Result<Option<Staking>> {
        let Some(address) = stake_manager_address(conn).await? else {
            return Ok(None);
        };
        let sm = StakeManager::new(address, conn.provider.clone());
        let read = |what: &'static str| move |e: alloy::contract::Error| conn.read_err(what, e);
        let token = sm.stakingToken().call().await.map_err(|e| {
            let text = e.to_string();
            if looks_unreachable(&text) {
                unreachable_chain(&conn.info, &text)
            } else {
                eyre!(
                    "{address} on {} does not answer as a stake manager ({}): check stakeManager in the network file",
                    conn.info.name,
                    one_line(&text)
                )
            }
        })?;
        let asset = if token == Address::ZERO {
            Asset { token, symbol: native_symbol(conn.info.chain_id).to_string(), decimals: 18 }
        } else {
            let erc20 = IERC20Token::new(token, conn.provider.clone());
            let decimals = erc20.decimals().call().await.map_err(read("the staking token's decimals()"))?;
            let symbol = erc20.symbol().call().await.unwrap_or_else(|_| format!("token {token}"));
            Asset { token, symbol, decimals }
        };
        let config = StakeConfig {
            min_stake: sm.minStake().call().await.map_err(read("minStake"))?,
            epoch_length: sm.epochLength().call().await.map_err(read("epochLength"))?,
            unbonding_period: sm.unbondingPeriod().call().await.map_err(read("unbondingPeriod"))?,
            detection_window: sm.detectionWindow().call().await.map_err(read("detectionWindow"))?,
            set_lifetime: sm.setLifetime().call().await.map_err(read("setLifetime"))?,
            genesis: sm.genesis().call().await.map_err(read("genesis"))?,
            slash_bps: sm.slashBps().call().await.map_err(read("slashBps"))?,
            reporter_share_bps: sm.reporterShareBps().call().await.map_err(read("reporterShareBps"))?,
            max_validators: sm.maxValidatorsPerLane().call().await.map_err(read("maxValidatorsPerLane"))?,
        };
        Ok(Some(Staking { conn: conn.clone(), address, asset, config }))
    }

    pub fn sm(&self) -> StakeManager::StakeManagerInstance<DynProvider> {
        StakeManager::new(self.address, self.conn.provider.clone())
    }

    pub fn on(&self) -> &str {
        &self.conn.info.name
    }

    pub async fn operator(&self, operator: Address) -> Result<StakeManager::Operator> {
        self.sm().getOperator(operator).call().await.map_err(|e| self.conn.read_err("getOperator", e))
    }

    pub async fn snapshot(&self, lane: B256) -> Result<StakeManager::Snapshot> {
        self.sm().getSnapshot(lane).call().await.map_err(|e| self.conn.read_err("getSnapshot", e))
    }

    /// The bridge's view of a lane on this chain.
    pub async fn lane(&self, lane: B256) -> Result<ZeroBridge::Lane> {
        self.conn.bridge().getLane(lane).call().await.map_err(|e| self.conn.read_err("the lane", e))
    }

    /// The lane, checked to be an outbound lane of this chain (the only lanes stake here secures).
    pub(crate) async fn outbound_lane(&self, ctx: &Context, lane: B256) -> Result<ZeroBridge::Lane> {
        let state = self.lane(lane).await?;
        match state.direction {
            OUTBOUND => Ok(state),
            INBOUND => {
                let source = ctx
                    .network
                    .routes
                    .iter()
                    .find(|r| r.route_id == state.routeId)
                    .map(|r| if r.home == self.conn.info.name { r.remote.clone() } else { r.home.clone() });
                let fix = match source {
                    Some(source) => format!("use --chain {source}"),
                    None => "use the chain it comes from as --chain".to_string(),
                };
                bail!(
                    "lane {lane} is an inbound lane on {} (not an outbound lane of this chain): stake secures a lane \
                     on its source chain; {fix}",
                    self.on()
                )
            }
            _ => bail!(
                "unknown lane {lane} on {}: no such lane on its bridge; see `zerobridge route status <route>` for the \
                 lane ids",
                self.on()
            ),
        }
    }

    pub fn current_epoch(&self, now: u64) -> u64 {
        now.saturating_sub(self.config.genesis) / self.config.epoch_length.max(1)
    }

    /// When epoch `epoch` starts (unix seconds).
    pub fn epoch_start(&self, epoch: u64) -> u64 {
        self.config.genesis.saturating_add(epoch.saturating_mul(self.config.epoch_length))
    }
}

/// The latest block's timestamp: the chain's clock, which every time check on chain uses.
pub async fn chain_now(conn: &Conn) -> Result<u64> {
    let block = conn
        .provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(|e| conn.read_err("the latest block", e))?
        .ok_or_else(|| eyre!("{} returned no latest block", conn.info.name))?;
    Ok(block.header.timestamp)
}

/// "at 2026-01-31 23:59:59 UTC (in 8 min)", or "now", relative to the chain's clock.
pub fn when(at: u64, now: u64) -> String {
    if at <= now { "now".to_string() } else { format!("at {} (in {})", format_utc(at), format_wait(at - now)) }
}

/// When the destination stops accepting `set`, on the chain's clock.
pub fn expiry_text(set: &ValidatorSet, now: u64) -> String {
    if set.valid_until == NEVER_EXPIRES {
        "never (a governance-configured set)".to_string()
    } else if set.expired_at(now) {
        format!("EXPIRED at {}: the destination refuses the set's signatures", format_utc(set.valid_until))
    } else {
        format!(
            "the destination accepts the set until {} (in {})",
            format_utc(set.valid_until),
            format_wait(set.valid_until - now)
        )
    }
}

/// Basis points as a percentage: 6000 -> "60%", 6667 -> "66.67%".
pub fn bps_percent(bps: u16) -> String {
    if bps.is_multiple_of(100) { format!("{}%", bps / 100) } else { format!("{}.{:02}%", bps / 100, bps % 100) }
}

/// A uint96 from the bindings as U256.
pub fn u96(value: alloy::primitives::aliases::U96) -> U256 {
    U256::from(value)
}

/// The set a snapshot encodes (threshold ‖ validUntil ‖ (signer ‖ weight)*), as the bridge
/// stores it.
pub fn snapshot_set(snapshot: &StakeManager::Snapshot) -> Result<ValidatorSet> {
    let members =
        snapshot.members.iter().map(|m| Member { signer: m.signer, weight: u96(m.weight).to::<u128>() }).collect();
    let set =
        ValidatorSet { threshold: u96(snapshot.threshold).to::<u128>(), valid_until: snapshot.validUntil, members };
    set.validate().map_err(|e| eyre!("the stake snapshot does not form a valid set: {e}"))?;
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_format_in_their_decimals() {
        let eth = Asset { token: Address::ZERO, symbol: "ETH".into(), decimals: 18 };
        assert_eq!(eth.fmt(U256::from(1_500_000_000_000_000_000u128)), "1.5 ETH");
        let usdc = Asset { token: Address::repeat_byte(1), symbol: "USDC".into(), decimals: 6 };
        assert_eq!(usdc.fmt(U256::from(2_000_000u64)), "2 USDC");
        assert_eq!(native_symbol(56), "BNB");
        assert_eq!(native_symbol(999_999), "native coin");
    }

    #[test]
    fn snapshots_encode_as_the_bridge_set() {
        use alloy::primitives::aliases::U96;
        let weight = U96::from(1_000u64);
        let members: Vec<StakeManager::Member> = (1..=4)
            .map(|i| StakeManager::Member {
                operator: Address::repeat_byte(0x10 + i),
                signer: Address::repeat_byte(i),
                weight,
            })
            .collect();
        let snapshot = StakeManager::Snapshot {
            committed: true,
            epoch: 3,
            validUntil: 1_700_086_400,
            threshold: U96::from(2_667u64),
            totalWeight: U96::from(4_000u64),
            setHash: B256::ZERO,
            members,
        };
        let set = snapshot_set(&snapshot).expect("valid");
        assert_eq!(set.threshold, 2_667);
        assert_eq!(set.valid_until, 1_700_086_400, "the snapshot's expiry is the set's");
        assert_eq!(set.members.len(), 4);
        assert_eq!(ValidatorSet::decode(&set.encode()).expect("decodes"), set);
        assert!(expiry_text(&set, 1_700_000_000).contains("until 2023-11-15 22:13:20 UTC (in 24 h)"));
        assert!(expiry_text(&set, 1_700_086_400).starts_with("EXPIRED"));
    }

    #[test]
    fn shares_print_as_percentages() {
        assert_eq!(bps_percent(6000), "60%");
        assert_eq!(bps_percent(6667), "66.67%");
        assert_eq!(bps_percent(5), "0.05%");
    }
}
