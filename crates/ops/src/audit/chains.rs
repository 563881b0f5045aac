//! What is read from each chain: the covered contracts and blocks, and their logs as audit records.

use std::collections::HashMap;
use std::path::Path;

use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{BlockNumberOrTag, Filter};
use eyre::{Result, bail, eyre};
use serde::Deserialize;
use serde_json::{Map, Value};
use zb_contracts::bridge::ZeroBridge;

use super::decode::{Contract, Decoder, classify};
use super::{FORMAT, REQUEST_TIMEOUT, UNKNOWN_EVENT};
use crate::context::{Context, NetworkArgs};
use crate::format::one_line;
use crate::network::ChainInfo;

/// One chain's part of the log: its contracts and the blocks covered (the header's `chains`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Coverage {
    pub chain_id: u64,
    pub chain: String,
    pub bridge: Address,
    pub registry: Address,
    pub manager: Address,
    pub from_block: u64,
    /// Below `from_block` when the chain had no final block in range yet.
    pub to_block: u64,
    /// The hash of `to_block` (None when the range is empty).
    pub to_block_hash: Option<B256>,
}

impl Coverage {
    pub(super) fn to_json(&self) -> Value {
        serde_json::json!({
            "chainId": self.chain_id,
            "chain": self.chain,
            "bridge": self.bridge.to_string(),
            "registry": self.registry.to_string(),
            "manager": self.manager.to_string(),
            "fromBlock": self.from_block,
            "toBlock": self.to_block,
            "toBlockHash": self.to_block_hash.map(|h| h.to_string()),
        })
    }

    pub(super) fn contract(&self, address: Address) -> Option<Contract> {
        if address == self.bridge {
            Some(Contract::Bridge)
        } else if address == self.registry {
            Some(Contract::Registry)
        } else if address == self.manager {
            Some(Contract::Manager)
        } else {
            None
        }
    }

    pub fn blocks(&self) -> String {
        if self.to_block < self.from_block {
            format!("{} (no blocks)", self.chain)
        } else {
            format!("{} blocks {}..={}", self.chain, self.from_block, self.to_block)
        }
    }
}

/// The header line (seq 0) before sealing.
pub(super) fn header(coverage: &[Coverage]) -> Map<String, Value> {
    let mut line = Map::new();
    line.insert("kind".into(), Value::from("header"));
    line.insert("format".into(), Value::from(FORMAT));
    line.insert("chains".into(), Value::Array(coverage.iter().map(Coverage::to_json).collect()));
    line
}

/// The network to read ([`Context`]: a network file or the devnet manifest) and, for the devnet,
/// each chain's deployment block.
pub(super) struct Target {
    pub(super) ctx: Context,
    pub(super) start_blocks: HashMap<u64, u64>,
}

impl Target {
    pub(super) fn load(network_file: Option<&Path>) -> Result<Target> {
        let ctx = Context::load(&NetworkArgs { network: network_file.map(Path::to_path_buf) })?;
        let start_blocks =
            ctx.manifest.iter().flat_map(|m| &m.chains).map(|c| (c.chain.chain_id, c.start_block)).collect();
        Ok(Target { ctx, start_blocks })
    }

    /// A reader for `chain`, after checking that its RPC serves the configured chain id.
    pub(super) async fn connect(&self, chain: &ChainInfo) -> Result<DynProvider> {
        let url: reqwest::Url = chain.rpc.parse().map_err(|e| {
            eyre!("chain '{}': rpc '{}' is not a URL ({e}): write it like http://host:8545", chain.name, chain.rpc)
        })?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| eyre!("cannot build an HTTP client: {e}"))?;
        let provider = ProviderBuilder::new().connect_reqwest(http, url).erased();
        let id = provider.get_chain_id().await.map_err(|e| {
            eyre!(
                "cannot reach the RPC of chain '{}' at {} ({}): {}",
                chain.name,
                chain.rpc,
                one_line(&e),
                self.ctx.reach_hint(chain)
            )
        })?;
        if id != chain.chain_id {
            bail!(
                "wrong chain: '{}' is configured with chain id {} but its RPC {} serves chain id {id}: point `rpc` at a \
                 chain-{} node or correct `chainId`",
                chain.name,
                chain.chain_id,
                chain.rpc,
                chain.chain_id
            );
        }
        Ok(provider)
    }
}

/// The chain's AccessManager: configured, else the bridge's `authority()`.
pub(super) async fn manager_of(provider: &DynProvider, chain: &ChainInfo) -> Result<Address> {
    if let Some(manager) = chain.manager {
        return Ok(manager);
    }
    ZeroBridge::new(chain.bridge, provider.clone()).authority().call().await.map_err(|e| {
        eyre!(
            "chain '{}': cannot read the bridge's authority() at {} ({}): set `manager` (the AccessManager's address) \
             for this chain in the network file",
            chain.name,
            chain.bridge,
            one_line(&e)
        )
    })
}

