//! The CSRF matrix: on several unsafe endpoints, a request with a missing,
//! wrong, foreign (another browser's or another session's) or pre-login
//! token, or sent cross-site, gets 403 and changes nothing. A genuine token
//! works from the form field and from the `X-CSRF-Token` header.

mod common;

use axum::body::Body;
use common::*;
use http::{Method, StatusCode, header};
use tessera_core::Role;
use tessera_store::{Person, SessionStore};

const NEW_PASSWORD: &str = "an entirely new passphrase";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Login,
    Logout,
    PasswordChange,
    AdminDisable,
}

#[derive(Clone, Copy, Debug)]
enum Attack {
    MissingToken,
    WrongToken,
    GarbageToken,
    OtherBrowsersToken,
    OtherSessionsToken,
    TokenFromBeforeLogin,
    OtherInterfacesToken,
    CrossSiteFetch,
    SameSiteFetch,
    ForeignOrigin,
    NullOrigin,
    NoCsrfCookie,
}

const ATTACKS: [Attack; 12] = [
    Attack::MissingToken,
    Attack::WrongToken,
    Attack::GarbageToken,
    Attack::OtherBrowsersToken,
    Attack::OtherSessionsToken,
    Attack::TokenFromBeforeLogin,
    Attack::OtherInterfacesToken,
    Attack::CrossSiteFetch,
    Attack::SameSiteFetch,
    Attack::ForeignOrigin,
    Attack::NullOrigin,
    Attack::NoCsrfCookie,
];

/// One endpoint, a victim browser in the state the endpoint needs, and
/// tokens of every kind.
struct Case {
    app: TestApp,
    endpoint: Endpoint,
    victim: Browser,
    prefix: &'static str,
    path: &'static str,
    /// The form without `_csrf`.
    fields: Vec<(&'static str, String)>,
    genuine: String,
    other_browser: String,
    /// A token this browser got for an earlier session of the same interface.
    other_session: Option<String>,
    before_login: Option<String>,
    other_interface: String,
    /// The person the endpoint acts on.
    target: Person,
}

async fn case(endpoint: Endpoint) -> Case {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::Agent).await;
    app.person("mallory@example.com", Role::Admin).await;
    app.person("root@example.com", Role::Admin).await;
    let mut victim = app.browser();
    let mut mallory = app.browser();
    let other_interface = victim.token("/agent/login").await;
    let (prefix, path) = match endpoint {
        Endpoint::Login => ("", "/login"),
        Endpoint::Logout => ("", "/logout"),
        Endpoint::PasswordChange => ("", "/account/password"),
        Endpoint::AdminDisable => ("/admin", "/admin/people/disable"),
    };
    let before_login = victim.token(&format!("{prefix}/login")).await;
    let (genuine, other_browser, other_session, before_login, fields) = match endpoint {
        Endpoint::Login => {
            let fields = vec![("email", "alice@example.com".to_owned()), ("password", PASSWORD.to_owned())];
            (before_login, mallory.token("/login").await, None, None, fields)
        }
        Endpoint::Logout | Endpoint::PasswordChange => {
            victim.login_ok("", "alice@example.com", false).await;
            let earlier = victim.token("/account").await;
            // Log in again: the earlier session's tokens must die with it.
            victim.login_ok("", "alice@example.com", false).await;
            mallory.login_ok("", "mallory@example.com", false).await;
            let fields = match endpoint {
                Endpoint::Logout => vec![],
                _ => vec![
                    ("current", PASSWORD.to_owned()),
                    ("new", NEW_PASSWORD.to_owned()),
                    ("confirm", NEW_PASSWORD.to_owned()),
                ],
            };
            let page = if endpoint == Endpoint::Logout { "/account" } else { "/account/password" };
            (victim.token(page).await, mallory.token(page).await, Some(earlier), Some(before_login), fields)
        }
        Endpoint::AdminDisable => {
            victim.login_ok("/admin", "root@example.com", false).await;
            let earlier = victim.token("/admin/people").await;
            victim.login_ok("/admin", "root@example.com", false).await;
            mallory.login_ok("/admin", "mallory@example.com", false).await;
            let fields = vec![("person", alice.id.to_string())];
            let genuine = victim.token("/admin/people").await;
            (genuine, mallory.token("/admin/people").await, Some(earlier), Some(before_login), fields)
        }
    };
    // The person acted upon also has a session of their own, to see it survive.
    if endpoint == Endpoint::AdminDisable {
        let mut own = app.browser();
        own.login_ok("", "alice@example.com", false).await;
    }
    Case {
        app,
        endpoint,
        victim,
        prefix,
        path,
        fields,
        genuine,
        other_browser,
        other_session,
        before_login,
        other_interface,
        target: alice,
    }
}

/// A token that differs from `token` in its last character.
fn tampered(token: &str) -> String {
    let mut t = token.to_owned();
    let last = t.pop().expect("a non-empty token");
    t.push(if last == 'A' { 'B' } else { 'A' });
    t
}

