//! Requests racing a logout or an ID rotation: once the logout (or password
//! change) has answered, no request with the old cookie is ever logged in
//! again, and the store holds no row for it.
//!
//! The first tests run many `GET /api/session` in parallel with the state
//! change on a multi-threaded runtime, recording for every request whether
//! it *started* after the change had completed, and what it got. The last
//! ones hold a login just before its session is stored (a pause in the
//! counting store) while the account changes, to pin the worst interleaving.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::body::Body;
use common::*;
use http::{Request, StatusCode, header};
use tessera_core::Role;
use tessera_store::{AuditKind, SessionStore};
use tokio::task::JoinSet;

const CLIENTS: usize = 12;
/// Every client keeps going until it has sent this many requests after the change.
const REQUESTS_AFTER: usize = 10;

/// The racing side: statuses seen, and whether the change had completed
/// before each request started.
struct Race {
    done: Arc<AtomicBool>,
    logged_in: Arc<AtomicUsize>,
    tasks: JoinSet<Vec<(bool, StatusCode)>>,
}

/// Hammers `GET /api/session` with `cookie` from [`CLIENTS`] tasks.
fn hammer(app: &TestApp, cookie: String) -> Race {
    let done = Arc::new(AtomicBool::new(false));
    let logged_in = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..CLIENTS {
        let (app, cookie, done, logged_in) = (app.clone(), cookie.clone(), done.clone(), logged_in.clone());
        tasks.spawn(async move {
            let mut seen = Vec::new();
            while seen.iter().filter(|(after, _)| *after).count() < REQUESTS_AFTER {
                assert!(seen.len() < 100_000, "the change never completed");
                let started_after = done.load(Ordering::SeqCst);
                let req = Request::get("/api/session")
                    .header(header::COOKIE, cookie.as_str())
                    .body(Body::empty())
                    .expect("a valid request");
                let status = app.send(req).await.status;
                assert!(matches!(status, StatusCode::OK | StatusCode::UNAUTHORIZED), "{status}");
                if status == StatusCode::OK {
                    logged_in.fetch_add(1, Ordering::SeqCst);
                }
                seen.push((started_after, status));
                tokio::task::yield_now().await;
            }
            seen
        });
    }
    Race { done, logged_in, tasks }
}

impl Race {
    /// Waits until `n` racing requests were logged in, so the change really races them.
    async fn wait_for_logged_in(&self, n: usize) {
        while self.logged_in.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
    }

    /// The change has answered: from now on every request must fail.
    async fn finish(self) {
        self.done.store(true, Ordering::SeqCst);
        let seen: Vec<(bool, StatusCode)> = self.tasks.join_all().await.into_iter().flatten().collect();
        let after: Vec<StatusCode> = seen.iter().filter(|(after, _)| *after).map(|(_, s)| *s).collect();
        let revived = after.iter().filter(|s| **s == StatusCode::OK).count();
        assert!(after.len() >= CLIENTS * REQUESTS_AFTER);
        assert_eq!(revived, 0, "{revived} of {} requests after the change were logged in", after.len());
    }
}

