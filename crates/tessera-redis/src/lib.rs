//! Tessera's cluster bus on Redis: one pub/sub channel that every node
//! subscribes to, plus a few keys.
//!
//! Frames on `tessera:bus` (in the order Redis delivers them, which is the
//! order it received them, the same for every subscriber):
//! - `M` a broadcast, `C` a broadcast to confirm: each receiver runs its
//!   handler, then answers with an `A` (ack) naming the nonce;
//! - `H` a node's heartbeat. A node that receives its own heartbeat `n`
//!   knows it has also received every frame Redis took before `n`: that is
//!   its *lease*. Its caches are trusted only until `LEASE` after `n` was
//!   sent; a node whose subscription stalls loses trust by itself;
//! - `E` a new epoch for the shared cache tier (see below).
//!
//! [`Cluster::publish_confirmed`] returns when every subscribed node acked,
//! or, when a node that heartbeated recently did not, after `LEASE` (by then
//! that node no longer trusts its cache). If Redis is unreachable it keeps
//! the broadcast and sends it first when the link returns.
//!
//! The shared tier's keys carry an *epoch*, bumped by every node that
//! (re)connects: whatever was filled before an outage (when tombstones
//! could not be written) is never read again.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tessera_cluster::{Cluster, ClusterError, Handler, Link, LinkHandler, NodeId, Topic};
use tokio::sync::Notify;

mod frame;

use frame::{Frame, Kind};

const CHANNEL: &str = "tessera:bus";
const NODES: &str = "tessera:nodes";
const EPOCH: &str = "tessera:epoch";
/// How often a node heartbeats.
const HEARTBEAT: Duration = Duration::from_millis(200);
/// How long a received heartbeat lets the node trust its caches.
const LEASE: Duration = Duration::from_millis(1_000);
/// A node heartbeating within this window is expected to ack.
const ALIVE: Duration = Duration::from_secs(3);
/// Any single Redis command; past this the call counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// A kept broadcast is sent again this long after the first replay.
const REPLAY_AGAIN: Duration = Duration::from_secs(2);
/// Confirmed broadcasts kept while Redis is unreachable.
const MAX_PENDING: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("invalid Redis URL: {0}")]
    Url(#[from] redis::RedisError),
}

/// One node's connection to the cluster bus. Cheap to share (`Arc`).
pub struct RedisCluster {
    node: NodeId,
    client: redis::Client,
    commands: ConnectionManager,
    started: Instant,
    link: AtomicU8,
    /// Nanoseconds since `started` until which caches may be trusted.
    lease_until: AtomicU64,
    epoch: AtomicU64,
    errors: Arc<AtomicU64>,
    handlers: RwLock<HashMap<Topic, Handler>>,
    link_handlers: RwLock<Vec<LinkHandler>>,
    heartbeats: Mutex<HashMap<u64, Instant>>,
    waiting: Mutex<HashMap<u64, Arc<Waiter>>>,
    pending: Mutex<VecDeque<(Topic, Vec<u8>)>>,
}

#[derive(Debug, Default)]
struct Waiter {
    acks: AtomicU64,
    notify: Notify,
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("RedisCluster").field("node", &self.node).field("link", &self.link()).finish_non_exhaustive()
    }
}

const LINK_UP: u8 = 1;
const LINK_DOWN: u8 = 2;

