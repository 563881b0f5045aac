//! Where the API listens: plain HTTP or TLS (`[api.tls]`), behind the guard, with `/metrics`
//! there or on its own listener (`[api] metrics_listen`).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use zb_config::validator::ApiConfig;

use crate::guard::{Guard, guarded};
use crate::{State, ValidatorConfig, ValidatorError, api, tls};

type Serving = Pin<Box<dyn Future<Output = Result<(), ValidatorError>> + Send>>;

/// The API's routes behind its guard; `/metrics` among them unless it has a listener of its own.
pub(crate) fn api_app(state: Arc<State>, config: &ApiConfig) -> Router {
    let mut router = api::router(state.clone());
    if config.metrics_listen.is_none() {
        router = router.merge(api::metrics_router(state));
    }
    guarded(router, Arc::new(Guard::new(config)))
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ValidatorError> {
    TcpListener::bind(addr).await.map_err(|source| ValidatorError::Listen { addr, source })
}

/// Binds every listener (so a port in use fails the start) and returns the servers as one future.
pub(crate) async fn api(
    config: &ValidatorConfig,
    state: Arc<State>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Serving, ValidatorError> {
    let api = &config.api;
    match (api.tokens.is_empty(), api.tls.as_ref().and_then(|t| t.client_ca_file.as_ref())) {
        (true, None) => {
            tracing::warn!("[api] has no tokens: anyone who reaches {} can ask for signatures", config.listen)
        }
        (true, Some(ca)) => tracing::info!(client_ca = %ca.display(), "clients are authenticated by mutual TLS"),
        (false, _) => {}
    }
    let app = api_app(state.clone(), api).into_make_service_with_connect_info::<SocketAddr>();
    let listen = config.listen;
    let listener = bind(listen).await?;
    let served: Serving = match &api.tls {
        None => Box::pin(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(|source| ValidatorError::Listen { addr: listen, source })
        }),
        Some(tls_config) => {
            let listener = tls::TlsListener::new(listener, tls::server_config(tls_config)?)
                .map_err(|source| ValidatorError::Listen { addr: listen, source })?
                // A no-op tap: axum gives the peer address as ConnectInfo for tapped listeners.
                .tap_io(|_| {});
            tracing::info!(%listen, "API served over TLS");
            Box::pin(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                    .map_err(|source| ValidatorError::Listen { addr: listen, source })
            })
        }
    };
    let Some(metrics_addr) = api.metrics_listen else {
        return Ok(served);
    };
    let metrics_listener = bind(metrics_addr).await?;
    tracing::info!(%metrics_addr, "metrics served on their own listener");
    let metrics = api::metrics_router(state);
    Ok(Box::pin(async move {
        tokio::select! {
            served = served => served,
            metrics = axum::serve(metrics_listener, metrics) => {
                metrics.map_err(|source| ValidatorError::Listen { addr: metrics_addr, source })
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use alloy::primitives::B256;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    use zb_config::client::{ClientTls, validator_client};
    use zb_config::validator::TlsConfig;

    use super::*;
    use crate::LaneConfig;
    use crate::tests::{chain, config, state};

    /// A CA, and a certificate it issued for `names` (DNS names or IPs), as PEM files in `dir`.
    struct Pki {
        ca_params: CertificateParams,
        ca_key: KeyPair,
        ca_file: PathBuf,
    }

    impl Pki {
        fn new(dir: &Path, name: &str) -> Pki {
            let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca_key = KeyPair::generate().expect("ca key");
            let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
            let ca_file = dir.join(format!("{name}-ca.pem"));
            std::fs::write(&ca_file, ca_cert.pem()).expect("write ca");
            Pki { ca_params, ca_key, ca_file }
        }

        /// (cert_file, key_file) of a leaf certificate for `sans`.
        fn issue(&self, dir: &Path, name: &str, sans: &[&str]) -> (PathBuf, PathBuf) {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
            params.subject_alt_names = sans
                .iter()
                .map(|s| match s.parse() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName((*s).try_into().expect("dns name")),
                })
                .collect();
            let key = KeyPair::generate().expect("key");
            let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
            let cert = params.signed_by(&key, &issuer).expect("issue");
            let (cert_file, key_file) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}-key.pem")));
            std::fs::write(&cert_file, cert.pem()).expect("write cert");
            std::fs::write(&key_file, key.serialize_pem()).expect("write key");
            (cert_file, key_file)
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
    }

    async fn get(client: &reqwest::Client, url: String) -> Result<u16, String> {
        client.get(url).send().await.map(|r| r.status().as_u16()).map_err(|e| format!("{e:?}"))
    }

    #[tokio::test]
    async fn mutual_tls_admits_only_clients_of_the_consortium_ca_and_metrics_have_their_own_port() {
        let dir = tempfile::tempdir().expect("tempdir");
        let consortium = Pki::new(dir.path(), "consortium");
        let outsider = Pki::new(dir.path(), "outsider");
        let (server_cert, server_key) = consortium.issue(dir.path(), "validator", &["localhost", "127.0.0.1"]);
        let (client_cert, client_key) = consortium.issue(dir.path(), "relayer", &["relayer-1.consortium"]);
        let (rogue_cert, rogue_key) = outsider.issue(dir.path(), "rogue", &["relayer-1.consortium"]);

        let lane = B256::repeat_byte(0x11);
        let mut cfg = config(vec![chain("ethereum", None)], vec![LaneConfig { lane, source: "ethereum".into() }]);
        let (api_port, metrics_port) = (free_port(), free_port());
        cfg.listen = format!("127.0.0.1:{api_port}").parse().expect("listen");
        cfg.api.metrics_listen = Some(format!("127.0.0.1:{metrics_port}").parse().expect("metrics"));
        cfg.api.tls = Some(TlsConfig {
            cert_file: server_cert,
            key_file: server_key,
            client_ca_file: Some(consortium.ca_file.clone()),
        });
        let validator = Arc::new(state(&dir.path().join("v.sqlite"), &cfg));
        let serving = api(&cfg, validator, std::future::pending()).await.expect("serve");
        tokio::spawn(serving);

        let timeout = Duration::from_secs(5);
        let client = |cert: Option<(&PathBuf, &PathBuf)>, trust: Option<&PathBuf>| {
            let tls = ClientTls {
                ca_file: trust.cloned(),
                cert_file: cert.map(|c| c.0.clone()),
                key_file: cert.map(|c| c.1.clone()),
            };
            validator_client(None, Some(&tls), timeout).expect("client")
        };
        let health = format!("https://localhost:{api_port}/v1/health");
        let member = client(Some((&client_cert, &client_key)), Some(&consortium.ca_file));
        assert_eq!(get(&member, health.clone()).await, Ok(200), "a consortium client is served");
        assert_eq!(get(&member, format!("https://127.0.0.1:{api_port}/v1/health")).await, Ok(200), "by IP too");
        assert_eq!(get(&member, format!("https://localhost:{api_port}/metrics")).await, Ok(404), "not on the API");

        // Refused at the handshake: no certificate, another CA's, or plain HTTP.
        let anonymous = client(None, Some(&consortium.ca_file));
        assert!(get(&anonymous, health.clone()).await.is_err(), "no client certificate");
        let rogue = client(Some((&rogue_cert, &rogue_key)), Some(&consortium.ca_file));
        assert!(get(&rogue, health.clone()).await.is_err(), "a certificate from another CA");
        let plain = reqwest::Client::builder().timeout(timeout).build().expect("plain");
        assert!(get(&plain, format!("http://127.0.0.1:{api_port}/v1/health")).await.is_err(), "plain HTTP");
        // ...and the client refuses a server its CA did not issue.
        let trusting_outsider = client(Some((&client_cert, &client_key)), Some(&outsider.ca_file));
        assert!(get(&trusting_outsider, health).await.is_err(), "server certificate from an untrusted CA");

        let metrics = get(&plain, format!("http://127.0.0.1:{metrics_port}/metrics")).await;
        assert_eq!(metrics, Ok(200), "metrics on their own listener");
    }
}
