//! Security headers and the pages that show what Tessera sets: every HTML
//! response is unframeable, unsniffable and uncached; the hashed stylesheet
//! is cached forever; `/cookies` lists the whole registry; no cookie value
//! carries personal data. Also proves the harness's registry check is live.

mod common;

use common::*;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tessera_cookies::{Registry, RegistryConfig};
use tessera_core::Role;

#[tokio::test]
async fn every_html_response_has_the_security_headers() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;
    let mut browser = app.browser();
    let mut seen = 0;
    let mut visit = |res: &Response, what: &str| {
        if res.header("content-type").is_some_and(|ct| ct.starts_with("text/html")) {
            check_security_headers(what, res);
            assert_eq!(res.header("x-frame-options"), Some("DENY"), "{what}");
            assert!(res.header("strict-transport-security").is_none(), "{what}: HSTS on plain HTTP");
            seen += 1;
        }
    };
    for path in ["/", "/login", "/agent/login", "/admin/login", "/cookies", "/no/such/page", "/assets/nope.css"] {
        let res = browser.get(path).await;
        visit(&res, path);
    }
    let refused = browser.post_form("/logout", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    visit(&refused, "a refused POST");
    let failed = browser.login("", "root@example.com", "wrong", false, None).await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    visit(&failed, "a failed login");

    for prefix in ["", "/agent", "/admin"] {
        browser.login_ok(prefix, "root@example.com", false).await;
    }
    let pages = [
        "/",
        "/account",
        "/account/sessions",
        "/account/password",
        "/agent",
        "/agent/account",
        "/agent/account/sessions",
        "/admin",
        "/admin/account",
        "/admin/sessions",
        "/admin/people",
        "/admin/audit",
        "/cookies",
    ];
    for path in pages {
        let res = browser.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        visit(&res, path);
    }
    assert_eq!(seen, 7 + 2 + pages.len(), "every one of them is HTML");

    // The JSON API and redirects get the same protection.
    let api = browser.get("/api/session").await;
    assert_eq!(api.header("cache-control"), Some("no-store"));
    assert_eq!(api.header("x-content-type-options"), Some("nosniff"));
    let redirect = app.browser().get("/account").await;
    assert!(redirect.header("content-security-policy").is_some_and(|c| c.contains("frame-ancestors 'none'")));
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app = TestApp::configured(
        |_| {},
        |web| {
            web.public_origin = "https://help.example.com".into();
            web.https = true;
        },
    )
    .await;
    let res = app.browser().get("/login").await;
    let hsts = res.header("strict-transport-security").expect("HSTS on HTTPS");
    assert!(hsts.contains("max-age=") && hsts.contains("includeSubDomains"), "{hsts}");
}

#[tokio::test]
async fn the_hashed_css_asset_is_immutable() {
    let app = TestApp::new().await;
    let html = app.browser().get("/login").await.text();
    let start = html.find("href=\"/assets/tessera.").expect("a hashed stylesheet link") + "href=\"".len();
    let url = &html[start..start + html[start..].find('"').expect("closed href")];
    assert!(url.ends_with(".css"), "{url}");

    let res = app.browser().get(url).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").is_some_and(|ct| ct.starts_with("text/css")));
    let cache = res.header("cache-control").expect("Cache-Control");
    assert!(cache.contains("immutable") && cache.contains("max-age=31536000"), "{cache}");
    assert!(res.set_cookies().is_empty(), "a cacheable asset sets a cookie");
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));

    // Another hash is not served (so a stale name can never be cached forever).
    let res = app.browser().get("/assets/tessera.000000000000.css").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn the_cookie_policy_lists_every_registry_declaration() {
    let app = TestApp::new().await;
    let res = app.browser().get("/cookies").await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.text();
    for d in app.registry.declarations() {
        assert!(html.contains(&d.name), "{} is missing from /cookies", d.name);
        let purpose_start: String = d.purpose.chars().take(30).collect();
        assert!(html.contains(&purpose_start.replace('"', "&quot;")), "{}: purpose not shown", d.name);
    }
    for column in ["Name", "Description", "Type", "Applies to", "Essential", "Optional", "Persistent (30 days)"] {
        assert!(html.contains(column), "{column} is missing from /cookies");
    }
}

