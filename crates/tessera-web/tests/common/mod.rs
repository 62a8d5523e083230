//! The HTTP test harness of `tessera-web`.
//!
//! [`TestApp`] builds the real application (`tessera_web::app`) over a
//! temporary SQLite store wrapped in a [`CountingStore`], with a
//! [`ManualClock`] the tests move by hand. Requests go through
//! `tower::ServiceExt::oneshot`, never a socket.
//!
//! Every response any test sees passes through [`check_response`], which is
//! the suite-wide guard the issue asks for: each `Set-Cookie` must match the
//! cookie registry's declaration (an undeclared cookie or a differing
//! attribute fails the test), no cookie may carry a person's email or name,
//! no response may be a 5xx, and every HTML response must carry the security
//! headers.
//!
//! [`Browser`] keeps a cookie jar the way a browser would (including removals
//! with `Max-Age=0`), scrapes CSRF tokens from pages and logs in.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

pub mod store;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use cookie::Cookie;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tempfile::TempDir;
use tessera_cookies::{CookieId, Registry, RegistryConfig};
use tessera_core::{
    Clock as _, DisplayName, Email, ManualClock, Password, PersonId, Role, SecretKey, SessionToken, SiteId, Timestamp,
    TokenHash,
};
use tessera_session::{CoreSettings, PasswordSettings, SessionCore};
use tessera_store::{AuditFilter, AuditKind, Person, PersonStore, SiteStore};
use tessera_store_sqlite::SqliteStore;
use tessera_web::{AppState, WebConfig};
use tower::ServiceExt;

pub use store::CountingStore;

/// Everyone's password in these tests.
pub const PASSWORD: &str = "correct horse battery";
pub const ORIGIN: &str = "http://127.0.0.1:8080";
/// The manual clock starts here (2023-11-14), far from zero so that
/// "seconds ago" arithmetic never goes negative.
pub const START: i64 = 1_700_000_000;
pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";

pub const PORTAL_COOKIE: &str = "__Host-ts_portal";
pub const AGENT_COOKIE: &str = "__Host-ts_agent";
pub const ADMIN_COOKIE: &str = "__Host-ts_admin";
pub const REMEMBER_PORTAL: &str = "__Host-ts_remember_portal";
pub const REMEMBER_AGENT: &str = "__Host-ts_remember_agent";
pub const CSRF_COOKIE: &str = "__Host-ts_csrf";

