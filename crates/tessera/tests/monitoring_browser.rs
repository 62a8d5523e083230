//! Visitor monitoring in real headless Chromium, on a customer's website
//! (`http://localhost:PORT`, another site than Tessera's `127.0.0.1`) and
//! the same customer's second domain (`http://outlet.localhost:PORT`,
//! another site again): for each of the five cookie solution types, which
//! monitoring cookies the browser keeps where (with third-party cookies
//! allowed, blocked, and with Tessera's host storing nothing at all), that
//! two page views are one visit, whether a visitor who closes the browser
//! and comes back two days later is recognised, and when the tag falls back
//! to first-party cookies; one visit across the customer's two domains; two
//! tabs; refusal. Every test ends by checking each browser's cookies against
//! `tessera cookies --format json`.
//!
//! The customer's pages are the demo shop's (`serve --demo`): three pages,
//! the shop's own consent banner restating the visitor's answer before the
//! tag, and the one-line tag. They are served here rather than by `--demo`,
//! whose second domain on `http://127.0.0.2` is not an origin the site
//! settings accept (`Origin::parse` allows plain HTTP only for `localhost`,
//! `*.localhost` and `127.0.0.1`), so `serve --demo` does not start.
//!
//! What the page sees of a hit is the documented `tessera:visit` event
//! (`{number, returning, days_since_last}`, or null without consent); the
//! tests also note the answers of `/monitor/{site}/hit` and `/probe` as the
//! tag receives them, to see whether it was asked to probe and what the probe
//! said.
//!
//! Without chromedriver these tests print why and pass, unless
//! `TESSERA_REQUIRE_BROWSER` is set.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::browser::{
    Driver, Options, PATIENCE, POLL, browser_available, cdp, click, eventually, every_cookie, js, type_into, visit,
};
use common::{
    PASSWORD, Server, add_user, assert_jar_matches_registry, assert_storage_matches_registry, cookie_registry,
    declaration,
};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

const SITE: &str = "1001";
const ADMIN_EMAIL: &str = "ada@example.com";
const AGENT_EMAIL: &str = "alex@example.com";
/// How long the visitor stays away between two browser sessions.
const TWO_DAYS: i64 = 2 * 86_400;
/// Tessera's host, as cookies name it.
const TESSERA_HOST: &str = "127.0.0.1";

// ---------------------------------------------------------------------------
// The server, the customer's website, and one test's world
// ---------------------------------------------------------------------------

/// A server with a movable clock and an admin, the customer's website on two
/// domains, a chromedriver, room for profiles. Dropped in this order:
/// browsers, server, then their directory.
struct Setup {
    driver: Driver,
    server: Server,
    /// The customer's website (`http://localhost:PORT`).
    shop: String,
    /// The same customer's second domain (`http://outlet.localhost:PORT`).
    outlet: String,
    registry: Value,
    dir: tempfile::TempDir,
}

impl Setup {
    /// Starts everything and has the admin allow the customer's two origins
    /// to embed the tag, with the site's cookie solution type `solution`.
    async fn start(solution: Type) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        for (email, role) in [(ADMIN_EMAIL, "admin"), (AGENT_EMAIL, "agent")] {
            let added = add_user(&data, email, role);
            assert!(added.status.success(), "user add: {}", String::from_utf8_lossy(&added.stderr));
        }
        let server = Server::start_with(&data, &["--test-clock"]);
        let (shop, outlet) = start_customer_site(&server.base).await;
        let registry = cookie_registry(&data);
        let driver = Driver::start().await;
        let s = Self { driver, server, shop, outlet, registry, dir };
        let admin = configure_site(&s, solution).await;
        check_against_registry(&admin, &s.registry, "the admin").await;
        admin.close().await.ok();
        s
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    fn shop(&self, path: &str) -> String {
        format!("{}{path}", self.shop)
    }

    fn outlet(&self, path: &str) -> String {
        format!("{}{path}", self.outlet)
    }

    fn profile(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("profile-{}", name.replace([' ', ','], "-")))
    }

    /// A browser on its own profile, `blocking` what it blocks, that notes
    /// what the tag hears on every page.
    async fn browser(&self, name: &str, blocking: Blocking) -> Client {
        let profile = self.profile(name);
        if blocking == Blocking::Nothing {
            allow_third_party_cookies(&profile);
        }
        let client = self.driver.open(&profile, blocking.options()).await;
        listen_to_the_tag(&client).await;
        client
    }

    /// Quits the browser and starts it again on the same profile: session
    /// cookies and session storage are gone, persistent cookies stay.
    async fn restart(&self, client: Client, name: &str, blocking: Blocking) -> Client {
        let client = self.driver.restart(client, &self.profile(name), blocking.options()).await;
        listen_to_the_tag(&client).await;
        client
    }

    /// Moves the server's clock (`--test-clock`).
    async fn advance_clock(&self, seconds: i64) {
        common::advance_clock(&self.server.base, seconds).await;
    }
}

const PAGES: [(&str, &str); 3] = [("/", "Home"), ("/pricing", "Pricing"), ("/contact", "Contact")];

/// The demo shop's consent banner (`serve --demo`'s `/consent.js`): it
/// restates the visitor's answer on every page, before the tag runs.
const CONSENT_JS: &str = r#"window.tessera = window.tessera || [];
const said = localStorage.getItem("shop_consent");
if (said !== null) window.tessera.push(["consent", said === "yes"]);
for (const [id, ok] of [["consent-yes", true], ["consent-no", false]]) {
  document.getElementById(id).addEventListener("click", () => {
    localStorage.setItem("shop_consent", ok ? "yes" : "no");
    window.tessera.push(["consent", ok]);
  });
}
"#;

