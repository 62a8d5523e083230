//! Tessera's HTTP layer: the axum router, the three interfaces' pages, and
//! the middleware that turns cookies into sessions and back.
//!
//! Request path, outermost first: security headers → the interface's layer
//! ([`session`]: session resolution, then the CSRF guard ([`csrf`]) for unsafe
//! methods) → handler. Cookies are only ever produced by the registry
//! (`tessera-cookies`); this crate never builds a `Set-Cookie` by hand.

mod assets;
mod client;
mod csrf;
mod ctx;
mod error;
mod headers;
mod iface;
mod messenger;
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
}

impl AppState {
    pub fn new(core: SessionCore, registry: Registry, key: &SecretKey, config: WebConfig) -> Self {
        let csrf = Csrf::new(key);
        let kb = KnowledgeBase::new(core.store().clone(), core.clock().clone());
        let visitors = Visitors::new(core.store().clone(), core.clock().clone());
        let language_cookie = ctx::LanguageCookie::new(key);
        let agent_site_cookie = ctx::AgentSiteCookie::new(key);
        let sites = ctx::SiteCache::default();
        let chat = Chat::new(core.store().clone(), core.clock().clone());
        let messaging_tokens = MessagingTokens::new(key);
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
        };
        Self { inner: Arc::new(inner) }
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
}

/// One interface's routes wrapped in its session-and-CSRF layer.
fn interface<I: Iface>(state: &AppState, routes: Router<AppState>) -> Router<AppState> {
    routes.layer(session::InterfaceLayer::<I>::new(state.clone()))
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
        .merge(messenger::routes())
        .route("/healthz", get(pages::healthz))
        .route("/assets/{file}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(from_fn_with_state(state.clone(), headers::security_headers))
        .with_state(state)
}
