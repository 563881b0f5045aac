//! `zerobridge audit export | verify`: a hash-chained JSON-lines log of every privileged action
//! and every transfer, built from the chains' events, and its verification against the chains.
//!
//! Both commands are read-only: they never load a key and send no transaction, so a regulator
//! runs them with nothing but RPC access to each chain (ideally their own nodes). Format, hashing
//! and what `verify` checks: docs/audit.md.
//!
//! - `export` reads every log of each chain's bridge, route registry and AccessManager from a
//!   start block to the chain head minus `--confirmations`, decodes it with the contract
//!   bindings into an event name and named fields, and writes one JSON line per event, ordered by
//!   (chain id, block, log index), after a header line that names the covered block ranges. Each
//!   line carries `prev` (the previous line's hash) and `hash` (keccak256 of the line's canonical
//!   JSON without `hash`).
//! - `verify` recomputes every hash and link, then re-reads the covered ranges from the chains and
//!   requires the file to equal them line for line: an edited line is caught even when every hash
//!   after it was recomputed, and a deleted line is caught as a missing event.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::dyn_abi::{DynSolValue, EventExt};
use alloy::json_abi::{Event, Param};
use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{BlockNumberOrTag, Filter, Log};
use eyre::{Result, bail, eyre};
use serde::Deserialize;
use serde_json::{Map, Value};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::manager::AccessManager;
use zb_contracts::registry::RouteRegistry;

use crate::format::one_line;
use crate::network::{ChainInfo, DevnetManifest, Network, devnet_manifest_path};

/// `format` of the header line.
pub const FORMAT: &str = "zerobridge-audit/1";
/// `prev` of the first line.
pub const GENESIS_PREV: B256 = B256::ZERO;
/// Blocks per `eth_getLogs` request.
const CHUNK_BLOCKS: u64 = 2000;
/// Timeout of one RPC request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bridge events that are part of a transfer's life; every other event is a privileged action.
const TRANSFER_EVENTS: &[&str] = &[
    "MessageSent",
    "MessageExecuted",
    "MessageFailed",
    "TransferHeld",
    "HoldReleased",
    "RefundApproved",
    "RefundClaimed",
    "CheckpointDelivered",
];
/// `event` of a log no binding decodes (its raw topics and data are kept in `fields`).
pub const UNKNOWN_EVENT: &str = "unknown";

// ------------------------------------------------------------------------------------ options

/// `zerobridge audit ...`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Write the hash-chained audit log (JSON lines) of every privileged action and every
    /// transfer, from the chains' events. Read-only: needs RPC access only, never a key.
    Export(ExportArgs),
    /// Check an audit log: its hash chain, and every line against the chains (nothing altered,
    /// nothing missing in the covered blocks). Read-only: needs RPC access only, never a key.
    Verify(VerifyArgs),
}

/// `zerobridge audit export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Output file (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// First block to read on every chain (default: the devnet manifest's deployment block, or 0
    /// with a network file: pass the contracts' deployment block on real chains).
    #[arg(long, value_name = "BLOCK")]
    pub from_block: Option<u64>,
    /// Leave out each chain's newest N blocks (not final yet).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub confirmations: u64,
    /// Network file for real chains (default: the devnet manifest, devnet/manifest.json or
    /// $ZB_DEVNET_DIR/manifest.json).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
}

/// `zerobridge audit verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The audit log written by `zerobridge audit export`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The head hash (the last line's `hash`) recorded when the log was exported: the log must
    /// end there (catches lines cut off the end together with the header's range).
    #[arg(long, value_name = "HASH")]
    pub head: Option<String>,
    /// Network file for real chains (default: the devnet manifest, devnet/manifest.json or
    /// $ZB_DEVNET_DIR/manifest.json).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
}

/// Runs one `audit` command.
pub async fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Export(args) => export(&args).await,
        AuditCommand::Verify(args) => verify(&args).await,
    }
}

// ------------------------------------------------------------------------------------ hashing

/// Canonical JSON: object keys sorted (by their UTF-8 bytes), no whitespace, serde_json's
/// escaping and number formatting. Independent of serde_json's map ordering feature.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// keccak256 of the line's canonical JSON without its `hash` key.
pub fn line_hash(line: &Map<String, Value>) -> B256 {
    let mut content = line.clone();
    content.remove("hash");
    keccak256(canonical_json(&Value::Object(content)).as_bytes())
}

