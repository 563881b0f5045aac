//! Operator commands for shared security (docs/security-model.md): `zerobridge stake register |
//! deposit | opt-in | opt-out | unbond | withdraw | claim | commit | status`.
//!
//! Each chain's StakeManager secures the lanes whose source is that chain: an operator bonds stake
//! there, registers the key its validator signs checkpoints with, and allocates the stake to any
//! number of that chain's outbound lanes. Each epoch anyone commits a lane's snapshot (the top
//! operators by allocated stake, weight = stake), which becomes the lane's validator set.
//!
//! Keys and network are chosen as for `route`: `--private-key-env` / `--keystore`, or on the devnet
//! `--operator N` (the manifest's account `operator-N`); `--network FILE` or the devnet manifest.
//! Registering also needs the validator's signing key, which signs a proof of possession (the
//! stake manager's `signerRegistrationDigest(operator)`): `--signer-keystore FILE` (the keystore
//! and password the validator runs with) or `--signer-key-env VAR`.
//! Everything the contract would refuse is checked first and refused in one line with the fix.
//!
//! Stake that weighs in a committed validator set stays bonded until that set's expiry plus the
//! detection window (`lockedStake`: the largest such weight, until the last such end; the stake
//! manager keeps it in two lock periods): `withdraw` pays only the part above it (`withdrawable`).

use alloy::network::EthereumWallet;
use alloy::primitives::Bytes;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::rpc::types::{BlockNumberOrTag, TransactionReceipt};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use std::path::PathBuf;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_protocol::validator_set::{Member, NEVER_EXPIRES, ValidatorSet};

use crate::context::{
    Conn, Context, KeyArgs, NetworkArgs, load_signer, looks_unreachable, signer_from_env, transact_explained,
    unreachable_chain,
};
use crate::explain::{bridge_error, status_name};
use crate::format::{format_amount, one_line, parse_amount};
use crate::format::{format_utc, format_wait};
use crate::network::ChainInfo;
use crate::slash::from_block;
use crate::transfer::scan_logs;

/// `LaneDirection` as the contracts number it.
pub(crate) const OUTBOUND: u8 = 1;
pub(crate) const INBOUND: u8 = 2;
/// `RouteStatus.Pending`: while a route is Pending its snapshot may be re-committed at any time.
const PENDING: u8 = 1;
const BPS: u64 = 10_000;

alloy::sol! {
    /// The staking token, when it is an ERC-20 (deposit approves it), and lane tokens (rewards).
    #[sol(rpc)]
    interface IStakeToken {
        function symbol() external view returns (string);
        function decimals() external view returns (uint8);
        function balanceOf(address owner) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
    }
}

// ------------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------------

/// `zerobridge stake ...`
#[derive(Debug, clap::Subcommand)]
pub enum StakeCommand {
    /// Register as an operator with the key your validator signs checkpoints with (it signs a
    /// proof of possession: pass the validator's keystore as --signer-keystore).
    Register(RegisterArgs),
    /// Bond stake (the chain's native coin, or its staking token); --signer-keystore (or
    /// --signer-key-env) registers first.
    Deposit(DepositArgs),
    /// Allocate stake to an outbound lane of this chain (counts from the next snapshot).
    OptIn(OptInArgs),
    /// Withdraw your allocation from a lane (from the next snapshot on).
    OptOut(OptOutArgs),
    /// Start unbonding stake: it leaves every lane at the next snapshot, withdrawable after the
    /// unbonding period, except what still backs a validator set (until that set expires plus
    /// the detection window).
    Unbond(UnbondArgs),
    /// Pay out unbonding stake once the unbonding period is over and no unexpired set needs it.
    Withdraw(OperatorArgs),
    /// Claim validator rewards (in lane tokens) and your reporter payouts from slashes (each
    /// evidence's share unlocks one detection window after its proof).
    Claim(OperatorArgs),
    /// Commit a lane's next snapshot: its validator set for the coming epoch (anyone may).
    Commit(CommitArgs),
    /// Operators (stake, unbonding, owed, jailed, lanes, rewards) and lane snapshots.
    Status(StatusArgs),
}