/// One running application, its store, clock and core. Cheap to clone.
#[derive(Clone)]
pub struct TestApp {
    pub store: Arc<CountingStore>,
    pub clock: ManualClock,
    pub core: SessionCore,
    pub registry: Registry,
    pub state: AppState,
    pub settings: CoreSettings,
    pub web: WebConfig,
    router: Router,
    key: SecretKey,
    /// Emails and names of everyone created: no cookie value may contain them.
    private: Arc<Mutex<Vec<String>>>,
    _dir: Arc<TempDir>,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::configured(|_| {}, |_| {}).await
    }

    /// With changed core settings (timeouts, throttling, grace window...).
    pub async fn with(settings: impl FnOnce(&mut CoreSettings)) -> Self {
        Self::configured(settings, |_| {}).await
    }

    /// With changed core settings and web configuration.
    pub async fn configured(settings: impl FnOnce(&mut CoreSettings), web: impl FnOnce(&mut WebConfig)) -> Self {
        let mut core_settings = CoreSettings {
            // Real Argon2id, at a cost that keeps hundreds of logins fast.
            password: PasswordSettings { argon2_memory_kib: 64, argon2_iterations: 1, argon2_parallelism: 1 },
            ..CoreSettings::default()
        };
        settings(&mut core_settings);
        let mut web_config = WebConfig {
            public_origin: ORIGIN.into(),
            secure_cookies: true,
            https: false,
            default_site: SiteId::DEFAULT,
            trusted_proxies: Vec::new(),
        };
        web(&mut web_config);
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let sqlite = SqliteStore::open(&dir.path().join("tessera.db")).await.expect("open the SQLite store");
        let store = Arc::new(CountingStore::new(sqlite));
        let clock = ManualClock::new(Timestamp::from_unix(START));
        store.ensure_site(SiteId::DEFAULT, "Default site", clock.now()).await.expect("ensure site 1001");
        Self::assemble(Arc::new(dir), store, clock, SecretKey::generate(), core_settings, web_config, Arc::default())
    }

    fn assemble(
        dir: Arc<TempDir>,
        store: Arc<CountingStore>,
        clock: ManualClock,
        key: SecretKey,
        settings: CoreSettings,
        web: WebConfig,
        private: Arc<Mutex<Vec<String>>>,
    ) -> Self {
        let core = SessionCore::new(store.clone(), Arc::new(clock.clone()), settings.clone())
            .expect("build the session core (inside a Tokio runtime)");
        let seconds = |s: i64| Duration::from_secs(u64::try_from(s).expect("positive remember-me age"));
        let registry = Registry::new(RegistryConfig {
            secure: web.secure_cookies,
            remember_portal_max_age: seconds(settings.remember.portal_max_age_seconds),
            remember_agent_max_age: seconds(settings.remember.agent_max_age_seconds),
            visitor_max_age: std::time::Duration::from_secs(365 * 86_400),
            cluster: false,
        });
        let state = AppState::new(core.clone(), registry.clone(), &key, web.clone());
        let router = tessera_web::app(state.clone());
        Self { store, clock, core, registry, state, settings, web, router, key, private, _dir: dir }
    }

    /// The same data, clock and server key behind a brand-new process: an
    /// empty session cache, so every session is loaded from the store again.
    pub fn restart(&self) -> Self {
        Self::assemble(
            self._dir.clone(),
            self.store.clone(),
            self.clock.clone(),
            self.key.clone(),
            self.settings.clone(),
            self.web.clone(),
            self.private.clone(),
        )
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.clone())
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A person on the default site with [`PASSWORD`].
    pub async fn person(&self, email: &str, role: Role) -> Person {
        self.person_on(SiteId::DEFAULT, email, role).await
    }

    pub async fn person_on(&self, site: SiteId, email: &str, role: Role) -> Person {
        let local = email.split('@').next().expect("an email has a local part");
        let mut chars = local.chars();
        let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
        let name = format!("{first}{} Quill", chars.as_str());
        self.private.lock().expect("private list lock").extend([email.to_owned(), name.clone()]);
        self.core
            .create_person(
                site,
                Email::parse(email).expect("a valid test email"),
                DisplayName::parse(&name).expect("a valid test name"),
                role,
                Password::for_login(PASSWORD.into()).expect("a valid test password"),
                None,
            )
            .await
            .expect("create a test person")
    }

    pub async fn site(&self, id: u32) -> SiteId {
        let site = SiteId::new(id).expect("a valid site ID");
        self.store.ensure_site(site, &format!("Site {id}"), self.now()).await.expect("ensure site");
        site
    }

    /// The person as stored now (not counted as store access).
    pub async fn stored_person(&self, id: PersonId) -> Person {
        self.store.raw().person(id).await.expect("read person").expect("the person exists")
    }

    /// Whether `password` is the person's password now.
    pub async fn password_is(&self, id: PersonId, password: &str) -> bool {
        let person = self.stored_person(id).await;
        let password = Password::for_login(password.into()).expect("a valid password");
        self.core.hasher().verify(password, Some(person.password_hash)).await
    }

    /// Audit events of `kind` about `person`.
    pub async fn audit_count(&self, person: PersonId, kind: AuditKind) -> usize {
        let filter = AuditFilter { person_id: Some(person), kind: Some(kind), limit: 1_000, ..AuditFilter::default() };
        tessera_store::AuditStore::audit(self.store.raw(), &filter).await.expect("read the audit log").len()
    }

    /// The client IPs recorded with every audit event of `kind`, oldest first.
    pub async fn audit_ips(&self, kind: AuditKind) -> Vec<String> {
        let filter = AuditFilter { kind: Some(kind), limit: 1_000, ..AuditFilter::default() };
        let entries = tessera_store::AuditStore::audit(self.store.raw(), &filter).await.expect("read the audit log");
        entries.into_iter().rev().filter_map(|e| e.event.ip).collect()
    }

    /// Sends a request straight into the router and checks the response.
    pub async fn send(&self, req: Request<Body>) -> Response {
        let method = req.method().clone();
        let uri = req.uri().to_string();
        let res = self.router.clone().oneshot(req).await.expect("the router is infallible");
        let (parts, body) = res.into_parts();
        let body = body.collect().await.expect("read the response body").to_bytes().to_vec();
        let res = Response { status: parts.status, headers: parts.headers, body };
        let private = self.private.lock().expect("private list lock").clone();
        check_response(&self.registry, &private, &format!("{method} {uri}"), &res);
        res
    }

    /// Serves the application on a real socket (for WebSockets); returns its address.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let app = self.router.clone().into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// A bare request carrying only the headers given (no jar, no client address).
    pub async fn get_with_cookie(&self, path: &str, cookie: HeaderValue) -> Response {
        let req = Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).expect("a valid request");
        self.send(req).await
    }
}

