//! The API over TLS (rustls, ring provider). Handshakes run in their own tasks with a deadline,
//! so a client that connects and stalls never holds up the others; finished connections are
//! handed to axum through a channel. With a client CA, the handshake itself refuses a client
//! without a certificate from it (mutual TLS).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use zb_config::validator::TlsConfig;

use crate::ValidatorError;

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections handshaken and not yet taken by the server.
const BACKLOG: usize = 64;

fn tls_error(what: &str, path: &Path, e: impl std::fmt::Display) -> ValidatorError {
    ValidatorError::Tls(format!("{what} {}: {e}", path.display()))
}

/// The server configuration for `[api.tls]`, with the ring provider named explicitly (the
/// workspace also links aws-lc-rs, so there is no single process default).
pub(crate) fn server_config(tls: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, ValidatorError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert_file)
        .map_err(|e| tls_error("cannot read cert_file", &tls.cert_file, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls_error("cert_file", &tls.cert_file, e))?;
    if certs.is_empty() {
        return Err(tls_error("cert_file", &tls.cert_file, "no CERTIFICATE in it"));
    }
    let key =
        PrivateKeyDer::from_pem_file(&tls.key_file).map_err(|e| tls_error("cannot read key_file", &tls.key_file, e))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ValidatorError::Tls(e.to_string()))?;
    let builder = match &tls.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca_file) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca_file)
                .map_err(|e| tls_error("cannot read client_ca_file", ca_file, e))?
            {
                let cert = cert.map_err(|e| tls_error("client_ca_file", ca_file, e))?;
                roots.add(cert).map_err(|e| tls_error("client_ca_file", ca_file, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_error("client_ca_file", ca_file, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(certs, key).map_err(|e| tls_error("key_file", &tls.key_file, e))?;
    Ok(Arc::new(config))
}

/// A listener whose connections are TLS streams.
pub(crate) struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub(crate) fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (sender, incoming) = mpsc::channel(BACKLOG);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if sender.is_closed() {
                    return;
                }
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            // The server stopped: nothing is waiting for connections any more.
                            let _ = sender.send((stream, peer)).await;
                        }
                        Ok(Err(e)) => {
                            metrics::counter!("zb_validator_api_refused_total", "reason" => "tls").increment(1);
                            tracing::debug!(%peer, error = %e, "TLS handshake refused");
                        }
                        Err(_) => {
                            metrics::counter!("zb_validator_api_refused_total", "reason" => "tls").increment(1);
                            tracing::debug!(%peer, "TLS handshake timed out");
                        }
                    }
                });
            }
        });
        Ok(TlsListener { incoming, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(connection) => connection,
            // The accept task ended (it never does while the server runs).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