/// Which chain's stake manager.
#[derive(Debug, Clone, clap::Args)]
pub struct ChainArg {
    /// Chain name or id: the source chain of the lanes the stake secures.
    #[arg(long)]
    pub chain: String,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// The operator's key.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OperatorKey {
    /// Devnet: act as the manifest's operator N (account "operator-N").
    #[arg(long, value_name = "N", conflicts_with_all = ["private_key_env", "keystore"])]
    pub operator: Option<usize>,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// A lane of this chain: by route (its outbound lane from --chain) or by id.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LaneArg {
    /// The route (symbol or route id): its lane whose source is --chain.
    #[arg(long, conflicts_with = "lane", required_unless_present = "lane")]
    pub route: Option<String>,
    /// The lane id.
    #[arg(long)]
    pub lane: Option<B256>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OperatorArgs {
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

/// The validator's checkpoint-signing key. Registering proves that the operator holds it: the key
/// signs the stake manager's `signerRegistrationDigest(operator)` (EIP-712), so nobody can
/// register a key that is not theirs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SignerKeyArgs {
    /// The validator's keystore (its `keystore` setting): it signs the proof of possession.
    #[arg(long, value_name = "FILE", conflicts_with = "signer_key_env")]
    pub signer_keystore: Option<PathBuf>,
    /// File holding that keystore's password (the validator's `password_file`)...
    #[arg(long, value_name = "FILE", requires = "signer_keystore")]
    pub signer_password_file: Option<PathBuf>,
    /// ...or the environment variable holding it (the validator's `password_env`).
    #[arg(long, value_name = "VAR", default_value = "ZB_KEYSTORE_PASSWORD")]
    pub signer_password_env: String,
    /// Instead of a keystore: environment variable holding the signing key in hex.
    #[arg(long, value_name = "VAR")]
    pub signer_key_env: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RegisterArgs {
    /// The address your validator signs checkpoints with (not the operator key). Optional: it is
    /// the signing key's address; when given, it must match.
    #[arg(long, value_name = "ADDRESS")]
    pub signer: Option<Address>,
    #[command(flatten)]
    pub signing: SignerKeyArgs,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DepositArgs {
    /// How much to bond, in whole coins of the staking asset (e.g. 32 or 0.5).
    #[arg(long)]
    pub amount: String,
    /// Register first with this checkpoint-signing address, if not registered yet (its key,
    /// --signer-keystore or --signer-key-env, signs the proof of possession).
    #[arg(long, value_name = "ADDRESS")]
    pub signer: Option<Address>,
    #[command(flatten)]
    pub signing: SignerKeyArgs,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OptInArgs {
    #[command(flatten)]
    pub lane: LaneArg,
    /// Stake to allocate (replaces an earlier allocation). Default: all your active stake.
    #[arg(long)]
    pub amount: Option<String>,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OptOutArgs {
    #[command(flatten)]
    pub lane: LaneArg,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct UnbondArgs {
    /// How much to unbond, in whole coins, or "all" (all active stake).
    #[arg(long)]
    pub amount: String,
    #[command(flatten)]
    pub chain: ChainArg,
    #[command(flatten)]
    pub key: OperatorKey,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CommitArgs {
    #[command(flatten)]
    pub lane: LaneArg,
    #[command(flatten)]
    pub chain: ChainArg,
    /// Who pays (anyone may commit); the devnet deployer by default.
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// Chain name or id. Default: every chain with a stake manager.
    #[arg(long)]
    pub chain: Option<String>,
    /// Show this operator only (its address).
    #[arg(long, value_name = "ADDRESS", conflicts_with = "operator")]
    pub address: Option<Address>,
    /// Devnet: show the manifest's operator N only.
    #[arg(long, value_name = "N")]
    pub operator: Option<usize>,
    /// Show this route's lane(s) and their candidates only.
    #[arg(long, conflicts_with = "lane")]
    pub route: Option<String>,
    /// Show this lane and its candidates only.
    #[arg(long)]
    pub lane: Option<B256>,
    #[command(flatten)]
    pub network: NetworkArgs,
}

pub async fn run(command: StakeCommand) -> Result<()> {
    match command {
        StakeCommand::Register(args) => register(args).await,
        StakeCommand::Deposit(args) => deposit(args).await,
        StakeCommand::OptIn(args) => opt_in(args).await,
        StakeCommand::OptOut(args) => opt_out(args).await,
        StakeCommand::Unbond(args) => unbond(args).await,
        StakeCommand::Withdraw(args) => withdraw(args).await,
        StakeCommand::Claim(args) => claim(args).await,
        StakeCommand::Commit(args) => commit(args).await,
        StakeCommand::Status(args) => status(args).await,
    }
}

// ------------------------------------------------------------------------------------------
// The stake manager of a chain
// ------------------------------------------------------------------------------------------

/// The staking asset: the native coin (token zero) or an ERC-20.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asset {
    pub(crate) token: Address,
    pub(crate) symbol: String,
    pub(crate) decimals: u8,
}

impl Asset {
    /// "1000 ETH".
    pub(crate) fn fmt(&self, amount: U256) -> String {
        format!("{} {}", format_amount(amount, self.decimals), self.symbol)
    }

    fn native(&self) -> bool {
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
pub(crate) struct StakeConfig {
    pub(crate) min_stake: U256,
    pub(crate) epoch_length: u64,
    pub(crate) unbonding_period: u64,
    /// How long a set's signatures stay provable after the set expired (stake stays locked that
    /// long), and the delay before a reporter may claim its share.
    pub(crate) detection_window: u64,
    /// How long a committed set stays valid on the destination.
    pub(crate) set_lifetime: u64,
    pub(crate) genesis: u64,
    pub(crate) slash_bps: u16,
    pub(crate) reporter_share_bps: u16,
    pub(crate) max_validators: u16,
}

/// A chain's stake manager, with a read-only provider.
#[derive(Clone)]
pub(crate) struct Staking {
    pub(crate) conn: Conn,
    pub(crate) address: Address,
    pub(crate) asset: Asset,
    pub(crate) config: StakeConfig,
}

/// The chain's stake manager: the network's `stakeManager`, else the registry's `stakeManager()`.
/// None when the chain's validator sets are configured by governance instead.
pub(crate) async fn stake_manager_address(conn: &Conn) -> Result<Option<Address>> {
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
    pub(crate) async fn open(conn: &Conn) -> Result<Staking> {
        Staking::try_open(conn).await?.ok_or_else(|| {
            eyre!(
                "{} has no stake manager (its validator sets are configured by governance): stake on a staked \
                 chain, or add its stakeManager address to the chain's entry in the network file",
                conn.info.name
            )
        })
    }

    pub(crate) async fn try_open(conn: &Conn) -> Result<Option<Staking>> {
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
            let erc20 = IStakeToken::new(token, conn.provider.clone());
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

    pub(crate) fn sm(&self) -> StakeManager::StakeManagerInstance<DynProvider> {
        StakeManager::new(self.address, self.conn.provider.clone())
    }

    fn on(&self) -> &str {
        &self.conn.info.name
    }

    pub(crate) async fn operator(&self, operator: Address) -> Result<StakeManager::Operator> {
        self.sm().getOperator(operator).call().await.map_err(|e| self.conn.read_err("getOperator", e))
    }

    pub(crate) async fn snapshot(&self, lane: B256) -> Result<StakeManager::Snapshot> {
        self.sm().getSnapshot(lane).call().await.map_err(|e| self.conn.read_err("getSnapshot", e))
    }

    /// The bridge's view of a lane on this chain.
    pub(crate) async fn lane(&self, lane: B256) -> Result<ZeroBridge::Lane> {
        self.conn.bridge().getLane(lane).call().await.map_err(|e| self.conn.read_err("the lane", e))
    }

    /// The lane, checked to be an outbound lane of this chain (the only lanes stake here secures).
    async fn outbound_lane(&self, ctx: &Context, lane: B256) -> Result<ZeroBridge::Lane> {
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

    pub(crate) fn current_epoch(&self, now: u64) -> u64 {
        now.saturating_sub(self.config.genesis) / self.config.epoch_length.max(1)
    }

    /// When epoch `epoch` starts (unix seconds).
    pub(crate) fn epoch_start(&self, epoch: u64) -> u64 {
        self.config.genesis.saturating_add(epoch.saturating_mul(self.config.epoch_length))
    }
}

/// The latest block's timestamp: the chain's clock, which every time check on chain uses.
pub(crate) async fn chain_now(conn: &Conn) -> Result<u64> {
    let block = conn
        .provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(|e| conn.read_err("the latest block", e))?
        .ok_or_else(|| eyre!("{} returned no latest block", conn.info.name))?;
    Ok(block.header.timestamp)
}

/// "at 2026-01-31 23:59:59 UTC (in 8 min)", or "now", relative to the chain's clock.
fn when(at: u64, now: u64) -> String {
    if at <= now { "now".to_string() } else { format!("at {} (in {})", format_utc(at), format_wait(at - now)) }
}

/// When the destination stops accepting `set`, on the chain's clock.
pub(crate) fn expiry_text(set: &ValidatorSet, now: u64) -> String {
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
pub(crate) fn bps_percent(bps: u16) -> String {
    if bps.is_multiple_of(100) { format!("{}%", bps / 100) } else { format!("{}.{:02}%", bps / 100, bps % 100) }
}

/// A uint96 from the bindings as U256.
fn u96(value: alloy::primitives::aliases::U96) -> U256 {
    U256::from(value)
}

/// The set a snapshot encodes (threshold ‖ validUntil ‖ (signer ‖ weight)*), as the bridge
/// stores it.
pub(crate) fn snapshot_set(snapshot: &StakeManager::Snapshot) -> Result<ValidatorSet> {
    let members =
        snapshot.members.iter().map(|m| Member { signer: m.signer, weight: u96(m.weight).to::<u128>() }).collect();
    let set =
        ValidatorSet { threshold: u96(snapshot.threshold).to::<u128>(), valid_until: snapshot.validUntil, members };
    set.validate().map_err(|e| eyre!("the stake snapshot does not form a valid set: {e}"))?;
    Ok(set)
}

// ------------------------------------------------------------------------------------------
// Keys, chains, lanes
// ------------------------------------------------------------------------------------------

/// The operator key: `--operator N` (devnet), `--private-key-env`, `--keystore`.
fn operator_signer(key: &OperatorKey, ctx: &Context) -> Result<PrivateKeySigner> {
    if let Some(n) = key.operator {
        return devnet_operator(ctx, n);
    }
    // On the devnet the default key is the deployer's, never an operator's: make the choice explicit.
    if key.key.private_key_env.is_none()
        && key.key.keystore.is_none()
        && let Some(manifest) = &ctx.manifest
    {
        let count = manifest.accounts.iter().filter(|a| a.role.starts_with("operator-")).count();
        bail!(
            "which operator? pass --operator N (the devnet has operators 0 to {}) or --private-key-env VAR with the \
             operator's key",
            count.saturating_sub(1)
        );
    }
    load_signer(&key.key, ctx)
}

fn devnet_operator(ctx: &Context, n: usize) -> Result<PrivateKeySigner> {
    let Some(manifest) = &ctx.manifest else {
        bail!("--operator N picks a devnet operator key: on real chains pass --private-key-env VAR or --keystore FILE");
    };
    let role = format!("operator-{n}");
    let account = manifest.account(&role).ok_or_else(|| {
        let count = manifest.accounts.iter().filter(|a| a.role.starts_with("operator-")).count();
        if count == 0 {
            eyre!("the devnet manifest has no operator accounts: restart the devnet (`zerobridge devnet up`)")
        } else {
            eyre!("the devnet has operators 0 to {}, not {n}: pass --operator 0..{}", count - 1, count - 1)
        }
    })?;
    PrivateKeySigner::from_bytes(&account.private_key).map_err(|e| eyre!("the devnet's {role} key is invalid ({e})"))
}

/// The devnet operator name of an address, for display.
fn devnet_role(ctx: &Context, address: Address) -> Option<String> {
    ctx.manifest
        .as_ref()?
        .accounts
        .iter()
        .find(|a| a.address == address && a.role.starts_with("operator-"))
        .map(|a| a.role.clone())
}

async fn open_chain(args: &ChainArg) -> Result<(Context, Staking)> {
    let ctx = Context::load(&args.network)?;
    let info = ctx.network.chain(&args.chain)?.clone();
    let conn = Conn::connect(&info).await?;
    let staking = Staking::open(&conn).await?;
    Ok((ctx, staking))
}

/// [`open_chain`] for an operator command: the key is resolved first, so a wrong key choice is
/// refused before any chain is asked.
async fn open_as(args: &ChainArg, key: &OperatorKey) -> Result<(Context, Staking, PrivateKeySigner)> {
    let ctx = Context::load(&args.network)?;
    let signer = operator_signer(key, &ctx)?;
    let info = ctx.network.chain(&args.chain)?.clone();
    let conn = Conn::connect(&info).await?;
    let staking = Staking::open(&conn).await?;
    Ok((ctx, staking, signer))
}

/// `--route` / `--lane` on `chain`: the lane whose source is `chain`.
pub(crate) async fn resolve_lane(ctx: &Context, conn: &Conn, arg: &LaneArg) -> Result<B256> {
    if let Some(lane) = arg.lane {
        return Ok(lane);
    }
    let Some(wanted) = arg.route.as_deref().map(str::trim) else {
        bail!("name the lane: --route SYMBOL or --lane 0x...");
    };
    let chain = &conn.info.name;
    let by_symbol = ctx
        .network
        .routes
        .iter()
        .find(|r| r.symbol.eq_ignore_ascii_case(wanted) || wanted.parse::<B256>().is_ok_and(|id| id == r.route_id));
    if let Some(route) = by_symbol {
        let other = if &route.home == chain {
            &route.remote
        } else if &route.remote == chain {
            &route.home
        } else {
            bail!(
                "route {} is between {} and {}, not on {chain}: pass --chain {} or --chain {}",
                route.symbol,
                route.home,
                route.remote,
                route.home,
                route.remote
            );
        };
        return Ok(ctx.network.leg(chain, other, &route.symbol)?.lane);
    }
    let Ok(route_id) = wanted.parse::<B256>() else {
        let known: Vec<&str> = ctx.network.routes.iter().map(|r| r.symbol.as_str()).collect();
        bail!(
            "no route '{wanted}' in the network (routes: {}): pass its symbol, its route id, or --lane",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        );
    };
    let route = conn.bridge().getRoute(route_id).call().await.map_err(|e| conn.read_err("the route", e))?;
    if route.outboundLane == B256::ZERO {
        bail!("route {route_id} is not open on {chain}: see `zerobridge route list`");
    }
    Ok(route.outboundLane)
}

/// "DEMO ethereum -> bsc" for a lane the network knows.
pub(crate) fn lane_label(ctx: &Context, lane: B256) -> Option<String> {
    if let Some(manifest) = &ctx.manifest
        && let Some(l) = manifest.lanes.iter().find(|l| l.lane == lane)
    {
        let symbol = ctx.network.routes.iter().find(|r| r.route_id == l.route_id).map_or("?", |r| r.symbol.as_str());
        return Some(format!("{symbol} {} -> {}", l.source, l.destination));
    }
    for route in &ctx.network.routes {
        for (from, to) in [(&route.home, &route.remote), (&route.remote, &route.home)] {
            if let Ok(leg) = ctx.network.leg(from, to, &route.symbol)
                && leg.lane == lane
            {
                return Some(format!("{} {from} -> {to}", route.symbol));
            }
        }
    }
    None
}

pub(crate) fn labelled(ctx: &Context, lane: B256) -> String {
    match lane_label(ctx, lane) {
        Some(label) => format!("{lane} ({label})"),
        None => lane.to_string(),
    }
}

/// The outbound lanes of `chain` that the network knows (its routes).
pub(crate) fn known_outbound_lanes(ctx: &Context, chain: &ChainInfo) -> Vec<B256> {
    let mut lanes = Vec::new();
    for route in &ctx.network.routes {
        let other = if route.home == chain.name {
            &route.remote
        } else if route.remote == chain.name {
            &route.home
        } else {
            continue;
        };
        if let Ok(leg) = ctx.network.leg(&chain.name, other, &route.symbol)
            && !lanes.contains(&leg.lane)
        {
            lanes.push(leg.lane);
        }
    }
    lanes
}

// ------------------------------------------------------------------------------------------
// Transactions and revert reasons
// ------------------------------------------------------------------------------------------

pub(crate) async fn transact<P, D>(
    call: alloy::contract::CallBuilder<P, D>,
    what: &str,
    chain: &ChainInfo,
) -> Result<TransactionReceipt>
where
    P: Provider,
    D: alloy::contract::CallDecoder,
{
    transact_explained(call, what, chain, explain).await
}

/// One line for a refused stake-manager call. Amounts in reverts are in the staking asset's
/// units, shown with 18 decimals (the commands check amounts first, in the asset's decimals).
pub(crate) fn explain(err: &alloy::contract::Error, what: &str, chain: &ChainInfo) -> eyre::Report {
    use StakeManager::StakeManagerErrors as S;
    use ZeroBridge::ZeroBridgeErrors as Z;
    let on = &chain.name;
    let coins = |v: U256| format_amount(v, 18);
    if let Some(e) = err.as_decoded_interface_error::<S>() {
        let text = match e {
            S::AlreadyRegistered(e) => {
                format!("{} is already a registered operator on {on}", e.operator)
            }
            S::NotRegistered(e) => format!(
                "{} is not a registered operator on {on}: register with `zerobridge stake register --signer-keystore \
                 FILE` (your validator's keystore; or `stake deposit --signer-keystore FILE`)",
                e.operator
            ),
            S::SignerProofInvalid(e) => format!(
                "the proof of possession does not come from signer {}: it must be that key's signature over the stake \
                 manager's signerRegistrationDigest(operator) on {on}; pass the validator's own keystore as \
                 --signer-keystore",
                e.signer
            ),
            S::InvalidSigner(e) => format!(
                "signer {} cannot be used: it must be non-zero, differ from the operator key and not belong to another \
                 operator",
                e.signer
            ),
            S::ZeroAmount(_) => "the amount is zero: pass a positive --amount".to_string(),
            S::WrongValue(e) => format!("sent {} with the call, which does not match the amount", coins(e.sent)),
            S::StakeAboveMaximum(e) => format!("a bond of {} is above the per-operator maximum", coins(e.stake)),
            S::InsufficientStake(e) => format!(
                "insufficient stake: {} asked for but only {} active: deposit more or lower --amount",
                coins(e.requested),
                coins(e.active)
            ),
            S::NotAnOutboundLane(e) => format!("lane {} is not an outbound lane of {on}: use its source chain", e.lane),
            S::NotAnInboundLane(e) => format!("lane {} is not an inbound lane of {on}", e.lane),
            S::NotOptedIn(e) => format!("{} is not opted in to lane {}", e.operator, e.lane),
            S::TooManyCandidates(e) => format!(
                "lane {} has the maximum number of candidates and none weighs less than this allocation: allocate \
                 more stake to displace the lightest",
                e.lane
            ),
            S::TooManyLanes(e) => format!("{} is opted in to the maximum number of lanes: opt out of one", e.operator),
            S::OperatorJailed(e) => {
                format!("operator {} is jailed: governance must unjail it before it can opt in", e.operator)
            }
            S::EpochAlreadyCommitted(e) => format!(
                "epoch {} of lane {} is already committed: the next one can be committed when it starts",
                e.epoch, e.lane
            ),
            S::NoEligibleValidators(e) => format!(
                "lane {} has no eligible candidates (opted in with at least the minimum stake, not jailed): operators \
                 must opt in first",
                e.lane
            ),
            S::NothingToWithdraw(_) => "there is nothing to withdraw or claim".to_string(),
            S::StillUnbonding(e) => format!("still unbonding until {}: withdraw then", format_utc(e.releaseAt)),
            S::StakeLocked(e) => format!(
                "{} of the bond backs a validator set that the destination accepts until it expires; its signatures \
                 stay provable for the detection window after that, so it stays locked until {}: withdraw then",
                coins(U256::from(e.weight)),
                format_utc(e.until)
            ),
            S::ReporterPayoutLocked(e) => format!(
                "the reporter share unlocks at {}: a detection window must pass after the proof (a forger reporting \
                 itself is found out meanwhile); claim then",
                format_utc(e.until)
            ),
            S::NotReporter(e) => {
                format!("{} did not report this evidence: only its reporter claims the share", e.caller)
            }
            S::SetLifetimeTooLong(e) => format!(
                "the set is valid until {}, later than {on} accepts ({}: a set committed now, with the detection \
                 window's margin for the two chains' clocks): copy the source chain's current snapshot (`zerobridge \
                 stake status`), or fix the clock that is off",
                format_utc(e.validUntil),
                format_utc(e.latest)
            ),
            S::ShareTooHigh(e) => {
                format!("a share of {} bps is above 10000 (100%): pass at most 10000 (0 removes the cap)", e.shareBps)
            }
            S::AllocationBelowMinimum(e) => format!(
                "an allocation of {} is below the minimum {} a lane counts: raise --amount",
                coins(e.amount),
                coins(e.minStake)
            ),
            S::SlashOwed(e) => format!(
                "{} of proven slashes is still owed: nothing can be withdrawn until it is collected",
                coins(e.owed)
            ),
            S::InvalidSignature(_) => "the signature does not recover to any address".to_string(),
            S::UnknownSigner(e) => {
                format!("{} is not any operator's signing key on {on}", e.signer)
            }
            S::EvidenceAlreadyUsed(e) => format!("evidence {} was already used", e.evidenceId),
            S::UnknownEvidence(e) => format!("there is no evidence {} on {on}", e.evidenceId),
            S::NotFraud(e) => format!("not fraud: lane {} really had that accumulator at {}", e.lane, e.sequence),
            S::ProofRequired(e) => format!("sequence {} is not recorded: a proof segment is required", e.sequence),
            S::InvalidProof(_) => {
                "the proof segment does not match the lane (it may have moved on): re-run".to_string()
            }
            S::AccessManagedUnauthorized(e) => {
                format!("{} lacks the governance role for this call on {on}: use the governance key", e.caller)
            }
            other => format!("{other:?}"),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    if let Some(e) = err.as_decoded_interface_error::<Z>() {
        let text = bridge_error(&e).unwrap_or_else(|| format!("{e:?}"));
        return eyre!("{what} on {on} refused by the bridge: {text}");
    }
    let text = err.to_string();
    if looks_unreachable(&text) {
        return unreachable_chain(chain, &text);
    }
    if text.to_ascii_lowercase().contains("insufficient funds") {
        return eyre!("{what} on {on}: the sending account cannot pay for the value and gas: fund it and re-run");
    }
    eyre!("{what} on {on} failed: {}", one_line(&text))
}

fn tx_note(receipt: &TransactionReceipt) -> String {
    format!("tx {}, block {}", receipt.transaction_hash, receipt.block_number.unwrap_or_default())
}

/// Parses `--amount` in the staking asset's decimals.
fn parse_stake(text: &str, asset: &Asset) -> Result<U256> {
    parse_amount(text, asset.decimals).map_err(|e| eyre!("--amount: {e}"))
}

/// The operator, checked to be registered.
async fn registered(staking: &Staking, operator: Address) -> Result<StakeManager::Operator> {
    let op = staking.operator(operator).await?;
    if op.signer == Address::ZERO {
        bail!(
            "{operator} is not a registered operator on {}: register with `zerobridge stake deposit --chain {} \
             --amount X --signer-keystore FILE` (FILE: your validator's keystore, which signs the proof of possession)",
            staking.on(),
            staking.on()
        );
    }
    Ok(op)
}

// ------------------------------------------------------------------------------------------
// register, deposit
// ------------------------------------------------------------------------------------------

async fn register(args: RegisterArgs) -> Result<()> {
    let signing = signing_key(&args.signing)?;
    let Some(wanted) = registering_signer(args.signer, signing.as_ref())? else {
        bail!(
            "which signing key? pass your validator's keystore with --signer-keystore FILE (its password from \
             --signer-password-env VAR or --signer-password-file FILE), or --signer-key-env VAR"
        );
    };
    let (_, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    check_signer(&staking, operator, wanted).await?;
    let op = staking.operator(operator).await?;
    if op.signer != Address::ZERO {
        if op.signer == wanted {
            println!("{operator} is already registered on {} with signer {}", staking.on(), op.signer);
            return Ok(());
        }
        bail!(
            "{operator} is already registered on {} with signer {}: the signer cannot be changed; register another \
             operator key for {wanted}",
            staking.on(),
            op.signer
        );
    }
    let proof = registration_proof(&staking, operator, wanted, signing.as_ref()).await?;
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.registerOperator(wanted, proof), "registerOperator", &staking.conn.info).await?;
    println!("registered operator {operator} with signer {wanted} on {} ({})", staking.on(), tx_note(&receipt));
    println!("next: bond stake with `zerobridge stake deposit --chain {} --amount X`", staking.on());
    Ok(())
}

/// The signing key from `--signer-keystore` (with its password) or `--signer-key-env`, if given.
fn signing_key(args: &SignerKeyArgs) -> Result<Option<PrivateKeySigner>> {
    if let Some(var) = &args.signer_key_env {
        return signer_from_env(var).map(Some).map_err(|e| eyre!("--signer-key-env: {e}"));
    }
    let Some(path) = &args.signer_keystore else {
        return Ok(None);
    };
    let source = match &args.signer_password_file {
        Some(file) => zb_keys::PasswordSource::File(file.clone()),
        None => zb_keys::PasswordSource::Env(args.signer_password_env.clone()),
    };
    let password = source.read().map_err(|e| {
        eyre!("{e}: set --signer-password-env VAR or --signer-password-file FILE for {}", path.display())
    })?;
    zb_keys::load_key(path, &password).map(Some).map_err(|e| eyre!("--signer-keystore {}: {e}", path.display()))
}

/// The signer to register: `--signer`, checked against the signing key when both are given.
fn registering_signer(wanted: Option<Address>, key: Option<&PrivateKeySigner>) -> Result<Option<Address>> {
    match (wanted, key) {
        (Some(wanted), Some(key)) if wanted != key.address() => bail!(
            "--signer {wanted} is not the address of the signing key given ({}): pass the keystore of the validator \
             that signs as {wanted}, or drop --signer",
            key.address()
        ),
        (Some(wanted), _) => Ok(Some(wanted)),
        (None, key) => Ok(key.map(PrivateKeySigner::address)),
    }
}

/// The proof of possession `registerOperator` checks: the signing key's signature (r ‖ s ‖ v)
/// over the stake manager's `signerRegistrationDigest(operator)`.
async fn registration_proof(
    staking: &Staking,
    operator: Address,
    signer: Address,
    key: Option<&PrivateKeySigner>,
) -> Result<Bytes> {
    let Some(key) = key else {
        bail!(
            "registering signer {signer} needs a proof that you hold its key: pass your validator's keystore with \
             --signer-keystore FILE (or the key with --signer-key-env VAR)"
        );
    };
    let digest = staking
        .sm()
        .signerRegistrationDigest(operator)
        .call()
        .await
        .map_err(|e| staking.conn.read_err("signerRegistrationDigest", e))?;
    let signature = key.sign_hash_sync(&digest).map_err(|e| eyre!("signing the proof of possession failed: {e}"))?;
    Ok(Bytes::from(signature.as_bytes().to_vec()))
}

/// The contract's signer rules, checked first so the refusal names the fix.
async fn check_signer(staking: &Staking, operator: Address, signer: Address) -> Result<()> {
    if signer == Address::ZERO {
        bail!("--signer must not be the zero address: pass your validator's signing key (--signer-keystore FILE)");
    }
    if signer == operator {
        bail!(
            "--signer {signer} is the operator key itself: the validator must sign with a separate key \
             (`zerobridge keys new`)"
        );
    }
    let owner =
        staking.sm().operatorOfSigner(signer).call().await.map_err(|e| staking.conn.read_err("operatorOfSigner", e))?;
    if owner != Address::ZERO && owner != operator {
        bail!(
            "signer {signer} already belongs to operator {owner} on {}: each signing key serves one operator",
            staking.on()
        );
    }
    Ok(())
}

async fn deposit(args: DepositArgs) -> Result<()> {
    let signing = signing_key(&args.signing)?;
    let wanted = registering_signer(args.signer, signing.as_ref())?;
    let (_, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    let amount = parse_stake(&args.amount, &staking.asset)?;
    let op = staking.operator(operator).await?;
    let register_first = match (op.signer, wanted) {
        (Address::ZERO, Some(wanted)) => {
            check_signer(&staking, operator, wanted).await?;
            Some((wanted, registration_proof(&staking, operator, wanted, signing.as_ref()).await?))
        }
        (Address::ZERO, None) => bail!(
            "{operator} is not a registered operator on {}: pass your validator's signing key (--signer-keystore FILE \
             with its keystore, or --signer-key-env VAR) to register with this deposit",
            staking.on()
        ),
        (current, Some(wanted)) if current != wanted => bail!(
            "{operator} is already registered on {} with signer {current}, not {wanted}: drop --signer and the signing \
             key (the signer cannot be changed)",
            staking.on()
        ),
        _ => None,
    };
    let max = staking.sm().MAX_STAKE().call().await.map_err(|e| staking.conn.read_err("MAX_STAKE", e))?;
    let bonded = op.active + op.unbonding + amount;
    if bonded > max {
        bail!(
            "a bond of {} would exceed the per-operator maximum {}: deposit at most {}",
            staking.asset.fmt(bonded),
            staking.asset.fmt(max),
            staking.asset.fmt(max.saturating_sub(op.active + op.unbonding))
        );
    }
    // The money: native value plus gas, or the token (approved below).
    let native =
        staking.conn.provider.get_balance(operator).await.map_err(|e| staking.conn.read_err("your balance", e))?;
    if staking.asset.native() {
        if native < amount {
            bail!(
                "{operator} holds {} on {}, less than the {} to deposit (plus gas): fund it or lower --amount",
                staking.asset.fmt(native),
                staking.on(),
                staking.asset.fmt(amount)
            );
        }
    } else {
        let token = IStakeToken::new(staking.asset.token, staking.conn.provider.clone());
        let balance =
            token.balanceOf(operator).call().await.map_err(|e| staking.conn.read_err("your token balance", e))?;
        if balance < amount {
            bail!(
                "{operator} holds {} on {}, less than the {} to deposit: fund it or lower --amount",
                staking.asset.fmt(balance),
                staking.on(),
                staking.asset.fmt(amount)
            );
        }
    }

    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let info = &staking.conn.info;
    if let Some((wanted, proof)) = register_first {
        let receipt = transact(sm.registerOperator(wanted, proof), "registerOperator", info).await?;
        println!("registered operator {operator} with signer {wanted} on {} ({})", staking.on(), tx_note(&receipt));
    }
    let receipt = if staking.asset.native() {
        transact(sm.deposit(amount).value(amount), "deposit", info).await?
    } else {
        let token = IStakeToken::new(staking.asset.token, tx.provider.clone());
        let allowance = token
            .allowance(operator, staking.address)
            .call()
            .await
            .map_err(|e| staking.conn.read_err("the allowance", e))?;
        if allowance < amount {
            transact(token.approve(staking.address, amount), "approve (staking token)", info).await?;
        }
        transact(sm.deposit(amount), "deposit", info).await?
    };
    let after = staking.operator(operator).await?;
    println!(
        "deposited {} on {} ({}): active stake {}",
        staking.asset.fmt(amount),
        staking.on(),
        tx_note(&receipt),
        staking.asset.fmt(after.active)
    );
    println!(
        "next: allocate it to a lane with `zerobridge stake opt-in --chain {} --route SYMBOL` (or --lane 0x...)",
        staking.on()
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// opt-in, opt-out
// ------------------------------------------------------------------------------------------

async fn opt_in(args: OptInArgs) -> Result<()> {
    let (ctx, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    let lane = resolve_lane(&ctx, &staking.conn, &args.lane).await?;
    let state = staking.outbound_lane(&ctx, lane).await?;
    let op = registered(&staking, operator).await?;
    if op.jailed {
        bail!(
            "operator {operator} is jailed on {}: it cannot opt in until governance unjails it (StakeManager.unjail)",
            staking.on()
        );
    }
    let amount = match &args.amount {
        Some(text) => parse_stake(text, &staking.asset)?,
        None => op.active,
    };
    if op.active.is_zero() {
        bail!(
            "{operator} has no active stake on {}: deposit first (`zerobridge stake deposit --chain {} --amount X`)",
            staking.on(),
            staking.on()
        );
    }
    if amount > op.active {
        bail!(
            "insufficient stake: opting in {} but {operator} has only {} active on {}: deposit more or lower --amount",
            staking.asset.fmt(amount),
            staking.asset.fmt(op.active),
            staking.on()
        );
    }
    if amount < staking.config.min_stake {
        bail!(
            "an allocation of {} is below the minimum {} a lane counts on {}: raise --amount",
            staking.asset.fmt(amount),
            staking.asset.fmt(staking.config.min_stake),
            staking.on()
        );
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.optIn(lane, amount), "optIn", &staking.conn.info).await?;
    println!(
        "opted in to lane {} with {} on {} ({})",
        labelled(&ctx, lane),
        staking.asset.fmt(amount),
        staking.on(),
        tx_note(&receipt)
    );
    print_next_snapshot(&staking, &state, lane, "counts").await?;
    Ok(())
}

async fn opt_out(args: OptOutArgs) -> Result<()> {
    let (ctx, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    let lane = resolve_lane(&ctx, &staking.conn, &args.lane).await?;
    let state = staking.outbound_lane(&ctx, lane).await?;
    let allocated =
        staking.sm().allocation(operator, lane).call().await.map_err(|e| staking.conn.read_err("allocation", e))?;
    if allocated.is_zero() {
        bail!("{operator} is not opted in to lane {} on {}: nothing to opt out of", labelled(&ctx, lane), staking.on());
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.optOut(lane), "optOut", &staking.conn.info).await?;
    println!("opted out of lane {} on {} ({})", labelled(&ctx, lane), staking.on(), tx_note(&receipt));
    print_next_snapshot(&staking, &state, lane, "takes effect").await?;
    println!(
        "until the set update that removes you is delivered, your validator still signs for the lane and stays \
         liable; your weight in the sets already committed stays locked until they expire plus the detection window \
         (`zerobridge stake status` shows until when)"
    );
    Ok(())
}

/// When an allocation change reaches the lane's set.
async fn print_next_snapshot(staking: &Staking, state: &ZeroBridge::Lane, lane: B256, verb: &str) -> Result<()> {
    let commit = format!("`zerobridge stake commit --chain {} --lane {lane}`", staking.on());
    if state.status == PENDING {
        println!("{verb} from the next snapshot: the route is Pending, so it can be committed now with {commit}");
        return Ok(());
    }
    let now = chain_now(&staking.conn).await?;
    let next = staking.epoch_start(staking.current_epoch(now) + 1);
    println!(
        "{verb} from the next snapshot: epoch {} starts {}; then anyone commits it with {commit}",
        staking.current_epoch(now) + 1,
        when(next, now)
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// unbond, withdraw, claim
// ------------------------------------------------------------------------------------------

async fn unbond(args: UnbondArgs) -> Result<()> {
    let (_, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    let op = registered(&staking, operator).await?;
    let amount = if args.amount.trim().eq_ignore_ascii_case("all") {
        if op.active.is_zero() {
            bail!("{operator} has no active stake on {} to unbond", staking.on());
        }
        op.active
    } else {
        parse_stake(&args.amount, &staking.asset)?
    };
    if amount > op.active {
        bail!(
            "insufficient stake: unbonding {} but {operator} has only {} active on {}: lower --amount",
            staking.asset.fmt(amount),
            staking.asset.fmt(op.active),
            staking.on()
        );
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.unbond(amount), "unbond", &staking.conn.info).await?;
    let after = staking.operator(operator).await?;
    let now = chain_now(&staking.conn).await?;
    let schedule = Schedule::of(&after, now);
    println!(
        "unbonding {} on {} ({}): active {}, unbonding {}, withdrawable {} at the earliest",
        staking.asset.fmt(amount),
        staking.on(),
        tx_note(&receipt),
        staking.asset.fmt(after.active),
        staking.asset.fmt(after.unbonding),
        when(schedule.all_free_at, now)
    );
    if !op.unbonding.is_zero() {
        println!("note: the unbonding period restarted for all {} unbonding", staking.asset.fmt(after.unbonding));
    }
    println!(
        "it stops counting for your lanes at their next snapshots and stays slashable until withdrawn \
         (`zerobridge stake withdraw --chain {}`)",
        staking.on()
    );
    if schedule.locked_at_release() {
        println!("{}", lock_text(&staking, &after, locked_at(&after, schedule.release_at), now));
    }
    Ok(())
}

async fn withdraw(args: OperatorArgs) -> Result<()> {
    let (_, staking, signer) = open_as(&args.chain, &args.key).await?;
    let operator = signer.address();
    let op = staking.operator(operator).await?;
    if op.unbonding.is_zero() {
        bail!(
            "{operator} has nothing unbonding on {}: unbond first (`zerobridge stake unbond --chain {} --amount X`), \
             then withdraw after the unbonding period",
            staking.on(),
            staking.on()
        );
    }
    let now = chain_now(&staking.conn).await?;
    let schedule = Schedule::of(&op, now);
    if now < op.unbondingReleaseAt {
        let then = if !schedule.locked_at_release() {
            format!("{} can be withdrawn then", staking.asset.fmt(op.unbonding))
        } else {
            let free = if schedule.free_at_release.is_zero() {
                "nothing can be withdrawn then".to_string()
            } else {
                format!("only {} can be withdrawn then", staking.asset.fmt(schedule.free_at_release))
            };
            format!("{free}: {}", lock_text(&staking, &op, locked_at(&op, schedule.release_at), now))
        };
        bail!(
            "still unbonding until {} (in {}): {then}",
            format_utc(op.unbondingReleaseAt),
            format_wait(op.unbondingReleaseAt - now)
        );
    }
    if !op.owed.is_zero() {
        bail!(
            "a slash of {} is owed by {operator} on {}: nothing can be withdrawn until it is collected \
             (`zerobridge slash collect <evidence id>`)",
            staking.asset.fmt(op.owed),
            staking.on()
        );
    }
    // What the contract pays now: the unbonding stake above the locked weight.
    let free =
        staking.sm().withdrawable(operator).call().await.map_err(|e| staking.conn.read_err("withdrawable", e))?;
    if free.is_zero() {
        let lock = locked_stake(&staking, operator).await?;
        bail!(
            "nothing of the {} unbonding can be withdrawn on {} yet: {}",
            staking.asset.fmt(op.unbonding),
            staking.on(),
            lock_text(&staking, &op, lock, now)
        );
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    let receipt = transact(sm.withdraw(), "withdraw", &staking.conn.info).await?;
    let paid = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| log.log_decode::<StakeManager::StakeWithdrawn>().ok())
        .map_or(free, |e| e.inner.data.amount);
    println!("withdrew {} to {operator} on {} ({})", staking.asset.fmt(paid), staking.on(), tx_note(&receipt));
    let after = staking.operator(operator).await?;
    if !after.unbonding.is_zero() {
        let lock = locked_stake(&staking, operator).await?;
        println!(
            "{} stays unbonding: {}; withdraw it then",
            staking.asset.fmt(after.unbonding),
            lock_text(&staking, &after, lock, now)
        );
    }
    Ok(())
}

/// The bond `op` must keep at unix time `at`, and when the longest of those locks ends: the stake
/// manager's `lockedStake` (its two lock periods), evaluated at any time so that `unbond` and
/// `withdraw` can tell what the end of the unbonding period frees.
fn locked_at(op: &StakeManager::Operator, at: u64) -> (U256, u64) {
    let mut lock = (U256::ZERO, 0);
    for (weight, until) in [(op.lockedWeight, op.lockedUntil), (op.previousLockedWeight, op.previousLockedUntil)] {
        if at < until {
            lock = (lock.0.max(u96(weight)), lock.1.max(until));
        }
    }
    lock
}

/// What `withdraw` pays from `op`'s unbonding stake while `locked` must stay bonded.
fn free_under(op: &StakeManager::Operator, locked: U256) -> U256 {
    let bonded = op.active + op.unbonding;
    if bonded <= locked { U256::ZERO } else { op.unbonding.min(bonded - locked) }
}

/// When an operator's unbonding stake can leave, as `withdraw` decides: after the unbonding
/// period, and while its bond is locked only the part above the locked weight. Later snapshots
/// that count the operator lock it again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Schedule {
    release_at: u64,
    /// What is free once the unbonding period is over (all of it, if no lock holds it back).
    free_at_release: U256,
    /// When all of it is free.
    all_free_at: u64,
    unbonding: U256,
}

impl Schedule {
    fn of(op: &StakeManager::Operator, now: u64) -> Schedule {
        let release_at = op.unbondingReleaseAt.max(now);
        let free_at = |t: u64| free_under(op, locked_at(op, t).0);
        let free_at_release = free_at(release_at);
        // The free part grows only when a lock ends; once both have, everything is free.
        let mut ends = [op.lockedUntil, op.previousLockedUntil];
        ends.sort_unstable();
        let all_free_at = std::iter::once(release_at)
            .chain(ends.into_iter().filter(|&end| end > release_at))
            .find(|&t| free_at(t) >= op.unbonding)
            .unwrap_or(release_at);
        Schedule { release_at, free_at_release, all_free_at, unbonding: op.unbonding }
    }

    /// Whether a lock holds back part of the unbonding stake when the period ends.
    fn locked_at_release(&self) -> bool {
        self.free_at_release < self.unbonding
    }
}

/// Plain words for a stake lock of `weight` until `until` (`lockedStake`), with when it ends.
fn lock_text(staking: &Staking, op: &StakeManager::Operator, (weight, until): (U256, u64), now: u64) -> String {
    let window = staking.config.detection_window;
    let ends = if until > now {
        format!("{} (in {})", format_utc(until), format_wait(until - now))
    } else {
        format_utc(until)
    };
    // Active stake still counts for the operator's lanes: their next snapshots lock it again.
    let extended = if op.active.is_zero() { "" } else { " (each later snapshot that counts you locks it again)" };
    format!(
        "{} of the bond backs a validator set that the destination accepts until {}; its signatures stay provable \
         for the {} detection window after that, so it stays locked until {ends}{extended}",
        staking.asset.fmt(weight),
        format_utc(until.saturating_sub(window)),
        format_wait(window),
    )
}

/// `lockedStake(operator)`: the bond it must keep now, and when the last of its locks ends.
async fn locked_stake(staking: &Staking, operator: Address) -> Result<(U256, u64)> {
    let lock = staking.sm().lockedStake(operator).call().await.map_err(|e| staking.conn.read_err("lockedStake", e))?;
    Ok((lock.weight, lock.until))
}

/// Whether the stake manager counts `account` as a proven forger (an operator whose signing key
/// was proven to forge, or that key): its reporter shares go to the lanes' compensation pools.
async fn proven_forger(staking: &Staking, account: Address) -> Result<bool> {
    if staking.operator(account).await?.fraudProven {
        return Ok(true);
    }
    let sm = staking.sm();
    let operator =
        sm.operatorOfSigner(account).call().await.map_err(|e| staking.conn.read_err("operatorOfSigner", e))?;
    Ok(operator != Address::ZERO && staking.operator(operator).await?.fraudProven)
}

async fn claim(args: OperatorArgs) -> Result<()> {
    let (ctx, staking, signer) = open_as(&args.chain, &args.key).await?;
    let account = signer.address();
    let owed = reward_balances(&ctx, &staking, account).await?;
    let payouts: Vec<Payout> =
        reporter_payouts(&ctx, &staking).await?.into_iter().filter(|(r, _)| *r == account).map(|(_, p)| p).collect();
    let now = chain_now(&staking.conn).await?;
    let (ready, locked): (Vec<&Payout>, Vec<&Payout>) =
        payouts.iter().partition(|p| p.unlocks_at(&staking.config) <= now);
    let forger = !payouts.is_empty() && proven_forger(&staking, account).await?;
    let total = |list: &[&Payout]| list.iter().fold(U256::ZERO, |sum, p| sum + p.owed);
    if owed.is_empty() {
        if forger {
            bail!(
                "{account} is, or signs for, an operator proven to forge on {}: its reporter share ({} on {} \
                 evidence) is not paid to it but goes to the lane's compensation pool (claimReporterPayout moves it \
                 there once unlocked, whoever calls it)",
                staking.on(),
                staking.asset.fmt(total(&payouts.iter().collect::<Vec<_>>())),
                payouts.len()
            );
        }
        if ready.is_empty() {
            if let Some(first) = locked.iter().map(|p| p.unlocks_at(&staking.config)).min() {
                bail!(
                    "{account}'s reporter share on {} ({} on {} evidence) unlocks {}: a detection window must pass \
                     after each proof (a forger reporting itself is found out meanwhile); claim then",
                    staking.on(),
                    staking.asset.fmt(total(&locked)),
                    locked.len(),
                    when(first, now)
                );
            }
            bail!("{account} has no rewards and no reporter payout to claim on {}", staking.on());
        }
    }
    let tx = staking.conn.with_wallet(EthereumWallet::from(signer))?;
    let sm = StakeManager::new(staking.address, tx.provider.clone());
    for (token, amount, text) in owed {
        let receipt = transact(sm.claimRewards(token), "claimRewards", &staking.conn.info).await?;
        println!("claimed {text} ({amount} units of {token}) on {} ({})", staking.on(), tx_note(&receipt));
    }
    if forger {
        println!(
            "no reporter payout: {account} is, or signs for, an operator proven to forge on {}: its shares go to the \
             lanes' compensation pools",
            staking.on()
        );
        return Ok(());
    }
    for payout in ready {
        let receipt =
            transact(sm.claimReporterPayout(payout.evidence), "claimReporterPayout", &staking.conn.info).await?;
        let forfeited =
            receipt.inner.logs().iter().any(|l| l.log_decode::<StakeManager::ReporterShareForfeited>().is_ok());
        let (amount, on, note) = (staking.asset.fmt(payout.owed), staking.on(), tx_note(&receipt));
        if forfeited {
            println!(
                "the reporter payout of {amount} for evidence {} went to the lane's compensation pool on {on} (the \
                 reporter was proven to forge meanwhile) ({note})",
                payout.evidence
            );
        } else {
            println!("claimed a reporter payout of {amount} for evidence {} on {on} ({note})", payout.evidence);
        }
    }
    for payout in locked {
        println!(
            "the reporter payout of {} for evidence {} unlocks {}: claim it then",
            staking.asset.fmt(payout.owed),
            payout.evidence,
            when(payout.unlocks_at(&staking.config), now)
        );
    }
    Ok(())
}

/// A reporter share not yet claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Payout {
    evidence: B256,
    owed: U256,
    proven_at: u64,
}

impl Payout {
    /// `claimReporterPayout` pays from one detection window after the proof on.
    fn unlocks_at(&self, config: &StakeConfig) -> u64 {
        self.proven_at.saturating_add(config.detection_window)
    }
}

/// The unclaimed reporter shares on this chain: each evidence (FraudProven events, whose reporter
/// is in the data) with `reporterOwed` > 0, and its reporter.
async fn reporter_payouts(ctx: &Context, staking: &Staking) -> Result<Vec<(Address, Payout)>> {
    let filter = Filter::new().address(staking.address).event_signature(StakeManager::FraudProven::SIGNATURE_HASH);
    let conn = &staking.conn;
    let latest = conn.provider.get_block_number().await.map_err(|e| conn.read_err("the block number", e))?;
    let logs = scan_logs(&conn.provider, &filter, from_block(ctx, &conn.info), latest)
        .await
        .map_err(|e| eyre!("reading the stake manager's FraudProven events on {}: {e}", conn.info.name))?;
    let mut payouts: Vec<(Address, Payout)> = Vec::new();
    for log in logs.iter().filter(|l| !l.removed) {
        let Ok(event) = log.log_decode::<StakeManager::FraudProven>() else {
            continue;
        };
        let proven = event.inner.data;
        if payouts.iter().any(|(_, p)| p.evidence == proven.evidenceId) {
            continue;
        }
        let record = staking.sm().evidence(proven.evidenceId).call().await.map_err(|e| conn.read_err("evidence", e))?;
        if !record.reporterOwed.is_zero() {
            let payout = Payout { evidence: proven.evidenceId, owed: record.reporterOwed, proven_at: record.provenAt };
            payouts.push((record.reporter, payout));
        }
    }
    Ok(payouts)
}

/// Non-zero rewards of `operator` in the tokens of its lanes and of the chain's known lanes:
/// (token, units, "1.5 DEMO").
async fn reward_balances(ctx: &Context, staking: &Staking, operator: Address) -> Result<Vec<(Address, U256, String)>> {
    let sm = staking.sm();
    let mut lanes = sm.lanesOf(operator).call().await.map_err(|e| staking.conn.read_err("lanesOf", e))?;
    for lane in known_outbound_lanes(ctx, &staking.conn.info) {
        if !lanes.contains(&lane) {
            lanes.push(lane);
        }
    }
    let mut tokens: Vec<Address> = Vec::new();
    for lane in lanes {
        let state = staking.lane(lane).await?;
        if state.token != Address::ZERO && !tokens.contains(&state.token) {
            tokens.push(state.token);
        }
    }
    let mut out = Vec::new();
    for token in tokens {
        let amount = sm.rewards(operator, token).call().await.map_err(|e| staking.conn.read_err("rewards", e))?;
        if amount.is_zero() {
            continue;
        }
        let erc20 = IStakeToken::new(token, staking.conn.provider.clone());
        let text = match (erc20.decimals().call().await, erc20.symbol().call().await) {
            (Ok(d), Ok(s)) => format!("{} {s}", format_amount(amount, d)),
            _ => format!("{amount} units of {token}"),
        };
        out.push((token, amount, text));
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// commit
// ------------------------------------------------------------------------------------------

async fn commit(args: CommitArgs) -> Result<()> {
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
    println!(
        "committed epoch {} of lane {} on {} ({}): {} members, {} total, threshold {}, set {}",
        after.epoch,
        labelled(&ctx, lane),
        staking.on(),
        tx_note(&receipt),
        after.members.len(),
        staking.asset.fmt(u96(after.totalWeight)),
        staking.asset.fmt(u96(after.threshold)),
        set.hash()
    );
    if after.setHash == state.validatorSetHash {
        println!("the set is unchanged");
    } else if state.status == PENDING {
        println!("installed on the bridge directly (the route is Pending)");
    } else {
        println!(
            "queued on the lane as a SET_UPDATE message: the current set signs it, and the destination switches when \
             it is delivered"
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// status
// ------------------------------------------------------------------------------------------

async fn status(args: StatusArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let chains: Vec<ChainInfo> = match &args.chain {
        Some(name) => vec![ctx.network.chain(name)?.clone()],
        None => ctx.network.chains.clone(),
    };
    let wanted_operator = match (args.address, args.operator) {
        (Some(address), _) => Some(address),
        (None, Some(n)) => Some(devnet_operator(&ctx, n)?.address()),
        (None, None) => None,
    };
    let mut shown = 0;
    for info in &chains {
        let conn = Conn::connect(info).await?;
        let Some(staking) = Staking::try_open(&conn).await? else {
            if args.chain.is_some() {
                Staking::open(&conn).await?;
            }
            continue;
        };
        if shown > 0 {
            println!();
        }
        shown += 1;
        let lanes = match (&args.lane, &args.route) {
            (Some(lane), _) => vec![*lane],
            (None, Some(route)) => {
                let arg = LaneArg { route: Some(route.clone()), lane: None };
                match resolve_lane(&ctx, &conn, &arg).await {
                    Ok(lane) => vec![lane],
                    Err(e) if args.chain.is_some() => return Err(e),
                    Err(_) => continue,
                }
            }
            (None, None) => known_outbound_lanes(&ctx, info),
        };
        chain_status(&ctx, &staking, &lanes, wanted_operator, args.lane.is_some() || args.route.is_some()).await?;
    }
    if shown == 0 {
        bail!("no chain of this network has a stake manager: its validator sets are configured by governance");
    }
    Ok(())
}

async fn chain_status(
    ctx: &Context,
    staking: &Staking,
    lanes: &[B256],
    wanted_operator: Option<Address>,
    lanes_only: bool,
) -> Result<()> {
    let sm = staking.sm();
    let now = chain_now(&staking.conn).await?;
    let epoch = staking.current_epoch(now);
    let c = &staking.config;
    println!("stake manager on {} {} ({} stake)", staking.on(), staking.address, staking.asset.symbol);
    println!(
        "  epoch      {epoch}, {} each; the next starts {}",
        format_wait(c.epoch_length),
        when(staking.epoch_start(epoch + 1), now)
    );
    println!(
        "  rules      unbonding {}; at least {} to count for a lane; up to {} validators per lane; a proven fraud \
         slashes {}% of the bond ({}% of it to the reporter)",
        format_wait(c.unbonding_period),
        staking.asset.fmt(c.min_stake),
        c.max_validators,
        u64::from(c.slash_bps) * 100 / BPS,
        u64::from(c.reporter_share_bps) * 100 / BPS,
    );

    // Operators: the one asked for, else every candidate of the lanes shown (and the devnet's).
    let mut operators: Vec<Address> = Vec::new();
    match wanted_operator {
        Some(address) => operators.push(address),
        None => {
            for &lane in lanes {
                let candidates =
                    sm.candidates(lane).call().await.map_err(|e| staking.conn.read_err("candidates", e))?;
                for candidate in candidates {
                    if !operators.contains(&candidate) {
                        operators.push(candidate);
                    }
                }
            }
            if !lanes_only && let Some(manifest) = &ctx.manifest {
                for account in manifest.accounts.iter().filter(|a| a.role.starts_with("operator-")) {
                    if !operators.contains(&account.address) {
                        operators.push(account.address);
                    }
                }
            }
        }
    }
    let mut snapshots: Vec<(B256, StakeManager::Snapshot)> = Vec::new();
    let payouts = if operators.is_empty() { Vec::new() } else { reporter_payouts(ctx, staking).await? };
    for &operator in &operators {
        let op = staking.operator(operator).await?;
        let role = devnet_role(ctx, operator).map(|r| format!(" (devnet {r})")).unwrap_or_default();
        println!("operator {operator}{role}");
        if op.signer == Address::ZERO {
            println!("  not registered on {}", staking.on());
            continue;
        }
        let asset = &staking.asset;
        println!("  signer     {}", op.signer);
        println!("  active     {}", asset.fmt(op.active));
        if op.unbonding.is_zero() {
            println!("  unbonding  none");
        } else {
            let schedule = Schedule::of(&op, now);
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
        let lock = locked_stake(staking, operator).await?;
        if !lock.0.is_zero() {
            println!("  locked     {}", lock_text(staking, &op, lock, now));
        }
        println!(
            "  owed       {}",
            if op.owed.is_zero() {
                "nothing".to_string()
            } else {
                format!("{} (blocks withdrawals)", asset.fmt(op.owed))
            }
        );
        println!(
            "  jailed     {}",
            if op.jailed { "YES: left every set at the next snapshot; governance unjails" } else { "no" }
        );
        if op.fraudProven {
            println!("  fraud      proven: it (and its signing key) earns no reporter share");
        }
        let op_lanes = sm.lanesOf(operator).call().await.map_err(|e| staking.conn.read_err("lanesOf", e))?;
        if op_lanes.is_empty() {
            println!("  lanes      none (opt in with `zerobridge stake opt-in`)");
        }
        for (i, lane) in op_lanes.iter().enumerate() {
            let allocated =
                sm.allocation(operator, *lane).call().await.map_err(|e| staking.conn.read_err("allocation", e))?;
            let snapshot = match snapshots.iter().find(|(l, _)| l == lane) {
                Some((_, s)) => s.clone(),
                None => {
                    let s = staking.snapshot(*lane).await?;
                    snapshots.push((*lane, s.clone()));
                    s
                }
            };
            let member = snapshot.members.iter().find(|m| m.operator == operator);
            let membership = match member {
                Some(m) => format!(
                    "in the current snapshot (epoch {}) with weight {}",
                    snapshot.epoch,
                    asset.fmt(u96(m.weight))
                ),
                None if snapshot.committed => {
                    format!("not in the current snapshot (epoch {})", snapshot.epoch)
                }
                None => "no snapshot committed yet".to_string(),
            };
            // A lane counts min(allocation, active): unbonding or slashing lowers it.
            let effective = if allocated > op.active {
                format!(" (counts {}: the active stake)", asset.fmt(op.active))
            } else {
                String::new()
            };
            println!(
                "  {}{}: {} allocated{effective}, {membership}",
                if i == 0 { "lanes      " } else { "           " },
                labelled(ctx, *lane),
                asset.fmt(allocated)
            );
        }
        let rewards = reward_balances(ctx, staking, operator).await?;
        let payout =
            payouts.iter().filter(|(reporter, _)| *reporter == operator).fold(U256::ZERO, |sum, (_, p)| sum + p.owed);
        let mut parts: Vec<String> = rewards.into_iter().map(|(_, _, text)| text).collect();
        if !payout.is_zero() {
            parts.push(format!("{} reporter payout", asset.fmt(payout)));
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

    for &lane in lanes {
        lane_status(ctx, staking, lane, epoch).await?;
    }
    Ok(())
}

async fn lane_status(ctx: &Context, staking: &Staking, lane: B256, epoch: u64) -> Result<()> {
    let sm = staking.sm();
    let asset = &staking.asset;
    let state = staking.lane(lane).await?;
    println!("lane {}", labelled(ctx, lane));
    if state.direction != OUTBOUND {
        println!("  not an outbound lane of {}: its stake lives on its source chain", staking.on());
        return Ok(());
    }
    let snapshot = staking.snapshot(lane).await?;
    let candidates = sm.candidates(lane).call().await.map_err(|e| staking.conn.read_err("candidates", e))?;
    if !snapshot.committed {
        println!("  snapshot   none committed yet (route {})", status_name(state.status));
    } else {
        println!(
            "  snapshot   epoch {} (current {epoch}), {} members, threshold {} of {}, set {}",
            snapshot.epoch,
            snapshot.members.len(),
            asset.fmt(u96(snapshot.threshold)),
            asset.fmt(u96(snapshot.totalWeight)),
            snapshot.setHash
        );
        for m in &snapshot.members {
            let role = devnet_role(ctx, m.operator).map(|r| format!(" ({r})")).unwrap_or_default();
            println!("    signer {} operator {}{role} weight {}", m.signer, m.operator, asset.fmt(u96(m.weight)));
        }
        let now = chain_now(&staking.conn).await?;
        println!("  expiry     {}", expiry_text(&snapshot_set(&snapshot)?, now));
        let security = sm.laneSecurity(lane).call().await.map_err(|e| staking.conn.read_err("laneSecurity", e))?;
        println!(
            "  security   {} staked by {} validators; a quorum that signs a forgery loses at least {} (net of the \
             reporter share)",
            asset.fmt(security.totalStake),
            security.validators,
            asset.fmt(security.quorumLoss)
        );
        let bridge_set = if state.validatorSetHash == snapshot.setHash {
            "the bridge's set is this snapshot".to_string()
        } else if state.status == PENDING {
            format!("the bridge has set {} (re-commit to install the snapshot)", state.validatorSetHash)
        } else {
            format!("the bridge attests with set {} (a set update is in flight or due)", state.validatorSetHash)
        };
        println!("  bridge     {bridge_set}");
    }
    let cap = sm.maxOperatorShareBps(lane).call().await.map_err(|e| staking.conn.read_err("maxOperatorShareBps", e))?;
    if cap != 0 {
        println!(
            "  share cap  one operator weighs at most {} of a snapshot (maxOperatorShareBps {cap})",
            bps_percent(cap)
        );
    }
    let outside = candidates.iter().filter(|c| !snapshot.members.iter().any(|m| m.operator == **c)).count();
    println!(
        "  candidates {}{}",
        candidates.len(),
        if outside > 0 {
            format!(
                " ({outside} not in the snapshot: `zerobridge stake commit --chain {} --lane {lane}` at the next epoch)",
                staking.on()
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: StakeCommand,
    }

    fn parse(argv: &[&str]) -> std::result::Result<StakeCommand, String> {
        let mut full = vec!["stake"];
        full.extend(argv);
        Cli::try_parse_from(full).map(|c| c.command).map_err(|e| e.to_string())
    }

    #[test]
    fn opt_in_needs_a_lane_or_route_and_not_both() {
        assert!(parse(&["opt-in", "--chain", "ethereum", "--operator", "1"]).is_err());
        let lane = B256::repeat_byte(1).to_string();
        assert!(parse(&["opt-in", "--chain", "ethereum", "--route", "DEMO", "--lane", &lane]).is_err());
        match parse(&["opt-in", "--chain", "ethereum", "--route", "DEMO", "--operator", "2"]) {
            Ok(StakeCommand::OptIn(args)) => {
                assert_eq!(args.key.operator, Some(2));
                assert_eq!(args.lane.route.as_deref(), Some("DEMO"));
                assert!(args.amount.is_none());
            }
            other => panic!("{:?}", other.err()),
        }
        // --operator and an explicit key exclude each other.
        assert!(parse(&["withdraw", "--chain", "bsc", "--operator", "1", "--private-key-env", "K"]).is_err());
    }

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

    fn operator(
        active: u64,
        unbonding: u64,
        locked: u64,
        locked_until: u64,
        release_at: u64,
    ) -> StakeManager::Operator {
        use alloy::primitives::aliases::U96;
        StakeManager::Operator {
            signer: Address::repeat_byte(1),
            jailed: false,
            fraudProven: false,
            unbondingReleaseAt: release_at,
            penaltyEpochPlusOne: 0,
            lockedWeight: U96::from(locked),
            lockedUntil: locked_until,
            active: U256::from(active),
            unbonding: U256::from(unbonding),
            owed: U256::ZERO,
            previousLockedWeight: U96::ZERO,
            previousLockedUntil: 0,
            lockStartedAt: 0,
        }
    }

    #[test]
    fn withdrawals_wait_for_the_unbonding_period_and_the_lock() {
        // Leaving entirely while a set still counts all of it: nothing until the lock ends.
        let leaving = Schedule::of(&operator(0, 1500, 1500, 90_000, 1_600), 1_000);
        assert!(leaving.locked_at_release());
        assert_eq!(leaving.free_at_release, U256::ZERO);
        assert_eq!(leaving.all_free_at, 90_000);
        // The lock is over before the unbonding period: the period decides.
        let late = Schedule::of(&operator(0, 1500, 1500, 1_200, 1_600), 1_000);
        assert!(!late.locked_at_release());
        assert_eq!((late.free_at_release, late.all_free_at), (U256::from(1500u64), 1_600));
        // Partly free: the bond may drop to the locked weight, not below.
        let partial = Schedule::of(&operator(600, 900, 1000, 90_000, 1_600), 1_000);
        assert_eq!(partial.free_at_release, U256::from(500u64));
        assert!(partial.locked_at_release());
        assert_eq!(partial.all_free_at, 90_000);
        // Past the release time, "now" is when it becomes free.
        let past = Schedule::of(&operator(0, 10, 0, 0, 500), 1_000);
        assert_eq!((past.release_at, past.all_free_at), (1_000, 1_000));
        // Two lock periods: a continuing member that now weighs 600 in the current period's sets
        // (until 200,000) still owes the previous period's 1000 until 90,000; after that only 600.
        use alloy::primitives::aliases::U96;
        let mut shrinking = operator(600, 900, 600, 200_000, 1_600);
        (shrinking.previousLockedWeight, shrinking.previousLockedUntil) = (U96::from(1000u64), 90_000);
        assert_eq!(locked_at(&shrinking, 1_000), (U256::from(1000u64), 200_000));
        assert_eq!(locked_at(&shrinking, 90_000), (U256::from(600u64), 200_000));
        assert_eq!(locked_at(&shrinking, 200_000), (U256::ZERO, 0));
        let schedule = Schedule::of(&shrinking, 1_000);
        assert_eq!(schedule.free_at_release, U256::from(500u64));
        assert_eq!(schedule.all_free_at, 90_000, "the active 600 covers the later lock");
    }

    #[test]
    fn shares_print_as_percentages() {
        assert_eq!(bps_percent(6000), "60%");
        assert_eq!(bps_percent(6667), "66.67%");
        assert_eq!(bps_percent(5), "0.05%");
    }

    #[test]
    fn a_signing_key_and_signer_must_agree() {
        let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).expect("key");
        assert_eq!(registering_signer(None, Some(&key)).expect("from the key"), Some(key.address()));
        assert_eq!(registering_signer(Some(key.address()), Some(&key)).expect("same"), Some(key.address()));
        assert_eq!(registering_signer(None, None).expect("nothing"), None);
        let other = Address::repeat_byte(9);
        let err = registering_signer(Some(other), Some(&key)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("is not the address of the signing key"), "{err}");
        assert!(
            parse(&["register", "--chain", "ethereum", "--signer-keystore", "k.json", "--signer-key-env", "K"])
                .is_err()
        );
        match parse(&["deposit", "--chain", "bsc", "--amount", "1", "--signer-key-env", "K", "--operator", "0"]) {
            Ok(StakeCommand::Deposit(args)) => {
                assert_eq!(args.signing.signer_key_env.as_deref(), Some("K"))
            }
            other => panic!("{:?}", other.err()),
        }
    }
}
