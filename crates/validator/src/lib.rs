//! The validator agent. Per source chain it follows finalized blocks, reads only the bridge's
//! MessageSent events, recomputes every lane accumulator itself, and signs checkpoints after
//! checking its slashing-protection store. Signed checkpoints are served over HTTP (/v1/...).

pub mod api;
pub mod config;
mod observer;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use metrics_exporter_prometheus::PrometheusHandle;
use zb_protocol::{Checkpoint, sign_checkpoint};
use zb_store::{SignedCheckpoint, Store, StoreError};

pub use config::{ConfigError, LaneConfig, ValidatorConfig};

#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chain(#[from] zb_chain::ChainError),
    #[error("lane {0} is not secured by this validator")]
    UnknownLane(B256),
    #[error("lane {lane}: sequence {sequence} is not final here yet (observed up to {observed})")]
    NotObserved { lane: B256, sequence: u64, observed: u64 },
    #[error("lane {lane} is halted and will not be signed: {reason}")]
    Halted { lane: B256, reason: String },
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
}

/// What the validator knows about one lane it secures.
#[derive(Debug, Clone)]
pub(crate) struct LaneView {
    pub source_name: String,
    pub source_chain_id: u64,
    pub source_bridge: Address,
    /// accumulators[i] is the accumulator after message i + 1, recomputed locally.
    pub accumulators: Vec<B256>,
    /// Sequences of validator-set updates: the old set must sign exactly there.
    pub set_updates: Vec<u64>,
    pub halted: Option<String>,
}

pub(crate) struct State {
    pub signer: PrivateKeySigner,
    pub store: Store,
    pub lanes: RwLock<HashMap<B256, LaneView>>,
    pub metrics: PrometheusHandle,
    pub public_url: Option<String>,
}

impl State {
    /// Signs (lane, sequence) with the locally recomputed accumulator, after the slashing
    /// protection store agreed. Idempotent: the same checkpoint is signed at most once.
    pub(crate) fn sign(&self, lane: B256, sequence: u64) -> Result<SignedCheckpoint, ValidatorError> {
        let (accumulator, chain_id, bridge) = {
            let lanes = self.lanes.read().map_err(|_| ValidatorError::Sign("lane table poisoned".into()))?;
            let view = lanes.get(&lane).ok_or(ValidatorError::UnknownLane(lane))?;
            if let Some(reason) = &view.halted {
                return Err(ValidatorError::Halted { lane, reason: reason.clone() });
            }
            let observed = view.accumulators.len() as u64;
            if sequence == 0 || sequence > observed {
                return Err(ValidatorError::NotObserved { lane, sequence, observed });
            }
            (view.accumulators[(sequence - 1) as usize], view.source_chain_id, view.source_bridge)
        };
        if let Some(existing) = self.store.signed_at(lane, sequence)? {
            if existing.accumulator == accumulator {
                return Ok(existing);
            }
        }
        // Refuses (and records nothing) if a different accumulator was ever signed here.
        if let Err(e) = self.store.check_and_record_signing(lane, sequence, accumulator) {
            metrics::counter!("zb_validator_slashing_protection_refusals_total").increment(1);
            tracing::error!(%lane, sequence, error = %e, "slashing protection refused to sign");
            return Err(e.into());
        }
        let checkpoint = Checkpoint { lane, sequence, accumulator };
        let signature =
            sign_checkpoint(&self.signer, &checkpoint, chain_id, bridge).map_err(|e| ValidatorError::Sign(e.to_string()))?;
        let signed = SignedCheckpoint { lane, sequence, accumulator, signer: self.signer.address(), signature };
        self.store.save_signed(&signed)?;
        metrics::counter!("zb_validator_signed_total", "lane" => lane.to_string()).increment(1);
        tracing::info!(%lane, sequence, %accumulator, "signed checkpoint");
        Ok(signed)
    }
}

/// Runs the validator until `shutdown` resolves or a fatal error occurs.
pub async fn run(
    config: ValidatorConfig,
    signer: PrivateKeySigner,
    metrics: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ValidatorError> {
    config.validate()?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| ValidatorError::Sign(format!("cannot create data_dir {}: {e}", config.data_dir.display())))?;
    let store = Store::open(&config.data_dir.join("validator.sqlite"))?;
    let mut lanes = HashMap::new();
    for lane in &config.lanes {
        let chain = config
            .chains
            .iter()
            .find(|c| c.name == lane.source)
            .ok_or_else(|| ConfigError::Invalid(format!("unknown source chain {}", lane.source)))?;
        lanes.insert(
            lane.lane,
            LaneView {
                source_name: chain.name.clone(),
                source_chain_id: chain.chain_id,
                source_bridge: chain.bridge,
                accumulators: Vec::new(),
                set_updates: Vec::new(),
                halted: None,
            },
        );
    }
    tracing::info!(signer = %signer.address(), lanes = lanes.len(), "validator starting");
    let state = Arc::new(State {
        signer,
        store,
        lanes: RwLock::new(lanes),
        metrics,
        public_url: config.public_url.clone(),
    });

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ValidatorError::Listen { addr: config.listen, source })?;
    let server = axum::serve(listener, api::router(state.clone())).with_graceful_shutdown(shutdown);
    let mut followers = tokio::task::JoinSet::new();
    for chain in &config.chains {
        let secured: Vec<B256> = config.lanes.iter().filter(|l| l.source == chain.name).map(|l| l.lane).collect();
        if !secured.is_empty() {
            followers.spawn(observer::follow_chain(state.clone(), chain.clone(), secured));
        }
    }
    tokio::select! {
        served = server => served.map_err(|source| ValidatorError::Listen { addr: config.listen, source }),
        Some(finished) = followers.join_next() => match finished {
            Ok(result) => result,
            Err(e) => Err(ValidatorError::Sign(format!("chain follower task failed: {e}"))),
        },
    }
}
