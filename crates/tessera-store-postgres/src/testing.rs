//! Throwaway databases for tests (cargo feature `test-support`), for this
//! crate's tests and any other crate's.
//!
//! [`fresh_database`] creates `tessera_test_<random>` on the cluster whose
//! admin URL is in `TESSERA_TEST_POSTGRES` (a role allowed to create
//! databases, e.g. `postgres://tessera@127.0.0.1:55432/postgres` as
//! `.ci/postgres.sh start` prints it) and drops it again when the returned
//! [`TestDatabase`] is dropped, or explicitly with
//! [`TestDatabase::drop_database`]. Without the variable it says loudly that
//! PostgreSQL tests are skipped and returns `None`, unless
//! `TESSERA_REQUIRE_CLUSTER=1` (CI), where it panics instead.

use std::io::Write;
use std::sync::Once;

use sqlx::{Connection, PgConnection};

use crate::PostgresStore;

/// The admin URL of the cluster tests may create databases on.
pub const ADMIN_URL_VAR: &str = "TESSERA_TEST_POSTGRES";
/// Set to `1` to make a missing cluster a failure rather than a skip.
pub const REQUIRE_VAR: &str = "TESSERA_REQUIRE_CLUSTER";

/// A database created for one test; dropped (with every connection to it
/// ended) when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl TestDatabase {
    /// The URL of the test database itself.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A store on the test database, migrated. Panics if that fails.
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to test database {}: {e:?}", self.name))
    }

    /// Drops the database now (ending any connection still open to it).
    pub async fn drop_database(mut self) {
        self.dropped = true;
        if let Err(e) = drop_named(&self.admin_url, &self.name).await {
            panic!("dropping test database {}: {e}", self.name);
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop runs inside the test's runtime, which cannot be blocked on;
        // a thread with a runtime of its own does the work and is waited for.
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(drop_named(&admin, &name)).map_err(std::io::Error::other)
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => loud(&format!("could not drop test database {}: {e}", self.name)),
            Err(_) => loud(&format!("could not drop test database {}: the dropping thread panicked", self.name)),
        }
    }
}

async fn drop_named(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(admin_url).await?;
    // FORCE ends the connections a pool dropped with the test may still hold.
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin).await?;
    admin.close().await
}

/// Writes straight to the standard error stream, past the test harness's
/// output capture, so a skip is seen without `--nocapture`.
fn loud(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// The admin URL, or `None` after saying (once per process) that PostgreSQL
/// tests are skipped. Panics instead when [`REQUIRE_VAR`] is `1`.
pub fn admin_url() -> Option<String> {
    match std::env::var(ADMIN_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                panic!(
                    "{ADMIN_URL_VAR} is not set but {REQUIRE_VAR}=1: start a cluster with \
                     `eval \"$(.ci/postgres.sh start)\"`"
                );
            }
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                loud(&format!(
                    "\n*** SKIPPING PostgreSQL tests: {ADMIN_URL_VAR} is not set. Run `eval \"$(.ci/postgres.sh \
                     start)\"` first (or set {REQUIRE_VAR}=1 to make this an error). ***\n"
                ));
            });
            None
        }
    }
}

/// A new, empty database (no schema yet), or `None` if PostgreSQL tests are skipped.
pub async fn fresh_database() -> Option<TestDatabase> {
    let admin_url = admin_url()?;
    let suffix: String = tessera_core::random_bytes::<8>().iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("tessera_test_{suffix}");
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {ADMIN_URL_VAR} (is the cluster running?): {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
    let _ = admin.close().await;
    let url = with_database(&admin_url, &name);
    Some(TestDatabase { admin_url, name, url, dropped: false })
}

/// `url` naming database `name` instead of its own (the path of a
/// `postgres://user@host:port/db?params` URL).
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_swapped_keeping_credentials_and_parameters() {
        assert_eq!(with_database("postgres://t@127.0.0.1:55432/postgres", "x"), "postgres://t@127.0.0.1:55432/x");
        assert_eq!(with_database("postgresql://u:p@h/db?sslmode=disable", "x"), "postgresql://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}
