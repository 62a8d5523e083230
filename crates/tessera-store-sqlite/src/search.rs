//! Full-text search over `article_search` (FTS5, `unicode61` with
//! diacritics removed), which the store keeps in step with
//! `article_translations` itself rather than through triggers, so the
//! PostgreSQL backend can do the same with a `tsvector` column.

use sqlx::{Sqlite, Transaction};
use tessera_core::{ArticleId, Language, SiteId};
use tessera_store::{SearchHit, StoreResult, Translation};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{Columns, backend, record};

use crate::SqliteStore;

/// The FTS5 query for plain terms: each term a quoted string (so no term can
/// be an operator, a column filter or a syntax error), the last one a prefix,
/// all required (juxtaposition is AND). Terms without a letter or digit hold
/// no token for the tokenizer and are left out. None if no term is left.
pub(crate) fn match_expression(terms: &[String]) -> Option<String> {
    let quoted: Vec<String> = terms
        .iter()
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    if quoted.is_empty() {
        return None;
    }
    Some(quoted.join(" ") + "*")
}

/// Replaces the index row of one article's translation (the body is indexed
/// as Markdown text). Runs inside the transaction that saves the translation.
pub(crate) async fn reindex(tx: &mut Transaction<'_, Sqlite>, article: ArticleId, t: &Translation) -> StoreResult<()> {
    sqlx::query("DELETE FROM article_search WHERE article_id = ? AND language = ?")
        .bind(article.get())
        .bind(t.language.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    sqlx::query("INSERT INTO article_search (title, body, article_id, language) VALUES (?, ?, ?, ?)")
        .bind(&t.title)
        .bind(&t.body_markdown)
        .bind(article.get())
        .bind(t.language.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

impl SqliteStore {
    /// [`tessera_store::KnowledgeBaseStore::search`].
    pub(crate) async fn search_published(
        &self,
        site: SiteId,
        language: &Language,
        terms: &[String],
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        let Some(expression) = match_expression(terms) else { return Ok(Vec::new()) };
        // bm25 is smaller for better matches; a match in the title weighs ten times one in the body.
        let rows = sqlx::query(
            "SELECT s.article_id, s.title,
                    snippet(article_search, 1, char(57344), char(57345), '…', 12) AS snippet
             FROM article_search s JOIN articles a ON a.id = s.article_id
             WHERE article_search MATCH ? AND s.language = ? AND a.site_id = ? AND a.status = 'published'
             ORDER BY bm25(article_search, 10.0, 1.0), a.id
             LIMIT ?",
        )
        .bind(expression)
        .bind(language.as_str())
        .bind(site_param(site))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(|row| record::search_hit(row, row.text("snippet")?)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::match_expression;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn terms_are_quoted_and_the_last_is_a_prefix() {
        assert_eq!(match_expression(&terms(&["reset", "pass"])).as_deref(), Some("\"reset\" \"pass\"*"));
        assert_eq!(match_expression(&terms(&["say \"hi\"", "OR"])).as_deref(), Some("\"say \"\"hi\"\"\" \"OR\"*"));
        assert_eq!(match_expression(&terms(&["word", "*", "\""])).as_deref(), Some("\"word\"*"));
        assert_eq!(match_expression(&terms(&[])), None);
        assert_eq!(match_expression(&terms(&["", "-", "()"])), None);
    }
}