/// Serves the customer's pages (as the demo shop's) on one port, answering
/// as `http://localhost:PORT` and `http://outlet.localhost:PORT` (two sites
/// to the browser, both loopback). Returns both origins.
async fn start_customer_site(tessera: &str) -> (String, String) {
    use axum::response::Html;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for the customer's website");
    let port = listener.local_addr().expect("its address").port();
    let nav: String = PAGES.iter().map(|(p, t)| format!("<a href=\"{p}\">{t}</a> ")).collect();
    let mut app = axum::Router::new();
    for (path, title) in PAGES {
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Tessera Tea Co.</title>\
             </head><body><header><strong>Tessera Tea Co.</strong> <nav>{nav}</nav></header>\
             <main><h1>{title}</h1>\
             <p><button id=\"consent-yes\">Allow optional cookies</button> \
             <button id=\"consent-no\">Refuse optional cookies</button></p></main>\
             <script src=\"/consent.js\"></script>\
             <script async src=\"{tessera}/tag.js\" data-site=\"{SITE}\"></script></body></html>"
        );
        app = app.route(path, get(move || async move { Html(html) }));
    }
    let app = app
        .route("/consent.js", get(|| async { ([(axum::http::header::CONTENT_TYPE, "text/javascript")], CONSENT_JS) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://localhost:{port}"), format!("http://outlet.localhost:{port}"))
}

/// The host of an origin (`http://localhost:1234` → `localhost`).
fn host(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    rest.split(':').next().unwrap_or(rest)
}

/// The schemeful site of an origin, as a partition key names it (`http://localhost`).
fn site_of(origin: &str) -> String {
    format!("http://{}", host(origin))
}

/// Headless Chromium 148 refuses unpartitioned third-party cookies unless
/// told otherwise (a `Set-Cookie` of Tessera's on the shop is blocked with
/// reason `UserPreferences` although no preference was given): writes a new
/// profile's preferences with the user setting "allow third-party cookies"
/// (`profile.cookie_controls_mode` 0) before its first start.
fn allow_third_party_cookies(profile: &std::path::Path) {
    let dir = profile.join("Default");
    if dir.join("Preferences").exists() {
        return;
    }
    std::fs::create_dir_all(&dir).expect("the profile's directory");
    let prefs = json!({ "profile": { "cookie_controls_mode": 0, "block_third_party_cookies": false } });
    std::fs::write(dir.join("Preferences"), prefs.to_string()).expect("the profile's preferences");
}

// ---------------------------------------------------------------------------
// What the tag hears
// ---------------------------------------------------------------------------

/// Installed in every new document of the tab before any of the page's
/// scripts: notes each `tessera:visit` event, and each answer of the
/// monitoring endpoints with the report that asked for it. Reads a copy of
/// the response before the tag reads it, so the tag sees the same thing.
const LISTEN: &str = r"(() => {
  const heard = (window.__tsHeard = { visits: [], hits: [], probes: [] });
  addEventListener('tessera:visit', (e) => heard.visits.push(e.detail));
  const original = window.fetch;
  window.fetch = function (resource, init) {
    const answer = original.apply(this, arguments);
    const url = String((resource && resource.url) || resource);
    const list = /\/monitor\/\d+\/hit$/.test(url) ? heard.hits : /\/monitor\/\d+\/probe$/.test(url) ? heard.probes : null;
    if (list) {
      let sent = null;
      try { sent = init && typeof init.body === 'string' ? JSON.parse(init.body) : null; } catch {}
      answer.then((r) => r.clone().json()).then((json) => list.push({ sent, answer: json }), () => list.push({ sent, answer: null }));
    }
    return answer;
  };
})();";

async fn listen_to_the_tag(client: &Client) {
    cdp(client, "Page.addScriptToEvaluateOnNewDocument", json!({ "source": LISTEN })).await;
}

/// What the tag heard on the current page.
#[derive(Debug, Default)]
struct Heard {
    /// The `tessera:visit` events' details, in order.
    visits: Vec<Value>,
    /// `{sent, answer}` of each `/hit`, in the order the answers came.
    hits: Vec<Value>,
    /// `{sent, answer}` of each `/probe`.
    probes: Vec<Value>,
}

impl Heard {
    fn last_visit(&self) -> Visit {
        Visit::from(self.visits.last().unwrap_or(&Value::Null))
    }

    fn last_hit(&self) -> &Value {
        &self.hits.last().expect("a hit")["answer"]
    }

    fn probes_asked(&self) -> usize {
        self.hits.iter().filter(|h| h["answer"]["probe"] == json!(true)).count()
    }
}

async fn heard(client: &Client) -> Heard {
    client.enter_parent_frame().await.ok();
    let v = js(client, "return window.__tsHeard || null", vec![]).await;
    let list = |key: &str| v[key].as_array().cloned().unwrap_or_default();
    Heard { visits: list("visits"), hits: list("hits"), probes: list("probes") }
}

/// Waits for the tag's `hits`-th answered hit on the current page (and the
/// probe of every hit that asked for one).
async fn settle(client: &Client, hits: usize) -> Heard {
    let start = Instant::now();
    loop {
        let h = heard(client).await;
        if h.visits.len() >= hits && h.hits.len() >= hits && h.probes.len() >= h.probes_asked() {
            assert_eq!(h.visits.len(), hits, "one tessera:visit event per hit: {h:#?}");
            return h;
        }
        assert!(start.elapsed() < PATIENCE, "waited {PATIENCE:?} in vain for hit {hits} on the page: {h:#?}");
        tokio::time::sleep(POLL).await;
    }
}

/// Opens `url` and waits for the tag's first hit there.
async fn view(client: &Client, url: &str) -> Heard {
    visit(client, url).await;
    settle(client, 1).await
}

/// Opens a shop (or outlet) page the visitor has not answered on yet, then
/// accepts optional cookies with the page's own button.
async fn view_and_accept(client: &Client, url: &str) -> Heard {
    let first = view(client, url).await;
    assert_eq!(first.last_visit(), Visit::None, "no visit before consent: {first:#?}");
    click(client, Locator::Css("#consent-yes")).await;
    settle(client, 2).await
}

/// `tessera.visit` as the page sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Visit {
    /// No consent: `null`.
    None,
    Some {
        number: u64,
        returning: bool,
        days_since_last: Option<i64>,
    },
}

impl From<&Value> for Visit {
    fn from(v: &Value) -> Self {
        if v.is_null() {
            return Self::None;
        }
        Self::Some {
            number: v["number"].as_u64().unwrap_or_else(|| panic!("a visit number in {v}")),
            returning: v["returning"].as_bool().unwrap_or_else(|| panic!("returning in {v}")),
            days_since_last: v["days_since_last"].as_i64(),
        }
    }
}

const FIRST_VISIT: Visit = Visit::Some { number: 1, returning: false, days_since_last: None };

async fn page_visit(client: &Client) -> Visit {
    client.enter_parent_frame().await.ok();
    Visit::from(&js(client, "return window.tessera.visit === undefined ? null : window.tessera.visit", vec![]).await)
}

/// The tab's ID (`sessionStorage.ts_tab`), and the one the last hit reported.
async fn tab_ids(client: &Client) -> (String, String) {
    let stored = js(client, "return sessionStorage.getItem('ts_tab')", vec![]).await;
    let h = heard(client).await;
    let sent = h.hits.last().map(|hit| hit["sent"]["tab"].clone()).unwrap_or_default();
    (stored.as_str().unwrap_or_default().to_owned(), sent.as_str().unwrap_or_default().to_owned())
}

// ---------------------------------------------------------------------------
// Cookies
// ---------------------------------------------------------------------------

