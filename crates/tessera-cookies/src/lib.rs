//! The cookie registry: every cookie Tessera sets is declared here, once.
//!
//! A cookie is only ever built through [`Registry::set`] or
//! [`Registry::clear`], so its attributes always match its declaration; the
//! policy page, `tessera cookies` and the README table are rendered from the
//! same declarations, and [`Registry::check_set_cookie`] lets the test suite
//! fail on any `Set-Cookie` that is undeclared or differs from what is declared.

mod declarations;
mod render;
mod scan;

use std::fmt;
use std::time::Duration;

use cookie::{Cookie, SameSite as CookieSameSite};
use serde::Serialize;

pub use declarations::CookieId;
pub use render::{Column, English, Labels};
pub use scan::find_cookie;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Needed for the service to work; not subject to consent.
    Essential,
    /// Set only after consent, or an explicit act that is consent (ticking Remember me).
    Optional,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifetime {
    /// Gone when the browser session ends (no `Max-Age`).
    Session,
    /// Kept for `max_age_seconds`.
    Persistent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    First,
    Third,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SetBy {
    Server,
    Script,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Users,
    Agents,
    Admins,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

/// Where a declared item lives: Tessera also declares the browser storage
/// keys its scripts use, so the policy lists everything kept in the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    Cookie,
    /// `sessionStorage`: gone when the tab closes.
    SessionStorage,
}

/// One declared cookie (or storage key), with its name as deployed (`__Host-`
/// prefix included when secure; `{site}` stands for the site ID in names
/// that carry it).
#[derive(Clone, Debug, Serialize)]
pub struct Declaration {
    #[serde(skip)]
    pub id: CookieId,
    pub name: String,
    /// English; translations are looked up by [`CookieId::key`].
    pub purpose: &'static str,
    pub category: Category,
    pub lifetime: Lifetime,
    /// `None` for session cookies.
    pub max_age_seconds: Option<u64>,
    pub party: Party,
    pub set_by: SetBy,
    pub audience: &'static [Audience],
    pub http_only: bool,
    pub secure: bool,
    pub same_site: SameSite,
    pub partitioned: bool,
    pub path: &'static str,
    pub storage: Storage,
}

/// Deployment facts that change how cookies are declared.
#[derive(Clone, Copy, Debug)]
pub struct RegistryConfig {
    /// HTTPS public URL or loopback: `Secure` and the `__Host-` prefix.
    pub secure: bool,
    pub remember_portal_max_age: Duration,
    pub remember_agent_max_age: Duration,
    /// Lifetime of the visitor cookie (capped at 400 days).
    pub visitor_max_age: Duration,
    /// Several nodes behind a load balancer: the node cookie exists.
    pub cluster: bool,
}

/// A `Set-Cookie` header that does not match the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("Set-Cookie header is not valid: {0}")]
    Unparsable(String),
    #[error("cookie {0:?} is not declared in the registry")]
    Undeclared(String),
    #[error("cookie {name:?}: {attribute} is {actual}, declared {declared}")]
    Mismatch { name: String, attribute: &'static str, declared: String, actual: String },
}

#[derive(Clone, Debug)]
pub struct Registry {
    /// Every declaration, indexed by `CookieId`.
    all: Vec<Declaration>,
    /// The ones this deployment can set: what is listed and checked.
    declarations: Vec<Declaration>,
}

impl Registry {
    pub fn new(config: RegistryConfig) -> Self {
        let all: Vec<_> = CookieId::ALL.iter().map(|id| id.declare(&config)).collect();
        let declarations = all.iter().filter(|d| d.id != CookieId::Node || config.cluster).cloned().collect();
        Self { all, declarations }
    }

    /// The cookies and storage keys this deployment may set (the node
    /// cookie only in cluster mode): what the cookie page lists.
    pub fn declarations(&self) -> &[Declaration] {
        &self.declarations
    }

    pub fn get(&self, id: CookieId) -> &Declaration {
        // ALL lists every variant in discriminant order; a unit test holds this.
        &self.all[id as usize]
    }

    pub fn name(&self, id: CookieId) -> &str {
        &self.get(id).name
    }

    /// The cookie `id` carrying `value`, with exactly its declared attributes.
    pub fn set(&self, id: CookieId, value: String) -> Cookie<'static> {
        self.build(id, self.get(id).name.clone(), value)
    }

    /// Like [`Self::set`], for a cookie whose name holds the site ID (`{site}`).
    pub fn set_for_site(&self, id: CookieId, site: impl fmt::Display, value: String) -> Cookie<'static> {
        self.build(id, self.name_for_site(id, site), value)
    }

    /// A deleting cookie for [`Self::set_for_site`]'s.
    pub fn clear_for_site(&self, id: CookieId, site: impl fmt::Display) -> Cookie<'static> {
        let mut c = self.set_for_site(id, site, String::new());
        c.set_max_age(cookie::time::Duration::ZERO);
        c
    }

    /// The deployed name of `id` for `site` (`{site}` replaced).
    pub fn name_for_site(&self, id: CookieId, site: impl fmt::Display) -> String {
        self.get(id).name.replace("{site}", &site.to_string())
    }

    fn build(&self, id: CookieId, name: String, value: String) -> Cookie<'static> {
        let d = self.get(id);
        let mut c = Cookie::build((name, value))
            .path(d.path)
            .http_only(d.http_only)
            .secure(d.secure)
            .same_site(match d.same_site {
                SameSite::Strict => CookieSameSite::Strict,
                SameSite::Lax => CookieSameSite::Lax,
                SameSite::None => CookieSameSite::None,
            })
            .partitioned(d.partitioned)
            .build();
        if let Some(secs) = d.max_age_seconds {
            c.set_max_age(cookie::time::Duration::seconds(secs as i64));
        }
        c
    }

    /// A cookie that deletes `id` in the browser (same name, path and attributes, `Max-Age=0`).
    pub fn clear(&self, id: CookieId) -> Cookie<'static> {
        let mut c = self.set(id, String::new());
        c.set_max_age(cookie::time::Duration::ZERO);
        c
    }

    /// Checks one `Set-Cookie` header value against the declarations.
    pub fn check_set_cookie(&self, header: &str) -> Result<(), CheckError> {
        let c = Cookie::parse(header).map_err(|e| CheckError::Unparsable(format!("{e}: {header}")))?;
        let d = self
            .declarations
            .iter()
            .find(|d| name_matches(&d.name, c.name()) && d.storage == Storage::Cookie && d.set_by == SetBy::Server)
            .ok_or_else(|| CheckError::Undeclared(c.name().to_owned()))?;
        let mismatch = |attribute, declared: String, actual: String| {
            Err(CheckError::Mismatch { name: d.name.clone(), attribute, declared, actual })
        };
        let same_site = c.same_site().map(|s| format!("{s:?}"));
        let removal = c.max_age() == Some(cookie::time::Duration::ZERO);
        let max_age = c.max_age().map(|m| m.whole_seconds());
        if c.path() != Some(d.path) {
            return mismatch("Path", d.path.into(), format!("{:?}", c.path()));
        }
        if c.domain().is_some() {
            return mismatch("Domain", "unset".into(), format!("{:?}", c.domain()));
        }
        if c.http_only().unwrap_or(false) != d.http_only {
            return mismatch("HttpOnly", d.http_only.to_string(), format!("{:?}", c.http_only()));
        }
        if c.secure().unwrap_or(false) != d.secure {
            return mismatch("Secure", d.secure.to_string(), format!("{:?}", c.secure()));
        }
        if same_site.as_deref() != Some(&format!("{:?}", d.same_site)) {
            return mismatch("SameSite", format!("{:?}", d.same_site), format!("{same_site:?}"));
        }
        if c.partitioned().unwrap_or(false) != d.partitioned {
            return mismatch("Partitioned", d.partitioned.to_string(), format!("{:?}", c.partitioned()));
        }
        if !removal {
            let declared = d.max_age_seconds.map(|s| s as i64);
            if max_age != declared || c.expires().is_some() {
                return mismatch("Max-Age", format!("{declared:?}"), format!("{max_age:?}"));
            }
        }
        Ok(())
    }
}

