//! The Messenger in real headless Chromium, on the demo customer website
//! (`http://localhost:PORT`, another origin than Tessera's `127.0.0.1`): a
//! visitor chats with an agent live and across pages; the loader's cached
//! frame URL and its fallbacks; a guest coming back a week later; two tabs;
//! a server restart; third-party cookies blocked; verified identity on two
//! devices and a forged one; a page that is not allowed to embed the
//! Messenger. Every test ends by checking each browser's cookie jar against
//! `tessera cookies --format json`.
//!
//! Without chromedriver these tests print why and pass, unless
//! `TESSERA_REQUIRE_BROWSER` is set.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use common::browser::{
    Driver, Options, PATIENCE, POLL, browser_available, cdp, click, eventually, eventually_within, every_cookie, js,
    requested_urls, type_into, visit,
};
use common::{DemoLogins, Server, assert_jar_matches_registry, assert_storage_matches_registry, cookie_registry};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

const SITE: &str = "1001";
const LAUNCHER: &str = "//body/button[starts-with(normalize-space(), 'Chat with us')]";
const WEEK: i64 = 7 * 86_400;

// ---------------------------------------------------------------------------
// The server and one test's world
// ---------------------------------------------------------------------------

/// A demo server (Tessera and the demo shop), a chromedriver, room for
/// profiles. Dropped in this order: browsers, server, then their directory.
struct Setup {
    driver: Driver,
    /// `None` only while a test has stopped it.
    server: Option<Server>,
    base: String,
    demo: DemoLogins,
    registry: Value,
    dir: tempfile::TempDir,
}

impl Setup {
    /// `serve --demo` plus `extra`.
    async fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let args: Vec<&str> = ["--demo"].iter().chain(extra).copied().collect();
        let server = Server::start_with(&data, &args);
        let demo = server.demo.clone().expect("the demo logins");
        let registry = cookie_registry(&data);
        let driver = Driver::start().await;
        Self { base: server.base.clone(), dir, server: Some(server), demo, registry, driver }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn shop(&self, path: &str) -> String {
        format!("{}{path}", self.demo.shop)
    }

    fn profile(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("profile-{}", name.replace(' ', "-")))
    }

    async fn browser(&self, name: &str, options: Options) -> Client {
        self.driver.open(&self.profile(name), options).await
    }

    /// Moves the server's clock (`--test-clock`).
    async fn advance_clock(&self, seconds: i64) {
        common::advance_clock(&self.base, seconds).await;
    }

    /// What the manifest says (fetched as the shop would, without a browser).
    async fn manifest(&self) -> Value {
        reqwest::Client::new()
            .get(self.url(&format!("/messenger/manifest?site={SITE}")))
            .header("origin", &self.demo.shop)
            .send()
            .await
            .expect("the manifest")
            .json()
            .await
            .expect("the manifest is JSON")
    }
}

// ---------------------------------------------------------------------------
// Scripts in the Messenger frame
// ---------------------------------------------------------------------------

/// Runs `script` inside the Messenger frame (the page's only iframe);
/// `Null` when there is no frame document to run it in.
async fn in_frame(client: &Client, script: &str) -> Value {
    client.enter_parent_frame().await.ok();
    if client.enter_frame(0).await.is_err() {
        return Value::Null;
    }
    let out = client.execute(script, vec![]).await.unwrap_or(Value::Null);
    client.enter_parent_frame().await.ok();
    out
}

// ---------------------------------------------------------------------------
// The visitor's side: the tag and the Messenger frame
// ---------------------------------------------------------------------------

/// One message in a log (the Messenger's or the console's).
#[derive(Debug)]
struct Shown {
    author: String,
    body: String,
    pending: bool,
}

const READ_LOG: &str = "return Array.from(document.querySelectorAll('.log .msg')).map((m) => ({
    author: ['visitor', 'agent', 'system'].find((c) => m.classList.contains(c)) || '',
    body: (m.querySelector('.body') || m).textContent,
    pending: m.classList.contains('pending'),
}));";

