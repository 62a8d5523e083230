//! Visitors (browsers known to a site), their page views and trail, and the
//! consent records that say which visitor cookies they agreed to.

use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_core::{PersonId, SiteId, Timestamp, TokenHash, VisitorId};
use tessera_store::{Activity, ConsentRecord, PageView, StoreResult, Visitor, VisitorStore};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{backend, conflict_or_backend, created, record};

use crate::PostgresStore;

const SELECT: &str = "SELECT id, site_id, person_id, persistent, created_at, last_seen_at FROM visitors";

/// Locks the person's row until the transaction ends: a person's votes and
/// the linking of their visitors take turns, as they would behind SQLite's
/// single writer. (`FOR NO KEY UPDATE` leaves foreign-key checks of rows
/// pointing at the person free to go on.)
pub(crate) async fn lock_person(tx: &mut PgConnection, person: PersonId) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM people WHERE id = $1 FOR NO KEY UPDATE")
        .bind(person.get())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// The UNION in [`VisitorStore::activity`] (`$1` the visitor, `$2` its
/// person); `kind` says which table a line comes from (a BIGINT, like every
/// integer the shared decoders read), `seq` orders the events of one second.
const ACTIVITY: &str = "
    SELECT at, seq, visitor_id, person_id, 0::BIGINT AS kind, id, path, title,
           NULL AS article_id, NULL AS helpful, NULL AS status, NULL AS body
    FROM page_views WHERE visitor_id = $1 OR person_id = $2
    UNION ALL
    SELECT voted_at, seq, visitor_id, person_id, 1, id, NULL, NULL, article_id, helpful, NULL, NULL
    FROM votes WHERE visitor_id = $1 OR person_id = $2
    UNION ALL
    SELECT created_at, seq, visitor_id, person_id, 2, id, NULL, NULL, article_id, NULL, status, body
    FROM comments WHERE visitor_id = $1 OR person_id = $2";