/// Numbers the lines (`seq` 0, 1, ...), links each to the previous one (`prev`) and sets every
/// `hash`. Export does this; so can anyone rewriting a log, which is why `verify` also compares
/// every line with the chain.
pub fn seal(lines: &mut [Map<String, Value>]) {
    let mut prev = GENESIS_PREV;
    for (seq, line) in lines.iter_mut().enumerate() {
        line.insert("seq".into(), Value::from(seq as u64));
        line.insert("prev".into(), Value::String(prev.to_string()));
        line.remove("hash");
        let hash = line_hash(line);
        line.insert("hash".into(), Value::String(hash.to_string()));
        prev = hash;
    }
}

/// The log file's text: one canonical JSON line per entry.
pub fn render_lines(lines: &[Map<String, Value>]) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&canonical_json(&Value::Object(line.clone())));
        out.push('\n');
    }
    out
}

/// Parses a log and checks its hash chain: every line's `hash` matches its content, `prev`
/// links to the line before (zero for the first), `seq` counts from 0. Returns the lines with
/// their 1-based line numbers in the file (blank lines are skipped).
pub fn check_chain(text: &str) -> Result<Vec<(usize, Map<String, Value>)>> {
    let mut lines = Vec::new();
    let mut prev = GENESIS_PREV;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(raw).map_err(|e| eyre!("line {number}: not valid JSON ({e}): the file is corrupt"))?;
        let Value::Object(line) = value else {
            bail!("line {number}: not a JSON object: the file is corrupt");
        };
        let stated = line
            .get("hash")
            .and_then(Value::as_str)
            .and_then(|h| h.parse::<B256>().ok())
            .ok_or_else(|| eyre!("line {number}: no \"hash\" (0x and 64 hex digits): the file is corrupt"))?;
        if line_hash(&line) != stated {
            bail!("line {number}: hash does not match its content (tampered)");
        }
        let linked = line.get("prev").and_then(Value::as_str).and_then(|h| h.parse::<B256>().ok());
        if linked != Some(prev) {
            bail!(
                "line {number}: broken chain: its prev is {}, the previous line's hash is {prev} (a line was removed, \
                 inserted or rewritten)",
                line.get("prev").map_or_else(|| "absent".to_string(), Value::to_string)
            );
        }
        let expected_seq = lines.len() as u64;
        let seq = line.get("seq").and_then(Value::as_u64);
        if seq != Some(expected_seq) {
            bail!(
                "line {number}: broken chain: seq is {}, expected {expected_seq}",
                line.get("seq").map_or_else(|| "absent".to_string(), Value::to_string)
            );
        }
        // Exactly the canonical form: no duplicate keys (the parser keeps the last one, a reader
        // may see the first), no padding.
        if canonical_json(&Value::Object(line.clone())) != raw.trim_end_matches('\r') {
            bail!(
                "line {number}: not in canonical form (sorted keys, no whitespace, no duplicate keys): it was edited"
            );
        }
        prev = stated;
        lines.push((number, line));
    }
    if lines.is_empty() {
        bail!("the audit log is empty: expected a header line and events, as `zerobridge audit export` writes");
    }
    Ok(lines)
}

// ------------------------------------------------------------------------------------ decoding

/// Which of a chain's contracts emitted a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    Bridge,
    Registry,
    Manager,
}

impl Contract {
    pub fn name(self) -> &'static str {
        match self {
            Contract::Bridge => "bridge",
            Contract::Registry => "registry",
            Contract::Manager => "manager",
        }
    }
}

/// "transfer" or "privileged" for an event of `contract`.
pub fn classify(contract: Contract, event: &str) -> &'static str {
    if contract == Contract::Bridge && TRANSFER_EVENTS.contains(&event) { "transfer" } else { "privileged" }
}

/// Decodes logs with the events of the contract bindings (ZeroBridge, RouteRegistry,
/// AccessManager), by topic 0.
pub struct Decoder {
    bridge: HashMap<B256, Event>,
    registry: HashMap<B256, Event>,
    manager: HashMap<B256, Event>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub fn new() -> Decoder {
        fn index(events: BTreeMap<String, Vec<Event>>) -> HashMap<B256, Event> {
            events.into_values().flatten().filter(|e| !e.anonymous).map(|e| (e.selector(), e)).collect()
        }
        Decoder {
            bridge: index(ZeroBridge::abi::events()),
            registry: index(RouteRegistry::abi::events()),
            manager: index(AccessManager::abi::events()),
        }
    }

