//! The Messenger's server side over a real socket: the messaging session
//! (cookies, consent, identity tokens), the WebSocket's resume without loss
//! or duplicates, fan-out to every tab and to agents' replies, the manifest's
//! CORS grant and the frame's `frame-ancestors`.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use tessera_core::{ConsentMode, ConversationId, Origin, Role, SiteId};
use tessera_store::{Author, ConversationStore, SiteStore, VisitorStore};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

const SHOP: &str = "https://shop.example.test";

async fn setup(mode: ConsentMode) -> TestApp {
    let app = TestApp::new().await;
    let mut settings = app.store.site(SiteId::DEFAULT).await.expect("read").expect("site").settings;
    settings.consent_mode = mode;
    settings.embed_origins = vec![Origin::parse(SHOP).expect("origin")];
    app.store.update_site(SiteId::DEFAULT, &settings, app.now()).await.expect("update");
    app.state.sites_changed();
    app
}

/// `POST /messenger/session` as the frame sends it.
async fn session(browser: &mut Browser, body: Value) -> (Response, Value) {
    let req = browser
        .builder(Method::POST, "/messenger/session")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .expect("a valid request");
    let res = browser.send(req).await;
    let json = if res.status == StatusCode::OK { res.json() } else { Value::Null };
    (res, json)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr, origin: &str) -> Result<Socket, tungstenite::Error> {
    let mut req = format!("ws://{addr}/messenger/ws?site=1001").into_client_request()?;
    req.headers_mut().insert("origin", origin.parse().expect("header"));
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

async fn say(ws: &mut Socket, msg: Value) {
    ws.send(tungstenite::Message::Text(msg.to_string().into())).await.expect("send");
}

/// The next JSON frame, or `None` after a quiet 300 ms.
async fn next(ws: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_millis(300), ws.next()).await.ok()?? {
            Ok(tungstenite::Message::Text(t)) => return serde_json::from_str(&t).ok(),
            Ok(tungstenite::Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Frames until the socket is quiet.
async fn drain(ws: &mut Socket) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = next(ws).await {
        out.push(v);
    }
    out
}

fn seqs(frames: &[Value]) -> Vec<u64> {
    frames.iter().filter(|f| f["type"] == "message").filter_map(|f| f["seq"].as_u64()).collect()
}

#[tokio::test]
async fn a_session_with_consent_gets_a_persistent_partitioned_visitor_cookie_and_without_a_session_one() {
    let app = setup(ConsentMode::OptIn).await;
    let mut with = app.browser();
    let (res, body) = session(&mut with, json!({"site": 1001, "consent": true})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(body["token"].as_str().is_some_and(|t| t.split('.').count() == 3), "a JWT: {body}");
    let cookie = res.set_cookie("__Host-ts_mv").expect("the persistent messenger cookie");
    assert!(cookie.partitioned().unwrap_or(false) && cookie.max_age().is_some());

    let mut without = app.browser();
    let (res, _) = session(&mut without, json!({"site": 1001})).await;
    assert!(res.set_cookie("__Host-ts_mv").is_none(), "opt-in and no word from the page: nothing optional");
    assert!(res.set_cookie("__Host-ts_mvs").is_some_and(|c| c.max_age().is_none()), "a session cookie instead");

    let mut gpc = app.browser().with_header("sec-gpc", "1");
    let (res, _) = session(&mut gpc, json!({"site": 1001, "consent": true})).await;
    assert!(res.set_cookie("__Host-ts_mv").is_none(), "Sec-GPC beats the page's consent");

    let mut foreign = app.browser();
    let req = foreign
        .builder(Method::POST, "/messenger/session")
        .header(header::ORIGIN, SHOP)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(json!({"site": 1001}).to_string()))
        .expect("request");
    assert_eq!(foreign.send(req).await.status, StatusCode::FORBIDDEN, "only the frame's origin");
}

#[tokio::test]
async fn messages_resume_after_a_reconnect_with_nothing_lost_or_repeated() {
    let app = setup(ConsentMode::None).await;
    let agent = app.person("agent@example.com", Role::Agent).await;
    let addr = app.serve().await;
    let mut browser = app.browser();
    let (_, body) = session(&mut browser, json!({"site": 1001, "consent": true})).await;
    let token = body["token"].as_str().expect("token").to_owned();

    let mut ws = connect(addr, ORIGIN).await.expect("connect");
    say(&mut ws, json!({"type": "hello", "token": token})).await;
    assert_eq!(next(&mut ws).await.map(|v| v["type"].clone()), Some(json!("welcome")));
    say(&mut ws, json!({"type": "start", "name": "Gus"})).await;
    let frames = drain(&mut ws).await;
    let conversation = frames.iter().find(|f| f["type"] == "started").expect("started")["conversation"].as_i64();
    let conversation = conversation.expect("an id");

    say(&mut ws, json!({"type": "send", "key": "k1", "body": "Hello?"})).await;
    say(&mut ws, json!({"type": "send", "key": "k1", "body": "Hello?"})).await;
    let frames = drain(&mut ws).await;
    assert_eq!(seqs(&frames), [1], "one message, however often it is sent: {frames:?}");
    let acks: Vec<_> = frames.iter().filter(|f| f["type"] == "ack").map(|f| f["seq"].clone()).collect();
    assert_eq!(acks, [json!(1), json!(1)], "both sends are acknowledged with the same seq");
    let position = |kind: &str| frames.iter().position(|f| f["type"] == kind);
    assert!(
        position("ack") < position("message"),
        "the sender hears the ack before the echo, so its pending copy is never shown beside it: {frames:?}"
    );

    // The socket dies; meanwhile the agent answers twice.
    drop(ws);
    let chat = app.state.chat();
    let conv = chat.conversation(SiteId::DEFAULT, ConversationId::new(conversation), None).await.expect("conversation");
    for body in ["Hi!", "How can I help?"] {
        chat.post(&conv, Author::Agent(agent.id), body, None).await.expect("agent reply");
    }
    let mut ws = connect(addr, ORIGIN).await.expect("reconnect");
    say(&mut ws, json!({"type": "hello", "token": token, "conversation": conversation, "after": 1})).await;
    let frames = drain(&mut ws).await;
    assert_eq!(seqs(&frames), [2, 3], "exactly what was missed: {frames:?}");
    let reply = frames.iter().find(|f| f["seq"] == 2).expect("reply");
    assert_eq!((reply["author"].as_str(), reply["name"].as_str()), (Some("agent"), Some("Agent Quill")));
}

#[tokio::test]
async fn two_tabs_see_one_conversation_live() {
    let app = setup(ConsentMode::None).await;
    let addr = app.serve().await;
    let mut browser = app.browser();
    let (_, body) = session(&mut browser, json!({"site": 1001, "consent": true})).await;
    let token = body["token"].as_str().expect("token").to_owned();
    let mut one = connect(addr, ORIGIN).await.expect("tab one");
    say(&mut one, json!({"type": "hello", "token": token})).await;
    say(&mut one, json!({"type": "start"})).await;
    let frames = drain(&mut one).await;
    let conversation = frames.iter().find(|f| f["type"] == "started").expect("started")["conversation"].clone();

    // The second tab asks for a session again: same cookie, same visitor.
    let (_, again) = session(&mut browser, json!({"site": 1001, "consent": true})).await;
    assert_eq!(again["conversations"][0]["id"], conversation, "the second tab finds the conversation");
    let mut two = connect(addr, ORIGIN).await.expect("tab two");
    say(&mut two, json!({"type": "hello", "token": again["token"], "conversation": conversation, "after": 0})).await;
    drain(&mut two).await;
    say(&mut one, json!({"type": "send", "key": "from-one", "body": "typed in tab one"})).await;
    let seen = drain(&mut two).await;
    assert!(seen.iter().any(|f| f["body"] == "typed in tab one"), "{seen:?}");
}

#[tokio::test]
async fn a_forged_token_or_a_foreign_origin_gets_no_socket() {
    let app = setup(ConsentMode::None).await;
    let addr = app.serve().await;
    assert!(connect(addr, SHOP).await.is_err(), "the socket is the frame's alone");
    let mut ws = connect(addr, ORIGIN).await.expect("connect");
    say(&mut ws, json!({"type": "hello", "token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ2OjEifQ."})).await;
    let frame = next(&mut ws).await.expect("an answer");
    assert_eq!(frame["type"], "error", "{frame}");
    assert!(next(&mut ws).await.is_none(), "and the socket closes");
}

#[tokio::test]
async fn a_verified_identity_follows_the_user_and_a_forged_one_is_refused() {
    let app = setup(ConsentMode::None).await;
    let secret = b"a site secret of thirty-two bytes";
    app.store.set_identity_secret(SiteId::DEFAULT, secret, app.now()).await.expect("secret");
    let sign = |claims: Value| sign_identity(secret, &claims);
    let exp = app.now().unix() + 600;
    let good = sign(json!({"sub": "cust-7", "name": "Vera", "email": "vera@example.com", "exp": exp}));
    let mut laptop = app.browser();
    let (_, body) = session(&mut laptop, json!({"site": 1001, "identity": good})).await;
    assert!(body["identity_error"].is_null(), "{body}");
    let conv = app.state.chat();
    let owner = tessera_store::ChatOwner { visitor: None, verified_user: Some("cust-7".into()) };
    conv.start(SiteId::DEFAULT, owner, "Vera", "").await.expect("start");
    let mut phone = app.browser();
    let (_, body) = session(&mut phone, json!({"site": 1001, "identity": good})).await;
    assert_eq!(body["conversations"].as_array().map(Vec::len), Some(1), "another device, the same conversations");

    let forged = format!("{}x", sign(json!({"sub": "cust-7", "exp": exp})));
    let expired = sign(json!({"sub": "cust-7", "exp": app.now().unix() - 1}));
    for bad in [forged, expired, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJjdXN0LTciLCJleHAiOjk5OTk5OTk5OTl9.".into()] {
        let (res, body) = session(&mut app.browser(), json!({"site": 1001, "identity": bad})).await;
        assert_eq!(res.status, StatusCode::OK, "the chat goes on as a guest");
        assert!(body["identity_error"].is_string(), "{body}");
        assert_eq!(body["conversations"].as_array().map(Vec::len), Some(0), "and sees nothing of the user's");
    }
}

#[tokio::test]
async fn only_the_sites_embedding_origins_get_the_manifest_and_the_frame() {
    let app = setup(ConsentMode::OptIn).await;
    let mut shop = app.browser().with_header("origin", SHOP);
    let res = shop.get("/messenger/manifest?site=1001").await;
    assert_eq!(res.header("access-control-allow-origin"), Some(SHOP));
    assert!(res.json()["frame_url"].as_str().is_some_and(|u| u.contains("/messenger/frame?site=1001&v=")));
    let mut evil = app.browser().with_header("origin", "https://evil.example");
    assert_eq!(evil.get("/messenger/manifest?site=1001").await.header("access-control-allow-origin"), None);

    let frame = app.browser().get(&format!("/messenger/frame?site=1001&host={SHOP}")).await;
    assert_eq!(frame.status, StatusCode::OK);
    let csp = frame.header("content-security-policy").expect("a CSP");
    assert!(csp.contains(&format!("frame-ancestors {SHOP}")), "{csp}");
    assert!(frame.header("x-frame-options").is_none());
    let refused = app.browser().get("/messenger/frame?site=1001&host=https://evil.example").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let tag = app.browser().get("/tag.js").await;
    assert!(tag.header("cache-control").is_some_and(|c| c.contains("max-age=300")));
}

async fn connect_console(addr: std::net::SocketAddr, agent: &Browser) -> Socket {
    let mut req = format!("ws://{addr}/agent/ws").into_client_request().expect("request");
    req.headers_mut().insert("origin", ORIGIN.parse().expect("header"));
    req.headers_mut().insert("cookie", agent.cookie_header().expect("cookies").parse().expect("header"));
    tokio_tungstenite::connect_async(req).await.expect("console socket").0
}

#[tokio::test]
async fn an_agent_console_sees_the_queue_live_claims_and_replies_to_the_visitor() {
    let app = setup(ConsentMode::None).await;
    app.person("agent@example.com", Role::Agent).await;
    let addr = app.serve().await;
    let mut agent = app.browser();
    agent.login_ok("/agent", "agent@example.com", false).await;
    let mut console = connect_console(addr, &agent).await;
    let first = next(&mut console).await.expect("the queue on connect");
    assert_eq!(first["type"], "queue");

    let mut browser = app.browser();
    let (_, body) = session(&mut browser, json!({"site": 1001})).await;
    assert_eq!(body["agents_available"], true, "a console is open");
    let mut visitor = connect(addr, ORIGIN).await.expect("visitor socket");
    say(&mut visitor, json!({"type": "hello", "token": body["token"]})).await;
    say(&mut visitor, json!({"type": "start", "name": "Gus"})).await;
    say(&mut visitor, json!({"type": "send", "key": "v1", "body": "Is anyone there?"})).await;
    drain(&mut visitor).await;
    let queue = drain(&mut console).await;
    let latest = queue.iter().rev().find(|f| f["type"] == "queue").expect("a new queue, without reloading");
    let entry = &latest["conversations"][0];
    assert_eq!((entry["visitor_name"].as_str(), entry["status"].as_str()), (Some("Gus"), Some("waiting")));

    say(&mut console, json!({"type": "open", "conversation": entry["id"]})).await;
    let history = drain(&mut console).await;
    assert!(history.iter().any(|f| f["body"] == "Is anyone there?"), "{history:?}");
    say(&mut console, json!({"type": "send", "key": "a1", "body": "Yes, I am here."})).await;
    let seen = drain(&mut visitor).await;
    let bodies: Vec<_> = seen.iter().filter(|f| f["type"] == "message").map(|f| f["body"].clone()).collect();
    assert_eq!(bodies, [json!("Agent Quill joined the conversation."), json!("Yes, I am here.")], "{seen:?}");
    assert!(seen.iter().any(|f| f["type"] == "status" && f["status"] == "active"));
    let visitors = app.store.raw().recent_visitors(SiteId::DEFAULT, 1).await.expect("visitors");
    assert_eq!(entry["visitor"], json!(visitors[0].id.get()), "the queue links the visitor's profile");
    let profile = agent.get(&format!("/agent/visitors/{}", visitors[0].id)).await.text();
    assert!(profile.contains(&format!("#{}", entry["id"])), "the profile lists past conversations: {profile}");

    let mut foreign = format!("ws://{addr}/agent/ws").into_client_request().expect("request");
    foreign.headers_mut().insert("origin", SHOP.parse().expect("header"));
    foreign.headers_mut().insert("cookie", agent.cookie_header().expect("cookies").parse().expect("header"));
    assert!(tokio_tungstenite::connect_async(foreign).await.is_err(), "no cross-site WebSocket hijacking");
}

/// An HS256 token over `claims`, as a customer's backend would sign it.
fn sign_identity(secret: &[u8], claims: &Value) -> String {
    use base64::Engine;
    use hmac::Mac;
    let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let head = enc(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = enc(claims.to_string().as_bytes());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("key");
    mac.update(format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", enc(&mac.finalize().into_bytes()))
}

#[tokio::test]
async fn an_admin_rotates_the_identity_secret_and_only_the_newest_one_is_accepted() {
    let app = setup(ConsentMode::None).await;
    app.person("admin@example.com", Role::Admin).await;
    let mut admin = app.browser();
    admin.login_ok("/admin", "admin@example.com", false).await;
    let rotate = |admin: &mut Browser| {
        let mut admin = admin.clone();
        async move {
            let token = admin.token("/admin/sites/1001").await;
            let page = admin.post_form("/admin/sites/1001/identity-secret", &[("_csrf", &token)]).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text());
            assert_eq!(page.header("cache-control"), Some("no-store"));
            let html = page.text();
            let start = html.find(r#"id="secret" readonly value=""#).expect("the secret, shown once") + 28;
            html[start..start + html[start..].find('"').expect("closed")].to_owned()
        }
    };
    let first = rotate(&mut admin).await;
    let claims = json!({"sub": "cust-1", "exp": app.now().unix() + 600});
    let token = sign_identity(first.as_bytes(), &claims);
    let (_, body) = session(&mut app.browser(), json!({"site": 1001, "identity": token})).await;
    assert!(body["identity_error"].is_null(), "{body}");

    let second = rotate(&mut admin).await;
    assert_ne!(first, second);
    let (_, body) = session(&mut app.browser(), json!({"site": 1001, "identity": token})).await;
    assert!(body["identity_error"].is_string(), "the old secret's tokens stop working: {body}");
    let fresh = sign_identity(second.as_bytes(), &claims);
    let (_, body) = session(&mut app.browser(), json!({"site": 1001, "identity": fresh})).await;
    assert!(body["identity_error"].is_null(), "{body}");
}

#[tokio::test]
async fn an_agent_transfers_a_conversation_and_closing_it_ends_it_for_the_visitor() {
    let app = setup(ConsentMode::None).await;
    app.person("agent@example.com", Role::Agent).await;
    let other = app.person("bea@example.com", Role::Agent).await;
    let addr = app.serve().await;
    let mut agent = app.browser();
    agent.login_ok("/agent", "agent@example.com", false).await;
    let mut console = connect_console(addr, &agent).await;
    drain(&mut console).await;

    let (_, body) = session(&mut app.browser(), json!({"site": 1001})).await;
    let mut visitor = connect(addr, ORIGIN).await.expect("visitor socket");
    say(&mut visitor, json!({"type": "hello", "token": body["token"]})).await;
    say(&mut visitor, json!({"type": "start", "name": "Tess"})).await;
    say(&mut visitor, json!({"type": "send", "key": "t1", "body": "Billing question"})).await;
    let started = drain(&mut visitor).await;
    let id = started.iter().find(|f| f["type"] == "started").expect("started")["conversation"].clone();

    say(&mut console, json!({"type": "open", "conversation": id})).await;
    say(&mut console, json!({"type": "transfer", "to": other.id.get()})).await;
    let refused = drain(&mut console).await;
    assert!(refused.iter().any(|f| f["type"] == "error"), "only the holder transfers: {refused:?}");
    say(&mut console, json!({"type": "claim"})).await;
    say(&mut console, json!({"type": "transfer", "to": other.id.get()})).await;
    drain(&mut console).await;
    let conversation =
        app.state.chat().conversation(SiteId::DEFAULT, ConversationId::new(id.as_i64().unwrap_or(0)), None);
    assert_eq!(conversation.await.expect("conversation").agent_id, Some(other.id), "Bea holds it now");

    say(&mut console, json!({"type": "close"})).await;
    let seen = drain(&mut visitor).await;
    assert!(seen.iter().any(|f| f["type"] == "status" && f["status"] == "closed"), "{seen:?}");
    assert!(seen.iter().any(|f| f["body"] == "The conversation was closed."), "{seen:?}");
    say(&mut visitor, json!({"type": "send", "key": "t2", "body": "One more thing"})).await;
    let after = drain(&mut visitor).await;
    assert!(
        after.iter().any(|f| f["type"] == "error" && f["key"] == "t2"),
        "a closed conversation takes nothing: {after:?}"
    );
    say(&mut visitor, json!({"type": "start"})).await;
    let again = drain(&mut visitor).await;
    let new_id = again.iter().find(|f| f["type"] == "started").expect("a new conversation")["conversation"].clone();
    assert_ne!(new_id, id, "starting again after a close opens a new conversation");
}
