//! The knowledge base: nested categories, articles translated per language
//! (Markdown rendered to sanitised HTML when saved), full-text search, view
//! counts, votes and moderated comments.
//!
//! It talks to storage only through the `tessera-store` traits and knows
//! nothing of HTTP; every check that protects the data (lengths, which site
//! an article belongs to, only published articles take votes) lives here so
//! that any front end gets it.

pub mod markdown;
pub mod search;
mod tree;

use std::sync::Arc;

use tessera_core::{ArticleId, CategoryId, Clock, CommentId, Language, PersonId, SiteId};
use tessera_store::{
    Actor, Article, ArticleStatus, CategoryName, Comment, CommentStatus, NewComment, SearchHit, Store, StoreError,
    Translation, VoteTotals,
};

pub use tree::{CategoryTree, MAX_DEPTH, name_in};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_COMMENT_CHARS: usize = 5_000;
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("no such article")]
    NotFound,
    #[error("a title must be 1 to {MAX_TITLE_CHARS} characters")]
    TitleLength,
    #[error("an article body can be at most {} bytes", markdown::MAX_MARKDOWN_BYTES)]
    BodyTooLong,
    #[error("a category needs a name of 1 to {MAX_NAME_CHARS} characters")]
    CategoryName,
    #[error("categories nest at most {MAX_DEPTH} deep")]
    TooDeep,
    #[error("the comment is empty")]
    CommentEmpty,
    #[error("a comment can be at most {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
    #[error("a name must be 1 to {MAX_NAME_CHARS} characters")]
    NameLength,
    /// Activity needs someone to belong to (a visitor or a person).
    #[error("nobody to attribute this to")]
    Anonymous,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The translation a reader gets: theirs, or the site default's with
/// `fallback` set so the page can say so.
#[derive(Clone, Copy, Debug)]
pub struct Chosen<'a> {
    pub translation: &'a Translation,
    pub fallback: bool,
}

pub fn choose<'a>(article: &'a Article, wanted: &Language, default: &Language) -> Option<Chosen<'a>> {
    if let Some(t) = article.translation(wanted) {
        return Some(Chosen { translation: t, fallback: false });
    }
    let t = article.translation(default).or_else(|| article.translations.first())?;
    Some(Chosen { translation: t, fallback: true })
}

#[derive(Clone, Debug)]
pub struct KnowledgeBase {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

fn trimmed_len_ok(text: &str, max: usize) -> bool {
    let n = text.trim().chars().count();
    n > 0 && n <= max
}

impl KnowledgeBase {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub async fn tree(&self, site: SiteId) -> Result<CategoryTree, KbError> {
        Ok(CategoryTree::new(self.store.categories(site).await?))
    }

    pub async fn create_category(
        &self,
        site: SiteId,
        parent: Option<CategoryId>,
        position: i32,
        names: &[CategoryName],
    ) -> Result<CategoryId, KbError> {
        if names.is_empty() || names.iter().any(|n| !trimmed_len_ok(&n.name, MAX_NAME_CHARS)) {
            return Err(KbError::CategoryName);
        }
        if let Some(parent) = parent
            && self.tree(site).await?.trail(parent).len() >= MAX_DEPTH
        {
            return Err(KbError::TooDeep);
        }
        Ok(self.store.create_category(site, parent, position, names).await?.id)
    }

    pub async fn create_article(
        &self,
        site: SiteId,
        category: CategoryId,
        author: PersonId,
    ) -> Result<Article, KbError> {
        Ok(self.store.create_article(site, category, author, self.clock.now()).await?)
    }

    /// Any article of the site, drafts included (for agents).
    pub async fn article(&self, site: SiteId, id: ArticleId) -> Result<Article, KbError> {
        self.store.article(id).await?.filter(|a| a.site_id == site).ok_or(KbError::NotFound)
    }

    /// A published article of the site (for readers).
    pub async fn published(&self, site: SiteId, id: ArticleId) -> Result<Article, KbError> {
        Some(self.article(site, id).await?).filter(|a| a.status == ArticleStatus::Published).ok_or(KbError::NotFound)
    }

    pub async fn articles(&self, site: SiteId, published_only: bool) -> Result<Vec<Article>, KbError> {
        Ok(self.store.articles(site, published_only).await?)
    }

