// DOM and formatting helpers of the inspector page. Text always goes in as text, never as HTML: job
// messages and goals are user data.

const SVG = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

/** Builds an element: h('td', { class: 'id' }, 'text', child…). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Builds an SVG element. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
/** Local wall-clock time with milliseconds. */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
/** A short age: 12s, 3m 04s, 2h 05m, 3d 4h. */
export function duration(ms) {
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return `${sec}s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min}m ${pad(sec % 60)}s`;
  const hr = Math.floor(min / 60);
  if (hr < 48) return `${hr}h ${pad(min % 60)}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}
export const shortId = (id) => (id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);
export const shortHost = (host) => (host.length > 26 ? `${host.slice(0, 12)}…${host.slice(-12)}` : host);
export const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : JSON.stringify(v));

export function statusPill(status, awaiting) {
  const cls = awaiting ? 's-awaiting' : `s-${status ?? 'none'}`;
  return h('span', { class: `pill ${cls}`, title: awaiting ? `${status}: awaiting confirmation` : undefined }, awaiting ? 'awaiting' : (status ?? '—'));
}
