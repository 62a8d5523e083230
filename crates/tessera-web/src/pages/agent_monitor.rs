//! The agent's view of visitor monitoring: who is on the site now (a live
//! list over a WebSocket), and proactive chat invitations.
//!
//! The live list scales to thousands of visits by never sending them all:
//! the server filters and sends the newest `LIVE_ROWS` matches plus the
//! total, and refreshes at most once a second, when the page-view writer
//! has written something.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, header};
use tessera_core::{SiteId, Timestamp, VisitorId};
use tessera_store::MonitorSession;

use super::{Layout, format_time};
use crate::csrf::FormToken;
use crate::ctx::Ctx;
use crate::session::Authed;
use crate::{Agent, AppState, Invite, WebError};

/// Rows the live list shows at most; the rest is counted.
const LIVE_ROWS: usize = 200;
/// Visits looked at per refresh (newest first).
const LIVE_SCAN: u32 = 20_000;
/// Refreshes at most this often, however busy the site.
const REFRESH: Duration = Duration::from_secs(1);

const LIVE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                        img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One visit in the live list.
#[derive(Debug, serde::Serialize)]
pub(crate) struct LiveRow {
    visitor: i64,
    visit: u32,
    returning: bool,
    days_since_last: Option<i64>,
    url: String,
    title: String,
    seconds_ago: i64,
}

impl LiveRow {
    fn of(s: &MonitorSession, now: Timestamp) -> Self {
        Self {
            visitor: s.visitor_id.get(),
            visit: s.visit_number,
            returning: s.visit_number > 1 || s.previous_visit_at.is_some(),
            days_since_last: s.previous_visit_at.map(|at| s.started_at.since(at).max(0) / 86_400),
            url: s.current_url.clone(),
            title: s.current_title.clone(),
            seconds_ago: now.since(s.last_seen_at).max(0),
        }
    }

    fn matches(&self, filter: &str) -> bool {
        filter.is_empty()
            || self.url.to_lowercase().contains(filter)
            || self.title.to_lowercase().contains(filter)
            || self.visitor.to_string() == filter
            || (filter == "returning" && self.returning)
            || (filter == "new" && !self.returning)
    }
}

#[derive(Debug, serde::Serialize)]
struct LiveList {
    total: usize,
    rows: Vec<LiveRow>,
}

/// The site's visits still going on, filtered, newest first.
async fn live_list(state: &AppState, site: SiteId, filter: &str) -> Result<LiveList, WebError> {
    let settings = state.sites().get(state, site).await?.ok_or(WebError::NotFound)?;
    let now = state.monitor().now();
    let since = now.plus(-i64::from(settings.settings.monitoring.idle_minutes) * 60);
    let sessions = state.core().store().live_sessions(site, since, LIVE_SCAN).await?;
    let filter = filter.trim().to_lowercase();
    let matching: Vec<LiveRow> = sessions.iter().map(|s| LiveRow::of(s, now)).filter(|r| r.matches(&filter)).collect();
    let total = matching.len();
    Ok(LiveList { total, rows: matching.into_iter().take(LIVE_ROWS).collect() })
}

/// Visits going on across every site (each counted up to the live list's scan limit).
pub(crate) async fn live_visit_count(state: &AppState) -> Result<u64, WebError> {
    let store = state.core().store();
    let now = state.monitor().now();
    let mut total = 0;
    for site in store.sites().await? {
        let since = now.plus(-i64::from(site.settings.monitoring.idle_minutes) * 60);
        total += store.live_sessions(site.id, since, LIVE_SCAN).await?.len() as u64;
    }
    Ok(total)
}

#[derive(Template)]
#[template(path = "agent_live.html")]
struct LivePage {
    layout: Layout,
    list: LiveList,
    script: &'static str,
}

pub(crate) async fn live(
    State(state): State<AppState>,
    ctx: Ctx,
    Authed { live, .. }: Authed<Agent>,
    csrf: FormToken,
) -> Result<Response, WebError> {
    let list = live_list(&state, live.person.site_id, "").await?;
    let page = LivePage {
        layout: Layout::new::<Agent>(&state, &ctx, "On the site now", Some(&live), csrf),
        list,
        script: crate::assets::live_js_url(),
    };
    let mut res = super::render(&page)?;
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(LIVE_CSP));
    Ok(res)
}

#[derive(serde::Deserialize)]
struct FilterMsg {
    filter: String,
}

