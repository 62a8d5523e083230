//! Per-request context every page needs: which site, which language, and
//! whether the browser sends Global Privacy Control.
//!
//! Sites are cached in memory (they change only through the admin
//! interface, which reloads the cache), so resolving the site and language
//! costs no store access.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use hmac::{Hmac, Mac};
use http::header::{ACCEPT_LANGUAGE, COOKIE, HOST};
use http::request::Parts;
use parking_lot::RwLock;
use sha2::Sha256;
use tessera_cookies::{CookieId, find_cookie};
use tessera_core::{HostName, Interface, Language, SecretKey, SecretKey32, SiteId};
use tessera_i18n::{Catalog, Tr};
use tessera_store::Site;

use crate::session::Current;
use crate::{AppState, WebError};

/// The sites, by ID and by host name.
#[derive(Debug, Default)]
struct SiteIndex {
    by_id: HashMap<SiteId, Arc<Site>>,
    by_host: HashMap<HostName, SiteId>,
}

#[derive(Debug, Default)]
pub(crate) struct SiteCache {
    index: RwLock<Option<Arc<SiteIndex>>>,
}

impl SiteCache {
    async fn index(&self, state: &AppState) -> Result<Arc<SiteIndex>, WebError> {
        if let Some(index) = self.index.read().clone() {
            return Ok(index);
        }
        let mut index = SiteIndex::default();
        for site in state.core().store().sites().await? {
            for host in &site.settings.hosts {
                index.by_host.insert(host.clone(), site.id);
            }
            index.by_id.insert(site.id, Arc::new(site));
        }
        let index = Arc::new(index);
        *self.index.write() = Some(index.clone());
        Ok(index)
    }

    /// Forgets everything; the next request reloads. Called after any site change.
    pub fn invalidate(&self) {
        *self.index.write() = None;
    }

    pub async fn get(&self, state: &AppState, id: SiteId) -> Result<Option<Arc<Site>>, WebError> {
        Ok(self.index(state).await?.by_id.get(&id).cloned())
    }

    /// The site whose host this is, else the default site.
    async fn for_host(&self, state: &AppState, host: Option<&HostName>) -> Result<Arc<Site>, WebError> {
        let index = self.index(state).await?;
        let id = host.and_then(|h| index.by_host.get(h)).copied().unwrap_or(state.config().default_site);
        index.by_id.get(&id).cloned().ok_or_else(|| WebError::Internal(format!("site {id} is missing").into()))
    }
}

/// The language cookie holds no readable tag: its value is an HMAC of the
/// site and the language, checked against the site's few languages.
#[derive(Debug)]
pub(crate) struct LanguageCookie {
    key: SecretKey32,
}

impl LanguageCookie {
    pub fn new(master: &SecretKey) -> Self {
        Self { key: master.derive("language-cookie") }
    }

    pub fn encode(&self, site: SiteId, lang: &Language) -> String {
        use base64::Engine;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose_bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{}:{}", site.get(), lang.as_str()).as_bytes());
        // 128 bits of the MAC: as strong as any other opaque token we issue.
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }

    /// Which of `offered` the cookie names, if any.
    pub fn decode<'a>(&self, site: SiteId, value: &[u8], offered: &'a [Language]) -> Option<&'a Language> {
        use subtle::ConstantTimeEq;
        offered.iter().find(|l| bool::from(self.encode(site, l).as_bytes().ct_eq(value)))
    }
}

/// The agent-site cookie: the site ID with a MAC, so a browser cannot make
/// the login form suggest a site it never logged into (it is only a hint,
/// but a forged hint is still a lie on our page).
#[derive(Debug)]
pub(crate) struct AgentSiteCookie {
    key: SecretKey32,
}

impl AgentSiteCookie {
    pub fn new(master: &SecretKey) -> Self {
        Self { key: master.derive("agent-site-cookie") }
    }

