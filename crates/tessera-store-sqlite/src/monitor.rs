//! Visitor monitoring: visits (`monitor_sessions`) and the tag's page views
//! (`page_events`), written in batches by the ingestion pipeline.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};
use tessera_core::{MonitorSessionId, SiteId, Timestamp, TokenHash, VisitorId};
use tessera_store::{MonitorSession, MonitorStore, NewMonitorSession, PageEvent, StoreResult, Visitor};
use tessera_store_sql::param::{site_param, visit_moves};
use tessera_store_sql::value::count64;
use tessera_store_sql::{backend, conflict_or_backend, record};

use crate::SqliteStore;

const SELECT: &str = "SELECT id, site_id, visitor_id, started_at, last_seen_at, previous_visit_at, visit_number, \
                      current_url, current_title FROM monitor_sessions";

/// Rows per multi-row INSERT. Fixed, so every full chunk reuses one cached
/// prepared statement: a statement per batch size would fill each
/// connection's statement cache with large compiled statements (hundreds of
/// MiB under load, measured). The last, partial chunk is not cached.
const EVENTS_PER_INSERT: usize = 256;

impl SqliteStore {
    async fn sessions_where(&self, condition: &str, binds: &[i64], limit: u32) -> StoreResult<Vec<MonitorSession>> {
        let sql = format!("{SELECT} WHERE {condition} LIMIT ?");
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = query.bind(*b);
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(record::monitor_session).collect()
    }
}

#[async_trait]
impl MonitorStore for SqliteStore {
    async fn add_visitor_token(&self, visitor: VisitorId, token: &TokenHash, now: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO monitor_visitor_tokens (token_hash, visitor_id, created_at) VALUES (?, ?, ?)")
            .bind(token.as_bytes().as_slice())
            .bind(visitor.get())
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(conflict_or_backend("visitor token"))?;
        Ok(())
    }

