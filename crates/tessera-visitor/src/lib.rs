//! Anonymous visitor identity and consent.
//!
//! A *visitor* is a browser known to a site, not a person: its token links
//! the guest's votes, comments, chats and page views. With consent the token
//! lives in the persistent visitor cookie and recognises the browser for
//! weeks; without, a guest who votes or comments gets a token for the browser
//! session only, and nothing recognises them later. Logging in links the
//! visitor to the person; logging out leaves the visitor as it is.
//!
//! This crate decides; the web layer turns its answers into cookies through
//! the registry. It knows nothing of HTTP or SQL.

mod consent;

use std::sync::Arc;

use tessera_core::{Clock, ConsentToken, PersonId, SiteId, VisitorId, VisitorToken};
use tessera_store::{Activity, ConsentChoice, ConsentRecord, PageView, Store, StoreError, Visitor};

pub use consent::{ConsentReason, ConsentState};

#[derive(Debug, thiserror::Error)]
pub enum VisitorError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the browser presented, as raw cookie values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Presented<'a> {
    /// The persistent visitor cookie.
    pub persistent: Option<&'a [u8]>,
    /// The browser-session visit cookie.
    pub visit: Option<&'a [u8]>,
}

/// Who this browser is, and which of its cookies should go.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    pub visitor: Option<Visitor>,
    /// The persistent cookie is unknown, or optional cookies are not allowed.
    pub clear_persistent: bool,
    /// The visit cookie is unknown or superseded by a persistent visitor.
    pub clear_visit: bool,
}

/// A token to hand to the browser.
#[derive(Debug)]
pub enum Issued {
    /// Goes in the persistent visitor cookie.
    Persistent(VisitorToken),
    /// Goes in the browser-session visit cookie.
    Visit(VisitorToken),
}

#[derive(Clone, Debug)]
pub struct Visitors {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Visitors {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Finds the visitor behind the browser's cookies. A persistent token
    /// counts only while optional cookies are allowed.
    pub async fn resolve(
        &self,
        site: SiteId,
        allowed: bool,
        presented: Presented<'_>,
    ) -> Result<Resolved, VisitorError> {
        let mut out = Resolved::default();
        if let Some(raw) = presented.persistent {
            if allowed {
                out.visitor = self.find(site, raw, true).await?;
            }
            out.clear_persistent = out.visitor.is_none();
        }
        if let Some(raw) = presented.visit {
            if out.visitor.is_none() {
                out.visitor = self.find(site, raw, false).await?;
            }
            // A persistent visitor supersedes the visit token (it was upgraded).
            out.clear_visit = out.visitor.as_ref().is_none_or(|v| v.persistent);
        }
        Ok(out)
    }

    async fn find(&self, site: SiteId, raw: &[u8], persistent: bool) -> Result<Option<Visitor>, VisitorError> {
        let Ok(token) = VisitorToken::parse(raw) else { return Ok(None) };
        let visitor = self.store.visitor_by_token(&token.hash()).await?;
        Ok(visitor.filter(|v| v.site_id == site && v.persistent == persistent))
    }

    /// The visitor to attach activity to, creating one if the browser has
    /// none: persistent when allowed, else for this browser session only.
    pub async fn ensure(
        &self,
        site: SiteId,
        allowed: bool,
        current: Option<Visitor>,
    ) -> Result<(Visitor, Option<Issued>), VisitorError> {
        if let Some(v) = current {
            return Ok((v, None));
        }
        let token = VisitorToken::generate();
        let visitor = self.store.create_visitor(site, &token.hash(), allowed, self.clock.now()).await?;
        let issued = if allowed { Issued::Persistent(token) } else { Issued::Visit(token) };
        Ok((visitor, Some(issued)))
    }

    /// Consent given: the browser's visitor (a visit-scoped one is upgraded,
    /// keeping its activity) gets a persistent token.
    pub async fn make_persistent(
        &self,
        site: SiteId,
        current: Option<Visitor>,
    ) -> Result<(Visitor, VisitorToken), VisitorError> {
        let token = VisitorToken::generate();
        let now = self.clock.now();
        match current {
            Some(mut v) => {
                self.store.set_visitor_token(v.id, Some(&token.hash()), true, now).await?;
                v.persistent = true;
                Ok((v, token))
            }
            None => Ok((self.store.create_visitor(site, &token.hash(), true, now).await?, token)),
        }
    }

    /// Consent withdrawn: the visitor's token stops working, so nothing links
    /// this browser's future activity to its past. The past stays, unlinked.
    pub async fn forget(&self, visitor: VisitorId) -> Result<(), VisitorError> {
        self.store.set_visitor_token(visitor, None, false, self.clock.now()).await?;
        Ok(())
    }

    /// Login: the browser's guest activity becomes the person's.
    pub async fn link(&self, visitor: VisitorId, person: PersonId) -> Result<(), VisitorError> {
        self.store.link_visitor(visitor, person, self.clock.now()).await?;
        Ok(())
    }

    pub async fn record_page_view(&self, visitor: &Visitor, view: PageViewInput<'_>) -> Result<(), VisitorError> {
        let now = self.clock.now();
        let view = PageView {
            site_id: visitor.site_id,
            visitor_id: visitor.id,
            person_id: view.person.or(visitor.person_id),
            path: truncate(view.path, 512),
            title: truncate(view.title, 200),
            article_id: view.article,
            at: now,
        };
        self.store.record_page_view(&view).await?;
        self.store.touch_visitor(visitor.id, now).await?;
        Ok(())
    }

    /// Stores the visitor's decision (as evidence) and returns the token
    /// for the consent cookie.
    pub async fn record_choice(
        &self,
        site: SiteId,
        choice: ConsentChoice,
        visitor: Option<VisitorId>,
    ) -> Result<ConsentToken, VisitorError> {
        let token = ConsentToken::generate();
        let record = ConsentRecord {
            token_hash: token.hash(),
            site_id: site,
            choice,
            visitor_id: visitor,
            decided_at: self.clock.now(),
        };
        self.store.record_consent(&record).await?;
        Ok(token)
    }

    /// The choice the consent cookie names, if it is genuine and this site's.
    pub async fn recorded_choice(&self, site: SiteId, raw: &[u8]) -> Result<Option<ConsentChoice>, VisitorError> {
        let Ok(token) = ConsentToken::parse(raw) else { return Ok(None) };
        let record = self.store.consent(&token.hash()).await?;
        Ok(record.filter(|r| r.site_id == site).map(|r| r.choice))
    }

    pub async fn visitor(&self, id: VisitorId) -> Result<Option<Visitor>, VisitorError> {
        Ok(self.store.visitor(id).await?)
    }

    /// The visitor's trail, oldest first.
    pub async fn activity(&self, id: VisitorId) -> Result<Vec<Activity>, VisitorError> {
        Ok(self.store.activity(id, 500).await?)
    }

    pub async fn recent(&self, site: SiteId) -> Result<Vec<Visitor>, VisitorError> {
        Ok(self.store.recent_visitors(site, 100).await?)
    }
}

/// A page view as the web layer sees it.
#[derive(Clone, Copy, Debug)]
pub struct PageViewInput<'a> {
    pub path: &'a str,
    pub title: &'a str,
    pub article: Option<tessera_core::ArticleId>,
    pub person: Option<PersonId>,
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