pub(crate) async fn live_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Authed { live, .. }: Authed<Agent>,
    ws: WebSocketUpgrade,
) -> Result<Response, WebError> {
    // A WebSocket carries cookies across sites: only our own pages may open it.
    crate::messenger::check_origin(&state, &headers)?;
    let site = live.person.site_id;
    Ok(ws.max_message_size(4 * 1024).on_upgrade(move |socket| async move {
        if let Err(e) = follow_live(state, site, socket).await {
            tracing::debug!(error = %e, "live visitors socket ended");
        }
    }))
}

async fn follow_live(state: AppState, site: SiteId, mut socket: WebSocket) -> Result<(), WebError> {
    let mut written = state.live_visits();
    let mut filter = String::new();
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    loop {
        if dirty {
            let list = live_list(&state, site, &filter).await?;
            let text = serde_json::to_string(&list).map_err(|e| WebError::Internal(e.into()))?;
            if socket.send(Message::Text(text.into())).await.is_err() {
                return Ok(());
            }
            dirty = false;
        }
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let msg: FilterMsg = serde_json::from_str(&text).map_err(|e| WebError::BadRequest(e.to_string()))?;
                    filter = msg.filter.chars().take(200).collect();
                    dirty = true;
                }
                Some(Ok(_)) => {}
                _ => return Ok(()),
            },
            // Page views written (on any node): refresh, at most once per tick.
            changed = written.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                tick.tick().await;
                dirty = true;
            }
            // "N seconds ago" moves even when nothing is written.
            _ = tokio::time::sleep(Duration::from_secs(15)) => dirty = true,
        }
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct InviteForm {
    #[serde(default)]
    message: String,
}

/// Proactive chat: the visitor's Messenger opens with the agent's words.
pub(crate) async fn invite(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Authed { live, .. }: Authed<Agent>,
    Form(form): Form<InviteForm>,
) -> Result<Response, WebError> {
    let visitor: VisitorId = id.parse().map_err(|_| WebError::NotFound)?;
    let found = state.visitors().visitor(visitor).await?;
    found.filter(|v| v.site_id == live.person.site_id).ok_or(WebError::NotFound)?;
    let message = form.message.trim();
    let message = if message.is_empty() { "Hello! Can I help you with anything?" } else { message };
    if message.chars().count() > 500 {
        return Err(WebError::BadRequest("An invitation can be at most 500 characters.".into()));
    }
    let invite =
        Invite { site: live.person.site_id, visitor, agent: live.person.name.to_string(), message: message.to_owned() };
    // Nobody listening (the visitor left) is not an error: the page says so.
    let reached = state.send_invite(invite);
    let done = if reached { "invited" } else { "not-online" };
    Ok(Redirect::to(&format!("/agent/visitors/{visitor}?done={done}")).into_response())
}

/// The visitor's visits for the profile: newest first, each with its pages.
#[derive(Debug)]
pub(crate) struct VisitSummary {
    pub(crate) number: u32,
    pub(crate) started: String,
    pub(crate) last_seen: String,
    pub(crate) pages: Vec<(String, String, String)>,
}

/// What the profile shows about the visitor on the customer's website.
#[derive(Debug, Default)]
pub(crate) struct OnSite {
    pub(crate) visits: Vec<VisitSummary>,
    pub(crate) returning: bool,
    pub(crate) days_since_last: Option<i64>,
    pub(crate) current: Option<(String, String)>,
    pub(crate) online: bool,
}

pub(crate) async fn on_site(state: &AppState, site: SiteId, visitor: VisitorId) -> Result<OnSite, WebError> {
    let store = state.core().store();
    let sessions = store.sessions_of_visitor(visitor, 20).await?;
    let Some(latest) = sessions.first() else { return Ok(OnSite::default()) };
    let idle = match state.sites().get(state, site).await? {
        Some(s) => i64::from(s.settings.monitoring.idle_minutes) * 60,
        None => 30 * 60,
    };
    let now = state.monitor().now();
    let mut visits = Vec::new();
    for s in &sessions {
        let pages = store
            .page_events_of_session(s.id, 100)
            .await?
            .into_iter()
            .map(|e| (format_time(e.at), e.title, e.url))
            .collect();
        visits.push(VisitSummary {
            number: s.visit_number,
            started: format_time(s.started_at),
            last_seen: format_time(s.last_seen_at),
            pages,
        });
    }
    Ok(OnSite {
        returning: latest.visit_number > 1 || latest.previous_visit_at.is_some(),
        days_since_last: latest.previous_visit_at.map(|at| latest.started_at.since(at).max(0) / 86_400),
        current: Some((latest.current_title.clone(), latest.current_url.clone())),
        online: now.since(latest.last_seen_at) <= idle,
        visits,
    })
}

super::pages!(LivePage);
