//! The chain tests' anvil: a zb-test-utils chain that panics instead of returning errors, and
//! the follower configuration for it.

use std::path::Path;

use alloy::primitives::Address;
use alloy::providers::DynProvider;
use zb_chain::{ChainConfig, Finality};

pub struct Anvil {
    node: zb_test_utils::Anvil,
    pub chain_id: u64,
}

impl Anvil {
    pub async fn start(chain_id: u64, extra: &[&str]) -> Anvil {
        let node = zb_test_utils::Anvil::start_with_args(chain_id, extra, Path::new("/dev/null"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Anvil { chain_id, node }
    }

    pub fn http(&self) -> String {
        self.node.http()
    }

    pub fn ws(&self) -> String {
        self.node.ws()
    }

    /// A provider signing with anvil's first dev account.
    pub fn wallet(&self) -> (DynProvider, Address) {
        self.node.dev_wallet().unwrap_or_else(|e| panic!("dev wallet: {e}"))
    }

    pub fn reader(&self) -> DynProvider {
        self.node.reader()
    }

    pub async fn mine(&self, blocks: u64) {
        self.node.mine(blocks).await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// Replaces the newest `depth` blocks with empty ones (new hashes, same height).
    pub async fn reorg(&self, depth: u64) {
        self.node.reorg(depth).await.unwrap_or_else(|e| panic!("{e}"));
    }

    pub async fn latest(&self) -> u64 {
        self.node.block_number().await.unwrap_or_else(|e| panic!("{e}"))
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
