//! Delivered checkpoints and the signers whose signatures they carried: "signed k of n" of a
//! delivered transfer, and the validators' liveness from the chain.

use alloy::primitives::{Address, B256};

use super::IndexStore;
use super::sql::{Row, Statement};
use crate::ApiError;

/// A `deliver` / `deliverByFallback` seen on a destination chain (its `CheckpointDelivered`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub chain_id: u64,
    pub block: u64,
    pub log_index: u64,
    pub lane: B256,
    /// The checkpoint's sequence: the batch delivered every message up to it.
    pub sequence: u64,
    pub tx: B256,
    pub at: u64,
    /// The members whose signatures the delivery carried.
    pub signers: Vec<Address>,
    /// The fewest members of the set that reach its threshold.
    pub need: u64,
    pub members: u64,
}

/// The signatures of the delivery that carried a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Covering {
    pub signatures: u64,
    pub need: u64,
    pub members: u64,
}

/// The latest delivery carrying `signer`'s signature on `lane`, by the destination's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    pub signer: Address,
    pub chain_id: u64,
    pub lane: B256,
    pub at: u64,
}

/// The accumulator a source bridge emitted with a message (`MessageSent`, any kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccumulatorRow {
    pub chain_id: u64,
    pub block: u64,
    pub log_index: u64,
    pub lane: B256,
    pub sequence: u64,
    pub accumulator: B256,
}

pub(super) fn accumulator_statements(rows: &[AccumulatorRow]) -> Vec<Statement> {
    rows.iter()
        .map(|a| {
            Statement::new(
                "INSERT INTO accumulators (chain_id, block, log_index, lane, sequence, accumulator)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                vec![
                    a.chain_id.into(),
                    a.block.into(),
                    a.log_index.into(),
                    a.lane.into(),
                    a.sequence.into(),
                    a.accumulator.into(),
                ],
            )
        })
        .collect()
}

pub(super) fn insert_statements(deliveries: &[DeliveryRow]) -> Vec<Statement> {
    let mut statements = Vec::new();
    for d in deliveries {
        statements.push(Statement::new(
            "INSERT INTO deliveries (chain_id, block, log_index, lane, sequence, tx, at, signatures, need, members)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            vec![
                d.chain_id.into(),
                d.block.into(),
                d.log_index.into(),
                d.lane.into(),
                d.sequence.into(),
                d.tx.into(),
                d.at.into(),
                d.signers.len().into(),
                d.need.into(),
                d.members.into(),
            ],
        ));
        for signer in &d.signers {
            statements.push(Statement::new(
                "INSERT INTO delivery_signers (chain_id, block, log_index, signer, lane, at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                vec![
                    d.chain_id.into(),
                    d.block.into(),
                    d.log_index.into(),
                    (*signer).into(),
                    d.lane.into(),
                    d.at.into(),
                ],
            ));
        }
    }
    statements
}

fn covering(r: &Row) -> Result<Covering, ApiError> {
    Ok(Covering { signatures: r.u64(0)?, need: r.u64(1)?, members: r.u64(2)? })
}

impl IndexStore {
    /// The delivery that carried message `sequence` of `lane`: a batch delivers every message
    /// after the previous checkpoint up to its own, so the first checkpoint at or past it.
    pub async fn delivery_covering(&self, lane: B256, sequence: u64) -> Result<Option<Covering>, ApiError> {
        let rows = self
            .db
            .query(
                "SELECT signatures, need, members FROM deliveries WHERE lane = $1 AND sequence >= $2
                 ORDER BY sequence ASC LIMIT 1",
                &[lane.into(), sequence.into()],
            )
            .await?;
        rows.first().map(covering).transpose()
    }

    /// The accumulator the source emitted after message `sequence` of `lane`, if indexed.
    pub async fn accumulator_at(&self, lane: B256, sequence: u64) -> Result<Option<B256>, ApiError> {
        let rows = self
            .db
            .query(
                "SELECT accumulator FROM accumulators WHERE lane = $1 AND sequence = $2 ORDER BY block DESC LIMIT 1",
                &[lane.into(), sequence.into()],
            )
            .await?;
        rows.first().map(|r| r.b256(0)).transpose()
    }

