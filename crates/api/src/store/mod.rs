//! The index: a cursor per chain, the transfers seen on source chains and the outcomes seen on
//! destination chains. Kept apart from the agents' stores (zb-store): it is a cache of the chains
//! and may be deleted at any time; the indexer rebuilds it.
//!
//! Two backends answer the same statements (store::sql): an embedded SQLite file by default, or a
//! PostgreSQL server. Each query below is written once, against `Database::query` and
//! `Database::write_atomically`; a new table is one more entry in `sql::MIGRATIONS`.

mod deliveries;
mod postgres;
mod sql;
mod sqlite;

use std::path::PathBuf;

use alloy::primitives::{Address, B256};

use crate::ApiError;
use postgres::PostgresDb;
use sql::{Row, Statement, Value};
use sqlite::SqliteDb;

pub use deliveries::{AccumulatorRow, Covering, DeliveryRow, Signing};

/// Where the index lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file, created when missing.
    Sqlite(PathBuf),
    /// A database on a PostgreSQL server: postgres://user[:password]@host:port/database.
    Postgres(String),
}

/// A chain position: the block the indexer has fully read and its hash (reorg check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub block: u64,
    pub hash: B256,
}

/// A `MessageSent` of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRow {
    pub message_hash: B256,
    pub lane: B256,
    pub sequence: u64,
    pub source_chain: u64,
    pub block: u64,
    pub log_index: u64,
    pub sender: Address,
    pub recipient: Address,
    pub amount: String,
    pub source_tx: B256,
    pub sent_at: u64,
    pub deadline: u64,
}

/// What happened to message (lane, sequence) on its destination (or, for refunds, its source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRow {
    pub chain_id: u64,
    pub block: u64,
    pub log_index: u64,
    pub lane: B256,
    pub sequence: u64,
    pub stage: String,
    pub tx: B256,
    pub at: u64,
}

/// A transfer with its latest outcome, as the API reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    pub sent: SentRow,
    /// The latest outcome on the destination chain.
    pub outcome: Option<OutcomeRow>,
    /// The refund claimed on the source chain (`RefundClaimed`), if any.
    pub refund: Option<OutcomeRow>,
}

/// Which transfers a list asks for.
#[derive(Debug, Clone, Copy)]
pub enum TransferFilter {
    /// Sent by or to this address.
    Address(Address),
    /// Sent in this source transaction.
    Tx(B256),
    All,
}

enum Database {
    Sqlite(SqliteDb),
    // Boxed: the client pair is large and there is one Database per process.
    Postgres(Box<PostgresDb>),
}

impl Database {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, ApiError> {
        match self {
            Database::Sqlite(db) => db.query(sql, params).await,
            Database::Postgres(db) => db.query(sql, params).await,
        }
    }

    async fn write_atomically(&self, statements: &[Statement]) -> Result<(), ApiError> {
        match self {
            Database::Sqlite(db) => db.write_atomically(statements).await,
            Database::Postgres(db) => db.write_atomically(statements).await,
        }
    }
}

/// The first migration a database at `version` (None: new) still has to run.
fn pending_from(version: Option<i64>, known: usize) -> Result<usize, ApiError> {
    let version = usize::try_from(version.unwrap_or(0))
        .map_err(|_| ApiError::Storage(format!("the index has a negative schema version {version:?}")))?;
    if version > known {
        return Err(ApiError::Storage(format!(
            "the index has schema version {version} but this zerobridge knows {known}: \
             it was written by a newer release (the index is a cache: delete it or point at a new one)"
        )));
    }
    Ok(version)
}

pub struct IndexStore {
    db: Database,
}

impl IndexStore {
    /// Opens (creating when missing) the index and brings its schema up to date.
    pub async fn open(backend: &Backend) -> Result<IndexStore, ApiError> {
        let db = match backend {
            Backend::Sqlite(path) => Database::Sqlite(SqliteDb::open(path)?),
            Backend::Postgres(url) => Database::Postgres(Box::new(PostgresDb::open(url).await?)),
        };
        Ok(IndexStore { db })
    }

