//! A JSON-RPC endpoint that lies: it forwards every call to an honest node and lets a
//! [`Rewrite`] change the answers. It runs on its own thread and runtime, so it keeps serving
//! whatever the caller's runtime does, and stops when dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::sol_types::SolEvent;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use eyre::{Result, WrapErr};
use serde_json::{Value, json};
use zb_contracts::bridge::ZeroBridge;

/// Changes the `result` of one call to `method`; returns true when it changed something.
pub type Rewrite = Arc<dyn Fn(&str, &mut Value) -> bool + Send + Sync>;

/// A lying endpoint in front of `upstream`.
pub struct RpcProxy {
    url: String,
    calls: Arc<AtomicU64>,
    lies: Arc<AtomicU64>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct ProxyState {
    upstream: String,
    client: reqwest::Client,
    rewrite: Rewrite,
    calls: Arc<AtomicU64>,
    lies: Arc<AtomicU64>,
}

impl RpcProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` (an HTTP JSON-RPC URL).
    pub fn start(upstream: &str, rewrite: Rewrite) -> Result<RpcProxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").wrap_err("binding the proxy")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let calls = Arc::new(AtomicU64::new(0));
        let lies = Arc::new(AtomicU64::new(0));
        let state = Arc::new(ProxyState {
            upstream: upstream.to_string(),
            client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
            rewrite,
            calls: calls.clone(),
            lies: lies.clone(),
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("zb-test-rpc-proxy".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = Router::new().route("/", post(handle)).with_state(state);
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stop => {}
                }
            });
        })?;
        Ok(RpcProxy { url, calls, lies, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// The proxy's HTTP URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// JSON-RPC requests (single or batch) received so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Answers the rewrite changed so far.
    pub fn lies(&self) -> u64 {
        self.lies.load(Ordering::SeqCst)
    }

    /// A lie about transfers: in every `eth_getLogs` answer, each `MessageSent` log's message
    /// amount is multiplied by 1000 (the rest of the log, accumulator included, is untouched).
    pub fn inflate_sent_amounts() -> Rewrite {
        Arc::new(move |method, result| {
            if method != "eth_getLogs" {
                return false;
            }
            let mut changed = false;
            for (log, hex) in sent_logs(result) {
                // data = abi.encode(Message, accumulator): 9 words; the amount is word 4.
                let (start, end) = (4 * 64, 5 * 64);
                let Ok(amount) = U256::from_str_radix(&hex[start..end], 16) else {
                    continue;
                };
                let forged = amount.saturating_mul(U256::from(1000u64));
                let forged = format!("{forged:064x}");
                log["data"] = Value::String(format!("0x{}{forged}{}", &hex[..start], &hex[end..]));
                changed = true;
            }
            changed
        })
    }
}

/// `MessageSent` logs of an `eth_getLogs` result: their 9-word data as hex (no 0x), mutable.
fn sent_logs(result: &mut Value) -> impl Iterator<Item = (&mut Value, String)> {
    let topic = format!("{:#x}", ZeroBridge::MessageSent::SIGNATURE_HASH);
    result.as_array_mut().into_iter().flatten().filter_map(move |log| {
        let is_sent = log
            .get("topics")
            .and_then(|t| t.get(0))
            .and_then(Value::as_str)
            .is_some_and(|t0| t0.eq_ignore_ascii_case(&topic));
        let hex = log.get("data")?.as_str()?.trim_start_matches("0x").to_string();
        (is_sent && hex.len() == 9 * 64).then_some((log, hex))
    })
}

impl RpcProxy {
    /// A lie about the bridge's accumulator only: in every `eth_getLogs` answer, each
    /// `MessageSent` log's emitted accumulator (its last data word) is replaced by its keccak
    /// hash. The message is untouched, so a validator recomputes the true accumulator and sees
    /// the emitted one differ.
    pub fn forge_sent_accumulators() -> Rewrite {
        Arc::new(|method, result| {
            if method != "eth_getLogs" {
                return false;
            }
            let mut changed = false;
            for (log, hex) in sent_logs(result) {
                let start = 8 * 64;
                let Ok(word) = alloy::hex::decode(&hex[start..]) else {
                    continue;
                };
                let forged = alloy::primitives::keccak256(word);
                log["data"] = Value::String(format!("0x{}{}", &hex[..start], alloy::hex::encode(forged)));
                changed = true;
            }
            changed
        })
    }
}

impl RpcProxy {
    /// No lie: forwards every answer untouched (a second, independent-looking endpoint).
    pub fn honest() -> Rewrite {
        Arc::new(|_, _| false)
    }

    /// Flips the last hex digit of every log's data in `eth_getLogs` answers (for `MessageSent`:
    /// the emitted accumulator).
    pub fn forge_log_data() -> Rewrite {
        Arc::new(|method, result| {
            if method != "eth_getLogs" {
                return false;
            }
            let mut changed = false;
            for log in result.as_array_mut().into_iter().flatten() {
                if let Some(data) = log.get("data").and_then(Value::as_str) {
                    let mut forged = data.to_string();
                    let last = if forged.ends_with('0') { "1" } else { "0" };
                    forged.pop();
                    forged.push_str(last);
                    log["data"] = Value::String(forged);
                    changed = true;
                }
            }
            changed
        })
    }

    /// Drops the last log of every `eth_getLogs` answer (a message withheld).
    pub fn drop_last_log() -> Rewrite {
        Arc::new(|method, result| method == "eth_getLogs" && result.as_array_mut().and_then(Vec::pop).is_some())
    }

    /// Adds, before the first log of every `eth_getLogs` answer, a copy of it as if emitted by
    /// `other` (a log outside the filter).
    pub fn inject_foreign_log(other: Address) -> Rewrite {
        Arc::new(move |method, result| {
            if method != "eth_getLogs" {
                return false;
            }
            let Some(logs) = result.as_array_mut() else { return false };
            let Some(mut foreign) = logs.first().cloned() else { return false };
            foreign["address"] = Value::String(format!("{other:#x}"));
            logs.insert(0, foreign);
            true
        })
    }

    /// Replaces the block hash in every `eth_getBlockByNumber` answer (another fork).
    pub fn forge_block_hash() -> Rewrite {
        Arc::new(|method, result| {
            if method != "eth_getBlockByNumber" || !result.is_object() {
                return false;
            }
            result["hash"] = Value::String(format!("0x{}", "de".repeat(32)));
            true
        })
    }
}

/// An endpoint that accepts connections and never answers (a black-holing provider).
pub struct BlackHole {
    url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlackHole {
    pub fn start() -> Result<BlackHole> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").wrap_err("binding the black hole")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("zb-test-black-hole".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let mut held = Vec::new();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((socket, _)) => held.push(socket),
                            Err(_) => return,
                        },
                        _ = &mut stop => return,
                    }
                }
            });
        })?;
        Ok(BlackHole { url, shutdown: Some(shutdown), thread: Some(thread) })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn id_key(call: &Value) -> String {
    call.get("id").map(Value::to_string).unwrap_or_default()
}

async fn handle(State(state): State<Arc<ProxyState>>, body: Bytes) -> Response {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
    };
    let methods: HashMap<String, String> = match &request {
        Value::Array(calls) => calls
            .iter()
            .map(|c| (id_key(c), c.get("method").and_then(Value::as_str).unwrap_or_default().to_string()))
            .collect(),
        call => {
            HashMap::from([(id_key(call), call.get("method").and_then(Value::as_str).unwrap_or_default().to_string())])
        }
    };
    let forwarded = state
        .client
        .post(&state.upstream)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .send()
        .await;
    let mut answer: Value = match forwarded {
        Ok(r) => match r.json().await {
            Ok(v) => v,
            Err(e) => {
                return (StatusCode::BAD_GATEWAY, format!("upstream answered non-JSON: {e}")).into_response();
            }
        },
        Err(e) => {
            let error = json!({"jsonrpc": "2.0", "id": request.get("id").cloned().unwrap_or(Value::Null),
                "error": {"code": -32000, "message": format!("upstream unreachable: {e}")}});
            return (StatusCode::BAD_GATEWAY, axum::Json(error)).into_response();
        }
    };
    let mut rewrite_one = |item: &mut Value| {
        let method = methods.get(&id_key(item)).cloned().unwrap_or_default();
        if let Some(result) = item.get_mut("result")
            && (state.rewrite)(&method, result)
        {
            state.lies.fetch_add(1, Ordering::SeqCst);
        }
    };
    match &mut answer {
        Value::Array(items) => items.iter_mut().for_each(&mut rewrite_one),
        item => rewrite_one(item),
    }
    axum::Json(answer).into_response()
}