/// Whether `actual` is the declared name, with `{site}` standing for a site ID (digits).
pub fn name_matches(declared: &str, actual: &str) -> bool {
    match declared.split_once("{site}") {
        None => declared == actual,
        Some((before, after)) => actual
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|site| !site.is_empty() && site.bytes().all(|b| b.is_ascii_digit())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(secure: bool) -> RegistryConfig {
        RegistryConfig {
            secure,
            remember_portal_max_age: Duration::from_secs(30 * 86_400),
            remember_agent_max_age: Duration::from_secs(14 * 86_400),
            visitor_max_age: Duration::from_secs(365 * 86_400),
            cluster: true,
        }
    }

    fn registry(secure: bool) -> Registry {
        Registry::new(config(secure))
    }

    #[test]
    fn the_node_cookie_exists_only_in_cluster_mode() {
        let single = Registry::new(RegistryConfig { cluster: false, ..config(true) });
        assert!(!single.declarations().iter().any(|d| d.id == CookieId::Node), "not listed on one node");
        let stray = single.set(CookieId::Node, "node1".into()).to_string();
        assert!(single.check_set_cookie(&stray).is_err(), "and refused if a single node ever set it");
        let cluster = registry(true);
        let set = cluster.set(CookieId::Node, "node1".into()).to_string();
        assert_eq!(cluster.check_set_cookie(&set), Ok(()));
        let d = cluster.get(CookieId::Node);
        assert_eq!(
            (d.name.as_str(), d.category, d.lifetime),
            ("__Host-ts_node", Category::Essential, Lifetime::Session)
        );
    }

    #[test]
    fn per_site_names_are_set_and_checked_with_the_site_id_in_them() {
        let r = registry(true);
        let c = r.set_for_site(CookieId::ThirdPartyVisitor, 1001, "x".into());
        assert_eq!(c.name(), "__Host-ts_tp_vid_1001");
        assert_eq!(r.check_set_cookie(&c.to_string()), Ok(()));
        assert_eq!(r.check_set_cookie(&r.clear_for_site(CookieId::CrossDomainSession, 7).to_string()), Ok(()));
        assert!(name_matches("ts_sid_{site}", "ts_sid_42"));
        assert!(!name_matches("ts_sid_{site}", "ts_sid_"));
        assert!(!name_matches("ts_sid_{site}", "ts_sid_4x"));
        assert!(!name_matches("ts_sid_{site}", "ts_sid_42_"));
        let mut wrong = r.set_for_site(CookieId::ThirdPartyVisitor, 1001, "x".into());
        wrong.set_partitioned(false);
        assert!(r.check_set_cookie(&wrong.to_string()).is_err(), "attributes still count");
    }

    #[test]
    fn every_cookie_id_finds_its_own_declaration() {
        let r = registry(true);
        for id in CookieId::ALL {
            assert_eq!(r.get(id).id, id);
        }
    }

    #[test]
    fn secure_deployments_get_host_prefix_and_secure_flag() {
        let r = registry(true);
        let server_set =
            |r: &Registry| r.declarations().iter().filter(|d| d.set_by == SetBy::Server).cloned().collect::<Vec<_>>();
        assert_eq!(r.name(CookieId::PortalSession), "__Host-ts_portal");
        assert!(server_set(&r).iter().all(|d| d.secure && d.name.starts_with("__Host-")));
        let plain = registry(false);
        assert_eq!(plain.name(CookieId::PortalSession), "ts_portal");
        assert!(server_set(&plain).iter().all(|d| !d.secure || d.same_site == SameSite::None));
        // The tag's cookies live on customers' pages: no prefix, whatever our deployment.
        assert_eq!(r.name(CookieId::LoaderUrl), "ts_loader_url_{site}");
    }

    #[test]
    fn cookies_built_by_the_registry_pass_its_own_check() {
        for secure in [true, false] {
            let r = registry(secure);
            let server_cookies = CookieId::ALL
                .into_iter()
                .filter(|id| r.get(*id).set_by == SetBy::Server && r.get(*id).storage == Storage::Cookie);
            for id in server_cookies {
                let per_site = r.get(id).name.contains("{site}");
                let set = if per_site { r.set_for_site(id, 1001, "v".into()) } else { r.set(id, "v".into()) };
                let set = set.to_string();
                assert_eq!(r.check_set_cookie(&set), Ok(()), "{set}");
                let clear = if per_site { r.clear_for_site(id, 1001) } else { r.clear(id) };
                let clear = clear.to_string();
                assert_eq!(r.check_set_cookie(&clear), Ok(()), "{clear}");
            }
        }
    }

    #[test]
    fn check_refuses_undeclared_cookies_and_changed_attributes() {
        let r = registry(true);
        assert!(matches!(r.check_set_cookie("tracker=1; Path=/"), Err(CheckError::Undeclared(_))));
        let no_http_only = "__Host-ts_portal=x; Path=/; Secure; SameSite=Lax";
        assert!(matches!(r.check_set_cookie(no_http_only), Err(CheckError::Mismatch { attribute: "HttpOnly", .. })));
        let persistent_session = "__Host-ts_portal=x; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=99";
        assert!(matches!(
            r.check_set_cookie(persistent_session),
            Err(CheckError::Mismatch { attribute: "Max-Age", .. })
        ));
        let with_domain = "__Host-ts_portal=x; Path=/; Domain=example.com; HttpOnly; Secure; SameSite=Lax";
        assert!(matches!(r.check_set_cookie(with_domain), Err(CheckError::Mismatch { attribute: "Domain", .. })));
    }

    #[test]
    fn a_server_set_cookie_cannot_pass_for_a_script_cookie_or_storage_key() {
        let r = registry(true);
        for name in ["ts_loader_url_{site}", "ts_tab"] {
            assert!(matches!(r.check_set_cookie(&format!("{name}=x; Path=/")), Err(CheckError::Undeclared(_))));
        }
        assert!(r.declarations().iter().any(|d| d.storage == Storage::SessionStorage));
    }

    #[test]
    fn remember_cookies_are_persistent_for_their_configured_age() {
        let r = registry(true);
        assert_eq!(r.get(CookieId::RememberPortal).max_age_seconds, Some(30 * 86_400));
        assert_eq!(r.get(CookieId::RememberAgent).max_age_seconds, Some(14 * 86_400));
        assert!(r.set(CookieId::RememberAgent, "v".into()).to_string().contains("Max-Age=1209600"));
    }
}