fn shown(value: &Value) -> Vec<Shown> {
    value
        .as_array()
        .map(|list| {
            list.iter()
                .map(|m| Shown {
                    author: m["author"].as_str().unwrap_or_default().to_owned(),
                    body: m["body"].as_str().unwrap_or_default().to_owned(),
                    pending: m["pending"].as_bool().unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The messages the Messenger frame shows (read from the DOM, shown or not).
async fn messenger_log(client: &Client) -> Vec<Shown> {
    shown(&in_frame(client, READ_LOG).await)
}

/// What the visitor and the agent said, in order (without system notes
/// such as "Alex Agent joined the conversation.").
fn said(log: &[Shown]) -> Vec<&str> {
    log.iter().filter(|m| m.author != "system").map(|m| m.body.as_str()).collect()
}

/// How often `body` appears in `log` (pending copies included).
fn count(log: &[Shown], body: &str) -> usize {
    log.iter().filter(|m| m.body == body).count()
}

/// Every one of `bodies` is in `log`, stored (no longer "Sending…").
fn delivered(log: &[Shown], bodies: &[&str]) -> bool {
    bodies.iter().all(|b| log.iter().any(|m| m.body == *b && !m.pending))
}

async fn launcher_shown(client: &Client) -> bool {
    client.enter_parent_frame().await.ok();
    match client.find(Locator::XPath(LAUNCHER)).await {
        Ok(button) => button.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// The frame said `ready`: the tag shows its launcher only then.
async fn wait_ready(client: &Client) {
    eventually("the Messenger's launcher (the frame said ready)", || launcher_shown(client)).await;
}

/// Opens the chat window unless it is open, clicking the launcher as a
/// person does: press, hold, release.
///
/// Not WebDriver's element click: chromedriver sends the press and the
/// release at once, and the launcher's handler moves focus into the
/// Messenger frame (another process) while Chromium is still handling them.
/// Now and then (under load) Chromium then keeps sending keys to the shop
/// page, while the frame believes it has focus (`document.hasFocus()`, the
/// caret in its box): every key typed, even after a click into the box, is
/// lost. A press held like a person's never did that.
async fn open_messenger(client: &Client) {
    wait_ready(client).await;
    let launcher = client.find(Locator::XPath(LAUNCHER)).await.expect("the launcher");
    if launcher.attr("aria-expanded").await.expect("aria-expanded").as_deref() != Some("true") {
        let click = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement { element: launcher, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .pause(Duration::from_millis(120))
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        client.perform_actions(click).await.expect("open the chat");
    }
}

/// Types `text` into the Messenger and sends it.
async fn messenger_send(client: &Client, text: &str) {
    messenger_send_as(client, None, text).await;
}

/// Sends `text`, first filling in the name a new conversation asks for.
/// Checks the keys arrived and the form was submitted (the Messenger empties
/// the box as it takes the message), so a lost message is the app's doing.
async fn messenger_send_as(client: &Client, name: Option<&str>, text: &str) {
    open_messenger(client).await;
    client.enter_frame(0).await.expect("the Messenger frame");
    if let Some(name) = name {
        type_into(client, "#ts-name", name).await;
    }
    let value = || async { js(client, "return document.getElementById('ts-body').value", vec![]).await };
    type_into(client, "#ts-body", text).await;
    let typed = value().await;
    if typed != json!(text) {
        // Focused by its own account yet empty: the keys went elsewhere (see `open_messenger`).
        let focus =
            js(client, "return { hasFocus: document.hasFocus(), active: document.activeElement.id }", vec![]).await;
        panic!("typed {text:?} into the Messenger, whose box holds {typed}; the frame's focus: {focus}");
    }
    click(client, Locator::Css("form.compose button[type=submit]")).await;
    eventually("the Messenger to take the message", || async { value().await == json!("") }).await;
    client.enter_parent_frame().await.expect("back to the page");
}

/// Waits until the Messenger's socket is live (no "Connecting…" or
/// "Reconnecting…" line), so what the page says next is the only change.
async fn wait_live(client: &Client) {
    eventually("the Messenger's socket", || async {
        in_frame(client, "const s = document.querySelector('.state'); return !!s && !/onnect/.test(s.textContent)")
            .await
            == json!(true)
    })
    .await;
}

/// Waits until the Messenger shows every one of `bodies` as stored.
async fn wait_delivered(client: &Client, bodies: &[&str]) {
    let start = Instant::now();
    loop {
        let log = messenger_log(client).await;
        if delivered(&log, bodies) {
            return;
        }
        if start.elapsed() > PATIENCE {
            let status = messenger_status(client).await;
            panic!(
                "waited {PATIENCE:?} in vain for {bodies:?} in the Messenger, which shows {log:#?}; status {status:?}"
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The text of the Messenger's status line and notice.
async fn messenger_status(client: &Client) -> String {
    let v = in_frame(
        client,
        "return [document.querySelector('.state'), document.querySelector('.notice')]
        .map((e) => (e && !e.hidden ? e.textContent : '')).join(' | ')",
    )
    .await;
    v.as_str().unwrap_or_default().to_owned()
}

/// The `src` of the tag's iframe.
/// The Messenger iframe's `src`, once the tag (loaded `async`) has made it.
async fn frame_src(client: &Client) -> String {
    client.enter_parent_frame().await.ok();
    let script = "const f = document.querySelector('iframe[title=Messenger]'); return f ? f.src : null";
    let started = std::time::Instant::now();
    loop {
        let v = js(client, script, vec![]).await;
        match v.as_str() {
            Some(src) if !src.is_empty() => return src.to_owned(),
            _ if started.elapsed() > PATIENCE => return String::new(),
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// The tag's cached frame URL (`ts_loader_url_1001` on the shop).
async fn loader_cookie(client: &Client) -> Option<String> {
    let jar = client.get_all_cookies().await.expect("cookies");
    jar.iter().find(|c| c.name() == format!("ts_loader_url_{SITE}")).map(|c| c.value().to_owned())
}

/// Overwrites the tag's cookies on the current shop page, as any script
/// of the customer's site could: `url` learnt just now.
async fn set_loader_cookie(client: &Client, url: &str) {
    js(
        client,
        "const tail = '; Path=/; SameSite=Lax; Max-Age=604800';
         document.cookie = 'ts_loader_url_' + arguments[1] + '=' + arguments[0] + tail;
         document.cookie = 'ts_loader_time_' + arguments[1] + '=' + ((Date.now() / 1000) | 0) + tail;",
        vec![json!(url), json!(SITE)],
    )
    .await;
}

/// From now on every page of this tab tells the tag "consent given" before
/// the tag runs, as a consent banner that remembers the visitor's choice does.
async fn page_remembers_consent(client: &Client) {
    let source = "window.tessera = window.tessera || []; window.tessera.push(['consent', true]);";
    cdp(client, "Page.addScriptToEvaluateOnNewDocument", json!({ "source": source })).await;
}

fn manifest_requests(urls: &[String]) -> usize {
    urls.iter().filter(|u| u.contains("/messenger/manifest")).count()
}

/// `frame_url` as the tag loads it on `page_origin`.
fn framed(frame_url: &str, page_origin: &str) -> String {
    let host = page_origin.replace(':', "%3A").replace('/', "%2F");
    format!("{frame_url}&host={host}")
}

// ---------------------------------------------------------------------------
// Timing and size
// ---------------------------------------------------------------------------

/// Notes, on every new document of the tab, when the frame first says
/// `ready` (`window.__tsReady`, in the page's `performance.now()`).
async fn watch_ready(client: &Client) {
    let source = "addEventListener('message', (e) => {
        if (e.data && e.data.ts === 1 && e.data.type === 'ready' && window.__tsReady === undefined)
            window.__tsReady = performance.now();
    });";
    cdp(client, "Page.addScriptToEvaluateOnNewDocument", json!({ "source": source })).await;
}

/// Milestones of the current page load, in ms since its navigation started.
async fn load_timing(client: &Client) -> String {
    client.enter_parent_frame().await.ok();
    let page = js(
        client,
        "const r = performance.getEntriesByType('resource');
         const end = (re) => { const e = r.find((e) => re.test(e.name)); return e ? Math.round(e.responseEnd) : null; };
         const nav = performance.getEntriesByType('navigation')[0];
         return { origin: performance.timeOrigin, ready: window.__tsReady == null ? null : Math.round(window.__tsReady),
                  load: Math.round(nav.loadEventEnd), tag: end(/\\/tag\\.js/),
                  manifest: end(/\\/messenger\\/manifest/) };",
        vec![],
    )
    .await;
    let frame = in_frame(
        client,
        "const e = performance.getEntriesByType('resource').find((e) => /\\/messenger\\.[^/]*js/.test(e.name));
         return { origin: performance.timeOrigin, js: e ? e.responseEnd : null };",
    )
    .await;
    let js_end = match (frame["js"].as_f64(), frame["origin"].as_f64(), page["origin"].as_f64()) {
        (Some(end), Some(theirs), Some(ours)) => format!("{:.0}", theirs + end - ours),
        _ => "?".to_owned(),
    };
    format!(
        "tag.js {} ms, manifest {} ms, messenger.js {js_end} ms, page load {} ms, ready {} ms",
        page["tag"], page["manifest"], page["load"], page["ready"]
    )
}

/// gzip -9 size of `bytes`.
fn gzipped(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut gzip = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    gzip.stdin.take().expect("stdin").write_all(bytes).expect("to gzip");
    gzip.wait_with_output().expect("gzip output").stdout.len()
}

/// Prints what a visitor downloads: the loader, the frame page and its
/// script and style, as served (raw and gzip -9).
async fn print_asset_sizes(s: &Setup) {
    let http = reqwest::Client::new();
    let fetch = |url: String| {
        let http = http.clone();
        async move { http.get(&url).send().await.expect("an asset").bytes().await.expect("its bytes").to_vec() }
    };
    let manifest = s.manifest().await;
    let frame_url = manifest["frame_url"].as_str().expect("frame_url").to_owned();
    let frame = fetch(framed(&frame_url, &s.demo.shop)).await;
    let page = String::from_utf8_lossy(&frame).into_owned();
    let attr = |name: &str| {
        let at =
            page.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("{name} in the frame page")) + name.len() + 2;
        page[at..at + page[at..].find('"').expect("end of the attribute")].to_owned()
    };
    let (js_path, css_path) = (attr("src"), attr("href"));
    let tag = fetch(s.url("/tag.js")).await;
    let js_bytes = fetch(s.url(&js_path)).await;
    let css = fetch(s.url(&css_path)).await;
    let both = [js_bytes.as_slice(), css.as_slice()].concat();
    eprintln!("sizes (raw / gzip -9 bytes):");
    eprintln!("  tag.js              {:>6} / {:>5}", tag.len(), gzipped(&tag));
    eprintln!("  frame page          {:>6} / {:>5}", frame.len(), gzipped(&frame));
    eprintln!("  {js_path:<19} {:>6} / {:>5}", js_bytes.len(), gzipped(&js_bytes));
    eprintln!("  {css_path:<19} {:>6} / {:>5}", css.len(), gzipped(&css));
    eprintln!("  messenger js + css  {:>6} / {:>5}", both.len(), gzipped(&both));
}

// ---------------------------------------------------------------------------
// The agent's side: the console
// ---------------------------------------------------------------------------

async fn agent_console(s: &Setup, agent: &Client) {
    visit(agent, &s.url("/agent/login")).await;
    for (css, value) in
        [("#site_id", s.demo.site_id.as_str()), ("#email", &s.demo.agent_email), ("#password", &s.demo.agent_password)]
    {
        let field = agent.wait().at_most(PATIENCE).for_element(Locator::Css(css)).await.expect("login field");
        field.clear().await.ok();
        field.send_keys(value).await.expect("type");
    }
    click(agent, Locator::Css("form.stack button[type=submit]")).await;
    eventually("the agent's login", || async { agent.current_url().await.is_ok_and(|u| u.path() == "/agent/account") })
        .await;
    visit(agent, &s.url("/agent/console")).await;
    eventually("the console's socket", || async { console_connection(agent).await.is_empty() }).await;
}

/// The console's connection line: empty when live.
async fn console_connection(agent: &Client) -> String {
    let v =
        js(agent, "const c = document.querySelector('.conn'); return c ? c.textContent : 'no console'", vec![]).await;
    v.as_str().unwrap_or_default().to_owned()
}

/// Opens the conversation whose queue entry names `visitor` (or the first).
async fn agent_open(agent: &Client, visitor: Option<&str>) {
    let entry = match visitor {
        Some(name) => format!("//nav[contains(@class,'queue')]//button[.//span[@class='name'][contains(., '{name}')]]"),
        None => "//nav[contains(@class,'queue')]//button[contains(@class,'entry')]".to_owned(),
    };
    click(agent, Locator::XPath(&entry)).await;
    eventually("the open conversation", || async {
        js(agent, "return !document.querySelector('#reply-body').disabled", vec![]).await == json!(true)
    })
    .await;
}

async fn console_log(agent: &Client) -> Vec<Shown> {
    shown(&js(agent, READ_LOG, vec![]).await)
}

async fn agent_reply(agent: &Client, text: &str) {
    type_into(agent, "#reply-body", text).await;
    click(agent, Locator::XPath("//form[contains(@class,'reply')]//button[normalize-space()='Send']")).await;
}

async fn wait_in_console(agent: &Client, bodies: &[&str]) {
    eventually(&format!("{bodies:?} stored in the console"), || async { delivered(&console_log(agent).await, bodies) })
        .await;
}

// ---------------------------------------------------------------------------
// Identity tokens, as a customer's backend signs them
// ---------------------------------------------------------------------------

/// An HS256 JWT with the claims the admin page documents.
fn identity_token(secret: &[u8], sub: &str, name: &str, email: &str) -> String {
    use hmac::Mac;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() + 600;
    let header = b64(json!({ "alg": "HS256", "typ": "JWT" }).to_string().as_bytes());
    let claims = b64(json!({ "sub": sub, "name": name, "email": email, "exp": exp }).to_string().as_bytes());
    let input = format!("{header}.{claims}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_visitor_on_a_customer_site_chats_with_an_agent_live_and_the_chat_survives_navigation() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;
    let visitor = s.browser("visitor", Options::default()).await;
    let agent = s.browser("agent", Options::default()).await;

    // The agent opens the console first, so the visitor sees agents available.
    agent_console(&s, &agent).await;

    visit(&visitor, &s.shop("/")).await;
    click(&visitor, Locator::Css("#consent-yes")).await;
    messenger_send(&visitor, "Do you ship to Denmark?").await;
    wait_delivered(&visitor, &["Do you ship to Denmark?"]).await;

    // The console's queue shows the new chat without a reload.
    agent_open(&agent, None).await;
    wait_in_console(&agent, &["Do you ship to Denmark?"]).await;
    let profile = js(
        &agent,
        "const a = document.querySelector('a.profile'); return a && !a.hidden ? a.getAttribute('href') : null",
        vec![],
    )
    .await;
    assert!(
        profile.as_str().is_some_and(|h| h.starts_with("/agent/visitors/")),
        "the visitor's profile beside the chat: {profile}"
    );
    agent_reply(&agent, "Yes, in two days.").await;
    wait_delivered(&visitor, &["Yes, in two days."]).await;

    // Another page of the shop: the chat is still open, with its history.
    visit(&visitor, &s.shop("/pricing")).await;
    wait_delivered(&visitor, &["Do you ship to Denmark?", "Yes, in two days."]).await;
    let expanded = visitor.find(Locator::XPath(LAUNCHER)).await.expect("launcher").attr("aria-expanded").await;
    assert_eq!(expanded.expect("aria-expanded").as_deref(), Some("true"), "the chat stays open across pages");
    assert_jar_matches_registry(&visitor, &s.registry).await;
    assert_jar_matches_registry(&agent, &s.registry).await;
    // The shop page's storage and the Messenger frame's hold only declared keys.
    assert_storage_matches_registry(&visitor, &s.registry, "the shop page").await;
    visitor.enter_frame(0).await.expect("the Messenger frame");
    assert_storage_matches_registry(&visitor, &s.registry, "the Messenger frame").await;
    visitor.enter_parent_frame().await.expect("back to the page");
    visitor.close().await.ok();
    agent.close().await.ok();
}

#[tokio::test]
async fn the_loader_fetches_the_manifest_once_then_loads_the_frame_from_its_cached_url() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;
    print_asset_sizes(&s).await;
    let manifest = s.manifest().await;
    let frame_url = manifest["frame_url"].as_str().expect("frame_url").to_owned();
    let version = manifest["version"].as_str().expect("version").to_owned();
    let client = s.browser("loader", Options { performance_log: true, ..Options::default() }).await;
    watch_ready(&client).await;
    requested_urls(&client).await;

    // First page: nothing cached, so the manifest; consent lets the tag keep its URL.
    visit(&client, &s.shop("/")).await;
    click(&client, Locator::Css("#consent-yes")).await;
    wait_ready(&client).await;
    let first = load_timing(&client).await;
    let requests = requested_urls(&client).await;
    assert_eq!(manifest_requests(&requests), 1, "one manifest request on the first page: {requests:#?}");
    eventually("the loader's cookie", || async { loader_cookie(&client).await.is_some() }).await;
    assert_eq!(loader_cookie(&client).await.as_deref(), Some(frame_url.as_str()), "the cookie holds the frame URL");
    assert_eq!(frame_src(&client).await, framed(&frame_url, &s.demo.shop));

    // Second page: the frame straight from the cookie, no manifest.
    visit(&client, &s.shop("/pricing")).await;
    wait_ready(&client).await;
    let second = load_timing(&client).await;
    let requests = requested_urls(&client).await;
    assert_eq!(manifest_requests(&requests), 0, "no manifest request with a fresh cached URL: {requests:#?}");
    assert_eq!(frame_src(&client).await, framed(&frame_url, &s.demo.shop), "the frame comes from the cookie");
    messenger_send(&client, "Sent from a cached frame").await;
    wait_delivered(&client, &["Sent from a cached frame"]).await;
    eprintln!("first load (manifest):   {first}");
    eprintln!("second load (cached):    {second}");

    // A bogus version on Tessera's origin: the server serves the current
    // frame whatever `v` says, so it says ready and the tag keeps using it.
    let bogus = format!("{}/messenger/frame?site={SITE}&v=bogus", s.base);
    set_loader_cookie(&client, &bogus).await;
    visit(&client, &s.shop("/contact")).await;
    wait_ready(&client).await;
    let requests = requested_urls(&client).await;
    assert_eq!(frame_src(&client).await, framed(&bogus, &s.demo.shop), "a URL on Tessera's origin is tried");
    assert_eq!(manifest_requests(&requests), 0, "a frame that says ready is not replaced: {requests:#?}");
    wait_delivered(&client, &["Sent from a cached frame"]).await;

    // Another host (any script on the shop can write the cookie): never
    // loaded; the manifest at once.
    let foreign = format!("{}/messenger/frame?site={SITE}&v={version}", s.demo.shop);
    set_loader_cookie(&client, &foreign).await;
    visit(&client, &s.shop("/")).await;
    wait_ready(&client).await;
    let requests = requested_urls(&client).await;
    assert_eq!(manifest_requests(&requests), 1, "a foreign URL sends the loader to the manifest: {requests:#?}");
    assert_eq!(frame_src(&client).await, framed(&frame_url, &s.demo.shop), "the manifest's frame, not the cookie's");
    assert!(!requests.iter().any(|u| u.starts_with(&foreign)), "the foreign URL was never requested: {requests:#?}");
    wait_delivered(&client, &["Sent from a cached frame"]).await;

    // Tessera's origin but a frame that never says ready (a 400): after 5 s
    // the manifest, its frame, and the chat goes on.
    let broken = format!("{}/messenger/frame?site=none&v={version}", s.base);
    set_loader_cookie(&client, &broken).await;
    let started = Instant::now();
    visit(&client, &s.shop("/pricing")).await;
    assert_eq!(frame_src(&client).await, framed(&broken, &s.demo.shop), "the cached URL is tried first");
    wait_ready(&client).await;
    let waited = started.elapsed();
    let requests = requested_urls(&client).await;
    assert_eq!(manifest_requests(&requests), 1, "a frame that never says ready sends the loader to the manifest");
    assert!(waited >= Duration::from_millis(4_500), "the loader gave the broken frame 5 s, not {waited:?}");
    assert_eq!(frame_src(&client).await, framed(&frame_url, &s.demo.shop), "then the manifest's frame");
    messenger_send(&client, "Sent after the fallback").await;
    wait_delivered(&client, &["Sent from a cached frame", "Sent after the fallback"]).await;
    eprintln!("broken cached URL: ready after {waited:?}");
    // The page says consent again: the tag writes the URL it learnt.
    click(&client, Locator::Css("#consent-yes")).await;
    eventually("the repaired cookie", || async { loader_cookie(&client).await.as_deref() == Some(frame_url.as_str()) })
        .await;
    assert_jar_matches_registry(&client, &s.registry).await;
    client.close().await.ok();
}

/// Two guests who both said yes on the shop: Eve's page said so before
/// the tag ran (a consent banner remembering an earlier answer), Lou clicked
/// the demo shop's button after the page (and the chat) had loaded. A week
/// later each page says yes before the tag, as remembering banners do.
#[tokio::test]
async fn a_guest_comes_back_a_week_later_and_sees_the_whole_conversation() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&["--test-clock"]).await;
    let agent = s.browser("agent", Options::default()).await;
    agent_console(&s, &agent).await;
    let guests = [("Early Eve", true), ("Late Lou", false)];
    let mut browsers = Vec::new();
    for (name, consent_first) in guests {
        let guest = s.browser(name, Options::default()).await;
        if consent_first {
            page_remembers_consent(&guest).await;
        }
        visit(&guest, &s.shop("/")).await;
        if !consent_first {
            wait_ready(&guest).await;
            click(&guest, Locator::Css("#consent-yes")).await;
        }
        let (question, answer) = (format!("{name}: is the green tea organic?"), format!("Yes, {name}, all of it."));
        messenger_send_as(&guest, Some(name), &question).await;
        wait_delivered(&guest, &[&question]).await;
        agent_open(&agent, Some(name)).await;
        wait_in_console(&agent, &[&question]).await;
        agent_reply(&agent, &answer).await;
        wait_delivered(&guest, &[&question, &answer]).await;
        let cookies = every_cookie(&guest).await;
        let kept: Vec<String> = messenger_cookies(&cookies)
            .iter()
            .map(|c| {
                format!(
                    "{} ({})",
                    c["name"].as_str().unwrap_or_default(),
                    if c["session"] == json!(true) { "session" } else { "persistent" }
                )
            })
            .collect();
        browsers.push((name, consent_first, guest, [question, answer], kept));
    }
    assert_jar_matches_registry(&agent, &s.registry).await;

    // The browsers are closed; a week passes; the guests come back.
    s.advance_clock(WEEK).await;
    let mut lost = Vec::new();
    for (name, consent_first, guest, conversation, kept) in browsers {
        let guest = s.driver.restart(guest, &s.profile(name), Options::default()).await;
        page_remembers_consent(&guest).await;
        visit(&guest, &s.shop("/")).await;
        open_messenger(&guest).await;
        let start = Instant::now();
        let bodies: Vec<&str> = conversation.iter().map(String::as_str).collect();
        let log = loop {
            let log = messenger_log(&guest).await;
            if delivered(&log, &bodies) || start.elapsed() > Duration::from_secs(5) {
                break log;
            }
            tokio::time::sleep(POLL).await;
        };
        let texts = said(&log);
        if texts != bodies {
            let when = if consent_first { "before the tag ran" } else { "by clicking after the page loaded" };
            lost.push(format!("{name} (consent given {when}; the frame's cookies were {kept:?}) sees {texts:?}"));
        }
        assert_jar_matches_registry(&guest, &s.registry).await;
        guest.close().await.ok();
    }
    agent.close().await.ok();
    assert!(lost.is_empty(), "a week later the whole conversation, once, for each guest: {lost:#?}");
}

#[tokio::test]
async fn two_tabs_show_one_conversation_and_a_message_in_one_appears_in_the_other() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;
    let client = s.browser("tabs", Options::default()).await;
    visit(&client, &s.shop("/")).await;
    messenger_send(&client, "Hello from the first tab").await;
    wait_delivered(&client, &["Hello from the first tab"]).await;
    let first = client.window().await.expect("the first tab");

    let second = client.new_window(true).await.expect("a second tab").handle;
    client.switch_to_window(second.clone()).await.expect("to the second tab");
    visit(&client, &s.shop("/pricing")).await;
    wait_delivered(&client, &["Hello from the first tab"]).await;
    messenger_send(&client, "Hello from the second tab").await;
    wait_delivered(&client, &["Hello from the second tab"]).await;

    client.switch_to_window(first.clone()).await.expect("to the first tab");
    let took = eventually_within("the second tab's message in the first", Duration::from_secs(2), || async {
        delivered(&messenger_log(&client).await, &["Hello from the second tab"])
    })
    .await;
    eprintln!("second tab → first tab: {took:?}");
    messenger_send(&client, "And back from the first tab").await;
    wait_delivered(&client, &["And back from the first tab"]).await;
    client.switch_to_window(second).await.expect("to the second tab");
    let took = eventually_within("the first tab's reply in the second", Duration::from_secs(2), || async {
        delivered(&messenger_log(&client).await, &["And back from the first tab"])
    })
    .await;
    eprintln!("first tab → second tab: {took:?}");

    let all = ["Hello from the first tab", "Hello from the second tab", "And back from the first tab"];
    for tab in ["second", "first"] {
        assert_eq!(said(&messenger_log(&client).await), all, "the {tab} tab, in order, once each");
        assert_jar_matches_registry(&client, &s.registry).await;
        client.switch_to_window(first.clone()).await.expect("to the first tab");
    }
    client.close().await.ok();
}

#[tokio::test]
async fn after_a_server_restart_the_messenger_reconnects_and_nothing_is_lost_or_repeated() {
    if !browser_available() {
        return;
    }
    let mut s = Setup::start(&[]).await;
    let agent = s.browser("agent", Options::default()).await;
    agent_console(&s, &agent).await;
    let visitor = s.browser("visitor", Options::default()).await;
    visit(&visitor, &s.shop("/")).await;
    click(&visitor, Locator::Css("#consent-yes")).await;
    messenger_send(&visitor, "Before the restart").await;
    wait_delivered(&visitor, &["Before the restart"]).await;
    agent_open(&agent, None).await;
    agent_reply(&agent, "Answered before the restart").await;
    wait_delivered(&visitor, &["Answered before the restart"]).await;

    // The server goes away; both sides notice and keep what is typed meanwhile.
    let bind = s.base.trim_start_matches("http://").to_owned();
    s.server.take().expect("the server").stop();
    eventually("the Messenger noticing", || async { messenger_status(&visitor).await.contains("Reconnecting") }).await;
    eventually("the console noticing", || async { console_connection(&agent).await.contains("Reconnecting") }).await;
    messenger_send(&visitor, "Typed while the server was down").await;
    agent_reply(&agent, "Replied while the server was down").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pending = |log: Vec<Shown>, body: &str| log.iter().any(|m| m.body == body && m.pending);
    assert!(pending(messenger_log(&visitor).await, "Typed while the server was down"), "kept as Sending…");
    assert!(pending(console_log(&agent).await, "Replied while the server was down"), "kept as Sending…");

    // Same data, same address (without --demo, which would give the demo
    // agent a new password and so end its session). The pages stay open.
    s.server = Some(Server::start_at(&s.data(), &bind, &[]));
    let everything = [
        "Before the restart",
        "Answered before the restart",
        "Typed while the server was down",
        "Replied while the server was down",
    ];
    wait_delivered(&visitor, &everything).await;
    wait_in_console(&agent, &everything).await;
    agent_reply(&agent, "Live again").await;
    messenger_send(&visitor, "Thanks, got it").await;
    let everything = [&everything[..], &["Live again", "Thanks, got it"]].concat();
    wait_delivered(&visitor, &everything).await;
    wait_in_console(&agent, &everything).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (frame, console) = (messenger_log(&visitor).await, console_log(&agent).await);
    for text in &everything {
        assert_eq!(count(&frame, text), 1, "{text:?} once in the Messenger: {frame:#?}");
        assert_eq!(count(&console, text), 1, "{text:?} once in the console: {console:#?}");
    }
    assert_jar_matches_registry(&visitor, &s.registry).await;
    assert_jar_matches_registry(&agent, &s.registry).await;
    // The shop page's storage and the Messenger frame's hold only declared keys.
    assert_storage_matches_registry(&visitor, &s.registry, "the shop page").await;
    visitor.enter_frame(0).await.expect("the Messenger frame");
    assert_storage_matches_registry(&visitor, &s.registry, "the Messenger frame").await;
    visitor.enter_parent_frame().await.expect("back to the page");
    visitor.close().await.ok();
    agent.close().await.ok();
}

/// Sends `first` on the shop's home page, then `second` on another page,
/// and checks both are there once, in one conversation.
async fn chat_across_a_page_change(s: &Setup, client: &Client, first: &str, second: &str) {
    visit(client, &s.shop("/")).await;
    messenger_send(client, first).await;
    wait_delivered(client, &[first]).await;
    visit(client, &s.shop("/pricing")).await;
    wait_delivered(client, &[first]).await;
    messenger_send(client, second).await;
    wait_delivered(client, &[first, second]).await;
    assert_eq!(said(&messenger_log(client).await), [first, second], "one conversation, once each");
}

fn messenger_cookies(cookies: &[Value]) -> Vec<&Value> {
    cookies.iter().filter(|c| c["name"].as_str().is_some_and(|n| n.starts_with("__Host-ts_mv"))).collect()
}

#[tokio::test]
async fn with_every_cookie_and_storage_blocked_the_chat_still_works_on_the_page() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;
    let client = s.browser("nothing-at-all", Options { block_all_site_data: true, ..Options::default() }).await;
    visit(&client, &s.shop("/")).await;
    let page_storage =
        js(&client, "try { sessionStorage.length; return 'usable'; } catch { return 'blocked'; }", vec![]).await;
    assert_eq!(page_storage, json!("blocked"), "the setting is effective on the page");
    messenger_send(&client, "No storage anywhere").await;
    wait_delivered(&client, &["No storage anywhere"]).await;
    let frame_storage =
        in_frame(&client, "try { sessionStorage.length; return 'usable'; } catch { return 'blocked'; }").await;
    assert_eq!(frame_storage, json!("blocked"), "and in the frame");
    assert!(every_cookie(&client).await.is_empty(), "nothing was stored");
    client.close().await.ok();
}

#[tokio::test]
async fn with_third_party_cookies_blocked_the_chat_still_works_and_survives_navigation() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;

    // The user setting alone: Chromium still keeps partitioned cookies, and
    // the frame's are partitioned (kept for the shop only).
    let blocked = Options { block_third_party_cookies: true, ..Options::default() };
    let chips = s.browser("third-party-blocked", blocked).await;
    chat_across_a_page_change(&s, &chips, "Third-party cookies are off", "Still one conversation").await;
    let cookies = every_cookie(&chips).await;
    let kept = messenger_cookies(&cookies);
    assert_eq!(kept.len(), 1, "the frame's partitioned cookie: {cookies:#?}");
    assert_eq!(kept[0]["partitionKey"]["topLevelSite"], json!("http://localhost"), "kept for the shop only");

    // Tessera's host may keep nothing at all (no cookie, partitioned or
    // not, and no storage): the frame has the page keep its visitor token.
    let nothing = s.browser("nothing-stored", Options { block_site_data_of: Some("127.0.0.1"), ..blocked }).await;
    chat_across_a_page_change(&s, &nothing, "Nothing may be stored", "Yet the chat goes on").await;
    let cookies = every_cookie(&nothing).await;
    assert!(messenger_cookies(&cookies).is_empty(), "the block is effective: {cookies:#?}");
    let storage =
        in_frame(&nothing, "try { sessionStorage.length; return 'usable'; } catch { return 'blocked'; }").await;
    assert_eq!(storage, json!("blocked"), "the frame's own storage is blocked too");
    let token =
        js(&nothing, "return sessionStorage.getItem(arguments[0])", vec![json!(format!("ts_frame_{SITE}_visitor"))])
            .await;
    assert!(token.as_str().is_some_and(|t| !t.is_empty()), "the page keeps the frame's visitor token: {token}");

    assert_jar_matches_registry(&chips, &s.registry).await;
    assert_jar_matches_registry(&nothing, &s.registry).await;
    chips.close().await.ok();
    nothing.close().await.ok();
}

/// The admin makes the site's identity secret (shown once); returns the
/// admin's browser and the secret.
async fn make_identity_secret(s: &Setup) -> (Client, String) {
    let admin = s.browser("admin", Options::default()).await;
    visit(&admin, &s.url("/admin/login")).await;
    type_into(&admin, "#email", &s.demo.admin_email).await;
    type_into(&admin, "#password", &s.demo.admin_password).await;
    click(&admin, Locator::Css("form.stack button[type=submit]")).await;
    eventually("the admin's login", || async { admin.current_url().await.is_ok_and(|u| u.path() == "/admin/account") })
        .await;
    visit(&admin, &s.url(&format!("/admin/sites/{SITE}"))).await;
    click(&admin, Locator::Css("#rotate-secret")).await;
    let secret = admin.wait().at_most(PATIENCE).for_element(Locator::Css("#secret")).await.expect("the new secret");
    let secret = secret.prop("value").await.expect("its value").expect("a value");
    assert!(secret.len() >= 32, "a long secret: {secret:?}");
    (admin, secret)
}

#[tokio::test]
async fn a_verified_user_sees_their_conversations_on_another_device_and_a_forged_identity_is_refused() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;

    let (admin, secret) = make_identity_secret(&s).await;

    let vera = identity_token(secret.as_bytes(), "cust-42", "Vera Verified", "vera@example.com");
    let forged = identity_token(b"a guess at the site's secret", "cust-42", "Vera Verified", "vera@example.com");
    let agent = s.browser("agent", Options::default()).await;
    agent_console(&s, &agent).await;
    // The page says who is logged in once the chat is up (one change for
    // the frame; see the next test for consent and identity together).
    let say_who = "window.tessera.push(['identity', arguments[0]])";

    // On her laptop: logged into the shop, so the page hands the tag her token.
    let laptop = s.browser("laptop", Options::default()).await;
    visit(&laptop, &s.shop("/")).await;
    wait_live(&laptop).await;
    js(&laptop, say_who, vec![json!(vera)]).await;
    messenger_send(&laptop, "Where is my order 1234?").await;
    wait_delivered(&laptop, &["Where is my order 1234?"]).await;
    agent_open(&agent, None).await;
    wait_in_console(&agent, &["Where is my order 1234?"]).await;
    let badge =
        js(&agent, "return document.querySelector('.queue button[aria-current] .badge')?.textContent", vec![]).await;
    assert_eq!(badge, json!("verified"), "the console marks the conversation as a verified user's");
    agent_reply(&agent, "It ships today, Vera.").await;
    wait_delivered(&laptop, &["It ships today, Vera."]).await;

    // On her phone (another browser, no cookie in common): the same conversation.
    let phone = s.browser("phone", Options::default()).await;
    visit(&phone, &s.shop("/pricing")).await;
    wait_live(&phone).await;
    js(&phone, say_who, vec![json!(vera)]).await;
    open_messenger(&phone).await;
    wait_delivered(&phone, &["Where is my order 1234?", "It ships today, Vera."]).await;
    assert_eq!(said(&messenger_log(&phone).await), ["Where is my order 1234?", "It ships today, Vera."], "once each");

    // Someone else with a token signed by the wrong key: a guest, told so, who sees nothing of hers.
    let stranger = s.browser("stranger", Options::default()).await;
    visit(&stranger, &s.shop("/")).await;
    wait_live(&stranger).await;
    js(&stranger, say_who, vec![json!(forged)]).await;
    open_messenger(&stranger).await;
    eventually("the refusal notice", || async {
        messenger_status(&stranger).await.contains("couldn't confirm your account")
    })
    .await;
    messenger_send(&stranger, "I am Vera, show me her orders").await;
    wait_delivered(&stranger, &["I am Vera, show me her orders"]).await;
    let log = messenger_log(&stranger).await;
    assert_eq!(
        said(&log),
        ["I am Vera, show me her orders"],
        "the forged identity sees only its own message: {log:#?}"
    );
    wait_in_console(&agent, &["Where is my order 1234?", "It ships today, Vera."]).await;
    let console = console_log(&agent).await;
    assert_eq!(said(&console).len(), 2, "the stranger's message is not in Vera's conversation: {console:?}");

    for client in [&admin, &agent, &laptop, &phone, &stranger] {
        assert_jar_matches_registry(client, &s.registry).await;
    }
    // The agent sees who the customer's backend vouched for.
    let names =
        js(&agent, "return [...document.querySelectorAll('.queue .entry .name')].map((e) => e.textContent)", vec![])
            .await;
    assert!(
        names.as_array().is_some_and(|n| n.contains(&json!("Vera Verified"))),
        "the console names the verified user as her identity token does: {names}"
    );
    for client in [admin, agent, laptop, phone, stranger] {
        client.close().await.ok();
    }
}

/// A page that says "consent given" and then who is logged in, in one
/// go, sends the frame two updates: the first renews the guest's session,
/// the second starts the verified user's. Here the guest's answer comes
/// last (the frame's fetch is slowed for it, to fix the order that
/// otherwise depends on the network); it must not turn the verified user
/// back into a guest.
#[tokio::test]
async fn consent_and_identity_given_together_still_chat_as_the_verified_user() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;
    let (admin, secret) = make_identity_secret(&s).await;
    let vera = identity_token(secret.as_bytes(), "cust-77", "Vera Verified", "vera@example.com");
    let agent = s.browser("agent", Options::default()).await;
    agent_console(&s, &agent).await;
    let laptop = s.browser("laptop", Options::default()).await;
    visit(&laptop, &s.shop("/")).await;
    wait_live(&laptop).await;
    let slowed = in_frame(
        &laptop,
        "const fetch = window.fetch;
         window.fetch = async (url, init) => {
             const answer = await fetch(url, init);
             const asked = init && init.body ? JSON.parse(init.body) : {};
             if (String(url).includes('/messenger/session') && asked.identity == null)
                 await new Promise((done) => setTimeout(done, 500));
             return answer;
         };
         return true;",
    )
    .await;
    assert_eq!(slowed, json!(true), "the frame's fetch is wrapped");
    js(&laptop, "window.tessera.push(['consent', true], ['identity', arguments[0]])", vec![json!(vera)]).await;
    // Both answers are in (the slowed one after 0.5 s) and the socket is up again.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    wait_live(&laptop).await;
    messenger_send(&laptop, "Sent as Vera").await;
    wait_delivered(&laptop, &["Sent as Vera"]).await;

    agent_open(&agent, None).await;
    wait_in_console(&agent, &["Sent as Vera"]).await;
    let badge =
        js(&agent, "return document.querySelector('.queue button[aria-current] .badge')?.textContent", vec![]).await;
    for client in [&admin, &agent, &laptop] {
        assert_jar_matches_registry(client, &s.registry).await;
    }
    let claims = in_frame(&laptop, "return document.querySelector('.contact').hidden").await;
    assert_eq!(
        badge,
        json!("verified"),
        "Vera's message went into a verified conversation, not a guest's (the Messenger hides the guest's \
         contact fields, as for a verified user: {claims})"
    );
    for client in [admin, agent, laptop] {
        client.close().await.ok();
    }
}

/// A website that is not among the site's embedding origins, on its own
/// origin (`http://127.0.0.2:PORT`), with three ways of trying.
async fn start_stranger_site(tessera: &str, frame_url: &str, shop: &str) -> String {
    use axum::response::Html;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.expect("a port on 127.0.0.2");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    let tag = format!("<script async src=\"{tessera}/tag.js\" data-site=\"{SITE}\"></script>");
    let page = |head: String, body: String| {
        Html(format!(
            "<!doctype html><html><head><title>Not a customer</title>{head}</head><body><h1>Hi</h1>{body}</body></html>"
        ))
    };
    // 1. The snippet, copied: the manifest gives this origin no CORS grant.
    let plain = page(String::new(), tag.clone());
    // 2. A frame URL planted in the tag's cookie: the frame is asked for with host=this origin.
    let plant = format!(
        "<script>document.cookie = 'ts_loader_url_{SITE}={frame_url}; Path=/';\
         document.cookie = 'ts_loader_time_{SITE}=' + ((Date.now() / 1000) | 0) + '; Path=/';</script>"
    );
    let cached = page(plant, tag);
    // 3. The frame itself, claiming to be on the shop: frame-ancestors refuses.
    let direct =
        page(String::new(), format!("<iframe title=\"Messenger\" src=\"{}\"></iframe>", framed(frame_url, shop)));
    let app = axum::Router::new()
        .route("/", get(move || async move { plain }))
        .route("/cached", get(move || async move { cached }))
        .route("/direct", get(move || async move { direct }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

#[tokio::test]
async fn a_page_not_in_the_allowed_list_cannot_embed_the_messenger() {
    if !browser_available() {
        return;
    }
    let s = Setup::start(&[]).await;
    let manifest = s.manifest().await;
    let frame_url = manifest["frame_url"].as_str().expect("frame_url").to_owned();
    let stranger = start_stranger_site(&s.base, &frame_url, &s.demo.shop).await;

    // What the server says to such a page.
    let http = reqwest::Client::new();
    let res = http
        .get(s.url(&format!("/messenger/manifest?site={SITE}")))
        .header("origin", &stranger)
        .send()
        .await
        .expect("manifest");
    assert!(res.headers().get("access-control-allow-origin").is_none(), "no CORS grant for {stranger}");
    let res = http.get(framed(&frame_url, &stranger)).send().await.expect("frame");
    assert_eq!(res.status(), 403, "no frame for host={stranger}");
    let res = http.get(framed(&frame_url, &s.demo.shop)).send().await.expect("frame");
    let csp = res.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(csp.contains(&format!("frame-ancestors {}", s.demo.shop)), "only the shop may frame it: {csp}");

    let client = s.browser("stranger", Options::default()).await;
    let messenger_in_frame = || async { in_frame(&client, "return !!document.getElementById('messenger')").await };
    let tried = [
        ("/", String::new()),
        ("/cached", framed(&frame_url, &stranger)),
        ("/direct", framed(&frame_url, &s.demo.shop)),
    ];
    for (path, src) in tried {
        visit(&client, &format!("{stranger}{path}")).await;
        // The frame (if any) loaded with the page; the manifest request has had time to fail.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(frame_src(&client).await, src, "{path}: the frame the page asked for");
        assert_ne!(messenger_in_frame().await, json!(true), "{path}: the Messenger rendered on {stranger}");
        assert!(!launcher_shown(&client).await, "{path}: a launcher that would open nothing");
    }
    // The same browser on the shop: the check above can see a Messenger.
    visit(&client, &s.shop("/")).await;
    wait_ready(&client).await;
    assert_eq!(messenger_in_frame().await, json!(true), "on the shop the Messenger renders");
    assert_jar_matches_registry(&client, &s.registry).await;
    client.close().await.ok();
}