async fn logout_race(app: &TestApp, server: &TestApp, wait_for: usize) {
    let alice = app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    let session = browser.login_ok("", "alice@example.com", false).await;
    let token = browser.token("/account").await;
    // The racing requests may hit a process that only knows the store (`server`).
    let mut browser = browser.on(server);
    let race = hammer(server, format!("{PORTAL_COOKIE}={session}"));
    race.wait_for_logged_in(wait_for).await;
    let res = browser.post_form("/logout", &[("_csrf", &token)]).await;
    res.assert_redirect("/login");
    race.finish().await;

    server.core.flush().await;
    assert!(!replay(server, PORTAL_COOKIE, &session).logged_in("").await);
    assert!(server.store.raw().session(&session_hash(&session)).await.expect("read").is_none());
    assert!(server.store.raw().sessions_of_person(alice.id).await.expect("read").is_empty());
    assert!(!replay(&server.restart(), PORTAL_COOKIE, &session).logged_in("").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_racing_a_logout_never_bring_the_session_back() {
    let app = TestApp::new().await;
    logout_race(&app, &app, CLIENTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_loading_the_session_from_the_store_while_it_is_logged_out_never_revive_it() {
    let app = TestApp::new().await;
    // A fresh process: every racing request starts with a cache miss and a store read.
    let restarted = app.restart();
    // No waiting: the logout lands while the first loads are still in flight.
    logout_race(&app, &restarted, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_racing_a_password_change_never_revive_the_old_session_id() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    let old = browser.login_ok("", "alice@example.com", false).await;
    let token = browser.token("/account/password").await;
    let race = hammer(&app, format!("{PORTAL_COOKIE}={old}"));
    race.wait_for_logged_in(CLIENTS).await;
    let new = "another long passphrase";
    let res = browser
        .post_form("/account/password", &[("_csrf", &token), ("current", PASSWORD), ("new", new), ("confirm", new)])
        .await;
    res.assert_redirect("/account?done=password");
    race.finish().await;

    assert!(!replay(&app, PORTAL_COOKIE, &old).logged_in("").await);
    assert!(app.store.raw().session(&session_hash(&old)).await.expect("read").is_none());
    assert!(browser.logged_in("").await, "the rotated session must keep working");
}

/// A thief who knows the old password starts a login; the password check
/// passes, and the session is about to be stored when the owner's change
/// lands. The change must win: the thief ends up with no working session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_racing_a_password_change_cannot_outlive_it() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let mut owner = app.browser();
    owner.login_ok("", "alice@example.com", false).await;
    let owner_token = owner.token("/account/password").await;
    let mut thief = app.browser();
    let thief_token = thief.token("/login").await;

    let mut gate = app.store.pause_before("insert_session");
    let login = tokio::spawn(async move {
        let fields = [("_csrf", thief_token.as_str()), ("email", "alice@example.com"), ("password", PASSWORD)];
        let res = thief.post_form("/login", &fields).await;
        (thief, res)
    });
    gate.reached().await;
    let new = "the owner's new passphrase";
    let res = owner
        .post_form(
            "/account/password",
            &[("_csrf", &owner_token), ("current", PASSWORD), ("new", new), ("confirm", new)],
        )
        .await;
    res.assert_redirect("/account?done=password");
    gate.release();
    let (mut thief, res) = login.await.expect("the login task");

    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "the password that matched is no longer the password");
    assert!(res.set_cookie(PORTAL_COOKIE).is_none());
    assert!(!thief.logged_in("").await, "a login checked against the old password outlived the change");
    app.core.flush().await;
    let sessions = app.store.raw().sessions_of_person(alice.id).await.expect("read");
    assert_eq!(sessions.len(), 1, "only the owner's rotated session may remain");
    assert!(owner.logged_in("").await);
}

/// The same race against an admin disabling the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_racing_the_account_being_disabled_cannot_outlive_it() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    app.person("root@example.com", Role::Admin).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;
    let admin_token = admin.token("/admin/people").await;
    let mut alice_browser = app.browser();
    let login_token = alice_browser.token("/login").await;

    let mut gate = app.store.pause_before("insert_session");
    let login = tokio::spawn(async move {
        let fields = [("_csrf", login_token.as_str()), ("email", "alice@example.com"), ("password", PASSWORD)];
        let res = alice_browser.post_form("/login", &fields).await;
        (alice_browser, res)
    });
    gate.reached().await;
    let res =
        admin.post_form("/admin/people/disable", &[("_csrf", &admin_token), ("person", &alice.id.to_string())]).await;
    res.assert_redirect("/admin/people?done=disabled");
    gate.release();
    let (mut alice_browser, res) = login.await.expect("the login task");

    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "a disabled account's login succeeded");
    assert!(res.set_cookie(PORTAL_COOKIE).is_none());
    assert!(!alice_browser.logged_in("").await, "a disabled account kept a session");
    assert!(app.store.raw().sessions_of_person(alice.id).await.expect("read").is_empty());
}

/// A thief's remember-me restore that has rotated the series but not yet
/// stored its session, while the owner's stale token sets off the theft
/// response: the thief must not come out of it logged in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remember_me_restore_racing_the_theft_response_cannot_outlive_it() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let mut owner = app.browser();
    owner.login_ok("", "alice@example.com", true).await;
    let stolen = owner.cookie(REMEMBER_PORTAL).expect("remember cookie").to_owned();
    // The thief holds a copy of the current token and uses it first.
    let mut thief = replay(&app, REMEMBER_PORTAL, &stolen);
    owner.remove_cookie(PORTAL_COOKIE);

    let mut gate = app.store.pause_before("insert_session");
    let restore = tokio::spawn(async move {
        let res = thief.get("/api/session").await;
        (thief, res)
    });
    gate.reached().await;
    // The thief's rotation is done; the owner's copy is now stale, and long past any grace window.
    app.advance(app.settings.remember.grace_seconds + 1);
    assert!(!owner.logged_in("").await, "the owner's stale token is theft");
    assert_eq!(app.audit_count(alice.id, AuditKind::RememberTheft).await, 1);
    gate.release();
    let (mut thief, res) = restore.await.expect("the restore task");

    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "the restore lost to the theft response");
    assert!(!thief.logged_in("").await);
    app.core.flush().await;
    assert!(app.store.raw().sessions_of_person(alice.id).await.expect("read").is_empty(), "no session survives");
}
