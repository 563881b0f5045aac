//! `zerobridge api`: the indexer (crate::indexer) follows every chain of the network into an
//! index (an embedded SQLite file, or a PostgreSQL database: crate::store), and an axum server answers the public REST API (docs/api.md) from it,
//! plus live reads of the routes through zb-ops. It also serves the web app's built files.

pub mod actions;
pub mod http;
pub mod indexer;
pub mod security;
pub mod signers;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use zb_ops::context::{Context, NetworkArgs};

use crate::indexer::{ChainIndexer, Clocks, Heads};
use crate::signers::{SignatureProber, Signers, lane_legs};
use crate::store::{Backend, IndexStore};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("config: {0}")]
    Config(String),
    #[error("index storage: {0}")]
    Storage(String),
    #[error("{0}")]
    Chain(String),
    #[error("cannot serve: {0}")]
    Serve(String),
}

/// `zerobridge api --config api.toml` (config/api.example.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Network file for real chains; absent: the devnet manifest.
    #[serde(default)]
    pub network: Option<PathBuf>,
    /// Where the server listens, e.g. "127.0.0.1:8080".
    pub listen: SocketAddr,
    /// The SQLite index file (created when missing). Exactly one of `database` and `database_url`.
    #[serde(default)]
    pub database: Option<PathBuf>,
    /// A PostgreSQL database for the index instead: "postgres://user[:password]@host:port/db".
    #[serde(default)]
    pub database_url: Option<String>,
    /// The web app's built files, served at `/` when the directory exists.
    #[serde(default)]
    pub static_dir: Option<PathBuf>,
    /// How often the indexer asks each chain for new blocks, in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// How often the validators' endpoints are asked for their latest checkpoints, in milliseconds.
    #[serde(default = "default_probe_ms")]
    pub probe_ms: u64,
    /// A validator is `live` when its latest verified signature is at most this many seconds old.
    #[serde(default = "default_live_window_secs")]
    pub live_window_secs: u64,
}

fn default_poll_ms() -> u64 {
    1_000
}

fn default_probe_ms() -> u64 {
    5_000
}

fn default_live_window_secs() -> u64 {
    600
}

impl ApiConfig {
    pub fn load(path: &std::path::Path) -> Result<ApiConfig, ApiError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ApiError::Config(format!("cannot read {}: {e}", path.display())))?;
        let config: ApiConfig =
            toml::from_str(&text).map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?;
        if let Err(ApiError::Config(problem)) = config.backend() {
            return Err(ApiError::Config(format!("{}: {problem}", path.display())));
        }
        Ok(config)
    }

    /// Where the index lives: `database` (SQLite) or `database_url` (PostgreSQL), never both.
    pub fn backend(&self) -> Result<Backend, ApiError> {
        match (&self.database, &self.database_url) {
            (Some(path), None) => Ok(Backend::Sqlite(path.clone())),
            (None, Some(url)) => Ok(Backend::Postgres(url.clone())),
            (Some(_), Some(_)) => Err(ApiError::Config(
                "set either database (an SQLite file) or database_url (PostgreSQL), not both".into(),
            )),
            (None, None) => Err(ApiError::Config(
                "no index: set database = \"data/api/index.sqlite\" (SQLite) or \
                 database_url = \"postgres://user@host:port/db\" (PostgreSQL)"
                    .into(),
            )),
        }
    }
}

/// What every handler reads.
pub struct AppState {
    pub ctx: Context,
    pub store: Arc<IndexStore>,
    pub heads: Heads,
    /// Every route read from the chains (actions::refresh_routes), for transfers on routes
    /// registered after the API started.
    pub routes: actions::KnownRoutes,
    pub clocks: Clocks,
    /// The validators' latest verified checkpoints (crate::signers).
    pub signers: Signers,
    pub live_window_secs: u64,
}

