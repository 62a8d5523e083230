// Tessera agent console: the live queue and one conversation at a time, on
// /agent/console over the WebSocket /agent/ws.
// Contract: docs/messenger-protocol.md §5 (and §4 for message/ack/status).
//
// The server sends the whole queue on connect and on every change, so the
// queue is simply redrawn; the open conversation resumes from the last
// rendered `seq` after a reconnect, and replies stay pending (with their key)
// until acknowledged, as in the Messenger.
(() => {
  "use strict";

  // ---------------------------------------------------------------------
  // Pure helpers (the same as messenger.js: two pages, no build step to share them).

  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10_000;

  /** Doubling from 0.5 s to 10 s, with jitter so that consoles do not all
   * reconnect in the same instant after a restart. */
  function backoffDelay(attempt, random = Math.random) {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    return Math.max(BACKOFF_MIN_MS, Math.round(ceiling * (0.5 + random() / 2)));
  }

  /** Rendered `seq` of one conversation; `floor` is what a resume asks from. */
  class SeqTracker {
    constructor(floor = 0) {
      this.floor = floor;
      this.highest = floor;
      this.above = new Set();
    }

    add(seq) {
      if (!Number.isInteger(seq) || seq <= this.floor || this.above.has(seq)) return false;
      this.above.add(seq);
      this.highest = Math.max(this.highest, seq);
      while (this.above.delete(this.floor + 1)) this.floor += 1;
      return true;
    }
  }

  function randomKey() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Messages of a conversation this agent has not read: the agent's own
   * console is the only place that knows what was read. */
  function unreadCount(entry, seen) {
    return Math.max(0, (Number(entry.last_seq) || 0) - (seen || 0));
  }

  /** Waiting conversations that appeared since the previous queue (none on
   * the first one: a page load is not news). */
  function newlyWaiting(previousIds, entries) {
    if (!previousIds) return [];
    return entries.filter((c) => c.status === "waiting" && !previousIds.has(c.id));
  }

  // ---------------------------------------------------------------------
  // Configuration from the page the server rendered.

  const root = document.getElementById("console");
  if (!root) return;
  const ME = Number(root.dataset.me) || null;
  const AGENTS = parseAgents(root.dataset.agents);
  const BASE_TITLE = document.title || "Tessera Agent";
  const MAX_BODY = 5000;

  function parseAgents(text) {
    try {
      const list = JSON.parse(text || "[]");
      return Array.isArray(list) ? list.filter((a) => a && Number.isInteger(a.id) && typeof a.name === "string") : [];
    } catch {
      return [];
    }
  }

  function agentName(id) {
    const agent = AGENTS.find((a) => a.id === id);
    return agent ? agent.name : "another agent";
  }

  /** sessionStorage may be unavailable (privacy modes): the console works without it. */
  const saved = {
    get(key) {
      try {
        return JSON.parse(sessionStorage.getItem("ts_console_" + key));
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        sessionStorage.setItem("ts_console_" + key, JSON.stringify(value));
      } catch {
        // Not kept across a reload; nothing else changes.
      }
    },
  };

  // ---------------------------------------------------------------------
  // State.

  const state = {
    ws: null,
    live: false,
    attempt: 0,
    retryTimer: 0,

    queue: [],
    queueIds: null, // ids in the previous queue (null before the first)
    fresh: new Set(), // waiting conversations not opened here yet: the title's count
    seen: new Map(Object.entries(saved.get("seen") || {}).map(([id, seq]) => [Number(id), seq])),
    away: saved.get("away") === true,

    current: null, // the open conversation's id
    status: null,
    agent: null,
    tracker: new SeqTracker(),
    pending: new Map(), // key -> {conversation, body, el, socket}
  };

  // ---------------------------------------------------------------------
  // The socket.

  function send(message) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/agent/ws");
    state.ws = ws;
    state.live = false;
    ws.onmessage = (event) => {
      if (state.ws !== ws) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onServer(message);
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.live = false;
      ui.connection(state.attempt >= 5 ? "stuck" : "reconnecting");
      state.retryTimer = setTimeout(connect, backoffDelay(state.attempt));
      state.attempt += 1;
    };
  }

  window.addEventListener("online", () => {
    if (state.ws) return;
    clearTimeout(state.retryTimer);
    state.attempt = 0;
    connect();
  });

  /** The server speaks first (the queue): from then on the socket works. */
  function becameLive() {
    state.live = true;
    state.attempt = 0;
    ui.connection("live");
    if (state.away) send({ type: "presence", away: true });
    // Resume the open conversation where it was; its status then flushes replies.
    if (state.current != null) {
      send({ type: "open", conversation: state.current, after: state.tracker.floor });
    }
  }

  function onServer(message) {
    if (!state.live) becameLive();
    switch (message.type) {
      case "queue":
        onQueue(Array.isArray(message.conversations) ? message.conversations : []);
        break;
      case "message":
        onMessage(message);
        break;
      case "status":
        onStatus(message);
        break;
      case "ack":
        onAck(message);
        break;
      case "error":
        announce(message.message || "Something went wrong.");
        break;
    }
  }

  // ---------------------------------------------------------------------
  // The queue.

  function onQueue(entries) {
    const arrived = newlyWaiting(state.queueIds, entries);
    const first = state.queueIds === null;
    state.queue = entries;
    state.queueIds = new Set(entries.map((c) => c.id));
    const waiting = entries.filter((c) => c.status === "waiting");
    if (first) for (const c of waiting) state.fresh.add(c.id);
    for (const c of arrived) if (c.id !== state.current) state.fresh.add(c.id);
    // Forget what left the queue (claimed, closed) or stopped waiting.
    for (const id of state.fresh) if (!waiting.some((c) => c.id === id)) state.fresh.delete(id);

    if (arrived.length === 1) announce(`New chat from ${visitorName(arrived[0])}.`);
    else if (arrived.length > 1) announce(`${arrived.length} new chats.`);
    else if (first && waiting.length) announce(`${waiting.length} waiting ${waiting.length === 1 ? "chat" : "chats"}.`);

    const open = entries.find((c) => c.id === state.current);
    if (open) ui.paneTitle(open);
    updateTitle();
    ui.queue();
  }

  function visitorName(entry) {
    return entry.visitor_name || `Visitor #${entry.id}`;
  }

  function updateTitle() {
    const count = state.fresh.size;
    document.title = count ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
  }

  // ---------------------------------------------------------------------
  // The open conversation.

  function openConversation(id) {
    if (id === state.current) return;
    state.current = id;
    state.tracker = new SeqTracker();
    const entry = state.queue.find((c) => c.id === id);
    state.status = entry ? entry.status : null;
    state.agent = entry ? entry.agent : null;
    state.fresh.delete(id);
    updateTitle();
    ui.openPane(entry);
    // Replies that never got through to this conversation (a dropped socket) go again after the open.
    for (const p of state.pending.values()) {
      if (p.conversation !== id) continue;
      p.socket = null;
      ui.log.append(p.el);
    }
    send({ type: "open", conversation: id, after: 0 });
    ui.queue();
  }

  function onStatus(message) {
    if (message.conversation != null && message.conversation !== state.current) return;
    state.status = message.status;
    state.agent = message.agent ?? null;
    ui.actions();
    flush();
  }

  function onMessage(message) {
    if (message.conversation != null && message.conversation !== state.current) return;
    if (!state.tracker.add(message.seq)) return;
    ui.place(ui.message(message), message.seq);
    markSeen();
  }

  function onAck(message) {
    const pending = state.pending.get(message.key);
    if (!pending) return;
    state.pending.delete(message.key);
    pending.el.remove();
    // The server sends the message itself before the ack; this is for a server that does not.
    if (pending.conversation === state.current && state.tracker.add(message.seq)) {
      const own = { seq: message.seq, author: "agent", name: ME ? agentName(ME) : "You", body: pending.body, at: Date.now() / 1000 };
      ui.place(ui.message(own), message.seq);
      markSeen();
    }
  }

  function markSeen() {
    if (state.current == null) return;
    const seq = state.tracker.highest;
    if ((state.seen.get(state.current) || 0) >= seq) return;
    state.seen.set(state.current, seq);
    // Only what is still in the queue is worth keeping.
    const kept = {};
    for (const c of state.queue) if (state.seen.has(c.id)) kept[c.id] = state.seen.get(c.id);
    kept[state.current] = seq;
    saved.set("seen", kept);
    ui.queue();
  }

  // ---------------------------------------------------------------------
  // Actions.

  function reply() {
    // A lone surrogate (a cut emoji) would make the JSON unreadable to the server.
    const text = ui.body.value.trim();
    const body = text.toWellFormed ? text.toWellFormed() : text;
    if (!body || state.current == null) return;
    if ([...body].length > MAX_BODY) {
      announce(`A reply can be at most ${MAX_BODY} characters.`);
      return;
    }
    const el = ui.message({ author: "agent", name: "You", body, at: 0 }, true);
    state.pending.set(randomKey(), { conversation: state.current, body, el, socket: null });
    ui.log.append(el);
    ui.log.scrollTop = ui.log.scrollHeight;
    ui.body.value = "";
    flush();
  }

  /** Sends this conversation's pending replies not yet sent on this socket.
   * The server ties `send` to the open conversation, so only those go. */
  function flush() {
    if (!state.live || state.status == null) return;
    for (const [key, p] of state.pending) {
      if (p.conversation !== state.current || p.socket === state.ws) continue;
      p.socket = state.ws;
      send({ type: "send", key, body: p.body });
    }
  }

  function claim() {
    send({ type: "claim" });
  }

  function close() {
    // A native confirm: rare, irreversible, and accessible as it is.
    if (window.confirm("Close this conversation? The visitor will see it has ended.")) send({ type: "close" });
  }

  function transfer() {
    const to = Number(ui.transferTo.value);
    if (!to) {
      ui.transferTo.focus();
      return;
    }
    send({ type: "transfer", to });
    ui.transferTo.value = "";
  }

  function toggleAway() {
    state.away = !state.away;
    saved.set("away", state.away);
    send({ type: "presence", away: state.away });
    ui.away();
  }

  // ---------------------------------------------------------------------
  // The interface: createElement and textContent only.

  function h(tag, props = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "class") el.className = v;
      else if (k in el) el[k] = v;
      else el.setAttribute(k, v);
    }
    el.append(...children);
    return el;
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" });

  function timeEl(unix) {
    const date = new Date(unix * 1000);
    const today = new Date().toDateString() === date.toDateString();
    return h("time", { dateTime: date.toISOString() }, (today ? timeFormat : dateTimeFormat).format(date));
  }

  /** Re-reads a live region's text even when it repeats (assistive technology skips unchanged text). */
  function announce(text) {
    ui.announcer.textContent = "";
    setTimeout(() => {
      ui.announcer.textContent = text;
    }, 50);
  }

  const ui = {
    build() {
      this.conn = h("p", { class: "conn", role: "status" });
      this.awayButton = h("button", { type: "button", class: "away" }, "Away");
      this.awayButton.addEventListener("click", toggleAway);
      this.announcer = h("p", { class: "sr", "aria-live": "polite" });

      this.waiting = h("ul", { class: "list" });
      this.active = h("ul", { class: "list" });
      this.waitingCount = h("span", { class: "badge" });
      this.activeCount = h("span", { class: "badge" });
      this.empty = h("p", { class: "empty" }, "No open conversations.");

      this.title = h("h2", { id: "pane-title", tabIndex: -1 }, "Select a conversation");
      this.meta = h("p", { class: "meta" });
      // The visitor's trail and past conversations, beside the chat.
      this.profile = h("a", { class: "profile", target: "_blank", rel: "noopener", hidden: true }, "Visitor profile");
      this.claimButton = h("button", { type: "button" }, "Claim");
      this.closeButton = h("button", { type: "button", class: "secondary" }, "Close");
      this.transferTo = h("select", { id: "transfer-to" });
      this.transferTo.append(h("option", { value: "" }, "Choose an agent"));
      for (const a of AGENTS) if (a.id !== ME) this.transferTo.append(h("option", { value: String(a.id) }, a.name));
      this.transferButton = h("button", { type: "button", class: "secondary" }, "Transfer");
      this.claimButton.addEventListener("click", claim);
      this.closeButton.addEventListener("click", close);
      this.transferButton.addEventListener("click", transfer);
      this.actionsEl = h(
        "div",
        { class: "actions" },
        this.claimButton,
        this.closeButton,
        h("span", { class: "transfer" }, h("label", { htmlFor: "transfer-to" }, "Transfer to"), this.transferTo, this.transferButton),
      );

      this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-labelledby": "pane-title", tabIndex: 0 });
      this.body = h("textarea", { id: "reply-body", rows: 3, maxLength: MAX_BODY });
      this.sendButton = h("button", { type: "submit" }, "Send");
      this.body.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          reply();
        }
      });
      this.form = h(
        "form",
        { class: "reply" },
        h("label", { htmlFor: "reply-body" }, "Reply"),
        h("div", { class: "row" }, this.body, this.sendButton),
      );
      this.form.addEventListener("submit", (e) => {
        e.preventDefault();
        reply();
      });
      this.pane = h("section", { class: "pane", "aria-labelledby": "pane-title" }, this.title, this.meta, this.profile, this.actionsEl, this.log, this.form);

      root.replaceChildren(
        h("div", { class: "bar" }, h("h1", {}, "Conversations"), this.conn, this.awayButton),
        this.announcer,
        h(
          "div",
          { class: "cols" },
          h(
            "nav",
            { class: "queue", "aria-label": "Open conversations" },
            h("h2", {}, "Waiting ", this.waitingCount),
            this.waiting,
            h("h2", {}, "Active ", this.activeCount),
            this.active,
            this.empty,
          ),
          this.pane,
        ),
      );
      this.connection("connecting");
      this.away();
      this.actions();
    },

    connection(kind) {
      this.conn.textContent = {
        connecting: "Connecting…",
        reconnecting: "Connection lost. Reconnecting…",
        stuck: "Still reconnecting. If this goes on, reload the page: you may have been signed out.",
        live: "",
      }[kind];
    },

    away() {
      this.awayButton.setAttribute("aria-pressed", String(state.away));
      this.awayButton.title = state.away ? "You are away: visitors see no agent available" : "Mark yourself away";
    },

    queue() {
      // Redrawn whole; keep keyboard focus on the same conversation.
      const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : undefined;
      const waiting = state.queue.filter((c) => c.status === "waiting");
      const active = state.queue.filter((c) => c.status !== "waiting");
      this.waiting.replaceChildren(...waiting.map((c) => this.entry(c)));
      this.active.replaceChildren(...active.map((c) => this.entry(c)));
      this.waitingCount.textContent = String(waiting.length);
      this.activeCount.textContent = String(active.length);
      this.empty.hidden = state.queue.length > 0;
      if (focused !== undefined) {
        const again = root.querySelector(`.queue button[data-id="${CSS.escape(focused)}"]`);
        if (again) again.focus();
      }
    },

    entry(c) {
      const unread = c.id === state.current ? 0 : unreadCount(c, state.seen.get(c.id));
      const who = c.agent == null ? "" : c.agent === ME ? "yours" : `with ${agentName(c.agent)}`;
      const button = h(
        "button",
        { type: "button", class: "entry" },
        h("span", { class: "name" }, visitorName(c)),
        c.verified ? h("span", { class: "badge" }, "verified") : "",
        h("span", { class: "when" }, who, who ? " · " : "", timeEl(c.updated_at)),
        unread ? h("span", { class: "unread" }, `${unread} new`) : "",
      );
      button.dataset.id = String(c.id);
      if (c.id === state.current) button.setAttribute("aria-current", "true");
      if (state.fresh.has(c.id)) button.classList.add("fresh");
      button.addEventListener("click", () => openConversation(c.id));
      return h("li", {}, button);
    },

    openPane(entry) {
      this.log.replaceChildren();
      this.paneTitle(entry);
      this.actions();
    },

    paneTitle(entry) {
      this.title.textContent = entry ? visitorName(entry) : `Conversation #${state.current}`;
    },

    /** Buttons follow what the server allows: claim a waiting one, transfer
     * one you hold, reply and close until it is closed. */
    actions() {
      const none = state.current == null;
      const closed = state.status === "closed";
      const mine = state.agent != null && (ME == null || state.agent === ME);
      this.claimButton.disabled = none || state.status !== "waiting";
      this.closeButton.disabled = none || closed || state.status == null;
      this.transferButton.disabled = none || state.status !== "active" || !mine;
      this.transferTo.disabled = this.transferButton.disabled;
      this.body.disabled = none || closed;
      this.sendButton.disabled = none || closed;
      const entry = none ? null : state.queue.find((c) => c.id === state.current);
      const visitor = entry && Number.isInteger(entry.visitor) ? entry.visitor : null;
      this.profile.hidden = visitor === null;
      if (visitor !== null) this.profile.href = "/agent/visitors/" + visitor;
      this.meta.textContent = none
        ? "Choose a conversation in the queue."
        : {
            waiting: "Waiting for an agent. Replying claims it.",
            active: state.agent === ME ? "Active: yours." : `Active: with ${agentName(state.agent)}.`,
            closed: "Closed.",
          }[state.status] || "Loading…";
    },

    message(m, pending = false) {
      const author = ["visitor", "agent", "system"].includes(m.author) ? m.author : "system";
      if (author === "system") return h("p", { class: "msg system" }, String(m.body || ""));
      const who = author === "visitor" ? String(m.name || "Visitor") : String(m.name || "Agent");
      return h(
        "div",
        { class: `msg ${author}${pending ? " pending" : ""}` },
        h("p", { class: "who" }, who),
        h("p", { class: "body" }, String(m.body || "")),
        pending ? h("span", { class: "sending" }, "Sending…") : timeEl(Number(m.at) || 0),
      );
    },

    /** In `seq` order, above the pending replies; follow the end if the agent was there. */
    place(el, seq) {
      el.dataset.seq = seq;
      const atEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
      const next = Array.from(this.log.children).find((c) =>
        c.classList.contains("pending") ? true : Number(c.dataset.seq) > seq,
      );
      this.log.insertBefore(el, next || null);
      if (atEnd) this.log.scrollTop = this.log.scrollHeight;
    },
  };

  ui.build();
  connect();
})();