/// The checks every response of every test passes (see the module docs).
pub fn check_response(registry: &Registry, private: &[String], what: &str, res: &Response) {
    assert!(!res.status.is_server_error(), "{what} answered {}: {}", res.status, res.text());
    let mut names = Vec::new();
    for value in res.headers.get_all(header::SET_COOKIE) {
        let text = value.to_str().unwrap_or_else(|_| panic!("{what}: Set-Cookie is not text: {value:?}"));
        if let Err(e) = registry.check_set_cookie(text) {
            panic!("{what}: Set-Cookie does not match the registry: {e} (header: {text})");
        }
        let cookie = Cookie::parse(text).expect("a header the registry accepted parses");
        assert!(!names.contains(&cookie.name().to_owned()), "{what}: two Set-Cookie headers for {}", cookie.name());
        names.push(cookie.name().to_owned());
        let lower = cookie.value().to_lowercase();
        for secret in private {
            assert!(
                !lower.contains(&secret.to_lowercase()),
                "{what}: cookie {} carries private data ({secret})",
                cookie.name()
            );
        }
    }
    if !names.is_empty() {
        assert_eq!(res.header("cache-control"), Some("no-store"), "{what}: a response setting cookies is cacheable");
    }
    if res.header("content-type").is_some_and(|ct| ct.starts_with("text/html")) {
        check_security_headers(what, res);
    }
}

/// The headers every HTML response must carry.
pub fn check_security_headers(what: &str, res: &Response) {
    let csp = res.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(csp.contains("default-src 'none'"), "{what}: CSP is not strict: {csp}");
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert!(res.header("referrer-policy").is_some(), "{what}: no Referrer-Policy");
    // The Messenger frame is the one page others may frame: only the site's
    // listed origins, never everyone; it holds nothing personal, so it may
    // be cached briefly.
    if what.contains(" /messenger/frame?") {
        let ancestors = csp.split(';').find(|d| d.trim().starts_with("frame-ancestors")).unwrap_or_default();
        let listed = !ancestors.contains('*') && ancestors.contains("https://");
        assert!(listed || ancestors.contains("'none'"), "{what}: {csp}");
        return;
    }
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP allows framing: {csp}");
    assert_eq!(res.header("cache-control"), Some("no-store"), "{what}: an HTML page is cacheable");
}

/// A response, body read.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn set_cookies(&self) -> Vec<Cookie<'static>> {
        self.headers
            .get_all(header::SET_COOKIE)
            .into_iter()
            .map(|v| Cookie::parse(v.to_str().expect("text header").to_owned()).expect("parsable Set-Cookie"))
            .collect()
    }

    /// The `Set-Cookie` for `name`, if the response has one.
    pub fn set_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.set_cookies().into_iter().find(|c| c.name() == name)
    }

    /// Whether the response deletes cookie `name` (`Max-Age=0`).
    pub fn clears(&self, name: &str) -> bool {
        self.set_cookie(name).is_some_and(|c| is_removal(&c))
    }

    /// The value the response gives cookie `name` (not a removal).
    pub fn sets(&self, name: &str) -> Option<String> {
        self.set_cookie(name).filter(|c| !is_removal(c)).map(|c| c.value().to_owned())
    }

    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "expected a redirect to {to}: {}", self.text());
        assert_eq!(self.location(), Some(to));
    }
}

