//! What Tessera keeps, and the traits every storage backend implements.
//!
//! The core never sees SQL: it talks to these traits. Each backend lives in
//! its own crate (`tessera-store-sqlite`, `tessera-store-postgres`; Redis later)
//! and proves itself by running the [`conformance`] suite in its own tests.
//!
//! Rules every backend follows (the conformance suite checks them):
//! - timestamps are passed in by the caller (from the injectable clock), never
//!   read from the database's own clock;
//! - secrets are stored only as hashes ([`TokenHash`]), except the sites'
//!   identity secrets: HMAC keys the server must use as they are, like its
//!   own key file;
//! - "touch" operations only ever update existing rows, so a late write can
//!   never bring back a deleted session;
//! - compare-and-swap operations report whether they won.

mod chat;
mod help_center;
mod monitor;
mod records;

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;
use tessera_core::{
    ArticleId, CategoryId, CommentId, ConversationId, Email, HostName, Interface, Language, PersonId, Role, Selector,
    SiteId, Timestamp, TokenHash, VisitorId,
};

pub use chat::*;
pub use help_center::*;
pub use monitor::*;
pub use records::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. the email already exists on the site).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A row the database returned does not make sense (bad enum text, wrong hash length).
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, connection, SQL error).
    #[error("storage backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait SiteStore {
    /// Creates the site with default settings if it does not exist; returns it either way.
    async fn ensure_site(&self, id: SiteId, name: &str, now: Timestamp) -> StoreResult<Site>;
    /// Fails with [`StoreError::Conflict`] if the ID or one of the hosts is taken.
    async fn create_site(&self, id: SiteId, settings: &SiteSettings, now: Timestamp) -> StoreResult<Site>;
    /// Replaces the settings (hosts included). Fails with [`StoreError::Conflict`]
    /// if a host belongs to another site; returns false if there is no such site.
    async fn update_site(&self, id: SiteId, settings: &SiteSettings, now: Timestamp) -> StoreResult<bool>;
    async fn site(&self, id: SiteId) -> StoreResult<Option<Site>>;
    async fn site_by_host(&self, host: &HostName) -> StoreResult<Option<Site>>;
    async fn sites(&self) -> StoreResult<Vec<Site>>;
}

#[async_trait]
pub trait PersonStore {
    /// Fails with [`StoreError::Conflict`] if the email is taken on that site.
    async fn create_person(&self, new: &NewPerson, now: Timestamp) -> StoreResult<Person>;
    async fn person(&self, id: PersonId) -> StoreResult<Option<Person>>;
    async fn person_by_email(&self, site: SiteId, email: &Email) -> StoreResult<Option<Person>>;
    async fn people(&self, site: SiteId) -> StoreResult<Vec<Person>>;
    /// Returns false if there is no such person.
    async fn set_password_hash(&self, id: PersonId, phc: &str, now: Timestamp) -> StoreResult<bool>;
    async fn set_role(&self, id: PersonId, role: Role, now: Timestamp) -> StoreResult<bool>;
    /// Fails with [`StoreError::Conflict`] if the email is taken on the person's site.
    async fn set_email(&self, id: PersonId, email: &Email, now: Timestamp) -> StoreResult<bool>;
    async fn set_disabled(&self, id: PersonId, disabled: bool, now: Timestamp) -> StoreResult<bool>;
}

