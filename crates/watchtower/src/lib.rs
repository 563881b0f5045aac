//! The watchtower: an independent process that checks, every block, that each delivered
//! checkpoint is what its source emitted and that each route's home vault covers the wrapped
//! supply, and acts on its own when not: pauses the lane with a GUARDIAN key, freezes the holds
//! the fraud opened and reports every signer to the source chain's stake manager. It shares no
//! state with the validators or relayers: its own endpoints, key and store (docs/watchtower.md).

mod alerts;
pub mod config;
mod store;
mod watch;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use zb_chain::Follower;

pub use config::{ConfigError, KeyConfig, WatchtowerConfig};

#[derive(Debug, thiserror::Error)]
pub enum WatchtowerError {
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Chain(#[from] zb_chain::ChainError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("rpc: {0}")]
    Rpc(String),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

pub use zb_api_types::watchtower::{Kpis, KpisResponse};

/// Served by the API; written by the watcher.
#[derive(Default)]
pub(crate) struct State {
    kpis: Mutex<Kpis>,
    /// Set once every chain's deliveries are checked up to its final block.
    ready: Mutex<Option<String>>,
    last_poll_ok: Mutex<Option<u64>>,
}

impl State {
    fn kpis_mut(&self, change: impl FnOnce(&mut Kpis)) {
        if let Ok(mut kpis) = self.kpis.lock() {
            change(&mut kpis);
        }
    }

    fn kpis(&self) -> Kpis {
        self.kpis.lock().map(|k| k.clone()).unwrap_or_default()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The guardian key from `[key]`.
pub fn load_signer(key: &KeyConfig) -> Result<PrivateKeySigner, WatchtowerError> {
    key.load().map_err(|e| WatchtowerError::Config(e.to_string()))
}

/// Runs the watchtower until `shutdown` resolves or a fatal error occurs. A failed poll (an
/// endpoint down, endpoints that disagree) is logged and retried: it never leads to an action.
pub async fn run(
    config: WatchtowerConfig,
    signer: PrivateKeySigner,
    metrics: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), WatchtowerError> {
    config.validate().map_err(|e| WatchtowerError::Config(e.to_string()))?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| WatchtowerError::Config(format!("cannot create data_dir {}: {e}", config.data_dir.display())))?;
    let store = store::Store::open(&config.data_dir.join("watchtower.sqlite"))?;
    let alerts =
        alerts::Alerts::open(&config.alerts).map_err(|e| WatchtowerError::Config(format!("[alerts] file: {e}")))?;
    let wallet = EthereumWallet::from(signer.clone());
    let mut chains = Vec::new();
    for chain in &config.chains {
        let url =
            chain.rpc.first().ok_or_else(|| WatchtowerError::Config(format!("chain {} has no rpc", chain.name)))?;
        let url = url.parse().map_err(|e| WatchtowerError::Config(format!("rpc url {url}: {e}")))?;
        chains.push(watch::Chain {
            name: chain.name.clone(),
            follower: Follower::connect(chain.clone()).await?,
            wallet: ProviderBuilder::new().wallet(wallet.clone()).connect_http(url).erased(),
            bridge: chain.bridge,
            stake_manager: chain.stake_manager,
        });
    }
    let state = Arc::new(State::default());
    tracing::info!(guardian = %signer.address(), routes = config.routes.len(), "watchtower starting");
    let mut watcher = watch::Watcher::new(&config, chains, store, alerts, state.clone()).await?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| WatchtowerError::Listen { addr: config.listen, source })?;
    let server = axum::serve(listener, router(state.clone(), metrics)).with_graceful_shutdown(shutdown);
    let interval = Duration::from_millis(config.poll_interval_ms);
    let watching = async move {
        loop {
            match watcher.poll().await {
                Ok(caught_up) => {
                    if let Ok(mut last) = state.last_poll_ok.lock() {
                        *last = Some(unix_now());
                    }
                    if let Ok(mut ready) = state.ready.lock() {
                        *ready = (!caught_up).then(|| "catching up".to_string());
                    }
                }
                Err(e) => {
                    metrics::counter!("zb_watchtower_poll_failures_total").increment(1);
                    tracing::warn!(error = %e, "watch step failed; retrying");
                    if let Ok(mut ready) = state.ready.lock() {
                        *ready = Some(e.to_string());
                    }
                }
            }
            tokio::time::sleep(interval).await;
        }
    };
    tokio::select! {
        served = server => served.map_err(|source| WatchtowerError::Listen { addr: config.listen, source }),
        () = watching => Ok(()),
    }
}

#[derive(Clone)]
struct Api {
    state: Arc<State>,
    metrics: PrometheusHandle,
}

fn router(state: Arc<State>, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/v1/ready", get(ready))
        .route("/v1/kpis", get(kpis))
        .route("/metrics", get(|AxumState(api): AxumState<Api>| async move { api.metrics.render() }))
        .with_state(Api { state, metrics })
}

/// 200 once every chain's deliveries are checked up to its final block and the last poll
/// succeeded; 503 with the reason otherwise.
async fn ready(AxumState(api): AxumState<Api>) -> (StatusCode, Json<serde_json::Value>) {
    let last_ok = api.state.last_poll_ok.lock().ok().and_then(|l| *l);
    let reason = api.state.ready.lock().ok().and_then(|r| r.clone());
    match (last_ok, reason) {
        (Some(at), None) => (StatusCode::OK, Json(serde_json::json!({"status": "ready", "lastPoll": at}))),
        (_, reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "not ready", "reason": reason.unwrap_or_else(|| "starting".into())})),
        ),
    }
}

async fn kpis(AxumState(api): AxumState<Api>) -> Json<KpisResponse> {
    let kpis = api.state.kpis();
    let rate = kpis.enforcement_rate();
    metrics::gauge!("zb_watchtower_policy_enforcement_rate").set(rate);
    Json(KpisResponse { kpis, policy_enforcement_rate: rate })
}
