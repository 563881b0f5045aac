//! HTTP API: signed checkpoints under /v1, liveness (/v1/health), readiness (/v1/ready), and
//! Prometheus metrics.

use std::sync::Arc;

use alloy::primitives::{B256, Bytes};
use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
pub use zb_api_types::validator::{
    CheckpointResponse, InfoResponse, LaneSecurityStatus, LaneState, LaneStatus, LanesResponse, StakeStatus,
};

use crate::{Role, State, ValidatorError};

/// The API, without `/metrics` (see [`metrics_router`]).
pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/health", get(health))
        .route("/v1/ready", get(ready))
        .route("/v1/lanes", get(lanes))
        .route("/v1/lanes/{lane}/checkpoints/latest", get(latest))
        .route("/v1/lanes/{lane}/checkpoints/{sequence}", get(at_sequence))
        .with_state(state)
}

/// `/metrics`: on the API port, or alone on `[api] metrics_listen`.
pub(crate) fn metrics_router(state: Arc<State>) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
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
    let Ok(lanes) = state.lanes.read() else {
        return Vec::new();
    };
    let halts = state.halts.read().map(|h| h.clone()).unwrap_or_default();
    let mut out: Vec<LaneStatus> = lanes
        .iter()
        .map(|(lane, view)| LaneStatus {
            lane: *lane,
            source: view.source_name.clone(),
            observed: view.observed(),
            halted: halts.reason(*lane, &view.source_name),
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
    let Ok(stake) = state.stake.read() else {
        return Vec::new();
    };
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

/// Every persisted halt (also of lanes no longer secured) as JSON.
fn halts_json(state: &State) -> Result<serde_json::Value, ValidatorError> {
    let halts = state.halts.read().map_err(|_| crate::poisoned())?;
    let lanes: Vec<_> = halts
        .lanes
        .values()
        .map(|h| {
            serde_json::json!({ "lane": h.lane, "sequence": h.sequence, "reason": h.reason, "haltedAt": h.halted_at })
        })
        .collect();
    let chains: Vec<_> = halts
        .chains
        .values()
        .map(|h| serde_json::json!({ "chain": h.chain, "reason": h.reason, "haltedAt": h.halted_at }))
        .collect();
    Ok(serde_json::json!({ "lanes": lanes, "chains": chains }))
}

/// Liveness: 200 whenever the process serves, halted or not, so that a supervisor does not
/// restart a halted validator (a restart does not lift a halt anyway). The body says "halted"
/// and lists the halts.
async fn health(AxumState(state): AxumState<Arc<State>>) -> Result<Json<serde_json::Value>, ApiError> {
    let halts = halts_json(&state).map_err(ApiError)?;
    let none = state.halts.read().map_err(|_| ApiError(crate::poisoned()))?.is_empty();
    let status = if none { "ok" } else { "halted" };
    Ok(Json(serde_json::json!({ "status": status, "lanes": lane_statuses(&state), "halts": halts })))
}

/// Readiness: 503 while any lane or chain is halted or a chain's first step is not done yet.
async fn ready(AxumState(state): AxumState<Arc<State>>) -> Result<Response, ApiError> {
    let halts = halts_json(&state).map_err(ApiError)?;
    let not_halted = state.halts.read().map_err(|_| ApiError(crate::poisoned()))?.is_empty();
    let not_following: Vec<String> = state
        .following
        .read()
        .map_err(|_| ApiError(crate::poisoned()))?
        .iter()
        .filter(|(_, done)| !**done)
        .map(|(chain, _)| chain.clone())
        .collect();
    let (code, status) = match (not_halted, not_following.is_empty()) {
        (true, true) => (StatusCode::OK, "ready"),
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "halted"),
        (true, false) => (StatusCode::SERVICE_UNAVAILABLE, "catching_up"),
    };
    let body = serde_json::json!({ "status": status, "halts": halts, "notFollowedYet": not_following });
    Ok((code, Json(body)).into_response())
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
    use crate::tests::{chain, config, state};

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn health_stays_200_while_ready_says_503_for_a_halt_or_a_chain_not_followed_yet() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lane = B256::repeat_byte(0x11);
        let cfg = config(vec![chain("ethereum", None)], vec![crate::LaneConfig { lane, source: "ethereum".into() }]);
        let state = Arc::new(state(&dir.path().join("v.sqlite"), &cfg));
        state.following.write().expect("lock").insert("ethereum".into(), false);
        let health_of = |state: &Arc<State>| {
            let state = state.clone();
            async move { health(AxumState(state)).await.map_err(|e| e.0).expect("health").0 }
        };
        let ready_of = |state: &Arc<State>| {
            let state = state.clone();
            async move { ready(AxumState(state)).await.map_err(|e| e.0).expect("ready") }
        };

        let response = ready_of(&state).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body(response).await["notFollowedYet"], serde_json::json!(["ethereum"]));
        assert_eq!(health_of(&state).await["status"], "ok");

        state.following.write().expect("lock").insert("ethereum".into(), true);
        let response = ready_of(&state).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body(response).await["status"], "ready");

        state.halt_lane(lane, 3, B256::repeat_byte(1), B256::repeat_byte(2)).expect("halt");
        let response = ready_of(&state).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let ready_body = body(response).await;
        assert_eq!(ready_body["status"], "halted");
        assert_eq!(ready_body["halts"]["lanes"][0]["sequence"], 3);
        // Liveness is not affected: a supervisor must not restart a halted validator.
        let health_body = health_of(&state).await;
        assert_eq!(health_body["status"], "halted");
        assert!(health_body["lanes"][0]["halted"].as_str().is_some_and(|r| r.contains("sequence 3")), "{health_body}");
        assert_eq!(health_body["halts"]["lanes"][0]["lane"], serde_json::json!(lane));
        // A halted sequence is refused with 503.
        let refused = ValidatorError::Halted { lane, reason: "r".into() };
        assert_eq!(error_response(&refused).0, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn a_sequence_not_due_is_refused_with_its_due_time() {
        let lane = B256::repeat_byte(0x11);
        let (status, body) = error_response(&ValidatorError::NotDue {
            lane,
            sequence: 3,
            due_at: 1_700_000_600,
            chain_time: 1_700_000_000,
        });
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
