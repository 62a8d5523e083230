//! Accounts at the login form: one answer for unknown email and wrong
//! password, throttling per account and per IP with growing delays (429 and
//! `Retry-After`, never a permanent lockout), the agent login's site ID and
//! role check, and the audit trail of it all.

mod common;

use common::*;
use http::StatusCode;
use tessera_core::Role;
use tessera_store::AuditKind;

/// The page with the parts that may differ between two renderings removed:
/// the per-rendering CSRF token and the email the visitor typed (echoed back).
fn normalised(res: &Response, typed_email: &str) -> String {
    let html = res.text();
    let token = csrf_from(&html);
    html.replace(&token, "TOKEN").replace(typed_email, "EMAIL")
}

/// Seconds from a 429's `Retry-After`.
fn retry_after(res: &Response) -> i64 {
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    res.header("retry-after").expect("a 429 has Retry-After").parse().expect("Retry-After in seconds")
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_response() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    app.person("dora@example.com", Role::User).await;
    for prefix in ["", "/agent", "/admin"] {
        let site = (prefix == "/agent").then_some(1001);
        let hashed = || app.core.hasher().verifications();
        let mut one = app.browser();
        let before = hashed();
        let wrong_password = one.login(prefix, "alice@example.com", "not her password", false, site).await;
        assert_eq!(hashed() - before, 1, "{prefix}: a wrong password costs one hash check");
        let mut two = app.browser();
        let before = hashed();
        let unknown = two.login(prefix, "nobody@example.com", "not her password", false, site).await;
        assert_eq!(hashed() - before, 1, "{prefix}: an unknown email costs the same hash check (similar timing)");
        // A real person lacking the interface's role gets the same answer too.
        let mut three = app.browser();
        let wrong_role = three.login(prefix, "dora@example.com", PASSWORD, false, site).await;

        assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED, "{prefix}");
        assert_eq!(unknown.status, wrong_password.status, "{prefix}");
        let reference = normalised(&wrong_password, "alice@example.com");
        assert_eq!(normalised(&unknown, "nobody@example.com"), reference, "{prefix}: unknown email is told apart");
        if !prefix.is_empty() {
            assert_eq!(wrong_role.status, StatusCode::UNAUTHORIZED, "{prefix}: a plain user logged in");
            assert_eq!(normalised(&wrong_role, "dora@example.com"), reference, "{prefix}: wrong role is told apart");
        }
        assert!(reference.contains("Email or password is incorrect."), "{reference}");
        let cookies = |r: &Response| r.set_cookies().iter().map(|c| c.name().to_owned()).collect::<Vec<_>>();
        assert_eq!(cookies(&wrong_password), cookies(&unknown), "{prefix}");
    }
}

#[tokio::test]
async fn after_the_free_attempts_the_next_login_is_throttled_even_with_the_right_password() {
    let app = TestApp::new().await;
    let free = app.settings.throttle.account_free_attempts;
    let alice = app.person("alice@example.com", Role::User).await;
    let mut attacker = app.browser().at_ip("203.0.113.7");
    for attempt in 1..=free {
        let res = attacker.login("", "alice@example.com", &format!("guess {attempt}"), false, None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {attempt} of {free} free ones");
    }
    // Another browser, another IP, the right password: the account is throttled.
    let mut owner = app.browser().at_ip("198.51.100.1");
    let res = owner.login("", "alice@example.com", PASSWORD, false, None).await;
    let wait = retry_after(&res);
    assert!(wait >= 1, "Retry-After {wait}");
    assert!(res.set_cookie(PORTAL_COOKIE).is_none(), "a throttled attempt logged in");
    assert!(res.text().contains("try again in"), "{}", res.text());

    app.advance(wait);
    owner.login("", "alice@example.com", PASSWORD, false, None).await.assert_redirect("/account");
    assert!(app.audit_count(alice.id, AuditKind::LoginFailed).await >= free as usize);
}

#[tokio::test]
async fn throttling_delays_grow_but_never_lock_out_permanently() {
    let app = TestApp::new().await;
    let max = app.settings.throttle.max_delay_seconds;
    app.person("alice@example.com", Role::User).await;
    let mut attacker = app.browser();
    let mut delays = Vec::new();
    for _ in 0..40 {
        let res = attacker.login("", "alice@example.com", "wrong", false, None).await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after(&res);
            delays.push(wait);
            app.advance(wait);
        }
    }
    assert!(delays.len() >= 10, "{delays:?}");
    assert!(delays.windows(2).all(|w| w[1] >= w[0]), "delays must grow: {delays:?}");
    assert!(delays.iter().any(|d| *d > 60), "delays never grew: {delays:?}");
    assert!(delays.iter().all(|d| *d <= max), "a delay beyond the cap: {delays:?}");

    // Even after 40 failures, waiting the announced time lets the owner in.
    let mut owner = app.browser();
    let res = owner.login("", "alice@example.com", PASSWORD, false, None).await;
    let wait = if res.status == StatusCode::TOO_MANY_REQUESTS { retry_after(&res) } else { 0 };
    assert!(wait <= max);
    app.advance(wait);
    owner.login("", "alice@example.com", PASSWORD, false, None).await.assert_redirect("/account");
}

