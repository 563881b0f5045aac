//! Follows every chain's bridge into the index: `MessageSent` of transfers on their source chain,
//! deliveries, holds and failures on their destination. A cursor (block number and hash) per chain
//! makes restarts resume; when the cursor's block has another hash now, a reorg replaced it and
//! the rows read from the last `REORG_REWIND` blocks are dropped and read again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::consensus::Transaction;
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::{SolCall, SolError, SolEvent};
use zb_contracts::bridge::ZeroBridge;
use zb_ops::network::ChainInfo;
use zb_protocol::{MessageKind, PackedSignature, ValidatorSet};

use crate::ApiError;
use crate::store::{AccumulatorRow, Cursor, DeliveryRow, IndexStore, OutcomeRow, SentRow};

/// How far back a detected reorg rewinds (deeper than any finality depth the bridge is run with).
const REORG_REWIND: u64 = 64;
/// Blocks read per step, so that a long backlog commits progress as it goes.
const STEP: u64 = 2_000;

/// The latest head each chain's follower has seen, for `/v1/health` and the `final` stage.
pub type Heads = Arc<Mutex<HashMap<u64, u64>>>;
/// Each chain's clock: the timestamp of the latest block its follower read (deadlines).
pub type Clocks = Arc<Mutex<HashMap<u64, u64>>>;

pub struct ChainIndexer {
    pub chain: ChainInfo,
    pub provider: DynProvider,
    /// The first block to read when the index is empty (the bridge's deployment block).
    pub start_block: u64,
    pub store: Arc<IndexStore>,
    pub heads: Heads,
    pub clocks: Clocks,
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
        let latest = self.provider.get_block_by_number(BlockNumberOrTag::Latest).await.map_err(|e| self.rpc(e))?;
        let Some(latest) = latest else { return Err(self.rpc("no latest block")) };
        let head = latest.header.number;
        if let Ok(mut heads) = self.heads.lock() {
            heads.insert(self.chain.chain_id, head);
        }
        if let Ok(mut clocks) = self.clocks.lock() {
            clocks.insert(self.chain.chain_id, latest.header.timestamp);
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
        let mut sent: Vec<SentRow> = Vec::new();
        let mut outcomes = Vec::new();
        let mut deliveries = Vec::new();
        let mut accumulators = Vec::new();
        let mut timestamps: HashMap<u64, u64> = HashMap::new();
        for log in &logs {
            // Every message's accumulator, whatever its kind: what a validator's signature is checked against.
            if let Ok(event) = ZeroBridge::MessageSent::decode_log(&log.inner) {
                accumulators.push(AccumulatorRow {
                    chain_id,
                    block: log.block_number.unwrap_or_default(),
                    log_index: log.log_index.unwrap_or_default(),
                    lane: event.data.lane,
                    sequence: event.data.sequence,
                    accumulator: event.data.accumulator,
                });
            }
            if let Some(row) = self.sent_row(log) {
                sent.push(row);
                continue;
            }
            let block = log.block_number.unwrap_or_default();
            let log_index = log.log_index.unwrap_or_default();
            let tx = log.transaction_hash.unwrap_or_default();
            if let Ok(event) = ZeroBridge::CheckpointDelivered::decode_log(&log.inner) {
                let at = self.block_time(log, &mut timestamps).await?;
                let lane = event.data.lane;
                let sequence = event.data.sequence;
                match self.delivery_signers(tx).await? {
                    Some(carried) => deliveries.push(DeliveryRow {
                        chain_id,
                        block,
                        log_index,
                        lane,
                        sequence,
                        tx,
                        at,
                        signers: carried.signers,
                        need: carried.need,
                        members: carried.members,
                    }),
                    // Through another contract (a multicall): its calldata is not ours to decode.
                    None => {
                        tracing::debug!(chain = %self.chain.name, %tx, "a delivery not sent to the bridge directly")
                    }
                }
                continue;
            }
            let found = match refund_claimed(log) {
                // A refund is claimed on the transfer's source chain, named by its message hash.
                Some((lane, message_hash)) => {
                    let known = match sent.iter().find(|s| s.message_hash == message_hash) {
                        Some(s) => Some(s.sequence),
                        None => self.store.transfer(message_hash).await?.map(|t| t.sent.sequence),
                    };
                    known.map(|sequence| (lane, sequence, "refunded"))
                }
                None => outcome_of(log),
            };
            if let Some((lane, sequence, stage)) = found {
                let at = self.block_time(log, &mut timestamps).await?;
                outcomes.push(OutcomeRow {
                    chain_id,
                    block,
                    log_index,
                    lane,
                    sequence,
                    stage: stage.to_string(),
                    tx,
                    at,
                });
            }
        }
        self.store
            .commit_range(chain_id, &sent, &outcomes, &deliveries, &accumulators, Cursor { block: to, hash })
            .await?;
        Ok(to < head)
    }

