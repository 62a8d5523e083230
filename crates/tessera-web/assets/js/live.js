// The agent's live list of visits: see src/pages/agent_monitor.rs.
(() => {
  "use strict";
  const body = document.querySelector("#live tbody");
  const count = document.getElementById("live-count");
  const filter = document.getElementById("live-filter");
  let socket;
  let attempt = 0;

  const cell = (...children) => {
    const td = document.createElement("td");
    td.append(...children);
    return td;
  };
  const row = (r) => {
    const tr = document.createElement("tr");
    const link = document.createElement("a");
    link.href = "/agent/visitors/" + r.visitor;
    link.textContent = "Visitor " + r.visitor;
    const since = r.days_since_last == null ? "" : ` (${r.days_since_last} days since the last)`;
    const visit = r.returning ? `returning, visit ${r.visit}${since}` : "new";
    const url = document.createElement("span");
    url.className = "meta";
    url.textContent = r.url;
    tr.append(cell(link), cell(visit), cell(r.title + " ", url), cell(r.seconds_ago + " s ago"));
    return tr;
  };
  const show = (list) => {
    body.replaceChildren(...list.rows.map(row));
    const s = list.total === 1 ? "" : "s";
    const more = list.total > list.rows.length ? `; showing the ${list.rows.length} most recent` : "";
    count.textContent = `${list.total} visit${s} on the site${more}.`;
  };

  const connect = () => {
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/agent/live/ws");
    socket.onopen = () => {
      attempt = 0;
      if (filter.value) socket.send(JSON.stringify({ filter: filter.value }));
    };
    socket.onmessage = (e) => show(JSON.parse(e.data));
    socket.onclose = () => setTimeout(connect, Math.min(30000, 1000 * 2 ** attempt++));
  };
  let typing;
  filter.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => socket?.readyState === 1 && socket.send(JSON.stringify({ filter: filter.value })), 200);
  });
  connect();
})();
