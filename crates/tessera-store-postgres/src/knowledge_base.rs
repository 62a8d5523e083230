//! The knowledge base: categories, articles with one translation per
//! language, and full-text search over `article_search` (see `search`),
//! which this code (not triggers) keeps in step with `article_translations`.

use async_trait::async_trait;
use tessera_core::{ArticleId, CategoryId, Language, PersonId, SiteId, Timestamp};
use tessera_store::{
    Article, ArticleStatus, Category, CategoryName, KnowledgeBaseStore, SearchHit, StoreError, StoreResult, Translation,
};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{backend, conflict_or_backend, created, record};

use crate::PostgresStore;
use crate::search::reindex;

const SELECT_ARTICLE: &str = "SELECT a.id, a.site_id, a.category_id, a.author_id, p.name AS author_name, a.status, \
                              a.created_at, a.updated_at, a.published_at, a.views \
                              FROM articles a JOIN people p ON p.id = a.author_id";

const SELECT_TRANSLATION: &str = "SELECT t.article_id, t.language, t.title, t.body_markdown, t.body_html, t.updated_at \
                                  FROM article_translations t";

#[async_trait]
impl KnowledgeBaseStore for PostgresStore {
    async fn create_category(
        &self,
        site: SiteId,
        parent: Option<CategoryId>,
        position: i32,
        names: &[CategoryName],
    ) -> StoreResult<Category> {
        if names.is_empty() {
            return Err(StoreError::Conflict("category names must not be empty"));
        }
        // The INSERT checks the parent's site itself.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let id: Option<i64> = match parent {
            None => sqlx::query_scalar(
                "INSERT INTO categories (site_id, parent_id, position) VALUES ($1, NULL, $2) RETURNING id",
            )
            .bind(site_param(site))
            .bind(i64::from(position)),
            Some(parent) => sqlx::query_scalar(
                "INSERT INTO categories (site_id, parent_id, position)
                 SELECT site_id, id, $1 FROM categories WHERE id = $2 AND site_id = $3 RETURNING id",
            )
            .bind(i64::from(position))
            .bind(parent.get())
            .bind(site_param(site)),
        }
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let id = id.ok_or(StoreError::Conflict("parent category"))?;
        for name in names {
            sqlx::query(
                "INSERT INTO category_names (category_id, language, name, description) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(name.language.as_str())
            .bind(&name.name)
            .bind(&name.description)
            .execute(&mut *tx)
            .await
            .map_err(conflict_or_backend("category name language"))?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(created::category(CategoryId::new(id), site, parent, position, names))
    }

    async fn categories(&self, site: SiteId) -> StoreResult<Vec<Category>> {
        // COALESCE: roots first (PostgreSQL sorts NULLs last).
        let rows = sqlx::query(
            "SELECT id, site_id, parent_id, position FROM categories WHERE site_id = $1
             ORDER BY COALESCE(parent_id, 0), position, id",
        )
        .bind(site_param(site))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let name_rows = sqlx::query(
            "SELECT n.category_id, n.language, n.name, n.description FROM category_names n
             JOIN categories c ON c.id = n.category_id WHERE c.site_id = $1 ORDER BY n.category_id, n.language",
        )
        .bind(site_param(site))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        record::categories(&rows, &name_rows)
    }

    async fn create_article(
        &self,
        site: SiteId,
        category: CategoryId,
        author: PersonId,
        now: Timestamp,
    ) -> StoreResult<Article> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO articles (site_id, category_id, author_id, status, created_at, updated_at, published_at, views)
             SELECT site_id, id, $1, $2, $3, $4, NULL, 0 FROM categories WHERE id = $5 AND site_id = $6 RETURNING id",
        )
        .bind(author.get())
        .bind(ArticleStatus::Draft.as_str())
        .bind(now.unix())
        .bind(now.unix())
        .bind(category.get())
        .bind(site_param(site))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let id = ArticleId::new(id.ok_or(StoreError::Conflict("category"))?);
        self.article(id).await?.ok_or_else(|| StoreError::Corrupt(format!("article {id} missing right after insert")))
    }

    async fn article(&self, id: ArticleId) -> StoreResult<Option<Article>> {
        let row = sqlx::query(&format!("{SELECT_ARTICLE} WHERE a.id = $1"))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let mut article = record::article(&row)?;
        let rows = sqlx::query(&format!("{SELECT_TRANSLATION} WHERE t.article_id = $1 ORDER BY t.language"))
            .bind(id.get())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        article.translations = rows.iter().map(record::translation).collect::<StoreResult<_>>()?;
        Ok(Some(article))
    }

    async fn articles(&self, site: SiteId, published_only: bool) -> StoreResult<Vec<Article>> {
        let status = if published_only { " AND a.status = 'published'" } else { "" };
        let rows = sqlx::query(&format!(
            "{SELECT_ARTICLE} WHERE a.site_id = $1{status} ORDER BY a.created_at DESC, a.id DESC"
        ))
        .bind(site_param(site))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        // All translations in one query rather than one per article.
        let translation_rows = sqlx::query(&format!(
            "{SELECT_TRANSLATION} JOIN articles a ON a.id = t.article_id WHERE a.site_id = $1{status}
             ORDER BY t.article_id, t.language"
        ))
        .bind(site_param(site))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        record::articles(&rows, &translation_rows)
    }

    async fn put_translation(&self, article: ArticleId, t: &Translation) -> StoreResult<bool> {
        // The UPDATE comes first: it tells whether the article exists and
        // locks its row, so two saves of one article take turns.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let done = sqlx::query("UPDATE articles SET updated_at = $1 WHERE id = $2")
            .bind(t.updated_at.unix())
            .bind(article.get())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO article_translations (article_id, language, title, body_markdown, body_html, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (article_id, language) DO UPDATE SET title = excluded.title,
                 body_markdown = excluded.body_markdown, body_html = excluded.body_html,
                 updated_at = excluded.updated_at",
        )
        .bind(article.get())
        .bind(t.language.as_str())
        .bind(&t.title)
        .bind(&t.body_markdown)
        .bind(&t.body_html)
        .bind(t.updated_at.unix())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        reindex(&mut tx, article, t).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn set_article_status(&self, article: ArticleId, status: ArticleStatus, now: Timestamp) -> StoreResult<bool> {
        // COALESCE keeps the first publication date; a draft binds NULL and keeps whatever is there.
        let first_published = (status == ArticleStatus::Published).then_some(now.unix());
        let done = sqlx::query(
            "UPDATE articles SET status = $1, updated_at = $2, published_at = COALESCE(published_at, $3) WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(now.unix())
        .bind(first_published)
        .bind(article.get())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_article_category(
        &self,
        article: ArticleId,
        category: CategoryId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE articles SET category_id = $1, updated_at = $2
             WHERE id = $3 AND site_id = (SELECT site_id FROM categories WHERE id = $4)",
        )
        .bind(category.get())
        .bind(now.unix())
        .bind(article.get())
        .bind(category.get())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM articles WHERE id = $1")
            .bind(article.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match exists {
            Some(_) => Err(StoreError::Conflict("category")),
            None => Ok(false),
        }
    }

    async fn count_view(&self, article: ArticleId) -> StoreResult<()> {
        sqlx::query("UPDATE articles SET views = views + 1 WHERE id = $1")
            .bind(article.get())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn search(
        &self,
        site: SiteId,
        language: &Language,
        terms: &[String],
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        self.search_published(site, language, terms, limit).await
    }
}
