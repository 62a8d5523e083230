//! Visitor monitoring on customers' websites.
//!
//! The tag reports every page view; this crate decides who the browser is
//! (a visitor) and which visit it is on (a monitoring session), following
//! the site's cookie solution type ([`Layout`]), and says which cookies the
//! server sets (third-party, on Tessera's origin) and which the tag writes
//! (first-party, on the customer's page). Page views then go through the
//! batched [`Ingest`] pipeline.
//!
//! Third-party cookies may be refused by the browser. The server cannot see
//! that from one request, so a first visit under a third-party type asks the
//! tag to *probe* (one more request carrying cookies); if the cookie did not
//! come back, the tag writes the first-party fallback the answer carried.
//!
//! Knows nothing of HTTP or SQL: the web layer turns [`Placement`]s into
//! `Set-Cookie` headers and JSON through the cookie registry.

pub mod event;
mod ingest;
pub mod ip;
mod layout;
mod ticket;

use std::sync::Arc;

use tessera_cookies::CookieId;
use tessera_core::{Clock, MonitorToken, SiteId, Timestamp, VisitorId, VisitorToken};
use tessera_store::{MonitorSession, NewMonitorSession, PageEvent, Site, Store, StoreError, Visitor};

pub use event::EventError;
pub use ingest::{Busy, Drain, Ingest, IngestConfig, IngestStats};
pub use layout::{Layout, SESSION_COOKIES, VISITOR_COOKIES, persistent_visitor, server_set};
pub use ticket::{Signer, Ticket};

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The monitoring cookies the browser presented, raw: the server's from the
/// `Cookie` header, the tag's from the request body.
#[derive(Clone, Debug, Default)]
pub struct Presented {
    pub cookies: Vec<(CookieId, String)>,
}

impl Presented {
    pub fn get(&self, id: CookieId) -> Option<&str> {
        self.cookies.iter().find(|(c, _)| *c == id).map(|(_, v)| v.as_str())
    }
}

/// The page view that came with the hit, already validated.
#[derive(Clone, Debug)]
pub struct Page {
    pub url: String,
    pub title: String,
    pub referrer: String,
    /// Only with consent: a tab ID is an identifier too.
    pub tab: Option<String>,
    /// Already in its stored form (see [`ip::for_storage`]).
    pub ip: Option<String>,
}

/// What the visitor allows, as far as monitoring is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// Optional cookies and identifiers allowed.
    Allowed,
    /// Not allowed, and the page has not answered (opt-in, no answer yet).
    NotGiven,
    /// Refused (the page said no, or `Sec-GPC`): what exists is withdrawn.
    Withdrawn,
}

/// A cookie to write: which one and its value.
pub type Placement = (CookieId, String);

/// What a hit decided.
#[derive(Clone, Debug, Default)]
pub struct HitOutcome {
    /// The browser's visitor and visit (none without consent).
    pub visitor: Option<Visitor>,
    pub session: Option<MonitorSession>,
    /// Third-party cookies for the server to set, and to delete.
    pub set_server: Vec<Placement>,
    pub clear_server: Vec<CookieId>,
    /// First-party cookies for the tag to write now, and to delete.
    pub set_page: Vec<Placement>,
    pub clear_page: Vec<CookieId>,
    /// Third-party cookies are not proven to work: the tag probes, and
    /// writes `fallback` if they do not.
    pub probe: bool,
    pub fallback: Vec<Placement>,
    /// Signs the tag's later events of this visit.
    pub ticket: Option<Ticket>,
    /// The page view to store (none when nothing may be counted).
    pub event: Option<PageEvent>,
}

/// Decides visitors and visits for the tag's hits.
#[derive(Clone, Debug)]
pub struct Monitor {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    signer: Signer,
}

