//! Browser behaviour in real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver: the cookies a real browser keeps,
//! "Remember me" across a browser restart, and a real cross-site form post.
//!
//! Without chromedriver these tests print why and pass, so `cargo test` works
//! on a machine without a browser; CI sets `TESSERA_REQUIRE_BROWSER=1` (and
//! installs Chromium), which turns a missing browser into a failure.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{PASSWORD, Server, add_user};
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_available() -> bool {
    let present = Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists();
    if !present {
        assert!(
            std::env::var_os("TESSERA_REQUIRE_BROWSER").is_none(),
            "TESSERA_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        eprintln!("skipped: install Debian's chromium and chromium-driver to run the browser tests");
    }
    present
}

/// A chromedriver on a free port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // Owned by the guard from here on, so it is reaped even if start-up fails.
        let driver = Self { child, url: format!("http://127.0.0.1:{port}") };
        for _ in 0..100 {
            if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not start");
    }

    /// A browser window using `profile` as its user data directory, so a
    /// second window on the same profile is the same browser, restarted.
    async fn open(&self, profile: &Path) -> Client {
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = serde_json::json!({
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        });
        let caps = caps.as_object().cloned().expect("an object");
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn fill(client: &Client, name: &str, value: &str) {
    client.find(Locator::Css(&format!("[name={name}]"))).await.expect(name).send_keys(value).await.expect("type");
}

async fn log_in(client: &Client, base: &str, email: &str, remember: bool) {
    client.goto(&format!("{base}/login")).await.expect("login page");
    fill(client, "email", email).await;
    fill(client, "password", PASSWORD).await;
    if remember {
        client.find(Locator::Css("[name=remember]")).await.expect("checkbox").click().await.expect("tick");
    }
    client.find(Locator::Css("form.stack button[type=submit]")).await.expect("button").click().await.expect("submit");
    wait_for_path(client, "/account").await;
}

async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..100 {
        if client.current_url().await.expect("url").path() == path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never reached {path}; at {}", client.current_url().await.expect("url"));
}

struct Setup {
    _dir: tempfile::TempDir,
    profile: PathBuf,
    server: Server,
    driver: Driver,
}

impl Drop for Setup {
    /// A test that panics never closes its window: kill the browser that uses
    /// this test's profile, so no Chromium outlives the test run.
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            // "--": the pattern starts with dashes and is not an option.
            .arg("--")
            .arg(format!("--user-data-dir={}", self.profile.display()))
            .status();
    }
}

async fn setup(email: &str) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    assert!(add_user(&data, email, "user").status.success());
    let server = Server::start(&data);
    let driver = Driver::start().await;
    Setup { profile: dir.path().join("profile"), _dir: dir, server, driver }
}

