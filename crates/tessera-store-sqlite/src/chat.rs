//! The Messenger: conversations, their numbered messages, and each site's
//! identity secret.
//!
//! A message's sequence number comes from its conversation's `last_seq`,
//! raised by the same transaction that inserts the message: writers take
//! turns on SQLite's write lock, so numbers are consecutive and never shared,
//! and a transaction that stores nothing gives its number back by rolling
//! back. Status changes (claim, transfer, close) are compare-and-swap
//! UPDATEs whose WHERE clause is the expected state.

use async_trait::async_trait;
use tessera_core::{ConversationId, MessageId, PersonId, SiteId, Timestamp};
use tessera_store::{
    Appended, Author, ChatMessage, ChatOwner, Conversation, ConversationStatus, ConversationStore, NewConversation,
    StoreError, StoreResult,
};
use tessera_store_sql::param::{author_columns, seq_param, site_param};
use tessera_store_sql::value::seq_from;
use tessera_store_sql::{backend, conflict_or_backend, created, record};

use crate::SqliteStore;

const SELECT_CONVERSATION: &str = "SELECT id, site_id, visitor_id, verified_user, visitor_name, visitor_email, \
                                   status, agent_id, last_seq, created_at, updated_at FROM conversations";

const SELECT_MESSAGE: &str =
    "SELECT id, conversation_id, seq, author_kind, author_id, body, client_key, created_at FROM messages";

#[async_trait]
impl ConversationStore for SqliteStore {
    // An owner with neither a visitor nor a verified user is `Conflict("owner")`.
    async fn create_conversation(&self, new: &NewConversation, now: Timestamp) -> StoreResult<Conversation> {
        if new.owner.visitor.is_none() && new.owner.verified_user.is_none() {
            return Err(StoreError::Conflict("owner"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO conversations (site_id, visitor_id, verified_user, visitor_name, visitor_email, status,
                                        agent_id, last_seq, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?, ?) RETURNING id",
        )
        .bind(site_param(new.site_id))
        .bind(new.owner.visitor.map(|v| v.get()))
        .bind(new.owner.verified_user.as_deref())
        .bind(&new.visitor_name)
        .bind(&new.visitor_email)
        .bind(ConversationStatus::Waiting.as_str())
        .bind(now.unix())
        .bind(now.unix())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(created::conversation(ConversationId::new(id), new, now))
    }

    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        let row = sqlx::query(&format!("{SELECT_CONVERSATION} WHERE id = ?"))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::conversation).transpose()
    }

    async fn conversations_of(&self, site: SiteId, owner: &ChatOwner) -> StoreResult<Vec<Conversation>> {
        // A NULL bind matches nothing, so an unset half of the owner finds nothing through it.
        let rows = sqlx::query(&format!(
            "{SELECT_CONVERSATION} WHERE site_id = ? AND (visitor_id = ? OR verified_user = ?)
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(site_param(site))
        .bind(owner.visitor.map(|v| v.get()))
        .bind(owner.verified_user.as_deref())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(record::conversation).collect()
    }

    async fn open_conversations(&self, site: SiteId) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query(&format!(
            "{SELECT_CONVERSATION} WHERE site_id = ? AND status != 'closed' ORDER BY created_at, id"
        ))
        .bind(site_param(site))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(record::conversation).collect()
    }

    // The UPDATE that takes the number comes first, so the transaction holds
    // the write lock from its first statement (a read first would have to
    // upgrade its snapshot, which fails under a concurrent writer instead of
    // waiting for it). Under that lock a resent client key is looked up: if
    // it was used, the transaction rolls back, giving the number back. A
    // resend is answered even once the conversation is closed: the message
    // was stored before, only its acknowledgement was lost.
    async fn append_message(
        &self,
        conversation: ConversationId,
        author: Author,
        body: &str,
        client_key: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Option<Appended>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?
             WHERE id = ? AND status != 'closed' RETURNING last_seq",
        )
        .bind(now.unix())
        .bind(conversation.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if let Some(key) = client_key {
            let earlier = sqlx::query(&format!("{SELECT_MESSAGE} WHERE conversation_id = ? AND client_key = ?"))
                .bind(conversation.get())
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
            if let Some(row) = earlier {
                tx.rollback().await.map_err(backend)?;
                return Ok(Some(Appended { message: record::message(&row)?, created: false }));
            }
        }
        let Some(seq) = seq else {
            tx.rollback().await.map_err(backend)?;
            return Ok(None);
        };
        let (kind, author_id) = author_columns(author);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, seq, author_kind, author_id, body, client_key, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(conversation.get())
        .bind(seq)
        .bind(kind)
        .bind(author_id)
        .bind(body)
        .bind(client_key)
        .bind(now.unix())
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict_or_backend("message sequence number or client key"))?;
        tx.commit().await.map_err(backend)?;
        Ok(Some(Appended {
            message: created::message(MessageId::new(id), conversation, seq_from(seq)?, author, body, client_key, now),
            created: true,
        }))
    }

