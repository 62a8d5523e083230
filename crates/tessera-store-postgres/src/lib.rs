//! PostgreSQL backend for the Tessera store traits: one database shared by
//! several Tessera nodes.
//!
//! [`PostgresStore::connect`] opens a connection pool and applies the
//! migrations embedded from `migrations/` (sqlx takes an advisory lock, so
//! nodes starting together apply each migration once);
//! [`PostgresStore::migrate`] does only the latter, for operators who run
//! migrations as a separate step.
//!
//! The schema is the SQLite backend's, table for table and column for column
//! (same names, same meanings: unix seconds, BIGINT IDs kept on import,
//! BYTEA hashes), so an embedded install moves here with a generic row copy
//! ([`import`]). Only derived data differs: article search is a `tsvector`
//! table filled by the store code (see `search`), which an import rebuilds.
//!
//! SQLite has one writer at a time; here several transactions, on several
//! nodes, run at once. Where the SQLite backend relied on that, this one
//! says how it keeps the same guarantee: compare-and-swap `UPDATE … WHERE`
//! (remember-me rotation, claims), upserts (throttles, votes), the row lock
//! an `UPDATE` holds until commit (message sequence numbers), and
//! `SELECT … FOR UPDATE` in a fixed order (visit numbers, merging visitors,
//! batched touches and visit moves).
//!
//! One module per store trait, as in the SQLite backend: `sites`, `people`,
//! `sessions`, `remember`, `throttle`, `audit`, `knowledge_base` (with
//! `search`), `engagement`, `visitors`, `chat`, `monitor`. Rows become records
//! (and stored values are validated) in `tessera-store-sql`, shared with the
//! SQLite backend; the statements and their locking are this crate's.

mod audit;
mod chat;
mod engagement;
pub mod import;
mod knowledge_base;
mod monitor;
mod people;
mod remember;
mod search;
mod sessions;
mod sites;
mod throttle;
mod visitors;

#[cfg(feature = "test-support")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tessera_store::StoreError;

/// The schema, embedded: the same versions as the SQLite backend's migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connections per node. PostgreSQL's default `max_connections` is 100; a
/// few nodes fit beside the operator's own tools.
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a free connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong opening, migrating or importing into the database.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("invalid PostgreSQL URL")]
    Url(#[source] sqlx::Error),
    #[error("could not connect to PostgreSQL")]
    Connect(#[source] sqlx::Error),
    #[error("could not apply the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("PostgreSQL query failed")]
    Query(#[source] sqlx::Error),
    /// An import refused its input or its target (the message says why).
    #[error("import refused: {0}")]
    Import(String),
}

impl From<PostgresError> for StoreError {
    fn from(error: PostgresError) -> Self {
        StoreError::Backend(Box::new(error))
    }
}

/// The store, backed by a pool of connections to one PostgreSQL database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?sslmode=...`)
    /// and brings its schema up to date. Safe to call from every node at
    /// once: applied migrations are recorded and skipped.
    pub async fn connect(url: &str) -> Result<Self, PostgresError> {
        let store = Self::connect_only(url, MAX_CONNECTIONS).await?;
        MIGRATOR.run(&store.pool).await.map_err(PostgresError::Migrate)?;
        tracing::debug!("PostgreSQL store open");
        Ok(store)
    }

    /// Applies the pending migrations and closes the connection: for
    /// operators who migrate as a separate step (`tessera migrate`).
    /// Returns the schema version the database is at.
    pub async fn migrate(url: &str) -> Result<i64, PostgresError> {
        let store = Self::connect_only(url, 1).await?;
        MIGRATOR.run(&store.pool).await.map_err(PostgresError::Migrate)?;
        let version = store.schema_version().await?;
        store.pool.close().await;
        Ok(version)
    }

    async fn connect_only(url: &str, max_connections: u32) -> Result<Self, PostgresError> {
        // Notices ("relation already exists, skipping" from every node's
        // migration check) would be logged at INFO; warnings still are.
        let options = PgConnectOptions::from_str(url)
            .map_err(PostgresError::Url)?
            .application_name("tessera")
            .options([("client_min_messages", "warning")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(PostgresError::Connect)?;
        Ok(Self { pool })
    }

    /// The highest migration applied (0 on a database never migrated).
    pub async fn schema_version(&self) -> Result<i64, PostgresError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(PostgresError::Query)?;
        if !exists {
            return Ok(0);
        }
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await
            .map_err(PostgresError::Query)?;
        Ok(version.unwrap_or(0))
    }

    /// The underlying pool, for operational tasks the traits do not cover
    /// (health checks, the import).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection (waiting for those in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
