// Sites: each node's live current per phase against its limit, each EVSE's allocation and mode; the plan.
import { api, ApiError } from "../api.js";
import { h, kw, replace, time } from "../dom.js";
import { phaseBars, planChart } from "../chart.js";
import { debounce, rest } from "./common.js";

const MODES = ["now", "plan", "solar", "min+solar"];
const PHASES = ["L1", "L2", "L3"];
const REFRESH_MS = 5000;

export function list(el) {
  const grid = h("div", { className: "grid" });
  replace(el, h("h1", {}, "Sites"), grid);
  api("/api/v1/sites").then((sites) => {
    if (!sites.length) replace(grid, h("p", { className: "muted" }, "No site: start the server with --site SITE_FILE (docs/sites.md)."));
    else replace(grid, ...sites.map((s) => h("article", { className: "card" },
      h("a", { href: `#/site/${encodeURIComponent(s.name)}`, className: "name" }, s.name),
      h("p", { className: "muted" }, `${s.evses.length} EVSEs, policy ${s.policy}`))));
  }).catch((err) => replace(grid, h("p", { className: "error" }, err.message)));
}

// Site phase currents per node: every EVSE below it, its own phases mapped through its wiring.
function nodeCurrents(site, live) {
  const below = (nodeId, parent) => { // is nodeId below (or at) parent
    for (let n = nodeId; n; n = (site.nodes.find((x) => x.id === n) || {}).parent) if (n === parent) return true;
    return false;
  };
  const out = new Map(site.nodes.map((n) => [n.id, [0, 0, 0]]));
  const seen = new Map(site.nodes.map((n) => [n.id, false]));
  for (const e of site.evses) {
    const m = live.meters.get(e.id);
    if (!m || !m.current_a) continue;
    for (const node of site.nodes) {
      if (!below(e.parent, node.id)) continue;
      seen.set(node.id, true);
      m.current_a.forEach((a, own) => { const p = PHASES.indexOf(e.wiring[own]); if (p >= 0) out.get(node.id)[p] += a || 0; });
    }
  }
  return [out, seen];
}

export function site(el, name, live) {
  const nodes = h("div", { className: "grid wide", id: "nodes" });
  const evses = h("tbody", {});
  const plan = h("div", { id: "plan" }, h("p", { className: "muted" }, "Loading the plan…"));
  const note = h("p", { className: "muted" }, "Loading…");
  let view = null;
  replace(el, h("h1", {}, `Site ${name}`), note, nodes,
    h("h2", {}, "EVSEs"),
    h("div", { className: "scroll" }, h("table", { id: "evses" },
      h("thead", {}, h("tr", {}, ["EVSE", "Online", "Drawing", "Power", "Allocated", "Why", "Mode"].map((t) => h("th", {}, t)))), evses)),
    h("h2", {}, "Schedule against the tariff"), plan);

  const draw = () => {
    if (!view) return;
    const [currents, measured] = nodeCurrents(view, live);
    replace(nodes, ...view.nodes.map((n) => {
      const drawn = currents.get(n.id);
      const phases = PHASES.map((p, i) => ({ label: p, value: drawn[i], limit: n.limit_a[i] === null ? Infinity : n.limit_a[i] }));
      const over = phases.some((p) => p.value > p.limit + 1e-6);
      const verdict = !measured.get(n.id) ? "no meter values yet" : over ? "OVER the limit" : "under the limit";
      return h("article", { className: "card node", "data-node": n.id },
        h("header", {}, h("span", { className: "name" }, `${n.id}`), h("span", { className: "muted" }, n.kind)),
        phaseBars(phases),
        h("p", { className: over ? "verdict bad" : "verdict" }, verdict),
        h("p", { className: "muted" }, `limit ${n.limit_kw === null ? "–" : `${n.limit_kw.toFixed(1)} kW`}` +
          `${n.capped_by ? ` (${n.capped_by})` : ""}, drawing ${n.drawn_kw === null ? "–" : `${n.drawn_kw.toFixed(1)} kW`}`));
    }));
    replace(evses, ...view.evses.map((e) => evseRow(name, e, live, load)));
    note.textContent = `policy ${view.policy}; allocated ${view.allocated_at ? time(view.allocated_at) : "not yet"}`;
  };
  const redraw = debounce(draw, 150);

  async function load() {
    try { view = await api(`/api/v1/sites/${encodeURIComponent(name)}`); draw(); }
    catch (err) { note.textContent = `Could not load the site: ${err.message} ${err.fix || ""}`; }
  }
  async function loadPlan() {
    try { drawPlan(plan, await api(`/api/v1/sites/${encodeURIComponent(name)}/plan`)); }
    catch (err) {
      replace(plan, h("p", { className: "muted" }, err instanceof ApiError && err.status === 404
        ? "No plan available for this site (no plan route on this server, or no session to plan)." : `Plan: ${err.message}`));
    }
  }
  load();
  loadPlan();
  const timer = setInterval(load, REFRESH_MS);
  const evseChargers = () => new Set(view ? view.evses.map((e) => e.charger) : []);
  return {
    refresh: load,
    onEvent(e) {
      if (e.kind === "allocation" && e.data.site === name) load();
      else if (e.kind === "meter" && evseChargers().has(e.charger_id)) redraw();
    },
    unmount() { clearInterval(timer); redraw.cancel(); },
  };
}

