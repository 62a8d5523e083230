//! Sessions over HTTP: rotation at login, one session per interface, no
//! adoption of foreign IDs, logout, revocation by the person and by an
//! admin, password change and disabling an account.

mod common;

use common::*;
use http::StatusCode;
use tessera_core::{Role, SessionToken};
use tessera_store::{AuditKind, RememberStore, SessionStore};

#[tokio::test]
async fn login_issues_a_new_session_id_and_the_previous_one_stops_working() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    app.person("bob@example.com", Role::User).await;
    let mut browser = app.browser();

    let first = browser.login_ok("", "alice@example.com", false).await;
    assert_eq!(first.len(), 43, "256 random bits, base64url");
    assert!(browser.logged_in("").await);

    // Logging in again from the same browser (as the same person or another)
    // must hand out a new ID and end the one the browser had.
    let second = browser.login_ok("", "alice@example.com", false).await;
    assert_ne!(first, second);
    assert!(!replay(&app, PORTAL_COOKIE, &first).logged_in("").await, "the pre-login ID still works");
    assert!(app.store.raw().session(&session_hash(&first)).await.expect("read").is_none());

    let third = browser.login_ok("", "bob@example.com", false).await;
    assert!(!replay(&app, PORTAL_COOKIE, &second).logged_in("").await);
    let me = browser.get("/api/session").await.json();
    assert_eq!(me["name"], "Bob Quill");
    assert!(replay(&app, PORTAL_COOKIE, &third).logged_in("").await);
}

#[tokio::test]
async fn a_session_cookie_planted_before_login_is_replaced_not_adopted() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let planted = SessionToken::generate().encode();
    let mut victim = app.browser();
    let token = victim.token("/login").await;
    // Planted between loading the form and posting it, so the login request carries it.
    victim.set_cookie(PORTAL_COOKIE, &planted);
    let res =
        victim.post_form("/login", &[("_csrf", &token), ("email", "alice@example.com"), ("password", PASSWORD)]).await;
    res.assert_redirect("/account");
    let session = res.sets(PORTAL_COOKIE).expect("a new session cookie");
    assert_ne!(session, planted, "the server adopted an ID it did not issue");
    assert!(!replay(&app, PORTAL_COOKIE, &planted).logged_in("").await, "the attacker's copy logs in");
    assert!(victim.logged_in("").await);
}

#[tokio::test]
async fn logging_into_the_portal_does_not_log_into_agent_or_admin() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await; // may use every interface
    let mut browser = app.browser();
    browser.login_ok("", "root@example.com", false).await;

    assert!(browser.logged_in("").await);
    assert!(!browser.logged_in("/agent").await);
    assert!(!browser.logged_in("/admin").await);
    assert!(browser.cookie(AGENT_COOKIE).is_none() && browser.cookie(ADMIN_COOKIE).is_none());
}

#[tokio::test]
async fn logging_into_agent_or_admin_does_not_log_into_the_other_interfaces() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;

    let mut agent = app.browser();
    agent.login_ok("/agent", "root@example.com", false).await;
    assert!(agent.logged_in("/agent").await);
    assert!(!agent.logged_in("").await);
    assert!(!agent.logged_in("/admin").await);

    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;
    assert!(admin.logged_in("/admin").await);
    assert!(!admin.logged_in("").await);
    assert!(!admin.logged_in("/agent").await);
}

#[tokio::test]
async fn a_session_id_presented_under_another_interfaces_cookie_is_refused() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;
    let mut browser = app.browser();
    let portal = browser.login_ok("", "root@example.com", false).await;

    assert!(!replay(&app, AGENT_COOKIE, &portal).logged_in("/agent").await);
    assert!(!replay(&app, ADMIN_COOKIE, &portal).logged_in("/admin").await);
    // Refusing it elsewhere does not end it where it belongs.
    assert!(browser.logged_in("").await);
}