impl RedisCluster {
    /// Starts the node's bus tasks; returns at once (the link comes up when
    /// Redis answers, and the node serves from the store until then).
    pub fn start(url: &str, node: NodeId) -> Result<Arc<Self>, RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let commands = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        let cluster = Arc::new(Self {
            node,
            client,
            commands,
            started: Instant::now(),
            link: AtomicU8::new(LINK_DOWN),
            lease_until: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            errors: Arc::default(),
            handlers: RwLock::default(),
            link_handlers: RwLock::default(),
            heartbeats: Mutex::default(),
            waiting: Mutex::default(),
            pending: Mutex::default(),
        });
        tokio::spawn(subscribe_loop(Arc::downgrade(&cluster)));
        tokio::spawn(heartbeat_loop(Arc::downgrade(&cluster)));
        Ok(cluster)
    }

    fn nanos_since_start(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX)
    }

    fn failed(&self, what: &str, e: &dyn std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(error = %e, "redis {what} failed");
    }

    /// Runs one command with the command timeout; `None` (counted) on failure.
    async fn run<T: redis::FromRedisValue>(&self, what: &str, cmd: &redis::Cmd) -> Option<T> {
        let mut conn = self.commands.clone();
        match tokio::time::timeout(COMMAND_TIMEOUT, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                self.failed(what, &e);
                None
            }
            Err(e) => {
                self.failed(what, &e);
                None
            }
        }
    }

    fn set_link(&self, link: Link) {
        let code = if link == Link::Up { LINK_UP } else { LINK_DOWN };
        if link == Link::Down {
            self.lease_until.store(0, Ordering::Release);
        }
        if self.link.swap(code, Ordering::AcqRel) == code {
            return;
        }
        tracing::info!(node = %self.node, link = link.as_str(), "cluster link");
        let handlers = self.link_handlers.read().clone();
        for handler in handlers {
            handler(link);
        }
    }

    fn shared_key(&self, key: &str) -> String {
        format!("tessera:c:{}:{key}", self.epoch.load(Ordering::Acquire))
    }

    async fn publish_frame(&self, frame: &Frame<'_>) -> Option<u64> {
        self.run("publish", redis::cmd("PUBLISH").arg(CHANNEL).arg(frame.encode())).await
    }

    /// Handles one frame from the bus, in arrival order.
    fn receive(self: &Arc<Self>, bytes: &[u8]) {
        let Some(frame) = Frame::decode(bytes) else { return };
        let mine = frame.from == self.node.as_str();
        match frame.kind {
            Kind::Heartbeat if mine => {
                if let Some(sent) = self.heartbeats.lock().remove(&frame.nonce) {
                    let until = self.nanos_since_start(sent + LEASE);
                    self.lease_until.fetch_max(until, Ordering::AcqRel);
                }
            }
            Kind::Heartbeat => {}
            Kind::Epoch => {
                if let Some(epoch) = frame.payload.try_into().ok().map(u64::from_be_bytes) {
                    self.epoch.fetch_max(epoch, Ordering::AcqRel);
                }
            }
            Kind::Message | Kind::Confirmed => {
                if !mine && let Some(handler) = frame.topic.and_then(|t| self.handlers.read().get(&t).cloned()) {
                    handler(frame.payload);
                }
                if frame.kind == Kind::Confirmed {
                    let ack = Frame {
                        kind: Kind::Ack,
                        topic: None,
                        from: self.node.as_str(),
                        nonce: frame.nonce,
                        payload: frame.from.as_bytes(),
                    }
                    .encode();
                    let this = self.clone();
                    tokio::spawn(async move {
                        this.run::<u64>("ack", redis::cmd("PUBLISH").arg(CHANNEL).arg(ack)).await;
                    });
                }
            }
            Kind::Ack => {
                if frame.payload == self.node.as_str().as_bytes()
                    && let Some(waiter) = self.waiting.lock().get(&frame.nonce).cloned()
                {
                    waiter.acks.fetch_add(1, Ordering::AcqRel);
                    waiter.notify.notify_one();
                }
            }
        }
    }

    fn keep_pending(&self, topic: Topic, payload: Vec<u8>) {
        let mut pending = self.pending.lock();
        if pending.len() >= MAX_PENDING {
            pending.pop_front();
            tracing::warn!("too many revocations waiting for Redis: the oldest is dropped (the store has it)");
        }
        pending.push_back((topic, payload));
    }

    /// After (re)connecting: a new shared-tier epoch, then what waited.
    async fn on_connected(self: Arc<Self>) {
        if let Some(epoch) = self.run::<u64>("epoch", redis::cmd("INCR").arg(EPOCH)).await {
            self.epoch.fetch_max(epoch, Ordering::AcqRel);
            let bytes = epoch.to_be_bytes();
            let frame = Frame { kind: Kind::Epoch, topic: None, from: self.node.as_str(), nonce: 0, payload: &bytes };
            self.publish_frame(&frame).await;
        }
        let waiting: Vec<_> = self.pending.lock().drain(..).collect();
        if waiting.is_empty() {
            return;
        }
        // Sent now for the nodes that never lost Redis (their caches were
        // trusted all along), and once more a moment later for nodes that
        // reconnect just after this one. (A node that was cut off too has
        // emptied its cache on reconnecting, so it needs neither.)
        for round in 0..2 {
            if round == 1 {
                tokio::time::sleep(REPLAY_AGAIN).await;
            }
            for (topic, payload) in &waiting {
                if let Err(e) = self.publish_confirmed(*topic, payload.clone()).await {
                    tracing::warn!(error = %e, "replaying a kept broadcast failed; kept again");
                    return;
                }
            }
        }
    }
}

