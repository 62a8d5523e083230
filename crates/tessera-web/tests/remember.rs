//! Remember-me over HTTP: restore after the session cookie is gone, rotation
//! on use, parallel use inside the grace window, theft detection, no
//! remember-me for admins, and re-authentication for sensitive changes.

mod common;

use std::sync::Arc;

use axum::body::Body;
use common::*;
use http::{Request, StatusCode, header};
use tessera_core::Role;
use tessera_store::{AuditKind, RememberStore, SessionStore};
use tokio::task::JoinSet;

fn split(token: &str) -> (&str, &str) {
    token.split_once(':').unwrap_or_else(|| panic!("not selector:validator: {token}"))
}

/// Logs `email` in with Remember me ticked; returns the browser and its remember cookie.
async fn remembered(app: &TestApp, prefix: &str, email: &str) -> (Browser, String) {
    let mut browser = app.browser();
    browser.login_ok(prefix, email, true).await;
    let name = if prefix.is_empty() { REMEMBER_PORTAL } else { REMEMBER_AGENT };
    let token = browser.cookie(name).unwrap_or_else(|| panic!("{prefix}: no remember cookie")).to_owned();
    (browser, token)
}

#[tokio::test]
async fn remember_me_restores_the_login_after_the_session_cookie_is_dropped() {
    let app = TestApp::new().await;
    let carol = app.person("carol@example.com", Role::Agent).await;
    for (prefix, remember_name) in [("", REMEMBER_PORTAL), ("/agent", REMEMBER_AGENT)] {
        let (mut browser, first) = remembered(&app, prefix, "carol@example.com").await;
        let (selector, validator) = split(&first);
        assert!(selector.len() >= 22 && validator.len() >= 43, "128-bit selector, 256-bit validator: {first}");
        let old_session = browser.cookie(session_cookie_of(prefix)).expect("session").to_owned();

        // The browser is closed: session cookies are gone, the persistent one stays.
        browser.remove_cookie(session_cookie_of(prefix));
        browser.remove_cookie(CSRF_COOKIE);
        let path = if prefix.is_empty() { "/api/session".to_owned() } else { format!("{prefix}/account") };
        let res = browser.get(&path).await;
        assert_eq!(res.status, StatusCode::OK, "{prefix}: not logged in again");
        let new_session = res.sets(session_cookie_of(prefix)).expect("a new session cookie");
        assert_ne!(new_session, old_session);
        let rotated = res.sets(remember_name).expect("the remember cookie is rotated on use");
        let (new_selector, new_validator) = split(&rotated);
        assert_eq!(new_selector, selector, "{prefix}: rotation keeps the series");
        assert_ne!(new_validator, validator, "{prefix}: rotation issues a new validator");

        // From now on the new session carries the browser; the token is not used again.
        let res = browser.get(&path).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.set_cookie(remember_name).is_none());
    }
    assert_eq!(app.audit_count(carol.id, AuditKind::RememberUsed).await, 2);
}

#[tokio::test]
async fn a_restored_session_is_marked_restored() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let (mut browser, _) = remembered(&app, "", "alice@example.com").await;
    let typed = browser.get("/account").await.text();
    assert!(!typed.contains("logged in automatically"), "a password login is not restored");

    browser.remove_cookie(PORTAL_COOKIE);
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("logged in automatically"), "{}", page.text());
    let session = browser.cookie(PORTAL_COOKIE).expect("restored session");
    let record = app.store.raw().session(&session_hash(session)).await.expect("read").expect("stored");
    assert!(record.restored);
    assert!(browser.get("/account/sessions").await.text().contains("remembered"));
}

