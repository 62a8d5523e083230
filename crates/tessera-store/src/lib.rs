//! What Tessera keeps, and the traits every storage backend implements.
//!
//! The core never sees SQL: it talks to these traits. Each backend lives in
//! its own crate (`tessera-store-sqlite` today, PostgreSQL and Redis later)
//! and proves itself by running the [`conformance`] suite in its own tests.
//!
//! Rules every backend follows (the conformance suite checks them):
//! - timestamps are passed in by the caller (from the injectable clock), never
//!   read from the database's own clock;
//! - secrets are stored only as hashes ([`TokenHash`]);
//! - "touch" operations only ever update existing rows, so a late write can
//!   never bring back a deleted session;
//! - compare-and-swap operations report whether they won.

mod records;

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;
use tessera_core::{Email, Interface, PersonId, Role, Selector, SiteId, Timestamp, TokenHash};

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
    /// Creates the site if it does not exist; returns it either way.
    async fn ensure_site(&self, id: SiteId, name: &str, now: Timestamp) -> StoreResult<Site>;
    async fn site(&self, id: SiteId) -> StoreResult<Option<Site>>;
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

/// Everything a backend provides. The server holds one `Arc<dyn Store>`.
pub trait Store:
    SiteStore
    + PersonStore
    + SessionStore
    + RememberStore
    + ThrottleStore
    + AuditStore
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
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}
