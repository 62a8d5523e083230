//! Runs the shared store conformance suite against PostgreSQL: every test
//! gets a fresh database (`tessera_test_<random>`, created from the admin URL
//! in `TESSERA_TEST_POSTGRES` and dropped afterwards). Without that variable
//! the tests say so loudly and pass without checking anything, unless
//! `TESSERA_REQUIRE_CLUSTER=1`. Start a throwaway cluster with
//! `eval "$(.ci/postgres.sh start)"`.

use tessera_store::conformance::WithGuard;
use tessera_store_postgres::PostgresStore;
use tessera_store_postgres::testing::{TestDatabase, fresh_database};

async fn fresh_store() -> Option<WithGuard<PostgresStore, TestDatabase>> {
    let database = fresh_database().await?;
    let store = database.store().await;
    Some(WithGuard { store, guard: database })
}

tessera_store::conformance_tests!(optional: fresh_store());
