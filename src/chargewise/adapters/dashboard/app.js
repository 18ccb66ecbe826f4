// The dashboard: login, the hash router, the live state every page reads, and the one event stream feeding it.
import { api, ApiError, stream, token } from "./api.js";
import { replace } from "./dom.js";
import * as chargers from "./pages/chargers.js";
import * as charger from "./pages/charger.js";
import * as sessions from "./pages/sessions.js";
import * as sites from "./pages/sites.js";

const HISTORY = 600; // power samples kept per charger for its timeline

// What the event stream told so far; pages read it and are told of each event.
export const live = {
  meters: new Map(), // "CHARGER/EVSE" -> the latest meter data ({power_w, current_a, energy_wh, ...})
  power: new Map(), // charger -> [[ms, kW], ...] (its EVSEs summed)
  statuses: new Map(), // "CHARGER/EVSE/CONNECTOR" -> {status, error, at}
  connected: new Map(), // charger -> true | false
};

let page = null;
let source = null;

function remember(e) {
  const id = e.charger_id;
  if (!id) return;
  if (e.kind === "connection") live.connected.set(id, e.data.connected);
  if (e.kind === "status") live.statuses.set(`${id}/${e.data.evse}/${e.data.connector}`, { ...e.data, at: e.at });
  if (e.kind === "meter") {
    live.meters.set(`${id}/${e.data.evse}`, { ...e.data, at: e.at });
    let total = 0;
    for (const [key, m] of live.meters) if (key.startsWith(`${id}/`)) total += m.power_w || 0;
    const series = live.power.get(id) || [];
    series.push([Math.min(Date.now(), Date.parse(e.at)), total / 1000]);
    if (series.length > HISTORY) series.splice(0, series.length - HISTORY);
    live.power.set(id, series);
  }
}

function setLive(state) {
  const el = document.getElementById("live");
  el.textContent = { live: "● live", reconnecting: "○ reconnecting", refused: "live updates refused" }[state] || state;
  el.className = `live ${state === "live" ? "on" : "off"}`;
}

function connect() {
  if (source) source.close();
  source = stream({
    onEvent: (e) => { remember(e); if (page && page.onEvent) page.onEvent(e); },
    onState: setLive,
    onDropped: () => { if (page && page.refresh) page.refresh(); },
  });
}

function route() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  if (name === "sites") return [sites.list, null, "sites"];
  if (name === "site" && arg) return [sites.site, arg, "sites"];
  if (name === "sessions") return [sessions.page, null, "sessions"];
  if (name === "charger" && arg) return [charger.page, arg, "chargers"];
  return [chargers.page, null, "chargers"];
}

function render() {
  if (page && page.unmount) page.unmount();
  const [mount, arg, nav] = route();
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
  const el = replace(document.getElementById("page"));
  page = mount(el, arg, live) || null;
}

function showLogin(message) {
  document.getElementById("login").hidden = false;
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  replace(document.getElementById("page"));
  const error = document.getElementById("login-error");
  error.hidden = !message;
  error.textContent = message || "";
  document.getElementById("token").focus();
}

function refusal(err) {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    const what = err.status === 401 ? "The server refused this token" : "This token may not read the chargers";
    return `${what} (${err.status}: ${err.message}). Check it and paste it again: ${err.fix}`;
  }
  return `The server could not be reached: ${err.message}`;
}

async function start() {
  try {
    await api("/api/v1/chargers?limit=1"); // the token works, or the refusal is shown
  } catch (err) {
    token.clear();
    showLogin(refusal(err));
    return;
  }
  document.getElementById("login").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  connect();
  render();
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token.set(document.getElementById("token").value.trim());
  start();
});
document.getElementById("logout").addEventListener("click", () => {
  token.clear();
  if (source) source.close();
  setLive("offline");
  showLogin("");
});
window.addEventListener("hashchange", () => { if (token.get()) render(); });

if (token.get()) start(); else showLogin("");
