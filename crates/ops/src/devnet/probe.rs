//! RPC and HTTP probes: the providers and client `devnet up` and `devnet status` use, and the
//! waits of `devnet up` for the chains and the agents.

use std::path::Path;
use std::time::Duration;

use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use eyre::{Result, WrapErr, bail};
use serde::Serialize;
use tokio::time::Instant;

use super::process::{Launch, show_tail};
use super::{AGENT_TIMEOUT, BLOCK_TIME, BLOCKS_TIMEOUT, ChainSpec, PROBE_TIMEOUT, RPC_TIMEOUT};

pub(super) fn http_provider(url: &str) -> Result<DynProvider> {
    Ok(ProviderBuilder::new().connect_http(url.parse().wrap_err_with(|| format!("bad RPC URL {url}"))?).erased())
}

pub(super) async fn rpc_call(
    provider: &DynProvider,
    method: &'static str,
    params: impl Serialize + Clone + Send + Sync + std::fmt::Debug + Unpin + 'static,
) -> Result<()> {
    let _: serde_json::Value = provider.raw_request(method.into(), params).await.wrap_err(method)?;
    Ok(())
}

pub(super) fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder().timeout(PROBE_TIMEOUT).build().wrap_err("building an HTTP client")
}

pub(super) async fn wait_chain(url: &str, chain: ChainSpec, launch: &mut Launch, log: &Path) -> Result<()> {
    let name = format!("anvil {}", chain.name);
    let deadline = Instant::now() + RPC_TIMEOUT;
    loop {
        launch.check(&name, log)?;
        match zb_chain::wait_for_rpc(url, Duration::from_millis(500)).await {
            Ok(id) if id == chain.chain_id => return Ok(()),
            Ok(id) => bail!(
                "{url} answers with chain id {id}, not {}: another node took the port; stop it and retry",
                chain.chain_id
            ),
            Err(e) if Instant::now() >= deadline => {
                show_tail(log, 20);
                bail!("{name} did not answer on {url} within {RPC_TIMEOUT:?}: {e}; see {}", log.display())
            }
            Err(_) => {}
        }
    }
}

/// Waits until the chain's head moves (interval mining works).
pub(super) async fn wait_blocks(provider: &DynProvider, name: &str) -> Result<u64> {
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

pub(super) async fn wait_healthy(
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
            show_tail(log, 30);
            bail!(
                "{name} did not report healthy on {health} within {AGENT_TIMEOUT:?} (last: {last}); see {}",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