    /// Each signer's latest delivered signature per lane.
    pub async fn latest_signings(&self) -> Result<Vec<Signing>, ApiError> {
        let rows = self
            .db
            .query(
                "SELECT signer, chain_id, lane, MAX(at) FROM delivery_signers GROUP BY signer, chain_id, lane
                 ORDER BY signer, chain_id, lane",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| Ok(Signing { signer: r.address(0)?, chain_id: r.u64(1)?, lane: r.b256(2)?, at: r.u64(3)? }))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{Backend, Cursor};
    use super::*;

    fn delivery(block: u64, sequence: u64, signers: &[u8], at: u64) -> DeliveryRow {
        DeliveryRow {
            chain_id: 2,
            block,
            log_index: 0,
            lane: B256::repeat_byte(0xaa),
            sequence,
            tx: B256::repeat_byte(block as u8),
            at,
            signers: signers.iter().map(|b| Address::repeat_byte(*b)).collect(),
            need: 3,
            members: 4,
        }
    }

    /// Deliveries answer the covering checkpoint and each signer's latest; a roll-back forgets
    /// those of replaced blocks. Every backend runs it on a fresh index.
    pub(crate) async fn deliveries_suite(backend: Backend) -> Result<(), ApiError> {
        let store = IndexStore::open(&backend).await?;
        let first = delivery(5, 2, &[1, 2, 3], 100);
        let second = delivery(9, 6, &[2, 3, 4], 200);
        let accumulator = |block: u64, sequence: u64| AccumulatorRow {
            chain_id: 2,
            block,
            log_index: 1,
            lane: B256::repeat_byte(0xbb),
            sequence,
            accumulator: B256::repeat_byte(sequence as u8),
        };
        let accumulators = [accumulator(5, 1), accumulator(9, 2)];
        store
            .commit_range(2, &[], &[], &[first, second], &accumulators, Cursor { block: 9, hash: B256::repeat_byte(9) })
            .await?;
        let other = B256::repeat_byte(0xbb);
        assert_eq!(store.accumulator_at(other, 2).await?, Some(B256::repeat_byte(2)));
        assert_eq!(store.accumulator_at(other, 3).await?, None);
        let lane = B256::repeat_byte(0xaa);
        let of = |s| Some(Covering { signatures: 3, need: 3, members: 4 }).filter(|_| s);
        assert_eq!(store.delivery_covering(lane, 1).await?, of(true));
        assert_eq!(store.delivery_covering(lane, 7).await?, None, "nothing delivered past 6");
        let latest = store.latest_signings().await?;
        let at_of = |byte: u8| latest.iter().find(|s| s.signer == Address::repeat_byte(byte)).map(|s| s.at);
        assert_eq!((at_of(1), at_of(2), at_of(4), at_of(5)), (Some(100), Some(200), Some(200), None));

        store.roll_back(2, Cursor { block: 6, hash: B256::repeat_byte(6) }).await?;
        let latest = store.latest_signings().await?;
        let at_of = |byte: u8| latest.iter().find(|s| s.signer == Address::repeat_byte(byte)).map(|s| s.at);
        assert_eq!((at_of(2), at_of(4)), (Some(100), None), "the replaced delivery is forgotten");
        assert_eq!(store.delivery_covering(lane, 5).await?, None);
        assert_eq!(store.accumulator_at(other, 2).await?, None, "the replaced accumulator is forgotten");
        assert_eq!(store.accumulator_at(other, 1).await?, Some(B256::repeat_byte(1)));

        // A refund claimed on the source chain stays apart from the destination's outcome.
        let sent = super::super::SentRow {
            message_hash: B256::repeat_byte(0x51),
            lane,
            sequence: 4,
            source_chain: 1,
            block: 3,
            log_index: 0,
            sender: Address::repeat_byte(0x11),
            recipient: Address::repeat_byte(0x22),
            amount: "5".into(),
            source_tx: B256::repeat_byte(0x52),
            sent_at: 100,
            deadline: 150,
        };
        let outcome = |chain_id: u64, stage: &str, at: u64| super::super::OutcomeRow {
            chain_id,
            block: at,
            log_index: 0,
            lane,
            sequence: 4,
            stage: stage.into(),
            tx: B256::repeat_byte(at as u8),
            at,
        };
        let (refused, claimed) = (outcome(2, "timed_out", 160), outcome(1, "refunded", 170));
        store
            .commit_range(1, &[sent], std::slice::from_ref(&claimed), &[], &[], Cursor { block: 170, hash: B256::ZERO })
            .await?;
        store
            .commit_range(2, &[], std::slice::from_ref(&refused), &[], &[], Cursor { block: 160, hash: B256::ZERO })
            .await?;
        let row = store.transfer(B256::repeat_byte(0x51)).await?.ok_or_else(|| ApiError::Storage("gone".into()))?;
        assert_eq!((row.outcome, row.refund), (Some(refused), Some(claimed)));
        Ok(())
    }

    #[tokio::test]
    async fn the_sqlite_index_passes_the_deliveries_suite() -> Result<(), ApiError> {
        let dir = tempfile::tempdir().map_err(|e| ApiError::Storage(e.to_string()))?;
        deliveries_suite(Backend::Sqlite(dir.path().join("index.sqlite"))).await
    }

    #[tokio::test]
    async fn the_postgres_index_passes_the_deliveries_suite() -> Result<(), ApiError> {
        let url = zb_test_utils::postgres::fresh_database("deliveries_suite")
            .await
            .map_err(|e| ApiError::Storage(e.to_string()))?;
        deliveries_suite(Backend::Postgres(url)).await
    }
}
