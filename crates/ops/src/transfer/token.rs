//! Token metadata, the token bucket's rules and one-line explanations of contract errors.

use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use eyre::{Result, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::revert::{self, RevertContext, Wording};

use super::{BUCKET_REFILL_SECONDS, IERC20Token};
use crate::format::{format_amount, format_utc, format_wait, one_line};
use crate::network::{ChainInfo, Leg};

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

/// The tokens of `leg` on its source and destination (in that order: the error names the source
/// first when neither answers).
pub(crate) async fn leg_tokens(
    leg: &Leg,
    source: &DynProvider,
    destination: &DynProvider,
) -> Result<(TokenMeta, TokenMeta)> {
    let is_home = leg.route.home == leg.source.name;
    let source_token =
        token_meta(source, &leg.source, leg.source_token, &configured_symbol(&leg.route.symbol, is_home)).await?;
    let destination_token = token_meta(
        destination,
        &leg.destination,
        leg.destination_token,
        &configured_symbol(&leg.route.symbol, !is_home),
    )
    .await?;
    Ok((source_token, destination_token))
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::B256;
    use alloy::sol_types::SolError;
    use zb_contracts::wrapped::WrappedToken;

    fn units(whole: u64) -> U256 {
        U256::from(whole) * U256::from(10u64).pow(U256::from(18u64))
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
}
