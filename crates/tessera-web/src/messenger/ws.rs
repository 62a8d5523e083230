//! The visitor's WebSocket (docs/messenger-protocol.md §4).
//!
//! Delivery is exactly-once per connection by construction (see [`Follow`]).

use std::collections::HashMap;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use http::HeaderMap;
use tessera_chat::tokens::Speaker;
use tessera_chat::{ChatError, ChatEvent};
use tessera_core::{ConversationId, SiteId, Timestamp};
use tessera_store::{Author, ChatMessage, ChatOwner, ConversationStatus};
use tokio::sync::broadcast;

use super::check_origin;
use super::follow::Follow;
use crate::{AppState, WebError};

/// A client that says nothing this long after connecting is dropped.
const HELLO_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const MAX_FRAME: usize = 16 * 1024;

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMsg {
    Hello {
        token: String,
        #[serde(default)]
        conversation: Option<i64>,
        #[serde(default)]
        after: u64,
    },
    Start {
        #[serde(default)]
        name: String,
        #[serde(default)]
        email: String,
    },
    Send {
        key: String,
        body: String,
    },
    Renew {
        token: String,
    },
}

#[derive(serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMsg<'a> {
    Welcome {
        agents_available: bool,
    },
    Started {
        conversation: i64,
    },
    Ack {
        key: &'a str,
        seq: u64,
    },
    Status {
        status: &'static str,
    },
    /// `key`: the refused message, when a send was refused, so the client can drop it.
    Error {
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'a str>,
    },
}

pub(crate) async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Result<Response, WebError> {
    check_origin(&state, &headers)?;
    let site = params
        .get("site")
        .and_then(|s| SiteId::parse(s).ok())
        .ok_or_else(|| WebError::BadRequest("A site ID is required (site=1001).".into()))?;
    let state_invites = state.invites().subscribe();
    Ok(ws.max_message_size(MAX_FRAME).on_upgrade(move |socket| async move {
        let mut conn = Connection {
            state,
            site,
            socket,
            owner: None,
            verified_contact: None,
            expires: Timestamp::from_unix(0),
            live: None,
            invites: state_invites,
        };
        if let Err(e) = conn.run().await {
            tracing::debug!(error = %e, "messenger socket ended");
        }
    }))
}

struct Connection {
    state: AppState,
    site: SiteId,
    socket: WebSocket,
    owner: Option<ChatOwner>,
    /// Name and email from a verified identity: they win over what a client types.
    verified_contact: Option<(String, String)>,
    expires: Timestamp,
    live: Option<Follow>,
    /// Agents' proactive invitations; this socket shows its visitor's.
    invites: broadcast::Receiver<crate::Invite>,
}

#[derive(Debug, thiserror::Error)]
enum End {
    #[error("client went away")]
    Gone,
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Chat(#[from] ChatError),
}

impl Connection {
    async fn send(&mut self, msg: &ServerMsg<'_>) -> Result<(), End> {
        self.send_json(msg).await
    }

    async fn send_json(&mut self, msg: &impl serde::Serialize) -> Result<(), End> {
        let text = serde_json::to_string(msg).map_err(|e| End::Refused(e.to_string()))?;
        self.socket.send(Message::Text(text.into())).await.map_err(|_| End::Gone)
    }

    async fn refuse(&mut self, message: &str) -> End {
        let _ = self.send(&ServerMsg::Error { message, key: None }).await;
        End::Refused(message.to_owned())
    }

