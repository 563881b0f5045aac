//! The API's guard, in front of every route: bearer-token authentication (health, readiness and
//! info stay open so that supervisors and relayers' discovery need no secret), a per-client
//! token-bucket rate limit (429), a concurrency limit that refuses rather than queues (503), and
//! a request timeout (503).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use zb_config::validator::ApiConfig;

/// Paths served without a token.
const OPEN_PATHS: [&str; 3] = ["/v1/health", "/v1/ready", "/v1/info"];

pub(crate) struct Guard {
    /// (name, SHA-256 of the token); empty: no authentication.
    tokens: Vec<(String, [u8; 32])>,
    in_flight: Arc<Semaphore>,
    timeout: Duration,
    rate_per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    available: f64,
    refilled_at: Instant,
}

/// Bounds the bucket map: a flood of distinct peers cannot grow it without limit.
const MAX_BUCKETS: usize = 10_000;

impl Guard {
    pub(crate) fn new(config: &ApiConfig) -> Guard {
        Guard {
            tokens: config.tokens.iter().map(|t| (t.name.clone(), t.token_sha256.0)).collect(),
            in_flight: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            timeout: Duration::from_secs(config.request_timeout_secs),
            rate_per_sec: f64::from(config.rate_limit_per_sec),
            burst: f64::from(config.rate_limit_burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The name of the token presented, compared in constant time against every configured
    /// hash (so timing says nothing about which prefix matched).
    fn authenticate(&self, presented: &[u8]) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found = None;
        for (name, hash) in &self.tokens {
            if bool::from(digest.ct_eq(hash)) {
                found = Some(name.as_str());
            }
        }
        found
    }

    /// Takes one request from `client`'s bucket; false when it is empty.
    fn admit(&self, client: &str) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        let now = Instant::now();
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(client) {
            // Drop the full (idle) buckets: they would admit a burst anyway.
            let (rate, burst) = (self.rate_per_sec, self.burst);
            buckets.retain(|_, b| b.available + now.duration_since(b.refilled_at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket { available: self.burst, refilled_at: now });
        let refill = now.duration_since(bucket.refilled_at).as_secs_f64() * self.rate_per_sec;
        bucket.available = (bucket.available + refill).min(self.burst);
        bucket.refilled_at = now;
        if bucket.available >= 1.0 {
            bucket.available -= 1.0;
            true
        } else {
            false
        }
    }
}

/// `router` behind `guard`.
pub(crate) fn guarded(router: Router, guard: Arc<Guard>) -> Router {
    router.layer(middleware::from_fn_with_state(guard, check))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = axum::Json(serde_json::json!({ "error": message }));
    if status == StatusCode::UNAUTHORIZED {
        return (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
    }
    (status, body).into_response()
}

async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let open = OPEN_PATHS.contains(&request.uri().path());
    let client = if guard.tokens.is_empty() || open {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        peer.map_or_else(|| "unknown peer".to_owned(), |ip| ip.to_string())
    } else {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match presented.and_then(|token| guard.authenticate(token.trim().as_bytes())) {
            Some(name) => name.to_owned(),
            None => {
                metrics::counter!("zb_validator_api_refused_total", "reason" => "auth").increment(1);
                let message = "this endpoint needs `Authorization: Bearer <token>` with a token listed (as its \
                               SHA-256) in the validator's [api] tokens";
                return refuse(StatusCode::UNAUTHORIZED, message);
            }
        }
    };
    if !guard.admit(&client) {
        metrics::counter!("zb_validator_api_refused_total", "reason" => "rate").increment(1);
        return refuse(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded for this client; retry shortly");
    }
    let Ok(_permit) = guard.in_flight.clone().try_acquire_owned() else {
        metrics::counter!("zb_validator_api_refused_total", "reason" => "busy").increment(1);
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "too many requests in flight; retry shortly");
    };
    match tokio::time::timeout(guard.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("zb_validator_api_refused_total", "reason" => "timeout").increment(1);
            refuse(StatusCode::SERVICE_UNAVAILABLE, "request timed out")
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::B256;
    use axum::routing::get;
    use tokio::sync::Notify;
    use zb_config::validator::ApiToken;

    use super::*;
    use crate::tests::{chain, config, state};

    const TOKEN: &str = "relayer-1-secret";

    fn api(tokens: &[(&str, &str)], rate: u32, burst: u32, concurrent: usize) -> ApiConfig {
        ApiConfig {
            tokens: tokens
                .iter()
                .map(|(name, token)| ApiToken {
                    name: (*name).into(),
                    token_sha256: B256::from(<[u8; 32]>::from(Sha256::digest(token.as_bytes()))),
                })
                .collect(),
            rate_limit_per_sec: rate,
            rate_limit_burst: burst,
            max_concurrent_requests: concurrent,
            ..ApiConfig::default()
        }
    }

    /// Serves `app` on a real local port; returns its base URL.
    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        format!("http://{addr}")
    }

    /// The validator's real router over a real store, behind a guard built from `api`.
    async fn validator(api: ApiConfig, dir: &std::path::Path) -> String {
        let lane = B256::repeat_byte(0x11);
        let cfg = config(vec![chain("ethereum", None)], vec![crate::LaneConfig { lane, source: "ethereum".into() }]);
        let state = Arc::new(state(&dir.join("v.sqlite"), &cfg));
        serve(crate::serve::api_app(state, &api)).await
    }

    async fn status(request: reqwest::RequestBuilder) -> u16 {
        request.send().await.expect("request").status().as_u16()
    }

    #[tokio::test]
    async fn unauthenticated_and_wrong_token_calls_are_refused_while_health_stays_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = validator(api(&[("relayer-1", TOKEN), ("relayer-2", "other")], 50, 200, 8), dir.path()).await;
        let http = reqwest::Client::new();
        let lanes = format!("{url}/v1/lanes");
        let checkpoint = format!("{url}/v1/lanes/{}/checkpoints/1", B256::repeat_byte(0x11));
        assert_eq!(status(http.get(&lanes)).await, 401);
        assert_eq!(status(http.get(&checkpoint)).await, 401);
        assert_eq!(status(http.get(&lanes).bearer_auth("relayer-1-secreT")).await, 401);
        assert_eq!(status(http.get(&lanes).header("Authorization", TOKEN)).await, 401, "no Bearer scheme");
        assert_eq!(status(http.get(&lanes).bearer_auth(TOKEN)).await, 200);
        assert_eq!(status(http.get(&lanes).bearer_auth("other")).await, 200);
        // Authenticated, the signing endpoint answers for itself (nothing observed yet: 404).
        assert_eq!(status(http.get(&checkpoint).bearer_auth(TOKEN)).await, 404);
        for open in ["/v1/health", "/v1/info"] {
            assert_eq!(status(http.get(format!("{url}{open}"))).await, 200, "{open}");
        }
        assert_eq!(status(http.get(format!("{url}/metrics"))).await, 401, "metrics are not public");
    }

    #[tokio::test]
    async fn a_client_over_its_rate_is_refused_with_429_and_others_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = validator(api(&[("relayer-1", TOKEN), ("relayer-2", "other")], 1, 2, 8), dir.path()).await;
        let http = reqwest::Client::new();
        let lanes = format!("{url}/v1/lanes");
        assert_eq!(status(http.get(&lanes).bearer_auth(TOKEN)).await, 200);
        assert_eq!(status(http.get(&lanes).bearer_auth(TOKEN)).await, 200);
        let mut codes = Vec::new();
        for _ in 0..3 {
            codes.push(status(http.get(&lanes).bearer_auth(TOKEN)).await);
        }
        assert!(codes.contains(&429), "a burst of 2 at 1/s must refuse some of 5 quick calls: {codes:?}");
        // The bucket is per client: relayer-2 still has its burst.
        assert_eq!(status(http.get(&lanes).bearer_auth("other")).await, 200);
    }

    #[tokio::test]
    async fn requests_beyond_the_concurrency_limit_get_503_and_slow_ones_time_out() {
        let entered = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let (e, r) = (entered.clone(), release.clone());
        let app = Router::new()
            .route(
                "/slow",
                get(move || {
                    let (e, r) = (e.clone(), r.clone());
                    async move {
                        e.notify_one();
                        r.notified().await;
                        "done"
                    }
                }),
            )
            .route("/never", get(std::future::pending::<&'static str>));
        let guard = Arc::new(Guard::new(&api(&[], 50, 200, 1)));
        let url = serve(guarded(app.clone(), guard)).await;
        let http = reqwest::Client::new();

        let first = tokio::spawn(http.get(format!("{url}/slow")).send());
        entered.notified().await;
        assert_eq!(status(http.get(format!("{url}/slow"))).await, 503, "the one slot is taken");
        release.notify_one();
        let first = first.await.expect("join").expect("first request");
        assert_eq!(first.status().as_u16(), 200);
        // The slot is free again once the first request is answered.
        let again = tokio::spawn(http.get(format!("{url}/slow")).send());
        entered.notified().await;
        release.notify_one();
        assert_eq!(again.await.expect("join").expect("again").status().as_u16(), 200);

        // A handler that never answers is cut off by the timeout.
        let mut short = Guard::new(&api(&[], 50, 200, 1));
        short.timeout = Duration::from_millis(50);
        let url = serve(guarded(app, Arc::new(short))).await;
        let response = http.get(format!("{url}/never")).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 503);
        assert!(response.text().await.expect("body").contains("timed out"));
    }
}
