//! Follows every chain's bridge into the index: `MessageSent` of transfers on their source chain,
//! deliveries, holds and failures on their destination. A cursor (block number and hash) per chain
//! makes restarts resume; when the cursor's block has another hash now, a reorg replaced it and
//! the rows read from the last `REORG_REWIND` blocks are dropped and read again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::B256;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use zb_contracts::bridge::ZeroBridge;
use zb_ops::network::ChainInfo;
use zb_protocol::MessageKind;

use crate::ApiError;
use crate::store::{Cursor, IndexStore, OutcomeRow, SentRow};

/// How far back a detected reorg rewinds (deeper than any finality depth the bridge is run with).
const REORG_REWIND: u64 = 64;
/// Blocks read per step, so that a long backlog commits progress as it goes.
const STEP: u64 = 2_000;

/// The latest head each chain's follower has seen, for `/v1/health` and the `final` stage.
pub type Heads = Arc<Mutex<HashMap<u64, u64>>>;

pub struct ChainIndexer {
    pub chain: ChainInfo,
    pub provider: DynProvider,
    /// The first block to read when the index is empty (the bridge's deployment block).
    pub start_block: u64,
    pub store: Arc<IndexStore>,
    pub heads: Heads,
    pub poll: Duration,
}

impl ChainIndexer {
    /// Runs until the process stops; RPC errors are logged and retried.
    pub async fn run(self) {
        loop {
            match self.step().await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(self.poll).await,
                Err(e) => {
                    tracing::warn!(chain = %self.chain.name, error = %e, "indexing failed; retrying");
                    tokio::time::sleep(self.poll).await;
                }
            }
        }
    }

    fn rpc(&self, e: impl std::fmt::Display) -> ApiError {
        ApiError::Chain(format!("chain '{}': {e}", self.chain.name))
    }

    async fn block_hash(&self, number: u64) -> Result<Option<B256>, ApiError> {
        let block =
            self.provider.get_block_by_number(BlockNumberOrTag::Number(number)).await.map_err(|e| self.rpc(e))?;
        Ok(block.map(|b| b.header.hash))
    }

    /// Reads the next range; true when more blocks are waiting.
    pub async fn step(&self) -> Result<bool, ApiError> {
        let head = self.provider.get_block_number().await.map_err(|e| self.rpc(e))?;
        if let Ok(mut heads) = self.heads.lock() {
            heads.insert(self.chain.chain_id, head);
        }
        let chain_id = self.chain.chain_id;
        let from = match self.store.cursor(chain_id).await? {
            None => self.start_block,
            Some(cursor) => {
                if self.block_hash(cursor.block).await? != Some(cursor.hash) {
                    let keep = cursor.block.saturating_sub(REORG_REWIND).max(self.start_block.saturating_sub(1));
                    let hash = self.block_hash(keep).await?.unwrap_or_default();
                    tracing::warn!(chain = %self.chain.name, block = cursor.block, rewind_to = keep, "reorg: rereading");
                    self.store.roll_back(chain_id, Cursor { block: keep, hash }).await?;
                    return Ok(true);
                }
                cursor.block + 1
            }
        };
        if from > head {
            return Ok(false);
        }
        let to = head.min(from + STEP - 1);
        let before = self.block_hash(to).await?;
        let filter = Filter::new().address(self.chain.bridge);
        let logs = zb_chain::scan_logs(&self.provider, &filter, from, to).await.map_err(|e| self.rpc(e))?;
        let after = self.block_hash(to).await?;
        let Some(hash) = before.filter(|b| Some(*b) == after) else {
            // The range changed under the scan: read it again.
            return Ok(true);
        };
        let mut sent = Vec::new();
        let mut outcomes = Vec::new();
        let mut timestamps: HashMap<u64, u64> = HashMap::new();
        for log in &logs {
            if let Some(row) = self.sent_row(log) {
                sent.push(row);
            } else if let Some((lane, sequence, stage)) = outcome_of(log) {
                let block = log.block_number.unwrap_or_default();
                let at = match log.block_timestamp.or_else(|| timestamps.get(&block).copied()) {
                    Some(at) => at,
                    None => {
                        let header = self
                            .provider
                            .get_block_by_number(BlockNumberOrTag::Number(block))
                            .await
                            .map_err(|e| self.rpc(e))?;
                        let at = header.map(|b| b.header.timestamp).unwrap_or_default();
                        timestamps.insert(block, at);
                        at
                    }
                };
                outcomes.push(OutcomeRow {
                    chain_id,
                    block,
                    log_index: log.log_index.unwrap_or_default(),
                    lane,
                    sequence,
                    stage: stage.to_string(),
                    tx: log.transaction_hash.unwrap_or_default(),
                    at,
                });
            }
        }
        self.store.commit_range(chain_id, &sent, &outcomes, Cursor { block: to, hash }).await?;
        Ok(to < head)
    }

    fn sent_row(&self, log: &Log) -> Option<SentRow> {
        let event = ZeroBridge::MessageSent::decode_log(&log.inner).ok()?;
        let message = &event.data.message;
        if MessageKind::from_u8(message.kind) != Some(MessageKind::Transfer) {
            return None;
        }
        Some(SentRow {
            message_hash: zb_protocol::message_hash(message),
            lane: event.data.lane,
            sequence: event.data.sequence,
            source_chain: self.chain.chain_id,
            block: log.block_number?,
            log_index: log.log_index.unwrap_or_default(),
            sender: message.sender,
            recipient: message.recipient,
            amount: message.amount.to_string(),
            source_tx: log.transaction_hash?,
            sent_at: message.sentAt,
            deadline: message.deadline,
        })
    }
}

/// A destination event about message (lane, sequence), as the stage it moves the transfer to.
fn outcome_of(log: &Log) -> Option<(B256, u64, &'static str)> {
    let topic = *log.topic0()?;
    macro_rules! pick {
        ($event:ident, $stage:literal) => {
            if topic == ZeroBridge::$event::SIGNATURE_HASH {
                let e = ZeroBridge::$event::decode_log(&log.inner).ok()?;
                return Some((e.data.lane, e.data.sequence, $stage));
            }
        };
    }
    pick!(MessageExecuted, "delivered");
    pick!(MessageFailed, "failed");
    pick!(TransferHeld, "held");
    pick!(HoldReleased, "released");
    pick!(HoldRefunded, "refunded");
    pick!(HoldCancelled, "refunded");
    None
}
