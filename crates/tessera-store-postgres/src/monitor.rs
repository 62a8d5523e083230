//! Visitor monitoring: visits (`monitor_sessions`) and the tag's page views
//! (`page_events`), written in batches by the ingestion pipeline.

use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_core::{MonitorSessionId, SiteId, Timestamp, TokenHash, VisitorId};
use tessera_store::{MonitorSession, MonitorStore, NewMonitorSession, PageEvent, StoreResult, Visitor};
use tessera_store_sql::param::{site_param, visit_moves};
use tessera_store_sql::value::count64;
use tessera_store_sql::{backend, conflict_or_backend, record};

use crate::PostgresStore;

const SELECT: &str = "SELECT id, site_id, visitor_id, started_at, last_seen_at, previous_visit_at, visit_number, \
                      current_url, current_title FROM monitor_sessions";

/// Events per INSERT. The statement takes one array per column (`UNNEST`),
/// so its text, and the one prepared statement each connection caches for
/// it, is the same whatever the batch size; chunks only bound the size of
/// one message to the server.
const EVENTS_PER_INSERT: usize = 4096;

impl PostgresStore {
    /// Visits matching `condition` (with `$1`… bound from `binds`), the
    /// next placeholder being the limit.
    async fn sessions_where(&self, condition: &str, binds: &[i64], limit: u32) -> StoreResult<Vec<MonitorSession>> {
        let sql = format!("{SELECT} WHERE {condition} LIMIT ${}", binds.len() + 1);
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = query.bind(*b);
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(record::monitor_session).collect()
    }
}

/// Locks the rows of the given visitors (smallest ID first, so two
/// transactions locking overlapping sets never deadlock) until the
/// transaction ends; returns the IDs found.
async fn lock_visitors(tx: &mut PgConnection, ids: &[i64]) -> StoreResult<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM visitors WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)
}

