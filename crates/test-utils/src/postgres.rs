//! A fresh database on the test PostgreSQL server for each test, so that tests run in parallel.
//! The server is the one scripts/postgres-test.sh starts (./scripts/test.sh runs the suite through
//! it); its URL comes in `ZB_TEST_POSTGRES_URL`. Without it the PostgreSQL tests fail rather than
//! skip, so that a run that forgot the server cannot pass silently.

use std::sync::atomic::{AtomicU32, Ordering};

use eyre::{Result, WrapErr, bail, eyre};
use tokio_postgres::NoTls;

pub const URL_VAR: &str = "ZB_TEST_POSTGRES_URL";

/// The test server's URL (its `postgres` database, or any database to connect to first).
pub fn server_url() -> Result<String> {
    std::env::var(URL_VAR).map_err(|_| {
        eyre!(
            "{URL_VAR} is not set: the PostgreSQL tests need a server; run them through ./scripts/test.sh, or \
             scripts/postgres-test.sh cargo test ... which starts a throwaway one"
        )
    })
}

/// `url` naming database `name` instead: postgres://user@host:port/<name>?options.
pub fn with_database(url: &str, name: &str) -> Result<String> {
    let Some(scheme_end) = url.find("://") else {
        bail!("{URL_VAR} must be a URL (postgres://user@host:port/db), not '{url}'");
    };
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_end = base[scheme_end + 3..].find('/').map_or(base.len(), |i| scheme_end + 3 + i);
    Ok(format!("{}/{name}{query}", &base[..authority_end]))
}

/// Creates an empty database for one test and returns its URL. `label` (letters, digits, `_`)
/// names the test in the database name, with the process id and a counter.
pub async fn fresh_database(label: &str) -> Result<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let url = server_url()?;
    let label: String = label.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(30).collect();
    let name =
        format!("zb_{}_{}_{}", label.to_ascii_lowercase(), std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let (client, connection) =
        tokio_postgres::connect(&url, NoTls).await.wrap_err_with(|| format!("connecting to {URL_VAR}"))?;
    let driver = tokio::spawn(connection);
    // The name is made of [a-z0-9_] above, so it needs no quoting beyond the identifier quotes.
    client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await?;
    client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.wrap_err("CREATE DATABASE")?;
    drop(client);
    let _ = driver.await;
    with_database(&url, &name)
}

/// How many rows `table` of the database at `url` holds: a test's look behind the program's back.
pub async fn count(url: &str, table: &str) -> Result<i64> {
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("'{table}' is not a plain table name");
    }
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.wrap_err("connecting to the test database")?;
    let driver = tokio::spawn(connection);
    let row = client.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await?;
    let rows: i64 = row.try_get(0)?;
    drop(client);
    let _ = driver.await;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() -> eyre::Result<()> {
        assert_eq!(with_database("postgres://u@h:5/postgres", "t")?, "postgres://u@h:5/t");
        assert_eq!(with_database("postgres://u@h:5", "t")?, "postgres://u@h:5/t");
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "t")?, "postgres://u:p@h/t?sslmode=disable");
        assert!(with_database("host=h dbname=x", "t").is_err());
        Ok(())
    }
}
