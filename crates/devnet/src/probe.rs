//! RPC and HTTP probes: the providers and client `devnet status` uses, and the wait of
//! `devnet up` for blocks.

use std::time::Duration;

use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use eyre::{Result, WrapErr, bail};
use tokio::time::Instant;

use crate::{BLOCK_TIME, BLOCKS_TIMEOUT, PROBE_TIMEOUT};

pub(crate) fn http_provider(url: &str) -> Result<DynProvider> {
    Ok(ProviderBuilder::new().connect_http(url.parse().wrap_err_with(|| format!("bad RPC URL {url}"))?).erased())
}

pub(crate) fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder().timeout(PROBE_TIMEOUT).build().wrap_err("building an HTTP client")
}

/// Waits until the chain's head moves (interval mining works).
pub(crate) async fn wait_blocks(provider: &DynProvider, name: &str) -> Result<u64> {
    let first = provider.get_block_number().await.wrap_err_with(|| format!("{name}: eth_blockNumber"))?;
    let deadline = Instant::now() + BLOCKS_TIMEOUT;
    loop {
        let now = provider.get_block_number().await.wrap_err_with(|| format!("{name}: eth_blockNumber"))?;
        if now > first {
            return Ok(now);
        }
        if Instant::now() >= deadline {
            bail!("{name} produced no block within {BLOCKS_TIMEOUT:?} after switching to {BLOCK_TIME}-second blocks");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
