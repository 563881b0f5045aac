//! Alerts: one JSON object per line (a file or stdout) and, for each, an HTTP POST to every
//! webhook, retried with backoff in the background so that a slow receiver never delays an
//! action. The schema is in docs/watchtower.md.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::config::AlertsConfig;

/// How bad it is: `critical` alerts come with an action (pause, slash, freeze).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One alert as written: `kind` names the check (docs/watchtower.md), `details` its fields.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub kind: &'static str,
    pub severity: Severity,
    /// Unix seconds, this machine's clock.
    pub at: u64,
    pub message: String,
    pub details: Value,
}

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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(std::io::Error::other)?;
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
        metrics::counter!("zb_watchtower_alerts_total", "kind" => alert.kind, "severity" => format!("{:?}", alert.severity).to_lowercase())
            .increment(1);
        match &self.file {
            Some(file) => {
                let written = file.lock().map_err(|_| std::io::Error::other("alert file lock poisoned")).and_then(|mut f| {
                    writeln!(f, "{line}")?;
                    f.flush()
                });
                if let Err(e) = written {
                    tracing::error!(path = ?self.path, error = %e, "cannot write an alert");
                }
            }
            None => println!("{line}"),
        }
        tracing::warn!(kind = alert.kind, severity = ?alert.severity, message = %alert.message, "alert");
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
            Ok(response) => tracing::warn!(%url, attempt, status = %response.status(), "webhook refused an alert"),
            Err(e) => tracing::warn!(%url, attempt, error = %e, "webhook unreachable"),
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    metrics::counter!("zb_watchtower_webhook_failures_total").increment(1);
    tracing::error!(%url, "alert not delivered to the webhook after {WEBHOOK_ATTEMPTS} attempts");
}
