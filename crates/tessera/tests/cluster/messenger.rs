//! Chat clients: the visitor's Messenger socket and the agent console, each a
//! task that reconnects by itself and records everything it is told.
//!
//! The visitor behaves like the Messenger (`messenger.js`): it keeps what it
//! sent until acknowledged and resends it with the same key on a new socket,
//! resumes from the highest `seq` below which it has everything, and renders
//! each `seq` once.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use crate::common::http::{absorb, cookie_header, set_cookie_value};
use crate::harness::{Cluster, NODE_COOKIE};
use crate::http::node_cookie_problems;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    pub author: String,
    pub body: String,
}

/// A socket that opened.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// What nginx's access log knows the socket by (`c=<marker>`).
    pub marker: String,
    /// The `__Host-ts_node` the 101 response set, if any.
    pub node_cookie: Option<String>,
}

/// Everything a chat client was told, as its task records it.
#[derive(Debug, Default)]
pub struct ChatLog {
    pub conversation: Option<i64>,
    /// Every message once, by `seq` (what a client renders).
    pub rendered: BTreeMap<u64, ChatLine>,
    /// A `seq` the server sent twice on one socket, a `seq` whose text
    /// changed, a key acknowledged with two different seqs, and what was
    /// wrong with a node cookie a handshake set.
    pub anomalies: Vec<String>,
    /// Sent, not acknowledged yet: (key, body).
    pub pending: Vec<(String, String)>,
    /// key -> (seq, body); a key acknowledged with two different seqs is in `anomalies`.
    pub acked: BTreeMap<String, (u64, String)>,
    /// `error` frames (with a key: a refused message).
    pub errors: Vec<Value>,
    /// The agent's latest queue.
    pub queue: Vec<Value>,
    pub handshakes: Vec<Handshake>,
    /// Sockets that could not be opened, and why.
    pub failures: Vec<String>,
    /// Keys sent again on a later socket (unacknowledged when one closed).
    pub resent: Vec<String>,
    /// Whether a socket is open now.
    pub connected: bool,
}

impl ChatLog {
    /// The highest `seq` below which nothing is missing: where a resume starts.
    pub fn complete_up_to(&self) -> u64 {
        let mut n = 0;
        while self.rendered.contains_key(&(n + 1)) {
            n += 1;
        }
        n
    }

    /// How many messages with this text it renders.
    pub fn count(&self, body: &str) -> usize {
        self.rendered.values().filter(|l| l.body == body).count()
    }
}

/// What the test tells a chat client's task.
#[derive(Debug)]
enum Instruction {
    Send(String),
    Open(i64),
    Stop,
}

#[derive(Debug, Clone)]
pub enum Role {
    /// The Messenger: `hello` with its messaging token, then `start`.
    Visitor { token: String, name: String },
    /// The agent console: `open` once told which conversation.
    Agent,
}

impl Role {
    /// The Messenger of the session that POST /messenger/session answered.
    pub fn visitor(session: &Value, name: &str) -> Self {
        let token = session["token"].as_str().expect("a messaging token").to_owned();
        Role::Visitor { token, name: name.to_owned() }
    }

