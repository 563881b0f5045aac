//! One real anvil chain on a free port, killed on drop.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use std::sync::OnceLock;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, WrapErr, bail, eyre};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::paths::{anvil_bin, free_port};
use crate::process::{Agent, tail};

#[derive(Debug)]
pub struct Anvil {
    agent: Agent,
    port: u16,
    chain_id: u64,
    reader: DynProvider,
    /// One signing provider per node, so that its nonce cache is the only one.
    wallet: OnceLock<(DynProvider, Address)>,
}

/// anvil's first default account.
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

impl Anvil {
    /// Starts anvil with `chain_id`, automining (each transaction mined at once, so deployments
    /// are fast); switch to interval or manual mining afterwards. Output goes to `log`.
    pub async fn start(chain_id: u64, log: &Path) -> Result<Anvil> {
        Anvil::start_with_args(chain_id, &[], log).await
    }

    /// [`Anvil::start`] with extra command-line arguments (`--block-time 1`, ...).
    pub async fn start_with_args(chain_id: u64, extra: &[&str], log: &Path) -> Result<Anvil> {
        let bin = anvil_bin()?;
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let mut command = Command::new(&bin);
            command.args(["--port", &port.to_string(), "--chain-id", &chain_id.to_string(), "--silent"]).args(extra);
            let mut agent = Agent::spawn(format!("anvil (chain {chain_id})"), command, log)?;
            let url = format!("http://127.0.0.1:{port}");
            match zb_chain::wait_for_rpc(&url, Duration::from_secs(20)).await {
                Ok(id) if id == chain_id => {
                    let reader = ProviderBuilder::new().connect_http(url.parse()?).erased();
                    return Ok(Anvil { agent, port, chain_id, reader, wallet: OnceLock::new() });
                }
                Ok(id) => {
                    // Another node answered on the port we picked: try another one.
                    last = format!("port {port} answered with chain id {id}");
                }
                Err(e) => last = e.to_string(),
            }
            agent.kill();
        }
        bail!("anvil (chain {chain_id}) did not come up: {last}; its log:\n{}", tail(log, 20))
    }

    /// Starts `bin` (anvil) on 127.0.0.1:`port` in its own process group with its output in
    /// `log` (truncated), automining, and waits up to `timeout` for it to answer with `chain_id`.
    /// For `zerobridge devnet up`: [`Anvil::release`] leaves it running.
    pub async fn start_detached(bin: &Path, chain_id: u64, port: u16, log: &Path, timeout: Duration) -> Result<Anvil> {
        let mut command = Command::new(bin);
        command.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", &chain_id.to_string()]);
        let mut agent = Agent::spawn_detached(format!("anvil (chain {chain_id})"), command, log)?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = agent.exited() {
                bail!("anvil (chain {chain_id}) exited ({status}); see {}; its log:\n{}", log.display(), tail(log, 20));
            }
            match zb_chain::wait_for_rpc(&url, Duration::from_millis(500)).await {
                Ok(id) if id == chain_id => break,
                Ok(id) => bail!(
                    "{url} answers with chain id {id}, not {chain_id}: another node took the port; stop it and retry"
                ),
                Err(e) if std::time::Instant::now() >= deadline => bail!(
                    "anvil (chain {chain_id}) did not answer on {url} within {timeout:?}: {e}; its log:\n{}",
                    tail(log, 20)
                ),
                Err(_) => {}
            }
        }
        let reader = ProviderBuilder::new().connect_http(url.parse()?).erased();
        Ok(Anvil { agent, port, chain_id, reader, wallet: OnceLock::new() })
    }

    /// Lets the node outlive this value (and this process); returns its pid.
    pub fn release(&mut self) -> u32 {
        self.agent.release()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    pub fn pid(&self) -> u32 {
        self.agent.pid()
    }

    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// A provider without a wallet.
    pub fn reader(&self) -> DynProvider {
        self.reader.clone()
    }

    /// A provider signing with anvil's first dev account ([`DEV_KEY`]), and its address.
    pub fn dev_wallet(&self) -> Result<(DynProvider, Address)> {
        if let Some(wallet) = self.wallet.get() {
            return Ok(wallet.clone());
        }
        let signer: PrivateKeySigner = DEV_KEY.parse()?;
        let address = signer.address();
        let provider =
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(self.http().parse()?).erased();
        Ok(self.wallet.get_or_init(|| (provider, address)).clone())
    }

    /// A raw JSON-RPC call.
    pub async fn rpc<P, R>(&self, method: &'static str, params: P) -> Result<R>
    where
        P: Serialize + Clone + Send + Sync + std::fmt::Debug + Unpin + 'static,
        R: DeserializeOwned + std::fmt::Debug + Send + Sync + Unpin + 'static,
    {
        self.reader
            .raw_request(method.into(), params)
            .await
            .wrap_err_with(|| format!("{method} on chain {}", self.chain_id))
    }

    pub async fn block_number(&self) -> Result<u64> {
        Ok(self.reader.get_block_number().await?)
    }

    /// The hash of block `number` (error if the chain has no such block).
    pub async fn block_hash(&self, number: u64) -> Result<B256> {
        let block = self
            .reader
            .get_block_by_number(number.into())
            .await?
            .ok_or_else(|| eyre!("chain {} has no block {number}", self.chain_id))?;
        Ok(block.header.hash)
    }

    /// Mines `blocks` blocks now (`anvil_mine`).
    pub async fn mine(&self, blocks: u64) -> Result<()> {
        let _: serde_json::Value = self.rpc("anvil_mine", (blocks,)).await?;
        Ok(())
    }

    /// Replaces the newest `depth` blocks with empty ones: same height, new hashes. Their
    /// transactions are dropped, not re-queued (`anvil_reorg` with no replacement transactions).
    pub async fn reorg(&self, depth: u64) -> Result<()> {
        let none: Vec<serde_json::Value> = Vec::new();
        let _: serde_json::Value = self.rpc("anvil_reorg", (depth, none)).await?;
        Ok(())
    }

    /// A new block every `seconds` seconds (and no automining).
    pub async fn set_interval_mining(&self, seconds: u64) -> Result<()> {
        let _: serde_json::Value = self.rpc("evm_setIntervalMining", (seconds,)).await?;
        Ok(())
    }

    /// Stops interval mining (with automining off, nothing is mined until
    /// [`Anvil::set_interval_mining`] or [`Anvil::mine`]): sent transactions wait in the mempool.
    pub async fn pause_mining(&self) -> Result<()> {
        self.set_interval_mining(0).await
    }

    /// Removes a pending transaction from the mempool, as if its broadcast had been lost.
    pub async fn drop_transaction(&self, hash: B256) -> Result<()> {
        let _: serde_json::Value = self.rpc("anvil_dropTransaction", (hash,)).await?;
        Ok(())
    }

    /// Moves the chain's clock forward: the next block is at least `seconds` later.
    pub async fn increase_time(&self, seconds: u64) -> Result<()> {
        let _: serde_json::Value = self.rpc("evm_increaseTime", (seconds,)).await?;
        Ok(())
    }

    /// Automining on or off. Off, with no interval, blocks are mined only by [`Anvil::mine`].
    pub async fn set_automine(&self, on: bool) -> Result<()> {
        let _: serde_json::Value = self.rpc("evm_setAutomine", (on,)).await?;
        Ok(())
    }
}
