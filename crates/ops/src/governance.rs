//! Role holders' commands (docs/governance.md): `guardian`, `regulator`, `compliance`, `gov`
//! (the committee's proposals).
//!
//! Keys and network are chosen as for `route`: `--private-key-env` / `--keystore`, the devnet
//! manifest's deployer by default; `--network FILE` or the devnet manifest.

use std::collections::BTreeMap;

use alloy::dyn_abi::{DynSolType, DynSolValue, JsonAbiExt};
use alloy::json_abi::Function;
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use eyre::{Result, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::committee::Committee;

use crate::context::{
    Conn, Context, KeyArgs, NetworkArgs, load_signer, looks_unreachable, transact_explained, unreachable_chain,
};
use crate::format::one_line;
use crate::network::ChainInfo;
use crate::progress::Progress;

// ------------------------------------------------------------------------------------------
// Workflow inputs and reports
// ------------------------------------------------------------------------------------------

/// A transaction a role holder's command sent.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The chain's name.
    pub chain: String,
    /// The signing account.
    pub caller: Address,
    pub tx: B256,
}

/// `guardian status`: the bridge's paused flag and every known lane's.
#[derive(Debug, Clone)]
pub struct PausedFlags {
    pub chain: String,
    pub bridge_paused: bool,
    pub lanes: Vec<LanePaused>,
}

#[derive(Debug, Clone)]
pub struct LanePaused {
    pub symbol: String,
    /// "outbound" or "inbound".
    pub direction: &'static str,
    pub lane: B256,
    pub paused: bool,
}

/// `regulator list`: the accounts frozen on a chain, with their state.
#[derive(Debug, Clone)]
pub struct FrozenAccounts {
    pub chain: String,
    /// (account, frozen, attestedUntil)
    pub accounts: Vec<(Address, bool, u64)>,
}

/// A committee proposal after a vote, queue, execute or cancel.
#[derive(Debug, Clone)]
pub struct ProposalAction {
    pub sent: Sent,
    pub state: &'static str,
    pub eta: u64,
}