#[async_trait]
pub trait SessionStore {
    /// Fails with [`StoreError::Conflict`] if the hash exists (a collision means a broken RNG).
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()>;
    async fn session(&self, id: &TokenHash) -> StoreResult<Option<SessionRecord>>;
    /// Raises `last_seen_at` of existing sessions (never lowers it, never creates a row).
    async fn touch_sessions(&self, touches: &[(TokenHash, Timestamp)]) -> StoreResult<()>;
    /// Returns whether a session was deleted.
    async fn delete_session(&self, id: &TokenHash) -> StoreResult<bool>;
    /// Deletes every session of `person` (of one interface if given, except `keep`);
    /// returns the deleted IDs so caches can forget them.
    async fn delete_sessions_of_person(
        &self,
        person: PersonId,
        interface: Option<Interface>,
        keep: Option<&TokenHash>,
    ) -> StoreResult<Vec<TokenHash>>;
    /// Newest first.
    async fn sessions_of_person(&self, person: PersonId) -> StoreResult<Vec<SessionRecord>>;
    /// Newest first, at most `limit`.
    async fn sessions_of_site(&self, site: SiteId, limit: u32) -> StoreResult<Vec<SessionRecord>>;
    /// Deletes sessions past their absolute expiry or idle since before the
    /// interface's cutoff; returns their IDs.
    async fn purge_sessions(
        &self,
        now: Timestamp,
        idle_cutoffs: &[(Interface, Timestamp)],
    ) -> StoreResult<Vec<TokenHash>>;
}

