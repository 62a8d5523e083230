//! The Messenger across nodes: a visitor's socket on one node, the agent's
//! console on another.
//!
//! A change is announced to the other nodes as "conversation C of site S
//! changed" (with the new status when that is what changed); each node
//! re-announces it to its own sockets, which read the messages from the
//! store from their last `seq`, so nothing is lost or doubled whatever the
//! bus drops. While the bus is down, sockets re-read every second (slower,
//! still correct); when it returns, once more at once.
//!
//! Presence: each node repeats which sites have an available agent on it;
//! a node that stops repeating (killed) drops out after [`PRESENCE_STALE`].

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tessera_cluster::{Cluster, Link, Topic};
use tessera_core::{ConversationId, PersonId, SiteId};
use tessera_store::ConversationStatus;

use crate::hub::{ChatEvent, Hub, QueueEvent};
use crate::presence::Presence;

/// How often a node repeats its presence, and re-reads while the bus is down.
const TICK: Duration = Duration::from_secs(1);
pub(crate) const PRESENCE_STALE: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize)]
struct Changed {
    conversation: i64,
    site: u32,
    status: Option<String>,
    agent: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct PresenceSnapshot {
    node: String,
    sites: Vec<u32>,
}

/// Tells the other nodes that a conversation changed.
pub(crate) fn announce(cluster: &dyn Cluster, site: SiteId, conversation: ConversationId, event: Option<&ChatEvent>) {
    if cluster.node().is_none() {
        return;
    }
    let (status, agent) = match event {
        Some(ChatEvent::Status { status, agent }) => (Some(status.as_str().to_owned()), agent.map(PersonId::get)),
        _ => (None, None),
    };
    let changed = Changed { conversation: conversation.get(), site: site.get(), status, agent };
    if let Ok(payload) = serde_json::to_vec(&changed) {
        cluster.publish(Topic::Chat, payload);
    }
}

fn deliver(hub: &Hub, payload: &[u8]) {
    let Ok(c) = serde_json::from_slice::<Changed>(payload) else { return };
    let Ok(site) = SiteId::new(c.site) else { return };
    let conversation = ConversationId::new(c.conversation);
    let event = match c.status.as_deref().and_then(ConversationStatus::parse) {
        Some(status) => ChatEvent::Status { status, agent: c.agent.map(PersonId::new) },
        None => ChatEvent::Changed,
    };
    hub.publish(conversation, event);
    hub.publish_site(site, QueueEvent { conversation });
}

/// Wires the hub and presence to the cluster; returns at once, work goes on in a task.
pub(crate) fn join(cluster: &Arc<dyn Cluster>, hub: &Arc<Hub>, presence: &Arc<Presence>) {
    let Some(node) = cluster.node().map(|n| n.to_string()) else { return };
    let weak: Weak<Hub> = Arc::downgrade(hub);
    cluster.on_message(
        Topic::Chat,
        Arc::new(move |payload: &[u8]| {
            if let Some(hub) = weak.upgrade() {
                deliver(&hub, payload);
            }
        }),
    );
    let weak: Weak<Hub> = Arc::downgrade(hub);
    cluster.on_link(Arc::new(move |_link: Link| {
        // Whatever was missed while the link changed is in the store.
        if let Some(hub) = weak.upgrade() {
            hub.resync_all();
        }
    }));
    let weak: Weak<Presence> = Arc::downgrade(presence);
    cluster.on_message(
        Topic::Presence,
        Arc::new(move |payload: &[u8]| {
            let Some(presence) = weak.upgrade() else { return };
            if let Ok(s) = serde_json::from_slice::<PresenceSnapshot>(payload) {
                presence.remote(s.node, s.sites.into_iter().filter_map(|s| SiteId::new(s).ok()).collect());
            }
        }),
    );
    let (cluster, hub, presence) = (cluster.clone(), Arc::downgrade(hub), Arc::downgrade(presence));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            let changed = match presence.upgrade() {
                Some(p) => p.changed(),
                None => return,
            };
            tokio::select! {
                _ = tick.tick() => {}
                _ = changed.notified() => {}
            }
            let (Some(hub), Some(presence)) = (hub.upgrade(), presence.upgrade()) else { return };
            if cluster.link() == Link::Down {
                hub.resync_all();
            }
            let snapshot = PresenceSnapshot { node: node.clone(), sites: presence.local_sites() };
            if let Ok(payload) = serde_json::to_vec(&snapshot) {
                cluster.publish(Topic::Presence, payload);
            }
        }
    });
}
