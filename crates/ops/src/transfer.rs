//! Holder commands: `send` (move tokens from one chain to the other, with checks that explain
//! every refusal and a live progress display), `track` (the progress of an earlier send) and
//! `balance` (what an address holds on every configured chain).
//!
//! A transfer goes through five stages, shown the same way by `send` and `track`:
//! 1. submitted on the source chain (transaction hash),
//! 2. final on the source chain (the chain's `finality_depth` blocks on top of it),
//! 3. signed by the validators (each validator's latest checkpoint covers our sequence),
//! 4. delivered on the destination (`MessageExecuted`, or `MessageFailed` and a refund),
//! 5. only for large transfers: held on the destination until `releaseAt`, then released
//!    (`releaseHold` is permissionless).
//!
//! Everything a user can get wrong is refused before any transaction, with one line that says
//! what is wrong and how to fix it.

use std::io::IsTerminal;
use std::time::Duration;

use alloy::consensus::Transaction as _;
use alloy::primitives::{Address, B256, FixedBytes, Signature, TxHash, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{BlockNumberOrTag, Filter, Log, TransactionReceipt};
use alloy::sol_types::{SolCall, SolError, SolEvent};
use eyre::{Result, bail, eyre};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;
use tokio::time::Instant;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::{self, RevertContext, Wording, failure_reason};
use zb_protocol::{Checkpoint, Message, checkpoint_digest};

use crate::context::{Context, KeyArgs, NetworkArgs, RECEIPT_TIMEOUT};
use crate::format::{
    format_amount, format_utc, format_wait, one_line, parse_address, parse_amount, parse_tx_hash, unix_now,
};
use crate::network::{ChainInfo, Leg, Network};

alloy::sol! {
    #[sol(rpc)]
    interface IERC20Token {
        function decimals() external view returns (uint8);
        function symbol() external view returns (string);
        function balanceOf(address owner) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
    }
}

/// Seconds the token bucket takes to refill completely (TokenBucket.sol).
const BUCKET_REFILL_SECONDS: u64 = 86_400;
pub(crate) const VALIDATOR_TIMEOUT: Duration = Duration::from_secs(5);
/// How often progress is refreshed.
pub(crate) const POLL: Duration = Duration::from_millis(1000);
/// `send` gas: the estimate plus 30 % (the token bucket refills between estimate and inclusion).
pub(crate) const GAS_HEADROOM_PERCENT: u64 = 130;
/// Used when the node cannot estimate (the simulation passed, so this is a node quirk).
pub(crate) const FALLBACK_SEND_GAS: u64 = 300_000;
/// When searching the destination for an old transfer's events: start this long before the send.
pub(crate) const CLOCK_SKEW_MARGIN_SECS: u64 = 600;

// ------------------------------------------------------------------------------------ options

/// `zerobridge send`.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// Source chain (name or chain id).
    #[arg(long)]
    pub from: String,
    /// Destination chain (name or chain id).
    #[arg(long)]
    pub to: String,
    /// Token symbol of the route, or the token's address on either chain.
    #[arg(long)]
    pub token: String,
    /// Decimal amount, read with the token's decimals (e.g. 1.5).
    #[arg(long, allow_hyphen_values = true)]
    pub amount: String,
    /// Who receives on the destination chain (default: the sender).
    #[arg(long)]
    pub recipient: Option<String>,
    /// Seconds to wait for delivery before giving up the display (the transfer goes on).
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Seconds from now after which the destination refunds the transfer instead of executing
    /// it (default: the route's timeout, if it has one).
    #[arg(long, value_name = "SECONDS")]
    pub deadline: Option<u64>,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `zerobridge track`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrackArgs {
    /// Transaction hash of the send on its source chain.
    pub tx: String,
    /// Keep watching until the transfer is delivered (or released, if it is held).
    #[arg(long)]
    pub follow: bool,
    /// With --follow: seconds to wait for delivery before giving up.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `zerobridge balance`.
#[derive(Debug, Clone, clap::Args)]
pub struct BalanceArgs {
    /// Address to show (default: the sending key's address, or the devnet holder).
    #[arg(long)]
    pub address: Option<String>,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

// ------------------------------------------------------------------------------------ tokens

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenMeta {
    pub(crate) address: Address,
    pub(crate) symbol: String,
    pub(crate) decimals: u8,
}

impl TokenMeta {
    pub(crate) fn show(&self, units: U256) -> String {
        format!("{} {}", format_amount(units, self.decimals), self.symbol)
    }
}

/// Reads `decimals()` (required: an amount must never be read with guessed decimals) and
/// `symbol()` (falls back to `fallback_symbol`).
pub(crate) async fn token_meta(
    provider: &DynProvider,
    chain: &ChainInfo,
    address: Address,
    fallback_symbol: &str,
) -> Result<TokenMeta> {
    let token = IERC20Token::new(address, provider.clone());
    let decimals = token.decimals().call().await.map_err(|e| {
        eyre!(
            "cannot read decimals() of token {address} on '{}' ({}): is the token address right for this chain?",
            chain.name,
            one_line(&e)
        )
    })?;
    let symbol =
        token.symbol().call().await.ok().filter(|s| !s.is_empty()).unwrap_or_else(|| fallback_symbol.to_string());
    Ok(TokenMeta { address, symbol, decimals })
}

/// The symbol the network file implies for a token of a route on one side.
pub(crate) fn configured_symbol(leg_symbol: &str, is_home: bool) -> String {
    if is_home { leg_symbol.to_string() } else { format!("w{leg_symbol}") }
}

// ------------------------------------------------------------------------------------ pure rules

/// `TokenBucket.secondsUntil`: how long until `amount` fits, given what is available now.
/// None when it never fits (more than the whole capacity).
pub fn seconds_until_available(capacity: U256, available: U256, amount: U256) -> Option<U256> {
    if amount <= available {
        return Some(U256::ZERO);
    }
    if capacity.is_zero() || amount > capacity {
        return None;
    }
    let missing = amount - available;
    Some((missing * U256::from(BUCKET_REFILL_SECONDS)).div_ceil(capacity))
}

/// The rate-limit refusal, from the bridge's `RateLimited(amount, available, secondsUntil)`.
pub fn rate_limit_message(amount: U256, available: U256, seconds: Option<U256>, decimals: u8, symbol: &str) -> String {
    let now = format_amount(available, decimals);
    let missing = format_amount(amount.saturating_sub(available), decimals);
    match seconds.and_then(|s| u64::try_from(s).ok()).filter(|s| *s < u64::MAX / 2) {
        Some(seconds) => format!(
            "rate limit: {now} {symbol} available now, {missing} {symbol} more in {}: send at most {now} {symbol} now, or wait",
            format_wait(seconds)
        ),
        None => format!(
            "rate limit: {now} {symbol} available now, and {} {symbol} is more than this route's daily capacity: \
             split it into smaller transfers",
            format_amount(amount, decimals)
        ),
    }
}

/// The wording of amounts, times and shared bridge errors in the contracts' revert explanations.
impl Wording for TokenMeta {
    fn symbol(&self) -> &str {
        &self.symbol
    }

    fn amount(&self, units: U256) -> String {
        self.show(units)
    }

    fn rate_limit(&self, amount: U256, available: U256, seconds: Option<U256>) -> String {
        rate_limit_message(amount, available, seconds, self.decimals, &self.symbol)
    }

    fn time(&self, timestamp: u64) -> String {
        format_utc(timestamp)
    }

    fn bridge_error(&self, error: &ZeroBridge::ZeroBridgeErrors) -> Option<String> {
        crate::explain::bridge_error(error)
    }
}

/// One line for a failed `eth_call`, `eth_estimateGas` or `eth_sendRawTransaction`.
pub(crate) fn explain_contract_error(error: &alloy::contract::Error, ctx: &RevertContext<'_>) -> String {
    if let Some(data) = error.as_revert_data() {
        return revert::explain(&data, ctx);
    }
    let text = one_line(error);
    let lower = text.to_lowercase();
    if lower.contains("insufficient funds") {
        return format!(
            "{} has not enough native currency on '{}' to pay the gas: fund it and try again",
            ctx.sender, ctx.source
        );
    }
    if lower.contains("nonce too low") || lower.contains("already known") || lower.contains("replacement transaction") {
        return format!(
            "{} has another transaction pending on '{}' ({text}): wait for it to be mined and try again",
            ctx.sender, ctx.source
        );
    }
    if lower.contains("execution reverted") {
        return format!("the transfer reverted on '{}': {text}", ctx.source);
    }
    format!("the RPC of '{}' refused the transaction: {text}", ctx.source)
}

// ------------------------------------------------------------------------------------ destination events

/// What happened on the destination to one (lane, sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DestEvent {
    Held { release_at: u64 },
    Frozen,
    Unfrozen,
    Released,
    HoldRefunded,
    HoldCancelled,
    Executed { recipient: Address, amount: U256 },
    Failed { reason: FixedBytes<4> },
}

impl DestEvent {
    pub(crate) fn decode(log: &Log) -> Option<DestEvent> {
        let topic = *log.topic0()?;
        let inner = &log.inner;
        if topic == ZeroBridge::MessageExecuted::SIGNATURE_HASH {
            let e = ZeroBridge::MessageExecuted::decode_log(inner).ok()?.data;
            Some(DestEvent::Executed { recipient: e.recipient, amount: e.amount })
        } else if topic == ZeroBridge::MessageFailed::SIGNATURE_HASH {
            let e = ZeroBridge::MessageFailed::decode_log(inner).ok()?.data;
            Some(DestEvent::Failed { reason: e.reason })
        } else if topic == ZeroBridge::TransferHeld::SIGNATURE_HASH {
            let e = ZeroBridge::TransferHeld::decode_log(inner).ok()?.data;
            Some(DestEvent::Held { release_at: e.releaseAt })
        } else if topic == ZeroBridge::HoldReleased::SIGNATURE_HASH {
            Some(DestEvent::Released)
        } else if topic == ZeroBridge::HoldFrozen::SIGNATURE_HASH {
            Some(DestEvent::Frozen)
        } else if topic == ZeroBridge::HoldUnfrozen::SIGNATURE_HASH {
            Some(DestEvent::Unfrozen)
        } else if topic == ZeroBridge::HoldRefunded::SIGNATURE_HASH {
            Some(DestEvent::HoldRefunded)
        } else if topic == ZeroBridge::HoldCancelled::SIGNATURE_HASH {
            Some(DestEvent::HoldCancelled)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxAt {
    pub(crate) hash: TxHash,
    pub(crate) block: u64,
}

/// The destination side of one transfer, folded from its events in chain order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DestStatus {
    /// The transaction that delivered it (executed, failed or held it).
    pub(crate) delivered: Option<TxAt>,
    pub(crate) held_until: Option<u64>,
    pub(crate) frozen: bool,
    pub(crate) released: Option<TxAt>,
    pub(crate) hold_refunded: bool,
    pub(crate) hold_cancelled: bool,
    pub(crate) executed: Option<(TxAt, Address, U256)>,
    pub(crate) failed: Option<(TxAt, FixedBytes<4>)>,
}

impl DestStatus {
    pub(crate) fn apply(&mut self, event: DestEvent, at: TxAt) {
        match event {
            DestEvent::Held { release_at } => {
                self.delivered.get_or_insert(at);
                self.held_until = Some(release_at);
            }
            DestEvent::Frozen => self.frozen = true,
            DestEvent::Unfrozen => self.frozen = false,
            DestEvent::Released => self.released = Some(at),
            DestEvent::HoldRefunded => self.hold_refunded = true,
            DestEvent::HoldCancelled => self.hold_cancelled = true,
            DestEvent::Executed { recipient, amount } => {
                self.delivered.get_or_insert(at);
                self.executed = Some((at, recipient, amount));
            }
            DestEvent::Failed { reason } => {
                self.delivered.get_or_insert(at);
                self.failed = Some((at, reason));
            }
        }
    }

    /// The transfer reached its end on the destination: paid out or refused.
    fn settled(&self) -> bool {
        self.executed.is_some() || self.failed.is_some()
    }

    /// Held and not yet released or refunded.
    pub(crate) fn waiting_on_hold(&self) -> bool {
        self.held_until.is_some() && !self.settled()
    }
}

/// `eth_getLogs` over `[from, to]`, halving the range whenever the RPC refuses it (providers cap
/// the block range or the result size).
pub(crate) async fn scan_logs(provider: &DynProvider, filter: &Filter, from: u64, to: u64) -> Result<Vec<Log>> {
    let mut out = Vec::new();
    let mut pending = vec![(from, to)];
    while let Some((a, b)) = pending.pop() {
        if a > b {
            continue;
        }
        match provider.get_logs(&filter.clone().from_block(a).to_block(b)).await {
            Ok(mut logs) => out.append(&mut logs),
            Err(e) if b > a => {
                let mid = a + (b - a) / 2;
                tracing::debug!(from = a, to = b, error = %e, "splitting log range");
                // Popped last-in first-out: push the upper half first to keep chain order.
                pending.push((mid + 1, b));
                pending.push((a, mid));
            }
            Err(e) => bail!("cannot read logs of block {a}: {}", one_line(&e)),
        }
    }
    out.sort_by_key(|l| (l.block_number, l.log_index));
    Ok(out)
}

/// The first block whose timestamp is at or after `timestamp` (binary search over headers).
pub(crate) async fn first_block_at(provider: &DynProvider, timestamp: u64) -> Result<u64> {
    let latest = provider.get_block_number().await?;
    let (mut lo, mut hi) = (0u64, latest);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(mid))
            .await?
            .ok_or_else(|| eyre!("block {mid} is missing"))?;
        if block.header.timestamp < timestamp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

// ------------------------------------------------------------------------------------ validators

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckpointResponse {
    pub(crate) lane: B256,
    pub(crate) sequence: u64,
    pub(crate) accumulator: B256,
    pub(crate) signer: Address,
    pub(crate) signature: alloy::primitives::Bytes,
}

/// How many validators have signed a checkpoint that covers our sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SignCount {
    signed: usize,
    answered: usize,
    total: usize,
}

/// Counts validators whose latest checkpoint on `lane` is at or past `sequence`, keeping only
/// signatures that really come from the signer they name.
async fn count_signatures(
    http: &reqwest::Client,
    validators: &[String],
    lane: B256,
    sequence: u64,
    source: &ChainInfo,
) -> SignCount {
    let requests = validators.iter().map(|base| {
        let url = format!("{}/v1/lanes/{lane:#x}/checkpoints/latest", base.trim_end_matches('/'));
        let http = http.clone();
        async move {
            let response = http.get(&url).timeout(VALIDATOR_TIMEOUT).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.json::<CheckpointResponse>().await.ok()
        }
    });
    let answers = futures::future::join_all(requests).await;
    let mut signers: Vec<Address> = Vec::new();
    let mut answered = 0;
    for answer in answers.into_iter().flatten() {
        answered += 1;
        if answer.lane != lane || answer.sequence < sequence {
            continue;
        }
        let checkpoint = Checkpoint { lane, sequence: answer.sequence, accumulator: answer.accumulator };
        let digest = checkpoint_digest(&checkpoint, source.chain_id, source.bridge);
        let Ok(signature) = Signature::try_from(answer.signature.as_ref()) else {
            continue;
        };
        if signature.recover_address_from_prehash(&digest).ok() == Some(answer.signer)
            && !signers.contains(&answer.signer)
        {
            signers.push(answer.signer);
        }
    }
    SignCount { signed: signers.len(), answered, total: validators.len() }
}

// ------------------------------------------------------------------------------------ progress

/// A transfer that has been mined on its source chain.
pub(crate) struct Transfer {
    pub(crate) leg: Leg,
    pub(crate) source: DynProvider,
    pub(crate) destination: DynProvider,
    pub(crate) tx: TxHash,
    pub(crate) block: u64,
    pub(crate) message: Message,
    /// What the sender asked to send (the message carries it net of the fee).
    pub(crate) requested: Option<U256>,
    pub(crate) source_token: TokenMeta,
    pub(crate) destination_token: TokenMeta,
}

/// What is known of a transfer, refreshed by polling.
pub(crate) struct Progress {
    source_head: u64,
    /// The source block of the send; None while it is out of the chain after a reorg.
    source_block: Option<u64>,
    is_final: bool,
    signed: Option<SignCount>,
    delivered_sequence: u64,
    /// Where to start looking for the destination's events (None: not known yet).
    dest_scan_from: Option<u64>,
    dest_scanned_to: Option<u64>,
    dest: DestStatus,
    /// The destination chain's latest block timestamp (for the hold countdown).
    dest_now: Option<u64>,
}

impl Progress {
    pub(crate) fn new(block: u64, dest_scan_from: Option<u64>) -> Progress {
        Progress {
            source_head: block,
            source_block: Some(block),
            is_final: false,
            signed: None,
            delivered_sequence: 0,
            dest_scan_from,
            dest_scanned_to: None,
            dest: DestStatus::default(),
            dest_now: None,
        }
    }

    fn delivered(&self, t: &Transfer) -> bool {
        self.delivered_sequence >= t.message.sequence || self.dest.delivered.is_some()
    }

    async fn refresh(&mut self, t: &Transfer, ctx: &Context) -> Result<()> {
        let source_name = &t.leg.source.name;
        let destination_name = &t.leg.destination.name;
        self.source_head =
            t.source.get_block_number().await.map_err(|e| eyre!("reading '{source_name}': {}", one_line(&e)))?;
        if !self.is_final {
            let receipt = t
                .source
                .get_transaction_receipt(t.tx)
                .await
                .map_err(|e| eyre!("reading '{source_name}': {}", one_line(&e)))?;
            self.source_block = receipt.and_then(|r| r.block_number);
            self.is_final =
                self.source_block.is_some_and(|b| self.source_head >= b.saturating_add(t.leg.source.finality_depth));
        }
        let dest_bridge = ZeroBridge::new(t.leg.destination.bridge, t.destination.clone());
        let lane = dest_bridge
            .getLane(t.leg.lane)
            .call()
            .await
            .map_err(|e| eyre!("reading '{destination_name}': {}", one_line(&e)))?;
        self.delivered_sequence = lane.sequence;
        if self.delivered(t) {
            self.scan_destination(t).await?;
            if self.dest.waiting_on_hold() {
                let head = t
                    .destination
                    .get_block_by_number(BlockNumberOrTag::Latest)
                    .await
                    .map_err(|e| eyre!("reading '{destination_name}': {}", one_line(&e)))?;
                self.dest_now = head.map(|b| b.header.timestamp);
            }
        } else if self.is_final && !ctx.network.validators.is_empty() {
            self.signed = Some(
                count_signatures(&ctx.http, &ctx.network.validators, t.leg.lane, t.message.sequence, &t.leg.source)
                    .await,
            );
        }
        Ok(())
    }

    async fn scan_destination(&mut self, t: &Transfer) -> Result<()> {
        let destination_name = &t.leg.destination.name;
        let latest = t
            .destination
            .get_block_number()
            .await
            .map_err(|e| eyre!("reading '{destination_name}': {}", one_line(&e)))?;
        let from = match (self.dest_scanned_to, self.dest_scan_from) {
            (Some(done), _) => done + 1,
            (None, Some(from)) => from,
            (None, None) => {
                // `track` of an old transfer: start where the destination's clock passed the send.
                let sent_at = t
                    .source
                    .get_block_by_number(BlockNumberOrTag::Number(t.block))
                    .await?
                    .map(|b| b.header.timestamp)
                    .unwrap_or(0);
                let from = first_block_at(&t.destination, sent_at.saturating_sub(CLOCK_SKEW_MARGIN_SECS))
                    .await
                    .map_err(|e| eyre!("searching '{destination_name}' for the delivery: {}", one_line(&e)))?;
                self.dest_scan_from = Some(from);
                from
            }
        };
        if from > latest {
            return Ok(());
        }
        let filter = Filter::new()
            .address(t.leg.destination.bridge)
            .topic1(t.leg.lane)
            .topic2(B256::from(U256::from(t.message.sequence)));
        let logs = scan_logs(&t.destination, &filter, from, latest)
            .await
            .map_err(|e| eyre!("searching '{destination_name}' for the delivery: {e}"))?;
        for log in logs {
            let (Some(hash), Some(block)) = (log.transaction_hash, log.block_number) else {
                continue;
            };
            if let Some(event) = DestEvent::decode(&log) {
                self.dest.apply(event, TxAt { hash, block });
            }
        }
        self.dest_scanned_to = Some(latest);
        Ok(())
    }

    fn threshold_reached(&self, ctx: &Context) -> bool {
        match (self.signed, ctx.network.threshold) {
            (Some(count), Some(threshold)) => u64::try_from(count.signed).unwrap_or(u64::MAX) >= threshold,
            _ => false,
        }
    }

    fn stages(&self, t: &Transfer, ctx: &Context) -> [StageView; 5] {
        let src = &t.leg.source.name;
        let dst = &t.leg.destination.name;
        let delivered = self.delivered(t);
        let submitted = StageView::Done(format!("submitted   {} on {src}", t.tx));

        let depth = t.leg.source.finality_depth;
        let finality = match self.source_block {
            _ if self.is_final || delivered => StageView::Done(format!(
                "final       on {src} at block {} ({depth} blocks on top)",
                self.source_block.unwrap_or(t.block)
            )),
            Some(block) => StageView::Waiting(format!(
                "finality    on {src}: block {block}, {} of {depth} blocks on top",
                self.source_head.saturating_sub(block).min(depth)
            )),
            None => StageView::Waiting(format!(
                "finality    the send left {src}'s chain in a reorg: waiting for it to be mined again"
            )),
        };

        let threshold = threshold_label(ctx.network.threshold);
        let signatures = match self.signed {
            // Delivered: a quorum signed, whatever our last count was.
            _ if delivered => StageView::Done(match (self.signed, ctx.network.threshold) {
                (Some(count), Some(threshold)) if u64::try_from(count.signed).is_ok_and(|n| n >= threshold) => {
                    format!(
                        "signed      {} of {} validators{threshold_text}",
                        count.signed,
                        count.total,
                        threshold_text = threshold_label(Some(threshold))
                    )
                }
                (_, Some(threshold)) => format!(
                    "signed      quorum reached ({threshold} of {} validators needed; the checkpoint was delivered)",
                    ctx.network.validators.len()
                ),
                (_, None) => "signed      quorum reached (the checkpoint was delivered)".to_string(),
            }),
            Some(count) if self.threshold_reached(ctx) => {
                StageView::Done(format!("signed      {} of {} validators{threshold}", count.signed, count.total))
            }
            Some(count) => StageView::Waiting(format!(
                "signatures  {} of {} validators{threshold}{}",
                count.signed,
                count.total,
                if count.answered < count.total {
                    format!(" ({} not answering)", count.total - count.answered)
                } else {
                    String::new()
                }
            )),
            None if !self.is_final => {
                StageView::Waiting("signatures  validators sign once the send is final".to_string())
            }
            None if ctx.network.validators.is_empty() => {
                StageView::Waiting("signatures  no validator endpoints configured: waiting for delivery".to_string())
            }
            None => StageView::Waiting("signatures  asking the validators".to_string()),
        };

        let delivery = if let Some((at, reason)) = self.dest.failed.filter(|_| self.dest.held_until.is_none()) {
            StageView::Failed(format!("refused     on {dst} in tx {} ({})", at.hash, failure_reason(reason)))
        } else if let Some(at) = self.dest.delivered {
            StageView::Done(format!("delivered   on {dst} in tx {} (block {})", at.hash, at.block))
        } else if delivered {
            StageView::Waiting(format!("delivery    delivered on {dst}: looking for the transaction"))
        } else if self.threshold_reached(ctx) {
            StageView::Waiting(format!("delivery    waiting for a relayer to deliver to {dst}"))
        } else {
            StageView::Waiting(format!("delivery    to {dst}, after the signatures"))
        };

        let hold = match self.dest.held_until {
            None => StageView::Hidden,
            Some(_) if self.dest.hold_cancelled => {
                StageView::Failed("held        and cancelled by its sender: refunded on the source".to_string())
            }
            Some(_) if self.dest.hold_refunded => {
                StageView::Failed("held        and refunded by governance instead of released".to_string())
            }
            Some(_) if self.dest.released.is_some() => StageView::Done(format!(
                "released    on {dst} in tx {}",
                self.dest.released.map(|r| r.hash).unwrap_or_default()
            )),
            Some(_) if self.dest.frozen => StageView::Waiting(format!(
                "held        and frozen by {dst}'s guardians: governance releases or refunds it"
            )),
            Some(release_at) => {
                let left = self.dest_now.map(|now| release_at.saturating_sub(now));
                StageView::Waiting(match left {
                    Some(0) => format!(
                        "held        releasable now: anyone may call releaseHold({:#x}, {}) on {dst}'s bridge {} \
                         (permissionless)",
                        t.leg.lane, t.message.sequence, t.leg.destination.bridge
                    ),
                    Some(left) => format!(
                        "held        large transfer, until {} ({} left); then anyone may release it: \
                         releaseHold is permissionless",
                        format_utc(release_at),
                        format_wait(left)
                    ),
                    None => format!("held        large transfer, until {}", format_utc(release_at)),
                })
            }
        };
        [submitted, finality, signatures, delivery, hold]
    }

    /// One line on where the transfer stands, for the timeout message.
    fn summary(&self, t: &Transfer, ctx: &Context) -> String {
        if self.dest.waiting_on_hold() {
            return format!("held on {}", t.leg.destination.name);
        }
        if self.delivered(t) {
            return format!("delivered on {}", t.leg.destination.name);
        }
        if !self.is_final {
            return format!("not yet final on {}", t.leg.source.name);
        }
        match self.signed {
            Some(count) => format!(
                "signed by {} of {} validators{}",
                count.signed,
                count.total,
                ctx.network.threshold.map(|t| format!(", threshold {t}")).unwrap_or_default()
            ),
            None => "waiting for signatures".to_string(),
        }
    }
}

fn threshold_label(threshold: Option<u64>) -> String {
    threshold.map(|t| format!(", threshold {t}")).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StageView {
    Hidden,
    Waiting(String),
    Done(String),
    Failed(String),
}

/// The stage lines. On a terminal, the stages still in progress are indicatif spinners below
/// the finished ones, which are printed as permanent lines (in stage order); elsewhere only
/// the permanent lines are printed.
pub(crate) struct Ui {
    tty: bool,
    multi: MultiProgress,
    bars: Vec<Option<ProgressBar>>,
    finished: Vec<bool>,
}

fn spinner_style() -> Option<ProgressStyle> {
    // wide_msg: cut to the terminal's width, so a long message never wraps and garbles redraws.
    ProgressStyle::with_template("{spinner} {wide_msg}").ok()
}

impl Ui {
    pub(crate) fn new() -> Ui {
        let tty = std::io::stdout().is_terminal();
        let target = if tty { ProgressDrawTarget::stdout() } else { ProgressDrawTarget::hidden() };
        Ui { tty, multi: MultiProgress::with_draw_target(target), bars: vec![None; 5], finished: vec![false; 5] }
    }

    fn spin(&mut self, index: usize, message: String) {
        if !self.tty {
            return;
        }
        let Some(slot) = self.bars.get_mut(index) else {
            return;
        };
        let bar = slot.get_or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            if let Some(style) = spinner_style() {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(message);
    }

    /// Prints a stage's permanent line and removes its spinner.
    fn settle(&mut self, index: usize, line: String) {
        if let Some(bar) = self.bars.get_mut(index).and_then(Option::take) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        if self.tty {
            if self.multi.println(&line).is_err() {
                println!("{line}");
            }
        } else {
            println!("{line}");
        }
        if let Some(done) = self.finished.get_mut(index) {
            *done = true;
        }
    }

    fn render(&mut self, views: &[StageView]) {
        // A stage is printed for good only once every stage before it is.
        let mut blocked = false;
        for (index, view) in views.iter().enumerate() {
            if self.finished.get(index).copied().unwrap_or(true) {
                continue;
            }
            let number = index + 1;
            match view {
                StageView::Hidden => {}
                StageView::Waiting(message) => {
                    blocked = true;
                    self.spin(index, format!("{number}. {message}"));
                }
                StageView::Done(message) | StageView::Failed(message) => {
                    let mark = if matches!(view, StageView::Done(_)) { "✓" } else { "✗" };
                    let line = format!("{mark} {number}. {message}");
                    if blocked {
                        self.spin(index, line);
                    } else {
                        self.settle(index, line);
                    }
                }
            }
        }
    }

    /// Prints the stages still in progress as they stand ("…" lines) and removes every spinner.
    fn abandon(&mut self, views: &[StageView]) {
        for (index, view) in views.iter().enumerate() {
            if self.finished.get(index).copied().unwrap_or(true) {
                continue;
            }
            let number = index + 1;
            match view {
                StageView::Hidden => {}
                StageView::Waiting(message) => self.settle(index, format!("… {number}. {message}")),
                StageView::Done(message) => self.settle(index, format!("✓ {number}. {message}")),
                StageView::Failed(message) => self.settle(index, format!("✗ {number}. {message}")),
            }
        }
    }

    /// A spinner for one step before the transfer (approval, mining); returns a finisher.
    pub(crate) fn step(&self, message: String) -> Step {
        if !self.tty {
            return Step { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
        if let Some(style) = spinner_style() {
            bar.set_style(style);
        }
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        Step { bar: Some(bar) }
    }
}

pub(crate) struct Step {
    bar: Option<ProgressBar>,
}

impl Step {
    pub(crate) fn done(self, line: String) {
        self.clear();
        println!("{line}");
    }

    pub(crate) fn clear(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// How long to watch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Watch {
    /// One look (`track` without `--follow`).
    Once,
    /// Until delivered (and released, unless `stop_when_held`), or the timeout.
    Follow { timeout: Duration, stop_when_held: bool },
}

/// Shows the stages until the transfer settles, or once.
pub(crate) async fn watch(t: &Transfer, ctx: &Context, mut progress: Progress, watch: Watch) -> Result<()> {
    let mut ui = Ui::new();
    let started = Instant::now();
    let mut hold_deadline: Option<Instant> = None;
    let track_hint = format!("zerobridge track {} --follow{}", t.tx, ctx.network_flag());
    loop {
        let refreshed = progress.refresh(t, ctx).await;
        let views = progress.stages(t, ctx);
        ui.render(&views);
        if let Err(error) = &refreshed {
            match watch {
                Watch::Once => {
                    ui.abandon(&views);
                    return Err(eyre!("{}", one_line(error)));
                }
                // A flaky RPC while following: keep trying until the deadline.
                Watch::Follow { .. } => tracing::debug!(%error, "refresh failed; retrying"),
            }
        }
        if let Some((at, recipient, amount)) = progress.dest.executed {
            ui.abandon(&views);
            print_summary(t, &progress, at, recipient, amount);
            return Ok(());
        }
        if let Some((_, reason)) = progress.dest.failed {
            ui.abandon(&views);
            let line = refund_explanation(t, reason, &ctx.network_flag());
            return match watch {
                Watch::Once => {
                    println!("{line}");
                    Ok(())
                }
                Watch::Follow { .. } => Err(eyre!(line)),
            };
        }
        match watch {
            Watch::Once => {
                ui.abandon(&views);
                if progress.dest.waiting_on_hold() {
                    println!("{}", hold_explanation(t, &progress));
                }
                print_stuck_hints(t, ctx, &progress).await;
                println!("in progress: `{track_hint}` watches it until it arrives");
                return Ok(());
            }
            Watch::Follow { timeout, stop_when_held } => {
                if progress.dest.waiting_on_hold() {
                    if stop_when_held {
                        ui.abandon(&views);
                        println!("{}", hold_explanation(t, &progress));
                        print_stuck_hints(t, ctx, &progress).await;
                        println!("`{track_hint}` watches it until it is released");
                        return Ok(());
                    }
                    if hold_deadline.is_none() {
                        let left = match (progress.dest.held_until, progress.dest_now) {
                            (Some(release_at), Some(now)) => release_at.saturating_sub(now),
                            _ => 0,
                        };
                        hold_deadline = Some(Instant::now() + Duration::from_secs(left) + timeout);
                    }
                }
                let deadline = hold_deadline.unwrap_or(started + timeout);
                if Instant::now() >= deadline {
                    ui.abandon(&views);
                    print_stuck_hints(t, ctx, &progress).await;
                    let waited = format_wait(started.elapsed().as_secs());
                    let state = progress.summary(t, ctx);
                    let reason = refreshed.err().map(|e| format!("; last error: {}", one_line(&e))).unwrap_or_default();
                    bail!(
                        "not delivered after {waited} ({state}{reason}): the transfer is not lost, \
                         follow it with `{track_hint}`"
                    );
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// "You can claim / cancel it yourself" when the transfer is stuck (claim.rs decides).
async fn print_stuck_hints(t: &Transfer, ctx: &Context, progress: &Progress) {
    let facts = crate::claim::StuckFacts {
        delivered: progress.delivered(t),
        quorum: progress.threshold_reached(ctx),
        held: progress.dest.waiting_on_hold(),
        frozen: progress.dest.frozen,
        ..crate::claim::StuckFacts::default()
    };
    for hint in crate::claim::hints_for(t, ctx, facts).await {
        println!("{hint}");
    }
}

fn hold_explanation(t: &Transfer, progress: &Progress) -> String {
    let when = match (progress.dest.held_until, progress.dest_now) {
        (Some(release_at), Some(now)) if release_at > now => {
            format!("in {}", format_wait(release_at - now))
        }
        (Some(_), Some(_)) => "now".to_string(),
        _ => "after the hold delay".to_string(),
    };
    format!(
        "held: this large transfer waits on {} and can be released {when}; releaseHold is permissionless: \
         anyone (you too) may call releaseHold({:#x}, {}) on the bridge {}",
        t.leg.destination.name, t.leg.lane, t.message.sequence, t.leg.destination.bridge
    )
}

pub(crate) fn refund_explanation(t: &Transfer, reason: FixedBytes<4>, network_flag: &str) -> String {
    let timed_out = if reason.0 == ZeroBridge::TransferTimedOut::SELECTOR {
        format!("timed out: refunded on {}: ", t.leg.source.name)
    } else {
        String::new()
    };
    format!(
        "{timed_out}the transfer was refused on {} ({}): it is not lost, {} travels back as a refund to {} on {} \
         (the fee is not refunded); once it is delivered there, anyone may claim it with claimRefund on the {} bridge \
         (within that lane's inbound limit; a large refund waits the hold delay, and none is paid while a lane is paused): \
         `zerobridge claim {}{network_flag}` delivers the refund if needed and claims it",
        t.leg.destination.name,
        failure_reason(reason),
        t.source_token.show(t.message.amount),
        t.message.sender,
        t.leg.source.name,
        t.leg.source.name,
        t.tx
    )
}

fn print_summary(t: &Transfer, progress: &Progress, at: TxAt, recipient: Address, amount: U256) {
    println!("source tx:        {} ({}, block {})", t.tx, t.leg.source.name, progress.source_block.unwrap_or(t.block));
    println!("destination tx:   {} ({}, block {})", at.hash, t.leg.destination.name, at.block);
    let fee = t
        .requested
        .filter(|requested| *requested >= amount)
        .map(|requested| format!(" (fee {})", t.source_token.show(requested - amount)))
        .unwrap_or_default();
    println!("received:         {} by {recipient}{fee}", t.destination_token.show(amount));
}

// ------------------------------------------------------------------------------------ send

/// The checks `send` makes before any transaction, in a form tests can reach without a chain.
fn offline_checks(network: &Network, args: &SendArgs) -> Result<Leg> {
    let leg = network.leg(&args.from, &args.to, &args.token)?;
    // The definitive parse uses decimals() read on chain; this catches what is wrong whatever the
    // decimals (negative, not a number, zero) and typos against the configured decimals early.
    parse_amount(&args.amount, leg.route.decimals)?;
    if let Some(recipient) = &args.recipient {
        let address = parse_address(recipient, "--recipient")?;
        if address.is_zero() {
            bail!("--recipient is the zero address: tokens sent there are lost; pass the real recipient");
        }
    }
    Ok(leg)
}

/// `zerobridge send`: checks everything, approves if needed, sends and shows the progress.
pub async fn send(args: &SendArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let leg = offline_checks(&ctx.network, args)?;
    let Some(signer) = ctx.signer(&args.key, "holder")? else {
        bail!("no sending key: pass --private-key-env VAR (a variable holding the hex key) or --keystore FILE");
    };
    let sender = signer.address();
    let recipient = match &args.recipient {
        Some(text) => parse_address(text, "--recipient")?,
        None => sender,
    };

    // One after the other, so the error names the source first when neither answers.
    let source = ctx.connect(&leg.source).await?;
    let destination = ctx.connect(&leg.destination).await?;
    let is_home = leg.route.home == leg.source.name;
    let source_token =
        token_meta(&source, &leg.source, leg.source_token, &configured_symbol(&leg.route.symbol, is_home)).await?;
    let destination_token = token_meta(
        &destination,
        &leg.destination,
        leg.destination_token,
        &configured_symbol(&leg.route.symbol, !is_home),
    )
    .await?;
    if source_token.decimals != leg.route.decimals {
        println!(
            "note: the network file says {} has {} decimals, the token on {} has {}: using {}",
            leg.route.symbol, leg.route.decimals, leg.source.name, source_token.decimals, source_token.decimals
        );
    }
    let amount = parse_amount(&args.amount, source_token.decimals)?;
    let revert_ctx =
        RevertContext { source: &leg.source.name, destination: &leg.destination.name, sender, words: &source_token };

    preflight(&leg, &source, &destination, &source_token, sender, amount).await?;

    println!(
        "sending {} from {} to {} for {recipient} (lane {:#x})",
        source_token.show(amount),
        leg.source.name,
        leg.destination.name,
        leg.lane
    );
    let ui = Ui::new();
    let wallet = ctx.wallet_provider(&leg.source, signer)?;
    let bridge = ZeroBridge::new(leg.source.bridge, wallet.clone());

    // Home chain: the bridge takes the tokens with transferFrom, so it needs an allowance.
    // Remote chain: the bridge burns directly, no approval.
    if is_home {
        let token = IERC20Token::new(leg.source_token, wallet.clone());
        let allowance = token
            .allowance(sender, leg.source.bridge)
            .call()
            .await
            .map_err(|e| eyre!("cannot read the allowance on '{}': {}", leg.source.name, one_line(&e)))?;
        if allowance < amount {
            let step =
                ui.step(format!("approving the bridge on {} to take {}", leg.source.name, source_token.show(amount)));
            match approve(&wallet, &token, leg.source.bridge, amount, &revert_ctx).await {
                Ok(hash) => step.done(format!(
                    "✓ approved the bridge on {} for {} (tx {hash})",
                    leg.source.name,
                    source_token.show(amount)
                )),
                Err(e) => {
                    step.clear();
                    return Err(e);
                }
            }
        }
    }

    // 0 asks the bridge for the route's default timeout.
    let deadline = match args.deadline {
        Some(seconds) => unix_now().saturating_add(seconds.max(1)),
        None => 0,
    };
    // Simulate first: a refusal is explained before anything is spent.
    let call = bridge.send(leg.lane, recipient, amount, deadline).from(sender);
    call.call().await.map_err(|e| eyre!(explain_contract_error(&e, &revert_ctx)))?;
    let gas = match call.estimate_gas().await {
        Ok(estimate) => estimate.saturating_mul(GAS_HEADROOM_PERCENT) / 100,
        Err(e) if e.as_revert_data().is_some() => bail!(explain_contract_error(&e, &revert_ctx)),
        Err(_) => FALLBACK_SEND_GAS,
    };
    check_gas_funds(&source, &leg.source, sender, gas).await?;

    let dest_from = destination
        .get_block_number()
        .await
        .map_err(|e| eyre!("reading '{}': {}", leg.destination.name, one_line(&e)))?;
    let pending = call.gas(gas).send().await.map_err(|e| eyre!(explain_contract_error(&e, &revert_ctx)))?;
    let tx = *pending.tx_hash();
    let step = ui.step(format!("submitted {tx} on {}: waiting for it to be mined", leg.source.name));
    let receipt = match wait_receipt(&source, tx, &leg.source.name).await {
        Ok(receipt) => receipt,
        Err(e) => {
            step.clear();
            return Err(e);
        }
    };
    step.clear();
    if !receipt.status() {
        let block = receipt.block_number.unwrap_or_default();
        let reason = match bridge
            .send(leg.lane, recipient, amount, deadline)
            .from(sender)
            .block(block.saturating_sub(1).into())
            .call()
            .await
        {
            Err(e) => format!(": {}", explain_contract_error(&e, &revert_ctx)),
            Ok(_) => String::new(),
        };
        bail!("the send transaction {tx} reverted on '{}' in block {block}; nothing was sent{reason}", leg.source.name);
    }
    let (block, message) = message_sent(&receipt, &leg)?.ok_or_else(|| {
        eyre!("the send transaction {tx} on '{}' emitted no MessageSent for this lane", leg.source.name)
    })?;
    let transfer = Transfer {
        leg,
        source,
        destination,
        tx,
        block,
        message,
        requested: Some(amount),
        source_token,
        destination_token,
    };
    let progress = Progress::new(block, Some(dest_from));
    watch(&transfer, &ctx, progress, Watch::Follow { timeout: Duration::from_secs(args.timeout), stop_when_held: true })
        .await
}

/// Everything the chain can tell before sending: route status, limits, balance, gas money.
async fn preflight(
    leg: &Leg,
    source: &DynProvider,
    destination: &DynProvider,
    token: &TokenMeta,
    sender: Address,
    amount: U256,
) -> Result<()> {
    let src = &leg.source.name;
    let dst = &leg.destination.name;
    let route = format!("the {} route {src} -> {dst}", leg.route.symbol);
    let source_bridge = ZeroBridge::new(leg.source.bridge, source.clone());
    let dest_bridge = ZeroBridge::new(leg.destination.bridge, destination.clone());
    let read = |chain: &str, e: &dyn std::fmt::Display| {
        eyre!("cannot read the bridge on '{chain}' ({}): check `bridge` for '{chain}' in the network file", one_line(e))
    };

    let outbound = source_bridge.getLane(leg.lane).call().await.map_err(|e| read(src, &e))?;
    if outbound.direction != 1 {
        bail!(
            "the bridge on '{src}' ({}) does not send on {route}: the route is not registered there, \
             check the route and bridge addresses in the network file",
            leg.source.bridge
        );
    }
    // Exit-only (3): only the way home stays open. The home chain takes no new sends; the remote
    // chain still burns toward home.
    match outbound.status {
        2 => {}
        3 | 4 if !outbound.isHome => {}
        1 => bail!("{route} is not active yet (registered, waiting for activation): try again once it is activated"),
        3 => bail!(
            "{route} is exit-only on '{src}': it takes no new sends there; only the way home stays open (holders of \
             wrapped {} on '{dst}' can still send them back)",
            leg.route.symbol
        ),
        4 => bail!(
            "{route} is in Emergency on '{src}': its validators failed, so it takes no new sends there; holders of \
             wrapped {} on '{dst}' can still send them back (see `zerobridge route status`)",
            leg.route.symbol
        ),
        other => bail!("{route} has an unknown status {other} on '{src}'"),
    }
    if source_bridge.paused().call().await.map_err(|e| read(src, &e))? {
        bail!("the bridge on '{src}' is paused by its guardians (every route): try again once it is unpaused");
    }
    if outbound.paused {
        bail!("{route} is paused by its guardians: try again once it is unpaused");
    }
    let inbound = dest_bridge.getLane(leg.lane).call().await.map_err(|e| read(dst, &e))?;
    if inbound.direction != 2 {
        bail!(
            "the bridge on '{dst}' ({}) does not receive on {route}: the route is not registered there, \
             check the network file",
            leg.destination.bridge
        );
    }
    if inbound.status == 1 {
        bail!("{route} is not active on '{dst}' yet: a transfer would wait there until it is; try again later");
    }
    if dest_bridge.paused().call().await.map_err(|e| read(dst, &e))? || inbound.paused {
        bail!(
            "delivery to '{dst}' is paused by its guardians: a transfer would wait until it is unpaused; try again later"
        );
    }

    let maximum = U256::from(outbound.maxAmount);
    let minimum = U256::from(outbound.minAmount);
    if amount > maximum {
        bail!(
            "amount {} is above the route's maximum of {} per transfer: send at most {} (split larger amounts)",
            token.show(amount),
            token.show(maximum),
            token.show(maximum)
        );
    }
    if amount < minimum {
        bail!(
            "amount {} is below the route's minimum of {}: send at least {}",
            token.show(amount),
            token.show(minimum),
            token.show(minimum)
        );
    }
    let available = source_bridge.availableCapacity(leg.lane).call().await.map_err(|e| read(src, &e))?;
    if amount > available {
        let seconds = seconds_until_available(U256::from(outbound.capacity), available, amount);
        bail!(rate_limit_message(amount, available, seconds, token.decimals, &token.symbol));
    }

    let balance = IERC20Token::new(token.address, source.clone())
        .balanceOf(sender)
        .call()
        .await
        .map_err(|e| eyre!("cannot read the {} balance on '{src}': {}", token.symbol, one_line(&e)))?;
    if balance < amount {
        bail!(
            "insufficient {} on '{src}': {sender} has {} available, the transfer needs {}",
            token.symbol,
            token.show(balance),
            token.show(amount)
        );
    }
    let native = source
        .get_balance(sender)
        .await
        .map_err(|e| eyre!("cannot read the native balance on '{src}': {}", one_line(&e)))?;
    if native.is_zero() {
        bail!("{sender} has no native currency on '{src}' to pay the gas: fund it first");
    }
    Ok(())
}

pub(crate) async fn check_gas_funds(
    provider: &DynProvider,
    chain: &ChainInfo,
    sender: Address,
    gas: u64,
) -> Result<()> {
    let (Ok(price), Ok(native)) = (provider.get_gas_price().await, provider.get_balance(sender).await) else {
        return Ok(());
    };
    let cost = U256::from(price) * U256::from(gas);
    if native < cost {
        bail!(
            "{sender} has {} native currency on '{}' but the send may cost up to {} in gas: fund it first",
            format_amount(native, 18),
            chain.name,
            format_amount(cost, 18)
        );
    }
    Ok(())
}

async fn approve(
    wallet: &DynProvider,
    token: &IERC20Token::IERC20TokenInstance<DynProvider>,
    spender: Address,
    amount: U256,
    ctx: &RevertContext<'_>,
) -> Result<TxHash> {
    let call = token.approve(spender, amount).from(ctx.sender);
    call.call().await.map_err(|e| eyre!("approving the bridge failed: {}", explain_contract_error(&e, ctx)))?;
    let pending =
        call.send().await.map_err(|e| eyre!("approving the bridge failed: {}", explain_contract_error(&e, ctx)))?;
    let hash = *pending.tx_hash();
    let receipt = wait_receipt(wallet, hash, ctx.source).await?;
    if !receipt.status() {
        bail!("the approval {hash} reverted on '{}': the token refuses approvals from {}", ctx.source, ctx.sender);
    }
    Ok(hash)
}

pub(crate) async fn wait_receipt(provider: &DynProvider, hash: TxHash, chain: &str) -> Result<TransactionReceipt> {
    let deadline = Instant::now() + RECEIPT_TIMEOUT;
    loop {
        match provider.get_transaction_receipt(hash).await {
            Ok(Some(receipt)) if receipt.block_number.is_some() => return Ok(receipt),
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "receipt poll failed"),
        }
        if Instant::now() >= deadline {
            bail!(
                "transaction {hash} was not mined on '{chain}' within {}: it may still be pending (gas price too low?); \
                 look it up later",
                format_wait(RECEIPT_TIMEOUT.as_secs())
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The `MessageSent` of `leg`'s lane in a receipt, with the block.
fn message_sent(receipt: &TransactionReceipt, leg: &Leg) -> Result<Option<(u64, Message)>> {
    let block = receipt.block_number.ok_or_else(|| eyre!("the receipt has no block number"))?;
    Ok(receipt
        .logs()
        .iter()
        .filter(|l| l.inner.address == leg.source.bridge)
        .filter_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
        .find(|e| e.data.lane == leg.lane)
        .map(|e| (block, e.data.message.clone())))
}

// ------------------------------------------------------------------------------------ track

/// `zerobridge track <tx>`: finds the send among the configured chains and shows its stages.
pub async fn track(args: &TrackArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let tx = parse_tx_hash(&args.tx)?;
    let transfer = load_transfer(&ctx, tx).await?;
    let mode = if args.follow {
        Watch::Follow { timeout: Duration::from_secs(args.timeout), stop_when_held: false }
    } else {
        Watch::Once
    };
    watch(&transfer, &ctx, Progress::new(transfer.block, None), mode).await
}

/// Finds the send `tx` among the configured chains, reads its `MessageSent`, the tokens on both
/// sides and the amount asked for, and prints one line about it (`track`, `claim`, `cancel`).
pub(crate) async fn load_transfer(ctx: &Context, tx: TxHash) -> Result<Transfer> {
    if ctx.network.chains.is_empty() {
        bail!("the network has no chains: add [[chains]] to the network file");
    }

    // Look on every configured chain at once.
    let lookups = ctx.network.chains.iter().map(|chain| async move {
        let provider = ctx.connect(chain).await?;
        let receipt = provider
            .get_transaction_receipt(tx)
            .await
            .map_err(|e| eyre!("reading '{}': {}", chain.name, one_line(&e)))?;
        let pending = match receipt {
            Some(_) => false,
            None => provider.get_transaction_by_hash(tx).await.ok().flatten().is_some(),
        };
        Ok::<_, eyre::Report>((chain.clone(), provider, receipt, pending))
    });
    let results = futures::future::join_all(lookups).await;
    let mut unreachable = Vec::new();
    let mut found = None;
    for result in results {
        match result {
            Ok((chain, provider, Some(receipt), _)) => found = Some((chain, provider, receipt)),
            Ok((chain, _, None, true)) => {
                bail!("transaction {tx} is still pending on '{}': run this again once it is mined", chain.name)
            }
            Ok(_) => {}
            Err(e) => unreachable.push(one_line(&e)),
        }
    }
    let Some((chain, source, receipt)) = found else {
        let names: Vec<_> = ctx.network.chains.iter().map(|c| c.name.clone()).collect();
        if !unreachable.is_empty() {
            bail!(
                "transaction {tx} is not on any reachable chain ({}), and {}",
                names.join(", "),
                unreachable.join("; ")
            );
        }
        bail!(
            "transaction {tx} is on none of the configured chains ({}): check the hash and --network",
            names.join(", ")
        );
    };
    if receipt.logs().is_empty() && !receipt.status() {
        bail!("transaction {tx} reverted on '{}': nothing was sent", chain.name);
    }

    let sent: Vec<_> = receipt
        .logs()
        .iter()
        .filter(|l| l.inner.address == chain.bridge)
        .filter_map(|l| ZeroBridge::MessageSent::decode_log(&l.inner).ok())
        .collect();
    let Some(event) = sent.first() else {
        bail!(
            "transaction {tx} on '{}' is not a zerobridge send: it emitted no MessageSent from the bridge {}",
            chain.name,
            chain.bridge
        );
    };
    let leg = leg_for_lane(&ctx.network, &chain, event.data.lane).ok_or_else(|| {
        eyre!(
            "transaction {tx} sent on lane {:#x}, which is not a route of the network file: add the route to follow it",
            event.data.lane
        )
    })?;
    let destination = ctx.connect(&leg.destination).await?;
    let is_home = leg.route.home == leg.source.name;
    let source_token =
        token_meta(&source, &leg.source, leg.source_token, &configured_symbol(&leg.route.symbol, is_home)).await?;
    let destination_token = token_meta(
        &destination,
        &leg.destination,
        leg.destination_token,
        &configured_symbol(&leg.route.symbol, !is_home),
    )
    .await?;
    // The amount asked for is in the transaction's input (the event carries it net of the fee).
    let requested = source
        .get_transaction_by_hash(tx)
        .await
        .ok()
        .flatten()
        .and_then(|t| ZeroBridge::sendCall::abi_decode(t.input()).ok())
        .filter(|call| call.laneId == leg.lane)
        .map(|call| call.amount);
    let block = receipt.block_number.ok_or_else(|| eyre!("the receipt of {tx} has no block number"))?;
    let message = event.data.message.clone();
    println!(
        "{} from {} to {} for {} (lane {:#x}, sequence {})",
        source_token.show(requested.unwrap_or(message.amount)),
        leg.source.name,
        leg.destination.name,
        message.recipient,
        leg.lane,
        message.sequence
    );
    if message.deadline != u64::MAX {
        println!("deadline: {} (refunded instead if it arrives later)", format_utc(message.deadline));
    }
    Ok(Transfer { leg, source, destination, tx, block, message, requested, source_token, destination_token })
}

/// The leg whose source is `chain` and whose lane is `lane`.
pub(crate) fn leg_for_lane(network: &Network, chain: &ChainInfo, lane: B256) -> Option<Leg> {
    network.routes.iter().find_map(|route| {
        let other = if route.home == chain.name {
            &route.remote
        } else if route.remote == chain.name {
            &route.home
        } else {
            return None;
        };
        network
            .leg(&chain.name, other, &route.home_token.to_string())
            .ok()
            .filter(|leg| leg.lane == lane && leg.route.route_id == route.route_id)
    })
}

// ------------------------------------------------------------------------------------ balance

/// `zerobridge balance`: native and route-token balances on every configured chain.
pub async fn balance(args: &BalanceArgs) -> Result<()> {
    let ctx = Context::load(&args.network)?;
    let address = match &args.address {
        Some(text) => parse_address(text, "--address")?,
        None => match ctx.signer(&args.key, "holder")? {
            Some(signer) => signer.address(),
            None => bail!("whose balance? pass --address <address>, or a key with --private-key-env / --keystore"),
        },
    };
    println!("{address}");
    let reads = ctx.network.chains.iter().map(|chain| chain_balances(&ctx, chain, address));
    let results = futures::future::join_all(reads).await;
    let mut failed = Vec::new();
    for (chain, result) in ctx.network.chains.iter().zip(results) {
        println!("{} (chain {})", chain.name, chain.chain_id);
        match result {
            Ok(lines) => {
                for (label, amount, token) in lines {
                    match token {
                        Some(token) => println!("  {label:<10} {amount:<28} {token}"),
                        None => println!("  {label:<10} {amount}"),
                    }
                }
            }
            Err(e) => {
                println!("  unavailable: {}", one_line(&e));
                failed.push(chain.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("could not read the balances on {}: see above", failed.join(", "));
    }
    Ok(())
}

/// (label, formatted amount, token address) for the native currency and every route token.
async fn chain_balances(
    ctx: &Context,
    chain: &ChainInfo,
    who: Address,
) -> Result<Vec<(String, String, Option<Address>)>> {
    let provider = ctx.connect(chain).await?;
    let native = provider.get_balance(who).await.map_err(|e| eyre!("reading '{}': {}", chain.name, one_line(&e)))?;
    let mut lines = vec![("native".to_string(), format_amount(native, 18), None)];
    for route in &ctx.network.routes {
        let (address, is_home) = if route.home == chain.name {
            (route.home_token, true)
        } else if route.remote == chain.name {
            (route.wrapped_token, false)
        } else {
            continue;
        };
        let token = token_meta(&provider, chain, address, &configured_symbol(&route.symbol, is_home)).await?;
        let units = IERC20Token::new(address, provider.clone())
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| eyre!("reading the {} balance on '{}': {}", token.symbol, chain.name, one_line(&e)))?;
        lines.push((token.symbol.clone(), format_amount(units, token.decimals), Some(address)));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zb_contracts::wrapped::WrappedToken;

    fn units(whole: u64) -> U256 {
        U256::from(whole) * U256::from(10u64).pow(U256::from(18u64))
    }

    fn network() -> Network {
        let text = r#"
            [[chains]]
            name = "ethereum"
            chainId = 1
            rpc = "http://127.0.0.1:1"
            bridge = "0x1111111111111111111111111111111111111111"
            registry = "0x2222222222222222222222222222222222222222"

            [[chains]]
            name = "bsc"
            chainId = 56
            rpc = "http://127.0.0.1:2"
            bridge = "0x3333333333333333333333333333333333333333"
            registry = "0x4444444444444444444444444444444444444444"

            [[routes]]
            routeId = "0x0000000000000000000000000000000000000000000000000000000000000001"
            symbol = "DEMO"
            decimals = 6
            home = "ethereum"
            remote = "bsc"
            homeToken = "0x5555555555555555555555555555555555555555"
            wrappedToken = "0x6666666666666666666666666666666666666666"
        "#;
        toml::from_str(text).unwrap_or_else(|e| panic!("test network: {e}"))
    }

    fn send_args(amount: &str) -> SendArgs {
        SendArgs {
            from: "ethereum".into(),
            to: "bsc".into(),
            token: "DEMO".into(),
            amount: amount.into(),
            recipient: None,
            timeout: 300,
            deadline: None,
            network: NetworkArgs::default(),
            key: KeyArgs::default(),
        }
    }

    fn error_of<T>(result: Result<T>) -> String {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn offline_checks_explain_bad_input() {
        let net = network();
        assert!(offline_checks(&net, &send_args("1.5")).is_ok());
        assert!(error_of(offline_checks(&net, &send_args("-1"))).contains("negative"));
        assert!(error_of(offline_checks(&net, &send_args("1.1234567"))).contains("decimals"));
        let mut args = send_args("1");
        args.token = "NOPE".into();
        assert!(error_of(offline_checks(&net, &args)).contains("unknown token 'NOPE'"));
        args = send_args("1");
        args.to = "ethereum".into();
        assert!(error_of(offline_checks(&net, &args)).contains("same chain"));
        args = send_args("1");
        args.recipient = Some("0x12".into());
        assert!(error_of(offline_checks(&net, &args)).contains("not an address"));
        args.recipient = Some(Address::ZERO.to_string());
        assert!(error_of(offline_checks(&net, &args)).contains("zero address"));
    }

    #[test]
    fn bucket_wait_matches_the_contract() {
        let capacity = units(86_400);
        // 1 token per second refills; 10 missing -> 10 s.
        assert_eq!(seconds_until_available(capacity, units(5), units(15)), Some(U256::from(10u64)));
        assert_eq!(seconds_until_available(capacity, units(20), units(15)), Some(U256::ZERO));
        assert_eq!(seconds_until_available(capacity, units(0), capacity + U256::from(1u64)), None);
        assert_eq!(seconds_until_available(U256::ZERO, U256::ZERO, U256::from(1u64)), None);
        // Rounds up like TokenBucket.secondsUntil.
        assert_eq!(
            seconds_until_available(U256::from(86_400u64 * 2), U256::ZERO, U256::from(1u64)),
            Some(U256::from(1u64))
        );
    }

    #[test]
    fn rate_limit_names_what_is_available_and_when() {
        let line = rate_limit_message(units(15), units(5), Some(U256::from(600u64)), 18, "DEMO");
        assert_eq!(line, "rate limit: 5 DEMO available now, 10 DEMO more in 10 min: send at most 5 DEMO now, or wait");
        let never = rate_limit_message(units(15), units(5), None, 18, "DEMO");
        assert!(never.contains("daily capacity"), "{never}");
        assert!(!never.contains('\n'));
    }

    fn token() -> TokenMeta {
        TokenMeta { address: Address::repeat_byte(0x55), symbol: "DEMO".into(), decimals: 18 }
    }

    #[test]
    fn reverts_become_one_line_with_the_fix() {
        let token = token();
        let ctx =
            RevertContext { source: "ethereum", destination: "bsc", sender: Address::repeat_byte(1), words: &token };
        let rate = ZeroBridge::RateLimited {
            amount: units(15),
            available: units(5),
            secondsUntilAvailable: U256::from(120u64),
        }
        .abi_encode();
        assert_eq!(
            revert::explain(&rate, &ctx),
            "rate limit: 5 DEMO available now, 10 DEMO more in 2 min: send at most 5 DEMO now, or wait"
        );
        let below = ZeroBridge::AmountBelowMinimum { amount: U256::from(1u64), minimum: units(1) }.abi_encode();
        assert!(revert::explain(&below, &ctx).contains("below the route's minimum of 1 DEMO"));
        let above = ZeroBridge::AmountAboveMaximum { amount: units(2), maximum: units(1) }.abi_encode();
        assert!(revert::explain(&above, &ctx).contains("send at most 1 DEMO"));
        let paused = ZeroBridge::BridgePaused {}.abi_encode();
        assert!(revert::explain(&paused, &ctx).contains("paused"));
        let inactive = ZeroBridge::LaneNotActive { lane: B256::ZERO }.abi_encode();
        assert!(revert::explain(&inactive, &ctx).contains("not active"));
        let exit_only = ZeroBridge::RouteIsExitOnly {}.abi_encode();
        assert!(revert::explain(&exit_only, &ctx).contains("is exit-only: 'ethereum' takes no new sends"));
        // Bridge errors every command shares are worded once (explain::bridge_error).
        let expired = ZeroBridge::ValidatorSetExpired { validUntil: U256::from(1_700_000_000u64) }.abi_encode();
        let text = revert::explain(&expired, &ctx);
        assert!(text.contains("expired at 2023-11-14 22:13:20 UTC") && text.contains("replaceExpiredSet"), "{text}");
        let balance = WrappedToken::ERC20InsufficientBalance {
            sender: Address::repeat_byte(1),
            balance: units(1),
            needed: units(3),
        }
        .abi_encode();
        assert!(revert::explain(&balance, &ctx).starts_with("insufficient DEMO on 'ethereum'"));
        let text = alloy::sol_types::Revert::from("nope").abi_encode();
        assert!(revert::explain(&text, &ctx).ends_with(": nope"));
        assert!(revert::explain(&[], &ctx).contains("without a reason"));
        assert!(revert::explain(&[1, 2, 3, 4], &ctx).contains("0x01020304"));
        let emergency = ZeroBridge::RouteInEmergency {}.abi_encode();
        assert!(revert::explain(&emergency, &ctx).contains("is in Emergency on 'ethereum'"));
        let late = ZeroBridge::InvalidDeadline { deadline: 1_700_000_000 }.abi_encode();
        assert!(revert::explain(&late, &ctx).contains("2023-11-14 22:13:20 UTC has already passed"));
        let not_due = ZeroBridge::FallbackNotDue { dueAt: 4_102_444_799 }.abi_encode();
        assert!(
            revert::explain(&not_due, &ctx).contains("only from 2099-12-31 23:59:59 UTC"),
            "{}",
            revert::explain(&not_due, &ctx)
        );
        for data in [rate, below, above, paused, inactive, balance, exit_only, expired, emergency, late, not_due] {
            assert!(!revert::explain(&data, &ctx).contains('\n'));
        }
    }

    #[test]
    fn destination_events_fold_into_a_status() {
        let at = |n: u8| TxAt { hash: B256::repeat_byte(n), block: u64::from(n) };
        let mut status = DestStatus::default();
        assert!(!status.settled() && !status.waiting_on_hold());
        status.apply(DestEvent::Held { release_at: 1_000 }, at(1));
        assert!(status.waiting_on_hold());
        assert_eq!(status.delivered, Some(at(1)));
        status.apply(DestEvent::Frozen, at(2));
        assert!(status.frozen);
        status.apply(DestEvent::Unfrozen, at(3));
        assert!(!status.frozen);
        status.apply(DestEvent::Released, at(4));
        status.apply(DestEvent::Executed { recipient: Address::repeat_byte(7), amount: U256::from(5u64) }, at(4));
        assert!(status.settled() && !status.waiting_on_hold());
        assert_eq!(status.delivered, Some(at(1)), "the delivery is the first transaction");
        assert_eq!(status.released, Some(at(4)));

        let mut failed = DestStatus::default();
        failed.apply(DestEvent::Failed { reason: FixedBytes([1, 2, 3, 4]) }, at(9));
        assert!(failed.settled());
        assert_eq!(failed.delivered, Some(at(9)));
    }

    #[test]
    fn lanes_map_back_to_legs() {
        let net = network();
        let Ok(out) = net.leg("ethereum", "bsc", "DEMO") else { panic!("leg") };
        let Ok(back) = net.leg("bsc", "ethereum", "DEMO") else { panic!("leg") };
        assert_eq!(leg_for_lane(&net, &net.chains[0], out.lane).map(|l| l.lane), Some(out.lane));
        assert_eq!(leg_for_lane(&net, &net.chains[1], back.lane).map(|l| l.destination.name), Some("ethereum".into()));
        assert_eq!(leg_for_lane(&net, &net.chains[1], out.lane), None, "the lane leaves from ethereum, not bsc");
    }
}
