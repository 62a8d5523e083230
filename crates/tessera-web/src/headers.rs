//! Security headers on every response (and, in cluster mode, the node cookie).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};

use crate::AppState;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub(crate) async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let node_cookie = crate::cluster::node_cookie_for(&state, &req);
    let mut res = next.run(req).await;
    if let Some(cookie) = node_cookie {
        crate::setcookie::append_unless_set(&mut res, cookie);
    }
    let h = res.headers_mut();
    // A handler that sets its own policy (the Messenger frame, which the
    // site's embedding origins may frame) keeps it; everything else is
    // unframeable and script-free.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // No page of ours leaks its URL to another origin (tokens never sit in
    // URLs anyway; this is the belt to that pair of braces).
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    // Pages are personal or carry tokens; only content-hashed assets are cacheable.
    if !h.contains_key(header::CACHE_CONTROL) || h.contains_key(header::SET_COOKIE) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config().https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    res
}
