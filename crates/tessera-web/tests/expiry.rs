//! Idle and absolute session timeouts per interface, driven by the manual
//! clock: just below a limit the session lives, just past it it is gone;
//! activity slides the idle timeout but never the absolute one.

mod common;

use common::*;
use tessera_core::{Interface, Role};
use tessera_store::SessionStore;

const PREFIXES: [(&str, Interface); 3] =
    [("", Interface::Portal), ("/agent", Interface::Agent), ("/admin", Interface::Admin)];

async fn app_with_root() -> TestApp {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;
    app
}

#[tokio::test]
async fn the_default_timeouts_are_those_of_the_issue() {
    let s = TestApp::new().await.settings.session;
    let minutes = |i| (s.idle_seconds(i) / 60, s.absolute_seconds(i) / 3600);
    assert_eq!(minutes(Interface::Portal), (60, 24));
    assert_eq!(minutes(Interface::Agent), (60, 12));
    assert_eq!(minutes(Interface::Admin), (15, 8));
}

#[tokio::test]
async fn idle_expiry_slides_with_activity_and_ends_the_session_on_every_interface() {
    for (prefix, interface) in PREFIXES {
        let app = app_with_root().await;
        let idle = app.settings.session.idle_seconds(interface);
        let mut browser = app.browser();
        let session = browser.login_ok(prefix, "root@example.com", false).await;

        app.advance(idle - 1);
        assert!(browser.logged_in(prefix).await, "{interface}: expired before the idle limit");
        app.advance(idle - 1);
        assert!(browser.logged_in(prefix).await, "{interface}: activity did not slide the idle timeout");
        app.advance(idle + 1);
        app.core.flush().await;
        let mark = app.store.mark();
        assert!(!browser.logged_in(prefix).await, "{interface}: alive after {}s idle", idle + 1);
        let writes = app.store.since(mark).writes;
        assert!(writes.is_empty(), "{interface}: the request that found the session expired wrote {writes:?}");

        assert!(browser.cookie(session_cookie_of(prefix)).is_none(), "{interface}: expired cookie not cleared");
        assert!(!replay(&app, session_cookie_of(prefix), &session).logged_in(prefix).await);
        assert!(!replay(&app.restart(), session_cookie_of(prefix), &session).logged_in(prefix).await);
        let root = app.store.raw().session(&session_hash(&session)).await.expect("read").expect("row kept").person_id;
        assert!(app.core.sessions_of(root).await.expect("list").is_empty(), "not listed once expired");
        app.core.purge_expired().await.expect("purge");
        assert!(
            app.store.raw().session(&session_hash(&session)).await.expect("read").is_none(),
            "the purge deletes it"
        );
    }
}

#[tokio::test]
async fn absolute_expiry_is_not_extended_by_activity_on_every_interface() {
    for (prefix, interface) in PREFIXES {
        let app = app_with_root().await;
        let idle = app.settings.session.idle_seconds(interface);
        let absolute = app.settings.session.absolute_seconds(interface);
        let mut browser = app.browser();
        browser.login_ok(prefix, "root@example.com", false).await;
        let deadline = app.now().plus(absolute);

        // Busy all day: a request just inside every idle window.
        while deadline.since(app.now()) > idle {
            app.advance(idle - 1);
            assert!(
                browser.logged_in(prefix).await,
                "{interface}: ended early at +{}s",
                absolute - deadline.since(app.now())
            );
        }
        app.advance(deadline.since(app.now()) - 1);
        assert!(browser.logged_in(prefix).await, "{interface}: ended a second before the absolute limit");
        app.advance(1);
        assert!(!browser.logged_in(prefix).await, "{interface}: alive at the absolute limit despite activity");
    }
}

#[tokio::test]
async fn timeouts_follow_the_configured_settings() {
    let app = TestApp::with(|s| {
        s.session.portal_idle_seconds = 120;
        s.session.portal_absolute_seconds = 300;
    })
    .await;
    app.person("alice@example.com", Role::User).await;
    let mut idle = app.browser();
    idle.login_ok("", "alice@example.com", false).await;
    let mut busy = app.browser();
    busy.login_ok("", "alice@example.com", false).await;

    app.advance(119);
    assert!(busy.logged_in("").await);
    app.advance(2);
    assert!(!idle.logged_in("").await, "idle for 121s with a 120s limit");
    assert!(busy.logged_in("").await);
    app.advance(119);
    assert!(busy.logged_in("").await);
    app.advance(60);
    assert!(!busy.logged_in("").await, "alive 300s after login with a 300s absolute limit");
}

#[tokio::test]
async fn idle_expiry_holds_across_a_restart_because_last_seen_reaches_the_store() {
    let app = app_with_root().await;
    let idle = app.settings.session.idle_seconds(Interface::Portal);
    let mut browser = app.browser();
    let session = browser.login_ok("", "root@example.com", false).await;

    app.advance(idle - 1);
    assert!(browser.logged_in("").await);
    app.core.flush().await;

    // A new process knows the session only from the store.
    let restarted = app.restart();
    restarted.advance(idle - 1);
    assert!(replay(&restarted, PORTAL_COOKIE, &session).logged_in("").await, "the activity was not persisted");
    restarted.core.flush().await;

    let again = app.restart();
    again.advance(idle + 1);
    assert!(!replay(&again, PORTAL_COOKIE, &session).logged_in("").await, "an idle session came back after restart");
}
