//! Visitor monitoring over HTTP: the tag's hit under the solution types,
//! the third-party probe and first-party fallback, consent, the event path's
//! tickets, validation and limits. Every response passes the registry check.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use tessera_core::{ConsentMode, Origin, Role, SiteId, SolutionType, VisitorId};
use tessera_store::{MonitorStore, SiteStore};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

const SHOP: &str = "https://shop.example.test";

async fn setup(solution: SolutionType, mode: ConsentMode, cookieless: bool) -> TestApp {
    let app = TestApp::new().await;
    let mut settings = app.store.site(SiteId::DEFAULT).await.expect("read").expect("site").settings;
    settings.solution_type = solution;
    settings.consent_mode = mode;
    settings.monitoring.cookieless_counting = cookieless;
    settings.embed_origins = vec![Origin::parse(SHOP).expect("origin")];
    app.store.update_site(SiteId::DEFAULT, &settings, app.now()).await.expect("update");
    app.state.sites_changed();
    app
}

/// A browser on the shop: its server-side jar is the `Browser`'s, its
/// first-party cookies (the tag's, on the shop's domain) are kept here.
struct Page {
    browser: Browser,
    first_party: std::collections::BTreeMap<String, String>,
}

impl Page {
    fn new(app: &TestApp) -> Self {
        Self { browser: app.browser(), first_party: Default::default() }
    }

    async fn post(&mut self, path: &str, origin: &str, body: Value) -> Response {
        let req = self
            .browser
            .builder(Method::POST, path)
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
            .body(axum::body::Body::from(body.to_string()))
            .expect("a valid request");
        self.browser.send(req).await
    }

    /// One page load as monitor.js reports it; applies the answer as the tag does.
    async fn hit(&mut self, consent: Option<bool>, path: &str) -> (Response, Value) {
        let body = json!({
            "consent": consent, "url": format!("{SHOP}{path}"), "title": "A page", "referrer": "",
            "tab": "tab-1", "cookies": self.first_party,
        });
        let res = self.post("/monitor/1001/hit", SHOP, body).await;
        let answer = if res.status == StatusCode::OK { res.json() } else { Value::Null };
        if res.status == StatusCode::OK {
            for name in answer["clear"].as_array().expect("clear") {
                self.first_party.remove(name.as_str().expect("a name"));
            }
            self.write(&answer["set"]);
        }
        (res, answer)
    }

    fn write(&mut self, cookies: &Value) {
        for c in cookies.as_array().expect("cookies") {
            self.first_party.insert(c[0].as_str().expect("name").into(), c[1].as_str().expect("value").into());
        }
    }

    async fn probe(&mut self) -> bool {
        let req = self
            .browser
            .builder(Method::GET, "/monitor/1001/probe")
            .header(header::ORIGIN, SHOP)
            .body(axum::body::Body::empty())
            .expect("a valid request");
        let res = self.browser.send(req).await;
        assert_eq!(res.status, StatusCode::OK);
        res.json()["third_party"].as_bool().expect("a yes or no")
    }

    /// A browser restart: session cookies go on both sides.
    fn restart(&mut self, keep_first_party: &[&str]) {
        self.browser.restart();
        self.first_party.retain(|k, _| keep_first_party.iter().any(|p| k.starts_with(p)));
    }
}

fn visitor_of(app: &TestApp, answer: &Value) -> Option<VisitorId> {
    let ticket = answer["ticket"].as_str()?;
    app.state.monitor().signer().check_ticket(ticket).and_then(|t| t.visitor)
}

