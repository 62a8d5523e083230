//! What operators ask a node: liveness (`/healthz`), readiness (`/readyz`)
//! and Prometheus metrics (`/metrics`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use common::*;
use futures_util::SinkExt;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tessera_core::Role;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use tower::ServiceExt;

/// Sends `req` without the harness's checks, which fail every 5xx: these
/// tests expect some.
async fn send_raw(app: &TestApp, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let res = tessera_web::app(app.state.clone()).oneshot(req).await.expect("the router is infallible");
    let status = res.status();
    (status, res.into_body().collect().await.expect("read the body").to_bytes().to_vec())
}

async fn get_raw(app: &TestApp, path: &str) -> (StatusCode, Vec<u8>) {
    send_raw(app, Request::get(path).body(Body::empty()).expect("a valid request")).await
}

/// One sample line of the exposition.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the OpenMetrics text format line by line, failing on any line
/// that is not a descriptor, a sample of the family last described, or the
/// final `# EOF`.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.pop(), Some("# EOF"), "the exposition ends with # EOF");
    let mut family: Option<(String, String)> = None;
    let mut samples = Vec::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, tail) = (parts.next(), parts.next(), parts.next());
            let name = name.unwrap_or_else(|| panic!("a descriptor names its metric: {line}"));
            assert!(is_metric_name(name), "bad metric name: {line}");
            match kind {
                Some("HELP") => assert!(tail.is_some_and(|t| !t.is_empty()), "empty help: {line}"),
                Some("UNIT") => assert!(tail.is_some_and(|t| !t.is_empty()), "empty unit: {line}"),
                Some("TYPE") => {
                    let kind = tail.unwrap_or_default();
                    assert!(["counter", "gauge", "histogram"].contains(&kind), "unexpected type: {line}");
                    family = Some((name.to_owned(), kind.to_owned()));
                }
                _ => panic!("unknown descriptor: {line}"),
            }
            continue;
        }
        let sample = parse_sample(line);
        let (family, kind) = family.as_ref().unwrap_or_else(|| panic!("a sample before any # TYPE: {line}"));
        let suffixes: &[&str] = match kind.as_str() {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        assert!(
            suffixes.iter().any(|s| sample.name == format!("{family}{s}")),
            "{} is not a sample of the {kind} {family}",
            sample.name
        );
        samples.push(sample);
    }
    samples
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{key="value",...} value` or `name value`.
fn parse_sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).unwrap_or_else(|| panic!("not a sample: {line}"));
    let name = &line[..name_end];
    assert!(is_metric_name(name), "bad metric name: {line}");
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let close = inner.find('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
        for pair in inner[..close].split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or_else(|| panic!("bad label: {line}"));
            assert!(is_metric_name(key) && !key.contains(':'), "bad label name: {line}");
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            let value = value.unwrap_or_else(|| panic!("label values are quoted: {line}"));
            assert!(!value.contains(['"', '\\', '\n']), "our label values need no escapes: {line}");
            labels.insert(key.to_owned(), value.to_owned());
        }
        rest = &inner[close + 1..];
    }
    let value = rest.strip_prefix(' ').unwrap_or_else(|| panic!("one space before the value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        v => v.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {line}")),
    };
    Sample { name: name.to_owned(), labels, value }
}

/// The samples of a scrape, read through the harness (which checks the response).
async fn scrape(app: &TestApp) -> Vec<Sample> {
    let res = app.send(Request::get("/metrics").body(Body::empty()).expect("a valid request")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").is_some_and(|ct| ct.starts_with("application/openmetrics-text")));
    parse_exposition(&res.text())
}

/// The value of the sample `name` with exactly these labels.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let found: Vec<_> = samples.iter().filter(|s| s.name == name && s.labels == wanted).collect();
    assert_eq!(found.len(), 1, "one sample {name}{labels:?} in {samples:#?}");
    found[0].value
}

fn requests(samples: &[Sample], interface: &str, status: &str) -> f64 {
    value(samples, "tessera_http_requests_total", &[("interface", interface), ("status", status)])
}

fn total_requests(samples: &[Sample]) -> f64 {
    samples.iter().filter(|s| s.name == "tessera_http_requests_total").map(|s| s.value).sum()
}

#[tokio::test]
async fn health_answers_ok_in_plain_text_without_touching_the_store() {
    let app = TestApp::new().await;
    let mark = app.store.mark();
    let res = app.send(Request::get("/healthz").body(Body::empty()).expect("a valid request")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.text().trim(), "ok");
    assert!(res.header("content-type").is_some_and(|ct| ct.starts_with("text/plain")));
    assert!(res.header("set-cookie").is_none());
    assert!(app.store.since(mark).is_empty(), "liveness does no I/O");
}

#[tokio::test]
async fn health_stays_ok_while_the_store_is_down() {
    let app = TestApp::new().await;
    app.store.fail("site");
    let (status, body) = get_raw(&app, "/healthz").await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, b"ok\n".as_slice()));
}

#[tokio::test]
async fn readiness_is_ready_with_a_working_store_on_a_single_node() {
    let app = TestApp::new().await;
    let mark = app.store.mark();
    let res = app.send(Request::get("/readyz").body(Body::empty()).expect("a valid request")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json(), json!({"status": "ready", "store": "ok", "cluster": "alone", "node": null}));
    assert_eq!(app.store.since(mark).reads, ["site"], "one cheap read");
    assert!(app.store.since(mark).writes.is_empty());
}

#[tokio::test]
async fn readiness_is_503_unready_while_the_store_fails_and_ready_once_it_recovers() {
    let app = TestApp::new().await;
    app.store.fail("site");
    let (status, body) = get_raw(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(body, json!({"status": "unready", "store": "error", "cluster": "alone", "node": null}));
    assert_eq!(value(&scrape(&app).await, "tessera_store_errors_total", &[]), 1.0, "a failed check is a store error");

    app.store.recover("site");
    let (status, body) = get_raw(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("JSON")["status"], "ready");
}

#[tokio::test]
async fn the_exposition_parses_and_lists_every_metric_from_the_start() {
    let app = TestApp::new().await;
    let samples = scrape(&app).await;
    for interface in ["portal", "agent", "admin", "messenger", "monitor", "assets", "other"] {
        for status in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
            assert_eq!(requests(&samples, interface, status), 0.0, "{interface} {status}");
        }
        let labels = [("interface", interface)];
        assert_eq!(value(&samples, "tessera_http_request_duration_seconds_count", &labels), 0.0);
        let inf = [("interface", interface), ("le", "+Inf")];
        assert_eq!(value(&samples, "tessera_http_request_duration_seconds_bucket", &inf), 0.0);
    }
    for name in ["tessera_sessions_cached", "tessera_conversations_active", "tessera_visitors_live"] {
        assert_eq!(value(&samples, name, &[]), 0.0, "{name}");
    }
    for name in ["tessera_store_errors_total", "tessera_cluster_errors_total"] {
        assert_eq!(value(&samples, name, &[]), 0.0, "{name}");
    }
    assert_eq!(value(&samples, "tessera_cluster_link", &[("state", "alone")]), 1.0);
    assert_eq!(value(&samples, "tessera_cluster_link", &[("state", "up")]), 0.0);
    assert_eq!(value(&samples, "tessera_cluster_link", &[("state", "down")]), 0.0);
}

#[tokio::test]
async fn a_request_is_counted_by_interface_and_status_class_after_it_is_made() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    assert_eq!(browser.get("/login").await.status, StatusCode::OK);
    assert_eq!(browser.get("/agent/login").await.status, StatusCode::OK);
    assert_eq!(browser.get("/agent/login").await.status, StatusCode::OK);
    assert_eq!(browser.get("/admin/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/no/such/page").await.status, StatusCode::NOT_FOUND);
    assert_eq!(browser.get("/assets/nothing-here.css").await.status, StatusCode::NOT_FOUND);
    let samples = scrape(&app).await;
    assert_eq!(requests(&samples, "portal", "2xx"), 1.0);
    assert_eq!(requests(&samples, "agent", "2xx"), 2.0);
    assert_eq!(requests(&samples, "admin", "3xx"), 1.0);
    assert_eq!(requests(&samples, "other", "4xx"), 1.0);
    assert_eq!(requests(&samples, "assets", "4xx"), 1.0);
    assert_eq!(total_requests(&samples), 6.0, "nothing else counted");

    let agent = [("interface", "agent")];
    assert_eq!(value(&samples, "tessera_http_request_duration_seconds_count", &agent), 2.0);
    let inf = [("interface", "agent"), ("le", "+Inf")];
    assert_eq!(value(&samples, "tessera_http_request_duration_seconds_bucket", &inf), 2.0);
    assert!(value(&samples, "tessera_http_request_duration_seconds_sum", &agent) > 0.0);
}

#[tokio::test]
async fn health_readiness_and_metrics_are_not_counted_as_requests() {
    let app = TestApp::new().await;
    for path in ["/healthz", "/readyz", "/metrics", "/healthz"] {
        let res = app.send(Request::get(path).body(Body::empty()).expect("a valid request")).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
    assert_eq!(total_requests(&scrape(&app).await), 0.0);
}

#[tokio::test]
async fn the_ops_endpoints_ignore_sessions_and_set_no_cookie() {
    let app = TestApp::new().await;
    app.person("root@example.com", Role::Admin).await;
    let mut browser = app.browser();
    browser.login_ok("/admin", "root@example.com", false).await;
    for path in ["/healthz", "/readyz", "/metrics"] {
        let mark = app.store.mark();
        let req = browser
            .builder(Method::GET, path)
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .expect("a valid request");
        let res = browser.send(req).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(res.set_cookies().is_empty(), "{path} sets no cookie");
        assert!(!app.store.since(mark).reads.contains(&"session"), "{path} resolves no session");
    }
}

#[tokio::test]
async fn sessions_in_the_cache_are_counted_when_scraped() {
    let app = TestApp::new().await;
    app.person("alice@example.com", Role::User).await;
    app.person("bob@example.com", Role::Agent).await;
    app.browser().login_ok("", "alice@example.com", false).await;
    let mut bob = app.browser();
    bob.login_ok("/agent", "bob@example.com", false).await;
    assert_eq!(value(&scrape(&app).await, "tessera_sessions_cached", &[]), 2.0);
    bob.logout("/agent").await;
    assert_eq!(value(&scrape(&app).await, "tessera_sessions_cached", &[]), 1.0, "a revoked session is not counted");
}

#[tokio::test]
async fn a_store_outage_behind_a_page_is_a_503_to_retry_and_counted_as_a_store_error() {
    let app = TestApp::new().await;
    app.store.fail("categories");
    let req = Request::get("/").body(Body::empty()).expect("a valid request");
    let res = tessera_web::app(app.state.clone()).oneshot(req).await.expect("the router is infallible");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "an outage, not a bug");
    assert_eq!(res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("1"));
    let body = String::from_utf8(res.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("UTF-8");
    assert!(body.contains("temporarily unavailable"), "a clear message: {body}");
    assert!(!body.contains("storage backend"), "the cause is logged, not shown: {body}");
    let samples = scrape(&app).await;
    assert_eq!(value(&samples, "tessera_store_errors_total", &[]), 1.0);
    assert_eq!(requests(&samples, "portal", "5xx"), 1.0);

    // A 4xx is the client's doing, not the store's.
    app.store.recover("categories");
    assert_eq!(get_raw(&app, "/no/such/page").await.0, StatusCode::NOT_FOUND);
    assert_eq!(value(&scrape(&app).await, "tessera_store_errors_total", &[]), 1.0);
}

#[tokio::test]
async fn a_socket_following_a_conversation_is_active_until_it_closes() {
    let app = TestApp::new().await;
    let addr = app.serve().await;
    let mut browser = app.browser();
    let req = browser
        .builder(Method::POST, "/messenger/session")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"site": 1001}).to_string()))
        .expect("a valid request");
    let session = browser.send(req).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text());
    let token = session.json()["token"].as_str().expect("a messaging token").to_owned();

    let mut req = format!("ws://{addr}/messenger/ws?site=1001").into_client_request().expect("a ws request");
    req.headers_mut().insert("origin", ORIGIN.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
    for msg in [json!({"type": "hello", "token": token}), json!({"type": "start", "name": "Gus"})] {
        ws.send(tungstenite::Message::Text(msg.to_string().into())).await.expect("send");
    }
    let active = || async { value(&scrape(&app).await, "tessera_conversations_active", &[]) };
    assert!(eventually(|| async { active().await == 1.0 }).await, "the started conversation is followed");
    let samples = scrape(&app).await;
    assert_eq!(requests(&samples, "messenger", "2xx"), 1.0, "the session");
    assert_eq!(requests(&samples, "messenger", "1xx"), 1.0, "the upgrade");

    drop(ws);
    assert!(eventually(|| async { active().await == 0.0 }).await, "a closed socket follows nothing");
}

/// Whether `check` holds within two seconds.
async fn eventually<F: Future<Output = bool>>(check: impl Fn() -> F) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
