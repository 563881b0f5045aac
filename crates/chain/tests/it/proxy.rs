//! Lying endpoints for the chain tests, by name: zb-test-utils proxies in front of an anvil.

use alloy::primitives::Address;
use zb_test_utils::RpcProxy;

#[derive(Debug, Clone, Copy)]
pub enum Lie {
    /// Forward untouched.
    None,
    /// Change the last byte of every log's data (for MessageSent: the accumulator).
    ForgeLogData,
    /// Drop the last log of every eth_getLogs answer.
    DropLastLog,
    /// Add a copy of the first log as if emitted by another address.
    InjectForeignLog(Address),
    /// Replace block hashes in eth_getBlockByNumber answers.
    ForgeBlockHash,
}

pub struct Proxy {
    pub url: String,
    _proxy: RpcProxy,
}

impl Proxy {
    pub async fn start(upstream: &str, lie: Lie) -> Proxy {
        let rewrite = match lie {
            Lie::None => RpcProxy::honest(),
            Lie::ForgeLogData => RpcProxy::forge_log_data(),
            Lie::DropLastLog => RpcProxy::drop_last_log(),
            Lie::InjectForeignLog(other) => RpcProxy::inject_foreign_log(other),
            Lie::ForgeBlockHash => RpcProxy::forge_block_hash(),
        };
        let proxy = RpcProxy::start(upstream, rewrite).unwrap_or_else(|e| panic!("proxy: {e}"));
        Proxy { url: proxy.url().to_string(), _proxy: proxy }
    }
}
