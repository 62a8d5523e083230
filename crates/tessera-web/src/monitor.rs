//! Visitor monitoring endpoints, called by the tag from customers' pages
//! (see docs/monitoring.md):
//!
//! - `POST /monitor/{site}/hit`: one page load. Decides visitor and visit,
//!   sets the third-party cookies, tells the tag which first-party ones to
//!   write, queues the page view, and hands back a ticket for later events.
//! - `GET /monitor/{site}/probe`: did the third-party cookie come back?
//! - `POST /monitor/{site}/events`: the lean path for later page views (a
//!   single-page app's navigations, `sendBeacon` batches): a signed ticket,
//!   no cookies, no store lookup; the events are queued for batch writing.
//!
//! Bodies are `text/plain` JSON, so browsers send them without a preflight;
//! CORS answers are given only to the site's embedding origins, and `hit`
//! and `events` refuse any other `Origin` outright.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tessera_cookies::{CookieId, Registry, find_cookie};
use tessera_core::{Origin, SiteId};
use tessera_monitor::{Consent, Presented, SESSION_COOKIES, VISITOR_COOKIES, event, ip, server_set};
use tessera_store::{ConsentChoice, PageEvent, Site};
use tessera_visitor::ConsentState;

use crate::setcookie::append;
use crate::{AppState, WebError};

/// Largest request body: a full batch of long URLs fits.
const MAX_BODY: usize = 64 * 1024;

/// Every cookie monitoring may find in a request or in the tag's report.
const MONITOR_COOKIES: [CookieId; 8] = [
    VISITOR_COOKIES[0],
    VISITOR_COOKIES[1],
    VISITOR_COOKIES[2],
    VISITOR_COOKIES[3],
    SESSION_COOKIES[0],
    SESSION_COOKIES[1],
    SESSION_COOKIES[2],
    CookieId::LastVisit,
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/monitor/{site}/hit", post(hit))
        .route("/monitor/{site}/probe", get(probe))
        .route("/monitor/{site}/events", post(events))
}

/// Per-visit and per-site event rate limits (per node).
#[derive(Debug)]
pub(crate) struct Limits {
    per_visit: DefaultKeyedRateLimiter<i64>,
    per_site: DefaultKeyedRateLimiter<u32>,
}

impl Limits {
    pub(crate) fn new() -> Self {
        let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        Self {
            // A person clicks through pages; a script flooding one visit is throttled.
            per_visit: RateLimiter::keyed(Quota::per_second(n(5)).allow_burst(n(60))),
            per_site: RateLimiter::keyed(Quota::per_second(n(200_000)).allow_burst(n(400_000))),
        }
    }

    fn allow(&self, site: SiteId, visit: Option<i64>, n: u32) -> bool {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let visit_ok = visit.is_none_or(|v| matches!(self.per_visit.check_key_n(&v, n), Ok(Ok(()))));
        visit_ok && matches!(self.per_site.check_key_n(&site.get(), n), Ok(Ok(())))
    }

    /// Forgets idle keys, so the limiters' memory follows live traffic.
    pub(crate) fn shrink(&self) {
        self.per_visit.retain_recent();
        self.per_site.retain_recent();
    }
}

/// The value of the site's cookie `id` in the request's `Cookie` header, as text.
pub(crate) fn site_cookie<'a>(
    registry: &Registry,
    headers: &'a HeaderMap,
    id: CookieId,
    site: SiteId,
) -> Option<&'a str> {
    let name = registry.name_for_site(id, site);
    find_cookie(headers.get_all(header::COOKIE).into_iter().map(|v| v.as_bytes()), &name)
        .and_then(|v| std::str::from_utf8(v).ok())
}

fn site_id(raw: &str) -> Result<SiteId, WebError> {
    SiteId::parse(raw).map_err(|_| WebError::BadRequest("Unknown site ID.".into()))
}

/// The request's `Origin` if the site allows it to embed the tag.
fn embedding_origin(headers: &HeaderMap, site: &Site) -> Option<HeaderValue> {
    let origin = Origin::parse(headers.get(header::ORIGIN)?.to_str().ok()?).ok()?;
    site.settings.embed_origins.contains(&origin).then(|| HeaderValue::from_str(origin.as_str()).ok()).flatten()
}

