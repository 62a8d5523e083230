//! The CSRF guard: every unsafe method must come from our own pages.
//!
//! Checks, in order: `Sec-Fetch-Site` (browsers say when a request is
//! cross-site), `Origin` (must be ours when present), then the signed
//! double-submit token from the `X-CSRF-Token` header or the form's `_csrf`
//! field, bound to the `__Host-ts_csrf` anchor and the interface's session.
//! A refused request reaches no handler, so nothing changes.
//!
//! Pages get their token through [`FormToken`], which issues the anchor
//! cookie lazily: requests that render no form (APIs, assets) never pay for it.

use std::sync::{Arc, OnceLock};

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, COOKIE};
use http::request::Parts;
use tessera_cookies::{CookieId, find_cookie};
use tessera_session::{Csrf, CsrfBinding};

use crate::session::Current;
use crate::setcookie::append;
use crate::{AppState, Iface, WebError};

/// Forms larger than this are refused before the token is even looked at.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The browser's CSRF anchor, existing or issued for this response.
#[derive(Clone, Debug)]
pub(crate) struct Anchor {
    existing: Option<String>,
    issued: Arc<OnceLock<String>>,
}

impl Anchor {
    fn value(&self, csrf: &Csrf) -> &str {
        match &self.existing {
            Some(a) => a,
            None => self.issued.get_or_init(|| csrf.new_anchor()),
        }
    }
}

/// Extractor: a fresh CSRF token for the forms of the page being rendered.
#[derive(Debug)]
pub(crate) struct FormToken(pub String);

impl FromRequestParts<AppState> for FormToken {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let anchor = parts.extensions.get::<Anchor>().ok_or(WebError::Forbidden("no CSRF context"))?;
        let interface = parts.extensions.get::<InterfaceOf>().ok_or(WebError::Forbidden("no CSRF context"))?.0;
        let live = parts.extensions.get::<Current>().and_then(|c| c.live.clone());
        let binding = live.as_ref().map_or(CsrfBinding::Anonymous, |l| CsrfBinding::Session(l.id_hash()));
        Ok(Self(state.csrf().token(anchor.value(state.csrf()).as_bytes(), interface, binding)))
    }
}

#[derive(Clone, Copy, Debug)]
struct InterfaceOf(tessera_core::Interface);

const REFUSED: &str = "This form was not sent from a Tessera page, or it has expired. \
                       Go back, reload the page and try again.";

pub(crate) async fn guard<I: Iface>(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cookie_name = state.registry().name(CookieId::Csrf);
    let existing = find_cookie(req.headers().get_all(COOKIE).into_iter().map(|v| v.as_bytes()), cookie_name)
        .filter(|v| Csrf::is_anchor(v))
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::to_owned);

    let req = if req.method().is_safe() {
        req
    } else {
        match check_unsafe::<I>(&state, existing.as_deref(), req).await {
            Ok(req) => req,
            Err(refusal) => return refusal.into_response(),
        }
    };

    let anchor = Anchor { existing, issued: Arc::default() };
    let issued = anchor.issued.clone();
    let mut req = req;
    req.extensions_mut().insert(anchor);
    req.extensions_mut().insert(InterfaceOf(I::INTERFACE));
    let mut response = next.run(req).await;
    if let Some(new_anchor) = issued.get() {
        append(&mut response, state.registry().set(CookieId::Csrf, new_anchor.clone()));
    }
    response
}

/// Origin checks and token verification; gives the request back (body restored) if it passes.
async fn check_unsafe<I: Iface>(state: &AppState, anchor: Option<&str>, req: Request) -> Result<Request, WebError> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return Err(WebError::Forbidden("Cross-site form submissions are not accepted."));
    }
    if let Some(origin) = headers.get(http::header::ORIGIN)
        && origin.as_bytes() != state.config().public_origin.as_bytes()
    {
        return Err(WebError::Forbidden("Cross-site form submissions are not accepted."));
    }
    let anchor = anchor.ok_or(WebError::Forbidden(REFUSED))?;
    let live = req.extensions().get::<Current>().and_then(|c| c.live.clone());
    let binding = live.as_ref().map_or(CsrfBinding::Anonymous, |l| CsrfBinding::Session(l.id_hash()));

    if let Some(token) = req.headers().get("x-csrf-token") {
        let ok = state.csrf().verify(anchor.as_bytes(), I::INTERFACE, binding, token.as_bytes());
        return if ok { Ok(req) } else { Err(WebError::Forbidden(REFUSED)) };
    }
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/x-www-form-urlencoded"));
    if !is_form {
        return Err(WebError::Forbidden(REFUSED));
    }
    let (parts, body) = req.into_parts();
    let bytes =
        to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| WebError::BadRequest("The form is too large.".into()))?;
    let token = form_urlencoded_field(&bytes, "_csrf").ok_or(WebError::Forbidden(REFUSED))?;
    if !state.csrf().verify(anchor.as_bytes(), I::INTERFACE, binding, token.as_bytes()) {
        return Err(WebError::Forbidden(REFUSED));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The first value of `name` in an urlencoded body (tokens are base64url, so no decoding is needed
/// beyond what `serde_urlencoded` would do for these characters).
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}
