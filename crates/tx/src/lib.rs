//! Sending transactions the way every zerobridge component should: one nonce sequence per
//! (chain, account) shared by every task, gas with headroom, EIP-1559 fees that a replacement
//! raises by a fixed step without overflowing, and receipts awaited with a deadline (a black-holing RPC or an underpriced transaction must not hang a caller forever).
//!
//! The relayer, the watchtower and the workflows library (zb-ops) use it.

use std::time::Duration;

use alloy::network::Ethereum;
use alloy::primitives::{Address, TxHash};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};

/// How often a receipt is polled for.
const RECEIPT_POLL: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    #[error("{0}")]
    Rpc(String),
    #[error("transaction {hash} was not mined within {} s: it may still be pending (fees too low?)", timeout.as_secs())]
    NotMined { hash: TxHash, timeout: Duration },
    #[error("transaction {hash} reverted in block {block}")]
    Reverted { hash: TxHash, block: u64 },
}

/// EIP-1559 fee caps of one transaction, in wei per gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    pub max_fee_per_gas: u128,
    pub max_priority_fee_per_gas: u128,
}

impl Fees {
    /// Fees for a replacement of a transaction sent with `self` (same nonce): at least 25 % more
    /// on both caps (nodes require +10 %; the margin absorbs rounding and rising base fees) and
    /// never below the current `estimate`. Saturates instead of overflowing; the tip never
    /// exceeds the fee cap.
    pub fn replacement(self, estimate: Fees) -> Fees {
        let bump = |fee: u128| fee.saturating_add(fee / 4).saturating_add(1);
        Fees::at_least(
            Fees {
                max_fee_per_gas: bump(self.max_fee_per_gas),
                max_priority_fee_per_gas: bump(self.max_priority_fee_per_gas),
            },
            estimate,
        )
    }

    /// The larger of each cap, with the tip bounded by the fee cap.
    fn at_least(self, estimate: Fees) -> Fees {
        Fees {
            max_fee_per_gas: self.max_fee_per_gas.max(estimate.max_fee_per_gas),
            max_priority_fee_per_gas: self.max_priority_fee_per_gas.max(estimate.max_priority_fee_per_gas),
        }
        .bounded()
    }

    /// The same fees with the tip no higher than the fee cap (a node rejects a higher one).
    pub fn bounded(self) -> Fees {
        Fees { max_priority_fee_per_gas: self.max_priority_fee_per_gas.min(self.max_fee_per_gas), ..self }
    }

    /// Each cap no higher than `ceiling`'s: what an operator is willing to pay at most.
    pub fn capped(self, ceiling: Fees) -> Fees {
        Fees {
            max_fee_per_gas: self.max_fee_per_gas.min(ceiling.max_fee_per_gas),
            max_priority_fee_per_gas: self.max_priority_fee_per_gas.min(ceiling.max_priority_fee_per_gas),
        }
        .bounded()
    }

    /// [`Fees::replacement`] within `ceiling`, or None when the ceiling leaves no room for a
    /// replacement a node accepts (both caps at least 10 % above `self`'s): the original then has
    /// to be waited for, or rebroadcast, instead of replaced.
    pub fn replacement_within(self, estimate: Fees, ceiling: Fees) -> Option<Fees> {
        let next = self.replacement(estimate).capped(ceiling);
        let accepted = |old: u128, new: u128| new >= old.saturating_add(old / 10).saturating_add(1);
        (accepted(self.max_fee_per_gas, next.max_fee_per_gas)
            && accepted(self.max_priority_fee_per_gas, next.max_priority_fee_per_gas))
        .then_some(next)
    }
}

/// Hands out the nonces of one account on one chain to every task that sends from it, so two
/// lanes delivering to the same chain never pick the same nonce and evict each other. Never
/// below the chain's pending count (transactions sent from elsewhere are skipped) nor below the
/// floor the caller persisted (its own signed transactions a node may have dropped, which it
/// rebroadcasts with their nonces). A nonce reserved and then not sent is released and handed
/// out again first, so it cannot leave a gap that wedges every later transaction.
#[derive(Debug, Default)]
pub struct NonceManager {
    state: tokio::sync::Mutex<NonceState>,
}

#[derive(Debug, Default)]
struct NonceState {
    next: u64,
    released: std::collections::BTreeSet<u64>,
}

impl NonceManager {
    /// A manager that never hands out a nonce below `floor` (one above the highest nonce of the
    /// caller's own transactions not known to be mined).
    pub fn with_floor(floor: u64) -> NonceManager {
        NonceManager { state: tokio::sync::Mutex::new(NonceState { next: floor, released: Default::default() }) }
    }

    /// The nonce for the next new transaction of `account`; a replacement reuses its original's.
    pub async fn reserve<P: Provider<Ethereum>>(&self, provider: &P, account: Address) -> Result<u64, TxError> {
        let mut state = self.state.lock().await;
        let pending =
            provider.get_transaction_count(account).pending().await.map_err(|e| TxError::Rpc(e.to_string()))?;
        // A released nonce the chain has meanwhile seen (used from elsewhere) is no gap any more.
        state.released.retain(|&n| n >= pending);
        if let Some(gap) = state.released.pop_first() {
            return Ok(gap);
        }
        let nonce = state.next.max(pending);
        state.next = nonce.saturating_add(1);
        Ok(nonce)
    }

