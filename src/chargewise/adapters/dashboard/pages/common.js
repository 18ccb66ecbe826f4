// What several pages share: a charger's live status, the actions an operator takes, and debouncing.
import { api, call } from "../api.js";
import { toast } from "../dom.js";

// Calls in a burst become one, `ms` after the first (a steady stream of events still refreshes every `ms`).
export function debounce(fn, ms) {
  let timer = null, last = [];
  const wrapped = (...args) => {
    last = args;
    if (timer === null) timer = setTimeout(() => { timer = null; fn(...last); }, ms);
  };
  wrapped.cancel = () => { clearTimeout(timer); timer = null; };
  return wrapped;
}

// The charger's connected flag and connector statuses, with what the stream said since it was read.
export function liveView(c, live) {
  const connected = live.connected.has(c.id) ? live.connected.get(c.id) : c.connected;
  const connectors = c.connectors.map((k) => {
    const s = live.statuses.get(`${c.id}/${k.evse_id}/${k.connector_id}`);
    const newer = s && Date.parse(s.at) >= Date.parse(k.updated_at);
    return { ...k, status: !connected ? "Offline" : newer ? s.status : k.status, error_code: newer ? s.error : k.error_code };
  });
  for (const [key, s] of live.statuses) { // connectors the list did not know yet
    const [id, evse, connector] = key.split("/");
    if (id === c.id && evse !== "0" && !connectors.some((k) => `${k.evse_id}/${k.connector_id}` === `${evse}/${connector}`)) {
      connectors.push({ evse_id: Number(evse), connector_id: Number(connector), status: connected ? s.status : "Offline", error_code: s.error });
    }
  }
  let power = 0, drawing = false;
  for (const [key, m] of live.meters) if (key.startsWith(`${c.id}/`)) { power += m.power_w || 0; drawing = true; }
  return { connected, connectors: connectors.filter((k) => k.evse_id > 0), power: drawing ? power : null };
}

function said(action, answer) {
  if (answer.error) return [`${action}: ${answer.error.code} ${answer.error.description || ""}`, true];
  const status = answer.result && answer.result.status;
  return [`${action}: ${status || "done"}`, status && status !== "Accepted"];
}

// Send an OCPP command and say how it ended; returns the answer (null when the call was refused).
export async function act(chargerId, action, payload) {
  try {
    const answer = await call(chargerId, action, payload);
    toast(...said(action, answer));
    return answer;
  } catch (err) {
    toast(`${action} refused: ${err.message}${err.fix ? ` (${err.fix})` : ""}`, true);
    return null;
  }
}

export async function rest(label, path, options) {
  try {
    const answer = await api(path, options);
    toast(`${label}: done`);
    return answer;
  } catch (err) {
    toast(`${label} refused: ${err.message}${err.fix ? ` (${err.fix})` : ""}`, true);
    return null;
  }
}

const v16 = (c) => c.ocpp_version === "1.6";

export function startSession(c, evse, idTag) {
  if (v16(c)) return act(c.id, "RemoteStartTransaction", { connectorId: evse, idTag });
  return act(c.id, "RequestStartTransaction", { idToken: { idToken: idTag, type: "Central" },
    remoteStartId: Math.floor(Math.random() * 2 ** 31), evseId: evse });
}

export function stopSession(c, tx) {
  if (v16(c)) return act(c.id, "RemoteStopTransaction", { transactionId: tx.id });
  return act(c.id, "RequestStopTransaction", { transactionId: tx.remote_id || String(tx.id) });
}

export const LIMIT_PROFILE_ID = 900; // the dashboard's station-wide cap

// A station-wide current cap: a max profile (1.6 ChargePointMaxProfile / 2.0.1 ChargingStationMaxProfile).
export function setLimit(c, amps) {
  const schedule = { startSchedule: new Date().toISOString(), chargingRateUnit: "A",
    chargingSchedulePeriod: [{ startPeriod: 0, limit: amps }] };
  const profile = { stackLevel: 1, chargingProfileKind: "Absolute" }; // 1: every charger has it (1.6 3.13)
  if (v16(c)) {
    return act(c.id, "SetChargingProfile", { connectorId: 0, csChargingProfiles: { chargingProfileId: LIMIT_PROFILE_ID,
      ...profile, chargingProfilePurpose: "ChargePointMaxProfile", chargingSchedule: schedule } });
  }
  return act(c.id, "SetChargingProfile", { evseId: 0, chargingProfile: { id: LIMIT_PROFILE_ID, ...profile,
    chargingProfilePurpose: "ChargingStationMaxProfile", chargingSchedule: [{ id: LIMIT_PROFILE_ID, ...schedule }] } });
}

export function clearLimit(c) {
  return act(c.id, "ClearChargingProfile", v16(c) ? { id: LIMIT_PROFILE_ID } : { chargingProfileId: LIMIT_PROFILE_ID });
}

export function reset(c, hard) {
  const type = v16(c) ? (hard ? "Hard" : "Soft") : (hard ? "Immediate" : "OnIdle");
  return act(c.id, "Reset", { type });
}

export function approve(c) {
  return rest(`Approve ${c.id}`, `/api/v1/chargers/${encodeURIComponent(c.id)}/approve`, { method: "POST" });
}

export function statusClass(status) {
  return `pill s-${String(status || "unknown").toLowerCase()}`;
}
