// The REST API and the event stream, with the token the operator pasted (kept in this tab's sessionStorage).
const KEY = "chargewise.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.error ? problem.error : `HTTP ${status}`);
    this.status = status;
    this.fix = problem && problem.fix ? problem.fix : "";
  }
}

async function request(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token.get() || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, response };
}

// JSON from /api/v1...; an ApiError (status, message, fix) for every refusal.
export async function api(path, options) {
  return (await request(path, options)).data;
}

// Every page of a paged list, following each page's Link: <...>; rel="next", up to `max` items.
export async function all(path, max = 5000) {
  const items = [];
  let next = path;
  while (next && items.length < max) {
    const { data, response } = await request(next);
    items.push(...data);
    const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("Link") || "");
    next = link ? link[1] : null;
  }
  return items;
}

// An OCPP command through POST /chargers/{id}/calls: the charger's answer, or an ApiError.
export function call(chargerId, action, payload) {
  return api(`/api/v1/chargers/${encodeURIComponent(chargerId)}/calls`, { method: "POST", body: { action, payload } });
}

// The live event stream: EventSource cannot send headers, so the token goes in ?access_token= (this route only).
// onEvent(event) for every event, onState("live" | "reconnecting" | "refused"), onDropped(notice).
export function stream({ onEvent, onState, onDropped }) {
  const url = `/api/v1/events?last_event_id=0&access_token=${encodeURIComponent(token.get() || "")}`;
  const source = new EventSource(url);
  const kinds = ["connection", "status", "meter", "transaction", "allocation", "finding", "firmware", "command"];
  for (const kind of kinds) source.addEventListener(kind, (m) => onEvent(JSON.parse(m.data)));
  source.addEventListener("dropped", (m) => onDropped(JSON.parse(m.data)));
  source.onopen = () => onState("live");
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? "refused" : "reconnecting");
  return source;
}
