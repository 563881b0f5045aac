use std::borrow::Cow;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, B256, Bytes, U64};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use alloy::transports::http::reqwest::Url;
use futures::future::join_all;
use serde::Deserialize;
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::Message;

use crate::config::{ChainConfig, Finality};
use crate::error::ChainError;
use crate::scan::LogScan;

/// The most lanes [`Follower::sent_messages_of`] names in a log filter; beyond, it asks for all.
pub const MAX_TOPIC_FILTER: usize = 64;

/// Deadline of every single RPC call: an endpoint that answers later counts as failed, so one
/// black-holing endpoint among several delays a step by this much at most.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(5);

/// One `MessageSent` event of the configured bridge, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub lane: B256,
    pub message: Message,
    /// The accumulator as emitted. Never sign it unchecked: recompute it (docs/protocol.md §2).
    pub accumulator: B256,
    pub block_number: u64,
    pub block_hash: B256,
    pub tx_hash: B256,
    pub log_index: u64,
}

/// A block by number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockRef {
    pub number: u64,
    pub hash: B256,
}

#[derive(Clone)]
pub(crate) struct Endpoint {
    /// The chain's name, for metrics.
    pub(crate) chain: Arc<str>,
    /// Scheme, host and port only: paths and queries often carry API keys.
    pub(crate) label: String,
    pub(crate) provider: DynProvider,
    /// Whether the endpoint was seen serving the configured chain id: asked again before every
    /// call until it answers, so an endpoint down at start-up joins once it is back, and never
    /// if it serves another chain.
    chain_id: Arc<std::sync::OnceLock<u64>>,
}

impl Endpoint {
    /// [`timed`], and the call's latency and outcome recorded per endpoint
    /// (`zb_rpc_request_seconds`, `zb_rpc_failures_total`): a slow or failing endpoint shows on a
    /// dashboard long before the quorum is lost.
    pub(crate) async fn timed<T, E: std::fmt::Display>(
        &self,
        what: &'static str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, ChainError> {
        let started = std::time::Instant::now();
        let result = timed(what, &self.label, fut).await;
        let labels =
            [("chain", self.chain.to_string()), ("endpoint", self.label.clone()), ("method", what.to_string())];
        metrics::histogram!("zb_rpc_request_seconds", &labels).record(started.elapsed().as_secs_f64());
        if result.is_err() {
            metrics::counter!("zb_rpc_failures_total", &labels).increment(1);
        }
        result
    }

    /// Ok once the endpoint has reported `expected` as its chain id.
    async fn check_chain_id(&self, expected: u64) -> Result<(), ChainError> {
        let found = match self.chain_id.get() {
            Some(id) => *id,
            None => {
                let id = self.timed("eth_chainId", self.provider.get_chain_id()).await?;
                *self.chain_id.get_or_init(|| id)
            }
        };
        if found != expected {
            return Err(ChainError::WrongChainId {
                chain: self.chain.to_string(),
                endpoint: self.label.clone(),
                expected,
                found,
            });
        }
        Ok(())
    }
}

/// Follows one chain through its configured endpoints. Cheap to clone.
#[derive(Clone)]
pub struct Follower {
    config: Arc<ChainConfig>,
    endpoints: Arc<[Endpoint]>,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("chain", &self.config.name)
            .field("endpoints", &self.endpoints.iter().map(|e| e.label.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// The JSON-RPC block fields the follower needs; decoding nothing else keeps it chain-agnostic.
#[derive(Debug, Deserialize)]
struct RpcHead {
    number: U64,
    hash: Option<B256>,
}

/// Each endpoint's newest final block number, and the agreed block at the quorum's number.
struct FinalView {
    agreed: BlockRef,
    /// (endpoint index, that endpoint's own newest final block number)
    per_endpoint: Vec<(usize, u64)>,
}

/// What is compared across endpoints for a log.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogKey {
    address: Address,
    topics: Vec<B256>,
    data: Bytes,
    block_number: u64,
    block_hash: B256,
    tx_hash: B256,
    log_index: u64,
}

fn hex_str(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hides credentials: keeps scheme, host and port.
pub(crate) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("?");
            match u.port() {
                Some(p) => format!("{}://{}:{}", u.scheme(), host, p),
                None => format!("{}://{}", u.scheme(), host),
            }
        }
        Err(_) => "<unparseable url>".to_string(),
    }
}

