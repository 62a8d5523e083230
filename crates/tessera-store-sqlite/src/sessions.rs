//! Server-side sessions, keyed by the SHA-256 of the cookie's token.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};
use tessera_core::{Interface, PersonId, SiteId, Timestamp, TokenHash};
use tessera_store::{SessionRecord, SessionStore, StoreResult};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{backend, conflict_or_backend, record};

use crate::SqliteStore;

const SELECT: &str = "SELECT id_hash, person_id, site_id, interface, created_at, last_seen_at, expires_at, \
                      restored, remember_selector, ip, user_agent FROM sessions";

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, person_id, site_id, interface, created_at, last_seen_at, expires_at,
                                   restored, remember_selector, ip, user_agent)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        let row = sqlx::query(&format!("{SELECT} WHERE id_hash = ?"))
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
        // One transaction per batch: one fsync instead of one per session.
        // UPDATE only, so a touch queued before a logout cannot resurrect the
        // session; the `<` guard means it only ever moves forward (the portable
        // spelling of `MAX(last_seen_at, ?)`, which also skips no-op writes).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        for (id, seen) in touches {
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?")
                .bind(seen.unix())
                .bind(&id.as_bytes()[..])
                .bind(seen.unix())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn delete_session(&self, id: &TokenHash) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
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
        // Built rather than `(? IS NULL OR ...)`: PostgreSQL cannot type an
        // untyped NULL parameter, and the plan stays index-friendly.
        let mut sql = QueryBuilder::<Sqlite>::new("DELETE FROM sessions WHERE person_id = ");
        sql.push_bind(person.get());
        if let Some(interface) = interface {
            sql.push(" AND interface = ").push_bind(interface.as_str());
        }
        if let Some(keep) = keep {
            sql.push(" AND id_hash <> ").push_bind(&keep.as_bytes()[..]);
        }
        sql.push(" RETURNING id_hash");
        let rows = sql.build().fetch_all(&self.pool).await.map_err(backend)?;
        record::session_hashes(&rows)
    }

    async fn sessions_of_person(&self, person: PersonId) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE person_id = ? ORDER BY created_at DESC"))
            .bind(person.get())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(record::session).collect()
    }

    async fn sessions_of_site(&self, site: SiteId, limit: u32) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE site_id = ? ORDER BY created_at DESC LIMIT ?"))
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
        // One statement, so a session is either purged and reported or kept.
        let mut sql = QueryBuilder::<Sqlite>::new("DELETE FROM sessions WHERE expires_at <= ");
        sql.push_bind(now.unix());
        for (interface, cutoff) in idle_cutoffs {
            sql.push(" OR (interface = ").push_bind(interface.as_str());
            sql.push(" AND last_seen_at < ").push_bind(cutoff.unix()).push(")");
        }
        sql.push(" RETURNING id_hash");
        let rows = sql.build().fetch_all(&self.pool).await.map_err(backend)?;
        record::session_hashes(&rows)
    }
}
