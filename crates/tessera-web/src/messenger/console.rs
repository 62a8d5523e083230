//! The agent console: a page and its WebSocket (docs/messenger-protocol.md §5).
//! The queue is re-read from the store whenever the site's hub says a
//! conversation changed, so every console shows the same truth.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};
use tessera_chat::{ChatError, ChatEvent, Connected};
use tessera_core::{ConversationId, PersonId, Role, SiteId};
use tessera_session::LiveSession;
use tessera_store::{Author, Conversation};
use tokio::sync::broadcast;

use super::follow::Follow;
use crate::session::Authed;
use crate::{Agent, AppState, WebError, assets};

const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                           img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[derive(serde::Serialize)]
struct AgentEntry {
    id: i64,
    name: String,
}

pub(crate) async fn console_page(
    State(state): State<AppState>,
    Authed { live, .. }: Authed<Agent>,
) -> Result<Response, WebError> {
    let site = live.person.site_id;
    let agents: Vec<AgentEntry> = state
        .core()
        .store()
        .people(site)
        .await?
        .into_iter()
        .filter(|p| p.role >= Role::Agent && !p.disabled)
        .map(|p| AgentEntry { id: p.id.get(), name: p.name.to_string() })
        .collect();
    let agents = serde_json::to_string(&agents).map_err(|e| WebError::Internal(e.into()))?;
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Conversations · Tessera Agent</title>\
         <link rel=\"stylesheet\" href=\"{base_css}\"><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><main id=\"console\" data-me=\"{me}\" data-agents=\"{agents}\"></main>\
         <script src=\"{js}\"></script></body></html>",
        base_css = assets::css_url(),
        css = assets::console_css_url(),
        js = assets::console_js_url(),
        me = live.person.id,
        agents = escape(&agents),
    );
    let mut res = Html(html).into_response();
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONSOLE_CSP));
    Ok(res)
}

pub(crate) async fn console_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Authed { live, .. }: Authed<Agent>,
    ws: WebSocketUpgrade,
) -> Result<Response, WebError> {
    // A WebSocket carries cookies across sites: only our own pages may open it.
    super::check_origin(&state, &headers)?;
    Ok(ws.max_message_size(16 * 1024).on_upgrade(move |socket| async move {
        let presence = state.chat().presence().connect(live.person.site_id, live.person.id);
        let queue = state.chat().hub().subscribe_site(live.person.site_id);
        let mut console = Console { state, live, socket, queue, open: None, _presence: presence };
        if let Err(e) = console.run().await {
            tracing::debug!(error = %e, "agent console socket ended");
        }
    }))
}

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ConsoleMsg {
    Open {
        conversation: i64,
        #[serde(default)]
        after: u64,
    },
    Send {
        key: String,
        body: String,
    },
    Claim,
    Close,
    Transfer {
        to: i64,
    },
    Presence {
        away: bool,
    },
}

#[derive(serde::Serialize)]
struct QueueEntry {
    id: i64,
    status: &'static str,
    visitor_name: String,
    agent: Option<i64>,
    last_seq: u64,
    updated_at: i64,
    verified: bool,
    /// For the link to the visitor's profile (guests only).
    visitor: Option<i64>,
}

impl From<&Conversation> for QueueEntry {
    fn from(c: &Conversation) -> Self {
        Self {
            id: c.id.get(),
            status: c.status.as_str(),
            visitor_name: c.visitor_name.clone(),
            agent: c.agent_id.map(PersonId::get),
            last_seq: c.last_seq,
            updated_at: c.updated_at.unix(),
            verified: c.owner.verified_user.is_some(),
            visitor: c.owner.visitor.map(|v| v.get()),
        }
    }
}

#[derive(serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ConsoleOut<'a> {
    Queue {
        conversations: Vec<QueueEntry>,
    },
    Status {
        conversation: i64,
        status: &'static str,
        agent: Option<i64>,
    },
    Ack {
        key: &'a str,
        seq: u64,
    },
    /// `key`: the refused reply, when a send was refused.
    Error {
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'a str>,
    },
}

struct Console {
    state: AppState,
    live: std::sync::Arc<LiveSession>,
    socket: WebSocket,
    queue: broadcast::Receiver<tessera_chat::QueueEvent>,
    open: Option<Follow>,
    _presence: Connected,
}

enum Wake {
    Client(Option<Result<Message, axum::Error>>),
    Queue,
    Chat(Result<ChatEvent, broadcast::error::RecvError>),
}

impl Console {
    fn site(&self) -> SiteId {
        self.live.person.site_id
    }

    async fn send(&mut self, out: &impl serde::Serialize) -> Result<(), ChatError> {
        let text = serde_json::to_string(out).unwrap_or_default();
        self.socket.send(Message::Text(text.into())).await.map_err(|_| ChatError::NotFound)
    }

    async fn send_queue(&mut self) -> Result<(), ChatError> {
        let open = self.state.chat().open_conversations(self.site()).await?;
        self.send(&ConsoleOut::Queue { conversations: open.iter().map(QueueEntry::from).collect() }).await
    }

