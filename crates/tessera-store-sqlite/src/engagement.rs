//! Votes and comments on articles, by people and by guest visitors.
//!
//! A vote belongs to a person when one is known, else to the visitor; two
//! partial unique indexes keep it to one of each per article, and the upserts
//! name the index they hit (`ON CONFLICT (...) WHERE ...`, as in PostgreSQL).

use async_trait::async_trait;
use tessera_core::{ArticleId, CommentId, PersonId, SiteId, Timestamp};
use tessera_store::{Actor, Comment, CommentStatus, EngagementStore, NewComment, StoreError, StoreResult, VoteTotals};
use tessera_store_sql::param::site_param;
use tessera_store_sql::value::count64;
use tessera_store_sql::{backend, created, record};

use crate::SqliteStore;
use crate::visitors::next_activity_seq;

const SELECT_COMMENT: &str = "SELECT id, site_id, article_id, visitor_id, person_id, author_name, body, status, \
                              created_at, moderated_at, moderated_by FROM comments";

impl SqliteStore {
    async fn comments_where(&self, condition: &str, binds: &[Option<i64>]) -> StoreResult<Vec<Comment>> {
        let sql = format!("{SELECT_COMMENT} WHERE {condition} ORDER BY created_at, id");
        let mut query = sqlx::query(&sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(record::comment).collect()
    }
}

#[async_trait]
impl EngagementStore for SqliteStore {
    // An anonymous actor is `Conflict("anonymous")`. The guest vote of the
    // person's visitor is deleted first, so one browser never counts twice.
    // A changed vote is a new event: it takes a new `seq` with its `voted_at`.
    async fn set_vote(&self, article: ArticleId, actor: Actor, helpful: bool, now: Timestamp) -> StoreResult<()> {
        let visitor = actor.visitor.map(|v| v.get());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let seq = next_activity_seq(&mut tx).await?;
        match actor.person {
            Some(person) => {
                if let Some(visitor) = visitor {
                    sqlx::query("DELETE FROM votes WHERE article_id = ? AND visitor_id = ? AND person_id IS NULL")
                        .bind(article.get())
                        .bind(visitor)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                }
                sqlx::query(
                    "INSERT INTO votes (article_id, visitor_id, person_id, helpful, voted_at, seq)
                     VALUES (?, ?, ?, ?, ?, ?)
                     ON CONFLICT (article_id, person_id) WHERE person_id IS NOT NULL DO UPDATE SET
                         helpful = excluded.helpful, voted_at = excluded.voted_at, seq = excluded.seq,
                         visitor_id = COALESCE(excluded.visitor_id, votes.visitor_id)",
                )
                .bind(article.get())
                .bind(visitor)
                .bind(person.get())
                .bind(helpful)
                .bind(now.unix())
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            None => {
                let Some(visitor) = visitor else { return Err(StoreError::Conflict("anonymous")) };
                sqlx::query(
                    "INSERT INTO votes (article_id, visitor_id, person_id, helpful, voted_at, seq)
                     VALUES (?, ?, NULL, ?, ?, ?)
                     ON CONFLICT (article_id, visitor_id) WHERE person_id IS NULL DO UPDATE SET
                         helpful = excluded.helpful, voted_at = excluded.voted_at, seq = excluded.seq",
                )
                .bind(article.get())
                .bind(visitor)
                .bind(helpful)
                .bind(now.unix())
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)
    }

    async fn vote_of(&self, article: ArticleId, actor: Actor) -> StoreResult<Option<bool>> {
        let query = match (actor.person, actor.visitor) {
            (Some(person), _) => sqlx::query_scalar("SELECT helpful FROM votes WHERE article_id = ? AND person_id = ?")
                .bind(article.get())
                .bind(person.get()),
            (None, Some(visitor)) => sqlx::query_scalar(
                "SELECT helpful FROM votes WHERE article_id = ? AND visitor_id = ? AND person_id IS NULL",
            )
            .bind(article.get())
            .bind(visitor.get()),
            (None, None) => return Ok(None),
        };
        query.fetch_optional(&self.pool).await.map_err(backend)
    }

    async fn vote_totals(&self, article: ArticleId) -> StoreResult<VoteTotals> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN helpful THEN 1 ELSE 0 END), 0) AS helpful,
                    COALESCE(SUM(CASE WHEN helpful THEN 0 ELSE 1 END), 0) AS not_helpful
             FROM votes WHERE article_id = ?",
        )
        .bind(article.get())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        record::vote_totals(&row)
    }

    // INSERT ... SELECT from the article: no row means it is not on that site
    // (and the transaction, with the `seq` it took, is rolled back).
    async fn add_comment(&self, new: &NewComment, now: Timestamp) -> StoreResult<Comment> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let seq = next_activity_seq(&mut tx).await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO comments
                 (site_id, article_id, visitor_id, person_id, author_name, body, status, created_at, seq)
             SELECT site_id, id, ?, ?, ?, ?, ?, ?, ? FROM articles WHERE id = ? AND site_id = ? RETURNING id",
        )
        .bind(new.author.visitor.map(|v| v.get()))
        .bind(new.author.person.map(PersonId::get))
        .bind(&new.author_name)
        .bind(&new.body)
        .bind(CommentStatus::Pending.as_str())
        .bind(now.unix())
        .bind(seq)
        .bind(new.article_id.get())
        .bind(site_param(new.site_id))
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let id = id.ok_or(StoreError::Conflict("article"))?;
        tx.commit().await.map_err(backend)?;
        Ok(created::comment(CommentId::new(id), new, now))
    }

    async fn comments(&self, article: ArticleId, viewer: Actor) -> StoreResult<Vec<Comment>> {
        // A NULL bind matches nothing, so an absent person or visitor sees no pending comment through it.
        let condition = "article_id = ? AND (status = 'approved'
                         OR (status = 'pending' AND (person_id = ? OR visitor_id = ?)))";
        let binds = [Some(article.get()), viewer.person.map(PersonId::get), viewer.visitor.map(|v| v.get())];
        self.comments_where(condition, &binds).await
    }

    async fn approved_comment_count(&self, article: ArticleId) -> StoreResult<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM comments WHERE article_id = ? AND status = 'approved'")
            .bind(article.get())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        count64(&row, "n")
    }

    async fn pending_comments(&self, site: SiteId) -> StoreResult<Vec<Comment>> {
        self.comments_where("site_id = ? AND status = 'pending'", &[Some(site_param(site))]).await
    }

    async fn comment(&self, id: CommentId) -> StoreResult<Option<Comment>> {
        Ok(self.comments_where("id = ?", &[Some(id.get())]).await?.pop())
    }

    async fn moderate_comment(
        &self,
        id: CommentId,
        status: CommentStatus,
        moderator: PersonId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        if status == CommentStatus::Pending {
            return Ok(false);
        }
        let done = sqlx::query(
            "UPDATE comments SET status = ?, moderated_at = ?, moderated_by = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(now.unix())
        .bind(moderator.get())
        .bind(id.get())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }
}
