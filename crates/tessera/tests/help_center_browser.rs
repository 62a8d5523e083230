//! The Help Center of the demo site (`serve --demo`) in real headless
//! Chromium: the language a first visit gets and the picker, consent and the
//! visitor token across a browser restart (and into an account and the agent's
//! visitor profile), refusal and Global Privacy Control, an admin disabling a
//! person whose browser is open, and agent remember-me. Every test ends by
//! checking the browser's cookie jar against `tessera cookies --format json`.
//!
//! A "restart" quits the browser and opens a new one on the same profile:
//! session cookies are gone, persistent ones stay.
//!
//! Without chromedriver these tests print why and pass, unless
//! `TESSERA_REQUIRE_BROWSER` is set. Screenshots go to `<workspace>/screenshots/`
//! (or `$TESSERA_SCREENSHOTS`).

mod common;

use std::path::{Path, PathBuf};

use common::browser::{Driver, Options, PATIENCE, POLL, SessionPost, browser_available, cdp};
use common::{DemoLogins, PASSWORD, Server, add_user, assert_jar_matches_registry, cookie_registry};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

const COOKIES_ARTICLE: &str = "What cookies does Tessera use?";
const PASSWORD_ARTICLE: &str = "How do I change my password?";
const HELP_ARTICLE: &str = "How do I get help?";

/// From now on every request of this tab carries `Sec-GPC: 1`.
async fn send_global_privacy_control(client: &Client) {
    cdp(client, "Network.enable", json!({})).await;
    cdp(client, "Network.setExtraHTTPHeaders", json!({ "headers": { "Sec-GPC": "1" } })).await;
}

