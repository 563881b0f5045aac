//! Token-team commands: `zerobridge route register | status | list`.
//!
//! `register` follows the Hot Cross registration journey (seed 003) on zerobridge's contracts
//! (docs/protocol.md section 10): the token's `owner()` registers on the home chain and pays the
//! bond, governance replays the registration on the remote chain (deploying the wrapped token
//! with the canonical decimals), each lane gets its validator set, the route is activated on both
//! chains, and the command prints the validator configuration and the relayer lanes the team runs.
//!
//! On staked chains (a StakeManager behind the registry) a lane's set is the stake snapshot of its
//! source chain: operators opt in to the new lane (on the devnet the command opts the devnet
//! operators in), anyone commits the epoch, governance copies the snapshot to the destination
//! (`installInboundSet`), and the route owner's security level (`--min-stake`, `--min-validators`)
//! must be met before `activateRoute` succeeds. On a chain without a stake manager governance
//! installs a configured set (`--security`). Every step checks the chain first, so re-running the
//! command after a failure resumes where it stopped.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, TransactionReceipt};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::registry::RouteRegistry;
use zb_protocol::validator_set::{Member, NEVER_EXPIRES, ValidatorSet, ValidatorSetError};

use zb_contracts::stake::StakeManager;

use crate::context::{
    Conn, Context, KeyArgs, NetworkArgs, load_signer, looks_unreachable, manifest_signer, signer_from_env,
    transact_explained, unreachable_chain,
};
use crate::explain::{bridge_error, status_name};
use crate::format::{format_amount, format_utc, one_line, parse_amount};
use crate::network::{ChainInfo, ManifestLane, Network, RouteInfo};
use crate::stake::{self, Asset, Staking, chain_now, expiry_text, snapshot_set};

/// Upper bound for one validator's /v1/info answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

// ------------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------------

/// `zerobridge route ...`
#[derive(Debug, clap::Subcommand)]
pub enum RouteCommand {
    /// Register a bridge for your ERC-20 between two chains (you must be its owner()).
    Register(Box<RegisterArgs>),
    /// A route's status on both chains: lanes, fee, limits, capacity, sequences, vault.
    Status(StatusArgs),
    /// Every route of the network, one line each.
    List(ListArgs),
}