#[tokio::test]
async fn the_used_token_presented_again_within_the_grace_window_is_accepted_without_theft() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let (mut browser, used) = remembered(&app, "", "alice@example.com").await;
    browser.remove_cookie(PORTAL_COOKIE);
    assert!(browser.logged_in("").await);
    let current = browser.cookie(REMEMBER_PORTAL).expect("rotated").to_owned();
    assert_ne!(current, used);

    // A second tab's request left before the rotation reached it.
    app.advance(app.settings.remember.grace_seconds);
    let mut tab = replay(&app, REMEMBER_PORTAL, &used);
    let res = tab.get("/api/session").await;
    assert_eq!(res.status, StatusCode::OK, "a parallel request inside the grace window was refused");
    assert!(res.sets(PORTAL_COOKIE).is_some());
    assert!(!res.clears(REMEMBER_PORTAL));
    assert_eq!(app.audit_count(alice.id, AuditKind::RememberTheft).await, 0);
    assert!(browser.logged_in("").await, "the browser's own session ended");

    browser.remove_cookie(PORTAL_COOKIE);
    assert!(browser.logged_in("").await, "the current token stopped working");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_requests_with_the_same_token_are_all_accepted_and_rotate_it_once() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let (_, token) = remembered(&app, "", "alice@example.com").await;
    let cookie = Arc::new(format!("{REMEMBER_PORTAL}={token}"));
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let (app, cookie) = (app.clone(), cookie.clone());
        tasks.spawn(async move {
            let req = Request::get("/api/session")
                .header(header::COOKIE, cookie.as_str())
                .body(Body::empty())
                .expect("a valid request");
            app.send(req).await
        });
    }
    let responses = tasks.join_all().await;
    assert!(responses.iter().all(|r| r.status == StatusCode::OK), "a parallel restore was refused");
    let rotations = responses.iter().filter(|r| r.sets(REMEMBER_PORTAL).is_some()).count();
    assert_eq!(rotations, 1, "exactly one request wins the rotation");
    assert_eq!(app.audit_count(alice.id, AuditKind::RememberTheft).await, 0);
}

#[tokio::test]
async fn the_used_token_presented_after_the_grace_window_is_theft_and_revokes_everything() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::Agent).await;
    let (mut legit, stolen) = remembered(&app, "", "alice@example.com").await;
    let (mut desk, desk_token) = remembered(&app, "/agent", "alice@example.com").await;
    let mut laptop = app.browser();
    laptop.login_ok("", "alice@example.com", false).await;

    // The owner comes back: the token rotates. The thief kept a copy of the old one.
    legit.remove_cookie(PORTAL_COOKIE);
    assert!(legit.logged_in("").await);
    let newest = legit.cookie(REMEMBER_PORTAL).expect("rotated").to_owned();

    app.advance(app.settings.remember.grace_seconds + 1);
    let mut thief = replay(&app, REMEMBER_PORTAL, &stolen);
    let res = thief.get("/api/session").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "the stale token logged in");
    assert!(res.clears(REMEMBER_PORTAL));

    assert!(!legit.logged_in("").await, "the owner's session survived the theft");
    assert!(!replay(&app, REMEMBER_PORTAL, &newest).logged_in("").await, "the series survived the theft");
    assert!(!laptop.logged_in("").await, "another session of the person survived");
    assert!(!desk.logged_in("/agent").await, "another interface's session survived");
    assert!(!replay(&app, REMEMBER_AGENT, &desk_token).logged_in("/agent").await, "another series survived");
    assert!(app.store.raw().remember_of_person(alice.id).await.expect("read").is_empty());
    assert!(app.store.raw().sessions_of_person(alice.id).await.expect("read").is_empty());
    assert_eq!(app.audit_count(alice.id, AuditKind::RememberTheft).await, 1);
}

