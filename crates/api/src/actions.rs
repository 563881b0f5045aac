//! What the web app asks the API to prepare, without sending anything: a route's validator
//! configuration (the text `zerobridge route register` prints) and a stuck transfer's next claim
//! transaction (what `zerobridge claim` would send: the holder's wallet sends it and pays). Also
//! keeps the list of routes read from the chains fresh, so routes registered after the API
//! started are named in transfers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::B256;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use zb_ops::claim::{ClaimKind, PreparedClaim, prepare_claim};
use zb_ops::context::Context;
use zb_ops::network::RouteInfo;
use zb_ops::route::{chain_routes, validator_config};
use zb_ops::transfer::{StageView, TransferView};

use crate::AppState;
use crate::http::Refusal;

/// How often the routes are read again from the registries.
const ROUTE_REFRESH: Duration = Duration::from_secs(5);

/// The routes the API knows: the network's, then those read from the chains since.
pub type KnownRoutes = Arc<Mutex<Vec<RouteInfo>>>;

pub fn routes(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router
        .route("/v1/routes/{route_id}/validator-config", axum::routing::get(route_validator_config))
        .route("/v1/transfers/{message_hash}/claim", axum::routing::get(transfer_claim))
}

/// Reads every route from the chains into `known` every few seconds, until the process stops.
pub async fn refresh_routes(ctx: Context, known: KnownRoutes) {
    loop {
        match chain_routes(&ctx).await {
            Ok(routes) => {
                if let Ok(mut known) = known.lock() {
                    *known = routes;
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the routes from the chains"),
        }
        tokio::time::sleep(ROUTE_REFRESH).await;
    }
}

/// The network's context with every route read from the chains.
async fn context_with_chain_routes(state: &AppState) -> Result<Context, Refusal> {
    let routes = chain_routes(&state.ctx).await.map_err(Refusal::unavailable)?;
    Ok(state.ctx.with_routes(routes))
}

async fn route_validator_config(State(state): State<Arc<AppState>>, UrlPath(route_id): UrlPath<String>) -> Response {
    let Ok(id) = route_id.parse::<B256>() else {
        return Refusal::bad(format!("'{route_id}' is not a route id (0x + 64 hex)")).into_response();
    };
    match validator_config(&state.ctx, id).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Err(e) if e.to_string().starts_with("no route") => Refusal::missing(e.to_string()).into_response(),
        Err(e) => Refusal::unavailable(e).into_response(),
    }
}

/// `GET /v1/transfers/{message_hash}/claim`.
#[derive(Debug, Serialize)]
pub struct ClaimAnswer {
    /// "ready": send `data` to `to` on `chain`; "nothing_to_claim": delivered (or refunded).
    pub status: &'static str,
    /// "delivery" or "refund".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<alloy::primitives::Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<alloy::primitives::Bytes>,
    /// What the transaction does, in the CLI's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// The lines `zerobridge claim` prints while preparing it ("✓ signed ...").
    pub notes: Vec<String>,
}

async fn transfer_claim(
    State(state): State<Arc<AppState>>,
    UrlPath(hash): UrlPath<String>,
) -> Result<Json<ClaimAnswer>, Refusal> {
    let row = crate::http::indexed_transfer(&state, &hash).await?;
    let ctx = context_with_chain_routes(&state).await?;
    let notes = Notes::default();
    // The CLI's refusals ("not final yet", "1 of 4 validators signed ...") are the holder's answer.
    let prepared = prepare_claim(&ctx, row.sent.source_tx, &notes)
        .await
        .map_err(|e| Refusal(StatusCode::CONFLICT, e.to_string()))?;
    let notes = notes.0.into_inner().unwrap_or_default();
    Ok(Json(match prepared {
        None => ClaimAnswer {
            status: "nothing_to_claim",
            kind: None,
            chain: None,
            chain_id: None,
            to: None,
            data: None,
            what: None,
            notes,
        },
        Some(PreparedClaim { kind, chain, to, calldata, what, .. }) => ClaimAnswer {
            status: "ready",
            kind: Some(match kind {
                ClaimKind::Delivery => "delivery",
                ClaimKind::Refund => "refund",
            }),
            chain: Some(chain.name),
            chain_id: Some(chain.chain_id),
            to: Some(to),
            data: Some(calldata),
            what: Some(what),
            notes,
        },
    }))
}

/// Collects the lines a workflow reports, for the answer.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl Notes {
    fn push(&self, text: &str) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(text.to_string());
        }
    }
}

impl TransferView for Notes {
    fn begin(&self, _line: &str) {}
    fn end(&self, line: Option<&str>) {
        if let Some(line) = line {
            self.push(line);
        }
    }
    fn stages(&self, _views: &[StageView]) {}
    fn close(&self, _views: &[StageView]) {}
    fn line(&self, text: &str) {
        self.push(text);
    }
}
