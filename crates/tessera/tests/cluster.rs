//! Cluster mode end to end: a fresh PostgreSQL database, a Redis server,
//! three real `tessera serve` nodes and nginx running `deploy/nginx.conf`
//! (the shipped file, with its ports and paths replaced as the file's header
//! says), all started by the test on free ports and killed on drop, also when
//! a test panics.
//!
//! Needs `TESSERA_TEST_POSTGRES` (an admin URL; `eval "$(.ci/postgres.sh start)"`
//! starts a throwaway server and prints it), `psql`, `redis-server` and `nginx`.
//! Without them each test says so loudly and passes, unless
//! `TESSERA_REQUIRE_CLUSTER=1` (CI), where a missing one is a failure.
//!
//! The tests take turns (one cluster at a time): they measure failover and an
//! outage, which two clusters sharing the CPU would blur. Run them with
//! `cargo test -p tessera --all-features --test cluster -- --nocapture` to
//! see each phase's timing; a failing test prints the tail of every log.
//!
//! The visitor in the failover test is a WebSocket client that behaves like
//! the Messenger (`messenger.js`): it keeps what it sent until acknowledged
//! and resends it with the same key on a new socket, resumes from the highest
//! `seq` below which it has everything, and renders each `seq` once. Not the
//! real Messenger in Chromium: pinning the frame's partitioned, HttpOnly node
//! cookie to node 1 and reading which messages the frame had acknowledged are
//! out of WebDriver's reach, and the frame's reconnect backoff (0.5 to 10 s,
//! with jitter) would make the failover slow to observe.

mod common;
#[path = "cluster/harness.rs"]
mod harness;
#[path = "cluster/http.rs"]
mod http;
#[path = "cluster/load.rs"]
mod load;
#[path = "cluster/messenger.rs"]
mod messenger;
#[path = "cluster/processes.rs"]
mod processes;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::http::{Browser, cookie_header, csrf_of};
use harness::{ADMIN, AGENT, ANN, Cluster, NODE_COOKIE};
use http::{get_with_cookies, messenger_session, node_cookie_problems, session_id, session_row};
use load::{Load, Phase, Session};
use messenger::{ChatClient, ChatLog, Role, assert_exactly_once, transcript};
use processes::{Tools, tessera};

const SESSION_COOKIE: &str = "__Host-ts_portal";
const REMEMBER_COOKIE: &str = "__Host-ts_remember_portal";