    async fn run(&mut self) -> Result<(), ChatError> {
        self.send_queue().await?;
        loop {
            let wake = match self.open.as_mut() {
                Some(follow) => tokio::select! {
                    m = self.socket.recv() => Wake::Client(m),
                    _ = self.queue.recv() => Wake::Queue,
                    e = follow.event() => Wake::Chat(e),
                },
                None => tokio::select! {
                    m = self.socket.recv() => Wake::Client(m),
                    _ = self.queue.recv() => Wake::Queue,
                },
            };
            match wake {
                Wake::Client(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Ok(()),
                Wake::Client(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<ConsoleMsg>(&text) {
                    Ok(msg) => self.handle(msg).await?,
                    Err(_) => self.send(&ConsoleOut::Error { message: "Unknown message.", key: None }).await?,
                },
                Wake::Client(Some(Ok(_))) => {}
                // A lagged queue only means "changed": re-read it either way.
                Wake::Queue => self.send_queue().await?,
                Wake::Chat(Ok(ChatEvent::Message(m))) => {
                    if let Some(follow) = self.open.as_mut()
                        && let Some(out) = follow.render(&self.state, &m).await?
                    {
                        self.send(&out).await?;
                    }
                }
                Wake::Chat(Ok(ChatEvent::Status { status, agent })) => {
                    let conversation = self.open.as_ref().map_or(0, |f| f.conversation.id.get());
                    let out =
                        ConsoleOut::Status { conversation, status: status.as_str(), agent: agent.map(PersonId::get) };
                    self.send(&out).await?;
                }
                Wake::Chat(Ok(ChatEvent::Changed) | Err(_)) => self.catch_up().await?,
            }
        }
    }

    async fn catch_up(&mut self) -> Result<(), ChatError> {
        let Some(follow) = self.open.as_mut() else { return Ok(()) };
        let missed = follow.missed(&self.state).await?;
        for m in &missed {
            self.send(m).await?;
        }
        Ok(())
    }

    /// The open conversation, re-read (its status may have changed).
    async fn current(&mut self) -> Result<Option<Conversation>, ChatError> {
        let Some(id) = self.open.as_ref().map(|f| f.conversation.id) else { return Ok(None) };
        Ok(Some(self.state.chat().conversation(self.site(), id, None).await?))
    }

    async fn handle(&mut self, msg: ConsoleMsg) -> Result<(), ChatError> {
        let chat = self.state.chat().clone();
        let (site, me, my_name) = (self.site(), self.live.person.id, self.live.person.name.to_string());
        match msg {
            ConsoleMsg::Open { conversation, after } => {
                let conversation = chat.conversation(site, ConversationId::new(conversation), None).await?;
                let status = ConsoleOut::Status {
                    conversation: conversation.id.get(),
                    status: conversation.status.as_str(),
                    agent: conversation.agent_id.map(PersonId::get),
                };
                self.open = Some(Follow::new(&self.state, conversation, after));
                self.catch_up().await?;
                self.send(&status).await
            }
            ConsoleMsg::Send { key, body } => {
                let Some(conversation) = self.current().await? else {
                    return self.send(&ConsoleOut::Error { message: "Open a conversation first.", key: None }).await;
                };
                // Replying to a waiting conversation claims it.
                if conversation.agent_id.is_none() && !chat.claim(site, conversation.id, me, &my_name).await? {
                    let refused =
                        ConsoleOut::Error { message: "Another agent took this conversation.", key: Some(&key) };
                    return self.send(&refused).await;
                }
                match chat.post(&conversation, Author::Agent(me), &body, Some(&key)).await {
                    Ok(appended) => {
                        self.catch_up().await?;
                        self.send(&ConsoleOut::Ack { key: &key, seq: appended.message.seq }).await
                    }
                    Err(e @ ChatError::Store(_)) => Err(e),
                    Err(e) => self.send(&ConsoleOut::Error { message: &e.to_string(), key: Some(&key) }).await,
                }
            }
            ConsoleMsg::Claim => {
                let Some(c) = self.current().await? else { return Ok(()) };
                if !chat.claim(site, c.id, me, &my_name).await? {
                    self.send(&ConsoleOut::Error { message: "Another agent took this conversation.", key: None })
                        .await?;
                }
                Ok(())
            }
            ConsoleMsg::Close => {
                let Some(c) = self.current().await? else { return Ok(()) };
                chat.close(site, c.id).await?;
                Ok(())
            }
            ConsoleMsg::Transfer { to } => {
                let Some(c) = self.current().await? else { return Ok(()) };
                let target = self.state.core().store().person(PersonId::new(to)).await?;
                let Some(target) = target.filter(|p| p.site_id == site && p.role >= Role::Agent && !p.disabled) else {
                    return self.send(&ConsoleOut::Error { message: "No such agent on this site.", key: None }).await;
                };
                if !chat.transfer(site, c.id, me, target.id, target.name.as_str()).await? {
                    self.send(&ConsoleOut::Error { message: "Only the agent holding it can transfer it.", key: None })
                        .await?;
                }
                Ok(())
            }
            ConsoleMsg::Presence { away } => {
                chat.presence().set_away(site, me, away);
                Ok(())
            }
        }
    }
}