/// Where a monitoring cookie is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kept {
    /// First-party, written by the tag on the customer's page.
    Page,
    /// Third-party, set by Tessera, partitioned by the page's top-level site.
    Partitioned,
    /// Third-party, set by Tessera, not partitioned (readable on every site).
    CrossSite,
}

/// One cookie a layout should leave.
#[derive(Clone, Debug)]
struct Want {
    name: String,
    kept: Kept,
    persistent: bool,
}

fn want(name: &str, kept: Kept, persistent: bool) -> Want {
    let prefix = if kept == Kept::Page { "" } else { "__Host-" };
    Want { name: format!("{prefix}{name}_{SITE}"), kept, persistent }
}

/// Whether `name` is one of monitoring's cookies (or looks like one).
fn is_monitoring(name: &str) -> bool {
    let bare = name.strip_prefix("__Host-").unwrap_or(name);
    ["ts_vid", "ts_sid", "ts_last", "ts_tp_", "ts_xd_"].iter().any(|p| bare.starts_with(p))
}

fn name_of(c: &Value) -> &str {
    c["name"].as_str().unwrap_or_default()
}

fn partition(c: &Value) -> Option<&str> {
    c.get("partitionKey").filter(|k| !k.is_null()).map(|k| k["topLevelSite"].as_str().unwrap_or("?"))
}

/// The monitoring cookies of the browser, on every host and in every partition.
async fn monitoring_cookies(client: &Client) -> Vec<Value> {
    every_cookie(client).await.into_iter().filter(|c| is_monitoring(name_of(c))).collect()
}

/// The cookies that belong to the page at `origin`: its own, Tessera's in
/// its partition, and Tessera's unpartitioned ones.
fn of_site(cookies: &[Value], origin: &str) -> Vec<Value> {
    let (page_host, site) = (host(origin), site_of(origin));
    cookies
        .iter()
        .filter(|c| match partition(c) {
            Some(top) => top == site,
            None => c["domain"] == json!(page_host) || c["domain"] == json!(TESSERA_HOST),
        })
        .cloned()
        .collect()
}

fn describe(cookies: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = cookies
        .iter()
        .map(|c| {
            let life = if c["session"] == json!(true) { "session" } else { "persistent" };
            let part = partition(c).map(|p| format!(", partitioned by {p}")).unwrap_or_default();
            format!("{} on {} ({life}{part})", name_of(c), c["domain"].as_str().unwrap_or("?"))
        })
        .collect();
    out.sort();
    out
}

fn sorted_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = names.map(str::to_owned).collect();
    v.sort();
    v
}

/// Waits until the monitoring cookies that belong to the page at `origin`
/// are exactly `wanted`, then checks where each is kept and its attributes.
/// Returns the cookies by name.
async fn assert_monitoring_cookies(client: &Client, origin: &str, wanted: &[Want], what: &str) -> Vec<Value> {
    let want_names = sorted_names(wanted.iter().map(|w| w.name.as_str()));
    let start = Instant::now();
    let mine = loop {
        let mine = of_site(&monitoring_cookies(client).await, origin);
        if sorted_names(mine.iter().map(name_of)) == want_names {
            break mine;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{what}: the monitoring cookies for {origin} should be {want_names:?}, not {:#?}",
            describe(&mine)
        );
        tokio::time::sleep(POLL).await;
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs_f64();
    for w in wanted {
        let c = mine.iter().find(|c| name_of(c) == w.name).expect("found above");
        let name = &w.name;
        let domain = c["domain"].as_str().unwrap_or_default();
        let partition = partition(c);
        match w.kept {
            Kept::Page => {
                assert_eq!(domain, host(origin), "{what}: {name} is the page's own (first-party): {c}");
                assert_eq!(partition, None, "{what}: {name} is not partitioned: {c}");
                assert_eq!(c["httpOnly"], json!(false), "{what}: {name} is the tag's, so not HttpOnly: {c}");
                assert_eq!(c["secure"], json!(false), "{what}: {name} is Secure only on HTTPS pages: {c}");
                assert_eq!(c["sameSite"], json!("Lax"), "{what}: {name}: SameSite: {c}");
            }
            Kept::Partitioned | Kept::CrossSite => {
                assert_eq!(domain, TESSERA_HOST, "{what}: {name} is Tessera's (third-party): {c}");
                let expected = (w.kept == Kept::Partitioned).then(|| site_of(origin));
                assert_eq!(partition, expected.as_deref(), "{what}: {name}: partition key: {c}");
                assert_eq!(c["httpOnly"], json!(true), "{what}: {name}: HttpOnly: {c}");
                assert_eq!(c["secure"], json!(true), "{what}: {name}: Secure: {c}");
                assert_eq!(c["sameSite"], json!("None"), "{what}: {name}: SameSite: {c}");
            }
        }
        assert_eq!(c["path"], json!("/"), "{what}: {name}: path: {c}");
        assert_eq!(c["session"], json!(!w.persistent), "{what}: {name} persistent: {}: {c}", w.persistent);
        if w.persistent {
            let left = c["expires"].as_f64().unwrap_or_default() - now;
            assert!(left > 364.0 * 86_400.0, "{what}: {name} is kept about a year, not {left} s: {c}");
        }
        let value = c["value"].as_str().unwrap_or_default();
        assert!(
            value.len() >= 22 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)),
            "{what}: {name} holds an opaque token, not {value:?}"
        );
    }
    mine
}

fn value_of(cookies: &[Value], name: &str) -> String {
    let c = cookies.iter().find(|c| name_of(c) == name).unwrap_or_else(|| panic!("{name} in {cookies:#?}"));
    c["value"].as_str().unwrap_or_default().to_owned()
}

/// Every cookie the browser holds, on any host and in any partition, is
/// declared in the registry with the declared HttpOnly, SameSite,
/// partitioning and lifetime; Tessera's with the declared Secure, the tag's
/// Secure exactly on HTTPS pages (none here are).
async fn assert_every_cookie_declared(client: &Client, registry: &Value) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs_f64();
    for c in every_cookie(client).await {
        let name = name_of(&c);
        let d = declaration(registry, name).unwrap_or_else(|| panic!("{name} is in the browser but not declared: {c}"));
        assert_eq!(c["httpOnly"].as_bool(), d["http_only"].as_bool(), "{name}: HttpOnly: {c}");
        let secure = if d["set_by"] == "script" { Some(false) } else { d["secure"].as_bool() };
        assert_eq!(c["secure"].as_bool(), secure, "{name}: Secure: {c}");
        assert_eq!(c["sameSite"].as_str(), d["same_site"].as_str(), "{name}: SameSite: {c}");
        assert_eq!(partition(&c).is_some(), d["partitioned"] == json!(true), "{name}: Partitioned: {c}");
        match d["lifetime"].as_str() {
            Some("session") => assert_eq!(c["session"], json!(true), "{name} is declared a session cookie: {c}"),
            Some("persistent") => {
                let max_age = d["max_age_seconds"].as_f64().unwrap_or_else(|| panic!("{name}: no max age declared"));
                let left = c["expires"].as_f64().unwrap_or_default() - now;
                assert!(left > 0.0 && left <= max_age + 60.0, "{name} expires in {left} s; declared max age {max_age}");
            }
            other => panic!("{name}: unknown lifetime {other:?}"),
        }
    }
}

