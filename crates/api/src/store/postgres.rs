//! The server backend: a PostgreSQL database named by `database_url`. Two connections: reads go
//! through one shared connection (tokio-postgres pipelines concurrent queries on it), writes take
//! the other one in turn, each write in its own transaction. A connection the server closed is
//! opened again on the next call.

use std::collections::HashMap;

use tokio::sync::{Mutex, RwLock, RwLockReadGuard};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

use super::sql::{Cell, MIGRATIONS, Row, Statement, VERSION_TABLE, Value};
use crate::ApiError;

/// The advisory lock held while migrating, so that two servers opening one new database at once
/// migrate it once (the second waits, then finds it up to date). Any constant works; this one
/// reads "zb index".
const MIGRATION_LOCK: i64 = 0x7a62_0000_1dec_0000;

pub(crate) struct PostgresDb {
    config: Config,
    /// host:port/database for messages; never the URL, which may carry a password.
    place: String,
    reader: RwLock<Client>,
    writer: Mutex<Client>,
}

fn storage(place: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Storage(format!("PostgreSQL {place}: {e}"))
}

fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(name)) => name.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or("(the user's database)"))
}

async fn connect(config: &Config, place: &str) -> Result<Client, ApiError> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| storage(place, e))?;
    let place = place.to_string();
    // The connection object does the I/O; it ends when the client is dropped or the server goes.
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(database = %place, error = %e, "PostgreSQL connection closed");
        }
    });
    Ok(client)
}

