use std::collections::BTreeMap;

use alloy::primitives::B256;

use crate::error::ChainError;
use crate::follower::{BlockRef, Follower};

/// How many consumed blocks are remembered.
const KEEP: usize = 256;
/// How many of the newest remembered blocks `check` re-reads. A block hash commits to all its
/// ancestors, so the newest one alone already covers the rest on an honest endpoint.
const CHECK_NEWEST: usize = 8;

/// Tracks the hashes of blocks whose logs were consumed as final, and detects reorganisations
/// deeper than the finality rule (which would mean something final was undone).
#[derive(Debug, Clone, Default)]
pub struct ReorgGuard {
    blocks: BTreeMap<u64, B256>,
}

impl ReorgGuard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a block consumed as final (the last 256 are kept). A second record of the same
    /// number with another hash keeps the first: the next [`check`](Self::check) reports it.
    pub fn record(&mut self, block: BlockRef) {
        match self.blocks.get(&block.number) {
            Some(existing) if *existing != block.hash => {
                tracing::warn!(
                    number = block.number,
                    recorded = %existing,
                    new = %block.hash,
                    "block recorded twice with different hashes: a final block changed"
                );
            }
            Some(_) => {}
            None => {
                self.blocks.insert(block.number, block.hash);
                while self.blocks.len() > KEEP {
                    self.blocks.pop_first();
                }
            }
        }
    }

    /// The newest recorded block.
    pub fn newest(&self) -> Option<BlockRef> {
        self.blocks.last_key_value().map(|(n, h)| BlockRef { number: *n, hash: *h })
    }

    /// The newest `n` recorded blocks, oldest first (what a persisted cursor keeps).
    pub fn recent(&self, n: usize) -> Vec<BlockRef> {
        let skip = self.blocks.len().saturating_sub(n);
        self.blocks.iter().skip(skip).map(|(n, h)| BlockRef { number: *n, hash: *h }).collect()
    }

    /// Re-reads the hashes of the newest recorded blocks through the follower (with its quorum
    /// rule); the oldest block that changed is reported as [`ChainError::DeepReorg`].
    pub async fn check(&self, follower: &Follower) -> Result<(), ChainError> {
        let mut deepest = None;
        for (&number, &expected) in self.blocks.iter().rev().take(CHECK_NEWEST) {
            let found = follower.block_ref(number).await?.hash;
            if found != expected {
                deepest = Some(ChainError::DeepReorg { number, expected, found });
            }
        }
        match deepest {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}