    async fn visitor_by_monitor_token(&self, site: SiteId, token: &TokenHash) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query(
            "SELECT v.id, v.site_id, v.person_id, v.persistent, v.created_at, v.last_seen_at
             FROM monitor_visitor_tokens t JOIN visitors v ON v.id = t.visitor_id
             WHERE t.token_hash = ? AND v.site_id = ?",
        )
        .bind(token.as_bytes().as_slice())
        .bind(site_param(site))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(record::visitor).transpose()
    }

    async fn drop_visitor_token(&self, token: &TokenHash) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM monitor_visitor_tokens WHERE token_hash = ?")
            .bind(token.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn monitor_session(&self, site: SiteId, token: &TokenHash) -> StoreResult<Option<MonitorSession>> {
        let row = sqlx::query(&format!("{SELECT} WHERE token_hash = ? AND site_id = ?"))
            .bind(token.as_bytes().as_slice())
            .bind(site_param(site))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::monitor_session).transpose()
    }

    async fn start_monitor_session(&self, new: &NewMonitorSession<'_>) -> StoreResult<MonitorSession> {
        // One statement: the visit number and the previous visit are read and
        // the row written under the same write lock, so two tabs starting
        // visits at once cannot get the same number.
        let row = sqlx::query(
            "INSERT INTO monitor_sessions (site_id, visitor_id, token_hash, started_at, last_seen_at,
                                           previous_visit_at, visit_number)
             SELECT ?, ?, ?, ?, ?,
                    COALESCE((SELECT MAX(last_seen_at) FROM monitor_sessions WHERE visitor_id = ?), ?),
                    1 + (SELECT COUNT(*) FROM monitor_sessions WHERE visitor_id = ?)
             RETURNING id, site_id, visitor_id, started_at, last_seen_at, previous_visit_at, visit_number,
                       current_url, current_title",
        )
        .bind(site_param(new.site_id))
        .bind(new.visitor_id.get())
        .bind(new.token.as_bytes().as_slice())
        .bind(new.now.unix())
        .bind(new.now.unix())
        .bind(new.visitor_id.get())
        .bind(new.previous_visit_at.map(Timestamp::unix))
        .bind(new.visitor_id.get())
        .fetch_one(&self.pool)
        .await
        .map_err(conflict_or_backend("monitor session"))?;
        record::monitor_session(&row)
    }

    async fn record_page_events(&self, events: &[PageEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO page_events (site_id, visitor_id, session_id, tab, url, title, referrer, ip, at) ",
            );
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(site_param(e.site_id))
                    .push_bind(e.visitor_id.map(VisitorId::get))
                    .push_bind(e.session_id.map(MonitorSessionId::get))
                    .push_bind(e.tab.as_deref())
                    .push_bind(e.url.as_str())
                    .push_bind(e.title.as_str())
                    .push_bind(e.referrer.as_str())
                    .push_bind(e.ip.as_deref())
                    .push_bind(e.at.unix());
            });
            let full = chunk.len() == EVENTS_PER_INSERT;
            insert.build().persistent(full).execute(&mut *tx).await.map_err(backend)?;
        }
        let moves = visit_moves(events);
        // Many visits per statement: SQLite's UPDATE ... FROM a VALUES list
        // (its columns are column1, column2, ...).
        for chunk in moves.chunks(EVENTS_PER_INSERT) {
            let mut update = QueryBuilder::<Sqlite>::new(
                "UPDATE monitor_sessions SET last_seen_at = v.column2, current_url = v.column3, \
                 current_title = v.column4 FROM (",
            );
            update.push_values(chunk, |mut row, (id, e)| {
                row.push_bind(*id).push_bind(e.at.unix()).push_bind(e.url.as_str()).push_bind(e.title.as_str());
            });
            update.push(") AS v WHERE monitor_sessions.id = v.column1 AND monitor_sessions.last_seen_at <= v.column2");
            let full = chunk.len() == EVENTS_PER_INSERT;
            update.build().persistent(full).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn live_sessions(&self, site: SiteId, since: Timestamp, limit: u32) -> StoreResult<Vec<MonitorSession>> {
        self.sessions_where(
            "site_id = ? AND last_seen_at >= ? ORDER BY last_seen_at DESC, id DESC",
            &[site_param(site), since.unix()],
            limit,
        )
        .await
    }

    async fn sessions_of_visitor(&self, visitor: VisitorId, limit: u32) -> StoreResult<Vec<MonitorSession>> {
        self.sessions_where("visitor_id = ? ORDER BY started_at DESC, id DESC", &[visitor.get()], limit).await
    }

    async fn page_events_of_session(&self, session: MonitorSessionId, limit: u32) -> StoreResult<Vec<PageEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM (SELECT id, site_id, visitor_id, session_id, tab, url, title, referrer, ip, at
                            FROM page_events WHERE session_id = ? ORDER BY id DESC LIMIT ?)
             ORDER BY id",
        )
        .bind(session.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(record::page_event).collect()
    }

    async fn anonymous_page_events(&self, site: SiteId, since: Timestamp) -> StoreResult<u64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM page_events WHERE site_id = ? AND at >= ? AND visitor_id IS NULL
             AND session_id IS NULL",
        )
        .bind(site_param(site))
        .bind(since.unix())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        count64(&row, "n")
    }

    async fn purge_page_events(&self, site: SiteId, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM page_events WHERE site_id = ? AND at < ?")
            .bind(site_param(site))
            .bind(before.unix())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn erase_visitor(&self, visitor: VisitorId) -> StoreResult<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let id = visitor.get();
        // Visits, their page views and the Help Center's page views go with
        // the row (ON DELETE CASCADE); what only points at it is deleted here.
        for sql in [
            "DELETE FROM votes WHERE visitor_id = ? AND person_id IS NULL",
            "DELETE FROM comments WHERE visitor_id = ? AND person_id IS NULL",
            "DELETE FROM conversations WHERE visitor_id = ? AND verified_user IS NULL",
            "DELETE FROM page_events WHERE visitor_id = ?",
            "DELETE FROM visitors WHERE id = ?",
        ] {
            let done = sqlx::query(sql).bind(id).execute(&mut *tx).await.map_err(backend)?;
            if sql.starts_with("DELETE FROM visitors") && done.rows_affected() == 0 {
                return Ok(false);
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn merge_visitors(&self, from: VisitorId, into: VisitorId) -> StoreResult<bool> {
        if from == into {
            return Ok(false);
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let same_site: Option<i64> = sqlx::query_scalar(
            "SELECT a.site_id FROM visitors a JOIN visitors b ON a.site_id = b.site_id WHERE a.id = ? AND b.id = ?",
        )
        .bind(from.get())
        .bind(into.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if same_site.is_none() {
            return Ok(false);
        }
        for sql in [
            "UPDATE conversations SET visitor_id = ?2 WHERE visitor_id = ?1",
            "UPDATE page_views SET visitor_id = ?2 WHERE visitor_id = ?1",
            "UPDATE page_events SET visitor_id = ?2 WHERE visitor_id = ?1",
            "UPDATE monitor_sessions SET visitor_id = ?2 WHERE visitor_id = ?1",
            "UPDATE monitor_visitor_tokens SET visitor_id = ?2 WHERE visitor_id = ?1",
            // A guest vote on an article both voted on: the one kept wins.
            "DELETE FROM votes WHERE visitor_id = ?1 AND person_id IS NULL
               AND article_id IN (SELECT article_id FROM votes WHERE visitor_id = ?2 AND person_id IS NULL)",
            "UPDATE votes SET visitor_id = ?2 WHERE visitor_id = ?1",
            "UPDATE comments SET visitor_id = ?2 WHERE visitor_id = ?1",
            "UPDATE consents SET visitor_id = ?2 WHERE visitor_id = ?1",
            "DELETE FROM visitors WHERE id = ?1",
        ] {
            sqlx::query(sql).bind(from.get()).bind(into.get()).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }
}
