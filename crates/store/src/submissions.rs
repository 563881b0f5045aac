//! The relayer's queue of `deliver` transactions.

use alloy::primitives::{Address, B256, Bytes};
use rusqlite::{Row, params};

use crate::{RelayerStore, StoreError, Submission, SubmissionStatus, codec};

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
    chain_id: i64,
    sender: Option<Vec<u8>>,
    raw_tx: Option<Vec<u8>>,
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
        chain_id: row.get(9)?,
        sender: row.get(10)?,
        raw_tx: row.get(11)?,
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
        chain_id: codec::uint(r.chain_id, "submissions.chain_id")?,
        sender: match r.sender {
            Some(bytes) => codec::address(&bytes, "submissions.sender")?,
            None => Address::ZERO,
        },
        raw_tx: Bytes::from(r.raw_tx.unwrap_or_default()),
    })
}

impl RelayerStore {
    /// Records a sent transaction. A `tx_hash` already recorded is refused
    /// ([`StoreError::Sqlite`], a UNIQUE constraint failure).
    pub fn record_submission(&self, submission: &Submission) -> Result<(), StoreError> {
        let s = submission;
        self.conn().execute(
            "INSERT INTO submissions (tx_hash, lane, from_sequence, to_sequence, nonce, max_fee_per_gas,
                                      max_priority_fee_per_gas, status, created_at, chain_id, sender, raw_tx)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
                codec::int(s.chain_id, "chain_id")?,
                s.sender.as_slice(),
                s.raw_tx.as_ref(),
            ],
        )?;
        Ok(())
    }

    /// The submissions on `lane` with `status`, by nonce, then creation time.
    pub fn submissions_with_status(&self, lane: B256, status: SubmissionStatus) -> Result<Vec<Submission>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT tx_hash, lane, from_sequence, to_sequence, nonce, max_fee_per_gas, max_priority_fee_per_gas,
                    status, created_at, chain_id, sender, raw_tx
             FROM submissions WHERE lane = ?1 AND status = ?2
             ORDER BY nonce, created_at, tx_hash",
        )?;
        let rows = stmt.query_map(params![lane.as_slice(), status.as_str()], raw)?;
        rows.map(|row| decode(row?)).collect()
    }

    /// One above the highest nonce of `sender`'s pending submissions on `chain_id`: a new
    /// transaction must not take a nonce the relayer still expects one of these to be mined
    /// with (a node that dropped it gets it rebroadcast). None without pending submissions.
    pub fn pending_nonce_floor(&self, chain_id: u64, sender: Address) -> Result<Option<u64>, StoreError> {
        let highest: Option<i64> = self.conn().query_row(
            "SELECT MAX(nonce) FROM submissions WHERE chain_id = ?1 AND sender = ?2 AND status = 'pending'",
            params![codec::int(chain_id, "chain_id")?, sender.as_slice()],
            |row| row.get(0),
        )?;
        highest.map(|n| Ok(codec::uint(n, "submissions.nonce")?.saturating_add(1))).transpose()
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
