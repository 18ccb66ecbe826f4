// One charger: live status and power, its timeline (status, power, RSSI, disconnects), the doctor's findings,
// the last OCPP messages, and the operator's actions (start, stop, limit, mode, approve, reset).
import { api, ApiError } from "../api.js";
import { ago, h, kw, replace, time } from "../dom.js";
import { timeChart } from "../chart.js";
import { approve, clearLimit, debounce, liveView, reset, rest, setLimit, startSession, statusClass, stopSession } from "./common.js";

const DBM = /(-?\d+(?:\.\d+)?)\s*dBm/;

export function page(el, id, live) {
  const enc = encodeURIComponent(id);
  let charger = null, doctor = null, active = [], siteEvses = [];
  const head = h("section", { id: "summary" });
  const actions = h("section", { className: "card", id: "actions" });
  const chart = h("div", { id: "timeline-chart" });
  const findings = h("section", { id: "findings" });
  const timeline = h("ol", { id: "timeline", className: "timeline" });
  const trace = h("section", { id: "trace" }, h("p", { className: "muted" }, "Loading…"));
  replace(el, h("p", {}, h("a", { href: "#/" }, "← chargers")), h("h1", {}, id), head, actions,
    h("h2", {}, "Timeline"), chart, h("h2", {}, "Doctor"), findings,
    h("details", { className: "card" }, h("summary", {}, "Timeline entries"), timeline),
    h("h2", {}, "Last OCPP messages"), trace);

  const drawHead = () => {
    if (!charger) return;
    const v = liveView(charger, live);
    const b = charger.boot;
    replace(head, h("div", { className: "card" },
      h("p", {}, h("span", { className: v.connected ? "dot on" : "dot off" }), " ",
        h("strong", { id: "connected" }, v.connected ? "connected" : "offline"), ` · seen ${ago(charger.last_seen)}`,
        charger.ocpp_version ? ` · OCPP ${charger.ocpp_version}` : "", ` · ${charger.registration}`),
      b ? h("p", { className: "muted" }, `${b.vendor} ${b.model}${b.firmware_version ? `, firmware ${b.firmware_version}` : ""}`) : null,
      h("div", { className: "pills" }, v.connectors.map((k) => h("span", { className: statusClass(k.status), "data-evse": k.evse_id },
        `EVSE ${k.evse_id}: ${k.status}${k.error_code && k.error_code !== "NoError" ? ` (${k.error_code})` : ""}`))),
      h("p", {}, "Power ", h("strong", { id: "power" }, kw(v.power))),
      active.length ? h("p", {}, `Session ${active.map((t) => `#${t.id} on EVSE ${t.evse_id}`).join(", ")}`) : null));
  };

  const drawActions = () => {
    if (!charger) return;
    const v = liveView(charger, live);
    const evses = [...new Set([1, ...v.connectors.map((k) => k.evse_id)])].sort();
    const evseSelect = h("select", { id: "start-evse" }, evses.map((n) => h("option", { value: n }, `EVSE ${n}`)));
    const tag = h("input", { id: "start-tag", value: "DASHBOARD", size: 12, "aria-label": "id tag" });
    const amps = h("input", { id: "limit-a", type: "number", min: 0, max: 80, step: 1, value: 16, "aria-label": "amps" });
    replace(actions, h("h2", {}, "Actions"),
      charger.registration !== "Accepted" ? h("p", {}, `This charger is ${charger.registration}. `,
        h("button", { id: "approve", onclick: async () => { if (await approve(charger)) load(); } }, "Approve")) : null,
      h("div", { className: "row" }, evseSelect, tag,
        h("button", { id: "start", onclick: () => startSession(charger, Number(evseSelect.value), tag.value.trim() || "DASHBOARD") }, "Start session"),
        ...active.map((tx) => h("button", { className: "stop", "data-stop": tx.id, onclick: async () => { await stopSession(charger, tx); loadSessions(); } },
          `Stop session #${tx.id}`))),
      h("div", { className: "row" }, h("label", {}, "Current limit ", amps, " A"),
        h("button", { id: "set-limit", onclick: () => setLimit(charger, Number(amps.value)) }, "Set limit"),
        h("button", { className: "quiet", onclick: () => clearLimit(charger) }, "Clear limit")),
      ...siteEvses.map(([site, e]) => h("div", { className: "row" }, `Mode of ${e.id} (site ${site}) `,
        h("select", { "data-mode": e.id, onchange: async (ev) => {
          const [, n] = e.id.split("/");
          await rest(`Mode of ${e.id}`, `/api/v1/sites/${encodeURIComponent(site)}/evses/${enc}/${n}/mode`, { method: "PUT", body: { mode: ev.target.value } });
        } }, ["now", "plan", "solar", "min+solar"].map((m) => h("option", { value: m, selected: m === e.mode }, m))))),
      h("div", { className: "row" },
        h("button", { className: "quiet", onclick: () => { if (confirm(`Soft reset ${id}?`)) reset(charger, false); } }, "Reset (soft)"),
        h("button", { className: "danger", onclick: () => { if (confirm(`Hard reset ${id}? A session in progress ends.`)) reset(charger, true); } }, "Reset (hard)")),
      h("p", { className: "muted" }, "The limit is a station-wide cap (a max charging profile, id 900); on a site's charger, smart charging also sets limits: use the mode there."));
  };

  const drawChart = () => {
    const entries = doctor ? doctor.timeline : [];
    const rssi = entries.filter((e) => e.what === "Wi-Fi signal" && DBM.test(e.detail)).map((e) => [Date.parse(e.at), Number(DBM.exec(e.detail)[1])]);
    const marks = entries.filter((e) => ["disconnected", "connected", "refused", "TLS failed"].includes(e.what))
      .map((e) => ({ t: Date.parse(e.at), cls: e.what === "connected" ? "up" : "down", label: `${time(e.at)} ${e.what}: ${e.detail}` }));
    const power = live.power.get(id) || [];
    const times = [...power.map((p) => p[0]), ...rssi.map((r) => r[0]), ...marks.map((m) => m.t)];
    const to = Date.now() + 1000, from = Math.min(to - 30 * 1000, ...times) - 2000;
    const width = Math.max(320, Math.min(1200, chart.clientWidth || 720)); // drawn 1:1, a phone's too
    replace(chart, timeChart({ power, rssi, marks, from, to, width }),
      h("p", { className: "muted legend" }, h("span", { className: "key power" }, "power"), h("span", { className: "key rssi" }, "RSSI"),
        h("span", { className: "key down" }, "disconnect"), h("span", { className: "key up" }, "connect")));
  };

  const drawDoctor = () => {
    if (!doctor) return;
    const l = doctor.link;
    replace(findings, h("p", { className: "muted" },
      `${l.connections} connections, ${l.disconnects} disconnects since ${time(doctor.since)}` +
      `${l.ping_p50_ms !== null ? `, ping ${l.ping_p50_ms.toFixed(0)} ms` : ""}${l.rssi_median_dbm !== null ? `, RSSI median ${l.rssi_median_dbm} dBm` : ""}`),
      ...doctor.findings.map((f) => h("article", { className: `card finding c-${f.cause}`, "data-cause": f.cause },
        h("header", {}, h("strong", {}, f.cause.replaceAll("_", " ")), h("span", { className: "muted" }, `${Math.round(f.confidence * 100)} %`)),
        h("p", {}, f.summary), h("p", { className: "muted" }, f.explanation), h("p", {}, h("strong", {}, "Fix: "), f.fix),
        f.evidence.length ? h("details", {}, h("summary", {}, `${f.evidence.length} pieces of evidence`),
          h("ul", {}, f.evidence.map((e) => h("li", {}, `${e.at ? `${time(e.at)} ` : ""}${e.what}: ${e.value}`)))) : null)));
    replace(timeline, ...[...doctor.timeline].reverse().slice(0, 100).map((e) => h("li", {}, h("time", {}, time(e.at)), ` ${e.what}: ${e.detail}`)));
    drawChart();
  };

  async function load() {
    try { charger = await api(`/api/v1/chargers/${enc}`); }
    catch (err) { replace(head, h("p", { className: "error" }, `${err.message} ${err.fix || ""}`)); return; }
    drawHead(); drawActions();
  }
  async function loadDoctor() {
    try { doctor = await api(`/api/v1/chargers/${enc}/doctor?since=24h`); drawDoctor(); }
    catch (err) { replace(findings, h("p", { className: "muted" }, `Doctor: ${err.message}`)); drawChart(); }
  }
  async function loadSessions() {
    try { active = await api(`/api/v1/transactions?charger_id=${enc}&active=true`); drawHead(); drawActions(); } catch { /* shown on the next event */ }
  }
  async function loadSites() {
    try {
      const sites = await api("/api/v1/sites");
      siteEvses = sites.flatMap((s) => s.evses.filter((e) => e.charger === id).map((e) => [s.name, e]));
      drawActions();
    } catch { siteEvses = []; }
  }
  async function loadTrace() {
    try { drawTrace(trace, await api(`/api/v1/chargers/${enc}/trace`)); }
    catch (err) {
      replace(trace, h("p", { className: "muted", id: "trace-none" }, err instanceof ApiError && err.status === 404
        ? "The message trace is not available on this server." : `Trace: ${err.message}`));
    }
  }
  const refresh = () => { load(); loadDoctor(); loadSessions(); loadSites(); loadTrace(); };
  refresh();
  const doctorLater = debounce(loadDoctor, 1500), traceLater = debounce(loadTrace, 1000), chartLater = debounce(drawChart, 250);
  const headLater = debounce(() => { drawHead(); }, 100);
  const resized = () => chartLater();
  window.addEventListener("resize", resized);
  const tick = setInterval(drawChart, 10000);
  const ask = setInterval(loadDoctor, 3000); // RSSI reports and pings are not events: the doctor is asked again
  return {
    refresh,
    onEvent(e) {
      if (e.charger_id !== id) return;
      headLater();
      traceLater();
      if (e.kind === "meter") chartLater();
      if (["connection", "status", "finding"].includes(e.kind)) doctorLater();
      if (e.kind === "connection" || e.kind === "transaction") { load(); loadSessions(); }
    },
    unmount() { window.removeEventListener("resize", resized); clearInterval(tick); clearInterval(ask); for (const f of [doctorLater, traceLater, chartLater, headLater]) f.cancel(); },
  };
}

// GET /chargers/{id}/trace: a list of frames (or {frames: [...]}); each drawn with its time, direction and text.
function drawTrace(el, answer) {
  const frames = Array.isArray(answer) ? answer : (answer && (answer.frames || answer.items)) || [];
  if (!frames.length) { replace(el, h("p", { className: "muted" }, "No message traced yet.")); return; }
  const text = (f) => typeof f === "string" ? f : f.frame ?? f.text ?? f.message ?? f.payload ?? JSON.stringify(f);
  const textOf = (f) => typeof text(f) === "string" ? text(f) : JSON.stringify(text(f));
  replace(el, h("ol", { className: "trace" }, frames.slice(-50).reverse().map((f) => h("li", {},
    h("time", {}, typeof f === "object" && (f.at || f.timestamp) ? time(f.at || f.timestamp) : ""), " ",
    h("span", { className: "dir" }, typeof f === "object" ? (f.direction || f.dir || "") : ""), " ",
    h("code", {}, textOf(f))))));
}