#[tokio::test]
async fn admin_login_offers_no_remember_me_and_never_sets_a_remember_cookie() {
    let app = TestApp::new().await;
    let root = app.person("root@example.com", Role::Admin).await;
    for prefix in ["", "/agent"] {
        let page = app.browser().get(&format!("{prefix}/login")).await.text();
        assert!(page.contains("name=\"remember\"") && page.contains("Remember me"), "{prefix}: no Remember me");
    }
    let page = app.browser().get("/admin/login").await.text();
    assert!(!page.contains("name=\"remember\"") && !page.contains("Remember me"), "admin login offers Remember me");

    let mut browser = app.browser();
    let res = browser.login("/admin", "root@example.com", PASSWORD, true, None).await;
    res.assert_redirect("/admin/account");
    let names: Vec<String> = res.set_cookies().iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names, [ADMIN_COOKIE], "an admin login set {names:?}");
    assert!(app.store.raw().remember_of_person(root.id).await.expect("read").is_empty());
    assert!(!registry_names(&app.registry).iter().any(|n| n.contains("remember_admin")));
}

#[tokio::test]
async fn changing_the_password_of_a_restored_session_requires_the_current_password() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let (mut browser, _) = remembered(&app, "", "alice@example.com").await;
    browser.remove_cookie(PORTAL_COOKIE);
    assert!(browser.logged_in("").await);
    let session = browser.cookie(PORTAL_COOKIE).expect("restored session").to_owned();
    let new = "stolen laptop passphrase";

    for current in ["", "wrong password"] {
        let token = browser.token("/account/password").await;
        let res = browser
            .post_form("/account/password", &[("_csrf", &token), ("current", current), ("new", new), ("confirm", new)])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "current {current:?} was accepted");
        assert!(res.text().contains("current password is not correct"), "{}", res.text());
        assert!(res.set_cookie(PORTAL_COOKIE).is_none());
    }
    assert!(app.password_is(alice.id, PASSWORD).await, "the password changed without the current one");
    assert_eq!(browser.cookie(PORTAL_COOKIE), Some(session.as_str()));
    assert!(browser.logged_in("").await);

    let token = browser.token("/account/password").await;
    let res = browser
        .post_form("/account/password", &[("_csrf", &token), ("current", PASSWORD), ("new", new), ("confirm", new)])
        .await;
    res.assert_redirect("/account?done=password");
    assert!(app.password_is(alice.id, new).await);
    let account = browser.get("/account").await.text();
    assert!(!account.contains("logged in automatically"), "re-entering the password ends the restored state");
}

#[tokio::test]
async fn changing_the_email_of_a_restored_session_requires_the_current_password_and_ends_other_access() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    app.person("bob@example.com", Role::User).await;
    let mut laptop = app.browser();
    laptop.login_ok("", "alice@example.com", false).await;
    let (mut browser, _) = remembered(&app, "", "alice@example.com").await;
    browser.remove_cookie(PORTAL_COOKIE);
    assert!(browser.logged_in("").await);
    let session = browser.cookie(PORTAL_COOKIE).expect("restored session").to_owned();

    for (email, current, complaint) in [
        ("mallory@example.com", "", "current password is not correct"),
        ("mallory@example.com", "wrong password", "current password is not correct"),
        ("not an email", PASSWORD, "valid email address"),
        ("bob@example.com", PASSWORD, "already uses that email address"),
    ] {
        let token = browser.token("/account/email").await;
        let res =
            browser.post_form("/account/email", &[("_csrf", &token), ("email", email), ("current", current)]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{email:?} with {current:?} was accepted");
        assert!(res.text().contains(complaint), "{}", res.text());
        assert!(res.set_cookie(PORTAL_COOKIE).is_none());
    }
    assert_eq!(app.stored_person(alice.id).await.email.as_str(), "alice@example.com", "nothing changed");
    assert!(laptop.logged_in("").await);

    let token = browser.token("/account/email").await;
    let res = browser
        .post_form("/account/email", &[("_csrf", &token), ("email", "Alice@New.example"), ("current", PASSWORD)])
        .await;
    res.assert_redirect("/account?done=email");
    assert_ne!(browser.cookie(PORTAL_COOKIE), Some(session.as_str()), "a new session ID");
    assert!(browser.cookie(REMEMBER_PORTAL).is_none(), "the remember-me series ended");
    assert_eq!(app.stored_person(alice.id).await.email.as_str(), "alice@new.example");
    assert!(browser.get("/account").await.text().contains("alice@new.example"), "the page shows the new address");
    assert!(!laptop.logged_in("").await, "every other session ended");
    assert_eq!(app.audit_count(alice.id, AuditKind::EmailChanged).await, 1);
    let mut again = app.browser();
    assert_eq!(again.login("", "alice@example.com", PASSWORD, false, None).await.status, StatusCode::UNAUTHORIZED);
    again.login_ok("", "alice@new.example", false).await;
}

