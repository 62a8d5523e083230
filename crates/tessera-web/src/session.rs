//! The per-interface request layer: session resolution and the CSRF guard.
//!
//! Reads the interface's session cookie (and, failing that, its remember-me
//! cookie), refuses unsafe methods without a valid CSRF token (see
//! [`crate::csrf`]), puts one [`Current`] in the request's extensions, and
//! afterwards sets or clears cookies as the outcome requires. A request
//! without either session cookie does no store work at all. It is one layer,
//! not two, because every layer costs a boxed future and a service clone on
//! the hot path.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::header::COOKIE;
use http::request::Parts;
use tessera_cookies::find_cookie;
use tessera_session::{LiveSession, RestoreOutcome};
use tower::{Layer, Service};

use crate::csrf;
use crate::setcookie::append_unless_set;
use crate::{AppState, Iface, WebError, client};

/// What the layer learnt about the request: its interface and its session (if any).
#[derive(Clone, Debug)]
pub(crate) struct Current {
    pub interface: tessera_core::Interface,
    pub live: Option<Arc<LiveSession>>,
}

/// What the middleware must do to the response's cookies.
#[derive(Default)]
struct Changes {
    set: Vec<cookie::Cookie<'static>>,
}

/// The layer for interface `I`. A hand-written tower layer rather than
/// `axum::middleware::from_fn`: that one boxes a second service and a second
/// future per request, which the benchmark showed on the hot path.
pub(crate) struct InterfaceLayer<I> {
    state: AppState,
    _iface: PhantomData<fn() -> I>,
}

impl<I> InterfaceLayer<I> {
    pub fn new(state: AppState) -> Self {
        Self { state, _iface: PhantomData }
    }
}

impl<I> Clone for InterfaceLayer<I> {
    fn clone(&self) -> Self {
        Self::new(self.state.clone())
    }
}

impl<I: Iface, S> Layer<S> for InterfaceLayer<I> {
    type Service = InterfaceService<I, S>;

    fn layer(&self, inner: S) -> Self::Service {
        InterfaceService { state: self.state.clone(), inner, _iface: PhantomData }
    }
}

pub(crate) struct InterfaceService<I, S> {
    state: AppState,
    inner: S,
    _iface: PhantomData<fn() -> I>,
}

impl<I, S: Clone> Clone for InterfaceService<I, S> {
    fn clone(&self) -> Self {
        Self { state: self.state.clone(), inner: self.inner.clone(), _iface: PhantomData }
    }
}

impl<I, S> Service<Request> for InterfaceService<I, S>
where
    I: Iface,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The standard tower dance: the clone takes the place of the service
        // that was polled ready, which goes into the future.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Box::pin(async move { Ok(resolve::<I, S>(state, req, inner).await) })
    }
}

async fn resolve<I, S>(state: AppState, req: Request, mut inner: S) -> Response
where
    I: Iface,
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let registry = state.registry();
    let core = state.core();
    let mut changes = Changes::default();
    // The body is not `Sync`, so only the parts are borrowed across awaits.
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let cookies = || headers.get_all(COOKIE).into_iter().map(|v| v.as_bytes());

    let mut live = None;
    if let Some(value) = find_cookie(cookies(), registry.name(I::SESSION_COOKIE)) {
        match core.validate(I::INTERFACE, value).await {
            Ok(Some(found)) => live = Some(found),
            Ok(None) => changes.set.push(registry.clear(I::SESSION_COOKIE)),
            Err(e) => return WebError::from(e).into_response(),
        }
    }
    // Only a safe request restores from remember-me: an unsafe one could not
    // carry a CSRF token for the session the restore would create, so it
    // would be refused after rotating the series, and the browser, never
    // seeing the new token, would later look like a thief.
    if live.is_none()
        && parts.method.is_safe()
        && let Some(remember_id) = I::REMEMBER_COOKIE
        && let Some(value) = find_cookie(cookies(), registry.name(remember_id))
    {
        let client = client::client_info(&parts.extensions, headers, &state.config().trusted_proxies);
        match core.restore(I::INTERFACE, value, &client).await {
            Ok(RestoreOutcome::Restored { session, live: restored, remember }) => {
                changes.set.retain(|c| c.name() != registry.name(I::SESSION_COOKIE));
                changes.set.push(registry.set(I::SESSION_COOKIE, session.encode()));
                if let Some(next_token) = remember {
                    changes.set.push(registry.set(remember_id, next_token.encode()));
                }
                live = Some(restored);
            }
            Ok(RestoreOutcome::Invalid | RestoreOutcome::Theft) => changes.set.push(registry.clear(remember_id)),
            Err(e) => return WebError::from(e).into_response(),
        }
    }
    let mut req = Request::from_parts(parts, body);
    if !req.method().is_safe() {
        req = match csrf::check_unsafe(&state, I::INTERFACE, live.as_deref(), req).await {
            Ok(req) => req,
            Err(refusal) => {
                // Still clear cookies found invalid, so the browser stops sending them.
                let mut response = refusal.into_response();
                for cookie in changes.set {
                    append_unless_set(&mut response, cookie);
                }
                return response;
            }
        };
    }
    req.extensions_mut().insert(Current { interface: I::INTERFACE, live });
    let Ok(mut response) = inner.call(req).await;
    for cookie in changes.set {
        append_unless_set(&mut response, cookie);
    }
    response
}

/// Extractor: the logged-in session of interface `I`, or a redirect to its login page.
#[derive(Debug)]
pub(crate) struct Authed<I: Iface> {
    pub live: Arc<LiveSession>,
    _iface: PhantomData<I>,
}

impl<I: Iface> FromRequestParts<AppState> for Authed<I> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Current>().and_then(|c| c.live.clone()) {
            Some(live) => Ok(Self { live, _iface: PhantomData }),
            None => Err(axum::response::Redirect::to(&format!("{}/login", I::PREFIX)).into_response()),
        }
    }
}

/// Extractor: the session of the request's interface, if any.
#[derive(Debug)]
pub(crate) struct MaybeAuthed(pub Option<Arc<LiveSession>>);

impl FromRequestParts<AppState> for MaybeAuthed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Current>().and_then(|c| c.live.clone())))
    }
}
