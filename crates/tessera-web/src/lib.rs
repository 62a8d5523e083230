//! Tessera's HTTP layer: the axum router, the three interfaces' pages, and
//! the middleware that turns cookies into sessions and back.
//!
//! Request path, outermost first: security headers → the interface's layer
//! ([`session`]: session resolution, then the CSRF guard ([`csrf`]) for unsafe
//! methods) → handler. Cookies are only ever produced by the registry
//! (`tessera-cookies`); this crate never builds a `Set-Cookie` by hand.

mod assets;
mod client;
mod cluster;
mod csrf;
mod ctx;
mod error;
mod headers;
mod iface;
mod messenger;
mod metrics;
mod monitor;
mod ops;
mod pages;
mod session;
mod setcookie;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::response::Redirect;
use axum::routing::get;
use tessera_chat::Chat;
use tessera_chat::tokens::MessagingTokens;
use tessera_cookies::Registry;
use tessera_core::{SecretKey, SiteId};
use tessera_kb::KnowledgeBase;
use tessera_session::{Csrf, SessionCore};
use tessera_visitor::Visitors;

pub use error::WebError;
pub use iface::{Admin, Agent, Iface, Portal};
pub use metrics::Metrics;
pub use pages::CookieLabels;

/// How the server is reached, which decides cookie security and HSTS.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The public origin, e.g. `https://help.example.com` (no trailing slash).
    pub public_origin: String,
    /// HTTPS or loopback: `Secure` cookies with the `__Host-` prefix.
    pub secure_cookies: bool,
    /// HTTPS: send `Strict-Transport-Security`.
    pub https: bool,
    /// The site the Help Center and admin interface serve.
    pub default_site: SiteId,
    /// Reverse proxies whose `X-Forwarded-For` is believed. Empty: the
    /// socket's peer address is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Shared state of every handler. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<StateInner>,
}

#[derive(Debug)]
struct StateInner {
    core: SessionCore,
    registry: Registry,
    csrf: Csrf,
    config: WebConfig,
    kb: KnowledgeBase,
    visitors: Visitors,
    sites: ctx::SiteCache,
    language_cookie: ctx::LanguageCookie,
    agent_site_cookie: ctx::AgentSiteCookie,
    chat: Chat,
    messaging_tokens: MessagingTokens,
    monitoring: monitor::MonitorParts,
    invites: tokio::sync::broadcast::Sender<Invite>,
    /// Bumped when page views were written, here or on another node.
    live_visits: tokio::sync::watch::Sender<u64>,
    metrics: Metrics,
}

/// An agent's proactive invitation to a visitor on the site, shown by the
/// visitor's Messenger (every open socket of that visitor, on this node).
#[derive(Clone, Debug)]
pub struct Invite {
    pub site: tessera_core::SiteId,
    pub visitor: tessera_core::VisitorId,
    pub agent: String,
    pub message: String,
}

