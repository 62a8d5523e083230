//! Bad input gets a clear 4xx, never a 5xx or a panic: malformed `Cookie`
//! headers of every kind, garbage in every registry cookie, malformed and
//! oversized form bodies.

mod common;

use axum::body::Body;
use common::*;
use http::{HeaderValue, Method, Request, StatusCode, header};
use tessera_core::{RememberToken, Role, SessionToken};

/// Where malformed cookies are sent: every interface, safe and unsafe methods.
const PROBES: [(&str, &str); 10] = [
    ("GET", "/api/session"),
    ("GET", "/"),
    ("GET", "/login"),
    ("GET", "/account"),
    ("GET", "/agent/account"),
    ("GET", "/admin/account"),
    ("GET", "/agent/login"),
    ("POST", "/logout"),
    ("POST", "/agent/logout"),
    ("POST", "/admin/people/disable"),
];

/// Sends `cookies` (each its own `Cookie` header line) to every probe.
/// The harness fails the test on any 5xx or undeclared `Set-Cookie`.
async fn probe(app: &TestApp, cookies: &[HeaderValue]) -> Vec<Response> {
    let mut responses = Vec::new();
    for (method, path) in PROBES {
        let mut req = Request::builder().method(method).uri(path);
        for c in cookies {
            req = req.header(header::COOKIE, c.clone());
        }
        if method == "POST" {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let res = app.send(req.body(Body::from("_csrf=x&person=1")).expect("a valid request")).await;
        assert!(res.status.is_success() || res.status.is_redirection() || res.status.is_client_error());
        if method == "POST" {
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{method} {path} got through");
        }
        responses.push(res);
    }
    responses
}

/// `GET /api/session` with exactly these `Cookie` header lines.
async fn session_with(app: &TestApp, cookies: &[HeaderValue]) -> Response {
    let mut req = Request::get("/api/session");
    for c in cookies {
        req = req.header(header::COOKIE, c.clone());
    }
    app.send(req.body(Body::empty()).expect("a valid request")).await
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("a valid header value")
}

async fn logged_in_app() -> (TestApp, String) {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    let session = app.browser().login_ok("", "alice@example.com", false).await;
    (app, session)
}

#[tokio::test]
async fn duplicate_session_cookies_never_cause_a_server_error() {
    let (app, session) = logged_in_app().await;
    let forged = SessionToken::generate().encode();
    let cases = [
        vec![value(&format!("{PORTAL_COOKIE}={session}; {PORTAL_COOKIE}={session}"))],
        vec![value(&format!("{PORTAL_COOKIE}={session}; {PORTAL_COOKIE}=garbage"))],
        vec![value(&format!("{PORTAL_COOKIE}=garbage; {PORTAL_COOKIE}={session}"))],
        vec![value(&format!("{PORTAL_COOKIE}={forged}; {PORTAL_COOKIE}={session}"))],
        vec![value(&format!("{PORTAL_COOKIE}={session}")), value(&format!("{PORTAL_COOKIE}={forged}"))],
        vec![value(&format!("{PORTAL_COOKIE}=")), value(&format!("{PORTAL_COOKIE}={session}"))],
    ];
    for cookies in &cases {
        probe(&app, cookies).await;
    }
    // The first occurrence decides: a valid one is used, an invalid one never falls through to another.
    assert_eq!(session_with(&app, &cases[0]).await.status, StatusCode::OK);
    assert_eq!(session_with(&app, &cases[1]).await.status, StatusCode::OK);
    assert_eq!(session_with(&app, &cases[3]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(session_with(&app, &cases[4]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn cookie_pairs_without_equals_never_cause_a_server_error() {
    let (app, session) = logged_in_app().await;
    for text in [
        "justaname".to_owned(),
        ";;;".to_owned(),
        "=".to_owned(),
        "=value".to_owned(),
        PORTAL_COOKIE.to_owned(),
        format!("{PORTAL_COOKIE}; {CSRF_COOKIE}; {REMEMBER_PORTAL}"),
        format!("noequals; {PORTAL_COOKIE}={session}; also-none"),
    ] {
        probe(&app, &[value(&text)]).await;
    }
    let mixed = value(&format!("noequals; {PORTAL_COOKIE}={session}; also-none"));
    assert_eq!(session_with(&app, &[mixed]).await.status, StatusCode::OK, "one bad pair spoils the header");
}

#[tokio::test]
async fn quoted_cookie_values_never_cause_a_server_error_and_are_unquoted() {
    let (app, session) = logged_in_app().await;
    for text in [
        format!("{PORTAL_COOKIE}=\"{session}\""),
        format!("{PORTAL_COOKIE}=\"{session}"),
        format!("{PORTAL_COOKIE}={session}\""),
        format!("{PORTAL_COOKIE}=\"\""),
        format!("{PORTAL_COOKIE}=\""),
        format!("{REMEMBER_PORTAL}=\"a:b\"; {CSRF_COOKIE}=\"\\\"\""),
    ] {
        probe(&app, &[value(&text)]).await;
    }
    // RFC 6265 allows a DQUOTE-wrapped value; half-quoted ones are garbage.
    let quoted = value(&format!("{PORTAL_COOKIE}=\"{session}\""));
    assert_eq!(session_with(&app, &[quoted]).await.status, StatusCode::OK);
    let half = value(&format!("{PORTAL_COOKIE}=\"{session}"));
    assert_eq!(session_with(&app, &[half]).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn non_utf8_cookie_bytes_never_cause_a_server_error() {
    let (app, session) = logged_in_app().await;
    let raw: Vec<Vec<u8>> = vec![
        b"\xff\xfe\xfd".to_vec(),
        [PORTAL_COOKIE.as_bytes(), b"=\xc3\x28\xa0\xa1"].concat(),
        [CSRF_COOKIE.as_bytes(), b"=\x80\x81\x82; ", REMEMBER_PORTAL.as_bytes(), b"=\xf0\x28\x8c\x28"].concat(),
        [b"\xe2\x82=\xe2\x82; ".as_slice(), PORTAL_COOKIE.as_bytes(), b"=", session.as_bytes()].concat(),
    ];
    for bytes in &raw {
        let header = HeaderValue::from_bytes(bytes).expect("obs-text is a valid header value");
        probe(&app, &[header]).await;
    }
    let mixed = HeaderValue::from_bytes(&raw[3]).expect("header");
    assert_eq!(session_with(&app, &[mixed]).await.status, StatusCode::OK, "foreign bytes elsewhere spoil the session");
}

#[tokio::test]
async fn an_8_kb_cookie_header_never_causes_a_server_error() {
    let (app, session) = logged_in_app().await;
    let big_value = format!("junk={}", "x".repeat(8 * 1024));
    let many_pairs = (0..800).map(|i| format!("c{i}=v{i}")).collect::<Vec<_>>().join("; ");
    let huge_session = format!("{PORTAL_COOKIE}={}", "A".repeat(8 * 1024));
    let huge_remember = format!("{REMEMBER_PORTAL}={}:{}", "A".repeat(4 * 1024), "B".repeat(4 * 1024));
    let huge_csrf = format!("{CSRF_COOKIE}={}", "C".repeat(8 * 1024));
    for text in [&big_value, &many_pairs, &huge_session, &huge_remember, &huge_csrf] {
        assert!(text.len() >= 8 * 1024);
        probe(&app, &[value(text)]).await;
    }
    let behind = value(&format!("{many_pairs}; {PORTAL_COOKIE}={session}"));
    assert_eq!(session_with(&app, &[behind]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_empty_cookie_header_never_causes_a_server_error() {
    let app = TestApp::new().await;
    probe(&app, &[HeaderValue::from_static("")]).await;
    probe(&app, &[HeaderValue::from_static(""), HeaderValue::from_static("")]).await;
    probe(&app, &[HeaderValue::from_static("   ")]).await;
    probe(&app, &[HeaderValue::from_static("; ")]).await;
}

#[tokio::test]
async fn garbage_in_every_registry_cookie_never_causes_a_server_error() {
    let (app, _) = logged_in_app().await;
    let names = registry_names(&app.registry);
    let well_formed_unknown_session = SessionToken::generate().encode();
    let well_formed_unknown_remember = RememberToken::generate().encode();
    let garbage = [
        "",
        "x",
        "null",
        "undefined",
        ":",
        "a:b",
        "::::",
        "%00%ff",
        "\\u0000",
        "<script>alert(1)</script>",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "////////////////////////////////////////////",
        well_formed_unknown_session.as_str(),
        well_formed_unknown_remember.as_str(),
    ];
    for name in &names {
        for junk in garbage {
            let header = value(&format!("{name}={junk}"));
            let responses = probe(&app, &[header]).await;
            for res in &responses {
                let leaked = format!("{:?}", res.headers).contains(junk) && junk.len() > 8;
                assert!(!leaked, "{name}={junk} is echoed in the headers");
            }
        }
        // All of them at once.
        let all = garbage.iter().map(|g| format!("{name}={g}")).collect::<Vec<_>>().join("; ");
        probe(&app, &[value(&all)]).await;
    }
    // A well-formed remember token nobody issued is refused and cleared, without theft.
    let res = session_with(&app, &[value(&format!("{REMEMBER_PORTAL}={well_formed_unknown_remember}"))]).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.clears(REMEMBER_PORTAL));
}

#[tokio::test]
async fn malformed_form_bodies_get_a_4xx() {
    let (app, _) = logged_in_app().await;
    app.person("root@example.com", Role::Admin).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "root@example.com", false).await;
    let mut visitor = app.browser();
    let login_token = visitor.token("/login").await;
    let admin_token = admin.token("/admin/people").await;

    let bodies: [(&str, &[u8]); 9] = [
        ("application/x-www-form-urlencoded", b"%%%%"),
        ("application/x-www-form-urlencoded", b"email=%ZZ&password=%"),
        ("application/x-www-form-urlencoded", b"email=\xff\xfe&password=\xc3\x28"),
        ("application/x-www-form-urlencoded", b"&&&===&&&"),
        ("application/x-www-form-urlencoded", b"email[]=a&email[]=b&password[x]=y"),
        ("application/x-www-form-urlencoded", b"person=not-a-number"),
        ("application/json", b"{\"email\":\"alice@example.com\"}"),
        ("text/plain", b"hello"),
        ("multipart/form-data; boundary=x", b"--x--"),
    ];
    for (browser, path, token) in
        [(&mut visitor, "/login", &login_token), (&mut admin, "/admin/people/disable", &admin_token)]
    {
        for (content_type, body) in bodies {
            // With the token in the header, the body reaches the handler's form parser.
            let req = browser
                .builder(Method::POST, path)
                .header("x-csrf-token", token.as_str())
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.to_vec()))
                .expect("a valid request");
            let res = browser.send(req).await;
            assert!(res.status.is_client_error(), "{path} {content_type} {body:?}: {}", res.status);
            // With the token expected in the body, the guard refuses it.
            let req = browser
                .builder(Method::POST, path)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.to_vec()))
                .expect("a valid request");
            assert_eq!(browser.send(req).await.status, StatusCode::FORBIDDEN, "{path} {content_type} {body:?}");
        }
    }
    assert!(visitor.cookie(PORTAL_COOKIE).is_none());
}

#[tokio::test]
async fn oversized_forms_get_a_4xx() {
    let (app, _) = logged_in_app().await;
    let mut visitor = app.browser();
    let token = visitor.token("/login").await;

    // Token in the body: the guard refuses to read past its limit.
    let padding = "x".repeat(100 * 1024);
    let body = form(&[("_csrf", &token), ("email", "alice@example.com"), ("password", PASSWORD), ("pad", &padding)]);
    let req = visitor
        .builder(Method::POST, "/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("a valid request");
    let res = visitor.send(req).await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert!(res.set_cookie(PORTAL_COOKIE).is_none());

    // Token in the header: the framework's body limit applies.
    let padding = "x".repeat(3 * 1024 * 1024);
    let body = form(&[("email", "alice@example.com"), ("password", PASSWORD), ("pad", &padding)]);
    let req = visitor
        .builder(Method::POST, "/login")
        .header("x-csrf-token", &token)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("a valid request");
    let res = visitor.send(req).await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert!(res.set_cookie(PORTAL_COOKIE).is_none());

    // An absurd password is refused without being hashed.
    let long = "p".repeat(100_000);
    let req = visitor
        .builder(Method::POST, "/login")
        .header("x-csrf-token", &token)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form(&[("email", "alice@example.com"), ("password", &long)])))
        .expect("a valid request");
    assert_eq!(visitor.send(req).await.status, StatusCode::UNAUTHORIZED);
}
