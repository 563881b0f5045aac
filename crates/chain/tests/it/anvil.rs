//! Real anvil processes for the tests: the native binary, a free port, killed on drop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use zb_chain::{ChainConfig, Finality, wait_for_rpc};

/// anvil's first default account.
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

pub struct Anvil {
    child: Child,
    pub port: u16,
    pub chain_id: u64,
    /// One signing provider per node, so that its nonce cache is the only one.
    wallet: std::sync::OnceLock<(DynProvider, Address)>,
}

fn binary() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil").to_string()
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

impl Anvil {
    pub async fn start(chain_id: u64, extra: &[&str]) -> Anvil {
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(binary())
                .args(["--port", &port.to_string(), "--chain-id", &chain_id.to_string(), "--silent"])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start anvil at {}: {e} (run npm install in /work/main)", binary()));
            let anvil = Anvil { child, port, chain_id, wallet: Default::default() };
            if wait_for_rpc(&anvil.http(), Duration::from_secs(10)).await.is_ok() {
                return anvil;
            }
            // Port taken between probing and binding: try another (the drop kills this one).
        }
        panic!("anvil did not come up");
    }

    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// A provider signing with anvil's first dev account.
    pub fn wallet(&self) -> (DynProvider, Address) {
        self.wallet
            .get_or_init(|| {
                let signer: PrivateKeySigner = DEV_KEY.parse().expect("dev key");
                let address = signer.address();
                let provider = ProviderBuilder::new()
                    .wallet(EthereumWallet::from(signer))
                    .connect_http(self.http().parse().expect("url"))
                    .erased();
                (provider, address)
            })
            .clone()
    }

    pub fn reader(&self) -> DynProvider {
        ProviderBuilder::new().connect_http(self.http().parse().expect("url")).erased()
    }

    pub async fn mine(&self, blocks: u64) {
        let _: serde_json::Value = self.reader().raw_request("anvil_mine".into(), (blocks,)).await.expect("anvil_mine");
    }

    /// Replaces the newest `depth` blocks with empty ones (new hashes, same height).
    pub async fn reorg(&self, depth: u64) {
        let none: Vec<serde_json::Value> = Vec::new();
        let _: serde_json::Value =
            self.reader().raw_request("anvil_reorg".into(), (depth, none)).await.expect("anvil_reorg");
    }

    pub async fn latest(&self) -> u64 {
        self.reader().get_block_number().await.expect("eth_blockNumber")
    }

    pub fn config(&self, bridge: Address, finality: Finality) -> ChainConfig {
        ChainConfig {
            name: "test".into(),
            chain_id: self.chain_id,
            rpc: vec![self.http()],
            ws: None,
            bridge,
            finality,
            rpc_quorum: 1,
            poll_interval_ms: 200,
            start_block: 0,
            stake_manager: None,
        }
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
