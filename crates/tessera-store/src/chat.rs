//! Records of the Messenger: conversations and their messages.

use tessera_core::{ConversationId, MessageId, PersonId, SiteId, Timestamp, VisitorId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConversationStatus {
    /// Waiting for an agent (or, with none online, a message left for later).
    Waiting,
    /// An agent has claimed it.
    Active,
    Closed,
}

impl ConversationStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Waiting, Self::Active, Self::Closed].into_iter().find(|s| s.as_str() == text)
    }
}

/// Who a conversation belongs to on the visitor's side. At least one is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatOwner {
    /// The browser (visitor token), for guests.
    pub visitor: Option<VisitorId>,
    /// A user vouched for by the customer's backend (the `sub` of their
    /// identity token): their conversations follow them to any device.
    pub verified_user: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewConversation {
    pub site_id: SiteId,
    pub owner: ChatOwner,
    /// What the visitor typed (optional), or the verified name.
    pub visitor_name: String,
    pub visitor_email: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub site_id: SiteId,
    pub owner: ChatOwner,
    pub visitor_name: String,
    pub visitor_email: String,
    pub status: ConversationStatus,
    pub agent_id: Option<PersonId>,
    /// Sequence number of the newest message (0: none yet).
    pub last_seq: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Author {
    Visitor,
    Agent(PersonId),
    /// Tessera itself ("Alex joined", "closed").
    System,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// 1, 2, 3... within the conversation, without gaps: what clients
    /// acknowledge and resume from.
    pub seq: u64,
    pub author: Author,
    pub body: String,
    /// The sender's own ID for the message, so a resend after a lost
    /// acknowledgement is recognised and not stored twice.
    pub client_key: Option<String>,
    pub created_at: Timestamp,
}

/// What appending a message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub message: ChatMessage,
    /// False when the client key was already used: `message` is the earlier one.
    pub created: bool,
}
