//! Sessions: creation, the per-request validation, rotation and revocation.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tessera_core::{DisplayName, Email, Interface, PersonId, Role, SessionToken, SiteId, Timestamp, TokenHash};
use tessera_store::{Person, SessionRecord, Store};
use tokio::sync::{mpsc, oneshot};

use crate::cache::Slot;
use crate::shared::{self, Shared};
use crate::{CoreError, SessionCore};

/// What the interfaces need to know about the person behind a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonView {
    pub id: PersonId,
    pub site_id: SiteId,
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
}

impl From<&Person> for PersonView {
    fn from(p: &Person) -> Self {
        Self { id: p.id, site_id: p.site_id, email: p.email.clone(), name: p.name.clone(), role: p.role }
    }
}

/// A validated session as held in the cache.
///
/// Laid out so that the per-request check reads one cache line: the `Arc`'s
/// counts, then the two activity clocks and copies of the two immutable
/// fields the check needs. With thousands of sessions the cache does not fit
/// in the CPU's caches, and each extra line touched is a memory round trip.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct LiveSession {
    /// Last request seen on this node (the store may lag by the touch interval).
    last_seen: AtomicI64,
    /// Last "last seen" value handed to the store writer.
    persisted_seen: AtomicI64,
    /// `record.expires_at`, kept beside the clocks (see above).
    expires_at: Timestamp,
    /// `record.interface`, kept beside the clocks (see above).
    interface: Interface,
    pub record: SessionRecord,
    pub person: PersonView,
}

impl LiveSession {
    pub(crate) fn new(record: SessionRecord, person: PersonView) -> Self {
        let seen = record.last_seen_at.unix();
        Self {
            last_seen: AtomicI64::new(seen),
            persisted_seen: AtomicI64::new(seen),
            expires_at: record.expires_at,
            interface: record.interface,
            record,
            person,
        }
    }
    pub fn last_seen(&self) -> Timestamp {
        Timestamp::from_unix(self.last_seen.load(Ordering::Relaxed))
    }
    pub fn id_hash(&self) -> &TokenHash {
        &self.record.id_hash
    }
}

/// The facts recorded about a new session.
#[derive(Clone, Debug, Default)]
pub struct NewSession {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Created from a remember-me token rather than a password.
    pub restored: bool,
    /// The remember-me series this session belongs to (see [`SessionRecord::remember`]).
    pub remember: Option<tessera_core::Selector>,
}

impl SessionCore {
    /// Starts a new session for `person` on `interface`; the token goes into the cookie.
    ///
    /// `person` was read before the caller's checks (a login's password
    /// verification takes a while). If the account was disabled, re-keyed or
    /// given another role meanwhile, the change's sweep of the person's
    /// sessions may have run before this one was stored, so it is checked
    /// again *after* storing: those changes write the person first and sweep
    /// second, so either the sweep sees this session or this re-read sees the
    /// change. Fails with [`CoreError::AccountChanged`] then.
    pub async fn create_session(
        &self,
        person: &Person,
        interface: Interface,
        facts: NewSession,
    ) -> Result<(SessionToken, Arc<LiveSession>), CoreError> {
        let now = self.now();
        let token = SessionToken::generate();
        let key = token.hash();
        let record = SessionRecord {
            id_hash: key,
            person_id: person.id,
            site_id: person.site_id,
            interface,
            created_at: now,
            last_seen_at: now,
            expires_at: now.plus(self.inner.settings.session.absolute_seconds(interface)),
            restored: facts.restored,
            remember: facts.remember,
            ip: facts.ip.map(|ip| truncate(ip, 64)),
            user_agent: facts.user_agent.map(|ua| truncate(ua, 256)),
        };
        self.inner.store.insert_session(&record).await?;
        let live = Arc::new(LiveSession::new(record, PersonView::from(person)));
        let cached = self.inner.cache.insert_new(key, live.clone(), now);
        let current = if cached { self.inner.store.person(person.id).await? } else { None };
        let unchanged =
            current.is_some_and(|p| !p.disabled && p.role == person.role && p.password_hash == person.password_hash);
        if !unchanged {
            self.revoke_session(&key).await?;
            return Err(CoreError::AccountChanged);
        }
        Ok((token, live))
    }