fn with_cors(mut res: Response, origin: HeaderValue, credentials: bool) -> Response {
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if credentials {
        h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The site and the embedding origin, or the reason to refuse.
async fn site_and_origin(
    state: &AppState,
    raw: &str,
    headers: &HeaderMap,
) -> Result<(Arc<Site>, HeaderValue), WebError> {
    let site = state.sites().get(state, site_id(raw)?).await?.ok_or(WebError::NotFound)?;
    let origin = embedding_origin(headers, &site)
        .ok_or(WebError::Forbidden("This page is not on a website allowed to embed this site's tag."))?;
    Ok((site, origin))
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, WebError> {
    if body.len() > MAX_BODY {
        return Err(WebError::BadRequest(format!("A report may be at most {MAX_BODY} bytes.")));
    }
    serde_json::from_slice(body).map_err(|e| WebError::BadRequest(format!("The report is not valid JSON: {e}.")))
}

#[derive(serde::Deserialize)]
struct HitRequest {
    /// The page's consent answer through the tag's API, if it gave one.
    #[serde(default)]
    consent: Option<bool>,
    /// Sent again for the same page (the consent answer changed): not a new view.
    #[serde(default)]
    again: bool,
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    referrer: String,
    #[serde(default)]
    tab: Option<String>,
    /// The tag's first-party monitoring cookies, by name.
    #[serde(default)]
    cookies: std::collections::HashMap<String, String>,
}

/// A first-party cookie for the tag to write: name, value, max-age (none: session).
#[derive(serde::Serialize)]
struct PageCookie(String, String, Option<u64>);

#[derive(serde::Serialize)]
struct HitResponse {
    set: Vec<PageCookie>,
    clear: Vec<String>,
    probe: bool,
    fallback: Vec<PageCookie>,
    ticket: Option<String>,
    /// Seconds the ticket is good for; after that the tag sends a hit instead.
    ttl: u64,
    counted: bool,
    /// This visit, for the page's script (`tessera.visit`); none without consent.
    visit: Option<VisitInfo>,
}

#[derive(serde::Serialize)]
struct VisitInfo {
    /// 1 on a first visit.
    number: u32,
    returning: bool,
    /// Whole days since the previous visit ended, when there was one.
    days_since_last: Option<i64>,
}

fn page_cookie(registry: &Registry, site: SiteId, (id, value): (CookieId, String)) -> PageCookie {
    PageCookie(registry.name_for_site(id, site), value, registry.get(id).max_age_seconds)
}

async fn hit(
    State(state): State<AppState>,
    Path(raw_site): Path<String>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Bytes,
) -> Result<Response, WebError> {
    let (site, origin) = site_and_origin(&state, &raw_site, &headers).await?;
    let req: HitRequest = json_body(&body)?;
    let url = event::page_url(&req.url, &site.settings.embed_origins).map_err(bad)?;
    let referrer = event::referrer(&req.referrer).map_err(bad)?;
    let gpc = headers.get("sec-gpc").is_some_and(|v| v.as_bytes() == b"1");
    let said = req.consent.map(|c| if c { ConsentChoice::Accepted } else { ConsentChoice::Rejected });
    let allowed = ConsentState::decide(site.settings.consent_mode, said, gpc).allowed;
    let consent = match (allowed, gpc || req.consent == Some(false)) {
        (true, _) => Consent::Allowed,
        (false, true) => Consent::Withdrawn,
        (false, false) => Consent::NotGiven,
    };

    let registry = state.registry();
    let mut presented = Presented::default();
    for id in MONITOR_COOKIES {
        let value = if server_set(id) {
            site_cookie(registry, &headers, id, site.id).map(str::to_owned)
        } else {
            req.cookies.get(&registry.name_for_site(id, site.id)).cloned()
        };
        if let Some(v) = value.filter(|v| !v.is_empty() && v.len() <= 128) {
            presented.cookies.push((id, v));
        }
    }
    let tab = match (allowed, req.tab.as_deref()) {
        (true, Some(t)) => Some(event::tab(t).map_err(bad)?),
        _ => None,
    };
    let full_ip = site.settings.monitoring.full_ip;
    let ip = crate::client::client_ip(&extensions, &headers, &state.config().trusted_proxies)
        .map(|addr| ip::for_storage(addr, full_ip));
    let page = tessera_monitor::Page { url, title: event::title(&req.title), referrer, tab, ip };
    let outcome = state.monitor().hit(&site, consent, &presented, page).await?;

    let counted = match outcome.event {
        Some(e) if !req.again => state.ingest().submit(vec![e]).is_ok(),
        _ => false,
    };
    let visit = outcome.session.as_ref().map(|s| VisitInfo {
        number: s.visit_number,
        returning: s.visit_number > 1 || s.previous_visit_at.is_some(),
        days_since_last: s.previous_visit_at.map(|at| s.started_at.since(at).max(0) / 86_400),
    });
    let body = HitResponse {
        set: outcome.set_page.into_iter().map(|p| page_cookie(registry, site.id, p)).collect(),
        clear: outcome.clear_page.iter().map(|id| registry.name_for_site(*id, site.id)).collect(),
        probe: outcome.probe,
        fallback: outcome.fallback.into_iter().map(|p| page_cookie(registry, site.id, p)).collect(),
        ticket: outcome.ticket.map(|t| state.monitor().signer().ticket(&t)),
        ttl: u64::from(site.settings.monitoring.idle_minutes) * 60,
        counted,
        visit,
    };
    let mut res = Json(body).into_response();
    for (id, value) in outcome.set_server {
        append(&mut res, registry.set_for_site(id, site.id, value));
    }
    for id in outcome.clear_server {
        append(&mut res, registry.clear_for_site(id, site.id));
    }
    Ok(with_cors(res, origin, true))
}

fn bad(e: tessera_monitor::EventError) -> WebError {
    WebError::BadRequest(crate::pages::sentence(e))
}

#[derive(serde::Serialize)]
struct ProbeResponse {
    third_party: bool,
}

async fn probe(
    State(state): State<AppState>,
    Path(raw_site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let (site, origin) = site_and_origin(&state, &raw_site, &headers).await?;
    let registry = state.registry();
    let mut presented = Presented::default();
    for id in MONITOR_COOKIES.into_iter().filter(|id| server_set(*id)) {
        if site_cookie(registry, &headers, id, site.id).is_some() {
            presented.cookies.push((id, String::new()));
        }
    }
    let body = ProbeResponse { third_party: tessera_monitor::Monitor::third_party_works(&site, &presented) };
    Ok(with_cors(Json(body).into_response(), origin, true))
}

#[derive(serde::Deserialize)]
struct EventsRequest {
    ticket: String,
    events: Vec<EventIn>,
}

#[derive(serde::Deserialize)]
struct EventIn {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    referrer: String,
    #[serde(default)]
    tab: Option<String>,
}

async fn events(
    State(state): State<AppState>,
    Path(raw_site): Path<String>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Bytes,
) -> Result<Response, WebError> {
    let (site, origin) = site_and_origin(&state, &raw_site, &headers).await?;
    let req: EventsRequest = json_body(&body)?;
    let monitor = state.monitor();
    let now = monitor.now();
    let ttl = i64::from(site.settings.monitoring.idle_minutes) * 60;
    let ticket = monitor
        .signer()
        .check_ticket(&req.ticket)
        .filter(|t| t.site == site.id && t.issued_at <= now && now.since(t.issued_at) <= ttl)
        .ok_or_else(|| WebError::Forbidden("The event ticket is not valid (expired or forged); send a hit."))?;
    if req.events.is_empty() || req.events.len() > event::MAX_BATCH {
        return Err(bad(tessera_monitor::EventError::Batch));
    }
    let n = u32::try_from(req.events.len()).unwrap_or(u32::MAX);
    if !state.monitor_limits().allow(site.id, ticket.session.map(|s| s.get()), n) {
        return Err(WebError::TooMany("Too many page views from this visit; slow down.".into()));
    }
    let identified = ticket.visitor.is_some();
    let ip = identified
        .then(|| crate::client::client_ip(&extensions, &headers, &state.config().trusted_proxies))
        .flatten()
        .map(|addr| ip::for_storage(addr, site.settings.monitoring.full_ip));
    let mut out = Vec::with_capacity(req.events.len());
    for e in req.events {
        out.push(PageEvent {
            site_id: site.id,
            visitor_id: ticket.visitor,
            session_id: ticket.session,
            // Without consent nothing identifies the view, not even the tab.
            tab: match (identified, e.tab.as_deref()) {
                (true, Some(t)) => Some(event::tab(t).map_err(bad)?),
                _ => None,
            },
            url: event::page_url(&e.url, &site.settings.embed_origins).map_err(bad)?,
            title: event::title(&e.title),
            referrer: event::referrer(&e.referrer).map_err(bad)?,
            ip: ip.clone(),
            at: now,
        });
    }
    state.ingest().submit(out).map_err(|_| WebError::Busy("Too many page views are waiting; try again shortly."))?;
    Ok(with_cors(StatusCode::ACCEPTED.into_response(), origin, false))
}

/// Shared by the state: what the endpoints above need.
#[derive(Debug)]
pub(crate) struct MonitorParts {
    pub(crate) monitor: tessera_monitor::Monitor,
    pub(crate) ingest: tessera_monitor::Ingest,
    pub(crate) drain: parking_lot::Mutex<Option<tessera_monitor::Drain>>,
    pub(crate) limits: Arc<Limits>,
}