impl Monitor {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, signer: Signer) -> Self {
        Self { store, clock, signer }
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// One page view of `site`: who, which visit, which cookies.
    pub async fn hit(
        &self,
        site: &Site,
        consent: Consent,
        presented: &Presented,
        page: Page,
    ) -> Result<HitOutcome, MonitorError> {
        let now = self.clock.now();
        let mut out = HitOutcome::default();
        if consent != Consent::Allowed {
            self.refuse(site, consent == Consent::Withdrawn, presented, page, now, &mut out).await?;
            return Ok(out);
        }
        let layout = Layout::of(site.settings.solution_type);
        let idle = i64::from(site.settings.monitoring.idle_minutes) * 60;

        // The visitor: the layout's own cookie first, then its fallback, then
        // any other (the site switched types: the visitor moves, unbroken). A
        // session-only layout never takes a persistent cookie's word.
        let mut order = vec![layout.visitor];
        order.extend(layout.fallback.map(|(v, _)| v));
        order.extend(VISITOR_COOKIES);
        let mut visitor = None;
        for id in order {
            if !layout.persistent && persistent_visitor(id) {
                continue;
            }
            if let Some(found) = self.find_visitor(site.id, presented.get(id)).await? {
                visitor = Some((found, presented.get(id).unwrap_or_default().to_owned()));
                break;
            }
        }

        // The visit: still going, of this visitor (or, with no visitor yet,
        // of whoever the cross-domain cookie names: one visitor across domains).
        let mut order = vec![layout.session];
        order.extend(layout.fallback.map(|(_, s)| s));
        order.extend(SESSION_COOKIES);
        let mut session = None;
        for id in order {
            let Some(found) = self.find_session(site.id, presented.get(id)).await? else { continue };
            let fresh = now.since(found.last_seen_at) <= idle;
            let same = visitor.as_ref().is_none_or(|(v, _): &(Visitor, String)| v.id == found.visitor_id);
            if fresh && same {
                session = Some((found, presented.get(id).unwrap_or_default().to_owned()));
                break;
            }
        }

        let (visitor, visitor_token) = match (visitor, &session) {
            (Some(v), _) => v,
            (None, Some((s, _))) => match self.store.visitor(s.visitor_id).await? {
                // Known here under a token of its own.
                Some(v) => (v.clone(), self.new_token(v.id, now).await?),
                None => self.new_visitor(site.id, layout.persistent, now).await?,
            },
            (None, None) => self.new_visitor(site.id, layout.persistent, now).await?,
        };
        let (session, session_token) = match session {
            Some(s) => s,
            None => {
                let previous = presented
                    .get(CookieId::LastVisit)
                    .and_then(|v| self.signer.check_last_visit(site.id, v))
                    .filter(|at| *at <= now);
                let token = MonitorToken::generate();
                let new = NewMonitorSession {
                    site_id: site.id,
                    visitor_id: visitor.id,
                    token: &token.hash(),
                    previous_visit_at: previous,
                    now,
                };
                (self.store.start_monitor_session(&new).await?, token.encode())
            }
        };
        self.store.touch_visitor(visitor.id, now).await?;

        // Where things go.
        if layout.third_party() {
            out.set_server.push((layout.visitor, visitor_token.clone()));
            out.set_server.push((layout.session, session_token.clone()));
            let (fb_visitor, fb_session) = layout.fallback.unwrap_or((layout.visitor, layout.session));
            if presented.get(layout.visitor).is_some() {
                // Third-party cookies work: no first-party copy needed.
            } else if presented.get(fb_visitor).is_some() {
                // Refused before: the fallback goes on.
                out.set_page = vec![(fb_visitor, visitor_token), (fb_session, session_token)];
            } else {
                // Not known yet. The fallback names the same visitor with a
                // token of its own: the HttpOnly cookie's never reaches scripts.
                out.probe = true;
                out.fallback = vec![(fb_visitor, self.new_token(visitor.id, now).await?), (fb_session, session_token)];
            }
        } else {
            out.set_page.push((layout.visitor, visitor_token));
            out.set_page.push((layout.session, session_token.clone()));
            if let Some(xd) = layout.cross_domain {
                out.set_server.push((xd, session_token));
            }
        }
        out.set_page.push((CookieId::LastVisit, self.signer.last_visit(site.id, now)));
        // Whatever the browser has that this layout does not use goes.
        let used =
            |id: CookieId| out.set_server.iter().chain(&out.set_page).chain(&out.fallback).any(|(c, _)| *c == id);
        let stale: Vec<CookieId> = presented.cookies.iter().map(|(c, _)| *c).filter(|c| !used(*c)).collect();
        for c in stale {
            if server_set(c) { out.clear_server.push(c) } else { out.clear_page.push(c) }
        }

        out.ticket =
            Some(Ticket { site: site.id, visitor: Some(visitor.id), session: Some(session.id), issued_at: now });
        out.event = Some(PageEvent {
            site_id: site.id,
            visitor_id: Some(visitor.id),
            session_id: Some(session.id),
            tab: page.tab,
            url: page.url,
            title: page.title,
            referrer: page.referrer,
            ip: page.ip,
            at: now,
        });
        out.visitor = Some(visitor);
        out.session = Some(session);
        Ok(out)
    }

