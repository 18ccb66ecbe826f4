// Chargers: every charger with its live status, power and link health; approve the pending ones.
import { all, api } from "../api.js";
import { ago, h, kw, replace } from "../dom.js";
import { approve, debounce, liveView, statusClass } from "./common.js";

const HEALTH_AT_ONCE = 4; // doctor look-ups in flight

export function page(el, _arg, live) {
  const chargers = new Map();
  const health = new Map(); // id -> the doctor's first cause
  const grid = h("div", { className: "grid", id: "chargers" });
  const note = h("p", { className: "muted" }, "Loading…");
  replace(el, h("h1", {}, "Chargers"), note, grid);

  const draw = () => {
    const list = [...chargers.values()].sort((a, b) => a.id.localeCompare(b.id));
    note.textContent = list.length ? `${list.length} chargers, ${list.filter((c) => liveView(c, live).connected).length} connected`
      : "No charger yet: point a charger at ws://THIS-HOST:9000/ocpp/CHARGER-ID.";
    replace(grid, ...list.map((c) => card(c, live, health.get(c.id), refresh)));
  };
  const redraw = debounce(draw, 100);

  async function doctor(ids) {
    const queue = [...ids];
    const worker = async () => {
      while (queue.length) {
        const id = queue.shift();
        try { health.set(id, (await api(`/api/v1/chargers/${encodeURIComponent(id)}/doctor?since=24h`)).cause); }
        catch { health.set(id, null); }
        redraw();
      }
    };
    await Promise.all(Array.from({ length: HEALTH_AT_ONCE }, worker));
  }

  async function refresh() {
    try {
      const list = await all("/api/v1/chargers");
      chargers.clear();
      for (const c of list) chargers.set(c.id, c);
      draw();
      doctor(list.map((c) => c.id));
    } catch (err) { note.textContent = `Could not load the chargers: ${err.message}`; }
  }

  const fetchOne = async (id) => {
    try {
      chargers.set(id, await api(`/api/v1/chargers/${encodeURIComponent(id)}`));
      redraw();
      doctor([id]);
    } catch { /* not registered yet: its boot will bring it */ }
  };
  const pendingFetch = new Map();

  refresh();
  return {
    refresh,
    onEvent(e) {
      if (!e.charger_id) return;
      if (!chargers.has(e.charger_id) || e.kind === "connection") {
        if (!pendingFetch.has(e.charger_id)) pendingFetch.set(e.charger_id, debounce(fetchOne, 300));
        pendingFetch.get(e.charger_id)(e.charger_id);
      }
      if (["status", "meter", "connection"].includes(e.kind)) redraw();
    },
    unmount() { redraw.cancel(); },
  };
}

function card(c, live, cause, refresh) {
  const v = liveView(c, live);
  const boot = c.boot ? `${c.boot.vendor} ${c.boot.model}` : "";
  const link = v.connected ? "connected" : `offline${c.offline_since ? ` since ${ago(c.offline_since)}` : ""}`;
  return h("article", { className: "card charger", "data-charger": c.id, "data-connected": String(v.connected) },
    h("header", {},
      h("a", { href: `#/charger/${encodeURIComponent(c.id)}`, className: "name" }, c.id),
      h("span", { className: v.connected ? "dot on" : "dot off", title: link })),
    h("p", { className: "muted" }, [boot, c.ocpp_version ? `OCPP ${c.ocpp_version}` : ""].filter(Boolean).join(" · ")),
    h("div", { className: "pills" }, v.connectors.length
      ? v.connectors.map((k) => h("span", { className: statusClass(k.status), "data-evse": k.evse_id, title: k.error_code || "" },
        `${k.evse_id}: ${k.status}`))
      : h("span", { className: statusClass(v.connected ? "unknown" : "offline") }, v.connected ? "no status yet" : "Offline")),
    h("dl", {},
      h("dt", {}, "Power"), h("dd", { className: "power" }, kw(v.power)),
      h("dt", {}, "Link"), h("dd", { className: "link" }, `${link}, seen ${ago(c.last_seen)}`),
      h("dt", {}, "Health"), h("dd", { className: `health c-${cause || "unknown"}` }, cause ? cause.replaceAll("_", " ") : "…")),
    c.registration !== "Accepted" ? h("p", {}, h("span", { className: "pill s-pending" }, c.registration), " ",
      h("button", { onclick: async () => { if (await approve(c)) refresh(); } }, "Approve")) : null);
}
