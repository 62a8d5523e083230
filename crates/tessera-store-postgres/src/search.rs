//! Full-text search over `article_search`, a `tsvector` per translation that
//! the store keeps in step with `article_translations` itself (as the SQLite
//! backend does with FTS5), and that an import rebuilds.
//!
//! PostgreSQL's own parsers and dictionaries are not used: they stem
//! ("settings" finds "set"), drop stop words ("not") and recognise e-mail
//! addresses, paths and hyphenated compounds, so the same words would find
//! different articles here than in SQLite. Instead this module tokenises
//! both the documents and the search terms the way SQLite's `unicode61
//! remove_diacritics 2` tokenizer does (runs of letters and digits, lower
//! case, accents removed) and hands PostgreSQL finished lexemes: a
//! `tsvector` literal with positions (title words weighted A, ten times a
//! body word in `ts_rank`) and a `tsquery` literal (`&` between terms, `<->`
//! inside a term of several words, `:*` on the last). Since every lexeme is
//! letters and digits only, no search term can be query syntax. Snippets are
//! cut from the Markdown body here too, marking the original words.

use std::collections::BTreeMap;

use sqlx::{PgConnection, Postgres, Transaction};
use tessera_core::{ArticleId, Language, SiteId};
use tessera_store::{SearchHit, StoreResult, Translation};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{Columns, backend, record};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::PostgresStore;

/// A longer run of letters is cut to this many characters, in documents and
/// terms alike (PostgreSQL refuses lexemes over 2 KiB).
const MAX_TOKEN_CHARS: usize = 200;

/// `tsvector` positions stop at 16383; a lexeme keeps at most 256 of them.
const MAX_POSITION: usize = 16_383;
const MAX_POSITIONS_PER_LEXEME: usize = 256;

/// Words in a snippet, as SQLite's `snippet(..., 12)`.
const SNIPPET_TOKENS: usize = 12;
const ELLIPSIS: &str = "…";

/// One word of a text: where it is, and its folded form.
#[derive(Debug, PartialEq, Eq)]
struct Token {
    start: usize,
    end: usize,
    folded: String,
}

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Lower case, accents removed (decomposed, combining marks dropped), cut to
/// [`MAX_TOKEN_CHARS`]; empty if the word was only marks.
fn fold(word: &str) -> String {
    word.to_lowercase().nfd().filter(|c| !is_combining_mark(*c)).take(MAX_TOKEN_CHARS).collect()
}