/// The end of every browser's part: its jar (the current page's and every
/// other cookie) and the page's and the Messenger frame's session storage
/// against the registry.
async fn check_against_registry(client: &Client, registry: &Value, what: &str) {
    client.enter_parent_frame().await.ok();
    assert_jar_matches_registry(client, registry).await;
    assert_every_cookie_declared(client, registry).await;
    assert_storage_matches_registry(client, registry, &format!("{what}: the page")).await;
    if client.enter_frame(0).await.is_ok() {
        assert_storage_matches_registry(client, registry, &format!("{what}: the Messenger frame")).await;
        client.enter_parent_frame().await.ok();
    }
}

// ---------------------------------------------------------------------------
// Solution types and blocking
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    ThirdParty,
    ThirdPartySession,
    CrossDomain,
    FirstPartyPersistent,
    FirstPartySession,
}

impl Type {
    fn as_str(self) -> &'static str {
        match self {
            Self::ThirdParty => "third_party",
            Self::ThirdPartySession => "third_party_session",
            Self::CrossDomain => "first_party_persistent_with_third_party_session",
            Self::FirstPartyPersistent => "first_party_persistent",
            Self::FirstPartySession => "first_party_session",
        }
    }

    /// Whether the visitor outlives the browser session.
    fn persistent(self) -> bool {
        matches!(self, Self::ThirdParty | Self::CrossDomain | Self::FirstPartyPersistent)
    }

    /// Whether the visitor and visit are kept in third-party cookies first.
    fn third_party(self) -> bool {
        matches!(self, Self::ThirdParty | Self::ThirdPartySession)
    }

    /// The cookies the product brief's table gives the shop's visitor with
    /// consent, where the browser is `blocking`: the visitor's, the visit's,
    /// any cross-domain copy, and the signed last-visit time.
    fn cookies(self, blocking: Blocking) -> Vec<Want> {
        let visitor = if self.persistent() { "vid" } else { "vids" };
        let mut out = if self.third_party() && blocking != Blocking::TesserasSiteData {
            let sid = want("ts_tp_sid", Kept::Partitioned, false);
            vec![want(&format!("ts_tp_{visitor}"), Kept::Partitioned, self.persistent()), sid]
        } else {
            // The first-party types, and the third-party ones' fallback.
            vec![want(&format!("ts_{visitor}"), Kept::Page, self.persistent()), want("ts_sid", Kept::Page, false)]
        };
        if self == Self::CrossDomain && blocking == Blocking::Nothing {
            out.push(want("ts_xd_sid", Kept::CrossSite, false));
        }
        out.push(want("ts_last", Kept::Page, true));
        out
    }
}

/// What the browser blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Blocking {
    /// Third-party cookies allowed (the user setting, see
    /// [`allow_third_party_cookies`]).
    Nothing,
    /// The user setting that blocks third-party cookies (partitioned ones
    /// are still kept).
    ThirdPartyCookies,
    /// Third-party cookies blocked and Tessera's host may store nothing at
    /// all, partitioned or not.
    TesserasSiteData,
}

impl Blocking {
    fn options(self) -> Options {
        match self {
            // And the profile's preferences allow third-party cookies.
            Self::Nothing => Options::default(),
            Self::ThirdPartyCookies => Options { block_third_party_cookies: true, ..Options::default() },
            Self::TesserasSiteData => Options {
                block_third_party_cookies: true,
                block_site_data_of: Some(TESSERA_HOST),
                ..Options::default()
            },
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Nothing => "third-party cookies allowed",
            Self::ThirdPartyCookies => "third-party cookies blocked",
            Self::TesserasSiteData => "Tessera's host stores nothing",
        }
    }
}

/// The admin allows the customer's two origins to embed the tag and sets
/// the site's cookie solution type, in the admin form. Returns the admin's
/// browser (for the final cookie check).
async fn configure_site(s: &Setup, solution: Type) -> Client {
    let admin = s.driver.open(&s.profile("admin"), Options::default()).await;
    visit(&admin, &s.url("/admin/login")).await;
    type_into(&admin, "#email", ADMIN_EMAIL).await;
    type_into(&admin, "#password", PASSWORD).await;
    click(&admin, Locator::Css("form.stack button[type=submit]")).await;
    eventually("the admin's login", || async { admin.current_url().await.is_ok_and(|u| u.path() == "/admin/account") })
        .await;
    visit(&admin, &s.url(&format!("/admin/sites/{SITE}"))).await;
    let select =
        admin.wait().at_most(PATIENCE).for_element(Locator::Css("#solution_type")).await.expect("the type picker");
    select.select_by_value(solution.as_str()).await.expect("choose the solution type");
    let origins = format!("{}\n{}", s.shop, s.outlet);
    js(&admin, "document.getElementById('origins').value = arguments[0]", vec![json!(origins)]).await;
    click(&admin, Locator::XPath("//form[contains(@action, '/admin/sites/')]//button[.='Save the settings']")).await;
    eventually("the saved settings", || async {
        admin.current_url().await.is_ok_and(|u| u.query() == Some("done=saved"))
    })
    .await;
    let saved = js(&admin, "return document.getElementById('solution_type').value", vec![]).await;
    assert_eq!(saved, json!(solution.as_str()), "the form shows the saved type");
    let saved = js(&admin, "return document.getElementById('origins').value", vec![]).await;
    assert_eq!(saved, json!(origins), "the form shows the saved origins");
    admin
}

// ---------------------------------------------------------------------------
// One visitor's story under one solution type
// ---------------------------------------------------------------------------

