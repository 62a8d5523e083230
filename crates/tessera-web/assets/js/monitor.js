// Tessera visitor monitoring, loaded by tag.js: see README.md and docs/monitoring.md
(() => {
  "use strict";
  const me = document.currentScript;
  const site = me.dataset.site;
  const base = new URL(me.src).origin + "/monitor/" + site;
  const api = window.tessera;
  const names = ["ts_vid_", "ts_vids_", "ts_sid_", "ts_last_"].map((n) => n + site);
  let ticket, ticketAt, ttl, last, counted, waiting = [], timer;

  // The page's answer through the tag's API (null: it said nothing); GPC is a refusal.
  const said = () => {
    let answer = null;
    for (const [command, value] of api.q) if (command === "consent") answer = value === true;
    return navigator.globalPrivacyControl === true ? false : answer;
  };
  const read = (name) => (document.cookie.match("(^|; )" + name + "=([^;]*)") || [])[2];
  const write = ([name, value, age]) => {
    const expiry = age == null ? "" : "; Max-Age=" + age;
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = name + "=" + value + "; Path=/; SameSite=Lax" + expiry + secure;
  };
  // The tab's ID, shared with the Messenger (whichever script runs first makes it).
  const tab = () => {
    try {
      return sessionStorage.ts_tab || (sessionStorage.ts_tab = crypto.getRandomValues(new Uint32Array(4)).join("-"));
    } catch {}
  };

  /** One page load, or this page again after a consent answer (`again`: already counted). */
  const hit = (again = false) => {
    const consent = said();
    const cookies = {};
    for (const name of names) if (read(name)) cookies[name] = read(name);
    if (consent === false) for (const name of names) write([name, "", 0]);
    last = location.href;
    const report = { consent, again, url: last, title: document.title, referrer: document.referrer, tab: tab(), cookies };
    // text/plain: a simple request, no preflight
    return fetch(base + "/hit", { method: "POST", credentials: "include", body: JSON.stringify(report) })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((answer) => {
        answer.clear.map((name) => write([name, "", 0]));
        answer.set.map(write);
        [ticket, ticketAt, ttl] = [answer.ticket, Date.now(), answer.ttl * 1000];
        counted = counted || answer.counted;
        // For the page's own use: {number, returning, days_since_last}, or null without consent.
        api.visit = answer.visit;
        dispatchEvent(new CustomEvent("tessera:visit", { detail: answer.visit }));
        if (answer.probe)
          return fetch(base + "/probe", { credentials: "include" })
            .then((r) => r.json())
            .then((p) => p.third_party || answer.fallback.map(write));
      })
      .catch(() => {});
  };

  const flush = () => {
    clearTimeout(timer);
    if (waiting.length) navigator.sendBeacon(base + "/events", JSON.stringify({ ticket, events: waiting.splice(0) }));
  };

  /** A single-page app moved on: batch it on the ticket, or start over with a hit once it is old. */
  const navigated = () => {
    if (location.href === last) return;
    if (!ticket || Date.now() - ticketAt > ttl / 2) return hit();
    last = location.href;
    waiting.push({ url: last, title: document.title, tab: said() === false ? null : tab() });
    clearTimeout(timer);
    timer = setTimeout(flush, 1000);
  };

  for (const method of ["pushState", "replaceState"]) {
    const original = history[method];
    history[method] = function (...args) {
      const result = original.apply(this, args);
      setTimeout(navigated);
      return result;
    };
  }
  addEventListener("popstate", navigated);
  addEventListener("pagehide", flush);

  // A consent answer from the page takes effect at once.
  const push = api.push;
  api.push = (...commands) => {
    const result = push(...commands);
    // Sent again for this page: a view not yet counted (no answer before) counts now.
    if (commands.some(([command]) => command === "consent")) hit(counted);
    return result;
  };
  hit();
})();
