// Tessera tag: see README.md
(() => {
  "use strict";
  const me = document.currentScript;
  const site = me.dataset.site;
  const origin = new URL(me.src).origin;
  const gpc = navigator.globalPrivacyControl === true;
  const URL_CK = "ts_loader_url_" + site;
  const TIME_CK = "ts_loader_time_" + site;
  const OPEN = "ts_open_" + site;
  const KEPT = "ts_frame_" + site + "_";
  let said = null;
  let mode, latest, frame, button, timer, ready, open, identity;

  const now = () => (Date.now() / 1000) | 0;
  const allowed = () => !gpc && (said ?? mode !== "opt_in");
  // any script on the page can write our cookies
  const ours = (u) => String(u).startsWith(origin + "/messenger/frame?");

  const session = (key, value) => {
    try {
      return value === undefined ? sessionStorage[key] : (sessionStorage[key] = value);
    } catch {}
  };

  const cookie = (name) => (document.cookie.match("(^|; )" + name + "=([^;]*)") || [])[2];
  const setCookies = (u, age) => {
    const tail = "; Path=/; SameSite=Lax; Max-Age=" + age + (location.protocol === "https:" ? "; Secure" : "");
    document.cookie = URL_CK + "=" + u + tail;
    document.cookie = TIME_CK + "=" + now() + tail;
  };
  const remember = (u) => allowed() && setCookies(u, 604800);

  const manifest = () =>
    fetch(origin + "/messenger/manifest?site=" + site, { credentials: "omit" })
      .then((r) => r.json())
      .then((m) => {
        mode = m.consent_mode;
        remember((latest = m.frame_url));
        return latest;
      });

  const css = (el, rules) => rules.split(";").map((r) => el.style.setProperty(...r.split(":"), "important"));

  const post = (msg) => ready && frame.contentWindow.postMessage({ ts: 1, ...msg }, origin);

  const init = () => {
    const tab = session("ts_tab") || session("ts_tab", crypto.getRandomValues(new Uint32Array(4)).join("-"));
    const store = {};
    try {
      for (const k in sessionStorage) if (k.startsWith(KEPT)) store[k.slice(KEPT.length)] = sessionStorage[k];
    } catch {}
    const vid = cookie("ts_vid_" + site) || cookie("ts_vids_" + site);
    post({ type: "init", consent: !gpc && said, tab, identity, store, vid });
    post({ type: "visibility", open });
  };

  const show = (state, focus) => {
    open = state;
    session(OPEN, open ? "1" : "");
    css(frame, "display:" + (open ? "block" : "none"));
    button.setAttribute("aria-expanded", open);
    post({ type: "visibility", open });
    if (open && focus) frame.focus();
    if (!open && document.activeElement === frame) button.focus();
  };

  const load = (u, fromManifest) => {
    frame.src = u + "&host=" + encodeURIComponent(location.origin);
    timer = setTimeout(() => fromManifest || loadLatest(), 5000);
  };
  // a slow frame that got ready meanwhile is kept: reloading it would lose what was typed
  const loadLatest = () => manifest().then((m) => ready || load(m, true), () => {});

  const onMessage = ({ origin: from, source, data: d }) => {
    if (from !== origin || source !== frame.contentWindow || d?.ts !== 1) return;
    if (d.type === "ready") {
      clearTimeout(timer);
      const first = !ready;
      ready = true;
      css(button, "display:block");
      init();
      if (first && session(OPEN)) show(true);
    } else if (d.type === "close" || d.type === "open") {
      show(d.type === "open");
    } else if (d.type === "unread") {
      button.textContent = "Chat with us" + (d.count > 0 ? ` (${d.count} new)` : "");
    } else if (d.type === "store") {
      session(KEPT + d.key, d.value ?? "");
    }
  };

  const build = () => {
    frame = document.createElement("iframe");
    button = document.createElement("button");
    frame.title = "Messenger";
    frame.allow = "";
    button.textContent = "Chat with us";
    button.setAttribute("aria-expanded", false);
    button.onclick = () => show(!open, true);
    const corner = "display:none;position:fixed;right:16px;z-index:2147483647;border:0;";
    css(frame, corner + "bottom:80px;width:370px;height:560px;max-width:90vw;max-height:75vh;border-radius:12px");
    css(button, corner + "bottom:16px;padding:12px 20px;border-radius:24px;background:#2b5cd6;color:#fff");
    addEventListener("message", onMessage);
    document.body.append(frame, button);

    const cached = allowed() && cookie(URL_CK);
    const learnt = +cookie(TIME_CK);
    if (ours(cached) && learnt > 0) {
      load(cached, false);
      if (!(learnt <= now() && now() - learnt < 3600)) manifest().catch(() => {});
    } else loadLatest();
  };

  const q = [];
  const run = ([command, value]) => {
    q.push([command, value]);
    if (command === "identity") identity = value;
    if (command === "consent") said = value === true;
    if (gpc || said === false) setCookies("", 0);
    else if (latest) remember(latest);
    if (ready) init();
  };

  (window.tessera || []).map(run);
  window.tessera = { push: (...cmds) => cmds.map(run), identity: (jwt) => run(["identity", jwt]), q };
  const m = document.createElement("script");
  m.src = origin + "__MONITOR_JS__";
  m.dataset.site = site;
  document.head.append(m);

  if (document.body) build();
  else addEventListener("DOMContentLoaded", build);
})();