#[tokio::test]
async fn per_ip_throttling_spans_accounts() {
    let app = TestApp::with(|s| {
        s.throttle.ip_free_attempts = 4;
        s.throttle.account_free_attempts = 100;
    })
    .await;
    for name in ["ann", "ben", "cy", "dee", "eve"] {
        app.person(&format!("{name}@example.com"), Role::User).await;
    }
    let mut sprayer = app.browser().at_ip("203.0.113.50");
    for name in ["ann", "ben", "cy", "dee"] {
        let res = sprayer.login("", &format!("{name}@example.com"), "Winter2024!", false, None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // A fifth account from the same address: throttled, even with its right password.
    let res = sprayer.login("", "eve@example.com", PASSWORD, false, None).await;
    let wait = retry_after(&res);

    // Another address is not affected.
    let mut elsewhere = app.browser().at_ip("198.51.100.9");
    elsewhere.login("", "eve@example.com", PASSWORD, false, None).await.assert_redirect("/account");
    // IPv6 works as well as IPv4.
    let mut v6 = app.browser().at_ip("2001:db8::1");
    v6.login("", "ann@example.com", PASSWORD, false, None).await.assert_redirect("/account");

    app.advance(wait);
    sprayer.login("", "eve@example.com", PASSWORD, false, None).await.assert_redirect("/account");
}

#[tokio::test]
async fn behind_a_trusted_proxy_throttling_follows_the_forwarded_client_not_the_proxy() {
    const PROXY: &str = "10.0.0.1";
    let app = TestApp::configured(
        |s| {
            s.throttle.ip_free_attempts = 3;
            s.throttle.account_free_attempts = 100;
        },
        |w| w.trusted_proxies = vec![PROXY.parse().expect("an IP")],
    )
    .await;
    for name in ["ann", "ben", "cy", "dee"] {
        app.person(&format!("{name}@example.com"), Role::User).await;
    }
    // The attacker also forges an X-Forwarded-For entry; the proxy appends the real address.
    let mut sprayer = app.browser().behind_proxy(PROXY, "198.51.100.1, 203.0.113.50");
    for name in ["ann", "ben", "cy"] {
        let res = sprayer.login("", &format!("{name}@example.com"), "Winter2024!", false, None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = sprayer.login("", "dee@example.com", PASSWORD, false, None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "the attacker's own address is throttled");

    // Everyone else comes through the same proxy and is not affected.
    let mut neighbour = app.browser().behind_proxy(PROXY, "198.51.100.1");
    neighbour.login("", "dee@example.com", PASSWORD, false, None).await.assert_redirect("/account");
    let recorded = app.audit_ips(AuditKind::LoginSucceeded).await;
    assert_eq!(recorded, vec!["198.51.100.1".to_owned()], "the audit log shows the client, not the proxy");

    // An untrusted peer's X-Forwarded-For is not believed.
    let mut direct = app.browser().behind_proxy("203.0.113.50", "192.0.2.77");
    let res = direct.login("", "dee@example.com", PASSWORD, false, None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "same address as the sprayer, whatever the header says");
}

#[tokio::test]
async fn agent_login_requires_a_valid_site_id_and_the_agent_role() {
    let app = TestApp::new().await;
    let other_site = app.site(2002).await;
    app.person("carol@example.com", Role::Agent).await;
    app.person("alice@example.com", Role::User).await;
    app.person_on(other_site, "olga@example.com", Role::Agent).await;

    let page = app.browser().get("/agent/login").await.text();
    assert!(page.contains("name=\"site_id\"") && page.contains("Site ID"), "the agent form asks for the site ID");

    for bad in ["", "abc", "-1", "0", "99999999999", "1001; DROP"] {
        let mut b = app.browser();
        let token = b.token("/agent/login").await;
        let res = b
            .post_form(
                "/agent/login",
                &[("_csrf", &token), ("site_id", bad), ("email", "carol@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "site ID {bad:?}");
        assert!(res.set_cookie(AGENT_COOKIE).is_none());
    }
    // A site the agent does not belong to, and a site that does not exist.
    for site in [2002, 4242] {
        let res = app.browser().login("/agent", "carol@example.com", PASSWORD, false, Some(site)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "site {site}");
    }
    let res = app.browser().login("/agent", "alice@example.com", PASSWORD, false, Some(1001)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "a plain user logged into the agent interface");
    assert!(res.set_cookie(AGENT_COOKIE).is_none());

    let mut carol = app.browser();
    carol.login("/agent", "carol@example.com", PASSWORD, false, Some(1001)).await.assert_redirect("/agent/account");
    assert!(carol.get("/agent/account").await.text().contains("1001"));
    let mut olga = app.browser();
    olga.login("/agent", "olga@example.com", PASSWORD, false, Some(2002)).await.assert_redirect("/agent/account");
    assert!(olga.get("/agent/account").await.text().contains("2002"));
}

#[tokio::test]
async fn logins_failures_and_logouts_are_audited() {
    let app = TestApp::new().await;
    let alice = app.person("alice@example.com", Role::User).await;
    let mut browser = app.browser().at_ip("192.0.2.77");
    browser.login("", "alice@example.com", "wrong", false, None).await;
    browser.login_ok("", "alice@example.com", false).await;
    browser.logout("").await;
    for kind in [AuditKind::LoginFailed, AuditKind::LoginSucceeded, AuditKind::Logout] {
        assert_eq!(app.audit_count(alice.id, kind).await, 1, "{kind:?}");
    }
    let mut admin = app.browser();
    app.person("root@example.com", Role::Admin).await;
    admin.login_ok("/admin", "root@example.com", false).await;
    let log = admin.get("/admin/audit").await.text();
    assert!(log.contains("login_failed") && log.contains("192.0.2.77") && log.contains("wrong password"), "{log}");
}

/// A burst of parallel guesses gets no more tries than the same guesses one
/// after another: attempts sharing a throttle key take turns.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_parallel_guesses_is_throttled_like_sequential_ones() {
    let free = 5;
    let app = TestApp::with(|s| {
        s.throttle.ip_free_attempts = free;
        s.throttle.account_free_attempts = 1_000;
    })
    .await;
    app.person("ann@example.com", Role::User).await;
    let mut sprayer = app.browser().at_ip("203.0.113.50");
    let token = sprayer.token("/login").await;
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let mut client = sprayer.clone();
        let token = token.clone();
        burst.spawn(async move {
            let fields = [("_csrf", token.as_str()), ("email", "ann@example.com"), ("password", "guess-guess")];
            client.post_form("/login", &fields).await.status
        });
    }
    let statuses = burst.join_all().await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, throttled), (free as usize, 30 - free as usize), "{statuses:?}");
}
