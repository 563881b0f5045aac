//! New-head following: websocket subscription first, HTTP polling as the fallback.

use std::future::IntoFuture;
use std::time::Duration;

use alloy::primitives::U64;
use alloy::providers::{Provider, ProviderBuilder, WsConnect};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::follower::{Endpoint, Follower, RPC_TIMEOUT, redact, timed};

/// After a websocket failure, poll for this long before trying the websocket again.
const WS_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
struct WsHead {
    number: U64,
}

struct HeadTask {
    chain: String,
    chain_id: u64,
    ws: Option<String>,
    endpoints: Vec<Endpoint>,
    interval: Duration,
}

impl Follower {
    /// A watch channel holding the newest head number (0 until the first head is seen). It
    /// changes whenever a new head arrives: by websocket subscription when `ws` is set, by polling
    /// every `poll_interval_ms` otherwise, or while the subscription is down (a warning is logged
    /// and the websocket is retried every 30 s). While subscribed, the HTTP endpoints are still
    /// polled at a fifth of the rate as a safety net against a silently stalled subscription.
    ///
    /// Spawns one task per call (must run inside a Tokio runtime); the task ends when every
    /// receiver is dropped. Call once and clone the receiver.
    pub fn new_heads(&self) -> watch::Receiver<u64> {
        let (tx, rx) = watch::channel(0u64);
        let config = self.config();
        let task = HeadTask {
            chain: config.name.clone(),
            chain_id: config.chain_id,
            ws: config.ws.clone(),
            endpoints: self.endpoints().to_vec(),
            interval: Duration::from_millis(config.poll_interval_ms.max(1)),
        };
        tokio::spawn(task.run(tx));
        rx
    }
}

fn publish(tx: &watch::Sender<u64>, number: u64) {
    tx.send_if_modified(|current| {
        if *current == number {
            false
        } else {
            *current = number;
            true
        }
    });
}

impl HeadTask {
    async fn run(self, tx: watch::Sender<u64>) {
        let mut next_ws_attempt = Instant::now();
        loop {
            if let Some(ws) = &self.ws
                && Instant::now() >= next_ws_attempt
            {
                match self.follow_ws(ws, &tx).await {
                    Ok(()) => return,
                    Err(error) => tracing::warn!(
                        chain = %self.chain,
                        ws = %redact(ws),
                        %error,
                        "new-head subscription unavailable; polling HTTP every {} ms and retrying the websocket in {} s",
                        self.interval.as_millis(),
                        WS_RETRY.as_secs()
                    ),
                }
                next_ws_attempt = Instant::now() + WS_RETRY;
            }
            if let Some(number) = self.poll_head().await {
                publish(&tx, number);
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = tx.closed() => return,
            }
        }
    }

    /// The latest block number from the first endpoint that answers.
    async fn poll_head(&self) -> Option<u64> {
        let mut failures = Vec::new();
        for endpoint in &self.endpoints {
            match timed("eth_blockNumber", &endpoint.label, endpoint.provider.get_block_number()).await {
                Ok(number) => return Some(number),
                Err(e) => failures.push(e.to_string()),
            }
        }
        tracing::warn!(chain = %self.chain, errors = %failures.join("; "), "no endpoint answered eth_blockNumber");
        None
    }

    /// Follows the subscription until it fails (Err) or every receiver is gone (Ok).
    async fn follow_ws(&self, url: &str, tx: &watch::Sender<u64>) -> Result<(), String> {
        let connect = WsConnect::new(url).with_max_retries(3).with_retry_interval(Duration::from_secs(1));
        let provider = match tokio::time::timeout(RPC_TIMEOUT, ProviderBuilder::new().connect_ws(connect)).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return Err(format!("cannot connect: {e}")),
            Err(_) => return Err(format!("no connection within {} s", RPC_TIMEOUT.as_secs())),
        };
        let label = redact(url);
        let id = timed("eth_chainId", &label, provider.get_chain_id()).await.map_err(|e| e.to_string())?;
        if id != self.chain_id {
            return Err(format!("the websocket serves chain id {id}, not {}; fix `ws` in the config", self.chain_id));
        }
        let mut sub =
            match tokio::time::timeout(RPC_TIMEOUT, provider.subscribe::<_, WsHead>(("newHeads",)).into_future()).await
            {
                Ok(Ok(sub)) => sub,
                Ok(Err(e)) => return Err(format!("eth_subscribe newHeads failed: {e}")),
                Err(_) => return Err("eth_subscribe newHeads timed out".to_string()),
            };
        tracing::info!(chain = %self.chain, ws = %label, "following new heads over websocket");
        if let Some(number) = self.poll_head().await {
            publish(tx, number);
        }

        let safety = (self.interval * 5).max(Duration::from_secs(1));
        let mut safety_tick = tokio::time::interval_at(Instant::now() + safety, safety);
        safety_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_ws_head = Instant::now();
        loop {
            tokio::select! {
                item = sub.recv() => match item {
                    Ok(head) => {
                        last_ws_head = Instant::now();
                        publish(tx, head.number.to::<u64>());
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return Err("the subscription closed".to_string()),
                },
                _ = safety_tick.tick() => {
                    if let Some(number) = self.poll_head().await
                        && number > *tx.borrow()
                    {
                        publish(tx, number);
                        if last_ws_head.elapsed() > safety * 2 {
                            return Err(format!(
                                "no head over the websocket for {} s while HTTP moved on to block {number}",
                                last_ws_head.elapsed().as_secs()
                            ));
                        }
                    }
                }
                _ = tx.closed() => return Ok(()),
            }
        }
    }
}