    pub async fn cursor(&self, chain_id: u64) -> Result<Option<Cursor>, ApiError> {
        let rows = self.db.query("SELECT block, hash FROM cursors WHERE chain_id = $1", &[chain_id.into()]).await?;
        rows.first().map(|r| Ok(Cursor { block: r.u64(0)?, hash: r.b256(1)? })).transpose()
    }

    /// Stores one scanned range atomically: its rows and the cursor at its end.
    pub async fn commit_range(
        &self,
        chain_id: u64,
        sent: &[SentRow],
        outcomes: &[OutcomeRow],
        deliveries: &[DeliveryRow],
        accumulators: &[AccumulatorRow],
        cursor: Cursor,
    ) -> Result<(), ApiError> {
        let mut statements = Vec::with_capacity(sent.len() + outcomes.len() + 1);
        statements.extend(deliveries::insert_statements(deliveries));
        statements.extend(deliveries::accumulator_statements(accumulators));
        for s in sent {
            statements.push(Statement::new(
                "INSERT INTO transfers (message_hash, lane, sequence, source_chain, block, log_index,
                 sender, recipient, amount, source_tx, sent_at, deadline)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
                vec![
                    s.message_hash.into(),
                    s.lane.into(),
                    s.sequence.into(),
                    s.source_chain.into(),
                    s.block.into(),
                    s.log_index.into(),
                    s.sender.into(),
                    s.recipient.into(),
                    s.amount.as_str().into(),
                    s.source_tx.into(),
                    s.sent_at.into(),
                    s.deadline.into(),
                ],
            ));
        }
        for o in outcomes {
            statements.push(Statement::new(
                "INSERT INTO outcomes (chain_id, block, log_index, lane, sequence, stage, tx, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                vec![
                    o.chain_id.into(),
                    o.block.into(),
                    o.log_index.into(),
                    o.lane.into(),
                    o.sequence.into(),
                    o.stage.as_str().into(),
                    o.tx.into(),
                    o.at.into(),
                ],
            ));
        }
        statements.push(Statement::new(
            "INSERT INTO cursors (chain_id, block, hash) VALUES ($1, $2, $3)
             ON CONFLICT (chain_id) DO UPDATE SET block = excluded.block, hash = excluded.hash",
            vec![chain_id.into(), cursor.block.into(), cursor.hash.into()],
        ));
        self.db.write_atomically(&statements).await
    }

    /// A reorg replaced blocks after `keep`: forget what was read from them and rewind the cursor.
    pub async fn roll_back(&self, chain_id: u64, keep: Cursor) -> Result<(), ApiError> {
        let after = || vec![chain_id.into(), keep.block.into()];
        self.db
            .write_atomically(&[
                Statement::new("DELETE FROM transfers WHERE source_chain = $1 AND block > $2", after()),
                Statement::new("DELETE FROM outcomes WHERE chain_id = $1 AND block > $2", after()),
                Statement::new("DELETE FROM deliveries WHERE chain_id = $1 AND block > $2", after()),
                Statement::new("DELETE FROM delivery_signers WHERE chain_id = $1 AND block > $2", after()),
                Statement::new("DELETE FROM accumulators WHERE chain_id = $1 AND block > $2", after()),
                Statement::new(
                    "UPDATE cursors SET block = $2, hash = $3 WHERE chain_id = $1",
                    vec![chain_id.into(), keep.block.into(), keep.hash.into()],
                ),
            ])
            .await
    }

    /// Newest first; `before` is the (block, log_index, source_chain) of the last row of the previous page.
    pub async fn transfers(
        &self,
        filter: TransferFilter,
        before: Option<(u64, u64, u64)>,
        limit: usize,
    ) -> Result<Vec<TransferRow>, ApiError> {
        let (clause, value): (&str, Value) = match filter {
            TransferFilter::Address(a) => ("(sender = $1 OR recipient = $1)", a.into()),
            TransferFilter::Tx(h) => ("source_tx = $1", h.into()),
            TransferFilter::All => ("$1 = ''", "".into()),
        };
        // Without a cursor, start past the largest position (stored as i64, see `Value::from(u64)`).
        let (b, l, ch) = before.map_or((i64::MAX, i64::MAX, i64::MAX), |(b, l, c)| (b as i64, l as i64, c as i64));
        let sql = format!(
            "SELECT {SENT_COLUMNS} FROM transfers WHERE {clause}
             AND (block, log_index, source_chain) < ($2, $3, $4)
             ORDER BY block DESC, log_index DESC, source_chain DESC LIMIT $5"
        );
        let rows = self.db.query(&sql, &[value, b.into(), l.into(), ch.into(), limit.into()]).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.with_outcome(sent_row(row)?).await?);
        }
        Ok(out)
    }

    pub async fn transfer(&self, message_hash: B256) -> Result<Option<TransferRow>, ApiError> {
        let sql = format!("SELECT {SENT_COLUMNS} FROM transfers WHERE message_hash = $1");
        let rows = self.db.query(&sql, &[message_hash.into()]).await?;
        match rows.first() {
            Some(row) => Ok(Some(self.with_outcome(sent_row(row)?).await?)),
            None => Ok(None),
        }
    }

    async fn with_outcome(&self, sent: SentRow) -> Result<TransferRow, ApiError> {
        // Outcomes on the destination, and the refund claim on the source, each the latest.
        let latest = |side: &str| {
            format!(
                "SELECT chain_id, block, log_index, lane, sequence, stage, tx, at FROM outcomes
                 WHERE lane = $1 AND sequence = $2 AND chain_id {side} $3
                 ORDER BY at DESC, block DESC, log_index DESC LIMIT 1"
            )
        };
        let params = [sent.lane.into(), sent.sequence.into(), sent.source_chain.into()];
        let outcome = self.db.query(&latest("<>"), &params).await?.first().map(outcome_row).transpose()?;
        let refund = self.db.query(&latest("="), &params).await?.first().map(outcome_row).transpose()?;
        Ok(TransferRow { sent, outcome, refund })
    }
}

