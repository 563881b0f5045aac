//! The REST handlers (docs/api.md). Bad input answers 400 and an unknown hash 404, both as
//! `{ "error": "<plain words>" }`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use zb_api_types::explorer::{
    ApiError as ErrorBody, ChainEntry, ChainHealth, HealthResponse, NetworkResponse, RouteEnd, RouteEntry,
    RoutesResponse, Signatures, Stage, Transfer, TransfersResponse, ValidatorsResponse,
};
use zb_ops::context::Conn;
use zb_ops::route::{chain_status, chain_view, connect_all, discover, display_symbol};

use crate::AppState;
use crate::store::{SentRow, TransferFilter, TransferRow};

/// Page size when `limit` is absent, and the most a page may hold.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
/// The token bucket refills its capacity over this many seconds (TokenBucket.REFILL_PERIOD).
const REFILL_PERIOD: u64 = 86_400;
/// The deadline of a transfer that never times out (BridgeBase.NO_DEADLINE).
const NO_DEADLINE: u64 = u64::MAX;

type Shared = Arc<AppState>;

/// An error answer: the status and plain words.
pub struct Refusal(pub(crate) StatusCode, pub(crate) String);

impl Refusal {
    pub(crate) fn bad(text: impl Into<String>) -> Refusal {
        Refusal(StatusCode::BAD_REQUEST, text.into())
    }
    pub(crate) fn missing(text: impl Into<String>) -> Refusal {
        Refusal(StatusCode::NOT_FOUND, text.into())
    }
    pub(crate) fn internal(e: impl std::fmt::Display) -> Refusal {
        Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
    pub(crate) fn unavailable(e: impl std::fmt::Display) -> Refusal {
        Refusal(StatusCode::BAD_GATEWAY, e.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

pub fn router(state: Shared, static_dir: Option<&Path>) -> Router {
    let api = Router::new()
        .route("/v1/network", get(network))
        .route("/v1/routes", get(routes))
        .route("/v1/routes/{route_id}", get(route_detail))
        .route("/v1/transfers", get(transfers))
        .route("/v1/transfers/{message_hash}", get(transfer))
        .route("/v1/health", get(health))
        .route("/v1/validators", get(validators));
    let api = crate::actions::routes(api).with_state(state);
    match static_dir.filter(|d| d.is_dir()) {
        Some(dir) => {
            let dir = dir.to_path_buf();
            api.fallback(move |uri: Uri| serve_static(dir.clone(), uri))
        }
        None => api.fallback(|| async { Refusal::missing("no such endpoint: see docs/api.md") }),
    }
}

async fn network(State(state): State<Shared>) -> Json<NetworkResponse> {
    let chains = state
        .ctx
        .network
        .chains
        .iter()
        .map(|c| ChainEntry {
            name: c.name.clone(),
            chain_id: c.chain_id,
            rpc_url: c.rpc.clone(),
            bridge: c.bridge,
            route_registry: c.registry,
            stake_manager: c.stake_manager,
        })
        .collect();
    Json(NetworkResponse { chains })
}

async fn route_entries(state: &AppState) -> Result<Vec<RouteEntry>, Refusal> {
    let ctx = &state.ctx;
    let conns = connect_all(&ctx.network).await.map_err(Refusal::unavailable)?;
    let views = discover(ctx, &conns).await.map_err(Refusal::unavailable)?;
    let mut entries = Vec::new();
    for view in &views {
        let mut states = Vec::new();
        for chain_id in [view.home_chain, view.remote_chain] {
            if let Some(conn) = conns.iter().find(|c| c.info.chain_id == chain_id) {
                let chain = chain_view(conn, view.route_id).await.map_err(Refusal::unavailable)?;
                states.push(chain_status(chain.as_ref()));
            }
        }
        states.dedup();
        let end = |chain_id: u64, token: Option<Address>| RouteEnd {
            chain: ctx.chain_by_id(chain_id).map_or_else(|| format!("chain {chain_id}"), |c| c.name.clone()),
            chain_id,
            token,
        };
        entries.push(RouteEntry {
            route_id: view.route_id,
            symbol: display_symbol(view),
            status: states.join(", "),
            decimals: view.decimals,
            home: end(view.home_chain, Some(view.home_token)),
            remote: end(view.remote_chain, view.wrapped_token),
        });
    }
    Ok(entries)
}

async fn routes(State(state): State<Shared>) -> Result<Json<RoutesResponse>, Refusal> {
    Ok(Json(RoutesResponse { routes: route_entries(&state).await? }))
}

async fn route_detail(
    State(state): State<Shared>,
    UrlPath(route_id): UrlPath<String>,
) -> Result<Json<serde_json::Value>, Refusal> {
    let id: B256 =
        route_id.parse().map_err(|_| Refusal::bad(format!("'{route_id}' is not a route id (0x + 64 hex)")))?;
    let entries = route_entries(&state).await?;
    let entry =
        entries.into_iter().find(|e| e.route_id == id).ok_or_else(|| Refusal::missing(format!("no route {id}")))?;
    let conns = connect_all(&state.ctx.network).await.map_err(Refusal::unavailable)?;
    let conn_of = |chain_id: u64| conns.iter().find(|c| c.info.chain_id == chain_id);
    let mut directions = Vec::new();
    for (from, to) in [(&entry.home, &entry.remote), (&entry.remote, &entry.home)] {
        let (Some(src), Some(dst)) = (conn_of(from.chain_id), conn_of(to.chain_id)) else { continue };
        let (Some(source), Some(destination)) = (
            chain_view(src, id).await.map_err(Refusal::unavailable)?,
            chain_view(dst, id).await.map_err(Refusal::unavailable)?,
        ) else {
            continue;
        };
        let out = &source.outbound;
        let now = zb_ops::stake::chain_now(src).await.map_err(Refusal::unavailable)?;
        let capacity = u64::try_from(out.capacity).map_or(U256::from(out.capacity), U256::from);
        let level = U256::from(out.bucketLevel);
        let refilled =
            level + U256::from(now.saturating_sub(out.bucketUpdatedAt)) * capacity / U256::from(REFILL_PERIOD);
        let left = refilled.min(capacity);
        let missing = capacity - left;
        let full_in =
            if capacity.is_zero() { U256::ZERO } else { (missing * U256::from(REFILL_PERIOD)).div_ceil(capacity) };
        directions.push(serde_json::json!({
            "from": from.chain,
            "to": to.chain,
            "lane": source.route.outboundLane,
            "capacity": capacity.to_string(),
            "capacity_left": left.to_string(),
            "refill_per_second": (capacity / U256::from(REFILL_PERIOD)).to_string(),
            "full_at": now.saturating_add(u64::try_from(full_in).unwrap_or(u64::MAX)),
            "max_transfer": out.maxAmount.to_string(),
            "hold_threshold": destination.inbound.largeTransferThreshold.to_string(),
            "fee_bps": out.feeBps,
            "paused": out.paused || destination.inbound.paused || source.bridge_paused || destination.bridge_paused,
        }));
    }
    let mut body = serde_json::to_value(&entry).map_err(Refusal::internal)?;
    if let Some(object) = body.as_object_mut() {
        object.insert("directions".into(), directions.into());
        let security = route_security(&conns, &entry).await?;
        object.insert("economic_security".into(), security);
    }
    Ok(Json(body))
}

/// `economic_security` of a route's detail (crate::security).
async fn route_security(conns: &[Conn], entry: &RouteEntry) -> Result<serde_json::Value, Refusal> {
    let security = crate::security::economic_security(conns, entry).await.map_err(Refusal::unavailable)?;
    serde_json::to_value(security).map_err(Refusal::internal)
}

/// `GET /v1/validators`.
async fn validators(State(state): State<Shared>) -> Result<Json<ValidatorsResponse>, Refusal> {
    let conns = connect_all(&state.ctx.network).await.map_err(Refusal::unavailable)?;
    let window = state.live_window_secs;
    Ok(Json(crate::security::validators(&state, &conns, window).await.map_err(Refusal::unavailable)?))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    address: Option<String>,
    tx: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `block:log_index:chain_id` of the last transfer of a page.
fn parse_cursor(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split(':').map(|p| p.parse::<u64>().ok());
    let cursor = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(cursor)
}

async fn transfers(
    State(state): State<Shared>,
    Query(query): Query<ListQuery>,
) -> Result<Json<TransfersResponse>, Refusal> {
    let filter = match (&query.address, &query.tx) {
        (Some(_), Some(_)) => return Err(Refusal::bad("pass either address or tx, not both")),
        (Some(a), None) => TransferFilter::Address(
            a.parse().map_err(|_| Refusal::bad(format!("'{a}' is not an address (0x + 40 hex)")))?,
        ),
        (None, Some(t)) => TransferFilter::Tx(
            t.parse().map_err(|_| Refusal::bad(format!("'{t}' is not a transaction hash (0x + 64 hex)")))?,
        ),
        (None, None) => TransferFilter::All,
    };
    let limit = match &query.limit {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return Err(Refusal::bad(format!("limit must be a number from 1 to {MAX_LIMIT}, not '{text}'"))),
        },
    };
    let before = match &query.cursor {
        None => None,
        Some(text) => Some(parse_cursor(text).ok_or_else(|| {
            Refusal::bad(format!("'{text}' is not a cursor: pass the next_cursor of the previous page"))
        })?),
    };
    // One row more than asked tells whether another page follows.
    let mut rows = state.store.transfers(filter, before, limit + 1).await.map_err(Refusal::internal)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|r| format!("{}:{}:{}", r.sent.block, r.sent.log_index, r.sent.source_chain))
    } else {
        None
    };
    let mut transfers = Vec::with_capacity(rows.len());
    for row in &rows {
        transfers.push(render(&state, row).await?);
    }
    Ok(Json(TransfersResponse { transfers, next_cursor }))
}

async fn transfer(State(state): State<Shared>, UrlPath(hash): UrlPath<String>) -> Result<Json<Transfer>, Refusal> {
    let row = indexed_transfer(&state, &hash).await?;
    Ok(Json(render(&state, &row).await?))
}

/// The indexed transfer whose message hash is `hash` (400 when it is not one, 404 when unknown).
pub(crate) async fn indexed_transfer(state: &AppState, hash: &str) -> Result<TransferRow, Refusal> {
    let id: B256 = hash.parse().map_err(|_| Refusal::bad(format!("'{hash}' is not a message hash (0x + 64 hex)")))?;
    state
        .store
        .transfer(id)
        .await
        .map_err(Refusal::internal)?
        .ok_or_else(|| Refusal::missing(format!("no transfer with message hash {id} has been indexed")))
}

/// A stored transfer as the API shows it: refunded once its refund is claimed on the source;
/// else the stage of its latest outcome on the destination; else, still on its way, timed out
/// past its deadline (by the destination's clock), signed once a quorum's signatures cover it,
/// final once deep enough, or sent.
async fn render(state: &AppState, row: &TransferRow) -> Result<Transfer, Refusal> {
    let network = &state.ctx.network;
    let sent = &row.sent;
    let source = network.chains.iter().find(|c| c.chain_id == sent.source_chain);
    let known = state.routes.lock().map(|r| r.clone()).unwrap_or_default();
    let leg = network.routes.iter().chain(&known).find_map(|route| {
        let home = network.chain(&route.home).ok()?;
        let remote = network.chain(&route.remote).ok()?;
        [(home, remote), (remote, home)].into_iter().find_map(|(from, to)| {
            let lane = zb_protocol::lane_id(from.chain_id, from.bridge, to.chain_id, to.bridge, route.route_id);
            (lane == sent.lane).then(|| (route, to.clone()))
        })
    });
    let head = state.heads.lock().ok().and_then(|h| h.get(&sent.source_chain).copied()).unwrap_or(sent.block);
    let depth = source.map_or(0, |c| c.finality_depth);
    let destination_now =
        leg.as_ref().and_then(|(_, to)| state.clocks.lock().ok().and_then(|c| c.get(&to.chain_id).copied()));
    let deadline = (sent.deadline != NO_DEADLINE).then_some(sent.deadline);
    let probed = state.signers.lock().ok().and_then(|view| view.covering(sent.lane, sent.sequence));
    let on_the_way = OnTheWay {
        timed_out: deadline.zip(destination_now).is_some_and(|(d, now)| now > d),
        quorum: probed.is_some_and(|(_, quorum)| quorum),
        deep_enough: head.saturating_sub(sent.block) >= depth,
    };
    let stage = stage_of(row.refund.is_some(), row.outcome.as_ref().map(|o| o.stage.as_str()), on_the_way);
    let signatures = if row.refund.is_some() || row.outcome.is_some() {
        delivered_signatures(state, sent).await?
    } else {
        probed.map(|(s, _)| s)
    };
    let waiting = row.outcome.is_none() && row.refund.is_none();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let fallback_delay = leg.as_ref().and_then(|(r, _)| r.liveness).map(|l| l.fallback_delay);
    // `zerobridge claim` delivers it once the fallback delay passed (on a route without fallback
    // validators once the relayer is late: `track`'s rule); a refused, timed-out or cancelled /
    // refunded hold sent a REFUND home, which claim collects on the source.
    let refusable = matches!(stage, Stage::Failed | Stage::TimedOut | Stage::Refunded);
    let relayer_late = now > sent.sent_at.saturating_add(fallback_delay.unwrap_or(zb_ops::claim::RELAYER_GRACE_SECS));
    let claimable = (waiting && relayer_late) || (refusable && row.refund.is_none());
    let updated_at = [row.outcome.as_ref(), row.refund.as_ref()].into_iter().flatten().map(|o| o.at).max();
    Ok(Transfer {
        message_hash: sent.message_hash,
        route_id: leg.as_ref().map(|(r, _)| r.route_id),
        lane: sent.lane,
        sequence: sent.sequence,
        from_chain: source.map_or_else(|| format!("chain {}", sent.source_chain), |c| c.name.clone()),
        to_chain: leg.map_or_else(|| "unknown".to_string(), |(_, to)| to.name),
        sender: sent.sender,
        recipient: sent.recipient,
        amount: sent.amount.clone(),
        stage,
        signatures,
        source_tx: sent.source_tx,
        destination_tx: row.outcome.as_ref().map(|o| o.tx),
        refund_tx: row.refund.as_ref().map(|o| o.tx),
        deadline,
        sent_at: sent.sent_at,
        updated_at: updated_at.unwrap_or(sent.sent_at),
        claimable,
        cancellable: stage == Stage::Held,
    })
}

/// What decides the stage of a transfer not on its destination yet.
#[derive(Debug, Clone, Copy, Default)]
struct OnTheWay {
    /// Its deadline passed by the destination's clock.
    timed_out: bool,
    /// The probes verified a quorum's signatures covering it.
    quorum: bool,
    /// `finalityDepth` blocks deep on its source.
    deep_enough: bool,
}

/// The stage (docs/api.md): a claimed refund, else the destination's latest outcome, else where
/// it is on its way.
fn stage_of(refund_claimed: bool, outcome: Option<&str>, on_the_way: OnTheWay) -> Stage {
    if refund_claimed {
        return Stage::Refunded;
    }
    if let Some(outcome) = outcome {
        return Stage::parse(outcome).unwrap_or(Stage::Delivered);
    }
    if on_the_way.timed_out {
        Stage::TimedOut
    } else if on_the_way.quorum {
        Stage::Signed
    } else if on_the_way.deep_enough {
        Stage::Final
    } else {
        Stage::Sent
    }
}

/// "k of n" of a transfer that reached its destination: the signatures its delivery carried.
async fn delivered_signatures(state: &AppState, sent: &SentRow) -> Result<Option<Signatures>, Refusal> {
    let covering = state.store.delivery_covering(sent.lane, sent.sequence).await.map_err(Refusal::internal)?;
    Ok(covering.map(|c| Signatures { have: c.signatures, need: c.need, of: c.members }))
}

async fn health(State(state): State<Shared>) -> Result<Json<HealthResponse>, Refusal> {
    let mut chains = Vec::new();
    for chain in &state.ctx.network.chains {
        let indexed_block = state.store.cursor(chain.chain_id).await.map_err(Refusal::internal)?.map(|c| c.block);
        let head = state.heads.lock().ok().and_then(|h| h.get(&chain.chain_id).copied());
        chains.push(ChainHealth { name: chain.name.clone(), indexed_block, head });
    }
    Ok(Json(HealthResponse { status: "ok".into(), chains }))
}

/// The web app: a file under `dir`, or its index.html for the app's own paths.
async fn serve_static(dir: PathBuf, uri: Uri) -> Response {
    let relative = uri.path().trim_start_matches('/');
    // No way out of the directory: only plain path components.
    if relative.split('/').any(|part| part == ".." || part.contains('\\')) {
        return Refusal::bad("bad path").into_response();
    }
    let mut path = dir.join(relative);
    if relative.is_empty() || !path.is_file() {
        if relative.starts_with("v1/") {
            return Refusal::missing("no such endpoint: see docs/api.md").into_response();
        }
        path = dir.join("index.html");
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response(),
        Err(_) => Refusal::missing("not found").into_response(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_refund_then_the_destination_then_the_way_decide_the_stage() {
        let waiting = OnTheWay::default();
        let everything = OnTheWay { timed_out: true, quorum: true, deep_enough: true };
        assert_eq!(stage_of(true, Some("timed_out"), everything), Stage::Refunded);
        assert_eq!(stage_of(false, Some("timed_out"), everything), Stage::TimedOut);
        assert_eq!(stage_of(false, Some("held"), everything), Stage::Held);
        assert_eq!(stage_of(false, None, everything), Stage::TimedOut, "a late one is refused, signed or not");
        assert_eq!(stage_of(false, None, OnTheWay { timed_out: false, ..everything }), Stage::Signed);
        assert_eq!(stage_of(false, None, OnTheWay { deep_enough: true, ..waiting }), Stage::Final);
        assert_eq!(stage_of(false, None, waiting), Stage::Sent);
    }

    #[test]
    fn cursors_are_three_numbers() {
        assert_eq!(parse_cursor("12:3:31337"), Some((12, 3, 31337)));
        assert_eq!(parse_cursor("12:3"), None);
        assert_eq!(parse_cursor("12:3:1:4"), None);
        assert_eq!(parse_cursor("a:b:c"), None);
    }
}