/// A visitor on the shop, in a browser `blocking` some storage: accepts
/// optional cookies on the home page, sees a second page, closes the
/// browser, comes back two days later. Checks the cookies, the visit and
/// the probe at each step.
async fn visitor_story(s: &Setup, solution: Type, blocking: Blocking) {
    let started = Instant::now();
    let name = format!("{}-{blocking:?}", solution.as_str());
    let what = |step: &str| format!("{} ({}), {step}", solution.as_str(), blocking.label());
    let wanted = solution.cookies(blocking);
    let (visitor, visit_cookie) = (wanted[0].name.clone(), wanted[1].name.clone());
    // The probe is asked for exactly when no third-party visitor cookie is
    // known yet, and says yes exactly when Tessera's host may keep cookies.
    let third_party_works = blocking != Blocking::TesserasSiteData;

    let client = s.browser(&name, blocking).await;
    // 1. The home page, then consent.
    let home = view_and_accept(&client, &s.shop("/")).await;
    let step = what("after consent on the first page");
    assert_eq!(home.last_visit(), FIRST_VISIT, "{step}: a new visitor's first visit");
    assert_eq!(page_visit(&client).await, FIRST_VISIT, "{step}: tessera.visit");
    check_probe(&home, solution.third_party(), third_party_works, solution, &step);
    let first = assert_monitoring_cookies(&client, &s.shop, &wanted, &step).await;

    // 2. Another page of the same visit (the page restates consent before the tag).
    let pricing = view(&client, &s.shop("/pricing")).await;
    let step = what("on the second page");
    assert_eq!(pricing.last_visit(), FIRST_VISIT, "{step}: the same visit, still the first");
    check_probe(&pricing, false, third_party_works, solution, &step);
    let second = assert_monitoring_cookies(&client, &s.shop, &wanted, &step).await;
    assert_eq!(value_of(&second, &visit_cookie), value_of(&first, &visit_cookie), "{step}: the same visit token");
    assert_eq!(value_of(&second, &visitor), value_of(&first, &visitor), "{step}: the same visitor token");
    check_against_registry(&client, &s.registry, &step).await;

    // 3. Two days later, in a new browser session.
    s.advance_clock(TWO_DAYS).await;
    let client = s.restart(client, &name, blocking).await;
    let back = view(&client, &s.shop("/")).await;
    let step = what("back two days later after closing the browser");
    let expected = if solution.persistent() {
        // Recognised: this visitor's second visit.
        Visit::Some { number: 2, returning: true, days_since_last: Some(2) }
    } else {
        // A new visitor (no repeat-visitor recognition); only the signed
        // last-visit time says that this browser was here before.
        Visit::Some { number: 1, returning: true, days_since_last: Some(2) }
    };
    assert_eq!(back.last_visit(), expected, "{step}");
    check_probe(&back, solution.third_party() && !solution.persistent(), third_party_works, solution, &step);
    let third = assert_monitoring_cookies(&client, &s.shop, &wanted, &step).await;
    assert_ne!(value_of(&third, &visit_cookie), value_of(&second, &visit_cookie), "{step}: a new visit token");
    if solution.persistent() {
        assert_eq!(value_of(&third, &visitor), value_of(&second, &visitor), "{step}: the visitor token was kept");
    } else {
        assert_ne!(value_of(&third, &visitor), value_of(&second, &visitor), "{step}: a new visitor token");
    }
    check_against_registry(&client, &s.registry, &step).await;
    client.close().await.ok();
    eprintln!("{}: {:.1?}", what("the whole story"), started.elapsed());
}

/// The hit that started this page asked for a probe exactly when `asked`;
/// the probe's answer and the fallback the tag got match `works`.
fn check_probe(h: &Heard, asked: bool, works: bool, solution: Type, step: &str) {
    let hit = h.last_hit();
    assert_eq!(hit["probe"], json!(asked), "{step}: asked to probe third-party cookies: {hit}");
    let fallback: Vec<&str> =
        hit["fallback"].as_array().map(|f| f.iter().filter_map(|c| c[0].as_str()).collect()).unwrap_or_default();
    if asked {
        let visitor = if solution.persistent() { "ts_vid" } else { "ts_vids" };
        assert_eq!(
            fallback,
            [format!("{visitor}_{SITE}"), format!("ts_sid_{SITE}")],
            "{step}: the first-party fallback offered with the probe: {hit}"
        );
        assert_eq!(h.probes.len(), 1, "{step}: one probe: {h:#?}");
        assert_eq!(h.probes[0]["answer"]["third_party"], json!(works), "{step}: the probe's finding: {h:#?}");
    } else {
        assert!(fallback.is_empty(), "{step}: no fallback without a probe: {hit}");
        assert!(h.probes.is_empty(), "{step}: no probe: {h:#?}");
    }
}

async fn one_type_every_way(solution: Type, ways: &[Blocking]) {
    let s = Setup::start(solution).await;
    for blocking in ways {
        visitor_story(&s, solution, *blocking).await;
    }
}

const EVERY_WAY: [Blocking; 3] = [Blocking::Nothing, Blocking::ThirdPartyCookies, Blocking::TesserasSiteData];
const EITHER_WAY: [Blocking; 2] = [Blocking::Nothing, Blocking::ThirdPartyCookies];

// ---------------------------------------------------------------------------
// Tests: each solution type
// ---------------------------------------------------------------------------

#[tokio::test]
async fn third_party_keeps_a_partitioned_visitor_that_returns_and_falls_back_to_first_party_when_tessera_may_store_nothing()
 {
    if !browser_available() {
        return;
    }
    one_type_every_way(Type::ThirdParty, &EVERY_WAY).await;
}

#[tokio::test]
async fn third_party_session_keeps_a_partitioned_visit_only_visitor_and_falls_back_to_first_party_session_cookies() {
    if !browser_available() {
        return;
    }
    one_type_every_way(Type::ThirdPartySession, &EVERY_WAY).await;
}

#[tokio::test]
async fn cross_domain_type_keeps_a_first_party_visitor_and_an_unpartitioned_visit_copy_only_where_third_party_cookies_are_allowed()
 {
    if !browser_available() {
        return;
    }
    one_type_every_way(Type::CrossDomain, &EITHER_WAY).await;
}

#[tokio::test]
async fn first_party_persistent_keeps_a_first_party_visitor_that_returns_whatever_third_party_cookies_do() {
    if !browser_available() {
        return;
    }
    one_type_every_way(Type::FirstPartyPersistent, &EITHER_WAY).await;
}

#[tokio::test]
async fn first_party_session_forgets_the_visitor_when_the_browser_closes_whatever_third_party_cookies_do() {
    if !browser_available() {
        return;
    }
    one_type_every_way(Type::FirstPartySession, &EITHER_WAY).await;
}

// ---------------------------------------------------------------------------
// The agent's view: "On the site now"
// ---------------------------------------------------------------------------

/// One visit in the agent's live list.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LiveVisit {
    /// "Visitor 7".
    visitor: String,
    /// "new", or "returning, visit 2 (2 days since the last)".
    visit: String,
    /// The visit's current page.
    url: String,
}

const READ_LIVE: &str = "return [...document.querySelectorAll('#live tbody tr')].map((tr) => {
    const cells = tr.querySelectorAll('td');
    const meta = cells[2] && cells[2].querySelector('.meta');
    return { visitor: cells[0].textContent.trim(), visit: cells[1].textContent.trim(),
             url: meta ? meta.textContent.trim() : '' };
});";

