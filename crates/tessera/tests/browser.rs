//! Browser behaviour in real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver: the cookies a real browser keeps,
//! "Remember me" across a browser restart, and a real cross-site form post.
//!
//! Without chromedriver these tests print why and pass, so `cargo test` works
//! on a machine without a browser; CI sets `TESSERA_REQUIRE_BROWSER=1` (and
//! installs Chromium), which turns a missing browser into a failure.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::browser::{Driver, Options, browser_available};
use common::{PASSWORD, Server, add_user};
use fantoccini::{Client, Locator};

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

/// The driver kills every browser it started when it drops, also when a
/// test panics, so no Chromium outlives the test run.
struct Setup {
    _dir: tempfile::TempDir,
    profile: PathBuf,
    server: Server,
    driver: Driver,
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
    let client = s.driver.open(&s.profile, Options::default()).await;
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
    let client = s.driver.open(&s.profile, Options::default()).await;
    log_in(&client, &s.server.base, "eve@example.com", true).await;
    client.close().await.expect("quit the browser");
    // Chromium writes its cookie store when it exits; give the process a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let client = s.driver.open(&s.profile, Options::default()).await;
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
    let client = s.driver.open(&s.profile, Options::default()).await;
    log_in(&client, &s.server.base, "fay@example.com", false).await;
    client.close().await.expect("quit the browser");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = s.driver.open(&s.profile, Options::default()).await;
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
    let client = s.driver.open(&s.profile, Options::default()).await;
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
    let client = s.driver.open(&s.profile, Options::default()).await;
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
