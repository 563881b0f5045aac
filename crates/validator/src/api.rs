//! HTTP API: signed checkpoints under /v1, health, and Prometheus metrics.

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes};
use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::{State, ValidatorError};

/// A signed checkpoint as served to relayers. `signature` is 65 bytes: r ‖ s ‖ v (27/28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointResponse {
    pub lane: B256,
    pub sequence: u64,
    pub accumulator: B256,
    pub signer: Address,
    pub signature: Bytes,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoResponse {
    pub signer: Address,
    pub public_url: Option<String>,
    pub lanes: Vec<LaneStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneStatus {
    pub lane: B256,
    pub source: String,
    pub observed: u64,
    pub halted: Option<String>,
}

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/health", get(health))
        .route("/v1/lanes/{lane}/checkpoints/latest", get(latest))
        .route("/v1/lanes/{lane}/checkpoints/{sequence}", get(at_sequence))
        .route("/metrics", get(metrics))
        .with_state(state)
}

struct ApiError(ValidatorError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            ValidatorError::UnknownLane(_) => StatusCode::NOT_FOUND,
            ValidatorError::NotObserved { .. } => StatusCode::NOT_FOUND,
            ValidatorError::Halted { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ValidatorError::Store(zb_store::StoreError::Conflict { .. }) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(serde_json::json!({ "error": self.0.to_string() }))).into_response()
    }
}

fn lane_statuses(state: &State) -> Vec<LaneStatus> {
    let Ok(lanes) = state.lanes.read() else { return Vec::new() };
    let mut out: Vec<LaneStatus> = lanes
        .iter()
        .map(|(lane, view)| LaneStatus {
            lane: *lane,
            source: view.source_name.clone(),
            observed: view.accumulators.len() as u64,
            halted: view.halted.clone(),
        })
        .collect();
    out.sort_by_key(|l| l.lane);
    out
}

async fn info(AxumState(state): AxumState<Arc<State>>) -> Json<InfoResponse> {
    Json(InfoResponse {
        signer: state.signer.address(),
        public_url: state.public_url.clone(),
        lanes: lane_statuses(&state),
    })
}

async fn health(AxumState(state): AxumState<Arc<State>>) -> Response {
    let lanes = lane_statuses(&state);
    let halted = lanes.iter().any(|l| l.halted.is_some());
    let status = if halted { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    let body = serde_json::json!({ "status": if halted { "halted" } else { "ok" }, "lanes": lanes });
    (status, Json(body)).into_response()
}

async fn latest(
    AxumState(state): AxumState<Arc<State>>,
    Path(lane): Path<B256>,
) -> Result<Json<CheckpointResponse>, ApiError> {
    let head = {
        let lanes = state.lanes.read().map_err(|_| ApiError(ValidatorError::Sign("lane table poisoned".into())))?;
        lanes.get(&lane).map(|v| v.accumulators.len() as u64).ok_or(ApiError(ValidatorError::UnknownLane(lane)))?
    };
    sign(state, lane, head).await
}

async fn at_sequence(
    AxumState(state): AxumState<Arc<State>>,
    Path((lane, sequence)): Path<(B256, u64)>,
) -> Result<Json<CheckpointResponse>, ApiError> {
    sign(state, lane, sequence).await
}

async fn sign(state: Arc<State>, lane: B256, sequence: u64) -> Result<Json<CheckpointResponse>, ApiError> {
    let signed = tokio::task::spawn_blocking(move || state.sign(lane, sequence))
        .await
        .map_err(|e| ApiError(ValidatorError::Sign(e.to_string())))?
        .map_err(ApiError)?;
    Ok(Json(CheckpointResponse {
        lane: signed.lane,
        sequence: signed.sequence,
        accumulator: signed.accumulator,
        signer: signed.signer,
        signature: Bytes::from(signed.signature.as_bytes().to_vec()),
    }))
}

async fn metrics(AxumState(state): AxumState<Arc<State>>) -> String {
    state.metrics.render()
}