#[tokio::test]
async fn logging_out_of_one_interface_keeps_the_others() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;
    let mut browser = app.browser();
    browser.login_ok("", "root@example.com", false).await;
    browser.login_ok("/admin", "root@example.com", false).await;

    browser.logout("").await.assert_redirect("/login");
    assert!(!browser.logged_in("").await);
    assert!(browser.logged_in("/admin").await);
}

#[tokio::test]
async fn an_unknown_well_formed_session_id_is_never_adopted_or_echoed() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;
    for prefix in ["", "/agent", "/admin"] {
        let name = session_cookie_of(prefix);
        let forged = SessionToken::generate().encode();
        let mut browser = replay(&app, name, &forged);
        let path = if prefix.is_empty() { "/api/session".to_owned() } else { format!("{prefix}/account") };
        let res = browser.get(&path).await;

        assert_ne!(res.status, StatusCode::OK, "{prefix}: a forged ID was accepted");
        assert!(res.clears(name), "{prefix}: the unknown cookie is not cleared");
        let headers = format!("{:?}", res.headers);
        assert!(!headers.contains(&forged) && !res.text().contains(&forged), "{prefix}: the forged ID is echoed");
        assert!(browser.cookie(name).is_none());

        // Logging in afterwards issues a server-made ID, never the forged one.
        browser.set_cookie(name, &forged);
        let issued = browser.login_ok(prefix, "root@example.com", false).await;
        assert_ne!(issued, forged);
        assert!(!replay(&app, name, &forged).logged_in(prefix).await);
    }
}

#[tokio::test]
async fn logout_destroys_the_session_server_side_and_replay_is_not_logged_in() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    let session = browser.login_ok("", "alice@example.com", false).await;

    let res = browser.logout("").await;
    res.assert_redirect("/login");
    assert!(res.clears(PORTAL_COOKIE));
    assert!(browser.cookie(PORTAL_COOKIE).is_none());
    assert!(app.store.raw().session(&session_hash(&session)).await.expect("read").is_none());
    assert!(!replay(&app, PORTAL_COOKIE, &session).logged_in("").await, "a replayed cookie is still logged in");
    // Not even a process that never saw the logout (empty cache) takes it back.
    assert!(!replay(&app.restart(), PORTAL_COOKIE, &session).logged_in("").await);
    assert_eq!(app.audit_count(alice.id, AuditKind::Logout).await, 1);
}

#[tokio::test]
async fn logout_works_the_same_on_agent_and_admin() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;
    for prefix in ["/agent", "/admin"] {
        let mut browser = app.browser();
        let session = browser.login_ok(prefix, "root@example.com", false).await;
        let res = browser.logout(prefix).await;
        res.assert_redirect(&format!("{prefix}/login"));
        assert!(res.clears(session_cookie_of(prefix)));
        assert!(!replay(&app, session_cookie_of(prefix), &session).logged_in(prefix).await);
    }
}

#[tokio::test]
async fn a_person_lists_their_own_sessions_with_this_device() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    app.person("bob@example.com", Role::User).await;
    let mut laptop = app.browser().at_ip("192.0.2.10");
    let mut phone = app.browser().at_ip("192.0.2.20");
    phone.user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1".into();
    let mut bob = app.browser();
    let mine = laptop.login_ok("", "alice@example.com", false).await;
    let other = phone.login_ok("", "alice@example.com", false).await;
    let bobs = bob.login_ok("", "bob@example.com", false).await;

    let page = laptop.get("/account/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_eq!(html.matches("This device").count(), 1, "{html}");
    let row_of = |hash: &str| {
        html.split("<tr>").find(|row| row.contains(hash)).map(str::to_owned).unwrap_or_else(|| panic!("no row {hash}"))
    };
    let my_row = row_of(&session_hash_hex(&mine));
    assert!(my_row.contains("This device") && my_row.contains("Firefox on Linux") && my_row.contains("192.0.2.10"));
    let phone_row = row_of(&session_hash_hex(&other));
    assert!(
        !phone_row.contains("This device") && phone_row.contains("Safari on iOS") && phone_row.contains("192.0.2.20")
    );
    assert!(!html.contains(&session_hash_hex(&bobs)), "another person's session is listed");
}