/// The `Set-Cookie` headers of every response the browser received since
/// the last call, from Chrome's performance log (needs
/// `Options::performance_log`).
async fn received_set_cookies(client: &Client) -> Vec<String> {
    let log = SessionPost { path: "se/log", body: json!({ "type": "performance" }) };
    let entries = client.issue_cmd(log).await.expect("the performance log");
    let mut out = Vec::new();
    for entry in entries.as_array().expect("log entries") {
        let Some(message) = entry["message"].as_str() else { continue };
        let event: Value = serde_json::from_str(message).expect("a DevTools event");
        if event["message"]["method"] != "Network.responseReceivedExtraInfo" {
            continue;
        }
        let Some(headers) = event["message"]["params"]["headers"].as_object() else { continue };
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                // DevTools joins repeated headers with newlines.
                out.extend(value.as_str().unwrap_or_default().split('\n').map(str::to_owned));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The server and one test's world
// ---------------------------------------------------------------------------

/// A demo server, a portal user, a chromedriver and room for profiles.
struct Setup {
    dir: tempfile::TempDir,
    server: Server,
    demo: DemoLogins,
    registry: Value,
    driver: Driver,
}

/// The portal user every test may log in as (created with `user add`).
const USER_EMAIL: &str = "uma@example.com";

impl Setup {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let added = add_user(&data, USER_EMAIL, "user");
        assert!(added.status.success(), "user add: {}", String::from_utf8_lossy(&added.stderr));
        let server = Server::start_with(&data, &["--demo"]);
        let demo = server.demo.clone().expect("the demo logins");
        let registry = cookie_registry(&data);
        let driver = Driver::start().await;
        Self { dir, server, demo, registry, driver }
    }

    fn profile(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("profile-{name}"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// The path of a published article, found by its English title on the
    /// home page (fetched without a browser, without cookies).
    async fn article(&self, english_title: &str) -> String {
        let home = reqwest::Client::new()
            .get(self.url("/"))
            .header("accept-language", "en")
            .send()
            .await
            .expect("home page")
            .text()
            .await
            .expect("home page text");
        let at = home.find(&format!(">{english_title}</a>")).unwrap_or_else(|| panic!("no link to {english_title:?}"));
        let href = home[..at].rfind("href=\"").expect("the link's href") + "href=\"".len();
        let end = home[href..].find('"').expect("the end of the href");
        home[href..href + end].to_owned()
    }

    /// The names of the optional cookies the registry declares.
    fn optional_cookies(&self) -> Vec<String> {
        let all = self.registry.as_array().expect("the registry is a list");
        all.iter()
            .filter(|d| d["category"] == "optional")
            .filter_map(|d| d["name"].as_str().map(str::to_owned))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

/// Polls until `locator` matches an element.
async fn wait_for_element(client: &Client, locator: Locator<'_>) -> Element {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(found) = client.find(locator).await {
            return found;
        }
        if tokio::time::Instant::now() > deadline {
            let url = client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let page = client.source().await.unwrap_or_default();
            panic!("no {locator:?} at {url}:\n{page}");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn wait_for(client: &Client, css: &str) -> Element {
    wait_for_element(client, Locator::Css(css)).await
}

async fn text(client: &Client, css: &str) -> String {
    wait_for(client, css).await.text().await.unwrap_or_else(|e| panic!("the text of {css}: {e}"))
}

async fn present(client: &Client, css: &str) -> bool {
    !client.find_all(Locator::Css(css)).await.expect("find").is_empty()
}

async fn html_lang(client: &Client) -> String {
    wait_for(client, "html").await.attr("lang").await.expect("lang attribute").unwrap_or_default()
}

async fn path(client: &Client) -> String {
    client.current_url().await.expect("url").path().to_owned()
}

async fn visit(client: &Client, url: &str) {
    client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
}

/// Clicks the submit button `locator` and waits until the page it leads to
/// has loaded: the old document is marked, and the new one is not.
async fn submit_at(client: &Client, locator: Locator<'_>) {
    client.execute("window.__tesseraOldPage = true", vec![]).await.expect("mark the page");
    let button = wait_for_element(client, locator).await;
    button.click().await.unwrap_or_else(|e| panic!("click {locator:?}: {e}"));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let arrived = client
            .execute("return document.readyState === 'complete' && !window.__tesseraOldPage", vec![])
            .await
            .is_ok_and(|v| v == json!(true));
        if arrived {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "clicking {locator:?} led nowhere");
        tokio::time::sleep(POLL).await;
    }
}

async fn submit(client: &Client, css: &str) {
    submit_at(client, Locator::Css(css)).await;
}

async fn type_into(client: &Client, css: &str, value: &str) {
    let field = wait_for(client, css).await;
    field.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
    field.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

async fn cookie_names(client: &Client) -> Vec<String> {
    client.get_all_cookies().await.expect("cookies").iter().map(|c| c.name().to_owned()).collect()
}

/// Saves a PNG of the window as `name` in the screenshot directory.
async fn screenshot(client: &Client, name: &str) {
    let dir = std::env::var_os("TESSERA_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../screenshots"));
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(name), png).expect("write the screenshot");
}

/// Logs into the portal (no Remember me).
async fn portal_log_in(s: &Setup, client: &Client, email: &str) {
    visit(client, &s.url("/login")).await;
    type_into(client, "#email", email).await;
    type_into(client, "#password", PASSWORD).await;
    submit(client, "form.stack button[type=submit]").await;
    assert_eq!(path(client).await, "/account", "logged into the portal");
}

async fn agent_log_in(s: &Setup, client: &Client, remember: bool) {
    visit(client, &s.url("/agent/login")).await;
    type_into(client, "#site_id", &s.demo.site_id).await;
    type_into(client, "#email", &s.demo.agent_email).await;
    type_into(client, "#password", &s.demo.agent_password).await;
    if remember {
        wait_for(client, "#remember").await.click().await.expect("tick Remember me");
    }
    submit(client, "form.stack button[type=submit]").await;
    assert_eq!(path(client).await, "/agent/account", "logged into the agent interface");
}

async fn admin_log_in(s: &Setup, client: &Client) {
    visit(client, &s.url("/admin/login")).await;
    type_into(client, "#email", &s.demo.admin_email).await;
    type_into(client, "#password", &s.demo.admin_password).await;
    submit(client, "form.stack button[type=submit]").await;
    assert_eq!(path(client).await, "/admin/account", "logged into the admin interface");
}

/// The visitor ID in the heading of an agent's visitor profile ("Visitor 7").
async fn visitor_id(client: &Client) -> String {
    text(client, "h1").await.trim_start_matches("Visitor ").to_owned()
}

/// Asserts the vote on the open article page is the viewer's "yes".
async fn assert_my_vote_is_yes(client: &Client, when: &str) {
    let yes = wait_for(client, "#vote-yes").await.attr("aria-pressed").await.expect("aria-pressed");
    assert_eq!(yes.as_deref(), Some("true"), "{when}: the yes button shows my vote");
    let no = wait_for(client, "#vote-no").await.attr("aria-pressed").await.expect("aria-pressed");
    assert_eq!(no.as_deref(), Some("false"), "{when}");
    assert!(present(client, "#my-vote").await, "{when}: the page says how I voted");
}

/// Opens `article`, votes "yes" and opens it again: the vote shows both
/// times, and `watch` sees no optional cookie at any step.
async fn vote_yes_and_come_back(s: &Setup, client: &Client, article: &str, watch: &mut OptionalCookieWatch) {
    visit(client, &s.url(article)).await;
    watch.check(client, "opening an article").await;
    submit(client, "#vote-yes").await;
    assert_my_vote_is_yes(client, "after voting").await;
    watch.check(client, "voting").await;
    visit(client, &s.url(article)).await;
    assert_my_vote_is_yes(client, "on the next visit of the page").await;
    watch.check(client, "reloading the article").await;
}

/// Watches a browser for optional cookies: in its jar and, when the
/// performance log is on, in every `Set-Cookie` it received.
struct OptionalCookieWatch {
    optional: Vec<String>,
    set_cookies_seen: usize,
}

impl OptionalCookieWatch {
    fn new(s: &Setup) -> Self {
        let optional = s.optional_cookies();
        for expected in ["__Host-ts_v", "__Host-ts_remember_portal", "__Host-ts_remember_agent", "__Host-ts_agent_site"]
        {
            assert!(optional.iter().any(|o| o == expected), "{expected} is declared optional: {optional:?}");
        }
        Self { optional, set_cookies_seen: 0 }
    }

    async fn check(&mut self, client: &Client, step: &str) {
        let jar = cookie_names(client).await;
        let bad: Vec<&String> = jar.iter().filter(|n| self.optional.contains(n)).collect();
        assert!(bad.is_empty(), "after {step}, the jar holds optional cookies {bad:?} (jar: {jar:?})");
        for line in received_set_cookies(client).await {
            self.set_cookies_seen += 1;
            let cookie = fantoccini::cookies::Cookie::parse(line.as_str())
                .unwrap_or_else(|e| panic!("after {step}, a malformed `Set-Cookie: {line}`: {e}"));
            if !self.optional.iter().any(|o| o == cookie.name()) {
                continue;
            }
            // Clearing an optional cookie (empty, Max-Age=0) stores nothing; the
            // consent form clears the visitor cookie on every refusal.
            let clears = cookie.value().is_empty() && cookie.max_age().is_some_and(|a| a.is_zero());
            assert!(clears, "after {step}, the browser received `Set-Cookie: {line}`");
        }
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn first_visit_follows_accept_language_and_the_picker_wins_until_the_browser_restarts() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let cookies_article = s.article(COOKIES_ARTICLE).await;
    let help_article = s.article(HELP_ARTICLE).await;
    let french = Options { accept_language: Some("fr"), ..Options::default() };
    let profile = s.profile("fr");
    let client = s.driver.open(&profile, french).await;

    visit(&client, &s.url("/")).await;
    assert_eq!(html_lang(&client).await, "fr", "Accept-Language: fr picks French");
    assert_eq!(text(&client, "h1").await, "Centre d’aide");
    visit(&client, &s.url(&cookies_article)).await;
    assert_eq!(html_lang(&client).await, "fr");
    assert!(text(&client, "h1").await.starts_with("Quels cookies Tessera utilise-t-il"));
    screenshot(&client, "article-fr.png").await;

    visit(&client, &s.url("/")).await;
    wait_for(&client, "#language-picker").await.select_by_value("da").await.expect("pick Dansk");
    submit(&client, "#language-submit").await;
    assert_eq!(html_lang(&client).await, "da", "the picker overrides Accept-Language");
    assert_eq!(text(&client, "h1").await, "Hjælpecenter");
    visit(&client, &s.url(&cookies_article)).await;
    assert_eq!(html_lang(&client).await, "da");
    assert_eq!(text(&client, "h1").await, "Hvilke cookies bruger Tessera?");
    visit(&client, &s.url(&help_article)).await;
    assert_eq!(html_lang(&client).await, "da");
    assert_eq!(text(&client, "h1").await, HELP_ARTICLE, "no Danish text: the English one");
    assert!(text(&client, ".notice").await.contains("findes endnu ikke på"), "a Danish notice says so");
    visit(&client, &s.url("/cookies")).await;
    assert_eq!(html_lang(&client).await, "da");
    assert!(text(&client, "main").await.contains("Her er alle de cookies, Tessera kan sætte"));
    assert!(cookie_names(&client).await.contains(&"__Host-ts_lang".to_owned()), "the pick is kept in a cookie");

    let client = s.driver.restart(client, &profile, french).await;
    visit(&client, &s.url("/")).await;
    assert_eq!(html_lang(&client).await, "fr", "the pick lasted one browser session");
    assert_eq!(text(&client, "h1").await, "Centre d’aide");
    assert!(!cookie_names(&client).await.contains(&"__Host-ts_lang".to_owned()));
    assert_jar_matches_registry(&client, &s.registry).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn a_guest_with_consent_is_recognised_a_week_later_and_their_trail_follows_them_into_their_account() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let article = s.article(COOKIES_ARTICLE).await;
    let profile = s.profile("guest");
    let client = s.driver.open(&profile, Options::default()).await;

    visit(&client, &s.url("/")).await;
    assert!(present(&client, "section.consent").await, "a first visit is asked");
    screenshot(&client, "consent-banner.png").await;
    submit(&client, "#consent-accept").await;
    assert!(!present(&client, "section.consent").await, "the choice is made");
    assert_eq!(path(&client).await, "/", "back where the choice was made");

    visit(&client, &s.url(&article)).await;
    submit(&client, "#vote-yes").await;
    assert_my_vote_is_yes(&client, "after voting").await;
    type_into(&client, "#comment-name", "Gwen Guest").await;
    type_into(&client, "#comment-body", "Clear and short, thank you.").await;
    submit(&client, "#comment-submit").await;
    assert!(text(&client, "ul.comments li.pending").await.contains("Clear and short, thank you."));
    let jar = client.get_all_cookies().await.expect("cookies");
    let visitor = jar.iter().find(|c| c.name() == "__Host-ts_v").expect("a visitor cookie, with consent");
    assert!(visitor.expires().is_some(), "the visitor cookie outlives the browser session");
    assert_jar_matches_registry(&client, &s.registry).await;

    // "A week later": a new browser session; only persistent cookies remain.
    let client = s.driver.restart(client, &profile, Options::default()).await;
    visit(&client, &s.url(&article)).await;
    screenshot(&client, "article-en.png").await;
    let jar = cookie_names(&client).await;
    assert!(jar.contains(&"__Host-ts_v".to_owned()), "the visitor cookie survived: {jar:?}");
    assert!(!jar.contains(&"__Host-ts_visit".to_owned()), "session cookies did not: {jar:?}");
    assert!(!present(&client, "section.consent").await, "the choice is remembered");
    assert_my_vote_is_yes(&client, "after a restart").await;
    let pending = text(&client, "ul.comments li.pending").await;
    assert!(pending.contains("Clear and short, thank you."), "my pending comment: {pending}");
    assert!(present(&client, "ul.comments li.pending .pending-note").await, "marked as awaiting moderation");

    portal_log_in(&s, &client, USER_EMAIL).await;
    visit(&client, &s.url(&article)).await;
    assert_my_vote_is_yes(&client, "logged in").await;
    assert_jar_matches_registry(&client, &s.registry).await;

    // The agent, in a browser of their own.
    let agent = s.driver.open(&s.profile("agent"), Options::default()).await;
    agent_log_in(&s, &agent, false).await;
    visit(&agent, &s.url("/agent/comments")).await;
    assert!(text(&agent, "main").await.contains("Clear and short, thank you."), "the comment waits for moderation");
    let profile_link = agent.find(Locator::LinkText("visitor profile")).await.expect("a link to the visitor profile");
    profile_link.click().await.expect("open the visitor profile");
    let trail = text(&agent, "#trail").await;
    assert_eq!(path(&agent).await, format!("/agent/visitors/{}", visitor_id(&agent).await));
    for kind in ["Viewed", "Voted", "Commented"] {
        assert!(trail.contains(kind), "the trail has {kind}:\n{trail}");
    }
    let person = text(&agent, "#visitor-person").await;
    assert!(person.contains(USER_EMAIL), "the visitor is now known as the user: {person}");
    screenshot(&agent, "agent-visitor-profile.png").await;
    assert_jar_matches_registry(&agent, &s.registry).await;
    agent.close().await.expect("close");
    client.close().await.expect("close");
}

#[tokio::test]
async fn the_visitor_trail_lists_a_vote_and_a_comment_before_the_page_views_they_led_to() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let article = s.article(PASSWORD_ARTICLE).await;
    let client = s.driver.open(&s.profile("guest"), Options::default()).await;
    visit(&client, &s.url("/")).await;
    submit(&client, "#consent-accept").await;
    visit(&client, &s.url(&article)).await;
    submit(&client, "#vote-yes").await;
    type_into(&client, "#comment-name", "Otto Order").await;
    type_into(&client, "#comment-body", "In order, please.").await;
    submit(&client, "#comment-submit").await;

    let agent = s.driver.open(&s.profile("agent"), Options::default()).await;
    agent_log_in(&s, &agent, false).await;
    visit(&agent, &s.url("/agent/comments")).await;
    agent.find(Locator::LinkText("visitor profile")).await.expect("the link").click().await.expect("open");
    wait_for(&agent, "#trail").await;
    let (mut kinds, mut rows) = (Vec::new(), Vec::new());
    for row in agent.find_all(Locator::Css("#trail li")).await.expect("trail rows") {
        kinds.push(row.find(Locator::Css(".kind")).await.expect("a kind").text().await.expect("text"));
        rows.push(row.text().await.expect("text"));
    }
    // What the guest did, in order: the home page (where consent was given),
    // the article, the vote, the article again (the vote's redirect), the
    // comment, the article again (the comment's redirect). All within a
    // second or two: the page says "oldest first", so order must not depend
    // on the kind of event.
    let expected = ["Viewed", "Viewed", "Voted", "Viewed", "Commented", "Viewed"];
    assert_eq!(kinds, expected, "the trail in the order things happened:\n{}", rows.join("\n"));
    assert_jar_matches_registry(&agent, &s.registry).await;
    assert_jar_matches_registry(&client, &s.registry).await;
    agent.close().await.expect("close");
    client.close().await.expect("close");
}

#[tokio::test]
async fn refusing_consent_sets_no_optional_cookie_yet_voting_works_for_the_session() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let article = s.article(PASSWORD_ARTICLE).await;
    let client = s.driver.open(&s.profile("refuse"), Options { performance_log: true, ..Options::default() }).await;
    let mut watch = OptionalCookieWatch::new(&s);

    visit(&client, &s.url("/")).await;
    watch.check(&client, "the first page").await;
    submit(&client, "#consent-reject").await;
    assert!(!present(&client, "section.consent").await, "the choice is made");
    watch.check(&client, "refusing").await;
    vote_yes_and_come_back(&s, &client, &article, &mut watch).await;
    visit(&client, &s.url("/cookies")).await;
    assert!(text(&client, "#consent-current").await.contains("do not allow optional cookies"));
    watch.check(&client, "the cookie page").await;
    assert!(watch.set_cookies_seen > 0, "the performance log showed no Set-Cookie at all");
    assert_jar_matches_registry(&client, &s.registry).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn global_privacy_control_sets_no_optional_cookie_yet_voting_works_for_the_session() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let article = s.article(PASSWORD_ARTICLE).await;
    let client = s.driver.open(&s.profile("gpc"), Options { performance_log: true, ..Options::default() }).await;
    send_global_privacy_control(&client).await;
    let mut watch = OptionalCookieWatch::new(&s);

    visit(&client, &s.url("/cookies")).await;
    let current = text(&client, "#consent-current").await;
    assert!(current.contains("Global Privacy Control"), "the header arrives and is honoured: {current}");
    watch.check(&client, "the cookie page").await;
    visit(&client, &s.url("/")).await;
    watch.check(&client, "the home page").await;
    vote_yes_and_come_back(&s, &client, &article, &mut watch).await;
    assert!(watch.set_cookies_seen > 0, "the performance log showed no Set-Cookie at all");
    assert_jar_matches_registry(&client, &s.registry).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn an_admin_disabling_a_user_logs_the_users_open_browser_out_on_its_next_request() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let user = s.driver.open(&s.profile("user"), Options::default()).await;
    portal_log_in(&s, &user, USER_EMAIL).await;

    let admin = s.driver.open(&s.profile("admin"), Options::default()).await;
    admin_log_in(&s, &admin).await;
    visit(&admin, &s.url("/admin/people")).await;
    // The row of the user, by email; its disable form, by action (not by button text).
    let row = format!("//tr[td[normalize-space()='{USER_EMAIL}']]");
    let disable = format!("{row}//form[@action='/admin/people/disable']//button[@type='submit']");
    submit_at(&admin, Locator::XPath(&disable)).await;
    let status = admin.find(Locator::XPath(&format!("{row}/td[4]"))).await.expect("status").text().await.expect("text");
    assert_eq!(status, "Disabled");
    assert_jar_matches_registry(&admin, &s.registry).await;

    visit(&user, &s.url("/account")).await;
    assert_eq!(path(&user).await, "/login", "the disabled user is logged out");
    let jar = cookie_names(&user).await;
    assert!(!jar.contains(&"__Host-ts_portal".to_owned()), "the dead session cookie is cleared: {jar:?}");
    assert_jar_matches_registry(&user, &s.registry).await;
    admin.close().await.expect("close");
    user.close().await.expect("close");
}

#[tokio::test]
async fn agent_remember_me_survives_a_restart_and_prefills_the_site_id_after_logout() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let profile = s.profile("agent");
    let client = s.driver.open(&profile, Options::default()).await;
    agent_log_in(&s, &client, true).await;
    let jar = client.get_all_cookies().await.expect("cookies");
    for name in ["__Host-ts_remember_agent", "__Host-ts_agent_site"] {
        let c = jar.iter().find(|c| c.name() == name).unwrap_or_else(|| panic!("no {name} in {jar:?}"));
        assert!(c.expires().is_some(), "{name} is persistent");
    }

    let client = s.driver.restart(client, &profile, Options::default()).await;
    // The dashboard is at /agent (its own links say so; /agent/ is a 404, see
    // the test below).
    visit(&client, &s.url("/agent")).await;
    assert_eq!(path(&client).await, "/agent", "still logged in after a restart");
    assert!(cookie_names(&client).await.contains(&"__Host-ts_agent".to_owned()), "a fresh session");
    submit(&client, "header form[action='/agent/logout'] button").await;
    assert_eq!(path(&client).await, "/agent/login", "logged out");
    visit(&client, &s.url("/agent/login")).await;
    let site = wait_for(&client, "#site_id").await.prop("value").await.expect("the site ID field");
    assert_eq!(site.as_deref(), Some(s.demo.site_id.as_str()), "the site ID is filled in");
    assert_eq!(s.demo.site_id, "1001");
    visit(&client, &s.url("/agent")).await;
    assert_eq!(path(&client).await, "/agent/login", "logout also ended Remember me");
    assert_jar_matches_registry(&client, &s.registry).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn the_agent_dashboard_also_answers_at_agent_with_a_trailing_slash() {
    if !browser_available() {
        return;
    }
    let s = Setup::start().await;
    let client = s.driver.open(&s.profile("slash"), Options::default()).await;
    agent_log_in(&s, &client, false).await;
    visit(&client, &s.url("/agent")).await;
    let dashboard = text(&client, "h1").await;
    visit(&client, &s.url("/agent/")).await;
    assert_eq!(text(&client, "h1").await, dashboard, "/agent/ shows the dashboard (or redirects to /agent)");
    assert_jar_matches_registry(&client, &s.registry).await;
    client.close().await.expect("close");
}