    async fn run(&mut self) -> Result<(), End> {
        let first = tokio::time::timeout(HELLO_TIMEOUT, self.next_client_msg()).await.map_err(|_| End::Gone)??;
        let ClientMsg::Hello { token, conversation, after } = first else {
            return Err(self.refuse("Say hello first.").await);
        };
        self.authenticate(&token).await?;
        let available = self.state.chat().presence().available(self.site);
        self.send(&ServerMsg::Welcome { agents_available: available }).await?;
        if let Some(id) = conversation {
            self.open(ConversationId::new(id), after).await?;
        }
        loop {
            let (socket, invites) = (&mut self.socket, &mut self.invites);
            let event = match self.live.as_mut() {
                Some(live) => tokio::select! {
                    msg = socket.recv() => Either::Client(msg),
                    ev = live.event() => Either::Hub(ev),
                    invite = invites.recv() => Either::Invite(invite),
                },
                None => tokio::select! {
                    msg = socket.recv() => Either::Client(msg),
                    invite = invites.recv() => Either::Invite(invite),
                },
            };
            match event {
                Either::Client(msg) => {
                    let msg = parse(msg)?;
                    if let Some(msg) = msg {
                        self.handle(msg).await?;
                    }
                }
                Either::Hub(Ok(ChatEvent::Message(m))) => self.deliver(&m).await?,
                Either::Hub(Ok(ChatEvent::Status { status, .. })) => {
                    if let Some(live) = self.live.as_mut() {
                        live.conversation.status = status;
                    }
                    self.send(&ServerMsg::Status { status: status.as_str() }).await?
                }
                // Fell behind the live channel, or another node wrote: the store has everything.
                Either::Hub(Ok(ChatEvent::Changed) | Err(broadcast::error::RecvError::Lagged(_))) => {
                    self.catch_up().await?
                }
                Either::Hub(Err(broadcast::error::RecvError::Closed)) => return Err(End::Gone),
                Either::Invite(Ok(invite)) => self.invite(&invite).await?,
                // Missed invitations are stale by now; a closed channel means shutdown.
                Either::Invite(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Either::Invite(Err(broadcast::error::RecvError::Closed)) => return Err(End::Gone),
            }
        }
    }

    async fn next_client_msg(&mut self) -> Result<ClientMsg, End> {
        loop {
            if let Some(msg) = parse(self.socket.recv().await)? {
                return Ok(msg);
            }
        }
    }

    async fn authenticate(&mut self, token: &str) -> Result<(), End> {
        let now = self.state.chat().now();
        let speaker = match self.state.messaging_tokens().check(token, self.site, now) {
            Ok(s) => s,
            Err(e) => return Err(self.refuse(&format!("The messaging token was refused: {e}.")).await),
        };
        let owner = match speaker {
            Speaker::Visitor(v) => ChatOwner { visitor: Some(v), verified_user: None },
            Speaker::Verified { user, name, email } => {
                self.verified_contact = Some((name, email));
                ChatOwner { visitor: None, verified_user: Some(user) }
            }
        };
        if self.owner.as_ref().is_some_and(|o| *o != owner) {
            return Err(self.refuse("A renewed token must speak for the same visitor.").await);
        }
        self.owner = Some(owner);
        self.expires = now.plus(tessera_chat::tokens::MESSAGING_TOKEN_SECONDS);
        Ok(())
    }

    async fn handle(&mut self, msg: ClientMsg) -> Result<(), End> {
        if self.state.chat().now() >= self.expires {
            return Err(self.refuse("The messaging token has expired; reconnect with a new one.").await);
        }
        match msg {
            ClientMsg::Hello { .. } => Err(self.refuse("Hello was already said.").await),
            ClientMsg::Renew { token } => self.authenticate(&token).await,
            ClientMsg::Start { name, email } => {
                // The copy this socket holds may be stale (an agent may have
                // closed it since): ask the store.
                if let Some(live) = &self.live {
                    let current = self.state.chat().conversation(self.site, live.conversation.id, None).await?;
                    if current.status != ConversationStatus::Closed {
                        return self.send(&ServerMsg::Started { conversation: current.id.get() }).await;
                    }
                }
                let owner = self.owner.clone().ok_or(End::Gone)?;
                // Another tab may have started one a moment ago: one conversation, not two.
                let existing = self.state.chat().conversations_of(self.site, &owner).await?;
                if let Some(open) = existing.into_iter().find(|c| c.status != ConversationStatus::Closed) {
                    self.open(open.id, 0).await?;
                    return self.send(&ServerMsg::Started { conversation: open.id.get() }).await;
                }
                let (name, email) = self.verified_contact.clone().unwrap_or((name, email));
                let conversation = match self.state.chat().start(self.site, owner, &name, &email).await {
                    Ok(c) => c,
                    Err(e) => return self.send(&ServerMsg::Error { message: &e.to_string(), key: None }).await,
                };
                let id = conversation.id;
                self.open(id, 0).await?;
                self.send(&ServerMsg::Started { conversation: id.get() }).await
            }
            ClientMsg::Send { key, body } => {
                let Some(live) = &self.live else {
                    return self
                        .send(&ServerMsg::Error { message: "Start a conversation first.", key: Some(&key) })
                        .await;
                };
                let conversation = live.conversation.clone();
                match self.state.chat().post(&conversation, Author::Visitor, &body, Some(&key)).await {
                    Ok(appended) => {
                        let seq = appended.message.seq;
                        // The ack first: it turns the sender's pending bubble into
                        // the message, so the echo that follows is already shown
                        // (echo first would show the message twice until the ack).
                        self.send(&ServerMsg::Ack { key: &key, seq }).await?;
                        // Then whatever came before it, so the log has no gap.
                        self.catch_up().await
                    }
                    Err(e @ ChatError::Store(_)) => Err(e.into()),
                    Err(e) => self.send(&ServerMsg::Error { message: &e.to_string(), key: Some(&key) }).await,
                }
            }
        }
    }

    /// Shows conversation `id` (the owner's) from `after` on.
    async fn open(&mut self, id: ConversationId, after: u64) -> Result<(), End> {
        let owner = self.owner.clone().ok_or(End::Gone)?;
        let conversation = match self.state.chat().conversation(self.site, id, Some(&owner)).await {
            Ok(c) => c,
            Err(ChatError::NotFound) => return Err(self.refuse("No such conversation.").await),
            Err(e) => return Err(e.into()),
        };
        let status = conversation.status.as_str();
        self.live = Some(Follow::new(&self.state, conversation, after));
        self.catch_up().await?;
        self.send(&ServerMsg::Status { status }).await
    }

    /// Sends everything the client has not had yet, from the store.
    async fn catch_up(&mut self) -> Result<(), End> {
        let Some(live) = self.live.as_mut() else { return Ok(()) };
        let missed = live.missed(&self.state).await?;
        for m in &missed {
            self.send_json(m).await?;
        }
        Ok(())
    }

    /// An agent invites this socket's visitor to chat: the Messenger opens with it.
    async fn invite(&mut self, invite: &crate::Invite) -> Result<(), End> {
        let ours = invite.site == self.site && self.owner.as_ref().and_then(|o| o.visitor) == Some(invite.visitor);
        if !ours {
            return Ok(());
        }
        let msg = serde_json::json!({ "type": "invite", "agent": invite.agent, "message": invite.message });
        self.send_json(&msg).await
    }

    async fn deliver(&mut self, m: &ChatMessage) -> Result<(), End> {
        let Some(live) = self.live.as_mut() else { return Ok(()) };
        if let Some(out) = live.render(&self.state, m).await? {
            self.send_json(&out).await?;
        }
        Ok(())
    }
}

enum Either<C, H> {
    Client(C),
    Hub(H),
    Invite(Result<crate::Invite, broadcast::error::RecvError>),
}

/// One client frame: `Some(msg)`, `None` for frames to ignore (pings), or the end.
fn parse(msg: Option<Result<Message, axum::Error>>) -> Result<Option<ClientMsg>, End> {
    match msg {
        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Err(End::Gone),
        Some(Ok(Message::Text(text))) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| End::Refused("Messages are JSON objects with a known \"type\".".into())),
        Some(Ok(_)) => Ok(None),
    }
}
