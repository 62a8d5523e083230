//! The loader, its manifest, and the frame page.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};
use tessera_core::{Origin, SiteId};

use crate::{AppState, WebError, assets};

/// The loader is not content-hashed (customers paste its URL), so browsers
/// may keep it only briefly; everything it loads is immutable.
const TAG_MAX_AGE: &str = "public, max-age=300";
/// How long the loader may use a cached frame URL before revalidating it.
const FRESH_SECONDS: u64 = 3_600;

pub(crate) async fn tag_js() -> Response {
    let mut res = assets::TAG_JS.as_str().into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(TAG_MAX_AGE));
    res
}

fn site_param(params: &HashMap<String, String>) -> Result<SiteId, WebError> {
    params
        .get("site")
        .and_then(|s| SiteId::parse(s).ok())
        .ok_or_else(|| WebError::BadRequest("A site ID is required (site=1001).".into()))
}

/// `Origin` of the request if it is one the site allows to embed it.
fn allowed_origin(headers: &HeaderMap, allowed: &[Origin]) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let origin = Origin::parse(origin).ok()?;
    allowed.contains(&origin).then(|| HeaderValue::from_str(origin.as_str()).ok()).flatten()
}

#[derive(serde::Serialize)]
struct Manifest {
    site: u32,
    frame_url: String,
    version: &'static str,
    fresh_seconds: u64,
    consent_mode: &'static str,
    agents_available: bool,
}

pub(crate) async fn manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let id = site_param(&params)?;
    let site = state.sites().get(&state, id).await?.ok_or(WebError::NotFound)?;
    let body = Manifest {
        site: id.get(),
        frame_url: format!(
            "{}/messenger/frame?site={id}&v={}",
            state.config().public_origin,
            assets::messenger_version()
        ),
        version: assets::messenger_version(),
        fresh_seconds: FRESH_SECONDS,
        consent_mode: site.settings.consent_mode.as_str(),
        agents_available: state.chat().presence().available(id),
    };
    let mut res = axum::Json(body).into_response();
    let h = res.headers_mut();
    // Only the site's own embedding origins may read it; others get no CORS grant.
    if let Some(origin) = allowed_origin(&headers, &site.settings.embed_origins) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}

/// The frame page: a shell for messenger.js, framable only by the site's
/// embedding origins (CSP `frame-ancestors`), and only rendered for a `host`
/// among them, so the frame knows which origin to talk to.
pub(crate) async fn frame(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let id = site_param(&params)?;
    let site = state.sites().get(&state, id).await?.ok_or(WebError::NotFound)?;
    let allowed = &site.settings.embed_origins;
    let host = params
        .get("host")
        .and_then(|h| Origin::parse(h).ok())
        .filter(|h| allowed.contains(h))
        .ok_or(WebError::Forbidden("This website is not allowed to embed the Messenger."))?;
    let ancestors = allowed.iter().map(Origin::as_str).collect::<Vec<_>>().join(" ");
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Messenger</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><main id=\"messenger\" data-site=\"{id}\" data-host=\"{host}\" data-version=\"{version}\"></main>\
         <script src=\"{js}\"></script></body></html>",
        css = assets::messenger_css_url(),
        js = assets::messenger_js_url(),
        version = assets::messenger_version(),
    );
    let mut res = Html(html).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp).map_err(|e| WebError::Internal(e.into()))?);
    // The frame URL carries the version: a new release is a new URL.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    Ok(res)
}