    fn author(&self) -> &'static str {
        match self {
            Role::Visitor { .. } => "visitor",
            Role::Agent => "agent",
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A chat client: a task that holds the socket, reconnects by itself and
/// records everything in a [`ChatLog`].
#[derive(Debug)]
pub struct ChatClient {
    label: &'static str,
    log: Arc<Mutex<ChatLog>>,
    tx: mpsc::UnboundedSender<Instruction>,
    task: tokio::task::JoinHandle<()>,
}

impl ChatClient {
    /// `url` is the socket's (`ws://.../messenger/ws?site=1001`); each
    /// connection adds `c=<label>-<n>` so nginx's log tells them apart.
    pub fn spawn(label: &'static str, role: Role, url: String, origin: &str, jar: BTreeMap<String, String>) -> Self {
        let log = Arc::new(Mutex::new(ChatLog::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        let state = ChatTask {
            label,
            role,
            url,
            origin: origin.to_owned(),
            jar,
            log: log.clone(),
            rx,
            counter: 0,
            sent_ever: HashSet::new(),
        };
        let task = tokio::spawn(state.run());
        Self { label, log, tx, task }
    }

    pub fn send(&self, body: impl Into<String>) {
        self.tx.send(Instruction::Send(body.into())).expect("the chat task runs");
    }

    pub fn open(&self, conversation: i64) {
        self.tx.send(Instruction::Open(conversation)).expect("the chat task runs");
    }

    pub fn read<T>(&self, f: impl FnOnce(&ChatLog) -> T) -> T {
        f(&self.log.lock().expect("chat log"))
    }

    /// Polls until `ready` holds; panics after `within` with the log.
    pub async fn wait(&self, what: &str, within: Duration, ready: impl Fn(&ChatLog) -> bool) {
        let deadline = Instant::now() + within;
        while !self.read(&ready) {
            assert!(
                Instant::now() < deadline,
                "{}: {what}: not within {within:?}; what it has:\n{:#?}",
                self.label,
                self.log.lock().expect("chat log")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The visitor: waits until its conversation has started, and returns it.
    pub async fn started_conversation(&self) -> i64 {
        self.wait("a conversation", Duration::from_secs(10), |l| l.conversation.is_some()).await;
        self.read(|l| l.conversation).expect("started")
    }

    /// The agent: waits until `conversation` is in the queue (`what` says
    /// where it comes from), then opens it.
    pub async fn take(&self, conversation: i64, what: &str) {
        self.wait(what, Duration::from_secs(10), |l| l.queue.iter().any(|c| c["id"] == conversation)).await;
        self.open(conversation);
    }

    /// Closes the socket (so that nginx logs it) and ends the task.
    pub async fn stop(mut self) -> ChatLog {
        let _ = self.tx.send(Instruction::Stop);
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
        std::mem::take(&mut *self.log.lock().expect("chat log"))
    }
}

impl Drop for ChatClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The task behind a [`ChatClient`].
struct ChatTask {
    label: &'static str,
    role: Role,
    url: String,
    origin: String,
    jar: BTreeMap<String, String>,
    log: Arc<Mutex<ChatLog>>,
    rx: mpsc::UnboundedReceiver<Instruction>,
    counter: u64,
    /// Every key sent on some socket.
    sent_ever: HashSet<String>,
}

/// What the task does after a socket ends.
enum AfterSocket {
    Reconnect,
    Stop,
}

impl ChatTask {
    fn log(&self) -> std::sync::MutexGuard<'_, ChatLog> {
        self.log.lock().expect("chat log")
    }

    async fn run(mut self) {
        let mut attempt = 0u32;
        for n in 1.. {
            let marker = format!("{}-{n}", self.label);
            let sep = if self.url.contains('?') { '&' } else { '?' };
            match self.connect(&format!("{}{sep}c={marker}", self.url)).await {
                Ok((ws, set_cookies)) => {
                    let node_cookie = set_cookie_value(&set_cookies, NODE_COOKIE);
                    absorb(&mut self.jar, &set_cookies);
                    {
                        let mut log = self.log();
                        log.anomalies.extend(node_cookie_problems(&set_cookies));
                        log.handshakes.push(Handshake { marker, node_cookie });
                        log.connected = true;
                    }
                    let next = self.live(ws, &mut attempt).await;
                    self.log().connected = false;
                    if let AfterSocket::Stop = next {
                        return;
                    }
                }
                Err(e) => self.log().failures.push(format!("{marker}: {e}")),
            }
            // Like the Messenger: back off, doubling, but stay responsive.
            let delay = Duration::from_millis((100u64 << attempt.min(4)).min(1_500));
            attempt += 1;
            let until = tokio::time::Instant::now() + delay;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => break,
                    cmd = self.rx.recv() => match cmd {
                        Some(Instruction::Send(body)) => {
                            self.queue(body);
                        }
                        Some(Instruction::Open(id)) => self.log().conversation = Some(id),
                        Some(Instruction::Stop) | None => return,
                    },
                }
            }
        }
    }

    async fn connect(&self, url: &str) -> Result<(Socket, Vec<String>), String> {
        let mut req = url.into_client_request().map_err(|e| e.to_string())?;
        req.headers_mut().insert("origin", self.origin.parse().map_err(|_| "origin header")?);
        if !self.jar.is_empty() {
            req.headers_mut().insert("cookie", cookie_header(&self.jar).parse().map_err(|_| "cookie header")?);
        }
        match tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(req)).await {
            Err(_) => Err("no handshake within 5 s".into()),
            Ok(Err(tungstenite::Error::Http(res))) => Err(format!("refused: HTTP {}", res.status())),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok((ws, res))) => Ok((
                ws,
                res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect(),
            )),
        }
    }

    fn queue(&mut self, body: String) -> String {
        self.counter += 1;
        let key = format!("{}-{}", self.label, self.counter);
        self.log().pending.push((key.clone(), body));
        key
    }

    async fn live(&mut self, mut ws: Socket, attempt: &mut u32) -> AfterSocket {
        let (conversation, floor) = {
            let log = self.log();
            (log.conversation, log.complete_up_to())
        };
        let greeting = match &self.role {
            Role::Visitor { token, .. } => {
                Some(json!({"type": "hello", "token": token, "conversation": conversation, "after": floor}))
            }
            Role::Agent => conversation.map(|c| json!({"type": "open", "conversation": c, "after": floor})),
        };
        let mut sent_here: HashSet<String> = HashSet::new();
        let mut seen_here: HashSet<u64> = HashSet::new();
        if let Some(greeting) = greeting
            && send_frame(&mut ws, &greeting).await.is_err()
        {
            return AfterSocket::Reconnect;
        }
        if conversation.is_some() && self.flush(&mut ws, &mut sent_here).await.is_err() {
            return AfterSocket::Reconnect;
        }
        loop {
            tokio::select! {
                frame = ws.next() => match frame {
                    Some(Ok(tungstenite::Message::Text(text))) => {
                        let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                        if self.handle(&mut ws, &frame, &mut seen_here, &mut sent_here, attempt).await.is_err() {
                            return AfterSocket::Reconnect;
                        }
                    }
                    Some(Ok(tungstenite::Message::Close(_)) | Err(_)) | None => return AfterSocket::Reconnect,
                    Some(Ok(_)) => {}
                },
                cmd = self.rx.recv() => match cmd {
                    Some(Instruction::Send(body)) => {
                        self.queue(body);
                        let live = self.log().conversation.is_some();
                        if live && self.flush(&mut ws, &mut sent_here).await.is_err() {
                            return AfterSocket::Reconnect;
                        }
                    }
                    Some(Instruction::Open(id)) => {
                        let floor = {
                            let mut log = self.log();
                            log.conversation = Some(id);
                            log.complete_up_to()
                        };
                        let open = json!({"type": "open", "conversation": id, "after": floor});
                        if send_frame(&mut ws, &open).await.is_err() || self.flush(&mut ws, &mut sent_here).await.is_err() {
                            return AfterSocket::Reconnect;
                        }
                    }
                    Some(Instruction::Stop) | None => {
                        let _ = ws.close(None).await;
                        return AfterSocket::Stop;
                    }
                },
            }
        }
    }

    /// Sends what is pending and was not sent on this socket yet (a resend
    /// on a new socket keeps its key).
    async fn flush(&mut self, ws: &mut Socket, sent_here: &mut HashSet<String>) -> Result<(), tungstenite::Error> {
        let pending = self.log().pending.clone();
        for (key, body) in pending {
            if sent_here.insert(key.clone()) {
                if !self.sent_ever.insert(key.clone()) {
                    self.log().resent.push(key.clone());
                }
                send_frame(ws, &json!({"type": "send", "key": key, "body": body})).await?;
            }
        }
        Ok(())
    }

    async fn handle(
        &mut self,
        ws: &mut Socket,
        frame: &Value,
        seen_here: &mut HashSet<u64>,
        sent_here: &mut HashSet<String>,
        attempt: &mut u32,
    ) -> Result<(), tungstenite::Error> {
        match frame["type"].as_str().unwrap_or_default() {
            "welcome" => {
                *attempt = 0;
                let unstarted = self.log().conversation.is_none();
                if let Role::Visitor { name, .. } = &self.role
                    && unstarted
                {
                    send_frame(ws, &json!({"type": "start", "name": name})).await?;
                }
            }
            "queue" => {
                *attempt = 0;
                self.log().queue = frame["conversations"].as_array().cloned().unwrap_or_default();
            }
            "started" => {
                self.log().conversation = frame["conversation"].as_i64();
                self.flush(ws, sent_here).await?;
            }
            "message" => {
                let mut log = self.log();
                if frame["conversation"].as_i64().is_some_and(|c| Some(c) != log.conversation) {
                    return Ok(());
                }
                let Some(seq) = frame["seq"].as_u64() else { return Ok(()) };
                if !seen_here.insert(seq) {
                    log.anomalies.push(format!("seq {seq} sent twice on one socket: {frame}"));
                }
                let line = ChatLine {
                    author: frame["author"].as_str().unwrap_or_default().to_owned(),
                    body: frame["body"].as_str().unwrap_or_default().to_owned(),
                };
                match log.rendered.get(&seq).cloned() {
                    None => {
                        log.rendered.insert(seq, line);
                    }
                    Some(known) if known != line => {
                        log.anomalies.push(format!("seq {seq} was {known:?}, now {line:?}"));
                    }
                    Some(_) => {}
                }
            }
            "ack" => {
                let (Some(key), Some(seq)) = (frame["key"].as_str(), frame["seq"].as_u64()) else { return Ok(()) };
                let author = self.role.author().to_owned();
                let mut log = self.log();
                let Some(at) = log.pending.iter().position(|(k, _)| k == key) else {
                    // A second ack for a resend: it must name the same seq.
                    let earlier = log.acked.get(key).map(|(s, _)| *s);
                    if earlier.is_some_and(|s| s != seq) {
                        log.anomalies.push(format!("{key} acknowledged as seq {seq} and before as {earlier:?}"));
                    }
                    return Ok(());
                };
                let (_, body) = log.pending.remove(at);
                // The Messenger shows its own message at the acknowledged seq.
                log.rendered.entry(seq).or_insert(ChatLine { author, body: body.clone() });
                log.acked.insert(key.to_owned(), (seq, body));
            }
            "error" => {
                let mut log = self.log();
                if let Some(key) = frame["key"].as_str() {
                    log.pending.retain(|(k, _)| k != key);
                }
                log.errors.push(frame.clone());
            }
            _ => {}
        }
        Ok(())
    }
}

async fn send_frame(ws: &mut Socket, msg: &Value) -> Result<(), tungstenite::Error> {
    ws.send(tungstenite::Message::Text(msg.to_string().into())).await
}

/// The conversation as the store has it: a fresh console on `node` replays
/// it all, up to the `last_seq` its queue (read from the store) names.
pub async fn transcript(
    cluster: &Cluster,
    node: &str,
    agent_jar: &BTreeMap<String, String>,
    conversation: i64,
) -> ChatLog {
    let url = format!("{}/agent/ws", cluster.node(node).ws());
    let auditor = ChatClient::spawn("auditor", Role::Agent, url, &cluster.public, agent_jar.clone());
    let within = Duration::from_secs(15);
    let entry = |l: &ChatLog| l.queue.iter().find(|c| c["id"] == conversation).and_then(|c| c["last_seq"].as_u64());
    auditor.wait(&format!("the conversation in {node}'s queue"), within, |l| entry(l).is_some()).await;
    let last = auditor.read(entry).unwrap_or_default();
    auditor.open(conversation);
    auditor
        .wait(&format!("the conversation's {last} messages from {node}"), within, |l| l.complete_up_to() >= last)
        .await;
    auditor.stop().await
}

/// Every message of the store's transcript once, `seq` 1..=N with no gap, no
/// text stored twice; and `side` shows exactly that, with each message it
/// sent acknowledged at the seq where the store has it.
pub fn assert_exactly_once(side: &str, truth: &ChatLog, log: &ChatLog) {
    let seqs: Vec<u64> = truth.rendered.keys().copied().collect();
    let want: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, want, "the store's seqs have a gap: {:#?}", truth.rendered);
    let mut bodies = HashSet::new();
    for line in truth.rendered.values().filter(|l| l.author != "system") {
        assert!(bodies.insert(&line.body), "stored twice: {line:?}\n{:#?}", truth.rendered);
    }
    assert!(log.pending.is_empty(), "{side}: never acknowledged: {:?}", log.pending);
    assert!(log.errors.is_empty(), "{side}: error frames: {:?}", log.errors);
    assert!(log.anomalies.is_empty(), "{side}: duplicates (or bad node cookies): {:#?}", log.anomalies);
    for (key, (seq, body)) in &log.acked {
        assert_eq!(
            truth.rendered.get(seq).map(|l| l.body.as_str()),
            Some(body.as_str()),
            "{side}: {key} was acknowledged as seq {seq}, the store has {:?} there",
            truth.rendered.get(seq)
        );
    }
    let missing: Vec<_> = truth.rendered.iter().filter(|(s, _)| !log.rendered.contains_key(s)).collect();
    assert!(missing.is_empty(), "{side} never saw: {missing:#?}");
    let differ: Vec<_> = log.rendered.iter().filter(|(s, l)| truth.rendered.get(s) != Some(l)).collect();
    assert!(differ.is_empty(), "{side} saw what the store does not have: {differ:#?}");
}
