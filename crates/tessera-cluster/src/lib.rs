//! What a node needs from its peers, and nothing about how it gets it.
//!
//! One node (the embedded default) needs nothing: [`Alone`] answers every
//! call at once. Several nodes behind a load balancer share a message bus
//! (`tessera-redis`), and the domain crates use it only through [`Cluster`]:
//!
//! - **broadcasts** ([`Cluster::publish`]): best effort, for live fan-out
//!   whose truth is in the store (a chat message, "page views written"); a
//!   node that misses one catches up from the store when its link returns;
//! - **confirmed broadcasts** ([`Cluster::publish_confirmed`]): for
//!   revocations, which must hold on every node by the time the call returns;
//! - **the link** ([`Cluster::cache_trusted`]): a node-local cache may answer
//!   only while the node provably hears every confirmed broadcast;
//! - **the shared cache tier**: a small key/value cache in front of the
//!   durable store, with tombstones that a late fill cannot overwrite.
//!
//! Handlers run on the bus's receiving task, in the order messages arrive,
//! and must not block: they hand work on (a channel send, a map update).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

mod alone;
mod node_id;

pub use alone::Alone;
pub use node_id::NodeId;

/// What a broadcast is about; each topic has one owner that encodes its payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Session IDs (32-byte hashes, concatenated) that no node may accept any more.
    Sessions,
    /// A conversation changed (a message or a status): sockets following it read on.
    Chat,
    /// An agent invites a visitor to chat.
    Invites,
    /// Page views were written: live visitor lists refresh.
    Visits,
    /// Which agents are online on a node (a snapshot, repeated).
    Presence,
}

impl Topic {
    pub const ALL: [Topic; 5] = [Topic::Sessions, Topic::Chat, Topic::Invites, Topic::Visits, Topic::Presence];
}

/// The state of this node's link to its peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Single node: nobody to hear from, every local cache is the truth.
    Alone,
    /// Connected to the bus and hearing its own heartbeats.
    Up,
    /// Cut off: peers' broadcasts may be missed, so local caches are not trusted.
    Down,
}

impl Link {
    pub const fn as_str(self) -> &'static str {
        match self {
            Link::Alone => "alone",
            Link::Up => "up",
            Link::Down => "down",
        }
    }
}

/// Receives the payloads of one topic that other nodes published.
pub type Handler = Arc<dyn Fn(&[u8]) + Send + Sync>;
/// Told every time the link changes, before the node trusts its caches again.
pub type LinkHandler = Arc<dyn Fn(Link) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The bus could not be reached; the broadcast did not go out.
    #[error("the cluster bus is unreachable: {0}")]
    Unreachable(String),
}

/// A node's view of the cluster. See the crate documentation.
#[async_trait]
pub trait Cluster: Send + Sync + fmt::Debug {
    /// This node's name, or `None` when running alone.
    fn node(&self) -> Option<&NodeId>;

    fn link(&self) -> Link;

    /// Calls to the bus that failed or timed out since start (for `/metrics`).
    fn errors(&self) -> u64;

    /// Whether caches local to this node may answer now. Called on every
    /// request: must be a couple of atomic loads, no I/O.
    fn cache_trusted(&self) -> bool;

    /// Registers the handler for `topic` (one per topic; a second replaces the first).
    fn on_message(&self, topic: Topic, handler: Handler);

    /// Registers a handler for link changes.
    fn on_link(&self, handler: LinkHandler);

    /// Sends `payload` to every other node, best effort, without waiting.
    fn publish(&self, topic: Topic, payload: Vec<u8>);

    /// Sends `payload` to every other node and returns once each has run its
    /// handler or can no longer trust its caches. Fails only when the bus is
    /// unreachable; the caller keeps what it must replay.
    async fn publish_confirmed(&self, topic: Topic, payload: Vec<u8>) -> Result<(), ClusterError>;

    /// The shared cache tier: `None` on a miss, when alone, or when the bus is down.
    async fn shared_get(&self, key: &str) -> Option<Vec<u8>>;

    /// Stores `value` under `key` unless something (a tombstone) is already there.
    async fn shared_fill(&self, key: &str, value: &[u8], ttl_seconds: u64);

    /// Overwrites entries (tombstones), whatever they held.
    async fn shared_overwrite(&self, entries: &[(String, Vec<u8>)], ttl_seconds: u64);
}
