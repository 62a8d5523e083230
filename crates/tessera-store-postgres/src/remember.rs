//! Remember-me series: a public selector and the hash of a validator that
//! rotates on every use.

use async_trait::async_trait;
use tessera_core::{PersonId, Selector, Timestamp, TokenHash};
use tessera_store::{RememberRecord, RememberStore, StoreResult};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{backend, conflict_or_backend, record};

use crate::PostgresStore;

const SELECT: &str = "SELECT selector, person_id, site_id, interface, validator_hash, previous_hash, rotated_at, \
                      created_at, expires_at, ip, user_agent FROM remember";

#[async_trait]
impl RememberStore for PostgresStore {
    async fn insert_remember(&self, r: &RememberRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO remember (selector, person_id, site_id, interface, validator_hash, previous_hash, rotated_at,
                                   created_at, expires_at, ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&r.selector.as_bytes()[..])
        .bind(r.person_id.get())
        .bind(site_param(r.site_id))
        .bind(r.interface.as_str())
        .bind(&r.validator_hash.as_bytes()[..])
        .bind(r.previous_hash.as_ref().map(|h| &h.as_bytes()[..]))
        .bind(r.rotated_at.unix())
        .bind(r.created_at.unix())
        .bind(r.expires_at.unix())
        .bind(r.ip.as_deref())
        .bind(r.user_agent.as_deref())
        .execute(&self.pool)
        .await
        .map_err(conflict_or_backend("remember-me selector already exists"))?;
        Ok(())
    }

    async fn remember(&self, selector: &Selector) -> StoreResult<Option<RememberRecord>> {
        let row = sqlx::query(&format!("{SELECT} WHERE selector = $1"))
            .bind(&selector.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::remember).transpose()
    }

    async fn rotate_remember(
        &self,
        selector: &Selector,
        expected: &TokenHash,
        next: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        // The compare and the swap are one statement, so of two requests
        // racing with the same cookie exactly one matches the old validator.
        let done = sqlx::query(
            "UPDATE remember SET validator_hash = $1, previous_hash = $2, rotated_at = $3
             WHERE selector = $4 AND validator_hash = $5",
        )
        .bind(&next.as_bytes()[..])
        .bind(&expected.as_bytes()[..])
        .bind(now.unix())
        .bind(&selector.as_bytes()[..])
        .bind(&expected.as_bytes()[..])
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_remember(&self, selector: &Selector) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM remember WHERE selector = $1")
            .bind(&selector.as_bytes()[..])
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_remember_of_person(&self, person: PersonId) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM remember WHERE person_id = $1")
            .bind(person.get())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn remember_of_person(&self, person: PersonId) -> StoreResult<Vec<RememberRecord>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE person_id = $1 ORDER BY created_at DESC"))
            .bind(person.get())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(record::remember).collect()
    }

    async fn purge_remember(&self, now: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM remember WHERE expires_at <= $1")
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
