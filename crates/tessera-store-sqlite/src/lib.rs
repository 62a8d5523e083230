//! SQLite backend for the Tessera store traits: the embedded default, one
//! database file beside the binary.
//!
//! [`SqliteStore::open`] tunes the connection for a web server (WAL so readers
//! never wait for the writer, `synchronous=NORMAL`, a busy timeout instead of
//! instant "database is locked" errors, foreign keys on) and applies the
//! migrations embedded from `migrations/`. Write transactions begin
//! `IMMEDIATE`: a deferred one that reads first cannot wait for the writer
//! when it upgrades (WAL answers "database is locked" at once), and the
//! page-view writer is busy often enough for that to show.
//!
//! The SQL is deliberately plain (no SQLite-only semantics; `RETURNING` and
//! `ON CONFLICT` exist in PostgreSQL too) so a PostgreSQL backend can reuse it
//! with little more than placeholder and type-name changes. Queries are
//! checked at run time by the shared conformance suite, not at compile time,
//! so building needs no database.
//!
//! One module per store trait: `sites`, `people`, `sessions`, `remember`,
//! `throttle` and `audit` (the foundation); `knowledge_base` (categories and
//! articles, with full-text search over FTS5 in `search`), `engagement`
//! (votes, comments) and `visitors` (visitors, page views, activity, consent)
//! for the Help Center; `chat` (conversations, numbered messages, identity
//! secrets) for the Messenger; `monitor` (visits, page views written in
//! batches, erasure and merging of visitors) for visitor monitoring.
//!
//! The statements are this crate's; turning their rows into records (and
//! validating what was stored), the values they bind and sqlx's errors as
//! store errors come from `tessera-store-sql`, shared with the PostgreSQL
//! backend.

mod audit;
mod chat;
mod engagement;
mod knowledge_base;
mod monitor;
mod people;
mod remember;
mod search;
mod sessions;
mod sites;
mod throttle;
mod visitors;

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tessera_store::StoreError;
use tessera_store_sql::backend;

/// How long a connection waits for another's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The store, backed by a pool of connections to one SQLite file. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path` and brings its
    /// schema up to date. Safe to call on an existing database: applied
    /// migrations are recorded and skipped.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().connect_with(options).await.map_err(backend)?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| StoreError::Backend(Box::new(e)))?;
        tracing::debug!(path = %path.display(), "SQLite store open");
        Ok(Self { pool })
    }

    /// The underlying pool, for operational tasks the traits do not cover
    /// (backups with `VACUUM INTO`, health checks).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;
    use tessera_core::{PersonId, SiteId, Timestamp};
    use tessera_store::{PersonStore, SiteStore, StoreError};

    use super::*;

    async fn pragma(store: &SqliteStore, name: &str) -> String {
        let row = sqlx::query(&format!("PRAGMA {name}")).fetch_one(store.pool()).await.expect("read pragma");
        match row.try_get::<String, _>(0) {
            Ok(text) => text,
            Err(_) => row.try_get::<i64, _>(0).expect("pragma is text or integer").to_string(),
        }
    }

    #[tokio::test]
    async fn open_creates_the_file_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("new.db");
        let store = SqliteStore::open(&path).await.expect("open");
        assert!(path.exists(), "open must create a missing database file");
        assert_eq!(pragma(&store, "journal_mode").await, "wal");
        assert_eq!(pragma(&store, "synchronous").await, "1", "synchronous=NORMAL");
        assert_eq!(pragma(&store, "foreign_keys").await, "1");
        assert_eq!(pragma(&store, "busy_timeout").await, "5000");
    }

    #[tokio::test]
    async fn reopening_an_existing_database_keeps_its_data() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tessera.db");
        let site = SiteId::new(1001).expect("site ID");
        {
            let store = SqliteStore::open(&path).await.expect("first open");
            store.ensure_site(site, "Acme", Timestamp::from_unix(1_000)).await.expect("ensure_site");
            store.pool().close().await;
        }
        let store = SqliteStore::open(&path).await.expect("reopen runs migrations idempotently");
        let kept = store.site(site).await.expect("site").map(|s| s.settings.name);
        assert_eq!(kept, Some("Acme".to_owned()));
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(store.pool())
            .await
            .expect("count migrations");
        let embedded = sqlx::migrate!("./migrations").iter().count();
        assert_eq!(usize::try_from(applied), Ok(embedded), "each migration is applied once");
    }

    #[tokio::test]
    async fn rows_the_code_did_not_write_are_reported_corrupt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("tessera.db")).await.expect("open");
        sqlx::query("INSERT INTO sites (id, name, created_at) VALUES (1001, 'Acme', 0)")
            .execute(store.pool())
            .await
            .expect("insert site");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO people (site_id, email, name, role, password_hash, disabled, created_at, updated_at)
             VALUES (1001, 'ann@example.com', 'Ann', 'superuser', 'x', 0, 0, 0) RETURNING id",
        )
        .fetch_one(store.pool())
        .await
        .expect("insert person");
        match store.person(PersonId::new(id)).await {
            Err(StoreError::Corrupt(message)) => assert!(message.contains("role"), "{message}"),
            other => panic!("an unknown role must be Corrupt, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_person_on_a_missing_site_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("tessera.db")).await.expect("open");
        let new = tessera_store::NewPerson {
            site_id: SiteId::new(4004).expect("site ID"),
            email: tessera_core::Email::parse("ann@example.com").expect("email"),
            name: tessera_core::DisplayName::parse("Ann").expect("name"),
            role: tessera_core::Role::User,
            password_hash: "x".to_owned(),
        };
        let result = store.create_person(&new, Timestamp::from_unix(0)).await;
        assert!(matches!(result, Err(StoreError::Backend(_))), "foreign keys are enforced: {result:?}");
    }
}