fn param(value: &Value) -> &(dyn ToSql + Sync) {
    match value {
        Value::Int(v) => v,
        Value::Text(v) => v,
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(param).collect()
}

/// A row as the shared `Row`, by each column's type (the schema uses BIGINT and TEXT; the other
/// integer types come from expressions such as `count(*)` or literals).
fn row_of(row: &tokio_postgres::Row) -> Result<Row, tokio_postgres::Error> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let cell = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?.map(|v| Cell::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?.map(|v| Cell::Int(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?.map(|v| Cell::Int(v.into()))
        } else {
            // TEXT, VARCHAR and NAME; any other type fails here with tokio-postgres' own message.
            row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(cells))
}

impl PostgresDb {
    pub async fn open(url: &str) -> Result<PostgresDb, ApiError> {
        let config: Config = url.parse().map_err(|e| {
            ApiError::Config(format!("database_url is not a PostgreSQL URL (postgres://user@host:port/db): {e}"))
        })?;
        let place = describe(&config);
        let mut writer = connect(&config, &place).await?;
        migrate(&mut writer, &place).await?;
        let reader = connect(&config, &place).await?;
        Ok(PostgresDb { config, place, reader: RwLock::new(reader), writer: Mutex::new(writer) })
    }

    /// The read connection, opened again when it is closed (or `fresh`: it just failed as closed).
    async fn reader(&self, fresh: bool) -> Result<RwLockReadGuard<'_, Client>, ApiError> {
        if !fresh {
            let client = self.reader.read().await;
            if !client.is_closed() {
                return Ok(client);
            }
        }
        let mut client = self.reader.write().await;
        if fresh || client.is_closed() {
            *client = connect(&self.config, &self.place).await?;
        }
        Ok(client.downgrade())
    }

    async fn query_once(&self, sql: &str, values: &[Value], fresh: bool) -> Result<Vec<Row>, Failure> {
        let client = self.reader(fresh).await.map_err(Failure::Open)?;
        let rows = client.query(sql, &params(values)).await.map_err(|e| Failure::of(e, &client))?;
        rows.iter().map(row_of).collect::<Result<_, _>>().map_err(Failure::Db)
    }

    /// A read that finds the connection lost (the server restarted, or dropped it) is sent once more
    /// on a new connection.
    pub async fn query(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>, ApiError> {
        let answer = match self.query_once(sql, values, false).await {
            Err(Failure::Lost(e)) => {
                tracing::warn!(database = %self.place, error = %e, "PostgreSQL connection lost; reconnecting");
                self.query_once(sql, values, true).await
            }
            other => other,
        };
        answer.map_err(|f| f.into_error(&self.place))
    }

    /// All statements or none: one transaction, each distinct statement prepared once. A write that
    /// finds the connection lost before its COMMIT was sent (nothing of it can have been applied) is
    /// run once more on a new connection; a loss during COMMIT is reported, as its outcome is unknown.
    pub async fn write_atomically(&self, statements: &[Statement]) -> Result<(), ApiError> {
        let mut client = self.writer.lock().await;
        let mut retried = false;
        loop {
            if client.is_closed() {
                *client = connect(&self.config, &self.place).await?;
            }
            match write_once(&mut client, statements).await {
                Err(Failure::Lost(e)) if !retried => {
                    tracing::warn!(database = %self.place, error = %e, "PostgreSQL connection lost; reconnecting");
                    *client = connect(&self.config, &self.place).await?;
                    retried = true;
                }
                other => return other.map_err(|f| f.into_error(&self.place)),
            }
        }
    }
}

/// Why a call failed, telling apart a lost connection that is safe to retry.
enum Failure {
    Open(ApiError),
    /// The connection was closed before the statement's effect could have been committed.
    Lost(tokio_postgres::Error),
    Db(tokio_postgres::Error),
}

impl Failure {
    fn of(e: tokio_postgres::Error, client: &Client) -> Failure {
        // A terminated backend answers FATAL 57P01 and closes; a dead socket gives a closed error.
        let lost = e.is_closed() || client.is_closed() || e.code() == Some(&SqlState::ADMIN_SHUTDOWN);
        if lost { Failure::Lost(e) } else { Failure::Db(e) }
    }

    fn into_error(self, place: &str) -> ApiError {
        match self {
            Failure::Open(e) => e,
            Failure::Lost(e) | Failure::Db(e) => storage(place, e),
        }
    }
}

async fn write_once(client: &mut Client, statements: &[Statement]) -> Result<(), Failure> {
    let tx = client.transaction().await.map_err(|e| if e.is_closed() { Failure::Lost(e) } else { Failure::Db(e) })?;
    let mut prepared = HashMap::new();
    for s in statements {
        let statement = match prepared.get(&s.sql) {
            Some(statement) => statement,
            None => {
                let statement = tx.prepare(&s.sql).await.map_err(|e| lost_or_db(e, &tx))?;
                prepared.entry(s.sql.clone()).or_insert(statement)
            }
        };
        tx.execute(statement, &params(&s.params)).await.map_err(|e| lost_or_db(e, &tx))?;
    }
    // Dropping an uncommitted transaction (the `?` above) rolls it back. Past this point a lost
    // connection is not retried.
    tx.commit().await.map_err(Failure::Db)
}

fn lost_or_db(e: tokio_postgres::Error, tx: &tokio_postgres::Transaction<'_>) -> Failure {
    Failure::of(e, tx.client())
}

/// Runs the migrations the database has not run yet, in one transaction with the new version.
async fn migrate(client: &mut Client, place: &str) -> Result<(), ApiError> {
    let fail = |e| storage(place, e);
    let tx = client.transaction().await.map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(fail)?;
    tx.batch_execute(VERSION_TABLE).await.map_err(fail)?;
    let version = match tx.query_opt("SELECT version FROM schema_version", &[]).await.map_err(fail)? {
        Some(row) => Some(row.try_get::<_, i64>(0).map_err(fail)?),
        None => None,
    };
    let from = super::pending_from(version, MIGRATIONS.len())?;
    for migration in &MIGRATIONS[from..] {
        tx.batch_execute(migration).await.map_err(fail)?;
    }
    let known = MIGRATIONS.len() as i64;
    tx.execute("DELETE FROM schema_version", &[]).await.map_err(fail)?;
    tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&known]).await.map_err(fail)?;
    tx.commit().await.map_err(fail)
}
