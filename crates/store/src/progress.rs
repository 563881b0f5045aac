//! The validator's follow progress (schema version 4), kept apart from slashing protection: what
//! a restart resumes from instead of rescanning every lane from `start_block`.
//!
//! - A **chain cursor** per followed chain (chain id and bridge): the next block to read and the
//!   last consumed blocks (number, hash), newest last, that the reorg guard re-checks.
//! - A **lane head** per lane: the block it is consumed up to (`next_block`) and its (sequence,
//!   accumulator) there. A lane followed with its chain has the cursor's `next_block`; one that
//!   stopped (halted, dropped) keeps an older one and is caught up from there when it returns.
//! - One **progress row** per message (accumulator, `sentAt`, block) and the lane's
//!   **validator-set updates**: what signing an old sequence and the fallback due check read once
//!   the validator's memory window moved past them.
//!
//! [`Store::record_follow_step`] writes a step's rows, lane heads and cursor in one transaction,
//! so a crash between steps never leaves a cursor ahead of the lane rows.

use alloy::primitives::{Address, B256};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::store::now_unix;
use crate::{StoreError, ValidatorStore, codec};

/// Where following one chain stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCursor {
    pub chain_id: u64,
    pub bridge: Address,
    /// The first block not consumed yet.
    pub next_block: u64,
    /// The last consumed blocks (number, hash), oldest first; the last is `next_block - 1`.
    pub recent: Vec<(u64, B256)>,
}

impl ChainCursor {
    /// The last consumed block (number, hash).
    pub fn last(&self) -> Option<(u64, B256)> {
        self.recent.last().copied()
    }
}

/// A lane's head: consumed up to `next_block - 1`, where its accumulator was `accumulator` after
/// `sequence` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneHead {
    pub lane: B256,
    pub chain_id: u64,
    pub bridge: Address,
    pub next_block: u64,
    pub sequence: u64,
    pub accumulator: B256,
}

/// One message of a lane as the validator recomputed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneProgress {
    pub sequence: u64,
    pub accumulator: B256,
    pub sent_at: u64,
    pub block: u64,
}

/// What one follow step of a lane adds: its new messages, set updates and head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneStep {
    pub head: LaneHead,
    /// In sequence order, each right after the previous (and after what is stored).
    pub messages: Vec<LaneProgress>,
    /// (sequence, hash of the new validator set).
    pub set_updates: Vec<(u64, B256)>,
}

/// How many consumed blocks a cursor keeps for the reorg guard.
pub const CURSOR_RECENT_BLOCKS: usize = 8;

type RawProgress = (i64, Vec<u8>, i64, i64);

fn progress((sequence, accumulator, sent_at, block): RawProgress) -> Result<LaneProgress, StoreError> {
    Ok(LaneProgress {
        sequence: codec::uint(sequence, "lane_progress.sequence")?,
        accumulator: codec::b256(&accumulator, "lane_progress.accumulator")?,
        sent_at: codec::uint(sent_at, "lane_progress.sent_at")?,
        block: codec::uint(block, "lane_progress.block")?,
    })
}

