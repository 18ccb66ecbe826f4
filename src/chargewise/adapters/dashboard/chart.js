// Tiny SVG charts: phase bars against a limit line, a time chart (power, RSSI, disconnects), a plan on a tariff.
const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const fmt = (v, unit) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} ${unit}`);

// Vertical bars (one per phase) with each phase's limit as a red line; data-drawn / data-limit on each bar.
export function phaseBars(phases, { unit = "A", height = 140 } = {}) {
  const width = 64 * phases.length + 40;
  const top = Math.max(1, ...phases.map((p) => Math.max(p.value || 0, Number.isFinite(p.limit) ? p.limit : 0))) * 1.15;
  const y = (v) => 10 + (height - 40) * (1 - Math.min(v, top) / top);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart bars", role: "img" });
  phases.forEach((p, i) => {
    const x = 30 + i * 64;
    const over = Number.isFinite(p.limit) && p.value > p.limit + 1e-6;
    svg.append(s("rect", { x, y: y(p.value || 0), width: 36, height: Math.max(0, y(0) - y(p.value || 0)),
      class: over ? "bar over" : "bar", "data-phase": p.label, "data-drawn": (p.value || 0).toFixed(2),
      "data-limit": Number.isFinite(p.limit) ? p.limit : "none" }, s("title", {}, `${p.label}: ${fmt(p.value, unit)}`)));
    if (Number.isFinite(p.limit)) {
      svg.append(s("line", { x1: x - 8, x2: x + 44, y1: y(p.limit), y2: y(p.limit), class: "limit" }));
      svg.append(s("text", { x: x + 18, y: y(p.limit) - 4, class: "small", "text-anchor": "middle" }, `${p.limit.toFixed(0)}`));
    }
    svg.append(s("text", { x: x + 18, y: height - 18, "text-anchor": "middle" }, p.label));
    svg.append(s("text", { x: x + 18, y: height - 4, "text-anchor": "middle", class: "small" }, fmt(p.value, unit)));
  });
  return svg;
}

// A time chart: the power line (kW), RSSI dots (dBm, lower band) and disconnects as red marks.
export function timeChart({ power = [], rssi = [], marks = [], from, to, width = 720, height = 220 }) {
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart time", role: "img" });
  const t0 = from, t1 = Math.max(to, from + 1);
  const x = (t) => 40 + (width - 50) * (t - t0) / (t1 - t0);
  const pTop = 20, pBottom = 120, rTop = 140, rBottom = height - 24;
  const maxKw = Math.max(1, ...power.map((p) => p[1])) * 1.1;
  const yp = (v) => pBottom - (pBottom - pTop) * v / maxKw;
  const yr = (v) => rTop + (rBottom - rTop) * (Math.min(-30, Math.max(-95, v)) + 30) / -65;
  svg.append(s("text", { x: 2, y: pTop + 4, class: "small" }, `${maxKw.toFixed(1)} kW`));
  svg.append(s("text", { x: 2, y: pBottom, class: "small" }, "0"));
  svg.append(s("line", { x1: 40, x2: width - 10, y1: pBottom, y2: pBottom, class: "axis" }));
  svg.append(s("text", { x: 2, y: rTop + 4, class: "small" }, "-30"));
  svg.append(s("text", { x: 2, y: rBottom, class: "small" }, "-95 dBm"));
  svg.append(s("line", { x1: 40, x2: width - 10, y1: yr(-75), y2: yr(-75), class: "limit" },
    s("title", {}, "-75 dBm: below it the link drops")));
  if (power.length) {
    const d = power.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${yp(v).toFixed(1)}`).join(" ");
    svg.append(s("path", { d, class: "line power", "data-points": power.length }));
  }
  for (const [t, v] of rssi) {
    svg.append(s("circle", { cx: x(t), cy: yr(v), r: 3, class: v < -75 ? "dot weak" : "dot" }, s("title", {}, `${v} dBm`)));
  }
  for (const m of marks) {
    svg.append(s("line", { x1: x(m.t), x2: x(m.t), y1: pTop, y2: rBottom, class: `mark ${m.cls}` }, s("title", {}, m.label)));
  }
  const span = (t1 - t0) / 1000;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (t1 - t0) * i / 4;
    const label = new Date(t).toLocaleTimeString([], span > 86400 ? { month: "short", day: "numeric", hour: "2-digit" }
      : span < 600 ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : { hour: "2-digit", minute: "2-digit" });
    svg.append(s("text", { x: x(t), y: height - 6, "text-anchor": "middle", class: "small" }, label));
  }
  return svg;
}

// A plan: planned kW per slot as bars, the tariff (price per kWh) as a step line on the right axis.
export function planChart({ starts, kw, prices, width = 720, height = 200 }) {
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart plan", role: "img" });
  const n = Math.max(kw.length, prices.length, 1);
  const w = (width - 90) / n;
  const maxKw = Math.max(1, ...kw) * 1.1;
  const known = prices.filter((p) => p !== null && p !== undefined);
  const maxP = Math.max(0.01, ...known) * 1.1;
  const y = (v, top) => 10 + (height - 40) * (1 - v / top);
  kw.forEach((v, i) => svg.append(s("rect", { x: 45 + i * w, y: y(v, maxKw), width: Math.max(1, w - 1),
    height: y(0, maxKw) - y(v, maxKw), class: "bar", "data-kw": v.toFixed(2) }, s("title", {}, `${v.toFixed(1)} kW`))));
  if (known.length) {
    const d = prices.map((p, i) => `${i ? "L" : "M"}${(45 + i * w).toFixed(1)},${y(p || 0, maxP).toFixed(1)} H${(45 + (i + 1) * w).toFixed(1)}`).join(" ");
    svg.append(s("path", { d, class: "line price" }));
    svg.append(s("text", { x: width - 40, y: 16, class: "small" }, `${maxP.toFixed(2)}/kWh`));
  }
  svg.append(s("text", { x: 2, y: 16, class: "small" }, `${maxKw.toFixed(0)} kW`));
  const step = Math.max(1, Math.ceil(n / 6));
  starts.forEach((t, i) => {
    if (i % step === 0 && t) svg.append(s("text", { x: 45 + i * w, y: height - 8, class: "small" },
      new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
  });
  return svg;
}