/// The words of `text`, in order.
fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (start, is_token_char(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let folded = fold(&text[s..i]);
                if !folded.is_empty() {
                    out.push(Token { start: s, end: i, folded });
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The `tsvector` literal of a translation: title words at positions 1…n
/// with weight A, then body words after a gap (so no phrase spans the two).
pub(crate) fn document(title: &str, body: &str) -> String {
    let mut lexemes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let title_tokens = tokens(title);
    let gap = title_tokens.len() + 2;
    let weighted = title_tokens.into_iter().enumerate().map(|(i, t)| (t.folded, i + 1, "A"));
    let body = tokens(body).into_iter().enumerate().map(|(i, t)| (t.folded, i + gap, ""));
    for (lexeme, position, weight) in weighted.chain(body) {
        let positions = lexemes.entry(lexeme).or_default();
        if positions.len() < MAX_POSITIONS_PER_LEXEME {
            positions.push(format!("{}{weight}", position.min(MAX_POSITION)));
        }
    }
    let mut literal = String::new();
    for (lexeme, positions) in lexemes {
        if !literal.is_empty() {
            literal.push(' ');
        }
        // Letters, digits and marks only: nothing to escape inside the quotes.
        literal.push('\'');
        literal.push_str(&lexeme);
        literal.push_str("':");
        literal.push_str(&positions.join(","));
    }
    literal
}

/// The search terms as words: each term's folded words, terms without any
/// left out.
fn phrases(terms: &[String]) -> Vec<Vec<String>> {
    terms
        .iter()
        .map(|t| tokens(t).into_iter().map(|t| t.folded).collect::<Vec<_>>())
        .filter(|words| !words.is_empty())
        .collect()
}

/// The `tsquery` literal for plain terms: every term required, the words of
/// one term adjacent and in order, the last word of the last term a prefix.
/// None if no term holds a word.
fn query_expression(phrases: &[Vec<String>]) -> Option<String> {
    let last = phrases.len().checked_sub(1)?;
    let parts: Vec<String> = phrases
        .iter()
        .enumerate()
        .map(|(i, words)| {
            let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
            let joined = quoted.join(" <-> ");
            if i == last { format!("({joined}:*)") } else { format!("({joined})") }
        })
        .collect();
    Some(parts.join(" & "))
}

/// A short piece of `body` around the best match: at most
/// [`SNIPPET_TOKENS`] words, the window holding the most different search
/// words (the earliest of equals) with its matches in the middle, matched
/// words wrapped in the marks, an ellipsis where text was cut.
fn snippet(body: &str, phrases: &[Vec<String>]) -> String {
    let words = tokens(body);
    if words.is_empty() {
        return String::new();
    }
    let prefix = phrases.last().and_then(|p| p.last()).map(String::as_str);
    let exact: Vec<&str> = phrases.iter().flatten().map(String::as_str).collect();
    let matched: Vec<Option<&str>> = words
        .iter()
        .map(|w| exact.iter().find(|q| w.folded == **q).copied().or_else(|| prefix.filter(|p| w.folded.starts_with(p))))
        .collect();
    let span = SNIPPET_TOKENS.min(words.len());
    let (mut best, mut best_score) = (0, (0, 0));
    for start in 0..=words.len() - span {
        let window = &matched[start..start + span];
        let mut distinct: Vec<&str> = window.iter().flatten().copied().collect();
        let hits = distinct.len();
        distinct.sort_unstable();
        distinct.dedup();
        let score = (distinct.len(), hits);
        if score > best_score {
            (best, best_score) = (start, score);
        }
    }
    // Centre the matched words of the best window, as FTS5 does.
    let hits: Vec<usize> = (best..best + span).filter(|i| matched[*i].is_some()).collect();
    if let (Some(first), Some(last)) = (hits.first(), hits.last()) {
        let margin = (span - (last - first + 1)) / 2;
        best = first.saturating_sub(margin).min(words.len() - span);
    }
    let end = best + span;
    let mut out = String::new();
    let mut at = if best == 0 { 0 } else { words[best].start };
    if best > 0 {
        out.push_str(ELLIPSIS);
    }
    for (word, hit) in words[best..end].iter().zip(&matched[best..end]) {
        out.push_str(&body[at..word.start]);
        if hit.is_some() {
            out.push(SearchHit::MARK_START);
            out.push_str(&body[word.start..word.end]);
            out.push(SearchHit::MARK_END);
        } else {
            out.push_str(&body[word.start..word.end]);
        }
        at = word.end;
    }
    if end == words.len() {
        out.push_str(&body[at..]);
    } else {
        out.push_str(ELLIPSIS);
    }
    out
}

/// Replaces the index row of one article's translation. Runs inside the
/// transaction that saves the translation.
pub(crate) async fn reindex(
    tx: &mut Transaction<'_, Postgres>,
    article: ArticleId,
    t: &Translation,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO article_search (article_id, language, document) VALUES ($1, $2, $3::tsvector)
         ON CONFLICT (article_id, language) DO UPDATE SET document = excluded.document",
    )
    .bind(article.get())
    .bind(t.language.as_str())
    .bind(document(&t.title, &t.body_markdown))
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Translations indexed per statement when the whole index is rebuilt.
const REBUILD_BATCH: i64 = 500;

/// Rebuilds the whole index from `article_translations` (after an import);
/// returns how many translations were indexed.
pub(crate) async fn rebuild(conn: &mut PgConnection) -> StoreResult<u64> {
    sqlx::query("DELETE FROM article_search").execute(&mut *conn).await.map_err(backend)?;
    let mut after: (i64, String) = (i64::MIN, String::new());
    let mut count = 0;
    loop {
        let rows = sqlx::query(
            "SELECT article_id, language, title, body_markdown FROM article_translations
             WHERE (article_id, language) > ($1, $2) ORDER BY article_id, language LIMIT $3",
        )
        .bind(after.0)
        .bind(&after.1)
        .bind(REBUILD_BATCH)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        let Some(last) = rows.last() else { break };
        after = (last.int("article_id")?, last.text("language")?);
        let (mut ids, mut languages, mut documents) = (Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            ids.push(row.int("article_id")?);
            languages.push(row.text("language")?);
            documents.push(document(&row.text("title")?, &row.text("body_markdown")?));
        }
        sqlx::query(
            "INSERT INTO article_search (article_id, language, document)
             SELECT id, language, document::tsvector FROM UNNEST($1::bigint[], $2::text[], $3::text[])
                 AS u (id, language, document)",
        )
        .bind(&ids)
        .bind(&languages)
        .bind(&documents)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        count += rows.len() as u64;
    }
    Ok(count)
}

impl PostgresStore {
    /// [`tessera_store::KnowledgeBaseStore::search`].
    pub(crate) async fn search_published(
        &self,
        site: SiteId,
        language: &Language,
        terms: &[String],
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        let phrases = phrases(terms);
        let Some(expression) = query_expression(&phrases) else { return Ok(Vec::new()) };
        // Weight A (title) counts 1.0 in ts_rank, the default weight of the body 0.1.
        let rows = sqlx::query(
            "SELECT s.article_id, t.title, t.body_markdown
             FROM article_search s
             JOIN article_translations t ON t.article_id = s.article_id AND t.language = s.language
             JOIN articles a ON a.id = s.article_id
             WHERE s.document @@ $1::tsquery AND s.language = $2 AND a.site_id = $3 AND a.status = 'published'
             ORDER BY ts_rank(s.document, $1::tsquery) DESC, a.id
             LIMIT $4",
        )
        .bind(expression)
        .bind(language.as_str())
        .bind(site_param(site))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(|row| record::search_hit(row, snippet(&row.text("body_markdown")?, &phrases))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn query(words: &[&str]) -> Option<String> {
        query_expression(&phrases(&terms(words)))
    }

    #[test]
    fn words_are_letters_and_digits_folded_like_unicode61() {
        let folded: Vec<String> =
            tokens("Réinitialiser l'É\u{301}TÉ, body:settings 2fa — ok🙂x").into_iter().map(|t| t.folded).collect();
        assert_eq!(folded, ["reinitialiser", "l", "ete", "body", "settings", "2fa", "ok", "x"]);
        let long = "a".repeat(MAX_TOKEN_CHARS * 2);
        assert_eq!(tokens(&long)[0].folded.chars().count(), MAX_TOKEN_CHARS);
    }

    #[test]
    fn terms_become_lexemes_and_the_last_is_a_prefix() {
        assert_eq!(query(&["reset", "pass"]).as_deref(), Some("('reset') & ('pass':*)"));
        assert_eq!(query(&["say \"hi\"", "OR"]).as_deref(), Some("('say' <-> 'hi') & ('or':*)"));
        assert_eq!(query(&["word", "*", "\""]).as_deref(), Some("('word':*)"));
        assert_eq!(query(&["Décembre'); DROP"]).as_deref(), Some("('decembre' <-> 'drop':*)"));
        assert_eq!(query(&[]), None);
        assert_eq!(query(&["", "-", "()", "'"]), None);
    }

    #[test]
    fn documents_weight_the_title_and_keep_positions() {
        assert_eq!(document("Reset password", "A password."), "'a':4 'password':2A,5 'reset':1A");
        assert_eq!(document("", ""), "");
    }

    #[test]
    fn snippets_mark_the_original_words_and_cut_with_an_ellipsis() {
        let m = |w: &str| format!("{}{w}{}", SearchHit::MARK_START, SearchHit::MARK_END);
        let p = phrases(&terms(&["decembre"]));
        assert_eq!(
            snippet("Les factures partent en décembre.", &p),
            format!("Les factures partent en {}.", m("décembre"))
        );
        let long = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen password end";
        let p = phrases(&terms(&["pass"]));
        let s = snippet(long, &p);
        assert!(s.starts_with(ELLIPSIS) && s.contains(&m("password")) && s.ends_with("end"), "{s}");
        assert_eq!(snippet("", &p), "");
    }
}
