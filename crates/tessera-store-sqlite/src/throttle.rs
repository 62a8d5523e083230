//! Login throttling: failure counts per key (e.g. site + email, or IP).

use async_trait::async_trait;
use tessera_core::Timestamp;
use tessera_store::{StoreResult, ThrottleRecord, ThrottleStore};
use tessera_store_sql::{backend, record};

use crate::SqliteStore;

#[async_trait]
impl ThrottleStore for SqliteStore {
    async fn throttle(&self, key: &str) -> StoreResult<Option<ThrottleRecord>> {
        let row = sqlx::query("SELECT key, failures, last_failure_at FROM throttles WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::throttle).transpose()
    }

    async fn record_failure(&self, key: &str, now: Timestamp, forget_before: Timestamp) -> StoreResult<ThrottleRecord> {
        // A single upsert: concurrent failures (several nodes, one attacker)
        // each count, with no read-modify-write window between them.
        let row = sqlx::query(
            "INSERT INTO throttles (key, failures, last_failure_at) VALUES (?, 1, ?)
             ON CONFLICT (key) DO UPDATE SET
                 failures = CASE WHEN throttles.last_failure_at < ? THEN 1 ELSE throttles.failures + 1 END,
                 last_failure_at = excluded.last_failure_at
             RETURNING key, failures, last_failure_at",
        )
        .bind(key)
        .bind(now.unix())
        .bind(forget_before.unix())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        record::throttle(&row)
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttles WHERE key = ?").bind(key).execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn purge_throttles(&self, forget_before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM throttles WHERE last_failure_at < ?")
            .bind(forget_before.unix())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