impl AppState {
    pub fn new(core: SessionCore, registry: Registry, key: &SecretKey, config: WebConfig) -> Self {
        let csrf = Csrf::new(key);
        let kb = KnowledgeBase::new(core.store().clone(), core.clock().clone());
        let visitors = Visitors::new(core.store().clone(), core.clock().clone());
        let language_cookie = ctx::LanguageCookie::new(key);
        let agent_site_cookie = ctx::AgentSiteCookie::new(key);
        let sites = ctx::SiteCache::default();
        let chat = Chat::in_cluster(core.store().clone(), core.clock().clone(), core.cluster().clone());
        let messaging_tokens = MessagingTokens::new(key);
        // Needs a Tokio runtime: the page-view writer is a task.
        let signer = tessera_monitor::Signer::new(key.derive("monitor-ticket"));
        let store: Arc<dyn tessera_store::Store> = core.store().clone();
        let writer: Arc<dyn tessera_store::MonitorStore + Send + Sync> = store.clone();
        let (ingest, drain) = tessera_monitor::Ingest::start(writer, tessera_monitor::IngestConfig::default());
        let monitoring = monitor::MonitorParts {
            monitor: tessera_monitor::Monitor::new(store, core.clock().clone(), signer),
            ingest,
            drain: parking_lot::Mutex::new(Some(drain)),
            limits: Arc::new(monitor::Limits::new()),
        };
        let inner = StateInner {
            core,
            registry,
            csrf,
            config,
            kb,
            visitors,
            sites,
            language_cookie,
            agent_site_cookie,
            chat,
            messaging_tokens,
            monitoring,
            invites: tokio::sync::broadcast::channel(256).0,
            live_visits: tokio::sync::watch::channel(0).0,
            metrics: Metrics::new(),
        };
        let state = Self { inner: Arc::new(inner) };
        cluster::join(&state);
        state
    }
    pub fn invites(&self) -> &tokio::sync::broadcast::Sender<Invite> {
        &self.inner.invites
    }
    pub fn monitor(&self) -> &tessera_monitor::Monitor {
        &self.inner.monitoring.monitor
    }
    pub fn ingest(&self) -> &tessera_monitor::Ingest {
        &self.inner.monitoring.ingest
    }
    pub(crate) fn monitor_limits(&self) -> &monitor::Limits {
        &self.inner.monitoring.limits
    }
    /// Stops taking page views and writes every one already acknowledged.
    /// Call once the server has stopped taking requests.
    pub async fn shutdown(&self) {
        let drain = self.inner.monitoring.drain.lock().take();
        if let Some(drain) = drain {
            drain.drain().await;
        }
    }
    /// Retention: deletes each site's page views older than it keeps them,
    /// and lets the rate limiters forget idle visits. Returns how many views went.
    pub async fn purge_monitoring(&self) -> Result<u64, tessera_store::StoreError> {
        self.inner.monitoring.limits.shrink();
        let store = self.inner.core.store();
        let now = self.inner.core.clock().now();
        let mut purged = 0;
        for site in store.sites().await? {
            let keep = i64::from(site.settings.monitoring.retention_days) * 86_400;
            purged += store.purge_page_events(site.id, now.plus(-keep)).await?;
        }
        Ok(purged)
    }
    pub fn kb(&self) -> &KnowledgeBase {
        &self.inner.kb
    }
    pub fn visitors(&self) -> &Visitors {
        &self.inner.visitors
    }
    pub(crate) fn sites(&self) -> &ctx::SiteCache {
        &self.inner.sites
    }
    /// Sites are cached in memory; call this after changing one in the store
    /// from outside the admin interface (which calls it itself).
    pub fn sites_changed(&self) {
        self.inner.sites.invalidate();
    }
    pub(crate) fn language_cookie(&self) -> &ctx::LanguageCookie {
        &self.inner.language_cookie
    }
    pub(crate) fn agent_site_cookie(&self) -> &ctx::AgentSiteCookie {
        &self.inner.agent_site_cookie
    }
    pub fn chat(&self) -> &Chat {
        &self.inner.chat
    }
    pub(crate) fn messaging_tokens(&self) -> &MessagingTokens {
        &self.inner.messaging_tokens
    }
    pub fn core(&self) -> &SessionCore {
        &self.inner.core
    }
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }
    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }
    pub(crate) fn csrf(&self) -> &Csrf {
        &self.inner.csrf
    }
    pub fn cluster(&self) -> &Arc<dyn tessera_cluster::Cluster> {
        self.inner.core.cluster()
    }
    /// This node's Prometheus metrics (served at `/metrics`).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}

/// One interface's routes wrapped in its session-and-CSRF layer (and, outside it, the request metrics).
fn interface<I: Iface>(state: &AppState, routes: Router<AppState>) -> Router<AppState> {
    let routes = routes.layer(session::InterfaceLayer::<I>::new(state.clone()));
    metrics::tracked(state, metrics::Surface::of(I::INTERFACE), routes)
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(interface::<Portal>(&state, pages::portal_routes()))
        .nest("/agent", interface::<Agent>(&state, pages::agent_routes()))
        .nest("/admin", interface::<Admin>(&state, pages::admin_routes()))
        // Nested routers answer "/agent" only; people type the slash too.
        .route("/agent/", get(|| async { Redirect::permanent("/agent") }))
        .route("/admin/", get(|| async { Redirect::permanent("/admin") }))
        .merge(metrics::tracked(&state, metrics::Surface::Messenger, messenger::routes()))
        .merge(metrics::tracked(&state, metrics::Surface::Monitor, monitor::routes()))
        .merge(metrics::tracked(
            &state,
            metrics::Surface::Assets,
            Router::new().route("/assets/{file}", get(assets::serve)),
        ))
        // Outside every interface and the metrics: see `ops`.
        .merge(ops::routes())
        .fallback_service(metrics::not_found(&state))
        .layer(from_fn_with_state(state.clone(), headers::security_headers))
        .with_state(state)
}