#[tokio::test]
async fn no_cookie_value_contains_the_email_or_name_of_the_person() {
    let app = TestApp::new().await;
    // Short names and emails make accidental matches likely if any were encoded.
    let carol = app.person("carol@example.com", Role::Admin).await;
    let mut all = Vec::new();
    let mut browser = app.browser();
    let mut record =
        |res: &Response| all.extend(res.set_cookies().into_iter().map(|c| (c.name().to_owned(), c.value().to_owned())));

    record(&browser.get("/login").await);
    record(&browser.login("", "carol@example.com", PASSWORD, true, None).await);
    record(&browser.login("/agent", "carol@example.com", PASSWORD, true, Some(1001)).await);
    record(&browser.login("/admin", "carol@example.com", PASSWORD, false, None).await);
    browser.remove_cookie(PORTAL_COOKIE);
    browser.remove_cookie(AGENT_COOKIE);
    record(&browser.get("/api/session").await);
    record(&browser.get("/agent/account").await);
    record(&browser.logout("/admin").await);
    let token = browser.token("/account/password").await;
    let new = "carol@example.com Carol";
    record(
        &browser
            .post_form("/account/password", &[("_csrf", &token), ("current", PASSWORD), ("new", new), ("confirm", new)])
            .await,
    );
    record(&browser.logout("").await);

    let values: Vec<&(String, String)> = all.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(values.len() >= 8, "{all:?}");
    let person = app.stored_person(carol.id).await;
    for (name, value) in values {
        let lower = value.to_lowercase();
        for private in [person.email.as_str(), "carol", person.name.as_str()] {
            assert!(!lower.contains(&private.to_lowercase()), "{name} carries {private}");
        }
        // Opaque: base64url tokens (a colon between remember-me halves), at least 128 bits.
        assert!(value.len() >= 22, "{name}={value} is too short to be random");
        assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:".contains(&b)), "{name}={value}");
        assert!(!value.starts_with('{') && !value.contains('@'), "{name}={value}");
    }
}

#[test]
#[should_panic(expected = "is not declared in the registry")]
fn the_harness_fails_any_test_that_sees_an_undeclared_cookie() {
    let registry = registry();
    check_response(&registry, &[], "GET /", &response_setting("tracker=abc123; Path=/"));
}

#[test]
#[should_panic(expected = "HttpOnly")]
fn the_harness_fails_any_test_that_sees_a_cookie_with_other_attributes() {
    let registry = registry();
    check_response(&registry, &[], "GET /", &response_setting("__Host-ts_portal=abc; Path=/; Secure; SameSite=Lax"));
}

#[test]
#[should_panic(expected = "carries private data")]
fn the_harness_fails_any_test_that_sees_private_data_in_a_cookie() {
    let registry = registry();
    let res = response_setting("__Host-ts_csrf=alice@example.com; Path=/; HttpOnly; Secure; SameSite=Lax");
    check_response(&registry, &["alice@example.com".into()], "GET /", &res);
}

fn registry() -> Registry {
    Registry::new(RegistryConfig {
        secure: true,
        remember_portal_max_age: std::time::Duration::from_secs(30 * 86_400),
        remember_agent_max_age: std::time::Duration::from_secs(14 * 86_400),
        visitor_max_age: std::time::Duration::from_secs(365 * 86_400),
        cluster: false,
    })
}

fn response_setting(set_cookie: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, HeaderValue::from_str(set_cookie).expect("header"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response { status: StatusCode::OK, headers, body: Vec::new() }
}