    /// Gives back a reserved `nonce` whose transaction was never broadcast (building or signing
    /// it failed): the next [`reserve`](Self::reserve) hands it out again.
    pub async fn release(&self, nonce: u64) {
        let mut state = self.state.lock().await;
        if nonce.saturating_add(1) == state.next {
            state.next = nonce;
        } else if nonce < state.next {
            state.released.insert(nonce);
        }
    }
}

/// `estimate` plus `percent` % (the estimate runs against the pending block; timestamp-dependent
/// writes such as a refilling rate limit can cost more in the block that includes the call).
pub fn with_headroom(estimate: u64, percent: u64) -> u64 {
    estimate.saturating_add(estimate.saturating_mul(percent) / 100)
}

/// The current EIP-1559 fee estimate of `provider`'s chain.
pub async fn estimate_fees<P: Provider<Ethereum>>(provider: &P) -> Result<Fees, TxError> {
    let fees = provider.estimate_eip1559_fees().await.map_err(|e| TxError::Rpc(e.to_string()))?;
    Ok(Fees { max_fee_per_gas: fees.max_fee_per_gas, max_priority_fee_per_gas: fees.max_priority_fee_per_gas })
}

/// Waits for the receipt of `hash` (mined, successful or not) for at most `timeout`. Failed polls
/// are retried until the deadline: one bad answer from a node is not an outcome.
pub async fn wait_receipt<P: Provider<Ethereum>>(
    provider: &P,
    hash: TxHash,
    timeout: Duration,
) -> Result<TransactionReceipt, TxError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(remaining, provider.get_transaction_receipt(hash)).await {
            Ok(Ok(Some(receipt))) if receipt.block_number.is_some() => return Ok(receipt),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::debug!(%hash, error = %e, "receipt poll failed"),
            Err(_) => {}
        }
        if tokio::time::Instant::now() + RECEIPT_POLL >= deadline {
            return Err(TxError::NotMined { hash, timeout });
        }
        tokio::time::sleep(RECEIPT_POLL).await;
    }
}

/// Like [`wait_receipt`], and a reverted transaction is an error.
pub async fn wait_success<P: Provider<Ethereum>>(
    provider: &P,
    hash: TxHash,
    timeout: Duration,
) -> Result<TransactionReceipt, TxError> {
    let receipt = wait_receipt(provider, hash, timeout).await?;
    if !receipt.status() {
        return Err(TxError::Reverted { hash, block: receipt.block_number.unwrap_or_default() });
    }
    Ok(receipt)
}

/// Estimates `request`'s gas (which simulates it: a call that would revert is refused before it
/// costs anything), sends it from `provider`'s wallet with `headroom_percent` % extra gas and
/// waits up to `timeout` for a successful receipt.
pub async fn send_and_confirm<P: Provider<Ethereum>>(
    provider: &P,
    request: TransactionRequest,
    headroom_percent: u64,
    timeout: Duration,
) -> Result<TransactionReceipt, TxError> {
    let gas = provider.estimate_gas(request.clone()).await.map_err(|e| TxError::Rpc(e.to_string()))?;
    let request = request.gas_limit(with_headroom(gas, headroom_percent));
    let pending = provider.send_transaction(request).await.map_err(|e| TxError::Rpc(e.to_string()))?;
    wait_success(provider, *pending.tx_hash(), timeout).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn fees(max_fee_per_gas: u128, max_priority_fee_per_gas: u128) -> Fees {
        Fees { max_fee_per_gas, max_priority_fee_per_gas }
    }

    #[test]
    fn a_replacement_raises_both_caps_by_a_quarter_and_follows_a_higher_estimate() {
        assert_eq!(fees(100, 8).replacement(fees(10, 1)), fees(126, 11));
        assert_eq!(fees(100, 8).replacement(fees(500, 20)), fees(500, 20));
    }

    #[test]
    fn a_replacement_saturates_instead_of_wrapping_and_keeps_the_tip_under_the_cap() {
        let top = fees(u128::MAX - 3, u128::MAX - 3).replacement(fees(0, 0));
        assert_eq!(top, fees(u128::MAX, u128::MAX));
        assert_eq!(fees(10, 9).replacement(fees(10, 50)), fees(13, 13));
        assert_eq!(fees(10, 50).bounded(), fees(10, 10));
    }

    #[test]
    fn a_ceiling_caps_both_fees_and_refuses_a_replacement_it_leaves_no_room_for() {
        let ceiling = fees(150, 20);
        assert_eq!(fees(500, 30).capped(ceiling), fees(150, 20));
        assert_eq!(fees(100, 8).replacement_within(fees(10, 1), ceiling), Some(fees(126, 11)));
        // 140 -> 176 capped to 150: only +7 %, a node would refuse it as underpriced.
        assert_eq!(fees(140, 8).replacement_within(fees(10, 1), ceiling), None);
        assert_eq!(fees(150, 20).replacement_within(fees(900, 90), ceiling), None, "already at the ceiling");
    }

    #[test]
    fn headroom_is_a_percentage_that_cannot_overflow() {
        assert_eq!(with_headroom(100_000, 30), 130_000);
        assert_eq!(with_headroom(100_000, 20), 120_000);
        assert_eq!(with_headroom(u64::MAX, 30), u64::MAX);
    }
}