#[tokio::test]
async fn a_form_posted_after_the_session_expired_does_not_burn_the_remember_token() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let (mut browser, remember) = remembered(&app, "", "alice@example.com").await;
    let token = browser.token("/account/password").await;
    app.advance(app.settings.session.portal_idle_seconds + 1);

    // The form was left open past the idle limit: refused, and nothing changes.
    let mark = app.store.mark();
    let res = browser
        .post_form("/account/password", &[("_csrf", &token), ("current", PASSWORD), ("new", "x"), ("confirm", "x")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(app.store.since(mark).writes.is_empty(), "a refused POST wrote {:?}", app.store.since(mark).writes);
    assert!(res.set_cookie(REMEMBER_PORTAL).is_none(), "the remember token was not rotated");
    assert_eq!(browser.cookie(REMEMBER_PORTAL), Some(remember.as_str()));

    // Long after any grace window, the browser comes back: welcomed, not accused.
    app.advance(3_600);
    assert!(browser.logged_in("").await);
    assert_eq!(app.audit_count(alice.id, AuditKind::RememberTheft).await, 0);
}

#[tokio::test]
async fn logout_forgets_this_browsers_remember_me_series() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let (mut browser, token) = remembered(&app, "", "alice@example.com").await;
    let res = browser.logout("").await;
    assert!(res.clears(PORTAL_COOKIE) && res.clears(REMEMBER_PORTAL));
    assert!(browser.cookie(REMEMBER_PORTAL).is_none());
    assert!(!replay(&app, REMEMBER_PORTAL, &token).logged_in("").await);
    assert!(app.store.raw().remember_of_person(alice.id).await.expect("read").is_empty());
}

#[tokio::test]
async fn a_remembered_device_can_be_forgotten_from_account_sessions() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let (_, phone_token) = remembered(&app, "", "alice@example.com").await;
    let mut laptop = app.browser();
    laptop.login_ok("", "alice@example.com", false).await;

    let page = laptop.get("/account/sessions").await.text();
    let series = app.store.raw().remember_of_person(alice.id).await.expect("read");
    assert_eq!(series.len(), 1);
    let device = tessera_session::device_id(&series[0].selector);
    assert!(page.contains(&device), "the remembered device is not listed");
    let selector = hex::encode(series[0].selector.as_bytes());
    assert!(!page.contains(&selector), "the page must not show the selector, half of the token");
    let res = laptop.post_form("/account/devices/revoke", &[("_csrf", &csrf_from(&page)), ("device", &device)]).await;
    res.assert_redirect("/account/sessions?done=forgotten");
    assert!(!replay(&app, REMEMBER_PORTAL, &phone_token).logged_in("").await);
}

#[tokio::test]
async fn a_remember_token_only_works_on_its_own_interface() {
    let app = TestApp::new().await;
    app.person("carol@example.com", Role::Agent).await;
    let (_, agent_token) = remembered(&app, "/agent", "carol@example.com").await;
    assert!(!replay(&app, REMEMBER_PORTAL, &agent_token).logged_in("").await);
    assert!(replay(&app, REMEMBER_AGENT, &agent_token).logged_in("/agent").await);
}
