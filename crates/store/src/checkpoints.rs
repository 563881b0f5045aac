//! Signed checkpoints the validator serves.

use alloy::primitives::{Address, B256};
use rusqlite::{OptionalExtension, Row, params};

use crate::{SignedCheckpoint, StoreError, ValidatorStore, codec};

const COLUMNS: &str = "lane, sequence, accumulator, signer, signature";

type RawCheckpoint = (Vec<u8>, i64, Vec<u8>, Vec<u8>, Vec<u8>);

fn raw(row: &Row<'_>) -> rusqlite::Result<RawCheckpoint> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn decode((lane, sequence, accumulator, signer, signature): RawCheckpoint) -> Result<SignedCheckpoint, StoreError> {
    Ok(SignedCheckpoint {
        lane: codec::b256(&lane, "signed_checkpoints.lane")?,
        sequence: codec::uint(sequence, "signed_checkpoints.sequence")?,
        accumulator: codec::b256(&accumulator, "signed_checkpoints.accumulator")?,
        signer: codec::address(&signer, "signed_checkpoints.signer")?,
        signature: codec::signature(&signature, "signed_checkpoints.signature")?,
    })
}

impl ValidatorStore {
    /// A signer other than `signer` whose checkpoints this store holds, if any: the store then
    /// belongs to another key, and its slashing protection says nothing about `signer`'s.
    pub fn foreign_signer(&self, signer: Address) -> Result<Option<Address>, StoreError> {
        let other: Option<Vec<u8>> = self
            .conn()
            .query_row("SELECT signer FROM signed_checkpoints WHERE signer != ?1 LIMIT 1", [signer.as_slice()], |row| {
                row.get(0)
            })
            .optional()?;
        other.map(|bytes| codec::address(&bytes, "signed_checkpoints.signer")).transpose()
    }

    /// Stores a signed checkpoint, replacing any stored for the same `(lane, sequence)`. This is
    /// not slashing protection: call [`ValidatorStore::check_and_record_signing`] before signing.
    pub fn save_signed(&self, checkpoint: &SignedCheckpoint) -> Result<(), StoreError> {
        let seq = codec::int(checkpoint.sequence, "sequence")?;
        self.conn().execute(
            "INSERT INTO signed_checkpoints (lane, sequence, accumulator, signer, signature)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (lane, sequence) DO UPDATE SET
                 accumulator = excluded.accumulator, signer = excluded.signer, signature = excluded.signature",
            params![
                checkpoint.lane.as_slice(),
                seq,
                checkpoint.accumulator.as_slice(),
                checkpoint.signer.as_slice(),
                codec::signature_bytes(&checkpoint.signature).as_slice(),
            ],
        )?;
        Ok(())
    }

    pub fn signed_at(&self, lane: B256, sequence: u64) -> Result<Option<SignedCheckpoint>, StoreError> {
        let seq = codec::int(sequence, "sequence")?;
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM signed_checkpoints WHERE lane = ?1 AND sequence = ?2"),
                params![lane.as_slice(), seq],
                raw,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    /// The stored checkpoint with the highest sequence on `lane`.
    pub fn latest_signed(&self, lane: B256) -> Result<Option<SignedCheckpoint>, StoreError> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM signed_checkpoints WHERE lane = ?1 ORDER BY sequence DESC LIMIT 1"),
                params![lane.as_slice()],
                raw,
            )
            .optional()?;
        row.map(decode).transpose()
    }
}