    /// The log's block timestamp (from the log, or its block, read once per block).
    async fn block_time(&self, log: &Log, timestamps: &mut HashMap<u64, u64>) -> Result<u64, ApiError> {
        let block = log.block_number.unwrap_or_default();
        if let Some(at) = log.block_timestamp.or_else(|| timestamps.get(&block).copied()) {
            return Ok(at);
        }
        let header =
            self.provider.get_block_by_number(BlockNumberOrTag::Number(block)).await.map_err(|e| self.rpc(e))?;
        let at = header.map(|b| b.header.timestamp).unwrap_or_default();
        timestamps.insert(block, at);
        Ok(at)
    }

    /// The signers a delivery transaction carried, decoded from its `deliver` or
    /// `deliverByFallback` calldata (the set it names and the member index of each signature).
    async fn delivery_signers(&self, tx: B256) -> Result<Option<Carried>, ApiError> {
        let Some(transaction) = self.provider.get_transaction_by_hash(tx).await.map_err(|e| self.rpc(e))? else {
            return Ok(None);
        };
        let input = transaction.inner.input();
        let (set, signatures) = if let Ok(call) = ZeroBridge::deliverCall::abi_decode(input) {
            (call.validatorSet, call.signatures)
        } else if let Ok(call) = ZeroBridge::deliverByFallbackCall::abi_decode(input) {
            (call.fallbackSet, call.signatures)
        } else {
            return Ok(None);
        };
        Ok(carried(&set, &signatures))
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

/// The signers of one delivery and the size of its set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub signers: Vec<Address>,
    pub need: u64,
    pub members: u64,
}

/// Decodes a delivery's set and packed signatures (member index ‖ 64-byte signature each).
pub fn carried(set: &[u8], signatures: &[u8]) -> Option<Carried> {
    let set = ValidatorSet::decode(set).ok()?;
    let signers = signatures
        .chunks(PackedSignature::LEN)
        .filter_map(|chunk| set.members.get(usize::from(*chunk.first()?)).map(|m| m.signer))
        .collect();
    Some(Carried { signers, need: crate::signers::quorum_size(&set), members: set.members.len() as u64 })
}

/// `RefundClaimed` on a source chain: (lane, message hash of the refunded transfer).
fn refund_claimed(log: &Log) -> Option<(B256, B256)> {
    let event = ZeroBridge::RefundClaimed::decode_log(&log.inner).ok()?;
    Some((event.data.lane, event.data.messageHash))
}

/// A destination event about message (lane, sequence), as the stage it moves the transfer to.
fn outcome_of(log: &Log) -> Option<(B256, u64, &'static str)> {
    let topic = *log.topic0()?;
    // Refused for arriving after its deadline: its own stage (refunded on the source from here).
    if topic == ZeroBridge::MessageFailed::SIGNATURE_HASH {
        let e = ZeroBridge::MessageFailed::decode_log(&log.inner).ok()?;
        let stage = if e.data.reason.0 == ZeroBridge::TransferTimedOut::SELECTOR { "timed_out" } else { "failed" };
        return Some((e.data.lane, e.data.sequence, stage));
    }
    macro_rules! pick {
        ($event:ident, $stage:literal) => {
            if topic == ZeroBridge::$event::SIGNATURE_HASH {
                let e = ZeroBridge::$event::decode_log(&log.inner).ok()?;
                return Some((e.data.lane, e.data.sequence, $stage));
            }
        };
    }
    pick!(MessageExecuted, "delivered");
    pick!(TransferHeld, "held");
    pick!(HoldReleased, "released");
    pick!(HoldRefunded, "refunded");
    pick!(HoldCancelled, "refunded");
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::local::PrivateKeySigner;
    use zb_protocol::validator_set::Member;
    use zb_protocol::{Checkpoint, sign_checkpoint};

    #[test]
    fn a_delivery_names_the_members_whose_signatures_it_carried() -> Result<(), Box<dyn std::error::Error>> {
        let keys: Vec<PrivateKeySigner> =
            (1u8..=4).map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i))).collect::<Result<_, _>>()?;
        let members = keys.iter().map(|k| Member { signer: k.address(), weight: 1000 }).collect();
        let set = ValidatorSet::new(2667, u64::MAX, members)?;
        let checkpoint = Checkpoint { lane: B256::repeat_byte(7), sequence: 3, accumulator: B256::repeat_byte(9) };
        // Members 0, 2 and 3 sign (the set sorts its members by address).
        let chosen: Vec<usize> = vec![0, 2, 3];
        let mut packed = Vec::new();
        for &index in &chosen {
            let member = &set.members[index];
            let key = keys.iter().find(|k| k.address() == member.signer).ok_or("a member's key")?;
            let signature = sign_checkpoint(key, &checkpoint, 1, Address::repeat_byte(0xbb))?;
            packed.push(PackedSignature { member_index: index as u8, signature });
        }
        let decoded = carried(&set.encode(), &PackedSignature::pack(&packed)).ok_or("decodes")?;
        let expected: Vec<Address> = chosen.iter().map(|&i| set.members[i].signer).collect();
        assert_eq!(decoded, Carried { signers: expected, need: 3, members: 4 });
        assert!(carried(b"not a set", &[]).is_none());
        Ok(())
    }
}
