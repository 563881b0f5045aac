//! The relayer's per-lane source cursor (schema version 5): what a restart resumes from instead of
//! reading the lane's `MessageSent` logs and the validator-set logs from `start_block` again.
//!
//! - A **relay cursor** per lane: the next source block to read, the last consumed blocks
//!   (number, hash) that the reorg guard re-checks, and the (sequence, block) of the lowest
//!   message that may still be undelivered when it was written. The relayer's window starts at
//!   the destination's delivered sequence, which only grows: every message after it is at or
//!   after that block, so a restart reads the source from there.
//! - A **set scan** per lane and set event: the block its logs were read up to, with the
//!   validator sets found, stored by the keccak256 of their bytes (a hash names its set whatever
//!   the chain later does).

use alloy::primitives::{Address, B256, Bytes, keccak256};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::store::now_unix;
use crate::{CURSOR_RECENT_BLOCKS, RelayerStore, StoreError, codec};

/// Where relaying one lane stands on its source chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayCursor {
    pub lane: B256,
    /// The source chain's id and bridge the cursor was read from: another one is not resumed.
    pub chain_id: u64,
    pub bridge: Address,
    /// The first source block not read yet.
    pub next_block: u64,
    /// The last consumed blocks (number, hash), oldest first; the last is `next_block - 1`.
    pub recent: Vec<(u64, B256)>,
    /// The lowest sequence that may still be undelivered (the destination's delivered + 1).
    pub resume_sequence: u64,
    /// The source block of `resume_sequence` (`next_block` when it was not sent yet).
    pub resume_block: u64,
}

/// Which validator-set event a [`SetScan`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetEvent {
    /// `ValidatorSetInstalled` on the destination.
    Installed,
    /// `ValidatorSetUpdateQueued` on the source.
    Queued,
    /// `FallbackSetInstalled` on the destination.
    Fallback,
}

impl SetEvent {
    fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "installed",
            Self::Queued => "queued",
            Self::Fallback => "fallback",
        }
    }
}

/// How far a lane's set logs of one event were read, on which chain and bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetScan {
    pub lane: B256,
    pub event: SetEvent,
    pub chain_id: u64,
    pub bridge: Address,
    /// The first block not read yet.
    pub next_block: u64,
}