    /// Saves one language's text, rendering the Markdown once, here.
    pub async fn save_translation(
        &self,
        site: SiteId,
        id: ArticleId,
        language: Language,
        title: &str,
        body_markdown: &str,
    ) -> Result<(), KbError> {
        if !trimmed_len_ok(title, MAX_TITLE_CHARS) {
            return Err(KbError::TitleLength);
        }
        if body_markdown.len() > markdown::MAX_MARKDOWN_BYTES {
            return Err(KbError::BodyTooLong);
        }
        self.article(site, id).await?;
        let translation = Translation {
            language,
            title: title.trim().to_owned(),
            body_markdown: body_markdown.to_owned(),
            body_html: markdown::render(body_markdown),
            updated_at: self.clock.now(),
        };
        self.store.put_translation(id, &translation).await?;
        Ok(())
    }

    pub async fn set_published(&self, site: SiteId, id: ArticleId, published: bool) -> Result<(), KbError> {
        self.article(site, id).await?;
        let status = if published { ArticleStatus::Published } else { ArticleStatus::Draft };
        self.store.set_article_status(id, status, self.clock.now()).await?;
        Ok(())
    }

    pub async fn count_view(&self, id: ArticleId) -> Result<(), KbError> {
        Ok(self.store.count_view(id).await?)
    }

    pub async fn search(&self, site: SiteId, language: &Language, query: &str) -> Result<Vec<SearchHit>, KbError> {
        let terms = search::terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.search(site, language, &terms, 20).await?)
    }

    /// Records or changes the actor's vote on a published article.
    pub async fn vote(&self, site: SiteId, id: ArticleId, actor: Actor, helpful: bool) -> Result<(), KbError> {
        if actor.is_anonymous() {
            return Err(KbError::Anonymous);
        }
        self.published(site, id).await?;
        Ok(self.store.set_vote(id, actor, helpful, self.clock.now()).await?)
    }

    pub async fn vote_of(&self, id: ArticleId, actor: Actor) -> Result<Option<bool>, KbError> {
        if actor.is_anonymous() {
            return Ok(None);
        }
        Ok(self.store.vote_of(id, actor).await?)
    }

    pub async fn vote_totals(&self, id: ArticleId) -> Result<VoteTotals, KbError> {
        Ok(self.store.vote_totals(id).await?)
    }

    /// A new comment waits for moderation; its author sees it meanwhile.
    pub async fn comment(
        &self,
        site: SiteId,
        id: ArticleId,
        author: Actor,
        author_name: &str,
        body: &str,
    ) -> Result<Comment, KbError> {
        if author.is_anonymous() {
            return Err(KbError::Anonymous);
        }
        let body = body.trim();
        if body.is_empty() {
            return Err(KbError::CommentEmpty);
        }
        if body.chars().count() > MAX_COMMENT_CHARS {
            return Err(KbError::CommentTooLong);
        }
        if !trimmed_len_ok(author_name, MAX_NAME_CHARS) {
            return Err(KbError::NameLength);
        }
        self.published(site, id).await?;
        let new = NewComment {
            site_id: site,
            article_id: id,
            author,
            author_name: author_name.trim().to_owned(),
            body: body.to_owned(),
        };
        Ok(self.store.add_comment(&new, self.clock.now()).await?)
    }

    pub async fn comments(&self, id: ArticleId, viewer: Actor) -> Result<Vec<Comment>, KbError> {
        Ok(self.store.comments(id, viewer).await?)
    }

    pub async fn approved_comment_count(&self, id: ArticleId) -> Result<u64, KbError> {
        Ok(self.store.approved_comment_count(id).await?)
    }

    pub async fn pending_comments(&self, site: SiteId) -> Result<Vec<Comment>, KbError> {
        Ok(self.store.pending_comments(site).await?)
    }

    /// Approves or rejects a pending comment of the site; false if it was
    /// already moderated (by someone else, a moment ago).
    pub async fn moderate(
        &self,
        site: SiteId,
        id: CommentId,
        approve: bool,
        moderator: PersonId,
    ) -> Result<bool, KbError> {
        let comment = self.store.comment(id).await?.filter(|c| c.site_id == site).ok_or(KbError::NotFound)?;
        let status = if approve { CommentStatus::Approved } else { CommentStatus::Rejected };
        Ok(self.store.moderate_comment(comment.id, status, moderator, self.clock.now()).await?)
    }
}