fn names(cookies: &Value) -> Vec<&str> {
    cookies.as_array().map(|a| a.iter().filter_map(|c| c[0].as_str()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn third_party_visitors_live_in_partitioned_cookies_and_a_first_visit_is_probed() {
    let app = setup(SolutionType::ThirdParty, ConsentMode::OptIn, false).await;
    let mut page = Page::new(&app);
    let (res, first) = page.hit(Some(true), "/").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    let vid = res.set_cookie("__Host-ts_tp_vid_1001").expect("the third-party visitor cookie");
    assert!(vid.partitioned() == Some(true) && vid.http_only() == Some(true) && vid.max_age().is_some());
    let sid = res.set_cookie("__Host-ts_tp_sid_1001").expect("the third-party visit cookie");
    assert!(sid.partitioned() == Some(true) && sid.max_age().is_none(), "a session cookie");
    assert_eq!(names(&first["set"]), ["ts_last_1001"], "only the signed last visit on the page");
    assert_eq!(first["probe"], json!(true), "nothing proves third-party cookies work yet");
    assert_eq!(names(&first["fallback"]), ["ts_vid_1001", "ts_sid_1001"]);
    assert_ne!(first["fallback"][0][1].as_str(), Some(vid.value()), "the HttpOnly token never reaches scripts");
    assert!(page.probe().await, "the cookie came back");
    assert_eq!(first["visit"], json!({"number": 1, "returning": false, "days_since_last": null}));

    let (res, second) = page.hit(Some(true), "/pricing").await;
    assert_eq!((second["probe"].clone(), second["visit"]["number"].clone()), (json!(false), json!(1)), "one visit");
    assert!(names(&second["fallback"]).is_empty() && res.set_cookie("__Host-ts_tp_vid_1001").is_some());
    assert_eq!(visitor_of(&app, &first), visitor_of(&app, &second));

    // Next week, after a browser restart: the same visitor, a second visit.
    page.restart(&["ts_last_"]);
    app.advance(7 * 86_400);
    let (_, later) = page.hit(Some(true), "/").await;
    assert_eq!(visitor_of(&app, &later), visitor_of(&app, &first));
    assert_eq!(later["visit"], json!({"number": 2, "returning": true, "days_since_last": 7}));
}

#[tokio::test]
async fn where_third_party_cookies_are_refused_the_first_party_fallback_carries_the_visitor() {
    let app = setup(SolutionType::ThirdParty, ConsentMode::OptIn, false).await;
    let mut page = Page::new(&app);
    let (_, first) = page.hit(Some(true), "/").await;
    // The browser drops what the server set (third-party cookies blocked).
    for name in page.browser.cookie_names() {
        page.browser.remove_cookie(&name);
    }
    assert!(!page.probe().await, "the probe sees no cookie");
    page.write(&first["fallback"]);
    let (res, second) = page.hit(Some(true), "/pricing").await;
    assert_eq!(second["probe"], json!(false), "the fallback is evidence enough");
    assert_eq!(names(&second["set"]), ["ts_vid_1001", "ts_sid_1001", "ts_last_1001"], "kept fresh");
    assert_eq!(second["visit"]["number"], json!(1), "the same visit");
    assert_eq!(visitor_of(&app, &second), visitor_of(&app, &first));
    // Third-party cookies work again: the first-party copies go.
    let mut again = Page { browser: page.browser, first_party: page.first_party };
    for c in res.set_cookies() {
        again.browser.set_cookie(c.name(), c.value());
    }
    let (_, third) = again.hit(Some(true), "/contact").await;
    assert_eq!(visitor_of(&app, &third), visitor_of(&app, &first));
    assert!(third["clear"].as_array().is_some_and(|c| c.contains(&json!("ts_vid_1001"))), "{third}");
}

#[tokio::test]
async fn session_only_types_do_not_recognise_a_browser_after_a_restart() {
    for solution in [SolutionType::ThirdPartySession, SolutionType::FirstPartySession] {
        let app = setup(solution, ConsentMode::OptIn, false).await;
        let mut page = Page::new(&app);
        let (res, first) = page.hit(Some(true), "/").await;
        assert!(res.set_cookies().iter().all(|c| c.max_age().is_none()), "{solution:?}: session cookies only");
        let visitor_cookie = if solution == SolutionType::FirstPartySession { "ts_vids_1001" } else { "ts_last_1001" };
        assert!(names(&first["set"]).contains(&visitor_cookie), "{solution:?}: {first}");
        let (_, second) = page.hit(Some(true), "/pricing").await;
        assert_eq!(
            visitor_of(&app, &second),
            visitor_of(&app, &first),
            "{solution:?}: one visitor per browser session"
        );
        page.restart(&["ts_last_"]);
        let (_, later) = page.hit(Some(true), "/").await;
        assert_ne!(visitor_of(&app, &later), visitor_of(&app, &first), "{solution:?}: a new visitor");
        assert_eq!(later["visit"]["number"], json!(1), "{solution:?}");
        assert_eq!(later["visit"]["returning"], json!(true), "{solution:?}: only the signed last visit says so");
    }
}

#[tokio::test]
async fn first_party_types_keep_the_visitor_on_the_page_and_the_cross_domain_type_shares_the_visit() {
    let app = setup(SolutionType::FirstPartyPersistentWithThirdPartySession, ConsentMode::OptIn, false).await;
    let mut shop = Page::new(&app);
    let (res, first) = shop.hit(Some(true), "/").await;
    assert_eq!(names(&first["set"]), ["ts_vid_1001", "ts_sid_1001", "ts_last_1001"]);
    let xd = res.set_cookie("__Host-ts_xd_sid_1001").expect("the cross-domain visit cookie");
    assert_eq!(xd.partitioned(), None, "not partitioned: readable under every top-level site");
    assert_eq!(first["probe"], json!(false));
    // The same browser on the customer's other domain: no first-party cookie
    // there, but the unpartitioned cookie names the visit.
    let mut other = Page { browser: shop.browser, first_party: Default::default() };
    let (_, there) = other.hit(Some(true), "/").await;
    assert_eq!(visitor_of(&app, &there), visitor_of(&app, &first), "one visitor across domains");
    assert_eq!(there["visit"]["number"], json!(1), "one visit");
    assert_ne!(there["set"][0][1], first["set"][0][1], "its own token on that domain");
}

#[tokio::test]
async fn without_consent_nothing_is_set_and_a_view_is_counted_only_without_any_identifier() {
    for cookieless in [false, true] {
        let app = setup(SolutionType::ThirdParty, ConsentMode::OptIn, cookieless).await;
        let mut page = Page::new(&app);
        let (res, answer) = page.hit(None, "/").await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.set_cookies().is_empty(), "no cookie before consent");
        assert!(names(&answer["set"]).is_empty() && answer["visit"].is_null());
        assert_eq!(answer["counted"], json!(cookieless));
        assert_eq!(answer["ticket"].is_string(), cookieless, "a ticket only to count more views");
        if cookieless {
            assert_eq!(visitor_of(&app, &answer), None, "the ticket names nobody");
        }
        let gpc = &mut Page { browser: app.browser().with_header("sec-gpc", "1"), first_party: Default::default() };
        let (res, answer) = gpc.hit(Some(true), "/").await;
        assert!(res.set_cookies().is_empty() && answer["visit"].is_null(), "Sec-GPC beats the page's yes");
    }
}

#[tokio::test]
async fn withdrawing_consent_clears_every_monitoring_cookie_and_the_old_token_stops_working() {
    let app = setup(SolutionType::ThirdParty, ConsentMode::OptIn, false).await;
    let mut page = Page::new(&app);
    let (_, first) = page.hit(Some(true), "/").await;
    let old = page.browser.cookie("__Host-ts_tp_vid_1001").expect("cookie").to_owned();
    // A page that has not answered yet withdraws nothing (and is not monitored).
    let (res, silent) = page.hit(None, "/").await;
    assert!(res.set_cookies().is_empty() && silent["clear"] == json!([]) && silent["visit"].is_null(), "{silent}");
    let (_, still) = page.hit(Some(true), "/").await;
    assert_eq!(visitor_of(&app, &still), visitor_of(&app, &first), "still the same visitor");
    let (res, refused) = page.hit(Some(false), "/").await;
    assert!(res.clears("__Host-ts_tp_vid_1001") && res.clears("__Host-ts_tp_sid_1001"), "{:?}", res.set_cookies());
    assert!(refused["clear"].as_array().is_some_and(|c| c.contains(&json!("ts_last_1001"))), "{refused}");
    assert!(refused["visit"].is_null());
    // A copy of the old cookie is worth nothing now.
    page.browser.set_cookie("__Host-ts_tp_vid_1001", &old);
    let (_, again) = page.hit(Some(true), "/").await;
    assert_ne!(visitor_of(&app, &again), visitor_of(&app, &first));
}

#[tokio::test]
async fn a_visit_ends_after_the_idle_window_and_switching_types_keeps_the_visitor() {
    let app = setup(SolutionType::ThirdParty, ConsentMode::OptOut, false).await;
    let mut page = Page::new(&app);
    let (_, first) = page.hit(None, "/").await;
    assert_eq!(first["visit"]["number"], json!(1), "opt-out: monitoring until the visitor says no");
    app.advance(31 * 60);
    let (_, second) = page.hit(None, "/").await;
    assert_eq!(second["visit"], json!({"number": 2, "returning": true, "days_since_last": 0}));

    let mut settings = app.store.site(SiteId::DEFAULT).await.expect("read").expect("site").settings;
    settings.solution_type = SolutionType::FirstPartyPersistent;
    app.store.update_site(SiteId::DEFAULT, &settings, app.now()).await.expect("update");
    app.state.sites_changed();
    let (res, switched) = page.hit(None, "/").await;
    assert_eq!(visitor_of(&app, &switched), visitor_of(&app, &first), "the visitor moves, unbroken");
    assert_eq!(switched["visit"]["number"], json!(2), "and the visit goes on");
    assert!(names(&switched["set"]).contains(&"ts_vid_1001"));
    assert!(res.clears("__Host-ts_tp_vid_1001") && res.clears("__Host-ts_tp_sid_1001"));
}

#[tokio::test]
async fn other_websites_and_pages_of_other_origins_are_refused() {
    let app = setup(SolutionType::ThirdParty, ConsentMode::None, false).await;
    let mut page = Page::new(&app);
    let body = json!({"url": format!("{SHOP}/"), "title": "x"});
    let res = page.post("/monitor/1001/hit", "https://evil.example", body.clone()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.header("access-control-allow-origin").is_none() && res.set_cookies().is_empty());
    for url in ["https://evil.example/", "javascript:alert(1)", "https://shop.example.test.evil.example/"] {
        let res = page.post("/monitor/1001/hit", SHOP, json!({"url": url})).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{url}");
    }
    let res = page.post("/monitor/1001/hit", SHOP, json!({"url": format!("{SHOP}/"), "tab": "<script>"})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = page.post("/monitor/1001/hit", SHOP, json!("not an object")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = page.post("/monitor/99999/hit", SHOP, body).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn events_need_a_genuine_fresh_ticket_and_one_visit_cannot_flood() {
    let app = setup(SolutionType::ThirdParty, ConsentMode::None, false).await;
    let mut page = Page::new(&app);
    let (_, answer) = page.hit(None, "/").await;
    let ticket = answer["ticket"].as_str().expect("a ticket").to_owned();
    let batch = |ticket: &str, n: usize| {
        let events: Vec<Value> =
            (0..n).map(|i| json!({"url": format!("{SHOP}/p{i}"), "title": "P", "tab": "t"})).collect();
        json!({"ticket": ticket, "events": events})
    };
    let res = page.post("/monitor/1001/events", SHOP, batch(&ticket, 3)).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    assert!(res.set_cookies().is_empty(), "the lean path sets nothing");

    let mut forged = ticket.clone().into_bytes();
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ASCII");
    assert_eq!(page.post("/monitor/1001/events", SHOP, batch(&forged, 1)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(page.post("/monitor/1001/events", SHOP, batch(&ticket, 0)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.post("/monitor/1001/events", SHOP, batch(&ticket, 51)).await.status, StatusCode::BAD_REQUEST);
    let foreign = json!({"ticket": ticket, "events": [{"url": "https://evil.example/"}]});
    assert_eq!(page.post("/monitor/1001/events", SHOP, foreign).await.status, StatusCode::BAD_REQUEST);

    // 60 at once is the burst a visit gets; more is refused, not queued.
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(page.post("/monitor/1001/events", SHOP, batch(&ticket, 40)).await.status);
    }
    assert_eq!(statuses, [StatusCode::ACCEPTED, StatusCode::TOO_MANY_REQUESTS]);

    app.advance(31 * 60);
    assert_eq!(page.post("/monitor/1001/events", SHOP, batch(&ticket, 1)).await.status, StatusCode::FORBIDDEN, "stale");
}

#[tokio::test]
async fn acknowledged_page_views_reach_the_store_and_the_visit_moves_on() {
    let app = setup(SolutionType::FirstPartyPersistent, ConsentMode::None, false).await;
    let mut page = Page::new(&app);
    let (_, answer) = page.hit(None, "/").await;
    let ticket = answer["ticket"].as_str().expect("a ticket").to_owned();
    let events = json!({"ticket": ticket, "events": [{"url": format!("{SHOP}/cart"), "title": "Cart", "tab": "t"}]});
    assert_eq!(page.post("/monitor/1001/events", SHOP, events).await.status, StatusCode::ACCEPTED);
    app.state.shutdown().await; // a graceful stop writes everything acknowledged
    let live = app.store.live_sessions(SiteId::DEFAULT, app.now().plus(-60), 10).await.expect("live");
    assert_eq!(live.len(), 1);
    assert_eq!(
        (live[0].current_url.as_str(), live[0].current_title.as_str()),
        ("https://shop.example.test/cart", "Cart")
    );
    let trail = app.store.page_events_of_session(live[0].id, 10).await.expect("trail");
    let urls: Vec<&str> = trail.iter().map(|e| e.url.as_str()).collect();
    assert_eq!(urls, ["https://shop.example.test/", "https://shop.example.test/cart"]);
}

#[tokio::test]
async fn the_chat_joins_the_tags_visitor_and_an_agent_sees_it_live_and_invites_it() {
    let app = setup(SolutionType::ThirdParty, ConsentMode::None, false).await;
    app.person("agent@example.com", Role::Agent).await;
    let addr = app.serve().await;
    let mut page = Page::new(&app);
    let (_, answer) = page.hit(None, "/pricing").await;
    let visitor = visitor_of(&app, &answer).expect("a visitor");

    // The Messenger frame, in the same browser partition: its session request
    // carries the tag's third-party visitor cookie.
    let req = page
        .browser
        .builder(Method::POST, "/messenger/session")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(json!({"site": 1001}).to_string()))
        .expect("a valid request");
    let res = page.browser.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let token = res.json()["token"].as_str().expect("a messaging token").to_owned();
    let mut ws_req = format!("ws://{addr}/messenger/ws?site=1001").into_client_request().expect("request");
    ws_req.headers_mut().insert("origin", ORIGIN.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_req).await.expect("connect");
    let hello = json!({"type": "hello", "token": token}).to_string();
    ws.send(tungstenite::Message::Text(hello.into())).await.expect("hello");

    let mut agent = app.browser();
    agent.login_ok("/agent", "agent@example.com", false).await;
    let live = agent.get("/agent/live").await;
    assert_eq!(live.status, StatusCode::OK);
    assert!(live.text().contains(&format!("Visitor {visitor}")), "on the site now: {}", live.text());
    assert!(live.header("content-security-policy").is_some_and(|c| c.contains("script-src 'self'")));
    let profile = agent.get(&format!("/agent/visitors/{visitor}")).await;
    assert!(profile.text().contains("Invite to chat") && profile.text().contains("/pricing"), "{}", profile.text());

    let csrf = csrf_from(&profile.text());
    let path = format!("/agent/visitors/{visitor}/invite");
    let res = agent.post_form(&path, &[("_csrf", csrf.as_str()), ("message", "Need help choosing a tea?")]).await;
    res.assert_redirect(&format!("/agent/visitors/{visitor}?done=invited"));
    let invite = loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await;
        let Ok(Some(Ok(tungstenite::Message::Text(text)))) = frame else { panic!("no invitation: {frame:?}") };
        let v: Value = serde_json::from_str(&text).expect("JSON");
        if v["type"] == "invite" {
            break v;
        }
    };
    assert_eq!(invite["message"], json!("Need help choosing a tea?"), "the chat is the tag's visitor: {invite}");

    // Without the form's token nothing is sent.
    let res = agent.post_form(&path, &[("message", "forged")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_exports_a_visitors_data_as_json_and_erases_it_after_typing_its_id() {
    let app = setup(SolutionType::FirstPartyPersistent, ConsentMode::None, false).await;
    app.person("admin@example.com", Role::Admin).await;
    let mut page = Page::new(&app);
    let (_, answer) = page.hit(None, "/cart").await;
    let visitor = visitor_of(&app, &answer).expect("a visitor");
    app.state.shutdown().await; // the page view is written

    let mut admin = app.browser();
    admin.login_ok("/admin", "admin@example.com", false).await;
    let export = admin.get(&format!("/admin/visitors/{visitor}/export")).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.header("content-disposition").is_some_and(|d| d.starts_with("attachment")));
    let data = export.json();
    assert_eq!(data["visitor"]["id"], json!(visitor.get()));
    assert_eq!(data["visits"][0]["pages"][0]["url"], json!(format!("{SHOP}/cart")));

    let profile = admin.get(&format!("/admin/visitors/{visitor}")).await;
    let csrf = csrf_from(&profile.text());
    let path = format!("/admin/visitors/{visitor}/erase");
    let res = admin.post_form(&path, &[("_csrf", csrf.as_str()), ("confirm", "not the id")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "the ID must be typed to confirm");
    let id = visitor.to_string();
    let res = admin.post_form(&path, &[("_csrf", csrf.as_str()), ("confirm", id.as_str())]).await;
    res.assert_redirect(&format!("/admin/visitors?erased={visitor}"));
    assert!(app.store.sessions_of_visitor(visitor, 10).await.expect("visits").is_empty());
    assert_eq!(admin.get(&format!("/admin/visitors/{visitor}/export")).await.status, StatusCode::NOT_FOUND);
    // The browser's old token names nobody now: a new visitor.
    let (_, after) = page.hit(None, "/").await;
    assert_ne!(visitor_of(&app, &after), Some(visitor));
}

#[tokio::test]
async fn page_views_are_purged_after_the_sites_retention_period() {
    let app = setup(SolutionType::FirstPartyPersistent, ConsentMode::None, true).await;
    let mut settings = app.store.site(SiteId::DEFAULT).await.expect("read").expect("site").settings;
    settings.monitoring.retention_days = 2;
    app.store.update_site(SiteId::DEFAULT, &settings, app.now()).await.expect("update");
    app.state.sites_changed();
    let mut page = Page::new(&app);
    page.hit(None, "/").await;
    app.state.shutdown().await;
    let visits = app.store.live_sessions(SiteId::DEFAULT, app.now().plus(-60), 10).await.expect("visits");
    let views = || async { app.store.page_events_of_session(visits[0].id, 10).await.map(|v| v.len()) };
    assert_eq!(views().await.expect("views"), 1);
    app.advance(86_400);
    assert_eq!(app.state.purge_monitoring().await.expect("purge"), 0, "a day old: kept");
    app.advance(2 * 86_400);
    assert_eq!(app.state.purge_monitoring().await.expect("purge"), 1, "three days old: gone");
    assert_eq!(views().await.expect("views"), 0);
}
