//! The Help Center's view of an anonymous browser: its consent state and
//! its visitor, and the cookie changes those imply.

use axum::response::Response;
use http::HeaderMap;
use http::header::COOKIE;
use tessera_cookies::{CookieId, find_cookie};
use tessera_core::ArticleId;
use tessera_session::LiveSession;
use tessera_store::{Actor, Visitor};
use tessera_visitor::{ConsentState, Issued, PageViewInput, Presented};

use crate::ctx::Ctx;
use crate::setcookie::append_unless_set;
use crate::{AppState, WebError};

#[derive(Debug)]
pub(crate) struct Guest {
    pub consent: ConsentState,
    pub visitor: Option<Visitor>,
    /// The browser sent the persistent visitor cookie (valid or not).
    pub had_persistent: bool,
    /// Cookies to set or clear on the response.
    cookies: Vec<cookie::Cookie<'static>>,
}

fn cookie<'h>(state: &AppState, headers: &'h HeaderMap, id: CookieId) -> Option<&'h [u8]> {
    find_cookie(headers.get_all(COOKIE).into_iter().map(|v| v.as_bytes()), state.registry().name(id))
}

impl Guest {
    pub async fn resolve(state: &AppState, ctx: &Ctx, headers: &HeaderMap) -> Result<Self, WebError> {
        let site = ctx.site.id;
        let recorded = match cookie(state, headers, CookieId::Consent) {
            Some(v) => state.visitors().recorded_choice(site, v).await?,
            None => None,
        };
        let consent = ConsentState::decide(ctx.site.settings.consent_mode, recorded, ctx.gpc);
        let presented = Presented {
            persistent: cookie(state, headers, CookieId::Visitor),
            visit: cookie(state, headers, CookieId::Visit),
        };
        let had_persistent = presented.persistent.is_some();
        let resolved = state.visitors().resolve(site, consent.allowed, presented).await?;
        let mut cookies = Vec::new();
        if resolved.clear_persistent {
            cookies.push(state.registry().clear(CookieId::Visitor));
        }
        if resolved.clear_visit {
            cookies.push(state.registry().clear(CookieId::Visit));
        }
        Ok(Self { consent, visitor: resolved.visitor, had_persistent, cookies })
    }

    pub fn actor(&self, live: Option<&LiveSession>) -> Actor {
        Actor { visitor: self.visitor.as_ref().map(|v| v.id), person: live.map(|l| l.person.id) }
    }

    /// The visitor to attach a vote or comment to; a guest without one gets
    /// one now (persistent with consent, else for this browser session).
    pub async fn ensure_visitor(&mut self, state: &AppState, ctx: &Ctx) -> Result<Visitor, WebError> {
        let (visitor, issued) = state.visitors().ensure(ctx.site.id, self.consent.allowed, self.visitor.take()).await?;
        match issued {
            Some(Issued::Persistent(token)) => self.push(state.registry().set(CookieId::Visitor, token.encode())),
            Some(Issued::Visit(token)) => self.push(state.registry().set(CookieId::Visit, token.encode())),
            None => {}
        }
        self.visitor = Some(visitor.clone());
        Ok(visitor)
    }

    /// Records a page view in the visitor's trail, only with consent.
    pub async fn track(
        &mut self,
        state: &AppState,
        ctx: &Ctx,
        live: Option<&LiveSession>,
        title: &str,
        article: Option<ArticleId>,
    ) -> Result<(), WebError> {
        if !self.consent.allowed {
            return Ok(());
        }
        let visitor = self.ensure_visitor(state, ctx).await?;
        let view = PageViewInput { path: &ctx.here, title, article, person: live.map(|l| l.person.id) };
        state.visitors().record_page_view(&visitor, view).await?;
        Ok(())
    }

    /// Sets or clears a cookie, replacing an earlier decision about it.
    pub fn push(&mut self, cookie: cookie::Cookie<'static>) {
        self.cookies.retain(|c| c.name() != cookie.name());
        self.cookies.push(cookie);
    }

    pub fn apply(self, res: &mut Response) {
        for c in self.cookies {
            append_unless_set(res, c);
        }
    }
}