    /// The event's name and its named fields (numbers as decimal strings, addresses checksummed,
    /// bytes as 0x hex, structs as objects), or None when no event of `contract` decodes it.
    pub fn decode(&self, contract: Contract, topics: &[B256], data: &[u8]) -> Option<(String, Map<String, Value>)> {
        let table = match contract {
            Contract::Bridge => &self.bridge,
            Contract::Registry => &self.registry,
            Contract::Manager => &self.manager,
        };
        let event = table.get(topics.first()?)?;
        let decoded = event.decode_log_parts(topics.iter().copied(), data).ok()?;
        let mut indexed = decoded.indexed.into_iter();
        let mut body = decoded.body.into_iter();
        let mut fields = Map::new();
        for (i, input) in event.inputs.iter().enumerate() {
            let value = if input.indexed { indexed.next()? } else { body.next()? };
            let name = if input.name.is_empty() { format!("arg{i}") } else { input.name.clone() };
            fields.insert(name, render_value(&value, &input.components));
        }
        Some((event.name.clone(), fields))
    }
}

/// A decoded ABI value as JSON; `components` names a tuple's members.
fn render_value(value: &DynSolValue, components: &[Param]) -> Value {
    match value {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => Value::String(i.to_string()),
        DynSolValue::Uint(u, _) => Value::String(u.to_string()),
        DynSolValue::FixedBytes(word, size) => {
            Value::String(alloy::hex::encode_prefixed(word.get(..*size).unwrap_or(word.as_slice())))
        }
        DynSolValue::Address(a) => Value::String(a.to_string()),
        DynSolValue::Function(f) => Value::String(alloy::hex::encode_prefixed(f.as_slice())),
        DynSolValue::Bytes(b) => Value::String(alloy::hex::encode_prefixed(b)),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            Value::Array(items.iter().map(|item| render_value(item, components)).collect())
        }
        DynSolValue::Tuple(items) => {
            let named = components.len() == items.len() && components.iter().all(|c| !c.name.is_empty());
            if named {
                Value::Object(
                    components
                        .iter()
                        .zip(items)
                        .map(|(c, item)| (c.name.clone(), render_value(item, &c.components)))
                        .collect(),
                )
            } else {
                Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| render_value(item, components.get(i).map_or(&[], |c| &c.components)))
                        .collect(),
                )
            }
        }
        DynSolValue::CustomStruct { prop_names, tuple, .. } => Value::Object(
            prop_names
                .iter()
                .zip(tuple)
                .map(|(name, item)| {
                    let inner = components.iter().find(|c| &c.name == name).map_or(&[][..], |c| &c.components);
                    (name.clone(), render_value(item, inner))
                })
                .collect(),
        ),
    }
}