/// One cluster at a time (see the module documentation).
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A cluster for one test, once no other test has one; `None` (and the test
/// passes, loudly) without the tools it needs. Bound as `(_turn, cluster)`,
/// the cluster is dropped (killed) before the turn passes to the next test.
async fn start_cluster(label: &'static str) -> Option<(tokio::sync::MutexGuard<'static, ()>, Cluster)> {
    let tools = Tools::find()?;
    let turn = TURN.lock().await;
    Some((turn, Cluster::start(&tools, label).await))
}

// ---------------------------------------------------------------------------
// 1. Sessions: any node, and a revocation anywhere holds everywhere at once.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_works_on_every_node_and_a_revocation_on_one_holds_on_the_very_next_request_of_the_others() {
    let Some((_turn, cluster)) = start_cluster("sessions").await else { return };
    let http = &cluster.http;

    // The shipped nginx config: the node cookie picks the node, anything else any node.
    for node in &cluster.nodes {
        let marker = format!("route-{}", node.id);
        let url = format!("{}/healthz?probe={marker}", cluster.public);
        assert_eq!(get_with_cookies(http, &url, &format!("{NODE_COOKIE}={}", node.id)).await.status, 200);
        assert_eq!(cluster.served_by(&marker).await, node.id, "nginx routes {NODE_COOKIE}={} to it", node.id);
    }
    let url = format!("{}/healthz?probe=route-unknown", cluster.public);
    assert_eq!(get_with_cookies(http, &url, &format!("{NODE_COOKIE}=node9; other=1")).await.status, 200);
    cluster.served_by("route-unknown").await;
    let metrics = get_with_cookies(http, &format!("{}/metrics", cluster.public), "").await;
    assert_eq!(metrics.status, 404, "/metrics is not served through nginx");
    cluster.note("nginx routes by the node cookie");

    // Ann logs in through nginx (remember-me ticked) from another address
    // than nginx's, claiming a third one.
    let mut ann = Browser::from_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    ann.login(&cluster.public, "", ANN, true, &[("x-forwarded-for", "203.0.113.7")]).await;
    let session = ann.jar.get(SESSION_COOKIE).cloned().expect("a session cookie");
    assert!(ann.jar.contains_key(REMEMBER_COOKIE), "remember-me was ticked");
    let account = ann.get(&format!("{}/account", cluster.public)).await;
    assert_eq!((account.status, account.body.contains(ANN)), (200, true), "{}", account.body);
    cluster.note(&format!("Ann logged in through nginx (node cookie: {:?})", ann.jar.get(NODE_COOKIE)));

    // The session cookie alone works on every node.
    let alone = format!("{SESSION_COOKIE}={session}");
    for node in &cluster.nodes {
        let res = get_with_cookies(http, &format!("{}/api/session", node.base), &alone).await;
        assert_eq!(res.status, 200, "{}: Ann's session: {}", node.id, res.body);
        assert!(res.body.contains("\"ann\""), "{}: {}", node.id, res.body);
    }

    // The admin revokes it on node 2, and sees the address nginx saw.
    let node2 = &cluster.node("node2").base;
    let mut admin = Browser::new();
    admin.login(node2, "/admin", ADMIN, false, &[]).await;
    let page = admin.get(&format!("{node2}/admin/sessions")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let id = session_id(&session);
    let row = session_row(&page.body, &id);
    assert!(
        row.contains("127.0.0.2") && !row.contains("203.0.113.7"),
        "the session's address is the client nginx saw (X-Forwarded-For from trusted_proxies), \
         not the one the client claimed: {row}"
    );
    let csrf = csrf_of(&page.body);
    let revoked = admin
        .post(&format!("{node2}/admin/sessions/revoke"), &[("_csrf", csrf.as_str()), ("session", id.as_str())])
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(revoked.location.as_deref(), Some("/admin/sessions?done=revoked"));

    // The very next request on node 1 (the cookie alone) and on node 3 (the
    // whole browser, remember-me too: its series ended with the session).
    let on1 = get_with_cookies(http, &format!("{}/api/session", cluster.node("node1").base), &alone).await;
    let on3 =
        get_with_cookies(http, &format!("{}/api/session", cluster.node("node3").base), &cookie_header(&ann.jar)).await;
    cluster.note("revoked on node 2; asked node 1 and node 3 right after");
    assert_eq!(on1.status, 401, "node 1 accepted a session revoked on node 2: {on1:?}");
    assert!(on1.clears(SESSION_COOKIE), "node 1 clears the dead cookie: {on1:?}");
    assert_eq!(on3.status, 401, "node 3 accepted a session revoked on node 2: {on3:?}");
    assert_eq!(on3.sets(SESSION_COOKIE).filter(|v| !v.is_empty()), None, "no new session from remember-me: {on3:?}");
    for node in ["node2", "node1", "node3"] {
        let res = get_with_cookies(http, &format!("{}/account", cluster.node(node).base), &alone).await;
        assert_eq!((res.status, res.location.as_deref()), (303, Some("/login")), "{node}: {res:?}");
    }
    let through = ann.get(&format!("{}/api/session", cluster.public)).await;
    assert_eq!(through.status, 401, "through nginx: {through:?}");
    cluster.note("the revocation held on every node");

    // The node cookie (last, so that the above is reported on its own): the
    // first answer names the node that gave it, with the declared attributes;
    // a request that names its node is not told again.
    // Node 1's settings in cluster mode (its --node-id and --redis as settings).
    let out = tessera()
        .args(["cookies", "--format", "json", "--data"])
        .arg(&cluster.node("node1").data)
        .env("TESSERA_CLUSTER__NODE_ID", "node1")
        .env("TESSERA_CLUSTER__REDIS_URL", cluster.redis.url())
        .output()
        .expect("tessera cookies");
    assert!(out.status.success(), "tessera cookies: {}", String::from_utf8_lossy(&out.stderr));
    let registry: Value = serde_json::from_slice(&out.stdout).expect("the registry is JSON");
    let declared = common::declaration(&registry, NODE_COOKIE).expect("__Host-ts_node is in the cookie registry");
    assert_eq!(
        (&declared["category"], &declared["lifetime"], &declared["same_site"], &declared["partitioned"]),
        (&json!("essential"), &json!("session"), &json!("None"), &json!(true)),
        "{declared}"
    );
    let mut fresh = Browser::new();
    let first = fresh.get(&format!("{}/healthz?probe=fresh-1", cluster.public)).await;
    let named = first.sets(NODE_COOKIE).expect("the first answer through nginx sets __Host-ts_node");
    assert_eq!(named, cluster.served_by("fresh-1").await, "the cookie names the node that answered");
    let again = fresh.get(&format!("{}/login", cluster.public)).await;
    assert_eq!(again.sets(NODE_COOKIE), None, "a request that names its node is not told again");
    for browser in [&ann, &admin, &fresh] {
        let problems = node_cookie_problems(&browser.set_cookies);
        assert!(problems.is_empty(), "{problems:?}");
    }
    cluster.note("done");
}

// ---------------------------------------------------------------------------
// 2. Chat across nodes, and a node dying mid-conversation.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_across_nodes_survives_kill_9_of_the_visitors_node_with_every_message_exactly_once() {
    let Some((_turn, mut cluster)) = start_cluster("failover").await else { return };

    // The agent's console is on node 3.
    let node3 = cluster.node("node3").base.clone();
    let mut agent_browser = Browser::new();
    agent_browser.login(&node3, "/agent", AGENT, false, &[]).await;
    let agent_url = format!("{}/agent/ws", cluster.node("node3").ws());
    let agent = ChatClient::spawn("agent", Role::Agent, agent_url, &cluster.public, agent_browser.jar.clone());
    agent.wait("the console's queue", Duration::from_secs(10), |l| l.connected).await;

    // The visitor comes through nginx, pinned to node 1.
    let mut visitor_browser = Browser::new();
    visitor_browser.jar.insert(NODE_COOKIE.into(), "node1".into());
    let session = messenger_session(&mut visitor_browser, &cluster.public, &cluster.public).await;
    assert_eq!(visitor_browser.jar.get(NODE_COOKIE).map(String::as_str), Some("node1"), "served by node 1");
    let visitor_url = format!("{}/messenger/ws?site=1001", cluster.public.replacen("http://", "ws://", 1));
    let visitor_jar = visitor_browser.jar.clone();
    let visitor =
        ChatClient::spawn("visitor", Role::visitor(&session, "Vic"), visitor_url, &cluster.public, visitor_jar);
    let conversation = visitor.started_conversation().await;
    agent.take(conversation, "the new conversation (started on node 1) in node 3's queue").await;
    cluster.note("visitor on node 1 (through nginx), agent on node 3");

    // Live, both ways, across nodes.
    let within = Duration::from_secs(10);
    for i in 1..=3 {
        let text = format!("visitor says {i}");
        visitor.send(&text);
        agent.wait(&format!("{text:?} live from node 1"), within, |l| l.count(&text) == 1).await;
        let text = format!("agent says {i}");
        agent.send(&text);
        visitor.wait(&format!("{text:?} live from node 3"), within, |l| l.count(&text) == 1).await;
    }
    cluster.note("live exchange across nodes");

    // Both keep talking; node 1 dies in the middle of it.
    let before_kill = visitor.read(|l| l.handshakes.len());
    for i in 4..=9 {
        visitor.send(format!("visitor says {i}"));
        agent.send(format!("agent says {i}"));
        if i == 6 {
            cluster.nodes[0].kill();
            cluster.note("kill -9 node1");
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    visitor
        .wait("reconnected through nginx with nothing pending", Duration::from_secs(30), |l| {
            l.handshakes.len() > before_kill && l.connected && l.pending.is_empty()
        })
        .await;
    let resent = visitor.read(|l| l.resent.clone());
    cluster.note(&format!("the visitor reconnected; every message acknowledged ({} resent: {resent:?})", resent.len()));
    for i in 10..=12 {
        visitor.send(format!("visitor says {i}"));
        agent.send(format!("agent says {i}"));
    }
    let everything = |l: &ChatLog| {
        (1..=12).all(|i| l.count(&format!("visitor says {i}")) >= 1 && l.count(&format!("agent says {i}")) >= 1)
            && l.pending.is_empty()
    };
    visitor.wait("every message", within, everything).await;
    agent.wait("every message", within, everything).await;
    cluster.note("both sides have all 24 messages");

    // The truth, from the store through node 2.
    let truth = transcript(&cluster, "node2", &agent_browser.jar, conversation).await;
    let visitor_log = visitor.stop().await;
    let agent_log = agent.stop().await;
    assert_exactly_once("the visitor", &truth, &visitor_log);
    assert_exactly_once("the agent", &truth, &agent_log);

    // Where the sockets were, from nginx's log, and what the visitor was told.
    let first = &visitor_log.handshakes[0];
    assert_eq!(cluster.served_by(&first.marker).await, "node1", "the visitor's first socket was on node 1");
    let after = &visitor_log.handshakes[before_kill];
    let new_node = cluster.served_by(&after.marker).await;
    assert_ne!(new_node, "node1");
    assert_eq!(
        after.node_cookie.as_deref(),
        Some(new_node),
        "the socket that replaced node 1's must move the visitor's node cookie to the node that took it \
         (handshakes: {:?})",
        visitor_log.handshakes
    );
    cluster.note("done");
}

// ---------------------------------------------------------------------------
// 3. Redis dies for 10 seconds under load.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_a_10_second_redis_outage_gives_no_5xx_no_revoked_session_and_fan_out_comes_back() {
    let Some((_turn, mut cluster)) = start_cluster("redis-outage").await else { return };
    let public = cluster.public.clone();
    let bases: Vec<(String, String)> = cluster
        .nodes
        .iter()
        .map(|n| (n.id.to_owned(), n.base.clone()))
        .chain([("nginx".into(), public.clone())])
        .collect();

    // Ann twice: a session that stays (through nginx) and one that will be revoked (node 1).
    let mut keeper = Browser::new();
    keeper.login(&public, "", ANN, false, &[]).await;
    let mut doomed = Browser::new();
    doomed.login(&cluster.node("node1").base, "", ANN, false, &[]).await;
    let doomed_cookie = format!("{SESSION_COOKIE}={}", doomed.jar[SESSION_COOKIE]);
    let doomed_id = session_id(&doomed.jar[SESSION_COOKIE]);

    // A chat: the visitor on node 1, the agent on node 3 (both directly).
    let mut agent_browser = Browser::new();
    agent_browser.login(&cluster.node("node3").base, "/agent", AGENT, false, &[]).await;
    let agent_url = format!("{}/agent/ws", cluster.node("node3").ws());
    let agent = ChatClient::spawn("agent", Role::Agent, agent_url, &public, agent_browser.jar.clone());
    let mut visitor_browser = Browser::new();
    let session = messenger_session(&mut visitor_browser, &cluster.node("node1").base, &public).await;
    let visitor_url = format!("{}/messenger/ws?site=1001", cluster.node("node1").ws());
    let visitor_jar = visitor_browser.jar.clone();
    let visitor = ChatClient::spawn("visitor", Role::visitor(&session, "Lou"), visitor_url, &public, visitor_jar);
    let visitor = Arc::new(visitor);
    let conversation = visitor.started_conversation().await;
    agent.take(conversation, "the conversation in the queue").await;
    visitor.send("before the outage");
    agent.wait("a message from node 1", Duration::from_secs(10), |l| l.count("before the outage") == 1).await;

    // The load: session-validated pages through nginx and on each node, the
    // revoked-to-be session everywhere, and the visitor chatting.
    let mut load = Load::default();
    for path in ["/api/session", "/account"] {
        load.requests(&cluster.http, &bases, path, cookie_header(&keeper.jar), Session::Valid);
    }
    load.requests(&cluster.http, &bases, "/api/session", doomed_cookie, Session::Revoked);
    load.chat(&visitor);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.note("load running");

    // Redis dies; a session is revoked (on node 2, by Ann herself) while it is away.
    let killed = Instant::now();
    load.set_phase(Phase::DuringOutage);
    cluster.redis.kill();
    cluster.note("kill -9 redis-server");
    if cluster.wait_cluster_state("down", Duration::from_secs(8)).await {
        cluster.note("every node reports \"cluster\":\"down\"");
    }
    let node2 = cluster.node("node2").base.clone();
    let page = keeper.get(&format!("{node2}/account/sessions")).await;
    assert_eq!(page.status, 200, "Ann's sessions page on node 2 during the outage: {}", page.body);
    let csrf = csrf_of(&page.body);
    let res =
        keeper.post(&format!("{node2}/account/sessions/revoke"), &[("_csrf", &csrf), ("session", &doomed_id)]).await;
    assert_eq!(
        (res.status, res.location.as_deref()),
        (303, Some("/account/sessions?done=revoked")),
        "revoking a session on node 2 during the outage: {}",
        res.body
    );
    load.mark_revoked();
    cluster.note(&format!("session revoked on node 2, {:.1} s into the outage", killed.elapsed().as_secs_f64()));

    // Chat goes on without Redis (docs/cluster.md: sockets re-read the store each second).
    let sent = Instant::now();
    visitor.send("during the outage");
    agent
        .wait("node 1's message during the outage", Duration::from_secs(5), |l| l.count("during the outage") == 1)
        .await;
    cluster.note(&format!("node 1 -> node 3 without Redis ({} ms)", sent.elapsed().as_millis()));

    tokio::time::sleep(Duration::from_secs(10).saturating_sub(killed.elapsed())).await;
    cluster.redis.start();
    load.set_phase(Phase::AfterRedisReturned);
    cluster.note("redis-server is back on the same port");
    cluster.wait_cluster_state("up", Duration::from_secs(30)).await;
    cluster.note("every node reports \"cluster\":\"up\" again");

    // Fan-out across nodes is live again.
    let sent = Instant::now();
    visitor.send("after the outage");
    agent
        .wait("node 1's message after the outage", Duration::from_secs(15), |l| l.count("after the outage") == 1)
        .await;
    cluster.note(&format!("fan-out node 1 -> node 3 again ({} ms)", sent.elapsed().as_millis()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = load.stop().await;
    visitor.wait("every message acknowledged", Duration::from_secs(15), |l| l.pending.is_empty()).await;
    let last = visitor.read(|l| l.acked.values().map(|(s, _)| *s).max().unwrap_or(0));
    agent.wait("every message of the conversation", Duration::from_secs(15), |l| l.complete_up_to() >= last).await;

    cluster.note(&format!(
        "{} requests; {} 5xx, {} without an answer, {} valid refused, {} revoked accepted",
        seen.requests,
        seen.server_errors.total(),
        seen.transport_errors.total(),
        seen.refused.total(),
        seen.accepted_revoked.total()
    ));
    let truth = transcript(&cluster, "node2", &agent_browser.jar, conversation).await;
    let visitor = Arc::into_inner(visitor).expect("the load task is done with the visitor");
    let (visitor_log, agent_log) = (visitor.stop().await, agent.stop().await);
    assert!(seen.server_errors.is_empty(), "5xx answers:\n{}", seen.server_errors);
    assert!(seen.transport_errors.is_empty(), "requests without an answer:\n{}", seen.transport_errors);
    assert!(seen.accepted_revoked.is_empty(), "the session revoked on node 2 was accepted:\n{}", seen.accepted_revoked);
    assert!(seen.refused.is_empty(), "the valid session was refused:\n{}", seen.refused);
    assert_exactly_once("the visitor", &truth, &visitor_log);
    assert_exactly_once("the agent (messages from the outage caught up)", &truth, &agent_log);
    cluster.note("done");
}