fn random_nonce() -> u64 {
    let mut bytes = [0u8; 8];
    // The OS generator failing is not recoverable; a clock-based nonce still works.
    if getrandom::fill(&mut bytes).is_err() {
        return std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    }
    u64::from_le_bytes(bytes)
}

async fn subscribe_loop(weak: std::sync::Weak<RedisCluster>) {
    use futures_util::StreamExt;
    loop {
        let Some(this) = weak.upgrade() else { return };
        let connected = tokio::time::timeout(COMMAND_TIMEOUT, async {
            let mut pubsub = this.client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let mut pubsub = match connected {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(e)) => {
                this.failed("subscribe", &e);
                this.set_link(Link::Down);
                drop(this);
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
            Err(e) => {
                this.failed("subscribe", &e);
                this.set_link(Link::Down);
                drop(this);
                continue;
            }
        };
        // Caches are emptied by the link handlers before any frame is read,
        // and trusted again only once this node's own heartbeat comes back.
        this.set_link(Link::Up);
        tokio::spawn(this.clone().on_connected());
        drop(this);
        let mut stream = pubsub.on_message();
        loop {
            // Own heartbeats arrive every HEARTBEAT: silence for a lease means the link is gone.
            let next = tokio::time::timeout(LEASE, stream.next()).await;
            let Some(this) = weak.upgrade() else { return };
            match next {
                Ok(Some(msg)) => this.receive(msg.get_payload_bytes()),
                Ok(None) | Err(_) => {
                    this.failed("subscription", &"connection lost or silent");
                    this.set_link(Link::Down);
                    break;
                }
            }
        }
    }
}

async fn heartbeat_loop(weak: std::sync::Weak<RedisCluster>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seq = 0u64;
    loop {
        tick.tick().await;
        let Some(this) = weak.upgrade() else { return };
        if this.link() != Link::Up {
            continue;
        }
        seq += 1;
        let sent = Instant::now();
        {
            let mut beats = this.heartbeats.lock();
            beats.retain(|_, at| sent.duration_since(*at) < LEASE);
            beats.insert(seq, sent);
        }
        let frame = Frame { kind: Kind::Heartbeat, topic: None, from: this.node.as_str(), nonce: seq, payload: &[] };
        this.publish_frame(&frame).await;
        if seq.is_multiple_of(5) {
            let now_ms = unix_millis();
            let mut pipe = redis::pipe();
            pipe.cmd("ZADD").arg(NODES).arg(now_ms).arg(this.node.as_str()).ignore();
            pipe.cmd("ZREMRANGEBYSCORE").arg(NODES).arg("-inf").arg(now_ms - 60_000).ignore();
            let mut conn = this.commands.clone();
            if let Ok(Err(e)) = tokio::time::timeout(COMMAND_TIMEOUT, pipe.query_async::<()>(&mut conn)).await {
                this.failed("register", &e);
            }
        }
    }
}

fn unix_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[async_trait]
impl Cluster for RedisCluster {
    fn node(&self) -> Option<&NodeId> {
        Some(&self.node)
    }

    fn link(&self) -> Link {
        if self.link.load(Ordering::Acquire) == LINK_UP { Link::Up } else { Link::Down }
    }

    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn cache_trusted(&self) -> bool {
        self.link.load(Ordering::Acquire) == LINK_UP
            && self.nanos_since_start(Instant::now()) < self.lease_until.load(Ordering::Acquire)
    }

    fn on_message(&self, topic: Topic, handler: Handler) {
        self.handlers.write().insert(topic, handler);
    }

    fn on_link(&self, handler: LinkHandler) {
        self.link_handlers.write().push(handler);
    }

    fn publish(&self, topic: Topic, payload: Vec<u8>) {
        if self.link() != Link::Up {
            return;
        }
        let frame =
            Frame { kind: Kind::Message, topic: Some(topic), from: self.node.as_str(), nonce: 0, payload: &payload }
                .encode();
        let (mut conn, errors) = (self.commands.clone(), self.errors.clone());
        tokio::spawn(async move {
            let cmd = redis::cmd("PUBLISH").arg(CHANNEL).arg(frame).to_owned();
            if !matches!(tokio::time::timeout(COMMAND_TIMEOUT, cmd.query_async::<u64>(&mut conn)).await, Ok(Ok(_))) {
                // Best effort: receivers catch up from the store when their link changes.
                errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    async fn publish_confirmed(&self, topic: Topic, payload: Vec<u8>) -> Result<(), ClusterError> {
        if self.link() != Link::Up {
            self.keep_pending(topic, payload);
            return Err(ClusterError::Unreachable("link down".into()));
        }
        let nonce = random_nonce();
        let waiter = Arc::new(Waiter::default());
        self.waiting.lock().insert(nonce, waiter.clone());
        let started = Instant::now();
        let alive_since = unix_millis() - ALIVE.as_millis() as i64;
        let alive: Option<u64> = self.run("nodes", redis::cmd("ZCOUNT").arg(NODES).arg(alive_since).arg("+inf")).await;
        let frame =
            Frame { kind: Kind::Confirmed, topic: Some(topic), from: self.node.as_str(), nonce, payload: &payload };
        let Some(receivers) = self.publish_frame(&frame).await else {
            self.waiting.lock().remove(&nonce);
            self.keep_pending(topic, payload);
            return Err(ClusterError::Unreachable("publish failed".into()));
        };
        // Every subscriber acks, this node included; a node that heartbeated
        // lately but is not subscribed any more cannot, so its lease must run out.
        let expected = receivers.max(alive.unwrap_or(u64::MAX));
        let deadline = started + LEASE + HEARTBEAT;
        while waiter.acks.load(Ordering::Acquire) < expected {
            let notified = waiter.notify.notified();
            if waiter.acks.load(Ordering::Acquire) >= expected {
                break;
            }
            if tokio::time::timeout_at(deadline.into(), notified).await.is_err() {
                tracing::warn!(
                    acks = waiter.acks.load(Ordering::Acquire),
                    expected,
                    "not every node acked a revocation; waited out their lease"
                );
                break;
            }
        }
        self.waiting.lock().remove(&nonce);
        Ok(())
    }

    async fn shared_get(&self, key: &str) -> Option<Vec<u8>> {
        if !self.cache_trusted() {
            return None;
        }
        self.run::<Option<Vec<u8>>>("get", redis::cmd("GET").arg(self.shared_key(key))).await.flatten()
    }

    async fn shared_fill(&self, key: &str, value: &[u8], ttl_seconds: u64) {
        if !self.cache_trusted() {
            return;
        }
        let cmd =
            redis::cmd("SET").arg(self.shared_key(key)).arg(value).arg("NX").arg("EX").arg(ttl_seconds).to_owned();
        self.run::<Option<String>>("fill", &cmd).await;
    }

    async fn shared_overwrite(&self, entries: &[(String, Vec<u8>)], ttl_seconds: u64) {
        if entries.is_empty() || self.link() != Link::Up {
            return;
        }
        let mut pipe = redis::pipe();
        for (key, value) in entries {
            pipe.cmd("SET").arg(self.shared_key(key)).arg(value.as_slice()).arg("EX").arg(ttl_seconds).ignore();
        }
        let mut conn = self.commands.clone();
        match tokio::time::timeout(COMMAND_TIMEOUT, pipe.query_async::<()>(&mut conn)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.failed("overwrite", &e),
            Err(e) => self.failed("overwrite", &e),
        }
    }
}