fn is_removal(c: &Cookie<'_>) -> bool {
    c.max_age() == Some(cookie::time::Duration::ZERO)
}

/// The `_csrf` hidden field of the first form in `html`.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no CSRF field in the page:\n{html}")) + marker.len();
    let len = html[start..].find('"').expect("the value attribute is closed");
    html[start..start + len].to_owned()
}

/// The store key of a session cookie value.
pub fn session_hash(cookie_value: &str) -> TokenHash {
    SessionToken::parse(cookie_value.as_bytes()).expect("a well-formed session cookie").hash()
}

/// How session IDs appear in the pages' revoke forms.
pub fn session_hash_hex(cookie_value: &str) -> String {
    hex::encode(session_hash(cookie_value).as_bytes())
}

pub fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).expect("encodable form")
}

/// The session cookie of an interface prefix ("" for the Help Center).
pub fn session_cookie_of(prefix: &str) -> &'static str {
    match prefix {
        "" => PORTAL_COOKIE,
        "/agent" => AGENT_COOKIE,
        "/admin" => ADMIN_COOKIE,
        other => panic!("no interface at {other}"),
    }
}

/// Every cookie name in the registry (as deployed).
pub fn registry_names(registry: &Registry) -> Vec<String> {
    CookieId::ALL.iter().map(|id| registry.name(*id).to_owned()).collect()
}

/// A browser: a cookie jar, a User-Agent and (optionally) a client address.
#[derive(Clone)]
pub struct Browser {
    pub app: TestApp,
    /// Cookie name → (value, persistent).
    jar: BTreeMap<String, (String, bool)>,
    /// Sent with every request (`Accept-Language`, `Sec-GPC`...).
    pub headers: Vec<(String, String)>,
    pub ip: Option<SocketAddr>,
    pub user_agent: String,
    /// `X-Forwarded-For` as a proxy in front of this browser would send it.
    pub forwarded_for: Option<String>,
}

impl Browser {
    pub fn new(app: TestApp) -> Self {
        Self {
            app,
            jar: BTreeMap::new(),
            headers: Vec::new(),
            ip: None,
            user_agent: FIREFOX.into(),
            forwarded_for: None,
        }
    }

    /// This browser, sending `name: value` with every request.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The browser closed and opened again: session cookies are gone,
    /// persistent ones stay.
    pub fn restart(&mut self) {
        self.jar.retain(|_, (_, persistent)| *persistent);
    }

    /// Names of the cookies in the jar.
    pub fn cookie_names(&self) -> Vec<String> {
        self.jar.keys().cloned().collect()
    }

    /// This browser, seen through a proxy at `proxy` that reports it as `forwarded_for`.
    pub fn behind_proxy(mut self, proxy: &str, forwarded_for: &str) -> Self {
        self.forwarded_for = Some(forwarded_for.into());
        self.at_ip(proxy)
    }

    /// This browser, connecting from `ip`.
    pub fn at_ip(mut self, ip: &str) -> Self {
        self.ip = Some(SocketAddr::new(ip.parse().expect("a valid IP address"), 51_234));
        self
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(|(v, _)| v.as_str())
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.jar.insert(name.to_owned(), (value.to_owned(), false));
    }

    pub fn remove_cookie(&mut self, name: &str) {
        self.jar.remove(name);
    }