impl RelayerStore {
    /// Writes `lane`'s cursor and its recent blocks (the newest [`CURSOR_RECENT_BLOCKS`]) in one
    /// transaction. A cursor without a consumed block, whose last block is not `next_block - 1`,
    /// or whose resume block is past `next_block` is refused ([`StoreError::Corrupt`]).
    pub fn record_relay_cursor(&self, cursor: &RelayCursor) -> Result<(), StoreError> {
        check(cursor)?;
        let lane = cursor.lane.as_slice();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO relay_cursors (lane, chain_id, bridge, next_block, resume_sequence, resume_block, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (lane) DO UPDATE SET chain_id = excluded.chain_id, bridge = excluded.bridge,
                 next_block = excluded.next_block, resume_sequence = excluded.resume_sequence,
                 resume_block = excluded.resume_block, updated_at = excluded.updated_at",
            params![
                lane,
                codec::int(cursor.chain_id, "chain_id")?,
                cursor.bridge.as_slice(),
                codec::int(cursor.next_block, "next_block")?,
                codec::int(cursor.resume_sequence, "resume_sequence")?,
                codec::int(cursor.resume_block, "resume_block")?,
                codec::int(now_unix(), "updated_at")?,
            ],
        )?;
        tx.execute("DELETE FROM relay_cursor_blocks WHERE lane = ?1", params![lane])?;
        let keep = cursor.recent.len().saturating_sub(CURSOR_RECENT_BLOCKS);
        for (number, hash) in &cursor.recent[keep..] {
            tx.execute(
                "INSERT INTO relay_cursor_blocks (lane, number, hash) VALUES (?1, ?2, ?3)",
                params![lane, codec::int(*number, "number")?, hash.as_slice()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// `lane`'s cursor (None: never relayed, or forgotten after a deep reorg).
    pub fn relay_cursor(&self, lane: B256) -> Result<Option<RelayCursor>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT chain_id, bridge, next_block, resume_sequence, resume_block FROM relay_cursors WHERE lane = ?1",
                params![lane.as_slice()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((chain_id, bridge, next_block, resume_sequence, resume_block)) = row else {
            return Ok(None);
        };
        let mut stmt = conn.prepare("SELECT number, hash FROM relay_cursor_blocks WHERE lane = ?1 ORDER BY number")?;
        let raw = stmt
            .query_map(params![lane.as_slice()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let recent = raw
            .into_iter()
            .map(|(n, h)| {
                Ok((codec::uint(n, "relay_cursor_blocks.number")?, codec::b256(&h, "relay_cursor_blocks.hash")?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let cursor = RelayCursor {
            lane,
            chain_id: codec::uint(chain_id, "relay_cursors.chain_id")?,
            bridge: codec::address(&bridge, "relay_cursors.bridge")?,
            next_block: codec::uint(next_block, "relay_cursors.next_block")?,
            recent,
            resume_sequence: codec::uint(resume_sequence, "relay_cursors.resume_sequence")?,
            resume_block: codec::uint(resume_block, "relay_cursors.resume_block")?,
        };
        check(&cursor)?;
        Ok(Some(cursor))
    }

    /// Forgets `lane`'s cursor and its set scans (after a reorg deeper than finality undid what it
    /// names): the next start reads the lane from `start_block`. The stored sets stay: each is
    /// named by the hash of its own bytes.
    pub fn forget_relay_cursor(&self, lane: B256) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM relay_cursor_blocks WHERE lane = ?1", params![lane.as_slice()])?;
        tx.execute("DELETE FROM relay_cursors WHERE lane = ?1", params![lane.as_slice()])?;
        tx.execute("DELETE FROM relay_set_scans WHERE lane = ?1", params![lane.as_slice()])?;
        tx.commit()?;
        Ok(())
    }

    /// Records, in one transaction, the validator sets a set scan found and how far it read.
    /// Each set is stored under the keccak256 of its bytes.
    pub fn record_set_scan(&self, scan: &SetScan, sets: &[Bytes]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for bytes in sets {
            tx.execute(
                "INSERT INTO relay_validator_sets (set_hash, bytes) VALUES (?1, ?2) ON CONFLICT (set_hash) DO NOTHING",
                params![keccak256(bytes).as_slice(), bytes.as_ref()],
            )?;
        }
        tx.execute(
            "INSERT INTO relay_set_scans (lane, event, chain_id, bridge, next_block) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (lane, event) DO UPDATE SET chain_id = excluded.chain_id, bridge = excluded.bridge,
                 next_block = excluded.next_block",
            params![
                scan.lane.as_slice(),
                scan.event.as_str(),
                codec::int(scan.chain_id, "chain_id")?,
                scan.bridge.as_slice(),
                codec::int(scan.next_block, "next_block")?,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// How far `lane`'s logs of `event` were read (None: never).
    pub fn set_scan(&self, lane: B256, event: SetEvent) -> Result<Option<SetScan>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT chain_id, bridge, next_block FROM relay_set_scans WHERE lane = ?1 AND event = ?2",
                params![lane.as_slice(), event.as_str()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()?;
        row.map(|(chain_id, bridge, next_block)| {
            Ok(SetScan {
                lane,
                event,
                chain_id: codec::uint(chain_id, "relay_set_scans.chain_id")?,
                bridge: codec::address(&bridge, "relay_set_scans.bridge")?,
                next_block: codec::uint(next_block, "relay_set_scans.next_block")?,
            })
        })
        .transpose()
    }

    /// Every stored validator set (hash, bytes). A row whose hash is not that of its bytes is
    /// [`StoreError::Corrupt`].
    pub fn validator_sets(&self) -> Result<Vec<(B256, Bytes)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT set_hash, bytes FROM relay_validator_sets ORDER BY set_hash")?;
        let raw = stmt
            .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(hash, bytes)| {
                let hash = codec::b256(&hash, "relay_validator_sets.set_hash")?;
                if keccak256(&bytes) != hash {
                    return Err(StoreError::Corrupt(format!(
                        "stored validator set {hash} is not the hash of its bytes"
                    )));
                }
                Ok((hash, Bytes::from(bytes)))
            })
            .collect()
    }
}

fn check(cursor: &RelayCursor) -> Result<(), StoreError> {
    let lane = cursor.lane;
    let Some(&(last, _)) = cursor.recent.last() else {
        return Err(StoreError::Corrupt(format!("the relay cursor of lane {lane} has no consumed block")));
    };
    if last.checked_add(1) != Some(cursor.next_block) {
        return Err(StoreError::Corrupt(format!(
            "the relay cursor of lane {lane} is at block {} but its last consumed block is {last}",
            cursor.next_block
        )));
    }
    if cursor.resume_block > cursor.next_block || cursor.resume_sequence == 0 {
        return Err(StoreError::Corrupt(format!(
            "the relay cursor of lane {lane} resumes at sequence {} in block {}, which its next block {} cannot have",
            cursor.resume_sequence, cursor.resume_block, cursor.next_block
        )));
    }
    Ok(())
}