    /// The per-request check: the live session named by `cookie_value` on
    /// `interface`, or `None`. Never adopts an unknown ID; reads the store only
    /// on a cache miss and never writes it (an expired session is forgotten
    /// here and deleted by the purge; "last seen" is queued for the writer).
    pub async fn validate(
        &self,
        interface: Interface,
        cookie_value: &[u8],
    ) -> Result<Option<Arc<LiveSession>>, CoreError> {
        let Ok(token) = SessionToken::parse(cookie_value) else { return Ok(None) };
        let key = token.hash();
        let now = self.now();
        // One atomic check: with peers, the cache answers only while this
        // node provably hears their revocations; otherwise the store does.
        let trusted = self.inner.cluster.cache_trusted();
        let live = match self.inner.cache.get(&key) {
            Some(Slot::Live(live)) if trusted => live,
            Some(Slot::Revoked(_)) => return Ok(None),
            _ => match self.load(key, now, trusted).await? {
                Some(live) => live,
                None => return Ok(None),
            },
        };
        if live.interface != interface {
            return Ok(None);
        }
        let settings = &self.inner.settings.session;
        let idle_for = now.since(live.last_seen());
        if idle_for > settings.idle_seconds(interface) || now >= live.expires_at {
            // With peers, another node may have served it since: its "last
            // seen" reaches the store within the touch interval.
            if let Some(fresh) = self.reload_if_active_elsewhere(key, now).await? {
                self.note_seen(&fresh, now);
                return Ok(Some(fresh));
            }
            // Forgotten here, deleted by the purge: a read-only request writes nothing.
            self.inner.cache.revoke(key, now);
            return Ok(None);
        }
        self.note_seen(&live, now);
        Ok(Some(live))
    }

    /// Cache miss (or an untrusted cache): the shared tier if trusted, else
    /// the store; then insert unless a revocation got there first. An entry
    /// already cached is kept (it holds this node's fresher "last seen").
    async fn load(&self, key: TokenHash, now: Timestamp, trusted: bool) -> Result<Option<Arc<LiveSession>>, CoreError> {
        let cluster = &self.inner.cluster;
        let in_cluster = cluster.node().is_some();
        if in_cluster && trusted {
            match cluster.shared_get(&shared::key(&key)).await.and_then(|b| shared::decode(key, &b)) {
                Some(Shared::Revoked) => {
                    self.inner.cache.revoke(key, now);
                    return Ok(None);
                }
                Some(Shared::Live(live)) => return Ok(self.insert_loaded(key, Arc::from(live), now)),
                None => {}
            }
        }
        let Some(record) = self.inner.store.session(&key).await? else {
            if !trusted {
                // Gone from the store: whatever this node cached is stale.
                self.inner.cache.revoke(key, now);
            }
            return Ok(None);
        };
        let Some(person) = self.inner.store.person(record.person_id).await? else { return Ok(None) };
        if person.disabled {
            return Ok(None);
        }
        let live = Arc::new(LiveSession::new(record, PersonView::from(&person)));
        if in_cluster && trusted {
            cluster.shared_fill(&shared::key(&key), &shared::encode(&live), shared::FILL_SECONDS).await;
        }
        Ok(self.insert_loaded(key, live, now))
    }

    /// In a cluster, a session idle by this node's cached view is re-read:
    /// `Some` if the store shows it active (another node served it).
    async fn reload_if_active_elsewhere(
        &self,
        key: TokenHash,
        now: Timestamp,
    ) -> Result<Option<Arc<LiveSession>>, CoreError> {
        if self.inner.cluster.node().is_none() {
            return Ok(None);
        }
        let Some(record) = self.inner.store.session(&key).await? else { return Ok(None) };
        let idle = now.since(record.last_seen_at) > self.inner.settings.session.idle_seconds(record.interface);
        if idle || now >= record.expires_at {
            return Ok(None);
        }
        let Some(person) = self.inner.store.person(record.person_id).await? else { return Ok(None) };
        if person.disabled {
            return Ok(None);
        }
        let live = Arc::new(LiveSession::new(record, PersonView::from(&person)));
        Ok(self.inner.cache.replace_live(key, live.clone(), now).then_some(live))
    }

    fn insert_loaded(&self, key: TokenHash, live: Arc<LiveSession>, now: Timestamp) -> Option<Arc<LiveSession>> {
        match self.inner.cache.insert_loaded(key, live, now) {
            Slot::Live(live) => Some(live),
            Slot::Revoked(_) => None,
        }
    }

    /// Records activity in memory; queues a store write at most once per touch interval.
    fn note_seen(&self, live: &LiveSession, now: Timestamp) {
        let now = now.unix();
        // Write only when the second changed: an unchanged line stays shared and clean.
        if now > live.last_seen.load(Ordering::Relaxed) {
            live.last_seen.fetch_max(now, Ordering::Relaxed);
        }
        let persisted = live.persisted_seen.load(Ordering::Relaxed);
        if now - persisted >= self.inner.settings.session.touch_interval_seconds
            && live.persisted_seen.compare_exchange(persisted, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            self.inner.touches.push(live.record.id_hash, Timestamp::from_unix(now));
        }
    }

    /// Ends one session everywhere: store row gone, cache tombstoned.
    pub async fn revoke_session(&self, id: &TokenHash) -> Result<bool, CoreError> {
        self.inner.cache.revoke(*id, self.now());
        let deleted = self.inner.store.delete_session(id).await?;
        self.broadcast_revoked(std::slice::from_ref(id)).await;
        Ok(deleted)
    }

