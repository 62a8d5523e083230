//! What requests cost the store: nothing at all without a session cookie
//! (beyond the content a page shows, such as Help Center articles), and no
//! writes on read-only requests except one "last seen" update per session
//! per touch interval.

mod common;

use common::*;
use http::{HeaderValue, StatusCode};
use tessera_core::Role;

/// GETs (and one refused POST) that a visitor without any session makes, to
/// pages that show nothing from the store. (Sites are cached in memory: the
/// first request of the test loads them.)
const ANONYMOUS: [&str; 11] = [
    "/healthz",
    "/register",
    "/login",
    "/agent/login",
    "/admin/login",
    "/api/session",
    "/cookies",
    "/account",
    "/agent/account",
    "/admin/sessions",
    "/no/such/page",
];

#[tokio::test]
async fn a_request_without_session_cookies_never_touches_the_store() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    let css = {
        let html = browser.get("/login").await.text();
        let start = html.find("/assets/").expect("a stylesheet link");
        html[start..start + html[start..].find('"').expect("closed href")].to_owned()
    };

    assert!(browser.cookie(CSRF_COOKIE).is_some(), "the login page issues the CSRF cookie");

    // A first visit (no cookie at all), then a browser holding the CSRF cookie.
    for round in ["no cookie", "CSRF cookie only"] {
        for path in ANONYMOUS.iter().copied().chain([css.as_str()]) {
            let mut client = if round == "no cookie" { app.browser() } else { browser.clone() };
            let mark = app.store.mark();
            let res = client.get(path).await;
            let ops = app.store.since(mark);
            assert!(ops.is_empty(), "{round}: GET {path} ({}) touched the store: {ops:?}", res.status);
        }
        let mut client = if round == "no cookie" { app.browser() } else { browser.clone() };
        let mark = app.store.mark();
        let res = client.post_form("/logout", &[]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(app.store.since(mark).is_empty(), "{round}: a refused POST touched the store");
    }
    app.core.flush().await;
}

#[tokio::test]
async fn a_malformed_session_cookie_is_refused_without_touching_the_store() {
    let app = TestApp::new().await;
    for value in ["x", "not-a-session-id", &"A".repeat(44), &"!".repeat(43)] {
        let mark = app.store.mark();
        let cookie = format!("{PORTAL_COOKIE}={value}; {ADMIN_COOKIE}={value}; {REMEMBER_PORTAL}={value}");
        let res = app.get_with_cookie("/api/session", HeaderValue::from_str(&cookie).expect("header")).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(app.store.since(mark).is_empty(), "{value:?} cost a store access");
    }
}

#[tokio::test]
async fn a_read_only_request_writes_nothing_but_one_last_seen_update_per_touch_interval() {
    let app = TestApp::new().await;
    let interval = app.settings.session.touch_interval_seconds;
    assert_eq!(interval, 60, "the issue says at most once a minute");
    app.person("root@example.com", Role::Admin).await;
    let mut browser = app.browser();
    browser.login_ok("", "root@example.com", false).await;
    browser.login_ok("/admin", "root@example.com", false).await;
    let pages =
        ["/api/session", "/", "/account", "/account/sessions", "/account/password", "/cookies", "/admin/account"];
    app.core.flush().await;

    let writes_during = |app: &TestApp, mark| app.store.since(mark).writes;
    let mark = app.store.mark();
    for _ in 0..3 {
        for page in pages {
            assert_eq!(browser.get(page).await.status, StatusCode::OK, "{page}");
        }
    }
    app.core.flush().await;
    assert_eq!(writes_during(&app, mark), Vec::<&str>::new(), "writes within the first touch interval");

    for round in 1..=3 {
        app.advance(interval - 1);
        let mark = app.store.mark();
        for page in pages {
            browser.get(page).await;
        }
        app.core.flush().await;
        assert_eq!(writes_during(&app, mark), Vec::<&str>::new(), "round {round}: written before the interval");

        app.advance(1);
        let mark = app.store.mark();
        for _ in 0..3 {
            for page in pages {
                browser.get(page).await;
            }
        }
        app.core.flush().await;
        // One touch per session (portal and admin), batched by the writer.
        let writes = writes_during(&app, mark);
        assert!(
            !writes.is_empty() && writes.iter().all(|w| *w == "touch_sessions") && writes.len() <= 2,
            "round {round}: expected only the last-seen update, got {writes:?}"
        );
    }
}

#[tokio::test]
async fn the_last_seen_update_never_recreates_a_deleted_session() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    let session = browser.login_ok("", "alice@example.com", false).await;
    app.advance(app.settings.session.touch_interval_seconds);
    // This request queues a touch; the logout right after deletes the row.
    assert!(browser.logged_in("").await);
    browser.logout("").await.assert_redirect("/login");
    app.core.flush().await;
    assert!(tessera_store::SessionStore::sessions_of_person(app.store.raw(), alice.id).await.expect("read").is_empty());
    assert!(!replay(&app.restart(), PORTAL_COOKIE, &session).logged_in("").await);
}
