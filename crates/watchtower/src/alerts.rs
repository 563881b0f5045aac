//! Alerts: one JSON object per line (a file or stdout) and, for each, an HTTP POST to every
//! webhook, retried with backoff in the background so that a slow receiver never delays an
//! action. The schema is in docs/watchtower.md.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::config::AlertsConfig;

pub use zb_api_types::watchtower::{Alert, Severity};

const WEBHOOK_ATTEMPTS: u32 = 5;

pub struct Alerts {
    file: Option<Mutex<std::fs::File>>,
    path: Option<PathBuf>,
    webhooks: Vec<String>,
    http: reqwest::Client,
}

impl Alerts {
    pub fn open(config: &AlertsConfig) -> std::io::Result<Alerts> {
        let path = config.file.clone().filter(|p| p.as_os_str() != "-");
        let file = match &path {
            Some(p) => Some(Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(p)?)),
            None => None,
        };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(std::io::Error::other)?;
        Ok(Alerts { file, path, webhooks: config.webhooks.clone(), http })
    }

    /// Writes the alert line (flushed before returning) and queues the webhooks.
    pub fn raise(&self, alert: Alert) {
        let line = match serde_json::to_string(&alert) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize an alert");
                return;
            }
        };
        metrics::counter!("zb_watchtower_alerts_total", "kind" => alert.kind.clone(), "severity" => format!("{:?}", alert.severity).to_lowercase())
            .increment(1);
        match &self.file {
            Some(file) => {
                let written =
                    file.lock().map_err(|_| std::io::Error::other("alert file lock poisoned")).and_then(|mut f| {
                        writeln!(f, "{line}")?;
                        f.flush()
                    });
                if let Err(e) = written {
                    tracing::error!(path = ?self.path, error = %e, "cannot write an alert");
                }
            }
            None => println!("{line}"),
        }
        tracing::warn!(kind = &*alert.kind, severity = ?alert.severity, message = %alert.message, "alert");
        for url in &self.webhooks {
            let (http, url, body) = (self.http.clone(), url.clone(), line.clone());
            tokio::spawn(async move { post_with_retry(&http, &url, body).await });
        }
    }
}

async fn post_with_retry(http: &reqwest::Client, url: &str, body: String) {
    let mut wait = Duration::from_millis(500);
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        let sent = http.post(url).header("content-type", "application/json").body(body.clone()).send().await;
        match sent {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => {
                tracing::warn!(%url, attempt, status = %response.status(), "webhook refused an alert")
            }
            Err(e) => tracing::warn!(%url, attempt, error = %e, "webhook unreachable"),
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    metrics::counter!("zb_watchtower_webhook_failures_total").increment(1);
    tracing::error!(%url, "alert not delivered to the webhook after {WEBHOOK_ATTEMPTS} attempts");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::StatusCode;
    use axum::routing::post;
    use serde_json::Value;

    use super::*;

    #[tokio::test]
    async fn alerts_are_json_lines_and_webhooks_are_retried_until_accepted() {
        // A receiver that refuses the first POST and accepts the second.
        let seen = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::<String>::new()));
        let (count, store) = (seen.clone(), bodies.clone());
        let app = axum::Router::new().route(
            "/hook",
            post(move |body: String| {
                let (count, store) = (count.clone(), store.clone());
                async move {
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    store.lock().expect("lock").push(body);
                    if n == 0 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("alerts.jsonl");
        let alerts =
            Alerts::open(&AlertsConfig { file: Some(file.clone()), webhooks: vec![url] }).expect("open alerts");
        alerts.raise(Alert {
            kind: "fraud".into(),
            severity: Severity::Critical,
            at: 1_700_000_000,
            message: "lane 0x01: forged".into(),
            details: serde_json::json!({"lane": "0x01", "sequence": 7}),
        });

        let text = std::fs::read_to_string(&file).expect("alerts file");
        let line: Value = serde_json::from_str(text.trim()).expect("one JSON line");
        assert_eq!(line["kind"], "fraud");
        assert_eq!(line["severity"], "critical");
        assert_eq!(line["at"], 1_700_000_000);
        assert_eq!(line["details"]["sequence"], 7);

        for _ in 0..50 {
            if seen.load(Ordering::SeqCst) >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(seen.load(Ordering::SeqCst), 2, "refused once, retried, accepted");
        let bodies = bodies.lock().expect("lock");
        assert_eq!(bodies[0], bodies[1], "the retry posts the same alert");
        assert_eq!(serde_json::from_str::<Value>(&bodies[1]).expect("json")["kind"], "fraud");
    }
}
