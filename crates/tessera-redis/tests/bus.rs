//! The bus against a real `redis-server` started by the test: two nodes in
//! one process, Redis killed and restarted under them.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tessera_cluster::{Cluster, Link, NodeId, Topic};
use tessera_redis::RedisCluster;

struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    /// `None` (test skipped) without `redis-server`, unless CI requires it.
    fn start() -> Option<Redis> {
        let found = Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok();
        if !found {
            assert!(std::env::var_os("TESSERA_REQUIRE_CLUSTER").is_none(), "redis-server is required here");
            eprintln!("SKIPPED: redis-server is not installed");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        let mut redis = Redis { port, child: None };
        redis.restart();
        Some(redis)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Sends one inline command and reads the first reply line.
    fn command(&self, line: &str) {
        use std::io::{BufRead, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        stream.write_all(format!("{line}\r\n").as_bytes()).expect("sends");
        let mut reply = String::new();
        std::io::BufReader::new(stream).read_line(&mut reply).expect("replies");
        assert!(reply.starts_with(':') || reply.starts_with('+'), "{line}: {reply}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn node(redis: &Redis, name: &str) -> Arc<RedisCluster> {
    RedisCluster::start(&redis.url(), NodeId::parse(name).expect("node id")).expect("starts")
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn trusted(nodes: &[&Arc<RedisCluster>]) {
    eventually("every node trusts its cache", || nodes.iter().all(|n| n.cache_trusted())).await;
}

fn recorder(node: &RedisCluster, topic: Topic) -> Arc<Mutex<Vec<Vec<u8>>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    node.on_message(topic, Arc::new(move |payload: &[u8]| sink.lock().push(payload.to_vec())));
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_broadcast_has_run_on_every_other_node_when_it_returns() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, c) = (node(&redis, "a"), node(&redis, "b"), node(&redis, "c"));
    trusted(&[&a, &b, &c]).await;
    let (got_b, got_c, got_a) =
        (recorder(&b, Topic::Sessions), recorder(&c, Topic::Sessions), recorder(&a, Topic::Sessions));
    for i in 0..20u8 {
        a.publish_confirmed(Topic::Sessions, vec![i; 32]).await.expect("published");
        // No waiting: the call returned only after both handlers ran.
        assert_eq!(got_b.lock().last(), Some(&vec![i; 32]));
        assert_eq!(got_c.lock().last(), Some(&vec![i; 32]));
    }
    assert!(got_a.lock().is_empty(), "a node does not hear its own broadcasts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_effort_broadcasts_reach_the_other_nodes() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    trusted(&[&a, &b]).await;
    let got = recorder(&b, Topic::Chat);
    a.publish(Topic::Chat, b"conversation 7 changed".to_vec());
    eventually("b hears a", || got.lock().len() == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_no_cache_is_trusted_and_a_kept_revocation_goes_out_when_it_returns() {
    let Some(mut redis) = Redis::start() else { return };
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    let links = Arc::new(AtomicUsize::new(0));
    let counter = links.clone();
    b.on_link(Arc::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    trusted(&[&a, &b]).await;
    let got = recorder(&b, Topic::Sessions);

    redis.kill();
    eventually("both nodes stop trusting", || !a.cache_trusted() && !b.cache_trusted()).await;
    assert_eq!((a.link(), b.link()), (Link::Down, Link::Down));
    assert!(a.publish_confirmed(Topic::Sessions, vec![9; 32]).await.is_err(), "unreachable is reported");
    assert!(a.shared_get("anything").await.is_none());

    redis.restart();
    trusted(&[&a, &b]).await;
    // b emptied its cache when its link changed, and also gets the kept
    // revocation: sent at a's reconnect and again shortly after, for nodes
    // that reconnect after a does (as b may here).
    eventually("the kept revocation arrives", || got.lock().contains(&vec![9; 32])).await;
    assert!(links.load(Ordering::SeqCst) >= 2, "b was told the link went down and came back");
    assert!(a.errors() > 0, "failed calls are counted for /metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_fill_cannot_overwrite_a_tombstone_and_a_reconnect_forgets_the_tier() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    trusted(&[&a, &b]).await;
    a.shared_overwrite(&[("s1".into(), b"R".to_vec())], 60).await;
    b.shared_fill("s1", b"live", 60).await;
    assert_eq!(a.shared_get("s1").await.as_deref(), Some(&b"R"[..]), "the tombstone wins");
    b.shared_fill("s2", b"live", 60).await;
    assert_eq!(a.shared_get("s2").await.as_deref(), Some(&b"live"[..]), "one tier for every node");

    // Redis keeps its data, but the nodes lost their subscriptions: whatever
    // was filled before may be stale (tombstones could not be written) and is
    // never read again.
    redis.command("CLIENT KILL TYPE pubsub");
    eventually("link down", || !a.cache_trusted()).await;
    trusted(&[&a, &b]).await;
    b.shared_fill("s3", b"new", 60).await;
    eventually("a follows b's epoch", || futures_now(a.shared_get("s3")).is_some_and(|v| v == b"new")).await;
    assert_eq!(a.shared_get("s2").await, None);
}

/// Polls a future once on a throwaway runtime-free executor (the tier call
/// is quick); used inside `eventually`'s synchronous check.
fn futures_now<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// Two session cores (two nodes) over one store, each with its own bus.
mod sessions {
    use super::*;
    use tessera_core::{Clock, DisplayName, Email, Interface, Role, SiteId, SystemClock, Timestamp};
    use tessera_session::{CoreSettings, NewSession, SessionCore};
    use tessera_store::{NewPerson, Store};

    async fn two_nodes(redis: &Redis) -> (SessionCore, SessionCore, tessera_store::Person, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(tessera_store_sqlite::SqliteStore::open(&dir.path().join("t.db")).await.expect("store"));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let now: Timestamp = clock.now();
        store.ensure_site(SiteId::DEFAULT, "Default", now).await.expect("site");
        let new = NewPerson {
            site_id: SiteId::DEFAULT,
            email: Email::parse("ann@example.com").expect("email"),
            name: DisplayName::parse("Ann").expect("name"),
            role: Role::Agent,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2g".into(),
        };
        let person = store.create_person(&new, now).await.expect("person");
        let core =
            |n: &str| SessionCore::in_cluster(store.clone(), clock.clone(), CoreSettings::default(), node(redis, n));
        let (one, two) = (core("node1").expect("core"), core("node2").expect("core"));
        eventually("both trusted", || one.cluster().cache_trusted() && two.cluster().cache_trusted()).await;
        (one, two, person, dir)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_session_revoked_on_one_node_is_refused_by_the_other_on_its_very_next_request() {
        let Some(redis) = Redis::start() else { return };
        let (one, two, person, _dir) = two_nodes(&redis).await;
        for _ in 0..10 {
            let (token, _) =
                one.create_session(&person, Interface::Agent, NewSession::default()).await.expect("session");
            let cookie = token.encode();
            // Both nodes now hold it in their own caches.
            assert!(one.validate(Interface::Agent, cookie.as_bytes()).await.expect("ok").is_some());
            assert!(two.validate(Interface::Agent, cookie.as_bytes()).await.expect("ok").is_some());
            one.revoke_session(&token.hash()).await.expect("revoked");
            assert!(two.validate(Interface::Agent, cookie.as_bytes()).await.expect("ok").is_none());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn while_redis_is_away_a_revocation_still_holds_everywhere_because_nodes_read_the_store() {
        let Some(mut redis) = Redis::start() else { return };
        let (one, two, person, _dir) = two_nodes(&redis).await;
        let (token, _) = one.create_session(&person, Interface::Agent, NewSession::default()).await.expect("session");
        let cookie = token.encode();
        assert!(two.validate(Interface::Agent, cookie.as_bytes()).await.expect("ok").is_some(), "cached on two");
        redis.kill();
        eventually("two stops trusting", || !two.cluster().cache_trusted()).await;
        one.revoke_session(&token.hash()).await.expect("revoked without Redis");
        assert!(two.validate(Interface::Agent, cookie.as_bytes()).await.expect("ok").is_none());
        redis.restart();
        eventually("trusted again", || two.cluster().cache_trusted() && one.cluster().cache_trusted()).await;
        assert!(two.validate(Interface::Agent, cookie.as_bytes()).await.expect("ok").is_none(), "and after");
        assert!(one.validate(Interface::Agent, cookie.as_bytes()).await.expect("ok").is_none());
    }
}

/// The Messenger's hub and presence on two nodes over one store.
mod chat {
    use super::*;
    use tessera_chat::{Chat, ChatEvent};
    use tessera_core::{Clock, PersonId, SiteId, SystemClock};
    use tessera_store::{Author, ChatOwner, Store};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_and_an_agent_on_one_node_are_seen_on_the_other() {
        let Some(redis) = Redis::start() else { return };
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(tessera_store_sqlite::SqliteStore::open(&dir.path().join("t.db")).await.expect("store"));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        store.ensure_site(SiteId::DEFAULT, "Default", clock.now()).await.expect("site");
        let (a_bus, b_bus) = (node(&redis, "a"), node(&redis, "b"));
        trusted(&[&a_bus, &b_bus]).await;
        let a = Chat::in_cluster(store.clone(), clock.clone(), a_bus);
        let b = Chat::in_cluster(store.clone(), clock.clone(), b_bus);

        // The visitor's socket follows the conversation on b; the message is posted on a.
        let owner = ChatOwner { visitor: None, verified_user: Some("user-1".into()) };
        let conversation = a.start(SiteId::DEFAULT, owner, "Vi", "").await.expect("started");
        let mut on_b = b.hub().subscribe(conversation.id);
        a.post(&conversation, Author::Visitor, "hello from a", None).await.expect("posted");
        let event = tokio::time::timeout(Duration::from_secs(5), on_b.recv()).await.expect("in time");
        assert_eq!(event.ok(), Some(ChatEvent::Changed), "b is told to read the store");

        // An agent's console on a makes agents available on b, until it closes.
        assert!(!b.presence().available(SiteId::DEFAULT));
        let console = a.presence().connect(SiteId::DEFAULT, PersonId::new(1));
        eventually("b sees the agent on a", || b.presence().available(SiteId::DEFAULT)).await;
        drop(console);
        eventually("and sees it leave", || !b.presence().available(SiteId::DEFAULT)).await;
    }
}
