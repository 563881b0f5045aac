//! RPC and HTTP probes: the providers and client `devnet up` and `devnet status` use, and the
//! waits of `devnet up` for the chains and the agents.

use std::path::Path;
use std::time::Duration;

use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use eyre::{Result, WrapErr, bail};
use tokio::time::Instant;

use crate::process::{Launch, log_end};
use crate::{AGENT_TIMEOUT, BLOCK_TIME, BLOCKS_TIMEOUT, PROBE_TIMEOUT};

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

pub(crate) async fn wait_healthy(
    http: &reqwest::Client,
    name: &str,
    url: &str,
    launch: &mut Launch,
    log: &Path,
) -> Result<()> {
    let health = format!("{url}/v1/health");
    let deadline = Instant::now() + AGENT_TIMEOUT;
    loop {
        launch.check(name, log)?;
        let last = match http.get(&health).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => {
                let status = response.status();
                format!("{status}: {}", response.text().await.unwrap_or_default())
            }
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            bail!(
                "{name} did not report healthy on {health} within {AGENT_TIMEOUT:?} (last: {last}); see {}\n{}",
                log.display(),
                log_end(log, 30)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
