//! Server-side sessions, keyed by the SHA-256 of the cookie's token.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use tessera_core::{Interface, PersonId, SiteId, Timestamp, TokenHash};
use tessera_store::{SessionRecord, SessionStore, StoreResult};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{backend, conflict_or_backend, record};

use crate::PostgresStore;

const SELECT: &str = "SELECT id_hash, person_id, site_id, interface, created_at, last_seen_at, expires_at, \
                      restored, remember_selector, ip, user_agent FROM sessions";

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, person_id, site_id, interface, created_at, last_seen_at, expires_at,
                                   restored, remember_selector, ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&s.id_hash.as_bytes()[..])
        .bind(s.person_id.get())
        .bind(site_param(s.site_id))
        .bind(s.interface.as_str())
        .bind(s.created_at.unix())
        .bind(s.last_seen_at.unix())
        .bind(s.expires_at.unix())
        .bind(s.restored)
        .bind(s.remember.as_ref().map(|sel| &sel.as_bytes()[..]))
        .bind(s.ip.as_deref())
        .bind(s.user_agent.as_deref())
        .execute(&self.pool)
        .await
        .map_err(conflict_or_backend("session ID already exists"))?;
        Ok(())
    }

    async fn session(&self, id: &TokenHash) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(&format!("{SELECT} WHERE id_hash = $1"))
            .bind(&id.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::session).transpose()
    }

    async fn touch_sessions(&self, touches: &[(TokenHash, Timestamp)]) -> StoreResult<()> {
        if touches.is_empty() {
            return Ok(());
        }
        // One statement for the batch: arrays of IDs and times, each ID's
        // latest time. UPDATE only, so a touch queued before a logout cannot
        // resurrect the session; the `<` guard means it only ever moves
        // forward (and skips no-op writes). The rows are locked first in ID
        // order, so two nodes touching overlapping batches wait for each
        // other instead of deadlocking.
        let ids: Vec<&[u8]> = touches.iter().map(|(id, _)| &id.as_bytes()[..]).collect();
        let seen: Vec<i64> = touches.iter().map(|(_, at)| at.unix()).collect();
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("SELECT 1 FROM sessions WHERE id_hash = ANY($1) ORDER BY id_hash FOR NO KEY UPDATE")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "UPDATE sessions s SET last_seen_at = t.seen
             FROM (SELECT id, MAX(seen) AS seen FROM UNNEST($1::bytea[], $2::bigint[]) AS u (id, seen) GROUP BY id) t
             WHERE s.id_hash = t.id AND s.last_seen_at < t.seen",
        )
        .bind(&ids)
        .bind(&seen)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn delete_session(&self, id: &TokenHash) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&id.as_bytes()[..])
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_sessions_of_person(
        &self,
        person: PersonId,
        interface: Option<Interface>,
        keep: Option<&TokenHash>,
    ) -> StoreResult<Vec<TokenHash>> {
        // Built rather than `($2 IS NULL OR ...)`, so the plan stays
        // index-friendly. The rows are locked in ID order first, like
        // batched touches lock theirs, so the two never deadlock.
        let mut sql = QueryBuilder::<Postgres>::new(
            "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE person_id = ",
        );
        sql.push_bind(person.get());
        if let Some(interface) = interface {
            sql.push(" AND interface = ").push_bind(interface.as_str());
        }
        if let Some(keep) = keep {
            sql.push(" AND id_hash <> ").push_bind(&keep.as_bytes()[..]);
        }
        sql.push(" ORDER BY id_hash FOR UPDATE) RETURNING id_hash");
        let rows = sql.build().fetch_all(&self.pool).await.map_err(backend)?;
        record::session_hashes(&rows)
    }

    async fn sessions_of_person(&self, person: PersonId) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE person_id = $1 ORDER BY created_at DESC"))
            .bind(person.get())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(record::session).collect()
    }

    async fn sessions_of_site(&self, site: SiteId, limit: u32) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE site_id = $1 ORDER BY created_at DESC LIMIT $2"))
            .bind(site_param(site))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(record::session).collect()
    }

    async fn purge_sessions(
        &self,
        now: Timestamp,
        idle_cutoffs: &[(Interface, Timestamp)],
    ) -> StoreResult<Vec<TokenHash>> {
        // One statement, so a session is either purged and reported or kept;
        // its rows locked in ID order first (see `delete_sessions_of_person`).
        // A session touched meanwhile is checked again once its lock is free.
        let mut sql = QueryBuilder::<Postgres>::new(
            "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at <= ",
        );
        sql.push_bind(now.unix());
        for (interface, cutoff) in idle_cutoffs {
            sql.push(" OR (interface = ").push_bind(interface.as_str());
            sql.push(" AND last_seen_at < ").push_bind(cutoff.unix()).push(")");
        }
        sql.push(" ORDER BY id_hash FOR UPDATE) RETURNING id_hash");
        let rows = sql.build().fetch_all(&self.pool).await.map_err(backend)?;
        record::session_hashes(&rows)
    }
}