    fn mac(&self, site: u32) -> [u8; 16] {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose_bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(&site.to_be_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        out
    }

    pub fn encode(&self, site: SiteId) -> String {
        use base64::Engine;
        let mut bytes = site.get().to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.mac(site.get()));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(&self, value: &str) -> Option<SiteId> {
        use base64::Engine;
        use subtle::ConstantTimeEq;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value).ok()?;
        let (id, mac) = bytes.split_at_checked(4)?;
        let id = u32::from_be_bytes(id.try_into().ok()?);
        bool::from(self.mac(id).ct_eq(mac)).then_some(())?;
        SiteId::new(id).ok()
    }
}

/// Extractor: the site, the language and its translator, and GPC.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub site: Arc<Site>,
    pub lang: Language,
    pub tr: Tr<'static>,
    /// The languages the picker offers.
    pub offered: Vec<Language>,
    pub gpc: bool,
    /// Path and query of this request: where forms on the page come back to.
    pub here: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let interface = parts.extensions.get::<Current>().map_or(Interface::Portal, |c| c.interface);
        let host = parts.headers.get(HOST).and_then(|h| h.to_str().ok()).and_then(|h| HostName::parse(h).ok());
        let site = state.sites().for_host(state, host.as_ref()).await?;
        let catalog = Catalog::embedded();
        // The Help Center offers the site's languages; staff pages every catalogue.
        let (offered, default) = match interface {
            Interface::Portal => (site.settings.languages.clone(), site.settings.default_language.clone()),
            _ => (catalog.languages().to_vec(), catalog.languages()[0].clone()),
        };
        let cookies = parts.headers.get_all(COOKIE).into_iter().map(|v| v.as_bytes());
        let picked = find_cookie(cookies, state.registry().name(CookieId::Language))
            .and_then(|v| state.language_cookie().decode(site.id, v, &offered))
            .cloned();
        let lang = picked.unwrap_or_else(|| {
            let accept = parts.headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
            tessera_i18n::negotiate(accept, &offered, &default)
        });
        let gpc = parts.headers.get("sec-gpc").is_some_and(|v| v.as_bytes().trim_ascii() == b"1");
        let here = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .and_then(|u| u.0.path_and_query().map(|p| p.as_str().to_owned()))
            .unwrap_or_else(|| "/".into());
        Ok(Self { tr: catalog.tr(&lang), site, lang, offered, gpc, here })
    }
}

/// `to` if it is a path on this server (no scheme, no `//host`), else `/`.
pub(crate) fn local_path(to: &str) -> &str {
    let ok = to.starts_with('/') && !to.starts_with("//") && !to.starts_with("/\\") && !to.contains(['\r', '\n']);
    if ok { to } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_cookie_is_opaque_and_only_names_offered_languages() {
        let c = LanguageCookie::new(&SecretKey::generate());
        let langs: Vec<Language> = ["en", "fr", "da"].iter().filter_map(|l| Language::parse(l).ok()).collect();
        let value = c.encode(SiteId::DEFAULT, &langs[2]);
        assert!(!value.contains("da") || value.len() == 22);
        assert_eq!(c.decode(SiteId::DEFAULT, value.as_bytes(), &langs), Some(&langs[2]));
        assert_eq!(c.decode(SiteId::DEFAULT, value.as_bytes(), &langs[..2]), None);
        let other_site = SiteId::new(7).unwrap_or(SiteId::DEFAULT);
        assert_eq!(c.decode(other_site, value.as_bytes(), &langs), None);
        assert_eq!(c.decode(SiteId::DEFAULT, b"da", &langs), None);
    }

    #[test]
    fn agent_site_cookie_round_trips_and_refuses_forgeries() {
        let c = AgentSiteCookie::new(&SecretKey::generate());
        let site = SiteId::new(4242).unwrap_or(SiteId::DEFAULT);
        let value = c.encode(site);
        assert_eq!(c.decode(&value), Some(site));
        let other = AgentSiteCookie::new(&SecretKey::generate());
        assert_eq!(other.decode(&value), None);
        assert_eq!(c.decode("AAAQ6Q"), None);
        assert_eq!(c.decode("!!"), None);
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/kb/a/1?x=1"), "/kb/a/1?x=1");
        for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "", "kb", "/a\r\nSet-Cookie: x"] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
