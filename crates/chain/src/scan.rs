//! The one log scanner: walks `[from, to]` in windows that adapt to what the endpoint accepts.
//!
//! Providers cap `eth_getLogs` by block range or by result size, and the caps differ. A window
//! is halved whenever the endpoint refuses it and doubled again after each answer (up to
//! [`MAX_LOG_WINDOW`]), so a scan neither fails on a capped provider nor crawls on a generous one.
//! Batches come out in chain order, one per accepted window, so a caller can stream a long range
//! without holding it all.

use std::future::Future;

use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};

use crate::error::ChainError;

/// The first window of a scan, in blocks.
pub const MAX_LOG_RANGE: u64 = 2_000;
/// The widest window a scan grows to.
pub const MAX_LOG_WINDOW: u64 = 64 * MAX_LOG_RANGE;

/// A scan of `[from, to]` in adaptive windows; [`LogScan::next_batch`] fetches the next one.
#[derive(Debug, Clone)]
pub struct LogScan {
    next: u64,
    to: u64,
    window: u64,
    /// False once the endpoint refused a window: the accepted width is then kept.
    grow: bool,
    done: bool,
}

impl LogScan {
    pub fn new(from: u64, to: u64) -> LogScan {
        LogScan { next: from, to, window: MAX_LOG_RANGE, grow: true, done: from > to }
    }

    /// The logs of the next window, or `None` once `to` is passed. `fetch(a, b)` reads the logs of
    /// blocks `[a, b]`; a [`ChainError::Rpc`] from it narrows the window and retries, any other
    /// error (a disagreement between endpoints, a decoding failure) ends the scan.
    pub async fn next_batch<F, Fut>(&mut self, mut fetch: F) -> Result<Option<Vec<Log>>, ChainError>
    where
        F: FnMut(u64, u64) -> Fut,
        Fut: Future<Output = Result<Vec<Log>, ChainError>>,
    {
        if self.done {
            return Ok(None);
        }
        loop {
            let end = self.to.min(self.next.saturating_add(self.window - 1));
            match fetch(self.next, end).await {
                Ok(logs) => {
                    match end.checked_add(1) {
                        Some(next) if end < self.to => self.next = next,
                        _ => self.done = true,
                    }
                    if self.grow {
                        self.window = self.window.saturating_mul(2).min(MAX_LOG_WINDOW);
                    }
                    return Ok(Some(logs));
                }
                Err(ChainError::Rpc(reason)) if end > self.next => {
                    self.window = (end - self.next).div_ceil(2).max(1);
                    self.grow = false;
                    tracing::debug!(from = self.next, to = end, %reason, "log range refused; narrowing");
                }
                Err(ChainError::Rpc(reason)) => {
                    return Err(ChainError::Rpc(format!("cannot read the logs of block {end}: {reason}")));
                }
                Err(other) => return Err(other),
            }
        }
    }
}

/// Every log matching `filter` in `[from, to]` from one endpoint, in chain order, without logs
/// the endpoint marks as removed by a reorganisation.
pub async fn scan_logs(provider: &DynProvider, filter: &Filter, from: u64, to: u64) -> Result<Vec<Log>, ChainError> {
    let mut scan = LogScan::new(from, to);
    let mut out = Vec::new();
    while let Some(batch) = scan
        .next_batch(|a, b| {
            let filter = filter.clone().from_block(a).to_block(b);
            async move { provider.get_logs(&filter).await.map_err(|e| ChainError::Rpc(e.to_string())) }
        })
        .await?
    {
        out.extend(batch.into_iter().filter(|log| !log.removed));
    }
    out.sort_by_key(|log| (log.block_number, log.log_index));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn log_at(block: u64) -> Log {
        Log { block_number: Some(block), ..Log::default() }
    }

    /// An endpoint with one log per block that refuses ranges wider than `cap` blocks.
    async fn capped(cap: u64, a: u64, b: u64, calls: &RefCell<Vec<(u64, u64)>>) -> Result<Vec<Log>, ChainError> {
        calls.borrow_mut().push((a, b));
        if b - a + 1 > cap {
            return Err(ChainError::Rpc(format!("range over {cap} blocks")));
        }
        Ok((a..=b).map(log_at).collect())
    }

    async fn scan_all(from: u64, to: u64, cap: u64) -> (Result<Vec<u64>, ChainError>, Vec<(u64, u64)>) {
        let calls = RefCell::new(Vec::new());
        let mut scan = LogScan::new(from, to);
        let mut blocks = Vec::new();
        loop {
            match scan.next_batch(|a, b| capped(cap, a, b, &calls)).await {
                Ok(Some(batch)) => blocks.extend(batch.iter().filter_map(|l| l.block_number)),
                Ok(None) => break,
                Err(e) => return (Err(e), calls.into_inner()),
            }
        }
        (Ok(blocks), calls.into_inner())
    }

    #[tokio::test]
    async fn a_capped_endpoint_gets_every_block_once_in_order() {
        let (blocks, calls) = scan_all(10, 10_009, 300).await;
        assert_eq!(blocks.expect("scan"), (10..=10_009).collect::<Vec<_>>());
        assert!(calls.iter().all(|(a, b)| a <= b));
        // 2000, 1000 and 500 refused; then 250 blocks at a time, never refused again.
        let refused = calls.iter().filter(|(a, b)| b - a + 1 > 300).count();
        assert_eq!(refused, 3, "{calls:?}");
        assert!(calls[3..].iter().all(|(a, b)| b - a + 1 == 250 || *b == 10_009), "{calls:?}");
    }

    #[tokio::test]
    async fn a_generous_endpoint_sees_the_window_grow() {
        let (blocks, calls) = scan_all(0, 1_000_000, u64::MAX).await;
        assert_eq!(blocks.expect("scan").len(), 1_000_001);
        assert_eq!(calls[0], (0, MAX_LOG_RANGE - 1));
        assert!(calls.iter().any(|(a, b)| b - a + 1 == MAX_LOG_WINDOW));
        assert!(calls.iter().all(|(a, b)| b - a < MAX_LOG_WINDOW));
    }

    #[tokio::test]
    async fn a_single_block_refused_is_an_error_not_a_gap() {
        let (blocks, _) = scan_all(5, 8, 0).await;
        let error = blocks.expect_err("a block that cannot be read ends the scan");
        assert!(error.to_string().contains("block 5"), "{error}");
    }

    #[tokio::test]
    async fn other_errors_end_the_scan_at_once() {
        let calls = RefCell::new(0);
        let mut scan = LogScan::new(0, 100);
        let result = scan
            .next_batch(|_, _| {
                *calls.borrow_mut() += 1;
                async { Err(ChainError::RpcDisagreement { what: "logs".into() }) }
            })
            .await;
        assert!(matches!(result, Err(ChainError::RpcDisagreement { .. })));
        assert_eq!(calls.into_inner(), 1);
    }

    #[tokio::test]
    async fn an_empty_or_inverted_range_fetches_nothing() {
        let mut scan = LogScan::new(9, 8);
        let batch = scan.next_batch(|_, _| async { Ok(vec![log_at(1)]) }).await.expect("no fetch");
        assert!(batch.is_none());
        let (blocks, calls) = scan_all(u64::MAX, u64::MAX, 10).await;
        assert_eq!(blocks.expect("scan"), vec![u64::MAX]);
        assert_eq!(calls, vec![(u64::MAX, u64::MAX)]);
    }
}
