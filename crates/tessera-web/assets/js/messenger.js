// Tessera Messenger: the chat inside the frame page /messenger/frame, on
// Tessera's origin, embedded in a customer's page by tag.js.
// Contract: docs/messenger-protocol.md §2 (page), §3 (session), §4 (socket).
//
// The store on the server is the truth; this file only remembers how far it
// has rendered (per conversation `seq`) and what the visitor typed that the
// server has not acknowledged yet, so a reconnect, a page change or a second
// tab never loses or doubles a message.
(() => {
  "use strict";

  // ---------------------------------------------------------------------
  // Pure helpers: no DOM, no I/O.

  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10_000;

  /** Delay before reconnect attempt `attempt` (0, 1, 2...): doubling from
   * 0.5 s to 10 s, with jitter so the tabs of every visitor do not all come
   * back in the same instant after a server restart. */
  function backoffDelay(attempt, random = Math.random) {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    return Math.max(BACKOFF_MIN_MS, Math.round(ceiling * (0.5 + random() / 2)));
  }

  /** Which `seq` of one conversation have been rendered. `floor` is the
   * highest seq below which nothing is missing: what a resume asks from
   * (`after`), so a gap (a live message that overtook a replayed one) is
   * filled in by the server and anything seen twice is dropped here. */
  class SeqTracker {
    constructor(floor = 0) {
      this.floor = floor;
      this.highest = floor;
      this.above = new Set();
    }

    /** True the first time `seq` is offered: render it then, never again. */
    add(seq) {
      if (!Number.isInteger(seq) || seq <= this.floor || this.above.has(seq)) return false;
      this.above.add(seq);
      this.highest = Math.max(this.highest, seq);
      while (this.above.delete(this.floor + 1)) this.floor += 1;
      return true;
    }

    has(seq) {
      return seq <= this.floor || this.above.has(seq);
    }
  }

  /** The server's client keys: 1 to 64 of [A-Za-z0-9_-]; 16 random bytes in hex. */
  function randomKey() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** The conversation to show, from the session's list (newest first): the
   * one this tab showed, even closed (the visitor may still be reading it),
   * else the newest open one, else none (the next message starts one). */
  function chooseConversation(list, current) {
    if (current != null && list.some((c) => c.id === current)) return current;
    const open = list.find((c) => c.status !== "closed");
    return open ? open.id : null;
  }

  /** Does a message count towards the launcher's badge? An agent's, above
   * what the visitor has seen. With no record of that yet (a new tab
   * replaying its history), nothing counts. */
  function countsAsUnread(message, seen) {
    return message.author === "agent" && seen != null && message.seq > seen;
  }

  /** Renew the messaging token at two thirds of its life (protocol §3). */
  function renewalDelay(expiresIn) {
    return Math.max(5, (expiresIn * 2) / 3) * 1000;
  }

  // ---------------------------------------------------------------------
  // Configuration from the frame page the server rendered.

  const root = document.getElementById("messenger");
  if (!root) return;
  const SITE = Number(root.dataset.site);
  const HOST = root.dataset.host; // the embedding page's origin, vetted by the server
  const VERSION = root.dataset.version;
  const EMBEDDED = window.parent !== window;
  /** Messages kept per conversation so the next page of the same tab shows
   * the history at once and resumes from where it was. */
  const CACHE_LIMIT = 200;
  const MAX_BODY = 5000;

  // ---------------------------------------------------------------------
  // Storage. The frame is a third-party context: its sessionStorage may be
  // blocked (then every access throws). Values that must outlive the page
  // (the visitor token, the conversation, what was seen) then go to the
  // customer's page with a `store` message and come back in `init.store`.
  // Message bodies never leave the frame: in the page's storage any script
  // of the site could read them.

  const storage = {
    prefix: "ts_m_" + SITE + "_",
    own: (() => {
      try {
        sessionStorage.setItem("ts_m_probe", "1");
        sessionStorage.removeItem("ts_m_probe");
        return true;
      } catch {
        return false;
      }
    })(),
    page: Object.create(null), // what init.store brought back

    get(key) {
      if (this.own) {
        try {
          const value = sessionStorage.getItem(this.prefix + key);
          if (value !== null) return value;
        } catch {
          this.own = false;
        }
      }
      const kept = this.page[key];
      return typeof kept === "string" && kept !== "" ? kept : null;
    },

    /** `share`: mirror to the page when our own storage is blocked. */
    set(key, value, share = false) {
      const text = value == null ? null : String(value);
      if (this.own) {
        try {
          if (text === null) sessionStorage.removeItem(this.prefix + key);
          else sessionStorage.setItem(this.prefix + key, text);
          return;
        } catch {
          this.own = false; // full or newly blocked: fall through
        }
      }
      if (!share) return;
      this.page[key] = text ?? "";
      toPage({ type: "store", key, value: text });
    },

    json(key) {
      try {
        return JSON.parse(this.get(key));
      } catch {
        return null;
      }
    },
  };

  // ---------------------------------------------------------------------
  // State.

  const state = {
    booted: false,
    shown: false, // has a conversation (or none) been put on screen yet?
    consent: null, // the page's answer (null: it has not said; the site's mode decides)
    identity: null,
    identityRefused: false,
    verified: false,
    open: false, // is the frame shown on the page?
    agentsAvailable: false,

    token: null,
    tokenExpiresAt: 0,
    needSession: false,
    renewTimer: 0,

    ws: null,
    live: false, // hello accepted and the conversation (if any) opened
    attempt: 0,
    retryTimer: 0,

    conversation: null,
    status: null,
    starting: false,
    contact: { name: "", email: "" },
    tracker: new SeqTracker(),
    cache: [],
    seen: null,
    unread: new Set(),
    pending: [], // {key, body, el, socket}: sent but not acknowledged
  };

  // ---------------------------------------------------------------------
  // The page (tag.js), by postMessage with exact origins both ways.

  function toPage(message) {
    if (EMBEDDED && HOST) window.parent.postMessage({ ts: 1, ...message }, HOST);
  }

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (event.origin !== HOST || event.source !== window.parent || !data || data.ts !== 1) return;
    if (data.type === "init") onInit(data);
    else if (data.type === "visibility") onVisibility(data.open === true);
  });

  function onInit(data) {
    if (!state.booted && data.store && typeof data.store === "object") Object.assign(storage.page, data.store);
    // The page's last answer holds for the rest of the tab's visit. On an
    // opt_in site, a page that says nothing (a consent banner that answers
    // once, not on every page) would otherwise make the server drop the
    // persistent visitor, and the visitor's conversation with it.
    const said = typeof data.consent === "boolean" ? data.consent : null;
    if (said !== null) storage.set("consent", said, true);
    const kept = storage.get("consent");
    const consent = said ?? (kept === "true" ? true : kept === "false" ? false : null);
    const identity = typeof data.identity === "string" && data.identity !== "" ? data.identity : null;
    // The tag's first-party visitor token: the chat joins the monitored visitor.
    if (typeof data.vid === "string" && data.vid !== "") state.monitor = data.vid;
    if (!state.booted) {
      state.consent = consent;
      state.identity = identity;
      boot();
      return;
    }
    // init again: the page's consent or identity changed.
    const newSpeaker = identity !== state.identity;
    if (!newSpeaker && consent === state.consent) return;
    state.consent = consent;
    state.identity = identity;
    state.identityRefused = false;
    if (newSpeaker) restart(); // a token for someone else: a new socket
    else renew(); // same speaker: the server only updates its cookie
  }

  function onVisibility(open) {
    state.open = open;
    if (!open) return;
    markSeen();
    scrollToEnd();
    // Only when the page gave us focus (the visitor opened the chat), not
    // when it restored an open chat on page load.
    if (document.hasFocus()) ui.body.focus();
  }

  // ---------------------------------------------------------------------
  // The messaging session (§3).

  // Sessions can overlap (consent and identity arrive as separate inits):
  // only the newest answer counts, or a late guest answer would replace a
  // verified one.
  let sessionGeneration = 0;

  async function openSession() {
    const generation = ++sessionGeneration;
    const response = await fetch("/messenger/session", {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        site: SITE,
        consent: state.consent,
        identity: state.identityRefused ? null : state.identity,
        visitor: storage.get("visitor"),
        monitor: state.monitor ?? null,
      }),
    });
    if (!response.ok) throw new Error("session: HTTP " + response.status);
    const session = await response.json();
    if (generation !== sessionGeneration) return session;
    state.token = session.token;
    state.tokenExpiresAt = Date.now() + session.expires_in * 1000;
    state.needSession = false;
    if (session.visitor) storage.set("visitor", session.visitor, true);
    if (session.identity_error && state.identity && !state.identityRefused) {
      // Not the visitor's fault: say so once, and go on as a guest.
      state.identityRefused = true;
      ui.notice("We couldn't confirm your account, so you're chatting as a guest.");
    }
    state.verified = Boolean(state.identity) && !state.identityRefused;
    setAgents(session.agents_available === true);
    clearTimeout(state.renewTimer);
    state.renewTimer = setTimeout(renew, renewalDelay(session.expires_in));
    const list = Array.isArray(session.conversations) ? session.conversations : [];
    showConversation(chooseConversation(list, state.conversation ?? numberOrNull(storage.get("conv"))));
    return session;
  }

  async function renew() {
    clearTimeout(state.renewTimer);
    try {
      const before = state.conversation;
      await openSession();
      if (state.conversation !== before) restart();
      else if (state.live) send({ type: "renew", token: state.token });
    } catch {
      state.renewTimer = setTimeout(renew, 15_000);
    }
  }

  // ---------------------------------------------------------------------
  // The socket (§4).

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + "/messenger/ws?site=" + SITE;
  }

  function send(message) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  }

  function connect() {
    drop();
    const ws = new WebSocket(socketUrl());
    state.ws = ws;
    ws.onopen = () => {
      if (state.ws !== ws) return;
      send({ type: "hello", token: state.token, conversation: state.conversation, after: state.tracker.floor });
    };
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
      if (state.ws !== ws) return; // replaced on purpose
      // Refused before it was live: the token or the conversation is stale.
      if (!state.live) state.needSession = true;
      state.ws = null;
      state.live = false;
      state.starting = false;
      scheduleReconnect();
    };
  }

  /** (Re)connects, with a new session first when needed. Only the latest
   * call goes through: an init, the online event and the retry timer may
   * overlap, and two sockets would each say hello. */
  let connectRun = 0;
  async function reconnect() {
    clearTimeout(state.retryTimer);
    const run = ++connectRun;
    try {
      if (!state.token || state.needSession || Date.now() > state.tokenExpiresAt - 60_000) await openSession();
      if (run === connectRun) connect();
    } catch {
      if (run === connectRun) scheduleReconnect();
    }
  }

  function scheduleReconnect() {
    clearTimeout(state.retryTimer);
    ui.connection(navigator.onLine === false ? "offline" : "reconnecting");
    state.retryTimer = setTimeout(reconnect, backoffDelay(state.attempt));
    state.attempt += 1;
  }

  /** Closes the socket without the reconnect its close would schedule. */
  function drop() {
    const ws = state.ws;
    state.ws = null;
    state.live = false;
    state.starting = false;
    if (ws) ws.close();
  }

  /** A new session, then a new socket: for a new speaker or conversation. */
  function restart() {
    drop();
    state.needSession = true;
    reconnect();
  }

  window.addEventListener("online", () => {
    if (!state.ws && state.booted) {
      state.attempt = 0;
      reconnect();
    }
  });

  function becameLive() {
    state.live = true;
    state.attempt = 0;
    ui.connection("live");
    // A tab with no seen mark (a new one) has just replayed the history the
    // visitor read elsewhere: from here on, what arrives is news.
    if (state.seen == null && state.conversation != null) state.seen = state.tracker.highest;
  }

  function onServer(message) {
    switch (message.type) {
      case "welcome":
        setAgents(message.agents_available === true);
        // With a conversation, the socket is live once it is opened (status).
        if (state.conversation == null) {
          becameLive();
          flush();
        }
        break;
      case "started":
        adopt(message.conversation);
        state.starting = false;
        becameLive();
        flush();
        break;
      case "status":
        setStatus(message.status);
        if (!state.live && !state.starting) becameLive();
        if (!state.starting) flush();
        break;
      case "message":
        onMessage(message);
        break;
      case "ack":
        onAck(message);
        break;
      case "invite":
        onInvite(message);
        break;
      case "error":
        // Before live it is about the token or the conversation: the session sorts it out.
        if (!state.live) state.needSession = true;
        else ui.notice(message.message || "Something went wrong.");
        state.starting = false;
        break;
    }
  }

  // ---------------------------------------------------------------------
  // The conversation.

  function numberOrNull(text) {
    const n = Number(text);
    return text != null && Number.isInteger(n) && n > 0 ? n : null;
  }

  /** Shows conversation `id` (or none): its cached history, its seen mark. */
  function showConversation(id) {
    if (state.shown && id === state.conversation) return;
    saveCache();
    state.shown = true;
    state.conversation = id;
    state.status = null;
    storage.set("conv", id, true);
    ui.clearLog();
    state.unread.clear();
    const cached = id == null ? null : storage.json("log_" + id);
    state.cache = Array.isArray(cached) ? cached.filter((m) => m && Number.isInteger(m.seq)) : [];
    // Older messages fell out of the cache: count them as rendered.
    state.tracker = new SeqTracker(state.cache.length ? state.cache[0].seq - 1 : 0);
    state.seen = id == null ? null : numberOrNull(storage.get("seen_" + id));
    for (const m of state.cache) if (state.tracker.add(m.seq)) render(m);
    for (const p of state.pending) ui.log.append(p.el);
    reportUnread();
    ui.refresh();
  }

  /** The conversation `start` created (or the open one the server kept). */
  function adopt(id) {
    if (id === state.conversation) return;
    saveCache();
    const previous = state.conversation;
    state.conversation = id;
    storage.set("conv", id, true);
    state.tracker = new SeqTracker();
    state.cache = [];
    state.seen = 0;
    // Keep the previous conversation on screen, above a divider, out of the
    // new one's seq order.
    if (previous != null) {
      for (const el of ui.log.querySelectorAll("[data-seq]")) delete el.dataset.seq;
      ui.divider();
    }
    // Whatever failed in the closed conversation goes to the new one.
    for (const p of state.pending) p.socket = null;
    ui.refresh();
  }

  function setStatus(status) {
    state.status = status;
    ui.refresh();
  }

  function setAgents(available) {
    state.agentsAvailable = available;
    ui.refresh();
  }

  function onMessage(message) {
    if (message.conversation != null && message.conversation !== state.conversation) {
      if (!state.starting) return; // a conversation we no longer show
      adopt(message.conversation); // start answered: its messages come before "started"
    }
    if (!state.tracker.add(message.seq)) return;
    const m = {
      seq: message.seq,
      author: message.author,
      name: String(message.name || ""),
      body: String(message.body || ""),
      at: Number(message.at) || 0,
    };
    render(m);
    remember(m);
  }

  /** An agent invites the visitor to chat: their words, and the window opens. */
  function onInvite(message) {
    const m = { author: "agent", name: String(message.agent || ""), body: String(message.message || ""), at: Math.floor(Date.now() / 1000) };
    const el = ui.message(m);
    el.classList.add("invite");
    ui.log.append(el);
    toPage({ type: "open" });
    scrollToEnd();
  }

  function onAck(message) {
    const index = state.pending.findIndex((p) => p.key === message.key);
    if (index < 0) return;
    const [pending] = state.pending.splice(index, 1);
    savePending();
    if (state.tracker.add(message.seq)) {
      // The server acks before it echoes: our bubble becomes the message.
      const m = { seq: message.seq, author: "visitor", name: "", body: pending.body, at: Math.floor(Date.now() / 1000) };
      pending.el.remove();
      render(m);
      remember(m);
    } else {
      pending.el.remove(); // already shown: replayed on a new socket before this resend was acked
    }
  }

  function render(m) {
    ui.place(ui.message(m), m.seq);
    if (state.open) markSeen();
    else if (countsAsUnread(m, state.seen)) {
      state.unread.add(m.seq);
      reportUnread();
    }
  }

  let saveTimer = 0;
  function remember(m) {
    state.cache.push(m);
    if (state.cache.length > CACHE_LIMIT) state.cache.splice(0, state.cache.length - CACHE_LIMIT);
    // One write per burst (a replayed history), not one per message.
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveCache, 200);
  }

  function saveCache() {
    clearTimeout(saveTimer);
    if (state.conversation == null) return;
    // In seq order: a restore takes the first one as where the cache starts.
    state.cache.sort((a, b) => a.seq - b.seq);
    storage.set("log_" + state.conversation, JSON.stringify(state.cache));
  }

  function markSeen() {
    if (state.conversation == null) return;
    const seen = state.tracker.highest;
    if (seen !== state.seen) {
      state.seen = seen;
      storage.set("seen_" + state.conversation, seen, true);
    }
    if (state.unread.size) {
      state.unread.clear();
      reportUnread();
    }
  }

  let reported = -1;
  function reportUnread() {
    if (state.unread.size !== reported) {
      reported = state.unread.size;
      toPage({ type: "unread", count: reported });
    }
  }

  // ---------------------------------------------------------------------
  // Sending: every message gets a key of its own and stays pending until
  // acknowledged; a resend after a reconnect uses the same key, which the
  // server recognises, so nothing is stored twice.

  function submit() {
    // A lone surrogate (a cut emoji) would make the JSON unreadable to the server.
    const text = ui.body.value.trim();
    const body = text.toWellFormed ? text.toWellFormed() : text;
    if (!body) return;
    if ([...body].length > MAX_BODY) {
      ui.notice(`A message can be at most ${MAX_BODY} characters.`);
      return;
    }
    if (!ui.contact.hidden) {
      if (!ui.email.checkValidity()) {
        ui.email.reportValidity();
        return;
      }
      state.contact = { name: ui.name.value.trim(), email: ui.email.value.trim() };
    }
    const pending = { key: randomKey(), body, el: null, socket: null };
    pending.el = ui.message({ author: "visitor", name: "", body: pending.body, at: 0 }, true);
    state.pending.push(pending);
    ui.log.append(pending.el);
    scrollToEnd();
    savePending();
    ui.body.value = "";
    flush();
  }

  /** Sends what is pending on the current socket, starting a conversation first if none is open. */
  function flush() {
    if (!state.live || !state.pending.length) return;
    if (state.conversation == null || state.status === "closed") {
      if (!state.starting) {
        state.starting = true;
        send({ type: "start", name: state.contact.name, email: state.contact.email });
      }
      return;
    }
    for (const p of state.pending) {
      if (p.socket === state.ws) continue;
      p.socket = state.ws;
      send({ type: "send", key: p.key, body: p.body });
    }
  }

  /** Pending messages (and the contact details a start needs) outlive a
   * page change in the frame's own storage; never in the page's. */
  function savePending() {
    const items = state.pending.map(({ key, body }) => ({ key, body }));
    storage.set("pending", items.length ? JSON.stringify({ items, contact: state.contact }) : null);
  }

  function restorePending() {
    const saved = storage.json("pending");
    if (!saved || !Array.isArray(saved.items)) return;
    const { name = "", email = "" } = saved.contact || {};
    state.contact = { name: String(name), email: String(email) };
    for (const { key, body } of saved.items) {
      if (typeof key !== "string" || typeof body !== "string") continue;
      // Restored twice (a second init): one bubble per key.
      if (state.pending.some((p) => p.key === key)) continue;
      const el = ui.message({ author: "visitor", name: "", body, at: 0 }, true);
      state.pending.push({ key, body, el, socket: null });
    }
  }

  // ---------------------------------------------------------------------
  // The interface. Built with createElement and textContent only: every
  // string from the server or the visitor is text, never markup.

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

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  const ui = {
    build() {
      this.title = h("h1", { id: "ts-title" }, "Chat with us");
      this.sub = h("p", { class: "sub" });
      const close = h("button", { type: "button", class: "close", "aria-label": "Close chat" }, "×");
      close.addEventListener("click", () => toPage({ type: "close" }));

      this.noticeEl = h("p", { class: "notice", role: "status", hidden: true });
      this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-labelledby": "ts-title", tabIndex: 0 });
      this.state = h("p", { class: "state", role: "status" });

      this.name = h("input", { id: "ts-name", name: "name", autocomplete: "name", maxLength: 100 });
      this.email = h("input", { id: "ts-email", name: "email", type: "email", autocomplete: "email", maxLength: 254 });
      this.hint = h("p", { class: "hint" });
      this.contact = h(
        "fieldset",
        { class: "contact" },
        h("legend", {}, "Before you start (optional)"),
        h("label", { htmlFor: "ts-name" }, "Name"),
        this.name,
        h("label", { htmlFor: "ts-email" }, "Email"),
        this.email,
        this.hint,
      );
      this.body = h("textarea", { id: "ts-body", rows: 2, maxLength: MAX_BODY, placeholder: "Write a message…" });
      this.body.addEventListener("keydown", (e) => {
        // Enter sends, Shift+Enter is a new line; never in the middle of an IME composition.
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          submit();
        }
      });
      const form = h(
        "form",
        { class: "compose" },
        this.contact,
        h("label", { htmlFor: "ts-body", class: "sr" }, "Message"),
        h("div", { class: "row" }, this.body, h("button", { type: "submit" }, "Send")),
      );
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        submit();
      });

      root.replaceChildren(
        h("header", { class: "top" }, h("div", {}, this.title, this.sub), close),
        this.noticeEl,
        this.log,
        this.state,
        form,
      );
      document.addEventListener("keydown", (e) => {
        if (e.key === "Escape" && !e.isComposing) toPage({ type: "close" });
      });
      this.connection("connecting");
      this.refresh();
    },

    /** Header, conversation status and the contact fields, from the state. */
    refresh() {
      if (!this.sub) return;
      this.sub.textContent = state.agentsAvailable ? "Agents are available" : "Leave us a message";
      const texts = {
        waiting: state.agentsAvailable
          ? "Waiting for an agent…"
          : "No one is available right now. We'll reply as soon as we can.",
        closed: "This conversation has ended. Write below to start a new one.",
      };
      this.statusText = texts[state.status] || "";
      this.showState();
      const needsContact = !state.verified && (state.conversation == null || state.status === "closed");
      this.contact.hidden = !needsContact;
      this.hint.textContent = state.agentsAvailable ? "" : "Leave your email so we can answer you.";
    },

    connection(kind) {
      this.connectionText = {
        connecting: "Connecting…",
        reconnecting: "Connection lost. Reconnecting…",
        offline: "You're offline. Your messages will be sent when you're back.",
        live: "",
      }[kind];
      this.showState();
    },

    showState() {
      if (this.state) this.state.textContent = this.connectionText || this.statusText || "";
    },

    notice(text) {
      this.noticeEl.textContent = text;
      this.noticeEl.hidden = false;
    },

    clearLog() {
      this.log.replaceChildren();
    },

    /** Above the pending messages: they belong to the new conversation. */
    divider() {
      this.log.insertBefore(h("p", { class: "divider" }, "New conversation"), this.log.querySelector(".pending"));
    },

    message(m, pending = false) {
      const author = ["visitor", "agent", "system"].includes(m.author) ? m.author : "system";
      const classes = "msg " + author;
      if (author === "system") return h("p", { class: classes }, m.body);
      const who = author === "visitor" ? "You" : m.name || "Support";
      const meta = pending ? h("span", { class: "sending" }, "Sending…") : timeEl(m.at);
      return h(
        "div",
        { class: classes + (pending ? " pending" : "") },
        h("p", { class: "who" }, who),
        h("p", { class: "body" }, m.body),
        meta,
      );
    },

    /** In `seq` order among this conversation's messages, above the pending ones. */
    place(el, seq) {
      el.dataset.seq = seq;
      const atEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
      const next = Array.from(this.log.children).find((c) =>
        c.classList.contains("pending") ? true : c.dataset.seq !== undefined && Number(c.dataset.seq) > seq,
      );
      this.log.insertBefore(el, next || null);
      if (atEnd) scrollToEnd();
    },
  };

  // ---------------------------------------------------------------------
  // Start.

  function boot() {
    state.booted = true;
    restorePending();
    reconnect();
  }

  ui.build();
  window.addEventListener("pagehide", saveCache);
  toPage({ type: "ready", version: VERSION });
  // Opened on its own (not framed: a direct link or a test): no page will say init.
  if (!EMBEDDED) boot();
})();