async fn agent_log_in(s: &Setup, agent: &Client) {
    visit(agent, &s.url("/agent/login")).await;
    if let Ok(site) = agent.find(Locator::Css("#site_id")).await {
        site.clear().await.ok();
        site.send_keys(SITE).await.expect("type the site ID");
    }
    type_into(agent, "#email", AGENT_EMAIL).await;
    type_into(agent, "#password", PASSWORD).await;
    click(agent, Locator::Css("form.stack button[type=submit]")).await;
    eventually("the agent's login", || async { agent.current_url().await.is_ok_and(|u| u.path() == "/agent/account") })
        .await;
}

/// The visits on the agent's "On the site now" page once `ready` holds for
/// them (page views are written in batches, so the current page follows a
/// moment later). Logs the agent in again when the session has ended (the
/// clock moves by days in these tests).
async fn live_visits(s: &Setup, agent: &Client, what: &str, ready: impl Fn(&[LiveVisit]) -> bool) -> Vec<LiveVisit> {
    let start = Instant::now();
    loop {
        visit(agent, &s.url("/agent/live")).await;
        if !agent.current_url().await.is_ok_and(|u| u.path() == "/agent/live") {
            agent_log_in(s, agent).await;
            continue;
        }
        let rows = js(agent, READ_LIVE, vec![]).await;
        let rows: Vec<LiveVisit> = rows
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| LiveVisit {
                visitor: r["visitor"].as_str().unwrap_or_default().to_owned(),
                visit: r["visit"].as_str().unwrap_or_default().to_owned(),
                url: r["url"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        if ready(&rows) {
            return rows;
        }
        assert!(start.elapsed() < PATIENCE, "{what}: the agent's live list never got there; it shows {rows:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

// ---------------------------------------------------------------------------
// Tests: the customer's two domains
// ---------------------------------------------------------------------------

/// From now on every page of this tab tells the tag "consent given" before
/// the tag runs, as a consent banner shared by the customer's domains would.
async fn pages_say_consent_first(client: &Client) {
    let source = "window.tessera = window.tessera || []; window.tessera.push(['consent', true]);";
    cdp(client, "Page.addScriptToEvaluateOnNewDocument", json!({ "source": source })).await;
}

/// A visitor on the shop, back for a second visit two days later; returns
/// the browser and the cookies of that visit.
async fn two_visits_on_the_shop(s: &Setup, name: &str, blocking: Blocking) -> (Client, Vec<Value>) {
    let solution = Type::CrossDomain;
    let wanted = solution.cookies(blocking);
    let client = s.browser(name, blocking).await;
    let home = view_and_accept(&client, &s.shop("/")).await;
    assert_eq!(home.last_visit(), FIRST_VISIT, "{name}: the first visit to the shop");
    let first = assert_monitoring_cookies(&client, &s.shop, &wanted, &format!("{name}, first visit")).await;
    s.advance_clock(TWO_DAYS).await;
    let client = s.restart(client, name, blocking).await;
    let back = view(&client, &s.shop("/")).await;
    let second_visit = Visit::Some { number: 2, returning: true, days_since_last: Some(2) };
    assert_eq!(back.last_visit(), second_visit, "{name}: the second visit to the shop");
    let shop = assert_monitoring_cookies(&client, &s.shop, &wanted, &format!("{name}, second visit")).await;
    assert_eq!(value_of(&shop, &format!("ts_vid_{SITE}")), value_of(&first, &format!("ts_vid_{SITE}")));
    if blocking == Blocking::Nothing {
        let xd = format!("__Host-ts_xd_sid_{SITE}");
        let sid = format!("ts_sid_{SITE}");
        assert_eq!(value_of(&shop, &xd), value_of(&shop, &sid), "{name}: the unpartitioned copy names the same visit");
    }
    (client, shop)
}

#[tokio::test]
async fn cross_domain_type_follows_one_visitor_from_the_shop_to_the_outlet_only_when_third_party_cookies_are_allowed() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(Type::CrossDomain).await;
    let (vid, sid, xd) = (format!("ts_vid_{SITE}"), format!("ts_sid_{SITE}"), format!("__Host-ts_xd_sid_{SITE}"));
    let second_visit = Visit::Some { number: 2, returning: true, days_since_last: Some(2) };

    // Third-party cookies allowed: the outlet sees the shop's visit, and so
    // the same visitor, who keeps their own first-party cookie there.
    let name = "linked";
    let (client, shop) = two_visits_on_the_shop(&s, name, Blocking::Nothing).await;
    let agent = s.driver.open(&s.profile("agent"), Options::default()).await;
    let on_the_shop =
        live_visits(&s, &agent, "linked, on the shop", |rows| rows.len() == 1 && rows[0].url == s.shop("/")).await;
    let visitor = on_the_shop[0].visitor.clone();
    let second = "returning, visit 2 (2 days since the last)";
    assert_eq!(on_the_shop[0].visit, second, "the agent sees the shop's visitor's second visit");
    pages_say_consent_first(&client).await;
    let outlet_home = view(&client, &s.outlet("/")).await;
    assert_eq!(outlet_home.last_visit(), second_visit, "on the outlet: the same visitor's same (second) visit");
    let wanted = Type::CrossDomain.cookies(Blocking::Nothing);
    let outlet = assert_monitoring_cookies(&client, &s.outlet, &wanted, "on the outlet").await;
    assert_eq!(value_of(&outlet, &sid), value_of(&shop, &sid), "the outlet's visit token is the shop's");
    assert_ne!(value_of(&outlet, &vid), value_of(&shop, &vid), "the outlet keeps its own token for the visitor");
    let outlet_pricing = view(&client, &s.outlet("/pricing")).await;
    assert_eq!(outlet_pricing.last_visit(), second_visit, "the outlet's second page: still that visit");
    check_against_registry(&client, &s.registry, "linked, on the outlet").await;
    let on_the_outlet =
        live_visits(&s, &agent, "linked, on the outlet", |rows| rows.iter().any(|r| r.url == s.outlet("/pricing")))
            .await;
    let one_visit = [LiveVisit { visitor: visitor.clone(), visit: second.into(), url: s.outlet("/pricing") }];
    assert_eq!(on_the_outlet, one_visit, "the agent sees one visit, the same visitor's, now on the outlet");

    // Two more days: the outlet's own cookie names that same visitor (their
    // third visit), and the shop joins the visit the outlet started.
    s.advance_clock(TWO_DAYS).await;
    let client = s.restart(client, name, Blocking::Nothing).await;
    pages_say_consent_first(&client).await;
    let third_visit = Visit::Some { number: 3, returning: true, days_since_last: Some(2) };
    let outlet_again = view(&client, &s.outlet("/")).await;
    assert_eq!(outlet_again.last_visit(), third_visit, "back on the outlet first: the same visitor's third visit");
    let outlet = assert_monitoring_cookies(&client, &s.outlet, &wanted, "back on the outlet").await;
    let shop_again = view(&client, &s.shop("/pricing")).await;
    assert_eq!(shop_again.last_visit(), third_visit, "then on the shop: the same third visit");
    let shop = assert_monitoring_cookies(&client, &s.shop, &wanted, "then on the shop").await;
    assert_eq!(value_of(&shop, &sid), value_of(&outlet, &sid), "one visit token on both domains");
    assert_eq!(value_of(&shop, &xd), value_of(&outlet, &xd), "one unpartitioned copy");
    check_against_registry(&client, &s.registry, "linked, back on the shop").await;
    client.close().await.ok();
    let third =
        live_visits(&s, &agent, "linked, back on the shop", |rows| rows.iter().any(|r| r.url == s.shop("/pricing")))
            .await;
    let one_visit =
        [LiveVisit { visitor, visit: "returning, visit 3 (2 days since the last)".into(), url: s.shop("/pricing") }];
    assert_eq!(third, one_visit, "the agent sees the same visitor's third visit, one visit on both domains");

    // Third-party cookies blocked: no unpartitioned copy, so the outlet
    // cannot know the shop's visitor and gets its own.
    let name = "separate";
    let blocked = Blocking::ThirdPartyCookies;
    let (client, shop) = two_visits_on_the_shop(&s, name, blocked).await;
    pages_say_consent_first(&client).await;
    let outlet_home = view(&client, &s.outlet("/")).await;
    assert_eq!(outlet_home.last_visit(), FIRST_VISIT, "on the outlet: a new visitor's first visit");
    let wanted = Type::CrossDomain.cookies(blocked);
    let outlet = assert_monitoring_cookies(&client, &s.outlet, &wanted, "on the outlet, blocked").await;
    assert_ne!(value_of(&outlet, &sid), value_of(&shop, &sid), "another visit");
    let everywhere = monitoring_cookies(&client).await;
    assert!(
        !everywhere.iter().any(|c| name_of(c) == xd),
        "no cross-domain cookie at all: {:#?}",
        describe(&everywhere)
    );
    check_against_registry(&client, &s.registry, "separate, on the outlet").await;
    client.close().await.ok();
    let two = live_visits(&s, &agent, "separate, on the outlet", |rows| {
        rows.len() == 2 && rows.iter().any(|r| r.url == s.outlet("/")) && rows.iter().any(|r| r.url == s.shop("/"))
    })
    .await;
    let (on_outlet, on_shop) = if two[0].url == s.outlet("/") { (&two[0], &two[1]) } else { (&two[1], &two[0]) };
    assert_ne!(on_outlet.visitor, on_shop.visitor, "the agent sees two visitors: {two:#?}");
    assert_eq!(on_outlet.visit, "new", "the outlet's is a new visitor: {two:#?}");
    assert_eq!(on_shop.visit, second, "the shop's is on their second visit: {two:#?}");
    check_against_registry(&agent, &s.registry, "the agent").await;
    agent.close().await.ok();
}

/// As a visitor meets the outlet's own consent banner: the outlet's first
/// page has no answer yet (opt-in: nothing optional happens), then the
/// visitor accepts there. Nothing was refused, so nothing should be erased:
/// the unpartitioned copy of the shop's visit, set with the shop's consent,
/// is still there when the visitor accepts, and the outlet joins that visit.
#[tokio::test]
async fn cross_domain_type_joins_the_shops_visit_when_the_visitor_accepts_on_the_outlet_after_a_first_page() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(Type::CrossDomain).await;
    let (sid, xd) = (format!("ts_sid_{SITE}"), format!("__Host-ts_xd_sid_{SITE}"));
    let name = "accepts-on-the-outlet";
    let (client, shop) = two_visits_on_the_shop(&s, name, Blocking::Nothing).await;

    let before = view(&client, &s.outlet("/")).await;
    assert_eq!(before.last_visit(), Visit::None, "no visit on the outlet before its consent");
    let after_first_page = monitoring_cookies(&client).await;
    click(&client, Locator::Css("#consent-yes")).await;
    let accepted = settle(&client, 2).await;
    let wanted = Type::CrossDomain.cookies(Blocking::Nothing);
    let outlet = assert_monitoring_cookies(&client, &s.outlet, &wanted, "accepted on the outlet").await;
    let second_visit = Visit::Some { number: 2, returning: true, days_since_last: Some(2) };
    assert_eq!(
        (accepted.last_visit(), value_of(&outlet, &sid)),
        (second_visit, value_of(&shop, &sid)),
        "accepting on the outlet continues the shop's (second) visit; the cross-domain cookie after the outlet's \
         first, unanswered page: {:#?}; the hits: {:#?}",
        describe(&of_site(&after_first_page, &s.outlet)),
        before.hits
    );
    assert_eq!(value_of(&outlet, &xd), value_of(&shop, &xd), "one unpartitioned copy");
    check_against_registry(&client, &s.registry, name).await;
    client.close().await.ok();
}

// ---------------------------------------------------------------------------
// Tests: tabs and consent
// ---------------------------------------------------------------------------

#[tokio::test]
async fn two_tabs_share_the_visitor_and_the_visit_and_report_different_tab_ids() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(Type::ThirdParty).await;
    let wanted = Type::ThirdParty.cookies(Blocking::Nothing);
    let (visitor, visit_cookie) = (wanted[0].name.clone(), wanted[1].name.clone());
    let client = s.browser("tabs", Blocking::Nothing).await;
    let first_tab = client.window().await.expect("the first tab");
    let home = view_and_accept(&client, &s.shop("/")).await;
    assert_eq!(home.last_visit(), FIRST_VISIT, "the first tab: a first visit");
    let one = assert_monitoring_cookies(&client, &s.shop, &wanted, "the first tab").await;
    let (tab_one, reported_one) = tab_ids(&client).await;
    assert!(!tab_one.is_empty(), "the first tab has an ID");
    assert_eq!(reported_one, tab_one, "the first tab's hit reports its ID");

    // A second tab of the same browser (new session storage, same cookies).
    let second_tab = client.new_window(true).await.expect("a second tab").handle;
    client.switch_to_window(second_tab.clone()).await.expect("to the second tab");
    listen_to_the_tag(&client).await;
    let pricing = view(&client, &s.shop("/pricing")).await;
    assert_eq!(pricing.last_visit(), FIRST_VISIT, "the second tab: the same, first visit");
    assert_eq!(pricing.last_hit()["probe"], json!(false), "the second tab needs no probe");
    let two = assert_monitoring_cookies(&client, &s.shop, &wanted, "the second tab").await;
    let (tab_two, reported_two) = tab_ids(&client).await;
    assert!(!tab_two.is_empty(), "the second tab has an ID");
    assert_eq!(reported_two, tab_two, "the second tab's hit reports its ID");
    assert_ne!(tab_two, tab_one, "each tab has its own ID");
    for name in [&visitor, &visit_cookie] {
        assert_eq!(value_of(&two, name), value_of(&one, name), "{name}: shared by the two tabs");
    }
    check_against_registry(&client, &s.registry, "the second tab").await;

    // Back in the first tab, another page: the same visit, the same tab ID.
    client.switch_to_window(first_tab).await.expect("to the first tab");
    let contact = view(&client, &s.shop("/contact")).await;
    assert_eq!(contact.last_visit(), FIRST_VISIT, "the first tab again: still the first visit");
    let again = assert_monitoring_cookies(&client, &s.shop, &wanted, "the first tab again").await;
    assert_eq!(value_of(&again, &visit_cookie), value_of(&one, &visit_cookie), "still one visit");
    assert_eq!(tab_ids(&client).await, (tab_one.clone(), tab_one), "the first tab keeps its ID across pages");
    check_against_registry(&client, &s.registry, "the first tab").await;
    client.close().await.ok();
}

/// No monitoring cookie, and no optional cookie at all, anywhere in the browser.
async fn assert_nothing_optional(client: &Client, s: &Setup, step: &str) {
    let all = every_cookie(client).await;
    let monitoring: Vec<Value> = all.iter().filter(|c| is_monitoring(name_of(c))).cloned().collect();
    assert!(monitoring.is_empty(), "{step}: no monitoring cookie: {:#?}", describe(&monitoring));
    let optional: Vec<Value> = all
        .iter()
        .filter(|c| declaration(&s.registry, name_of(c)).is_some_and(|d| d["category"] == "optional"))
        .cloned()
        .collect();
    assert!(optional.is_empty(), "{step}: no optional cookie: {:#?}", describe(&optional));
    assert_eq!(page_visit(client).await, Visit::None, "{step}: tessera.visit is null");
}

#[tokio::test]
async fn refusing_consent_leaves_no_monitoring_cookie_and_withdrawing_it_erases_them_all() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(Type::ThirdParty).await;

    // Refused on the first page: nothing optional, on this page or the next.
    let client = s.browser("refuses", Blocking::Nothing).await;
    let home = view(&client, &s.shop("/")).await;
    assert_eq!(home.last_visit(), Visit::None, "no answer yet: no visit");
    click(&client, Locator::Css("#consent-no")).await;
    let refused = settle(&client, 2).await;
    assert_eq!(refused.last_visit(), Visit::None, "refused: no visit");
    assert_nothing_optional(&client, &s, "refused on the first page").await;
    let pricing = view(&client, &s.shop("/pricing")).await;
    assert_eq!(pricing.last_visit(), Visit::None, "the next page restates the refusal: no visit");
    assert_eq!(pricing.hits[0]["sent"]["consent"], json!(false), "the tag reported the refusal");
    assert_nothing_optional(&client, &s, "refused, on the next page").await;
    check_against_registry(&client, &s.registry, "refused").await;
    client.close().await.ok();

    // Accepted, then withdrawn: the tag erases its cookies, the server its own.
    let client = s.browser("withdraws", Blocking::Nothing).await;
    let wanted = Type::ThirdParty.cookies(Blocking::Nothing);
    let home = view_and_accept(&client, &s.shop("/")).await;
    assert_eq!(home.last_visit(), FIRST_VISIT, "accepted: a first visit");
    assert_monitoring_cookies(&client, &s.shop, &wanted, "accepted").await;
    click(&client, Locator::Css("#consent-no")).await;
    let withdrawn = settle(&client, 3).await;
    assert_eq!(withdrawn.last_visit(), Visit::None, "withdrawn: no visit");
    eventually("every monitoring cookie gone", || async { monitoring_cookies(&client).await.is_empty() }).await;
    assert_nothing_optional(&client, &s, "withdrawn").await;
    let contact = view(&client, &s.shop("/contact")).await;
    assert_eq!(contact.last_visit(), Visit::None, "the next page: no visit");
    assert_nothing_optional(&client, &s, "withdrawn, on the next page").await;
    check_against_registry(&client, &s.registry, "withdrawn").await;
    client.close().await.ok();
}

/// From now on every request of this tab carries `Sec-GPC: 1`, and, unless
/// `header_only`, the tab's pages see `navigator.globalPrivacyControl`
/// true, as in a browser with Global Privacy Control on.
async fn send_global_privacy_control(client: &Client, header_only: bool) {
    cdp(client, "Network.enable", json!({})).await;
    cdp(client, "Network.setExtraHTTPHeaders", json!({ "headers": { "Sec-GPC": "1" } })).await;
    if !header_only {
        let source = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', \
                      { get: () => true, configurable: true });";
        cdp(client, "Page.addScriptToEvaluateOnNewDocument", json!({ "source": source })).await;
    }
}

#[tokio::test]
async fn global_privacy_control_outweighs_a_yes_and_leaves_no_monitoring_cookie() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(Type::ThirdParty).await;
    // The tag itself reads GPC as a refusal. With only the header (the
    // page's scripts cannot know), the tag reports the yes and the server
    // refuses on its own: no monitoring cookie (the tag's loader cookies,
    // which only the page's scripts decide on, are another matter).
    for (name, header_only) in [("gpc", false), ("gpc-header-only", true)] {
        let client = s.browser(name, Blocking::Nothing).await;
        send_global_privacy_control(&client, header_only).await;
        let home = view(&client, &s.shop("/")).await;
        assert_eq!(home.last_visit(), Visit::None, "{name}: no answer yet: no visit");
        click(&client, Locator::Css("#consent-yes")).await;
        let said_yes = settle(&client, 2).await;
        assert_eq!(said_yes.hits[1]["sent"]["consent"], json!(header_only), "{name}: the tag's report: {said_yes:#?}");
        for (step, page) in [("after the yes", None), ("on the next page", Some("/pricing"))] {
            let step = format!("{name}, {step}");
            if let Some(path) = page {
                view(&client, &s.shop(path)).await;
            }
            assert_eq!(page_visit(&client).await, Visit::None, "{step}: no visit");
            if header_only {
                let monitoring = monitoring_cookies(&client).await;
                assert!(monitoring.is_empty(), "{step}: no monitoring cookie: {:#?}", describe(&monitoring));
            } else {
                assert_nothing_optional(&client, &s, &step).await;
            }
        }
        check_against_registry(&client, &s.registry, name).await;
        client.close().await.ok();
    }
}