pub(crate) async fn timed<T, E: std::fmt::Display>(
    what: &str,
    label: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, ChainError> {
    match tokio::time::timeout(RPC_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ChainError::Rpc(format!("{what} on {label}: {e}"))),
        Err(_) => Err(ChainError::Rpc(format!(
            "{what} on {label}: no answer within {}s; check that the endpoint is up and not rate limiting",
            RPC_TIMEOUT.as_secs()
        ))),
    }
}

fn http_provider(url: &str) -> Result<DynProvider, ChainError> {
    let parsed = Url::parse(url)
        .map_err(|e| ChainError::Config(format!("rpc endpoint {} is not a valid URL: {e}", redact(url))))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(ChainError::Config(format!(
            "rpc endpoint {} must be http:// or https:// (put websocket URLs in `ws`)",
            redact(url)
        )));
    }
    Ok(ProviderBuilder::new().connect_http(parsed).erased())
}

/// Polls `eth_chainId` on `url` (HTTP) until it answers or `timeout` passes; returns the chain id.
pub async fn wait_for_rpc(url: &str, timeout: Duration) -> Result<u64, ChainError> {
    let provider = http_provider(url)?;
    let label = redact(url);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(2), provider.get_chain_id()).await;
        let last = match attempt {
            Ok(Ok(id)) => return Ok(id),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer".to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(ChainError::Rpc(format!(
                "{label} did not answer eth_chainId within {}ms (last error: {last}); is the node running?",
                timeout.as_millis()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Decodes one `MessageSent` log; checks the emitter, the signature and that the indexed
/// sequence matches the message's.
pub fn decode_sent_message(log: &Log, bridge: Address) -> Result<SentMessage, ChainError> {
    if log.inner.address != bridge {
        return Err(ChainError::Decode(format!("log from {} is not from the bridge {bridge}", log.inner.address)));
    }
    let event = ZeroBridge::MessageSent::decode_raw_log_validate(log.inner.data.topics(), &log.inner.data.data)
        .map_err(|e| ChainError::Decode(format!("MessageSent log is malformed: {e}")))?;
    if event.message.sequence != event.sequence {
        return Err(ChainError::Decode(format!(
            "MessageSent indexed sequence {} differs from the message's sequence {}",
            event.sequence, event.message.sequence
        )));
    }
    let (block_number, block_hash, tx_hash, log_index) = log_position(log)?;
    Ok(SentMessage {
        lane: event.lane,
        message: event.message,
        accumulator: event.accumulator,
        block_number,
        block_hash,
        tx_hash,
        log_index,
    })
}

fn log_position(log: &Log) -> Result<(u64, B256, B256, u64), ChainError> {
    let missing = |field: &str| ChainError::Decode(format!("log lacks `{field}` (pending log?)"));
    Ok((
        log.block_number.ok_or_else(|| missing("blockNumber"))?,
        log.block_hash.ok_or_else(|| missing("blockHash"))?,
        log.transaction_hash.ok_or_else(|| missing("transactionHash"))?,
        log.log_index.ok_or_else(|| missing("logIndex"))?,
    ))
}

fn log_key(log: &Log) -> Result<LogKey, ChainError> {
    let (block_number, block_hash, tx_hash, log_index) = log_position(log)?;
    Ok(LogKey {
        address: log.inner.address,
        topics: log.inner.data.topics().to_vec(),
        data: log.inner.data.data.clone(),
        block_number,
        block_hash,
        tx_hash,
        log_index,
    })
}

/// At least `quorum` answers, or an error listing the failures.
fn need_quorum<T>(
    what: &str,
    quorum: usize,
    answers: Vec<(usize, Result<T, ChainError>)>,
    endpoints: &[Endpoint],
) -> Result<Vec<(usize, T)>, ChainError> {
    let mut ok = Vec::new();
    let mut failures = Vec::new();
    for (i, answer) in answers {
        match answer {
            Ok(v) => ok.push((i, v)),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if ok.len() < quorum {
        let asked = endpoints.len();
        return Err(ChainError::Rpc(format!(
            "{what}: {} of {asked} endpoint(s) answered, rpc_quorum needs {quorum}: {}",
            ok.len(),
            failures.join("; ")
        )));
    }
    for failure in failures {
        tracing::warn!(%failure, "{what}: endpoint failed; continuing with the quorum of the others");
    }
    Ok(ok)
}

impl Follower {
    /// Connects to the endpoints and checks that each serves `chain_id`. One serving another
    /// chain is a configuration error; unreachable ones are tolerated while `rpc_quorum` others
    /// answer (they are checked again when they come back).
    pub async fn connect(config: ChainConfig) -> Result<Follower, ChainError> {
        config.validate()?;
        let mut endpoints = Vec::with_capacity(config.rpc.len());
        for url in &config.rpc {
            endpoints.push(Endpoint {
                chain: Arc::from(config.name.as_str()),
                label: redact(url),
                provider: http_provider(url)?,
                chain_id: Arc::default(),
            });
        }
        let checks = join_all(endpoints.iter().map(|e| e.check_chain_id(config.chain_id))).await;
        let mut unreachable = Vec::new();
        for (endpoint, check) in endpoints.iter().zip(checks) {
            match check {
                Ok(()) => {}
                Err(e @ ChainError::WrongChainId { .. }) => return Err(e),
                Err(e) => {
                    tracing::warn!(chain = %config.name, endpoint = %endpoint.label, error = %e, "endpoint unreachable at start-up");
                    unreachable.push(e.to_string());
                }
            }
        }
        if endpoints.len() - unreachable.len() < config.rpc_quorum {
            return Err(ChainError::Rpc(format!(
                "chain `{}`: cannot reach endpoint(s), rpc_quorum needs {} of {}: {}; is the node up and the URL right?",
                config.name,
                config.rpc_quorum,
                endpoints.len(),
                unreachable.join("; ")
            )));
        }
        Ok(Follower { config: Arc::new(config), endpoints: endpoints.into() })
    }

    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// A provider for the first endpoint, for contract calls.
    pub fn provider(&self) -> DynProvider {
        self.endpoints[0].provider.clone()
    }

    pub(crate) fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    async fn ask<T, F, Fut>(&self, indices: &[usize], f: F) -> Vec<(usize, Result<T, ChainError>)>
    where
        F: Fn(usize, Endpoint) -> Fut,
        Fut: Future<Output = Result<T, ChainError>>,
    {
        let expected = self.config.chain_id;
        let futures = indices.iter().map(|&i| {
            let endpoint = self.endpoints[i].clone();
            let fut = f(i, endpoint.clone());
            async move {
                match endpoint.check_chain_id(expected).await {
                    Ok(()) => (i, fut.await),
                    Err(e) => (i, Err(e)),
                }
            }
        });
        join_all(futures).await
    }

    fn all(&self) -> Vec<usize> {
        (0..self.endpoints.len()).collect()
    }

    async fn head_at(endpoint: &Endpoint, block: BlockNumberOrTag) -> Result<Option<BlockRef>, ChainError> {
        let head: Option<RpcHead> = endpoint
            .timed(
                "eth_getBlockByNumber",
                endpoint.provider.raw_request(Cow::Borrowed("eth_getBlockByNumber"), (block, false)),
            )
            .await?;
        let Some(head) = head else { return Ok(None) };
        let number = head.number.to::<u64>();
        if let BlockNumberOrTag::Number(n) = block
            && n != number
        {
            return Err(ChainError::Rpc(format!(
                "{} answered block {number} when asked for block {n}",
                endpoint.label
            )));
        }
        let hash = head
            .hash
            .ok_or_else(|| ChainError::Rpc(format!("{} returned block {number} without a hash", endpoint.label)))?;
        Ok(Some(BlockRef { number, hash }))
    }

    /// One endpoint's own newest final block: number, and the hash when it came for free.
    async fn endpoint_final(endpoint: &Endpoint, finality: Finality) -> Result<(u64, Option<B256>), ChainError> {
        match finality {
            Finality::Depth(depth) => {
                let latest = endpoint.timed("eth_blockNumber", endpoint.provider.get_block_number()).await?;
                Ok((latest.saturating_sub(depth), None))
            }
            Finality::Finalized => match Self::head_at(endpoint, BlockNumberOrTag::Finalized).await? {
                Some(b) => Ok((b.number, Some(b.hash))),
                None => Err(ChainError::Rpc(format!(
                    "{} has no `finalized` block; the chain may not support the tag: use `finality = {{ depth = N }}`",
                    endpoint.label
                ))),
            },
        }
    }

    async fn final_view(&self) -> Result<FinalView, ChainError> {
        let quorum = self.config.rpc_quorum;
        let finality = self.config.finality;
        let answers = self.ask(&self.all(), |_, e| async move { Self::endpoint_final(&e, finality).await }).await;
        let finals = need_quorum("final block", quorum, answers, &self.endpoints)?;
        // The quorum-th highest final number: at least `quorum` endpoints consider it final, and a
        // lagging minority cannot hold the chain back.
        let mut numbers: Vec<u64> = finals.iter().map(|(_, (n, _))| *n).collect();
        numbers.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = numbers[quorum - 1];
        let eligible: Vec<usize> = finals.iter().filter(|(_, (n, _))| *n >= candidate).map(|(i, _)| *i).collect();
        let known: Vec<(usize, Option<B256>)> =
            finals.iter().map(|(i, (n, h))| (*i, if *n == candidate { *h } else { None })).collect();
        let answers = self
            .ask(&eligible, |i, e| {
                let cached = known.iter().find(|(k, _)| *k == i).and_then(|(_, h)| *h);
                async move {
                    match cached {
                        Some(hash) => Ok(hash),
                        None => match Self::head_at(&e, BlockNumberOrTag::Number(candidate)).await? {
                            Some(b) => Ok(b.hash),
                            None => Err(ChainError::Rpc(format!(
                                "{} does not have block {candidate}, which it reported final",
                                e.label
                            ))),
                        },
                    }
                }
            })
            .await;
        let hashes = need_quorum(&format!("hash of final block {candidate}"), quorum, answers, &self.endpoints)?;
        let hash = self.agree(&format!("hash of final block {candidate}"), &hashes, |h| format!("{h}"))?;
        Ok(FinalView {
            agreed: BlockRef { number: candidate, hash },
            per_endpoint: finals.iter().map(|(i, (n, _))| (*i, *n)).collect(),
        })
    }

    /// The one answer given identically by at least `rpc_quorum` endpoints ("q of n"). An
    /// endpoint that answered otherwise is outvoted: logged and counted per endpoint
    /// (`zb_rpc_disagreements_total`). When no answer reaches the quorum, or two different answers
    /// both do (possible only with `rpc_quorum <= n / 2`), nothing is trusted.
    fn agree<T: PartialEq + Clone>(
        &self,
        what: &str,
        answers: &[(usize, T)],
        describe: impl Fn(&T) -> String,
    ) -> Result<T, ChainError> {
        self.agree_by(what, answers, |a, b| a == b, |a, _| describe(a))
    }

    /// [`Follower::agree`] with an explicit comparison; `describe(answer, majority)` says how an
    /// answer reads (for a dissenter, how it differs from the majority's).
    fn agree_by<T: Clone>(
        &self,
        what: &str,
        answers: &[(usize, T)],
        same: impl Fn(&T, &T) -> bool,
        describe: impl Fn(&T, &T) -> String,
    ) -> Result<T, ChainError> {
        // Groups of endpoints that gave the same answer, largest first.
        let mut groups: Vec<(&T, Vec<usize>)> = Vec::new();
        for (idx, answer) in answers {
            match groups.iter_mut().find(|(value, _)| same(value, answer)) {
                Some((_, members)) => members.push(*idx),
                None => groups.push((answer, vec![*idx])),
            }
        }
        groups.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
        let quorum = self.config.rpc_quorum;
        let labels = |members: &[usize]| {
            members.iter().map(|i| self.endpoints[*i].label.as_str()).collect::<Vec<_>>().join(", ")
        };
        let Some((majority, _)) = groups.first() else {
            return Err(ChainError::Rpc(format!("{what}: no endpoint answered")));
        };
        let reaching = groups.iter().filter(|(_, members)| members.len() >= quorum).count();
        if reaching != 1 {
            let said: Vec<String> = groups
                .iter()
                .map(|(value, members)| format!("{} say {}", labels(members), describe(value, majority)))
                .collect();
            return Err(ChainError::RpcDisagreement {
                what: format!(
                    "chain `{}`, {what}: no single answer from {quorum} endpoint(s) (rpc_quorum): {}",
                    self.config.name,
                    said.join("; ")
                ),
            });
        }
        for (value, members) in &groups[1..] {
            for i in members {
                let endpoint = &self.endpoints[*i];
                tracing::warn!(
                    chain = %self.config.name,
                    endpoint = %endpoint.label,
                    answer = %describe(value, majority),
                    "{what}: endpoint outvoted by the rpc quorum"
                );
                metrics::counter!("zb_rpc_disagreements_total", "chain" => self.config.name.clone(),
                    "endpoint" => endpoint.label.clone())
                .increment(1);
            }
        }
        Ok((*majority).clone())
    }

    /// The newest block that is final under the configured rule (latest - depth, or the
    /// `finalized` tag), agreed by `rpc_quorum` endpoints: same number and same hash.
    pub async fn finalized(&self) -> Result<BlockRef, ChainError> {
        Ok(self.final_view().await?.agreed)
    }

    /// The block at `number` as the endpoints see it, with the quorum rule. Used to re-check
    /// consumed blocks ([`crate::ReorgGuard`]).
    pub async fn block_ref(&self, number: u64) -> Result<BlockRef, ChainError> {
        let answers = self
            .ask(&self.all(), |_, e| async move {
                Self::head_at(&e, BlockNumberOrTag::Number(number))
                    .await?
                    .ok_or_else(|| ChainError::Rpc(format!("{} does not have block {number}", e.label)))
            })
            .await;
        let what = format!("block {number}");
        let blocks = need_quorum(&what, self.config.rpc_quorum, answers, &self.endpoints)?;
        self.agree(&what, &blocks, |b| format!("hash {}", b.hash))
    }

    /// The timestamp of block `at` (asked by hash), with the quorum rule. Chain time, not the
    /// local clock: what contracts compare `block.timestamp` with (and what anvil warps).
    pub async fn block_timestamp(&self, at: BlockRef) -> Result<u64, ChainError> {
        #[derive(Debug, Deserialize)]
        struct Timestamp {
            timestamp: U64,
        }
        let answers = self
            .ask(&self.all(), |_, e| async move {
                let block: Option<Timestamp> = e
                    .timed(
                        "eth_getBlockByHash",
                        e.provider.raw_request(Cow::Borrowed("eth_getBlockByHash"), (at.hash, false)),
                    )
                    .await?;
                block
                    .map(|b| b.timestamp.to::<u64>())
                    .ok_or_else(|| ChainError::Rpc(format!("{} does not have block {}", e.label, at.hash)))
            })
            .await;
        let what = format!("timestamp of block {}", at.number);
        let stamps = need_quorum(&what, self.config.rpc_quorum, answers, &self.endpoints)?;
        self.agree(&what, &stamps, |t| t.to_string())
    }

    /// `eth_call` of `input` on contract `to`, against the state of block `at` (named by its
    /// hash, EIP-1898, so every endpoint answers about the same block), with the quorum rule: at
    /// least `rpc_quorum` endpoints must answer and every answer must be identical. A revert is
    /// an endpoint failure. Pass a final block ([`Follower::finalized`]) to read final state.
    pub async fn call(&self, to: Address, input: Bytes, at: BlockRef) -> Result<Bytes, ChainError> {
        let answers = self
            .ask(&self.all(), |_, e| {
                let request = TransactionRequest::default().to(to).input(input.clone().into());
                async move {
                    e.timed("eth_call", e.provider.call(request).block(BlockId::hash(at.hash)).into_future()).await
                }
            })
            .await;
        let selector = input.get(..4).map_or_else(|| "0x".to_string(), |s| format!("0x{}", hex_str(s)));
        let what = format!("eth_call {selector} to {to} at block {}", at.number);
        let answers = need_quorum(&what, self.config.rpc_quorum, answers, &self.endpoints)?;
        self.agree(&what, &answers, |b| format!("{} bytes {b}", b.len()))
    }

    /// [`Follower::call`] of a typed contract call, decoded.
    pub async fn call_sol<C: SolCall>(&self, to: Address, call: &C, at: BlockRef) -> Result<C::Return, ChainError> {
        let output = self.call(to, call.abi_encode().into(), at).await?;
        C::abi_decode_returns(&output)
            .map_err(|e| ChainError::Decode(format!("{} returned by {to} at block {}: {e}", C::SIGNATURE, at.number)))
    }

    /// `MessageSent` logs emitted by the configured bridge only, in blocks `[from, to]`, ordered
    /// by (block, log index), decoded. `to` must be final ([`ChainError::NotFinalYet`]). With
    /// `rpc_quorum > 1` the endpoints' answers must be identical.
    pub async fn sent_messages(&self, from: u64, to: u64) -> Result<Vec<SentMessage>, ChainError> {
        self.sent_messages_of(&[], from, to).await
    }

    /// [`Follower::sent_messages`] of the given lanes only (the lane is the event's topic1), so
    /// that the endpoints return nothing of other lanes. Empty `lanes`, or more than
    /// [`MAX_TOPIC_FILTER`] of them (providers cap filter sizes): every lane.
    pub async fn sent_messages_of(&self, lanes: &[B256], from: u64, to: u64) -> Result<Vec<SentMessage>, ChainError> {
        let topic1 = if lanes.len() > MAX_TOPIC_FILTER { &[][..] } else { lanes };
        let logs =
            self.logs_matching(self.config.bridge, ZeroBridge::MessageSent::SIGNATURE_HASH, topic1, from, to).await?;
        logs.iter().map(|log| decode_sent_message(log, self.config.bridge)).collect()
    }

    /// Raw logs of the bridge with `topic0 == event` in `[from, to]` (final blocks only), ordered
    /// by (block, log index), with the same quorum rule. Logs of any other address or event are
    /// dropped whatever an endpoint returns.
    pub async fn bridge_logs(&self, event: B256, from: u64, to: u64) -> Result<Vec<Log>, ChainError> {
        self.contract_logs(self.config.bridge, event, None, from, to).await
    }

    /// Raw logs of any contract `address` with `topic0 == event` (and `topic1 == topic1` when
    /// given) in `[from, to]`, final blocks only, with the same quorum rule and checks as
    /// [`Follower::bridge_logs`]. For contracts beside the bridge, such as its stake manager.
    pub async fn contract_logs(
        &self,
        address: Address,
        event: B256,
        topic1: Option<B256>,
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, ChainError> {
        self.logs_matching(address, event, topic1.as_slice(), from, to).await
    }

    /// [`Follower::contract_logs`] with topic1 any of `topic1` (empty: any topic1).
    async fn logs_matching(
        &self,
        address: Address,
        event: B256,
        topic1: &[B256],
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, ChainError> {
        if from > to {
            return Ok(Vec::new());
        }
        let view = self.final_view().await?;
        if to > view.agreed.number {
            return Err(ChainError::NotFinalYet);
        }
        // Only endpoints that themselves consider `to` final: a lagging node would answer
        // "no logs" for blocks it has not seen.
        let eligible: Vec<usize> = view.per_endpoint.iter().filter(|(_, n)| *n >= to).map(|(i, _)| *i).collect();
        let mut out = Vec::new();
        let mut scan = LogScan::new(from, to);
        while let Some(batch) = scan.next_batch(|a, b| self.logs_chunk(&eligible, address, event, topic1, a, b)).await?
        {
            out.extend(batch);
        }
        Ok(out)
    }

    async fn logs_chunk(
        &self,
        eligible: &[usize],
        address: Address,
        event: B256,
        topic1: &[B256],
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, ChainError> {
        let mut filter = Filter::new().address(address).event_signature(event).from_block(from).to_block(to);
        if !topic1.is_empty() {
            filter = filter.topic1(topic1.to_vec());
        }
        let answers = self
            .ask(eligible, |_, e| {
                let filter = filter.clone();
                async move {
                    let logs = e.timed("eth_getLogs", e.provider.get_logs(&filter)).await?;
                    clean_logs(logs, address, event, topic1, from, to, &e.label)
                }
            })
            .await;
        let what = format!("logs of {address} with topic0 {event} in blocks [{from}, {to}]");
        let answers = need_quorum(&what, self.config.rpc_quorum, answers, &self.endpoints)?;
        let (_, logs) = self.agree_by(
            &what,
            &answers,
            |(a, _), (b, _)| a == b,
            |(keys, _), (majority, _)| describe_difference(majority, keys),
        )?;
        Ok(logs)
    }
}

/// Keeps the logs of `address` with topic0 `event` (and `topic1`) inside `[from, to]`, sorted, checked.
fn clean_logs(
    logs: Vec<Log>,
    address: Address,
    event: B256,
    topic1: &[B256],
    from: u64,
    to: u64,
    label: &str,
) -> Result<(Vec<LogKey>, Vec<Log>), ChainError> {
    let mut kept = Vec::with_capacity(logs.len());
    for log in logs {
        let topics = log.inner.data.topics();
        if log.inner.address != address
            || topics.first() != Some(&event)
            || (!topic1.is_empty() && !topics.get(1).is_some_and(|t| topic1.contains(t)))
        {
            tracing::warn!(endpoint = label, address = %log.inner.address, "eth_getLogs returned a log outside the filter; ignored");
            continue;
        }
        if log.removed {
            return Err(ChainError::Rpc(format!("{label} returned a removed (reorged) log in a final range")));
        }
        let key = log_key(&log)?;
        if key.block_number < from || key.block_number > to {
            tracing::warn!(
                endpoint = label,
                block = key.block_number,
                "eth_getLogs returned a log outside the block range; ignored"
            );
            continue;
        }
        kept.push((key, log));
    }
    kept.sort_by_key(|(k, _)| (k.block_number, k.log_index));
    for pair in kept.windows(2) {
        let (a, b) = (&pair[0].0, &pair[1].0);
        if a.block_number == b.block_number && (a.log_index == b.log_index || a.block_hash != b.block_hash) {
            return Err(ChainError::Rpc(format!(
                "{label} returned inconsistent logs for block {} (duplicate log index or two block hashes)",
                a.block_number
            )));
        }
    }
    Ok(kept.into_iter().unzip())
}

/// How logs `b` differ from `a` (just their count when they do not).
fn describe_difference(a: &[LogKey], b: &[LogKey]) -> String {
    if a.len() != b.len() {
        return format!("{} logs against {}", a.len(), b.len());
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            let field = if x.block_hash != y.block_hash {
                "block hash"
            } else if x.tx_hash != y.tx_hash {
                "transaction hash"
            } else if x.log_index != y.log_index {
                "log index"
            } else if x.data != y.data {
                "data"
            } else {
                "topics or position"
            };
            return format!("first difference in block {} log index {}: {field}", x.block_number, x.log_index);
        }
    }
    format!("{} logs", b.len())
}