function evseRow(siteName, e, live, reload) {
  const m = live.meters.get(e.id);
  const drawing = m && m.current_a ? Math.max(0, ...m.current_a.map((a) => a || 0)) : null;
  const [charger, evse] = e.id.split("/");
  const select = h("select", { "data-mode": e.id, onchange: async (ev) => {
    await rest(`Mode of ${e.id}`, `/api/v1/sites/${encodeURIComponent(siteName)}/evses/${encodeURIComponent(charger)}/${evse}/mode`,
      { method: "PUT", body: { mode: ev.target.value } });
    reload();
  } }, MODES.map((mode) => h("option", { value: mode, selected: mode === e.mode }, mode)));
  return h("tr", { "data-evse": e.id },
    h("td", {}, h("a", { href: `#/charger/${encodeURIComponent(e.charger)}` }, e.id)),
    h("td", {}, e.online ? "yes" : "no"),
    h("td", { className: "drawing" }, drawing === null ? "–" : `${drawing.toFixed(1)} A`),
    h("td", {}, kw(m ? m.power_w : null)),
    h("td", {}, e.limit_a === null ? "–" : `${e.limit_a.toFixed(1)} A × ${e.phases}`),
    h("td", { className: "why", title: e.reason || "" }, e.cause || ""),
    h("td", {}, select));
}

// The plan route's answer, drawn when it has slots with planned kW and prices; otherwise shown as it came.
function drawPlan(el, plan) {
  const slots = Array.isArray(plan.slots) ? plan.slots : [];
  const pick = (o, ...names) => { for (const n of names) if (o && o[n] !== undefined && o[n] !== null) return o[n]; return null; };
  const starts = slots.length ? slots.map((s) => pick(s, "start", "at", "begin")) : plan.starts || [];
  const kwSeries = plan.site_kw || slots.map((s) => pick(s, "site_kw", "kw", "power_kw") ?? 0);
  const prices = plan.prices || slots.map((s) => pick(s, "price", "price_per_kwh", "tariff"));
  if (!kwSeries.length) {
    replace(el, h("p", { className: "muted" }, "A plan is present, but not in a shape drawn here."),
      h("details", {}, h("summary", {}, "the plan as JSON"), h("pre", {}, JSON.stringify(plan, null, 2))));
    return;
  }
  const cost = pick(plan, "energy_cost", "cost");
  replace(el, planChart({ starts, kw: kwSeries.map(Number), prices }),
    h("p", { className: "muted" }, `planned kW per slot (bars) against the price per kWh (line)` +
      `${cost !== null ? `; energy cost ${Number(cost).toFixed(2)}` : ""}${plan.method ? `; ${plan.method}` : ""}`));
}
