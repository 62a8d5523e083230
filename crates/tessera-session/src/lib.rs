//! Who is logged in where: sessions, remember-me, CSRF, login and throttling.
//!
//! This crate is the session core. It talks to storage only through the
//! `tessera-store` traits and knows nothing of HTTP: the web crate turns
//! cookies into the byte strings passed here and the results back into
//! cookies through the registry.
//!
//! The per-request path ([`SessionCore::validate`]) is built to cost next to
//! nothing: a SHA-256, one sharded-map lookup and two atomic operations, with
//! the store touched only on a cache miss and "last seen" written back at
//! most once per `touch_interval_seconds`, off the request path.

mod accounts;
mod audit;
mod cache;
mod csrf;
mod error;
mod password;
mod remember;
mod sessions;
mod settings;
mod shared;
mod throttle;

use std::sync::Arc;

use tessera_cluster::{Alone, Cluster};
use tessera_core::Clock;
use tessera_store::Store;

pub use accounts::{ClientInfo, EmailChange, LoginError, PasswordChange};
pub use csrf::{Csrf, CsrfBinding};
pub use error::CoreError;
pub use password::PasswordHasher;
pub use remember::{RestoreOutcome, device_id};
pub use sessions::{LiveSession, NewSession, PersonView};
pub use settings::{PasswordSettings, RememberSettings, SessionSettings, ThrottleSettings};
pub use throttle::delay_after;

/// The session core. Cheap to clone; all clones share state.
#[derive(Clone, Debug)]
pub struct SessionCore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: CoreSettings,
    cache: cache::SessionCache,
    hasher: PasswordHasher,
    touches: sessions::TouchQueue,
    attempts: throttle::AttemptLocks,
    cluster: Arc<dyn Cluster>,
}

/// Everything the core can be configured with.
#[derive(Clone, Debug, Default)]
pub struct CoreSettings {
    pub session: SessionSettings,
    pub remember: RememberSettings,
    pub throttle: ThrottleSettings,
    pub password: PasswordSettings,
}

impl SessionCore {
    /// Builds the core and starts its background "last seen" writer.
    /// Must be called inside a Tokio runtime.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: CoreSettings) -> Result<Self, CoreError> {
        Self::in_cluster(store, clock, settings, Arc::new(Alone))
    }

    /// Builds a core that is one node of a cluster: revocations reach every
    /// node, and the session cache is trusted only while `cluster` says so.
    pub fn in_cluster(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: CoreSettings,
        cluster: Arc<dyn Cluster>,
    ) -> Result<Self, CoreError> {
        let hasher = PasswordHasher::new(&settings.password)?;
        let cache = cache::SessionCache::new(settings.session.cache_capacity);
        let touches = sessions::TouchQueue::start(store.clone());
        let attempts = throttle::AttemptLocks::default();
        let inner = Arc::new(Inner { store, clock, settings, cache, hasher, touches, attempts, cluster });
        shared::listen(&inner);
        Ok(Self { inner })
    }

    pub fn cluster(&self) -> &Arc<dyn Cluster> {
        &self.inner.cluster
    }

    /// Live sessions in this node's cache (a gauge for `/metrics`).
    pub fn cached_sessions(&self) -> usize {
        self.inner.cache.live_len()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.inner.settings
    }

    pub fn now(&self) -> tessera_core::Timestamp {
        self.inner.clock.now()
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.inner.hasher
    }

    /// Writes pending "last seen" updates to the store (graceful shutdown, tests).
    pub async fn flush(&self) {
        self.inner.touches.flush().await;
    }
}
