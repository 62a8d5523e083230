//! A store that counts what the application asks of it.
//!
//! It wraps the real SQLite store and delegates every call, logging the
//! operation's name as a read or a write. Tests take a [`Mark`] before the
//! requests they measure and look at [`CountingStore::since`] afterwards:
//! that is how "no store hit without a session cookie" and "no write on a
//! read-only request but the throttled last-seen update" are proven.
//!
//! It can also hold one call of an operation at its start ([`CountingStore::pause_before`]),
//! which turns a race between two requests into a fixed interleaving.

use std::sync::Mutex;

use async_trait::async_trait;
use tessera_core::{
    ArticleId, CategoryId, CommentId, ConversationId, Email, HostName, Interface, Language, MonitorSessionId, PersonId,
    Role, Selector, SiteId, Timestamp, TokenHash, VisitorId,
};
use tessera_store::{
    Activity, Actor, Appended, Article, ArticleStatus, AuditEntry, AuditEvent, AuditFilter, AuditStore, Author,
    Category, CategoryName, ChatMessage, ChatOwner, Comment, CommentStatus, ConsentRecord, Conversation,
    ConversationStore, EngagementStore, KnowledgeBaseStore, MonitorSession, MonitorStore, NewComment, NewConversation,
    NewMonitorSession, NewPerson, PageEvent, PageView, Person, PersonStore, RememberRecord, RememberStore, SearchHit,
    SessionRecord, SessionStore, Site, SiteSettings, SiteStore, StoreError, StoreResult, ThrottleRecord, ThrottleStore,
    Translation, Visitor, VisitorStore, VoteTotals,
};
use tessera_store_sqlite::SqliteStore;
use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A position in the store's operation log.
#[derive(Clone, Copy, Debug)]
pub struct Mark(usize);

/// The operations done since a [`Mark`].
#[derive(Debug, Default)]
pub struct Ops {
    pub reads: Vec<&'static str>,
    pub writes: Vec<&'static str>,
}

impl Ops {
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty() && self.writes.is_empty()
    }
}

#[derive(Debug)]
pub struct CountingStore {
    inner: SqliteStore,
    log: Mutex<Vec<(Access, &'static str)>>,
    pauses: Mutex<Vec<Pause>>,
    /// Operations that fail (a backend error) until [`CountingStore::recover`].
    failing: Mutex<Vec<&'static str>>,
}

/// A planted pause: the next call of `op` reports in and waits for release.
#[derive(Debug)]
struct Pause {
    op: &'static str,
    reached: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

/// The test's end of a pause.
#[derive(Debug)]
pub struct Gate {
    reached: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

impl Gate {
    /// Waits until a call of the operation is being held.
    pub async fn reached(&mut self) {
        (&mut self.reached).await.expect("the paused operation was never called");
    }

    /// Lets the held call go on.
    pub fn release(self) {
        let _ = self.release.send(());
    }
}

impl CountingStore {
    pub fn new(inner: SqliteStore) -> Self {
        Self { inner, log: Mutex::new(Vec::new()), pauses: Mutex::new(Vec::new()), failing: Mutex::new(Vec::new()) }
    }

    /// Every later call of `op` (e.g. "site") fails with a backend error, as
    /// if the database were gone, until [`CountingStore::recover`].
    pub fn fail(&self, op: &'static str) {
        self.failing.lock().expect("failing lock").push(op);
    }

    /// `op` works again.
    pub fn recover(&self, op: &'static str) {
        self.failing.lock().expect("failing lock").retain(|o| *o != op);
    }

    /// Holds the next call of `op` (e.g. "insert_session") until the gate is released.
    pub fn pause_before(&self, op: &'static str) -> Gate {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        self.pauses.lock().expect("pause lock").push(Pause { op, reached: reached_tx, release: release_rx });
        Gate { reached: reached_rx, release: release_tx }
    }

    /// The real store, for test assertions that must not show up in the counts.
    pub fn raw(&self) -> &SqliteStore {
        &self.inner
    }

    pub fn mark(&self) -> Mark {
        Mark(self.log.lock().expect("store log lock").len())
    }

    pub fn since(&self, mark: Mark) -> Ops {
        let log = self.log.lock().expect("store log lock");
        let mut ops = Ops::default();
        for (access, name) in &log[mark.0..] {
            match access {
                Access::Read => ops.reads.push(name),
                Access::Write => ops.writes.push(name),
            }
        }
        ops
    }