#[tokio::test]
async fn revoking_a_session_from_account_sessions_makes_its_replay_fail() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    app.person("bob@example.com", Role::User).await;
    let mut laptop = app.browser();
    let mut phone = app.browser();
    laptop.login_ok("", "alice@example.com", false).await;
    let lost_phone = phone.login_ok("", "alice@example.com", false).await;
    let mut bob = app.browser();
    let bobs = bob.login_ok("", "bob@example.com", false).await;

    let token = laptop.token("/account/sessions").await;
    // Someone else's session is not one's own to revoke.
    let res =
        laptop.post_form("/account/sessions/revoke", &[("_csrf", &token), ("session", &session_hash_hex(&bobs))]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(bob.logged_in("").await);

    let res = laptop
        .post_form("/account/sessions/revoke", &[("_csrf", &token), ("session", &session_hash_hex(&lost_phone))])
        .await;
    res.assert_redirect("/account/sessions?done=revoked");
    assert!(!phone.logged_in("").await, "the revoked session still works");
    assert!(!replay(&app, PORTAL_COOKIE, &lost_phone).logged_in("").await);
    assert!(laptop.logged_in("").await);
}

#[tokio::test]
async fn revoking_ones_own_current_session_logs_out() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    let session = browser.login_ok("", "alice@example.com", false).await;
    let token = browser.token("/account/sessions").await;
    let res = browser
        .post_form("/account/sessions/revoke", &[("_csrf", &token), ("session", &session_hash_hex(&session))])
        .await;
    res.assert_redirect("/login");
    assert!(res.clears(PORTAL_COOKIE));
    assert!(!replay(&app, PORTAL_COOKIE, &session).logged_in("").await);
}

/// A stolen remembered browser: revoking its session must also end the
/// remember-me series behind it, or its next request logs it straight back in.
#[tokio::test]
async fn revoking_a_remembered_session_also_ends_its_remember_me_series() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    app.person("root@example.com", Role::Admin).await;
    let mut stolen = app.browser();
    let stolen_session = stolen.login_ok("", "alice@example.com", true).await;
    let mut own = app.browser();
    own.login_ok("", "alice@example.com", true).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;

    let token = admin.token("/admin/sessions").await;
    let res = admin
        .post_form("/admin/sessions/revoke", &[("_csrf", &token), ("session", &session_hash_hex(&stolen_session))])
        .await;
    res.assert_redirect("/admin/sessions?done=revoked");
    assert!(!stolen.logged_in("").await, "the remember cookie must not bring the revoked browser back");
    assert!(own.logged_in("").await, "the person's other devices are untouched");
    assert_eq!(app.store.raw().remember_of_person(alice.id).await.expect("read").len(), 1);

    // Revoking one's own current session logs out for good, on this device.
    let session = own.cookie(PORTAL_COOKIE).expect("session").to_owned();
    let token = own.token("/account/sessions").await;
    let res =
        own.post_form("/account/sessions/revoke", &[("_csrf", &token), ("session", &session_hash_hex(&session))]).await;
    assert!(res.clears(PORTAL_COOKIE) && res.clears(REMEMBER_PORTAL));
    assert!(!own.logged_in("").await);
    assert!(app.store.raw().remember_of_person(alice.id).await.expect("read").is_empty());
}

