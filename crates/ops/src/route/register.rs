//! `route register`: the checks, the summary and the five steps of a registration.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::registry::RouteRegistry;

use super::RegisterArgs;
use super::config::{network_route_toml, relayer_lanes_toml, validator_toml};
use super::errors::explain;
use super::install::{Side, activate, devnet_operators, inbound_set, outbound_set, security_level};
use super::manifest::append_to_manifest;
use super::security::{SecurityPlan, choose_security};
use crate::context::{Conn, Context, load_signer, manifest_signer, signer_from_env, transact_explained};
use crate::explain::status_name;
use crate::format::{format_amount, parse_amount};
use crate::network::{ChainInfo, ManifestLane, RouteInfo};
use crate::progress::Progress;
use crate::stake::Staking;

/// Everything `register` decided before sending.
pub(super) struct Plan {
    /// The route owner: the token's owner, who signs.
    pub(super) owner: Address,
    pub(super) token: Address,
    pub(super) token_name: String,
    pub(super) token_symbol: String,
    pub(super) decimals: u8,
    pub(super) route_id: B256,
    pub(super) lane_to_remote: B256,
    pub(super) lane_to_home: B256,
    pub(super) params: RouteRegistry::RouteParams,
    pub(super) security: SecurityPlan,
    pub(super) bond: U256,
}

/// Registers the route, reporting the summary, each step and the configuration text to print as
/// `progress` steps.
pub async fn register(args: RegisterArgs, progress: &dyn Progress) -> Result<()> {
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
    check_peer(&home, &remote_info).await?;
    check_peer(&remote, &home_info).await?;

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
    print_summary(&args, &plan, &home_info, &remote_info, governance, devnet, progress);
    if args.dry_run {
        progress.step("\ndry run: nothing sent");
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
    progress.step("");
    let home_block = if home_registered {
        progress.step(&format!("[1/5] {}: already registered (owner {caller})", home_info.name));
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
        let receipt = transact_explained(call, "registerRoute", &home_info, explain).await?;
        progress.step(&format!(
            "[1/5] {}: registered by the token owner, bond paid (tx {}, block {})",
            home_info.name,
            receipt.transaction_hash,
            receipt.block_number.unwrap_or_default()
        ));
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
    progress.step(&format!(
        "[2/5] {}: wrapped token {} deployed ({} decimals)",
        remote_info.name, wrapped, record.decimals
    ));

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
        progress.step(&format!(
            "[3/5] lane {} -> {}: set {} ({source_note}); on {}: {inbound}",
            source.name,
            destination.name,
            set.hash(),
            destination.name
        ));
    }

    // [4/5] security levels on the staked chains (the route owner's), checked against the snapshots.
    let (home_level, remote_level) = tokio::try_join!(
        security_level(&home_side, route_id, lane_to_remote, caller),
        security_level(&remote_side, route_id, lane_to_home, caller)
    )?;
    for (chain, level) in [(&home_info, home_level), (&remote_info, remote_level)] {
        if let Some(level) = level {
            progress.step(&format!("[4/5] {}: {level}", chain.name));
        }
    }
    if !plan.security.staked() {
        progress.step("[4/5] no stake manager on either chain: no security level to set");
    }

    // [5/5] activation on both chains (anyone may call it).
    let (home_active, remote_active) =
        tokio::try_join!(activate(&home, &home_tx, route_id, caller), activate(&remote, &remote_tx, route_id, caller))?;
    progress.step(&format!("[5/5] activated: {} {home_active}, {} {remote_active}", home_info.name, remote_info.name));

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
    progress.step(&format!(
        "\nRoute {} ({}) is Active on {} and {}.",
        plan.token_symbol, route_id, home_info.name, remote_info.name
    ));
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
            progress.step(&format!(
                "Added to {}: `zerobridge send` and `balance` know {} now.",
                path.display(),
                plan.token_symbol
            ));
        }
    } else if !ctx.network.routes.iter().any(|r| r.route_id == route_id) {
        progress.step("\n# Add this route to your network file so send/balance find it:");
        progress.step(&text_block(network_route_toml(&route)?));
    }

    let start_blocks = (home_block, remote_block);
    let mut signers: Vec<Address> = Vec::new();
    for member in to_remote.0.members.iter().chain(&to_home.0.members) {
        if !signers.contains(&member.signer) {
            signers.push(member.signer);
        }
    }
    progress.step("");
    let facts = plan.facts(&home_info, &remote_info);
    progress.step(&text_block(validator_toml(&ctx, &facts, &home_info, &remote_info, start_blocks, &signers)));
    progress.step("");
    progress.step(&text_block(relayer_lanes_toml(&facts, &home_info, &remote_info)));
    Ok(())
}

