//! Slashing protection: never sign two accumulators for one (lane, sequence).

use alloy::primitives::{Address, B256};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::store::now_unix;
use crate::{
    HISTORY_FORMAT, HISTORY_VERSION, ImportReport, SignDecision, SignedEntry, SigningHistory, StoreError,
    ValidatorStore, codec,
};

impl ValidatorStore {
    /// Call before signing a checkpoint, and sign only on `Ok`. Inside ONE exclusive
    /// transaction: if `(lane, sequence)` was never signed, record `accumulator` (durably, before
    /// returning) and return [`SignDecision::New`]; if it was signed with the same accumulator
    /// return [`SignDecision::AlreadySigned`]; if with a different accumulator return
    /// [`StoreError::Conflict`] and record nothing.
    pub fn check_and_record_signing(
        &self,
        lane: B256,
        sequence: u64,
        accumulator: B256,
    ) -> Result<SignDecision, StoreError> {
        let seq = codec::int(sequence, "sequence")?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let signed: Option<Vec<u8>> = tx
            .query_row(
                "SELECT accumulator FROM signing_history WHERE lane = ?1 AND sequence = ?2",
                params![lane.as_slice(), seq],
                |row| row.get(0),
            )
            .optional()?;
        match signed {
            Some(bytes) => {
                let signed = codec::b256(&bytes, "signing_history.accumulator")?;
                if signed == accumulator {
                    Ok(SignDecision::AlreadySigned)
                } else {
                    Err(StoreError::Conflict { lane, sequence, signed, requested: accumulator })
                }
            }
            None => {
                tx.execute(
                    "INSERT INTO signing_history (lane, sequence, accumulator, signed_at) VALUES (?1, ?2, ?3, ?4)",
                    params![lane.as_slice(), seq, accumulator.as_slice(), codec::int(now_unix(), "signed_at")?],
                )?;
                tx.commit()?;
                Ok(SignDecision::New)
            }
        }
    }

    /// The whole slashing-protection history, ordered by lane then sequence, labelled with
    /// `signer` (the store holds one key's history; the caller names it).
    pub fn export_history(&self, signer: Address) -> Result<SigningHistory, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT lane, sequence, accumulator, signed_at FROM signing_history ORDER BY lane, sequence")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?, row.get::<_, Vec<u8>>(2)?, row.get::<_, i64>(3)?))
        })?;
        let mut history = SigningHistory::new(signer);
        for row in rows {
            let (lane, sequence, accumulator, signed_at) = row?;
            history.entries.push(SignedEntry {
                lane: codec::b256(&lane, "signing_history.lane")?,
                sequence: codec::uint(sequence, "signing_history.sequence")?,
                accumulator: codec::b256(&accumulator, "signing_history.accumulator")?,
                signed_at: codec::uint(signed_at, "signing_history.signed_at")?,
            });
        }
        Ok(history)
    }

    /// Merges another history (e.g. from a previous machine) in one exclusive transaction.
    /// Entries identical to stored ones (same lane, sequence, accumulator) are skipped; an entry
    /// whose accumulator differs from a stored one, or from an earlier entry of the same history,
    /// rejects the whole import with [`StoreError::Conflict`] and nothing is written. A wrong
    /// `format` or `version` is [`StoreError::UnsupportedFormat`]. `signer` is not checked:
    /// importing only ever adds refusals, never permissions.
    pub fn import_history(&self, history: &SigningHistory) -> Result<ImportReport, StoreError> {
        if history.format != HISTORY_FORMAT {
            return Err(StoreError::UnsupportedFormat(format!(
                "signing history format is {:?}, expected {HISTORY_FORMAT:?}",
                history.format
            )));
        }
        if history.version != HISTORY_VERSION {
            return Err(StoreError::UnsupportedFormat(format!(
                "signing history version is {}, this build reads version {HISTORY_VERSION}",
                history.version
            )));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let mut report = ImportReport { imported: 0, skipped: 0 };
        {
            let mut select = tx.prepare("SELECT accumulator FROM signing_history WHERE lane = ?1 AND sequence = ?2")?;
            let mut insert = tx.prepare(
                "INSERT INTO signing_history (lane, sequence, accumulator, signed_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for entry in &history.entries {
                let seq = codec::int(entry.sequence, "sequence")?;
                let signed: Option<Vec<u8>> =
                    select.query_row(params![entry.lane.as_slice(), seq], |row| row.get(0)).optional()?;
                match signed {
                    Some(bytes) => {
                        let signed = codec::b256(&bytes, "signing_history.accumulator")?;
                        if signed != entry.accumulator {
                            // Dropping `tx` uncommitted rolls back every insert made so far.
                            return Err(StoreError::Conflict {
                                lane: entry.lane,
                                sequence: entry.sequence,
                                signed,
                                requested: entry.accumulator,
                            });
                        }
                        report.skipped += 1;
                    }
                    None => {
                        insert.execute(params![
                            entry.lane.as_slice(),
                            seq,
                            entry.accumulator.as_slice(),
                            codec::int(entry.signed_at, "signed_at")?,
                        ])?;
                        report.imported += 1;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(report)
    }
}
