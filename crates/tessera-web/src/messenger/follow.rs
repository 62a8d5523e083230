//! Following one conversation on a socket, exactly once per message.
//!
//! Shared by the visitor's socket and the agent console: it remembers the
//! highest `seq` it produced and produces only higher ones, whether they come
//! from the store (after a resume, or when the live channel lagged) or from
//! the hub.

use std::collections::HashMap;

use tessera_chat::{ChatError, ChatEvent};
use tessera_core::PersonId;
use tessera_store::{Author, ChatMessage, Conversation};
use tokio::sync::broadcast;

use crate::AppState;

/// A message as clients get it (`{"type":"message",...}`).
#[derive(Debug, serde::Serialize)]
pub(crate) struct OutMessage {
    #[serde(rename = "type")]
    kind: &'static str,
    pub seq: u64,
    author: &'static str,
    name: String,
    body: String,
    at: i64,
    conversation: i64,
}

pub(crate) struct Follow {
    pub conversation: Conversation,
    events: broadcast::Receiver<ChatEvent>,
    sent: u64,
    names: HashMap<PersonId, String>,
    /// Counted in `tessera_conversations_active` while this lives.
    _counted: crate::metrics::Following,
}

impl Follow {
    /// Subscribes before anything is read from the store, so no message can
    /// fall between the replay and the live feed.
    pub fn new(state: &AppState, conversation: Conversation, after: u64) -> Self {
        let events = state.chat().hub().subscribe(conversation.id);
        let _counted = state.metrics().conversation_followed();
        Self { conversation, events, sent: after, names: HashMap::new(), _counted }
    }

    pub async fn event(&mut self) -> Result<ChatEvent, broadcast::error::RecvError> {
        self.events.recv().await
    }

    /// Everything after the last produced `seq`, from the store.
    pub async fn missed(&mut self, state: &AppState) -> Result<Vec<OutMessage>, ChatError> {
        let mut out = Vec::new();
        loop {
            let page = state.chat().history(self.conversation.id, self.sent).await?;
            if page.is_empty() {
                return Ok(out);
            }
            for m in &page {
                out.extend(self.render(state, m).await?);
            }
        }
    }

    /// The message for the client, unless it was already produced.
    pub async fn render(&mut self, state: &AppState, m: &ChatMessage) -> Result<Option<OutMessage>, ChatError> {
        if m.seq <= self.sent {
            return Ok(None);
        }
        self.sent = m.seq;
        let (author, name) = match m.author {
            Author::Visitor => ("visitor", self.conversation.visitor_name.clone()),
            Author::System => ("system", String::new()),
            Author::Agent(id) => ("agent", self.agent_name(state, id).await?),
        };
        Ok(Some(OutMessage {
            kind: "message",
            seq: m.seq,
            author,
            name,
            body: m.body.clone(),
            at: m.created_at.unix(),
            conversation: m.conversation_id.get(),
        }))
    }

    async fn agent_name(&mut self, state: &AppState, id: PersonId) -> Result<String, ChatError> {
        if let Some(name) = self.names.get(&id) {
            return Ok(name.clone());
        }
        let person = state.core().store().person(id).await?;
        let name = person.map(|p| p.name.to_string()).unwrap_or_default();
        self.names.insert(id, name.clone());
        Ok(name)
    }
}