    /// No consent: nothing is set, and the view is counted only without any
    /// identifier and only where the site allows that. A refusal also
    /// withdraws: every monitoring cookie goes and the visitor tokens the
    /// browser showed stop working. A page that has not answered (yet)
    /// withdraws nothing: the cookies exist because consent was given before.
    async fn refuse(
        &self,
        site: &Site,
        withdraw: bool,
        presented: &Presented,
        page: Page,
        now: Timestamp,
        out: &mut HitOutcome,
    ) -> Result<(), MonitorError> {
        for (id, value) in presented.cookies.iter().filter(|_| withdraw) {
            let token = VISITOR_COOKIES.contains(id).then(|| VisitorToken::parse(value.as_bytes()).ok()).flatten();
            if let Some(token) = token {
                self.store.drop_visitor_token(&token.hash()).await?;
            }
            if server_set(*id) { out.clear_server.push(*id) } else { out.clear_page.push(*id) }
        }
        if site.settings.monitoring.cookieless_counting {
            out.ticket = Some(Ticket { site: site.id, visitor: None, session: None, issued_at: now });
            out.event = Some(PageEvent {
                site_id: site.id,
                visitor_id: None,
                session_id: None,
                tab: None,
                url: page.url,
                title: page.title,
                referrer: page.referrer,
                ip: None,
                at: now,
            });
        }
        Ok(())
    }

    async fn find_visitor(&self, site: SiteId, raw: Option<&str>) -> Result<Option<Visitor>, MonitorError> {
        let Some(Ok(token)) = raw.map(|r| VisitorToken::parse(r.as_bytes())) else { return Ok(None) };
        Ok(self.store.visitor_by_monitor_token(site, &token.hash()).await?)
    }

    async fn find_session(&self, site: SiteId, raw: Option<&str>) -> Result<Option<MonitorSession>, MonitorError> {
        let Some(Ok(token)) = raw.map(|r| MonitorToken::parse(r.as_bytes())) else { return Ok(None) };
        Ok(self.store.monitor_session(site, &token.hash()).await?)
    }

    async fn new_visitor(
        &self,
        site: SiteId,
        persistent: bool,
        now: Timestamp,
    ) -> Result<(Visitor, String), MonitorError> {
        // The visitors table wants a token of its own (the Messenger's); the
        // tag's tokens live beside it, several per visitor.
        let visitor = self.store.create_visitor(site, &VisitorToken::generate().hash(), persistent, now).await?;
        let token = self.new_token(visitor.id, now).await?;
        Ok((visitor, token))
    }

    async fn new_token(&self, visitor: VisitorId, now: Timestamp) -> Result<String, MonitorError> {
        let token = VisitorToken::generate();
        self.store.add_visitor_token(visitor, &token.hash(), now).await?;
        Ok(token.encode())
    }

    /// The visitor a monitoring token names on `site` (for the Messenger, so
    /// that the agent sees one visitor, not two).
    pub async fn visitor_by_token(&self, site: SiteId, raw: &str) -> Result<Option<Visitor>, MonitorError> {
        self.find_visitor(site, Some(raw)).await
    }

    /// Whether a probe request shows the layout's third-party cookie came back.
    pub fn third_party_works(site: &Site, presented: &Presented) -> bool {
        let layout = Layout::of(site.settings.solution_type);
        presented.get(layout.visitor).is_some() || presented.get(layout.session).is_some()
    }
}
