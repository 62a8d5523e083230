//! The Messenger's conversations.
//!
//! A guest (a visitor) or a user the customer vouched for (a verified user)
//! starts a conversation; messages get per-conversation sequence numbers in
//! the store, and every open Messenger and agent console hears about them
//! through the [`Hub`]. Clients acknowledge sequence numbers and resume from
//! the last one after a reconnect, and give each message they send a key of
//! their own, so a resend is recognised: nothing lost, nothing twice.
//!
//! Talks to storage only through `dyn Store`; knows nothing of HTTP or
//! WebSockets.

mod cluster;
mod hub;
mod presence;
pub mod tokens;

use std::sync::Arc;

use tessera_cluster::{Alone, Cluster};
use tessera_core::{Clock, ConversationId, PersonId, SiteId};
use tessera_store::{
    Appended, Author, ChatMessage, ChatOwner, Conversation, ConversationStatus, NewConversation, Store, StoreError,
};

pub use hub::{ChatEvent, Hub, QueueEvent};
pub use presence::{Connected, Presence};

pub const MAX_MESSAGE_CHARS: usize = 5_000;
const MAX_CLIENT_KEY: usize = 64;
/// Messages one history read returns at most; clients page with `after`.
pub const PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("no such conversation")]
    NotFound,
    #[error("the conversation is closed")]
    Closed,
    #[error("the message is empty")]
    Empty,
    #[error("a message can be at most {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    #[error("a message key must be 1 to {MAX_CLIENT_KEY} letters, digits, '-' or '_'")]
    BadClientKey,
    #[error("a name must be at most 100 characters and an email at most 254")]
    BadContact,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Debug)]
pub struct Chat {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hub: Arc<Hub>,
    presence: Arc<Presence>,
    cluster: Arc<dyn Cluster>,
}

fn owns(conversation: &Conversation, owner: &ChatOwner) -> bool {
    let by_visitor = owner.visitor.is_some() && conversation.owner.visitor == owner.visitor;
    let by_user = owner.verified_user.is_some() && conversation.owner.verified_user == owner.verified_user;
    by_visitor || by_user
}