#[tokio::test]
async fn an_admin_can_revoke_anyones_session_from_admin_sessions() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    app.person("carol@example.com", Role::Agent).await;
    let root = app.person("root@example.com", Role::Admin).await;
    let mut alice_browser = app.browser();
    let alice_session = alice_browser.login_ok("", "alice@example.com", false).await;
    let mut carol_browser = app.browser();
    let carol_session = carol_browser.login_ok("/agent", "carol@example.com", false).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;

    let page = admin.get("/admin/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(&session_hash_hex(&alice_session)) && html.contains(&session_hash_hex(&carol_session)));
    let token = csrf_from(&html);

    for (session, prefix) in [(&alice_session, ""), (&carol_session, "/agent")] {
        let res = admin
            .post_form("/admin/sessions/revoke", &[("_csrf", &token), ("session", &session_hash_hex(session))])
            .await;
        res.assert_redirect("/admin/sessions?done=revoked");
        assert!(!replay(&app, session_cookie_of(prefix), session).logged_in(prefix).await);
    }
    assert!(!alice_browser.logged_in("").await && !carol_browser.logged_in("/agent").await);
    assert!(admin.logged_in("/admin").await);
    let revoked = tessera_store::AuditStore::audit(
        app.store.raw(),
        &tessera_store::AuditFilter {
            person_id: Some(alice.id),
            kind: Some(AuditKind::SessionRevoked),
            ..Default::default()
        },
    )
    .await
    .expect("audit");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].event.actor_id, Some(root.id), "the audit says which admin revoked it");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_remember_tokens_and_rotates_the_current_one() {
    let app = TestApp::new().await;
    let carol = app.person("carol@example.com", Role::Agent).await;
    let mut laptop = app.browser();
    let before = laptop.login_ok("", "carol@example.com", false).await;
    let mut phone = app.browser();
    phone.login_ok("", "carol@example.com", true).await;
    let phone_remember = phone.cookie(REMEMBER_PORTAL).expect("remember cookie").to_owned();
    let mut desk = app.browser();
    desk.login_ok("/agent", "carol@example.com", true).await;
    let desk_remember = desk.cookie(REMEMBER_AGENT).expect("remember cookie").to_owned();

    let token = laptop.token("/account/password").await;
    let new = "a much better passphrase";
    let res = laptop
        .post_form("/account/password", &[("_csrf", &token), ("current", PASSWORD), ("new", new), ("confirm", new)])
        .await;
    res.assert_redirect("/account?done=password");
    let after = res.sets(PORTAL_COOKIE).expect("the current session continues under a new ID");
    assert_ne!(after, before);

    assert!(laptop.logged_in("").await, "the current session ended");
    assert!(!replay(&app, PORTAL_COOKIE, &before).logged_in("").await, "the old ID still works");
    assert!(!phone.logged_in("").await, "another session survived the password change");
    assert!(!desk.logged_in("/agent").await, "an agent session survived the password change");
    assert!(!replay(&app, REMEMBER_PORTAL, &phone_remember).logged_in("").await, "a remember-me token survived");
    assert!(!replay(&app, REMEMBER_AGENT, &desk_remember).logged_in("/agent").await, "a remember-me token survived");
    assert!(app.store.raw().remember_of_person(carol.id).await.expect("read").is_empty());
    assert_eq!(app.store.raw().sessions_of_person(carol.id).await.expect("read").len(), 1);

    let mut fresh = app.browser();
    assert_eq!(fresh.login("", "carol@example.com", PASSWORD, false, None).await.status, StatusCode::UNAUTHORIZED);
    fresh.login("", "carol@example.com", new, false, None).await.assert_redirect("/account");
}

