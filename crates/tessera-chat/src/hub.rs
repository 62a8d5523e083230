//! Live fan-out inside one process: every open Messenger and agent console
//! subscribes to what it shows. The store is the truth; an event here only
//! says "something new, at this sequence". A subscriber that falls behind
//! (the channel lagged) or reconnects reads what it missed from the store,
//! from its last acknowledged sequence, so nothing is lost or duplicated.
//! Across nodes, `cluster.rs` carries "changed" between hubs.

use std::collections::HashMap;

use parking_lot::Mutex;
use tessera_core::{ConversationId, PersonId, SiteId};
use tessera_store::{ChatMessage, ConversationStatus};
use tokio::sync::broadcast;

/// Events per channel a slow subscriber may fall behind before it must resync.
const CAPACITY: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatEvent {
    Message(ChatMessage),
    Status {
        status: ConversationStatus,
        agent: Option<PersonId>,
    },
    /// Something changed that this node did not see (another node, or a
    /// missed broadcast): read the conversation from the store.
    Changed,
}

/// For agent consoles: a conversation of the site changed (new, new message,
/// claimed, closed); they re-read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueEvent {
    pub conversation: ConversationId,
}

#[derive(Debug, Default)]
pub struct Hub {
    conversations: Mutex<HashMap<ConversationId, broadcast::Sender<ChatEvent>>>,
    sites: Mutex<HashMap<SiteId, broadcast::Sender<QueueEvent>>>,
}

fn channel<K: std::hash::Hash + Eq + Copy, E: Clone>(
    map: &Mutex<HashMap<K, broadcast::Sender<E>>>,
    key: K,
) -> broadcast::Receiver<E> {
    let mut map = map.lock();
    map.entry(key).or_insert_with(|| broadcast::channel(CAPACITY).0).subscribe()
}

fn send<K: std::hash::Hash + Eq + Copy, E: Clone>(map: &Mutex<HashMap<K, broadcast::Sender<E>>>, key: K, event: E) {
    let mut map = map.lock();
    if let Some(tx) = map.get(&key)
        && tx.send(event).is_err()
    {
        // Nobody listens any more: forget the channel.
        map.remove(&key);
    }
}

impl Hub {
    pub fn subscribe(&self, conversation: ConversationId) -> broadcast::Receiver<ChatEvent> {
        channel(&self.conversations, conversation)
    }

    pub fn publish(&self, conversation: ConversationId, event: ChatEvent) {
        send(&self.conversations, conversation, event);
    }

    pub fn subscribe_site(&self, site: SiteId) -> broadcast::Receiver<QueueEvent> {
        channel(&self.sites, site)
    }

    pub fn publish_site(&self, site: SiteId, event: QueueEvent) {
        send(&self.sites, site, event);
    }

    /// Tells every subscriber to re-read from the store (after the cluster
    /// link changed, or each tick while it is down).
    pub fn resync_all(&self) {
        let conversations: Vec<_> = self.conversations.lock().keys().copied().collect();
        for id in conversations {
            self.publish(id, ChatEvent::Changed);
        }
        let sites: Vec<_> = self.sites.lock().keys().copied().collect();
        for site in sites {
            self.publish_site(site, QueueEvent { conversation: ConversationId::new(0) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_get_events_and_unheard_channels_are_dropped() {
        let hub = Hub::default();
        let id = ConversationId::new(1);
        hub.publish(id, ChatEvent::Status { status: ConversationStatus::Closed, agent: None });
        let mut rx = hub.subscribe(id);
        let event = ChatEvent::Status { status: ConversationStatus::Active, agent: Some(PersonId::new(3)) };
        hub.publish(id, event.clone());
        assert_eq!(rx.recv().await.ok(), Some(event));
        drop(rx);
        hub.publish(id, ChatEvent::Status { status: ConversationStatus::Closed, agent: None });
        assert!(hub.conversations.lock().is_empty(), "a channel nobody hears is forgotten");
    }
}
