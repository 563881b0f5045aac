//! The validator's halts: persisted so that a restart never lifts one.

use alloy::primitives::B256;
use rusqlite::{OptionalExtension, params};

use crate::store::now_unix;
use crate::{ChainHalt, LaneHalt, StoreError, ValidatorStore, codec};

type RawLaneHalt = (Vec<u8>, i64, String, i64);
type RawChainHalt = (String, String, i64);

fn lane_halt((lane, sequence, reason, halted_at): RawLaneHalt) -> Result<LaneHalt, StoreError> {
    Ok(LaneHalt {
        lane: codec::b256(&lane, "lane_halts.lane")?,
        sequence: codec::uint(sequence, "lane_halts.sequence")?,
        reason,
        halted_at: codec::uint(halted_at, "lane_halts.halted_at")?,
    })
}

fn chain_halt((chain, reason, halted_at): RawChainHalt) -> Result<ChainHalt, StoreError> {
    Ok(ChainHalt { chain, reason, halted_at: codec::uint(halted_at, "chain_halts.halted_at")? })
}

impl ValidatorStore {
    /// Halts `lane` from `sequence` on (durably, before returning) and returns the halt now in
    /// force. A lane already halted keeps its halt, unless this one starts at a lower sequence.
    pub fn halt_lane(&self, lane: B256, sequence: u64, reason: &str) -> Result<LaneHalt, StoreError> {
        let seq = codec::int(sequence, "sequence")?;
        let now = codec::int(now_unix(), "halted_at")?;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO lane_halts (lane, sequence, reason, halted_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (lane) DO UPDATE SET
                 sequence = excluded.sequence, reason = excluded.reason, halted_at = excluded.halted_at
             WHERE excluded.sequence < lane_halts.sequence",
            params![lane.as_slice(), seq, reason, now],
        )?;
        let raw = conn.query_row(
            "SELECT lane, sequence, reason, halted_at FROM lane_halts WHERE lane = ?1",
            params![lane.as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        lane_halt(raw)
    }

    /// Halts the chain named `chain` and returns the halt now in force (an earlier one is kept).
    pub fn halt_chain(&self, chain: &str, reason: &str) -> Result<ChainHalt, StoreError> {
        let now = codec::int(now_unix(), "halted_at")?;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO chain_halts (chain, reason, halted_at) VALUES (?1, ?2, ?3) ON CONFLICT (chain) DO NOTHING",
            params![chain, reason, now],
        )?;
        let raw =
            conn.query_row("SELECT chain, reason, halted_at FROM chain_halts WHERE chain = ?1", params![chain], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        chain_halt(raw)
    }

    /// Every lane halt, ordered by lane.
    pub fn lane_halts(&self) -> Result<Vec<LaneHalt>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT lane, sequence, reason, halted_at FROM lane_halts ORDER BY lane")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<Vec<RawLaneHalt>, _>>()?;
        rows.into_iter().map(lane_halt).collect()
    }

    /// Every chain halt, ordered by chain name.
    pub fn chain_halts(&self) -> Result<Vec<ChainHalt>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT chain, reason, halted_at FROM chain_halts ORDER BY chain")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<RawChainHalt>, _>>()?;
        rows.into_iter().map(chain_halt).collect()
    }

    /// Removes `lane`'s halt; returns it (None: the lane was not halted).
    pub fn unhalt_lane(&self, lane: B256) -> Result<Option<LaneHalt>, StoreError> {
        let raw = self
            .conn()
            .query_row(
                "DELETE FROM lane_halts WHERE lane = ?1 RETURNING lane, sequence, reason, halted_at",
                params![lane.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        raw.map(lane_halt).transpose()
    }

    /// Removes the halt of the chain named `chain`; returns it (None: it was not halted).
    pub fn unhalt_chain(&self, chain: &str) -> Result<Option<ChainHalt>, StoreError> {
        let raw = self
            .conn()
            .query_row(
                "DELETE FROM chain_halts WHERE chain = ?1 RETURNING chain, reason, halted_at",
                params![chain],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        raw.map(chain_halt).transpose()
    }
}