#[tokio::test]
async fn chromium_keeps_host_prefixed_secure_http_only_cookies_on_loopback() {
    if !browser_available() {
        return;
    }
    let s = setup("dee@example.com").await;
    let client = s.driver.open(&s.profile).await;
    log_in(&client, &s.server.base, "dee@example.com", true).await;
    let cookies = client.get_all_cookies().await.expect("cookies");
    let find =
        |name: &str| cookies.iter().find(|c| c.name() == name).unwrap_or_else(|| panic!("no {name} in {cookies:?}"));
    let session = find("__Host-ts_portal");
    assert_eq!((session.http_only(), session.secure()), (Some(true), Some(true)));
    assert!(session.expires().is_none(), "the session cookie ends with the browser session");
    let remember = find("__Host-ts_remember_portal");
    assert_eq!((remember.http_only(), remember.secure()), (Some(true), Some(true)));
    assert!(remember.expires().is_some(), "the remember-me cookie is persistent");
    let scripts_see = client.execute("return document.cookie", vec![]).await.expect("script");
    assert_eq!(scripts_see, serde_json::json!(""), "page scripts cannot read any Tessera cookie");
    common::assert_jar_matches_registry(&client, &common::cookie_registry(&s._dir.path().join("data"))).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn remember_me_keeps_the_person_logged_in_across_a_browser_restart() {
    if !browser_available() {
        return;
    }
    let s = setup("eve@example.com").await;
    let client = s.driver.open(&s.profile).await;
    log_in(&client, &s.server.base, "eve@example.com", true).await;
    client.close().await.expect("quit the browser");
    // Chromium writes its cookie store when it exits; give the process a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let client = s.driver.open(&s.profile).await;
    let before: Vec<String> =
        client.get_all_cookies().await.expect("cookies").iter().map(|c| c.name().to_owned()).collect();
    assert!(!before.contains(&"__Host-ts_portal".to_owned()), "the session cookie died with the browser: {before:?}");
    client.goto(&format!("{}/account", s.server.base)).await.expect("account");
    assert_eq!(client.current_url().await.expect("url").path(), "/account", "not sent to the login page");
    assert!(client.source().await.expect("page").contains("eve@example.com"));
    let after = client.get_all_cookies().await.expect("cookies");
    assert!(after.iter().any(|c| c.name() == "__Host-ts_portal"), "a fresh session cookie");
    common::assert_jar_matches_registry(&client, &common::cookie_registry(&s._dir.path().join("data"))).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn without_remember_me_a_browser_restart_logs_the_person_out() {
    if !browser_available() {
        return;
    }
    let s = setup("fay@example.com").await;
    let client = s.driver.open(&s.profile).await;
    log_in(&client, &s.server.base, "fay@example.com", false).await;
    client.close().await.expect("quit the browser");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = s.driver.open(&s.profile).await;
    client.goto(&format!("{}/account", s.server.base)).await.expect("account");
    assert_eq!(client.current_url().await.expect("url").path(), "/login");
    common::assert_jar_matches_registry(&client, &common::cookie_registry(&s._dir.path().join("data"))).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn a_form_posted_from_another_site_cannot_log_the_person_out() {
    if !browser_available() {
        return;
    }
    let s = setup("gus@example.com").await;
    let client = s.driver.open(&s.profile).await;
    log_in(&client, &s.server.base, "gus@example.com", false).await;

    // "localhost" is another site than "127.0.0.1" to the browser.
    let evil = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let evil_port = evil.local_addr().expect("addr").port();
    let target = format!("{}/logout", s.server.base);
    let page = format!(
        "<!doctype html><form id=f method=post action=\"{target}\"></form><script>document.getElementById('f').submit()</script>"
    );
    let app = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(page) }));
    tokio::spawn(async move { axum::serve(evil, app).await });
    client.goto(&format!("http://localhost:{evil_port}/")).await.expect("evil page");
    wait_for_path(&client, "/logout").await;
    assert!(
        client.source().await.expect("page").contains("Cross-site form submissions are not accepted"),
        "refused with a clear message"
    );

    client.goto(&format!("{}/account", s.server.base)).await.expect("account");
    assert_eq!(client.current_url().await.expect("url").path(), "/account", "still logged in");
    common::assert_jar_matches_registry(&client, &common::cookie_registry(&s._dir.path().join("data"))).await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn logging_out_with_the_page_button_ends_the_session() {
    if !browser_available() {
        return;
    }
    let s = setup("hal@example.com").await;
    let client = s.driver.open(&s.profile).await;
    log_in(&client, &s.server.base, "hal@example.com", true).await;
    client.find(Locator::Css("header form button")).await.expect("logout button").click().await.expect("click");
    wait_for_path(&client, "/login").await;
    let names: Vec<String> =
        client.get_all_cookies().await.expect("cookies").iter().map(|c| c.name().to_owned()).collect();
    assert!(!names.iter().any(|n| n.contains("ts_portal")), "session and remember cookies cleared: {names:?}");
    client.goto(&format!("{}/account", s.server.base)).await.expect("account");
    assert_eq!(client.current_url().await.expect("url").path(), "/login");
    common::assert_jar_matches_registry(&client, &common::cookie_registry(&s._dir.path().join("data"))).await;
    client.close().await.expect("close");
}