impl Case {
    /// Sends the endpoint's form with `token` (if any) and extra headers.
    async fn post(&mut self, token: Option<&str>, headers: &[(&str, &str)], drop_csrf_cookie: bool) -> Response {
        let mut fields: Vec<(&str, &str)> = self.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(token) = token {
            fields.push(("_csrf", token));
        }
        let mut browser = self.victim.clone();
        if drop_csrf_cookie {
            browser.remove_cookie(CSRF_COOKIE);
        }
        let mut req =
            browser.builder(Method::POST, self.path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = browser.send(req.body(Body::from(form(&fields))).expect("a valid request")).await;
        if !drop_csrf_cookie {
            self.victim = browser;
        }
        res
    }

    async fn attack(&mut self, attack: Attack) -> Option<Response> {
        let genuine = self.genuine.clone();
        let res = match attack {
            Attack::MissingToken => self.post(None, &[], false).await,
            Attack::WrongToken => self.post(Some(&tampered(&genuine)), &[], false).await,
            Attack::GarbageToken => self.post(Some("'; DROP TABLE sessions; --"), &[], false).await,
            Attack::OtherBrowsersToken => self.post(Some(&self.other_browser.clone()), &[], false).await,
            Attack::OtherSessionsToken => self.post(Some(&self.other_session.clone()?), &[], false).await,
            Attack::TokenFromBeforeLogin => self.post(Some(&self.before_login.clone()?), &[], false).await,
            Attack::OtherInterfacesToken => self.post(Some(&self.other_interface.clone()), &[], false).await,
            Attack::CrossSiteFetch => self.post(Some(&genuine), &[("sec-fetch-site", "cross-site")], false).await,
            Attack::SameSiteFetch => self.post(Some(&genuine), &[("sec-fetch-site", "same-site")], false).await,
            Attack::ForeignOrigin => self.post(Some(&genuine), &[("origin", "https://evil.example")], false).await,
            Attack::NullOrigin => self.post(Some(&genuine), &[("origin", "null")], false).await,
            Attack::NoCsrfCookie => self.post(Some(&genuine), &[], true).await,
        };
        Some(res)
    }

    /// Asserts the endpoint's effect has not happened.
    async fn assert_unchanged(&mut self, what: &str) {
        let app = self.app.clone();
        let target = self.target.id;
        match self.endpoint {
            Endpoint::Login => {
                assert!(self.victim.cookie(PORTAL_COOKIE).is_none(), "{what}: a session cookie was set");
                let sessions = app.store.raw().sessions_of_person(target).await.expect("read");
                assert!(sessions.is_empty(), "{what}: a session was created");
            }
            Endpoint::Logout => {
                assert!(self.victim.clone().logged_in("").await, "{what}: logged out");
            }
            Endpoint::PasswordChange => {
                assert!(app.password_is(target, PASSWORD).await, "{what}: the password changed");
                assert!(self.victim.clone().logged_in("").await, "{what}: the session ended");
            }
            Endpoint::AdminDisable => {
                assert!(!app.stored_person(target).await.disabled, "{what}: the person was disabled");
                let sessions = app.store.raw().sessions_of_person(target).await.expect("read");
                assert_eq!(sessions.len(), 1, "{what}: the person's session ended");
                assert!(self.victim.clone().logged_in(self.prefix).await, "{what}: the admin was logged out");
            }
        }
    }

    /// Asserts the genuine request had its effect.
    async fn assert_done(&mut self, res: &Response) {
        let app = self.app.clone();
        let target = self.target.id;
        match self.endpoint {
            Endpoint::Login => {
                res.assert_redirect("/account");
                assert!(self.victim.logged_in("").await);
            }
            Endpoint::Logout => {
                res.assert_redirect("/login");
                assert!(!self.victim.logged_in("").await);
            }
            Endpoint::PasswordChange => {
                res.assert_redirect("/account?done=password");
                assert!(app.password_is(target, NEW_PASSWORD).await);
            }
            Endpoint::AdminDisable => {
                res.assert_redirect("/admin/people?done=disabled");
                assert!(app.stored_person(target).await.disabled);
            }
        }
    }
}

async fn matrix(endpoint: Endpoint) {
    let mut case = case(endpoint).await;
    let mut tried = 0;
    for attack in ATTACKS {
        let Some(res) = case.attack(attack).await else { continue };
        tried += 1;
        let what = format!("{endpoint:?} with {attack:?}");
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}: {}", res.text());
        assert!(res.text().contains("not accepted") || res.text().contains("not sent from a Tessera page"), "{what}");
        assert!(
            res.set_cookies().iter().all(|c| c.name() == CSRF_COOKIE),
            "{what}: a refused request set cookies: {:?}",
            res.set_cookies()
        );
        case.assert_unchanged(&what).await;
    }
    assert!(tried >= 9, "{endpoint:?}: only {tried} attacks apply");
    // The control: the same request with the genuine token works.
    let genuine = case.genuine.clone();
    let res = case.post(Some(&genuine), &[], false).await;
    case.assert_done(&res).await;
}

