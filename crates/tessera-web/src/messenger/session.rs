//! `POST /messenger/session`: who is chatting, as a messaging token.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, header};
use tessera_chat::tokens::{MESSAGING_TOKEN_SECONDS, Speaker, check_identity};
use tessera_cookies::{CookieId, find_cookie};
use tessera_core::{SiteId, VisitorToken};
use tessera_store::{ChatOwner, ConsentChoice, Visitor};
use tessera_visitor::{ConsentState, Issued, Presented};

use crate::setcookie::append;
use crate::{AppState, WebError};

/// The tag's visitor for this browser: its third-party cookie (the frame and
/// the tag share the partition), or the first-party token the page handed over.
async fn monitored_visitor(
    state: &AppState,
    headers: &HeaderMap,
    site: SiteId,
    allowed: bool,
    handed: Option<&str>,
) -> Result<Option<Visitor>, WebError> {
    if !allowed {
        return Ok(None);
    }
    let registry = state.registry();
    let from_cookie = [CookieId::ThirdPartyVisitor, CookieId::ThirdPartyVisitorSession]
        .into_iter()
        .find_map(|id| crate::monitor::site_cookie(registry, headers, id, site));
    match from_cookie.or(handed) {
        Some(raw) => Ok(state.monitor().visitor_by_token(site, raw).await?),
        None => Ok(None),
    }
}

/// Requests from the frame carry Tessera's own origin; anything else is
/// another site's page trying to use the visitor's identity.
pub(crate) fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), WebError> {
    let ok = headers.get(header::ORIGIN).is_some_and(|o| o.as_bytes() == state.config().public_origin.as_bytes());
    if ok { Ok(()) } else { Err(WebError::Forbidden("Only the Messenger frame may open a messaging session.")) }
}

#[derive(serde::Deserialize)]
pub(crate) struct SessionRequest {
    site: u32,
    /// The customer page's consent (its JS API), if it said.
    #[serde(default)]
    consent: Option<bool>,
    /// The customer's identity token for a logged-in user.
    #[serde(default)]
    identity: Option<String>,
    /// A visitor token the page kept for the frame (third-party cookies blocked).
    #[serde(default)]
    visitor: Option<String>,
    /// The tag's first-party monitoring visitor token, so that the chat and
    /// the monitoring are one visitor to the agent.
    #[serde(default)]
    monitor: Option<String>,
}

#[derive(serde::Serialize)]
struct ConversationSummary {
    id: i64,
    status: &'static str,
    last_seq: u64,
}

#[derive(serde::Serialize)]
struct SessionResponse {
    token: String,
    expires_in: i64,
    /// A newly issued visitor token, for the page to keep when cookies are blocked.
    visitor: Option<String>,
    identity_error: Option<String>,
    agents_available: bool,
    conversations: Vec<ConversationSummary>,
}

pub(crate) async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<SessionRequest>,
) -> Result<Response, WebError> {
    check_origin(&state, &headers)?;
    let site_id = SiteId::new(req.site).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let site = state.sites().get(&state, site_id).await?.ok_or(WebError::NotFound)?;
    let gpc = headers.get("sec-gpc").is_some_and(|v| v.as_bytes() == b"1");
    let said = req.consent.map(|c| if c { ConsentChoice::Accepted } else { ConsentChoice::Rejected });
    let consent = ConsentState::decide(site.settings.consent_mode, said, gpc);

    let registry = state.registry();
    let cookies =
        |id| find_cookie(headers.get_all(header::COOKIE).into_iter().map(|v| v.as_bytes()), registry.name(id));
    let handed = req.visitor.as_deref().map(str::as_bytes);
    let presented = Presented {
        persistent: cookies(CookieId::MessengerVisitor).or(handed.filter(|_| consent.allowed)),
        visit: cookies(CookieId::MessengerVisit).or(handed),
    };
    let visitors = state.visitors();
    // A page that has not said (yet) does not withdraw anything: a persistent
    // cookie exists only because consent was given before, so it still
    // counts; only a new one needs consent now.
    let may_read = consent.allowed || (said.is_none() && !gpc);
    let resolved = visitors.resolve(site_id, may_read, presented).await?;
    let (visitor, issued) = match resolved.visitor {
        // Consent given after a session-only chat began: the same visitor
        // (and its conversation) becomes persistent.
        Some(v) if consent.allowed && !v.persistent => {
            let (v, token) = visitors.make_persistent(site_id, Some(v)).await?;
            (v, Some(Issued::Persistent(token)))
        }
        other => visitors.ensure(site_id, consent.allowed, other).await?,
    };

    let visitor = match monitored_visitor(&state, &headers, site_id, consent.allowed, req.monitor.as_deref()).await? {
        Some(monitored) if monitored.id != visitor.id => {
            // One browser, seen by the tag and the chat as two visitors: the
            // chat's joins the tag's, and its token now names that one.
            let store = state.core().store();
            store.merge_visitors(visitor.id, monitored.id).await?;
            let token = match &issued {
                Some(Issued::Persistent(t) | Issued::Visit(t)) => Some(t.hash()),
                None => (if visitor.persistent { presented.persistent } else { presented.visit })
                    .and_then(|raw| VisitorToken::parse(raw).ok())
                    .map(|t| t.hash()),
            };
            if let Some(hash) = token {
                store.set_visitor_token(monitored.id, Some(&hash), visitor.persistent, state.chat().now()).await?;
            }
            monitored
        }
        _ => visitor,
    };

    let now = state.chat().now();
    let mut identity_error = None;
    let mut speaker = Speaker::Visitor(visitor.id);
    if let Some(token) = req.identity.as_deref().filter(|t| !t.is_empty()) {
        match state.core().store().identity_secret(site_id).await? {
            None => identity_error = Some("This site does not accept identity tokens yet.".to_owned()),
            Some(secret) => match check_identity(token, &secret, now) {
                Ok(user) => speaker = Speaker::Verified { user: user.user, name: user.name, email: user.email },
                Err(e) => identity_error = Some(format!("The identity token was refused: {e}.")),
            },
        }
    }
    let owner = match &speaker {
        Speaker::Visitor(v) => ChatOwner { visitor: Some(*v), verified_user: None },
        Speaker::Verified { user, .. } => ChatOwner { visitor: None, verified_user: Some(user.clone()) },
    };
    let conversations = state.chat().conversations_of(site_id, &owner).await?;
    let body = SessionResponse {
        token: state.messaging_tokens().issue(site_id, &speaker, now),
        expires_in: MESSAGING_TOKEN_SECONDS,
        visitor: issued.as_ref().map(|i| match i {
            Issued::Persistent(t) | Issued::Visit(t) => t.encode(),
        }),
        identity_error,
        agents_available: state.chat().presence().available(site_id),
        conversations: conversations
            .iter()
            .map(|c| ConversationSummary { id: c.id.get(), status: c.status.as_str(), last_seq: c.last_seq })
            .collect(),
    };
    let mut res = Json(body).into_response();
    match issued {
        Some(Issued::Persistent(t)) => {
            append(&mut res, registry.set(CookieId::MessengerVisitor, t.encode()));
            if cookies(CookieId::MessengerVisit).is_some() {
                append(&mut res, registry.clear(CookieId::MessengerVisit));
            }
        }
        Some(Issued::Visit(t)) => append(&mut res, registry.set(CookieId::MessengerVisit, t.encode())),
        None => {}
    }
    if resolved.clear_persistent && cookies(CookieId::MessengerVisitor).is_some() {
        append(&mut res, registry.clear(CookieId::MessengerVisitor));
    }
    Ok(res)
}