    /// Ends the sessions of `person` (on one interface if given), except `keep`.
    pub async fn revoke_sessions_of(
        &self,
        person: PersonId,
        interface: Option<Interface>,
        keep: Option<&TokenHash>,
    ) -> Result<usize, CoreError> {
        // Tombstone first from the store's answer, so nothing in flight survives.
        let ids = self.inner.store.delete_sessions_of_person(person, interface, keep).await?;
        let now = self.now();
        for id in &ids {
            self.inner.cache.revoke(*id, now);
        }
        self.broadcast_revoked(&ids).await;
        Ok(ids.len())
    }

    /// Replaces `old` with a new session ID carrying the same login (privilege
    /// change, password change); the old ID stops working at once.
    pub async fn rotate_session(
        &self,
        old: &LiveSession,
        restored: bool,
    ) -> Result<(SessionToken, Arc<LiveSession>), CoreError> {
        let person = self.person_of(old).await?;
        // Only credential changes rotate, and they end every remember-me series.
        let facts = NewSession {
            ip: old.record.ip.clone(),
            user_agent: old.record.user_agent.clone(),
            restored,
            remember: None,
        };
        let created = self.create_session(&person, old.record.interface, facts).await?;
        self.revoke_session(old.id_hash()).await?;
        Ok(created)
    }

    /// Live sessions of `person`, newest first.
    pub async fn sessions_of(&self, person: PersonId) -> Result<Vec<SessionRecord>, CoreError> {
        let list = self.inner.store.sessions_of_person(person).await?;
        Ok(self.live_only(list))
    }

    /// Live sessions of a site, newest first (the admin's view).
    pub async fn sessions_of_site(&self, site: SiteId, limit: u32) -> Result<Vec<SessionRecord>, CoreError> {
        let list = self.inner.store.sessions_of_site(site, limit).await?;
        Ok(self.live_only(list))
    }

    /// Drops sessions that have expired (their rows wait for the purge) and
    /// shows the fresher in-memory "last seen" (the store lags by up to the
    /// touch interval).
    fn live_only(&self, list: Vec<SessionRecord>) -> Vec<SessionRecord> {
        let now = self.now();
        let settings = &self.inner.settings.session;
        list.into_iter()
            .filter_map(|mut rec| {
                match self.inner.cache.get(&rec.id_hash) {
                    Some(Slot::Live(live)) => rec.last_seen_at = rec.last_seen_at.max(live.last_seen()),
                    Some(Slot::Revoked(_)) => return None,
                    None => {}
                }
                let idle = now.since(rec.last_seen_at) > settings.idle_seconds(rec.interface);
                (!idle && now < rec.expires_at).then_some(rec)
            })
            .collect()
    }

    /// Deletes expired sessions, remember-me series and forgotten login failures from the store.
    pub async fn purge_expired(&self) -> Result<usize, CoreError> {
        let now = self.now();
        let s = &self.inner.settings.session;
        let cutoffs: Vec<_> = Interface::ALL.iter().map(|&i| (i, now.plus(-s.idle_seconds(i)))).collect();
        self.flush().await;
        let ids = self.inner.store.purge_sessions(now, &cutoffs).await?;
        for id in &ids {
            self.inner.cache.revoke(*id, now);
        }
        self.inner.store.purge_remember(now).await?;
        self.inner.store.purge_throttles(now.plus(-self.inner.settings.throttle.forget_after_seconds)).await?;
        Ok(ids.len())
    }
}

fn truncate(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut cut = max_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

enum TouchMsg {
    Seen(TokenHash, Timestamp),
    Flush(oneshot::Sender<()>),
}

/// Batches "last seen" updates to the store off the request path. Bounded:
/// when the store falls behind, updates are dropped (the in-memory value
/// still enforces idle expiry on this node; the store just lags).
#[derive(Debug)]
pub(crate) struct TouchQueue {
    tx: mpsc::Sender<TouchMsg>,
}

impl std::fmt::Debug for TouchMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TouchMsg")
    }
}

impl TouchQueue {
    const CAPACITY: usize = 8_192;
    const BATCH: usize = 512;

    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::channel::<TouchMsg>(Self::CAPACITY);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(Self::BATCH);
            let mut waiters = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                while let Some(msg) = next.take() {
                    match msg {
                        TouchMsg::Seen(id, at) => batch.push((id, at)),
                        TouchMsg::Flush(done) => waiters.push(done),
                    }
                    if batch.len() < Self::BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    if let Err(e) = store.touch_sessions(&batch).await {
                        tracing::warn!(error = %e, count = batch.len(), "could not record session activity");
                    }
                    batch.clear();
                }
                for done in waiters.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        Self { tx }
    }

    pub fn push(&self, id: TokenHash, at: Timestamp) {
        if self.tx.try_send(TouchMsg::Seen(id, at)).is_err() {
            tracing::debug!("session activity queue full; dropping a last-seen update");
        }
    }

    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(TouchMsg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}