    async fn enter(&self, access: Access, name: &'static str) -> StoreResult<()> {
        self.log.lock().expect("store log lock").push((access, name));
        if self.failing.lock().expect("failing lock").contains(&name) {
            return Err(StoreError::Backend(format!("{name}: the test broke the store").into()));
        }
        let pause = {
            let mut pauses = self.pauses.lock().expect("pause lock");
            pauses.iter().position(|p| p.op == name).map(|i| pauses.remove(i))
        };
        if let Some(pause) = pause {
            let _ = pause.reached.send(());
            let _ = pause.release.await;
        }
        Ok(())
    }
}

/// Implements a store trait by delegation: each line is `read` or `write`,
/// then the method's signature; the call is logged under the method's name.
macro_rules! delegate {
    ($trait:ident { $($access:ident fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)* }) => {
        #[async_trait]
        impl $trait for CountingStore {
            $(async fn $name(&self, $($arg: $ty),*) -> $ret {
                self.enter(delegate!(@access $access), stringify!($name)).await?;
                self.inner.$name($($arg),*).await
            })*
        }
    };
    (@access read) => { Access::Read };
    (@access write) => { Access::Write };
}

delegate!(SiteStore {
    write fn ensure_site(id: SiteId, name: &str, now: Timestamp) -> StoreResult<Site>;
    write fn create_site(id: SiteId, settings: &SiteSettings, now: Timestamp) -> StoreResult<Site>;
    write fn update_site(id: SiteId, settings: &SiteSettings, now: Timestamp) -> StoreResult<bool>;
    read fn site(id: SiteId) -> StoreResult<Option<Site>>;
    read fn site_by_host(host: &HostName) -> StoreResult<Option<Site>>;
    read fn sites() -> StoreResult<Vec<Site>>;
});

delegate!(KnowledgeBaseStore {
    write fn create_category(site: SiteId, parent: Option<CategoryId>, position: i32, names: &[CategoryName])
        -> StoreResult<Category>;
    read fn categories(site: SiteId) -> StoreResult<Vec<Category>>;
    write fn create_article(site: SiteId, category: CategoryId, author: PersonId, now: Timestamp)
        -> StoreResult<Article>;
    read fn article(id: ArticleId) -> StoreResult<Option<Article>>;
    read fn articles(site: SiteId, published_only: bool) -> StoreResult<Vec<Article>>;
    write fn put_translation(article: ArticleId, translation: &Translation) -> StoreResult<bool>;
    write fn set_article_status(article: ArticleId, status: ArticleStatus, now: Timestamp) -> StoreResult<bool>;
    write fn set_article_category(article: ArticleId, category: CategoryId, now: Timestamp) -> StoreResult<bool>;
    write fn count_view(article: ArticleId) -> StoreResult<()>;
    read fn search(site: SiteId, language: &Language, terms: &[String], limit: u32) -> StoreResult<Vec<SearchHit>>;
});

delegate!(EngagementStore {
    write fn set_vote(article: ArticleId, actor: Actor, helpful: bool, now: Timestamp) -> StoreResult<()>;
    read fn vote_of(article: ArticleId, actor: Actor) -> StoreResult<Option<bool>>;
    read fn vote_totals(article: ArticleId) -> StoreResult<VoteTotals>;
    write fn add_comment(comment: &NewComment, now: Timestamp) -> StoreResult<Comment>;
    read fn comments(article: ArticleId, viewer: Actor) -> StoreResult<Vec<Comment>>;
    read fn approved_comment_count(article: ArticleId) -> StoreResult<u64>;
    read fn pending_comments(site: SiteId) -> StoreResult<Vec<Comment>>;
    read fn comment(id: CommentId) -> StoreResult<Option<Comment>>;
    write fn moderate_comment(id: CommentId, status: CommentStatus, moderator: PersonId, now: Timestamp)
        -> StoreResult<bool>;
});

delegate!(VisitorStore {
    write fn create_visitor(site: SiteId, token: &TokenHash, persistent: bool, now: Timestamp) -> StoreResult<Visitor>;
    read fn visitor_by_token(token: &TokenHash) -> StoreResult<Option<Visitor>>;
    read fn visitor(id: VisitorId) -> StoreResult<Option<Visitor>>;
    write fn set_visitor_token(id: VisitorId, token: Option<&TokenHash>, persistent: bool, now: Timestamp)
        -> StoreResult<bool>;
    write fn touch_visitor(id: VisitorId, now: Timestamp) -> StoreResult<()>;
    write fn link_visitor(id: VisitorId, person: PersonId, now: Timestamp) -> StoreResult<bool>;
    read fn recent_visitors(site: SiteId, limit: u32) -> StoreResult<Vec<Visitor>>;
    read fn visitors_of_person(person: PersonId) -> StoreResult<Vec<Visitor>>;
    write fn record_page_view(view: &PageView) -> StoreResult<()>;
    read fn activity(id: VisitorId, limit: u32) -> StoreResult<Vec<Activity>>;
    write fn record_consent(record: &ConsentRecord) -> StoreResult<()>;
    read fn consent(token: &TokenHash) -> StoreResult<Option<ConsentRecord>>;
});

delegate!(MonitorStore {
    write fn add_visitor_token(visitor: VisitorId, token: &TokenHash, now: Timestamp) -> StoreResult<()>;
    read fn visitor_by_monitor_token(site: SiteId, token: &TokenHash) -> StoreResult<Option<Visitor>>;
    write fn drop_visitor_token(token: &TokenHash) -> StoreResult<bool>;
    read fn monitor_session(site: SiteId, token: &TokenHash) -> StoreResult<Option<MonitorSession>>;
    write fn start_monitor_session(new: &NewMonitorSession<'_>) -> StoreResult<MonitorSession>;
    write fn record_page_events(events: &[PageEvent]) -> StoreResult<()>;
    read fn live_sessions(site: SiteId, since: Timestamp, limit: u32) -> StoreResult<Vec<MonitorSession>>;
    read fn sessions_of_visitor(visitor: VisitorId, limit: u32) -> StoreResult<Vec<MonitorSession>>;
    read fn page_events_of_session(session: MonitorSessionId, limit: u32) -> StoreResult<Vec<PageEvent>>;
    read fn anonymous_page_events(site: SiteId, since: Timestamp) -> StoreResult<u64>;
    write fn purge_page_events(site: SiteId, before: Timestamp) -> StoreResult<u64>;
    write fn erase_visitor(visitor: VisitorId) -> StoreResult<bool>;
    write fn merge_visitors(from: VisitorId, into: VisitorId) -> StoreResult<bool>;
});

delegate!(ConversationStore {
    write fn create_conversation(new: &NewConversation, now: Timestamp) -> StoreResult<Conversation>;
    read fn conversation(id: ConversationId) -> StoreResult<Option<Conversation>>;
    read fn conversations_of(site: SiteId, owner: &ChatOwner) -> StoreResult<Vec<Conversation>>;
    read fn open_conversations(site: SiteId) -> StoreResult<Vec<Conversation>>;
    write fn append_message(conversation: ConversationId, author: Author, body: &str, client_key: Option<&str>,
        now: Timestamp) -> StoreResult<Option<Appended>>;
    read fn messages_after(conversation: ConversationId, after: u64, limit: u32) -> StoreResult<Vec<ChatMessage>>;
    write fn claim_conversation(id: ConversationId, agent: PersonId, now: Timestamp) -> StoreResult<bool>;
    write fn transfer_conversation(id: ConversationId, from: PersonId, to: PersonId, now: Timestamp)
        -> StoreResult<bool>;
    write fn close_conversation(id: ConversationId, now: Timestamp) -> StoreResult<bool>;
    read fn identity_secret(site: SiteId) -> StoreResult<Option<Vec<u8>>>;
    write fn set_identity_secret(site: SiteId, secret: &[u8], now: Timestamp) -> StoreResult<()>;
});

#[async_trait]
impl PersonStore for CountingStore {
    async fn create_person(&self, new: &NewPerson, now: Timestamp) -> StoreResult<Person> {
        self.enter(Access::Write, "create_person").await?;
        self.inner.create_person(new, now).await
    }
    async fn person(&self, id: PersonId) -> StoreResult<Option<Person>> {
        self.enter(Access::Read, "person").await?;
        self.inner.person(id).await
    }
    async fn person_by_email(&self, site: SiteId, email: &Email) -> StoreResult<Option<Person>> {
        self.enter(Access::Read, "person_by_email").await?;
        self.inner.person_by_email(site, email).await
    }
    async fn people(&self, site: SiteId) -> StoreResult<Vec<Person>> {
        self.enter(Access::Read, "people").await?;
        self.inner.people(site).await
    }
    async fn set_password_hash(&self, id: PersonId, phc: &str, now: Timestamp) -> StoreResult<bool> {
        self.enter(Access::Write, "set_password_hash").await?;
        self.inner.set_password_hash(id, phc, now).await
    }
    async fn set_role(&self, id: PersonId, role: Role, now: Timestamp) -> StoreResult<bool> {
        self.enter(Access::Write, "set_role").await?;
        self.inner.set_role(id, role, now).await
    }
    async fn set_email(&self, id: PersonId, email: &Email, now: Timestamp) -> StoreResult<bool> {
        self.enter(Access::Write, "set_email").await?;
        self.inner.set_email(id, email, now).await
    }
    async fn set_disabled(&self, id: PersonId, disabled: bool, now: Timestamp) -> StoreResult<bool> {
        self.enter(Access::Write, "set_disabled").await?;
        self.inner.set_disabled(id, disabled, now).await
    }
}

#[async_trait]
impl SessionStore for CountingStore {
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()> {
        self.enter(Access::Write, "insert_session").await?;
        self.inner.insert_session(session).await
    }
    async fn session(&self, id: &TokenHash) -> StoreResult<Option<SessionRecord>> {
        self.enter(Access::Read, "session").await?;
        self.inner.session(id).await
    }
    async fn touch_sessions(&self, touches: &[(TokenHash, Timestamp)]) -> StoreResult<()> {
        self.enter(Access::Write, "touch_sessions").await?;
        self.inner.touch_sessions(touches).await
    }
    async fn delete_session(&self, id: &TokenHash) -> StoreResult<bool> {
        self.enter(Access::Write, "delete_session").await?;
        self.inner.delete_session(id).await
    }
    async fn delete_sessions_of_person(
        &self,
        person: PersonId,
        interface: Option<Interface>,
        keep: Option<&TokenHash>,
    ) -> StoreResult<Vec<TokenHash>> {
        self.enter(Access::Write, "delete_sessions_of_person").await?;
        self.inner.delete_sessions_of_person(person, interface, keep).await
    }
    async fn sessions_of_person(&self, person: PersonId) -> StoreResult<Vec<SessionRecord>> {
        self.enter(Access::Read, "sessions_of_person").await?;
        self.inner.sessions_of_person(person).await
    }
    async fn sessions_of_site(&self, site: SiteId, limit: u32) -> StoreResult<Vec<SessionRecord>> {
        self.enter(Access::Read, "sessions_of_site").await?;
        self.inner.sessions_of_site(site, limit).await
    }
    async fn purge_sessions(
        &self,
        now: Timestamp,
        idle_cutoffs: &[(Interface, Timestamp)],
    ) -> StoreResult<Vec<TokenHash>> {
        self.enter(Access::Write, "purge_sessions").await?;
        self.inner.purge_sessions(now, idle_cutoffs).await
    }
}

#[async_trait]
impl RememberStore for CountingStore {
    async fn insert_remember(&self, series: &RememberRecord) -> StoreResult<()> {
        self.enter(Access::Write, "insert_remember").await?;
        self.inner.insert_remember(series).await
    }
    async fn remember(&self, selector: &Selector) -> StoreResult<Option<RememberRecord>> {
        self.enter(Access::Read, "remember").await?;
        self.inner.remember(selector).await
    }
    async fn rotate_remember(
        &self,
        selector: &Selector,
        expected: &TokenHash,
        next: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.enter(Access::Write, "rotate_remember").await?;
        self.inner.rotate_remember(selector, expected, next, now).await
    }
    async fn delete_remember(&self, selector: &Selector) -> StoreResult<bool> {
        self.enter(Access::Write, "delete_remember").await?;
        self.inner.delete_remember(selector).await
    }
    async fn delete_remember_of_person(&self, person: PersonId) -> StoreResult<u64> {
        self.enter(Access::Write, "delete_remember_of_person").await?;
        self.inner.delete_remember_of_person(person).await
    }
    async fn remember_of_person(&self, person: PersonId) -> StoreResult<Vec<RememberRecord>> {
        self.enter(Access::Read, "remember_of_person").await?;
        self.inner.remember_of_person(person).await
    }
    async fn purge_remember(&self, now: Timestamp) -> StoreResult<u64> {
        self.enter(Access::Write, "purge_remember").await?;
        self.inner.purge_remember(now).await
    }
}

#[async_trait]
impl ThrottleStore for CountingStore {
    async fn throttle(&self, key: &str) -> StoreResult<Option<ThrottleRecord>> {
        self.enter(Access::Read, "throttle").await?;
        self.inner.throttle(key).await
    }
    async fn record_failure(&self, key: &str, now: Timestamp, forget_before: Timestamp) -> StoreResult<ThrottleRecord> {
        self.enter(Access::Write, "record_failure").await?;
        self.inner.record_failure(key, now, forget_before).await
    }
    async fn purge_throttles(&self, forget_before: Timestamp) -> StoreResult<u64> {
        self.enter(Access::Write, "purge_throttles").await?;
        self.inner.purge_throttles(forget_before).await
    }
    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        self.enter(Access::Write, "clear_throttle").await?;
        self.inner.clear_throttle(key).await
    }
}

#[async_trait]
impl AuditStore for CountingStore {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        self.enter(Access::Write, "append_audit").await?;
        self.inner.append_audit(event).await
    }
    async fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        self.enter(Access::Read, "audit").await?;
        self.inner.audit(filter).await
    }
}