/// The RouteParams both chains get: outbound limits apply on each source, inbound on each
/// destination, so the same values hold for both directions.
pub(super) fn route_params(
    args: &RegisterArgs,
    decimals: u8,
    collector: Address,
) -> Result<RouteRegistry::RouteParams> {
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

pub(super) fn print_summary(
    args: &RegisterArgs,
    plan: &Plan,
    home: &ChainInfo,
    remote: &ChainInfo,
    governance: Address,
    // On the devnet: how many of its operators opt in to the new lanes.
    devnet: Option<usize>,
    progress: &dyn Progress,
) {
    let caller = plan.owner;
    let d = plan.decimals;
    let units = |v: u128| format_amount(U256::from(v), d);
    let p = &plan.params;
    progress.step(&format!(
        "Registering a bridge for {} ({}, {} decimals) {}",
        plan.token_name, plan.token_symbol, d, plan.token
    ));
    progress.step(&format!(
        "  home       {} (chain {}): the token is locked in the bridge's vault",
        home.name, home.chain_id
    ));
    progress.step(&format!(
        "  remote     {} (chain {}): wrapped token \"{}\" ({}), {} decimals, deployed by the registry",
        remote.name, remote.chain_id, args.wrapped_name, args.wrapped_symbol, d
    ));
    progress.step(&format!("  route id   {}", plan.route_id));
    progress.step(&format!("  lanes      {} -> {} {}", home.name, remote.name, plan.lane_to_remote));
    progress.step(&format!("             {} -> {} {}", remote.name, home.name, plan.lane_to_home));
    progress.step(&format!("  owner      {caller} (the token's owner())"));
    if p.feeBps == 0 {
        progress.step("  fee        none");
    } else {
        progress.step(&format!("  fee        {} bps to {}", p.feeBps, p.feeCollector));
    }
    progress.step(&format!(
        "  limits     min {} / max {} per transfer; {} a day out and {} a day in, per lane",
        units(p.minAmount),
        units(p.maxAmount),
        units(p.outboundCapacity),
        units(p.inboundCapacity)
    ));
    if p.largeTransferThreshold == 0 {
        progress.step("  holds      off");
    } else {
        progress.step(&format!(
            "  holds      transfers of {} or more wait for the guardians' delay",
            units(p.largeTransferThreshold)
        ));
    }
    progress.step(&format!("  security   {}", plan.security.describe(home, remote)));
    if let Some((set, _)) = &plan.security.configured {
        let members: Vec<String> = set.members.iter().map(|m| m.signer.to_string()).collect();
        progress.step(&format!("             configured signers: {}", members.join(", ")));
    }
    if plan.security.staked() {
        progress.step(
            "             each staked lane's set is the operators' stake snapshot on its source chain; the route \
             activates once it meets the level",
        );
        if let Some(operators) = devnet.filter(|n| *n > 0) {
            progress.step(&format!(
                "  operators  the devnet's {operators} operators opt in to the new lanes with their active stake"
            ));
        } else {
            progress.step(&format!(
                "  operators  opt in on their own (`zerobridge stake opt-in --route {}`); re-run this command once \
                 they have",
                plan.token_symbol
            ));
        }
    }
    progress.step(&format!(
        "  bond       {} native coin on {} (registrationBond)",
        format_amount(plan.bond, 18),
        home.name
    ));
    progress.step(&format!(
        "  governance {governance} ({}): registerRemoteRoute on {}, each lane's set on its destination chain; in \
         production these calls go through the committee",
        if devnet.is_some() { "the devnet's deployer" } else { "--governance-key-env" },
        remote.name
    ));
}

/// [2/5]: registerRemoteRoute by governance, unless already there. Returns the block it
/// happened in (best effort when resuming).
pub(super) async fn register_remote(
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
    let receipt = transact_explained(call, "registerRemoteRoute (governance)", &remote.info, explain).await?;
    Ok(receipt.block_number.unwrap_or_default())
}

/// The block of the bridge's RouteOpened for `route_id` on this chain (0 if it cannot be found:
/// then the validator config says so).
pub(super) async fn opened_block(conn: &Conn, route_id: B256) -> u64 {
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

/// A block of text that ends in a newline, as one step (the step adds the newline back).
fn text_block(text: String) -> String {
    text.strip_suffix('\n').map(str::to_string).unwrap_or(text)
}

/// Fails unless the bridge on `chain` records `peer`'s bridge as the bridge of `peer`'s chain.
async fn check_peer(chain: &Conn, peer: &ChainInfo) -> Result<()> {
    let known =
        chain.bridge().peers(peer.chain_id).call().await.map_err(|e| chain.read_err("the bridge's peers", e))?;
    if known != peer.bridge {
        bail!(
            "the bridge on {} knows {known} as the bridge of {} but the network says {}: fix the network file, or \
             governance must call setPeer",
            chain.info.name,
            peer.name,
            peer.bridge
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, register_args};
    use super::*;

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
}