    async fn messages_after(
        &self,
        conversation: ConversationId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<ChatMessage>> {
        let rows = sqlx::query(&format!("{SELECT_MESSAGE} WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?"))
            .bind(conversation.get())
            .bind(seq_param(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(record::message).collect()
    }

    // One statement, so of two agents racing for a conversation exactly one
    // matches `status = 'waiting'`. A repeated claim by the holder (a double
    // click, a retried request) matches too and is true, changing nothing.
    async fn claim_conversation(&self, id: ConversationId, agent: PersonId, now: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE conversations SET status = 'active', agent_id = ?,
                 updated_at = CASE WHEN status = 'waiting' THEN ? ELSE updated_at END
             WHERE id = ? AND (status = 'waiting' OR (status = 'active' AND agent_id = ?))",
        )
        .bind(agent.get())
        .bind(now.unix())
        .bind(id.get())
        .bind(agent.get())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn transfer_conversation(
        &self,
        id: ConversationId,
        from: PersonId,
        to: PersonId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE conversations SET agent_id = ?, updated_at = ?
             WHERE id = ? AND status = 'active' AND agent_id = ?",
        )
        .bind(to.get())
        .bind(now.unix())
        .bind(id.get())
        .bind(from.get())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    // The agent stays named: who handled it.
    async fn close_conversation(&self, id: ConversationId, now: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE conversations SET status = 'closed', updated_at = ? WHERE id = ? AND status != 'closed'",
        )
        .bind(now.unix())
        .bind(id.get())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn identity_secret(&self, site: SiteId) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT secret FROM site_identity_secrets WHERE site_id = ?")
            .bind(site_param(site))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn set_identity_secret(&self, site: SiteId, secret: &[u8], now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO site_identity_secrets (site_id, secret, rotated_at) VALUES (?, ?, ?)
             ON CONFLICT (site_id) DO UPDATE SET secret = excluded.secret, rotated_at = excluded.rotated_at",
        )
        .bind(site_param(site))
        .bind(secret)
        .bind(now.unix())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tessera_core::{SiteId, Timestamp};
    use tessera_store::{ChatOwner, ConversationStore, NewConversation, SiteStore, StoreError};

    use crate::SqliteStore;

    #[tokio::test]
    async fn rows_the_code_did_not_write_are_reported_corrupt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("tessera.db")).await.expect("open");
        let site = SiteId::new(1001).expect("site ID");
        store.ensure_site(site, "Acme", Timestamp::from_unix(0)).await.expect("ensure_site");
        let owner = ChatOwner { visitor: None, verified_user: Some("user-1".to_owned()) };
        let new = NewConversation { site_id: site, owner, visitor_name: String::new(), visitor_email: String::new() };
        let chat = store.create_conversation(&new, Timestamp::from_unix(0)).await.expect("create_conversation");
        let id = chat.id;

        sqlx::query(
            "INSERT INTO messages (conversation_id, seq, author_kind, author_id, body, client_key, created_at)
             VALUES (?, 1, 'agent', NULL, 'x', NULL, 0)",
        )
        .bind(id.get())
        .execute(store.pool())
        .await
        .expect("insert message");
        match store.messages_after(id, 0, 10).await {
            Err(StoreError::Corrupt(message)) => assert!(message.contains("author_kind"), "{message}"),
            other => panic!("an agent without a person must be Corrupt, got {other:?}"),
        }

        sqlx::query("UPDATE conversations SET status = 'snoozed' WHERE id = ?")
            .bind(id.get())
            .execute(store.pool())
            .await
            .expect("update status");
        match store.conversation(id).await {
            Err(StoreError::Corrupt(message)) => assert!(message.contains("status"), "{message}"),
            other => panic!("an unknown status must be Corrupt, got {other:?}"),
        }
    }
}