pub(super) fn check_distinct(coverage: &Coverage) -> Result<()> {
    let (b, r, m) = (coverage.bridge, coverage.registry, coverage.manager);
    if b == r || b == m || r == m {
        bail!(
            "chain '{}': bridge {b}, registry {r} and manager {m} must be three different contracts: correct the network \
             file",
            coverage.chain
        );
    }
    Ok(())
}

/// The hash of block `number`.
pub(super) async fn block_hash(provider: &DynProvider, chain: &str, number: u64) -> Result<B256> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Number(number))
        .await
        .map_err(|e| eyre!("chain '{chain}': cannot read block {number}: {}", one_line(&e)))?
        .ok_or_else(|| eyre!("chain '{chain}' has no block {number}: it is behind, or it is another chain"))?;
    Ok(block.header.hash)
}

/// Every log of the covered contracts in the covered blocks, as audit records (without `seq`,
/// `prev` and `hash`), ordered by (block, log index).
pub(super) async fn read_records(
    provider: &DynProvider,
    coverage: &Coverage,
    decoder: &Decoder,
) -> Result<Vec<Map<String, Value>>> {
    let name = &coverage.chain;
    let (from, to) = (coverage.from_block, coverage.to_block);
    let filter = Filter::new().address(vec![coverage.bridge, coverage.registry, coverage.manager]);
    let logs = zb_chain::scan_logs(provider, &filter, from, to)
        .await
        .map_err(|e| eyre!("chain '{name}': cannot read the logs of blocks {from}..={to}: {}", one_line(&e)))?;
    let mut positioned = Vec::with_capacity(logs.len());
    for log in logs {
        let (Some(block), Some(index), Some(block_hash), Some(tx)) =
            (log.block_number, log.log_index, log.block_hash, log.transaction_hash)
        else {
            bail!("chain '{name}': the RPC returned a log without its block, index or transaction: use a full node");
        };
        positioned.push(((block, index), block_hash, tx, log));
    }
    positioned.sort_by_key(|(key, ..)| *key);
    if let Some(pair) = positioned.windows(2).find(|w| w[0].0 == w[1].0) {
        bail!(
            "chain '{name}': the RPC returned block {} log index {} twice: use another RPC",
            pair[0].0.0,
            pair[0].0.1
        );
    }

    let mut senders: HashMap<B256, Address> = HashMap::new();
    let mut records = Vec::with_capacity(positioned.len());
    for ((block, index), block_hash, tx, log) in positioned {
        let address = log.address();
        let Some(contract) = coverage.contract(address) else {
            bail!("chain '{name}': the RPC returned a log of {address}, which was not asked for: use another RPC");
        };
        let topics = log.topics();
        let (event, fields, kind) = match decoder.decode(contract, topics, &log.data().data) {
            Some((event, fields)) => {
                let kind = classify(contract, &event);
                (event, fields, kind)
            }
            None => {
                let mut raw = Map::new();
                raw.insert(
                    "topics".into(),
                    Value::Array(topics.iter().map(|t| Value::String(t.to_string())).collect()),
                );
                raw.insert("data".into(), Value::String(alloy::hex::encode_prefixed(&log.data().data)));
                (UNKNOWN_EVENT.to_string(), raw, "privileged")
            }
        };
        let mut record = Map::new();
        record.insert("chainId".into(), Value::from(coverage.chain_id));
        record.insert("chain".into(), Value::from(name.clone()));
        record.insert("block".into(), Value::from(block));
        record.insert("blockHash".into(), Value::from(block_hash.to_string()));
        record.insert("tx".into(), Value::from(tx.to_string()));
        record.insert("logIndex".into(), Value::from(index));
        record.insert("address".into(), Value::from(address.to_string()));
        record.insert("contract".into(), Value::from(contract.name()));
        record.insert("kind".into(), Value::from(kind));
        record.insert("event".into(), Value::from(event));
        record.insert("fields".into(), Value::Object(fields));
        if kind == "privileged" {
            // Who did it: the transaction's sender (events of restricted calls do not name it).
            let from = match senders.get(&tx) {
                Some(from) => *from,
                None => {
                    let receipt = provider
                        .get_transaction_receipt(tx)
                        .await
                        .map_err(|e| eyre!("chain '{name}': cannot read the receipt of {tx}: {}", one_line(&e)))?
                        .ok_or_else(|| {
                            eyre!("chain '{name}': no receipt for {tx}, which emitted a log: use a full node")
                        })?;
                    senders.insert(tx, receipt.from);
                    receipt.from
                }
            };
            record.insert("from".into(), Value::from(from.to_string()));
        }
        records.push(record);
    }
    Ok(records)
}
