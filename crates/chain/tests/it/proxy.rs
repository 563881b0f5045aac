//! A lying JSON-RPC endpoint: forwards everything to an honest anvil and rewrites some answers.

use std::sync::Arc;

use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

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
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Upstream {
    provider: DynProvider,
    lie: Lie,
}

impl Proxy {
    pub async fn start(upstream: &str, lie: Lie) -> Proxy {
        let provider = ProviderBuilder::new().connect_http(upstream.parse().expect("url")).erased();
        let state = Arc::new(Upstream { provider, lie });
        let app = Router::new().route("/", post(handle)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Proxy { url, task }
    }
}

async fn handle(State(up): State<Arc<Upstream>>, Json(body): Json<Value>) -> Json<Value> {
    match body {
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for call in calls {
                out.push(one(&up, call).await);
            }
            Json(Value::Array(out))
        }
        call => Json(one(&up, call).await),
    }
}

async fn one(up: &Upstream, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call.get("method").and_then(Value::as_str).unwrap_or_default().to_string();
    let params = call.get("params").cloned().unwrap_or(json!([]));
    let raw = serde_json::value::to_raw_value(&params).expect("params");
    let answer = up.provider.raw_request_dyn(method.clone().into(), &raw).await;
    match answer {
        Ok(result) => {
            let mut result: Value = serde_json::from_str(result.get()).expect("json");
            lie(up.lie, &method, &mut result);
            json!({"jsonrpc": "2.0", "id": id, "result": result})
        }
        Err(e) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": e.to_string()}})
        }
    }
}

fn lie(lie: Lie, method: &str, result: &mut Value) {
    match (lie, method) {
        (Lie::ForgeLogData, "eth_getLogs") => {
            for log in result.as_array_mut().into_iter().flatten() {
                if let Some(data) = log.get("data").and_then(Value::as_str) {
                    let mut forged = data.to_string();
                    let last = if forged.ends_with('0') { "1" } else { "0" };
                    forged.pop();
                    forged.push_str(last);
                    log["data"] = Value::String(forged);
                }
            }
        }
        (Lie::DropLastLog, "eth_getLogs") => {
            if let Some(logs) = result.as_array_mut() {
                logs.pop();
            }
        }
        (Lie::InjectForeignLog(other), "eth_getLogs") => {
            if let Some(logs) = result.as_array_mut()
                && let Some(first) = logs.first().cloned()
            {
                let mut foreign = first;
                foreign["address"] = Value::String(format!("{other:#x}"));
                logs.insert(0, foreign);
            }
        }
        (Lie::ForgeBlockHash, "eth_getBlockByNumber") if result.is_object() => {
            result["hash"] = Value::String(format!("0x{}", "de".repeat(32)));
        }
        _ => {}
    }
}