#[async_trait]
pub trait RememberStore {
    async fn insert_remember(&self, series: &RememberRecord) -> StoreResult<()>;
    async fn remember(&self, selector: &Selector) -> StoreResult<Option<RememberRecord>>;
    /// Compare-and-swap: if the current validator hash is `expected`, make it
    /// `next` (keeping `expected` as the previous one, for the grace window) and
    /// return true; otherwise change nothing and return false.
    async fn rotate_remember(
        &self,
        selector: &Selector,
        expected: &TokenHash,
        next: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn delete_remember(&self, selector: &Selector) -> StoreResult<bool>;
    /// Returns how many series were deleted.
    async fn delete_remember_of_person(&self, person: PersonId) -> StoreResult<u64>;
    /// Newest first.
    async fn remember_of_person(&self, person: PersonId) -> StoreResult<Vec<RememberRecord>>;
    /// Deletes series past their expiry.
    async fn purge_remember(&self, now: Timestamp) -> StoreResult<u64>;
}

#[async_trait]
pub trait ThrottleStore {
    async fn throttle(&self, key: &str) -> StoreResult<Option<ThrottleRecord>>;
    /// Counts one failure. A record whose last failure is before `forget_before`
    /// starts again from one, so a lockout is never permanent.
    async fn record_failure(&self, key: &str, now: Timestamp, forget_before: Timestamp) -> StoreResult<ThrottleRecord>;
    async fn clear_throttle(&self, key: &str) -> StoreResult<()>;
    /// Deletes records whose last failure is before `forget_before` (they no
    /// longer count); returns how many.
    async fn purge_throttles(&self, forget_before: Timestamp) -> StoreResult<u64>;
}

#[async_trait]
pub trait AuditStore {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Newest first, matching every set field of the filter.
    async fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
}

#[async_trait]
pub trait KnowledgeBaseStore {
    /// `names` must not be empty. Fails with [`StoreError::Conflict`] if the
    /// parent belongs to another site.
    async fn create_category(
        &self,
        site: SiteId,
        parent: Option<CategoryId>,
        position: i32,
        names: &[CategoryName],
    ) -> StoreResult<Category>;
    /// Every category of the site, ordered by parent, position, then ID.
    async fn categories(&self, site: SiteId) -> StoreResult<Vec<Category>>;
    /// A draft with no translation yet. Fails with [`StoreError::Conflict`] if
    /// the category belongs to another site.
    async fn create_article(
        &self,
        site: SiteId,
        category: CategoryId,
        author: PersonId,
        now: Timestamp,
    ) -> StoreResult<Article>;
    async fn article(&self, id: ArticleId) -> StoreResult<Option<Article>>;
    /// Every article of the site (drafts too when `published_only` is false),
    /// newest first.
    async fn articles(&self, site: SiteId, published_only: bool) -> StoreResult<Vec<Article>>;
    /// Creates or replaces one language's text and keeps the search index in
    /// step; returns false if there is no such article.
    async fn put_translation(&self, article: ArticleId, translation: &Translation) -> StoreResult<bool>;
    /// Returns false if there is no such article. Publishing sets
    /// `published_at` the first time only.
    async fn set_article_status(&self, article: ArticleId, status: ArticleStatus, now: Timestamp) -> StoreResult<bool>;
    /// Returns false if there is no such article. Fails with
    /// [`StoreError::Conflict`] if the category is not on the article's site.
    async fn set_article_category(&self, article: ArticleId, category: CategoryId, now: Timestamp)
    -> StoreResult<bool>;
    async fn count_view(&self, article: ArticleId) -> StoreResult<()>;
    /// Published articles of the site whose text in `language` holds every
    /// term (the last one as a prefix), best match first, at most `limit`.
    /// Terms are plain words; the backend quotes them for its own syntax.
    async fn search(
        &self,
        site: SiteId,
        language: &Language,
        terms: &[String],
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>>;
}

#[async_trait]
pub trait EngagementStore {
    /// Records or changes the actor's vote: one per person (if known, else
    /// per visitor) per article. A person's vote replaces the guest vote of
    /// the actor's visitor on that article. Fails with
    /// [`StoreError::Conflict`] for an anonymous actor.
    async fn set_vote(&self, article: ArticleId, actor: Actor, helpful: bool, now: Timestamp) -> StoreResult<()>;
    /// The person's vote if the actor names a person, else the visitor's guest vote.
    async fn vote_of(&self, article: ArticleId, actor: Actor) -> StoreResult<Option<bool>>;
    async fn vote_totals(&self, article: ArticleId) -> StoreResult<VoteTotals>;
    /// The comment starts pending. Fails with [`StoreError::Conflict`] if the
    /// article is not on the comment's site.
    async fn add_comment(&self, comment: &NewComment, now: Timestamp) -> StoreResult<Comment>;
    /// Approved comments, plus the viewer's own pending ones, oldest first.
    async fn comments(&self, article: ArticleId, viewer: Actor) -> StoreResult<Vec<Comment>>;
    async fn approved_comment_count(&self, article: ArticleId) -> StoreResult<u64>;
    /// Pending comments of the site, oldest first.
    async fn pending_comments(&self, site: SiteId) -> StoreResult<Vec<Comment>>;
    async fn comment(&self, id: CommentId) -> StoreResult<Option<Comment>>;
    /// Approves or rejects a pending comment; returns false if it is not
    /// pending (or `status` is [`CommentStatus::Pending`]).
    async fn moderate_comment(
        &self,
        id: CommentId,
        status: CommentStatus,
        moderator: PersonId,
        now: Timestamp,
    ) -> StoreResult<bool>;
}

#[async_trait]
pub trait VisitorStore {
    /// Fails with [`StoreError::Conflict`] if another visitor has the token.
    async fn create_visitor(
        &self,
        site: SiteId,
        token: &TokenHash,
        persistent: bool,
        now: Timestamp,
    ) -> StoreResult<Visitor>;
    /// The visitor whose current token this is.
    async fn visitor_by_token(&self, token: &TokenHash) -> StoreResult<Option<Visitor>>;
    async fn visitor(&self, id: VisitorId) -> StoreResult<Option<Visitor>>;
    /// Gives the visitor a new token (when it becomes persistent with consent)
    /// or none at all (when consent is withdrawn: the old cookie stops working).
    /// Fails with [`StoreError::Conflict`] if another visitor has the token.
    async fn set_visitor_token(
        &self,
        id: VisitorId,
        token: Option<&TokenHash>,
        persistent: bool,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Raises `last_seen_at` (never lowers it, never creates a row).
    async fn touch_visitor(&self, id: VisitorId, now: Timestamp) -> StoreResult<()>;
    /// Links the visitor and its guest activity to the person. A guest vote on
    /// an article the person already voted on gives way to the person's vote.
    async fn link_visitor(&self, id: VisitorId, person: PersonId, now: Timestamp) -> StoreResult<bool>;
    /// Most recently seen first, at most `limit`.
    async fn recent_visitors(&self, site: SiteId, limit: u32) -> StoreResult<Vec<Visitor>>;
    /// Most recently seen first.
    async fn visitors_of_person(&self, person: PersonId) -> StoreResult<Vec<Visitor>>;
    async fn record_page_view(&self, view: &PageView) -> StoreResult<()>;
    /// Page views, votes and comments of the visitor, and of the person it
    /// is linked to, oldest first, the newest `limit` of them. Timestamps are
    /// whole seconds: within one, entries follow the order the events
    /// happened (recorded, voted or commented), whatever their kind. A
    /// changed vote is a new event, at its new time; linking keeps the order.
    async fn activity(&self, id: VisitorId, limit: u32) -> StoreResult<Vec<Activity>>;
    /// Fails with [`StoreError::Conflict`] if a record with this token exists:
    /// evidence is never overwritten.
    async fn record_consent(&self, record: &ConsentRecord) -> StoreResult<()>;
    async fn consent(&self, token: &TokenHash) -> StoreResult<Option<ConsentRecord>>;
}

#[async_trait]
pub trait ConversationStore {
    /// The conversation starts waiting, with no agent and `last_seq` 0. Fails
    /// with [`StoreError::Conflict`] if the owner has neither a visitor nor a verified user.
    async fn create_conversation(&self, new: &NewConversation, now: Timestamp) -> StoreResult<Conversation>;
    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>>;
    /// The site's conversations of the owner's visitor or of its verified
    /// user (either matching is enough), newest first.
    async fn conversations_of(&self, site: SiteId, owner: &ChatOwner) -> StoreResult<Vec<Conversation>>;
    /// Conversations of the site that are not closed, oldest first.
    async fn open_conversations(&self, site: SiteId) -> StoreResult<Vec<Conversation>>;
    /// Appends with the next sequence number, atomically (concurrent appends
    /// get consecutive numbers, none shared or skipped); with a client key
    /// already used in this conversation, stores nothing and returns the
    /// earlier message, even once the conversation is closed (the message was
    /// stored, only its acknowledgement was lost). Otherwise returns `None` if
    /// there is no such conversation or it is closed.
    async fn append_message(
        &self,
        conversation: ConversationId,
        author: Author,
        body: &str,
        client_key: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Option<Appended>>;
    /// Messages with `seq > after`, oldest first, at most `limit`.
    async fn messages_after(
        &self,
        conversation: ConversationId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<ChatMessage>>;
    /// Compare-and-swap: a waiting conversation becomes active and the agent's;
    /// false if it is not waiting (someone else was quicker, or it is closed).
    /// A repeated claim by the agent already holding it is true and changes nothing.
    async fn claim_conversation(&self, id: ConversationId, agent: PersonId, now: Timestamp) -> StoreResult<bool>;
    /// Hands an active conversation from `from` to `to`; false if `from` does
    /// not hold it (or it is waiting or closed).
    async fn transfer_conversation(
        &self,
        id: ConversationId,
        from: PersonId,
        to: PersonId,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Closes a waiting or active conversation (the agent stays named); false
    /// if it was already closed or does not exist.
    async fn close_conversation(&self, id: ConversationId, now: Timestamp) -> StoreResult<bool>;
    /// The key a site's backend signs identity tokens with, if one was made.
    async fn identity_secret(&self, site: SiteId) -> StoreResult<Option<Vec<u8>>>;
    /// Replaces the site's identity secret (rotation): tokens signed with the old one stop working.
    async fn set_identity_secret(&self, site: SiteId, secret: &[u8], now: Timestamp) -> StoreResult<()>;
}

/// Everything a backend provides. The server holds one `Arc<dyn Store>`.
pub trait Store:
    SiteStore
    + PersonStore
    + SessionStore
    + RememberStore
    + ThrottleStore
    + AuditStore
    + KnowledgeBaseStore
    + EngagementStore
    + VisitorStore
    + ConversationStore
    + MonitorStore
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: SiteStore
        + PersonStore
        + SessionStore
        + RememberStore
        + ThrottleStore
        + AuditStore
        + KnowledgeBaseStore
        + EngagementStore
        + VisitorStore
        + ConversationStore
        + MonitorStore
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}