fn outcome_row(r: &Row) -> Result<OutcomeRow, ApiError> {
    Ok(OutcomeRow {
        chain_id: r.u64(0)?,
        block: r.u64(1)?,
        log_index: r.u64(2)?,
        lane: r.b256(3)?,
        sequence: r.u64(4)?,
        stage: r.text(5)?.to_string(),
        tx: r.b256(6)?,
        at: r.u64(7)?,
    })
}

const SENT_COLUMNS: &str = "message_hash, lane, sequence, source_chain, block, log_index, sender, recipient, amount, \
                            source_tx, sent_at, deadline";

fn sent_row(r: &Row) -> Result<SentRow, ApiError> {
    Ok(SentRow {
        message_hash: r.b256(0)?,
        lane: r.b256(1)?,
        sequence: r.u64(2)?,
        source_chain: r.u64(3)?,
        block: r.u64(4)?,
        log_index: r.u64(5)?,
        sender: r.address(6)?,
        recipient: r.address(7)?,
        amount: r.text(8)?.to_string(),
        source_tx: r.b256(9)?,
        sent_at: r.u64(10)?,
        deadline: r.u64(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(byte: u8, block: u64) -> SentRow {
        SentRow {
            message_hash: B256::repeat_byte(byte),
            lane: B256::repeat_byte(0xaa),
            sequence: u64::from(byte),
            source_chain: 1,
            block,
            log_index: 0,
            sender: Address::repeat_byte(0x11),
            recipient: Address::repeat_byte(0x22),
            amount: "5".into(),
            source_tx: B256::repeat_byte(byte.wrapping_add(0x80)),
            sent_at: 100,
            deadline: 200,
        }
    }

    /// The behaviour every backend must have; each backend's test runs it on a fresh index.
    pub(crate) async fn suite(backend: Backend) -> Result<(), ApiError> {
        let store = IndexStore::open(&backend).await?;
        assert_eq!(store.cursor(1).await?, None, "a new index has no cursor");
        let rows = [sent(1, 10), sent(2, 11), sent(3, 12)];
        let delivered = OutcomeRow {
            chain_id: 2,
            block: 7,
            log_index: 1,
            lane: B256::repeat_byte(0xaa),
            sequence: 2,
            stage: "delivered".into(),
            tx: B256::repeat_byte(0x77),
            at: 150,
        };
        store.commit_range(1, &rows, &[], &[], &[], Cursor { block: 12, hash: B256::repeat_byte(0x12) }).await?;
        store
            .commit_range(
                2,
                &[],
                std::slice::from_ref(&delivered),
                &[],
                &[],
                Cursor { block: 7, hash: B256::repeat_byte(0x07) },
            )
            .await?;
        // A range read twice (a restart before the cursor moved) stores nothing twice.
        store.commit_range(1, &rows[2..], &[], &[], &[], Cursor { block: 12, hash: B256::repeat_byte(0x12) }).await?;

        let who = TransferFilter::Address(Address::repeat_byte(0x22));
        let first = store.transfers(who, None, 2).await?;
        assert_eq!(first.iter().map(|r| r.sent.block).collect::<Vec<_>>(), vec![12, 11]);
        assert_eq!(first[0].sent, rows[2], "a row reads back as it was stored");
        assert_eq!(first[1].outcome.as_ref(), Some(&delivered), "a transfer carries its outcome");
        let last = &first[1].sent;
        let rest = store.transfers(who, Some((last.block, last.log_index, last.source_chain)), 2).await?;
        assert_eq!(rest.iter().map(|r| r.sent.block).collect::<Vec<_>>(), vec![10]);
        assert!(store.transfers(TransferFilter::Address(Address::repeat_byte(0x33)), None, 5).await?.is_empty());
        let by_tx = store.transfers(TransferFilter::Tx(rows[0].source_tx), None, 5).await?;
        assert_eq!(by_tx.iter().map(|r| r.sent.message_hash).collect::<Vec<_>>(), vec![rows[0].message_hash]);
        assert_eq!(store.transfers(TransferFilter::All, None, 10).await?.len(), 3);

        // A write is all or nothing: a failing statement leaves the earlier ones undone.
        let broken = store
            .db
            .write_atomically(&[
                Statement::new("UPDATE cursors SET block = $2 WHERE chain_id = $1", vec![1u64.into(), 99u64.into()]),
                Statement::new("INSERT INTO no_such_table (x) VALUES ($1)", vec![1u64.into()]),
            ])
            .await;
        assert!(broken.is_err(), "a statement on a missing table fails");
        assert_eq!(store.cursor(1).await?.map(|c| c.block), Some(12), "the failed write changed nothing");

        store.roll_back(1, Cursor { block: 10, hash: B256::repeat_byte(0x10) }).await?;
        assert_eq!(store.cursor(1).await?, Some(Cursor { block: 10, hash: B256::repeat_byte(0x10) }));
        assert!(store.transfer(B256::repeat_byte(3)).await?.is_none(), "the row of a replaced block is gone");
        assert!(store.transfer(B256::repeat_byte(1)).await?.is_some());
        assert_eq!(store.cursor(2).await?.map(|c| c.block), Some(7), "another chain's rows stay");
        drop(store);

        // Reopening runs no migration twice and keeps the rows.
        let again = IndexStore::open(&backend).await?;
        assert_eq!(again.cursor(1).await?.map(|c| c.block), Some(10));
        let version = again.db.query("SELECT version FROM schema_version", &[]).await?;
        assert_eq!(version.len(), 1, "one version row");
        assert_eq!(version[0].u64(0)?, sql::MIGRATIONS.len() as u64);
        Ok(())
    }

    #[tokio::test]
    async fn the_sqlite_index_passes_the_store_suite() -> Result<(), ApiError> {
        let dir = tempfile::tempdir().map_err(|e| ApiError::Storage(e.to_string()))?;
        suite(Backend::Sqlite(dir.path().join("index.sqlite"))).await
    }

    #[tokio::test]
    async fn the_postgres_index_passes_the_store_suite() -> Result<(), ApiError> {
        let url = zb_test_utils::postgres::fresh_database("store_suite")
            .await
            .map_err(|e| ApiError::Storage(format!("{e:#}")))?;
        suite(Backend::Postgres(url)).await
    }

    /// Two servers opening one new database at once: one migrates, the other finds it done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_migrations_run_once_when_two_servers_open_a_new_database() -> Result<(), ApiError> {
        let url = zb_test_utils::postgres::fresh_database("two_openers")
            .await
            .map_err(|e| ApiError::Storage(format!("{e:#}")))?;
        let backend = Backend::Postgres(url);
        let (a, b) = tokio::join!(IndexStore::open(&backend), IndexStore::open(&backend));
        let (a, _b) = (a?, b?);
        let version = a.db.query("SELECT version FROM schema_version", &[]).await?;
        assert_eq!(
            version.iter().map(|r| r.u64(0)).collect::<Result<Vec<_>, _>>()?,
            vec![sql::MIGRATIONS.len() as u64]
        );
        Ok(())
    }

    /// Ends every other session on the test database, as a server restart would, and waits until
    /// the server has closed them; returns how many it ended.
    async fn drop_connections(url: &str) -> Result<usize, ApiError> {
        let fail = |e: tokio_postgres::Error| ApiError::Storage(e.to_string());
        let (admin, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(fail)?;
        tokio::spawn(connection);
        let others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
        let ended = admin.query(&format!("SELECT pg_terminate_backend(pid) {others}"), &[]).await.map_err(fail)?;
        for _ in 0..500 {
            let left: i64 = admin.query_one(&format!("SELECT count(*) {others}"), &[]).await.map_err(fail)?.get(0);
            if left == 0 {
                return Ok(ended.len());
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Err(ApiError::Storage("the terminated sessions did not go".into()))
    }

    /// A server restart or an administrator ending sessions must not need an API restart. (Here the
    /// client has seen the close before the next call; a call that meets the close first is retried
    /// once on a new connection by the same code path.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_postgres_index_reconnects_when_the_server_drops_its_connections() -> Result<(), ApiError> {
        let url = zb_test_utils::postgres::fresh_database("reconnect")
            .await
            .map_err(|e| ApiError::Storage(format!("{e:#}")))?;
        let store = IndexStore::open(&Backend::Postgres(url.clone())).await?;
        store
            .commit_range(1, &[sent(1, 10)], &[], &[], &[], Cursor { block: 10, hash: B256::repeat_byte(0x10) })
            .await?;

        assert_eq!(drop_connections(&url).await?, 2, "the store's reader and writer were open");
        assert_eq!(store.cursor(1).await?.map(|c| c.block), Some(10), "a read after the drop");
        // Now the writer (lost in the first drop) and the new reader.
        assert!(drop_connections(&url).await? >= 1);
        store
            .commit_range(1, &[sent(2, 11)], &[], &[], &[], Cursor { block: 11, hash: B256::repeat_byte(0x11) })
            .await?;
        assert_eq!(store.transfers(TransferFilter::All, None, 10).await?.len(), 2, "the write after the drop landed");
        Ok(())
    }

    #[tokio::test]
    async fn a_bad_postgres_url_is_a_config_error_and_an_unreachable_server_a_storage_error() {
        let bad = IndexStore::open(&Backend::Postgres("postgres://u@h:notaport/db".into())).await;
        assert!(matches!(bad, Err(ApiError::Config(_))), "{:?}", bad.err());
        // Port 1 on loopback: nothing listens there.
        let down = IndexStore::open(&Backend::Postgres("postgres://u:secret@127.0.0.1:1/db".into())).await;
        let text = down.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("127.0.0.1:1/db"), "names the server: {text}");
        assert!(!text.contains("secret"), "never shows the password: {text}");
    }

    #[test]
    fn a_newer_schema_is_refused_in_plain_words() {
        assert_eq!(pending_from(None, 1).map_err(|e| e.to_string()), Ok(0));
        assert_eq!(pending_from(Some(1), 1).map_err(|e| e.to_string()), Ok(1));
        let newer = pending_from(Some(2), 1).map_err(|e| e.to_string());
        assert!(newer.as_ref().is_err_and(|e| e.contains("newer release")), "{newer:?}");
    }
}