/// The validator set a route gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// The network's shared validators with the network's threshold (on the devnet: the
    /// manifest's validators and threshold).
    Standard,
    /// The network's validators with the threshold raised to at least four fifths of them.
    High,
    /// Your own set: --validators and --threshold (weight 1 each, threshold >= 2/3).
    Custom,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RegisterArgs {
    /// The canonical ERC-20 on the home chain.
    #[arg(long, value_name = "ADDRESS")]
    pub token: String,
    /// Home chain (name or chain id): where the token lives and is locked.
    #[arg(long, value_name = "CHAIN")]
    pub from: String,
    /// Remote chain (name or chain id): where the wrapped token is deployed and minted.
    #[arg(long, value_name = "CHAIN")]
    pub to: String,
    /// Name of the wrapped token on the remote chain.
    #[arg(long)]
    pub wrapped_name: String,
    /// Symbol of the wrapped token on the remote chain.
    #[arg(long)]
    pub wrapped_symbol: String,
    /// Minimum per transfer, in tokens.
    #[arg(long, default_value = "0.01")]
    pub min: String,
    /// Maximum per transfer, in tokens.
    #[arg(long, default_value = "1000")]
    pub max: String,
    /// Outbound rate limit per lane and day (checked on the source chain), in tokens.
    #[arg(long, default_value = "100000")]
    pub daily_limit: String,
    /// Inbound rate limit per lane and day (checked on the destination chain). Default: --daily-limit.
    #[arg(long)]
    pub inbound_daily_limit: Option<String>,
    /// Inbound transfers at or above this are held for the guardians' delay; 0 disables holds.
    #[arg(long, default_value = "50000")]
    pub hold_above: String,
    /// Fee in basis points (capped by the bridge's maxFeeBps).
    #[arg(long, default_value_t = 10)]
    pub fee_bps: u16,
    /// Who receives the fee. Default: the registering key.
    #[arg(long, value_name = "ADDRESS")]
    pub collector: Option<String>,
    /// Chains without a stake manager: which governance-configured set secures the route's lanes
    /// sourced there (default standard). Staked chains take their sets from stake instead.
    #[arg(long, value_enum)]
    pub security: Option<Security>,
    /// Custom set: comma-separated signer addresses (weight 1 each); implies --security custom.
    #[arg(long, value_name = "ADDR,...")]
    pub validators: Option<String>,
    /// Custom set: threshold weight, at least two thirds of the validators.
    #[arg(long, value_name = "N")]
    pub threshold: Option<u64>,
    /// Staked chains: the security level each lane's stake snapshot must meet before the route
    /// activates, as total stake in whole coins of the source chain's staking asset.
    /// Default 4000: the devnet's stake (4 operators bonding 1000 each).
    #[arg(long, value_name = "COINS")]
    pub min_stake: Option<String>,
    /// Staked chains: the least number of validators in each lane's snapshot. Default 4.
    #[arg(long, value_name = "N")]
    pub min_validators: Option<u64>,
    /// Environment variable with the governance key (ADMIN on both chains, and SET_MANAGER on chains
    /// without a stake manager).
    /// Required on real chains; on the devnet the manifest's "deployer" is governance.
    #[arg(long, value_name = "VAR")]
    pub governance_key_env: Option<String>,
    /// Check everything and print the summary, but send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// The route: its canonical (or wrapped) symbol, or its route id.
    pub route: String,
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Runs one `route` command.
pub async fn run(command: RouteCommand) -> Result<()> {
    match command {
        RouteCommand::Register(args) => register(*args).await,
        RouteCommand::Status(args) => status(args).await,
        RouteCommand::List(args) => list(args).await,
    }
}

// ------------------------------------------------------------------------------------------
// Transactions and revert reasons
// ------------------------------------------------------------------------------------------

/// Sends a contract call and waits for a successful receipt; reverts are explained in one line.
async fn transact<P, D>(
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

/// One line that names what failed and what to do about it.
fn explain(err: &alloy::contract::Error, what: &str, chain: &ChainInfo) -> eyre::Report {
    use RouteRegistry::RouteRegistryErrors as R;
    use ZeroBridge::ZeroBridgeErrors as Z;
    let on = &chain.name;
    if let Some(e) = err.as_decoded_interface_error::<R>() {
        let text = match e {
            R::NotTokenOwner(e) => format!(
                "only the token's owner() can register it; {} is not the owner of {}: use the owner's key",
                e.caller, e.token
            ),
            R::TokenHasNoCode(e) => format!("there is no contract at {} on {on}: check --token and --from", e.token),
            R::WrongBond(e) => format!(
                "the registration bond is {} wei, {} was sent: the bond changed, re-run to pay the current one",
                e.required, e.sent
            ),
            R::RouteAlreadyRegistered(e) => format!(
                "route {} is already registered on {on}: see `zerobridge route status {}`",
                e.routeId, e.routeId
            ),
            R::SameChain(_) => "--from and --to are the same chain: pick two different chains".to_string(),
            R::EmptyName(_) => "--wrapped-name and --wrapped-symbol must not be empty".to_string(),
            R::UnknownRoute(e) => format!("route {} is not registered on {on}", e.routeId),
            R::NotRouteOwner(e) => {
                format!("{} is not the owner of route {}: use the route owner's key", e.caller, e.routeId)
            }
            R::SecurityLevelNotMet(e) => format!(
                "the lane's stake snapshot has {} wei of stake from {} validators, below the route's security level \
                 ({} wei, {} validators): more operators must opt in (`zerobridge stake opt-in`) and the epoch be \
                 committed (`zerobridge stake commit`), or lower the level",
                e.stake, e.validators, e.minStake, e.minValidators
            ),
            R::AccessManagedUnauthorized(e) => unauthorized(e.caller, on),
            other => format!("{other:?}"),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    if let Some(e) = err.as_decoded_interface_error::<Z>() {
        let text = match e {
            Z::FeeTooHigh(e) => {
                format!("fee {} bps is above the bridge's maximum {} bps: lower --fee-bps", e.feeBps, e.maxFeeBps)
            }
            Z::ZeroRecipient(_) => "a fee needs a collector: pass --collector".to_string(),
            Z::InvalidLimits(_) => "limits must satisfy 0 < --min <= --max <= --daily-limit: fix them".to_string(),
            Z::PeerUnknown(e) => {
                format!("the bridge on {on} has no peer for chain {}: governance must call setPeer first", e.chainId)
            }
            Z::RouteExists(e) => format!("route {} is already open on {on}", e.routeId),
            Z::SetAlreadyActive(e) => {
                format!("lane {} is no longer Pending, so its first set cannot be installed", e.lane)
            }
            Z::ThresholdTooLow(e) => format!(
                "threshold {} is below two thirds of the set's weight {}: raise --threshold",
                e.threshold, e.totalWeight
            ),
            Z::MalformedValidatorSet(_) => "the validator set is malformed: check --validators".to_string(),
            Z::ValidatorSetMissing(e) => format!("lane {} has no validator set yet: re-run to install it", e.lane),
            Z::RouteNotPending(e) => format!("route {} is not Pending (already active or exit-only)", e.routeId),
            Z::AccessManagedUnauthorized(e) => unauthorized(e.caller, on),
            other => bridge_error(&other).unwrap_or_else(|| format!("{other:?}")),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    let text = err.to_string();
    if looks_unreachable(&text) {
        return unreachable_chain(chain, &text);
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("insufficient funds") {
        return eyre!("{what} on {on}: the sending account cannot pay for gas (and bond): fund it and re-run");
    }
    eyre!("{what} on {on} failed: {}", one_line(&text))
}

fn unauthorized(caller: Address, chain: &str) -> String {
    format!(
        "{caller} lacks the governance role for this call on {chain}: use a key holding ADMIN (and SET_MANAGER on \
         chains without a stake manager) (--governance-key-env); in production these calls go through the committee"
    )
}

// ------------------------------------------------------------------------------------------
// register
// ------------------------------------------------------------------------------------------

/// Everything `register` decided before sending.
struct Plan {
    /// The route owner: the token's owner, who signs.
    owner: Address,
    token: Address,
    token_name: String,
    token_symbol: String,
    decimals: u8,
    route_id: B256,
    lane_to_remote: B256,
    lane_to_home: B256,
    params: RouteRegistry::RouteParams,
    security: SecurityPlan,
    bond: U256,
}

/// How the route's lanes get their validator sets.
#[derive(Debug, Clone)]
struct SecurityPlan {
    /// The governance-configured set for lanes whose source chain has no stake manager (weight 1
    /// each), and its description.
    configured: Option<(ValidatorSet, String)>,
    /// The security level of the lane sourced on the home chain, when it is staked.
    home_level: Option<Level>,
    /// The same for the remote chain.
    remote_level: Option<Level>,
}

/// A route's security level on one staked chain (RouteRegistry.setSecurityLevel).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Level {
    min_stake: U256,
    min_validators: u64,
    asset: Asset,
}

impl Level {
    fn describe(&self) -> String {
        format!("at least {} from at least {} validators", self.asset.fmt(self.min_stake), self.min_validators)
    }
}

impl SecurityPlan {
    fn describe(&self, home: &ChainInfo, remote: &ChainInfo) -> String {
        let mut parts = Vec::new();
        for (level, source) in [(&self.home_level, home), (&self.remote_level, remote)] {
            match (level, &self.configured) {
                (Some(level), _) => parts.push(format!("{} stake: {}", source.name, level.describe())),
                (None, Some((_, description))) => parts.push(format!("{} configured set: {description}", source.name)),
                (None, None) => {}
            }
        }
        parts.join("; ")
    }

    fn staked(&self) -> bool {
        self.home_level.is_some() || self.remote_level.is_some()
    }
}

/// The devnet's level: all four operators, 1000 coins each (zb_ops::deploy::DEVNET_STAKE_WEI).
const STANDARD_MIN_STAKE: &str = "4000";
const STANDARD_MIN_VALIDATORS: u64 = 4;

async fn register(args: RegisterArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let owner_signer = load_signer(&args.key, &ctx)?;
    let caller = owner_signer.address();
    let governance_signer = match (&args.governance_key_env, &ctx.manifest) {
        (Some(var), _) => signer_from_env(var)?,
        (None, Some(manifest)) => manifest_signer(manifest, "deployer")?,
        (None, None) => bail!(
            "on real chains the remote registration and the validator sets are governance calls \
             (registerRemoteRoute, installInboundSet or installValidatorSet): pass --governance-key-env VAR with a key \
             holding ADMIN (and SET_MANAGER on chains without a stake manager); in production these calls go through \
             the committee"
        ),
    };
    let governance = governance_signer.address();

    let home_info = ctx.network.chain(&args.from)?.clone();
    let remote_info = ctx.network.chain(&args.to)?.clone();
    if home_info.chain_id == remote_info.chain_id {
        bail!("--from and --to are the same chain ({}): pick two different chains", home_info.name);
    }
    let token: Address = args.token.trim().parse().map_err(|_| {
        eyre!("--token '{}' is not an address: pass the ERC-20's 0x... address on {}", args.token, home_info.name)
    })?;
    if args.wrapped_name.trim().is_empty() || args.wrapped_symbol.trim().is_empty() {
        bail!("--wrapped-name and --wrapped-symbol must not be empty");
    }
    let (home, remote) = tokio::try_join!(Conn::connect(&home_info), Conn::connect(&remote_info))?;

    // The token, and who owns it.
    let code = home.provider.get_code_at(token).await.map_err(|e| home.read_err("the token's code", e))?;
    if code.is_empty() {
        bail!("there is no contract at {token} on {}: check --token and --from", home_info.name);
    }
    let erc20 = home.token(token);
    let not_erc20 = |what: &str| {
        eyre!("{token} on {} does not answer {what}: it is not an ERC-20 with metadata; check --token", home_info.name)
    };
    let token_name = erc20.name().call().await.map_err(|_| not_erc20("name()"))?;
    let token_symbol = erc20.symbol().call().await.map_err(|_| not_erc20("symbol()"))?;
    let decimals = erc20.decimals().call().await.map_err(|_| not_erc20("decimals()"))?;
    let token_owner = erc20.owner().call().await.map_err(|_| {
        eyre!(
            "token {token} has no owner() on {}, so no key can prove it owns it: ask governance to register it for \
             you (registerRouteFor)",
            home_info.name
        )
    })?;
    if token_owner != caller {
        bail!(
            "only the token's owner() {token_owner} can register it; you are {caller}: sign with the owner's key \
             (--private-key-env VAR or --keystore FILE)"
        );
    }

    // The bridges must know each other.
    let peer =
        home.bridge().peers(remote_info.chain_id).call().await.map_err(|e| home.read_err("the bridge's peers", e))?;
    if peer != remote_info.bridge {
        bail!(
            "the bridge on {} knows {} as the bridge of {} but the network says {}: fix the network file, or governance \
             must call setPeer",
            home_info.name,
            peer,
            remote_info.name,
            remote_info.bridge
        );
    }
    let peer =
        remote.bridge().peers(home_info.chain_id).call().await.map_err(|e| remote.read_err("the bridge's peers", e))?;
    if peer != home_info.bridge {
        bail!(
            "the bridge on {} knows {} as the bridge of {} but the network says {}: fix the network file, or governance \
             must call setPeer",
            remote_info.name,
            peer,
            home_info.name,
            home_info.bridge
        );
    }

    // Fee and limits, in the token's decimals.
    let collector = match &args.collector {
        Some(text) => text
            .trim()
            .parse::<Address>()
            .map_err(|_| eyre!("--collector '{text}' is not an address: pass a 0x... address"))?,
        None => caller,
    };
    for conn in [&home, &remote] {
        let max_fee = conn.bridge().maxFeeBps().call().await.map_err(|e| conn.read_err("maxFeeBps", e))?;
        if args.fee_bps > max_fee {
            bail!(
                "--fee-bps {} is above the bridge's maximum on {} ({max_fee} bps): lower it",
                args.fee_bps,
                conn.info.name
            );
        }
    }
    let params = route_params(&args, decimals, collector)?;

    let (home_staking, remote_staking) = tokio::try_join!(Staking::try_open(&home), Staking::try_open(&remote))?;
    let security = choose_security(&args, &ctx, home_staking.as_ref(), remote_staking.as_ref()).await?;
    let route_id = zb_protocol::route_id(home_info.chain_id, token, remote_info.chain_id);
    let lane_to_remote =
        zb_protocol::lane_id(home_info.chain_id, home_info.bridge, remote_info.chain_id, remote_info.bridge, route_id);
    let lane_to_home =
        zb_protocol::lane_id(remote_info.chain_id, remote_info.bridge, home_info.chain_id, home_info.bridge, route_id);
    let bond = home.registry().registrationBond().call().await.map_err(|e| home.read_err("registrationBond", e))?;

    // What is already done (a re-run resumes).
    let home_record = home.registry().getRoute(route_id).call().await.map_err(|e| home.read_err("the registry", e))?;
    if home_record.owner != Address::ZERO && home_record.owner != caller {
        bail!(
            "route {route_id} for {token_symbol} is already registered on {} by {}: only its owner can continue it",
            home_info.name,
            home_record.owner
        );
    }
    let home_registered = home_record.owner != Address::ZERO;
    if !home_registered && !args.dry_run {
        let balance = home.provider.get_balance(caller).await.map_err(|e| home.read_err("your balance", e))?;
        if balance < bond {
            bail!(
                "the registration bond on {} is {} (native coin) but {caller} holds {}: fund it and re-run",
                home_info.name,
                format_amount(bond, 18),
                format_amount(balance, 18)
            );
        }
    }

    let plan = Plan {
        owner: caller,
        token,
        token_name,
        token_symbol,
        decimals,
        route_id,
        lane_to_remote,
        lane_to_home,
        params,
        security,
        bond,
    };
    let devnet = match ctx.manifest {
        Some(_) => Some(devnet_operators(&ctx, &plan)?.len()),
        None => None,
    };
    print_summary(&args, &plan, &home_info, &remote_info, caller, governance, devnet);
    if args.dry_run {
        println!("\ndry run: nothing sent");
        return Ok(());
    }

    // One wallet per chain holding every key (owner, governance and, on the devnet, the operators):
    // the nonce cache is then shared when keys coincide.
    let mut wallet = EthereumWallet::from(owner_signer);
    wallet.register_signer(governance_signer);
    let operators = devnet_operators(&ctx, &plan)?;
    for operator in &operators {
        wallet.register_signer(operator.clone());
    }
    let operators: Vec<Address> = operators.iter().map(PrivateKeySigner::address).collect();
    let home_tx = home.with_wallet(wallet.clone())?;
    let remote_tx = remote.with_wallet(wallet)?;
    let home_side =
        Side { conn: &home, tx: &home_tx, staking: home_staking.as_ref(), level: plan.security.home_level.as_ref() };
    let remote_side = Side {
        conn: &remote,
        tx: &remote_tx,
        staking: remote_staking.as_ref(),
        level: plan.security.remote_level.as_ref(),
    };

    // [1/5] home registration by the token owner, paying the bond.
    println!();
    let home_block = if home_registered {
        println!("[1/5] {}: already registered (owner {caller})", home_info.name);
        opened_block(&home, route_id).await
    } else {
        let registry = home_tx.registry();
        let call = registry
            .registerRoute(
                token,
                remote_info.chain_id,
                args.wrapped_name.clone(),
                args.wrapped_symbol.clone(),
                plan.params.clone(),
            )
            .value(bond)
            .from(caller);
        let receipt = transact(call, "registerRoute", &home_info).await?;
        println!(
            "[1/5] {}: registered by the token owner, bond paid (tx {}, block {})",
            home_info.name,
            receipt.transaction_hash,
            receipt.block_number.unwrap_or_default()
        );
        receipt.block_number.unwrap_or_default()
    };
    let lanes = home.bridge().getRoute(route_id).call().await.map_err(|e| home.read_err("the bridge's route", e))?;
    if lanes.outboundLane != lane_to_remote || lanes.inboundLane != lane_to_home {
        bail!(
            "the bridge on {} opened lanes {} / {} but the protocol gives {lane_to_remote} / {lane_to_home}: the network \
             file's bridge addresses are wrong",
            home_info.name,
            lanes.outboundLane,
            lanes.inboundLane
        );
    }

    // [2/5] remote registration (governance).
    let remote_block = register_remote(&remote, &remote_tx, &plan, &args, governance, &home_info).await?;
    let record = remote.registry().getRoute(route_id).call().await.map_err(|e| remote.read_err("the registry", e))?;
    let wrapped = record.localToken;
    println!("[2/5] {}: wrapped token {} deployed ({} decimals)", remote_info.name, wrapped, record.decimals);

    // [3/5] validator sets: each lane's set on its source chain (from stake: operators opted in,
    // epoch committed; else the configured set), then the same set on its destination.
    let (to_remote, to_home) = tokio::try_join!(
        outbound_set(&home_side, lane_to_remote, &plan, &operators, governance, caller),
        outbound_set(&remote_side, lane_to_home, &plan, &operators, governance, caller)
    )?;
    let (remote_inbound, home_inbound) = tokio::try_join!(
        inbound_set(&remote_side, lane_to_remote, &to_remote.0, governance),
        inbound_set(&home_side, lane_to_home, &to_home.0, governance)
    )?;
    for ((set, source_note), source, destination, inbound) in
        [(&to_remote, &home_info, &remote_info, remote_inbound), (&to_home, &remote_info, &home_info, home_inbound)]
    {
        println!(
            "[3/5] lane {} -> {}: set {} ({source_note}); on {}: {inbound}",
            source.name,
            destination.name,
            set.hash(),
            destination.name
        );
    }

    // [4/5] security levels on the staked chains (the route owner's), checked against the snapshots.
    let (home_level, remote_level) = tokio::try_join!(
        security_level(&home_side, route_id, lane_to_remote, caller),
        security_level(&remote_side, route_id, lane_to_home, caller)
    )?;
    for (chain, level) in [(&home_info, home_level), (&remote_info, remote_level)] {
        if let Some(level) = level {
            println!("[4/5] {}: {level}", chain.name);
        }
    }
    if !plan.security.staked() {
        println!("[4/5] no stake manager on either chain: no security level to set");
    }

    // [5/5] activation on both chains (anyone may call it).
    let (home_active, remote_active) =
        tokio::try_join!(activate(&home, &home_tx, route_id, caller), activate(&remote, &remote_tx, route_id, caller))?;
    println!("[5/5] activated: {} {home_active}, {} {remote_active}", home_info.name, remote_info.name);

    // Check the result on both chains.
    for conn in [&home, &remote] {
        for lane in [lane_to_remote, lane_to_home] {
            let state = conn.bridge().getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
            if status_name(state.status) != "Active" {
                bail!(
                    "lane {lane} on {} is {} after activation: run `zerobridge route status {route_id}`",
                    conn.info.name,
                    status_name(state.status)
                );
            }
        }
    }

    let route = RouteInfo {
        route_id,
        symbol: plan.token_symbol.clone(),
        decimals,
        home: home_info.name.clone(),
        remote: remote_info.name.clone(),
        home_token: token,
        wrapped_token: wrapped,
        liveness: None,
    };
    println!("\nRoute {} ({}) is Active on {} and {}.", plan.token_symbol, route_id, home_info.name, remote_info.name);
    if ctx.manifest.is_some() {
        let path = crate::network::devnet_manifest_path();
        let lanes = [
            ManifestLane {
                lane: lane_to_remote,
                route_id,
                source: route.home.clone(),
                destination: route.remote.clone(),
            },
            ManifestLane {
                lane: lane_to_home,
                route_id,
                source: route.remote.clone(),
                destination: route.home.clone(),
            },
        ];
        if append_to_manifest(&path, &route, &lanes)? {
            println!("Added to {}: `zerobridge send` and `balance` know {} now.", path.display(), plan.token_symbol);
        }
    } else if !ctx.network.routes.iter().any(|r| r.route_id == route_id) {
        println!("\n# Add this route to your network file so send/balance find it:");
        print!("{}", network_route_toml(&route)?);
    }

    let start_blocks = (home_block, remote_block);
    let mut signers: Vec<Address> = Vec::new();
    for member in to_remote.0.members.iter().chain(&to_home.0.members) {
        if !signers.contains(&member.signer) {
            signers.push(member.signer);
        }
    }
    println!();
    print!("{}", validator_toml(&ctx, &plan, &home_info, &remote_info, start_blocks, &signers));
    println!();
    print!("{}", relayer_lanes_toml(&plan, &home_info, &remote_info));
    Ok(())
}

/// The RouteParams both chains get: outbound limits apply on each source, inbound on each
/// destination, so the same values hold for both directions.
fn route_params(args: &RegisterArgs, decimals: u8, collector: Address) -> Result<RouteRegistry::RouteParams> {
    let amount = |flag: &str, text: &str| -> Result<u128> {
        let units = parse_amount(text, decimals).map_err(|e| eyre!("{flag}: {e}"))?;
        u128::try_from(units).map_err(|_| eyre!("{flag} {text} is too large for the bridge (at most 2^128-1 units)"))
    };
    let min = amount("--min", &args.min)?;
    let max = amount("--max", &args.max)?;
    let daily = amount("--daily-limit", &args.daily_limit)?;
    let inbound = match &args.inbound_daily_limit {
        Some(text) => amount("--inbound-daily-limit", text)?,
        None => daily,
    };
    let hold = match args.hold_above.trim() {
        "0" | "off" | "none" => 0,
        text => amount("--hold-above", text)?,
    };
    if min > max {
        bail!("--min {} is above --max {}: lower --min or raise --max", args.min, args.max);
    }
    if max > daily {
        bail!("--max {} is above --daily-limit {}: raise --daily-limit or lower --max", args.max, args.daily_limit);
    }
    if max > inbound {
        bail!(
            "--inbound-daily-limit {} is below --max {}: a maximal transfer could never arrive; raise it",
            args.inbound_daily_limit.as_deref().unwrap_or(&args.daily_limit),
            args.max
        );
    }
    if args.fee_bps > 10_000 {
        bail!("--fee-bps {} is above 10000 (100%): lower it", args.fee_bps);
    }
    Ok(RouteRegistry::RouteParams {
        feeBps: args.fee_bps,
        feeCollector: if args.fee_bps == 0 && args.collector.is_none() { Address::ZERO } else { collector },
        minAmount: min,
        maxAmount: max,
        outboundCapacity: daily,
        inboundCapacity: inbound,
        largeTransferThreshold: hold,
    })
}

/// How each lane gets its set: from stake on staked chains (at the level --min-stake /
/// --min-validators ask for), from --security on the others.
async fn choose_security(
    args: &RegisterArgs,
    ctx: &Context,
    home: Option<&Staking>,
    remote: Option<&Staking>,
) -> Result<SecurityPlan> {
    let staked = home.is_some() || remote.is_some();
    let configured_needed = home.is_none() || remote.is_none();
    if !staked && (args.min_stake.is_some() || args.min_validators.is_some()) {
        bail!(
            "--min-stake and --min-validators set the security level of staked chains, and neither chain has a stake \
             manager: choose the set with --security instead"
        );
    }
    if !configured_needed
        && (args.validators.is_some()
            || args.threshold.is_some()
            || matches!(args.security, Some(Security::High | Security::Custom)))
    {
        bail!(
            "both chains are staked, so the route's validator sets come from stake, not from --security, --validators \
             or --threshold: set its security level with --min-stake COINS and --min-validators N"
        );
    }
    let configured = if configured_needed { Some(choose_set(args, ctx).await?) } else { None };
    let level_for = |staking: Option<&Staking>| -> Result<Option<Level>> {
        let Some(staking) = staking else {
            return Ok(None);
        };
        let text = args.min_stake.as_deref().unwrap_or(STANDARD_MIN_STAKE);
        let min_stake = match text.trim() {
            "0" => U256::ZERO,
            t => parse_amount(t, staking.asset.decimals).map_err(|e| eyre!("--min-stake: {e}"))?,
        };
        let min_validators = args.min_validators.unwrap_or(STANDARD_MIN_VALIDATORS);
        if min_validators == 0 {
            bail!("--min-validators 0 means no validators: use at least 1");
        }
        let max = u64::from(staking.config.max_validators);
        if min_validators > max {
            bail!(
                "--min-validators {min_validators} is above the {max} validators a lane of {} can have: lower it",
                staking.conn.info.name
            );
        }
        Ok(Some(Level { min_stake, min_validators, asset: staking.asset.clone() }))
    };
    Ok(SecurityPlan { configured, home_level: level_for(home)?, remote_level: level_for(remote)? })
}

/// The validator set the security level asks for, and how to describe it.
async fn choose_set(args: &RegisterArgs, ctx: &Context) -> Result<(ValidatorSet, String)> {
    let security =
        if args.validators.is_some() { Security::Custom } else { args.security.unwrap_or(Security::Standard) };
    match security {
        Security::Custom => {
            let Some(list) = &args.validators else {
                bail!("--security custom needs --validators ADDR,ADDR,... and --threshold N");
            };
            let Some(threshold) = args.threshold else {
                bail!("--validators needs --threshold N (at least two thirds of the validators)");
            };
            let mut members = Vec::new();
            for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let signer: Address = part
                    .parse()
                    .map_err(|_| eyre!("--validators: '{part}' is not an address: list 0x... addresses"))?;
                members.push(signer);
            }
            let set = build_set(&members, threshold)?;
            let description = format!("custom, {threshold} of {}", set.members.len());
            Ok((set, description))
        }
        Security::Standard | Security::High => {
            if args.threshold.is_some() {
                bail!("--threshold applies to --security custom only: pass --validators too, or drop --threshold");
            }
            let (members, threshold) = network_validators(ctx).await?;
            let n = u64::try_from(members.len()).unwrap_or(u64::MAX);
            let (threshold, name) = if security == Security::High {
                (threshold.max((4 * n).div_ceil(5)), "high")
            } else {
                (threshold, "standard")
            };
            let set = build_set(&members, threshold)?;
            let description = format!("{name}, {threshold} of {}", set.members.len());
            Ok((set, description))
        }
    }
}

/// Weight-1 members; the 2/3 rule checked by zb_protocol's ValidatorSet, as on chain.
fn build_set(members: &[Address], threshold: u64) -> Result<ValidatorSet> {
    let n = members.len();
    // A governance-configured set never expires; governance replaces it by a set update.
    let set = ValidatorSet::new(
        u128::from(threshold),
        NEVER_EXPIRES,
        members.iter().map(|&signer| Member { signer, weight: 1 }).collect(),
    );
    match set {
        Ok(set) => Ok(set),
        Err(ValidatorSetError::ThresholdTooLow { .. }) => {
            let minimum = (2 * n).div_ceil(3);
            bail!("threshold {threshold} is below two thirds of {n} validators: use --threshold {minimum} or more")
        }
        Err(ValidatorSetError::Malformed(why)) => {
            if n == 0 {
                bail!("the validator set is empty: list at least one validator")
            }
            if u128::from(threshold) > n as u128 {
                bail!("threshold {threshold} is above the {n} validators: lower --threshold to at most {n}")
            }
            bail!("the validator set is invalid ({why}): list distinct, non-zero addresses, at most 128")
        }
    }
}

/// The network's shared validators: from the devnet manifest, or the validators' /v1/info.
async fn network_validators(ctx: &Context) -> Result<(Vec<Address>, u64)> {
    if let Some(manifest) = &ctx.manifest {
        if manifest.validators.is_empty() {
            bail!("the devnet manifest lists no validators: restart the devnet, or use --security custom");
        }
        return Ok((manifest.validators.iter().map(|v| v.address).collect(), manifest.threshold));
    }
    let network = &ctx.network;
    if network.validators.is_empty() {
        bail!(
            "the network file lists no validators, so there is no standard set: add validators = [...] and threshold = N, \
             or pass --security custom --validators ADDR,... --threshold N"
        );
    }
    let Some(threshold) = network.threshold else {
        bail!("the network file has validators but no threshold: add threshold = N, or pass --security custom");
    };
    let http = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build().map_err(|e| eyre!("http client: {e}"))?;
    let mut members = Vec::new();
    for url in &network.validators {
        let info_url = format!("{}/v1/info", url.trim_end_matches('/'));
        let fail = |e: String| {
            eyre!(
                "cannot read the signer of validator {url} ({e}): fix its URL in the network file, or pass --security custom"
            )
        };
        let response = http.get(&info_url).send().await.map_err(|e| fail(one_line(&e)))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        let body: serde_json::Value = response.json().await.map_err(|e| fail(one_line(&e)))?;
        let signer = body
            .get("signer")
            .and_then(|s| s.as_str())
            .and_then(|s| s.parse::<Address>().ok())
            .ok_or_else(|| fail("no signer in /v1/info".to_string()))?;
        members.push(signer);
    }
    Ok((members, threshold))
}

fn print_summary(
    args: &RegisterArgs,
    plan: &Plan,
    home: &ChainInfo,
    remote: &ChainInfo,
    caller: Address,
    governance: Address,
    // On the devnet: how many of its operators opt in to the new lanes.
    devnet: Option<usize>,
) {
    let d = plan.decimals;
    let units = |v: u128| format_amount(U256::from(v), d);
    let p = &plan.params;
    println!("Registering a bridge for {} ({}, {} decimals) {}", plan.token_name, plan.token_symbol, d, plan.token);
    println!("  home       {} (chain {}): the token is locked in the bridge's vault", home.name, home.chain_id);
    println!(
        "  remote     {} (chain {}): wrapped token \"{}\" ({}), {} decimals, deployed by the registry",
        remote.name, remote.chain_id, args.wrapped_name, args.wrapped_symbol, d
    );
    println!("  route id   {}", plan.route_id);
    println!("  lanes      {} -> {} {}", home.name, remote.name, plan.lane_to_remote);
    println!("             {} -> {} {}", remote.name, home.name, plan.lane_to_home);
    println!("  owner      {caller} (the token's owner())");
    if p.feeBps == 0 {
        println!("  fee        none");
    } else {
        println!("  fee        {} bps to {}", p.feeBps, p.feeCollector);
    }
    println!(
        "  limits     min {} / max {} per transfer; {} a day out and {} a day in, per lane",
        units(p.minAmount),
        units(p.maxAmount),
        units(p.outboundCapacity),
        units(p.inboundCapacity)
    );
    if p.largeTransferThreshold == 0 {
        println!("  holds      off");
    } else {
        println!("  holds      transfers of {} or more wait for the guardians' delay", units(p.largeTransferThreshold));
    }
    println!("  security   {}", plan.security.describe(home, remote));
    if let Some((set, _)) = &plan.security.configured {
        let members: Vec<String> = set.members.iter().map(|m| m.signer.to_string()).collect();
        println!("             configured signers: {}", members.join(", "));
    }
    if plan.security.staked() {
        println!(
            "             each staked lane's set is the operators' stake snapshot on its source chain; the route \
             activates once it meets the level"
        );
        if let Some(operators) = devnet.filter(|n| *n > 0) {
            println!("  operators  the devnet's {operators} operators opt in to the new lanes with their active stake");
        } else {
            println!(
                "  operators  opt in on their own (`zerobridge stake opt-in --route {}`); re-run this command once \
                 they have",
                plan.token_symbol
            );
        }
    }
    println!("  bond       {} native coin on {} (registrationBond)", format_amount(plan.bond, 18), home.name);
    println!(
        "  governance {governance} ({}): registerRemoteRoute on {}, each lane's set on its destination chain; in \
         production these calls go through the committee",
        if devnet.is_some() { "the devnet's deployer" } else { "--governance-key-env" },
        remote.name
    );
}

/// [2/5]: registerRemoteRoute by governance, unless already there. Returns the block it
/// happened in (best effort when resuming).
async fn register_remote(
    remote: &Conn,
    remote_tx: &Conn,
    plan: &Plan,
    args: &RegisterArgs,
    governance: Address,
    home: &ChainInfo,
) -> Result<u64> {
    let record =
        remote.registry().getRoute(plan.route_id).call().await.map_err(|e| remote.read_err("the registry", e))?;
    if record.owner != Address::ZERO {
        return Ok(opened_block(remote, plan.route_id).await);
    }
    let registry = remote_tx.registry();
    let call = registry
        .registerRemoteRoute(
            plan.owner,
            home.chain_id,
            plan.token,
            plan.decimals,
            args.wrapped_name.clone(),
            args.wrapped_symbol.clone(),
            plan.params.clone(),
        )
        .from(governance);
    let receipt = transact(call, "registerRemoteRoute (governance)", &remote.info).await?;
    Ok(receipt.block_number.unwrap_or_default())
}

/// One chain's part in the registration.
struct Side<'a> {
    conn: &'a Conn,
    /// The same chain, signing with every key of the command.
    tx: &'a Conn,
    /// Its stake manager: the lane whose source it is gets its set from stake.
    staking: Option<&'a Staking>,
    /// The route's security level there (staked chains).
    level: Option<&'a Level>,
}

/// The devnet operator keys (`operator-N` accounts) that opt in to the new lanes: only on the
/// devnet, and only when a chain is staked.
fn devnet_operators(ctx: &Context, plan: &Plan) -> Result<Vec<PrivateKeySigner>> {
    let Some(manifest) = &ctx.manifest else {
        return Ok(Vec::new());
    };
    if !plan.security.staked() {
        return Ok(Vec::new());
    }
    manifest
        .accounts
        .iter()
        .filter(|a| a.role.starts_with("operator-"))
        .map(|a| {
            PrivateKeySigner::from_bytes(&a.private_key)
                .map_err(|e| eyre!("the devnet manifest's {} key is invalid ({e}): restart the devnet", a.role))
        })
        .collect()
}

/// [3/5] on a lane's source chain: its set. Staked: the devnet operators opt in, the epoch is
/// committed (the stake manager installs the snapshot while the route is Pending), and the
/// snapshot is the set. Otherwise governance installs the configured set.
async fn outbound_set(
    side: &Side<'_>,
    lane: B256,
    plan: &Plan,
    operators: &[Address],
    governance: Address,
    payer: Address,
) -> Result<(ValidatorSet, String)> {
    let conn = side.conn;
    let on = &conn.info.name;
    let state = conn.bridge().getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let pending = status_name(state.status) == "Pending";
    let Some(staking) = side.staking else {
        let Some((set, description)) = &plan.security.configured else {
            bail!("{on} has no stake manager and no configured set was chosen: pass --security");
        };
        if state.validatorSetHash == set.hash() {
            return Ok((set.clone(), format!("{description}, already installed on {on}")));
        }
        if !pending {
            bail!(
                "lane {lane} on {on} is {} with validator set {}, not {}: a live lane's set changes only by rotation \
                 (queueValidatorSetUpdate)",
                status_name(state.status),
                state.validatorSetHash,
                set.hash()
            );
        }
        let bridge = side.tx.bridge();
        let call = bridge.installValidatorSet(lane, set.encode().into()).from(governance);
        transact(call, "installValidatorSet (governance)", &conn.info).await?;
        return Ok((set.clone(), format!("{description}, installed on {on}")));
    };
    if !pending {
        // Live: the set is what the stake manager committed; later epochs rotate it.
        let snapshot = staking.snapshot(lane).await?;
        return Ok((
            snapshot_set(&snapshot)?,
            format!("{on} stake snapshot of epoch {}, already live", snapshot.epoch),
        ));
    }
    let sm = StakeManager::new(staking.address, side.tx.provider.clone());
    let mut opted = 0;
    let mut opt_ins = Vec::new();
    for &operator in operators {
        let op = staking.operator(operator).await?;
        if op.signer == Address::ZERO || op.jailed || op.active < staking.config.min_stake {
            continue;
        }
        let allocated =
            staking.sm().allocation(operator, lane).call().await.map_err(|e| conn.read_err("allocation", e))?;
        if !allocated.is_zero() {
            continue;
        }
        opted += 1;
        let call = sm.optIn(lane, op.active).from(operator);
        opt_ins.push(async move { stake::transact(call, "optIn (devnet operator)", &conn.info).await });
    }
    futures::future::try_join_all(opt_ins).await?;
    let candidates = staking.sm().candidates(lane).call().await.map_err(|e| conn.read_err("candidates", e))?;
    if candidates.is_empty() {
        bail!(
            "lane {lane} on {on} has no operators opted in yet, so it has no validator set: operators opt in with \
             `zerobridge stake opt-in --chain {on} --lane {lane}`; then re-run this command to continue"
        );
    }
    stake::transact(sm.commitEpoch(lane).from(payer), "commitEpoch", &conn.info).await?;
    let snapshot = staking.snapshot(lane).await?;
    let set = snapshot_set(&snapshot)?;
    let joined = if opted > 0 { format!("{opted} devnet operators opted in; ") } else { String::new() };
    Ok((
        set,
        format!(
            "{joined}{on} stake snapshot of epoch {}: {} validators, {} in total",
            snapshot.epoch,
            snapshot.members.len(),
            staking.asset.fmt(U256::from(snapshot.totalWeight))
        ),
    ))
}

/// [3/5] on a lane's destination chain: the source's set, installed by governance (through the
/// stake manager on a staked chain, else directly on the bridge), unless it is there.
async fn inbound_set(side: &Side<'_>, lane: B256, set: &ValidatorSet, governance: Address) -> Result<String> {
    let conn = side.conn;
    let state = conn.bridge().getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    if state.validatorSetHash == set.hash() {
        return Ok("already installed".to_string());
    }
    if status_name(state.status) != "Pending" {
        bail!(
            "lane {lane} on {} is {} with validator set {}, not the source's {}: a live lane's set changes only by a \
             delivered set update",
            conn.info.name,
            status_name(state.status),
            state.validatorSetHash,
            set.hash()
        );
    }
    match side.staking {
        Some(staking) => {
            let sm = StakeManager::new(staking.address, side.tx.provider.clone());
            let call = sm.installInboundSet(lane, set.encode().into()).from(governance);
            stake::transact(call, "installInboundSet (governance)", &conn.info).await?;
            Ok("installed by governance (installInboundSet)".to_string())
        }
        None => {
            let bridge = side.tx.bridge();
            let call = bridge.installValidatorSet(lane, set.encode().into()).from(governance);
            transact(call, "installValidatorSet (governance)", &conn.info).await?;
            Ok("installed by governance (installValidatorSet)".to_string())
        }
    }
}

/// [4/5] on a staked chain: the route owner's security level, then the check activation makes.
async fn security_level(side: &Side<'_>, route_id: B256, lane: B256, owner: Address) -> Result<Option<String>> {
    let (Some(staking), Some(level)) = (side.staking, side.level) else {
        return Ok(None);
    };
    let conn = side.conn;
    let on = &conn.info.name;
    let current =
        conn.registry().securityLevels(route_id).call().await.map_err(|e| conn.read_err("securityLevels", e))?;
    let mut note = "already set";
    if current.minTotalStake != level.min_stake || current.minValidators != level.min_validators {
        let registry = side.tx.registry();
        let call = registry.setSecurityLevel(route_id, level.min_stake, level.min_validators).from(owner);
        transact(call, "setSecurityLevel", &conn.info).await?;
        note = "set";
    }
    let security = staking.sm().laneSecurity(lane).call().await.map_err(|e| conn.read_err("laneSecurity", e))?;
    let state = conn.bridge().getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let met = security.totalStake >= level.min_stake && security.validators >= U256::from(level.min_validators.max(1));
    if !met && status_name(state.status) == "Pending" {
        bail!(
            "lane {lane}'s stake snapshot on {on} has {} from {} validators, below the route's security level ({}): \
             more operators must opt in (`zerobridge stake opt-in --chain {on} --lane {lane}`), then re-run; or lower \
             --min-stake / --min-validators",
            staking.asset.fmt(security.totalStake),
            security.validators,
            level.describe()
        );
    }
    Ok(Some(format!(
        "security level {note}: {}; the snapshot has {} from {} validators ({})",
        level.describe(),
        staking.asset.fmt(security.totalStake),
        security.validators,
        if met { "met" } else { "NOT met" }
    )))
}

/// [5/5] on one chain: activateRoute (anyone may call it), unless already active.
async fn activate(conn: &Conn, conn_tx: &Conn, route_id: B256, caller: Address) -> Result<&'static str> {
    let lanes = conn.bridge().getRoute(route_id).call().await.map_err(|e| conn.read_err("the route", e))?;
    let state = conn.bridge().getLane(lanes.outboundLane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    match status_name(state.status) {
        "Active" => return Ok("already active"),
        "Pending" => {}
        other => bail!("route {route_id} is {other} on {}: it cannot be activated", conn.info.name),
    }
    let registry = conn_tx.registry();
    let call = registry.activateRoute(route_id).from(caller);
    transact(call, "activateRoute", &conn.info).await?;
    Ok("Active")
}

/// The block of the bridge's RouteOpened for `route_id` on this chain (0 if it cannot be found:
/// then the validator config says so).
async fn opened_block(conn: &Conn, route_id: B256) -> u64 {
    let filter = Filter::new()
        .address(conn.info.bridge)
        .event_signature(ZeroBridge::RouteOpened::SIGNATURE_HASH)
        .topic1(route_id)
        .from_block(0u64);
    match conn.provider.get_logs(&filter).await {
        Ok(logs) => logs.first().and_then(|l| l.block_number).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Adds `route` to the devnet manifest's `routes` (and its lanes to `lanes`) unless it is there.
/// Edits the JSON in place so fields this version does not know survive. Returns whether it was
/// added.
fn append_to_manifest(path: &Path, route: &RouteInfo, lanes: &[ManifestLane]) -> Result<bool> {
    let text = std::fs::read_to_string(path).map_err(|e| eyre!("cannot read {}: {e}", path.display()))?;
    let mut manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| eyre!("devnet manifest {} is not valid JSON: {e}", path.display()))?;
    let Some(routes) = manifest.get_mut("routes").and_then(|r| r.as_array_mut()) else {
        bail!("devnet manifest {} has no routes array: restart the devnet", path.display());
    };
    let id = serde_json::to_value(route.route_id)?;
    if routes.iter().any(|r| r.get("routeId") == Some(&id)) {
        return Ok(false);
    }
    routes.push(serde_json::to_value(route)?);
    if let Some(known) = manifest.get_mut("lanes").and_then(|l| l.as_array_mut()) {
        for lane in lanes {
            known.push(serde_json::to_value(lane)?);
        }
    }
    let tmp = path.with_extension("json.tmp");
    let out = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(&tmp, out).map_err(|e| eyre!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| eyre!("cannot replace {}: {e}", path.display()))?;
    Ok(true)
}

/// The `[[routes]]` entry of a network file.
fn network_route_toml(route: &RouteInfo) -> Result<String> {
    #[derive(serde::Serialize)]
    struct Routes<'a> {
        routes: [&'a RouteInfo; 1],
    }
    toml::to_string(&Routes { routes: [route] }).map_err(|e| eyre!("rendering the route: {e}"))
}

/// A TOML basic string (JSON's escaping is a subset of TOML's).
fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

pub const VALIDATOR_BEGIN: &str = "# ===== BEGIN validator.toml =====";
pub const VALIDATOR_END: &str = "# ===== END validator.toml =====";
pub const RELAYER_BEGIN: &str = "# ===== BEGIN relayer.toml [[lanes]] =====";
pub const RELAYER_END: &str = "# ===== END relayer.toml [[lanes]] =====";

/// A complete validator configuration for the route's two lanes (config/validator.example.toml).
fn validator_toml(
    ctx: &Context,
    plan: &Plan,
    home: &ChainInfo,
    remote: &ChainInfo,
    start_blocks: (u64, u64),
    signers: &[Address],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{VALIDATOR_BEGIN}");
    let _ = writeln!(
        out,
        "# zerobridge validator for route {} ({}): {} ({}) <-> {} ({})",
        plan.token_symbol, plan.route_id, home.name, home.chain_id, remote.name, remote.chain_id
    );
    let _ = writeln!(out, "# Security: {}.", plan.security.describe(home, remote));
    let _ = writeln!(out, "# Each of these signers runs one validator with its own key:");
    for signer in signers {
        let _ = writeln!(out, "#   {signer}");
    }
    let _ = writeln!(out, "# Run:  zerobridge validator run --config validator.toml");
    if plan.security.staked() {
        let _ = writeln!(
            out,
            "# On staked chains a running validator picks up the lanes its operator opted in to by itself:"
        );
        let _ = writeln!(out, "# no restart. The [[lanes]] below are for a validator that lists its lanes explicitly.");
    } else {
        let _ =
            writeln!(out, "# A validator that already secures other lanes adds the two [[lanes]] below to its config");
        let _ = writeln!(
            out,
            "# (keeping each start_block at or before the first message of every lane it secures) and restarts."
        );
        if let Some(manifest) = &ctx.manifest {
            let configs: Vec<String> = manifest.validators.iter().map(|v| v.config.display().to_string()).collect();
            if !configs.is_empty() {
                let _ = writeln!(out, "# On this devnet those are: {}", configs.join(", "));
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "# Signing key (`zerobridge keys new --dir /var/lib/zerobridge/keys`): replace with your signer's file."
    );
    let _ = writeln!(out, "keystore = \"/var/lib/zerobridge/keys/REPLACE_WITH_YOUR_SIGNER_ADDRESS.json\"");
    let _ = writeln!(out, "# The password is never written here: it is read from this environment variable.");
    let _ = writeln!(out, "password_env = \"ZB_KEYSTORE_PASSWORD\"");
    let _ = writeln!(out, "# Slashing-protection database: local disk, backed up, one per key.");
    let _ = writeln!(out, "data_dir = \"/var/lib/zerobridge/validator\"");
    let _ = writeln!(out, "# HTTP API for relayers (/v1/...), health and metrics; put TLS in front of it.");
    let _ = writeln!(out, "listen = \"127.0.0.1:7300\"");
    for (chain, start) in [(home, start_blocks.0), (remote, start_blocks.1)] {
        let _ = writeln!(out);
        let _ = writeln!(out, "[[chains]]");
        let _ = writeln!(out, "name = {}", q(&chain.name));
        let _ = writeln!(out, "chain_id = {}", chain.chain_id);
        let _ = writeln!(out, "# Add independent providers and raise rpc_quorum on a real chain.");
        let _ = writeln!(out, "rpc = [{}]", q(&chain.rpc));
        if let Some(ws) = ctx.ws(&chain.name) {
            let _ = writeln!(out, "ws = {}", q(&ws));
        }
        let _ = writeln!(out, "bridge = \"{}\"", chain.bridge);
        let _ = writeln!(out, "# On a proof-of-stake chain prefer finality = \"finalized\".");
        let _ = writeln!(out, "finality = {{ depth = {} }}", chain.finality_depth);
        let _ = writeln!(out, "rpc_quorum = 1");
        if start == 0 {
            let _ = writeln!(out, "# Set this to the bridge's deployment block on {}.", chain.name);
        } else {
            let _ = writeln!(
                out,
                "# The block the route was opened in on {}: none of its messages come earlier.",
                chain.name
            );
        }
        let _ = writeln!(out, "start_block = {start}");
    }
    for (lane, source, destination) in [(plan.lane_to_remote, home, remote), (plan.lane_to_home, remote, home)] {
        let _ = writeln!(out);
        let _ =
            writeln!(out, "# {} ({}) -> {} ({})", source.name, source.chain_id, destination.name, destination.chain_id);
        let _ = writeln!(out, "[[lanes]]");
        let _ = writeln!(out, "lane = \"{lane}\"");
        let _ = writeln!(out, "source = {}", q(&source.name));
    }
    let _ = writeln!(out, "{VALIDATOR_END}");
    out
}

/// The relayer's `[[lanes]]` entries for the route.
fn relayer_lanes_toml(plan: &Plan, home: &ChainInfo, remote: &ChainInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{RELAYER_BEGIN}");
    let _ = writeln!(
        out,
        "# Add to relayer.toml; its [[chains]] must include {} and {}, and `validators` the APIs of the set above.",
        home.name, remote.name
    );
    for (lane, source, destination) in [(plan.lane_to_remote, home, remote), (plan.lane_to_home, remote, home)] {
        let _ = writeln!(out, "[[lanes]]");
        let _ = writeln!(out, "lane = \"{lane}\"");
        let _ = writeln!(out, "source = {}", q(&source.name));
        let _ = writeln!(out, "destination = {}", q(&destination.name));
    }
    let _ = writeln!(out, "{RELAYER_END}");
    out
}

// ------------------------------------------------------------------------------------------
// list and status
// ------------------------------------------------------------------------------------------

/// A route as the registries and the network file know it.
#[derive(Debug, Clone)]
struct RouteView {
    route_id: B256,
    home_chain: u64,
    remote_chain: u64,
    home_token: Address,
    wrapped_token: Option<Address>,
    symbol: Option<String>,
    wrapped_name: Option<String>,
    wrapped_symbol: Option<String>,
    decimals: Option<u8>,
}

/// One chain's view of a route: its two lanes, and the registry's record.
struct ChainView {
    outbound: ZeroBridge::Lane,
    inbound: ZeroBridge::Lane,
    /// The route's liveness on this chain (of its inbound lane).
    route: ZeroBridge::Route,
    record: RouteRegistry::RouteRecord,
    bridge_paused: bool,
}

async fn connect_all(network: &Network) -> Result<Vec<Conn>> {
    let mut conns = Vec::new();
    for chain in &network.chains {
        conns.push(Conn::connect(chain).await?);
    }
    Ok(conns)
}

/// Every route: the network's (manifest or file) merged with every chain's registry.
async fn discover(ctx: &Context, conns: &[Conn]) -> Result<Vec<RouteView>> {
    let mut views: Vec<RouteView> = Vec::new();
    for route in &ctx.network.routes {
        let home = ctx.network.chain(&route.home)?;
        let remote = ctx.network.chain(&route.remote)?;
        views.push(RouteView {
            route_id: route.route_id,
            home_chain: home.chain_id,
            remote_chain: remote.chain_id,
            home_token: route.home_token,
            wrapped_token: Some(route.wrapped_token),
            symbol: Some(route.symbol.clone()),
            wrapped_name: None,
            wrapped_symbol: None,
            decimals: Some(route.decimals),
        });
    }
    for conn in conns {
        let registry = conn.registry();
        let ids = registry.routeIds().call().await.map_err(|e| conn.read_err("the registry's routeIds", e))?;
        for id in ids {
            let record = registry.getRoute(id).call().await.map_err(|e| conn.read_err("the registry", e))?;
            let index = match views.iter().position(|v| v.route_id == id) {
                Some(i) => i,
                None => {
                    let (home_chain, remote_chain) = if record.isHome {
                        (conn.info.chain_id, record.remoteChainId)
                    } else {
                        (record.homeChainId, conn.info.chain_id)
                    };
                    views.push(RouteView {
                        route_id: id,
                        home_chain,
                        remote_chain,
                        home_token: record.homeToken,
                        wrapped_token: None,
                        symbol: None,
                        wrapped_name: None,
                        wrapped_symbol: None,
                        decimals: None,
                    });
                    views.len() - 1
                }
            };
            let view = &mut views[index];
            if !record.isHome {
                view.wrapped_token = Some(record.localToken);
            }
            view.wrapped_name.get_or_insert(record.wrappedName.clone());
            view.wrapped_symbol.get_or_insert(record.wrappedSymbol.clone());
            view.decimals.get_or_insert(record.decimals);
        }
    }
    for view in &mut views {
        if view.symbol.is_none()
            && let Some(home) = conns.iter().find(|c| c.info.chain_id == view.home_chain)
        {
            view.symbol = home.token(view.home_token).symbol().call().await.ok();
        }
    }
    Ok(views)
}

fn chain_label(ctx: &Context, chain_id: u64) -> String {
    ctx.chain_by_id(chain_id).map_or_else(|| format!("chain {chain_id}"), |c| c.name.clone())
}

fn display_symbol(view: &RouteView) -> String {
    view.symbol.clone().or_else(|| view.wrapped_symbol.clone()).unwrap_or_else(|| "?".to_string())
}

async fn chain_view(conn: &Conn, route_id: B256) -> Result<Option<ChainView>> {
    let bridge = conn.bridge();
    let lanes = bridge.getRoute(route_id).call().await.map_err(|e| conn.read_err("the bridge's route", e))?;
    if lanes.outboundLane == B256::ZERO {
        return Ok(None);
    }
    let outbound = bridge.getLane(lanes.outboundLane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let inbound = bridge.getLane(lanes.inboundLane).call().await.map_err(|e| conn.read_err("the lane", e))?;
    let record = conn.registry().getRoute(route_id).call().await.map_err(|e| conn.read_err("the registry", e))?;
    let bridge_paused = bridge.paused().call().await.map_err(|e| conn.read_err("paused", e))?;
    Ok(Some(ChainView { outbound, inbound, route: lanes, record, bridge_paused }))
}

fn chain_status(view: Option<&ChainView>) -> String {
    match view {
        None => "not registered".to_string(),
        Some(v) => {
            let mut s = status_name(v.outbound.status).to_string();
            if v.bridge_paused {
                s.push_str(" (bridge paused)");
            } else if v.outbound.paused || v.inbound.paused {
                s.push_str(" (lane paused)");
            }
            s
        }
    }
}

async fn list(args: ListArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let conns = connect_all(&ctx.network).await?;
    let views = discover(&ctx, &conns).await?;
    if views.is_empty() {
        println!("no routes yet: register one with `zerobridge route register`");
        return Ok(());
    }
    let mut rows = Vec::new();
    for view in &views {
        let mut states = Vec::new();
        for chain_id in [view.home_chain, view.remote_chain] {
            let state = match conns.iter().find(|c| c.info.chain_id == chain_id) {
                Some(conn) => chain_status(chain_view(conn, view.route_id).await?.as_ref()),
                None => "not in the network".to_string(),
            };
            states.push((chain_label(&ctx, chain_id), state));
        }
        let status = if states[0].1 == states[1].1 {
            states[0].1.clone()
        } else {
            states.iter().map(|(name, s)| format!("{name} {s}")).collect::<Vec<_>>().join(", ")
        };
        rows.push((
            display_symbol(view),
            format!("{} -> {}", chain_label(&ctx, view.home_chain), chain_label(&ctx, view.remote_chain)),
            status,
            view.route_id.to_string(),
        ));
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(6);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(5);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(6);
    println!("{:<w0$}  {:<w1$}  {:<w2$}  ROUTE ID", "SYMBOL", "ROUTE", "STATUS");
    for (symbol, route, status, id) in rows {
        println!("{symbol:<w0$}  {route:<w1$}  {status:<w2$}  {id}");
    }
    Ok(())
}

/// Finds the route `wanted` (symbol, wrapped symbol or route id) among `views`.
fn pick<'a>(views: &'a [RouteView], wanted: &str) -> Result<&'a RouteView> {
    let wanted = wanted.trim();
    if let Ok(id) = wanted.parse::<B256>() {
        return views
            .iter()
            .find(|v| v.route_id == id)
            .ok_or_else(|| eyre!("no route {id} on this network: see `zerobridge route list`"));
    }
    let matches: Vec<&RouteView> = views
        .iter()
        .filter(|v| {
            v.symbol.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(wanted))
                || v.wrapped_symbol.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(wanted))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<String> = views.iter().map(display_symbol).collect();
            bail!(
                "no route for '{wanted}': routes here are {} (see `zerobridge route list`)",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )
        }
        many => {
            let ids: Vec<String> = many.iter().map(|v| v.route_id.to_string()).collect();
            bail!("'{wanted}' names {} routes ({}): pass the route id instead", many.len(), ids.join(", "))
        }
    }
}

async fn status(args: StatusArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let conns = connect_all(&ctx.network).await?;
    let views = discover(&ctx, &conns).await?;
    let view = pick(&views, &args.route)?;
    let find = |chain_id: u64| {
        conns.iter().find(|c| c.info.chain_id == chain_id).ok_or_else(|| {
            eyre!(
                "route {} uses chain {chain_id}, which the network does not list: add a [[chains]] entry",
                view.route_id
            )
        })
    };
    let home = find(view.home_chain)?;
    let remote = find(view.remote_chain)?;
    let (home_view, remote_view) =
        tokio::try_join!(chain_view(home, view.route_id), chain_view(remote, view.route_id))?;
    let (home_staking, remote_staking) = tokio::try_join!(Staking::try_open(home), Staking::try_open(remote))?;

    let decimals = view.decimals.unwrap_or(18);
    let units = |v: U256| format_amount(v, decimals);
    let symbol = display_symbol(view);
    let wrapped_symbol = view.wrapped_symbol.clone().unwrap_or_else(|| format!("wrapped {symbol}"));
    println!("route {symbol}  {}", view.route_id);
    println!(
        "  home     {} ({})  token {} ({symbol}, {decimals} decimals)",
        home.info.name, home.info.chain_id, view.home_token
    );
    match (view.wrapped_token, &view.wrapped_name) {
        (Some(w), Some(name)) => println!(
            "  remote   {} ({})  wrapped {w} ({name}, {wrapped_symbol})",
            remote.info.name, remote.info.chain_id
        ),
        (Some(w), None) => println!("  remote   {} ({})  wrapped {w}", remote.info.name, remote.info.chain_id),
        (None, _) => println!("  remote   {} ({})  not registered there yet", remote.info.name, remote.info.chain_id),
    }
    let mut owners = Vec::new();
    match (&home_view, &remote_view) {
        (Some(h), Some(r)) if h.record.owner == r.record.owner => owners.push(h.record.owner.to_string()),
        _ => {
            for (conn, v) in [(home, &home_view), (remote, &remote_view)] {
                if let Some(v) = v {
                    owners.push(format!("{} on {}", v.record.owner, conn.info.name));
                }
            }
        }
    }
    let bond = home_view.as_ref().map_or(U256::ZERO, |v| v.record.bond);
    println!(
        "  owner    {}; bond {} native coin",
        if owners.is_empty() { "-".to_string() } else { owners.join(", ") },
        format_amount(bond, 18)
    );
    println!(
        "  status   {} {}, {} {}",
        home.info.name,
        chain_status(home_view.as_ref()),
        remote.info.name,
        chain_status(remote_view.as_ref())
    );

    // Vault versus wrapped supply.
    let locked = home_view.as_ref().map(|v| v.outbound.locked);
    let supply = match view.wrapped_token {
        Some(w) if remote_view.is_some() => {
            Some(remote.token(w).totalSupply().call().await.map_err(|e| remote.read_err("the wrapped supply", e))?)
        }
        _ => None,
    };
    match (locked, supply) {
        (Some(locked), Some(supply)) => println!(
            "  vault    {} {symbol} locked on {}; wrapped supply {} {wrapped_symbol} on {} ({})",
            units(locked),
            home.info.name,
            units(supply),
            remote.info.name,
            if supply <= locked { "covered" } else { "WARNING: wrapped supply exceeds the vault" }
        ),
        (Some(locked), None) => println!("  vault    {} {symbol} locked on {}", units(locked), home.info.name),
        _ => {}
    }

    for (source, source_view, destination, destination_view) in
        [(home, &home_view, remote, &remote_view), (remote, &remote_view, home, &home_view)]
    {
        let lane = zb_protocol::lane_id(
            source.info.chain_id,
            source.info.bridge,
            destination.info.chain_id,
            destination.info.bridge,
            view.route_id,
        );
        println!("lane {} -> {}  {lane}", source.info.name, destination.info.name);
        let out = source_view.as_ref().map(|v| &v.outbound);
        let inn = destination_view.as_ref().map(|v| &v.inbound);
        let lane_state = |l: Option<&ZeroBridge::Lane>| match l {
            None => "not registered".to_string(),
            Some(l) => format!("{}{}", status_name(l.status), if l.paused { ", paused" } else { "" }),
        };
        println!(
            "  status         {} {} (source), {} {} (destination)",
            source.info.name,
            lane_state(out),
            destination.info.name,
            lane_state(inn)
        );
        let sent = out.map_or(0, |l| l.sequence);
        let delivered = inn.map_or(0, |l| l.sequence);
        println!("  sequence       sent {sent}, delivered {delivered} ({} in flight)", sent.saturating_sub(delivered));
        if let Some(l) = out {
            if l.feeBps == 0 {
                println!("  fee            none");
            } else {
                println!("  fee            {} bps to {}", l.feeBps, l.feeCollector);
            }
            println!(
                "  limits         min {}, max {} per transfer",
                units(U256::from(l.minAmount)),
                units(U256::from(l.maxAmount))
            );
        }
        let mut capacity = Vec::new();
        if let Some(l) = out {
            let available = source
                .bridge()
                .availableCapacity(lane)
                .call()
                .await
                .map_err(|e| source.read_err("availableCapacity", e))?;
            capacity.push(format!(
                "out {} of {} a day available ({})",
                units(available),
                units(U256::from(l.capacity)),
                source.info.name
            ));
        }
        if let Some(l) = inn {
            let available = destination
                .bridge()
                .availableCapacity(lane)
                .call()
                .await
                .map_err(|e| destination.read_err("availableCapacity", e))?;
            capacity.push(format!(
                "in {} of {} a day available ({})",
                units(available),
                units(U256::from(l.capacity)),
                destination.info.name
            ));
            if l.largeTransferThreshold == 0 {
                println!("  holds          off");
            } else {
                println!(
                    "  holds          transfers of {} or more are held on {}",
                    units(U256::from(l.largeTransferThreshold)),
                    destination.info.name
                );
            }
        }
        if !capacity.is_empty() {
            println!("  capacity       {}", capacity.join("; "));
        }
        let set_of = |l: Option<&ZeroBridge::Lane>| match l {
            Some(l) if l.validatorSetHash != B256::ZERO => l.validatorSetHash.to_string(),
            Some(_) => "none".to_string(),
            None => "-".to_string(),
        };
        let (checked, attesting) = (set_of(inn), set_of(out));
        println!(
            "  validator set  {checked} (checked on {}){}",
            destination.info.name,
            if checked == attesting {
                String::new()
            } else {
                format!("; {attesting} on {} (differs)", source.info.name)
            }
        );
        let now = chain_now(destination).await.ok();
        for line in liveness_lines(out, destination_view.as_ref().map(|v| &v.route), &destination.info.name, now) {
            println!("  {line}");
        }
        let (staking, token_symbol) = if source.info.chain_id == home.info.chain_id {
            (home_staking.as_ref(), &symbol)
        } else {
            (remote_staking.as_ref(), &wrapped_symbol)
        };
        let lane_view = LaneView { source, destination, staking, out, inn, route_id: view.route_id, lane };
        print_economic_security(&lane_view, decimals, token_symbol).await?;
    }
    Ok(())
}

/// The lane's liveness: the default timeout of its sends (outbound lane on the source), the
/// fallback set, strikes and Emergency of the route on the destination (`now`: its clock).
pub(crate) fn liveness_lines(
    out: Option<&ZeroBridge::Lane>,
    route: Option<&ZeroBridge::Route>,
    destination: &str,
    now: Option<u64>,
) -> Vec<String> {
    let wait = crate::format::format_wait;
    let mut lines = Vec::new();
    if let Some(out) = out {
        lines.push(match out.defaultTimeout {
            0 => "timeout        none by default (a send may set --deadline)".to_string(),
            t => format!("timeout        {} by default: refunded if not delivered by then", wait(u64::from(t))),
        });
    }
    let Some(route) = route else { return lines };
    if route.fallbackSetHash == B256::ZERO {
        lines.push(format!("fallback       none on {destination}: only the primary set delivers"));
    } else {
        lines.push(format!(
            "fallback       set {} on {destination}: delivers what waited {}",
            route.fallbackSetHash,
            wait(u64::from(route.fallbackDelay))
        ));
    }
    let limit = if route.strikeLimit == 0 { "no limit".to_string() } else { format!("limit {}", route.strikeLimit) };
    let last =
        if route.lastStrikeAt == 0 { String::new() } else { format!(", last at {}", format_utc(route.lastStrikeAt)) };
    lines.push(format!("strikes        {} ({limit}){last}", route.strikes));
    if route.graceUntil != 0 {
        let grace = match now {
            Some(now) if now < route.graceUntil => {
                format!(
                    "grace until {} ({} left): the fallback delivers without waiting",
                    format_utc(route.graceUntil),
                    wait(route.graceUntil - now)
                )
            }
            _ => format!("grace ended {}", format_utc(route.graceUntil)),
        };
        lines.push(format!("EMERGENCY      on {destination}: no new sends from the home chain; {grace}"));
    } else {
        lines.push(format!("emergency      no (grace would last {})", wait(u64::from(route.emergencyGrace))));
    }
    lines
}

/// One lane of a route as `status` shows it.
struct LaneView<'a> {
    source: &'a Conn,
    destination: &'a Conn,
    /// The source chain's stake manager, if it is staked.
    staking: Option<&'a Staking>,
    out: Option<&'a ZeroBridge::Lane>,
    inn: Option<&'a ZeroBridge::Lane>,
    route_id: B256,
    lane: B256,
}

/// The most a lane can carry within a window: the outbound bucket is full at the start and
/// refills fully once a day (TokenBucket.sol), so at most capacity × (1 + window / 1 day). Over a
/// set's lifetime this is what one set, forging or not, can move while its stake is locked.
pub(crate) fn max_flow_within(capacity: U256, window_secs: u64) -> U256 {
    const DAY: u64 = 86_400;
    capacity * U256::from(DAY + window_secs) / U256::from(DAY)
}

/// The lane's economic security: the stake behind its snapshot, the least a forging quorum
/// loses, the route's level, what can flow meanwhile, and whether the destination checks the
/// snapshot's set.
async fn print_economic_security(view: &LaneView<'_>, decimals: u8, token_symbol: &str) -> Result<()> {
    let source = view.source;
    let on = &source.info.name;
    let Some(staking) = view.staking else {
        println!("  stake          none: {on} has no stake manager (a governance-configured set)");
        return Ok(());
    };
    let asset = &staking.asset;
    let security = staking.sm().laneSecurity(view.lane).call().await.map_err(|e| source.read_err("laneSecurity", e))?;
    let snapshot = staking.snapshot(view.lane).await?;
    if snapshot.committed {
        println!(
            "  stake          {} by {} validators (snapshot of epoch {} on {on}); a quorum that signs a forgery loses \
             at least {} (net of the reporter share)",
            asset.fmt(security.totalStake),
            security.validators,
            snapshot.epoch,
            asset.fmt(security.quorumLoss)
        );
        let now = chain_now(source).await?;
        println!("  set expiry     {}", expiry_text(&snapshot_set(&snapshot)?, now));
    } else {
        println!(
            "  stake          no snapshot committed on {on} yet (operators opt in, then `zerobridge stake commit`)"
        );
    }
    let level = source
        .registry()
        .securityLevels(view.route_id)
        .call()
        .await
        .map_err(|e| source.read_err("securityLevels", e))?;
    let min_validators = level.minValidators.max(1);
    let met = security.totalStake >= level.minTotalStake && security.validators >= U256::from(min_validators);
    println!(
        "  level          at least {} from at least {min_validators} validators: {}",
        asset.fmt(level.minTotalStake),
        if met { "met" } else { "NOT met" }
    );
    if let Some(out) = view.out {
        let capacity = U256::from(out.capacity);
        let lifetime = staking.config.set_lifetime;
        println!(
            "  max outflow    {} {token_symbol} within the {} a set can sign ({} a day x (1 + {} / 1 day))",
            format_amount(max_flow_within(capacity, lifetime), decimals),
            crate::format::format_wait(lifetime),
            format_amount(capacity, decimals),
            crate::format::format_wait(lifetime)
        );
    }
    if let Some(inn) = view.inn
        && snapshot.committed
    {
        let destination = &view.destination.info.name;
        if inn.validatorSetHash == snapshot.setHash {
            println!("  inbound set    {destination} checks the snapshot's set {}", snapshot.setHash);
        } else {
            println!(
                "  inbound set    {destination} checks {}, the snapshot on {on} is {} (differs: a set update is in \
                 flight or due)",
                inn.validatorSetHash, snapshot.setHash
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: RouteCommand,
    }

    fn register_args(extra: &[&str]) -> RegisterArgs {
        let mut argv = vec![
            "route",
            "register",
            "--token",
            "0x1111111111111111111111111111111111111111",
            "--from",
            "ethereum",
            "--to",
            "bsc",
            "--wrapped-name",
            "Wrapped",
            "--wrapped-symbol",
            "wX",
        ];
        argv.extend(extra);
        match Cli::try_parse_from(argv).map(|c| c.command) {
            Ok(RouteCommand::Register(args)) => *args,
            Ok(_) => panic!("not a register command"),
            Err(e) => panic!("{e}"),
        }
    }

    fn err<T>(r: Result<T>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn params_use_the_token_decimals_and_defaults() {
        let collector = Address::repeat_byte(7);
        let p = route_params(&register_args(&[]), 6, collector).expect("defaults are valid");
        assert_eq!(p.minAmount, 10_000); // 0.01 with 6 decimals
        assert_eq!(p.maxAmount, 1_000_000_000);
        assert_eq!(p.outboundCapacity, 100_000_000_000);
        assert_eq!(p.inboundCapacity, p.outboundCapacity);
        assert_eq!(p.largeTransferThreshold, 50_000_000_000);
        assert_eq!((p.feeBps, p.feeCollector), (10, collector));

        let p = route_params(
            &register_args(&["--fee-bps", "0", "--hold-above", "0", "--inbound-daily-limit", "5000"]),
            18,
            collector,
        )
        .expect("valid");
        assert_eq!((p.feeBps, p.feeCollector, p.largeTransferThreshold), (0, Address::ZERO, 0));
        assert_eq!(p.inboundCapacity, 5000 * 10u128.pow(18));
    }

    #[test]
    fn bad_limits_are_refused_with_the_fix() {
        let c = Address::repeat_byte(7);
        assert!(
            err(route_params(&register_args(&["--min", "5", "--max", "1"]), 18, c))
                .contains("--min 5 is above --max 1")
        );
        assert!(err(route_params(&register_args(&["--daily-limit", "10"]), 18, c)).contains("raise --daily-limit"));
        assert!(
            err(route_params(&register_args(&["--inbound-daily-limit", "10"]), 18, c)).contains("could never arrive")
        );
        assert!(
            err(route_params(&register_args(&["--min", "0.001"]), 2, c)).contains("--min: amount 0.001 has 3 decimals")
        );
        assert!(err(route_params(&register_args(&["--max", "1e9"]), 18, c)).contains("--max"));
    }

    #[test]
    fn max_flow_counts_the_refills_of_the_unbonding_window() {
        let capacity = U256::from(100_000u64);
        // Devnet: 10 min of unbonding adds 10/1440 of a day's refill to the full bucket.
        assert_eq!(max_flow_within(capacity, 600), U256::from(100_694u64));
        assert_eq!(max_flow_within(capacity, 0), capacity);
        assert_eq!(max_flow_within(capacity, 7 * 86_400), U256::from(800_000u64));
    }

    #[test]
    fn liveness_reads_plainly() {
        let mut route = ZeroBridge::Route {
            outboundLane: B256::ZERO,
            inboundLane: B256::ZERO,
            capacityCap: 0,
            holdThresholdCap: 0,
            fallbackSetHash: B256::ZERO,
            fallbackDelay: 0,
            emergencyGrace: 0,
            strikeLimit: 0,
            strikes: 0,
            lastStrikeAt: 0,
            graceUntil: 0,
        };
        let none = liveness_lines(None, Some(&route), "bsc", Some(0));
        assert!(none[0].contains("fallback       none on bsc"), "{none:?}");
        route.fallbackSetHash = B256::repeat_byte(9);
        route.fallbackDelay = 120;
        route.strikes = 1;
        route.strikeLimit = 3;
        route.emergencyGrace = 86_400;
        let lines = liveness_lines(None, Some(&route), "bsc", Some(1_000));
        assert!(lines.iter().any(|l| l.contains("delivers what waited 2 min")), "{lines:?}");
        assert!(lines.iter().any(|l| l == "strikes        1 (limit 3)"), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("emergency      no (grace would last 24 h)")), "{lines:?}");
        route.graceUntil = 1_700_000_000;
        let lines = liveness_lines(None, Some(&route), "bsc", Some(1_700_000_000 - 3_600));
        assert!(lines.iter().any(|l| l.starts_with("EMERGENCY") && l.contains("1 h left")), "{lines:?}");
    }

    #[test]
    fn sets_need_two_thirds() {
        let members: Vec<Address> = (1..=4).map(Address::repeat_byte).collect();
        let set = build_set(&members, 3).expect("3 of 4");
        assert_eq!(set.threshold, 3);
        assert_eq!(set.valid_until, NEVER_EXPIRES, "a governance-configured set never expires");
        assert!(
            err(build_set(&members, 2)).contains("threshold 2 is below two thirds of 4 validators: use --threshold 3")
        );
        assert!(err(build_set(&members, 5)).contains("lower --threshold to at most 4"));
        assert!(err(build_set(&[members[0], members[0]], 2)).contains("distinct"));
        assert!(err(build_set(&[], 1)).contains("empty"));
    }

    fn chain(name: &str, chain_id: u64, byte: u8) -> ChainInfo {
        ChainInfo {
            name: name.into(),
            chain_id,
            rpc: format!("http://127.0.0.1:{}", 8000 + chain_id),
            bridge: Address::repeat_byte(byte),
            registry: Address::repeat_byte(byte + 1),
            finality_depth: 3,
            manager: None,
            stake_manager: None,
        }
    }

    #[test]
    fn printed_validator_config_loads() {
        let (home, remote) = (chain("ethereum", 1, 0xaa), chain("bsc", 56, 0xbb));
        let token = Address::repeat_byte(0x11);
        let route_id = zb_protocol::route_id(1, token, 56);
        let members: Vec<Address> = (1..=4).map(Address::repeat_byte).collect();
        let plan = Plan {
            owner: Address::repeat_byte(9),
            token,
            token_name: "Token".into(),
            token_symbol: "TOK".into(),
            decimals: 18,
            route_id,
            lane_to_remote: zb_protocol::lane_id(1, home.bridge, 56, remote.bridge, route_id),
            lane_to_home: zb_protocol::lane_id(56, remote.bridge, 1, home.bridge, route_id),
            params: route_params(&register_args(&[]), 18, Address::repeat_byte(9)).expect("params"),
            security: SecurityPlan {
                configured: Some((build_set(&members, 3).expect("set"), "standard, 3 of 4".into())),
                home_level: None,
                remote_level: None,
            },
            bond: U256::ZERO,
        };
        let ctx = Context {
            network: Network {
                chains: vec![home.clone(), remote.clone()],
                routes: vec![],
                validators: vec![],
                fallback_validators: vec![],
                threshold: None,
            },
            manifest: None,
            network_file: None,
            http: reqwest::Client::new(),
        };
        let text = validator_toml(&ctx, &plan, &home, &remote, (100, 200), &members);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("validator.toml");
        std::fs::write(&path, &text).expect("write");
        let config = zb_config::validator::ValidatorConfig::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.lanes.len(), 2);
        assert_eq!((config.lanes[0].lane, config.lanes[0].source.as_str()), (plan.lane_to_remote, "ethereum"));
        assert_eq!((config.lanes[1].lane, config.lanes[1].source.as_str()), (plan.lane_to_home, "bsc"));
        assert_eq!(config.chains[0].bridge, home.bridge);
        assert_eq!(config.chains[1].start_block, 200);
        assert_eq!(config.chains[0].finality, zb_chain::Finality::Depth(3));

        let relayer = relayer_lanes_toml(&plan, &home, &remote);
        #[derive(serde::Deserialize)]
        struct Lanes {
            lanes: Vec<toml::Value>,
        }
        let lanes: Lanes = toml::from_str(&relayer).expect("relayer lanes parse");
        assert_eq!(lanes.lanes.len(), 2);
        assert_eq!(lanes.lanes[1].get("destination").and_then(|v| v.as_str()), Some("ethereum"));

        let route = RouteInfo {
            route_id,
            symbol: "TOK".into(),
            decimals: 18,
            home: "ethereum".into(),
            remote: "bsc".into(),
            home_token: token,
            wrapped_token: Address::repeat_byte(0x22),
            liveness: None,
        };
        let entry = network_route_toml(&route).expect("render");
        let network_text = format!(
            "[[chains]]\nname = \"ethereum\"\nchainId = 1\nrpc = \"http://x\"\nbridge = \"{}\"\nregistry = \"{}\"\n\
             [[chains]]\nname = \"bsc\"\nchainId = 56\nrpc = \"http://y\"\nbridge = \"{}\"\nregistry = \"{}\"\n{entry}",
            home.bridge, home.registry, remote.bridge, remote.registry
        );
        let network: Network = toml::from_str(&network_text).unwrap_or_else(|e| panic!("{e}\n{network_text}"));
        assert_eq!(network.routes, vec![route]);
    }

    #[test]
    fn manifest_append_keeps_unknown_fields_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("manifest.json");
        std::fs::write(&path, r#"{"routes": [], "lanes": [], "futureField": 7}"#).expect("write");
        let route = RouteInfo {
            route_id: B256::repeat_byte(1),
            symbol: "TOK".into(),
            decimals: 6,
            home: "ethereum".into(),
            remote: "bsc".into(),
            home_token: Address::repeat_byte(2),
            wrapped_token: Address::repeat_byte(3),
            liveness: None,
        };
        let lanes = [ManifestLane {
            lane: B256::repeat_byte(4),
            route_id: route.route_id,
            source: "ethereum".into(),
            destination: "bsc".into(),
        }];
        assert!(append_to_manifest(&path, &route, &lanes).expect("append"));
        assert!(!append_to_manifest(&path, &route, &lanes).expect("append again"));
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(value["futureField"], 7);
        assert_eq!(value["routes"].as_array().map(Vec::len), Some(1));
        assert_eq!(value["lanes"].as_array().map(Vec::len), Some(1));
        assert_eq!(value["routes"][0]["symbol"], "TOK");
    }

    #[test]
    fn routes_are_picked_by_symbol_or_id() {
        let view = |byte: u8, symbol: &str, remote_chain: u64| RouteView {
            route_id: B256::repeat_byte(byte),
            home_chain: 1,
            remote_chain,
            home_token: Address::repeat_byte(byte),
            wrapped_token: None,
            symbol: Some(symbol.into()),
            wrapped_name: None,
            wrapped_symbol: Some(format!("w{symbol}")),
            decimals: Some(18),
        };
        let views = vec![view(1, "DEMO", 56), view(2, "TOK", 56), view(3, "TOK", 137)];
        assert_eq!(pick(&views, "demo").map(|v| v.route_id).ok(), Some(B256::repeat_byte(1)));
        assert_eq!(pick(&views, "wDEMO").map(|v| v.route_id).ok(), Some(B256::repeat_byte(1)));
        assert_eq!(pick(&views, &B256::repeat_byte(3).to_string()).map(|v| v.remote_chain).ok(), Some(137));
        assert!(err(pick(&views, "TOK")).contains("pass the route id"));
        assert!(err(pick(&views, "NOPE")).contains("routes here are DEMO, TOK, TOK"));
    }
}