    /// The `Cookie` header this browser sends, if any.
    pub fn cookie_header(&self) -> Option<String> {
        (!self.jar.is_empty())
            .then(|| self.jar.iter().map(|(k, (v, _))| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    /// A request builder carrying this browser's cookies, User-Agent and address.
    pub fn builder(&self, method: Method, path: &str) -> http::request::Builder {
        let mut b = Request::builder().method(method).uri(path).header(header::USER_AGENT, &self.user_agent);
        if let Some(cookies) = self.cookie_header() {
            b = b.header(header::COOKIE, cookies);
        }
        if let Some(ip) = self.ip {
            b = b.extension(ConnectInfo(ip));
        }
        if let Some(xff) = &self.forwarded_for {
            b = b.header("x-forwarded-for", xff);
        }
        for (name, value) in &self.headers {
            b = b.header(name.as_str(), value.as_str());
        }
        b
    }

    /// Sends `req` and applies its `Set-Cookie` headers to the jar.
    /// The same browser (cookies, address) talking to another process of the same deployment.
    pub fn on(&self, app: &TestApp) -> Self {
        Self { app: app.clone(), ..self.clone() }
    }

    pub async fn send(&mut self, req: Request<Body>) -> Response {
        let res = self.app.send(req).await;
        for c in res.set_cookies() {
            if is_removal(&c) {
                self.jar.remove(c.name());
            } else {
                let persistent = c.max_age().is_some() || c.expires().is_some();
                self.jar.insert(c.name().to_owned(), (c.value().to_owned(), persistent));
            }
        }
        res
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let req = self.builder(Method::GET, path).body(Body::empty()).expect("a valid request");
        self.send(req).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let req = self
            .builder(Method::POST, path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(fields)))
            .expect("a valid request");
        self.send(req).await
    }

    /// The CSRF token of the page at `path` (which must render a form).
    pub async fn token(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.text());
        csrf_from(&page.text())
    }

    /// Logs in through `{prefix}/login` like a person would: load the form,
    /// take its token, post it. `prefix` is "", "/agent" or "/admin".
    pub async fn login(
        &mut self,
        prefix: &str,
        email: &str,
        password: &str,
        remember: bool,
        site: Option<u32>,
    ) -> Response {
        let page = self.get(&format!("{prefix}/login")).await;
        let page =
            if page.status == StatusCode::SEE_OTHER { self.get(&format!("{prefix}/account")).await } else { page };
        let token = csrf_from(&page.text());
        let site = site.map(|s| s.to_string());
        let mut fields = vec![("_csrf", token.as_str()), ("email", email), ("password", password)];
        if remember {
            fields.push(("remember", "on"));
        }
        if let Some(site) = &site {
            fields.push(("site_id", site));
        }
        self.post_form(&format!("{prefix}/login"), &fields).await
    }

    /// Logs in and asserts it worked; returns the new session cookie value.
    pub async fn login_ok(&mut self, prefix: &str, email: &str, remember: bool) -> String {
        let site = (prefix == "/agent").then_some(SiteId::DEFAULT.get());
        let res = self.login(prefix, email, PASSWORD, remember, site).await;
        res.assert_redirect(&format!("{prefix}/account"));
        res.sets(session_cookie_of(prefix)).expect("a login sets the session cookie")
    }

    /// Whether this browser is logged into the interface at `prefix` (a
    /// request, so it counts as activity and may restore from remember-me).
    pub async fn logged_in(&mut self, prefix: &str) -> bool {
        if prefix.is_empty() {
            let res = self.get("/api/session").await;
            match res.status {
                StatusCode::OK => true,
                StatusCode::UNAUTHORIZED => false,
                other => panic!("GET /api/session answered {other}"),
            }
        } else {
            let res = self.get(&format!("{prefix}/account")).await;
            match res.status {
                StatusCode::OK => true,
                StatusCode::SEE_OTHER => {
                    assert_eq!(res.location(), Some(format!("{prefix}/login").as_str()));
                    false
                }
                other => panic!("GET {prefix}/account answered {other}"),
            }
        }
    }

    /// POST `{prefix}/logout` with a token from the account page.
    pub async fn logout(&mut self, prefix: &str) -> Response {
        let token = self.token(&format!("{prefix}/account")).await;
        self.post_form(&format!("{prefix}/logout"), &[("_csrf", &token)]).await
    }
}

/// A browser that holds only `cookie` (a replayed or stolen cookie).
pub fn replay(app: &TestApp, name: &str, value: &str) -> Browser {
    let mut b = app.browser();
    b.set_cookie(name, value);
    b
}
