// Sessions: the transactions, newest first; the active ones with their live energy and a Stop button.
import { api } from "../api.js";
import { h, replace, time } from "../dom.js";
import { debounce, stopSession } from "./common.js";

export function page(el, _arg, live) {
  const body = h("tbody", {});
  const note = h("p", { className: "muted" }, "Loading…");
  const chargers = new Map();
  replace(el, h("h1", {}, "Sessions"), note,
    h("div", { className: "scroll" }, h("table", { id: "sessions" },
      h("thead", {}, h("tr", {}, ["", "Id", "Charger", "EVSE", "Token", "Started", "Stopped", "Energy"].map((t) => h("th", {}, t)))),
      body)));

  async function charger(id) {
    if (!chargers.has(id)) chargers.set(id, await api(`/api/v1/chargers/${encodeURIComponent(id)}`));
    return chargers.get(id);
  }

  async function refresh() {
    try {
      const list = await api("/api/v1/transactions?limit=100");
      note.textContent = list.length ? `${list.filter((t) => t.active).length} active, the last ${list.length} shown` : "No session yet.";
      replace(body, ...list.map((tx) => row(tx, live, charger, refresh)));
    } catch (err) { note.textContent = `Could not load the sessions: ${err.message}`; }
  }
  const later = debounce(refresh, 300);
  refresh();
  return { refresh, onEvent(e) { if (e.kind === "transaction") later(); }, unmount() { later.cancel(); } };
}

function row(tx, live, charger, refresh) {
  const m = live.meters.get(`${tx.charger_id}/${tx.evse_id}`);
  const energy = tx.energy_wh ?? (tx.active && m && m.energy_wh !== null && tx.meter_start_wh !== null ? m.energy_wh - tx.meter_start_wh : null);
  const stop = tx.active ? h("button", { className: "stop", onclick: async () => {
    await stopSession(await charger(tx.charger_id), tx);
    refresh();
  } }, "Stop") : "";
  return h("tr", { "data-transaction": tx.id, className: tx.active ? "active" : "" },
    h("td", {}, stop), h("td", {}, tx.id), h("td", {}, h("a", { href: `#/charger/${encodeURIComponent(tx.charger_id)}` }, tx.charger_id)),
    h("td", {}, tx.evse_id), h("td", {}, tx.id_tag || ""), h("td", {}, time(tx.started_at)),
    h("td", {}, tx.active ? h("span", { className: "pill s-charging" }, "active") : `${time(tx.stopped_at)} ${tx.stop_reason || ""}`),
    h("td", {}, energy === null ? "–" : `${(energy / 1000).toFixed(2)} kWh`));
}
