//! The record a successful `INSERT` stands for, built from what was inserted
//! and the ID the database gave it, so a backend need not read it back.

use tessera_core::{CategoryId, CommentId, ConversationId, MessageId, PersonId, SiteId, Timestamp, VisitorId};
use tessera_store::{
    Author, Category, CategoryName, ChatMessage, Comment, CommentStatus, Conversation, ConversationStatus, NewComment,
    NewConversation, NewPerson, Person, Visitor,
};

pub fn person(id: PersonId, new: &NewPerson, now: Timestamp) -> Person {
    Person {
        id,
        site_id: new.site_id,
        email: new.email.clone(),
        name: new.name.clone(),
        role: new.role,
        password_hash: new.password_hash.clone(),
        disabled: false,
        created_at: now,
        updated_at: now,
    }
}

/// A category with `names` in the order [`crate::record::categories`] reads them (by language).
pub fn category(
    id: CategoryId,
    site: SiteId,
    parent: Option<CategoryId>,
    position: i32,
    names: &[CategoryName],
) -> Category {
    let mut names = names.to_vec();
    names.sort_by(|a, b| a.language.as_str().cmp(b.language.as_str()));
    Category { id, site_id: site, parent_id: parent, position, names }
}

/// A new comment: pending, not moderated.
pub fn comment(id: CommentId, new: &NewComment, now: Timestamp) -> Comment {
    Comment {
        id,
        site_id: new.site_id,
        article_id: new.article_id,
        author: new.author,
        author_name: new.author_name.clone(),
        body: new.body.clone(),
        status: CommentStatus::Pending,
        created_at: now,
        moderated_at: None,
        moderated_by: None,
    }
}

/// A new visitor: seen now, not linked to a person.
pub fn visitor(id: VisitorId, site: SiteId, persistent: bool, now: Timestamp) -> Visitor {
    Visitor { id, site_id: site, person_id: None, persistent, created_at: now, last_seen_at: now }
}

/// A new conversation: waiting, without an agent or messages.
pub fn conversation(id: ConversationId, new: &NewConversation, now: Timestamp) -> Conversation {
    Conversation {
        id,
        site_id: new.site_id,
        owner: new.owner.clone(),
        visitor_name: new.visitor_name.clone(),
        visitor_email: new.visitor_email.clone(),
        status: ConversationStatus::Waiting,
        agent_id: None,
        last_seq: 0,
        created_at: now,
        updated_at: now,
    }
}

/// A message just appended as number `seq` of its conversation.
pub fn message(
    id: MessageId,
    conversation: ConversationId,
    seq: u64,
    author: Author,
    body: &str,
    client_key: Option<&str>,
    now: Timestamp,
) -> ChatMessage {
    ChatMessage {
        id,
        conversation_id: conversation,
        seq,
        author,
        body: body.to_owned(),
        client_key: client_key.map(str::to_owned),
        created_at: now,
    }
}
