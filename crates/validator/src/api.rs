//! HTTP API: signed checkpoints under /v1, health, and Prometheus metrics.

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes};
use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::stake::LaneSecurity;
use crate::{Role, State, ValidatorError};

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
    /// `primary`, or `fallback`: signs only on request, once a message is `fallbackDelaySecs` old.
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub fallback_delay_secs: Option<u64>,
    /// Every lane secured now: configured, opted in to, or leaving.
    pub lanes: Vec<LaneStatus>,
    /// One entry per chain with a `stake_manager`.
    #[serde(default)]
    pub stake: Vec<StakeStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneStatus {
    pub lane: B256,
    pub source: String,
    pub observed: u64,
    pub halted: Option<String>,
    /// `active`, or `leaving`: opted out, only the hand-over set update is still signed.
    #[serde(default)]
    pub status: LaneState,
    /// Listed in `[[lanes]]`.
    #[serde(default)]
    pub configured: bool,
    /// In the operator's opt-ins on the source chain's stake manager, at the last read.
    #[serde(default)]
    pub opted_in: bool,
    /// For a leaving lane: the height observed at the opt-out. Later sequences are not signed,
    /// except validator-set updates.
    #[serde(default)]
    pub leaving_since: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaneState {
    #[default]
    Active,
    Leaving,
}

/// What one chain's stake manager said at the last read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StakeStatus {
    pub chain: String,
    pub stake_manager: Address,
    /// The operator this validator's signing key is registered to; null if it is not (or if the
    /// stake manager was not read yet: then `block` is null too).
    pub operator: Option<Address>,
    /// The lanes the operator opted in to.
    pub opted_in: Vec<B256>,
    /// The final block of the last successful read, and when it happened (unix seconds).
    pub block: Option<u64>,
    pub read_at: Option<u64>,
    /// The last read's failure, cleared by a successful one.
    pub last_error: Option<String>,
}

/// `GET /v1/lanes`: each secured lane with its economic security.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LanesResponse {
    pub signer: Address,
    pub lanes: Vec<LaneSecurityStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaneSecurityStatus {
    #[serde(flatten)]
    pub status: LaneStatus,
    /// Read from the source chain's stake manager at every refresh. Null when the source chain
    /// has no `stake_manager`, before the first read, or when the read failed (`securityError`).
    pub security: Option<LaneSecurity>,
    pub security_error: Option<String>,
}

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/health", get(health))
        .route("/v1/lanes", get(lanes))
        .route("/v1/lanes/{lane}/checkpoints/latest", get(latest))
        .route("/v1/lanes/{lane}/checkpoints/{sequence}", get(at_sequence))
        .route("/metrics", get(metrics))
        .with_state(state)
}

struct ApiError(ValidatorError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = error_response(&self.0);
        (status, Json(body)).into_response()
    }
}

/// The status and JSON body of a refusal. A fallback validator's "not due yet" names `dueAt`
/// (source chain time, unix seconds) so that a relayer knows when to ask again.
fn error_response(error: &ValidatorError) -> (StatusCode, serde_json::Value) {
    let status = match error {
        ValidatorError::UnknownLane(_) => StatusCode::NOT_FOUND,
        ValidatorError::NotObserved { .. } => StatusCode::NOT_FOUND,
        ValidatorError::NotDue { .. } => StatusCode::TOO_EARLY,
        ValidatorError::Halted { .. } => StatusCode::SERVICE_UNAVAILABLE,
        ValidatorError::OptedOut { .. } => StatusCode::GONE,
        ValidatorError::Store(zb_store::StoreError::Conflict { .. }) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = match error {
        ValidatorError::NotDue { lane, sequence, due_at, chain_time } => serde_json::json!({
            "error": error.to_string(),
            "lane": lane,
            "sequence": sequence,
            "dueAt": due_at,
            "chainTime": chain_time,
        }),
        other => serde_json::json!({ "error": other.to_string() }),
    };
    (status, body)
}

fn lane_statuses(state: &State) -> Vec<LaneStatus> {
    let Ok(lanes) = state.lanes.read() else { return Vec::new() };
    let mut out: Vec<LaneStatus> = lanes
        .iter()
        .map(|(lane, view)| LaneStatus {
            lane: *lane,
            source: view.source_name.clone(),
            observed: view.observed(),
            halted: view.halted.clone(),
            status: if view.leaving_since.is_some() { LaneState::Leaving } else { LaneState::Active },
            configured: view.configured,
            opted_in: view.opted_in,
            leaving_since: view.leaving_since,
        })
        .collect();
    out.sort_by_key(|l| l.lane);
    out
}

fn stake_statuses(state: &State) -> Vec<StakeStatus> {
    let Ok(stake) = state.stake.read() else { return Vec::new() };
    stake
        .iter()
        .map(|(chain, view)| StakeStatus {
            chain: chain.clone(),
            stake_manager: view.stake_manager,
            operator: view.operator,
            opted_in: view.opted_in.clone(),
            block: view.block,
            read_at: view.read_at,
            last_error: view.last_error.clone(),
        })
        .collect()
}

async fn info(AxumState(state): AxumState<Arc<State>>) -> Json<InfoResponse> {
    Json(InfoResponse {
        signer: state.signer.address(),
        public_url: state.public_url.clone(),
        role: if state.fallback_delay.is_some() { Role::Fallback } else { Role::Primary },
        fallback_delay_secs: state.fallback_delay,
        lanes: lane_statuses(&state),
        stake: stake_statuses(&state),
    })
}

async fn lanes(AxumState(state): AxumState<Arc<State>>) -> Json<LanesResponse> {
    let statuses = lane_statuses(&state);
    let security = state.security.read().map(|s| s.clone()).unwrap_or_default();
    let lanes = statuses
        .into_iter()
        .map(|status| {
            let (security, security_error) = match security.get(&status.lane) {
                Some(Ok(s)) => (Some(s.clone()), None),
                Some(Err(e)) => (None, Some(e.clone())),
                None => (None, None),
            };
            LaneSecurityStatus { status, security, security_error }
        })
        .collect();
    Json(LanesResponse { signer: state.signer.address(), lanes })
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
    let head = state.latest(lane).map_err(ApiError)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_not_due_is_refused_with_its_due_time() {
        let lane = B256::repeat_byte(0x11);
        let (status, body) =
            error_response(&ValidatorError::NotDue { lane, sequence: 3, due_at: 1_700_000_600, chain_time: 1_700_000_000 });
        assert_eq!(status, StatusCode::TOO_EARLY);
        assert_eq!(
            body,
            serde_json::json!({
                "error": format!(
                    "lane {lane}: sequence 3 is not due for the fallback set before 1700000600 (its sentAt plus \
                     fallback_delay_secs); the newest final source block is at 1700000000"
                ),
                "lane": format!("{lane:#x}"),
                "sequence": 3,
                "dueAt": 1_700_000_600u64,
                "chainTime": 1_700_000_000u64,
            })
        );
        // Other refusals keep their shape.
        let (status, body) = error_response(&ValidatorError::UnknownLane(lane));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, serde_json::json!({ "error": format!("lane {lane} is not secured by this validator") }));
    }
}