// ------------------------------------------------------------------------------------ chains

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
    fn to_json(&self) -> Value {
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

    fn contract(&self, address: Address) -> Option<Contract> {
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

    fn blocks(&self) -> String {
        if self.to_block < self.from_block {
            format!("{} (no blocks)", self.chain)
        } else {
            format!("{} blocks {}..={}", self.chain, self.from_block, self.to_block)
        }
    }
}

/// The header line (seq 0) before sealing.
fn header(coverage: &[Coverage]) -> Map<String, Value> {
    let mut line = Map::new();
    line.insert("kind".into(), Value::from("header"));
    line.insert("format".into(), Value::from(FORMAT));
    line.insert("chains".into(), Value::Array(coverage.iter().map(Coverage::to_json).collect()));
    line
}

/// The network to read and, for the devnet, each chain's deployment block.
struct Target {
    network: Network,
    start_blocks: HashMap<u64, u64>,
    network_file: Option<PathBuf>,
}

impl Target {
    fn load(network_file: Option<&Path>) -> Result<Target> {
        match network_file {
            Some(_) => Ok(Target {
                network: Network::load(network_file)?,
                start_blocks: HashMap::new(),
                network_file: network_file.map(Path::to_path_buf),
            }),
            None => {
                let manifest = DevnetManifest::load(&devnet_manifest_path())?;
                let start_blocks = manifest.chains.iter().map(|c| (c.chain.chain_id, c.start_block)).collect();
                Ok(Target { network: manifest.network(), start_blocks, network_file: None })
            }
        }
    }

    fn reach_hint(&self, chain: &ChainInfo) -> String {
        match &self.network_file {
            Some(file) => format!("check `rpc` of chain '{}' in {}", chain.name, file.display()),
            None => "is the devnet running? start it with `zerobridge devnet up`".to_string(),
        }
    }

    /// A reader for `chain`, after checking that its RPC serves the configured chain id.
    async fn connect(&self, chain: &ChainInfo) -> Result<DynProvider> {
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
                self.reach_hint(chain)
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
async fn manager_of(provider: &DynProvider, chain: &ChainInfo) -> Result<Address> {
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

fn check_distinct(coverage: &Coverage) -> Result<()> {
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
async fn block_hash(provider: &DynProvider, chain: &str, number: u64) -> Result<B256> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Number(number))
        .await
        .map_err(|e| eyre!("chain '{chain}': cannot read block {number}: {}", one_line(&e)))?
        .ok_or_else(|| eyre!("chain '{chain}' has no block {number}: it is behind, or it is another chain"))?;
    Ok(block.header.hash)
}

/// Every log of the covered contracts in the covered blocks, as audit records (without `seq`,
/// `prev` and `hash`), ordered by (block, log index).
async fn read_records(
    provider: &DynProvider,
    coverage: &Coverage,
    decoder: &Decoder,
) -> Result<Vec<Map<String, Value>>> {
    let name = &coverage.chain;
    let mut logs: Vec<Log> = Vec::new();
    let mut start = coverage.from_block;
    while start <= coverage.to_block {
        let end = coverage.to_block.min(start.saturating_add(CHUNK_BLOCKS - 1));
        let filter = Filter::new()
            .address(vec![coverage.bridge, coverage.registry, coverage.manager])
            .from_block(start)
            .to_block(end);
        let batch = provider
            .get_logs(&filter)
            .await
            .map_err(|e| eyre!("chain '{name}': cannot read the logs of blocks {start}..={end}: {}", one_line(&e)))?;
        logs.extend(batch.into_iter().filter(|l| !l.removed));
        match end.checked_add(1) {
            Some(next) => start = next,
            None => break,
        }
    }
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

// ------------------------------------------------------------------------------------ export

/// `zerobridge audit export`.
pub async fn export(args: &ExportArgs) -> Result<()> {
    let target = Target::load(args.network.as_deref())?;
    let decoder = Decoder::new();
    let mut chains: Vec<&ChainInfo> = target.network.chains.iter().collect();
    chains.sort_by_key(|c| c.chain_id);
    if let Some(pair) = chains.windows(2).find(|w| w[0].chain_id == w[1].chain_id) {
        bail!(
            "chains '{}' and '{}' have the same chain id {}: correct the network file",
            pair[0].name,
            pair[1].name,
            pair[0].chain_id
        );
    }
    let mut coverage = Vec::new();
    let mut records = Vec::new();
    for chain in chains {
        let provider = target.connect(chain).await?;
        let manager = manager_of(&provider, chain).await?;
        let latest = provider
            .get_block_number()
            .await
            .map_err(|e| eyre!("chain '{}': cannot read the latest block: {}", chain.name, one_line(&e)))?;
        let from_block = args.from_block.or_else(|| target.start_blocks.get(&chain.chain_id).copied()).unwrap_or(0);
        let head = latest.saturating_sub(args.confirmations);
        let (to_block, to_block_hash) = if head >= from_block {
            (head, Some(block_hash(&provider, &chain.name, head).await?))
        } else {
            (from_block.saturating_sub(1), None)
        };
        let scope = Coverage {
            chain_id: chain.chain_id,
            chain: chain.name.clone(),
            bridge: chain.bridge,
            registry: chain.registry,
            manager,
            from_block,
            to_block,
            to_block_hash,
        };
        check_distinct(&scope)?;
        if to_block_hash.is_some() {
            records.extend(read_records(&provider, &scope, &decoder).await?);
        }
        coverage.push(scope);
    }

    let transfers = records.iter().filter(|r| r.get("kind").and_then(Value::as_str) == Some("transfer")).count();
    let privileged = records.len() - transfers;
    let mut lines = Vec::with_capacity(records.len() + 1);
    lines.push(header(&coverage));
    lines.extend(records);
    seal(&mut lines);
    let head = lines.last().and_then(|l| l.get("hash")).and_then(Value::as_str).unwrap_or_default().to_string();
    let text = render_lines(&lines);
    let ranges: Vec<String> = coverage.iter().map(Coverage::blocks).collect();
    let summary = format!(
        "{} events ({transfers} transfer, {privileged} privileged) from {}; head {head}",
        transfers + privileged,
        ranges.join(", ")
    );
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| eyre!("cannot write {}: {e}", path.display()))?;
            println!("{summary}; written to {}", path.display());
        }
        None => {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes()).map_err(|e| eyre!("cannot write the log to stdout: {e}"))?;
            stdout.flush().map_err(|e| eyre!("cannot write the log to stdout: {e}"))?;
            eprintln!("{summary}");
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------ verify

/// (chain id, block, log index) of an event line.
type Position = (u64, u64, u64);

fn position(number: usize, line: &Map<String, Value>) -> Result<Position> {
    let get = |key: &str| {
        line.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| eyre!("line {number}: no \"{key}\" number: not an event line of `zerobridge audit export`"))
    };
    Ok((get("chainId")?, get("block")?, get("logIndex")?))
}

/// The record an event line states: the line without `seq`, `prev` and `hash`.
fn content(line: &Map<String, Value>) -> Value {
    let mut record = line.clone();
    for key in ["seq", "prev", "hash"] {
        record.remove(key);
    }
    Value::Object(record)
}

/// The first place where `file` and `chain` differ: (path, file's value, chain's value).
fn first_difference(file: &Value, chain: &Value, path: &str) -> Option<(String, String, String)> {
    let join = |key: &str| {
        if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
    };
    match (file, chain) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|key| match (a.get(key), b.get(key)) {
                (Some(x), Some(y)) => first_difference(x, y, &join(key)),
                (Some(x), None) => Some((join(key), shown(x), "absent".into())),
                (None, Some(y)) => Some((join(key), "absent".into(), shown(y))),
                (None, None) => None,
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| first_difference(x, y, &join(&i.to_string()))).or_else(
                || {
                    (a.len() != b.len())
                        .then(|| (path.to_string(), format!("{} items", a.len()), format!("{} items", b.len())))
                },
            )
        }
        _ => (file != chain).then(|| (path.to_string(), shown(file), shown(chain))),
    }
}