/// Starts one indexer per chain and serves until the process stops.
pub async fn run(
    config: ApiConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ApiError> {
    let ctx =
        Context::load(&NetworkArgs { network: config.network.clone() }).map_err(|e| ApiError::Config(e.to_string()))?;
    let store = Arc::new(IndexStore::open(&config.backend()?).await?);
    let heads: Heads = Arc::default();
    let clocks: Clocks = Arc::default();
    for chain in &ctx.network.chains {
        let provider = ctx.provider(chain).map_err(|e| ApiError::Config(e.to_string()))?;
        let start_block = ctx
            .manifest
            .as_ref()
            .and_then(|m| m.chains.iter().find(|c| c.chain.chain_id == chain.chain_id))
            .map_or(0, |c| c.start_block);
        let indexer = ChainIndexer {
            chain: chain.clone(),
            provider,
            start_block,
            store: store.clone(),
            heads: heads.clone(),
            clocks: clocks.clone(),
            poll: Duration::from_millis(config.poll_ms),
        };
        tokio::spawn(indexer.run());
    }
    let routes = actions::KnownRoutes::default();
    tokio::spawn(actions::refresh_routes(ctx.with_routes(ctx.network.routes.clone()), routes.clone()));
    let signers: Signers = Arc::default();
    spawn_prober(&ctx, &config, signers.clone(), store.clone()).await?;
    let live_window_secs = config.live_window_secs;
    let state = Arc::new(AppState { ctx, store, heads, routes, clocks, signers, live_window_secs });
    let app = http::router(state, config.static_dir.as_deref());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ApiError::Serve(format!("cannot listen on {}: {e}", config.listen)))?;
    tracing::info!(listen = %config.listen, "REST API listening");
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(|e| ApiError::Serve(e.to_string()))
}

/// Starts asking the network's validator endpoints for their signatures (none listed: nothing).
async fn spawn_prober(
    ctx: &Context,
    config: &ApiConfig,
    signers: Signers,
    store: Arc<IndexStore>,
) -> Result<(), ApiError> {
    if ctx.network.validators.is_empty() {
        return Ok(());
    }
    let mut legs = Vec::new();
    for leg in lane_legs(&ctx.network) {
        let provider = ctx.provider(&leg.source).map_err(|e| ApiError::Config(e.to_string()))?;
        legs.push((leg, provider));
    }
    let mut staking = std::collections::HashMap::new();
    for chain in &ctx.network.chains {
        // A chain that cannot be read now is probed without its set (no "signed k of n" there).
        let opened = match zb_ops::context::Conn::connect(chain).await {
            Ok(conn) => zb_ops::stake::Staking::try_open(&conn).await.ok().flatten(),
            Err(_) => None,
        };
        if let Some(opened) = opened {
            staking.insert(chain.chain_id, opened);
        }
    }
    // The network's validator client: it presents the validator token, if any.
    let http = ctx.validator_http.clone();
    let prober = SignatureProber {
        legs,
        staking,
        urls: ctx.network.validators.clone(),
        signers,
        store,
        interval: Duration::from_millis(config.probe_ms),
        http,
    };
    tokio::spawn(prober.run());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_loads() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/api.example.toml"));
        let config = ApiConfig::load(path).map_err(|e| e.to_string());
        assert_eq!(config.map(|c| c.listen.port()), Ok(8080));
    }

    fn parse(text: &str) -> Result<Backend, String> {
        let config: ApiConfig =
            toml::from_str(&format!("listen = \"127.0.0.1:1\"\n{text}")).map_err(|e| e.to_string())?;
        config.backend().map_err(|e| e.to_string())
    }

    #[test]
    fn the_index_is_either_an_sqlite_file_or_a_postgres_url() {
        assert_eq!(parse("database = \"i.sqlite\""), Ok(Backend::Sqlite("i.sqlite".into())));
        assert_eq!(parse("database_url = \"postgres://u@h:5/d\""), Ok(Backend::Postgres("postgres://u@h:5/d".into())));
        let both = parse("database = \"i.sqlite\"\ndatabase_url = \"postgres://u@h/d\"");
        assert!(both.as_ref().is_err_and(|e| e.contains("not both")), "{both:?}");
        let neither = parse("");
        assert!(neither.as_ref().is_err_and(|e| e.contains("database_url")), "{neither:?}");
    }
}
