//! Runs the shared store conformance suite against SQLite: every test gets a
//! fresh database file in its own temporary directory, removed afterwards.

use tempfile::TempDir;
use tessera_store::conformance::WithGuard;
use tessera_store_sqlite::SqliteStore;

async fn fresh_store() -> WithGuard<SqliteStore, TempDir> {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let store = SqliteStore::open(&dir.path().join("tessera.db")).await.expect("open a fresh SQLite store");
    WithGuard { store, guard: dir }
}

tessera_store::conformance_tests!(fresh_store());