impl ValidatorStore {
    /// Writes one follow step in one transaction: every lane's new rows and head, then (when
    /// blocks were consumed) the chain's cursor. A row that differs from a stored one for the same
    /// (lane, sequence) fails the whole step ([`StoreError::Corrupt`]) and writes nothing: the
    /// chain then says something else about a final block than it did before.
    pub fn record_follow_step(&self, lanes: &[LaneStep], cursor: Option<&ChainCursor>) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for step in lanes {
            write_lane(&tx, step)?;
        }
        if let Some(cursor) = cursor {
            write_cursor(&tx, cursor)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The cursor of the chain `chain_id` whose bridge is `bridge` (None: never followed).
    pub fn chain_cursor(&self, chain_id: u64, bridge: Address) -> Result<Option<ChainCursor>, StoreError> {
        let id = codec::int(chain_id, "chain_id")?;
        let conn = self.conn();
        let next: Option<i64> = conn
            .query_row(
                "SELECT next_block FROM chain_cursors WHERE chain_id = ?1 AND bridge = ?2",
                params![id, bridge.as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(next) = next else {
            return Ok(None);
        };
        let mut stmt = conn.prepare(
            "SELECT number, hash FROM chain_cursor_blocks WHERE chain_id = ?1 AND bridge = ?2 ORDER BY number",
        )?;
        let raw = stmt
            .query_map(params![id, bridge.as_slice()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let recent = raw
            .into_iter()
            .map(|(n, h)| {
                Ok((codec::uint(n, "chain_cursor_blocks.number")?, codec::b256(&h, "chain_cursor_blocks.hash")?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let cursor =
            ChainCursor { chain_id, bridge, next_block: codec::uint(next, "chain_cursors.next_block")?, recent };
        if cursor.last().map(|(n, _)| n.checked_add(1)) != Some(Some(cursor.next_block)) {
            return Err(StoreError::Corrupt(format!(
                "the cursor of chain {chain_id} is at block {} but its last consumed block is {:?}",
                cursor.next_block,
                cursor.last()
            )));
        }
        Ok(Some(cursor))
    }

    /// `lane`'s head (None: never followed).
    pub fn lane_head(&self, lane: B256) -> Result<Option<LaneHead>, StoreError> {
        let raw = self
            .conn()
            .query_row(
                "SELECT chain_id, bridge, next_block, sequence, accumulator FROM lane_heads WHERE lane = ?1",
                params![lane.as_slice()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Vec<u8>>(4)?,
                    ))
                },
            )
            .optional()?;
        raw.map(|(chain_id, bridge, next_block, sequence, accumulator)| {
            Ok(LaneHead {
                lane,
                chain_id: codec::uint(chain_id, "lane_heads.chain_id")?,
                bridge: codec::address(&bridge, "lane_heads.bridge")?,
                next_block: codec::uint(next_block, "lane_heads.next_block")?,
                sequence: codec::uint(sequence, "lane_heads.sequence")?,
                accumulator: codec::b256(&accumulator, "lane_heads.accumulator")?,
            })
        })
        .transpose()
    }

    /// The stored message `sequence` of `lane`.
    pub fn lane_progress_at(&self, lane: B256, sequence: u64) -> Result<Option<LaneProgress>, StoreError> {
        let seq = codec::int(sequence, "sequence")?;
        let raw = self
            .conn()
            .query_row(
                "SELECT sequence, accumulator, sent_at, block FROM lane_progress WHERE lane = ?1 AND sequence = ?2",
                params![lane.as_slice(), seq],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        raw.map(progress).transpose()
    }

    /// The stored messages of `lane` with sequences in `[from, to]`, in order.
    pub fn lane_progress(&self, lane: B256, from: u64, to: u64) -> Result<Vec<LaneProgress>, StoreError> {
        let (from, to) = (codec::int(from, "sequence")?, codec::int(to, "sequence")?);
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT sequence, accumulator, sent_at, block FROM lane_progress
             WHERE lane = ?1 AND sequence BETWEEN ?2 AND ?3 ORDER BY sequence",
        )?;
        let rows = stmt
            .query_map(params![lane.as_slice(), from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<Vec<RawProgress>, _>>()?;
        rows.into_iter().map(progress).collect()
    }

    /// The highest stored sequence of `lane` sent at or before `sent_at` (0: none). `sentAt` is
    /// non-decreasing along a lane, so every lower sequence was sent by then too.
    pub fn lane_sent_by(&self, lane: B256, sent_at: u64) -> Result<u64, StoreError> {
        let at = codec::int(sent_at.min(i64::MAX as u64), "sent_at")?;
        let max: Option<i64> = self.conn().query_row(
            "SELECT max(sequence) FROM lane_progress WHERE lane = ?1 AND sent_at <= ?2",
            params![lane.as_slice(), at],
            |r| r.get(0),
        )?;
        max.map_or(Ok(0), |s| codec::uint(s, "lane_progress.sequence"))
    }

    /// `lane`'s validator-set updates (sequence, hash of the new set), in order.
    pub fn lane_set_updates(&self, lane: B256) -> Result<Vec<(u64, B256)>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT sequence, set_hash FROM lane_set_updates WHERE lane = ?1 ORDER BY sequence")?;
        let raw = stmt
            .query_map(params![lane.as_slice()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(s, h)| {
                Ok((codec::uint(s, "lane_set_updates.sequence")?, codec::b256(&h, "lane_set_updates.set_hash")?))
            })
            .collect()
    }

    /// Forgets what was followed on chain `chain_id` with bridge `bridge`: its cursor, and the
    /// heads, rows and set updates of its lanes. The next start catches every lane up from
    /// `start_block` over the chain as it is now (after a deep-reorg halt was lifted). Returns
    /// how many lanes were forgotten. Slashing protection and signed checkpoints are kept.
    pub fn forget_follow_progress(&self, chain_id: u64, bridge: Address) -> Result<usize, StoreError> {
        let id = codec::int(chain_id, "chain_id")?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let of_chain = "SELECT lane FROM lane_heads WHERE chain_id = ?1 AND bridge = ?2";
        tx.execute(&format!("DELETE FROM lane_progress WHERE lane IN ({of_chain})"), params![id, bridge.as_slice()])?;
        tx.execute(
            &format!("DELETE FROM lane_set_updates WHERE lane IN ({of_chain})"),
            params![id, bridge.as_slice()],
        )?;
        let lanes =
            tx.execute("DELETE FROM lane_heads WHERE chain_id = ?1 AND bridge = ?2", params![id, bridge.as_slice()])?;
        tx.execute(
            "DELETE FROM chain_cursor_blocks WHERE chain_id = ?1 AND bridge = ?2",
            params![id, bridge.as_slice()],
        )?;
        tx.execute("DELETE FROM chain_cursors WHERE chain_id = ?1 AND bridge = ?2", params![id, bridge.as_slice()])?;
        tx.commit()?;
        Ok(lanes)
    }
}

fn write_lane(tx: &Transaction<'_>, step: &LaneStep) -> Result<(), StoreError> {
    let lane = step.head.lane;
    let mut insert = tx.prepare_cached(
        "INSERT INTO lane_progress (lane, sequence, accumulator, sent_at, block) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (lane, sequence) DO NOTHING",
    )?;
    let mut existing =
        tx.prepare_cached("SELECT accumulator, sent_at, block FROM lane_progress WHERE lane = ?1 AND sequence = ?2")?;
    for m in &step.messages {
        let seq = codec::int(m.sequence, "sequence")?;
        let inserted = insert.execute(params![
            lane.as_slice(),
            seq,
            m.accumulator.as_slice(),
            codec::int(m.sent_at, "sent_at")?,
            codec::int(m.block, "block")?,
        ])?;
        if inserted == 0 {
            // Seen before (a lane caught up again): it must be the same message.
            let (accumulator, sent_at, block): (Vec<u8>, i64, i64) =
                existing.query_row(params![lane.as_slice(), seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let stored = progress((seq, accumulator, sent_at, block))?;
            if stored != *m {
                return Err(StoreError::Corrupt(format!(
                    "lane {lane} sequence {}: stored as {stored:?}, now read as {m:?}; a final block changed",
                    m.sequence
                )));
            }
        }
    }
    let mut set_update = tx.prepare_cached(
        "INSERT INTO lane_set_updates (lane, sequence, set_hash) VALUES (?1, ?2, ?3)
         ON CONFLICT (lane, sequence) DO UPDATE SET set_hash = excluded.set_hash",
    )?;
    for (sequence, set_hash) in &step.set_updates {
        set_update.execute(params![lane.as_slice(), codec::int(*sequence, "sequence")?, set_hash.as_slice()])?;
    }
    let head = &step.head;
    tx.prepare_cached(
        "INSERT INTO lane_heads (lane, chain_id, bridge, next_block, sequence, accumulator)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (lane) DO UPDATE SET chain_id = excluded.chain_id, bridge = excluded.bridge,
             next_block = excluded.next_block, sequence = excluded.sequence, accumulator = excluded.accumulator",
    )?
    .execute(params![
        lane.as_slice(),
        codec::int(head.chain_id, "chain_id")?,
        head.bridge.as_slice(),
        codec::int(head.next_block, "next_block")?,
        codec::int(head.sequence, "sequence")?,
        head.accumulator.as_slice(),
    ])?;
    Ok(())
}

fn write_cursor(tx: &Transaction<'_>, cursor: &ChainCursor) -> Result<(), StoreError> {
    let Some((last, last_hash)) = cursor.last() else {
        return Err(StoreError::Corrupt(format!("a cursor of chain {} without a consumed block", cursor.chain_id)));
    };
    if last.checked_add(1) != Some(cursor.next_block) {
        return Err(StoreError::Corrupt(format!(
            "a cursor of chain {} at block {} whose last consumed block is {last}",
            cursor.chain_id, cursor.next_block
        )));
    }
    let id = codec::int(cursor.chain_id, "chain_id")?;
    let bridge = cursor.bridge.as_slice();
    tx.execute(
        "INSERT INTO chain_cursors (chain_id, bridge, next_block, last_hash, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (chain_id, bridge) DO UPDATE SET next_block = excluded.next_block,
             last_hash = excluded.last_hash, updated_at = excluded.updated_at",
        params![
            id,
            bridge,
            codec::int(cursor.next_block, "next_block")?,
            last_hash.as_slice(),
            codec::int(now_unix(), "updated_at")?
        ],
    )?;
    tx.execute("DELETE FROM chain_cursor_blocks WHERE chain_id = ?1 AND bridge = ?2", params![id, bridge])?;
    let keep = cursor.recent.len().saturating_sub(CURSOR_RECENT_BLOCKS);
    for (number, hash) in &cursor.recent[keep..] {
        tx.execute(
            "INSERT INTO chain_cursor_blocks (chain_id, bridge, number, hash) VALUES (?1, ?2, ?3, ?4)",
            params![id, bridge, codec::int(*number, "number")?, hash.as_slice()],
        )?;
    }
    Ok(())
}