/// A JSON value for a one-line message, cut to a readable length.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => canonical_json(other),
    };
    if text.chars().count() > 90 { format!("{}...", text.chars().take(87).collect::<String>()) } else { text }
}

/// `zerobridge audit verify`.
pub async fn verify(args: &VerifyArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| eyre!("cannot read the audit log {}: {e}", args.file.display()))?;
    // 1. The hash chain, without any chain access.
    let lines = check_chain(&text)?;
    let head = lines.last().and_then(|(_, l)| l.get("hash")).and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(expected) = &args.head {
        let expected: B256 = expected
            .trim()
            .parse()
            .map_err(|_| eyre!("--head '{expected}' is not a hash: write it as 0x followed by 64 hex digits"))?;
        if head.parse::<B256>().ok() != Some(expected) {
            bail!(
                "the log ends at hash {head}, not at the expected head {expected}: lines were cut or added at the end, \
                 or this is another export"
            );
        }
    }
    let ((header_number, header_line), events) = match lines.split_first() {
        Some((first, rest)) => (first, rest),
        None => bail!("the audit log is empty"),
    };
    if header_line.get("kind").and_then(Value::as_str) != Some("header")
        || header_line.get("format").and_then(Value::as_str) != Some(FORMAT)
    {
        bail!("line {header_number}: not a {FORMAT} header: this is not a log written by `zerobridge audit export`");
    }
    let coverage: Vec<Coverage> = serde_json::from_value(header_line.get("chains").cloned().unwrap_or(Value::Null))
        .map_err(|e| eyre!("line {header_number}: the header's \"chains\" is not valid ({e})"))?;
    if coverage.windows(2).any(|w| w[0].chain_id >= w[1].chain_id) {
        bail!("line {header_number}: the header's chains are not in ascending chain id order, or repeat one");
    }

    // Event lines: in (chain id, block, log index) order, each on a covered chain and block.
    let mut stated: Vec<(usize, Position, &Map<String, Value>)> = Vec::with_capacity(events.len());
    for (number, line) in events {
        let at = position(*number, line)?;
        if let Some((_, before, _)) = stated.last()
            && *before >= at
        {
            bail!("line {number}: out of order: lines must be sorted by chain id, block and log index");
        }
        stated.push((*number, at, line));
    }

    // 2. Every covered range, read again from the chain.
    let target = Target::load(args.network.as_deref())?;
    let decoder = Decoder::new();
    let mut truth: Vec<(Position, Map<String, Value>)> = Vec::new();
    let mut ranges: BTreeMap<u64, (String, u64, u64)> = BTreeMap::new();
    for scope in &coverage {
        let chain = target.network.chains.iter().find(|c| c.chain_id == scope.chain_id).ok_or_else(|| {
            eyre!(
                "the log covers chain '{}' (chain id {}), which the network does not configure: verify with the \
                 network file the log was exported from",
                scope.chain,
                scope.chain_id
            )
        })?;
        check_distinct(scope)?;
        let provider = target.connect(chain).await?;
        let manager = manager_of(&provider, chain).await?;
        for (what, in_log, configured) in [
            ("bridge", scope.bridge, chain.bridge),
            ("registry", scope.registry, chain.registry),
            ("manager", scope.manager, manager),
        ] {
            if in_log != configured {
                bail!(
                    "line {header_number}: the log covers {what} {in_log} on {}, but the network's {what} there is \
                     {configured}: the header was altered, or verify with the network file the log was exported from",
                    scope.chain
                );
            }
        }
        ranges.insert(scope.chain_id, (scope.chain.clone(), scope.from_block, scope.to_block));
        let Some(expected_hash) = scope.to_block_hash else {
            if scope.to_block >= scope.from_block {
                bail!("line {header_number}: {} has blocks but no toBlockHash: the header was altered", scope.blocks());
            }
            continue;
        };
        let actual = block_hash(&provider, &scope.chain, scope.to_block).await?;
        if actual != expected_hash {
            bail!(
                "line {header_number}: block {} of {} is {expected_hash} in the log but {actual} on chain: the chain \
                 reorganised past the export, or this is another chain",
                scope.to_block,
                scope.chain
            );
        }
        for record in read_records(&provider, scope, &decoder).await? {
            let at = (
                scope.chain_id,
                record.get("block").and_then(Value::as_u64).unwrap_or_default(),
                record.get("logIndex").and_then(Value::as_u64).unwrap_or_default(),
            );
            truth.push((at, record));
        }
    }
    truth.sort_by_key(|(at, _)| *at);

    // Merge the two ordered lists: equal positions must be equal records; anything on one side
    // only is fabricated (file) or missing (chain).
    let describe = |at: &Position| {
        let name = ranges.get(&at.0).map_or_else(|| format!("chain id {}", at.0), |r| r.0.clone());
        format!("{name} block {} log index {}", at.1, at.2)
    };
    let mut file_iter = stated.iter().peekable();
    let mut chain_iter = truth.iter().peekable();
    loop {
        let file = file_iter.peek().copied();
        let chain = chain_iter.peek().copied();
        let missing = match (file, chain) {
            (None, None) => break,
            (Some((number, at, line)), Some((chain_at, record))) if at == chain_at => {
                if let Some((path, in_file, on_chain)) =
                    first_difference(&content(line), &Value::Object(record.clone()), "")
                {
                    bail!(
                        "line {number}: {path} is {in_file} in the log but {on_chain} on chain ({}): the line was \
                         altered",
                        describe(at)
                    );
                }
                file_iter.next();
                chain_iter.next();
                continue;
            }
            (Some((_, at, _)), Some((chain_at, _))) => chain_at < at,
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        if missing && let Some((chain_at, record)) = chain {
            let event = record.get("event").and_then(Value::as_str).unwrap_or(UNKNOWN_EVENT);
            let tx = record.get("tx").and_then(Value::as_str).unwrap_or_default();
            let place = match file {
                Some((number, ..)) => format!("before line {number}"),
                None => "after the last line".to_string(),
            };
            bail!(
                "missing event {place}: {} ({event}, tx {tx}) is on chain in the covered blocks but not in the log: \
                 lines were deleted",
                describe(chain_at)
            );
        }
        // A line before the next chain record (or after the last one): the chain has no such log.
        if let Some((number, at, _)) = file {
            let covered = match ranges.get(&at.0) {
                Some((name, from, to)) if (*from..=*to).contains(&at.1) => {
                    format!(
                        "the chain has no bridge, registry or manager event there ({name} blocks {from}..={to} covered)"
                    )
                }
                Some((name, from, to)) => {
                    format!("outside the covered blocks {from}..={to} of {name}")
                }
                None => "on a chain the header does not cover".to_string(),
            };
            bail!("line {number}: no such event: {}: {covered}: the line was fabricated", describe(at));
        }
        break;
    }

    let transfers = stated.iter().filter(|(_, _, l)| l.get("kind").and_then(Value::as_str) == Some("transfer")).count();
    let names: Vec<&str> = coverage.iter().map(|c| c.chain.as_str()).collect();
    println!(
        "{} lines verified ({} events: {transfers} transfer, {} privileged), chain intact, matches {}; head {head}",
        lines.len(),
        stated.len(),
        stated.len() - transfers,
        names.join("/")
    );
    Ok(())
}

