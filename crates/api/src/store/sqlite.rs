//! The embedded backend: one SQLite file (WAL), the default. rusqlite blocks, so each call runs
//! on tokio's blocking pool (one at a time, under the connection's lock), leaving the runtime's
//! threads to the HTTP server and the indexers' RPC calls.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::types::{Null, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::sql::{Cell, MIGRATIONS, Row, Statement, VERSION_TABLE, Value};
use crate::ApiError;

pub(crate) struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

fn storage(e: impl std::fmt::Display) -> ApiError {
    ApiError::Storage(format!("SQLite: {e}"))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Int(Some(v)) => ToSqlOutput::from(*v),
            Value::Text(Some(v)) => ToSqlOutput::from(v.as_str()),
            Value::Int(None) | Value::Text(None) => ToSqlOutput::from(Null),
        })
    }
}

/// SQLite numbers `$name` parameters by first appearance, not by the digits; `?N` is positional
/// as PostgreSQL's `$N` is. The shared statements have no `$` inside string literals.
fn positional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn cell(value: ValueRef<'_>) -> rusqlite::Result<Cell> {
    Ok(match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) => Cell::Int(v),
        ValueRef::Text(bytes) => Cell::Text(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Real(_) | ValueRef::Blob(_) => {
            return Err(rusqlite::Error::InvalidColumnType(0, "real or blob".into(), value.data_type()));
        }
    })
}

impl SqliteDb {
    pub fn open(path: &Path) -> Result<SqliteDb, ApiError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| storage(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path).map_err(|e| storage(format!("{}: {e}", path.display())))?;
        conn.execute_batch("PRAGMA journal_mode = WAL;").map_err(storage)?;
        migrate(&mut conn)?;
        Ok(SqliteDb { conn: Arc::new(Mutex::new(conn)) })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let conn = self.conn.clone();
        let call = tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| ApiError::Storage("the index lock is poisoned".into()))?;
            f(&mut conn).map_err(storage)
        });
        call.await.map_err(|e| ApiError::Storage(format!("an SQLite call did not finish: {e}")))?
    }

    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, ApiError> {
        let (sql, params) = (positional(sql), params.to_vec());
        self.with(move |c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let width = stmt.column_count();
            let rows = stmt.query_map(params_from_iter(&params), |r| {
                (0..width).map(|i| cell(r.get_ref(i)?)).collect::<rusqlite::Result<Vec<Cell>>>().map(Row)
            })?;
            rows.collect()
        })
        .await
    }

    /// All statements or none.
    pub async fn write_atomically(&self, statements: &[Statement]) -> Result<(), ApiError> {
        let statements = statements.to_vec();
        self.with(move |c| {
            let tx = c.transaction()?;
            for s in &statements {
                tx.prepare_cached(&positional(&s.sql))?.execute(params_from_iter(&s.params))?;
            }
            tx.commit()
        })
        .await
    }
}

/// Runs the migrations the file has not run yet, in one transaction with the new version.
fn migrate(conn: &mut Connection) -> Result<(), ApiError> {
    let tx = conn.transaction().map_err(storage)?;
    tx.execute_batch(VERSION_TABLE).map_err(storage)?;
    let version: Option<i64> =
        tx.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).optional().map_err(storage)?;
    let from = super::pending_from(version, MIGRATIONS.len())?;
    for migration in &MIGRATIONS[from..] {
        tx.execute_batch(migration).map_err(storage)?;
    }
    tx.execute("DELETE FROM schema_version", []).map_err(storage)?;
    tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [MIGRATIONS.len() as i64]).map_err(storage)?;
    tx.commit().map_err(storage)
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn numbered_parameters_become_positional() {
        assert_eq!(positional("a = $1 AND b < ($12, $2) AND c = '$'"), "a = ?1 AND b < (?12, ?2) AND c = '$'");
    }
}