#[tokio::test]
async fn disabling_an_account_ends_all_its_sessions_and_remember_tokens_at_once() {
    let app = TestApp::new().await;
    let carol = app.person("carol@example.com", Role::Agent).await;
    app.person("root@example.com", Role::Admin).await;
    let mut portal = app.browser();
    portal.login_ok("", "carol@example.com", true).await;
    let remember = portal.cookie(REMEMBER_PORTAL).expect("remember cookie").to_owned();
    let mut agent = app.browser();
    agent.login_ok("/agent", "carol@example.com", true).await;
    let agent_remember = agent.cookie(REMEMBER_AGENT).expect("remember cookie").to_owned();
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;

    let token = admin.token("/admin/people").await;
    let res = admin.post_form("/admin/people/disable", &[("_csrf", &token), ("person", &carol.id.to_string())]).await;
    res.assert_redirect("/admin/people?done=disabled");

    assert!(app.stored_person(carol.id).await.disabled);
    assert!(!portal.logged_in("").await);
    assert!(!agent.logged_in("/agent").await);
    assert!(!replay(&app, REMEMBER_PORTAL, &remember).logged_in("").await);
    assert!(!replay(&app, REMEMBER_AGENT, &agent_remember).logged_in("/agent").await);
    assert!(app.store.raw().sessions_of_person(carol.id).await.expect("read").is_empty());
    assert!(app.store.raw().remember_of_person(carol.id).await.expect("read").is_empty());
    let mut again = app.browser();
    assert_eq!(again.login("", "carol@example.com", PASSWORD, false, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.audit_count(carol.id, AuditKind::PersonDisabled).await, 1);
}

#[tokio::test]
async fn a_role_change_ends_the_persons_sessions_and_the_next_login_has_a_new_id_and_the_new_role() {
    let app = TestApp::new().await;
    let dan = app.person("dan@example.com", Role::User).await;
    app.person("root@example.com", Role::Admin).await;
    let mut portal = app.browser();
    let old_session = portal.login_ok("", "dan@example.com", true).await;
    let mut agent = app.browser();
    let refused = agent.login("/agent", "dan@example.com", PASSWORD, false, Some(1001)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "a user may not use the agent interface");
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;

    let token = admin.token("/admin/people").await;
    let res = admin
        .post_form("/admin/people/role", &[("_csrf", &token), ("person", &dan.id.to_string()), ("role", "agent")])
        .await;
    res.assert_redirect("/admin/people?done=role");

    assert_eq!(app.stored_person(dan.id).await.role, Role::Agent);
    assert!(!portal.logged_in("").await, "the session carrying the old privileges ended");
    assert!(app.store.raw().remember_of_person(dan.id).await.expect("read").is_empty());
    let new_session = portal.login_ok("", "dan@example.com", false).await;
    assert_ne!(new_session, old_session, "a new session ID");
    agent.login_ok("/agent", "dan@example.com", false).await;
    assert_eq!(app.audit_count(dan.id, AuditKind::RoleChanged).await, 1);
}

#[tokio::test]
async fn an_admin_cannot_disable_their_own_account() {
    let app = TestApp::new().await;
    let root = app.person("root@example.com", Role::Admin).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;
    let token = admin.token("/admin/people").await;
    let res = admin.post_form("/admin/people/disable", &[("_csrf", &token), ("person", &root.id.to_string())]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(!app.stored_person(root.id).await.disabled);
    assert!(admin.logged_in("/admin").await);
}

#[tokio::test]
async fn unauthenticated_account_pages_redirect_to_their_interfaces_login() {
    let app = TestApp::new().await;
    for prefix in ["", "/agent", "/admin"] {
        for page in ["/account", "/account/sessions", "/account/password"] {
            let res = app.browser().get(&format!("{prefix}{page}")).await;
            res.assert_redirect(&format!("{prefix}/login"));
        }
    }
    for page in ["/admin/sessions", "/admin/people", "/admin/audit", "/admin", "/agent"] {
        let prefix = if page.starts_with("/admin") { "/admin" } else { "/agent" };
        app.browser().get(page).await.assert_redirect(&format!("{prefix}/login"));
    }
}

#[tokio::test]
async fn a_logged_in_person_visiting_the_login_page_goes_to_their_account() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    browser.login_ok("", "alice@example.com", false).await;
    browser.get("/login").await.assert_redirect("/account");
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.text().contains("alice@example.com"));
}