/// `gov status`: proposals of a committee.
#[derive(Debug, Clone)]
pub struct ProposalStatus {
    pub id: u64,
    pub state: &'static str,
    pub proposal: Committee::Proposal,
    /// Participation and approval so far, in bps (rounded up).
    pub participation: u128,
    pub approval: u128,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ChainArgs {
    /// Chain name or id.
    #[arg(long)]
    pub chain: String,
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PauseArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// One lane id.
    #[arg(long, conflicts_with = "route")]
    pub lane: Option<B256>,
    /// A route (symbol or id): both its lanes on this chain.
    #[arg(long)]
    pub route: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct AccountArgs {
    pub account: Address,
    #[command(flatten)]
    pub chain: ChainArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct AttestArgs {
    pub account: Address,
    /// Unix seconds, or relative: +30d, +12h, +15m, +90s.
    #[arg(long)]
    pub expires: String,
    #[command(flatten)]
    pub chain: ChainArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CommitteeArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// The committee contract on that chain.
    #[arg(long)]
    pub committee: Address,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    pub committee: CommitteeArgs,
    /// `<target>:<function signature>[:<args,...>]`; target is an address or bridge, registry,
    /// manager, committee. Repeat for several calls, made in order. E.g. `bridge:unpause()`.
    #[arg(long = "call", required = true)]
    pub calls: Vec<String>,
    #[arg(long)]
    pub description: String,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct VoteArgs {
    pub id: u64,
    #[command(flatten)]
    pub committee: CommitteeArgs,
    #[arg(long, conflicts_with = "no", required_unless_present = "no")]
    pub yes: bool,
    #[arg(long)]
    pub no: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct IdArgs {
    pub id: u64,
    #[command(flatten)]
    pub committee: CommitteeArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GovStatusArgs {
    pub id: Option<u64>,
    #[command(flatten)]
    pub committee: CommitteeArgs,
}

// ------------------------------------------------------------------------------------------
// Shared
// ------------------------------------------------------------------------------------------

async fn read_conn(args: &ChainArgs) -> Result<(Context, Conn)> {
    let ctx = Context::load(&args.network)?;
    let info = ctx.network.chain(&args.chain)?.clone();
    let conn = Conn::connect(&info).await?;
    Ok((ctx, conn))
}

async fn signing_conn(args: &ChainArgs, key: &KeyArgs) -> Result<(Context, Conn, Address)> {
    let (ctx, conn) = read_conn(args).await?;
    let signer = load_signer(key, &ctx)?;
    let address = signer.address();
    let conn = conn.with_wallet(EthereumWallet::from(signer))?;
    Ok((ctx, conn, address))
}

pub(crate) async fn manager_of(conn: &Conn) -> Result<Address> {
    if let Some(m) = conn.info.manager {
        return Ok(m);
    }
    conn.bridge().authority().call().await.map_err(|e| conn.read_err("the bridge's authority()", e))
}

fn role_name(role: &str) -> &'static str {
    match role {
        "pause" | "pauseLane" => "GUARDIAN",
        "freeze" | "unfreeze" => "REGULATOR",
        "attest" | "revoke" => "COMPLIANCE_ISSUER",
        _ => "the required",
    }
}

fn explain(err: &alloy::contract::Error, what: &str, chain: &ChainInfo) -> eyre::Report {
    use Committee::CommitteeErrors as C;
    use ZeroBridge::ZeroBridgeErrors as Z;
    let on = &chain.name;
    if let Some(e) = err.as_decoded_interface_error::<Z>() {
        let text = match e {
            Z::AccessManagedUnauthorized(e) => format!(
                "AccessManagedUnauthorized: {} does not hold the {} role on {on}: use that role's key (--private-key-env or --keystore)",
                e.caller,
                role_name(what)
            ),
            Z::UnknownLane(e) => format!("lane {} is not known to the bridge on {on}", e.lane),
            Z::InvalidExpiry(e) => {
                format!("expiry {} is not in the future on {on}: pass a later --expires", e.expiresAt)
            }
            other => crate::explain::bridge_error(&other).unwrap_or_else(|| format!("{other:?}")),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    if let Some(e) = err.as_decoded_interface_error::<C>() {
        let text = match e {
            C::NotMember(e) => format!("{} is not a committee member: use a member's key", e.account),
            C::UnknownProposal(e) => format!("there is no proposal {}", e.id),
            C::UnexpectedProposalState(e) => {
                format!("proposal {} is {}: see `zerobridge gov status {}`", e.id, state_name(e.current), e.id)
            }
            C::AlreadyVoted(e) => format!("{} already voted on proposal {}", e.member, e.id),
            C::TimelockNotElapsed(e) => {
                format!("proposal {} cannot execute before {}", e.id, e.eta)
            }
            C::CancelNotAllowed(e) => format!("only the proposer can cancel proposal {} ({} is not)", e.id, e.caller),
            C::EmptyProposal(_) => "a proposal needs at least one --call".to_string(),
            other => format!("{other:?}"),
        };
        return eyre!("{what} on {on} refused: {text}");
    }
    let text = err.to_string();
    if looks_unreachable(&text) {
        return unreachable_chain(chain, &text);
    }
    eyre!("{what} on {on} failed: {}", one_line(&text))
}

fn state_name(state: u8) -> &'static str {
    ["Active", "Defeated", "Succeeded", "Queued", "Expired", "Executed", "Canceled"]
        .get(state as usize)
        .copied()
        .unwrap_or("unknown")
}

// ------------------------------------------------------------------------------------------
// guardian
// ------------------------------------------------------------------------------------------

/// The lanes `--lane` / `--route` name on this chain (none: the whole bridge).
async fn lanes_of(ctx: &Context, conn: &Conn, lane: Option<B256>, route: Option<&str>) -> Result<Vec<B256>> {
    if let Some(lane) = lane {
        return Ok(vec![lane]);
    }
    let Some(wanted) = route else {
        return Ok(Vec::new());
    };
    let route_id = match ctx.network.routes.iter().find(|r| r.symbol.eq_ignore_ascii_case(wanted)) {
        Some(r) => r.route_id,
        None => {
            wanted.parse::<B256>().map_err(|_| eyre!("no route '{wanted}' in the network: pass its symbol or id"))?
        }
    };
    let r = conn.bridge().getRoute(route_id).call().await.map_err(|e| conn.read_err("the route", e))?;
    if r.outboundLane == B256::ZERO {
        bail!("route {wanted} is not open on {}", conn.info.name);
    }
    Ok(vec![r.outboundLane, r.inboundLane])
}

/// Pauses the bridge (no --lane / --route) or the lanes named; each transaction is reported as a
/// step as soon as it is mined.
pub async fn pause(args: &PauseArgs, progress: &dyn Progress) -> Result<()> {
    let (ctx, conn, caller) = signing_conn(&args.chain, &args.key).await?;
    let lanes = lanes_of(&ctx, &conn, args.lane, args.route.as_deref()).await?;
    let bridge = conn.bridge();
    if lanes.is_empty() {
        let r = transact_explained(bridge.pause(), "pause", &conn.info, explain).await?;
        progress.step(&format!("bridge on {} paused by {caller} (tx {})", conn.info.name, r.transaction_hash));
    }
    for lane in lanes {
        let r = transact_explained(bridge.pauseLane(lane), "pauseLane", &conn.info, explain).await?;
        progress.step(&format!("lane {lane} on {} paused by {caller} (tx {})", conn.info.name, r.transaction_hash));
    }
    Ok(())
}

/// Guardians cannot unpause: the error names the committee proposal that does.
pub fn unpause_hint(args: &PauseArgs) -> Result<()> {
    let chain = &args.chain.chain;
    let call = match (&args.lane, &args.route) {
        (Some(lane), _) => format!("--call 'bridge:unpauseLane(bytes32):{lane}'"),
        (None, Some(route)) => {
            format!("--call 'bridge:unpauseLane(bytes32):<each lane of {route}>'")
        }
        (None, None) => "--call 'bridge:unpause()'".to_string(),
    };
    bail!(
        "guardians cannot unpause: it needs a committee proposal: zerobridge gov propose --chain {chain} \
         --committee <committee address> {call} --description 'unpause after review'"
    )
}

pub async fn guardian_status(args: &ChainArgs) -> Result<PausedFlags> {
    let (ctx, conn) = read_conn(args).await?;
    let bridge = conn.bridge();
    let paused = bridge.paused().call().await.map_err(|e| conn.read_err("paused()", e))?;
    let mut flags = PausedFlags { chain: conn.info.name.clone(), bridge_paused: paused, lanes: Vec::new() };
    for route in &ctx.network.routes {
        let r = bridge.getRoute(route.route_id).call().await.map_err(|e| conn.read_err("the route", e))?;
        for (dir, lane) in [("outbound", r.outboundLane), ("inbound", r.inboundLane)] {
            if lane == B256::ZERO {
                continue;
            }
            let l = bridge.getLane(lane).call().await.map_err(|e| conn.read_err("the lane", e))?;
            flags.lanes.push(LanePaused { symbol: route.symbol.clone(), direction: dir, lane, paused: l.paused });
        }
    }
    Ok(flags)
}

// ------------------------------------------------------------------------------------------
// regulator, compliance
// ------------------------------------------------------------------------------------------

/// Freezes (`on`) or unfreezes an account.
pub async fn freeze(args: &AccountArgs, on: bool) -> Result<Sent> {
    let (_, conn, caller) = signing_conn(&args.chain, &args.key).await?;
    let bridge = conn.bridge();
    let r = if on {
        transact_explained(bridge.freeze(args.account), "freeze", &conn.info, explain).await?
    } else {
        transact_explained(bridge.unfreeze(args.account), "unfreeze", &conn.info, explain).await?
    };
    Ok(Sent { chain: conn.info.name.clone(), caller, tx: r.transaction_hash })
}

pub async fn frozen_list(args: &ChainArgs) -> Result<FrozenAccounts> {
    let (ctx, conn) = read_conn(args).await?;
    let from = ctx
        .manifest
        .as_ref()
        .and_then(|m| m.chains.iter().find(|c| c.chain.name == conn.info.name).map(|c| c.start_block))
        .unwrap_or(0);
    let filter = Filter::new()
        .address(conn.info.bridge)
        .event_signature(vec![ZeroBridge::AccountFrozen::SIGNATURE_HASH, ZeroBridge::AccountUnfrozen::SIGNATURE_HASH])
        .from_block(from);
    let logs = conn.provider.get_logs(&filter).await.map_err(|e| conn.read_err("the bridge's logs", e))?;
    let mut frozen: BTreeMap<Address, bool> = BTreeMap::new();
    for log in &logs {
        if let Ok(e) = ZeroBridge::AccountFrozen::decode_log(&log.inner) {
            frozen.insert(e.account, true);
        } else if let Ok(e) = ZeroBridge::AccountUnfrozen::decode_log(&log.inner) {
            frozen.insert(e.account, false);
        }
    }
    let accounts: Vec<Address> = frozen.into_iter().filter(|(_, f)| *f).map(|(a, _)| a).collect();
    let mut list = FrozenAccounts { chain: conn.info.name.clone(), accounts: Vec::new() };
    for account in accounts {
        let state = conn.bridge().accounts(account).call().await.map_err(|e| conn.read_err("accounts()", e))?;
        list.accounts.push((account, state.frozen, state.attestedUntil));
    }
    Ok(list)
}

/// `--expires`: unix seconds, or `+N` with unit d/h/m/s relative to `now`.
pub fn parse_expires(text: &str, now: u64) -> Result<u64> {
    let text = text.trim();
    let bad = || eyre!("--expires '{text}' is neither unix seconds nor +N[d|h|m|s] (e.g. +30d)");
    let Some(rel) = text.strip_prefix('+') else {
        return text.parse::<u64>().map_err(|_| bad());
    };
    let (digits, unit) = match rel.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&rel[..i], c),
        _ => (rel, 's'),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return Err(bad()),
    };
    n.checked_mul(scale).and_then(|s| s.checked_add(now)).ok_or_else(bad)
}

/// Attests an account; returns the transaction and the expiry (unix seconds).
pub async fn attest(args: &AttestArgs) -> Result<(Sent, u64)> {
    let (_, conn, caller) = signing_conn(&args.chain, &args.key).await?;
    let block = conn
        .provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| conn.read_err("the latest block", e))?
        .ok_or_else(|| eyre!("{} has no latest block", conn.info.name))?;
    let expires = parse_expires(&args.expires, block.header.timestamp)?;
    let r = transact_explained(conn.bridge().attest(args.account, expires), "attest", &conn.info, explain).await?;
    Ok((Sent { chain: conn.info.name.clone(), caller, tx: r.transaction_hash }, expires))
}

pub async fn revoke(args: &AccountArgs) -> Result<Sent> {
    let (_, conn, caller) = signing_conn(&args.chain, &args.key).await?;
    let r = transact_explained(conn.bridge().revoke(args.account), "revoke", &conn.info, explain).await?;
    Ok(Sent { chain: conn.info.name.clone(), caller, tx: r.transaction_hash })
}

// ------------------------------------------------------------------------------------------
// gov
// ------------------------------------------------------------------------------------------

/// One parsed `--call`: the target as written and the calldata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCall {
    pub target: String,
    pub data: Bytes,
}

/// Splits on commas outside brackets and parentheses.
fn split_args(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `<target>:<function signature>[:<args,...>]` → target and ABI-encoded calldata.
pub fn parse_call(text: &str) -> Result<ParsedCall> {
    let usage = "expected <target>:<function signature>[:<args,...>], e.g. bridge:pauseLane(bytes32):0x..";
    let (target, rest) = text.split_once(':').ok_or_else(|| eyre!("--call '{text}': {usage}"))?;
    let close = rest.rfind(')').ok_or_else(|| eyre!("--call '{text}': {usage}"))?;
    let (sig, tail) = rest.split_at(close + 1);
    let args = match tail {
        "" => "",
        t => t.strip_prefix(':').ok_or_else(|| eyre!("--call '{text}': {usage}"))?,
    };
    let function = Function::parse(sig).map_err(|e| eyre!("--call '{text}': bad function signature '{sig}': {e}"))?;
    let raw = split_args(args);
    if raw.len() != function.inputs.len() {
        bail!(
            "--call '{text}': {} takes {} argument(s), {} given",
            function.signature(),
            function.inputs.len(),
            raw.len()
        );
    }
    let mut values: Vec<DynSolValue> = Vec::new();
    for (param, value) in function.inputs.iter().zip(&raw) {
        let ty: DynSolType =
            param.selector_type().parse().map_err(|e| eyre!("--call '{text}': type {}: {e}", param.ty))?;
        values.push(ty.coerce_str(value).map_err(|e| eyre!("--call '{text}': '{value}' is not a {}: {e}", param.ty))?);
    }
    let data = function.abi_encode_input(&values).map_err(|e| eyre!("--call '{text}': {e}"))?;
    Ok(ParsedCall { target: target.trim().to_string(), data: data.into() })
}

async fn resolve_target(conn: &Conn, committee: Address, target: &str) -> Result<Address> {
    Ok(match target {
        "bridge" => conn.info.bridge,
        "registry" => conn.info.registry,
        "manager" => manager_of(conn).await?,
        "committee" => committee,
        other => other
            .parse()
            .map_err(|_| eyre!("--call target '{other}' is not an address nor bridge, registry, manager, committee"))?,
    })
}

pub(crate) fn committee_of(conn: &Conn, address: Address) -> Committee::CommitteeInstance<DynProvider> {
    Committee::new(address, conn.provider.clone())
}

/// Creates a proposal; returns the transaction and the proposal's id.
pub async fn propose(args: &ProposeArgs) -> Result<(Sent, U256)> {
    let parsed: Vec<ParsedCall> = args.calls.iter().map(|c| parse_call(c)).collect::<Result<_>>()?;
    let (_, conn, caller) = signing_conn(&args.committee.chain, &args.key).await?;
    let committee = args.committee.committee;
    let mut targets = Vec::new();
    for call in &parsed {
        targets.push(resolve_target(&conn, committee, &call.target).await?);
    }
    let values = vec![U256::ZERO; parsed.len()];
    let datas: Vec<Bytes> = parsed.iter().map(|c| c.data.clone()).collect();
    let c = committee_of(&conn, committee);
    let r =
        transact_explained(c.propose(targets, values, datas, args.description.clone()), "propose", &conn.info, explain)
            .await?;
    let id = r
        .inner
        .logs()
        .iter()
        .find_map(|l| Committee::ProposalCreated::decode_log(&l.inner).ok())
        .map(|e| e.id)
        .ok_or_else(|| eyre!("propose on {}: no ProposalCreated event in {}", conn.info.name, r.transaction_hash))?;
    Ok((Sent { chain: conn.info.name.clone(), caller, tx: r.transaction_hash }, id))
}

pub async fn vote(args: &VoteArgs) -> Result<ProposalAction> {
    let (_, conn, who) = signing_conn(&args.committee.chain, &args.key).await?;
    let c = committee_of(&conn, args.committee.committee);
    let r = transact_explained(c.vote(U256::from(args.id), args.yes), "vote", &conn.info, explain).await?;
    let state = c.state(U256::from(args.id)).call().await.map_err(|e| conn.read_err("the proposal", e))?;
    let sent = Sent { chain: conn.info.name.clone(), caller: who, tx: r.transaction_hash };
    Ok(ProposalAction { sent, state: state_name(state as u8), eta: 0 })
}

/// `what`: "queue", "execute" or "cancel" the proposal.
pub async fn lifecycle(args: &IdArgs, what: &str) -> Result<ProposalAction> {
    let (_, conn, caller) = signing_conn(&args.committee.chain, &args.key).await?;
    let c = committee_of(&conn, args.committee.committee);
    let id = U256::from(args.id);
    let r = match what {
        "queue" => transact_explained(c.queue(id), what, &conn.info, explain).await?,
        "execute" => transact_explained(c.execute(id), what, &conn.info, explain).await?,
        _ => transact_explained(c.cancel(id), what, &conn.info, explain).await?,
    };
    let p = c.getProposal(id).call().await.map_err(|e| conn.read_err("the proposal", e))?;
    let state = c.state(id).call().await.map_err(|e| conn.read_err("the proposal", e))?;
    let sent = Sent { chain: conn.info.name.clone(), caller, tx: r.transaction_hash };
    Ok(ProposalAction { sent, state: state_name(state as u8), eta: p.eta.to::<u64>() })
}

/// The proposal `--id`, or every proposal; with the chain's name.
pub async fn gov_status(args: &GovStatusArgs) -> Result<(String, Vec<ProposalStatus>)> {
    let (_, conn) = read_conn(&args.committee.chain).await?;
    let c = committee_of(&conn, args.committee.committee);
    let read = |e: alloy::contract::Error| conn.read_err("the committee", e);
    let count: U256 = c.proposalCount().call().await.map_err(read)?;
    let ids: Vec<u64> = match args.id {
        Some(id) => vec![id],
        None => (1..=count.to::<u64>()).collect(),
    };
    let mut proposals = Vec::new();
    for id in ids {
        let uid = U256::from(id);
        let state = c.state(uid).call().await.map_err(|e| explain(&e, "gov status", &conn.info))?;
        let p = c.getProposal(uid).call().await.map_err(read)?;
        let voted = p.forWeight.to::<u128>() + p.againstWeight.to::<u128>();
        let part = ceil_bps(voted, p.totalWeight.to::<u128>());
        let appr = ceil_bps(p.forWeight.to::<u128>(), voted);
        proposals.push(ProposalStatus {
            id,
            state: state_name(state as u8),
            proposal: p,
            participation: part,
            approval: appr,
        });
    }
    Ok((conn.info.name.clone(), proposals))
}

fn ceil_bps(part: u128, whole: u128) -> u128 {
    if whole == 0 { 0 } else { (part * 10_000).div_ceil(whole) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_parsed_and_encoded() -> Result<()> {
        let c = parse_call("bridge:unpause()")?;
        assert_eq!(c.target, "bridge");
        assert_eq!(c.data.as_ref(), &alloy::primitives::keccak256("unpause()")[..4]);

        let lane = format!("0x{}", "11".repeat(32));
        let c = parse_call(&format!("bridge:pauseLane(bytes32):{lane}"))?;
        assert_eq!(c.data.len(), 4 + 32);
        assert_eq!(&c.data[4..], &[0x11; 32]);

        let c = parse_call("0x00000000000000000000000000000000000000aa:setFeePolicy(uint16,uint16):50, 2000")?;
        assert_eq!(c.data.len(), 4 + 64);
        assert_eq!(c.data[4 + 31], 50);

        let c = parse_call(
            "manager:f(address[],uint8):[0x00000000000000000000000000000000000000aa,0x00000000000000000000000000000000000000bb],7",
        )?;
        assert_eq!(c.target, "manager");

        assert!(parse_call("bridge").is_err());
        assert!(parse_call("bridge:unpause(").is_err());
        assert!(parse_call("bridge:setHoldDelay(uint64)").is_err_and(|e| e.to_string().contains("takes 1 argument")));
        assert!(parse_call("bridge:setHoldDelay(uint64):abc").is_err());
        Ok(())
    }

    #[test]
    fn expiries_are_absolute_or_relative() -> Result<()> {
        assert_eq!(parse_expires("1700000000", 5)?, 1_700_000_000);
        assert_eq!(parse_expires("+30d", 1000)?, 1000 + 30 * 86_400);
        assert_eq!(parse_expires("+12h", 0)?, 43_200);
        assert_eq!(parse_expires("+15m", 0)?, 900);
        assert_eq!(parse_expires("+90", 10)?, 100);
        assert!(parse_expires("+30x", 0).is_err());
        assert!(parse_expires("tomorrow", 0).is_err());
        assert!(parse_expires("+", 0).is_err());
        Ok(())
    }
}