impl PostgresStore {
    async fn visitors_where(&self, condition: &str, bind: i64, limit: Option<u32>) -> StoreResult<Vec<Visitor>> {
        let limit_clause = if limit.is_some() { " LIMIT $2" } else { "" };
        let sql = format!("{SELECT} WHERE {condition} ORDER BY last_seen_at DESC, id DESC{limit_clause}");
        let mut query = sqlx::query(&sql).bind(bind);
        if let Some(limit) = limit {
            query = query.bind(i64::from(limit));
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(record::visitor).collect()
    }
}

#[async_trait]
impl VisitorStore for PostgresStore {
    async fn create_visitor(
        &self,
        site: SiteId,
        token: &TokenHash,
        persistent: bool,
        now: Timestamp,
    ) -> StoreResult<Visitor> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO visitors (site_id, token_hash, persistent, person_id, created_at, last_seen_at)
             VALUES ($1, $2, $3, NULL, $4, $5) RETURNING id",
        )
        .bind(site_param(site))
        .bind(&token.as_bytes()[..])
        .bind(persistent)
        .bind(now.unix())
        .bind(now.unix())
        .fetch_one(&self.pool)
        .await
        .map_err(conflict_or_backend("visitor token"))?;
        Ok(created::visitor(VisitorId::new(id), site, persistent, now))
    }

    async fn visitor_by_token(&self, token: &TokenHash) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query(&format!("{SELECT} WHERE token_hash = $1"))
            .bind(&token.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::visitor).transpose()
    }

    async fn visitor(&self, id: VisitorId) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::visitor).transpose()
    }

    // Also counts as seeing the visitor (`last_seen_at` only ever moves forward).
    async fn set_visitor_token(
        &self,
        id: VisitorId,
        token: Option<&TokenHash>,
        persistent: bool,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE visitors SET token_hash = $1, persistent = $2,
                 last_seen_at = CASE WHEN last_seen_at < $3 THEN $4 ELSE last_seen_at END
             WHERE id = $5",
        )
        .bind(token.map(|t| &t.as_bytes()[..]))
        .bind(persistent)
        .bind(now.unix())
        .bind(now.unix())
        .bind(id.get())
        .execute(&self.pool)
        .await
        .map_err(conflict_or_backend("visitor token"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_visitor(&self, id: VisitorId, now: Timestamp) -> StoreResult<()> {
        // UPDATE only, and only forwards, like session touches.
        sqlx::query("UPDATE visitors SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $3")
            .bind(now.unix())
            .bind(id.get())
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    // Also counts as seeing the visitor. Guest page views, votes and comments
    // of the visitor become the person's (keeping their `seq`: linking is not
    // an event); a guest vote on an article the person already voted on is
    // deleted first.
    async fn link_visitor(&self, id: VisitorId, person: PersonId, now: Timestamp) -> StoreResult<bool> {
        let (v, p) = (id.get(), person.get());
        // The person's votes wait (see `lock_person`); then the UPDATE tells
        // whether the visitor exists and locks its row.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock_person(&mut tx, person).await?;
        let done = sqlx::query(
            "UPDATE visitors SET person_id = $1,
                 last_seen_at = CASE WHEN last_seen_at < $2 THEN $3 ELSE last_seen_at END
             WHERE id = $4",
        )
        .bind(p)
        .bind(now.unix())
        .bind(now.unix())
        .bind(v)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let steps: [(&str, &[i64]); 4] = [
            (
                "DELETE FROM votes WHERE visitor_id = $1 AND person_id IS NULL
                 AND article_id IN (SELECT article_id FROM votes WHERE person_id = $2)",
                &[v, p],
            ),
            ("UPDATE votes SET person_id = $1 WHERE visitor_id = $2 AND person_id IS NULL", &[p, v]),
            ("UPDATE comments SET person_id = $1 WHERE visitor_id = $2 AND person_id IS NULL", &[p, v]),
            ("UPDATE page_views SET person_id = $1 WHERE visitor_id = $2 AND person_id IS NULL", &[p, v]),
        ];
        for (sql, binds) in steps {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            query.execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn recent_visitors(&self, site: SiteId, limit: u32) -> StoreResult<Vec<Visitor>> {
        self.visitors_where("site_id = $1", site_param(site), Some(limit)).await
    }

    async fn visitors_of_person(&self, person: PersonId) -> StoreResult<Vec<Visitor>> {
        self.visitors_where("person_id = $1", person.get(), None).await
    }

    async fn record_page_view(&self, view: &PageView) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO page_views (site_id, visitor_id, person_id, path, title, article_id, at, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, nextval('activity_sequence'))",
        )
        .bind(site_param(view.site_id))
        .bind(view.visitor_id.get())
        .bind(view.person_id.map(PersonId::get))
        .bind(&view.path)
        .bind(&view.title)
        .bind(view.article_id.map(|a| a.get()))
        .bind(view.at.unix())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn activity(&self, id: VisitorId, limit: u32) -> StoreResult<Vec<Activity>> {
        let person: Option<Option<i64>> = sqlx::query_scalar("SELECT person_id FROM visitors WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(person) = person else { return Ok(Vec::new()) };
        // The newest `limit`, then turned around to read oldest first; `seq`
        // is unique across the three tables, so it settles every tie. A NULL
        // person binds to `person_id = NULL`, which matches nothing.
        let sql = format!("SELECT * FROM ({ACTIVITY}) AS a ORDER BY at DESC, seq DESC LIMIT $3");
        let rows = sqlx::query(&sql)
            .bind(id.get())
            .bind(person)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut trail = rows.iter().map(record::activity).collect::<StoreResult<Vec<_>>>()?;
        trail.reverse();
        Ok(trail)
    }

    async fn record_consent(&self, record: &ConsentRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO consents (token_hash, site_id, choice, visitor_id, decided_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&record.token_hash.as_bytes()[..])
        .bind(site_param(record.site_id))
        .bind(record.choice.as_str())
        .bind(record.visitor_id.map(|v| v.get()))
        .bind(record.decided_at.unix())
        .execute(&self.pool)
        .await
        .map_err(conflict_or_backend("consent token"))?;
        Ok(())
    }

    async fn consent(&self, token: &TokenHash) -> StoreResult<Option<ConsentRecord>> {
        let row = sqlx::query(
            "SELECT token_hash, site_id, choice, visitor_id, decided_at FROM consents WHERE token_hash = $1",
        )
        .bind(&token.as_bytes()[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(record::consent).transpose()
    }
}