#[async_trait]
impl MonitorStore for PostgresStore {
    async fn add_visitor_token(&self, visitor: VisitorId, token: &TokenHash, now: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO monitor_visitor_tokens (token_hash, visitor_id, created_at) VALUES ($1, $2, $3)")
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
             WHERE t.token_hash = $1 AND v.site_id = $2",
        )
        .bind(token.as_bytes().as_slice())
        .bind(site_param(site))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(record::visitor).transpose()
    }

    async fn drop_visitor_token(&self, token: &TokenHash) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM monitor_visitor_tokens WHERE token_hash = $1")
            .bind(token.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn monitor_session(&self, site: SiteId, token: &TokenHash) -> StoreResult<Option<MonitorSession>> {
        let row = sqlx::query(&format!("{SELECT} WHERE token_hash = $1 AND site_id = $2"))
            .bind(token.as_bytes().as_slice())
            .bind(site_param(site))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::monitor_session).transpose()
    }

    async fn start_monitor_session(&self, new: &NewMonitorSession<'_>) -> StoreResult<MonitorSession> {
        // The visitor's row is locked first, so two tabs (on two nodes)
        // starting visits at once take turns: the second counts the first's
        // visit and cannot get the same number.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("SELECT 1 FROM visitors WHERE id = $1 FOR NO KEY UPDATE")
            .bind(new.visitor_id.get())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let row = sqlx::query(
            "INSERT INTO monitor_sessions (site_id, visitor_id, token_hash, started_at, last_seen_at,
                                           previous_visit_at, visit_number)
             SELECT $1, $2, $3, $4, $4,
                    COALESCE((SELECT MAX(last_seen_at) FROM monitor_sessions WHERE visitor_id = $2), $5),
                    1 + (SELECT COUNT(*) FROM monitor_sessions WHERE visitor_id = $2)
             RETURNING id, site_id, visitor_id, started_at, last_seen_at, previous_visit_at, visit_number,
                       current_url, current_title",
        )
        .bind(site_param(new.site_id))
        .bind(new.visitor_id.get())
        .bind(new.token.as_bytes().as_slice())
        .bind(new.now.unix())
        .bind(new.previous_visit_at.map(Timestamp::unix))
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict_or_backend("monitor session"))?;
        let session = record::monitor_session(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(session)
    }

    async fn record_page_events(&self, events: &[PageEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let moves = visit_moves(events);

        let mut tx = self.pool.begin().await.map_err(backend)?;
        if !moves.is_empty() {
            // All visits in one statement. Their rows are locked first in ID
            // order: two nodes writing batches that share visits wait for
            // each other instead of deadlocking. (The page events' foreign
            // keys only take KEY SHARE locks, which these do not block.)
            let ids: Vec<i64> = moves.iter().map(|(id, _)| *id).collect();
            let at: Vec<i64> = moves.iter().map(|(_, e)| e.at.unix()).collect();
            let urls: Vec<&str> = moves.iter().map(|(_, e)| e.url.as_str()).collect();
            let titles: Vec<&str> = moves.iter().map(|(_, e)| e.title.as_str()).collect();
            sqlx::query("SELECT 1 FROM monitor_sessions WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
                .bind(&ids)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query(
                "UPDATE monitor_sessions m SET last_seen_at = v.at, current_url = v.url, current_title = v.title
                 FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS v (id, at, url, title)
                 WHERE m.id = v.id AND m.last_seen_at <= v.at",
            )
            .bind(&ids)
            .bind(&at)
            .bind(&urls)
            .bind(&titles)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            let sites: Vec<i64> = chunk.iter().map(|e| site_param(e.site_id)).collect();
            let visitors: Vec<Option<i64>> = chunk.iter().map(|e| e.visitor_id.map(VisitorId::get)).collect();
            let sessions: Vec<Option<i64>> = chunk.iter().map(|e| e.session_id.map(MonitorSessionId::get)).collect();
            let tabs: Vec<Option<&str>> = chunk.iter().map(|e| e.tab.as_deref()).collect();
            let urls: Vec<&str> = chunk.iter().map(|e| e.url.as_str()).collect();
            let titles: Vec<&str> = chunk.iter().map(|e| e.title.as_str()).collect();
            let referrers: Vec<&str> = chunk.iter().map(|e| e.referrer.as_str()).collect();
            let ips: Vec<Option<&str>> = chunk.iter().map(|e| e.ip.as_deref()).collect();
            let at: Vec<i64> = chunk.iter().map(|e| e.at.unix()).collect();
            // WITH ORDINALITY keeps the batch's order in the IDs.
            sqlx::query(
                "INSERT INTO page_events (site_id, visitor_id, session_id, tab, url, title, referrer, ip, at)
                 SELECT site_id, visitor_id, session_id, tab, url, title, referrer, ip, at
                 FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::bigint[])
                      WITH ORDINALITY AS e (site_id, visitor_id, session_id, tab, url, title, referrer, ip, at, n)
                 ORDER BY n",
            )
            .bind(&sites)
            .bind(&visitors)
            .bind(&sessions)
            .bind(&tabs)
            .bind(&urls)
            .bind(&titles)
            .bind(&referrers)
            .bind(&ips)
            .bind(&at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn live_sessions(&self, site: SiteId, since: Timestamp, limit: u32) -> StoreResult<Vec<MonitorSession>> {
        self.sessions_where(
            "site_id = $1 AND last_seen_at >= $2 ORDER BY last_seen_at DESC, id DESC",
            &[site_param(site), since.unix()],
            limit,
        )
        .await
    }

    async fn sessions_of_visitor(&self, visitor: VisitorId, limit: u32) -> StoreResult<Vec<MonitorSession>> {
        self.sessions_where("visitor_id = $1 ORDER BY started_at DESC, id DESC", &[visitor.get()], limit).await
    }

    async fn page_events_of_session(&self, session: MonitorSessionId, limit: u32) -> StoreResult<Vec<PageEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM (SELECT id, site_id, visitor_id, session_id, tab, url, title, referrer, ip, at
                            FROM page_events WHERE session_id = $1 ORDER BY id DESC LIMIT $2) AS newest
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
            "SELECT COUNT(*) AS n FROM page_events WHERE site_id = $1 AND at >= $2 AND visitor_id IS NULL
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
        let done = sqlx::query("DELETE FROM page_events WHERE site_id = $1 AND at < $2")
            .bind(site_param(site))
            .bind(before.unix())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn erase_visitor(&self, visitor: VisitorId) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let id = visitor.get();
        // Locked first: a merge into or out of it waits, and so does anything
        // that would add a row pointing at it.
        if lock_visitors(&mut tx, &[id]).await?.is_empty() {
            return Ok(false);
        }
        // Visits, their page views and the Help Center's page views go with
        // the row (ON DELETE CASCADE); what only points at it is deleted here.
        for sql in [
            "DELETE FROM votes WHERE visitor_id = $1 AND person_id IS NULL",
            "DELETE FROM comments WHERE visitor_id = $1 AND person_id IS NULL",
            "DELETE FROM conversations WHERE visitor_id = $1 AND verified_user IS NULL",
            "DELETE FROM page_events WHERE visitor_id = $1",
            "DELETE FROM visitors WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn merge_visitors(&self, from: VisitorId, into: VisitorId) -> StoreResult<bool> {
        if from == into {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Both rows locked (in ID order) before anything moves: a concurrent
        // merge or erasure of either waits, and rows being added for `from`
        // (page events, a conversation) wait too, then fail their foreign
        // key check, as they would after the merge on SQLite.
        if lock_visitors(&mut tx, &[from.get(), into.get()]).await?.len() != 2 {
            return Ok(false);
        }
        let same_site: Option<i64> = sqlx::query_scalar(
            "SELECT a.site_id FROM visitors a JOIN visitors b ON a.site_id = b.site_id WHERE a.id = $1 AND b.id = $2",
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
            "UPDATE conversations SET visitor_id = $2 WHERE visitor_id = $1",
            "UPDATE page_views SET visitor_id = $2 WHERE visitor_id = $1",
            "UPDATE page_events SET visitor_id = $2 WHERE visitor_id = $1",
            "UPDATE monitor_sessions SET visitor_id = $2 WHERE visitor_id = $1",
            "UPDATE monitor_visitor_tokens SET visitor_id = $2 WHERE visitor_id = $1",
            // A guest vote on an article both voted on: the one kept wins.
            "DELETE FROM votes WHERE visitor_id = $1 AND person_id IS NULL
               AND article_id IN (SELECT article_id FROM votes WHERE visitor_id = $2 AND person_id IS NULL)",
            "UPDATE votes SET visitor_id = $2 WHERE visitor_id = $1",
            "UPDATE comments SET visitor_id = $2 WHERE visitor_id = $1",
            "UPDATE consents SET visitor_id = $2 WHERE visitor_id = $1",
            "DELETE FROM visitors WHERE id = $1",
        ] {
            let query = sqlx::query(sql).bind(from.get());
            // PostgreSQL wants exactly as many values as the statement has placeholders.
            let query = if sql.contains("$2") { query.bind(into.get()) } else { query };
            query.execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }
}
