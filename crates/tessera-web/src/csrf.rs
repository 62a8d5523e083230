//! The CSRF guard: every unsafe method must come from our own pages.
//!
//! Checks, in order: `Sec-Fetch-Site` (browsers say when a request is
//! cross-site), `Origin` (must be ours when present), then the signed
//! double-submit token from the `X-CSRF-Token` header or the form's `_csrf`
//! field, bound to the `__Host-ts_csrf` anchor and the interface's session.
//! A refused request reaches no handler, so nothing changes.
//!
//! Pages get their token through [`FormToken`], which issues the anchor
//! lazily: requests that render no form (APIs, assets) never pay for it.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request};
use http::header::{CONTENT_TYPE, COOKIE};
use http::request::Parts;
use tessera_cookies::{CookieId, find_cookie};
use tessera_core::Interface;
use tessera_session::{Csrf, CsrfBinding, LiveSession};

use crate::session::Current;
use crate::{AppState, WebError};

/// Forms larger than this are refused before the token is even looked at.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The well-formed anchor of the request's CSRF cookie, if any.
fn anchor_of<'h>(headers: &'h http::HeaderMap, registry: &tessera_cookies::Registry) -> Option<&'h str> {
    find_cookie(headers.get_all(COOKIE).into_iter().map(|v| v.as_bytes()), registry.name(CookieId::Csrf))
        .filter(|v| Csrf::is_anchor(v))
        .and_then(|v| std::str::from_utf8(v).ok())
}

fn binding(live: Option<&LiveSession>) -> CsrfBinding<'_> {
    live.map_or(CsrfBinding::Anonymous, |l| CsrfBinding::Session(l.id_hash()))
}

/// Extractor: a fresh CSRF token for the forms of the page being rendered,
/// and a new anchor when the browser has none yet (the page's
/// [`Layout`](crate::pages::Layout) turns it into the CSRF cookie). Only
/// pages with forms pay for any of this; the request layer does nothing for it.
#[derive(Debug)]
pub(crate) struct FormToken {
    pub token: String,
    pub new_anchor: Option<String>,
}

impl FromRequestParts<AppState> for FormToken {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let current = parts.extensions.get::<Current>().ok_or(WebError::Forbidden("no CSRF context"))?;
        let (anchor, new_anchor) = match anchor_of(&parts.headers, state.registry()) {
            Some(existing) => (existing.to_owned(), None),
            None => {
                let fresh = state.csrf().new_anchor();
                (fresh.clone(), Some(fresh))
            }
        };
        let token = state.csrf().token(anchor.as_bytes(), current.interface, binding(current.live.as_deref()));
        Ok(Self { token, new_anchor })
    }
}

const REFUSED: &str = "This form was not sent from a Tessera page, or it has expired. \
                       Go back, reload the page and try again.";

/// Origin checks and token verification for an unsafe method; gives the
/// request back (body restored) if it passes.
pub(crate) async fn check_unsafe(
    state: &AppState,
    interface: Interface,
    live: Option<&LiveSession>,
    req: Request,
) -> Result<Request, WebError> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return Err(WebError::Forbidden("Cross-site form submissions are not accepted."));
    }
    if let Some(origin) = headers.get(http::header::ORIGIN)
        && !is_own_origin(origin.as_bytes(), headers.get(http::header::HOST), &state.config().public_origin)
    {
        return Err(WebError::Forbidden("Cross-site form submissions are not accepted."));
    }
    let anchor = anchor_of(headers, state.registry()).ok_or(WebError::Forbidden(REFUSED))?.to_owned();
    let binding = binding(live);

    if let Some(token) = req.headers().get("x-csrf-token") {
        let ok = state.csrf().verify(anchor.as_bytes(), interface, binding, token.as_bytes());
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
    if !state.csrf().verify(anchor.as_bytes(), interface, binding, token.as_bytes()) {
        return Err(WebError::Forbidden(REFUSED));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether `origin` is ours: the public origin, or this request's own origin
/// (the public origin's scheme with the `Host` the browser addressed), which
/// is how a site served on its own host name posts its forms. A cross-site
/// page cannot make a browser send a `Host` that matches its own `Origin`.
fn is_own_origin(origin: &[u8], host: Option<&http::HeaderValue>, public_origin: &str) -> bool {
    if origin == public_origin.as_bytes() {
        return true;
    }
    let scheme = public_origin.split_once("://").map_or("https", |(s, _)| s);
    let Some(host) = host.and_then(|h| h.to_str().ok()) else { return false };
    let Some(rest) = origin.strip_prefix(scheme.as_bytes()).and_then(|r| r.strip_prefix(b"://")) else {
        return false;
    };
    rest.eq_ignore_ascii_case(host.as_bytes())
}

/// The first value of `name` in an urlencoded body.
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[cfg(test)]
mod origin_tests {
    use super::is_own_origin;

    #[test]
    fn an_origin_is_ours_when_it_is_the_public_one_or_the_addressed_host() {
        let public = "https://help.example.com";
        let host = |h: &'static str| Some(http::HeaderValue::from_static(h));
        assert!(is_own_origin(b"https://help.example.com", None, public));
        assert!(is_own_origin(b"https://support.acme.test", host("support.acme.test").as_ref(), public));
        assert!(!is_own_origin(b"https://evil.example", host("support.acme.test").as_ref(), public));
        assert!(!is_own_origin(b"http://support.acme.test", host("support.acme.test").as_ref(), public));
        assert!(!is_own_origin(b"null", host("support.acme.test").as_ref(), public));
        assert!(!is_own_origin(b"https://evil.example", None, public));
    }
}
