//! The relayer agent: permissionless and untrusted. For each lane it follows the source bridge,
//! fetches checkpoint signatures from validator APIs, verifies each one locally, and delivers
//! batches to the destination bridge with nonce management, fee bumping and a persistent queue.

pub mod config;
mod cursor;
mod lane;
mod window;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use axum::extract::State as AxumState;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use zb_chain::Follower;
use zb_store::RelayerStore;

pub use config::{ConfigError, KeyConfig, RelayLane, RelayerConfig};
use lane::{LaneRelayer, Tick};

#[derive(Debug, thiserror::Error)]
pub enum RelayerError {
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Chain(#[from] zb_chain::ChainError),
    #[error(transparent)]
    Store(#[from] zb_store::StoreError),
    #[error("rpc: {0}")]
    Rpc(String),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("signing the transaction failed: {0}")]
    Sign(String),
    #[error("lane {lane}: the destination expects validator set {hash}, which no bridge event carries")]
    UnknownValidatorSet { lane: B256, hash: B256 },
    #[error(
        "route {route}: the destination names fallback set {hash}, which no final FallbackSetInstalled event carries"
    )]
    UnknownFallbackSet { route: B256, hash: B256 },
    #[error("lane {lane}: delivery would revert ({reason}); not submitted")]
    Simulation { lane: B256, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

/// How soon a lane waiting for signatures or a receipt looks again.
const RETRY_SOON: Duration = Duration::from_millis(200);

/// Per-lane progress, served on /v1/health.
#[derive(Debug, Default)]
pub struct Status {
    lanes: Mutex<BTreeMap<B256, LaneProgress>>,
}

pub use zb_api_types::relayer::{LaneProgress, RelayerHealth};

impl Status {
    fn update(&self, lane: B256, source_height: u64, delivered: u64) {
        if let Ok(mut lanes) = self.lanes.lock() {
            let entry = lanes.entry(lane).or_default();
            entry.source_height = source_height;
            entry.delivered = delivered;
            entry.last_error = None;
        }
    }

    fn error(&self, lane: B256, error: String) {
        if let Ok(mut lanes) = self.lanes.lock() {
            lanes.entry(lane).or_default().last_error = Some(error);
        }
    }

    fn snapshot(&self) -> BTreeMap<B256, LaneProgress> {
        self.lanes.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[derive(Clone)]
struct HttpState {
    status: Arc<Status>,
    metrics: PrometheusHandle,
}

/// Runs the relayer until `shutdown` resolves.
pub async fn run(
    config: RelayerConfig,
    signer: PrivateKeySigner,
    metrics: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RelayerError> {
    config.validate().map_err(|e| RelayerError::Config(e.to_string()))?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| RelayerError::Config(format!("cannot create data_dir {}: {e}", config.data_dir.display())))?;
    let store = Arc::new(RelayerStore::open(&config.data_dir.join("relayer.sqlite"))?);
    let status = Arc::new(Status::default());
    let relayer = signer.address();
    let wallet = EthereumWallet::from(signer);
    // Validator answers older than this are not waited for: the next tick asks again.
    let validator_http = zb_config::client::validator_client(
        config.validator_token_file.as_deref(),
        config.validator_tls.as_ref(),
        Duration::from_secs(3),
    )
    .map_err(|e| RelayerError::Config(e.to_string()))?;
    tracing::info!(%relayer, lanes = config.lanes.len(), validators = config.validators.len(),
        fallback_validators = config.fallback_validators.len(),
        validator_token = config.validator_token_file.is_some(), "relayer starting");

    // One nonce sequence per destination chain: the lanes into it send from the same account.
    let mut nonces: BTreeMap<u64, Arc<zb_tx::NonceManager>> = BTreeMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    for lane in &config.lanes {
        let (Some(source), Some(destination)) = (config.chain(&lane.source), config.chain(&lane.destination)) else {
            return Err(RelayerError::Config(format!("lane {} names an unknown chain", lane.lane)));
        };
        let nonces = match nonces.entry(destination.chain_id) {
            std::collections::btree_map::Entry::Occupied(shared) => shared.get().clone(),
            std::collections::btree_map::Entry::Vacant(slot) => {
                // Above every transaction of ours still expected to be mined, even one the node dropped.
                let floor = store.pending_nonce_floor(destination.chain_id, relayer)?.unwrap_or(0);
                slot.insert(Arc::new(zb_tx::NonceManager::with_floor(floor))).clone()
            }
        };
        let ceiling = config.fee_ceiling(&destination.name);
        let fee_ceiling = zb_tx::Fees {
            max_fee_per_gas: u128::from(ceiling.max_fee_per_gas),
            max_priority_fee_per_gas: u128::from(ceiling.max_priority_fee_per_gas),
        };
        let (source, destination) = (source.clone(), destination.clone());
        let (lane_id, store, status, wallet, validators) =
            (lane.lane, store.clone(), status.clone(), wallet.clone(), config.validators.clone());
        let fallback_validators = config.fallback_validators.clone();
        let validator_http = validator_http.clone();
        let (max_gas, max_messages) = (config.max_batch_gas, config.max_batch_messages);
        let timeout = Duration::from_secs(config.confirmation_timeout_secs);
        tasks.spawn(async move {
            let poll = Duration::from_millis(destination.poll_interval_ms.clamp(100, 5_000));
            let (source, destination) = loop {
                match (Follower::connect(source.clone()).await, Follower::connect(destination.clone()).await) {
                    (Ok(s), Ok(d)) => break (s, d),
                    // A wrong chain id is a configuration error: retrying cannot fix it.
                    (Err(e @ zb_chain::ChainError::WrongChainId { .. }), _)
                    | (_, Err(e @ zb_chain::ChainError::WrongChainId { .. })) => return Err(e.into()),
                    (Err(e), _) | (_, Err(e)) => {
                        tracing::warn!(lane = %lane_id, error = %e, "chains not reachable yet; retrying");
                        status.error(lane_id, e.to_string());
                        tokio::time::sleep(poll).await;
                    }
                }
            };
            let mut heads = source.new_heads();
            let mut relayer = LaneRelayer::new(
                lane_id,
                source,
                destination,
                wallet,
                relayer,
                nonces,
                validators,
                fallback_validators,
                validator_http,
                store,
                status.clone(),
                max_gas,
                max_messages,
                timeout,
                fee_ceiling,
            )?;
            let mut backoff = poll;
            loop {
                match relayer.tick().await {
                    Ok(Tick::Submitted) => {
                        backoff = poll;
                        continue;
                    }
                    // Signatures or a receipt are on their way: look again soon, not a block later.
                    Ok(Tick::Waiting) => {
                        backoff = poll;
                        tokio::time::sleep(RETRY_SOON).await;
                        continue;
                    }
                    Ok(Tick::Idle) => backoff = poll,
                    Err(e) => {
                        metrics::counter!("zb_relayer_errors_total", "lane" => lane_id.to_string()).increment(1);
                        tracing::warn!(lane = %lane_id, error = %e, retry_in = ?backoff, "relay step failed");
                        status.error(lane_id, e.to_string());
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        continue;
                    }
                }
                tokio::select! {
                    _ = heads.changed() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), RelayerError>(())
        });
    }

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| RelayerError::Listen { addr: config.listen, source })?;
    let app = Router::new()
        .route("/v1/health", get(health))
        .route("/metrics", get(render_metrics))
        .with_state(HttpState { status, metrics });
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown);
    tokio::select! {
        served = server => served.map_err(|source| RelayerError::Listen { addr: config.listen, source }),
        Some(finished) = tasks.join_next() => match finished {
            Ok(result) => result,
            Err(e) => Err(RelayerError::Config(format!("lane task failed: {e}"))),
        },
    }
}

async fn health(AxumState(state): AxumState<HttpState>) -> (axum::http::StatusCode, Json<RelayerHealth>) {
    let lanes = state.status.snapshot();
    let failing = lanes.values().any(|l| l.last_error.is_some());
    let (code, status) = if failing {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "degraded")
    } else {
        (axum::http::StatusCode::OK, "ok")
    };
    (code, Json(RelayerHealth { lanes, status: status.into() }))
}

async fn render_metrics(AxumState(state): AxumState<HttpState>) -> String {
    state.metrics.render()
}

/// Loads the relayer's paying key as configured.
pub fn load_signer(key: &KeyConfig) -> Result<PrivateKeySigner, RelayerError> {
    key.load().map_err(|e| RelayerError::Config(e.to_string()))
}
