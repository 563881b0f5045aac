//! Chain reads: balances, lane state, the bridges' events and the exactly-once check.

use std::collections::BTreeMap;
use std::time::Duration;

use alloy::primitives::{Address, B256, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use eyre::{Result, WrapErr, bail, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_protocol::Accumulator;

use super::{Chain, CheckpointEvent, Devnet, Executed, IERC20, SentEvent, wait_until};

impl Devnet {
    // ---------------------------------------------------------------- chain state

    /// The bridge on `chain`, for reading.
    pub fn bridge(&self, chain: Chain) -> ZeroBridge::ZeroBridgeInstance<DynProvider> {
        ZeroBridge::new(self.bridge_address(chain), self.chain(chain).reader())
    }

    /// The demo token balance of `who` on the home chain.
    pub async fn home_balance(&self, who: Address) -> Result<U256> {
        Ok(IERC20::new(self.manifest().route.home_token, self.home().reader()).balanceOf(who).call().await?)
    }

    /// The wrapped token balance of `who` on the remote chain.
    pub async fn wrapped_balance(&self, who: Address) -> Result<U256> {
        Ok(IERC20::new(self.manifest().route.wrapped_token, self.remote().reader()).balanceOf(who).call().await?)
    }

    pub async fn wrapped_supply(&self) -> Result<U256> {
        Ok(IERC20::new(self.manifest().route.wrapped_token, self.remote().reader()).totalSupply().call().await?)
    }

    /// The route's vault on the home chain (`locked` of the home outbound lane).
    pub async fn vault_locked(&self) -> Result<U256> {
        Ok(self.bridge(Chain::Home).getLane(self.manifest().route.lane_to_remote).call().await?.locked)
    }

    /// The last sequence sent on `lane` (its source bridge).
    pub async fn sent_sequence(&self, lane: B256) -> Result<u64> {
        let source = self.direction(lane)?.source();
        Ok(self.bridge(source).getLane(lane).call().await?.sequence)
    }

    /// The last sequence delivered on `lane` (its destination bridge).
    pub async fn delivered_sequence(&self, lane: B256) -> Result<u64> {
        let destination = self.direction(lane)?.destination();
        Ok(self.bridge(destination).getLane(lane).call().await?.sequence)
    }

    /// Waits until `lane`'s destination has delivered up to `sequence`. `timeout` is a failure
    /// bound; the error carries the relayer's and validators' recent logs.
    pub async fn wait_delivered(&self, lane: B256, sequence: u64, timeout: Duration) -> Result<()> {
        let waited = wait_until(&format!("delivery of lane {lane} up to sequence {sequence}"), timeout, || async {
            Ok((self.delivered_sequence(lane).await? >= sequence).then_some(()))
        })
        .await;
        match waited {
            Ok(()) => Ok(()),
            Err(e) => {
                self.mark_failed();
                let health = self.relayer_health().await.map_or_else(|e| e.to_string(), |v| v.to_string());
                Err(e.wrap_err(format!("relayer health: {health}\n{}", self.diagnostics(12))))
            }
        }
    }

    async fn events<E: SolEvent>(&self, chain: Chain, lane: B256) -> Result<Vec<(Log, E)>> {
        let filter = Filter::new()
            .address(self.bridge_address(chain))
            .event_signature(E::SIGNATURE_HASH)
            .topic1(lane)
            .from_block(self.side(chain).start_block);
        let logs = self.chain(chain).reader().get_logs(&filter).await?;
        let mut out = Vec::with_capacity(logs.len());
        for log in logs {
            let event = E::decode_log(&log.inner).wrap_err("decoding a bridge event")?.data;
            out.push((log, event));
        }
        out.sort_by_key(|(l, _)| (l.block_number, l.log_index));
        Ok(out)
    }

    /// The `MessageSent` events of `lane` on its source chain (canonical chain only).
    pub async fn sent_events(&self, lane: B256) -> Result<Vec<SentEvent>> {
        let source = self.direction(lane)?.source();
        let mut out = Vec::new();
        for (log, event) in self.events::<ZeroBridge::MessageSent>(source, lane).await? {
            out.push(SentEvent {
                sequence: event.sequence,
                message: event.message,
                accumulator: event.accumulator,
                block_number: log.block_number.ok_or_else(|| eyre!("log without block number"))?,
                block_hash: log.block_hash.ok_or_else(|| eyre!("log without block hash"))?,
                tx_hash: log.transaction_hash.ok_or_else(|| eyre!("log without transaction hash"))?,
            });
        }
        Ok(out)
    }

    /// `accumulators[s - 1]` is the accumulator the source bridge recorded after message `s`;
    /// each one is checked against an independent recomputation.
    pub async fn source_accumulators(&self, lane: B256) -> Result<Vec<B256>> {
        let mut accumulator = Accumulator::new(lane);
        let mut out = Vec::new();
        for event in self.sent_events(lane).await? {
            let computed = accumulator.push(&event.message).map_err(|e| eyre!("source events of lane {lane}: {e}"))?;
            if computed != event.accumulator {
                bail!(
                    "lane {lane} sequence {}: the source emitted accumulator {}, recomputed {computed}",
                    event.sequence,
                    event.accumulator
                );
            }
            out.push(computed);
        }
        Ok(out)
    }

    /// The `MessageExecuted` events of `lane` on its destination.
    pub async fn executed(&self, lane: B256) -> Result<Vec<Executed>> {
        let destination = self.direction(lane)?.destination();
        let mut out = Vec::new();
        for (log, event) in self.events::<ZeroBridge::MessageExecuted>(destination, lane).await? {
            out.push(Executed {
                sequence: event.sequence,
                recipient: event.recipient,
                amount: event.amount,
                block_number: log.block_number.unwrap_or_default(),
                tx_hash: log.transaction_hash.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The `MessageFailed` events of `lane` on its destination: (sequence, reason selector).
    pub async fn failed_messages(&self, lane: B256) -> Result<Vec<(u64, FixedBytes<4>)>> {
        let destination = self.direction(lane)?.destination();
        Ok(self
            .events::<ZeroBridge::MessageFailed>(destination, lane)
            .await?
            .into_iter()
            .map(|(_, e)| (e.sequence, e.reason))
            .collect())
    }

    /// The `CheckpointDelivered` events of `lane` (one per `deliver` transaction).
    pub async fn deliveries(&self, lane: B256) -> Result<Vec<CheckpointEvent>> {
        let destination = self.direction(lane)?.destination();
        Ok(self
            .events::<ZeroBridge::CheckpointDelivered>(destination, lane)
            .await?
            .into_iter()
            .map(|(log, e)| CheckpointEvent {
                sequence: e.sequence,
                accumulator: e.accumulator,
                messages: e.messages,
                block_number: log.block_number.unwrap_or_default(),
                tx_hash: log.transaction_hash.unwrap_or_default(),
            })
            .collect())
    }

    /// Checks that sequences `1..=last` of `lane` each executed exactly once on the destination,
    /// that nothing else executed or failed, and that each execution matches its source message
    /// (recipient and net amount). Returns the executions by sequence.
    pub async fn check_exactly_once(&self, lane: B256, last: u64) -> Result<BTreeMap<u64, Executed>> {
        let mut by_sequence: BTreeMap<u64, Vec<Executed>> = BTreeMap::new();
        for e in self.executed(lane).await? {
            by_sequence.entry(e.sequence).or_default().push(e);
        }
        let failed = self.failed_messages(lane).await?;
        if !failed.is_empty() {
            bail!("lane {lane}: messages failed on the destination: {failed:?}");
        }
        let duplicates: Vec<(u64, usize)> =
            by_sequence.iter().filter(|(_, v)| v.len() > 1).map(|(s, v)| (*s, v.len())).collect();
        if !duplicates.is_empty() {
            bail!("lane {lane}: sequences executed more than once (sequence, times): {duplicates:?}");
        }
        let missing: Vec<u64> = (1..=last).filter(|s| !by_sequence.contains_key(s)).collect();
        if !missing.is_empty() {
            bail!("lane {lane}: sequences never executed: {missing:?}");
        }
        let extra: Vec<u64> = by_sequence.keys().copied().filter(|s| *s == 0 || *s > last).collect();
        if !extra.is_empty() {
            bail!("lane {lane}: unexpected sequences executed: {extra:?}");
        }
        let sent = self.sent_events(lane).await?;
        let mut out = BTreeMap::new();
        for (sequence, mut executions) in by_sequence {
            let executed = executions.remove(0);
            let source = sent
                .iter()
                .find(|m| m.sequence == sequence)
                .ok_or_else(|| eyre!("lane {lane}: sequence {sequence} executed but the source never sent it"))?;
            if executed.recipient != source.message.recipient || executed.amount != source.message.amount {
                bail!(
                    "lane {lane} sequence {sequence}: executed {} to {}, but the source sent {} to {}",
                    executed.amount,
                    executed.recipient,
                    source.message.amount,
                    source.message.recipient
                );
            }
            out.insert(sequence, executed);
        }
        Ok(out)
    }
}