// ------------------------------------------------------------------------------------ tests

#[cfg(test)]
mod tests {
    use alloy::primitives::{U256, address, b256};
    use alloy::sol_types::SolEvent;
    use serde_json::json;

    use super::*;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn sample() -> Vec<Map<String, Value>> {
        let mut lines = vec![
            obj(json!({"kind": "header", "format": FORMAT, "chains": []})),
            obj(
                json!({"chainId": 1, "block": 7, "logIndex": 0, "event": "Paused", "fields": {}, "kind": "privileged"}),
            ),
            obj(json!({"chainId": 1, "block": 9, "logIndex": 2, "event": "MessageSent",
                "fields": {"message": {"amount": "5", "recipient": "0xAb"}}, "kind": "transfer"})),
        ];
        seal(&mut lines);
        lines
    }

    #[test]
    fn canonical_json_sorts_keys_without_whitespace() {
        let value = json!({"b": [3, {"z": true, "a": null}], "a": "x\"y", "é": 1, "A": {"k": "v"}});
        assert_eq!(canonical_json(&value), r#"{"A":{"k":"v"},"a":"x\"y","b":[3,{"a":null,"z":true}],"é":1}"#);
        // Key order of the input does not matter.
        let reordered: Value = serde_json::from_str(r#"{"é":1,"b":[3,{"a":null,"z":true}],"A":{"k":"v"},"a":"x\"y"}"#)
            .unwrap_or(Value::Null);
        assert_eq!(canonical_json(&reordered), canonical_json(&value));
    }

    #[test]
    fn line_hash_covers_everything_but_hash() {
        let line = obj(json!({"seq": 1, "prev": GENESIS_PREV.to_string(), "event": "Paused"}));
        let expected = keccak256(format!(r#"{{"event":"Paused","prev":"{GENESIS_PREV}","seq":1}}"#));
        assert_eq!(line_hash(&line), expected);
        let mut with_hash = line.clone();
        with_hash.insert("hash".into(), Value::from("0x1234"));
        assert_eq!(line_hash(&with_hash), expected, "the hash key itself is not hashed");
    }

    #[test]
    fn seal_links_every_line_to_the_previous() {
        let lines = sample();
        assert_eq!(lines[0]["prev"], Value::from(GENESIS_PREV.to_string()));
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["seq"], Value::from(i as u64));
            assert_eq!(line["hash"], Value::from(line_hash(line).to_string()));
            if i > 0 {
                assert_eq!(line["prev"], lines[i - 1]["hash"]);
            }
        }
        let checked = check_chain(&render_lines(&lines)).map_err(|e| e.to_string());
        assert_eq!(checked.map(|l| l.len()), Ok(3));
    }

    #[test]
    fn check_chain_names_the_tampered_line() {
        let lines = sample();
        let text = render_lines(&lines);
        // An edited field without a new hash: the edited line (file line 3).
        let edited = text.replace(r#""amount":"5""#, r#""amount":"500""#);
        assert_ne!(edited, text);
        let err = check_chain(&edited).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err, "line 3: hash does not match its content (tampered)");

        // The edited line re-hashed alone: the next line's link breaks.
        let mut rehashed = lines.clone();
        if let Some(Value::Object(fields)) = rehashed[1].get_mut("fields") {
            fields.insert("extra".into(), Value::from("x"));
        }
        let hash = line_hash(&rehashed[1]);
        rehashed[1].insert("hash".into(), Value::from(hash.to_string()));
        let err = check_chain(&render_lines(&rehashed)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 3: broken chain"), "{err}");

        // A line removed: the next line's link breaks.
        let removed = [lines[0].clone(), lines[2].clone()];
        let err = check_chain(&render_lines(&removed)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 2: broken chain"), "{err}");

        // Removed and re-sealed: the chain holds (only the chain comparison can catch it).
        let mut resealed = vec![lines[0].clone(), lines[2].clone()];
        seal(&mut resealed);
        assert!(check_chain(&render_lines(&resealed)).is_ok());

        // A duplicate key whose last value is the original: hashes agree, the canonical form does not.
        let duplicated = text.replacen(r#""event":"MessageSent""#, r#""event":"Forged","event":"MessageSent""#, 1);
        assert_ne!(duplicated, text);
        let err = check_chain(&duplicated).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 3: not in canonical form"), "{err}");

        // Not JSON, and an empty file.
        let err = check_chain("{\"a\":1}\nnot json\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("line 1:"), "{err}");
        assert!(check_chain("\n").is_err());
    }

    #[test]
    fn decodes_bridge_and_manager_events_by_name() {
        let decoder = Decoder::new();
        let lane = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
        let recipient = address!("0x00000000000000000000000000000000000000aa");
        let executed = ZeroBridge::MessageExecuted { lane, sequence: 3, recipient, amount: U256::from(1234u64) };
        let data = executed.encode_log_data();
        let decoded = decoder.decode(Contract::Bridge, data.topics(), &data.data);
        let (event, fields) = decoded.unwrap_or_default();
        assert_eq!(event, "MessageExecuted");
        assert_eq!(classify(Contract::Bridge, &event), "transfer");
        assert_eq!(
            Value::Object(fields),
            json!({"lane": lane.to_string(), "sequence": "3", "recipient": recipient.to_string(), "amount": "1234"})
        );

        let sent = ZeroBridge::MessageSent {
            lane,
            sequence: 1,
            message: zb_protocol::Message {
                sequence: 1,
                kind: 0,
                sender: recipient,
                recipient,
                amount: U256::from(99u64),
                data: B256::ZERO,
                sentAt: 1_700_000_000,
                deadline: u64::MAX,
            },
            accumulator: lane,
        };
        let data = sent.encode_log_data();
        let (event, fields) = decoder.decode(Contract::Bridge, data.topics(), &data.data).unwrap_or_default();
        assert_eq!(event, "MessageSent");
        assert_eq!(fields.get("message").and_then(|m| m.get("amount")), Some(&Value::from("99")));

        let granted = AccessManager::RoleGranted {
            roleId: 1,
            account: recipient,
            delay: 0,
            since: alloy::primitives::aliases::U48::from(5u64),
            newMember: true,
        };
        let data = granted.encode_log_data();
        let (event, fields) = decoder.decode(Contract::Manager, data.topics(), &data.data).unwrap_or_default();
        assert_eq!(event, "RoleGranted");
        assert_eq!(classify(Contract::Manager, &event), "privileged");
        assert_eq!(fields.get("newMember"), Some(&Value::Bool(true)));
        assert_eq!(fields.get("roleId"), Some(&Value::from("1")));

        // A bridge event is not decoded as a manager event, nor is garbage.
        let paused = ZeroBridge::Paused {}.encode_log_data();
        assert!(decoder.decode(Contract::Manager, paused.topics(), &paused.data).is_none());
        assert_eq!(decoder.decode(Contract::Bridge, paused.topics(), &paused.data).map(|d| d.0), Some("Paused".into()));
        assert!(decoder.decode(Contract::Bridge, &[B256::ZERO], &[]).is_none());
    }

    #[test]
    fn differences_name_the_field() {
        let file = json!({"a": 1, "fields": {"message": {"amount": "5"}}, "list": [1, 2]});
        let chain = json!({"a": 1, "fields": {"message": {"amount": "6"}}, "list": [1, 2]});
        assert_eq!(first_difference(&file, &chain, ""), Some(("fields.message.amount".into(), "5".into(), "6".into())));
        let chain = json!({"a": 1, "fields": {"message": {"amount": "5"}}, "list": [1, 2], "from": "0xA"});
        assert_eq!(first_difference(&file, &chain, ""), Some(("from".into(), "absent".into(), "0xA".into())));
        assert_eq!(first_difference(&file, &file, ""), None);
    }
}