#[tokio::test]
async fn csrf_matrix_on_post_login() {
    matrix(Endpoint::Login).await;
}

#[tokio::test]
async fn csrf_matrix_on_post_logout() {
    matrix(Endpoint::Logout).await;
}

#[tokio::test]
async fn csrf_matrix_on_post_account_password() {
    matrix(Endpoint::PasswordChange).await;
}

#[tokio::test]
async fn csrf_matrix_on_post_admin_people_disable() {
    matrix(Endpoint::AdminDisable).await;
}

#[tokio::test]
async fn the_token_is_accepted_from_the_x_csrf_token_header() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    app.person("root@example.com", Role::Admin).await;

    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;
    let token = admin.token("/admin/people").await;
    let req = admin
        .builder(Method::POST, "/admin/people/disable")
        .header("x-csrf-token", &token)
        .header("origin", ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form(&[("person", &alice.id.to_string())])))
        .expect("a valid request");
    admin.send(req).await.assert_redirect("/admin/people?done=disabled");
    assert!(app.stored_person(alice.id).await.disabled);

    // A script's logout: no body at all, only the header.
    let token = admin.token("/admin/account").await;
    let req = admin.builder(Method::POST, "/admin/logout").header("x-csrf-token", &token).body(Body::empty());
    admin.send(req.expect("a valid request")).await.assert_redirect("/admin/login");
    assert!(!admin.logged_in("/admin").await);

    // A wrong header token is refused even when the body carries a good one.
    let mut browser = app.browser();
    app.person("bob@example.com", Role::User).await;
    browser.login_ok("", "bob@example.com", false).await;
    let token = browser.token("/account").await;
    let req = browser
        .builder(Method::POST, "/logout")
        .header("x-csrf-token", tampered(&token))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form(&[("_csrf", &token)])))
        .expect("a valid request");
    assert_eq!(browser.send(req).await.status, StatusCode::FORBIDDEN);
    assert!(browser.logged_in("").await);
}

#[tokio::test]
async fn the_token_changes_at_login() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser();
    let anonymous = browser.token("/login").await;
    browser.login_ok("", "alice@example.com", false).await;
    let logged_in = browser.token("/account").await;
    assert_ne!(anonymous, logged_in);

    // The pre-login token no longer works; the post-login one does.
    let res = browser.post_form("/logout", &[("_csrf", &anonymous)]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(browser.logged_in("").await);
    browser.post_form("/logout", &[("_csrf", &logged_in)]).await.assert_redirect("/login");

    // After logout, the logged-in token is as dead as the session.
    browser.login_ok("", "alice@example.com", false).await;
    assert_eq!(browser.post_form("/logout", &[("_csrf", &logged_in)]).await.status, StatusCode::FORBIDDEN);
    assert!(browser.logged_in("").await);
}

#[tokio::test]
async fn a_forged_csrf_cookie_does_not_make_a_token_valid() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let mut victim = app.browser();
    victim.login_ok("", "alice@example.com", false).await;
    let token = victim.token("/account").await;

    // The attacker can plant a cookie value but cannot compute a token for it.
    let mut planted = victim.clone();
    planted.set_cookie(CSRF_COOKIE, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(planted.post_form("/logout", &[("_csrf", &token)]).await.status, StatusCode::FORBIDDEN);
    for garbage in ["", "x", "not base64 !!", &"A".repeat(4_000)] {
        let mut b = victim.clone();
        b.set_cookie(CSRF_COOKIE, garbage);
        let req = b
            .builder(Method::POST, "/logout")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form(&[("_csrf", &token)])))
            .expect("a valid request");
        assert_eq!(b.send(req).await.status, StatusCode::FORBIDDEN, "anchor {garbage:?}");
    }
    assert!(victim.logged_in("").await);
}

#[tokio::test]
async fn safe_methods_change_nothing() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    app.person("root@example.com", Role::Admin).await;
    let mut browser = app.browser();
    browser.login_ok("", "alice@example.com", false).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;

    for path in ["/logout", "/account/sessions/revoke", "/account/devices/revoke"] {
        let res = browser.get(path).await;
        assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "GET {path}");
    }
    let disable = format!("/admin/people/disable?person={}", alice.id);
    assert_eq!(admin.get(&disable).await.status, StatusCode::METHOD_NOT_ALLOWED);
    let login = "/login?email=alice%40example.com&password=correct+horse+battery";
    let res = app.browser().get(login).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.set_cookie(PORTAL_COOKIE).is_none(), "a GET logged in");

    assert!(browser.logged_in("").await);
    assert!(!app.stored_person(alice.id).await.disabled);
}