impl Chat {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self::in_cluster(store, clock, Arc::new(Alone))
    }

    /// One node of a cluster: changes reach sockets on every node, and
    /// "agents available" counts agents on every node. Needs a Tokio runtime.
    pub fn in_cluster(store: Arc<dyn Store>, clock: Arc<dyn Clock>, cluster: Arc<dyn Cluster>) -> Self {
        let (hub, presence) = (Arc::default(), Arc::default());
        cluster::join(&cluster, &hub, &presence);
        Self { store, clock, hub, presence, cluster }
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    pub fn presence(&self) -> &Arc<Presence> {
        &self.presence
    }

    pub fn now(&self) -> tessera_core::Timestamp {
        self.clock.now()
    }

    pub async fn start(
        &self,
        site: SiteId,
        owner: ChatOwner,
        name: &str,
        email: &str,
    ) -> Result<Conversation, ChatError> {
        let (name, email) = (name.trim(), email.trim());
        if name.chars().count() > 100 || email.len() > 254 {
            return Err(ChatError::BadContact);
        }
        let new = NewConversation { site_id: site, owner, visitor_name: name.into(), visitor_email: email.into() };
        let conversation = self.store.create_conversation(&new, self.clock.now()).await?;
        self.hub.publish_site(site, QueueEvent { conversation: conversation.id });
        cluster::announce(self.cluster.as_ref(), site, conversation.id, None);
        Ok(conversation)
    }

    /// The owner's conversations on the site, newest first.
    pub async fn conversations_of(&self, site: SiteId, owner: &ChatOwner) -> Result<Vec<Conversation>, ChatError> {
        Ok(self.store.conversations_of(site, owner).await?)
    }

    /// The conversation, if it is the site's (and the owner's, when given).
    pub async fn conversation(
        &self,
        site: SiteId,
        id: ConversationId,
        owner: Option<&ChatOwner>,
    ) -> Result<Conversation, ChatError> {
        self.store
            .conversation(id)
            .await?
            .filter(|c| c.site_id == site && owner.is_none_or(|o| owns(c, o)))
            .ok_or(ChatError::NotFound)
    }

    pub async fn open_conversations(&self, site: SiteId) -> Result<Vec<Conversation>, ChatError> {
        Ok(self.store.open_conversations(site).await?)
    }

    /// Stores a message and tells everyone listening. With a `client_key`
    /// already used, returns the stored message again and tells no one.
    pub async fn post(
        &self,
        conversation: &Conversation,
        author: Author,
        body: &str,
        client_key: Option<&str>,
    ) -> Result<Appended, ChatError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(ChatError::Empty);
        }
        if body.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ChatError::TooLong);
        }
        let key_ok = |k: &str| {
            !k.is_empty()
                && k.len() <= MAX_CLIENT_KEY
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if client_key.is_some_and(|k| !key_ok(k)) {
            return Err(ChatError::BadClientKey);
        }
        let appended = self
            .store
            .append_message(conversation.id, author, body, client_key, self.clock.now())
            .await?
            .ok_or(ChatError::Closed)?;
        if appended.created {
            self.hub.publish(conversation.id, ChatEvent::Message(appended.message.clone()));
            self.hub.publish_site(conversation.site_id, QueueEvent { conversation: conversation.id });
            cluster::announce(self.cluster.as_ref(), conversation.site_id, conversation.id, None);
        }
        Ok(appended)
    }

    /// Messages after `after`, oldest first (one page).
    pub async fn history(&self, conversation: ConversationId, after: u64) -> Result<Vec<ChatMessage>, ChatError> {
        Ok(self.store.messages_after(conversation, after, PAGE).await?)
    }

    /// An agent takes a waiting conversation; false if someone else was quicker.
    pub async fn claim(
        &self,
        site: SiteId,
        id: ConversationId,
        agent: PersonId,
        name: &str,
    ) -> Result<bool, ChatError> {
        let conversation = self.conversation(site, id, None).await?;
        let won = self.store.claim_conversation(id, agent, self.clock.now()).await?;
        if won {
            self.status_changed(&conversation, ConversationStatus::Active, Some(agent));
            self.post(&conversation, Author::System, &format!("{name} joined the conversation."), None).await?;
        }
        Ok(won)
    }

    pub async fn transfer(
        &self,
        site: SiteId,
        id: ConversationId,
        from: PersonId,
        to: PersonId,
        to_name: &str,
    ) -> Result<bool, ChatError> {
        let conversation = self.conversation(site, id, None).await?;
        let moved = self.store.transfer_conversation(id, from, to, self.clock.now()).await?;
        if moved {
            self.status_changed(&conversation, ConversationStatus::Active, Some(to));
            self.post(&conversation, Author::System, &format!("{to_name} took over the conversation."), None).await?;
        }
        Ok(moved)
    }

    pub async fn close(&self, site: SiteId, id: ConversationId) -> Result<bool, ChatError> {
        let conversation = self.conversation(site, id, None).await?;
        // The closing note goes in first: a closed conversation takes no messages.
        self.post(&conversation, Author::System, "The conversation was closed.", None).await.ok();
        let closed = self.store.close_conversation(id, self.clock.now()).await?;
        if closed {
            self.status_changed(&conversation, ConversationStatus::Closed, conversation.agent_id);
        }
        Ok(closed)
    }

    fn status_changed(&self, conversation: &Conversation, status: ConversationStatus, agent: Option<PersonId>) {
        let event = ChatEvent::Status { status, agent };
        cluster::announce(self.cluster.as_ref(), conversation.site_id, conversation.id, Some(&event));
        self.hub.publish(conversation.id, event);
        self.hub.publish_site(conversation.site_id, QueueEvent { conversation: conversation.id });
    }
}
