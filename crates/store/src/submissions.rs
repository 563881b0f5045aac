//! The relayer's queue of `deliver` transactions.

use alloy::primitives::B256;
use rusqlite::{Row, params};

use crate::{Store, StoreError, Submission, SubmissionStatus, codec};

struct RawSubmission {
    tx_hash: Vec<u8>,
    lane: Vec<u8>,
    from_sequence: i64,
    to_sequence: i64,
    nonce: i64,
    max_fee_per_gas: String,
    max_priority_fee_per_gas: String,
    status: String,
    created_at: i64,
}

fn raw(row: &Row<'_>) -> rusqlite::Result<RawSubmission> {
    Ok(RawSubmission {
        tx_hash: row.get(0)?,
        lane: row.get(1)?,
        from_sequence: row.get(2)?,
        to_sequence: row.get(3)?,
        nonce: row.get(4)?,
        max_fee_per_gas: row.get(5)?,
        max_priority_fee_per_gas: row.get(6)?,
        status: row.get(7)?,
        created_at: row.get(8)?,
    })
}

fn decode(r: RawSubmission) -> Result<Submission, StoreError> {
    Ok(Submission {
        lane: codec::b256(&r.lane, "submissions.lane")?,
        from_sequence: codec::uint(r.from_sequence, "submissions.from_sequence")?,
        to_sequence: codec::uint(r.to_sequence, "submissions.to_sequence")?,
        nonce: codec::uint(r.nonce, "submissions.nonce")?,
        tx_hash: codec::b256(&r.tx_hash, "submissions.tx_hash")?,
        max_fee_per_gas: codec::parse_u128(&r.max_fee_per_gas, "submissions.max_fee_per_gas")?,
        max_priority_fee_per_gas: codec::parse_u128(
            &r.max_priority_fee_per_gas,
            "submissions.max_priority_fee_per_gas",
        )?,
        status: SubmissionStatus::parse(&r.status)
            .ok_or_else(|| StoreError::Corrupt(format!("submissions.status is {:?}", r.status)))?,
        created_at: codec::uint(r.created_at, "submissions.created_at")?,
    })
}

impl Store {
    /// Records a sent transaction. A `tx_hash` already recorded is refused
    /// ([`StoreError::Sqlite`], a UNIQUE constraint failure).
    pub fn record_submission(&self, submission: &Submission) -> Result<(), StoreError> {
        let s = submission;
        self.conn().execute(
            "INSERT INTO submissions (tx_hash, lane, from_sequence, to_sequence, nonce, max_fee_per_gas,
                                      max_priority_fee_per_gas, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                s.tx_hash.as_slice(),
                s.lane.as_slice(),
                codec::int(s.from_sequence, "from_sequence")?,
                codec::int(s.to_sequence, "to_sequence")?,
                codec::int(s.nonce, "nonce")?,
                codec::u128_text(s.max_fee_per_gas),
                codec::u128_text(s.max_priority_fee_per_gas),
                s.status.as_str(),
                codec::int(s.created_at, "created_at")?,
            ],
        )?;
        Ok(())
    }

    /// The submissions on `lane` with `status`, by nonce, then creation time.
    pub fn submissions_with_status(&self, lane: B256, status: SubmissionStatus) -> Result<Vec<Submission>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT tx_hash, lane, from_sequence, to_sequence, nonce, max_fee_per_gas, max_priority_fee_per_gas,
                    status, created_at
             FROM submissions WHERE lane = ?1 AND status = ?2
             ORDER BY nonce, created_at, tx_hash",
        )?;
        let rows = stmt.query_map(params![lane.as_slice(), status.as_str()], raw)?;
        rows.map(|row| decode(row?)).collect()
    }

    /// Sets the status of the submission `tx_hash`. An unknown hash is
    /// `StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows)`.
    pub fn mark_submission(&self, tx_hash: B256, status: SubmissionStatus) -> Result<(), StoreError> {
        let changed = self.conn().execute(
            "UPDATE submissions SET status = ?1 WHERE tx_hash = ?2",
            params![status.as_str(), tx_hash.as_slice()],
        )?;
        if changed == 0 {
            return Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows));
        }
        Ok(())
    }
}
